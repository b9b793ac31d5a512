/* txt lists: one mailbox a line (list.h has the rules). */
#include "lists/reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lists/address.h"
#include "util/buf.h"
#include "util/utf8.h"

struct txt {
	struct input in;
	struct list_sink *sink;
	char *rec;		/* the current line, LIST_ROW_MAX + 1 bytes */
	unsigned long recline;
	unsigned long long recoff;
	int overlong;
	struct buf name, addr;	/* the mailbox of the current line */
	char why[128];
};

/*
 * Read the next line into t->rec (NUL-terminated, *n bytes, without its
 * line end: LF, CRLF or a lone CR).  Returns 1 with a line (recline,
 * recoff, overlong set), 0 at end of file, -1 on a read error.
 */
static int
txt_line(struct txt *t, size_t *n, struct nl_err *err)
{
	struct input *f = &t->in;
	const unsigned char *p, *e, *q;
	size_t w = 0, k;
	int began = 0, r;

	t->overlong = 0;
	for (;;) {
		if (f->pos == f->len) {
			r = input_fill(f, err);
			if (r < 0)
				return -1;
			if (r == 0) {
				if (!began)
					return 0;
				break;
			}
		}
		p = (const unsigned char *)f->in + f->pos;
		e = (const unsigned char *)f->in + f->len;
		if (!began) {
			if (*p == '\n' && f->prev_cr) {
				/* the LF of the CRLF that ended the last line */
				f->prev_cr = 0;
				f->pos++;
				f->off++;
				continue;
			}
			began = 1;
			t->recline = f->line;
			t->recoff = f->off;
		}
		for (q = p; q < e && *q != '\n' && *q != '\r'; q++)
			;
		k = (size_t)(q - p);
		if (!t->overlong && w + k > LIST_ROW_MAX)
			t->overlong = 1;
		if (!t->overlong) {
			memcpy(t->rec + w, p, k);
			w += k;
		}
		f->pos += k;
		f->off += k;
		if (q < e) {
			f->prev_cr = *q == '\r';
			f->line++;
			f->pos++;
			f->off++;
			break;
		}
	}
	t->rec[w] = '\0';
	*n = w;
	return 1;
}

/* "Name <addr>": split by libetpan (address.h) into t's buffers. */
static int
mailbox(struct txt *t, char *line, struct subscriber *s, struct nl_err *err)
{
	char echo[160], *name, *addr;
	int r;

	errno = 0;
	if (addr_parse_mailbox(line, &name, &addr, t->why, sizeof t->why)) {
		if (errno == ENOMEM && strcmp(t->why, "out of memory") == 0)
			return nl_err_set(err, NL_ENOMEM, "out of memory");
		list_skip(t->sink, t->in.path, t->recline, "%s: %s",
			  list_echo(echo, sizeof echo, line), t->why);
		return 0;
	}
	buf_reset(&t->name);
	buf_reset(&t->addr);
	r = buf_adds(&t->name, name) || buf_adds(&t->addr, addr);
	free(name);
	free(addr);
	if (r)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	s->email = buf_cstr(&t->addr);
	s->name = buf_cstr(&t->name);
	return 1;
}

/* The current line, trimmed: 1 with s's address (and name), 0 when it is
 * blank, a comment or bad (reported), -1 on error. */
static int
txt_row(struct txt *t, size_t e, struct subscriber *s, struct nl_err *err)
{
	char echo[160], *line;
	size_t b, k;

	if (t->overlong) {
		list_skip(t->sink, t->in.path, t->recline,
			  "row longer than %d bytes", LIST_ROW_MAX);
		return 0;
	}
	for (b = 0; b < e && (t->rec[b] == ' ' || t->rec[b] == '\t'); b++)
		;
	while (e > b && (t->rec[e - 1] == ' ' || t->rec[e - 1] == '\t'))
		e--;
	if (b == e || t->rec[b] == '#')
		return 0;
	if (memchr(t->rec + b, '\0', e - b)) {
		list_skip(t->sink, t->in.path, t->recline,
			  "line contains a NUL byte");
		return 0;
	}
	k = utf8_invalid_offset(t->rec + b, e - b);
	if (k != e - b) {
		list_skip(t->sink, t->in.path, t->recline,
			  "invalid UTF-8 (byte offset %llu)", t->recoff + b + k);
		return 0;
	}
	line = t->rec + b;
	line[e - b] = '\0';
	if (memchr(line, '<', e - b))
		return mailbox(t, line, s, err);
	/* A bare address: checked in place, no allocation. */
	if (addr_check(line, t->why, sizeof t->why)) {
		list_skip(t->sink, t->in.path, t->recline, "%s: %s",
			  list_echo(echo, sizeof echo, line), t->why);
		return 0;
	}
	s->email = line;
	s->name = "";
	return 1;
}

static int
txt_next(void *state, struct subscriber *s, struct nl_err *err)
{
	struct txt *t = state;
	size_t e;
	int r;

	for (;;) {
		r = txt_line(t, &e, err);
		if (r <= 0)
			return r;
		r = txt_row(t, e, s, err);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		s->nextra = 0;
		s->extra_keys = NULL;
		s->extra_values = NULL;
		s->file = t->in.path;
		s->line = t->recline;
		return 1;
	}
}

static void
txt_close(void *state)
{
	struct txt *t = state;

	if (!t)
		return;
	input_close(&t->in);
	free(t->rec);
	buf_free(&t->name);
	buf_free(&t->addr);
	free(t);
}

static int
txt_open(struct input *in, struct list_sink *sink, void **state,
	 struct nl_err *err)
{
	struct txt *t = calloc(1, sizeof *t);

	*state = NULL;
	if (!t || !(t->rec = malloc(LIST_ROW_MAX + 1))) {
		free(t);
		input_close(in);
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	}
	t->in = *in;
	t->sink = sink;
	buf_init(&t->name, LIST_ROW_MAX);
	buf_init(&t->addr, LIST_ROW_MAX);
	*state = t;
	return 0;
}

const struct list_reader_ops list_txt_reader = {
	"txt", txt_open, txt_next, txt_close,
};
