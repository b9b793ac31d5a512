/*
 * run.h - the verbs of cli.md, each wiring the stages for one job.  They
 * return 0 or -1 with an nl_err; main() turns the kind into the exit
 * status.  An outcome that is not a failure of the program but must show in
 * the status (recipients deferred or failed) is reported the same way, as
 * NL_ETEMPFAIL or NL_EPERMFAIL, after the summary line.
 */
#ifndef NL_RUN_H
#define NL_RUN_H

#include "campaign/campaign.h"
#include "cli/config.h"
#include "cli/options.h"
#include "lists/list.h"
#include "send/deliver.h"

struct run {
	const struct options *o;
	const struct config *cfg;
	long long now;			/* NLSEND_NOW or the clock */
	const char *state_path;		/* --state, or the XDG default */
	bool locked;			/* --due holds the state lock already */
};

/* What one send of one issue came to, for the summary, the exit status
 * and --due's log line. */
struct send_result {
	const char *outcome;	/* sent, deferred, failed, not-due, complete */
	struct deliver_stats st;
	char id[256];		/* the campaign id */
};

int run_check(struct run *r, struct nl_err *err);
int run_preview(struct run *r, struct nl_err *err);
int run_send(struct run *r, const char *issue, struct send_result *res,
	     struct nl_err *err);
int run_due(struct run *r, struct nl_err *err);
/* The send verb: run_send() of the issue on the command line, and its
 * line in --log. */
int run_send_verb(struct run *r, struct nl_err *err);

/*
 * The recipients of a run: every --list resolved and merged (bad rows are
 * reported on stderr as "nlsend: FILE:LINE: reason"), minus the
 * suppression list of the state database st (NULL: none yet), which must
 * outlive them.
 */
struct state;
struct recipients {
	struct lists *l;
	struct suppress *sup;
	unsigned long suppressed;
};
int recipients_open(struct run *r, struct state *st, struct recipients *rc,
		    struct nl_err *err);
/* As lists_next(): 1, 0 at the end, -1 on error. */
int recipients_next(struct recipients *rc, struct subscriber *s,
		    struct nl_err *err);
void recipients_close(struct recipients *rc);
/* Options for campaign_open() that follow from the run. */
void run_campaign_opts(const struct run *r, struct campaign_opts *co);
/* campaign_open() with the settings of the config and the unsubscribe key
 * (the config's unsubscribe_secret, else the state's: state/key.h). */
int run_campaign_open(struct run *r, const char *issue,
		      const struct campaign_opts *co, struct campaign **c,
		      struct nl_err *err);

#endif
