/*
 * consumer-groups/assign.h: the partition assignors a consumer group's leader runs, as pure
 * functions: "range", "roundrobin" and "cooperative-sticky", computed as Kafka's Java client
 * computes them (RangeAssignor, RoundRobinAssignor, CooperativeStickyAssignor over
 * AbstractStickyAssignor; librdkafka's cooperative-sticky mirrors the same Java code), so a
 * group that libtape leads is assigned as a group led by any other client would be. How each
 * algorithm works, and where tape knowingly differs from the Java code, is in assign.c.
 *
 * The leader has, from JoinGroup's response, every member's id, group instance id and
 * subscription payload (protocol/consumer_protocol.h), and from Metadata the partition count of
 * each subscribed topic. An assignor turns that into one assignment payload per member, which
 * the leader sends in SyncGroup.
 *
 * Pure: no I/O and no allocation but from the caller's arena, so the client library links this
 * without the broker (it may use base/ and protocol/ only, DESIGN.md §2). Input is bounded by
 * ASSIGN_MEMBERS_MAX and ASSIGN_PARTITIONS_MAX (base/limits.h); the arena needs under 100
 * bytes per partition and per member, plus about 16 per subscribed topic name and owned
 * partition in the input (5 MiB at both bounds).
 *
 * Errors: 0, -EINVAL for input that does not describe a group (two members with one member id,
 * a topic twice in the metadata, a null member id or topic name, a negative count),
 * -TAPE_ETOOLARGE past the limits, -ENOMEM when the arena is exhausted. Topics a member
 * subscribes to that the metadata lacks (or gives a negative partition count) are skipped, and
 * owned partitions that do not exist are ignored, as Kafka's assignors do.
 */
#ifndef TAPE_CONSUMER_GROUPS_ASSIGN_H
#define TAPE_CONSUMER_GROUPS_ASSIGN_H

#include "base/arena.h"
#include "base/buf.h"
#include "protocol/codec.h"
#include "protocol/consumer_protocol.h"

#include <stdint.h>

/* One topic of the metadata: its name and partition count. */
struct assign_topic {
	struct kstr topic;        /* borrowed */
	int32_t partitions_count; /* < 0: unknown, as if the topic were missing */
};

/* One member as JoinGroup's response gives it to the leader. */
struct assign_member {
	struct kstr member_id;         /* borrowed */
	struct kstr group_instance_id; /* borrowed; null for a dynamic member */
	/* Decoded from the member's metadata (assign_member_decode). The eager assignors read only
	 * topics; cooperative-sticky also owned_partitions and the generation (see
	 * assign_member_generation). Borrowed. */
	struct consumer_protocol_subscription subscription;
};

struct assign_group {
	int32_t members_count;
	const struct assign_member *members; /* borrowed */
	int32_t topics_count;
	const struct assign_topic
	    *topics; /* borrowed; topics no member subscribes to are ignored */
};

struct assign_result {
	/* One per member, in the order of assign_group.members: topics ascending, partitions
	 * ascending, user_data null (none of the three assignors sends any), version 0. Arena;
	 * the topic names are borrowed from assign_group.topics. */
	struct consumer_protocol_assignment *assignments;
	/* cooperative-sticky: partitions left out of this round because another member still
	 * owns them; they are assigned in the rebalance their owners start once they have revoked
	 * them (the cooperative protocol's second phase). 0 for the eager assignors, and 0 once a
	 * group has settled. */
	int32_t pending_count;
};

typedef int (*assign_fn)(const struct assign_group *grp, struct arena *a,
                         struct assign_result *out);

/* ConsumerPartitionAssignor.RebalanceProtocol: eager members revoke everything before they
 * rejoin; cooperative members keep their partitions and revoke only what the assignment takes
 * away, then rejoin so the revoked partitions can be assigned. */
enum assign_rebalance {
	ASSIGN_EAGER,
	ASSIGN_COOPERATIVE,
};

struct assignor {
	const char *name; /* the protocol name in JoinGroup */
	enum assign_rebalance rebalance;
	assign_fn assign;
};

/* By protocol name: "range", "roundrobin", "cooperative-sticky", and kafkajs's
 * "RoundRobinAssigner" (kafkajs's default), which is served by roundrobin. NULL otherwise. The
 * result is static. */
const struct assignor *assignor_find(struct kstr name);

/* Kafka's RangeAssignor. */
int assign_range(const struct assign_group *grp, struct arena *a, struct assign_result *out);
/* Kafka's RoundRobinAssignor. */
int assign_roundrobin(const struct assign_group *grp, struct arena *a, struct assign_result *out);
/* Kafka's CooperativeStickyAssignor. */
int assign_cooperative_sticky(const struct assign_group *grp, struct arena *a,
                              struct assign_result *out);

/* Fills *m from what JoinGroup's response gives the leader for one member; the subscription is
 * decoded from metadata (borrowing from it, arrays from the arena). 0 or -TAPE_EPROTO. */
int assign_member_decode(struct assign_member *m, struct kstr member_id,
                         struct kstr group_instance_id, struct kbytes metadata, struct arena *a);

/* The generation a member's owned partitions are from, as cooperative-sticky reads it: the
 * subscription's generation_id (v2+) when it is >= 0; else the user data, which is Kafka's
 * CooperativeStickyAssignor user data (int32 generation, 4 bytes, Java clients before v2) or
 * the StickyAssignor user data librdkafka's cooperative-sticky writes (previous assignment,
 * then int32 generation); else -1. */
int32_t assign_member_generation(const struct consumer_protocol_subscription *s);

/* What a member sends in JoinGroup's protocols[].metadata for the assignor: a subscription v3
 * (Java's current version) to topics, with owned partitions and the generation they were
 * assigned in (-1 before the first assignment). A cooperative member passes the partitions it
 * owns; an eager one has revoked them all before rejoining and passes none. Cooperative-sticky
 * also puts the generation in the user data as int32, as Kafka's CooperativeStickyAssignor does
 * for leaders that read subscriptions older than v2. */
void assign_encode_subscription(struct buf *b, const struct assignor *as, int32_t topics_count,
                                const struct kstr *topics, int32_t owned_count,
                                const struct consumer_protocol_topic_partition *owned,
                                int32_t generation_id);

/* One member's assignment as SyncGroup carries it: ConsumerProtocolAssignment v0, which both
 * librdkafka and kafkajs write (v1-3 have the same fields). */
void assign_encode_assignment(struct buf *b, const struct consumer_protocol_assignment *asg);

#endif
