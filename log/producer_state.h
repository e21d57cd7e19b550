/*
 * log/producer_state.h: idempotent producers' state per partition (Kafka's
 * ProducerStateManager): for each producer id, its epoch and its last 5 batches, so that a
 * retried batch is answered with its original offset instead of being written twice
 * (Redpanda #3039: answering a retry with an error made clients bump their epoch and resend).
 *
 * Checks for a batch with producerId >= 0, in Kafka's order (kafka-protocol.md §7):
 *   1. duplicate: same epoch and (first seq, last seq) equal to a remembered batch -> the
 *      original offsets, nothing appended;
 *   2. epoch older than the producer's -> -TAPE_EPRODUCER_FENCED (INVALID_PRODUCER_EPOCH 47);
 *   3. newer epoch: first seq must be 0; same epoch: first seq == last seq + 1 (wrapping after
 *      INT32_MAX to 0); otherwise -TAPE_ESEQUENCE (OUT_OF_ORDER_SEQUENCE_NUMBER 45); an
 *      unknown producer may start at any sequence (KIP-360).
 *
 * The state is rebuilt from batch headers (they carry producer id, epoch, sequences and
 * offsets) starting at the last snapshot, "producer-state.checkpoint":
 *   i64 snapshot offset (the log end offset it covers), u32 count, then per producer
 *   i64 producer id, i16 epoch, i64 last timestamp, u8 batches n (<= 5), then n x
 *   (i32 first seq, i32 last seq, i64 first offset, i64 last offset, i64 timestamp).
 */
#ifndef TAPE_LOG_PRODUCER_STATE_H
#define TAPE_LOG_PRODUCER_STATE_H

#include "base/limits.h"
#include "protocol/record_batch.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct producer_batch {
	int32_t first_seq;
	int32_t last_seq;
	int64_t first_offset;
	int64_t last_offset;
	int64_t timestamp;
};

struct producer_entry {
	int64_t producer_id; /* -1: empty slot */
	int16_t epoch;
	uint8_t batches_count;
	int64_t last_timestamp;
	struct producer_batch batches[PRODUCER_BATCHES_RETAINED]; /* oldest first */
};

struct producer_state {
	struct producer_entry *slots; /* owned; open addressing, linear probing */
	size_t cap;                   /* power of two */
	size_t count;
};

void producer_state_init(struct producer_state *ps);
void producer_state_free(struct producer_state *ps);
void producer_state_clear(struct producer_state *ps);
const struct producer_entry *producer_state_find(const struct producer_state *ps,
                                                 int64_t producer_id);

/* Checks h (a batch from a producer, producer_id >= 0). Returns 0 to append, 1 for a
 * duplicate (*dup filled with the original), -TAPE_EPRODUCER_FENCED or -TAPE_ESEQUENCE. */
int producer_state_check(const struct producer_state *ps, const struct record_batch_header *h,
                         struct producer_batch *dup);
/* Records an appended batch (h->base_offset set). Replicas and recovery call it without a
 * check. Returns 0 or -ENOMEM. At PRODUCERS_PER_PARTITION_MAX the least recently used
 * producer is forgotten first. */
int producer_state_update(struct producer_state *ps, const struct record_batch_header *h);
/* Forgets producers whose last batch is older than now_ms - expiration_ms. */
void producer_state_expire(struct producer_state *ps, int64_t now_ms, int64_t expiration_ms);

uint8_t *producer_state_encode(const struct producer_state *ps, int64_t snapshot_offset,
                               size_t *len);
/* Replaces ps with the snapshot's producers. 0, -TAPE_ECORRUPT or -ENOMEM. */
int producer_state_decode(struct producer_state *ps, const uint8_t *buf, size_t len,
                          int64_t *snapshot_offset);

#endif
