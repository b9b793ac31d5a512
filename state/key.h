/*
 * key.h - the unsubscribe key: the HMAC secret behind every unsubscribe
 * token (mime/unsub.h), kept in the file `unsubscribe.key` beside the
 * state database, so that a token mailed today still verifies when the
 * reader clicks it next year, in any nlsend process that shares the state
 * (a send, the unsubscribe server).
 *
 * The config's `unsubscribe_secret` replaces the file; the caller decides
 * (state_key() is only the file).  The file is made on first use: 32
 * random bytes (getrandom(2)) as 64 hex digits, mode 0600, its missing
 * parent directories 0700, created with O_EXCL so that two first runs at
 * once agree on one key.  It is read as it is: at least 16 and at most 64
 * bytes are used.
 *
 * Ownership: *key is malloc'd, *len its length; the caller wipes
 * (explicit_bzero) and frees it.  Errors: NL_ECANTCREAT (cannot make the
 * file), NL_ENOINPUT (cannot read it), NL_ECONFIG (shorter than 16 bytes),
 * NL_EINTERNAL (no randomness), NL_ENOMEM.
 */
#ifndef NL_STATE_KEY_H
#define NL_STATE_KEY_H

#include <stddef.h>

#include "util/err.h"

#define STATE_KEY_FILE "unsubscribe.key"

int state_key(const char *db_path, char **key, size_t *len,
	      struct nl_err *err);

#endif
