/* --check and --preview: validate and render without sending. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"
#include "state/db.h"
#include "state/journal.h"

/* The sample reader of previews and checks without a list. */
static const struct subscriber sample = {
	.email = "reader@example.com", .name = "", .file = "(sample)",
};

/* --check's warning lines about the lists, in the order met. */
struct row_warnings {
	char **v;
	size_t n;
	int full;
};

#define ROW_WARNINGS_MAX 1000

static void
row_warning(void *arg, const char *msg)
{
	struct row_warnings *w = arg;
	char **nv;

	/* As in a send, on stderr at once; and a warning line on stdout. */
	nl_report(msg);
	if (w->n >= ROW_WARNINGS_MAX) {
		w->full = 1;
		return;
	}
	nv = realloc(w->v, (w->n + 1) * sizeof *nv);
	if (!nv || !(nv[w->n] = strdup(msg))) {
		if (nv)
			w->v = nv;
		w->full = 1;
		return;
	}
	w->v = nv;
	w->n++;
}

/* Every recipient composed as a send would (what cannot be composed is a
 * bad row: a warning); the first one's HTML part for the size. */
static int
check_audience(struct run *r, struct campaign *c, struct row_warnings *w,
	       unsigned long *n, struct buf *html, struct nl_err *err)
{
	struct audience a;
	struct subscriber s;
	struct state *st = NULL;
	struct buf msg;
	int got, rc = -1;

	*n = 0;
	buf_init(&msg, 0);
	if (state_open(r->state_path, STATE_RO, &st, err) ||
	    audience_open_warn(r, st, row_warning, w, &a, err))
		goto out;
	while ((got = audience_next(&a, &s, err)) == 1) {
		buf_reset(&msg);
		got = run_compose_row(c, &s, CAMPAIGN_SIGN_ALL, &msg, err);
		if (got < 0)
			break;
		if (got == 1) {
			row_warning(w, err->msg);
			continue;
		}
		if ((*n)++ == 0 && campaign_render(c, &s, html, NULL, err)) {
			got = -1;
			break;
		}
	}
	rc = got < 0 ? -1 : 0;
	audience_close(&a);
out:
	state_close(st);
	buf_free(&msg);
	return rc;
}

static void
print_check(struct campaign *c, unsigned long n, size_t html_size,
	    const struct row_warnings *w)
{
	const struct composed *cp = campaign_composed(c);
	size_t i;

	printf("subject: %s\n", cp->subject);
	printf("sections: %zu\n", cp->nsections);
	printf("words: %lu computed", cp->words_computed);
	if (campaign_issue(c)->words >= 0)
		printf(", %ld stated", campaign_issue(c)->words);
	printf("\nreading time: %lu min\n", cp->minutes);
	printf("recipients: %lu\n", n);
	printf("html size: %zu bytes\n", html_size);
	for (i = 0; i < campaign_nwarnings(c); i++)
		printf("warning: %s\n", campaign_warning(c, i));
	/* The lists' rows are echoed with control characters as '?', as
	 * nl_report() writes them: a row cannot forge a line. */
	for (i = 0; i < w->n; i++) {
		char *q;

		for (q = w->v[i]; *q; q++)
			if ((unsigned char)*q < 0x20 || *q == 0x7f)
				*q = '?';
		printf("warning: %s\n", w->v[i]);
	}
	if (w->full)
		printf("warning: more skipped rows not shown\n");
}

/* "50,000/day" */
static void
quota_text(char *out, size_t n, long count, long seconds)
{
	static const struct { long s; const char *u; } units[] = {
		{ 86400, "day" }, { 3600, "hour" }, { 60, "minute" },
		{ 1, "second" },
	};
	struct buf b;
	size_t i;

	buf_init(&b, 64);
	fmt_thousands(&b, (unsigned long)count);
	for (i = 0; i < 3 && seconds != units[i].s; i++)
		;
	snprintf(out, n, "%s/%s", buf_cstr(&b), units[i].u);
	buf_free(&b);
}

/* --check with relays: each one, its quota and what is left of it in its
 * window, and a warning when all together cannot take the list today. */
static int
check_relays(struct run *r, unsigned long n, struct nl_err *err)
{
	const struct config *cfg = r->cfg;
	struct state *st = NULL;
	struct journal *j = NULL;
	unsigned long left_all = 0;
	int all_quota = 1, rc = -1;
	char q[64];
	size_t i;

	if (state_open(r->state_path, STATE_RO, &st, err) ||
	    (st && state_version(st) >= 3 && journal_open(st, &j, err)))
		goto out;
	for (i = 0; i < cfg->nrelays; i++) {
		const struct config_relay *c = &cfg->relays[i];
		long used = 0, left;

		if (c->quota_count <= 0) {
			all_quota = 0;
			printf("relay: %s %s, no quota\n", c->name, c->url);
			continue;
		}
		if (j)
			used = journal_sent_since_relay(j, c->name, r->now -
							c->quota_seconds);
		left = used < 0 ? 0 : c->quota_count - used;
		left = left < 0 ? 0 : left;
		left_all += (unsigned long)left;
		quota_text(q, sizeof q, c->quota_count, c->quota_seconds);
		printf("relay: %s %s, quota %s, %ld left\n", c->name, c->url, q,
		       left);
	}
	if (all_quota && r->o->nlists && left_all < n) {
		struct buf a, b;

		buf_init(&a, 64);
		buf_init(&b, 64);
		fmt_thousands(&a, left_all);
		fmt_thousands(&b, n);
		printf("warning: the relays' quotas left today (%s) are less than "
		       "the recipients (%s): the rest waits for tomorrow\n",
		       buf_cstr(&a), buf_cstr(&b));
		buf_free(&a);
		buf_free(&b);
	}
	rc = 0;
out:
	journal_close(j);
	state_close(st);
	return rc;
}

int
run_check(struct run *r, struct nl_err *err)
{
	struct campaign_opts co;
	struct campaign *c = NULL;
	struct row_warnings w = { NULL, 0, 0 };
	unsigned long n = 0;
	struct buf html;
	size_t i;
	int rc = -1;

	buf_init(&html, 0);
	run_campaign_opts(r, &co);
	co.collect_warnings = true;
	if (run_campaign_open(r, r->o->issue, &co, &c, err))
		goto out;
	if (r->o->nlists ? check_audience(r, c, &w, &n, &html, err) :
	    campaign_render(c, &sample, &html, NULL, err))
		goto out;
	/* the first recipient's size; one without a list: the sample's */
	if (r->o->nlists && n == 0 && campaign_render(c, &sample, &html, NULL,
						       err))
		goto out;
	print_check(c, n, html.len, &w);
	if (r->cfg->nrelays && !r->o->smtp && check_relays(r, n, err))
		goto out;
	if (r->o->nlists && n == 0) {
		nl_err_set(err, NL_EDATA, "no valid recipient in the lists");
		goto out;
	}
	rc = fflush(stdout) ? nl_err_set(err, NL_EIO, "stdout: write error") : 0;
out:
	for (i = 0; i < w.n; i++)
		free(w.v[i]);
	free(w.v);
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
