#include "send/suppress.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/path.h"

struct suppress {
	sqlite3 *db;
	sqlite3_stmt *has;
	char key[256];		/* lower-cased address, RFC 5321 4.5.3.1 caps
				   a path at 256 octets */
};

static int
dberr(struct suppress *s, const char *path, struct nl_err *err)
{
	return nl_err_set(err, NL_EIO, "%s: suppression list: %s", path,
			  s && s->db ? sqlite3_errmsg(s->db) : "out of memory");
}

int
suppress_open(const char *path, bool readonly, struct suppress **out,
	      struct nl_err *err)
{
	struct suppress *s;
	struct stat st;
	int flags, r = -1;

	*out = NULL;
	if (readonly && stat(path, &st) != 0)
		return 0;
	s = calloc(1, sizeof *s);
	if (!s)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	if (!readonly)
		path_make_parents(path, 0700);
	flags = readonly ? SQLITE_OPEN_READONLY :
			   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(s->db, 5000);
	if (!readonly &&
	    sqlite3_exec(s->db, "CREATE TABLE IF NOT EXISTS suppression ("
			 "email TEXT PRIMARY KEY, reason TEXT NOT NULL, "
			 "added_at INTEGER NOT NULL) WITHOUT ROWID",
			 NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM suppression WHERE email = ?",
			       -1, &s->has, NULL) != SQLITE_OK) {
		/* A read-only database made before this table existed has
		 * nobody suppressed. */
		if (readonly && strstr(sqlite3_errmsg(s->db), "no such table")) {
			suppress_close(s);
			return 0;
		}
		goto fail;
	}
	*out = s;
	return 0;
fail:
	r = dberr(s, path, err);
	suppress_close(s);
	return r;
}

void
suppress_close(struct suppress *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->has);
	sqlite3_close(s->db);
	free(s);
}

static const char *
lower(struct suppress *s, const char *email)
{
	size_t i;

	for (i = 0; email[i] && i < sizeof s->key - 1; i++)
		s->key[i] = (email[i] >= 'A' && email[i] <= 'Z') ?
			    (char)(email[i] + 32) : email[i];
	s->key[i] = '\0';
	return s->key;
}

int
suppress_has(struct suppress *s, const char *email, int *yes,
	     struct nl_err *err)
{
	int rc;

	*yes = 0;
	if (!s)
		return 0;
	sqlite3_reset(s->has);
	sqlite3_bind_text(s->has, 1, lower(s, email), -1, SQLITE_STATIC);
	rc = sqlite3_step(s->has);
	if (rc == SQLITE_ROW)
		*yes = 1;
	else if (rc != SQLITE_DONE)
		return nl_err_set(err, NL_EIO, "suppression list: %s",
				  sqlite3_errmsg(s->db));
	sqlite3_reset(s->has);
	return 0;
}

int
suppress_add(struct suppress *s, const char *email, const char *reason,
	     long long when, struct nl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO suppression"
			       "(email, reason, added_at) VALUES (?, ?, ?)", -1,
			       &st, NULL) != SQLITE_OK)
		return nl_err_set(err, NL_EIO, "suppression list: %s",
				  sqlite3_errmsg(s->db));
	sqlite3_bind_text(st, 1, lower(s, email), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, when);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return nl_err_set(err, NL_EIO, "suppression list: %s",
				  sqlite3_errmsg(s->db));
	return 0;
}
