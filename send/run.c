/* A delivery run: who is sent what and when, outcomes, retries, the
 * journal, the window cap (deliver.h).  The relays are pools (pool.h),
 * reached through their functions; they reach the run only through the
 * events below. */
#include "send/deliver.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "send/pool.h"
#include "send/route.h"
#include "util/path.h"
#include "util/report.h"

#define FLUSH_EVERY 0.25	/* seconds: outcomes wait at most this long */
#define NOTICE_MAX 20		/* failure lines without --verbose */

struct run;

/* What a pool's events are about: the run and which route (relay). */
struct rctx {
	struct run *d;
	int idx;
};

struct run {
	const struct deliver_conf *c;
	const struct deliver_src *src;
	struct deliver_stats *st;
	struct nl_err *err;
	struct routes rs;
	struct pool *pools[DELIVER_MAX_RELAYS];
	struct rctx ctx[DELIVER_MAX_RELAYS];
	int npools;
	struct heap retry;
	int src_done, fatal, stopping, abandon, window_full;
	int signalled;		/* stopped by *c->stop */
	int src_failed;		/* err holds src's error */
	struct nl_err brk;	/* why the run stopped early */
	double t0, dirty_since, last_progress, last_space;
	int dirty, progress_shown;
	unsigned long inflight;	/* jobs taken and not yet ended */
	unsigned notices;
};

/* ---- small helpers ----------------------------------------------------- */

static void
thousands(struct buf *b, unsigned long n)
{
	char tmp[32];
	int len = snprintf(tmp, sizeof tmp, "%lu", n), i;

	for (i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			buf_addc(b, ',');
		buf_addc(b, tmp[i]);
	}
}

int
deliver_summary(const struct deliver_stats *st, struct buf *out)
{
	buf_adds(out, "sent ");
	thousands(out, st->sent);
	buf_adds(out, ", failed ");
	thousands(out, st->failed);
	buf_adds(out, ", deferred ");
	thousands(out, st->deferred);
	buf_adds(out, ", skipped ");
	thousands(out, st->skipped);
	buf_adds(out, " (already sent), suppressed ");
	thousands(out, st->suppressed);
	return buf_printf(out, " in %.1f s", st->seconds);
}

int
deliver_relay_summary(const struct deliver_stats *st, int i, struct buf *out)
{
	const struct deliver_relay_stats *r = &st->relay[i];

	buf_printf(out, "relay %s: sent ", r->name);
	thousands(out, r->sent);
	buf_adds(out, ", deferred ");
	thousands(out, r->deferred);
	buf_adds(out, ", failed ");
	thousands(out, r->failed);
	return buf_printf(out, ", throttled %lu time%s, down %.0f s%s",
			  r->throttled, r->throttled == 1 ? "" : "s",
			  r->down_seconds, r->down ? " (down at the end)" : "");
}

int
deliver_safe_url(const char *url, struct buf *out)
{
	return pool_safe_url(url, out);
}

static void
say(struct run *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(struct run *d, const char *fmt, ...)
{
	char msg[NL_REPORT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	d->progress_shown = 0;
	nl_report(msg);
}

/* With several relays, each one's share on the progress line: sent and
 * deferred, its rate, its quota left, and whether it is down. */
static void
progress_relays(const struct run *d, struct buf *b, double el)
{
	int i;

	if (d->c->nrelays < 2)
		return;
	for (i = 0; i < d->rs.n; i++) {
		const struct route *rt = &d->rs.v[i];

		buf_printf(b, " | %s %lu/%lu %.0f/s", rt->r.name, rt->st->sent,
			   rt->st->deferred,
			   el > 0.5 ? (double)rt->st->sent / el : 0.0);
		if (rt->r.quota_count > 0) {
			long left = rt->r.quota_count - rt->quota_base -
				    (long)(rt->sent + rt->inflight);

			buf_printf(b, " quota %ld", left > 0 ? left : 0);
		}
		if (rt->down)
			buf_adds(b, " down");
	}
}

static void
progress(struct run *d, double now)
{
	const struct deliver_stats *st = d->st;
	struct buf b;
	double el = now - d->t0, r, pace = pool_rate(d->pools[0]);
	unsigned long done;

	if (!d->c->progress || now - d->last_progress < TICK)
		return;
	d->last_progress = now;
	buf_init(&b, 512);
	buf_adds(&b, "sent ");
	thousands(&b, st->sent);
	buf_adds(&b, ", failed ");
	thousands(&b, st->failed);
	buf_adds(&b, ", deferred ");
	thousands(&b, st->deferred + d->retry.n);
	r = el > 0.5 ? (double)(st->sent + st->failed) / el : 0;
	buf_printf(&b, " - %.1f/s", r);
	done = st->sent + st->failed + st->deferred + st->skipped +
		st->prior_failed;
	if (d->c->expected > done && r > 0) {
		double eta = (double)(d->c->expected - done) / r;
		buf_printf(&b, ", ETA %ld:%02ld", (long)eta / 60,
			   (long)eta % 60);
	}
	if (pace > 0 && d->c->nrelays < 2)
		buf_printf(&b, " (paced at %.1f/s)", pace);
	progress_relays(d, &b, el);
	report_progress(buf_cstr(&b));
	d->progress_shown = 1;
	buf_free(&b);
}

static void
notice(struct run *d, const char *email, const char *what, const char *tail,
       int always)
{
	if (d->c->verbose || (always && !d->c->quiet && d->notices < NOTICE_MAX))
		say(d, "%s: %s%s", email, what, tail);
	else if (always && !d->c->quiet && d->notices == NOTICE_MAX)
		say(d, "more failures not shown (--verbose shows them all)");
	if (always && !d->c->verbose)
		d->notices++;
}

/* ---- the journal, grouped ------------------------------------------------ */

static int
jset(struct run *d, const struct job *j, enum jstate st, int code,
     const char *reply)
{
	struct journal *jr = d->c->journal;

	if (!jr)
		return 0;
	if (!journal_in_transaction(jr) && journal_begin(jr, d->err))
		goto fail;
	/* the relay that has it: "" for the one relay of an old config */
	if (journal_set_via(jr, d->c->issue_id, j->s.email, st, code, reply,
			    d->c->nrelays ? d->rs.v[j->route].r.name : NULL,
			    d->err))
		goto fail;
	if (!d->dirty)
		d->dirty_since = mono_seconds();
	d->dirty = 1;
	return 0;
fail:
	d->fatal = 1;
	return -1;
}

/* Commit, and release the messages that waited for their in-flight mark
 * to be on disk. */
static int
flush(struct run *d)
{
	struct journal *jr = d->c->journal;
	int i;

	if (jr && d->dirty) {
		if (journal_commit(jr, d->err)) {
			d->fatal = 1;
			return -1;
		}
		d->dirty = 0;
	}
	for (i = 0; i < d->npools; i++)
		pool_release(d->pools[i]);
	return 0;
}

static int
held(const struct run *d)
{
	int i;

	for (i = 0; i < d->npools; i++)
		if (pool_held(d->pools[i]))
			return 1;
	return 0;
}

/* ---- the source ------------------------------------------------------------ */

/* Is the journal done with s?  Counts it when it is. */
static int
journal_done(struct run *d, const struct subscriber *s, int *done)
{
	const struct deliver_conf *c = d->c;
	enum jstate st = J_PENDING;

	*done = 0;
	if (c->journal && journal_get(c->journal, c->issue_id, s->email, &st,
				      d->err)) {
		d->fatal = 1;
		return -1;
	}
	if (c->journal && !c->resend && st == J_SENT) {
		d->st->skipped++;
		*done = 1;
	} else if (c->journal && !c->resend && st == J_FAILED &&
		   !c->retry_failed) {
		d->st->prior_failed++;
		*done = 1;
	} else if (st == J_INFLIGHT) {
		d->st->resumed++;
		if (c->verbose)
			say(d, "%s: in flight when an earlier run stopped: "
			    "sending again", s->email);
	}
	return 0;
}

/* The next subscriber to send to: read src until one needs sending.  A
 * job, or NULL (d->src_done, or an error with d->fatal/d->src_failed). */
static struct job *
next_from_src(struct run *d)
{
	struct subscriber s;
	struct job *j;
	int r, done;

	while (!d->src_done) {
		r = d->src->next(d->src->arg, &s, d->err);
		if (r <= 0) {
			d->src_done = 1;
			if (r < 0)
				d->src_failed = d->stopping = 1;
			break;
		}
		if (!s.email || !*s.email || strpbrk(s.email, "\r\n<>")) {
			/* lists/ never yields one; an SMTP command must never
			 * carry one (RFC 5321 section 4.1.2: no CR, LF or
			 * brackets in a path's mailbox) */
			d->st->failed++;
			notice(d, "(skipped)", "an address that is empty or "
			       "holds CR, LF, '<' or '>'", " (failed)", 1);
			continue;
		}
		if (journal_done(d, &s, &done))
			return NULL;
		if (done)
			continue;
		j = job_new(&s);
		if (!j) {
			nl_err_set(d->err, NL_ENOMEM, "out of memory");
			d->fatal = 1;
		}
		return j;
	}
	return NULL;
}

/* ---- the events of the pools -------------------------------------------- */

/* A retry that is due, unless it was deferred by this very relay while
 * another could take it (route.h). */
static struct job *
due_retry(struct run *d, int idx, double now)
{
	struct job *j;

	if (!d->retry.n || d->retry.v[0]->not_before > now)
		return NULL;
	j = d->retry.v[0];
	if (j->last_route == idx && route_other(&d->rs, idx))
		return NULL;
	return heap_pop(&d->retry);
}

static struct job *
ev_take(void *arg, double now, double *wake)
{
	struct rctx *x = arg;
	struct run *d = x->d;
	struct job *j;

	if (d->stopping || d->fatal)
		return NULL;
	if (!route_may_take(&d->rs, x->idx, now)) {
		/* every relay out of quota: the rest waits (drain_window) */
		if (d->inflight == 0 && routes_quota_gone(&d->rs))
			d->window_full = 1;
		return NULL;
	}
	j = due_retry(d, x->idx, now);
	if (!j && !d->src_done)
		j = next_from_src(d);
	if (!j) {
		if (d->retry.n && d->retry.v[0]->not_before - now < *wake)
			*wake = d->retry.v[0]->not_before - now;
		return NULL;
	}
	j->route = x->idx;
	route_took(&d->rs, x->idx);
	d->inflight++;
	return j;
}

/* A job goes back to the front of the queue, as if never taken. */
static void
ev_requeue(void *arg, struct job *j, int begun)
{
	struct rctx *x = arg;
	struct run *d = x->d;

	if (begun) {
		j->attempts--;
		if (j->attempts >= 1)
			d->st->retries--;
	}
	assert(d->inflight > 0);
	d->inflight--;
	route_ended(&d->rs, x->idx, 0);
	j->not_before = mono_seconds();
	if (heap_push(&d->retry, j)) {
		free(j);
		nl_err_set(d->err, NL_ENOMEM, "out of memory: too many deferred "
			   "recipients");
		d->fatal = 1;
	}
}

static int
ev_begin(void *arg, struct job *j, int variant, struct buf *msg)
{
	struct rctx *x = arg;
	struct run *d = x->d;
	int r;

	/* Stopped while its connection opened: nothing new starts. */
	if (d->stopping || d->fatal) {
		ev_requeue(x, j, 0);
		return -1;
	}
	r = d->src->compose(d->src->arg, &j->s, variant, msg, d->err);
	if (r) {
		if (r < 0)
			d->src_failed = d->stopping = 1;
		else
			d->st->bad++;
		buf_reset(msg);
		d->inflight--;
		route_ended(&d->rs, x->idx, 0);
		free(j);
		return -1;
	}
	j->attempts++;
	j->marked = 0;
	if (j->attempts > 1)
		d->st->retries++;
	return 0;
}

/* The 354 came: the in-flight mark goes into the journal, and the message
 * waits for it to be committed (journal.h: marked before any byte that
 * could deliver it leaves). */
static int
ev_body(void *arg, struct job *j)
{
	struct rctx *x = arg;
	struct run *d = x->d;

	if (jset(d, j, J_INFLIGHT, 0, NULL))
		return -1;
	j->marked = 1;
	return d->c->journal != NULL;
}

static void
ev_dropped(void *arg, struct job *j)
{
	struct rctx *x = arg;
	struct run *d = x->d;

	d->st->deferred++;
	d->st->relay[x->idx].deferred++;
	d->inflight--;
	route_ended(&d->rs, x->idx, 0);
	free(j);
}

/* Deferred j is tried again after a backoff (backoff_ms, doubling, at
 * most 60 s).  0, or -1 when it cannot be queued (j freed). */
static int
retry_later(struct run *d, struct job *j, const char *why)
{
	const struct deliver_conf *c = d->c;
	double back;
	char tail[96];

	back = (c->backoff_ms > 0 ? (double)c->backoff_ms : 1000.0) / 1000.0 *
		(double)(1u << (j->attempts - 1 < 16 ? j->attempts - 1 : 16));
	if (back > BACKOFF_MAX)
		back = BACKOFF_MAX;
	j->not_before = mono_seconds() + back;
	if (heap_push(&d->retry, j)) {
		nl_err_set(d->err, NL_ENOMEM, "out of memory: too many deferred "
			   "recipients");
		d->fatal = 1;
		free(j);
		return -1;
	}
	snprintf(tail, sizeof tail, " (deferred; retry in %.1f s)", back);
	notice(d, j->s.email, why, tail, 0);
	return 0;
}

/* An outcome: a 2xx to the end of data is sent; a 4xx, a timeout or a
 * lost connection is deferred and retried in the run, up to max_attempts
 * transactions; a 5xx is failed (deliver.h). */
static void
ev_done(void *arg, struct job *j, const struct smtp_event *ev)
{
	struct rctx *x = arg;
	struct run *d = x->d;
	struct deliver_relay_stats *rst = &d->st->relay[x->idx];
	int max_att = d->c->max_attempts > 0 ? d->c->max_attempts : 3;
	char why[REPLY_MAX + 32];
	int retry;
	enum jstate st;

	d->inflight--;
	snprintf(why, sizeof why, "%s", ev->reply[0] ? ev->reply :
		 ev->code ? "(no text)" : "connection lost");
	if (ev->code >= 200 && ev->code < 300 && ev->data_sent)
		st = J_SENT;
	else if (ev->code >= 500)
		st = J_FAILED;
	else
		st = J_DEFERRED;
	retry = st == J_DEFERRED && j->attempts < max_att && !d->stopping;
	route_ended(&d->rs, x->idx, st == J_SENT);
	if (st == J_SENT) {
		d->st->sent++;
		rst->sent++;
		notice(d, j->s.email, why, "", 0);
	} else if (st == J_FAILED) {
		d->st->failed++;
		rst->failed++;
		notice(d, j->s.email, why, " (failed)", 1);
	} else if (!retry) {
		d->st->deferred++;
		rst->deferred++;
		notice(d, j->s.email, why, " (deferred; left for the next run)",
		       1);
	}
	/* The journal counts attempts by their in-flight marks; one that
	 * ended before its 354 was never marked (nothing could have been
	 * delivered), so it is counted here. */
	if ((!j->marked && jset(d, j, J_INFLIGHT, 0, NULL)) ||
	    jset(d, j, st, ev->code, why) || !retry) {
		free(j);
		return;
	}
	j->last_route = x->idx;	/* retried elsewhere when it can be */
	retry_later(d, j, why);
}

/* ---- the run ------------------------------------------------------------- */

/* The end of a run: QUIT on every open connection, its 221 awaited
 * QUIT_WAIT at most (RFC 5321 section 4.1.1.10). */
static void
quit_all(struct run *d)
{
	double end = mono_seconds() + QUIT_WAIT + 0.1;
	int i, left;

	for (i = 0; i < d->npools; i++)
		pool_quit(d->pools[i]);
	for (;;) {
		for (left = 0, i = 0; i < d->npools; i++) {
			pool_write(d->pools[i]);
			left += pool_closing(d->pools[i]);
		}
		if (!left || mono_seconds() >= end)
			break;
		if (pool_pump(d->pools, d->npools, TICK))
			break;
	}
}

/* What is left (waiting for a retry, or not yet read from src), counted
 * as deferred without sending: it stays pending in the journal. */
static unsigned long
drain(struct run *d)
{
	struct job *j;
	unsigned long n = 0;

	d->stopping = 0;	/* next_from_src reads on */
	while ((j = heap_pop(&d->retry))) {
		free(j);
		n++;
	}
	while (!d->fatal && (j = next_from_src(d))) {
		free(j);
		n++;
	}
	d->stopping = 1;
	d->st->deferred += n;
	return n;
}

/* The window is full. */
static void
drain_window(struct run *d)
{
	unsigned long n = drain(d);

	if (n && !d->c->quiet && d->c->nrelays > 0)
		say(d, "the relays' quotas are used up: %lu recipient%s left "
		    "for a later run", n, n == 1 ? "" : "s");
	else if (n && !d->c->quiet)
		say(d, "the sending window (%ld messages per %ld s) is used up: "
		    "%lu recipient%s left for a later run", d->c->window_count,
		    d->c->window_seconds, n, n == 1 ? "" : "s");
}

static int
check_conf(struct run *d)
{
	const struct deliver_conf *c = d->c;
	const char *f = c->mail_from ? c->mail_from : "", *u;
	int i;

	for (i = 0; i < (c->nrelays > 0 ? c->nrelays : 1); i++) {
		u = c->nrelays > 0 ? c->relays[i].url : c->url;
		if (!u || (strncasecmp(u, "smtp://", 7) != 0 &&
			   strncasecmp(u, "smtps://", 8) != 0))
			return nl_err_set(d->err, NL_ECONFIG, "the SMTP URL must "
					  "be smtp://host[:port] or "
					  "smtps://host[:port]");
	}
	if (c->nrelays > DELIVER_MAX_RELAYS)
		return nl_err_set(d->err, NL_ECONFIG, "more than %d relays",
				  DELIVER_MAX_RELAYS);
	if (strpbrk(f, "\r\n<>") || strlen(f) > 500)
		return nl_err_set(d->err, NL_ECONFIG, "the envelope sender "
				  "is not an address");
	if (c->journal && !c->issue_id)
		return nl_err_set(d->err, NL_EINTERNAL, "no issue id for the "
				  "journal");
	return 0;
}

/* The relays of deliver_conf: the list, or the one of its fields. */
static void
relays_of(const struct deliver_conf *c, struct deliver_relay *v, int *n)
{
	int i;

	if (c->nrelays > 0) {
		*n = c->nrelays < DELIVER_MAX_RELAYS ? c->nrelays :
			DELIVER_MAX_RELAYS;
		for (i = 0; i < *n; i++)
			v[i] = c->relays[i];
		return;
	}
	memset(v, 0, sizeof *v);
	v->name = "default";
	v->url = c->url;
	v->tls = c->tls;
	v->ca_file = c->ca_file;
	v->user = c->user;
	v->password = c->password;
	v->concurrency = c->concurrency;
	v->rate = c->rate;
	v->quota_count = c->window_count;
	v->quota_seconds = c->window_seconds;
	v->max_per_connection = c->max_per_connection;
	v->weight = 1;
	v->variant = c->variant;
	*n = 1;
}

/* One pool a relay, whose events are this run's for that route. */
static int
open_pools(struct run *d)
{
	const struct deliver_conf *c = d->c;
	struct deliver_relay v[DELIVER_MAX_RELAYS];
	struct pool_events ev = { NULL, ev_take, ev_begin, ev_body, ev_done,
				  ev_requeue, ev_dropped };
	struct pool_conf pc;
	int i, n;

	relays_of(c, v, &n);
	for (i = 0; i < n; i++) {
		struct route *rt = &d->rs.v[i];

		memset(&pc, 0, sizeof pc);
		pc.url = v[i].url;
		pc.tls = v[i].tls;
		pc.ca_file = v[i].ca_file;
		pc.user = v[i].user;
		pc.password = v[i].password;
		pc.mail_from = c->mail_from ? c->mail_from : "";
		pc.concurrency = v[i].concurrency;
		pc.rate = v[i].rate;
		pc.max_per_connection = v[i].max_per_connection;
		pc.variant = v[i].variant;
		pc.timeout_ms = c->timeout_ms;
		pc.backoff_ms = c->backoff_ms;
		pc.verbose = c->verbose;
		d->ctx[i].d = d;
		d->ctx[i].idx = i;
		ev.arg = &d->ctx[i];
		if (pool_new(&pc, &ev, d->err, &d->pools[i]))
			return -1;
		d->npools = d->rs.n = i + 1;
		rt->r = v[i];
		rt->p = d->pools[i];
		rt->st = &d->st->relay[i];
		rt->global_window = c->nrelays == 0;
		snprintf(rt->st->name, sizeof rt->st->name, "%s", v[i].name);
	}
	d->st->nrelays = n;
	return 0;
}

/* Probe every relay (pool.h): one that fails is down for now, its
 * reason said; when all fail, the first one's error is the run's. */
static int
probe_all(struct run *d)
{
	struct nl_err first, e;
	int i, up = 0;

	nl_err_clear(&first);
	for (i = 0; i < d->npools; i++) {
		d->pools[i]->err = &e;
		nl_err_clear(&e);
		if (pool_probe(d->pools[i], d->c->stop) == 0) {
			up++;
		} else if (e.kind == NL_ETEMPFAIL) {
			*d->err = e;
			return -1;
		} else {
			if (first.kind == NL_OK)
				first = e;
			route_down(&d->rs, i, mono_seconds(), e.msg);
		}
		d->pools[i]->err = d->err;
	}
	if (up)
		return 0;
	*d->err = first;
	return -1;
}

/* Why the run stops early, checked every loop: signals, relays that went
 * away or keep throttling (route.h: down, and the others take their
 * share; when none is left, the run stops). */
static void
check_stop(struct run *d)
{
	const struct deliver_conf *c = d->c;
	double now = mono_seconds();
	int i;

	if (c->stop && *c->stop && !d->signalled) {
		d->stopping = d->signalled = 1;
		nl_err_set(&d->brk, NL_ETEMPFAIL, "interrupted: a re-run sends "
			   "to the rest");
	}
	if (c->stop && *c->stop >= 2 && !d->abandon) {
		d->abandon = 1;
		nl_err_set(&d->brk, NL_ETEMPFAIL, "interrupted twice: stopped "
			   "at once; a re-run sends to the rest (and again to "
			   "those that were in flight)");
	}
	for (i = 0; i < d->npools; i++)
		if (!d->rs.v[i].down && pool_overthrottled(d->pools[i]))
			route_down(&d->rs, i, now, "it keeps throttling us");
	route_check(&d->rs, now);
	if (d->stopping || !routes_usable_down(&d->rs))
		return;
	d->stopping = 1;
	if (d->npools == 1 && pool_overthrottled(d->pools[0]))
		nl_err_set(&d->brk, NL_ETEMPFAIL, "%s: the server keeps "
			   "throttling us; a re-run sends to the rest",
			   d->pools[0]->url);
	else if (d->npools == 1)
		nl_err_set(&d->brk, NL_ETEMPFAIL, "%s: the server stopped "
			   "accepting connections%s%s%s; a re-run sends to the "
			   "rest", d->pools[0]->url,
			   d->pools[0]->connfail[0] ? " (" : "",
			   d->pools[0]->connfail,
			   d->pools[0]->connfail[0] ? ")" : "");
	else
		nl_err_set(&d->brk, NL_ETEMPFAIL, "every relay is down (the "
			   "last: %s); a re-run sends to the rest",
			   d->rs.v[0].st->why_down);
}

/* Stop before the journal's disk is full (journal_space_low), looked at
 * every 50 ms: at full speed the WAL grows by megabytes a second. */
static void
check_space(struct run *d, double now)
{
	unsigned long long avail;

	if (!d->c->journal || d->stopping || now - d->last_space < 0.05)
		return;
	d->last_space = now;
	if (!journal_space_low(d->c->journal, &avail))
		return;
	/* Outside a transaction the journal can give its WAL's room back. */
	if (journal_in_transaction(d->c->journal) &&
	    (flush(d) || !journal_space_low(d->c->journal, &avail)))
		return;
	d->stopping = 1;
	nl_err_set(&d->brk, NL_EIO, "the disk of the state database is "
		   "almost full (%llu KiB free): stopped before the journal "
		   "could not be written; free some space and run the same "
		   "command again", avail >> 10);
}

/* Every pool takes what it can, in rounds while any takes something: the
 * routes' stride lets each take its turn (route.h).  The seconds until
 * something could start. */
static double
fill_all(struct run *d, double now)
{
	double wake = TICK, w;
	unsigned took, any;
	int i, rounds = 0;

	for (i = 0; i < d->npools; i++)
		pool_recover(d->pools[i], now);
	do {
		any = 0;
		for (i = 0; i < d->npools && !d->fatal; i++) {
			w = pool_fill(d->pools[i], &took);
			any += took;
			if (w < wake)
				wake = w;
			if (d->pools[i]->fatal)
				d->fatal = 1;
		}
	} while (any && d->npools > 1 && ++rounds < 4 * POOL_MAX_SLOTS);
	return wake;
}

/* The loop: fill the slots, commit what must be on disk before it goes
 * out, write, wait.  Ends when everything is done, or on a stop. */
static void
loop(struct run *d)
{
	double now, wake;
	int i;

	for (;;) {
		now = mono_seconds();
		check_stop(d);
		check_space(d, now);
		if (d->fatal || d->abandon)
			break;
		wake = fill_all(d, now);
		if (d->fatal)
			break;
		if (d->window_full && d->inflight == 0) {
			drain_window(d);
			break;
		}
		if (d->inflight == 0 && (d->stopping ||
					 (d->src_done && !d->retry.n)))
			break;
		/* The in-flight marks of the messages just queued go to disk
		 * before those messages leave. */
		if ((held(d) || (d->dirty && now - d->dirty_since >=
				 FLUSH_EVERY)) && flush(d))
			break;
		for (i = 0; i < d->npools; i++)
			pool_write(d->pools[i]);
		progress(d, now);
		if (pool_pump(d->pools, d->npools, wake)) {
			d->fatal = 1;
			break;
		}
	}
}

/* After the loop: what is left, the last commit, QUIT, the result. */
static int
finish(struct run *d)
{
	const struct deliver_conf *c = d->c;
	int i;

	/* Retries still waiting stay deferred in the journal (an
	 * interrupted run counts them with the rest, below). */
	if (!d->signalled || d->abandon)
		d->st->deferred += (unsigned long)d->retry.n;
	if (d->abandon || d->fatal)
		for (i = 0; i < d->npools; i++)
			pool_drop(d->pools[i]);
	if (d->fatal) {
		/* Whatever was recorded so far is worth keeping. */
		if (c->journal && journal_in_transaction(c->journal))
			journal_commit(c->journal, NULL);
		return -1;
	}
	if (flush(d))
		return -1;
	quit_all(d);
	if (d->src_failed)
		return -1;
	/* SIGINT/SIGTERM once: what is in flight has ended; say how many
	 * are left (twice: stopped at once, nothing is counted). */
	if (d->signalled && !d->abandon)
		nl_err_set(&d->brk, NL_ETEMPFAIL, "interrupted: %lu left; run "
			   "the same command again to send to them", drain(d));
	if (d->stopping && d->brk.kind != NL_OK) {
		*d->err = d->brk;
		return -1;
	}
	return 0;
}

/* What each relay's quota had used before this run (the journal). */
static int
window_base(struct run *d)
{
	struct journal *j = d->c->journal;
	int i;

	for (i = 0; i < d->rs.n; i++) {
		struct route *rt = &d->rs.v[i];
		long long since;

		if (rt->r.quota_count <= 0 || rt->r.quota_seconds <= 0)
			continue;
		if (!j) {	/* --test: nothing counts, nothing is counted */
			rt->r.quota_count = 0;
			continue;
		}
		since = journal_now(j) - rt->r.quota_seconds;
		rt->quota_base = rt->global_window ? journal_sent_since(j, since)
			: journal_sent_since_relay(j, rt->r.name, since);
		if (rt->quota_base < 0)
			return nl_err_set(d->err, NL_EIO, "journal: cannot count "
					  "the messages sent in the window");
	}
	return 0;
}

int
deliver_run(const struct deliver_conf *c, const struct deliver_src *src,
	    struct deliver_stats *st, struct nl_err *err)
{
	struct run *d;
	int i, rc = -1;

	memset(st, 0, sizeof *st);
	d = calloc(1, sizeof *d);
	if (!d)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	d->c = c;
	d->src = src;
	d->st = st;
	d->err = err;
	d->t0 = mono_seconds();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (check_conf(d) || open_pools(d) || probe_all(d) || window_base(d))
		goto out;
	loop(d);
	rc = finish(d);
out:
	if (d->progress_shown || c->progress)
		report_progress_clear();
	routes_finish(&d->rs, mono_seconds());
	for (i = 0; i < d->npools; i++) {
		st->reconnects += d->pools[i]->st.reconnects;
		pool_free(d->pools[i]);
	}
	heap_free(&d->retry);
	curl_global_cleanup();
	st->seconds = mono_seconds() - d->t0;
	free(d);
	return rc;
}
