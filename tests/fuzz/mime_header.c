/*
 * Fuzz target "mime_header": mime/header.h RFC 2047 phrases (display
 * names, List-Id) and unstructured text (Subject), decoded back by
 * libetpan's mailmime_encoded_phrase_parse() as tests/unit/mime_header.c
 * does.
 *
 * Input: one control byte (low 2 bits: 0 phrase, 1 quoted phrase,
 * 2 and 3 unstructured; bit 2: the longer field name of each kind that
 * nlsend writes), then the text.  The
 * text must be what header.h's callers guarantee (valid UTF-8, no CR, LF
 * or NUL); other text only checks hdr_has_breaks().
 * Properties: the field is written (or fails with EOVERFLOW, header.h's
 * 998-octet guard, when the text holds a run of over 900 spaces); every line ends in CRLF, continuation
 * lines start with a space, no line passes 78 octets (plus the length of
 * runs of spaces the text holds, which are kept as they are); every encoded-word
 * is "=?UTF-8?Q|B?...?=", at most 75 characters and decodes alone to
 * valid UTF-8; unfolded and decoded (a quoted-string unquoted), the value
 * is the text again, up to runs of white space, which libetpan's decoder
 * collapses, and white space at the ends.
 */
#include "tests/fuzz/fuzz.h"

#include <libetpan/libetpan.h>

#include "mime/header.h"
#include "util/buf.h"
#include "util/utf8.h"

static char *
hdr_fuzz_decode(const char *v, size_t n)
{
	size_t idx = 0;
	char *res = NULL;

	if (mailmime_encoded_phrase_parse("utf-8", v, n, &idx, "utf-8",
					  &res) != MAILIMF_NO_ERROR)
		return NULL;
	return res;
}

/* Runs of space and tab as one space, none at the ends. */
static void
hdr_fuzz_squeeze(const char *s, size_t n, struct buf *out)
{
	size_t i;
	int sp = 0;

	buf_reset(out);
	for (i = 0; i < n; i++) {
		if (s[i] == ' ' || s[i] == '\t') {
			sp = 1;
			continue;
		}
		if (sp && out->len)
			buf_addc(out, ' ');
		sp = 0;
		buf_addc(out, s[i]);
	}
	buf_cstr(out);
}

static void
hdr_fuzz_lint(const char *f, size_t n)
{
	const char *p = f, *e, *w, *we, *end = f + n;
	char *dec;

	while (p < end) {
		const char *q;
		size_t excess = 0;

		e = strstr(p, "\r\n");
		FUZZ_CHECK(e, "no CRLF at the end");
		/* Runs of spaces are the text's own and travel as they are
		 * between words (a fold goes before a run, never inside
		 * one), so a line may pass 78 by their length. */
		const char *run_end = NULL;

		for (q = p + 1; q < e; q++) {
			if (q[0] == ' ' && q[-1] == ' ') {
				excess++;
				run_end = q + 1;
			}
		}
		/* A run that leaves no room on the line for even a short
		 * encoded-word (12 octets of frame, 12 of text) makes the
		 * line as long as it must be; hdr_put()'s 998 guard bounds
		 * it. */
		if (run_end && run_end - p + 24 > HDR_LINE_SOFT)
			excess = HDR_LINE_HARD;
		/* A plain word longer than a line cannot be folded: header.h
		 * folds only at white space (RFC 5322 2.2.3); the hard limit
		 * is 998.  Encoded-words are always cut to fit. */
		q = p == f ? (const char *)memchr(p, ':', (size_t)(e - p)) + 1 : p;
		while (q < e && *q == ' ')
			q++;
		if (!memmem(p, (size_t)(e - p), "=?", 2) &&
		    !memchr(q, ' ', (size_t)(e - q)))
			excess = HDR_LINE_HARD;
		FUZZ_CHECK((size_t)(e - p) <= HDR_LINE_SOFT + excess,
			   "line of %d octets:\n%s", (int)(e - p), f);
		FUZZ_CHECK(!e[2] || e[2] == ' ',
			   "continuation line without leading space");
		p = e + 2;
	}
	for (w = f; (w = strstr(w, "=?")) != NULL; w = we) {
		FUZZ_CHECK(strncmp(w, "=?UTF-8?Q?", 10) == 0 ||
			   strncmp(w, "=?UTF-8?B?", 10) == 0,
			   "malformed encoded-word:\n%s", f);
		we = strstr(w + 10, "?=");
		FUZZ_CHECK(we, "unterminated encoded-word");
		we += 2;
		FUZZ_CHECK(we - w <= 75, "encoded-word longer than 75");
		dec = hdr_fuzz_decode(w, (size_t)(we - w));
		FUZZ_CHECK(dec && utf8_invalid_offset(dec, strlen(dec)) ==
			   strlen(dec), "encoded-word splits a UTF-8 sequence "
			   "or does not decode: %.*s", (int)(we - w), w);
		free(dec);
	}
}

FUZZ_TARGET(mime_header)
{
	const char *s = (const char *)data + 1;
	const char *name;
	size_t n, i;
	struct buf b, u, x, y;
	struct hdr h;
	unsigned mode;
	char *dec;
	int r;

	if (size < 1 || size > 4096)
		return 0;
	n = size - 1;
	mode = data[0] & 3;
	name = mode >= 2 ? "Subject" : data[0] & 4 ? "Reply-To" : "To";
	if (utf8_invalid_offset(s, n) != n ||
	    fuzz_has_byte(s, n, '\r') || fuzz_has_byte(s, n, '\n') ||
	    fuzz_has_byte(s, n, '\0')) {
		FUZZ_CHECK(utf8_invalid_offset(s, n) != n ||
			   hdr_has_breaks(s, n), "hdr_has_breaks missed one");
		return 0;
	}
	FUZZ_CHECK(!hdr_has_breaks(s, n), "hdr_has_breaks on clean text");
	buf_init(&b, 0);
	buf_init(&u, 0);
	buf_init(&x, 0);
	buf_init(&y, 0);
	r = hdr_begin(&h, &b, name);
	if (!r)
		r = mode >= 2 ? hdr_unstructured(&h, s, n) :
		    hdr_phrase(&h, s, n, mode == 1);
	if (!r)
		r = hdr_end(&h);
	if (r && errno == EOVERFLOW) {
		/* header.h: a line never passes 998 octets, hdr_put() fails
		 * instead; only a run of spaces (kept whole, never folded
		 * inside) can make one, and message.c turns it into
		 * NL_EDATA "header line too long". */
		size_t run = 0, longest = 0;

		for (i = 0; i < n; i++) {
			run = s[i] == ' ' ? run + 1 : 0;
			longest = run > longest ? run : longest;
		}
		FUZZ_CHECK(longest > 900, "EOVERFLOW without a long run of "
			   "spaces");
		goto out;
	}
	FUZZ_CHECK(r == 0, "writing failed (errno %d)", errno);
	hdr_fuzz_lint(buf_cstr(&b), b.len);
	/* unfold: drop each CRLF (RFC 5322 2.2.3) */
	for (i = strlen(name) + 2; i < b.len; i++) {
		if (b.data[i] == '\r' && b.data[i + 1] == '\n') {
			i++;
			continue;
		}
		buf_addc(&u, b.data[i]);
	}
	buf_cstr(&u);
	if (mode < 2 && u.len >= 2 && u.data[0] == '"') {
		/* a quoted-string: libetpan leaves it quoted */
		FUZZ_CHECK(u.data[u.len - 1] == '"', "unclosed quoted-string");
		for (i = 1; i + 1 < u.len; i++) {
			if (u.data[i] == '\\')
				i++;
			buf_addc(&x, u.data[i]);
		}
		FUZZ_CHECK(x.len == n && (n == 0 || memcmp(x.data, s, n) == 0),
			   "quoted-string unquotes to something else:\n%s",
			   buf_cstr(&b));
		goto out;
	}
	dec = hdr_fuzz_decode(buf_cstr(&u), u.len);
	FUZZ_CHECK(dec || u.len == 0, "libetpan cannot decode:\n%s",
		   buf_cstr(&b));
	hdr_fuzz_squeeze(dec ? dec : "", dec ? strlen(dec) : 0, &x);
	hdr_fuzz_squeeze(s, n, &y);
	FUZZ_CHECK(x.len == y.len && memcmp(buf_cstr(&x), buf_cstr(&y),
					    x.len) == 0,
		   "decodes to something else:\n%s\n--- decoded: '%s'\n"
		   "--- want:    '%s'", buf_cstr(&b), buf_cstr(&x),
		   buf_cstr(&y));
	free(dec);
out:
	buf_free(&b);
	buf_free(&u);
	buf_free(&x);
	buf_free(&y);
	return 0;
}
