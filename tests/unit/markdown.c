/* Unit tests of compose/markdown.c: HTML, plain text, word count. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compose/markdown.h"
#include "tests/tap.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/utf8.h"

/* The last rendering (freed by the next call). */
static struct md_out R;

/* Links seen by the callback, as "L url|" or "I url|alt|" in order. */
static struct buf seen;

static void
collect(void *arg, const struct md_link *l)
{
	int *calls = arg;

	(*calls)++;
	if (l->is_image)
		buf_printf(&seen, "I %s|%s|", l->url, l->alt);
	else
		buf_printf(&seen, "L %s|", l->url);
}

static int
render(const char *md)
{
	struct nl_err err;
	int r;

	md_out_free(&R);
	r = md_render(md, strlen(md), NULL, NULL, &R, &err);
	if (r)
		diag("md_render: %s", err.msg);
	return r;
}

static const char *
html(const char *md)
{
	return render(md) ? "(error)" : R.html;
}

static const char *
text(const char *md)
{
	return render(md) ? "(error)" : R.text;
}

static long
words(const char *md)
{
	return render(md) ? -1 : (long)R.words;
}

static bool
has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* A named check that shows `got` only when it fails (a rendering holds
 * newlines, which must never reach a TAP test line). */
#define okd(cond, got, ...) \
	do { \
		if (!ok(cond, __VA_ARGS__)) \
			diag("got: %s", (got)); \
	} while (0)

#define okh(cond, name) okd(cond, h, name)

/* Every line of t is at most width code points, or a single word. */
static bool
lines_fit(const char *t, size_t width)
{
	const char *nl;

	for (; (nl = strchr(t, '\n')) != NULL; t = nl + 1) {
		size_t n = (size_t)(nl - t);

		if (n && t[n - 1] == ' ')
			return false;	/* no trailing blanks either */
		if (utf8_length(t, n) > width &&
		    memchr(t, ' ', n) != NULL) {
			/* allowed only as prefix + one word */
			const char *s = t;

			while (*s == ' ' || *s == '>')
				s++;
			if (!strncmp(s, "\xe2\x80\xa2 ", 4))
				s += 4;
			if (memchr(s, ' ', (size_t)(nl - s)))
				return false;
		}
	}
	return *t == '\0';
}

static void
test_html(void)
{
	const char *h;

	is_str(html("Hello"), "<p style=\"margin:0 0 16px 0;\">Hello</p>\n",
	       "paragraph with inline margin");
	is_str(html(""), "", "empty markdown: empty HTML");
	is_str(text(""), "", "empty markdown: empty text");
	is_int(R.text_len, 0, "empty text length");

	h = html("<script>alert(1)</script>\n");
	okh(has(h, "&lt;script&gt;alert(1)&lt;/script&gt;"),
	   "raw HTML block escaped");
	ok(!has(h, "<script"), "no <script> passes through");
	h = html("a <b onclick=\"x()\">b</b> <img src=x onerror=y>");
	okh(has(h, "a &lt;b onclick=&quot;x()&quot;&gt;b&lt;/b&gt; "
	       "&lt;img src=x onerror=y&gt;"), "inline HTML escaped");
	ok(!has(h, "<b") && !has(h, "<img"), "no raw tag passes through");
	h = html("5 > 3 & 2 < 4, \"q\" 'a'");
	okh(has(h, "5 &gt; 3 &amp; 2 &lt; 4, &quot;q&quot; &#39;a&#39;"),
	   "text escaping of & < > \" '");
	ok(has(html("&lt;tag&gt; &amp; &copy;"), "&lt;tag&gt; &amp; \xc2\xa9"),
	   "entities decode, then escape again");

	h = html("- a\n- b\n");
	ok(has(h, "<ul style=\"margin:0 0 16px 0;padding-left:24px;\">"),
	   "ul style");
	ok(has(h, "<li style=\"margin:0 0 8px 0;\">a</li>"),
	   "tight item: li style, no <p>");
	h = html("1. a\n\n2. b\n");
	ok(has(h, "<ol style=\"margin:0 0 16px 0;padding-left:24px;\">"),
	   "ol style");
	ok(has(h, "<li style=\"margin:0 0 8px 0;\"><p style="),
	   "loose item keeps its <p>");
	ok(has(html("4. four\n5. five\n"), "<ol start=\"4\""), "ol start");

	h = html("**b** *i* `c<d`");
	okd(has(h, "<strong>b</strong> <em>i</em> <code style=\""), h,
	    "strong, em, code");
	ok(has(h, "monospace") && has(h, ">c&lt;d</code>"), "code monospace");
	h = html("[t](https://e.com/x \"Ti\")");
	okh(has(h, "<a href=\"https://e.com/x\" title=\"Ti\" "
	       "style=\"color:#1a5fb4;text-decoration:underline;\">t</a>"),
	   "link style");
	is_str(html("### Sub"), "<h3 style=\"font-size:19px;line-height:1.3;"
	       "margin:24px 0 12px 0;\">Sub</h3>\n", "### is a modest h3");
	ok(has(html("# Top"), "<h3 style=\"font-size:21px;"),
	   "# is an h3 too (sub-head inside a story)");
	ok(has(html("#### Four"), "<h4 style="), "#### is an h4");
	ok(has(html("> q"), "<blockquote style=\"") &&
	   has(R.html, "border-left:"), "block quote with a left border");
	ok(has(html("    x < y\n"), "<pre style=\"") &&
	   has(R.html, "monospace") && has(R.html, "<code>x &lt; y\n</code>"),
	   "code block monospace, escaped");
	ok(has(html("***"), "<hr style=\""), "thematic break");
	ok(has(html("a\\\nb"), "a<br>\nb"), "hard break");
	h = html("![Alt \"x\"](https://e.com/i.png)");
	okh(has(h, "<img src=\"https://e.com/i.png\" alt=\"Alt &quot;x&quot;\" "
	       "width=\"560\" style=\"display:block;width:100%;"
	       "max-width:560px;height:auto;border:0;margin:0 0 8px 0;\">"),
	   "inline image");
	ok(has(html("![a *b* `c`](i.png)"), "alt=\"a b c\""),
	   "alt text is flattened, no tags inside");
	ok(!has(html("Text"), "font-family") && !has(R.html, "color:#000"),
	   "no per-paragraph font or colour");
	ok(!has(html("\"Quotes\" -- and..."), "&#8220;") &&
	   has(R.html, "&quot;Quotes&quot; -- and..."),
	   "typography as written (no smart punctuation)");
}

static void
test_urls(void)
{
	const char *h;
	static const char *const bad[] = {
		"[x](javascript:alert(1))",
		"[x](JaVaScRiPt:alert(1))",
		"[x](&#106;avascript:alert(1))",
		"[x](java&#9;script:alert(1))",
		"[x](<java\tscript:alert(1)>)",
		"[x](vbscript:msgbox)",
		"[x](file:///etc/passwd)",
		"[x](data:text/html;base64,PHNjcmlwdD4=)",
		"[x](data:image/png;base64,AAAA)",
		"<javascript:alert(1)>",
	};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		h = html(bad[i]);
		okd(!has(h, "<a ") && !has(h, "href"), h,
		    "dangerous link dropped: %s", bad[i]);
	}
	is_str(html("[click me](javascript:alert(1))"),
	       "<p style=\"margin:0 0 16px 0;\">click me</p>\n",
	       "dropped link keeps its text");
	is_str(text("[click me](javascript:alert(1))"), "click me\n",
	       "plain text: the text alone");
	h = html("![evil](data:image/svg+xml;base64,PHN2Zz4=)");
	okd(!has(h, "<img") && has(h, "evil"), h,
	    "SVG data image dropped");
	h = html("![pic](javascript:x)");
	ok(!has(h, "<img") && has(h, "pic"), "javascript image dropped");
	ok(has(html("![px](data:image/png;base64,iVBORw0KGgo=)"),
	       "<img src=\"data:image/png;base64,iVBORw0KGgo=\""),
	   "a PNG data image is kept");
	ok(has(html("![g](DATA:image/GIF;base64,R0lG)"), "<img src="),
	   "data:image/gif kept, any case");
	ok(has(html("[ok](mailto:a@b.example)"), "href=\"mailto:a@b.example\""),
	   "mailto kept");
	ok(has(html("[rel](/path/x.html)"), "href=\"/path/x.html\""),
	   "relative URL kept");
	ok(has(html("[cid](cid:part1)"), "href=\"cid:part1\""), "cid: kept");

	ok(!md_url_is_safe(" \x01javascript:x", false),
	   "leading controls stripped before the scheme");
	ok(!md_url_is_safe("jav\nascript:x", false), "newline in scheme");
	ok(!md_url_is_safe("data:image/png;base64,x", false),
	   "data: never for links");
	ok(md_url_is_safe("data:image/webp;base64,x", true), "webp image");
	ok(md_url_is_safe("data:image/jpeg,x", true), "jpeg image");
	ok(!md_url_is_safe("data:image/pngx;base64,x", true), "not png");
	ok(md_url_is_safe("https://e.com/javascript:x", false),
	   "javascript: later in the URL is harmless");
	ok(md_url_is_safe("", false), "empty URL is relative");

	h = html("[s](<https://e.com/a b?q=\"x\"&r=>) [l](https://e.com/?a<b>)");
	okh(has(h, "href=\"https://e.com/a%20b?q=%22x%22&amp;r=\"") &&
	   has(h, "href=\"https://e.com/?a%3Cb%3E\""),
	   "space and quote percent-encoded, & escaped");
	ok(has(html("[u](https://e.com/\xc3\xa4)"),
	       "href=\"https://e.com/%C3%A4\""), "UTF-8 percent-encoded");
	ok(has(html("[p](https://e.com/a%20b)"), "href=\"https://e.com/a%20b\""),
	   "existing escapes kept");
	ok(has(html("[q](https://e.com/it's)"), "href=\"https://e.com/it&#39;s\""),
	   "apostrophe HTML-escaped in href");
	ok(has(html("[t](/x \"a\\\"b<\")"), "title=\"a&quot;b&lt;\""),
	   "title escaped");
}

static void
test_callback(void)
{
	struct nl_err err;
	int calls = 0;
	const char *md = "[a](https://e.com/a) ![Alt *x*](i.png) "
			 "[bad](javascript:x) <https://auto.example> "
			 "![](https://e.com/n.png) [![in](in.png)](out.html)";

	buf_init(&seen, 0);
	md_out_free(&R);
	ok(md_render(md, strlen(md), collect, &calls, &R, &err) == 0,
	   "render with a callback");
	is_int(calls, 7, "callback sees every link and image");
	is_str(buf_cstr(&seen),
	       "L https://e.com/a|I i.png|Alt x|L javascript:x|"
	       "L https://auto.example|I https://e.com/n.png||"
	       "I in.png|in|L out.html|", "urls, kinds and alt texts in order");
	buf_free(&seen);
}

static void
test_text(void)
{
	char md[512], url[101];
	const char *t;
	size_t i;

	is_str(text("One.\n\nTwo."), "One.\n\nTwo.\n",
	       "paragraphs separated by a blank line, text ends in newline");
	is_str(text("soft\nbreak"), "soft break\n", "soft break is a space");
	is_str(text("hard\\\nbreak  \nkept"), "hard\nbreak\nkept\n",
	       "hard breaks kept");
	is_str(text("**Why it matters:** *now*"), "Why it matters: now\n",
	       "bold and italic as plain text, no asterisks");
	is_str(text("## Keep Case"), "Keep Case\n", "heading: case kept");
	is_str(text("# Head\nText"), "Head\n\nText\n",
	       "heading is its own paragraph");
	is_str(text("- a\n- b\n"), "\xe2\x80\xa2 a\n\xe2\x80\xa2 b\n",
	       "bullets");
	is_str(text("- a\n  - b\n    - c\n- d\n"),
	       "\xe2\x80\xa2 a\n  \xe2\x80\xa2 b\n    \xe2\x80\xa2 c\n"
	       "\xe2\x80\xa2 d\n", "nested lists: 2 spaces a level");
	is_str(text("3. c\n4. d\n"), "3. c\n4. d\n", "numbered list start");
	is_str(text("1. a\n   - x\n2. b\n"),
	       "1. a\n   \xe2\x80\xa2 x\n2. b\n",
	       "a list nested in a numbered item sits under its text");
	is_str(text("9. a\n10. b\n"), "9.  a\n10. b\n",
	       "numbers padded to one width");
	is_str(text("Intro:\n\n- a\n- b\n\nAfter."),
	       "Intro:\n\n\xe2\x80\xa2 a\n\xe2\x80\xa2 b\n\nAfter.\n",
	       "blank lines around a tight list, none inside");
	is_str(text("- a\n\n- b\n"), "\xe2\x80\xa2 a\n\n\xe2\x80\xa2 b\n",
	       "loose list keeps blank lines");
	t = text("- Item text long enough to be wrapped when it reaches the "
		 "seventy-two column limit, with a hanging indent.");
	is_str(t, "\xe2\x80\xa2 Item text long enough to be wrapped when it "
	       "reaches the seventy-two\n  column limit, with a hanging "
	       "indent.\n", "item wrapped with a hanging indent");
	is_str(text("> quoted\n>\n> two"), "> quoted\n>\n> two\n",
	       "block quote prefix, blank quoted line trimmed");
	is_str(text("    code  line\n\n    more\n"),
	       "    code  line\n\n    more\n", "code block indented 4");
	memset(md, 0, sizeof md);
	memcpy(md, "```\n", 4);
	for (i = 4; i < 104; i++)
		md[i] = (char)('a' + i % 26);
	memcpy(md + 104, "\n```\n", 5);
	t = text(md);
	ok(t[0] == ' ' && strlen(t) == 4 + 100 + 1,
	   "code block lines are never wrapped");
	is_str(text("[Go deeper](https://e.com/1)."),
	       "Go deeper <https://e.com/1>.\n", "link: text <URL>");
	is_str(text("<https://e.com/x>"), "<https://e.com/x>\n",
	       "autolink: just <URL>");
	is_str(text("[https://e.com/y](https://e.com/y)"),
	       "<https://e.com/y>\n", "link whose text is its URL: <URL>");
	is_str(text("Mail <a@b.example> now"), "Mail a@b.example now\n",
	       "mailto autolink: the address");
	is_str(text("![A chart](https://e.com/c.png)"),
	       "[A chart] <https://e.com/c.png>\n", "remote image: [alt] <URL>");
	is_str(text("![](http://e.com/c.png)"), "[image] <http://e.com/c.png>\n",
	       "image without alt: [image]");
	is_str(text("![Local](images/p.png)"), "[Local]\n",
	       "local image: no URL");
	is_str(text("a <b>raw</b> &amp; <!-- c -->"),
	       "a <b>raw</b> & <!-- c -->\n", "raw HTML as literal text");
	is_str(text("<div>\n*x*\n</div>\n"), "<div>\n*x*\n</div>\n",
	       "raw HTML block as literal lines");
	is_str(text("---\n"), "* * *\n", "thematic break");
	is_str(text("Emoji \xf0\x9f\x98\x80 and \xe6\xb2\x88\xe5\xb2\xb3"),
	       "Emoji \xf0\x9f\x98\x80 and \xe6\xb2\x88\xe5\xb2\xb3\n",
	       "UTF-8 passes unchanged");

	/* A 100-character URL in a paragraph: whole, and lines fit. */
	memcpy(url, "https://example.com/", 20);
	for (i = 20; i < 100; i++)
		url[i] = (char)('a' + i % 26);
	url[100] = '\0';
	snprintf(md, sizeof md, "The full study is at [this address](%s), "
		 "which the authors say they will keep up to date for a "
		 "while.", url);
	t = text(md);
	snprintf(md, sizeof md, "\n<%s>", url);
	ok(has(t, md), "a 100-char URL is never broken");
	okd(lines_fit(t, 72), t, "every other line is within 72 columns");
	ok(R.text_len > 0 && R.text[R.text_len - 1] == '\n',
	   "text ends with a newline");
}

static void
test_words(void)
{
	is_int(words("\xe6\xb2\x88\xe5\xb2\xb3"), 1, "沈岳 is one word");
	is_int(words("a \xe2\x80\x94 b \xe2\x80\xa2 c"), 3, "— and • are none");
	is_int(words("1. one\n2. two\n"), 2, "\"1.\" list markers not counted");
	is_int(words("- one\n- two\n"), 2, "bullets not counted");
	is_int(words("[three words here](https://e.com/a/b/c)"), 3,
	       "link URL not counted");
	is_int(words("see <https://e.com/x> now"), 2, "autolink not counted");
	is_int(words("mail <a@b.example> now"), 2, "mailto autolink not counted");
	is_int(words("[https://e.com](https://e.com)"), 0,
	       "link whose text is its URL not counted");
	is_int(words("[e.com](https://e.com)"), 1,
	       "link text differing from URL counts");
	is_int(words("foo**bar**"), 1, "foo**bar** is one word");
	is_int(words("*a*b _c_ d"), 3, "adjacent inline nodes join");
	is_int(words("![many words of alt text](i.png) x"), 1,
	       "an inline image counts no words");
	is_int(words("a <b>bold</b> c"), 3, "raw HTML counts as literal text");
	is_int(words("<div>\n\xe2\x80\x94\n</div>\n"), 2,
	       "raw HTML block: its literal tokens");
	is_int(words("code `x = 1` here"), 4, "code span counts (= is none)");
	is_int(words("    int main\n"), 2, "code block counts");
	is_int(words("# Head\nbody"), 2, "headings count");
	is_int(words("one\\\ntwo"), 2, "hard break separates");
	is_int(words("one\ntwo"), 2, "soft break separates");
	is_int(words("para\n\n- item"), 2, "blocks separate");
	is_int(words("> quoted text"), 2, "quotes count");
	is_int(words("***"), 0, "thematic break is no word");
	is_int(words("**Why it matters:** Now."), 4, "bold lead-in counts");
}

static void
test_errors(void)
{
	struct nl_err err;
	struct md_out o;

	memset(&o, 0xAA, sizeof o);
	ok(md_render("ok \xff", 4, NULL, NULL, &o, &err) == -1,
	   "invalid UTF-8 rejected");
	is_int(err.kind, NL_EDATA, "as a data error");
	ok(has(err.msg, "byte 3"), "message gives the offset: %s", err.msg);
	ok(o.html == NULL && o.text == NULL && o.words == 0,
	   "output zeroed on failure");
	md_out_free(&o);	/* safe on a zeroed md_out */
	ok(md_render("a\0b", 3, NULL, NULL, &o, &err) == 0,
	   "NUL byte is rendered, not a terminator");
	md_out_free(&o);
	ok(o.html == NULL && o.html_len == 0, "md_out_free zeroes");
}

/* n bytes of markdown: a varied block repeated. */
static void
make_big(struct buf *b, size_t n)
{
	static const char block[] =
		"## A section head\n\n"
		"**Why it matters:** a paragraph with [a link](https://e.com/a) "
		"and `code` and *emphasis*, long enough to wrap a few times "
		"across the seventy-two column limit of the plain text part, "
		"with <b>raw</b> HTML too.\n\n"
		"- item one <https://auto.example/x>\n"
		"- item two\n  1. nested\n  2. nested again\n\n"
		"> quoted text\n> more\n\n"
		"    code block\n\n"
		"![img](https://e.com/i.png)\n\n";

	buf_init(b, 0);
	while (b->len + sizeof block - 1 <= n)
		buf_add(b, block, sizeof block - 1);
}

static void
test_linear(void)
{
	struct buf small, big;
	struct md_out o1, o5;
	struct nl_err err;
	clock_t t0, t1, t2;
	double s1, s5;

	make_big(&small, (size_t)1 << 20);
	make_big(&big, (size_t)5 << 20);
	t0 = clock();
	ok(md_render(small.data, small.len, NULL, NULL, &o1, &err) == 0,
	   "1 MB renders");
	t1 = clock();
	ok(md_render(big.data, big.len, NULL, NULL, &o5, &err) == 0,
	   "5 MB renders");
	t2 = clock();
	s1 = (double)(t1 - t0) / CLOCKS_PER_SEC;
	s5 = (double)(t2 - t1) / CLOCKS_PER_SEC;
	diag("1 MB: %.3fs, 5 MB: %.3fs (cpu)", s1, s5);
	/* The content repeats exactly, so the outputs must scale exactly. */
	is_int(o5.words * (small.len / 100), o1.words * (big.len / 100),
	       "words scale with the input (%lu, %lu)", o1.words, o5.words);
	ok(o5.text_len > 4 * o1.text_len && o5.text_len < 6 * o1.text_len,
	   "text size scales linearly");
	/* Loose: linear is ~5x, quadratic 25x; allow noise and slow CI. */
	ok(s5 <= 12 * (s1 > 0.02 ? s1 : 0.02),
	   "5x the input takes well under 25x the time (%.1fx)",
	   s1 > 0 ? s5 / s1 : 0.0);
	md_out_free(&o1);
	md_out_free(&o5);
	buf_free(&small);
	buf_free(&big);
}

int
main(void)
{
	test_html();
	test_urls();
	test_callback();
	test_text();
	test_words();
	test_errors();
	test_linear();
	md_out_free(&R);
	return done_testing();
}
