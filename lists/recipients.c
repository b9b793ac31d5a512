/* The recipients of a run (recipients.h). */
#include "lists/recipients.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/addrkey.h"

int
recipients_open(struct recipients *rc, const char *const *paths, size_t n,
		list_warn_fn warn, void *warn_arg, recipients_filter_fn filter,
		void *filter_arg, struct nl_err *err)
{
	memset(rc, 0, sizeof *rc);
	rc->filter = filter;
	rc->filter_arg = filter_arg;
	return lists_open(paths, n, warn, warn_arg, &rc->l, err);
}

int
recipients_next(struct recipients *rc, struct subscriber *s,
		struct nl_err *err)
{
	int got, yes;

	while ((got = lists_next(rc->l, s, err)) == 1) {
		if (rc->nshards > 1 &&
		    recipients_shard_of(s->email, rc->nshards) != rc->shard) {
			rc->other_shards++;
			continue;
		}
		if (!rc->filter)
			return 1;
		if (rc->filter(rc->filter_arg, s->email, &yes, err))
			return -1;
		if (!yes)
			return 1;
		rc->filtered++;
	}
	return got;
}

unsigned
recipients_shard_of(const char *email, unsigned n)
{
	char key[ADDR_KEY_MAX + 1];
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a offset basis */
	const unsigned char *p;

	if (addr_key(email, key) < 0)
		key[0] = '\0';
	for (p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;		/* FNV prime */
	}
	return n ? (unsigned)(h % n) + 1 : 1;
}

void
recipients_shard(struct recipients *rc, unsigned k, unsigned n)
{
	rc->shard = k;
	rc->nshards = n;
}

void
recipients_close(struct recipients *rc)
{
	lists_close(rc->l);
	rc->l = NULL;
}

size_t
subscriber_copy_size(const struct subscriber *s)
{
	size_t n = sizeof *s + strlen(s->email) + 1 +
		   strlen(s->name ? s->name : "") + 1 +
		   strlen(s->file ? s->file : "") + 1 +
		   2 * s->nextra * sizeof(char *), i;

	for (i = 0; i < s->nextra; i++)
		n += strlen(s->extra_keys[i]) + 1 +
		     strlen(s->extra_values[i]) + 1;
	return n;
}

static char *
put(char **p, const char *str)
{
	size_t n = strlen(str) + 1;
	char *d = *p;

	memcpy(d, str, n);
	*p += n;
	return d;
}

struct subscriber *
subscriber_copy_to(void *mem, const struct subscriber *s)
{
	struct subscriber *c = mem;
	const char **keys, **vals;
	char *p;
	size_t i;

	*c = *s;
	keys = (const char **)(void *)(c + 1);
	vals = keys + s->nextra;
	p = (char *)(vals + s->nextra);
	c->email = put(&p, s->email);
	c->name = put(&p, s->name ? s->name : "");
	c->file = put(&p, s->file ? s->file : "");
	for (i = 0; i < s->nextra; i++) {
		keys[i] = put(&p, s->extra_keys[i]);
		vals[i] = put(&p, s->extra_values[i]);
	}
	c->extra_keys = s->nextra ? keys : NULL;
	c->extra_values = s->nextra ? vals : NULL;
	return c;
}

struct subscriber *
subscriber_copy(const struct subscriber *s)
{
	void *mem = malloc(subscriber_copy_size(s));

	return mem ? subscriber_copy_to(mem, s) : NULL;
}
