/*
 * tests/unit/protocol/test_find_coordinator.c: protocol/find_coordinator.c, FindCoordinator
 * v0-2.
 *
 * Covers: encode -> decode round trips of request and response at every version with
 * non-default values in every field the version has (absent fields come back as defaults:
 * key_type 0, throttle 0, error_message null); a null error_message at v1+; hand-built bytes
 * (from the schema's field order) for request v0 and v1 and response v0 and v2, byte for byte
 * against the encoder and decoded back; every truncation and a trailing byte refused; versions
 * outside 0-2 refused both ways; absurd string lengths refused; a null host cannot be encoded.
 */
#include "protocol/find_coordinator.h"

#include "group_codec_check.h"

static const struct find_coordinator_request sample_request = {
	.key = KSTR("grp"),
	.key_type = 1,
};

static const struct find_coordinator_response sample_response = {
	.throttle_time_ms = 9,
	.error_code = 15,
	.error_message = KSTR("later"),
	.node_id = 3,
	.host = KSTR("h1"),
	.port = 9092,
};

static void check_request(const struct find_coordinator_request *want,
                          const struct find_coordinator_request *got, int16_t v)
{
	cr_assert(kstr_same(got->key, want->key), "v%d key", v);
	cr_assert_eq(got->key_type, v >= 1 ? want->key_type : 0, "v%d key_type", v);
}

static void check_response(const struct find_coordinator_response *want,
                           const struct find_coordinator_response *got, int16_t v)
{
	cr_assert_eq(got->throttle_time_ms, v >= 1 ? want->throttle_time_ms : 0, "v%d throttle", v);
	cr_assert_eq(got->error_code, want->error_code, "v%d error_code", v);
	cr_assert(kstr_same(got->error_message, v >= 1 ? want->error_message : KSTR_NULL),
	          "v%d error_message", v);
	cr_assert_eq(got->node_id, want->node_id, "v%d node_id", v);
	cr_assert(kstr_same(got->host, want->host), "v%d host", v);
	cr_assert_eq(got->port, want->port, "v%d port", v);
}

Test(find_coordinator, round_trip_every_version)
{
	struct arena a;
	arena_init(&a, CHECK_ARENA_BYTES);
	for (int16_t v = FIND_COORDINATOR_VERSION_MIN; v <= FIND_COORDINATOR_VERSION_MAX; v++) {
		struct buf b;
		struct find_coordinator_request req;
		struct find_coordinator_response resp;
		CHECK_ROUND_TRIP(find_coordinator_request, v, &sample_request, &b, &a, &req);
		check_request(&sample_request, &req, v);
		buf_free(&b);
		CHECK_ROUND_TRIP(find_coordinator_response, v, &sample_response, &b, &a, &resp);
		check_response(&sample_response, &resp, v);
		buf_free(&b);

		struct find_coordinator_response no_message = sample_response;
		no_message.error_message = KSTR_NULL;
		CHECK_ROUND_TRIP(find_coordinator_response, v, &no_message, &b, &a, &resp);
		check_response(&no_message, &resp, v);
		buf_free(&b);
	}
	arena_free(&a);
}

static const uint8_t request_v0[] = { 0x00, 0x03, 'g', 'r', 'p' };
static const uint8_t request_v1[] = { 0x00, 0x03, 'g', 'r', 'p', /* key */
	                              0x01 /* key_type */ };

static const uint8_t response_v0[] = {
	0x00, 0x0f,             /* error_code */
	0x00, 0x00, 0x00, 0x03, /* node_id */
	0x00, 0x02, 'h',  '1',  /* host */
	0x00, 0x00, 0x23, 0x84, /* port 9092 */
};

static const uint8_t response_v2[] = {
	0x00, 0x00, 0x00, 0x09,                /* throttle_time_ms */
	0x00, 0x0f,                            /* error_code */
	0x00, 0x05, 'l',  'a',  't', 'e', 'r', /* error_message */
	0x00, 0x00, 0x00, 0x03,                /* node_id */
	0x00, 0x02, 'h',  '1',                 /* host */
	0x00, 0x00, 0x23, 0x84,                /* port */
};

Test(find_coordinator, bytes_by_hand)
{
	CHECK_BYTES(find_coordinator_request, 0, &sample_request, request_v0);
	CHECK_BYTES(find_coordinator_request, 1, &sample_request, request_v1);
	CHECK_BYTES(find_coordinator_response, 0, &sample_response, response_v0);
	CHECK_BYTES(find_coordinator_response, 2, &sample_response, response_v2);

	struct arena a;
	struct find_coordinator_request req;
	struct find_coordinator_response resp;
	int rc;
	arena_init(&a, CHECK_ARENA_BYTES);
	CHECK_DECODE(find_coordinator_request, 1, request_v1, sizeof(request_v1), &a, &req, rc);
	cr_assert(rc == 0 && kstr_eq(req.key, "grp") && req.key_type == 1);
	CHECK_DECODE(find_coordinator_response, 2, response_v2, sizeof(response_v2), &a, &resp, rc);
	cr_assert_eq(rc, 0);
	check_response(&sample_response, &resp, 2);
	CHECK_DECODE(find_coordinator_response, 0, response_v0, sizeof(response_v0), &a, &resp, rc);
	cr_assert_eq(rc, 0);
	check_response(&sample_response, &resp, 0);
	arena_free(&a);
}

Test(find_coordinator, versions_out_of_range)
{
	CHECK_VERSIONS(find_coordinator_request, FIND_COORDINATOR_VERSION_MIN,
	               FIND_COORDINATOR_VERSION_MAX, &sample_request);
	CHECK_VERSIONS(find_coordinator_response, FIND_COORDINATOR_VERSION_MIN,
	               FIND_COORDINATOR_VERSION_MAX, &sample_response);
}

Test(find_coordinator, absurd_lengths)
{
	static const uint8_t long_key[] = { 0x7f, 0xff, 'g', 'r', 'p', 0x00 };
	CHECK_REFUSED_SMALL(find_coordinator_request, 1, long_key);
	static const uint8_t null_key[] = { 0xff, 0xff, 0x00 };
	CHECK_REFUSED_SMALL(find_coordinator_request, 1, null_key);
	/* A null host (not nullable) in a v0 response. */
	static const uint8_t null_host[] = { 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0, 0, 0x23, 0x84 };
	CHECK_REFUSED_SMALL(find_coordinator_response, 0, null_host);
}

Test(find_coordinator, null_host_is_not_encoded)
{
	struct find_coordinator_response r = sample_response;
	r.host = KSTR_NULL;
	struct buf b;
	buf_init(&b, CHECK_BUF_BYTES);
	find_coordinator_response_encode(&b, 2, &r);
	cr_assert(!buf_ok(&b));
	buf_free(&b);
}
