#include "cli/config.h"
#include "cli/secret.h"
#include "util/path.h"

#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util/yamlread.h"

/*
 * The keys: each a kind of value and where it lands.  A new key is one
 * line here and a member of struct config (config.h lists them all).
 */
enum ckind {		/* the kinds held as char * first */
	K_STRING,		/* any one-line string */
	K_SECRET,		/* a string that makes the file need 0600 */
	K_SMTP_URL,		/* smtp:// or smtps:// */
	K_HTTP_URL,		/* https:// or http:// */
	K_PATH,			/* "~/" and relative to the config's directory */
	K_LIST_ID,		/* RFC 2919 section 2: a dot-atom of ASCII */
	K_RATE,			/* config_parse_rate() */
#define K_IS_STRING(k) ((k) <= K_RATE)
	K_CONCURRENCY,		/* 1..CONFIG_MAX_CONCURRENCY */
	K_SECONDS,		/* 1..3600 */
	K_DKIM,			/* a mapping: load_dkim() */
	K_RELAYS		/* a list: config_load_relays() */
};

struct ckey {
	const char *name;
	enum ckind kind;
	size_t off;		/* of the char * or long member */
};

#define KEY(name, kind) { #name, kind, offsetof(struct config, name) }
static const struct ckey config_keys[] = {
	KEY(smtp, K_SMTP_URL),
	KEY(user, K_STRING),
	KEY(password, K_SECRET),
	KEY(password_command, K_STRING),
	KEY(from, K_STRING),
	KEY(return_path, K_STRING),
	KEY(list_id, K_LIST_ID),
	KEY(unsubscribe_url, K_HTTP_URL),
	KEY(unsubscribe_mailto, K_STRING),
	KEY(lists_dir, K_PATH),
	KEY(concurrency, K_CONCURRENCY),
	KEY(rate, K_RATE),
	KEY(image_base_url, K_HTTP_URL),
	KEY(unsubscribe_secret, K_STRING),
	KEY(template_dir, K_PATH),
	{ "dkim", K_DKIM, 0 },
	KEY(timeout, K_SECONDS),
	{ "relays", K_RELAYS, 0 },
};
#undef KEY
#define C_COUNT (sizeof config_keys / sizeof config_keys[0])

enum { D_DOMAIN, D_SELECTOR, D_KEY, D_COUNT };
static const char *const dkim_keys[D_COUNT] = { "domain", "selector", "key" };

/*
 * A one-line string value; empty is unset.  Messages name the key only:
 * the value may be a secret.
 */
static int
get_string(struct yr *y, const char *key, const char *where,
	   const char *noun, char **dst, struct yr_pos *pos)
{
	char *s;

	if (yr_scalar(y, key, where, noun, &s, pos))
		return -1;
	if (s && !*s) {
		free(s);
		s = NULL;
	}
	*dst = s;
	if (s && strpbrk(s, "\r\n"))
		return yr_err(y, *pos, "line break in '%s'%s (a value must be "
			      "one line)", key, where);
	return 0;
}

static char *
join(const char *a, const char *b)
{
	size_t n = strlen(a) + 1 + strlen(b) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s/%s", a, b);
	return s;
}

/* "~/x" -> $HOME/x; relative -> beside the config file.  Replaces *p. */
static int
resolve_path(struct yr *y, const char *dir, char **p)
{
	const char *home = getenv("HOME");
	char *s = *p, *r;

	if (!s || s[0] == '/')
		return 0;
	if (s[0] == '~' && s[1] == '/' && home && *home)
		r = join(home, s + 2);
	else if (s[0] == '~' || strcmp(dir, ".") == 0)
		return 0;
	else
		r = join(dir, s);
	if (!r)
		return nl_err_set(y->err, NL_ENOMEM, "out of memory");
	free(s);
	*p = r;
	return 0;
}

/* scheme://host... with a non-empty host. */
static bool
has_scheme(const char *s, const char *scheme)
{
	size_t n = strlen(scheme);

	return strncasecmp(s, scheme, n) == 0 && s[n] && s[n] != '/' &&
	       s[n] != ':';
}

/* Whole number > 0 in s[0..n) (no sign); -1 otherwise. */
static long
positive(const char *s, size_t n)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 15)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v > 0 ? v : -1;
}

int
config_parse_rate(const char *s, double *per_sec, long *count, long *seconds)
{
	static const struct { const char *name; long secs; } units[] = {
		{ "second", 1 }, { "s", 1 }, { "minute", 60 }, { "min", 60 },
		{ "hour", 3600 }, { "h", 3600 }, { "day", 86400 }, { "d", 86400 },
	};
	const char *slash;
	double v = 0.0, scale = 1.0;
	size_t i, nd = 0, nf = 0;
	long n;

	if (!s)
		return -1;
	slash = strchr(s, '/');
	if (slash) {
		n = positive(s, (size_t)(slash - s));
		if (n < 0)
			return -1;
		for (i = 0; i < sizeof units / sizeof units[0]; i++)
			if (strcmp(slash + 1, units[i].name) == 0)
				break;
		if (i == sizeof units / sizeof units[0])
			return -1;
		*count = n;
		*seconds = units[i].secs;
		*per_sec = (double)n / (double)units[i].secs;
		return 0;
	}
	/* DIGITS[.DIGITS] by hand, not strtod(): the decimal point must not
	 * depend on the locale, and "inf" or "1e9" are not rates. */
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++, nd++)
		v = v * 10.0 + (s[i] - '0');
	if (s[i] == '.')
		for (i++; s[i] >= '0' && s[i] <= '9'; i++, nf++) {
			scale /= 10.0;
			v += (s[i] - '0') * scale;
		}
	if (s[i] || nd == 0 || nd > 12 || (s[nd] == '.' && nf == 0) ||
	    !(v > 0.0))
		return -1;
	*per_sec = v;
	*count = 0;
	*seconds = 0;
	return 0;
}

static int
load_dkim(struct yr *y, struct config *c)
{
	struct yr_pos seen[D_COUNT] = { { 0, 0 } }, mpos, kpos, vpos;
	char **dst[D_COUNT] = { &c->dkim_domain, &c->dkim_selector,
				&c->dkim_key };
	const char *where = " in 'dkim'";
	size_t k;
	int r;

	r = yr_start(y, YAML_MAPPING_START_EVENT, "dkim", "", &mpos);
	if (r)
		return r < 0 ? -1 : 0;
	while ((r = yr_key(y, dkim_keys, D_COUNT, seen, where, &k,
			   &kpos)) == 0)
		if (get_string(y, dkim_keys[k], where, "a string", dst[k],
			       &vpos))
			return -1;
	if (r < 0)
		return -1;
	for (k = 0; k < D_COUNT; k++)
		if (!*dst[k])
			return yr_err(y, mpos, "'dkim' needs 'domain', "
				      "'selector' and 'key' (missing '%s')",
				      dkim_keys[k]);
	return resolve_path(y, c->dir, &c->dkim_key);
}

/* A whole-number key: concurrency (1..64), timeout (seconds, 1..3600). */
static int
load_number(struct yr *y, const char *key, long max, long *dst)
{
	struct yr_pos vpos;
	char *s = NULL;
	long n = 0;
	int r;

	r = get_string(y, key, "", "a whole number", &s, &vpos);
	if (r || !s)
		goto out;
	if (yr_parse_long(s, &n) || n < 1 || n > max) {
		r = yr_err(y, vpos, "'%s' must be a whole number from 1 to %ld",
			   key, max);
		goto out;
	}
	*dst = n;
out:
	free(s);
	return r;
}

/* RFC 2919 section 2: list-id is "<" list-label "." list-id-namespace ">",
 * both dot-atom-text (RFC 5322 section 3.2.3): atext and single dots, no
 * dot at either end, ASCII only.  Returns the offset of the first bad
 * byte, or -1 when s is a list id. */
static long
list_id_bad(const char *s)
{
	static const char special[] = "!#$%&'*+-/=?^_`{|}~";
	size_t i;
	int dots = 0;

	for (i = 0; s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '.') {
			if (i == 0 || s[i + 1] == '.' || !s[i + 1])
				return (long)i;
			dots++;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || (ch && strchr(special, ch))))
			return (long)i;
	}
	return dots ? -1 : (long)i;
}

/* A string key's value, checked by its kind. */
static int
check_string(struct yr *y, struct config *c, const struct ckey *k,
	     char **dst, struct yr_pos vpos)
{
	long bad;

	switch (k->kind) {
	case K_SMTP_URL:
		if (!has_scheme(*dst, "smtp://") &&
		    !has_scheme(*dst, "smtps://"))
			return yr_err(y, vpos, "'%s' must be smtp://host"
				      "[:port] or smtps://host[:port]", k->name);
		return 0;
	case K_HTTP_URL:
		if (!has_scheme(*dst, "https://") &&
		    !has_scheme(*dst, "http://"))
			return yr_err(y, vpos, "'%s' must be an https:// (or "
				      "http://) URL", k->name);
		return 0;
	case K_RATE:
		if (config_parse_rate(*dst, &c->rate_per_sec, &c->window_count,
				      &c->window_seconds))
			return yr_err(y, vpos, "'%s' must be N (messages "
				      "per second), or N/second, N/minute, "
				      "N/hour or N/day", k->name);
		return 0;
	case K_PATH:
		return resolve_path(y, c->dir, dst);
	case K_LIST_ID:
		bad = list_id_bad(*dst);
		if (bad >= 0 && !(*dst)[bad])
			return yr_err(y, vpos, "'%s' must be LABEL.DOMAIN in "
				      "ASCII letters, digits and dots (RFC 2919; "
				      "it has no dot)", k->name);
		if (bad >= 0)
			return yr_err(y, vpos, "'%s' must be LABEL.DOMAIN in "
				      "ASCII letters, digits and dots (RFC 2919; "
				      "byte %ld is not)", k->name, bad + 1);
		return 0;
	default:
		return 0;
	}
}

/* The value of key k, checked; strings land in the struct as they are
 * read, so config_free() frees them whatever happens next. */
static int
load_value(struct yr *y, struct config *c, size_t k)
{
	const struct ckey *key = &config_keys[k];
	struct yr_pos vpos;
	char **dst;

	switch (key->kind) {
	case K_DKIM:
		return load_dkim(y, c);
	case K_RELAYS:
		return config_load_relays(y, c);
	case K_CONCURRENCY:
		return load_number(y, key->name, CONFIG_MAX_CONCURRENCY,
				   (long *)(void *)((char *)c + key->off));
	case K_SECONDS:
		return load_number(y, key->name, 3600,
				   (long *)(void *)((char *)c + key->off));
	default:
		break;
	}
	dst = (char **)(void *)((char *)c + key->off);
	if (get_string(y, key->name, "", "a string", dst, &vpos))
		return -1;
	if (!*dst)
		return 0;
	return check_string(y, c, key, dst, vpos);
}

static int
load_keys(struct yr *y, struct config *c)
{
	struct yr_pos seen[C_COUNT] = { { 0, 0 } }, kpos;
	const char *names[C_COUNT];
	bool empty;
	size_t k;
	int r;

	for (k = 0; k < C_COUNT; k++)
		names[k] = config_keys[k].name;
	if (yr_begin(y, &empty))
		return -1;
	if (empty)
		return 0;
	while ((r = yr_key(y, names, C_COUNT, seen, "", &k, &kpos)) == 0)
		if (load_value(y, c, k))
			return -1;
	if (r < 0)
		return -1;
	return yr_end(y);
}

/* The first default location that exists, or *found = NULL. */
static int
find_default(char **found, struct nl_err *err)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	char *cand[2] = { NULL, NULL };
	struct stat st;
	size_t i;
	int r = -1;

	*found = NULL;
	cand[0] = strdup("./nlsend.yaml");
	if (xdg && xdg[0] == '/')
		cand[1] = join(xdg, "nlsend/config.yaml");
	else if (home && *home)
		cand[1] = join(home, ".config/nlsend/config.yaml");
	if (!cand[0] || (!cand[1] && ((xdg && xdg[0] == '/') ||
				      (home && *home)))) {
		nl_err_set(err, NL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < 2 && cand[i]; i++) {
		if (stat(cand[i], &st) == 0) {
			*found = cand[i];
			cand[i] = NULL;
			break;
		}
		if (errno != ENOENT && errno != ENOTDIR) {
			nl_err_set(err, NL_ENOINPUT, "%s: %s", cand[i],
				   strerror(errno));
			goto out;
		}
	}
	r = 0;
out:
	free(cand[0]);
	free(cand[1]);
	return r;
}

int
config_load(const char *path, struct config **out, struct nl_err *err)
{
	struct config *c = NULL;
	char *found = NULL;
	struct stat st;
	struct yr y;
	int r = -1;

	*out = NULL;
	memset(&y, 0, sizeof y);
	c = calloc(1, sizeof *c);
	if (!c) {
		nl_err_set(err, NL_ENOMEM, "out of memory");
		goto out;
	}
	if (!path) {
		if (find_default(&found, err))
			goto out;
		if (!found) {
			*out = c;
			return 0;
		}
		path = found;
	}
	c->path = strdup(path);
	c->dir = path_dir(path);
	if (!c->path || !c->dir) {
		nl_err_set(err, NL_ENOMEM, "out of memory");
		goto out;
	}
	if (yr_open(&y, c->path, CONFIG_MAX_BYTES, NL_ECONFIG, &st, err))
		goto out;
	if (load_keys(&y, c))
		goto out;
	/* As msmtp and fetchmail do: a password others can read is no
	 * secret, so refuse to run until the mode is fixed. */
	c->has_secret |= c->password || secret_url_has_password(c->smtp);
	if (c->has_secret && (st.st_mode & 077)) {
		nl_err_set(err, NL_ECONFIG, "%s: holds a password but is "
			   "readable by others (chmod 600 %s)", c->path,
			   c->path);
		goto out;
	}
	if (c->has_secret)
		secret_protect();
	*out = c;
	c = NULL;
	r = 0;
out:
	/* The file's bytes may hold the password: wipe them too. */
	if (y.data)
		explicit_bzero(y.data, y.len);
	yr_close(&y);
	config_free(c);
	free(found);
	return r;
}

void
config_free(struct config *c)
{
	size_t k;

	if (!c)
		return;
	if (c->password)
		explicit_bzero(c->password, strlen(c->password));
	for (k = 0; k < C_COUNT; k++)
		if (K_IS_STRING(config_keys[k].kind))
			free(*(char **)(void *)((char *)c + config_keys[k].off));
	free(c->path);
	free(c->dir);
	free(c->dkim_domain);
	free(c->dkim_selector);
	free(c->dkim_key);
	config_free_relays(c);
	free(c);
}

int
config_read_string(struct yr *y, const char *key, const char *where,
		   const char *noun, char **dst, struct yr_pos *pos)
{
	return get_string(y, key, where, noun, dst, pos);
}

int
config_read_path(struct yr *y, const char *dir, char **p)
{
	return resolve_path(y, dir, p);
}

int
config_url_scheme(const char *s, const char *scheme)
{
	return has_scheme(s, scheme);
}
