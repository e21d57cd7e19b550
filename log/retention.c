/*
 * log/retention.c: the ways records leave a partition: retention by time and size,
 * DeleteRecords (the log start offset moves up), and truncation (replication: the log end
 * moves down). Owns the order of their effects on disk:
 *
 *   retention / delete-records:  in memory first (readers stop seeing the range at once),
 *       then on a helper thread the checkpoint with the new log start offset, then the
 *       segment files are unlinked. A crash in between leaves files wholly below the log
 *       start offset, which recovery deletes.
 *   truncation:  reads are bounded to the new end at once; on a helper thread later segments
 *       are unlinked, the segment holding the new end is cut at the first batch that reaches
 *       it and synced, the producer state is rebuilt from the log and every checkpoint is
 *       written; then the in-memory state follows on the reactor.
 *
 * Compaction owns sealed segments' files while it runs, so all of these refuse with
 * -TAPE_EBUSY then.
 */
#include "log/partition_internal.h"

#include "base/assert.h"
#include "base/clock.h"
#include "base/diag.h"
#include "base/errors.h"
#include "base/limits.h"
#include "log/batch_reader.h"
#include "log/checkpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- retention and delete-records ---------------------------------------------------- */

struct delete_job {
	struct io_job job;
	struct partition *part;
	int64_t *bases; /* segment files to unlink */
	unsigned count;
	uint8_t *state, *epochs;
	size_t state_len, epochs_len;
	int rc;
	void (*done)(void *, int);
	void *arg;
};

static void delete_run(struct io_job *job)
{
	struct delete_job *j = container_of(job, struct delete_job, job);
	const char *dir = j->part->dir;
	j->rc = checkpoint_write(dir, EPOCH_CHECKPOINT, CHECKPOINT_LEADER_EPOCH, j->epochs,
	                         j->epochs_len);
	if (j->rc == 0)
		j->rc = checkpoint_write(dir, PARTITION_CHECKPOINT, CHECKPOINT_PARTITION, j->state,
		                         j->state_len);
	for (unsigned i = 0; j->rc == 0 && i < j->count; i++)
		j->rc = segment_delete_files(dir, j->bases[i]);
}

static void delete_done(struct io_job *job)
{
	struct delete_job *j = container_of(job, struct delete_job, job);
	struct partition *p = j->part;
	partition_end_job(p);
	if (j->rc < 0) {
		diag_error("%s: deleting old segments failed: %s", p->dir, tape_strerror(j->rc));
		partition_fail(p, j->rc);
	}
	if (j->done)
		j->done(j->arg, j->rc);
	free(j->bases);
	free(j->state);
	free(j->epochs);
	free(j);
}

/* Retires segs[0, n) and moves the log start to at least new_start; then the job. */
static int delete_prefix(struct partition *p, unsigned n, int64_t new_start,
                         void (*done)(void *, int), void *arg)
{
	struct delete_job *j = calloc(1, sizeof(*j));
	if (!j || (n && !(j->bases = malloc(n * sizeof(*j->bases))))) {
		free(j);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++)
		j->bases[i] = p->segs[i]->base_offset;
	if (n && p->segs[n - 1]->next_offset > new_start)
		new_start = p->segs[n - 1]->next_offset;
	if (n && n < p->segs_count && p->segs[n]->base_offset > new_start)
		new_start = p->segs[n]->base_offset;
	if (new_start > p->log_start_offset)
		p->log_start_offset = new_start;
	if (p->high_watermark < p->log_start_offset)
		p->high_watermark = p->log_start_offset;
	leader_epoch_truncate_start(&p->epochs, p->log_start_offset);
	partition_segments_retire(p, 0, n);
	j->count = n;
	j->part = p;
	j->done = done;
	j->arg = arg;
	j->state = partition_checkpoint_encode(p, p->recovery_point, false, &j->state_len);
	j->epochs = leader_epoch_encode(&p->epochs, &j->epochs_len);
	if (!j->state || !j->epochs) {
		free(j->bases);
		free(j->state);
		free(j->epochs);
		free(j);
		return -ENOMEM;
	}
	j->job.run = delete_run;
	j->job.done = delete_done;
	partition_begin_job(p);
	reactor_offload(p->reactor, &j->job);
	if (n)
		diag_info("%s: deleting %u segment(s); log start offset now %lld", p->dir, n,
		          (long long)p->log_start_offset);
	return 0;
}

/* How many of the oldest segments may go: sealed, wholly below the high watermark, and
 * expired by time, over the size limit, or below the log start offset. */
static unsigned deletable(const struct partition *p, int64_t now_ms)
{
	uint64_t total = partition_size_bytes(p);
	unsigned n = 0;
	while (n + 1 < p->segs_count) {
		const struct segment *seg = p->segs[n];
		if (seg->state != SEGMENT_SEALED || seg->next_offset > p->high_watermark)
			break;
		bool below_start = p->segs[n + 1]->base_offset <= p->log_start_offset;
		bool by_time = p->cfg.cleanup_delete && p->cfg.retention_ms >= 0 &&
		               seg->max_timestamp < now_ms - p->cfg.retention_ms;
		bool by_size = p->cfg.cleanup_delete && p->cfg.retention_bytes >= 0 &&
		               total - seg->size >= (uint64_t)p->cfg.retention_bytes;
		if (!below_start && !by_time && !by_size)
			break;
		total -= seg->size;
		n++;
	}
	return n;
}

int partition_retention_run(struct partition *p, int64_t now_ms, void (*done)(void *, int),
                            void *arg)
{
	if (p->failed)
		return -TAPE_EFAILED;
	if (p->compacting || p->truncating || p->closing)
		return -TAPE_EBUSY;
	unsigned n = deletable(p, now_ms);
	if (n == 0)
		return 0;
	int rc = delete_prefix(p, n, p->log_start_offset, done, arg);
	return rc < 0 ? rc : (int)n;
}

int partition_delete_records(struct partition *p, int64_t offset, void (*done)(void *, int),
                             void *arg)
{
	if (p->failed)
		return -TAPE_EFAILED;
	if (p->compacting || p->truncating || p->closing)
		return -TAPE_EBUSY;
	if (offset > p->high_watermark || offset < 0)
		return -TAPE_ERANGE;
	if (offset <= p->log_start_offset)
		offset = p->log_start_offset;
	unsigned n = 0;
	while (n + 1 < p->segs_count && p->segs[n + 1]->base_offset <= offset &&
	       p->segs[n]->state == SEGMENT_SEALED)
		n++;
	p->log_start_offset = offset;
	return delete_prefix(p, n, offset, done, arg);
}

/* ---- truncation ------------------------------------------------------------------------ */

struct truncate_job {
	struct io_job job;
	struct io_op op; /* for answering a truncation with nothing to do */
	struct partition *part;
	int64_t offset;      /* requested */
	int64_t new_end;     /* the resulting log end offset */
	struct segment *seg; /* the segment holding the new end (pinned) */
	int64_t *delete_bases;
	unsigned delete_count;
	uint64_t cut_position;
	int64_t scanned_max_timestamp;
	bool restart; /* nothing stays: a fresh segment at offset */
	struct segment *fresh;
	struct producer_state producers;
	struct leader_epoch_cache epochs;
	uint8_t *state;
	size_t state_len;
	int64_t log_start;
	int rc;
	void (*done)(void *, int);
	void *arg;
};

/* The position of the first batch in seg reaching offset, from an index entry before it. */
static int find_cut(struct truncate_job *j)
{
	struct segment *seg = j->seg;
	uint64_t from = 0;
	struct offset_index_entry e;
	if (j->offset > seg->base_offset &&
	    offset_index_lookup(&seg->oidx, (uint32_t)(j->offset - seg->base_offset - 1), &e))
		from = e.position;
	struct batch_reader br;
	int rc = batch_reader_init(&br, seg->fd, from, seg->size, 0, BATCH_BYTES_MAX);
	if (rc < 0)
		return rc;
	const uint8_t *b;
	struct record_batch_header h;
	uint64_t pos;
	j->cut_position = seg->size;
	j->new_end = seg->next_offset;
	j->scanned_max_timestamp = -1;
	while (batch_reader_next(&br, &b, &h, &pos) == BATCH_OK) {
		if (record_batch_last_offset(&h) >= j->offset) {
			j->cut_position = pos;
			j->new_end = h.base_offset;
			break;
		}
		if (h.max_timestamp > j->scanned_max_timestamp)
			j->scanned_max_timestamp = h.max_timestamp;
	}
	batch_reader_free(&br);
	if (j->new_end > j->offset)
		j->new_end = j->offset;
	return 0;
}

/* Producer state as of new_end: the snapshot if it is not past it, then the log. */
static void rebuild_producers(struct truncate_job *j, struct segment **segs, unsigned n)
{
	struct partition *p = j->part;
	uint8_t *buf;
	size_t len;
	int64_t from = j->log_start;
	if (checkpoint_read(p->dir, PRODUCER_CHECKPOINT, CHECKPOINT_PRODUCER_STATE, &buf, &len) ==
	    0) {
		int64_t snap;
		if (producer_state_decode(&j->producers, buf, len, &snap) == 0 &&
		    snap <= j->new_end && snap >= j->log_start)
			from = snap;
		else
			producer_state_clear(&j->producers);
		free(buf);
	}
	for (unsigned i = 0; i < n; i++) {
		struct segment *seg = segs[i];
		uint64_t end = seg == j->seg ? j->cut_position : seg->size;
		if (seg->next_offset <= from)
			continue;
		struct batch_reader br;
		if (batch_reader_init(&br, seg->fd, 0, end, 0, BATCH_BYTES_MAX) < 0)
			continue;
		const uint8_t *b;
		struct record_batch_header h;
		uint64_t pos;
		while (batch_reader_next(&br, &b, &h, &pos) == BATCH_OK)
			if (h.base_offset >= from && h.base_offset < j->new_end)
				producer_state_update(&j->producers, &h);
		batch_reader_free(&br);
	}
}

static void truncate_run(struct io_job *job)
{
	struct truncate_job *j = container_of(job, struct truncate_job, job);
	struct partition *p = j->part;
	const char *dir = p->dir;
	for (unsigned i = 0; j->rc == 0 && i < j->delete_count; i++)
		j->rc = segment_delete_files(dir, j->delete_bases[i]);
	if (j->rc)
		return;
	if (j->restart) {
		j->rc = segment_create(dir, j->offset, SEGMENT_PREALLOC_BYTES, clock_wall_ms(),
		                       &j->fresh);
		j->new_end = j->offset;
	} else {
		j->rc = find_cut(j);
		if (j->rc == 0 && ftruncate(j->seg->fd, (off_t)j->cut_position) < 0)
			j->rc = -errno;
		if (j->rc == 0 && fsync(j->seg->fd) < 0)
			j->rc = -errno;
		if (j->rc == 0) {
			char path[4096];
			segment_path(path, sizeof(path), dir, j->seg->base_offset, ".digest");
			unlink(path); /* the segment is active again */
			j->rc = checkpoint_sync_dir(dir);
		}
	}
	if (j->rc)
		return;
	/* segs[0 .. holding segment] are stable: appends, rolls and jobs are stopped. */
	unsigned keep = 0;
	while (!j->restart && keep < p->segs_count && p->segs[keep] != j->seg)
		keep++;
	rebuild_producers(j, p->segs, j->restart ? 0 : keep + 1);
	leader_epoch_truncate_end(&j->epochs, j->new_end);
	size_t len;
	uint8_t *buf = leader_epoch_encode(&j->epochs, &len);
	j->rc = buf ? checkpoint_write(dir, EPOCH_CHECKPOINT, CHECKPOINT_LEADER_EPOCH, buf, len)
	            : -ENOMEM;
	free(buf);
	if (j->rc == 0) {
		buf = producer_state_encode(&j->producers, j->new_end, &len);
		j->rc = buf ? checkpoint_write(dir, PRODUCER_CHECKPOINT, CHECKPOINT_PRODUCER_STATE,
		                               buf, len)
		            : -ENOMEM;
		free(buf);
	}
	if (j->rc == 0) {
		/* The state payload carries the new end as recovery point: it was synced above. */
		uint8_t *q = j->state;
		for (int k = 0; k < 8; k++)
			q[k] = (uint8_t)((uint64_t)j->new_end >> (56 - 8 * k));
		j->rc = checkpoint_write(dir, PARTITION_CHECKPOINT, CHECKPOINT_PARTITION, j->state,
		                         j->state_len);
	}
}

static void truncate_finish(struct truncate_job *j)
{
	struct partition *p = j->part;
	p->truncating = false;
	if (j->done)
		j->done(j->arg, j->rc);
	producer_state_free(&j->producers);
	leader_epoch_free(&j->epochs);
	free(j->delete_bases);
	free(j->state);
	free(j);
}

static void apply_truncation(struct truncate_job *j)
{
	struct partition *p = j->part;
	if (j->restart) {
		partition_segments_retire(p, 0, p->segs_count);
		partition_segs_push(p, j->fresh); /* room: the array just emptied */
		p->log_start_offset = j->offset;
		p->epochs.count = 0; /* j->epochs is empty too: none was copied */
	} else {
		struct segment *seg = j->seg;
		unsigned idx = 0;
		while (p->segs[idx] != seg)
			idx++;
		partition_segments_retire(p, idx + 1, p->segs_count - idx - 1);
		offset_index_truncate_position(&seg->oidx, (uint32_t)j->cut_position);
		time_index_truncate_offset(&seg->tidx, (uint32_t)(j->new_end - seg->base_offset));
		struct time_index_entry te;
		seg->max_timestamp = j->scanned_max_timestamp;
		if (time_index_last(&seg->tidx, &te) && te.timestamp > seg->max_timestamp)
			seg->max_timestamp = te.timestamp;
		seg->size = seg->reserved = seg->prealloc_end = j->cut_position;
		seg->next_offset = seg->synced_next_offset = j->new_end;
		seg->state = SEGMENT_ACTIVE;
		seg->bytes_since_index = 0;
		seg->refs--;
	}
	p->next_offset = p->written_end = p->recovery_point = j->new_end;
	if (p->durable_end > j->new_end)
		p->durable_end = j->new_end;
	if (p->high_watermark > j->new_end || (j->restart && p->high_watermark < j->new_end))
		p->high_watermark = j->new_end;
	leader_epoch_truncate_end(&p->epochs, j->new_end);
	producer_state_free(&p->producers);
	p->producers = j->producers;
	producer_state_init(&j->producers);
	memset(p->read_cache, 0, sizeof(p->read_cache));
	diag_info("%s: truncated to offset %lld (log end offset now %lld)", p->dir,
	          (long long)j->offset, (long long)j->new_end);
}

static void truncate_done(struct io_job *job)
{
	struct truncate_job *j = container_of(job, struct truncate_job, job);
	struct partition *p = j->part;
	partition_end_job(p);
	if (j->rc < 0) {
		if (j->seg)
			j->seg->refs--;
		diag_error("%s: truncation to %lld failed: %s", p->dir, (long long)j->offset,
		           tape_strerror(j->rc));
		partition_fail(p, j->rc);
	} else {
		apply_truncation(j);
		partition_notify(p);
	}
	truncate_finish(j);
}

static void truncate_noop(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct truncate_job *j = container_of(op, struct truncate_job, op);
	partition_end_job(j->part);
	truncate_finish(j);
}

/* fully: nothing stays, the log restarts empty at offset (which may be past the LEO). */
static int truncate_start(struct partition *p, int64_t offset, bool fully,
                          void (*done)(void *, int), void *arg)
{
	if (p->failed)
		return -TAPE_EFAILED;
	if (offset < 0)
		return -TAPE_ERANGE;
	if (p->closing || p->truncating || p->compacting || p->rolling || p->inflight_count ||
	    p->pending_count || p->jobs_inflight)
		return -TAPE_EBUSY;
	struct truncate_job *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->part = p;
	j->offset = offset;
	j->done = done;
	j->arg = arg;
	j->log_start = p->log_start_offset;
	producer_state_init(&j->producers);
	leader_epoch_init(&j->epochs);
	p->truncating = true;
	partition_begin_job(p);
	if (!fully && offset >= p->next_offset) {
		reactor_defer(p->reactor, &j->op, truncate_noop, 0);
		return 0;
	}
	int idx = fully || offset <= p->log_start_offset ? -1 : partition_find_segment(p, offset);
	if (fully || idx < 0 ||
	    (idx == 0 && offset <= p->segs[0]->base_offset && offset <= p->log_start_offset)) {
		j->restart = true;
		j->log_start = offset;
		idx = -1;
	} else {
		j->seg = p->segs[idx];
		j->seg->refs++;
	}
	unsigned first_delete = (unsigned)(idx + 1);
	j->delete_count = p->segs_count - first_delete;
	j->delete_bases = malloc((j->delete_count ? j->delete_count : 1) * sizeof(int64_t));
	for (unsigned i = 0; j->delete_bases && i < j->delete_count; i++)
		j->delete_bases[i] = p->segs[first_delete + i]->base_offset;
	/* Copy the epochs; the partition checkpoint payload is patched with the new end. A log
	 * that restarts keeps none: they described records that are gone. */
	for (size_t i = 0; !j->restart && i < p->epochs.count; i++)
		leader_epoch_assign(&j->epochs, p->epochs.entries[i].epoch,
		                    p->epochs.entries[i].start_offset);
	int64_t saved = p->log_start_offset, saved_hw = p->high_watermark;
	p->log_start_offset = j->log_start;
	if (fully && p->high_watermark < offset)
		p->high_watermark = offset;
	j->state = partition_checkpoint_encode(p, 0, false, &j->state_len);
	p->log_start_offset = saved;
	p->high_watermark = saved_hw;
	if (!j->delete_bases || !j->state) {
		if (j->seg)
			j->seg->refs--;
		p->truncating = false;
		partition_end_job(p);
		free(j->delete_bases);
		free(j->state);
		free(j);
		return -ENOMEM;
	}
	/* Readers stop at the new end at once. */
	if (p->written_end > offset)
		p->written_end = offset;
	if (p->durable_end > offset)
		p->durable_end = offset;
	if (fully)
		p->written_end = p->durable_end = p->log_start_offset; /* nothing is readable */
	j->job.run = truncate_run;
	j->job.done = truncate_done;
	reactor_offload(p->reactor, &j->job);
	return 0;
}

int partition_truncate_to(struct partition *p, int64_t offset, void (*done)(void *, int), void *arg)
{
	return truncate_start(p, offset, false, done, arg);
}

int partition_truncate_fully(struct partition *p, int64_t offset, void (*done)(void *, int),
                             void *arg)
{
	return truncate_start(p, offset, true, done, arg);
}
