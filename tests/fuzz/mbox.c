/*
 * Fuzz target "mbox": the mboxrd writer of --dry-run (mime/mbox.h), read
 * back by a small mboxrd reader here.
 *
 * Input: 5 bytes of time (a 40-bit number less 2^36, so negative and
 * too-late times occur), the envelope sender up to the first LF, then up
 * to 8 messages separated by NUL bytes.
 * Properties: a sender with a space, control or non-ASCII octet, or a time
 * out of range, is NL_EDATA; otherwise the file is, per message, the line
 * "From SENDER asctime-in-UTC" and the message, and reading it the mboxrd
 * way (split at lines starting "From ", drop the final empty line, take
 * one '>' off ^>+From ) gives every message back, its CRLFs as LF and a
 * final line break added when it had none.
 */
#include "tests/fuzz/fuzz.h"

#include <time.h>

#include "mime/mbox.h"
#include "util/buf.h"

#define MBOX_FUZZ_MSGS 8

/* What a reader should get for msg: CRLF as LF, a final LF added. */
static void
mbox_fuzz_want(const char *m, size_t n, struct buf *out)
{
	size_t i;

	buf_reset(out);
	for (i = 0; i < n; i++) {
		if (m[i] == '\r' && i + 1 < n && m[i + 1] == '\n')
			continue;
		buf_addc(out, m[i]);
	}
	if (n && m[n - 1] != '\n')
		buf_addc(out, '\n');
	buf_cstr(out);
}

/* Unquote one segment (the lines of one message and the final empty
 * line) into out. */
static void
mbox_fuzz_unquote(const char *s, size_t n, struct buf *out)
{
	const char *p = s, *end = s + n, *nl, *q;

	buf_reset(out);
	FUZZ_CHECK(n >= 1 && s[n - 1] == '\n' && (n == 1 || s[n - 2] == '\n'),
		   "message does not end with an empty line");
	end--;	/* the empty line */
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		FUZZ_CHECK(nl, "unterminated line");
		for (q = p; q < nl && *q == '>'; q++)
			;
		if (q > p && nl - q >= 5 && memcmp(q, "From ", 5) == 0)
			p++;
		buf_add(out, p, (size_t)(nl + 1 - p));
	}
	buf_cstr(out);
}

FUZZ_TARGET(mbox)
{
	const char *s = (const char *)data, *end, *env_end, *p, *q;
	const char *msg[MBOX_FUZZ_MSGS];
	size_t mlen[MBOX_FUZZ_MSGS], nmsg = 0, flen = 0, i;
	char env[256], sep[512], *file = NULL;
	struct buf want, got;
	struct nl_err err;
	long long when;
	struct tm tm;
	time_t tt;
	FILE *f;
	int bad_env = 0, r = 0;

	if (size < 5 || size > 65536)
		return 0;
	when = (long long)((uint64_t)data[0] | (uint64_t)data[1] << 8 |
			   (uint64_t)data[2] << 16 | (uint64_t)data[3] << 24 |
			   (uint64_t)data[4] << 32) - (1LL << 36);
	s += 5;
	end = (const char *)data + size;
	env_end = memchr(s, '\n', (size_t)(end - s));
	if (!env_end)
		env_end = end;
	if ((size_t)(env_end - s) >= sizeof env || memchr(s, '\0',
	    (size_t)(env_end - s)))
		return 0;
	memcpy(env, s, (size_t)(env_end - s));
	env[env_end - s] = '\0';
	for (p = env; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			bad_env = 1;
	for (p = env_end < end ? env_end + 1 : end; nmsg < MBOX_FUZZ_MSGS;
	     p = q + 1) {
		q = memchr(p, '\0', (size_t)(end - p));
		msg[nmsg] = p;
		mlen[nmsg++] = (size_t)((q ? q : end) - p);
		if (!q)
			break;
	}

	f = open_memstream(&file, &flen);
	FUZZ_CHECK(f, "open_memstream");
	for (i = 0; i < nmsg && r == 0; i++) {
		nl_err_clear(&err);
		r = mbox_append(f, env, when, msg[i], mlen[i], &err);
	}
	FUZZ_CHECK(fclose(f) == 0, "fclose");
	tt = (time_t)when;
	if (bad_env || when < 0 || when > 253402300799LL) {
		FUZZ_CHECK(r == -1 && err.kind == NL_EDATA,
			   "bad sender or time accepted");
		free(file);
		return 0;
	}
	FUZZ_CHECK(r == 0, "mbox_append failed: %s", err.msg);
	FUZZ_CHECK(gmtime_r(&tt, &tm), "gmtime");
	snprintf(sep, sizeof sep, "From %s ", env[0] ? env : "MAILER-DAEMON");
	strftime(sep + strlen(sep), sizeof sep - strlen(sep),
		 "%a %b %e %H:%M:%S %Y\n", &tm);

	/* read it back */
	buf_init(&want, 0);
	buf_init(&got, 0);
	p = file;
	end = file + flen;
	for (i = 0; i < nmsg; i++) {
		FUZZ_CHECK((size_t)(end - p) >= strlen(sep) &&
			   memcmp(p, sep, strlen(sep)) == 0,
			   "message %zu: no separator '%s'", i, sep);
		p += strlen(sep);
		/* the next separator: a line starting "From " */
		for (q = p; q < end; q++) {
			if ((q == p || q[-1] == '\n') && end - q >= 5 &&
			    memcmp(q, "From ", 5) == 0)
				break;
		}
		mbox_fuzz_unquote(p, (size_t)(q - p), &got);
		mbox_fuzz_want(msg[i], mlen[i], &want);
		FUZZ_CHECK(got.len == want.len &&
			   memcmp(buf_cstr(&got), buf_cstr(&want),
				  got.len) == 0,
			   "message %zu reads back differently", i);
		p = q;
	}
	FUZZ_CHECK(p == end, "data after the last message");
	buf_free(&want);
	buf_free(&got);
	free(file);
	return 0;
}
