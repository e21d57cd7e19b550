/*
 * base/arena.h: a bump allocator with a byte limit, for memory that lives exactly as long as
 * one request. Decoders allocate their arrays here; the whole arena is freed (or reset for
 * the next request) in one step when the response has been sent.
 *
 * The limit bounds what one request can make the broker allocate, whatever its counts say;
 * decoders additionally check each count against the bytes left in the frame before
 * allocating. Allocations are 8-byte aligned and zeroed.
 */
#ifndef TAPE_BASE_ARENA_H
#define TAPE_BASE_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *chunks; /* owned; newest first */
	size_t used;                /* bytes handed out since the last reset */
	size_t limit;               /* allocations past this fail */
};

void arena_init(struct arena *a, size_t limit);
/* size bytes, zeroed, 8-aligned; NULL when over the limit or out of memory. */
void *arena_alloc(struct arena *a, size_t size);
/* n * size bytes with the multiplication checked. */
void *arena_array(struct arena *a, size_t n, size_t size);
/* Forgets every allocation; keeps one chunk for reuse. */
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

#endif
