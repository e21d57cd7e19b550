/*
 * tests/unit/base/test_hash.c: the XXH3 wrappers (base/hash.h).
 *
 * Known answers come from xxHash's own published sanity vectors (cli/xsum_sanity_check.c:
 * a buffer filled by its fixed generator, hashed at lengths that reach every XXH3 code path),
 * so a wrong build of the header (a bad XXH_INLINE_ALL, a mis-detected vector unit) shows up
 * as a different number. Then every length up to 4 KiB against the header's functions called
 * directly, seeded against unseeded, and the streaming 128-bit digest against the one-shot
 * hash over random split points, including empty updates and digests taken mid-way.
 */
#include "base/hash.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define PRIME32 2654435761u
#define PRIME64 11400714785074694797ull
#define SANITY_BYTES 4096

/* xxHash's XSUM_fillTestBuffer: the published vectors hash prefixes of this buffer. */
static void fill_sanity_buffer(uint8_t *buf, size_t len)
{
	uint64_t gen = PRIME32;
	for (size_t i = 0; i < len; i++) {
		buf[i] = (uint8_t)(gen >> 56);
		gen *= PRIME64;
	}
}

static uint64_t rng_state = 0x13198a2e03707344ull;
static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

Test(hash, empty_string_vector)
{
	cr_assert_eq(hash64("", 0), 0x2D06800538D394C2ull);
	cr_assert_eq(hash64(NULL, 0), 0x2D06800538D394C2ull);
	struct hash128 h = hash128("", 0);
	cr_assert_eq(h.low, 0x6001C324468D497Full);
	cr_assert_eq(h.high, 0x99AA06D3014798D8ull);
}

Test(hash, xxh3_64_published_vectors)
{
	static const struct {
		size_t len;
		uint64_t seed;
		uint64_t want;
	} vec[] = {
		{ 0, 0, 0x2D06800538D394C2ull },    { 0, PRIME64, 0xA8A6B918B2F0364Aull },
		{ 1, 0, 0xC44BDFF4074EECDBull },    { 1, PRIME64, 0x032BE332DD766EF8ull },
		{ 6, 0, 0x27B56A84CD2D7325ull },    { 6, PRIME64, 0x84589C116AB59AB9ull },
		{ 12, 0, 0xA713DAF0DFBB77E7ull },   { 12, PRIME64, 0xE7303E1B2336DE0Eull },
		{ 24, 0, 0xA3FE70BF9D3510EBull },   { 24, PRIME64, 0x850E80FC35BDD690ull },
		{ 48, 0, 0x397DA259ECBA1F11ull },   { 48, PRIME64, 0xADC2CBAA44ACC616ull },
		{ 80, 0, 0xBCDEFBBB2C47C90Aull },   { 80, PRIME64, 0xC6DD0CB699532E73ull },
		{ 195, 0, 0xCD94217EE362EC3Aull },  { 195, PRIME64, 0xBA68003D370CB3D9ull },
		{ 403, 0, 0xCDEB804D65C6DEA4ull },  { 403, PRIME64, 0x6259F6ECFD6443FDull },
		{ 512, 0, 0x617E49599013CB6Bull },  { 512, PRIME64, 0x3CE457DE14C27708ull },
		{ 2048, 0, 0xDD59E2C3A5F038E0ull }, { 2048, PRIME64, 0x66F81670669ABABCull },
		{ 2240, 0, 0x6E73A90539CF2948ull }, { 2240, PRIME64, 0x757BA8487D1B5247ull },
		{ 2367, 0, 0xCB37AEB9E5D361EDull }, { 2367, PRIME64, 0xD2DB3415B942B42Aull },
	};
	uint8_t *buf = malloc(SANITY_BYTES);
	cr_assert_not_null(buf);
	fill_sanity_buffer(buf, SANITY_BYTES);
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		cr_assert_eq(hash64_seed(buf, vec[i].len, vec[i].seed), vec[i].want,
		             "len %zu seed %llx", vec[i].len, (unsigned long long)vec[i].seed);
		if (vec[i].seed == 0)
			cr_assert_eq(hash64(buf, vec[i].len), vec[i].want, "len %zu", vec[i].len);
	}
	free(buf);
}

Test(hash, xxh3_128_published_vectors)
{
	static const struct {
		size_t len;
		uint64_t low, high;
	} vec[] = {
		{ 0, 0x6001C324468D497Full, 0x99AA06D3014798D8ull },
		{ 1, 0xC44BDFF4074EECDBull, 0xA6CD5E9392000F6Aull },
		{ 6, 0x3E7039BDDA43CFC6ull, 0x082AFE0B8162D12Aull },
		{ 12, 0x061A192713F69AD9ull, 0x6E3EFD8FC7802B18ull },
		{ 24, 0x1E7044D28B1B901Dull, 0x0CE966E4678D3761ull },
		{ 48, 0xF942219AED80F67Bull, 0xA002AC4E5478227Eull },
		{ 81, 0x5E8BAFB9F95FB803ull, 0x4952F58181AB0042ull },
		{ 222, 0xF1AEBD597CEC6B3Aull, 0x337E09641B948717ull },
		{ 403, 0xCDEB804D65C6DEA4ull, 0x1B6DE21E332DD73Dull },
		{ 512, 0x617E49599013CB6Bull, 0x18D2D110DCC9BCA1ull },
		{ 2048, 0xDD59E2C3A5F038E0ull, 0xF736557FD47073A5ull },
		{ 2240, 0x6E73A90539CF2948ull, 0xCCB134FBFA7CE49Dull },
		{ 2367, 0xCB37AEB9E5D361EDull, 0xE89C0F6FF369B427ull },
	};
	uint8_t *buf = malloc(SANITY_BYTES);
	cr_assert_not_null(buf);
	fill_sanity_buffer(buf, SANITY_BYTES);
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		struct hash128 h = hash128(buf, vec[i].len);
		cr_assert_eq(h.low, vec[i].low, "len %zu", vec[i].len);
		cr_assert_eq(h.high, vec[i].high, "len %zu", vec[i].len);

		struct hash128_stream *s = hash128_stream_new();
		cr_assert_not_null(s);
		hash128_stream_update(s, buf, vec[i].len);
		struct hash128 d = hash128_stream_digest(s);
		cr_assert_eq(d.low, vec[i].low, "stream len %zu", vec[i].len);
		cr_assert_eq(d.high, vec[i].high, "stream len %zu", vec[i].len);
		hash128_stream_free(s);
	}
	free(buf);
}

Test(hash, agrees_with_the_header_at_every_length)
{
	enum { MAX = 4096 };
	uint8_t *buf = malloc(MAX + 8);
	cr_assert_not_null(buf);
	for (size_t i = 0; i < MAX + 8; i++)
		buf[i] = (uint8_t)rng();
	for (size_t len = 0; len <= MAX; len++) {
		const uint8_t *p = buf + (len & 7); /* unaligned starts too */
		cr_assert_eq(hash64(p, len), XXH3_64bits(p, len), "len %zu", len);
		uint64_t seed = rng();
		cr_assert_eq(hash64_seed(p, len, seed), XXH3_64bits_withSeed(p, len, seed));
		XXH128_hash_t want = XXH3_128bits(p, len);
		struct hash128 h = hash128(p, len);
		cr_assert_eq(h.low, want.low64, "len %zu", len);
		cr_assert_eq(h.high, want.high64, "len %zu", len);
	}
	free(buf);
}

Test(hash, seed_changes_the_hash)
{
	uint8_t buf[1024];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rng();
	size_t lens[] = { 0, 1, 3, 4, 8, 9, 16, 17, 128, 129, 240, 241, 1024 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t len = lens[i];
		/* Seed 0 is the unseeded hash, as XXH3 defines it. */
		cr_assert_eq(hash64_seed(buf, len, 0), hash64(buf, len), "len %zu", len);
		cr_assert_neq(hash64_seed(buf, len, 1), hash64(buf, len), "len %zu", len);
		cr_assert_neq(hash64_seed(buf, len, 1), hash64_seed(buf, len, 2), "len %zu", len);
		cr_assert_neq(hash64_seed(buf, len, PRIME64), hash64(buf, len), "len %zu", len);
	}
	/* One flipped bit changes the hash (not a proof of quality, a check the input is read). */
	uint64_t h = hash64(buf, sizeof(buf));
	buf[sizeof(buf) - 1] ^= 1;
	cr_assert_neq(hash64(buf, sizeof(buf)), h);
}

Test(hash, stream_equals_one_shot_at_random_splits)
{
	enum { MAX = 70000 };
	uint8_t *buf = malloc(MAX);
	cr_assert_not_null(buf);
	for (size_t i = 0; i < MAX; i++)
		buf[i] = (uint8_t)rng();
	for (int round = 0; round < 300; round++) {
		/* Mostly short inputs (where XXH3 switches paths), sometimes many blocks. */
		size_t len = round % 3 ? (size_t)(rng() % 2500) : (size_t)(rng() % MAX);
		struct hash128 want = hash128(buf, len);
		struct hash128_stream *s = hash128_stream_new();
		cr_assert_not_null(s);
		size_t pos = 0;
		while (pos < len) {
			size_t piece = (size_t)(rng() % 4 == 0 ? rng() % 4 : rng() % (len + 1));
			if (piece > len - pos)
				piece = len - pos;
			hash128_stream_update(s, buf + pos, piece);
			pos += piece;
			if (rng() % 8 == 0) {
				/* A digest mid-way is the hash of the prefix and changes nothing.
				 */
				struct hash128 mid = hash128_stream_digest(s);
				struct hash128 pre = hash128(buf, pos);
				cr_assert_eq(mid.low, pre.low, "prefix %zu", pos);
				cr_assert_eq(mid.high, pre.high, "prefix %zu", pos);
			}
		}
		struct hash128 got = hash128_stream_digest(s);
		cr_assert_eq(got.low, want.low, "round %d len %zu", round, len);
		cr_assert_eq(got.high, want.high, "round %d len %zu", round, len);
		got = hash128_stream_digest(s);
		cr_assert_eq(got.low, want.low, "a second digest is the same");
		hash128_stream_free(s);
	}
	free(buf);
}

Test(hash, stream_byte_by_byte_and_empty)
{
	uint8_t buf[600];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rng();
	struct hash128_stream *s = hash128_stream_new();
	cr_assert_not_null(s);
	struct hash128 empty = hash128_stream_digest(s);
	cr_assert_eq(empty.low, 0x6001C324468D497Full);
	cr_assert_eq(empty.high, 0x99AA06D3014798D8ull);
	for (size_t i = 0; i < sizeof(buf); i++) {
		hash128_stream_update(s, buf + i, 1);
		hash128_stream_update(s, buf, 0);
	}
	struct hash128 got = hash128_stream_digest(s);
	struct hash128 want = hash128(buf, sizeof(buf));
	cr_assert_eq(got.low, want.low);
	cr_assert_eq(got.high, want.high);
	hash128_stream_free(s);
}
