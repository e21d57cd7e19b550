/*
 * tests/unit/protocol/test_offset_for_leader_epoch.c: protocol/offset_for_leader_epoch.c,
 * OffsetForLeaderEpoch v0-3.
 *
 * Covers: encode -> decode round trips of request and response at every version with
 * non-default values in every field the version has (absent fields come back as the schema's
 * defaults: replica_id -2, current_leader_epoch -1, leader_epoch -1, throttle 0), with every
 * truncation and a trailing byte refused; hand-built bytes (from the schema's field order) for
 * request v2 and v3 and response v0 and v3, byte for byte against the encoder and decoded back;
 * versions outside 0-3 refused both ways; absurd counts and lengths refused with next to nothing
 * allocated; nulls where the schema has none refused by the encoder.
 */
#include "protocol/offset_for_leader_epoch.h"

#include "group_codec_check.h"

static struct offset_for_leader_epoch_request_partition alpha_req[] = {
	{ .partition = 0, .current_leader_epoch = 7, .leader_epoch = 5 },
	{ .partition = 3, .current_leader_epoch = -1, .leader_epoch = 0 },
};
static struct offset_for_leader_epoch_request_topic req_topics[] = {
	{ KSTR("alpha"), 2, alpha_req },
	{ KSTR("b"), 0, NULL },
};
static const struct offset_for_leader_epoch_request sample_request = {
	.replica_id = 1,
	.topics_count = 2,
	.topics = req_topics,
};

static struct offset_for_leader_epoch_response_partition alpha_resp[] = {
	{ .error_code = 0, .partition = 0, .leader_epoch = 4, .end_offset = 1234567890123ll },
	{ .error_code = 74, .partition = 3, .leader_epoch = -1, .end_offset = -1 },
};
static struct offset_for_leader_epoch_response_topic resp_topics[] = {
	{ KSTR("alpha"), 2, alpha_resp },
	{ KSTR("none"), 0, NULL },
};
static const struct offset_for_leader_epoch_response sample_response = {
	.throttle_time_ms = 9,
	.topics_count = 2,
	.topics = resp_topics,
};

static void check_request(const struct offset_for_leader_epoch_request *want,
                          const struct offset_for_leader_epoch_request *got, int16_t v)
{
	cr_assert_eq(got->replica_id, v >= 3 ? want->replica_id : -2, "v%d replica_id", v);
	cr_assert_eq(got->topics_count, want->topics_count);
	for (int32_t i = 0; i < want->topics_count; i++) {
		const struct offset_for_leader_epoch_request_topic *g = &got->topics[i];
		const struct offset_for_leader_epoch_request_topic *w = &want->topics[i];
		cr_assert_kstr(g->topic, w->topic);
		cr_assert_eq(g->partitions_count, w->partitions_count);
		for (int32_t j = 0; j < w->partitions_count; j++) {
			cr_assert_eq(g->partitions[j].partition, w->partitions[j].partition);
			cr_assert_eq(g->partitions[j].current_leader_epoch,
			             v >= 2 ? w->partitions[j].current_leader_epoch : -1, "v%d", v);
			cr_assert_eq(g->partitions[j].leader_epoch, w->partitions[j].leader_epoch);
		}
	}
}

static void check_response(const struct offset_for_leader_epoch_response *want,
                           const struct offset_for_leader_epoch_response *got, int16_t v)
{
	cr_assert_eq(got->throttle_time_ms, v >= 2 ? want->throttle_time_ms : 0, "v%d", v);
	cr_assert_eq(got->topics_count, want->topics_count);
	for (int32_t i = 0; i < want->topics_count; i++) {
		const struct offset_for_leader_epoch_response_topic *g = &got->topics[i];
		const struct offset_for_leader_epoch_response_topic *w = &want->topics[i];
		cr_assert_kstr(g->topic, w->topic);
		cr_assert_eq(g->partitions_count, w->partitions_count);
		for (int32_t j = 0; j < w->partitions_count; j++) {
			cr_assert_eq(g->partitions[j].error_code, w->partitions[j].error_code);
			cr_assert_eq(g->partitions[j].partition, w->partitions[j].partition);
			cr_assert_eq(g->partitions[j].leader_epoch,
			             v >= 1 ? w->partitions[j].leader_epoch : -1, "v%d", v);
			cr_assert_eq(g->partitions[j].end_offset, w->partitions[j].end_offset);
		}
	}
}

Test(offset_for_leader_epoch, round_trip_every_version)
{
	struct arena a;
	arena_init(&a, CHECK_ARENA_BYTES);
	for (int16_t v = OFFSET_FOR_LEADER_EPOCH_VERSION_MIN;
	     v <= OFFSET_FOR_LEADER_EPOCH_VERSION_MAX; v++) {
		struct buf b;
		struct offset_for_leader_epoch_request req;
		struct offset_for_leader_epoch_response resp;
		CHECK_ROUND_TRIP(offset_for_leader_epoch_request, v, &sample_request, &b, &a, &req);
		check_request(&sample_request, &req, v);
		buf_free(&b);
		CHECK_ROUND_TRIP(offset_for_leader_epoch_response, v, &sample_response, &b, &a,
		                 &resp);
		check_response(&sample_response, &resp, v);
		buf_free(&b);
		arena_reset(&a);
	}
	arena_free(&a);
}

/* One topic "t", one partition 2, current epoch 7, epoch 5. */
static struct offset_for_leader_epoch_request_partition one_req_part[] = { { 2, 7, 5 } };
static struct offset_for_leader_epoch_request_topic one_req_topic[] = { { KSTR("t"), 1,
	                                                                  one_req_part } };
static const struct offset_for_leader_epoch_request one_request = { 1, 1, one_req_topic };

static const uint8_t request_v2[] = {
	0x00, 0x00, 0x00, 0x01, /* topics count */
	0x00, 0x01, 't',        /* topic */
	0x00, 0x00, 0x00, 0x01, /* partitions count */
	0x00, 0x00, 0x00, 0x02, /* partition */
	0x00, 0x00, 0x00, 0x07, /* current_leader_epoch */
	0x00, 0x00, 0x00, 0x05, /* leader_epoch */
};

static const uint8_t request_v3[] = {
	0x00, 0x00, 0x00, 0x01, /* replica_id */
	0x00, 0x00, 0x00, 0x01, /* topics count */
	0x00, 0x01, 't',        /* topic */
	0x00, 0x00, 0x00, 0x01, /* partitions count */
	0x00, 0x00, 0x00, 0x02, /* partition */
	0x00, 0x00, 0x00, 0x07, /* current_leader_epoch */
	0x00, 0x00, 0x00, 0x05, /* leader_epoch */
};

static struct offset_for_leader_epoch_response_partition one_resp_part[] = { { 75, 2, 4, 300 } };
static struct offset_for_leader_epoch_response_topic one_resp_topic[] = { { KSTR("t"), 1,
	                                                                    one_resp_part } };
static const struct offset_for_leader_epoch_response one_response = { 6, 1, one_resp_topic };

static const uint8_t response_v0[] = {
	0x00, 0x00, 0x00, 0x01,                         /* topics count */
	0x00, 0x01, 't',                                /* topic */
	0x00, 0x00, 0x00, 0x01,                         /* partitions count */
	0x00, 0x4b,                                     /* error_code 75 */
	0x00, 0x00, 0x00, 0x02,                         /* partition */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2c, /* end_offset 300 */
};

static const uint8_t response_v3[] = {
	0x00, 0x00, 0x00, 0x06,                         /* throttle_time_ms */
	0x00, 0x00, 0x00, 0x01,                         /* topics count */
	0x00, 0x01, 't',                                /* topic */
	0x00, 0x00, 0x00, 0x01,                         /* partitions count */
	0x00, 0x4b,                                     /* error_code 75 */
	0x00, 0x00, 0x00, 0x02,                         /* partition */
	0x00, 0x00, 0x00, 0x04,                         /* leader_epoch */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2c, /* end_offset 300 */
};

Test(offset_for_leader_epoch, bytes_by_hand)
{
	CHECK_BYTES(offset_for_leader_epoch_request, 2, &one_request, request_v2);
	CHECK_BYTES(offset_for_leader_epoch_request, 3, &one_request, request_v3);
	CHECK_BYTES(offset_for_leader_epoch_response, 0, &one_response, response_v0);
	CHECK_BYTES(offset_for_leader_epoch_response, 3, &one_response, response_v3);

	struct arena a;
	struct offset_for_leader_epoch_request req;
	struct offset_for_leader_epoch_response resp;
	int rc;
	arena_init(&a, CHECK_ARENA_BYTES);
	CHECK_DECODE(offset_for_leader_epoch_request, 3, request_v3, sizeof(request_v3), &a, &req,
	             rc);
	cr_assert_eq(rc, 0);
	check_request(&one_request, &req, 3);
	CHECK_DECODE(offset_for_leader_epoch_request, 2, request_v2, sizeof(request_v2), &a, &req,
	             rc);
	cr_assert(rc == 0 && req.replica_id == -2);
	check_request(&one_request, &req, 2);
	CHECK_DECODE(offset_for_leader_epoch_response, 3, response_v3, sizeof(response_v3), &a,
	             &resp, rc);
	cr_assert_eq(rc, 0);
	check_response(&one_response, &resp, 3);
	CHECK_DECODE(offset_for_leader_epoch_response, 0, response_v0, sizeof(response_v0), &a,
	             &resp, rc);
	cr_assert_eq(rc, 0);
	check_response(&one_response, &resp, 0);
	/* v3 bytes read as v2 leave bytes over. */
	CHECK_DECODE(offset_for_leader_epoch_request, 2, request_v3, sizeof(request_v3), &a, &req,
	             rc);
	cr_assert_eq(rc, -TAPE_EPROTO);
	CHECK_STRICT(offset_for_leader_epoch_request, 3, request_v3, sizeof(request_v3));
	CHECK_STRICT(offset_for_leader_epoch_response, 3, response_v3, sizeof(response_v3));
	arena_free(&a);
}

Test(offset_for_leader_epoch, versions_out_of_range)
{
	CHECK_VERSIONS(offset_for_leader_epoch_request, OFFSET_FOR_LEADER_EPOCH_VERSION_MIN,
	               OFFSET_FOR_LEADER_EPOCH_VERSION_MAX, &sample_request);
	CHECK_VERSIONS(offset_for_leader_epoch_response, OFFSET_FOR_LEADER_EPOCH_VERSION_MIN,
	               OFFSET_FOR_LEADER_EPOCH_VERSION_MAX, &sample_response);
}

Test(offset_for_leader_epoch, absurd_counts)
{
	/* A billion topics in a few bytes. */
	static const uint8_t many_topics[] = { 0, 0, 0, 1, 0x40, 0, 0, 0, 0, 1, 't', 0, 0, 0, 0 };
	CHECK_REFUSED_SMALL(offset_for_leader_epoch_request, 3, many_topics);
	/* A billion partitions. */
	static const uint8_t many_parts[] = { 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 't', 0x40, 0, 0, 0 };
	CHECK_REFUSED_SMALL(offset_for_leader_epoch_request, 3, many_parts);
	/* A topic name longer than the body, and a null one. */
	static const uint8_t long_name[] = { 0, 0, 0, 1, 0x7f, 0xff, 't', 0, 0, 0, 0 };
	CHECK_REFUSED_SMALL(offset_for_leader_epoch_response, 0, long_name);
	static const uint8_t null_name[] = { 0, 0, 0, 1, 0xff, 0xff, 0, 0, 0, 0 };
	CHECK_REFUSED_SMALL(offset_for_leader_epoch_response, 0, null_name);
	/* A null topics array. */
	static const uint8_t null_topics[] = { 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
	CHECK_REFUSED_SMALL(offset_for_leader_epoch_response, 2, null_topics);
}

Test(offset_for_leader_epoch, encoder_refuses_nulls)
{
	struct offset_for_leader_epoch_request_topic t[] = { { KSTR_NULL, 0, NULL } };
	struct offset_for_leader_epoch_request r = { 1, 1, t };
	struct buf b;
	buf_init(&b, CHECK_BUF_BYTES);
	offset_for_leader_epoch_request_encode(&b, 3, &r);
	cr_assert(!buf_ok(&b));
	buf_free(&b);
	struct offset_for_leader_epoch_response resp = { 0, -1, NULL };
	buf_init(&b, CHECK_BUF_BYTES);
	offset_for_leader_epoch_response_encode(&b, 3, &resp);
	cr_assert(!buf_ok(&b));
	buf_free(&b);
}
