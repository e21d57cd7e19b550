/*
 * tests/unit/client/test_batching.c: the producer's batches (client/pbatch.c) and partition
 * queues (client/pqueue.c), driven with a fake clock.
 *
 * Covers: a sealed batch read back with protocol/record_batch.h's validator (CRC, records,
 * "fresh from a producer") and iterators: keys, values, headers, null key / null value /
 * null header value / empty value, timestamps (an explicit one earlier than the first gives
 * a negative delta), the header fields a producer writes (offset deltas, base and max
 * timestamp, producer id -1 until stamped); every codec compressing a compressible batch
 * (decompressed with protocol/compression.h and read back) and zstd falling back to none when
 * it does not shrink a batch; stamping (producer id, epoch, base sequence, CRC still valid);
 * the batch size limit (records per batch for a given batch_bytes, every batch within it, a
 * record larger than the limit alone in its batch, record order kept across batches);
 * linger (not sendable before linger_ms, sendable at it, at once when a newer batch closed
 * it or when flushing, and pqueue_next_ready saying when); the in-flight bound per partition;
 * a batch waiting for its retry backoff holding back the ones behind it; sequences stamped in
 * order, given back only by the batch stamped last, and wrapping past INT32_MAX to 0.
 */
#include "client/pqueue.h"

#include "base/errors.h"
#include "protocol/compression.h"
#include "protocol/record_batch.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#define T0 1000 /* the fake monotonic clock's start */

static struct buf scratch;

static void setup(void)
{
	buf_init(&scratch, 1 << 20);
}

static void teardown(void)
{
	buf_free(&scratch);
}

static struct tape_record rec_kv(const char *key, const char *value)
{
	struct tape_record r = TAPE_RECORD("t");
	r.key = key;
	r.key_len = key ? (int32_t)strlen(key) : 0;
	r.value = value;
	r.value_len = value ? (int32_t)strlen(value) : 0;
	return r;
}

/* Validates a sealed batch and returns its uncompressed records section (malloc'd). */
static uint8_t *records_of(const struct pbatch *b, struct record_batch_header *h, size_t *len)
{
	cr_assert_eq(record_batch_validate(b->wire, b->wire_len,
	                                   RB_CHECK_CRC | RB_CHECK_RECORDS | RB_CHECK_PRODUCED, h),
	             0);
	cr_assert_eq(record_batch_codec(h), b->codec);
	struct compression_buf out = { 0 };
	const uint8_t *src = b->wire + RB_RECORDS;
	size_t n = b->wire_len - RB_RECORDS;
	if (b->codec == COMPRESSION_NONE) {
		out.p = malloc(n ? n : 1);
		memcpy(out.p, src, n);
		out.len = n;
	} else {
		cr_assert_eq(compression_decompress(b->codec, src, n, &out, 1 << 24), 0);
	}
	*len = out.len;
	return out.p;
}

static void expect_bytes(const uint8_t *p, int32_t len, const char *want)
{
	if (!want) {
		cr_expect_eq(len, -1);
		return;
	}
	cr_assert_eq(len, (int32_t)strlen(want));
	cr_expect_eq(memcmp(p, want, (size_t)len), 0);
}

TestSuite(pbatch, .init = setup, .fini = teardown);
TestSuite(pqueue, .init = setup, .fini = teardown);

Test(pbatch, sealed_batch_reads_back)
{
	struct pbatch *b = pbatch_new(1, 3, T0);
	struct tape_header hs[] = { { "h1", "v1", 2 }, { "trace", NULL, 0 }, { "e", "", 0 } };
	struct tape_record r0 = rec_kv("k0", "hello");
	r0.headers = hs;
	r0.headers_count = 3;
	struct tape_record r1 = rec_kv(NULL, "no key");
	struct tape_record r2 = rec_kv("tomb", NULL);
	struct tape_record r3 = rec_kv("", "");
	int64_t ts[] = { 1700000000000, 1700000000500, 1699999999000, 1700000000100 };
	const struct tape_record *rs[] = { &r0, &r1, &r2, &r3 };
	int opaque[4];
	for (int i = 0; i < 4; i++) {
		struct tape_record r = *rs[i];
		r.opaque = &opaque[i];
		cr_assert_eq(pbatch_append(b, &r, ts[i], 1 << 20, &scratch), 0);
	}
	cr_assert_eq(pbatch_seal(b, COMPRESSION_NONE, 0), 0);
	cr_expect_not(b->open);
	struct record_batch_header h;
	size_t len;
	uint8_t *recs = records_of(b, &h, &len);
	cr_expect_eq(h.base_offset, 0);
	cr_expect_eq(h.partition_leader_epoch, -1);
	cr_expect_eq(h.records_count, 4);
	cr_expect_eq(h.last_offset_delta, 3);
	cr_expect_eq(h.base_timestamp, ts[0]);
	cr_expect_eq(h.max_timestamp, ts[1]);
	cr_expect_eq(h.producer_id, -1);
	cr_expect_eq(h.producer_epoch, -1);
	cr_expect_eq(h.base_sequence, -1);
	cr_expect_eq(h.attributes, 0);

	const char *keys[] = { "k0", NULL, "tomb", "" },
	           *values[] = { "hello", "no key", NULL, "" };
	struct record_iter it;
	struct record rec;
	record_iter_init(&it, recs, len, 4);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(record_iter_next(&it, &rec), 1);
		cr_expect_eq(rec.offset_delta, i);
		cr_expect_eq(rec.timestamp_delta, ts[i] - ts[0]);
		expect_bytes(rec.key, rec.key_len, keys[i]);
		expect_bytes(rec.value, rec.value_len, values[i]);
		cr_expect_eq(rec.headers_count, i == 0 ? 3 : 0);
		cr_expect_eq(b->recs[i].opaque, &opaque[i]);
		cr_expect_eq(b->recs[i].timestamp_ms, ts[i]);
	}
	cr_expect_eq(record_iter_next(&it, &rec), 0);
	/* The first record's headers, in order, a null value kept null. */
	record_iter_init(&it, recs, len, 4);
	record_iter_next(&it, &rec);
	struct record_header_iter hi;
	struct record_header rh;
	record_header_iter_init(&hi, &rec);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(record_header_iter_next(&hi, &rh), 1);
		expect_bytes(rh.key, rh.key_len, hs[i].name);
		expect_bytes(rh.value, rh.value_len, hs[i].value);
	}
	cr_expect_eq(record_header_iter_next(&hi, &rh), 0);
	free(recs);
	pbatch_free(b);
}

Test(pbatch, every_codec_compresses_and_reads_back)
{
	const int codecs[] = { COMPRESSION_GZIP, COMPRESSION_SNAPPY, COMPRESSION_LZ4,
		               COMPRESSION_ZSTD };
	for (size_t c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++) {
		struct pbatch *b = pbatch_new(1, 0, T0);
		char key[32], value[128];
		for (int i = 0; i < 200; i++) {
			snprintf(key, sizeof(key), "key-%d", i);
			snprintf(value, sizeof(value), "{\"event\":\"order.created\",\"id\":%d}",
			         i);
			struct tape_record r = rec_kv(key, value);
			cr_assert_eq(pbatch_append(b, &r, 1700000000000 + i, 1 << 20, &scratch), 0);
		}
		size_t plain = b->records.len - RB_HEADER_BYTES;
		cr_assert_eq(pbatch_seal(b, codecs[c], 0), 0);
		cr_expect_eq(b->codec, codecs[c], "%s", compression_name(codecs[c]));
		cr_expect_lt(b->wire_len, RB_HEADER_BYTES + plain);
		struct record_batch_header h;
		size_t len;
		uint8_t *recs = records_of(b, &h, &len);
		cr_expect_eq(len, plain);
		struct record_iter it;
		struct record rec;
		record_iter_init(&it, recs, len, 200);
		for (int i = 0; i < 200; i++) {
			cr_assert_eq(record_iter_next(&it, &rec), 1);
			snprintf(key, sizeof(key), "key-%d", i);
			expect_bytes(rec.key, rec.key_len, key);
			cr_expect_eq(rec.timestamp_delta, i);
		}
		free(recs);
		pbatch_free(b);
	}
}

Test(pbatch, zstd_that_does_not_shrink_goes_uncompressed)
{
	struct pbatch *b = pbatch_new(1, 0, T0);
	struct tape_record r = rec_kv(NULL, "x7#qL");
	cr_assert_eq(pbatch_append(b, &r, 5, 1 << 20, &scratch), 0);
	cr_assert_eq(pbatch_seal(b, COMPRESSION_ZSTD, 0), 0);
	cr_expect_eq(b->codec, COMPRESSION_NONE);
	struct record_batch_header h;
	size_t len;
	free(records_of(b, &h, &len));
	cr_expect_eq(h.attributes & RB_ATTR_CODEC_MASK, 0);
	pbatch_free(b);
}

Test(pbatch, stamp_sets_producer_fields_and_keeps_crc_valid)
{
	struct pbatch *b = pbatch_new(1, 0, T0);
	struct tape_record r = rec_kv("k", "v");
	for (int i = 0; i < 5; i++)
		cr_assert_eq(pbatch_append(b, &r, 7, 1 << 20, &scratch), 0);
	cr_assert_eq(pbatch_seal(b, COMPRESSION_NONE, 0), 0);
	pbatch_stamp(b, 4242, 3, 100);
	struct record_batch_header h;
	size_t len;
	free(records_of(b, &h, &len)); /* validates the CRC */
	cr_expect_eq(h.producer_id, 4242);
	cr_expect_eq(h.producer_epoch, 3);
	cr_expect_eq(h.base_sequence, 100);
	/* Restamping (a new producer id) rewrites them again. */
	pbatch_stamp(b, 4243, 0, 0);
	free(records_of(b, &h, &len));
	cr_expect_eq(h.producer_id, 4243);
	cr_expect_eq(h.base_sequence, 0);
	pbatch_free(b);
}

Test(pbatch, size_limit_and_a_lone_large_record)
{
	struct pbatch *b = pbatch_new(1, 0, T0);
	char value[101];
	memset(value, 'v', 100);
	value[100] = '\0';
	struct tape_record r = rec_kv(NULL, value);
	size_t one = pbatch_record_bytes(&r, 0, 0);
	/* Room for exactly 4 such records (offset deltas stay one byte). */
	size_t limit = RB_HEADER_BYTES + 4 * one;
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pbatch_append(b, &r, 1, limit, &scratch), 0, "record %d", i);
	cr_expect_eq(pbatch_append(b, &r, 1, limit, &scratch), PBATCH_FULL);
	cr_expect_eq(b->count, 4);
	pbatch_free(b);
	/* A record above the limit still goes into an empty batch. */
	b = pbatch_new(2, 0, T0);
	cr_expect_eq(pbatch_append(b, &r, 1, 10, &scratch), 0);
	cr_expect_eq(pbatch_append(b, &r, 1, 10, &scratch), PBATCH_FULL);
	pbatch_free(b);
}

/* ---- queues ----------------------------------------------------------------------------- */

static void free_queue(struct pqueue *q)
{
	while (q->head) {
		struct pbatch *b = q->head;
		pqueue_remove(q, b);
		pbatch_free(b);
	}
}

Test(pqueue, records_per_batch_and_order)
{
	struct pqueue q = { 0 };
	struct pqueue_rules rules = { .batch_bytes_max = 1000, .linger_ms = 5, .in_flight_max = 5 };
	uint64_t id = 1;
	char value[101];
	memset(value, 'a', 100);
	value[100] = '\0';
	struct tape_record r = rec_kv("key", value);
	size_t one = pbatch_record_bytes(&r, 0, 0);
	int per_batch = (int)((1000 - RB_HEADER_BYTES) / one);
	for (int i = 0; i < 50; i++) {
		struct pbatch *b;
		cr_assert_eq(
		    pqueue_append(&q, 0, &r, 1700000000000 + i, T0, &rules, &scratch, &id, &b), 0);
		cr_assert_eq(b, q.tail);
	}
	cr_expect_eq(q.batches_count, (50 + per_batch - 1) / per_batch, "%d per batch", per_batch);
	int seen = 0;
	for (struct pbatch *b = q.head; b; b = b->next) {
		cr_expect_eq(b->count, b->next ? per_batch : 50 - seen);
		cr_expect_eq(b->recs[0].timestamp_ms, 1700000000000 + seen);
		cr_assert_eq(pbatch_seal(b, COMPRESSION_NONE, 0), 0);
		cr_expect_leq(b->wire_len, 1000);
		seen += b->count;
	}
	cr_expect_eq(seen, 50);
	free_queue(&q);
}

Test(pqueue, linger_flush_and_closed_batches)
{
	struct pqueue q = { 0 };
	struct pqueue_rules rules = { .batch_bytes_max = 200, .linger_ms = 5, .in_flight_max = 5 };
	uint64_t id = 1;
	struct pbatch *b;
	struct tape_record r = rec_kv("k", "0123456789012345678901234567890123456789");
	cr_assert_eq(pqueue_append(&q, 0, &r, 1, T0, &rules, &scratch, &id, &b), 0);
	cr_expect_null(pqueue_sendable(&q, T0, &rules, false));
	cr_expect_null(pqueue_sendable(&q, T0 + 4, &rules, false));
	cr_expect_eq(pqueue_next_ready(&q, &rules), T0 + 5);
	cr_expect_eq(pqueue_sendable(&q, T0 + 5, &rules, false), b);
	cr_expect_eq(pqueue_sendable(&q, T0, &rules, true), b, "flushing ignores linger");
	/* Filling it opens a second batch at T0 + 2: the first is closed, so sendable at once;
	 * once it is in flight the second lingers from its own start. */
	struct pbatch *b2 = NULL;
	while (q.batches_count == 1)
		cr_assert_eq(pqueue_append(&q, 0, &r, 1, T0 + 2, &rules, &scratch, &id, &b2), 0);
	cr_assert_neq(b2, b);
	cr_expect_eq(pqueue_sendable(&q, T0 + 2, &rules, false), b);
	cr_expect_eq(pqueue_next_ready(&q, &rules), 0, "closed: ready since always");
	b->in_flight = true;
	q.in_flight++;
	cr_expect_null(pqueue_sendable(&q, T0 + 6, &rules, false));
	cr_expect_eq(pqueue_next_ready(&q, &rules), T0 + 7);
	cr_expect_eq(pqueue_sendable(&q, T0 + 7, &rules, false), b2);
	free_queue(&q);
}

Test(pqueue, in_flight_bound_and_retry_backoff_keep_order)
{
	struct pqueue q = { 0 };
	struct pqueue_rules rules = { .batch_bytes_max = 100, .linger_ms = 0, .in_flight_max = 1 };
	uint64_t id = 1;
	struct pbatch *b;
	struct tape_record r = rec_kv("k", "01234567890123456789");
	while (q.batches_count < 3)
		cr_assert_eq(pqueue_append(&q, 0, &r, 1, T0, &rules, &scratch, &id, &b), 0);
	struct pbatch *b1 = q.head, *b2 = b1->next;
	cr_expect_eq(pqueue_sendable(&q, T0, &rules, false), b1);
	b1->in_flight = true;
	q.in_flight++;
	cr_expect_null(pqueue_sendable(&q, T0, &rules, false), "one in flight per partition");
	rules.in_flight_max = 2;
	cr_expect_eq(pqueue_sendable(&q, T0, &rules, false), b2);
	/* b1 fails and waits 100 ms: b2 waits behind it. */
	b1->in_flight = false;
	q.in_flight--;
	b1->retry_at_ms = T0 + 100;
	cr_expect_null(pqueue_sendable(&q, T0 + 50, &rules, false));
	cr_expect_eq(pqueue_next_ready(&q, &rules), T0 + 100);
	cr_expect_eq(pqueue_sendable(&q, T0 + 100, &rules, false), b1);
	/* Done batches leave from anywhere; the tail follows. */
	pqueue_remove(&q, b2);
	pbatch_free(b2);
	cr_expect_eq(q.head, b1);
	cr_expect_eq(q.head->next, q.tail);
	cr_expect_eq(q.batches_count, 2);
	free_queue(&q);
	cr_expect_null(q.head);
	cr_expect_null(q.tail);
}

Test(pqueue, sequences_in_order_given_back_and_wrapping)
{
	struct pqueue q = { 0 };
	struct pqueue_rules rules = { .batch_bytes_max = 120, .linger_ms = 0, .in_flight_max = 1 };
	uint64_t id = 1;
	struct pbatch *b;
	struct tape_record r = rec_kv("k", "0123456789");
	while (q.batches_count < 4)
		cr_assert_eq(pqueue_append(&q, 0, &r, 1, T0, &rules, &scratch, &id, &b), 0);
	int32_t want = 0;
	struct pbatch *last = NULL;
	for (struct pbatch *x = q.head; x && x->next; x = x->next) { /* all but the open tail */
		cr_assert_eq(pbatch_seal(x, COMPRESSION_NONE, 0), 0);
		pqueue_stamp(&q, x, 77, 0);
		cr_expect_eq(x->base_sequence, want);
		struct record_batch_header h;
		cr_assert_eq(record_batch_validate(x->wire, x->wire_len, RB_CHECK_CRC, &h), 0);
		cr_expect_eq(h.base_sequence, want);
		want += x->count;
		last = x;
	}
	cr_expect_eq(q.next_sequence, want);
	cr_expect_not(pqueue_unstamp(&q, q.head), "not the last stamped");
	cr_expect_eq(q.next_sequence, want);
	cr_expect(pqueue_unstamp(&q, last));
	cr_expect_eq(q.next_sequence, last->base_sequence);
	/* Kafka's wrap: INT32_MAX - 1 + 3 is 0 + 1. */
	cr_expect_eq(pqueue_sequence_add(INT32_MAX - 1, 3), 1);
	cr_expect_eq(pqueue_sequence_add(INT32_MAX, 1), 0);
	cr_expect_eq(pqueue_sequence_add(1, -3), INT32_MAX - 1);
	q.next_sequence = INT32_MAX - 1;
	pqueue_stamp(&q, last, 77, 0);
	cr_expect_eq(last->base_sequence, INT32_MAX - 1);
	cr_expect_eq(q.next_sequence, pqueue_sequence_add(INT32_MAX - 1, last->count));
	cr_expect(pqueue_unstamp(&q, last));
	cr_expect_eq(q.next_sequence, INT32_MAX - 1);
	free_queue(&q);
}
