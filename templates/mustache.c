/*
 * mustache.c - compile Mustache into a flat node array, render it, and
 * partially evaluate it (see mustache.h for the contract).
 *
 * A compiled source (the template, or one partial at one indentation) is a
 * "unit": an array of nodes whose text and names are ranges of the unit's
 * source.  A section node is followed by its block; its `end` is the index
 * just past the block, so rendering skips or repeats a block by index and
 * never re-parses.  A residual from mst_specialize() has the same shape,
 * its ranges pointing into a pool of rendered text and copied names.
 */
#include "templates/mustache.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOPOS ((size_t)-1)
/* Nodes in one unit or residual: far above what 1 MiB of source makes. */
#define MAX_NODES ((size_t)1 << 24)
/* Partial units one template may cache (each name and indentation; a
 * recursive standalone partial makes one per depth). */
#define MAX_PARTIALS 4096
/* Indenting a partial may grow it; this bounds the copy. */
#define MAX_INDENTED (4 * MST_MAX_SOURCE)
/* Name shown in messages, truncated so a long tag cannot drown them. */
#define SHOWN 64
#define SHOW(n) (int)((n) < SHOWN ? (n) : SHOWN)

enum nkind { N_TEXT, N_VAR, N_RAW, N_SECTION, N_INVERTED, N_PARTIAL };

struct node {
	enum nkind kind;
	unsigned line, col;	/* of the tag in its source, for errors */
	size_t off, len;	/* N_TEXT: the text; tags: the name */
	size_t ioff, ilen;	/* N_PARTIAL: indentation (standalone tag) */
	size_t end;		/* sections: index just past the block */
	size_t coff, cn;	/* residual: context captured for the block */
};

struct pentry {
	char *name;
	size_t namelen;
	char *indent;
	size_t ilen;
	struct mst *unit;	/* NULL: the loader has no such partial */
};

struct pcache {
	struct pentry *v;
	size_t n, cap;
};

struct mst {
	char *name;		/* for messages */
	const char *src;	/* what node ranges point into */
	char *own;		/* owned storage behind src, or NULL */
	struct node *nodes;
	size_t n;
	size_t *top;		/* node index of each top-level item */
	size_t ntop;
	mst_partial_fn partial;
	void *parg;
	/* Templates handed out (compiled or residual) own a cache; partial
	 * units do not: partials always resolve through the root. */
	struct pcache *cache;
	const struct tv **capv;	/* residual: captured context values */
	size_t ncapv;
	struct tv_arena *arena;	/* residual: owns the captured values */
};

struct nodes {
	struct node *v;
	size_t n, cap;
};

static int
nomem(struct nl_err *err)
{
	return nl_err_set(err, NL_ENOMEM, "out of memory");
}

/* Append a zeroed node; NULL when out of memory or over MAX_NODES. */
static struct node *
node_add(struct nodes *ns)
{
	struct node *v;
	size_t cap;

	if (ns->n == ns->cap) {
		if (ns->n >= MAX_NODES)
			return NULL;
		cap = ns->cap ? ns->cap * 2 : 32;
		v = realloc(ns->v, cap * sizeof *v);
		if (!v)
			return NULL;
		ns->v = v;
		ns->cap = cap;
	}
	v = &ns->v[ns->n++];
	memset(v, 0, sizeof *v);
	return v;
}

static size_t
find(const char *s, size_t from, size_t len, const char *pat, size_t plen)
{
	const char *p;

	if (from > len)
		return NOPOS;
	p = memmem(s + from, len - from, pat, plen);
	return p ? (size_t)(p - s) : NOPOS;
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Top-level items: every node that is not inside a section. */
static int
set_top(struct mst *t)
{
	size_t i, k = 0;

	for (i = 0; i < t->n; i = t->nodes[i].kind == N_SECTION ||
		     t->nodes[i].kind == N_INVERTED ? t->nodes[i].end : i + 1)
		k++;
	t->ntop = k;
	if (!k)
		return 0;
	t->top = malloc(k * sizeof *t->top);
	if (!t->top)
		return -1;
	k = 0;
	for (i = 0; i < t->n; i = t->nodes[i].kind == N_SECTION ||
		     t->nodes[i].kind == N_INVERTED ? t->nodes[i].end : i + 1)
		t->top[k++] = i;
	return 0;
}

/* ---- compiling ---------------------------------------------------- */

struct popen {
	size_t node;
	size_t off, len;
	unsigned long line, col;
};

struct parser {
	const char *src;
	size_t len;
	const char *name;
	size_t icol;		/* indentation added to each line (partials) */
	const char *otag, *ctag;
	size_t olen, clen;
	size_t wpos;		/* where() has counted up to here */
	unsigned long wline, wcol;
	struct nodes ns;
	struct popen open[MST_MAX_NEST];
	size_t nopen;
	struct nl_err *err;
};

/* Line and column of pos; positions only move forward, so the count is
 * incremental and compiling stays linear however long the lines. */
static void
where(struct parser *p, size_t pos, unsigned long *line, unsigned long *col)
{
	unsigned char c;

	assert(pos <= p->len);
	for (; p->wpos < pos; p->wpos++) {
		c = (unsigned char)p->src[p->wpos];
		if (c == '\n') {
			p->wline++;
			p->wcol = 1;
		} else if ((c & 0xC0) != 0x80) {
			p->wcol++;
		}
	}
	*line = p->wline;
	/* A tag's line is never empty, so an indented partial indented it:
	 * report the column in the partial's own source. */
	*col = p->wcol > p->icol ? p->wcol - p->icol : p->wcol;
}

static int __attribute__((format(printf, 5, 6)))
perr(struct parser *p, size_t pos, unsigned long line, unsigned long col,
     const char *fmt, ...)
{
	char msg[NL_ERRMSG_MAX];
	va_list ap;

	if (pos != NOPOS)
		where(p, pos, &line, &col);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return nl_err_at(p->err, NL_EDATA, p->name, line, col, "%s", msg);
}

static int
add_text(struct parser *p, size_t a, size_t b)
{
	struct node *nd;

	if (b <= a)
		return 0;
	nd = node_add(&p->ns);
	if (!nd)
		return nomem(p->err);
	nd->kind = N_TEXT;
	nd->off = a;
	nd->len = b - a;
	return 0;
}

/* The closing delimiter preceded by ch (for {{{x}}} and {{=a b=}}):
 * position of ch, or NOPOS. */
static size_t
find_close(const struct parser *p, size_t q, char ch)
{
	size_t x = find(p->src, q, p->len, p->ctag, p->clen);

	while (x != NOPOS) {
		if (x > q && p->src[x - 1] == ch)
			return x - 1;
		x = find(p->src, x + 1, p->len, p->ctag, p->clen);
	}
	return NOPOS;
}

/* Trim [*a, *b) and check it is one non-empty word. */
static int
tag_name(struct parser *p, size_t t, size_t *a, size_t *b)
{
	size_t i;

	/* Positions the scanner found inside the source. */
	assert(*a <= *b && *b <= p->len);
	while (*a < *b && is_ws(p->src[*a]))
		(*a)++;
	while (*b > *a && is_ws(p->src[*b - 1]))
		(*b)--;
	if (*a == *b)
		return perr(p, t, 0, 0, "empty tag name");
	for (i = *a; i < *b; i++)
		if (is_ws(p->src[i]))
			return perr(p, t, 0, 0, "bad tag name '%.*s' "
				    "(names have no spaces)",
				    SHOW(*b - *a), p->src + *a);
	return 0;
}

static int
set_delims(struct parser *p, size_t t, size_t a, size_t b)
{
	size_t s1, l1, s2, l2, i = a;

	while (i < b && is_ws(p->src[i]))
		i++;
	for (s1 = i; i < b && !is_ws(p->src[i]); i++)
		;
	l1 = i - s1;
	while (i < b && is_ws(p->src[i]))
		i++;
	for (s2 = i; i < b && !is_ws(p->src[i]); i++)
		;
	l2 = i - s2;
	while (i < b && is_ws(p->src[i]))
		i++;
	if (i != b || !l1 || !l2 || memchr(p->src + s1, '=', l1) ||
	    memchr(p->src + s2, '=', l2))
		return perr(p, t, 0, 0, "bad delimiters '%.*s': expected two "
			    "delimiters without '=' separated by spaces",
			    SHOW(b - a), p->src + a);
	p->otag = p->src + s1;
	p->olen = l1;
	p->ctag = p->src + s2;
	p->clen = l2;
	return 0;
}

static int
tag(struct parser *p, char type, size_t t, size_t a, size_t b,
    size_t ws)
{
	unsigned long line, col;
	struct popen *o;
	struct node *nd;

	if (type == '!')
		return 0;
	if (type == '=')
		return set_delims(p, t, a, b);
	if (tag_name(p, t, &a, &b))
		return -1;
	where(p, t, &line, &col);
	if (type == '/') {
		if (!p->nopen)
			return perr(p, NOPOS, line, col, "end of section "
				    "'%.*s' without an open section",
				    SHOW(b - a), p->src + a);
		o = &p->open[p->nopen - 1];
		if (o->len != b - a || memcmp(p->src + o->off, p->src + a,
					      b - a) != 0)
			return perr(p, NOPOS, line, col, "end of section "
				    "'%.*s' does not match open section "
				    "'%.*s' (opened at %lu:%lu)",
				    SHOW(b - a), p->src + a, SHOW(o->len),
				    p->src + o->off, o->line, o->col);
		p->ns.v[o->node].end = p->ns.n;
		p->nopen--;
		return 0;
	}
	if ((type == '#' || type == '^') && p->nopen == MST_MAX_NEST)
		return perr(p, NOPOS, line, col, "sections nested deeper "
			    "than %d", MST_MAX_NEST);
	nd = node_add(&p->ns);
	if (!nd)
		return nomem(p->err);
	nd->off = a;
	nd->len = b - a;
	nd->line = (unsigned)line;
	nd->col = (unsigned)col;
	switch (type) {
	case '#':
	case '^':
		nd->kind = type == '#' ? N_SECTION : N_INVERTED;
		o = &p->open[p->nopen++];
		o->node = p->ns.n - 1;
		o->off = a;
		o->len = b - a;
		o->line = line;
		o->col = col;
		break;
	case '>':
		nd->kind = N_PARTIAL;
		nd->ioff = ws;
		nd->ilen = t - ws;
		break;
	case '{':
	case '&':
		nd->kind = N_RAW;
		break;
	default:
		nd->kind = N_VAR;
		break;
	}
	return 0;
}

static int
parse(struct parser *p)
{
	const char *s = p->src;
	size_t pos = 0, t, q, c, e, ws, after, next;
	bool standalone;
	char type;

	for (;;) {
		t = find(s, pos, p->len, p->otag, p->olen);
		if (t == NOPOS)
			break;
		q = t + p->olen;
		type = 0;
		if (q < p->len && s[q] && strchr("#^/!>={&", s[q]))
			type = s[q++];
		if (type == '{' || type == '=') {
			c = find_close(p, q, type == '{' ? '}' : '=');
			e = c == NOPOS ? NOPOS : c + 1 + p->clen;
		} else {
			c = find(s, q, p->len, p->ctag, p->clen);
			e = c == NOPOS ? NOPOS : c + p->clen;
		}
		if (c == NOPOS)
			return perr(p, t, 0, 0, "unclosed tag: no '%s%.*s' "
				    "after '%.*s'", type == '{' ? "}" :
				    type == '=' ? "=" : "", SHOW(p->clen),
				    p->ctag, SHOW(p->olen), p->otag);
		/* Standalone: only blanks around the tag on its line. */
		standalone = false;
		ws = t;
		next = e;
		if (type && type != '{' && type != '&') {
			while (ws > pos && is_blank(s[ws - 1]))
				ws--;
			after = e;
			while (after < p->len && is_blank(s[after]))
				after++;
			if (ws == 0 || s[ws - 1] == '\n') {
				if (after == p->len) {
					standalone = true;
					next = after;
				} else if (s[after] == '\n') {
					standalone = true;
					next = after + 1;
				} else if (s[after] == '\r' &&
					   after + 1 < p->len &&
					   s[after + 1] == '\n') {
					standalone = true;
					next = after + 2;
				}
			}
		}
		if (!standalone) {
			ws = t;
			next = e;
		}
		if (add_text(p, pos, ws) || tag(p, type, t, q, c, ws))
			return -1;
		pos = next;
	}
	if (add_text(p, pos, p->len))
		return -1;
	if (p->nopen) {
		struct popen *o = &p->open[p->nopen - 1];

		return perr(p, NOPOS, o->line, o->col, "unclosed section "
			    "'%.*s'", SHOW(o->len), s + o->off);
	}
	return 0;
}

/* Prepend ind to every non-empty line of src (spec: a standalone partial's
 * indentation applies to the partial's lines, not to interpolated text). */
static int
indent_source(const char *name, const char *src, size_t len,
	      const char *ind, size_t ilen, char **out, size_t *olen,
	      struct nl_err *err)
{
	struct buf b;
	size_t pos = 0, end;
	const char *nl;
	bool empty;
	int r = -1;

	buf_init(&b, MAX_INDENTED);
	if (buf_reserve(&b, 0))
		goto fail;
	while (pos < len) {
		nl = memchr(src + pos, '\n', len - pos);
		end = nl ? (size_t)(nl - src) + 1 : len;
		empty = src[pos] == '\n' || (src[pos] == '\r' &&
					     pos + 1 < len &&
					     src[pos + 1] == '\n');
		if ((!empty && buf_add(&b, ind, ilen)) ||
		    buf_add(&b, src + pos, end - pos))
			goto fail;
		pos = end;
	}
	*out = buf_detach(&b, olen);
	r = 0;
	goto out;
fail:
	if (errno == E2BIG)
		nl_err_at(err, NL_EDATA, name, 0, 0, "partial indented by "
			  "%zu is larger than the limit of %zu bytes", ilen,
			  (size_t)MAX_INDENTED);
	else
		nomem(err);
out:
	buf_free(&b);
	return r;
}

static void
unit_free(struct mst *t)
{
	size_t i;

	if (!t)
		return;
	if (t->cache) {
		for (i = 0; i < t->cache->n; i++) {
			free(t->cache->v[i].name);
			free(t->cache->v[i].indent);
			unit_free(t->cache->v[i].unit);
		}
		free(t->cache->v);
		free(t->cache);
	}
	if (t->arena) {
		tv_arena_free(t->arena);
		free(t->arena);
	}
	free(t->capv);
	free(t->top);
	free(t->nodes);
	free(t->own);
	free(t->name);
	free(t);
}

/*
 * Compile one unit.  The source is copied when copy is set or when it is
 * indented; otherwise the unit points into it (a partial's source, which
 * the loader keeps alive).
 */
static int
compile_unit(const char *src, size_t len, const char *name, size_t namelen,
	     const char *ind, size_t ilen, bool copy, struct mst **out,
	     struct nl_err *err)
{
	struct parser p;
	struct mst *t;
	int r = -1;

	memset(&p, 0, sizeof p);
	*out = NULL;
	t = calloc(1, sizeof *t);
	if (!t || !(t->name = strndup(name, namelen))) {
		nomem(err);
		goto out;
	}
	if (len > MST_MAX_SOURCE) {
		nl_err_at(err, NL_EDATA, t->name, 0, 0, "template is %zu "
			  "bytes, larger than the limit of %zu bytes (1 MiB)",
			  len, MST_MAX_SOURCE);
		goto out;
	}
	if (ilen) {
		if (indent_source(t->name, src, len, ind, ilen, &t->own, &len,
				  err))
			goto out;
	} else if (copy) {
		t->own = malloc(len + 1);
		if (!t->own) {
			nomem(err);
			goto out;
		}
		if (len)
			memcpy(t->own, src, len);
		t->own[len] = '\0';
	}
	t->src = t->own ? t->own : src;
	p.src = t->src;
	p.len = len;
	p.name = t->name;
	p.icol = ilen;
	p.otag = "{{";
	p.ctag = "}}";
	p.olen = p.clen = 2;
	p.wline = p.wcol = 1;
	p.err = err;
	if (parse(&p))
		goto out;
	t->nodes = p.ns.v;
	t->n = p.ns.n;
	p.ns.v = NULL;
	if (set_top(t)) {
		nomem(err);
		goto out;
	}
	*out = t;
	t = NULL;
	r = 0;
out:
	free(p.ns.v);
	unit_free(t);
	return r;
}

int
mst_compile(const char *src, size_t len, const char *name,
	    mst_partial_fn partial, void *partial_arg, struct mst **out,
	    struct nl_err *err)
{
	struct mst *t = NULL;
	int r;

	if (!name)
		name = "template";
	*out = NULL;
	r = compile_unit(src ? src : "", src ? len : 0, name, strlen(name),
			 NULL, 0, true, &t, err);
	if (r)
		goto out;
	t->partial = partial;
	t->parg = partial_arg;
	t->cache = calloc(1, sizeof *t->cache);
	if (!t->cache) {
		r = nomem(err);
		goto out;
	}
	*out = t;
	t = NULL;
out:
	unit_free(t);
	return r;
}

void
mst_free(struct mst *t)
{
	unit_free(t);
}

/*
 * The unit for partial `name` at indentation `ind`, loading and compiling
 * it on first use.  *unit is NULL when there is no such partial.
 */
static int
get_partial(const struct mst *root, const char *name, size_t namelen,
	    const char *ind, size_t ilen, const struct mst **unit,
	    struct nl_err *err)
{
	struct pcache *c = root->cache;
	struct pentry *e, *v;
	struct mst *u = NULL;
	const char *src = NULL;
	size_t i, len = 0, cap;
	int r;

	*unit = NULL;
	for (i = 0; i < c->n; i++) {
		e = &c->v[i];
		if (e->namelen == namelen && e->ilen == ilen &&
		    memcmp(e->name, name, namelen) == 0 &&
		    (!ilen || memcmp(e->indent, ind, ilen) == 0)) {
			*unit = e->unit;
			return 0;
		}
	}
	r = root->partial ? root->partial(root->parg, name, namelen, &src,
					  &len, err) : 1;
	if (r < 0) {
		if (err && err->kind == NL_OK)
			nl_err_set(err, NL_EINTERNAL, "%s: loading partial "
				   "'%.*s' failed", root->name, SHOW(namelen),
				   name);
		return -1;
	}
	if (r == 0 && compile_unit(src, len, name, namelen, ind, ilen, false,
				   &u, err))
		return -1;
	if (c->n == MAX_PARTIALS) {
		unit_free(u);
		return nl_err_set(err, NL_EDATA, "%s: more than %d partials "
				  "(counting each indentation)", root->name,
				  MAX_PARTIALS);
	}
	if (c->n == c->cap) {
		cap = c->cap ? c->cap * 2 : 8;
		v = realloc(c->v, cap * sizeof *v);
		if (!v)
			goto nomem;
		c->v = v;
		c->cap = cap;
	}
	e = &c->v[c->n];
	memset(e, 0, sizeof *e);
	/* Found by fuzzing: a tag name may hold NUL bytes, and
	 * strndup() would stop there, leaving a name shorter than namelen
	 * for the memcmp() above to read past: copy namelen bytes. */
	e->name = malloc(namelen + 1);
	if (e->name) {
		memcpy(e->name, name, namelen);
		e->name[namelen] = '\0';
	}
	e->indent = strndup(ilen ? ind : "", ilen);
	if (!e->name || !e->indent) {
		free(e->name);
		free(e->indent);
		goto nomem;
	}
	e->namelen = namelen;
	e->ilen = ilen;
	e->unit = u;
	c->n++;
	*unit = u;
	return 0;
nomem:
	unit_free(u);
	return nomem(err);
}

/* ---- rendering ---------------------------------------------------- */

struct rstate {
	const struct mst *root;	/* owner of the partial cache */
	enum mst_escape esc;
	struct buf *out;
	struct nl_err *err;
	size_t depth;
	unsigned partials;	/* partials being expanded */
	unsigned nest;		/* blocks being rendered */
	unsigned long work;	/* nodes visited, against MST_MAX_WORK */
	const struct tv *stack[MST_MAX_STACK];
};

static int __attribute__((format(printf, 4, 5)))
rerr(struct rstate *st, const struct mst *u, const struct node *nd,
     const char *fmt, ...)
{
	char msg[NL_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return nl_err_at(st->err, NL_EDATA, u->name, nd->line, nd->col, "%s",
			 msg);
}

static int
outerr(struct rstate *st)
{
	if (errno == E2BIG)
		return nl_err_set(st->err, NL_ENOMEM, "%s: output larger "
				  "than the limit of %zu bytes",
				  st->root->name, st->out->max);
	return nomem(st->err);
}

static int
rstate_init(struct rstate *st, const struct mst *root,
	    const struct tv *const *stack, size_t depth, enum mst_escape esc,
	    struct buf *out, struct nl_err *err)
{
	st->root = root;
	st->esc = esc;
	st->out = out;
	st->err = err;
	st->partials = 0;
	st->nest = 0;
	st->work = 0;
	if (depth > MST_MAX_STACK)
		return nl_err_set(err, NL_EDATA, "%s: context stack of %zu "
				  "entries is deeper than %d", root->name,
				  depth, MST_MAX_STACK);
	if (depth)
		memcpy(st->stack, stack, depth * sizeof *stack);
	st->depth = depth;
	return 0;
}

static int
push(struct rstate *st, const struct mst *u, const struct node *nd,
     const struct tv *v)
{
	if (st->depth == MST_MAX_STACK)
		return rerr(st, u, nd, "context stack deeper than %d",
			    MST_MAX_STACK);
	st->stack[st->depth++] = v;
	return 0;
}

/* A residual's block may carry the context it was captured in. */
static int
push_captured(struct rstate *st, const struct mst *u, const struct node *nd)
{
	size_t i;

	for (i = 0; i < nd->cn; i++)
		if (push(st, u, nd, u->capv[nd->coff + i]))
			return -1;
	return 0;
}

static int
enter(struct rstate *st, const struct mst *u, const struct node *nd)
{
	if (st->work > MST_MAX_WORK)
		return rerr(st, u, nd, "rendering takes more than %lu steps "
			    "(sections nested over lists multiply their work)",
			    (unsigned long)MST_MAX_WORK);
	if (st->nest >= MST_MAX_STACK)
		return rerr(st, u, nd, "blocks nested deeper than %d",
			    MST_MAX_STACK);
	st->nest++;
	return 0;
}

/* Spec: split on dots, resolve the first part through the stack from the
 * top, each further part only inside the previous result. */
static const struct tv *
lookup(const struct rstate *st, const char *name, size_t len)
{
	const char *end = name + len, *dot;
	const struct tv *v = NULL;
	size_t i, seg;

	if (len == 1 && name[0] == '.')
		return st->depth ? st->stack[st->depth - 1] : NULL;
	dot = memchr(name, '.', len);
	seg = dot ? (size_t)(dot - name) : len;
	for (i = st->depth; i-- > 0;) {
		v = tv_map_get(st->stack[i], name, seg);
		if (v)
			break;
	}
	while (v && dot) {
		name = dot + 1;
		dot = memchr(name, '.', (size_t)(end - name));
		seg = dot ? (size_t)(dot - name) : (size_t)(end - name);
		v = tv_map_get(v, name, seg);
	}
	return v;
}

static int
add_escaped(struct buf *b, const char *s, size_t n)
{
	const char *rep;
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			/* The spec allows more than & " < >; a template that
			 * quotes an attribute with ' must not be broken out
			 * of (HTML 5, 13.1.2.3: single-quoted attributes). */
			rep = "&#39;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		default:
			continue;
		}
		if (buf_add(b, s + run, i - run) || buf_adds(b, rep))
			return -1;
		run = i + 1;
	}
	return buf_add(b, s + run, n - run);
}

/* Interpolate v: strings as they are, booleans as words, the rest as "". */
static int
emit_value(struct rstate *st, const struct tv *v, bool escape)
{
	const char *s;
	size_t n;

	if (!v)
		return 0;
	switch (v->type) {
	case TV_STR:
		s = v->s;
		n = v->slen;
		break;
	case TV_BOOL:
		s = v->b ? "true" : "false";
		n = strlen(s);
		break;
	default:
		return 0;
	}
	if (!n)
		return 0;
	if (escape && st->esc == MST_ESCAPE_HTML)
		return add_escaped(st->out, s, n);
	return buf_add(st->out, s, n);
}

static int render_block(struct rstate *st, const struct mst *u, size_t from,
			size_t to);

static int
render_section(struct rstate *st, const struct mst *u, size_t i)
{
	const struct node *nd = &u->nodes[i];
	const struct tv *v;
	size_t base = st->depth, k;
	int r;

	r = enter(st, u, nd);
	if (r)
		return r;
	r = push_captured(st, u, nd);
	if (r)
		goto out;
	v = lookup(st, u->src + nd->off, nd->len);
	if (nd->kind == N_INVERTED) {
		if (!tv_truthy(v))
			r = render_block(st, u, i + 1, nd->end);
	} else if (v && v->type == TV_LIST) {
		for (k = 0; k < v->n && !r; k++) {
			r = push(st, u, nd, v->items[k]);
			if (!r)
				r = render_block(st, u, i + 1, nd->end);
			st->depth--;
		}
	} else if (tv_truthy(v)) {
		r = push(st, u, nd, v);
		if (!r)
			r = render_block(st, u, i + 1, nd->end);
	}
out:
	st->depth = base;
	st->nest--;
	return r;
}

static int
open_partial(struct rstate *st, const struct mst *u, const struct node *nd,
	     const struct mst **pu)
{
	int r;

	r = get_partial(st->root, u->src + nd->off, nd->len,
			u->src + nd->ioff, nd->ilen, pu, st->err);
	if (r || !*pu)
		return r;
	if (st->partials >= MST_MAX_PARTIAL_DEPTH)
		return rerr(st, u, nd, "partial '%.*s' nested deeper than %d "
			    "(recursive partial?)", SHOW(nd->len),
			    u->src + nd->off, MST_MAX_PARTIAL_DEPTH);
	r = enter(st, u, nd);
	if (r)
		return r;
	st->partials++;
	return 0;
}

static int
render_partial(struct rstate *st, const struct mst *u, const struct node *nd)
{
	const struct mst *pu;
	int r;

	r = open_partial(st, u, nd, &pu);
	if (r || !pu)
		return r;
	r = render_block(st, pu, 0, pu->n);
	st->partials--;
	st->nest--;
	return r;
}

static int
render_block(struct rstate *st, const struct mst *u, size_t from, size_t to)
{
	const struct node *nd;
	size_t i = from;
	int r = 0;

	while (i < to && !r) {
		nd = &u->nodes[i];
		st->work++;
		switch (nd->kind) {
		case N_TEXT:
			if (buf_add(st->out, u->src + nd->off, nd->len))
				r = outerr(st);
			i++;
			break;
		case N_VAR:
		case N_RAW:
			if (emit_value(st, lookup(st, u->src + nd->off,
						  nd->len),
				       nd->kind == N_VAR))
				r = outerr(st);
			i++;
			break;
		case N_SECTION:
		case N_INVERTED:
			r = render_section(st, u, i);
			i = nd->end;
			break;
		case N_PARTIAL:
			r = render_partial(st, u, nd);
			i++;
			break;
		}
	}
	return r;
}

static int
render_range(const struct mst *t, size_t from, size_t to,
	     const struct tv *const *stack, size_t depth,
	     enum mst_escape esc, struct buf *out, struct nl_err *err)
{
	struct rstate st;
	size_t start = out->len;
	int r;

	r = rstate_init(&st, t, stack, depth, esc, out, err);
	if (!r)
		r = render_block(&st, t, from, to);
	if (r)
		buf_setlen(out, start);
	return r;
}

int
mst_render(const struct mst *t, const struct tv *const *stack, size_t depth,
	   enum mst_escape esc, struct buf *out, struct nl_err *err)
{
	return render_range(t, 0, t->n, stack, depth, esc, out, err);
}

size_t
mst_count(const struct mst *t)
{
	return t ? t->ntop : 0;
}

const char *
mst_text(const struct mst *t, size_t i, size_t *len)
{
	const struct node *nd;

	*len = 0;
	if (!t || i >= t->ntop)
		return NULL;
	nd = &t->nodes[t->top[i]];
	if (nd->kind != N_TEXT)
		return NULL;
	*len = nd->len;
	return t->src + nd->off;
}

int
mst_render_item(const struct mst *t, size_t i, const struct tv *const *stack,
		size_t depth, enum mst_escape esc, struct buf *out,
		struct nl_err *err)
{
	if (i >= t->ntop)
		return nl_err_set(err, NL_EINTERNAL, "%s: no item %zu (of "
				  "%zu)", t->name, i, t->ntop);
	return render_range(t, t->top[i], i + 1 < t->ntop ? t->top[i + 1] :
			    t->n, stack, depth, esc, out, err);
}

/* ---- partial evaluation ------------------------------------------- */

struct sstate {
	struct rstate rs;	/* the current context; rs.out is &pool */
	mst_late_fn late;
	struct buf pool;	/* the residual's text and names */
	struct nodes ns;
	const struct tv **capv;
	size_t ncapv, capcap;
	struct tv_arena *arena;
};

/* Where static text goes at one nesting level of the residual: the last
 * node there, when it is text that may still grow. */
struct level {
	size_t last;
	bool has;
};

static int
res_nomem(struct sstate *ss)
{
	return nomem(ss->rs.err);
}

/* Text just appended to the pool at `before` joins the level's text. */
static int
res_merge(struct sstate *ss, struct level *lv, size_t before)
{
	size_t n = ss->pool.len - before;
	struct node *nd;

	if (!n)
		return 0;
	if (lv->has) {
		nd = &ss->ns.v[lv->last];
		if (nd->off + nd->len == before) {
			nd->len += n;
			return 0;
		}
	}
	nd = node_add(&ss->ns);
	if (!nd)
		return res_nomem(ss);
	nd->kind = N_TEXT;
	nd->off = before;
	nd->len = n;
	lv->last = ss->ns.n - 1;
	lv->has = true;
	return 0;
}

static int
res_text(struct sstate *ss, struct level *lv, const char *s, size_t n)
{
	size_t before = ss->pool.len;

	if (buf_add(&ss->pool, s, n))
		return outerr(&ss->rs);
	return res_merge(ss, lv, before);
}

/* Copy tag nd of u into the residual; *k its index there. */
static int
res_tag(struct sstate *ss, struct level *lv, const struct mst *u,
	const struct node *nd, size_t *k)
{
	size_t off = ss->pool.len, ioff;
	struct node *c;

	if (buf_add(&ss->pool, u->src + nd->off, nd->len))
		return outerr(&ss->rs);
	ioff = ss->pool.len;
	if (nd->kind == N_PARTIAL &&
	    buf_add(&ss->pool, u->src + nd->ioff, nd->ilen))
		return outerr(&ss->rs);
	c = node_add(&ss->ns);
	if (!c)
		return res_nomem(ss);
	c->kind = nd->kind;
	c->line = nd->line;
	c->col = nd->col;
	c->off = off;
	c->len = nd->len;
	if (nd->kind == N_PARTIAL) {
		c->ioff = ioff;
		c->ilen = nd->ilen;
	}
	lv->has = false;
	if (k)
		*k = ss->ns.n - 1;
	return 0;
}

static struct tv *
tv_copy(struct tv_arena *a, const struct tv *v, unsigned depth)
{
	struct tv *c;
	size_t i;

	if (depth > MST_MAX_STACK)
		return NULL;
	switch (v->type) {
	case TV_NULL:
		return tv_null(a);
	case TV_BOOL:
		return tv_bool(a, v->b);
	case TV_STR:
		return tv_str(a, v->s, v->slen);
	case TV_LIST:
		c = tv_list(a);
		for (i = 0; c && i < v->n; i++)
			if (tv_list_push(a, c, tv_copy(a, v->items[i],
						       depth + 1)))
				c = NULL;
		return c;
	case TV_MAP:
		c = tv_map(a);
		for (i = 0; c && i < v->n; i++)
			if (tv_map_setn(a, c, v->pairs[i].key,
					v->pairs[i].klen,
					tv_copy(a, v->pairs[i].val,
						depth + 1)))
				c = NULL;
		return c;
	}
	return NULL;
}

/* Keep copies of vals[0..n) as the captured context of residual node k. */
static int
capture(struct sstate *ss, size_t k, const struct tv *const *vals, size_t n)
{
	const struct tv **v;
	size_t i, cap;

	if (!n)
		return 0;
	if (n > MAX_NODES - ss->ncapv)
		return nl_err_set(ss->rs.err, NL_ENOMEM, "%s: too many "
				  "captured contexts", ss->rs.root->name);
	if (!ss->arena) {
		ss->arena = malloc(sizeof *ss->arena);
		if (!ss->arena)
			return res_nomem(ss);
		tv_arena_init(ss->arena, 0);
	}
	if (ss->capcap - ss->ncapv < n) {
		cap = ss->capcap ? ss->capcap : 16;
		while (cap - ss->ncapv < n)
			cap *= 2;
		v = realloc(ss->capv, cap * sizeof *v);
		if (!v)
			return res_nomem(ss);
		ss->capv = v;
		ss->capcap = cap;
	}
	ss->ns.v[k].coff = ss->ncapv;
	ss->ns.v[k].cn = n;
	for (i = 0; i < n; i++) {
		ss->capv[ss->ncapv] = vals[i] ? tv_copy(ss->arena, vals[i], 0)
			: NULL;
		if (vals[i] && !ss->capv[ss->ncapv])
			return nl_err_set(ss->rs.err, NL_ENOMEM, "out of "
					  "memory copying the context of a "
					  "late section");
		ss->ncapv++;
	}
	return 0;
}

/* Copy a block unevaluated: every tag in it stays a tag. */
static int
copy_block(struct sstate *ss, const struct mst *u, size_t from, size_t to,
	   struct level *lv)
{
	const struct node *nd;
	struct level child;
	size_t i = from, k = SIZE_MAX;	/* res_tag() sets it on success */
	int r = 0;

	while (i < to && !r) {
		nd = &u->nodes[i];
		ss->rs.work++;
		switch (nd->kind) {
		case N_TEXT:
			r = res_text(ss, lv, u->src + nd->off, nd->len);
			i++;
			break;
		case N_VAR:
		case N_RAW:
		case N_PARTIAL:
			r = res_tag(ss, lv, u, nd, NULL);
			i++;
			break;
		case N_SECTION:
		case N_INVERTED:
			r = enter(&ss->rs, u, nd);
			if (r)
				break;
			child.has = false;
			r = res_tag(ss, lv, u, nd, &k);
			assert(r || k < ss->ns.n);
			if (!r && nd->cn)
				r = capture(ss, k, u->capv + nd->coff, nd->cn);
			if (!r)
				r = copy_block(ss, u, i + 1, nd->end, &child);
			if (!r)
				ss->ns.v[k].end = ss->ns.n;
			ss->rs.nest--;
			i = nd->end;
			break;
		}
	}
	return r;
}

static bool
is_late(const struct sstate *ss, const struct mst *u, const struct node *nd,
	bool top_late)
{
	const char *name = u->src + nd->off;

	if (nd->len == 1 && name[0] == '.')
		return top_late;
	return ss->late(name, nd->len);
}

static int spec_block(struct sstate *ss, const struct mst *u, size_t from,
		      size_t to, struct level *lv, bool top_late);

static int
spec_section(struct sstate *ss, const struct mst *u, size_t i,
	     struct level *lv, bool top_late)
{
	const struct node *nd = &u->nodes[i];
	struct rstate *st = &ss->rs;
	const struct tv *v;
	/* res_tag() sets k when it succeeds: SIZE_MAX is never an index */
	size_t base = st->depth, k = SIZE_MAX, j;
	struct level child;
	int r;

	r = enter(st, u, nd);
	if (r)
		return r;
	r = push_captured(st, u, nd);
	if (r)
		goto out;
	if (is_late(ss, u, nd, top_late)) {
		child.has = false;
		r = res_tag(ss, lv, u, nd, &k);
		if (r)
			goto out;
		assert(k < ss->ns.n);
		if (nd->kind == N_SECTION &&
		    !memchr(u->src + nd->off, '.', nd->len)) {
			/* May push a map: keep the block as it is, with
			 * the context above the root it would see. */
			r = capture(ss, k, st->stack + 1,
				    st->depth ? st->depth - 1 : 0);
			if (!r)
				r = copy_block(ss, u, i + 1, nd->end, &child);
		} else {
			/* A scalar on top shadows nothing but {{.}}. */
			r = spec_block(ss, u, i + 1, nd->end, &child,
				       nd->kind == N_SECTION || top_late);
		}
		ss->ns.v[k].end = ss->ns.n;
		goto out;
	}
	v = lookup(st, u->src + nd->off, nd->len);
	if (nd->kind == N_INVERTED) {
		if (!tv_truthy(v))
			r = spec_block(ss, u, i + 1, nd->end, lv, top_late);
	} else if (v && v->type == TV_LIST) {
		for (j = 0; j < v->n && !r; j++) {
			r = push(st, u, nd, v->items[j]);
			if (!r)
				r = spec_block(ss, u, i + 1, nd->end, lv,
					       false);
			st->depth--;
		}
	} else if (tv_truthy(v)) {
		r = push(st, u, nd, v);
		if (!r)
			r = spec_block(ss, u, i + 1, nd->end, lv, false);
	}
out:
	st->depth = base;
	st->nest--;
	return r;
}

static int
spec_block(struct sstate *ss, const struct mst *u, size_t from, size_t to,
	   struct level *lv, bool top_late)
{
	const struct mst *pu;
	const struct node *nd;
	size_t i = from, before;
	int r = 0;

	while (i < to && !r) {
		nd = &u->nodes[i];
		ss->rs.work++;
		switch (nd->kind) {
		case N_TEXT:
			r = res_text(ss, lv, u->src + nd->off, nd->len);
			i++;
			break;
		case N_VAR:
		case N_RAW:
			if (is_late(ss, u, nd, top_late)) {
				r = res_tag(ss, lv, u, nd, NULL);
			} else {
				before = ss->pool.len;
				if (emit_value(&ss->rs, lookup(&ss->rs,
							       u->src +
							       nd->off,
							       nd->len),
					       nd->kind == N_VAR))
					r = outerr(&ss->rs);
				else
					r = res_merge(ss, lv, before);
			}
			i++;
			break;
		case N_SECTION:
		case N_INVERTED:
			r = spec_section(ss, u, i, lv, top_late);
			i = nd->end;
			break;
		case N_PARTIAL:
			r = open_partial(&ss->rs, u, nd, &pu);
			if (!r && pu) {
				r = spec_block(ss, pu, 0, pu->n, lv,
					       top_late);
				ss->rs.partials--;
				ss->rs.nest--;
			}
			i++;
			break;
		}
	}
	return r;
}

int
mst_specialize(const struct mst *t, const struct tv *const *stack,
	       size_t depth, enum mst_escape esc, mst_late_fn late,
	       struct mst **residual, struct nl_err *err)
{
	struct sstate *ss;
	struct level lv = { 0, false };
	struct mst *res = NULL;
	int r = -1;

	*residual = NULL;
	/* The state holds a whole context stack: keep it off the C stack. */
	ss = calloc(1, sizeof *ss);
	if (!ss)
		return nomem(err);
	buf_init(&ss->pool, 0);
	ss->late = late;
	if (rstate_init(&ss->rs, t, stack, depth, esc, &ss->pool, err))
		goto out;
	if (spec_block(ss, t, 0, t->n, &lv, false))
		goto out;
	res = calloc(1, sizeof *res);
	if (!res || !(res->name = strdup(t->name)) ||
	    !(res->cache = calloc(1, sizeof *res->cache)) ||
	    !(res->own = buf_detach(&ss->pool, NULL))) {
		nomem(err);
		goto out;
	}
	res->src = res->own;
	res->nodes = ss->ns.v;
	res->n = ss->ns.n;
	ss->ns.v = NULL;
	res->capv = ss->capv;
	res->ncapv = ss->ncapv;
	ss->capv = NULL;
	res->arena = ss->arena;
	ss->arena = NULL;
	res->partial = t->partial;
	res->parg = t->parg;
	if (set_top(res)) {
		nomem(err);
		goto out;
	}
	*residual = res;
	res = NULL;
	r = 0;
out:
	unit_free(res);
	buf_free(&ss->pool);
	free(ss->ns.v);
	free(ss->capv);
	if (ss->arena) {
		tv_arena_free(ss->arena);
		free(ss->arena);
	}
	free(ss);
	return r;
}
