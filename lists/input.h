/*
 * input.h - a list file read through a fixed buffer, for the list readers
 * (reader.h): the bytes, where they are (line and file offset), nothing of
 * any format.
 *
 * The buffer (LIST_INBUF bytes) is allocated at the first fill and freed
 * by input_close(), so a list that is open but not yet read costs only its
 * descriptor.  A UTF-8 byte order mark at offset 0 is skipped, also when
 * a pipe delivers it a byte at a time.  Readers consume bytes by moving
 * pos and off together and count lines themselves (line, prev_cr: a CR
 * LF pair is one line end).
 *
 * Errors: NL_ENOINPUT (cannot open: missing, unreadable, a directory),
 * NL_EIO (a read error), NL_ENOMEM; messages name the file.
 */
#ifndef NL_LIST_INPUT_H
#define NL_LIST_INPUT_H

#include <stddef.h>

#include "util/err.h"

#define LIST_INBUF ((size_t)64 * 1024)

struct input {
	char *path;		/* as opened (owned) */
	int fd;
	char *in;		/* LIST_INBUF bytes, NULL until the first fill */
	size_t pos, len;	/* in[pos..len) not yet consumed */
	int eof;
	int prev_cr;		/* the last byte consumed was a CR */
	unsigned long line;	/* line of the next byte (1-based) */
	unsigned long long off;	/* file offset of the next byte */
};

/* Open path (copied).  On failure nothing is left open. */
int input_open(struct input *f, const char *path, struct nl_err *err);
/* Read more into in: 1 when there is data, 0 at end of file, -1 on a read
 * error.  Call when pos == len. */
int input_fill(struct input *f, struct nl_err *err);
/* Close the file and free the buffer and the path; f may be zeroed. */
void input_close(struct input *f);

#endif
