/*
 * tests/support/metastore_suite.c: the shared metadata-store tests. See metastore_suite.h.
 */
#include "tests/support/metastore_suite.h"

#include "base/clock.h"
#include "base/errors.h"
#include "base/limits.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static char why[1024];

#define CHECK(cond, ...)                                                                          \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			int n_ =                                                                  \
			    snprintf(why, sizeof(why), "%s:%d: %s: ", __FILE__, __LINE__, #cond); \
			snprintf(why + n_, sizeof(why) - (size_t)n_, __VA_ARGS__);                \
			return why;                                                               \
		}                                                                                 \
	} while (0)

#define OK(got) CHECK((got).err == 0, "err %d (%s)", (got).err, tape_strerror((got).err))

/* ---- waiting ------------------------------------------------------------------------------- */

struct waiter {
	struct metastore_op op;
	struct ms_got *got;
	bool done;
};

static void copy_str(char *dst, size_t cap, const uint8_t *src, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void waiter_done(struct metastore_op *op)
{
	struct waiter *wt = (struct waiter *)op;
	struct ms_got *g = wt->got;
	g->err = op->err;
	g->revision = op->revision;
	g->succeeded = op->succeeded;
	g->more = op->more;
	g->count = op->kvs_count;
	g->deleted = op->deleted;
	g->lease_id = op->lease_id;
	g->ttl_s = op->ttl_s;
	for (size_t i = 0; i < op->kvs_count && i < MS_GOT_KVS; i++) {
		const struct metastore_kv *kv = &op->kvs[i];
		copy_str(g->kvs[i].key, sizeof(g->kvs[i].key), kv->key, kv->key_len);
		copy_str(g->kvs[i].value, sizeof(g->kvs[i].value), kv->value, kv->value_len);
		g->kvs[i].create_revision = kv->create_revision;
		g->kvs[i].mod_revision = kv->mod_revision;
		g->kvs[i].version = kv->version;
		g->kvs[i].lease = kv->lease;
	}
	wt->done = true;
}

static bool run_until(struct ms_env *env, bool *done, double deadline_s)
{
	int64_t end = clock_mono_ns() + (int64_t)(deadline_s * 1e9);
	while (!*done && clock_mono_ns() < end)
		reactor_run_once(env->r, 10 * 1000000ll);
	return *done;
}

/* Starts a call through start(), then waits for it. */
#define CALL(env, res, ...)                                                                   \
	do {                                                                                  \
		struct waiter wt_ = { .op.done = waiter_done, .got = &(res) };                \
		memset(&(res), 0, sizeof(res));                                               \
		struct metastore_op *op_ = &wt_.op;                                           \
		__VA_ARGS__;                                                                  \
		if (!run_until((env), &wt_.done, 10))                                         \
			(res).err = -ETIMEDOUT; /* the waiter is abandoned: tests end here */ \
	} while (0)

struct ms_got ms_get(struct ms_env *env, struct metastore *ms, const char *key)
{
	struct ms_got g;
	CALL(env, g, metastore_range(ms, op_, key, strlen(key), false, 0));
	return g;
}

struct ms_got ms_range(struct ms_env *env, struct metastore *ms, const char *prefix, size_t limit)
{
	struct ms_got g;
	CALL(env, g, metastore_range(ms, op_, prefix, strlen(prefix), true, limit));
	return g;
}

struct ms_got ms_put(struct ms_env *env, struct metastore *ms, const char *key, const char *value,
                     int64_t lease)
{
	struct ms_got g;
	CALL(env, g, metastore_put(ms, op_, key, strlen(key), value, strlen(value), lease));
	return g;
}

struct ms_got ms_del(struct ms_env *env, struct metastore *ms, const char *key, bool prefix)
{
	struct ms_got g;
	CALL(env, g, metastore_delete(ms, op_, key, strlen(key), prefix));
	return g;
}

struct ms_got ms_lease_grant(struct ms_env *env, struct metastore *ms, int64_t ttl_s)
{
	struct ms_got g;
	CALL(env, g, metastore_lease_grant(ms, op_, ttl_s));
	return g;
}

struct ms_got ms_keepalive(struct ms_env *env, struct metastore *ms, int64_t lease)
{
	struct ms_got g;
	CALL(env, g, metastore_lease_keepalive(ms, op_, lease));
	return g;
}

struct ms_got ms_revoke(struct ms_env *env, struct metastore *ms, int64_t lease)
{
	struct ms_got g;
	CALL(env, g, metastore_lease_revoke(ms, op_, lease));
	return g;
}

struct ms_got ms_compact(struct ms_env *env, struct metastore *ms, int64_t revision)
{
	struct ms_got g;
	CALL(env, g, metastore_compact(ms, op_, revision));
	return g;
}

static struct ms_got ms_txn(struct ms_env *env, struct metastore *ms, const struct metastore_txn *t)
{
	struct ms_got g;
	CALL(env, g, metastore_txn(ms, op_, t));
	return g;
}

int ms_close(struct ms_env *env, struct metastore *ms)
{
	struct ms_got g;
	CALL(env, g, metastore_close(ms, op_));
	return g.err;
}

void ms_sleep(struct ms_env *env, double seconds)
{
	bool never = false;
	run_until(env, &never, seconds);
}

/* ---- watching ------------------------------------------------------------------------------ */

static void watcher_fn(struct metastore_watch *w, const struct metastore_watch_batch *b)
{
	struct ms_watcher *mw = (struct ms_watcher *)w;
	mw->batches++;
	mw->revision = b->revision;
	if (b->err) {
		mw->err = b->err;
		return;
	}
	if (b->reset) {
		mw->resets++;
		mw->reset_keys[0] = '\0';
		for (size_t i = 0; i < b->events_count; i++) {
			char k[128];
			copy_str(k, sizeof(k), b->events[i].kv.key, b->events[i].kv.key_len);
			size_t n = strlen(mw->reset_keys);
			snprintf(mw->reset_keys + n, sizeof(mw->reset_keys) - n, "%s%s",
			         n ? " " : "", k);
		}
		return;
	}
	for (size_t i = 0; i < b->events_count && mw->events < 64; i++, mw->events++) {
		const struct metastore_event *e = &b->events[i];
		mw->ev[mw->events].put = e->type == METASTORE_EVENT_PUT;
		copy_str(mw->ev[mw->events].key, sizeof(mw->ev[0].key), e->kv.key, e->kv.key_len);
		copy_str(mw->ev[mw->events].value, sizeof(mw->ev[0].value), e->kv.value,
		         e->kv.value_len);
		mw->ev[mw->events].mod_revision = e->kv.mod_revision;
	}
}

int ms_watch(struct metastore *ms, struct ms_watcher *mw, const char *prefix, int64_t start)
{
	memset(mw, 0, sizeof(*mw));
	return metastore_watch_start(ms, &mw->w, prefix, strlen(prefix), start, watcher_fn);
}

bool ms_wait_watch(struct ms_env *env, struct ms_watcher *mw, bool (*pred)(struct ms_watcher *),
                   double deadline_s)
{
	int64_t end = clock_mono_ns() + (int64_t)(deadline_s * 1e9);
	while (!pred(mw) && clock_mono_ns() < end)
		reactor_run_once(env->r, 10 * 1000000ll);
	return pred(mw);
}

static size_t want_events;
static bool has_events(struct ms_watcher *mw)
{
	return mw->events >= want_events || mw->err;
}

bool ms_wait_events(struct ms_env *env, struct ms_watcher *mw, size_t events, double deadline_s)
{
	want_events = events;
	ms_wait_watch(env, mw, has_events, deadline_s);
	return mw->events >= events;
}

/* ---- the tests ----------------------------------------------------------------------------- */

#define KEY(buf, env, name) snprintf((buf), sizeof(buf), "%s%s", (env)->prefix, (name))

#define OPEN(env, ms)                                            \
	struct metastore *ms = NULL;                             \
	do {                                                     \
		int rc_ = (env)->open((env), &ms);               \
		CHECK(rc_ == 0, "open: %s", tape_strerror(rc_)); \
	} while (0)

const char *ms_test_put_get(struct ms_env *env)
{
	OPEN(env, ms);
	char a[128];
	KEY(a, env, "a");
	struct ms_got g = ms_get(env, ms, a);
	OK(g);
	CHECK(g.count == 0 && !g.more, "absent key: %zu kvs", g.count);
	int64_t r0 = g.revision;
	CHECK(r0 >= 1, "revision %lld", (long long)r0);

	struct ms_got p1 = ms_put(env, ms, a, "one", 0);
	OK(p1);
	CHECK(p1.revision == r0 + 1, "put raised the revision to %lld from %lld",
	      (long long)p1.revision, (long long)r0);
	g = ms_get(env, ms, a);
	OK(g);
	CHECK(g.count == 1 && !strcmp(g.kvs[0].value, "one"), "value %s", g.kvs[0].value);
	CHECK(g.kvs[0].create_revision == p1.revision && g.kvs[0].mod_revision == p1.revision &&
	          g.kvs[0].version == 1 && g.kvs[0].lease == 0,
	      "revisions %lld %lld %lld", (long long)g.kvs[0].create_revision,
	      (long long)g.kvs[0].mod_revision, (long long)g.kvs[0].version);

	struct ms_got p2 = ms_put(env, ms, a, "", 0); /* an empty value is a value */
	OK(p2);
	g = ms_get(env, ms, a);
	CHECK(g.count == 1 && g.kvs[0].value[0] == '\0', "empty value");
	CHECK(g.kvs[0].create_revision == p1.revision && g.kvs[0].mod_revision == p2.revision &&
	          g.kvs[0].version == 2,
	      "second put: create %lld mod %lld version %lld", (long long)g.kvs[0].create_revision,
	      (long long)g.kvs[0].mod_revision, (long long)g.kvs[0].version);
	CHECK(ms_close(env, ms) == 0, "close");
	return NULL;
}

const char *ms_test_range_delete(struct ms_env *env)
{
	OPEN(env, ms);
	char k[128];
	const char *names[] = { "p/c", "p/a", "p/b", "q", "p" };
	for (size_t i = 0; i < 5; i++) {
		KEY(k, env, names[i]);
		OK(ms_put(env, ms, k, names[i], 0));
	}
	KEY(k, env, "p/");
	struct ms_got g = ms_range(env, ms, k, 0);
	OK(g);
	CHECK(g.count == 3, "prefix p/: %zu keys", g.count);
	for (size_t i = 0; i < 3; i++) {
		char want[128];
		snprintf(want, sizeof(want), "%sp/%c", env->prefix, (char)('a' + i));
		CHECK(!strcmp(g.kvs[i].key, want), "key %zu is %s, not %s", i, g.kvs[i].key, want);
	}
	g = ms_range(env, ms, k, 2);
	OK(g);
	CHECK(g.count == 2 && g.more, "limit 2: %zu keys, more %d", g.count, g.more);

	int64_t before = ms_get(env, ms, k).revision;
	struct ms_got d = ms_del(env, ms, k, true);
	OK(d);
	CHECK(d.deleted == 3 && d.revision == before + 1, "deleted %lld at %lld (before %lld)",
	      (long long)d.deleted, (long long)d.revision, (long long)before);
	g = ms_range(env, ms, env->prefix, 0);
	CHECK(g.count == 2, "left: %zu keys", g.count);
	d = ms_del(env, ms, k, true);
	OK(d);
	CHECK(d.deleted == 0 && d.revision == before + 1, "deleting nothing: %lld at %lld",
	      (long long)d.deleted, (long long)d.revision);
	KEY(k, env, "q");
	d = ms_del(env, ms, k, false);
	CHECK(d.deleted == 1, "single delete %lld", (long long)d.deleted);
	CHECK(ms_close(env, ms) == 0, "close");
	return NULL;
}

const char *ms_test_cas(struct ms_env *env)
{
	OPEN(env, ms);
	char k[128];
	KEY(k, env, "controller");
	size_t kl = strlen(k);
	struct metastore_cmp absent = { .key = (uint8_t *)k,
		                        .key_len = kl,
		                        .target = METASTORE_CMP_ABSENT };
	struct metastore_txn_op put = { .type = METASTORE_TXN_PUT,
		                        .key = (uint8_t *)k,
		                        .key_len = kl,
		                        .value = (uint8_t *)"b1" };
	put.value_len = 2;
	struct metastore_txn t = { .cmps = &absent, .cmps_count = 1, .ops = &put, .ops_count = 1 };
	struct ms_got first = ms_txn(env, ms, &t);
	OK(first);
	CHECK(first.succeeded, "create-if-absent on an absent key failed");
	struct ms_got second = ms_txn(env, ms, &t);
	OK(second);
	CHECK(!second.succeeded, "create-if-absent succeeded twice");
	CHECK(second.revision == first.revision, "a failed txn moved the revision %lld -> %lld",
	      (long long)first.revision, (long long)second.revision);

	/* Compare on the mod revision: stale fails, current succeeds. */
	struct metastore_cmp mod = {
		.key = (uint8_t *)k, .key_len = kl, .target = METASTORE_CMP_MOD, .revision = 1
	};
	put.value = (uint8_t *)"b2";
	t.cmps = &mod;
	struct ms_got stale = ms_txn(env, ms, &t);
	OK(stale);
	CHECK(!stale.succeeded, "a stale mod revision succeeded");
	mod.revision = first.revision;
	struct ms_got cur = ms_txn(env, ms, &t);
	OK(cur);
	CHECK(cur.succeeded && cur.revision == first.revision + 1,
	      "current mod revision: %d at %lld", cur.succeeded, (long long)cur.revision);
	struct ms_got g = ms_get(env, ms, k);
	CHECK(g.count == 1 && !strcmp(g.kvs[0].value, "b2"), "value %s", g.kvs[0].value);

	/* Compare on the create revision: the controller epoch. */
	struct metastore_cmp create = { .key = (uint8_t *)k,
		                        .key_len = kl,
		                        .target = METASTORE_CMP_CREATE,
		                        .revision = first.revision };
	t.cmps = &create;
	put.value = (uint8_t *)"b3";
	CHECK(ms_txn(env, ms, &t).succeeded, "create revision compare failed");
	create.revision = first.revision + 100;
	CHECK(!ms_txn(env, ms, &t).succeeded, "wrong create revision succeeded");
	/* A compare on an absent key's mod revision: 0. */
	char other[128];
	KEY(other, env, "nobody");
	struct metastore_cmp zero = { .key = (uint8_t *)other,
		                      .key_len = strlen(other),
		                      .target = METASTORE_CMP_MOD };
	t.cmps = &zero;
	CHECK(ms_txn(env, ms, &t).succeeded, "mod revision 0 of an absent key");
	/* No compares: always succeeds. */
	t.cmps_count = 0;
	CHECK(ms_txn(env, ms, &t).succeeded, "empty compare list");
	CHECK(ms_close(env, ms) == 0, "close");
	return NULL;
}

const char *ms_test_txn_atomic(struct ms_env *env)
{
	OPEN(env, ms);
	char a[128], b[128], c[128];
	KEY(a, env, "a");
	KEY(b, env, "b");
	KEY(c, env, "c");
	OK(ms_put(env, ms, c, "gone soon", 0));
	struct metastore_cmp cmps[2] = {
		{ .key = (uint8_t *)a, .key_len = strlen(a), .target = METASTORE_CMP_ABSENT },
		{ .key = (uint8_t *)b, .key_len = strlen(b), .target = METASTORE_CMP_ABSENT },
	};
	struct metastore_txn_op ops[3] = {
		{ .type = METASTORE_TXN_PUT,
		  .key = (uint8_t *)a,
		  .key_len = strlen(a),
		  .value = (uint8_t *)"A",
		  .value_len = 1 },
		{ .type = METASTORE_TXN_PUT,
		  .key = (uint8_t *)b,
		  .key_len = strlen(b),
		  .value = (uint8_t *)"B",
		  .value_len = 1 },
		{ .type = METASTORE_TXN_DELETE, .key = (uint8_t *)c, .key_len = strlen(c) },
	};
	struct metastore_txn t = { .cmps = cmps, .cmps_count = 2, .ops = ops, .ops_count = 3 };
	struct ms_got r = ms_txn(env, ms, &t);
	OK(r);
	CHECK(r.succeeded, "txn failed");
	struct ms_got g = ms_range(env, ms, env->prefix, 0);
	CHECK(g.count == 2, "keys after txn: %zu", g.count);
	CHECK(g.kvs[0].mod_revision == r.revision && g.kvs[1].mod_revision == r.revision,
	      "one revision for the txn: %lld %lld vs %lld", (long long)g.kvs[0].mod_revision,
	      (long long)g.kvs[1].mod_revision, (long long)r.revision);
	/* One compare fails: nothing is applied. */
	OK(ms_del(env, ms, a, false));
	ops[2].type = METASTORE_TXN_PUT;
	ops[2].value = (uint8_t *)"C";
	ops[2].value_len = 1;
	r = ms_txn(env, ms, &t);
	OK(r);
	CHECK(!r.succeeded, "txn with a failing compare succeeded");
	g = ms_get(env, ms, c);
	CHECK(g.count == 0, "a failed txn applied an operation");
	CHECK(ms_close(env, ms) == 0, "close");
	return NULL;
}

const char *ms_test_lease_expiry(struct ms_env *env)
{
	OPEN(env, ms);
	char k[128], k2[128];
	KEY(k, env, "broker/1");
	KEY(k2, env, "keep");
	struct ms_got l = ms_lease_grant(env, ms, 2);
	OK(l);
	CHECK(l.lease_id > 0 && l.ttl_s >= 2, "lease %lld ttl %lld", (long long)l.lease_id,
	      (long long)l.ttl_s);
	OK(ms_put(env, ms, k, "alive", l.lease_id));
	OK(ms_put(env, ms, k2, "stays", 0));
	struct ms_got g = ms_get(env, ms, k);
	CHECK(g.count == 1 && g.kvs[0].lease == l.lease_id, "leased key lease %lld",
	      (long long)g.kvs[0].lease);
	/* Kept alive past its TTL, it stays. */
	for (int i = 0; i < 5; i++) {
		ms_sleep(env, 0.6);
		struct ms_got ka = ms_keepalive(env, ms, l.lease_id);
		OK(ka);
		CHECK(ka.ttl_s >= 1, "keepalive ttl %lld", (long long)ka.ttl_s);
	}
	CHECK(ms_get(env, ms, k).count == 1, "a kept-alive key expired");
	/* Keepalives stop: the key goes within TTL plus etcd's expiry check. */
	int64_t t0 = clock_mono_ms();
	while (ms_get(env, ms, k).count == 1 && clock_mono_ms() - t0 < 8000)
		ms_sleep(env, 0.1);
	int64_t gone_ms = clock_mono_ms() - t0;
	CHECK(ms_get(env, ms, k).count == 0, "the key outlived its lease by 8 s");
	CHECK(gone_ms >= 1500, "the key went after %lld ms, before its 2 s TTL",
	      (long long)gone_ms);
	CHECK(ms_get(env, ms, k2).count == 1, "an unleased key went with the lease");
	struct ms_got ka = ms_keepalive(env, ms, l.lease_id);
	CHECK(ka.err == -ENOENT, "keepalive of an expired lease: %d %s", ka.err,
	      tape_strerror(ka.err));
	struct ms_got p = ms_put(env, ms, k, "x", l.lease_id);
	CHECK(p.err == -ENOENT, "put on an expired lease: %s", tape_strerror(p.err));
	CHECK(ms_close(env, ms) == 0, "close");
	return NULL;
}

const char *ms_test_lease_revoke(struct ms_env *env)
{
	OPEN(env, ms);
	char a[128], b[128];
	KEY(a, env, "a");
	KEY(b, env, "b");
	struct ms_got l = ms_lease_grant(env, ms, 60);
	OK(l);
	OK(ms_put(env, ms, a, "1", l.lease_id));
	OK(ms_put(env, ms, b, "2", l.lease_id));
	struct ms_got r = ms_revoke(env, ms, l.lease_id);
	OK(r);
	CHECK(ms_range(env, ms, env->prefix, 0).count == 0, "revoked lease's keys remain");
	r = ms_revoke(env, ms, l.lease_id);
	CHECK(r.err == -ENOENT, "second revoke: %s", tape_strerror(r.err));
	CHECK(ms_close(env, ms) == 0, "close");
	return NULL;
}

const char *ms_test_watch(struct ms_env *env)
{
	OPEN(env, ms);
	char w[128], a[128], b[128], out[128];
	KEY(w, env, "w/");
	KEY(a, env, "w/a");
	KEY(b, env, "w/b");
	KEY(out, env, "x");
	struct ms_watcher mw;
	CHECK(ms_watch(ms, &mw, w, 0) == 0, "watch start");
	ms_sleep(env, 0.3); /* etcd: the watch is created before the writes */
	struct ms_got p1 = ms_put(env, ms, a, "1", 0);
	OK(ms_put(env, ms, out, "not watched", 0));
	struct ms_got p2 = ms_put(env, ms, b, "2", 0);
	struct ms_got d = ms_del(env, ms, a, false);
	OK(d);
	CHECK(ms_wait_events(env, &mw, 3, 5), "saw %zu events", mw.events);
	ms_sleep(env, 0.2);
	CHECK(mw.events == 3, "%zu events, expected 3", mw.events);
	CHECK(mw.ev[0].put && !strcmp(mw.ev[0].key, a) && !strcmp(mw.ev[0].value, "1") &&
	          mw.ev[0].mod_revision == p1.revision,
	      "event 0: %s %s @%lld", mw.ev[0].key, mw.ev[0].value,
	      (long long)mw.ev[0].mod_revision);
	CHECK(mw.ev[1].put && !strcmp(mw.ev[1].key, b) && mw.ev[1].mod_revision == p2.revision,
	      "event 1: %s", mw.ev[1].key);
	CHECK(!mw.ev[2].put && !strcmp(mw.ev[2].key, a) && mw.ev[2].mod_revision == d.revision,
	      "event 2: put %d %s @%lld", mw.ev[2].put, mw.ev[2].key,
	      (long long)mw.ev[2].mod_revision);
	CHECK(mw.resets == 0, "a reset on a fresh watch");
	metastore_watch_stop(&mw.w);
	/* No calls after stop. */
	size_t batches = mw.batches;
	OK(ms_put(env, ms, a, "after stop", 0));
	ms_sleep(env, 0.3);
	CHECK(mw.batches == batches, "a stopped watch was called");
	CHECK(ms_close(env, ms) == 0, "close");
	return NULL;
}

const char *ms_test_watch_resume(struct ms_env *env)
{
	OPEN(env, ms);
	char w[128], a[128];
	KEY(w, env, "w/");
	KEY(a, env, "w/a");
	struct ms_got p1 = ms_put(env, ms, a, "1", 0);
	OK(p1);
	OK(ms_put(env, ms, a, "2", 0));
	OK(ms_put(env, ms, a, "3", 0));
	/* From the first put: all three, in order, once. */
	struct ms_watcher mw;
	CHECK(ms_watch(ms, &mw, w, p1.revision) == 0, "watch start");
	CHECK(ms_wait_events(env, &mw, 3, 5), "history: %zu events", mw.events);
	for (int i = 0; i < 3; i++)
		CHECK(mw.ev[i].value[0] == '1' + i && mw.ev[i].mod_revision == p1.revision + i,
		      "event %d: %s @%lld", i, mw.ev[i].value, (long long)mw.ev[i].mod_revision);
	int64_t last = mw.ev[2].mod_revision;
	metastore_watch_stop(&mw.w);
	/* Changes while nobody watches; resume after the last one seen. */
	struct ms_got p4 = ms_put(env, ms, a, "4", 0);
	OK(ms_put(env, ms, a, "5", 0));
	CHECK(ms_watch(ms, &mw, w, last + 1) == 0, "watch restart");
	CHECK(ms_wait_events(env, &mw, 2, 5), "resumed: %zu events", mw.events);
	ms_sleep(env, 0.2);
	CHECK(mw.events == 2 && mw.ev[0].mod_revision == p4.revision && mw.ev[1].value[0] == '5',
	      "resumed: %zu events, first @%lld", mw.events, (long long)mw.ev[0].mod_revision);
	CHECK(mw.resets == 0, "a reset while the history is there");
	metastore_watch_stop(&mw.w);
	CHECK(ms_close(env, ms) == 0, "close");
	return NULL;
}

static bool has_reset(struct ms_watcher *mw)
{
	return mw->resets > 0 || mw->err;
}

const char *ms_test_watch_compacted(struct ms_env *env)
{
	OPEN(env, ms);
	char w[128], a[128], b[128];
	KEY(w, env, "w/");
	KEY(a, env, "w/a");
	KEY(b, env, "w/b");
	struct ms_got p1 = ms_put(env, ms, a, "1", 0);
	OK(p1);
	OK(ms_put(env, ms, b, "2", 0));
	struct ms_got d = ms_del(env, ms, a, false);
	OK(d);
	struct ms_got c = ms_compact(env, ms, d.revision);
	OK(c);
	struct ms_got again = ms_compact(env, ms, d.revision);
	CHECK(again.err == -TAPE_ECOMPACTED, "compacting twice: %s", tape_strerror(again.err));
	/* A watch from before the compaction: the prefix re-read, then the changes after it. */
	struct ms_watcher mw;
	CHECK(ms_watch(ms, &mw, w, p1.revision) == 0, "watch start");
	CHECK(ms_wait_watch(env, &mw, has_reset, 5), "no reset (err %d)", mw.err);
	char want[256];
	snprintf(want, sizeof(want), "%s", b);
	CHECK(!strcmp(mw.reset_keys, want), "reset keys '%s', want '%s'", mw.reset_keys, want);
	CHECK(mw.revision >= d.revision, "reset at %lld, before %lld", (long long)mw.revision,
	      (long long)d.revision);
	CHECK(mw.events == 0, "events before the reset: %zu", mw.events);
	struct ms_got p3 = ms_put(env, ms, a, "3", 0);
	CHECK(ms_wait_events(env, &mw, 1, 5), "after the reset: %zu events", mw.events);
	CHECK(mw.ev[0].mod_revision == p3.revision && mw.resets == 1,
	      "after reset @%lld resets %zu", (long long)mw.ev[0].mod_revision, mw.resets);
	metastore_watch_stop(&mw.w);
	CHECK(ms_close(env, ms) == 0, "close");
	return NULL;
}

struct racer {
	struct metastore_op op;
	bool done;
	bool succeeded;
	int err;
};

static void racer_done(struct metastore_op *op)
{
	struct racer *r = (struct racer *)op;
	r->done = true;
	r->succeeded = op->succeeded;
	r->err = op->err;
}

const char *ms_test_cas_race(struct ms_env *env)
{
	OPEN(env, ms1);
	struct metastore *ms2 = ms1;
	if (!env->one_store) { /* a second client where the store is a service (etcd) */
		int rc = env->open(env, &ms2);
		CHECK(rc == 0, "second open: %s", tape_strerror(rc));
	}
	for (int round = 0; round < 10; round++) {
		char k[128];
		snprintf(k, sizeof(k), "%scontroller-%d", env->prefix, round);
		size_t kl = strlen(k);
		struct metastore_cmp absent = { .key = (uint8_t *)k,
			                        .key_len = kl,
			                        .target = METASTORE_CMP_ABSENT };
		struct metastore_txn_op put1 = { .type = METASTORE_TXN_PUT,
			                         .key = (uint8_t *)k,
			                         .key_len = kl,
			                         .value = (uint8_t *)"one",
			                         .value_len = 3 };
		struct metastore_txn_op put2 = put1;
		put2.value = (uint8_t *)"two";
		struct metastore_txn t1 = { &absent, 1, &put1, 1 }, t2 = { &absent, 1, &put2, 1 };
		struct racer r1 = { .op.done = racer_done }, r2 = { .op.done = racer_done };
		/* Both in flight before either completes. */
		if (round % 2) {
			metastore_txn(ms1, &r1.op, &t1);
			metastore_txn(ms2, &r2.op, &t2);
		} else {
			metastore_txn(ms2, &r2.op, &t2);
			metastore_txn(ms1, &r1.op, &t1);
		}
		bool both = false;
		int64_t end = clock_mono_ns() + 10 * 1000000000ll;
		while (!(both = r1.done && r2.done) && clock_mono_ns() < end)
			reactor_run_once(env->r, 10 * 1000000ll);
		CHECK(both, "round %d: the txns did not complete", round);
		CHECK(r1.err == 0 && r2.err == 0, "round %d: errors %d %d", round, r1.err, r2.err);
		CHECK(r1.succeeded + r2.succeeded == 1, "round %d: %d winners", round,
		      r1.succeeded + r2.succeeded);
		struct ms_got g = ms_get(env, ms1, k);
		CHECK(g.count == 1 && !strcmp(g.kvs[0].value, r1.succeeded ? "one" : "two"),
		      "round %d: the loser's value is stored", round);
	}
	if (ms2 != ms1)
		CHECK(ms_close(env, ms2) == 0, "close 2");
	CHECK(ms_close(env, ms1) == 0, "close");
	return NULL;
}

const char *ms_test_bad_args(struct ms_env *env)
{
	OPEN(env, ms);
	struct ms_got g;
	CALL(env, g, metastore_put(ms, op_, "", 0, "v", 1, 0));
	CHECK(g.err == -EINVAL, "empty key: %d", g.err);
	static char big[METASTORE_KEY_BYTES_MAX + 1];
	memset(big, 'k', sizeof(big));
	CALL(env, g, metastore_put(ms, op_, big, sizeof(big), "v", 1, 0));
	CHECK(g.err == -EINVAL, "long key: %d", g.err);
	CALL(env, g, metastore_lease_grant(ms, op_, 0));
	CHECK(g.err == -EINVAL, "TTL 0: %d", g.err);
	char k[128];
	KEY(k, env, "k");
	struct metastore_txn_op twice[2] = {
		{ .type = METASTORE_TXN_PUT, .key = (uint8_t *)k, .key_len = strlen(k) },
		{ .type = METASTORE_TXN_DELETE, .key = (uint8_t *)k, .key_len = strlen(k) },
	};
	struct metastore_txn t = { .ops = twice, .ops_count = 2 };
	g = ms_txn(env, ms, &t);
	CHECK(g.err == -EINVAL, "a key twice in a txn: %d", g.err);
	g = ms_put(env, ms, k, "v", 12345);
	CHECK(g.err == -ENOENT, "put with an unknown lease: %s", tape_strerror(g.err));
	g = ms_keepalive(env, ms, 12345);
	CHECK(g.err == -ENOENT, "keepalive of an unknown lease: %s", tape_strerror(g.err));
	struct ms_got cur = ms_get(env, ms, k);
	g = ms_compact(env, ms, cur.revision + 1000);
	CHECK(g.err == -TAPE_ECOMPACTED, "compact to a future revision: %s", tape_strerror(g.err));
	CHECK(ms_close(env, ms) == 0, "close");
	return NULL;
}

const struct ms_test ms_tests[] = {
	{ "put_get", ms_test_put_get },
	{ "range_delete", ms_test_range_delete },
	{ "cas", ms_test_cas },
	{ "txn_atomic", ms_test_txn_atomic },
	{ "lease_expiry", ms_test_lease_expiry },
	{ "lease_revoke", ms_test_lease_revoke },
	{ "watch", ms_test_watch },
	{ "watch_resume", ms_test_watch_resume },
	{ "watch_compacted", ms_test_watch_compacted },
	{ "cas_race", ms_test_cas_race },
	{ "bad_args", ms_test_bad_args },
};
const size_t ms_tests_count = sizeof(ms_tests) / sizeof(ms_tests[0]);
