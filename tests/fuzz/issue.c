/*
 * Fuzz target "issue": compose/issue.h issue_load() on any bytes (the YAML
 * of an issue file, through libyaml).
 * Properties: no crash, leak or undefined behaviour; a failure is NL_EDATA
 * (or NL_ENOMEM) with a message; on success every header-bound value is one
 * line of valid UTF-8 (issue.h: RFC 5322 2.2), the default subject too,
 * and there is at least one section with a title and a body.
 */
#include "tests/fuzz/fuzz.h"

#include "compose/issue.h"
#include "util/utf8.h"

static void
issue_check_str(const char *what, const char *s, int oneline)
{
	size_t n;

	if (!s)
		return;
	n = strlen(s);
	FUZZ_CHECK(utf8_invalid_offset(s, n) == n, "%s: invalid UTF-8", what);
	if (oneline)
		FUZZ_CHECK(!strpbrk(s, "\r\n"), "%s: holds a line break", what);
}

FUZZ_TARGET(issue)
{
	char path[64];
	struct issue *is = NULL;
	struct nl_err err;
	char *subj;
	size_t i;
	int fd;

	if (size > ISSUE_MAX_BYTES + 1)
		return 0;
	fd = fuzz_memfd(data, size, 0600, path, sizeof path);
	if (fd < 0)
		return 0;
	nl_err_clear(&err);
	if (issue_load(path, &is, &err)) {
		FUZZ_CHECK(!is, "failure left *out set");
		FUZZ_CHECK(err.kind == NL_EDATA || err.kind == NL_ENOMEM,
			   "failure of kind %s: %s", nl_errkind_name(err.kind),
			   err.msg);
		FUZZ_CHECK(err.msg[0], "failure without a message");
		goto out;
	}
	FUZZ_CHECK(is && is->newsletter && is->date && is->nsections >= 1,
		   "a loaded issue misses a required part");
	issue_check_str("newsletter", is->newsletter, 1);
	issue_check_str("date", is->date, 1);
	issue_check_str("subject", is->subject, 1);
	issue_check_str("preheader", is->preheader, 1);
	issue_check_str("author", is->author, 1);
	issue_check_str("from", is->from, 1);
	issue_check_str("reply_to", is->reply_to, 1);
	issue_check_str("id", is->id, 1);
	issue_check_str("intro", is->intro, 0);
	issue_check_str("outro", is->outro, 0);
	issue_check_str("template", is->tmpl, 0);
	for (i = 0; i < is->nsections; i++) {
		struct issue_section *s = &is->sections[i];

		FUZZ_CHECK(s->title && s->body, "section %zu incomplete", i);
		issue_check_str("title", s->title, i == 0 && !is->subject);
		issue_check_str("body", s->body, 0);
		issue_check_str("label", s->label, 0);
		if (s->image) {
			FUZZ_CHECK(s->image->src, "image without src");
			issue_check_str("src", s->image->src, 0);
			issue_check_str("alt", s->image->alt, 0);
		}
	}
	subj = issue_subject(is);
	FUZZ_CHECK(subj, "issue_subject failed");
	issue_check_str("issue_subject()", subj, 1);
	free(subj);
out:
	issue_free(is);
	close(fd);
	return 0;
}
