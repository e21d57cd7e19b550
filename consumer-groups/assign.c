/*
 * consumer-groups/assign.c: the range, roundrobin and cooperative-sticky assignors (API in
 * assign.h). Owns the algorithms; must not know anything of I/O, logs or the broker: it uses
 * base/ and protocol/ only, so that libtape can link it (DESIGN.md §2).
 *
 * Common ground. Only topics that some member subscribes to and that the metadata knows take
 * part (a subscribed topic missing from the metadata is skipped, as Kafka's
 * partitionsPerTopic lacks it). Strings are ordered as Java's String.compareTo orders them (UTF-16
 * code units: byte order, except that characters from U+10000 sort before U+E000-U+FFFF),
 * because member and topic order decide who gets what. The topics in play are numbered in
 * that order and their partitions numbered one after the other (a "global" partition index),
 * so ascending global index is Kafka's (topic, partition) order.
 *
 * range (Kafka's RangeAssignor). Each topic on its own: the members subscribed to it are sorted
 * as AbstractPartitionAssignor.MemberInfo sorts them (static members first, by group instance
 * id; then dynamic members by member id), the partitions 0..P-1 are cut into M contiguous
 * ranges of P/M, and the first P%M members get one more. With several topics the same members
 * come first each time, so range is balanced per topic, not overall. Kafka 3.5's rack-aware
 * variant is not done: it needs the replicas' racks, which the input does not carry, and Kafka
 * itself falls back to this algorithm without them.
 *
 * roundrobin (Kafka's RoundRobinAssignor). All partitions of all subscribed topics, by topic
 * then partition, are dealt to the members in MemberInfo order, round and round; a member not
 * subscribed to a partition's topic is passed over for it (the deal goes on from the member
 * after the one that took the partition). kafkajs's "RoundRobinAssigner" is served by this too;
 * kafkajs's own leader deals each topic afresh from the first member (partition p to member
 * p mod M), which gives a different, equally valid assignment.
 *
 * cooperative-sticky (Kafka 3.x's CooperativeStickyAssignor over AbstractStickyAssignor;
 * librdkafka's cooperative-sticky mirrors the same Java code). Three steps.
 *
 *  1. Ownership. A member's owned partitions are its subscription's owned_partitions; the
 *     generation they are from is assign_member_generation(). When several members claim one
 *     partition, the claim of the highest generation stands; if several members share that
 *     generation, no claim stands and the partition counts as "claimed by several" (Kafka's
 *     partitionsWithMultiplePreviousOwners). Claims of other generations are not dropped
 *     otherwise (Kafka 3.x; 2.x dropped all claims of older generations).
 *
 *  2. Assignment, by one of Kafka's two builders:
 *
 *     Constrained (every member subscribes to the same topics; Kafka's
 *     ConstrainedAssignmentBuilder). With P partitions and M members each gets minQuota =
 *     P/M or maxQuota = ceil(P/M), and exactly P%M members get maxQuota. Members in member-id
 *     order keep their owned partitions, sorted by (partition, topic): a member owning fewer
 *     than minQuota keeps them all and waits for more; one owning maxQuota or more keeps
 *     maxQuota while members with maxQuota are still wanted; any other keeps minQuota (and
 *     may get one more later if maxQuota members are still wanted). What it does not keep is
 *     revoked. The partitions no one kept are then dealt round-robin, in (topic, partition)
 *     order, to the members below minQuota, and when those are full, one each to the members
 *     at minQuota, until all are placed. This keeps the most partitions possible where they
 *     are: each member keeps min(owned, minQuota), plus one for as many maxQuota places as
 *     there are members owning more.
 *
 *     General (subscriptions differ; Kafka's GeneralAssignmentBuilder). Members keep the
 *     owned partitions of topics they still subscribe to (dropping one to which a member no
 *     longer subscribes makes "revocation required"). The rest are placed one by one, topics
 *     with fewer possible consumers first, each with the member that has the fewest partitions
 *     among those subscribed (ties by member id). Then the balancing loop: partitions whose
 *     topic has two or more possible consumers are visited in that order while the assignment
 *     is not balanced ("balanced": no member could take a partition of its topics from a
 *     member with two or more partitions more than it), and a partition moves when its owner
 *     has two or more partitions more than the least loaded member subscribed to its topic:
 *     back to the member that owned it in an older generation if that one is that much
 *     lighter, else to the lightest subscribed member. Kafka's PartitionMovements bookkeeping
 *     is kept: when a partition would move from X to Y and an earlier move of this round
 *     took a partition of the same topic from Y to X, that one moves back instead. The loop
 *     first visits only the newly placed partitions (unless revocation was required), then
 *     all. (Kafka then undoes the moves if they did not lower its balance score, the sum over
 *     member pairs of their size difference; in tape every move lowers it, see below.)
 *
 *  3. Cooperation (CooperativeStickyAssignor.adjustAssignment). A partition assigned to a
 *     member other than the one whose claim stands, while some member claims it, is left out
 *     of this round: its owner sees it missing from its assignment, revokes it and rejoins,
 *     and the next rebalance assigns it (pending_count says how many wait).
 *
 * Where tape knowingly differs from the Java code (all in cases Kafka gets by chance or not
 * at all):
 *   - Java iterates HashMaps in several places (which member is served first when several own
 *     more than maxQuota, claim conflicts, which moved partition moves back); tape uses
 *     member-id order and lowest partition first, so its choices are deterministic. They are
 *     the choices Java makes for some hash order; balance and stickiness are the same.
 *   - Claim conflicts are resolved by generation alone, whatever the order (Java's result
 *     depends on the order when three members claim one partition).
 *   - Java tests "all subscriptions equal" with a set that the first member's empty
 *     subscription leaves empty, so a member subscribed to nothing can end up assigned
 *     partitions; tape compares the subscriptions as sets.
 *   - A member's generation comes from its subscription's generation_id, else from either
 *     format of user data (Java reads the first four bytes of any user data, which for
 *     librdkafka's user data is a topic count, not a generation), and the same generation is
 *     used for both members of a conflict (Java takes the other member's from the v2 field
 *     only).
 *   - Owned partitions that do not exist (beyond the topic's count) or are listed twice by
 *     one member are ignored; Java would keep assigning a nonexistent one.
 *   - The general builder moves a partition back to its older owner only if that member
 *     still subscribes to the topic (Java would assign an unsubscribed topic, or fail).
 *   - A partition given to a member whose claim was overruled (an older generation's, or a
 *     tie) is held back like any other moving partition; Java gives it at once in the
 *     general builder while the current owner still has it.
 *   - Java's balancing loop can run forever: when the partition it would move has moved
 *     already this round, PartitionMovements may pick instead a partition of a third member,
 *     which relieves no one, and two such picks can undo each other (found by the property
 *     tests). tape then moves the partition itself, so every move helps and the loop ends
 *     (general_reassign has the bound). Java's revert to the state before balancing, when the
 *     moves did not improve its balance score, then cannot happen and is left out.
 *
 * Allocation: all from the caller's arena, sized by the input; nothing is freed before the
 * arena is. Sorting is a merge sort of int32 indices here (libc's qsort may allocate).
 */
#include "consumer-groups/assign.h"

#include "base/assert.h"
#include "base/cursor.h"
#include "base/errors.h"
#include "base/limits.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* ---- strings and sorting ----------------------------------------------------------------- */

/* Java's String.compareTo on UTF-8 bytes: UTF-16 code unit order. It is byte order except at
 * the lead bytes of U+E000-U+FFFF (0xEE, 0xEF) against those of U+10000 and up (0xF0-0xF4):
 * UTF-16 writes the latter as surrogates 0xD800-0xDFFF, which sort first. Where two strings
 * first differ both are at the same position of the same character, so comparing lead bytes
 * is enough. Invalid UTF-8 compares by bytes. */
static int java_cmp(struct kstr a, struct kstr b)
{
	int32_t n = a.len < b.len ? a.len : b.len;
	for (int32_t i = 0; i < n; i++) {
		uint8_t x = (uint8_t)a.p[i], y = (uint8_t)b.p[i];
		if (x == y)
			continue;
		bool x_bmp_high = x == 0xEE || x == 0xEF, y_bmp_high = y == 0xEE || y == 0xEF;
		if (x_bmp_high && y >= 0xF0)
			return 1;
		if (y_bmp_high && x >= 0xF0)
			return -1;
		return x < y ? -1 : 1;
	}
	return a.len < b.len ? -1 : a.len > b.len;
}

/* < 0 when x goes before y. */
typedef int (*order_fn)(const void *ctx, int32_t x, int32_t y);

/* Stable bottom-up merge sort of n indices; the scratch comes from the arena. */
static int sort_ids(struct arena *a, int32_t *v, size_t n, order_fn order, const void *ctx)
{
	if (n < 2)
		return 0;
	int32_t *tmp = arena_array(a, n, sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	int32_t *src = v, *dst = tmp;
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				dst[k++] = order(ctx, src[j], src[i]) < 0 ? src[j++] : src[i++];
			while (i < mid)
				dst[k++] = src[i++];
			while (j < hi)
				dst[k++] = src[j++];
		}
		int32_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
	return 0;
}

static int int_order(const void *ctx, int32_t x, int32_t y)
{
	(void)ctx;
	return x < y ? -1 : x > y;
}

/* Members as AbstractPartitionAssignor.MemberInfo.compareTo orders them: static members first,
 * by group instance id, then dynamic members by member id. Equal instance ids (which a
 * coordinator does not allow) fall back to member ids. */
static int member_info_order(const void *ctx, int32_t x, int32_t y)
{
	const struct assign_member *m = ctx;
	bool xs = !kstr_is_null(m[x].group_instance_id), ys = !kstr_is_null(m[y].group_instance_id);
	if (xs && ys) {
		int c = java_cmp(m[x].group_instance_id, m[y].group_instance_id);
		if (c)
			return c;
	} else if (xs != ys) {
		return xs ? -1 : 1;
	}
	return java_cmp(m[x].member_id, m[y].member_id);
}

/* Members by member id, as the sticky assignors compare them. */
static int member_id_order(const void *ctx, int32_t x, int32_t y)
{
	const struct assign_member *m = ctx;
	return java_cmp(m[x].member_id, m[y].member_id);
}

static int meta_order(const void *ctx, int32_t x, int32_t y)
{
	const struct assign_topic *t = ctx;
	return java_cmp(t[x].topic, t[y].topic);
}

/* ---- the group as the assignors see it --------------------------------------------------- */

struct topic {
	struct kstr name;         /* borrowed from the metadata */
	int32_t partitions_count; /* >= 0 */
	int32_t base;             /* global index of partition 0 */
	int32_t consumers_count;  /* members subscribed to it (>= 1) */
	int32_t consumers_start;  /* into group.consumers */
};

struct group {
	const struct assign_group *in; /* borrowed */
	struct arena *a;
	int32_t members_count;
	int32_t topics_count;
	struct topic *topics; /* the subscribed topics the metadata knows, by name */
	int32_t partitions_count;
	int32_t *part_topic; /* [partitions] topic of each global partition */
	int32_t *sub_start;  /* [members + 1] */
	int32_t *subs; /* member m's topics: subs[sub_start[m] .. sub_start[m + 1]), ascending */
	int32_t *consumers; /* per topic its members, in the order group_consumers was given */
	int32_t *owner;     /* [partitions] the result: a member, or -1 */
};

static const struct consumer_protocol_subscription *sub_of(const struct group *g, int32_t m)
{
	return &g->in->members[m].subscription;
}

/* Index of name among n metadata topics sorted by name (order[]), or -1. */
static int32_t meta_find(const struct assign_topic *meta, const int32_t *order, int32_t n,
                         struct kstr name)
{
	int32_t lo = 0, hi = n;
	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2;
		int c = java_cmp(meta[order[mid]].topic, name);
		if (c == 0)
			return order[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The topic in play named name, or -1. */
static int32_t topic_find(const struct group *g, struct kstr name)
{
	int32_t lo = 0, hi = g->topics_count;
	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2;
		int c = java_cmp(g->topics[mid].name, name);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static bool subscribed(const struct group *g, int32_t m, int32_t t)
{
	int32_t lo = g->sub_start[m], hi = g->sub_start[m + 1];
	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2;
		if (g->subs[mid] == t)
			return true;
		if (g->subs[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Checks the members: a bounded count, member ids present and distinct. */
static int check_members(const struct assign_group *in, struct arena *a)
{
	if (in->members_count < 0)
		return -EINVAL;
	if (in->members_count > ASSIGN_MEMBERS_MAX)
		return -TAPE_ETOOLARGE;
	int32_t n = in->members_count;
	int32_t *order = arena_array(a, (size_t)n, sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (int32_t i = 0; i < n; i++) {
		if (kstr_is_null(in->members[i].member_id))
			return -EINVAL;
		order[i] = i;
	}
	int rc = sort_ids(a, order, (size_t)n, member_id_order, in->members);
	for (int32_t i = 1; rc == 0 && i < n; i++)
		if (member_id_order(in->members, order[i - 1], order[i]) == 0)
			rc = -EINVAL;
	return rc;
}

/* The metadata topics with a known partition count, sorted by name; -EINVAL for a null name
 * or one topic twice. */
static int sort_metadata(const struct assign_group *in, struct arena *a, int32_t **order_out,
                         int32_t *n_out)
{
	if (in->topics_count < 0)
		return -EINVAL;
	int32_t *order = arena_array(a, (size_t)in->topics_count, sizeof(*order)), n = 0;
	if (!order)
		return -ENOMEM;
	for (int32_t i = 0; i < in->topics_count; i++) {
		if (kstr_is_null(in->topics[i].topic))
			return -EINVAL;
		if (in->topics[i].partitions_count >= 0)
			order[n++] = i;
	}
	int rc = sort_ids(a, order, (size_t)n, meta_order, in->topics);
	for (int32_t i = 1; rc == 0 && i < n; i++)
		if (meta_order(in->topics, order[i - 1], order[i]) == 0)
			rc = -EINVAL;
	*order_out = order;
	*n_out = n;
	return rc;
}

/* The topics in play: metadata topics some member subscribes to, numbered by name. Fills
 * topics, partitions_count and part_topic. *found gets the metadata index (or -1) of each
 * subscribed name, member after member; map the metadata index -> topic. */
static int build_topics(struct group *g, const int32_t *meta, int32_t meta_n, int32_t **found,
                        int32_t **map_out)
{
	const struct assign_group *in = g->in;
	int64_t names = 0;
	for (int32_t m = 0; m < g->members_count; m++)
		names += sub_of(g, m)->topics_count > 0 ? sub_of(g, m)->topics_count : 0;
	if (names > INT32_MAX)
		return -TAPE_ETOOLARGE;
	int32_t *map = arena_array(g->a, (size_t)in->topics_count, sizeof(*map));
	int32_t *f = *found = arena_array(g->a, (size_t)names, sizeof(*f));
	if (!map || !f)
		return -ENOMEM;
	for (int32_t i = 0; i < in->topics_count; i++)
		map[i] = -1;
	for (int32_t m = 0; m < g->members_count; m++) {
		const struct consumer_protocol_subscription *s = sub_of(g, m);
		for (int32_t i = 0; i < s->topics_count; i++) {
			int32_t k = *f++ = meta_find(in->topics, meta, meta_n, s->topics[i]);
			if (k >= 0)
				map[k] = 0;
		}
	}
	g->topics = arena_array(g->a, (size_t)meta_n, sizeof(*g->topics));
	if (!g->topics)
		return -ENOMEM;
	int64_t total = 0;
	for (int32_t i = 0; i < meta_n; i++) {
		int32_t k = meta[i];
		if (map[k] < 0)
			continue;
		map[k] = g->topics_count;
		g->topics[g->topics_count++] = (struct topic){
			.name = in->topics[k].topic,
			.partitions_count = in->topics[k].partitions_count,
			.base = (int32_t)total,
		};
		total += in->topics[k].partitions_count;
		if (total > ASSIGN_PARTITIONS_MAX)
			return -TAPE_ETOOLARGE;
	}
	g->partitions_count = (int32_t)total;
	g->part_topic = arena_array(g->a, (size_t)total, sizeof(*g->part_topic));
	g->owner = arena_array(g->a, (size_t)total, sizeof(*g->owner));
	if (!g->part_topic || !g->owner)
		return -ENOMEM;
	for (int32_t t = 0; t < g->topics_count; t++)
		for (int32_t p = 0; p < g->topics[t].partitions_count; p++)
			g->part_topic[g->topics[t].base + p] = t;
	for (int32_t i = 0; i < g->partitions_count; i++)
		g->owner[i] = -1;
	*map_out = map;
	return 0;
}

/* Each member's topics in play, ascending and without repeats; counts each topic's members. */
static int build_subs(struct group *g, const int32_t *found, const int32_t *map)
{
	int64_t total = 0;
	for (int32_t m = 0; m < g->members_count; m++)
		total += sub_of(g, m)->topics_count > 0 ? sub_of(g, m)->topics_count : 0;
	g->sub_start = arena_array(g->a, (size_t)g->members_count + 1, sizeof(*g->sub_start));
	g->subs = arena_array(g->a, (size_t)total, sizeof(*g->subs));
	if (!g->sub_start || !g->subs)
		return -ENOMEM;
	int32_t k = 0;
	for (int32_t m = 0; m < g->members_count; m++) {
		const struct consumer_protocol_subscription *s = sub_of(g, m);
		int32_t start = k;
		g->sub_start[m] = k;
		for (int32_t i = 0; i < s->topics_count; i++, found++)
			if (*found >= 0)
				g->subs[k++] = map[*found];
		int rc = sort_ids(g->a, g->subs + start, (size_t)(k - start), int_order, NULL);
		if (rc)
			return rc;
		int32_t w = start;
		for (int32_t i = start; i < k; i++)
			if (w == start || g->subs[w - 1] != g->subs[i])
				g->subs[w++] = g->subs[i];
		k = w;
		for (int32_t i = start; i < k; i++)
			g->topics[g->subs[i]].consumers_count++;
	}
	g->sub_start[g->members_count] = k;
	return 0;
}

static int group_init(struct group *g, const struct assign_group *in, struct arena *a)
{
	*g = (struct group){ .in = in, .a = a, .members_count = in->members_count };
	int32_t *meta, meta_n, *found, *map;
	int rc = check_members(in, a);
	if (rc == 0)
		rc = sort_metadata(in, a, &meta, &meta_n);
	if (rc == 0)
		rc = build_topics(g, meta, meta_n, &found, &map);
	if (rc == 0)
		rc = build_subs(g, found, map);
	return rc;
}

/* All members in the given order; *rank_out (if asked) maps a member to its place. */
static int member_order(struct group *g, order_fn order, int32_t **order_out, int32_t **rank_out)
{
	int32_t n = g->members_count;
	int32_t *v = arena_array(g->a, (size_t)n, sizeof(*v));
	int32_t *rank = arena_array(g->a, (size_t)n, sizeof(*rank));
	if (!v || !rank)
		return -ENOMEM;
	for (int32_t i = 0; i < n; i++)
		v[i] = i;
	int rc = sort_ids(g->a, v, (size_t)n, order, g->in->members);
	for (int32_t i = 0; i < n; i++)
		rank[v[i]] = i;
	*order_out = v;
	if (rank_out)
		*rank_out = rank;
	return rc;
}

/* Each topic's members, listed in the order of members[]. */
static int group_consumers(struct group *g, const int32_t *members)
{
	int32_t total = g->sub_start[g->members_count], at = 0;
	g->consumers = arena_array(g->a, (size_t)total, sizeof(*g->consumers));
	if (!g->consumers)
		return -ENOMEM;
	for (int32_t t = 0; t < g->topics_count; t++) {
		g->topics[t].consumers_start = at;
		at += g->topics[t].consumers_count;
	}
	int32_t *fill = arena_array(g->a, (size_t)g->topics_count, sizeof(*fill));
	if (!fill)
		return -ENOMEM;
	for (int32_t i = 0; i < g->members_count; i++) {
		int32_t m = members[i];
		for (int32_t k = g->sub_start[m]; k < g->sub_start[m + 1]; k++) {
			int32_t t = g->subs[k];
			g->consumers[g->topics[t].consumers_start + fill[t]++] = m;
		}
	}
	return 0;
}

/* owner[] as one assignment per member: topics ascending, partitions ascending. */
static int group_result(const struct group *g, struct assign_result *out)
{
	int32_t n = g->members_count;
	struct consumer_protocol_assignment *asg = arena_array(g->a, (size_t)n, sizeof(*asg));
	int32_t *parts = arena_array(g->a, (size_t)n, sizeof(*parts));
	int32_t *last = arena_array(g->a, (size_t)n, sizeof(*last));
	if (!asg || !parts || !last)
		return -ENOMEM;
	for (int32_t m = 0; m < n; m++) {
		asg[m].user_data = (struct kbytes){ NULL, -1 };
		last[m] = -1;
	}
	for (int32_t i = 0; i < g->partitions_count; i++) {
		int32_t m = g->owner[i], t = g->part_topic[i];
		if (m < 0)
			continue;
		parts[m]++;
		if (last[m] != t)
			asg[m].assigned_partitions_count++;
		last[m] = t;
	}
	for (int32_t m = 0; m < n; m++) {
		asg[m].assigned_partitions =
		    arena_array(g->a, (size_t)asg[m].assigned_partitions_count,
		                sizeof(*asg[m].assigned_partitions));
		int32_t *pool = arena_array(g->a, (size_t)parts[m], sizeof(*pool));
		if (!asg[m].assigned_partitions || !pool)
			return -ENOMEM;
		if (asg[m].assigned_partitions_count > 0)
			asg[m].assigned_partitions[0].partitions = pool;
		asg[m].assigned_partitions_count = 0;
		last[m] = -1;
	}
	for (int32_t i = 0; i < g->partitions_count; i++) {
		int32_t m = g->owner[i], t = g->part_topic[i];
		if (m < 0)
			continue;
		struct consumer_protocol_topic_partition *tp;
		if (last[m] != t) {
			tp = &asg[m].assigned_partitions[asg[m].assigned_partitions_count++];
			if (last[m] >= 0)
				tp->partitions = tp[-1].partitions + tp[-1].partitions_count;
			tp->topic = g->topics[t].name;
			last[m] = t;
		} else {
			tp = &asg[m].assigned_partitions[asg[m].assigned_partitions_count - 1];
		}
		tp->partitions[tp->partitions_count++] = i - g->topics[t].base;
	}
	*out = (struct assign_result){ .assignments = asg };
	return 0;
}

/* ---- range --------------------------------------------------------------------------------- */

int assign_range(const struct assign_group *grp, struct arena *a, struct assign_result *out)
{
	struct group g;
	int32_t *order;
	int rc = group_init(&g, grp, a);
	if (rc == 0)
		rc = member_order(&g, member_info_order, &order, NULL);
	if (rc == 0)
		rc = group_consumers(&g, order);
	if (rc)
		return rc;
	for (int32_t t = 0; t < g.topics_count; t++) {
		const struct topic *tp = &g.topics[t];
		int32_t n = tp->consumers_count;
		int32_t per = tp->partitions_count / n, extra = tp->partitions_count % n;
		for (int32_t i = 0; i < n; i++) {
			int32_t start = per * i + (i < extra ? i : extra);
			int32_t len = per + (i < extra ? 1 : 0);
			for (int32_t p = start; p < start + len; p++)
				g.owner[tp->base + p] = g.consumers[tp->consumers_start + i];
		}
	}
	return group_result(&g, out);
}

/* ---- roundrobin ---------------------------------------------------------------------------- */

int assign_roundrobin(const struct assign_group *grp, struct arena *a, struct assign_result *out)
{
	struct group g;
	int32_t *order, *rank;
	int rc = group_init(&g, grp, a);
	if (rc == 0)
		rc = member_order(&g, member_info_order, &order, &rank);
	if (rc == 0)
		rc = group_consumers(&g, order);
	if (rc)
		return rc;
	/* next: the place in member order the circular iterator is at. A topic's members are
	 * listed in that order, so the first at or after next is found by bisection. */
	int32_t next = 0;
	for (int32_t t = 0; t < g.topics_count; t++) {
		const struct topic *tp = &g.topics[t];
		const int32_t *c = g.consumers + tp->consumers_start;
		for (int32_t p = 0; p < tp->partitions_count; p++) {
			int32_t lo = 0, hi = tp->consumers_count;
			while (lo < hi) {
				int32_t mid = lo + (hi - lo) / 2;
				if (rank[c[mid]] < next)
					lo = mid + 1;
				else
					hi = mid;
			}
			int32_t m = c[lo < tp->consumers_count ? lo : 0];
			g.owner[tp->base + p] = m;
			next = (rank[m] + 1) % g.members_count;
		}
	}
	return group_result(&g, out);
}

/* ---- cooperative-sticky: ownership --------------------------------------------------------- */

struct sticky {
	struct group g;
	int32_t *by_id;       /* members by member id */
	int32_t *id_rank;     /* [members] place in by_id */
	int32_t *gen;         /* [members] generation of the owned partitions */
	int32_t max_gen;      /* the highest of them, -1 when none */
	int32_t *claim_start; /* [members + 1] */
	int32_t *claims;   /* member m's owned partitions: claims[claim_start[m] ..), no repeats */
	int32_t *resolved; /* [partitions] the member whose claim stands, or -1 */
	bool *claimed;     /* [partitions] some member claims it */
	bool *doubly;      /* [partitions] claimed by several of the highest generation */
	int32_t *size;     /* [members] partitions assigned so far */
};

int32_t assign_member_generation(const struct consumer_protocol_subscription *s)
{
	if (s->generation_id >= 0)
		return s->generation_id;
	struct kbytes u = s->user_data;
	if (u.len < 4)
		return -1;
	struct cursor cur, *c = &cur;
	cursor_init(c, u.p, (size_t)u.len);
	if (u.len == 4)
		return cursor_i32(c);
	/* StickyAssignor user data v1: [topic [partition]] generation. */
	int32_t n = cursor_i32(c);
	if (n < 0 || (size_t)n > cursor_left(c) / 6)
		return -1;
	for (int32_t i = 0; i < n && cursor_ok(c); i++) {
		int16_t len = cursor_i16(c);
		cursor_skip(c, len < 0 ? SIZE_MAX : (size_t)len);
		int32_t count = cursor_i32(c);
		cursor_skip(c, count < 0 || (size_t)count > cursor_left(c) / 4 ? SIZE_MAX
		                                                               : (size_t)count * 4);
	}
	int32_t gen = cursor_i32(c);
	return cursor_ok(c) && cursor_left(c) == 0 ? gen : -1;
}

/* Each member's valid owned partitions, and whose claim stands for each partition. */
static int sticky_claims(struct sticky *s)
{
	struct group *g = &s->g;
	int32_t n = g->members_count, parts = g->partitions_count;
	int64_t total = 0;
	for (int32_t m = 0; m < n; m++) {
		const struct consumer_protocol_subscription *sub = sub_of(g, m);
		for (int32_t i = 0; i < sub->owned_partitions_count; i++)
			total += sub->owned_partitions[i].partitions_count > 0
			             ? sub->owned_partitions[i].partitions_count
			             : 0;
	}
	int32_t *stamp = arena_array(g->a, (size_t)parts, sizeof(*stamp));
	int32_t *best_gen = arena_array(g->a, (size_t)parts, sizeof(*best_gen));
	/* Each member claims a partition once: at most members x partitions claims. */
	if (total > (int64_t)n * parts)
		total = (int64_t)n * parts;
	s->claims = arena_array(g->a, (size_t)total, sizeof(*s->claims));
	s->resolved = arena_array(g->a, (size_t)parts, sizeof(*s->resolved));
	s->claimed = arena_array(g->a, (size_t)parts, sizeof(*s->claimed));
	s->doubly = arena_array(g->a, (size_t)parts, sizeof(*s->doubly));
	if (!stamp || !best_gen || !s->claims || !s->resolved || !s->claimed || !s->doubly)
		return -ENOMEM;
	int32_t k = 0;
	for (int32_t m = 0; m < n; m++) {
		const struct consumer_protocol_subscription *sub = sub_of(g, m);
		s->claim_start[m] = k;
		for (int32_t i = 0; i < sub->owned_partitions_count; i++) {
			const struct consumer_protocol_topic_partition *tp =
			    &sub->owned_partitions[i];
			int32_t t = topic_find(g, tp->topic);
			for (int32_t j = 0; t >= 0 && j < tp->partitions_count; j++) {
				int32_t p = tp->partitions[j];
				if (p < 0 || p >= g->topics[t].partitions_count)
					continue;
				int32_t x = g->topics[t].base + p;
				if (stamp[x] == m + 1)
					continue;
				stamp[x] = m + 1;
				s->claims[k++] = x;
				if (!s->claimed[x] || s->gen[m] > best_gen[x]) {
					s->claimed[x] = true;
					s->doubly[x] = false;
					s->resolved[x] = m;
					best_gen[x] = s->gen[m];
				} else if (s->gen[m] == best_gen[x]) {
					s->doubly[x] = true;
				}
			}
		}
	}
	s->claim_start[n] = k;
	for (int32_t x = 0; x < parts; x++)
		if (!s->claimed[x] || s->doubly[x])
			s->resolved[x] = -1;
	return 0;
}

static int sticky_init(struct sticky *s, const struct assign_group *grp, struct arena *a)
{
	*s = (struct sticky){ .max_gen = -1 };
	struct group *g = &s->g;
	int rc = group_init(g, grp, a);
	if (rc == 0)
		rc = member_order(g, member_id_order, &s->by_id, &s->id_rank);
	if (rc == 0)
		rc = group_consumers(g, s->by_id);
	if (rc)
		return rc;
	s->gen = arena_array(a, (size_t)g->members_count, sizeof(*s->gen));
	s->size = arena_array(a, (size_t)g->members_count, sizeof(*s->size));
	s->claim_start = arena_array(a, (size_t)g->members_count + 1, sizeof(*s->claim_start));
	if (!s->gen || !s->size || !s->claim_start)
		return -ENOMEM;
	for (int32_t m = 0; m < g->members_count; m++) {
		s->gen[m] = assign_member_generation(sub_of(g, m));
		if (s->gen[m] > s->max_gen)
			s->max_gen = s->gen[m];
	}
	return sticky_claims(s);
}

static int kstr_order(const void *ctx, int32_t x, int32_t y)
{
	const struct kstr *v = ctx;
	return java_cmp(v[x], v[y]);
}

/* One member's subscribed topic names, sorted, without repeats, into out (of its count). */
static int sorted_names(struct arena *a, const struct consumer_protocol_subscription *sub,
                        int32_t *idx, struct kstr *out, int32_t *n_out)
{
	int32_t n = sub->topics_count > 0 ? sub->topics_count : 0, w = 0;
	for (int32_t i = 0; i < n; i++)
		idx[i] = i;
	int rc = sort_ids(a, idx, (size_t)n, kstr_order, sub->topics);
	for (int32_t i = 0; rc == 0 && i < n; i++)
		if (w == 0 || java_cmp(out[w - 1], sub->topics[idx[i]]) != 0)
			out[w++] = sub->topics[idx[i]];
	*n_out = w;
	return rc;
}

/* Whether every member subscribes to the same set of topic names (those the metadata lacks
 * included, as Kafka compares the subscriptions themselves). */
static int sticky_all_equal(struct sticky *s, bool *equal)
{
	struct group *g = &s->g;
	int32_t most = 0;
	*equal = true;
	for (int32_t m = 0; m < g->members_count; m++)
		if (sub_of(g, m)->topics_count > most)
			most = sub_of(g, m)->topics_count;
	int32_t *idx = arena_array(g->a, (size_t)most, sizeof(*idx));
	struct kstr *first = arena_array(g->a, (size_t)most, sizeof(*first));
	struct kstr *other = arena_array(g->a, (size_t)most, sizeof(*other));
	if (!idx || !first || !other)
		return -ENOMEM;
	int32_t first_n = 0, other_n;
	for (int32_t m = 0; m < g->members_count && *equal; m++) {
		int rc = sorted_names(g->a, sub_of(g, m), idx, m == 0 ? first : other,
		                      m == 0 ? &first_n : &other_n);
		if (rc)
			return rc;
		if (m == 0)
			continue;
		*equal = other_n == first_n;
		for (int32_t i = 0; i < first_n && *equal; i++)
			*equal = java_cmp(first[i], other[i]) == 0;
	}
	return 0;
}

/* Cooperation: a partition assigned to someone other than the member whose claim stands,
 * while a member claims it, waits for the next round. Returns how many wait. */
static int32_t sticky_hold_moving(struct sticky *s)
{
	int32_t held = 0;
	for (int32_t x = 0; x < s->g.partitions_count; x++) {
		if (s->g.owner[x] >= 0 && s->g.owner[x] != s->resolved[x] && s->claimed[x]) {
			s->g.owner[x] = -1;
			held++;
		}
	}
	return held;
}

/* ---- cooperative-sticky: the constrained builder ------------------------------------------- */

static int partition_then_topic(const void *ctx, int32_t x, int32_t y)
{
	const struct group *g = ctx;
	int32_t tx = g->part_topic[x], ty = g->part_topic[y];
	int32_t px = x - g->topics[tx].base, py = y - g->topics[ty].base;
	if (px != py)
		return px < py ? -1 : 1;
	return tx < ty ? -1 : tx > ty;
}

struct quota {
	int32_t min, max;
	int32_t expected; /* members that get max (P % M) */
	int32_t current;  /* members that have max */
	int32_t *under;   /* members below min, by member id */
	int32_t under_n;
	int32_t *exact; /* members at min that may get max: a queue, by member id */
	int32_t exact_head, exact_tail;
};

/* ConstrainedAssignmentBuilder.assignOwnedPartitions: each member keeps what its quota allows
 * of its owned partitions, in (partition, topic) order. */
static int constrained_keep(struct sticky *s, struct quota *q)
{
	struct group *g = &s->g;
	int32_t most = 0;
	for (int32_t m = 0; m < g->members_count; m++)
		if (s->claim_start[m + 1] - s->claim_start[m] > most)
			most = s->claim_start[m + 1] - s->claim_start[m];
	int32_t *owned = arena_array(g->a, (size_t)most, sizeof(*owned));
	if (!owned)
		return -ENOMEM;
	for (int32_t i = 0; i < g->members_count; i++) {
		int32_t m = s->by_id[i], n = 0, keep;
		for (int32_t k = s->claim_start[m]; k < s->claim_start[m + 1]; k++)
			if (s->resolved[s->claims[k]] == m)
				owned[n++] = s->claims[k];
		int rc = sort_ids(g->a, owned, (size_t)n, partition_then_topic, g);
		if (rc)
			return rc;
		if (n < q->min) {
			keep = n;
			q->under[q->under_n++] = m;
		} else if (n >= q->max && q->current < q->expected) {
			keep = q->max;
			if (++q->current == q->expected)
				q->exact_head = q->exact_tail;
		} else {
			keep = q->min;
			if (q->current < q->expected)
				q->exact[q->exact_tail++] = m;
		}
		for (int32_t k = 0; k < keep; k++)
			g->owner[owned[k]] = m;
		s->size[m] = keep;
	}
	return 0;
}

/* ConstrainedAssignmentBuilder.assignRoundRobin: the partitions nobody kept, in (topic,
 * partition) order, round-robin over the members below min; once none is, one each to the
 * members at min, in order. */
static void constrained_fill(struct sticky *s, struct quota *q, const bool *unassigned)
{
	struct group *g = &s->g;
	int32_t it = 0;
	for (int32_t x = 0; x < g->partitions_count; x++) {
		if (!unassigned[x])
			continue;
		int32_t m;
		bool from_under = true;
		if (it < q->under_n) {
			m = q->under[it++];
		} else if (q->under_n > 0) {
			it = 0;
			m = q->under[it++];
		} else {
			/* Kafka: "No more unfilled consumers to be assigned." The quotas add up. */
			ASSERT(q->exact_head < q->exact_tail);
			m = q->exact[q->exact_head++];
			from_under = false;
		}
		g->owner[x] = m;
		if (++s->size[m] == q->min) {
			ASSERT(from_under);
			memmove(q->under + it - 1, q->under + it,
			        (size_t)(q->under_n - it) * sizeof(*q->under));
			q->under_n--;
			it--;
			ASSERT(q->exact_tail < g->members_count);
			q->exact[q->exact_tail++] = m;
		} else if (s->size[m] == q->max) {
			q->current++;
		}
	}
	/* Kafka's verifyUnfilledMembers: every member reached min. */
	ASSERT(q->under_n == 0);
}

static int sticky_constrained(struct sticky *s)
{
	struct group *g = &s->g;
	int32_t n = g->members_count, parts = g->partitions_count;
	if (n == 0)
		return 0;
	struct quota q = {
		.min = parts / n,
		.max = (parts + n - 1) / n,
		.expected = parts % n,
		.under = arena_array(g->a, (size_t)n, sizeof(*q.under)),
		.exact = arena_array(g->a, (size_t)n, sizeof(*q.exact)),
	};
	bool *unassigned = arena_array(g->a, (size_t)parts, sizeof(*unassigned));
	if (!q.under || !q.exact || !unassigned)
		return -ENOMEM;
	int rc = constrained_keep(s, &q);
	if (rc)
		return rc;
	for (int32_t x = 0; x < parts; x++)
		unassigned[x] = g->owner[x] < 0;
	constrained_fill(s, &q, unassigned);
	return 0;
}

/* ---- cooperative-sticky: the general builder ----------------------------------------------- */

struct general {
	struct sticky *s;
	/* The members taking part, by (size, member id): Kafka's sortedCurrentSubscriptions. */
	int32_t *set;
	int32_t set_n;
	int32_t *set_pos;    /* [members] place in set, -1 when not in it */
	int32_t *max_size;   /* [members] partitions of its topics: all it could get */
	int32_t *prev_owner; /* [partitions] owner in the newest older generation, or -1 */
	int32_t *prev_gen;   /* [partitions] */
	int32_t *mv_src;     /* [partitions] where this round moved it from, -1 when it did not */
	int32_t *mv_next;    /* [partitions] the moved partitions of one owner: a list */
	int32_t *mv_prev;
	int32_t *mv_head;   /* [members] */
	int32_t *topic_max; /* [topics] scratch of general_balanced */
	int32_t *all;       /* reassignable partitions, topics by (consumers, name) */
	int32_t all_n;
	int32_t *fresh; /* the ones placed this round, same order */
	int32_t fresh_n;
	bool revocation_required;
	bool balanced;      /* general_balanced's answer, */
	bool balance_stale; /* unless a size changed since */
	int32_t witness_c;  /* when not balanced: a member that could take */
	int32_t witness_x;  /* this partition from its owner, who has two or more more */
};

static bool set_before(const struct general *ge, int32_t x, int32_t y)
{
	const int32_t *size = ge->s->size;
	if (size[x] != size[y])
		return size[x] < size[y];
	return ge->s->id_rank[x] < ge->s->id_rank[y];
}

static void set_insert(struct general *ge, int32_t m)
{
	int32_t lo = 0, hi = ge->set_n;
	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2;
		if (set_before(ge, ge->set[mid], m))
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(ge->set + lo + 1, ge->set + lo, (size_t)(ge->set_n - lo) * sizeof(*ge->set));
	ge->set[lo] = m;
	ge->set_n++;
	ge->balance_stale = true;
	for (int32_t i = lo; i < ge->set_n; i++)
		ge->set_pos[ge->set[i]] = i;
}

static void set_remove(struct general *ge, int32_t m)
{
	int32_t at = ge->set_pos[m];
	ASSERT(at >= 0 && ge->set[at] == m);
	memmove(ge->set + at, ge->set + at + 1, (size_t)(ge->set_n - at - 1) * sizeof(*ge->set));
	ge->set_n--;
	ge->set_pos[m] = -1;
	ge->balance_stale = true;
	for (int32_t i = at; i < ge->set_n; i++)
		ge->set_pos[ge->set[i]] = i;
}

/* Gives partition x to m (x unowned), keeping the set in order. */
static void general_give(struct general *ge, int32_t x, int32_t m)
{
	set_remove(ge, m);
	ge->s->g.owner[x] = m;
	ge->s->size[m]++;
	set_insert(ge, m);
}

/* The first member of the set subscribed to topic t: the least loaded, or -1. */
static int32_t general_lightest(const struct general *ge, int32_t t)
{
	for (int32_t i = 0; i < ge->set_n; i++)
		if (subscribed(&ge->s->g, ge->set[i], t))
			return ge->set[i];
	return -1;
}

static int topic_potential_order(const void *ctx, int32_t x, int32_t y)
{
	const struct group *g = ctx;
	int32_t cx = g->topics[x].consumers_count, cy = g->topics[y].consumers_count;
	if (cx != cy)
		return cx < cy ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* GeneralAssignmentBuilder's constructor, assignOwnedPartitions and prepopulateCurrent-
 * Assignments: members keep the partitions whose claim stands and whose topic they still
 * subscribe to; the partitions in Kafka's order; older generations' owners. */
static int general_prepare(struct general *ge)
{
	struct sticky *s = ge->s;
	struct group *g = &s->g;
	int32_t parts = g->partitions_count;
	for (int32_t x = 0; x < parts; x++) {
		int32_t m = s->resolved[x];
		if (m >= 0 && subscribed(g, m, g->part_topic[x])) {
			g->owner[x] = m;
			s->size[m]++;
		} else if (m >= 0) {
			ge->revocation_required = true;
		}
	}
	int32_t *topics = arena_array(g->a, (size_t)g->topics_count, sizeof(*topics));
	if (!topics)
		return -ENOMEM;
	for (int32_t t = 0; t < g->topics_count; t++)
		topics[t] = t;
	int rc = sort_ids(g->a, topics, (size_t)g->topics_count, topic_potential_order, g);
	if (rc)
		return rc;
	for (int32_t i = 0; i < g->topics_count; i++) {
		const struct topic *tp = &g->topics[topics[i]];
		for (int32_t p = 0; p < tp->partitions_count; p++) {
			ge->all[ge->all_n++] = tp->base + p;
			if (g->owner[tp->base + p] < 0)
				ge->fresh[ge->fresh_n++] = tp->base + p;
		}
	}
	for (int32_t x = 0; x < parts; x++)
		ge->prev_owner[x] = -1;
	for (int32_t i = 0; i < g->members_count; i++) {
		int32_t m = s->by_id[i];
		if (s->gen[m] >= s->max_gen)
			continue;
		for (int32_t k = s->claim_start[m]; k < s->claim_start[m + 1]; k++) {
			int32_t x = s->claims[k];
			if (ge->prev_owner[x] < 0 || s->gen[m] > ge->prev_gen[x]) {
				ge->prev_owner[x] = m;
				ge->prev_gen[x] = s->gen[m];
			}
		}
	}
	return 0;
}

/* GeneralAssignmentBuilder.isBalanced: sizes within one, or no member short of all it could
 * get could take a partition of its topics from a member with two or more partitions more.
 * topic_max[t] is the largest size among the owners of t's partitions. */
static bool general_compute_balanced(struct general *ge)
{
	const struct sticky *s = ge->s;
	const struct group *g = &s->g;
	if (ge->set_n == 0 || s->size[ge->set[0]] >= s->size[ge->set[ge->set_n - 1]] - 1)
		return true;
	memset(ge->topic_max, 0, (size_t)g->topics_count * sizeof(*ge->topic_max));
	for (int32_t x = 0; x < g->partitions_count; x++) {
		int32_t o = g->owner[x], t = g->part_topic[x];
		if (o >= 0 && ge->set_pos[o] >= 0 && s->size[o] > ge->topic_max[t])
			ge->topic_max[t] = s->size[o];
	}
	for (int32_t i = 0; i < ge->set_n; i++) {
		int32_t c = ge->set[i];
		if (s->size[c] == ge->max_size[c])
			continue;
		for (int32_t k = g->sub_start[c]; k < g->sub_start[c + 1]; k++) {
			if (ge->topic_max[g->subs[k]] > s->size[c] + 1) {
				ge->witness_c = c;
				ge->witness_x = g->topics[g->subs[k]].base;
				return false;
			}
		}
	}
	return true;
}

static bool witness_at(const struct general *ge, int32_t c, int32_t x)
{
	int32_t o = ge->s->g.owner[x];
	return o >= 0 && ge->set_pos[o] >= 0 && ge->s->size[o] > ge->s->size[c] + 1;
}

/* Whether the imbalance general_compute_balanced last found is still there: the same
 * partition, else another of its topic. The topic is searched from its end because the loop
 * moves partitions in ascending order, so the one found lasts. */
static bool general_witness_holds(struct general *ge)
{
	const struct sticky *s = ge->s;
	int32_t c = ge->witness_c;
	if (c < 0 || ge->set_pos[c] < 0 || s->size[c] == ge->max_size[c])
		return false;
	if (witness_at(ge, c, ge->witness_x))
		return true;
	const struct topic *tp = &s->g.topics[s->g.part_topic[ge->witness_x]];
	for (int32_t x = tp->base + tp->partitions_count - 1; x >= tp->base; x--) {
		if (witness_at(ge, c, x)) {
			ge->witness_x = x;
			return true;
		}
	}
	return false;
}

/* The balance changes only when a member's size does, and every size change goes through the
 * set: Kafka tests it before each partition it visits, tape once per change, and while the
 * imbalance it found last is still there it need not look further. Same answers; a rebalance
 * of 1024 members over 65536 partitions that moves 63000 of them took 6.4 s testing every
 * time, 0.2 s so. */
static bool general_balanced(struct general *ge)
{
	if (ge->balance_stale) {
		const int32_t *size = ge->s->size;
		if (ge->set_n == 0 || size[ge->set[0]] >= size[ge->set[ge->set_n - 1]] - 1)
			ge->balanced = true;
		else if (general_witness_holds(ge))
			ge->balanced = false;
		else
			ge->balanced = general_compute_balanced(ge);
		ge->balance_stale = false;
	}
	return ge->balanced;
}

/* PartitionMovements.getTheActualPartitionToBeMoved: if this round already moved a partition
 * of x's topic from new_owner to x's owner, that one goes back instead of x (undoing a move
 * rather than making a second one).
 *
 * Kafka also does this for an x that itself moved this round, looking for a partition moved
 * from new_owner to x's original owner: that partition is held by a third member, so the move
 * leaves x's overloaded owner as it was, and two such moves can undo each other forever (the
 * property tests found groups where Kafka's loop would not end). tape moves x itself then. */
static int32_t general_actual_move(const struct general *ge, int32_t x, int32_t new_owner)
{
	const struct group *g = &ge->s->g;
	int32_t back = -1;
	if (ge->mv_src[x] >= 0)
		return x;
	/* The lowest such partition: Java takes the first a HashSet gives. */
	for (int32_t y = ge->mv_head[g->owner[x]]; y >= 0; y = ge->mv_next[y])
		if (ge->mv_src[y] == new_owner && g->part_topic[y] == g->part_topic[x] &&
		    (back < 0 || y < back))
			back = y;
	return back >= 0 ? back : x;
}

static void moved_unlink(struct general *ge, int32_t x, int32_t owner)
{
	if (ge->mv_prev[x] >= 0)
		ge->mv_next[ge->mv_prev[x]] = ge->mv_next[x];
	else
		ge->mv_head[owner] = ge->mv_next[x];
	if (ge->mv_next[x] >= 0)
		ge->mv_prev[ge->mv_next[x]] = ge->mv_prev[x];
	ge->mv_src[x] = -1;
}

static void moved_link(struct general *ge, int32_t x, int32_t src, int32_t owner)
{
	ge->mv_src[x] = src;
	ge->mv_prev[x] = -1;
	ge->mv_next[x] = ge->mv_head[owner];
	if (ge->mv_next[x] >= 0)
		ge->mv_prev[ge->mv_next[x]] = x;
	ge->mv_head[owner] = x;
}

/* processPartitionMovement with PartitionMovements.movePartition: x goes to new_owner, and its
 * net move of this round is recorded (a move back home erases it). */
static void general_move(struct general *ge, int32_t x, int32_t new_owner)
{
	struct sticky *s = ge->s;
	int32_t old_owner = s->g.owner[x];
	ASSERT(old_owner >= 0 && old_owner != new_owner);
	int32_t src = old_owner;
	if (ge->mv_src[x] >= 0) {
		src = ge->mv_src[x];
		moved_unlink(ge, x, old_owner);
	}
	if (src != new_owner)
		moved_link(ge, x, src, new_owner);
	set_remove(ge, old_owner);
	set_remove(ge, new_owner);
	s->g.owner[x] = new_owner;
	s->size[old_owner]--;
	s->size[new_owner]++;
	set_insert(ge, new_owner);
	set_insert(ge, old_owner);
}

/* Where partition x (owned by c) should go, or -1 to leave it: back to its older owner if
 * that one has two or more fewer, else to the lightest member subscribed to its topic if
 * some member subscribed has two or more fewer than c. */
static int32_t general_target(const struct general *ge, int32_t x)
{
	const struct sticky *s = ge->s;
	const struct group *g = &s->g;
	int32_t c = g->owner[x], t = g->part_topic[x], pm = ge->prev_owner[x];
	ASSERT(c >= 0);
	if (pm >= 0 && pm != c && ge->set_pos[pm] >= 0 && subscribed(g, pm, t) &&
	    s->size[c] > s->size[pm] + 1)
		return pm;
	const struct topic *tp = &g->topics[t];
	for (int32_t i = 0; i < tp->consumers_count; i++) {
		int32_t o = g->consumers[tp->consumers_start + i];
		if (ge->set_pos[o] >= 0 && s->size[c] > s->size[o] + 1)
			return general_lightest(ge, t);
	}
	return -1;
}

/* Kafka's getBalanceScore: the sum over pairs of members taking part of their size
 * difference. The set is in ascending size, so the k-th of n counts 2k - n + 1 times. */
static int64_t general_score(const struct general *ge)
{
	int64_t score = 0;
	for (int32_t k = 0; k < ge->set_n; k++)
		score += (int64_t)ge->s->size[ge->set[k]] * (2 * k - ge->set_n + 1);
	return score;
}

/* GeneralAssignmentBuilder.performReassignments over list[0..n): passes until one moves
 * nothing or the assignment is balanced.
 *
 * Bound: every move takes a partition from a member with two or more partitions more than the
 * one it goes to, which lowers the balance score by at least 2 (the pair itself by 2, each
 * member sized between them by 2, the others not at all). The score is never negative, so
 * there are at most score / 2 moves, and a pass without a move is the last. */
static void general_reassign(struct general *ge, const int32_t *list, int32_t n)
{
	int64_t passes_max = general_score(ge) / 2 + 1;
	bool modified = true;
	for (int64_t pass = 0; modified; pass++) {
		ASSERT(pass <= passes_max);
		modified = false;
		for (int32_t i = 0; i < n && !general_balanced(ge); i++) {
			int32_t to = general_target(ge, list[i]);
			if (to < 0)
				continue;
			general_move(ge, general_actual_move(ge, list[i], to), to);
			modified = true;
		}
	}
}

/* Whether member m can take part in balancing (canConsumerParticipateInReassignment): it
 * lacks some partition it could get, or one of its topics has other possible consumers. */
static bool general_participates(const struct general *ge, int32_t m)
{
	const struct group *g = &ge->s->g;
	if (ge->s->size[m] < ge->max_size[m])
		return true;
	for (int32_t k = g->sub_start[m]; k < g->sub_start[m + 1]; k++) {
		const struct topic *tp = &g->topics[g->subs[k]];
		if (tp->partitions_count > 0 && tp->consumers_count >= 2)
			return true;
	}
	return false;
}

/* Drops from list[0..*n) the partitions of topics with a single possible consumer. */
static void general_drop_fixed(const struct group *g, int32_t *list, int32_t *n)
{
	int32_t w = 0;
	for (int32_t i = 0; i < *n; i++)
		if (g->topics[g->part_topic[list[i]]].consumers_count >= 2)
			list[w++] = list[i];
	*n = w;
}

/* GeneralAssignmentBuilder.balance. */
static void general_balance(struct general *ge)
{
	struct group *g = &ge->s->g;
	for (int32_t i = 0; i < ge->fresh_n; i++) {
		int32_t m = general_lightest(ge, g->part_topic[ge->fresh[i]]);
		ASSERT(m >= 0); /* every topic in play has a subscriber, all in the set so far */
		general_give(ge, ge->fresh[i], m);
	}
	general_drop_fixed(g, ge->all, &ge->all_n);
	general_drop_fixed(g, ge->fresh, &ge->fresh_n);
	for (int32_t m = 0; m < g->members_count; m++)
		if (!general_participates(ge, m))
			set_remove(ge, m);
	/* Kafka keeps a copy here and goes back to it if the moves did not lower the balance
	 * score. Every move lowers it (general_reassign), so that never happens. */
	if (!ge->revocation_required)
		general_reassign(ge, ge->fresh, ge->fresh_n);
	general_reassign(ge, ge->all, ge->all_n);
}

static int sticky_general(struct sticky *s)
{
	struct group *g = &s->g;
	int32_t n = g->members_count, parts = g->partitions_count, topics = g->topics_count;
	struct general ge = {
		.s = s,
		.balance_stale = true,
		.witness_c = -1,
		.set = arena_array(g->a, (size_t)n, sizeof(*ge.set)),
		.set_pos = arena_array(g->a, (size_t)n, sizeof(*ge.set_pos)),
		.max_size = arena_array(g->a, (size_t)n, sizeof(*ge.max_size)),
		.prev_owner = arena_array(g->a, (size_t)parts, sizeof(*ge.prev_owner)),
		.prev_gen = arena_array(g->a, (size_t)parts, sizeof(*ge.prev_gen)),
		.mv_src = arena_array(g->a, (size_t)parts, sizeof(*ge.mv_src)),
		.mv_next = arena_array(g->a, (size_t)parts, sizeof(*ge.mv_next)),
		.mv_prev = arena_array(g->a, (size_t)parts, sizeof(*ge.mv_prev)),
		.mv_head = arena_array(g->a, (size_t)n, sizeof(*ge.mv_head)),
		.topic_max = arena_array(g->a, (size_t)topics, sizeof(*ge.topic_max)),
		.all = arena_array(g->a, (size_t)parts, sizeof(*ge.all)),
		.fresh = arena_array(g->a, (size_t)parts, sizeof(*ge.fresh)),
	};
	if (!ge.set || !ge.set_pos || !ge.max_size || !ge.prev_owner || !ge.prev_gen ||
	    !ge.mv_src || !ge.mv_next || !ge.mv_prev || !ge.mv_head || !ge.topic_max || !ge.all ||
	    !ge.fresh)
		return -ENOMEM;
	for (int32_t x = 0; x < parts; x++)
		ge.mv_src[x] = -1;
	for (int32_t m = 0; m < n; m++)
		ge.mv_head[m] = -1;
	for (int32_t m = 0; m < n; m++)
		for (int32_t k = g->sub_start[m]; k < g->sub_start[m + 1]; k++)
			ge.max_size[m] += g->topics[g->subs[k]].partitions_count;
	int rc = general_prepare(&ge);
	if (rc)
		return rc;
	for (int32_t m = 0; m < n; m++) {
		ge.set_pos[m] = -1;
		set_insert(&ge, m);
	}
	general_balance(&ge);
	return 0;
}

int assign_cooperative_sticky(const struct assign_group *grp, struct arena *a,
                              struct assign_result *out)
{
	struct sticky s;
	bool equal = true;
	int rc = sticky_init(&s, grp, a);
	if (rc == 0)
		rc = sticky_all_equal(&s, &equal);
	if (rc == 0)
		rc = equal ? sticky_constrained(&s) : sticky_general(&s);
	if (rc)
		return rc;
	int32_t held = sticky_hold_moving(&s);
	rc = group_result(&s.g, out);
	out->pending_count = held;
	return rc;
}

/* ---- lookup and payloads ------------------------------------------------------------------- */

static const struct assignor assignors[] = {
	{ "range", ASSIGN_EAGER, assign_range },
	{ "roundrobin", ASSIGN_EAGER, assign_roundrobin },
	{ "cooperative-sticky", ASSIGN_COOPERATIVE, assign_cooperative_sticky },
	/* kafkajs's name for its round-robin assignor (its default). */
	{ "RoundRobinAssigner", ASSIGN_EAGER, assign_roundrobin },
};

const struct assignor *assignor_find(struct kstr name)
{
	for (size_t i = 0; i < ARRAY_LEN(assignors); i++)
		if (!kstr_is_null(name) && kstr_eq(name, assignors[i].name))
			return &assignors[i];
	return NULL;
}

int assign_member_decode(struct assign_member *m, struct kstr member_id,
                         struct kstr group_instance_id, struct kbytes metadata, struct arena *a)
{
	m->member_id = member_id;
	m->group_instance_id = group_instance_id;
	return consumer_protocol_subscription_decode(metadata, a, &m->subscription);
}

void assign_encode_subscription(struct buf *b, const struct assignor *as, int32_t topics_count,
                                const struct kstr *topics, int32_t owned_count,
                                const struct consumer_protocol_topic_partition *owned,
                                int32_t generation_id)
{
	uint8_t user_data[4] = { (uint8_t)((uint32_t)generation_id >> 24),
		                 (uint8_t)((uint32_t)generation_id >> 16),
		                 (uint8_t)((uint32_t)generation_id >> 8), (uint8_t)generation_id };
	struct consumer_protocol_subscription sub = {
		.topics_count = topics_count,
		.topics = (struct kstr *)topics,
		.user_data = { NULL, -1 },
		.owned_partitions_count = owned_count,
		.owned_partitions = (struct consumer_protocol_topic_partition *)owned,
		.generation_id = generation_id,
		.rack_id = KSTR_NULL,
	};
	if (as->rebalance == ASSIGN_COOPERATIVE)
		sub.user_data = (struct kbytes){ user_data, 4 };
	consumer_protocol_subscription_encode(b, CONSUMER_PROTOCOL_SUBSCRIPTION_VERSION_MAX, &sub);
}

void assign_encode_assignment(struct buf *b, const struct consumer_protocol_assignment *asg)
{
	consumer_protocol_assignment_encode(b, 0, asg);
}
