#include "compose/markdown.h"

#include <cmark.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/words.h"
#include "util/buf.h"
#include "util/url.h"
#include "util/utf8.h"

#define TEXT_WIDTH 72
#define BULLET "\xe2\x80\xa2 "	/* U+2022 and a space: two columns */

/* ------------------------------------------------------------------ */
/* URLs                                                               */

bool
md_url_is_safe(const char *url, bool is_image)
{
	return url_is_safe(url, is_image);
}

static int
add_hex(struct buf *b, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3] = { '%', hex[c >> 4], hex[c & 15] };

	return buf_add(b, e, 3);
}

/*
 * A URL for an href or src attribute: bytes RFC 3986 (section 2) allows
 * as they are stay (including '%', assumed to start an escape the author
 * wrote), everything else is percent-encoded as UTF-8 octets (RFC 3987
 * section 3.1), then & and ' are HTML-escaped (" < > are encoded above).
 */
static int
put_url_attr(struct buf *b, const char *url)
{
	const unsigned char *u;
	int r = 0;

	for (u = (const unsigned char *)url; *u && !r; u++) {
		if (*u == '&')
			r = buf_adds(b, "&amp;");
		else if (*u == '\'')
			r = buf_adds(b, "&#39;");
		else if ((*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z') ||
			 (*u >= '0' && *u <= '9') ||
			 strchr("-._~:/?#[]@!$()*+,;=%", *u))
			r = buf_addc(b, (char)*u);
		else
			r = add_hex(b, *u);
	}
	return r;
}

/* A URL for the plain text: readable (UTF-8 kept), but never holding a
 * space (so wrapping cannot break it) nor a '>' that would end "<URL>". */
static int
put_url_text(struct buf *b, const char *url)
{
	const unsigned char *u;
	int r = 0;

	for (u = (const unsigned char *)url; *u && !r; u++) {
		if (*u <= 0x20 || *u == 0x7F || *u == '<' || *u == '>')
			r = add_hex(b, *u);
		else
			r = buf_addc(b, (char)*u);
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* HTML                                                               */

static int
put_esc(struct buf *b, const char *s, size_t n)
{
	size_t i, from = 0;
	const char *rep;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		if (buf_add(b, s + from, i - from) || buf_adds(b, rep))
			return -1;
		from = i + 1;
	}
	return buf_add(b, s + from, n - from);
}

static int
put_esc_s(struct buf *b, const char *s)
{
	return put_esc(b, s, strlen(s));
}

/* Escaped text with each newline shown as a line break (raw HTML blocks
 * keep their lines when shown as text); the last newline is dropped. */
static int
put_esc_lines(struct buf *b, const char *s)
{
	size_t n = strlen(s), i = 0, e;
	const char *nl;

	while (n && s[n - 1] == '\n')
		n--;
	for (;;) {
		nl = i < n ? memchr(s + i, '\n', n - i) : NULL;
		e = nl ? (size_t)(nl - s) : n;
		if (put_esc(b, s + i, e - i))
			return -1;
		if (!nl)
			return 0;
		if (buf_adds(b, "<br>\n"))
			return -1;
		i = e + 1;
	}
}

#define P_OPEN "<p style=\"margin:0 0 16px 0;\">"
#define MONO "font-family:Consolas,Menlo,Courier,monospace;"

static const char *
heading_style(int level)
{
	/* Sub-heads inside a story: modest, falling by level. */
	static const char *const style[] = {
		"font-size:21px;line-height:1.3;margin:24px 0 12px 0;",
		"font-size:20px;line-height:1.3;margin:24px 0 12px 0;",
		"font-size:19px;line-height:1.3;margin:24px 0 12px 0;",
		"font-size:17px;line-height:1.3;margin:20px 0 10px 0;",
		"font-size:16px;line-height:1.3;margin:16px 0 8px 0;",
		"font-size:15px;line-height:1.3;margin:16px 0 8px 0;",
	};

	if (level < 1)
		level = 1;
	if (level > 6)
		level = 6;
	return style[level - 1];
}

static bool
in_tight_list(cmark_node *para)
{
	cmark_node *item = cmark_node_parent(para);
	cmark_node *list = item ? cmark_node_parent(item) : NULL;

	return list && cmark_node_get_type(item) == CMARK_NODE_ITEM &&
	       cmark_node_get_type(list) == CMARK_NODE_LIST &&
	       cmark_node_get_list_tight(list);
}

static int
put_title(struct buf *b, cmark_node *n)
{
	const char *t = cmark_node_get_title(n);

	if (!t || !*t)
		return 0;
	if (buf_adds(b, " title=\"") || put_esc_s(b, t) || buf_addc(b, '"'))
		return -1;
	return 0;
}

/* Text, code spans, raw inline HTML (escaped: nlsend-issue(5)) and
 * breaks; inside an image's alt text, no tags. */
static int
html_leaf(struct buf *b, cmark_node *n, unsigned long alt)
{
	const char *lit = cmark_node_get_literal(n);

	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_CODE:
		if (alt)
			return put_esc_s(b, lit);
		return buf_adds(b, "<code style=\"" MONO "font-size:0.9em;"
				"background-color:#f3f4f6;"
				"padding:1px 4px;\">") ||
		       put_esc_s(b, lit) || buf_adds(b, "</code>");
	case CMARK_NODE_SOFTBREAK:
		return buf_adds(b, alt ? " " : "\n");
	case CMARK_NODE_LINEBREAK:
		return buf_adds(b, alt ? " " : "<br>\n");
	default:	/* text, inline HTML */
		return put_esc_s(b, lit);
	}
}

/* An image: nested images add to the alt text only; one whose URL is
 * unsafe shows its alt text, outside any tag. */
static int
html_image(struct buf *b, cmark_node *n, bool enter, unsigned long *alt)
{
	if (enter && (*alt)++)
		return 0;
	if (!enter && --*alt)
		return 0;
	if (!md_url_is_safe(cmark_node_get_url(n), true))
		return 0;
	if (enter)
		return buf_adds(b, "<img src=\"") ||
		       put_url_attr(b, cmark_node_get_url(n)) ||
		       buf_adds(b, "\" alt=\"");
	return buf_addc(b, '"') || put_title(b, n) ||
	       buf_adds(b, " width=\"560\" style=\"display:block;"
			"width:100%;max-width:560px;height:auto;"
			"border:0;margin:0 0 8px 0;\">");
}

static int
html_list(struct buf *b, cmark_node *n, bool enter)
{
	bool ordered = cmark_node_get_list_type(n) == CMARK_ORDERED_LIST;
	cmark_node *p = cmark_node_parent(n);
	bool nested = p && cmark_node_get_type(p) == CMARK_NODE_ITEM;
	int start = cmark_node_get_list_start(n);

	if (!enter)
		return buf_adds(b, ordered ? "</ol>\n" : "</ul>\n");
	if (buf_adds(b, ordered ? "<ol" : "<ul") ||
	    (ordered && start != 1 && buf_printf(b, " start=\"%d\"", start)))
		return -1;
	/* A nested list sits close under its item's text. */
	return buf_adds(b, nested ? " style=\"margin:8px 0 0 0;"
			"padding-left:24px;\">\n"
			: " style=\"margin:0 0 16px 0;padding-left:24px;\">\n");
}

static int
html_link(struct buf *b, cmark_node *n, bool enter)
{
	if (!md_url_is_safe(cmark_node_get_url(n), false))
		return 0;	/* the text alone, no link */
	if (!enter)
		return buf_adds(b, "</a>");
	return buf_adds(b, "<a href=\"") ||
	       put_url_attr(b, cmark_node_get_url(n)) ||
	       buf_addc(b, '"') || put_title(b, n) ||
	       buf_adds(b, " style=\"color:#1a5fb4;"
			"text-decoration:underline;\">");
}

static int
html_heading(struct buf *b, cmark_node *n, bool enter)
{
	int level = cmark_node_get_heading_level(n);

	if (!enter)
		return buf_printf(b, "</h%d>\n", level < 3 ? 3 : level);
	return buf_printf(b, "<h%d style=\"%s\">", level < 3 ? 3 : level,
			  heading_style(level));
}

/* Blocks and the inline containers, outside any image. */
static int
html_container(struct buf *b, cmark_node *n, bool enter)
{
	const char *lit = cmark_node_get_literal(n);

	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_PARAGRAPH:
		if (in_tight_list(n))
			return 0;
		return buf_adds(b, enter ? P_OPEN : "</p>\n");
	case CMARK_NODE_HEADING:
		return html_heading(b, n, enter);
	case CMARK_NODE_BLOCK_QUOTE:
		if (!enter)
			return buf_adds(b, "</blockquote>\n");
		return buf_adds(b, "<blockquote style=\"margin:0 0 16px 0;"
				"padding:0 0 0 16px;border-left:3px solid "
				"#d0d7de;color:#555555;\">\n");
	case CMARK_NODE_LIST:
		return html_list(b, n, enter);
	case CMARK_NODE_ITEM:
		return buf_adds(b, enter ? "<li style=\"margin:0 0 8px 0;\">"
				: "</li>\n");
	case CMARK_NODE_CODE_BLOCK:
		return buf_adds(b, "<pre style=\"margin:0 0 16px 0;"
				"padding:12px;background-color:#f3f4f6;" MONO
				"font-size:14px;"
				"line-height:1.45;white-space:pre-wrap;"
				"word-wrap:break-word;\"><code>") ||
		       put_esc_s(b, lit) || buf_adds(b, "</code></pre>\n");
	case CMARK_NODE_HTML_BLOCK:
		return buf_adds(b, P_OPEN) || put_esc_lines(b, lit) ||
		       buf_adds(b, "</p>\n");
	case CMARK_NODE_THEMATIC_BREAK:
		return buf_adds(b, "<hr style=\"border:0;border-top:1px solid "
				"#d0d7de;margin:24px 0;\">\n");
	case CMARK_NODE_EMPH:
		return buf_adds(b, enter ? "<em>" : "</em>");
	case CMARK_NODE_STRONG:
		return buf_adds(b, enter ? "<strong>" : "</strong>");
	case CMARK_NODE_LINK:
		return html_link(b, n, enter);
	default:
		/* document, custom nodes (never parsed from markdown) */
		return 0;
	}
}

/*
 * Inside an image (alt > 0) everything is the alt attribute's text: no
 * tags, breaks as spaces, as cmark's own renderer does.
 */
static int
html_node(struct buf *b, cmark_node *n, bool enter, unsigned long *alt)
{
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_TEXT:
	case CMARK_NODE_CODE:
	case CMARK_NODE_HTML_INLINE:
	case CMARK_NODE_SOFTBREAK:
	case CMARK_NODE_LINEBREAK:
		return html_leaf(b, n, *alt);
	case CMARK_NODE_IMAGE:
		return html_image(b, n, enter, alt);
	default:
		return *alt ? 0 : html_container(b, n, enter);
	}
}

static int
render_html(cmark_node *doc, struct buf *b)
{
	cmark_iter *it = cmark_iter_new(doc);
	cmark_event_type ev;
	unsigned long alt = 0;
	int r = 0;

	if (!it)
		return -1;
	while (!r && (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE)
		r = html_node(b, cmark_iter_get_node(it),
			      ev == CMARK_EVENT_ENTER, &alt);
	cmark_iter_free(it);
	return r;
}

/* ------------------------------------------------------------------ */
/* Plain text                                                         */

/*
 * Containers open around the current block.  A quote or item is "fresh"
 * until its first line is out: that line carries the item's marker, and
 * a blank line before it does not carry its prefix.  seq is the number of
 * leaf blocks out when the container opened: a container holds the
 * previous leaf iff seq < tstate.leaf_seq, which decides the separator.
 */
enum fkind { F_QUOTE, F_LIST, F_ITEM };

struct frame {
	enum fkind kind;
	bool fresh;
	bool tight, ordered;		/* lists */
	char delim;			/* lists: '.' or ')' */
	unsigned long long next;	/* lists: the next item's number */
	size_t width;			/* lists: marker columns */
	unsigned long seq;
	char marker[40];		/* items: first-line marker */
	size_t mcols;			/* items: its columns (the indent) */
};

struct tstate {
	struct buf *out;
	struct buf para;	/* the current leaf's inline text */
	struct buf first, rest;	/* its line prefixes */
	struct buf scratch;
	struct buf frames;	/* struct frame[], capped like any buffer */
	unsigned long leaf_seq;
	unsigned long img_depth;
	md_link_fn cb;
	void *cb_arg;
};

static size_t
nframes(const struct tstate *t)
{
	return t->frames.len / sizeof(struct frame);
}

static struct frame *
frame_at(struct tstate *t, size_t i)
{
	return (struct frame *)(void *)t->frames.data + i;
}

static int
push_frame(struct tstate *t, const struct frame *f)
{
	return buf_add(&t->frames, f, sizeof *f);
}

static void
pop_frame(struct tstate *t)
{
	buf_setlen(&t->frames, t->frames.len - sizeof(struct frame));
}

static int
add_spaces(struct buf *b, size_t n)
{
	while (n--)
		if (buf_addc(b, ' '))
			return -1;
	return 0;
}

static void
rtrim_to(struct buf *b, size_t floor)
{
	size_t len = b->len;

	while (len > floor && b->data[len - 1] == ' ')
		len--;
	if (b->data)
		buf_setlen(b, len);
}

/*
 * Before a leaf block: the separator, then this leaf's prefixes in
 * t->first and t->rest.  Blocks are separated by a blank line unless the
 * innermost quote or list holding both this block and the previous one is
 * a tight list (CommonMark 5.3: a tight list has no blank lines between
 * its blocks, so its plain text has none either).
 */
static int
begin_leaf(struct tstate *t)
{
	size_t n = nframes(t), i, start;
	struct frame *f;
	bool blank = t->out->len > 0;

	for (i = n; blank && i-- > 0;) {
		f = frame_at(t, i);
		if (f->kind == F_ITEM || f->seq >= t->leaf_seq)
			continue;
		blank = !(f->kind == F_LIST && f->tight);
		break;
	}
	if (blank) {
		start = t->out->len;
		for (i = 0; i < n; i++) {
			f = frame_at(t, i);
			if (f->kind == F_LIST)
				continue;
			if (f->fresh)
				break;
			if (f->kind == F_QUOTE ? buf_adds(t->out, "> ")
			    : add_spaces(t->out, f->mcols))
				return -1;
		}
		rtrim_to(t->out, start);
		if (buf_addc(t->out, '\n'))
			return -1;
	}
	buf_reset(&t->first);
	buf_reset(&t->rest);
	if (buf_adds(&t->first, "") || buf_adds(&t->rest, ""))
		return -1;
	for (i = 0; i < n; i++) {
		f = frame_at(t, i);
		if (f->kind == F_QUOTE) {
			if (buf_adds(&t->first, "> ") ||
			    buf_adds(&t->rest, "> "))
				return -1;
		} else if (f->kind == F_ITEM) {
			if ((f->fresh ? buf_adds(&t->first, f->marker)
			     : add_spaces(&t->first, f->mcols)) ||
			    add_spaces(&t->rest, f->mcols))
				return -1;
		}
		f->fresh = false;
	}
	t->leaf_seq++;
	return 0;
}

static int
wrap_leaf(struct tstate *t, const char *s, size_t n)
{
	if (begin_leaf(t))
		return -1;
	return text_wrap(t->out, s, n, TEXT_WIDTH, t->first.data, t->rest.data);
}

/* Code: every line as written, indented 4 (CommonMark's indented code). */
static int
code_leaf(struct tstate *t, const char *lit)
{
	size_t n = strlen(lit), i = 0, e, start;
	const char *nl;
	bool firstline = true;

	if (begin_leaf(t))
		return -1;
	do {
		nl = i < n ? memchr(lit + i, '\n', n - i) : NULL;
		e = nl ? (size_t)(nl - lit) : n;
		if (e == n && i == n && !firstline)
			break;		/* the newline that ends the block */
		start = t->out->len;
		if (buf_adds(t->out, firstline ? t->first.data
			     : t->rest.data) ||
		    buf_adds(t->out, "    ") || buf_add(t->out, lit + i, e - i))
			return -1;
		if (e == i)
			rtrim_to(t->out, start);
		if (buf_addc(t->out, '\n'))
			return -1;
		firstline = false;
		i = e + 1;
	} while (nl);
	return 0;
}

static int
add_inline_lit(struct buf *b, const char *s)
{
	size_t n = strlen(s), i, from = 0;

	/* Raw inline HTML may span lines: one space, as a browser shows. */
	for (i = 0; i < n; i++) {
		if (s[i] != '\n')
			continue;
		if (buf_add(b, s + from, i - from) || buf_addc(b, ' '))
			return -1;
		from = i + 1;
	}
	return buf_add(b, s + from, n - from);
}

static void
set_mark(cmark_node *n, size_t off)
{
	cmark_node_set_user_data(n, (void *)(uintptr_t)off);
}

static size_t
get_mark(cmark_node *n)
{
	return (size_t)(uintptr_t)cmark_node_get_user_data(n);
}

static int
end_link(struct tstate *t, cmark_node *n)
{
	const char *url = cmark_node_get_url(n);
	size_t start = get_mark(n), tlen = t->para.len - start;
	const char *text = buf_cstr(&t->para) + start;

	if (t->cb) {
		struct md_link l = { url, false, "" };

		t->cb(t->cb_arg, &l);
	}
	if (t->img_depth || !md_url_is_safe(url, false))
		return 0;
	if (tlen == 0 || (tlen == strlen(url) && !memcmp(text, url, tlen))) {
		buf_setlen(&t->para, start);	/* an autolink: "<URL>" */
		return buf_addc(&t->para, '<') || put_url_text(&t->para, url) ||
		       buf_addc(&t->para, '>');
	}
	if (!strncmp(url, "mailto:", 7) && !strcmp(text, url + 7))
		return 0;		/* a mail autolink: the address */
	return buf_adds(&t->para, " <") || put_url_text(&t->para, url) ||
	       buf_addc(&t->para, '>');
}

static int
end_image(struct tstate *t, cmark_node *n)
{
	const char *url = cmark_node_get_url(n);
	size_t start = get_mark(n);
	const char *alt = buf_cstr(&t->para) + start;

	if (t->cb) {
		struct md_link l = { url, true, alt };

		t->cb(t->cb_arg, &l);
	}
	if (--t->img_depth)
		return 0;	/* an image inside an alt is just its text */
	buf_reset(&t->scratch);
	if (buf_addc(&t->scratch, '[') ||
	    buf_adds(&t->scratch, *alt ? alt : "image") ||
	    buf_addc(&t->scratch, ']'))
		return -1;
	if ((url_prefix_ci(url, "http://") || url_prefix_ci(url, "https://")) &&
	    (buf_adds(&t->scratch, " <") || put_url_text(&t->scratch, url) ||
	     buf_addc(&t->scratch, '>')))
		return -1;
	buf_setlen(&t->para, start);
	return buf_add(&t->para, t->scratch.data, t->scratch.len);
}

static unsigned
digits(unsigned long long v)
{
	unsigned d = 1;

	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

static int
enter_list(struct tstate *t, cmark_node *n)
{
	struct frame f;
	unsigned long long items = 0;
	cmark_node *c;
	int start;

	memset(&f, 0, sizeof f);
	f.kind = F_LIST;
	f.tight = cmark_node_get_list_tight(n);
	f.ordered = cmark_node_get_list_type(n) == CMARK_ORDERED_LIST;
	f.delim = cmark_node_get_list_delim(n) == CMARK_PAREN_DELIM ? ')' : '.';
	f.seq = t->leaf_seq;
	start = cmark_node_get_list_start(n);
	f.next = start > 0 ? (unsigned long long)start : 0;
	f.width = 2;
	if (f.ordered) {
		for (c = cmark_node_first_child(n); c; c = cmark_node_next(c))
			items++;
		/* One width for the list, so item texts align. */
		f.width = digits(f.next + (items ? items - 1 : 0)) + 2;
	}
	return push_frame(t, &f);
}

static int
enter_item(struct tstate *t)
{
	struct frame f, *list;
	size_t len;

	memset(&f, 0, sizeof f);
	f.kind = F_ITEM;
	f.fresh = true;
	f.seq = t->leaf_seq;
	if (!nframes(t) || (list = frame_at(t, nframes(t) - 1))->kind != F_LIST)
		return -1;	/* cmark never makes an item outside a list */
	f.mcols = list->width;
	if (!list->ordered) {
		memcpy(f.marker, BULLET, sizeof BULLET);
	} else {
		snprintf(f.marker, sizeof f.marker, "%llu%c", list->next++,
			 list->delim);
		len = strlen(f.marker);
		while (len < list->width && len + 1 < sizeof f.marker)
			f.marker[len++] = ' ';
		f.marker[len] = '\0';
	}
	return push_frame(t, &f);
}

static int
enter_quote(struct tstate *t)
{
	struct frame f;

	memset(&f, 0, sizeof f);
	f.kind = F_QUOTE;
	f.fresh = true;
	f.seq = t->leaf_seq;
	f.mcols = 2;
	return push_frame(t, &f);
}

/* Leaving a quote or item that printed nothing: its marker alone. */
static int
leave_container(struct tstate *t)
{
	struct frame *f = frame_at(t, nframes(t) - 1);
	int r = 0;

	if (f->fresh)
		r = wrap_leaf(t, "", 0);
	pop_frame(t);
	return r;
}

static int
text_node(struct tstate *t, cmark_node *n, bool enter)
{
	const char *lit = cmark_node_get_literal(n);

	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_PARAGRAPH:
	case CMARK_NODE_HEADING:
		if (enter) {
			buf_reset(&t->para);
			return 0;
		}
		return wrap_leaf(t, buf_cstr(&t->para), t->para.len);
	case CMARK_NODE_CODE_BLOCK:
		return code_leaf(t, lit);
	case CMARK_NODE_HTML_BLOCK: {
		/* Literal text, its lines kept (as hard breaks) but wrapped. */
		size_t len = strlen(lit);

		while (len && lit[len - 1] == '\n')
			len--;
		return wrap_leaf(t, lit, len);
	}
	case CMARK_NODE_THEMATIC_BREAK:
		return wrap_leaf(t, "* * *", 5);
	case CMARK_NODE_BLOCK_QUOTE:
		return enter ? enter_quote(t) : leave_container(t);
	case CMARK_NODE_LIST:
		if (enter)
			return enter_list(t, n);
		pop_frame(t);
		return 0;
	case CMARK_NODE_ITEM:
		return enter ? enter_item(t) : leave_container(t);
	case CMARK_NODE_TEXT:
	case CMARK_NODE_CODE:
		return buf_adds(&t->para, lit);
	case CMARK_NODE_HTML_INLINE:
		return add_inline_lit(&t->para, lit);
	case CMARK_NODE_SOFTBREAK:
		return buf_addc(&t->para, ' ');
	case CMARK_NODE_LINEBREAK:
		/* text_wrap() takes '\n' as a hard break; an alt has none. */
		return buf_addc(&t->para, t->img_depth ? ' ' : '\n');
	case CMARK_NODE_LINK:
		if (enter) {
			set_mark(n, t->para.len);
			return 0;
		}
		return end_link(t, n);
	case CMARK_NODE_IMAGE:
		if (enter) {
			set_mark(n, t->para.len);
			t->img_depth++;
			return 0;
		}
		return end_image(t, n);
	default:
		/* document, emphasis, strong: no mark in plain text */
		return 0;
	}
}

static int
render_text(cmark_node *doc, md_link_fn cb, void *cb_arg, struct buf *out)
{
	struct tstate t;
	cmark_iter *it;
	cmark_event_type ev;
	int r = -1;

	memset(&t, 0, sizeof t);
	t.out = out;
	t.cb = cb;
	t.cb_arg = cb_arg;
	buf_init(&t.para, 0);
	buf_init(&t.first, 0);
	buf_init(&t.rest, 0);
	buf_init(&t.scratch, 0);
	buf_init(&t.frames, 0);
	it = cmark_iter_new(doc);
	if (!it) {
		errno = ENOMEM;
		goto out;
	}
	r = 0;
	while (!r && (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE)
		r = text_node(&t, cmark_iter_get_node(it),
			      ev == CMARK_EVENT_ENTER);
	cmark_iter_free(it);
out:
	buf_free(&t.para);
	buf_free(&t.first);
	buf_free(&t.rest);
	buf_free(&t.scratch);
	buf_free(&t.frames);
	return r;
}

/* ------------------------------------------------------------------ */
/* Words                                                              */

/*
 * Only reading text goes into b, a leaf at a time: block boundaries flush
 * it (so blocks never join), inline nodes append (so "foo**bar**" joins).
 */
static int
count_words(cmark_node *doc, unsigned long *words)
{
	cmark_iter *it = cmark_iter_new(doc);
	cmark_event_type ev;
	cmark_node *n;
	const char *url, *text;
	size_t start, tlen;
	struct buf b;
	int r = 0;

	if (!it) {
		errno = ENOMEM;
		return -1;
	}
	buf_init(&b, 0);
	*words = 0;
	while (!r && (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		n = cmark_iter_get_node(it);
		switch (cmark_node_get_type(n)) {
		case CMARK_NODE_TEXT:
		case CMARK_NODE_CODE:
		case CMARK_NODE_HTML_INLINE:
			r = buf_adds(&b, cmark_node_get_literal(n));
			break;
		case CMARK_NODE_SOFTBREAK:
		case CMARK_NODE_LINEBREAK:
			r = buf_addc(&b, ' ');
			break;
		case CMARK_NODE_EMPH:
		case CMARK_NODE_STRONG:
			break;
		case CMARK_NODE_IMAGE:
			/* nlsend-issue(5): an inline image counts no words. */
			cmark_iter_reset(it, n, CMARK_EVENT_EXIT);
			break;
		case CMARK_NODE_LINK:
			if (ev == CMARK_EVENT_ENTER) {
				set_mark(n, b.len);
				break;
			}
			/* An autolink's text is its URL: not words. */
			url = cmark_node_get_url(n);
			start = get_mark(n);
			text = buf_cstr(&b) + start;
			tlen = b.len - start;
			if ((tlen == strlen(url) && !memcmp(text, url, tlen)) ||
			    (!strncmp(url, "mailto:", 7) &&
			     !strcmp(text, url + 7)))
				buf_setlen(&b, start);
			break;
		case CMARK_NODE_CODE_BLOCK:
		case CMARK_NODE_HTML_BLOCK:
			*words += words_count(b.data, b.len);
			buf_reset(&b);
			url = cmark_node_get_literal(n);
			*words += words_count(url, strlen(url));
			break;
		default:	/* a block boundary */
			*words += words_count(b.data, b.len);
			buf_reset(&b);
			break;
		}
	}
	cmark_iter_free(it);
	buf_free(&b);
	return r;
}

/* ------------------------------------------------------------------ */

int
md_render(const char *src, size_t len, md_link_fn cb, void *cb_arg,
	  struct md_out *out, struct nl_err *err)
{
	cmark_node *doc = NULL;
	struct buf html, text;
	size_t bad;
	int r = -1;

	memset(out, 0, sizeof *out);
	buf_init(&html, 0);
	buf_init(&text, 0);
	bad = utf8_invalid_offset(src, len);
	if (bad != len) {
		nl_err_set(err, NL_EDATA,
			   "markdown is not valid UTF-8 (byte %zu)", bad);
		goto out;
	}
	errno = ENOMEM;
	doc = cmark_parse_document(src, len, CMARK_OPT_DEFAULT);
	if (!doc || render_html(doc, &html) ||
	    render_text(doc, cb, cb_arg, &text) ||
	    count_words(doc, &out->words))
		goto nomem;
	/* Storage before detaching: buf_detach() of a never-used buffer
	 * returns memory it has not terminated (util/buf.c). */
	if (buf_adds(&html, "") || buf_adds(&text, ""))
		goto nomem;
	out->html = buf_detach(&html, &out->html_len);
	out->text = buf_detach(&text, &out->text_len);
	if (!out->html || !out->text)
		goto nomem;
	r = 0;
	goto out;
nomem:
	if (errno == E2BIG)
		nl_err_set(err, NL_ENOMEM,
			   "rendered markdown exceeds %zu bytes", html.max);
	else
		nl_err_set(err, NL_ENOMEM, "out of memory rendering markdown");
	md_out_free(out);
out:
	if (doc)
		cmark_node_free(doc);
	buf_free(&html);
	buf_free(&text);
	return r;
}

void
md_out_free(struct md_out *o)
{
	free(o->html);
	free(o->text);
	memset(o, 0, sizeof *o);
}
