/*
 * log/log_read.h: reads by offset and by timestamp, on the reactor thread, without blocking.
 *
 * A read returns whole batches as file ranges (segment descriptor, position, length), to be
 * sent from the page cache (read + send, or splice) by the caller: starting with the batch
 * that holds the offset asked for, bounded by max_bytes (but always at least that one whole
 * batch) and by max_offset (exclusive: the high watermark or the written end, the caller's
 * choice). Batches are never cut.
 *
 * Finding the batch that holds an offset: a small cache of recent read ends (consumers read
 * sequentially, so the next read usually starts exactly there), else the sparse offset index
 * and an io_uring read of the window after the index entry, scanning batch headers. The end of
 * a read comes from what is already known (segment ends, index entries, the scanned window),
 * so a large replay read costs no reads of record bytes at all.
 *
 * Segments in a result are pinned (they stay open even if retention deletes them) until
 * log_read_release().
 */
#ifndef TAPE_LOG_LOG_READ_H
#define TAPE_LOG_LOG_READ_H

#include "base/limits.h"
#include "io/reactor.h"

#include <stdbool.h>
#include <stdint.h>

struct partition;
struct segment;

struct log_range {
	struct segment *seg; /* pinned until log_read_release */
	int fd;              /* borrowed from seg */
	uint64_t position;
	uint32_t len;
};

struct log_read {
	/* in */
	int64_t offset;
	uint32_t max_bytes;
	int64_t max_offset; /* exclusive; clamped to the written end */
	void (*done)(struct log_read *rd, int err);
	/* out */
	struct log_range ranges[READ_RANGES_MAX];
	unsigned ranges_count;
	uint64_t bytes;
	int64_t first_offset; /* base offset of the first batch returned (may be < offset) */
	/* private */
	struct partition *part;
	struct io_op op;
	int seg_index;
	uint64_t scan_pos;
	uint8_t *window; /* owned, READ_SCAN_BYTES */
	uint32_t window_len;
	struct segment *scan_seg; /* pinned while a read of its file is in flight */
	bool by_time;
	int64_t timestamp;
	int64_t found_offset;
	int64_t found_timestamp;
	uint8_t *batch_buf; /* owned: the batch read whole for a timestamp lookup */
	uint32_t batch_len;
};

/*
 * Starts a read of rd->offset. Returns 0 when the result is complete already (done is not
 * called), 1 when done(rd, err) will be called from the reactor, or an error now:
 * -TAPE_ERANGE when offset is below the log start or above max_offset, -TAPE_EQUARANTINED
 * when the offset is in a quarantined range. offset == max_offset gives an empty result.
 */
int log_read_start(struct partition *part, struct log_read *rd);
/* Unpins the segments of a result and frees private buffers. Call exactly once per start
 * that did not fail. */
void log_read_release(struct log_read *rd);

/*
 * ListOffsets by timestamp: the offset and timestamp of the first record whose timestamp is
 * >= timestamp, or -1 and -1 when there is none below max_offset. Same return convention as
 * log_read_start; results in rd->found_offset and rd->found_timestamp.
 */
int log_offset_for_time(struct partition *part, struct log_read *rd, int64_t timestamp);

#endif
