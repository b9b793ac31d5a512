/* Sending an issue: to an mbox (--dry-run) or over SMTP.  Both sinks get
 * the bytes of the same campaign_compose(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/run.h"
#include "compose/compose.h"
#include "mime/mbox.h"

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
dry_run(struct run *r, struct campaign *c, struct nl_err *err)
{
	struct lists *l = NULL;
	struct subscriber s;
	struct buf msg, num;
	unsigned long n = 0;
	double t0 = now_seconds();
	FILE *f;
	int rc = -1, got;

	buf_init(&msg, 0);
	buf_init(&num, 64);
	f = fopen(r->o->dry_run, "ab");
	if (!f)
		return nl_err_set(err, NL_ECANTCREAT, "%s: %s", r->o->dry_run,
				  strerror(errno));
	/* Big stdio buffer: the mbox is written in one sequential stream. */
	setvbuf(f, NULL, _IOFBF, (size_t)1 << 20);
	if (run_open_lists(r, &l, err))
		goto out;
	while ((got = lists_next(l, &s, err)) == 1) {
		buf_reset(&msg);
		if (campaign_compose(c, &s, &msg, err) ||
		    mbox_append(f, campaign_return_path(c), r->now, msg.data,
				msg.len, err))
			goto out;
		n++;
	}
	if (got < 0)
		goto out;
	if (n == 0) {
		nl_err_set(err, NL_EDATA, "no valid recipient in the lists");
		goto out;
	}
	if (fflush(f) || ferror(f)) {
		nl_err_set(err, NL_EIO, "%s: %s", r->o->dry_run, strerror(errno));
		goto out;
	}
	if (!r->o->quiet) {
		fmt_thousands(&num, n);
		fprintf(stderr, "nlsend: wrote %s message%s to %s, skipped %lu "
			"bad row%s, %lu duplicate%s in %.1f s\n", buf_cstr(&num),
			n == 1 ? "" : "s", r->o->dry_run, lists_skipped(l),
			lists_skipped(l) == 1 ? "" : "s", lists_duplicates(l),
			lists_duplicates(l) == 1 ? "" : "s", now_seconds() - t0);
	}
	rc = 0;
out:
	if (fclose(f) && rc == 0)
		rc = nl_err_set(err, NL_EIO, "%s: %s", r->o->dry_run, strerror(errno));
	lists_close(l);
	buf_free(&msg);
	buf_free(&num);
	return rc;
}

int
run_send(struct run *r, const char *issue, struct nl_err *err)
{
	struct campaign_opts co;
	struct campaign *c = NULL;
	int rc = -1;

	run_campaign_opts(r, &co);
	if (campaign_open(issue, r->cfg, &co, &c, err))
		goto out;
	if (r->o->dry_run) {
		/* cli.md: a dry run ignores `schedule`. */
		rc = dry_run(r, c, err);
		goto out;
	}
	nl_err_set(err, NL_EUSAGE, "sending over SMTP is not built yet: use --dry-run FILE");
out:
	campaign_close(c);
	return rc;
}
