/*
 * driver.h - internal to send/: the state of one delivery run, shared by
 * deliver.c (the run: what to send, when, outcomes, the journal) and
 * slot.c (the connections: libcurl opening them, reading and writing
 * them, the poll loop).  Nothing outside send/ includes it; deliver.h is
 * the interface and says how it all works.
 *
 * Ownership: struct drv owns its slots; a slot owns its libcurl handles,
 * its struct smtp, its composed message and its parked job.  The jobs
 * of open transactions are owned by the transactions: each comes back
 * through slot_events() exactly once (an outcome or a requeue).
 */
#ifndef NL_SEND_DRIVER_H
#define NL_SEND_DRIVER_H

#include <curl/curl.h>

#include "send/deliver.h"
#include "send/job.h"
#include "send/smtp.h"

#define MAX_SLOTS 64
#define MAX_SOCKS 4		/* per slot while connecting: happy eyeballs */
#define REPLY_MAX SMTP_REPLY_MAX
#define BACKOFF_MAX 60.0	/* seconds */
#define FLUSH_EVERY 0.25	/* seconds: outcomes wait at most this long */
#define TICK 0.25		/* longest poll: *stop and the progress line */
#define QUIT_WAIT 2.0		/* seconds for the 221 to QUIT at the end */
#define MIN_RATE 0.1		/* messages/s: the floor of throttling */
#define NOTICE_MAX 20		/* failure lines without --verbose */
#define RECV_CHUNK 4096

enum slotstate {
	S_OFF,			/* no connection */
	S_CONNECTING,		/* libcurl: connect, TLS, EHLO, AUTH */
	S_OPEN,			/* transactions (send/smtp.c) */
	S_QUIT			/* QUIT written; closing on 221, EOF, time */
};

struct slot {
	struct drv *d;
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
	int timed_out;		/* the connection is being closed for a
				 * timeout (not a loss) */
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

struct drv {
	const struct deliver_conf *c;
	const struct deliver_src *src;
	struct deliver_stats *st;
	struct nl_err *err;
	struct slot slots[MAX_SLOTS];
	int nslots;
	char url[512];		/* safe for messages */
	const char *from;
	double timeout;		/* seconds, a reply or a write */
	struct heap retry;
	int src_done, fatal, stopping, abandon, window_full;
	int src_failed;		/* err holds src's error */
	struct nl_err brk;	/* why the run stopped early */
	double t0, dirty_since, last_progress;
	int dirty, progress_shown;
	unsigned long inflight;	/* jobs taken and not yet ended */
	unsigned notices;
	char probe;		/* its address is the probe's tx handle */
	int probe_code;		/* -1 until the probe's reply */
	char probe_reply[REPLY_MAX];
	/* rate */
	double rate;		/* effective; 0 unlimited */
	double next_start, hold_until, last_throttle, last_recover,
		throttle_base;
	unsigned consec_throttle, consec_connfail;
	double starts[64];	/* ring of recent start times */
	unsigned nstarts;
	long win_base;
	char connfail[REPLY_MAX];	/* the last connect failure */
};


/* ---- slot.c: the connections ----------------------------------------- */

/* Set up slot idx (handles, options); NL_EINTERNAL in d->err on failure. */
int slot_init(struct drv *d, struct slot *sl, int idx);
/* Close the connection without a word (libcurl closes a CONNECT_ONLY
 * connection when its handle leaves the multi); S_OFF after. */
void slot_detach(struct slot *sl);
void slot_free(struct slot *sl);
/* Start libcurl opening the connection (S_CONNECTING). */
int slot_connect(struct drv *d, struct slot *sl);
/* The connection is gone or must go: its open transactions end with why
 * (send/smtp.c decides whose failure it was), then it is closed. */
void slot_close(struct drv *d, struct slot *sl, const char *why);
/* Stopped hard: close without outcomes, counting what was open as
 * deferred (in-flight rows stay in flight). */
void slot_drop(struct drv *d, struct slot *sl);
void slot_quit(struct slot *sl, double now);
/* Write what the connection has to say, unless it is held. */
void slot_write(struct drv *d, struct slot *sl);
void send_all(struct drv *d);
/* Wait at most wait seconds, then run whatever is ready: libcurl for the
 * connections being opened (connected() when one is done), reads and
 * writes for the open ones (slot_events() for what the server said),
 * timeouts.  probing: the probe's connection (connected() reports
 * nothing).  -1 only if poll fails. */
int pump(struct drv *d, double wait, int probing);

/* ---- deliver.c: the run --------------------------------------------- */

/* libcurl has finished opening sl's connection, or failed to. */
void connected(struct drv *d, struct slot *sl, int probing);
/* Act on what send/smtp.c reported: 354s and outcomes. */
void slot_events(struct drv *d, struct slot *sl);
/* A notice line on stderr (erases the progress line first). */
void say(struct drv *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
