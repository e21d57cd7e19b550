/*
 * tests/unit/protocol/test_header.c: framing and the request/response headers
 * (protocol/header.c).
 *
 * Covers: frame_peek with fewer than 4 bytes, sizes 0, negative, below the smallest request
 * header, at and above the maximum, "GET " and a TLS ClientHello on the port; request headers
 * v1 (kcat's Metadata v4, a null client id, an API key the codec does not know) and v2
 * (librdkafka's ApiVersions v3, tagged fields present) decoded from bytes written from
 * RequestHeader.json, every truncation of each refused, bad client id lengths refused, and
 * encode -> decode round trips; response headers v0 and v1, the ApiVersions exception (always
 * v0), and their decoding.
 */
#include "protocol/header.h"

#include "protocol/api.h"

#include "codec_check.h"

#define MAX_BYTES (100u * 1024 * 1024)

Test(header, frame_peek_needs_four_bytes)
{
	static const uint8_t p[] = { 0x00, 0x00, 0x00, 0x0a };
	for (size_t len = 0; len < FRAME_SIZE_BYTES; len++)
		cr_assert_eq(frame_peek(p, len, MAX_BYTES), 0, "%zu bytes", len);
	/* Even bytes that can only be garbage wait for the fourth. */
	static const uint8_t neg[] = { 0xff, 0xff, 0xff };
	cr_assert_eq(frame_peek(neg, 3, MAX_BYTES), 0);
	cr_assert_eq(frame_peek(p, 4, MAX_BYTES), 14);
}

Test(header, frame_peek_sizes)
{
	const struct {
		uint8_t b[4];
		uint32_t max;
		int64_t want;
	} cases[] = {
		{ { 0x00, 0x00, 0x00, 0x00 }, MAX_BYTES, -TAPE_EPROTO },      /* zero */
		{ { 0xff, 0xff, 0xff, 0xff }, MAX_BYTES, -TAPE_EPROTO },      /* -1 */
		{ { 0x80, 0x00, 0x00, 0x00 }, UINT32_MAX, -TAPE_EPROTO },     /* INT32_MIN */
		{ { 0x00, 0x00, 0x00, 0x09 }, MAX_BYTES, -TAPE_EPROTO },      /* below a header */
		{ { 0x00, 0x00, 0x00, 0x0a }, MAX_BYTES, 14 },                /* the smallest */
		{ { 0x00, 0x00, 0x01, 0x00 }, 256, 260 },                     /* exactly max */
		{ { 0x00, 0x00, 0x01, 0x01 }, 256, -TAPE_EPROTO },            /* max + 1 */
		{ { 0x7f, 0xff, 0xff, 0xff }, UINT32_MAX, 0x7fffffffll + 4 }, /* INT32_MAX */
		{ { 0x7f, 0xff, 0xff, 0xff }, MAX_BYTES, -TAPE_EPROTO },
		{ { 'G', 'E', 'T', ' ' }, MAX_BYTES, -TAPE_EPROTO },     /* HTTP on the port */
		{ { 0x16, 0x03, 0x01, 0x02 }, MAX_BYTES, -TAPE_EPROTO }, /* TLS ClientHello */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_eq(frame_peek(cases[i].b, 4, cases[i].max), cases[i].want, "case %zu", i);
}

Test(header, frame_peek_does_not_need_the_body)
{
	static const uint8_t p[] = { 0x00, 0x00, 0x10, 0x00, 0x00, 0x03 };
	cr_assert_eq(frame_peek(p, sizeof(p), MAX_BYTES), 4096 + 4);
}

/* kcat -L: Metadata v4, correlation id 2, client id "rdkafka", then a body. */
static const uint8_t metadata_v4[] = {
	0x00, 0x03,                                       /* api_key Metadata */
	0x00, 0x04,                                       /* api_version 4 */
	0x00, 0x00, 0x00, 0x02,                           /* correlation_id 2 */
	0x00, 0x07, 'r',  'd',  'k',  'a', 'f', 'k', 'a', /* client_id "rdkafka" */
	0xff, 0xff, 0xff, 0xff, 0x01,                     /* body: topics null, allow auto create */
};
#define METADATA_V4_HEADER_BYTES 17

/* librdkafka 2.0.2's first request: ApiVersions v3, header v2 (kafka-protocol.md §3.1). */
static const uint8_t api_versions_v3[] = {
	0x00, 0x12,                                       /* api_key ApiVersions */
	0x00, 0x03,                                       /* api_version 3 */
	0x00, 0x00, 0x00, 0x01,                           /* correlation_id 1 */
	0x00, 0x07, 'r',  'd',  'k', 'a', 'f',  'k', 'a', /* client_id: int16 length, even in v2 */
	0x00,                                             /* no tagged fields */
	0x0b, 'l',  'i',  'b',  'r', 'd', 'k',  'a', 'f', 'k', 'a', /* body */
	0x06, '2',  '.',  '0',  '.', '2', 0x00,
};
#define API_VERSIONS_V3_HEADER_BYTES 18

static int dec_header(struct cursor *c, struct arena *a, int16_t version)
{
	(void)a;
	(void)version;
	struct request_header h;
	return request_header_decode(c, &h);
}

/* Every proper prefix of a header fails; the whole header succeeds. */
static void check_header_prefixes(const uint8_t *p, size_t header_bytes)
{
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	for (size_t len = 0; len < header_bytes; len++)
		cr_assert_eq(check_decode(dec_header, 0, p, len, &a), -TAPE_EPROTO, "%zu bytes",
		             len);
	cr_assert_eq(check_decode(dec_header, 0, p, header_bytes, &a), 0);
	arena_free(&a);
}

Test(header, request_v1)
{
	struct cursor c;
	struct request_header h;
	cursor_init(&c, metadata_v4, sizeof(metadata_v4));
	cr_assert_eq(request_header_decode(&c, &h), 0);
	cr_assert_eq(h.api_key, API_METADATA);
	cr_assert_eq(h.api_version, 4);
	cr_assert_eq(h.correlation_id, 2);
	cr_assert_kstr(h.client_id, KSTR("rdkafka"));
	cr_assert(!h.flexible);
	cr_assert_eq(cursor_left(&c), sizeof(metadata_v4) - METADATA_V4_HEADER_BYTES);
	cr_assert_eq(c.p, metadata_v4 + METADATA_V4_HEADER_BYTES);
	check_header_prefixes(metadata_v4, METADATA_V4_HEADER_BYTES);
}

Test(header, request_v1_null_client_id)
{
	static const uint8_t p[] = {
		0x00, 0x16, 0x00, 0x01, /* InitProducerId v1 */
		0x7f, 0xff, 0xff, 0xff, /* correlation_id INT32_MAX */
		0xff, 0xff,             /* client_id null */
	};
	struct cursor c;
	struct request_header h;
	cursor_init(&c, p, sizeof(p));
	cr_assert_eq(request_header_decode(&c, &h), 0);
	cr_assert_eq(h.api_key, API_INIT_PRODUCER_ID);
	cr_assert_eq(h.correlation_id, INT32_MAX);
	cr_assert(kstr_is_null(h.client_id));
	cr_assert(!h.flexible);
	cr_assert_eq(cursor_left(&c), 0u);
	cr_assert_eq(sizeof(p), REQUEST_HEADER_MIN_BYTES);
	check_header_prefixes(p, sizeof(p));
}

Test(header, request_v2_librdkafka_api_versions)
{
	struct cursor c;
	struct request_header h;
	cursor_init(&c, api_versions_v3, sizeof(api_versions_v3));
	cr_assert_eq(request_header_decode(&c, &h), 0);
	cr_assert_eq(h.api_key, API_API_VERSIONS);
	cr_assert_eq(h.api_version, 3);
	cr_assert_eq(h.correlation_id, 1);
	cr_assert_kstr(h.client_id, KSTR("rdkafka"));
	cr_assert(h.flexible);
	cr_assert_eq(c.p, api_versions_v3 + API_VERSIONS_V3_HEADER_BYTES);
	check_header_prefixes(api_versions_v3, API_VERSIONS_V3_HEADER_BYTES);
	/* The same request at v2 is header v1: the 0x00 is left for the body. */
	uint8_t v2[sizeof(api_versions_v3)];
	memcpy(v2, api_versions_v3, sizeof(v2));
	v2[3] = 2;
	cursor_init(&c, v2, sizeof(v2));
	cr_assert_eq(request_header_decode(&c, &h), 0);
	cr_assert(!h.flexible);
	cr_assert_eq(c.p, v2 + API_VERSIONS_V3_HEADER_BYTES - 1);
}

Test(header, request_v2_with_tagged_fields)
{
	static const uint8_t p[] = {
		0x00, 0x03, 0x00, 0x09, /* Metadata v9 (flexible) */
		0x00, 0x00, 0x00, 0x07, /* correlation_id 7 */
		0x00, 0x01, 'c',        /* client_id "c" */
		0x02,                   /* two tagged fields */
		0x00, 0x01, 0xaa,       /* tag 0, 1 byte */
		0x05, 0x00,             /* tag 5, 0 bytes */
		0x42,                   /* body */
	};
	struct cursor c;
	struct request_header h;
	cursor_init(&c, p, sizeof(p));
	cr_assert_eq(request_header_decode(&c, &h), 0);
	cr_assert(h.flexible);
	cr_assert_eq(h.correlation_id, 7);
	cr_assert_eq(cursor_left(&c), 1u);
	cr_assert_eq(*c.p, 0x42);
	check_header_prefixes(p, sizeof(p) - 1);
}

Test(header, request_unknown_api_key_reads_as_v1)
{
	static const uint8_t p[] = {
		0x03, 0xe7, 0x00, 0x63, /* api_key 999, version 99 */
		0x00, 0x00, 0x00, 0x05, /* correlation_id 5 */
		0x00, 0x00,             /* client_id "" */
		0x00,                   /* body (not tagged fields) */
	};
	struct cursor c;
	struct request_header h;
	cursor_init(&c, p, sizeof(p));
	cr_assert_eq(request_header_decode(&c, &h), 0);
	cr_assert_eq(h.api_key, 999);
	cr_assert_eq(h.correlation_id, 5);
	cr_assert(!h.flexible);
	cr_assert_eq(cursor_left(&c), 1u);
	/* A negative key too. */
	uint8_t q[sizeof(p)];
	memcpy(q, p, sizeof(q));
	q[0] = 0xff;
	cursor_init(&c, q, sizeof(q));
	cr_assert_eq(request_header_decode(&c, &h), 0);
	cr_assert_eq(h.api_key, (int16_t)0xffe7);
	cr_assert(!h.flexible);
}

Test(header, request_bad_client_id)
{
	static const uint8_t minus_two[] = { 0, 3, 0, 4, 0, 0, 0, 1, 0xff, 0xfe, 0, 0 };
	static const uint8_t too_long[] = { 0, 3, 0, 4, 0, 0, 0, 1, 0x7f, 0xff, 'a', 'b' };
	struct cursor c;
	struct request_header h;
	cursor_init(&c, minus_two, sizeof(minus_two));
	cr_assert_eq(request_header_decode(&c, &h), -TAPE_EPROTO);
	cursor_init(&c, too_long, sizeof(too_long));
	cr_assert_eq(request_header_decode(&c, &h), -TAPE_EPROTO);
	/* A v2 header whose tagged fields claim more than there is. */
	static const uint8_t tags[] = { 0, 18, 0, 3, 0, 0, 0, 1, 0, 0, 0x01, 0x00, 0x7f, 0x00 };
	cursor_init(&c, tags, sizeof(tags));
	cr_assert_eq(request_header_decode(&c, &h), -TAPE_EPROTO);
}

Test(header, request_encode_round_trip)
{
	const struct request_header hs[] = {
		{ API_METADATA, 4, 2, KSTR("rdkafka"), false },
		{ API_API_VERSIONS, 3, 1, KSTR("rdkafka"), true },
		{ API_PRODUCE, 7, -5, KSTR_NULL, false },
		{ API_FETCH, 12, 9, KSTR(""), true },
	};
	for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
		struct buf b;
		buf_init(&b, CHECK_BUF_LIMIT);
		request_header_encode(&b, &hs[i]);
		cr_assert(buf_ok(&b));
		struct cursor c;
		struct request_header h;
		cursor_init(&c, b.p, b.len);
		cr_assert_eq(request_header_decode(&c, &h), 0);
		cr_assert_eq(cursor_left(&c), 0u, "case %zu", i);
		cr_assert_eq(h.api_key, hs[i].api_key);
		cr_assert_eq(h.api_version, hs[i].api_version);
		cr_assert_eq(h.correlation_id, hs[i].correlation_id);
		cr_assert_kstr(h.client_id, hs[i].client_id);
		cr_assert_eq(h.flexible, hs[i].flexible, "case %zu", i);
		buf_free(&b);
	}
	/* The encoder writes librdkafka's v2 header byte for byte. */
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	request_header_encode(&b, &hs[1]);
	check_bytes(&b, api_versions_v3, API_VERSIONS_V3_HEADER_BYTES);
	buf_free(&b);
}

Test(header, response_v0_v1_and_the_api_versions_exception)
{
	static const uint8_t v0[] = { 0x00, 0x00, 0x00, 0x02 };
	static const uint8_t v1[] = { 0x00, 0x00, 0x00, 0x02, 0x00 };
	struct request_header req = { API_METADATA, 4, 2, KSTR("rdkafka"), false };
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	response_header_encode(&b, &req);
	check_bytes(&b, v0, sizeof(v0));
	buf_clear(&b);
	req.api_version = 9;
	req.flexible = true;
	response_header_encode(&b, &req);
	check_bytes(&b, v1, sizeof(v1));
	buf_clear(&b);
	/* ApiVersions v3 is flexible, but its response header stays v0. */
	struct cursor c;
	cursor_init(&c, api_versions_v3, sizeof(api_versions_v3));
	cr_assert_eq(request_header_decode(&c, &req), 0);
	cr_assert(req.flexible);
	req.correlation_id = 2;
	response_header_encode(&b, &req);
	check_bytes(&b, v0, sizeof(v0));
	buf_free(&b);
}

Test(header, response_decode)
{
	static const uint8_t v1[] = { 0x00, 0x00, 0x01, 0x00, 0x01, 0x03, 0x02, 0xaa, 0xbb };
	int32_t id = 0;
	struct cursor c;
	cursor_init(&c, v1, 4);
	cr_assert_eq(response_header_decode(&c, false, &id), 0);
	cr_assert_eq(id, 256);
	cursor_init(&c, v1, sizeof(v1));
	cr_assert_eq(response_header_decode(&c, true, &id), 0);
	cr_assert_eq(cursor_left(&c), 0u);
	for (size_t len = 0; len < sizeof(v1); len++) {
		cursor_init(&c, v1, len);
		cr_assert_eq(response_header_decode(&c, true, &id), -TAPE_EPROTO, "%zu bytes", len);
		cursor_init(&c, v1, len);
		cr_assert_eq(response_header_decode(&c, false, &id), len < 4 ? -TAPE_EPROTO : 0);
	}
}
