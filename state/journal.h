/*
 * journal.h - the delivery journal: one SQLite row per (issue, recipient)
 * that says what happened to that recipient's copy of that issue.
 *
 * Why it exists: a send of 10,000 messages takes minutes and can be killed
 * at any moment (kill -9, a reboot, a full disk).  Re-running the same
 * command must then send only to those not yet sent (nlsend(1)), so every
 * outcome is written down, and written down *before* it can be lost:
 *
 *   - a recipient is marked J_INFLIGHT, and that mark is committed, before
 *     any byte of its transaction goes to the server;
 *   - it is marked J_SENT only after the server's 250 to the end of DATA
 *     (RFC 5321 section 4.1.1.4: only then has the server taken
 *     responsibility for the message);
 *   - a J_INFLIGHT row found by a later run is sent again.  So a crash
 *     never loses a recipient, and duplicates are bounded by how many rows
 *     can be J_INFLIGHT on disk at once (the driver keeps that at most its
 *     concurrency: see deliver.h).
 *
 * Durability: WAL mode with synchronous=NORMAL.  A commit is an append to
 * the WAL without fsync; it survives the death of the process (the WAL is
 * in the kernel's page cache and is replayed by the next open), though not
 * a power cut between two checkpoints: no fsync per message, nothing lost
 * to a killed process (state/db.h sets the pragmas).
 *
 * Table `delivery` (its schema is in state/db.c's migrations; other
 * modules keep their own tables in the same file):
 *   issue TEXT, email TEXT (util/addrkey.h), state TEXT (pending,
 *   inflight, sent, deferred, failed), attempts INTEGER (transfers started:
 *   bumped by every move to inflight), last_code INTEGER, last_reply TEXT
 *   (the server's reply, or a local reason such as "timed out"),
 *   first_at, last_at, sent_at INTEGER (seconds since the epoch, UTC),
 *   relay TEXT (the name of the relay that took it; schema version 3).
 *   Primary key (issue, email).  There is no column for a password, and
 *   callers must never pass AUTH data as a reply (deliver.c records replies
 *   only from MAIL FROM onwards).
 *
 * Not thread-safe: one struct journal per struct state.  Several
 * processes may open the same file (state/db.h); the state lock
 * (state/lock.h) keeps two senders of one issue apart, not this module.
 */
#ifndef NL_JOURNAL_H
#define NL_JOURNAL_H

#include "util/err.h"

enum jstate { J_PENDING, J_INFLIGHT, J_SENT, J_DEFERRED, J_FAILED };
#define J_NSTATES 5

struct journal;

/* One row as stored (for tests, status reports and the driver). */
struct jrow {
	enum jstate state;
	long attempts;
	int last_code;			/* 0: none */
	char last_reply[512];		/* "" when none; truncated to fit */
	long long first_at, last_at, sent_at;	/* 0 when unset */
};

struct state;

/*
 * The journal of a state database opened STATE_RW (state/db.h), which
 * must outlive it.  *out is owned by the caller: journal_close() it.
 * Errors: NL_EIO (a statement SQLite cannot prepare), NL_ENOMEM.
 */
int journal_open(struct state *st, struct journal **out, struct nl_err *err);

/* Commit an open transaction (if any), close.  NULL is fine. */
void journal_close(struct journal *j);

/*
 * Replace the clock used for first_at/last_at/sent_at (seconds since the
 * epoch; 0 = time(NULL), the default).  The CLI passes NLSEND_NOW here so
 * that a rehearsal of a schedule, and the window caps of
 * journal_sent_since(), see the same time.
 */
void journal_set_now(struct journal *j, long long now);
long long journal_now(const struct journal *j);

/* State of a recipient; J_PENDING when there is no row.  email is matched
 * by its key (util/addrkey.h); one longer than ADDR_KEY_MAX is NL_EDATA. */
int journal_get(struct journal *j, const char *issue, const char *email,
		enum jstate *st, struct nl_err *err);

/* The whole row; returns 0 with row->state J_PENDING and the rest zeroed
 * when there is none. */
int journal_get_row(struct journal *j, const char *issue, const char *email,
		    struct jrow *row, struct nl_err *err);

/*
 * Insert or update a row.  Moving to J_INFLIGHT bumps attempts; J_SENT sets
 * sent_at; every call sets last_at (and first_at on insert).  code 0 with
 * reply NULL keeps the previous last_code/last_reply (marking in-flight
 * does that); otherwise both are replaced (reply NULL stores NULL).  reply
 * is stored as given, cut at 500 bytes at a UTF-8 boundary.
 * Outside journal_begin()/journal_commit() each call is its own
 * transaction (slow for bulk: a WAL append each).
 */
int journal_set(struct journal *j, const char *issue, const char *email,
		enum jstate st, int code, const char *reply,
		struct nl_err *err);

/* The same, recording which relay took the message (column `relay`;
 * NULL keeps the row's). */
int journal_set_via(struct journal *j, const char *issue, const char *email,
		    enum jstate st, int code, const char *reply,
		    const char *relay, struct nl_err *err);

/*
 * Group changes into one transaction.  begin while one is open is an
 * error (NL_EINTERNAL); commit with none open does nothing.  Nothing is
 * durable until journal_commit() returns 0: the driver commits in-flight
 * marks before it starts those transfers.
 */
int journal_begin(struct journal *j, struct nl_err *err);
int journal_commit(struct journal *j, struct nl_err *err);
int journal_in_transaction(const struct journal *j);

/*
 * Rows of every issue with sent_at >= since (seconds since the epoch): the
 * count behind a relay quota such as "2000/day", held across runs and
 * issues.  -1 on error.
 */
long journal_sent_since(struct journal *j, long long since);
/* The same for one relay: its quota ("50000/day") across runs. */
long journal_sent_since_relay(struct journal *j, const char *relay,
			      long long since);

/* For --status: the rows of one issue counted by relay ("" for rows of
 * no relay) and state, in relay order; the first and last times of the
 * issue's rows (0 when none); each failed, deferred or in-flight row
 * (fn returns non-zero to stop; strings valid during the call). */
struct jentry {
	const char *email, *relay, *reply;
	enum jstate state;
};
int journal_by_relay(struct journal *j, const char *issue,
		     void (*fn)(void *arg, const char *relay, enum jstate st,
				unsigned long n),
		     void *arg, struct nl_err *err);
int journal_times(struct journal *j, const char *issue, long long *first,
		  long long *last, struct nl_err *err);
int journal_each_unsent(struct journal *j, const char *issue,
			int (*fn)(void *arg, const struct jentry *e),
			void *arg, struct nl_err *err);

/* Rows of one issue by state: counts[J_PENDING] is always 0 (pending rows
 * are not stored). */
int journal_counts(struct journal *j, const char *issue,
		   unsigned long counts[J_NSTATES], struct nl_err *err);

/*
 * Room left for the journal: 1 when the file system of the database has
 * less than JOURNAL_SPACE_MIN bytes free for us (statvfs) beyond what
 * the WAL may still grow to before its next auto-checkpoint, with *avail
 * those bytes.  A WAL of STATE_WAL_PAGES pages grows by a few pages a
 * message, much faster than anyone looks at the disk, so its room is
 * counted before it is taken.  Outside a transaction, when that room is
 * lacking, the WAL is checkpointed, truncated and given the smaller
 * STATE_WAL_PAGES_TIGHT before the answer.  A sender stops before a low
 * disk rather than meet a commit that fails: the outcomes in a failed
 * commit are lost, and every message among them would be sent again.  0
 * otherwise (or when it cannot tell).
 */
#define JOURNAL_SPACE_MIN ((unsigned long long)4 << 20)
int journal_space_low(struct journal *j, unsigned long long *avail);

/* "pending", "inflight", "sent", "deferred", "failed". */
const char *jstate_name(enum jstate st);

/*
 * Whole issues (table `issue_done`): a run that ended with every recipient
 * of the lists sent or failed permanently marks its issue done, so that
 * cron's `--due` skips it with one look-up instead of composing it again.
 * A later `--resend` or `--retry-failed` run clears nothing: those are
 * explicit commands, not cron's business.
 */
int journal_issue_done(struct journal *j, const char *issue, int *done,
		       struct nl_err *err);
int journal_issue_mark_done(struct journal *j, const char *issue,
			    struct nl_err *err);

#endif
