/*
 * tests/unit/protocol/test_list_offsets.c: the ListOffsets (2) codec, v0-3
 * (protocol/list_offsets.c).
 *
 * Covers: request and response encode -> decode round trips for every version 0-3 with a
 * non-default value in every field (a replica id, read_committed, the special timestamps -1
 * and -2, v0's max_num_offsets and old_style_offsets, a topic with no partitions), field by
 * field, with the fields a version lacks coming back as the schema's defaults
 * (max_num_offsets 1, isolation_level 0, throttle_time_ms 0, timestamp and offset -1, no old
 * style offsets); a v0 and a v2 request and a v0 and a v2 response written byte by byte from
 * the schema's field order and compared with the encoders and decoded; versions outside 0-3
 * refused; every truncation refused (each prefix in a buffer of its own size, for ASan);
 * trailing bytes refused; absurd counts and lengths in small buffers refused with the arena
 * nearly empty, and null arrays refused.
 */
#include "protocol/list_offsets.h"

#include "base/errors.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_LIMIT (1 << 20)

static struct list_offsets_request_partition alpha_req[] = {
	{ 0, -1, 5 },
	{ 3, -2, 1000 },
	{ 2147483647, 1700000000000ll, 0 },
};
static struct list_offsets_request_topic request_topics[] = {
	{ KSTR("alpha"), 3, alpha_req },
	{ KSTR("b"), 0, NULL },
};
static const struct list_offsets_request sample_request = {
	.replica_id = 4,
	.isolation_level = 1,
	.topics_count = 2,
	.topics = request_topics,
};

static int64_t offsets3[] = { 900, 450, 0 };
static struct list_offsets_response_partition alpha_resp[] = {
	{ 0, 0, 3, offsets3, 1700000000123ll, 42 },
	{ 3, 3, 0, NULL, 5, 6 },
};
static struct list_offsets_response_topic response_topics[] = {
	{ KSTR("alpha"), 2, alpha_resp },
	{ KSTR("none"), 0, NULL },
};
static const struct list_offsets_response sample_response = {
	.throttle_time_ms = 7,
	.topics_count = 2,
	.topics = response_topics,
};

static void assert_kstr_eq(struct kstr got, struct kstr want)
{
	cr_assert_eq(got.len, want.len);
	if (want.len > 0)
		cr_assert(memcmp(got.p, want.p, (size_t)want.len) == 0);
}

static void assert_request_eq(int16_t v, const struct list_offsets_request *got,
                              const struct list_offsets_request *want)
{
	cr_assert_eq(got->replica_id, want->replica_id);
	cr_assert_eq(got->isolation_level, v >= 2 ? want->isolation_level : 0, "v%d", v);
	cr_assert_eq(got->topics_count, want->topics_count);
	for (int32_t i = 0; i < want->topics_count; i++) {
		const struct list_offsets_request_topic *g = &got->topics[i], *w = &want->topics[i];
		assert_kstr_eq(g->name, w->name);
		cr_assert_eq(g->partitions_count, w->partitions_count);
		for (int32_t j = 0; j < w->partitions_count; j++) {
			cr_assert_eq(g->partitions[j].partition_index,
			             w->partitions[j].partition_index);
			cr_assert_eq(g->partitions[j].timestamp, w->partitions[j].timestamp);
			cr_assert_eq(g->partitions[j].max_num_offsets,
			             v == 0 ? w->partitions[j].max_num_offsets : 1, "v%d", v);
		}
	}
}

static void assert_response_eq(int16_t v, const struct list_offsets_response *got,
                               const struct list_offsets_response *want)
{
	cr_assert_eq(got->throttle_time_ms, v >= 2 ? want->throttle_time_ms : 0, "v%d", v);
	cr_assert_eq(got->topics_count, want->topics_count);
	for (int32_t i = 0; i < want->topics_count; i++) {
		const struct list_offsets_response_topic *g = &got->topics[i],
		                                         *w = &want->topics[i];
		assert_kstr_eq(g->name, w->name);
		cr_assert_eq(g->partitions_count, w->partitions_count);
		for (int32_t j = 0; j < w->partitions_count; j++) {
			const struct list_offsets_response_partition *gp = &g->partitions[j];
			const struct list_offsets_response_partition *wp = &w->partitions[j];
			cr_assert_eq(gp->partition_index, wp->partition_index);
			cr_assert_eq(gp->error_code, wp->error_code);
			if (v == 0) {
				cr_assert_eq(gp->old_style_offsets_count,
				             wp->old_style_offsets_count);
				for (int32_t k = 0; k < wp->old_style_offsets_count; k++)
					cr_assert_eq(gp->old_style_offsets[k],
					             wp->old_style_offsets[k]);
				cr_assert_eq(gp->timestamp, -1);
				cr_assert_eq(gp->offset, -1);
			} else {
				cr_assert_eq(gp->old_style_offsets_count, 0, "v%d", v);
				cr_assert_eq(gp->timestamp, wp->timestamp);
				cr_assert_eq(gp->offset, wp->offset);
			}
		}
	}
}

static int decode_at(bool request, int16_t version, const uint8_t *p, size_t n, struct arena *a,
                     void *out)
{
	struct cursor c;
	cursor_init(&c, p, n);
	return request ? list_offsets_request_decode(&c, a, version, out)
	               : list_offsets_response_decode(&c, a, version, out);
}

/* Decodes from a heap copy of exactly n bytes (ASan sees any over-read), freed on return: only
 * the result code is to be looked at. The arena must stay nearly empty whatever the bytes. */
static int decode_copy(bool request, int16_t version, const uint8_t *p, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	cr_assert_not_null(copy);
	if (n)
		memcpy(copy, p, n);
	struct arena a;
	arena_init(&a, ARENA_LIMIT);
	struct list_offsets_request req;
	struct list_offsets_response resp;
	int rc = decode_at(request, version, copy, n, &a, request ? (void *)&req : (void *)&resp);
	cr_assert_lt(a.used, 4096, "arena %zu after %zu bytes", a.used, n);
	arena_free(&a);
	free(copy);
	return rc;
}

static void encode(bool request, int16_t version, struct buf *b)
{
	buf_init(b, 1 << 20);
	if (request)
		list_offsets_request_encode(b, version, &sample_request);
	else
		list_offsets_response_encode(b, version, &sample_response);
	cr_assert(buf_ok(b));
}

Test(list_offsets, request_round_trip_every_version)
{
	for (int16_t v = LIST_OFFSETS_VERSION_MIN; v <= LIST_OFFSETS_VERSION_MAX; v++) {
		struct buf b;
		struct arena a;
		struct list_offsets_request got;
		encode(true, v, &b);
		arena_init(&a, ARENA_LIMIT);
		cr_assert_eq(decode_at(true, v, b.p, b.len, &a, &got), 0, "v%d", v);
		assert_request_eq(v, &got, &sample_request);
		arena_free(&a);
		buf_free(&b);
	}
}

Test(list_offsets, response_round_trip_every_version)
{
	for (int16_t v = LIST_OFFSETS_VERSION_MIN; v <= LIST_OFFSETS_VERSION_MAX; v++) {
		struct buf b;
		struct arena a;
		struct list_offsets_response got;
		encode(false, v, &b);
		arena_init(&a, ARENA_LIMIT);
		cr_assert_eq(decode_at(false, v, b.p, b.len, &a, &got), 0, "v%d", v);
		assert_response_eq(v, &got, &sample_response);
		arena_free(&a);
		buf_free(&b);
	}
}

Test(list_offsets, versions_outside_0_to_3_refused)
{
	const int16_t bad[] = { -1, 4, 5, 6, 9 };
	struct buf b;
	encode(true, 1, &b);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(decode_copy(true, bad[i], b.p, b.len), -TAPE_EPROTO);
		cr_assert_eq(decode_copy(false, bad[i], b.p, b.len), -TAPE_EPROTO);
		struct buf e;
		buf_init(&e, 1 << 20);
		list_offsets_request_encode(&e, bad[i], &sample_request);
		cr_assert(!buf_ok(&e));
		buf_clear(&e);
		list_offsets_response_encode(&e, bad[i], &sample_response);
		cr_assert(!buf_ok(&e));
		buf_free(&e);
	}
	buf_free(&b);
}

/* ListOffsetsRequest v0 and v2, field by field from the schema. */
static const uint8_t request_v0[] = {
	0xff, 0xff, 0xff, 0xff,                         /* replica_id -1 */
	0x00, 0x00, 0x00, 0x01,                         /* topics: 1 */
	0x00, 0x01, 't',                                /*   name */
	0x00, 0x00, 0x00, 0x01,                         /*   partitions: 1 */
	0x00, 0x00, 0x00, 0x02,                         /*     partition_index 2 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, /*     timestamp -2 */
	0x00, 0x00, 0x00, 0x01,                         /*     max_num_offsets 1 */
};
static const uint8_t request_v2[] = {
	0xff, 0xff, 0xff, 0xff,                         /* replica_id -1 */
	0x01,                                           /* isolation_level 1 */
	0x00, 0x00, 0x00, 0x01,                         /* topics: 1 */
	0x00, 0x01, 't',                                /*   name */
	0x00, 0x00, 0x00, 0x01,                         /*   partitions: 1 */
	0x00, 0x00, 0x00, 0x02,                         /*     partition_index 2 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, /*     timestamp -2 */
};

static void check_request_bytes(int16_t v, const uint8_t *want, size_t want_len)
{
	struct list_offsets_request_partition part = { 2, -2, 1 };
	struct list_offsets_request_topic topic = { KSTR("t"), 1, &part };
	struct list_offsets_request r = { -1, 1, 1, &topic };
	struct buf b;
	buf_init(&b, 1 << 20);
	list_offsets_request_encode(&b, v, &r);
	cr_assert(buf_ok(&b));
	cr_assert_eq(b.len, want_len, "v%d", v);
	cr_assert(memcmp(b.p, want, want_len) == 0, "v%d", v);
	buf_free(&b);

	struct arena a;
	arena_init(&a, ARENA_LIMIT);
	struct list_offsets_request got;
	cr_assert_eq(decode_at(true, v, want, want_len, &a, &got), 0);
	assert_request_eq(v, &got, &r);
	arena_free(&a);
}

Test(list_offsets, request_v0_and_v2_bytes)
{
	check_request_bytes(0, request_v0, sizeof(request_v0));
	check_request_bytes(2, request_v2, sizeof(request_v2));
}

/* ListOffsetsResponse v0 and v2, field by field from the schema. */
static const uint8_t response_v0[] = {
	0x00, 0x00, 0x00, 0x01,                         /* topics: 1 */
	0x00, 0x01, 't',                                /*   name */
	0x00, 0x00, 0x00, 0x01,                         /*   partitions: 1 */
	0x00, 0x00, 0x00, 0x02,                         /*     partition_index 2 */
	0x00, 0x00,                                     /*     error_code 0 */
	0x00, 0x00, 0x00, 0x01,                         /*     old_style_offsets: 1 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, /*       42 */
};
static const uint8_t response_v2[] = {
	0x00, 0x00, 0x00, 0x0a,                         /* throttle_time_ms 10 */
	0x00, 0x00, 0x00, 0x01,                         /* topics: 1 */
	0x00, 0x01, 't',                                /*   name */
	0x00, 0x00, 0x00, 0x01,                         /*   partitions: 1 */
	0x00, 0x00, 0x00, 0x02,                         /*     partition_index 2 */
	0x00, 0x00,                                     /*     error_code 0 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /*     timestamp -1 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, /*     offset 42 */
};

static void check_response_bytes(int16_t v, const uint8_t *want, size_t want_len)
{
	int64_t offset = 42;
	struct list_offsets_response_partition part = { 2, 0, 1, &offset, -1, 42 };
	struct list_offsets_response_topic topic = { KSTR("t"), 1, &part };
	struct list_offsets_response r = { 10, 1, &topic };
	struct buf b;
	buf_init(&b, 1 << 20);
	list_offsets_response_encode(&b, v, &r);
	cr_assert(buf_ok(&b));
	cr_assert_eq(b.len, want_len, "v%d", v);
	cr_assert(memcmp(b.p, want, want_len) == 0, "v%d", v);
	buf_free(&b);

	struct arena a;
	arena_init(&a, ARENA_LIMIT);
	struct list_offsets_response got;
	cr_assert_eq(decode_at(false, v, want, want_len, &a, &got), 0);
	assert_response_eq(v, &got, &r);
	arena_free(&a);
}

Test(list_offsets, response_v0_and_v2_bytes)
{
	check_response_bytes(0, response_v0, sizeof(response_v0));
	check_response_bytes(2, response_v2, sizeof(response_v2));
}

Test(list_offsets, every_truncation_refused)
{
	for (int kind = 0; kind < 2; kind++) {
		for (int16_t v = LIST_OFFSETS_VERSION_MIN; v <= LIST_OFFSETS_VERSION_MAX; v++) {
			struct buf b;
			encode(kind == 0, v, &b);
			for (size_t n = 0; n < b.len; n++)
				cr_assert_eq(decode_copy(kind == 0, v, b.p, n), -TAPE_EPROTO,
				             "kind %d v%d n %zu", kind, v, n);
			buf_free(&b);
		}
	}
}

Test(list_offsets, trailing_bytes_refused)
{
	for (int kind = 0; kind < 2; kind++) {
		for (int16_t v = LIST_OFFSETS_VERSION_MIN; v <= LIST_OFFSETS_VERSION_MAX; v++) {
			struct buf b;
			encode(kind == 0, v, &b);
			cr_assert_eq(decode_copy(kind == 0, v, b.p, b.len), 0);
			buf_u8(&b, 0);
			cr_assert_eq(decode_copy(kind == 0, v, b.p, b.len), -TAPE_EPROTO);
			buf_free(&b);
		}
	}
}

Test(list_offsets, absurd_counts_and_lengths_refused)
{
	/* Requests, v2: replica -1, read_committed, then the topics. */
	const uint8_t topics[] = { 0xff, 0xff, 0xff, 0xff, 1, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
	const uint8_t partitions[] = { 0xff, 0xff, 0xff, 0xff, 1,    0,    0, 0, 1, 0,
		                       1,    't',  0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
	const uint8_t name[] = { 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 1, 0x7f, 0xff, 't', 0, 0 };
	const uint8_t null_topics[] = { 0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff };
	const uint8_t null_name[] = {
		0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 1, 0xff, 0xff, 0, 0, 0, 0
	};
	cr_assert_eq(decode_copy(true, 2, topics, sizeof(topics)), -TAPE_EPROTO);
	cr_assert_eq(decode_copy(true, 2, partitions, sizeof(partitions)), -TAPE_EPROTO);
	cr_assert_eq(decode_copy(true, 2, name, sizeof(name)), -TAPE_EPROTO);
	cr_assert_eq(decode_copy(true, 2, null_topics, sizeof(null_topics)), -TAPE_EPROTO);
	cr_assert_eq(decode_copy(true, 2, null_name, sizeof(null_name)), -TAPE_EPROTO);

	/* Responses, v0: topics, then a partition's old style offsets. */
	const uint8_t resp_topics[] = { 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
	const uint8_t offsets[] = { 0, 0, 0,    1,    0,    1,    't', 0, 0, 0, 1, 0, 0, 0, 0,
		                    0, 0, 0x7f, 0xff, 0xff, 0xff, 0,   0, 0, 0, 0, 0, 0, 0 };
	const uint8_t null_offsets[] = { 0, 0, 0, 1, 0, 1, 't',  0,    0,    0,   1,
		                         0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
	const uint8_t good_offsets[] = { 0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 1,
		                         0, 0, 0, 0, 0, 0, 0,   0, 0, 0 };
	cr_assert_eq(decode_copy(false, 0, resp_topics, sizeof(resp_topics)), -TAPE_EPROTO);
	cr_assert_eq(decode_copy(false, 0, offsets, sizeof(offsets)), -TAPE_EPROTO);
	cr_assert_eq(decode_copy(false, 0, null_offsets, sizeof(null_offsets)), -TAPE_EPROTO);
	cr_assert_eq(decode_copy(false, 0, good_offsets, sizeof(good_offsets)), 0);
}
