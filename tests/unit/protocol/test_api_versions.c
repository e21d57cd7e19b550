/*
 * tests/unit/protocol/test_api_versions.c: the ApiVersions codec (protocol/api_versions.c),
 * versions 0-3 (v3 flexible).
 *
 * Covers: request and response round trips at every version with non-default values (fields
 * a version lacks come back as their defaults); librdkafka's ApiVersions v3 request body and
 * responses at v0, v1 and v3 checked byte for byte against arrays written from the schema;
 * the v0-layout answer to an unsupported version; unknown tagged fields skipped; null compact
 * strings refused; every truncation and a trailing byte refused at every version; absurd counts
 * and lengths refused without allocating; versions outside 0-3 refused by every function.
 */
#include "protocol/api_versions.h"

#include "codec_check.h"

static int dec_request(struct cursor *c, struct arena *a, int16_t version)
{
	struct api_versions_request r;
	return api_versions_request_decode(c, a, version, &r);
}

static int dec_response(struct cursor *c, struct arena *a, int16_t version)
{
	struct api_versions_response r;
	return api_versions_response_decode(c, a, version, &r);
}

static const struct api_versions_response_key keys[] = {
	{ 0, 0, 7 },
	{ 3, 0, 8 },
	{ 18, 0, 3 },
};

static struct api_versions_response sample_response(void)
{
	return (struct api_versions_response){
		.error_code = 35,
		.api_keys_count = 3,
		.api_keys = (struct api_versions_response_key *)keys,
		.throttle_time_ms = 1234,
	};
}

Test(api_versions, request_round_trip_every_version)
{
	struct api_versions_request r = { KSTR("librdkafka"), KSTR("2.0.2") }, got;
	for (int16_t v = API_VERSIONS_VERSION_MIN; v <= API_VERSIONS_VERSION_MAX; v++) {
		struct buf b;
		struct arena a;
		buf_init(&b, CHECK_BUF_LIMIT);
		arena_init(&a, CHECK_ARENA_LIMIT);
		api_versions_request_encode(&b, v, &r);
		cr_assert(buf_ok(&b));
		cr_assert_eq(b.len, v >= 3 ? 1 + 10 + 1 + 5 + 1 : 0u, "v%d: %zu bytes", v, b.len);
		struct cursor c;
		cursor_init(&c, b.p, b.len);
		cr_assert_eq(api_versions_request_decode(&c, &a, v, &got), 0, "v%d", v);
		if (v >= 3) {
			cr_assert_kstr(got.client_software_name, r.client_software_name);
			cr_assert_kstr(got.client_software_version, r.client_software_version);
		} else {
			cr_assert_kstr(got.client_software_name, KSTR(""));
			cr_assert_kstr(got.client_software_version, KSTR(""));
		}
		check_every_prefix(dec_request, v, b.p, b.len);
		buf_free(&b);
		arena_free(&a);
	}
}

/* librdkafka 2.0.2's first request (kafka-protocol.md §3.1), body only. */
static const uint8_t librdkafka_v3_body[] = {
	0x0b, 'l', 'i', 'b', 'r', 'd', 'k', 'a', 'f', 'k', 'a', /* compact string, 10 + 1 */
	0x06, '2', '.', '0', '.', '2',                          /* compact string, 5 + 1 */
	0x00,                                                   /* no tagged fields */
};

Test(api_versions, request_v3_bytes)
{
	struct api_versions_request r = { KSTR("librdkafka"), KSTR("2.0.2") };
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	api_versions_request_encode(&b, 3, &r);
	check_bytes(&b, librdkafka_v3_body, sizeof(librdkafka_v3_body));
	buf_free(&b);
}

Test(api_versions, request_v3_skips_tagged_fields)
{
	static const uint8_t body[] = {
		0x02, 'x',              /* name "x" */
		0x01,                   /* version "" */
		0x02,                   /* two tagged fields */
		0x05, 0x02, 0xaa, 0xbb, /* tag 5, 2 bytes */
		0x80, 0x01, 0x00,       /* tag 128, 0 bytes */
	};
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	struct cursor c;
	cursor_init(&c, body, sizeof(body));
	struct api_versions_request got;
	cr_assert_eq(api_versions_request_decode(&c, &a, 3, &got), 0);
	cr_assert_kstr(got.client_software_name, KSTR("x"));
	cr_assert_kstr(got.client_software_version, KSTR(""));
	check_every_prefix(dec_request, 3, body, sizeof(body));
	arena_free(&a);
}

Test(api_versions, request_refuses_null_strings_and_bodies_before_v3)
{
	static const uint8_t null_name[] = { 0x00, 0x01, 0x00 };
	static const uint8_t null_version[] = { 0x01, 0x00, 0x00 };
	static const uint8_t one_byte[] = { 0x00 };
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	cr_assert_eq(check_decode(dec_request, 3, null_name, sizeof(null_name), &a), -TAPE_EPROTO);
	cr_assert_eq(check_decode(dec_request, 3, null_version, sizeof(null_version), &a),
	             -TAPE_EPROTO);
	for (int16_t v = 0; v < 3; v++)
		cr_assert_eq(check_decode(dec_request, v, one_byte, 1, &a), -TAPE_EPROTO);
	arena_free(&a);
}

Test(api_versions, request_absurd_length)
{
	/* A compact string of 2^32 - 2 bytes in an 8-byte body. */
	static const uint8_t body[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x00, 0x00 };
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	cr_assert_eq(check_decode(dec_request, 3, body, sizeof(body), &a), -TAPE_EPROTO);
	cr_assert_eq(a.used, 0u);
	arena_free(&a);
}

Test(api_versions, response_round_trip_every_version)
{
	struct api_versions_response r = sample_response(), got;
	for (int16_t v = API_VERSIONS_VERSION_MIN; v <= API_VERSIONS_VERSION_MAX; v++) {
		struct buf b;
		struct arena a;
		buf_init(&b, CHECK_BUF_LIMIT);
		arena_init(&a, CHECK_ARENA_LIMIT);
		api_versions_response_encode(&b, v, &r);
		cr_assert(buf_ok(&b));
		struct cursor c;
		cursor_init(&c, b.p, b.len);
		cr_assert_eq(api_versions_response_decode(&c, &a, v, &got), 0, "v%d", v);
		cr_assert_eq(got.error_code, 35);
		cr_assert_eq(got.api_keys_count, 3);
		for (int i = 0; i < 3; i++) {
			cr_assert_eq(got.api_keys[i].api_key, keys[i].api_key);
			cr_assert_eq(got.api_keys[i].min_version, keys[i].min_version);
			cr_assert_eq(got.api_keys[i].max_version, keys[i].max_version);
		}
		cr_assert_eq(got.throttle_time_ms, v >= 1 ? 1234 : 0, "v%d", v);
		check_every_prefix(dec_response, v, b.p, b.len);
		buf_free(&b);
		arena_free(&a);
	}
}

Test(api_versions, response_bytes_v0_v1_v3)
{
	static const uint8_t v0[] = {
		0x00, 0x23,                         /* error_code 35 */
		0x00, 0x00, 0x00, 0x03,             /* api_keys: 3 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x07, /* Produce 0-7 */
		0x00, 0x03, 0x00, 0x00, 0x00, 0x08, /* Metadata 0-8 */
		0x00, 0x12, 0x00, 0x00, 0x00, 0x03, /* ApiVersions 0-3 */
	};
	static const uint8_t v1[] = {
		0x00, 0x23,                         /* error_code 35 */
		0x00, 0x00, 0x00, 0x03,             /* api_keys: 3 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x07, /* Produce 0-7 */
		0x00, 0x03, 0x00, 0x00, 0x00, 0x08, /* Metadata 0-8 */
		0x00, 0x12, 0x00, 0x00, 0x00, 0x03, /* ApiVersions 0-3 */
		0x00, 0x00, 0x04, 0xd2,             /* throttle_time_ms 1234 */
	};
	static const uint8_t v3[] = {
		0x00, 0x23,                               /* error_code 35 */
		0x04,                                     /* compact array: 3 + 1 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, /* Produce 0-7, no tags */
		0x00, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00, /* Metadata 0-8, no tags */
		0x00, 0x12, 0x00, 0x00, 0x00, 0x03, 0x00, /* ApiVersions 0-3, no tags */
		0x00, 0x00, 0x04, 0xd2,                   /* throttle_time_ms 1234 */
		0x00,                                     /* no tagged fields */
	};
	struct api_versions_response r = sample_response();
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	api_versions_response_encode(&b, 0, &r);
	check_bytes(&b, v0, sizeof(v0));
	buf_clear(&b);
	api_versions_response_encode(&b, 1, &r);
	check_bytes(&b, v1, sizeof(v1));
	buf_clear(&b);
	api_versions_response_encode(&b, 2, &r);
	check_bytes(&b, v1, sizeof(v1)); /* v2 = v1 */
	buf_clear(&b);
	api_versions_response_encode(&b, 3, &r);
	check_bytes(&b, v3, sizeof(v3));
	buf_free(&b);
}

Test(api_versions, response_v3_skips_tagged_fields)
{
	static const uint8_t body[] = {
		0x00, 0x00, 0x02,                   /* error 0, one key */
		0x00, 0x12, 0x00, 0x00, 0x00, 0x03, /* ApiVersions 0-3 */
		0x01, 0x07, 0x01, 0xff,             /* one tag in the element */
		0x00, 0x00, 0x00, 0x00,             /* throttle 0 */
		0x01, 0x01, 0x08, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x05, /* FinalizedFeaturesEpoch 5 */
	};
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	struct cursor c;
	cursor_init(&c, body, sizeof(body));
	struct api_versions_response got;
	cr_assert_eq(api_versions_response_decode(&c, &a, 3, &got), 0);
	cr_assert_eq(got.api_keys_count, 1);
	cr_assert_eq(got.api_keys[0].api_key, 18);
	cr_assert_eq(got.api_keys[0].max_version, 3);
	check_every_prefix(dec_response, 3, body, sizeof(body));
	arena_free(&a);
}

Test(api_versions, unsupported_answer_is_v0_layout)
{
	static const uint8_t want[] = {
		0x00, 0x23,                         /* UNSUPPORTED_VERSION */
		0x00, 0x00, 0x00, 0x01,             /* int32 count, even for a v3 request */
		0x00, 0x12, 0x00, 0x00, 0x00, 0x03, /* ApiVersions 0-3 */
	};
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	api_versions_response_encode_unsupported(&b, 35, &keys[2], 1);
	check_bytes(&b, want, sizeof(want));
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	struct cursor c;
	cursor_init(&c, b.p, b.len);
	struct api_versions_response got;
	cr_assert_eq(api_versions_response_decode(&c, &a, 0, &got), 0);
	cr_assert_eq(got.error_code, 35);
	cr_assert_eq(got.api_keys_count, 1);
	cr_assert_eq(got.api_keys[0].api_key, 18);
	/* A v3 reader sees the int32 count 0 as compact "null" and fails (so librdkafka retries
	 * with v0, kafka-protocol.md §3.1): never a crash. */
	cursor_init(&c, b.p, b.len);
	cr_assert_eq(api_versions_response_decode(&c, &a, 3, &got), -TAPE_EPROTO);
	buf_free(&b);
	arena_free(&a);
}

Test(api_versions, response_absurd_counts)
{
	static const uint8_t v0[] = { 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0 };
	static const uint8_t negative[] = { 0x00, 0x00, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0, 0, 0 };
	static const uint8_t null[] = { 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
	static const uint8_t v3[] = { 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x07, 0, 0, 0, 0, 0 };
	/* Two elements of 6 bytes fit the bytes left at v0 but not at v3 (7 each). */
	static const uint8_t tight[] = { 0x00, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	cr_assert_eq(check_decode(dec_response, 0, v0, sizeof(v0), &a), -TAPE_EPROTO);
	cr_assert_eq(check_decode(dec_response, 1, negative, sizeof(negative), &a), -TAPE_EPROTO);
	cr_assert_eq(check_decode(dec_response, 0, null, sizeof(null), &a), -TAPE_EPROTO);
	cr_assert_eq(check_decode(dec_response, 3, v3, sizeof(v3), &a), -TAPE_EPROTO);
	cr_assert_eq(check_decode(dec_response, 3, tight, sizeof(tight), &a), -TAPE_EPROTO);
	cr_assert_eq(a.used, 0u);
	arena_free(&a);
}

Test(api_versions, versions_out_of_range)
{
	struct api_versions_request req = { KSTR("a"), KSTR("b") };
	struct api_versions_response resp = sample_response();
	static const uint8_t empty[1];
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	const int16_t bad[] = { -1, 4, 100 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b;
		buf_init(&b, CHECK_BUF_LIMIT);
		api_versions_request_encode(&b, bad[i], &req);
		cr_assert(!buf_ok(&b));
		buf_clear(&b);
		api_versions_response_encode(&b, bad[i], &resp);
		cr_assert(!buf_ok(&b));
		buf_free(&b);
		cr_assert_eq(check_decode(dec_request, bad[i], empty, 0, &a), -TAPE_EPROTO);
		cr_assert_eq(check_decode(dec_response, bad[i], empty, 0, &a), -TAPE_EPROTO);
	}
	arena_free(&a);
}
