/*
 * tests/unit/base/test_crc32c.c: CRC-32C against published check values, and the hardware
 * path against the table path at every length and alignment around the block boundaries.
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
	size_t lens[] = {0, 1, 7, 8, 9, 255, 256, 767, 768, 769, 3 * 256 + 1, 24575, 24576, 24577,
			 max};
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
