/*
 * addrkey.h - the one key under which an address is known: every table of
 * the state database (delivery, suppression, and those to come) and the
 * de-duplication of lists compare addresses by it, so that all of them
 * agree on who is who.
 *
 * The key is the whole address with ASCII letters lower-cased; other bytes
 * are kept (lists/address.c refuses non-ASCII addresses anyway).  RFC 5321
 * section 2.4 lets a server treat local parts case-sensitively, but nobody
 * runs a list where Ada@x and ada@x are two people.
 *
 * Bounded: an address is at most ADDR_KEY_MAX bytes (RFC 5321 section
 * 4.5.3.1.3 caps a path at 256 octets, angle brackets included: 254 for
 * the address).  A longer one has no key: addr_key() fails rather than
 * truncate, since two long addresses cut to one key would be one person.
 */
#ifndef NL_ADDRKEY_H
#define NL_ADDRKEY_H

#include <stddef.h>

#define ADDR_KEY_MAX 254

/* The key of addr into out (at least ADDR_KEY_MAX + 1 bytes), NUL ended.
 * Returns its length, or -1 (errno ENAMETOOLONG) when addr is longer than
 * ADDR_KEY_MAX bytes; out is then "". */
int addr_key(const char *addr, char out[ADDR_KEY_MAX + 1]);

#endif
