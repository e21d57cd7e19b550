/*
 * tests/support/metastore_suite.h: one body of tests for replication/metastore.h, run against
 * the local store (tests/unit/replication/test_metastore_local.c) and against etcd
 * (tests/tools/metastore_etcd_check.c, started by tests/integration/metastore_etcd.sh), so
 * both implementations are held to the same behaviour.
 *
 * Each test takes an environment: a reactor, a way to open one more store on the same data,
 * and a key prefix of its own (etcd keeps its keys from test to test). A test returns NULL,
 * or what went wrong in a static buffer (valid until the next test), so Criterion can print
 * it and the etcd tool can exit non-zero with it. Waiting drives the reactor with a deadline.
 */
#ifndef TAPE_TESTS_SUPPORT_METASTORE_SUITE_H
#define TAPE_TESTS_SUPPORT_METASTORE_SUITE_H

#include "replication/metastore.h"

#include <stdbool.h>
#include <stdint.h>

struct ms_env {
	struct reactor *r;
	/* Opens another store on the same data (local: the same directory). */
	int (*open)(struct ms_env *env, struct metastore **out);
	void *arg;
	bool one_store;  /* the race runs two clients on one store (local), not two stores */
	char prefix[64]; /* every key a test uses starts with this */
};

#define MS_GOT_KVS 16

/* A finished call, copied out of the callback. */
struct ms_got {
	int err;
	int64_t revision;
	bool succeeded, more;
	size_t count;
	int64_t deleted, lease_id, ttl_s;
	struct {
		char key[128];
		char value[256];
		int64_t create_revision, mod_revision, version, lease;
	} kvs[MS_GOT_KVS];
};

/* A watch that records what it is told. */
struct ms_watcher {
	struct metastore_watch w;
	size_t events, resets, batches;
	int64_t revision; /* the last batch's */
	int err;
	struct {
		bool put;
		char key[128];
		char value[256];
		int64_t mod_revision;
	} ev[64];
	char reset_keys[512]; /* the keys of the last reset, space-separated */
};

/* Each runs one call to completion, 10 s at most (got.err is -ETIMEDOUT on a hang). */
struct ms_got ms_get(struct ms_env *env, struct metastore *ms, const char *key);
struct ms_got ms_range(struct ms_env *env, struct metastore *ms, const char *prefix, size_t limit);
struct ms_got ms_put(struct ms_env *env, struct metastore *ms, const char *key, const char *value,
                     int64_t lease);
struct ms_got ms_del(struct ms_env *env, struct metastore *ms, const char *key, bool prefix);
struct ms_got ms_lease_grant(struct ms_env *env, struct metastore *ms, int64_t ttl_s);
struct ms_got ms_keepalive(struct ms_env *env, struct metastore *ms, int64_t lease);
struct ms_got ms_revoke(struct ms_env *env, struct metastore *ms, int64_t lease);
struct ms_got ms_compact(struct ms_env *env, struct metastore *ms, int64_t revision);
int ms_close(struct ms_env *env, struct metastore *ms);

int ms_watch(struct metastore *ms, struct ms_watcher *mw, const char *prefix, int64_t start);
/* Drives the reactor until pred(mw) or the deadline; returns pred's last answer. */
bool ms_wait_watch(struct ms_env *env, struct ms_watcher *mw, bool (*pred)(struct ms_watcher *),
                   double deadline_s);
bool ms_wait_events(struct ms_env *env, struct ms_watcher *mw, size_t events, double deadline_s);
void ms_sleep(struct ms_env *env, double seconds); /* driving the reactor */

/* The shared tests. */
const char *ms_test_put_get(struct ms_env *env);
const char *ms_test_range_delete(struct ms_env *env);
const char *ms_test_cas(struct ms_env *env);
const char *ms_test_txn_atomic(struct ms_env *env);
const char *ms_test_lease_expiry(struct ms_env *env);
const char *ms_test_lease_revoke(struct ms_env *env);
const char *ms_test_watch(struct ms_env *env);
const char *ms_test_watch_resume(struct ms_env *env);
const char *ms_test_watch_compacted(struct ms_env *env);
const char *ms_test_cas_race(struct ms_env *env);
const char *ms_test_bad_args(struct ms_env *env);

struct ms_test {
	const char *name;
	const char *(*fn)(struct ms_env *env);
};
extern const struct ms_test ms_tests[];
extern const size_t ms_tests_count;

#endif
