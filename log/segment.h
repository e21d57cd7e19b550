/*
 * log/segment.h: one segment of a partition: "<20-digit base offset>.log" with its indexes.
 *
 * .log file: RecordBatch v2 bytes exactly as produced, baseOffset and partitionLeaderEpoch
 * stamped by the broker, one batch after another from position 0. The active segment is
 * preallocated in SEGMENT_PREALLOC_BYTES steps (writes that grow a file serialize), so its
 * file is longer than its data and ends in zeros; a sealed segment is cut to its data.
 * Validity: every batch passes record_batch_validate (magic, lengths, CRC-32C, records) and
 * offsets increase from the base offset. Recovery: the valid prefix of the last segments is
 * kept (log/recovery.c); the indexes are rebuilt from the .log whenever in doubt.
 *
 * Sidecars: .index and .timeindex (offset_index.h, time_index.h), written when the segment is
 * sealed; .digest, "XXH3_128 <32 hex digits> <size>\n", the XXH3-128 of the sealed .log, for
 * tape verify and replicas comparing segments.
 *
 * Lifecycle: active (appends go here) -> sealing (a newer segment took over; its last writes
 * complete, then a helper job syncs it, cuts it to size and writes the sidecars) -> sealed.
 * A deleted segment leaves the partition at once; its descriptor closes when the last reader
 * pinning it lets go.
 */
#ifndef TAPE_LOG_SEGMENT_H
#define TAPE_LOG_SEGMENT_H

#include "base/hash.h"
#include "log/offset_index.h"
#include "log/time_index.h"
#include "protocol/record_batch.h"

#include <stdbool.h>
#include <stdint.h>

#define SEGMENT_NAME_BYTES 21 /* 20 digits and a NUL */

enum segment_state { SEGMENT_ACTIVE, SEGMENT_SEALING, SEGMENT_SEALED };

struct segment {
	int64_t base_offset;
	int fd;
	enum segment_state state;
	uint64_t size;         /* bytes of whole batches written (completed) */
	uint64_t reserved;     /* next write position: size + bytes of writes in flight */
	uint64_t prealloc_end; /* file space allocated ahead */
	bool prealloc_inflight;
	int64_t next_offset;   /* after the last batch written */
	int64_t max_timestamp; /* largest batch max timestamp, -1 when empty */
	int64_t created_ms;    /* wall clock at creation (roll by segment.ms) */
	uint32_t bytes_since_index;
	struct offset_index oidx;
	struct time_index tidx;
	int64_t synced_next_offset; /* offsets below are fdatasynced (D2) */
	unsigned writes_inflight;
	unsigned refs; /* readers pinning the descriptor */
	bool deleted;  /* left the partition; close when refs == 0 */
	struct segment *next_deleted;
};

void segment_name(char out[SEGMENT_NAME_BYTES], int64_t base_offset);
/* "<dir>/<20 digits><suffix>". Returns 0 or -ENAMETOOLONG. */
int segment_path(char *out, size_t cap, const char *dir, int64_t base_offset, const char *suffix);
/* Parses "<20 digits>.log"; false when name is not a segment file name. */
bool segment_parse_name(const char *name, int64_t *base_offset);

/* Blocking. Creates "<base>.log" (replacing a stale file of that name), preallocates
 * prealloc_bytes, and fsyncs the directory (D3). */
int segment_create(const char *dir, int64_t base_offset, uint64_t prealloc_bytes, int64_t now_ms,
                   struct segment **out);
/* Blocking. Opens an existing "<base>.log"; size is the file's size until recovery or
 * segment_load_indexes sets it. */
int segment_open(const char *dir, int64_t base_offset, struct segment **out);
/* Blocking. Maps .index/.timeindex if they are valid for the segment's size, else rebuilds
 * them by reading the .log. Also sets next_offset and max_timestamp. With open_tail (the
 * active segment after a clean shutdown) the data may end before the file does (preallocated
 * zeros) and size is set to where it ends. 0 or -errno. */
int segment_load_indexes(struct segment *seg, const char *dir, uint32_t index_interval_bytes,
                         bool open_tail);
/* Blocking. Rebuilds the indexes, next_offset and max_timestamp from the .log up to size;
 * open_tail as above. */
int segment_rebuild_indexes(struct segment *seg, uint32_t index_interval_bytes, bool open_tail);
/* Blocking. Writes .index and .timeindex as they are now, synced (clean shutdown). */
int segment_write_indexes(struct segment *seg, const char *dir);

/* Index bookkeeping for a batch that is now wholly in the file at position (D5). */
int segment_index_batch(struct segment *seg, const struct record_batch_header *h, uint64_t position,
                        uint32_t index_interval_bytes);

/* Blocking seal: fdatasync, cut the file to size, fsync, write .index, .timeindex and .digest
 * (each synced), fsync the directory. On success the indexes are mapped from their files. */
int segment_seal(struct segment *seg, const char *dir);
/* Blocking. XXH3-128 of the first size bytes of the .log. */
int segment_digest(int fd, uint64_t size, struct hash128 *out);
/* Blocking. Reads "<base>.digest": 0, -ENOENT, -TAPE_ECORRUPT. */
int segment_read_digest(const char *dir, int64_t base_offset, struct hash128 *digest,
                        uint64_t *size);
/* Blocking. Unlinks .log, .index, .timeindex, .digest; fsyncs the directory. */
int segment_delete_files(const char *dir, int64_t base_offset);
/* Closes the descriptor and frees. */
void segment_free(struct segment *seg);

#endif
