/* txt lists: one mailbox a line (list.h has the rules). */
#define LISTS_INTERNAL
#include "lists/list.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lists/address.h"
#include "util/utf8.h"

/*
 * Read the next line into l->rec (NUL-terminated, *n bytes, without its
 * line end: LF, CRLF or a lone CR).  Returns 1 with a line (l->recline,
 * l->recoff, l->overlong set), 0 at end of file, -1 on a read error.
 */
static int
txt_line(struct lists *l, struct lfile *f, size_t *n, struct nl_err *err)
{
	const unsigned char *p, *e, *q;
	size_t w = 0, k;
	int began = 0, r;

	l->overlong = 0;
	for (;;) {
		if (f->pos == f->len) {
			r = lfile_fill(f, err);
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
			l->recline = f->line;
			l->recoff = f->off;
		}
		for (q = p; q < e && *q != '\n' && *q != '\r'; q++)
			;
		k = (size_t)(q - p);
		if (!l->overlong && w + k > LIST_ROW_MAX)
			l->overlong = 1;
		if (!l->overlong) {
			memcpy(l->rec + w, p, k);
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
	l->rec[w] = '\0';
	*n = w;
	return 1;
}

int
txt_next(struct lists *l, struct lfile *f, struct subscriber *s,
	 struct nl_err *err)
{
	char echo[160], *line, *name, *addr;
	size_t b, e, k;
	int r;

	for (;;) {
		r = txt_line(l, f, &e, err);
		if (r <= 0)
			return r;
		if (l->overlong) {
			lists_warnf(l, f, l->recline, "row longer than %d bytes",
				    LIST_ROW_MAX);
			continue;
		}
		for (b = 0; b < e && (l->rec[b] == ' ' || l->rec[b] == '\t');
		     b++)
			;
		while (e > b && (l->rec[e - 1] == ' ' || l->rec[e - 1] == '\t'))
			e--;
		if (b == e || l->rec[b] == '#')
			continue;
		if (memchr(l->rec + b, '\0', e - b)) {
			lists_warnf(l, f, l->recline, "line contains a NUL byte");
			continue;
		}
		k = utf8_invalid_offset(l->rec + b, e - b);
		if (k != e - b) {
			lists_warnf(l, f, l->recline,
				    "invalid UTF-8 (byte offset %llu)",
				    l->recoff + b + k);
			continue;
		}
		line = l->rec + b;
		line[e - b] = '\0';
		if (!memchr(line, '<', e - b)) {
			/* A bare address: checked in place, no allocation. */
			if (addr_check(line, l->why, sizeof l->why)) {
				lists_warnf(l, f, l->recline, "%s: %s",
					    lists_echo(echo, sizeof echo, line),
					    l->why);
				continue;
			}
			s->email = line;
			s->name = "";
		} else {
			errno = 0;
			if (addr_parse_mailbox(line, &name, &addr, l->why,
					       sizeof l->why)) {
				if (errno == ENOMEM &&
				    strcmp(l->why, "out of memory") == 0)
					return nl_err_set(err, NL_ENOMEM,
							  "out of memory");
				lists_warnf(l, f, l->recline, "%s: %s",
					    lists_echo(echo, sizeof echo, line),
					    l->why);
				continue;
			}
			buf_reset(&l->name);
			buf_reset(&l->addr);
			r = buf_adds(&l->name, name) || buf_adds(&l->addr, addr);
			free(name);
			free(addr);
			if (r)
				return nl_err_set(err, NL_ENOMEM,
						  "out of memory");
			s->email = buf_cstr(&l->addr);
			s->name = buf_cstr(&l->name);
		}
		s->nextra = 0;
		s->extra_keys = NULL;
		s->extra_values = NULL;
		s->file = f->path;
		s->line = l->recline;
		return 1;
	}
}
