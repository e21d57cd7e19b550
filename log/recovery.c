/*
 * log/recovery.c: opening a partition from disk, and closing it cleanly.
 *
 * Recovery rule (DESIGN §4, RELIABILITY "ALICE", "CORDS"):
 *   - segments wholly below the recovery point were synced (D6) and are trusted: their
 *     indexes are mapped, not rebuilt. A sealed segment with a .digest was synced before the
 *     digest was written, so the digests extend the trusted prefix even when the partition
 *     checkpoint is lost;
 *   - from the segment holding the recovery point on, every batch is read and checked
 *     (lengths, CRC-32C, records, increasing offsets) and the indexes are rebuilt;
 *   - the first bad batch at or after the recovery point is a torn write: the log is cut
 *     there (the file is cut to that position, so stale bytes can never come back as
 *     batches) and later segments are deleted;
 *   - a bad batch below the recovery point is corruption: its range is quarantined (readers
 *     get -TAPE_EQUARANTINED), nothing is truncated, and it is logged as an error; if it is
 *     in the last segment, appends continue in a new segment starting at the recovery point;
 *   - a clean shutdown (checkpoint "clean" flag) skips the scan: the active segment's
 *     indexes were written at close.
 * After recovery every segment is synced and the checkpoint says so (recovery point = LEO),
 * and the flag is cleared so that a crash from here on is recovered by scanning.
 */
#include "log/partition_internal.h"

#include "base/assert.h"
#include "base/clock.h"
#include "base/cursor.h"
#include "base/diag.h"
#include "base/errors.h"
#include "base/limits.h"
#include "log/batch_reader.h"
#include "log/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int compare_offsets(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static bool has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), m = strlen(suffix);
	return n >= m && strcmp(name + n - m, suffix) == 0;
}

/* Lists segment base offsets (sorted) and finishes or removes interrupted file operations:
 * "*.tmp" and "*.cleaned" are dropped; "<base>.swap" is a complete compacted segment whose
 * final rename did not happen (compaction.c), so it replaces "<base>.log". */
static int list_segments(const char *dir, int64_t **bases_out, unsigned *count_out)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	int64_t *bases = NULL;
	unsigned count = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		if (has_suffix(de->d_name, ".tmp") || has_suffix(de->d_name, ".cleaned")) {
			unlink(path);
			continue;
		}
		if (has_suffix(de->d_name, ".swap") && strlen(de->d_name) == 25) {
			char to[PATH_MAX];
			snprintf(to, sizeof(to), "%s/%.20s.log", dir, de->d_name);
			if (rename(path, to) < 0) {
				rc = -errno;
				break;
			}
			diag_warn("%s: finished an interrupted compaction swap of %.20s", dir,
			          de->d_name);
			continue; /* readdir may or may not show the renamed file: rescan below */
		}
	}
	rewinddir(d);
	while (rc == 0 && (de = readdir(d))) {
		int64_t base;
		if (!segment_parse_name(de->d_name, &base))
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			int64_t *b = realloc(bases, cap * sizeof(*b));
			if (!b) {
				rc = -ENOMEM;
				break;
			}
			bases = b;
		}
		if (count >= SEGMENTS_PER_PARTITION_MAX) {
			rc = -TAPE_ETOOLARGE;
			break;
		}
		bases[count++] = base;
	}
	closedir(d);
	if (rc < 0) {
		free(bases);
		return rc;
	}
	if (count)
		qsort(bases, count, sizeof(*bases), compare_offsets);
	*bases_out = bases;
	*count_out = count;
	return checkpoint_sync_dir(dir);
}

static int load_partition_checkpoint(struct partition *p, int64_t *rp, bool *clean)
{
	uint8_t *buf;
	size_t len;
	*rp = 0;
	*clean = false;
	int rc = checkpoint_read(p->dir, PARTITION_CHECKPOINT, CHECKPOINT_PARTITION, &buf, &len);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		diag_error("%s: %s unreadable (%s); recovering by scanning every segment without "
		           "a digest",
		           p->dir, PARTITION_CHECKPOINT, tape_strerror(rc));
		return 0;
	}
	struct cursor c;
	cursor_init(&c, buf, len);
	*rp = cursor_i64(&c);
	p->log_start_offset = cursor_i64(&c);
	p->high_watermark = cursor_i64(&c);
	*clean = cursor_u8(&c) != 0;
	uint32_t n = cursor_u32(&c);
	if (n > QUARANTINE_MAX)
		cursor_fail(&c);
	for (uint32_t i = 0; i < n && cursor_ok(&c); i++) {
		p->quarantine[i].start = cursor_i64(&c);
		p->quarantine[i].end = cursor_i64(&c);
	}
	if (!cursor_ok(&c) || cursor_left(&c) || *rp < 0 || p->log_start_offset < 0) {
		diag_error("%s: %s malformed; recovering by scanning", p->dir,
		           PARTITION_CHECKPOINT);
		*rp = 0;
		*clean = false;
		p->log_start_offset = 0;
		p->high_watermark = 0;
		n = 0;
	}
	p->quarantine_count = n;
	free(buf);
	return 0;
}

/* Returns false when the epochs must be rebuilt from the batches. */
static bool load_epochs(struct partition *p)
{
	uint8_t *buf;
	size_t len;
	int rc = checkpoint_read(p->dir, EPOCH_CHECKPOINT, CHECKPOINT_LEADER_EPOCH, &buf, &len);
	if (rc == 0) {
		rc = leader_epoch_decode(&p->epochs, buf, len);
		free(buf);
	}
	if (rc < 0 && rc != -ENOENT)
		diag_warn("%s: %s unusable (%s); rebuilding epochs from batches", p->dir,
		          EPOCH_CHECKPOINT, tape_strerror(rc));
	return rc == 0;
}

static void quarantine_add(struct partition *p, int64_t start, int64_t end)
{
	if (end <= start || partition_in_quarantine(p, start, end, NULL))
		return;
	if (p->quarantine_count == QUARANTINE_MAX) {
		/* Merge into the last range rather than forget corruption. */
		p->quarantine[QUARANTINE_MAX - 1].end = end;
		return;
	}
	p->quarantine[p->quarantine_count++] = (struct quarantine_range){ start, end };
}

/* Cuts the file at position: the bytes after it are gone, so nothing stale can reappear. */
static int cut_file(struct segment *seg, uint64_t position, bool preallocate)
{
	if (ftruncate(seg->fd, (off_t)position) < 0)
		return -errno;
	seg->size = seg->reserved = seg->prealloc_end = position;
	if (preallocate &&
	    fallocate(seg->fd, 0, 0, (off_t)(position + SEGMENT_PREALLOC_BYTES)) == 0)
		seg->prealloc_end = position + SEGMENT_PREALLOC_BYTES;
	if (fsync(seg->fd) < 0)
		return -errno;
	return 0;
}

/* How a scan of one segment ended. */
enum scan_end { SCAN_CLEAN, SCAN_CUT, SCAN_CORRUPT, SCAN_CORRUPT_TAIL };

#define RESYNC_CHUNK (1u << 20)

/*
 * After corruption below the recovery point: the first position after from where a whole
 * valid batch starts with a base offset in [min_offset, min_offset + 2^31). Candidates must
 * have magic 2, a plausible length and offset, and pass the CRC-32C, so a false match in
 * random bytes is vanishingly unlikely. Returns 1 and *pos, 0 when there is none, or -errno.
 */
static int resync(int fd, uint64_t from, uint64_t file_end, int64_t min_offset, uint64_t *pos)
{
	uint8_t *buf = malloc(RESYNC_CHUNK);
	if (!buf)
		return -ENOMEM;
	int found = 0;
	for (uint64_t at = from; !found && at + RB_HEADER_BYTES <= file_end;) {
		size_t want = file_end - at < RESYNC_CHUNK ? (size_t)(file_end - at) : RESYNC_CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)at);
		if (n < RB_HEADER_BYTES) {
			found = n < 0 ? -errno : 0;
			break;
		}
		size_t i;
		for (i = 0; i + RB_HEADER_BYTES <= (size_t)n; i++) {
			if (buf[i + RB_MAGIC] != RB_MAGIC_V2)
				continue;
			struct record_batch_header h;
			record_batch_header_read(buf + i, &h);
			uint64_t size = (uint64_t)h.batch_length + RB_LOG_OVERHEAD;
			if (h.batch_length < RB_HEADER_BYTES - RB_LOG_OVERHEAD ||
			    size > BATCH_BYTES_MAX || at + i + size > file_end ||
			    h.base_offset < min_offset || h.base_offset - min_offset > INT32_MAX)
				continue;
			uint8_t *b = malloc(size);
			if (!b) {
				found = -ENOMEM;
				break;
			}
			bool ok = pread(fd, b, size, (off_t)(at + i)) == (ssize_t)size &&
			          record_batch_validate(b, size, RB_CHECK_CRC | RB_CHECK_RECORDS,
			                                NULL) == 0;
			free(b);
			if (ok) {
				*pos = at + i;
				found = 1;
				break;
			}
		}
		if (!found)
			at += i; /* the next chunk starts where a header could still begin */
		if ((size_t)n < want)
			break;
	}
	free(buf);
	return found;
}

struct scan_state {
	struct partition *part;
	struct segment *seg;
	int64_t rp;
	int64_t next_base; /* of the following segment, or -1 */
	uint64_t file_size;
};

/* Reads batches from position on, indexing them; stops at the first one that is not valid.
 * Returns the batch status there, *stop its position. */
static enum batch_status scan_from(struct scan_state *ss, uint64_t position, uint64_t *stop,
                                   int *err)
{
	struct partition *p = ss->part;
	struct segment *seg = ss->seg;
	struct batch_reader br;
	/* The CRC covers the records, and they were walked when appended: recovery checks the
	 * CRC only, as Kafka's LogSegment.recover does. */
	*err = batch_reader_init(&br, seg->fd, position, UINT64_MAX, RB_CHECK_CRC, BATCH_BYTES_MAX);
	if (*err < 0)
		return BATCH_INVALID;
	const uint8_t *b;
	struct record_batch_header h;
	enum batch_status st;
	int32_t epoch = -1;
	while ((st = batch_reader_next(&br, &b, &h, stop)) == BATCH_OK) {
		/* Offsets are outside the CRC: they must continue the log (compacted segments
		 * may skip offsets between batches), and epochs never go back. */
		bool contiguous = h.base_offset == seg->next_offset ||
		                  (p->cfg.cleanup_compact && h.base_offset > seg->next_offset);
		if (!contiguous || h.partition_leader_epoch < epoch) {
			st = BATCH_INVALID;
			br.err = -TAPE_EBADBATCH;
			break;
		}
		epoch = h.partition_leader_epoch;
		*err = segment_index_batch(seg, &h, *stop, p->cfg.index_interval_bytes);
		if (*err < 0)
			break;
		if (h.partition_leader_epoch > leader_epoch_latest(&p->epochs))
			leader_epoch_assign(&p->epochs, h.partition_leader_epoch, h.base_offset);
	}
	if (st != BATCH_OK && !*err)
		*err = br.err;
	batch_reader_free(&br);
	return st;
}

/*
 * Reads every batch of seg, rebuilding its indexes. Returns how the scan ended (or -errno):
 * clean, cut (a torn tail at or after the recovery point), or corrupt (a bad batch below it,
 * quarantined; scanning resumes at the next valid batch when one can be found).
 */
static int scan_segment(struct partition *p, struct segment *seg, int64_t rp, int64_t next_base)
{
	offset_index_free(&seg->oidx);
	time_index_free(&seg->tidx);
	seg->bytes_since_index = 0;
	seg->next_offset = seg->base_offset;
	seg->max_timestamp = -1;
	struct stat sb;
	if (fstat(seg->fd, &sb) < 0)
		return -errno;
	struct scan_state ss = { p, seg, rp, next_base, (uint64_t)sb.st_size };
	int result = SCAN_CLEAN;
	uint64_t pos = 0, valid_end = 0;
	for (;;) {
		int err = 0;
		enum batch_status st = scan_from(&ss, pos, &pos, &err);
		if (err < 0 && st == BATCH_OK)
			return err;
		valid_end = pos;
		int64_t expected = seg->next_offset;
		bool below_rp = expected < rp && (next_base < 0 || expected < next_base);
		if (!below_rp) {
			if (st == BATCH_END) {
				seg->size = seg->reserved = valid_end;
				seg->prealloc_end = ss.file_size;
				return result;
			}
			diag_warn(
			    "%s: recovery cut segment %lld at position %llu (offset %lld): %s "
			    "batch%s%s, %llu bytes after it dropped",
			    p->dir, (long long)seg->base_offset, (unsigned long long)pos,
			    (long long)expected, batch_status_name(st), err ? ": " : "",
			    err ? tape_strerror(err) : "",
			    (unsigned long long)(ss.file_size - pos));
			int rc = cut_file(seg, pos, next_base < 0);
			return rc < 0 ? rc : SCAN_CUT;
		}
		/* Below the recovery point: corruption (D6). Keep the bytes, refuse the range. */
		uint64_t next_pos = 0;
		int found = resync(seg->fd, pos + 1, ss.file_size, expected, &next_pos);
		if (found < 0)
			return found;
		int64_t end = next_base >= 0 && next_base < rp ? next_base : rp;
		if (found) {
			struct record_batch_header h;
			uint8_t hdr[RB_HEADER_BYTES];
			if (pread(seg->fd, hdr, sizeof(hdr), (off_t)next_pos) != sizeof(hdr))
				return -EIO;
			record_batch_header_read(hdr, &h);
			end = h.base_offset;
		}
		diag_error(
		    "%s: corrupt data below the recovery point in segment %lld at position "
		    "%llu (%s batch, %s): offsets [%lld, %lld) are quarantined and not served; "
		    "the bytes are kept for repair",
		    p->dir, (long long)seg->base_offset, (unsigned long long)pos,
		    batch_status_name(st), tape_strerror(err), (long long)expected, (long long)end);
		quarantine_add(p, expected, end);
		result = SCAN_CORRUPT;
		if (!found) {
			seg->size = seg->reserved = valid_end;
			seg->next_offset = end;
			seg->prealloc_end = ss.file_size;
			return SCAN_CORRUPT_TAIL;
		}
		/* An index entry at the batch after the hole, keyed just below its base offset,
		 * so lookups of later offsets start there and never parse the corrupt bytes. */
		struct offset_index_entry last;
		bool has_last = seg->oidx.count > 0;
		if (has_last)
			last = offset_index_entry_at(&seg->oidx, seg->oidx.count - 1);
		uint32_t key = (uint32_t)(end - 1 - seg->base_offset);
		if (end > seg->base_offset &&
		    (!has_last || (key > last.relative_offset && next_pos > last.position))) {
			int rc = offset_index_append(&seg->oidx, key, (uint32_t)next_pos);
			if (rc < 0)
				return rc;
		}
		seg->bytes_since_index = 0;
		seg->next_offset = end;
		pos = next_pos;
	}
}

/* Rebuilds producer state (and, with epochs, the leader epochs) from batch headers at
 * offsets >= from. */
static int replay_headers(struct partition *p, int64_t from, bool epochs)
{
	int i = epochs ? 0 : partition_find_segment(p, from);
	for (unsigned s = i < 0 ? 0 : (unsigned)i; s < p->segs_count; s++) {
		struct segment *seg = p->segs[s];
		/* Start at the index entry before from: the batches before it are not needed. */
		uint64_t start = 0;
		struct offset_index_entry e;
		if (!epochs && from > seg->base_offset &&
		    offset_index_lookup(&seg->oidx, (uint32_t)(from - 1 - seg->base_offset), &e))
			start = e.position;
		struct batch_reader br;
		int rc = batch_reader_init(&br, seg->fd, start, seg->size, 0, BATCH_BYTES_MAX);
		if (rc < 0)
			return rc;
		const uint8_t *b;
		struct record_batch_header h;
		uint64_t pos;
		while (batch_reader_next(&br, &b, &h, &pos) == BATCH_OK) {
			if (epochs && h.partition_leader_epoch > leader_epoch_latest(&p->epochs))
				leader_epoch_assign(&p->epochs, h.partition_leader_epoch,
				                    h.base_offset);
			if (h.base_offset >= from && producer_state_update(&p->producers, &h) < 0)
				break;
		}
		batch_reader_free(&br);
	}
	return 0;
}

static void load_producers(struct partition *p, bool rebuild_epochs)
{
	uint8_t *buf;
	size_t len;
	int64_t snapshot = -1;
	int rc =
	    checkpoint_read(p->dir, PRODUCER_CHECKPOINT, CHECKPOINT_PRODUCER_STATE, &buf, &len);
	if (rc == 0) {
		rc = producer_state_decode(&p->producers, buf, len, &snapshot);
		free(buf);
	}
	if (rc < 0 || snapshot > p->next_offset || snapshot < p->log_start_offset) {
		if (rc < 0 && rc != -ENOENT)
			diag_warn("%s: %s unusable (%s); rebuilding from the log", p->dir,
			          PRODUCER_CHECKPOINT, tape_strerror(rc));
		producer_state_clear(&p->producers);
		snapshot = p->log_start_offset;
	}
	if (rebuild_epochs) {
		leader_epoch_free(&p->epochs);
		replay_headers(p, snapshot, true);
	} else {
		replay_headers(p, snapshot, false);
	}
	producer_state_expire(&p->producers, clock_wall_ms(), p->cfg.producer_expiration_ms);
}

/* Segments with a digest matching their size were synced when sealed (D6): the recovery point
 * is at least the end of the longest prefix of them. */
static int64_t digest_trusted_end(const struct partition *p, const int64_t *bases, unsigned n)
{
	int64_t end = 0;
	for (unsigned i = 0; i + 1 < n; i++) {
		struct hash128 d;
		uint64_t size;
		char path[PATH_MAX];
		struct stat st;
		if (segment_read_digest(p->dir, bases[i], &d, &size) < 0 ||
		    segment_path(path, sizeof(path), p->dir, bases[i], ".log") < 0 ||
		    stat(path, &st) < 0 || (uint64_t)st.st_size != size)
			break;
		end = bases[i + 1];
	}
	return end;
}

static int open_segments(struct partition *p, int64_t *bases, unsigned n, int64_t rp, bool clean,
                         bool *tail_quarantined)
{
	*tail_quarantined = false;
	/* Segments wholly below the log start offset are leftovers of retention. */
	unsigned first = 0;
	while (first + 1 < n && bases[first + 1] <= p->log_start_offset) {
		segment_delete_files(p->dir, bases[first]);
		first++;
	}
	for (unsigned i = first; i < n; i++) {
		struct segment *seg;
		int rc = segment_open(p->dir, bases[i], &seg);
		if (rc == 0)
			rc = partition_segs_push(p, seg);
		if (rc < 0)
			return rc;
	}
	if (p->segs_count && p->log_start_offset < p->segs[0]->base_offset)
		p->log_start_offset = p->segs[0]->base_offset;

	int scan_from = partition_find_segment(p, rp);
	if (scan_from < 0)
		scan_from = 0;
	if (clean)
		scan_from = (int)p->segs_count; /* nothing to scan */
	for (int i = 0; i < scan_from; i++) {
		bool last = i == (int)p->segs_count - 1;
		int rc =
		    segment_load_indexes(p->segs[i], p->dir, p->cfg.index_interval_bytes, last);
		if (rc == -TAPE_ECORRUPT || rc == -TAPE_EBADBATCH || rc == -TAPE_ECRC) {
			/* Damaged after it was synced (even after a clean shutdown): the scan
			 * below quarantines what is bad there instead of the broker refusing to
			 * start over one partition (D6). */
			diag_warn(
			    "%s: segment %lld fails its checks at open (%s); scanning from it",
			    p->dir, (long long)p->segs[i]->base_offset, tape_strerror(rc));
			scan_from = i;
			break;
		}
		if (rc < 0)
			return rc;
	}
	for (unsigned i = (unsigned)scan_from; i < p->segs_count; i++) {
		struct segment *seg = p->segs[i];
		int64_t next_base = i + 1 < p->segs_count ? p->segs[i + 1]->base_offset : -1;
		int end = scan_segment(p, seg, rp, next_base);
		if (end < 0)
			return end;
		if (end == SCAN_CORRUPT_TAIL && next_base < 0)
			*tail_quarantined = true;
		if (end == SCAN_CUT && i + 1 < p->segs_count) {
			/* A torn tail in a rolled segment: everything after it goes too. */
			for (unsigned j = i + 1; j < p->segs_count; j++) {
				segment_delete_files(p->dir, p->segs[j]->base_offset);
				segment_free(p->segs[j]);
			}
			p->segs_count = i + 1;
			if (fallocate(seg->fd, 0, 0, (off_t)(seg->size + SEGMENT_PREALLOC_BYTES)) ==
			    0)
				seg->prealloc_end = seg->size + SEGMENT_PREALLOC_BYTES;
		}
	}
	return 0;
}

/* Every segment before the last is sealed; the last is the active one and is synced. */
static int settle_segments(struct partition *p, bool clean)
{
	for (unsigned i = 0; i < p->segs_count; i++) {
		struct segment *seg = p->segs[i];
		bool last = i + 1 == p->segs_count;
		if (last) {
			seg->state = SEGMENT_ACTIVE;
			if (!clean && fdatasync(seg->fd) < 0)
				return -errno;
		} else if (seg->state != SEGMENT_SEALED ||
		           !partition_in_quarantine(p, seg->base_offset, seg->next_offset, NULL)) {
			struct hash128 d;
			uint64_t size;
			if (segment_read_digest(p->dir, seg->base_offset, &d, &size) < 0 ||
			    size != seg->size) {
				int rc = segment_seal(seg, p->dir);
				if (rc < 0)
					return rc;
			}
			seg->state = SEGMENT_SEALED;
		}
		seg->synced_next_offset = seg->next_offset;
	}
	return 0;
}

/* A segment for appends from base. Space is preallocated by the first append (asynchronously,
 * partition.c maybe_preallocate), not here: a partition that is created and never written
 * then costs no fallocate, whose metadata the close's fdatasync would have to commit (~20 ms a
 * partition here, 20 s to stop a broker holding 1000 new partitions). */
static int create_first(struct partition *p, int64_t base)
{
	struct segment *seg;
	int rc = segment_create(p->dir, base, 0, clock_wall_ms(), &seg);
	if (rc == 0)
		rc = partition_segs_push(p, seg);
	return rc;
}

static bool file_exists(const char *dir, const char *name)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* A partition that never held a record, an epoch or a producer, and has no checkpoint yet: its
 * missing checkpoints already say everything (recovery point 0, nothing to trust, a scan of
 * an empty segment), so writing them would cost six syncs and tell nothing new. A topic of
 * 1000 partitions is created and closed with none. */
static bool pristine(const struct partition *p)
{
	return p->next_offset == 0 && p->log_start_offset == 0 && p->high_watermark == 0 &&
	       p->quarantine_count == 0 && p->epochs.count == 0 && p->producers.count == 0 &&
	       !file_exists(p->dir, PARTITION_CHECKPOINT) &&
	       !file_exists(p->dir, EPOCH_CHECKPOINT) && !file_exists(p->dir, PRODUCER_CHECKPOINT);
}

static int write_all_checkpoints(struct partition *p, int64_t rp, bool clean)
{
	if (pristine(p))
		return 0;
	size_t len;
	uint8_t *buf = leader_epoch_encode(&p->epochs, &len);
	int rc = buf ? checkpoint_write(p->dir, EPOCH_CHECKPOINT, CHECKPOINT_LEADER_EPOCH, buf, len)
	             : -ENOMEM;
	free(buf);
	if (rc == 0) {
		buf = producer_state_encode(&p->producers, p->next_offset, &len);
		rc = buf ? checkpoint_write(p->dir, PRODUCER_CHECKPOINT, CHECKPOINT_PRODUCER_STATE,
		                            buf, len)
		         : -ENOMEM;
		free(buf);
	}
	if (rc == 0) {
		buf = partition_checkpoint_encode(p, rp, clean, &len);
		rc = buf ? checkpoint_write(p->dir, PARTITION_CHECKPOINT, CHECKPOINT_PARTITION, buf,
		                            len)
		         : -ENOMEM;
		free(buf);
	}
	return rc;
}

static void partition_free(struct partition *p)
{
	for (unsigned i = 0; i < p->segs_count; i++)
		segment_free(p->segs[i]);
	while (p->deleted) {
		struct segment *seg = p->deleted;
		p->deleted = seg->next_deleted;
		segment_free(seg);
	}
	free(p->segs);
	leader_epoch_free(&p->epochs);
	producer_state_free(&p->producers);
	free(p->dir);
	free(p);
}

static int make_dir(const char *dir)
{
	if (mkdir(dir, 0755) == 0) {
		char parent[PATH_MAX];
		snprintf(parent, sizeof(parent), "%s/..", dir);
		return checkpoint_sync_dir(parent);
	}
	return errno == EEXIST ? 0 : -errno;
}

static int recover(struct partition *p)
{
	int rc = make_dir(p->dir);
	if (rc < 0)
		return rc;
	int64_t rp;
	bool clean;
	load_partition_checkpoint(p, &rp, &clean);
	bool epochs_loaded = load_epochs(p);
	int64_t *bases = NULL;
	unsigned n = 0;
	rc = list_segments(p->dir, &bases, &n);
	if (rc < 0)
		return rc;
	int64_t trusted = digest_trusted_end(p, bases, n);
	if (trusted > rp)
		rp = trusted;
	bool tail_quarantined;
	rc = open_segments(p, bases, n, rp, clean, &tail_quarantined);
	free(bases);
	if (rc == 0 && p->segs_count == 0)
		rc = create_first(p, p->log_start_offset);
	if (rc < 0)
		return rc;
	if (tail_quarantined) {
		/* The tail of the last segment is quarantined: appends go to a fresh one. */
		rc = create_first(p, partition_active(p)->next_offset);
		if (rc < 0)
			return rc;
	}
	p->next_offset = partition_active(p)->next_offset;
	rc = settle_segments(p, clean);
	if (rc < 0)
		return rc;
	p->written_end = p->durable_end = p->recovery_point = p->next_offset;
	if (p->high_watermark > p->next_offset)
		p->high_watermark = p->next_offset;
	if (p->high_watermark < p->log_start_offset)
		p->high_watermark = p->log_start_offset;
	leader_epoch_truncate_end(&p->epochs, p->next_offset);
	leader_epoch_truncate_start(&p->epochs, p->log_start_offset);
	p->leader_epoch = leader_epoch_latest(&p->epochs);
	load_producers(p, !epochs_loaded && p->next_offset > p->log_start_offset);
	p->leader_epoch = leader_epoch_latest(&p->epochs);
	/* Clears the clean flag: from here on a crash must be recovered by scanning. */
	return write_all_checkpoints(p, p->next_offset, false);
}

int partition_open(struct reactor *r, const char *dir, const struct partition_config *cfg,
                   struct partition **out)
{
	int rc = partition_config_check(cfg);
	if (rc < 0)
		return rc;
	struct partition *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->reactor = r;
	p->cfg = *cfg;
	p->dir = strdup(dir);
	p->leader_epoch = LEADER_EPOCH_UNDEFINED;
	leader_epoch_init(&p->epochs);
	producer_state_init(&p->producers);
	if (!p->dir) {
		partition_free(p);
		return -ENOMEM;
	}
	rc = recover(p);
	if (rc < 0) {
		diag_error("%s: cannot open partition: %s", dir, tape_strerror(rc));
		partition_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

static bool idle(const struct partition *p)
{
	if (p->inflight_count || p->pending_count || p->jobs_inflight || p->ops_inflight ||
	    p->rolling || p->deleted)
		return false;
	for (unsigned i = 0; i < p->segs_count; i++)
		if (p->segs[i]->refs)
			return false;
	return true;
}

static void close_run(struct io_job *job)
{
	struct partition *p = container_of(job, struct partition, close_job);
	p->close_rc = 0;
	if (p->failed)
		return;
	struct segment *active = partition_active(p);
	int rc = fdatasync(active->fd) < 0 ? -errno : 0;
	if (rc == 0)
		rc = segment_write_indexes(active, p->dir);
	if (rc == 0)
		rc = write_all_checkpoints(p, p->next_offset, true);
	p->close_rc = rc;
}

static void close_finish(struct io_job *job)
{
	struct partition *p = container_of(job, struct partition, close_job);
	if (p->close_rc < 0)
		diag_error("%s: clean shutdown failed (%s); the next open will scan", p->dir,
		           tape_strerror(p->close_rc));
	void (*done)(void *) = p->close_done;
	void *arg = p->close_arg;
	partition_free(p);
	if (done)
		done(arg);
}

static void close_poll(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct partition *p = container_of(op, struct partition, close_timer.op);
	if (!idle(p)) {
		/* Writes, jobs or readers are still out: look again shortly. */
		reactor_timer_start(p->reactor, &p->close_timer, close_poll, 2 * 1000000u);
		return;
	}
	p->close_job.run = close_run;
	p->close_job.done = close_finish;
	reactor_offload(p->reactor, &p->close_job);
}

void partition_close_async(struct partition *p, void (*done)(void *), void *arg)
{
	p->closing = true;
	p->close_done = done;
	p->close_arg = arg;
	if (p->flush_timer.armed)
		reactor_timer_cancel(p->reactor, &p->flush_timer);
	/* Through the reactor even when idle now: done never runs inside this call. */
	reactor_timer_start(p->reactor, &p->close_timer, close_poll, 0);
}

static void closed_sync(void *arg)
{
	*(bool *)arg = true;
}

void partition_close(struct partition *p)
{
	struct reactor *r = p->reactor;
	bool done = false;
	partition_close_async(p, closed_sync, &done);
	while (!done)
		reactor_run_once(r, -1);
}
