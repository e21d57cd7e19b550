/*
 * tests/unit/client/test_group.c: client/group.c (struct cgroup, the member side of the group
 * protocol) on its own, driven as the consumer drives it (cgroup_poll around cluster_poll),
 * against the scripted coordinator of fake_group.h, with callbacks that record what the owner
 * is told.
 *
 * Covers: joining as leader (range over 4 partitions with a second member: the leader takes
 * 0-1 and sends 2-3 to the other in SyncGroup) and the committed offsets handed over with the
 * assignment (-1 where nothing was committed); joining as a follower after MEMBER_ID_REQUIRED
 * (the second JoinGroup carries the id the first answer gave); heartbeats going out; a
 * heartbeat answered REBALANCE_IN_PROGRESS: the eager member commits the positions, revokes
 * everything, rejoins with its member id and is assigned again; UNKNOWN_MEMBER_ID: the
 * partitions are lost (revoked as lost, nothing committed) and the member rejoins without an
 * id; NOT_COORDINATOR on a heartbeat: the coordinator is looked up again and the membership
 * stays; FindCoordinator answered COORDINATOR_NOT_AVAILABLE first: retried after a backoff;
 * a commit answered REBALANCE_IN_PROGRESS: cgroup_commit fails with that code and the group
 * rejoins; cooperative-sticky: the subscription lists owned partitions and a rebalance that
 * keeps them revokes nothing; close: a final commit, everything revoked, LeaveGroup with the
 * member id.
 */
#include "client/cluster.h"
#include "client/group.h"
#include "client/tape.h"
#include "fake_broker.h"
#include "fake_group.h"
#include "base/clock.h"
#include "protocol/errors.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

struct seen {
	int assigned_calls, revoked_calls, lost_calls;
	int32_t assigned[FAKE_PARTITIONS_MAX];
	int64_t assigned_offset[FAKE_PARTITIONS_MAX];
	int assigned_count;
	int revoked_count;
	int64_t position[FAKE_PARTITIONS_MAX];
	bool owns[FAKE_PARTITIONS_MAX];
	int joined;
};

static void on_assigned(void *arg, const struct cgroup_tp *tps, int32_t count)
{
	struct seen *s = arg;
	s->assigned_calls++;
	for (int32_t i = 0; i < count; i++) {
		cr_assert_str_eq(tps[i].topic, "t");
		s->assigned[s->assigned_count] = tps[i].partition;
		s->assigned_offset[s->assigned_count++] = tps[i].offset;
		s->owns[tps[i].partition] = true;
	}
}

static void on_revoked(void *arg, const struct cgroup_tp *tps, int32_t count, bool lost)
{
	struct seen *s = arg;
	s->revoked_calls++;
	s->lost_calls += lost;
	s->revoked_count += count;
	for (int32_t i = 0; i < count; i++)
		s->owns[tps[i].partition] = false;
}

static int64_t on_position(void *arg, const char *topic, int32_t partition)
{
	struct seen *s = arg;
	(void)topic;
	return s->owns[partition] ? s->position[partition] : -1;
}

static void on_joined(void *arg, const char *member_id, int32_t generation_id, bool leader,
                      const char *protocol)
{
	(void)member_id;
	(void)generation_id;
	(void)leader;
	(void)protocol;
	((struct seen *)arg)->joined++;
}

struct rig {
	struct fake_broker fb;
	struct fake_group fg;
	struct tape_client *cl;
	struct cgroup *g;
	struct seen seen;
};

static void rig_start(struct rig *r, const char *assignors, int partitions)
{
	memset(r, 0, sizeof(*r));
	fake_group_init(&r->fg);
	r->fb.group = &r->fg;
	r->fb.partitions = partitions;
	fake_start(&r->fb);
	char brokers[64];
	snprintf(brokers, sizeof(brokers), "127.0.0.1:%d", r->fb.port);
	struct tape_client_config ccfg;
	tape_client_config_init(&ccfg);
	ccfg.brokers = brokers;
	ccfg.retry_backoff_ms = 20;
	ccfg.retry_backoff_max_ms = 50;
	struct tape_error err;
	cr_assert_eq(tape_client_new(&ccfg, &r->cl, &err), 0, "%s", err.message);
	struct cgroup_config gcfg = {
		.group_id = "g",
		.assignors = assignors,
		.session_timeout_ms = 6000,
		.rebalance_timeout_ms = 10000,
		.heartbeat_interval_ms = 50,
		.enable_auto_commit = true,
		.auto_commit_interval_ms = 100000,
		.metadata_pattern_refresh_ms = 100000,
	};
	struct cgroup_callbacks cb = { on_assigned, on_revoked, on_position, on_joined, &r->seen };
	cr_assert_eq(cgroup_new(r->cl, &gcfg, &cb, &r->g, &err), 0, "%s", err.message);
	const char *topics[] = { "t" };
	cr_assert_eq(cgroup_subscribe(r->g, topics, 1, &err), 0, "%s", err.message);
}

static void rig_stop(struct rig *r)
{
	cgroup_free(r->g);
	tape_client_free(r->cl);
	fake_stop(&r->fb);
}

/* Polls as the consumer does until cond holds or 5 s passed. */
#define POLL_UNTIL(r, cond)                                                                       \
	do {                                                                                      \
		int64_t until_ = clock_mono_ms() + 5000;                                          \
		while (!(cond) && clock_mono_ms() < until_) {                                     \
			cgroup_poll((r)->g, clock_mono_ms());                                     \
			int64_t now_ = clock_mono_ms(), w_ = cgroup_next_wakeup((r)->g);          \
			cluster_poll((r)->cl, w_ - now_ < 20 ? (w_ > now_ ? w_ - now_ : 0) : 20); \
			cgroup_poll((r)->g, clock_mono_ms());                                     \
		}                                                                                 \
		cr_assert((cond), "timed out waiting for " #cond);                                \
	} while (0)

static int fg_read(struct rig *r, const int *field)
{
	fake_lock(&r->fb);
	int v = *field;
	fake_unlock(&r->fb);
	return v;
}

Test(group, leader_assigns_and_hands_over_committed_offsets)
{
	struct rig r;
	rig_start(&r, "range", 4);
	r.fg.other_member = true;
	r.fg.committed[1] = 42;
	POLL_UNTIL(&r, cgroup_stable(r.g));
	cr_assert_eq(r.seen.assigned_calls, 1);
	cr_assert_eq(r.seen.assigned_count, 2);
	cr_assert_eq(r.seen.assigned[0], 0);
	cr_assert_eq(r.seen.assigned[1], 1);
	cr_assert_eq(r.seen.assigned_offset[0], -1);
	cr_assert_eq(r.seen.assigned_offset[1], 42);
	fake_lock(&r.fb);
	cr_assert_eq(r.fg.leader_gave_other_count, 2);
	cr_assert_eq(r.fg.leader_gave_other[0], 2);
	cr_assert_eq(r.fg.leader_gave_other[1], 3);
	cr_assert_str_eq(r.fg.join_protocols, "range");
	fake_unlock(&r.fb);
	cr_assert_eq(r.seen.joined, 1);
	POLL_UNTIL(&r, fg_read(&r, &r.fg.heartbeat_seen) >= 3);
	rig_stop(&r);
}

Test(group, follower_after_member_id_required)
{
	struct rig r;
	rig_start(&r, NULL, 4);
	r.fg.require_member_id = true;
	r.fg.follower = true;
	r.fg.follower_partitions[0] = 2;
	r.fg.follower_partitions[1] = 3;
	r.fg.follower_partitions_count = 2;
	POLL_UNTIL(&r, cgroup_stable(r.g));
	fake_lock(&r.fb);
	cr_assert_eq(r.fg.join_seen, 2);
	cr_assert_str_eq(r.fg.join_member_ids[0], "");
	cr_assert_str_eq(r.fg.join_member_ids[1], "m-1");
	cr_assert_str_eq(r.fg.join_protocols, "range"); /* the default list starts with it */
	fake_unlock(&r.fb);
	cr_assert_eq(r.seen.assigned_count, 2);
	cr_assert_eq(r.seen.assigned[0], 2);
	cr_assert_eq(r.seen.assigned[1], 3);
	rig_stop(&r);
}

Test(group, rebalance_on_heartbeat_commits_revokes_and_rejoins)
{
	struct rig r;
	rig_start(&r, "roundrobin", 2);
	POLL_UNTIL(&r, cgroup_stable(r.g));
	cr_assert_eq(r.seen.assigned_count, 2);
	r.seen.position[0] = 7;
	r.seen.position[1] = -1; /* nothing consumed there */
	fake_lock(&r.fb);
	r.fg.heartbeat_errors[r.fg.heartbeat_errors_count++] = KAFKA_REBALANCE_IN_PROGRESS;
	fake_unlock(&r.fb);
	POLL_UNTIL(&r, r.seen.assigned_calls == 2 && cgroup_stable(r.g));
	cr_assert_eq(r.seen.revoked_calls, 1);
	cr_assert_eq(r.seen.revoked_count, 2); /* eager: everything */
	cr_assert_eq(r.seen.lost_calls, 0);
	fake_lock(&r.fb);
	cr_assert_eq(r.fg.committed[0], 7, "committed before the revoke");
	cr_assert_eq(r.fg.committed[1], -1);
	cr_assert_eq(r.fg.commit_generation, 1);
	cr_assert_eq(r.fg.join_seen, 2);
	cr_assert_str_eq(r.fg.join_member_ids[1], "m-1", "rejoins with its id");
	cr_assert_eq(r.fg.join_owned_count, 0, "eager members list nothing owned");
	fake_unlock(&r.fb);
	cr_assert_eq(r.seen.assigned_offset[2], 7, "the new assignment starts at the commit");
	rig_stop(&r);
}

Test(group, unknown_member_loses_partitions_and_rejoins_anew)
{
	struct rig r;
	rig_start(&r, "range", 2);
	POLL_UNTIL(&r, cgroup_stable(r.g));
	r.seen.position[0] = 9;
	fake_lock(&r.fb);
	r.fg.heartbeat_errors[r.fg.heartbeat_errors_count++] = KAFKA_UNKNOWN_MEMBER_ID;
	fake_unlock(&r.fb);
	POLL_UNTIL(&r, r.seen.assigned_calls == 2 && cgroup_stable(r.g));
	cr_assert_eq(r.seen.lost_calls, 1);
	fake_lock(&r.fb);
	cr_assert_eq(r.fg.commit_seen, 0, "nothing committed for lost partitions");
	cr_assert_str_eq(r.fg.join_member_ids[1], "", "a new member");
	fake_unlock(&r.fb);
	rig_stop(&r);
}

Test(group, coordinator_moved_and_not_available)
{
	struct rig r;
	rig_start(&r, "range", 2);
	r.fg.find_errors[r.fg.find_errors_count++] = KAFKA_COORDINATOR_NOT_AVAILABLE;
	POLL_UNTIL(&r, cgroup_stable(r.g));
	cr_assert_eq(fg_read(&r, &r.fg.find_seen), 2);
	fake_lock(&r.fb);
	r.fg.heartbeat_errors[r.fg.heartbeat_errors_count++] = KAFKA_NOT_COORDINATOR;
	fake_unlock(&r.fb);
	POLL_UNTIL(&r, fg_read(&r, &r.fg.find_seen) == 3);
	int hb = fg_read(&r, &r.fg.heartbeat_seen);
	POLL_UNTIL(&r, fg_read(&r, &r.fg.heartbeat_seen) > hb + 2);
	cr_assert(cgroup_stable(r.g));
	cr_assert_eq(r.seen.revoked_calls, 0, "the membership stays");
	cr_assert_eq(fg_read(&r, &r.fg.join_seen), 1);
	rig_stop(&r);
}

Test(group, commit_during_rebalance_fails_and_rejoins)
{
	struct rig r;
	rig_start(&r, "range", 2);
	POLL_UNTIL(&r, cgroup_stable(r.g));
	fake_lock(&r.fb);
	r.fg.commit_errors[r.fg.commit_errors_count++] = KAFKA_REBALANCE_IN_PROGRESS;
	fake_unlock(&r.fb);
	struct tape_error err;
	int rc = cgroup_commit(r.g, "t", 0, 5, true, &err);
	cr_assert_eq(rc, -TAPE_EKAFKA);
	cr_assert_eq(err.kafka_code, KAFKA_REBALANCE_IN_PROGRESS);
	cr_assert(strstr(err.message, "cannot commit t [0] in group \"g\""), "%s", err.message);
	POLL_UNTIL(&r, fg_read(&r, &r.fg.join_seen) == 2 && cgroup_stable(r.g));
	cr_assert_eq(cgroup_commit(r.g, "t", 0, 5, true, &err), 0, "%s", err.message);
	fake_lock(&r.fb);
	cr_assert_eq(r.fg.committed[0], 5);
	fake_unlock(&r.fb);
	rig_stop(&r);
}

Test(group, cooperative_keeps_partitions_across_a_rebalance)
{
	struct rig r;
	rig_start(&r, "cooperative-sticky", 2);
	POLL_UNTIL(&r, cgroup_stable(r.g));
	cr_assert_eq(r.seen.assigned_count, 2);
	fake_lock(&r.fb);
	r.fg.heartbeat_errors[r.fg.heartbeat_errors_count++] = KAFKA_REBALANCE_IN_PROGRESS;
	fake_unlock(&r.fb);
	POLL_UNTIL(&r, fg_read(&r, &r.fg.join_seen) == 2 && cgroup_stable(r.g));
	fake_lock(&r.fb);
	cr_assert_eq(r.fg.join_owned_count, 2, "the owned partitions are in the subscription");
	cr_assert_str_eq(r.fg.join_protocols, "cooperative-sticky");
	fake_unlock(&r.fb);
	cr_assert_eq(r.seen.revoked_calls, 0, "nothing moved, nothing revoked");
	cr_assert_eq(r.seen.assigned_calls, 2);
	cr_assert_eq(r.seen.assigned_count, 2, "nothing new");
	rig_stop(&r);
}

Test(group, close_commits_revokes_and_leaves)
{
	struct rig r;
	rig_start(&r, "range", 2);
	POLL_UNTIL(&r, cgroup_stable(r.g));
	r.seen.position[1] = 3;
	struct tape_error err;
	cr_assert_eq(cgroup_close(r.g, 5000, &err), 0, "%s", err.message);
	cr_assert_eq(r.seen.revoked_count, 2);
	fake_lock(&r.fb);
	cr_assert_eq(r.fg.committed[1], 3);
	cr_assert_eq(r.fg.leave_seen, 1);
	cr_assert_str_eq(r.fg.leave_member_id, "m-1");
	fake_unlock(&r.fb);
	rig_stop(&r);
}

Test(group, bad_configuration)
{
	struct tape_client *cl;
	struct tape_error err;
	cr_assert_eq(tape_client_new(NULL, &cl, &err), 0);
	struct cgroup_config gcfg = { .group_id = "g",
		                      .assignors = "range,sticky",
		                      .session_timeout_ms = 6000,
		                      .rebalance_timeout_ms = 6000,
		                      .heartbeat_interval_ms = 1000,
		                      .auto_commit_interval_ms = 1000,
		                      .metadata_pattern_refresh_ms = 1000 };
	struct cgroup_callbacks cb = { 0 };
	struct cgroup *g;
	cr_assert_eq(cgroup_new(cl, &gcfg, &cb, &g, &err), -TAPE_ECONFIG);
	cr_assert(strstr(err.message, "unknown assignor \"sticky\""), "%s", err.message);
	gcfg.assignors = "cooperative-sticky";
	cr_assert_eq(cgroup_new(cl, &gcfg, &cb, &g, &err), 0, "%s", err.message);
	const char *bad[] = { "^(" };
	cr_assert_eq(cgroup_subscribe(g, bad, 1, &err), -TAPE_ECONFIG);
	cr_assert(strstr(err.message, "bad topic pattern \"^(\""), "%s", err.message);
	cgroup_free(g);
	tape_client_free(cl);
}
