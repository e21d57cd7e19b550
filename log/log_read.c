/*
 * log/log_read.c: reads by offset and timestamp; the contract is in log_read.h.
 *
 * A read is a small state machine on the reactor:
 *   locate:  which segment, and where in it to start (cache, segment start, or index entry)
 *   scan:    io_uring reads of READ_SCAN_BYTES windows, parsing batch headers, until the batch
 *            holding the offset (or, by time, the first batch reaching the timestamp) is found
 *   build:   the ranges, from boundaries already known, without reading record bytes
 * Each step only looks at bytes below the segment's written size, so a write in flight is
 * never read.
 */
#include "log/log_read.h"

#include "base/assert.h"
#include "base/endian.h"
#include "base/errors.h"
#include "log/partition_internal.h"
#include "protocol/compression.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int scan_window(struct log_read *rd);

static struct segment *cur_seg(const struct log_read *rd)
{
	return rd->part->segs[rd->seg_index];
}

static void cache_put(struct partition *p, int64_t offset, const struct segment *seg,
                      uint64_t position)
{
	struct read_cache_entry *e = &p->read_cache[p->read_cache_next++ % READ_CACHE_SLOTS];
	*e = (struct read_cache_entry){ offset, seg->base_offset, position };
}

static bool cache_get(const struct partition *p, int64_t offset, const struct segment *seg,
                      uint64_t *position)
{
	for (unsigned i = 0; i < READ_CACHE_SLOTS; i++) {
		const struct read_cache_entry *e = &p->read_cache[i];
		if (e->offset == offset && e->segment_base == seg->base_offset && offset > 0) {
			*position = e->position;
			return true;
		}
	}
	return false;
}

static void add_range(struct log_read *rd, struct segment *seg, uint64_t from, uint64_t to)
{
	ASSERT(rd->ranges_count < READ_RANGES_MAX && to > from);
	seg->refs++;
	rd->ranges[rd->ranges_count++] = (struct log_range){
		.seg = seg,
		.fd = seg->fd,
		.position = from,
		.len = (uint32_t)(to - from),
	};
	rd->bytes += to - from;
}

/* The last index entry of seg whose batch starts in (from, limit] and ends below max_offset:
 * a batch boundary every offset before which is < max_offset. 0 when none. */
static uint64_t index_boundary(const struct segment *seg, uint64_t from, uint64_t limit,
                               int64_t max_offset)
{
	struct offset_index_entry e;
	if (limit > UINT32_MAX)
		limit = UINT32_MAX;
	if (!offset_index_lookup_position(&seg->oidx, (uint32_t)limit, &e))
		return 0;
	for (size_t i = 0;; i++) {
		/* Walk back from the floor entry until one ends below max_offset. */
		if (e.position <= from)
			return 0;
		if (seg->base_offset + e.relative_offset < max_offset)
			return e.position;
		struct offset_index_entry prev;
		if (!offset_index_lookup_position(&seg->oidx, e.position - 1, &prev) || i > 64)
			return 0;
		e = prev;
	}
}

/* Adds whole following segments (or index-bounded parts of them) while bytes remain. */
static void continue_segments(struct log_read *rd)
{
	struct partition *p = rd->part;
	for (unsigned i = (unsigned)rd->seg_index + 1;
	     i < p->segs_count && rd->ranges_count < READ_RANGES_MAX && rd->bytes < rd->max_bytes;
	     i++) {
		struct segment *seg = p->segs[i];
		if (seg->size == 0 || seg->base_offset >= rd->max_offset)
			return;
		uint64_t room = rd->max_bytes - rd->bytes;
		if (seg->next_offset <= rd->max_offset && seg->size <= room) {
			add_range(rd, seg, 0, seg->size);
			cache_put(p, seg->next_offset, seg, seg->size);
			continue;
		}
		uint64_t end = index_boundary(seg, 0, room, rd->max_offset);
		if (end)
			add_range(rd, seg, 0, end);
		return;
	}
}

/* With the start of the first batch at start, whose end is first_end (0: unknown) holding
 * offsets up to first_last, and the boundaries found in the scanned window (end positions and
 * the offsets after them), chooses the end of the first range and continues. */
struct boundary {
	uint64_t position;
	int64_t next_offset;
};

static void build(struct log_read *rd, uint64_t start, const struct boundary *known,
                  unsigned known_count)
{
	struct partition *p = rd->part;
	struct segment *seg = cur_seg(rd);
	uint64_t limit = start + rd->max_bytes;
	uint64_t end = 0;
	int64_t end_offset = -1;
	if (seg->next_offset <= rd->max_offset && seg->size <= limit) {
		end = seg->size;
		end_offset = seg->next_offset;
	} else {
		for (unsigned i = 0; i < known_count; i++)
			if (known[i].next_offset <= rd->max_offset &&
			    (known[i].position <= limit || i == 0) && known[i].position > end) {
				end = known[i].position;
				end_offset = known[i].next_offset;
			}
		uint64_t ie = index_boundary(seg, start, limit, rd->max_offset);
		if (ie > end) {
			end = ie;
			end_offset = -1;
		}
	}
	if (end <= start)
		return; /* the first batch reaches max_offset: nothing to return */
	add_range(rd, seg, start, end);
	if (end_offset >= 0)
		cache_put(p, end_offset, seg, end);
	if (end == seg->size && seg->next_offset <= rd->max_offset)
		continue_segments(rd);
}

static void complete(struct log_read *rd, int err, bool async)
{
	if (async)
		rd->done(rd, err);
}

static int restart(struct log_read *rd);

/* A read of a segment's file pins the segment until it completes: retention or compaction may
 * take it out of the set meanwhile, and its descriptor must stay open for the read. */
static void scan_pin(struct log_read *rd)
{
	struct segment *seg = cur_seg(rd);
	seg->refs++;
	rd->scan_seg = seg;
}

/* Unpins after the read; true when the segment left its place in the set meanwhile, so the
 * positions read belong to a file that is no longer there. */
static bool scan_unpin(struct log_read *rd)
{
	struct partition *p = rd->part;
	struct segment *seg = rd->scan_seg;
	rd->scan_seg = NULL;
	bool moved = rd->seg_index >= (int)p->segs_count || p->segs[rd->seg_index] != seg;
	partition_segment_unpin(p, seg);
	return moved;
}

static void window_done(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct log_read *rd = container_of(op, struct log_read, op);
	bool moved = scan_unpin(rd);
	if (res < 0) {
		complete(rd, res, true);
		return;
	}
	rd->window_len = (uint32_t)res;
	int rc = moved ? restart(rd) : scan_window(rd);
	if (rc <= 0)
		complete(rd, rc, true);
}

static int read_window(struct log_read *rd)
{
	struct segment *seg = cur_seg(rd);
	if (!rd->window && !(rd->window = malloc(READ_SCAN_BYTES)))
		return -ENOMEM;
	uint64_t len = seg->size - rd->scan_pos;
	if (len > READ_SCAN_BYTES)
		len = READ_SCAN_BYTES;
	scan_pin(rd);
	reactor_read(rd->part->reactor, &rd->op, window_done, seg->fd, rd->window, (uint32_t)len,
	             rd->scan_pos);
	return 1;
}

static int locate(struct log_read *rd);
static int time_locate(struct log_read *rd);
static int time_batch_found(struct log_read *rd, uint64_t position, uint32_t size);

/* Parses the window read at rd->scan_pos (rd->window_len bytes). Returns 0 when the
 * read is complete, 1 when another read is under way, or an error. */
static int scan_window(struct log_read *rd)
{
	struct segment *seg = cur_seg(rd);
	size_t n = rd->window_len;
	struct boundary known[READ_SCAN_BYTES / RB_HEADER_BYTES + 1];
	unsigned known_count = 0;
	uint64_t start = 0;
	bool found = false;
	size_t i = 0;
	while (i + RB_HEADER_BYTES <= n) {
		struct record_batch_header h;
		record_batch_header_read(rd->window + i, &h);
		if (h.batch_length < RB_HEADER_BYTES - RB_LOG_OVERHEAD)
			return -TAPE_ECORRUPT;
		uint64_t size = record_batch_size(&h);
		uint64_t pos = rd->scan_pos + i;
		int64_t last = record_batch_last_offset(&h);
		if (!found) {
			bool hit = rd->by_time
			               ? h.max_timestamp >= rd->timestamp && last >= rd->offset
			               : last >= rd->offset;
			if (hit) {
				if (h.base_offset >= rd->max_offset)
					return 0; /* nothing below max_offset */
				if (rd->by_time)
					return time_batch_found(rd, pos, (uint32_t)size);
				found = true;
				start = pos;
				rd->first_offset = h.base_offset;
			}
		}
		if (found) {
			if (last >= rd->max_offset)
				break;
			known[known_count++] = (struct boundary){ pos + size, last + 1 };
		}
		i += size;
		if (found && i > n)
			break;
	}
	if (found) {
		build(rd, start, known, known_count);
		return 0;
	}
	rd->scan_pos += i;
	if (rd->scan_pos >= seg->size) {
		/* Not in this segment (a gap left by compaction): the next one. */
		if (rd->seg_index + 1 >= (int)rd->part->segs_count)
			return 0;
		rd->seg_index++;
		return locate(rd);
	}
	return read_window(rd);
}

/* Finds where to start in the current segment and reads on. 0 done, 1 pending, < 0 error. */
static int locate(struct log_read *rd)
{
	struct partition *p = rd->part;
	for (;;) {
		struct segment *seg = cur_seg(rd);
		if (rd->offset >= seg->next_offset || seg->size == 0) {
			if (rd->seg_index + 1 >= (int)p->segs_count)
				return 0;
			rd->seg_index++;
			continue;
		}
		uint64_t position;
		if (!rd->by_time &&
		    (rd->offset <= seg->base_offset || cache_get(p, rd->offset, seg, &position))) {
			if (rd->offset <= seg->base_offset)
				position = 0;
			if (seg->next_offset <= rd->max_offset &&
			    seg->size - position <= rd->max_bytes) {
				rd->first_offset =
				    rd->offset > seg->base_offset ? rd->offset : seg->base_offset;
				build(rd, position, NULL, 0);
				return 0;
			}
			rd->scan_pos = position;
			return read_window(rd);
		}
		uint32_t rel =
		    rd->offset > seg->base_offset ? (uint32_t)(rd->offset - seg->base_offset) : 0;
		struct offset_index_entry e;
		rd->scan_pos = offset_index_lookup(&seg->oidx, rel, &e) ? e.position : 0;
		return read_window(rd);
	}
}

static int start_common(struct partition *p, struct log_read *rd)
{
	rd->part = p;
	rd->ranges_count = 0;
	rd->bytes = 0;
	rd->first_offset = -1;
	rd->window = NULL;
	rd->batch_buf = NULL;
	if (rd->offset < p->log_start_offset || rd->offset > p->next_offset)
		return -TAPE_ERANGE;
	if (rd->max_offset > p->written_end)
		rd->max_offset = p->written_end;
	if (partition_in_quarantine(p, rd->offset, rd->offset + 1, NULL))
		return -TAPE_EQUARANTINED;
	for (unsigned i = 0; i < p->quarantine_count; i++)
		if (p->quarantine[i].start >= rd->offset && p->quarantine[i].start < rd->max_offset)
			rd->max_offset = p->quarantine[i].start;
	int idx = partition_find_segment(p, rd->offset);
	rd->seg_index = idx < 0 ? 0 : idx;
	return 1;
}

int log_read_start(struct partition *p, struct log_read *rd)
{
	rd->by_time = false;
	int rc = start_common(p, rd);
	if (rc <= 0)
		return rc;
	if (rd->offset >= rd->max_offset)
		return 0;
	return locate(rd);
}

void log_read_release(struct log_read *rd)
{
	for (unsigned i = 0; i < rd->ranges_count; i++)
		partition_segment_unpin(rd->part, rd->ranges[i].seg);
	rd->ranges_count = 0;
	free(rd->window);
	free(rd->batch_buf);
	rd->window = NULL;
	rd->batch_buf = NULL;
}

/* ---- by timestamp ------------------------------------------------------------------------ */

/* The first record of the batch in rd->batch_buf with timestamp >= rd->timestamp. */
static void time_pick_record(struct log_read *rd)
{
	struct record_batch_header h;
	record_batch_header_read(rd->batch_buf, &h);
	rd->found_offset = h.base_offset;
	rd->found_timestamp = h.max_timestamp;
	if (h.attributes & RB_ATTR_LOG_APPEND_TIME)
		return; /* every record has the batch's time */
	struct compression_buf plain = { 0 };
	const uint8_t *records = rd->batch_buf + RB_RECORDS;
	size_t len = rd->batch_len - RB_RECORDS;
	if (record_batch_codec(&h)) {
		if (compression_decompress(record_batch_codec(&h), records, len, &plain,
		                           DECOMPRESSED_BYTES_MAX) < 0) {
			free(plain.p);
			return; /* the batch's first offset is still a correct lower bound */
		}
		records = plain.p;
		len = plain.len;
	}
	struct record_iter it;
	struct record rec;
	record_iter_init(&it, records, len, h.records_count);
	while (record_iter_next(&it, &rec) == 1) {
		int64_t ts = h.base_timestamp + rec.timestamp_delta;
		if (ts >= rd->timestamp &&
		    h.base_offset + rec.offset_delta >= rd->part->log_start_offset) {
			rd->found_offset = h.base_offset + rec.offset_delta;
			rd->found_timestamp = ts;
			break;
		}
	}
	free(plain.p);
}

static void time_batch_read(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct log_read *rd = container_of(op, struct log_read, op);
	scan_unpin(rd); /* the batch's bytes are all that is used from here */
	if (res != (int32_t)rd->batch_len) {
		complete(rd, res < 0 ? res : -TAPE_ECORRUPT, true);
		return;
	}
	time_pick_record(rd);
	complete(rd, 0, true);
}

static int time_batch_found(struct log_read *rd, uint64_t position, uint32_t size)
{
	struct segment *seg = cur_seg(rd);
	rd->batch_len = size;
	rd->batch_buf = malloc(size);
	if (!rd->batch_buf)
		return -ENOMEM;
	scan_pin(rd);
	reactor_read(rd->part->reactor, &rd->op, time_batch_read, seg->fd, rd->batch_buf, size,
	             position);
	return 1;
}

int log_offset_for_time(struct partition *p, struct log_read *rd, int64_t timestamp)
{
	rd->by_time = true;
	rd->timestamp = timestamp;
	rd->found_offset = -1;
	rd->found_timestamp = -1;
	rd->offset = p->log_start_offset;
	rd->max_offset = p->written_end;
	int rc = start_common(p, rd);
	if (rc <= 0)
		return rc;
	return time_locate(rd);
}

/* The segment a window was read from left its place in the set meanwhile (compaction replaced
 * it, retention removed it or those before it): the window's positions belong to a file that is
 * no longer there, so the lookup starts over. 0 done, 1 pending, < 0 error. */
static int restart(struct log_read *rd)
{
	struct partition *p = rd->part;
	if (rd->offset < p->log_start_offset) {
		if (!rd->by_time)
			return -TAPE_ERANGE;
		rd->offset = p->log_start_offset;
	}
	if (rd->by_time)
		return time_locate(rd);
	int idx = partition_find_segment(p, rd->offset);
	rd->seg_index = idx < 0 ? 0 : idx;
	return locate(rd);
}

static int time_locate(struct log_read *rd)
{
	struct partition *p = rd->part;
	int64_t timestamp = rd->timestamp;
	/* The first segment whose largest timestamp reaches the one asked for. */
	int idx = partition_find_segment(p, rd->offset);
	unsigned i = idx < 0 ? 0 : (unsigned)idx;
	while (i < p->segs_count && p->segs[i]->max_timestamp < timestamp)
		i++;
	if (i == p->segs_count)
		return 0;
	rd->seg_index = (int)i;
	struct segment *seg = p->segs[i];
	if (seg->size == 0)
		return 0;
	struct time_index_entry te;
	struct offset_index_entry oe;
	rd->scan_pos = 0;
	if (time_index_lookup_before(&seg->tidx, timestamp, &te) &&
	    offset_index_lookup(&seg->oidx, te.relative_offset, &oe))
		rd->scan_pos = oe.position;
	return read_window(rd);
}
