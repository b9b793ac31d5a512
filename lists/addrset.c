#include "lists/addrset.h"
#include "util/addrkey.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Pool references are 32 bits: chunk index << CHUNK_BITS | offset.  A slot
 * holds reference + 1 so that 0 means empty.  Entries never straddle two
 * chunks (the tail of a chunk that cannot hold the next entry is wasted:
 * at most ADDRSET_MAXLEN bytes of CHUNK_SIZE).
 */
#define CHUNK_BITS 18
#define CHUNK_SIZE ((size_t)1 << CHUNK_BITS)	/* 256 KiB */
#define CHUNK_MAX (ADDRSET_POOL_MAX / CHUNK_SIZE)
#define SLOTS_MIN 64

struct addrset {
	uint32_t *slots;
	size_t nslots;		/* a power of two */
	size_t count;
	unsigned char **chunks;
	size_t nchunks, chunkcap;
	size_t used;		/* bytes used in the last chunk */
};

/* A 64-bit multiply-xorshift hash over 8-byte words (splitmix64's
 * constants); lists are the operator's own data, so no seed is needed
 * against flooding, and a fixed hash keeps runs reproducible. */
static uint64_t
hash(const unsigned char *p, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15u ^ ((uint64_t)n * 0xff51afd7ed558ccdu);
	uint64_t w;

	while (n >= 8) {
		memcpy(&w, p, 8);
		h ^= w;
		h *= 0xbf58476d1ce4e5b9u;
		h ^= h >> 29;
		p += 8;
		n -= 8;
	}
	w = 0;
	if (n)
		memcpy(&w, p, n);
	h ^= w;
	h *= 0x94d049bb133111ebu;
	h ^= h >> 32;
	h *= 0xbf58476d1ce4e5b9u;
	h ^= h >> 29;
	return h;
}

static const unsigned char *
entry(const struct addrset *s, uint32_t ref)
{
	return s->chunks[ref >> CHUNK_BITS] + (ref & (CHUNK_SIZE - 1));
}

/* addr's key (util/addrkey.h) into low; its length, or (size_t)-1 when
 * too long. */
static size_t
lower(const char *addr, unsigned char *low)
{
	char key[ADDR_KEY_MAX + 1];
	int n = addr_key(addr, key);

	if (n < 0)
		return (size_t)-1;
	memcpy(low, key, (size_t)n);
	return (size_t)n;
}

/* The slot holding low[0..n), or the empty slot where it would go; sets
 * *found. */
static size_t
probe(const struct addrset *s, const unsigned char *low, size_t n,
      uint64_t h, int *found)
{
	size_t mask = s->nslots - 1, i = (size_t)h & mask;
	const unsigned char *e;

	for (;; i = (i + 1) & mask) {
		if (!s->slots[i]) {
			*found = 0;
			return i;
		}
		e = entry(s, s->slots[i] - 1);
		if (e[0] == n && memcmp(e + 1, low, n) == 0) {
			*found = 1;
			return i;
		}
	}
}

static int
grow(struct addrset *s)
{
	size_t nslots = s->nslots * 2, mask = nslots - 1, i, j;
	uint32_t *slots;
	const unsigned char *e;

	slots = calloc(nslots, sizeof *slots);
	if (!slots) {
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < s->nslots; i++) {
		if (!s->slots[i])
			continue;
		e = entry(s, s->slots[i] - 1);
		j = (size_t)hash(e + 1, e[0]) & mask;
		while (slots[j])
			j = (j + 1) & mask;
		slots[j] = s->slots[i];
	}
	free(s->slots);
	s->slots = slots;
	s->nslots = nslots;
	return 0;
}

/* Make room for an entry of need bytes; on failure the set is unchanged. */
static int
reserve(struct addrset *s, size_t need)
{
	unsigned char **cs, *c;
	size_t cap;

	if (s->nchunks && s->used + need <= CHUNK_SIZE)
		return 0;
	if (s->nchunks == CHUNK_MAX) {
		errno = E2BIG;
		return -1;
	}
	if (s->nchunks == s->chunkcap) {
		cap = s->chunkcap ? s->chunkcap * 2 : 8;
		cs = realloc(s->chunks, cap * sizeof *cs);
		if (!cs) {
			errno = ENOMEM;
			return -1;
		}
		s->chunks = cs;
		s->chunkcap = cap;
	}
	c = malloc(CHUNK_SIZE);
	if (!c) {
		errno = ENOMEM;
		return -1;
	}
	s->chunks[s->nchunks++] = c;
	s->used = 0;
	return 0;
}

struct addrset *
addrset_new(void)
{
	struct addrset *s;

	s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->slots = calloc(SLOTS_MIN, sizeof *s->slots);
	if (!s->slots) {
		free(s);
		return NULL;
	}
	s->nslots = SLOTS_MIN;
	return s;
}

int
addrset_add(struct addrset *s, const char *addr)
{
	unsigned char low[ADDRSET_MAXLEN + 1];
	size_t n, i;
	uint64_t h;
	uint32_t ref;
	unsigned char *e;
	int found;

	n = lower(addr, low);
	if (n == (size_t)-1) {
		errno = EINVAL;
		return -1;
	}
	h = hash(low, n);
	i = probe(s, low, n, h, &found);
	if (found)
		return 0;
	if (s->count == ADDRSET_MAX) {
		errno = E2BIG;
		return -1;
	}
	/* At most half full: linear probing then averages 2.5 probes for a
	 * new address (Knuth, TAOCP 6.4), each one a pool read. */
	if ((s->count + 1) * 2 > s->nslots) {
		if (grow(s))
			return -1;
		i = probe(s, low, n, h, &found);
	}
	if (reserve(s, n + 1))
		return -1;
	ref = (uint32_t)((s->nchunks - 1) << CHUNK_BITS | s->used);
	e = s->chunks[s->nchunks - 1] + s->used;
	e[0] = (unsigned char)n;
	memcpy(e + 1, low, n);
	s->used += n + 1;
	s->slots[i] = ref + 1;
	s->count++;
	return 1;
}

int
addrset_has(const struct addrset *s, const char *addr)
{
	unsigned char low[ADDRSET_MAXLEN + 1];
	size_t n;
	int found;

	n = lower(addr, low);
	if (n == (size_t)-1)
		return 0;
	probe(s, low, n, hash(low, n), &found);
	return found;
}

size_t
addrset_count(const struct addrset *s)
{
	return s->count;
}

size_t
addrset_bytes(const struct addrset *s)
{
	return sizeof *s + s->nslots * sizeof *s->slots +
	       s->nchunks * CHUNK_SIZE + s->chunkcap * sizeof *s->chunks;
}

void
addrset_free(struct addrset *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nchunks; i++)
		free(s->chunks[i]);
	free(s->chunks);
	free(s->slots);
	free(s);
}
