/*
 * log/time_index.c: the time index. Format and rules in time_index.h.
 */
#include "log/time_index.h"

#include "base/assert.h"
#include "base/endian.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ENTRY 12

void time_index_init(struct time_index *idx)
{
	memset(idx, 0, sizeof(*idx));
}

void time_index_free(struct time_index *idx)
{
	if (idx->mapped)
		munmap(idx->entries, idx->mapped_bytes);
	else
		free(idx->entries);
	time_index_init(idx);
}

struct time_index_entry time_index_entry_at(const struct time_index *idx, size_t i)
{
	ASSERT(i < idx->count);
	const uint8_t *p = idx->entries + i * ENTRY;
	return (struct time_index_entry){ (int64_t)load_be64(p), load_be32(p + 8) };
}

bool time_index_last(const struct time_index *idx, struct time_index_entry *out)
{
	if (!idx->count)
		return false;
	*out = time_index_entry_at(idx, idx->count - 1);
	return true;
}

static int own(struct time_index *idx, size_t want)
{
	if (!idx->mapped && idx->cap >= want)
		return 0;
	size_t cap = idx->cap ? idx->cap : 64;
	while (cap < want)
		cap *= 2;
	uint8_t *p = malloc(cap * ENTRY);
	if (!p)
		return -ENOMEM;
	if (idx->count)
		memcpy(p, idx->entries, idx->count * ENTRY);
	size_t count = idx->count;
	time_index_free(idx);
	idx->entries = p;
	idx->cap = cap;
	idx->count = count;
	return 0;
}

int time_index_maybe_append(struct time_index *idx, int64_t timestamp, uint32_t relative_offset)
{
	struct time_index_entry last;
	if (time_index_last(idx, &last) &&
	    (timestamp <= last.timestamp || relative_offset <= last.relative_offset))
		return 0;
	int rc = own(idx, idx->count + 1);
	if (rc < 0)
		return rc;
	uint8_t *p = idx->entries + idx->count * ENTRY;
	store_be64(p, (uint64_t)timestamp);
	store_be32(p + 8, relative_offset);
	idx->count++;
	return 0;
}

bool time_index_lookup_before(const struct time_index *idx, int64_t timestamp,
                              struct time_index_entry *out)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)idx->count - 1, found = -1;
	while (lo <= hi) {
		ptrdiff_t mid = lo + (hi - lo) / 2;
		if ((int64_t)load_be64(idx->entries + (size_t)mid * ENTRY) < timestamp) {
			found = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	if (found < 0)
		return false;
	*out = time_index_entry_at(idx, (size_t)found);
	return true;
}

int time_index_truncate_offset(struct time_index *idx, uint32_t relative_offset)
{
	size_t keep = idx->count;
	while (keep > 0 && time_index_entry_at(idx, keep - 1).relative_offset >= relative_offset)
		keep--;
	int rc = own(idx, idx->count ? idx->count : 1);
	if (rc < 0)
		return rc;
	idx->count = keep;
	return 0;
}

bool time_index_valid(const uint8_t *buf, size_t len, uint32_t max_relative_offset)
{
	if (len % ENTRY)
		return false;
	int64_t prev_off = -1;
	int64_t prev_ts = INT64_MIN;
	for (size_t i = 0; i < len; i += ENTRY) {
		int64_t ts = (int64_t)load_be64(buf + i);
		uint32_t off = load_be32(buf + i + 8);
		if ((i && ts <= prev_ts) || (int64_t)off <= prev_off || off > max_relative_offset)
			return false;
		prev_ts = ts;
		prev_off = off;
	}
	return true;
}

int time_index_map(struct time_index *idx, int fd, size_t len)
{
	time_index_free(idx);
	if (len == 0)
		return 0;
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	idx->entries = p;
	idx->count = len / ENTRY;
	idx->cap = idx->count;
	idx->mapped = true;
	idx->mapped_bytes = len;
	return 0;
}
