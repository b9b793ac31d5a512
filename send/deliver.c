/* A delivery run: who is sent what and when, outcomes, retries, pacing,
 * the journal (deliver.h); the connections are slot.c's. */
#include "send/driver.h"
#include "util/path.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
deliver_safe_url(const char *url, struct buf *out)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = -1;

	if (!u)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0))
		goto out;
	if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT))
		port = NULL;
	rc = buf_printf(out, "%s://%s%s%s", scheme, host, port ? ":" : "",
			port ? port : "");
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

static void
clear_progress(struct drv *d)
{
	if (d->progress_shown) {
		report_progress_clear();
		d->progress_shown = 0;
	}
}

void
say(struct drv *d, const char *fmt, ...)
{
	char msg[NL_REPORT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	d->progress_shown = 0;
	nl_report(msg);
}

/* Messages started per second over the last 5 s (the ring holds the last
 * 64 starts); a burst shorter than 0.25 s counts as 0.25 s, so that a
 * throttle met after the first few messages does not read as infinite. */
static double
recent_rate(struct drv *d, double now)
{
	unsigned i, n = d->nstarts < 64 ? d->nstarts : 64, k = 0;
	double oldest = now;

	for (i = 0; i < n; i++)
		if (now - d->starts[i] <= 5.0) {
			k++;
			if (d->starts[i] < oldest)
				oldest = d->starts[i];
		}
	return (double)k / (now - oldest > 0.25 ? now - oldest : 0.25);
}

static void
progress(struct drv *d, double now, int force)
{
	const struct deliver_stats *st = d->st;
	struct buf b;
	double el = now - d->t0, r;
	unsigned long done;

	if (!d->c->progress || (!force && now - d->last_progress < TICK))
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
	if (d->rate > 0)
		buf_printf(&b, " (paced at %.1f/s)", d->rate);
	report_progress(buf_cstr(&b));
	d->progress_shown = 1;
	buf_free(&b);
}
/* ---- the probe ----------------------------------------------------------- */

static const char *
probe_reason(struct slot *sl, CURLcode res, char *tmp, size_t tlen,
	     long to_ms)
{
	switch (res) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return "cannot resolve the host name";
	case CURLE_COULDNT_CONNECT:
		return "cannot connect";
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(tmp, tlen, "no answer within %.1f s",
			 (double)to_ms / 1000.0);
		return tmp;
	case CURLE_USE_SSL_FAILED:
		return "the server does not offer STARTTLS and TLS is required "
			"(--tls=no allows plain SMTP, for a relay on localhost)";
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return "TLS failed: the server's certificate was refused or "
			"the handshake failed";
	case CURLE_LOGIN_DENIED:
		snprintf(tmp, tlen, "the login was refused (reply %d)",
			 sl->pre_code);
		return tmp;
	default:
		break;
	}
	if (sl->pre_code >= 400) {
		snprintf(tmp, tlen, "the server refused us (reply %d)",
			 sl->pre_code);
		return tmp;
	}
	return "the server did not talk SMTP as expected";
}
/* ---- the journal, grouped ------------------------------------------------ */

static int
jset(struct drv *d, const struct job *j, enum jstate st, int code,
     const char *reply)
{
	struct journal *jr = d->c->journal;

	if (!jr)
		return 0;
	if (!journal_in_transaction(jr) && journal_begin(jr, d->err))
		goto fail;
	if (journal_set(jr, d->c->issue_id, j->s.email, st, code, reply,
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
flush(struct drv *d)
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
	for (i = 0; i < d->nslots; i++)
		d->slots[i].hold = 0;
	return 0;
}

static int
held(const struct drv *d)
{
	int i;

	for (i = 0; i < d->nslots; i++)
		if (d->slots[i].hold)
			return 1;
	return 0;
}

/* ---- outcomes ------------------------------------------------------------ */

/* RFC 3463 4.7.x is "security or policy status", which is what relays use
 * for rate limits; the texts are those of SES, Gmail, Outlook, Yahoo. */
static int
is_throttle(int code, const char *reply)
{
	const char *t = strlen(reply) > 4 ? reply + 4 : "";

	if (code == 454)
		return 1;
	if (code != 421 && code != 451 && code != 450)
		return 0;
	if (strncmp(t, "4.7.", 4) == 0 && code == 421)
		return 1;
	return strcasestr(t, "throttl") || strcasestr(t, "rate limit") ||
		strcasestr(t, "try again later") ||
		strcasestr(t, "sending rate");
}

static void
throttled(struct drv *d, double now)
{
	double r;

	d->consec_throttle++;
	/* Parallel transfers that meet the same throttle count once. */
	if (now - d->last_throttle < 1.0)
		return;
	r = d->rate > 0 ? d->rate : recent_rate(d, now);
	if (r <= 0)
		r = 1.0;
	if (!d->throttle_base)
		d->throttle_base = r;
	d->rate = r / 2 < MIN_RATE ? MIN_RATE : r / 2;
	d->next_start = now + 1.0 / d->rate;
	d->hold_until = now + (d->consec_throttle < 30 ? d->consec_throttle
			       : 30);
	d->last_throttle = d->last_recover = now;
	if (d->c->verbose)
		say(d, "%s: throttled: slowing down to %.2f messages/s",
		    d->url, d->rate);
}

static void
recover(struct drv *d, double now)
{
	double cap = d->c->rate;

	if (!d->last_throttle || now - d->last_recover < 10.0)
		return;
	d->last_recover = now;
	if (d->rate <= 0)
		return;
	d->rate *= 1.1;
	if (cap > 0 && d->rate >= cap)
		d->rate = cap;
	else if (cap <= 0 && d->rate >= 2 * d->throttle_base)
		d->rate = 0;
}

static void
notice(struct drv *d, const char *email, const char *what, const char *tail,
       int always)
{
	if (d->c->verbose || (always && !d->c->quiet && d->notices < NOTICE_MAX))
		say(d, "%s: %s%s", email, what, tail);
	else if (always && !d->c->quiet && d->notices == NOTICE_MAX)
		say(d, "more failures not shown (--verbose shows them all)");
	if (always && !d->c->verbose)
		d->notices++;
}

/* ---- starting transfers ---------------------------------------------------- */

/* Is there a subscriber to send to?  Reads src until one needs sending,
 * counting the ones the journal says are done.  Returns a job, or NULL
 * (d->src_done, or an error with d->fatal/d->src_failed). */
static struct job *
next_from_src(struct drv *d)
{
	const struct deliver_conf *c = d->c;
	struct subscriber s;
	enum jstate st = J_PENDING;
	struct job *j;
	int r;

	while (!d->src_done) {
		r = d->src->next(d->src->arg, &s, d->err);
		if (r == 0) {
			d->src_done = 1;
			break;
		}
		if (r < 0) {
			d->src_done = d->src_failed = 1;
			d->stopping = 1;
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
		if (c->journal && journal_get(c->journal, c->issue_id, s.email,
					      &st, d->err)) {
			d->fatal = 1;
			return NULL;
		}
		if (c->journal && !c->resend) {
			if (st == J_SENT) {
				d->st->skipped++;
				continue;
			}
			if (st == J_FAILED && !c->retry_failed) {
				d->st->prior_failed++;
				continue;
			}
		}
		if (st == J_INFLIGHT) {
			d->st->resumed++;
			if (c->verbose)
				say(d, "%s: in flight when an earlier run "
				    "stopped: sending again", s.email);
		}
		j = job_new(&s);
		if (!j) {
			nl_err_set(d->err, NL_ENOMEM, "out of memory");
			d->fatal = 1;
		}
		return j;
	}
	return NULL;
}

/* The window cap: may one more transfer start? */
static int
window_allows(struct drv *d)
{
	const struct deliver_conf *c = d->c;

	if (!c->journal || c->window_count <= 0 || c->window_seconds <= 0)
		return 1;
	return d->win_base + (long)d->st->sent + (long)d->inflight <
		c->window_count;
}

/* ---- taking and beginning jobs ---------------------------------------------- */

/*
 * The next job that may start now, counted in flight; NULL when none may
 * (stopping, throttled, paced, the window full, nothing due), *wake then
 * shortened to when one could.
 */
static struct job *
take_job(struct drv *d, double now, double *wake)
{
	struct job *j = NULL;

	if (d->stopping || d->fatal)
		return NULL;
	if (now < d->hold_until) {
		if (d->hold_until - now < *wake)
			*wake = d->hold_until - now;
		return NULL;
	}
	if (d->rate > 0 && now < d->next_start) {
		if (d->next_start - now < *wake)
			*wake = d->next_start - now;
		return NULL;
	}
	if (!window_allows(d)) {
		if (d->inflight == 0)
			d->window_full = 1;
		return NULL;
	}
	if (d->retry.n && d->retry.v[0]->not_before <= now)
		j = heap_pop(&d->retry);
	else if (!d->src_done)
		j = next_from_src(d);
	if (!j) {
		if (d->retry.n && d->retry.v[0]->not_before - now < *wake)
			*wake = d->retry.v[0]->not_before - now;
		return NULL;
	}
	d->inflight++;
	if (d->rate > 0) {
		double gap = 1.0 / d->rate;
		d->next_start = (d->next_start > now - gap ? d->next_start :
				 now) + gap;
	}
	return j;
}

/* A job goes back to the front of the queue, as if never taken: its
 * connection failed before anything of its own was said. */
static int
requeue(struct drv *d, struct job *j, double now)
{
	d->inflight--;
	j->not_before = now;
	if (heap_push(&d->retry, j)) {
		free(j);
		nl_err_set(d->err, NL_ENOMEM, "out of memory: too many deferred "
			   "recipients");
		d->fatal = 1;
		return -1;
	}
	return 0;
}

/* Compose j and queue its envelope on sl's connection.  The message waits
 * in sl->msg for the 354 (send/smtp.c copies it then).  Composing here
 * rather than straight into the connection's output at the 354 costs that
 * one copy (~3% of the CPU, bench/README.md) and buys this: a message that
 * cannot be composed fails before any command for its recipient is sent,
 * instead of after a 354 that can only be undone by dropping the
 * connection (an end of data would deliver an empty message). */
static int
begin_job(struct drv *d, struct slot *sl, struct job *j, double now)
{
	buf_reset(&sl->msg);
	if (d->src->compose(d->src->arg, &j->s, &sl->msg, d->err)) {
		d->src_failed = 1;
		d->stopping = 1;
		goto fail;
	}
	if (smtp_begin(&sl->smtp, j, d->from, j->s.email)) {
		nl_err_set(d->err, errno == EINVAL ? NL_EINTERNAL : NL_ENOMEM,
			   "cannot queue an SMTP command: %s", strerror(errno));
		d->fatal = 1;
		goto fail;
	}
	j->attempts++;
	j->marked = 0;
	if (j->attempts > 1)
		d->st->retries++;
	sl->msg_job = j;
	sl->conn_msgs++;
	d->starts[d->nstarts++ % 64] = now;
	return 0;
fail:
	buf_reset(&sl->msg);
	d->inflight--;
	free(j);
	return -1;
}

/* max_per_connection: this connection has begun its last transaction. */
static int
conn_full(const struct drv *d, const struct slot *sl)
{
	int max = d->c->max_per_connection;

	return max > 0 && sl->conn_msgs >= (unsigned long)max;
}

/* Begin the next job on an open connection if it can take one now. */
static void
try_begin(struct drv *d, struct slot *sl, double now, double *wake)
{
	struct job *j;

	if (sl->state != S_OPEN || sl->msg_job || conn_full(d, sl) ||
	    !smtp_can_begin(&sl->smtp))
		return;
	j = take_job(d, now, wake);
	if (j)
		begin_job(d, sl, j, now);
}

/* ---- outcomes -------------------------------------------------------------- */

static void
outcome(struct drv *d, struct slot *sl, const struct smtp_event *ev)
{
	const struct deliver_conf *c = d->c;
	struct job *j = ev->tx;
	int max_att = c->max_attempts > 0 ? c->max_attempts : 3;
	double now = mono_seconds(), back;
	char why[REPLY_MAX + 32], tail[96];
	int code = ev->code, retry;
	enum jstate st;

	if (sl->msg_job == j) {
		sl->msg_job = NULL;
		buf_reset(&sl->msg);
	}
	if (!code && !ev->data_sent &&
	    (!ev->head || (!sl->timed_out && sl->conn_done > 0))) {
		/* The connection died under a transaction that had no say in
		 * it: none of its commands was answered, or the server closed
		 * a connection that had delivered messages before (a session
		 * cap; with PIPELINING the next envelope is already out). A
		 * transaction that was first on its connection, or waited
		 * past the timeout, is counted as its own failure below. */
		j->attempts--;
		if (j->attempts >= 1)
			d->st->retries--;
		requeue(d, j, now);
		return;
	}
	d->inflight--;
	if (code) {
		sl->conn_done++;
		d->consec_connfail = 0;
	}
	snprintf(why, sizeof why, "%s", ev->reply[0] ? ev->reply :
		 code ? "(no text)" : "connection lost");
	if (code >= 200 && code < 300 && ev->data_sent)
		st = J_SENT;
	else if (code >= 500)
		st = J_FAILED;
	else
		st = J_DEFERRED;
	if (st == J_SENT)
		d->consec_throttle = 0;
	retry = st == J_DEFERRED && j->attempts < max_att && !d->stopping;

	switch (st) {
	case J_SENT:
		d->st->sent++;
		notice(d, j->s.email, why, "", 0);
		break;
	case J_FAILED:
		d->st->failed++;
		notice(d, j->s.email, why, " (failed)", 1);
		break;
	default:
		if (code && is_throttle(code, why))
			throttled(d, now);
		if (retry)
			break;
		d->st->deferred++;
		notice(d, j->s.email, why, " (deferred; left for the next run)",
		       1);
		break;
	}
	/* The journal counts attempts by their in-flight marks; one that
	 * ended before its 354 was never marked (nothing could have been
	 * delivered), so it is counted here. */
	if ((!j->marked && jset(d, j, J_INFLIGHT, 0, NULL)) ||
	    jset(d, j, st, code, why))
		goto out;
	if (retry) {
		back = (c->backoff_ms > 0 ? (double)c->backoff_ms : 1000.0) /
			1000.0 * (double)(1u << (j->attempts - 1 < 16 ?
						 j->attempts - 1 : 16));
		if (back > BACKOFF_MAX)
			back = BACKOFF_MAX;
		j->not_before = now + back;
		if (heap_push(&d->retry, j)) {
			nl_err_set(d->err, NL_ENOMEM, "out of memory: too many "
				   "deferred recipients");
			d->fatal = 1;
			goto out;
		}
		snprintf(tail, sizeof tail, " (deferred; retry in %.1f s)",
			 back);
		notice(d, j->s.email, why, tail, 0);
		j = NULL;	/* the heap has it */
	}
out:
	free(j);
}

/* The 354 came for j: its in-flight mark goes into the journal, its
 * message into the connection's output, held until the mark is committed
 * (journal.h: marked before any byte that could deliver it leaves).  With
 * PIPELINING the next envelope follows in the same write. */
static void
body_ready(struct drv *d, struct slot *sl, struct job *j)
{
	double now = mono_seconds(), wake = TICK;

	if (j != sl->msg_job) {
		nl_err_set(d->err, NL_EINTERNAL, "SMTP: a 354 for a message "
			   "that is not the next one");
		d->fatal = 1;
		return;
	}
	if (smtp_closing(&sl->smtp))
		return;		/* slot_read closes it: nothing went out */
	if (jset(d, j, J_INFLIGHT, 0, NULL))
		return;
	j->marked = 1;
	if (smtp_body(&sl->smtp, j, sl->msg.data ? sl->msg.data : "",
		      sl->msg.len)) {
		nl_err_set(d->err, NL_ENOMEM, "out of memory for a message");
		d->fatal = 1;
		return;
	}
	sl->msg_job = NULL;
	buf_reset(&sl->msg);
	if (d->c->journal)
		sl->hold = 1;
	if (sl->smtp.pipelining)
		try_begin(d, sl, now, &wake);
}

void
slot_events(struct drv *d, struct slot *sl)
{
	struct smtp_event ev;

	while (smtp_event(&sl->smtp, &ev)) {
		if (ev.tx == &d->probe) {
			if (ev.kind == SMTP_DONE) {
				d->probe_code = ev.code;
				snprintf(d->probe_reply, sizeof d->probe_reply,
					 "%s", ev.reply);
			}
			continue;
		}
		if (ev.kind == SMTP_BODY)
			body_ready(d, sl, ev.tx);
		else
			outcome(d, sl, &ev);
	}
}

static const char *
connect_reason(struct slot *sl, char *tmp, size_t tlen)
{
	if (sl->result == CURLE_LOGIN_DENIED)
		snprintf(tmp, tlen, "login refused on a new connection "
			 "(reply %d)", sl->pre_code);
	else
		snprintf(tmp, tlen, "cannot open a connection: %s",
			 sl->errbuf[0] ? sl->errbuf :
			 curl_easy_strerror(sl->result));
	return tmp;
}

/* libcurl finished opening sl's connection (or failed to). */
void
connected(struct drv *d, struct slot *sl, int probing)
{
	double now = mono_seconds(), back;
	curl_socket_t fd = CURL_SOCKET_BAD;
	struct job *j;

	if (sl->result == CURLE_OK &&
	    (curl_easy_getinfo(sl->e, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	     fd == CURL_SOCKET_BAD))
		sl->result = CURLE_COULDNT_CONNECT;
	if (sl->result != CURLE_OK) {
		if (probing) {
			slot_detach(sl);
			return;
		}
		connect_reason(sl, d->connfail, sizeof d->connfail);
		if (d->c->verbose)
			say(d, "%s: %s", d->url, d->connfail);
		slot_detach(sl);
		sl->conn_fails++;
		d->consec_connfail++;
		back = (d->c->backoff_ms > 0 ? (double)d->c->backoff_ms :
			1000.0) / 1000.0 *
			(double)(1u << (sl->conn_fails - 1 < 16 ?
					sl->conn_fails - 1 : 16));
		sl->not_before = now + (back < BACKOFF_MAX ? back : BACKOFF_MAX);
		if ((j = sl->parked)) {
			sl->parked = NULL;
			requeue(d, j, now);
		}
		return;
	}
	sl->fd = fd;
	smtp_init(&sl->smtp, sl->pipelining);
	sl->state = S_OPEN;
	sl->conn_msgs = sl->conn_done = 0;
	sl->conn_fails = 0;
	sl->last_io = now;
	if (sl->ever_connected)
		d->st->reconnects++;
	sl->ever_connected = 1;
	if ((j = sl->parked)) {
		sl->parked = NULL;
		/* Stopped while connecting: nothing new starts. */
		if (d->stopping)
			requeue(d, j, now);
		else
			begin_job(d, sl, j, now);
	}
}

static int
probe(struct drv *d)
{
	struct slot *sl = &d->slots[0];
	long to = d->c->timeout_ms > 0 ? d->c->timeout_ms : 60000;
	char tmp[800];
	const char *why;

	if (slot_connect(d, sl))
		return -1;
	while (sl->state == S_CONNECTING) {
		if (d->c->stop && *d->c->stop)
			return nl_err_set(d->err, NL_ETEMPFAIL, "stopped before "
					  "sending");
		if (pump(d, TICK, 1))
			return -1;
	}
	if (sl->state != S_OPEN) {
		why = probe_reason(sl, sl->result, tmp, sizeof tmp, to);
		return nl_err_set(d->err, NL_EUNAVAIL, "%s: %s%s%s%s", d->url,
				  why, sl->errbuf[0] ? " (" : "", sl->errbuf,
				  sl->errbuf[0] ? ")" : "");
	}
	d->probe_code = -1;
	if (smtp_begin(&sl->smtp, &d->probe, d->from, NULL))
		return nl_err_set(d->err, NL_EINTERNAL, "cannot queue the "
				  "probe's MAIL FROM");
	while (d->probe_code < 0 && sl->state == S_OPEN) {
		if (d->c->stop && *d->c->stop)
			return nl_err_set(d->err, NL_ETEMPFAIL, "stopped before "
					  "sending");
		slot_write(d, sl);
		if (pump(d, TICK, 1))
			return -1;
	}
	if (d->probe_code < 0)
		d->probe_code = 0;
	if (d->probe_code / 100 == 2)
		return 0;
	if (d->probe_code == 0)
		return nl_err_set(d->err, NL_EUNAVAIL, "%s: the connection failed "
				  "after the login: %s", d->url,
				  d->probe_reply[0] ? d->probe_reply :
				  "connection lost");
	return nl_err_set(d->err, NL_EUNAVAIL, "%s: the envelope sender <%s> "
			  "was refused: %s", d->url, d->from, d->probe_reply);
}

/*
 * Give every slot what it can take now: a job for an open connection that
 * can begin one, a connection for an idle slot when a job is waiting;
 * QUIT for a connection that has had its max_per_connection.  Returns
 * the time until something could start (rate, hold, backoff), or TICK.
 */
static double
fill(struct drv *d)
{
	double now = mono_seconds(), wake = TICK;
	struct job *j;
	int i;

	for (i = 0; i < d->nslots && !d->fatal; i++) {
		struct slot *sl = &d->slots[i];

		switch (sl->state) {
		case S_OPEN:
			if (conn_full(d, sl)) {
				if (smtp_open(&sl->smtp) == 0 &&
				    smtp_awaiting(&sl->smtp) == 0)
					slot_quit(sl, now);
				break;
			}
			try_begin(d, sl, now, &wake);
			break;
		case S_OFF:
			if (now < sl->not_before) {
				if (sl->not_before - now < wake)
					wake = sl->not_before - now;
				break;
			}
			j = take_job(d, now, &wake);
			if (!j)
				break;
			sl->parked = j;
			if (slot_connect(d, sl))
				d->fatal = 1;
			break;
		default:
			break;
		}
	}
	return wake > 0 ? wake : 0;
}

/* The end of a run: QUIT on every open connection, its 221 awaited
 * QUIT_WAIT at most (RFC 5321 section 4.1.1.10). */
static void
quit_all(struct drv *d)
{
	double now = mono_seconds(), end = now + QUIT_WAIT + 0.1;
	int i, left;

	for (i = 0; i < d->nslots; i++) {
		struct slot *sl = &d->slots[i];
		if (sl->state == S_OPEN && smtp_open(&sl->smtp) == 0)
			slot_quit(sl, now);
	}
	for (;;) {
		send_all(d);
		for (left = 0, i = 0; i < d->nslots; i++)
			left += d->slots[i].state == S_QUIT;
		if (!left || mono_seconds() >= end)
			break;
		if (pump(d, TICK, 0))
			break;
	}
}

/* The window is full: count what is left as deferred, without sending. */
static void
drain_window(struct drv *d)
{
	struct job *j;
	unsigned long n = 0;

	while ((j = heap_pop(&d->retry))) {
		free(j);
		n++;
	}
	while (!d->fatal && (j = next_from_src(d))) {
		free(j);
		n++;
	}
	d->st->deferred += n;
	if (n && !d->c->quiet)
		say(d, "the sending window (%ld messages per %ld s) is used up: "
		    "%lu recipient%s left for a later run", d->c->window_count,
		    d->c->window_seconds, n, n == 1 ? "" : "s");
}

/* ---- the run ------------------------------------------------------------- */

static int
check_conf(struct drv *d)
{
	const struct deliver_conf *c = d->c;
	const char *f = c->mail_from ? c->mail_from : "";
	struct buf b;

	if (!c->url || (strncasecmp(c->url, "smtp://", 7) != 0 &&
			strncasecmp(c->url, "smtps://", 8) != 0))
		return nl_err_set(d->err, NL_ECONFIG, "the SMTP URL must be "
				  "smtp://host[:port] or smtps://host[:port]");
	buf_init(&b, sizeof d->url - 1);
	if (deliver_safe_url(c->url, &b)) {
		buf_free(&b);
		return nl_err_set(d->err, NL_ECONFIG, "the SMTP URL is not a "
				  "valid URL");
	}
	snprintf(d->url, sizeof d->url, "%s", buf_cstr(&b));
	buf_free(&b);
	if (strpbrk(f, "\r\n<>") || strlen(f) > 500)
		return nl_err_set(d->err, NL_ECONFIG, "the envelope sender "
				  "is not an address");
	if (c->journal && !c->issue_id)
		return nl_err_set(d->err, NL_EINTERNAL, "no issue id for the "
				  "journal");
	return 0;
}

int
deliver_run(const struct deliver_conf *c, const struct deliver_src *src,
	    struct deliver_stats *st, struct nl_err *err)
{
	struct drv *d;
	int i, rc = -1;
	double now, wake;

	memset(st, 0, sizeof *st);
	d = calloc(1, sizeof *d);
	if (!d)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	d->c = c;
	d->src = src;
	d->st = st;
	d->err = err;
	d->t0 = mono_seconds();
	d->rate = c->rate > 0 ? c->rate : 0;
	d->from = c->mail_from ? c->mail_from : "";
	d->timeout = (double)(c->timeout_ms > 0 ? c->timeout_ms : 60000) /
		1000.0;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (check_conf(d))
		goto out;
	d->nslots = c->concurrency > 0 ? c->concurrency : 4;
	if (d->nslots > MAX_SLOTS)
		d->nslots = MAX_SLOTS;
	for (i = 0; i < d->nslots; i++)
		if (slot_init(d, &d->slots[i], i)) {
			d->nslots = i + 1;
			goto out;
		}
	if (probe(d))
		goto out;
	if (c->journal && c->window_count > 0 && c->window_seconds > 0) {
		d->win_base = journal_sent_since(c->journal,
			journal_now(c->journal) - c->window_seconds);
		if (d->win_base < 0) {
			nl_err_set(err, NL_EIO, "journal: cannot count the "
				   "messages sent in the window");
			goto out;
		}
	}

	for (;;) {
		now = mono_seconds();
		if (c->stop && *c->stop && !d->stopping) {
			d->stopping = 1;
			nl_err_set(&d->brk, NL_ETEMPFAIL, "stopped by a signal; "
				   "a re-run sends to the rest");
		}
		if (c->stop && *c->stop >= 2)
			d->abandon = 1;
		if (d->fatal || d->abandon)
			break;
		if (!d->stopping && d->consec_connfail >=
		    (unsigned)(d->nslots * 2 > 4 ? d->nslots * 2 : 4)) {
			d->stopping = 1;
			nl_err_set(&d->brk, NL_ETEMPFAIL, "%s: the server stopped "
				   "accepting connections%s%s%s; a re-run sends "
				   "to the rest", d->url,
				   d->connfail[0] ? " (" : "", d->connfail,
				   d->connfail[0] ? ")" : "");
		}
		if (!d->stopping && d->consec_throttle >=
		    (unsigned)(d->nslots * 2 > 10 ? d->nslots * 2 : 10)) {
			d->stopping = 1;
			nl_err_set(&d->brk, NL_ETEMPFAIL, "%s: the server keeps "
				   "throttling us; a re-run sends to the rest",
				   d->url);
		}
		recover(d, now);
		wake = fill(d);
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
		send_all(d);
		progress(d, now, 0);
		if (pump(d, wake, 0)) {
			d->fatal = 1;
			break;
		}
	}
	/* Retries still waiting stay deferred in the journal. */
	st->deferred += (unsigned long)d->retry.n;
	if (d->abandon || d->fatal)
		for (i = 0; i < d->nslots; i++)
			slot_drop(d, &d->slots[i]);
	if (d->fatal) {
		/* Whatever was recorded so far is worth keeping. */
		if (c->journal && journal_in_transaction(c->journal))
			journal_commit(c->journal, NULL);
		goto out;
	}
	if (flush(d))
		goto out;
	quit_all(d);
	if (d->src_failed)
		goto out;
	if (d->stopping && d->brk.kind != NL_OK) {
		*err = d->brk;
		goto out;
	}
	rc = 0;
out:
	if (d->progress_shown || c->progress)
		clear_progress(d);
	for (i = 0; i < d->nslots; i++)
		slot_free(&d->slots[i]);
	heap_free(&d->retry);
	curl_global_cleanup();
	st->seconds = mono_seconds() - d->t0;
	free(d);
	return rc;
}
