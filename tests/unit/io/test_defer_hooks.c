/*
 * tests/unit/io/test_defer_hooks.c: deferred calls (step 2 of a turn) and before-sleep hooks
 * (step 3).
 *
 * Covers reactor_defer never calling back from inside itself, FIFO order, a callback that
 * defers again running in a later turn, deferred calls keeping reactor_run_once(-1) from
 * blocking, the order of steps within a turn, hooks running every turn, hooks that submit work
 * (a group commit) being drained by reactor_drain, and reactor_remove_hook, also from inside a
 * hook. Each test makes its own ring and drives it turn by turn with reactor_run_once, so the
 * turn in which each call happens is observable.
 */
#include "base/assert.h"
#include "io/reactor.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A hang is a failure, not a stuck run. */
TestSuite(defer, .timeout = 10);
TestSuite(hooks, .timeout = 10);

static struct reactor *ring_new(void)
{
	struct reactor *r = NULL;
	cr_assert_eq(reactor_create(&r), 0);
	return r;
}

static int temp_file(void)
{
	char path[] = "/tmp/tape-io-hook-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(unlink(path), 0);
	return fd;
}

/* The log of calls, shared by the callbacks of one test. */
#define LOG_MAX 256
struct trace {
	int events[LOG_MAX];
	int count;
};

static void trace_add(struct trace *t, int event)
{
	cr_assert_lt(t->count, LOG_MAX);
	t->events[t->count++] = event;
}

struct deferred {
	struct io_op op;
	struct trace *trace;
	int id;
	int32_t res;
	int calls;
	int again; /* defer itself this many more times */
};

static void on_deferred(struct io_op *op, int32_t res, uint32_t flags)
{
	struct deferred *d = (struct deferred *)op;
	cr_assert_eq(flags, 0);
	d->res = res;
	d->calls++;
	if (d->trace)
		trace_add(d->trace, d->id);
	if (d->again > 0) {
		d->again--;
		reactor_defer(op->reactor, op, on_deferred, res + 1);
	}
}

Test(defer, never_calls_back_inside_the_call)
{
	struct reactor *r = ring_new();
	struct deferred d = { 0 };
	reactor_defer(r, &d.op, on_deferred, -EAGAIN);
	cr_assert_eq(d.calls, 0);
	cr_assert_eq(reactor_inflight(r), 1, "a deferred call counts as in flight");
	cr_assert_eq(reactor_run_once(r, 0), 1);
	cr_assert_eq(d.calls, 1);
	cr_assert_eq(d.res, -EAGAIN);
	cr_assert_eq(reactor_inflight(r), 0);
	cr_assert_eq(reactor_run_once(r, 0), 0);
	cr_assert_eq(d.calls, 1);
	reactor_destroy(r);
}

Test(defer, runs_in_fifo_order)
{
	struct reactor *r = ring_new();
	struct trace t = { 0 };
	struct deferred d[100];
	memset(d, 0, sizeof(d));
	for (int i = 0; i < 100; i++) {
		d[i].trace = &t;
		d[i].id = i;
		reactor_defer(r, &d[i].op, on_deferred, i);
	}
	cr_assert_eq(reactor_run_once(r, 0), 100);
	cr_assert_eq(t.count, 100);
	for (int i = 0; i < 100; i++) {
		cr_assert_eq(t.events[i], i);
		cr_assert_eq(d[i].res, i);
	}
	reactor_destroy(r);
}

Test(defer, deferring_again_runs_in_a_later_turn)
{
	struct reactor *r = ring_new();
	struct deferred d = { .again = 2 };
	reactor_defer(r, &d.op, on_deferred, 10);
	cr_assert_eq(reactor_run_once(r, 0), 1);
	cr_assert_eq(d.calls, 1);
	cr_assert_eq(reactor_inflight(r), 1);
	cr_assert_eq(reactor_run_once(r, 0), 1);
	cr_assert_eq(d.calls, 2);
	cr_assert_eq(d.res, 11);
	cr_assert_eq(reactor_run_once(r, 0), 1);
	cr_assert_eq(d.calls, 3);
	cr_assert_eq(d.res, 12);
	cr_assert_eq(reactor_inflight(r), 0);
	reactor_destroy(r);
}

Test(defer, pending_calls_keep_run_once_from_blocking)
{
	struct reactor *r = ring_new();
	struct deferred d = { .again = 3 };
	reactor_defer(r, &d.op, on_deferred, 0);
	/* Nothing is in the ring: a blocking wait would never return. */
	for (int i = 0; i < 4; i++)
		cr_assert_eq(reactor_run_once(r, -1), 1);
	cr_assert_eq(d.calls, 4);
	cr_assert_eq(reactor_drain(r), 0);
	reactor_destroy(r);
}

struct logging_hook {
	struct reactor_hook hook;
	struct reactor *r;
	struct trace *trace;
	int id;
	int calls;
	struct reactor_hook *remove; /* removes this hook on its first call */
	struct deferred *defer;      /* defers this on its first call */
};

static void on_hook(struct reactor_hook *hook)
{
	struct logging_hook *h = (struct logging_hook *)hook;
	h->calls++;
	if (h->trace)
		trace_add(h->trace, h->id);
	if (h->remove) {
		reactor_remove_hook(h->r, h->remove);
		h->remove = NULL;
	}
	if (h->defer) {
		reactor_defer(h->r, &h->defer->op, on_deferred, 0);
		h->defer = NULL;
	}
}

Test(hooks, run_every_turn_until_removed)
{
	struct reactor *r = ring_new();
	struct logging_hook h = { .hook.fn = on_hook, .r = r };
	reactor_add_hook(r, &h.hook);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(reactor_run_once(r, 0), 0);
	cr_assert_eq(h.calls, 5);
	cr_assert_eq(reactor_inflight(r), 0, "a hook is not work in flight");
	reactor_remove_hook(r, &h.hook);
	for (int i = 0; i < 3; i++)
		reactor_run_once(r, 0);
	cr_assert_eq(h.calls, 5);
	/* Removing a hook that is not there is harmless. */
	reactor_remove_hook(r, &h.hook);
	reactor_destroy(r);
}

Test(hooks, remove_one_of_several)
{
	struct reactor *r = ring_new();
	struct logging_hook h[3];
	memset(h, 0, sizeof(h));
	for (int i = 0; i < 3; i++) {
		h[i].hook.fn = on_hook;
		h[i].r = r;
		reactor_add_hook(r, &h[i].hook);
	}
	reactor_run_once(r, 0);
	reactor_remove_hook(r, &h[1].hook);
	reactor_run_once(r, 0);
	reactor_remove_hook(r, &h[0].hook);
	reactor_run_once(r, 0);
	cr_assert_eq(h[0].calls, 2);
	cr_assert_eq(h[1].calls, 1);
	cr_assert_eq(h[2].calls, 3);
	reactor_destroy(r);
}

/* Whatever order hooks run in, one that removes another which has not yet run this turn stops
 * it from running: the removed hook may already be freed. */
Test(hooks, a_hook_removes_another_during_the_turn)
{
	struct reactor *r = ring_new();
	struct trace t = { 0 };
	struct logging_hook a = { .hook.fn = on_hook, .r = r, .trace = &t, .id = 1 };
	struct logging_hook b = { .hook.fn = on_hook, .r = r, .trace = &t, .id = 2 };
	reactor_add_hook(r, &a.hook);
	reactor_add_hook(r, &b.hook);
	reactor_run_once(r, 0);
	cr_assert_eq(t.count, 2);
	int first = t.events[0];
	struct logging_hook *runs_first = first == 1 ? &a : &b;
	struct logging_hook *runs_second = first == 1 ? &b : &a;
	runs_first->remove = &runs_second->hook;
	reactor_run_once(r, 0);
	cr_assert_eq(runs_second->calls, 1, "the removed hook ran after its removal");
	cr_assert_eq(runs_first->calls, 2);
	reactor_run_once(r, 0);
	cr_assert_eq(runs_first->calls, 3);
	cr_assert_eq(runs_second->calls, 1);
	reactor_destroy(r);
}

Test(hooks, a_hook_removes_itself)
{
	struct reactor *r = ring_new();
	struct logging_hook a = { .hook.fn = on_hook, .r = r };
	struct logging_hook b = { .hook.fn = on_hook, .r = r };
	reactor_add_hook(r, &a.hook);
	reactor_add_hook(r, &b.hook);
	a.remove = &a.hook;
	reactor_run_once(r, 0);
	reactor_run_once(r, 0);
	cr_assert_eq(a.calls, 1);
	cr_assert_eq(b.calls, 2);
	reactor_destroy(r);
}

/* Within one turn: deferred calls (step 2) come before hooks (step 3); what a hook defers runs
 * in the next turn, and the turn does not block waiting for it. */
Test(hooks, deferred_calls_run_before_hooks)
{
	struct reactor *r = ring_new();
	struct trace t = { 0 };
	struct deferred first = { .trace = &t, .id = 100 };
	struct deferred later = { .trace = &t, .id = 200 };
	struct logging_hook h = { .hook.fn = on_hook, .r = r, .trace = &t, .id = 1 };
	h.defer = &later;
	reactor_add_hook(r, &h.hook);
	reactor_defer(r, &first.op, on_deferred, 0);
	cr_assert_eq(reactor_run_once(r, -1), 1);
	cr_assert_eq(t.count, 2);
	cr_assert_eq(t.events[0], 100);
	cr_assert_eq(t.events[1], 1);
	cr_assert_eq(later.calls, 0);
	cr_assert_eq(reactor_run_once(r, -1), 1);
	cr_assert_eq(t.count, 4);
	cr_assert_eq(t.events[2], 200);
	cr_assert_eq(t.events[3], 1);
	reactor_remove_hook(r, &h.hook);
	reactor_destroy(r);
}

/* A group commit: writes mark the file dirty, the hook fsyncs once per turn for all of them. */
struct committer {
	struct reactor_hook hook;
	struct reactor *r;
	int fd;
	bool dirty;
	bool syncing;
	int fsyncs;
	int writes_done;
	struct io_op sync_op;
	int32_t sync_res;
};

struct commit_write {
	struct io_op op;
	struct committer *c;
	int32_t res;
};

static void on_commit_write(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct commit_write *w = (struct commit_write *)op;
	w->res = res;
	w->c->writes_done++;
	w->c->dirty = true;
}

static void on_synced(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct committer *c = container_of(op, struct committer, sync_op);
	c->sync_res = res;
	c->syncing = false;
}

static void on_commit_hook(struct reactor_hook *hook)
{
	struct committer *c = (struct committer *)hook;
	if (!c->dirty || c->syncing)
		return;
	c->dirty = false;
	c->syncing = true;
	c->fsyncs++;
	reactor_fsync(c->r, &c->sync_op, on_synced, c->fd, true);
}

Test(hooks, work_a_hook_submits_is_drained)
{
	struct reactor *r = ring_new();
	struct committer c = {
		.hook.fn = on_commit_hook, .r = r, .fd = temp_file(), .sync_res = 1
	};
	reactor_add_hook(r, &c.hook);
	struct commit_write w[8];
	memset(w, 0, sizeof(w));
	for (int i = 0; i < 8; i++) {
		w[i].c = &c;
		reactor_write(r, &w[i].op, on_commit_write, c.fd, "x", 1, (uint64_t)i);
	}
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(c.writes_done, 8);
	cr_assert_geq(c.fsyncs, 1);
	cr_assert_leq(c.fsyncs, 8);
	cr_assert_not(c.dirty, "drain returned with a commit still to do");
	cr_assert_not(c.syncing);
	cr_assert_eq(c.sync_res, 0);
	reactor_remove_hook(r, &c.hook);
	close(c.fd);
	reactor_destroy(r);
}

/* A hook that submits a write whenever the previous one has completed, a fixed number of
 * times: drain must give the hook a turn after every completion, including completions
 * reaped by drain's own last non-blocking turn. The writes go to a pipe with room, so they
 * complete inside the submitting system call and are reaped in that same turn. */
struct chain_hook {
	struct reactor_hook hook;
	struct reactor *r;
	int pipe[2];
	int remaining;
	bool busy;
	int completed;
	bool finished; /* set by the write that completes the chain */
	struct io_op op;
};

static void on_chain_write(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct chain_hook *h = container_of(op, struct chain_hook, op);
	cr_assert_eq(res, 1);
	h->busy = false;
	h->completed++;
	if (h->remaining == 0)
		h->finished = true;
}

static void on_chain_hook(struct reactor_hook *hook)
{
	struct chain_hook *h = (struct chain_hook *)hook;
	if (h->busy || h->remaining == 0)
		return;
	h->remaining--;
	h->busy = true;
	reactor_write(h->r, &h->op, on_chain_write, h->pipe[1], "c", 1, 0);
}

static void chain_init(struct chain_hook *h, struct reactor *r, int writes)
{
	*h = (struct chain_hook){ .hook.fn = on_chain_hook, .r = r, .remaining = writes };
	cr_assert_eq(pipe2(h->pipe, O_CLOEXEC | O_NONBLOCK), 0);
	reactor_add_hook(r, &h->hook);
}

static void chain_fini(struct chain_hook *h, int writes)
{
	char buf[64];
	cr_assert_eq(read(h->pipe[0], buf, sizeof(buf)), writes);
	reactor_remove_hook(h->r, &h->hook);
	close(h->pipe[0]);
	close(h->pipe[1]);
}

Test(hooks, drain_gives_hooks_a_turn_after_every_completion)
{
	struct reactor *r = ring_new();
	struct chain_hook h;
	chain_init(&h, r, 20);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(h.completed, 20, "drain stopped after %d of 20 hook writes", h.completed);
	cr_assert_eq(h.remaining, 0);
	chain_fini(&h, 20);
	reactor_destroy(r);
}

/* reactor_run_until has the same duty as drain: the flag here is set only by a completion of
 * work that a hook submits after an earlier completion. */
Test(hooks, run_until_gives_hooks_a_turn_after_every_completion)
{
	struct reactor *r = ring_new();
	struct chain_hook h;
	chain_init(&h, r, 20);
	cr_assert_eq(reactor_run_until(r, &h.finished), 0);
	cr_assert(h.finished, "run_until stopped after %d of 20 hook writes", h.completed);
	cr_assert_eq(h.completed, 20);
	chain_fini(&h, 20);
	reactor_destroy(r);
}
