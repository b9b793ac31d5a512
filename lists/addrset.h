/*
 * addrset.h - an exact, case-insensitive set of e-mail addresses, for the
 * de-duplication of subscriber lists.
 *
 * Exact: no Bloom filter, no hash-only membership; two addresses are the
 * same when their keys are equal (util/addrkey.h: ASCII lower-cased, the
 * key every table of the state database uses too).
 *
 * Memory: the addresses are lower-cased into a pool of fixed-size chunks
 * as [length byte][bytes] (no NUL, no per-address malloc), and the hash
 * table is open addressing (linear probing) over 32-bit pool references,
 * kept at most half full.  That is (len + 1) bytes of pool plus 8 to 16
 * bytes of table per address: 1,000,000 addresses of 22 bytes take about
 * 31 MB.  The hash is not stored: growth re-hashes from the pool.
 *
 * Caps (hostile or absurd lists fail cleanly instead of exhausting
 * memory): ADDRSET_MAX addresses, ADDRSET_POOL_MAX bytes of pool,
 * ADDRSET_MAXLEN bytes per address.
 *
 * Not thread-safe; one set per reader.
 */
#ifndef NL_ADDRSET_H
#define NL_ADDRSET_H

#include <stddef.h>

#include "util/addrkey.h"

#define ADDRSET_MAX ((size_t)1 << 24)		/* 16,777,216 addresses */
#define ADDRSET_POOL_MAX ((size_t)1 << 30)	/* 1 GiB of pool */
#define ADDRSET_MAXLEN ADDR_KEY_MAX		/* util/addrkey.h: 254 */

struct addrset;

/* An empty set, or NULL when out of memory.  Free with addrset_free(). */
struct addrset *addrset_new(void);

/*
 * Add addr (a NUL-terminated string; the set keeps a lower-cased copy).
 * Returns 1 when added, 0 when already present (compared without ASCII
 * case), -1 when it cannot be added: errno ENOMEM (out of memory), E2BIG
 * (a cap above was reached) or EINVAL (addr longer than ADDRSET_MAXLEN).
 * On -1 the set is unchanged.
 */
int addrset_add(struct addrset *s, const char *addr);

/* 1 when addr is in the set (without ASCII case), else 0. */
int addrset_has(const struct addrset *s, const char *addr);

/* Number of addresses in the set. */
size_t addrset_count(const struct addrset *s);

/* Bytes the set has allocated (table, pool chunks, bookkeeping): the
 * set's own accounting, for diagnostics and tests. */
size_t addrset_bytes(const struct addrset *s);

/* Free the set and everything in it; s may be NULL. */
void addrset_free(struct addrset *s);

#endif
