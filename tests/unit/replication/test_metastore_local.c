/*
 * tests/unit/replication/test_metastore_local.c: the local metadata store.
 *
 * Runs the shared body (tests/support/metastore_suite.c: revisions, CAS, transactions, leases
 * expiring on the timer, watches and their resume and reset) against a store in a temp dir of
 * its own, then what only the local store has: its checkpoint surviving a reopen (revisions
 * kept, leased keys gone), a torn or garbage ".tmp" beside it ignored, a damaged checkpoint
 * refused, a history overflow turning a resume into a reset, and a failed checkpoint write
 * failing every later call (no retry-and-ack).
 */
#include "tests/support/metastore_suite.h"

#include "base/diag.h"
#include "base/errors.h"
#include "base/limits.h"
#include "io/reactor.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

TestSuite(metastore_local, .timeout = 60);

struct local_env {
	struct ms_env env;
	char dir[64];
};

static int local_open(struct ms_env *env, struct metastore **out)
{
	struct local_env *le = (struct local_env *)env;
	return metastore_open(env->r, "local", le->dir, out);
}

static struct local_env *env_new(void)
{
	struct local_env *le = calloc(1, sizeof(*le));
	cr_assert(le);
	snprintf(le->dir, sizeof(le->dir), "/tmp/tape-metastore-XXXXXX");
	cr_assert(mkdtemp(le->dir));
	cr_assert_eq(reactor_create(&le->env.r), 0);
	le->env.open = local_open;
	le->env.one_store = true;
	snprintf(le->env.prefix, sizeof(le->env.prefix), "/t/");
	return le;
}

static void env_free(struct local_env *le)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", le->dir);
	cr_assert_eq(system(cmd), 0);
	reactor_destroy(le->env.r);
	free(le);
}

static void run_shared(const char *name)
{
	struct local_env *le = env_new();
	for (size_t i = 0; i < ms_tests_count; i++) {
		if (strcmp(ms_tests[i].name, name))
			continue;
		const char *err = ms_tests[i].fn(&le->env);
		cr_assert(err == NULL, "%s: %s", name, err);
		env_free(le);
		return;
	}
	cr_assert_fail("no shared test %s", name);
}

Test(metastore_local, put_get)
{
	run_shared("put_get");
}
Test(metastore_local, range_delete)
{
	run_shared("range_delete");
}
Test(metastore_local, cas)
{
	run_shared("cas");
}
Test(metastore_local, txn_atomic)
{
	run_shared("txn_atomic");
}
Test(metastore_local, lease_expiry)
{
	run_shared("lease_expiry");
}
Test(metastore_local, lease_revoke)
{
	run_shared("lease_revoke");
}
Test(metastore_local, watch)
{
	run_shared("watch");
}
Test(metastore_local, watch_resume)
{
	run_shared("watch_resume");
}
Test(metastore_local, watch_compacted)
{
	run_shared("watch_compacted");
}
Test(metastore_local, cas_race)
{
	run_shared("cas_race");
}
Test(metastore_local, bad_args)
{
	run_shared("bad_args");
}

Test(metastore_local, every_shared_test_runs_here)
{
	cr_assert_eq(ms_tests_count, 11, "a shared test was added: give it a Test() above");
}

/* ---- what only the local store has ---------------------------------------------------------- */

Test(metastore_local, checkpoint_survives_reopen)
{
	struct local_env *le = env_new();
	struct ms_env *env = &le->env;
	struct metastore *ms;
	cr_assert_eq(local_open(env, &ms), 0);
	cr_assert_str_eq(metastore_kind(ms), "local");
	cr_assert_eq(ms_put(env, ms, "/t/a", "1", 0).err, 0);
	struct ms_got p = ms_put(env, ms, "/t/a", "2", 0);
	cr_assert_eq(ms_put(env, ms, "/t/b", "b", 0).err, 0);
	struct ms_got l = ms_lease_grant(env, ms, 60);
	struct ms_got pl = ms_put(env, ms, "/t/leased", "x", l.lease_id);
	cr_assert_eq(pl.err, 0);
	cr_assert_eq(ms_close(env, ms), 0);

	cr_assert_eq(local_open(env, &ms), 0);
	struct ms_got g = ms_range(env, ms, "/t/", 0);
	cr_assert_eq(g.err, 0);
	cr_assert_eq(g.count, 2, "leased keys die with the process: %zu keys", g.count);
	cr_assert_str_eq(g.kvs[0].value, "2");
	cr_assert_eq(g.kvs[0].mod_revision, p.revision);
	cr_assert_eq(g.kvs[0].version, 2);
	cr_assert_eq(g.revision, pl.revision, "the revision survives: %lld vs %lld",
	             (long long)g.revision, (long long)pl.revision);
	/* The lease did not survive either. */
	cr_assert_eq(ms_keepalive(env, ms, l.lease_id).err, -ENOENT);
	/* A watch from before the reopen has no history to resume from: a reset. */
	struct ms_watcher mw;
	cr_assert_eq(ms_watch(ms, &mw, "/t/", 2), 0);
	ms_sleep(env, 0.1);
	cr_assert_eq(mw.resets, 1);
	cr_assert_str_eq(mw.reset_keys, "/t/a /t/b");
	metastore_watch_stop(&mw.w);
	/* New writes go on from the old revision. */
	struct ms_got p2 = ms_put(env, ms, "/t/c", "c", 0);
	cr_assert_eq(p2.revision, pl.revision + 1);
	cr_assert_eq(ms_close(env, ms), 0);
	env_free(le);
}

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static size_t read_file(const char *dir, const char *name, uint8_t *p, size_t cap)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDONLY);
	cr_assert(fd >= 0);
	ssize_t n = read(fd, p, cap);
	cr_assert(n > 0);
	close(fd);
	return (size_t)n;
}

Test(metastore_local, torn_tmp_is_ignored)
{
	struct local_env *le = env_new();
	struct ms_env *env = &le->env;
	struct metastore *ms;
	cr_assert_eq(local_open(env, &ms), 0);
	cr_assert_eq(ms_put(env, ms, "/t/a", "kept", 0).err, 0);
	cr_assert_eq(ms_close(env, ms), 0);
	/* A crash in the middle of the next write leaves a half-written .tmp: its first bytes. */
	uint8_t file[4096];
	size_t n = read_file(le->dir, "metastore.checkpoint", file, sizeof(file));
	for (size_t cut = 0; cut < n; cut += 7) {
		write_file(le->dir, "metastore.checkpoint.tmp", file, cut);
		cr_assert_eq(local_open(env, &ms), 0);
		struct ms_got g = ms_get(env, ms, "/t/a");
		cr_assert_eq(g.count, 1);
		cr_assert_str_eq(g.kvs[0].value, "kept");
		cr_assert_eq(ms_close(env, ms), 0);
	}
	env_free(le);
}

Test(metastore_local, damaged_checkpoint_is_refused)
{
	struct local_env *le = env_new();
	struct ms_env *env = &le->env;
	struct metastore *ms;
	cr_assert_eq(local_open(env, &ms), 0);
	cr_assert_eq(ms_put(env, ms, "/t/a", "value", 0).err, 0);
	cr_assert_eq(ms_close(env, ms), 0);
	uint8_t file[4096];
	size_t n = read_file(le->dir, "metastore.checkpoint", file, sizeof(file));
	diag_set_level(DIAG_OFF); /* one error line per refused open */
	/* Every flipped byte and every cut is refused: metadata is never guessed at. */
	for (size_t i = 0; i < n; i++) {
		file[i] ^= 0x41;
		write_file(le->dir, "metastore.checkpoint", file, n);
		cr_assert_eq(local_open(env, &ms), -TAPE_ECORRUPT, "flipped byte %zu opened", i);
		file[i] ^= 0x41;
	}
	for (size_t cut = 0; cut < n; cut++) {
		write_file(le->dir, "metastore.checkpoint", file, cut);
		cr_assert_eq(local_open(env, &ms), -TAPE_ECORRUPT, "cut at %zu opened", cut);
	}
	write_file(le->dir, "metastore.checkpoint", file, n);
	cr_assert_eq(local_open(env, &ms), 0);
	cr_assert_eq(ms_close(env, ms), 0);
	env_free(le);
}

static void count_down(struct metastore_op *op)
{
	cr_assert_eq(op->err, 0);
	(*(int *)op->arg)--;
}

Test(metastore_local, history_overflow_resets_a_resume)
{
	struct local_env *le = env_new();
	struct ms_env *env = &le->env;
	struct metastore *ms;
	cr_assert_eq(local_open(env, &ms), 0);
	struct ms_got first = ms_put(env, ms, "/t/k", "0", 0);
	/* More writes than the history holds, 256 in flight at a time so the checkpoint
	 * coalesces them. */
	static struct metastore_op ops[256];
	int left = 0;
	for (int round = 0; round < METASTORE_HISTORY_EVENTS_MAX / 256 + 2; round++) {
		for (int i = 0; i < 256; i++) {
			ops[i].done = count_down;
			ops[i].arg = &left;
			left++;
			metastore_put(ms, &ops[i], "/t/k", 4, "v", 1, 0);
		}
		while (left > 0)
			reactor_run_once(env->r, -1);
	}
	struct ms_watcher mw;
	cr_assert_eq(ms_watch(ms, &mw, "/t/", first.revision), 0);
	ms_sleep(env, 0.1);
	cr_assert_eq(mw.resets, 1, "a resume past the history must reset");
	cr_assert_str_eq(mw.reset_keys, "/t/k");
	metastore_watch_stop(&mw.w);
	cr_assert_eq(ms_close(env, ms), 0);
	env_free(le);
}

Test(metastore_local, failed_checkpoint_is_sticky)
{
	struct local_env *le = env_new();
	struct ms_env *env = &le->env;
	struct metastore *ms;
	cr_assert_eq(local_open(env, &ms), 0);
	cr_assert_eq(ms_put(env, ms, "/t/a", "1", 0).err, 0);
	struct ms_watcher mw;
	cr_assert_eq(ms_watch(ms, &mw, "/t/", 0), 0);
	/* The directory goes away: the next checkpoint cannot be written. */
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", le->dir);
	cr_assert_eq(system(cmd), 0);
	struct ms_got p = ms_put(env, ms, "/t/a", "2", 0);
	cr_assert_eq(p.err, -TAPE_EFAILED, "a write that is not durable was acknowledged");
	cr_assert_eq(mw.events, 0, "a watcher saw a change that is not durable");
	cr_assert_eq(mw.err, -TAPE_EFAILED);
	cr_assert_eq(ms_get(env, ms, "/t/a").err, -TAPE_EFAILED);
	cr_assert_eq(mkdir(le->dir, 0755), 0);
	cr_assert_eq(ms_put(env, ms, "/t/a", "3", 0).err, -TAPE_EFAILED, "no retry-and-ack");
	cr_assert_eq(ms_close(env, ms), 0);
	env_free(le);
}

Test(metastore_local, open_spec)
{
	struct reactor *r;
	cr_assert_eq(reactor_create(&r), 0);
	struct metastore *ms;
	cr_assert_eq(metastore_open(r, "zookeeper://x", "/tmp", &ms), -TAPE_ECONFIG);
	cr_assert_eq(metastore_open(r, "local", NULL, &ms), -EINVAL);
	cr_assert_eq(metastore_open(r, "etcd://", NULL, &ms), -TAPE_ECONFIG);
	cr_assert_eq(metastore_open(r, "etcd://nohost", NULL, &ms), -TAPE_ECONFIG);
	cr_assert_eq(metastore_open(r, "etcd://h:1,h:99999", NULL, &ms), -TAPE_ECONFIG);
	reactor_destroy(r);
}
