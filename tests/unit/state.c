/* Unit tests of state/: the database file, schema versions and migrations,
 * the suppression list on it, the unsubscribe key, the address key. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/db.h"
#include "state/journal.h"
#include "state/key.h"
#include "state/suppress.h"
#include "tests/tap.h"
#include "util/addrkey.h"

static char dir[] = "/tmp/nlstate.XXXXXX";

static long
query_long(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = (long)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

static int
exec_file(const char *path, const char *sqlfile)
{
	sqlite3 *db;
	FILE *f = fopen(sqlfile, "r");
	char *sql, *msg = NULL;
	long n;
	int rc = -1;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	sql = calloc(1, (size_t)n + 1);
	if (sql && fread(sql, 1, (size_t)n, f) == (size_t)n &&
	    sqlite3_open(path, &db) == SQLITE_OK) {
		rc = sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK ? 0 : -1;
		if (msg)
			diag("%s", msg);
		sqlite3_free(msg);
		sqlite3_close(db);
	}
	free(sql);
	fclose(f);
	return rc;
}

/* A database of the release before schema versions opens, migrates, and
 * keeps every row. */
static void
test_migrate_release(const char *top)
{
	char path[600], sql[600];
	struct state *st = NULL;
	struct journal *j = NULL;
	struct suppress *sup = NULL;
	struct nl_err e;
	enum jstate js = J_PENDING;
	int yes = 0, done = 0;

	snprintf(path, sizeof path, "%s/v0.db", dir);
	snprintf(sql, sizeof sql, "%s/tests/data/state/v0-release.sql", top);
	ok(exec_file(path, sql) == 0, "the release's database is made");
	is_int(query_long(path, "PRAGMA user_version"), 0, "it is version 0");
	ok(state_open(path, STATE_RW, &st, &e) == 0, "it opens");
	if (!st) {
		diag("%s", e.msg);
		return;
	}
	is_int(state_version(st), state_latest_version(), "migrated to the "
	       "latest version (%d)", state_latest_version());
	ok(journal_open(st, &j, &e) == 0 && suppress_open(st, &sup, &e) == 0,
	   "journal and suppression list open on it");
	if (j) {
		journal_get(j, "harbour-notes-2026-11-20", "Kai@Example.org", &js,
			    &e);
		journal_issue_done(j, "harbour-notes-2026-11-20", &done, &e);
	}
	is_int(js, J_SENT, "its sent rows are kept");
	ok(done, "its finished issue is kept");
	suppress_has(sup, "GONE@example.org", &yes, &e);
	ok(yes, "its suppressed address is kept");
	suppress_close(sup);
	journal_close(j);
	state_close(st);
	is_int(query_long(path, "PRAGMA user_version"), state_latest_version(),
	       "the version is on disk");
	is_int(query_long(path, "PRAGMA application_id"), STATE_APP_ID,
	       "the file is marked as nlsend's");
	ok(state_open(path, STATE_RW, &st, &e) == 0, "a migrated database "
	   "opens again");
	state_close(st);
}

static void
test_versions(void)
{
	char path[600], cmd[700];
	struct state *st = NULL;
	struct suppress *sup = (struct suppress *)1;
	struct nl_err e;
	struct stat sb;
	int yes = 1;

	snprintf(path, sizeof path, "%s/missing/state.db", dir);
	ok(state_open(path, STATE_RO, &st, &e) == 0 && st == NULL,
	   "read-only: a missing database is no error and no handle");
	ok(stat(path, &sb) != 0, "read-only creates nothing");
	ok(suppress_open(NULL, &sup, &e) == 0 && sup == NULL &&
	   suppress_has(NULL, "a@b.example", &yes, &e) == 0 && !yes,
	   "no database: nobody is suppressed");

	snprintf(path, sizeof path, "%s/empty-v0.db", dir);
	snprintf(cmd, sizeof cmd, "sqlite3 '%s' 'CREATE TABLE delivery(x)'",
		 path);
	if (system(cmd) != 0)
		diag("sqlite3 failed");
	ok(state_open(path, STATE_RO, &st, &e) == 0 && st != NULL,
	   "read-only opens a version-0 database as it is");
	ok(suppress_open(st, &sup, &e) == 0 && sup == NULL,
	   "without a suppression table nobody is suppressed");
	state_close(st);
	is_int(query_long(path, "PRAGMA user_version"), 0,
	       "read-only migrates nothing");

	snprintf(path, sizeof path, "%s/newer.db", dir);
	snprintf(cmd, sizeof cmd, "sqlite3 '%s' 'PRAGMA user_version=%d'",
		 path, state_latest_version() + 1);
	if (system(cmd) != 0)
		diag("sqlite3 failed");
	ok(state_open(path, STATE_RW, &st, &e) == -1 && e.kind == NL_ECONFIG &&
	   strstr(e.msg, "newer nlsend"), "a newer schema is refused (%s)",
	   e.msg);
	ok(state_open(path, STATE_RO, &st, &e) == -1 && e.kind == NL_ECONFIG,
	   "also read-only");

	snprintf(path, sizeof path, "%s/new/sub/state.db", dir);
	ok(state_open(path, STATE_RW, &st, &e) == 0, "a new database");
	state_close(st);
	memset(&sb, 0, sizeof sb);
	stat(path, &sb);
	is_int(sb.st_mode & 0777, 0600, "mode 0600");
	snprintf(path, sizeof path, "%s/new/sub", dir);
	memset(&sb, 0, sizeof sb);
	stat(path, &sb);
	is_int(sb.st_mode & 0777, 0700, "its directory 0700");
}

struct rows {
	char text[2048];
	size_t n;
};

static int
collect(void *arg, const struct suppress_row *r)
{
	struct rows *rs = arg;
	size_t len = strlen(rs->text);

	snprintf(rs->text + len, sizeof rs->text - len, "%s %s %lld %s|",
		 r->email, r->reason, r->added_at, r->detail);
	rs->n++;
	return 0;
}

static void
get_one(void *arg, const struct suppress_row *r)
{
	collect(arg, r);
}

static void
test_suppress_writes(void)
{
	char path[600];
	struct state *st = NULL;
	struct suppress *s = NULL;
	struct rows rs;
	struct nl_err e;
	int ch = -1, rm = -1, found = 0, yes = 0;

	snprintf(path, sizeof path, "%s/sup.db", dir);
	if (state_open(path, STATE_RW, &st, &e) || suppress_open(st, &s, &e)) {
		ok(0, "open: %s", e.msg);
		return;
	}
	ok(suppress_add(s, "Ada@Example.org", "unsubscribe", "one click", 100,
			&ch, &e) == 0 && ch == 1, "add");
	ok(suppress_add(s, "ada@example.org", "unsubscribe", NULL, 200, &ch,
			&e) == 0 && ch == 0, "the same again changes nothing");
	ok(suppress_add(s, "ada@example.org", "complaint", "arf", 300, &ch,
			&e) == 0 && ch == 1, "a complaint replaces an unsubscribe");
	ok(suppress_add(s, "ada@example.org", "unsubscribe", NULL, 400, &ch,
			&e) == 0 && ch == 0, "an unsubscribe never replaces "
	   "another reason");
	ok(suppress_add(s, "bob@example.org", "hard-bounce", "550 5.1.1", 50,
			&ch, &e) == 0 && ch == 1, "a bounce");
	ok(suppress_add(s, "bob@example.org", "complaint", NULL, 60, &ch,
			&e) == 0 && ch == 0, "other reasons keep the first row");
	ok(suppress_add(s, "c@example.org", "unsubscribed", NULL, 1, &ch,
			&e) == -1 && e.kind == NL_EDATA, "an unknown reason is "
	   "refused (%s)", e.msg);
	memset(&rs, 0, sizeof rs);
	ok(suppress_each(s, collect, &rs, &e) == 0, "each");
	is_str(rs.text, "ada@example.org complaint 300 arf|"
	       "bob@example.org hard-bounce 50 550 5.1.1|", "the rows");
	memset(&rs, 0, sizeof rs);
	ok(suppress_get(s, "BOB@example.org", get_one, &rs, &found, &e) == 0 &&
	   found && strstr(rs.text, "hard-bounce"), "get");
	ok(suppress_remove(s, "ada@example.org", "unsubscribe", &rm, &e) == 0 &&
	   rm == 0, "resubscribing never removes a complaint");
	ok(suppress_remove(s, "ADA@example.org", NULL, &rm, &e) == 0 && rm == 1,
	   "an editor removes any row");
	suppress_has(s, "ada@example.org", &yes, &e);
	ok(!yes, "gone");
	suppress_close(s);
	state_close(st);
}

static void
test_key(void)
{
	char path[600], *k1 = NULL, *k2 = NULL;
	size_t n1 = 0, n2 = 0;
	struct nl_err e;
	struct stat sb;

	snprintf(path, sizeof path, "%s/keydir/state.db", dir);
	ok(state_key(path, &k1, &n1, &e) == 0 && n1 == 64, "a key is made "
	   "(%zu bytes)", n1);
	ok(state_key(path, &k2, &n2, &e) == 0 && n2 == n1 && k1 && k2 &&
	   memcmp(k1, k2, n1) == 0, "and found again");
	snprintf(path, sizeof path, "%s/keydir/" STATE_KEY_FILE, dir);
	memset(&sb, 0, sizeof sb);
	stat(path, &sb);
	is_int(sb.st_mode & 0777, 0600, "the key file is 0600");
	free(k1);
	free(k2);
	if (truncate(path, 8) != 0)
		diag("truncate: %s", strerror(errno));
	snprintf(path, sizeof path, "%s/keydir/state.db", dir);
	ok(state_key(path, &k1, &n1, &e) == -1 && e.kind == NL_ECONFIG,
	   "a key too short is refused (%s)", e.msg);
}

static void
test_addr_key(void)
{
	char key[ADDR_KEY_MAX + 1], a[ADDR_KEY_MAX + 2];

	is_int(addr_key("Ada@Example.ORG", key), 15, "length");
	is_str(key, "ada@example.org", "ASCII lower-cased");
	is_int(addr_key("Zo\xc3\xab@x.example", key), 14, "bytes >= 0x80 kept");
	is_str(key, "zo\xc3\xab@x.example", "as they are");
	memset(a, 'A', ADDR_KEY_MAX);
	a[ADDR_KEY_MAX] = '\0';
	is_int(addr_key(a, key), ADDR_KEY_MAX, "254 bytes have a key");
	a[ADDR_KEY_MAX] = 'A';
	a[ADDR_KEY_MAX + 1] = '\0';
	ok(addr_key(a, key) == -1 && errno == ENAMETOOLONG && key[0] == '\0',
	   "255 bytes have none: never truncated");
}

int
main(void)
{
	const char *top = getenv("NLSEND_TOP") ? getenv("NLSEND_TOP") : ".";
	char cmd[600];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_migrate_release(top);
	test_versions();
	test_suppress_writes();
	test_key();
	test_addr_key();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("cleanup failed");
	return done_testing();
}
