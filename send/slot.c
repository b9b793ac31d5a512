/* The connections of a delivery run: libcurl opens them, we read and
 * write them, one poll(2) loop (driver.h, deliver.h). */
#include "send/driver.h"
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
slot_init(struct drv *d, struct slot *sl, int idx)
{
	const struct deliver_conf *c = d->c;
	long to = c->timeout_ms > 0 ? c->timeout_ms : 60000;
	int is_smtps = strncasecmp(c->url, "smtps:", 6) == 0;

	sl->d = d;
	sl->idx = idx;
	sl->fd = CURL_SOCKET_BAD;
	sl->tls = is_smtps || c->tls;
	buf_init(&sl->msg, 0);
	sl->m = curl_multi_init();
	sl->e = curl_easy_init();
	if (!sl->m || !sl->e)
		goto fail;
	/* One connection per slot, in its own multi (deliver.h). */
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
	return nl_err_set(d->err, NL_EINTERNAL, "libcurl: cannot set up a "
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
slot_connect(struct drv *d, struct slot *sl)
{
	CURLMcode mc;

	sl->done = 0;
	sl->result = CURLE_OK;
	sl->pre_code = sl->pipelining = 0;
	sl->errbuf[0] = '\0';
	mc = curl_multi_add_handle(sl->m, sl->e);
	if (mc != CURLM_OK)
		return nl_err_set(d->err, NL_EINTERNAL, "libcurl: %s",
				  curl_multi_strerror(mc));
	sl->added = 1;
	sl->state = S_CONNECTING;
	return 0;
}

/* ---- connections ------------------------------------------------------------ */

/* The connection is gone or must go: its open transactions end with why
 * (send/smtp.c decides whose failure it was), then it is closed. */
void
slot_close(struct drv *d, struct slot *sl, const char *why)
{
	int had = sl->state == S_OPEN && smtp_open(&sl->smtp) > 0;

	if (sl->state == S_OPEN || sl->state == S_QUIT) {
		smtp_abort(&sl->smtp, why);
		slot_events(d, sl);
	}
	if (had && sl->conn_done == 0)
		d->consec_connfail++;
	slot_detach(sl);
}

/* --stop twice: close without outcomes; what was in flight stays so in
 * the journal and is sent again by the next run. */
void
slot_drop(struct drv *d, struct slot *sl)
{
	struct smtp_event ev;

	if (sl->state == S_OPEN || sl->state == S_QUIT) {
		smtp_abort(&sl->smtp, "stopped");
		while (smtp_event(&sl->smtp, &ev))
			if (ev.kind == SMTP_DONE && ev.tx != &d->probe) {
				d->st->deferred++;
				free(ev.tx);
			}
	}
	if (sl->parked) {
		d->st->deferred++;
		free(sl->parked);
		sl->parked = NULL;
	}
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
slot_write(struct drv *d, struct slot *sl)
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
			slot_close(d, sl, why);
			return;
		}
		smtp_sent(&sl->smtp, n);
		sl->last_io = mono_seconds();
	}
}

/* Read what the server sent and act on each complete reply. */
static void
slot_read(struct drv *d, struct slot *sl)
{
	char in[RECV_CHUNK], why[160];
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
			slot_close(d, sl, why);
			return;
		}
		sl->last_io = mono_seconds();
		if (smtp_in(&sl->smtp, in, n)) {
			slot_events(d, sl);
			slot_close(d, sl, "out of memory for an SMTP command");
			return;
		}
		slot_events(d, sl);
		/* A short read emptied the socket; TLS may hold a record's
		 * rest that poll(2) cannot see. */
		if (n < sizeof in && !sl->tls)
			break;
	}
	if (sl->state == S_QUIT && smtp_awaiting(&sl->smtp) == 0)
		slot_detach(sl);
	else if (sl->state == S_OPEN && smtp_closing(&sl->smtp))
		slot_close(d, sl, smtp_why(&sl->smtp));
}

/* Replies (and writes) that take longer than the timeout end the
 * connection; QUIT's reply is waited for QUIT_WAIT at most. */
static void
check_timeouts(struct drv *d, double now)
{
	char why[80];
	int i;

	for (i = 0; i < d->nslots; i++) {
		struct slot *sl = &d->slots[i];
		size_t pending;

		if (sl->state == S_QUIT && now >= sl->quit_by) {
			slot_detach(sl);
			continue;
		}
		if (sl->state != S_OPEN)
			continue;
		smtp_out(&sl->smtp, &pending);
		if ((smtp_awaiting(&sl->smtp) || pending) &&
		    now - sl->last_io >= d->timeout) {
			snprintf(why, sizeof why, "timed out after %.1f s",
				 now - sl->last_io);
			sl->timed_out = 1;
			slot_close(d, sl, why);
			sl->timed_out = 0;
		}
	}
}

/* ---- the poll loop ------------------------------------------------------- */

/*
 * Wait at most wait seconds for any slot's socket or timer; let libcurl
 * run the connections it is opening, read and write the open ones.
 */
int
pump(struct drv *d, double wait, int probing)
{
	struct pollfd pfd[MAX_SLOTS * MAX_SOCKS];
	struct slot *owner[MAX_SLOTS * MAX_SOCKS];
	int n = 0, i, k, r, running;
	double now = mono_seconds(), t;

	for (i = 0; i < d->nslots; i++) {
		struct slot *sl = &d->slots[i];
		size_t pending;

		if (sl->state == S_CONNECTING) {
			for (k = 0; k < sl->nsocks; k++) {
				pfd[n].fd = sl->socks[k].fd;
				pfd[n].events = (short)(
					(sl->socks[k].what & CURL_POLL_IN ?
					 POLLIN : 0) |
					(sl->socks[k].what & CURL_POLL_OUT ?
					 POLLOUT : 0));
				pfd[n].revents = 0;
				owner[n++] = sl;
			}
			if (sl->timer_on) {
				t = sl->timer_at - now;
				if (t < wait)
					wait = t;
			}
			continue;
		}
		if (sl->state != S_OPEN && sl->state != S_QUIT)
			continue;
		smtp_out(&sl->smtp, &pending);
		pfd[n].fd = sl->fd;
		pfd[n].events = (short)(POLLIN |
					(pending && !sl->hold ? POLLOUT : 0));
		pfd[n].revents = 0;
		owner[n++] = sl;
		t = (sl->state == S_QUIT ? sl->quit_by :
		     sl->last_io + d->timeout) - now;
		if ((sl->state == S_QUIT || pending ||
		     smtp_awaiting(&sl->smtp)) && t < wait)
			wait = t;
	}
	if (wait < 0)
		wait = 0;
	r = poll(pfd, (nfds_t)n, (int)ceil(wait * 1000.0));
	if (r < 0 && errno != EINTR)
		return nl_err_set(d->err, NL_EINTERNAL, "poll: %s",
				  strerror(errno));
	for (i = 0; r > 0 && i < n; i++) {
		struct slot *sl = owner[i];
		int ev = 0;

		if (!pfd[i].revents)
			continue;
		if (sl->state == S_CONNECTING) {
			if (pfd[i].revents & (POLLIN | POLLHUP))
				ev |= CURL_CSELECT_IN;
			if (pfd[i].revents & POLLOUT)
				ev |= CURL_CSELECT_OUT;
			if (pfd[i].revents & (POLLERR | POLLNVAL))
				ev |= CURL_CSELECT_ERR;
			curl_multi_socket_action(sl->m, pfd[i].fd, ev,
						 &running);
			continue;
		}
		if (sl->fd != pfd[i].fd)
			continue;	/* closed meanwhile */
		/* Write first: what was queued before this poll is
		 * committed; what reading queues waits for the next flush. */
		if (pfd[i].revents & POLLOUT)
			slot_write(d, sl);
		if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
			slot_read(d, sl);
	}
	now = mono_seconds();
	for (i = 0; i < d->nslots; i++) {
		struct slot *sl = &d->slots[i];
		if (sl->state == S_CONNECTING && sl->timer_on &&
		    sl->timer_at <= now + 0.0005) {
			sl->timer_on = 0;
			curl_multi_socket_action(sl->m, CURL_SOCKET_TIMEOUT, 0,
						 &running);
		}
	}
	for (i = 0; i < d->nslots; i++) {
		struct slot *sl = &d->slots[i];
		CURLMsg *msg;
		int left;

		if (sl->state != S_CONNECTING)
			continue;
		while ((msg = curl_multi_info_read(sl->m, &left)))
			if (msg->msg == CURLMSG_DONE) {
				sl->done = 1;
				sl->result = msg->data.result;
			}
		if (sl->done)
			connected(d, sl, probing);
	}
	check_timeouts(d, mono_seconds());
	return 0;
}

void
send_all(struct drv *d)
{
	int i;

	for (i = 0; i < d->nslots; i++)
		slot_write(d, &d->slots[i]);
}
