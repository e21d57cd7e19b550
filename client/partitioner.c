/*
 * client/partitioner.c: murmur2 and the key -> partition rule of partitioner.h. Owns nothing
 * else: records without a key (round robin, sticky per batch) are the producer's choice.
 */
#include "client/partitioner.h"

#include "base/assert.h"

#define MURMUR2_SEED 0x9747b28cu
#define MURMUR2_M 0x5bd1e995u
#define MURMUR2_R 24

uint32_t partitioner_murmur2(const void *key, size_t len)
{
	const uint8_t *p = key;
	/* Java takes the length as an int: the seed mixes in its low 32 bits. */
	uint32_t h = MURMUR2_SEED ^ (uint32_t)len;
	size_t words = len / 4;
	for (size_t i = 0; i < words; i++, p += 4) {
		uint32_t k = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		             (uint32_t)p[3] << 24;
		k *= MURMUR2_M;
		k ^= k >> MURMUR2_R;
		k *= MURMUR2_M;
		h *= MURMUR2_M;
		h ^= k;
	}
	/* The tail bytes, as Java's switch with fall-through does (written without one: clang's
	 * -Wimplicit-fallthrough does not take gcc's comment). */
	size_t rest = len % 4;
	if (rest >= 3)
		h ^= (uint32_t)p[2] << 16;
	if (rest >= 2)
		h ^= (uint32_t)p[1] << 8;
	if (rest >= 1) {
		h ^= (uint32_t)p[0];
		h *= MURMUR2_M;
	}
	h ^= h >> 13;
	h *= MURMUR2_M;
	h ^= h >> 15;
	return h;
}

int32_t partitioner_by_key(const void *key, size_t len, int32_t partitions)
{
	ASSERT(partitions > 0);
	/* Java's Utils.toPositive: the sign bit cleared, not the absolute value. */
	return (int32_t)((partitioner_murmur2(key, len) & 0x7fffffffu) % (uint32_t)partitions);
}
