/*
 * log/compaction.c: log compaction (cleanup.policy=compact); the contract is in compaction.h.
 * Owns the key map, the rewriting of sealed segments and the swap of their files. Must not
 * know the network, how reads find batches (it only clears the read cache through
 * partition_segment_replace) or what retention decides; it changes the segment set only by
 * replacing a segment with its rewritten self.
 *
 * One run:
 *   reactor  partition_compact: the cleanable range (sealed segments wholly below the high
 *            watermark and the active segment), its segments pinned, part->compacting set
 *   helper   pass 1: key -> latest offset over the range (compaction_map_segment)
 *            pass 2, per segment: rewrite, swap the files, open and seal the new segment
 *   reactor  compaction_done: each new segment put in place of the old one, whose descriptor
 *            keeps reading the old inode until its readers unpin it; compacting cleared
 *
 * What is kept (Kafka's cleaner, simplified): a record with a null key; a record whose offset
 * is the latest of its key in the map, unless it is a tombstone (null value) whose timestamp
 * (baseTimestamp + timestampDelta, or maxTimestamp under LogAppendTime) is below
 * now - delete.retention.ms. A rewritten batch keeps baseOffset, lastOffsetDelta, producer
 * id/epoch/base sequence, partitionLeaderEpoch, attributes (codec included) and baseTimestamp;
 * recordsCount, maxTimestamp (unless LogAppendTime) and the CRC are recomputed; a compressed
 * batch is recompressed with its own codec; a batch with no record left is dropped. Control
 * batches, batches whose records cannot be read (decompression refused, malformed records)
 * and batches that would grow past BATCH_BYTES_MAX stay as they are: compaction never drops a
 * record it could not read. A segment whose batches all stay is not rewritten.
 *
 * File protocol for one segment <base>:
 *   1. write <base>.cleaned; fdatasync it;
 *   2. unlink <base>.index, <base>.timeindex, <base>.digest; fsync the directory;
 *   3. rename <base>.cleaned -> <base>.swap; fsync the directory;
 *   4. rename <base>.swap -> <base>.log; fsync the directory;
 *   5. build the new segment's indexes and seal it: .index, .timeindex and .digest written and
 *      synced (the digest by rename), the directory synced.
 *
 * Crash rules (recovery.c's list_segments, and the rebuild of missing sidecars at open):
 *   - before 3 is on disk: *.cleaned is deleted and the old .log is whole; sidecars missing
 *     after 2 are rebuilt from it and the segment is sealed again;
 *   - after 3, before 4: <base>.swap is complete and synced (1), so recovery renames it over
 *     <base>.log: the new segment, whole;
 *   - after 4: the new .log with its sidecars missing or partly written, the state a crash
 *     during any seal leaves, recovered the same way: indexes that do not validate are
 *     rebuilt, a segment without a digest of its size is sealed again.
 * Step 2 precedes 3 because an old .index or .digest must never sit next to the new .log: an
 * old index can pass validation with positions of the old file, and an old digest vouches for
 * bytes it never saw. It also keeps every index file that a live segment has mapped on its own
 * inode: an index is never rewritten in place while the old segment's readers use it.
 * Every crash point leaves the old or the new segment, whole; the new one holds the latest
 * record of every key the old one held, at the same offsets, so either is a correct log.
 */
#include "log/compaction.h"

#include "base/assert.h"
#include "base/diag.h"
#include "base/errors.h"
#include "base/hash.h"
#include "base/limits.h"
#include "log/batch_reader.h"
#include "log/checkpoint.h"
#include "log/partition_internal.h"
#include "protocol/compression.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the key map ------------------------------------------------------------------------ */

struct map_slot {
	struct hash128 key;
	int64_t offset; /* -1: empty */
};
_Static_assert(sizeof(struct map_slot) == 24, "COMPACTION_KEYS_MAX's memory bound");

struct compaction_map {
	struct map_slot *slots; /* owned */
	size_t mask;
	uint64_t count;
	uint64_t count_max;
};

int compaction_map_new(uint64_t keys_max, struct compaction_map **out)
{
	if (keys_max > COMPACTION_KEYS_MAX)
		keys_max = COMPACTION_KEYS_MAX;
	if (keys_max < 1)
		keys_max = 1;
	size_t cap = 16;
	while (cap < 2 * keys_max) /* at most half full: probes stay short */
		cap *= 2;
	struct compaction_map *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->slots = malloc(cap * sizeof(*m->slots));
	if (!m->slots) {
		free(m);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cap; i++)
		m->slots[i].offset = -1;
	m->mask = cap - 1;
	m->count_max = keys_max;
	*out = m;
	return 0;
}

void compaction_map_free(struct compaction_map *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

/* The slot of key, or the empty slot where it would go. */
static struct map_slot *map_slot(const struct compaction_map *m, struct hash128 key)
{
	size_t i = (size_t)key.low & m->mask;
	/* The table is never more than half full, so an empty slot ends every probe. */
	for (size_t probes = 0; probes <= m->mask; probes++) {
		struct map_slot *s = &m->slots[i];
		if (s->offset < 0 || (s->key.low == key.low && s->key.high == key.high))
			return s;
		i = (i + 1) & m->mask;
	}
	UNREACHABLE();
}

/* Records offset as the latest of key. -1 when key is new and the map is full. */
static int map_put(struct compaction_map *m, struct hash128 key, int64_t offset)
{
	struct map_slot *s = map_slot(m, key);
	if (s->offset < 0) {
		if (m->count == m->count_max)
			return -1;
		m->count++;
		s->key = key;
	}
	s->offset = offset;
	return 0;
}

static bool map_latest(const struct compaction_map *m, struct hash128 key, int64_t *offset)
{
	const struct map_slot *s = map_slot(m, key);
	*offset = s->offset;
	return s->offset >= 0;
}

/* ---- reading records -------------------------------------------------------------------- */

/* The records section of batch b (size bytes), decompressed into plain when compressed.
 * false when it cannot be read: the batch then stays as it is. */
static bool batch_records(struct compression_buf *plain, const uint8_t *b, uint32_t size,
                          const struct record_batch_header *h, const uint8_t **records, size_t *len)
{
	*records = b + RB_RECORDS;
	*len = size - RB_RECORDS;
	int codec = record_batch_codec(h);
	if (codec == COMPRESSION_NONE)
		return true;
	plain->len = 0;
	int rc = compression_decompress(codec, *records, *len, plain, DECOMPRESSED_BYTES_MAX);
	if (rc < 0) {
		diag_warn("compaction: batch at offset %lld kept as it is: %s %s",
		          (long long)h->base_offset, compression_name(codec), tape_strerror(rc));
		return false;
	}
	*records = plain->p;
	*len = plain->len;
	return true;
}

static bool is_io_error(int err)
{
	return err < 0 && -err < TAPE_ERRNO_BASE;
}

/* ---- pass 1 ----------------------------------------------------------------------------- */

/* 0, or 1 when the map filled. */
static int map_batch(struct compaction_map *m, struct compression_buf *plain, const uint8_t *b,
                     const struct record_batch_header *h)
{
	if (h->attributes & RB_ATTR_CONTROL)
		return 0;
	const uint8_t *records;
	size_t len;
	if (!batch_records(plain, b, record_batch_size(h), h, &records, &len))
		return 0;
	struct record_iter it;
	struct record rec;
	record_iter_init(&it, records, len, h->records_count);
	/* A malformed record ends the walk; the batch is then kept whole by pass 2, and the
	 * records mapped before it are real. */
	while (record_iter_next(&it, &rec) == 1) {
		if (rec.key_len < 0)
			continue;
		struct hash128 key = hash128(rec.key, (size_t)rec.key_len);
		if (map_put(m, key, h->base_offset + rec.offset_delta) < 0)
			return 1;
	}
	return 0;
}

int compaction_map_segment(struct compaction_map *m, int fd, uint64_t size)
{
	struct batch_reader br;
	int rc = batch_reader_init(&br, fd, 0, size, RB_CHECK_CRC, BATCH_BYTES_MAX);
	if (rc < 0)
		return rc;
	struct compression_buf plain = { 0 };
	const uint8_t *b;
	struct record_batch_header h;
	uint64_t pos = 0;
	enum batch_status st = BATCH_OK;
	while (rc == 0 && (st = batch_reader_next(&br, &b, &h, &pos)) == BATCH_OK)
		rc = map_batch(m, &plain, b, &h);
	if (rc == 0 && (st != BATCH_END || pos != size))
		rc = is_io_error(br.err) ? br.err : -TAPE_ECORRUPT;
	free(plain.p);
	batch_reader_free(&br);
	return rc;
}

/* ---- pass 2 ----------------------------------------------------------------------------- */

enum filter_result { FILTER_KEEP, FILTER_DROP, FILTER_REWRITE };

struct cleaner {
	const struct compaction_map *map;
	int64_t horizon_ms;
	struct compression_buf plain;  /* owned: decompressed records */
	struct compression_buf packed; /* owned: recompressed records */
	uint8_t *kept;                 /* owned: the records kept, encoded */
	size_t kept_cap;
	uint8_t *batch; /* owned: the rewritten batch */
	size_t batch_cap;
	/* output: the .cleaned file, opened at the first batch that changes */
	int in_fd; /* borrowed */
	int out_fd;
	uint64_t out_pos;
	uint8_t *wbuf; /* owned, COMPACTION_WRITE_BYTES */
	size_t wlen;
	char path[PATH_MAX];
};

static int grow(uint8_t **buf, size_t *cap, size_t want)
{
	if (*cap >= want)
		return 0;
	uint8_t *p = realloc(*buf, want);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = want;
	return 0;
}

static bool keep_record(const struct cleaner *c, const struct record_batch_header *h,
                        const struct record *rec)
{
	if (rec->key_len < 0)
		return true;
	int64_t latest;
	int64_t offset = h->base_offset + rec->offset_delta;
	if (map_latest(c->map, hash128(rec->key, (size_t)rec->key_len), &latest) && latest > offset)
		return false; /* a later record of the key exists */
	if (rec->value_len >= 0)
		return true;
	int64_t ts = (h->attributes & RB_ATTR_LOG_APPEND_TIME)
	                 ? h->max_timestamp
	                 : h->base_timestamp + rec->timestamp_delta;
	return ts >= c->horizon_ms;
}

/* Builds the rewritten batch from the kept records into c->batch. FILTER_KEEP when it cannot
 * (a codec failure, or the batch would be too large), else FILTER_REWRITE or -ENOMEM. */
static int rebuild_batch(struct cleaner *c, const struct record_batch_header *h, size_t kept_len,
                         int32_t kept, int64_t max_ts, size_t *out_len)
{
	const uint8_t *body = c->kept;
	size_t body_len = kept_len;
	int codec = record_batch_codec(h);
	if (codec != COMPRESSION_NONE) {
		c->packed.len = 0;
		int rc = compression_compress(codec, 0, c->kept, kept_len, &c->packed);
		if (rc == -ENOMEM)
			return rc;
		if (rc < 0) {
			diag_warn("compaction: batch at offset %lld kept as it is: %s %s",
			          (long long)h->base_offset, compression_name(codec),
			          tape_strerror(rc));
			return FILTER_KEEP;
		}
		body = c->packed.p;
		body_len = c->packed.len;
	}
	size_t total = RB_HEADER_BYTES + body_len;
	if (total > BATCH_BYTES_MAX)
		return FILTER_KEEP;
	if (grow(&c->batch, &c->batch_cap, total) < 0)
		return -ENOMEM;
	struct record_batch_header nh = *h;
	nh.records_count = kept;
	if (!(h->attributes & RB_ATTR_LOG_APPEND_TIME))
		nh.max_timestamp = max_ts;
	size_t n = record_batch_encode(c->batch, c->batch_cap, &nh, body, body_len);
	ASSERT(n == total);
	*out_len = n;
	return FILTER_REWRITE;
}

/* Decides one batch. FILTER_REWRITE leaves the new batch in c->batch, *out_len bytes. */
static int filter_batch(struct cleaner *c, const uint8_t *b, const struct record_batch_header *h,
                        size_t *out_len)
{
	if (h->attributes & RB_ATTR_CONTROL)
		return FILTER_KEEP;
	const uint8_t *records;
	size_t len;
	if (!batch_records(&c->plain, b, record_batch_size(h), h, &records, &len))
		return FILTER_KEEP;
	/* Re-encoding uses the shortest varints, so the kept records never need more room. */
	if (grow(&c->kept, &c->kept_cap, len ? len : 1) < 0)
		return -ENOMEM;
	struct record_iter it;
	struct record rec;
	record_iter_init(&it, records, len, h->records_count);
	int32_t kept = 0, dropped = 0;
	size_t kept_len = 0;
	int64_t max_ts = -1;
	int rc;
	while ((rc = record_iter_next(&it, &rec)) == 1) {
		if (!keep_record(c, h, &rec)) {
			dropped++;
			continue;
		}
		size_t n = record_encode(c->kept + kept_len, c->kept_cap - kept_len, &rec);
		if (n == 0)
			return FILTER_KEEP;
		kept_len += n;
		kept++;
		int64_t ts = h->base_timestamp + rec.timestamp_delta;
		if (ts > max_ts)
			max_ts = ts;
	}
	if (rc < 0 || dropped == 0)
		return FILTER_KEEP;
	if (kept == 0)
		return FILTER_DROP;
	return rebuild_batch(c, h, kept_len, kept, max_ts, out_len);
}

static int pwrite_all(int fd, const uint8_t *buf, size_t len, uint64_t pos)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, (off_t)pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
		pos += (uint64_t)n;
	}
	return 0;
}

static int out_flush(struct cleaner *c)
{
	int rc = pwrite_all(c->out_fd, c->wbuf, c->wlen, c->out_pos);
	if (rc == 0)
		c->out_pos += c->wlen;
	c->wlen = 0;
	return rc;
}

static int out_write(struct cleaner *c, const uint8_t *p, size_t n)
{
	if (c->wlen + n > COMPACTION_WRITE_BYTES) {
		int rc = out_flush(c);
		if (rc < 0)
			return rc;
	}
	if (n >= COMPACTION_WRITE_BYTES) {
		int rc = pwrite_all(c->out_fd, p, n, c->out_pos);
		if (rc == 0)
			c->out_pos += n;
		return rc;
	}
	memcpy(c->wbuf + c->wlen, p, n);
	c->wlen += n;
	return 0;
}

/* Creates the .cleaned file at the first batch that changes, at position prefix: the batches
 * before it are copied as they are. */
static int out_open(struct cleaner *c, uint64_t prefix)
{
	c->out_fd = open(c->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (c->out_fd < 0)
		return -errno;
	for (uint64_t pos = 0; pos < prefix;) {
		size_t want = prefix - pos < COMPACTION_WRITE_BYTES ? (size_t)(prefix - pos)
		                                                    : COMPACTION_WRITE_BYTES;
		ssize_t n = pread(c->in_fd, c->wbuf, want, (off_t)pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -TAPE_ECORRUPT;
		int rc = pwrite_all(c->out_fd, c->wbuf, (size_t)n, pos);
		if (rc < 0)
			return rc;
		pos += (uint64_t)n;
	}
	c->out_pos = prefix;
	return 0;
}

/* Filters every batch of the segment into the .cleaned file (opened when needed). */
static int clean_batches(struct cleaner *c, uint64_t size)
{
	struct batch_reader br;
	int rc = batch_reader_init(&br, c->in_fd, 0, size, RB_CHECK_CRC, BATCH_BYTES_MAX);
	if (rc < 0)
		return rc;
	const uint8_t *b;
	struct record_batch_header h;
	uint64_t pos = 0;
	enum batch_status st = BATCH_OK;
	while (rc == 0 && (st = batch_reader_next(&br, &b, &h, &pos)) == BATCH_OK) {
		size_t len = 0;
		int f = filter_batch(c, b, &h, &len);
		if (f < 0) {
			rc = f;
		} else if (f != FILTER_KEEP && c->out_fd < 0) {
			rc = out_open(c, pos);
			if (rc == 0 && f == FILTER_REWRITE)
				rc = out_write(c, c->batch, len);
		} else if (c->out_fd >= 0 && f == FILTER_KEEP) {
			rc = out_write(c, b, record_batch_size(&h));
		} else if (c->out_fd >= 0 && f == FILTER_REWRITE) {
			rc = out_write(c, c->batch, len);
		}
	}
	/* Pass 1 read this segment whole; anything else now means it changed under us. */
	if (rc == 0 && (st != BATCH_END || pos != size))
		rc = is_io_error(br.err) ? br.err : -TAPE_ECORRUPT;
	batch_reader_free(&br);
	return rc;
}

int compaction_clean_segment(const struct compaction_map *map, const char *dir, int64_t base_offset,
                             int fd, uint64_t size, int64_t tombstone_horizon_ms, bool *rewritten)
{
	*rewritten = false;
	struct cleaner c = {
		.map = map,
		.horizon_ms = tombstone_horizon_ms,
		.in_fd = fd,
		.out_fd = -1,
	};
	int rc = segment_path(c.path, sizeof(c.path), dir, base_offset, ".cleaned");
	if (rc < 0)
		return rc;
	c.wbuf = malloc(COMPACTION_WRITE_BYTES);
	rc = c.wbuf ? clean_batches(&c, size) : -ENOMEM;
	if (rc == 0 && c.out_fd >= 0)
		rc = out_flush(&c);
	if (rc == 0 && c.out_fd >= 0 && fdatasync(c.out_fd) < 0)
		rc = -errno;
	if (c.out_fd >= 0) {
		close(c.out_fd);
		if (rc < 0)
			unlink(c.path);
	}
	if (rc == 0)
		*rewritten = c.out_fd >= 0;
	free(c.plain.p);
	free(c.packed.p);
	free(c.kept);
	free(c.batch);
	free(c.wbuf);
	return rc;
}

/* ---- the swap --------------------------------------------------------------------------- */

static int rename_synced(const char *dir, int64_t base_offset, const char *from_suffix,
                         const char *to_suffix)
{
	char from[PATH_MAX], to[PATH_MAX];
	if (segment_path(from, sizeof(from), dir, base_offset, from_suffix) < 0 ||
	    segment_path(to, sizeof(to), dir, base_offset, to_suffix) < 0)
		return -ENAMETOOLONG;
	if (rename(from, to) < 0)
		return -errno;
	return checkpoint_sync_dir(dir);
}

int compaction_swap(const char *dir, int64_t base_offset, enum compaction_step last)
{
	static const char *const sidecars[] = { ".index", ".timeindex", ".digest" };
	for (size_t i = 0; i < ARRAY_LEN(sidecars); i++) {
		char path[PATH_MAX];
		if (segment_path(path, sizeof(path), dir, base_offset, sidecars[i]) < 0)
			return -ENAMETOOLONG;
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
	}
	int rc = checkpoint_sync_dir(dir);
	if (rc < 0 || last == COMPACTION_SIDECARS_REMOVED)
		return rc;
	rc = rename_synced(dir, base_offset, ".cleaned", ".swap");
	if (rc < 0 || last == COMPACTION_SWAP_NAMED)
		return rc;
	return rename_synced(dir, base_offset, ".swap", ".log");
}

int compaction_open_cleaned(const char *dir, int64_t base_offset, uint32_t index_interval_bytes,
                            struct segment **out)
{
	struct segment *seg;
	int rc = segment_open(dir, base_offset, &seg);
	if (rc < 0)
		return rc;
	rc = segment_rebuild_indexes(seg, index_interval_bytes, false);
	/* The final time index entry, as a seal after a roll adds it. */
	if (rc == 0 && seg->next_offset > seg->base_offset)
		rc = time_index_maybe_append(&seg->tidx, seg->max_timestamp,
		                             (uint32_t)(seg->next_offset - 1 - seg->base_offset));
	if (rc == 0)
		rc = segment_seal(seg, dir);
	if (rc < 0) {
		segment_free(seg);
		return rc;
	}
	*out = seg;
	return 0;
}

/* ---- the job ---------------------------------------------------------------------------- */

struct compaction_segment {
	struct segment *old; /* pinned; touched on the reactor thread only */
	int64_t base_offset; /* copied for the helper thread */
	int fd;              /* borrowed from old, open while it is pinned */
	uint64_t size;
	uint64_t offsets;
	struct segment *fresh; /* owned: the rewritten segment, or NULL */
};

struct compaction_job {
	struct io_job job;
	struct partition *part;
	const char *dir; /* borrowed: the partition's, fixed for its life */
	uint32_t index_interval_bytes;
	int64_t horizon_ms;
	void (*done)(void *, int);
	void *arg;
	int rc;
	unsigned count;
	uint64_t bytes_before, bytes_after; /* of the segments rewritten */
	struct compaction_segment segs[];
};

/* Pass 2 for one segment: rewrite, swap, open the new one. */
static int clean_one(struct compaction_job *j, const struct compaction_map *map,
                     struct compaction_segment *s)
{
	bool rewritten;
	int rc = compaction_clean_segment(map, j->dir, s->base_offset, s->fd, s->size,
	                                  j->horizon_ms, &rewritten);
	if (rc < 0 || !rewritten)
		return rc;
	rc = compaction_swap(j->dir, s->base_offset, COMPACTION_LOG_REPLACED);
	if (rc == 0)
		rc = compaction_open_cleaned(j->dir, s->base_offset, j->index_interval_bytes,
		                             &s->fresh);
	if (rc == 0) {
		j->bytes_before += s->size;
		j->bytes_after += s->fresh->size;
	}
	return rc;
}

static void compaction_run(struct io_job *job)
{
	struct compaction_job *j = container_of(job, struct compaction_job, job);
	uint64_t offsets = 0;
	for (unsigned i = 0; i < j->count; i++)
		offsets += j->segs[i].offsets;
	struct compaction_map *map;
	j->rc = compaction_map_new(offsets, &map);
	if (j->rc < 0)
		return;
	/* Pass 1; the range cleaned is the segments mapped whole. */
	unsigned mapped = 0;
	int stop = 0;
	while (mapped < j->count && stop == 0) {
		stop = compaction_map_segment(map, j->segs[mapped].fd, j->segs[mapped].size);
		if (stop == 0)
			mapped++;
	}
	if (is_io_error(stop))
		mapped = 0;
	if (stop == -TAPE_ECORRUPT)
		diag_error("%s: compaction found an invalid batch in sealed segment %lld; only the "
		           "segments before it are compacted",
		           j->dir, (long long)j->segs[mapped].base_offset);
	if (stop < 0)
		j->rc = stop;
	else if (stop == 1 && mapped == 0)
		j->rc = -TAPE_ETOOLARGE;
	for (unsigned i = 0; i < mapped; i++) {
		int rc = clean_one(j, map, &j->segs[i]);
		if (rc < 0) {
			j->rc = rc; /* the segments after it stay as they are */
			break;
		}
	}
	compaction_map_free(map);
}

/* Puts s->fresh in the place of s->old. */
static void install(struct partition *p, struct compaction_segment *s)
{
	struct segment *old = s->old, *fresh = s->fresh;
	int i = partition_find_segment(p, old->base_offset);
	/* Retention and truncation refuse while compacting, so the old segment is still there. */
	ASSERT(i >= 0 && p->segs[i] == old);
	ASSERT(fresh->next_offset <= old->next_offset);
	/* Offsets stay: a segment ends where it ended, even when its last batches were dropped,
	 * so the next segment still starts right after it. */
	fresh->next_offset = old->next_offset;
	fresh->synced_next_offset = fresh->next_offset;
	fresh->created_ms = old->created_ms;
	fresh->state = SEGMENT_SEALED;
	partition_segment_replace(p, (unsigned)i, fresh);
	s->fresh = NULL;
}

static void compaction_done(struct io_job *job)
{
	struct compaction_job *j = container_of(job, struct compaction_job, job);
	struct partition *p = j->part;
	partition_end_job(p);
	p->compacting = false;
	int rc = j->rc;
	/* A failed or closing partition keeps its old segments: they read the old inodes, which
	 * stay consistent, and the next open finds the new files. */
	bool keep_results = !p->failed && !p->closing;
	if (!keep_results)
		rc = p->failed ? -TAPE_EFAILED : -TAPE_ECLOSED;
	unsigned rewritten = 0;
	for (unsigned i = 0; i < j->count; i++) {
		struct compaction_segment *s = &j->segs[i];
		if (s->fresh && keep_results) {
			install(p, s);
			rewritten++;
		}
		segment_free(s->fresh);
		partition_segment_unpin(p, s->old);
	}
	if (rewritten)
		diag_info("%s: compaction rewrote %u of %u segments, %llu -> %llu bytes", p->dir,
		          rewritten, j->count, (unsigned long long)j->bytes_before,
		          (unsigned long long)j->bytes_after);
	if (j->rc < 0)
		diag_warn("%s: compaction stopped: %s", p->dir, tape_strerror(j->rc));
	void (*done)(void *, int) = j->done;
	void *arg = j->arg;
	free(j);
	if (done)
		done(arg, rc);
}

/* Sealed segments from the oldest on, wholly below the high watermark and the active segment,
 * outside quarantined ranges (their bytes are kept for repair). */
static unsigned cleanable_count(const struct partition *p)
{
	int64_t limit = partition_active(p)->base_offset;
	if (p->high_watermark < limit)
		limit = p->high_watermark;
	unsigned n = 0;
	while (n + 1 < p->segs_count) {
		const struct segment *seg = p->segs[n];
		if (seg->state != SEGMENT_SEALED || seg->next_offset > limit ||
		    partition_in_quarantine(p, seg->base_offset, seg->next_offset, NULL))
			break;
		n++;
	}
	return n;
}

int partition_compact(struct partition *p, int64_t now_ms, void (*done)(void *arg, int err),
                      void *arg)
{
	if (p->failed)
		return -TAPE_EFAILED;
	if (p->closing)
		return -TAPE_ECLOSED;
	if (p->compacting || p->truncating || p->rolling)
		return -TAPE_EBUSY;
	if (!p->cfg.cleanup_compact)
		return -TAPE_ECONFIG;
	unsigned n = cleanable_count(p);
	struct compaction_job *j = calloc(1, sizeof(*j) + n * sizeof(j->segs[0]));
	if (!j)
		return -ENOMEM;
	j->part = p;
	j->dir = p->dir;
	j->index_interval_bytes = p->cfg.index_interval_bytes;
	int64_t keep_ms = p->cfg.delete_retention_ms; /* >= 0, checked with the config */
	j->horizon_ms = now_ms < INT64_MIN + keep_ms ? INT64_MIN : now_ms - keep_ms;
	j->done = done;
	j->arg = arg;
	j->count = n;
	for (unsigned i = 0; i < n; i++) {
		struct segment *seg = p->segs[i];
		seg->refs++;
		j->segs[i] = (struct compaction_segment){
			.old = seg,
			.base_offset = seg->base_offset,
			.fd = seg->fd,
			.size = seg->size,
			.offsets = (uint64_t)(seg->next_offset - seg->base_offset),
		};
	}
	j->job.run = compaction_run;
	j->job.done = compaction_done;
	p->compacting = true;
	partition_begin_job(p);
	reactor_offload(p->reactor, &j->job);
	return 0;
}
