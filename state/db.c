/* The state database file: mode, pragmas, versions (db.h). */
#include "state/db.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/path.h"
#include "util/report.h"

struct state {
	sqlite3 *db;
	char *path;
	int version;
};

/*
 * The migrations, in order: entry i takes the schema from version i to
 * version i + 1.  Released entries are never edited (a database made by
 * them must migrate the same way forever); a change is a new entry.
 */
static const char *const migrations[] = {
	/* 1: the delivery journal, finished issues, the suppression list.
	 * IF NOT EXISTS: a database of the releases before versioning
	 * (version 0) already has some of them, with these columns. */
	"CREATE TABLE IF NOT EXISTS delivery ("
	" issue TEXT NOT NULL,"
	" email TEXT NOT NULL,"
	/* Not "state IN (...)": SQLite 3.40 evaluates an IN list of
	 * constants through an ephemeral table, opened and freed (with its
	 * page cache, and the heap trimmed by brk) on every insert and
	 * update: 12% of nlsend's CPU when sending (bench/README.md). */
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
	 * state; the index cost a B-tree update per state change. */
	"DROP INDEX IF EXISTS delivery_issue_state;"
	"CREATE TABLE IF NOT EXISTS issue_done ("
	" issue TEXT PRIMARY KEY, done_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS suppression ("
	" email TEXT PRIMARY KEY, reason TEXT NOT NULL,"
	" added_at INTEGER NOT NULL) WITHOUT ROWID;",
	/* 2: why an address is suppressed, in words (state/suppress.h); the
	 * reason of the rows the documentation once told editors to insert
	 * by hand gets its canonical name. */
	"ALTER TABLE suppression ADD COLUMN detail TEXT;"
	"UPDATE suppression SET reason = 'unsubscribe'"
	" WHERE reason = 'unsubscribed';",
	/* 3: which relay took each message (several relays), and the
	 * count behind a relay's quota. */
	"ALTER TABLE delivery ADD COLUMN relay TEXT;"
	"CREATE INDEX IF NOT EXISTS delivery_relay_sent ON delivery(relay,"
	" sent_at) WHERE sent_at IS NOT NULL;",
};

#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int
state_latest_version(void)
{
	return NMIGRATIONS;
}

int
state_dberr(struct state *st, struct nl_err *err, const char *what)
{
	return nl_err_set(err, NL_EIO, "%s: %s: %s",
			  st && st->path ? st->path : "state database", what,
			  st && st->db ? sqlite3_errmsg(st->db) : "out of memory");
}

static int
pragma_int(struct state *st, const char *sql, int *v, struct nl_err *err)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return state_dberr(st, err, "read the schema version");
	r = sqlite3_step(s);
	*v = r == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	if (r != SQLITE_ROW)
		return state_dberr(st, err, "read the schema version");
	return 0;
}

static int
exec(struct state *st, const char *sql, const char *what, struct nl_err *err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return state_dberr(st, err, what);
	return 0;
}

/* One migration and its version bump, in one transaction. */
static int
migrate_one(struct state *st, int to, struct nl_err *err)
{
	char bump[96];

	assert(to >= 1 && to <= NMIGRATIONS);
	snprintf(bump, sizeof bump, "PRAGMA user_version=%d;"
		 "PRAGMA application_id=%d;", to, STATE_APP_ID);
	if (exec(st, "BEGIN IMMEDIATE", "migrate", err))
		return -1;
	if (exec(st, migrations[to - 1], "migrate", err) ||
	    exec(st, bump, "migrate", err)) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return exec(st, "COMMIT", "migrate", err);
}

static int
migrate(struct state *st, struct nl_err *err)
{
	while (st->version < NMIGRATIONS) {
		if (migrate_one(st, st->version + 1, err))
			return -1;
		st->version++;
	}
	return 0;
}

/* WAL and its companions (db.h, journal.h). */
static int
setup_rw(struct state *st, struct nl_err *err)
{
	sqlite3_stmt *s = NULL;
	int ok;

	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return state_dberr(st, err, "WAL mode");
	}
	ok = strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0;
	sqlite3_finalize(s);
	if (!ok)
		return nl_err_set(err, NL_EIO, "%s: the file system does not "
				  "allow SQLite's WAL mode", st->path);
	/* cache_size: a send walks the journal in list order and touches
	 * each page a few times, so SQLite's default 2 MiB cache buys
	 * nothing but resident memory.  wal_autocheckpoint: the default
	 * checkpoint every 1,000 pages fdatasync()s inside the sending loop
	 * about once per 80 messages; every 8,000 pages (32 MiB of WAL)
	 * stalls it 8 times less.  journal_space_low() lowers it again
	 * when the disk has no room for so large a WAL. */
	if (sqlite3_wal_autocheckpoint(st->db, STATE_WAL_PAGES) != SQLITE_OK)
		return state_dberr(st, err, "set up");
	return exec(st, "PRAGMA synchronous=NORMAL;"
		    "PRAGMA cache_size=-256;", "set up", err);
}

/* What the file's first 100 bytes say (https://sqlite.org/fileformat.html,
 * 1.3): a database starts with its magic, and its page size times its
 * page count is its length, unless a WAL beside it holds newer pages.  A
 * file that fails either is not taken for an empty state: that would
 * send to everyone again. */
static int
check_header(const char *path, struct nl_err *err)
{
	static const char magic[16] = "SQLite format 3";
	unsigned char h[100];
	struct stat sb, wal;
	struct buf wpath;
	unsigned long psize, pages;
	ssize_t n;
	int fd, has_wal;

	if (stat(path, &sb) != 0 || sb.st_size == 0)
		return 0;	/* a new database */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nl_err_set(err, NL_EIO, "%s: %s", path, strerror(errno));
	n = read(fd, h, sizeof h);
	close(fd);
	if (n != (ssize_t)sizeof h || memcmp(h, magic, sizeof magic) != 0)
		return nl_err_set(err, NL_EIO, "%s: not an SQLite database (a "
				  "damaged or foreign file): refusing to treat "
				  "it as an empty state", path);
	psize = (unsigned long)h[16] << 8 | h[17];
	if (psize == 1)
		psize = 65536;
	pages = (unsigned long)h[28] << 24 | (unsigned long)h[29] << 16 |
		(unsigned long)h[30] << 8 | h[31];
	buf_init(&wpath, 4096);
	has_wal = buf_printf(&wpath, "%s-wal", path) == 0 &&
		  stat(wpath.data, &wal) == 0 && wal.st_size > 0;
	buf_free(&wpath);
	/* The in-header size counts only when it is valid (offset 92 equals
	 * the change counter at 24). */
	if (!has_wal && memcmp(h + 24, h + 92, 4) == 0 && pages &&
	    (unsigned long long)psize * pages > (unsigned long long)sb.st_size)
		return nl_err_set(err, NL_EIO, "%s: truncated (%lld bytes of "
				  "%llu): restore it from a backup", path,
				  (long long)sb.st_size,
				  (unsigned long long)psize * pages);
	return 0;
}

/* A file of the state that lets others in is tightened to 0600 and said
 * so: it names every subscriber.  A missing file is fine. */
int
state_tighten_file(const char *path, struct nl_err *err)
{
	struct stat sb;

	if (stat(path, &sb) != 0 || !(sb.st_mode & 077))
		return 0;
	if (chmod(path, 0600) != 0)
		return nl_err_set(err, NL_ECANTCREAT, "%s: mode %04o, and it "
				  "cannot be made 0600: %s", path,
				  (unsigned)(sb.st_mode & 07777), strerror(errno));
	nl_reportf("%s: mode %04o tightened to 0600: it names every "
		   "subscriber", path, (unsigned)(sb.st_mode & 07777));
	return 0;
}

/*
 * The database and its companions are tightened (state_tighten_file).
 * The directory is nlsend's own when it is the default one (named
 * "nlsend", made 0700): tightened like the files.  Any other directory
 * is the user's to choose, but one that anybody may write to without
 * the sticky bit lets anybody replace the database: refused.
 */
static int
tighten(const char *path, struct nl_err *err)
{
	static const char *const sfx[] = { "", "-wal", "-shm", ".lock" };
	struct stat sb;
	struct buf b;
	char *dir = path_dir(path);
	const char *base;
	size_t i;
	int rc = 0;

	if (!dir)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	if (stat(dir, &sb) == 0 && strcmp(base, "nlsend") == 0 &&
	    (sb.st_mode & 077) && sb.st_uid == geteuid()) {
		if (chmod(dir, 0700) != 0)
			rc = nl_err_set(err, NL_ECANTCREAT, "%s: %s", dir,
					strerror(errno));
		else
			nl_reportf("%s: mode %04o tightened to 0700: the state "
				   "directory names every subscriber", dir,
				   (unsigned)(sb.st_mode & 07777));
	} else if (stat(dir, &sb) == 0 && (sb.st_mode & S_IWOTH) &&
		   !(sb.st_mode & S_ISVTX)) {
		rc = nl_err_set(err, NL_ECONFIG, "%s: anybody may write to the "
				"state's directory (mode %04o) and replace the "
				"database: chmod o-w it or choose another --state",
				dir, (unsigned)(sb.st_mode & 07777));
	}
	buf_init(&b, 4096);
	for (i = 0; !rc && i < sizeof sfx / sizeof sfx[0]; i++) {
		buf_reset(&b);
		if (buf_printf(&b, "%s%s", path, sfx[i]))
			rc = nl_err_set(err, NL_ENOMEM, "out of memory");
		else
			rc = state_tighten_file(b.data, err);
	}
	buf_free(&b);
	free(dir);
	return rc;
}

/* Another program's database: marked as someone else's, or unmarked with
 * tables that are not ours. */
static int
check_ours(struct state *st, struct nl_err *err)
{
	sqlite3_stmt *s = NULL;
	int app, r, foreign = 0;

	if (pragma_int(st, "PRAGMA application_id", &app, err))
		return -1;
	if (app != 0 && app != STATE_APP_ID)
		foreign = 1;
	else if (app == 0 && st->version == 0) {
		if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM sqlite_master"
				       " WHERE type = 'table' AND name NOT IN"
				       " ('delivery', 'issue_done', 'suppression')"
				       " AND name NOT LIKE 'sqlite_%'", -1, &s,
				       NULL) != SQLITE_OK)
			return state_dberr(st, err, "read the schema");
		r = sqlite3_step(s);
		foreign = r == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
		sqlite3_finalize(s);
		if (r != SQLITE_ROW)
			return state_dberr(st, err, "read the schema");
	}
	if (foreign)
		return nl_err_set(err, NL_ECONFIG, "%s: an SQLite database of "
				  "another program, not nlsend's state: give "
				  "--state a path of its own", st->path);
	return 0;
}

/* Create the file ourselves so that it is 0600 from its first byte;
 * SQLite gives the -wal and -shm files the same mode. */
static int
create_file(const char *path, struct nl_err *err)
{
	int fd;

	if (path_make_parents(path, 0700))
		return nl_err_set(err, NL_ECANTCREAT, "%s: cannot create its "
				  "directory: %s", path, strerror(errno));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return nl_err_set(err, NL_ECANTCREAT, "%s: %s", path,
				  strerror(errno));
	close(fd);
	return 0;
}

int
state_open(const char *path, enum state_mode mode, struct state **out,
	   struct nl_err *err)
{
	struct state *st;
	struct stat sb;
	int flags, rc = -1;

	*out = NULL;
	if (mode == STATE_RO && stat(path, &sb) != 0)
		return 0;
	if (check_header(path, err) ||
	    (mode == STATE_RW && (tighten(path, err) || create_file(path, err))))
		return -1;
	st = calloc(1, sizeof *st);
	if (!st || !(st->path = strdup(path))) {
		free(st);
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	}
	flags = (mode == STATE_RO ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE)
		| SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		state_dberr(st, err, "open");
		goto out;
	}
	sqlite3_busy_timeout(st->db, 5000);
	if (pragma_int(st, "PRAGMA user_version", &st->version, err) ||
	    check_ours(st, err))
		goto out;
	if (st->version > NMIGRATIONS) {
		nl_err_set(err, NL_ECONFIG, "%s: made by a newer nlsend (schema "
			   "version %d; this one knows up to %d): upgrade nlsend",
			   path, st->version, NMIGRATIONS);
		goto out;
	}
	if (mode == STATE_RW && (setup_rw(st, err) || migrate(st, err)))
		goto out;
	*out = st;
	st = NULL;
	rc = 0;
out:
	state_close(st);
	return rc;
}

void
state_close(struct state *st)
{
	if (!st)
		return;
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

sqlite3 *
state_db(struct state *st)
{
	assert(st && st->db);
	return st->db;
}

const char *
state_path(const struct state *st)
{
	return st->path;
}

int
state_version(const struct state *st)
{
	return st->version;
}

int
state_sibling(const char *db_path, const char *name, struct buf *out)
{
	const char *slash = strrchr(db_path, '/');

	if (slash)
		return buf_add(out, db_path, (size_t)(slash - db_path + 1)) ||
		       buf_adds(out, name);
	return buf_adds(out, name);
}
