/*
 * io/reactor_internal.h: the reactor's state, shared by the io/ files only.
 */
#ifndef TAPE_IO_REACTOR_INTERNAL_H
#define TAPE_IO_REACTOR_INTERNAL_H

#include "io/fault.h"
#include "io/reactor.h"

#include <liburing.h>
#include <pthread.h>

#define FAULT_SLOTS 8

struct io_fault {
	bool armed;
	bool sticky;
	enum io_fault_on on;
	uint64_t nth; /* counted from the arming */
	uint64_t base;
	int32_t res;
};

struct helper_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct io_job *queue_head, *queue_tail; /* waiting for a helper */
	struct io_job *done_head;               /* finished, for the reactor (LIFO, reversed) */
	uint64_t queued;                        /* offloaded and not yet done() */
	bool stopping;
	int threads_count;
	pthread_t threads[8];
	int event_fd;
	uint64_t event_buf;
	struct io_op event_op; /* the eventfd read, always armed; not counted in flight */
	bool event_armed;
};

struct reactor {
	struct io_uring ring;
	bool ring_enabled;    /* created disabled; the first thread to submit enables and owns it */
	uint64_t inflight;    /* submitted ops not yet completed */
	uint64_t unsubmitted; /* SQEs prepared since the last submit */
	unsigned link_pending; /* reactor_link_next: SQEs still to take (2, 1, 0) */
	struct io_op *deferred_head, *deferred_tail;
	uint64_t deferred_count;
	struct reactor_hook *hooks;
	struct reactor_hook *hook_next; /* the next hook of the running turn; removal updates it */
	struct io_fault faults[FAULT_SLOTS];
	uint64_t fault_counts[2];
	struct helper_pool helpers;
};

struct io_uring_sqe *reactor_sqe(struct reactor *r);
/* Applies armed faults to an op about to be submitted. Returns true when the op must not reach
 * the kernel (its result is injected); for IO_FAULT_SHORT it shortens *len instead. */
bool fault_apply(struct reactor *r, struct io_op *op, uint32_t *len);

int helpers_start(struct reactor *r);
void helpers_stop(struct reactor *r);
void helpers_arm(struct reactor *r);
/* Calls done() of finished jobs; returns how many. */
int helpers_reap(struct reactor *r);

#endif
