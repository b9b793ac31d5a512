/*
 * suppress.h - the suppression list: addresses that must never be sent to
 * again (unsubscribed, bounced, complained), table `suppression` of the
 * state database (state/db.h), beside the delivery journal.
 *
 * Every run consults it, dry runs and checks included; those open the
 * database STATE_RO and never create it (a dry run never writes the state
 * database, yet still honours the suppression list).  Addresses are
 * compared by their key (util/addrkey.h), like the lists' duplicates.
 *
 * Ownership: suppress_open() gives the caller a handle (suppress_close)
 * on st, which must outlive it.  A NULL st (no database yet) and a NULL
 * handle are a valid empty list.  Errors: NL_EIO for database failures,
 * NL_EDATA for an address longer than ADDR_KEY_MAX, NL_ENOMEM.
 */
#ifndef NL_SUPPRESS_H
#define NL_SUPPRESS_H

#include "util/err.h"

struct state;
struct suppress;

int suppress_open(struct state *st, struct suppress **out,
		  struct nl_err *err);
void suppress_close(struct suppress *s);
/* *yes = 1 when email is suppressed. */
int suppress_has(struct suppress *s, const char *email, int *yes,
		 struct nl_err *err);

#endif
