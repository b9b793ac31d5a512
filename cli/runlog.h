/*
 * runlog.h - one machine-readable line per issue and run, for cron's
 * operators: appended to --log FILE, or sent to syslog (facility mail)
 * when no log file is given and stderr is not a terminal (cron mails what
 * a job prints; a monitor reads the log).
 *
 * The line is logfmt: space-separated key=value pairs, values with spaces
 * or quotes double-quoted with \" and \\ escaped, e.g.
 *   2026-11-22T06:00:03Z issue=axios-china-2020-09-15 file=issues/a.yaml
 *   outcome=sent sent=9998 failed=1 deferred=1 skipped=0 exit=75 seconds=4.2
 * Outcomes: sent, deferred, failed, not-due, complete (nothing left),
 * error (with msg="...").
 */
#ifndef NL_RUNLOG_H
#define NL_RUNLOG_H

#include <stdbool.h>
#include <stdio.h>

#include "send/deliver.h"

struct runlog {
	FILE *f;		/* --log FILE, or NULL */
	bool use_syslog;
};

struct runlog_entry {
	long long when;
	const char *file, *id, *outcome, *msg;	/* id, msg may be NULL */
	unsigned long sent, failed, deferred, skipped;
	int exit_status;
	double seconds;
	/* several relays: one more line each, "relay=NAME sent=N ..." */
	int nrelays;
	const struct deliver_relay_stats *relays;
};

/* path NULL: syslog when stderr is not a terminal, else nothing.  An
 * unopenable log file is NL_ECANTCREAT. */
struct nl_err;
int runlog_open(struct runlog *l, const char *path, struct nl_err *err);
void runlog_write(struct runlog *l, const struct runlog_entry *e);
void runlog_close(struct runlog *l);

#endif
