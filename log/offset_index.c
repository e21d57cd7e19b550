/*
 * log/offset_index.c: the sparse offset index. Format and rules in offset_index.h.
 */
#include "log/offset_index.h"

#include "base/assert.h"
#include "base/endian.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ENTRY 8

void offset_index_init(struct offset_index *idx)
{
	memset(idx, 0, sizeof(*idx));
}

void offset_index_free(struct offset_index *idx)
{
	if (idx->mapped)
		munmap(idx->entries, idx->mapped_bytes);
	else
		free(idx->entries);
	offset_index_init(idx);
}

struct offset_index_entry offset_index_entry_at(const struct offset_index *idx, size_t i)
{
	ASSERT(i < idx->count);
	const uint8_t *p = idx->entries + i * ENTRY;
	return (struct offset_index_entry){ load_be32(p), load_be32(p + 4) };
}

/* Turns a mapping into an owned buffer so it can change. */
static int own(struct offset_index *idx, size_t want)
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
	offset_index_free(idx);
	idx->entries = p;
	idx->cap = cap;
	idx->count = count;
	return 0;
}

int offset_index_append(struct offset_index *idx, uint32_t relative_offset, uint32_t position)
{
	if (idx->count) {
		struct offset_index_entry last = offset_index_entry_at(idx, idx->count - 1);
		ASSERT(relative_offset > last.relative_offset && position > last.position);
	}
	int rc = own(idx, idx->count + 1);
	if (rc < 0)
		return rc;
	uint8_t *p = idx->entries + idx->count * ENTRY;
	store_be32(p, relative_offset);
	store_be32(p + 4, position);
	idx->count++;
	return 0;
}

/* Index of the last entry whose field (0 = offset, 4 = position) is <= key, or -1. */
static ptrdiff_t floor_search(const struct offset_index *idx, uint32_t key, int field)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)idx->count - 1, found = -1;
	while (lo <= hi) {
		ptrdiff_t mid = lo + (hi - lo) / 2;
		uint32_t v = load_be32(idx->entries + (size_t)mid * ENTRY + (size_t)field);
		if (v <= key) {
			found = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return found;
}

bool offset_index_lookup(const struct offset_index *idx, uint32_t relative_offset,
                         struct offset_index_entry *out)
{
	ptrdiff_t i = floor_search(idx, relative_offset, 0);
	if (i < 0)
		return false;
	*out = offset_index_entry_at(idx, (size_t)i);
	return true;
}

bool offset_index_lookup_position(const struct offset_index *idx, uint32_t position,
                                  struct offset_index_entry *out)
{
	ptrdiff_t i = floor_search(idx, position, 4);
	if (i < 0)
		return false;
	*out = offset_index_entry_at(idx, (size_t)i);
	return true;
}

int offset_index_truncate_position(struct offset_index *idx, uint32_t position)
{
	ptrdiff_t keep = idx->count ? floor_search(idx, position, 4) + 1 : 0;
	if (keep > 0 && offset_index_entry_at(idx, (size_t)keep - 1).position >= position)
		keep--;
	int rc = own(idx, idx->count ? idx->count : 1);
	if (rc < 0)
		return rc;
	idx->count = (size_t)keep;
	return 0;
}

bool offset_index_valid(const uint8_t *buf, size_t len, uint32_t segment_size,
                        uint32_t max_relative_offset)
{
	if (len % ENTRY)
		return false;
	int64_t prev_off = -1, prev_pos = -1;
	for (size_t i = 0; i < len; i += ENTRY) {
		uint32_t off = load_be32(buf + i), pos = load_be32(buf + i + 4);
		if ((int64_t)off <= prev_off || (int64_t)pos <= prev_pos || pos >= segment_size ||
		    off > max_relative_offset)
			return false;
		prev_off = off;
		prev_pos = pos;
	}
	return true;
}

int offset_index_map(struct offset_index *idx, int fd, size_t len)
{
	offset_index_free(idx);
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
