/*
 * log/partition.c: appends, group commit, segment roll and seal, the failed state. Owns the
 * write path of one partition; recovery (open) is in recovery.c, reads in log_read.c,
 * retention and truncation in retention.c. Knows the RecordBatch header, not the network.
 *
 * An append, from the caller's buffer to durable:
 *
 *   partition_append --validate--> [pending, while a roll runs] --assign offsets, stamp-->
 *   write submitted (inflight FIFO) --write completes--> drained in order from the FIFO head:
 *   indexes updated (D5), written end advances, done(a) --deferred step of the turn-->
 *   one fdatasync of the active segment covering every write completed so far (group
 *   commit) --completes--> durable end advances (D2), progress callback.
 *
 * Roll: when the next append would pass segment.bytes or segment.ms, a helper job creates the
 * next segment and syncs the directory (D3); appends wait in the pending queue meanwhile. The
 * old segment, once its writes complete, is sealed by another job (sync, cut to size,
 * sidecars); the recovery point can then move past it (D6).
 */
#include "log/partition_internal.h"

#include "base/assert.h"
#include "base/clock.h"
#include "base/diag.h"
#include "base/endian.h"
#include "base/errors.h"
#include "base/limits.h"
#include "log/checkpoint.h"

#include <errno.h>
#include <sys/uio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

void partition_config_default(struct partition_config *cfg)
{
	*cfg = (struct partition_config){
		.segment_bytes = SEGMENT_BYTES_DEFAULT,
		.segment_ms = 7 * 24 * 3600 * 1000ll,
		.flush_mode = FLUSH_FSYNC,
		.flush_interval_ms = 1000,
		.flush_messages = INT64_MAX,
		.retention_ms = 7 * 24 * 3600 * 1000ll,
		.retention_bytes = -1,
		.max_batch_bytes = BATCH_BYTES_DEFAULT,
		.cleanup_delete = true,
		.cleanup_compact = false,
		.delete_retention_ms = 24 * 3600 * 1000ll,
		.log_append_time = false,
		.index_interval_bytes = INDEX_INTERVAL_BYTES,
		.producer_expiration_ms = 24 * 3600 * 1000ll,
	};
}

int partition_config_check(const struct partition_config *cfg)
{
	if (cfg->segment_bytes < SEGMENT_BYTES_MIN || cfg->segment_bytes > SEGMENT_BYTES_MAX)
		return -TAPE_ECONFIG;
	if (cfg->max_batch_bytes < RB_HEADER_BYTES || cfg->max_batch_bytes > BATCH_BYTES_MAX)
		return -TAPE_ECONFIG;
	if (cfg->segment_ms < 0 || cfg->flush_interval_ms < 1 || cfg->delete_retention_ms < 0)
		return -TAPE_ECONFIG;
	if (cfg->retention_ms < -1 || cfg->retention_bytes < -1)
		return -TAPE_ECONFIG;
	if (cfg->index_interval_bytes < 1 || cfg->producer_expiration_ms < 1 ||
	    cfg->flush_messages < 1)
		return -TAPE_ECONFIG;
	if (cfg->flush_mode != FLUSH_FSYNC && cfg->flush_mode != FLUSH_INTERVAL &&
	    cfg->flush_mode != FLUSH_NONE)
		return -TAPE_ECONFIG;
	return 0;
}

/* ---- small accessors ------------------------------------------------------------------ */

int64_t partition_log_start_offset(const struct partition *p)
{
	return p->log_start_offset;
}
int64_t partition_log_end_offset(const struct partition *p)
{
	return p->next_offset;
}
int64_t partition_written_end(const struct partition *p)
{
	return p->written_end;
}
int64_t partition_durable_end(const struct partition *p)
{
	return p->durable_end;
}
int64_t partition_recovery_point(const struct partition *p)
{
	return p->recovery_point;
}
int partition_failed(const struct partition *p)
{
	return p->failed;
}
unsigned partition_segments_count(const struct partition *p)
{
	return p->segs_count;
}
const char *partition_dir(const struct partition *p)
{
	return p->dir;
}
const struct partition_config *partition_config(const struct partition *p)
{
	return &p->cfg;
}
int32_t partition_leader_epoch(const struct partition *p)
{
	return p->leader_epoch;
}
const struct leader_epoch_cache *partition_epochs(const struct partition *p)
{
	return &p->epochs;
}
int64_t partition_high_watermark(const struct partition *p)
{
	return p->high_watermark;
}

const struct producer_state *partition_producers(const struct partition *p)
{
	return &p->producers;
}

uint64_t partition_size_bytes(const struct partition *p)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < p->segs_count; i++)
		n += p->segs[i]->size;
	return n;
}

void partition_set_progress(struct partition *p, partition_progress_fn fn, void *arg)
{
	p->progress = fn;
	p->progress_arg = arg;
}

static void flush_schedule(struct partition *p);
static void interval_arm(struct partition *p);

int partition_set_config(struct partition *p, const struct partition_config *cfg)
{
	int rc = partition_config_check(cfg);
	if (rc < 0)
		return rc;
	enum flush_mode was = p->cfg.flush_mode;
	p->cfg = *cfg;
	/* A change of flush.mode applies to what is already written: fsync syncs it now (the
	 * high watermark waits for the durable end from here on), interval starts its timer. */
	if (p->reactor && !p->closing && cfg->flush_mode != was) {
		flush_schedule(p);
		interval_arm(p);
	}
	return 0;
}

void partition_set_high_watermark(struct partition *p, int64_t hw)
{
	if (hw > p->next_offset)
		hw = p->next_offset;
	p->high_watermark = hw;
}

void partition_notify(struct partition *p)
{
	if (p->progress)
		p->progress(p, p->progress_arg);
}

void partition_begin_job(struct partition *p)
{
	p->jobs_inflight++;
}
void partition_end_job(struct partition *p)
{
	p->jobs_inflight--;
}

/* ---- the segment set ------------------------------------------------------------------ */

int partition_segs_push(struct partition *p, struct segment *seg)
{
	if (p->segs_count >= SEGMENTS_PER_PARTITION_MAX)
		return -TAPE_ETOOLARGE;
	if (p->segs_count == p->segs_cap) {
		unsigned cap = p->segs_cap ? p->segs_cap * 2 : 8;
		struct segment **s = realloc(p->segs, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		p->segs = s;
		p->segs_cap = cap;
	}
	p->segs[p->segs_count++] = seg;
	return 0;
}

int partition_find_segment(const struct partition *p, int64_t offset)
{
	int lo = 0, hi = (int)p->segs_count - 1, found = -1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		if (p->segs[mid]->base_offset <= offset) {
			found = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return found;
}

static void release_if_unused(struct partition *p, struct segment *seg)
{
	if (!seg->deleted || seg->refs)
		return;
	for (struct segment **s = &p->deleted; *s; s = &(*s)->next_deleted)
		if (*s == seg) {
			*s = seg->next_deleted;
			break;
		}
	segment_free(seg);
}

void partition_segment_unpin(struct partition *p, struct segment *seg)
{
	ASSERT(seg->refs > 0);
	seg->refs--;
	release_if_unused(p, seg);
}

void partition_segments_retire(struct partition *p, unsigned first, unsigned n)
{
	ASSERT(first + n <= p->segs_count);
	for (unsigned i = first; i < first + n; i++) {
		struct segment *seg = p->segs[i];
		seg->deleted = true;
		seg->next_deleted = p->deleted;
		p->deleted = seg;
	}
	memmove(p->segs + first, p->segs + first + n,
	        (p->segs_count - first - n) * sizeof(*p->segs));
	p->segs_count -= n;
	memset(p->read_cache, 0, sizeof(p->read_cache));
	for (struct segment *seg = p->deleted, *next; seg; seg = next) {
		next = seg->next_deleted;
		release_if_unused(p, seg);
	}
}

void partition_segment_replace(struct partition *p, unsigned i, struct segment *fresh)
{
	ASSERT(i + 1 < p->segs_count); /* never the active segment */
	struct segment *old = p->segs[i];
	ASSERT(old->state == SEGMENT_SEALED && fresh->base_offset == old->base_offset);
	old->deleted = true;
	old->next_deleted = p->deleted;
	p->deleted = old;
	p->segs[i] = fresh;
	memset(p->read_cache, 0, sizeof(p->read_cache));
	release_if_unused(p, old);
}

bool partition_in_quarantine(const struct partition *p, int64_t start, int64_t end,
                             int64_t *quarantine_end)
{
	for (unsigned i = 0; i < p->quarantine_count; i++) {
		const struct quarantine_range *q = &p->quarantine[i];
		if (start < q->end && end > q->start) {
			if (quarantine_end)
				*quarantine_end = q->end;
			return true;
		}
	}
	return false;
}

/* ---- the failed state (D4) ------------------------------------------------------------ */

static void complete_pending(struct partition *p, int err)
{
	while (p->pending_head) {
		struct partition_append *a = p->pending_head;
		p->pending_head = a->next;
		p->pending_count--;
		a->done(a, err);
	}
	p->pending_tail = NULL;
}

void partition_fail(struct partition *p, int err)
{
	if (p->failed)
		return;
	p->failed = err < 0 ? err : -EIO;
	p->failed_offset = p->written_end;
	diag_error("partition %s failed: %s; refusing appends until it is reopened from disk",
	           p->dir, tape_strerror(err));
	complete_pending(p, -TAPE_EFAILED);
	partition_notify(p);
}

/* ---- durability ----------------------------------------------------------------------- */

void partition_update_durable(struct partition *p)
{
	if (p->failed)
		return; /* D4 */
	/* The earliest segment not wholly synced (or with writes still in flight) caps the
	 * durable end; sealed segments were synced by their seal. */
	int64_t durable = partition_active(p)->synced_next_offset;
	for (unsigned i = p->segs_count - 1; i-- > 0;) {
		struct segment *seg = p->segs[i];
		if (seg->state == SEGMENT_SEALED)
			break;
		if (seg->writes_inflight || seg->synced_next_offset < seg->next_offset)
			durable = seg->synced_next_offset;
	}
	if (durable > p->written_end)
		durable = p->written_end;
	if (durable > p->durable_end) {
		ASSERT(durable >= p->log_start_offset); /* D1 */
		p->durable_end = durable;
	}
}

static void flush_start(struct partition *p);
static struct segment *unsynced_segment(const struct partition *p);
static void interval_arm(struct partition *p);

static void flush_done(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct partition *p = container_of(op, struct partition, flush_op);
	p->flush_inflight = false;
	p->ops_inflight--;
	if (res < 0) {
		partition_fail(p, res);
		return;
	}
	if (p->flush_target > p->flush_seg->synced_next_offset)
		p->flush_seg->synced_next_offset = p->flush_target; /* D2 */
	partition_update_durable(p);
	partition_notify(p);
	if (p->cfg.flush_mode == FLUSH_FSYNC && unsynced_segment(p))
		flush_start(p);
	interval_arm(p);
}

/* The segment the next fdatasync is for: the earliest unsealed one with completed writes not
 * yet synced. A segment being sealed is synced here too, so the durable end passes it as soon
 * as its data is on disk instead of waiting for its seal (sidecars, digest). */
static struct segment *unsynced_segment(const struct partition *p)
{
	struct segment *found = NULL;
	for (unsigned i = p->segs_count; i-- > 0;) {
		struct segment *seg = p->segs[i];
		if (seg->state == SEGMENT_SEALED)
			break;
		if (seg->next_offset > seg->synced_next_offset)
			found = seg;
	}
	return found;
}

/* Submits one fdatasync covering every completed write of one segment (group commit). */
static void flush_start(struct partition *p)
{
	struct segment *seg = unsynced_segment(p);
	if (p->failed || p->flush_inflight || !seg)
		return;
	p->flush_inflight = true;
	p->flush_seg = seg;
	p->flush_target = seg->next_offset;
	p->ops_inflight++;
	reactor_fsync(p->reactor, &p->flush_op, flush_done, seg->fd, true);
}

static void flush_deferred(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct partition *p = container_of(op, struct partition, flush_defer);
	p->flush_scheduled = false;
	p->ops_inflight--;
	flush_start(p);
}

/* Group commit: flush once, at the deferred step of this turn, after every completion the
 * turn reaped. */
static void flush_schedule(struct partition *p)
{
	if (p->cfg.flush_mode != FLUSH_FSYNC || p->flush_scheduled || p->failed)
		return;
	p->flush_scheduled = true;
	p->ops_inflight++;
	reactor_defer(p->reactor, &p->flush_defer, flush_deferred, 0);
}

static void flush_timer_fired(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct partition *p = container_of(op, struct partition, flush_timer.op);
	p->ops_inflight--;
	if (p->closing || p->failed || p->cfg.flush_mode != FLUSH_INTERVAL)
		return;
	flush_start(p);
}

/* FLUSH_INTERVAL: a timer runs only while something written is not yet synced, so idle
 * partitions cost nothing. */
static void interval_arm(struct partition *p)
{
	struct segment *active = partition_active(p);
	if (p->cfg.flush_mode != FLUSH_INTERVAL || p->flush_timer.armed || p->closing ||
	    p->failed || active->next_offset <= active->synced_next_offset)
		return;
	p->ops_inflight++;
	reactor_timer_start(p->reactor, &p->flush_timer, flush_timer_fired,
	                    (uint64_t)p->cfg.flush_interval_ms * 1000000u);
}

/* ---- seal ------------------------------------------------------------------------------ */

struct seal_job {
	struct io_job job;
	struct partition *part;
	struct segment *seg;
	int rc;
};

static void seal_run(struct io_job *job)
{
	struct seal_job *j = container_of(job, struct seal_job, job);
	j->rc = segment_seal(j->seg, j->part->dir);
}

static void recovery_point_advance(struct partition *p);

static void seal_done(struct io_job *job)
{
	struct seal_job *j = container_of(job, struct seal_job, job);
	struct partition *p = j->part;
	struct segment *seg = j->seg;
	int rc = j->rc;
	free(j);
	partition_end_job(p);
	if (rc < 0) {
		diag_error("sealing segment %lld of %s failed: %s", (long long)seg->base_offset,
		           p->dir, tape_strerror(rc));
		partition_fail(p, rc);
		return;
	}
	seg->state = SEGMENT_SEALED;
	seg->synced_next_offset = seg->next_offset;
	seg->prealloc_end = seg->size;
	partition_update_durable(p);
	partition_notify(p);
	recovery_point_advance(p);
}

static void seal_start(struct partition *p, struct segment *seg)
{
	ASSERT(seg->state == SEGMENT_SEALING && seg->writes_inflight == 0);
	if (p->failed)
		return;
	struct seal_job *j = calloc(1, sizeof(*j));
	if (!j) {
		partition_fail(p, -ENOMEM);
		return;
	}
	/* The final time index entry, as Kafka adds on roll. */
	if (seg->next_offset > seg->base_offset)
		time_index_maybe_append(&seg->tidx, seg->max_timestamp,
		                        (uint32_t)(seg->next_offset - 1 - seg->base_offset));
	j->part = p;
	j->seg = seg;
	j->job.run = seal_run;
	j->job.done = seal_done;
	partition_begin_job(p);
	reactor_offload(p->reactor, &j->job);
}

/* ---- checkpoints ----------------------------------------------------------------------- */

uint8_t *partition_checkpoint_encode(const struct partition *p, int64_t recovery_point, bool clean,
                                     size_t *len)
{
	size_t size = 8 * 3 + 1 + 4 + p->quarantine_count * 16;
	uint8_t *buf = malloc(size);
	if (!buf)
		return NULL;
	uint8_t *q = buf;
	store_be64(q, (uint64_t)recovery_point);
	store_be64(q + 8, (uint64_t)p->log_start_offset);
	store_be64(q + 16, (uint64_t)p->high_watermark);
	q[24] = clean;
	store_be32(q + 25, p->quarantine_count);
	q += 29;
	for (unsigned i = 0; i < p->quarantine_count; i++, q += 16) {
		store_be64(q, (uint64_t)p->quarantine[i].start);
		store_be64(q + 8, (uint64_t)p->quarantine[i].end);
	}
	*len = size;
	return buf;
}

struct checkpoint_job {
	struct io_job job;
	struct partition *part;
	uint8_t *state, *epochs, *producers;
	size_t state_len, epochs_len, producers_len;
	int64_t recovery_point;
	int rc;
	void (*done)(void *, int);
	void *arg;
};

static void checkpoint_run(struct io_job *job)
{
	struct checkpoint_job *j = container_of(job, struct checkpoint_job, job);
	const char *dir = j->part->dir;
	/* Epochs and producers first: the partition checkpoint's recovery point promises that
	 * everything it needs up to there is on disk. */
	j->rc = checkpoint_write(dir, EPOCH_CHECKPOINT, CHECKPOINT_LEADER_EPOCH, j->epochs,
	                         j->epochs_len);
	if (j->rc == 0 && j->producers)
		j->rc = checkpoint_write(dir, PRODUCER_CHECKPOINT, CHECKPOINT_PRODUCER_STATE,
		                         j->producers, j->producers_len);
	if (j->rc == 0)
		j->rc = checkpoint_write(dir, PARTITION_CHECKPOINT, CHECKPOINT_PARTITION, j->state,
		                         j->state_len);
}

static void checkpoint_done(struct io_job *job)
{
	struct checkpoint_job *j = container_of(job, struct checkpoint_job, job);
	struct partition *p = j->part;
	partition_end_job(p);
	if (j->rc < 0) {
		diag_error("checkpoint of %s failed: %s", p->dir, tape_strerror(j->rc));
		partition_fail(p, j->rc);
	} else if (j->recovery_point > p->recovery_point) {
		p->recovery_point = j->recovery_point;
	}
	if (j->done)
		j->done(j->arg, j->rc);
	free(j->state);
	free(j->epochs);
	free(j->producers);
	free(j);
}

/* The recovery point a checkpoint may claim now: the start of the first segment that is not
 * sealed (every segment before it was synced, D6). */
static int64_t sealed_prefix_end(const struct partition *p)
{
	for (unsigned i = 0; i < p->segs_count; i++)
		if (p->segs[i]->state != SEGMENT_SEALED)
			return p->segs[i]->base_offset;
	return p->next_offset;
}

int partition_checkpoint(struct partition *p, void (*done)(void *, int), void *arg)
{
	if (p->failed)
		return -TAPE_EFAILED;
	struct checkpoint_job *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	int64_t rp = sealed_prefix_end(p);
	if (rp < p->recovery_point)
		rp = p->recovery_point;
	j->part = p;
	j->recovery_point = rp;
	j->done = done;
	j->arg = arg;
	j->state = partition_checkpoint_encode(p, rp, false, &j->state_len);
	j->epochs = leader_epoch_encode(&p->epochs, &j->epochs_len);
	/* Producer state as of the written end: replay on recovery starts from there. */
	j->producers = producer_state_encode(&p->producers, p->next_offset, &j->producers_len);
	if (!j->state || !j->epochs || !j->producers) {
		free(j->state);
		free(j->epochs);
		free(j->producers);
		free(j);
		return -ENOMEM;
	}
	j->job.run = checkpoint_run;
	j->job.done = checkpoint_done;
	partition_begin_job(p);
	reactor_offload(p->reactor, &j->job);
	return 0;
}

static void recovery_point_advance(struct partition *p)
{
	if (sealed_prefix_end(p) > p->recovery_point && !p->closing)
		partition_checkpoint(p, NULL, NULL);
}

/* ---- roll ------------------------------------------------------------------------------ */

struct roll_job {
	struct io_job job;
	struct partition *part;
	int64_t base_offset;
	uint64_t prealloc;
	int64_t now_ms;
	struct segment *seg;
	int rc;
};

static void roll_run(struct io_job *job)
{
	struct roll_job *j = container_of(job, struct roll_job, job);
	j->rc = segment_create(j->part->dir, j->base_offset, j->prealloc, j->now_ms, &j->seg);
}

static void process_pending(struct partition *p);

static void roll_done(struct io_job *job)
{
	struct roll_job *j = container_of(job, struct roll_job, job);
	struct partition *p = j->part;
	int rc = j->rc;
	struct segment *seg = j->seg;
	free(j);
	partition_end_job(p);
	p->rolling = false;
	if (rc == 0 && (p->failed || p->closing)) {
		segment_free(seg);
		rc = p->failed ? p->failed : -TAPE_ECLOSED;
	}
	if (rc < 0) {
		if (!p->failed)
			partition_fail(p, rc);
		complete_pending(p, -TAPE_EFAILED);
		return;
	}
	rc = partition_segs_push(p, seg);
	if (rc < 0) {
		segment_free(seg);
		partition_fail(p, rc);
		return;
	}
	struct segment *old = p->segs[p->segs_count - 2];
	old->state = SEGMENT_SEALING;
	if (old->writes_inflight == 0)
		seal_start(p, old);
	process_pending(p);
}

static void roll_start(struct partition *p)
{
	struct roll_job *j = calloc(1, sizeof(*j));
	if (!j) {
		partition_fail(p, -ENOMEM);
		return;
	}
	j->part = p;
	j->base_offset = p->next_offset;
	j->prealloc = p->cfg.segment_bytes < SEGMENT_PREALLOC_BYTES ? p->cfg.segment_bytes
	                                                            : SEGMENT_PREALLOC_BYTES;
	j->now_ms = clock_wall_ms();
	j->job.run = roll_run;
	j->job.done = roll_done;
	p->rolling = true;
	partition_begin_job(p);
	reactor_offload(p->reactor, &j->job);
}

static bool needs_roll(const struct partition *p, const struct partition_append *a, int64_t now_ms)
{
	const struct segment *seg = partition_active(p);
	if (seg->reserved == 0)
		return false;
	if (seg->reserved + a->len > p->cfg.segment_bytes)
		return true;
	if (p->cfg.segment_ms > 0 && now_ms - seg->created_ms >= p->cfg.segment_ms)
		return true;
	/* Index entries hold 32-bit relative offsets. */
	int64_t last = a->origin == APPEND_REPLICA ? a->last_offset : p->next_offset + a->span - 1;
	return last - seg->base_offset > INT32_MAX;
}

/* ---- append ---------------------------------------------------------------------------- */

static void prealloc_done(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct partition *p = container_of(op, struct partition, prealloc_op);
	p->ops_inflight--;
	struct segment *seg = partition_active(p);
	seg->prealloc_inflight = false;
	if (res == 0)
		seg->prealloc_end += SEGMENT_PREALLOC_BYTES;
}

static void maybe_preallocate(struct partition *p, struct segment *seg)
{
	if (seg->prealloc_inflight || seg->prealloc_end >= p->cfg.segment_bytes + BATCH_BYTES_MAX ||
	    seg->reserved + SEGMENT_PREALLOC_BYTES / 2 < seg->prealloc_end)
		return;
	seg->prealloc_inflight = true;
	p->ops_inflight++;
	reactor_fallocate(p->reactor, &p->prealloc_op, prealloc_done, seg->fd, 0, seg->prealloc_end,
	                  SEGMENT_PREALLOC_BYTES);
}

/* Walks the batches of an append that is wholly written, in order (D5). */
static int index_batches(struct partition *p, struct partition_append *a)
{
	struct segment *seg = a->seg;
	for (uint32_t pos = 0; pos < a->len;) {
		struct record_batch_header h;
		record_batch_header_read(a->batches + pos, &h);
		int rc =
		    segment_index_batch(seg, &h, a->position + pos, p->cfg.index_interval_bytes);
		if (rc < 0)
			return rc;
		pos += record_batch_size(&h);
	}
	return 0;
}

static void drain_completed(struct partition *p)
{
	bool progressed = false;
	while (p->inflight_head && p->inflight_head->completed) {
		struct partition_append *a = p->inflight_head;
		p->inflight_head = a->next;
		if (!p->inflight_head)
			p->inflight_tail = NULL;
		p->inflight_count--;
		struct segment *seg = a->seg;
		seg->writes_inflight--;
		int err = a->err;
		if (!err && p->failed && a->last_offset >= p->failed_offset)
			err = -TAPE_EFAILED; /* at or after the failure: never reported */
		if (!err) {
			err = index_batches(p, a);
			if (err < 0)
				partition_fail(p, err);
		}
		if (!err) {
			ASSERT(a->position == seg->size);
			seg->size += a->len;
			p->written_end = a->last_offset + 1;
			progressed = true;
		}
		if (seg->state == SEGMENT_SEALING && seg->writes_inflight == 0)
			seal_start(p, seg);
		a->done(a, err);
	}
	if (progressed) {
		flush_schedule(p);
		struct segment *active = partition_active(p);
		if (p->cfg.flush_mode == FLUSH_INTERVAL &&
		    active->next_offset - active->synced_next_offset >= p->cfg.flush_messages)
			flush_start(p);
		interval_arm(p);
		partition_notify(p);
	}
}

/*
 * Write coalescing: appends are not written one by one. Each turn's appends wait in the
 * unsubmitted queue and, at the turn's deferred step, runs of them that follow each other in
 * one segment go to the file as one writev of up to WRITE_COALESCE_BYTES (the kernel's cost
 * per buffered write dominates small batches: 16 KiB writes ran at about half the rate of
 * 256 KiB ones on this machine's kind).
 */
struct write_group {
	struct io_op op;
	struct partition *part;
	struct segment *seg;
	struct partition_append *first; /* count appends from here in the inflight FIFO */
	unsigned count;
	uint64_t position;
	uint32_t len;
	uint32_t written;
	unsigned iov_first; /* the first iovec with bytes left */
	unsigned iovcnt;
	struct iovec iov[];
};

static void group_finish(struct partition *p, struct write_group *g, int err)
{
	struct partition_append *a = g->first;
	for (unsigned i = 0; i < g->count; i++, a = a->next) {
		a->written = err ? 0 : a->len;
		a->err = err;
		a->completed = true;
	}
	free(g);
	drain_completed(p);
}

static void group_written(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct write_group *g = container_of(op, struct write_group, op);
	struct partition *p = g->part;
	if (res <= 0) {
		int err = res < 0 ? res : -ENOSPC; /* zero bytes written: nothing more will fit */
		bool first = !p->failed;
		partition_fail(p, err);
		if (first || g->first->base_offset < p->failed_offset)
			p->failed_offset = g->first->base_offset;
		group_finish(p, g, -TAPE_EFAILED);
		return;
	}
	g->written += (uint32_t)res;
	if (g->written < g->len) {
		/* A short write: the rest goes to the file right after it. */
		size_t done = (size_t)res;
		while (done && done >= g->iov[g->iov_first].iov_len)
			done -= g->iov[g->iov_first++].iov_len;
		g->iov[g->iov_first].iov_base = (uint8_t *)g->iov[g->iov_first].iov_base + done;
		g->iov[g->iov_first].iov_len -= done;
		reactor_writev(p->reactor, &g->op, group_written, g->seg->fd, g->iov + g->iov_first,
		               g->iovcnt - g->iov_first, g->position + g->written);
		return;
	}
	group_finish(p, g, 0);
}

/* Submits the unsubmitted appends, grouped (see above). */
static void submit_writes(struct partition *p)
{
	while (p->unsubmitted) {
		struct partition_append *first = p->unsubmitted;
		struct segment *seg = first->seg;
		unsigned n = 0;
		uint32_t len = 0;
		for (struct partition_append *a = first;
		     a && a->seg == seg && n < WRITE_COALESCE_IOVS &&
		     (n == 0 || len + a->len <= WRITE_COALESCE_BYTES);
		     a = a->next) {
			len += a->len;
			n++;
		}
		struct write_group *g = malloc(sizeof(*g) + n * sizeof(struct iovec));
		if (!g) {
			partition_fail(p, -ENOMEM);
			return;
		}
		*g = (struct write_group){ .part = p,
			                   .seg = seg,
			                   .first = first,
			                   .count = n,
			                   .position = first->position,
			                   .len = len,
			                   .iovcnt = n };
		struct partition_append *a = first;
		for (unsigned i = 0; i < n; i++, a = a->next)
			g->iov[i] = (struct iovec){ a->batches, a->len };
		p->unsubmitted = a;
		if (p->failed) {
			group_finish(p, g, -TAPE_EFAILED);
			continue;
		}
		reactor_writev(p->reactor, &g->op, group_written, seg->fd, g->iov, n, g->position);
	}
}

static void writes_deferred(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct partition *p = container_of(op, struct partition, write_defer);
	p->write_scheduled = false;
	p->ops_inflight--;
	submit_writes(p);
}

/* Stamps offsets, epochs and append time, records producer state, and submits the write. */
static void submit(struct partition *p, struct partition_append *a, int64_t now_ms)
{
	struct segment *seg = partition_active(p);
	int64_t offset = p->next_offset;
	a->base_offset = offset;
	a->log_append_time = p->cfg.log_append_time ? now_ms : -1;
	for (uint32_t pos = 0; pos < a->len;) {
		uint8_t *b = a->batches + pos;
		struct record_batch_header h;
		record_batch_header_read(b, &h);
		uint32_t size = record_batch_size(&h);
		if (a->origin == APPEND_CLIENT) {
			record_batch_set_base_offset(b, offset);
			record_batch_set_leader_epoch(b, p->leader_epoch);
			if (p->cfg.log_append_time)
				record_batch_set_log_append_time(b, size, now_ms);
			h.base_offset = offset;
			h.partition_leader_epoch = p->leader_epoch;
		} else if (h.partition_leader_epoch > leader_epoch_latest(&p->epochs)) {
			leader_epoch_assign(&p->epochs, h.partition_leader_epoch, h.base_offset);
			p->checkpoint_dirty = true;
		}
		if (producer_state_update(&p->producers, &h) < 0)
			diag_warn("%s: producer state full; idempotence degraded", p->dir);
		offset = record_batch_last_offset(&h) + 1;
		pos += size;
	}
	a->last_offset = offset - 1;
	p->next_offset = offset;
	a->seg = seg;
	a->position = seg->reserved;
	a->written = 0;
	a->completed = false;
	a->err = 0;
	a->next = NULL;
	seg->reserved += a->len;
	seg->writes_inflight++;
	if (p->inflight_tail)
		p->inflight_tail->next = a;
	else
		p->inflight_head = a;
	p->inflight_tail = a;
	p->inflight_count++;
	if (!p->unsubmitted)
		p->unsubmitted = a;
	if (!p->write_scheduled) {
		p->write_scheduled = true;
		p->ops_inflight++;
		reactor_defer(p->reactor, &p->write_defer, writes_deferred, 0);
	}
	maybe_preallocate(p, seg);
}

/* Idempotence check of a client append with one batch. 0 to write, 1 duplicate, or error. */
static int check_producer(struct partition *p, struct partition_append *a)
{
	if (a->origin != APPEND_CLIENT)
		return 0;
	struct record_batch_header h;
	record_batch_header_read(a->batches, &h);
	if (h.producer_id < 0)
		return 0;
	struct producer_batch dup;
	int rc = producer_state_check(&p->producers, &h, &dup);
	if (rc == 1) {
		a->duplicate = true;
		a->base_offset = dup.first_offset;
		a->last_offset = dup.last_offset;
		a->log_append_time = -1;
	}
	return rc;
}

/* Takes a validated append as far as it can go now: refused, answered as a duplicate,
 * parked behind a roll, or submitted. Returns what partition_append returns. */
static int advance(struct partition *p, struct partition_append *a)
{
	int rc = check_producer(p, a);
	if (rc < 0)
		return rc;
	if (rc == 1)
		return 1;
	int64_t now_ms = clock_wall_ms();
	if (a->origin == APPEND_REPLICA && a->base_offset != p->next_offset)
		return -TAPE_ERANGE;
	if (needs_roll(p, a, now_ms)) {
		roll_start(p);
		return 2;
	}
	submit(p, a, now_ms);
	return 0;
}

static void duplicate_done(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct partition_append *a = container_of(op, struct partition_append, op);
	a->part->ops_inflight--;
	a->done(a, 0);
}

static void push_pending_front(struct partition *p, struct partition_append *a)
{
	a->next = p->pending_head;
	p->pending_head = a;
	if (!p->pending_tail)
		p->pending_tail = a;
	p->pending_count++;
}

static int run_one(struct partition *p, struct partition_append *a)
{
	int rc = advance(p, a);
	if (rc == 1) {
		/* Answer the duplicate from the deferred step, never from inside this call. */
		p->ops_inflight++;
		reactor_defer(p->reactor, &a->op, duplicate_done, 0);
		return 0;
	}
	if (rc == 2) {
		push_pending_front(p, a);
		return 0;
	}
	return rc;
}

static void process_pending(struct partition *p)
{
	while (p->pending_head && !p->rolling && !p->failed) {
		struct partition_append *a = p->pending_head;
		p->pending_head = a->next;
		if (!p->pending_head)
			p->pending_tail = NULL;
		p->pending_count--;
		int rc = run_one(p, a);
		if (rc < 0)
			a->done(a, rc);
	}
}

/* Validates every batch of the append; counts them and finds the offsets of replica data. */
static int validate(struct partition *p, struct partition_append *a)
{
	unsigned checks = RB_CHECK_CRC;
	if (a->origin == APPEND_CLIENT)
		checks |= RB_CHECK_RECORDS | RB_CHECK_PRODUCED;
	uint32_t n = 0;
	int64_t span = 0;
	bool idempotent = false;
	int64_t expected = -1;
	for (uint32_t pos = 0; pos < a->len;) {
		if (a->len - pos < RB_HEADER_BYTES)
			return -TAPE_EBADBATCH;
		int32_t length = (int32_t)load_be32(a->batches + pos + RB_BATCH_LENGTH);
		if (length < RB_HEADER_BYTES - RB_LOG_OVERHEAD)
			return -TAPE_EBADBATCH;
		uint64_t size = (uint64_t)length + RB_LOG_OVERHEAD;
		if (size > p->cfg.max_batch_bytes)
			return -TAPE_ETOOLARGE;
		if (size > a->len - pos)
			return -TAPE_EBADBATCH;
		struct record_batch_header h;
		int rc = record_batch_validate(a->batches + pos, size, checks, &h);
		if (rc < 0)
			return rc;
		if (a->origin == APPEND_CLIENT && (h.attributes & RB_ATTR_TRANSACTIONAL))
			return -TAPE_EBADBATCH; /* transactions are not implemented */
		if (a->origin == APPEND_REPLICA) {
			if (expected >= 0 && h.base_offset < expected)
				return -TAPE_EBADBATCH;
			if (n == 0)
				a->base_offset = h.base_offset;
			expected = record_batch_last_offset(&h) + 1;
			a->last_offset = expected - 1;
		}
		idempotent |= h.producer_id >= 0;
		span += (int64_t)h.last_offset_delta + 1;
		pos += (uint32_t)size;
		n++;
	}
	if (n == 0)
		return -TAPE_EBADBATCH;
	/* Producers send one batch per partition per request; the idempotence checks are made
	 * for exactly that shape. */
	if (idempotent && n > 1 && a->origin == APPEND_CLIENT)
		return -TAPE_EBADBATCH;
	a->batches_count = n;
	a->span = span;
	return 0;
}

int partition_append(struct partition *p, struct partition_append *a)
{
	if (p->failed)
		return -TAPE_EFAILED;
	if (p->closing)
		return -TAPE_ECLOSED;
	if (p->truncating || p->inflight_count + p->pending_count >= APPENDS_IN_FLIGHT_MAX)
		return -TAPE_EBUSY;
	a->part = p;
	a->duplicate = false;
	a->log_append_time = -1;
	a->next = NULL;
	int rc = validate(p, a);
	if (rc < 0)
		return rc;
	if (p->rolling || p->pending_head) {
		a->next = NULL;
		if (p->pending_tail)
			p->pending_tail->next = a;
		else
			p->pending_head = a;
		p->pending_tail = a;
		p->pending_count++;
		return 0;
	}
	return run_one(p, a);
}

/* ---- leader epochs ---------------------------------------------------------------------- */

int partition_become_leader(struct partition *p, int32_t epoch)
{
	if (epoch < leader_epoch_latest(&p->epochs))
		return -TAPE_EBUSY;
	p->leader_epoch = epoch;
	int rc = leader_epoch_assign(&p->epochs, epoch, p->next_offset);
	if (rc < 0)
		return rc;
	return partition_checkpoint(p, NULL, NULL);
}

void partition_epoch_end_offset(const struct partition *p, int32_t epoch, int32_t *epoch_out,
                                int64_t *end_offset_out)
{
	leader_epoch_end_offset(&p->epochs, epoch, p->next_offset, epoch_out, end_offset_out);
}
