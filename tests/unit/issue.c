/*
 * issue.t - compose/issue.c: loading and validating issue.yaml.
 *
 * Fixtures are the tests/data/issue/ files (under $NLSEND_TOP, default ".");
 * every error case checks the kind and the whole message, so the
 * FILE:LINE:COL prefix is checked too.  Cases that need bytes a fixture
 * should not hold (CR, NUL, BOM, sizes near the limit) are generated into
 * a temporary directory.  The test issue is tests/data/newsletter; the
 * corpus issue is read from $NLSEND_CORPUS (default ../shared/corpus
 * beside the tree) when it is there.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compose/issue.h"
#include "tests/tap.h"

static const char *top = ".";
static char tmpdir[256];

static char *
fixture(const char *name)
{
	static char path[1024];

	snprintf(path, sizeof path, "%s/tests/data/issue/%s", top, name);
	return path;
}

/* Write data to tmpdir/name; returns the path (static). */
static const char *
write_tmp(const char *name, const char *data, size_t len)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		diag("cannot write %s: %s", path, strerror(errno));
		exit(1);
	}
	return path;
}

/* Load path and expect failure of `kind` with message "path:" + rest
 * (rest starting with ':' or ' '). */
static void
expect_err_path(const char *path, enum nl_errkind kind, const char *rest,
		const char *name)
{
	struct issue *is = (struct issue *)1;
	struct nl_err e;
	char want[2048];
	int r;

	nl_err_clear(&e);
	r = issue_load(path, &is, &e);
	snprintf(want, sizeof want, "%s:%s", path, rest);
	ok(r == -1 && is == NULL, "%s: fails, no issue", name);
	is_str(nl_errkind_name(e.kind), nl_errkind_name(kind), "%s: kind",
	       name);
	is_str(e.msg, want, "%s: message", name);
	if (r == 0)
		issue_free(is);
}

static void
expect_err(const char *name, enum nl_errkind kind, const char *rest)
{
	expect_err_path(fixture(name), kind, rest, name);
}

static struct issue *
load_ok(const char *path, const char *name)
{
	struct issue *is = NULL;
	struct nl_err e;

	nl_err_clear(&e);
	if (!ok(issue_load(path, &is, &e) == 0 && is, "%s loads", name))
		diag("error: %s", e.msg);
	return is;
}

static void
test_fixture_errors(void)
{
	/* Unknown and duplicate keys: at the key. */
	expect_err("bad-unknown-top.yaml", NL_EDATA,
		   "3:1: unknown key 'subjcet'");
	expect_err("bad-unknown-section-key.yaml", NL_EDATA,
		   "6:5: unknown key 'titel' in section 2");
	expect_err("bad-unknown-image-key.yaml", NL_EDATA,
		   "7:7: unknown key 'caption' in the image of section 1");
	expect_err("bad-dup-top.yaml", NL_EDATA,
		   "8:1: duplicate key 'subject' (first at line 3)");
	expect_err("bad-dup-section.yaml", NL_EDATA,
		   "6:5: duplicate key 'body' in section 1 (first at line 5)");
	expect_err("bad-complex-key.yaml", NL_EDATA,
		   "3:3: a key must be a string, not a list");

	/* Wrong types and bad values: at the value. */
	expect_err("bad-subject-mapping.yaml", NL_EDATA,
		   "4:3: 'subject' must be a string, not a mapping");
	expect_err("bad-sections-mapping.yaml", NL_EDATA,
		   "4:3: 'sections' must be a list, not a mapping");
	expect_err("bad-sections-string.yaml", NL_EDATA,
		   "3:11: 'sections' must be a list, not a string");
	expect_err("bad-sections-empty.yaml", NL_EDATA, "3:11: no sections");
	expect_err("bad-sections-null.yaml", NL_EDATA, "3:10: no sections");
	expect_err("bad-section-not-mapping.yaml", NL_EDATA,
		   "6:5: section 2 must be a mapping (title, label, image, "
		   "body), not a string");
	expect_err("bad-href-javascript.yaml", NL_EDATA,
		   "8:13: 'href' in the image of section 1 is not a link a "
		   "mail client may follow (javascript:, vbscript:, file: and "
		   "data: are refused)");
	expect_err("bad-image-string.yaml", NL_EDATA,
		   "5:12: 'image' in section 1 must be a mapping, not a "
		   "string");
	expect_err("bad-words-string.yaml", NL_EDATA,
		   "3:8: 'words' must be a whole number, not 'many'");
	expect_err("bad-words-float.yaml", NL_EDATA,
		   "3:8: 'words' must be a whole number, not '12.5'");
	expect_err("bad-words-negative.yaml", NL_EDATA,
		   "3:8: 'words' must be 0 or more");
	expect_err("bad-words-huge.yaml", NL_EDATA,
		   "3:8: 'words' is too large");
	expect_err("bad-wpm-zero.yaml", NL_EDATA,
		   "3:6: 'wpm' must be 1 or more");
	expect_err("bad-wpm-list.yaml", NL_EDATA,
		   "3:6: 'wpm' must be a whole number, not a list");
	expect_err("bad-date-feb29.yaml", NL_EDATA,
		   "2:7: 'date' must be a calendar date YYYY-MM-DD, not "
		   "'2021-02-29'");
	expect_err("bad-date-format.yaml", NL_EDATA,
		   "2:7: 'date' must be a calendar date YYYY-MM-DD, not "
		   "'04/03/2021'");
	expect_err("bad-schedule-no-offset.yaml", NL_EDATA,
		   "3:11: 'schedule' needs a UTC offset (Z or +HH:MM or "
		   "-HH:MM), e.g. 2020-09-15T06:00:00-04:00");
	expect_err("bad-schedule-garbage.yaml", NL_EDATA,
		   "3:11: 'schedule' must be an ISO 8601 timestamp with a UTC "
		   "offset, e.g. 2020-09-15T06:00:00-04:00, not 'next "
		   "tuesday'");
	expect_err("bad-title-empty.yaml", NL_EDATA,
		   "4:12: 'title' in section 1 is empty");
	expect_err("bad-newsletter-blank.yaml", NL_EDATA,
		   "1:13: 'newsletter' is empty");

	/* Missing required keys: at the enclosing mapping. */
	expect_err("bad-missing-newsletter.yaml", NL_EDATA,
		   "2:1: missing required key 'newsletter'");
	expect_err("bad-missing-date.yaml", NL_EDATA,
		   "1:1: missing required key 'date'");
	expect_err("bad-missing-sections.yaml", NL_EDATA,
		   "1:1: missing required key 'sections'");
	expect_err("bad-missing-title.yaml", NL_EDATA,
		   "6:5: missing required key 'title' in section 2");
	expect_err("bad-missing-body.yaml", NL_EDATA,
		   "4:5: missing required key 'body' in section 1");
	expect_err("bad-missing-src.yaml", NL_EDATA,
		   "6:7: missing required key 'src' in the image of "
		   "section 1");

	/* Header-bound values. */
	expect_err("bad-subject-newline.yaml", NL_EDATA,
		   "3:10: line break in 'subject' (it goes into a mail header, "
		   "which must be one line)");
	expect_err("bad-from-crlf.yaml", NL_EDATA,
		   "3:7: line break in 'from' (it goes into a mail header, "
		   "which must be one line)");
	expect_err("bad-preheader-folded.yaml", NL_EDATA,
		   "3:12: line break in 'preheader' (it goes into a mail "
		   "header, which must be one line)");
	expect_err("bad-nul.yaml", NL_EDATA,
		   "3:10: NUL character in 'subject'");
	expect_err("bad-title-newline-no-subject.yaml", NL_EDATA,
		   "4:12: line break in 'title' in section 1, which makes the "
		   "default subject (a mail header must be one line): set "
		   "'subject' or write the title on one line");

	/* The YAML itself. */
	expect_err("bad-alias.yaml", NL_EDATA,
		   "3:10: aliases are not supported");
	expect_err("bad-laughs.yaml", NL_EDATA,
		   "7:8: anchors and aliases are not supported");
	expect_err("bad-unclosed-quote.yaml", NL_EDATA,
		   "3:10: found unexpected end of stream at line 10, column 1 "
		   "(while scanning a quoted scalar that starts here)");
	expect_err("bad-unclosed-flow.yaml", NL_EDATA,
		   "3:11: did not find expected ',' or ']' at line 5, column 1 "
		   "(while parsing a flow sequence that starts here)");
	expect_err("bad-indent.yaml", NL_EDATA,
		   "6:4: did not find expected '-' indicator (while parsing a "
		   "block collection at line 4, column 3)");
	expect_err("bad-tab.yaml", NL_EDATA,
		   "7:1: found a tab character where an indentation space is "
		   "expected (while scanning a block scalar at line 5, "
		   "column 11)");
	expect_err("bad-two-docs.yaml", NL_EDATA,
		   "7:1: more than one YAML document");
	expect_err("bad-top-list.yaml", NL_EDATA,
		   "1:1: expected a mapping of keys, found a list");
	expect_err("bad-empty.yaml", NL_EDATA,
		   "1:1: empty issue: 'newsletter', 'date' and 'sections' are "
		   "required");
	expect_err("bad-only-comments.yaml", NL_EDATA,
		   "1:1: empty issue: 'newsletter', 'date' and 'sections' are "
		   "required");
	/* "Zoë " then 0xFF: column 13 counts characters, offset 56 bytes. */
	expect_err("bad-utf8.yaml", NL_EDATA,
		   "3:13: invalid UTF-8 (byte offset 56)");
}

#define HEAD "newsletter: Harbour Notes\ndate: 2021-03-04\n"
#define SEC "sections:\n  - title: Tides\n    body: High water.\n"

static void
expect_tmp(const char *name, const char *data, size_t len,
	   enum nl_errkind kind, const char *rest)
{
	expect_err_path(write_tmp(name, data, len), kind, rest, name);
}

#define EXPECT_TMP(name, lit, kind, rest) \
	expect_tmp(name, lit, sizeof(lit) - 1, kind, rest)

static void
test_generated_errors(void)
{
	static const char *const header_keys[] = {
		"newsletter", "subject", "preheader", "author", "from",
		"reply_to", "id",
	};
	char data[512], want[256], name[64];
	size_t i;
	int n;

	/* Every header-bound key, with LF and with CR. */
	for (i = 0; i < sizeof header_keys / sizeof header_keys[0]; i++) {
		n = snprintf(data, sizeof data,
			     "%s: \"one\\ntwo\"\n%s%s",
			     header_keys[i],
			     strcmp(header_keys[i], "newsletter") ?
				     HEAD : "date: 2021-03-04\n", SEC);
		snprintf(want, sizeof want, "1:%zu: line break in '%s' (it "
			 "goes into a mail header, which must be one line)",
			 strlen(header_keys[i]) + 3, header_keys[i]);
		snprintf(name, sizeof name, "lf-%s.yaml", header_keys[i]);
		expect_tmp(name, data, (size_t)n, NL_EDATA, want);
		n = snprintf(data, sizeof data, "%s: \"one\\rtwo\"\n%s%s",
			     header_keys[i],
			     strcmp(header_keys[i], "newsletter") ?
				     HEAD : "date: 2021-03-04\n", SEC);
		snprintf(name, sizeof name, "cr-%s.yaml", header_keys[i]);
		expect_tmp(name, data, (size_t)n, NL_EDATA, want);
	}

	/* Bytes libyaml itself refuses: a raw NUL (its byte offset). */
	EXPECT_TMP("raw-nul.yaml", HEAD "author: ab\0c\n" SEC, NL_EDATA,
		   "3:11: control characters are not allowed (byte offset "
		   "53)");
	/* Invalid UTF-8 of several kinds: offset and column of the byte. */
	EXPECT_TMP("overlong.yaml", "a: \xc0\xaf\n", NL_EDATA,
		   "1:4: invalid UTF-8 (byte offset 3)");
	EXPECT_TMP("surrogate.yaml", "# \xed\xa0\x80\n", NL_EDATA,
		   "1:3: invalid UTF-8 (byte offset 2)");
	EXPECT_TMP("stray.yaml", "x: 1\r\ny: \xe6\xb2\x88\x80\n", NL_EDATA,
		   "2:5: invalid UTF-8 (byte offset 12)");
	EXPECT_TMP("truncated.yaml", "x: 1\ny: \xe6\xb2", NL_EDATA,
		   "2:4: invalid UTF-8 (byte offset 8)");
	EXPECT_TMP("cr-lines.yaml", "x: 1\ry: 2\rz: \xff\r", NL_EDATA,
		   "3:4: invalid UTF-8 (byte offset 13)");
	/* A byte order mark takes no column, as in libyaml. */
	EXPECT_TMP("bom-utf8.yaml", "\xef\xbb\xbf" "ab: \xff\n", NL_EDATA,
		   "1:5: invalid UTF-8 (byte offset 7)");
	EXPECT_TMP("bom-key.yaml", "\xef\xbb\xbf" "titel: x\n", NL_EDATA,
		   "1:1: unknown key 'titel'");
	/* CRLF files count lines as editors do. */
	EXPECT_TMP("crlf-key.yaml",
		   "newsletter: N\r\ndate: 2021-03-04\r\ntitel: x\r\n",
		   NL_EDATA, "3:1: unknown key 'titel'");
	/* More unterminated constructs: reported where they start. */
	EXPECT_TMP("single-quote.yaml", HEAD "subject: 'open\n" SEC "\n",
		   NL_EDATA, "3:10: found unexpected end of stream at line 8, "
		   "column 1 (while scanning a quoted scalar that starts here)");
	EXPECT_TMP("flow-map.yaml", HEAD "sections: [{title: x, body: y\n"
		   "author: me\n", NL_EDATA,
		   "3:12: did not find expected ',' or '}' at line 4, column 7 "
		   "(while parsing a flow mapping that starts here)");
	EXPECT_TMP("simple-key.yaml", HEAD "subject\n" SEC, NL_EDATA,
		   "3:1: could not find expected ':' at line 4, column 1 "
		   "(while scanning a simple key that starts here)");
	/* An anchor on its own is refused too. */
	EXPECT_TMP("anchor.yaml", HEAD "author: &me Ines\n" SEC, NL_EDATA,
		   "3:9: anchors and aliases are not supported");
	/* image: must hold a src that is not empty. */
	EXPECT_TMP("src-empty.yaml", HEAD "sections:\n  - title: T\n"
		   "    body: B\n    image: {src: ''}\n", NL_EDATA,
		   "6:18: 'src' in the image of section 1 is empty");
	EXPECT_TMP("body-list.yaml", HEAD "sections:\n  - title: T\n"
		   "    body: [a, b]\n", NL_EDATA,
		   "5:11: 'body' in section 1 must be a string, not a list");
	EXPECT_TMP("newsletter-null.yaml", "newsletter:\n" "date: 2021-03-04\n"
		   SEC, NL_EDATA, "1:12: 'newsletter' is empty");
	EXPECT_TMP("date-list.yaml", "newsletter: N\ndate: [2021]\n" SEC,
		   NL_EDATA, "2:7: 'date' must be a string, not a list");
	EXPECT_TMP("date-time.yaml", "newsletter: N\ndate: 2021-03-04 10:00\n"
		   SEC, NL_EDATA, "2:7: 'date' must be a calendar date "
		   "YYYY-MM-DD, not '2021-03-04 10:00'");
	EXPECT_TMP("date-month13.yaml", "newsletter: N\ndate: 2021-13-01\n"
		   SEC, NL_EDATA, "2:7: 'date' must be a calendar date "
		   "YYYY-MM-DD, not '2021-13-01'");
	EXPECT_TMP("intro-map.yaml", HEAD "intro: {a: b}\n" SEC, NL_EDATA,
		   "3:8: 'intro' must be a string, not a mapping");
}

/* Nothing may blow up: deep nesting, many sections, an alias bomb. */
static void
test_hostile(void)
{
	static const char bomb[] =
		HEAD SEC
		"a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
		"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
		"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
		"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
		"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
		"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
		"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
		"intro: *h\n";
	size_t depth = 200000, i, n, cap;
	char *s, *p;

	/* Unknown key 'a' comes first: the bomb is never looked at.  Put
	 * the alias where a string is expected to hit the alias check. */
	EXPECT_TMP("bomb.yaml", bomb, NL_EDATA, "6:1: unknown key 'a'");
	EXPECT_TMP("bomb2.yaml", HEAD SEC "intro: &a [x, x]\noutro: *a\n",
		   NL_EDATA, "6:8: anchors and aliases are not supported");

	s = malloc(2 * depth + 64);
	if (!s)
		exit(1);
	memcpy(s, "intro: ", 7);
	p = s + 7;
	memset(p, '[', depth);
	memset(p + depth, ']', depth);
	p[2 * depth] = '\n';
	expect_tmp("deep.yaml", s, (size_t)(p - s) + 2 * depth + 1, NL_EDATA,
		   "1:8: 'intro' must be a string, not a list");
	free(s);

	cap = 64 + (ISSUE_MAX_SECTIONS + 1) * 32;
	s = malloc(cap);
	if (!s)
		exit(1);
	n = (size_t)snprintf(s, cap, "%ssections:\n", HEAD);
	for (i = 0; i <= ISSUE_MAX_SECTIONS; i++)
		n += (size_t)snprintf(s + n, cap - n, "- {title: t, body: b}\n");
	expect_tmp("many.yaml", s, n, NL_EDATA,
		   "1004:3: more than 1000 sections");
	free(s);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A whole issue whose one body fills `total` bytes (a block scalar). */
static char *
big_issue(size_t total, size_t *len, size_t *body_len)
{
	static const char head[] = HEAD "sections:\n  - title: Big\n"
				   "    body: |\n";
	static const char line[] =
		"      All work and no play makes the quay a dull place.\n";
	char *s = malloc(total + 1);
	size_t n;

	if (!s)
		exit(1);
	memcpy(s, head, sizeof head - 1);
	n = sizeof head - 1;
	*body_len = 0;
	while (n + sizeof line - 1 <= total) {
		memcpy(s + n, line, sizeof line - 1);
		n += sizeof line - 1;
		*body_len += sizeof line - 1 - 6;
	}
	/* Pad to exactly `total` with one last line: "      xxx\n", or
	 * spaces only (a blank line to YAML) when too short for that. */
	if (n < total) {
		memset(s + n, total - n >= 8 ? 'x' : ' ', total - n);
		if (total - n >= 8) {
			memset(s + n, ' ', 6);
			*body_len += total - n - 6;
		}
		s[total - 1] = '\n';
		n = total;
	}
	*len = n;
	return s;
}

static void
test_sizes(void)
{
	struct issue *is;
	size_t len, body_len;
	double t0, dt;
	char *s;
	const char *path;

	/* 5 MB body: linear time (a quadratic step would take minutes). */
	s = big_issue(5u << 20, &len, &body_len);
	path = write_tmp("big5.yaml", s, len);
	free(s);
	t0 = now();
	is = load_ok(path, "5 MiB body");
	dt = now() - t0;
	diag("5 MiB body loaded in %.3f s", dt);
	ok(dt < 5.0, "5 MiB body loads in under 5 s (%.3f s)", dt);
	if (is) {
		is_int(strlen(is->sections[0].body), body_len,
		       "the whole body is there");
		issue_free(is);
	}

	/* Exactly the limit loads; one byte more is refused, naming it. */
	s = big_issue(ISSUE_MAX_BYTES, &len, &body_len);
	path = write_tmp("limit.yaml", s, len);
	is = load_ok(path, "an issue of exactly 16 MiB");
	issue_free(is);
	s[len - 1] = ' ';
	path = write_tmp("over.yaml", s, len);
	{
		FILE *f = fopen(path, "ab");

		if (!f || fputc('\n', f) == EOF || fclose(f))
			exit(1);
	}
	expect_err_path(path, NL_EDATA,
			" file is larger than the 16 MiB limit", "16 MiB + 1");
	free(s);
}

static void
test_files(void)
{
	char path[512];

	snprintf(path, sizeof path, "%s/missing.yaml", tmpdir);
	expect_err_path(path, NL_ENOINPUT, " No such file or directory",
			"missing file");
	expect_err_path(tmpdir, NL_ENOINPUT, " Is a directory", "a directory");
	if (geteuid() == 0) {
		tap_count++;
		printf("ok %d # skip unreadable file: running as root, which "
		       "reads anything\n", tap_count);
		return;
	}
	write_tmp("secret.yaml", HEAD SEC, sizeof(HEAD SEC) - 1);
	snprintf(path, sizeof path, "%s/secret.yaml", tmpdir);
	chmod(path, 0);
	expect_err_path(path, NL_ENOINPUT, " Permission denied",
			"unreadable file");
}

static void
test_ok_fixtures(void)
{
	static const char crlf[] = "newsletter: N\r\ndate: 2021-03-04\r\n"
		"sections:\r\n  - title: T\r\n    body: |\r\n      a\r\n"
		"      b\r\n";
	static const char bom[] = "\xef\xbb\xbf" "newsletter: N\n"
		"date: 2000-02-29\n" SEC;
	struct issue_section *s;
	struct issue *is;
	char *subj, dir[1024];

	is = load_ok(fixture("ok-minimal.yaml"), "ok-minimal");
	if (is) {
		is_str(is->newsletter, "Harbour Notes", "newsletter");
		is_str(is->date, "2021-03-04", "date");
		ok(is->year == 2021 && is->month == 3 && is->day == 4,
		   "date parts");
		is_int(is->nsections, 1, "one section");
		is_str(is->sections[0].body, "High water at noon.\n",
		       "literal body keeps its line break");
		ok(!is->subject && !is->from && !is->preheader && !is->author
		   && !is->intro && !is->outro && !is->tmpl && !is->id &&
		   !is->reply_to, "absent keys are NULL");
		is_int(is->words, -1, "words absent: -1");
		is_int(is->wpm, 250, "wpm default 250");
		ok(!is->has_schedule, "no schedule");
		ok(!is->sections[0].image && !is->sections[0].label,
		   "no image, no label");
		subj = issue_subject(is);
		is_str(subj, "Harbour Notes: Tides this week",
		       "default subject");
		free(subj);
		is_str(is->path, fixture("ok-minimal.yaml"), "path as given");
		is_int(is->newsletter_pos.line, 1, "newsletter line");
		is_int(is->newsletter_pos.col, 13, "newsletter column");
		is_int(is->sections[0].pos.line, 4, "section line");
		is_int(is->sections[0].pos.col, 5, "section column");
		is_int(is->sections[0].body_pos.line, 5, "body line");
		is_int(is->sections[0].body_pos.col, 11, "body column");
		issue_free(is);
	}

	is = load_ok(fixture("ok-full.yaml"), "ok-full");
	if (is) {
		is_str(is->newsletter, "Harbour Notes", "single-quoted");
		is_str(is->date, "2021-03-04", "double-quoted date");
		is_str(is->subject, "Harbour Notes \xe2\x80\x94 spring edition",
		       "UTF-8 subject");
		is_str(is->preheader, "Tides, boats and a lighthouse",
		       "preheader");
		is_str(is->author, "Ines Marlow", "author");
		is_str(is->from, "Harbour Notes <notes@harbour.example>",
		       "from kept as written");
		is_str(is->reply_to, "editor@harbour.example", "reply_to");
		is_int(is->words, 420, "words");
		is_int(is->wpm, 200, "wpm");
		ok(is->has_schedule, "has schedule");
		ok(is->schedule == 1614839400LL, "schedule 07:30+01:00 is "
		   "1614839400 (got %lld)", is->schedule);
		is_int(is->schedule_pos.line, 11, "schedule line");
		is_str(is->tmpl, "plain", "template");
		is_str(is->id, "harbour-2021-03-04", "id");
		is_str(is->intro, "Spring has reached the quay. The boats are "
		       "out.\n", "folded intro");
		is_str(is->outro, "See you next week.\n", "outro");
		is_int(is->subject_pos.line, 4, "subject line");
		is_int(is->subject_pos.col, 10, "subject column");
		is_int(is->from_pos.line, 7, "from line");
		is_int(is->reply_to_pos.line, 8, "reply_to line");
		is_int(is->id_pos.line, 13, "id line");
		is_int(is->date_pos.line, 3, "date line");
		is_int(is->date_pos.col, 7, "date column");
		is_int(is->nsections, 3, "three sections");
		s = &is->sections[0];
		is_str(s->title, "1984", "a plain number is a string title");
		is_str(s->label, "1 big thing", "label");
		ok(s->image != NULL, "image");
		if (s->image) {
			is_str(s->image->src, "img/quay.png", "src");
			is_str(s->image->alt, "The quay at dawn", "alt");
			is_str(s->image->credit, "Photo: I. Marlow", "credit");
			is_str(s->image->href, "https://harbour.example/quay",
			       "href");
			is_int(s->image->pos.line, 21, "image mapping line");
			is_int(s->image->src_pos.line, 21, "src line");
			is_int(s->image->src_pos.col, 12, "src column");
		}
		s = &is->sections[1];
		is_str(s->title, "Lighthouse", "quoted title");
		ok(!s->image, "image: with nothing is no image");
		is_str(s->body, "Keeper's log:\n\nAll quiet.",
		       "escapes in a double-quoted body");
		s = &is->sections[2];
		is_str(s->title, "Boats", "flow mapping section");
		ok(!s->label, "empty label is no label");
		is_str(s->body, "Many.", "flow body");
		subj = issue_subject(is);
		is_str(subj, is->subject, "issue_subject gives the subject");
		free(subj);
		snprintf(dir, sizeof dir, "%s/tests/data/issue", top);
		is_str(is->dir, dir, "dir of the file");
		issue_free(is);
	}

	is = load_ok(fixture("ok-title-newline-with-subject.yaml"),
		     "a two-line first title is fine with a subject");
	if (is) {
		is_str(is->sections[0].title, "Two\nlines", "title kept");
		issue_free(is);
	}
	is = load_ok(fixture("ok-comments-first.yaml"), "comments first");
	if (is) {
		ok(!is->author, "author: (null) is absent");
		is_int(is->words, -1, "words: ~ is absent");
		issue_free(is);
	}

	is = load_ok(write_tmp("crlf.yaml", crlf, sizeof crlf - 1),
		     "a CRLF file");
	if (is) {
		is_str(is->sections[0].body, "a\nb\n",
		       "CRLF line breaks read as LF");
		is_str(is->dir, tmpdir, "dir of a temp file");
		issue_free(is);
	}
	is = load_ok(write_tmp("bom.yaml", bom, sizeof bom - 1),
		     "a file with a BOM, leap day");
	if (is) {
		is_str(is->newsletter, "N", "BOM is not part of the key");
		is_int(is->day, 29, "2000-02-29 is a date");
		issue_free(is);
	}
}

/* What a whole issue (the test issue, the corpus issue) must load as. */
struct want {
	const char *name, *file, *newsletter, *date, *author, *from, *subject;
	int year, month, day;
	long words;
	unsigned long date_line, sections_line, local_src_line;
	const char *titles[6];	/* NULL: not checked */
	const char *local_src, *local_credit, *intro;
};

static void
whole_issue(const char *dir, const struct want *w)
{
	struct issue *is;
	const struct issue_image *img;
	char path[1024];
	size_t i;

	snprintf(path, sizeof path, "%s/%s", dir, w->file);
	is = load_ok(path, w->name);
	if (!is)
		return;
	is_int(is->nsections, 6, "%s: 6 sections", w->name);
	is_str(is->newsletter, w->newsletter, "%s: newsletter", w->name);
	is_str(is->date, w->date, "%s: date", w->name);
	ok(is->year == w->year && is->month == w->month && is->day == w->day,
	   "%s: date parts", w->name);
	is_int(is->words, w->words, "%s: words %ld", w->name, w->words);
	is_int(is->wpm, 250, "%s: default wpm", w->name);
	ok(!is->has_schedule, "%s: no schedule", w->name);
	is_str(is->author, w->author, "%s: author", w->name);
	ok(is->from && strstr(is->from, w->from), "%s: from", w->name);
	ok(is->subject && strncmp(is->subject, w->subject,
				  strlen(w->subject)) == 0,
	   "%s: subject", w->name);
	is_str(is->dir, dir, "%s: dir is the issue's directory", w->name);
	is_int(is->date_pos.line, w->date_line, "%s: date on line %lu",
	       w->name, w->date_line);
	is_int(is->sections_pos.line, w->sections_line,
	       "%s: sections start on line %lu", w->name, w->sections_line);
	if (is->nsections != 6)
		goto out;
	is_str(is->sections[0].label, "1 big thing", "%s: label 1", w->name);
	for (i = 1; i < 6; i++)
		ok(is->sections[i].label == NULL, "%s: section %zu has no label",
		   w->name, i + 1);
	for (i = 0; i < 6; i++)
		if (w->titles[i])
			is_str(is->sections[i].title, w->titles[i],
			       "%s: title %zu", w->name, i + 1);
	ok(is->sections[0].image && is->sections[1].image &&
	   !is->sections[2].image && is->sections[3].image &&
	   !is->sections[4].image && is->sections[5].image,
	   "%s: images on sections 1, 2, 4, 6", w->name);
	img = is->sections[5].image;
	if (img) {
		is_str(img->src, w->local_src, "%s: local image src", w->name);
		ok(img->credit && strstr(img->credit, w->local_credit),
		   "%s: local image credit", w->name);
		ok(w->local_src_line ? img->src_pos.line == w->local_src_line
		   : img->src_pos.line > 100, "%s: local image src line %lu",
		   w->name, img->src_pos.line);
	}
	is_int(is->sections[0].pos.line, w->sections_line,
	       "%s: section 1 at line %lu", w->name, w->sections_line);
	is_int(is->sections[0].pos.col, 5, "%s: section 1 column 5", w->name);
	ok(strncmp(is->sections[2].body, "1. ", 3) == 0,
	   "%s: Catch up quick body is a numbered list", w->name);
	ok(is->intro && strncmp(is->intro, w->intro, strlen(w->intro)) == 0,
	   "%s: intro", w->name);
	ok(is->outro != NULL, "%s: outro", w->name);
out:
	issue_free(is);
}

/* tests/data/newsletter/issue.yaml, the test issue. */
static void
test_own(void)
{
	static const struct want w = {
		"the test issue", "issue.yaml", "Meridian Weekly",
		"2026-03-06", "Liv Marchetti", "<weekly@meridian.example.org>",
		"Meridian Weekly: ", 2026, 3, 6, 1380, 7, 18, 116,
		{ "How Port Aster plans to run every one of its trams on "
		  "sunlight by 2030",
		  "The harbour pilot who fought the new bridge for a decade "
		  "now chairs its opening committee",
		  "Catch up quick",
		  "Night ferries return to the islands after a quiet winter",
		  "What I'm reading", "1 bright thing" },
		"images/lighthouse.png", "S\xc3\xb8ren Dahl", "Good morning",
	};
	char dir[1024];

	snprintf(dir, sizeof dir, "%s/tests/data/newsletter", top);
	whole_issue(dir, &w);
}

/* The corpus issue, when $NLSEND_CORPUS (or ../shared/corpus) is there. */
static void
test_corpus(void)
{
	static const struct want w = {
		"the corpus issue", "2020-09-15-axios-china.yaml",
		"Axios China", "2020-09-15", "Bethany Allen-Ebrahimian",
		"<china@newsletters.example.com>", "Axios China: ",
		2020, 9, 15, 1513, 3, 14, 0,
		{ "How democracies can push back on China's growing tech "
		  "dominance",
		  NULL, "Catch up quick", NULL, "What I'm reading",
		  "1 piano thing" },
		"images/petrof-piano.png", "AFP", "Welcome back",
	};
	const char *dir;
	char buf[1024];

	dir = outside_dir("NLSEND_CORPUS", top, "../shared/corpus", buf,
			  sizeof buf);
	if (dir)
		whole_issue(dir, &w);
	else
		skip("NLSEND_CORPUS not set and ../shared/corpus absent: the "
		     "corpus issue not loaded");
}

static void
test_time(void)
{
	static const struct {
		const char *s;
		int r;
		long long t;
	} cases[] = {
		{ "2020-09-15T06:00:00-04:00", 0, 1600164000LL },
		{ "2020-09-15T10:00:00Z", 0, 1600164000LL },
		{ "2020-09-15t10:00:00z", 0, 1600164000LL },
		{ "2020-09-15 10:00Z", 0, 1600164000LL },
		{ "2020-09-15T10:00:00.999+00:00", 0, 1600164000LL },
		{ "2020-09-15T10:00:00,5Z", 0, 1600164000LL },
		{ "2020-09-15T15:30:00+0530", 0, 1600164000LL },
		{ "2020-09-15T16:00:00+05", 0, 1600167600LL },
		{ "1969-12-31T23:59:59Z", 0, -1LL },
		{ "2000-02-29T12:00:00Z", 0, 951825600LL },
		{ "2020-09-15T06:00:00", -2, 0 },
		{ "2020-09-15T06:00", -2, 0 },
		{ "2020-09-15", -1, 0 },
		{ "2020-09-15T24:00:00Z", -1, 0 },
		{ "2020-09-15T06:60:00Z", -1, 0 },
		{ "2020-02-30T06:00:00Z", -1, 0 },
		{ "2020-09-15T06:00:00+05:", -1, 0 },
		{ "2020-09-15T06:00:00+5", -1, 0 },
		{ "2020-09-15T06:00:00Zx", -1, 0 },
		{ "2020-09-15T06:00:00.Z", -1, 0 },
		{ "2020-09-15X06:00:00Z", -1, 0 },
		{ "", -1, 0 },
	};
	long long t;
	size_t i;
	int r, y, m, d;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		t = 0;
		r = issue_parse_time(cases[i].s, &t);
		ok(r == cases[i].r && (r || t == cases[i].t),
		   "time '%s' -> %d %lld (got %d %lld)", cases[i].s,
		   cases[i].r, cases[i].t, r, t);
	}
	ok(issue_parse_date("2024-02-29", &y, &m, &d) == 0 && y == 2024 &&
	   m == 2 && d == 29, "2024-02-29");
	ok(issue_parse_date("1900-02-29", &y, &m, &d) == -1, "1900-02-29 no");
	ok(issue_parse_date("2021-04-31", &y, &m, &d) == -1, "2021-04-31 no");
	ok(issue_parse_date("2021-12-31", &y, &m, &d) == 0, "2021-12-31");
	ok(issue_parse_date("0000-01-01", &y, &m, &d) == -1, "year 0 no");
	ok(issue_parse_date("2021-1-01", &y, &m, &d) == -1, "short month no");
	ok(issue_parse_date("2021-01-01 ", &y, &m, &d) == -1, "trailing no");
}

/* Remove our own flat temporary directory, file by file. */
static void
cleanup(void)
{
	char path[600];
	struct dirent *de;
	DIR *d = opendir(tmpdir);

	if (!d)
		return;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			snprintf(path, sizeof path, "%s/%s", tmpdir,
				 de->d_name);
			unlink(path);
		}
	closedir(d);
	rmdir(tmpdir);
}

int
main(void)
{
	const char *t = getenv("NLSEND_TOP");

	if (t && *t)
		top = t;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/nlsend-issue-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		diag("mkdtemp: %s", strerror(errno));
		return 1;
	}
	test_fixture_errors();
	test_generated_errors();
	test_hostile();
	test_files();
	test_ok_fixtures();
	test_own();
	test_corpus();
	test_time();
	test_sizes();
	cleanup();
	return done_testing();
}
