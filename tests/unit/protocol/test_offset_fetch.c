/*
 * tests/unit/protocol/test_offset_fetch.c: protocol/offset_fetch.c, OffsetFetch v1-5.
 *
 * Covers: encode -> decode round trips of request and response at every version with
 * non-default values in every field the version has (throttle from v3, top-level error_code
 * from v2, committed_leader_epoch from v5, -1 before); a null topics array (= all) from v2,
 * which v1 cannot carry (encoder refuses, decoder refuses); metadata null vs "" kept apart;
 * hand-built bytes (from the schema's field order) for request v1 and v2 (null topics) and
 * response v1 and v5, byte for byte against the encoder and decoded back; every truncation
 * and a trailing byte refused; versions outside 1-5 refused both ways; absurd counts refused
 * without a large allocation.
 */
#include "protocol/offset_fetch.h"

#include "group_codec_check.h"

static const int32_t sample_indexes[] = { 0, 2, 7 };

static const struct offset_fetch_request_topic sample_request_topics[] = {
	{ .name = KSTR("t1"),
	  .partition_indexes_count = 3,
	  .partition_indexes = (int32_t *)sample_indexes },
	{ .name = KSTR("t2"), .partition_indexes_count = 0 },
};

static const struct offset_fetch_request sample_request = {
	.group_id = KSTR("grp"),
	.topics_count = 2,
	.topics = (struct offset_fetch_request_topic *)sample_request_topics,
};

static const struct offset_fetch_response_partition sample_partitions[] = {
	{ .partition_index = 0,
	  .committed_offset = 42,
	  .committed_leader_epoch = 3,
	  .metadata = KSTR("m"),
	  .error_code = 0 },
	{ .partition_index = 2,
	  .committed_offset = -1,
	  .committed_leader_epoch = -1,
	  .metadata = KSTR(""),
	  .error_code = 0 },
	{ .partition_index = 7,
	  .committed_offset = 9,
	  .committed_leader_epoch = 4,
	  .metadata = KSTR_NULL,
	  .error_code = 3 },
};

static const struct offset_fetch_response_topic sample_response_topics[] = {
	{ .name = KSTR("t1"),
	  .partitions_count = 3,
	  .partitions = (struct offset_fetch_response_partition *)sample_partitions },
};

static const struct offset_fetch_response sample_response = {
	.throttle_time_ms = 6,
	.topics_count = 1,
	.topics = (struct offset_fetch_response_topic *)sample_response_topics,
	.error_code = 14,
};

static void check_request(const struct offset_fetch_request *want,
                          const struct offset_fetch_request *got, int16_t v)
{
	cr_assert(kstr_same(got->group_id, want->group_id), "v%d group_id", v);
	cr_assert_eq(got->topics_count, want->topics_count, "v%d topics", v);
	for (int32_t i = 0; i < want->topics_count; i++) {
		const struct offset_fetch_request_topic *w = &want->topics[i], *g = &got->topics[i];
		cr_assert(kstr_same(g->name, w->name));
		cr_assert_eq(g->partition_indexes_count, w->partition_indexes_count);
		for (int32_t j = 0; j < w->partition_indexes_count; j++)
			cr_assert_eq(g->partition_indexes[j], w->partition_indexes[j]);
	}
}

static void check_response(const struct offset_fetch_response *want,
                           const struct offset_fetch_response *got, int16_t v)
{
	cr_assert_eq(got->throttle_time_ms, v >= 3 ? want->throttle_time_ms : 0, "v%d throttle", v);
	cr_assert_eq(got->error_code, v >= 2 ? want->error_code : 0, "v%d error_code", v);
	cr_assert_eq(got->topics_count, want->topics_count, "v%d topics", v);
	for (int32_t i = 0; i < want->topics_count; i++) {
		const struct offset_fetch_response_topic *wt = &want->topics[i],
		                                         *gt = &got->topics[i];
		cr_assert(kstr_same(gt->name, wt->name));
		cr_assert_eq(gt->partitions_count, wt->partitions_count);
		for (int32_t j = 0; j < wt->partitions_count; j++) {
			const struct offset_fetch_response_partition *w = &wt->partitions[j],
			                                             *g = &gt->partitions[j];
			cr_assert_eq(g->partition_index, w->partition_index);
			cr_assert_eq(g->committed_offset, w->committed_offset);
			cr_assert_eq(g->committed_leader_epoch,
			             v >= 5 ? w->committed_leader_epoch : -1, "v%d epoch", v);
			cr_assert_eq(g->metadata.len, w->metadata.len, "v%d metadata", v);
			cr_assert(kstr_same(g->metadata, w->metadata));
			cr_assert_eq(g->error_code, w->error_code);
		}
	}
}

Test(offset_fetch, round_trip_every_version)
{
	struct arena a;
	arena_init(&a, CHECK_ARENA_BYTES);
	for (int16_t v = OFFSET_FETCH_VERSION_MIN; v <= OFFSET_FETCH_VERSION_MAX; v++) {
		struct buf b;
		struct offset_fetch_request req;
		struct offset_fetch_response resp;
		CHECK_ROUND_TRIP(offset_fetch_request, v, &sample_request, &b, &a, &req);
		check_request(&sample_request, &req, v);
		buf_free(&b);
		CHECK_ROUND_TRIP(offset_fetch_response, v, &sample_response, &b, &a, &resp);
		check_response(&sample_response, &resp, v);
		buf_free(&b);
		arena_reset(&a);
	}
	arena_free(&a);
}

Test(offset_fetch, null_topics_means_all_from_v2)
{
	struct offset_fetch_request all = { .group_id = KSTR("grp"), .topics_count = -1 }, got;
	struct arena a;
	struct buf b;
	arena_init(&a, CHECK_ARENA_BYTES);
	for (int16_t v = 2; v <= OFFSET_FETCH_VERSION_MAX; v++) {
		CHECK_ROUND_TRIP(offset_fetch_request, v, &all, &b, &a, &got);
		cr_assert_eq(got.topics_count, -1, "v%d", v);
		cr_assert_null(got.topics);
		buf_free(&b);
	}
	/* v1 has no null: the encoder refuses, and the decoder refuses the bytes. */
	buf_init(&b, CHECK_BUF_BYTES);
	offset_fetch_request_encode(&b, 1, &all);
	cr_assert(!buf_ok(&b));
	buf_free(&b);
	static const uint8_t null_v1[] = { 0, 3, 'g', 'r', 'p', 0xff, 0xff, 0xff, 0xff };
	CHECK_REFUSED_SMALL(offset_fetch_request, 1, null_v1);
	arena_free(&a);
}

static const uint8_t request_v1[] = {
	0x00, 0x03, 'g',  'r',  'p',                    /* group_id */
	0x00, 0x00, 0x00, 0x02,                         /* topics */
	0x00, 0x02, 't',  '1',                          /*   name */
	0x00, 0x00, 0x00, 0x03,                         /*   partition_indexes */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, /*     0, 2 */
	0x00, 0x00, 0x00, 0x07,                         /*     7 */
	0x00, 0x02, 't',  '2',                          /*   name */
	0x00, 0x00, 0x00, 0x00,                         /*   partition_indexes */
};

static const uint8_t request_v2_all[] = { 0x00, 0x03, 'g', 'r', 'p', 0xff, 0xff, 0xff, 0xff };

static const uint8_t response_v1[] = {
	0x00, 0x00, 0x00, 0x01,                         /* topics */
	0x00, 0x02, 't',  '1',                          /*   name */
	0x00, 0x00, 0x00, 0x01,                         /*   partitions */
	0x00, 0x00, 0x00, 0x07,                         /*     partition_index */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, /*     committed_offset */
	0xff, 0xff,                                     /*     metadata null */
	0x00, 0x03,                                     /*     error_code */
};

static const uint8_t response_v5[] = {
	0x00, 0x00, 0x00, 0x06,                         /* throttle_time_ms */
	0x00, 0x00, 0x00, 0x01,                         /* topics */
	0x00, 0x02, 't',  '1',                          /*   name */
	0x00, 0x00, 0x00, 0x01,                         /*   partitions */
	0x00, 0x00, 0x00, 0x07,                         /*     partition_index */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, /*     committed_offset */
	0x00, 0x00, 0x00, 0x04,                         /*     committed_leader_epoch */
	0xff, 0xff,                                     /*     metadata null */
	0x00, 0x03,                                     /*     error_code */
	0x00, 0x0e,                                     /* error_code */
};

Test(offset_fetch, bytes_by_hand)
{
	CHECK_BYTES(offset_fetch_request, 1, &sample_request, request_v1);
	struct offset_fetch_request all = { .group_id = KSTR("grp"), .topics_count = -1 };
	CHECK_BYTES(offset_fetch_request, 2, &all, request_v2_all);

	static const struct offset_fetch_response_topic one = {
		.name = KSTR("t1"),
		.partitions_count = 1,
		.partitions = (struct offset_fetch_response_partition *)&sample_partitions[2],
	};
	struct offset_fetch_response r = sample_response;
	r.topics = (struct offset_fetch_response_topic *)&one;
	CHECK_BYTES(offset_fetch_response, 1, &r, response_v1);
	CHECK_BYTES(offset_fetch_response, 5, &r, response_v5);

	struct arena a;
	struct offset_fetch_request req;
	struct offset_fetch_response resp;
	int rc;
	arena_init(&a, CHECK_ARENA_BYTES);
	CHECK_DECODE(offset_fetch_request, 1, request_v1, sizeof(request_v1), &a, &req, rc);
	cr_assert_eq(rc, 0);
	check_request(&sample_request, &req, 1);
	CHECK_DECODE(offset_fetch_response, 5, response_v5, sizeof(response_v5), &a, &resp, rc);
	cr_assert_eq(rc, 0);
	check_response(&r, &resp, 5);
	CHECK_DECODE(offset_fetch_response, 1, response_v1, sizeof(response_v1), &a, &resp, rc);
	cr_assert_eq(rc, 0);
	check_response(&r, &resp, 1);
	arena_free(&a);
}

Test(offset_fetch, versions_out_of_range)
{
	CHECK_VERSIONS(offset_fetch_request, OFFSET_FETCH_VERSION_MIN, OFFSET_FETCH_VERSION_MAX,
	               &sample_request);
	CHECK_VERSIONS(offset_fetch_response, OFFSET_FETCH_VERSION_MIN, OFFSET_FETCH_VERSION_MAX,
	               &sample_response);
}

Test(offset_fetch, absurd_counts)
{
	static const uint8_t topics[] = {
		0, 1, 'g', 0x7f, 0xff, 0xff, 0xfe, 0, 1, 't', 0, 0, 0, 0
	};
	CHECK_REFUSED_SMALL(offset_fetch_request, 3, topics);
	/* -2 topics (only -1 means null). */
	static const uint8_t minus_two[] = { 0, 1, 'g', 0xff, 0xff, 0xff, 0xfe };
	CHECK_REFUSED_SMALL(offset_fetch_request, 3, minus_two);
	static const uint8_t indexes[] = { 0,   1,    'g', 0, 0, 0, 1, 0, 1,
		                           't', 0x01, 0,   0, 0, 0, 0, 0, 1 };
	CHECK_REFUSED_SMALL(offset_fetch_request, 2, indexes);
	/* Response topics cannot be null. */
	static const uint8_t null_topics[] = { 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0 };
	CHECK_REFUSED_SMALL(offset_fetch_response, 3, null_topics);
	static const uint8_t partitions[] = { 0,    0, 0, 1, 0, 1, 't', 0x00, 0x01, 0x00,
		                              0x00, 0, 0, 0, 0, 0, 0,   0,    0,    0,
		                              0,    0, 0, 0, 0, 0, 0,   0,    0 };
	CHECK_REFUSED_SMALL(offset_fetch_response, 1, partitions);
}
