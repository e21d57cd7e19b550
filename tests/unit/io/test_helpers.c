/*
 * tests/unit/io/test_helpers.c: blocking jobs on helper threads (reactor_offload).
 *
 * Covers run() on a thread other than the reactor's and done() on the reactor's own (compared
 * with pthread_self), ten thousand jobs all completing once, reactor_drain waiting for jobs,
 * a job finishing while the reactor sleeps in the ring waking it without busy turns, jobs
 * offloaded from done(), done() order with one helper thread, and reactor_destroy with jobs
 * still queued. Each test makes its own ring; slow jobs sleep a few tens of milliseconds.
 */
#include "base/clock.h"
#include "base/limits.h"
#include "io/reactor.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

/* A hang is a failure, not a stuck run. */
TestSuite(helpers, .timeout = 10);

#define MS (1000000ll)

static struct reactor *ring_new(void)
{
	struct reactor *r = NULL;
	cr_assert_eq(reactor_create(&r), 0);
	return r;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * MS };
	while (nanosleep(&ts, &ts) != 0) {
	}
}

struct job {
	struct io_job job;
	struct reactor *r;
	pthread_t run_thread, done_thread;
	atomic_int runs;
	int dones;
	long sleep_ms;
	int id;
	int *done_log;
	int *done_count;
	int chain; /* offload itself again this many times from done() */
};

static void job_run(struct io_job *j)
{
	struct job *job = (struct job *)j;
	job->run_thread = pthread_self();
	if (job->sleep_ms)
		sleep_ms(job->sleep_ms);
	atomic_fetch_add(&job->runs, 1);
}

static void job_done(struct io_job *j)
{
	struct job *job = (struct job *)j;
	job->done_thread = pthread_self();
	job->dones++;
	if (job->done_log)
		job->done_log[(*job->done_count)++] = job->id;
	if (job->chain > 0) {
		job->chain--;
		reactor_offload(job->r, j);
	}
}

static void job_init(struct job *job, struct reactor *r)
{
	*job = (struct job){ .job = { .run = job_run, .done = job_done }, .r = r };
}

Test(helpers, run_elsewhere_done_on_the_reactor_thread)
{
	struct reactor *r = ring_new();
	struct job j;
	job_init(&j, r);
	reactor_offload(r, &j.job);
	cr_assert_eq(reactor_inflight(r), 1, "a queued job counts as in flight");
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(atomic_load(&j.runs), 1);
	cr_assert_eq(j.dones, 1);
	cr_assert_not(pthread_equal(j.run_thread, pthread_self()), "run() on the reactor thread");
	cr_assert(pthread_equal(j.done_thread, pthread_self()), "done() off the reactor thread");
	cr_assert_eq(reactor_inflight(r), 0);
	reactor_destroy(r);
}

#define MANY_JOBS 10000

Test(helpers, many_jobs_all_complete_once)
{
	struct reactor *r = ring_new();
	struct job *jobs = calloc(MANY_JOBS, sizeof(*jobs));
	cr_assert(jobs);
	for (int i = 0; i < MANY_JOBS; i++) {
		job_init(&jobs[i], r);
		reactor_offload(r, &jobs[i].job);
	}
	cr_assert_eq(reactor_inflight(r), MANY_JOBS);
	cr_assert_eq(reactor_drain(r), 0);
	for (int i = 0; i < MANY_JOBS; i++) {
		cr_assert_eq(atomic_load(&jobs[i].runs), 1, "job %d", i);
		cr_assert_eq(jobs[i].dones, 1, "job %d", i);
	}
	cr_assert_eq(reactor_inflight(r), 0);
	free(jobs);
	reactor_destroy(r);
}

Test(helpers, drain_waits_for_slow_jobs)
{
	struct reactor *r = ring_new();
	struct job j[3];
	for (int i = 0; i < 3; i++) {
		job_init(&j[i], r);
		j[i].sleep_ms = 20;
		reactor_offload(r, &j[i].job);
	}
	int64_t start = clock_mono_ns();
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_geq(clock_mono_ns() - start, 20 * MS);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(j[i].dones, 1);
	reactor_destroy(r);
}

/* The reactor sleeps in the ring (the eventfd read) while a job runs; the job's end must wake
 * it, and the sleep must be a real sleep, not a loop of empty turns. */
Test(helpers, finished_job_wakes_a_waiting_reactor)
{
	struct reactor *r = ring_new();
	struct job j;
	job_init(&j, r);
	j.sleep_ms = 100;
	reactor_offload(r, &j.job);
	int64_t start = clock_mono_ns();
	int turns = 0;
	while (j.dones == 0) {
		cr_assert_geq(reactor_run_once(r, -1), 0);
		turns++;
		cr_assert_lt(turns, 1000, "the reactor spins while the job runs");
	}
	int64_t took = clock_mono_ns() - start;
	cr_assert_geq(took, 100 * MS);
	cr_assert_lt(took, 5000 * MS);
	cr_assert_leq(turns, 10, "%d turns for one job", turns);

	/* Again, with the ring idle for longer than the job before it is offloaded. */
	sleep_ms(20);
	j.sleep_ms = 50;
	reactor_offload(r, &j.job);
	turns = 0;
	while (j.dones == 1) {
		cr_assert_geq(reactor_run_once(r, -1), 0);
		turns++;
		cr_assert_lt(turns, 1000, "the reactor spins while the job runs");
	}
	cr_assert_leq(turns, 10, "%d turns for one job", turns);
	reactor_destroy(r);
}

Test(helpers, a_job_wakes_a_reactor_waiting_with_a_timeout)
{
	struct reactor *r = ring_new();
	struct job j;
	job_init(&j, r);
	j.sleep_ms = 30;
	reactor_offload(r, &j.job);
	int64_t start = clock_mono_ns();
	for (int turns = 0; turns < 10 && j.dones == 0; turns++)
		cr_assert_geq(reactor_run_once(r, 10000 * MS), 0);
	cr_assert_eq(j.dones, 1);
	cr_assert_lt(clock_mono_ns() - start, 5000 * MS, "waited for the timeout, not the job");
	reactor_destroy(r);
}

Test(helpers, done_may_offload_again)
{
	struct reactor *r = ring_new();
	struct job j;
	job_init(&j, r);
	j.chain = 50;
	reactor_offload(r, &j.job);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(atomic_load(&j.runs), 51);
	cr_assert_eq(j.dones, 51);
	reactor_destroy(r);
}

Test(helpers, done_order_is_offload_order_with_one_helper)
{
	if (HELPER_THREADS != 1)
		cr_skip_test("order is promised only with one helper thread");
	struct reactor *r = ring_new();
	enum { N = 200 };
	struct job *jobs = calloc(N, sizeof(*jobs));
	int log[N], count = 0;
	cr_assert(jobs);
	for (int i = 0; i < N; i++) {
		job_init(&jobs[i], r);
		jobs[i].id = i;
		jobs[i].done_log = log;
		jobs[i].done_count = &count;
		reactor_offload(r, &jobs[i].job);
	}
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(count, N);
	for (int i = 0; i < N; i++)
		cr_assert_eq(log[i], i);
	free(jobs);
	reactor_destroy(r);
}

/* Destroy stops the helpers after their current job: it returns, and no done() runs after. */
Test(helpers, destroy_with_jobs_queued_returns)
{
	struct reactor *r = ring_new();
	static struct job j[8];
	for (int i = 0; i < 8; i++) {
		job_init(&j[i], r);
		j[i].sleep_ms = 20;
		reactor_offload(r, &j[i].job);
	}
	cr_assert_eq(reactor_run_once(r, 0), 0);
	reactor_destroy(r);
	int ran = 0;
	for (int i = 0; i < 8; i++) {
		ran += atomic_load(&j[i].runs);
		cr_assert_eq(j[i].dones, 0);
	}
	cr_assert_lt(ran, 8, "destroy ran every queued job first");
}
