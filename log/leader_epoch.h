/*
 * log/leader_epoch.h: the leader-epoch cache of a partition: epoch -> the first offset
 * appended in that epoch (Kafka's LeaderEpochFileCache, KIP-101/279).
 *
 * Followers truncate by it (OffsetForLeaderEpoch), never by high watermark. Entries increase
 * in both epoch and start offset. Persisted as the payload of "leader-epoch.checkpoint"
 * (checkpoint.h): u32 count, then count x (i32 epoch, i64 start offset), big-endian.
 */
#ifndef TAPE_LOG_LEADER_EPOCH_H
#define TAPE_LOG_LEADER_EPOCH_H

#include <stddef.h>
#include <stdint.h>

#define LEADER_EPOCH_UNDEFINED (-1)

struct leader_epoch_entry {
	int32_t epoch;
	int64_t start_offset;
};

struct leader_epoch_cache {
	struct leader_epoch_entry *entries; /* owned */
	size_t count;
	size_t cap;
};

void leader_epoch_init(struct leader_epoch_cache *c);
void leader_epoch_free(struct leader_epoch_cache *c);
/* The latest epoch, or LEADER_EPOCH_UNDEFINED when empty. */
int32_t leader_epoch_latest(const struct leader_epoch_cache *c);
/* Records that epoch starts at start_offset. An epoch not newer than the latest is ignored
 * (returns 0); entries starting at or after start_offset are dropped first (epochs that
 * appended nothing). Returns 0, -ENOMEM, or -TAPE_ETOOLARGE past LEADER_EPOCHS_MAX. */
int leader_epoch_assign(struct leader_epoch_cache *c, int32_t epoch, int64_t start_offset);
/* Kafka's endOffsetFor: for the requested epoch, the largest known epoch <= it and the start
 * offset of the next epoch (or log_end_offset for the latest). Unknown: both undefined/-1. */
void leader_epoch_end_offset(const struct leader_epoch_cache *c, int32_t requested,
                             int64_t log_end_offset, int32_t *epoch_out, int64_t *end_offset_out);
/* Truncation: drops entries starting at or after end_offset. */
void leader_epoch_truncate_end(struct leader_epoch_cache *c, int64_t end_offset);
/* Log start moved: entries wholly below start_offset go; the one holding it starts there. */
void leader_epoch_truncate_start(struct leader_epoch_cache *c, int64_t start_offset);

/* Payload encoding for the checkpoint. encode returns malloc'ed bytes (free) or NULL. */
uint8_t *leader_epoch_encode(const struct leader_epoch_cache *c, size_t *len);
/* 0, -TAPE_ECORRUPT (not increasing, lengths) or -ENOMEM. Replaces c's entries. */
int leader_epoch_decode(struct leader_epoch_cache *c, const uint8_t *buf, size_t len);

#endif
