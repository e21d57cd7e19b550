/*
 * tests/unit/protocol/test_produce.c: the Produce (0) codec, v3-7 (protocol/produce.c).
 *
 * Covers: request and response encode -> decode round trips for every version 3-7, with a
 * non-default value in every field (a transactional id, acks -1, null and non-null records, a
 * topic with no partitions), field by field, and log_start_offset coming back as -1 below v5;
 * decoded records pointing into the frame itself (the broker stamps them in place); versions
 * 0-2 and 8 refused by the decoders and marking the encoders' buf bad; a v7 request and a v5
 * response written byte by byte from the schema's field order and compared with the encoders
 * and decoded; every truncation of an encoding refused (each prefix in a buffer of its own
 * size, so ASan sees any read past it); trailing bytes refused; absurd counts and lengths in
 * small buffers refused with the arena still nearly empty; negative counts and a null topic
 * name refused.
 */
#include "protocol/produce.h"

#include "base/errors.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_LIMIT (1 << 20)

static const uint8_t batch_a[] = { 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 49, 0, 0, 0, 0, 2 };
static const uint8_t batch_b[] = { 1, 2, 3 };

static struct produce_request_partition alpha_parts[] = {
	{ 0, { batch_a, sizeof(batch_a) } },
	{ 7, { NULL, -1 } },
	{ 2147483647, { batch_b, 0 } },
};
static struct produce_request_partition beta_parts[] = { { 3, { batch_b, sizeof(batch_b) } } };
static struct produce_request_topic request_topics[] = {
	{ KSTR("alpha"), 3, alpha_parts },
	{ KSTR("b"), 1, beta_parts },
	{ KSTR("empty"), 0, NULL },
};
static const struct produce_request sample_request = {
	.transactional_id = KSTR("txn-1"),
	.acks = -1,
	.timeout_ms = 30000,
	.topic_data_count = 3,
	.topic_data = request_topics,
};

static struct produce_response_partition alpha_resps[] = {
	{ 0, 0, 1234567890123ll, 1700000000000ll, 17 },
	{ 7, 6, -1, -1, -1 },
};
static struct produce_response_partition beta_resps[] = { { 3, 3, 5, 6, 4 } };
static struct produce_response_topic response_topics[] = {
	{ KSTR("alpha"), 2, alpha_resps },
	{ KSTR("b"), 1, beta_resps },
	{ KSTR("none"), 0, NULL },
};
static const struct produce_response sample_response = {
	.responses_count = 3,
	.responses = response_topics,
	.throttle_time_ms = 250,
};

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
	if (want.len > 0)
		cr_assert(memcmp(got.p, want.p, (size_t)want.len) == 0);
}

static void assert_request_eq(const struct produce_request *got, const struct produce_request *want)
{
	assert_kstr_eq(got->transactional_id, want->transactional_id);
	cr_assert_eq(got->acks, want->acks);
	cr_assert_eq(got->timeout_ms, want->timeout_ms);
	cr_assert_eq(got->topic_data_count, want->topic_data_count);
	for (int32_t i = 0; i < want->topic_data_count; i++) {
		const struct produce_request_topic *g = &got->topic_data[i],
		                                   *w = &want->topic_data[i];
		assert_kstr_eq(g->name, w->name);
		cr_assert_eq(g->partition_data_count, w->partition_data_count);
		for (int32_t j = 0; j < w->partition_data_count; j++) {
			cr_assert_eq(g->partition_data[j].index, w->partition_data[j].index);
			assert_kbytes_eq(g->partition_data[j].records,
			                 w->partition_data[j].records);
		}
	}
}

static void assert_response_eq(int16_t version, const struct produce_response *got,
                               const struct produce_response *want)
{
	cr_assert_eq(got->throttle_time_ms, want->throttle_time_ms);
	cr_assert_eq(got->responses_count, want->responses_count);
	for (int32_t i = 0; i < want->responses_count; i++) {
		const struct produce_response_topic *g = &got->responses[i],
		                                    *w = &want->responses[i];
		assert_kstr_eq(g->name, w->name);
		cr_assert_eq(g->partition_responses_count, w->partition_responses_count);
		for (int32_t j = 0; j < w->partition_responses_count; j++) {
			const struct produce_response_partition *gp = &g->partition_responses[j];
			const struct produce_response_partition *wp = &w->partition_responses[j];
			cr_assert_eq(gp->index, wp->index);
			cr_assert_eq(gp->error_code, wp->error_code);
			cr_assert_eq(gp->base_offset, wp->base_offset);
			cr_assert_eq(gp->log_append_time_ms, wp->log_append_time_ms);
			cr_assert_eq(gp->log_start_offset, version >= 5 ? wp->log_start_offset : -1,
			             "v%d", version);
		}
	}
}

/* Decodes n bytes in place. */
static int decode_at(bool request, int16_t version, const uint8_t *p, size_t n, struct arena *a,
                     void *out)
{
	struct cursor c;
	cursor_init(&c, p, n);
	return request ? produce_request_decode(&c, a, version, out)
	               : produce_response_decode(&c, a, version, out);
}

/* Decodes n bytes from a heap copy of exactly n bytes, so ASan catches any over-read. The copy
 * is freed before returning: only the result and the scalars are to be looked at. */
static int decode_copy(bool request, int16_t version, const uint8_t *p, size_t n, struct arena *a,
                       void *out)
{
	uint8_t *copy = malloc(n ? n : 1);
	cr_assert_not_null(copy);
	if (n)
		memcpy(copy, p, n);
	int rc = decode_at(request, version, copy, n, a, out);
	free(copy);
	return rc;
}

static void encode(bool request, int16_t version, struct buf *b)
{
	buf_init(b, 1 << 20);
	if (request)
		produce_request_encode(b, version, &sample_request);
	else
		produce_response_encode(b, version, &sample_response);
	cr_assert(buf_ok(b));
}

Test(produce, request_round_trip_every_version)
{
	for (int16_t v = PRODUCE_VERSION_MIN; v <= PRODUCE_VERSION_MAX; v++) {
		struct buf b;
		struct arena a;
		struct produce_request got;
		encode(true, v, &b);
		arena_init(&a, ARENA_LIMIT);
		struct cursor c;
		cursor_init(&c, b.p, b.len);
		cr_assert_eq(produce_request_decode(&c, &a, v, &got), 0, "v%d", v);
		assert_request_eq(&got, &sample_request);
		/* The records are the frame's own bytes, not a copy. */
		const uint8_t *records = got.topic_data[0].partition_data[0].records.p;
		cr_assert(records > b.p && records + sizeof(batch_a) <= b.p + b.len);
		arena_free(&a);
		buf_free(&b);
	}
}

Test(produce, request_null_transactional_id)
{
	struct produce_request r = sample_request;
	r.transactional_id = KSTR_NULL;
	struct buf b;
	buf_init(&b, 1 << 20);
	produce_request_encode(&b, 3, &r);
	cr_assert(buf_ok(&b));
	cr_assert_eq(b.p[0], 0xff);
	cr_assert_eq(b.p[1], 0xff);
	struct arena a;
	arena_init(&a, ARENA_LIMIT);
	struct produce_request got;
	cr_assert_eq(decode_copy(true, 3, b.p, b.len, &a, &got), 0);
	cr_assert(kstr_is_null(got.transactional_id));
	arena_free(&a);
	buf_free(&b);
}

Test(produce, response_round_trip_every_version)
{
	for (int16_t v = PRODUCE_VERSION_MIN; v <= PRODUCE_VERSION_MAX; v++) {
		struct buf b;
		struct arena a;
		struct produce_response got;
		encode(false, v, &b);
		arena_init(&a, ARENA_LIMIT);
		struct cursor c;
		cursor_init(&c, b.p, b.len);
		cr_assert_eq(produce_response_decode(&c, &a, v, &got), 0, "v%d", v);
		assert_response_eq(v, &got, &sample_response);
		arena_free(&a);
		buf_free(&b);
	}
}

Test(produce, versions_outside_3_to_7_refused)
{
	const int16_t bad[] = { -1, 0, 1, 2, 8, 9, 11 };
	struct buf b;
	encode(true, 3, &b);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct arena a;
		arena_init(&a, ARENA_LIMIT);
		struct produce_request req;
		struct produce_response resp;
		cr_assert_eq(decode_copy(true, bad[i], b.p, b.len, &a, &req), -TAPE_EPROTO);
		cr_assert_eq(decode_copy(false, bad[i], b.p, b.len, &a, &resp), -TAPE_EPROTO);
		arena_free(&a);
		struct buf e;
		buf_init(&e, 1 << 20);
		produce_request_encode(&e, bad[i], &sample_request);
		cr_assert(!buf_ok(&e));
		buf_clear(&e);
		produce_response_encode(&e, bad[i], &sample_response);
		cr_assert(!buf_ok(&e));
		buf_free(&e);
	}
	buf_free(&b);
}

/* ProduceRequest v7, field by field from the schema. */
static const uint8_t request_v7[] = {
	0x00, 0x05, 't',  'x',  'n', '-', '1', /* transactional_id */
	0xff, 0xff,                            /* acks -1 */
	0x00, 0x00, 0x75, 0x30,                /* timeout_ms 30000 */
	0x00, 0x00, 0x00, 0x01,                /* topic_data: 1 */
	0x00, 0x01, 't',                       /*   name */
	0x00, 0x00, 0x00, 0x02,                /*   partition_data: 2 */
	0x00, 0x00, 0x00, 0x00,                /*     index 0 */
	0x00, 0x00, 0x00, 0x03, 1,   2,   3,   /*     records: 3 bytes */
	0x00, 0x00, 0x00, 0x05,                /*     index 5 */
	0xff, 0xff, 0xff, 0xff,                /*     records: null */
};

Test(produce, request_v7_bytes)
{
	struct produce_request_partition parts[] = { { 0, { batch_b, 3 } }, { 5, { NULL, -1 } } };
	struct produce_request_topic topic = { KSTR("t"), 2, parts };
	struct produce_request r = { KSTR("txn-1"), -1, 30000, 1, &topic };
	struct buf b;
	buf_init(&b, 1 << 20);
	produce_request_encode(&b, 7, &r);
	cr_assert(buf_ok(&b));
	cr_assert_eq(b.len, sizeof(request_v7));
	cr_assert(memcmp(b.p, request_v7, sizeof(request_v7)) == 0);
	buf_free(&b);

	struct arena a;
	arena_init(&a, ARENA_LIMIT);
	struct produce_request got;
	cr_assert_eq(decode_at(true, 7, request_v7, sizeof(request_v7), &a, &got), 0);
	assert_request_eq(&got, &r);
	arena_free(&a);
}

/* ProduceResponse v5, field by field from the schema. */
static const uint8_t response_v5[] = {
	0x00, 0x00, 0x00, 0x01,                         /* responses: 1 */
	0x00, 0x01, 't',                                /*   name */
	0x00, 0x00, 0x00, 0x01,                         /*   partition_responses: 1 */
	0x00, 0x00, 0x00, 0x02,                         /*     index 2 */
	0x00, 0x06,                                     /*     error_code 6 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2a, /*     base_offset 298 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /*     log_append_time_ms -1 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, /*     log_start_offset 10 */
	0x00, 0x00, 0x00, 0x64,                         /* throttle_time_ms 100 */
};

Test(produce, response_v5_bytes)
{
	struct produce_response_partition part = { 2, 6, 298, -1, 10 };
	struct produce_response_topic topic = { KSTR("t"), 1, &part };
	struct produce_response r = { 1, &topic, 100 };
	struct buf b;
	buf_init(&b, 1 << 20);
	produce_response_encode(&b, 5, &r);
	cr_assert(buf_ok(&b));
	cr_assert_eq(b.len, sizeof(response_v5));
	cr_assert(memcmp(b.p, response_v5, sizeof(response_v5)) == 0);
	/* v3 and v4 are the same without log_start_offset. */
	buf_clear(&b);
	produce_response_encode(&b, 4, &r);
	cr_assert_eq(b.len, sizeof(response_v5) - 8);
	cr_assert(memcmp(b.p, response_v5, 33) == 0);
	cr_assert(memcmp(b.p + 33, response_v5 + 41, 4) == 0);
	buf_free(&b);

	struct arena a;
	arena_init(&a, ARENA_LIMIT);
	struct produce_response got;
	cr_assert_eq(decode_at(false, 5, response_v5, sizeof(response_v5), &a, &got), 0);
	assert_response_eq(5, &got, &r);
	arena_free(&a);
}

Test(produce, every_truncation_refused)
{
	for (int kind = 0; kind < 2; kind++) {
		for (int16_t v = PRODUCE_VERSION_MIN; v <= PRODUCE_VERSION_MAX; v++) {
			struct buf b;
			encode(kind == 0, v, &b);
			struct arena a;
			arena_init(&a, ARENA_LIMIT);
			for (size_t n = 0; n < b.len; n++) {
				struct produce_request req;
				struct produce_response resp;
				void *out = kind == 0 ? (void *)&req : (void *)&resp;
				cr_assert_eq(decode_copy(kind == 0, v, b.p, n, &a, out),
				             -TAPE_EPROTO, "kind %d v%d n %zu", kind, v, n);
				arena_reset(&a);
			}
			arena_free(&a);
			buf_free(&b);
		}
	}
}

Test(produce, trailing_bytes_refused)
{
	for (int kind = 0; kind < 2; kind++) {
		struct buf b;
		encode(kind == 0, 7, &b);
		buf_u8(&b, 0);
		struct arena a;
		arena_init(&a, ARENA_LIMIT);
		struct produce_request req;
		struct produce_response resp;
		void *out = kind == 0 ? (void *)&req : (void *)&resp;
		cr_assert_eq(decode_copy(kind == 0, 7, b.p, b.len, &a, out), -TAPE_EPROTO);
		arena_free(&a);
		buf_free(&b);
	}
}

/* A request header of the body: null transactional id, acks 1, timeout 1000. */
#define HEAD 0xff, 0xff, 0x00, 0x01, 0x00, 0x00, 0x03, 0xe8

static void expect_refused_small(const uint8_t *p, size_t n)
{
	struct arena a;
	arena_init(&a, ARENA_LIMIT);
	struct produce_request got;
	cr_assert_eq(decode_copy(true, 7, p, n, &a, &got), -TAPE_EPROTO);
	cr_assert_lt(a.used, 256);
	arena_free(&a);
}

Test(produce, absurd_counts_and_lengths_refused)
{
	const uint8_t topics_count[] = { HEAD, 0x7f, 0xff, 0xff, 0xff, 0, 1, 't', 0, 0, 0, 0 };
	const uint8_t partitions_count[] = { HEAD, 0, 0, 0, 1, 0, 1, 't', 0x10, 0,
		                             0,    0, 0, 0, 0, 0, 0, 0,   0,    0 };
	const uint8_t name_len[] = { HEAD, 0, 0, 0, 1, 0x7f, 0xff, 't', 0, 0, 0, 0 };
	const uint8_t records_len[] = { HEAD, 0, 0, 0, 1,    0,    1,    't',  0, 0, 0, 1,
		                        0,    0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3 };
	const uint8_t txn_len[] = { 0x7f, 0xff, 0, 1, 0, 0, 3, 0xe8, 0, 0, 0, 0 };
	expect_refused_small(topics_count, sizeof(topics_count));
	expect_refused_small(partitions_count, sizeof(partitions_count));
	expect_refused_small(name_len, sizeof(name_len));
	expect_refused_small(records_len, sizeof(records_len));
	expect_refused_small(txn_len, sizeof(txn_len));

	struct arena a;
	arena_init(&a, ARENA_LIMIT);
	struct produce_response got;
	const uint8_t responses_count[] = { 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
	cr_assert_eq(decode_copy(false, 7, responses_count, sizeof(responses_count), &a, &got),
	             -TAPE_EPROTO);
	cr_assert_lt(a.used, 256);
	arena_free(&a);
}

Test(produce, negative_counts_and_null_names_refused)
{
	const uint8_t null_topics[] = { HEAD, 0xff, 0xff, 0xff, 0xff };
	const uint8_t minus_two[] = { HEAD, 0xff, 0xff, 0xff, 0xfe };
	const uint8_t null_name[] = { HEAD, 0, 0, 0, 1, 0xff, 0xff, 0, 0, 0, 0 };
	const uint8_t null_partitions[] = { HEAD, 0, 0, 0, 1, 0, 1, 't', 0xff, 0xff, 0xff, 0xff };
	const uint8_t records_minus_two[] = { HEAD, 0, 0, 0, 1, 0, 1,    't',  0,    0,
		                              0,    1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xfe };
	expect_refused_small(null_topics, sizeof(null_topics));
	expect_refused_small(minus_two, sizeof(minus_two));
	expect_refused_small(null_name, sizeof(null_name));
	expect_refused_small(null_partitions, sizeof(null_partitions));
	expect_refused_small(records_minus_two, sizeof(records_minus_two));
}
