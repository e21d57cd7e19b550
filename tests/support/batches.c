/*
 * tests/support/batches.c: see batches.h.
 */
#include "tests/support/batches.h"

#include "base/assert.h"
#include "protocol/compression.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

size_t test_batch_build(const struct test_batch_spec *spec, uint8_t **out)
{
	ASSERT(spec->records >= 1);
	size_t cap = (size_t)spec->records * (spec->value_bytes + 64) + 256;
	uint8_t *records = malloc(cap);
	uint8_t *value = malloc(spec->value_bytes + 1);
	ASSERT(records && value);
	uint64_t s = spec->seed | 1;
	size_t len = 0;
	for (int i = 0; i < spec->records; i++) {
		for (size_t b = 0; b < spec->value_bytes; b++)
			value[b] = (uint8_t)('a' + next_random(&s) % 26);
		char key[64];
		if (spec->key)
			snprintf(key, sizeof(key), "%s%d", spec->key,
			         spec->key_space ? i % spec->key_space : i);
		struct record rec = {
			.timestamp_delta = i,
			.offset_delta = i,
			.key_len = spec->key ? (int32_t)strlen(key) : -1,
			.key = (const uint8_t *)key,
			.value_len = (int32_t)spec->value_bytes,
			.value = value,
		};
		size_t n = record_encode(records + len, cap - len, &rec);
		ASSERT(n > 0);
		len += n;
	}
	const uint8_t *body = records;
	size_t body_len = len;
	struct compression_buf z = { 0 };
	if (spec->codec) {
		int rc = compression_compress(spec->codec, 0, records, len, &z);
		ASSERT(rc == 0);
		body = z.p;
		body_len = z.len;
	}
	struct record_batch_header h = {
		.base_offset = 0,
		.partition_leader_epoch = -1,
		.attributes = (int16_t)(spec->codec & RB_ATTR_CODEC_MASK),
		.last_offset_delta = spec->records - 1,
		.base_timestamp = spec->timestamp_ms,
		.max_timestamp = spec->timestamp_ms + spec->records - 1,
		.producer_id = spec->producer_id,
		.producer_epoch = spec->producer_epoch,
		.base_sequence = spec->base_sequence,
		.records_count = spec->records,
	};
	size_t total = RB_HEADER_BYTES + body_len;
	uint8_t *batch = malloc(total);
	ASSERT(batch);
	size_t n = record_batch_encode(batch, total, &h, body, body_len);
	ASSERT(n == total);
	free(z.p);
	free(records);
	free(value);
	*out = batch;
	return n;
}

size_t test_batch_simple(int records, size_t value_bytes, int64_t timestamp_ms, uint8_t **out)
{
	struct test_batch_spec spec = {
		.records = records,
		.value_bytes = value_bytes,
		.timestamp_ms = timestamp_ms,
		.producer_id = -1,
		.producer_epoch = -1,
		.base_sequence = -1,
		.seed = (uint64_t)timestamp_ms * 2654435761u + (uint64_t)records,
	};
	return test_batch_build(&spec, out);
}

size_t test_batch_records(const struct test_record *recs, int count, int64_t timestamp_ms,
                          int codec, uint8_t **out)
{
	ASSERT(count >= 1);
	size_t cap = 256;
	for (int i = 0; i < count; i++)
		cap += 64 + (recs[i].key ? strlen(recs[i].key) : 0) +
		       (recs[i].value ? strlen(recs[i].value) : 0);
	uint8_t *records = malloc(cap);
	ASSERT(records);
	size_t len = 0;
	for (int i = 0; i < count; i++) {
		struct record rec = {
			.timestamp_delta = i,
			.offset_delta = i,
			.key_len = recs[i].key ? (int32_t)strlen(recs[i].key) : -1,
			.key = (const uint8_t *)recs[i].key,
			.value_len = recs[i].value ? (int32_t)strlen(recs[i].value) : -1,
			.value = (const uint8_t *)recs[i].value,
		};
		size_t n = record_encode(records + len, cap - len, &rec);
		ASSERT(n > 0);
		len += n;
	}
	const uint8_t *body = records;
	size_t body_len = len;
	struct compression_buf z = { 0 };
	if (codec) {
		ASSERT(compression_compress(codec, 0, records, len, &z) == 0);
		body = z.p;
		body_len = z.len;
	}
	struct record_batch_header h = {
		.base_offset = 0,
		.partition_leader_epoch = -1,
		.attributes = (int16_t)(codec & RB_ATTR_CODEC_MASK),
		.last_offset_delta = count - 1,
		.base_timestamp = timestamp_ms,
		.max_timestamp = timestamp_ms + count - 1,
		.producer_id = -1,
		.producer_epoch = -1,
		.base_sequence = -1,
		.records_count = count,
	};
	size_t total = RB_HEADER_BYTES + body_len;
	uint8_t *batch = malloc(total);
	ASSERT(batch);
	ASSERT(record_batch_encode(batch, total, &h, body, body_len) == total);
	free(z.p);
	free(records);
	*out = batch;
	return total;
}

char *test_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *path;
	ASSERT(asprintf(&path, "%s/tape-%s-XXXXXX", base ? base : "/tmp", tag) > 0);
	ASSERT(mkdtemp(path));
	return path;
}

void test_rmdir(char *path)
{
	if (!path)
		return;
	char *cmd;
	ASSERT(asprintf(&cmd, "rm -rf '%s'", path) > 0);
	int rc = system(cmd);
	(void)rc;
	free(cmd);
	free(path);
}
