/*
 * Fuzz target "mime_encode": mime/encode.h, decoded by libetpan as the
 * independent judge (as tests/unit/mime_encode.c does).
 *
 * Input: one control byte, then the text.  The control byte's low 4 bits
 * pick chunk boundaries for quoted-printable (the text is cut every
 * 1 + (ctl & 15) * 7 bytes, and at each LF when ctl & 16).
 * Properties:
 *  - QP (RFC 2045 6.7 and the chunk contract): the concatenated encoded
 *    chunks follow every wire rule (CRLF only, lines <= 76, '=' only as =XX
 *    or a soft break, printable ASCII, no space/tab before CRLF, no line
 *    starting with '.' or "From "), qp_encoded_len() predicts each chunk,
 *    and mailmime_quoted_printable_body_parse() gives back the text with
 *    its LF and CRLF line breaks as CRLF (chunk by chunk);
 *  - base64 (6.8): lines of at most 76 in CRLF, b64_encoded_len() exact,
 *    mailmime_base64_body_parse() gives back the bytes (text mode: LF as
 *    CRLF);
 *  - base64url: decode(encode(x)) == x, and b64url_decode of the raw input
 *    either fails with EINVAL or re-encodes to exactly the input.
 */
#include "tests/fuzz/fuzz.h"

#include <libetpan/libetpan.h>

#include "mime/encode.h"
#include "util/buf.h"

static void
enc_fuzz_canon(const char *s, size_t n, struct buf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			FUZZ_CHECK(buf_addc(out, '\r') == 0, "cap");
		FUZZ_CHECK(buf_addc(out, s[i]) == 0, "cap");
	}
}

static int
enc_fuzz_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static const char *
enc_fuzz_qp_lint(const char *s, size_t n)
{
	size_t i = 0, ls, le, k;

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
		for (k = ls; k < le; k++) {
			unsigned char c = (unsigned char)s[k];

			if (c == '=') {
				if (k + 1 == le)
					continue;
				if (k + 2 >= le || !enc_fuzz_hex(s[k + 1]) ||
				    !enc_fuzz_hex(s[k + 2]))
					return "'=' not followed by hex";
				k += 2;
			} else if ((c < 0x20 && c != '\t') || c > 0x7e) {
				return "octet outside printable ASCII";
			}
		}
	}
	return NULL;
}

static void
enc_fuzz_qp(const char *s, size_t n, unsigned ctl)
{
	size_t step = 1 + (ctl & 15) * 7, i = 0, j, before, idx = 0, rl = 0;
	struct buf e, want;
	const char *lint, *nl;
	char *res = NULL;
	int r;

	buf_init(&e, 0);
	buf_init(&want, 0);
	while (i < n) {
		j = i + step < n ? i + step : n;
		if ((ctl & 16) && (nl = memchr(s + i, '\n', j - i)) != NULL)
			j = (size_t)(nl - s) + 1;
		before = e.len;
		FUZZ_CHECK(qp_encode_chunk(&e, s + i, j - i) == 0,
			   "qp_encode_chunk failed");
		FUZZ_CHECK(e.len - before == qp_encoded_len(s + i, j - i),
			   "qp_encoded_len %zu, appended %zu",
			   qp_encoded_len(s + i, j - i), e.len - before);
		enc_fuzz_canon(s + i, j - i, &want);
		i = j;
	}
	lint = enc_fuzz_qp_lint(buf_cstr(&e), e.len);
	FUZZ_CHECK(!lint, "QP wire rule broken: %s\n%s", lint, buf_cstr(&e));
	if (e.len == 0) {
		FUZZ_CHECK(want.len == 0, "text encoded to nothing");
		goto out;
	}
	r = mailmime_quoted_printable_body_parse(buf_cstr(&e), e.len, &idx,
						 &res, &rl, 0);
	FUZZ_CHECK(r == MAILIMF_NO_ERROR, "libetpan cannot read the QP");
	FUZZ_CHECK(rl == want.len && memcmp(res, buf_cstr(&want), rl) == 0,
		   "QP decodes to something else");
	mmap_string_unref(res);
out:
	buf_free(&e);
	buf_free(&want);
}

static void
enc_fuzz_b64(const char *s, size_t n, bool text)
{
	struct buf e, want;
	size_t idx = 0, rl = 0, i, ls;
	char *res = NULL;
	int r;

	buf_init(&e, 0);
	buf_init(&want, 0);
	FUZZ_CHECK(b64_encode_lines(&e, s, n, text) == 0, "b64 failed");
	FUZZ_CHECK(e.len == b64_encoded_len(s, n, text),
		   "b64_encoded_len wrong");
	for (i = 0, ls = 0; i < e.len; i++) {
		if (e.data[i] == '\r') {
			FUZZ_CHECK(i + 1 < e.len && e.data[i + 1] == '\n',
				   "bare CR in base64");
			FUZZ_CHECK(i - ls <= B64_LINE_MAX, "base64 line too long");
			ls = i + 2;
			i++;
		} else {
			FUZZ_CHECK(e.data[i] != '\n', "bare LF in base64");
		}
	}
	FUZZ_CHECK(ls == e.len, "base64 does not end in CRLF");
	if (text)
		enc_fuzz_canon(s, n, &want);
	else
		buf_add(&want, s, n);
	if (e.len == 0) {
		FUZZ_CHECK(want.len == 0, "bytes encoded to nothing");
		goto out;
	}
	r = mailmime_base64_body_parse(buf_cstr(&e), e.len, &idx, &res, &rl);
	FUZZ_CHECK(r == MAILIMF_NO_ERROR, "libetpan cannot read the base64");
	FUZZ_CHECK(rl == want.len && memcmp(res, buf_cstr(&want), rl) == 0,
		   "base64 decodes to something else");
	mmap_string_unref(res);
out:
	buf_free(&e);
	buf_free(&want);
}

static void
enc_fuzz_b64url(const char *s, size_t n)
{
	struct buf e, d, e2;

	buf_init(&e, 0);
	buf_init(&d, 0);
	buf_init(&e2, 0);
	FUZZ_CHECK(b64url_encode(&e, s, n) == 0, "b64url_encode failed");
	FUZZ_CHECK(b64url_decode(&d, buf_cstr(&e), e.len) == 0,
		   "own base64url refused");
	FUZZ_CHECK(d.len == n && (n == 0 || memcmp(d.data, s, n) == 0),
		   "base64url round trip");
	buf_reset(&d);
	errno = 0;
	if (b64url_decode(&d, s, n) == 0) {
		FUZZ_CHECK(b64url_encode(&e2, d.data ? d.data : "", d.len) == 0,
			   "re-encode");
		FUZZ_CHECK(e2.len == n && (n == 0 || memcmp(e2.data, s, n) == 0),
			   "base64url has a second accepted form");
	} else {
		FUZZ_CHECK(errno == EINVAL, "b64url_decode errno %d", errno);
		FUZZ_CHECK(d.len == 0, "failed decode left output");
	}
	buf_free(&e);
	buf_free(&d);
	buf_free(&e2);
}

FUZZ_TARGET(mime_encode)
{
	const char *s = (const char *)data + 1;
	size_t n;

	if (size < 1 || size > 65536)
		return 0;
	n = size - 1;
	enc_fuzz_qp(s, n, data[0]);
	enc_fuzz_b64(s, n, (data[0] & 32) != 0);
	enc_fuzz_b64url(s, n);
	return 0;
}
