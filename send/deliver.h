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
 * How it works (the why of each choice):
 *
 * - libcurl opens the connections, send/smtp.c runs the transactions.
 *   Each of `concurrency` slots owns one easy handle with
 *   CURLOPT_CONNECT_ONLY in its own multi handle: libcurl connects, does
 *   TLS (verified), EHLO, STARTTLS and AUTH, then hands over the socket;
 *   the MAIL FROM / RCPT TO / DATA of each recipient (RFC 5321 section
 *   3.3; personalised messages, so one recipient a transaction) are
 *   written and read by send/smtp.c through curl_easy_send/curl_easy_recv
 *   (TLS included), on the same connection for message after message.
 *   One poll(2) loop drives every slot: libcurl's sockets while it
 *   connects (curl_multi_socket_action), ours after.
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
 *   until the last reply).  tests/lib/smtpd.py refuses nested MAIL.
 *
 * - Before anyone is marked in the journal, slot 0 opens a connection and
 *   runs "MAIL FROM:<mail_from>" and "RSET".  That checks, once, what
 *   would otherwise fail for every recipient: the server is reachable,
 *   STARTTLS is offered when required, the certificate verifies, the
 *   login is accepted, the envelope sender is accepted.  Any failure there
 *   returns NL_EUNAVAIL (exit 69) with the journal untouched.  The
 *   connection is then used for slot 0's first message.
 *
 * - Connections are opened lazily (a slot connects when a recipient is
 *   waiting for it) and closed with QUIT at the end, or when
 *   max_per_connection transactions have begun on them.  A connection
 *   that cannot be opened costs no recipient anything: the slot waits
 *   (backoff_ms, doubling, at most 60 s) and the recipient goes to
 *   another slot.
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
 *   4, connections in a row that cannot be opened, or that die before
 *   their first message is answered) stops the run: NL_ETEMPFAIL, the
 *   rest left for the next run.
 *
 * - --verbose writes "nlsend: EMAIL: REPLY" for every outcome, REPLY
 *   being the server's reply (multiline replies joined, control
 *   characters replaced), or a local reason such as "timed out after
 *   60.0 s".  While libcurl connects, only reply codes and the PIPELINING
 *   keyword are read from what the server sends (CURLOPT_DEBUGFUNCTION,
 *   CURLINFO_HEADER_IN); of what libcurl sends only the verb EHLO is
 *   looked at: AUTH lines are never copied anywhere, so they cannot reach
 *   a log or the journal.  CURLOPT_VERBOSE output never goes to stderr.
 *
 * Pitfalls:
 * - Two processes sending the same issue with the same journal at once
 *   would both send: the journal is not a lock.  `--due` takes one.
 * - The message composed by src->compose must use CRLF line ends and no
 *   bare CR or LF (mime/ writes nothing else): send/smtp.c dot-stuffs
 *   after LF only (RFC 5321 section 4.5.2) and appends the end of data.
 * - src->next must not yield an address twice (lists/ de-duplicates): a
 *   duplicate that is in flight when it comes again would be sent twice.
 * - CONNECT_ONLY connections live in their slot's multi handle: the easy
 *   handle must stay added while the connection is used (libcurl finds
 *   the connection through it), and removing it closes the connection
 *   without QUIT (lib/multi.c); QUIT is ours.
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
