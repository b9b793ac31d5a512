/*
 * value.h - the data that templates see: a small tree of null, booleans,
 * strings, lists and maps (the Mustache "context"), allocated from an arena.
 *
 * Ownership: every value, key and string made through a struct tv_arena
 * belongs to that arena and is freed only by tv_arena_free() (or recycled by
 * tv_arena_reset()).  Values never point into memory they do not own unless
 * made with tv_strref(), whose bytes the caller keeps alive.
 *
 * Errors: constructors return NULL when out of memory or when the arena's
 * cap is reached; setters return -1.  Callers treat both as NL_ENOMEM.
 *
 * Maps keep insertion order and look keys up linearly: they are small
 * (an issue has tens of keys) and order makes output deterministic.
 * Setting an existing key replaces its value.
 */
#ifndef NL_VALUE_H
#define NL_VALUE_H

#include <stdbool.h>
#include <stddef.h>

enum tv_type { TV_NULL, TV_BOOL, TV_STR, TV_LIST, TV_MAP };

struct tv;

struct tv_pair {
	const char *key;
	size_t klen;
	struct tv *val;
};

struct tv {
	enum tv_type type;
	bool b;			/* TV_BOOL */
	const char *s;		/* TV_STR: NUL-terminated, length slen */
	size_t slen;
	struct tv **items;	/* TV_LIST */
	struct tv_pair *pairs;	/* TV_MAP */
	size_t n;		/* items or pairs in use */
	size_t cap;
};

struct tv_chunk;
struct tv_arena {
	struct tv_chunk *head;
	size_t used;		/* bytes handed out, for the cap */
	size_t max;
};

void tv_arena_init(struct tv_arena *a, size_t max);	/* 0: 256 MiB */
void tv_arena_free(struct tv_arena *a);
/* Forget every value but keep the first chunk for reuse (hot loops). */
void tv_arena_reset(struct tv_arena *a);
void *tv_alloc(struct tv_arena *a, size_t n);	/* 16-byte aligned */
char *tv_strndup(struct tv_arena *a, const char *s, size_t n);

struct tv *tv_null(struct tv_arena *a);
struct tv *tv_bool(struct tv_arena *a, bool b);
/* Copies s[0..n). */
struct tv *tv_str(struct tv_arena *a, const char *s, size_t n);
struct tv *tv_strz(struct tv_arena *a, const char *s);	/* s may be NULL: "" */
/* Does not copy: s must outlive the arena's use of the value. */
struct tv *tv_strref(struct tv_arena *a, const char *s, size_t n);
struct tv *tv_list(struct tv_arena *a);
struct tv *tv_map(struct tv_arena *a);

int tv_list_push(struct tv_arena *a, struct tv *list, struct tv *item);
/* Key is copied.  Replaces the value when the key exists. */
int tv_map_set(struct tv_arena *a, struct tv *map, const char *key,
	       struct tv *val);
int tv_map_setn(struct tv_arena *a, struct tv *map, const char *key,
		size_t klen, struct tv *val);
/* Shorthands: set a string (copied) / a boolean. */
int tv_map_sets(struct tv_arena *a, struct tv *map, const char *key,
		const char *s);
int tv_map_setb(struct tv_arena *a, struct tv *map, const char *key, bool b);

/* NULL when absent or when map is not a map. */
struct tv *tv_map_get(const struct tv *map, const char *key, size_t klen);

/* Mustache truthiness (the spec's `!!data`): null, false, "" and [] are
 * false; everything else, empty maps included, is true.  Templates rely on
 * it: "{{#subscriber.name}}" skips an empty name. */
bool tv_truthy(const struct tv *v);

#endif
