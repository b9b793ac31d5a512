#include "cli/options.h"
#include "cli/secret.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_LIST = 256, OPT_DRY_RUN, OPT_SMTP, OPT_TLS, OPT_CA_FILE, OPT_TEST,
	OPT_CONCURRENCY, OPT_RATE, OPT_STATE, OPT_CONFIG, OPT_EMBED,
	OPT_PROGRESS, OPT_NO_PROGRESS, OPT_QUIET, OPT_VERBOSE, OPT_CHECK,
	OPT_PREVIEW, OPT_HTML, OPT_TEXT, OPT_DUE, OPT_LOCK_WAIT, OPT_RESEND,
	OPT_RETRY_FAILED, OPT_LISTS_DIR, OPT_MAX_PER_CONN, OPT_LOG, OPT_HELP,
	OPT_VERSION,
	OPT_RELAY, OPT_SHARD, OPT_STATUS, OPT_FAILED
};

static const struct option longopts[] = {
	{"list", required_argument, NULL, OPT_LIST},
	{"dry-run", required_argument, NULL, OPT_DRY_RUN},
	{"smtp", required_argument, NULL, OPT_SMTP},
	{"tls", required_argument, NULL, OPT_TLS},
	{"ca-file", required_argument, NULL, OPT_CA_FILE},
	{"test", required_argument, NULL, OPT_TEST},
	{"concurrency", required_argument, NULL, OPT_CONCURRENCY},
	{"rate", required_argument, NULL, OPT_RATE},
	{"state", required_argument, NULL, OPT_STATE},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"embed-images", no_argument, NULL, OPT_EMBED},
	{"progress", no_argument, NULL, OPT_PROGRESS},
	{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	{"quiet", no_argument, NULL, OPT_QUIET},
	{"verbose", no_argument, NULL, OPT_VERBOSE},
	{"check", required_argument, NULL, OPT_CHECK},
	{"preview", required_argument, NULL, OPT_PREVIEW},
	{"html", required_argument, NULL, OPT_HTML},
	{"text", required_argument, NULL, OPT_TEXT},
	{"due", required_argument, NULL, OPT_DUE},
	{"lock-wait", required_argument, NULL, OPT_LOCK_WAIT},
	{"resend", no_argument, NULL, OPT_RESEND},
	{"retry-failed", no_argument, NULL, OPT_RETRY_FAILED},
	{"lists-dir", required_argument, NULL, OPT_LISTS_DIR},
	{"max-per-connection", required_argument, NULL, OPT_MAX_PER_CONN},
	{"log", required_argument, NULL, OPT_LOG},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{"relay", required_argument, NULL, OPT_RELAY},
	{"shard", required_argument, NULL, OPT_SHARD},
	{"status", required_argument, NULL, OPT_STATUS},
	{"failed", no_argument, NULL, OPT_FAILED},
	{NULL, 0, NULL, 0},
};

void
options_usage(FILE *f)
{
	fputs("usage: nlsend ISSUE.yaml --list LIST [--list LIST]... [options]\n"
	      "       nlsend --check ISSUE.yaml [--list LIST]...\n"
	      "       nlsend --preview ISSUE.yaml --html OUT.html [--text OUT.txt]\n"
	      "       nlsend --due DIR --list LIST [options]\n"
	      "       nlsend --status ISSUE.yaml [--failed]\n"
	      "options:\n"
	      "  --list LIST            a list file or name (repeatable)\n"
	      "  --lists-dir DIR        where list names are looked up\n"
	      "  --dry-run FILE         append every message to FILE (mboxrd)\n"
	      "  --smtp URL             smtp://host[:port] or smtps://host[:port]\n"
	      "  --tls=yes|no           require STARTTLS on smtp:// (default yes)\n"
	      "  --ca-file FILE         PEM CA certificates for the server\n"
	      "  --test ADDR            send one copy to ADDR, record nothing\n"
	      "  --concurrency N        SMTP connections in parallel (default 4)\n"
	      "  --rate R               at most R messages per second\n"
	      "  --max-per-connection N reconnect after N messages\n"
	      "  --state FILE           delivery journal (SQLite)\n"
	      "  --config FILE          configuration file\n"
	      "  --embed-images         embed local images even with image_base_url\n"
	      "  --resend               ignore the journal's sent rows\n"
	      "  --retry-failed         retry recipients that failed permanently\n"
	      "  --lock-wait SECONDS    --due: wait this long for the lock (60)\n"
	      "  --log FILE             --due: append one line per issue and run\n"
	      "  --relay NAME           send only through this relay (repeatable)\n"
	      "  --shard K/N            send only this host's share of the list\n"
	      "  --progress, --no-progress, --quiet, --verbose\n"
	      "  --help, --version\n"
	      "See nlsend(1).\n", f);
}

static int
number(const char *opt, const char *s, long min, long max, long *out,
       struct nl_err *err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return nl_err_set(err, NL_EUSAGE, "--%s: expected a whole number "
				  "from %ld to %ld, not '%s'", opt, min, max, s);
	*out = v;
	return 0;
}

static int
set_mode(struct options *o, enum nl_mode m, const char *name, struct nl_err *err)
{
	if (o->mode != MODE_SEND && o->mode != m)
		return nl_err_set(err, NL_EUSAGE, "--%s cannot be combined with "
				  "another verb", name);
	o->mode = m;
	return 0;
}

static int
add_list(struct options *o, const char *arg, struct nl_err *err)
{
	const char **lists;

	lists = realloc(o->lists, (o->nlists + 1) * sizeof *lists);
	if (!lists)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	o->lists = lists;
	o->lists[o->nlists++] = arg;
	return 0;
}

static int
add_relay(struct options *o, const char *arg, struct nl_err *err)
{
	const char **v;

	v = realloc(o->relays, (o->nrelays + 1) * sizeof *v);
	if (!v)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	o->relays = v;
	o->relays[o->nrelays++] = arg;
	return 0;
}

/* K/N with 1 <= K <= N <= 1024. */
static int
parse_shard(struct options *o, const char *arg, struct nl_err *err)
{
	unsigned long k, n;
	char *e1 = NULL, *e2 = NULL;

	errno = 0;
	k = strtoul(arg, &e1, 10);
	n = *e1 == '/' ? strtoul(e1 + 1, &e2, 10) : 0;
	if (errno || e1 == arg || *e1 != '/' || *e2 || k < 1 || n < 1 ||
	    k > n || n > 1024)
		return nl_err_set(err, NL_EUSAGE, "--shard: expected K/N with "
				  "1 <= K <= N <= 1024, not '%s'", arg);
	o->shard = (unsigned)k;
	o->nshards = (unsigned)n;
	return 0;
}

static int
parse_tls(struct options *o, const char *arg, struct nl_err *err)
{
	if (strcmp(arg, "yes") == 0)
		o->tls = 1;
	else if (strcmp(arg, "no") == 0)
		o->tls = 0;
	else
		return nl_err_set(err, NL_EUSAGE, "--tls: expected yes or no, "
				  "not '%s'", arg);
	return 0;
}

static int
parse_rate(struct options *o, const char *arg, struct nl_err *err)
{
	char *end;

	errno = 0;
	o->rate = strtod(arg, &end);
	if (errno || end == arg || *end || !(o->rate > 0))
		return nl_err_set(err, NL_EUSAGE, "--rate: expected messages per "
				  "second > 0, not '%s'", arg);
	return 0;
}

/* The verbs: each names its operand. */
static int
apply_verb(struct options *o, int c, const char *arg, struct nl_err *err)
{
	switch (c) {
	case OPT_CHECK:
		o->issue = arg;
		return set_mode(o, MODE_CHECK, "check", err);
	case OPT_PREVIEW:
		o->issue = arg;
		return set_mode(o, MODE_PREVIEW, "preview", err);
	case OPT_DUE:
		o->due_dir = arg;
		return set_mode(o, MODE_DUE, "due", err);
	case OPT_STATUS:
		o->issue = arg;
		return set_mode(o, MODE_STATUS, "status", err);
	default:
		return 1;
	}
}

/* Options with a value that needs parsing. */
static int
apply_value(struct options *o, int c, const char *arg, struct nl_err *err)
{
	switch (c) {
	case OPT_LIST: return add_list(o, arg, err);
	case OPT_RELAY: return add_relay(o, arg, err);
	case OPT_SHARD: return parse_shard(o, arg, err);
	case OPT_TLS: return parse_tls(o, arg, err);
	case OPT_RATE: return parse_rate(o, arg, err);
	case OPT_CONCURRENCY:
		return number("concurrency", arg, 1, 64, &o->concurrency, err);
	case OPT_LOCK_WAIT:
		return number("lock-wait", arg, 0, 86400, &o->lock_wait, err);
	case OPT_MAX_PER_CONN:
		return number("max-per-connection", arg, 1, 1000000,
			      &o->max_per_connection, err);
	default:
		return 1;
	}
}

/* Options whose value is kept as given, and flags; 1 when c is none. */
static int
apply_plain(struct options *o, int c, const char *arg)
{
	switch (c) {
	case OPT_DRY_RUN: o->dry_run = arg; break;
	case OPT_SMTP: o->smtp = arg; break;
	case OPT_CA_FILE: o->ca_file = arg; break;
	case OPT_TEST: o->test_addr = arg; break;
	case OPT_STATE: o->state = arg; break;
	case OPT_CONFIG: o->config = arg; break;
	case OPT_HTML: o->html = arg; break;
	case OPT_TEXT: o->text = arg; break;
	case OPT_LISTS_DIR: o->lists_dir = arg; break;
	case OPT_LOG: o->log = arg; break;
	case OPT_EMBED: o->embed_images = true; break;
	case OPT_PROGRESS: o->progress = 1; break;
	case OPT_NO_PROGRESS: o->progress = 0; break;
	case OPT_QUIET: o->quiet = true; break;
	case OPT_VERBOSE: o->verbose = true; break;
	case OPT_RESEND: o->resend = true; break;
	case OPT_RETRY_FAILED: o->retry_failed = true; break;
	case OPT_FAILED: o->failed = true; break;
	default: return 1;
	}
	return 0;
}

/* The operand (ISSUE.yaml) and what the verbs need. */
static int
check_args(struct options *o, int argc, char **argv, struct nl_err *err)
{
	if (optind < argc) {
		if (o->issue || o->mode == MODE_DUE || optind + 1 < argc)
			return nl_err_set(err, NL_EUSAGE, "unexpected argument '%s'",
					  argv[o->issue ? optind : optind + 1 < argc ?
					       optind + 1 : optind]);
		o->issue = argv[optind];
	}
	if (o->mode == MODE_SEND && !o->issue)
		return nl_err_set(err, NL_EUSAGE, "no issue file given");
	if (o->mode == MODE_SEND && o->nlists == 0 && !o->test_addr)
		return nl_err_set(err, NL_EUSAGE, "no --list given");
	if (o->mode == MODE_DUE && o->nlists == 0)
		return nl_err_set(err, NL_EUSAGE, "--due needs --list");
	if (o->mode == MODE_PREVIEW && !o->html && !o->text)
		return nl_err_set(err, NL_EUSAGE, "--preview needs --html OUT.html "
				  "(and/or --text OUT.txt)");
	if (o->quiet && o->verbose)
		return nl_err_set(err, NL_EUSAGE, "--quiet and --verbose exclude "
				  "each other");
	if (o->failed && o->mode != MODE_STATUS)
		return nl_err_set(err, NL_EUSAGE, "--failed goes with --status");
	if (o->smtp && o->nrelays)
		return nl_err_set(err, NL_EUSAGE, "--smtp and --relay exclude each "
				  "other (--relay picks relays of the config)");
	if (o->smtp && secret_url_has_password(o->smtp))
		return nl_err_set(err, NL_EUSAGE, "--smtp: a password in the URL "
				  "is visible to every user of this machine (ps): "
				  "put it in the config (mode 0600), "
				  "password_command, NLSEND_SMTP_PASSWORD or "
				  "~/.netrc");
	if (o->resend && o->retry_failed)
		return nl_err_set(err, NL_EUSAGE, "--resend and --retry-failed "
				  "exclude each other");
	return 0;
}

int
options_parse(int argc, char **argv, struct options *o, struct nl_err *err)
{
	int c, r;

	memset(o, 0, sizeof *o);
	o->tls = -1;
	o->progress = -1;
	o->lock_wait = 60;
	opterr = 0;
	optind = 1;
	/* "+" would stop at the first operand; the issue may come first. */
	while ((c = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
		if (c == 'h' || c == OPT_HELP) {
			o->mode = MODE_HELP;
			return 0;
		}
		if (c == 'V' || c == OPT_VERSION) {
			o->mode = MODE_VERSION;
			return 0;
		}
		if (c == ':')
			return nl_err_set(err, NL_EUSAGE, "%s needs an argument",
					  argv[optind - 1]);
		r = apply_verb(o, c, optarg, err);
		if (r == 1)
			r = apply_value(o, c, optarg, err);
		if (r == 1)
			r = apply_plain(o, c, optarg);
		if (r == 1)
			return nl_err_set(err, NL_EUSAGE, "unknown option %s",
					  argv[optind - 1]);
		if (r)
			return -1;
	}
	return check_args(o, argc, argv, err);
}

void
options_free(struct options *o)
{
	free(o->lists);
	o->lists = NULL;
	free(o->relays);
	o->relays = NULL;
}
