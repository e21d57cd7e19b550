/*
 * tests/unit/protocol/test_delete_topics.c: the DeleteTopics codec (protocol/delete_topics.c),
 * versions 0-3.
 *
 * Covers: request and response round trips at every version with non-default values
 * (throttle_time_ms comes back 0 at v0); the v1 request kafkajs sends and v0 and v1 responses
 * checked byte for byte against arrays written from the schema; every truncation and a
 * trailing byte refused at every version; null arrays and names refused; absurd counts and
 * lengths refused without allocating; versions outside 0-3 refused.
 */
#include "protocol/delete_topics.h"

#include "codec_check.h"

static int dec_request(struct cursor *c, struct arena *a, int16_t version)
{
	struct delete_topics_request r;
	return delete_topics_request_decode(c, a, version, &r);
}

static int dec_response(struct cursor *c, struct arena *a, int16_t version)
{
	struct delete_topics_response r;
	return delete_topics_response_decode(c, a, version, &r);
}

static struct kstr names[] = { KSTR("events"), KSTR(""), KSTR("x") };

Test(delete_topics, request_round_trip_every_version)
{
	struct delete_topics_request r = { 3, names, 15000 }, got;
	for (int16_t v = DELETE_TOPICS_VERSION_MIN; v <= DELETE_TOPICS_VERSION_MAX; v++) {
		struct buf b;
		struct arena a;
		buf_init(&b, CHECK_BUF_LIMIT);
		arena_init(&a, CHECK_ARENA_LIMIT);
		delete_topics_request_encode(&b, v, &r);
		cr_assert(buf_ok(&b));
		struct cursor c;
		cursor_init(&c, b.p, b.len);
		cr_assert_eq(delete_topics_request_decode(&c, &a, v, &got), 0, "v%d", v);
		cr_assert_eq(got.topic_names_count, 3);
		for (int i = 0; i < 3; i++)
			cr_assert_kstr(got.topic_names[i], names[i]);
		cr_assert_eq(got.timeout_ms, 15000);
		check_every_prefix(dec_request, v, b.p, b.len);
		buf_free(&b);
		arena_free(&a);
	}
}

Test(delete_topics, request_bytes)
{
	/* kafkajs 2.2.4 admin.deleteTopics({ topics: ["a", "bc"], timeout: 5000 }). */
	static const uint8_t want[] = {
		0x00, 0x00, 0x00, 0x02, /* topic_names: 2 */
		0x00, 0x01, 'a',        /* "a" */
		0x00, 0x02, 'b',  'c',  /* "bc" */
		0x00, 0x00, 0x13, 0x88, /* timeout_ms 5000 */
	};
	struct kstr n[] = { KSTR("a"), KSTR("bc") };
	struct delete_topics_request r = { 2, n, 5000 };
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	delete_topics_request_encode(&b, 1, &r);
	check_bytes(&b, want, sizeof(want));
	buf_free(&b);
}

Test(delete_topics, request_refuses_nulls_and_absurd_counts)
{
	static const uint8_t null_array[] = {
		0xff, 0xff, 0xff, 0xff, /* topic_names: null */
		0x00, 0x00, 0x00, 0x00, /* timeout_ms */
	};
	static const uint8_t null_name[] = {
		0x00, 0x00, 0x00, 0x01, /* topic_names: 1 */
		0xff, 0xff,             /* null */
		0x00, 0x00, 0x00, 0x00, /* timeout_ms */
	};
	static const uint8_t huge_count[] = {
		0x7f, 0xff, 0xff, 0xff, /* topic_names: 2^31 - 1 */
		0x00, 0x00, 0x00, 0x00, /* timeout_ms */
	};
	/* 5 names need 10 bytes at least; 9 are left. */
	static const uint8_t tight[] = {
		0x00, 0x00, 0x00, 0x05,                               /* topic_names: 5 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 9 bytes */
	};
	static const uint8_t huge_name[] = {
		0x00, 0x00, 0x00, 0x01, /* topic_names: 1 */
		0x7f, 0xff, 'a',  'b',  /* 32767 bytes */
		0x00, 0x00, 0x00, 0x00, /* timeout_ms */
	};
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	for (int16_t v = 0; v <= 3; v++) {
		cr_assert_eq(check_decode(dec_request, v, null_array, sizeof(null_array), &a),
		             -TAPE_EPROTO);
		cr_assert_eq(check_decode(dec_request, v, huge_count, sizeof(huge_count), &a),
		             -TAPE_EPROTO);
		cr_assert_eq(check_decode(dec_request, v, tight, sizeof(tight), &a), -TAPE_EPROTO);
		cr_assert_eq(a.used, 0u);
		cr_assert_eq(check_decode(dec_request, v, null_name, sizeof(null_name), &a),
		             -TAPE_EPROTO);
		cr_assert_eq(check_decode(dec_request, v, huge_name, sizeof(huge_name), &a),
		             -TAPE_EPROTO);
		cr_assert_leq(a.used, 64u);
		arena_reset(&a);
	}
	arena_free(&a);
}

static struct delete_topics_deletable_topic_result results[] = {
	{ KSTR("events"), 0 },
	{ KSTR("x"), 3 },
};

Test(delete_topics, response_round_trip_every_version)
{
	struct delete_topics_response r = { 42, 2, results }, got;
	for (int16_t v = DELETE_TOPICS_VERSION_MIN; v <= DELETE_TOPICS_VERSION_MAX; v++) {
		struct buf b;
		struct arena a;
		buf_init(&b, CHECK_BUF_LIMIT);
		arena_init(&a, CHECK_ARENA_LIMIT);
		delete_topics_response_encode(&b, v, &r);
		cr_assert(buf_ok(&b));
		struct cursor c;
		cursor_init(&c, b.p, b.len);
		cr_assert_eq(delete_topics_response_decode(&c, &a, v, &got), 0, "v%d", v);
		cr_assert_eq(got.throttle_time_ms, v >= 1 ? 42 : 0, "v%d", v);
		cr_assert_eq(got.responses_count, 2);
		for (int i = 0; i < 2; i++) {
			cr_assert_kstr(got.responses[i].name, results[i].name);
			cr_assert_eq(got.responses[i].error_code, results[i].error_code);
		}
		check_every_prefix(dec_response, v, b.p, b.len);
		buf_free(&b);
		arena_free(&a);
	}
}

Test(delete_topics, response_bytes_v0_v1)
{
	static const uint8_t v0[] = {
		0x00, 0x00, 0x00, 0x01, /* responses: 1 */
		0x00, 0x01, 'a',        /* name "a" */
		0x00, 0x03,             /* error_code 3 */
	};
	static const uint8_t v1[] = {
		0x00, 0x00, 0x00, 0x09, /* throttle_time_ms 9 */
		0x00, 0x00, 0x00, 0x01, /* responses: 1 */
		0x00, 0x01, 'a',        /* name "a" */
		0x00, 0x03,             /* error_code 3 */
	};
	struct delete_topics_deletable_topic_result one = { KSTR("a"), 3 };
	struct delete_topics_response r = { 9, 1, &one };
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	delete_topics_response_encode(&b, 0, &r);
	check_bytes(&b, v0, sizeof(v0));
	buf_clear(&b);
	delete_topics_response_encode(&b, 1, &r);
	check_bytes(&b, v1, sizeof(v1));
	buf_free(&b);
}

Test(delete_topics, response_refuses_nulls_and_absurd_counts)
{
	static const uint8_t null_name[] = {
		0x00, 0x00, 0x00, 0x01, /* responses: 1 */
		0xff, 0xff,             /* name null */
		0x00, 0x00,             /* error_code */
	};
	static const uint8_t huge[] = {
		0x7f, 0xff, 0xff, 0xff, /* responses: 2^31 - 1 */
		0x00, 0x00, 0x00, 0x00,
	};
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	cr_assert_eq(check_decode(dec_response, 0, huge, sizeof(huge), &a), -TAPE_EPROTO);
	cr_assert_eq(a.used, 0u);
	cr_assert_eq(check_decode(dec_response, 0, null_name, sizeof(null_name), &a), -TAPE_EPROTO);
	arena_free(&a);
}

Test(delete_topics, versions_out_of_range)
{
	struct delete_topics_request req = { 3, names, 15000 };
	struct delete_topics_response resp = { 42, 2, results };
	static const uint8_t zeros[16];
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	const int16_t bad[] = { -1, 4, 6 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b;
		buf_init(&b, CHECK_BUF_LIMIT);
		delete_topics_request_encode(&b, bad[i], &req);
		cr_assert(!buf_ok(&b));
		buf_clear(&b);
		delete_topics_response_encode(&b, bad[i], &resp);
		cr_assert(!buf_ok(&b));
		buf_free(&b);
		cr_assert_eq(check_decode(dec_request, bad[i], zeros, 8, &a), -TAPE_EPROTO);
		cr_assert_eq(check_decode(dec_response, bad[i], zeros, 8, &a), -TAPE_EPROTO);
	}
	arena_free(&a);
}
