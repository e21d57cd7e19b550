/*
 * tests/unit/log/test_index.c: the sparse offset and time indexes on their own. Lookups at
 * every boundary (before the first entry, on each entry, between entries, after the last),
 * by offset and by position; truncation; the file format validity rules; the mapped form
 * answering like the in-memory one.
 */
#include "log/offset_index.h"
#include "log/time_index.h"
#include "tests/support/batches.h"
#include "tests/support/logtest.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* entry i: relative offset 10 i + 9 (a batch's last offset), position 100 i + 50 */
static void fill(struct offset_index *idx, int n)
{
	offset_index_init(idx);
	for (int i = 0; i < n; i++)
		cr_assert_eq(
		    offset_index_append(idx, (uint32_t)(10 * i + 9), (uint32_t)(100 * i + 50)), 0);
}

static void check_lookups(const struct offset_index *idx, int n)
{
	struct offset_index_entry e;
	for (uint32_t off = 0; off < (uint32_t)(10 * n + 20); off++) {
		bool found = offset_index_lookup(idx, off, &e);
		if (off < 9) {
			cr_assert(!found, "offset %u", off);
			continue;
		}
		int i = (int)((off - 9) / 10);
		if (i >= n)
			i = n - 1;
		cr_assert(found);
		cr_assert_eq(e.relative_offset, (uint32_t)(10 * i + 9), "offset %u", off);
		cr_assert_eq(e.position, (uint32_t)(100 * i + 50));
	}
	for (uint32_t pos = 0; pos < (uint32_t)(100 * n + 200); pos++) {
		bool found = offset_index_lookup_position(idx, pos, &e);
		if (pos < 50) {
			cr_assert(!found);
			continue;
		}
		int i = (int)((pos - 50) / 100);
		if (i >= n)
			i = n - 1;
		cr_assert(found);
		cr_assert_eq(e.position, (uint32_t)(100 * i + 50), "position %u", pos);
	}
}

Test(offset_index, lookups_at_every_boundary)
{
	struct offset_index idx;
	for (int n = 0; n < 9; n++) {
		fill(&idx, n);
		struct offset_index_entry e;
		if (n == 0)
			cr_assert(!offset_index_lookup(&idx, 1000, &e));
		else
			check_lookups(&idx, n);
		offset_index_free(&idx);
	}
}

Test(offset_index, truncate_by_position)
{
	struct offset_index idx;
	fill(&idx, 6);
	cr_assert_eq(offset_index_truncate_position(&idx, 351), 0); /* keeps 50..350 */
	cr_assert_eq(idx.count, 4);
	cr_assert_eq(offset_index_truncate_position(&idx, 350), 0); /* an entry at the cut goes */
	cr_assert_eq(idx.count, 3);
	cr_assert_eq(offset_index_truncate_position(&idx, 0), 0);
	cr_assert_eq(idx.count, 0);
	cr_assert_eq(offset_index_append(&idx, 1, 1), 0);
	offset_index_free(&idx);
}

Test(offset_index, file_validity_and_mapping)
{
	struct offset_index idx;
	fill(&idx, 7);
	size_t len = offset_index_bytes(&idx);
	cr_assert(offset_index_valid(idx.entries, len, 1000, 1000));
	cr_assert(!offset_index_valid(idx.entries, len - 1, 1000, 1000), "not a multiple of 8");
	cr_assert(!offset_index_valid(idx.entries, len, 650, 1000), "position past the segment");
	cr_assert(!offset_index_valid(idx.entries, len, 1000, 60), "offset past the segment");
	uint8_t *bad = malloc(len);
	memcpy(bad, idx.entries, len);
	memcpy(bad + 16, bad + 8, 8); /* a repeated entry */
	cr_assert(!offset_index_valid(bad, len, 1000, 1000));
	free(bad);
	/* The mapped file answers like memory, and truncation copies it out first. */
	char *dir = test_tmpdir("index");
	char *path = lt_path(dir, "x.index");
	lt_file_write(path, idx.entries, len);
	int fd = open(path, O_RDONLY);
	struct offset_index mapped;
	offset_index_init(&mapped);
	cr_assert_eq(offset_index_map(&mapped, fd, len), 0);
	close(fd);
	check_lookups(&mapped, 7);
	cr_assert_eq(offset_index_truncate_position(&mapped, 251), 0);
	cr_assert(!mapped.mapped);
	cr_assert_eq(mapped.count, 3);
	offset_index_free(&mapped);
	offset_index_free(&idx);
	free(path);
	test_rmdir(dir);
}

Test(time_index, only_growing_timestamps_and_strict_lookup)
{
	struct time_index idx;
	time_index_init(&idx);
	cr_assert_eq(time_index_maybe_append(&idx, 100, 5), 0);
	cr_assert_eq(time_index_maybe_append(&idx, 100, 6), 0); /* same time: ignored */
	cr_assert_eq(time_index_maybe_append(&idx, 90, 7), 0);  /* older: ignored */
	cr_assert_eq(time_index_maybe_append(&idx, 200, 9), 0);
	cr_assert_eq(time_index_maybe_append(&idx, 300, 20), 0);
	cr_assert_eq(idx.count, 3);
	struct time_index_entry e;
	cr_assert(!time_index_lookup_before(&idx, 100, &e), "strictly before");
	cr_assert(time_index_lookup_before(&idx, 101, &e));
	cr_assert_eq(e.relative_offset, 5);
	cr_assert(time_index_lookup_before(&idx, 200, &e));
	cr_assert_eq(e.timestamp, 100);
	cr_assert(time_index_lookup_before(&idx, 1000, &e));
	cr_assert_eq(e.relative_offset, 20);
	cr_assert(time_index_valid(idx.entries, time_index_bytes(&idx), 20));
	cr_assert(!time_index_valid(idx.entries, time_index_bytes(&idx), 19));
	cr_assert_eq(time_index_truncate_offset(&idx, 9), 0);
	cr_assert_eq(idx.count, 1);
	cr_assert(time_index_last(&idx, &e));
	cr_assert_eq(e.timestamp, 100);
	time_index_free(&idx);
}
