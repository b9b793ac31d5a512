/*
 * buf.h - growable byte buffer with a hard cap (after curl's dynbuf).
 *
 * A struct buf owns its storage.  It is always NUL-terminated after a
 * successful call (data may be NULL while nothing was ever added; use
 * buf_cstr() for a string that is never NULL).  Every buffer has a cap
 * (`max`, in bytes of content): an append that would pass it fails with
 * errno = E2BIG and leaves the buffer as it was, so hostile input can make
 * a call fail but never exhaust memory.  Appends return 0 or -1 (errno is
 * ENOMEM or E2BIG); they never leave a partial append behind.
 *
 * Pitfall: data moves on every growth, so never keep a pointer into a
 * buffer across an append.  buf_reset() keeps the allocation for reuse in
 * a hot loop; buf_free() releases it.
 */
#ifndef NL_BUF_H
#define NL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t max;
};

#define BUF_MAX_DEFAULT ((size_t)64 << 20)	/* 64 MiB */

/* A buffer with no storage yet and the given cap (0 means the default). */
void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* Empty the buffer, keeping its storage. */
void buf_reset(struct buf *b);

int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Make room for n more bytes without changing len (for writers that fill
 * data + len directly, then call buf_setlen). */
int buf_reserve(struct buf *b, size_t n);
/* Set len (must be <= alloc - 1) and terminate. */
void buf_setlen(struct buf *b, size_t len);

/* The content as a string; "" when empty.  Valid until the next append. */
const char *buf_cstr(const struct buf *b);

/* Hand the storage to the caller (free() it); the buffer is left empty.
 * Returns a NUL-terminated string, never NULL unless out of memory. */
char *buf_detach(struct buf *b, size_t *len);

#endif
