/*
 * tests/fuzz/fuzz_offsets_record.c: the decoders of __consumer_offsets records
 * (consumer-groups/offsets.h). The input is cut into a key (int16 length, bytes), a value
 * (int16 length, -1 for null, bytes) and a record's headers section (a count byte, then the
 * rest). Each decoder is run alone and as offset_record_decode sees a record; what decodes is
 * encoded again (key v1, value v3), decoded again and must give the same fields, and input
 * already at those versions must come back byte for byte. The group hash and partition run over
 * the whole input: the partition is always in [0, N).
 */
#include "base/assert.h"
#include "consumer-groups/offsets.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(struct kstr a, struct kstr b)
{
	return a.len == b.len && (a.len <= 0 || memcmp(a.p, b.p, (size_t)a.len) == 0);
}

static int16_t take_len(const uint8_t **p, size_t *left)
{
	if (*left < 2)
		return 0;
	int16_t n = (int16_t)(((*p)[0] << 8) | (*p)[1]);
	*p += 2;
	*left -= 2;
	if (n > 0 && (size_t)n > *left)
		n = (int16_t)*left;
	return n;
}

static void check_key(const uint8_t *key, size_t len)
{
	struct offset_commit_key k, k2;
	if (offset_commit_key_decode(key, len, &k) != 0)
		return;
	uint8_t out[2 * 32768 + 16];
	size_t n = offset_commit_key_encode(out, sizeof(out), &k);
	ASSERT(n == offset_commit_key_size(&k) && n == len);
	ASSERT(offset_commit_key_decode(out, n, &k2) == 0);
	ASSERT(same(k.group, k2.group) && same(k.topic, k2.topic) && k.partition == k2.partition);
	if (key[1] == OFFSET_COMMIT_KEY_VERSION)
		ASSERT(memcmp(out, key, n) == 0);
}

static void check_value(const uint8_t *value, size_t len)
{
	struct offset_commit_value v, v2;
	if (offset_commit_value_decode(value, len, &v) != 0)
		return;
	uint8_t out[32768 + 64];
	size_t n = offset_commit_value_encode(out, sizeof(out), &v);
	ASSERT(n > 0 && n == offset_commit_value_size(&v));
	ASSERT(offset_commit_value_decode(out, n, &v2) == 0);
	ASSERT(v.offset == v2.offset && v.leader_epoch == v2.leader_epoch &&
	       same(v.metadata, v2.metadata) && v.commit_timestamp_ms == v2.commit_timestamp_ms);
	if (value[1] == OFFSET_COMMIT_VALUE_VERSION)
		ASSERT(n == len && memcmp(out, value, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int32_t n = size ? 1 + data[0] % 64 : 1;
	int32_t part =
	    offset_group_partition((struct kstr){ (const char *)data, (int32_t)size }, n);
	ASSERT(part >= 0 && part < n);

	const uint8_t *p = data;
	size_t left = size;
	int16_t key_len = take_len(&p, &left);
	if (key_len < 0)
		key_len = 0;
	const uint8_t *key = p;
	p += key_len;
	left -= (size_t)key_len;
	int16_t value_len = take_len(&p, &left);
	const uint8_t *value = p;
	if (value_len > 0) {
		p += value_len;
		left -= (size_t)value_len;
	}
	check_key(key, (size_t)key_len);
	if (value_len >= 0)
		check_value(value, (size_t)value_len);

	struct record rec = {
		.key_len = key_len,
		.key = key,
		.value_len = value_len < 0 ? -1 : value_len,
		.value = value,
		.headers_count = left ? p[0] % 4 : 0,
		.headers = left ? p + 1 : p,
		.headers_len = left ? left - 1 : 0,
	};
	struct offset_record r;
	int rc = offset_record_decode(&rec, &r);
	if (rc == 0) {
		struct offset_commit_key k;
		ASSERT(offset_commit_key_decode(key, (size_t)key_len, &k) == 0);
		ASSERT(same(k.group, r.key.group) && same(k.topic, r.key.topic));
		ASSERT(r.tombstone == (value_len < 0));
		ASSERT(!r.metadata_null || (!r.tombstone && r.value.metadata.len == 0));
	}
	return 0;
}
