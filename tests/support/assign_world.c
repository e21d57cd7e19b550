/*
 * tests/support/assign_world.c: see assign_world.h. Independent of assign.c on purpose: the
 * checks recompute from the model (member order, claim winners, the revocation bound) rather
 * than from anything the assignors expose.
 */
#include "assign_world.h"

#include <stdio.h>
#include <string.h>

static char why[256];

#define FAIL(...)                                        \
	do {                                             \
		snprintf(why, sizeof(why), __VA_ARGS__); \
		return why;                              \
	} while (0)

uint32_t world_xorshift(void *state)
{
	uint64_t *s = state, x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return (uint32_t)(x >> 32);
}

static uint32_t random_subs(struct world *w, struct world_rng *r)
{
	uint32_t subs = 0;
	for (int32_t t = 0; t < w->topics_count; t++)
		if (world_below(r, 2))
			subs |= 1u << t;
	if (world_below(r, 8) == 0)
		subs |= WORLD_GHOST;
	return subs;
}

static void name_member(struct world *w, struct world_rng *r, int32_t i)
{
	struct world_member *m = &w->m[i];
	/* Random ids, so member order is not insertion order; next_id keeps them distinct. */
	snprintf(m->id, sizeof(m->id), "c-%04x-%d", (unsigned)world_below(r, 0x10000),
	         (int)w->next_id++);
	m->instance[0] = 0;
	if (world_below(r, 4) == 0)
		snprintf(m->instance, sizeof(m->instance), "i-%04x-%d",
		         (unsigned)world_below(r, 0x10000), i);
}

void world_random(struct world *w, struct world_rng *r, bool equal, int32_t max_topics,
                  int32_t max_partitions, int32_t max_members)
{
	memset(w, 0, sizeof(*w));
	w->topics_count = 1 + (int32_t)world_below(r, (uint32_t)max_topics);
	for (int32_t t = 0; t < w->topics_count; t++) {
		snprintf(w->topic[t], sizeof(w->topic[t]), "t%d", t);
		w->partitions[t] = 1 + (int32_t)world_below(r, (uint32_t)max_partitions);
	}
	w->members_count = 1 + (int32_t)world_below(r, (uint32_t)max_members);
	uint32_t common = random_subs(w, r);
	if (common == 0 || common == WORLD_GHOST)
		common |= 1;
	for (int32_t i = 0; i < w->members_count; i++) {
		name_member(w, r, i);
		w->m[i].subs = equal ? common : random_subs(w, r);
		w->m[i].generation = -1;
	}
}

int32_t world_add_member(struct world *w, struct world_rng *r, bool equal)
{
	if (w->members_count >= WORLD_MEMBERS_MAX)
		return -1;
	int32_t i = w->members_count++;
	memset(&w->m[i], 0, sizeof(w->m[i]));
	name_member(w, r, i);
	w->m[i].subs = equal && i > 0 ? w->m[0].subs : random_subs(w, r);
	w->m[i].generation = -1;
	return i;
}

void world_remove_member(struct world *w, int32_t i)
{
	memmove(&w->m[i], &w->m[i + 1], (size_t)(w->members_count - i - 1) * sizeof(w->m[0]));
	w->members_count--;
}

void world_random_claims(struct world *w, struct world_rng *r)
{
	for (int32_t i = 0; i < w->members_count; i++) {
		struct world_member *m = &w->m[i];
		m->generation = (int32_t)world_below(r, 5) - 1;
		memset(m->owned, 0, sizeof(m->owned));
		for (int32_t t = 0; t < w->topics_count; t++)
			for (int32_t p = 0; p < w->partitions[t]; p++)
				m->owned[t][p] = world_below(r, 4) == 0;
	}
}

void world_group(const struct world *w, struct arena *a, struct assign_group *grp)
{
	struct assign_member *members = arena_array(a, WORLD_MEMBERS_MAX, sizeof(*members));
	struct assign_topic *topics = arena_array(a, WORLD_TOPICS_MAX, sizeof(*topics));
	for (int32_t t = 0; t < w->topics_count; t++)
		topics[t] = (struct assign_topic){ kstr_from(w->topic[t]), w->partitions[t] };
	for (int32_t i = 0; i < w->members_count; i++) {
		const struct world_member *wm = &w->m[i];
		struct consumer_protocol_subscription *s = &members[i].subscription;
		members[i].member_id = kstr_from(wm->id);
		members[i].group_instance_id =
		    wm->instance[0] ? kstr_from(wm->instance) : KSTR_NULL;
		s->topics = arena_array(a, WORLD_TOPICS_MAX + 1, sizeof(*s->topics));
		/* Odd members list their topics backwards: order must not matter. */
		for (int32_t k = 0; k < w->topics_count; k++) {
			int32_t t = i % 2 ? w->topics_count - 1 - k : k;
			if (wm->subs & (1u << t))
				s->topics[s->topics_count++] = kstr_from(w->topic[t]);
		}
		if (wm->subs & WORLD_GHOST)
			s->topics[s->topics_count++] = KSTR("ghost");
		s->user_data = (struct kbytes){ NULL, -1 };
		s->generation_id = wm->generation;
		s->rack_id = KSTR_NULL;
		s->owned_partitions =
		    arena_array(a, WORLD_TOPICS_MAX, sizeof(*s->owned_partitions));
		for (int32_t t = 0; t < w->topics_count; t++) {
			struct consumer_protocol_topic_partition *tp =
			    &s->owned_partitions[s->owned_partitions_count];
			tp->topic = kstr_from(w->topic[t]);
			tp->partitions = arena_array(a, WORLD_PARTITIONS_MAX, sizeof(int32_t));
			for (int32_t p = 0; p < w->partitions[t]; p++)
				if (wm->owned[t][p])
					tp->partitions[tp->partitions_count++] = p;
			if (tp->partitions_count > 0)
				s->owned_partitions_count++;
		}
	}
	*grp = (struct assign_group){ .members_count = w->members_count,
		                      .members = members,
		                      .topics_count = w->topics_count,
		                      .topics = topics };
}

static int32_t find_topic(const struct world *w, struct kstr name)
{
	for (int32_t t = 0; t < w->topics_count; t++)
		if (kstr_eq(name, w->topic[t]))
			return t;
	return -1;
}

const char *world_read(const struct world *w, const struct assign_result *r, world_owners own)
{
	memset(own, -1, sizeof(world_owners));
	for (int32_t i = 0; i < w->members_count; i++) {
		const struct consumer_protocol_assignment *asg = &r->assignments[i];
		for (int32_t k = 0; k < asg->assigned_partitions_count; k++) {
			const struct consumer_protocol_topic_partition *tp =
			    &asg->assigned_partitions[k];
			int32_t t = find_topic(w, tp->topic);
			if (t < 0)
				FAIL("member %d assigned unknown topic %.*s", i, tp->topic.len,
				     tp->topic.p);
			if (!(w->m[i].subs & (1u << t)))
				FAIL("member %d assigned %s, not subscribed", i, w->topic[t]);
			for (int32_t j = 0; j < tp->partitions_count; j++) {
				int32_t p = tp->partitions[j];
				if (p < 0 || p >= w->partitions[t])
					FAIL("member %d assigned %s-%d, which does not exist", i,
					     w->topic[t], p);
				if (own[t][p] >= 0)
					FAIL("%s-%d assigned to members %d and %d", w->topic[t], p,
					     own[t][p], i);
				own[t][p] = (int8_t)i;
			}
		}
	}
	return NULL;
}

bool world_equal_subscriptions(const struct world *w)
{
	for (int32_t i = 1; i < w->members_count; i++)
		if (w->m[i].subs != w->m[0].subs)
			return false;
	return true;
}

static uint32_t subscribed_topics(const struct world *w)
{
	uint32_t all = 0;
	for (int32_t i = 0; i < w->members_count; i++)
		all |= w->m[i].subs;
	return all;
}

const char *world_check_complete(const struct world *w, world_owners own)
{
	uint32_t all = subscribed_topics(w);
	for (int32_t t = 0; t < w->topics_count; t++)
		for (int32_t p = 0; all & (1u << t) && p < w->partitions[t]; p++)
			if (own[t][p] < 0)
				FAIL("%s-%d is subscribed but not assigned", w->topic[t], p);
	return NULL;
}

static void sizes(const struct world *w, world_owners own, int32_t *size)
{
	memset(size, 0, WORLD_MEMBERS_MAX * sizeof(*size));
	for (int32_t t = 0; t < w->topics_count; t++)
		for (int32_t p = 0; p < w->partitions[t]; p++)
			if (own[t][p] >= 0)
				size[own[t][p]]++;
}

const char *world_check_even(const struct world *w, world_owners own)
{
	int32_t size[WORLD_MEMBERS_MAX], lo = INT32_MAX, hi = 0;
	sizes(w, own, size);
	for (int32_t i = 0; i < w->members_count; i++) {
		lo = size[i] < lo ? size[i] : lo;
		hi = size[i] > hi ? size[i] : hi;
	}
	if (w->members_count > 0 && hi - lo > 1)
		FAIL("sizes from %d to %d", lo, hi);
	return NULL;
}

/* Kafka's MemberInfo order: static members by instance id, then dynamic ones by member id
 * (plain strcmp is Java's order for these ASCII ids). */
static bool member_info_before(const struct world *w, int32_t x, int32_t y)
{
	const struct world_member *a = &w->m[x], *b = &w->m[y];
	if (a->instance[0] && b->instance[0])
		return strcmp(a->instance, b->instance) < 0;
	if (a->instance[0] || b->instance[0])
		return a->instance[0] != 0;
	return strcmp(a->id, b->id) < 0;
}

const char *world_check_range(const struct world *w, world_owners own)
{
	for (int32_t t = 0; t < w->topics_count; t++) {
		int32_t order[WORLD_MEMBERS_MAX], n = 0;
		for (int32_t i = 0; i < w->members_count; i++) {
			if (!(w->m[i].subs & (1u << t)))
				continue;
			int32_t k = n++;
			while (k > 0 && member_info_before(w, i, order[k - 1])) {
				order[k] = order[k - 1];
				k--;
			}
			order[k] = i;
		}
		int32_t p = 0;
		for (int32_t k = 0; k < n; k++) {
			int32_t want = w->partitions[t] / n + (k < w->partitions[t] % n);
			for (int32_t j = 0; j < want; j++, p++)
				if (own[t][p] != order[k])
					FAIL("%s-%d went to %d, range gives it to %d", w->topic[t],
					     p, own[t][p], order[k]);
		}
	}
	return NULL;
}

const char *world_check_balanced(const struct world *w, world_owners own)
{
	int32_t size[WORLD_MEMBERS_MAX];
	sizes(w, own, size);
	for (int32_t t = 0; t < w->topics_count; t++) {
		for (int32_t p = 0; p < w->partitions[t]; p++) {
			int32_t o = own[t][p];
			for (int32_t i = 0; o >= 0 && i < w->members_count; i++)
				if ((w->m[i].subs & (1u << t)) && size[o] > size[i] + 1)
					FAIL("%s-%d could move from member %d (%d) to %d (%d)",
					     w->topic[t], p, o, size[o], i, size[i]);
		}
	}
	return NULL;
}

int32_t world_winner(const struct world *w, int32_t t, int32_t p)
{
	int32_t best = -1, best_gen = 0;
	bool tie = false;
	for (int32_t i = 0; i < w->members_count; i++) {
		if (!w->m[i].owned[t][p])
			continue;
		if (best < 0 || w->m[i].generation > best_gen) {
			best = i;
			best_gen = w->m[i].generation;
			tie = false;
		} else if (w->m[i].generation == best_gen) {
			tie = true;
		}
	}
	return tie ? -1 : best;
}

static bool claimed(const struct world *w, int32_t t, int32_t p)
{
	for (int32_t i = 0; i < w->members_count; i++)
		if (w->m[i].owned[t][p])
			return true;
	return false;
}

const char *world_check_cooperative(const struct world *w, world_owners own)
{
	for (int32_t t = 0; t < w->topics_count; t++)
		for (int32_t p = 0; p < w->partitions[t]; p++)
			if (own[t][p] >= 0 && claimed(w, t, p) &&
			    own[t][p] != world_winner(w, t, p))
				FAIL("%s-%d given to %d while member %d's claim stands",
				     w->topic[t], p, own[t][p], world_winner(w, t, p));
	return NULL;
}

int32_t world_revoked(const struct world *w, world_owners own)
{
	int32_t n = 0;
	for (int32_t i = 0; i < w->members_count; i++)
		for (int32_t t = 0; t < w->topics_count; t++)
			for (int32_t p = 0; p < w->partitions[t]; p++)
				n += w->m[i].owned[t][p] && own[t][p] != i;
	return n;
}

int32_t world_revoked_bound(const struct world *w)
{
	int32_t n = w->members_count, parts = 0, owned_total = 0, keep = 0, over = 0;
	if (n == 0)
		return 0;
	for (int32_t t = 0; t < w->topics_count; t++)
		if (w->m[0].subs & (1u << t))
			parts += w->partitions[t];
	int32_t lo = parts / n, hi = (parts + n - 1) / n, at_hi = parts % n;
	for (int32_t i = 0; i < n; i++) {
		int32_t o = 0;
		for (int32_t t = 0; t < w->topics_count; t++)
			for (int32_t p = 0; p < w->partitions[t]; p++)
				o += w->m[i].owned[t][p];
		owned_total += o;
		keep += o < lo ? o : lo;
		over += o >= hi;
	}
	/* Each of the at_hi larger places lets one member owning more keep one more. */
	keep += over < at_hi ? over : at_hi;
	return owned_total - keep;
}

void world_settle(struct world *w, world_owners own, int32_t generation)
{
	for (int32_t i = 0; i < w->members_count; i++) {
		struct world_member *m = &w->m[i];
		m->generation = generation;
		for (int32_t t = 0; t < w->topics_count; t++)
			for (int32_t p = 0; p < w->partitions[t]; p++)
				m->owned[t][p] = own[t][p] == i;
	}
}
