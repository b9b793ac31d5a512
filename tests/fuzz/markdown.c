/*
 * Fuzz target "markdown": compose/markdown.h md_render() (cmark, then our
 * own HTML, text and word-count walks) on any bytes.
 * Properties (markdown.h, "Safety rules"): invalid UTF-8 is NL_EDATA; on
 * success the HTML and the text are valid UTF-8; the HTML holds no
 * "<script" in any case, and every '<' in it opens or closes one of the
 * tags the renderer writes itself (so no raw tag of the input got through
 * unescaped), with only the attributes it writes, each value quoted and
 * holding no '<', '>' or '"'; every href/src is one md_url_is_safe()
 * accepts; the text is empty or ends with a line break; the link callback
 * sees only NUL-terminated strings.
 */
#include "tests/fuzz/fuzz.h"

#include <ctype.h>

#include "compose/markdown.h"
#include "util/buf.h"
#include "util/utf8.h"

static const char *const md_fuzz_tags[] = {
	"p", "br", "code", "img", "h3", "h4", "h5", "h6", "blockquote",
	"ol", "ul", "li", "pre", "hr", "em", "strong", "a",
};
static const char *const md_fuzz_attrs[] = {
	"style", "href", "src", "alt", "title", "width", "start",
};

static int
md_fuzz_in(const char *const *set, size_t n, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(set[i]) == len && memcmp(set[i], s, len) == 0)
			return 1;
	return 0;
}

/* The URL an attribute value means: HTML entities the renderer writes
 * (&amp; &lt; &gt; &quot; &#39;) decoded. */
static void
md_fuzz_unescape(const char *s, size_t n, struct buf *out)
{
	static const struct { const char *e; char c; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&#39;", '\'' }, { "&#x27;", '\'' },
	};
	size_t i, k;

	buf_reset(out);
	for (i = 0; i < n; i++) {
		for (k = 0; k < sizeof ents / sizeof *ents; k++) {
			size_t el = strlen(ents[k].e);

			if (n - i >= el && memcmp(s + i, ents[k].e, el) == 0)
				break;
		}
		if (k < sizeof ents / sizeof *ents) {
			buf_addc(out, ents[k].c);
			i += strlen(ents[k].e) - 1;
		} else {
			buf_addc(out, s[i]);
		}
	}
}

static void
md_fuzz_html(const char *h, size_t n)
{
	const char *p = h, *end = h + n, *q, *name;
	struct buf url;
	size_t i;

	for (i = 0; i + 7 <= n; i++)
		FUZZ_CHECK(strncasecmp(h + i, "<script", 7) != 0,
			   "<script in the HTML");
	buf_init(&url, 0);
	while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		int closing = 0, is_img = 0;

		p++;
		if (p < end && *p == '/') {
			closing = 1;
			p++;
		}
		for (name = p; p < end && isalnum((unsigned char)*p); p++)
			;
		FUZZ_CHECK(md_fuzz_in(md_fuzz_tags, sizeof md_fuzz_tags /
				      sizeof *md_fuzz_tags, name,
				      (size_t)(p - name)),
			   "tag not ours: <%.*s", (int)(p - name + 10 < end -
			   name ? p - name + 10 : end - name), name - closing);
		is_img = p - name == 3 && memcmp(name, "img", 3) == 0;
		/* attributes: ( ' ' NAME '="' VALUE '"' )* '>' */
		for (;;) {
			FUZZ_CHECK(p < end, "unterminated tag");
			if (*p == '>')
				break;
			FUZZ_CHECK(*p == ' ' && !closing, "junk in a tag: %.20s",
				   p);
			for (q = ++p; p < end && (isalnum((unsigned char)*p) ||
						  *p == '-'); p++)
				;
			FUZZ_CHECK(md_fuzz_in(md_fuzz_attrs, sizeof md_fuzz_attrs
					      / sizeof *md_fuzz_attrs, q,
					      (size_t)(p - q)),
				   "attribute not ours: %.20s", q);
			FUZZ_CHECK(end - p >= 2 && p[0] == '=' && p[1] == '"',
				   "attribute without a quoted value");
			name = q;
			q = p + 2;
			p = memchr(q, '"', (size_t)(end - q));
			FUZZ_CHECK(p, "unterminated attribute value");
			FUZZ_CHECK(!memchr(q, '<', (size_t)(p - q)) &&
				   !memchr(q, '>', (size_t)(p - q)),
				   "'<' or '>' in an attribute value");
			if ((strncmp(name, "href=", 5) == 0) ||
			    (strncmp(name, "src=", 4) == 0)) {
				md_fuzz_unescape(q, (size_t)(p - q), &url);
				FUZZ_CHECK(md_url_is_safe(buf_cstr(&url), is_img),
					   "unsafe URL kept: %s",
					   buf_cstr(&url));
				for (i = 0; i < url.len; i++)
					FUZZ_CHECK((unsigned char)url.data[i] >
						   0x20 && (unsigned char)
						   url.data[i] < 0x7f,
						   "URL octet 0x%02x not "
						   "percent-encoded",
						   (unsigned char)url.data[i]);
			}
			p++;
		}
	}
	buf_free(&url);
}

static void
md_fuzz_link(void *arg, const struct md_link *l)
{
	(void)arg;
	FUZZ_CHECK(l->url && l->alt, "NULL in a link");
	(void)strlen(l->url);
	(void)strlen(l->alt);
}

FUZZ_TARGET(markdown)
{
	const char *s = (const char *)data;
	struct md_out o;
	struct nl_err err;
	size_t bad = utf8_invalid_offset(s, size);

	if (size > 256 * 1024)
		return 0;
	if (md_render(s, size, md_fuzz_link, NULL, &o, &err)) {
		FUZZ_CHECK(!o.html && !o.text, "failure left output");
		FUZZ_CHECK((bad < size && err.kind == NL_EDATA) ||
			   err.kind == NL_ENOMEM, "md_render failed with %s "
			   "(%s) on %s input", nl_errkind_name(err.kind),
			   err.msg, bad < size ? "invalid" : "valid");
		return 0;
	}
	FUZZ_CHECK(bad == size, "invalid UTF-8 at %zu accepted", bad);
	FUZZ_CHECK(o.html && o.text, "NULL output");
	FUZZ_CHECK(strlen(o.html) == o.html_len && strlen(o.text) == o.text_len,
		   "length or NUL in the output");
	FUZZ_CHECK(utf8_invalid_offset(o.html, o.html_len) == o.html_len,
		   "HTML not UTF-8");
	FUZZ_CHECK(utf8_invalid_offset(o.text, o.text_len) == o.text_len,
		   "text not UTF-8");
	FUZZ_CHECK(o.text_len == 0 || o.text[o.text_len - 1] == '\n',
		   "text does not end with a line break");
	md_fuzz_html(o.html, o.html_len);
	md_out_free(&o);
	return 0;
}
