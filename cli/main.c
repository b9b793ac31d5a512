/*
 * nlsend - compose a newsletter issue and deliver it to every subscriber.
 * main() parses the command line and the config, picks the verb, and maps
 * the one error type to an exit status in one place (cli/exitcode.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/config.h"
#include "cli/exitcode.h"
#include "cli/options.h"
#include "cli/run.h"
#include "compose/issue.h"

#ifndef NL_VERSION
#define NL_VERSION "0.1"
#endif

/* $XDG_STATE_HOME/nlsend/state.db, XDG_STATE_HOME defaulting to
 * ~/.local/state (XDG Base Directory Specification). */
static int
default_state(char *out, size_t len, struct nl_err *err)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (xdg && *xdg)
		snprintf(out, len, "%s/nlsend/state.db", xdg);
	else if (home && *home)
		snprintf(out, len, "%s/.local/state/nlsend/state.db", home);
	else
		return nl_err_set(err, NL_EUSAGE, "neither XDG_STATE_HOME nor "
				  "HOME is set: give --state FILE");
	return 0;
}

static int
clock_now(long long *now, struct nl_err *err)
{
	const char *env = getenv("NLSEND_NOW");

	if (!env || !*env) {
		*now = (long long)time(NULL);
		return 0;
	}
	if (issue_parse_time(env, now))
		return nl_err_set(err, NL_EUSAGE, "NLSEND_NOW: '%s' is not an "
				  "ISO 8601 timestamp with an offset", env);
	return 0;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct config *cfg = NULL;
	struct nl_err err;
	struct run r;
	char state[4096];
	int rc = -1;

	nl_err_clear(&err);
	if (options_parse(argc, argv, &o, &err)) {
		nl_report(err.msg);
		if (err.kind == NL_EUSAGE)
			report_plain("Try 'nlsend --help'.");
		options_free(&o);
		return nl_exitcode(err.kind);
	}
	if (o.mode == MODE_HELP) {
		options_usage(stdout);
		options_free(&o);
		return 0;
	}
	if (o.mode == MODE_VERSION) {
		printf("nlsend %s\n", NL_VERSION);
		options_free(&o);
		return 0;
	}
	memset(&r, 0, sizeof r);
	r.o = &o;
	if (o.state) {
		r.state_path = o.state;
	} else {
		if (default_state(state, sizeof state, &err))
			goto out;
		r.state_path = state;
	}
	if (clock_now(&r.now, &err) || config_load(o.config, &cfg, &err))
		goto out;
	r.cfg = cfg;
	switch (o.mode) {
	case MODE_CHECK:
		rc = run_check(&r, &err);
		break;
	case MODE_PREVIEW:
		rc = run_preview(&r, &err);
		break;
	case MODE_SEND:
		rc = run_send_verb(&r, &err);
		break;
	case MODE_STATUS:
		rc = run_status(&r, &err);
		break;
	case MODE_DUE:
		rc = run_due(&r, &err);
		break;
	default:
		break;
	}
out:
	if (rc && err.kind != NL_OK)
		nl_report(err.msg);
	config_free(cfg);
	options_free(&o);
	return rc ? nl_exitcode(err.kind == NL_OK ? NL_EINTERNAL : err.kind) : 0;
}
