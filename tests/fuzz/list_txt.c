/*
 * Fuzz target "list_txt": the txt list reader (lists/list.h on a file not
 * named "*.csv": one mailbox a line, parsed by addr_parse_mailbox).  The
 * properties are list_csv.c's, whose code this includes.
 */
#define LIST_FUZZ_TXT
#include "tests/fuzz/list_csv.c"

FUZZ_TARGET(list_txt)
{
	list_fuzz_run("list.txt", data, size);
	return 0;
}
