/*
 * The `relays:` key of the config (config.h, struct config_relay): a list
 * of mappings, one relay each.  The values are read like the config's
 * own (config.c's readers): one line, empty is unset, messages name keys
 * and places, never values (a password may be among them).
 */
#include "cli/config.h"

#include <stdlib.h>
#include <string.h>

#include "cli/secret.h"
#include "util/yamlread.h"

enum {
	R_NAME, R_URL, R_USER, R_PASSWORD, R_PASSWORD_COMMAND, R_CA_FILE,
	R_CONCURRENCY, R_RATE, R_QUOTA, R_MAX_PER_CONNECTION, R_WEIGHT,
	R_PRIORITY, R_DKIM_SIGNATURES, R_COUNT
};
static const char *const relay_keys[R_COUNT] = {
	"name", "url", "user", "password", "password_command", "ca_file",
	"concurrency", "rate", "quota", "max_per_connection", "weight",
	"priority", "dkim_signatures",
};

/* A whole number in [min, max] for key. */
static int
number(struct yr *y, const char *key, const char *where, long min, long max,
       long *dst)
{
	struct yr_pos pos;
	char *s = NULL;
	long n = 0;
	int r;

	r = config_read_string(y, key, where, "a whole number", &s, &pos);
	if (!r && s && (yr_parse_long(s, &n) || n < min || n > max))
		r = yr_err(y, pos, "'%s'%s must be a whole number from %ld to "
			   "%ld", key, where, min, max);
	if (!r && s)
		*dst = n;
	free(s);
	return r;
}

static int
name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > CONFIG_RELAY_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

/* rate (a pace), quota ("N/hour", "N/day"), dkim_signatures. */
static int
special(struct yr *y, struct config_relay *r, size_t k, const char *where)
{
	static const char *const sigs[] = { "all", "rsa", "none" };
	struct yr_pos pos;
	double per;
	long cnt, secs;
	char *s = NULL;
	int rc = -1;
	size_t i;

	if (config_read_string(y, relay_keys[k], where, "a string", &s, &pos))
		goto out;
	rc = 0;
	if (!s)
		goto out;
	if (k == R_RATE && (config_parse_rate(s, &per, &cnt, &secs) || secs))
		rc = yr_err(y, pos, "'rate'%s must be messages a second (N or "
			    "N.N); a quota is 'quota: N/day'", where);
	else if (k == R_RATE)
		r->rate = per;
	if (k == R_QUOTA && (config_parse_rate(s, &per, &cnt, &secs) || !secs))
		rc = yr_err(y, pos, "'quota'%s must be N/hour or N/day (or "
			    "N/minute, N/second)", where);
	else if (k == R_QUOTA) {
		r->quota_count = cnt;
		r->quota_seconds = secs;
	}
	for (i = 0; k == R_DKIM_SIGNATURES && i < 3; i++)
		if (strcmp(s, sigs[i]) == 0)
			r->dkim_signatures = (int)i;
	if (k == R_DKIM_SIGNATURES && r->dkim_signatures < 0)
		rc = yr_err(y, pos, "'dkim_signatures'%s must be all, rsa or "
			    "none", where);
out:
	free(s);
	return rc;
}

static int
relay_value(struct yr *y, struct config *c, struct config_relay *r, size_t k,
	    const char *where)
{
	char **str[] = { &r->name, &r->url, &r->user, &r->password,
			 &r->password_command, &r->ca_file };
	struct yr_pos pos;

	switch (k) {
	case R_CONCURRENCY:
		return number(y, "concurrency", where, 1, CONFIG_MAX_CONCURRENCY,
			      &r->concurrency);
	case R_MAX_PER_CONNECTION:
		return number(y, "max_per_connection", where, 1, 1000000,
			      &r->max_per_connection);
	case R_WEIGHT:
		return number(y, "weight", where, 1, 1000, &r->weight);
	case R_PRIORITY:
		return number(y, "priority", where, 0, 1000, &r->priority);
	case R_RATE:
	case R_QUOTA:
	case R_DKIM_SIGNATURES:
		return special(y, r, k, where);
	default:
		break;
	}
	if (config_read_string(y, relay_keys[k], where, "a string", str[k],
			       &pos))
		return -1;
	if (!*str[k])
		return 0;
	if (k == R_URL && !config_url_scheme(*str[k], "smtp://") &&
	    !config_url_scheme(*str[k], "smtps://"))
		return yr_err(y, pos, "'url'%s must be smtp://host[:port] or "
			      "smtps://host[:port]", where);
	if (k == R_NAME && !name_ok(*str[k]))
		return yr_err(y, pos, "'name'%s must be 1 to %d letters, digits, "
			      "'-' or '_'", where, CONFIG_RELAY_NAME_MAX);
	if (k == R_CA_FILE)
		return config_read_path(y, c->dir, str[k]);
	return 0;
}

/* One mapping of the list, the current event being its start. */
static int
load_relay(struct yr *y, struct config *c, struct config_relay *r, size_t n)
{
	struct yr_pos seen[R_COUNT] = { { 0, 0 } }, mpos = yr_here(y), kpos;
	char where[64];
	size_t k, i;
	int rc;

	snprintf(where, sizeof where, " in relay %zu", n);
	r->dkim_signatures = -1;
	r->line = mpos.line;
	while ((rc = yr_key(y, relay_keys, R_COUNT, seen, where, &k,
			    &kpos)) == 0)
		if (relay_value(y, c, r, k, where))
			return -1;
	if (rc < 0)
		return -1;
	if (!r->name || !r->url)
		return yr_err(y, mpos, "relay %zu needs 'name' and 'url'", n);
	for (i = 0; i + 1 < n; i++)
		if (strcmp(c->relays[i].name, r->name) == 0)
			return yr_err(y, mpos, "relay %zu: the name '%s' is "
				      "taken by relay %zu", n, r->name, i + 1);
	c->has_secret |= r->password || secret_url_has_password(r->url);
	return 0;
}

int
config_load_relays(struct yr *y, struct config *c)
{
	struct yr_pos pos;
	int r;

	r = yr_start(y, YAML_SEQUENCE_START_EVENT, "relays", "", &pos);
	if (r)
		return r < 0 ? -1 : 0;
	c->relays = calloc(CONFIG_MAX_RELAYS, sizeof *c->relays);
	if (!c->relays)
		return nl_err_set(y->err, NL_ENOMEM, "out of memory");
	for (;;) {
		if (yr_next(y))
			return -1;
		if (y->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (y->ev.type != YAML_MAPPING_START_EVENT)
			return yr_err(y, yr_here(y), "relay %zu must be a mapping "
				      "(name, url, ...), not %s", c->nrelays + 1,
				      yr_what(y));
		if (c->nrelays == CONFIG_MAX_RELAYS)
			return yr_err(y, yr_here(y), "more than %d relays",
				      CONFIG_MAX_RELAYS);
		/* Counted before it is filled, so config_free() sees it. */
		c->nrelays++;
		if (load_relay(y, c, &c->relays[c->nrelays - 1], c->nrelays))
			return -1;
	}
	if (!c->nrelays)
		return yr_err(y, pos, "'relays' is an empty list");
	return 0;
}

void
config_free_relays(struct config *c)
{
	size_t i;

	for (i = 0; i < c->nrelays; i++) {
		struct config_relay *r = &c->relays[i];

		if (r->password)
			explicit_bzero(r->password, strlen(r->password));
		free(r->name);
		free(r->url);
		free(r->user);
		free(r->password);
		free(r->password_command);
		free(r->ca_file);
	}
	free(c->relays);
	c->relays = NULL;
	c->nrelays = 0;
}
