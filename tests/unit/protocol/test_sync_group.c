/*
 * tests/unit/protocol/test_sync_group.c: protocol/sync_group.c, SyncGroup v0-3.
 *
 * Covers: encode -> decode round trips of request and response at every version with
 * non-default values in every field the version has (group_instance_id null before v3,
 * throttle 0 at v0), with and without assignments (followers send none) and with an empty
 * assignment in the response; hand-built bytes (from the schema's field order) for request v3
 * and response v0 and v1, byte for byte against the encoder and decoded back; every truncation
 * and a trailing byte refused; versions outside 0-3 refused both ways; an absurd assignment
 * count and bytes length refused without a large allocation; nulls in non-nullable fields are
 * not encoded.
 */
#include "protocol/sync_group.h"

#include "group_codec_check.h"

static const struct sync_group_request_assignment sample_assignments[] = {
	{ .member_id = KSTR("m-1"), .assignment = { (const uint8_t *)"\x00\x00", 2 } },
	{ .member_id = KSTR("m-2"), .assignment = { (const uint8_t *)"", 0 } },
};

static const struct sync_group_request sample_request = {
	.group_id = KSTR("grp"),
	.generation_id = 4,
	.member_id = KSTR("m-1"),
	.group_instance_id = KSTR("i1"),
	.assignments_count = 2,
	.assignments = (struct sync_group_request_assignment *)sample_assignments,
};

static const struct sync_group_response sample_response = {
	.throttle_time_ms = 11,
	.error_code = 27,
	.assignment = { (const uint8_t *)"\x00\x00\x00\x00\x00\x00", 6 },
};

static void check_request(const struct sync_group_request *want,
                          const struct sync_group_request *got, int16_t v)
{
	cr_assert(kstr_same(got->group_id, want->group_id), "v%d group_id", v);
	cr_assert_eq(got->generation_id, want->generation_id, "v%d generation_id", v);
	cr_assert(kstr_same(got->member_id, want->member_id), "v%d member_id", v);
	cr_assert(kstr_same(got->group_instance_id, v >= 3 ? want->group_instance_id : KSTR_NULL),
	          "v%d group_instance_id", v);
	cr_assert_eq(got->assignments_count, want->assignments_count, "v%d assignments", v);
	for (int32_t i = 0; i < want->assignments_count; i++) {
		cr_assert(kstr_same(got->assignments[i].member_id, want->assignments[i].member_id));
		cr_assert(
		    kbytes_same(got->assignments[i].assignment, want->assignments[i].assignment));
	}
}

static void check_response(const struct sync_group_response *want,
                           const struct sync_group_response *got, int16_t v)
{
	cr_assert_eq(got->throttle_time_ms, v >= 1 ? want->throttle_time_ms : 0, "v%d throttle", v);
	cr_assert_eq(got->error_code, want->error_code, "v%d error_code", v);
	cr_assert(kbytes_same(got->assignment, want->assignment), "v%d assignment", v);
}

Test(sync_group, round_trip_every_version)
{
	struct arena a;
	arena_init(&a, CHECK_ARENA_BYTES);
	for (int16_t v = SYNC_GROUP_VERSION_MIN; v <= SYNC_GROUP_VERSION_MAX; v++) {
		struct buf b;
		struct sync_group_request req;
		struct sync_group_response resp;
		CHECK_ROUND_TRIP(sync_group_request, v, &sample_request, &b, &a, &req);
		check_request(&sample_request, &req, v);
		buf_free(&b);

		struct sync_group_request follower = sample_request;
		follower.assignments_count = 0;
		follower.group_instance_id = KSTR_NULL;
		CHECK_ROUND_TRIP(sync_group_request, v, &follower, &b, &a, &req);
		check_request(&follower, &req, v);
		buf_free(&b);

		CHECK_ROUND_TRIP(sync_group_response, v, &sample_response, &b, &a, &resp);
		check_response(&sample_response, &resp, v);
		buf_free(&b);

		struct sync_group_response nothing = sample_response;
		nothing.assignment = (struct kbytes){ NULL, 0 };
		CHECK_ROUND_TRIP(sync_group_response, v, &nothing, &b, &a, &resp);
		check_response(&nothing, &resp, v);
		buf_free(&b);
		arena_reset(&a);
	}
	arena_free(&a);
}

static const uint8_t request_v3[] = {
	0x00, 0x03, 'g',  'r',  'p',        /* group_id */
	0x00, 0x00, 0x00, 0x04,             /* generation_id */
	0x00, 0x03, 'm',  '-',  '1',        /* member_id */
	0x00, 0x02, 'i',  '1',              /* group_instance_id */
	0x00, 0x00, 0x00, 0x02,             /* assignments */
	0x00, 0x03, 'm',  '-',  '1',        /*   member_id */
	0x00, 0x00, 0x00, 0x02, 0x00, 0x00, /*   assignment */
	0x00, 0x03, 'm',  '-',  '2',        /*   member_id */
	0x00, 0x00, 0x00, 0x00,             /*   assignment (empty) */
};

static const uint8_t response_v0[] = {
	0x00, 0x1b,                               /* error_code */
	0x00, 0x00, 0x00, 0x06, 0, 0, 0, 0, 0, 0, /* assignment */
};

static const uint8_t response_v1[] = {
	0x00, 0x00, 0x00, 0x0b,                   /* throttle_time_ms */
	0x00, 0x1b,                               /* error_code */
	0x00, 0x00, 0x00, 0x06, 0, 0, 0, 0, 0, 0, /* assignment */
};

Test(sync_group, bytes_by_hand)
{
	CHECK_BYTES(sync_group_request, 3, &sample_request, request_v3);
	CHECK_BYTES(sync_group_response, 0, &sample_response, response_v0);
	CHECK_BYTES(sync_group_response, 1, &sample_response, response_v1);

	struct arena a;
	struct sync_group_request req;
	struct sync_group_response resp;
	int rc;
	arena_init(&a, CHECK_ARENA_BYTES);
	CHECK_DECODE(sync_group_request, 3, request_v3, sizeof(request_v3), &a, &req, rc);
	cr_assert_eq(rc, 0);
	check_request(&sample_request, &req, 3);
	CHECK_DECODE(sync_group_response, 1, response_v1, sizeof(response_v1), &a, &resp, rc);
	cr_assert_eq(rc, 0);
	check_response(&sample_response, &resp, 1);
	arena_free(&a);
}

Test(sync_group, versions_out_of_range)
{
	CHECK_VERSIONS(sync_group_request, SYNC_GROUP_VERSION_MIN, SYNC_GROUP_VERSION_MAX,
	               &sample_request);
	CHECK_VERSIONS(sync_group_response, SYNC_GROUP_VERSION_MIN, SYNC_GROUP_VERSION_MAX,
	               &sample_response);
}

Test(sync_group, absurd_counts)
{
	/* 2^31-1 assignments in a few bytes. */
	static const uint8_t many[] = { 0,    1,    'g',  0, 0, 0,   1, 0, 1, 'm', 0x7f,
		                        0xff, 0xff, 0xff, 0, 1, 'm', 0, 0, 0, 0 };
	CHECK_REFUSED_SMALL(sync_group_request, 0, many);
	/* A negative count, and a null assignment array. */
	static const uint8_t negative[] = { 0, 1, 'g', 0, 0, 0, 1, 0, 1, 'm', 0x80, 0, 0, 0 };
	CHECK_REFUSED_SMALL(sync_group_request, 0, negative);
	static const uint8_t null_array[] = { 0, 1, 'g', 0,    0,    0,    1,
		                              0, 1, 'm', 0xff, 0xff, 0xff, 0xff };
	CHECK_REFUSED_SMALL(sync_group_request, 0, null_array);
	/* An assignment of 2 GiB, and a null one (not nullable). */
	static const uint8_t long_bytes[] = { 0, 0, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3 };
	CHECK_REFUSED_SMALL(sync_group_response, 0, long_bytes);
	static const uint8_t null_bytes[] = { 0, 0, 0xff, 0xff, 0xff, 0xff };
	CHECK_REFUSED_SMALL(sync_group_response, 0, null_bytes);
}

Test(sync_group, nulls_are_not_encoded)
{
	struct sync_group_response r = sample_response;
	r.assignment = (struct kbytes){ NULL, -1 };
	struct buf b;
	buf_init(&b, CHECK_BUF_BYTES);
	sync_group_response_encode(&b, 3, &r);
	cr_assert(!buf_ok(&b));
	buf_free(&b);

	struct sync_group_request q = sample_request;
	q.assignments_count = -1;
	buf_init(&b, CHECK_BUF_BYTES);
	sync_group_request_encode(&b, 3, &q);
	cr_assert(!buf_ok(&b));
	buf_free(&b);
}
