/*
 * base/hash.h: XXH3, the project's own hash (hash tables, checkpoint checksums, segment
 * digests). Built from xxhash's header with XXH_INLINE_ALL in hash.c: Debian's shared
 * libxxhash runs XXH3 about 10x slower than the inlined code on this machine's kind.
 */
#ifndef TAPE_BASE_HASH_H
#define TAPE_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

struct hash128 {
	uint64_t low;
	uint64_t high;
};

uint64_t hash64(const void *buf, size_t len);
uint64_t hash64_seed(const void *buf, size_t len, uint64_t seed);
struct hash128 hash128(const void *buf, size_t len);

/* Streaming XXH3-128 for data that arrives in pieces (segment digests). */
struct hash128_stream;
struct hash128_stream *hash128_stream_new(void); /* NULL when out of memory */
void hash128_stream_update(struct hash128_stream *s, const void *buf, size_t len);
struct hash128 hash128_stream_digest(const struct hash128_stream *s);
void hash128_stream_free(struct hash128_stream *s);

#endif
