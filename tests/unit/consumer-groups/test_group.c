/*
 * tests/unit/consumer-groups/test_group.c: the group state machine under a fake clock. Every
 * call gets "now" from the test; group_tick(now) fires the deadlines. Answers arrive in
 * recorders the tests inspect. Covered: the MEMBER_ID_REQUIRED join, one and several members,
 * rebalances on join, leave and session expiry, the initial rebalance delay, a member that
 * never rejoins, a leader that never syncs, a leader that leaves mid-rebalance, protocol
 * choice by vote, static members, commits, describe/list/delete, and each error path.
 */
#include "consumer-groups/group.h"
#include "protocol/errors.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct group_coordinator *gc;
static int64_t now;

static void setup(void)
{
	struct group_config cfg = { .min_session_timeout_ms = 6000,
		                    .max_session_timeout_ms = 300000,
		                    .initial_rebalance_delay_ms = 0,
		                    .seed = 42 };
	cr_assert_eq(group_coordinator_create(&cfg, &gc), 0);
	now = 1000000;
}

static void teardown(void)
{
	group_coordinator_free(gc);
}

TestSuite(group, .init = setup, .fini = teardown);

/* What a member knows: its id and the last answers it got. */
struct client {
	char name[16];
	char member_id[128];
	int joins, syncs;
	int16_t join_error, sync_error;
	int32_t generation;
	char leader[128];
	char protocol[32];
	int32_t members_seen;
	char assignment[64];
	const char *protocols[3];
	const char *instance;
	int32_t session_ms, rebalance_ms;
};

static void on_join(void *arg, const struct group_join_result *r)
{
	struct client *c = arg;
	c->joins++;
	c->join_error = r->error_code;
	if (r->member_id && r->member_id[0])
		snprintf(c->member_id, sizeof(c->member_id), "%s", r->member_id);
	c->generation = r->generation_id;
	snprintf(c->leader, sizeof(c->leader), "%s", r->leader ? r->leader : "");
	snprintf(c->protocol, sizeof(c->protocol), "%s", r->protocol_name ? r->protocol_name : "");
	c->members_seen = r->members_count;
}

static void on_sync(void *arg, int16_t code, const uint8_t *a, int32_t len)
{
	struct client *c = arg;
	c->syncs++;
	c->sync_error = code;
	memset(c->assignment, 0, sizeof(c->assignment));
	if (len > 0)
		memcpy(c->assignment, a, (size_t)len < sizeof(c->assignment) - 1 ? (size_t)len : 0);
}

static void init_client(struct client *c, const char *name)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->protocols[0] = "range";
	c->session_ms = 10000;
	c->rebalance_ms = 30000;
	c->generation = -1;
}

static void join(struct client *c, int16_t version)
{
	struct group_protocol protos[3];
	int32_t n = 0;
	for (; n < 3 && c->protocols[n]; n++)
		protos[n] = (struct group_protocol){ kstr_from(c->protocols[n]),
			                             { (const uint8_t *)c->name,
			                               (int32_t)strlen(c->name) } };
	struct group_join_request req = {
		.version = version,
		.group_id = KSTR("g"),
		.member_id = kstr_from(c->member_id),
		.group_instance_id = c->instance ? kstr_from(c->instance) : KSTR_NULL,
		.client_id = kstr_from(c->name),
		.client_host = KSTR("/127.0.0.1"),
		.protocol_type = KSTR("consumer"),
		.session_timeout_ms = c->session_ms,
		.rebalance_timeout_ms = c->rebalance_ms,
		.protocols_count = n,
		.protocols = protos,
	};
	group_join(gc, &req, now, on_join, c);
}

/* A new member: join, MEMBER_ID_REQUIRED, join again with the id. */
static void join_new(struct client *c)
{
	join(c, 5);
	cr_assert_eq(c->join_error, KAFKA_MEMBER_ID_REQUIRED);
	cr_assert(strstr(c->member_id, c->name) == c->member_id, "id %s", c->member_id);
	join(c, 5);
}

static void sync(struct client *c, struct client **all, const char **assignments, int n)
{
	struct group_assignment a[8];
	for (int i = 0; i < n; i++)
		a[i] = (struct group_assignment){ kstr_from(all[i]->member_id),
			                          { (const uint8_t *)assignments[i],
			                            (int32_t)strlen(assignments[i]) } };
	struct group_sync_request req = {
		.group_id = KSTR("g"),
		.member_id = kstr_from(c->member_id),
		.group_instance_id = c->instance ? kstr_from(c->instance) : KSTR_NULL,
		.generation_id = c->generation,
		.assignments_count = n,
		.assignments = a,
	};
	group_sync(gc, &req, now, on_sync, c);
}

static int16_t heartbeat(struct client *c)
{
	return group_heartbeat(gc, KSTR("g"), kstr_from(c->member_id),
	                       c->instance ? kstr_from(c->instance) : KSTR_NULL, c->generation,
	                       now);
}

struct described {
	char state[32];
	char protocol[32];
	int members;
	int32_t metadata_bytes, assignment_bytes; /* over every member */
};

static void on_describe(void *arg, const struct group_info *info)
{
	struct described *d = arg;
	snprintf(d->state, sizeof(d->state), "%s", info->state);
	snprintf(d->protocol, sizeof(d->protocol), "%s", info->protocol_name);
	d->members = info->members_count;
	for (int32_t i = 0; i < info->members_count; i++) {
		d->metadata_bytes += info->members[i].metadata_len;
		d->assignment_bytes += info->members[i].assignment_len;
	}
}

static struct described describe(void)
{
	struct described d = { "", "", -1, 0, 0 };
	group_describe(gc, KSTR("g"), on_describe, &d);
	return d;
}

Test(group, one_member_join_sync_heartbeat)
{
	struct client a;
	init_client(&a, "a");
	join_new(&a);
	cr_assert_eq(a.join_error, 0);
	cr_assert_eq(a.generation, 1);
	cr_assert_str_eq(a.leader, a.member_id);
	cr_assert_str_eq(a.protocol, "range");
	cr_assert_eq(a.members_seen, 1, "the leader sees the members");
	struct described d = describe();
	cr_assert_str_eq(d.state, "CompletingRebalance");
	/* Kafka describes a group that is not Stable without protocol, metadata, assignment. */
	cr_assert_str_eq(d.protocol, "");
	cr_assert_eq(d.members, 1);
	cr_assert_eq(d.metadata_bytes + d.assignment_bytes, 0);
	struct client *all[] = { &a };
	const char *as[] = { "A:0,1,2" };
	sync(&a, all, as, 1);
	cr_assert_eq(a.sync_error, 0);
	cr_assert_str_eq(a.assignment, "A:0,1,2");
	d = describe();
	cr_assert_str_eq(d.state, "Stable");
	cr_assert_str_eq(d.protocol, "range");
	cr_assert_eq(d.metadata_bytes, 1, "the metadata a joined with: its name");
	cr_assert_eq(d.assignment_bytes, 7);
	cr_assert_eq(heartbeat(&a), 0);
}

static void stable_pair(struct client *a, struct client *b)
{
	init_client(a, "a");
	init_client(b, "b");
	join_new(a);
	struct client *one[] = { a };
	const char *as1[] = { "A:all" };
	sync(a, one, as1, 1);
	join_new(b); /* b's join parks: a must rejoin */
	cr_assert_eq(b->joins, 1, "MEMBER_ID_REQUIRED, then parked");
	struct described d = describe();
	cr_assert_str_eq(d.state, "PreparingRebalance");
	cr_assert_str_eq(d.protocol, "");
	cr_assert_eq(d.members, 2);
	cr_assert_eq(d.metadata_bytes + d.assignment_bytes, 0);
	cr_assert_eq(heartbeat(a), KAFKA_REBALANCE_IN_PROGRESS);
	join(a, 5);
	cr_assert_eq(a->generation, 2);
	cr_assert_eq(b->generation, 2);
	cr_assert_str_eq(a->leader, a->member_id, "the leader stays");
	cr_assert_eq(a->members_seen, 2);
	cr_assert_eq(b->members_seen, 0, "followers see no members");
	sync(b, NULL, NULL, 0); /* a follower waits for the leader */
	cr_assert_eq(b->syncs, 0);
	struct client *two[] = { a, b };
	const char *as2[] = { "A:0", "B:1" };
	sync(a, two, as2, 2);
	cr_assert_str_eq(a->assignment, "A:0");
	cr_assert_eq(b->syncs, 1);
	cr_assert_str_eq(b->assignment, "B:1");
}

Test(group, second_member_rebalances)
{
	struct client a, b;
	stable_pair(&a, &b);
	cr_assert_str_eq(describe().state, "Stable");
	cr_assert_eq(describe().members, 2);
	cr_assert_eq(heartbeat(&a), 0);
	cr_assert_eq(heartbeat(&b), 0);
}

Test(group, leave_rebalances_and_last_leave_empties)
{
	struct client a, b;
	stable_pair(&a, &b);
	cr_assert_eq(group_leave(gc, KSTR("g"), kstr_from(b.member_id), KSTR_NULL, now), 0);
	cr_assert_eq(heartbeat(&a), KAFKA_REBALANCE_IN_PROGRESS);
	join(&a, 5);
	cr_assert_eq(a.generation, 3);
	cr_assert_eq(a.members_seen, 1);
	cr_assert_eq(heartbeat(&b), KAFKA_UNKNOWN_MEMBER_ID);
	cr_assert_eq(group_leave(gc, KSTR("g"), kstr_from(a.member_id), KSTR_NULL, now), 0);
	cr_assert_str_eq(describe().state, "Empty");
	cr_assert_eq(group_leave(gc, KSTR("g"), KSTR("nobody"), KSTR_NULL, now),
	             KAFKA_UNKNOWN_MEMBER_ID);
}

Test(group, session_timeout_removes_a_silent_member)
{
	struct client a, b;
	stable_pair(&a, &b);
	now += 6000;
	cr_assert_eq(heartbeat(&a), 0); /* a keeps its session */
	now += 5000;                    /* b has been silent 11 s > 10 s */
	group_tick(gc, now);
	cr_assert_eq(heartbeat(&a), KAFKA_REBALANCE_IN_PROGRESS);
	join(&a, 5);
	cr_assert_eq(a.generation, 3);
	cr_assert_eq(a.members_seen, 1);
	cr_assert_eq(heartbeat(&b), KAFKA_UNKNOWN_MEMBER_ID);
	cr_assert_leq(group_next_deadline(gc), now + 30000);
}

Test(group, member_that_never_rejoins_is_dropped_at_the_rebalance_timeout)
{
	struct client a, b, c;
	stable_pair(&a, &b);
	init_client(&c, "c");
	join_new(&c); /* Preparing; a rejoins, b never does */
	int answered = a.joins;
	join(&a, 5);
	cr_assert_eq(a.joins, answered, "still waiting for b");
	/* b heartbeats (and is told to rejoin) but never does: only the rebalance timeout
	 * drops it. */
	for (int i = 0; i < 6; i++) {
		now += 4999;
		cr_assert_eq(heartbeat(&b), KAFKA_REBALANCE_IN_PROGRESS);
		group_tick(gc, now);
	}
	now += 29999 - 6 * 4999;
	group_tick(gc, now);
	cr_assert_eq(a.joins, answered);
	now += 1;
	group_tick(gc, now);
	cr_assert_eq(a.joins, answered + 1);
	cr_assert_eq(a.generation, 3);
	cr_assert_eq(c.generation, 3);
	cr_assert_eq(a.members_seen, 2);
	cr_assert_eq(heartbeat(&b), KAFKA_UNKNOWN_MEMBER_ID);
}

Test(group, leader_that_never_syncs)
{
	struct client a, b;
	init_client(&a, "a");
	init_client(&b, "b");
	join_new(&a);
	join_new(&b); /* a's first join was answered already: b's join rebalances */
	join(&a, 5);
	cr_assert_eq(b.generation, 2);
	sync(&b, NULL, NULL, 0);
	cr_assert_eq(heartbeat(&a), 0, "heartbeats during CompletingRebalance are fine");
	now += 30000; /* the rebalance timeout passes without the leader's sync */
	group_tick(gc, now);
	cr_assert_eq(b.syncs, 1);
	cr_assert_eq(b.sync_error, KAFKA_REBALANCE_IN_PROGRESS);
	cr_assert_eq(heartbeat(&a), KAFKA_UNKNOWN_MEMBER_ID, "the leader was removed");
	join(&b, 5);
	cr_assert_eq(b.generation, 3);
	cr_assert_str_eq(b.leader, b.member_id);
}

Test(group, leader_leaves_mid_rebalance)
{
	struct client a, b, c;
	stable_pair(&a, &b);
	init_client(&c, "c");
	join_new(&c);
	cr_assert_eq(group_leave(gc, KSTR("g"), kstr_from(a.member_id), KSTR_NULL, now), 0);
	join(&b, 5); /* b and c are all there is now */
	cr_assert_eq(b.generation, 3);
	cr_assert_eq(c.generation, 3);
	cr_assert_str_neq(b.leader, a.member_id);
	cr_assert_str_eq(b.leader, c.leader);
	struct client *leader = strcmp(b.leader, b.member_id) == 0 ? &b : &c;
	cr_assert_eq(leader->members_seen, 2);
}

Test(group, initial_delay_batches_first_joiners)
{
	group_coordinator_free(gc);
	struct group_config cfg = { 6000, 300000, 3000, 7 };
	cr_assert_eq(group_coordinator_create(&cfg, &gc), 0);
	struct client a, b;
	init_client(&a, "a");
	init_client(&b, "b");
	join_new(&a);
	cr_assert_eq(a.joins, 1, "parked during the initial delay");
	now += 2000;
	join_new(&b); /* extends the delay to now + 3000 */
	now += 2999;
	group_tick(gc, now);
	cr_assert_eq(a.joins, 1);
	now += 1;
	group_tick(gc, now);
	cr_assert_eq(a.joins, 2);
	cr_assert_eq(a.generation, 1);
	cr_assert_eq(b.generation, 1);
	cr_assert_eq(a.members_seen + b.members_seen, 2);
}

Test(group, protocol_by_vote)
{
	struct client a, b, c;
	init_client(&a, "a");
	init_client(&b, "b");
	init_client(&c, "c");
	a.protocols[0] = "range";
	a.protocols[1] = "roundrobin";
	b.protocols[0] = "roundrobin";
	b.protocols[1] = "range";
	c.protocols[0] = "roundrobin";
	c.protocols[1] = "range";
	group_coordinator_free(gc);
	struct group_config cfg = { 6000, 300000, 1000, 3 };
	cr_assert_eq(group_coordinator_create(&cfg, &gc), 0);
	join_new(&a);
	join_new(&b);
	join_new(&c);
	now += 1000;
	group_tick(gc, now);
	cr_assert_str_eq(a.protocol, "roundrobin");
	cr_assert_str_eq(describe().protocol, "", "CompletingRebalance: no protocol yet");
	struct client *all[] = { &a, &b, &c };
	const char *as[] = { "A", "B", "C" };
	sync(&a, all, as, 3);
	cr_assert_str_eq(describe().protocol, "roundrobin");
}

Test(group, errors)
{
	struct client a, x;
	init_client(&a, "a");
	join_new(&a);
	init_client(&x, "x");
	x.session_ms = 1000;
	join(&x, 5);
	cr_assert_eq(x.join_error, KAFKA_INVALID_SESSION_TIMEOUT);
	init_client(&x, "x");
	x.protocols[0] = "cooperative-sticky";
	join(&x, 5); /* checked before a member id is handed out, as Kafka does */
	cr_assert_eq(x.join_error, KAFKA_INCONSISTENT_GROUP_PROTOCOL);
	init_client(&x, "x");
	snprintf(x.member_id, sizeof(x.member_id), "forged");
	join(&x, 5);
	cr_assert_eq(x.join_error, KAFKA_UNKNOWN_MEMBER_ID);
	a.generation = 99;
	cr_assert_eq(heartbeat(&a), KAFKA_ILLEGAL_GENERATION);
	struct client *all[] = { &a };
	const char *as[] = { "" };
	sync(&a, all, as, 1);
	cr_assert_eq(a.sync_error, KAFKA_ILLEGAL_GENERATION);
	a.generation = 1;
	cr_assert_eq(group_commit_allowed(gc, KSTR("g"), kstr_from(a.member_id), KSTR_NULL, 1, now),
	             KAFKA_REBALANCE_IN_PROGRESS, "commits wait for the sync");
	sync(&a, all, as, 1);
	cr_assert_eq(a.sync_error, 0);
	cr_assert_eq(group_commit_allowed(gc, KSTR("g"), kstr_from(a.member_id), KSTR_NULL, 1, now),
	             0);
	cr_assert_eq(group_commit_allowed(gc, KSTR("g"), kstr_from(a.member_id), KSTR_NULL, 7, now),
	             KAFKA_ILLEGAL_GENERATION);
	cr_assert_eq(group_commit_allowed(gc, KSTR("g"), KSTR("forged"), KSTR_NULL, 1, now),
	             KAFKA_UNKNOWN_MEMBER_ID);
	cr_assert_eq(group_commit_allowed(gc, KSTR("g"), KSTR(""), KSTR_NULL, -1, now),
	             KAFKA_UNKNOWN_MEMBER_ID, "standalone commits only for empty groups");
	cr_assert_eq(group_commit_allowed(gc, KSTR("solo"), KSTR(""), KSTR_NULL, -1, now), 0);
	cr_assert_eq(group_commit_allowed(gc, KSTR(""), KSTR(""), KSTR_NULL, -1, now),
	             KAFKA_INVALID_GROUP_ID);
	/* An empty group id is refused before any member is looked for (Kafka's order). */
	cr_assert_eq(group_heartbeat(gc, KSTR(""), KSTR("m"), KSTR_NULL, 1, now),
	             KAFKA_INVALID_GROUP_ID);
	cr_assert_eq(group_leave(gc, KSTR(""), KSTR("m"), KSTR_NULL, now), KAFKA_INVALID_GROUP_ID);
	struct group_sync_request empty_sync = { .group_id = KSTR(""),
		                                 .member_id = KSTR("m"),
		                                 .group_instance_id = KSTR_NULL,
		                                 .generation_id = 1 };
	a.sync_error = 0;
	group_sync(gc, &empty_sync, now, on_sync, &a);
	cr_assert_eq(a.sync_error, KAFKA_INVALID_GROUP_ID);
	cr_assert_eq(group_delete(gc, KSTR("g")), KAFKA_NON_EMPTY_GROUP);
	cr_assert_eq(group_delete(gc, KSTR("solo")), 0);
	cr_assert_eq(group_delete(gc, KSTR("solo")), KAFKA_GROUP_ID_NOT_FOUND);
}

Test(group, join_with_an_id_makes_no_group)
{
	/* A member id from before a coordinator restart: the group is not made again by it. */
	struct client x;
	init_client(&x, "x");
	snprintf(x.member_id, sizeof(x.member_id), "x-from-before");
	join(&x, 5);
	cr_assert_eq(x.join_error, KAFKA_UNKNOWN_MEMBER_ID);
	cr_assert_not(group_describe(gc, KSTR("g"), on_describe, &(struct described){ 0 }));
	/* Nor by a commit that names a member: only a standalone one (no member) makes one. */
	cr_assert_eq(group_commit_allowed(gc, KSTR("g"), KSTR("x-from-before"), KSTR_NULL, -1, now),
	             KAFKA_UNKNOWN_MEMBER_ID);
	cr_assert_eq(group_commit_allowed(gc, KSTR("g"), KSTR(""), KSTR("inst"), -1, now),
	             KAFKA_UNKNOWN_MEMBER_ID);
	cr_assert_not(group_describe(gc, KSTR("g"), on_describe, &(struct described){ 0 }));
	cr_assert_eq(group_commit_allowed(gc, KSTR("g"), KSTR(""), KSTR_NULL, -1, now), 0);
	cr_assert_str_eq(describe().state, "Empty");
	cr_assert_eq(group_commit_allowed(gc, KSTR("g"), KSTR("x-from-before"), KSTR_NULL, -1, now),
	             KAFKA_UNKNOWN_MEMBER_ID, "a named member is checked on an Empty group too");
}

static bool keep_k(void *arg, struct kstr id)
{
	(*(int *)arg)++;
	return kstr_eq(id, "k");
}

Test(group, forget_empty_groups_without_offsets)
{
	int asked = 0;
	struct client a;
	init_client(&a, "a");
	join_new(&a); /* group "g": a member, never forgotten */
	cr_assert_eq(group_commit_allowed(gc, KSTR("k"), KSTR(""), KSTR_NULL, -1, now), 0);
	cr_assert_eq(group_commit_allowed(gc, KSTR("s"), KSTR(""), KSTR_NULL, -1, now), 0);
	group_touch(gc, KSTR("t"), now);
	cr_assert_eq(group_forget_empty(gc, now + 999, 1000, keep_k, &asked), 0, "too early");
	now += 600;
	cr_assert_eq(group_commit_allowed(gc, KSTR("s"), KSTR(""), KSTR_NULL, -1, now), 0);
	now += 500;
	/* "t" went: Empty for 1100 ms; "s" had a commit 500 ms ago; "k" is kept by keep(). */
	cr_assert_eq(group_forget_empty(gc, now, 1000, keep_k, &asked), 1);
	cr_assert_not(group_describe(gc, KSTR("t"), on_describe, &(struct described){ 0 }));
	cr_assert(group_describe(gc, KSTR("s"), on_describe, &(struct described){ 0 }));
	now += 600;
	cr_assert_eq(group_forget_empty(gc, now, 1000, keep_k, &asked), 1);
	cr_assert_not(group_describe(gc, KSTR("s"), on_describe, &(struct described){ 0 }));
	cr_assert(group_describe(gc, KSTR("k"), on_describe, &(struct described){ 0 }));
	cr_assert_str_eq(describe().state, "CompletingRebalance");
	/* Once its last member left, "g" goes too, a whole interval later. */
	cr_assert_eq(group_leave(gc, KSTR("g"), kstr_from(a.member_id), KSTR_NULL, now), 0);
	cr_assert_eq(group_forget_empty(gc, now + 999, 1000, keep_k, &asked), 0);
	cr_assert_eq(group_forget_empty(gc, now + 1000, 1000, keep_k, &asked), 1);
	cr_assert_str_eq(describe().state, "");
	cr_assert_gt(asked, 0);
}

Test(group, static_member_rejoins_without_rebalance)
{
	struct client a, b;
	init_client(&a, "a");
	init_client(&b, "b");
	a.instance = "pod-a";
	join(&a, 5); /* static members join at once, no MEMBER_ID_REQUIRED */
	cr_assert_eq(a.join_error, 0);
	struct client *all[] = { &a };
	const char *as[] = { "A:0" };
	sync(&a, all, as, 1);
	cr_assert_str_eq(describe().state, "Stable");
	char old_id[128];
	snprintf(old_id, sizeof(old_id), "%s", a.member_id);
	/* The pod restarts: same instance id, no member id. */
	memset(a.member_id, 0, sizeof(a.member_id));
	join(&a, 5);
	cr_assert_eq(a.join_error, 0);
	cr_assert_str_neq(a.member_id, old_id);
	cr_assert_eq(a.generation, 1, "no rebalance");
	cr_assert_str_eq(describe().state, "Stable");
	sync(&a, NULL, NULL, 0);
	cr_assert_str_eq(a.assignment, "A:0", "the same assignment");
	/* The old incarnation is fenced. */
	cr_assert_eq(group_heartbeat(gc, KSTR("g"), kstr_from(old_id), KSTR("pod-a"), 1, now),
	             KAFKA_FENCED_INSTANCE_ID);
}

struct listed {
	int n;
};

static void on_list(void *arg, const char *id, const char *type)
{
	(void)id;
	(void)type;
	((struct listed *)arg)->n++;
}

Test(group, list_touch_empty_since)
{
	struct listed l = { 0 };
	group_touch(gc, KSTR("offsets-only"), now);
	group_list(gc, on_list, &l);
	cr_assert_eq(l.n, 1);
	cr_assert_eq(group_empty_since(gc, KSTR("offsets-only")), now);
	struct client a;
	init_client(&a, "a");
	join_new(&a);
	cr_assert_eq(group_empty_since(gc, KSTR("g")), -1);
	cr_assert(!group_describe(gc, KSTR("unknown"), on_describe, NULL));
}
