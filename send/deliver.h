/*
 * deliver.h - delivery over SMTP with libcurl: one transaction per
 * recipient, connections reused, several in parallel in one thread, every
 * outcome in the journal.
 *
 * send/ knows SMTP, the journal, rates, retries and failure classes.  It
 * knows nothing of YAML, templates or MIME: the caller hands it a source of
 * subscribers and a function that composes each one's message.
 *
 * How it works (the why of each choice):
 *
 * - One MAIL FROM / RCPT TO / DATA per recipient (personalised messages;
 *   RFC 5321 section 3.3).  Each of `concurrency` slots owns one easy
 *   handle in its own multi handle whose connection cache holds one
 *   connection: a slot's connection is reused for its next message, and
 *   `max_per_connection` can be counted exactly per connection.  All the
 *   slots are driven by one poll(2) loop through curl_multi_socket_action.
 *
 * - Every transaction on a reused connection starts clean.  libcurl 7.88
 *   (lib/smtp.c, smtp_done) closes the connection after any failed
 *   transaction ("SMTP done with bad status"), and after a successful one
 *   the server is back in its initial state (RFC 5321 section 4.1.1.4:
 *   the 250 to end-of-data clears the buffers).  So libcurl never sends a
 *   second MAIL FROM inside an open transaction, and "503 Sender already
 *   specified" cannot happen; tests/lib/smtpd.py refuses nested MAIL to
 *   prove it.
 *
 * - Before anyone is marked in the journal, slot 0 opens a connection and
 *   runs "MAIL FROM:<mail_from>" and "RSET" as plain commands.  That
 *   checks, once, what would otherwise fail for every recipient: the
 *   server is reachable, STARTTLS is offered when required, the
 *   certificate verifies, the login is accepted, the envelope sender is
 *   accepted.  Any failure there returns NL_EUNAVAIL (exit 69) with the
 *   journal untouched.  The connection is then reused by slot 0's first
 *   message.
 *
 * - The journal (journal.h) is written in groups: one transaction holds
 *   the outcomes of the transfers that just finished and the in-flight
 *   marks of those about to start, and it is committed before they start.
 *   A slot's previous outcome is always in the same or an earlier commit
 *   than its next in-flight mark, so at most `concurrency` rows are
 *   in-flight on disk at any moment: a kill -9 causes at most that many
 *   duplicates (the server had the message, the journal had not yet
 *   recorded it) and never a loss (in-flight rows are resent).
 *   Outcomes with no transfer to start after them are committed at least
 *   every 250 ms and at the end.
 *
 * - Outcomes: a 2xx to end-of-data is sent; a 4xx reply, a timeout, a
 *   dropped connection or a failure to reconnect is deferred and retried
 *   in the run after a backoff (backoff_ms, doubling, at most 60 s), up to
 *   max_attempts transfers in this run, then left deferred; a 5xx reply
 *   from MAIL FROM on is failed.  Replies before MAIL FROM (greeting,
 *   EHLO, STARTTLS, AUTH) never fail a recipient: they are the server's
 *   or the login's problem, not the address's.
 *
 * - Throttling replies (454; 421 with enhanced code 4.7.x; 421, 450 or
 *   451 whose text says "throttl", "rate limit", "sending rate" or "try
 *   again later") halve the sending rate for the rest of the run (at most
 *   once a second: parallel transfers meeting one throttle count once,
 *   floor 0.1/s), and hold new transfers 1 s per throttled reply in a row
 *   (at most 30 s); the rate recovers by 10% every 10 s without one, back
 *   to --rate or to unlimited.  Without --rate the halving starts from
 *   the rate measured over the last 5 s.  2 x concurrency (at least 10)
 *   throttled replies in a row stop the run (NL_ETEMPFAIL) rather than
 *   burn through the list.  "421 Too many messages in one session" is not
 *   a throttle: it is a reconnect (see max_per_connection).
 *
 * - A window cap (window_count messages per window_seconds, e.g. a
 *   relay's 2000/day) counts journal_sent_since() over all issues plus
 *   what this run has sent or has in flight; when it is reached nothing
 *   more is started and the remaining recipients count as deferred (they
 *   stay pending in the journal).
 *
 * - A server that becomes unreachable mid-run (2 x concurrency, at least
 *   4, consecutive transfers failing before MAIL FROM) stops the run:
 *   NL_ETEMPFAIL, the rest left for the next run.
 *
 * - --verbose writes "nlsend: EMAIL: REPLY" for every outcome, REPLY
 *   being the server's last reply line (or a local reason such as "timed
 *   out after 60.0 s").  Server replies are captured through
 *   CURLOPT_DEBUGFUNCTION from the MAIL FROM command onwards only, and
 *   only what the server sent (CURLINFO_HEADER_IN): the client's AUTH
 *   lines are never looked at, so they cannot reach a log or the journal.
 *   CURLOPT_VERBOSE output never goes to stderr.
 *
 * Pitfalls:
 * - libcurl 7.88 waits for the reply to end-of-data synchronously
 *   (smtp_done -> smtp_block_statemach), bounded by timeout_ms, and the
 *   whole loop waits with it.  Slots overlap their connect, TLS, AUTH,
 *   envelope and upload, but not that last wait: two messages whose
 *   server takes 2 s to answer the end of data take 4 s at concurrency 2
 *   (2 s waits at RCPT TO take 2 s).  A server slow to queue bounds the
 *   rate at 1 / that delay; a transfer in another slot may time out
 *   during such a wait (it is then deferred and retried).
 * - Two processes sending the same issue with the same journal at once
 *   would both send: the journal is not a lock.  `--due` takes one.
 * - The message handed to libcurl must use CRLF line ends; libcurl does
 *   the dot-stuffing (RFC 5321 section 4.5.2) and appends the final
 *   ".\r\n".  The read callback copies straight out of the composed
 *   buffer: one copy per message, into libcurl's upload buffer.
 * - src->next must not yield an address twice (lists/ de-duplicates): a
 *   duplicate that is in flight when it comes again would be sent twice.
 */
#ifndef NL_DELIVER_H
#define NL_DELIVER_H

#include "lists/list.h"
#include "send/journal.h"
#include "util/buf.h"
#include "util/err.h"

struct deliver_src {
	/* 1: *s is the next subscriber, valid until the next call (the
	 * driver copies what it keeps); 0: end; -1: fatal error (err set).
	 * Called again after 0 is not required. */
	int (*next)(void *arg, struct subscriber *s, struct nl_err *err);
	/* Append s's complete RFC 5322 message (CRLF line ends) to out.
	 * Called again for a retry, with the driver's copy of s. */
	int (*compose)(void *arg, const struct subscriber *s, struct buf *out,
		       struct nl_err *err);
	void *arg;
};

struct deliver_conf {
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
	int concurrency;	/* slots; <= 0: 4; at most 64 */
	double rate;		/* messages per second overall; 0 unlimited */
	long window_count, window_seconds;	/* 0: no window cap */
	int max_per_connection;	/* 0: unlimited */
	long timeout_ms;	/* per transfer (connect included); 0: 60000 */
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
	unsigned long suppressed;	/* not set here: the caller's count */
	unsigned long prior_failed;	/* failed in an earlier run, not
					 * retried (no retry_failed) */
	unsigned long resumed;		/* in flight when an earlier run died:
					 * sent again */
	unsigned long retries;		/* extra transfers after a deferral */
	unsigned long reconnects;	/* connections opened after the first
					 * of each slot */
	double seconds;
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
 * The summary line of cli.md, without "nlsend: " or a newline:
 * "sent 9,998, failed 1, deferred 1, skipped 0 (already sent),
 * suppressed 3 in 4.2 s".  Appends to out.
 */
int deliver_summary(const struct deliver_stats *st, struct buf *out);

/* The URL without user or password, for messages ("smtp://host:25"). */
int deliver_safe_url(const char *url, struct buf *out);

#endif
