/*
 * tests/unit/protocol/test_describe_groups.c: protocol/describe_groups.c, DescribeGroups v0-4.
 *
 * Covers: encode -> decode round trips of request and response at every version with
 * non-default values in every field the version has (include_authorized_operations and
 * authorized_operations from v3, false and INT32_MIN before; group_instance_id from v4, null
 * before; throttle from v1); hand-built bytes (from the schema's field order) for request v0
 * and v3 and response v0 and v4, byte for byte against the encoder and decoded back; a
 * non-zero byte other than 1 reads as true; every truncation and a trailing byte refused;
 * versions outside 0-4 refused both ways; absurd counts and lengths refused without a large
 * allocation.
 */
#include "protocol/describe_groups.h"

#include "group_codec_check.h"

static const struct kstr sample_groups[] = { KSTR("grp"), KSTR(""), KSTR("other") };

static const struct describe_groups_request sample_request = {
	.groups_count = 3,
	.groups = (struct kstr *)sample_groups,
	.include_authorized_operations = true,
};

static const struct describe_groups_described_group_member sample_members[] = {
	{ .member_id = KSTR("m-1"),
	  .group_instance_id = KSTR("i1"),
	  .client_id = KSTR("rdkafka"),
	  .client_host = KSTR("/127.0.0.1"),
	  .member_metadata = { (const uint8_t *)"\x00\x00", 2 },
	  .member_assignment = { (const uint8_t *)"\x00\x00\x00", 3 } },
	{ .member_id = KSTR("m-2"),
	  .group_instance_id = KSTR_NULL,
	  .client_id = KSTR("kafkajs"),
	  .client_host = KSTR("/::1"),
	  .member_metadata = { NULL, 0 },
	  .member_assignment = { NULL, 0 } },
};

static const struct describe_groups_described_group sample_described[] = {
	{ .error_code = 0,
	  .group_id = KSTR("grp"),
	  .group_state = KSTR("Stable"),
	  .protocol_type = KSTR("consumer"),
	  .protocol_data = KSTR("range"),
	  .members_count = 2,
	  .members = (struct describe_groups_described_group_member *)sample_members,
	  .authorized_operations = 0x0fff },
	{ .error_code = 69,
	  .group_id = KSTR("gone"),
	  .group_state = KSTR("Dead"),
	  .protocol_type = KSTR(""),
	  .protocol_data = KSTR(""),
	  .members_count = 0,
	  .authorized_operations = 0 },
};

static const struct describe_groups_response sample_response = {
	.throttle_time_ms = 1,
	.groups_count = 2,
	.groups = (struct describe_groups_described_group *)sample_described,
};

static void check_request(const struct describe_groups_request *want,
                          const struct describe_groups_request *got, int16_t v)
{
	cr_assert_eq(got->groups_count, want->groups_count, "v%d groups", v);
	for (int32_t i = 0; i < want->groups_count; i++)
		cr_assert(kstr_same(got->groups[i], want->groups[i]), "v%d group %d", v, i);
	cr_assert_eq(got->include_authorized_operations,
	             v >= 3 ? want->include_authorized_operations : false, "v%d include", v);
}

static void check_member(const struct describe_groups_described_group_member *w,
                         const struct describe_groups_described_group_member *g, int16_t v)
{
	cr_assert(kstr_same(g->member_id, w->member_id), "v%d member_id", v);
	cr_assert(kstr_same(g->group_instance_id, v >= 4 ? w->group_instance_id : KSTR_NULL),
	          "v%d group_instance_id", v);
	cr_assert(kstr_same(g->client_id, w->client_id), "v%d client_id", v);
	cr_assert(kstr_same(g->client_host, w->client_host), "v%d client_host", v);
	cr_assert(kbytes_same(g->member_metadata, w->member_metadata), "v%d metadata", v);
	cr_assert(kbytes_same(g->member_assignment, w->member_assignment), "v%d assignment", v);
}

static void check_response(const struct describe_groups_response *want,
                           const struct describe_groups_response *got, int16_t v)
{
	cr_assert_eq(got->throttle_time_ms, v >= 1 ? want->throttle_time_ms : 0, "v%d throttle", v);
	cr_assert_eq(got->groups_count, want->groups_count, "v%d groups", v);
	for (int32_t i = 0; i < want->groups_count; i++) {
		const struct describe_groups_described_group *w = &want->groups[i],
		                                             *g = &got->groups[i];
		cr_assert_eq(g->error_code, w->error_code);
		cr_assert(kstr_same(g->group_id, w->group_id));
		cr_assert(kstr_same(g->group_state, w->group_state));
		cr_assert(kstr_same(g->protocol_type, w->protocol_type));
		cr_assert(kstr_same(g->protocol_data, w->protocol_data));
		cr_assert_eq(g->members_count, w->members_count);
		for (int32_t j = 0; j < w->members_count; j++)
			check_member(&w->members[j], &g->members[j], v);
		cr_assert_eq(g->authorized_operations,
		             v >= 3 ? w->authorized_operations : INT32_MIN, "v%d operations", v);
	}
}

Test(describe_groups, round_trip_every_version)
{
	struct arena a;
	arena_init(&a, CHECK_ARENA_BYTES);
	for (int16_t v = DESCRIBE_GROUPS_VERSION_MIN; v <= DESCRIBE_GROUPS_VERSION_MAX; v++) {
		struct buf b;
		struct describe_groups_request req;
		struct describe_groups_response resp;
		CHECK_ROUND_TRIP(describe_groups_request, v, &sample_request, &b, &a, &req);
		check_request(&sample_request, &req, v);
		buf_free(&b);
		CHECK_ROUND_TRIP(describe_groups_response, v, &sample_response, &b, &a, &resp);
		check_response(&sample_response, &resp, v);
		buf_free(&b);
		arena_reset(&a);
	}
	arena_free(&a);
}

static const uint8_t request_v0[] = {
	0x00, 0x00, 0x00, 0x03,                /* groups */
	0x00, 0x03, 'g',  'r',  'p',           /*   "grp" */
	0x00, 0x00,                            /*   "" */
	0x00, 0x05, 'o',  't',  'h', 'e', 'r', /*   "other" */
};

static const uint8_t response_v0[] = {
	0x00, 0x00, 0x00, 0x01,           /* groups */
	0x00, 0x45,                       /*   error_code 69 */
	0x00, 0x04, 'g',  'o',  'n', 'e', /*   group_id */
	0x00, 0x04, 'D',  'e',  'a', 'd', /*   group_state */
	0x00, 0x00,                       /*   protocol_type */
	0x00, 0x00,                       /*   protocol_data */
	0x00, 0x00, 0x00, 0x00,           /*   members */
};

static const uint8_t response_v4[] = {
	0x00, 0x00, 0x00, 0x01,                                  /* throttle_time_ms */
	0x00, 0x00, 0x00, 0x01,                                  /* groups */
	0x00, 0x00,                                              /*   error_code */
	0x00, 0x03, 'g',  'r',  'p',                             /*   group_id */
	0x00, 0x06, 'S',  't',  'a',  'b',  'l',  'e',           /*   group_state */
	0x00, 0x08, 'c',  'o',  'n',  's',  'u',  'm', 'e', 'r', /* protocol_type */
	0x00, 0x05, 'r',  'a',  'n',  'g',  'e',                 /*   protocol_data */
	0x00, 0x00, 0x00, 0x01,                                  /*   members */
	0x00, 0x03, 'm',  '-',  '1',                             /*     member_id */
	0x00, 0x02, 'i',  '1',                                   /*     group_instance_id */
	0x00, 0x07, 'r',  'd',  'k',  'a',  'f',  'k', 'a',      /*     client_id */
	0x00, 0x0a, '/',  '1',  '2',  '7',  '.',  '0', '.', '0', '.', '1', /* client_host */
	0x00, 0x00, 0x00, 0x02, 0x00, 0x00,                                /*     member_metadata */
	0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, /*     member_assignment */
	0x00, 0x00, 0x0f, 0xff,                   /*   authorized_operations */
};

Test(describe_groups, bytes_by_hand)
{
	CHECK_BYTES(describe_groups_request, 0, &sample_request, request_v0);
	uint8_t v3[sizeof(request_v0) + 1];
	memcpy(v3, request_v0, sizeof(request_v0));
	v3[sizeof(request_v0)] = 0x01; /* include_authorized_operations */
	CHECK_BYTES(describe_groups_request, 3, &sample_request, v3);

	struct describe_groups_response r = sample_response;
	r.groups_count = 1;
	r.groups = (struct describe_groups_described_group *)&sample_described[1];
	CHECK_BYTES(describe_groups_response, 0, &r, response_v0);
	struct describe_groups_described_group g = sample_described[0];
	g.members_count = 1;
	r.groups = &g;
	CHECK_BYTES(describe_groups_response, 4, &r, response_v4);

	struct arena a;
	struct describe_groups_request req;
	struct describe_groups_response resp;
	int rc;
	arena_init(&a, CHECK_ARENA_BYTES);
	CHECK_DECODE(describe_groups_request, 3, v3, sizeof(v3), &a, &req, rc);
	cr_assert_eq(rc, 0);
	check_request(&sample_request, &req, 3);
	CHECK_DECODE(describe_groups_response, 4, response_v4, sizeof(response_v4), &a, &resp, rc);
	cr_assert_eq(rc, 0);
	check_response(&r, &resp, 4);
	/* Any non-zero byte is true. */
	v3[sizeof(request_v0)] = 0x7f;
	CHECK_DECODE(describe_groups_request, 3, v3, sizeof(v3), &a, &req, rc);
	cr_assert(rc == 0 && req.include_authorized_operations);
	arena_free(&a);
}

Test(describe_groups, versions_out_of_range)
{
	CHECK_VERSIONS(describe_groups_request, DESCRIBE_GROUPS_VERSION_MIN,
	               DESCRIBE_GROUPS_VERSION_MAX, &sample_request);
	CHECK_VERSIONS(describe_groups_response, DESCRIBE_GROUPS_VERSION_MIN,
	               DESCRIBE_GROUPS_VERSION_MAX, &sample_response);
}

Test(describe_groups, absurd_counts)
{
	static const uint8_t groups[] = { 0x7f, 0xff, 0xff, 0xff, 0, 1, 'g', 0, 0 };
	CHECK_REFUSED_SMALL(describe_groups_request, 0, groups);
	static const uint8_t long_name[] = { 0, 0, 0, 1, 0x7f, 0xff, 'g' };
	CHECK_REFUSED_SMALL(describe_groups_request, 0, long_name);
	/* v4 response: one group claiming 2^24 members. */
	static const uint8_t members[] = { 0, 0, 0, 0, 0,    0, 0, 1, 0, 0, 0, 0, 0, 0,
		                           0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		                           0, 0, 0, 0, 0,    0, 0, 0, 0, 0, 0, 0, 0, 0 };
	CHECK_REFUSED_SMALL(describe_groups_response, 4, members);
}
