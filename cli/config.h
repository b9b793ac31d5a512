/*
 * config.h - the configuration file (nlsend(1), FILES; the README lists
 * every key): a YAML mapping read once at start-up.
 *
 * Keys: smtp, user, password, password_command, from, return_path,
 * list_id, unsubscribe_url, unsubscribe_mailto, lists_dir, concurrency,
 * rate, image_base_url, unsubscribe_secret, template_dir, and dkim (a
 * mapping of domain, selector, key).  Any other key is an error, so a typo
 * never silently drops a setting.
 *
 * Values as in the issue file: every scalar style is a string, an empty or
 * null value is the same as an absent key; every value must be one line
 * (no CR, LF or NUL: most go into SMTP commands or mail headers).
 * Checked here:
 *  - smtp: smtp://host[:port] or smtps://host[:port] (scheme in any case);
 *  - unsubscribe_url, image_base_url: http:// or https://;
 *  - concurrency: a whole number 1..64;
 *  - timeout: seconds an SMTP transfer may take, a whole number 1..3600;
 *  - rate: "N" or "N.N" (messages per second, > 0), or "N/second",
 *    "N/minute", "N/hour", "N/day" (N a whole number > 0);
 *  - dkim: all three of domain, selector, key.
 * Not checked here: addresses (from, return_path, unsubscribe_mailto) and
 * list_id, which their users parse.
 *
 * Paths: lists_dir, template_dir and dkim.key may start with "~/" ($HOME)
 * and, when relative, are relative to the config file's directory (so a
 * config in ~/.config/nlsend works from any working directory); the
 * struct holds them resolved.
 *
 * Errors (struct nl_err):
 *  - NL_ENOINPUT  an explicit path that is missing or unreadable
 *                 ("PATH: No such file or directory");
 *  - NL_ECONFIG   everything about the content, "FILE:LINE:COL: message"
 *                 (malformed YAML, invalid UTF-8, unknown or duplicate
 *                 key, bad value, over CONFIG_MAX_BYTES), and a file
 *                 holding `password` whose mode lets group or others in
 *                 (st_mode & 077): "FILE: holds a password but is readable
 *                 by others (chmod 600 FILE)";
 *  - NL_ENOMEM.
 * No message ever holds a value from the file (a misplaced password must
 * not reach a terminal or a log), only keys and positions.
 *
 * Ownership: config_load() gives the caller a struct config owning all its
 * strings; config_free() frees it (and wipes the password first).
 */
#ifndef NL_CONFIG_H
#define NL_CONFIG_H

#include "util/err.h"

#define CONFIG_MAX_BYTES ((size_t)1 << 20)
#define CONFIG_MAX_CONCURRENCY 64

struct config {
	char *path;		/* the file read; NULL when none was found */
	char *dir;		/* its directory; NULL when none was found */
	/* NULL when unset. */
	char *smtp, *user, *password, *password_command, *from, *return_path,
	     *list_id, *unsubscribe_url, *unsubscribe_mailto, *lists_dir,
	     *image_base_url, *unsubscribe_secret, *template_dir;
	long concurrency;	/* 0 = unset */
	long timeout;		/* seconds per SMTP transfer; 0 = unset (60) */
	char *rate;		/* as written: "2000/day", "100/hour", "5" */
	/* From rate; all 0 when unset.  rate_per_sec is always set; the
	 * window (N messages per S seconds) only for the "N/unit" forms,
	 * e.g. "2000/day" -> 2000 per 86400 s, rate_per_sec 0.0231. */
	double rate_per_sec;
	long window_count;
	long window_seconds;
	char *dkim_domain, *dkim_selector, *dkim_key;	/* all or none */
	/* relays: (cli/config_relays.c); NULL and 0 when unset */
	struct config_relay *relays;
	size_t nrelays;
	int has_secret;		/* a password somewhere: the file must be
				 * 0600 */
};

/* One entry of `relays:` (README, "Several relays").  Strings NULL when
 * unset; numbers 0 when unset (weight and priority default later). */
#define CONFIG_MAX_RELAYS 16
#define CONFIG_RELAY_NAME_MAX 32
struct config_relay {
	char *name;		/* [A-Za-z0-9_-], unique */
	char *url;		/* smtp:// or smtps:// */
	char *user, *password, *password_command, *ca_file;
	long concurrency;	/* 1..64 */
	double rate;		/* messages a second (a pace) */
	long quota_count, quota_seconds;	/* "N/hour", "N/day" */
	long max_per_connection;
	long weight;		/* share while all are healthy */
	long priority;		/* lower first; 0..1000 */
	int dkim_signatures;	/* -1 unset, else enum campaign_sign */
	unsigned long line;	/* of its entry, for messages */
};

/*
 * Load the configuration.  path NULL: the first of ./nlsend.yaml and
 * $XDG_CONFIG_HOME/nlsend/config.yaml (default ~/.config; a relative
 * XDG_CONFIG_HOME is ignored, as the XDG Base Directory spec says) that
 * exists; none -> an empty config and 0.  An explicit path that is
 * missing -> NL_ENOINPUT.  On success *out is the caller's; on failure
 * NULL.
 */
int config_load(const char *path, struct config **out, struct nl_err *err);

/* Free a config; NULL is fine.  The password is zeroed before free(). */
void config_free(struct config *c);

/* For cli/config_relays.c: the value readers of config.c. */
struct yr;
struct yr_pos;
int config_read_string(struct yr *y, const char *key, const char *where,
		       const char *noun, char **dst, struct yr_pos *pos);
int config_read_path(struct yr *y, const char *dir, char **p);
int config_url_scheme(const char *s, const char *scheme);
/* relays: a list of mappings into c->relays. */
int config_load_relays(struct yr *y, struct config *c);
void config_free_relays(struct config *c);

/*
 * Parse a rate as above: 0 and the three numbers, or -1 (nothing set).
 * Also for the --rate option.
 */
int config_parse_rate(const char *s, double *per_sec, long *count,
		      long *seconds);

#endif
