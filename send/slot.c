/* A pool's connections: libcurl opens them, we read and write them, one
 * poll(2) loop for every pool (pool.h). */
#include "send/pool.h"

#include <assert.h>

#include "util/path.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- libcurl: opening connections ---------------------------------------- */

/* A line the server sent while libcurl connected.  Only codes and the
 * EHLO keyword PIPELINING (RFC 2920 section 2) are looked at. */
static void
pre_line(struct slot *sl, const char *p, size_t n)
{
	while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	if (n < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '9' ||
	    p[2] < '0' || p[2] > '9')
		return;
	if (n == 3 || p[3] != '-')
		sl->pre_code = (p[0] - '0') * 100 + (p[1] - '0') * 10 +
			(p[2] - '0');
	if (n >= 14 && p[0] == '2' && strncasecmp(p + 4, "PIPELINING", 10) == 0
	    && (n == 14 || p[14] == ' '))
		sl->pipelining = 1;
}

static int
dbg_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct slot *sl = arg;
	const char *p, *nl;

	(void)h;
	switch (type) {
	case CURLINFO_HEADER_OUT:
		/* Only the verb is looked at: AUTH lines carry the
		 * credentials and are never copied anywhere.  EHLO is sent
		 * again after STARTTLS: only the last reply counts. */
		if (size >= 4 && strncasecmp(data, "EHLO", 4) == 0)
			sl->pipelining = 0;
		break;
	case CURLINFO_HEADER_IN:
		for (p = data; p < data + size; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(data + size - p));
			if (!nl)
				nl = data + size - 1;
			pre_line(sl, p, (size_t)(nl - p + 1));
		}
		break;
	default:
		break;
	}
	return 0;
}

static int
sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct slot *sl = userp;
	int i;

	(void)e;
	(void)socketp;
	for (i = 0; i < sl->nsocks; i++)
		if (sl->socks[i].fd == s)
			break;
	if (what == CURL_POLL_REMOVE) {
		if (i < sl->nsocks)
			sl->socks[i] = sl->socks[--sl->nsocks];
		return 0;
	}
	if (i == sl->nsocks) {
		if (sl->nsocks == MAX_SOCKS)
			return -1;
		sl->nsocks++;
	}
	sl->socks[i].fd = s;
	sl->socks[i].what = what;
	return 0;
}

static int
timer_cb(CURLM *m, long ms, void *userp)
{
	struct slot *sl = userp;

	(void)m;
	sl->timer_on = ms >= 0;
	sl->timer_at = mono_seconds() + (ms > 0 ? (double)ms / 1000.0 : 0.0);
	return 0;
}

/* ---- slots --------------------------------------------------------------- */

#define SETOPT(h, o, v) do { \
		if (curl_easy_setopt((h), (o), (v)) != CURLE_OK) \
			goto fail; \
	} while (0)

int
slot_init(struct pool *p, struct slot *sl, int idx)
{
	const struct pool_conf *c = &p->c;
	long to = c->timeout_ms > 0 ? c->timeout_ms : 60000;
	int is_smtps = strncasecmp(c->url, "smtps:", 6) == 0;

	sl->p = p;
	sl->idx = idx;
	sl->fd = CURL_SOCKET_BAD;
	sl->tls = is_smtps || c->tls;
	buf_init(&sl->msg, 0);
	sl->m = curl_multi_init();
	sl->e = curl_easy_init();
	if (!sl->m || !sl->e)
		goto fail;
	/* One connection per slot, in its own multi (pool.h). */
	if (curl_multi_setopt(sl->m, CURLMOPT_MAXCONNECTS, 1L) ||
	    curl_multi_setopt(sl->m, CURLMOPT_SOCKETFUNCTION, sock_cb) ||
	    curl_multi_setopt(sl->m, CURLMOPT_SOCKETDATA, sl) ||
	    curl_multi_setopt(sl->m, CURLMOPT_TIMERFUNCTION, timer_cb) ||
	    curl_multi_setopt(sl->m, CURLMOPT_TIMERDATA, sl))
		goto fail;
	SETOPT(sl->e, CURLOPT_URL, c->url);
	SETOPT(sl->e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* Greeting, EHLO, STARTTLS, AUTH; then the socket is ours through
	 * curl_easy_send/curl_easy_recv. */
	SETOPT(sl->e, CURLOPT_CONNECT_ONLY, 1L);
	SETOPT(sl->e, CURLOPT_NOSIGNAL, 1L);
	SETOPT(sl->e, CURLOPT_USE_SSL, is_smtps ? (long)CURLUSESSL_ALL :
	       c->tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
	SETOPT(sl->e, CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(sl->e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_file)
		SETOPT(sl->e, CURLOPT_CAINFO, c->ca_file);
	if (c->user && *c->user) {
		SETOPT(sl->e, CURLOPT_USERNAME, c->user);
		if (c->password)
			SETOPT(sl->e, CURLOPT_PASSWORD, c->password);
		else
			SETOPT(sl->e, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
	} else {
		SETOPT(sl->e, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
	}
	/* The whole opening: connect, TLS, EHLO, AUTH. */
	SETOPT(sl->e, CURLOPT_TIMEOUT_MS, to);
	SETOPT(sl->e, CURLOPT_CONNECTTIMEOUT_MS, to < 30000 ? to : 30000L);
	SETOPT(sl->e, CURLOPT_SERVER_RESPONSE_TIMEOUT, (to + 999) / 1000);
	SETOPT(sl->e, CURLOPT_ERRORBUFFER, sl->errbuf);
	/* VERBOSE only feeds dbg_cb: nothing of it is printed. */
	SETOPT(sl->e, CURLOPT_DEBUGFUNCTION, dbg_cb);
	SETOPT(sl->e, CURLOPT_DEBUGDATA, sl);
	SETOPT(sl->e, CURLOPT_VERBOSE, 1L);
	SETOPT(sl->e, CURLOPT_PRIVATE, sl);
	return 0;
fail:
	return nl_err_set(p->err, NL_EINTERNAL, "libcurl: cannot set up a "
			  "connection slot (out of memory, or a libcurl "
			  "without SMTP or TLS)");
}

/* Close the connection (libcurl closes a CONNECT_ONLY connection when its
 * handle leaves the multi: lib/multi.c, curl_multi_remove_handle). */
void
slot_detach(struct slot *sl)
{
	if (sl->added)
		curl_multi_remove_handle(sl->m, sl->e);
	sl->added = 0;
	sl->nsocks = 0;
	sl->timer_on = 0;
	sl->fd = CURL_SOCKET_BAD;
	sl->hold = 0;
	sl->msg_job = NULL;
	buf_reset(&sl->msg);
	sl->state = S_OFF;
}

void
slot_free(struct slot *sl)
{
	slot_detach(sl);
	if (sl->e)
		curl_easy_cleanup(sl->e);
	if (sl->m)
		curl_multi_cleanup(sl->m);
	smtp_free(&sl->smtp);
	buf_free(&sl->msg);
	free(sl->parked);
	sl->e = NULL;
	sl->m = NULL;
	sl->parked = NULL;
}

int
slot_connect(struct slot *sl)
{
	CURLMcode mc;

	sl->done = 0;
	sl->result = CURLE_OK;
	sl->pre_code = sl->pipelining = 0;
	sl->errbuf[0] = '\0';
	mc = curl_multi_add_handle(sl->m, sl->e);
	if (mc != CURLM_OK)
		return nl_err_set(sl->p->err, NL_EINTERNAL, "libcurl: %s",
				  curl_multi_strerror(mc));
	sl->added = 1;
	sl->state = S_CONNECTING;
	return 0;
}

/* ---- connections ------------------------------------------------------------ */

/* The connection is gone or must go: its open transactions end with why
 * (send/smtp.c decides whose failure it was), then it is closed. */
void
slot_close(struct slot *sl, const char *why)
{
	int had = sl->state == S_OPEN && smtp_open(&sl->smtp) > 0;

	if (sl->state == S_OPEN || sl->state == S_QUIT) {
		smtp_abort(&sl->smtp, why);
		pool_slot_events(sl);
	}
	if (had && sl->conn_done == 0)
		sl->p->consec_connfail++;
	slot_detach(sl);
}

void
slot_quit(struct slot *sl, double now)
{
	if (smtp_quit(&sl->smtp)) {
		slot_detach(sl);
		return;
	}
	sl->state = S_QUIT;
	sl->quit_by = now + QUIT_WAIT;
}

/* Write what the connection has to say, unless it waits for a commit. */
void
slot_write(struct slot *sl)
{
	const char *p;
	size_t len, n;
	CURLcode r;
	char why[160];

	while (!sl->hold && (sl->state == S_OPEN || sl->state == S_QUIT)) {
		p = smtp_out(&sl->smtp, &len);
		if (!len)
			break;
		n = 0;
		r = curl_easy_send(sl->e, p, len, &n);
		if (r == CURLE_AGAIN)
			break;
		if (r != CURLE_OK) {
			snprintf(why, sizeof why, "connection lost: %s",
				 curl_easy_strerror(r));
			slot_close(sl, why);
			return;
		}
		smtp_sent(&sl->smtp, n);
		sl->last_io = mono_seconds();
	}
}

/* Read what the server sent and act on each complete reply. */
static void
slot_read(struct slot *sl)
{
	char in[RECV_CHUNK], why[160];
	unsigned long replies;
	size_t n;
	CURLcode r;

	while (sl->state == S_OPEN || sl->state == S_QUIT) {
		n = 0;
		r = curl_easy_recv(sl->e, in, sizeof in, &n);
		if (r == CURLE_AGAIN)
			break;
		if (r != CURLE_OK || n == 0) {
			if (r != CURLE_OK)
				snprintf(why, sizeof why, "connection lost: %s",
					 curl_easy_strerror(r));
			else
				snprintf(why, sizeof why, "connection closed "
					 "by the server");
			slot_close(sl, why);
			return;
		}
		/* The timeout bounds each whole reply: a server trickling
		 * continuation lines for ever does not reset it. */
		replies = smtp_replies(&sl->smtp);
		if (smtp_in(&sl->smtp, in, n)) {
			pool_slot_events(sl);
			slot_close(sl, "out of memory for an SMTP command");
			return;
		}
		if (smtp_replies(&sl->smtp) != replies)
			sl->last_io = mono_seconds();
		pool_slot_events(sl);
		/* A short read emptied the socket; TLS may hold a record's
		 * rest that poll(2) cannot see. */
		if (n < sizeof in && !sl->tls)
			break;
	}
	if (sl->state == S_QUIT && smtp_awaiting(&sl->smtp) == 0)
		slot_detach(sl);
	else if (sl->state == S_OPEN && smtp_closing(&sl->smtp))
		slot_close(sl, smtp_why(&sl->smtp));
}

/* Replies (and writes) that take longer than the timeout end the
 * connection; QUIT's reply is waited for QUIT_WAIT at most. */
static void
check_timeouts(struct pool *p, double now)
{
	char why[80];
	int i;

	for (i = 0; i < p->nslots; i++) {
		struct slot *sl = &p->slots[i];
		size_t pending;

		if (sl->state == S_QUIT && now >= sl->quit_by) {
			slot_detach(sl);
			continue;
		}
		if (sl->state != S_OPEN)
			continue;
		smtp_out(&sl->smtp, &pending);
		if ((smtp_awaiting(&sl->smtp) || pending) &&
		    now - sl->last_io >= p->timeout) {
			snprintf(why, sizeof why, "timed out after %.1f s",
				 now - sl->last_io);
			sl->timed_out = 1;
			slot_close(sl, why);
			sl->timed_out = 0;
		}
	}
}

/* ---- the poll loop ------------------------------------------------------- */

#define MAX_FDS (POOL_MAX_POOLS * POOL_MAX_SLOTS * MAX_SOCKS)

struct fds {
	struct pollfd pfd[MAX_FDS];
	struct slot *owner[MAX_FDS];
	int n;
};

/* A connecting slot's libcurl sockets, and its timer in *wait. */
static void
watch_connecting(struct fds *f, struct slot *sl, double now, double *wait)
{
	int k;

	for (k = 0; k < sl->nsocks && f->n < MAX_FDS; k++) {
		f->pfd[f->n].fd = sl->socks[k].fd;
		f->pfd[f->n].events = (short)(
			(sl->socks[k].what & CURL_POLL_IN ? POLLIN : 0) |
			(sl->socks[k].what & CURL_POLL_OUT ? POLLOUT : 0));
		f->pfd[f->n].revents = 0;
		f->owner[f->n++] = sl;
	}
	if (sl->timer_on && sl->timer_at - now < *wait)
		*wait = sl->timer_at - now;
}

/* An open slot's socket, and its reply timeout in *wait. */
static void
watch_open(struct fds *f, struct slot *sl, double now, double *wait)
{
	size_t pending;
	double t;

	if (f->n >= MAX_FDS)
		return;
	smtp_out(&sl->smtp, &pending);
	f->pfd[f->n].fd = sl->fd;
	f->pfd[f->n].events = (short)(POLLIN | (pending && !sl->hold ?
						POLLOUT : 0));
	f->pfd[f->n].revents = 0;
	f->owner[f->n++] = sl;
	t = (sl->state == S_QUIT ? sl->quit_by :
	     sl->last_io + sl->p->timeout) - now;
	if ((sl->state == S_QUIT || pending || smtp_awaiting(&sl->smtp)) &&
	    t < *wait)
		*wait = t;
}

static void
dispatch(struct fds *f, int i)
{
	struct slot *sl = f->owner[i];
	short rev = f->pfd[i].revents;
	int ev = 0, running;

	if (sl->state == S_CONNECTING) {
		if (rev & (POLLIN | POLLHUP))
			ev |= CURL_CSELECT_IN;
		if (rev & POLLOUT)
			ev |= CURL_CSELECT_OUT;
		if (rev & (POLLERR | POLLNVAL))
			ev |= CURL_CSELECT_ERR;
		curl_multi_socket_action(sl->m, f->pfd[i].fd, ev, &running);
		return;
	}
	if (sl->fd != f->pfd[i].fd)
		return;		/* closed meanwhile */
	/* Write first: what was queued before this poll is committed; what
	 * reading queues waits for the next release. */
	if (rev & POLLOUT)
		slot_write(sl);
	if (rev & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
		slot_read(sl);
}

/* libcurl's timers that are due, and the connects that ended. */
static void
finish_connects(struct pool *p, double now)
{
	CURLMsg *msg;
	int i, left, running;

	for (i = 0; i < p->nslots; i++) {
		struct slot *sl = &p->slots[i];

		if (sl->state != S_CONNECTING)
			continue;
		if (sl->timer_on && sl->timer_at <= now + 0.0005) {
			sl->timer_on = 0;
			curl_multi_socket_action(sl->m, CURL_SOCKET_TIMEOUT, 0,
						 &running);
		}
		while ((msg = curl_multi_info_read(sl->m, &left)))
			if (msg->msg == CURLMSG_DONE) {
				sl->done = 1;
				sl->result = msg->data.result;
			}
		if (sl->done)
			pool_connected(sl);
	}
}

int
pool_pump(struct pool *const *pools, int npools, double wait)
{
	static struct fds f;	/* one loop per process: not reentrant */
	double now = mono_seconds();
	int i, k, r;

	assert(npools > 0 && npools <= POOL_MAX_POOLS);
	f.n = 0;
	for (k = 0; k < npools; k++)
		for (i = 0; i < pools[k]->nslots; i++) {
			struct slot *sl = &pools[k]->slots[i];

			if (sl->state == S_CONNECTING)
				watch_connecting(&f, sl, now, &wait);
			else if (sl->state == S_OPEN || sl->state == S_QUIT)
				watch_open(&f, sl, now, &wait);
		}
	if (wait < 0)
		wait = 0;
	r = poll(f.pfd, (nfds_t)f.n, (int)ceil(wait * 1000.0));
	if (r < 0 && errno != EINTR)
		return nl_err_set(pools[0]->err, NL_EINTERNAL, "poll: %s",
				  strerror(errno));
	for (i = 0; r > 0 && i < f.n; i++)
		if (f.pfd[i].revents)
			dispatch(&f, i);
	now = mono_seconds();
	for (k = 0; k < npools; k++)
		finish_connects(pools[k], now);
	now = mono_seconds();
	for (k = 0; k < npools; k++)
		check_timeouts(pools[k], now);
	return 0;
}

void
pool_write(struct pool *p)
{
	int i;

	for (i = 0; i < p->nslots; i++)
		slot_write(&p->slots[i]);
}
