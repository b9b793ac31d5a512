/*
 * secret.h - the SMTP password, from the first of: the config's
 * `password`, `password_command` (the first line of its output, as msmtp's
 * passwordeval), the environment's NLSEND_SMTP_PASSWORD, and with `user`
 * set the entry of ~/.netrc for that login on the URL's host (netrc.h).
 * None of them: *out is NULL and libcurl looks in ~/.netrc for any login
 * of the host.
 *
 * The value is never printed, logged or journaled; the caller wipes
 * (explicit_bzero) and frees it.  Errors: NL_ECONFIG (password_command
 * failed or printed nothing: its status is named, never its output),
 * NL_ENOMEM.
 */
#ifndef NL_SECRET_H
#define NL_SECRET_H

#include "cli/config.h"
#include "util/err.h"

int secret_password(const struct config *cfg, const char *url, char **out,
		    struct nl_err *err);

/* The same from given sources, in this order: password, command, the
 * environment variable env, ~/.netrc for user on url's host.  For the
 * relays of `relays:` (env NLSEND_SMTP_PASSWORD_<NAME>). */
struct secret_source {
	const char *password, *command, *env, *user, *url;
};
int secret_password_of(const struct secret_source *src, char **out,
		       struct nl_err *err);

/* 1 when the URL carries a password (smtp://user:pw@host): then it is a
 * secret like `password`, and the command line must never hold it (every
 * user's ps(1) reads argv). */
int secret_url_has_password(const char *url);

/* 1 when the URL's host is this machine (localhost, 127.0.0.0/8, ::1):
 * the only place a password may travel without TLS. */
int secret_url_is_loopback(const char *url);

/* Once a secret is in memory: no core dump, no ptrace by other users
 * (prctl PR_SET_DUMPABLE 0, Linux). */
void secret_protect(void);

#endif
