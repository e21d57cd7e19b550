/*
 * client/pbatch.h: one producer batch: the records of one partition, appended until the batch
 * is full or has lingered, then sealed into the RecordBatch v2 bytes (protocol/record_batch.h)
 * sent, and resent unchanged on a retry.
 *
 * Life: open (records appended, encoded at once into `records`) -> sealed (`wire` built:
 * compressed when that makes it smaller, producer id -1 and sequence -1 until stamped; the
 * records section freed) -> stamped by an idempotent producer (producer id, epoch and base
 * sequence written into the header and the CRC recomputed) -> in flight -> done, or back in
 * the queue for a retry with the same bytes (or, after a producer id reset, restamped).
 *
 * Memory: `records` and `recs` grow by doubling; bytes_held says what the batch costs against
 * the producer's buffer_bytes.
 */
#ifndef TAPE_CLIENT_PBATCH_H
#define TAPE_CLIENT_PBATCH_H

#include "base/buf.h"
#include "client/tape.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the delivery report needs of each record. */
struct pbatch_rec {
	void *opaque;
	int64_t timestamp_ms;
};

struct pbatch {
	struct pbatch *next; /* in its partition's queue, oldest first */
	uint64_t id;         /* unique per producer, for "is this still the batch I chose" */
	int32_t partition;
	int32_t count;
	int64_t base_timestamp_ms;
	int64_t max_timestamp_ms;
	int64_t created_ms; /* monotonic: the first append; linger and delivery timeout count from
	                       here */
	struct buf records; /* owned: while open, RB_HEADER_BYTES of room for the batch header,
	                       then the records section, uncompressed */
	struct pbatch_rec *recs; /* owned: count entries */
	int32_t recs_cap;
	bool open; /* records may be appended */

	uint8_t *wire; /* owned: the whole batch once sealed */
	size_t wire_len;
	int codec; /* the codec the wire form uses */
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;

	bool in_flight;
	bool maybe_written;  /* an attempt may have been appended (tape_delivery.maybe_written) */
	int32_t attempts;    /* times sent */
	int64_t retry_at_ms; /* not sent again before this */

	/* The producer's bookkeeping (producer.c): what the batch is charged against its buffer,
	 * and the outcome reported once it is done (error.code 0: delivered at base_offset;
	 * while retrying, error holds the last failure, for a timeout's message). */
	const char *topic; /* borrowed from the producer's topic */
	size_t charged_bytes;
	int64_t base_offset;
	int64_t log_append_time_ms;
	struct tape_error error;
};

/* pbatch_append's answer when the record does not fit and the batch already has records. */
#define PBATCH_FULL 1

/* A new open batch for partition, created now. NULL when out of memory. */
struct pbatch *pbatch_new(uint64_t id, int32_t partition, int64_t now_ms);
void pbatch_free(struct pbatch *b);

/* The bytes rec takes in a records section as the offset_delta'th record, timestamp_delta
 * after the batch's base timestamp. */
size_t pbatch_record_bytes(const struct tape_record *rec, int64_t timestamp_delta,
                           int32_t offset_delta);

/* Appends rec (timestamp_ms resolved by the caller) to an open batch, unless the batch has
 * records and the whole batch would pass batch_bytes_max (then PBATCH_FULL; a record alone
 * always goes in, the caller checks its size against the request limit). scratch is a buffer
 * for encoding the headers. Returns 0, PBATCH_FULL, or -ENOMEM. */
int pbatch_append(struct pbatch *b, const struct tape_record *rec, int64_t timestamp_ms,
                  size_t batch_bytes_max, struct buf *scratch);

/* Bytes the batch holds (against buffer_bytes). */
size_t pbatch_bytes_held(const struct pbatch *b);

/* Closes the batch and builds its wire form with codec (compressed only if that is smaller).
 * Returns 0, or -ENOMEM / -TAPE_ECODEC (the batch stays open). */
int pbatch_seal(struct pbatch *b, int codec, int level);

/* Writes producer id, epoch and base sequence into the sealed batch and recomputes its CRC. */
void pbatch_stamp(struct pbatch *b, int64_t producer_id, int16_t producer_epoch,
                  int32_t base_sequence);

#endif
