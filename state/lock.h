/*
 * lock.h - one sender at a time per state database.
 *
 * Two cron runs that overlap must never work on the same issue at once
 * (nlsend-issue(5), Cron).  The journal alone does not prevent that: both
 * runs would find the same recipients pending.  So a run that sends takes
 * an exclusive flock(2) on STATE.lock beside the database; a second run
 * waits up to `wait` seconds for it and then goes on (the journal tells it
 * what is left), or gives up with NL_ETEMPFAIL (exit 75).
 *
 * flock locks belong to the open file description, so the lock dies with
 * the process however it ends (kill -9 included): no stale lock files.
 */
#ifndef NL_LOCK_H
#define NL_LOCK_H

#include "util/err.h"

/* On success *fd holds the lock until state_unlock(*fd). */
int state_lock(const char *state_path, long wait_seconds, int *fd,
	     struct nl_err *err);
void state_unlock(int fd);

#endif
