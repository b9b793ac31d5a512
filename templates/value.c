#include "templates/value.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE ((size_t)64 << 10)

struct tv_chunk {
	struct tv_chunk *next;
	size_t size;
	size_t used;
	_Alignas(16) unsigned char mem[];
};

void
tv_arena_init(struct tv_arena *a, size_t max)
{
	a->head = NULL;
	a->used = 0;
	a->max = max ? max : ((size_t)256 << 20);
}

void
tv_arena_free(struct tv_arena *a)
{
	struct tv_chunk *c, *next;

	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
	a->used = 0;
}

void
tv_arena_reset(struct tv_arena *a)
{
	struct tv_chunk *c, *next;

	if (!a->head)
		return;
	/* Keep the oldest chunk: it is the one a steady loop refills. */
	for (c = a->head; c->next; c = next) {
		next = c->next;
		free(c);
	}
	a->head = c;
	c->used = 0;
	a->used = 0;
}

void *
tv_alloc(struct tv_arena *a, size_t n)
{
	struct tv_chunk *c;
	size_t size;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n > a->max || a->used > a->max - n)
		return NULL;
	c = a->head;
	if (!c || c->size - c->used < n) {
		size = n > CHUNK_SIZE ? n : CHUNK_SIZE;
		c = malloc(sizeof *c + size);
		if (!c)
			return NULL;
		c->size = size;
		c->used = 0;
		if (a->head && n > CHUNK_SIZE) {
			/* A big one-off goes behind the head, which stays
			 * the chunk that small allocations fill. */
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	p = c->mem + c->used;
	c->used += n;
	a->used += n;
	return p;
}

char *
tv_strndup(struct tv_arena *a, const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX)
		return NULL;
	p = tv_alloc(a, n + 1);
	if (!p)
		return NULL;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static struct tv *
mk(struct tv_arena *a, enum tv_type t)
{
	struct tv *v = tv_alloc(a, sizeof *v);

	if (!v)
		return NULL;
	memset(v, 0, sizeof *v);
	v->type = t;
	return v;
}

struct tv *
tv_null(struct tv_arena *a)
{
	return mk(a, TV_NULL);
}

struct tv *
tv_bool(struct tv_arena *a, bool b)
{
	struct tv *v = mk(a, TV_BOOL);

	if (v)
		v->b = b;
	return v;
}

struct tv *
tv_str(struct tv_arena *a, const char *s, size_t n)
{
	struct tv *v = mk(a, TV_STR);

	if (!v)
		return NULL;
	v->s = tv_strndup(a, s ? s : "", s ? n : 0);
	if (!v->s)
		return NULL;
	v->slen = s ? n : 0;
	return v;
}

struct tv *
tv_strz(struct tv_arena *a, const char *s)
{
	return tv_str(a, s ? s : "", s ? strlen(s) : 0);
}

struct tv *
tv_strref(struct tv_arena *a, const char *s, size_t n)
{
	struct tv *v = mk(a, TV_STR);

	if (!v)
		return NULL;
	v->s = s;
	v->slen = n;
	return v;
}

struct tv *
tv_list(struct tv_arena *a)
{
	return mk(a, TV_LIST);
}

struct tv *
tv_map(struct tv_arena *a)
{
	return mk(a, TV_MAP);
}

/* Grow an arena array of elem-sized slots; the old block is abandoned to
 * the arena, which is cheap because lists and maps here are short. */
static void *
grow(struct tv_arena *a, void *old, size_t n, size_t *cap, size_t elem)
{
	size_t ncap = *cap ? *cap * 2 : 8;
	void *p;

	if (ncap > SIZE_MAX / elem)
		return NULL;
	p = tv_alloc(a, ncap * elem);
	if (!p)
		return NULL;
	if (n)
		memcpy(p, old, n * elem);
	*cap = ncap;
	return p;
}

int
tv_list_push(struct tv_arena *a, struct tv *list, struct tv *item)
{
	struct tv **items;

	if (!list || list->type != TV_LIST || !item)
		return -1;
	if (list->n == list->cap) {
		items = grow(a, list->items, list->n, &list->cap, sizeof *items);
		if (!items)
			return -1;
		list->items = items;
	}
	list->items[list->n++] = item;
	return 0;
}

struct tv *
tv_map_get(const struct tv *map, const char *key, size_t klen)
{
	size_t i;

	if (!map || map->type != TV_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (map->pairs[i].klen == klen &&
		    memcmp(map->pairs[i].key, key, klen) == 0)
			return map->pairs[i].val;
	return NULL;
}

int
tv_map_setn(struct tv_arena *a, struct tv *map, const char *key, size_t klen,
	    struct tv *val)
{
	struct tv_pair *pairs;
	size_t i;

	if (!map || map->type != TV_MAP || !val)
		return -1;
	for (i = 0; i < map->n; i++) {
		if (map->pairs[i].klen == klen &&
		    memcmp(map->pairs[i].key, key, klen) == 0) {
			map->pairs[i].val = val;
			return 0;
		}
	}
	if (map->n == map->cap) {
		pairs = grow(a, map->pairs, map->n, &map->cap, sizeof *pairs);
		if (!pairs)
			return -1;
		map->pairs = pairs;
	}
	map->pairs[map->n].key = tv_strndup(a, key, klen);
	if (!map->pairs[map->n].key)
		return -1;
	map->pairs[map->n].klen = klen;
	map->pairs[map->n].val = val;
	map->n++;
	return 0;
}

int
tv_map_set(struct tv_arena *a, struct tv *map, const char *key, struct tv *val)
{
	return tv_map_setn(a, map, key, strlen(key), val);
}

int
tv_map_sets(struct tv_arena *a, struct tv *map, const char *key, const char *s)
{
	return tv_map_set(a, map, key, tv_strz(a, s));
}

int
tv_map_setb(struct tv_arena *a, struct tv *map, const char *key, bool b)
{
	return tv_map_set(a, map, key, tv_bool(a, b));
}

bool
tv_truthy(const struct tv *v)
{
	if (!v)
		return false;
	switch (v->type) {
	case TV_NULL:
		return false;
	case TV_BOOL:
		return v->b;
	case TV_STR:
		return v->slen > 0;
	case TV_LIST:
		return v->n > 0;
	case TV_MAP:
		return true;
	}
	return false;
}
