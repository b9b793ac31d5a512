/*
 * options.h - the command line of nlsend(1), parsed with getopt_long.
 * Strings point into argv (never freed); the list array is owned by the
 * struct (options_free).  Errors are NL_EUSAGE with a message that names
 * the option.
 */
#ifndef NL_OPTIONS_H
#define NL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/err.h"

enum nl_mode { MODE_SEND, MODE_CHECK, MODE_PREVIEW, MODE_DUE, MODE_HELP,
	       MODE_VERSION, MODE_STATUS };

struct options {
	enum nl_mode mode;
	const char *issue;		/* ISSUE.yaml (not for --due) */
	const char **lists;
	size_t nlists;
	const char *dry_run, *smtp, *ca_file, *test_addr, *state, *config;
	const char *lists_dir, *html, *text, *due_dir, *log;
	int tls;			/* -1 unset (yes), 0 no, 1 yes */
	long concurrency;		/* 0 unset */
	double rate;			/* 0 unset */
	long max_per_connection;	/* 0 unset */
	long lock_wait;			/* seconds, default 60 */
	int progress;			/* -1 auto (a terminal), 0, 1 */
	bool embed_images, quiet, verbose, resend, retry_failed;
	/* several relays */
	const char **relays;		/* --relay NAME: only these */
	size_t nrelays;
	unsigned shard, nshards;	/* --shard K/N: 1..N of N; 0 0: all */
	bool failed;			/* --status --failed */
};

int options_parse(int argc, char **argv, struct options *o, struct nl_err *err);
void options_free(struct options *o);
void options_usage(FILE *f);

#endif
