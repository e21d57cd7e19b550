/*
 * tests/unit/io/test_reactor_smoke.c: one write, fsync, read, timer and offloaded job through
 * a real ring, end to end.
 */
#include "io/reactor.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int32_t timer_res;
static void on_timer(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)op;
	(void)flags;
	timer_res = res;
}

struct job {
	struct io_job job;
	int ran, done;
};

static void job_run(struct io_job *j)
{
	((struct job *)j)->ran++;
}
static void job_done(struct io_job *j)
{
	((struct job *)j)->done++;
}

Test(reactor_smoke, file_timer_job)
{
	struct reactor *r;
	cr_assert_eq(reactor_create(&r), 0);
	char path[] = "/tmp/tape-io-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	unlink(path);

	struct waiter w = { 0 };
	reactor_write(r, &w.op, on_done, fd, "hello", 5, 0);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(w.res, 5);

	reactor_fsync(r, &w.op, on_done, fd, true);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(w.res, 0);

	char buf[8] = { 0 };
	reactor_read(r, &w.op, on_done, fd, buf, sizeof(buf), 0);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(w.res, 5);
	cr_assert_str_eq(buf, "hello");

	struct io_timer t = { 0 };
	reactor_timer_start(r, &t, on_timer, 1000000);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(timer_res, -ETIME);

	struct job j = { .job = { .run = job_run, .done = job_done } };
	reactor_offload(r, &j.job);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(j.ran, 1);
	cr_assert_eq(j.done, 1);
	cr_assert_eq(reactor_inflight(r), 0);
	close(fd);
	reactor_destroy(r);
}
