/*
 * server/replica.h: the broker in a cluster (metadata.store=etcd://...). It follows the cluster
 * view (replication/cluster.h) and makes each local partition what the view says: the leader
 * (replication/leader.h keeps its followers, ISR and high watermark), a follower (the replica
 * fetcher copies the leader's batches, replication/fetcher.h), or nothing. Topics in the view
 * are created here; topics deleted from it are deleted here.
 *
 * A partition's role changes only on the reactor thread, in apply() after a view change:
 *
 *   NONE ──(view: leader is me, lease valid)──> LEADER (partition_become_leader(epoch))
 *   NONE ──(view: another live leader, I am a replica)──> FOLLOWER (fetcher_follow)
 *   FOLLOWER ──(unfollowed: no append in flight)──> LEADER / another FOLLOWER / NONE
 *   LEADER ──(new epoch elsewhere, fenced, not a replica)──> FOLLOWER / NONE
 *
 * Requests waiting on a partition are woken at every role change: a produce waiting for
 * acks=all on a partition that stopped leading answers NOT_LEADER_OR_FOLLOWER.
 *
 * With metadata.store=local none of this runs: srv->replicas is NULL and every check answers
 * as a single broker does.
 */
#ifndef TAPE_SERVER_REPLICA_H
#define TAPE_SERVER_REPLICA_H

#include "replication/cluster.h"
#include "replication/fetcher.h"
#include "replication/leader.h"
#include "server/server.h"

#include <stdbool.h>
#include <stdint.h>

struct pslot;
struct topic;

enum replica_role { ROLE_NONE, ROLE_LEADER, ROLE_FOLLOWER };

struct replica_part {
	struct pslot *slot;
	enum replica_role role;
	int32_t leader_id;
	int32_t leader_epoch;
	struct leader_state ls;      /* ROLE_LEADER */
	struct fetcher_partition fp; /* with the fetcher while following */
	bool following;
	bool unfollowing;
	bool isr_writing;
	bool offsets_loading; /* __consumer_offsets: led, its groups not loaded yet */
	bool orphan;          /* the partition went away while a call held this: freed at its end */
};

struct replicas;

/* Opens the store and the fetcher, and joins the cluster. 0 or -errno. */
int replicas_start(struct server *srv);
/* The controlled shutdown: leadership moves away first; then the fetcher stops. Blocking (runs
 * the reactor), before the server closes its partitions. */
void replicas_stop(struct server *srv);

/* The partition's progress (written end, durable end): the high watermark and the purgatory. */
void replica_progress(struct server *srv, struct pslot *slot);
/* The partition is going away (topic deleted): no follow, no ISR write refers to it after. */
void replica_gone(struct server *srv, struct pslot *slot);

/* Produce: KAFKA_NONE, or NOT_LEADER_OR_FOLLOWER (6), NOT_ENOUGH_REPLICAS (19) for acks=-1
 * below min.insync.replicas. *epoch: the epoch the append is made in. */
int16_t replica_produce_check(struct server *srv, struct pslot *slot, int16_t acks, int32_t *epoch);
/* Whether the partition still leads in epoch (the answer to an append made in it may go). */
bool replica_still_leader(struct server *srv, struct pslot *slot, int32_t epoch);
/* acks=-1 once the high watermark passed the records: KAFKA_NONE, or
 * NOT_ENOUGH_REPLICAS_AFTER_APPEND (20) when the ISR fell below min.insync.replicas. */
int16_t replica_acks_all_check(struct server *srv, struct pslot *slot);
/* Fetch, ListOffsets, OffsetForLeaderEpoch: KAFKA_NONE, NOT_LEADER_OR_FOLLOWER (6),
 * FENCED_LEADER_EPOCH (74, an older epoch than the leader's) or UNKNOWN_LEADER_EPOCH (75, a
 * newer one); current_leader_epoch -1 skips the epoch check. */
int16_t replica_leader_check(struct server *srv, struct pslot *slot, int32_t current_leader_epoch);
/* A follower's Fetch (replica_id >= 0) asked for fetch_offset. */
void replica_follower_fetched(struct server *srv, struct pslot *slot, int32_t replica_id,
                              int64_t fetch_offset);
/* Where a read may go: the high watermark for consumers, the written end for followers. */
int64_t replica_read_limit(struct server *srv, struct partition *p, int32_t replica_id);

/* CreateTopics and auto-creation in a cluster: broker_create_topic's contract, with the
 * replicas spread over the live brokers; done once the view has the topic. */
int replica_create_topic(struct server *srv, struct kstr name, int32_t partitions,
                         int16_t replication_factor, const struct topic_config *tc,
                         void (*done)(void *arg, int err), void *arg, const char **errmsg);
/* AlterConfigs in a cluster: the topic's configs replaced in etcd (compare-and-swap on the
 * topic's key); every broker applies them from its view. done(arg, err) once this broker's view
 * has them: 0, -ESTALE (the topic was recreated meanwhile) or the store's error. Returns 0 or
 * -ENOENT / -ENOMEM at once. */
int replica_alter_topic_config(struct server *srv, const struct topic *t,
                               const struct topic_config *tc, void (*done)(void *, int), void *arg);
/* DeleteTopics in a cluster: 0 (deletion started) or -ENOENT. */
int replica_delete_topic(struct server *srv, struct kstr name);

/* Group APIs: KAFKA_NONE when this broker coordinates group (leads its __consumer_offsets
 * partition), else NOT_COORDINATOR (16), or COORDINATOR_LOAD_IN_PROGRESS (14) while it replays
 * that partition after taking over. */
int16_t replica_group_check(struct server *srv, struct kstr group);
/* FindCoordinator in a cluster: the leader of the group's offsets partition, or
 * COORDINATOR_NOT_AVAILABLE (creating __consumer_offsets at the first need). */
int16_t replica_find_coordinator(struct server *srv, struct kstr group, int32_t *node,
                                 const char **host, int32_t *port);
/* Called by the main loop between reactor turns: work that must run the reactor itself. */
void replica_main_loop(struct server *srv);

/* Metadata and FindCoordinator: the cluster's view, NULL in single-broker mode. */
struct cluster *replica_cluster(struct server *srv);

#endif
