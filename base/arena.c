/*
 * base/arena.c: see arena.h. Chunks grow geometrically from 4 KiB; a request that needs more
 * than a chunk gets a chunk of its own size.
 */
#include "base/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN 4096

struct arena_chunk {
	struct arena_chunk *next;
	size_t size; /* bytes of data after the header */
	size_t used;
	max_align_t data[];
};

void arena_init(struct arena *a, size_t limit)
{
	a->chunks = NULL;
	a->used = 0;
	a->limit = limit;
}

void *arena_alloc(struct arena *a, size_t size)
{
	size = (size + 7) & ~(size_t)7;
	if (size > a->limit - a->used || a->used > a->limit)
		return NULL;
	struct arena_chunk *c = a->chunks;
	if (!c || c->size - c->used < size) {
		size_t want = c ? c->size * 2 : CHUNK_MIN;
		if (want < size)
			want = size;
		c = malloc(sizeof(*c) + want);
		if (!c)
			return NULL;
		c->size = want;
		c->used = 0;
		c->next = a->chunks;
		a->chunks = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += size;
	a->used += size;
	memset(p, 0, size);
	return p;
}

void *arena_array(struct arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	size_t total = n * size;
	return arena_alloc(a, total ? total : 8);
}

void arena_reset(struct arena *a)
{
	if (!a->chunks)
		return;
	/* Keep the newest (largest) chunk. */
	struct arena_chunk *keep = a->chunks;
	struct arena_chunk *c = keep->next;
	while (c) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	keep->next = NULL;
	keep->used = 0;
	a->chunks = keep;
	a->used = 0;
}

void arena_free(struct arena *a)
{
	arena_reset(a);
	free(a->chunks);
	a->chunks = NULL;
}
