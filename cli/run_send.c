/* Sending an issue: to an mbox (--dry-run) or over SMTP.  Both sinks get
 * the bytes of the same campaign_compose(). */
#include <errno.h>
#include <fcntl.h>
#include <stdio_ext.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lists/address.h"

#include <signal.h>

#include "state/lock.h"
#include "util/path.h"
#include "cli/exitcode.h"
#include "cli/run.h"
#include "cli/relays.h"
#include "cli/runlog.h"
#include "cli/secret.h"
#include "compose/compose.h"
#include "mime/mbox.h"
#include "send/deliver.h"
#include "state/db.h"
#include "state/journal.h"

/* SIGINT/SIGTERM: the first stops new transfers, the second abandons the
 * ones in flight (their rows stay in-flight and are resent next run). */
static volatile sig_atomic_t stop_signals;
static volatile int stop_flag;

static void
on_stop(int sig)
{
	(void)sig;
	stop_signals++;
	stop_flag = stop_signals > 1 ? 2 : 1;
}

#define IOBUF_SIZE ((size_t)1 << 20)

/* The mbox holds every address and unsubscribe token of the list: made
 * 0600 like the state database; an existing file keeps its mode. */
static FILE *
open_private(const char *path)
{
	FILE *f;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "ab");
	if (!f)
		close(fd);
	return f;
}

/* The mbox (0600 when new) with a big stdio buffer: it is one sequential
 * stream, and glibc ignores the size when given no buffer.  *start is its
 * length before this run. */
static FILE *
dry_open(const char *path, char **iobuf, off_t *start, struct nl_err *err)
{
	struct stat st;
	FILE *f = open_private(path);

	if (!f) {
		nl_err_set(err, NL_ECANTCREAT, "%s: %s", path, strerror(errno));
		return NULL;
	}
	*start = fstat(fileno(f), &st) == 0 ? st.st_size : 0;
	*iobuf = malloc(IOBUF_SIZE);
	if (*iobuf)
		setvbuf(f, *iobuf, _IOFBF, IOBUF_SIZE);
	return f;
}

/* Every recipient composed into f; bad rows reported and counted. */
static int
dry_write(struct run *r, struct campaign *c, FILE *f, struct audience *rs,
	  unsigned long *n, unsigned long *bad, struct nl_err *err)
{
	struct subscriber s;
	struct buf msg;
	int got;

	buf_init(&msg, 0);
	while ((got = audience_next(rs, &s, err)) == 1) {
		buf_reset(&msg);
		got = run_compose_row(c, &s, CAMPAIGN_SIGN_ALL, &msg, err);
		if (got < 0)
			break;
		if (got == 1) {
			nl_report(err->msg);
			(*bad)++;
			continue;
		}
		if (mbox_append(f, campaign_return_path(c), r->now, msg.data,
				msg.len, err)) {
			if (err->kind == NL_EIO)
				nl_err_set(err, NL_EIO, "%s: %s", r->o->dry_run,
					   strerror(errno));
			got = -1;
			break;
		}
		(*n)++;
	}
	buf_free(&msg);
	if (got < 0)
		return -1;
	if (*n == 0)
		return nl_err_set(err, NL_EDATA, "no valid recipient in the lists");
	if (fflush(f) || ferror(f))
		return nl_err_set(err, NL_EIO, "%s: %s", r->o->dry_run,
				  strerror(errno));
	return 0;
}

static void
dry_summary(struct run *r, const struct audience *rs, unsigned long n,
	    unsigned long bad, double seconds)
{
	unsigned long skipped = lists_skipped(rs->rc.l) + bad,
		      dups = lists_duplicates(rs->rc.l);
	struct buf num;

	buf_init(&num, 64);
	fmt_thousands(&num, n);
	nl_reportf("wrote %s message%s to %s, skipped %lu bad row%s, %lu "
		   "duplicate%s, suppressed %lu in %.1f s", buf_cstr(&num),
		   n == 1 ? "" : "s", r->o->dry_run, skipped,
		   skipped == 1 ? "" : "s", dups, dups == 1 ? "" : "s",
		   rs->rc.filtered, seconds);
	buf_free(&num);
}

/* A dry run that fails (a full disk) leaves the mbox as it was before it:
 * never a message cut in the middle for the next run to append to. */
static int
dry_run(struct run *r, struct campaign *c, struct nl_err *err)
{
	struct audience rs;
	struct state *st = NULL;
	unsigned long n = 0, bad = 0;
	double t0 = mono_seconds();
	char *iobuf = NULL;
	off_t start = 0;
	FILE *f;
	int rc = -1;

	memset(&rs, 0, sizeof rs);
	f = dry_open(r->o->dry_run, &iobuf, &start, err);
	if (!f)
		return -1;
	if (state_open(r->state_path, STATE_RO, &st, err) ||
	    audience_open(r, st, &rs, err) ||
	    dry_write(r, c, f, &rs, &n, &bad, err))
		goto out;
	if (!r->o->quiet)
		dry_summary(r, &rs, n, bad, mono_seconds() - t0);
	rc = 0;
out:
	if (rc && err->kind == NL_EIO) {
		int errno_was = errno;

		/* what stdio still holds could not be written either */
		__fpurge(f);
		if (ftruncate(fileno(f), start) == 0)
			nl_err_set(err, NL_EIO, "%s: %s (the mbox is as it was "
				   "before this run)", r->o->dry_run,
				   strerror(errno_was));
	}
	if (fclose(f) && rc == 0)
		rc = nl_err_set(err, NL_EIO, "%s: %s", r->o->dry_run,
				strerror(errno));
	free(iobuf);
	audience_close(&rs);
	state_close(st);
	return rc;
}

struct source {
	struct campaign *c;
	struct audience rs;
	/* --test: one subscriber, personalised as the first of the lists
	 * (name and columns), addressed to the --test address */
	struct subscriber *test;
	int test_done;
};

static int
src_next(void *arg, struct subscriber *s, struct nl_err *err)
{
	struct source *src = arg;

	if (src->test) {
		if (src->test_done)
			return 0;
		src->test_done = 1;
		*s = *src->test;
		return 1;
	}
	return audience_next(&src->rs, s, err);
}

/* A row that cannot be composed is reported and skipped (1). */
static int
src_compose(void *arg, const struct subscriber *s, int variant,
	    struct buf *out, struct nl_err *err)
{
	struct source *src = arg;
	int r = run_compose_row(src->c, s, (enum campaign_sign)variant, out,
				err);

	if (r == 1)
		nl_report(err->msg);
	return r;
}

static int
test_recipient(struct run *r, struct source *src, struct nl_err *err)
{
	static const struct subscriber none = {
		.email = "", .name = "", .file = "--test",
	};
	struct subscriber first;
	int got = 0;

	if (src->rs.rc.l) {
		got = audience_next(&src->rs, &first, err);
		if (got < 0)
			return -1;
	}
	src->test = subscriber_copy(got == 1 ? &first : &none);
	if (!src->test)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	src->test->email = r->o->test_addr;
	src->test->file = "--test";
	return 0;
}

/* What deliver_run() needs, from the options, the config and the
 * campaign. */
static void
conf_of(struct run *r, struct campaign *c, const char *password,
	struct journal *j, struct deliver_conf *dc)
{
	const struct options *o = r->o;
	const struct config *cfg = r->cfg;

	memset(dc, 0, sizeof *dc);
	dc->url = o->smtp ? o->smtp : cfg->smtp;
	dc->tls = o->tls != 0;
	dc->ca_file = o->ca_file;
	dc->user = cfg->user;
	dc->password = password;
	dc->mail_from = campaign_return_path(c);
	dc->concurrency = (int)(o->concurrency ? o->concurrency :
				cfg->concurrency ? cfg->concurrency : 4);
	/* "2000/day" is a relay's quota, held across runs through the
	 * journal, not a pace; a plain number is a pace. */
	dc->rate = o->rate ? o->rate : cfg->window_count ? 0 : cfg->rate_per_sec;
	dc->timeout_ms = cfg->timeout * 1000;
	dc->window_count = cfg->window_count;
	dc->window_seconds = cfg->window_seconds;
	dc->max_per_connection = (int)o->max_per_connection;
	dc->issue_id = campaign_id(c);
	dc->journal = j;
	dc->resend = o->resend;
	dc->retry_failed = o->retry_failed;
	dc->progress = o->progress >= 0 ? o->progress : isatty(2) && !o->quiet;
	dc->verbose = o->verbose;
	dc->quiet = o->quiet;
	dc->stop = &stop_flag;
}

static void
catch_stops(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* After deliver_run() returned rc: the outcome, the issue marked done,
 * the summary line, and the status the run ends with (nlsend(1)). */
static int
conclude(struct run *r, int rc, struct journal *j, const char *id,
	 struct send_result *res, struct nl_err *err)
{
	const struct options *o = r->o;
	const struct deliver_stats *st = &res->st;
	struct buf line;
	int i;

	if (rc && err->kind != NL_ETEMPFAIL)
		return -1;
	res->outcome = st->deferred || rc ? "deferred" : st->failed ? "failed" :
		"sent";
	/* Everyone on the lists has an outcome that a re-run would not change:
	 * --due may skip this issue from now on at the cost of a look-up. */
	if (!rc && j && !st->deferred && journal_issue_mark_done(j, id, err))
		return -1;
	if (!o->quiet || st->deferred || st->failed || rc) {
		buf_init(&line, 4096);
		deliver_summary(st, &line);
		nl_report(buf_cstr(&line));
		for (i = 0; r->cfg->nrelays && !o->smtp && i < st->nrelays; i++) {
			buf_reset(&line);
			deliver_relay_summary(st, i, &line);
			nl_report(buf_cstr(&line));
		}
		buf_free(&line);
	}
	if (rc)
		return -1;
	if (st->deferred)
		return nl_err_set(err, NL_ETEMPFAIL, "%lu recipient%s deferred: run "
				  "the same command again later to finish",
				  st->deferred, st->deferred == 1 ? "" : "s");
	if (st->failed)
		return nl_err_set(err, NL_EPERMFAIL, "%lu recipient%s failed "
				  "permanently (see --verbose; --retry-failed "
				  "after fixing the cause)", st->failed,
				  st->failed == 1 ? "" : "s");
	if (!o->test_addr && st->sent + st->skipped + st->prior_failed == 0)
		return nl_err_set(err, NL_EDATA, "no valid recipient in the lists");
	return 0;
}

/* AUTH without TLS hands the password to whoever is on the path: only to
 * a relay on this machine (RFC 4954 section 4: a client should not send
 * a password over an unprotected channel). */
static int
cleartext_auth(struct run *r, struct nl_err *err)
{
	const char *url = r->o->smtp ? r->o->smtp : r->cfg->smtp;

	if (r->o->tls != 0 || strncasecmp(url, "smtps:", 6) == 0 ||
	    secret_url_is_loopback(url))
		return 0;
	if (!r->cfg->user && !secret_url_has_password(url))
		return 0;
	return nl_err_set(err, NL_ECONFIG, "--tls=no with a login: the "
			  "password would cross the network in clear; use TLS, "
			  "or --tls=no only with a relay on localhost");
}

/* Where to send and with what password: --smtp or the config's smtp:
 * (one relay), or its relays: (cli/relays.h). */
static int
credentials(struct run *r, char **password, struct run_relays *rr,
	    struct nl_err *err)
{
	const struct options *o = r->o;

	if (run_relays_open(o, r->cfg, rr, err))
		return -1;
	if (rr->n)
		return 0;
	if (!o->smtp && !r->cfg->smtp)
		return nl_err_set(err, NL_ECONFIG, "no SMTP server: give --smtp "
				  "URL, smtp: or relays: in the config (or "
				  "--dry-run FILE)");
	if (cleartext_auth(r, err))
		return -1;
	return secret_password(r->cfg, o->smtp ? o->smtp : r->cfg->smtp,
			       password, err);
}

static int
send_smtp(struct run *r, struct campaign *c, struct send_result *res,
	  struct nl_err *err)
{
	const struct options *o = r->o;
	struct deliver_conf dc;
	struct deliver_src ds;
	struct source src;
	struct journal *j = NULL;
	struct state *state = NULL;
	struct run_relays rr;
	char *password = NULL;
	char why[128];
	int rc = -1, lockfd = -1;

	memset(&src, 0, sizeof src);
	memset(&rr, 0, sizeof rr);
	src.c = c;
	if (o->test_addr && addr_check(o->test_addr, why, sizeof why)) {
		nl_err_set(err, NL_EUSAGE, "--test %s: %s", o->test_addr, why);
		goto out;
	}
	if (credentials(r, &password, &rr, err))
		goto out;
	if (!o->test_addr && !r->locked &&
	    state_lock(r->state_path, o->lock_wait, &lockfd, err))
		goto out;
	/* --test records nothing: it only reads the suppression list. */
	if (state_open(r->state_path, o->test_addr ? STATE_RO : STATE_RW,
		       &state, err) ||
	    (!o->test_addr && journal_open(state, &j, err)))
		goto out;
	if ((o->nlists && audience_open(r, state, &src.rs, err)) ||
	    (o->test_addr && test_recipient(r, &src, err)))
		goto out;
	if (j)
		journal_set_now(j, r->now);
	conf_of(r, c, password, j, &dc);
	dc.relays = rr.v;
	dc.nrelays = rr.n;
	catch_stops();
	ds.next = src_next;
	ds.compose = src_compose;
	ds.arg = &src;
	rc = deliver_run(&dc, &ds, &res->st, err);
	res->st.suppressed = src.rs.rc.filtered;
	rc = conclude(r, rc, j, campaign_id(c), res, err);
out:
	run_relays_free(&rr);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	free(src.test);
	audience_close(&src.rs);
	journal_close(j);
	state_close(state);
	state_unlock(lockfd);
	return rc;
}

static int
not_due(struct run *r, struct campaign *c)
{
	const struct issue *is = campaign_issue(c);
	char when[64];
	time_t t;
	struct tm tm;

	if (!is->has_schedule || is->schedule <= r->now)
		return 0;
	t = (time_t)is->schedule;
	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!r->o->quiet)
		nl_reportf("%s: not due until %s; nothing sent",
			is->path, when);
	return 1;
}

int
run_send(struct run *r, const char *issue, struct send_result *res,
	 struct nl_err *err)
{
	struct campaign_opts co;
	struct campaign *c = NULL;
	int rc = -1;

	memset(res, 0, sizeof *res);
	res->outcome = "error";
	run_campaign_opts(r, &co);
	if (run_campaign_open(r, issue, &co, &c, err))
		goto out;
	snprintf(res->id, sizeof res->id, "%s", campaign_id(c));
	if (r->o->dry_run) {
		/* nlsend(1): a dry run ignores `schedule`. */
		rc = dry_run(r, c, err);
		res->outcome = "dry-run";
		goto out;
	}
	/* nlsend-issue(5), Cron: an issue due later is not sent (exit 0);
	 * --test is how an editor looks at it before then. */
	if (!r->o->test_addr && not_due(r, c)) {
		res->outcome = "not-due";
		rc = 0;
		goto out;
	}
	rc = send_smtp(r, c, res, err);
out:
	campaign_close(c);
	return rc;
}

int
run_send_verb(struct run *r, struct nl_err *err)
{
	const struct options *o = r->o;
	struct send_result res;
	struct runlog_entry e;
	struct runlog log;
	int rc;

	rc = run_send(r, o->issue, &res, err);
	/* --log: one line for this issue, as --due writes them. */
	if (!o->log || o->dry_run || runlog_open(&log, o->log, err) != 0)
		return rc;
	memset(&e, 0, sizeof e);
	e.when = r->now;
	e.file = o->issue;
	e.id = res.id[0] ? res.id : NULL;
	e.outcome = res.outcome;
	e.msg = rc ? err->msg : NULL;
	e.sent = res.st.sent;
	e.failed = res.st.failed;
	e.deferred = res.st.deferred;
	e.skipped = res.st.skipped;
	e.seconds = res.st.seconds;
	e.exit_status = rc ? nl_exitcode(err->kind) : 0;
	if (r->cfg->nrelays && !o->smtp) {
		e.nrelays = res.st.nrelays;
		e.relays = res.st.relay;
	}
	runlog_write(&log, &e);
	runlog_close(&log);
	return rc;
}
