/*
 * tests/unit/log/test_append.c: appends through a real reactor into a temp directory: offsets
 * assigned in order, the bytes on disk exactly the batches with baseOffset stamped, written
 * and durable ends under each flush mode, validation refusing bad batches before anything is
 * written, rolling by size, idempotent duplicates answered with their original offsets.
 */
#include "base/clock.h"
#include "base/errors.h"
#include "io/reactor.h"
#include "log/batch_reader.h"
#include "log/partition.h"
#include "tests/support/batches.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct reactor *r;
static char *dir;
static struct partition_config cfg;

static void setup(void)
{
	cr_assert_eq(reactor_create(&r), 0);
	dir = test_tmpdir("append");
	partition_config_default(&cfg);
}

static void teardown(void)
{
	reactor_destroy(r);
	test_rmdir(dir);
}

struct waiter {
	struct partition_append a;
	int calls;
	int err;
	uint8_t *buf;
};

static void on_done(struct partition_append *a, int err)
{
	struct waiter *w = (struct waiter *)a;
	w->calls++;
	w->err = err;
}

static int append_simple(struct partition *p, struct waiter *w, int records, size_t value_bytes)
{
	memset(w, 0, sizeof(*w));
	w->a.len = (uint32_t)test_batch_simple(records, value_bytes, 1000, &w->buf);
	w->a.batches = w->buf;
	w->a.done = on_done;
	w->a.origin = APPEND_CLIENT;
	return partition_append(p, &w->a);
}

static int64_t count_batches(const char *path, int64_t *last_offset)
{
	int fd = open(path, O_RDONLY);
	cr_assert(fd >= 0, "open %s", path);
	struct batch_reader br;
	cr_assert_eq(batch_reader_init(&br, fd, 0, UINT64_MAX, RB_CHECK_CRC, 1 << 26), 0);
	const uint8_t *b;
	struct record_batch_header h;
	uint64_t pos;
	int64_t n = 0;
	while (batch_reader_next(&br, &b, &h, &pos) == BATCH_OK) {
		cr_assert_eq(h.base_offset, *last_offset + 1);
		*last_offset = record_batch_last_offset(&h);
		n++;
	}
	batch_reader_free(&br);
	close(fd);
	return n;
}

TestSuite(append, .init = setup, .fini = teardown);

Test(append, offsets_and_durable_end_with_group_commit)
{
	struct partition *p;
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	cr_assert_eq(partition_log_end_offset(p), 0);
	struct waiter w[10];
	for (int i = 0; i < 10; i++)
		cr_assert_eq(append_simple(p, &w[i], 3, 100), 0);
	cr_assert_eq(partition_log_end_offset(p), 30);
	cr_assert_eq(reactor_drain(r), 0);
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(w[i].calls, 1);
		cr_assert_eq(w[i].err, 0);
		cr_assert_eq(w[i].a.base_offset, i * 3);
		cr_assert_eq(w[i].a.last_offset, i * 3 + 2);
		free(w[i].buf);
	}
	cr_assert_eq(partition_written_end(p), 30);
	cr_assert_eq(partition_durable_end(p), 30);
	partition_close(p);

	char path[512];
	snprintf(path, sizeof(path), "%s/00000000000000000000.log", dir);
	int64_t last = -1;
	cr_assert_eq(count_batches(path, &last), 10);
	cr_assert_eq(last, 29);
}

Test(append, flush_none_is_written_not_durable)
{
	cfg.flush_mode = FLUSH_NONE;
	struct partition *p;
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	struct waiter w;
	cr_assert_eq(append_simple(p, &w, 5, 10), 0);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(partition_written_end(p), 5);
	cr_assert_eq(partition_durable_end(p), 0);
	free(w.buf);
	partition_close(p);
}

Test(append, bad_batches_refused_before_writing)
{
	struct partition *p;
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	struct waiter w;
	memset(&w, 0, sizeof(w));
	w.a.len = (uint32_t)test_batch_simple(2, 20, 1000, &w.buf);
	w.a.batches = w.buf;
	w.a.done = on_done;
	w.buf[40] ^= 1; /* inside the CRC range */
	cr_assert_eq(partition_append(p, &w.a), -TAPE_ECRC);
	w.buf[40] ^= 1;
	w.buf[16] = 1; /* magic */
	cr_assert_eq(partition_append(p, &w.a), -TAPE_EBADBATCH);
	w.buf[16] = 2;
	w.a.len -= 1; /* truncated */
	cr_assert_eq(partition_append(p, &w.a), -TAPE_EBADBATCH);
	w.a.len += 1;
	cfg.max_batch_bytes = 64;
	cr_assert_eq(partition_set_config(p, &cfg), 0);
	cr_assert_eq(partition_append(p, &w.a), -TAPE_ETOOLARGE);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(w.calls, 0);
	cr_assert_eq(partition_log_end_offset(p), 0);
	free(w.buf);
	partition_close(p);
}

Test(append, rolls_by_size)
{
	cfg.segment_bytes = 4096;
	struct partition *p;
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	struct waiter w[40];
	for (int i = 0; i < 40; i++) {
		int rc = append_simple(p, &w[i], 4, 200);
		cr_assert_eq(rc, 0, "append %d: %s", i, tape_strerror(rc));
	}
	cr_assert_eq(reactor_drain(r), 0);
	for (int i = 0; i < 40; i++) {
		cr_assert_eq(w[i].err, 0);
		cr_assert_eq(w[i].a.base_offset, i * 4);
		free(w[i].buf);
	}
	cr_assert_gt(partition_segments_count(p), 8);
	cr_assert_eq(partition_durable_end(p), 160);
	unsigned segs = partition_segments_count(p);
	partition_close(p);

	/* Every segment holds whole batches with contiguous offsets, below its size. */
	int64_t last = -1, batches = 0;
	for (int64_t base = 0; last < 159;) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%020lld.log", dir, (long long)base);
		cr_assert_eq(access(path, F_OK), 0, "segment %lld", (long long)base);
		batches += count_batches(path, &last);
		base = last + 1;
	}
	cr_assert_eq(batches, 40);
	(void)segs;
}

static int append_idempotent(struct partition *p, struct waiter *w, int64_t pid, int16_t epoch,
                             int32_t seq, int records)
{
	memset(w, 0, sizeof(*w));
	struct test_batch_spec spec = {
		.records = records,
		.value_bytes = 10,
		.timestamp_ms = clock_wall_ms(), /* producer state expires by batch time */
		.producer_id = pid,
		.producer_epoch = epoch,
		.base_sequence = seq,
	};
	w->a.len = (uint32_t)test_batch_build(&spec, &w->buf);
	w->a.batches = w->buf;
	w->a.done = on_done;
	return partition_append(p, &w->a);
}

Test(append, idempotent_duplicate_gets_original_offsets)
{
	struct partition *p;
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	struct waiter w1, w2, dup, gap, old;
	cr_assert_eq(append_idempotent(p, &w1, 7, 0, 0, 3), 0);
	cr_assert_eq(append_idempotent(p, &w2, 7, 0, 3, 2), 0);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(append_idempotent(p, &dup, 7, 0, 0, 3), 0);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(dup.calls, 1);
	cr_assert(dup.a.duplicate);
	cr_assert_eq(dup.a.base_offset, 0);
	cr_assert_eq(dup.a.last_offset, 2);
	cr_assert_eq(partition_log_end_offset(p), 5);
	cr_assert_eq(append_idempotent(p, &gap, 7, 0, 9, 1), -TAPE_ESEQUENCE);
	cr_assert_eq(append_idempotent(p, &old, 7, 1, 0, 1), 0); /* new epoch from 0 */
	cr_assert_eq(reactor_drain(r), 0);
	free(old.buf);
	cr_assert_eq(append_idempotent(p, &old, 7, 0, 5, 1), -TAPE_EPRODUCER_FENCED);
	free(w1.buf);
	free(w2.buf);
	free(dup.buf);
	free(gap.buf);
	free(old.buf);
	partition_close(p);

	/* The producer state survives a restart. */
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	cr_assert_eq(append_idempotent(p, &dup, 7, 1, 0, 1), 0);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert(dup.a.duplicate);
	cr_assert_eq(dup.a.base_offset, 5);
	free(dup.buf);
	partition_close(p);
}
