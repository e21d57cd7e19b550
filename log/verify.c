/*
 * log/verify.c: offline verification of a partition directory; what is checked is listed in
 * verify.h.
 *
 * Owns: the judgement of a partition's files against each other (offsets across segments,
 * sidecars against their .log, checkpoints against the log end) and the wording of each
 * problem. Must not know: how a batch's bytes are checked (segment_scan.c), how the files are
 * written (segment.c, checkpoint.c: it only reads them back through their own readers and
 * validity functions), or anything of the running partition: it never opens one, so it can
 * look at a directory that recovery would change without changing it.
 */
#include "log/verify.h"

#include "base/cursor.h"
#include "base/endian.h"
#include "base/errors.h"
#include "base/hash.h"
#include "base/limits.h"
#include "log/checkpoint.h"
#include "log/leader_epoch.h"
#include "log/partition_internal.h"
#include "log/producer_state.h"
#include "log/segment.h"
#include "log/segment_scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(VERIFY_QUARANTINE_MAX == QUARANTINE_MAX, "verify.h mirrors the partition's bound");

#define WHY_BYTES 200

struct verifier {
	const char *dir;
	FILE *report;
	struct verify_result *res;
	bool have_state;
	struct verify_partition_state state;
	int64_t prev_last;  /* last offset of the previous batch in the partition; -1 */
	int32_t prev_epoch; /* largest partitionLeaderEpoch so far */
	int64_t log_end;    /* after the last batch, or the last segment's base */
};

__attribute__((format(printf, 3, 4))) static void problem(struct verifier *v, const char *file,
                                                          const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(v->report, "problem: %s: ", file);
	vfprintf(v->report, fmt, ap);
	fputc('\n', v->report);
	va_end(ap);
	v->res->problems++;
}

__attribute__((format(printf, 3, 4))) static void note(struct verifier *v, const char *file,
                                                       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(v->report, "note: %s: ", file);
	vfprintf(v->report, fmt, ap);
	fputc('\n', v->report);
	va_end(ap);
	v->res->notes++;
}

int verify_read_file(const char *path, uint64_t max_bytes, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	int rc = 0;
	uint8_t *buf = NULL;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if ((uint64_t)st.st_size > max_bytes) {
		rc = -EFBIG;
		goto out;
	}
	size_t size = (size_t)st.st_size, got = 0;
	buf = malloc(size ? size : 1);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	while (got < size) {
		ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			goto out;
		}
		got += (size_t)n;
	}
	*out = buf;
	*len = size;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

/* ---- checkpoints ---------------------------------------------------------------------------- */

bool verify_checkpoint_bytes(const uint8_t *file, size_t len, struct verify_checkpoint_header *hdr,
                             char *why, size_t cap)
{
	static const char magic[8] = { 'T', 'A', 'P', 'E', 'C', 'K', 'P', 'T' };
	memset(hdr, 0, sizeof(*hdr));
	why[0] = '\0';
	if (len < CHECKPOINT_HEADER_BYTES) {
		snprintf(why, cap, "%zu bytes, shorter than the %d-byte header", len,
		         CHECKPOINT_HEADER_BYTES);
		return false;
	}
	hdr->magic_ok = memcmp(file, magic, 8) == 0;
	hdr->version = load_be16(file + 8);
	hdr->kind = load_be16(file + 10);
	hdr->payload_len = load_be32(file + 12);
	hdr->checksum = load_be64(file + 16);
	size_t plen = len - CHECKPOINT_HEADER_BYTES;
	/* checkpoint.c's checksum: XXH3-64 of the payload seeded with header bytes [8, 16). */
	hdr->checksum_computed =
	    hash64_seed(file + CHECKPOINT_HEADER_BYTES, plen, load_be64(file + 8));
	if (!hdr->magic_ok)
		snprintf(why, cap, "bad magic (expected \"TAPECKPT\")");
	else if (hdr->version != 1)
		snprintf(why, cap, "format version %u (expected 1)", hdr->version);
	else if (hdr->kind < CHECKPOINT_PARTITION || hdr->kind > CHECKPOINT_METASTORE)
		snprintf(why, cap, "unknown kind %u", hdr->kind);
	else if (hdr->payload_len != plen)
		snprintf(why, cap, "payload length %" PRIu32 " but %zu bytes follow the header",
		         hdr->payload_len, plen);
	else if (hdr->checksum != hdr->checksum_computed)
		snprintf(why, cap, "checksum mismatch: stored %016" PRIx64 ", computed %016" PRIx64,
		         hdr->checksum, hdr->checksum_computed);
	return why[0] == '\0';
}

bool verify_decode_partition_state(const uint8_t *payload, size_t len,
                                   struct verify_partition_state *st, char *why, size_t cap)
{
	memset(st, 0, sizeof(*st));
	why[0] = '\0';
	struct cursor c;
	cursor_init(&c, payload, len);
	st->recovery_point = cursor_i64(&c);
	st->log_start_offset = cursor_i64(&c);
	st->high_watermark = cursor_i64(&c);
	st->clean = cursor_u8(&c) != 0;
	uint32_t n = cursor_u32(&c);
	if (cursor_ok(&c) && n > VERIFY_QUARANTINE_MAX) {
		snprintf(why, cap, "%" PRIu32 " quarantined ranges, more than %d", n,
		         VERIFY_QUARANTINE_MAX);
		return false;
	}
	for (uint32_t i = 0; i < n && cursor_ok(&c); i++) {
		st->quarantine[i].start = cursor_i64(&c);
		st->quarantine[i].end = cursor_i64(&c);
	}
	st->quarantine_count = n;
	if (!cursor_ok(&c))
		snprintf(why, cap, "payload of %zu bytes is too short", len);
	else if (cursor_left(&c))
		snprintf(why, cap, "%zu bytes left over after the payload", cursor_left(&c));
	else if (st->recovery_point < 0 || st->log_start_offset < 0)
		snprintf(why, cap,
		         "negative recovery point %" PRId64 " or log start offset %" PRId64,
		         st->recovery_point, st->log_start_offset);
	return why[0] == '\0';
}

/* Reads one checkpoint through checkpoint_read; explains -TAPE_ECORRUPT from the raw bytes.
 * Returns the payload (malloc'ed) or NULL, having reported why. */
static uint8_t *read_checkpoint(struct verifier *v, const char *name, enum checkpoint_kind kind,
                                size_t *len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", v->dir, name);
	uint8_t *payload = NULL;
	int rc = checkpoint_read(v->dir, name, kind, &payload, len);
	if (rc == 0)
		return payload;
	if (rc == -ENOENT) {
		note(v, path,
		     "missing (a partition that was never opened, or it was lost; recovery "
		     "scans the segments instead)");
		return NULL;
	}
	char why[WHY_BYTES];
	snprintf(why, sizeof(why), "%s", tape_strerror(rc));
	uint8_t *raw;
	size_t raw_len;
	if (rc == -TAPE_ECORRUPT &&
	    verify_read_file(path, CHECKPOINT_BYTES_MAX, &raw, &raw_len) == 0) {
		struct verify_checkpoint_header hdr;
		if (verify_checkpoint_bytes(raw, raw_len, &hdr, why, sizeof(why)) &&
		    hdr.kind != (uint16_t)kind)
			snprintf(why, sizeof(why), "kind %u, expected %d", hdr.kind, (int)kind);
		free(raw);
	}
	problem(v, path, "unreadable: %s", why);
	return NULL;
}

static void verify_checkpoints(struct verifier *v)
{
	char path[PATH_MAX], why[WHY_BYTES];
	size_t len;
	uint8_t *buf = read_checkpoint(v, PARTITION_CHECKPOINT, CHECKPOINT_PARTITION, &len);
	if (buf) {
		snprintf(path, sizeof(path), "%s/%s", v->dir, PARTITION_CHECKPOINT);
		v->have_state =
		    verify_decode_partition_state(buf, len, &v->state, why, sizeof(why));
		if (!v->have_state)
			problem(v, path, "does not decode: %s", why);
		free(buf);
	}
	buf = read_checkpoint(v, EPOCH_CHECKPOINT, CHECKPOINT_LEADER_EPOCH, &len);
	if (buf) {
		struct leader_epoch_cache epochs;
		leader_epoch_init(&epochs);
		int rc = leader_epoch_decode(&epochs, buf, len);
		if (rc < 0) {
			snprintf(path, sizeof(path), "%s/%s", v->dir, EPOCH_CHECKPOINT);
			problem(v, path,
			        "does not decode: %s (epochs must increase in both epoch and "
			        "start offset)",
			        tape_strerror(rc));
		}
		leader_epoch_free(&epochs);
		free(buf);
	}
	buf = read_checkpoint(v, PRODUCER_CHECKPOINT, CHECKPOINT_PRODUCER_STATE, &len);
	if (buf) {
		struct producer_state ps;
		producer_state_init(&ps);
		int64_t snapshot;
		int rc = producer_state_decode(&ps, buf, len, &snapshot);
		if (rc < 0) {
			snprintf(path, sizeof(path), "%s/%s", v->dir, PRODUCER_CHECKPOINT);
			problem(v, path, "does not decode: %s", tape_strerror(rc));
		}
		producer_state_free(&ps);
		free(buf);
	}
}

/* Checks the partition checkpoint against the log once every segment was read. */
static void verify_state_against_log(struct verifier *v, int64_t first_base)
{
	if (!v->have_state)
		return;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", v->dir, PARTITION_CHECKPOINT);
	const struct verify_partition_state *st = &v->state;
	if (st->recovery_point > v->log_end)
		problem(v, path,
		        "recovery point %" PRId64 " is past the log end offset %" PRId64
		        ": data that was synced is missing",
		        st->recovery_point, v->log_end);
	if (st->log_start_offset > v->log_end)
		problem(v, path, "log start offset %" PRId64 " is past the log end offset %" PRId64,
		        st->log_start_offset, v->log_end);
	if (first_base >= 0 && st->log_start_offset < first_base)
		note(v, path,
		     "log start offset %" PRId64 " is below the first segment's base %" PRId64
		     " (segments were removed; recovery moves the log start up)",
		     st->log_start_offset, first_base);
	if (st->high_watermark > v->log_end)
		note(v, path,
		     "high watermark %" PRId64 " is past the log end offset %" PRId64
		     " (recovery lowers it)",
		     st->high_watermark, v->log_end);
	for (uint32_t i = 0; i < st->quarantine_count; i++)
		note(v, path,
		     "offsets [%" PRId64 ", %" PRId64
		     ") are quarantined: corruption found below the "
		     "recovery point, refused to readers",
		     st->quarantine[i].start, st->quarantine[i].end);
}

/* ---- index files ---------------------------------------------------------------------------- */

struct index_file {
	char path[PATH_MAX];
	bool present;
	bool usable;   /* valid: its entries are walked alongside the batches */
	bool advisory; /* mismatches are notes (active segment, no clean shutdown) */
	bool time;
	uint8_t *buf; /* owned */
	size_t count;
	size_t next; /* the first entry not yet matched with a batch */
	int64_t base;
};

static void index_problem(struct verifier *v, struct index_file *ix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void index_problem(struct verifier *v, struct index_file *ix, const char *fmt, ...)
{
	char msg[WHY_BYTES * 2];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ix->advisory)
		note(v, ix->path,
		     "%s (not a clean shutdown: the active segment's index files are rewritten at "
		     "close and rebuilt by recovery)",
		     msg);
	else
		problem(v, ix->path, "%s", msg);
}

static uint32_t entry_offset(const struct index_file *ix, size_t i)
{
	return ix->time ? load_be32(ix->buf + i * TIME_INDEX_ENTRY_BYTES + 8)
	                : load_be32(ix->buf + i * OFFSET_INDEX_ENTRY_BYTES);
}
static uint32_t entry_position(const struct index_file *ix, size_t i)
{
	return load_be32(ix->buf + i * OFFSET_INDEX_ENTRY_BYTES + 4);
}
static int64_t entry_timestamp(const struct index_file *ix, size_t i)
{
	return (int64_t)load_be64(ix->buf + i * TIME_INDEX_ENTRY_BYTES);
}

/* Says which entry breaks the file's validity rule (offset_index.h, time_index.h). */
static void explain_index(const struct index_file *ix, size_t len, uint64_t log_size, char *why,
                          size_t cap)
{
	size_t entry = ix->time ? TIME_INDEX_ENTRY_BYTES : OFFSET_INDEX_ENTRY_BYTES;
	snprintf(why, cap, "not valid");
	if (len % entry) {
		snprintf(why, cap, "%zu bytes is not a whole number of %zu-byte entries", len,
		         entry);
		return;
	}
	for (size_t i = 0; i < len / entry; i++) {
		int64_t off = ix->base + entry_offset(ix, i);
		if (i && entry_offset(ix, i) <= entry_offset(ix, i - 1)) {
			snprintf(why, cap,
			         "entry %zu: offset %" PRId64 " is not above the previous %" PRId64,
			         i, off, ix->base + entry_offset(ix, i - 1));
			return;
		}
		if (!ix->time && i && entry_position(ix, i) <= entry_position(ix, i - 1)) {
			snprintf(why, cap,
			         "entry %zu: position %" PRIu32
			         " is not above the previous %" PRIu32,
			         i, entry_position(ix, i), entry_position(ix, i - 1));
			return;
		}
		if (!ix->time && entry_position(ix, i) >= log_size) {
			snprintf(why, cap,
			         "entry %zu: position %" PRIu32
			         " is past the end of the .log (%" PRIu64 " bytes)",
			         i, entry_position(ix, i), log_size);
			return;
		}
		if (ix->time && i && entry_timestamp(ix, i) <= entry_timestamp(ix, i - 1)) {
			snprintf(why, cap,
			         "entry %zu: timestamp %" PRId64
			         " is not above the previous %" PRId64,
			         i, entry_timestamp(ix, i), entry_timestamp(ix, i - 1));
			return;
		}
	}
}

static void load_index(struct verifier *v, struct index_file *ix, int64_t base, const char *suffix,
                       uint64_t log_size, bool sealed, bool advisory)
{
	memset(ix, 0, sizeof(*ix));
	ix->time = strcmp(suffix, ".timeindex") == 0;
	ix->base = base;
	ix->advisory = advisory;
	if (segment_path(ix->path, sizeof(ix->path), v->dir, base, suffix) < 0)
		return;
	size_t entry = ix->time ? TIME_INDEX_ENTRY_BYTES : OFFSET_INDEX_ENTRY_BYTES;
	/* Each entry names a different batch, and a batch takes at least a header. */
	uint64_t max_bytes = (log_size / RB_HEADER_BYTES + 1) * entry;
	if (max_bytes > INDEX_FILE_BYTES_MAX)
		max_bytes = INDEX_FILE_BYTES_MAX;
	size_t len = 0;
	int rc = verify_read_file(ix->path, max_bytes, &ix->buf, &len);
	if (rc == -ENOENT) {
		if (sealed)
			note(v, ix->path, "missing (recovery rebuilds it from the .log)");
		return;
	}
	ix->present = true;
	if (rc == -EFBIG) {
		index_problem(v, ix, "larger than an index of a %" PRIu64 "-byte segment can be",
		              log_size);
		return;
	}
	if (rc < 0) {
		problem(v, ix->path, "cannot read: %s", tape_strerror(rc));
		return;
	}
	bool valid =
	    ix->time ? time_index_valid(ix->buf, len, UINT32_MAX)
	             : offset_index_valid(ix->buf, len,
	                                  log_size > UINT32_MAX ? UINT32_MAX : (uint32_t)log_size,
	                                  UINT32_MAX);
	if (!valid) {
		char why[WHY_BYTES];
		explain_index(ix, len, log_size, why, sizeof(why));
		index_problem(v, ix, "%s", why);
		return;
	}
	ix->usable = true;
	ix->count = len / entry;
}

/* Offset index entries are matched with batches in position order: an entry at a position
 * before this batch pointed into the middle of something. */
static void offset_index_step(struct verifier *v, struct index_file *ix,
                              const struct segment_scan_batch *b)
{
	if (!ix->usable)
		return;
	int64_t last = record_batch_last_offset(&b->h);
	for (; ix->next < ix->count && entry_position(ix, ix->next) < b->position; ix->next++)
		index_problem(v, ix,
		              "entry %zu (offset %" PRId64 ", position %" PRIu32
		              ") does not point at a batch start",
		              ix->next, ix->base + entry_offset(ix, ix->next),
		              entry_position(ix, ix->next));
	if (ix->next < ix->count && entry_position(ix, ix->next) == b->position) {
		int64_t off = ix->base + entry_offset(ix, ix->next);
		if (off != last)
			index_problem(v, ix,
			              "entry %zu (offset %" PRId64 ", position %" PRIu32
			              "): the batch there ends at offset %" PRId64,
			              ix->next, off, entry_position(ix, ix->next), last);
		ix->next++;
	}
}

/* Time index entries are matched in offset order: each is a batch's last offset, with the
 * largest batch timestamp of the segment up to and including that batch. */
static void time_index_step(struct verifier *v, struct index_file *ix,
                            const struct segment_scan_batch *b, int64_t max_timestamp)
{
	if (!ix->usable)
		return;
	int64_t last = record_batch_last_offset(&b->h);
	for (; ix->next < ix->count && ix->base + entry_offset(ix, ix->next) < last; ix->next++)
		index_problem(v, ix,
		              "entry %zu (timestamp %" PRId64 ", offset %" PRId64
		              "): not the last offset of a batch",
		              ix->next, entry_timestamp(ix, ix->next),
		              ix->base + entry_offset(ix, ix->next));
	if (ix->next < ix->count && ix->base + entry_offset(ix, ix->next) == last) {
		if (entry_timestamp(ix, ix->next) != max_timestamp)
			index_problem(v, ix,
			              "entry %zu (timestamp %" PRId64 ", offset %" PRId64
			              "): the largest batch timestamp up to there is %" PRId64,
			              ix->next, entry_timestamp(ix, ix->next), last, max_timestamp);
		ix->next++;
	}
}

/* Entries left after the last batch point past the data. */
static void index_finish(struct verifier *v, struct index_file *ix, uint64_t data_end)
{
	if (ix->usable && ix->next < ix->count)
		index_problem(v, ix,
		              "%zu entries from entry %zu (offset %" PRId64
		              ") point past the end of data at position %" PRIu64,
		              ix->count - ix->next, ix->next, ix->base + entry_offset(ix, ix->next),
		              data_end);
	free(ix->buf);
	ix->buf = NULL;
}

/* ---- segments ------------------------------------------------------------------------------- */

static void verify_digest(struct verifier *v, struct segment_scan *s, int64_t base, bool sealed)
{
	char path[PATH_MAX];
	if (segment_path(path, sizeof(path), v->dir, base, ".digest") < 0)
		return;
	struct hash128 want, got;
	uint64_t size;
	int rc = segment_read_digest(v->dir, base, &want, &size);
	if (rc == -ENOENT) {
		if (sealed)
			note(v, path,
			     "missing (the next open seals the segment again and writes it)");
		return;
	}
	if (rc == -TAPE_ECORRUPT) {
		problem(v, path, "not of the form \"XXH3_128 <32 hex digits> <size>\"");
		return;
	}
	if (rc < 0) {
		problem(v, path, "cannot read: %s", tape_strerror(rc));
		return;
	}
	if (size > s->file_size) {
		problem(v, path, "covers %" PRIu64 " bytes, but the .log has only %" PRIu64, size,
		        s->file_size);
		return;
	}
	rc = segment_digest(s->fd, size, &got);
	if (rc < 0) {
		problem(v, path, "cannot hash the .log: %s", tape_strerror(rc));
		return;
	}
	if (got.high != want.high || got.low != want.low)
		problem(v, path,
		        "XXH3-128 of the .log's %" PRIu64 " bytes is %016" PRIx64 "%016" PRIx64
		        ", the .digest says %016" PRIx64 "%016" PRIx64,
		        size, got.high, got.low, want.high, want.low);
	if (size < s->file_size)
		problem(v, path,
		        "covers %" PRIu64 " bytes, but the .log has %" PRIu64
		        " (a sealed segment is cut to its data)",
		        size, s->file_size);
}

/* Partition-wide checks of one batch: offsets across segments, epochs. */
static void verify_batch_order(struct verifier *v, const char *path,
                               const struct segment_scan_batch *b, int64_t base, int64_t next_base)
{
	const struct record_batch_header *h = &b->h;
	int64_t last = record_batch_last_offset(h);
	if (b->valid && h->base_offset <= v->prev_last)
		problem(v, path,
		        "position %" PRIu64 ", offset %" PRId64 ": not above %" PRId64
		        ", the last offset of the previous segment",
		        b->position, h->base_offset, v->prev_last);
	if (next_base >= 0 && last >= next_base)
		problem(v, path,
		        "position %" PRIu64 ", offset %" PRId64
		        ": the batch ends at offset %" PRId64
		        ", at or past the next segment's base %" PRId64,
		        b->position, h->base_offset, last, next_base);
	if (last - base > (int64_t)UINT32_MAX)
		problem(v, path,
		        "position %" PRIu64 ", offset %" PRId64
		        ": more than 2^32 offsets after the segment's base %" PRId64
		        " (index entries hold 32-bit relative offsets)",
		        b->position, h->base_offset, base);
	if (h->partition_leader_epoch < v->prev_epoch)
		problem(v, path,
		        "position %" PRIu64 ", offset %" PRId64 ": partitionLeaderEpoch %" PRId32
		        " is below %" PRId32 " of an earlier batch",
		        b->position, h->base_offset, h->partition_leader_epoch, v->prev_epoch);
	if (last > v->prev_last)
		v->prev_last = last;
	if (h->partition_leader_epoch > v->prev_epoch)
		v->prev_epoch = h->partition_leader_epoch;
}

/* How the segment's data ends, judged by whether it is the active one. */
static void verify_end(struct verifier *v, const char *path, const struct segment_scan *s,
                       bool sealed)
{
	switch (s->end) {
	case SEGMENT_SCAN_EOF:
		return;
	case SEGMENT_SCAN_ZEROS:
		if (sealed)
			problem(v, path,
			        "position %" PRIu64
			        ": the data ends, then %s (a sealed segment is cut to its data)",
			        s->end_position, s->why);
		return;
	case SEGMENT_SCAN_TORN:
		problem(v, path, "position %" PRIu64 ": torn batch: %s", s->end_position, s->why);
		return;
	case SEGMENT_SCAN_INVALID: {
		char fields[96] = "";
		if (s->header_len >= RB_MAGIC + 1)
			snprintf(fields, sizeof(fields),
			         " (baseOffset %" PRId64 ", batchLength %" PRId32 ", magic %d)",
			         (int64_t)load_be64(s->header + RB_BASE_OFFSET),
			         (int32_t)load_be32(s->header + RB_BATCH_LENGTH),
			         (int8_t)s->header[RB_MAGIC]);
		problem(v, path,
		        "position %" PRIu64 ": invalid batch%s, nothing after it can be read: %s",
		        s->end_position, fields, s->why);
		return;
	}
	case SEGMENT_SCAN_GARBAGE:
		problem(v, path, "position %" PRIu64 ": %s", s->end_position, s->why);
		return;
	}
}

static void verify_segment(struct verifier *v, int64_t base, int64_t next_base, bool sealed)
{
	char path[PATH_MAX];
	if (segment_path(path, sizeof(path), v->dir, base, ".log") < 0)
		return;
	struct segment_scan s;
	int rc = segment_scan_open(&s, path, base);
	if (rc < 0) {
		problem(v, path, "cannot open: %s", tape_strerror(rc));
		return;
	}
	v->res->segments++;
	bool advisory = !sealed && !(v->have_state && v->state.clean);
	struct index_file oi, ti;
	load_index(v, &oi, base, ".index", s.file_size, sealed, advisory);
	load_index(v, &ti, base, ".timeindex", s.file_size, sealed, advisory);
	struct segment_scan_batch b;
	int64_t max_timestamp = -1;
	while ((rc = segment_scan_next(&s, &b)) == 1) {
		if (!b.valid)
			problem(v, path, "position %" PRIu64 ", offset %" PRId64 ": %s", b.position,
			        b.h.base_offset, b.problem);
		verify_batch_order(v, path, &b, base, next_base);
		if (b.h.max_timestamp > max_timestamp)
			max_timestamp = b.h.max_timestamp;
		offset_index_step(v, &oi, &b);
		time_index_step(v, &ti, &b, max_timestamp);
	}
	v->res->batches += s.batches;
	v->res->records += s.records;
	if (rc < 0)
		problem(v, path, "read error after position %" PRIu64 ": %s", s.br.position,
		        tape_strerror(rc));
	else {
		v->res->bytes += s.valid_bytes;
		verify_end(v, path, &s, sealed);
	}
	index_finish(v, &oi, s.end_position);
	index_finish(v, &ti, s.end_position);
	verify_digest(v, &s, base, sealed);
	segment_scan_close(&s);
}

/* ---- the directory -------------------------------------------------------------------------- */

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

/* "<20 digits><suffix>" with one of the sidecar suffixes. */
static bool parse_sidecar(const char *name, int64_t *base)
{
	static const char *const suffixes[] = { ".index", ".timeindex", ".digest" };
	size_t n = strlen(name);
	if (n <= 20)
		return false;
	bool known = false;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		known |= strcmp(name + 20, suffixes[i]) == 0;
	char log_name[25];
	if (!known)
		return false;
	memcpy(log_name, name, 20);
	memcpy(log_name + 20, ".log", 5);
	return segment_parse_name(log_name, base);
}

/* Lists the segments (sorted) and notes files that are not part of a partition's layout. */
static int list_dir(struct verifier *v, int64_t **bases_out, unsigned *count_out)
{
	DIR *d = opendir(v->dir);
	if (!d)
		return -errno;
	int64_t *bases = NULL;
	unsigned count = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		int64_t base;
		if (!segment_parse_name(de->d_name, &base))
			continue;
		if (count == SEGMENTS_PER_PARTITION_MAX) {
			problem(v, v->dir, "more than %d segments; the rest are not checked",
			        SEGMENTS_PER_PARTITION_MAX);
			break;
		}
		if (count == cap) {
			cap = cap ? cap * 2 : 64;
			int64_t *nb = realloc(bases, cap * sizeof(*nb));
			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			bases = nb;
		}
		bases[count++] = base;
	}
	if (count)
		qsort(bases, count, sizeof(*bases), compare_offsets);
	rewinddir(d);
	while (rc == 0 && (de = readdir(d))) {
		const char *name = de->d_name;
		char path[PATH_MAX];
		int64_t base;
		if (!strcmp(name, ".") || !strcmp(name, "..") || segment_parse_name(name, &base) ||
		    !strcmp(name, PARTITION_CHECKPOINT) || !strcmp(name, EPOCH_CHECKPOINT) ||
		    !strcmp(name, PRODUCER_CHECKPOINT))
			continue;
		snprintf(path, sizeof(path), "%s/%s", v->dir, name);
		if (parse_sidecar(name, &base)) {
			if (!count ||
			    !bsearch(&base, bases, count, sizeof(*bases), compare_offsets))
				note(v, path, "no .log of that base offset beside it (left over)");
		} else if (has_suffix(name, ".tmp") || has_suffix(name, ".cleaned") ||
		           has_suffix(name, ".swap")) {
			note(v, path,
			     "left over from an interrupted write; the next open finishes or "
			     "removes it");
		} else {
			note(v, path, "not a file of a partition's layout");
		}
	}
	closedir(d);
	if (rc < 0) {
		free(bases);
		return rc;
	}
	*bases_out = bases;
	*count_out = count;
	return 0;
}

int verify_partition(const char *dir, FILE *report, struct verify_result *res)
{
	memset(res, 0, sizeof(*res));
	struct verifier v = {
		.dir = dir,
		.report = report,
		.res = res,
		.prev_last = -1,
		.prev_epoch = INT32_MIN,
	};
	int64_t *bases = NULL;
	unsigned n = 0;
	int rc = list_dir(&v, &bases, &n);
	if (rc < 0)
		return rc;
	verify_checkpoints(&v);
	if (n == 0)
		problem(&v, dir, "no segment files (<20 digits>.log): not a partition directory?");
	for (unsigned i = 0; i < n; i++)
		verify_segment(&v, bases[i], i + 1 < n ? bases[i + 1] : -1, i + 1 < n);
	v.log_end = v.prev_last + 1;
	if (n && bases[n - 1] > v.log_end)
		v.log_end = bases[n - 1];
	verify_state_against_log(&v, n ? bases[0] : -1);
	free(bases);
	return 0;
}
