/*
 * tests/unit/io/test_faults.c: injected write and fsync faults (io/fault.h).
 *
 * Covers the nth write failing with -EIO or -ENOSPC while its neighbours succeed, the nth
 * fsync failing, IO_FAULT_SHORT on write() and writev(), sticky faults, reactor_fault_clear,
 * counting from the moment of arming, the slot limit, and that reads are never touched. Each
 * test makes its own ring and unlinked temp file; the file's size and bytes, read back with
 * plain pread/fstat, prove what did and did not reach the disk.
 */
#include "io/fault.h"
#include "io/reactor.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A hang is a failure, not a stuck run. */
TestSuite(faults, .timeout = 10);

struct waiter {
	struct io_op op;
	int32_t res;
	int calls;
};

static void on_done(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct waiter *w = (struct waiter *)op;
	w->res = res;
	w->calls++;
}

static struct reactor *ring_new(void)
{
	struct reactor *r = NULL;
	cr_assert_eq(reactor_create(&r), 0);
	return r;
}

static int temp_file(void)
{
	char path[] = "/tmp/tape-io-fault-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(unlink(path), 0);
	return fd;
}

static off_t file_size(int fd)
{
	struct stat st;
	cr_assert_eq(fstat(fd, &st), 0);
	return st.st_size;
}

static void drain(struct reactor *r)
{
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(reactor_inflight(r), 0);
}

/* Writes 4 bytes of c at pos and returns the result. */
static int32_t write4(struct reactor *r, int fd, char c, uint64_t pos)
{
	char buf[4];
	memset(buf, c, sizeof(buf));
	struct waiter w = { 0 };
	reactor_write(r, &w.op, on_done, fd, buf, sizeof(buf), pos);
	drain(r);
	cr_assert_eq(w.calls, 1);
	return w.res;
}

static int32_t fsync1(struct reactor *r, int fd)
{
	struct waiter w = { 0 };
	reactor_fsync(r, &w.op, on_done, fd, true);
	drain(r);
	cr_assert_eq(w.calls, 1);
	return w.res;
}

static void assert_bytes(int fd, uint64_t pos, const char *want, size_t len)
{
	char got[64];
	cr_assert(len <= sizeof(got));
	cr_assert_eq(pread(fd, got, len, (off_t)pos), (ssize_t)len);
	cr_assert_eq(memcmp(got, want, len), 0, "bytes at %llu", (unsigned long long)pos);
}

Test(faults, nth_write_fails_with_eio_and_writes_nothing)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 2, -EIO, false), 0);
	/* All three in one turn: the fault picks the second by submission order. */
	struct waiter w[3] = { 0 };
	reactor_write(r, &w[0].op, on_done, fd, "aaaa", 4, 0);
	reactor_write(r, &w[1].op, on_done, fd, "bbbb", 4, 4);
	reactor_write(r, &w[2].op, on_done, fd, "cccc", 4, 8);
	drain(r);
	cr_assert_eq(w[0].res, 4);
	cr_assert_eq(w[1].res, -EIO);
	cr_assert_eq(w[2].res, 4);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(w[i].calls, 1);
	cr_assert_eq(file_size(fd), 12);
	assert_bytes(fd, 0, "aaaa\0\0\0\0cccc", 12);
	cr_assert_eq(reactor_fault_count(r, IO_FAULT_ON_WRITE), 3);
	cr_assert_eq(reactor_fault_count(r, IO_FAULT_ON_FSYNC), 0);

	/* Not sticky: the fourth write is fine. */
	cr_assert_eq(write4(r, fd, 'd', 4), 4);
	assert_bytes(fd, 4, "dddd", 4);
	close(fd);
	reactor_destroy(r);
}

Test(faults, nth_write_fails_with_enospc_past_the_end)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 1, -ENOSPC, false), 0);
	cr_assert_eq(write4(r, fd, 'a', 0), -ENOSPC);
	cr_assert_eq(file_size(fd), 0, "the failed write did not extend the file");
	cr_assert_eq(write4(r, fd, 'b', 0), 4);
	assert_bytes(fd, 0, "bbbb", 4);
	close(fd);
	reactor_destroy(r);
}

Test(faults, nth_fsync_fails)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_FSYNC, 2, -EIO, false), 0);
	cr_assert_eq(write4(r, fd, 'a', 0), 4);
	cr_assert_eq(fsync1(r, fd), 0);
	cr_assert_eq(write4(r, fd, 'b', 4), 4, "writes do not count toward an fsync fault");
	cr_assert_eq(fsync1(r, fd), -EIO);
	cr_assert_eq(fsync1(r, fd), 0);
	cr_assert_eq(reactor_fault_count(r, IO_FAULT_ON_FSYNC), 3);
	cr_assert_eq(reactor_fault_count(r, IO_FAULT_ON_WRITE), 2);

	/* fsync and fdatasync are one kind. */
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_FSYNC, 1, -ENOSPC, false), 0);
	struct waiter w = { 0 };
	reactor_fsync(r, &w.op, on_done, fd, false);
	drain(r);
	cr_assert_eq(w.res, -ENOSPC);
	close(fd);
	reactor_destroy(r);
}

Test(faults, short_write_writes_the_first_half)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 1, IO_FAULT_SHORT, false), 0);
	struct waiter w = { 0 };
	reactor_write(r, &w.op, on_done, fd, "0123456789", 10, 100);
	drain(r);
	cr_assert_eq(w.res, 5);
	cr_assert_eq(file_size(fd), 105);
	assert_bytes(fd, 100, "01234", 5);

	/* Odd length: the half rounds down. */
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 1, IO_FAULT_SHORT, false), 0);
	reactor_write(r, &w.op, on_done, fd, "abcdefg", 7, 0);
	drain(r);
	cr_assert_eq(w.res, 3);
	assert_bytes(fd, 0, "abc\0", 4);

	/* The caller writes the rest, as it must after any short write. */
	reactor_write(r, &w.op, on_done, fd, "defg", 4, 3);
	drain(r);
	cr_assert_eq(w.res, 4);
	assert_bytes(fd, 0, "abcdefg", 7);
	close(fd);
	reactor_destroy(r);
}

Test(faults, short_writev_writes_half_the_first_buffer)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 1, IO_FAULT_SHORT, false), 0);
	struct iovec iov[2] = {
		{ .iov_base = "abcdefgh", .iov_len = 8 },
		{ .iov_base = "XYZ", .iov_len = 3 },
	};
	struct waiter w = { 0 };
	reactor_writev(r, &w.op, on_done, fd, iov, 2, 0);
	drain(r);
	cr_assert_eq(w.res, 4);
	cr_assert_eq(file_size(fd), 4);
	assert_bytes(fd, 0, "abcd", 4);

	/* Not sticky: the next writev writes everything. */
	reactor_writev(r, &w.op, on_done, fd, iov, 2, 4);
	drain(r);
	cr_assert_eq(w.res, 11);
	assert_bytes(fd, 0, "abcdabcdefghXYZ", 15);

	/* A one-byte first buffer has no first half: nothing is written. */
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 1, IO_FAULT_SHORT, false), 0);
	struct iovec tiny[2] = {
		{ .iov_base = "q", .iov_len = 1 },
		{ .iov_base = "rs", .iov_len = 2 },
	};
	reactor_writev(r, &w.op, on_done, fd, tiny, 2, 100);
	drain(r);
	cr_assert_eq(w.res, 0);
	cr_assert_eq(file_size(fd), 15);
	close(fd);
	reactor_destroy(r);
}

Test(faults, sticky_fault_hits_every_later_op_of_its_kind)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 2, -EIO, true), 0);
	cr_assert_eq(write4(r, fd, 'a', 0), 4);
	for (int i = 1; i <= 5; i++)
		cr_assert_eq(write4(r, fd, 'b', (uint64_t)i * 4), -EIO, "write %d", i + 1);
	cr_assert_eq(file_size(fd), 4);
	cr_assert_eq(fsync1(r, fd), 0, "a write fault leaves fsync alone");

	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_FSYNC, 1, -EIO, true), 0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(fsync1(r, fd), -EIO);
	close(fd);
	reactor_destroy(r);
}

Test(faults, clear_disarms_and_resets_counts)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 1, -EIO, true), 0);
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_FSYNC, 1, -EIO, true), 0);
	cr_assert_eq(write4(r, fd, 'a', 0), -EIO);
	cr_assert_eq(fsync1(r, fd), -EIO);
	reactor_fault_clear(r);
	cr_assert_eq(reactor_fault_count(r, IO_FAULT_ON_WRITE), 0);
	cr_assert_eq(reactor_fault_count(r, IO_FAULT_ON_FSYNC), 0);
	cr_assert_eq(write4(r, fd, 'b', 0), 4);
	cr_assert_eq(fsync1(r, fd), 0);
	assert_bytes(fd, 0, "bbbb", 4);
	cr_assert_eq(reactor_fault_count(r, IO_FAULT_ON_WRITE), 1);

	/* A fault armed before the clear and not yet reached never fires. */
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 3, -EIO, false), 0);
	reactor_fault_clear(r);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(write4(r, fd, 'c', 0), 4);
	close(fd);
	reactor_destroy(r);
}

Test(faults, counting_starts_at_arming)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	for (int i = 0; i < 3; i++)
		cr_assert_eq(write4(r, fd, 'a', 0), 4);
	cr_assert_eq(reactor_fault_count(r, IO_FAULT_ON_WRITE), 3);
	/* nth = 2 means the second write after this point, not the second ever. */
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 2, -EIO, false), 0);
	cr_assert_eq(write4(r, fd, 'b', 0), 4);
	cr_assert_eq(write4(r, fd, 'c', 4), -EIO);
	cr_assert_eq(write4(r, fd, 'd', 8), 4);
	cr_assert_eq(reactor_fault_count(r, IO_FAULT_ON_WRITE), 6);

	/* Two faults armed at different moments each count from their own. */
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 3, -EIO, false), 0);
	cr_assert_eq(write4(r, fd, 'e', 0), 4);
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 1, -ENOSPC, false), 0);
	cr_assert_eq(write4(r, fd, 'f', 0), -ENOSPC);
	cr_assert_eq(write4(r, fd, 'g', 0), -EIO);
	cr_assert_eq(write4(r, fd, 'h', 0), 4);
	close(fd);
	reactor_destroy(r);
}

/* Arms non-sticky faults far in the future until the slots run out; returns how many fit. */
static int arm_until_full(struct reactor *r)
{
	for (int n = 0; n < 1000; n++) {
		int rc = reactor_fault_arm(r, IO_FAULT_ON_FSYNC, 1000000, -EIO, false);
		if (rc == -ENOSPC)
			return n;
		cr_assert_eq(rc, 0);
	}
	cr_assert_fail("reactor_fault_arm never ran out of slots");
	return -1;
}

Test(faults, arm_returns_enospc_when_slots_are_taken)
{
	struct reactor *r = ring_new();
	int slots = arm_until_full(r);
	cr_assert_geq(slots, 2);
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 1, -EIO, true), -ENOSPC);
	reactor_fault_clear(r);
	cr_assert_eq(arm_until_full(r), slots, "clear frees every slot");
	reactor_destroy(r);
}

Test(faults, fired_faults_free_their_slots)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	int slots = arm_until_full(r);
	reactor_fault_clear(r);

	/* Every slot armed on the same write: one result wins, and all of them are spent. */
	for (int i = 0; i < slots; i++)
		cr_assert_eq(
		    reactor_fault_arm(r, IO_FAULT_ON_WRITE, 1, i % 2 ? -EIO : -ENOSPC, false), 0);
	int32_t res = write4(r, fd, 'a', 0);
	cr_assert(res == -EIO || res == -ENOSPC, "res %d", res);
	cr_assert_eq(write4(r, fd, 'b', 0), 4);
	cr_assert_eq(arm_until_full(r), slots, "no slot stays taken by a spent fault");
	close(fd);
	reactor_destroy(r);
}

Test(faults, reads_are_never_faulted)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	cr_assert_eq(pwrite(fd, "readable", 8, 0), 8);
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 1, -EIO, true), 0);
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_FSYNC, 1, -EIO, true), 0);
	for (int i = 0; i < 3; i++) {
		char buf[8] = { 0 };
		struct waiter w = { 0 };
		reactor_read(r, &w.op, on_done, fd, buf, sizeof(buf), 0);
		drain(r);
		cr_assert_eq(w.res, 8);
		cr_assert_eq(memcmp(buf, "readable", 8), 0);
	}
	cr_assert_eq(reactor_fault_count(r, IO_FAULT_ON_WRITE), 0);
	cr_assert_eq(reactor_fault_count(r, IO_FAULT_ON_FSYNC), 0);
	/* The faults are still waiting for their first write and fsync. */
	cr_assert_eq(write4(r, fd, 'x', 0), -EIO);
	cr_assert_eq(fsync1(r, fd), -EIO);
	assert_bytes(fd, 0, "readable", 8);
	close(fd);
	reactor_destroy(r);
}

/* An injected result is delivered like a real one: once, after the submitting call returns. */
Test(faults, injected_result_arrives_through_the_loop)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 1, -EIO, false), 0);
	struct waiter w = { 0 };
	reactor_write(r, &w.op, on_done, fd, "abcd", 4, 0);
	cr_assert_eq(w.calls, 0);
	cr_assert_eq(reactor_inflight(r), 1);
	drain(r);
	cr_assert_eq(w.calls, 1);
	cr_assert_eq(w.res, -EIO);

	/* The same op reused for a real write reports the real result. */
	reactor_write(r, &w.op, on_done, fd, "abcd", 4, 0);
	drain(r);
	cr_assert_eq(w.calls, 2);
	cr_assert_eq(w.res, 4);
	close(fd);
	reactor_destroy(r);
}

/* Arming nonsense is a programmer error: the assertion aborts. */
Test(faults, short_fault_on_fsync_is_refused, .signal = SIGABRT)
{
	struct reactor *r = ring_new();
	reactor_fault_arm(r, IO_FAULT_ON_FSYNC, 1, IO_FAULT_SHORT, false);
}

Test(faults, nth_zero_is_refused, .signal = SIGABRT)
{
	struct reactor *r = ring_new();
	reactor_fault_arm(r, IO_FAULT_ON_WRITE, 0, -EIO, false);
}
