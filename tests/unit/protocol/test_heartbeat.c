/*
 * tests/unit/protocol/test_heartbeat.c: protocol/heartbeat.c, Heartbeat v0-3.
 *
 * Covers: encode -> decode round trips of request and response at every version with
 * non-default values in every field the version has (absent fields come back as defaults);
 * hand-built bytes (from the schema's field order) for request v0 and v3 and response v0 and
 * v1, byte for byte against the encoder and decoded back; every truncation and a trailing byte
 * refused; versions outside 0-3 refused both ways; an absurd string length refused.
 */
#include "protocol/heartbeat.h"

#include "group_codec_check.h"

static const struct heartbeat_request sample_request = {
	.group_id = KSTR("grp"),
	.generation_id = 7,
	.member_id = KSTR("m-1"),
	.group_instance_id = KSTR("i1"),
};

static const struct heartbeat_response sample_response = {
	.throttle_time_ms = 5,
	.error_code = 27,
};

static void check_request(const struct heartbeat_request *want, const struct heartbeat_request *got,
                          int16_t v)
{
	cr_assert(kstr_same(got->group_id, want->group_id), "v%d group_id", v);
	cr_assert_eq(got->generation_id, want->generation_id, "v%d generation_id", v);
	cr_assert(kstr_same(got->member_id, want->member_id), "v%d member_id", v);
	cr_assert(kstr_same(got->group_instance_id, v >= 3 ? want->group_instance_id : KSTR_NULL),
	          "v%d group_instance_id", v);
}

static void check_response(const struct heartbeat_response *want,
                           const struct heartbeat_response *got, int16_t v)
{
	cr_assert_eq(got->throttle_time_ms, v >= 1 ? want->throttle_time_ms : 0, "v%d throttle", v);
	cr_assert_eq(got->error_code, want->error_code, "v%d error_code", v);
}

Test(heartbeat, round_trip_every_version)
{
	struct arena a;
	arena_init(&a, CHECK_ARENA_BYTES);
	for (int16_t v = HEARTBEAT_VERSION_MIN; v <= HEARTBEAT_VERSION_MAX; v++) {
		struct buf b;
		struct heartbeat_request req;
		struct heartbeat_response resp;
		CHECK_ROUND_TRIP(heartbeat_request, v, &sample_request, &b, &a, &req);
		check_request(&sample_request, &req, v);
		buf_free(&b);
		CHECK_ROUND_TRIP(heartbeat_response, v, &sample_response, &b, &a, &resp);
		check_response(&sample_response, &resp, v);
		buf_free(&b);
	}
	arena_free(&a);
}

Test(heartbeat, null_group_instance_id_round_trips)
{
	struct heartbeat_request r = sample_request, got;
	r.group_instance_id = KSTR_NULL;
	struct arena a;
	struct buf b;
	arena_init(&a, CHECK_ARENA_BYTES);
	CHECK_ROUND_TRIP(heartbeat_request, 3, &r, &b, &a, &got);
	check_request(&r, &got, 3);
	buf_free(&b);
	arena_free(&a);
}

static const uint8_t request_v0[] = {
	0x00, 0x03, 'g',  'r',  'p', /* group_id */
	0x00, 0x00, 0x00, 0x07,      /* generation_id */
	0x00, 0x03, 'm',  '-',  '1', /* member_id */
};

static const uint8_t request_v3[] = {
	0x00, 0x03, 'g',  'r',  'p', /* group_id */
	0x00, 0x00, 0x00, 0x07,      /* generation_id */
	0x00, 0x03, 'm',  '-',  '1', /* member_id */
	0x00, 0x02, 'i',  '1',       /* group_instance_id */
};

static const uint8_t response_v0[] = { 0x00, 0x1b };
static const uint8_t response_v1[] = { 0x00, 0x00, 0x00, 0x05, 0x00, 0x1b };

Test(heartbeat, bytes_by_hand)
{
	CHECK_BYTES(heartbeat_request, 0, &sample_request, request_v0);
	CHECK_BYTES(heartbeat_request, 3, &sample_request, request_v3);
	CHECK_BYTES(heartbeat_response, 0, &sample_response, response_v0);
	CHECK_BYTES(heartbeat_response, 1, &sample_response, response_v1);

	struct arena a;
	struct heartbeat_request req;
	struct heartbeat_response resp;
	int rc;
	arena_init(&a, CHECK_ARENA_BYTES);
	CHECK_DECODE(heartbeat_request, 3, request_v3, sizeof(request_v3), &a, &req, rc);
	cr_assert_eq(rc, 0);
	cr_assert(kstr_eq(req.group_id, "grp") && kstr_eq(req.member_id, "m-1"));
	cr_assert(req.generation_id == 7 && kstr_eq(req.group_instance_id, "i1"));
	CHECK_DECODE(heartbeat_response, 1, response_v1, sizeof(response_v1), &a, &resp, rc);
	cr_assert(rc == 0 && resp.throttle_time_ms == 5 && resp.error_code == 27);
	/* v3 bytes at v0 leave the instance id over: refused. */
	CHECK_DECODE(heartbeat_request, 0, request_v3, sizeof(request_v3), &a, &req, rc);
	cr_assert_eq(rc, -TAPE_EPROTO);
	arena_free(&a);
}

Test(heartbeat, versions_out_of_range)
{
	CHECK_VERSIONS(heartbeat_request, HEARTBEAT_VERSION_MIN, HEARTBEAT_VERSION_MAX,
	               &sample_request);
	CHECK_VERSIONS(heartbeat_response, HEARTBEAT_VERSION_MIN, HEARTBEAT_VERSION_MAX,
	               &sample_response);
}

Test(heartbeat, absurd_lengths)
{
	/* A group id said to be 32767 bytes long in a 9-byte body. */
	static const uint8_t long_group[] = { 0x7f, 0xff, 'g', 0, 0, 0, 7, 0, 0 };
	CHECK_REFUSED_SMALL(heartbeat_request, 0, long_group);
	/* A null group id (not nullable) and a length below -1. */
	static const uint8_t null_group[] = { 0xff, 0xff, 0, 0, 0, 7, 0, 0 };
	CHECK_REFUSED_SMALL(heartbeat_request, 0, null_group);
	static const uint8_t minus_two[] = { 0x00, 0x00, 0, 0, 0, 7, 0, 0, 0xff, 0xfe };
	CHECK_REFUSED_SMALL(heartbeat_request, 3, minus_two);
}
