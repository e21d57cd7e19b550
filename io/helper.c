/*
 * io/helper.c: helper threads for blocking work (reactor_offload).
 *
 * Jobs wait in a FIFO; a helper runs job->run() and pushes the job onto a done list, then
 * writes the eventfd the reactor keeps a read armed on. The reactor calls job->done() for
 * every finished job at step 2 of its turn. Jobs run in FIFO order only when there is one
 * helper thread (HELPER_THREADS); callers that need order chain their jobs.
 */
#include "io/reactor_internal.h"

#include "base/assert.h"
#include "base/limits.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void *helper_main(void *arg)
{
	struct reactor *r = arg;
	struct helper_pool *h = &r->helpers;
	pthread_mutex_lock(&h->lock);
	for (;;) {
		while (!h->queue_head && !h->stopping)
			pthread_cond_wait(&h->cond, &h->lock);
		if (h->stopping)
			break;
		struct io_job *job = h->queue_head;
		h->queue_head = job->next;
		if (!h->queue_head)
			h->queue_tail = NULL;
		pthread_mutex_unlock(&h->lock);

		job->run(job);

		pthread_mutex_lock(&h->lock);
		job->next = h->done_head;
		h->done_head = job;
		uint64_t one = 1;
		ssize_t w = write(h->event_fd, &one, sizeof(one));
		(void)w; /* a full counter still wakes the reader */
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

int helpers_start(struct reactor *r)
{
	struct helper_pool *h = &r->helpers;
	_Static_assert(HELPER_THREADS <= sizeof(h->threads) / sizeof(h->threads[0]),
	               "helper thread slots");
	h->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->event_fd < 0)
		return -errno;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	for (int i = 0; i < HELPER_THREADS; i++) {
		int rc = pthread_create(&h->threads[i], NULL, helper_main, r);
		if (rc != 0) {
			helpers_stop(r);
			return -rc;
		}
		h->threads_count++;
	}
	return 0;
}

void helpers_stop(struct reactor *r)
{
	struct helper_pool *h = &r->helpers;
	pthread_mutex_lock(&h->lock);
	h->stopping = true;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	for (int i = 0; i < h->threads_count; i++)
		pthread_join(h->threads[i], NULL);
	h->threads_count = 0;
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	if (h->event_fd >= 0)
		close(h->event_fd);
	h->event_fd = -1;
}

void reactor_offload(struct reactor *r, struct io_job *job)
{
	struct helper_pool *h = &r->helpers;
	ASSERT(h->queued < HELPER_JOBS_MAX);
	job->next = NULL;
	h->queued++;
	pthread_mutex_lock(&h->lock);
	if (h->queue_tail)
		h->queue_tail->next = job;
	else
		h->queue_head = job;
	h->queue_tail = job;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

static void event_done(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)op;
	(void)res;
	(void)flags;
}

/* Keeps one read on the eventfd in the ring while jobs are out, so a finished job wakes the
 * reactor. Not counted in flight: it is the reactor's own. */
void helpers_arm(struct reactor *r)
{
	struct helper_pool *h = &r->helpers;
	if (h->event_armed || h->queued == 0)
		return;
	h->event_op.done = event_done;
	h->event_op.reactor = r;
	h->event_op.kind = IO_OP_READ;
	h->event_op.injected = false;
	struct io_uring_sqe *sqe = reactor_sqe(r);
	io_uring_prep_read(sqe, h->event_fd, &h->event_buf, sizeof(h->event_buf), 0);
	io_uring_sqe_set_data(sqe, &h->event_op);
	h->event_armed = true;
}

int helpers_reap(struct reactor *r)
{
	struct helper_pool *h = &r->helpers;
	int handled = 0;
	if (h->queued == 0)
		return 0;
	pthread_mutex_lock(&h->lock);
	struct io_job *done = h->done_head;
	h->done_head = NULL;
	pthread_mutex_unlock(&h->lock);
	/* The list is newest first; reverse it so done() runs in completion order. */
	struct io_job *ordered = NULL;
	while (done) {
		struct io_job *next = done->next;
		done->next = ordered;
		ordered = done;
		done = next;
	}
	while (ordered) {
		struct io_job *next = ordered->next;
		h->queued--;
		ordered->done(ordered);
		ordered = next;
		handled++;
	}
	return handled;
}
