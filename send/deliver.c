/* The SMTP driver: libcurl multi, one thread, the journal (deliver.h). */
#include "send/deliver.h"
#include "util/path.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_SLOTS 64
#define MAX_SOCKS 4		/* per slot: one connection, happy eyeballs */
#define UPLOAD_BUFSIZE (512L * 1024)
#define REPLY_MAX 512
#define BACKOFF_MAX 60.0	/* seconds */
#define FLUSH_EVERY 0.25	/* seconds: outcomes wait at most this long */
#define TICK 0.25		/* longest poll: *stop and the progress line */
#define MIN_RATE 0.1		/* messages/s: the floor of throttling */
#define NOTICE_MAX 20		/* failure lines without --verbose */
#define HEAP_MAX ((size_t)1 << 24)	/* deferred jobs waiting (lists/'
					 * ADDRSET_MAX) */

/* One recipient's work: a deep copy of the subscriber (src's copy dies at
 * the next src->next), so that a retry can compose it again. */
struct job {
	struct subscriber s;
	int attempts;		/* transfers started in this run */
	double not_before;	/* monotonic: backoff */
};

enum slotkind { SL_IDLE, SL_PROBE, SL_MAIL };

struct slot {
	struct drv *d;
	int idx;
	CURLM *m;
	CURL *e;
	enum slotkind kind;
	int added;		/* e is in m */
	int done;		/* CURLMSG_DONE seen */
	CURLcode result;
	struct job *job;
	struct buf msg;
	size_t off;
	struct curl_slist *rcpt;
	unsigned long conn_msgs;	/* on the cached connection */
	int ever_connected;
	int forbid_reuse;
	double started;
	/* libcurl's sockets and timer for this slot's multi */
	struct { curl_socket_t fd; int what; } socks[MAX_SOCKS];
	int nsocks;
	int timer_on;
	double timer_at;
	/* what the server said, from MAIL FROM on (see dbg_cb) */
	int mail_sent, awaiting, code, pre_code, in_reply, quitting;
	char reply[REPLY_MAX], cur[REPLY_MAX];
	char errbuf[CURL_ERROR_SIZE];
};

/* Min-heap of deferred jobs by not_before. */
struct heap {
	struct job **v;
	size_t n, cap;
};

struct drv {
	const struct deliver_conf *c;
	const struct deliver_src *src;
	struct deliver_stats *st;
	struct nl_err *err;
	struct slot slots[MAX_SLOTS];
	int nslots;
	char url[512];		/* safe for messages */
	struct heap retry;
	int src_done, fatal, stopping, abandon, broken, window_full;
	int src_failed;		/* err holds src's error */
	struct nl_err brk;	/* why the run stopped early */
	double t0, last_flush, dirty_since, last_progress;
	int dirty, progress_shown;
	unsigned long inflight;
	unsigned notices;
	/* rate */
	double rate;		/* effective; 0 unlimited */
	double next_start, hold_until, last_throttle, last_recover,
		throttle_base;
	unsigned consec_throttle, consec_connfail;
	double starts[64];	/* ring of recent start times */
	unsigned nstarts;
	long win_base;
};

/* ---- jobs and the retry heap ------------------------------------------ */

static size_t
slen(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static char *
put(char **p, const char *s)
{
	char *r;
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	r = memcpy(*p, s, n);
	*p += n;
	return r;
}

/* One allocation: the job, the two pointer arrays, then the strings. */
static struct job *
job_new(const struct subscriber *s)
{
	size_t n = sizeof(struct job), i, nx = s->nextra;
	struct job *j;
	const char **keys, **vals;
	char *p;

	n += 2 * nx * sizeof(char *);
	n += slen(s->email) + slen(s->name) + slen(s->file);
	for (i = 0; i < nx; i++)
		n += slen(s->extra_keys[i]) + slen(s->extra_values[i]);
	j = malloc(n);
	if (!j)
		return NULL;
	memset(j, 0, sizeof *j);
	keys = (const char **)(void *)(j + 1);
	vals = keys + nx;
	p = (char *)(vals + nx);
	j->s.email = put(&p, s->email);
	j->s.name = put(&p, s->name);
	j->s.file = put(&p, s->file);
	j->s.line = s->line;
	j->s.nextra = nx;
	for (i = 0; i < nx; i++) {
		keys[i] = put(&p, s->extra_keys[i]);
		vals[i] = put(&p, s->extra_values[i]);
	}
	j->s.extra_keys = keys;
	j->s.extra_values = vals;
	return j;
}

static int
heap_push(struct heap *h, struct job *j)
{
	size_t i, p;

	if (h->n >= HEAP_MAX)
		return -1;
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct job **v = realloc(h->v, cap * sizeof *v);
		if (!v)
			return -1;
		h->v = v;
		h->cap = cap;
	}
	i = h->n++;
	while (i > 0) {
		p = (i - 1) / 2;
		if (h->v[p]->not_before <= j->not_before)
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = j;
	return 0;
}

static struct job *
heap_pop(struct heap *h)
{
	struct job *top, *last;
	size_t i = 0, c;

	if (!h->n)
		return NULL;
	top = h->v[0];
	last = h->v[--h->n];
	while ((c = 2 * i + 1) < h->n) {
		if (c + 1 < h->n && h->v[c + 1]->not_before < h->v[c]->not_before)
			c++;
		if (last->not_before <= h->v[c]->not_before)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

static void
heap_free(struct heap *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		free(h->v[i]);
	free(h->v);
	memset(h, 0, sizeof *h);
}

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

/* The progress line is on stderr; anything else written there first
 * erases it (it is redrawn at the next tick). */
static void
clear_progress(struct drv *d)
{
	if (d->progress_shown) {
		fputs("\r\033[K", stderr);
		d->progress_shown = 0;
	}
}

static void __attribute__((format(printf, 2, 3)))
say(struct drv *d, const char *fmt, ...)
{
	va_list ap;

	clear_progress(d);
	fputs("nlsend: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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
	buf_adds(&b, "\rsent ");
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
	buf_adds(&b, "\033[K");
	fputs(buf_cstr(&b), stderr);
	fflush(stderr);
	d->progress_shown = 1;
	buf_free(&b);
}

/* ---- libcurl callbacks ------------------------------------------------- */

static size_t
read_cb(char *out, size_t size, size_t nitems, void *arg)
{
	struct slot *sl = arg;
	size_t room = size * nitems, left = sl->msg.len - sl->off;
	size_t n = left < room ? left : room;

	/* The one copy: from the composed message into libcurl's upload
	 * buffer (which then does the dot-stuffing). */
	memcpy(out, sl->msg.data + sl->off, n);
	sl->off += n;
	return n;
}

static size_t
discard_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	(void)p;
	(void)arg;
	return size * nmemb;
}

/* One line the server sent.  Replies are kept only once "MAIL FROM" has
 * gone out in this transfer: nothing said during EHLO/STARTTLS/AUTH is
 * ever stored (only its code, for the error message). */
static void
server_line(struct slot *sl, const char *p, size_t n)
{
	int code;
	size_t cl;

	while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	if (n < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '9' ||
	    p[2] < '0' || p[2] > '9')
		return;
	code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	if (!sl->mail_sent) {
		if (n == 3 || p[3] != '-')
			sl->pre_code = code;
		return;
	}
	cl = strlen(sl->cur);
	if (!sl->in_reply) {
		cl = n < REPLY_MAX - 1 ? n : REPLY_MAX - 1;
		memcpy(sl->cur, p, cl);
		sl->cur[cl] = '\0';
		if (cl > 3)
			sl->cur[3] = ' ';
	} else if (n > 4 && cl + 1 < REPLY_MAX - 1) {
		/* RFC 5321 section 4.2.1: a multiline reply; join the texts */
		size_t add = n - 4;
		if (add > REPLY_MAX - 2 - cl)
			add = REPLY_MAX - 2 - cl;
		sl->cur[cl++] = ' ';
		memcpy(sl->cur + cl, p + 4, add);
		sl->cur[cl + add] = '\0';
	}
	if (n > 3 && p[3] == '-') {
		sl->in_reply = 1;
		return;
	}
	sl->in_reply = 0;
	sl->code = code;
	memcpy(sl->reply, sl->cur, sizeof sl->reply);
	sl->awaiting = 0;
	/* Control characters out: the reply goes to a terminal and the
	 * journal. */
	for (char *q = sl->reply; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			*q = '?';
}

static int
dbg_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct slot *sl = arg;
	const char *p, *nl;

	(void)h;
	switch (type) {
	case CURLINFO_HEADER_OUT:
		/* Only the command verb is looked at: AUTH lines carry the
		 * credentials and are never copied anywhere. */
		if (size >= 10 && strncasecmp(data, "MAIL FROM:", 10) == 0)
			sl->mail_sent = 1;
		/* After a failure libcurl closes with QUIT inside the same
		 * transfer: its 221 must not replace the reply that failed. */
		if (size >= 4 && strncasecmp(data, "QUIT", 4) == 0)
			sl->quitting = 1;
		if (!sl->quitting)
			sl->awaiting = 1;
		break;
	case CURLINFO_DATA_OUT:
		sl->awaiting = 1;
		break;
	case CURLINFO_HEADER_IN:
		if (sl->quitting)
			break;
		for (p = data; p < data + size; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(data + size - p));
			if (!nl)
				nl = data + size - 1;
			server_line(sl, p, (size_t)(nl - p + 1));
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

static int
slot_init(struct drv *d, struct slot *sl, int idx)
{
	const struct deliver_conf *c = d->c;
	long to = c->timeout_ms > 0 ? c->timeout_ms : 60000;
	int is_smtps = strncasecmp(c->url, "smtps:", 6) == 0;

	sl->d = d;
	sl->idx = idx;
	buf_init(&sl->msg, 0);
	sl->m = curl_multi_init();
	sl->e = curl_easy_init();
	if (!sl->m || !sl->e)
		goto fail;
	/* One connection per slot: its cache is its own (see deliver.h). */
	if (curl_multi_setopt(sl->m, CURLMOPT_MAXCONNECTS, 1L) ||
	    curl_multi_setopt(sl->m, CURLMOPT_SOCKETFUNCTION, sock_cb) ||
	    curl_multi_setopt(sl->m, CURLMOPT_SOCKETDATA, sl) ||
	    curl_multi_setopt(sl->m, CURLMOPT_TIMERFUNCTION, timer_cb) ||
	    curl_multi_setopt(sl->m, CURLMOPT_TIMERDATA, sl))
		goto fail;
	SETOPT(sl->e, CURLOPT_URL, c->url);
	SETOPT(sl->e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
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
	SETOPT(sl->e, CURLOPT_MAIL_FROM, c->mail_from ? c->mail_from : "");
	SETOPT(sl->e, CURLOPT_TIMEOUT_MS, to);
	SETOPT(sl->e, CURLOPT_CONNECTTIMEOUT_MS, to < 30000 ? to : 30000L);
	SETOPT(sl->e, CURLOPT_SERVER_RESPONSE_TIMEOUT, (to + 999) / 1000);
	SETOPT(sl->e, CURLOPT_UPLOAD_BUFFERSIZE, UPLOAD_BUFSIZE);
	SETOPT(sl->e, CURLOPT_READFUNCTION, read_cb);
	SETOPT(sl->e, CURLOPT_READDATA, sl);
	SETOPT(sl->e, CURLOPT_WRITEFUNCTION, discard_cb);
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

static void
slot_free(struct slot *sl)
{
	if (sl->added)
		curl_multi_remove_handle(sl->m, sl->e);
	sl->added = 0;
	/* The easy handle goes first; the multi's cleanup then closes the
	 * cached connection (QUIT, bounded by the timeouts). */
	if (sl->e)
		curl_easy_cleanup(sl->e);
	if (sl->m)
		curl_multi_cleanup(sl->m);
	curl_slist_free_all(sl->rcpt);
	buf_free(&sl->msg);
	free(sl->job);
	sl->e = NULL;
	sl->m = NULL;
	sl->rcpt = NULL;
	sl->job = NULL;
}

static void
capture_reset(struct slot *sl)
{
	sl->mail_sent = sl->awaiting = sl->code = sl->pre_code = 0;
	sl->in_reply = sl->quitting = 0;
	sl->reply[0] = sl->cur[0] = sl->errbuf[0] = '\0';
}

static int
slot_add(struct drv *d, struct slot *sl)
{
	CURLMcode mc;

	sl->done = 0;
	sl->started = mono_seconds();
	capture_reset(sl);
	mc = curl_multi_add_handle(sl->m, sl->e);
	if (mc != CURLM_OK)
		return nl_err_set(d->err, NL_EINTERNAL, "libcurl: %s",
				  curl_multi_strerror(mc));
	sl->added = 1;
	return 0;
}

static void
slot_remove(struct slot *sl)
{
	if (sl->added)
		curl_multi_remove_handle(sl->m, sl->e);
	sl->added = 0;
}

/* Set up the slot for a command ("MAIL FROM:<...>", "RSET"): no upload,
 * no recipients, the reply discarded. */
static int
slot_command(struct drv *d, struct slot *sl, const char *cmd)
{
	if (curl_easy_setopt(sl->e, CURLOPT_UPLOAD, 0L) ||
	    curl_easy_setopt(sl->e, CURLOPT_MAIL_RCPT, NULL) ||
	    curl_easy_setopt(sl->e, CURLOPT_CUSTOMREQUEST, cmd) ||
	    curl_easy_setopt(sl->e, CURLOPT_FORBID_REUSE, 0L))
		return nl_err_set(d->err, NL_EINTERNAL, "libcurl: setopt");
	sl->kind = SL_PROBE;
	return slot_add(d, sl);
}

/* ---- the poll loop ------------------------------------------------------- */

/*
 * Wait at most wait seconds for any slot's sockets or timers, let libcurl
 * run, and mark the slots whose transfer ended (sl->done).
 */
static int
pump(struct drv *d, double wait)
{
	struct pollfd pfd[MAX_SLOTS * MAX_SOCKS];
	struct slot *owner[MAX_SLOTS * MAX_SOCKS];
	int n = 0, i, k, r, running;
	double now = mono_seconds(), t;

	for (i = 0; i < d->nslots; i++) {
		struct slot *sl = &d->slots[i];
		for (k = 0; k < sl->nsocks; k++) {
			pfd[n].fd = sl->socks[k].fd;
			pfd[n].events = (short)(
				(sl->socks[k].what & CURL_POLL_IN ? POLLIN : 0) |
				(sl->socks[k].what & CURL_POLL_OUT ? POLLOUT : 0));
			pfd[n].revents = 0;
			owner[n++] = sl;
		}
		if (sl->timer_on) {
			t = sl->timer_at - now;
			if (t < wait)
				wait = t;
		}
	}
	if (wait < 0)
		wait = 0;
	r = poll(pfd, (nfds_t)n, (int)ceil(wait * 1000.0));
	if (r < 0 && errno != EINTR)
		return nl_err_set(d->err, NL_EINTERNAL, "poll: %s",
				  strerror(errno));
	for (i = 0; r > 0 && i < n; i++) {
		int ev = 0;
		if (!pfd[i].revents)
			continue;
		if (pfd[i].revents & (POLLIN | POLLHUP))
			ev |= CURL_CSELECT_IN;
		if (pfd[i].revents & POLLOUT)
			ev |= CURL_CSELECT_OUT;
		if (pfd[i].revents & (POLLERR | POLLNVAL))
			ev |= CURL_CSELECT_ERR;
		curl_multi_socket_action(owner[i]->m, pfd[i].fd, ev, &running);
	}
	now = mono_seconds();
	for (i = 0; i < d->nslots; i++) {
		struct slot *sl = &d->slots[i];
		if (sl->timer_on && sl->timer_at <= now + 0.0005) {
			sl->timer_on = 0;
			curl_multi_socket_action(sl->m, CURL_SOCKET_TIMEOUT, 0,
						 &running);
		}
	}
	for (i = 0; i < d->nslots; i++) {
		struct slot *sl = &d->slots[i];
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(sl->m, &left)))
			if (msg->msg == CURLMSG_DONE) {
				sl->done = 1;
				sl->result = msg->data.result;
			}
	}
	return 0;
}

/* ---- the probe ----------------------------------------------------------- */

static const char *
probe_reason(struct slot *sl, CURLcode res, char *tmp, size_t tlen,
	     const char *from, long to_ms)
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
	if (sl->mail_sent && !sl->awaiting && sl->code >= 400) {
		snprintf(tmp, tlen, "the envelope sender <%s> was refused: %s",
			 from, sl->reply);
		return tmp;
	}
	if (sl->pre_code >= 400) {
		snprintf(tmp, tlen, "the server refused us (reply %d)",
			 sl->pre_code);
		return tmp;
	}
	return "the server did not talk SMTP as expected";
}

static int
probe(struct drv *d)
{
	struct slot *sl = &d->slots[0];
	const char *from = d->c->mail_from ? d->c->mail_from : "";
	char cmd[600], tmp[800];
	const char *cmds[2], *why;
	long to = d->c->timeout_ms > 0 ? d->c->timeout_ms : 60000;
	int i, rc = -1;

	snprintf(cmd, sizeof cmd, "MAIL FROM:<%s>", from);
	cmds[0] = cmd;
	cmds[1] = "RSET";
	for (i = 0; i < 2; i++) {
		if (slot_command(d, sl, cmds[i]))
			goto out;
		while (!sl->done) {
			if (d->c->stop && *d->c->stop) {
				nl_err_set(d->err, NL_ETEMPFAIL, "stopped before "
					   "sending");
				goto out;
			}
			if (pump(d, TICK))
				goto out;
		}
		slot_remove(sl);
		sl->kind = SL_IDLE;
		if (sl->result != CURLE_OK) {
			why = probe_reason(sl, sl->result, tmp, sizeof tmp, from,
					   to);
			nl_err_set(d->err, NL_EUNAVAIL, "%s: %s%s%s%s", d->url,
				   why, sl->errbuf[0] ? " (" : "", sl->errbuf,
				   sl->errbuf[0] ? ")" : "");
			goto out;
		}
	}
	sl->ever_connected = 1;
	rc = 0;
out:
	slot_remove(sl);
	sl->kind = SL_IDLE;
	curl_easy_setopt(sl->e, CURLOPT_CUSTOMREQUEST, NULL);
	return rc;
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

static int
flush(struct drv *d)
{
	struct journal *jr = d->c->journal;

	if (!jr || !d->dirty)
		return 0;
	if (journal_commit(jr, d->err)) {
		d->fatal = 1;
		return -1;
	}
	d->dirty = 0;
	d->last_flush = mono_seconds();
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

static int
mail_done(struct drv *d, struct slot *sl)
{
	const struct deliver_conf *c = d->c;
	struct job *j = sl->job;
	CURLcode res = sl->result;
	long nconn = 0;
	int max_att = c->max_attempts > 0 ? c->max_attempts : 3;
	double now = mono_seconds(), back;
	char why[REPLY_MAX + 128], tail[96];
	int code = 0, pre_mail = 0, retry, rc = -1;
	enum jstate st;

	curl_easy_getinfo(sl->e, CURLINFO_NUM_CONNECTS, &nconn);
	slot_remove(sl);
	sl->kind = SL_IDLE;
	sl->job = NULL;
	curl_slist_free_all(sl->rcpt);
	sl->rcpt = NULL;
	d->inflight--;
	if (nconn > 0) {
		if (sl->ever_connected)
			d->st->reconnects++;
		sl->ever_connected = 1;
		sl->conn_msgs = 0;
	}
	/* libcurl closes the connection after any failure (deliver.h). */
	sl->conn_msgs = res == CURLE_OK && !sl->forbid_reuse ?
		sl->conn_msgs + 1 : 0;

	if (res == CURLE_OK) {
		st = J_SENT;
		code = sl->code ? sl->code : 250;
		snprintf(why, sizeof why, "%s", sl->reply[0] ? sl->reply :
			 "250 (accepted)");
	} else if (sl->mail_sent && !sl->awaiting && sl->code >= 400) {
		code = sl->code;
		st = code >= 500 ? J_FAILED : J_DEFERRED;
		snprintf(why, sizeof why, "%s", sl->reply);
	} else if (res == CURLE_OPERATION_TIMEDOUT) {
		st = J_DEFERRED;
		snprintf(why, sizeof why, "timed out after %.1f s",
			 now - sl->started);
		pre_mail = !sl->mail_sent;
	} else {
		st = J_DEFERRED;
		pre_mail = !sl->mail_sent;
		if (pre_mail && res == CURLE_LOGIN_DENIED)
			snprintf(why, sizeof why, "login refused on a new "
				 "connection (reply %d)", sl->pre_code);
		else
			snprintf(why, sizeof why, "%s: %s",
				 sl->mail_sent ? "connection lost" :
				 "cannot open a connection",
				 sl->errbuf[0] ? sl->errbuf :
				 curl_easy_strerror(res));
		if (pre_mail && sl->pre_code >= 400)
			code = sl->pre_code;
	}
	d->consec_connfail = pre_mail ? d->consec_connfail + 1 : 0;
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
	if (jset(d, j, st, code, why))
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
	rc = 0;
out:
	free(j);
	return rc;
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

/* Compose j into sl and mark it in flight (not yet committed). */
static int
prepare(struct drv *d, struct slot *sl, struct job *j)
{
	const struct deliver_conf *c = d->c;
	int max = c->max_per_connection;

	buf_reset(&sl->msg);
	sl->off = 0;
	if (d->src->compose(d->src->arg, &j->s, &sl->msg, d->err)) {
		d->src_failed = 1;
		d->stopping = 1;
		goto fail;
	}
	sl->rcpt = curl_slist_append(NULL, j->s.email);
	if (!sl->rcpt) {
		nl_err_set(d->err, NL_ENOMEM, "out of memory");
		d->fatal = 1;
		goto fail;
	}
	if (jset(d, j, J_INFLIGHT, 0, NULL))
		goto fail;
	j->attempts++;
	if (j->attempts > 1)
		d->st->retries++;
	sl->job = j;
	/* The Nth message on a connection is its last (deliver.h). */
	sl->forbid_reuse = max > 0 && sl->conn_msgs + 1 >= (unsigned long)max;
	sl->kind = SL_MAIL;
	d->inflight++;
	return 0;
fail:
	curl_slist_free_all(sl->rcpt);
	sl->rcpt = NULL;
	free(j);
	return -1;
}

static int
launch(struct drv *d, struct slot *sl)
{
	double now = mono_seconds();

	if (curl_easy_setopt(sl->e, CURLOPT_CUSTOMREQUEST, NULL) ||
	    curl_easy_setopt(sl->e, CURLOPT_UPLOAD, 1L) ||
	    curl_easy_setopt(sl->e, CURLOPT_MAIL_RCPT, sl->rcpt) ||
	    curl_easy_setopt(sl->e, CURLOPT_INFILESIZE_LARGE,
			     (curl_off_t)sl->msg.len) ||
	    curl_easy_setopt(sl->e, CURLOPT_FORBID_REUSE,
			     (long)sl->forbid_reuse)) {
		nl_err_set(d->err, NL_EINTERNAL, "libcurl: setopt");
		goto fail;
	}
	d->starts[d->nstarts++ % 64] = now;
	if (slot_add(d, sl))
		goto fail;
	return 0;
fail:
	d->fatal = 1;
	return -1;
}

/*
 * Fill the idle slots; returns the time until something could start
 * (rate, hold, backoff), or TICK.
 */
static double
fill(struct drv *d, int *started)
{
	struct slot *ready[MAX_SLOTS];
	int nready = 0, i;
	double now = mono_seconds(), wake = TICK;

	*started = 0;
	for (i = 0; i < d->nslots && !d->stopping && !d->fatal; i++) {
		struct slot *sl = &d->slots[i];
		struct job *j = NULL;

		if (sl->kind != SL_IDLE)
			continue;
		if (now < d->hold_until) {
			wake = d->hold_until - now;
			break;
		}
		if (d->rate > 0 && now < d->next_start) {
			wake = d->next_start - now;
			break;
		}
		if (!window_allows(d)) {
			if (d->inflight == 0 && nready == 0)
				d->window_full = 1;
			break;
		}
		if (d->retry.n && d->retry.v[0]->not_before <= now)
			j = heap_pop(&d->retry);
		else if (!d->src_done)
			j = next_from_src(d);
		if (!j) {
			if (d->retry.n && d->retry.v[0]->not_before - now < wake)
				wake = d->retry.v[0]->not_before - now;
			break;
		}
		if (prepare(d, sl, j))
			break;
		ready[nready++] = sl;
		if (d->rate > 0) {
			double gap = 1.0 / d->rate;
			d->next_start = (d->next_start > now - gap ?
					 d->next_start : now) + gap;
		}
	}
	if (d->fatal)
		return 0;
	/* The in-flight marks (and the outcomes before them) are on disk
	 * before any byte of these transactions leaves. */
	if (nready && flush(d))
		return 0;
	for (i = 0; i < nready; i++)
		if (launch(d, ready[i]))
			return 0;
	*started = nready;
	return wake > 0 ? wake : 0;
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
	int i, rc = -1, started;
	double now, wake;

	memset(st, 0, sizeof *st);
	d = calloc(1, sizeof *d);
	if (!d)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	d->c = c;
	d->src = src;
	d->st = st;
	d->err = err;
	d->t0 = d->last_flush = mono_seconds();
	d->rate = c->rate > 0 ? c->rate : 0;
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
			d->stopping = d->broken = 1;
			nl_err_set(&d->brk, NL_ETEMPFAIL, "%s: the server stopped "
				   "accepting connections; a re-run sends to "
				   "the rest", d->url);
		}
		if (!d->stopping && d->consec_throttle >=
		    (unsigned)(d->nslots * 2 > 10 ? d->nslots * 2 : 10)) {
			d->stopping = d->broken = 1;
			nl_err_set(&d->brk, NL_ETEMPFAIL, "%s: the server keeps "
				   "throttling us; a re-run sends to the rest",
				   d->url);
		}
		recover(d, now);
		wake = fill(d, &started);
		if (d->fatal)
			break;
		if (d->window_full && d->inflight == 0) {
			drain_window(d);
			break;
		}
		if (d->inflight == 0 && (d->stopping ||
					 (d->src_done && !d->retry.n)))
			break;
		if (d->dirty && now - d->dirty_since >= FLUSH_EVERY &&
		    flush(d))
			break;
		progress(d, now, 0);
		if (pump(d, started ? 0 : wake)) {
			d->fatal = 1;
			break;
		}
		for (i = 0; i < d->nslots; i++) {
			struct slot *sl = &d->slots[i];
			if (sl->kind == SL_MAIL && sl->done && mail_done(d, sl))
				break;
		}
	}
	/* Retries still waiting stay deferred in the journal. */
	st->deferred += (unsigned long)d->retry.n;
	if (d->abandon)
		for (i = 0; i < d->nslots; i++)
			if (d->slots[i].kind == SL_MAIL) {
				slot_remove(&d->slots[i]);
				d->slots[i].kind = SL_IDLE;
				st->deferred++;
			}
	if (d->fatal) {
		/* Whatever was recorded so far is worth keeping. */
		if (c->journal && journal_in_transaction(c->journal))
			journal_commit(c->journal, NULL);
		goto out;
	}
	if (flush(d))
		goto out;
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
