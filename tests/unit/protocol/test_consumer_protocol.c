/*
 * tests/unit/protocol/test_consumer_protocol.c: protocol/consumer_protocol.c, the consumer
 * protocol's subscription (v0-3) and assignment (v0-3) payloads.
 *
 * Covers: encode -> decode round trips of both at every version with non-default values in
 * every field the version has (owned_partitions empty, generation_id -1 and rack_id null where
 * the version lacks them; user_data null, empty and set); hand-built bytes: the subscriptions
 * librdkafka 2.0.2 (v1) and kafkajs 2.2.4 (v0) send, a full v3 subscription and a v0
 * assignment, byte for byte against the encoder and decoded back; the reading rules of
 * consumer_protocol.h: a newer version (4, 7, 32767) is read as v3 with the rest ignored,
 * trailing bytes are ignored in every version, a payload that ends at a field boundary after
 * the first field leaves the rest at defaults while one that ends inside a field (or before the
 * first field ends) is refused, an empty assignment payload is an empty assignment; null
 * payloads, negative versions, absurd counts and lengths refused without a large allocation;
 * the encoders refuse versions outside 0-3 and nulls where the schema has none.
 */
#include "protocol/consumer_protocol.h"

#include "group_codec_check.h"

static struct kbytes payload_of(const struct buf *b)
{
	return (struct kbytes){ b->p, (int32_t)b->len };
}

#define PAYLOAD(arr) ((struct kbytes){ (arr), (int32_t)sizeof(arr) })

static const struct kstr sample_topics[] = { KSTR("t1"), KSTR("t2") };
static const int32_t sample_partitions[] = { 0, 3 };
static const struct consumer_protocol_topic_partition sample_tps[] = {
	{ .topic = KSTR("t1"), .partitions_count = 2, .partitions = (int32_t *)sample_partitions },
	{ .topic = KSTR("t2"), .partitions_count = 0 },
};

static const struct consumer_protocol_subscription sample_subscription = {
	.topics_count = 2,
	.topics = (struct kstr *)sample_topics,
	.user_data = { (const uint8_t *)"ud", 2 },
	.owned_partitions_count = 2,
	.owned_partitions = (struct consumer_protocol_topic_partition *)sample_tps,
	.generation_id = 5,
	.rack_id = KSTR("rack-a"),
};

static const struct consumer_protocol_assignment sample_assignment = {
	.assigned_partitions_count = 2,
	.assigned_partitions = (struct consumer_protocol_topic_partition *)sample_tps,
	.user_data = { (const uint8_t *)"x", 1 },
};

static void check_tps(int32_t want_count, const struct consumer_protocol_topic_partition *want,
                      int32_t got_count, const struct consumer_protocol_topic_partition *got)
{
	cr_assert_eq(got_count, want_count);
	for (int32_t i = 0; i < want_count; i++) {
		cr_assert(kstr_same(got[i].topic, want[i].topic));
		cr_assert_eq(got[i].partitions_count, want[i].partitions_count);
		for (int32_t j = 0; j < want[i].partitions_count; j++)
			cr_assert_eq(got[i].partitions[j], want[i].partitions[j]);
	}
}

/* The fields a version v has (v3's fields for anything newer) as in want, the rest default. */
static void check_subscription(const struct consumer_protocol_subscription *want,
                               const struct consumer_protocol_subscription *got, int16_t v)
{
	cr_assert_eq(got->topics_count, want->topics_count, "v%d topics", v);
	for (int32_t i = 0; i < want->topics_count; i++)
		cr_assert(kstr_same(got->topics[i], want->topics[i]), "v%d topic %d", v, i);
	cr_assert(kbytes_same(got->user_data, want->user_data), "v%d user_data", v);
	if (v >= 1)
		check_tps(want->owned_partitions_count, want->owned_partitions,
		          got->owned_partitions_count, got->owned_partitions);
	else
		cr_assert_eq(got->owned_partitions_count, 0, "v%d owned_partitions", v);
	cr_assert_eq(got->generation_id, v >= 2 ? want->generation_id : -1, "v%d generation", v);
	cr_assert(kstr_same(got->rack_id, v >= 3 ? want->rack_id : KSTR_NULL), "v%d rack_id", v);
}

static void check_assignment(const struct consumer_protocol_assignment *want,
                             const struct consumer_protocol_assignment *got)
{
	check_tps(want->assigned_partitions_count, want->assigned_partitions,
	          got->assigned_partitions_count, got->assigned_partitions);
	cr_assert(kbytes_same(got->user_data, want->user_data));
}

Test(consumer_protocol, round_trip_every_version)
{
	struct arena a;
	arena_init(&a, CHECK_ARENA_BYTES);
	const struct kbytes user_data[] = { { (const uint8_t *)"ud", 2 },
		                            { NULL, 0 },
		                            KBYTES_NULL };
	for (int16_t v = 0; v <= CONSUMER_PROTOCOL_SUBSCRIPTION_VERSION_MAX; v++) {
		for (size_t u = 0; u < sizeof(user_data) / sizeof(user_data[0]); u++) {
			struct consumer_protocol_subscription s = sample_subscription, got;
			s.user_data = user_data[u];
			s.rack_id = u == 2 ? KSTR_NULL : s.rack_id;
			struct buf b;
			CHECK_ENCODE(consumer_protocol_subscription, v, &s, &b);
			cr_assert_eq(
			    consumer_protocol_subscription_decode(payload_of(&b), &a, &got), 0,
			    "v%d", v);
			cr_assert_eq(got.version, v);
			check_subscription(&s, &got, v);
			buf_free(&b);
		}
	}
	for (int16_t v = 0; v <= CONSUMER_PROTOCOL_ASSIGNMENT_VERSION_MAX; v++) {
		for (size_t u = 0; u < sizeof(user_data) / sizeof(user_data[0]); u++) {
			struct consumer_protocol_assignment s = sample_assignment, got;
			s.user_data = user_data[u];
			struct buf b;
			CHECK_ENCODE(consumer_protocol_assignment, v, &s, &b);
			cr_assert_eq(consumer_protocol_assignment_decode(payload_of(&b), &a, &got),
			             0, "v%d", v);
			cr_assert_eq(got.version, v);
			check_assignment(&s, &got);
			buf_free(&b);
		}
	}
	arena_free(&a);
}

/* librdkafka 2.0.2 subscribing to "gt" (kafka-protocol.md §10.2, seen on the wire). */
static const uint8_t rdkafka_v1[] = {
	0x00, 0x01,                                   /* version */
	0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 'g', 't', /* topics ["gt"] */
	0x00, 0x00, 0x00, 0x00,                       /* user_data, empty */
	0x00, 0x00, 0x00, 0x00,                       /* owned_partitions [] */
};

/* kafkajs 2.2.4: v0, topics, empty user_data. */
static const uint8_t kafkajs_v0[] = {
	0x00, 0x00,                                   /* version */
	0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 'g', 't', /* topics ["gt"] */
	0x00, 0x00, 0x00, 0x00,                       /* user_data, empty */
};

/* Every field of v3; the offsets after each field are the boundaries in full_v3_ends. */
static const uint8_t full_v3[] = {
	0x00, 0x03,                                     /* version */
	0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 'a',        /* topics ["a"]           ends at 9 */
	0x00, 0x00, 0x00, 0x01, 'u',                    /* user_data "u"          ends at 14 */
	0x00, 0x00, 0x00, 0x01,                         /* owned_partitions */
	0x00, 0x01, 'a',                                /*   topic */
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, /*   partitions [1]       ends at 29 */
	0x00, 0x00, 0x00, 0x07,                         /* generation_id 7        ends at 33 */
	0x00, 0x01, 'r',                                /* rack_id "r"            ends at 36 */
};
static const size_t full_v3_ends[] = { 9, 14, 29, 33, 36 };

static const uint8_t assignment_v0[] = {
	0x00, 0x00,                                     /* version */
	0x00, 0x00, 0x00, 0x01,                         /* assigned_partitions */
	0x00, 0x02, 'g',  't',                          /*   topic */
	0x00, 0x00, 0x00, 0x02,                         /*   partitions */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /*     0, 1 */
	0xff, 0xff, 0xff, 0xff,                         /* user_data null */
};

static const struct kstr gt[] = { KSTR("gt") };
static const struct kstr just_a[] = { KSTR("a") };
static const int32_t just_1[] = { 1 };
static const struct consumer_protocol_topic_partition a_1[] = {
	{ .topic = KSTR("a"), .partitions_count = 1, .partitions = (int32_t *)just_1 },
};
static const struct consumer_protocol_subscription full = {
	.topics_count = 1,
	.topics = (struct kstr *)just_a,
	.user_data = { (const uint8_t *)"u", 1 },
	.owned_partitions_count = 1,
	.owned_partitions = (struct consumer_protocol_topic_partition *)a_1,
	.generation_id = 7,
	.rack_id = KSTR("r"),
};

Test(consumer_protocol, bytes_by_hand)
{
	struct consumer_protocol_subscription s = {
		.topics_count = 1,
		.topics = (struct kstr *)gt,
		.user_data = { NULL, 0 },
		.owned_partitions_count = 0,
	};
	CHECK_BYTES(consumer_protocol_subscription, 1, &s, rdkafka_v1);
	CHECK_BYTES(consumer_protocol_subscription, 0, &s, kafkajs_v0);
	CHECK_BYTES(consumer_protocol_subscription, 3, &full, full_v3);

	static const int32_t p01[] = { 0, 1 };
	static const struct consumer_protocol_topic_partition gt01 = {
		.topic = KSTR("gt"), .partitions_count = 2, .partitions = (int32_t *)p01
	};
	struct consumer_protocol_assignment as = {
		.assigned_partitions_count = 1,
		.assigned_partitions = (struct consumer_protocol_topic_partition *)&gt01,
		.user_data = KBYTES_NULL,
	};
	CHECK_BYTES(consumer_protocol_assignment, 0, &as, assignment_v0);

	struct arena a;
	struct consumer_protocol_subscription got;
	struct consumer_protocol_assignment got_as;
	arena_init(&a, CHECK_ARENA_BYTES);
	cr_assert_eq(consumer_protocol_subscription_decode(PAYLOAD(rdkafka_v1), &a, &got), 0);
	cr_assert_eq(got.version, 1);
	check_subscription(&s, &got, 1);
	cr_assert_eq(consumer_protocol_subscription_decode(PAYLOAD(kafkajs_v0), &a, &got), 0);
	cr_assert_eq(got.version, 0);
	check_subscription(&s, &got, 0);
	cr_assert_eq(consumer_protocol_subscription_decode(PAYLOAD(full_v3), &a, &got), 0);
	check_subscription(&full, &got, 3);
	cr_assert_eq(consumer_protocol_assignment_decode(PAYLOAD(assignment_v0), &a, &got_as), 0);
	cr_assert_eq(got_as.version, 0);
	check_assignment(&as, &got_as);
	arena_free(&a);
}

Test(consumer_protocol, newer_versions_read_as_the_newest_known)
{
	static const int16_t newer[] = { 4, 7, INT16_MAX };
	struct arena a;
	arena_init(&a, CHECK_ARENA_BYTES);
	for (size_t i = 0; i < sizeof(newer) / sizeof(newer[0]); i++) {
		/* v3's fields, then fields of the future. */
		uint8_t p[sizeof(full_v3) + 7];
		memcpy(p, full_v3, sizeof(full_v3));
		memcpy(p + sizeof(full_v3), "\x00\x00\x00\x02\x01\x02\x03", 7);
		p[0] = (uint8_t)(newer[i] >> 8);
		p[1] = (uint8_t)newer[i];
		struct consumer_protocol_subscription got;
		cr_assert_eq(consumer_protocol_subscription_decode(PAYLOAD(p), &a, &got), 0);
		cr_assert_eq(got.version, newer[i]);
		check_subscription(&full, &got, 3);
		/* A newer version that wrote only what v0 had. */
		uint8_t q[sizeof(kafkajs_v0)];
		memcpy(q, kafkajs_v0, sizeof(q));
		q[0] = p[0];
		q[1] = p[1];
		cr_assert_eq(consumer_protocol_subscription_decode(PAYLOAD(q), &a, &got), 0);
		cr_assert_eq(got.owned_partitions_count, 0);
		cr_assert_eq(got.generation_id, -1);
		cr_assert(kstr_is_null(got.rack_id));

		uint8_t r[sizeof(assignment_v0) + 3];
		memcpy(r, assignment_v0, sizeof(assignment_v0));
		memcpy(r + sizeof(assignment_v0), "\x01\x02\x03", 3);
		r[0] = p[0];
		r[1] = p[1];
		struct consumer_protocol_assignment got_as;
		cr_assert_eq(consumer_protocol_assignment_decode(PAYLOAD(r), &a, &got_as), 0);
		cr_assert_eq(got_as.version, newer[i]);
		cr_assert_eq(got_as.assigned_partitions_count, 1);
		cr_assert_eq(got_as.assigned_partitions[0].partitions[1], 1);
		cr_assert(got_as.user_data.len == -1);
	}
	arena_free(&a);
}

Test(consumer_protocol, trailing_bytes_are_ignored)
{
	struct arena a;
	arena_init(&a, CHECK_ARENA_BYTES);
	uint8_t p[sizeof(kafkajs_v0) + 3];
	memcpy(p, kafkajs_v0, sizeof(kafkajs_v0));
	memcpy(p + sizeof(kafkajs_v0), "\xff\xff\xff", 3);
	struct consumer_protocol_subscription got;
	cr_assert_eq(consumer_protocol_subscription_decode(PAYLOAD(p), &a, &got), 0);
	cr_assert_eq(got.topics_count, 1);
	cr_assert_eq(got.user_data.len, 0);
	cr_assert_eq(got.owned_partitions_count, 0);
	arena_free(&a);
}

Test(consumer_protocol, optional_tail)
{
	struct arena a;
	arena_init(&a, CHECK_ARENA_BYTES);
	size_t e = 0;
	for (size_t n = 0; n <= sizeof(full_v3); n++) {
		uint8_t *p = check_copy(full_v3, n, 0);
		struct consumer_protocol_subscription got;
		int rc = consumer_protocol_subscription_decode((struct kbytes){ p, (int32_t)n }, &a,
		                                               &got);
		bool boundary =
		    e < sizeof(full_v3_ends) / sizeof(full_v3_ends[0]) && n == full_v3_ends[e];
		if (!boundary) {
			cr_assert_eq(rc, -TAPE_EPROTO, "%zu bytes accepted", n);
			free(p);
			continue;
		}
		cr_assert_eq(rc, 0, "%zu bytes (a field boundary) refused", n);
		/* Fields 0..e are there, the others default. */
		cr_assert_eq(got.topics_count, 1);
		cr_assert(kbytes_same(got.user_data, e >= 1 ? full.user_data : KBYTES_NULL));
		cr_assert_eq(got.owned_partitions_count, e >= 2 ? 1 : 0);
		cr_assert_eq(got.generation_id, e >= 3 ? 7 : -1);
		cr_assert(kstr_same(got.rack_id, e >= 4 ? full.rack_id : KSTR_NULL));
		e++;
		free(p);
	}
	cr_assert_eq(e, sizeof(full_v3_ends) / sizeof(full_v3_ends[0]));

	/* The assignment: up to the end of assigned_partitions is enough. */
	size_t ends[] = { 0, sizeof(assignment_v0) - 4, sizeof(assignment_v0) };
	e = 0;
	for (size_t n = 0; n <= sizeof(assignment_v0); n++) {
		uint8_t *p = check_copy(assignment_v0, n, 0);
		struct consumer_protocol_assignment got;
		int rc =
		    consumer_protocol_assignment_decode((struct kbytes){ p, (int32_t)n }, &a, &got);
		free(p);
		if (e < 3 && n == ends[e]) {
			cr_assert_eq(rc, 0, "%zu bytes refused", n);
			cr_assert_eq(got.assigned_partitions_count, n ? 1 : 0);
			cr_assert_eq(got.user_data.len, -1);
			e++;
		} else {
			cr_assert_eq(rc, -TAPE_EPROTO, "%zu bytes accepted", n);
		}
	}
	arena_free(&a);
}

Test(consumer_protocol, refused)
{
	struct arena a;
	struct consumer_protocol_subscription s;
	struct consumer_protocol_assignment as;
	arena_init(&a, CHECK_ARENA_BYTES);
	cr_assert_eq(consumer_protocol_subscription_decode(KBYTES_NULL, &a, &s), -TAPE_EPROTO);
	cr_assert_eq(consumer_protocol_assignment_decode(KBYTES_NULL, &a, &as), -TAPE_EPROTO);
	cr_assert_eq(consumer_protocol_subscription_decode((struct kbytes){ NULL, 0 }, &a, &s),
	             -TAPE_EPROTO);
	/* An empty assignment is one. */
	cr_assert_eq(consumer_protocol_assignment_decode((struct kbytes){ NULL, 0 }, &a, &as), 0);
	cr_assert(as.assigned_partitions_count == 0 && as.user_data.len == -1);

	uint8_t negative[sizeof(kafkajs_v0)];
	memcpy(negative, kafkajs_v0, sizeof(negative));
	negative[0] = 0x80;
	cr_assert_eq(consumer_protocol_subscription_decode(PAYLOAD(negative), &a, &s),
	             -TAPE_EPROTO);
	uint8_t negative_as[sizeof(assignment_v0)];
	memcpy(negative_as, assignment_v0, sizeof(negative_as));
	negative_as[0] = 0xff;
	cr_assert_eq(consumer_protocol_assignment_decode(PAYLOAD(negative_as), &a, &as),
	             -TAPE_EPROTO);
	arena_free(&a);

	static const uint8_t bad[][20] = {
		/* topics: 2^31-1 */
		{ 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 1, 'a', 0, 0, 0, 0 },
		/* topics: null (not nullable) */
		{ 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 },
		/* user_data: 2 GiB */
		{ 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3 },
		/* user_data: length -2 */
		{ 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xfe },
		/* owned_partitions: 2^28 */
		{ 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0 },
		/* rack_id: length 0x7fff */
		{ 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff },
	};
	static const size_t bad_len[] = { 13, 10, 13, 10, 16, 20 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		arena_init(&a, CHECK_ARENA_BYTES);
		uint8_t *p = check_copy(bad[i], bad_len[i], 0);
		int rc = consumer_protocol_subscription_decode(
		    (struct kbytes){ p, (int32_t)bad_len[i] }, &a, &s);
		free(p);
		cr_assert_eq(rc, -TAPE_EPROTO, "bad subscription %zu accepted", i);
		cr_assert_leq(a.used, CHECK_SMALL_ARENA_BYTES, "bad subscription %zu", i);
		arena_free(&a);
	}
	/* An assignment with 2^24 partitions of one topic. */
	static const uint8_t many[] = { 0, 0, 0, 0, 0, 1, 0, 1, 't', 0, 0x01, 0, 0, 0, 0, 0, 1 };
	arena_init(&a, CHECK_ARENA_BYTES);
	cr_assert_eq(consumer_protocol_assignment_decode(PAYLOAD(many), &a, &as), -TAPE_EPROTO);
	cr_assert_leq(a.used, CHECK_SMALL_ARENA_BYTES);
	arena_free(&a);
}

Test(consumer_protocol, encoder_refuses)
{
	static const int16_t bad_versions[] = { -1, 4, INT16_MAX, INT16_MIN };
	for (size_t i = 0; i < sizeof(bad_versions) / sizeof(bad_versions[0]); i++) {
		struct buf b;
		buf_init(&b, CHECK_BUF_BYTES);
		consumer_protocol_subscription_encode(&b, bad_versions[i], &sample_subscription);
		cr_assert(!buf_ok(&b));
		buf_free(&b);
		buf_init(&b, CHECK_BUF_BYTES);
		consumer_protocol_assignment_encode(&b, bad_versions[i], &sample_assignment);
		cr_assert(!buf_ok(&b));
		buf_free(&b);
	}
	static const struct kstr null_topic[] = { KSTR_NULL };
	struct consumer_protocol_subscription s = sample_subscription;
	s.topics = (struct kstr *)null_topic;
	s.topics_count = 1;
	struct buf b;
	buf_init(&b, CHECK_BUF_BYTES);
	consumer_protocol_subscription_encode(&b, 0, &s);
	cr_assert(!buf_ok(&b));
	buf_free(&b);
	struct consumer_protocol_assignment as = sample_assignment;
	as.assigned_partitions_count = -1;
	buf_init(&b, CHECK_BUF_BYTES);
	consumer_protocol_assignment_encode(&b, 0, &as);
	cr_assert(!buf_ok(&b));
	buf_free(&b);
}
