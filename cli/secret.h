/*
 * secret.h - the SMTP password, from the first of: the config's
 * `password`, `password_command` (the first line of its output, as msmtp's
 * passwordeval), the environment's NLSEND_SMTP_PASSWORD.  None of them:
 * *out is NULL and libcurl looks in ~/.netrc.
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

int secret_password(const struct config *cfg, char **out, struct nl_err *err);

#endif
