/* The relays of a send, with their passwords (relays.h). */
#include "cli/relays.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/secret.h"

void
run_relays_names(const struct config *cfg, char *out, size_t n)
{
	size_t i, k = 0;

	out[0] = '\0';
	for (i = 0; i < cfg->nrelays && k + 1 < n; i++)
		k += (size_t)snprintf(out + k, n - k, "%s%s", i ? ", " : "",
				      cfg->relays[i].name);
}

static int
wanted(const struct options *o, const char *name)
{
	size_t i;

	if (!o->nrelays)
		return 1;
	for (i = 0; i < o->nrelays; i++)
		if (strcmp(o->relays[i], name) == 0)
			return 1;
	return 0;
}

/* --relay names must be relays of the config. */
static int
check_names(const struct options *o, const struct config *cfg,
	    struct nl_err *err)
{
	char names[512];
	size_t i, k;

	for (i = 0; i < o->nrelays; i++) {
		for (k = 0; k < cfg->nrelays; k++)
			if (strcmp(o->relays[i], cfg->relays[k].name) == 0)
				break;
		if (k == cfg->nrelays) {
			run_relays_names(cfg, names, sizeof names);
			return nl_err_set(err, NL_EUSAGE, "--relay %s: no such "
					  "relay (the config has: %s)",
					  o->relays[i], cfg->nrelays ? names :
					  "none");
		}
	}
	return 0;
}

/* NLSEND_SMTP_PASSWORD_<NAME>: upper case, '-' as '_'. */
static void
env_name(const char *name, char *out, size_t n)
{
	size_t k = (size_t)snprintf(out, n, "NLSEND_SMTP_PASSWORD_"), i;

	for (i = 0; name[i] && k + 1 < n; i++, k++)
		out[k] = name[i] == '-' ? '_' :
			 (name[i] >= 'a' && name[i] <= 'z') ? (char)(name[i] - 32) :
			 name[i];
	out[k] = '\0';
}

static int
one(const struct options *o, const struct config *cfg,
    const struct config_relay *c, struct run_relays *rr, struct nl_err *err)
{
	struct deliver_relay *v = &rr->v[rr->n];
	struct secret_source src;
	char env[64];

	memset(v, 0, sizeof *v);
	v->name = c->name;
	v->url = c->url;
	v->tls = o->tls != 0;
	v->ca_file = c->ca_file ? c->ca_file : o->ca_file;
	v->user = c->user;
	v->concurrency = (int)(c->concurrency ? c->concurrency :
			       o->concurrency ? o->concurrency :
			       cfg->concurrency ? cfg->concurrency : 4);
	v->rate = c->rate;
	v->quota_count = c->quota_count;
	v->quota_seconds = c->quota_seconds;
	v->max_per_connection = (int)(c->max_per_connection ?
				      c->max_per_connection :
				      o->max_per_connection);
	v->weight = (int)(c->weight ? c->weight : 1);
	v->priority = (int)c->priority;
	v->variant = c->dkim_signatures >= 0 ? c->dkim_signatures : 0;
	env_name(c->name, env, sizeof env);
	src.password = c->password;
	src.command = c->password_command;
	src.env = env;
	src.user = c->user;
	src.url = c->url;
	if (secret_password_of(&src, &rr->password[rr->n], err))
		return -1;
	v->password = rr->password[rr->n];
	/* RFC 4954 section 4: no password over an unprotected channel. */
	if (!v->tls && strncasecmp(v->url, "smtps:", 6) != 0 &&
	    !secret_url_is_loopback(v->url) &&
	    (v->user || secret_url_has_password(v->url)))
		return nl_err_set(err, NL_ECONFIG, "relay %s: --tls=no with a "
				  "login: the password would cross the network "
				  "in clear", c->name);
	rr->n++;
	return 0;
}

int
run_relays_open(const struct options *o, const struct config *cfg,
		struct run_relays *rr, struct nl_err *err)
{
	size_t i;

	memset(rr, 0, sizeof *rr);
	if (o->smtp || !cfg->nrelays)
		return o->nrelays ? check_names(o, cfg, err) : 0;
	if (check_names(o, cfg, err))
		return -1;
	for (i = 0; i < cfg->nrelays && rr->n < DELIVER_MAX_RELAYS; i++)
		if (wanted(o, cfg->relays[i].name) &&
		    one(o, cfg, &cfg->relays[i], rr, err))
			return -1;
	return 0;
}

void
run_relays_free(struct run_relays *rr)
{
	int i;

	for (i = 0; i < DELIVER_MAX_RELAYS; i++)
		if (rr->password[i]) {
			explicit_bzero(rr->password[i], strlen(rr->password[i]));
			free(rr->password[i]);
			rr->password[i] = NULL;
		}
	rr->n = 0;
}
