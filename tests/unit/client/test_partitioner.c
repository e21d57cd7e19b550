/*
 * tests/unit/client/test_partitioner.c: murmur2 and the key -> partition rule
 * (client/partitioner.c) against the known answers of the clients tape must agree with.
 *
 * Covers: the six values of the Java client's UtilsTest.testMurmur2 (Utils.murmur2 as a
 * signed int); the eleven of librdkafka's unittest_murmur2 (src/rdmurmur2.c: aligned and
 * unaligned starts of two strings, the empty key), which cover every tail length 0-3; the
 * partition librdkafka's tests/0048-partitioner.c expects for its murmur2 keys among 17
 * partitions (the hash with the sign bit cleared, mod 17); and that the sign bit is cleared,
 * not the absolute value taken (Java's Utils.toPositive), for keys whose hash is negative.
 */
#include "client/partitioner.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

struct known {
	const char *key;
	uint32_t hash;
};

Test(partitioner, java_utils_test_murmur2)
{
	/* apache/kafka clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java */
	static const struct {
		const char *key;
		int32_t hash;
	} java[] = {
		{ "21", -973932308 },
		{ "foobar", -790332482 },
		{ "a-little-bit-long-string", -985981536 },
		{ "a-little-bit-longer-string", -1486304829 },
		{ "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971 },
		{ "abc", 479470107 },
	};
	for (size_t i = 0; i < sizeof(java) / sizeof(java[0]); i++)
		cr_expect_eq((int32_t)partitioner_murmur2(java[i].key, strlen(java[i].key)),
		             java[i].hash, "murmur2(\"%s\")", java[i].key);
}

Test(partitioner, librdkafka_unittest_murmur2)
{
	/* confluentinc/librdkafka src/rdmurmur2.c unittest_murmur2 (java_murmur2_results) */
	const char *s = "1234", *u = "PreAmbleWillBeRemoved,ThePrePartThatIs";
	const struct known v[] = {
		{ "kafka", 0xd067cf64 }, { "giberish123456789", 0x8f552b0c },
		{ s, 0x9fc97b14 },       { s + 1, 0xe7c009ca },
		{ s + 2, 0x873930da },   { s + 3, 0x5a4b5ca1 },
		{ u, 0x78424f1c },       { u + 1, 0x4a62b377 },
		{ u + 2, 0xe0e4e09e },   { u + 3, 0x62b8b43f },
		{ "", 0x106e08d9 },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		cr_expect_eq(partitioner_murmur2(v[i].key, strlen(v[i].key)), v[i].hash,
		             "murmur2(\"%s\") = %#x", v[i].key,
		             partitioner_murmur2(v[i].key, strlen(v[i].key)));
	/* A NULL pointer with length 0 is the empty key. */
	cr_expect_eq(partitioner_murmur2(NULL, 0), 0x106e08d9);
}

Test(partitioner, librdkafka_0048_partitions_of_17)
{
	/* librdkafka tests/0048-partitioner.c, murmur2 partitioner: the expected hash with the
	 * sign bit cleared, whose value mod 17 is the partition. */
	const struct known v[] = {
		{ "", 0x106e08d9 },
		{ "this is another string with more length to it perhaps", 0x4f7703da },
		{ "hejsan", 0x5ec19395 },
		{ "23456", 0x058d780f },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t len = strlen(v[i].key);
		cr_expect_eq(partitioner_murmur2(v[i].key, len) & 0x7fffffffu, v[i].hash, "%s",
		             v[i].key);
		cr_expect_eq(partitioner_by_key(v[i].key, len, 17), (int32_t)(v[i].hash % 17), "%s",
		             v[i].key);
	}
}

Test(partitioner, sign_bit_cleared_not_abs)
{
	/* murmur2("21") = -973932308: toPositive gives 0x7fffffff & h = 1173551340, while
	 * abs() would give 973932308; with 1000 partitions these differ (340 against 308). */
	cr_expect_eq(partitioner_by_key("21", 2, 1000), 340);
	cr_expect_eq(partitioner_by_key("foobar", 6, 1000),
	             (int32_t)(((uint32_t)-790332482 & 0x7fffffffu) % 1000));
	/* One partition takes every key; every answer is in range. */
	for (int i = 0; i < 1000; i++) {
		char k[16];
		int n = snprintf(k, sizeof(k), "key-%d", i);
		cr_assert_eq(partitioner_by_key(k, (size_t)n, 1), 0);
		int32_t p = partitioner_by_key(k, (size_t)n, 7);
		cr_assert(p >= 0 && p < 7);
	}
}
