/*
 * consumer-groups/group.h: the group coordinator of Kafka's classic consumer-group protocol
 * (kafka-protocol.md §10): membership, generations, the leader, the protocol chosen by vote,
 * parked JoinGroup and SyncGroup answers, session and rebalance timeouts, static members.
 * Committed offsets live elsewhere (offsets.h); this file only decides whether a commit is
 * allowed.
 *
 * It is a pure state machine: no I/O, no clock of its own. Every call takes now_ms (a
 * monotonic clock) and group_tick(now_ms) fires the deadlines, so tests drive it with a fake
 * clock. Answers to JoinGroup and SyncGroup arrive through callbacks, possibly during a later
 * call (another member's join, a tick): what a callback receives is valid only while it runs.
 * A callback must not call back into the coordinator.
 *
 * Error codes are Kafka's (protocol/errors.h): they are the protocol's contract with clients.
 */
#ifndef TAPE_CONSUMER_GROUPS_GROUP_H
#define TAPE_CONSUMER_GROUPS_GROUP_H

#include "protocol/codec.h"

#include <stdbool.h>
#include <stdint.h>

struct group_coordinator;

struct group_config {
	int32_t min_session_timeout_ms;     /* group.min.session.timeout.ms */
	int32_t max_session_timeout_ms;     /* group.max.session.timeout.ms */
	int32_t initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms */
	uint64_t seed;                      /* member id randomness (fixed in tests) */
};

struct group_protocol {
	struct kstr name;
	struct kbytes metadata;
};

struct group_join_request {
	int16_t version; /* v4+: a new member without an id first gets MEMBER_ID_REQUIRED */
	struct kstr group_id;
	struct kstr member_id;
	struct kstr group_instance_id; /* null: a dynamic member */
	struct kstr client_id;
	struct kstr client_host;
	struct kstr protocol_type;
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms; /* -1 before v1: the session timeout */
	int32_t protocols_count;
	const struct group_protocol *protocols;
};

struct group_join_member {
	const char *member_id;
	const char *group_instance_id; /* NULL for dynamic members */
	const uint8_t *metadata;
	int32_t metadata_len;
};

/* Valid only during the callback. */
struct group_join_result {
	int16_t error_code;
	int32_t generation_id;
	const char *protocol_name; /* NULL when none */
	const char *leader;        /* "" when none */
	const char *member_id;     /* the member's id (also the generated one) */
	int32_t members_count;     /* the leader's answer only */
	const struct group_join_member *members;
};

typedef void (*group_join_fn)(void *arg, const struct group_join_result *r);

struct group_assignment {
	struct kstr member_id;
	struct kbytes assignment;
};

struct group_sync_request {
	struct kstr group_id;
	struct kstr member_id;
	struct kstr group_instance_id;
	int32_t generation_id;
	int32_t assignments_count; /* the leader's */
	const struct group_assignment *assignments;
};

/* assignment valid only during the callback; error_code 0 with len 0 is an empty one. */
typedef void (*group_sync_fn)(void *arg, int16_t error_code, const uint8_t *assignment,
                              int32_t len);

/* metadata (for the chosen protocol) and assignment: only when the group is Stable, as Kafka
 * describes it; NULL and 0 in any other state. */
struct group_member_info {
	const char *member_id;
	const char *group_instance_id;
	const char *client_id;
	const char *client_host;
	const uint8_t *metadata;
	int32_t metadata_len;
	const uint8_t *assignment;
	int32_t assignment_len;
};

struct group_info {
	const char *group_id;
	const char
	    *state; /* "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead" */
	const char *protocol_type;
	const char *protocol_name; /* "" unless Stable */
	int32_t generation_id;
	int32_t members_count;
	const struct group_member_info *members;
};

int group_coordinator_create(const struct group_config *cfg, struct group_coordinator **out);
void group_coordinator_free(struct group_coordinator *gc);

/* JoinGroup: done is called exactly once, now or later. */
void group_join(struct group_coordinator *gc, const struct group_join_request *req, int64_t now_ms,
                group_join_fn done, void *arg);
/* SyncGroup: done is called exactly once, now or later. */
void group_sync(struct group_coordinator *gc, const struct group_sync_request *req, int64_t now_ms,
                group_sync_fn done, void *arg);
int16_t group_heartbeat(struct group_coordinator *gc, struct kstr group_id, struct kstr member_id,
                        struct kstr group_instance_id, int32_t generation_id, int64_t now_ms);
/* One member leaving (LeaveGroup v0-2, or one entry of v3's list). */
int16_t group_leave(struct group_coordinator *gc, struct kstr group_id, struct kstr member_id,
                    struct kstr group_instance_id, int64_t now_ms);
/* May this member commit offsets now? 0 or Kafka's error. A standalone commit (generation -1,
 * no member) is allowed for an empty or unknown group, which then exists (Empty). */
int16_t group_commit_allowed(struct group_coordinator *gc, struct kstr group_id,
                             struct kstr member_id, struct kstr group_instance_id,
                             int32_t generation_id, int64_t now_ms);
/* Makes sure an Empty group exists (groups that only have committed offsets). */
void group_touch(struct group_coordinator *gc, struct kstr group_id, int64_t now_ms);
/* DeleteGroups: 0, GROUP_ID_NOT_FOUND or NON_EMPTY_GROUP. */
int16_t group_delete(struct group_coordinator *gc, struct kstr group_id);
/* Forgets every group Empty (no member, none pending) since empty_ms_min or longer, and
 * without a standalone commit for as long, that keep(arg, group_id) does not want (the caller
 * keeps those with committed offsets): Kafka's cleanup of groups without offsets, so ids seen
 * once (a failed or abandoned join, a group whose members all left) do not stay listed and
 * fill GROUPS_MAX. Returns how many. */
int32_t group_forget_empty(struct group_coordinator *gc, int64_t now_ms, int64_t empty_ms_min,
                           bool (*keep)(void *arg, struct kstr group_id), void *arg);

/* Fires session, rebalance, sync and pending-member deadlines due by now_ms. */
void group_tick(struct group_coordinator *gc, int64_t now_ms);
/* The earliest deadline, or INT64_MAX. */
int64_t group_next_deadline(const struct group_coordinator *gc);

/* DescribeGroups: false when the group is unknown. Valid during the callback. */
bool group_describe(struct group_coordinator *gc, struct kstr group_id,
                    void (*fn)(void *arg, const struct group_info *info), void *arg);
/* ListGroups: every group with its protocol type. */
void group_list(struct group_coordinator *gc,
                void (*fn)(void *arg, const char *group_id, const char *protocol_type), void *arg);
/* How long a group has been Empty, for offset expiry: -1 when it has members or is unknown
 * (unknown groups count as empty forever: the store's own timestamps decide). */
int64_t group_empty_since(const struct group_coordinator *gc, struct kstr group_id);

#endif
