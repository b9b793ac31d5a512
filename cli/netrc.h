/*
 * netrc.h - the password of one login on one host in ~/.netrc, as ftp(1),
 * curl and msmtp read the file: tokens separated by white space (line
 * ends included, so an entry may be one line or one field a line),
 * "machine NAME" or "default" starting an entry, "login", "password" and
 * "account" inside it, "macdef" skipped to the next empty line, a token
 * in double quotes may hold spaces (backslash escapes the next byte).
 *
 * Why here and not libcurl's (CURLOPT_NETRC): libcurl 7.88 reads netrc
 * only when no user name is set; with `user:` in the config it sends an
 * empty password (seen: 535 from the server).  nlsend still lets libcurl
 * read netrc when the config names no user.
 *
 * The first entry for host (or "default") whose login is login wins.
 * Bounded: a file over 64 KiB is refused.  The password is never printed;
 * the caller wipes and frees *pw.  Returns 0 with *pw, 1 when there is no
 * such entry (or no file), -1 with err (NL_ECONFIG: too large, unreadable;
 * NL_ENOMEM).
 */
#ifndef NL_NETRC_H
#define NL_NETRC_H

#include "util/err.h"

#define NETRC_MAX_BYTES ((size_t)64 << 10)

int netrc_password(const char *path, const char *host, const char *login,
		   char **pw, struct nl_err *err);

#endif
