/*
 * io/reactor.c: the ring, the submissions and the loop. See reactor.h for the turn.
 *
 * user_data of every SQE is the struct io_op that waits for it; 0 marks completions nobody
 * waits for (timer removals, cancellations). An injected fault submits a NOP in place of the
 * operation and reports op->injected_res when the NOP completes, so the result still arrives
 * through the ring in submission order with the rest.
 */
#include "io/reactor_internal.h"

#include "base/assert.h"
#include "base/limits.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int reactor_create(struct reactor **out)
{
	struct reactor *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	/* SINGLE_ISSUER binds the ring to one thread: the creator, unless the ring starts
	 * disabled, in which case the thread that enables it. The reactor belongs to the thread
	 * that runs it, which need not be the one creating it, so it starts disabled and the
	 * first submission enables it (ring_enable). */
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER |
	          IORING_SETUP_R_DISABLED;
	int rc = io_uring_queue_init_params(REACTOR_SQ_ENTRIES, &r->ring, &p);
	if (rc == -EINVAL) {
		memset(&p, 0, sizeof(p));
		rc = io_uring_queue_init_params(REACTOR_SQ_ENTRIES, &r->ring, &p);
		r->ring_enabled = true;
	}
	if (rc < 0) {
		free(r);
		return rc;
	}
	rc = helpers_start(r);
	if (rc < 0) {
		io_uring_queue_exit(&r->ring);
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void reactor_destroy(struct reactor *r)
{
	if (!r)
		return;
	helpers_stop(r);
	io_uring_queue_exit(&r->ring);
	free(r);
}

/* Enables the ring on the thread that submits first, which becomes its only issuer. */
static int ring_enable(struct reactor *r)
{
	if (r->ring_enabled)
		return 0;
	/* io_uring_enable_rings() is missing from liburing 2.3's shared library. */
	int rc = io_uring_register(r->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	if (rc < 0)
		return rc;
	r->ring_enabled = true;
	return 0;
}

struct io_uring_sqe *reactor_sqe(struct reactor *r)
{
	/* A chain must reach the kernel in one submission: room for both links, or submit now. */
	if (r->link_pending == 2 && io_uring_sq_space_left(&r->ring) < 2) {
		int rc = ring_enable(r);
		ASSERT(rc == 0);
		rc = io_uring_submit(&r->ring);
		ASSERT(rc >= 0 || rc == -EBUSY || rc == -EAGAIN || rc == -EINTR);
		r->unsubmitted = 0;
	}
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
	while (!sqe) {
		ASSERT(r->link_pending != 1); /* the room was made before the first link */
		/* The queue is full: hand what is there to the kernel and take a fresh entry. */
		int rc = ring_enable(r);
		ASSERT(rc == 0);
		rc = io_uring_submit(&r->ring);
		ASSERT(rc >= 0 || rc == -EBUSY || rc == -EAGAIN || rc == -EINTR);
		r->unsubmitted = 0;
		sqe = io_uring_get_sqe(&r->ring);
	}
	r->unsubmitted++;
	return sqe;
}

static void begin(struct reactor *r, struct io_op *op, io_done_fn done, enum io_op_kind kind)
{
	op->done = done;
	op->reactor = r;
	op->kind = (uint8_t)kind;
	op->injected = false;
	op->injected_res = 0;
	op->next = NULL;
	r->inflight++;
}

static void finish(struct io_uring_sqe *sqe, struct io_op *op)
{
	io_uring_sqe_set_data(sqe, op);
	struct reactor *r = op->reactor;
	if (r->link_pending == 2)
		sqe->flags |= IOSQE_IO_LINK; /* after prep, which clears the flags */
	if (r->link_pending)
		r->link_pending--;
}

void reactor_link_next(struct reactor *r)
{
	ASSERT(r->link_pending == 0);
	r->link_pending = 2;
}

/* Submits a NOP that will report the injected result for op. */
static void inject(struct reactor *r, struct io_op *op)
{
	struct io_uring_sqe *sqe = reactor_sqe(r);
	io_uring_prep_nop(sqe);
	finish(sqe, op);
}

void reactor_read(struct reactor *r, struct io_op *op, io_done_fn done, int fd, void *buf,
                  uint32_t len, uint64_t pos)
{
	begin(r, op, done, IO_OP_READ);
	struct io_uring_sqe *sqe = reactor_sqe(r);
	io_uring_prep_read(sqe, fd, buf, len, pos);
	finish(sqe, op);
}

void reactor_write(struct reactor *r, struct io_op *op, io_done_fn done, int fd, const void *buf,
                   uint32_t len, uint64_t pos)
{
	begin(r, op, done, IO_OP_WRITE);
	if (fault_apply(r, op, &len)) {
		inject(r, op);
		return;
	}
	struct io_uring_sqe *sqe = reactor_sqe(r);
	io_uring_prep_write(sqe, fd, buf, len, pos);
	finish(sqe, op);
}

void reactor_writev(struct reactor *r, struct io_op *op, io_done_fn done, int fd,
                    const struct iovec *iov, unsigned iovcnt, uint64_t pos)
{
	begin(r, op, done, IO_OP_WRITE);
	uint32_t first = iovcnt ? (uint32_t)iov[0].iov_len : 0;
	uint32_t len = first;
	if (fault_apply(r, op, &len)) {
		inject(r, op);
		return;
	}
	struct io_uring_sqe *sqe = reactor_sqe(r);
	if (len != first || iovcnt == 0) {
		/* A short write: the first half of the first buffer really reaches the file. */
		io_uring_prep_write(sqe, fd, iovcnt ? iov[0].iov_base : NULL, len, pos);
	} else {
		io_uring_prep_writev(sqe, fd, iov, iovcnt, pos);
	}
	finish(sqe, op);
}

void reactor_fsync(struct reactor *r, struct io_op *op, io_done_fn done, int fd, bool datasync)
{
	begin(r, op, done, IO_OP_FSYNC);
	if (fault_apply(r, op, NULL)) {
		inject(r, op);
		return;
	}
	struct io_uring_sqe *sqe = reactor_sqe(r);
	io_uring_prep_fsync(sqe, fd, datasync ? IORING_FSYNC_DATASYNC : 0);
	finish(sqe, op);
}

void reactor_fallocate(struct reactor *r, struct io_op *op, io_done_fn done, int fd, int mode,
                       uint64_t pos, uint64_t len)
{
	begin(r, op, done, IO_OP_FALLOCATE);
	struct io_uring_sqe *sqe = reactor_sqe(r);
	io_uring_prep_fallocate(sqe, fd, mode, (off_t)pos, (off_t)len);
	finish(sqe, op);
}

void reactor_close(struct reactor *r, struct io_op *op, io_done_fn done, int fd)
{
	begin(r, op, done, IO_OP_CLOSE);
	struct io_uring_sqe *sqe = reactor_sqe(r);
	io_uring_prep_close(sqe, fd);
	finish(sqe, op);
}

void reactor_accept(struct reactor *r, struct io_op *op, io_done_fn done, int fd,
                    struct sockaddr *addr, socklen_t *addrlen)
{
	begin(r, op, done, IO_OP_ACCEPT);
	struct io_uring_sqe *sqe = reactor_sqe(r);
	io_uring_prep_accept(sqe, fd, addr, addrlen, SOCK_CLOEXEC | SOCK_NONBLOCK);
	finish(sqe, op);
}

void reactor_connect(struct reactor *r, struct io_op *op, io_done_fn done, int fd,
                     const struct sockaddr *addr, socklen_t addrlen)
{
	begin(r, op, done, IO_OP_CONNECT);
	struct io_uring_sqe *sqe = reactor_sqe(r);
	io_uring_prep_connect(sqe, fd, addr, addrlen);
	finish(sqe, op);
}

void reactor_recv(struct reactor *r, struct io_op *op, io_done_fn done, int fd, void *buf,
                  uint32_t len, int flags)
{
	begin(r, op, done, IO_OP_RECV);
	struct io_uring_sqe *sqe = reactor_sqe(r);
	io_uring_prep_recv(sqe, fd, buf, len, flags);
	finish(sqe, op);
}

void reactor_send(struct reactor *r, struct io_op *op, io_done_fn done, int fd, const void *buf,
                  uint32_t len, int flags)
{
	begin(r, op, done, IO_OP_SEND);
	struct io_uring_sqe *sqe = reactor_sqe(r);
	io_uring_prep_send(sqe, fd, buf, len, flags | MSG_NOSIGNAL);
	finish(sqe, op);
}

void reactor_splice(struct reactor *r, struct io_op *op, io_done_fn done, int fd_in, int64_t off_in,
                    int fd_out, int64_t off_out, uint32_t len, unsigned flags)
{
	begin(r, op, done, IO_OP_SPLICE);
	struct io_uring_sqe *sqe = reactor_sqe(r);
	io_uring_prep_splice(sqe, fd_in, off_in, fd_out, off_out, len, flags);
	finish(sqe, op);
}

void reactor_poll(struct reactor *r, struct io_op *op, io_done_fn done, int fd, unsigned events)
{
	begin(r, op, done, IO_OP_POLL);
	struct io_uring_sqe *sqe = reactor_sqe(r);
	io_uring_prep_poll_add(sqe, fd, events);
	finish(sqe, op);
}

void reactor_timer_start(struct reactor *r, struct io_timer *t, io_done_fn done, uint64_t after_ns)
{
	ASSERT(!t->armed);
	begin(r, &t->op, done, IO_OP_TIMEOUT);
	t->ts.tv_sec = (long long)(after_ns / 1000000000u);
	t->ts.tv_nsec = (long long)(after_ns % 1000000000u);
	t->armed = true;
	struct io_uring_sqe *sqe = reactor_sqe(r);
	io_uring_prep_timeout(sqe, &t->ts, 0, 0);
	finish(sqe, &t->op);
}

void reactor_timer_cancel(struct reactor *r, struct io_timer *t)
{
	if (!t->armed)
		return;
	struct io_uring_sqe *sqe = reactor_sqe(r);
	io_uring_prep_timeout_remove(sqe, (uint64_t)(uintptr_t)&t->op, 0);
	io_uring_sqe_set_data(sqe, NULL);
}

void reactor_cancel(struct reactor *r, struct io_op *target)
{
	struct io_uring_sqe *sqe = reactor_sqe(r);
	io_uring_prep_cancel(sqe, target, 0);
	io_uring_sqe_set_data(sqe, NULL);
}

void reactor_defer(struct reactor *r, struct io_op *op, io_done_fn done, int32_t res)
{
	op->done = done;
	op->reactor = r;
	op->kind = IO_OP_NOP;
	op->injected = true;
	op->injected_res = res;
	op->next = NULL;
	if (r->deferred_tail)
		r->deferred_tail->next = op;
	else
		r->deferred_head = op;
	r->deferred_tail = op;
	r->deferred_count++;
}

void reactor_add_hook(struct reactor *r, struct reactor_hook *hook)
{
	hook->next = r->hooks;
	r->hooks = hook;
}

void reactor_remove_hook(struct reactor *r, struct reactor_hook *hook)
{
	/* A hook may remove another from inside its call; the turn must not call it after. */
	if (r->hook_next == hook)
		r->hook_next = hook->next;
	for (struct reactor_hook **h = &r->hooks; *h; h = &(*h)->next)
		if (*h == hook) {
			*h = hook->next;
			return;
		}
}

uint64_t reactor_inflight(const struct reactor *r)
{
	return r->inflight + r->deferred_count + r->helpers.queued;
}

static void complete(struct reactor *r, struct io_op *op, int32_t res, uint32_t flags)
{
	if (!(flags & IORING_CQE_F_MORE))
		r->inflight--;
	if (op->injected)
		res = op->injected_res;
	if (op->kind == IO_OP_TIMEOUT)
		container_of(op, struct io_timer, op)->armed = false;
	op->done(op, res, flags & IORING_CQE_F_MORE ? IO_CQE_MORE : 0);
}

static int reap(struct reactor *r)
{
	int handled = 0;
	/* Each CQE is consumed before its callback runs and the head is read afresh for the next:
	 * a callback may submit (the kernel adds CQEs meanwhile) or run the reactor itself (a
	 * nested reap consumes CQEs), and neither can deliver a completion twice. The bound keeps
	 * a turn finite when callbacks keep starting work that completes at once. */
	for (unsigned n = 0; n < r->ring.cq.ring_entries; n++) {
		struct io_uring_cqe *cqe;
		if (io_uring_peek_cqe(&r->ring, &cqe) != 0)
			break;
		struct io_op *op = io_uring_cqe_get_data(cqe);
		int32_t res = cqe->res;
		uint32_t flags = cqe->flags;
		io_uring_cqe_seen(&r->ring, cqe);
		if (!op)
			continue;
		if (op == &r->helpers.event_op) {
			r->helpers.event_armed = false;
			continue;
		}
		complete(r, op, res, flags);
		handled++;
	}
	return handled;
}

static int run_deferred(struct reactor *r)
{
	int handled = 0;
	/* Only what was deferred before this point runs now; callbacks may defer more. */
	struct io_op *op = r->deferred_head;
	r->deferred_head = r->deferred_tail = NULL;
	while (op) {
		struct io_op *next = op->next;
		r->deferred_count--;
		op->done(op, op->injected_res, 0);
		handled++;
		op = next;
	}
	return handled;
}

int reactor_run_once(struct reactor *r, int64_t timeout_ns)
{
	int handled = reap(r);
	handled += helpers_reap(r);
	handled += run_deferred(r);
	for (struct reactor_hook *h = r->hooks; h; h = r->hook_next) {
		r->hook_next = h->next;
		h->fn(h);
	}
	r->hook_next = NULL;
	helpers_arm(r);
	bool wait = timeout_ns != 0 && handled == 0 && r->deferred_count == 0;
	/* A helper job's end is noticed through the eventfd read armed above; should that wakeup
	 * ever be missed (a shutdown was once seen asleep with a finished job on the done list
	 * and no read in the ring), the next look is at most HELPER_WAIT_NS away, not never. */
	if (r->helpers.queued > 0 && (timeout_ns < 0 || timeout_ns > HELPER_WAIT_NS))
		timeout_ns = HELPER_WAIT_NS;
	int rc = ring_enable(r);
	if (rc < 0)
		return rc;
	if (!wait) {
		rc = io_uring_submit(&r->ring);
	} else if (timeout_ns < 0) {
		rc = io_uring_submit_and_wait(&r->ring, 1);
	} else {
		struct __kernel_timespec ts = {
			.tv_sec = timeout_ns / 1000000000,
			.tv_nsec = timeout_ns % 1000000000,
		};
		struct io_uring_cqe *cqe;
		rc = io_uring_submit_and_wait_timeout(&r->ring, &cqe, 1, &ts, NULL);
		if (rc == -ETIME)
			rc = 0;
	}
	r->unsubmitted = 0;
	if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
		return rc;
	return handled + reap(r);
}

int reactor_run_until(struct reactor *r, const bool *done)
{
	/* Stops only after a turn that handled nothing and left nothing in flight: a completion
	 * reaped at the end of a turn has not been seen by the hooks yet, and they may submit
	 * more because of it (a group commit). */
	while (!*done) {
		bool idle = reactor_inflight(r) == 0;
		int rc = reactor_run_once(r, idle ? 0 : -1);
		if (rc < 0)
			return rc;
		if (idle && rc == 0 && reactor_inflight(r) == 0)
			return 0;
	}
	return 0;
}

int reactor_drain(struct reactor *r)
{
	static const bool never = false;
	return reactor_run_until(r, &never);
}
