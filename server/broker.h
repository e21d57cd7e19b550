/*
 * server/broker.h: the topics this broker hosts and the state that outlives a restart:
 * the cluster id, topics with their partition counts and configs, and the producer-id block.
 *
 * On disk (log.dirs): one directory per partition, "<topic>-<partition>", and
 * "metadata.checkpoint" (log/checkpoint.h) whose payload is:
 *   u16 version (1), string cluster id, i64 producer id limit, u32 topics n, then per topic:
 *   string name, i32 partitions, i16 replication factor, u8 configs n, n x (string key,
 *   string value)      (string = u16 length + bytes)
 *
 * Producer ids are handed out from a block whose end is written to the checkpoint before any
 * id from it is used, so an id is never reused across restarts (KIP-98's rule).
 *
 * Deleting a topic renames its directories to "<dir>.deleted" first, then rewrites the
 * checkpoint, then removes the files on a helper thread; a restart finishes what a crash
 * interrupted. A partition directory the checkpoint does not list is adopted with a warning,
 * never deleted: data the broker does not understand is kept.
 */
#ifndef TAPE_SERVER_BROKER_H
#define TAPE_SERVER_BROKER_H

#include "io/reactor.h"
#include "log/partition.h"
#include "protocol/codec.h"
#include "server/config.h"

#include <stdbool.h>
#include <stdint.h>

enum topic_state { TOPIC_CREATING, TOPIC_LIVE, TOPIC_DELETING };

struct waiter;
struct replica_part;

/* One partition's place in the broker: the progress callback's argument, the requests
 * waiting on it (server/purgatory.c), and its role in a cluster (server/replica.c). */
struct pslot {
	struct topic *topic;
	int32_t index;
	struct waiter *waiters;
	struct replica_part *rp; /* NULL: single broker, or not looked at yet */
};

struct topic {
	char *name; /* owned */
	int32_t partitions_count;
	int16_t replication_factor;
	struct partition **parts; /* owned; entries NULL while being opened */
	struct pslot *slots;      /* owned; one per partition */
	struct topic_config cfg;
	enum topic_state state;
	bool internal;
	bool in_cluster; /* the cluster's view has had it (deleted here when the view loses it) */
	bool unknown_warned; /* on disk, never in the view: said once */
	unsigned opening;    /* partitions still being opened by helper jobs */
	struct broker *broker;
	struct topic *hnext;
};

struct broker {
	struct reactor *reactor;
	const struct config *cfg;
	char *data_dir;
	struct topic **table; /* hash table, chained */
	size_t table_cap;
	size_t topics_count;
	char cluster_id[64];
	int64_t producer_id_next;
	int64_t producer_id_limit;
	partition_progress_fn progress; /* installed on every partition, with its pslot */
	/* Called before a partition goes away (topic deletion), to answer its waiters. */
	void (*partition_gone)(struct pslot *slot);
	unsigned jobs_inflight;
	bool replicated; /* in a cluster: the cluster checks replication factors, not the broker */
	void *owner;     /* the server, for its callbacks */
};

/* Blocking: reads the checkpoint, adopts and opens every partition (recovery runs here). */
int broker_open(struct broker **out, struct reactor *r, const struct config *cfg,
                partition_progress_fn progress, void (*partition_gone)(struct pslot *slot));
/* Blocking: closes every partition cleanly (checkpoints, no recovery at the next start). */
void broker_close(struct broker *b);

struct topic *broker_topic(const struct broker *b, struct kstr name);
/* The partition's slot (its partition: slot->topic->parts[slot->index]), or NULL when the topic
 * or partition does not exist, is not live or is not open yet: one lookup for handlers that
 * need both. */
struct pslot *broker_slot(const struct broker *b, struct kstr name, int32_t index);
/* The partition, or NULL when the topic or partition does not exist or is not live. */
struct partition *broker_partition(const struct broker *b, struct kstr topic, int32_t index);

/* Kafka's rule for topic names: [a-zA-Z0-9._-], 1..249 bytes, not "." or "..". */
bool broker_topic_name_valid(struct kstr name);

/*
 * Creates a topic: validates, writes the checkpoint, then opens its partitions on a helper
 * thread; done(arg, err) follows on the reactor thread once every partition serves.
 * Returns 0, or at once -EEXIST, -EINVAL (name), -ERANGE (partitions), -EDOM (replication
 * factor above the brokers there are),
 * -TAPE_ECONFIG (a config key or value, *errmsg says which), -ENOSPC (TOPICS_MAX).
 * partitions/replication_factor -1 mean the broker's defaults.
 */
int broker_create_topic(struct broker *b, struct kstr name, int32_t partitions,
                        int16_t replication_factor, const struct topic_config *cfg,
                        void (*done)(void *arg, int err), void *arg, const char **errmsg);
/* Blocking (start-up): the topic, created with these partitions and configs when it does not
 * exist yet (internal topics such as __consumer_offsets). 0 or -errno. */
int broker_ensure_topic(struct broker *b, const char *name, int32_t partitions,
                        const struct topic_config *cfg, struct topic **out);
/* Replaces every config override of a live topic with cfg's (AlterConfigs' rule: a key not
 * in cfg returns to the broker's value). The checkpoint is written first, so the change
 * survives a restart; then the open partitions run with it: retention, cleanup policy and
 * flush mode at once, segment size and age from the next roll. 0, or -errno when the
 * checkpoint could not be written (the topic then keeps its old configs). */
int broker_alter_topic_config(struct broker *b, struct topic *t, const struct topic_config *cfg);
/* Deletes a topic (see the file comment). Returns 0 or -ENOENT. */
int broker_delete_topic(struct broker *b, struct kstr name);

/* A producer id never handed out before, or -1 when the checkpoint cannot be written. */
int64_t broker_next_producer_id(struct broker *b);

/* Calls fn for every live topic. */
void broker_each_topic(const struct broker *b, void (*fn)(void *arg, struct topic *t), void *arg);

#endif
