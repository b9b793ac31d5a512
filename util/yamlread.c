#include "util/yamlread.h"
#include "util/path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/utf8.h"

struct yr_pos
yr_pos_of_offset(const char *data, size_t len, size_t off)
{
	const unsigned char *u = (const unsigned char *)data;
	struct yr_pos p = { 1, 1 };
	size_t i = 0, k;
	uint32_t cp;

	if (off > len)
		off = len;
	/* libyaml skips a leading byte order mark without counting it. */
	if (off >= 3 && len >= 3 && u[0] == 0xEF && u[1] == 0xBB &&
	    u[2] == 0xBF)
		i = 3;
	while (i < off) {
		if (u[i] == '\n' || u[i] == '\r') {
			i += u[i] == '\r' && i + 1 < len && u[i + 1] == '\n' ?
				2 : 1;
			p.line++;
			p.col = 1;
			continue;
		}
		k = utf8_decode(data + i, len - i, &cp);
		i += k;
		if (cp == 0x85 || cp == 0x2028 || cp == 0x2029) {
			p.line++;
			p.col = 1;
		} else {
			p.col++;
		}
	}
	return p;
}

static struct yr_pos
pos_of_mark(yaml_mark_t m)
{
	struct yr_pos p = { (unsigned long)m.line + 1,
			    (unsigned long)m.column + 1 };

	return p;
}

struct yr_pos
yr_here(const struct yr *y)
{
	struct yr_pos none = { 0, 0 };

	return y->have_ev ? pos_of_mark(y->ev.start_mark) : none;
}

int
yr_err(struct yr *y, struct yr_pos pos, const char *fmt, ...)
{
	char msg[NL_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return nl_err_at(y->err, y->kind, y->file, pos.line, pos.col, "%s",
			 msg);
}

/* "16 MiB" rather than 16777216: the limit as a person would state it. */
static void
size_name(char *out, size_t n, size_t bytes)
{
	if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
		snprintf(out, n, "%zu MiB", bytes / (1024 * 1024));
	else if (bytes >= 1024 && bytes % 1024 == 0)
		snprintf(out, n, "%zu KiB", bytes / 1024);
	else
		snprintf(out, n, "%zu bytes", bytes);
}

int
yr_open(struct yr *y, const char *path, size_t max, enum nl_errkind kind,
	struct stat *st, struct nl_err *err)
{
	char chunk[65536], lim[32];
	struct stat sb;
	struct buf b;
	ssize_t n;
	size_t bad;
	int fd = -1, r = -1;

	memset(y, 0, sizeof *y);
	y->file = path;
	y->kind = kind;
	y->err = err;
	buf_init(&b, max);

	/* A regular file only: a FIFO would block the run (under --due,
	 * with the state lock held) until someone writes to it. */
	r = path_open_regular(path, &fd, &sb);
	if (r) {
		nl_err_set(err, NL_ENOINPUT, "%s: %s", path, r < 0 ?
			   strerror(errno) : stat(path, &sb) == 0 &&
			   S_ISDIR(sb.st_mode) ? strerror(EISDIR) :
			   "not a regular file");
		r = -1;
		goto out;
	}
	r = -1;
	if (st)
		*st = sb;
	/* One allocation; the cap still rules. */
	if (sb.st_size > 0 &&
	    (uintmax_t)sb.st_size <= max)
		(void)buf_reserve(&b, (size_t)sb.st_size);
	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			nl_err_set(err, NL_ENOINPUT, "%s: %s", path,
				   strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (buf_add(&b, chunk, (size_t)n)) {
			if (errno == E2BIG) {
				size_name(lim, sizeof lim, max);
				nl_err_set(err, kind,
					   "%s: file is larger than the %s "
					   "limit", path, lim);
			} else {
				nl_err_set(err, NL_ENOMEM, "%s: out of memory",
					   path);
			}
			goto out;
		}
	}
	y->data = buf_detach(&b, &y->len);
	if (!y->data) {
		nl_err_set(err, NL_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	bad = utf8_invalid_offset(y->data, y->len);
	if (bad < y->len) {
		yr_err(y, yr_pos_of_offset(y->data, y->len, bad),
		       "invalid UTF-8 (byte offset %zu)", bad);
		goto out;
	}
	if (!yaml_parser_initialize(&y->parser)) {
		nl_err_set(err, NL_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	y->have_parser = true;
	/* Encoding left to libyaml's detection, so a UTF-8 BOM is skipped
	 * (UTF-16 cannot get here: it is never valid UTF-8). */
	yaml_parser_set_input_string(&y->parser,
				     (const unsigned char *)y->data, y->len);
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	return r;
}

void
yr_close(struct yr *y)
{
	if (y->have_ev)
		yaml_event_delete(&y->ev);
	if (y->have_parser)
		yaml_parser_delete(&y->parser);
	free(y->data);
	y->have_ev = false;
	y->have_parser = false;
	y->data = NULL;
}

static int
parse_error(struct yr *y)
{
	yaml_parser_t *p = &y->parser;
	const char *problem = p->problem ? p->problem : "unknown error";
	const char *ctx = p->context;
	struct yr_pos pm = pos_of_mark(p->problem_mark);
	struct yr_pos cm = pos_of_mark(p->context_mark);
	bool runaway;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return nl_err_set(y->err, NL_ENOMEM,
				  "%s: out of memory while parsing", y->file);
	case YAML_READER_ERROR:
		/* The reader's mark is not kept; its byte offset is. */
		return yr_err(y, yr_pos_of_offset(y->data, y->len,
						  p->problem_offset),
			      "%s (byte offset %zu)", problem,
			      p->problem_offset);
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		/*
		 * An unclosed quote or flow collection swallows the rest of
		 * the file, so libyaml notices far below the mistake: report
		 * where the construct starts (the context mark).  Any other
		 * problem is where libyaml found it.
		 */
		runaway = ctx &&
			  (strstr(problem, "end of stream") ||
			   strstr(problem, "document indicator") ||
			   strncmp(ctx, "while parsing a flow", 20) == 0 ||
			   strcmp(ctx, "while scanning a simple key") == 0);
		if (runaway)
			return yr_err(y, cm,
				      "%s at line %lu, column %lu (%s that "
				      "starts here)", problem, pm.line, pm.col,
				      ctx);
		if (ctx)
			return yr_err(y, pm, "%s (%s at line %lu, column %lu)",
				      problem, ctx, cm.line, cm.col);
		return yr_err(y, pm, "%s", problem);
	default:
		return nl_err_set(y->err, NL_EINTERNAL,
				  "%s: libyaml failed (error %d)", y->file,
				  (int)p->error);
	}
}

static const char *
event_anchor(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return (const char *)ev->data.scalar.anchor;
	case YAML_SEQUENCE_START_EVENT:
		return (const char *)ev->data.sequence_start.anchor;
	case YAML_MAPPING_START_EVENT:
		return (const char *)ev->data.mapping_start.anchor;
	default:
		return NULL;
	}
}

int
yr_next(struct yr *y)
{
	if (y->have_ev) {
		yaml_event_delete(&y->ev);
		y->have_ev = false;
	}
	if (!y->have_parser)
		return nl_err_set(y->err, NL_EINTERNAL, "%s: not open",
				  y->file);
	if (!yaml_parser_parse(&y->parser, &y->ev))
		return parse_error(y);
	y->have_ev = true;
	/* Rejected at the first sight, so an alias bomb never expands. */
	if (y->ev.type == YAML_ALIAS_EVENT)
		return yr_err(y, yr_here(y), "aliases are not supported");
	if (event_anchor(&y->ev))
		return yr_err(y, yr_here(y),
			      "anchors and aliases are not supported");
	return 0;
}

/* YAML 1.1 null: a plain, untagged "", "~" or null. */
static bool
is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	if (ev->type != YAML_SCALAR_EVENT ||
	    ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
	    ev->data.scalar.tag)
		return false;
	return strcmp(v, "") == 0 || strcmp(v, "~") == 0 ||
	       strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	       strcmp(v, "NULL") == 0;
}

const char *
yr_what(const struct yr *y)
{
	if (!y->have_ev)
		return "nothing";
	switch (y->ev.type) {
	case YAML_SCALAR_EVENT:
		return is_null(&y->ev) ? "empty" : "a string";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	default:
		return "something else";
	}
}

/* After the root node: the document ends, and no other follows. */
static int
end_stream(struct yr *y)
{
	if (yr_next(y))
		return -1;
	if (y->ev.type != YAML_DOCUMENT_END_EVENT)
		return yr_err(y, yr_here(y), "expected the end of the document");
	if (yr_next(y))
		return -1;
	if (y->ev.type == YAML_DOCUMENT_START_EVENT)
		return yr_err(y, yr_here(y), "more than one YAML document");
	if (y->ev.type != YAML_STREAM_END_EVENT)
		return yr_err(y, yr_here(y), "expected the end of the file");
	return 0;
}

int
yr_begin(struct yr *y, bool *empty)
{
	*empty = false;
	if (yr_next(y))
		return -1;
	if (y->ev.type != YAML_STREAM_START_EVENT)
		return yr_err(y, yr_here(y), "expected the start of the file");
	if (yr_next(y))
		return -1;
	if (y->ev.type == YAML_STREAM_END_EVENT) {
		*empty = true;
		return 0;
	}
	if (yr_next(y))
		return -1;
	if (is_null(&y->ev)) {
		*empty = true;
		return end_stream(y);
	}
	if (y->ev.type != YAML_MAPPING_START_EVENT)
		return yr_err(y, yr_here(y),
			      "expected a mapping of keys, found %s",
			      yr_what(y));
	return 0;
}

int
yr_end(struct yr *y)
{
	return end_stream(y);
}

int
yr_key(struct yr *y, const char *const names[], size_t n,
       struct yr_pos seen[], const char *where, size_t *idx,
       struct yr_pos *pos)
{
	const char *k;
	size_t klen, i;

	if (yr_next(y))
		return -1;
	if (y->ev.type == YAML_MAPPING_END_EVENT)
		return 1;
	*pos = yr_here(y);
	if (y->ev.type != YAML_SCALAR_EVENT)
		return yr_err(y, *pos, "a key must be a string, not %s%s",
			      yr_what(y), where);
	k = (const char *)y->ev.data.scalar.value;
	klen = y->ev.data.scalar.length;
	for (i = 0; i < n; i++)
		if (strlen(names[i]) == klen && memcmp(names[i], k, klen) == 0)
			break;
	if (i == n)
		return yr_err(y, *pos, "unknown key '%.*s'%s",
			      (int)(klen > 80 ? 80 : klen), k, where);
	if (seen[i].line)
		return yr_err(y, *pos, "duplicate key '%s'%s (first at line "
			      "%lu)", names[i], where, seen[i].line);
	seen[i] = *pos;
	*idx = i;
	return 0;
}

int
yr_string(struct yr *y, const char *key, const char *where, char **out,
	  struct yr_pos *pos)
{
	return yr_scalar(y, key, where, "a string", out, pos);
}

int
yr_scalar(struct yr *y, const char *key, const char *where, const char *noun,
	  char **out, struct yr_pos *pos)
{
	size_t len;
	char *s;

	*out = NULL;
	if (yr_next(y))
		return -1;
	*pos = yr_here(y);
	if (y->ev.type != YAML_SCALAR_EVENT)
		return yr_err(y, *pos, "'%s'%s must be %s, not %s", key,
			      where, noun, yr_what(y));
	if (is_null(&y->ev))
		return 0;
	len = y->ev.data.scalar.length;
	if (memchr(y->ev.data.scalar.value, '\0', len))
		return yr_err(y, *pos, "NUL character in '%s'%s", key, where);
	s = malloc(len + 1);
	if (!s)
		return nl_err_set(y->err, NL_ENOMEM, "%s: out of memory",
				  y->file);
	memcpy(s, y->ev.data.scalar.value, len);
	s[len] = '\0';
	*out = s;
	return 0;
}

int
yr_start(struct yr *y, yaml_event_type_t type, const char *key,
	 const char *where, struct yr_pos *pos)
{
	if (yr_next(y))
		return -1;
	*pos = yr_here(y);
	if (y->ev.type == type)
		return 0;
	if (is_null(&y->ev))
		return 1;
	return yr_err(y, *pos, "'%s'%s must be %s, not %s", key, where,
		      type == YAML_MAPPING_START_EVENT ? "a mapping" : "a list",
		      yr_what(y));
}

int
yr_one_line(struct yr *y, const char *key, const char *where, const char *s,
	    struct yr_pos pos)
{
	if (s && strpbrk(s, "\r\n"))
		return yr_err(y, pos, "line break in '%s'%s (it goes into a "
			      "mail header, which must be one line)", key,
			      where);
	return 0;
}

int
yr_parse_long(const char *s, long *out)
{
	unsigned long v = 0, lim;
	bool neg = false;
	const char *p = s;

	if (!s)
		return -1;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (*p < '0' || *p > '9')
		return -1;
	lim = neg ? (unsigned long)LONG_MAX + 1 : (unsigned long)LONG_MAX;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (lim - (unsigned long)(*p - '0')) / 10)
			return -2;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (*p)
		return -1;
	if (neg)
		*out = v == (unsigned long)LONG_MAX + 1 ? LONG_MIN : -(long)v;
	else
		*out = (long)v;
	return 0;
}
