/*
 * log/segment_scan.h: reads one .log file batch by batch for the offline tools (tape dump,
 * tape verify), and says in words what is wrong with each batch and where and why the data
 * ends. Blocking (pread); never on the reactor thread.
 *
 * Each batch whose header frames it (magic, lengths, counts: batch_reader's checks) is
 * yielded, valid or not, so a tool can show a batch with a bad CRC and go on to the next one,
 * as kafka-dump-log does. A batch is valid when it also passes record_batch_validate with
 * RB_CHECK_CRC | RB_CHECK_RECORDS, its records decompress (compressed batches) and walk
 * cleanly, and its base offset is not below the previous batch's end (or the segment's base
 * offset, for the first). The scan stops where no batch is framed any more; the end is one of
 * enum segment_scan_end, with a sentence and the bytes found there.
 *
 * valid_bytes is the valid prefix: the position of the first invalid batch, or the end of
 * data when every batch was valid. It is where recovery would cut a tail segment.
 */
#ifndef TAPE_LOG_SEGMENT_SCAN_H
#define TAPE_LOG_SEGMENT_SCAN_H

#include "log/batch_reader.h"
#include "protocol/compression.h"
#include "protocol/record_batch.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for one sentence about a batch or the end of data. */
#define SEGMENT_SCAN_WHY_BYTES 200

enum segment_scan_end {
	SEGMENT_SCAN_EOF,     /* the last batch ends where the file does */
	SEGMENT_SCAN_ZEROS,   /* zeros from the end of data to the end of file (preallocated) */
	SEGMENT_SCAN_TORN,    /* the file ends inside a batch */
	SEGMENT_SCAN_INVALID, /* bytes that do not frame a batch: nothing after them is read */
	SEGMENT_SCAN_GARBAGE, /* zeros where a batch would start, then non-zero bytes later */
};

struct segment_scan_batch {
	const uint8_t *bytes; /* borrowed: valid until the next segment_scan_next */
	struct record_batch_header h;
	uint64_t position;
	/* The records section, decompressed when the codec says so; borrowed like bytes. NULL
	 * when it could not be decompressed. */
	const uint8_t *records;
	size_t records_len;
	bool valid;
	char problem[SEGMENT_SCAN_WHY_BYTES]; /* what is wrong, when !valid */
};

struct segment_scan {
	int fd; /* owned */
	uint64_t file_size;
	int64_t base_offset; /* from the file name; -1 when unknown */
	int64_t next_offset; /* the lowest base offset the next batch may have */
	uint64_t batches;
	uint64_t records;
	uint64_t invalid_batches;
	uint64_t valid_bytes;
	bool seen_invalid;
	struct batch_reader br;
	struct compression_buf z; /* owned: decompressed records */
	/* Set when segment_scan_next returns 0. */
	enum segment_scan_end end;
	uint64_t end_position;     /* where the framed batches end */
	uint64_t garbage_position; /* SEGMENT_SCAN_GARBAGE: the first non-zero byte */
	char why[SEGMENT_SCAN_WHY_BYTES];
	/* The bytes at end_position (up to a header's worth) for TORN and INVALID, so the
	 * offending header fields can be shown. */
	uint8_t header[RB_HEADER_BYTES];
	size_t header_len;
};

/* Opens path for reading. base_offset is the segment's (from its name) or -1. Returns 0,
 * -errno, or -EISDIR / -EINVAL for something that is not a regular file. */
int segment_scan_open(struct segment_scan *s, const char *path, int64_t base_offset);
/* 1 and *b filled with the next framed batch; 0 at the end (s->end and the fields after it
 * set); -errno when the file cannot be read. */
int segment_scan_next(struct segment_scan *s, struct segment_scan_batch *b);
void segment_scan_close(struct segment_scan *s);

/* "eof", "zeros", "torn", "invalid", "garbage". */
const char *segment_scan_end_name(enum segment_scan_end end);

/* Explains why the header bytes at p (len of them, len >= RB_LOG_OVERHEAD) do not frame a
 * batch, in the order record_batch_validate checks; writes "" when they do. */
void segment_scan_explain_header(const uint8_t *p, size_t len, char *why, size_t cap);

#endif
