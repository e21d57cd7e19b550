/*
 * tests/unit/log/test_read.c: reads by offset and by timestamp against a partition built from
 * known batches, through the reactor: the first range starts at the batch holding the offset
 * (for every offset), ranges hold whole batches only, max_bytes and max_offset bound the
 * result but never below one batch, reads cross segments, pinned segments survive deletion,
 * and offset-for-timestamp finds the first record at or after a time.
 */
#include "base/errors.h"
#include "io/reactor.h"
#include "log/log_read.h"
#include "log/partition.h"
#include "protocol/record_batch.h"
#include "tests/support/batches.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct reactor *r;
static char *dir;
static struct partition *p;
/* batch i holds offsets [first[i], first[i] + count[i]) */
#define BATCHES 300
static int64_t first[BATCHES], counts[BATCHES];

static void append_done(struct partition_append *a, int err)
{
	cr_assert_eq(err, 0);
	free(a->batches);
	free(a);
}

static void build_log(uint32_t segment_bytes)
{
	cr_assert_eq(reactor_create(&r), 0);
	dir = test_tmpdir("read");
	struct partition_config cfg;
	partition_config_default(&cfg);
	cfg.segment_bytes = segment_bytes;
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	int64_t next = 0;
	for (int i = 0; i < BATCHES; i++) {
		struct partition_append *a = calloc(1, sizeof(*a));
		int n = 1 + i % 7;
		uint8_t *buf;
		/* timestamps: batch i's records are at 1000 + 10 i + k */
		a->len =
		    (uint32_t)test_batch_simple(n, 40 + (size_t)(i % 5) * 100, 1000 + 10 * i, &buf);
		a->batches = buf;
		a->done = append_done;
		cr_assert_eq(partition_append(p, a), 0);
		first[i] = next;
		counts[i] = n;
		next += n;
		if (i % 50 == 0)
			cr_assert_eq(reactor_drain(r), 0);
	}
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(partition_written_end(p), next);
}

static void teardown(void)
{
	if (p)
		partition_close(p);
	p = NULL;
	reactor_destroy(r);
	test_rmdir(dir);
}

static bool read_done_flag;
static int read_err;
static void on_read(struct log_read *rd, int err)
{
	(void)rd;
	read_done_flag = true;
	read_err = err;
}

static int do_read(struct log_read *rd, int64_t offset, uint32_t max_bytes, int64_t max_offset)
{
	memset(rd, 0, sizeof(*rd));
	rd->offset = offset;
	rd->max_bytes = max_bytes;
	rd->max_offset = max_offset;
	rd->done = on_read;
	read_done_flag = false;
	int rc = log_read_start(p, rd);
	if (rc == 1) {
		cr_assert_eq(reactor_run_until(r, &read_done_flag), 0);
		cr_assert(read_done_flag);
		rc = read_err;
	}
	return rc;
}

static int batch_of(int64_t offset)
{
	for (int i = 0; i < BATCHES; i++)
		if (offset >= first[i] && offset < first[i] + counts[i])
			return i;
	return -1;
}

/* Reads the ranges back and checks they are whole consecutive batches from the expected
 * one. Returns the number of batches. */
static int check_ranges(const struct log_read *rd, int64_t offset, int64_t max_offset)
{
	int expect = batch_of(offset);
	int n = 0;
	for (unsigned i = 0; i < rd->ranges_count; i++) {
		uint8_t *buf = malloc(rd->ranges[i].len);
		cr_assert_eq(
		    pread(rd->ranges[i].fd, buf, rd->ranges[i].len, (off_t)rd->ranges[i].position),
		    (ssize_t)rd->ranges[i].len);
		for (uint32_t pos = 0; pos < rd->ranges[i].len;) {
			struct record_batch_header h;
			cr_assert_geq(rd->ranges[i].len - pos, RB_HEADER_BYTES);
			record_batch_header_read(buf + pos, &h);
			uint32_t size = record_batch_size(&h);
			cr_assert_leq(pos + size, rd->ranges[i].len, "a batch is cut");
			cr_assert_eq(record_batch_validate(buf + pos, size, RB_CHECK_CRC, NULL), 0);
			cr_assert_eq(h.base_offset, first[expect + n], "batch %d", expect + n);
			cr_assert_lt(record_batch_last_offset(&h), max_offset);
			pos += size;
			n++;
		}
		free(buf);
	}
	return n;
}

Test(read, every_offset_starts_at_its_batch, .fini = teardown)
{
	build_log(16384);
	int64_t end = partition_written_end(p);
	for (int64_t off = 0; off < end; off++) {
		struct log_read rd;
		cr_assert_eq(do_read(&rd, off, 1, end), 0, "offset %lld", (long long)off);
		cr_assert_eq(check_ranges(&rd, off, end), 1, "offset %lld: one batch",
		             (long long)off);
		cr_assert_eq(rd.first_offset, first[batch_of(off)]);
		log_read_release(&rd);
	}
}

Test(read, bounded_by_bytes_and_offsets_across_segments, .fini = teardown)
{
	build_log(8192);
	cr_assert_gt(partition_segments_count(p), 10);
	int64_t end = partition_written_end(p);
	uint32_t sizes[] = { 100, 1000, 5000, 20000, 1 << 20 };
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (int64_t off = 0; off < end; off += 13) {
			/* max_offset is a batch boundary, as the HW and written end are */
			int b = batch_of(off) + (int)((off * 7) % 40);
			int64_t max = b + 1 < BATCHES ? first[b + 1] : end;
			struct log_read rd;
			cr_assert_eq(do_read(&rd, off, sizes[s], max), 0);
			int n = check_ranges(&rd, off, max);
			cr_assert_geq(n, 1);
			cr_assert(rd.bytes <= sizes[s] || n == 1, "bytes %llu > %u with %d batches",
			          (unsigned long long)rd.bytes, sizes[s], n);
			log_read_release(&rd);
		}
	/* A full read from the start returns everything in bounded ranges. */
	struct log_read rd;
	cr_assert_eq(do_read(&rd, 0, 1 << 30, end), 0);
	cr_assert_geq(check_ranges(&rd, 0, end), 1);
	log_read_release(&rd);
}

Test(read, empty_at_end_and_errors_outside, .fini = teardown)
{
	build_log(1 << 20);
	int64_t end = partition_written_end(p);
	struct log_read rd;
	cr_assert_eq(do_read(&rd, end, 1000, end), 0);
	cr_assert_eq(rd.ranges_count, 0);
	log_read_release(&rd);
	cr_assert_eq(do_read(&rd, end + 1, 1000, end), -TAPE_ERANGE);
	cr_assert_eq(do_read(&rd, -1, 1000, end), -TAPE_ERANGE);
	/* Beyond max_offset but within the log: empty (a consumer above the HW). */
	cr_assert_eq(do_read(&rd, 10, 1000, 5), 0);
	cr_assert_eq(rd.ranges_count, 0);
	log_read_release(&rd);
}

static int64_t for_time(int64_t ts, int64_t *found_ts)
{
	struct log_read rd;
	memset(&rd, 0, sizeof(rd));
	rd.done = on_read;
	read_done_flag = false;
	int rc = log_offset_for_time(p, &rd, ts);
	if (rc == 1) {
		cr_assert_eq(reactor_run_until(r, &read_done_flag), 0);
		rc = read_err;
	}
	cr_assert_eq(rc, 0);
	*found_ts = rd.found_timestamp;
	int64_t off = rd.found_offset;
	log_read_release(&rd);
	return off;
}

Test(read, offset_for_timestamp, .fini = teardown)
{
	build_log(8192);
	int64_t ts;
	/* record k of batch i has timestamp 1000 + 10 i + k and offset first[i] + k */
	for (int i = 0; i < BATCHES; i += 3)
		for (int k = 0; k < counts[i]; k++) {
			int64_t off = for_time(1000 + 10 * i + k, &ts);
			cr_assert_eq(off, first[i] + k, "batch %d record %d", i, k);
			cr_assert_eq(ts, 1000 + 10 * i + k);
		}
	/* Between batches: the next batch's first record. */
	cr_assert_eq(for_time(1000 + 10 * 5 + 8, &ts), first[6]);
	cr_assert_eq(for_time(0, &ts), 0);
	cr_assert_eq(for_time(1000 + 10 * BATCHES, &ts), -1);
	cr_assert_eq(ts, -1);
}
