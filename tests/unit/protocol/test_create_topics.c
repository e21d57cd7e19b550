/*
 * tests/unit/protocol/test_create_topics.c: the CreateTopics codec (protocol/create_topics.c),
 * versions 0-4.
 *
 * Covers: request and response round trips at every version with non-default values in every
 * field (manual assignments, configs with a null value, -1 partitions and replication; fields a
 * version lacks come back as the schema's defaults); the v3 request kafkajs sends and a v0
 * request with an assignment and a config, and v0 and v4 responses, checked byte for byte
 * against arrays written from the schema; every truncation and a trailing byte refused at
 * every version; nulls the schema does not allow; absurd counts at each level of nesting and
 * absurd lengths refused without allocating more than the elements before them; versions
 * outside 0-4 refused.
 */
#include "protocol/create_topics.h"

#include "codec_check.h"

static int dec_request(struct cursor *c, struct arena *a, int16_t version)
{
	struct create_topics_request r;
	return create_topics_request_decode(c, a, version, &r);
}

static int dec_response(struct cursor *c, struct arena *a, int16_t version)
{
	struct create_topics_response r;
	return create_topics_response_decode(c, a, version, &r);
}

/* ---- request ----------------------------------------------------------------------------- */

static int32_t brokers_0[] = { 1, 2 }, brokers_1[] = { 2 };
static struct create_topics_creatable_replica_assignment assignments[] = {
	{ 0, 2, brokers_0 },
	{ 1, 1, brokers_1 },
};
static struct create_topics_creatable_topic_config configs[] = {
	{ KSTR("cleanup.policy"), KSTR("compact") },
	{ KSTR("retention.ms"), KSTR_NULL },
};
static struct create_topics_creatable_topic req_topics[] = {
	{ KSTR("events"), 3, 1, 2, assignments, 2, configs },
	{ KSTR("x"), -1, -1, 0, NULL, 0, NULL },
};

static void check_request(int16_t v, const struct create_topics_request *got)
{
	cr_assert_eq(got->topics_count, 2);
	for (int i = 0; i < 2; i++) {
		const struct create_topics_creatable_topic *t = &got->topics[i],
		                                           *w = &req_topics[i];
		cr_assert_kstr(t->name, w->name);
		cr_assert_eq(t->num_partitions, w->num_partitions);
		cr_assert_eq(t->replication_factor, w->replication_factor);
		cr_assert_eq(t->assignments_count, w->assignments_count);
		for (int32_t j = 0; j < w->assignments_count; j++) {
			const struct create_topics_creatable_replica_assignment *as =
			    &t->assignments[j];
			cr_assert_eq(as->partition_index, w->assignments[j].partition_index);
			cr_assert_eq(as->broker_ids_count, w->assignments[j].broker_ids_count);
			for (int32_t k = 0; k < as->broker_ids_count; k++)
				cr_assert_eq(as->broker_ids[k], w->assignments[j].broker_ids[k]);
		}
		cr_assert_eq(t->configs_count, w->configs_count);
		for (int32_t j = 0; j < w->configs_count; j++) {
			cr_assert_kstr(t->configs[j].name, w->configs[j].name);
			cr_assert_kstr(t->configs[j].value, w->configs[j].value);
		}
	}
	cr_assert_eq(got->timeout_ms, 30000);
	cr_assert_eq(got->validate_only, v >= 1, "v%d", v);
}

Test(create_topics, request_round_trip_every_version)
{
	struct create_topics_request r = { 2, req_topics, 30000, true }, got;
	for (int16_t v = CREATE_TOPICS_VERSION_MIN; v <= CREATE_TOPICS_VERSION_MAX; v++) {
		struct buf b;
		struct arena a;
		buf_init(&b, CHECK_BUF_LIMIT);
		arena_init(&a, CHECK_ARENA_LIMIT);
		create_topics_request_encode(&b, v, &r);
		cr_assert(buf_ok(&b));
		struct cursor c;
		cursor_init(&c, b.p, b.len);
		cr_assert_eq(create_topics_request_decode(&c, &a, v, &got), 0, "v%d", v);
		check_request(v, &got);
		check_every_prefix(dec_request, v, b.p, b.len);
		buf_free(&b);
		arena_free(&a);
	}
}

Test(create_topics, request_bytes_v3_v0)
{
	/* kafkajs 2.2.4 admin.createTopics({ topics: [{ topic: "t" }] }): -1/-1 (§5). */
	static const uint8_t kafkajs_v3[] = {
		0x00, 0x00, 0x00, 0x01, /* topics: 1 */
		0x00, 0x01, 't',        /* name "t" */
		0xff, 0xff, 0xff, 0xff, /* num_partitions -1 */
		0xff, 0xff,             /* replication_factor -1 */
		0x00, 0x00, 0x00, 0x00, /* assignments: 0 */
		0x00, 0x00, 0x00, 0x00, /* configs: 0 */
		0x00, 0x00, 0x13, 0x88, /* timeout_ms 5000 */
		0x00,                   /* validate_only false */
	};
	static const uint8_t v0[] = {
		0x00, 0x00, 0x00, 0x01,                         /* topics: 1 */
		0x00, 0x02, 'a',  'b',                          /* name "ab" */
		0x00, 0x00, 0x00, 0x01,                         /* num_partitions 1 */
		0x00, 0x02,                                     /* replication_factor 2 */
		0x00, 0x00, 0x00, 0x01,                         /* assignments: 1 */
		0x00, 0x00, 0x00, 0x00,                         /* partition_index 0 */
		0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, /* broker_ids: 2: 1, */
		0x00, 0x00, 0x00, 0x02,                         /*                 2 */
		0x00, 0x00, 0x00, 0x01,                         /* configs: 1 */
		0x00, 0x01, 'k',                                /* name "k" */
		0xff, 0xff,                                     /* value null */
		0x00, 0x00, 0x75, 0x30,                         /* timeout_ms 30000 */
	};
	struct create_topics_creatable_topic t = { KSTR("t"), -1, -1, 0, NULL, 0, NULL };
	struct create_topics_request r = { 1, &t, 5000, false };
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	create_topics_request_encode(&b, 3, &r);
	check_bytes(&b, kafkajs_v3, sizeof(kafkajs_v3));
	buf_clear(&b);
	static int32_t ids[] = { 1, 2 };
	struct create_topics_creatable_replica_assignment as = { 0, 2, ids };
	struct create_topics_creatable_topic_config cf = { KSTR("k"), KSTR_NULL };
	t = (struct create_topics_creatable_topic){ KSTR("ab"), 1, 2, 1, &as, 1, &cf };
	r = (struct create_topics_request){ 1, &t, 30000, true };
	create_topics_request_encode(&b, 0, &r);
	check_bytes(&b, v0, sizeof(v0));
	buf_free(&b);
}

/* The start of a v1 request: one topic "t", 1 partition, replication 1. */
#define ONE_TOPIC_T 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't', 0x00, 0x00, 0x00, 0x01, 0x00, 0x01

Test(create_topics, request_refuses_null_arrays_and_names)
{
	static const uint8_t null_topics[] = {
		0xff, 0xff, 0xff, 0xff,       /* topics: null */
		0x00, 0x00, 0x00, 0x00, 0x00, /* timeout_ms, validate_only */
	};
	static const uint8_t null_name[] = {
		0x00, 0x00, 0x00, 0x01,             /* topics: 1 */
		0xff, 0xff,                         /* name null */
		0x00, 0x00, 0x00, 0x01, 0x00, 0x01, /* num_partitions, replication_factor */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* assignments, configs: 0 */
		0x00, 0x00, 0x00, 0x00, 0x00,                   /* timeout_ms, validate_only */
	};
	static const uint8_t null_assignments[] = {
		ONE_TOPIC_T,                         /* topics: 1, "t", 1, 1 */
		0xff,        0xff, 0xff, 0xff,       /* assignments: null */
		0x00,        0x00, 0x00, 0x00,       /* configs: 0 */
		0x00,        0x00, 0x00, 0x00, 0x00, /* timeout_ms, validate_only */
	};
	static const uint8_t null_config_name[] = {
		ONE_TOPIC_T,                         /* topics: 1, "t", 1, 1 */
		0x00,        0x00, 0x00, 0x00,       /* assignments: 0 */
		0x00,        0x00, 0x00, 0x01,       /* configs: 1 */
		0xff,        0xff,                   /* name null */
		0x00,        0x00,                   /* value "" */
		0x00,        0x00, 0x00, 0x00, 0x00, /* timeout_ms, validate_only */
	};
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	cr_assert_eq(check_decode(dec_request, 1, null_topics, sizeof(null_topics), &a),
	             -TAPE_EPROTO);
	cr_assert_eq(check_decode(dec_request, 1, null_name, sizeof(null_name), &a), -TAPE_EPROTO);
	cr_assert_eq(check_decode(dec_request, 1, null_assignments, sizeof(null_assignments), &a),
	             -TAPE_EPROTO);
	cr_assert_eq(check_decode(dec_request, 1, null_config_name, sizeof(null_config_name), &a),
	             -TAPE_EPROTO);
	arena_free(&a);
}

Test(create_topics, request_absurd_counts)
{
	static const uint8_t topics[] = {
		0x7f, 0xff, 0xff, 0xff,                               /* topics: 2^31 - 1 */
		0x00, 0x01, 't',  0x00, 0x00, 0x00, 0x01, 0x00, 0x01, /* the first: "t", 1, 1 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,       /* assignments, configs: 0 */
		0x00, 0x00, 0x00, 0x00, 0x00, /* timeout_ms, validate_only */
	};
	static const uint8_t assignments_count[] = {
		ONE_TOPIC_T,                         /* topics: 1, "t", 1, 1 */
		0x7f,        0xff, 0xff, 0xff,       /* assignments: 2^31 - 1 */
		0x00,        0x00, 0x00, 0x00,       /* configs: 0 */
		0x00,        0x00, 0x00, 0x00, 0x00, /* timeout_ms, validate_only */
	};
	static const uint8_t broker_ids_count[] = {
		ONE_TOPIC_T,                         /* topics: 1, "t", 1, 1 */
		0x00,        0x00, 0x00, 0x01,       /* assignments: 1 */
		0x00,        0x00, 0x00, 0x00,       /* partition_index 0 */
		0x7f,        0xff, 0xff, 0xff,       /* broker_ids: 2^31 - 1 */
		0x00,        0x00, 0x00, 0x00,       /* configs: 0 */
		0x00,        0x00, 0x00, 0x00, 0x00, /* timeout_ms, validate_only */
	};
	static const uint8_t configs_count[] = {
		ONE_TOPIC_T,                         /* topics: 1, "t", 1, 1 */
		0x00,        0x00, 0x00, 0x00,       /* assignments: 0 */
		0x7f,        0xff, 0xff, 0xff,       /* configs: 2^31 - 1 */
		0x00,        0x00, 0x00, 0x00, 0x00, /* timeout_ms, validate_only */
	};
	static const uint8_t value_len[] = {
		ONE_TOPIC_T,                         /* topics: 1, "t", 1, 1 */
		0x00,        0x00, 0x00, 0x00,       /* assignments: 0 */
		0x00,        0x00, 0x00, 0x01,       /* configs: 1 */
		0x00,        0x01, 'k',              /* name "k" */
		0x7f,        0xff,                   /* value: 32767 bytes */
		0x00,        0x00, 0x00, 0x00, 0x00, /* timeout_ms, validate_only */
	};
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	cr_assert_eq(check_decode(dec_request, 1, topics, sizeof(topics), &a), -TAPE_EPROTO);
	cr_assert_eq(a.used, 0u);
	const struct {
		const uint8_t *p;
		size_t n;
	} nested[] = {
		{ assignments_count, sizeof(assignments_count) },
		{ broker_ids_count, sizeof(broker_ids_count) },
		{ configs_count, sizeof(configs_count) },
		{ value_len, sizeof(value_len) },
	};
	for (size_t i = 0; i < sizeof(nested) / sizeof(nested[0]); i++) {
		cr_assert_eq(check_decode(dec_request, 1, nested[i].p, nested[i].n, &a),
		             -TAPE_EPROTO, "case %zu", i);
		cr_assert_leq(a.used, 256u, "case %zu: %zu bytes", i, a.used);
		arena_reset(&a);
	}
	arena_free(&a);
}

/* ---- response ---------------------------------------------------------------------------- */

static struct create_topics_creatable_topic_result results[] = {
	{ KSTR("events"), 0, KSTR_NULL },
	{ KSTR("x"), 36, KSTR("Topic 'x' already exists.") },
};

Test(create_topics, response_round_trip_every_version)
{
	struct create_topics_response r = { 12, 2, results }, got;
	for (int16_t v = CREATE_TOPICS_VERSION_MIN; v <= CREATE_TOPICS_VERSION_MAX; v++) {
		struct buf b;
		struct arena a;
		buf_init(&b, CHECK_BUF_LIMIT);
		arena_init(&a, CHECK_ARENA_LIMIT);
		create_topics_response_encode(&b, v, &r);
		cr_assert(buf_ok(&b));
		struct cursor c;
		cursor_init(&c, b.p, b.len);
		cr_assert_eq(create_topics_response_decode(&c, &a, v, &got), 0, "v%d", v);
		cr_assert_eq(got.throttle_time_ms, v >= 2 ? 12 : 0, "v%d", v);
		cr_assert_eq(got.topics_count, 2);
		for (int i = 0; i < 2; i++) {
			cr_assert_kstr(got.topics[i].name, results[i].name);
			cr_assert_eq(got.topics[i].error_code, results[i].error_code);
			cr_assert_kstr(got.topics[i].error_message,
			               v >= 1 ? results[i].error_message : KSTR(""));
		}
		check_every_prefix(dec_response, v, b.p, b.len);
		buf_free(&b);
		arena_free(&a);
	}
}

Test(create_topics, response_bytes_v0_v4)
{
	static const uint8_t v0[] = {
		0x00, 0x00, 0x00, 0x02, /* topics: 2 */
		0x00, 0x01, 'a',        /* name "a" */
		0x00, 0x00,             /* error_code 0 */
		0x00, 0x01, 'b',        /* name "b" */
		0x00, 0x24,             /* error_code 36 */
	};
	static const uint8_t v4[] = {
		0x00, 0x00, 0x00, 0x05,      /* throttle_time_ms 5 */
		0x00, 0x00, 0x00, 0x02,      /* topics: 2 */
		0x00, 0x01, 'a',             /* name "a" */
		0x00, 0x00,                  /* error_code 0 */
		0xff, 0xff,                  /* error_message null */
		0x00, 0x01, 'b',             /* name "b" */
		0x00, 0x24,                  /* error_code 36 */
		0x00, 0x03, 'd',  'u',  'p', /* error_message "dup" */
	};
	struct create_topics_creatable_topic_result t[] = {
		{ KSTR("a"), 0, KSTR_NULL },
		{ KSTR("b"), 36, KSTR("dup") },
	};
	struct create_topics_response r = { 5, 2, t };
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	create_topics_response_encode(&b, 0, &r);
	check_bytes(&b, v0, sizeof(v0));
	buf_clear(&b);
	create_topics_response_encode(&b, 4, &r);
	check_bytes(&b, v4, sizeof(v4));
	buf_free(&b);
}

Test(create_topics, response_absurd_count)
{
	/* v1 results take 6 bytes at least: two do not fit in 10. */
	static const uint8_t tight[] = {
		0x00, 0x00, 0x00, 0x02,                                     /* topics: 2 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 10 bytes */
	};
	static const uint8_t huge[] = {
		0x00, 0x00, 0x00, 0x00, /* throttle_time_ms */
		0x7f, 0xff, 0xff, 0xff, /* topics: 2^31 - 1 */
		0x00, 0x00, 0x00, 0x00,
	};
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	cr_assert_eq(check_decode(dec_response, 1, tight, sizeof(tight), &a), -TAPE_EPROTO);
	cr_assert_eq(check_decode(dec_response, 2, huge, sizeof(huge), &a), -TAPE_EPROTO);
	cr_assert_eq(a.used, 0u);
	arena_free(&a);
}

Test(create_topics, versions_out_of_range)
{
	struct create_topics_request req = { 2, req_topics, 30000, true };
	struct create_topics_response resp = { 12, 2, results };
	static const uint8_t zeros[16];
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	const int16_t bad[] = { -1, 5, 7 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b;
		buf_init(&b, CHECK_BUF_LIMIT);
		create_topics_request_encode(&b, bad[i], &req);
		cr_assert(!buf_ok(&b));
		buf_clear(&b);
		create_topics_response_encode(&b, bad[i], &resp);
		cr_assert(!buf_ok(&b));
		buf_free(&b);
		cr_assert_eq(check_decode(dec_request, bad[i], zeros, 9, &a), -TAPE_EPROTO);
		cr_assert_eq(check_decode(dec_response, bad[i], zeros, 8, &a), -TAPE_EPROTO);
	}
	arena_free(&a);
}
