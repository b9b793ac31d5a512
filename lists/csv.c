/*
 * CSV lists: RFC 4180 records, read leniently (list.h has the rules).
 *
 * The scanner is a four-state machine over the read buffer that copies
 * runs of ordinary bytes with memcpy; fields are written to l->rec
 * NUL-terminated, one after another.  Past LIST_ROW_MAX raw bytes it stops
 * storing but keeps following quotes, so that the record still ends where
 * CSV says it does and the rows after it are read correctly.
 */
#define LISTS_INTERNAL
#include "lists/list.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lists/address.h"
#include "util/utf8.h"

enum { ST_START, ST_UNQ, ST_Q, ST_QQ };

/* Bytes that end a run outside quotes, and inside quotes. */
static const unsigned char unq_special[256] = {
	[','] = 1, ['"'] = 1, ['\r'] = 1, ['\n'] = 1,
};
static const unsigned char q_special[256] = {
	['"'] = 1, ['\r'] = 1, ['\n'] = 1,
};

struct rs {
	struct lists *l;
	size_t w;	/* bytes written to l->rec */
	size_t nf;	/* fields begun */
};

/*
 * Invariant keeping rec within LIST_ROW_MAX + 2 bytes: every byte written
 * (a data byte, or the NUL that ends a field) is paid for by one raw byte
 * (the byte itself, or the comma), plus the final NUL; so while raw <=
 * LIST_ROW_MAX, w <= LIST_ROW_MAX + 1.
 */
static void
put(struct rs *s, size_t raw_after, const unsigned char *p, size_t n)
{
	if (s->l->overlong)
		return;
	if (raw_after > LIST_ROW_MAX) {
		s->l->overlong = 1;
		return;
	}
	memcpy(s->l->rec + s->w, p, n);
	s->w += n;
}

static void
endf(struct rs *s, size_t raw)
{
	struct lfield *fl;

	if (s->l->overlong)
		return;
	if (raw > LIST_ROW_MAX) {
		s->l->overlong = 1;
		return;
	}
	fl = &s->l->fld[s->nf - 1];
	fl->len = (uint32_t)(s->w - fl->start);
	s->l->rec[s->w++] = '\0';
}

static int
newf(struct rs *s, size_t raw)
{
	struct lists *l = s->l;
	struct lfield *fl;
	size_t cap;

	if (l->overlong)
		return 0;
	if (s->nf == l->fldcap) {
		/* Bounded: at most LIST_ROW_MAX + 1 fields fit in a row. */
		cap = l->fldcap ? l->fldcap * 2 : 16;
		fl = realloc(l->fld, cap * sizeof *fl);
		if (!fl)
			return -1;
		l->fld = fl;
		l->fldcap = cap;
	}
	fl = &l->fld[s->nf++];
	fl->start = (uint32_t)s->w;
	fl->len = 0;
	fl->rawstart = (uint32_t)raw;
	fl->quoted = 0;
	return 0;
}

/*
 * Read the next record into l->rec and l->fld (l->nfld fields), skipping
 * blank lines before it.  Returns 1 with a record (l->recline, l->recoff,
 * l->overlong and l->unterminated set), 0 at end of file, -1 on error.
 */
static int
csv_record(struct lists *l, struct lfile *f, struct nl_err *err)
{
	const unsigned char *p, *e, *q, *base;
	unsigned long long recoff = 0;
	struct rs s = { l, 0, 0 };
	int st = ST_START, began = 0, r;
	unsigned char c;

	l->overlong = l->unterminated = 0;
	l->nfld = 0;
/* The raw offset of x in the record. */
#define RAW(x) ((size_t)(f->off + (unsigned long long)((x) - base) - recoff))
	for (;;) {
		if (f->pos == f->len) {
			r = lfile_fill(f, err);
			if (r < 0)
				return -1;
			if (r == 0)
				break;
		}
		base = p = (const unsigned char *)f->in + f->pos;
		e = (const unsigned char *)f->in + f->len;
		if (!began) {
			/* Blank lines, and the LF of a CRLF that ended the
			 * previous record. */
			while (p < e && (*p == '\r' || *p == '\n')) {
				if (*p == '\r' || !f->prev_cr)
					f->line++;
				f->prev_cr = *p == '\r';
				p++;
			}
			f->off += (size_t)(p - base);
			f->pos += (size_t)(p - base);
			if (p == e)
				continue;
			began = 1;
			base = p;
			recoff = l->recoff = f->off;
			l->recline = f->line;
			f->prev_cr = 0;
			if (newf(&s, 0))
				goto nomem;
		}
		while (p < e) {
			c = *p;
			if (st == ST_START && (c == ' ' || c == '\t')) {
				/* kept unless a quote follows */
				put(&s, RAW(p + 1), p, 1);
				p++;
			} else if (st == ST_START && c == '"') {
				/* Blanks before an opening quote are not
				 * data: "a@b.c, \"Hopper, Grace\"" is what
				 * people type (Python's skipinitialspace). */
				if (!l->overlong) {
					s.w = l->fld[s.nf - 1].start;
					l->fld[s.nf - 1].rawstart =
						(uint32_t)RAW(p);
					l->fld[s.nf - 1].quoted = 1;
				}
				st = ST_Q;
				p++;
			} else if (st == ST_START || st == ST_UNQ) {
				for (q = p; q < e && !unq_special[*q]; q++)
					;
				if (q > p) {
					put(&s, RAW(q), p, (size_t)(q - p));
					p = q;
					st = ST_UNQ;
				} else if (c == '"') {
					/* a stray quote: literal */
					put(&s, RAW(p + 1), p, 1);
					p++;
				} else if (c == ',') {
					endf(&s, RAW(p));
					p++;
					if (newf(&s, RAW(p)))
						goto nomem;
					st = ST_START;
				} else {
					goto record_end;
				}
			} else if (st == ST_Q) {
				for (q = p; q < e && !q_special[*q]; q++)
					;
				if (q > p) {
					put(&s, RAW(q), p, (size_t)(q - p));
					p = q;
					f->prev_cr = 0;
				} else if (c == '"') {
					st = ST_QQ;
					p++;
					f->prev_cr = 0;
				} else {
					/* A line break inside quotes is data;
					 * CRLF counts as one line. */
					if (c == '\r' || !f->prev_cr)
						f->line++;
					f->prev_cr = c == '\r';
					put(&s, RAW(p + 1), p, 1);
					p++;
				}
			} else if (c == '"') {		/* ST_QQ */
				put(&s, RAW(p + 1), p, 1);
				p++;
				st = ST_Q;
			} else if (c == ',') {
				endf(&s, RAW(p));
				p++;
				if (newf(&s, RAW(p)))
					goto nomem;
				st = ST_START;
			} else if (c == '\r' || c == '\n') {
				goto record_end;
			} else {
				/* text after a closing quote: appended */
				put(&s, RAW(p + 1), p, 1);
				p++;
				st = ST_UNQ;
			}
		}
		f->off += (size_t)(p - base);
		f->pos += (size_t)(p - base);
	}
	if (!began)
		return 0;
	/* End of file ends the last record. */
	if (st == ST_Q)
		l->unterminated = 1;
	endf(&s, (size_t)(f->off - recoff));
	l->nfld = s.nf;
	return 1;
record_end:
	endf(&s, RAW(p));
	f->line++;
	f->prev_cr = c == '\r';
	p++;
	f->off += (size_t)(p - base);
	f->pos += (size_t)(p - base);
	l->nfld = s.nf;
	return 1;
#undef RAW
nomem:
	return nl_err_set(err, NL_ENOMEM, "out of memory");
}

static const char *
field(struct lists *l, size_t i)
{
	return i < l->nfld ? l->rec + l->fld[i].start : "";
}

static int
is_blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t')
			return 0;
	return 1;
}

/* Trim spaces and tabs in place (fields are separate strings in rec). */
static char *
trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (s[n])	/* never write to field()'s "" */
		s[n] = '\0';
	return s;
}

/* The field holding a NUL byte, or SIZE_MAX. */
static size_t
nul_field(struct lists *l)
{
	size_t i;

	for (i = 0; i < l->nfld; i++)
		if (strlen(l->rec + l->fld[i].start) != l->fld[i].len)
			return i;
	return (size_t)-1;
}

/*
 * 1 when the record is valid UTF-8, else 0 with *off the file offset of
 * the first bad byte: the field's raw start, its opening quote, and one
 * more for each doubled quote before the byte (a '"' in a quoted field's
 * data was written as "").
 */
static int
record_utf8(struct lists *l, unsigned long long *off)
{
	const struct lfield *fl;
	size_t end, k, i, quotes = 0;

	if (!l->nfld)
		return 1;
	fl = &l->fld[l->nfld - 1];
	end = fl->start + fl->len;
	k = utf8_invalid_offset(l->rec, end);
	if (k == end)
		return 1;
	for (i = 0; i + 1 < l->nfld && l->fld[i + 1].start <= k; i++)
		;
	fl = &l->fld[i];
	if (fl->quoted)
		for (end = fl->start; end < k; end++)
			quotes += l->rec[end] == '"';
	*off = l->recoff + fl->rawstart + fl->quoted + (k - fl->start) +
	       quotes;
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return lists_casecmp(*(const char *const *)a, *(const char *const *)b);
}

int
csv_header(struct lists *l, struct lfile *f, struct nl_err *err)
{
	const char **names = NULL, **sorted = NULL;
	unsigned long long off;
	size_t i, n, k, size;
	unsigned long line;
	int r;

	r = csv_record(l, f, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return nl_err_at(err, NL_EDATA, f->path, f->line, 0,
				 "no header row (the file is empty)");
	line = l->recline;
	r = -1;
	if (l->overlong) {
		nl_err_at(err, NL_EDATA, f->path, line, 0,
			  "header row longer than %d bytes", LIST_ROW_MAX);
		goto out;
	}
	if (l->unterminated) {
		nl_err_at(err, NL_EDATA, f->path, line, 0,
			  "unterminated quoted field in the header row");
		goto out;
	}
	if (nul_field(l) != (size_t)-1) {
		nl_err_at(err, NL_EDATA, f->path, line, 0,
			  "NUL byte in the header row");
		goto out;
	}
	if (!record_utf8(l, &off)) {
		nl_err_at(err, NL_EDATA, f->path, line, 0,
			  "invalid UTF-8 (byte offset %llu)", off);
		goto out;
	}
	n = l->nfld;
	size = l->fld[n - 1].start + l->fld[n - 1].len + 1;
	f->hdr = malloc(size);
	names = malloc(n * sizeof *names);
	sorted = malloc(n * sizeof *sorted);
	f->keys = malloc(n * sizeof *f->keys);
	f->cols = malloc(n * sizeof *f->cols);
	f->vals = malloc(n * sizeof *f->vals);
	if (!f->hdr || !names || !sorted || !f->keys || !f->cols || !f->vals) {
		nl_err_set(err, NL_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(f->hdr, l->rec, size);
	for (i = 0; i < n; i++)
		sorted[i] = names[i] = trim(f->hdr + l->fld[i].start);
	/* A column named twice would make a field ambiguous. */
	qsort(sorted, n, sizeof *sorted, cmp_names);
	for (i = 1; i < n; i++) {
		if (*sorted[i] && lists_casecmp(sorted[i - 1], sorted[i]) == 0) {
			/* name the later one, as the reader meets it */
			char echo[160];

			/* Fuzz fix (issue 7): echoed, so a quoted name with
			 * CR/LF cannot split the error line. */
			nl_err_at(err, NL_EDATA, f->path, line, 0,
				  "duplicate column %s",
				  lists_echo(echo, sizeof echo,
					     sorted[i - 1] > sorted[i] ?
					     sorted[i - 1] : sorted[i]));
			goto out;
		}
	}
	f->ncols = n;
	f->email_col = (size_t)-1;
	for (i = k = 0; i < n; i++) {
		if (!*names[i])
			continue;
		if (lists_casecmp(names[i], "email") == 0) {
			f->email_col = i;
		} else if (lists_casecmp(names[i], "name") == 0) {
			f->name_col = i;
		} else {
			f->keys[k] = names[i];
			f->cols[k++] = i;
		}
	}
	f->nextra = k;
	if (f->email_col == (size_t)-1) {
		nl_err_at(err, NL_EDATA, f->path, line, 0,
			  "no 'email' column");
		goto out;
	}
	r = 0;
out:
	free(names);
	free(sorted);
	return r;
}

int
csv_next(struct lists *l, struct lfile *f, struct subscriber *s,
	 struct nl_err *err)
{
	char echo[160];
	const char *what;
	unsigned long long off;
	unsigned long line;
	char *email, *name;
	size_t i, k;
	int r;

	for (;;) {
		r = csv_record(l, f, err);
		if (r <= 0)
			return r;
		line = l->recline;
		if (l->overlong) {
			lists_warnf(l, f, line, "row longer than %d bytes",
				    LIST_ROW_MAX);
			continue;
		}
		if (l->unterminated) {
			lists_warnf(l, f, line, "unterminated quoted field");
			continue;
		}
		for (i = 0; i < l->nfld && is_blank(field(l, i)); i++)
			;
		if (i == l->nfld)
			continue;
		if (l->nfld > f->ncols) {
			lists_warnf(l, f, line,
				    "too many fields (%zu, the header has %zu)",
				    l->nfld, f->ncols);
			continue;
		}
		i = nul_field(l);
		if (i != (size_t)-1) {
			what = i == f->email_col ? "email" :
			       i == f->name_col ? "name" : NULL;
			for (k = 0; !what && k < f->nextra; k++)
				if (f->cols[k] == i)
					what = f->keys[k];
			if (i == f->email_col || i == f->name_col)
				lists_warnf(l, f, line,
					    "%s contains a NUL byte", what);
			else if (what)
				/* Fuzz fix (issue 7): a quoted column name
				 * may hold CR/LF; echo it with controls as
				 * '?' so a warning stays one line. */
				lists_warnf(l, f, line,
					    "column %s contains a NUL byte",
					    lists_echo(echo, sizeof echo, what));
			else
				lists_warnf(l, f, line,
					    "column %zu contains a NUL byte",
					    i + 1);
			continue;
		}
		if (!record_utf8(l, &off)) {
			lists_warnf(l, f, line,
				    "invalid UTF-8 (byte offset %llu)", off);
			continue;
		}
		email = trim((char *)field(l, f->email_col));
		if (!*email) {
			lists_warnf(l, f, line, "no email address");
			continue;
		}
		if (strpbrk(email, "\r\n")) {
			lists_warnf(l, f, line, "email contains a line break");
			continue;
		}
		if (addr_check(email, l->why, sizeof l->why)) {
			lists_warnf(l, f, line, "%s: %s",
				    lists_echo(echo, sizeof echo, email),
				    l->why);
			continue;
		}
		name = "";
		if (f->name_col != (size_t)-1 && f->name_col < l->nfld)
			name = trim(l->rec + l->fld[f->name_col].start);
		if (addr_check_name(name, l->why, sizeof l->why)) {
			lists_warnf(l, f, line, "%s", l->why);
			continue;
		}
		for (i = 0; i < f->nextra; i++)
			f->vals[i] = field(l, f->cols[i]);
		s->email = email;
		s->name = name;
		s->nextra = f->nextra;
		s->extra_keys = f->keys;
		s->extra_values = f->vals;
		s->file = f->path;
		s->line = line;
		return 1;
	}
}
