/*
 * log/segment_scan.c: one .log file read batch by batch for the offline tools, with every
 * failed check put into words; see segment_scan.h.
 *
 * Owns: the classification of where a segment's data ends (end of file, preallocated zeros,
 * torn batch, invalid bytes, data past a hole) and the wording of each check that fails. Must
 * not know: how the result is printed (dump.c) or judged across files (verify.c); it never
 * writes, so it can be pointed at a partition that is open elsewhere.
 */
#include "log/segment_scan.h"

#include "base/endian.h"
#include "base/errors.h"
#include "base/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bytes read at a time when checking that a tail is all zeros. */
#define ZERO_SCAN_CHUNK_BYTES (64 * 1024)

__attribute__((format(printf, 3, 4))) static void say(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
}

int segment_scan_open(struct segment_scan *s, const char *path, int64_t base_offset)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (S_ISDIR(st.st_mode))
		rc = -EISDIR;
	else if (!S_ISREG(st.st_mode))
		rc = -EINVAL;
	if (rc == 0)
		rc = batch_reader_init(&s->br, fd, 0, UINT64_MAX, 0, BATCH_BYTES_MAX);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	s->fd = fd;
	s->file_size = (uint64_t)st.st_size;
	s->base_offset = base_offset;
	/* Offsets are never negative, whatever the file is called. */
	s->next_offset = base_offset > 0 ? base_offset : 0;
	return 0;
}

void segment_scan_close(struct segment_scan *s)
{
	batch_reader_free(&s->br);
	free(s->z.p);
	s->z.p = NULL;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

const char *segment_scan_end_name(enum segment_scan_end end)
{
	switch (end) {
	case SEGMENT_SCAN_EOF:
		return "eof";
	case SEGMENT_SCAN_ZEROS:
		return "zeros";
	case SEGMENT_SCAN_TORN:
		return "torn";
	case SEGMENT_SCAN_INVALID:
		return "invalid";
	case SEGMENT_SCAN_GARBAGE:
		return "garbage";
	}
	return "?";
}

void segment_scan_explain_header(const uint8_t *p, size_t len, char *why, size_t cap)
{
	why[0] = '\0';
	if (len < RB_LOG_OVERHEAD)
		return;
	int32_t batch_length = (int32_t)load_be32(p + RB_BATCH_LENGTH);
	if (batch_length < RB_HEADER_BYTES - RB_LOG_OVERHEAD) {
		say(why, cap, "batchLength %" PRId32 " is below the minimum %d", batch_length,
		    RB_HEADER_BYTES - RB_LOG_OVERHEAD);
		return;
	}
	int64_t size = (int64_t)batch_length + RB_LOG_OVERHEAD;
	if (size > (int64_t)BATCH_BYTES_MAX) {
		say(why, cap, "batch size %" PRId64 " is over the largest batch, %llu bytes", size,
		    (unsigned long long)BATCH_BYTES_MAX);
		return;
	}
	if (len < RB_HEADER_BYTES)
		return;
	struct record_batch_header h;
	record_batch_header_read(p, &h);
	uint64_t records_bytes = (uint64_t)size - RB_HEADER_BYTES;
	if (h.magic != RB_MAGIC_V2)
		say(why, cap, "magic %d (expected %d)", h.magic, RB_MAGIC_V2);
	else if (h.records_count < 0)
		say(why, cap, "recordsCount %" PRId32 " is negative", h.records_count);
	else if (h.last_offset_delta < 0)
		say(why, cap, "lastOffsetDelta %" PRId32 " is negative", h.last_offset_delta);
	else if (record_batch_codec(&h) > COMPRESSION_ZSTD)
		say(why, cap, "unknown compression codec %d (attributes 0x%04x)",
		    record_batch_codec(&h), (unsigned)(uint16_t)h.attributes);
	else if (record_batch_codec(&h) == COMPRESSION_NONE &&
	         (uint64_t)h.records_count * RECORD_BYTES_MIN > records_bytes)
		say(why, cap, "recordsCount %" PRId32 " cannot fit in %" PRIu64 " bytes of records",
		    h.records_count, records_bytes);
	else if (h.records_count > 0 && h.last_offset_delta < h.records_count - 1)
		say(why, cap, "lastOffsetDelta %" PRId32 " is below recordsCount - 1 (%" PRId32 ")",
		    h.last_offset_delta, h.records_count - 1);
	else if (h.max_timestamp < h.base_timestamp && h.records_count > 0 &&
	         !(h.attributes & (RB_ATTR_LOG_APPEND_TIME | RB_ATTR_DELETE_HORIZON)) &&
	         h.max_timestamp != -1)
		say(why, cap, "maxTimestamp %" PRId64 " is below baseTimestamp %" PRId64,
		    h.max_timestamp, h.base_timestamp);
}

/* Walks a records section as record_batch_validate's RB_CHECK_RECORDS does, saying which
 * record fails and how. Returns true when every record is well formed. */
static bool walk_records(const uint8_t *records, size_t len, const struct record_batch_header *h,
                         char *why, size_t cap)
{
	struct record_iter it;
	struct record rec;
	int32_t prev_delta = -1, i = 0;
	int rc;
	record_iter_init(&it, records, len, h->records_count);
	while ((rc = record_iter_next(&it, &rec)) == 1) {
		if (rec.offset_delta <= prev_delta) {
			say(why, cap,
			    "record %" PRId32 ": offsetDelta %" PRId32
			    " is not above the previous record's %" PRId32,
			    i, rec.offset_delta, prev_delta);
			return false;
		}
		if (rec.offset_delta > h->last_offset_delta) {
			say(why, cap,
			    "record %" PRId32 ": offsetDelta %" PRId32
			    " is past lastOffsetDelta %" PRId32,
			    i, rec.offset_delta, h->last_offset_delta);
			return false;
		}
		prev_delta = rec.offset_delta;
		i++;
	}
	if (rc == 0)
		return true;
	if (it.remaining <= 0)
		say(why, cap, "%zu bytes follow the last of %" PRId32 " records", it.left,
		    h->records_count);
	else if (it.left == 0)
		say(why, cap, "only %" PRId32 " of %" PRId32 " records", i, h->records_count);
	else
		say(why, cap,
		    "record %" PRId32 " of %" PRId32 " is malformed, at byte %zu of the records", i,
		    h->records_count, len - it.left);
	return false;
}

/* Every check of one framed batch; the first failure is the one reported. */
static void check_batch(struct segment_scan *s, struct segment_scan_batch *b)
{
	const struct record_batch_header *h = &b->h;
	size_t len = record_batch_size(h);
	char why[SEGMENT_SCAN_WHY_BYTES] = "";
	b->records = b->bytes + RB_RECORDS;
	b->records_len = len - RB_RECORDS;
	int rc = record_batch_validate(b->bytes, len, RB_CHECK_CRC | RB_CHECK_RECORDS, NULL);
	if (rc == -TAPE_ECRC)
		say(why, sizeof(why), "crc mismatch: stored %" PRIu32 ", computed %" PRIu32, h->crc,
		    record_batch_compute_crc(b->bytes, len));
	else if (rc < 0 && walk_records(b->records, b->records_len, h, why, sizeof(why)))
		say(why, sizeof(why), "records refused: %s", tape_strerror(rc));
	if (record_batch_codec(h) != COMPRESSION_NONE) {
		s->z.len = 0;
		char zwhy[SEGMENT_SCAN_WHY_BYTES] = "";
		rc = compression_decompress(record_batch_codec(h), b->bytes + RB_RECORDS,
		                            len - RB_RECORDS, &s->z, DECOMPRESSED_BYTES_MAX);
		if (rc < 0) {
			b->records = NULL;
			b->records_len = 0;
			say(zwhy, sizeof(zwhy), "records do not decompress (%s): %s",
			    compression_name(record_batch_codec(h)), tape_strerror(rc));
		} else {
			b->records = s->z.p;
			b->records_len = s->z.len;
			walk_records(b->records, b->records_len, h, zwhy, sizeof(zwhy));
		}
		if (!why[0] && zwhy[0])
			memcpy(why, zwhy, sizeof(why));
	}
	if (!why[0] && h->base_offset < s->next_offset) {
		if (s->batches == 0)
			say(why, sizeof(why),
			    "baseOffset %" PRId64 " is below the segment's, %" PRId64,
			    h->base_offset, s->next_offset);
		else
			say(why, sizeof(why),
			    "baseOffset %" PRId64 " is below %" PRId64
			    ", the end of the previous batch",
			    h->base_offset, s->next_offset);
	}
	if (record_batch_last_offset(h) >= s->next_offset)
		s->next_offset = record_batch_last_offset(h) + 1;
	b->valid = why[0] == '\0';
	memcpy(b->problem, why, sizeof(why));
}

/* The first non-zero byte in [from, to), or to. Returns -errno on a read error. */
static int find_nonzero(int fd, uint64_t from, uint64_t to, uint64_t *at)
{
	uint8_t *buf = malloc(ZERO_SCAN_CHUNK_BYTES);
	if (!buf)
		return -ENOMEM;
	int rc = 0;
	*at = to;
	for (uint64_t pos = from; pos < to;) {
		size_t want =
		    to - pos < ZERO_SCAN_CHUNK_BYTES ? (size_t)(to - pos) : ZERO_SCAN_CHUNK_BYTES;
		ssize_t n = pread(fd, buf, want, (off_t)pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0; /* the file shrank: what is left is zeros */
			break;
		}
		for (ssize_t i = 0; i < n; i++)
			if (buf[i]) {
				*at = pos + (uint64_t)i;
				goto out;
			}
		pos += (uint64_t)n;
	}
out:
	free(buf);
	return rc;
}

static int finish(struct segment_scan *s, enum batch_status st, uint64_t pos)
{
	s->end_position = pos;
	if (!s->seen_invalid)
		s->valid_bytes = pos;
	uint64_t left = s->file_size > pos ? s->file_size - pos : 0;
	s->header_len = left < RB_HEADER_BYTES ? (size_t)left : RB_HEADER_BYTES;
	if (s->header_len &&
	    pread(s->fd, s->header, s->header_len, (off_t)pos) != (ssize_t)s->header_len)
		s->header_len = 0;
	switch (st) {
	case BATCH_END: {
		if (left == 0) {
			s->end = SEGMENT_SCAN_EOF;
			say(s->why, sizeof(s->why), "end of file");
			return 0;
		}
		uint64_t at;
		int rc = find_nonzero(s->fd, pos, s->file_size, &at);
		if (rc < 0)
			return rc;
		if (at == s->file_size) {
			s->end = SEGMENT_SCAN_ZEROS;
			say(s->why, sizeof(s->why),
			    "zeros to the end of file (%" PRIu64 " bytes): preallocated space",
			    left);
		} else {
			s->end = SEGMENT_SCAN_GARBAGE;
			s->garbage_position = at;
			say(s->why, sizeof(s->why),
			    "zeros, then non-zero bytes at position %" PRIu64
			    ": data past a hole (a write that completed after an earlier one did "
			    "not) or garbage",
			    at);
		}
		return 0;
	}
	case BATCH_TORN: {
		s->end = SEGMENT_SCAN_TORN;
		if (s->header_len < RB_LOG_OVERHEAD) {
			say(s->why, sizeof(s->why),
			    "the file ends %" PRIu64 " bytes into a batch header (not zeros)",
			    left);
			return 0;
		}
		int64_t size = (int64_t)load_be32(s->header + RB_BATCH_LENGTH) + RB_LOG_OVERHEAD;
		char hwhy[SEGMENT_SCAN_WHY_BYTES];
		segment_scan_explain_header(s->header, s->header_len, hwhy, sizeof(hwhy));
		say(s->why, sizeof(s->why),
		    "the file ends %" PRIu64 " bytes into a batch of %" PRId64 " bytes%s%s", left,
		    size, hwhy[0] ? "; its header is not valid either: " : "", hwhy);
		return 0;
	}
	case BATCH_INVALID:
		s->end = SEGMENT_SCAN_INVALID;
		segment_scan_explain_header(s->header, s->header_len, s->why, sizeof(s->why));
		if (!s->why[0])
			say(s->why, sizeof(s->why), "not a batch header (%s)",
			    tape_strerror(s->br.err));
		return 0;
	case BATCH_OK:
		break;
	}
	return -EINVAL;
}

int segment_scan_next(struct segment_scan *s, struct segment_scan_batch *b)
{
	const uint8_t *bytes;
	struct record_batch_header h;
	uint64_t pos;
	enum batch_status st = batch_reader_next(&s->br, &bytes, &h, &pos);
	if (st == BATCH_INVALID && s->br.err != -TAPE_EBADBATCH && s->br.err != -TAPE_ECRC)
		return s->br.err < 0 ? s->br.err : -EIO; /* a read error, not the data's fault */
	if (st != BATCH_OK)
		return finish(s, st, pos);
	memset(b, 0, sizeof(*b));
	b->bytes = bytes;
	b->h = h;
	b->position = pos;
	check_batch(s, b);
	s->batches++;
	s->records += (uint64_t)h.records_count;
	if (!b->valid) {
		s->invalid_batches++;
		if (!s->seen_invalid)
			s->valid_bytes = pos;
		s->seen_invalid = true;
	}
	return 1;
}
