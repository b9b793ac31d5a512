/*
 * run.h - the verbs of nlsend(1), each wiring the stages for one job.  They
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
#include "lists/recipients.h"
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
/* --status ISSUE.yaml [--failed] (cli/run_status.c). */
int run_status(struct run *r, struct nl_err *err);
/* The send verb: run_send() of the issue on the command line, and its
 * line in --log. */
int run_send_verb(struct run *r, struct nl_err *err);

/*
 * The audience of a run (cli/audience.c): every --list resolved and merged
 * (bad rows reported on stderr as "nlsend: FILE:LINE: reason"), minus the
 * suppression list of the state database st (NULL: none yet), which must
 * outlive it.  rc.filtered counts the suppressed.
 */
struct state;
struct audience {
	struct recipients rc;
	struct suppress *sup;
};
int audience_open(struct run *r, struct state *st, struct audience *a,
		  struct nl_err *err);
/* The same with the bad rows to warn (reported to it, not to stderr). */
int audience_open_warn(struct run *r, struct state *st, list_warn_fn warn,
		       void *warn_arg, struct audience *a, struct nl_err *err);
/* As lists_next(): 1, 0 at the end, -1 on error. */
int audience_next(struct audience *a, struct subscriber *s,
		  struct nl_err *err);
void audience_close(struct audience *a);
/* The first subscriber of the lists (a deep copy, extra columns
 * included: free() it), or NULL with 0 when there is none; *n counts them
 * all.  For previews, checks and --test, so that they show what is sent. */
int audience_first(struct run *r, struct subscriber **first,
		   unsigned long *n, struct nl_err *err);

/*
 * campaign_compose() for one subscriber of the lists.  A row that cannot
 * be composed (NL_EDATA: a name too long for a header, a value a template
 * cannot take) is a bad row like those the lists skip: 1, with err's
 * message "FILE:LINE: reason" for the caller to report; the run goes on.
 * -1 for anything else (out of memory: the run stops).
 */
int run_compose_row(struct campaign *c, const struct subscriber *s,
		    enum campaign_sign sign, struct buf *out, struct nl_err *err);

/* Options for campaign_open() that follow from the run. */
void run_campaign_opts(const struct run *r, struct campaign_opts *co);
/* campaign_open() with the settings of the config and the unsubscribe key
 * (the config's unsubscribe_secret, else the state's: state/key.h). */
int run_campaign_open(struct run *r, const char *issue,
		      const struct campaign_opts *co, struct campaign **c,
		      struct nl_err *err);

#endif
