/*
 * replication/metastore.h: the cluster metadata store. One interface, two implementations,
 * chosen by metadata.store:
 *
 *   local                        (the default) one broker, no service: an in-memory map
 *                                persisted as a checkpoint file (metastore_local.c)
 *   etcd://host:port[,host:port] a cluster: etcd's v3 JSON gateway (metastore_etcd.c)
 *
 * The model is etcd's, so both behave alike and the cluster code above is written once:
 *
 *   - keys and values are bytes; keys sort bytewise; a prefix range is [prefix, prefix+1);
 *   - the store has one revision, raised by one for every write (a put, a delete that deleted
 *     something, a transaction that wrote, a lease expiry that deleted keys); every key keeps
 *     the revision that created it (create_revision), that last changed it (mod_revision) and
 *     how often it changed since it was created (version); an absent key has all three 0;
 *   - a transaction compares keys (mod revision ==, create revision ==, absent) and, when all
 *     compares hold, applies its puts and deletes at one revision; the answer says whether it
 *     succeeded and carries the revision;
 *   - a lease is granted with a TTL in seconds, kept alive, revoked; keys put with a lease are
 *     deleted when it expires or is revoked (the local store's leases live only as long as the
 *     process: a reopened local store has none, and no leased keys);
 *   - a watch follows a prefix from a revision: put and delete events, in revision order, each
 *     once. When the events it needs are gone (etcd compacted them; the local store keeps a
 *     bounded history) the watch re-reads the prefix and resumes after it, telling the caller
 *     with reset = true that the batch is the whole prefix and not a change.
 *
 * Asynchronous: every call takes a struct metastore_op owned by the caller, which must stay
 * valid until op->done(op) runs. done runs on the reactor thread, never from inside the call
 * that started the operation, and once per call. Nothing here blocks the reactor (the etcd
 * client's HTTP runs on a helper job; the local store's checkpoint writes too). Operations on
 * one store complete in the order they were started (the local store), or each when etcd
 * answers (etcd: order only what you chain).
 *
 * Durability: the local store completes a write (and any read started after it) only once a
 * checkpoint holding it is on disk; after a failed checkpoint write every later call fails with
 * -TAPE_EFAILED (no retry-and-ack). etcd completes a write when etcd has committed it.
 *
 * Errors (op->err): 0; -EINVAL (a bad argument: empty or oversized key, TTL outside its bounds,
 * too many transaction operations); -ENOENT (the lease is unknown or expired); -ENOSPC (the
 * local store is full); -TAPE_ECOMPACTED (compacting to a revision already compacted, or a
 * future one); -ETIMEDOUT / -ECONNREFUSED / -EHOSTUNREACH (etcd could not be reached in time:
 * for a write the outcome is unknown); -TAPE_EFAILED; -TAPE_ECLOSED (the store is closing);
 * -TAPE_EMETASTORE (etcd answered an error this code does not map).
 */
#ifndef TAPE_REPLICATION_METASTORE_H
#define TAPE_REPLICATION_METASTORE_H

#include "base/arena.h"
#include "io/reactor.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct metastore;

struct metastore_kv {
	const uint8_t *key; /* borrowed: valid until the callback that received it returns */
	size_t key_len;
	const uint8_t *value; /* borrowed, like key; empty for a delete event */
	size_t value_len;
	int64_t create_revision;
	int64_t mod_revision; /* for a delete event: the revision of the delete */
	int64_t version;
	int64_t lease; /* 0: none */
};

enum metastore_event_type { METASTORE_EVENT_PUT, METASTORE_EVENT_DELETE };

struct metastore_event {
	enum metastore_event_type type;
	struct metastore_kv kv;
};

/* ---- operations ---------------------------------------------------------------------------- */

struct metastore_op;
typedef void (*metastore_done_fn)(struct metastore_op *op);

struct metastore_op {
	metastore_done_fn done;
	void *arg; /* the caller's */

	/* The answer, set before done runs. */
	int err;
	int64_t revision; /* the store's revision the answer reflects (etcd: header.revision) */
	bool succeeded;   /* txn: every compare held and the operations were applied */
	/* range: the keys in order, at most the limit asked for; more: keys were left out.
	 * Borrowed: valid until done returns. */
	const struct metastore_kv *kvs;
	size_t kvs_count;
	bool more;
	int64_t deleted;  /* delete: keys deleted */
	int64_t lease_id; /* lease_grant */
	int64_t ttl_s;    /* lease_grant, lease_keepalive: the TTL granted, seconds */

	/* Private to the store. */
	struct io_op io;  /* completes errors found at the call (reactor_defer) */
	struct arena mem; /* the answer's memory; freed after done returns */
	struct metastore *ms;
	struct metastore_op *next;
	int64_t wait_revision; /* local: completes once this revision is durable */
	void *impl;
};

enum metastore_cmp_target {
	METASTORE_CMP_MOD,    /* the key's mod_revision == revision */
	METASTORE_CMP_CREATE, /* the key's create_revision == revision */
	METASTORE_CMP_ABSENT, /* the key does not exist (create_revision == 0) */
};

struct metastore_cmp {
	const uint8_t *key; /* borrowed for the call only: the store copies what it keeps */
	size_t key_len;
	enum metastore_cmp_target target;
	int64_t revision;
};

enum metastore_txn_op_type { METASTORE_TXN_PUT, METASTORE_TXN_DELETE };

struct metastore_txn_op {
	enum metastore_txn_op_type type;
	const uint8_t *key; /* borrowed for the call only */
	size_t key_len;
	const uint8_t *value; /* put */
	size_t value_len;
	int64_t lease; /* put: 0 or a lease id */
};

struct metastore_txn {
	const struct metastore_cmp *cmps; /* all must hold; borrowed for the call only */
	size_t cmps_count;
	const struct metastore_txn_op *ops; /* applied in order when they do; no key twice */
	size_t ops_count;
};

/* ---- watches ------------------------------------------------------------------------------- */

struct metastore_watch;

struct metastore_watch_batch {
	/* reset: events are every key under the prefix as of revision, as puts, replacing what
	 * the caller knew (a re-read after a compaction). Otherwise changes, in revision order. */
	bool reset;
	const struct metastore_event *events; /* borrowed: valid until the callback returns */
	size_t events_count;
	int64_t revision; /* every change up to here has been delivered */
	int err;          /* nonzero: the watch ended (-TAPE_ECLOSED); no more calls */
};

typedef void (*metastore_watch_fn)(struct metastore_watch *w,
                                   const struct metastore_watch_batch *b);

struct metastore_watch {
	metastore_watch_fn fn;
	void *arg; /* the caller's */

	/* Private to the store. */
	struct metastore *ms;
	uint8_t *prefix; /* owned */
	size_t prefix_len;
	int64_t next_revision; /* the first revision not yet delivered */
	bool active;
	struct metastore_watch *next;
	void *impl;
};

/* ---- the store ----------------------------------------------------------------------------- */

/* Opens the store named by spec ("local", NULL or "" for local; "etcd://h:p[,h:p...]").
 * The local store keeps its checkpoint in dir (read here, blocking: call at start-up);
 * etcd ignores dir. Returns 0, -EINVAL / -TAPE_ECONFIG (a bad spec), -TAPE_ECORRUPT (the
 * checkpoint failed its checks) or -errno. */
int metastore_open(struct reactor *r, const char *spec, const char *dir, struct metastore **out);
/* Fails every operation still waiting with -TAPE_ECLOSED (the local store lets a checkpoint
 * in flight finish first), ends active watches with err -TAPE_ECLOSED, then calls op->done
 * and frees the store: ms is gone when done runs. */
void metastore_close(struct metastore *ms, struct metastore_op *op);
/* "local" or "etcd". */
const char *metastore_kind(const struct metastore *ms);

/* key, or with prefix every key starting with key (an empty key with prefix: all keys), at
 * most limit of them (0: METASTORE_RANGE_KVS_MAX). */
void metastore_range(struct metastore *ms, struct metastore_op *op, const void *key, size_t key_len,
                     bool prefix, size_t limit);
/* lease 0: none. */
void metastore_put(struct metastore *ms, struct metastore_op *op, const void *key, size_t key_len,
                   const void *value, size_t value_len, int64_t lease);
void metastore_delete(struct metastore *ms, struct metastore_op *op, const void *key,
                      size_t key_len, bool prefix);
void metastore_txn(struct metastore *ms, struct metastore_op *op, const struct metastore_txn *txn);
void metastore_lease_grant(struct metastore *ms, struct metastore_op *op, int64_t ttl_s);
void metastore_lease_keepalive(struct metastore *ms, struct metastore_op *op, int64_t lease_id);
void metastore_lease_revoke(struct metastore *ms, struct metastore_op *op, int64_t lease_id);
/* Forgets history before revision: watches that need it get a reset. */
void metastore_compact(struct metastore *ms, struct metastore_op *op, int64_t revision);

/* Starts w on the keys under prefix from start_revision (0: from the next change). w->fn is
 * called on the reactor thread, never from inside this call. Returns 0, -EINVAL or -ENOSPC
 * (METASTORE_WATCHES_MAX). A watch resumes by itself across etcd restarts and endpoint
 * changes; start a new one from b->revision + 1 to resume across a process restart. */
int metastore_watch_start(struct metastore *ms, struct metastore_watch *w, const void *prefix,
                          size_t prefix_len, int64_t start_revision, metastore_watch_fn fn);
/* No call of w->fn after this returns; w may be freed. */
void metastore_watch_stop(struct metastore_watch *w);

/* ---- for the implementations (metastore.c, metastore_local.c, metastore_etcd.c) ------------ */

struct metastore_impl {
	const char *kind;
	void (*range)(struct metastore *ms, struct metastore_op *op, const uint8_t *key,
	              size_t key_len, bool prefix, size_t limit);
	void (*put)(struct metastore *ms, struct metastore_op *op, const uint8_t *key,
	            size_t key_len, const uint8_t *value, size_t value_len, int64_t lease);
	void (*del)(struct metastore *ms, struct metastore_op *op, const uint8_t *key,
	            size_t key_len, bool prefix);
	void (*txn)(struct metastore *ms, struct metastore_op *op, const struct metastore_txn *txn);
	void (*lease_grant)(struct metastore *ms, struct metastore_op *op, int64_t ttl_s);
	void (*lease_keepalive)(struct metastore *ms, struct metastore_op *op, int64_t lease_id);
	void (*lease_revoke)(struct metastore *ms, struct metastore_op *op, int64_t lease_id);
	void (*compact)(struct metastore *ms, struct metastore_op *op, int64_t revision);
	int (*watch_start)(struct metastore *ms, struct metastore_watch *w);
	void (*watch_stop)(struct metastore *ms, struct metastore_watch *w);
	void (*close)(struct metastore *ms, struct metastore_op *op);
};

struct metastore {
	const struct metastore_impl *impl;
	struct reactor *r;
};

int metastore_local_open(struct reactor *r, const char *dir, struct metastore **out);
int metastore_etcd_open(struct reactor *r, const char *endpoints, struct metastore **out);

/* Resets op's answer and private fields for a new call. */
void metastore_op_begin(struct metastore *ms, struct metastore_op *op);
/* Calls op->done with err at step 2 of the reactor's turn (never from inside the call). */
void metastore_op_fail_later(struct metastore_op *op, int err);
/* Calls op->done now, then frees the answer's memory. For completions already on the
 * reactor thread outside any caller's call. */
void metastore_op_finish(struct metastore_op *op);
/* The first key after every key starting with prefix (etcd's range_end): prefix with its
 * last byte below 0xff raised by one, trailing 0xff bytes dropped. *len 0: no end (all keys
 * from prefix on, etcd's "\0"). out has prefix_len bytes of room. */
void metastore_prefix_end(const uint8_t *prefix, size_t prefix_len, uint8_t *out, size_t *len);
/* bytewise compare, shorter first on a tie. */
int metastore_key_cmp(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len);

#endif
