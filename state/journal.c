/* The delivery journal on SQLite (see journal.h for the contract). */
#include "state/journal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "state/db.h"
#include "util/addrkey.h"
#include "util/path.h"

#define REPLY_STORE_MAX 500

struct journal {
	struct state *st;
	sqlite3 *db;
	const char *path;
	long long now;		/* 0: time(NULL) */
	int in_txn;
	int wal_pages;		/* the auto-checkpoint now (db.h) */
	unsigned page_size;
	sqlite3_stmt *get, *set_keep, *set_repl, *since, *since_relay, *counts,
		*by_relay, *times, *each, *begin,
		*commit, *done_get, *done_set;
};

static const char *const state_names[J_NSTATES] = {
	"pending", "inflight", "sent", "deferred", "failed",
};

const char *
jstate_name(enum jstate st)
{
	if ((unsigned)st < J_NSTATES)
		return state_names[st];
	return "unknown";
}

static int
state_from_name(const char *s, enum jstate *st)
{
	int i;

	for (i = 0; i < J_NSTATES; i++)
		if (s && strcmp(s, state_names[i]) == 0) {
			*st = (enum jstate)i;
			return 0;
		}
	return -1;
}

static int
dberr(struct journal *j, struct nl_err *err, const char *what)
{
	return nl_err_set(err, NL_EIO, "%s: journal: %s: %s",
			  j && j->path ? j->path : "?", what,
			  j && j->db ? sqlite3_errmsg(j->db) : "out of memory");
}

static int
prep(struct journal *j, sqlite3_stmt **st, const char *sql, struct nl_err *err)
{
	if (sqlite3_prepare_v3(j->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
			       NULL) != SQLITE_OK)
		return dberr(j, err, "prepare");
	return 0;
}

/* ?3 state, ?4 attempts increment, ?5 now; ?6/?7 code and reply; ?8 the
 * relay (NULL keeps the row's). */
#define UPSERT_HEAD \
	"INSERT INTO delivery (issue, email, state, attempts, last_code," \
	" last_reply, first_at, last_at, sent_at, relay) VALUES (?1, ?2, ?3," \
	" ?4, ?6, ?7, ?5, ?5, CASE WHEN ?3 = 'sent' THEN ?5 END, ?8)" \
	" ON CONFLICT (issue, email) DO UPDATE SET state = excluded.state," \
	" attempts = attempts + excluded.attempts, last_at = excluded.last_at," \
	" sent_at = CASE WHEN excluded.state = 'sent' THEN excluded.last_at" \
	" ELSE sent_at END, relay = coalesce(excluded.relay, relay)"

static int
read_page_size(struct journal *j, struct nl_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (prep(j, &s, "PRAGMA page_size", err))
		goto out;
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = dberr(j, err, "page size");
		goto out;
	}
	if (sqlite3_column_int(s, 0) > 0)
		j->page_size = (unsigned)sqlite3_column_int(s, 0);
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

int
journal_open(struct state *st, struct journal **out, struct nl_err *err)
{
	struct journal *j;
	int rc = -1;

	*out = NULL;
	j = calloc(1, sizeof *j);
	if (!j)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	j->st = st;
	j->db = state_db(st);
	j->path = state_path(st);
	j->wal_pages = STATE_WAL_PAGES;
	j->page_size = 4096;
	if (prep(j, &j->get, "SELECT state, attempts, last_code, last_reply,"
		 " first_at, last_at, sent_at FROM delivery"
		 " WHERE issue = ?1 AND email = ?2", err) ||
	    prep(j, &j->set_keep, UPSERT_HEAD, err) ||
	    prep(j, &j->set_repl, UPSERT_HEAD ", last_code = excluded.last_code,"
		 " last_reply = excluded.last_reply", err) ||
	    prep(j, &j->since, "SELECT count(*) FROM delivery"
		 " WHERE sent_at >= ?1", err) ||
	    prep(j, &j->since_relay, "SELECT count(*) FROM delivery"
		 " WHERE relay = ?2 AND sent_at >= ?1", err) ||
	    prep(j, &j->by_relay, "SELECT coalesce(relay, ''), state, count(*)"
		 " FROM delivery WHERE issue = ?1 GROUP BY 1, 2 ORDER BY 1", err) ||
	    prep(j, &j->times, "SELECT min(first_at), max(last_at) FROM delivery"
		 " WHERE issue = ?1", err) ||
	    prep(j, &j->each, "SELECT email, state, coalesce(relay, ''),"
		 " coalesce(last_reply, '') FROM delivery WHERE issue = ?1 AND"
		 " (state = 'failed' OR state = 'deferred' OR state = 'inflight')"
		 " ORDER BY email", err) ||
	    prep(j, &j->counts, "SELECT state, count(*) FROM delivery"
		 " WHERE issue = ?1 GROUP BY state", err) ||
	    prep(j, &j->begin, "BEGIN IMMEDIATE", err) ||
	    prep(j, &j->commit, "COMMIT", err) ||
	    prep(j, &j->done_get, "SELECT 1 FROM issue_done WHERE issue = ?1",
		 err) ||
	    prep(j, &j->done_set, "INSERT OR REPLACE INTO issue_done"
		 " (issue, done_at) VALUES (?1, ?2)", err) ||
	    read_page_size(j, err))
		goto out;
	*out = j;
	rc = 0;
out:
	if (rc)
		journal_close(j);
	return rc;
}

void
journal_close(struct journal *j)
{
	if (!j)
		return;
	if (j->in_txn)
		journal_commit(j, NULL);
	sqlite3_finalize(j->get);
	sqlite3_finalize(j->set_keep);
	sqlite3_finalize(j->set_repl);
	sqlite3_finalize(j->since);
	sqlite3_finalize(j->since_relay);
	sqlite3_finalize(j->by_relay);
	sqlite3_finalize(j->times);
	sqlite3_finalize(j->each);
	sqlite3_finalize(j->counts);
	sqlite3_finalize(j->begin);
	sqlite3_finalize(j->commit);
	sqlite3_finalize(j->done_get);
	sqlite3_finalize(j->done_set);
	free(j);
}

void
journal_set_now(struct journal *j, long long now)
{
	j->now = now;
}

long long
journal_now(const struct journal *j)
{
	return j && j->now ? j->now : (long long)time(NULL);
}

static int
key_of(const char *email, char *out, struct nl_err *err)
{
	if (addr_key(email, out) < 0)
		return nl_err_set(err, NL_EDATA, "journal: an address of more "
				  "than %d bytes", ADDR_KEY_MAX);
	return 0;
}

/* Length of at most max bytes of s, not cutting a UTF-8 sequence. */
static size_t
cut_utf8(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

int
journal_get_row(struct journal *j, const char *issue, const char *email,
		struct jrow *row, struct nl_err *err)
{
	char key[ADDR_KEY_MAX + 1];
	const char *s;
	int r, rc = -1;

	memset(row, 0, sizeof *row);
	row->state = J_PENDING;
	if (key_of(email, key, err))
		return -1;
	sqlite3_bind_text(j->get, 1, issue, -1, SQLITE_STATIC);
	sqlite3_bind_text(j->get, 2, key, -1, SQLITE_STATIC);
	r = sqlite3_step(j->get);
	if (r == SQLITE_DONE) {
		rc = 0;
		goto out;
	}
	if (r != SQLITE_ROW) {
		dberr(j, err, "read");
		goto out;
	}
	if (state_from_name((const char *)sqlite3_column_text(j->get, 0),
			    &row->state)) {
		nl_err_set(err, NL_EIO, "%s: journal: unknown state for %s",
			   j->path, key);
		goto out;
	}
	row->attempts = (long)sqlite3_column_int64(j->get, 1);
	row->last_code = sqlite3_column_int(j->get, 2);
	s = (const char *)sqlite3_column_text(j->get, 3);
	if (s) {
		size_t n = cut_utf8(s, sizeof row->last_reply - 1);
		memcpy(row->last_reply, s, n);
		row->last_reply[n] = '\0';
	}
	row->first_at = sqlite3_column_int64(j->get, 4);
	row->last_at = sqlite3_column_int64(j->get, 5);
	row->sent_at = sqlite3_column_int64(j->get, 6);
	rc = 0;
out:
	sqlite3_reset(j->get);
	sqlite3_clear_bindings(j->get);
	return rc;
}

int
journal_get(struct journal *j, const char *issue, const char *email,
	    enum jstate *st, struct nl_err *err)
{
	struct jrow row;

	if (journal_get_row(j, issue, email, &row, err))
		return -1;
	*st = row.state;
	return 0;
}

int
journal_set_via(struct journal *j, const char *issue, const char *email,
		enum jstate st, int code, const char *reply, const char *relay,
		struct nl_err *err)
{
	char key[ADDR_KEY_MAX + 1];
	sqlite3_stmt *s;
	int rc = -1;

	if ((unsigned)st >= J_NSTATES || st == J_PENDING)
		return nl_err_set(err, NL_EINTERNAL, "journal: cannot store "
				  "state %d", (int)st);
	if (key_of(email, key, err))
		return -1;
	s = code == 0 && !reply ? j->set_keep : j->set_repl;
	sqlite3_bind_text(s, 1, issue, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, state_names[st], -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, st == J_INFLIGHT);
	sqlite3_bind_int64(s, 5, journal_now(j));
	if (code)
		sqlite3_bind_int(s, 6, code);
	else
		sqlite3_bind_null(s, 6);
	if (reply)
		sqlite3_bind_text(s, 7, reply,
				  (int)cut_utf8(reply, REPLY_STORE_MAX),
				  SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, 7);
	if (relay)
		sqlite3_bind_text(s, 8, relay, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 8);
	if (sqlite3_step(s) != SQLITE_DONE) {
		dberr(j, err, "write");
		goto out;
	}
	rc = 0;
out:
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

int
journal_set(struct journal *j, const char *issue, const char *email,
	    enum jstate st, int code, const char *reply, struct nl_err *err)
{
	return journal_set_via(j, issue, email, st, code, reply, NULL, err);
}

static int
step_once(struct journal *j, sqlite3_stmt *s, const char *what,
	  struct nl_err *err)
{
	int r = sqlite3_step(s);

	sqlite3_reset(s);
	if (r != SQLITE_DONE)
		return dberr(j, err, what);
	return 0;
}

int
journal_begin(struct journal *j, struct nl_err *err)
{
	if (j->in_txn)
		return nl_err_set(err, NL_EINTERNAL, "journal: nested "
				  "transaction");
	/* IMMEDIATE: take the write lock now, so that a busy database shows
	 * up here (with the busy timeout) and not half way through. */
	if (step_once(j, j->begin, "begin", err))
		return -1;
	j->in_txn = 1;
	return 0;
}

int
journal_commit(struct journal *j, struct nl_err *err)
{
	if (!j->in_txn)
		return 0;
	if (step_once(j, j->commit, "commit", err)) {
		/* A failed COMMIT may leave the transaction open (SQLITE_BUSY)
		 * or rolled back; make sure it is gone so the handle is usable
		 * and nothing half-written is later committed by accident. */
		if (!sqlite3_get_autocommit(j->db))
			sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
		j->in_txn = 0;
		return -1;
	}
	j->in_txn = 0;
	return 0;
}

int
journal_in_transaction(const struct journal *j)
{
	return j->in_txn;
}

long
journal_sent_since(struct journal *j, long long since)
{
	long n = -1;

	sqlite3_bind_int64(j->since, 1, since);
	if (sqlite3_step(j->since) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(j->since, 0);
	sqlite3_reset(j->since);
	return n;
}

int
journal_counts(struct journal *j, const char *issue,
	       unsigned long counts[J_NSTATES], struct nl_err *err)
{
	enum jstate st;
	int r, rc = -1;

	memset(counts, 0, J_NSTATES * sizeof counts[0]);
	sqlite3_bind_text(j->counts, 1, issue, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(j->counts)) == SQLITE_ROW)
		if (!state_from_name((const char *)
				     sqlite3_column_text(j->counts, 0), &st))
			counts[st] = (unsigned long)
				sqlite3_column_int64(j->counts, 1);
	if (r != SQLITE_DONE) {
		dberr(j, err, "count");
		goto out;
	}
	rc = 0;
out:
	sqlite3_reset(j->counts);
	sqlite3_clear_bindings(j->counts);
	return rc;
}

int
journal_issue_done(struct journal *j, const char *issue, int *done,
		   struct nl_err *err)
{
	int rc;

	*done = 0;
	sqlite3_bind_text(j->done_get, 1, issue, -1, SQLITE_STATIC);
	rc = sqlite3_step(j->done_get);
	if (rc == SQLITE_ROW)
		*done = 1;
	sqlite3_reset(j->done_get);
	sqlite3_clear_bindings(j->done_get);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dberr(j, err, "read");
	return 0;
}

int
journal_issue_mark_done(struct journal *j, const char *issue,
			struct nl_err *err)
{
	int rc;

	sqlite3_bind_text(j->done_set, 1, issue, -1, SQLITE_STATIC);
	sqlite3_bind_int64(j->done_set, 2, journal_now(j));
	rc = sqlite3_step(j->done_set);
	sqlite3_reset(j->done_set);
	sqlite3_clear_bindings(j->done_set);
	if (rc != SQLITE_DONE)
		return dberr(j, err, "write");
	return 0;
}

static unsigned long long
space_of(const char *path)
{
	struct statvfs fs;
	char *dir = path_dir(path);
	int r;

	if (!dir)
		return ~0ULL;
	r = statvfs(dir, &fs);
	free(dir);
	return r == 0 ? (unsigned long long)fs.f_bavail * fs.f_frsize : ~0ULL;
}

/* What the WAL may still take: its cap less its present length, plus a
 * commit's overshoot past the cap (the checkpoint runs after the commit
 * that crosses it). */
static unsigned long long
wal_headroom(struct journal *j)
{
	unsigned long long cap = (unsigned long long)j->wal_pages * j->page_size
				 + ((unsigned long long)64 << 10);
	struct stat sb;
	char wal[PATH_MAX];
	unsigned long long len = 0;
	int n = snprintf(wal, sizeof wal, "%s-wal", j->path);

	if (n > 0 && (size_t)n < sizeof wal && stat(wal, &sb) == 0)
		len = (unsigned long long)sb.st_size;
	return len < cap ? cap - len : 0;
}

static unsigned long long
room_of(struct journal *j)
{
	unsigned long long fs = space_of(j->path), need = wal_headroom(j);

	if (fs == ~0ULL)
		return fs;
	return fs > need ? fs - need : 0;
}

int
journal_space_low(struct journal *j, unsigned long long *avail)
{
	*avail = room_of(j);
	if (*avail >= JOURNAL_SPACE_MIN || j->in_txn)
		return *avail < JOURNAL_SPACE_MIN;
	/* Fold the WAL back into the database, truncate it, and let it grow
	 * no more than a disk this full can hold. */
	if (j->wal_pages > STATE_WAL_PAGES_TIGHT &&
	    sqlite3_wal_autocheckpoint(j->db, STATE_WAL_PAGES_TIGHT) ==
		    SQLITE_OK)
		j->wal_pages = STATE_WAL_PAGES_TIGHT;
	sqlite3_exec(j->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL,
		     NULL);
	*avail = room_of(j);
	return *avail < JOURNAL_SPACE_MIN;
}

long
journal_sent_since_relay(struct journal *j, const char *relay, long long since)
{
	long n = -1;

	sqlite3_bind_int64(j->since_relay, 1, since);
	sqlite3_bind_text(j->since_relay, 2, relay, -1, SQLITE_STATIC);
	if (sqlite3_step(j->since_relay) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(j->since_relay, 0);
	sqlite3_reset(j->since_relay);
	sqlite3_clear_bindings(j->since_relay);
	return n;
}

int
journal_by_relay(struct journal *j, const char *issue,
		 void (*fn)(void *arg, const char *relay, enum jstate st,
			    unsigned long n),
		 void *arg, struct nl_err *err)
{
	enum jstate st;
	int r;

	sqlite3_bind_text(j->by_relay, 1, issue, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(j->by_relay)) == SQLITE_ROW)
		if (!state_from_name((const char *)
				     sqlite3_column_text(j->by_relay, 1), &st))
			fn(arg, (const char *)sqlite3_column_text(j->by_relay, 0),
			   st, (unsigned long)sqlite3_column_int64(j->by_relay, 2));
	sqlite3_reset(j->by_relay);
	sqlite3_clear_bindings(j->by_relay);
	return r == SQLITE_DONE ? 0 : dberr(j, err, "count");
}

int
journal_times(struct journal *j, const char *issue, long long *first,
	      long long *last, struct nl_err *err)
{
	int r;

	*first = *last = 0;
	sqlite3_bind_text(j->times, 1, issue, -1, SQLITE_STATIC);
	r = sqlite3_step(j->times);
	if (r == SQLITE_ROW) {
		*first = sqlite3_column_int64(j->times, 0);
		*last = sqlite3_column_int64(j->times, 1);
	}
	sqlite3_reset(j->times);
	sqlite3_clear_bindings(j->times);
	return r == SQLITE_ROW ? 0 : dberr(j, err, "read");
}

int
journal_each_unsent(struct journal *j, const char *issue,
		    int (*fn)(void *arg, const struct jentry *e), void *arg,
		    struct nl_err *err)
{
	struct jentry e;
	int r;

	sqlite3_bind_text(j->each, 1, issue, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(j->each)) == SQLITE_ROW) {
		if (state_from_name((const char *)sqlite3_column_text(j->each, 1),
				    &e.state))
			continue;
		e.email = (const char *)sqlite3_column_text(j->each, 0);
		e.relay = (const char *)sqlite3_column_text(j->each, 2);
		e.reply = (const char *)sqlite3_column_text(j->each, 3);
		if (fn(arg, &e)) {
			r = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(j->each);
	sqlite3_clear_bindings(j->each);
	return r == SQLITE_DONE ? 0 : dberr(j, err, "read");
}
