/* The suppression list on the state database (suppress.h). */
#include "state/suppress.h"

#include <stdlib.h>
#include <string.h>

#include "state/db.h"
#include "util/addrkey.h"

struct suppress {
	struct state *st;
	sqlite3_stmt *has;
};

int
suppress_open(struct state *st, struct suppress **out, struct nl_err *err)
{
	struct suppress *s;

	*out = NULL;
	if (!st)
		return 0;
	/* A read-only database of a release without the table (version 0)
	 * has nobody suppressed. */
	if (state_version(st) == 0 &&
	    sqlite3_table_column_metadata(state_db(st), NULL, "suppression",
					  "email", NULL, NULL, NULL, NULL,
					  NULL) != SQLITE_OK)
		return 0;
	s = calloc(1, sizeof *s);
	if (!s)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	s->st = st;
	if (sqlite3_prepare_v2(state_db(st), "SELECT 1 FROM suppression"
			       " WHERE email = ?1", -1, &s->has, NULL)
	    != SQLITE_OK) {
		state_dberr(st, err, "suppression list");
		suppress_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void
suppress_close(struct suppress *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->has);
	free(s);
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
	if (addr_key(email, key) < 0)
		return nl_err_set(err, NL_EDATA, "suppression list: an address "
				  "of more than %d bytes", ADDR_KEY_MAX);
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
