/*
 * unsub.h - unsubscribe tokens: who asks to leave which list, signed so
 * that nobody can unsubscribe someone else by guessing a URL.
 *
 *   token = base64url(e) "." base64url(HMAC-SHA256(secret, list_id "\n" e)
 *                                      truncated to 16 octets)
 *
 * where e is the email with ASCII letters lower-cased (the same address in
 * another case is the same subscriber, as lists/ de-duplicates), base64url
 * is RFC 4648 section 5 without padding, and the MAC is RFC 2104 HMAC over
 * SHA-256 (GnuTLS).  128 bits of MAC are plenty against forgery online
 * (RFC 2104 section 5 allows truncation to half the hash).  The email is
 * in the token, so a server (a later verb) needs no database to learn who
 * asked; the list id in the MAC stops a token for one list from working
 * for another.  Tokens use only unreserved URL characters (RFC 3986 2.3),
 * so they go into a URL or mailto as they are; unsub_pct_encode() is for
 * anything else that goes there.
 *
 * Errors: 0, or -1 with errno (EINVAL for bad arguments or a token that
 * does not verify, EIO for a GnuTLS failure, or the buffer's E2BIG/ENOMEM);
 * on error nothing is appended.
 */
#ifndef NL_MIME_UNSUB_H
#define NL_MIME_UNSUB_H

#include <stddef.h>

#include "util/buf.h"

/* Append the token for (list_id, email).  secretlen > 0. */
int unsub_token(const char *secret, size_t secretlen, const char *list_id,
		const char *email, struct buf *out);

/*
 * 0 when token[0..toklen) is a valid token for list_id under secret; then
 * the (lower-cased) email is appended to email_out when it is not NULL.
 * The MAC is compared in constant time.
 */
int unsub_verify(const char *secret, size_t secretlen, const char *list_id,
		 const char *token, size_t toklen, struct buf *email_out);

/* Append s[0..n) percent-encoded: everything but RFC 3986 unreserved
 * (ALPHA DIGIT - . _ ~) becomes %XX (upper-case hex). */
int unsub_pct_encode(struct buf *out, const char *s, size_t n);

/* Append the URL template tmpl with every "{{token}}" replaced by the
 * percent-encoded token (config unsubscribe_url, nlsend(1)). */
int unsub_url(const char *tmpl, const char *token, struct buf *out);

/* Append "mailto:ADDR?subject=unsubscribe%20TOKEN" (RFC 6068; the address
 * is percent-encoded except '@' and unreserved characters). */
int unsub_mailto(const char *addr, const char *token, struct buf *out);

#endif
