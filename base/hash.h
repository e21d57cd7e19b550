/*
 * base/hash.h: XXH3, the project's own hash (hash tables, checkpoint checksums, segment
 * digests). Built from xxhash's header with XXH_INLINE_ALL in hash.c, so nothing depends on
 * which libxxhash.so is installed. Speed is not the reason: bench/base_micro measures the
 * inlined code and Debian's shared libxxhash alike on 64 MiB (7.5-12.5 GB/s, SSE2 in both,
 * ratio 0.9-1.1) and 2.9 against 3.7 ns on a 16-byte key, on this machine's kind.
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
