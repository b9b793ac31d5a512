/* Unit tests of compose/words.c: the spec's word rule and text_wrap(). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "compose/words.h"
#include "tests/tap.h"
#include "util/buf.h"
#include "util/utf8.h"

static unsigned long
wc(const char *s)
{
	return words_count(s, strlen(s));
}

/* Wrap s and return the result (static storage, for is_str). */
static const char *
wrap(const char *s, size_t width, const char *first, const char *rest)
{
	static struct buf b;

	buf_free(&b);
	buf_init(&b, 0);
	if (text_wrap(&b, s, strlen(s), width, first, rest))
		return "(error)";
	return buf_cstr(&b);
}

static void
test_count(void)
{
	is_int(wc(""), 0, "empty: no words");
	is_int(wc("  \t\n "), 0, "white space only: no words");
	is_int(wc("one two  three"), 3, "ASCII words");
	is_int(wc("\xe6\xb2\x88\xe5\xb2\xb3"), 1, "沈岳 is one word");
	is_int(wc("\xe6\xb2\x88\xe5\xb2\xb3 wrote"), 2, "沈岳 wrote: two");
	is_int(wc("\xe2\x80\x94"), 0, "an em dash alone is no word");
	is_int(wc("\xe2\x80\xa2"), 0, "a bullet alone is no word");
	is_int(wc("a \xe2\x80\x94 b \xe2\x80\xa2 c"), 3,
	       "dash and bullet between words are not words");
	is_int(wc("\xe2\x80\x94like\xe2\x80\x94this"), 1,
	       "a dash inside a run does not split it");
	is_int(wc("1."), 1, "\"1.\" as plain text is a word (digit)");
	is_int(wc("don't re-engage, U.S."), 3, "punctuation inside words");
	is_int(wc("... -- !!"), 0, "punctuation alone");
	is_int(wc("Zo\xc3\xab K\xc3\xb3m\xc3\xa1rek"), 2, "Latin-1 letters");
	is_int(wc("e\xcc\x81t\xc3\xa9"), 1, "combining accent stays in word");
	is_int(wc("a\xc2\xa0" "b"), 2, "no-break space separates (Unicode)");
	is_int(wc("a\xe3\x80\x80" "b"), 2, "ideographic space separates");
	is_int(wc("a\xe2\x80\xa8" "b"), 2, "line separator separates");
	is_int(wc("\xef\xbc\x91\xef\xbc\x92"), 1, "full-width digits are a word");
	is_int(wc("\xff\xfe"), 0, "invalid bytes are not letters");
	is_int(wc("a\xff" "b"), 1, "invalid byte inside a word joins it");
	is_int(words_count("a b", 1), 1, "length is honoured");
	is_int(words_count("ab\0cd", 5), 1, "NUL is not a space");
}

/*
 * The greedy wrap's properties, checked line by line against the input:
 * the words come out in order and unbroken; a line passes the width only
 * when it holds a single word; and the first word of each line would not
 * have fitted on the line before (greedy: no line ends early).
 */
static bool
wrap_props(const char *in, const char *out, size_t width, const char *first,
	   const char *rest, char *why, size_t whylen)
{
	const char *p = out, *w = in, *nl, *pfx;
	size_t line = 0, cols, prev_cols = 0, wlen, k;
	bool ok_all = true;

	while (*p) {
		nl = strchr(p, '\n');
		if (!nl) {
			snprintf(why, whylen, "last line lacks a newline");
			return false;
		}
		pfx = line ? rest : first;
		if (strncmp(p, pfx, strlen(pfx))) {
			snprintf(why, whylen, "line %zu lacks its prefix", line);
			return false;
		}
		cols = utf8_length(p, (size_t)(nl - p));
		k = strcspn(p + strlen(pfx), " \n");
		if (cols > width && p + strlen(pfx) + k != nl) {
			snprintf(why, whylen, "line %zu too long with >1 word",
				 line);
			return false;
		}
		/* Words of this line against the input's next words. */
		for (const char *q = p + strlen(pfx); q < nl;) {
			size_t gap = strspn(w, " ");

			w += gap;
			while (q < nl && *q == ' ')
				q++;
			wlen = strcspn(q, " \n");
			if (q >= nl)
				break;
			if (strncmp(q, w, wlen) || (w[wlen] && w[wlen] != ' ')) {
				snprintf(why, whylen, "word changed on line %zu",
					 line);
				return false;
			}
			/* The gap as written would have joined it on. */
			if (line && q == p + strlen(pfx) &&
			    prev_cols + gap + utf8_length(q, wlen) <= width) {
				snprintf(why, whylen, "line %zu's first word "
					 "fitted on the line before", line);
				return false;
			}
			q += wlen;
			w += wlen;
		}
		prev_cols = cols;
		line++;
		p = nl + 1;
	}
	while (*w == ' ')
		w++;
	if (*w) {
		snprintf(why, whylen, "words lost from \"%.20s\"", w);
		ok_all = false;
	}
	return ok_all;
}

static void
test_wrap(void)
{
	char url[128], text[512], why[128];
	struct buf big, b;
	unsigned long seed = 12345;
	size_t i, j, nwords;
	int bad;

	is_str(wrap("short line", 72, "", ""), "short line\n", "short line");
	is_str(wrap("", 72, "", ""), "\n", "empty gives one empty line");
	is_str(wrap("", 72, "\xe2\x80\xa2 ", "  "), "\xe2\x80\xa2\n",
	       "empty with a marker: marker, no trailing space");
	is_str(wrap("  lead and trail  ", 72, "", ""), "lead and trail\n",
	       "leading and trailing spaces dropped");
	is_str(wrap("two  spaces kept", 72, "", ""), "two  spaces kept\n",
	       "spaces between words on a line kept as written");
	is_str(wrap("aaa bbb   ccc", 7, "", ""), "aaa bbb\nccc\n",
	       "the run of spaces at a break is dropped");
	is_str(wrap("aaa bbb ccc", 7, "", ""), "aaa bbb\nccc\n",
	       "a line of exactly the width stays");
	is_str(wrap("aaa bbbb ccc", 7, "", ""), "aaa\nbbbb\nccc\n",
	       "one column over breaks");
	is_str(wrap("one two three four", 9, "\xe2\x80\xa2 ", "  "),
	       "\xe2\x80\xa2 one two\n  three\n  four\n",
	       "hanging indent; the prefix counts to the width");
	is_str(wrap("quoted words here", 10, "> ", "> "),
	       "> quoted\n> words\n> here\n", "quote prefix on every line");
	is_str(wrap("a supercalifragilistic b", 10, "", ""),
	       "a\nsupercalifragilistic\nb\n", "a long word stands alone");
	is_str(wrap("line one\nline two", 72, "1. ", "   "),
	       "1. line one\n   line two\n", "newline is a hard break");
	is_str(wrap("x\n\ny", 72, "> ", "> "), "> x\n>\n> y\n",
	       "an empty segment keeps its prefix, trimmed");
	is_str(wrap("aa\xc2\xa0" "bb cc", 5, "", ""), "aa\xc2\xa0" "bb\ncc\n",
	       "never breaks at a no-break space");

	/* Columns are code points: 72 two-byte letters fit one line. */
	buf_init(&big, 0);
	for (i = 0; i < 36; i++)
		buf_adds(&big, "\xc3\xa9");
	buf_adds(&big, " ");
	for (i = 0; i < 35; i++)
		buf_adds(&big, "\xc3\xa9");
	{
		const char *w = wrap(buf_cstr(&big), 72, "", "");

		is_int(strchr(w, '\n') - w, (long)big.len,
		       "72 code points (144 bytes) stay on one line");
	}
	buf_free(&big);

	/* A 100-character URL is never broken. */
	memset(url, 0, sizeof url);
	memcpy(url, "<https://example.com/", 21);
	for (i = 21; i < 99; i++)
		url[i] = (char)('a' + i % 26);
	url[99] = '>';
	is_int(strlen(url), 100, "the URL is 100 characters");
	snprintf(text, sizeof text, "Read the whole report %s before "
		 "tomorrow's meeting, please.", url);
	{
		const char *w = wrap(text, 72, "", "");
		char line[160];

		snprintf(line, sizeof line, "\n%s\n", url);
		ok(strstr(w, line) != NULL, "the URL stands whole on its line");
		int good;

		why[0] = '\0';
		good = wrap_props(text, w, 72, "", "", why, sizeof why);
		ok(good, "URL paragraph keeps the wrap properties (%s)", why);
	}

	/* Properties on pseudo-random paragraphs, many widths. */
	bad = 0;
	for (i = 0; i < 300 && !bad; i++) {
		char para[2048], *q = para;
		size_t width = 8 + i % 80;

		nwords = 1 + (seed >> 3) % 60;
		for (j = 0; j < nwords && q < para + sizeof para - 40; j++) {
			size_t len, k;

			seed = seed * 6364136223846793005UL + 1442695040888963407UL;
			len = 1 + (seed >> 33) % (j % 17 == 3 ? 30 : 9);
			for (k = 0; k < len; k++)
				*q++ = (char)('a' + (seed >> (k % 40)) % 26);
			*q++ = ' ';
			if ((seed >> 20) % 7 == 0)
				*q++ = ' ';
		}
		*q = '\0';
		if (!wrap_props(para, wrap(para, width, "\xe2\x80\xa2 ", "  "),
				width, "\xe2\x80\xa2 ", "  ", why, sizeof why)) {
			diag("width %zu: %s", width, why);
			bad = 1;
		}
	}
	ok(!bad, "300 random paragraphs wrap greedily, words intact");

	/* The buffer's cap is an error, not a crash or an overrun. */
	buf_init(&b, 8);
	errno = 0;
	ok(text_wrap(&b, "far too long for the cap", 24, 72, "", "") == -1 &&
	   errno == E2BIG, "output cap reached: -1, E2BIG");
	ok(b.len <= 8, "nothing past the cap");
	buf_free(&b);
	wrap("", 1, "", "");	/* leave the static buffer small */
}

int
main(void)
{
	test_count();
	test_wrap();
	return done_testing();
}
