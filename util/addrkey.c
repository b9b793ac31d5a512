#include "util/addrkey.h"

#include <errno.h>
#include <string.h>

int
addr_key(const char *addr, char out[ADDR_KEY_MAX + 1])
{
	size_t i, n = strnlen(addr, ADDR_KEY_MAX + 1);

	if (n > ADDR_KEY_MAX) {
		out[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)addr[i];

		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[n] = '\0';
	return (int)n;
}
