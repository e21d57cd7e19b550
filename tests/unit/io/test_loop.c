/*
 * tests/unit/io/test_loop.c: the turn itself (reactor_run_once) and its accounting.
 *
 * Covers what reactor_run_once returns, reactor_inflight through a op's life, a turn on an
 * idle reactor, more completions arriving than the completion queue holds (the kernel keeps
 * the overflow and the reactor must still deliver every one exactly once), and a done
 * callback that runs the reactor itself (a synchronous wait inside a callback) without any
 * completion being delivered twice. Completions that are immediate come from writes into a
 * pipe with room, or from injected faults, which complete as NOPs inside the submitting
 * system call; each test makes its own ring and pipe.
 */
#include "base/limits.h"
#include "io/fault.h"
#include "io/reactor.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

/* A hang is a failure, not a stuck run. */
TestSuite(loop, .timeout = 10);

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

static void pipe_new(int p[2])
{
	cr_assert_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	/* Room for every write of these tests. */
	cr_assert_geq(fcntl(p[1], F_SETPIPE_SZ, 1 << 20), 1 << 20);
}

static void pipe_close(int p[2])
{
	close(p[0]);
	close(p[1]);
}

Test(loop, idle_turns_return_zero)
{
	struct reactor *r = ring_new();
	cr_assert_eq(reactor_inflight(r), 0);
	cr_assert_eq(reactor_run_once(r, 0), 0);
	cr_assert_eq(reactor_drain(r), 0);
	bool never = false;
	cr_assert_eq(reactor_run_until(r, &never), 0, "nothing in flight: returns at once");
	reactor_destroy(r);
}

Test(loop, run_once_counts_the_completions_it_handled)
{
	struct reactor *r = ring_new();
	int p[2];
	pipe_new(p);
	struct waiter w[5] = { 0 };
	for (int i = 0; i < 5; i++)
		reactor_write(r, &w[i].op, on_done, p[1], "x", 1, 0);
	cr_assert_eq(reactor_inflight(r), 5);
	int handled = 0;
	for (int turns = 0; turns < 100 && handled < 5; turns++) {
		int rc = reactor_run_once(r, -1);
		cr_assert_geq(rc, 0);
		handled += rc;
	}
	cr_assert_eq(handled, 5);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(w[i].calls, 1);
		cr_assert_eq(w[i].res, 1);
	}
	cr_assert_eq(reactor_inflight(r), 0);
	pipe_close(p);
	reactor_destroy(r);
}

/* With every write failed by a sticky fault, each completes as a NOP during submission: far
 * more completions than the completion queue's entries arrive before the loop reaps any. */
Test(loop, completion_queue_overflow_loses_nothing)
{
	struct reactor *r = ring_new();
	enum { N = 4 * REACTOR_SQ_ENTRIES + 17 };
	struct waiter *w = calloc(N, sizeof(*w));
	cr_assert(w);
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_WRITE, 1, -EIO, true), 0);
	for (int i = 0; i < N; i++)
		reactor_write(r, &w[i].op, on_done, -1, "x", 1, 0);
	cr_assert_eq(reactor_inflight(r), N);
	cr_assert_eq(reactor_drain(r), 0);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(w[i].calls, 1, "op %d completed %d times", i, w[i].calls);
		cr_assert_eq(w[i].res, -EIO);
	}
	free(w);
	reactor_destroy(r);
}

/* A callback that waits for its own follow-up op by running the reactor, while other
 * completions of the same batch are still waiting to be delivered by the outer turn. */
struct sync_caller {
	struct waiter w;
	struct reactor *r;
	int fd;
	struct waiter inner;
	int32_t nested_rc;
};

static void on_sync_caller(struct io_op *op, int32_t res, uint32_t flags)
{
	on_done(op, res, flags);
	struct sync_caller *c = (struct sync_caller *)op;
	c->inner = (struct waiter){ 0 };
	reactor_write(c->r, &c->inner.op, on_done, c->fd, "i", 1, 0);
	bool done = false;
	while (c->inner.calls == 0 && !done) {
		int rc = reactor_run_once(c->r, -1);
		if (rc < 0) {
			c->nested_rc = rc;
			done = true;
		}
	}
}

Test(loop, a_callback_may_run_the_reactor)
{
	struct reactor *r = ring_new();
	int p[2];
	pipe_new(p);
	struct sync_caller c = { .r = r, .fd = p[1] };
	struct waiter after[16] = { 0 };
	reactor_write(r, &c.w.op, on_sync_caller, p[1], "c", 1, 0);
	for (int i = 0; i < 16; i++)
		reactor_write(r, &after[i].op, on_done, p[1], "a", 1, 0);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(c.nested_rc, 0);
	cr_assert_eq(c.w.calls, 1);
	cr_assert_eq(c.inner.calls, 1);
	cr_assert_eq(c.inner.res, 1);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(after[i].calls, 1, "op %d completed %d times", i, after[i].calls);
	cr_assert_eq(reactor_inflight(r), 0);

	/* The ring is consistent afterwards. */
	struct waiter last = { 0 };
	reactor_write(r, &last.op, on_done, p[1], "z", 1, 0);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(last.calls, 1);
	cr_assert_eq(last.res, 1);
	char buf[64];
	cr_assert_eq(read(p[0], buf, sizeof(buf)), 19);
	pipe_close(p);
	reactor_destroy(r);
}

/* A reactor may be created on one thread (main, at startup) and run on another: it belongs
 * to the thread that runs it, not to the one that created it. */
struct runner {
	struct reactor *r;
	int fd;
	struct waiter w;
	int drain_rc;
};

static void *runner_main(void *arg)
{
	struct runner *run = arg;
	reactor_write(run->r, &run->w.op, on_done, run->fd, "t", 1, 0);
	run->drain_rc = reactor_drain(run->r);
	return NULL;
}

Test(loop, created_on_one_thread_run_on_another)
{
	struct reactor *r = ring_new();
	int p[2];
	pipe_new(p);
	struct runner run = { .r = r, .fd = p[1], .drain_rc = 1 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, runner_main, &run), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(run.drain_rc, 0);
	cr_assert_eq(run.w.calls, 1);
	cr_assert_eq(run.w.res, 1, "res %d", run.w.res);
	pipe_close(p);
	reactor_destroy(r);
}
