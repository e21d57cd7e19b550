/*
 * tests/unit/protocol/test_leave_group.c: protocol/leave_group.c, LeaveGroup v0-3.
 *
 * Covers: encode -> decode round trips of request and response at every version with
 * non-default values in every field the version has (v0-2: one member_id and no members;
 * v3: a members batch, with and without group_instance_id, answered per member, and member_id
 * "" by default); hand-built bytes (from the schema's field order) for request v1 and v3 and
 * response v0 and v3, byte for byte against the encoder and decoded back; every truncation and
 * a trailing byte refused; versions outside 0-3 refused both ways; absurd member counts
 * refused without a large allocation.
 */
#include "protocol/leave_group.h"

#include "group_codec_check.h"

static const struct leave_group_member_identity sample_identities[] = {
	{ .member_id = KSTR("m-1"), .group_instance_id = KSTR("i1") },
	{ .member_id = KSTR("m-2"), .group_instance_id = KSTR_NULL },
};

static const struct leave_group_request sample_request = {
	.group_id = KSTR("grp"),
	.member_id = KSTR("m-1"),
	.members_count = 2,
	.members = (struct leave_group_member_identity *)sample_identities,
};

static const struct leave_group_member_response sample_member_responses[] = {
	{ .member_id = KSTR("m-1"), .group_instance_id = KSTR("i1"), .error_code = 0 },
	{ .member_id = KSTR("m-2"), .group_instance_id = KSTR_NULL, .error_code = 25 },
};

static const struct leave_group_response sample_response = {
	.throttle_time_ms = 8,
	.error_code = 16,
	.members_count = 2,
	.members = (struct leave_group_member_response *)sample_member_responses,
};

static void check_request(const struct leave_group_request *want,
                          const struct leave_group_request *got, int16_t v)
{
	cr_assert(kstr_same(got->group_id, want->group_id), "v%d group_id", v);
	cr_assert(kstr_same(got->member_id, v <= 2 ? want->member_id : KSTR("")), "v%d member_id",
	          v);
	cr_assert_eq(got->members_count, v >= 3 ? want->members_count : 0, "v%d members", v);
	for (int32_t i = 0; i < got->members_count; i++) {
		cr_assert(kstr_same(got->members[i].member_id, want->members[i].member_id));
		cr_assert(kstr_same(got->members[i].group_instance_id,
		                    want->members[i].group_instance_id));
	}
}

static void check_response(const struct leave_group_response *want,
                           const struct leave_group_response *got, int16_t v)
{
	cr_assert_eq(got->throttle_time_ms, v >= 1 ? want->throttle_time_ms : 0, "v%d throttle", v);
	cr_assert_eq(got->error_code, want->error_code, "v%d error_code", v);
	cr_assert_eq(got->members_count, v >= 3 ? want->members_count : 0, "v%d members", v);
	for (int32_t i = 0; i < got->members_count; i++) {
		const struct leave_group_member_response *w = &want->members[i],
		                                         *g = &got->members[i];
		cr_assert(kstr_same(g->member_id, w->member_id), "v%d member %d", v, i);
		cr_assert(kstr_same(g->group_instance_id, w->group_instance_id), "v%d member %d", v,
		          i);
		cr_assert_eq(g->error_code, w->error_code, "v%d member %d error_code", v, i);
	}
}

Test(leave_group, round_trip_every_version)
{
	struct arena a;
	arena_init(&a, CHECK_ARENA_BYTES);
	for (int16_t v = LEAVE_GROUP_VERSION_MIN; v <= LEAVE_GROUP_VERSION_MAX; v++) {
		struct buf b;
		struct leave_group_request req;
		struct leave_group_response resp;
		CHECK_ROUND_TRIP(leave_group_request, v, &sample_request, &b, &a, &req);
		check_request(&sample_request, &req, v);
		buf_free(&b);
		CHECK_ROUND_TRIP(leave_group_response, v, &sample_response, &b, &a, &resp);
		check_response(&sample_response, &resp, v);
		buf_free(&b);
		arena_reset(&a);
	}
	arena_free(&a);
}

static const uint8_t request_v1[] = {
	0x00, 0x03, 'g', 'r', 'p', /* group_id */
	0x00, 0x03, 'm', '-', '1', /* member_id */
};

static const uint8_t request_v3[] = {
	0x00, 0x03, 'g',  'r',  'p', /* group_id */
	0x00, 0x00, 0x00, 0x02,      /* members */
	0x00, 0x03, 'm',  '-',  '1', /*   member_id */
	0x00, 0x02, 'i',  '1',       /*   group_instance_id */
	0x00, 0x03, 'm',  '-',  '2', /*   member_id */
	0xff, 0xff,                  /*   group_instance_id null */
};

static const uint8_t response_v0[] = { 0x00, 0x10 };

static const uint8_t response_v3[] = {
	0x00, 0x00, 0x00, 0x08,      /* throttle_time_ms */
	0x00, 0x10,                  /* error_code */
	0x00, 0x00, 0x00, 0x02,      /* members */
	0x00, 0x03, 'm',  '-',  '1', /*   member_id */
	0x00, 0x02, 'i',  '1',       /*   group_instance_id */
	0x00, 0x00,                  /*   error_code */
	0x00, 0x03, 'm',  '-',  '2', /*   member_id */
	0xff, 0xff,                  /*   group_instance_id null */
	0x00, 0x19,                  /*   error_code 25 */
};

Test(leave_group, bytes_by_hand)
{
	CHECK_BYTES(leave_group_request, 1, &sample_request, request_v1);
	CHECK_BYTES(leave_group_request, 3, &sample_request, request_v3);
	CHECK_BYTES(leave_group_response, 0, &sample_response, response_v0);
	CHECK_BYTES(leave_group_response, 3, &sample_response, response_v3);

	struct arena a;
	struct leave_group_request req;
	struct leave_group_response resp;
	int rc;
	arena_init(&a, CHECK_ARENA_BYTES);
	CHECK_DECODE(leave_group_request, 1, request_v1, sizeof(request_v1), &a, &req, rc);
	cr_assert_eq(rc, 0);
	check_request(&sample_request, &req, 1);
	CHECK_DECODE(leave_group_request, 3, request_v3, sizeof(request_v3), &a, &req, rc);
	cr_assert_eq(rc, 0);
	check_request(&sample_request, &req, 3);
	CHECK_DECODE(leave_group_response, 3, response_v3, sizeof(response_v3), &a, &resp, rc);
	cr_assert_eq(rc, 0);
	check_response(&sample_response, &resp, 3);
	/* v3's layout read as v2 leaves bytes over. */
	CHECK_DECODE(leave_group_request, 2, request_v3, sizeof(request_v3), &a, &req, rc);
	cr_assert_eq(rc, -TAPE_EPROTO);
	arena_free(&a);
}

Test(leave_group, versions_out_of_range)
{
	CHECK_VERSIONS(leave_group_request, LEAVE_GROUP_VERSION_MIN, LEAVE_GROUP_VERSION_MAX,
	               &sample_request);
	CHECK_VERSIONS(leave_group_response, LEAVE_GROUP_VERSION_MIN, LEAVE_GROUP_VERSION_MAX,
	               &sample_response);
}

Test(leave_group, absurd_counts)
{
	static const uint8_t many[] = { 0, 1, 'g', 0x7f, 0xff, 0xff, 0xff, 0, 0, 0xff, 0xff };
	CHECK_REFUSED_SMALL(leave_group_request, 3, many);
	static const uint8_t null_members[] = { 0, 1, 'g', 0xff, 0xff, 0xff, 0xff };
	CHECK_REFUSED_SMALL(leave_group_request, 3, null_members);
	static const uint8_t many_answers[] = { 0,    0,    0, 0, 0,    0,    0x00, 0x00,
		                                0x10, 0x00, 0, 0, 0xff, 0xff, 0,    0 };
	CHECK_REFUSED_SMALL(leave_group_response, 3, many_answers);
}
