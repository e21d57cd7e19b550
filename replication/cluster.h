/*
 * replication/cluster.h: this broker's part in a cluster whose metadata lives in a metastore
 * (etcd). It keeps a view of the cluster, registers the broker, runs for controller, and, while
 * it is the controller, elects partition leaders. It never touches a log: the server reads the
 * view after every change (the changed hook) and makes its partitions lead or follow.
 *
 * Keys, under "/<cluster.name>/" (values are JSON, readable with etcdctl):
 *
 *   id                     {"cluster_id":"..."}               the first broker's proposal
 *   brokers/<id>           {"host":"h","port":p}              under the broker's lease
 *   controller             {"broker":id}                      under the controller's lease
 *   topics/<name>          {"partitions":n,"replication_factor":r,
 *                           "replicas":[[1,2,3],...],"configs":{"k":"v",...}}
 *   partitions/<name>/<p>  {"leader":id,"leader_epoch":e,"isr":[...]}
 *   isr/<name>/<p>         {"leader":id,"leader_epoch":e,"isr":[...],"base":rev}  a leader's
 *                          ISR change, waiting for the controller
 *
 * A partition whose key was never written is in its initial state: leader the first replica,
 * epoch 0, ISR every replica. The controller epoch is the controller key's create revision.
 *
 * Who writes what, and the guard of each write:
 *
 *   - a broker registers with create-if-absent under its own lease. After a kill -9 the old
 *     incarnation's key lives until its lease expires, so a restarted broker waits for it to go
 *     (the controller sees the loss and moves leadership away first: the restarted broker comes
 *     back as a follower and truncates by epoch);
 *   - a broker runs for controller with create-if-absent of the controller key under its lease,
 *     whenever the view has no controller;
 *   - the controller writes leader changes: after a broker loss, a new leader is picked from the
 *     ISR only (the first live replica of the assignment that is in the ISR), with the leader
 *     epoch + 1 and the dead brokers out of the ISR; with no live ISR member the partition has
 *     no leader (-1) until one comes back (unclean election is never done). It also removes
 *     dead brokers from the ISR of partitions whose leader lives;
 *   - the leader asks for ISR changes of its partitions through the controller (KIP-497's
 *     AlterPartition, carried by etcd): it writes a request key, on condition that the
 *     partition's state is still the one it proposed on; the controller checks the request
 *     (same leader and epoch, same state, members live replicas, the leader among them) and
 *     writes the new state while deleting the request, in one transaction, or deletes a request
 *     it refuses;
 *   - any broker creates and deletes topics (create-if-absent of the topic key).
 *
 * Every partition write is a transaction comparing the partition key's mod revision with the one
 * the writer read (0 for a never written key) and the controller key's create revision with the
 * controller epoch the writer knows, so a write made on a stale view fails instead of undoing
 * a newer decision.
 *
 * Self-fencing: the broker may act as a leader only while cluster_may_lead() is true: it is
 * registered, its view has caught up with its registration, and its lease cannot have expired:
 * every keepalive that succeeds moves the deadline to (the time the keepalive was sent + the
 * TTL etcd granted - CLUSTER_FENCE_MARGIN_MS), measured on the monotonic clock. Past the
 * deadline the broker is fenced (the changed hook runs) until a keepalive succeeds again and
 * the view has been read again (at a revision at least that of the keepalive's answer). A lease
 * found expired (-ENOENT) means registering again with a new lease.
 *
 * Controlled shutdown (cluster_stop): the broker revokes its lease, which deletes its broker key
 * (and the controller key if it held it); the controller moves the leadership away as for a
 * loss, and cluster_stop completes once the view shows no partition led by this broker (or
 * after a bound).
 *
 * Everything runs on the reactor thread; calls never block.
 */
#ifndef TAPE_REPLICATION_CLUSTER_H
#define TAPE_REPLICATION_CLUSTER_H

#include "base/limits.h"
#include "io/reactor.h"
#include "replication/metastore.h"

#include <stdbool.h>
#include <stdint.h>

struct cluster;

struct cluster_config {
	int32_t broker_id;
	const char *host; /* advertised */
	int32_t port;
	const char *name;           /* cluster.name: the key prefix is "/<name>/" */
	int64_t session_timeout_ms; /* broker.session.timeout.ms: the lease TTL */
	const char *cluster_id;     /* this broker's proposal, should the cluster have none */
};

struct cluster_broker {
	int32_t id;
	int32_t port;
	char host[256];
	int64_t create_revision;
	int64_t lease;
};

struct cluster_pstate {
	int32_t leader; /* -1: none */
	int32_t leader_epoch;
	int32_t isr_count;
	int32_t isr[CLUSTER_REPLICAS_MAX];
	int64_t mod_revision; /* of the partition key; 0: never written (the initial state) */
	/* private */
	bool writing; /* a write of this partition is in flight */
};

/* A leader's ISR change waiting for the controller (isr/<t>/<p>). */
struct cluster_isr_req {
	bool present;
	int32_t leader;
	int32_t leader_epoch;
	int32_t isr_count;
	int32_t isr[CLUSTER_REPLICAS_MAX];
	int64_t base;     /* the partition key's mod revision the leader proposed on */
	int64_t revision; /* the request key's mod revision */
};

struct cluster_topic {
	char *name; /* owned */
	int32_t partitions_count;
	int16_t replication_factor;
	int32_t *replicas; /* partitions_count x replication_factor, partition-major */
	struct cluster_pstate *states;
	int32_t configs_count;
	char **config_keys, **config_values; /* owned */
	int64_t create_revision;
	/* private */
	struct cluster_isr_req *reqs; /* one per partition: a leader's pending ISR change */
	bool seen;
	struct cluster_topic *next;
};

struct cluster_hooks {
	/* The view changed (brokers, controller, topics, partition states) or the fencing state
	 * did: the server compares it with what it applied. Never called inside a cluster call. */
	void (*changed)(void *arg);
	void *arg;
};

/* Starts taking part: grants the lease, registers (waiting for an old incarnation's key to
 * expire), reads the view and follows it. ms stays the caller's. 0 or -EINVAL / -ENOMEM. */
int cluster_start(struct reactor *r, struct metastore *ms, const struct cluster_config *cfg,
                  const struct cluster_hooks *hooks, struct cluster **out);
/* The controlled shutdown (see above); done(arg) runs on the reactor thread, after which c is
 * freed. */
void cluster_stop(struct cluster *c, void (*done)(void *arg), void *arg);

/* Whether this broker may act as a leader now (see self-fencing). */
bool cluster_may_lead(const struct cluster *c);
bool cluster_is_controller(const struct cluster *c);
int32_t cluster_controller_id(const struct cluster *c); /* -1: none known */
/* The cluster's id (Metadata's ClusterId, the same from every broker), NULL until known. */
const char *cluster_id(const struct cluster *c);

/* The live brokers, sorted by id. */
const struct cluster_broker *cluster_brokers(const struct cluster *c, size_t *count);
const struct cluster_broker *cluster_find_broker(const struct cluster *c, int32_t id);
/* The topics, in no particular order: first, then ->next. */
const struct cluster_topic *cluster_topics(const struct cluster *c);
const struct cluster_topic *cluster_find_topic(const struct cluster *c, const char *name,
                                               size_t len);
/* Whether id is among the partition's replicas. */
bool cluster_topic_has_replica(const struct cluster_topic *t, int32_t partition, int32_t id);

/*
 * Creates a topic with its replicas spread over the live brokers (Kafka's round robin from a
 * random start). done(arg, err) on the reactor thread once the view holds the topic: 0,
 * -EEXIST, or the store's error. Returns 0, or at once (done is then not called) -EINVAL (a
 * bad argument), -EDOM (replication factor above the live brokers) or -ENOMEM.
 */
int cluster_create_topic(struct cluster *c, const char *name, int32_t partitions,
                         int16_t replication_factor, int32_t configs_count, const char *const *keys,
                         const char *const *values, void (*done)(void *arg, int err), void *arg);
/* Deletes a topic's keys; done as above once the view no longer has it. */
int cluster_delete_topic(struct cluster *c, const char *name, void (*done)(void *arg, int err),
                         void *arg);
/* Replaces a topic's configs (AlterConfigs in a cluster): the topic key, by compare-and-swap. */
int cluster_alter_topic_configs(struct cluster *c, const char *name, int32_t configs_count,
                                const char *const *keys, const char *const *values,
                                void (*done)(void *arg, int err), void *arg);

/*
 * The leader's ISR change, through the controller (see above). done(arg, err, revision) once
 * it is decided: 0 when the view holds the new state, written at revision; -ESTALE when the
 * state changed otherwise first or the controller refused it; -ETIMEDOUT when no controller
 * decided within CLUSTER_ISR_WAIT_MS (the request is withdrawn); -ECANCELED at cluster_stop;
 * or the store's error. Returns -EBUSY while an earlier proposal of the partition is pending,
 * -EPERM when this broker does not lead it.
 */
int cluster_propose_isr(struct cluster *c, const char *topic, int32_t partition, const int32_t *isr,
                        int32_t isr_count, void (*done)(void *arg, int err, int64_t revision),
                        void *arg);

/* For tests and tools: the JSON of a partition state and of a topic, both ways. */
int cluster_pstate_decode(const uint8_t *p, size_t len, struct cluster_pstate *out);
int cluster_assign(const int32_t *brokers, size_t brokers_count, int32_t partitions, int16_t rf,
                   uint32_t start, int32_t *out);

#endif
