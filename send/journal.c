/* The delivery journal on SQLite (see journal.h for the contract). */
#include "send/journal.h"
#include "util/path.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EMAIL_MAX 512		/* > RFC 5321's 254-byte path, with room */
#define REPLY_STORE_MAX 500

struct journal {
	sqlite3 *db;
	char *path;
	long long now;		/* 0: time(NULL) */
	int in_txn;
	sqlite3_stmt *get, *set_keep, *set_repl, *since, *counts, *begin,
		*commit;
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

static int
exec(struct journal *j, const char *sql, struct nl_err *err)
{
	if (sqlite3_exec(j->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return dberr(j, err, sql);
	return 0;
}

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS delivery ("
	" issue TEXT NOT NULL,"
	" email TEXT NOT NULL,"
	/* Not "state IN (...)": SQLite 3.40 evaluates an IN list of
	 * constants through an ephemeral table, opened and freed (with its
	 * page cache, and the heap trimmed by brk) on every insert and
	 * update: 12% of nlsend's CPU when sending (bench/README.md).
	 * Journals created before keep that form; it is only slower. */
	" state TEXT NOT NULL CHECK (state = 'pending' OR"
	"  state = 'inflight' OR state = 'sent' OR state = 'deferred' OR"
	"  state = 'failed'),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" last_code INTEGER,"
	" last_reply TEXT,"
	" first_at INTEGER NOT NULL,"
	" last_at INTEGER NOT NULL,"
	" sent_at INTEGER,"
	" PRIMARY KEY (issue, email)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS delivery_sent_at ON delivery(sent_at)"
	" WHERE sent_at IS NOT NULL;"
	/* No (issue, state) index: nothing on the sending path reads by
	 * state, and journal_counts() is served by the primary key's issue
	 * prefix; the index cost a B-tree update per state change. */
	"DROP INDEX IF EXISTS delivery_issue_state;";

/* ?3 state, ?4 attempts increment, ?5 now; ?6/?7 code and reply. */
#define UPSERT_HEAD \
	"INSERT INTO delivery (issue, email, state, attempts, last_code," \
	" last_reply, first_at, last_at, sent_at) VALUES (?1, ?2, ?3, ?4," \
	" ?6, ?7, ?5, ?5, CASE WHEN ?3 = 'sent' THEN ?5 END)" \
	" ON CONFLICT (issue, email) DO UPDATE SET state = excluded.state," \
	" attempts = attempts + excluded.attempts, last_at = excluded.last_at," \
	" sent_at = CASE WHEN excluded.state = 'sent' THEN excluded.last_at" \
	" ELSE sent_at END"

int
journal_open(const char *path, struct journal **out, struct nl_err *err)
{
	struct journal *j;
	sqlite3_stmt *st = NULL;
	int fd, rc = -1;

	*out = NULL;
	/* 0700: the state directory holds the subscriber list and the
	 * unsubscribe secret. */
	if (path_make_parents(path, 0700))
		return nl_err_set(err, NL_ECANTCREAT, "%s: cannot create its "
				  "directory: %s", path, strerror(errno));
	/* Create the file ourselves so that it is 0600 from its first byte;
	 * SQLite gives the -wal and -shm files the same mode. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return nl_err_set(err, NL_ECANTCREAT, "%s: %s", path,
				  strerror(errno));
	close(fd);
	j = calloc(1, sizeof *j);
	if (!j || !(j->path = strdup(path))) {
		free(j);
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	}
	if (sqlite3_open_v2(path, &j->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		dberr(j, err, "open");
		goto out;
	}
	sqlite3_busy_timeout(j->db, 5000);
	if (sqlite3_prepare_v2(j->db, "PRAGMA journal_mode=WAL", -1, &st,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		dberr(j, err, "WAL mode");
		goto out;
	}
	if (strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
		nl_err_set(err, NL_EIO, "%s: journal: the file system does not "
			   "allow SQLite's WAL mode", path);
		goto out;
	}
	/* cache_size: a send walks the table in list order and touches each
	 * page a few times, so SQLite's default 2 MiB cache buys nothing but
	 * resident memory (issue 5: < 16 MB at 20,000 recipients).
	 * wal_autocheckpoint: the default checkpoint every 1,000 pages
	 * fdatasync()s inside the sending loop about once per 80 messages;
	 * every 8,000 pages (32 MiB of WAL) stalls it 8 times less. */
	if (exec(j, "PRAGMA synchronous=NORMAL", err) ||
	    exec(j, "PRAGMA cache_size=-256", err) ||
	    exec(j, "PRAGMA wal_autocheckpoint=8000", err) ||
	    exec(j, schema, err))
		goto out;
	if (prep(j, &j->get, "SELECT state, attempts, last_code, last_reply,"
		 " first_at, last_at, sent_at FROM delivery"
		 " WHERE issue = ?1 AND email = ?2", err) ||
	    prep(j, &j->set_keep, UPSERT_HEAD, err) ||
	    prep(j, &j->set_repl, UPSERT_HEAD ", last_code = excluded.last_code,"
		 " last_reply = excluded.last_reply", err) ||
	    prep(j, &j->since, "SELECT count(*) FROM delivery"
		 " WHERE sent_at >= ?1", err) ||
	    prep(j, &j->counts, "SELECT state, count(*) FROM delivery"
		 " WHERE issue = ?1 GROUP BY state", err) ||
	    prep(j, &j->begin, "BEGIN IMMEDIATE", err) ||
	    prep(j, &j->commit, "COMMIT", err))
		goto out;
	*out = j;
	rc = 0;
out:
	sqlite3_finalize(st);
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
	sqlite3_finalize(j->counts);
	sqlite3_finalize(j->begin);
	sqlite3_finalize(j->commit);
	sqlite3_close(j->db);
	free(j->path);
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

/* The key: ASCII lower-case (the same rule as lists/addrset.h, so that a
 * list's de-duplication and the journal agree on who is who). */
static int
lower(const char *email, char *out, struct nl_err *err)
{
	size_t i, n = strlen(email);

	if (n >= EMAIL_MAX)
		return nl_err_set(err, NL_EDATA, "journal: address of %zu "
				  "bytes is too long", n);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)email[i];
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[n] = '\0';
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
	char key[EMAIL_MAX];
	const char *s;
	int r, rc = -1;

	memset(row, 0, sizeof *row);
	row->state = J_PENDING;
	if (lower(email, key, err))
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
journal_set(struct journal *j, const char *issue, const char *email,
	    enum jstate st, int code, const char *reply, struct nl_err *err)
{
	char key[EMAIL_MAX];
	sqlite3_stmt *s;
	int rc = -1;

	if ((unsigned)st >= J_NSTATES || st == J_PENDING)
		return nl_err_set(err, NL_EINTERNAL, "journal: cannot store "
				  "state %d", (int)st);
	if (lower(email, key, err))
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

static int
issue_table(struct journal *j, struct nl_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(j->db, "CREATE TABLE IF NOT EXISTS issue_done ("
			 "issue TEXT PRIMARY KEY, done_at INTEGER NOT NULL)"
			 " WITHOUT ROWID", NULL, NULL, &msg) != SQLITE_OK) {
		nl_err_set(err, NL_EIO, "%s: %s", j->path, msg ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
journal_issue_done(struct journal *j, const char *issue, int *done,
		   struct nl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*done = 0;
	if (issue_table(j, err))
		return -1;
	if (sqlite3_prepare_v2(j->db, "SELECT 1 FROM issue_done WHERE issue = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return nl_err_set(err, NL_EIO, "%s: %s", j->path, sqlite3_errmsg(j->db));
	sqlite3_bind_text(st, 1, issue, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*done = 1;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return nl_err_set(err, NL_EIO, "%s: %s", j->path, sqlite3_errmsg(j->db));
	return 0;
}

int
journal_issue_mark_done(struct journal *j, const char *issue,
			struct nl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (issue_table(j, err))
		return -1;
	if (sqlite3_prepare_v2(j->db, "INSERT OR REPLACE INTO issue_done"
			       "(issue, done_at) VALUES (?, ?)", -1, &st,
			       NULL) != SQLITE_OK)
		return nl_err_set(err, NL_EIO, "%s: %s", j->path, sqlite3_errmsg(j->db));
	sqlite3_bind_text(st, 1, issue, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, journal_now(j));
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return nl_err_set(err, NL_EIO, "%s: %s", j->path, sqlite3_errmsg(j->db));
	return 0;
}
