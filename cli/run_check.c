/* --check and --preview: validate and render without sending. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"

/* The sample reader of previews and checks without a list. */
static const struct subscriber sample = {
	.email = "reader@example.com", .name = "", .file = "(sample)",
};

int
run_check(struct run *r, struct nl_err *err)
{
	struct campaign_opts co;
	struct campaign *c = NULL;
	const struct composed *cp;
	struct subscriber *first = NULL;
	unsigned long n;
	struct buf html;
	size_t i;
	int rc = -1;

	buf_init(&html, 0);
	run_campaign_opts(r, &co);
	co.collect_warnings = true;
	if (run_campaign_open(r, r->o->issue, &co, &c, err) ||
	    audience_first(r, &first, &n, err))
		goto out;
	if (campaign_render(c, first ? first : &sample, &html, NULL, err))
		goto out;
	cp = campaign_composed(c);
	printf("subject: %s\n", cp->subject);
	printf("sections: %zu\n", cp->nsections);
	printf("words: %lu computed", cp->words_computed);
	if (campaign_issue(c)->words >= 0)
		printf(", %ld stated", campaign_issue(c)->words);
	printf("\nreading time: %lu min\n", cp->minutes);
	printf("recipients: %lu\n", n);
	printf("html size: %zu bytes\n", html.len);
	for (i = 0; i < campaign_nwarnings(c); i++)
		printf("warning: %s\n", campaign_warning(c, i));
	if (r->o->nlists && n == 0) {
		nl_err_set(err, NL_EDATA, "no valid recipient in the lists");
		goto out;
	}
	rc = fflush(stdout) ? nl_err_set(err, NL_EIO, "stdout: write error") : 0;
out:
	free(first);
	buf_free(&html);
	campaign_close(c);
	return rc;
}

static int
write_file(const char *path, const struct buf *b, struct nl_err *err)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return nl_err_set(err, NL_ECANTCREAT, "%s: %s", path, strerror(errno));
	if (fwrite(buf_cstr(b), 1, b->len, f) != b->len) {
		fclose(f);
		return nl_err_set(err, NL_EIO, "%s: write error", path);
	}
	if (fclose(f))
		return nl_err_set(err, NL_EIO, "%s: %s", path, strerror(errno));
	return 0;
}

int
run_preview(struct run *r, struct nl_err *err)
{
	struct campaign_opts co;
	struct campaign *c = NULL;
	struct subscriber *first = NULL;
	struct buf html, text;
	unsigned long n;
	int rc = -1;

	buf_init(&html, 0);
	buf_init(&text, 0);
	run_campaign_opts(r, &co);
	co.images = CAMPAIGN_IMAGES_PREVIEW;
	if (run_campaign_open(r, r->o->issue, &co, &c, err) ||
	    audience_first(r, &first, &n, err) ||
	    campaign_render(c, first ? first : &sample,
			    r->o->html ? &html : NULL,
			    r->o->text ? &text : NULL, err))
		goto out;
	if (r->o->html && write_file(r->o->html, &html, err))
		goto out;
	if (r->o->text && write_file(r->o->text, &text, err))
		goto out;
	rc = 0;
out:
	free(first);
	buf_free(&html);
	buf_free(&text);
	campaign_close(c);
	return rc;
}
