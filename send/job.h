/*
 * job.h - one recipient's work in a delivery run, and the heap of those
 * waiting for a retry.
 *
 * A job is a deep copy of the subscriber that src->next yielded (that copy
 * dies at the next call), so that a retry can compose the message again;
 * it is one allocation: free() it.
 *
 * The heap orders jobs by not_before (monotonic seconds), earliest first;
 * it owns the jobs pushed on it until they are popped (heap_free frees
 * them).  Its cap (2^24 jobs, lists/' de-duplication cap) makes
 * heap_push fail rather than grow without bound.
 */
#ifndef NL_JOB_H
#define NL_JOB_H

#include <stddef.h>

#include "lists/list.h"

struct job {
	struct subscriber s;
	int attempts;		/* transactions begun in this run */
	int marked;		/* in flight in the journal, this attempt */
	int route;		/* the relay that has it (route.h) */
	int last_route;		/* the one that deferred it; -1: none */
	double not_before;	/* monotonic: backoff */
};

struct heap {
	struct job **v;
	size_t n, cap;
};

/* A zeroed job holding a copy of s; NULL when out of memory. */
struct job *job_new(const struct subscriber *s);

/* 0, or -1 (out of memory, or the cap): the job is then still the
 * caller's. */
int heap_push(struct heap *h, struct job *j);
/* The earliest job, or NULL when empty; it is the caller's again. */
struct job *heap_pop(struct heap *h);
/* Free every job left and the storage; h is empty and usable again. */
void heap_free(struct heap *h);

#endif
