/*
 * log/partition_internal.h: the partition's state, shared by the log/ files that implement
 * it (partition.c, recovery.c, log_read.c, retention.c, compaction.c). Nothing outside log/
 * includes this.
 */
#ifndef TAPE_LOG_PARTITION_INTERNAL_H
#define TAPE_LOG_PARTITION_INTERNAL_H

#include "log/partition.h"
#include "log/segment.h"

#define QUARANTINE_MAX 16
#define READ_CACHE_SLOTS 8

struct quarantine_range {
	int64_t start; /* first offset refused */
	int64_t end;   /* first offset served again */
};

/* Where a batch boundary is: a read that ends at next_offset lets the next read start here. */
struct read_cache_entry {
	int64_t offset;
	int64_t segment_base;
	uint64_t position;
};

struct partition {
	struct reactor *reactor;
	char *dir; /* owned */
	struct partition_config cfg;

	struct segment **segs; /* owned; oldest first; the last one is active */
	unsigned segs_count;
	unsigned segs_cap;
	struct segment *deleted; /* left segs, waiting for readers to unpin */

	int64_t log_start_offset;
	int64_t next_offset; /* LEO */
	int64_t written_end;
	int64_t durable_end;
	int64_t recovery_point;
	int64_t high_watermark;
	int failed;            /* D4 */
	int64_t failed_offset; /* appends from here on are reported failed */
	bool closing;
	bool truncating;
	bool compacting; /* a compaction job owns sealed segments' files (compaction.c) */

	/* Appends submitted, in offset order; completions drain from the head. */
	struct partition_append *inflight_head, *inflight_tail;
	unsigned inflight_count;
	/* The first inflight append not yet handed to the kernel (write coalescing). */
	struct partition_append *unsubmitted;
	struct io_op write_defer;
	bool write_scheduled;
	/* Appends validated but waiting for a roll to finish, in arrival order. */
	struct partition_append *pending_head, *pending_tail;
	unsigned pending_count;

	bool rolling;
	unsigned jobs_inflight; /* helper jobs of this partition */
	unsigned ops_inflight;  /* flushes, preallocations, the timer */

	/* Group commit (FLUSH_FSYNC): scheduled for the turn's deferred step. */
	struct io_op flush_defer;
	bool flush_scheduled;
	struct io_op flush_op;
	bool flush_inflight;
	struct segment *flush_seg;
	int64_t flush_target;
	struct io_timer flush_timer; /* FLUSH_INTERVAL */
	struct io_op prealloc_op;

	int32_t leader_epoch;
	struct leader_epoch_cache epochs;
	struct producer_state producers;
	bool checkpoint_dirty;

	struct quarantine_range quarantine[QUARANTINE_MAX];
	unsigned quarantine_count;

	struct read_cache_entry read_cache[READ_CACHE_SLOTS];
	unsigned read_cache_next;

	void (*close_done)(void *arg); /* partition_close_async */
	void *close_arg;
	struct io_timer close_timer;
	struct io_job close_job;
	int close_rc;

	partition_progress_fn progress;
	void *progress_arg;
};

static inline struct segment *partition_active(const struct partition *part)
{
	return part->segs[part->segs_count - 1];
}

/* partition.c */
void partition_fail(struct partition *part, int err);
void partition_notify(struct partition *part);
void partition_update_durable(struct partition *part);
int partition_segs_push(struct partition *part, struct segment *seg);
/* Index of the segment holding offset (the last with base <= offset), or -1. */
int partition_find_segment(const struct partition *part, int64_t offset);
void partition_segment_unpin(struct partition *part, struct segment *seg);
/* Takes segs[0, n) out of the set (retention, truncation); they close when unpinned. */
void partition_segments_retire(struct partition *part, unsigned first, unsigned n);
/* Puts fresh in the place of segs[i], a sealed segment (compaction): the old one leaves the set
 * like a retired one, its files untouched, and closes when unpinned. */
void partition_segment_replace(struct partition *part, unsigned i, struct segment *fresh);
/* The checkpoint payload of the partition's own state. */
uint8_t *partition_checkpoint_encode(const struct partition *part, int64_t recovery_point,
                                     bool clean, size_t *len);
bool partition_in_quarantine(const struct partition *part, int64_t start, int64_t end,
                             int64_t *quarantine_end);
void partition_begin_job(struct partition *part);
void partition_end_job(struct partition *part);

#define PARTITION_CHECKPOINT "partition.checkpoint"
#define EPOCH_CHECKPOINT "leader-epoch.checkpoint"
#define PRODUCER_CHECKPOINT "producer-state.checkpoint"

#endif
