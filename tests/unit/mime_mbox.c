/*
 * Unit tests of mime/mbox.h (mboxrd quoting, read back by a tiny mboxrd
 * reader here), mime/unsub.h (tokens, verification, URL helpers) and
 * mime/sniff.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime/mbox.h"
#include "mime/sniff.h"
#include "mime/unsub.h"
#include "tests/tap.h"
#include "util/buf.h"

static char *
slurp(FILE *f, size_t *n)
{
	char *p;
	long len;

	fflush(f);
	len = ftell(f);
	rewind(f);
	p = calloc(1, (size_t)len + 1);
	*n = fread(p, 1, (size_t)len, f);
	return p;
}

/* mboxrd reading of the one message in s: drop the separator and the
 * final empty line, unquote one '>' from ^>+From , LF back to CRLF. */
static void
unmbox(const char *s, size_t n, struct buf *out)
{
	const char *p = (const char *)memchr(s, '\n', n) + 1;
	const char *end = s + n - 1, *nl, *q;

	buf_reset(out);
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		for (q = p; *q == '>'; q++)
			;
		if (q > p && strncmp(q, "From ", 5) == 0)
			p++;
		buf_add(out, p, (size_t)(nl - p));
		buf_adds(out, "\r\n");
	}
}

static void
test_mbox(void)
{
	static const char msg[] =
		"Subject: x\r\n\r\nFrom here\r\n>From there\r\n"
		">>From afar\r\nFromage\r\n From indented\r\n>From\r\n"
		"last\r\n";
	FILE *f = tmpfile();
	struct nl_err err;
	struct buf back;
	size_t n;
	char *s;

	buf_init(&back, 0);
	ok(mbox_append(f, "bounce@x.example", 1600164000, msg, sizeof msg - 1,
		       &err) == 0, "mbox_append");
	s = slurp(f, &n);
	is_str(s, "From bounce@x.example Tue Sep 15 10:00:00 2020\n"
	       "Subject: x\n\n>From here\n>>From there\n>>>From afar\n"
	       "Fromage\n From indented\n>From\nlast\n\n",
	       "separator, ^>*From  quoting, CRLF to LF, blank line at end");
	unmbox(s, n, &back);
	is_str(buf_cstr(&back), msg, "an mboxrd reader gets the message back");
	free(s);
	fclose(f);

	f = tmpfile();
	mbox_append(f, NULL, 5 * 86400 + 3661, "a\r\nb", 4, &err);
	s = slurp(f, &n);
	is_str(s, "From MAILER-DAEMON Tue Jan  6 01:01:01 1970\na\nb\n\n",
	       "default sender, day padded, final line break added");
	free(s);
	ok(mbox_append(f, "a b@c", 0, "x", 1, &err) == -1 &&
	   err.kind == NL_EDATA, "space in envelope sender refused");
	ok(mbox_append(f, "a\n@c", 0, "x", 1, &err) == -1,
	   "LF in envelope sender refused");
	fclose(f);
	buf_free(&back);
}

static void
test_unsub(void)
{
	static const char secret[] = "s3cret";
	struct buf t, e, u;
	size_t dot;

	buf_init(&t, 0);
	buf_init(&e, 0);
	buf_init(&u, 0);
	ok(unsub_token(secret, 6, "news.example.com", "Zoe@Example.ORG", &t)
	   == 0, "token");
	dot = (size_t)(strchr(t.data, '.') - t.data);
	ok(dot == 20 && strncmp(t.data, "em9lQGV4YW1wbGUub3Jn", 20) == 0,
	   "first half is base64url of the lower-cased address");
	is_int(t.len - dot - 1, 22, "MAC: 16 octets, 22 base64url chars");
	ok(strspn(t.data, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		  "0123456789-_.") == t.len, "only unreserved URL characters");
	ok(unsub_verify(secret, 6, "news.example.com", t.data, t.len, &e) == 0,
	   "verifies");
	is_str(buf_cstr(&e), "zoe@example.org", "gives the address back");
	buf_reset(&u);
	unsub_token(secret, 6, "news.example.com", "zoe@example.org", &u);
	is_str(buf_cstr(&u), buf_cstr(&t), "case of the address is ignored");
	ok(unsub_verify(secret, 6, "other.example.com", t.data, t.len, NULL)
	   == -1, "another list: refused");
	ok(unsub_verify("s3creT", 6, "news.example.com", t.data, t.len, NULL)
	   == -1, "another secret: refused");
	t.data[t.len - 2] = t.data[t.len - 2] == 'A' ? 'B' : 'A';
	ok(unsub_verify(secret, 6, "news.example.com", t.data, t.len, NULL)
	   == -1, "tampered MAC: refused");
	buf_reset(&u);
	unsub_token(secret, 6, "news.example.com", "eve@example.org", &u);
	buf_reset(&e);
	buf_add(&e, "em9lQGV4YW1wbGUub3Jn", 20);
	buf_adds(&e, strchr(u.data, '.'));
	ok(unsub_verify(secret, 6, "news.example.com", e.data, e.len, NULL)
	   == -1, "someone else's MAC on this address: refused");
	ok(unsub_verify(secret, 6, "news.example.com", "garbage", 7, NULL)
	   == -1, "garbage refused");
	ok(unsub_verify(secret, 6, "news.example.com", ".", 1, NULL) == -1,
	   "empty halves refused");

	buf_reset(&u);
	unsub_pct_encode(&u, "a b/c?d=e&f~g.h_i-j\xc3\xa9", 21);
	is_str(buf_cstr(&u), "a%20b%2Fc%3Fd%3De%26f~g.h_i-j%C3%A9",
	       "percent-encoding keeps only unreserved");
	buf_reset(&u);
	unsub_url("https://x.example/u?t={{token}}&again={{token}}", "a.b c",
		  &u);
	is_str(buf_cstr(&u), "https://x.example/u?t=a.b%20c&again=a.b%20c",
	       "URL template");
	buf_reset(&u);
	unsub_mailto("list+unsub@x.example", "tok.en", &u);
	is_str(buf_cstr(&u), "mailto:list+unsub@x.example?subject="
	       "unsubscribe%20tok.en", "mailto URI");
	buf_free(&t);
	buf_free(&e);
	buf_free(&u);
}

static void
test_sniff(void)
{
	static const unsigned char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
	static const unsigned char jpg[] = "\xff\xd8\xff\xe0\0\x10JFIF";
	static const unsigned char webp[] = "RIFF\x24\0\0\0WEBPVP8 ";

	is_str(mime_sniff(png, sizeof png - 1), "image/png", "PNG");
	is_str(mime_sniff(jpg, sizeof jpg - 1), "image/jpeg", "JPEG");
	is_str(mime_sniff((const unsigned char *)"GIF89a\1\0", 8), "image/gif",
	       "GIF89a");
	is_str(mime_sniff((const unsigned char *)"GIF87a", 6), "image/gif",
	       "GIF87a");
	is_str(mime_sniff(webp, sizeof webp - 1), "image/webp", "WebP");
	ok(mime_sniff((const unsigned char *)"<svg", 4) == NULL, "SVG: none");
	ok(mime_sniff(png, 7) == NULL, "truncated PNG: none");
	ok(mime_sniff(NULL, 0) == NULL, "empty: none");
}

int
main(void)
{
	test_mbox();
	test_unsub();
	test_sniff();
	return done_testing();
}
