/*
 * tests/unit/log/test_lifecycle.c: how a partition's range moves over time, through a real
 * reactor: retention by size and by time deletes whole sealed segments from the oldest and
 * moves the log start offset (persisted); delete-records moves it to an offset; truncation
 * (at a batch boundary and inside a batch) removes the end, later segments included, and
 * appends continue from the new end with the producer state and leader epochs rolled back;
 * leader epochs are stamped, answered (OffsetForLeaderEpoch) and kept across restarts;
 * FLUSH_INTERVAL makes data durable without fsync mode; segment.ms rolls by age.
 */
#include "base/clock.h"
#include "base/diag.h"
#include "base/errors.h"
#include "io/reactor.h"
#include "log/partition_internal.h"
#include "tests/support/batches.h"
#include "tests/support/logtest.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct reactor *r;
static char *dir;
static struct partition_config cfg;
static struct partition *p;

static void setup(void)
{
	diag_set_level(DIAG_WARN);
	cr_assert_eq(reactor_create(&r), 0);
	dir = test_tmpdir("life");
	partition_config_default(&cfg);
	cfg.segment_bytes = 4096;
}

static void teardown(void)
{
	if (p)
		partition_close(p);
	p = NULL;
	reactor_destroy(r);
	test_rmdir(dir);
}

TestSuite(lifecycle, .init = setup, .fini = teardown);

static void open_part(void)
{
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
}

static void reopen(void)
{
	partition_close(p);
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
}

/* n batches of 2 records of ~900 bytes: four to a 4 KiB segment. */
static void fill(int n, int64_t ts)
{
	for (int i = 0; i < n; i++)
		cr_assert_eq(lt_append_simple(p, 2, 900, ts + i), 0);
	lt_drain(r);
}

static bool segment_file_exists(int64_t base)
{
	char name[64];
	snprintf(name, sizeof(name), "%020lld.log", (long long)base);
	char *path = lt_path(dir, name);
	bool ok = access(path, F_OK) == 0;
	free(path);
	return ok;
}

Test(lifecycle, retention_by_size)
{
	open_part();
	fill(40, clock_wall_ms());
	partition_set_high_watermark(p, partition_log_end_offset(p));
	unsigned before = partition_segments_count(p);
	uint64_t size = partition_size_bytes(p);
	cr_assert_gt(before, 5);
	cfg.retention_bytes = (int64_t)(size / 2);
	cr_assert_eq(partition_set_config(p, &cfg), 0);
	int n = partition_retention_run(p, clock_wall_ms(), NULL, NULL);
	cr_assert_gt(n, 0);
	lt_drain(r);
	cr_assert_leq(partition_size_bytes(p), size / 2 + 4096);
	int64_t start = partition_log_start_offset(p);
	cr_assert_eq(start, p->segs[0]->base_offset);
	cr_assert_gt(start, 0);
	cr_assert(!segment_file_exists(0));
	int64_t first;
	cr_assert_eq(lt_read_at(r, p, start - 1, &first), -TAPE_ERANGE);
	cr_assert_eq(lt_read_at(r, p, start, &first), 0);
	reopen();
	cr_assert_eq(partition_log_start_offset(p), start);
	cr_assert_eq(partition_segments_count(p), before - (unsigned)n);
}

Test(lifecycle, retention_by_time_and_never_past_the_hw)
{
	open_part();
	int64_t now = clock_wall_ms();
	fill(12, now - 3600 * 1000); /* an hour old */
	fill(12, now);
	cfg.retention_ms = 60 * 1000;
	cr_assert_eq(partition_set_config(p, &cfg), 0);
	/* Nothing is deleted above the high watermark. */
	partition_set_high_watermark(p, 0);
	cr_assert_eq(partition_retention_run(p, now, NULL, NULL), 0);
	partition_set_high_watermark(p, partition_log_end_offset(p));
	int n = partition_retention_run(p, now, NULL, NULL);
	lt_drain(r);
	cr_assert_geq(n, 2);
	/* Every remaining segment but the first holding old data is recent. */
	for (unsigned i = 0; i < partition_segments_count(p); i++)
		cr_assert(p->segs[i]->max_timestamp >= now - 60 * 1000 || i == 0);
	/* Records 24 .. 47 (the recent ones) are all still there. */
	int64_t first;
	cr_assert_eq(lt_read_at(r, p, 24, &first), 0);
}

Test(lifecycle, delete_records)
{
	open_part();
	fill(20, clock_wall_ms());
	int64_t leo = partition_log_end_offset(p);
	partition_set_high_watermark(p, leo);
	cr_assert_eq(partition_delete_records(p, leo + 1, NULL, NULL), -TAPE_ERANGE);
	cr_assert_eq(partition_delete_records(p, 17, NULL, NULL), 0);
	lt_drain(r);
	cr_assert_eq(partition_log_start_offset(p), 17);
	int64_t first;
	cr_assert_eq(lt_read_at(r, p, 16, &first), -TAPE_ERANGE);
	cr_assert_eq(lt_read_at(r, p, 17, &first), 0);
	cr_assert_eq(first, 16, "the batch holding 17 starts at 16");
	cr_assert(!segment_file_exists(0));
	reopen();
	cr_assert_eq(partition_log_start_offset(p), 17);
	cr_assert_eq(partition_log_end_offset(p), leo);
}

static int truncated_err = 1;
static void on_truncated(void *arg, int err)
{
	(void)arg;
	truncated_err = err;
}

static void truncate_to(int64_t offset)
{
	truncated_err = 1;
	cr_assert_eq(partition_truncate_to(p, offset, on_truncated, NULL), 0);
	lt_drain(r);
	cr_assert_eq(truncated_err, 0);
}

static void truncate_fully_to(int64_t offset)
{
	truncated_err = 1;
	cr_assert_eq(partition_truncate_fully(p, offset, on_truncated, NULL), 0);
	lt_drain(r);
	cr_assert_eq(truncated_err, 0);
}

Test(lifecycle, truncate_at_boundary_and_inside_a_batch)
{
	open_part();
	fill(20, clock_wall_ms()); /* batch i holds offsets 2i, 2i+1 */
	unsigned segs = partition_segments_count(p);
	truncate_to(21); /* inside batch 10: the whole batch goes */
	cr_assert_eq(partition_log_end_offset(p), 20);
	cr_assert_lt(partition_segments_count(p), segs);
	uint8_t *data;
	size_t n;
	cr_assert_eq(lt_read_all(r, p, 20, &data, &n), 0);
	free(data);
	int64_t first;
	cr_assert_eq(lt_read_at(r, p, 21, &first), -TAPE_ERANGE);
	/* Appends continue from the new end. */
	fill(3, clock_wall_ms());
	cr_assert_eq(partition_log_end_offset(p), 26);
	cr_assert_eq(lt_read_at(r, p, 20, &first), 0);
	cr_assert_eq(first, 20);
	truncate_to(24); /* a boundary */
	cr_assert_eq(partition_log_end_offset(p), 24);
	reopen();
	cr_assert_eq(partition_log_end_offset(p), 24);
	cr_assert_eq(lt_read_all(r, p, 24, &data, &n), 0);
	free(data);
	/* Truncating into the first segment, then to the log start. */
	truncate_to(3);
	cr_assert_eq(partition_log_end_offset(p), 2);
	truncate_to(0);
	cr_assert_eq(partition_log_end_offset(p), 0);
	fill(2, clock_wall_ms());
	cr_assert_eq(partition_log_end_offset(p), 4);
	reopen();
	cr_assert_eq(partition_log_end_offset(p), 4);
}

/* A follower below its leader's log start: the log restarts empty at an offset past its
 * end, persists so, and appends continue there with the leader's offsets. */
Test(lifecycle, truncate_fully_restarts_past_the_end)
{
	open_part();
	cr_assert_eq(partition_become_leader(p, 2), 0);
	fill(6, clock_wall_ms()); /* offsets 0-11 over two segments */
	partition_set_high_watermark(p, 4);
	truncated_err = 1;
	cr_assert_eq(partition_truncate_fully(p, 100, on_truncated, NULL), 0);
	cr_assert_eq(partition_truncate_fully(p, 100, on_truncated, NULL), -TAPE_EBUSY);
	lt_drain(r);
	cr_assert_eq(truncated_err, 0);
	cr_assert_eq(partition_log_start_offset(p), 100);
	cr_assert_eq(partition_log_end_offset(p), 100);
	cr_assert_eq(partition_high_watermark(p), 100);
	cr_assert_eq(partition_epochs(p)->count, 0);
	cr_assert_eq(partition_segments_count(p), 1);
	cr_assert(!segment_file_exists(0));
	cr_assert(segment_file_exists(100));
	int64_t first;
	cr_assert_eq(lt_read_at(r, p, 5, &first), -TAPE_ERANGE);
	reopen();
	cr_assert_eq(partition_log_start_offset(p), 100);
	cr_assert_eq(partition_log_end_offset(p), 100);
	cr_assert_geq(partition_high_watermark(p), 100);
	/* Appends continue at 100. */
	fill(1, clock_wall_ms());
	cr_assert_eq(partition_log_end_offset(p), 102);
	cr_assert_eq(lt_read_at(r, p, 101, &first), 0);
	cr_assert_eq(first, 100);
	/* Fully to a lower offset works too (below the log start). */
	truncate_fully_to(50);
	cr_assert_eq(partition_log_start_offset(p), 50);
	cr_assert_eq(partition_log_end_offset(p), 50);
}

static int append_pid(int64_t pid, int16_t epoch, int32_t seq, bool *dup, int64_t *base)
{
	struct test_batch_spec spec = {
		.records = 2,
		.value_bytes = 10,
		.timestamp_ms = clock_wall_ms(),
		.producer_id = pid,
		.producer_epoch = epoch,
		.base_sequence = seq,
	};
	uint8_t *b;
	size_t len = test_batch_build(&spec, &b);
	int err;
	struct partition_append *probe = NULL;
	(void)probe;
	int rc = lt_append(p, b, len, &err);
	free(b);
	lt_drain(r);
	*dup = false;
	*base = -1;
	(void)dup;
	return rc;
}

Test(lifecycle, truncation_rolls_back_producer_state)
{
	open_part();
	bool dup;
	int64_t base;
	cr_assert_eq(append_pid(5, 0, 0, &dup, &base), 0);
	cr_assert_eq(append_pid(5, 0, 2, &dup, &base), 0);
	cr_assert_eq(append_pid(5, 0, 4, &dup, &base), 0);
	truncate_to(4); /* the third batch (seq 4-5) is gone */
	const struct producer_entry *e = producer_state_find(partition_producers(p), 5);
	cr_assert_not_null(e);
	cr_assert_eq(e->batches[e->batches_count - 1].last_seq, 3);
	/* Its retry is a new append now, not a duplicate. */
	cr_assert_eq(append_pid(5, 0, 4, &dup, &base), 0);
	cr_assert_eq(partition_log_end_offset(p), 6);
	cr_assert_eq(append_pid(5, 0, 9, &dup, &base), -TAPE_ESEQUENCE);
}

Test(lifecycle, leader_epochs)
{
	open_part();
	cr_assert_eq(partition_become_leader(p, 1), 0);
	fill(3, clock_wall_ms()); /* offsets 0-5 in epoch 1 */
	cr_assert_eq(partition_become_leader(p, 3), 0);
	fill(2, clock_wall_ms()); /* 6-9 in epoch 3 */
	lt_drain(r);
	cr_assert_eq(partition_become_leader(p, 2), -TAPE_EBUSY);
	int32_t e;
	int64_t end;
	partition_epoch_end_offset(p, 1, &e, &end);
	cr_assert_eq(e, 1);
	cr_assert_eq(end, 6);
	partition_epoch_end_offset(p, 2, &e, &end); /* unknown epoch between: ends where 3 starts */
	cr_assert_eq(e, 1);
	cr_assert_eq(end, 6);
	partition_epoch_end_offset(p, 3, &e, &end);
	cr_assert_eq(e, 3);
	cr_assert_eq(end, 10);
	partition_epoch_end_offset(p, 0, &e, &end);
	cr_assert_eq(e, 0);
	cr_assert_eq(end, 0);
	partition_epoch_end_offset(p, 4, &e, &end);
	cr_assert_eq(e, -1);
	cr_assert_eq(end, -1);
	/* The epoch is stamped into the batches. */
	uint8_t *data;
	size_t n;
	cr_assert_eq(lt_read_all(r, p, 10, &data, &n), 0);
	struct record_batch_header h;
	record_batch_header_read(data, &h);
	cr_assert_eq(h.partition_leader_epoch, 1);
	free(data);
	reopen();
	cr_assert_eq(partition_leader_epoch(p), 3);
	partition_epoch_end_offset(p, 1, &e, &end);
	cr_assert_eq(end, 6);
	/* Truncation drops the epochs that start after the new end. */
	truncate_to(6);
	cr_assert_eq(leader_epoch_latest(partition_epochs(p)), 1);
	/* Without the checkpoint, epochs are rebuilt from the batches. */
	partition_close(p);
	char *ck = lt_path(dir, "leader-epoch.checkpoint");
	unlink(ck);
	free(ck);
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	partition_epoch_end_offset(p, 1, &e, &end);
	cr_assert_eq(e, 1);
	cr_assert_eq(end, 6);
}

Test(lifecycle, interval_flush_makes_data_durable)
{
	cfg.flush_mode = FLUSH_INTERVAL;
	cfg.flush_interval_ms = 20;
	open_part();
	cr_assert_eq(lt_append_simple(p, 3, 10, 1), 0);
	int64_t deadline = clock_mono_ms() + 5000;
	while (partition_durable_end(p) < 3 && clock_mono_ms() < deadline)
		reactor_run_once(r, 10 * 1000000);
	cr_assert_eq(partition_durable_end(p), 3);
}

Test(lifecycle, segment_ms_rolls_by_age)
{
	cfg.segment_bytes = 1 << 20;
	cfg.segment_ms = 50;
	open_part();
	cr_assert_eq(lt_append_simple(p, 1, 10, 1), 0);
	lt_drain(r);
	cr_assert_eq(partition_segments_count(p), 1);
	usleep(80 * 1000);
	cr_assert_eq(lt_append_simple(p, 1, 10, 2), 0);
	lt_drain(r);
	cr_assert_eq(partition_segments_count(p), 2);
	cr_assert_eq(partition_durable_end(p), 2);
}
