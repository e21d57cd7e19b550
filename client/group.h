/*
 * client/group.h: struct cgroup, the member side of Kafka's consumer group protocol inside
 * libtape. A consumer in group mode owns one; the consumer's poll loop drives it (no threads):
 * cgroup_poll before and after every cluster_poll, and cgroup_next_wakeup in the wait.
 *
 * The group tells its owner what it may consume through callbacks, made only from inside
 * cgroup_poll, cgroup_commit (wait), cgroup_subscribe and cgroup_close, never from inside the
 * I/O loop: assigned (partitions newly given, with their committed offsets, -1 for none) and
 * revoked (partitions taken away; lost = the membership was lost, so nothing was committed for
 * them). It asks its owner for positions (the next offset to consume) when it commits.
 *
 * The states and the function for each arrow (group.c has the details):
 *
 *   IDLE --subscribe--> FIND --FindCoordinator (find_coordinator)--> JOIN
 *   JOIN --JoinGroup (on_join: MEMBER_ID_REQUIRED loops here)--> SYNC
 *   SYNC --SyncGroup (on_sync)--> OFFSETS --OffsetFetch (on_offset_fetch)--> STABLE
 *   STABLE --Heartbeat REBALANCE_IN_PROGRESS, subscription changed, cooperative revoke--> JOIN
 *   any --UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION: partitions lost, id reset--> JOIN
 *   any --NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, connection lost--> FIND
 *   any --cgroup_close: final commit, revoke, LeaveGroup--> CLOSED
 *
 * Before JOIN (prepare_join) the group commits the positions when auto-commit is on, then an
 * eager member revokes everything; a cooperative member revokes only partitions its
 * subscription no longer covers, and after SYNC revokes what the new assignment took away and
 * rejoins once so those partitions can be handed to their new owner.
 */
#ifndef TAPE_CLIENT_GROUP_H
#define TAPE_CLIENT_GROUP_H

#include "client/tape.h"

#include <stdbool.h>
#include <stdint.h>

struct cgroup;
struct tape_client;

/* One partition as the group hands it to its owner. */
struct cgroup_tp {
	const char *topic; /* borrowed: valid during the callback */
	int32_t partition;
	int64_t offset; /* assigned: the committed offset, -1 none; revoked: unused (-1) */
};

struct cgroup_callbacks {
	/* After every rebalance: the partitions it added (count may be 0); fetching them may
	 * start at once. */
	void (*assigned)(void *arg, const struct cgroup_tp *tps, int32_t count);
	/* Partitions taken away; lost: the membership ended without them being committed. */
	void (*revoked)(void *arg, const struct cgroup_tp *tps, int32_t count, bool lost);
	/* The next offset the application will consume from the partition, or -1 (nothing to
	 * commit). NULL: commits of "the positions" commit nothing. */
	int64_t (*position)(void *arg, const char *topic, int32_t partition);
	/* Optional: the group joined (every SyncGroup that succeeded). */
	void (*joined)(void *arg, const char *member_id, int32_t generation_id, bool leader,
	               const char *protocol);
	void *arg;
};

struct cgroup_config {
	const char *group_id;          /* copied */
	const char *group_instance_id; /* copied; NULL: a dynamic member */
	const char *assignors;         /* "range,roundrobin" (the order is the preference) */
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms;
	int32_t heartbeat_interval_ms;
	bool enable_auto_commit;
	int32_t auto_commit_interval_ms;
	int32_t metadata_pattern_refresh_ms;
};

/* A group for cl (borrowed: it outlives the group). Checks the configuration (-TAPE_ECONFIG
 * with the reason: an unknown assignor, eager and cooperative assignors mixed, timeouts out
 * of order). Returns 0 or the error. */
int cgroup_new(struct tape_client *cl, const struct cgroup_config *cfg,
               const struct cgroup_callbacks *cb, struct cgroup **out, struct tape_error *err);

/* Replaces the subscription: topic names, or "^regex" (POSIX ERE) patterns matched against
 * every topic of the cluster (internal ones excepted) now and every
 * metadata_pattern_refresh_ms. Starts joining (or rejoins when the set changed). 0,
 * -TAPE_ECONFIG for a bad pattern or name, -TAPE_ETOOLARGE past CLIENT_TOPICS_MAX. */
int cgroup_subscribe(struct cgroup *g, const char *const *topics, int32_t count,
                     struct tape_error *err);

/* One step of the state machine: sends what is due, handles answers that arrived, makes the
 * callbacks. Does not wait. */
void cgroup_poll(struct cgroup *g, int64_t now_ms);
/* The earliest time cgroup_poll has something to do, or INT64_MAX. */
int64_t cgroup_next_wakeup(const struct cgroup *g);

/* Commits next_offset for one partition, or (topic NULL) the owner's positions of every
 * assigned partition that moved since its last commit. wait: polls the cluster until the
 * answer (at most the client's request timeout) and returns its outcome; otherwise returns 0
 * once sent (a failure shows in the next commit). Errors: -TAPE_EKAFKA with the broker's
 * code (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID: the group rejoins and
 * the commit is not retried; REBALANCE_IN_PROGRESS too when the member has no generation now,
 * COORDINATOR_NOT_AVAILABLE without a coordinator connection), -ETIMEDOUT. */
int cgroup_commit(struct cgroup *g, const char *topic, int32_t partition, int64_t next_offset,
                  bool wait, struct tape_error *err);

/* A fatal group error (GROUP_AUTHORIZATION_FAILED, FENCED_INSTANCE_ID, INVALID_SESSION_TIMEOUT,
 * an assignor nobody shares...) copied to err once it happened: returns its code, else 0. */
int cgroup_error(const struct cgroup *g, struct tape_error *err);

/* True in STABLE with the assignment's offsets known. */
bool cgroup_stable(const struct cgroup *g);

/* Leaves the group cleanly: a final commit of the positions (auto-commit on), revoked for
 * every partition, LeaveGroup (dynamic members only, as Kafka's clients do), polling at most
 * timeout_ms. Returns 0 or the final commit's error. The group is then CLOSED: free it. */
int cgroup_close(struct cgroup *g, int32_t timeout_ms, struct tape_error *err);

/* Frees the group; requests still in flight are orphaned. */
void cgroup_free(struct cgroup *g);

#endif
