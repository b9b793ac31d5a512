/*
 * recipients.h - who a run is for: the merged lists (list.h), minus the
 * addresses a filter says to leave out (the suppression list, which lists/
 * does not know: the caller passes its test), counted.
 *
 * Bad rows are reported through the warn function as the lists report
 * them ("FILE:LINE: reason").  Ownership: recipients_open() copies the
 * paths; *rc is the caller's (recipients_close, also after a failed open).
 * Errors: as lists_open()/lists_next(), and whatever the filter returns.
 */
#ifndef NL_RECIPIENTS_H
#define NL_RECIPIENTS_H

#include <stddef.h>

#include "lists/list.h"

/* *yes = 1 to leave email out; 0 or -1 (err set). */
typedef int (*recipients_filter_fn)(void *arg, const char *email, int *yes,
				    struct nl_err *err);

struct recipients {
	struct lists *l;
	recipients_filter_fn filter;	/* NULL: nobody is left out */
	void *filter_arg;
	unsigned long filtered;		/* left out by the filter */
	unsigned shard, nshards;	/* recipients_shard(); 0 0: all */
	unsigned long other_shards;	/* left to the other shards */
};

int recipients_open(struct recipients *rc, const char *const *paths,
		    size_t n, list_warn_fn warn, void *warn_arg,
		    recipients_filter_fn filter, void *filter_arg,
		    struct nl_err *err);
/* As lists_next(): 1 with *s, 0 at the end, -1 on error. */
int recipients_next(struct recipients *rc, struct subscriber *s,
		    struct nl_err *err);
void recipients_close(struct recipients *rc);

/*
 * Only shard k of n (1 <= k <= n): the addresses whose key (util/addrkey.h)
 * hashes to k - 1 modulo n (FNV-1a, 64 bits), so that n hosts given 1/n
 * .. n/n of the same lists cover every address exactly once, whatever
 * order or case the lists have.
 */
void recipients_shard(struct recipients *rc, unsigned k, unsigned n);
/* Which shard of n an address falls in (1..n). */
unsigned recipients_shard_of(const char *email, unsigned n);

/*
 * A deep copy of a subscriber (its strings and extra columns), for the
 * one that outlives the reader: the sample of previews and checks, the
 * name of --test.  One allocation: free() it.  NULL when out of memory.
 */
struct subscriber *subscriber_copy(const struct subscriber *s);
/* The same into caller memory of subscriber_copy_size(s) bytes (aligned
 * for pointers), for a copy inside a larger allocation. */
size_t subscriber_copy_size(const struct subscriber *s);
struct subscriber *subscriber_copy_to(void *mem, const struct subscriber *s);

#endif
