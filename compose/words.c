#include "compose/words.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "util/utf8.h"

unsigned long
words_count(const char *s, size_t n)
{
	unsigned long words = 0;
	bool in_word = false, alnum = false;
	size_t i = 0;
	uint32_t cp;

	while (i < n) {
		i += utf8_decode(s + i, n - i, &cp);
		if (uc_is_space(cp)) {
			if (in_word && alnum)
				words++;
			in_word = alnum = false;
			continue;
		}
		in_word = true;
		if (!alnum && uc_is_alnum(cp))
			alnum = true;
	}
	if (in_word && alnum)
		words++;
	return words;
}

/* Close the line begun at line_start: a line that holds only its prefix
 * loses the prefix's trailing spaces (no "• " or ">  " with a dangling
 * blank, which some clients show and diff tools flag). */
static int
end_line(struct buf *out, size_t line_start, bool has_word)
{
	size_t len = out->len;

	if (!has_word) {
		while (len > line_start && out->data[len - 1] == ' ')
			len--;
		if (out->data)
			buf_setlen(out, len);
	}
	return buf_addc(out, '\n');
}

/* One hard-break-free segment; see text_wrap(). */
static int
wrap_segment(struct buf *out, const char *s, size_t n, size_t width,
	     const char *first, const char *rest)
{
	size_t i = 0, sp, w, wlen, col, line_start, rest_cols;
	bool has_word = false;

	rest_cols = utf8_length(rest, strlen(rest));
	line_start = out->len;
	if (buf_adds(out, first))
		return -1;
	col = utf8_length(first, strlen(first));
	while (i < n) {
		sp = i;
		while (i < n && s[i] == ' ')
			i++;
		if (i == n)
			break;
		w = i;
		while (i < n && s[i] != ' ')
			i++;
		wlen = utf8_length(s + w, i - w);
		if (!has_word) {
			/* Leading spaces go: they are not between words. */
		} else if (col + (w - sp) + wlen <= width) {
			if (buf_add(out, s + sp, w - sp))
				return -1;
			col += w - sp;
		} else {
			if (end_line(out, line_start, true))
				return -1;
			line_start = out->len;
			if (buf_adds(out, rest))
				return -1;
			col = rest_cols;
		}
		if (buf_add(out, s + w, i - w))
			return -1;
		col += wlen;
		has_word = true;
	}
	return end_line(out, line_start, has_word);
}

int
text_wrap(struct buf *out, const char *s, size_t n, size_t width,
	  const char *first, const char *rest)
{
	const char *nl;
	size_t i = 0, e;

	for (;;) {
		nl = i < n ? memchr(s + i, '\n', n - i) : NULL;
		e = nl ? (size_t)(nl - s) : n;
		if (wrap_segment(out, s + i, e - i, width, first, rest))
			return -1;
		if (!nl)
			return 0;
		i = e + 1;
		first = rest;
	}
}
