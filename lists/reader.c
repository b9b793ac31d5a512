/* What the list readers share (reader.h). */
#include "lists/reader.h"

#include <stdarg.h>
#include <stdio.h>

void
list_skip(struct list_sink *sink, const char *path, unsigned long line,
	  const char *fmt, ...)
{
	char reason[1024], msg[2048];
	va_list ap;

	sink->skipped++;
	if (!sink->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof msg, "%s:%lu: %s", path, line, reason);
	sink->warn(sink->arg, msg);
}

int
list_casecmp(const char *a, const char *b)
{
	unsigned char x, y;

	do {
		x = (unsigned char)*a++;
		y = (unsigned char)*b++;
		if ((unsigned)(x - 'A') < 26u)
			x |= 0x20;
		if ((unsigned)(y - 'A') < 26u)
			y |= 0x20;
	} while (x && x == y);
	return x - y;
}

const char *
list_echo(char *dst, size_t n, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	if (n < 8) {
		if (n)
			dst[0] = '\0';
		return dst;
	}
	dst[i++] = '\'';
	for (k = 0; u[k]; k++) {
		/* Cut between characters, never inside a UTF-8 sequence. */
		if ((k >= 100 || i + 6 >= n) && (u[k] & 0xC0) != 0x80) {
			dst[i++] = '.';
			dst[i++] = '.';
			dst[i++] = '.';
			break;
		}
		if (i + 6 >= n)
			break;
		dst[i++] = u[k] < 0x20 || u[k] == 0x7f ? '?' : (char)u[k];
	}
	dst[i++] = '\'';
	dst[i] = '\0';
	return dst;
}
