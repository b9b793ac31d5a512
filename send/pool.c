/* One relay: its slots, the probe, its pace, throttling and health
 * (pool.h).  The run is reached only through p->ev. */
#include "send/pool.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/path.h"
#include "util/report.h"

int
pool_safe_url(const char *url, struct buf *out)
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

int
pool_new(const struct pool_conf *c, const struct pool_events *ev,
	 struct nl_err *err, struct pool **out)
{
	struct pool *p;
	struct buf b;
	int i;

	*out = NULL;
	p = calloc(1, sizeof *p);
	if (!p)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	p->c = *c;
	p->ev = *ev;
	p->err = err;
	p->rate = c->rate > 0 ? c->rate : 0;
	p->timeout = (double)(c->timeout_ms > 0 ? c->timeout_ms : 60000) /
		1000.0;
	buf_init(&b, sizeof p->url - 1);
	if (pool_safe_url(c->url, &b)) {
		buf_free(&b);
		free(p);
		return nl_err_set(err, NL_ECONFIG, "the SMTP URL is not a valid "
				  "URL");
	}
	snprintf(p->url, sizeof p->url, "%s", buf_cstr(&b));
	buf_free(&b);
	p->nslots = c->concurrency > 0 ? c->concurrency : 4;
	if (p->nslots > POOL_MAX_SLOTS)
		p->nslots = POOL_MAX_SLOTS;
	for (i = 0; i < p->nslots; i++)
		if (slot_init(p, &p->slots[i], i)) {
			p->nslots = i + 1;
			pool_free(p);
			return -1;
		}
	*out = p;
	return 0;
}

void
pool_free(struct pool *p)
{
	int i;

	if (!p)
		return;
	for (i = 0; i < p->nslots; i++)
		slot_free(&p->slots[i]);
	free(p);
}

/* ---- pace and throttling ------------------------------------------------- */

/* Messages started per second over the last 5 s (the ring holds the last
 * 64 starts); a burst shorter than 0.25 s counts as 0.25 s, so that a
 * throttle met after the first few messages does not read as infinite. */
double
pool_recent_rate(const struct pool *p, double now)
{
	unsigned i, n = p->nstarts < 64 ? p->nstarts : 64, k = 0;
	double oldest = now;

	for (i = 0; i < n; i++)
		if (now - p->starts[i] <= 5.0) {
			k++;
			if (p->starts[i] < oldest)
				oldest = p->starts[i];
		}
	return (double)k / (now - oldest > 0.25 ? now - oldest : 0.25);
}

double
pool_rate(const struct pool *p)
{
	return p->rate;
}

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
throttled(struct pool *p, double now)
{
	double r;

	p->consec_throttle++;
	p->st.throttled++;
	/* Parallel transfers that meet the same throttle count once. */
	if (now - p->last_throttle < 1.0)
		return;
	r = p->rate > 0 ? p->rate : pool_recent_rate(p, now);
	if (r <= 0)
		r = 1.0;
	if (!p->throttle_base)
		p->throttle_base = r;
	p->rate = r / 2 < MIN_RATE ? MIN_RATE : r / 2;
	p->next_start = now + 1.0 / p->rate;
	p->hold_until = now + (p->consec_throttle < 30 ? p->consec_throttle
			       : 30);
	p->last_throttle = p->last_recover = now;
	if (p->c.verbose)
		nl_reportf("%s: throttled: slowing down to %.2f messages/s",
			   p->url, p->rate);
}

void
pool_recover(struct pool *p, double now)
{
	double cap = p->c.rate;

	if (!p->last_throttle || now - p->last_recover < 10.0)
		return;
	p->last_recover = now;
	if (p->rate <= 0)
		return;
	p->rate *= 1.1;
	if (cap > 0 && p->rate >= cap)
		p->rate = cap;
	else if (cap <= 0 && p->rate >= 2 * p->throttle_base)
		p->rate = 0;
}

int
pool_overthrottled(const struct pool *p)
{
	return p->consec_throttle >=
		(unsigned)(p->nslots * 2 > 10 ? p->nslots * 2 : 10);
}

int
pool_unreachable(const struct pool *p)
{
	return p->consec_connfail >=
		(unsigned)(p->nslots * 2 > 4 ? p->nslots * 2 : 4);
}

/* May a transfer start now (hold after a throttle, the pace)? */
static int
gate(const struct pool *p, double now, double *wake)
{
	if (now < p->hold_until) {
		if (p->hold_until - now < *wake)
			*wake = p->hold_until - now;
		return 0;
	}
	if (p->rate > 0 && now < p->next_start) {
		if (p->next_start - now < *wake)
			*wake = p->next_start - now;
		return 0;
	}
	return 1;
}

/* A job from the run, paced. */
static struct job *
take(struct pool *p, double now, double *wake)
{
	struct job *j;
	double gap;

	if (p->fatal || !gate(p, now, wake))
		return NULL;
	j = p->ev.take(p->ev.arg, now, wake);
	if (j)
		p->taken++;
	if (j && p->rate > 0) {
		gap = 1.0 / p->rate;
		p->next_start = (p->next_start > now - gap ? p->next_start :
				 now) + gap;
	}
	return j;
}

/* max_per_connection: this connection has begun its last transaction. */
static int
conn_full(const struct pool *p, const struct slot *sl)
{
	int max = p->c.max_per_connection;

	return max > 0 && sl->conn_msgs >= (unsigned long)max;
}

int
pool_keeps_turn(const struct pool *p, double now)
{
	double wake = TICK;
	int i;

	if (p->fatal || !gate(p, now, &wake))
		return 0;
	for (i = 0; i < p->nslots; i++) {
		const struct slot *sl = &p->slots[i];

		if (sl->state != S_OFF ||
		    (now >= sl->not_before && !sl->parked))
			return 1;
	}
	return 0;
}

void
pool_revive(struct pool *p)
{
	int i;

	p->consec_connfail = 0;
	for (i = 0; i < p->nslots; i++) {
		p->slots[i].conn_fails = 0;
		p->slots[i].not_before = 0;
	}
}

/* ---- beginning transactions -------------------------------------------- */

/* The run composes j into sl->msg; its envelope is queued.  The message
 * waits in sl->msg for the 354 (send/smtp.c copies it then): a message
 * that cannot be composed fails before any command for its recipient is
 * sent, instead of after a 354 that only dropping the connection undoes
 * (an end of data would deliver an empty message). */
static void
begin(struct pool *p, struct slot *sl, struct job *j, double now)
{
	assert(sl->state == S_OPEN && !sl->msg_job);
	buf_reset(&sl->msg);
	if (p->ev.begin(p->ev.arg, j, p->c.variant, &sl->msg))
		return;
	if (smtp_begin(&sl->smtp, j, p->c.mail_from, j->s.email)) {
		nl_err_set(p->err, errno == EINVAL ? NL_EINTERNAL : NL_ENOMEM,
			   "cannot queue an SMTP command: %s", strerror(errno));
		p->fatal = 1;
		buf_reset(&sl->msg);
		p->ev.dropped(p->ev.arg, j);
		return;
	}
	sl->msg_job = j;
	sl->conn_msgs++;
	p->starts[p->nstarts++ % 64] = now;
}


static void
try_begin(struct pool *p, struct slot *sl, double now, double *wake)
{
	struct job *j;

	if (sl->state != S_OPEN || sl->msg_job || conn_full(p, sl) ||
	    !smtp_can_begin(&sl->smtp))
		return;
	j = take(p, now, wake);
	if (j)
		begin(p, sl, j, now);
}

double
pool_fill(struct pool *p, unsigned *took)
{
	double now = mono_seconds(), wake = TICK;
	unsigned long before = p->taken;
	struct job *j;
	int i;

	for (i = 0; i < p->nslots && !p->fatal; i++) {
		struct slot *sl = &p->slots[i];

		if (sl->state == S_OPEN && conn_full(p, sl)) {
			if (smtp_open(&sl->smtp) == 0 &&
			    smtp_awaiting(&sl->smtp) == 0)
				slot_quit(sl, now);
		} else if (sl->state == S_OPEN) {
			try_begin(p, sl, now, &wake);
		} else if (sl->state == S_OFF && now < sl->not_before) {
			if (sl->not_before - now < wake)
				wake = sl->not_before - now;
		} else if (sl->state == S_OFF && (j = take(p, now, &wake))) {
			sl->parked = j;
			if (slot_connect(sl))
				p->fatal = 1;
		}
	}
	if (took)
		*took = (unsigned)(p->taken - before);
	return wake > 0 ? wake : 0;
}

/* ---- what the server said ------------------------------------------------ */

/* The 354 came for j: the run marks it in flight, its message goes into
 * the connection's output (held until the mark is committed when the run
 * says so).  With PIPELINING the next envelope follows in the same
 * write. */
static void
body_ready(struct pool *p, struct slot *sl, struct job *j)
{
	double now = mono_seconds(), wake = TICK;
	int hold;

	if (j != sl->msg_job) {
		nl_err_set(p->err, NL_EINTERNAL, "SMTP: a 354 for a message "
			   "that is not the next one");
		p->fatal = 1;
		return;
	}
	if (smtp_closing(&sl->smtp))
		return;		/* slot_read closes it: nothing went out */
	hold = p->ev.body(p->ev.arg, j);
	if (hold < 0)
		return;
	if (smtp_body(&sl->smtp, j, sl->msg.data ? sl->msg.data : "",
		      sl->msg.len)) {
		nl_err_set(p->err, NL_ENOMEM, "out of memory for a message");
		p->fatal = 1;
		return;
	}
	sl->msg_job = NULL;
	buf_reset(&sl->msg);
	sl->hold = hold;
	if (sl->smtp.pipelining)
		try_begin(p, sl, now, &wake);
}

/* A transaction is over.  It goes back untried when the connection died
 * under it without its having had a say (pool.h, "Whose failure");
 * otherwise the pool learns from the reply and the run gets the outcome. */
static void
tx_done(struct pool *p, struct slot *sl, const struct smtp_event *ev)
{
	struct job *j = ev->tx;

	if (sl->msg_job == j) {
		sl->msg_job = NULL;
		buf_reset(&sl->msg);
	}
	if (!ev->code && !ev->data_sent &&
	    (!ev->head || (!sl->timed_out && sl->conn_done > 0))) {
		p->ev.requeue(p->ev.arg, j, 1);
		return;
	}
	/* A 421 before the message on a connection that has delivered: the
	 * server's cap per session ("421 Too many messages"), or a throttle;
	 * either way the connection's, not the recipient's: sent again at
	 * once, not counted (RFC 5321 section 3.8). */
	if (ev->code == 421 && !ev->data_sent && sl->conn_done > 0) {
		if (is_throttle(ev->code, ev->reply))
			throttled(p, mono_seconds());
		p->ev.requeue(p->ev.arg, j, 1);
		return;
	}
	if (ev->code) {
		sl->conn_done++;
		p->consec_connfail = 0;
	}
	if (ev->code >= 200 && ev->code < 300 && ev->data_sent)
		p->consec_throttle = 0;
	else if (ev->code && ev->code < 500 && is_throttle(ev->code, ev->reply))
		throttled(p, mono_seconds());
	p->ev.done(p->ev.arg, j, ev);
}

void
pool_slot_events(struct slot *sl)
{
	struct pool *p = sl->p;
	struct smtp_event ev;

	while (smtp_event(&sl->smtp, &ev)) {
		if (ev.tx == &p->probe) {
			if (ev.kind == SMTP_DONE) {
				p->probe_code = ev.code;
				snprintf(p->probe_reply, sizeof p->probe_reply,
					 "%s", ev.reply);
			}
			continue;
		}
		if (ev.kind == SMTP_BODY)
			body_ready(p, sl, ev.tx);
		else
			tx_done(p, sl, &ev);
	}
}

/* ---- connections ------------------------------------------------------------ */

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

/* A connection that could not be opened: the slot backs off, its parked
 * job goes back to the run. */
static void
connect_failed(struct pool *p, struct slot *sl, double now)
{
	double back;
	struct job *j;

	connect_reason(sl, p->connfail, sizeof p->connfail);
	if (p->c.verbose)
		nl_reportf("%s: %s", p->url, p->connfail);
	slot_detach(sl);
	sl->conn_fails++;
	p->consec_connfail++;
	back = (p->c.backoff_ms > 0 ? (double)p->c.backoff_ms : 1000.0) /
		1000.0 * (double)(1u << (sl->conn_fails - 1 < 16 ?
					 sl->conn_fails - 1 : 16));
	sl->not_before = now + (back < BACKOFF_MAX ? back : BACKOFF_MAX);
	if ((j = sl->parked)) {
		sl->parked = NULL;
		p->ev.requeue(p->ev.arg, j, 0);
	}
}

void
pool_connected(struct slot *sl)
{
	struct pool *p = sl->p;
	double now = mono_seconds();
	curl_socket_t fd = CURL_SOCKET_BAD;
	struct job *j;

	if (sl->result == CURLE_OK &&
	    (curl_easy_getinfo(sl->e, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	     fd == CURL_SOCKET_BAD))
		sl->result = CURLE_COULDNT_CONNECT;
	if (sl->result != CURLE_OK) {
		if (p->probing)
			slot_detach(sl);
		else
			connect_failed(p, sl, now);
		return;
	}
	sl->fd = fd;
	smtp_init(&sl->smtp, sl->pipelining);
	sl->state = S_OPEN;
	sl->conn_msgs = sl->conn_done = 0;
	sl->conn_fails = 0;
	sl->last_io = now;
	if (sl->ever_connected)
		p->st.reconnects++;
	sl->ever_connected = 1;
	if ((j = sl->parked)) {
		sl->parked = NULL;
		begin(p, sl, j, now);
	}
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

/* Slot 0's connection for the probe. */
static int
probe_connect(struct pool *p, volatile int *stop)
{
	struct slot *sl = &p->slots[0];
	long to = p->c.timeout_ms > 0 ? p->c.timeout_ms : 60000;
	char tmp[800];
	const char *why;
	struct pool *one[1] = { p };

	if (slot_connect(sl))
		return -1;
	while (sl->state == S_CONNECTING) {
		if (stop && *stop)
			return nl_err_set(p->err, NL_ETEMPFAIL, "stopped before "
					  "sending");
		if (pool_pump(one, 1, TICK))
			return -1;
	}
	if (sl->state == S_OPEN)
		return 0;
	why = probe_reason(sl, sl->result, tmp, sizeof tmp, to);
	return nl_err_set(p->err, NL_EUNAVAIL, "%s: %s%s%s%s", p->url, why,
			  sl->errbuf[0] ? " (" : "", sl->errbuf,
			  sl->errbuf[0] ? ")" : "");
}

int
pool_probe(struct pool *p, volatile int *stop)
{
	struct slot *sl = &p->slots[0];
	struct pool *one[1] = { p };
	int r;

	p->probing = 1;
	r = probe_connect(p, stop);
	p->probing = 0;
	if (r)
		return -1;
	p->probe_code = -1;
	if (smtp_begin(&sl->smtp, &p->probe, p->c.mail_from, NULL))
		return nl_err_set(p->err, NL_EINTERNAL, "cannot queue the "
				  "probe's MAIL FROM");
	while (p->probe_code < 0 && sl->state == S_OPEN) {
		if (stop && *stop)
			return nl_err_set(p->err, NL_ETEMPFAIL, "stopped before "
					  "sending");
		slot_write(sl);
		if (pool_pump(one, 1, TICK))
			return -1;
	}
	if (p->probe_code < 0)
		p->probe_code = 0;
	if (p->probe_code / 100 == 2)
		return 0;
	if (p->probe_code == 0)
		return nl_err_set(p->err, NL_EUNAVAIL, "%s: the connection failed "
				  "after the login: %s", p->url,
				  p->probe_reply[0] ? p->probe_reply :
				  "connection lost");
	return nl_err_set(p->err, NL_EUNAVAIL, "%s: the envelope sender <%s> "
			  "was refused: %s", p->url, p->c.mail_from,
			  p->probe_reply);
}

/* ---- the run's hands on the pool ------------------------------------------ */

void
pool_release(struct pool *p)
{
	int i;

	for (i = 0; i < p->nslots; i++)
		p->slots[i].hold = 0;
}

int
pool_held(const struct pool *p)
{
	int i;

	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].hold)
			return 1;
	return 0;
}

/* QUIT on every open connection that owes nothing (RFC 5321 section
 * 4.1.1.10). */
void
pool_quit(struct pool *p)
{
	double now = mono_seconds();
	int i;

	for (i = 0; i < p->nslots; i++) {
		struct slot *sl = &p->slots[i];

		if (sl->state == S_OPEN && smtp_open(&sl->smtp) == 0)
			slot_quit(sl, now);
	}
}

int
pool_closing(const struct pool *p)
{
	int i;

	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].state == S_QUIT)
			return 1;
	return 0;
}

/* Stopped hard: close without outcomes; what was in flight stays so in
 * the journal and is sent again by the next run. */
void
pool_drop(struct pool *p)
{
	struct smtp_event ev;
	int i;

	for (i = 0; i < p->nslots; i++) {
		struct slot *sl = &p->slots[i];

		if (sl->state == S_OPEN || sl->state == S_QUIT) {
			smtp_abort(&sl->smtp, "stopped");
			while (smtp_event(&sl->smtp, &ev))
				if (ev.kind == SMTP_DONE && ev.tx != &p->probe)
					p->ev.dropped(p->ev.arg, ev.tx);
		}
		if (sl->parked) {
			p->ev.dropped(p->ev.arg, sl->parked);
			sl->parked = NULL;
		}
		slot_detach(sl);
	}
}
