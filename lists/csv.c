/*
 * CSV lists: RFC 4180 records, read leniently (list.h has the rules).
 *
 * The scanner is a four-state machine over the read buffer that copies
 * runs of ordinary bytes with memcpy; fields are written to rec
 * NUL-terminated, one after another.  Past LIST_ROW_MAX raw bytes it stops
 * storing but keeps following quotes, so that the record still ends where
 * CSV says it does and the rows after it are read correctly.
 */
#include "lists/reader.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lists/address.h"
#include "util/url.h"
#include "util/utf8.h"

enum { ST_START, ST_UNQ, ST_Q, ST_QQ };

/* Bytes that end a run outside quotes, and inside quotes. */
static const unsigned char unq_special[256] = {
	[','] = 1, ['"'] = 1, ['\r'] = 1, ['\n'] = 1,
};
static const unsigned char q_special[256] = {
	['"'] = 1, ['\r'] = 1, ['\n'] = 1,
};

/* A field of the current record: rec[start..start+len), NUL-terminated
 * there; rawstart is its offset from the record start in the file. */
struct lfield {
	uint32_t start, len, rawstart;
	unsigned char quoted;
};

struct csv {
	struct input in;
	struct list_sink *sink;
	/* the current record */
	char *rec;		/* LIST_ROW_MAX + 2 bytes */
	struct lfield *fld;
	size_t nfld, fldcap;
	unsigned long recline;
	unsigned long long recoff;
	int overlong, unterminated;
	/* the header */
	size_t ncols;
	size_t email_col, name_col;	/* name_col SIZE_MAX: none */
	char *hdr;		/* the header record, NUL-separated names */
	size_t nextra;
	const char **keys;	/* nextra names, into hdr */
	size_t *cols;		/* the column of each extra */
	const char **vals;	/* nextra values of the current row */
	char why[128];
};

/* The scanner's place in one record. */
struct rs {
	struct csv *c;
	size_t w;		/* bytes written to rec */
	size_t nf;		/* fields begun */
	int st;			/* ST_* */
	const unsigned char *base;	/* in[pos] when this buffer began */
};

/* The raw offset of x in the record. */
static size_t
raw(const struct rs *s, const unsigned char *x)
{
	return (size_t)(s->c->in.off + (unsigned long long)(x - s->base) -
			s->c->recoff);
}

/*
 * Invariant keeping rec within LIST_ROW_MAX + 2 bytes: every byte written
 * (a data byte, or the NUL that ends a field) is paid for by one raw byte
 * (the byte itself, or the comma), plus the final NUL; so while raw <=
 * LIST_ROW_MAX, w <= LIST_ROW_MAX + 1.
 */
static void
put(struct rs *s, size_t raw_after, const unsigned char *p, size_t n)
{
	if (s->c->overlong)
		return;
	if (raw_after > LIST_ROW_MAX) {
		s->c->overlong = 1;
		return;
	}
	memcpy(s->c->rec + s->w, p, n);
	s->w += n;
	assert(s->w <= LIST_ROW_MAX + 1);
}

static void
endf(struct rs *s, size_t rawpos)
{
	struct lfield *fl;

	if (s->c->overlong)
		return;
	if (rawpos > LIST_ROW_MAX) {
		s->c->overlong = 1;
		return;
	}
	fl = &s->c->fld[s->nf - 1];
	fl->len = (uint32_t)(s->w - fl->start);
	s->c->rec[s->w++] = '\0';
	assert(s->w <= LIST_ROW_MAX + 2);
}

static int
newf(struct rs *s, size_t rawpos)
{
	struct csv *c = s->c;
	struct lfield *fl;
	size_t cap;

	if (c->overlong)
		return 0;
	if (s->nf == c->fldcap) {
		/* Bounded: at most LIST_ROW_MAX + 1 fields fit in a row. */
		cap = c->fldcap ? c->fldcap * 2 : 16;
		fl = realloc(c->fld, cap * sizeof *fl);
		if (!fl)
			return -1;
		c->fld = fl;
		c->fldcap = cap;
	}
	fl = &c->fld[s->nf++];
	fl->start = (uint32_t)s->w;
	fl->len = 0;
	fl->rawstart = (uint32_t)rawpos;
	fl->quoted = 0;
	return 0;
}

/* A comma ends a field and begins the next. */
static int
comma(struct rs *s, const unsigned char **pp)
{
	endf(s, raw(s, *pp));
	(*pp)++;
	s->st = ST_START;
	return newf(s, raw(s, *pp)) ? -1 : 0;
}

/* Outside quotes (ST_START, ST_UNQ).  1: the byte at *pp ends the
 * record. */
static int
step_unquoted(struct rs *s, const unsigned char **pp, const unsigned char *e)
{
	const unsigned char *p = *pp, *q;
	struct csv *c = s->c;

	if (s->st == ST_START && (*p == ' ' || *p == '\t')) {
		/* kept unless a quote follows */
		put(s, raw(s, p + 1), p, 1);
		*pp = p + 1;
		return 0;
	}
	if (s->st == ST_START && *p == '"') {
		/* Blanks before an opening quote are not data: "a@b.c,
		 * \"Hopper, Grace\"" is what people type (Python's
		 * skipinitialspace). */
		if (!c->overlong) {
			s->w = c->fld[s->nf - 1].start;
			c->fld[s->nf - 1].rawstart = (uint32_t)raw(s, p);
			c->fld[s->nf - 1].quoted = 1;
		}
		s->st = ST_Q;
		*pp = p + 1;
		return 0;
	}
	for (q = p; q < e && !unq_special[*q]; q++)
		;
	if (q > p) {
		put(s, raw(s, q), p, (size_t)(q - p));
		s->st = ST_UNQ;
		*pp = q;
		return 0;
	}
	if (*p == '"') {	/* a stray quote: literal */
		put(s, raw(s, p + 1), p, 1);
		*pp = p + 1;
		return 0;
	}
	if (*p == ',')
		return comma(s, pp);
	return 1;
}

/* Inside quotes (ST_Q). */
static void
step_quoted(struct rs *s, const unsigned char **pp, const unsigned char *e)
{
	const unsigned char *p = *pp, *q;
	struct input *f = &s->c->in;

	for (q = p; q < e && !q_special[*q]; q++)
		;
	if (q > p) {
		put(s, raw(s, q), p, (size_t)(q - p));
		f->prev_cr = 0;
		*pp = q;
	} else if (*p == '"') {
		s->st = ST_QQ;
		f->prev_cr = 0;
		*pp = p + 1;
	} else {
		/* A line break inside quotes is data; CRLF counts as one
		 * line. */
		if (*p == '\r' || !f->prev_cr)
			f->line++;
		f->prev_cr = *p == '\r';
		put(s, raw(s, p + 1), p, 1);
		*pp = p + 1;
	}
}

/* After a quote inside quotes (ST_QQ): a doubled quote, the field's end,
 * or text after the closing quote.  1: the record ends here. */
static int
step_closed(struct rs *s, const unsigned char **pp)
{
	const unsigned char *p = *pp;

	if (*p == ',')
		return comma(s, pp);
	if (*p == '\r' || *p == '\n')
		return 1;
	/* '"': a doubled quote is one quote; anything else after a closing
	 * quote is appended, as Python's csv module does. */
	put(s, raw(s, p + 1), p, 1);
	s->st = *p == '"' ? ST_Q : ST_UNQ;
	*pp = p + 1;
	return 0;
}

/* Scan in[pos..len) of the record begun: 1 at its line end (consumed), 0
 * when the buffer ran out first, -1 when out of memory. */
static int
scan(struct rs *s)
{
	struct input *f = &s->c->in;
	const unsigned char *p, *e;
	int r = 0;

	s->base = p = (const unsigned char *)f->in + f->pos;
	e = (const unsigned char *)f->in + f->len;
	while (p < e && r == 0) {
		if (s->st == ST_Q)
			step_quoted(s, &p, e);
		else if (s->st == ST_QQ)
			r = step_closed(s, &p);
		else
			r = step_unquoted(s, &p, e);
	}
	if (r == 1) {
		endf(s, raw(s, p));
		f->line++;
		f->prev_cr = *p == '\r';
		p++;
	}
	f->off += (size_t)(p - s->base);
	f->pos += (size_t)(p - s->base);
	return r;
}

/* Blank lines before a record, and the LF of a CRLF that ended the
 * previous one.  1 when a record begins at pos. */
static int
skip_blank_lines(struct csv *c)
{
	struct input *f = &c->in;
	const unsigned char *p = (const unsigned char *)f->in + f->pos;
	const unsigned char *e = (const unsigned char *)f->in + f->len;
	const unsigned char *base = p;

	while (p < e && (*p == '\r' || *p == '\n')) {
		if (*p == '\r' || !f->prev_cr)
			f->line++;
		f->prev_cr = *p == '\r';
		p++;
	}
	f->off += (size_t)(p - base);
	f->pos += (size_t)(p - base);
	return p < e;
}

/*
 * Read the next record into rec and fld (nfld fields), skipping blank
 * lines before it.  Returns 1 with a record (recline, recoff, overlong and
 * unterminated set), 0 at end of file, -1 on error.
 */
static int
csv_record(struct csv *c, struct nl_err *err)
{
	struct input *f = &c->in;
	struct rs s = { c, 0, 0, ST_START, NULL };
	int began = 0, r;

	c->overlong = c->unterminated = 0;
	c->nfld = 0;
	for (;;) {
		if (f->pos == f->len) {
			r = input_fill(f, err);
			if (r < 0)
				return -1;
			if (r == 0)
				break;
		}
		if (!began) {
			if (!skip_blank_lines(c))
				continue;
			began = 1;
			c->recoff = f->off;
			c->recline = f->line;
			f->prev_cr = 0;
			if (newf(&s, 0))
				goto nomem;
		}
		r = scan(&s);
		if (r < 0)
			goto nomem;
		if (r == 1) {
			c->nfld = s.nf;
			return 1;
		}
	}
	if (!began)
		return 0;
	/* End of file ends the last record. */
	if (s.st == ST_Q)
		c->unterminated = 1;
	endf(&s, (size_t)(f->off - c->recoff));
	c->nfld = s.nf;
	return 1;
nomem:
	return nl_err_set(err, NL_ENOMEM, "out of memory");
}

static const char *
field(const struct csv *c, size_t i)
{
	return i < c->nfld ? c->rec + c->fld[i].start : "";
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
nul_field(const struct csv *c)
{
	size_t i;

	for (i = 0; i < c->nfld; i++)
		if (strlen(c->rec + c->fld[i].start) != c->fld[i].len)
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
record_utf8(const struct csv *c, unsigned long long *off)
{
	const struct lfield *fl;
	size_t end, k, i, quotes = 0;

	if (!c->nfld)
		return 1;
	fl = &c->fld[c->nfld - 1];
	end = fl->start + fl->len;
	k = utf8_invalid_offset(c->rec, end);
	if (k == end)
		return 1;
	for (i = 0; i + 1 < c->nfld && c->fld[i + 1].start <= k; i++)
		;
	fl = &c->fld[i];
	if (fl->quoted)
		for (end = fl->start; end < k; end++)
			quotes += c->rec[end] == '"';
	*off = c->recoff + fl->rawstart + fl->quoted + (k - fl->start) +
	       quotes;
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return list_casecmp(*(const char *const *)a, *(const char *const *)b);
}

/* What makes a header row unusable, before its names are looked at. */
static int
header_record(struct csv *c, struct nl_err *err)
{
	const char *path = c->in.path;
	unsigned long long off;
	int r;

	r = csv_record(c, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return nl_err_at(err, NL_EDATA, path, c->in.line, 0,
				 "no header row (the file is empty)");
	if (c->overlong)
		return nl_err_at(err, NL_EDATA, path, c->recline, 0,
				 "header row longer than %d bytes", LIST_ROW_MAX);
	if (c->unterminated)
		return nl_err_at(err, NL_EDATA, path, c->recline, 0,
				 "unterminated quoted field in the header row");
	if (nul_field(c) != (size_t)-1)
		return nl_err_at(err, NL_EDATA, path, c->recline, 0,
				 "NUL byte in the header row");
	if (!record_utf8(c, &off))
		return nl_err_at(err, NL_EDATA, path, c->recline, 0,
				 "invalid UTF-8 (byte offset %llu)", off);
	return 0;
}

/* A column named twice would make a field ambiguous: name the later one,
 * as the reader meets it (echoed: a quoted name may hold CR/LF). */
static int
check_duplicates(struct csv *c, const char **sorted, size_t n,
		 struct nl_err *err)
{
	char echo[160];
	size_t i;

	qsort(sorted, n, sizeof *sorted, cmp_names);
	for (i = 1; i < n; i++)
		if (*sorted[i] && list_casecmp(sorted[i - 1], sorted[i]) == 0)
			return nl_err_at(err, NL_EDATA, c->in.path, c->recline, 0,
					 "duplicate column %s",
					 list_echo(echo, sizeof echo,
						   sorted[i - 1] > sorted[i] ?
						   sorted[i - 1] : sorted[i]));
	return 0;
}

/* email, name and the extra columns, by the trimmed names. */
static int
assign_columns(struct csv *c, const char *const *names, size_t n,
	       struct nl_err *err)
{
	size_t i, k;

	c->ncols = n;
	c->email_col = (size_t)-1;
	for (i = k = 0; i < n; i++) {
		if (!*names[i])
			continue;
		if (list_casecmp(names[i], "email") == 0) {
			c->email_col = i;
		} else if (list_casecmp(names[i], "name") == 0) {
			c->name_col = i;
		} else {
			c->keys[k] = names[i];
			c->cols[k++] = i;
		}
	}
	c->nextra = k;
	if (c->email_col == (size_t)-1)
		return nl_err_at(err, NL_EDATA, c->in.path, c->recline, 0,
				 "no 'email' column");
	return 0;
}

static int
csv_header(struct csv *c, struct nl_err *err)
{
	const char **names = NULL, **sorted = NULL;
	size_t i, n, size;
	int r = -1;

	if (header_record(c, err))
		return -1;
	n = c->nfld;
	size = c->fld[n - 1].start + c->fld[n - 1].len + 1;
	c->hdr = malloc(size);
	names = malloc(n * sizeof *names);
	sorted = malloc(n * sizeof *sorted);
	c->keys = malloc(n * sizeof *c->keys);
	c->cols = malloc(n * sizeof *c->cols);
	c->vals = malloc(n * sizeof *c->vals);
	if (!c->hdr || !names || !sorted || !c->keys || !c->cols || !c->vals) {
		nl_err_set(err, NL_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(c->hdr, c->rec, size);
	for (i = 0; i < n; i++)
		sorted[i] = names[i] = trim(c->hdr + c->fld[i].start);
	if (check_duplicates(c, sorted, n, err) ||
	    assign_columns(c, names, n, err))
		goto out;
	r = 0;
out:
	free(names);
	free(sorted);
	return r;
}

/* A record that is not a row: overlong, unterminated, too wide, with a
 * NUL or bad UTF-8 (reported), or blank (silently).  0 when it is a row. */
static int
not_a_row(struct csv *c)
{
	char echo[160];
	const char *what = NULL;
	unsigned long long off;
	size_t i, k;

	if (c->overlong) {
		list_skip(c->sink, c->in.path, c->recline,
			  "row longer than %d bytes", LIST_ROW_MAX);
		return 1;
	}
	if (c->unterminated) {
		list_skip(c->sink, c->in.path, c->recline,
			  "unterminated quoted field");
		return 1;
	}
	for (i = 0; i < c->nfld && is_blank(field(c, i)); i++)
		;
	if (i == c->nfld)
		return 1;
	if (c->nfld > c->ncols) {
		list_skip(c->sink, c->in.path, c->recline,
			  "too many fields (%zu, the header has %zu)", c->nfld,
			  c->ncols);
		return 1;
	}
	i = nul_field(c);
	if (i != (size_t)-1) {
		for (k = 0; k < c->nextra; k++)
			if (c->cols[k] == i)
				what = c->keys[k];
		if (i == c->email_col || i == c->name_col)
			list_skip(c->sink, c->in.path, c->recline, "%s contains "
				  "a NUL byte", i == c->email_col ? "email" : "name");
		else if (what)	/* echoed: a quoted name may hold CR/LF */
			list_skip(c->sink, c->in.path, c->recline, "column %s "
				  "contains a NUL byte",
				  list_echo(echo, sizeof echo, what));
		else
			list_skip(c->sink, c->in.path, c->recline, "column %zu "
				  "contains a NUL byte", i + 1);
		return 1;
	}
	if (!record_utf8(c, &off)) {
		list_skip(c->sink, c->in.path, c->recline,
			  "invalid UTF-8 (byte offset %llu)", off);
		return 1;
	}
	return 0;
}

/* The row's address and name, checked: 0 with s filled, 1 when bad
 * (reported). */
static int
row(struct csv *c, struct subscriber *s)
{
	char echo[160], *email, *name = "";
	size_t i;

	email = trim((char *)field(c, c->email_col));
	if (!*email) {
		list_skip(c->sink, c->in.path, c->recline, "no email address");
		return 1;
	}
	if (strpbrk(email, "\r\n")) {
		list_skip(c->sink, c->in.path, c->recline,
			  "email contains a line break");
		return 1;
	}
	if (addr_check(email, c->why, sizeof c->why)) {
		list_skip(c->sink, c->in.path, c->recline, "%s: %s",
			  list_echo(echo, sizeof echo, email), c->why);
		return 1;
	}
	if (c->name_col != (size_t)-1 && c->name_col < c->nfld)
		name = trim(c->rec + c->fld[c->name_col].start);
	if (addr_check_name(name, c->why, sizeof c->why)) {
		list_skip(c->sink, c->in.path, c->recline, "%s", c->why);
		return 1;
	}
	for (i = 0; i < c->nextra; i++) {
		c->vals[i] = field(c, c->cols[i]);
		/* A template may put a column in an href (util/url.h). */
		if (url_value_is_unsafe(c->vals[i])) {
			list_skip(c->sink, c->in.path, c->recline, "column %s: "
				  "a URL a mail client must not follow "
				  "(javascript:, vbscript:, file: or data:)",
				  list_echo(echo, sizeof echo, c->keys[i]));
			return 1;
		}
	}
	s->email = email;
	s->name = name;
	s->nextra = c->nextra;
	s->extra_keys = c->keys;
	s->extra_values = c->vals;
	s->file = c->in.path;
	s->line = c->recline;
	return 0;
}

static int
csv_next(void *state, struct subscriber *s, struct nl_err *err)
{
	struct csv *c = state;
	int r;

	for (;;) {
		r = csv_record(c, err);
		if (r <= 0)
			return r;
		if (!not_a_row(c) && !row(c, s))
			return 1;
	}
}

static void
csv_close(void *state)
{
	struct csv *c = state;

	if (!c)
		return;
	input_close(&c->in);
	free(c->rec);
	free(c->fld);
	free(c->hdr);
	free(c->keys);
	free(c->cols);
	free(c->vals);
	free(c);
}

static int
csv_open(struct input *in, struct list_sink *sink, void **state,
	 struct nl_err *err)
{
	struct csv *c = calloc(1, sizeof *c);

	*state = NULL;
	if (!c || !(c->rec = malloc(LIST_ROW_MAX + 2))) {
		free(c);
		input_close(in);
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	}
	c->in = *in;
	c->sink = sink;
	c->name_col = (size_t)-1;
	if (csv_header(c, err)) {
		csv_close(c);
		return -1;
	}
	*state = c;
	return 0;
}

const struct list_reader_ops list_csv_reader = {
	"csv", csv_open, csv_next, csv_close,
};
