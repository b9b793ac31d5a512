/* Recipients' work and the retry heap (job.h). */
#include "send/job.h"

#include <stdlib.h>
#include <string.h>

#define HEAP_MAX ((size_t)1 << 24)	/* deferred jobs waiting (lists/'
					 * ADDRSET_MAX) */

static size_t
slen(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static char *
put(char **p, const char *s)
{
	char *r;
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	r = memcpy(*p, s, n);
	*p += n;
	return r;
}

/* One allocation: the job, the two pointer arrays, then the strings. */
struct job *
job_new(const struct subscriber *s)
{
	size_t n = sizeof(struct job), i, nx = s->nextra;
	struct job *j;
	const char **keys, **vals;
	char *p;

	n += 2 * nx * sizeof(char *);
	n += slen(s->email) + slen(s->name) + slen(s->file);
	for (i = 0; i < nx; i++)
		n += slen(s->extra_keys[i]) + slen(s->extra_values[i]);
	j = malloc(n);
	if (!j)
		return NULL;
	memset(j, 0, sizeof *j);
	keys = (const char **)(void *)(j + 1);
	vals = keys + nx;
	p = (char *)(vals + nx);
	j->s.email = put(&p, s->email);
	j->s.name = put(&p, s->name);
	j->s.file = put(&p, s->file);
	j->s.line = s->line;
	j->s.nextra = nx;
	for (i = 0; i < nx; i++) {
		keys[i] = put(&p, s->extra_keys[i]);
		vals[i] = put(&p, s->extra_values[i]);
	}
	j->s.extra_keys = keys;
	j->s.extra_values = vals;
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
