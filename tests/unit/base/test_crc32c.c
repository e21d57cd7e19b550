/*
 * tests/unit/base/test_crc32c.c: CRC-32C against published check values, and the hardware
 * path against the table path at every length and alignment around the block boundaries.
 * Also: that the hardware path is really taken on a CPU that has SSE4.2 (otherwise the
 * comparisons would compare the table path with itself), and that both paths chain over
 * random split points of random lengths.
 */
#include "base/crc32c.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

Test(crc32c, check_value)
{
	/* The standard check value for "123456789" (RFC 3720 B.4). */
	cr_assert_eq(crc32c(0, "123456789", 9), 0xe3069283u);
	cr_assert_eq(crc32c_sw(0, "123456789", 9), 0xe3069283u);
	cr_assert_eq(crc32c(0, "", 0), 0u);
}

Test(crc32c, rfc3720_vectors)
{
	uint8_t buf[32];
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(crc32c(0, buf, 32), 0x8a9136aau);
	memset(buf, 0xff, sizeof(buf));
	cr_assert_eq(crc32c(0, buf, 32), 0x62a8ab43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	cr_assert_eq(crc32c(0, buf, 32), 0x46dd794eu);
}

Test(crc32c, hw_matches_sw_and_streams)
{
	size_t max = 3 * 8192 * 2 + 777;
	uint8_t *buf = malloc(max + 8);
	srand(42);
	for (size_t i = 0; i < max + 8; i++)
		buf[i] = (uint8_t)rand();
	size_t lens[] = { 0,   1,   7,           8,     9,     255,   256, 767,
		          768, 769, 3 * 256 + 1, 24575, 24576, 24577, max };
	for (size_t a = 0; a < 8; a++)
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			uint32_t want = crc32c_sw(0, buf + a, lens[i]);
			cr_assert_eq(crc32c(0, buf + a, lens[i]), want, "len %zu align %zu",
			             lens[i], a);
			size_t half = lens[i] / 3;
			uint32_t c = crc32c(0, buf + a, half);
			cr_assert_eq(crc32c(c, buf + a + half, lens[i] - half), want);
		}
	free(buf);
}

Test(crc32c, hw_path_taken_when_cpu_has_it)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("sse4.2"))
		cr_skip_test("no SSE4.2 on this CPU: hw_matches_sw compares the table path only");
	cr_assert_eq(crc32c_hw_available(), 1);
#else
	cr_skip_test("not x86-64: only the table path exists");
#endif
}

Test(crc32c, chains_at_random_splits)
{
	enum { MAX = 200000 };
	uint8_t *buf = malloc(MAX + 8);
	cr_assert_not_null(buf);
	uint64_t x = 0x6a09e667f3bcc908ull;
	for (size_t i = 0; i < MAX + 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
	for (int round = 0; round < 200; round++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size_t align = x % 8;
		size_t len = (size_t)(x >> 8) % (round % 4 ? 4096 : MAX);
		size_t cut1 = len ? (size_t)(x >> 32) % (len + 1) : 0;
		size_t cut2 = cut1 + (len - cut1 ? (size_t)(x >> 40) % (len - cut1 + 1) : 0);
		const uint8_t *p = buf + align;
		uint32_t want = crc32c_sw(0, p, len);
		cr_assert_eq(crc32c(0, p, len), want, "len %zu align %zu", len, align);
		uint32_t hw =
		    crc32c(crc32c(crc32c(0, p, cut1), p + cut1, cut2 - cut1), p + cut2, len - cut2);
		uint32_t sw = crc32c_sw(crc32c_sw(crc32c_sw(0, p, cut1), p + cut1, cut2 - cut1),
		                        p + cut2, len - cut2);
		cr_assert_eq(hw, want, "hw len %zu cuts %zu %zu", len, cut1, cut2);
		cr_assert_eq(sw, want, "sw len %zu cuts %zu %zu", len, cut1, cut2);
	}
	free(buf);
}
