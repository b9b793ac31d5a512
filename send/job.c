/* Recipients' work and the retry heap (job.h). */
#include "send/job.h"

#include "lists/recipients.h"

#include <stdlib.h>
#include <string.h>

#define HEAP_MAX ((size_t)1 << 24)	/* deferred jobs waiting (lists/'
					 * ADDRSET_MAX) */

/* One allocation: the job, then the subscriber's copy (lists/). */
struct job *
job_new(const struct subscriber *s)
{
	struct job *j = malloc(sizeof *j + subscriber_copy_size(s));

	if (!j)
		return NULL;
	memset(j, 0, sizeof *j);
	j->last_route = -1;
	j->s = *subscriber_copy_to(j + 1, s);
	return j;
}

int
heap_push(struct heap *h, struct job *j)
{
	size_t i, p;

	if (h->n >= HEAP_MAX)
		return -1;
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct job **v = realloc(h->v, cap * sizeof *v);
		if (!v)
			return -1;
		h->v = v;
		h->cap = cap;
	}
	i = h->n++;
	while (i > 0) {
		p = (i - 1) / 2;
		if (h->v[p]->not_before <= j->not_before)
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = j;
	return 0;
}

struct job *
heap_pop(struct heap *h)
{
	struct job *top, *last;
	size_t i = 0, c;

	if (!h->n)
		return NULL;
	top = h->v[0];
	last = h->v[--h->n];
	while ((c = 2 * i + 1) < h->n) {
		if (c + 1 < h->n && h->v[c + 1]->not_before < h->v[c]->not_before)
			c++;
		if (last->not_before <= h->v[c]->not_before)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

void
heap_free(struct heap *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		free(h->v[i]);
	free(h->v);
	memset(h, 0, sizeof *h);
}
