/*
 * tests/unit/protocol/test_join_group.c: protocol/join_group.c, JoinGroup v0-5.
 *
 * Covers: encode -> decode round trips of request and response at every version with
 * non-default values in every field the version has (absent fields come back as defaults:
 * rebalance_timeout_ms -1 at v0, group_instance_id null before v5, throttle 0 before v2), for
 * the first join (member_id "") and a leader's answer with members as well as a follower's
 * answer without; hand-built bytes (from the schema's field order, with librdkafka's
 * subscription as metadata) for request v0 and v5 and response v1 and v5, byte for byte
 * against the encoder and decoded back; every truncation and a trailing byte refused;
 * versions outside 0-5 refused both ways; absurd counts and lengths refused without a large
 * allocation; nulls in non-nullable fields are not encoded.
 */
#include "protocol/join_group.h"

#include "group_codec_check.h"

/* librdkafka 2.0.2's subscription to topic "gt" (kafka-protocol.md §10.2). */
#define RDKAFKA_SUBSCRIPTION "\x00\x01\x00\x00\x00\x01\x00\x02gt\x00\x00\x00\x00\x00\x00\x00\x00"
#define RDKAFKA_SUBSCRIPTION_LEN 18

static const struct join_group_request_protocol sample_protocols[] = {
	{ .name = KSTR("range"),
	  .metadata = { (const uint8_t *)RDKAFKA_SUBSCRIPTION, RDKAFKA_SUBSCRIPTION_LEN } },
	{ .name = KSTR("roundrobin"), .metadata = { (const uint8_t *)"", 0 } },
};

static const struct join_group_request sample_request = {
	.group_id = KSTR("grp"),
	.session_timeout_ms = 45000,
	.rebalance_timeout_ms = 300000,
	.member_id = KSTR(""),
	.group_instance_id = KSTR("i1"),
	.protocol_type = KSTR("consumer"),
	.protocols_count = 2,
	.protocols = (struct join_group_request_protocol *)sample_protocols,
};

static const struct join_group_response_member sample_members[] = {
	{ .member_id = KSTR("m-1"),
	  .group_instance_id = KSTR("i1"),
	  .metadata = { (const uint8_t *)RDKAFKA_SUBSCRIPTION, RDKAFKA_SUBSCRIPTION_LEN } },
	{ .member_id = KSTR("m-2"), .group_instance_id = KSTR_NULL, .metadata = { NULL, 0 } },
};

static const struct join_group_response sample_response = {
	.throttle_time_ms = 2,
	.error_code = 0,
	.generation_id = 3,
	.protocol_name = KSTR("range"),
	.leader = KSTR("m-1"),
	.member_id = KSTR("m-1"),
	.members_count = 2,
	.members = (struct join_group_response_member *)sample_members,
};

static void check_request(const struct join_group_request *want,
                          const struct join_group_request *got, int16_t v)
{
	cr_assert(kstr_same(got->group_id, want->group_id), "v%d group_id", v);
	cr_assert_eq(got->session_timeout_ms, want->session_timeout_ms, "v%d session", v);
	cr_assert_eq(got->rebalance_timeout_ms, v >= 1 ? want->rebalance_timeout_ms : -1,
	             "v%d rebalance_timeout_ms", v);
	cr_assert(kstr_same(got->member_id, want->member_id), "v%d member_id", v);
	cr_assert(kstr_same(got->group_instance_id, v >= 5 ? want->group_instance_id : KSTR_NULL),
	          "v%d group_instance_id", v);
	cr_assert(kstr_same(got->protocol_type, want->protocol_type), "v%d protocol_type", v);
	cr_assert_eq(got->protocols_count, want->protocols_count, "v%d protocols", v);
	for (int32_t i = 0; i < want->protocols_count; i++) {
		cr_assert(kstr_same(got->protocols[i].name, want->protocols[i].name));
		cr_assert(kbytes_same(got->protocols[i].metadata, want->protocols[i].metadata));
	}
}

static void check_response(const struct join_group_response *want,
                           const struct join_group_response *got, int16_t v)
{
	cr_assert_eq(got->throttle_time_ms, v >= 2 ? want->throttle_time_ms : 0, "v%d throttle", v);
	cr_assert_eq(got->error_code, want->error_code, "v%d error_code", v);
	cr_assert_eq(got->generation_id, want->generation_id, "v%d generation_id", v);
	cr_assert(kstr_same(got->protocol_name, want->protocol_name), "v%d protocol_name", v);
	cr_assert(kstr_same(got->leader, want->leader), "v%d leader", v);
	cr_assert(kstr_same(got->member_id, want->member_id), "v%d member_id", v);
	cr_assert_eq(got->members_count, want->members_count, "v%d members", v);
	for (int32_t i = 0; i < want->members_count; i++) {
		const struct join_group_response_member *w = &want->members[i],
		                                        *g = &got->members[i];
		cr_assert(kstr_same(g->member_id, w->member_id), "v%d member %d", v, i);
		cr_assert(
		    kstr_same(g->group_instance_id, v >= 5 ? w->group_instance_id : KSTR_NULL),
		    "v%d member %d group_instance_id", v, i);
		cr_assert(kbytes_same(g->metadata, w->metadata), "v%d member %d metadata", v, i);
	}
}

Test(join_group, round_trip_every_version)
{
	struct arena a;
	arena_init(&a, CHECK_ARENA_BYTES);
	for (int16_t v = JOIN_GROUP_VERSION_MIN; v <= JOIN_GROUP_VERSION_MAX; v++) {
		struct buf b;
		struct join_group_request req;
		struct join_group_response resp;
		CHECK_ROUND_TRIP(join_group_request, v, &sample_request, &b, &a, &req);
		check_request(&sample_request, &req, v);
		buf_free(&b);

		/* The re-join with the id MEMBER_ID_REQUIRED handed out, no instance id. */
		struct join_group_request again = sample_request;
		again.member_id = KSTR("rdkafka-0a1b2c3d");
		again.group_instance_id = KSTR_NULL;
		CHECK_ROUND_TRIP(join_group_request, v, &again, &b, &a, &req);
		check_request(&again, &req, v);
		buf_free(&b);

		CHECK_ROUND_TRIP(join_group_response, v, &sample_response, &b, &a, &resp);
		check_response(&sample_response, &resp, v);
		buf_free(&b);

		/* A follower's answer: no members. */
		struct join_group_response follower = sample_response;
		follower.member_id = KSTR("m-2");
		follower.members_count = 0;
		follower.error_code = 79;
		CHECK_ROUND_TRIP(join_group_response, v, &follower, &b, &a, &resp);
		check_response(&follower, &resp, v);
		buf_free(&b);
		arena_reset(&a);
	}
	arena_free(&a);
}

static const uint8_t request_v0[] = {
	0x00, 0x03, 'g',  'r',  'p',                            /* group_id */
	0x00, 0x00, 0xaf, 0xc8,                                 /* session_timeout_ms 45000 */
	0x00, 0x00,                                             /* member_id "" */
	0x00, 0x08, 'c',  'o',  'n',  's',  'u', 'm', 'e', 'r', /* protocol_type */
	0x00, 0x00, 0x00, 0x02,                                 /* protocols */
	0x00, 0x05, 'r',  'a',  'n',  'g',  'e',                /*   name */
	0x00, 0x00, 0x00, 0x12,                                 /*   metadata, 18 bytes: */
	0x00, 0x01,                                             /*     version 1 */
	0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 'g', 't',           /*     topics ["gt"] */
	0x00, 0x00, 0x00, 0x00,                                 /*     user_data (empty) */
	0x00, 0x00, 0x00, 0x00,                                 /*     owned_partitions [] */
	0x00, 0x0a, 'r',  'o',  'u',  'n',  'd', 'r', 'o', 'b', 'i', 'n', /* name */
	0x00, 0x00, 0x00, 0x00,                                           /*   metadata (empty) */
};

static const uint8_t request_v5_head[] = {
	0x00, 0x03, 'g',  'r',  'p', /* group_id */
	0x00, 0x00, 0xaf, 0xc8,      /* session_timeout_ms */
	0x00, 0x04, 0x93, 0xe0,      /* rebalance_timeout_ms 300000 */
	0x00, 0x00,                  /* member_id "" */
	0x00, 0x02, 'i',  '1',       /* group_instance_id */
};

static const uint8_t response_v1[] = {
	0x00, 0x00,                              /* error_code */
	0x00, 0x00, 0x00, 0x03,                  /* generation_id */
	0x00, 0x05, 'r',  'a',  'n',  'g',  'e', /* protocol_name */
	0x00, 0x03, 'm',  '-',  '1',             /* leader */
	0x00, 0x03, 'm',  '-',  '1',             /* member_id */
	0x00, 0x00, 0x00, 0x01,                  /* members */
	0x00, 0x03, 'm',  '-',  '1',             /*   member_id */
	0x00, 0x00, 0x00, 0x02, 0xab, 0xcd,      /*   metadata */
};

static const uint8_t response_v5[] = {
	0x00, 0x00, 0x00, 0x02,                  /* throttle_time_ms */
	0x00, 0x00,                              /* error_code */
	0x00, 0x00, 0x00, 0x03,                  /* generation_id */
	0x00, 0x05, 'r',  'a',  'n',  'g',  'e', /* protocol_name */
	0x00, 0x03, 'm',  '-',  '1',             /* leader */
	0x00, 0x03, 'm',  '-',  '1',             /* member_id */
	0x00, 0x00, 0x00, 0x01,                  /* members */
	0x00, 0x03, 'm',  '-',  '1',             /*   member_id */
	0xff, 0xff,                              /*   group_instance_id null */
	0x00, 0x00, 0x00, 0x02, 0xab, 0xcd,      /*   metadata */
};

Test(join_group, bytes_by_hand)
{
	CHECK_BYTES(join_group_request, 0, &sample_request, request_v0);

	/* v5 = v5's head, then v0's protocol_type and protocols. */
	uint8_t v5[sizeof(request_v5_head) + sizeof(request_v0) - 11];
	memcpy(v5, request_v5_head, sizeof(request_v5_head));
	memcpy(v5 + sizeof(request_v5_head), request_v0 + 11, sizeof(request_v0) - 11);
	CHECK_BYTES(join_group_request, 5, &sample_request, v5);

	static const struct join_group_response_member one = {
		.member_id = KSTR("m-1"),
		.group_instance_id = KSTR_NULL,
		.metadata = { (const uint8_t *)"\xab\xcd", 2 },
	};
	struct join_group_response r = sample_response;
	r.members_count = 1;
	r.members = (struct join_group_response_member *)&one;
	CHECK_BYTES(join_group_response, 1, &r, response_v1);
	CHECK_BYTES(join_group_response, 5, &r, response_v5);

	struct arena a;
	struct join_group_request req;
	struct join_group_response resp;
	int rc;
	arena_init(&a, CHECK_ARENA_BYTES);
	CHECK_DECODE(join_group_request, 0, request_v0, sizeof(request_v0), &a, &req, rc);
	cr_assert_eq(rc, 0);
	check_request(&sample_request, &req, 0);
	CHECK_DECODE(join_group_request, 5, v5, sizeof(v5), &a, &req, rc);
	cr_assert_eq(rc, 0);
	check_request(&sample_request, &req, 5);
	CHECK_DECODE(join_group_response, 5, response_v5, sizeof(response_v5), &a, &resp, rc);
	cr_assert_eq(rc, 0);
	check_response(&r, &resp, 5);
	CHECK_DECODE(join_group_response, 1, response_v1, sizeof(response_v1), &a, &resp, rc);
	cr_assert_eq(rc, 0);
	check_response(&r, &resp, 1);
	arena_free(&a);
}

Test(join_group, versions_out_of_range)
{
	CHECK_VERSIONS(join_group_request, JOIN_GROUP_VERSION_MIN, JOIN_GROUP_VERSION_MAX,
	               &sample_request);
	CHECK_VERSIONS(join_group_response, JOIN_GROUP_VERSION_MIN, JOIN_GROUP_VERSION_MAX,
	               &sample_response);
}

Test(join_group, absurd_counts)
{
	/* v0: 2^31-1 protocols in a few bytes. */
	static const uint8_t many[] = { 0,    1,    'g',  0,    0, 0x75, 0x30, 0, 0, 0, 1, 'c',
		                        0x7f, 0xff, 0xff, 0xff, 0, 1,    'r',  0, 0, 0, 0 };
	CHECK_REFUSED_SMALL(join_group_request, 0, many);
	/* v0: one protocol whose metadata claims 2 GiB. */
	static const uint8_t long_metadata[] = { 0, 1, 'g', 0,    0,    0x75, 0x30, 0,
		                                 0, 0, 1,   'c',  0,    0,    0,    1,
		                                 0, 1, 'r', 0x7f, 0xff, 0xff, 0xff };
	CHECK_REFUSED_SMALL(join_group_request, 0, long_metadata);
	/* v5 response: members count 0x10000000 with room for one. */
	static const uint8_t members[] = { 0, 0, 0,    0, 0, 0, 0, 0, 0,    1,    0, 0, 0, 0,
		                           0, 0, 0x10, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0 };
	CHECK_REFUSED_SMALL(join_group_response, 5, members);
	/* v5 request: a group_instance_id of length -2. */
	static const uint8_t minus_two[] = { 0, 1, 'g',  0,    0, 0x75, 0x30, 0, 0, 0x75, 0x30,
		                             0, 0, 0xff, 0xfe, 0, 1,    'c',  0, 0, 0,    0 };
	CHECK_REFUSED_SMALL(join_group_request, 5, minus_two);
}

Test(join_group, nulls_are_not_encoded)
{
	struct join_group_response r = sample_response;
	r.protocol_name = KSTR_NULL; /* nullable only from v7 */
	struct buf b;
	buf_init(&b, CHECK_BUF_BYTES);
	join_group_response_encode(&b, 5, &r);
	cr_assert(!buf_ok(&b));
	buf_free(&b);

	struct join_group_request q = sample_request;
	q.member_id = KSTR_NULL;
	buf_init(&b, CHECK_BUF_BYTES);
	join_group_request_encode(&b, 4, &q);
	cr_assert(!buf_ok(&b));
	buf_free(&b);
}
