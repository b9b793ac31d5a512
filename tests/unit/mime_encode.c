/*
 * Unit tests of mime/encode.h: quoted-printable chunks and base64, decoded
 * by libetpan (mailmime_quoted_printable_body_parse,
 * mailmime_base64_body_parse) as the independent judge, plus a check of
 * every wire rule line by line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "mime/encode.h"
#include "tests/tap.h"
#include "util/buf.h"

/* xorshift: reproducible random tests (the seed is printed). */
static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* libetpan's decoding of a QP body, into out (reset first). */
static int
qp_decode(const char *s, size_t n, struct buf *out)
{
	size_t idx = 0, rl = 0;
	char *res = NULL;
	int r;

	buf_reset(out);
	r = mailmime_quoted_printable_body_parse(s, n, &idx, &res, &rl, 0);
	if (r != MAILIMF_NO_ERROR)
		return -1;
	r = buf_add(out, res, rl);
	mmap_string_unref(res);
	return r;
}

static int
b64_decode(const char *s, size_t n, struct buf *out)
{
	size_t idx = 0, rl = 0;
	char *res = NULL;
	int r;

	buf_reset(out);
	r = mailmime_base64_body_parse(s, n, &idx, &res, &rl);
	if (r != MAILIMF_NO_ERROR)
		return -1;
	r = buf_add(out, res, rl);
	mmap_string_unref(res);
	return r;
}

/* The text with its line breaks (LF, CRLF) as CRLF: what decoding gives. */
static void
canon(const char *s, size_t n, struct buf *out)
{
	size_t i;

	buf_reset(out);
	for (i = 0; i < n; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			buf_addc(out, '\r');
		buf_addc(out, s[i]);
	}
}

static int
ishex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/*
 * Every rule of RFC 2045 6.7 we promise, on the encoded text: CRLF line
 * ends only, lines <= 76, '=' only as =XX or a soft break, printable ASCII
 * only, no space or tab before CRLF, no line starting with "." or "From ".
 * Returns NULL when fine, else what is wrong.
 */
static const char *
qp_lint(const char *s, size_t n)
{
	size_t i = 0, ls, le;

	if (n && (n < 2 || s[n - 2] != '\r' || s[n - 1] != '\n'))
		return "does not end in CRLF";
	while (i < n) {
		ls = i;
		while (i < n && s[i] != '\r' && s[i] != '\n')
			i++;
		le = i;
		if (i + 1 >= n || s[i] != '\r' || s[i + 1] != '\n')
			return "bare CR or LF";
		i += 2;
		if (le - ls > QP_LINE_MAX)
			return "line longer than 76";
		if (le > ls && (s[le - 1] == ' ' || s[le - 1] == '\t'))
			return "space or tab before a line break";
		if (le > ls && s[ls] == '.')
			return "line starts with '.'";
		if (le - ls >= 5 && memcmp(s + ls, "From ", 5) == 0)
			return "line starts with 'From '";
		for (size_t k = ls; k < le; k++) {
			unsigned char c = (unsigned char)s[k];

			if (c == '=') {
				if (k + 1 == le)
					continue;	/* soft break */
				if (k + 2 >= le || !ishex(s[k + 1]) ||
				    !ishex(s[k + 2]))
					return "'=' not followed by hex";
				k += 2;
			} else if ((c < 0x20 && c != '\t') || c > 0x7e) {
				return "octet outside printable ASCII";
			}
		}
	}
	return NULL;
}

static const char *
qp(const char *s, struct buf *b)
{
	buf_reset(b);
	if (qp_encode_chunk(b, s, strlen(s)))
		return "(error)";
	return buf_cstr(b);
}

/* Encode s whole and check lint, decoding, and the length function. */
static void
qp_roundtrip(const char *name, const char *s, size_t n)
{
	struct buf e, d, c;
	const char *lint;

	buf_init(&e, 0);
	buf_init(&d, 0);
	buf_init(&c, 0);
	ok(qp_encode_chunk(&e, s, n) == 0, "%s: encodes", name);
	lint = qp_lint(e.data, e.len);
	ok(!lint, "%s: wire rules (%s)", name, lint ? lint : "ok");
	is_int(qp_encoded_len(s, n), e.len, "%s: predicted length", name);
	canon(s, n, &c);
	ok(qp_decode(e.data, e.len, &d) == 0 && d.len == c.len &&
	   memcmp(d.data ? d.data : "", c.data ? c.data : "", c.len) == 0,
	   "%s: libetpan decodes it back", name);
	buf_free(&e);
	buf_free(&d);
	buf_free(&c);
}

static void
test_qp_cases(void)
{
	char l76[80], l77[80], l75s[80], buf[400];
	struct buf b;

	buf_init(&b, 0);
	is_str(qp("a=b\n", &b), "a=3Db\r\n", "'=' is encoded");
	is_str(qp("abc", &b), "abc=\r\n", "chunk without LF ends soft");
	is_str(qp("", &b), "", "empty chunk is empty");
	is_str(qp("\n", &b), "\r\n", "lone LF is a hard break");
	is_str(qp("x \ny\t\n", &b), "x=20\r\ny=09\r\n",
	       "trailing space and tab before a break are encoded");
	is_str(qp("x \t y", &b), "x \t y=\r\n",
	       "inner and chunk-final space stay (a soft break follows)");
	is_str(qp("From here\n", &b), "=46rom here\r\n", "From at start");
	is_str(qp("a\nFrom b", &b), "a\r\n=46rom b=\r\n",
	       "From at a later line start");
	is_str(qp("Fromage\nFrom\n", &b), "Fromage\r\nFrom\r\n",
	       "Fromage and From without space stay");
	is_str(qp(".\n..x\n", &b), "=2E\r\n=2E.x\r\n", "'.' at line start");
	is_str(qp("a\r\nb\n", &b), "a\r\nb\r\n", "CRLF is one hard break");
	is_str(qp("a\rb\n", &b), "a=0Db\r\n", "lone CR is data");
	is_str(qp("\xf0\x9f\x98\x80\n", &b), "=F0=9F=98=80\r\n",
	       "4-byte UTF-8 encoded octet by octet");
	is_str(qp("caf\xc3\xa9 \n", &b), "caf=C3=A9=20\r\n", "UTF-8 + space");

	memset(l76, 'x', 76);
	memcpy(l76 + 76, "\n", 2);
	snprintf(buf, sizeof buf, "%.76s\r\n", l76);
	is_str(qp(l76, &b), buf, "a line of exactly 76 stays whole");
	memset(l77, 'x', 77);
	memcpy(l77 + 77, "\n", 2);
	snprintf(buf, sizeof buf, "%.75s=\r\nxx\r\n", l77);
	is_str(qp(l77, &b), buf, "77 octets: soft break after 75");
	memset(l75s, 'x', 75);
	memcpy(l75s + 75, " \n", 3);
	snprintf(buf, sizeof buf, "%.75s=\r\n=20\r\n", l75s);
	is_str(qp(l75s, &b), buf,
	       "75 + trailing space: =20 does not fit, wraps first");
	memset(l75s, 'x', 73);
	memcpy(l75s + 73, " \n", 3);
	snprintf(buf, sizeof buf, "%.73s=20\r\n", l75s);
	is_str(qp(l75s, &b), buf, "73 + =20 makes exactly 76");
	/* An escape is never split by a soft break. */
	memset(l75s, 'x', 74);
	memcpy(l75s + 74, "=\n", 3);
	snprintf(buf, sizeof buf, "%.74s=\r\n=3D\r\n", l75s);
	is_str(qp(l75s, &b), buf, "escape moved whole to the next line");
	/* A wrap that would put "From " or "." at a line start. */
	memset(buf, 'x', 75);
	memcpy(buf + 75, "From me\n", 9);
	qp(buf, &b);
	ok(strstr(b.data, "=\r\n=46rom me\r\n") != NULL,
	   "From after a soft break is encoded");
	memset(buf, 'x', 75);
	memcpy(buf + 75, ".x\n", 4);
	qp(buf, &b);
	ok(strstr(b.data, "=\r\n=2Ex\r\n") != NULL,
	   "'.' after a soft break is encoded");
	buf_free(&b);

	qp_roundtrip("76", l76, strlen(l76));
	qp_roundtrip("77", l77, strlen(l77));
	{
		static const char mixed[] = "From x\n.\n= =\t\n\xf0\x9f"
			"\x98\x80\xe6\xb2\x88 \r\n\tend";

		qp_roundtrip("mixed", mixed, sizeof mixed - 1);
	}
}

/* Random texts cut into random chunks: concatenated encodings decode to
 * the text.  Chunks never separate the CR and LF of a CRLF (message.h). */
static void
test_qp_random(void)
{
	static const char *const atoms[] = {
		"a", "b", "x", "From ", "From", ".", " ", "\t", "=", "\n",
		"\r\n", "\r", "\xc3\xab", "\xe6\xb2\x88", "\xf0\x9f\x98\x80",
		"word ", "  ", "==", "\x01", "\x7f", "\xff", "?",
		"0123456789012345678901234567890123456789",
	};
	struct buf text, enc, whole, dec, can;
	size_t cuts[64], ncuts, i, k, start;
	int iter, bad = 0, lintbad = 0, wholebad = 0;
	const char *lint;

	buf_init(&text, 0);
	buf_init(&enc, 0);
	buf_init(&whole, 0);
	buf_init(&dec, 0);
	buf_init(&can, 0);
	diag("random QP seed %llx", rng);
	for (iter = 0; iter < 3000; iter++) {
		buf_reset(&text);
		k = 1 + rnd(120);
		for (i = 0; i < k; i++)
			buf_adds(&text, atoms[rnd(sizeof atoms /
						  sizeof atoms[0])]);
		/* Long lines now and then, to exercise wrapping. */
		if (rnd(4) == 0)
			for (i = rnd(300); i > 0; i--)
				buf_addc(&text, (char)('a' + rnd(3)));
		ncuts = 0;
		k = rnd(12);
		for (i = 0; i < k && ncuts < 64; i++) {
			size_t c = rnd((unsigned)text.len + 1);

			if (c > 0 && c < text.len && text.data[c - 1] == '\r' &&
			    text.data[c] == '\n')
				continue;
			cuts[ncuts++] = c;
		}
		/* sort the cuts (insertion sort, tiny) */
		for (i = 1; i < ncuts; i++)
			for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
				size_t t = cuts[j];

				cuts[j] = cuts[j - 1];
				cuts[j - 1] = t;
			}
		buf_reset(&enc);
		start = 0;
		for (i = 0; i <= ncuts; i++) {
			size_t end = i < ncuts ? cuts[i] : text.len;

			qp_encode_chunk(&enc, text.data + start, end - start);
			start = end;
		}
		lint = qp_lint(enc.data, enc.len);
		if (lint && lintbad++ < 3)
			diag("iteration %d: %s", iter, lint);
		canon(text.data, text.len, &can);
		if (qp_decode(enc.data, enc.len, &dec) || dec.len != can.len ||
		    memcmp(dec.data ? dec.data : "", can.data ? can.data : "",
			   can.len) != 0) {
			if (bad++ < 3)
				diag("iteration %d: decoding differs", iter);
		}
		buf_reset(&whole);
		qp_encode_chunk(&whole, text.data, text.len);
		if (qp_decode(whole.data, whole.len, &dec) ||
		    dec.len != can.len ||
		    memcmp(dec.data ? dec.data : "", can.data ? can.data : "",
			   can.len) != 0)
			wholebad++;
	}
	is_int(lintbad, 0, "random chunkings keep every wire rule");
	is_int(bad, 0, "random chunkings decode (libetpan) to the text");
	is_int(wholebad, 0, "random texts encoded whole decode to the text");
	buf_free(&text);
	buf_free(&enc);
	buf_free(&whole);
	buf_free(&dec);
	buf_free(&can);
}

static const char *
b64_lint(const char *s, size_t n)
{
	size_t i = 0, ls;

	while (i < n) {
		ls = i;
		while (i < n && s[i] != '\r')
			i++;
		if (i + 1 >= n || s[i + 1] != '\n')
			return "line not ended by CRLF";
		if (i - ls > B64_LINE_MAX)
			return "line longer than 76";
		if (i - ls != B64_LINE_MAX && i + 2 != n)
			return "short line before the last";
		i += 2;
	}
	return NULL;
}

static void
test_base64(void)
{
	unsigned char data[1000];
	struct buf e, d, c;
	size_t n, i;
	int bad = 0, lintbad = 0, lenbad = 0;

	buf_init(&e, 0);
	buf_init(&d, 0);
	buf_init(&c, 0);
	for (n = 0; n < 400; n++) {
		for (i = 0; i < n; i++)
			data[i] = (unsigned char)rnd(256);
		buf_reset(&e);
		b64_encode_lines(&e, data, n, false);
		if (b64_lint(e.data, e.len))
			lintbad++;
		if (b64_encoded_len(data, n, false) != e.len)
			lenbad++;
		if (b64_decode(e.data, e.len, &d) || d.len != n ||
		    (n && memcmp(d.data, data, n) != 0))
			bad++;
	}
	is_int(bad, 0, "base64 round trip (libetpan), lengths 0..399");
	is_int(lintbad, 0, "base64 lines are 76 with CRLF");
	is_int(lenbad, 0, "base64 predicted length");
	buf_reset(&e);
	b64_encode_lines(&e, "hello", 5, false);
	is_str(buf_cstr(&e), "aGVsbG8=\r\n", "base64 of hello");

	/* Text mode: LF becomes CRLF before encoding, CRLF stays; also
	 * past the 4 KiB staging block. */
	buf_reset(&d);
	for (i = 0; i < 9000; i++)
		buf_adds(&d, rnd(5) ? "\xe6\xb2\x88" : rnd(2) ? "\n" : "\r\n");
	buf_reset(&e);
	b64_encode_lines(&e, d.data, d.len, true);
	is_int(b64_encoded_len(d.data, d.len, true), e.len,
	       "text base64 predicted length");
	ok(!b64_lint(e.data, e.len), "text base64 lines");
	canon(d.data, d.len, &c);
	ok(b64_decode(e.data, e.len, &d) == 0 && d.len == c.len &&
	   memcmp(d.data, c.data, c.len) == 0,
	   "text base64 decodes to the text with CRLF line breaks");

	/* base64url */
	buf_reset(&e);
	b64url_encode(&e, "\xfb\xff", 2);
	is_str(buf_cstr(&e), "-_8", "base64url alphabet, no padding");
	for (n = 0; n < 40; n++) {
		for (i = 0; i < n; i++)
			data[i] = (unsigned char)rnd(256);
		buf_reset(&e);
		buf_reset(&d);
		if (b64url_encode(&e, data, n) ||
		    b64url_decode(&d, e.data ? e.data : "", e.len) ||
		    d.len != n || (n && memcmp(d.data, data, n)))
			bad++;
	}
	is_int(bad, 0, "base64url round trip");
	buf_reset(&d);
	ok(b64url_decode(&d, "ab+c", 4) == -1 && errno == EINVAL,
	   "base64url rejects '+'");
	ok(b64url_decode(&d, "abcde", 5) == -1, "base64url rejects len 1 mod 4");
	ok(b64url_decode(&d, "-_9", 3) == -1, "non-zero pad bits rejected");
	is_int(d.len, 0, "failed decode appends nothing");
	buf_free(&e);
	buf_free(&d);
	buf_free(&c);
}

int
main(void)
{
	test_qp_cases();
	test_qp_random();
	test_base64();
	return done_testing();
}
