/*
 * pool.h - internal to send/: one relay and its connections.  The run
 * (run.c) decides who is sent what and when; a pool decides how, on its
 * relay: its slots (one connection each, slot.c), the probe, its pace,
 * its throttling and its health.  Nothing outside send/ includes it.
 *
 * A pool calls the run only through the struct pool_events it was given
 * (take a job, compose it, mark it in flight, its outcome, give it back),
 * and the run calls the pool through the functions below: no call goes
 * from pool or slot code into the run's code, and several pools (relays)
 * share one run and one poll(2) loop (pool_pump) in one thread.
 *
 * How a pool works (the why of each choice):
 *
 * - libcurl opens the connections, send/smtp.c runs the transactions.
 *   Each of `concurrency` slots owns one easy handle with
 *   CURLOPT_CONNECT_ONLY in its own multi handle: libcurl connects, does
 *   TLS (verified), EHLO, STARTTLS and AUTH, then hands over the socket;
 *   the MAIL FROM / RCPT TO / DATA of each recipient (RFC 5321 section
 *   3.3; personalised messages, so one recipient a transaction) are
 *   written and read by send/smtp.c through curl_easy_send/curl_easy_recv
 *   (TLS included), on the same connection for message after message.
 *   One poll(2) loop drives every slot of every pool: libcurl's sockets
 *   while it connects (curl_multi_socket_action), ours after.
 *
 * - Why not libcurl's SMTP upload (measured, bench/README.md): libcurl
 *   7.88 copies each message through a byte-at-a-time end-of-data scan
 *   (Curl_smtp_escape_eob: 57% of nlsend's user-space instructions),
 *   waits for the reply to the end of data synchronously inside the multi
 *   loop (smtp_done -> smtp_block_statemach, stalling every other slot),
 *   never pipelines (four round trips a message), and closes the
 *   connection after any failed transaction.  With PIPELINING (RFC 2920)
 *   send/smtp.c writes a message, its end of data and the next
 *   recipient's envelope in one write: one round trip a message, half the
 *   CPU per message, and the sink's own CPU per message drops too.
 *
 * - Every transaction on a reused connection starts clean: a refused one
 *   is followed by RSET (RFC 5321 section 4.1.1.5), a 421 closes the
 *   connection (section 3.8), and nothing begins while the server owes a
 *   reply that would say otherwise (without PIPELINING nothing begins
 *   until the last reply).
 *
 * - The probe (pool_probe): before anyone is marked in the journal, slot 0
 *   opens a connection and runs "MAIL FROM:<mail_from>" and "RSET".  That
 *   checks, once, what would otherwise fail for every recipient: the
 *   server is reachable, STARTTLS is offered when required, the
 *   certificate verifies, the login is accepted, the envelope sender is
 *   accepted.  Any failure there is NL_EUNAVAIL (exit 69) with the
 *   journal untouched.  The connection is then used for slot 0's first
 *   message.
 *
 * - Connections are opened lazily (a slot connects when a job is waiting
 *   for it) and closed with QUIT at the end, or when max_per_connection
 *   transactions have begun on them.  A connection that cannot be opened
 *   costs no recipient anything: the slot waits (backoff_ms, doubling, at
 *   most 60 s) and the job goes back to the run (requeue, not begun).
 *
 * - A message is held: the run composes it when its transaction begins
 *   (events.begin), the pool queues it at the server's 354, and when the
 *   run says so (events.body returns 1) nothing of it is written until
 *   the run has committed the job's in-flight mark (pool_release).  So
 *   each slot has at most one message out without its reply.
 *
 * - Whose failure: a transaction the server never answered (its envelope
 *   was queued behind another message when the connection died), or that
 *   had not sent its message when a connection that had delivered before
 *   was closed, goes back to the run as not begun (events.requeue, begun
 *   1: its attempt is undone): the connection failed, not the recipient.
 *   A transaction that was first on its connection, or waited past the
 *   timeout, ends with its own outcome (events.done, code 0).
 *
 * - Throttling replies (454; 421 with enhanced code 4.7.x; 421, 450 or
 *   451 whose text says "throttl", "rate limit", "sending rate" or "try
 *   again later") halve the pool's pace (at most once a second: parallel
 *   transfers meeting one throttle count once, floor MIN_RATE), and hold
 *   new transfers 1 s per throttled reply in a row (at most 30 s); the
 *   pace recovers by 10% every 10 s without one, back to the relay's rate
 *   or to unlimited (pool_recover).  Without a rate the halving starts
 *   from the rate measured over the last 5 s.  2 x concurrency (at least
 *   10) throttled replies in a row: pool_overthrottled().  "421 Too many
 *   messages in one session" is not a throttle: it is a reconnect.
 *
 * - Health: 2 x concurrency (at least 4) connections in a row that cannot
 *   be opened, or that die before their first message is answered:
 *   pool_unreachable().  What the run does then is the run's choice.
 *
 * - --verbose: connection failures and throttling are reported
 *   (util/report.h).  While libcurl connects, only reply codes and the
 *   PIPELINING keyword are read from what the server sends
 *   (CURLOPT_DEBUGFUNCTION, CURLINFO_HEADER_IN); of what libcurl sends
 *   only the verb EHLO is looked at: AUTH lines are never copied
 *   anywhere, so they cannot reach a log or the journal.
 *   CURLOPT_VERBOSE output never goes to stderr.
 *
 * Ownership: a pool owns its slots; a slot owns its libcurl handles, its
 * struct smtp, the composed message waiting for its 354 and its parked
 * job.  The jobs of open transactions belong to the transactions: each
 * comes back to the run exactly once (done, requeue or dropped).
 *
 * Pitfalls:
 * - CONNECT_ONLY connections live in their slot's multi handle: the easy
 *   handle must stay added while the connection is used (libcurl finds
 *   the connection through it), and removing it closes the connection
 *   without QUIT (lib/multi.c); QUIT is ours.
 * - events.body must not write to the pool (it runs inside the pool's
 *   reading of a reply): it marks and returns.
 */
#ifndef NL_SEND_POOL_H
#define NL_SEND_POOL_H

#include <curl/curl.h>

#include "send/job.h"
#include "send/smtp.h"
#include "util/buf.h"
#include "util/err.h"

#define POOL_MAX_SLOTS 64
#define POOL_MAX_POOLS 16	/* relays in one run */
#define MAX_SOCKS 4		/* per slot while connecting: happy eyeballs */
#define REPLY_MAX SMTP_REPLY_MAX
#define BACKOFF_MAX 60.0	/* seconds */
#define TICK 0.25		/* longest poll: stop flags, the progress line */
#define QUIT_WAIT 2.0		/* seconds for the 221 to QUIT at the end */
#define MIN_RATE 0.1		/* messages/s: the floor of throttling */
#define RECV_CHUNK 4096

/* One relay's settings. */
struct pool_conf {
	const char *url;	/* smtp://host[:port] or smtps://host[:port] */
	int tls;		/* smtp://: 1 STARTTLS required, 0 plain */
	const char *ca_file;	/* NULL: the system store */
	const char *user, *password;	/* see deliver.h */
	const char *mail_from;	/* "" : <> */
	int concurrency;	/* slots, 1..POOL_MAX_SLOTS */
	double rate;		/* messages per second; 0 unlimited */
	int max_per_connection;	/* 0: unlimited */
	int variant;		/* the relay's, handed to events.begin */
	long timeout_ms;	/* opening, and each reply or write after */
	long backoff_ms;	/* first reconnect delay, doubling */
	int verbose;
};

struct pool;

/* How a pool reaches the run.  Every function gets arg. */
struct pool_events {
	void *arg;
	/* A slot may begin a transaction now: the next job, counted in
	 * flight by the run, or NULL (*wake shortened to when one could). */
	struct job *(*take)(void *arg, double now, double *wake);
	/* Compose j's message into msg (the transaction begins now).  -1:
	 * j cannot be sent; the run has dealt with it (it is not the
	 * pool's any more). */
	int (*begin)(void *arg, struct job *j, int variant, struct buf *msg);
	/* The 354 came for j: mark it in flight.  1: hold its message until
	 * pool_release(), 0: write it now, -1: write nothing (the run is
	 * stopping on an error). */
	int (*body)(void *arg, struct job *j);
	/* j's transaction is over: ev says how (smtp.h). */
	void (*done)(void *arg, struct job *j, const struct smtp_event *ev);
	/* j goes back as if never taken; begun: its attempt is undone. */
	void (*requeue)(void *arg, struct job *j, int begun);
	/* A hard stop dropped j (its row stays as it is). */
	void (*dropped)(void *arg, struct job *j);
};

/* What a pool has done, for the summary. */
struct pool_stats {
	unsigned long reconnects;	/* connections after each slot's first */
	unsigned long throttled;	/* throttling replies */
};

enum slotstate {
	S_OFF,			/* no connection */
	S_CONNECTING,		/* libcurl: connect, TLS, EHLO, AUTH */
	S_OPEN,			/* transactions (send/smtp.c) */
	S_QUIT			/* QUIT written; closing on 221, EOF, time */
};

struct slot {
	struct pool *p;
	int idx;
	CURLM *m;
	CURL *e;
	enum slotstate state;
	int added;		/* e is in m */
	int done;		/* the connect ended (CURLMSG_DONE) */
	CURLcode result;
	curl_socket_t fd;
	int tls;		/* read until EAGAIN: TLS may hold bytes */
	struct smtp smtp;
	struct job *parked;	/* waits for the connection being opened */
	struct job *msg_job;	/* whose message msg holds (its 354 due) */
	struct buf msg;
	int hold;		/* a message is queued whose in-flight mark
				 * is not committed: write nothing yet */
	unsigned long conn_msgs;	/* transactions begun on this
					 * connection */
	unsigned long conn_done;	/* ... answered */
	int ever_connected;
	int timed_out;		/* closing for a timeout (not a loss) */
	unsigned conn_fails;	/* in a row, for the reconnect backoff */
	double not_before;	/* no connect before (backoff) */
	double last_io, quit_by;
	/* libcurl's sockets and timer for this slot's multi */
	struct { curl_socket_t fd; int what; } socks[MAX_SOCKS];
	int nsocks;
	int timer_on;
	double timer_at;
	/* what the server said while libcurl connected (dbg_cb): the last
	 * reply code, and PIPELINING in the last EHLO reply */
	int pre_code, pipelining;
	char errbuf[CURL_ERROR_SIZE];
};

struct pool {
	struct pool_conf c;
	struct pool_events ev;
	struct nl_err *err;	/* the run's: set with p->fatal */
	struct slot slots[POOL_MAX_SLOTS];
	int nslots;
	char url[512];		/* safe for messages: no user or password */
	double timeout;		/* seconds, a reply or a write */
	int fatal;		/* err is set: the run must stop */
	int probing;		/* the probe's connection is being opened */
	char probe;		/* its address is the probe's tx handle */
	int probe_code;		/* -1 until the probe's reply */
	char probe_reply[REPLY_MAX];
	/* pace and throttling */
	double rate;		/* effective; 0 unlimited */
	double next_start, hold_until, last_throttle, last_recover,
		throttle_base;
	unsigned consec_throttle, consec_connfail;
	double starts[64];	/* ring of recent start times */
	unsigned nstarts;
	char connfail[REPLY_MAX];	/* the last connect failure */
	unsigned long taken;	/* jobs events.take gave it */
	struct pool_stats st;
};

/* ---- pool.c: the relay ------------------------------------------------ */

/* The URL without user or password, for messages ("smtp://host:25");
 * -1 when it is not a URL. */
int pool_safe_url(const char *url, struct buf *out);

/* A pool for c (copied; its strings must outlive the pool).  err is the
 * run's and must outlive it too.  NL_EINTERNAL/NL_ENOMEM on failure. */
int pool_new(const struct pool_conf *c, const struct pool_events *ev,
	     struct nl_err *err, struct pool **out);
void pool_free(struct pool *p);
/* Open slot 0 and run the probe; NL_EUNAVAIL (why, naming the relay) or
 * NL_ETEMPFAIL when *stop is set meanwhile. */
int pool_probe(struct pool *p, volatile int *stop);
/* Give every slot what it can take now; returns the seconds until
 * something could start (pace, hold, backoff), at most TICK; *took (may
 * be NULL) counts the jobs taken. */
double pool_fill(struct pool *p, unsigned *took);
/* The pace recovers after throttling (call every loop). */
void pool_recover(struct pool *p, double now);
int pool_unreachable(const struct pool *p);
/* Is the pool working at its own pace: not held after a throttle, not
 * waiting for its pace, and with a connection open, opening or free to
 * open (not all backing off)?  A pool that is merely busy keeps its turn
 * in the routes' stride, so that shares follow the weights; one that is
 * held or paced does not hold the others back. */
int pool_keeps_turn(const struct pool *p, double now);
/* A relay that was down is tried again: the failure counts are reset. */
void pool_revive(struct pool *p);
int pool_overthrottled(const struct pool *p);
/* Messages started a second over the last 5 s. */
double pool_recent_rate(const struct pool *p, double now);
/* The pace now (0: unlimited). */
double pool_rate(const struct pool *p);
/* Held messages may go out (their marks are committed); 1 when any. */
void pool_release(struct pool *p);
int pool_held(const struct pool *p);
/* QUIT on every idle open connection; 1 while any is closing. */
void pool_quit(struct pool *p);
int pool_closing(const struct pool *p);
/* Stopped hard: close without outcomes (events.dropped for each job). */
void pool_drop(struct pool *p);

/* ---- slot.c: the connections ------------------------------------------- */

int slot_init(struct pool *p, struct slot *sl, int idx);
void slot_free(struct slot *sl);
/* Start libcurl opening the connection (S_CONNECTING). */
int slot_connect(struct slot *sl);
/* Close without a word (libcurl closes a CONNECT_ONLY connection when its
 * handle leaves the multi); S_OFF after. */
void slot_detach(struct slot *sl);
/* The connection is gone or must go: its open transactions end with why
 * (send/smtp.c decides whose failure it was), then it is closed. */
void slot_close(struct slot *sl, const char *why);
void slot_quit(struct slot *sl, double now);
/* Write what the connection has to say, unless it is held. */
void slot_write(struct slot *sl);
/* Write on every slot of p. */
void pool_write(struct pool *p);
/*
 * Wait at most wait seconds for any socket or timer of the pools, then
 * run whatever is ready: libcurl for the connections being opened
 * (pool_connected() when one is done), reads and writes for the open ones
 * (pool_slot_events() for what the server said), timeouts.  -1 only if
 * poll(2) fails (err of the first pool).
 */
int pool_pump(struct pool *const *pools, int npools, double wait);

/* ---- pool.c, for slot.c ---------------------------------------------- */

/* libcurl has finished opening sl's connection, or failed to. */
void pool_connected(struct slot *sl);
/* Act on what send/smtp.c reported: 354s and outcomes. */
void pool_slot_events(struct slot *sl);

#endif
