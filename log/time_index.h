/*
 * log/time_index.h: the time index of one segment, in Kafka's .timeindex format.
 *
 * File layout: a plain array of 12-byte entries, big-endian, no header:
 *   i64 timestamp         the largest record timestamp in the segment so far
 *   u32 relative offset   last offset of the batch that carried it - segment base offset
 * Validity: timestamps and relative offsets strictly increase; otherwise the file is rebuilt
 * from the .log like the offset index (same lifecycle: memory while active, file at seal).
 *
 * An entry is added together with an offset index entry when the segment's max timestamp
 * grew since the last one. Every batch up to an entry's offset has max timestamp <= the
 * entry's timestamp, so the first batch with max timestamp >= T comes after the last entry
 * whose timestamp is < T: lookup_before() gives where a scan may start.
 */
#ifndef TAPE_LOG_TIME_INDEX_H
#define TAPE_LOG_TIME_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct time_index {
	uint8_t *entries; /* owned: buffer or mapping */
	size_t count;
	size_t cap;
	bool mapped;
	size_t mapped_bytes;
};

struct time_index_entry {
	int64_t timestamp;
	uint32_t relative_offset;
};

void time_index_init(struct time_index *idx);
void time_index_free(struct time_index *idx);
/* Appends when timestamp exceeds the last entry's (and relative_offset does too); otherwise
 * does nothing. Returns 0 or -ENOMEM. */
int time_index_maybe_append(struct time_index *idx, int64_t timestamp, uint32_t relative_offset);
/* The last entry with timestamp < timestamp; false when none. */
bool time_index_lookup_before(const struct time_index *idx, int64_t timestamp,
                              struct time_index_entry *out);
struct time_index_entry time_index_entry_at(const struct time_index *idx, size_t i);
/* The newest entry; false when empty. */
bool time_index_last(const struct time_index *idx, struct time_index_entry *out);
/* Drops entries with relative offset >= relative_offset. 0 or -ENOMEM. */
int time_index_truncate_offset(struct time_index *idx, uint32_t relative_offset);
static inline size_t time_index_bytes(const struct time_index *idx)
{
	return idx->count * 12;
}
bool time_index_valid(const uint8_t *buf, size_t len, uint32_t max_relative_offset);
int time_index_map(struct time_index *idx, int fd, size_t len);

#endif
