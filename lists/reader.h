/*
 * reader.h - the interface between the merged reader (list.c) and the
 * readers of one list format each (csv.c, txt.c), and what they share.
 *
 * A reader is a vtable and a state it allocates: open() takes an opened
 * input (input.h; the reader owns it from then on, closing it in close())
 * and reads what must be read before the first row (a CSV header, so that
 * a bad header stops the run before the first message); next() yields the
 * next valid row or reports a bad one through the sink and goes on;
 * close() frees everything.  Readers never see each other or the merge.
 *
 * A reader's subscriber strings (and its extra_keys/extra_values arrays)
 * are valid until its next next() or close().
 *
 * Bad rows: list_skip() reports "FILE:LINE: reason" to the sink and
 * counts it; reasons are those of list.h.  Errors from next(): NL_EIO,
 * NL_ENOMEM only (a bad row is never an error).
 */
#ifndef NL_LIST_READER_H
#define NL_LIST_READER_H

#include "lists/input.h"
#include "lists/list.h"

/* Where bad rows go. */
struct list_sink {
	list_warn_fn warn;	/* NULL: only counted */
	void *arg;
	unsigned long skipped;
};

struct list_reader_ops {
	const char *name;	/* "csv", "txt" */
	int (*open)(struct input *in, struct list_sink *sink, void **state,
		    struct nl_err *err);
	int (*next)(void *state, struct subscriber *s, struct nl_err *err);
	void (*close)(void *state);
};

extern const struct list_reader_ops list_csv_reader;
extern const struct list_reader_ops list_txt_reader;

/* Report a skipped row "PATH:LINE: reason" and count it. */
void list_skip(struct list_sink *sink, const char *path, unsigned long line,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* strcmp without ASCII case: locale-independent (strcasecmp follows
 * LC_CTYPE, and a Turkish locale folds 'I' differently). */
int list_casecmp(const char *a, const char *b);

/* s quoted for a message: control characters as '?', cut after about 100
 * bytes (on a UTF-8 boundary) with "...".  Returns dst. */
const char *list_echo(char *dst, size_t n, const char *s);

#endif
