/*
 * tests/unit/protocol/test_record_batch.c: RecordBatch v2 reading, validation, stamping and
 * writing (protocol/record_batch.c).
 *
 * Batches are built with record_header_encode + record_encode + record_batch_encode from a
 * deterministic pattern (null keys, null values, empty values, headers with null values) and
 * read back with record_iter / record_header_iter. Covers: the batch kcat writes for
 * `-K: -H h1=v1`, byte for byte, against a hand-written copy whose CRC was computed apart
 * (bitwise CRC-32C in Python); 0, 1 and many records under every combination of checks; every
 * single byte of a small batch corrupted in turn (only baseOffset and partitionLeaderEpoch,
 * outside the CRC, may change and still validate); every truncation; record sections that
 * lie about their length with a correct CRC; recordsCount and lastOffsetDelta rules; header
 * iteration and malformed headers; LogAppendTime stamping; record_batch_peek_size; compressed
 * batches; the encoders' capacity checks.
 */
#include "protocol/record_batch.h"

#include "base/crc32c.h"
#include "base/endian.h"
#include "base/errors.h"
#include "base/limits.h"
#include "protocol/compression.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE_TS 1700000000000ll
#define ALL_CHECKS (RB_CHECK_CRC | RB_CHECK_RECORDS | RB_CHECK_PRODUCED)

/* ---- the pattern ------------------------------------------------------------------------- */

/* Record i of the pattern: key "key-i" (null when i % 5 == 1), value of (i * 7) % 50 bytes of
 * 'a' + i (null when i % 7 == 3), i % 4 headers "h<j>" = "v<j>" (null value when j == 2),
 * timestamp delta 10 * i, offset delta i * gap. */
static char pattern_value[64];

static void pattern_key(int i, char *buf, size_t cap)
{
	snprintf(buf, cap, "key-%d", i);
}

/* Fills rec for record i, its key and headers in the caller's buffers. */
static void pattern_record(int i, int gap, struct record *rec, char *key, size_t key_cap,
                           uint8_t *headers, size_t headers_cap)
{
	memset(pattern_value, 'a' + i % 26, sizeof(pattern_value));
	pattern_key(i, key, key_cap);
	rec->attributes = 0;
	rec->timestamp_delta = 10 * i;
	rec->offset_delta = i * gap;
	rec->key_len = i % 5 == 1 ? -1 : (int32_t)strlen(key);
	rec->key = i % 5 == 1 ? NULL : (const uint8_t *)key;
	rec->value_len = i % 7 == 3 ? -1 : (i * 7) % 50;
	rec->value = i % 7 == 3 ? NULL : (const uint8_t *)pattern_value;
	rec->headers_count = i % 4;
	size_t n = 0;
	for (int j = 0; j < rec->headers_count; j++) {
		char hk[16], hv[16];
		snprintf(hk, sizeof(hk), "h%d", j);
		snprintf(hv, sizeof(hv), "v%d", j);
		struct record_header h = { (int32_t)strlen(hk), (const uint8_t *)hk,
			                   j == 2 ? -1 : (int32_t)strlen(hv),
			                   j == 2 ? NULL : (const uint8_t *)hv };
		size_t w = record_header_encode(headers + n, headers_cap - n, &h);
		cr_assert_gt(w, 0);
		n += w;
	}
	rec->headers = headers;
	rec->headers_len = n;
}

/* Encodes n pattern records into out; returns the bytes written. */
static size_t pattern_records(uint8_t *out, size_t cap, int n, int gap)
{
	size_t len = 0;
	for (int i = 0; i < n; i++) {
		struct record rec;
		char key[32];
		uint8_t headers[128];
		pattern_record(i, gap, &rec, key, sizeof(key), headers, sizeof(headers));
		size_t w = record_encode(out + len, cap - len, &rec);
		cr_assert_eq(w, record_encoded_size(&rec));
		len += w;
	}
	return len;
}

static struct record_batch_header pattern_header(int n, int gap)
{
	struct record_batch_header h = {
		.base_offset = 0,
		.partition_leader_epoch = 0,
		.attributes = 0,
		.last_offset_delta = n > 0 ? (n - 1) * gap : 0,
		.base_timestamp = BASE_TS,
		.max_timestamp = BASE_TS + (n > 0 ? 10 * (n - 1) : 0),
		.producer_id = RB_NO_PRODUCER_ID,
		.producer_epoch = -1,
		.base_sequence = RB_NO_SEQUENCE,
		.records_count = n,
	};
	return h;
}

/* A batch of n pattern records in a malloc'd buffer. */
static uint8_t *pattern_batch(int n, int gap, size_t *len)
{
	size_t cap = RB_HEADER_BYTES + 256 * (size_t)(n + 1);
	uint8_t *records = malloc(cap), *batch = malloc(cap);
	cr_assert(records && batch);
	size_t rlen = pattern_records(records, cap, n, gap);
	struct record_batch_header h = pattern_header(n, gap);
	*len = record_batch_encode(batch, cap, &h, records, rlen);
	cr_assert_eq(*len, RB_HEADER_BYTES + rlen);
	free(records);
	return batch;
}

static void expect_bytes(const uint8_t *p, int32_t len, const uint8_t *want, int32_t want_len)
{
	cr_assert_eq(len, want_len);
	if (len < 0)
		cr_assert_null(p);
	else
		cr_assert(len == 0 || memcmp(p, want, (size_t)len) == 0);
}

/* Iterates a records section and checks it holds exactly n pattern records. */
static void expect_pattern(const uint8_t *records, size_t len, int n, int gap)
{
	struct record_iter it;
	struct record rec;
	record_iter_init(&it, records, len, n);
	for (int i = 0; i < n; i++) {
		cr_assert_eq(record_iter_next(&it, &rec), 1, "record %d", i);
		struct record want;
		char key[32];
		uint8_t headers[128];
		pattern_record(i, gap, &want, key, sizeof(key), headers, sizeof(headers));
		cr_assert_eq(rec.attributes, 0);
		cr_assert_eq(rec.timestamp_delta, want.timestamp_delta);
		cr_assert_eq(rec.offset_delta, want.offset_delta);
		expect_bytes(rec.key, rec.key_len, want.key, want.key_len);
		expect_bytes(rec.value, rec.value_len, want.value, want.value_len);
		cr_assert_eq(rec.headers_count, want.headers_count);
		struct record_header_iter hi;
		struct record_header h;
		record_header_iter_init(&hi, &rec);
		for (int j = 0; j < want.headers_count; j++) {
			cr_assert_eq(record_header_iter_next(&hi, &h), 1);
			char hk[16], hv[16];
			snprintf(hk, sizeof(hk), "h%d", j);
			snprintf(hv, sizeof(hv), "v%d", j);
			expect_bytes(h.key, h.key_len, (const uint8_t *)hk, 2);
			if (j == 2)
				expect_bytes(h.value, h.value_len, NULL, -1);
			else
				expect_bytes(h.value, h.value_len, (const uint8_t *)hv, 2);
		}
		cr_assert_eq(record_header_iter_next(&hi, &h), 0);
	}
	cr_assert_eq(record_iter_next(&it, &rec), 0);
	cr_assert_eq(record_iter_next(&it, &rec), 0, "the end stays the end");
}

/* Rewrites the CRC after an edit inside its range. */
static void fix_crc(uint8_t *buf, size_t len)
{
	store_be32(buf + RB_CRC, record_batch_compute_crc(buf, len));
}

/* ---- the batch kcat writes --------------------------------------------------------------- */

/* kcat -P -K: -H h1=v1 with "k1:hello" (librdkafka 2.0.2, not idempotent): reference/
 * kafka-protocol.md section 6. Timestamps fixed at 1700000000000; CRC 0x9f657a99 computed with
 * a bitwise CRC-32C apart from base/crc32c.c. */
static const uint8_t kcat_batch[] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* baseOffset 0 */
	0x00, 0x00, 0x00, 0x45,                         /* batchLength 69 */
	0x00, 0x00, 0x00, 0x00,                         /* partitionLeaderEpoch 0 */
	0x02,                                           /* magic */
	0x9f, 0x65, 0x7a, 0x99,                         /* crc */
	0x00, 0x00,                                     /* attributes */
	0x00, 0x00, 0x00, 0x00,                         /* lastOffsetDelta 0 */
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, /* baseTimestamp */
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, /* maxTimestamp */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* producerId -1 */
	0xff, 0xff,                                     /* producerEpoch -1 */
	0xff, 0xff, 0xff, 0xff,                         /* baseSequence -1 */
	0x00, 0x00, 0x00, 0x01,                         /* recordsCount 1 */
	0x26,                                           /* length 19 */
	0x00, 0x00, 0x00,                               /* attributes, tsDelta, offDelta */
	0x04, 'k',  '1',                                /* key "k1" */
	0x0a, 'h',  'e',  'l',  'l',  'o',              /* value "hello" */
	0x02,                                           /* 1 header */
	0x04, 'h',  '1',  0x04, 'v',  '1',              /* h1=v1 */
};

Test(record_batch, kcat_batch_byte_for_byte)
{
	struct record_header hdr = { 2, (const uint8_t *)"h1", 2, (const uint8_t *)"v1" };
	uint8_t headers[16];
	size_t hlen = record_header_encode(headers, sizeof(headers), &hdr);
	cr_assert_eq(hlen, 6);
	struct record rec = {
		.key_len = 2,
		.key = (const uint8_t *)"k1",
		.value_len = 5,
		.value = (const uint8_t *)"hello",
		.headers_count = 1,
		.headers = headers,
		.headers_len = hlen,
	};
	uint8_t records[64];
	size_t rlen = record_encode(records, sizeof(records), &rec);
	cr_assert_eq(rlen, 20, "length varint + 19");
	cr_assert_eq(record_encoded_size(&rec), 20);
	struct record_batch_header h = pattern_header(1, 1);
	h.max_timestamp = BASE_TS;
	uint8_t batch[128];
	size_t len = record_batch_encode(batch, sizeof(batch), &h, records, rlen);
	cr_assert_eq(len, sizeof(kcat_batch));
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(batch[i], kcat_batch[i], "byte %zu: %#x != %#x", i, batch[i],
		             kcat_batch[i]);

	/* In place: the records already behind the header's room give the same bytes. */
	uint8_t in_place[128] = { 0 };
	memcpy(in_place + RB_HEADER_BYTES, records, rlen);
	cr_assert_eq(record_batch_encode_in_place(in_place, &h, rlen), len);
	cr_assert_eq(memcmp(in_place, kcat_batch, len), 0);

	struct record_batch_header got;
	cr_assert_eq(record_batch_validate(kcat_batch, len, ALL_CHECKS, &got), 0);
	cr_assert_eq(got.batch_length, 69);
	cr_assert_eq(got.crc, 0x9f657a99u);
	cr_assert_eq(got.records_count, 1);
	cr_assert_eq(got.producer_id, -1);
	cr_assert_eq(got.producer_epoch, -1);
	cr_assert_eq(got.base_sequence, -1);
	cr_assert_eq(record_batch_size(&got), 81);
	cr_assert_eq(record_batch_last_offset(&got), 0);
	cr_assert_eq(record_batch_peek_size(kcat_batch, len, BATCH_BYTES_DEFAULT), 81);

	struct record_iter it;
	struct record r;
	record_iter_init(&it, kcat_batch + RB_RECORDS, len - RB_RECORDS, 1);
	cr_assert_eq(record_iter_next(&it, &r), 1);
	expect_bytes(r.key, r.key_len, (const uint8_t *)"k1", 2);
	expect_bytes(r.value, r.value_len, (const uint8_t *)"hello", 5);
	cr_assert_eq(r.headers_count, 1);
	struct record_header_iter hi;
	struct record_header hh;
	record_header_iter_init(&hi, &r);
	cr_assert_eq(record_header_iter_next(&hi, &hh), 1);
	expect_bytes(hh.key, hh.key_len, (const uint8_t *)"h1", 2);
	expect_bytes(hh.value, hh.value_len, (const uint8_t *)"v1", 2);
	cr_assert_eq(record_header_iter_next(&hi, &hh), 0);
	cr_assert_eq(record_iter_next(&it, &r), 0);
}

/* ---- building and validating ------------------------------------------------------------- */

Test(record_batch, zero_one_many_records_under_every_check)
{
	int counts[] = { 0, 1, 2, 7, 100, 1000 };
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		int n = counts[c];
		size_t len;
		uint8_t *batch = pattern_batch(n, 1, &len);
		for (unsigned checks = 0; checks <= ALL_CHECKS; checks++) {
			struct record_batch_header h;
			int want = n == 0 && (checks & RB_CHECK_PRODUCED) ? -TAPE_EBADBATCH : 0;
			cr_assert_eq(record_batch_validate(batch, len, checks, &h), want,
			             "n %d checks %u", n, checks);
			cr_assert_eq(record_batch_validate(batch, len, checks, NULL), want);
			if (want == 0) {
				cr_assert_eq(h.records_count, n);
				cr_assert_eq(h.magic, 2);
				cr_assert_eq(record_batch_size(&h), len);
			}
		}
		expect_pattern(batch + RB_RECORDS, len - RB_RECORDS, n, 1);
		free(batch);
	}
}

Test(record_batch, null_and_empty_keys_and_values)
{
	struct record recs[] = {
		{ .key_len = -1, .value_len = -1 },
		{ .key_len = 0,
		  .key = (const uint8_t *)"",
		  .value_len = 0,
		  .value = (const uint8_t *)"" },
		{ .key_len = -1, .value_len = 3, .value = (const uint8_t *)"abc" },
		{ .key_len = 3, .key = (const uint8_t *)"abc", .value_len = -1 },
	};
	uint8_t records[256];
	size_t rlen = 0;
	for (int i = 0; i < 4; i++) {
		recs[i].offset_delta = i;
		recs[i].timestamp_delta = -5 + i; /* negative deltas are legal */
		rlen += record_encode(records + rlen, sizeof(records) - rlen, &recs[i]);
	}
	struct record_batch_header h = pattern_header(4, 1);
	uint8_t batch[512];
	size_t len = record_batch_encode(batch, sizeof(batch), &h, records, rlen);
	cr_assert_eq(record_batch_validate(batch, len, ALL_CHECKS, NULL), 0);
	struct record_iter it;
	struct record r;
	record_iter_init(&it, batch + RB_RECORDS, len - RB_RECORDS, 4);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(record_iter_next(&it, &r), 1);
		cr_assert_eq(r.timestamp_delta, -5 + i);
		expect_bytes(r.key, r.key_len, recs[i].key, recs[i].key_len);
		expect_bytes(r.value, r.value_len, recs[i].value, recs[i].value_len);
		if (recs[i].key_len == 0)
			cr_assert_not_null(r.key, "empty is not null");
		cr_assert_eq(r.headers_count, 0);
		cr_assert_eq(r.headers_len, 0);
	}
	cr_assert_eq(record_iter_next(&it, &r), 0);
}

Test(record_batch, every_byte_corrupted)
{
	size_t len;
	uint8_t *batch = pattern_batch(4, 1, &len);
	uint8_t *copy = malloc(len);
	const uint8_t masks[] = { 0x01, 0x80, 0xff, 0x5a };
	for (size_t i = 0; i < len; i++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			memcpy(copy, batch, len);
			copy[i] ^= masks[m];
			bool outside_crc =
			    i < RB_BATCH_LENGTH || (i >= RB_PARTITION_LEADER_EPOCH && i < RB_MAGIC);
			int rc =
			    record_batch_validate(copy, len, RB_CHECK_CRC | RB_CHECK_RECORDS, NULL);
			if (outside_crc)
				cr_assert_eq(rc, 0, "byte %zu outside the CRC", i);
			else
				cr_assert_neq(rc, 0, "byte %zu ^ %#x accepted", i, masks[m]);
			/* Without the CRC, whatever is accepted must iterate cleanly. */
			struct record_batch_header h;
			if (record_batch_validate(copy, len, RB_CHECK_RECORDS, &h) == 0 &&
			    record_batch_codec(&h) == 0) {
				struct record_iter it;
				struct record r;
				record_iter_init(&it, copy + RB_RECORDS, len - RB_RECORDS,
				                 h.records_count);
				int got;
				while ((got = record_iter_next(&it, &r)) == 1)
					;
				cr_assert_eq(got, 0, "byte %zu", i);
			}
		}
	}
	free(copy);
	free(batch);
}

Test(record_batch, corrupt_records_with_a_matching_crc)
{
	/* A client that computes the CRC over garbage: the structure checks must still hold. */
	size_t len;
	uint8_t *batch = pattern_batch(6, 1, &len);
	uint8_t *copy = malloc(len);
	for (size_t i = RB_RECORDS; i < len; i++) {
		for (int v = 0; v < 256; v += 17) {
			memcpy(copy, batch, len);
			copy[i] = (uint8_t)v;
			fix_crc(copy, len);
			struct record_batch_header h;
			if (record_batch_validate(copy, len, ALL_CHECKS, &h) != 0)
				continue;
			struct record_iter it;
			struct record r;
			record_iter_init(&it, copy + RB_RECORDS, len - RB_RECORDS, h.records_count);
			int got, n = 0;
			while ((got = record_iter_next(&it, &r)) == 1) {
				cr_assert_eq(r.offset_delta, n, "byte %zu = %d", i, v);
				struct record_header_iter hi;
				struct record_header hh;
				record_header_iter_init(&hi, &r);
				int hg;
				while ((hg = record_header_iter_next(&hi, &hh)) == 1)
					;
				cr_assert_eq(hg, 0);
				n++;
			}
			cr_assert_eq(got, 0);
			cr_assert_eq(n, h.records_count);
		}
	}
	free(copy);
	free(batch);
}

Test(record_batch, every_truncation)
{
	size_t len;
	uint8_t *batch = pattern_batch(5, 1, &len);
	uint8_t *copy = malloc(len);
	for (size_t cut = 0; cut < len; cut++) {
		/* As given: batchLength disagrees with the bytes. */
		cr_assert_eq(record_batch_validate(batch, cut, 0, NULL), -TAPE_EBADBATCH);
		if (cut < RB_HEADER_BYTES)
			continue;
		/* batchLength and the CRC made to agree: the records section is cut. */
		memcpy(copy, batch, cut);
		store_be32(copy + RB_BATCH_LENGTH, (uint32_t)(cut - RB_LOG_OVERHEAD));
		fix_crc(copy, cut);
		int rc = record_batch_validate(copy, cut, RB_CHECK_CRC | RB_CHECK_RECORDS, NULL);
		cr_assert_eq(rc, -TAPE_EBADBATCH, "cut at %zu", cut);
	}
	/* A batchLength past the bytes, or below the header. */
	memcpy(copy, batch, len);
	store_be32(copy + RB_BATCH_LENGTH, (uint32_t)(len - RB_LOG_OVERHEAD + 1));
	cr_assert_eq(record_batch_validate(copy, len, 0, NULL), -TAPE_EBADBATCH);
	store_be32(copy + RB_BATCH_LENGTH, 0xffffffffu);
	cr_assert_eq(record_batch_validate(copy, len, 0, NULL), -TAPE_EBADBATCH);
	free(copy);
	free(batch);
}

Test(record_batch, record_length_lies)
{
	/* One record whose length varint says one byte more, then one less, than it holds. */
	size_t len;
	uint8_t *batch = pattern_batch(1, 1, &len);
	uint8_t rec_len = batch[RB_RECORDS];
	batch[RB_RECORDS] = rec_len + 2;
	fix_crc(batch, len);
	cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_RECORDS, NULL), -TAPE_EBADBATCH);
	batch[RB_RECORDS] = rec_len - 2;
	fix_crc(batch, len);
	cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_RECORDS, NULL), -TAPE_EBADBATCH);
	batch[RB_RECORDS] = 0x01; /* -1 */
	fix_crc(batch, len);
	cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_RECORDS, NULL), -TAPE_EBADBATCH);
	free(batch);
}

Test(record_batch, records_count_rules)
{
	size_t len;
	uint8_t *batch = pattern_batch(3, 1, &len);
	uint8_t *copy = malloc(len);
	size_t bytes = len - RB_HEADER_BYTES;
	/* More records than the bytes could hold at 7 bytes each: refused from the header. */
	memcpy(copy, batch, len);
	int32_t too_many = (int32_t)(bytes / RECORD_BYTES_MIN) + 1;
	store_be32(copy + RB_RECORDS_COUNT, (uint32_t)too_many);
	store_be32(copy + RB_LAST_OFFSET_DELTA, (uint32_t)(too_many - 1));
	fix_crc(copy, len);
	cr_assert_eq(record_batch_validate(copy, len, 0, NULL), -TAPE_EBADBATCH);
	/* Possible from the size, but there are only 3: the walk finds out. */
	store_be32(copy + RB_RECORDS_COUNT, 4);
	store_be32(copy + RB_LAST_OFFSET_DELTA, 3);
	fix_crc(copy, len);
	cr_assert_eq(record_batch_validate(copy, len, RB_CHECK_CRC, NULL), 0);
	cr_assert_eq(record_batch_validate(copy, len, RB_CHECK_RECORDS, NULL), -TAPE_EBADBATCH);
	/* Fewer than there are: bytes left over. */
	store_be32(copy + RB_RECORDS_COUNT, 2);
	store_be32(copy + RB_LAST_OFFSET_DELTA, 2);
	fix_crc(copy, len);
	cr_assert_eq(record_batch_validate(copy, len, RB_CHECK_CRC, NULL), 0);
	cr_assert_eq(record_batch_validate(copy, len, RB_CHECK_RECORDS, NULL), -TAPE_EBADBATCH);
	/* None, with bytes in the section. */
	store_be32(copy + RB_RECORDS_COUNT, 0);
	fix_crc(copy, len);
	cr_assert_eq(record_batch_validate(copy, len, RB_CHECK_RECORDS, NULL), -TAPE_EBADBATCH);
	/* Negative. */
	store_be32(copy + RB_RECORDS_COUNT, 0xffffffffu);
	fix_crc(copy, len);
	cr_assert_eq(record_batch_validate(copy, len, 0, NULL), -TAPE_EBADBATCH);
	store_be32(copy + RB_RECORDS_COUNT, 0x80000000u);
	fix_crc(copy, len);
	cr_assert_eq(record_batch_validate(copy, len, 0, NULL), -TAPE_EBADBATCH);
	free(copy);
	free(batch);
}

Test(record_batch, last_offset_delta_rules)
{
	size_t len;
	uint8_t *batch = pattern_batch(3, 1, &len);
	/* Fresh from a producer: exactly count - 1. */
	cr_assert_eq(record_batch_validate(batch, len, ALL_CHECKS, NULL), 0);
	/* Larger: what compaction leaves behind, valid but not as produced. */
	store_be32(batch + RB_LAST_OFFSET_DELTA, 5);
	fix_crc(batch, len);
	cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_CRC | RB_CHECK_RECORDS, NULL), 0);
	cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_PRODUCED, NULL), -TAPE_EBADBATCH);
	/* Smaller than count - 1, or negative: never. */
	store_be32(batch + RB_LAST_OFFSET_DELTA, 1);
	fix_crc(batch, len);
	cr_assert_eq(record_batch_validate(batch, len, 0, NULL), -TAPE_EBADBATCH);
	store_be32(batch + RB_LAST_OFFSET_DELTA, 0xffffffffu);
	fix_crc(batch, len);
	cr_assert_eq(record_batch_validate(batch, len, 0, NULL), -TAPE_EBADBATCH);
	free(batch);

	/* Gaps between the records' offset deltas (0, 3, 6): fine up to lastOffsetDelta. */
	batch = pattern_batch(3, 3, &len);
	cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_CRC | RB_CHECK_RECORDS, NULL), 0);
	cr_assert_eq(record_batch_validate(batch, len, ALL_CHECKS, NULL), -TAPE_EBADBATCH);
	expect_pattern(batch + RB_RECORDS, len - RB_RECORDS, 3, 3);
	/* A record delta past lastOffsetDelta. */
	store_be32(batch + RB_LAST_OFFSET_DELTA, 5);
	fix_crc(batch, len);
	cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_CRC, NULL), 0);
	cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_RECORDS, NULL), -TAPE_EBADBATCH);
	free(batch);

	/* Deltas that do not increase (0, 0, 0). */
	batch = pattern_batch(3, 0, &len);
	store_be32(batch + RB_LAST_OFFSET_DELTA, 2);
	fix_crc(batch, len);
	cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_CRC, NULL), 0);
	cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_RECORDS, NULL), -TAPE_EBADBATCH);
	free(batch);

	/* A control batch is never as produced. */
	batch = pattern_batch(1, 1, &len);
	store_be16(batch + RB_ATTRIBUTES, RB_ATTR_CONTROL);
	fix_crc(batch, len);
	cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_CRC | RB_CHECK_RECORDS, NULL), 0);
	cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_PRODUCED, NULL), -TAPE_EBADBATCH);
	free(batch);
}

Test(record_batch, magic_must_be_2)
{
	size_t len;
	uint8_t *batch = pattern_batch(1, 1, &len);
	for (int magic = 0; magic < 256; magic++) {
		batch[RB_MAGIC] = (uint8_t)magic;
		int rc = record_batch_validate(batch, len, 0, NULL);
		cr_assert_eq(rc, magic == 2 ? 0 : -TAPE_EBADBATCH, "magic %d", magic);
	}
	free(batch);
}

Test(record_batch, timestamps)
{
	size_t len;
	uint8_t *batch = pattern_batch(3, 1, &len);
	/* CreateTime: maxTimestamp below baseTimestamp is impossible... */
	store_be64(batch + RB_MAX_TIMESTAMP, (uint64_t)(BASE_TS - 1));
	fix_crc(batch, len);
	cr_assert_eq(record_batch_validate(batch, len, 0, NULL), -TAPE_EBADBATCH);
	/* ...unless there are no timestamps (-1)... */
	store_be64(batch + RB_MAX_TIMESTAMP, (uint64_t)-1);
	fix_crc(batch, len);
	cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_CRC, NULL), 0);
	/* ...or the broker's clock stamped it (LogAppendTime)... */
	store_be64(batch + RB_MAX_TIMESTAMP, (uint64_t)(BASE_TS - 1));
	store_be16(batch + RB_ATTRIBUTES, RB_ATTR_LOG_APPEND_TIME);
	fix_crc(batch, len);
	cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_CRC, NULL), 0);
	/* ...or compaction set the delete horizon, which then lives in baseTimestamp (KIP-534):
	 * the horizon is later than every record. */
	store_be16(batch + RB_ATTRIBUTES, RB_ATTR_DELETE_HORIZON);
	store_be64(batch + RB_BASE_TIMESTAMP, (uint64_t)(BASE_TS + 86400000));
	store_be64(batch + RB_MAX_TIMESTAMP, (uint64_t)(BASE_TS + 20));
	fix_crc(batch, len);
	cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_CRC | RB_CHECK_RECORDS, NULL), 0);
	free(batch);
}

Test(record_batch, unknown_codec_is_refused)
{
	size_t len;
	uint8_t *batch = pattern_batch(2, 1, &len);
	for (int codec = 0; codec <= 7; codec++) {
		store_be16(batch + RB_ATTRIBUTES, (uint16_t)codec);
		fix_crc(batch, len);
		int rc = record_batch_validate(batch, len, RB_CHECK_CRC, NULL);
		cr_assert_eq(rc, codec <= COMPRESSION_ZSTD ? 0 : -TAPE_EBADBATCH, "codec %d",
		             codec);
	}
	free(batch);
}

/* ---- headers ----------------------------------------------------------------------------- */

/* One record with the given raw headers section and count, in a batch; returns its size. */
static size_t batch_with_headers(uint8_t *out, size_t cap, const uint8_t *headers, size_t hlen,
                                 int32_t count)
{
	struct record rec = { .key_len = -1,
		              .value_len = 1,
		              .value = (const uint8_t *)"v",
		              .headers_count = count,
		              .headers = headers,
		              .headers_len = hlen };
	uint8_t records[512];
	size_t rlen = record_encode(records, sizeof(records), &rec);
	cr_assert_gt(rlen, 0);
	struct record_batch_header h = pattern_header(1, 1);
	return record_batch_encode(out, cap, &h, records, rlen);
}

Test(record_batch, headers)
{
	/* Many headers, an empty key, empty and null values, binary bytes. */
	struct record_header hs[] = {
		{ 0, (const uint8_t *)"", 0, (const uint8_t *)"" },
		{ 4, (const uint8_t *)"trace", 3, (const uint8_t *)"\x00\xff\x01" },
		{ 1, (const uint8_t *)"n", -1, NULL },
		{ 5, (const uint8_t *)"dup-k", 1, (const uint8_t *)"1" },
		{ 5, (const uint8_t *)"dup-k", 1, (const uint8_t *)"2" },
	};
	uint8_t headers[256];
	size_t hlen = 0;
	for (size_t i = 0; i < 5; i++)
		hlen += record_header_encode(headers + hlen, sizeof(headers) - hlen, &hs[i]);
	uint8_t batch[512];
	size_t len = batch_with_headers(batch, sizeof(batch), headers, hlen, 5);
	cr_assert_eq(record_batch_validate(batch, len, ALL_CHECKS, NULL), 0);
	struct record_iter it;
	struct record r;
	record_iter_init(&it, batch + RB_RECORDS, len - RB_RECORDS, 1);
	cr_assert_eq(record_iter_next(&it, &r), 1);
	cr_assert_eq(r.headers_len, hlen);
	struct record_header_iter hi;
	struct record_header h;
	record_header_iter_init(&hi, &r);
	for (size_t i = 0; i < 5; i++) {
		cr_assert_eq(record_header_iter_next(&hi, &h), 1);
		expect_bytes(h.key, h.key_len, hs[i].key, hs[i].key_len);
		expect_bytes(h.value, h.value_len, hs[i].value, hs[i].value_len);
	}
	cr_assert_eq(record_header_iter_next(&hi, &h), 0);

	/* The count says more, or fewer, headers than the bytes hold. */
	for (int32_t count = 0; count <= 7; count++) {
		if (count == 5)
			continue;
		len = batch_with_headers(batch, sizeof(batch), headers, hlen, count);
		cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_RECORDS, NULL),
		             -TAPE_EBADBATCH, "count %d", count);
	}
	/* A null header key (-1) is not allowed; nor is a negative count. */
	const uint8_t null_key[] = { 0x01, 0x02, 'v' };
	len = batch_with_headers(batch, sizeof(batch), null_key, sizeof(null_key), 1);
	cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_RECORDS, NULL), -TAPE_EBADBATCH);
	len = batch_with_headers(batch, sizeof(batch), NULL, 0, -1);
	cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_RECORDS, NULL), -TAPE_EBADBATCH);
	/* A value length of -2, and a key running past the record. */
	const uint8_t bad_value[] = { 0x02, 'k', 0x03 };
	len = batch_with_headers(batch, sizeof(batch), bad_value, sizeof(bad_value), 1);
	cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_RECORDS, NULL), -TAPE_EBADBATCH);
	const uint8_t long_key[] = { 0x10, 'k', 0x00 };
	len = batch_with_headers(batch, sizeof(batch), long_key, sizeof(long_key), 1);
	cr_assert_eq(record_batch_validate(batch, len, RB_CHECK_RECORDS, NULL), -TAPE_EBADBATCH);

	/* record_header_iter alone, on a record built by hand with a short headers section. */
	struct record fake = { .headers_count = 2, .headers = headers, .headers_len = 2 };
	record_header_iter_init(&hi, &fake);
	cr_assert_eq(record_header_iter_next(&hi, &h), 1); /* "" = "" */
	cr_assert_eq(record_header_iter_next(&hi, &h), -TAPE_EBADBATCH);
	fake.headers_count = 0;
	record_header_iter_init(&hi, &fake);
	cr_assert_eq(record_header_iter_next(&hi, &h), -TAPE_EBADBATCH, "bytes left over");
}

/* ---- stamping ---------------------------------------------------------------------------- */

Test(record_batch, broker_stamps)
{
	size_t len;
	uint8_t *batch = pattern_batch(3, 1, &len);
	uint32_t crc = load_be32(batch + RB_CRC);
	record_batch_set_base_offset(batch, 123456789012ll);
	record_batch_set_leader_epoch(batch, 42);
	struct record_batch_header h;
	cr_assert_eq(record_batch_validate(batch, len, ALL_CHECKS, &h), 0);
	cr_assert_eq(h.base_offset, 123456789012ll);
	cr_assert_eq(h.partition_leader_epoch, 42);
	cr_assert_eq(h.crc, crc, "both outside the CRC");
	cr_assert_eq(record_batch_last_offset(&h), 123456789014ll);

	int64_t now = BASE_TS + 5000;
	record_batch_set_log_append_time(batch, len, now);
	cr_assert_eq(record_batch_validate(batch, len, ALL_CHECKS, &h), 0);
	cr_assert(h.attributes & RB_ATTR_LOG_APPEND_TIME);
	cr_assert_eq(h.max_timestamp, now);
	cr_assert_neq(h.crc, crc);
	cr_assert_eq(h.crc, crc32c(0, batch + RB_ATTRIBUTES, len - RB_ATTRIBUTES));
	cr_assert_eq(h.base_timestamp, BASE_TS, "the records' own times are kept");
	/* A broker clock behind the producer's is still valid. */
	record_batch_set_log_append_time(batch, len, BASE_TS - 1000);
	cr_assert_eq(record_batch_validate(batch, len, ALL_CHECKS, &h), 0);
	cr_assert_eq(h.max_timestamp, BASE_TS - 1000);
	expect_pattern(batch + RB_RECORDS, len - RB_RECORDS, 3, 1);
	free(batch);
}

Test(record_batch, peek_size)
{
	uint8_t buf[RB_HEADER_BYTES] = { 0 };
	for (size_t len = 0; len < RB_LOG_OVERHEAD; len++)
		cr_assert_eq(record_batch_peek_size(buf, len, 1000), 0, "need more at %zu", len);
	/* batchLength 49 is a header and no records: 61 bytes. */
	store_be32(buf + RB_BATCH_LENGTH, RB_HEADER_BYTES - RB_LOG_OVERHEAD);
	cr_assert_eq(record_batch_peek_size(buf, RB_LOG_OVERHEAD, 1000), RB_HEADER_BYTES);
	cr_assert_eq(record_batch_peek_size(buf, RB_LOG_OVERHEAD, RB_HEADER_BYTES),
	             RB_HEADER_BYTES);
	cr_assert_eq(record_batch_peek_size(buf, RB_LOG_OVERHEAD, RB_HEADER_BYTES - 1),
	             -TAPE_EBADBATCH);
	store_be32(buf + RB_BATCH_LENGTH, RB_HEADER_BYTES - RB_LOG_OVERHEAD - 1);
	cr_assert_eq(record_batch_peek_size(buf, sizeof(buf), 1000), -TAPE_EBADBATCH);
	store_be32(buf + RB_BATCH_LENGTH, 0);
	cr_assert_eq(record_batch_peek_size(buf, sizeof(buf), 1000), -TAPE_EBADBATCH);
	store_be32(buf + RB_BATCH_LENGTH, 0x80000000u);
	cr_assert_eq(record_batch_peek_size(buf, sizeof(buf), UINT32_MAX), -TAPE_EBADBATCH);
	/* The limit is on the whole batch, as message.max.bytes (1048588 = 1 MiB + 12). */
	store_be32(buf + RB_BATCH_LENGTH, 1 * MiB);
	cr_assert_eq(record_batch_peek_size(buf, sizeof(buf), BATCH_BYTES_DEFAULT),
	             BATCH_BYTES_DEFAULT);
	store_be32(buf + RB_BATCH_LENGTH, 1 * MiB + 1);
	cr_assert_eq(record_batch_peek_size(buf, sizeof(buf), BATCH_BYTES_DEFAULT),
	             -TAPE_EBADBATCH);
	store_be32(buf + RB_BATCH_LENGTH, INT32_MAX);
	cr_assert_eq(record_batch_peek_size(buf, sizeof(buf), UINT32_MAX),
	             (int64_t)INT32_MAX + RB_LOG_OVERHEAD);
	/* On a real batch, with only its first 12 bytes present. */
	size_t len;
	uint8_t *batch = pattern_batch(10, 1, &len);
	cr_assert_eq(record_batch_peek_size(batch, RB_LOG_OVERHEAD, BATCH_BYTES_MAX), (int64_t)len);
	free(batch);
}

/* ---- encoders ---------------------------------------------------------------------------- */

Test(record_batch, encoders_respect_capacity)
{
	struct record rec;
	char key[32];
	uint8_t headers[128], out[512];
	pattern_record(3 * 4 + 3, 1, &rec, key, sizeof(key), headers, sizeof(headers));
	size_t size = record_encoded_size(&rec);
	for (size_t cap = 0; cap < size; cap++)
		cr_assert_eq(record_encode(out, cap, &rec), 0, "cap %zu", cap);
	cr_assert_eq(record_encode(out, size, &rec), size);

	struct record_header h = { 2, (const uint8_t *)"h1", 2, (const uint8_t *)"v1" };
	for (size_t cap = 0; cap < 6; cap++)
		cr_assert_eq(record_header_encode(out, cap, &h), 0);
	cr_assert_eq(record_header_encode(out, 6, &h), 6);

	struct record_batch_header bh = pattern_header(1, 1);
	uint8_t records[64];
	size_t rlen = record_encode(records, sizeof(records), &rec);
	for (size_t cap = 0; cap < RB_HEADER_BYTES + rlen; cap++)
		cr_assert_eq(record_batch_encode(out, cap, &bh, records, rlen), 0);
	cr_assert_eq(record_batch_encode(out, RB_HEADER_BYTES + rlen, &bh, records, rlen),
	             RB_HEADER_BYTES + rlen);
	/* A records length that would wrap the size computation. */
	cr_assert_eq(record_batch_encode(out, sizeof(out), &bh, records, SIZE_MAX - 20), 0);
	/* No records at all: the 61-byte header alone. */
	bh = pattern_header(0, 1);
	cr_assert_eq(record_batch_encode(out, sizeof(out), &bh, NULL, 0), RB_HEADER_BYTES);
	cr_assert_eq(
	    record_batch_validate(out, RB_HEADER_BYTES, RB_CHECK_CRC | RB_CHECK_RECORDS, NULL), 0);
}

Test(record_batch, large_varints)
{
	/* Values that need the longest varints; a record that round-trips through them. */
	static uint8_t value[300000];
	memset(value, 'x', sizeof(value));
	struct record rec = { .attributes = 0,
		              .timestamp_delta = INT64_MIN,
		              .offset_delta = 0,
		              .key_len = -1,
		              .value_len = (int32_t)sizeof(value),
		              .value = value };
	size_t size = record_encoded_size(&rec);
	uint8_t *out = malloc(size);
	cr_assert_eq(record_encode(out, size, &rec), size);
	struct record_iter it;
	struct record r;
	record_iter_init(&it, out, size, 1);
	cr_assert_eq(record_iter_next(&it, &r), 1);
	cr_assert_eq(r.timestamp_delta, INT64_MIN);
	cr_assert_eq(r.value_len, (int32_t)sizeof(value));
	cr_assert_eq(record_iter_next(&it, &r), 0);
	free(out);
}

/* ---- compressed batches ------------------------------------------------------------------ */

Test(record_batch, compressed_batches)
{
	int n = 200;
	size_t cap = 256 * (size_t)n;
	uint8_t *records = malloc(cap), *batch = malloc(cap + RB_HEADER_BYTES);
	size_t rlen = pattern_records(records, cap, n, 1);
	for (int codec = COMPRESSION_GZIP; codec <= COMPRESSION_ZSTD; codec++) {
		struct compression_buf packed = { 0 }, out = { 0 };
		cr_assert_eq(compression_compress(codec, 0, records, rlen, &packed), 0);
		struct record_batch_header h = pattern_header(n, 1);
		h.attributes = (int16_t)codec;
		size_t len =
		    record_batch_encode(batch, cap + RB_HEADER_BYTES, &h, packed.p, packed.len);
		cr_assert_gt(len, 0);
		struct record_batch_header got;
		/* The walk is for uncompressed sections; the rest applies. */
		cr_assert_eq(record_batch_validate(batch, len, ALL_CHECKS, &got), 0);
		cr_assert_eq(record_batch_codec(&got), codec);
		cr_assert_eq(compression_decompress(codec, batch + RB_RECORDS, len - RB_RECORDS,
		                                    &out, DECOMPRESSED_BYTES_MAX),
		             0);
		cr_assert_eq(out.len, rlen);
		expect_pattern(out.p, out.len, n, 1);
		free(out.p);
		free(packed.p);
	}
	free(batch);
	free(records);
}
