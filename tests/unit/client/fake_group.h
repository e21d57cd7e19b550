/*
 * tests/unit/client/fake_group.h: the group coordinator side of the fake broker
 * (fake_broker.h), scripted for client/group.c's tests: FindCoordinator (itself), JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup, OffsetFetch and OffsetCommit for one group over the fake
 * broker's one topic.
 *
 * Not a coordinator: every JoinGroup is answered at once. As leader (the default) the member
 * gets its own subscription back plus, with other_member, a second member "zz-other"
 * subscribed to the topic, and the assignments the leader sends in SyncGroup are kept. With
 * follower, the leader is "aa-leader" and SyncGroup answers with follower_partitions. Error
 * scripts are consumed one answer at a time. Committed offsets live per partition.
 */
#ifndef TAPE_TESTS_FAKE_GROUP_H
#define TAPE_TESTS_FAKE_GROUP_H

#include "fake_broker.h"

#include <stdbool.h>
#include <stdint.h>

struct fake_group {
	/* knobs */
	bool require_member_id; /* a JoinGroup without an id: MEMBER_ID_REQUIRED (KIP-394) */
	bool other_member;      /* leader: a second member "zz-other" in the group */
	bool follower;          /* the leader is "aa-leader"; assignments from the script */
	int32_t follower_partitions[FAKE_PARTITIONS_MAX];
	int follower_partitions_count;
	int16_t find_errors[FAKE_SCRIPT_MAX];
	int find_errors_count;
	int16_t heartbeat_errors[FAKE_SCRIPT_MAX];
	int heartbeat_errors_count;
	int16_t commit_errors[FAKE_SCRIPT_MAX];
	int commit_errors_count;
	int16_t sync_errors[FAKE_SCRIPT_MAX];
	int sync_errors_count;

	/* state */
	int64_t committed[FAKE_PARTITIONS_MAX]; /* -1: none (set by fake_group_init) */
	int32_t generation;
	int next_member;

	/* what it saw */
	int find_seen, join_seen, sync_seen, heartbeat_seen, leave_seen, commit_seen, fetch_seen;
	char join_member_ids[FAKE_SCRIPT_MAX][64]; /* the member id of each JoinGroup */
	char join_protocols[64];                   /* the first protocol the last join offered */
	int32_t join_owned_count;                  /* owned partitions the last join listed */
	int32_t leader_gave_other[FAKE_PARTITIONS_MAX]; /* the leader's SyncGroup: zz-other's */
	int leader_gave_other_count;
	int32_t commit_generation; /* the last OffsetCommit's generation */
	char leave_member_id[64];
};

void fake_group_init(struct fake_group *fg);
/* Answers a group request; false: not one of its APIs (the connection closes). */
bool fake_group_handle(struct fake_broker *fb, int fd, const struct request_header *h,
                       struct cursor *c, struct arena *a, struct buf *b);

#endif
