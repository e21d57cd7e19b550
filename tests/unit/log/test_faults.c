/*
 * tests/unit/log/test_faults.c: I/O failures injected by io/fault.h under a live partition.
 *
 * Covered (DESIGN §4, RELIABILITY "fsyncgate"): an fsync that fails leaves the durable end
 * where the last good fsync put it, forever, fails the partition and refuses appends; a
 * write that fails fails every append after it; a short write is completed by writing the
 * rest; a short write followed by a failure never leaves an index entry pointing into the
 * partial batch, and reopening recovers exactly the batches whose writes completed.
 */
#include "base/diag.h"
#include "base/errors.h"
#include "io/fault.h"
#include "io/reactor.h"
#include "log/partition_internal.h"
#include "tests/support/batches.h"
#include "tests/support/logtest.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct reactor *r;
static char *dir;
static struct partition_config cfg;
static struct partition *p;

static void setup(void)
{
	diag_set_level(DIAG_OFF);
	cr_assert_eq(reactor_create(&r), 0);
	dir = test_tmpdir("faults");
	partition_config_default(&cfg);
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
}

static void teardown(void)
{
	if (p)
		partition_close(p);
	reactor_destroy(r);
	test_rmdir(dir);
}

static void reopen(void)
{
	partition_close(p);
	reactor_fault_clear(r);
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
}

TestSuite(faults, .init = setup, .fini = teardown);

Test(faults, fsync_eio_freezes_durable_end_and_fails_partition)
{
	cr_assert_eq(lt_append_simple(p, 3, 50, 1), 0);
	lt_drain(r);
	cr_assert_eq(partition_durable_end(p), 3);
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_FSYNC, 1, -EIO, false), 0);
	int err;
	uint8_t *b;
	size_t len = test_batch_simple(2, 50, 2, &b);
	cr_assert_eq(lt_append(p, b, len, &err), 0);
	lt_drain(r);
	cr_assert_eq(err, 0, "the write itself succeeded");
	cr_assert_eq(partition_written_end(p), 5);
	cr_assert_eq(partition_durable_end(p), 3, "nothing after the last good fsync is durable");
	cr_assert_eq(partition_failed(p), -EIO);
	/* The next fsync would succeed: it must never be tried and reported (fsyncgate). */
	cr_assert_eq(lt_append(p, b, len, &err), -TAPE_EFAILED);
	lt_drain(r);
	cr_assert_eq(partition_durable_end(p), 3);
	free(b);
	/* Reopening recovers from disk and the partition serves again. */
	reopen();
	cr_assert_eq(partition_failed(p), 0);
	cr_assert_eq(partition_log_end_offset(p), 5);
	cr_assert_eq(partition_durable_end(p), 5);
	cr_assert_eq(lt_append_simple(p, 1, 10, 3), 0);
	lt_drain(r);
	cr_assert_eq(partition_durable_end(p), 6);
}

Test(faults, sticky_fsync_failure_never_advances)
{
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_FSYNC, 1, -EIO, true), 0);
	for (int i = 0; i < 5; i++)
		lt_append_simple(p, 1, 10, i);
	lt_drain(r);
	cr_assert_eq(partition_durable_end(p), 0);
	cr_assert_neq(partition_failed(p), 0);
}

Test(faults, write_eio_fails_it_and_everything_after)
{
	/* One append a turn, so each is its own write (a turn's appends share one writev). */
	int err[6];
	uint8_t *b;
	size_t len = test_batch_simple(2, 100, 7, &b);
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 3, -EIO, false), 0);
	for (int i = 0; i < 6; i++) {
		int rc = lt_append(p, b, len, &err[i]);
		if (rc < 0)
			err[i] = rc; /* refused at once: the failure was already seen */
		reactor_run_once(r, 0);
	}
	lt_drain(r);
	cr_assert_eq(err[0], 0);
	cr_assert_eq(err[1], 0);
	for (int i = 2; i < 6; i++)
		cr_assert_eq(err[i], -TAPE_EFAILED, "append %d", i);
	cr_assert_eq(partition_written_end(p), 4);
	cr_assert_leq(partition_durable_end(p), 4);
	free(b);
	/* Whatever reached the file after the hole, recovery cuts at the hole. */
	reopen();
	cr_assert_eq(partition_log_end_offset(p), 4);
	uint8_t *data;
	size_t n;
	cr_assert_eq(lt_read_all(r, p, 4, &data, &n), 0);
	cr_assert_eq(n, 2 * len);
	free(data);
}

Test(faults, failed_writev_fails_the_whole_group)
{
	/* Appends of one turn go out as one writev: its failure is every one of theirs. */
	int err[4];
	uint8_t *b;
	size_t len = test_batch_simple(1, 50, 3, &b);
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 1, -EIO, false), 0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(lt_append(p, b, len, &err[i]), 0);
	lt_drain(r);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(err[i], -TAPE_EFAILED, "append %d", i);
	cr_assert_eq(reactor_fault_count(r, IO_FAULT_ON_WRITE), 1, "one write for four appends");
	cr_assert_eq(partition_written_end(p), 0);
	free(b);
}

Test(faults, short_write_is_completed)
{
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 1, IO_FAULT_SHORT, false), 0);
	int err;
	uint8_t *b;
	size_t len = test_batch_simple(5, 300, 9, &b);
	cr_assert_eq(lt_append(p, b, len, &err), 0);
	lt_drain(r);
	cr_assert_eq(err, 0);
	cr_assert_eq(partition_failed(p), 0);
	cr_assert_eq(partition_durable_end(p), 5);
	uint8_t *data;
	size_t n;
	cr_assert_eq(lt_read_all(r, p, 5, &data, &n), 0);
	cr_assert_eq(n, len);
	/* Only the base offset and epoch differ from what was sent (both outside the CRC). */
	cr_assert_eq(memcmp(data + 16, b + 16, len - 16), 0);
	free(data);
	free(b);
}

Test(faults, short_writev_is_completed)
{
	/* Three appends in one writev, written short: the rest follows and all complete. */
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 1, IO_FAULT_SHORT, false), 0);
	uint8_t *b[3];
	size_t len[3];
	int err[3];
	for (int i = 0; i < 3; i++) {
		len[i] = test_batch_simple(2 + i, 200, 10 + i, &b[i]);
		cr_assert_eq(lt_append(p, b[i], len[i], &err[i]), 0);
	}
	lt_drain(r);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(err[i], 0);
	cr_assert_eq(partition_durable_end(p), 9);
	uint8_t *data;
	size_t n;
	cr_assert_eq(lt_read_all(r, p, 9, &data, &n), 0);
	cr_assert_eq(n, len[0] + len[1] + len[2]);
	size_t pos = 0;
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(memcmp(data + pos + 16, b[i] + 16, len[i] - 16), 0, "batch %d", i);
		pos += len[i];
		free(b[i]);
	}
	free(data);
}

Test(faults, short_write_then_failure_leaves_no_index_into_partial_batch)
{
	/* Enough earlier batches that the index has entries, then a big batch written short,
	 * whose continuation fails. */
	for (int i = 0; i < 10; i++)
		lt_append_simple(p, 4, 400, i);
	lt_drain(r);
	int64_t before = partition_written_end(p);
	struct segment *seg = partition_active(p);
	uint64_t good_size = seg->size;
	cr_assert_gt(seg->oidx.count, 0);
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 1, IO_FAULT_SHORT, false), 0);
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 2, -EIO, false), 0);
	int err;
	uint8_t *b;
	size_t len = test_batch_simple(20, 500, 11, &b);
	cr_assert_eq(lt_append(p, b, len, &err), 0);
	lt_drain(r);
	free(b);
	cr_assert_eq(err, -TAPE_EFAILED);
	cr_assert_eq(partition_written_end(p), before);
	cr_assert_eq(seg->size, good_size);
	for (size_t i = 0; i < seg->oidx.count; i++)
		cr_assert_lt(offset_index_entry_at(&seg->oidx, i).position, good_size);
	/* On disk the half batch is there; recovery cuts it and rebuilds the index. */
	reopen();
	cr_assert_eq(partition_log_end_offset(p), before);
	seg = partition_active(p);
	cr_assert_eq(seg->size, good_size);
	for (size_t i = 0; i < seg->oidx.count; i++)
		cr_assert_lt(offset_index_entry_at(&seg->oidx, i).position, good_size);
	for (int64_t off = 0; off < before; off++) {
		int64_t first;
		cr_assert_eq(lt_read_at(r, p, off, &first), 0);
	}
}

Test(faults, enospc_write_fails_partition)
{
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 1, -ENOSPC, true), 0);
	int err;
	uint8_t *b;
	size_t len = test_batch_simple(1, 10, 1, &b);
	cr_assert_eq(lt_append(p, b, len, &err), 0);
	lt_drain(r);
	free(b);
	cr_assert_eq(err, -TAPE_EFAILED);
	cr_assert_eq(partition_failed(p), -ENOSPC);
}
