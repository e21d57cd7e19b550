/*
 * tests/fuzz/fuzz_assign.c: the assignors (consumer-groups/assign.h) on groups built from the
 * input. The first byte picks the kind of group (bit 0: every member subscribes alike; bit 1:
 * random claims with random generations; bit 2: members leave and join after it settles); the
 * rest drives tests/support/assign_world.c's generator (up to 20 members, 10 topics, 50
 * partitions each). Oracles, checked with abort(): every assignor's result is a valid
 * assignment of every subscribed partition; range gives contiguous ranges, roundrobin even
 * sizes when subscriptions are equal; cooperative-sticky never gives a partition that another
 * member's standing claim covers, settles within 8 rounds into a complete, balanced assignment,
 * and after a membership change revokes no more than balance requires. The input also goes to
 * assign_member_generation as user data.
 */
#include "base/limits.h"
#include "consumer-groups/assign.h"
#include "tests/support/assign_world.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t left;
};

/* The next four input bytes; zeros once it runs out. */
static uint32_t input_next(void *ctx)
{
	struct input *in = ctx;
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		v <<= 8;
		if (in->left > 0) {
			v |= *in->p++;
			in->left--;
		}
	}
	return v;
}

static void must(const char *why)
{
	if (why) {
		fprintf(stderr, "fuzz_assign: %s\n", why);
		abort();
	}
}

static struct world w;
static world_owners own;

static int32_t run(assign_fn fn, struct arena *a)
{
	struct assign_group grp;
	struct assign_result r;
	arena_reset(a);
	world_group(&w, a, &grp);
	if (fn(&grp, a, &r) != 0)
		must("an assignor failed");
	must(world_read(&w, &r, own));
	return r.pending_count;
}

/* Rounds of cooperative-sticky until nothing is pending, as the members would play them. */
static void settle(struct arena *a, int32_t *gen)
{
	for (int round = 0;; round++) {
		if (round == 8)
			must("cooperative-sticky did not settle in 8 rounds");
		int32_t pending = run(assign_cooperative_sticky, a);
		must(world_check_cooperative(&w, own));
		world_settle(&w, own, ++*gen);
		if (pending == 0)
			break;
	}
	must(world_check_complete(&w, own));
	must(world_equal_subscriptions(&w) ? world_check_even(&w, own)
	                                   : world_check_balanced(&w, own));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct consumer_protocol_subscription s = {
		.generation_id = -1, .user_data = { data + 1, (int32_t)(size - 1) }
	};
	(void)assign_member_generation(&s);
	struct input in = { data + 1, size - 1 };
	struct world_rng rng = { input_next, &in };
	bool equal = data[0] & 1;
	struct arena a;
	arena_init(&a, 64 * MiB);
	world_random(&w, &rng, equal, 10, 50, 20);
	if (data[0] & 2)
		world_random_claims(&w, &rng);
	run(assign_range, &a);
	must(world_check_complete(&w, own));
	must(world_check_range(&w, own));
	run(assign_roundrobin, &a);
	must(world_check_complete(&w, own));
	if (world_equal_subscriptions(&w))
		must(world_check_even(&w, own));
	int32_t gen = 10;
	settle(&a, &gen);
	if (data[0] & 4) {
		for (uint32_t k = world_below(&rng, 3); k > 0 && w.members_count > 1; k--)
			world_remove_member(&w,
			                    (int32_t)world_below(&rng, (uint32_t)w.members_count));
		for (uint32_t k = world_below(&rng, 3); k > 0; k--)
			world_add_member(&w, &rng, equal);
		int32_t bound = world_revoked_bound(&w);
		run(assign_cooperative_sticky, &a);
		must(world_check_cooperative(&w, own));
		if (equal && world_revoked(&w, own) != bound)
			must("cooperative-sticky revoked more than balance requires");
		world_settle(&w, own, ++gen);
		settle(&a, &gen);
	}
	arena_free(&a);
	return 0;
}
