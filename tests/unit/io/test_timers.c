/*
 * tests/unit/io/test_timers.c: one-shot timers and waiting with a timeout.
 *
 * Covers a timer firing with -ETIME no earlier than its delay, cancellation (-ECANCELED, also
 * before the timer was ever submitted, and the race with a timer that already fired),
 * restarting a timer from its own callback, timers firing in deadline order,
 * reactor_run_once(timeout) returning without completions, and a polling loop of
 * reactor_run_once(0) still seeing timers fire. Each test makes its own ring. Time is checked
 * with generous bounds only: a lower bound the kernel guarantees and an upper bound seconds
 * away, so a loaded machine cannot make a test flaky.
 */
#include "base/clock.h"
#include "io/reactor.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <time.h>

/* A hang is a failure, not a stuck run. */
TestSuite(timers, .timeout = 10);

#define MS (1000000ll)

struct tick {
	struct io_timer t;
	int32_t res;
	int calls;
	int64_t fired_ns;
	int order;
	int *seq;
};

static void on_tick(struct io_op *op, int32_t res, uint32_t flags)
{
	struct tick *k = (struct tick *)op;
	cr_assert_eq(flags, 0);
	cr_assert_not(k->t.armed, "a timer is disarmed before its callback");
	k->res = res;
	k->calls++;
	k->fired_ns = clock_mono_ns();
	if (k->seq)
		k->order = (*k->seq)++;
}

static struct reactor *ring_new(void)
{
	struct reactor *r = NULL;
	cr_assert_eq(reactor_create(&r), 0);
	return r;
}

static void drain(struct reactor *r)
{
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(reactor_inflight(r), 0);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * MS };
	while (nanosleep(&ts, &ts) != 0) {
	}
}

Test(timers, fires_with_etime_after_its_delay)
{
	struct reactor *r = ring_new();
	struct tick k = { 0 };
	int64_t start = clock_mono_ns();
	reactor_timer_start(r, &k.t, on_tick, 50 * MS);
	cr_assert(k.t.armed);
	cr_assert_eq(reactor_inflight(r), 1);
	drain(r);
	cr_assert_eq(k.calls, 1);
	cr_assert_eq(k.res, -ETIME);
	cr_assert_geq(k.fired_ns - start, 50 * MS, "fired after %lld ns",
	              (long long)(k.fired_ns - start));
	cr_assert_lt(k.fired_ns - start, 5000 * MS);
	reactor_destroy(r);
}

Test(timers, zero_delay_fires_at_once)
{
	struct reactor *r = ring_new();
	struct tick k = { 0 };
	reactor_timer_start(r, &k.t, on_tick, 0);
	drain(r);
	cr_assert_eq(k.calls, 1);
	cr_assert_eq(k.res, -ETIME);
	reactor_destroy(r);
}

Test(timers, cancel_gives_ecanceled)
{
	struct reactor *r = ring_new();
	struct tick k = { 0 };
	int64_t start = clock_mono_ns();
	reactor_timer_start(r, &k.t, on_tick, 3600ull * 1000 * MS);
	cr_assert_eq(reactor_run_once(r, 0), 0);
	cr_assert_eq(k.calls, 0);
	reactor_timer_cancel(r, &k.t);
	drain(r);
	cr_assert_eq(k.calls, 1);
	cr_assert_eq(k.res, -ECANCELED);
	cr_assert_not(k.t.armed);
	cr_assert_lt(clock_mono_ns() - start, 5000 * MS);

	/* Cancelling a timer that is not armed does nothing. */
	reactor_timer_cancel(r, &k.t);
	drain(r);
	cr_assert_eq(k.calls, 1);
	reactor_destroy(r);
}

Test(timers, cancel_before_the_timer_was_submitted)
{
	struct reactor *r = ring_new();
	struct tick k = { 0 };
	reactor_timer_start(r, &k.t, on_tick, 3600ull * 1000 * MS);
	reactor_timer_cancel(r, &k.t);
	drain(r);
	cr_assert_eq(k.calls, 1);
	cr_assert_eq(k.res, -ECANCELED);
	reactor_destroy(r);
}

Test(timers, cancel_after_it_fired_but_before_the_loop_saw_it)
{
	struct reactor *r = ring_new();
	struct tick k = { 0 };
	reactor_timer_start(r, &k.t, on_tick, 1 * MS);
	cr_assert_eq(reactor_run_once(r, 0), 0);
	sleep_ms(30);
	reactor_timer_cancel(r, &k.t);
	drain(r);
	cr_assert_eq(k.calls, 1, "exactly one completion either way");
	cr_assert(k.res == -ETIME || k.res == -ECANCELED, "res %d", k.res);
	reactor_destroy(r);
}

struct again {
	struct io_timer t;
	struct reactor *r;
	int calls;
	int limit;
};

static void on_again(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct again *a = (struct again *)op;
	cr_assert_eq(res, -ETIME);
	a->calls++;
	if (a->calls < a->limit)
		reactor_timer_start(a->r, &a->t, on_again, 1 * MS);
}

Test(timers, restart_from_its_own_callback)
{
	struct reactor *r = ring_new();
	struct again a = { .r = r, .limit = 5 };
	int64_t start = clock_mono_ns();
	reactor_timer_start(r, &a.t, on_again, 1 * MS);
	drain(r);
	cr_assert_eq(a.calls, 5);
	cr_assert_not(a.t.armed);
	cr_assert_geq(clock_mono_ns() - start, 5 * MS);
	reactor_destroy(r);
}

Test(timers, fire_in_deadline_order)
{
	struct reactor *r = ring_new();
	struct tick k[4] = { 0 };
	int seq = 0;
	/* Started in reverse: the deadline decides, not the submission order. */
	for (int i = 3; i >= 0; i--) {
		k[i].seq = &seq;
		reactor_timer_start(r, &k[i].t, on_tick, (uint64_t)(i + 1) * 25 * MS);
	}
	drain(r);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(k[i].res, -ETIME);
		cr_assert_eq(k[i].order, i, "timer %d fired as number %d", i, k[i].order);
	}
	reactor_destroy(r);
}

Test(timers, run_once_with_timeout_returns_without_completions)
{
	struct reactor *r = ring_new();
	/* Nothing in flight at all. */
	int64_t start = clock_mono_ns();
	cr_assert_eq(reactor_run_once(r, 20 * MS), 0);
	int64_t took = clock_mono_ns() - start;
	cr_assert_geq(took, 15 * MS, "returned after %lld ns", (long long)took);
	cr_assert_lt(took, 5000 * MS);

	/* A timer far away in flight: the wait still ends at the timeout. */
	struct tick k = { 0 };
	reactor_timer_start(r, &k.t, on_tick, 3600ull * 1000 * MS);
	start = clock_mono_ns();
	cr_assert_eq(reactor_run_once(r, 20 * MS), 0);
	took = clock_mono_ns() - start;
	cr_assert_geq(took, 15 * MS);
	cr_assert_lt(took, 5000 * MS);
	cr_assert_eq(k.calls, 0);
	cr_assert_eq(reactor_inflight(r), 1);
	reactor_timer_cancel(r, &k.t);
	drain(r);
	cr_assert_eq(k.res, -ECANCELED);
	reactor_destroy(r);
}

Test(timers, run_once_with_timeout_returns_early_on_a_completion)
{
	struct reactor *r = ring_new();
	struct tick k = { 0 };
	reactor_timer_start(r, &k.t, on_tick, 10 * MS);
	int64_t start = clock_mono_ns();
	int handled = 0;
	for (int turns = 0; turns < 100 && k.calls == 0; turns++) {
		int rc = reactor_run_once(r, 10000 * MS);
		cr_assert_geq(rc, 0);
		handled += rc;
	}
	cr_assert_eq(k.calls, 1);
	cr_assert_eq(handled, 1);
	cr_assert_lt(clock_mono_ns() - start, 5000 * MS, "woke for the timer, not the timeout");
	reactor_destroy(r);
}

/* A caller that polls with a zero timeout (a loop that also does other work) must still see
 * completions that the kernel delivers as task work, such as a timer firing. */
Test(timers, polling_with_zero_timeout_sees_timers_fire)
{
	struct reactor *r = ring_new();
	struct tick k = { 0 };
	reactor_timer_start(r, &k.t, on_tick, 1 * MS);
	int64_t deadline = clock_mono_ns() + 3000 * MS;
	int handled = 0;
	while (k.calls == 0 && clock_mono_ns() < deadline) {
		int rc = reactor_run_once(r, 0);
		cr_assert_geq(rc, 0);
		handled += rc;
	}
	cr_assert_eq(k.calls, 1, "the timer never fired for a polling loop");
	cr_assert_eq(k.res, -ETIME);
	cr_assert_eq(handled, 1);
	reactor_destroy(r);
}

/* Starting an armed timer would lose its completion: the assertion aborts. */
Test(timers, start_while_armed_is_refused, .signal = SIGABRT)
{
	struct reactor *r = ring_new();
	struct tick k = { 0 };
	reactor_timer_start(r, &k.t, on_tick, 3600ull * 1000 * MS);
	reactor_timer_start(r, &k.t, on_tick, 1 * MS);
}
