/*
 * tests/unit/base/test_varint.c: varint encoding and decoding (base/varint.h).
 *
 * Covers every length boundary (0, 127, 128, 16383, 16384, ..., the type's extremes) against
 * hand-written byte strings; the zig-zag mapping; round trips of random values of every bit
 * width; that every proper prefix of a valid encoding is "need more" (0); that encodings too
 * long or overflowing the type are malformed (-1) however much input follows; and that
 * varint_size_* agrees with the encoders. Encodings are decoded from heap buffers of exactly
 * their length, so an ASan build catches a decoder that reads one byte too many.
 */
#include "base/varint.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* A fixed-seed generator so that a failure reproduces. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* A random value whose bit width is itself random, so every encoded length is common. */
static uint64_t rng_any_width(void)
{
	unsigned bits = (unsigned)(rng() % 65);
	return bits == 64 ? rng() : rng() & ((1ull << bits) - 1);
}

/* Decodes from a heap copy of exactly len bytes: ASan reports any read past it. */
static int decode_u32_exact(const uint8_t *src, size_t len, uint32_t *out)
{
	uint8_t *copy = malloc(len ? len : 1);
	cr_assert_not_null(copy);
	memcpy(copy, src, len);
	int n = varint_decode_u32(copy, len, out);
	free(copy);
	return n;
}

static int decode_u64_exact(const uint8_t *src, size_t len, uint64_t *out)
{
	uint8_t *copy = malloc(len ? len : 1);
	cr_assert_not_null(copy);
	memcpy(copy, src, len);
	int n = varint_decode_u64(copy, len, out);
	free(copy);
	return n;
}

/* Every shorter prefix of a complete encoding must ask for more input, never succeed. */
static void assert_prefixes_need_more(const uint8_t *enc, size_t len)
{
	for (size_t k = 0; k < len; k++) {
		uint32_t v32 = 0xdeadbeef;
		uint64_t v64 = 0xdeadbeefdeadbeefull;
		if (len <= VARINT32_BYTES_MAX) {
			cr_assert_eq(decode_u32_exact(enc, k, &v32), 0, "u32 prefix %zu of %zu", k,
			             len);
			cr_assert_eq(v32, 0xdeadbeef, "output written on a short read");
		}
		cr_assert_eq(decode_u64_exact(enc, k, &v64), 0, "u64 prefix %zu of %zu", k, len);
		cr_assert_eq(v64, 0xdeadbeefdeadbeefull, "output written on a short read");
	}
}

struct u64_case {
	uint64_t v;
	size_t len;
	uint8_t bytes[VARINT64_BYTES_MAX];
};

static const struct u64_case u64_cases[] = {
	{ 0, 1, { 0x00 } },
	{ 1, 1, { 0x01 } },
	{ 127, 1, { 0x7f } },
	{ 128, 2, { 0x80, 0x01 } },
	{ 300, 2, { 0xac, 0x02 } },
	{ 16383, 2, { 0xff, 0x7f } },
	{ 16384, 3, { 0x80, 0x80, 0x01 } },
	{ 2097151, 3, { 0xff, 0xff, 0x7f } },
	{ 2097152, 4, { 0x80, 0x80, 0x80, 0x01 } },
	{ 268435455, 4, { 0xff, 0xff, 0xff, 0x7f } },
	{ 268435456, 5, { 0x80, 0x80, 0x80, 0x80, 0x01 } },
	{ INT32_MAX, 5, { 0xff, 0xff, 0xff, 0xff, 0x07 } },
	{ UINT32_MAX, 5, { 0xff, 0xff, 0xff, 0xff, 0x0f } },
	{ 1ull << 32, 5, { 0x80, 0x80, 0x80, 0x80, 0x10 } },
	{ (1ull << 35) - 1, 5, { 0xff, 0xff, 0xff, 0xff, 0x7f } },
	{ 1ull << 35, 6, { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 } },
	{ (1ull << 63) - 1, 9, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f } },
	{ 1ull << 63, 10, { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 } },
	{ UINT64_MAX, 10, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 } },
};

Test(varint, unsigned_boundaries)
{
	for (size_t i = 0; i < sizeof(u64_cases) / sizeof(u64_cases[0]); i++) {
		const struct u64_case *tc = &u64_cases[i];
		uint8_t enc[VARINT64_BYTES_MAX];
		cr_assert_eq(varint_encode_u64(enc, tc->v), tc->len, "u64 %llu",
		             (unsigned long long)tc->v);
		cr_assert_arr_eq(enc, tc->bytes, tc->len, "u64 %llu bytes",
		                 (unsigned long long)tc->v);
		cr_assert_eq(varint_size_u64(tc->v), tc->len);
		uint64_t v64 = 0;
		cr_assert_eq(decode_u64_exact(tc->bytes, tc->len, &v64), (int)tc->len);
		cr_assert_eq(v64, tc->v);
		assert_prefixes_need_more(tc->bytes, tc->len);

		if (tc->v > UINT32_MAX) {
			/* Too large for 32 bits: malformed for the u32 decoder, never "more". */
			uint32_t v32 = 0;
			size_t n = tc->len < VARINT32_BYTES_MAX ? tc->len : VARINT32_BYTES_MAX;
			cr_assert_eq(decode_u32_exact(tc->bytes, tc->len, &v32), -1);
			cr_assert_eq(decode_u32_exact(tc->bytes, n, &v32), -1);
			continue;
		}
		cr_assert_eq(varint_encode_u32(enc, (uint32_t)tc->v), tc->len);
		cr_assert_arr_eq(enc, tc->bytes, tc->len);
		uint32_t v32 = 0;
		cr_assert_eq(decode_u32_exact(tc->bytes, tc->len, &v32), (int)tc->len);
		cr_assert_eq(v32, (uint32_t)tc->v);
	}
}

Test(varint, signed_boundaries)
{
	static const struct {
		int64_t v;
		size_t len;
		uint8_t bytes[VARINT64_BYTES_MAX];
	} cases[] = {
		{ 0, 1, { 0x00 } },
		{ -1, 1, { 0x01 } },
		{ 1, 1, { 0x02 } },
		{ -64, 1, { 0x7f } },
		{ 63, 1, { 0x7e } },
		{ 64, 2, { 0x80, 0x01 } },
		{ -65, 2, { 0x81, 0x01 } },
		{ -8192, 2, { 0xff, 0x7f } },
		{ 8192, 3, { 0x80, 0x80, 0x01 } },
		{ INT32_MAX, 5, { 0xfe, 0xff, 0xff, 0xff, 0x0f } },
		{ INT32_MIN, 5, { 0xff, 0xff, 0xff, 0xff, 0x0f } },
		{ (int64_t)INT32_MAX + 1, 5, { 0x80, 0x80, 0x80, 0x80, 0x10 } },
		{ INT64_MAX, 10, { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 } },
		{ INT64_MIN, 10, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t enc[VARINT64_BYTES_MAX];
		int64_t v = cases[i].v;
		size_t len = cases[i].len;
		cr_assert_eq(varint_encode_i64(enc, v), len, "i64 %lld", (long long)v);
		cr_assert_arr_eq(enc, cases[i].bytes, len, "i64 %lld bytes", (long long)v);
		cr_assert_eq(varint_size_i64(v), len);
		int64_t d64 = 0;
		cr_assert_eq(varint_decode_i64(cases[i].bytes, len, &d64), (int)len);
		cr_assert_eq(d64, v);
		assert_prefixes_need_more(cases[i].bytes, len);
		if (v < INT32_MIN || v > INT32_MAX)
			continue;
		cr_assert_eq(varint_encode_i32(enc, (int32_t)v), len, "i32 %lld", (long long)v);
		cr_assert_arr_eq(enc, cases[i].bytes, len);
		cr_assert_eq(varint_size_i32((int32_t)v), len);
		int32_t d32 = 0;
		cr_assert_eq(varint_decode_i32(cases[i].bytes, len, &d32), (int)len);
		cr_assert_eq(d32, (int32_t)v);
	}
}

Test(varint, zigzag_mapping)
{
	static const struct {
		int64_t n;
		uint64_t z;
	} map[] = { { 0, 0 }, { -1, 1 }, { 1, 2 },    { -2, 3 },
		    { 2, 4 }, { -3, 5 }, { 63, 126 }, { -64, 127 } };
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		cr_assert_eq(zigzag32_encode((int32_t)map[i].n), (uint32_t)map[i].z);
		cr_assert_eq(zigzag32_decode((uint32_t)map[i].z), (int32_t)map[i].n);
		cr_assert_eq(zigzag64_encode(map[i].n), map[i].z);
		cr_assert_eq(zigzag64_decode(map[i].z), map[i].n);
	}
	cr_assert_eq(zigzag32_encode(INT32_MAX), 0xfffffffeu);
	cr_assert_eq(zigzag32_encode(INT32_MIN), 0xffffffffu);
	cr_assert_eq(zigzag32_decode(0xfffffffeu), INT32_MAX);
	cr_assert_eq(zigzag32_decode(0xffffffffu), INT32_MIN);
	cr_assert_eq(zigzag64_encode(INT64_MAX), UINT64_MAX - 1);
	cr_assert_eq(zigzag64_encode(INT64_MIN), UINT64_MAX);
	cr_assert_eq(zigzag64_decode(UINT64_MAX - 1), INT64_MAX);
	cr_assert_eq(zigzag64_decode(UINT64_MAX), INT64_MIN);
}

Test(varint, random_round_trips)
{
	for (int i = 0; i < 200000; i++) {
		uint64_t r = rng_any_width();
		uint8_t enc[VARINT64_BYTES_MAX];

		size_t n = varint_encode_u64(enc, r);
		uint64_t u64 = ~r;
		cr_assert_eq(varint_size_u64(r), n);
		cr_assert_eq(decode_u64_exact(enc, n, &u64), (int)n, "u64 %llx",
		             (unsigned long long)r);
		cr_assert_eq(u64, r);

		int64_t s = (int64_t)r;
		n = varint_encode_i64(enc, s);
		int64_t i64 = ~s;
		cr_assert_eq(varint_size_i64(s), n);
		cr_assert_eq(varint_decode_i64(enc, n, &i64), (int)n);
		cr_assert_eq(i64, s);

		uint32_t r32 = (uint32_t)(r >> (rng() % 33));
		n = varint_encode_u32(enc, r32);
		uint32_t u32 = ~r32;
		cr_assert(n <= VARINT32_BYTES_MAX);
		cr_assert_eq(varint_size_u64(r32), n);
		cr_assert_eq(decode_u32_exact(enc, n, &u32), (int)n, "u32 %x", r32);
		cr_assert_eq(u32, r32);

		int32_t s32 = (int32_t)r32;
		n = varint_encode_i32(enc, s32);
		int32_t i32 = ~s32;
		cr_assert_eq(varint_size_i32(s32), n);
		cr_assert_eq(varint_decode_i32(enc, n, &i32), (int)n);
		cr_assert_eq(i32, s32);
	}
}

Test(varint, random_truncations_need_more)
{
	for (int i = 0; i < 2000; i++) {
		uint8_t enc[VARINT64_BYTES_MAX];
		size_t n = varint_encode_u64(enc, rng_any_width());
		assert_prefixes_need_more(enc, n);
		int64_t i64 = 7;
		int32_t i32 = 7;
		for (size_t k = 0; k < n; k++) {
			cr_assert_eq(varint_decode_i64(enc, k, &i64), 0);
			if (n <= VARINT32_BYTES_MAX)
				cr_assert_eq(varint_decode_i32(enc, k, &i32), 0);
		}
		cr_assert_eq(i64, 7);
		cr_assert_eq(i32, 7);
	}
}

Test(varint, decoders_stop_at_the_terminator)
{
	/* Trailing bytes after a complete varint are the next field's, not this one's. */
	const uint8_t buf[] = { 0xac, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint32_t v32 = 0;
	uint64_t v64 = 0;
	cr_assert_eq(varint_decode_u32(buf, sizeof(buf), &v32), 2);
	cr_assert_eq(v32, 300);
	cr_assert_eq(varint_decode_u64(buf, sizeof(buf), &v64), 2);
	cr_assert_eq(v64, 300);
	/* Non-minimal but within the length limit: accepted, as Kafka's decoder does. */
	const uint8_t padded[] = { 0x81, 0x80, 0x80, 0x80, 0x00 };
	cr_assert_eq(varint_decode_u32(padded, sizeof(padded), &v32), 5);
	cr_assert_eq(v32, 1);
}

Test(varint, overlong_u32_is_malformed)
{
	/* Six bytes: the fifth still says "more", which no 32-bit value needs. */
	const uint8_t six[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
	uint32_t v = 0xdeadbeef;
	int32_t s = 12345;
	cr_assert_eq(decode_u32_exact(six, sizeof(six), &v), -1);
	/* Malformed as soon as the fifth byte is seen, not "need more" for a sixth. */
	cr_assert_eq(decode_u32_exact(six, 5, &v), -1);
	cr_assert_eq(decode_u32_exact(six, 4, &v), 0);
	cr_assert_eq(varint_decode_i32(six, sizeof(six), &s), -1);
	/* Fifth byte without the continuation bit but above 0x0f: bits 32..34 set. */
	for (unsigned b = 0x10; b <= 0xff; b++) {
		const uint8_t enc[] = { 0xff, 0xff, 0xff, 0xff, (uint8_t)b };
		cr_assert_eq(decode_u32_exact(enc, sizeof(enc), &v), -1, "fifth byte %#x", b);
		cr_assert_eq(varint_decode_i32(enc, sizeof(enc), &s), -1);
	}
	for (unsigned b = 0; b <= 0x0f; b++) {
		const uint8_t enc[] = { 0xff, 0xff, 0xff, 0xff, (uint8_t)b };
		cr_assert_eq(decode_u32_exact(enc, sizeof(enc), &v), 5, "fifth byte %#x", b);
		cr_assert_eq(v, 0x0fffffffu | (uint32_t)b << 28);
	}
	cr_assert_eq(s, 12345, "output written on a malformed read");
}

Test(varint, overlong_u64_is_malformed)
{
	/* Eleven bytes: the tenth still says "more". */
	uint8_t eleven[11];
	memset(eleven, 0x80, sizeof(eleven));
	eleven[10] = 0x00;
	uint64_t v = 0xdeadbeef;
	int64_t s = 12345;
	cr_assert_eq(decode_u64_exact(eleven, sizeof(eleven), &v), -1);
	cr_assert_eq(decode_u64_exact(eleven, 10, &v), -1);
	cr_assert_eq(decode_u64_exact(eleven, 9, &v), 0);
	cr_assert_eq(varint_decode_i64(eleven, sizeof(eleven), &s), -1);
	/* Tenth byte above 1: bits 64 and up. */
	for (unsigned b = 0x02; b <= 0xff; b++) {
		uint8_t enc[10];
		memset(enc, 0xff, 9);
		enc[9] = (uint8_t)b;
		cr_assert_eq(decode_u64_exact(enc, sizeof(enc), &v), -1, "tenth byte %#x", b);
		cr_assert_eq(varint_decode_i64(enc, sizeof(enc), &s), -1);
	}
	cr_assert_eq(v, 0xdeadbeef, "output written on a malformed read");
	cr_assert_eq(s, 12345, "output written on a malformed read");
}

Test(varint, size_agrees_with_encode)
{
	/* Both sides of every 7-bit boundary, for every width. */
	for (unsigned k = 0; k < 64; k++) {
		uint64_t edge = 1ull << k;
		uint64_t vals[] = { edge - 1, edge, edge + 1, ~edge, ~(edge - 1) };
		for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
			uint8_t enc[VARINT64_BYTES_MAX];
			uint64_t v = vals[i];
			cr_assert_eq(varint_size_u64(v), varint_encode_u64(enc, v), "u64 %llx",
			             (unsigned long long)v);
			cr_assert_eq(varint_size_i64((int64_t)v),
			             varint_encode_i64(enc, (int64_t)v));
			cr_assert_eq(varint_size_i32((int32_t)v),
			             varint_encode_i32(enc, (int32_t)v));
			cr_assert_eq(varint_size_u64((uint32_t)v),
			             varint_encode_u32(enc, (uint32_t)v));
		}
	}
	cr_assert_eq(varint_size_u64(UINT32_MAX), (size_t)VARINT32_BYTES_MAX);
	cr_assert_eq(varint_size_u64(UINT64_MAX), (size_t)VARINT64_BYTES_MAX);
	cr_assert_eq(varint_size_i32(INT32_MIN), (size_t)VARINT32_BYTES_MAX);
	cr_assert_eq(varint_size_i64(INT64_MIN), (size_t)VARINT64_BYTES_MAX);
}
