/*
 * tests/unit/io/test_file_ops.c: file operations through a real ring.
 *
 * Covers read, write and writev at byte positions, fsync and fdatasync, fallocate with and
 * without FALLOC_FL_KEEP_SIZE, close, splice from a file into a pipe, errors as -errno, many
 * writes in flight at once, and more operations prepared in one turn than the submission
 * queue holds. Each test makes its own ring and an unlinked temp file in /tmp, submits, runs
 * the reactor with reactor_drain, and checks both the results and the file through plain
 * pread/fstat, so the kernel's view is what is checked, not the reactor's.
 */
#include "base/limits.h"
#include "io/reactor.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A hang is a failure, not a stuck run. */
TestSuite(file_ops, .timeout = 10);

struct waiter {
	struct io_op op;
	int32_t res;
	uint32_t flags;
	int calls;
};

static void on_done(struct io_op *op, int32_t res, uint32_t flags)
{
	struct waiter *w = (struct waiter *)op;
	w->res = res;
	w->flags = flags;
	w->calls++;
}

static struct reactor *ring_new(void)
{
	struct reactor *r = NULL;
	cr_assert_eq(reactor_create(&r), 0);
	return r;
}

/* An empty file that disappears when closed. */
static int temp_file(void)
{
	char path[] = "/tmp/tape-io-file-XXXXXX";
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

Test(file_ops, write_and_read_at_positions)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	struct waiter a = { 0 }, b = { 0 };
	reactor_write(r, &a.op, on_done, fd, "hello", 5, 0);
	reactor_write(r, &b.op, on_done, fd, "world", 5, 100);
	cr_assert_eq(reactor_inflight(r), 2);
	cr_assert_eq(a.calls, 0, "done never runs inside the submitting call");
	drain(r);
	cr_assert_eq(a.calls, 1);
	cr_assert_eq(b.calls, 1);
	cr_assert_eq(a.res, 5);
	cr_assert_eq(b.res, 5);
	cr_assert_eq(a.flags, 0);
	cr_assert_eq(file_size(fd), 105);

	char buf[16];
	memset(buf, 'x', sizeof(buf));
	reactor_read(r, &a.op, on_done, fd, buf, 5, 100);
	drain(r);
	cr_assert_eq(a.res, 5);
	cr_assert_eq(memcmp(buf, "world", 5), 0);

	/* The hole between the two writes reads as zeros. */
	memset(buf, 'x', sizeof(buf));
	reactor_read(r, &a.op, on_done, fd, buf, 10, 50);
	drain(r);
	cr_assert_eq(a.res, 10);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(buf[i], 0);

	/* A read that crosses the end returns what is there; one past the end returns 0. */
	reactor_read(r, &a.op, on_done, fd, buf, sizeof(buf), 102);
	reactor_read(r, &b.op, on_done, fd, buf + 8, 8, 105);
	drain(r);
	cr_assert_eq(a.res, 3);
	cr_assert_eq(b.res, 0);
	close(fd);
	reactor_destroy(r);
}

Test(file_ops, writev_gathers_buffers_in_order)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	struct iovec iov[3] = {
		{ .iov_base = "abc", .iov_len = 3 },
		{ .iov_base = "", .iov_len = 0 },
		{ .iov_base = "defgh", .iov_len = 5 },
	};
	struct waiter w = { 0 };
	reactor_writev(r, &w.op, on_done, fd, iov, 3, 10);
	drain(r);
	cr_assert_eq(w.calls, 1);
	cr_assert_eq(w.res, 8);
	cr_assert_eq(file_size(fd), 18);
	char buf[8];
	cr_assert_eq(pread(fd, buf, 8, 10), 8);
	cr_assert_eq(memcmp(buf, "abcdefgh", 8), 0);
	close(fd);
	reactor_destroy(r);
}

Test(file_ops, fsync_and_fdatasync)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	struct waiter w = { 0 }, s = { 0 }, d = { 0 };
	reactor_write(r, &w.op, on_done, fd, "data", 4, 0);
	drain(r);
	cr_assert_eq(w.res, 4);
	reactor_fsync(r, &s.op, on_done, fd, false);
	reactor_fsync(r, &d.op, on_done, fd, true);
	drain(r);
	cr_assert_eq(s.calls, 1);
	cr_assert_eq(d.calls, 1);
	cr_assert_eq(s.res, 0);
	cr_assert_eq(d.res, 0);

	/* An fd that is not open: the kernel's -EBADF arrives as res. */
	reactor_fsync(r, &s.op, on_done, -1, true);
	drain(r);
	cr_assert_eq(s.res, -EBADF);
	close(fd);
	reactor_destroy(r);
}

Test(file_ops, fallocate_grows_file_unless_keep_size)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	struct waiter w = { 0 };
	reactor_fallocate(r, &w.op, on_done, fd, 0, 0, 1 * MiB);
	drain(r);
	cr_assert_eq(w.res, 0);
	cr_assert_eq(file_size(fd), (off_t)MiB);

	int keep = temp_file();
	reactor_fallocate(r, &w.op, on_done, keep, FALLOC_FL_KEEP_SIZE, 0, 1 * MiB);
	drain(r);
	cr_assert_eq(w.res, 0);
	cr_assert_eq(file_size(keep), 0);
	struct stat st;
	cr_assert_eq(fstat(keep, &st), 0);
	cr_assert_geq((uint64_t)st.st_blocks * 512, MiB, "the space is reserved all the same");

	/* A write into the reserved space grows the size to its end only. */
	reactor_write(r, &w.op, on_done, keep, "x", 1, 4095);
	drain(r);
	cr_assert_eq(w.res, 1);
	cr_assert_eq(file_size(keep), 4096);
	close(keep);
	close(fd);
	reactor_destroy(r);
}

Test(file_ops, close_releases_the_fd)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	struct waiter w = { 0 };
	reactor_close(r, &w.op, on_done, fd);
	drain(r);
	cr_assert_eq(w.calls, 1);
	cr_assert_eq(w.res, 0);
	cr_assert_eq(fcntl(fd, F_GETFD), -1);
	cr_assert_eq(errno, EBADF);

	reactor_close(r, &w.op, on_done, fd);
	drain(r);
	cr_assert_eq(w.res, -EBADF);
	reactor_destroy(r);
}

Test(file_ops, errors_are_negative_errno)
{
	struct reactor *r = ring_new();
	char path[] = "/tmp/tape-io-file-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	int ro = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(ro >= 0);
	cr_assert_eq(unlink(path), 0);
	struct waiter w = { 0 }, rd = { 0 };
	char buf[4];
	reactor_write(r, &w.op, on_done, ro, "abcd", 4, 0);
	reactor_read(r, &rd.op, on_done, -1, buf, sizeof(buf), 0);
	drain(r);
	cr_assert_eq(w.res, -EBADF);
	cr_assert_eq(rd.res, -EBADF);
	cr_assert_eq(file_size(fd), 0);
	close(ro);
	close(fd);
	reactor_destroy(r);
}

Test(file_ops, splice_file_into_pipe)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	cr_assert_eq(pwrite(fd, "0123456789", 10, 0), 10);
	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	struct waiter w = { 0 };
	reactor_splice(r, &w.op, on_done, fd, 3, p[1], -1, 4, 0);
	drain(r);
	cr_assert_eq(w.res, 4);
	char buf[8];
	cr_assert_eq(read(p[0], buf, sizeof(buf)), 4);
	cr_assert_eq(memcmp(buf, "3456", 4), 0);
	close(p[0]);
	close(p[1]);
	close(fd);
	reactor_destroy(r);
}

#define MANY_WRITES 256
#define MANY_WRITE_BYTES 4096

Test(file_ops, many_writes_in_flight)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	static struct waiter w[MANY_WRITES];
	static char bufs[MANY_WRITES][MANY_WRITE_BYTES];
	/* Submitted back to front, so completion order cannot be file order by accident. */
	for (int i = MANY_WRITES - 1; i >= 0; i--) {
		for (int j = 0; j < MANY_WRITE_BYTES; j++)
			bufs[i][j] = (char)(i * 7 + j % 251);
		reactor_write(r, &w[i].op, on_done, fd, bufs[i], MANY_WRITE_BYTES,
		              (uint64_t)i * MANY_WRITE_BYTES);
	}
	cr_assert_eq(reactor_inflight(r), MANY_WRITES);
	drain(r);
	for (int i = 0; i < MANY_WRITES; i++) {
		cr_assert_eq(w[i].calls, 1, "write %d completed %d times", i, w[i].calls);
		cr_assert_eq(w[i].res, MANY_WRITE_BYTES);
	}
	cr_assert_eq(file_size(fd), (off_t)MANY_WRITES * MANY_WRITE_BYTES);
	static char back[MANY_WRITE_BYTES];
	for (int i = 0; i < MANY_WRITES; i++) {
		cr_assert_eq(pread(fd, back, MANY_WRITE_BYTES, (off_t)i * MANY_WRITE_BYTES),
		             MANY_WRITE_BYTES);
		cr_assert_eq(memcmp(back, bufs[i], MANY_WRITE_BYTES), 0, "block %d", i);
	}
	close(fd);
	reactor_destroy(r);
}

#define OVERFULL (REACTOR_SQ_ENTRIES + REACTOR_SQ_ENTRIES / 2 + 3)

Test(file_ops, more_ops_than_the_submission_queue_in_one_turn)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	struct waiter *w = calloc(OVERFULL, sizeof(*w));
	uint32_t *vals = calloc(OVERFULL, sizeof(*vals));
	cr_assert(w && vals);
	for (uint32_t i = 0; i < OVERFULL; i++) {
		vals[i] = i ^ 0x5a5a5a5au;
		reactor_write(r, &w[i].op, on_done, fd, &vals[i], sizeof(vals[i]),
		              (uint64_t)i * sizeof(vals[i]));
	}
	cr_assert_eq(reactor_inflight(r), OVERFULL);
	drain(r);
	for (uint32_t i = 0; i < OVERFULL; i++) {
		cr_assert_eq(w[i].calls, 1, "write %u completed %d times", i, w[i].calls);
		cr_assert_eq(w[i].res, (int32_t)sizeof(vals[i]));
	}
	cr_assert_eq(file_size(fd), (off_t)OVERFULL * (off_t)sizeof(uint32_t));
	for (uint32_t i = 0; i < OVERFULL; i++) {
		uint32_t v;
		cr_assert_eq(pread(fd, &v, sizeof(v), (off_t)i * (off_t)sizeof(v)),
		             (ssize_t)sizeof(v));
		cr_assert_eq(v, vals[i]);
	}
	free(vals);
	free(w);
	close(fd);
	reactor_destroy(r);
}

/* A done callback that submits more than a queue's worth while the reactor walks the CQ. */
struct burst {
	struct io_op op;
	struct reactor *r;
	int fd;
	struct waiter *children;
	uint32_t *vals;
	int count;
	int res;
};

static void on_burst(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct burst *b = (struct burst *)op;
	b->res = res;
	for (int i = 0; i < b->count; i++) {
		b->vals[i] = (uint32_t)i + 1;
		reactor_write(b->r, &b->children[i].op, on_done, b->fd, &b->vals[i],
		              sizeof(b->vals[i]), 4096 + (uint64_t)i * sizeof(b->vals[i]));
	}
}

Test(file_ops, callbacks_submit_more_than_a_queue_while_reaping)
{
	struct reactor *r = ring_new();
	int fd = temp_file();
	struct burst bursts[3];
	struct waiter plain[8] = { 0 };
	int fds[3];
	for (int k = 0; k < 3; k++) {
		fds[k] = temp_file();
		bursts[k] = (struct burst){ .r = r, .fd = fds[k], .count = OVERFULL };
		bursts[k].children = calloc(OVERFULL, sizeof(struct waiter));
		bursts[k].vals = calloc(OVERFULL, sizeof(uint32_t));
		cr_assert(bursts[k].children && bursts[k].vals);
		reactor_write(r, &bursts[k].op, on_burst, fds[k], "head", 4, 0);
	}
	for (int i = 0; i < 8; i++)
		reactor_write(r, &plain[i].op, on_done, fd, "p", 1, (uint64_t)i);
	drain(r);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(plain[i].calls, 1);
	for (int k = 0; k < 3; k++) {
		cr_assert_eq(bursts[k].res, 4);
		for (int i = 0; i < OVERFULL; i++) {
			cr_assert_eq(bursts[k].children[i].calls, 1, "burst %d write %d", k, i);
			cr_assert_eq(bursts[k].children[i].res, 4);
		}
		cr_assert_eq(file_size(fds[k]), 4096 + (off_t)OVERFULL * 4);
		free(bursts[k].children);
		free(bursts[k].vals);
		close(fds[k]);
	}
	close(fd);
	reactor_destroy(r);
}
