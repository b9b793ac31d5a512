/*
 * suppress.h - the suppression list: addresses that must never be sent to
 * again (unsubscribed, bounced), kept in table `suppression` of the state
 * database beside the delivery journal (cli.md, Lists).
 *
 * Every run consults it, the dry run included; a dry run opens the
 * database read-only and never creates it (cli.md: "a dry run never writes
 * the state database (it still honours the suppression list)").
 * Addresses are compared lower-cased (ASCII), like the list's duplicates.
 *
 * Ownership: suppress_open() gives the caller a handle (suppress_close).
 * A NULL handle is a valid empty list.  Errors: NL_EIO for database
 * failures, NL_ENOMEM.
 */
#ifndef NL_SUPPRESS_H
#define NL_SUPPRESS_H

#include <stdbool.h>

#include "util/err.h"

struct suppress;

/* readonly: a missing database gives *out = NULL (nothing suppressed). */
int suppress_open(const char *path, bool readonly, struct suppress **out,
		  struct nl_err *err);
void suppress_close(struct suppress *s);
/* *yes = 1 when email is suppressed. */
int suppress_has(struct suppress *s, const char *email, int *yes,
		 struct nl_err *err);
/* Add (or re-add) an address with a reason such as "unsubscribed". */
int suppress_add(struct suppress *s, const char *email, const char *reason,
		 long long when, struct nl_err *err);

#endif
