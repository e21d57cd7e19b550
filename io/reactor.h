/*
 * io/reactor.h: the io_uring reactor. Files, sockets, timers and helper-thread jobs, all as
 * submissions whose completions call back on the reactor thread. Knows nothing about logs or
 * Kafka.
 *
 * Completions are embedded in the object that waits for them (a segment, a connection): the
 * caller owns a struct io_op, passes it to a reactor_* call, and gets op->done(op, res, flags)
 * once (or several times for multishot operations, while IO_CQE_MORE is set in flags). res is
 * what the kernel put in the CQE: bytes or 0 on success, -errno on failure. Submitting
 * allocates nothing; the op and any buffer it names must stay valid until done is called.
 *
 * One turn of the loop (reactor_run_once):
 *   1. reap completions and call their done functions;
 *   2. call deferred callbacks and finished helper-thread jobs;
 *   3. call the before-sleep hooks (group commit happens here: every append of the turn has
 *      been submitted, so one fdatasync per dirty partition covers them all);
 *   4. submit everything queued and wait for at least one completion.
 *
 * Threading: a reactor belongs to the thread that runs it: the first thread to call
 * reactor_run_once (or to overflow the submission queue), which may differ from the one that
 * called reactor_create. Only reactor_offload()'s helper threads run elsewhere, and they touch
 * nothing but their job.
 *
 * Fault injection (io/fault.h) sits between the calls below and the ring.
 */
#ifndef TAPE_IO_REACTOR_H
#define TAPE_IO_REACTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <linux/time_types.h>

struct reactor;
struct io_op;

#define IO_CQE_MORE (1u << 1) /* == IORING_CQE_F_MORE: a multishot op will complete again */

typedef void (*io_done_fn)(struct io_op *op, int32_t res, uint32_t flags);

enum io_op_kind {
	IO_OP_NOP,
	IO_OP_READ,
	IO_OP_WRITE,
	IO_OP_FSYNC,
	IO_OP_FALLOCATE,
	IO_OP_ACCEPT,
	IO_OP_CONNECT,
	IO_OP_RECV,
	IO_OP_SEND,
	IO_OP_CLOSE,
	IO_OP_TIMEOUT,
	IO_OP_CANCEL,
	IO_OP_SPLICE,
	IO_OP_POLL,
	IO_OP_KINDS
};

struct io_op {
	io_done_fn done;
	struct reactor *reactor; /* set at submission */
	uint8_t kind;            /* enum io_op_kind */
	bool injected;           /* fault injection replaced the result */
	int32_t injected_res;
	struct io_op *next; /* deferred list */
};

/* A one-shot timer. done gets -ETIME when it fires, -ECANCELED when cancelled. */
struct io_timer {
	struct io_op op;
	struct __kernel_timespec ts;
	bool armed;
};

/* Blocking work for a helper thread: run() there, then done() on the reactor thread. */
struct io_job {
	void (*run)(struct io_job *job);
	void (*done)(struct io_job *job);
	struct io_job *next;
};

/* Called at step 3 of every turn. A hook may submit and defer, but must not run the reactor
 * (reactor_run_once, _until, _drain): the nested turn would call the hooks again. Done
 * callbacks, deferred calls and job done() functions may run it, to wait synchronously. */
struct reactor_hook {
	void (*fn)(struct reactor_hook *hook);
	struct reactor_hook *next;
};

/* Returns 0 or -errno (io_uring_queue_init, eventfd, helper threads). */
int reactor_create(struct reactor **out);
/* Stops the helper threads after their current job; ops still in flight are abandoned, so
 * callers drain first (reactor_drain). */
void reactor_destroy(struct reactor *r);

/* One turn. timeout_ns < 0 waits for a completion without limit; 0 does not wait. Returns the
 * number of completions handled, or -errno if waiting failed. */
int reactor_run_once(struct reactor *r, int64_t timeout_ns);
/* Turns until nothing is in flight (no ops, no jobs, no deferred calls) and a last turn's
 * hooks submitted nothing more. For tests, tools and shutdown. Returns 0 or -errno. */
int reactor_drain(struct reactor *r);
/* Turns until *done becomes true, or until nothing is left in flight as for reactor_drain.
 * Returns 0 or -errno; the caller looks at *done. */
int reactor_run_until(struct reactor *r, const bool *done);

/* Operations in flight (submitted or queued, not yet completed), jobs and deferred calls. */
uint64_t reactor_inflight(const struct reactor *r);

/* Hooks run newest first. A hook may add or remove hooks from inside its call, itself
 * included: an added hook first runs in the next turn, a removed one is not called again. */
void reactor_add_hook(struct reactor *r, struct reactor_hook *hook);
void reactor_remove_hook(struct reactor *r, struct reactor_hook *hook);

/* Calls op->done(op, res, 0) at step 2 of this or the next turn, never from inside this call:
 * a way to complete "synchronously" without re-entering the caller. */
void reactor_defer(struct reactor *r, struct io_op *op, io_done_fn done, int32_t res);

/* Queues job for a helper thread. */
void reactor_offload(struct reactor *r, struct io_job *job);

/* File operations. pos is a byte position in the file. */
void reactor_read(struct reactor *r, struct io_op *op, io_done_fn done, int fd, void *buf,
                  uint32_t len, uint64_t pos);
void reactor_write(struct reactor *r, struct io_op *op, io_done_fn done, int fd, const void *buf,
                   uint32_t len, uint64_t pos);
/* iov (and what it points to) must stay valid until done. */
void reactor_writev(struct reactor *r, struct io_op *op, io_done_fn done, int fd,
                    const struct iovec *iov, unsigned iovcnt, uint64_t pos);
void reactor_fsync(struct reactor *r, struct io_op *op, io_done_fn done, int fd, bool datasync);
void reactor_fallocate(struct reactor *r, struct io_op *op, io_done_fn done, int fd, int mode,
                       uint64_t pos, uint64_t len);
void reactor_close(struct reactor *r, struct io_op *op, io_done_fn done, int fd);

/* Socket operations. */
void reactor_accept(struct reactor *r, struct io_op *op, io_done_fn done, int fd,
                    struct sockaddr *addr, socklen_t *addrlen);
void reactor_connect(struct reactor *r, struct io_op *op, io_done_fn done, int fd,
                     const struct sockaddr *addr, socklen_t addrlen);
void reactor_recv(struct reactor *r, struct io_op *op, io_done_fn done, int fd, void *buf,
                  uint32_t len, int flags);
void reactor_send(struct reactor *r, struct io_op *op, io_done_fn done, int fd, const void *buf,
                  uint32_t len, int flags);
void reactor_splice(struct reactor *r, struct io_op *op, io_done_fn done, int fd_in, int64_t off_in,
                    int fd_out, int64_t off_out, uint32_t len, unsigned flags);

/* Waits until fd is ready for events (POLLIN, POLLOUT...); done gets the ready mask. */
void reactor_poll(struct reactor *r, struct io_op *op, io_done_fn done, int fd, unsigned events);

/* Links the next two submissions (the next two reactor_* calls, with nothing between them):
 * the second starts only once the first has completed in full. A first that fails or comes
 * up short (fewer bytes than asked) completes the second with -ECANCELED. Both go to the kernel
 * in the same submission, as a chain must. */
void reactor_link_next(struct reactor *r);

/* Timers. A timer must not be started while armed. */
void reactor_timer_start(struct reactor *r, struct io_timer *t, io_done_fn done, uint64_t after_ns);
/* Cancels an armed timer: its done gets -ECANCELED (or -ETIME if it fired meanwhile). */
void reactor_timer_cancel(struct reactor *r, struct io_timer *t);

/* Asks the kernel to cancel target; target's done gets -ECANCELED if it was still pending. */
void reactor_cancel(struct reactor *r, struct io_op *target);

#endif
