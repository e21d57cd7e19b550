/*
 * tests/unit/replication/test_cluster.c: cluster roles (replication/cluster.h) over the local
 * store, several brokers sharing one store in one process: registration, one controller,
 * topic creation spread over the live brokers, a new leader from the ISR only with epoch + 1
 * after a broker leaves, no leader when no ISR member lives and the returning one elected
 * again, the leader's ISR change by compare-and-swap refused on a stale state, a second
 * incarnation waiting for the first's lease.
 */
#include "replication/cluster.h"

#include "base/clock.h"
#include "base/diag.h"
#include "io/reactor.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TestSuite(cluster, .timeout = 60);

static struct reactor *r;
static struct metastore *ms;
static char dir[64];

static void setup(void)
{
	diag_set_level(DIAG_WARN);
	snprintf(dir, sizeof(dir), "/tmp/tape-cluster-XXXXXX");
	cr_assert(mkdtemp(dir));
	cr_assert_eq(reactor_create(&r), 0);
	cr_assert_eq(metastore_open(r, "local", dir, &ms), 0);
}

static bool closed;
static void store_closed(struct metastore_op *op)
{
	(void)op;
	closed = true;
}

static void teardown(void)
{
	struct metastore_op op = { .done = store_closed };
	closed = false;
	metastore_close(ms, &op);
	reactor_run_until(r, &closed);
	reactor_drain(r);
	reactor_destroy(r);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static unsigned changes;
static void changed(void *arg)
{
	(void)arg;
	changes++;
}

static struct cluster *join(int32_t id)
{
	static char ids[8][16];
	snprintf(ids[id % 8], sizeof(ids[0]), "proposal-%d", id);
	struct cluster_config cfg = {
		.cluster_id = ids[id % 8],
		.broker_id = id,
		.host = "127.0.0.1",
		.port = 9000 + id,
		.name = "t",
		.session_timeout_ms = 2000,
	};
	struct cluster_hooks hooks = { .changed = changed };
	struct cluster *c;
	cr_assert_eq(cluster_start(r, ms, &cfg, &hooks, &c), 0);
	return c;
}

/* Runs the reactor until cond(arg) holds, at most secs. */
static bool wait_for(bool (*cond)(void *), void *arg, int secs)
{
	int64_t end = clock_mono_ms() + secs * 1000;
	while (!cond(arg)) {
		if (clock_mono_ms() > end)
			return false;
		reactor_run_once(r, 20 * 1000000);
	}
	return true;
}

struct three {
	struct cluster *c[3];
};

static bool all_see_three(void *arg)
{
	struct three *t = arg;
	for (int i = 0; i < 3; i++) {
		size_t n;
		if (!t->c[i] || (cluster_brokers(t->c[i], &n), n != 3) ||
		    !cluster_may_lead(t->c[i]))
			return false;
	}
	return true;
}

static bool one_controller(void *arg)
{
	struct three *t = arg;
	int n = 0;
	for (int i = 0; i < 3; i++)
		if (t->c[i] && cluster_is_controller(t->c[i]))
			n++;
	return n == 1;
}

static bool ids_known(void *arg)
{
	struct three *t = arg;
	return cluster_id(t->c[0]) && cluster_id(t->c[1]) && cluster_id(t->c[2]);
}

static int done_err = 1;
static void op_done(void *arg, int err)
{
	(void)arg;
	done_err = err;
}

static void isr_done(void *arg, int err, int64_t revision)
{
	(void)arg;
	cr_assert(err != 0 || revision > 0);
	done_err = err;
}

static bool done_set(void *arg)
{
	(void)arg;
	return done_err != 1;
}

struct pwait {
	struct cluster *c;
	const char *topic;
	int32_t partition, leader, epoch, isr_count;
};

static bool state_is(void *arg)
{
	struct pwait *w = arg;
	const struct cluster_topic *t = cluster_find_topic(w->c, w->topic, strlen(w->topic));
	if (!t)
		return false;
	const struct cluster_pstate *s = &t->states[w->partition];
	return s->leader == w->leader && s->leader_epoch == w->epoch &&
	       (w->isr_count < 0 || s->isr_count == w->isr_count);
}

static bool stopped_flag[3];
static void stopped(void *arg)
{
	stopped_flag[(intptr_t)arg] = true;
}

static bool is_true(void *arg)
{
	return *(bool *)arg;
}

static void stop(struct cluster *c, int i)
{
	stopped_flag[i] = false;
	cluster_stop(c, stopped, (void *)(intptr_t)i);
	cr_assert(wait_for(is_true, &stopped_flag[i], 20), "broker %d stops", i);
}

Test(cluster, assign_round_robin)
{
	int32_t b[] = { 0, 1, 2 }, out[12];
	cr_assert_eq(cluster_assign(b, 3, 4, 3, 1, out), 0);
	int32_t want[] = { 1, 2, 0, 2, 0, 1, 0, 1, 2, 1, 2, 0 };
	cr_assert_arr_eq(out, want, sizeof(want));
	cr_assert_eq(cluster_assign(b, 3, 1, 4, 0, out), -EDOM);
}

Test(cluster, pstate_decode)
{
	struct cluster_pstate s;
	const char *ok = "{\"isr\":[2,0],\"leader\":2,\"leader_epoch\":3}";
	cr_assert_eq(cluster_pstate_decode((const uint8_t *)ok, strlen(ok), &s), 0);
	cr_assert_eq(s.leader, 2);
	cr_assert_eq(s.leader_epoch, 3);
	cr_assert_eq(s.isr_count, 2);
	const char *bad[] = { "",
		              "{}",
		              "{\"leader\":1,\"leader_epoch\":0,\"isr\":[]}",
		              "{\"leader\":-2,\"leader_epoch\":0,\"isr\":[1]}",
		              "{\"leader\":1,\"leader_epoch\":0,\"isr\":[\"1\"]}",
		              "[1,2]" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_lt(cluster_pstate_decode((const uint8_t *)bad[i], strlen(bad[i]), &s), 0,
		             "%s", bad[i]);
}

Test(cluster, elections, .init = setup, .fini = teardown)
{
	struct three t = { { join(0), join(1), join(2) } };
	cr_assert(wait_for(all_see_three, &t, 10), "three brokers registered");
	cr_assert(wait_for(one_controller, &t, 10), "exactly one controller");
	int32_t ctl = cluster_controller_id(t.c[0]);
	cr_assert(ctl >= 0 && ctl <= 2);
	/* One cluster id for all, one of the proposals. */
	cr_assert(wait_for(ids_known, &t, 10));
	const char *id0 = cluster_id(t.c[0]);
	cr_assert(id0 && strncmp(id0, "proposal-", 9) == 0);
	cr_assert_str_eq(cluster_id(t.c[1]), id0);
	cr_assert_str_eq(cluster_id(t.c[2]), id0);

	done_err = 1;
	cr_assert_eq(cluster_create_topic(t.c[1], "orders", 3, 3, 0, NULL, NULL, op_done, NULL), 0);
	cr_assert(wait_for(done_set, NULL, 10));
	cr_assert_eq(done_err, 0);
	const struct cluster_topic *ct = cluster_find_topic(t.c[1], "orders", 6);
	cr_assert(ct, "the creator's view has it when done runs");
	cr_assert_eq(ct->partitions_count, 3);
	int leaders[3] = { 0 };
	for (int p = 0; p < 3; p++)
		leaders[ct->states[p].leader]++;
	cr_assert(leaders[0] == 1 && leaders[1] == 1 && leaders[2] == 1, "spread");
	done_err = 1;
	cr_assert_eq(cluster_create_topic(t.c[2], "orders", 1, 1, 0, NULL, NULL, op_done, NULL), 0);
	cr_assert(wait_for(done_set, NULL, 10));
	cr_assert_eq(done_err, -EEXIST);
	cr_assert_eq(cluster_create_topic(t.c[2], "big", 1, 4, 0, NULL, NULL, op_done, NULL),
	             -EDOM);

	/* The leader of partition 0 leaves (a controlled shutdown: its lease is revoked). */
	int32_t l0 = ct->states[0].leader;
	const int32_t *reps = &ct->replicas[0];
	int32_t next = reps[1];
	stop(t.c[l0], l0);
	t.c[l0] = NULL;
	int other = l0 == 0 ? 1 : 0;
	struct pwait w = { t.c[other], "orders", 0, next, 1, 2 };
	cr_assert(wait_for(state_is, &w, 10), "the next replica of the ISR leads in epoch 1");

	/* ISR changes go through the controller: one naming a dead broker is refused, one
	 * from a broker that does not lead is not even sent. */
	int32_t bad[] = { next, l0 };
	done_err = 1;
	cr_assert_eq(cluster_propose_isr(t.c[next], "orders", 0, bad, 2, isr_done, NULL), 0);
	cr_assert(wait_for(done_set, NULL, 10));
	cr_assert_eq(done_err, -ESTALE);
	cr_assert_eq(cluster_propose_isr(t.c[other == next ? 3 - l0 - next : other], "orders", 0,
	                                 bad, 2, isr_done, NULL),
	             -EPERM);
	/* An ISR change by the new leader, taken. */
	int32_t isr1[] = { next };
	done_err = 1;
	cr_assert_eq(cluster_propose_isr(t.c[next], "orders", 0, isr1, 1, isr_done, NULL), 0);
	cr_assert(wait_for(done_set, NULL, 10));
	cr_assert_eq(done_err, 0);
	struct pwait w1 = { t.c[next], "orders", 0, next, 1, 1 };
	cr_assert(wait_for(state_is, &w1, 10));

	/* The last ISR member leaves: no leader, the ISR kept, and no unclean election of the
	 * live broker outside it. */
	int last = 3 - l0 - next;
	stop(t.c[next], next);
	t.c[next] = NULL;
	struct pwait w2 = { t.c[last], "orders", 0, -1, 2, 1 };
	cr_assert(wait_for(state_is, &w2, 10), "no leader");
	/* It comes back (a new incarnation): elected again, epoch 3. */
	t.c[next] = join(next);
	struct pwait w3 = { t.c[last], "orders", 0, next, 3, 1 };
	cr_assert(wait_for(state_is, &w3, 10), "the ISR member returns and leads");
	for (int i = 0; i < 3; i++)
		if (t.c[i])
			stop(t.c[i], i);
}

static bool lead_ok(void *arg)
{
	return cluster_may_lead(arg);
}

Test(cluster, second_incarnation_waits_for_the_lease, .init = setup, .fini = teardown)
{
	struct cluster *a = join(4);
	cr_assert(wait_for(lead_ok, a, 10));
	/* Another process with the same id: it may not register while a's key lives. */
	struct cluster *b = join(4);
	int64_t end = clock_mono_ms() + 1000;
	while (clock_mono_ms() < end)
		reactor_run_once(r, 20 * 1000000);
	cr_assert_not(cluster_may_lead(b));
	stop(a, 0);
	cr_assert(wait_for(lead_ok, b, 10), "registered once a's lease is gone");
	stop(b, 1);
}
