/*
 * tests/unit/protocol/test_fetch.c: the Fetch (1) codec, v4-11 (protocol/fetch.c).
 *
 * Covers: request and response encode -> decode round trips for every version 4-11 with a
 * non-default value in every field (a follower replica id, sessions, leader epochs, forgotten
 * topics, a rack, aborted transactions null / empty / two, a preferred read replica, inline,
 * empty and null records), field by field, with the fields a version lacks coming back as the
 * schema's defaults; a v11 request and a v11 response written byte by byte from the schema's
 * field order and compared with the encoders and decoded; external records: the holes' number
 * and positions (after whatever the buf held before), the message spliced together as the
 * broker would send it decoding to the runs, zero-length runs, too few holes marking the buf
 * bad, the count and byte helpers; versions outside 4-11 refused; every truncation refused
 * (each prefix in a buffer of its own size, for ASan); trailing bytes refused; absurd counts
 * and lengths in small buffers refused with the arena nearly empty.
 */
#include "protocol/fetch.h"

#include "base/endian.h"
#include "base/errors.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_LIMIT (1 << 20)

/* ---- samples ----------------------------------------------------------------------------- */

static struct fetch_request_partition alpha_fetch[] = {
	{ .partition = 0,
	  .current_leader_epoch = 5,
	  .fetch_offset = 100,
	  .log_start_offset = 10,
	  .partition_max_bytes = 1048576 },
	{ .partition = 9,
	  .current_leader_epoch = 2147483647,
	  .fetch_offset = 9000000000ll,
	  .log_start_offset = 0,
	  .partition_max_bytes = 1 },
};
static struct fetch_request_topic request_topics[] = {
	{ KSTR("alpha"), 2, alpha_fetch },
	{ KSTR("b"), 0, NULL },
};
static int32_t gone_partitions[] = { 1, 2, 3 };
static struct fetch_request_forgotten_topic forgotten[] = {
	{ KSTR("gone"), 3, gone_partitions },
	{ KSTR("x"), 0, NULL },
};
static const struct fetch_request sample_request = {
	.replica_id = 2,
	.max_wait_ms = 500,
	.min_bytes = 1,
	.max_bytes = 52428800,
	.isolation_level = 1,
	.session_id = 77,
	.session_epoch = 3,
	.topics_count = 2,
	.topics = request_topics,
	.forgotten_topics_data_count = 2,
	.forgotten_topics_data = forgotten,
	.rack_id = KSTR("rack-1"),
};

static const uint8_t batch[] = { 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 9, 0, 0, 0, 3, 2, 7, 7, 7 };
static struct fetch_response_aborted_transaction aborted[] = { { 7, 100 }, { 8, 200 } };
static struct fetch_response_partition alpha_data[] = {
	{ .partition_index = 0,
	  .error_code = 0,
	  .high_watermark = 1000,
	  .last_stable_offset = 990,
	  .log_start_offset = 5,
	  .aborted_transactions_count = 2,
	  .aborted_transactions = aborted,
	  .preferred_read_replica = 2,
	  .records = { batch, sizeof(batch) } },
	{ .partition_index = 1,
	  .error_code = 1,
	  .high_watermark = 3,
	  .last_stable_offset = 3,
	  .log_start_offset = 0,
	  .aborted_transactions_count = -1,
	  .preferred_read_replica = 3,
	  .records = { NULL, -1 } },
};
static struct fetch_response_partition beta_data[] = {
	{ .partition_index = 4,
	  .error_code = 6,
	  .high_watermark = -1,
	  .last_stable_offset = -1,
	  .log_start_offset = -1,
	  .aborted_transactions_count = 0,
	  .aborted_transactions = aborted,
	  .preferred_read_replica = 0,
	  .records = { batch, 0 } },
};
static struct fetch_response_topic response_topics[] = {
	{ KSTR("alpha"), 2, alpha_data },
	{ KSTR("b"), 1, beta_data },
	{ KSTR("none"), 0, NULL },
};
static const struct fetch_response sample_response = {
	.throttle_time_ms = 20,
	.error_code = 71,
	.session_id = 12345,
	.responses_count = 3,
	.responses = response_topics,
};

/* ---- comparisons ------------------------------------------------------------------------- */

static void assert_kstr_eq(struct kstr got, struct kstr want)
{
	cr_assert_eq(got.len, want.len);
	if (want.len > 0)
		cr_assert(memcmp(got.p, want.p, (size_t)want.len) == 0);
}

static void assert_kbytes_eq(struct kbytes got, struct kbytes want)
{
	cr_assert_eq(got.len, want.len);
	if (want.len < 0)
		cr_assert_null(got.p);
	else
		cr_assert_not_null(got.p);
	if (want.len > 0)
		cr_assert(memcmp(got.p, want.p, (size_t)want.len) == 0);
}

static void assert_request_eq(int16_t v, const struct fetch_request *got,
                              const struct fetch_request *want)
{
	cr_assert_eq(got->replica_id, want->replica_id);
	cr_assert_eq(got->max_wait_ms, want->max_wait_ms);
	cr_assert_eq(got->min_bytes, want->min_bytes);
	cr_assert_eq(got->max_bytes, want->max_bytes);
	cr_assert_eq(got->isolation_level, want->isolation_level);
	cr_assert_eq(got->session_id, v >= 7 ? want->session_id : 0, "v%d", v);
	cr_assert_eq(got->session_epoch, v >= 7 ? want->session_epoch : -1, "v%d", v);
	cr_assert_eq(got->topics_count, want->topics_count);
	for (int32_t i = 0; i < want->topics_count; i++) {
		const struct fetch_request_topic *g = &got->topics[i], *w = &want->topics[i];
		assert_kstr_eq(g->topic, w->topic);
		cr_assert_eq(g->partitions_count, w->partitions_count);
		for (int32_t j = 0; j < w->partitions_count; j++) {
			const struct fetch_request_partition *gp = &g->partitions[j];
			const struct fetch_request_partition *wp = &w->partitions[j];
			cr_assert_eq(gp->partition, wp->partition);
			cr_assert_eq(gp->current_leader_epoch,
			             v >= 9 ? wp->current_leader_epoch : -1, "v%d", v);
			cr_assert_eq(gp->fetch_offset, wp->fetch_offset);
			cr_assert_eq(gp->log_start_offset, v >= 5 ? wp->log_start_offset : -1);
			cr_assert_eq(gp->partition_max_bytes, wp->partition_max_bytes);
		}
	}
	if (v < 7) {
		cr_assert_eq(got->forgotten_topics_data_count, 0);
	} else {
		cr_assert_eq(got->forgotten_topics_data_count, want->forgotten_topics_data_count);
		for (int32_t i = 0; i < want->forgotten_topics_data_count; i++) {
			const struct fetch_request_forgotten_topic *g =
			    &got->forgotten_topics_data[i];
			const struct fetch_request_forgotten_topic *w =
			    &want->forgotten_topics_data[i];
			assert_kstr_eq(g->topic, w->topic);
			cr_assert_eq(g->partitions_count, w->partitions_count);
			for (int32_t j = 0; j < w->partitions_count; j++)
				cr_assert_eq(g->partitions[j], w->partitions[j]);
		}
	}
	if (v >= 11)
		assert_kstr_eq(got->rack_id, want->rack_id);
	else
		cr_assert(kstr_eq(got->rack_id, ""), "v%d", v);
}

static void assert_partition_eq(int16_t v, const struct fetch_response_partition *g,
                                const struct fetch_response_partition *w)
{
	cr_assert_eq(g->partition_index, w->partition_index);
	cr_assert_eq(g->error_code, w->error_code);
	cr_assert_eq(g->high_watermark, w->high_watermark);
	cr_assert_eq(g->last_stable_offset, w->last_stable_offset);
	cr_assert_eq(g->log_start_offset, v >= 5 ? w->log_start_offset : -1, "v%d", v);
	cr_assert_eq(g->aborted_transactions_count, w->aborted_transactions_count);
	if (w->aborted_transactions_count < 0)
		cr_assert_null(g->aborted_transactions);
	for (int32_t k = 0; k < w->aborted_transactions_count; k++) {
		cr_assert_eq(g->aborted_transactions[k].producer_id,
		             w->aborted_transactions[k].producer_id);
		cr_assert_eq(g->aborted_transactions[k].first_offset,
		             w->aborted_transactions[k].first_offset);
	}
	cr_assert_eq(g->preferred_read_replica, v >= 11 ? w->preferred_read_replica : -1, "v%d", v);
	assert_kbytes_eq(g->records, w->records);
}

static void assert_response_eq(int16_t v, const struct fetch_response *got,
                               const struct fetch_response *want)
{
	cr_assert_eq(got->throttle_time_ms, want->throttle_time_ms);
	cr_assert_eq(got->error_code, v >= 7 ? want->error_code : 0, "v%d", v);
	cr_assert_eq(got->session_id, v >= 7 ? want->session_id : 0, "v%d", v);
	cr_assert_eq(got->responses_count, want->responses_count);
	for (int32_t i = 0; i < want->responses_count; i++) {
		const struct fetch_response_topic *g = &got->responses[i], *w = &want->responses[i];
		assert_kstr_eq(g->topic, w->topic);
		cr_assert_eq(g->partitions_count, w->partitions_count);
		for (int32_t j = 0; j < w->partitions_count; j++)
			assert_partition_eq(v, &g->partitions[j], &w->partitions[j]);
	}
}

/* ---- helpers ----------------------------------------------------------------------------- */

static int decode_at(bool request, int16_t version, const uint8_t *p, size_t n, struct arena *a,
                     void *out)
{
	struct cursor c;
	cursor_init(&c, p, n);
	return request ? fetch_request_decode(&c, a, version, out)
	               : fetch_response_decode(&c, a, version, out);
}

/* Decodes from a heap copy of exactly n bytes (ASan sees any over-read), freed on return: only
 * the result code is to be looked at. */
static int decode_copy(bool request, int16_t version, const uint8_t *p, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	cr_assert_not_null(copy);
	if (n)
		memcpy(copy, p, n);
	struct arena a;
	arena_init(&a, ARENA_LIMIT);
	struct fetch_request req;
	struct fetch_response resp;
	int rc = decode_at(request, version, copy, n, &a, request ? (void *)&req : (void *)&resp);
	cr_assert_lt(a.used, 4096, "arena %zu after %zu bytes", a.used, n);
	arena_free(&a);
	free(copy);
	return rc;
}

static void encode(bool request, int16_t version, struct buf *b)
{
	buf_init(b, 1 << 20);
	if (request) {
		fetch_request_encode(b, version, &sample_request);
	} else {
		size_t holes_count = 99;
		fetch_response_encode(b, version, &sample_response, NULL, 0, &holes_count);
		cr_assert_eq(holes_count, 0);
	}
	cr_assert(buf_ok(b));
}

/* ---- round trips ------------------------------------------------------------------------- */

Test(fetch, request_round_trip_every_version)
{
	for (int16_t v = FETCH_VERSION_MIN; v <= FETCH_VERSION_MAX; v++) {
		struct buf b;
		struct arena a;
		struct fetch_request got;
		encode(true, v, &b);
		arena_init(&a, ARENA_LIMIT);
		cr_assert_eq(decode_at(true, v, b.p, b.len, &a, &got), 0, "v%d", v);
		assert_request_eq(v, &got, &sample_request);
		arena_free(&a);
		buf_free(&b);
	}
}

Test(fetch, response_round_trip_every_version)
{
	for (int16_t v = FETCH_VERSION_MIN; v <= FETCH_VERSION_MAX; v++) {
		struct buf b;
		struct arena a;
		struct fetch_response got;
		encode(false, v, &b);
		arena_init(&a, ARENA_LIMIT);
		cr_assert_eq(decode_at(false, v, b.p, b.len, &a, &got), 0, "v%d", v);
		assert_response_eq(v, &got, &sample_response);
		/* Records are read in place, as the client wants them. */
		const uint8_t *records = got.responses[0].partitions[0].records.p;
		cr_assert(records > b.p && records + sizeof(batch) <= b.p + b.len);
		arena_free(&a);
		buf_free(&b);
	}
}

Test(fetch, versions_outside_4_to_11_refused)
{
	const int16_t bad[] = { -1, 0, 3, 12, 13, 17 };
	struct buf b;
	encode(true, 4, &b);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(decode_copy(true, bad[i], b.p, b.len), -TAPE_EPROTO);
		cr_assert_eq(decode_copy(false, bad[i], b.p, b.len), -TAPE_EPROTO);
		struct buf e;
		buf_init(&e, 1 << 20);
		fetch_request_encode(&e, bad[i], &sample_request);
		cr_assert(!buf_ok(&e));
		buf_clear(&e);
		size_t holes_count = 99;
		fetch_response_encode(&e, bad[i], &sample_response, NULL, 0, &holes_count);
		cr_assert(!buf_ok(&e));
		cr_assert_eq(holes_count, 0);
		buf_free(&e);
	}
	buf_free(&b);
}

/* ---- bytes from the schema --------------------------------------------------------------- */

/* FetchRequest v11, field by field from the schema. */
static const uint8_t request_v11[] = {
	0xff, 0xff, 0xff, 0xff,                         /* replica_id -1 */
	0x00, 0x00, 0x01, 0xf4,                         /* max_wait_ms 500 */
	0x00, 0x00, 0x00, 0x01,                         /* min_bytes 1 */
	0x03, 0x20, 0x00, 0x00,                         /* max_bytes 52428800 */
	0x01,                                           /* isolation_level 1 */
	0x00, 0x00, 0x00, 0x00,                         /* session_id 0 */
	0xff, 0xff, 0xff, 0xff,                         /* session_epoch -1 */
	0x00, 0x00, 0x00, 0x01,                         /* topics: 1 */
	0x00, 0x01, 't',                                /*   topic */
	0x00, 0x00, 0x00, 0x01,                         /*   partitions: 1 */
	0x00, 0x00, 0x00, 0x02,                         /*     partition 2 */
	0x00, 0x00, 0x00, 0x05,                         /*     current_leader_epoch 5 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, /*     fetch_offset 100 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /*     log_start_offset -1 */
	0x00, 0x10, 0x00, 0x00,                         /*     partition_max_bytes 1 MiB */
	0x00, 0x00, 0x00, 0x01,                         /* forgotten_topics_data: 1 */
	0x00, 0x01, 'f',                                /*   topic */
	0x00, 0x00, 0x00, 0x02,                         /*   partitions: 2 */
	0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, /*     3, 4 */
	0x00, 0x02, 'r',  '1',                          /* rack_id */
};

Test(fetch, request_v11_bytes)
{
	struct fetch_request_partition part = { 2, 5, 100, -1, 1048576 };
	struct fetch_request_topic topic = { KSTR("t"), 1, &part };
	int32_t fparts[] = { 3, 4 };
	struct fetch_request_forgotten_topic ftopic = { KSTR("f"), 2, fparts };
	struct fetch_request r = {
		-1, 500, 1, 52428800, 1, 0, -1, 1, &topic, 1, &ftopic, KSTR("r1")
	};
	struct buf b;
	buf_init(&b, 1 << 20);
	fetch_request_encode(&b, 11, &r);
	cr_assert(buf_ok(&b));
	cr_assert_eq(b.len, sizeof(request_v11));
	cr_assert(memcmp(b.p, request_v11, sizeof(request_v11)) == 0);
	buf_free(&b);

	struct arena a;
	arena_init(&a, ARENA_LIMIT);
	struct fetch_request got;
	cr_assert_eq(decode_at(true, 11, request_v11, sizeof(request_v11), &a, &got), 0);
	assert_request_eq(11, &got, &r);
	arena_free(&a);
}

/* FetchResponse v11, field by field from the schema. */
static const uint8_t response_v11[] = {
	0x00, 0x00, 0x00, 0x00,                         /* throttle_time_ms 0 */
	0x00, 0x00,                                     /* error_code 0 */
	0x00, 0x00, 0x00, 0x00,                         /* session_id 0 */
	0x00, 0x00, 0x00, 0x01,                         /* responses: 1 */
	0x00, 0x01, 't',                                /*   topic */
	0x00, 0x00, 0x00, 0x01,                         /*   partitions: 1 */
	0x00, 0x00, 0x00, 0x00,                         /*     partition_index 0 */
	0x00, 0x00,                                     /*     error_code 0 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, /*     high_watermark 10 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, /*     last_stable_offset 10 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /*     log_start_offset 0 */
	0x00, 0x00, 0x00, 0x01,                         /*     aborted_transactions: 1 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, /*       producer_id 9 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, /*       first_offset 3 */
	0xff, 0xff, 0xff, 0xff,                         /*     preferred_read_replica -1 */
	0x00, 0x00, 0x00, 0x03, 'a',  'b',  'c',        /*     records: 3 bytes */
};

Test(fetch, response_v11_bytes)
{
	struct fetch_response_aborted_transaction txn = { 9, 3 };
	struct fetch_response_partition part = {
		0, 0, 10, 10, 0, 1, &txn, -1, { (const uint8_t *)"abc", 3 },
	};
	struct fetch_response_topic topic = { KSTR("t"), 1, &part };
	struct fetch_response r = { 0, 0, 0, 1, &topic };
	struct buf b;
	size_t holes[1], holes_count;
	buf_init(&b, 1 << 20);
	fetch_response_encode(&b, 11, &r, holes, 1, &holes_count);
	cr_assert(buf_ok(&b));
	cr_assert_eq(holes_count, 0);
	cr_assert_eq(b.len, sizeof(response_v11));
	cr_assert(memcmp(b.p, response_v11, sizeof(response_v11)) == 0);

	/* The same with the records external: the body stops where they would go. */
	buf_clear(&b);
	part.records = (struct kbytes){ NULL, 3 };
	fetch_response_encode(&b, 11, &r, holes, 1, &holes_count);
	cr_assert(buf_ok(&b));
	cr_assert_eq(holes_count, 1);
	cr_assert_eq(holes[0], sizeof(response_v11) - 3);
	cr_assert_eq(b.len, sizeof(response_v11) - 3);
	cr_assert(memcmp(b.p, response_v11, b.len) == 0);
	buf_free(&b);

	struct arena a;
	arena_init(&a, ARENA_LIMIT);
	struct fetch_response got;
	cr_assert_eq(decode_at(false, 11, response_v11, sizeof(response_v11), &a, &got), 0);
	part.records = (struct kbytes){ (const uint8_t *)"abc", 3 };
	assert_response_eq(11, &got, &r);
	arena_free(&a);
}

/* ---- external records -------------------------------------------------------------------- */

Test(fetch, external_records_spliced)
{
	static const uint8_t run0[] = "HELLO", run2[] = "xyz";
	struct fetch_response_partition parts[] = {
		{ .partition_index = 0,
		  .aborted_transactions_count = -1,
		  .records = { (const uint8_t *)"abc", 3 } },
		{ .partition_index = 1, .aborted_transactions_count = -1, .records = { NULL, 5 } },
		{ .partition_index = 2, .aborted_transactions_count = -1, .records = { NULL, -1 } },
		{ .partition_index = 3, .aborted_transactions_count = 0, .records = { NULL, 0 } },
	};
	struct fetch_response_partition last = { .partition_index = 4,
		                                 .aborted_transactions_count = -1,
		                                 .records = { NULL, 3 } };
	struct fetch_response_topic topics[] = { { KSTR("t"), 4, parts }, { KSTR("u"), 1, &last } };
	struct fetch_response r = { .responses_count = 2, .responses = topics };
	const struct kbytes runs[] = { { run0, 5 }, { run0, 0 }, { run2, 3 } };
	cr_assert_eq(fetch_response_external_count(&r), 3);
	cr_assert_eq(fetch_response_external_bytes(&r), 8);

	for (int16_t v = FETCH_VERSION_MIN; v <= FETCH_VERSION_MAX; v++) {
		struct buf b;
		size_t holes[4], holes_count = 0;
		buf_init(&b, 1 << 20);
		buf_i32(&b, 0x11223344); /* stands for what the caller wrote before the body */
		fetch_response_encode(&b, v, &r, holes, 4, &holes_count);
		cr_assert(buf_ok(&b));
		cr_assert_eq(holes_count, 3);
		/* Each hole follows the run's int32 length, in order. */
		for (size_t i = 0; i < holes_count; i++) {
			cr_assert(holes[i] >= 8 && holes[i] <= b.len);
			cr_assert(i == 0 || holes[i] > holes[i - 1]);
			cr_assert_eq((int32_t)load_be32(b.p + holes[i] - 4), runs[i].len);
		}
		/* Splice as the broker sends: buf[0, h0) + run 0 + buf[h0, h1) + run 1 + ... */
		size_t total = b.len + 8, at = 0, from = 0;
		uint8_t *msg = malloc(total);
		for (size_t i = 0; i < holes_count; i++) {
			memcpy(msg + at, b.p + from, holes[i] - from);
			at += holes[i] - from;
			memcpy(msg + at, runs[i].p, (size_t)runs[i].len);
			at += (size_t)runs[i].len;
			from = holes[i];
		}
		memcpy(msg + at, b.p + from, b.len - from);
		cr_assert_eq(at + b.len - from, total);
		cr_assert(memcmp(msg, b.p, 4) == 0);

		struct arena a;
		arena_init(&a, ARENA_LIMIT);
		struct fetch_response got;
		cr_assert_eq(decode_at(false, v, msg + 4, total - 4, &a, &got), 0, "v%d", v);
		parts[1].records = runs[0];
		parts[3].records = runs[1];
		last.records = runs[2];
		assert_response_eq(v, &got, &r);
		parts[1].records = (struct kbytes){ NULL, 5 };
		parts[3].records = (struct kbytes){ NULL, 0 };
		last.records = (struct kbytes){ NULL, 3 };
		arena_free(&a);
		free(msg);
		buf_free(&b);
	}
}

Test(fetch, too_few_holes_mark_the_buf_bad)
{
	struct fetch_response_partition parts[] = {
		{ .aborted_transactions_count = -1, .records = { NULL, 5 } },
		{ .aborted_transactions_count = -1, .records = { NULL, 6 } },
	};
	struct fetch_response_topic topic = { KSTR("t"), 2, parts };
	struct fetch_response r = { .responses_count = 1, .responses = &topic };
	size_t holes[2], holes_count;
	struct buf b;
	buf_init(&b, 1 << 20);
	fetch_response_encode(&b, 11, &r, holes, 1, &holes_count);
	cr_assert(!buf_ok(&b));
	cr_assert_eq(holes_count, 1);
	buf_clear(&b);
	fetch_response_encode(&b, 11, &r, NULL, 0, &holes_count);
	cr_assert(!buf_ok(&b));
	cr_assert_eq(holes_count, 0);
	buf_clear(&b);
	fetch_response_encode(&b, 11, &r, holes, 2, &holes_count);
	cr_assert(buf_ok(&b));
	cr_assert_eq(holes_count, 2);
	buf_free(&b);
}

/* ---- bad input --------------------------------------------------------------------------- */

Test(fetch, every_truncation_refused)
{
	for (int kind = 0; kind < 2; kind++) {
		for (int16_t v = FETCH_VERSION_MIN; v <= FETCH_VERSION_MAX; v++) {
			struct buf b;
			encode(kind == 0, v, &b);
			for (size_t n = 0; n < b.len; n++)
				cr_assert_eq(decode_copy(kind == 0, v, b.p, n), -TAPE_EPROTO,
				             "kind %d v%d n %zu", kind, v, n);
			buf_free(&b);
		}
	}
}

Test(fetch, trailing_bytes_refused)
{
	for (int kind = 0; kind < 2; kind++) {
		for (int16_t v = FETCH_VERSION_MIN; v <= FETCH_VERSION_MAX; v++) {
			struct buf b;
			encode(kind == 0, v, &b);
			cr_assert_eq(decode_copy(kind == 0, v, b.p, b.len), 0);
			buf_u8(&b, 0);
			cr_assert_eq(decode_copy(kind == 0, v, b.p, b.len), -TAPE_EPROTO);
			buf_free(&b);
		}
	}
}

/* Request v11 up to the topics: consumer, 500 ms, 1 byte, 1 MiB, read_committed, no session. */
#define REQ_HEAD                                                                               \
	0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0xf4, 0, 0, 0, 1, 0, 0x10, 0, 0, 1, 0, 0, 0, 0, 0xff, \
	    0xff, 0xff, 0xff
/* One topic "t" with one partition 0 (v11: epoch, offset, log start, max bytes). */
#define REQ_TOPIC                                                                                \
	0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, \
	    0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0

/* Response v11 up to the partitions: no throttle, no error, session 0, topic "t". */
#define RESP_HEAD 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 1
/* A partition up to aborted_transactions: index, error, HW, LSO, log start. */
#define RESP_PART \
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0

Test(fetch, well_formed_small_bodies_accepted)
{
	/* The building blocks below, checked to decode when nothing is wrong with them. */
	const uint8_t req[] = { REQ_HEAD, REQ_TOPIC, 0, 0, 0, 0, 0, 0 };
	const uint8_t resp[] = { RESP_HEAD, RESP_PART, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		                 0xff,      0xff,      0,    0,    0,    1,    'x' };
	cr_assert_eq(decode_copy(true, 11, req, sizeof(req)), 0);
	cr_assert_eq(decode_copy(false, 11, resp, sizeof(resp)), 0);
}

Test(fetch, absurd_counts_and_lengths_refused)
{
	const uint8_t topics[] = { REQ_HEAD, 0x7f, 0xff, 0xff, 0xff, 0, 1, 't', 0, 0, 0, 0 };
	const uint8_t partitions[] = { REQ_HEAD, 0,    0,    0,    1, 0, 1, 't',
		                       0x7f,     0xff, 0xff, 0xff, 0, 0, 0, 0 };
	const uint8_t forgotten_count[] = { REQ_HEAD, REQ_TOPIC, 0x10, 0, 0, 0, 0, 0 };
	const uint8_t forgotten_parts[] = { REQ_HEAD, REQ_TOPIC, 0,    0,    0, 1, 0, 1, 'f',
		                            0x7f,     0xff,      0xff, 0xff, 0, 0, 0, 0 };
	const uint8_t rack[] = { REQ_HEAD, REQ_TOPIC, 0, 0, 0, 0, 0x7f, 0xff, 'r' };
	const uint8_t name[] = { REQ_HEAD, 0, 0, 0, 1, 0x7f, 0xff, 't', 0, 0, 0, 0 };
	const uint8_t null_topics[] = { REQ_HEAD, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0 };
	const uint8_t null_forgotten[] = { REQ_HEAD, REQ_TOPIC, 0xff, 0xff, 0xff, 0xff, 0, 0 };
	const uint8_t null_rack[] = { REQ_HEAD, REQ_TOPIC, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *reqs[] = { topics, partitions,  forgotten_count, forgotten_parts, rack,
		                  name,   null_topics, null_forgotten,  null_rack };
	const size_t req_lens[] = {
		sizeof(topics),          sizeof(partitions),     sizeof(forgotten_count),
		sizeof(forgotten_parts), sizeof(rack),           sizeof(name),
		sizeof(null_topics),     sizeof(null_forgotten), sizeof(null_rack)
	};
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		cr_assert_eq(decode_copy(true, 11, reqs[i], req_lens[i]), -TAPE_EPROTO, "case %zu",
		             i);

	const uint8_t responses[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0 };
	const uint8_t resp_parts[] = { 0, 0, 0, 0, 0,   0,    0,    0,    0,    0, 0, 0,
		                       0, 1, 0, 1, 't', 0x7f, 0xff, 0xff, 0xff, 0, 0, 0 };
	const uint8_t txns[] = { RESP_HEAD, RESP_PART, 0x7f, 0xff, 0xff, 0xff, 0,
		                 0,         0,         0,    0,    0,    0,    0 };
	const uint8_t txns_minus_two[] = { RESP_HEAD, RESP_PART, 0xff, 0xff, 0xff, 0xfe, 0,
		                           0,         0,         0,    0,    0,    0,    0 };
	const uint8_t records[] = { RESP_HEAD, RESP_PART, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		                    0xff,      0xff,      0x7f, 0xff, 0xff, 0xff, 'x' };
	const uint8_t records_minus_two[] = { RESP_HEAD, RESP_PART, 0xff, 0xff, 0xff, 0xff, 0xff,
		                              0xff,      0xff,      0xff, 0xff, 0xff, 0xff, 0xfe };
	const uint8_t *resps[] = { responses,      resp_parts, txns,
		                   txns_minus_two, records,    records_minus_two };
	const size_t resp_lens[] = { sizeof(responses), sizeof(resp_parts),
		                     sizeof(txns),      sizeof(txns_minus_two),
		                     sizeof(records),   sizeof(records_minus_two) };
	for (size_t i = 0; i < sizeof(resps) / sizeof(resps[0]); i++)
		cr_assert_eq(decode_copy(false, 11, resps[i], resp_lens[i]), -TAPE_EPROTO,
		             "case %zu", i);
}
