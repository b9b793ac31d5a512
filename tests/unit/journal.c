/* Unit tests of send/journal: states, re-open, crash safety, WAL, schema. */
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/jopen.h"
#include "tests/tap.h"

static char dir[] = "/tmp/nljournal.XXXXXX";

static enum jstate
state_of(struct journal *j, const char *issue, const char *email)
{
	enum jstate st = (enum jstate)-1;
	struct nl_err e;

	if (journal_get(j, issue, email, &st, &e))
		diag("journal_get: %s", e.msg);
	return st;
}

/* One value from a fresh, independent connection: what another process
 * (or the next run) would see. */
static char *
query1(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *out = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			out = strdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return out;
}

static void
test_basic(const char *path)
{
	struct journal *j = NULL;
	struct nl_err e;
	struct jrow row;
	struct stat sb;
	int rc;
	char parent[512];
	unsigned long counts[J_NSTATES];

	ok(open_journal(path, &j, &e) == 0, "open creates missing "
	   "directories and the file");
	if (!j) {
		diag("%s", e.msg);
		return;
	}
	/* stat() before ok(): argument evaluation order is unspecified. */
	memset(&sb, 0, sizeof sb);
	rc = stat(path, &sb);
	ok(rc == 0 && (sb.st_mode & 0777) == 0600,
	   "file mode 0600 (%o)", (unsigned)(sb.st_mode & 0777));
	snprintf(parent, sizeof parent, "%s/a/b", dir);
	memset(&sb, 0, sizeof sb);
	rc = stat(parent, &sb);
	ok(rc == 0 && (sb.st_mode & 0777) == 0700,
	   "parent directory mode 0700");
	journal_set_now(j, 1000);

	is_int(state_of(j, "i1", "ada@example.org"), J_PENDING,
	       "absent row is pending");
	ok(journal_set(j, "i1", "Ada@Example.ORG", J_INFLIGHT, 0, NULL, &e)
	   == 0, "mark in-flight");
	is_int(state_of(j, "i1", "ada@example.org"), J_INFLIGHT,
	       "in-flight, matched without case");
	is_int(state_of(j, "i2", "ada@example.org"), J_PENDING,
	       "rows are per issue");
	journal_set(j, "i1", "ada@example.org", J_DEFERRED, 451,
		    "451 4.7.1 Greylisted", &e);
	journal_set_now(j, 1005);
	journal_set(j, "i1", "ada@example.org", J_INFLIGHT, 0, NULL, &e);
	journal_get_row(j, "i1", "ADA@example.org", &row, &e);
	is_int(row.attempts, 2, "every move to in-flight is an attempt");
	is_int(row.last_code, 451, "in-flight keeps the last reply code");
	is_str(row.last_reply, "451 4.7.1 Greylisted", "and its text");
	is_int(row.first_at, 1000, "first_at");
	is_int(row.last_at, 1005, "last_at");
	is_int(row.sent_at, 0, "not sent yet");
	journal_set(j, "i1", "ada@example.org", J_SENT, 250,
		    "250 2.0.0 Ok: queued", &e);
	journal_get_row(j, "i1", "ada@example.org", &row, &e);
	is_int(row.state, J_SENT, "sent");
	is_int(row.sent_at, 1005, "sent_at set");
	is_str(row.last_reply, "250 2.0.0 Ok: queued", "reply stored");

	ok(journal_set(j, "i1", "x@example.org", J_PENDING, 0, NULL, &e) == -1
	   && e.kind == NL_EINTERNAL, "pending is not stored");

	/* A batch. */
	ok(journal_begin(j, &e) == 0, "begin");
	ok(journal_in_transaction(j), "in a transaction");
	ok(journal_begin(j, &e) == -1 && e.kind == NL_EINTERNAL,
	   "nested begin refused");
	journal_set(j, "i1", "b@example.org", J_INFLIGHT, 0, NULL, &e);
	journal_set(j, "i1", "c@example.org", J_INFLIGHT, 0, NULL, &e);
	journal_set(j, "i1", "d@example.org", J_INFLIGHT, 0, NULL, &e);
	journal_set(j, "i1", "c@example.org", J_FAILED, 550,
		    "550 5.1.1 No such user", &e);
	journal_set(j, "i2", "b@example.org", J_SENT, 250, "250 ok", &e);
	ok(journal_commit(j, &e) == 0, "commit");
	ok(!journal_in_transaction(j), "transaction closed");
	ok(journal_commit(j, &e) == 0, "commit without a transaction is a "
	   "no-op");

	ok(journal_counts(j, "i1", counts, &e) == 0, "counts");
	ok(counts[J_SENT] == 1 && counts[J_INFLIGHT] == 2 &&
	   counts[J_FAILED] == 1 && counts[J_DEFERRED] == 0 &&
	   counts[J_PENDING] == 0, "counts per state of one issue "
	   "(%lu sent, %lu inflight, %lu failed)", counts[J_SENT],
	   counts[J_INFLIGHT], counts[J_FAILED]);

	is_int(journal_sent_since(j, 1000), 2, "sent since, across issues");
	is_int(journal_sent_since(j, 1006), 0, "nothing sent after");

	{
		char big[700];
		memset(big, 'x', sizeof big);
		/* a 2-byte UTF-8 character straddling byte 500 */
		memcpy(big + 499, "\xc3\xa9", 2);
		big[sizeof big - 1] = '\0';
		journal_set(j, "i1", "d@example.org", J_DEFERRED, 421, big, &e);
		journal_get_row(j, "i1", "d@example.org", &row, &e);
		is_int(strlen(row.last_reply), 499, "a long reply is cut at a "
		       "UTF-8 boundary");
	}
	close_journal(j);
}

static void
test_reopen(const char *path)
{
	struct journal *j = NULL;
	struct nl_err e;
	char *mode;

	ok(open_journal(path, &j, &e) == 0, "re-open");
	if (!j)
		return;
	is_int(state_of(j, "i1", "ada@example.org"), J_SENT, "sent survives");
	is_int(state_of(j, "i1", "b@example.org"), J_INFLIGHT,
	       "in-flight found at start");
	is_int(state_of(j, "i1", "c@example.org"), J_FAILED,
	       "failed survives");
	close_journal(j);

	mode = query1(path, "PRAGMA journal_mode");
	is_str(mode, "wal", "the file is in WAL mode");
	free(mode);
	mode = query1(path, "SELECT group_concat(name) FROM "
		      "pragma_table_info('delivery')");
	ok(mode && !strstr(mode, "pass") && !strstr(mode, "auth") &&
	   !strstr(mode, "secret"), "no column for a password (%s)",
	   mode ? mode : "?");
	free(mode);
	mode = query1(path, "SELECT count(*) FROM sqlite_master WHERE "
		      "type = 'table' AND name LIKE '%pass%'");
	is_str(mode, "0", "no table for a password");
	free(mode);
}

/* A child commits some rows, writes more without committing, and is
 * killed with SIGKILL: the committed rows are there, the others are not. */
static void
test_kill(const char *path)
{
	struct journal *j = NULL;
	struct nl_err e;
	pid_t pid;
	int status = 0;
	char addr[64];
	long n;

	pid = fork();
	if (pid == 0) {
		if (open_journal(path, &j, &e))
			_exit(2);
		journal_begin(j, &e);
		for (n = 0; n < 500; n++) {
			snprintf(addr, sizeof addr, "k%ld@example.org", n);
			journal_set(j, "kill", addr, J_SENT, 250, "250 ok", &e);
		}
		if (journal_commit(j, &e))
			_exit(3);
		journal_begin(j, &e);
		for (n = 500; n < 600; n++) {
			snprintf(addr, sizeof addr, "k%ld@example.org", n);
			journal_set(j, "kill", addr, J_SENT, 250, "250 ok", &e);
		}
		raise(SIGKILL);
		_exit(4);
	}
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	   "child killed with SIGKILL");
	ok(open_journal(path, &j, &e) == 0, "open after the kill");
	if (!j)
		return;
	{
		unsigned long counts[J_NSTATES];
		journal_counts(j, "kill", counts, &e);
		is_int(counts[J_SENT], 500, "every committed row is there, no "
		       "uncommitted one");
	}
	is_int(state_of(j, "kill", "k499@example.org"), J_SENT,
	       "last committed row");
	is_int(state_of(j, "kill", "k500@example.org"), J_PENDING,
	       "first uncommitted row is absent");
	close_journal(j);
}

static void
test_errors(void)
{
	struct journal *j = NULL;
	struct nl_err e;
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/file", dir);
	f = fopen(path, "w");
	if (f)
		fclose(f);
	snprintf(path, sizeof path, "%s/file/sub/state.db", dir);
	ok(open_journal(path, &j, &e) == -1 && e.kind == NL_ECANTCREAT,
	   "a parent that is a file: cannot create (%s)", e.msg);
	snprintf(path, sizeof path, "%s/garbage.db", dir);
	f = fopen(path, "w");
	if (f) {
		fputs("this is not an SQLite database, not at all, no.\n", f);
		fclose(f);
	}
	ok(open_journal(path, &j, &e) == -1 && e.kind == NL_EIO,
	   "a foreign file is refused (%s)", e.msg);
	close_journal(NULL);
}

int
main(void)
{
	char path[512], cmd[600];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof path, "%s/a/b/state.db", dir);
	test_basic(path);
	test_reopen(path);
	test_kill(path);
	test_errors();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}
