/*
 * deliver.h - delivery over SMTP: one transaction per recipient,
 * connections opened by libcurl and reused, pipelined when the server
 * allows it, several in parallel in one thread, every outcome in the
 * journal.
 *
 * send/ knows SMTP, the journal, rates, retries and failure classes.  It
 * knows nothing of YAML, templates or MIME: the caller hands it a source of
 * subscribers and a function that composes each one's message.
 *
 * How it works (the why of each choice).  The run (run.c) decides who is
 * sent what and when; each relay is a pool (pool.h: its connections,
 * opened by libcurl, its transactions, run by send/smtp.c, the probe, the
 * pace and the throttling, with the figures of why the transactions are
 * ours and not libcurl's).  The run:
 *
 * - The journal (journal.h): a recipient is marked in flight when the
 *   server has said 354 to its DATA, and that mark is committed before
 *   any byte of its message is written (the message waits in the slot,
 *   "held", until the loop's next commit, which also carries the outcomes
 *   that came in since).  Only a message that went out can have been
 *   delivered, and a slot has at most one such message without its reply,
 *   so at most `concurrency` rows are in flight on disk at any moment: a
 *   kill -9 causes at most that many duplicates (the server had the
 *   message, the journal had not yet recorded it) and never a loss
 *   (in-flight rows are resent).  A recipient whose transaction ended
 *   before its 354 was never in flight; its attempt is recorded with its
 *   outcome.  Outcomes with no message to release are committed at least
 *   every 250 ms and at the end.
 *
 * - Outcomes: a 2xx to end-of-data is sent; a 4xx reply, a timeout (no
 *   reply within timeout_ms), or a connection lost under the
 *   transaction is deferred and retried in the run after a backoff
 *   (backoff_ms, doubling, at most 60 s), up to max_attempts transactions
 *   in this run, then left deferred; a 5xx reply is failed.  A
 *   transaction the server never answered (its envelope was queued behind
 *   another message when the connection died), or that had not sent its
 *   message when a connection that had delivered before was closed, is
 *   sent again at once and not counted: the connection failed, not the
 *   recipient.
 *
 * - Throttling (pool.h) slows the relay that throttles; 2 x concurrency
 *   (at least 10) throttled replies in a row stop the run (NL_ETEMPFAIL)
 *   rather than burn through the list.
 *
 * - A window cap (window_count messages per window_seconds, e.g. a
 *   relay's 2000/day) counts journal_sent_since() over all issues plus
 *   what this run has sent or has in flight; when it is reached nothing
 *   more is started and the remaining recipients count as deferred (they
 *   stay pending in the journal).
 *
 * - A server that becomes unreachable mid-run (2 x concurrency, at least
 *   4, connections in a row that cannot be opened, or that die before
 *   their first message is answered) stops the run: NL_ETEMPFAIL, the
 *   rest left for the next run.
 *
 * - --verbose writes "nlsend: EMAIL: REPLY" for every outcome, REPLY
 *   being the server's reply (multiline replies joined, control
 *   characters replaced), or a local reason such as "timed out after
 *   60.0 s" (util/report.h; the engine prints nothing itself).  Nothing
 *   of the login reaches a log or the journal (pool.h).
 *
 * Pitfalls:
 * - Two processes sending the same issue with the same journal at once
 *   would both send: the journal is not a lock.  `--due` takes one.
 * - The message composed by src->compose must use CRLF line ends and no
 *   bare CR or LF (mime/ writes nothing else): send/smtp.c dot-stuffs
 *   after LF only (RFC 5321 section 4.5.2) and appends the end of data.
 * - src->next must not yield an address twice (lists/ de-duplicates): a
 *   duplicate that is in flight when it comes again would be sent twice.
 */
#ifndef NL_DELIVER_H
#define NL_DELIVER_H

#include "lists/list.h"
#include "state/journal.h"
#include "util/buf.h"
#include "util/err.h"

struct deliver_src {
	/* 1: *s is the next subscriber, valid until the next call (the
	 * driver copies what it keeps); 0: end; -1: fatal error (err set).
	 * Called again after 0 is not required. */
	int (*next)(void *arg, struct subscriber *s, struct nl_err *err);
	/* Append s's complete RFC 5322 message (CRLF line ends) to out.
	 * Called again for a retry, with the driver's copy of s.  variant
	 * is the relay's (deliver_conf.variant): what the caller makes of
	 * it, such as which signatures the message carries.  0; 1: s
	 * cannot be composed (a bad row, reported by the callee): it is
	 * skipped, counted in bad, and the run goes on; -1: fatal. */
	int (*compose)(void *arg, const struct subscriber *s, int variant,
		       struct buf *out, struct nl_err *err);
	void *arg;
};

#define DELIVER_MAX_RELAYS 16
#define DELIVER_RELAY_NAME_MAX 32

/* One relay of several (deliver_conf.relays); see deliver_conf for the
 * meaning of the fields of the same names. */
struct deliver_relay {
	const char *name;	/* in the journal, the reports: [A-Za-z0-9_-] */
	const char *url;
	const char *ca_file;
	const char *user, *password;
	double rate;		/* its pace, messages a second; 0 unlimited */
	long quota_count, quota_seconds;	/* its quota, counted from the
						 * journal's rows of this relay
						 * across runs; 0: none */
	int tls;
	int concurrency;	/* its connections */
	int max_per_connection;
	int weight;		/* its share while all are healthy; <= 0: 1 */
	int priority;		/* lower first: higher ones take only when
				 * the lower are down or out of quota */
	int variant;		/* handed to src->compose */
};

struct deliver_conf {
	/* Several relays: relays[0..nrelays), and the fields below from url
	 * to max_per_connection are not used.  nrelays 0: one relay made of
	 * them, named "default", whose window counts every relay's rows. */
	const struct deliver_relay *relays;
	int nrelays;
	const char *url;	/* smtp://host[:port] or smtps://host[:port] */
	int tls;		/* smtp://: 1 STARTTLS required, 0 plain only
				 * (no STARTTLS attempted: --tls=no is for a
				 * relay on localhost).  smtps:// is always
				 * TLS.  Certificates are always verified. */
	const char *ca_file;	/* PEM bundle; NULL: the system store */
	const char *user, *password;	/* NULL user: ~/.netrc if it has the
					 * host (CURL_NETRC_OPTIONAL), else no
					 * AUTH.  user without password: the
					 * password from ~/.netrc.  The password
					 * is handed to libcurl and nothing
					 * else. */
	const char *mail_from;	/* envelope sender; NULL or "": <> */
	int variant;		/* handed to src->compose for this relay */
	int concurrency;	/* slots; <= 0: 4; at most 64 */
	double rate;		/* messages per second overall; 0 unlimited */
	long window_count, window_seconds;	/* 0: no window cap */
	int max_per_connection;	/* 0: unlimited */
	long timeout_ms;	/* opening a connection (connect, TLS, AUTH), and
				 * each reply or write after; 0: 60000 */
	int max_attempts;	/* transfers per recipient in this run; 0: 3 */
	long backoff_ms;	/* first retry delay, doubling; 0: 1000 */
	const char *issue_id;	/* journal key */
	struct journal *journal;	/* NULL (--test): record nothing, and
					 * send to whoever src yields */
	int resend;		/* ignore sent and failed rows */
	int retry_failed;	/* failed rows are sent again too */
	unsigned long expected;	/* recipients src will yield, for the ETA of
				 * the progress line; 0: unknown */
	int progress;		/* a progress line on stderr (a terminal) */
	int verbose, quiet;	/* quiet: no notices (errors are returned) */
	volatile int *stop;	/* NULL, or set by SIGINT/SIGTERM: 1 = start
				 * nothing new, let in-flight transfers end,
				 * commit, return NL_ETEMPFAIL; 2 or more =
				 * abandon in-flight transfers too (their rows
				 * stay in-flight and are resent next run). */
};

struct deliver_stats {
	unsigned long sent;		/* accepted by the server this run */
	unsigned long failed;		/* 5xx this run */
	unsigned long deferred;		/* left for a later run: 4xx,
					 * timeouts, window cap, stopped */
	unsigned long skipped;		/* already sent (journal) */
	unsigned long bad;		/* could not be composed (compose
					 * returned 1) */
	unsigned long suppressed;	/* not set here: the caller's count */
	unsigned long prior_failed;	/* failed in an earlier run, not
					 * retried (no retry_failed) */
	unsigned long resumed;		/* in flight when an earlier run died:
					 * sent again */
	unsigned long retries;		/* extra transfers after a deferral */
	unsigned long reconnects;	/* connections opened after the first
					 * of each slot */
	double seconds;
	/* by relay, in deliver_conf's order */
	int nrelays;
	struct deliver_relay_stats {
		char name[DELIVER_RELAY_NAME_MAX + 1];
		unsigned long sent, failed, deferred, throttled;
		double down_seconds;	/* marked down this run */
		int down;		/* still down at the end */
		char why_down[256];	/* the last reason it went down */
	} relay[DELIVER_MAX_RELAYS];
};

/*
 * Deliver every subscriber src yields that the journal does not say is
 * done.  st is always filled (also on error).
 * Returns 0 when the run completed, even with failures or deferrals (see
 * st: the caller maps deferred > 0 to exit 75, failed > 0 to exit 1).
 * -1 with:
 *   NL_EUNAVAIL   the server is unreachable, TLS is required but not
 *                 offered, the certificate is refused, AUTH or the
 *                 envelope sender is refused: detected before anyone is
 *                 marked in the journal;
 *   NL_ETEMPFAIL  stopped by *stop, by the server becoming unreachable
 *                 mid-run; what is left is for the next run;
 *   NL_ECONFIG    a URL that is not smtp:// or smtps://;
 *   NL_EIO        the journal cannot be written (sending stops at once:
 *                 nothing is sent that could not be recorded);
 *   or whatever src->next / src->compose returned (after the transfers in
 *   flight ended and the journal was committed).
 * The message names the server as scheme://host:port, never with a user
 * or password even when the URL had them.
 */
int deliver_run(const struct deliver_conf *c, const struct deliver_src *src,
		struct deliver_stats *st, struct nl_err *err);

/*
 * The summary line of nlsend(1), without "nlsend: " or a newline:
 * "sent 9,998, failed 1, deferred 1, skipped 0 (already sent),
 * suppressed 3 in 4.2 s".  Appends to out.
 */
int deliver_summary(const struct deliver_stats *st, struct buf *out);

/* One relay's line: "relay NAME: sent N, deferred N, failed N, throttled
 * N times, down N s".  Appends. */
int deliver_relay_summary(const struct deliver_stats *st, int i,
			  struct buf *out);

/* The URL without user or password, for messages ("smtp://host:25"). */
int deliver_safe_url(const char *url, struct buf *out);

#endif
