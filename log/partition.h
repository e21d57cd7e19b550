/*
 * log/partition.h: one partition's log. The vocabulary of the storage engine is defined here,
 * once:
 *
 *   offset            logical record number, 64-bit, dense within a batch
 *   position          byte position in a segment file (never an offset)
 *   batch             one RecordBatch v2 (protocol/record_batch.h); record = one entry in it
 *   log start offset  first offset still readable (advanced by retention and delete-records)
 *   log end offset    LEO: the offset the next appended record gets
 *   written end       offsets below it are in the page cache (every write up to it completed)
 *   durable end       offsets below it are on disk (fdatasync completed after they were written)
 *   recovery point    offsets below it were durable when the last checkpoint was written;
 *                     recovery scans only from the segment that holds it
 *   high watermark    HW: set by the caller (replication); kept in the checkpoint for it
 *
 * Durability invariants (cited at the asserts as [D1] ...):
 *   D1  log start <= durable end <= written end <= LEO at all times.
 *   D2  durable end only advances over bytes whose write completed in full and whose fdatasync
 *       was submitted after that completion and succeeded.
 *   D3  a segment's file and its directory entry are on disk before any byte in it counts as
 *       durable (roll fsyncs the directory before the first write to the new segment).
 *   D4  after any failed write or fsync the partition is failed: durable end never moves
 *       again, every append is refused, and only partition_close + partition_open (recovery
 *       from disk) bring it back. No retry is ever reported durable (fsyncgate).
 *   D5  index entries are added only for batches whose write completed in full, in offset
 *       order, so an index entry never points into a partial batch.
 *   D6  the recovery point never passes the durable end of every segment below it, so data
 *       below the recovery point was synced and a bad batch there is corruption, not a torn
 *       write: it is quarantined (refused to readers), never truncated.
 *   D7  a checkpoint is replaced only by rename after its contents were fsynced.
 *
 * The partition lives on one reactor thread. Blocking work (creating, sealing and deleting
 * segments, checkpoints) runs as helper-thread jobs whose results are applied back on the
 * reactor thread; appends and flushes are io_uring writes and fdatasyncs.
 */
#ifndef TAPE_LOG_PARTITION_H
#define TAPE_LOG_PARTITION_H

#include "io/reactor.h"
#include "log/leader_epoch.h"
#include "log/producer_state.h"

#include <stdbool.h>
#include <stdint.h>

struct partition;
struct segment;

enum flush_mode {
	FLUSH_FSYNC,    /* group commit: one fdatasync per dirty partition per reactor turn */
	FLUSH_INTERVAL, /* fdatasync every flush_interval_ms */
	FLUSH_NONE,     /* never; trust replication and the page cache */
};

struct partition_config {
	uint32_t segment_bytes;     /* segment.bytes: roll when the next batch would pass it */
	int64_t segment_ms;         /* segment.ms: roll when the active segment is older; 0 never */
	enum flush_mode flush_mode; /* flush.mode */
	int64_t flush_interval_ms;  /* flush.ms, for FLUSH_INTERVAL */
	int64_t flush_messages;   /* flush.messages: FLUSH_INTERVAL also flushes this far behind */
	int64_t retention_ms;     /* retention.ms; -1 unlimited */
	int64_t retention_bytes;  /* retention.bytes; -1 unlimited */
	uint32_t max_batch_bytes; /* max.message.bytes */
	bool cleanup_delete;      /* cleanup.policy has delete */
	bool cleanup_compact;     /* cleanup.policy has compact */
	int64_t delete_retention_ms; /* delete.retention.ms: tombstones kept this long */
	bool log_append_time;        /* message.timestamp.type=LogAppendTime */
	uint32_t index_interval_bytes;
	int64_t producer_expiration_ms; /* producer.id.expiration.ms */
};

/* Kafka's defaults, with flush.mode fsync (tape's default). */
void partition_config_default(struct partition_config *cfg);
/* 0, or -TAPE_ECONFIG when a value is outside its bounds (base/limits.h). */
int partition_config_check(const struct partition_config *cfg);

/* Called on the reactor thread whenever written end, durable end or the failed state changes,
 * so purgatories can answer waiting produce and fetch requests. */
typedef void (*partition_progress_fn)(struct partition *part, void *arg);

enum append_origin {
	APPEND_CLIENT,  /* from a producer: validated, offsets and leader epoch stamped here */
	APPEND_REPLICA, /* from the leader: offsets and epochs kept as they are */
};

/*
 * One append of one or more batches, embedded in the caller's request. batches is borrowed
 * until done is called: the partition stamps baseOffset (and partitionLeaderEpoch) into it and
 * writes it to the segment straight from there, without a copy.
 */
struct partition_append {
	/* in */
	uint8_t *batches; /* borrowed until done */
	uint32_t len;
	enum append_origin origin;
	void (*done)(struct partition_append *a, int err);
	/* out, valid in done when err == 0 */
	int64_t base_offset;     /* of the first record */
	int64_t last_offset;     /* of the last record */
	int64_t log_append_time; /* -1 unless the topic uses LogAppendTime */
	bool duplicate;          /* idempotent retry: nothing written, offsets are the original's */
	/* private */
	struct io_op op;
	struct partition *part;
	struct segment *seg;
	struct partition_append *next;
	uint64_t position;
	uint32_t written;
	uint32_t batches_count;
	int64_t span; /* offsets the batches cover */
	bool completed;
	int err;
};

/*
 * Opens the partition in dir (created if missing), recovering it from disk: segments after
 * the recovery point are scanned batch by batch, a torn tail is cut, indexes are rebuilt,
 * producer state and leader epochs are reloaded. Blocking: call it at start-up or from a
 * helper job. Returns 0 or -errno / -TAPE_E*.
 */
int partition_open(struct reactor *r, const char *dir, const struct partition_config *cfg,
                   struct partition **out);
/* Stops accepting appends; once writes, jobs and readers' pins are done, writes the clean
 * shutdown checkpoints (unless failed) on a helper thread, frees the partition, and calls
 * done(arg) on the reactor thread. The partition must not be used after this call. */
void partition_close_async(struct partition *part, void (*done)(void *arg), void *arg);
/* partition_close_async, running the reactor until it is done. For start-up, shutdown,
 * tools and tests: never from inside a reactor callback. */
void partition_close(struct partition *part);

void partition_set_progress(struct partition *part, partition_progress_fn fn, void *arg);
/* Replaces the configuration (a topic config change); the next roll uses it. */
int partition_set_config(struct partition *part, const struct partition_config *cfg);
const struct partition_config *partition_config(const struct partition *part);

/*
 * Appends a->batches. Validation (magic, lengths, CRC-32C, record count, size, idempotence)
 * happens before anything is written; a refused append returns its error here and done is not
 * called. Otherwise returns 0 and done(a, err) follows exactly once: err == 0 when every byte
 * is in the page cache, -TAPE_EFAILED or -errno when a write failed (the partition is then
 * failed, D4). An idempotent retry of one of the last 5 batches returns 0 and calls done with
 * a->duplicate set and the original offsets.
 */
int partition_append(struct partition *part, struct partition_append *a);

/* Idempotence outcomes, as partition_append returns them (server/ maps them to Kafka codes):
 *   -TAPE_ESEQUENCE          OUT_OF_ORDER_SEQUENCE_NUMBER (45)
 *   -TAPE_EPRODUCER_FENCED   INVALID_PRODUCER_EPOCH (47) */

int64_t partition_log_start_offset(const struct partition *part);
int64_t partition_log_end_offset(const struct partition *part);
int64_t partition_written_end(const struct partition *part);
int64_t partition_durable_end(const struct partition *part);
int64_t partition_recovery_point(const struct partition *part);
/* 0, or the error that failed the partition (D4). */
int partition_failed(const struct partition *part);
/* Bytes of log on disk (sum of segment sizes). */
uint64_t partition_size_bytes(const struct partition *part);
unsigned partition_segments_count(const struct partition *part);
const char *partition_dir(const struct partition *part);

/* The high watermark is the caller's; the partition keeps it in its checkpoint. */
void partition_set_high_watermark(struct partition *part, int64_t hw);
int64_t partition_high_watermark(const struct partition *part);

/* Leader epochs: a leader calls this when it takes over with epoch; batches appended with
 * APPEND_CLIENT are stamped with it. Records (epoch, LEO) in the epoch cache when epoch is
 * new. Returns 0 or -TAPE_EBUSY if epoch is older than the latest. */
int partition_become_leader(struct partition *part, int32_t epoch);
int32_t partition_leader_epoch(const struct partition *part);
/* OffsetForLeaderEpoch: the largest epoch <= requested and the end offset of that epoch. */
void partition_epoch_end_offset(const struct partition *part, int32_t epoch, int32_t *epoch_out,
                                int64_t *end_offset_out);
const struct leader_epoch_cache *partition_epochs(const struct partition *part);
const struct producer_state *partition_producers(const struct partition *part);

/*
 * Removes every record at offset >= offset (replication: a follower truncating to its
 * leader's epoch boundary). If offset is inside a batch, that whole batch goes and LEO ends up
 * below offset, as in Kafka. Requires no append in flight. Asynchronous: done(arg, err) on the
 * reactor thread. Returns 0 or -TAPE_EBUSY / -TAPE_EFAILED.
 */
int partition_truncate_to(struct partition *part, int64_t offset, void (*done)(void *, int),
                          void *arg);

/* A follower whose log ends below its leader's log start offset (Kafka's
 * OFFSET_OUT_OF_RANGE "below start"): removes every record and restarts the log empty at
 * offset, which may be above the LEO; log start = LEO = offset, the epoch cache empties, the HW
 * comes up to offset. Same conditions, errors and asynchrony as partition_truncate_to. */
int partition_truncate_fully(struct partition *part, int64_t offset, void (*done)(void *, int),
                             void *arg);

/* Deletes whole segments by retention.ms / retention.bytes (cleanup.policy delete) and those
 * entirely below the log start offset. now_ms is the wall clock. Asynchronous like
 * truncation; done may be NULL. Returns the number of segments scheduled for deletion. */
int partition_retention_run(struct partition *part, int64_t now_ms, void (*done)(void *, int),
                            void *arg);
/* DeleteRecords: moves the log start offset up to offset (<= HW, checked by the caller) and
 * deletes the segments wholly below it. Returns 0, -TAPE_ERANGE or -TAPE_EBUSY. */
int partition_delete_records(struct partition *part, int64_t offset, void (*done)(void *, int),
                             void *arg);

/* Writes the checkpoints (recovery point, log start, HW, epochs, producers) now, on a helper
 * thread. done may be NULL. */
int partition_checkpoint(struct partition *part, void (*done)(void *, int), void *arg);

#endif
