/*
 * log/offset_index.h: the sparse offset index of one segment, in Kafka's .index format.
 *
 * File layout: a plain array of 8-byte entries, big-endian, no header:
 *   u32 relative offset   (last offset of a batch - segment base offset)
 *   u32 position          (byte position of that batch's start in the .log)
 * Validity: relative offsets and positions strictly increase. A file that is not a multiple of
 * 8 bytes, is not increasing, or points past the end of its segment is rebuilt from the .log.
 * Recovery: the index of every segment recovery scans is rebuilt; the file is written when a
 * segment is sealed, so an active segment's index lives only in memory.
 *
 * An entry is added for a batch when at least index_interval_bytes of log were written since
 * the previous entry, so finding a batch scans at most one interval plus one batch.
 * lookup(offset) returns the entry with the largest relative offset <= the one asked: the batch
 * at its position ends at or before offset, and the batch holding offset is there or after.
 *
 * Entries are kept in memory in the file's byte format, in a buffer the index owns (active
 * segment) or in a read-only mapping of the file (sealed segment), so sealing is one write.
 */
#ifndef TAPE_LOG_OFFSET_INDEX_H
#define TAPE_LOG_OFFSET_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct offset_index {
	uint8_t *entries; /* owned: malloc'ed buffer, or a mapping when mapped */
	size_t count;
	size_t cap; /* entries the buffer holds */
	bool mapped;
	size_t mapped_bytes;
};

struct offset_index_entry {
	uint32_t relative_offset;
	uint32_t position;
};

void offset_index_init(struct offset_index *idx);
void offset_index_free(struct offset_index *idx);
/* Appends an entry; both fields must exceed the last entry's. Returns 0 or -ENOMEM. */
int offset_index_append(struct offset_index *idx, uint32_t relative_offset, uint32_t position);
/* The entry with the largest relative offset <= relative_offset; false when there is none
 * (the answer is then the segment start). */
bool offset_index_lookup(const struct offset_index *idx, uint32_t relative_offset,
                         struct offset_index_entry *out);
/* The entry with the largest position <= position; false when none. */
bool offset_index_lookup_position(const struct offset_index *idx, uint32_t position,
                                  struct offset_index_entry *out);
struct offset_index_entry offset_index_entry_at(const struct offset_index *idx, size_t i);
/* Drops entries whose position is >= position (truncation). Keeps a mapping's entries by
 * copying them into a buffer first. Returns 0 or -ENOMEM. */
int offset_index_truncate_position(struct offset_index *idx, uint32_t position);
/* Bytes of the file format: count * 8 at entries. */
static inline size_t offset_index_bytes(const struct offset_index *idx)
{
	return idx->count * 8;
}
/* Checks file bytes: multiple of 8, strictly increasing, positions < segment_size, relative
 * offsets <= max_relative_offset. */
bool offset_index_valid(const uint8_t *buf, size_t len, uint32_t segment_size,
                        uint32_t max_relative_offset);
/* Maps an index file read-only (after offset_index_valid on its bytes). 0 or -errno. */
int offset_index_map(struct offset_index *idx, int fd, size_t len);

#endif
