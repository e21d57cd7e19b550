/*
 * tests/unit/consumer-groups/test_assign.c: the assignors of consumer-groups/assign.c.
 *
 * Known answers: Kafka's own test cases (RangeAssignorTest, RoundRobinAssignorTest,
 * AbstractStickyAssignorTest, CooperativeStickyAssignorTest) with the assignments Kafka expects,
 * written as "topic-partition" lists; Java's string order (supplementary characters before
 * U+E000-U+FFFF) in member and topic order; the generation read from each subscription format;
 * the subscriptions librdkafka and kafkajs send, decoded and assigned; the payload helpers byte
 * for byte; assignor_find; bad input refused.
 *
 * Properties, over thousands of random groups (1-20 members, 1-10 topics of 1-50 partitions,
 * random subscriptions, some static members) built by tests/support/assign_world.c:
 *   - every assignor: each subscribed partition assigned once, to a member subscribed to its
 *     topic, nothing else assigned; range gives each topic's subscribers contiguous ranges
 *     within one of each other; roundrobin sizes within one when subscriptions are equal;
 *   - cooperative-sticky, all subscriptions equal: from scratch one round settles the group
 *     evenly; after members leave and join, the first round revokes exactly as many partitions
 *     as balance requires (a lower bound computed from the sizes) and gives none that another
 *     member still owns, the second round revokes nothing and completes an even assignment;
 *   - cooperative-sticky, subscriptions differ, and random conflicting claims with random
 *     generations: every round gives a partition only to the member whose claim stands or to
 *     anyone if none claims it, and within a few rounds the group settles into a complete
 *     assignment that is balanced as Kafka's tests define it. The balancing loop asserts its
 *     bound, and Java's PartitionMovements choice makes it cycle on groups these tests build,
 *     so property_sticky_general also guards that deviation (assign.c's header).
 */
#include "consumer-groups/assign.h"

#include "base/errors.h"
#include "base/limits.h"
#include "tests/support/assign_world.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static struct arena arena;

static void setup(void)
{
	arena_init(&arena, 256 * MiB);
}

static void teardown(void)
{
	arena_free(&arena);
}

TestSuite(assign, .init = setup, .fini = teardown);

/* ---- known answers ------------------------------------------------------------------------- */

/* A member for the known-answer tests: topics "a,b", owned "a-0,b-1". */
struct km {
	const char *id;
	const char *instance; /* NULL: dynamic */
	const char *topics;
	const char *owned;
	int32_t generation;
};

static char *dup_str(const char *s)
{
	char *d = arena_alloc(&arena, strlen(s) + 1);
	memcpy(d, s, strlen(s) + 1);
	return d;
}

/* Splits "x,y,z" (NULL: none) into arena copies. */
static int32_t split(const char *list, char ***out)
{
	int32_t n = 0;
	char **v = arena_array(&arena, 64, sizeof(*v));
	if (list && *list) {
		char *s = dup_str(list), *save = NULL;
		for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			v[n++] = tok;
	}
	*out = v;
	return n;
}

static void owned_of(const char *owned, struct consumer_protocol_subscription *s)
{
	char **v;
	int32_t n = split(owned, &v);
	s->owned_partitions = arena_array(&arena, 64, sizeof(*s->owned_partitions));
	for (int32_t i = 0; i < n; i++) {
		char *dash = strrchr(v[i], '-');
		*dash = 0;
		struct consumer_protocol_topic_partition *tp = NULL;
		for (int32_t k = 0; k < s->owned_partitions_count; k++)
			if (kstr_eq(s->owned_partitions[k].topic, v[i]))
				tp = &s->owned_partitions[k];
		if (!tp) {
			tp = &s->owned_partitions[s->owned_partitions_count++];
			tp->topic = kstr_from(v[i]);
			tp->partitions = arena_array(&arena, 64, sizeof(int32_t));
		}
		tp->partitions[tp->partitions_count++] = atoi(dash + 1);
	}
}

/* metadata: "topic1:3,topic2:2". */
static struct assign_group group_of(const char *metadata, const struct km *km, int32_t n)
{
	char **v;
	int32_t nt = split(metadata, &v);
	struct assign_topic *topics = arena_array(&arena, (size_t)nt + 1, sizeof(*topics));
	for (int32_t i = 0; i < nt; i++) {
		char *colon = strchr(v[i], ':');
		*colon = 0;
		topics[i] = (struct assign_topic){ kstr_from(v[i]), atoi(colon + 1) };
	}
	struct assign_member *members = arena_array(&arena, (size_t)n + 1, sizeof(*members));
	for (int32_t i = 0; i < n; i++) {
		struct consumer_protocol_subscription *s = &members[i].subscription;
		members[i].member_id = kstr_from(km[i].id);
		members[i].group_instance_id = kstr_from(km[i].instance);
		char **names;
		s->topics_count = split(km[i].topics, &names);
		s->topics = arena_array(&arena, 64, sizeof(*s->topics));
		for (int32_t k = 0; k < s->topics_count; k++)
			s->topics[k] = kstr_from(names[k]);
		s->user_data = (struct kbytes){ NULL, -1 };
		s->generation_id = km[i].generation;
		owned_of(km[i].owned, s);
	}
	return (struct assign_group){ n, members, nt, topics };
}

static struct assign_result run(assign_fn fn, const char *metadata, const struct km *km, int32_t n)
{
	struct assign_group grp = group_of(metadata, km, n);
	struct assign_result r;
	int rc = fn(&grp, &arena, &r);
	cr_assert_eq(rc, 0, "assign: %s", tape_strerror(rc));
	return r;
}

/* "topic1-0 topic1-2 topic2-1". */
static const char *show(const struct consumer_protocol_assignment *asg)
{
	char *s = arena_alloc(&arena, 4096), *at = s;
	*s = 0;
	for (int32_t k = 0; k < asg->assigned_partitions_count; k++) {
		const struct consumer_protocol_topic_partition *tp = &asg->assigned_partitions[k];
		for (int32_t j = 0; j < tp->partitions_count; j++)
			at += sprintf(at, "%s%.*s-%d", at == s ? "" : " ", tp->topic.len,
			              tp->topic.p, tp->partitions[j]);
	}
	return s;
}

#define EXPECT(r, i, want) cr_assert_str_eq(show(&(r).assignments[i]), (want), "member %d", (i))

/* The members owned what the previous round gave them; now at generation. */
static void next_round(struct km *km, int32_t n, const struct assign_result *r, int32_t gen)
{
	for (int32_t i = 0; i < n; i++) {
		char *s = dup_str(show(&r->assignments[i]));
		for (char *c = s; *c; c++)
			if (*c == ' ')
				*c = ',';
		km[i].owned = s;
		km[i].generation = gen;
	}
}

Test(assign, range_kafka_single_consumer_cases)
{
	struct km c = { "consumer1", NULL, "", NULL, -1 };
	EXPECT(run(assign_range, "", &c, 1), 0, "");
	c.topics = "topic1";
	EXPECT(run(assign_range, "", &c, 1), 0, "");
	EXPECT(run(assign_range, "topic1:3", &c, 1), 0, "topic1-0 topic1-1 topic1-2");
	EXPECT(run(assign_range, "topic1:3,other:3", &c, 1), 0, "topic1-0 topic1-1 topic1-2");
	c.topics = "topic1,topic2";
	EXPECT(run(assign_range, "topic1:1,topic2:2", &c, 1), 0, "topic1-0 topic2-0 topic2-1");
}

Test(assign, range_kafka_two_consumers)
{
	struct km c[] = { { "consumer1", NULL, "topic1", NULL, -1 },
		          { "consumer2", NULL, "topic1", NULL, -1 } };
	struct assign_result r = run(assign_range, "topic1:1", c, 2);
	EXPECT(r, 0, "topic1-0");
	EXPECT(r, 1, "");
	r = run(assign_range, "topic1:2", c, 2);
	EXPECT(r, 0, "topic1-0");
	EXPECT(r, 1, "topic1-1");
	/* The brief's example: 2 members, 2 topics x 3 partitions. */
	c[0].topics = c[1].topics = "topic1,topic2";
	r = run(assign_range, "topic1:3,topic2:3", c, 2);
	EXPECT(r, 0, "topic1-0 topic1-1 topic2-0 topic2-1");
	EXPECT(r, 1, "topic1-2 topic2-2");
}

Test(assign, range_kafka_mixed_topics)
{
	struct km c[] = { { "consumer1", NULL, "topic1", NULL, -1 },
		          { "consumer2", NULL, "topic1,topic2", NULL, -1 },
		          { "consumer3", NULL, "topic1", NULL, -1 } };
	struct assign_result r = run(assign_range, "topic1:3,topic2:2", c, 3);
	EXPECT(r, 0, "topic1-0");
	EXPECT(r, 1, "topic1-1 topic2-0 topic2-1");
	EXPECT(r, 2, "topic1-2");
}

/* Static members sort by group instance id, and before dynamic members. */
Test(assign, range_kafka_static_members)
{
	struct km c[] = { { "consumer-b", "instance1", "topic1,topic2", NULL, -1 },
		          { "consumer-a", "instance2", "topic1,topic2", NULL, -1 } };
	struct assign_result r = run(assign_range, "topic1:3,topic2:3", c, 2);
	EXPECT(r, 0, "topic1-0 topic1-1 topic2-0 topic2-1");
	EXPECT(r, 1, "topic1-2 topic2-2");
	c[1].instance = NULL;
	r = run(assign_range, "topic1:3,topic2:3", c, 2);
	EXPECT(r, 0, "topic1-0 topic1-1 topic2-0 topic2-1");
	EXPECT(r, 1, "topic1-2 topic2-2");
}

/* testStaticMemberRangeAssignmentPersistent: three static members keep their partitions when
 * the dynamic member is replaced. */
Test(assign, range_kafka_static_members_persist)
{
	struct km c[] = { { "consumer1", "instance1", "topic1,topic2", NULL, -1 },
		          { "consumer2", "instance2", "topic1,topic2", NULL, -1 },
		          { "consumer3", "instance3", "topic1,topic2", NULL, -1 },
		          { "consumer4", NULL, "topic1,topic2", NULL, -1 } };
	for (int round = 0; round < 2; round++) {
		struct assign_result r = run(assign_range, "topic1:5,topic2:4", c, 4);
		EXPECT(r, 0, "topic1-0 topic1-1 topic2-0");
		EXPECT(r, 1, "topic1-2 topic2-1");
		EXPECT(r, 2, "topic1-3 topic2-2");
		EXPECT(r, 3, "topic1-4 topic2-3");
		c[3].id = "consumer5";
	}
	/* ...AfterMemberIdChanges: the instances keep theirs when their member ids change. */
	struct km s[] = { { "consumer1", "instance1", "topic1,topic2", NULL, -1 },
		          { "consumer2", "instance2", "topic1,topic2", NULL, -1 },
		          { "consumer3", "instance3", "topic1,topic2", NULL, -1 } };
	for (int round = 0; round < 2; round++) {
		struct assign_result r = run(assign_range, "topic1:5,topic2:5", s, 3);
		EXPECT(r, 0, "topic1-0 topic1-1 topic2-0 topic2-1");
		EXPECT(r, 1, "topic1-2 topic1-3 topic2-2 topic2-3");
		EXPECT(r, 2, "topic1-4 topic2-4");
		s[1].id = "consumer5";
		s[2].id = "consumer4";
	}
}

Test(assign, roundrobin_kafka_single_consumer_cases)
{
	struct km c = { "consumer", NULL, "", NULL, -1 };
	EXPECT(run(assign_roundrobin, "", &c, 1), 0, "");
	c.topics = "topic";
	EXPECT(run(assign_roundrobin, "", &c, 1), 0, "");
	EXPECT(run(assign_roundrobin, "topic:3", &c, 1), 0, "topic-0 topic-1 topic-2");
	EXPECT(run(assign_roundrobin, "topic:3,other:3", &c, 1), 0, "topic-0 topic-1 topic-2");
	c.topics = "topic1,topic2";
	EXPECT(run(assign_roundrobin, "topic1:1,topic2:2", &c, 1), 0, "topic1-0 topic2-0 topic2-1");
}

Test(assign, roundrobin_kafka_several_consumers)
{
	struct km c[] = { { "consumer1", NULL, "topic", NULL, -1 },
		          { "consumer2", NULL, "topic", NULL, -1 },
		          { "consumer3", NULL, "topic1", NULL, -1 } };
	struct assign_result r = run(assign_roundrobin, "topic:1", c, 2);
	EXPECT(r, 0, "topic-0");
	EXPECT(r, 1, "");
	r = run(assign_roundrobin, "topic:2", c, 2);
	EXPECT(r, 0, "topic-0");
	EXPECT(r, 1, "topic-1");
	/* testMultipleConsumersMixedTopics: consumer2 alone takes topic2. */
	c[0].topics = "topic1";
	c[1].topics = "topic1,topic2";
	r = run(assign_roundrobin, "topic1:3,topic2:2", c, 3);
	EXPECT(r, 0, "topic1-0");
	EXPECT(r, 1, "topic1-1 topic2-0 topic2-1");
	EXPECT(r, 2, "topic1-2");
	/* The brief's example: 2 members, 2 topics x 3 partitions. */
	c[0].topics = c[1].topics = "topic1,topic2";
	r = run(assign_roundrobin, "topic1:3,topic2:3", c, 2);
	EXPECT(r, 0, "topic1-0 topic1-2 topic2-1");
	EXPECT(r, 1, "topic1-1 topic2-0 topic2-2");
}

Test(assign, roundrobin_kafka_static_members)
{
	struct km c[] = { { "consumer-b", "instance1", "topic1,topic2", NULL, -1 },
		          { "consumer-a", "instance2", "topic1,topic2", NULL, -1 } };
	struct assign_result r = run(assign_roundrobin, "topic1:3,topic2:3", c, 2);
	EXPECT(r, 0, "topic1-0 topic1-2 topic2-1");
	EXPECT(r, 1, "topic1-1 topic2-0 topic2-2");
	c[1].instance = NULL;
	r = run(assign_roundrobin, "topic1:3,topic2:3", c, 2);
	EXPECT(r, 0, "topic1-0 topic1-2 topic2-1");
	EXPECT(r, 1, "topic1-1 topic2-0 topic2-2");
}

/* Java compares strings in UTF-16 code units: U+1F600 (surrogates D83D DE00) sorts before
 * U+E000, though its UTF-8 bytes (F0 ...) sort after (EE ...). Topic and member order both. */
Test(assign, java_string_order)
{
	struct km c[] = { { "a", NULL, "\xee\x80\x80,\xf0\x9f\x98\x80", NULL, -1 },
		          { "b", NULL, "\xee\x80\x80,\xf0\x9f\x98\x80", NULL, -1 } };
	struct assign_result r = run(assign_roundrobin, "\xee\x80\x80:1,\xf0\x9f\x98\x80:1", c, 2);
	EXPECT(r, 0, "\xf0\x9f\x98\x80-0");
	EXPECT(r, 1, "\xee\x80\x80-0");
	struct km m[] = { { "\xef\xbf\xbf", NULL, "t", NULL, -1 },
		          { "\xf0\x90\x80\x80", NULL, "t", NULL, -1 },
		          { "\xed\x9f\xbf", NULL, "t", NULL, -1 } };
	r = run(assign_range, "t:3", m, 3);
	EXPECT(r, 2, "t-0"); /* U+D7FF */
	EXPECT(r, 1, "t-1"); /* U+10000 */
	EXPECT(r, 0, "t-2"); /* U+FFFF */
}

/* AbstractStickyAssignorTest.testTwoConsumersTwoTopicsSixPartitions, from scratch. */
Test(assign, sticky_kafka_fresh)
{
	struct km c[] = { { "consumer1", NULL, "topic1,topic2", NULL, -1 },
		          { "consumer2", NULL, "topic1,topic2", NULL, -1 } };
	struct assign_result r = run(assign_cooperative_sticky, "topic1:3,topic2:3", c, 2);
	EXPECT(r, 0, "topic1-0 topic1-2 topic2-1");
	EXPECT(r, 1, "topic1-1 topic2-0 topic2-2");
	cr_assert_eq(r.pending_count, 0);
}

/* AbstractStickyAssignorTest.testMultipleConsumersMixedTopicSubscriptions (general builder). */
Test(assign, sticky_kafka_mixed_subscriptions)
{
	struct km c[] = { { "consumer1", NULL, "topic1", NULL, -1 },
		          { "consumer2", NULL, "topic1,topic2", NULL, -1 },
		          { "consumer3", NULL, "topic1", NULL, -1 } };
	struct assign_result r = run(assign_cooperative_sticky, "topic1:3,topic2:2", c, 3);
	EXPECT(r, 0, "topic1-0 topic1-2");
	EXPECT(r, 1, "topic2-0 topic2-1");
	EXPECT(r, 2, "topic1-1");
}

/* CooperativeStickyAssignorTest.testAddRemoveConsumerOneTopic: the joiner gets nothing until
 * the partition it will get has been revoked; then it gets it; then the other one leaves. */
Test(assign, sticky_kafka_add_remove_consumer)
{
	struct km c[] = { { "consumer", NULL, "topic", NULL, -1 },
		          { "consumer2", NULL, "topic", NULL, -1 } };
	struct assign_result r = run(assign_cooperative_sticky, "topic:3", c, 1);
	EXPECT(r, 0, "topic-0 topic-1 topic-2");
	next_round(c, 1, &r, 1);
	r = run(assign_cooperative_sticky, "topic:3", c, 2);
	EXPECT(r, 0, "topic-0 topic-1");
	EXPECT(r, 1, "");
	cr_assert_eq(r.pending_count, 1);
	next_round(c, 2, &r, 2);
	r = run(assign_cooperative_sticky, "topic:3", c, 2);
	EXPECT(r, 0, "topic-0 topic-1");
	EXPECT(r, 1, "topic-2");
	cr_assert_eq(r.pending_count, 0);
	next_round(c, 2, &r, 3);
	r = run(assign_cooperative_sticky, "topic:3", c + 1, 1);
	EXPECT(r, 0, "topic-0 topic-1 topic-2");
}

/* CooperativeStickyAssignorTest.testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedBy-
 * MultipleConsumersInSameGenerationWithEqualPartitionsPerConsumer. */
Test(assign, sticky_kafka_claimed_twice_in_one_generation)
{
	struct km c[] = { { "consumer1", NULL, "topic", "topic-0,topic-1", 1 },
		          { "consumer2", NULL, "topic", "topic-0,topic-2", 1 },
		          { "consumer3", NULL, "topic", NULL, 1 } };
	struct assign_result r = run(assign_cooperative_sticky, "topic:3", c, 3);
	EXPECT(r, 0, "topic-1");
	EXPECT(r, 1, "topic-2");
	EXPECT(r, 2, ""); /* topic-0 waits until both have revoked it */
	cr_assert_eq(r.pending_count, 1);
}

/* CooperativeStickyAssignorTest.testOwnedPartitionsInvalidatedForConsumerWithMultiple-
 * Generation: the older generation's claims on topic-0 and topic2-1 lose. */
Test(assign, sticky_kafka_older_generation_loses)
{
	struct km c[] = { { "consumer1", NULL, "topic,topic2", "topic-0,topic2-1,topic-1", 5 },
		          { "consumer2", NULL, "topic,topic2", "topic-0,topic2-1,topic2-2", 4 } };
	struct assign_result r = run(assign_cooperative_sticky, "topic:3,topic2:3", c, 2);
	EXPECT(r, 0, "topic-0 topic-1 topic2-1");
	EXPECT(r, 1, "topic-2 topic2-0 topic2-2");
	cr_assert_eq(r.pending_count, 0);
}

/* A third member joins two that own three partitions each: each gives up its last one, which
 * the joiner gets only in the next round. */
Test(assign, sticky_joiner_waits_for_revocations)
{
	struct km c[] = { { "c1", NULL, "t", "t-0,t-1,t-2", 1 },
		          { "c2", NULL, "t", "t-3,t-4,t-5", 1 },
		          { "c3", NULL, "t", NULL, -1 } };
	struct assign_result r = run(assign_cooperative_sticky, "t:6", c, 3);
	EXPECT(r, 0, "t-0 t-1");
	EXPECT(r, 1, "t-3 t-4");
	EXPECT(r, 2, "");
	cr_assert_eq(r.pending_count, 2);
	next_round(c, 3, &r, 2);
	r = run(assign_cooperative_sticky, "t:6", c, 3);
	EXPECT(r, 0, "t-0 t-1");
	EXPECT(r, 1, "t-3 t-4");
	EXPECT(r, 2, "t-2 t-5");
	cr_assert_eq(r.pending_count, 0);
}

/* General builder: c1 drops topic a; its a-0 goes to c2 only after c1 revoked it. */
Test(assign, sticky_unsubscribed_topic_is_revoked_first)
{
	struct km c[] = { { "c1", NULL, "b", "a-0,b-0", 1 }, { "c2", NULL, "a", "a-1", 1 } };
	struct assign_result r = run(assign_cooperative_sticky, "a:2,b:1", c, 2);
	EXPECT(r, 0, "b-0");
	EXPECT(r, 1, "a-1");
	cr_assert_eq(r.pending_count, 1);
	next_round(c, 2, &r, 2);
	r = run(assign_cooperative_sticky, "a:2,b:1", c, 2);
	EXPECT(r, 0, "b-0");
	EXPECT(r, 1, "a-0 a-1");
	cr_assert_eq(r.pending_count, 0);
}

/* Owned partitions that do not exist, of unknown topics, negative or repeated, are ignored. */
Test(assign, sticky_ignores_impossible_claims)
{
	struct km c[] = { { "c1", NULL, "t", "t-0,t-0,t-9,t--1,ghost-0", 1 },
		          { "c2", NULL, "t", "t-1", 1 } };
	struct assign_result r = run(assign_cooperative_sticky, "t:2", c, 2);
	EXPECT(r, 0, "t-0");
	EXPECT(r, 1, "t-1");
	cr_assert_eq(r.pending_count, 0);
}

/* ---- generations, payloads, lookup, bad input ---------------------------------------------- */

Test(assign, member_generation_from_each_format)
{
	struct consumer_protocol_subscription s = { .generation_id = 9, .user_data = { NULL, -1 } };
	cr_assert_eq(assign_member_generation(&s), 9);
	s.generation_id = -1;
	cr_assert_eq(assign_member_generation(&s), -1);
	/* Kafka's CooperativeStickyAssignor user data: int32 generation. */
	static const uint8_t coop[] = { 0, 0, 0, 7 };
	s.user_data = (struct kbytes){ coop, 4 };
	cr_assert_eq(assign_member_generation(&s), 7);
	/* librdkafka's (StickyAssignor v1): [topic [partition]] generation. */
	static const uint8_t sticky[] = { 0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 2, 0,
		                          0, 0, 0, 0, 0, 0, 3,   0, 0, 0, 12 };
	s.user_data = (struct kbytes){ sticky, sizeof(sticky) };
	cr_assert_eq(assign_member_generation(&s), 12);
	s.user_data = (struct kbytes){ sticky, sizeof(sticky) - 1 };
	cr_assert_eq(assign_member_generation(&s), -1);
	s.user_data = (struct kbytes){ coop, 3 };
	cr_assert_eq(assign_member_generation(&s), -1);
	static const uint8_t absurd[] = { 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1 };
	s.user_data = (struct kbytes){ absurd, sizeof(absurd) };
	cr_assert_eq(assign_member_generation(&s), -1);
	/* The v2 field wins over user data. */
	s.generation_id = 3;
	cr_assert_eq(assign_member_generation(&s), 3);
}

/* A librdkafka member (v1 subscription, generation 7 in user data) beats a v2 member of
 * generation 5 on a partition both claim. */
Test(assign, sticky_generation_from_user_data_decides_conflicts)
{
	struct km c[] = { { "a", NULL, "t", "t-0", 5 }, { "b", NULL, "t", "t-0", -1 } };
	struct assign_group grp = group_of("t:2", c, 2);
	static const uint8_t ud[] = { 0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7 };
	((struct assign_member *)grp.members)[1].subscription.user_data =
	    (struct kbytes){ ud, sizeof(ud) };
	struct assign_result r;
	cr_assert_eq(assign_cooperative_sticky(&grp, &arena, &r), 0);
	EXPECT(r, 0, "t-1");
	EXPECT(r, 1, "t-0");
}

Test(assign, assignor_find_by_name)
{
	cr_assert_eq(assignor_find(KSTR("range"))->assign, assign_range);
	cr_assert_eq(assignor_find(KSTR("roundrobin"))->assign, assign_roundrobin);
	cr_assert_eq(assignor_find(KSTR("RoundRobinAssigner"))->assign, assign_roundrobin);
	cr_assert_str_eq(assignor_find(KSTR("RoundRobinAssigner"))->name, "RoundRobinAssigner");
	const struct assignor *cs = assignor_find(KSTR("cooperative-sticky"));
	cr_assert_eq(cs->assign, assign_cooperative_sticky);
	cr_assert_eq(cs->rebalance, ASSIGN_COOPERATIVE);
	cr_assert_eq(assignor_find(KSTR("range"))->rebalance, ASSIGN_EAGER);
	cr_assert_null(assignor_find(KSTR("sticky")));
	cr_assert_null(assignor_find(KSTR("Range")));
	cr_assert_null(assignor_find(KSTR("")));
	cr_assert_null(assignor_find(KSTR_NULL));
}

Test(assign, subscription_payload_round_trip)
{
	static const struct kstr topics[] = { KSTR("a"), KSTR("b") };
	static const int32_t parts[] = { 1, 4 };
	static const struct consumer_protocol_topic_partition owned[] = {
		{ .topic = KSTR("a"), .partitions_count = 2, .partitions = (int32_t *)parts },
	};
	struct buf b;
	buf_init(&b, 1 * MiB);
	assign_encode_subscription(&b, assignor_find(KSTR("cooperative-sticky")), 2, topics, 1,
	                           owned, 6);
	cr_assert(buf_ok(&b));
	struct assign_member m;
	cr_assert_eq(assign_member_decode(&m, KSTR("m1"), KSTR_NULL,
	                                  (struct kbytes){ b.p, (int32_t)b.len }, &arena),
	             0);
	const struct consumer_protocol_subscription *s = &m.subscription;
	cr_assert_eq(s->version, 3);
	cr_assert_eq(s->topics_count, 2);
	cr_assert(kstr_eq(s->topics[1], "b"));
	cr_assert_eq(s->owned_partitions_count, 1);
	cr_assert_eq(s->owned_partitions[0].partitions[1], 4);
	cr_assert_eq(s->generation_id, 6);
	cr_assert_eq(s->user_data.len, 4);
	cr_assert_eq(s->user_data.p[3], 6);
	cr_assert_eq(assign_member_generation(s), 6);
	cr_assert(kstr_eq(m.member_id, "m1") && kstr_is_null(m.group_instance_id));
	/* Eager: no user data. */
	buf_clear(&b);
	assign_encode_subscription(&b, assignor_find(KSTR("range")), 2, topics, 0, NULL, -1);
	cr_assert_eq(assign_member_decode(&m, KSTR("m1"), KSTR("i1"),
	                                  (struct kbytes){ b.p, (int32_t)b.len }, &arena),
	             0);
	cr_assert_eq(m.subscription.user_data.len, -1);
	cr_assert_eq(m.subscription.owned_partitions_count, 0);
	cr_assert_eq(assign_member_generation(&m.subscription), -1);
	static const uint8_t junk[] = { 0xff, 0xff };
	cr_assert_eq(
	    assign_member_decode(&m, KSTR("m1"), KSTR_NULL, (struct kbytes){ junk, 2 }, &arena),
	    -TAPE_EPROTO);
	buf_free(&b);
}

/* The subscriptions real clients send (kafka-protocol.md §10.2): librdkafka 2.0.2 writes v1
 * with empty user data and no owned partitions, kafkajs 2.2.4 v0 with empty user data. */
Test(assign, real_client_subscriptions)
{
	static const uint8_t librdkafka[] = { 0,   1, 0, 0, 0, 1, 0, 2, 'g',
		                              't', 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t kafkajs[] = { 0, 0, 0, 0, 0, 1, 0, 2, 'g', 't', 0, 0, 0, 0 };
	struct assign_member m[2];
	cr_assert_eq(assign_member_decode(&m[0], KSTR("rdkafka-1"), KSTR_NULL,
	                                  (struct kbytes){ librdkafka, sizeof(librdkafka) },
	                                  &arena),
	             0);
	cr_assert_eq(assign_member_decode(&m[1], KSTR("kafkajs-1"), KSTR_NULL,
	                                  (struct kbytes){ kafkajs, sizeof(kafkajs) }, &arena),
	             0);
	cr_assert_eq(assign_member_generation(&m[0].subscription), -1);
	cr_assert_eq(assign_member_generation(&m[1].subscription), -1);
	struct assign_topic gt = { KSTR("gt"), 3 };
	struct assign_group grp = { 2, m, 1, &gt };
	struct assign_result r;
	cr_assert_eq(assign_range(&grp, &arena, &r), 0);
	EXPECT(r, 1, "gt-0 gt-1"); /* "kafkajs-1" sorts first */
	EXPECT(r, 0, "gt-2");
	cr_assert_eq(assign_cooperative_sticky(&grp, &arena, &r), 0);
	EXPECT(r, 1, "gt-0 gt-2");
	EXPECT(r, 0, "gt-1");
}

Test(assign, assignment_payload_bytes)
{
	struct km c[] = { { "m", NULL, "t", NULL, -1 } };
	struct assign_result r = run(assign_range, "t:2", c, 1);
	struct buf b;
	buf_init(&b, 1 * MiB);
	assign_encode_assignment(&b, &r.assignments[0]);
	static const uint8_t want[] = { 0, 0, 0, 0, 0, 1, 0, 1, 't',  0,    0,    0,   2,
		                        0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff };
	cr_assert(buf_ok(&b));
	cr_assert_eq(b.len, sizeof(want));
	cr_assert_arr_eq(b.p, want, sizeof(want));
	buf_free(&b);
}

Test(assign, bad_groups_refused)
{
	static const assign_fn fns[] = { assign_range, assign_roundrobin,
		                         assign_cooperative_sticky };
	for (size_t f = 0; f < 3; f++) {
		struct assign_result r;
		struct km twice[] = { { "m", NULL, "t", NULL, -1 }, { "m", NULL, "t", NULL, -1 } };
		struct assign_group grp = group_of("t:2", twice, 2);
		cr_assert_eq(fns[f](&grp, &arena, &r), -EINVAL, "same member id twice");
		grp = group_of("t:2,t:3", twice, 1);
		cr_assert_eq(fns[f](&grp, &arena, &r), -EINVAL, "same topic twice");
		grp = group_of("t:2", twice, 1);
		((struct assign_member *)grp.members)[0].member_id = KSTR_NULL;
		cr_assert_eq(fns[f](&grp, &arena, &r), -EINVAL, "null member id");
		grp = group_of("t:2", twice, 1);
		grp.members_count = -1;
		cr_assert_eq(fns[f](&grp, &arena, &r), -EINVAL, "negative count");
		grp = group_of("t:2", twice, 1);
		grp.members_count = ASSIGN_MEMBERS_MAX + 1;
		cr_assert_eq(fns[f](&grp, &arena, &r), -TAPE_ETOOLARGE, "too many members");
		grp =
		    group_of("t:40000,u:40000", (struct km[]){ { "m", NULL, "t,u", NULL, -1 } }, 1);
		cr_assert_eq(fns[f](&grp, &arena, &r), -TAPE_ETOOLARGE, "too many partitions");
		/* Not too many: a topic nobody subscribes to does not count. */
		grp = group_of("t:40000,u:40000", (struct km[]){ { "m", NULL, "t", NULL, -1 } }, 1);
		cr_assert_eq(fns[f](&grp, &arena, &r), 0);
		/* A negative partition count is an unknown topic. */
		grp = group_of("t:-1", twice, 1);
		cr_assert_eq(fns[f](&grp, &arena, &r), 0);
		cr_assert_eq(r.assignments[0].assigned_partitions_count, 0);
		struct arena small;
		arena_init(&small, 512);
		grp = group_of("t:100", twice, 1);
		cr_assert_eq(fns[f](&grp, &small, &r), -ENOMEM);
		arena_free(&small);
	}
}

/* ---- properties ------------------------------------------------------------------------------ */

#define CHECK(expr)                                          \
	do {                                                 \
		const char *why_ = (expr);                   \
		cr_assert_null(why_, "%s: %s", #expr, why_); \
	} while (0)

static void assign_world(assign_fn fn, const struct world *w, world_owners own, int32_t *pending)
{
	struct assign_group grp;
	struct assign_result r;
	arena_reset(&arena);
	world_group(w, &arena, &grp);
	int rc = fn(&grp, &arena, &r);
	cr_assert_eq(rc, 0, "assign: %s", tape_strerror(rc));
	CHECK(world_read(w, &r, own));
	if (pending)
		*pending = r.pending_count;
}

Test(assign, property_range)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	struct world_rng rng = { world_xorshift, &seed };
	static struct world w;
	static world_owners own;
	for (int i = 0; i < 3000; i++) {
		world_random(&w, &rng, i % 3 == 0, 10, 50, 20);
		assign_world(assign_range, &w, own, NULL);
		CHECK(world_check_complete(&w, own));
		CHECK(world_check_range(&w, own));
	}
}

Test(assign, property_roundrobin)
{
	uint64_t seed = 0xd1b54a32d192ed03ull;
	struct world_rng rng = { world_xorshift, &seed };
	static struct world w;
	static world_owners own;
	for (int i = 0; i < 3000; i++) {
		world_random(&w, &rng, i % 2 == 0, 10, 50, 20);
		assign_world(assign_roundrobin, &w, own, NULL);
		CHECK(world_check_complete(&w, own));
		if (world_equal_subscriptions(&w))
			CHECK(world_check_even(&w, own));
	}
}

/* Equal subscriptions: from scratch, then members leave and join. */
Test(assign, property_sticky_membership_changes)
{
	uint64_t seed = 0x2545f4914f6cdd1dull;
	struct world_rng rng = { world_xorshift, &seed };
	static struct world w;
	static world_owners own;
	int32_t pending, moved = 0, held = 0;
	for (int i = 0; i < 2000; i++) {
		world_random(&w, &rng, true, 10, 50, 20);
		assign_world(assign_cooperative_sticky, &w, own, &pending);
		cr_assert_eq(pending, 0);
		CHECK(world_check_complete(&w, own));
		CHECK(world_check_even(&w, own));
		world_settle(&w, own, 1);
		for (int change = 0; change < 3; change++) {
			int32_t leave = (int32_t)world_below(&rng, 3),
			        join = (int32_t)world_below(&rng, 3);
			for (int32_t k = 0; k < leave && w.members_count > 1; k++)
				world_remove_member(
				    &w, (int32_t)world_below(&rng, (uint32_t)w.members_count));
			for (int32_t k = 0; k < join; k++)
				world_add_member(&w, &rng, true);
			int32_t bound = world_revoked_bound(&w);
			assign_world(assign_cooperative_sticky, &w, own, &pending);
			CHECK(world_check_cooperative(&w, own));
			cr_assert_eq(world_revoked(&w, own), bound, "group %d change %d", i,
			             change);
			moved += bound;
			held += pending;
			world_settle(&w, own, 2 + 2 * change);
			assign_world(assign_cooperative_sticky, &w, own, &pending);
			cr_assert_eq(pending, 0);
			cr_assert_eq(world_revoked(&w, own), 0);
			CHECK(world_check_complete(&w, own));
			CHECK(world_check_even(&w, own));
			world_settle(&w, own, 3 + 2 * change);
		}
	}
	cr_log_info("sticky membership: %d partitions revoked (all at the bound), %d held", moved,
	            held);
}

/* Rounds of cooperative-sticky until nothing is pending; every round cooperative. Returns the
 * rounds taken; the final assignment is in own. */
static int settle_group(struct world *w, world_owners own, int32_t *gen)
{
	int32_t pending = 1;
	int rounds = 0;
	while (pending > 0) {
		cr_assert_lt(rounds, 8, "no settled assignment after 8 rounds");
		assign_world(assign_cooperative_sticky, w, own, &pending);
		CHECK(world_check_cooperative(w, own));
		world_settle(w, own, ++*gen);
		rounds++;
	}
	CHECK(world_check_complete(w, own));
	if (world_equal_subscriptions(w))
		CHECK(world_check_even(w, own));
	else
		CHECK(world_check_balanced(w, own));
	return rounds;
}

/* Differing subscriptions (the general builder), with members leaving, joining and changing
 * their subscription. */
Test(assign, property_sticky_general)
{
	uint64_t seed = 0x5851f42d4c957f2dull;
	struct world_rng rng = { world_xorshift, &seed };
	static struct world w;
	static world_owners own;
	int most = 0, total = 0, groups = 0;
	for (int i = 0; i < 1500; i++) {
		int32_t gen = 0;
		world_random(&w, &rng, false, 10, 50, 20);
		for (int change = 0; change < 3; change++) {
			int rounds = settle_group(&w, own, &gen);
			most = rounds > most ? rounds : most;
			total += rounds;
			groups++;
			switch (world_below(&rng, 3)) {
			case 0:
				if (w.members_count > 1)
					world_remove_member(
					    &w,
					    (int32_t)world_below(&rng, (uint32_t)w.members_count));
				break;
			case 1:
				world_add_member(&w, &rng, false);
				break;
			default:
				w.m[world_below(&rng, (uint32_t)w.members_count)].subs ^=
				    1u << world_below(&rng, (uint32_t)w.topics_count);
			}
		}
	}
	cr_log_info("sticky general: %d settlings, %d rounds, at most %d", groups, total, most);
}

/* Random claims with random generations, conflicts and claims on unsubscribed topics. */
Test(assign, property_sticky_conflicting_claims)
{
	uint64_t seed = 0x14057b7ef767814full;
	struct world_rng rng = { world_xorshift, &seed };
	static struct world w;
	static world_owners own;
	for (int i = 0; i < 1500; i++) {
		int32_t gen = 3;
		world_random(&w, &rng, i % 2 == 0, 10, 50, 20);
		world_random_claims(&w, &rng);
		settle_group(&w, own, &gen);
	}
}
