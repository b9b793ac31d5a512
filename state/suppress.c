/* The suppression list on the state database (suppress.h). */
#include "state/suppress.h"

#include <stdlib.h>
#include <string.h>

#include "state/db.h"
#include "util/addrkey.h"

struct suppress {
	struct state *st;
	sqlite3_stmt *has, *add, *del, *get, *each;
};

static const char *const reasons[] = {
	"hard-bounce", "soft-bounce", "complaint", "unsubscribe", "manual",
};

int
suppress_reason_ok(const char *reason)
{
	size_t i;

	for (i = 0; reason && i < sizeof reasons / sizeof reasons[0]; i++)
		if (strcmp(reason, reasons[i]) == 0)
			return 1;
	return 0;
}

/* The rules of suppress.h in one statement: a new row, or an
 * `unsubscribe` row replaced by another reason. */
#define ADD_SQL \
	"INSERT INTO suppression (email, reason, added_at, detail)" \
	" VALUES (?1, ?2, ?3, ?4) ON CONFLICT (email) DO UPDATE SET" \
	" reason = excluded.reason, added_at = excluded.added_at," \
	" detail = excluded.detail" \
	" WHERE suppression.reason = 'unsubscribe'" \
	" AND excluded.reason <> 'unsubscribe'"

static int
prepare(struct suppress *s, sqlite3_stmt **st, const char *sql,
	struct nl_err *err)
{
	if (sqlite3_prepare_v2(state_db(s->st), sql, -1, st, NULL) != SQLITE_OK)
		return state_dberr(s->st, err, "suppression list");
	return 0;
}

int
suppress_open(struct state *st, struct suppress **out, struct nl_err *err)
{
	struct suppress *s;
	int v = st ? state_version(st) : 0;

	*out = NULL;
	if (!st)
		return 0;
	/* A read-only database of a release without the table (version 0)
	 * has nobody suppressed. */
	if (v == 0 &&
	    sqlite3_table_column_metadata(state_db(st), NULL, "suppression",
					  "email", NULL, NULL, NULL, NULL,
					  NULL) != SQLITE_OK)
		return 0;
	s = calloc(1, sizeof *s);
	if (!s)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	s->st = st;
	if (prepare(s, &s->has, "SELECT 1 FROM suppression WHERE email = ?1",
		    err))
		goto fail;
	/* Older read-only databases lack `detail`: they are only read. */
	if (v >= 2 &&
	    (prepare(s, &s->add, ADD_SQL, err) ||
	     prepare(s, &s->del, "DELETE FROM suppression WHERE email = ?1"
		     " AND (?2 IS NULL OR reason = ?2)", err) ||
	     prepare(s, &s->get, "SELECT email, reason, added_at, detail FROM"
		     " suppression WHERE email = ?1", err) ||
	     prepare(s, &s->each, "SELECT email, reason, added_at, detail FROM"
		     " suppression ORDER BY email", err)))
		goto fail;
	*out = s;
	return 0;
fail:
	suppress_close(s);
	return -1;
}

void
suppress_close(struct suppress *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->has);
	sqlite3_finalize(s->add);
	sqlite3_finalize(s->del);
	sqlite3_finalize(s->get);
	sqlite3_finalize(s->each);
	free(s);
}

static int
key_of(const char *email, char *key, struct nl_err *err)
{
	if (addr_key(email, key) < 0)
		return nl_err_set(err, NL_EDATA, "suppression list: an address "
				  "of more than %d bytes", ADDR_KEY_MAX);
	return 0;
}

/* Step a statement that returns no row; reset it either way. */
static int
step_done(struct suppress *s, sqlite3_stmt *st, struct nl_err *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return state_dberr(s->st, err, "suppression list");
	return 0;
}

int
suppress_has(struct suppress *s, const char *email, int *yes,
	     struct nl_err *err)
{
	char key[ADDR_KEY_MAX + 1];
	int rc;

	*yes = 0;
	if (!s)
		return 0;
	if (key_of(email, key, err))
		return -1;
	sqlite3_bind_text(s->has, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s->has);
	sqlite3_reset(s->has);
	sqlite3_clear_bindings(s->has);
	if (rc == SQLITE_ROW)
		*yes = 1;
	else if (rc != SQLITE_DONE)
		return state_dberr(s->st, err, "suppression list");
	return 0;
}

/* Length of at most max bytes of t, not cutting a UTF-8 sequence. */
static int
cut_utf8(const char *t, size_t max)
{
	size_t n = strlen(t);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)t[n] & 0xC0) == 0x80)
			n--;
	}
	return (int)n;
}

static int
writable(const struct suppress *s, struct nl_err *err)
{
	if (!s || !s->add)
		return nl_err_set(err, NL_EINTERNAL, "suppression list: not "
				  "opened for writing");
	return 0;
}

int
suppress_add(struct suppress *s, const char *email, const char *reason,
	     const char *detail, long long when, int *changed,
	     struct nl_err *err)
{
	char key[ADDR_KEY_MAX + 1];

	if (changed)
		*changed = 0;
	if (writable(s, err) || key_of(email, key, err))
		return -1;
	if (!suppress_reason_ok(reason))
		return nl_err_set(err, NL_EDATA, "suppression list: unknown "
				  "reason '%s'", reason ? reason : "");
	sqlite3_bind_text(s->add, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->add, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->add, 3, when);
	if (detail && *detail)
		sqlite3_bind_text(s->add, 4, detail,
				  cut_utf8(detail, SUPPRESS_DETAIL_MAX),
				  SQLITE_STATIC);
	else
		sqlite3_bind_null(s->add, 4);
	if (step_done(s, s->add, err))
		return -1;
	if (changed)
		*changed = sqlite3_changes(state_db(s->st)) > 0;
	return 0;
}

int
suppress_remove(struct suppress *s, const char *email,
		const char *only_reason, int *removed, struct nl_err *err)
{
	char key[ADDR_KEY_MAX + 1];

	if (removed)
		*removed = 0;
	if (writable(s, err) || key_of(email, key, err))
		return -1;
	sqlite3_bind_text(s->del, 1, key, -1, SQLITE_STATIC);
	if (only_reason)
		sqlite3_bind_text(s->del, 2, only_reason, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s->del, 2);
	if (step_done(s, s->del, err))
		return -1;
	if (removed)
		*removed = sqlite3_changes(state_db(s->st)) > 0;
	return 0;
}

static void
row_of(sqlite3_stmt *st, struct suppress_row *r)
{
	const char *d = (const char *)sqlite3_column_text(st, 3);

	r->email = (const char *)sqlite3_column_text(st, 0);
	r->reason = (const char *)sqlite3_column_text(st, 1);
	r->added_at = sqlite3_column_int64(st, 2);
	r->detail = d ? d : "";
}

int
suppress_get(struct suppress *s, const char *email,
	     void (*fn)(void *arg, const struct suppress_row *r), void *arg,
	     int *found, struct nl_err *err)
{
	char key[ADDR_KEY_MAX + 1];
	struct suppress_row r;
	int rc;

	*found = 0;
	if (!s)
		return 0;
	if (!s->get)
		return nl_err_set(err, NL_EINTERNAL, "suppression list: an old "
				  "database opened read-only");
	if (key_of(email, key, err))
		return -1;
	sqlite3_bind_text(s->get, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s->get);
	if (rc == SQLITE_ROW) {
		*found = 1;
		row_of(s->get, &r);
		fn(arg, &r);
	}
	sqlite3_reset(s->get);
	sqlite3_clear_bindings(s->get);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return state_dberr(s->st, err, "suppression list");
	return 0;
}

int
suppress_each(struct suppress *s,
	      int (*fn)(void *arg, const struct suppress_row *r), void *arg,
	      struct nl_err *err)
{
	struct suppress_row r;
	int rc;

	if (!s)
		return 0;
	if (!s->each)
		return nl_err_set(err, NL_EINTERNAL, "suppression list: an old "
				  "database opened read-only");
	while ((rc = sqlite3_step(s->each)) == SQLITE_ROW) {
		row_of(s->each, &r);
		if (fn(arg, &r))
			break;
	}
	sqlite3_reset(s->each);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return state_dberr(s->st, err, "suppression list");
	return 0;
}
