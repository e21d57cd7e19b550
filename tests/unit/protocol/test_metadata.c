/*
 * tests/unit/protocol/test_metadata.c: the Metadata codec (protocol/metadata.c), versions 0-8.
 *
 * Covers: request and response round trips at every version with non-default values in every
 * field (fields a version lacks come back as the schema's defaults); the null/empty topics
 * trap (v0 empty = all, v1+ null = all, v0 null encoded as empty); librdkafka's v4 request and
 * a v8 request and v8 and v0 responses checked byte for byte against arrays written from the
 * schema; every truncation and a trailing byte refused at every version; null where the
 * schema does not allow it; absurd counts and lengths, at the top and nested, refused without
 * allocating more than the elements before them; versions outside 0-8 refused.
 */
#include "protocol/metadata.h"

#include "codec_check.h"

static int dec_request(struct cursor *c, struct arena *a, int16_t version)
{
	struct metadata_request r;
	return metadata_request_decode(c, a, version, &r);
}

static int dec_response(struct cursor *c, struct arena *a, int16_t version)
{
	struct metadata_response r;
	return metadata_response_decode(c, a, version, &r);
}

/* ---- request ----------------------------------------------------------------------------- */

static struct metadata_request_topic req_topics[] = { { KSTR("alpha") }, { KSTR("b") } };

static struct metadata_request sample_request(void)
{
	return (struct metadata_request){
		.topics_count = 2,
		.topics = req_topics,
		.allow_auto_topic_creation = false,
		.include_cluster_authorized_operations = true,
		.include_topic_authorized_operations = true,
	};
}

static void encode_request(struct buf *b, int16_t v, const struct metadata_request *r)
{
	buf_init(b, CHECK_BUF_LIMIT);
	metadata_request_encode(b, v, r);
	cr_assert(buf_ok(b), "v%d", v);
}

static void decode_request(const struct buf *b, struct arena *a, int16_t v,
                           struct metadata_request *got)
{
	struct cursor c;
	cursor_init(&c, b->p, b->len);
	cr_assert_eq(metadata_request_decode(&c, a, v, got), 0, "v%d", v);
}

Test(metadata, request_round_trip_every_version)
{
	struct metadata_request r = sample_request(), got;
	for (int16_t v = METADATA_VERSION_MIN; v <= METADATA_VERSION_MAX; v++) {
		struct buf b;
		struct arena a;
		arena_init(&a, CHECK_ARENA_LIMIT);
		encode_request(&b, v, &r);
		decode_request(&b, &a, v, &got);
		cr_assert_eq(got.topics_count, 2);
		cr_assert_kstr(got.topics[0].name, KSTR("alpha"));
		cr_assert_kstr(got.topics[1].name, KSTR("b"));
		cr_assert_eq(got.allow_auto_topic_creation, v < 4, "v%d", v);
		cr_assert_eq(got.include_cluster_authorized_operations, v >= 8, "v%d", v);
		cr_assert_eq(got.include_topic_authorized_operations, v >= 8, "v%d", v);
		cr_assert(!metadata_request_all_topics(v, &got));
		check_every_prefix(dec_request, v, b.p, b.len);
		buf_free(&b);
		arena_free(&a);
	}
}

Test(metadata, request_all_topics_null_and_empty)
{
	struct metadata_request r = sample_request(), got;
	for (int16_t v = METADATA_VERSION_MIN; v <= METADATA_VERSION_MAX; v++) {
		struct buf b;
		struct arena a;
		arena_init(&a, CHECK_ARENA_LIMIT);
		/* null: all topics; v0 writes it as the empty array, which means the same there. */
		r.topics_count = -1;
		r.topics = NULL;
		encode_request(&b, v, &r);
		decode_request(&b, &a, v, &got);
		cr_assert_eq(got.topics_count, v == 0 ? 0 : -1, "v%d", v);
		cr_assert(metadata_request_all_topics(v, &got), "v%d", v);
		check_every_prefix(dec_request, v, b.p, b.len);
		buf_free(&b);
		/* empty: all topics at v0, none from v1 ("brokers only", librdkafka's first). */
		r.topics_count = 0;
		encode_request(&b, v, &r);
		decode_request(&b, &a, v, &got);
		cr_assert_eq(got.topics_count, 0);
		cr_assert_eq(metadata_request_all_topics(v, &got), v == 0, "v%d", v);
		buf_free(&b);
		arena_free(&a);
	}
}

Test(metadata, request_bytes_v4_v8)
{
	/* librdkafka 2.0.2 producing to "t" (kafka-protocol.md §2 (b)). */
	static const uint8_t v4[] = {
		0x00, 0x00, 0x00, 0x01, /* topics: 1 */
		0x00, 0x01, 't',        /* name "t" */
		0x01,                   /* allow_auto_topic_creation */
	};
	static const uint8_t v8[] = {
		0xff, 0xff, 0xff, 0xff, /* topics: null */
		0x00,                   /* allow_auto_topic_creation false */
		0x01,                   /* include_cluster_authorized_operations */
		0x00,                   /* include_topic_authorized_operations false */
	};
	static const uint8_t v0_null[] = { 0x00, 0x00, 0x00, 0x00 };
	struct metadata_request_topic t = { KSTR("t") };
	struct metadata_request r = { 1, &t, true, false, false };
	struct buf b;
	encode_request(&b, 4, &r);
	check_bytes(&b, v4, sizeof(v4));
	buf_free(&b);
	r = (struct metadata_request){ -1, NULL, false, true, false };
	encode_request(&b, 8, &r);
	check_bytes(&b, v8, sizeof(v8));
	buf_free(&b);
	encode_request(&b, 0, &r);
	check_bytes(&b, v0_null, sizeof(v0_null));
	buf_free(&b);
}

Test(metadata, request_refuses_nulls_the_schema_does_not_allow)
{
	static const uint8_t null_array_v0[] = { 0xff, 0xff, 0xff, 0xff };
	static const uint8_t null_name[] = { 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0x01 };
	static const uint8_t negative_count[] = { 0xff, 0xff, 0xff, 0xfe, 0x01 };
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	cr_assert_eq(check_decode(dec_request, 0, null_array_v0, sizeof(null_array_v0), &a),
	             -TAPE_EPROTO);
	cr_assert_eq(check_decode(dec_request, 4, null_name, sizeof(null_name), &a), -TAPE_EPROTO);
	cr_assert_eq(check_decode(dec_request, 4, negative_count, sizeof(negative_count), &a),
	             -TAPE_EPROTO);
	arena_free(&a);
}

Test(metadata, request_absurd_counts_and_lengths)
{
	/* 2^31 - 1 topics in 10 bytes. */
	static const uint8_t count[] = { 0x7f, 0xff, 0xff, 0xff, 0, 1, 'x', 0, 1, 'y' };
	/* 6 topics need 12 bytes at least; 11 are left. */
	static const uint8_t tight[] = { 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	/* A name of 32767 bytes in 3. */
	static const uint8_t name[] = { 0, 0, 0, 1, 0x7f, 0xff, 'a', 'b', 'c' };
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	cr_assert_eq(check_decode(dec_request, 1, count, sizeof(count), &a), -TAPE_EPROTO);
	cr_assert_eq(check_decode(dec_request, 0, tight, sizeof(tight), &a), -TAPE_EPROTO);
	cr_assert_eq(a.used, 0u);
	cr_assert_eq(check_decode(dec_request, 1, name, sizeof(name), &a), -TAPE_EPROTO);
	cr_assert_leq(a.used, 64u); /* the one topic's slot */
	arena_free(&a);
}

/* ---- response ---------------------------------------------------------------------------- */

static struct metadata_response_broker brokers[] = {
	{ 1, KSTR("h1"), 9092, KSTR("r1") },
	{ 2, KSTR("host-two"), 9093, KSTR_NULL },
};
static int32_t replicas[] = { 1, 2 }, isr[] = { 1 }, offline[] = { 2 };
static struct metadata_response_partition partitions[] = {
	{ 0, 0, 1, 5, 2, replicas, 1, isr, 1, offline },
	{ 5, 1, -1, 6, 0, NULL, 0, NULL, 0, NULL },
};
static struct metadata_response_topic topics[] = {
	{ 0, KSTR("t"), true, 2, partitions, 0x0f },
	{ 3, KSTR("gone"), false, 0, NULL, 7 },
};

static struct metadata_response sample_response(void)
{
	return (struct metadata_response){
		.throttle_time_ms = 77,
		.brokers_count = 2,
		.brokers = brokers,
		.cluster_id = KSTR("clu"),
		.controller_id = 2,
		.topics_count = 2,
		.topics = topics,
		.cluster_authorized_operations = 0x1f,
	};
}

static void check_int32s(const int32_t *got, int32_t got_count, const int32_t *want,
                         int32_t want_count)
{
	cr_assert_eq(got_count, want_count);
	for (int32_t i = 0; i < want_count; i++)
		cr_assert_eq(got[i], want[i]);
}

static void check_partition(int16_t v, const struct metadata_response_partition *got,
                            const struct metadata_response_partition *want)
{
	cr_assert_eq(got->error_code, want->error_code);
	cr_assert_eq(got->partition_index, want->partition_index);
	cr_assert_eq(got->leader_id, want->leader_id);
	cr_assert_eq(got->leader_epoch, v >= 7 ? want->leader_epoch : -1, "v%d", v);
	check_int32s(got->replica_nodes, got->replica_nodes_count, want->replica_nodes,
	             want->replica_nodes_count);
	check_int32s(got->isr_nodes, got->isr_nodes_count, want->isr_nodes, want->isr_nodes_count);
	if (v >= 5)
		check_int32s(got->offline_replicas, got->offline_replicas_count,
		             want->offline_replicas, want->offline_replicas_count);
	else
		cr_assert_eq(got->offline_replicas_count, 0, "v%d", v);
}

static void check_response(int16_t v, const struct metadata_response *got)
{
	cr_assert_eq(got->throttle_time_ms, v >= 3 ? 77 : 0, "v%d", v);
	cr_assert_eq(got->brokers_count, 2);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(got->brokers[i].node_id, brokers[i].node_id);
		cr_assert_kstr(got->brokers[i].host, brokers[i].host);
		cr_assert_eq(got->brokers[i].port, brokers[i].port);
		cr_assert_kstr(got->brokers[i].rack, v >= 1 ? brokers[i].rack : KSTR_NULL);
	}
	cr_assert_kstr(got->cluster_id, v >= 2 ? KSTR("clu") : KSTR_NULL);
	cr_assert_eq(got->controller_id, v >= 1 ? 2 : -1, "v%d", v);
	cr_assert_eq(got->topics_count, 2);
	for (int i = 0; i < 2; i++) {
		const struct metadata_response_topic *t = &got->topics[i], *w = &topics[i];
		cr_assert_eq(t->error_code, w->error_code);
		cr_assert_kstr(t->name, w->name);
		cr_assert_eq(t->is_internal, v >= 1 && w->is_internal, "v%d", v);
		cr_assert_eq(t->partitions_count, w->partitions_count);
		for (int32_t j = 0; j < w->partitions_count; j++)
			check_partition(v, &t->partitions[j], &w->partitions[j]);
		cr_assert_eq(t->topic_authorized_operations,
		             v >= 8 ? w->topic_authorized_operations
		                    : METADATA_AUTHORIZED_OPERATIONS_NONE,
		             "v%d", v);
	}
	cr_assert_eq(got->cluster_authorized_operations,
	             v >= 8 ? 0x1f : METADATA_AUTHORIZED_OPERATIONS_NONE, "v%d", v);
}

Test(metadata, response_round_trip_every_version)
{
	struct metadata_response r = sample_response(), got;
	for (int16_t v = METADATA_VERSION_MIN; v <= METADATA_VERSION_MAX; v++) {
		struct buf b;
		struct arena a;
		buf_init(&b, CHECK_BUF_LIMIT);
		arena_init(&a, CHECK_ARENA_LIMIT);
		metadata_response_encode(&b, v, &r);
		cr_assert(buf_ok(&b));
		struct cursor c;
		cursor_init(&c, b.p, b.len);
		cr_assert_eq(metadata_response_decode(&c, &a, v, &got), 0, "v%d", v);
		check_response(v, &got);
		check_every_prefix(dec_response, v, b.p, b.len);
		buf_free(&b);
		arena_free(&a);
	}
}

static struct metadata_response small_response(void)
{
	static struct metadata_response_broker br = { 1, KSTR("h"), 9092, KSTR_NULL };
	static int32_t one[] = { 1 };
	static struct metadata_response_partition p = { 0, 0, 1, 3, 1, one, 1, one, 0, NULL };
	static struct metadata_response_topic t = { 0, KSTR("t"), false, 1, &p, INT32_MIN };
	return (struct metadata_response){ 0, 1, &br, KSTR("c"), 1, 1, &t, INT32_MIN };
}

Test(metadata, response_bytes_v0_v8)
{
	static const uint8_t v0[] = {
		0x00, 0x00, 0x00, 0x01,                         /* brokers: 1 */
		0x00, 0x00, 0x00, 0x01,                         /* node_id 1 */
		0x00, 0x01, 'h',                                /* host "h" */
		0x00, 0x00, 0x23, 0x84,                         /* port 9092 */
		0x00, 0x00, 0x00, 0x01,                         /* topics: 1 */
		0x00, 0x00,                                     /* error_code 0 */
		0x00, 0x01, 't',                                /* name "t" */
		0x00, 0x00, 0x00, 0x01,                         /* partitions: 1 */
		0x00, 0x00,                                     /* error_code 0 */
		0x00, 0x00, 0x00, 0x00,                         /* partition_index 0 */
		0x00, 0x00, 0x00, 0x01,                         /* leader_id 1 */
		0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, /* replica_nodes [1] */
		0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, /* isr_nodes [1] */
	};
	static const uint8_t v8[] = {
		0x00, 0x00, 0x00, 0x00,                         /* throttle_time_ms */
		0x00, 0x00, 0x00, 0x01,                         /* brokers: 1 */
		0x00, 0x00, 0x00, 0x01,                         /* node_id 1 */
		0x00, 0x01, 'h',                                /* host "h" */
		0x00, 0x00, 0x23, 0x84,                         /* port 9092 */
		0xff, 0xff,                                     /* rack null */
		0x00, 0x01, 'c',                                /* cluster_id "c" */
		0x00, 0x00, 0x00, 0x01,                         /* controller_id 1 */
		0x00, 0x00, 0x00, 0x01,                         /* topics: 1 */
		0x00, 0x00,                                     /* error_code 0 */
		0x00, 0x01, 't',                                /* name "t" */
		0x00,                                           /* is_internal false */
		0x00, 0x00, 0x00, 0x01,                         /* partitions: 1 */
		0x00, 0x00,                                     /* error_code 0 */
		0x00, 0x00, 0x00, 0x00,                         /* partition_index 0 */
		0x00, 0x00, 0x00, 0x01,                         /* leader_id 1 */
		0x00, 0x00, 0x00, 0x03,                         /* leader_epoch 3 */
		0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, /* replica_nodes [1] */
		0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, /* isr_nodes [1] */
		0x00, 0x00, 0x00, 0x00,                         /* offline_replicas [] */
		0x80, 0x00, 0x00, 0x00,                         /* topic_authorized_operations */
		0x80, 0x00, 0x00, 0x00,                         /* cluster_authorized_operations */
	};
	struct metadata_response r = small_response();
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	metadata_response_encode(&b, 0, &r);
	check_bytes(&b, v0, sizeof(v0));
	buf_clear(&b);
	metadata_response_encode(&b, 8, &r);
	check_bytes(&b, v8, sizeof(v8));
	buf_free(&b);
}

Test(metadata, response_absurd_counts)
{
	/* v0: no brokers, one topic whose partitions count is 2^31 - 1. */
	static const uint8_t partitions_count[] = {
		0x00, 0x00, 0x00, 0x00, /* brokers: 0 */
		0x00, 0x00, 0x00, 0x01, /* topics: 1 */
		0x00, 0x00,             /* error_code */
		0x00, 0x01, 't',        /* name "t" */
		0x7f, 0xff, 0xff, 0xff, /* partitions: 2^31 - 1 */
		0x00, 0x00, 0x00, 0x00,
	};
	/* v0: one topic, one partition whose replica_nodes count is 2^31 - 1. */
	static const uint8_t replicas_count[] = {
		0x00, 0x00, 0x00, 0x00, /* brokers: 0 */
		0x00, 0x00, 0x00, 0x01, /* topics: 1 */
		0x00, 0x00,             /* error_code */
		0x00, 0x01, 't',        /* name "t" */
		0x00, 0x00, 0x00, 0x01, /* partitions: 1 */
		0x00, 0x00,             /* error_code */
		0x00, 0x00, 0x00, 0x00, /* partition_index */
		0x00, 0x00, 0x00, 0x01, /* leader_id */
		0x7f, 0xff, 0xff, 0xff, /* replica_nodes: 2^31 - 1 */
		0x00, 0x00, 0x00, 0x00,
	};
	/* v1: a broker count that fits 10-byte brokers but not v1's 12-byte ones. */
	static const uint8_t brokers_v1[] = {
		0x00, 0x00, 0x00, 0x02,                         /* brokers: 2 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 20 bytes */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* */
		0x00, 0x00, 0x00, 0x00,                         /* */
	};
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	cr_assert_eq(check_decode(dec_response, 0, partitions_count, sizeof(partitions_count), &a),
	             -TAPE_EPROTO);
	cr_assert_leq(a.used, 256u);
	arena_reset(&a);
	cr_assert_eq(check_decode(dec_response, 0, replicas_count, sizeof(replicas_count), &a),
	             -TAPE_EPROTO);
	cr_assert_leq(a.used, 256u);
	arena_reset(&a);
	cr_assert_eq(check_decode(dec_response, 1, brokers_v1, sizeof(brokers_v1), &a),
	             -TAPE_EPROTO);
	cr_assert_eq(a.used, 0u);
	arena_free(&a);
}

Test(metadata, response_refuses_null_host_and_name)
{
	static const uint8_t null_host[] = {
		0x00, 0x00, 0x00, 0x01, /* brokers: 1 */
		0x00, 0x00, 0x00, 0x01, /* node_id */
		0xff, 0xff,             /* host null */
		0x00, 0x00, 0x00, 0x00, /* port */
		0x00, 0x00, 0x00, 0x00, /* topics: 0 */
	};
	static const uint8_t null_name[] = {
		0x00, 0x00, 0x00, 0x00, /* brokers: 0 */
		0x00, 0x00, 0x00, 0x01, /* topics: 1 */
		0x00, 0x00,             /* error_code */
		0xff, 0xff,             /* name null */
		0x00, 0x00, 0x00, 0x00, /* partitions: 0 */
	};
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	cr_assert_eq(check_decode(dec_response, 0, null_host, sizeof(null_host), &a), -TAPE_EPROTO);
	cr_assert_eq(check_decode(dec_response, 0, null_name, sizeof(null_name), &a), -TAPE_EPROTO);
	arena_free(&a);
}

Test(metadata, versions_out_of_range)
{
	struct metadata_request req = sample_request();
	struct metadata_response resp = sample_response();
	static const uint8_t zeros[16];
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	const int16_t bad[] = { -1, 9, 12 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b;
		buf_init(&b, CHECK_BUF_LIMIT);
		metadata_request_encode(&b, bad[i], &req);
		cr_assert(!buf_ok(&b));
		buf_clear(&b);
		metadata_response_encode(&b, bad[i], &resp);
		cr_assert(!buf_ok(&b));
		buf_free(&b);
		cr_assert_eq(check_decode(dec_request, bad[i], zeros, 4, &a), -TAPE_EPROTO);
		cr_assert_eq(check_decode(dec_response, bad[i], zeros, 16, &a), -TAPE_EPROTO);
	}
	arena_free(&a);
}
