/* Placeholder entry point; replaced by the command line in cli/. */
#include <stdio.h>

int
main(void)
{
	fputs("nlsend: not yet\n", stderr);
	return 70;
}
