#include "mime/encode.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

static const char hexdig[] = "0123456789ABCDEF";

/* 1 for the octets quoted-printable may carry as they are: printable ASCII
 * except '=' (RFC 2045 6.7 (2)).  Space and tab are decided by position. */
static const unsigned char qp_plain[256] = {
	['!'] = 1, ['"'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1,
	['\''] = 1, ['('] = 1, [')'] = 1, ['*'] = 1, ['+'] = 1, [','] = 1,
	['-'] = 1, ['.'] = 1, ['/'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1,
	['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1,
	['9'] = 1, [':'] = 1, [';'] = 1, ['<'] = 1, ['>'] = 1, ['?'] = 1,
	['@'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1,
	['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1,
	['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1,
	['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1,
	['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['['] = 1, ['\\'] = 1, [']'] = 1,
	['^'] = 1, ['_'] = 1, ['`'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1,
	['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
	['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1,
	['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
	['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1, ['{'] = 1,
	['|'] = 1, ['}'] = 1, ['~'] = 1,
};

/*
 * The one QP encoder: writes to o when o is not NULL, and returns the
 * number of octets written (or that would be).  One pass, no allocation.
 */
static size_t
qp_core(char *o, const char *s, size_t n)
{
	size_t i = 0, w = 0, col, j, e, end, len;
	const char *nl;
	unsigned char c;
	int enc, last;
	bool hard;

	while (i < n) {
		nl = memchr(s + i, '\n', n - i);
		end = nl ? (size_t)(nl - s) : n;
		hard = nl != NULL;
		e = end;
		if (hard && e > i && s[e - 1] == '\r')
			e--;
		col = 0;
		for (j = i; j < e; j++) {
			c = (unsigned char)s[j];
			last = hard && j + 1 == e;
			if (qp_plain[c])
				enc = 0;
			else if (c == ' ' || c == '\t')
				enc = last;	/* 6.7 (3): not at line end */
			else
				enc = 1;
			len = enc ? 3 : 1;
			/* A soft break needs room for its '='; the last octet
			 * before a hard break may use column 76 (6.7 (5)). */
			if (col + len > (last ? QP_LINE_MAX : QP_LINE_MAX - 1)) {
				if (o) {
					o[w] = '=';
					o[w + 1] = '\r';
					o[w + 2] = '\n';
				}
				w += 3;
				col = 0;
			}
			if (col == 0 && !enc &&
			    (c == '.' ||
			     (c == 'F' && e - j >= 5 &&
			      memcmp(s + j, "From ", 5) == 0))) {
				enc = 1;
				len = 3;
			}
			if (o) {
				if (enc) {
					o[w] = '=';
					o[w + 1] = hexdig[c >> 4];
					o[w + 2] = hexdig[c & 15];
				} else {
					o[w] = (char)c;
				}
			}
			w += len;
			col += len;
		}
		if (hard) {
			if (o) {
				o[w] = '\r';
				o[w + 1] = '\n';
			}
			w += 2;
			i = end + 1;
		} else {
			if (e > i) {
				if (o) {
					o[w] = '=';
					o[w + 1] = '\r';
					o[w + 2] = '\n';
				}
				w += 3;
			}
			i = n;
		}
	}
	return w;
}

size_t
qp_encoded_len(const char *s, size_t n)
{
	return qp_core(NULL, s, n);
}

int
qp_encode_chunk(struct buf *out, const char *s, size_t n)
{
	size_t w;

	if (n == 0)
		return 0;
	/* Worst case: every octet an escape (3), plus a soft break (3) per
	 * 25 escapes, or an LF (1) becoming CRLF (2): under 4 per octet. */
	if (n > (SIZE_MAX - 8) / 4) {
		errno = E2BIG;
		return -1;
	}
	if (buf_reserve(out, 4 * n + 4)) {
		/* The bound is loose: try the exact size before giving up. */
		w = qp_core(NULL, s, n);
		if (buf_reserve(out, w))
			return -1;
	}
	w = qp_core(out->data + out->len, s, n);
	buf_setlen(out, out->len + w);
	return 0;
}

static const char b64std[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#define B64_IN_LINE 57		/* 57 octets make one line of 76 */

/* Encode p[0..n) as whole lines with CRLF; returns the end of output. */
static char *
b64_lines(char *o, const unsigned char *p, size_t n)
{
	size_t i, k, m;
	uint32_t v;

	for (i = 0; i < n; i += m) {
		m = n - i < B64_IN_LINE ? n - i : B64_IN_LINE;
		for (k = 0; k + 3 <= m; k += 3) {
			v = (uint32_t)p[i + k] << 16 |
			    (uint32_t)p[i + k + 1] << 8 | p[i + k + 2];
			o[0] = b64std[v >> 18];
			o[1] = b64std[(v >> 12) & 63];
			o[2] = b64std[(v >> 6) & 63];
			o[3] = b64std[v & 63];
			o += 4;
		}
		if (m - k == 1) {
			v = (uint32_t)p[i + k] << 16;
			o[0] = b64std[v >> 18];
			o[1] = b64std[(v >> 12) & 63];
			o[2] = '=';
			o[3] = '=';
			o += 4;
		} else if (m - k == 2) {
			v = (uint32_t)p[i + k] << 16 |
			    (uint32_t)p[i + k + 1] << 8;
			o[0] = b64std[v >> 18];
			o[1] = b64std[(v >> 12) & 63];
			o[2] = b64std[(v >> 6) & 63];
			o[3] = '=';
			o += 4;
		}
		o[0] = '\r';
		o[1] = '\n';
		o += 2;
	}
	return o;
}

/* Octets after LF -> CRLF canonicalisation. */
static size_t
text_len(const unsigned char *p, size_t n)
{
	const unsigned char *q = p, *end = p + n;
	size_t extra = 0;

	while ((q = memchr(q, '\n', (size_t)(end - q))) != NULL) {
		if (q == p || q[-1] != '\r')
			extra++;
		q++;
	}
	return n + extra;
}

static size_t
b64_len_of(size_t n)
{
	size_t lines = (n + B64_IN_LINE - 1) / B64_IN_LINE;

	return (n + 2) / 3 * 4 + 2 * lines;
}

size_t
b64_encoded_len(const void *p, size_t n, bool text)
{
	if (n == 0)
		return 0;
	return b64_len_of(text ? text_len(p, n) : n);
}

int
b64_encode_lines(struct buf *out, const void *p, size_t n, bool text)
{
	/* A multiple of 57 so that staged blocks end on line boundaries. */
	unsigned char stage[B64_IN_LINE * 72 + 2];
	const unsigned char *s = p;
	size_t m, w, i, k = 0;
	char *o;

	if (n == 0)
		return 0;
	m = text ? text_len(s, n) : n;
	if (m > (SIZE_MAX / 2)) {
		errno = E2BIG;
		return -1;
	}
	w = b64_len_of(m);
	if (buf_reserve(out, w))
		return -1;
	o = out->data + out->len;
	if (!text || m == n) {
		b64_lines(o, s, n);
	} else {
		for (i = 0; i < n; i++) {
			if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
				stage[k++] = '\r';
			stage[k++] = s[i];
			if (k >= B64_IN_LINE * 72) {
				o = b64_lines(o, stage, B64_IN_LINE * 72);
				k -= B64_IN_LINE * 72;
				memmove(stage, stage + B64_IN_LINE * 72, k);
			}
		}
		o = b64_lines(o, stage, k);
		assert(o == out->data + out->len + w);
	}
	buf_setlen(out, out->len + w);
	return 0;
}

int
b64url_encode(struct buf *out, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t w, k;
	uint32_t v;
	char *o;

	if (n > SIZE_MAX / 2) {
		errno = E2BIG;
		return -1;
	}
	w = n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
	if (buf_reserve(out, w))
		return -1;
	o = out->data + out->len;
	for (k = 0; k + 3 <= n; k += 3) {
		v = (uint32_t)s[k] << 16 | (uint32_t)s[k + 1] << 8 | s[k + 2];
		*o++ = b64url[v >> 18];
		*o++ = b64url[(v >> 12) & 63];
		*o++ = b64url[(v >> 6) & 63];
		*o++ = b64url[v & 63];
	}
	if (n - k == 1) {
		v = (uint32_t)s[k] << 16;
		*o++ = b64url[v >> 18];
		*o++ = b64url[(v >> 12) & 63];
	} else if (n - k == 2) {
		v = (uint32_t)s[k] << 16 | (uint32_t)s[k + 1] << 8;
		*o++ = b64url[v >> 18];
		*o++ = b64url[(v >> 12) & 63];
		*o++ = b64url[(v >> 6) & 63];
	}
	buf_setlen(out, out->len + w);
	return 0;
}

static int
b64url_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int
b64url_decode(struct buf *out, const char *s, size_t n)
{
	size_t i, w, rem = n % 4;
	uint32_t v = 0;
	int d, bits = 0;
	char *o;

	if (rem == 1) {
		errno = EINVAL;
		return -1;
	}
	w = n / 4 * 3 + (rem ? rem - 1 : 0);
	if (buf_reserve(out, w))
		return -1;
	o = out->data + out->len;
	for (i = 0; i < n; i++) {
		d = b64url_val((unsigned char)s[i]);
		if (d < 0)
			goto bad;
		v = v << 6 | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*o++ = (char)(v >> bits & 0xff);
		}
	}
	/* Leftover bits must be zero: one encoding per byte string. */
	if (bits && (v & ((1u << bits) - 1)))
		goto bad;
	buf_setlen(out, out->len + w);
	return 0;
bad:
	buf_setlen(out, out->len);	/* the terminator we wrote over */
	errno = EINVAL;
	return -1;
}
