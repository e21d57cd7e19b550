/*
 * base/hash.c: the one translation unit that inlines xxhash.
 */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "base/hash.h"

uint64_t hash64(const void *buf, size_t len)
{
	return XXH3_64bits(buf, len);
}

uint64_t hash64_seed(const void *buf, size_t len, uint64_t seed)
{
	return XXH3_64bits_withSeed(buf, len, seed);
}

struct hash128 hash128(const void *buf, size_t len)
{
	XXH128_hash_t h = XXH3_128bits(buf, len);
	return (struct hash128){ .low = h.low64, .high = h.high64 };
}

struct hash128_stream {
	XXH3_state_t state;
};

struct hash128_stream *hash128_stream_new(void)
{
	struct hash128_stream *s = (struct hash128_stream *)XXH3_createState();
	if (s)
		XXH3_128bits_reset(&s->state);
	return s;
}

void hash128_stream_update(struct hash128_stream *s, const void *buf, size_t len)
{
	XXH3_128bits_update(&s->state, buf, len);
}

struct hash128 hash128_stream_digest(const struct hash128_stream *s)
{
	XXH128_hash_t h = XXH3_128bits_digest(&s->state);
	return (struct hash128){ .low = h.low64, .high = h.high64 };
}

void hash128_stream_free(struct hash128_stream *s)
{
	XXH3_freeState(&s->state);
}
