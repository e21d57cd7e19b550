/*
 * log/verify.h: checks a partition directory offline, as `tape verify` does: every segment's
 * batches, the sidecars against their .log, the checkpoints. Blocking and read-only; it does
 * not need (and does not take) the partition open, and it never repairs anything.
 *
 * What is checked, per segment "<base>.log" in offset order:
 *   - every batch: CRC-32C and record structure (record_batch_validate with RB_CHECK_CRC |
 *     RB_CHECK_RECORDS), compressed records decompressed and walked too (segment_scan.h);
 *   - offsets: strictly increasing across the whole partition, each segment's within
 *     [its base, the next segment's base), each within a 32-bit distance of its base;
 *     partitionLeaderEpoch never decreasing;
 *   - the end of data: a sealed segment (every one but the last) ends exactly at the end of
 *     its file; the last (active) one may end in preallocated zeros, never in a torn batch,
 *     invalid bytes or data after zeros;
 *   - ".digest" (when present): its size is the .log's and its XXH3-128 is segment_digest's;
 *   - ".index", ".timeindex" (when present): offset_index_valid / time_index_valid as the
 *     loader checks them, and every offset index entry at a batch start whose last offset is
 *     the entry's, every time index entry at a batch's last offset with the largest batch
 *     timestamp up to there. The active segment's index files are exact only after a clean
 *     shutdown (partition.checkpoint's clean flag): otherwise their mismatches are notes;
 * and, for the partition: partition.checkpoint, leader-epoch.checkpoint and
 * producer-state.checkpoint read and decode; the recovery point and log start offset are not
 * past the log end offset.
 *
 * Report lines: "problem: <file>: <where>: <what>" for each problem (counted), and
 * "note: <file>: <what>" for things worth knowing that recovery handles on its own (missing
 * sidecars, leftovers of interrupted writes, quarantined ranges).
 */
#ifndef TAPE_LOG_VERIFY_H
#define TAPE_LOG_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct verify_result {
	unsigned segments;
	uint64_t batches;
	uint64_t records;
	uint64_t bytes; /* valid prefix of every segment, summed */
	unsigned problems;
	unsigned notes;
};

/* Checks the partition in dir, writing report lines to report. Returns 0 when the check ran
 * (res says what it found, res->problems == 0 means the partition is sound), or -errno when
 * dir cannot be listed. */
int verify_partition(const char *dir, FILE *report, struct verify_result *res);

/* Reads a whole file no larger than max_bytes into *out (malloc'ed; free it). Returns 0,
 * -ENOENT, -EFBIG when the file is larger, or -errno. */
int verify_read_file(const char *path, uint64_t max_bytes, uint8_t **out, size_t *len);

/* Checkpoint files (log/checkpoint.h's layout), as they are on disk. */
struct verify_checkpoint_header {
	bool magic_ok;
	uint16_t version;
	uint16_t kind; /* enum checkpoint_kind */
	uint32_t payload_len;
	uint64_t checksum;          /* stored */
	uint64_t checksum_computed; /* over the payload as it is */
};

/* Checks the bytes of a whole checkpoint file as checkpoint_read does, filling *hdr with what
 * could be read. Returns true when valid; otherwise why says which check failed. */
bool verify_checkpoint_bytes(const uint8_t *file, size_t len, struct verify_checkpoint_header *hdr,
                             char *why, size_t cap);

/* The payload of partition.checkpoint: i64 recovery point, i64 log start offset, i64 high
 * watermark, u8 clean flag, u32 n, n x (i64 start, i64 end) quarantined ranges. */
#define VERIFY_QUARANTINE_MAX 16 /* QUARANTINE_MAX of log/partition_internal.h */
struct verify_partition_state {
	int64_t recovery_point;
	int64_t log_start_offset;
	int64_t high_watermark;
	bool clean;
	uint32_t quarantine_count;
	struct {
		int64_t start;
		int64_t end;
	} quarantine[VERIFY_QUARANTINE_MAX];
};

/* Decodes (and checks, as recovery does) a partition.checkpoint payload. Returns true, or
 * false with why filled. */
bool verify_decode_partition_state(const uint8_t *payload, size_t len,
                                   struct verify_partition_state *st, char *why, size_t cap);

#endif
