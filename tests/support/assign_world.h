/*
 * tests/support/assign_world.h: a model consumer group for the assignor tests
 * (tests/unit/consumer-groups/test_assign.c) and the fuzz target (tests/fuzz/fuzz_assign.c).
 *
 * A world is topics with partition counts and members with an id, maybe a group instance id, a
 * subscription, the partitions they claim to own and the generation of that claim. The helpers
 * build the assignors' input from it, read an assignment back into an owner per partition,
 * check the properties every assignment must have, and play the members' side of a rebalance
 * (after an assignment each member owns what it was given, at the new generation).
 *
 * Checks return NULL, or what is wrong in a static buffer (valid until the next check), so
 * the unit tests can print it and the fuzzer abort on it.
 */
#ifndef TAPE_TESTS_SUPPORT_ASSIGN_WORLD_H
#define TAPE_TESTS_SUPPORT_ASSIGN_WORLD_H

#include "consumer-groups/assign.h"

#include <stdbool.h>
#include <stdint.h>

#define WORLD_TOPICS_MAX 12
#define WORLD_PARTITIONS_MAX 64
#define WORLD_MEMBERS_MAX 24
/* Subscription bit for "ghost", a topic the metadata does not have. */
#define WORLD_GHOST (1u << WORLD_TOPICS_MAX)

struct world_member {
	char id[24];
	char instance[24]; /* "" for a dynamic member */
	uint32_t subs;     /* bit t: subscribes to topic t; WORLD_GHOST: to "ghost" */
	int32_t generation;
	bool owned[WORLD_TOPICS_MAX][WORLD_PARTITIONS_MAX];
};

struct world {
	int32_t topics_count;
	char topic[WORLD_TOPICS_MAX][16];
	int32_t partitions[WORLD_TOPICS_MAX];
	int32_t members_count;
	struct world_member m[WORLD_MEMBERS_MAX];
	int32_t next_id; /* makes member ids unique across additions */
};

/* owners[t][p]: the member assigned partition p of topic t, or -1. */
typedef int8_t world_owners[WORLD_TOPICS_MAX][WORLD_PARTITIONS_MAX];

/* Random numbers: a generator for the unit tests, the input bytes for the fuzzer. */
struct world_rng {
	uint32_t (*next)(void *ctx);
	void *ctx;
};

/* xorshift64 over *state, for world_rng. */
uint32_t world_xorshift(void *state);
static inline uint32_t world_below(struct world_rng *r, uint32_t n)
{
	return n ? r->next(r->ctx) % n : 0;
}

/* 1..max_topics topics of 1..max_partitions, 1..max_members members without owned
 * partitions. equal: every member subscribes to the same topics; else each member to a random
 * set (maybe empty, maybe with the ghost). Some members are static. */
void world_random(struct world *w, struct world_rng *r, bool equal, int32_t max_topics,
                  int32_t max_partitions, int32_t max_members);
/* Adds a member with a fresh id, subscribed like member 0 when equal (else at random), owning
 * nothing, generation -1. Returns its index, or -1 when full. */
int32_t world_add_member(struct world *w, struct world_rng *r, bool equal);
void world_remove_member(struct world *w, int32_t i);
/* Random claims with random generations (-1..3), conflicts included. */
void world_random_claims(struct world *w, struct world_rng *r);

/* The assignors' input, in a (the strings stay in w). */
void world_group(const struct world *w, struct arena *a, struct assign_group *grp);
/* Reads an assignment: topics known and subscribed, partitions that exist, none twice. */
const char *world_read(const struct world *w, const struct assign_result *r, world_owners own);

bool world_equal_subscriptions(const struct world *w);
/* Every partition of a known topic some member subscribes to has an owner. */
const char *world_check_complete(const struct world *w, world_owners own);
/* Members' sizes are within one of each other. */
const char *world_check_even(const struct world *w, world_owners own);
/* Per topic, its subscribers (in Kafka's MemberInfo order) hold contiguous ranges, within
 * one in size, the larger first. */
const char *world_check_range(const struct world *w, world_owners own);
/* Kafka's verifyValidityAndBalance: no member has two or more partitions more than a member
 * subscribed to the topic of one of them. */
const char *world_check_balanced(const struct world *w, world_owners own);
/* Cooperation: a partition goes only to the member whose claim stands (the one claim of the
 * highest generation among its claimers), or is claimed by nobody. */
const char *world_check_cooperative(const struct world *w, world_owners own);
/* The member whose claim on (t, p) stands, or -1 (none, or a tie). */
int32_t world_winner(const struct world *w, int32_t t, int32_t p);

/* Partitions members claimed and were not given. */
int32_t world_revoked(const struct world *w, world_owners own);
/* Equal subscriptions: the fewest partitions members must give up for sizes within one. */
int32_t world_revoked_bound(const struct world *w);
/* Each member now owns what it was given, at generation. */
void world_settle(struct world *w, world_owners own, int32_t generation);

#endif
