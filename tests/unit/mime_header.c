/*
 * Unit tests of mime/header.h: phrases and unstructured text with RFC 2047
 * encoded-words, folded; decoded back with libetpan's
 * mailmime_encoded_phrase_parse (the independent judge) after unfolding.
 */
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "mime/header.h"
#include "tests/tap.h"
#include "util/buf.h"
#include "util/utf8.h"

/* The value of "Name: value\r\n" with folds removed (RFC 5322 2.2.3). */
static void
unfold(const char *field, struct buf *out)
{
	const char *p = strchr(field, ':');

	buf_reset(out);
	for (p += 2; *p; p++) {
		if (p[0] == '\r' && p[1] == '\n') {
			p++;
			continue;
		}
		buf_addc(out, *p);
	}
}

/* libetpan's decoding of a header value (encoded-words and plain text). */
static char *
decode(const char *v)
{
	size_t idx = 0;
	char *res = NULL;

	if (mailmime_encoded_phrase_parse("utf-8", v, strlen(v), &idx, "utf-8",
					  &res) != MAILIMF_NO_ERROR)
		return NULL;
	return res;
}

/*
 * Every line <= 78 (limit) octets; every encoded-word <= 75 and holding
 * whole UTF-8 sequences (decoded alone, it is valid UTF-8).  Returns NULL
 * or the problem.
 */
static const char *
lint(const char *f, size_t limit)
{
	const char *p = f, *e, *w, *we;
	static char why[200];

	while (*p) {
		e = strstr(p, "\r\n");
		if (!e)
			return "no CRLF at the end";
		if ((size_t)(e - p) > limit) {
			snprintf(why, sizeof why, "line of %d octets",
				 (int)(e - p));
			return why;
		}
		if (e[2] && e[2] != ' ')
			return "continuation line without leading space";
		p = e + 2;
	}
	for (w = f; (w = strstr(w, "=?")) != NULL; w = we) {
		char word[100], *dec;

		we = strstr(w + 2, "?=");
		/* skip the "?Q?" / "?B?" marker */
		if (!we || strncmp(w, "=?UTF-8?", 8) != 0)
			return "malformed encoded-word";
		we = strstr(w + 10, "?=");
		if (!we)
			return "unterminated encoded-word";
		we += 2;
		if (we - w > 75)
			return "encoded-word longer than 75";
		memcpy(word, w, (size_t)(we - w));
		word[we - w] = '\0';
		dec = decode(word);
		if (!dec || utf8_invalid_offset(dec, strlen(dec)) !=
		    strlen(dec)) {
			free(dec);
			return "encoded-word splits a UTF-8 sequence";
		}
		free(dec);
	}
	return NULL;
}

enum kind { PHRASE, QUOTED, SUBJECT };

static void
roundtrip(enum kind k, const char *in, const char *want_exact)
{
	struct buf b, u;
	struct hdr h;
	const char *why;
	char *dec;
	int r;

	buf_init(&b, 0);
	buf_init(&u, 0);
	hdr_begin(&h, &b, k == SUBJECT ? "Subject" : "To");
	if (k == SUBJECT)
		r = hdr_unstructured(&h, in, strlen(in));
	else
		r = hdr_phrase(&h, in, strlen(in), k == QUOTED);
	r = r || hdr_end(&h);
	ok(r == 0, "'%s': written", in);
	why = lint(buf_cstr(&b), HDR_LINE_SOFT);
	ok(!why, "'%s': lines and encoded-words (%s)", in, why ? why : "ok");
	if (why)
		diag("%s", buf_cstr(&b));
	if (want_exact)
		is_str(buf_cstr(&b), want_exact, "'%s': exact form", in);
	unfold(buf_cstr(&b), &u);
	if (k != SUBJECT && u.len >= 2 && u.data[0] == '"') {
		/* libetpan leaves a quoted-string quoted: unquote */
		struct buf q;

		buf_init(&q, 0);
		for (size_t i = 1; i + 1 < u.len; i++) {
			if (u.data[i] == '\\')
				i++;
			buf_addc(&q, u.data[i]);
		}
		is_str(buf_cstr(&q), in, "'%s': unquotes to the original", in);
		buf_free(&q);
	} else if (k == SUBJECT && strstr(in, "  ") && want_exact) {
		/* libetpan's decoder collapses runs of spaces: the exact form
		 * above is the check. */
		ok(1, "'%s': checked by its exact form", in);
	} else {
		dec = decode(buf_cstr(&u));
		is_str(dec, in, "'%s': decodes to the original", in);
		free(dec);
	}
	buf_free(&b);
	buf_free(&u);
}

static void
test_phrases(void)
{
	struct buf b;
	size_t i;

	roundtrip(PHRASE, "Grace Hopper", "To: Grace Hopper\r\n");
	roundtrip(PHRASE, "Hopper, Grace", "To: \"Hopper, Grace\"\r\n");
	roundtrip(PHRASE, "Grace M. Hopper", "To: \"Grace M. Hopper\"\r\n");
	roundtrip(PHRASE, "a \"b\" \\c", "To: \"a \\\"b\\\" \\\\c\"\r\n");
	roundtrip(QUOTED, "Axios China", "To: \"Axios China\"\r\n");
	roundtrip(PHRASE, "\xe6\xb2\x88\xe5\xb2\xb3",
		  "To: =?UTF-8?B?5rKI5bKz?=\r\n");
	/* Q would be 21 characters, B is 20: the shorter wins. */
	roundtrip(PHRASE, "Zo\xc3\xab Salda\xc3\xb1" "a",
		  "To: =?UTF-8?B?Wm/DqyBTYWxkYcOxYQ==?=\r\n");
	roundtrip(PHRASE, "Zo\xc3\xab Saldana",
		  "To: =?UTF-8?Q?Zo=C3=AB_Saldana?=\r\n");
	roundtrip(PHRASE, "=?UTF-8?Q?x?=", NULL);
	roundtrip(PHRASE, "tab\there", NULL);
	roundtrip(PHRASE, " leading and trailing ", NULL);
	buf_init(&b, 0);
	/* Long: many 4-byte characters, never split across words. */
	for (i = 0; i < 60; i++)
		buf_adds(&b, i % 3 ? "\xf0\x9f\x98\x80" : "a\xf0\x9f\x8c\x8d");
	roundtrip(PHRASE, buf_cstr(&b), NULL);
	buf_reset(&b);
	for (i = 0; i < 40; i++)
		buf_adds(&b, i ? " \xe6\xb2\x88\xe5\xb2\xb3" :
			 "\xe6\xb2\x88\xe5\xb2\xb3");
	roundtrip(PHRASE, buf_cstr(&b), NULL);
	/* Long ASCII names: atoms fold at spaces, a long quoted one turns
	 * into encoded-words rather than pass 78. */
	buf_reset(&b);
	for (i = 0; i < 30; i++)
		buf_adds(&b, i ? " Word" : "Word");
	roundtrip(PHRASE, buf_cstr(&b), NULL);
	buf_reset(&b);
	for (i = 0; i < 30; i++)
		buf_adds(&b, i ? ", Word" : "Word");
	roundtrip(PHRASE, buf_cstr(&b), NULL);
	buf_reset(&b);
	for (i = 0; i < 300; i++)
		buf_addc(&b, 'x');
	roundtrip(PHRASE, buf_cstr(&b), NULL);

	buf_reset(&b);
	{
		struct hdr h;

		hdr_begin(&h, &b, "To");
		hdr_phrase(&h, "", 0, false);
		hdr_put(&h, "", 0, "a@b.c", 5);
		hdr_end(&h);
		is_str(buf_cstr(&b), "To: a@b.c\r\n", "empty phrase");
	}
	buf_free(&b);
}

static void
test_subjects(void)
{
	struct buf b;
	size_t i;

	roundtrip(SUBJECT, "Axios China: how democracies push back",
		  "Subject: Axios China: how democracies push back\r\n");
	roundtrip(SUBJECT, "China: \xe6\xb2\x88\xe5\xb2\xb3 and "
		  "Zo\xc3\xab Saldana now",
		  "Subject: China: =?UTF-8?B?5rKI5bKz?= and "
		  "=?UTF-8?Q?Zo=C3=AB?= Saldana now\r\n");
	/* An encoded-word that does not fit the line moves whole to the
	 * next one instead of being split. */
	roundtrip(SUBJECT, "Axios China: \xe6\xb2\x88\xe5\xb2\xb3 and "
		  "Zo\xc3\xab Salda\xc3\xb1" "a",
		  "Subject: Axios China: =?UTF-8?B?5rKI5bKz?= and\r\n"
		  " =?UTF-8?B?Wm/DqyBTYWxkYcOxYQ==?=\r\n");
	roundtrip(SUBJECT, "price =?not an encoded word?= here", NULL);
	roundtrip(SUBJECT, "a  b   c", "Subject: a  b   c\r\n");
	roundtrip(SUBJECT, "trailing  ", NULL);
	roundtrip(SUBJECT, "x\ty", NULL);
	/* Many words: folded at the text's own spaces. */
	buf_init(&b, 0);
	for (i = 0; i < 40; i++)
		buf_adds(&b, i ? " lorem ipsum" : "lorem ipsum");
	roundtrip(SUBJECT, buf_cstr(&b), NULL);
	/* A word longer than a line is encoded so that it can be split. */
	buf_reset(&b);
	buf_adds(&b, "see ");
	for (i = 0; i < 30; i++)
		buf_adds(&b, "abcdefg");
	buf_adds(&b, " end");
	roundtrip(SUBJECT, buf_cstr(&b), NULL);
	/* Long non-ASCII, 4-byte characters among ASCII words. */
	buf_reset(&b);
	for (i = 0; i < 50; i++) {
		if (i)
			buf_addc(&b, ' ');
		buf_adds(&b, i % 4 ? "\xf0\x9f\x98\x80\xe6\xb2\x88" : "ok");
	}
	roundtrip(SUBJECT, buf_cstr(&b), NULL);
	buf_reset(&b);
	for (i = 0; i < 100; i++)
		buf_adds(&b, "Zo\xc3\xab");
	roundtrip(SUBJECT, buf_cstr(&b), NULL);
	buf_free(&b);
}

static void
test_date(void)
{
	struct buf b;

	buf_init(&b, 0);
	hdr_date(&b, 0);
	is_str(buf_cstr(&b), "Thu, 1 Jan 1970 00:00:00 +0000", "epoch");
	buf_reset(&b);
	hdr_date(&b, 1600164000);
	is_str(buf_cstr(&b), "Tue, 15 Sep 2020 10:00:00 +0000",
	       "2020-09-15 10:00 UTC");
	buf_reset(&b);
	ok(hdr_date(&b, 253402300800LL) == -1, "year 10000 refused");
	buf_free(&b);
	ok(hdr_has_breaks("a\rb", 3) && hdr_has_breaks("a\nb", 3) &&
	   hdr_has_breaks("a\0b", 3) && !hdr_has_breaks("a b", 3),
	   "CR, LF, NUL detected");
}

int
main(void)
{
	test_phrases();
	test_subjects();
	test_date();
	return done_testing();
}
