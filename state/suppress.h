/*
 * suppress.h - the suppression list: addresses that must never be sent to
 * again, table `suppression` of the state database (state/db.h), beside
 * the delivery journal.  Columns: email (util/addrkey.h), reason, added_at
 * (seconds since the epoch), detail (free text: the bounce's status, the
 * editor's note; may be NULL).
 *
 * Reasons: hard-bounce, soft-bounce (suppressed after repeated soft
 * bounces), complaint (an abuse report), unsubscribe (the reader asked),
 * manual (an editor).  Only an unsubscribe can be undone by the reader
 * (resubscribe); the others only by an editor.  So when an address is
 * suppressed again for another reason, the row that matters is kept: any
 * other reason replaces an `unsubscribe` (a reader who unsubscribed, then
 * bounced, must not come back by resubscribing), an `unsubscribe` never
 * replaces another reason, and otherwise the first row stays.
 *
 * Every run consults the list, dry runs and checks included; those open
 * the database STATE_RO and never create it.  Writes need STATE_RW.
 * Several processes may write at once (a send, --bounces, the unsubscribe
 * server): each write is one statement, atomic, with the state's busy
 * timeout.
 *
 * Ownership: suppress_open() gives the caller a handle (suppress_close)
 * on st, which must outlive it.  A NULL st (no database yet) gives a NULL
 * handle: a valid empty list for reading; writing through it is
 * NL_EINTERNAL.  Errors: NL_EIO for database failures, NL_EDATA for an
 * address longer than ADDR_KEY_MAX or an unknown reason, NL_ENOMEM.
 */
#ifndef NL_SUPPRESS_H
#define NL_SUPPRESS_H

#include "util/err.h"

#define SUPPRESS_DETAIL_MAX 500	/* bytes of detail kept (cut at UTF-8) */

struct state;
struct suppress;

/* One row, valid during the callback only. */
struct suppress_row {
	const char *email, *reason, *detail;	/* detail "" when none */
	long long added_at;
};

int suppress_open(struct state *st, struct suppress **out,
		  struct nl_err *err);
void suppress_close(struct suppress *s);

/* 1 when reason is one of the reasons above. */
int suppress_reason_ok(const char *reason);

/* *yes = 1 when email is suppressed. */
int suppress_has(struct suppress *s, const char *email, int *yes,
		 struct nl_err *err);

/* Suppress email for reason (the rules above) at time when.  *changed
 * (may be NULL): 1 when a row was added or its reason replaced, 0 when the
 * list already said so. */
int suppress_add(struct suppress *s, const char *email, const char *reason,
		 const char *detail, long long when, int *changed,
		 struct nl_err *err);

/* Remove email's row, only when its reason is only_reason (NULL: any).
 * *removed (may be NULL): 1 when a row went. */
int suppress_remove(struct suppress *s, const char *email,
		    const char *only_reason, int *removed, struct nl_err *err);

/* email's row, if any, to fn; *found says whether there was one. */
int suppress_get(struct suppress *s, const char *email,
		 void (*fn)(void *arg, const struct suppress_row *r), void *arg,
		 int *found, struct nl_err *err);

/* Every row, ordered by address, to fn; fn returns non-zero to stop. */
int suppress_each(struct suppress *s,
		  int (*fn)(void *arg, const struct suppress_row *r), void *arg,
		  struct nl_err *err);

#endif
