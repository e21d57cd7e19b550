/*
 * consumer-groups/offsets.h: committed offsets (OffsetCommit, OffsetFetch), durable as records
 * of the internal compacted topic __consumer_offsets, with an in-memory view to answer fetches.
 *
 * The broker creates the topic (OFFSETS_TOPIC, N partitions, cleanup.policy=compact), opens its
 * partitions and hands them to offset_store_open(); the store appends to them and reads them,
 * nothing more. A group's records all go to one partition, chosen as Kafka chooses it:
 * abs(Java String.hashCode(group)) % N (offset_group_partition), so every write of one group is
 * ordered by that partition's log.
 *
 * The records are Kafka's own (OffsetCommitKey v1, OffsetCommitValue v3, tombstones for
 * deletions), so Kafka's tools can read the topic; the byte layout, the one addition (null
 * metadata) and the recovery rule are in the header of offsets.c.
 *
 * Durability: a commit is answered, and enters the view, only once its batch is durable under
 * the partition's flush mode (flush.mode=fsync: on disk; interval and none: written), exactly
 * when the broker would answer a produce with acks=all. The view therefore never shows an
 * offset that a crash could take back, and after a restart offset_store_load() rebuilds the
 * same view from the log (RELIABILITY.md S8: committed >= last acknowledged commit).
 *
 * Everything runs on the reactor thread of the partitions. The broker owns the partitions'
 * progress callbacks: it calls offset_store_progress(store, index) from the callback of
 * partition index, which is how waiting commits learn that their batch became durable (or that
 * the partition failed).
 */
#ifndef TAPE_CONSUMER_GROUPS_OFFSETS_H
#define TAPE_CONSUMER_GROUPS_OFFSETS_H

#include "io/reactor.h"
#include "log/partition.h"
#include "protocol/codec.h"
#include "protocol/record_batch.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OFFSETS_TOPIC "__consumer_offsets"
/* offsets.topic.num.partitions: Kafka's default. */
#define OFFSETS_TOPIC_PARTITIONS_DEFAULT 50

/* ---- the record format (pure) ------------------------------------------------------------ */

/* Key versions 0 and 1 are OffsetCommitKey; 2 is GroupMetadataKey, later ones other group
 * records: the offsets decoder skips those. tape writes 1, as Kafka does. */
#define OFFSET_COMMIT_KEY_VERSION 1
/* OffsetCommitValue versions 0-4 are read; tape writes 3, as Kafka does. */
#define OFFSET_COMMIT_VALUE_VERSION 3
#define OFFSET_COMMIT_VALUE_VERSION_MAX 4
/* The record header that marks metadata committed as null (offsets.c). */
#define OFFSET_METADATA_NULL_HEADER "tape.metadata.null"

/* OffsetCommitKey. Strings are borrowed from the bytes decoded (or the caller's, to encode). */
struct offset_commit_key {
	struct kstr group;
	struct kstr topic;
	int32_t partition;
};

/* OffsetCommitValue. metadata is never null in Kafka's format. */
struct offset_commit_value {
	int64_t offset;
	int32_t leader_epoch; /* -1: none (and for versions 0-2) */
	struct kstr metadata; /* borrowed */
	int64_t commit_timestamp_ms;
	int64_t expire_timestamp_ms; /* version 1 only; -1 otherwise */
};

/* Java's String.hashCode of the group id, over its UTF-16 code units (the bytes decoded from
 * UTF-8 as Java's String(bytes, UTF_8) decodes them, malformed bytes included). */
int32_t offset_group_hash(const char *group, size_t len);
/* The partition of __consumer_offsets that holds group: abs(hash) % partitions_count, with
 * Kafka's Utils.abs (INT32_MIN gives 0). partitions_count >= 1. */
int32_t offset_group_partition(struct kstr group, int32_t partitions_count);

/* Bytes offset_commit_key_encode writes. */
size_t offset_commit_key_size(const struct offset_commit_key *k);
/* Writes version 1. Returns the bytes written, or 0 if cap is too small or a string is null or
 * longer than INT16_MAX. */
size_t offset_commit_key_encode(uint8_t *out, size_t cap, const struct offset_commit_key *k);
/* 0 and *out filled; 1 when the key is a record of another kind (version >= 2: group metadata
 * and later group records), *out untouched; -TAPE_ECORRUPT when malformed (a negative version,
 * a null or short string, trailing bytes). */
int offset_commit_key_decode(const uint8_t *buf, size_t len, struct offset_commit_key *out);

size_t offset_commit_value_size(const struct offset_commit_value *v);
/* Writes version 3 (metadata must not be null). Returns bytes written, or 0. */
size_t offset_commit_value_encode(uint8_t *out, size_t cap, const struct offset_commit_value *v);
/* Versions 0-4. 0, or -TAPE_ECORRUPT when malformed or of an unknown version. */
int offset_commit_value_decode(const uint8_t *buf, size_t len, struct offset_commit_value *out);

/* One record of __consumer_offsets, decoded: an offset commit, or its tombstone. */
struct offset_record {
	struct offset_commit_key key;
	bool tombstone;                   /* null value: the offset is deleted */
	struct offset_commit_value value; /* when not a tombstone */
	bool metadata_null;               /* committed with null metadata (value.metadata is "") */
};
/* 0, 1 for a record of another kind (skip it), or -TAPE_ECORRUPT. Borrowed from rec. */
int offset_record_decode(const struct record *rec, struct offset_record *out);

/* ---- the store --------------------------------------------------------------------------- */

struct offset_store;

/* Bounds of the view; each at most its hard limit in base/limits.h (tests lower them). */
struct offset_store_config {
	uint32_t groups_max;
	uint32_t offsets_per_group_max;
	uint32_t offsets_max;
	uint32_t metadata_max_bytes; /* offset.metadata.max.bytes */
	uint64_t metadata_total_bytes_max;
	/* A commit counts once the partition's high watermark passes it (in a cluster: on every
	 * in-sync replica), not once it is durable here. The caller then sets the high watermark
	 * before calling offset_store_progress. */
	bool wait_for_high_watermark;
};
void offset_store_config_default(struct offset_store_config *cfg);
/* 0, or -TAPE_ECONFIG when a count bound is zero or any value is above its hard limit. */
int offset_store_config_check(const struct offset_store_config *cfg);

/*
 * A store over the partitions parts[0, parts_count) of __consumer_offsets (borrowed: open until
 * offset_store_close, and closed only when offset_store_inflight() is 0). The view starts
 * empty: call offset_store_load() before serving. Returns 0, -TAPE_ECONFIG or -ENOMEM.
 */
int offset_store_open(struct reactor *r, struct partition *const *parts, int32_t parts_count,
                      const struct offset_store_config *cfg, struct offset_store **out);
/* Frees the view. No operation may be in flight (offset_store_inflight() == 0). */
void offset_store_close(struct offset_store *store);

/*
 * Rebuilds the view from the logs: every partition replayed from its log start to its written
 * end, batch by batch, the latest record of each key winning and tombstones deleting. Blocking
 * (it runs the reactor until each read is done): for start-up and for a coordinator taking
 * over, never from inside a reactor callback. No operation may be in flight. Records of
 * another kind, malformed ones and those of a group that hashes to another partition are
 * skipped (and counted, with a warning). A log over the configured bounds (lowered since it
 * was written) loads whole, with a warning: commits that would grow the view are refused until
 * it shrinks. Returns 0, or the first error (a read error, -TAPE_ECORRUPT or -TAPE_EQUARANTINED
 * for a damaged log, -TAPE_ETOOLARGE when the log holds more than the hard limits of
 * base/limits.h, -ENOMEM): the partition that failed then has no groups in the view.
 */
int offset_store_load(struct offset_store *store);
/* The same for one partition: its groups leave the view and are replayed. */
int offset_store_load_partition(struct offset_store *store, int32_t index);
/* The broker reopened partition index (after a failure): the store uses part from now on.
 * Nothing may be in flight on that partition; reload it with offset_store_load_partition. */
void offset_store_set_partition(struct offset_store *store, int32_t index, struct partition *part);

int32_t offset_store_partitions_count(const struct offset_store *store);
/* The partition index that holds group (offset_group_partition over the store's count). */
int32_t offset_store_partition_of(const struct offset_store *store, struct kstr group);

/* Partition index stopped being led here (err, e.g. -TAPE_ENOTLEADER): operations the high
 * watermark has not passed fail with err now and as their appends finish, since the records
 * may be truncated away and the offsets after them be someone else's. err 0: led again. */
void offset_store_abandon(struct offset_store *store, int32_t index, int err);
/* Call from partition index's progress callback (written end, durable end or failure moved):
 * answers the operations whose batches became durable, or failed. */
void offset_store_progress(struct offset_store *store, int32_t index);

/* Called once per operation with 0 when every batch of it is durable and applied to the view,
 * or the error of the first batch that failed (-TAPE_EFAILED, -errno). */
typedef void (*offset_store_done_fn)(void *arg, int err);

/* One partition of an OffsetCommit. Strings are borrowed for the call only. */
struct offset_commit_entry {
	struct kstr topic;
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch; /* -1: none */
	struct kstr metadata; /* null and "" are kept apart */
};

/* The per-partition refusals of a commit, for the broker to answer each partition:
 * -TAPE_EMETADATA (OFFSET_METADATA_TOO_LARGE, 12) when metadata is over metadata_max_bytes,
 * -TAPE_EPROTO for a null, empty or over-long topic name or a negative partition. */
int offset_store_check_entry(const struct offset_store *store, const struct offset_commit_entry *e);

/*
 * Commits entries[0, count) for group: ONE record batch (producer id -1) appended to the
 * group's partition; done(arg, err) once it is durable (the view is updated just before) or
 * failed (the view does not change). Returns 1 when done will be called, 0 when count is 0
 * (nothing to do, done not called), or an error now, with nothing written and done not called:
 * an entry's offset_store_check_entry error, -TAPE_EPROTO for a null or over-long group id,
 * -TAPE_ETOOLARGE when the view's bounds would be passed or the batch is over the partition's
 * max.message.bytes (the broker answers INVALID_COMMIT_OFFSET_SIZE, 28), the append's refusal
 * (-TAPE_EFAILED, -TAPE_EBUSY, -TAPE_ECLOSED), -ENOMEM, or the store's sticky error.
 * now_ms (wall clock) is the commit timestamp.
 */
int offset_store_commit(struct offset_store *store, struct kstr group,
                        const struct offset_commit_entry *entries, size_t count, int64_t now_ms,
                        offset_store_done_fn done, void *arg);

/* A committed offset, borrowed from the view: valid until the next change of the view (an
 * operation becoming durable, a load), so copy what must outlive the current callback. */
struct offset_committed {
	struct kstr topic;
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch;
	struct kstr metadata; /* null when committed as null */
	int64_t commit_timestamp_ms;
};

/* 1 and *out filled when group has a durable commit for (topic, partition), 0 when it has
 * none (OffsetFetch answers -1), or the store's sticky error. */
int offset_store_fetch(const struct offset_store *store, struct kstr group, struct kstr topic,
                       int32_t partition, struct offset_committed *out);
/* Calls fn for every committed offset of group, in the order they were first committed.
 * fn must not change the store. Returns the number of offsets, or the sticky error. */
int offset_store_each(const struct offset_store *store, struct kstr group,
                      void (*fn)(void *arg, const struct offset_committed *c), void *arg);
/* Calls fn for every group that has committed offsets (or operations in flight). */
void offset_store_each_group(const struct offset_store *store,
                             void (*fn)(void *arg, struct kstr group), void *arg);
/* Offsets of group in the view (0 for an unknown group). */
uint32_t offset_store_group_count(const struct offset_store *store, struct kstr group);
uint32_t offset_store_groups_count(const struct offset_store *store);
uint64_t offset_store_offsets_count(const struct offset_store *store);
/* Operations whose batches are not durable (or failed) yet. */
uint32_t offset_store_inflight(const struct offset_store *store);
/* Records skipped by loads (another kind, malformed, another partition's group). */
uint64_t offset_store_skipped(const struct offset_store *store);

/*
 * DeleteGroups: a tombstone for every offset of group, those in the view and those of commits
 * still in flight (which land before the tombstones in the log), in as few batches as
 * max.message.bytes allows. Same return convention as offset_store_commit: 1 and done later,
 * 0 when the group has nothing to delete, or an error now. now_ms is the tombstones' timestamp
 * (compaction keeps them delete.retention.ms after it).
 */
int offset_store_delete_group(struct offset_store *store, struct kstr group, int64_t now_ms,
                              offset_store_done_fn done, void *arg);

/*
 * offsets.retention.minutes: the coordinator tells, per group, whether it is empty:
 *   -1          the group has members: its offsets stay
 *   t >= 0      the group has been empty since wall time t (0 when the coordinator does not
 *               know the group: standalone commits), so an offset expires once
 *               now_ms - max(t, its commit timestamp) >= retention_ms (Kafka's rule: the later
 *               of becoming empty and the commit)
 * fn must not change the store. Groups with operations in flight are skipped this round (a
 * commit in flight must not be overtaken by an expiry tombstone).
 */
typedef int64_t (*offset_store_empty_since_fn)(void *arg, struct kstr group);
/* Writes the tombstones of expired offsets (no callback; a failure is logged). Returns the
 * number of offsets expiring, or the error of a refused append (those scheduled before it
 * stay scheduled). */
int64_t offset_store_expire(struct offset_store *store, int64_t now_ms, int64_t retention_ms,
                            offset_store_empty_since_fn empty_since, void *arg);

#endif
