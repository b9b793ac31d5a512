/* --check and --preview: validate and render without sending. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"
#include "state/db.h"
#include "state/suppress.h"

static void
print_row_warning(void *arg, const char *msg)
{
	(void)arg;
	nl_report(msg);
}

static int
open_lists(struct run *r, struct lists **out, struct nl_err *err)
{
	const struct options *o = r->o;
	char **paths;
	size_t i, n = 0;
	int rc = -1;

	paths = calloc(o->nlists ? o->nlists : 1, sizeof *paths);
	if (!paths)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	for (i = 0; i < o->nlists; i++, n++)
		if (list_resolve(o->lists[i], o->lists_dir, r->cfg->lists_dir,
				 &paths[i], err))
			goto out;
	rc = lists_open((const char *const *)paths, n, print_row_warning, NULL,
			out, err);
out:
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return rc;
}

int
recipients_open(struct run *r, struct state *st, struct recipients *rc,
		struct nl_err *err)
{
	memset(rc, 0, sizeof *rc);
	if (open_lists(r, &rc->l, err) || suppress_open(st, &rc->sup, err)) {
		recipients_close(rc);
		return -1;
	}
	return 0;
}

int
recipients_next(struct recipients *rc, struct subscriber *s,
		 struct nl_err *err)
{
	int got, yes;

	while ((got = lists_next(rc->l, s, err)) == 1) {
		if (suppress_has(rc->sup, s->email, &yes, err))
			return -1;
		if (!yes)
			return 1;
		rc->suppressed++;
	}
	return got;
}

void
recipients_close(struct recipients *rc)
{
	lists_close(rc->l);
	suppress_close(rc->sup);
	rc->l = NULL;
	rc->sup = NULL;
}

/* The sample reader of previews and checks without a list. */
static const struct subscriber sample = {
	.email = "reader@example.com", .name = "", .file = "(sample)",
};

/* Copies what campaign_render needs from a subscriber whose storage the
 * list reader reuses. */
struct first {
	char *email, *name;
	struct subscriber s;
};

static int
count_recipients(struct run *r, struct first *f, unsigned long *n,
		 struct nl_err *err)
{
	struct recipients rs;
	struct subscriber s;
	struct state *st = NULL;
	int rc;

	*n = 0;
	if (r->o->nlists == 0)
		return 0;
	if (state_open(r->state_path, STATE_RO, &st, err))
		return -1;
	if (recipients_open(r, st, &rs, err)) {
		state_close(st);
		return -1;
	}
	while ((rc = recipients_next(&rs, &s, err)) == 1) {
		if ((*n)++ == 0) {
			f->email = strdup(s.email);
			f->name = strdup(s.name ? s.name : "");
			if (!f->email || !f->name) {
				rc = nl_err_set(err, NL_ENOMEM, "out of memory");
				break;
			}
			f->s.email = f->email;
			f->s.name = f->name;
			f->s.file = "(first)";
		}
	}
	recipients_close(&rs);
	state_close(st);
	return rc < 0 ? -1 : 0;
}

int
run_check(struct run *r, struct nl_err *err)
{
	struct campaign_opts co;
	struct campaign *c = NULL;
	const struct composed *cp;
	struct first f = {0};
	unsigned long n;
	struct buf html;
	size_t i;
	int rc = -1;

	buf_init(&html, 0);
	run_campaign_opts(r, &co);
	co.collect_warnings = true;
	if (run_campaign_open(r, r->o->issue, &co, &c, err) ||
	    count_recipients(r, &f, &n, err))
		goto out;
	if (campaign_render(c, f.email ? &f.s : &sample, &html, NULL, err))
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
	free(f.email);
	free(f.name);
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
	struct first f = {0};
	struct buf html, text;
	unsigned long n;
	int rc = -1;

	buf_init(&html, 0);
	buf_init(&text, 0);
	run_campaign_opts(r, &co);
	co.images = CAMPAIGN_IMAGES_PREVIEW;
	if (run_campaign_open(r, r->o->issue, &co, &c, err) ||
	    count_recipients(r, &f, &n, err) ||
	    campaign_render(c, f.email ? &f.s : &sample,
			    r->o->html ? &html : NULL,
			    r->o->text ? &text : NULL, err))
		goto out;
	if (r->o->html && write_file(r->o->html, &html, err))
		goto out;
	if (r->o->text && write_file(r->o->text, &text, err))
		goto out;
	rc = 0;
out:
	free(f.email);
	free(f.name);
	buf_free(&html);
	buf_free(&text);
	campaign_close(c);
	return rc;
}
