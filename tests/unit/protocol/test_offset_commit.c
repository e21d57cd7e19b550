/*
 * tests/unit/protocol/test_offset_commit.c: protocol/offset_commit.c, OffsetCommit v2-7.
 *
 * Covers: encode -> decode round trips of request and response at every version with
 * non-default values in every field the version has (retention_time_ms only v2-4, -1 after;
 * committed_leader_epoch from v6, -1 before; group_instance_id from v7, null before;
 * throttle from v3); committed_metadata null, "" and a value each round-trip exactly (null and
 * "" stay apart); a standalone commit (generation -1, member ""); hand-built bytes (from the
 * schema's field order) for request v2 and v7 and response v2 and v3, byte for byte against
 * the encoder and decoded back; every truncation and a trailing byte refused; versions outside
 * 2-7 refused both ways; absurd topic and partition counts refused without a large allocation.
 */
#include "protocol/offset_commit.h"

#include "group_codec_check.h"

static const struct offset_commit_request_partition sample_partitions_t1[] = {
	{ .partition_index = 0,
	  .committed_offset = 42,
	  .committed_leader_epoch = 5,
	  .committed_metadata = KSTR("meta") },
	{ .partition_index = 1,
	  .committed_offset = 0x123456789a,
	  .committed_leader_epoch = -1,
	  .committed_metadata = KSTR("") },
	{ .partition_index = 2,
	  .committed_offset = 7,
	  .committed_leader_epoch = 6,
	  .committed_metadata = KSTR_NULL },
};

static const struct offset_commit_request_topic sample_topics[] = {
	{ .name = KSTR("t1"),
	  .partitions_count = 3,
	  .partitions = (struct offset_commit_request_partition *)sample_partitions_t1 },
	{ .name = KSTR("t2"), .partitions_count = 0 },
};

static const struct offset_commit_request sample_request = {
	.group_id = KSTR("grp"),
	.generation_id_or_member_epoch = 12,
	.member_id = KSTR("m-1"),
	.group_instance_id = KSTR("i1"),
	.retention_time_ms = 86400000,
	.topics_count = 2,
	.topics = (struct offset_commit_request_topic *)sample_topics,
};

static const struct offset_commit_response_partition sample_results[] = {
	{ .partition_index = 0, .error_code = 0 },
	{ .partition_index = 1, .error_code = 22 },
};

static const struct offset_commit_response_topic sample_response_topics[] = {
	{ .name = KSTR("t1"),
	  .partitions_count = 2,
	  .partitions = (struct offset_commit_response_partition *)sample_results },
};

static const struct offset_commit_response sample_response = {
	.throttle_time_ms = 4,
	.topics_count = 1,
	.topics = (struct offset_commit_response_topic *)sample_response_topics,
};

static void check_request(const struct offset_commit_request *want,
                          const struct offset_commit_request *got, int16_t v)
{
	cr_assert(kstr_same(got->group_id, want->group_id), "v%d group_id", v);
	cr_assert_eq(got->generation_id_or_member_epoch, want->generation_id_or_member_epoch,
	             "v%d generation", v);
	cr_assert(kstr_same(got->member_id, want->member_id), "v%d member_id", v);
	cr_assert(kstr_same(got->group_instance_id, v >= 7 ? want->group_instance_id : KSTR_NULL),
	          "v%d group_instance_id", v);
	cr_assert_eq(got->retention_time_ms, v <= 4 ? want->retention_time_ms : -1,
	             "v%d retention_time_ms", v);
	cr_assert_eq(got->topics_count, want->topics_count, "v%d topics", v);
	for (int32_t i = 0; i < want->topics_count; i++) {
		const struct offset_commit_request_topic *wt = &want->topics[i],
		                                         *gt = &got->topics[i];
		cr_assert(kstr_same(gt->name, wt->name), "v%d topic %d", v, i);
		cr_assert_eq(gt->partitions_count, wt->partitions_count, "v%d topic %d", v, i);
		for (int32_t j = 0; j < wt->partitions_count; j++) {
			const struct offset_commit_request_partition *w = &wt->partitions[j],
			                                             *g = &gt->partitions[j];
			cr_assert_eq(g->partition_index, w->partition_index);
			cr_assert_eq(g->committed_offset, w->committed_offset);
			cr_assert_eq(g->committed_leader_epoch,
			             v >= 6 ? w->committed_leader_epoch : -1, "v%d epoch", v);
			/* Exactly: a null stays null, "" stays "". */
			cr_assert_eq(g->committed_metadata.len, w->committed_metadata.len,
			             "v%d metadata %d/%d", v, i, j);
			cr_assert(kstr_same(g->committed_metadata, w->committed_metadata));
		}
	}
}

static void check_response(const struct offset_commit_response *want,
                           const struct offset_commit_response *got, int16_t v)
{
	cr_assert_eq(got->throttle_time_ms, v >= 3 ? want->throttle_time_ms : 0, "v%d throttle", v);
	cr_assert_eq(got->topics_count, want->topics_count, "v%d topics", v);
	for (int32_t i = 0; i < want->topics_count; i++) {
		const struct offset_commit_response_topic *wt = &want->topics[i],
		                                          *gt = &got->topics[i];
		cr_assert(kstr_same(gt->name, wt->name));
		cr_assert_eq(gt->partitions_count, wt->partitions_count);
		for (int32_t j = 0; j < wt->partitions_count; j++) {
			cr_assert_eq(gt->partitions[j].partition_index,
			             wt->partitions[j].partition_index);
			cr_assert_eq(gt->partitions[j].error_code, wt->partitions[j].error_code);
		}
	}
}

Test(offset_commit, round_trip_every_version)
{
	struct arena a;
	arena_init(&a, CHECK_ARENA_BYTES);
	for (int16_t v = OFFSET_COMMIT_VERSION_MIN; v <= OFFSET_COMMIT_VERSION_MAX; v++) {
		struct buf b;
		struct offset_commit_request req;
		struct offset_commit_response resp;
		CHECK_ROUND_TRIP(offset_commit_request, v, &sample_request, &b, &a, &req);
		check_request(&sample_request, &req, v);
		buf_free(&b);

		/* A standalone commit from outside the group. */
		struct offset_commit_request standalone = sample_request;
		standalone.generation_id_or_member_epoch = -1;
		standalone.member_id = KSTR("");
		standalone.group_instance_id = KSTR_NULL;
		CHECK_ROUND_TRIP(offset_commit_request, v, &standalone, &b, &a, &req);
		check_request(&standalone, &req, v);
		buf_free(&b);

		CHECK_ROUND_TRIP(offset_commit_response, v, &sample_response, &b, &a, &resp);
		check_response(&sample_response, &resp, v);
		buf_free(&b);
		arena_reset(&a);
	}
	arena_free(&a);
}

/* One topic "t", one partition 3 at offset 100, metadata as given. */
static const uint8_t request_v2[] = {
	0x00, 0x03, 'g',  'r',  'p',                    /* group_id */
	0x00, 0x00, 0x00, 0x0c,                         /* generation_id_or_member_epoch */
	0x00, 0x03, 'm',  '-',  '1',                    /* member_id */
	0x00, 0x00, 0x00, 0x00, 0x05, 0x26, 0x5c, 0x00, /* retention_time_ms 86400000 */
	0x00, 0x00, 0x00, 0x01,                         /* topics */
	0x00, 0x01, 't',                                /*   name */
	0x00, 0x00, 0x00, 0x02,                         /*   partitions */
	0x00, 0x00, 0x00, 0x03,                         /*     partition_index */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, /*     committed_offset */
	0xff, 0xff,                                     /*     committed_metadata null */
	0x00, 0x00, 0x00, 0x04,                         /*     partition_index */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x65, /*     committed_offset */
	0x00, 0x00,                                     /*     committed_metadata "" */
};

static const uint8_t request_v7[] = {
	0x00, 0x03, 'g',  'r',  'p',                    /* group_id */
	0x00, 0x00, 0x00, 0x0c,                         /* generation_id_or_member_epoch */
	0x00, 0x03, 'm',  '-',  '1',                    /* member_id */
	0x00, 0x02, 'i',  '1',                          /* group_instance_id */
	0x00, 0x00, 0x00, 0x01,                         /* topics */
	0x00, 0x01, 't',                                /*   name */
	0x00, 0x00, 0x00, 0x02,                         /*   partitions */
	0x00, 0x00, 0x00, 0x03,                         /*     partition_index */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, /*     committed_offset */
	0x00, 0x00, 0x00, 0x09,                         /*     committed_leader_epoch */
	0xff, 0xff,                                     /*     committed_metadata null */
	0x00, 0x00, 0x00, 0x04,                         /*     partition_index */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x65, /*     committed_offset */
	0xff, 0xff, 0xff, 0xff,                         /*     committed_leader_epoch -1 */
	0x00, 0x00,                                     /*     committed_metadata "" */
};

static const uint8_t response_v2[] = {
	0x00, 0x00, 0x00, 0x01,             /* topics */
	0x00, 0x02, 't',  '1',              /*   name */
	0x00, 0x00, 0x00, 0x02,             /*   partitions */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /*     0: error 0 */
	0x00, 0x00, 0x00, 0x01, 0x00, 0x16, /*     1: error 22 */
};

Test(offset_commit, bytes_by_hand)
{
	static const struct offset_commit_request_partition parts[] = {
		{ .partition_index = 3,
		  .committed_offset = 100,
		  .committed_leader_epoch = 9,
		  .committed_metadata = KSTR_NULL },
		{ .partition_index = 4,
		  .committed_offset = 101,
		  .committed_leader_epoch = -1,
		  .committed_metadata = KSTR("") },
	};
	static const struct offset_commit_request_topic topic = {
		.name = KSTR("t"),
		.partitions_count = 2,
		.partitions = (struct offset_commit_request_partition *)parts,
	};
	struct offset_commit_request r = sample_request;
	r.topics_count = 1;
	r.topics = (struct offset_commit_request_topic *)&topic;
	CHECK_BYTES(offset_commit_request, 2, &r, request_v2);
	CHECK_BYTES(offset_commit_request, 7, &r, request_v7);
	CHECK_BYTES(offset_commit_response, 2, &sample_response, response_v2);
	uint8_t v3[4 + sizeof(response_v2)] = { 0x00, 0x00, 0x00, 0x04 }; /* throttle_time_ms */
	memcpy(v3 + 4, response_v2, sizeof(response_v2));
	CHECK_BYTES(offset_commit_response, 3, &sample_response, v3);

	struct arena a;
	struct offset_commit_request req;
	struct offset_commit_response resp;
	int rc;
	arena_init(&a, CHECK_ARENA_BYTES);
	CHECK_DECODE(offset_commit_request, 7, request_v7, sizeof(request_v7), &a, &req, rc);
	cr_assert_eq(rc, 0);
	check_request(&r, &req, 7);
	cr_assert(kstr_is_null(req.topics[0].partitions[0].committed_metadata));
	cr_assert(!kstr_is_null(req.topics[0].partitions[1].committed_metadata));
	cr_assert_eq(req.topics[0].partitions[1].committed_metadata.len, 0);
	CHECK_DECODE(offset_commit_request, 2, request_v2, sizeof(request_v2), &a, &req, rc);
	cr_assert_eq(rc, 0);
	check_request(&r, &req, 2);
	CHECK_DECODE(offset_commit_response, 3, v3, sizeof(v3), &a, &resp, rc);
	cr_assert_eq(rc, 0);
	check_response(&sample_response, &resp, 3);
	arena_free(&a);
}

Test(offset_commit, versions_out_of_range)
{
	CHECK_VERSIONS(offset_commit_request, OFFSET_COMMIT_VERSION_MIN, OFFSET_COMMIT_VERSION_MAX,
	               &sample_request);
	CHECK_VERSIONS(offset_commit_response, OFFSET_COMMIT_VERSION_MIN, OFFSET_COMMIT_VERSION_MAX,
	               &sample_response);
}

Test(offset_commit, absurd_counts)
{
	/* v5: 2^31-1 topics. */
	static const uint8_t topics[] = { 0,    1,    'g',  0, 0, 0,   1, 0, 0, 0x7f,
		                          0xff, 0xff, 0xff, 0, 1, 't', 0, 0, 0, 0 };
	CHECK_REFUSED_SMALL(offset_commit_request, 5, topics);
	/* v6: one topic with 2^20 partitions and room for one. */
	static const uint8_t partitions[] = { 0, 1, 'g', 0, 0,    0, 1, 0, 0, 0, 0,    0,   1,
		                              0, 1, 't', 0, 0x10, 0, 0, 0, 0, 0, 0,    0,   0,
		                              0, 0, 0,   0, 0,    0, 0, 0, 0, 0, 0xff, 0xff };
	CHECK_REFUSED_SMALL(offset_commit_request, 6, partitions);
	/* v2: metadata of length -3. */
	static const uint8_t metadata[] = { 0, 1, 'g', 0, 0, 0, 1, 0, 0, 0,   0, 0, 0,    0,
		                            0, 0, 0,   0, 0, 0, 1, 0, 1, 't', 0, 0, 0,    1,
		                            0, 0, 0,   0, 0, 0, 0, 0, 0, 0,   0, 0, 0xff, 0xfd };
	CHECK_REFUSED_SMALL(offset_commit_request, 2, metadata);
	/* Response: a partition count far beyond the bytes. */
	static const uint8_t results[] = { 0,    0, 0, 0, 0, 0, 0, 1, 0, 1, 't',
		                           0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	CHECK_REFUSED_SMALL(offset_commit_response, 3, results);
}
