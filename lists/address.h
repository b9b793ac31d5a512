/*
 * address.h - checking subscriber addresses.
 *
 * addr_check() accepts exactly the RFC 5322 section 3.4.1 addr-spec
 * without comments, folding white space or the obsolete forms:
 *
 *   addr-spec  = local-part "@" domain
 *   local-part = dot-atom-text / quoted-string
 *
 * narrowed by nlsend(1) ("a domain with a dot, no spaces, no CR/LF") and by
 * what an SMTP relay will take in RCPT TO (RFC 5321):
 *   - the domain is a host name (section 4.1.2: letters, digits and
 *     hyphens, labels of 1..63 bytes, RFC 1035 section 2.3.4), with at
 *     least one dot and a top-level label that is not all digits (RFC 3696
 *     section 2); domain literals ("[192.0.2.1]") are refused: in a
 *     subscriber list they are a mistake far more often than a mailbox;
 *   - at most 64 bytes of local part and 254 bytes in all (section
 *     4.5.3.1.1, and 4.5.3.1.3's 256-byte path minus the angle brackets);
 *   - ASCII only: non-ASCII addresses need SMTPUTF8 (RFC 6531), which
 *     nlsend does not speak;
 *   - no space anywhere, not even inside a quoted local part (nlsend(1)).
 *
 * Why not libetpan's parser for this: mailimf_mailbox_parse() is built to
 * read real-world headers and is deliberately lax about addr-specs (it
 * accepts "a b@c.d" as "ab@c.d", "@b.c", "a@@b.c" and "not-an-address"),
 * so it cannot be the validator.  It is used where it is good: splitting
 * "Name <addr>" and unquoting the display name (addr_parse_mailbox).
 * addr_check() does no allocation and is cheap enough for every row.
 */
#ifndef NL_ADDRESS_H
#define NL_ADDRESS_H

#include <stddef.h>

#define ADDR_LOCAL_MAX 64	/* RFC 5321 section 4.5.3.1.1 */
#define ADDR_MAX 254		/* RFC 5321 section 4.5.3.1.3, less "<>" */

/*
 * 0 when addr is a valid address (see above); -1 with a short reason in
 * why (truncated to whylen; why may be NULL), one of:
 *   "empty address", "contains a line break",
 *   "non-ASCII address (SMTPUTF8 not supported)", "contains a space",
 *   "contains a control character", "too long (over 254 bytes)",
 *   "not an address" (no '@'), "empty local part", "bad local part",
 *   "too long (local part over 64 bytes)", "no domain",
 *   "domain literal not supported", "bad domain", "no dot in the domain",
 *   "bad domain (...)".
 * The reason never repeats the address: callers quote it themselves.
 */
int addr_check(const char *addr, char *why, size_t whylen);

/*
 * Parse one mailbox, "Name <addr@domain>", "<addr@domain>" or
 * "addr@domain" (RFC 5322 section 3.4), surrounding white space ignored.
 * The address inside the brackets must pass addr_check().  The display
 * name is unquoted by libetpan (mailimf_mailbox_parse), RFC 2047 encoded
 * words in it are decoded to UTF-8, and it is trimmed; a name libetpan
 * cannot parse as an RFC 5322 phrase (typically an unquoted comma, as in
 * "Hopper, Grace <g@x.org>") is taken literally, since the input holds
 * exactly one mailbox and there is no ambiguity.
 *
 * On success returns 0 and sets *name (UTF-8, "" when there is none) and
 * *addr (the addr-spec as written, case kept), both malloc'd: the caller
 * frees them.  On failure returns -1, sets both to NULL and puts a reason
 * in why: one of addr_check()'s, or "invalid UTF-8", "no closing '>'",
 * "text after the address", "name contains a line break" (also when an
 * encoded word decodes to CR or LF: no header injection through names),
 * "name contains a control character", "out of memory".
 */
int addr_parse_mailbox(const char *s, char **name, char **addr, char *why,
		       size_t whylen);

/*
 * 0 when name (NUL-terminated, assumed valid UTF-8) is fit to be a display
 * name; -1 with "name contains a line break" (CR or LF: it would end a
 * header line) or "name contains a control character" (other C0 controls
 * but TAB, and DEL).  Used for CSV names and by addr_parse_mailbox().
 */
int addr_check_name(const char *name, char *why, size_t whylen);

#endif
