/*
 * server/connection.c: one client connection: receiving frames into chunks, the queue of its
 * requests, in-order responses, backpressure, idle and partial-frame deadlines, closing.
 * The state diagram is in server.h. Knows frames and headers, not what requests mean.
 *
 * Memory per connection is bounded by its current chunk (CONN_CHUNK_BYTES, or one frame when
 * a frame is bigger, which socket.request.max.bytes bounds) plus what its at most
 * CONN_REQUESTS_MAX requests hold, plus, once it was sent a spliced Fetch answer, a pipe
 * holding at most FETCH_PIPE_BYTES of page-cache references.
 */
#include "server/server.h"

#include "base/assert.h"
#include "base/clock.h"
#include "base/diag.h"
#include "base/errors.h"
#include "base/limits.h"
#include "protocol/api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void arm_recv(struct conn *c);
static void send_next(struct conn *c);
static void parse_frames(struct conn *c);
static void maybe_free(struct conn *c);

static struct rchunk *chunk_new(size_t cap)
{
	struct rchunk *ch = malloc(sizeof(*ch) + cap);
	if (ch) {
		ch->refs = 1;
		ch->cap = cap;
	}
	return ch;
}

static void chunk_unref(struct rchunk *ch)
{
	if (ch && --ch->refs == 0)
		free(ch);
}

static void describe_peer(struct conn *c, const struct sockaddr *sa)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	snprintf(c->peer, sizeof(c->peer), "%s:%d", host, port);
}

/* ---- requests -------------------------------------------------------------------------- */

static void request_free(struct request *req)
{
	struct conn *c = req->conn;
	if (req->release)
		req->release(req);
	arena_free(&req->arena);
	buf_free(&req->resp);
	chunk_unref(req->chunk);
	free(req);
	c->requests--;
}

/* Drops answered requests at the head of the queue (and, when closing, every finished one). */
static void pop_head(struct conn *c)
{
	struct request *req = c->head;
	c->head = req->next;
	if (!c->head)
		c->tail = NULL;
	bool close_after = req->close_after;
	request_free(req);
	if (close_after)
		conn_close(c, "the request could not be answered");
}

void request_finish(struct request *req)
{
	ASSERT(!req->finished);
	req->finished = true;
	struct conn *c = req->conn;
	if (!buf_ok(&req->resp)) {
		diag_warn("%s: response to %s too large or out of memory", c->peer,
		          api_name(req->hdr.api_key) ? api_name(req->hdr.api_key) : "?");
		req->close_after = true;
		req->resp.len = 0;
		req->ranges_count = 0;
		req->ranges_bytes = 0;
	}
	if (req->resp.len > FRAME_SIZE_BYTES)
		buf_patch_i32(&req->resp, 0,
		              (int32_t)(req->resp.len + req->ranges_bytes - FRAME_SIZE_BYTES));
	if (c->closing) {
		maybe_free(c);
		return;
	}
	send_next(c);
}

void request_finish_silent(struct request *req)
{
	req->silent = true;
	request_finish(req);
}

void request_fail(struct request *req, const char *why)
{
	diag_info("%s: closing after %s request: %s", req->conn->peer,
	          api_name(req->hdr.api_key) ? api_name(req->hdr.api_key) : "an unknown", why);
	req->silent = true;
	req->close_after = true;
	request_finish(req);
}

/* ---- sending ----------------------------------------------------------------------------
 *
 * The head's frame is its resp bytes with its file ranges (if any) spliced in between, at their
 * positions. Each send step moves the next piece and, once all of its operations completed,
 * step_done applies the results and starts the next step or the next response:
 *
 *   pipe empty, resp bytes before the next range   send of those bytes
 *   pipe empty, at a range                          splice file -> pipe, linked with
 *                                                   splice pipe -> socket of the same length
 *   bytes in the pipe (a short splice)              splice pipe -> socket of them
 *   the socket was full (-EAGAIN)                   poll for POLLOUT, then the above
 *
 * Splices run in io_uring's workers, which do not wait for a nonblocking socket to drain as
 * send does: a full socket fails the splice out with -EAGAIN, hence the poll. The pipe is
 * empty between responses, so what is in it always belongs to the head.
 */

static bool head_sent(const struct conn *c)
{
	const struct request *req = c->head;
	return c->send_pos == req->resp.len && c->send_range == req->ranges_count &&
	       c->pipe_bytes == 0;
}

/* Applies a finished step's results; returns NULL, or why the connection must close. */
static const char *step_apply(struct conn *c)
{
	struct request *req = c->head;
	bool in_short = false;
	if (c->step_poll_res < 0)
		return tape_strerror(c->step_poll_res);
	if (c->step_poll_res > 0)
		c->socket_full = false;
	if (c->step_in_len) {
		int32_t in = c->step_in_res;
		if (in < 0)
			return tape_strerror(in);
		if (in == 0)
			return "a segment ended inside a range being sent (truncated under a "
			       "fetch)";
		ASSERT((uint32_t)in <= c->step_in_len);
		in_short = (uint32_t)in < c->step_in_len;
		c->pipe_bytes += (uint32_t)in;
		c->range_pos += (uint32_t)in;
		if (c->range_pos == req->ranges[c->send_range].len) {
			c->send_range++;
			c->range_pos = 0;
		}
	}
	int32_t out = c->step_out_res;
	if (c->step_splice_out) {
		if (out == -EAGAIN) {
			c->socket_full = true;
			return NULL;
		}
		if (out == -ECANCELED && in_short)
			return NULL; /* the short splice in broke the link: the next step sends it
			              */
		if (out <= 0)
			return out < 0 ? tape_strerror(out)
			               : "a splice to the socket moved nothing";
		ASSERT((uint32_t)out <= c->pipe_bytes);
		c->pipe_bytes -= (uint32_t)out;
	} else if (c->step_mem_send) {
		if (out <= 0)
			return out < 0 ? tape_strerror(out) : "a send moved nothing";
		c->send_pos += (size_t)out;
	}
	return NULL;
}

static void step_done(struct conn *c)
{
	c->send_armed = false;
	if (c->closing) {
		maybe_free(c);
		return;
	}
	const char *why = step_apply(c);
	if (why) {
		conn_close(c, why);
		return;
	}
	c->last_progress_ms = clock_mono_ms();
	if (head_sent(c)) {
		c->send_pos = 0;
		c->send_range = 0;
		pop_head(c);
		if (c->closing)
			return;
		/* The queue has room again: frames held back by backpressure go on. */
		parse_frames(c);
		arm_recv(c);
		if (c->closing)
			return;
	}
	send_next(c);
}

static void send_done(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct conn *c = container_of(op, struct conn, send_op);
	c->step_out_res = res;
	if (--c->step_ops == 0)
		step_done(c);
}

static void spliced_in(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct conn *c = container_of(op, struct conn, splice_op);
	c->step_in_res = res;
	if (--c->step_ops == 0)
		step_done(c);
}

static void polled(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct conn *c = container_of(op, struct conn, poll_op);
	c->step_poll_res = res;
	if (--c->step_ops == 0)
		step_done(c);
}

/* Starts the next step of sending the head (see above). */
static void send_step(struct conn *c)
{
	struct request *req = c->head;
	struct reactor *r = c->srv->reactor;
	size_t next_at =
	    c->send_range < req->ranges_count ? req->ranges[c->send_range].at : req->resp.len;
	/* More of the frame follows this piece: let TCP fill its segments (TCP_NODELAY is on). */
	bool more_after_mem = c->send_range < req->ranges_count;
	c->send_armed = true;
	c->step_in_len = 0;
	c->step_in_res = c->step_out_res = c->step_poll_res = 0;
	c->step_splice_out = false;
	c->step_mem_send = false;
	if (c->socket_full) {
		c->step_ops = 1;
		reactor_poll(r, &c->poll_op, polled, c->fd, POLLOUT);
		return;
	}
	if (c->pipe_bytes == 0 && c->send_pos < next_at) {
		c->step_ops = 1;
		c->step_mem_send = true;
		reactor_send(r, &c->send_op, send_done, c->fd, req->resp.p + c->send_pos,
		             (uint32_t)(next_at - c->send_pos), more_after_mem ? MSG_MORE : 0);
		return;
	}
	c->step_splice_out = true;
	if (c->pipe_bytes > 0) {
		bool more = c->send_range < req->ranges_count || c->send_pos < req->resp.len;
		c->step_ops = 1;
		reactor_splice(r, &c->send_op, send_done, c->pipe_fds[0], -1, c->fd, -1,
		               c->pipe_bytes, more ? SPLICE_F_MORE : 0);
		return;
	}
	ASSERT(c->send_range < req->ranges_count && c->send_pos == next_at);
	const struct resp_range *rg = &req->ranges[c->send_range];
	uint32_t n = rg->len - c->range_pos;
	if (n > c->pipe_chunk_bytes)
		n = c->pipe_chunk_bytes;
	bool more = n < rg->len - c->range_pos || c->send_range + 1 < req->ranges_count ||
	            c->send_pos < req->resp.len;
	c->step_in_len = n;
	c->step_ops = 2;
	reactor_link_next(r);
	reactor_splice(r, &c->splice_op, spliced_in, rg->fd, (int64_t)(rg->position + c->range_pos),
	               c->pipe_fds[1], -1, n, 0);
	reactor_splice(r, &c->send_op, send_done, c->pipe_fds[0], -1, c->fd, -1, n,
	               more ? SPLICE_F_MORE : 0);
}

/* Sends the responses at the head of the queue, in order, as they become ready. */
static void send_next(struct conn *c)
{
	bool dropped = false;
	while (!c->send_armed && !c->closing && c->head && c->head->finished) {
		struct request *req = c->head;
		if (req->silent || req->resp.len <= FRAME_SIZE_BYTES) {
			pop_head(c);
			dropped = true;
			continue;
		}
		send_step(c);
		return;
	}
	if (dropped && !c->closing) {
		parse_frames(c);
		arm_recv(c);
	}
}

bool request_splice_ok(struct request *req)
{
	struct conn *c = req->conn;
	if (!c->srv->fetch_splice || c->pipe_refused || c->closing)
		return false;
	if (c->pipe_fds[0] >= 0)
		return true;
	const char *why = NULL;
	if (pipe2(c->pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		c->pipe_fds[0] = c->pipe_fds[1] = -1;
		why = strerror(errno);
	} else {
		/* Past the user's pipe-user-pages-soft the kernel refuses a size: keep what it
		 * gave. */
		int size = fcntl(c->pipe_fds[1], F_SETPIPE_SZ, (int)FETCH_PIPE_BYTES);
		if (size < 0)
			size = fcntl(c->pipe_fds[1], F_GETPIPE_SZ);
		long page = sysconf(_SC_PAGESIZE);
		if (size >= (int)FETCH_PIPE_BYTES_MIN && page > 0 && size > page) {
			c->pipe_chunk_bytes = (uint32_t)(size - page);
			return true;
		}
		close(c->pipe_fds[0]);
		close(c->pipe_fds[1]);
		c->pipe_fds[0] = c->pipe_fds[1] = -1;
		why = "the pipe is too small (fs.pipe-user-pages-soft)";
	}
	diag_warn("%s: fetch answers go with read + send: no pipe: %s", c->peer, why);
	c->pipe_refused = true;
	return false;
}

/* ---- receiving -------------------------------------------------------------------------- */

static void enqueue(struct conn *c, uint8_t *frame, uint32_t len)
{
	struct request *req = calloc(1, sizeof(*req));
	if (!req) {
		conn_close(c, "out of memory");
		return;
	}
	req->conn = c;
	req->frame = frame;
	req->frame_len = len;
	req->chunk = c->chunk;
	c->chunk->refs++;
	arena_init(&req->arena, (size_t)len * REQUEST_ARENA_FACTOR + 4096);
	buf_init(&req->resp, RESPONSE_BYTES_MAX);
	buf_skip(&req->resp, FRAME_SIZE_BYTES); /* the size, written by request_finish */
	if (c->tail)
		c->tail->next = req;
	else
		c->head = req;
	c->tail = req;
	c->requests++;
	dispatch(req);
}

/* Turns every complete frame in the chunk into a request, while the queue has room. */
static void parse_frames(struct conn *c)
{
	while (!c->closing && c->chunk && c->requests < CONN_REQUESTS_MAX) {
		uint8_t *p = c->chunk->data + c->chunk_start;
		size_t avail = c->chunk_len - c->chunk_start;
		int64_t n = frame_peek(p, avail, c->srv->frame_bytes_max);
		if (n == 0 || (n > 0 && (size_t)n > avail))
			return;
		if (n < 0) {
			conn_close(c, "frame size out of bounds (not a Kafka client?)");
			return;
		}
		c->chunk_start += (size_t)n;
		enqueue(c, p + FRAME_SIZE_BYTES, (uint32_t)(n - FRAME_SIZE_BYTES));
	}
}

/* Makes room after chunk_len for the rest of the current frame: a fresh chunk, sized for the
 * frame when it is known to be larger, holding the bytes of it received so far. */
static bool make_room(struct conn *c)
{
	struct rchunk *ch = c->chunk;
	size_t partial = ch ? c->chunk_len - c->chunk_start : 0;
	size_t want = CONN_CHUNK_BYTES;
	if (partial >= FRAME_SIZE_BYTES) {
		int64_t n = frame_peek(ch->data + c->chunk_start, partial, c->srv->frame_bytes_max);
		if (n > 0 && (size_t)n > want)
			want = (size_t)n;
	}
	if (ch && ch->cap - c->chunk_start >= want && ch->cap > c->chunk_len)
		return true;
	if (ch && partial == 0 && ch->refs == 1) {
		c->chunk_start = c->chunk_len = 0; /* nothing else uses it: start over */
		if (ch->cap >= want)
			return true;
	}
	struct rchunk *fresh = chunk_new(want);
	if (!fresh)
		return false;
	if (partial)
		memcpy(fresh->data, ch->data + c->chunk_start, partial);
	chunk_unref(ch);
	c->chunk = fresh;
	c->chunk_start = 0;
	c->chunk_len = partial;
	return true;
}

static void recv_done(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct conn *c = container_of(op, struct conn, recv_op);
	c->recv_armed = false;
	if (c->closing) {
		maybe_free(c);
		return;
	}
	if (res <= 0) {
		conn_close(c, res == 0 ? "closed by the peer" : tape_strerror(res));
		return;
	}
	c->chunk_len += (size_t)res;
	c->last_progress_ms = clock_mono_ms();
	parse_frames(c);
	arm_recv(c);
}

static void arm_recv(struct conn *c)
{
	if (c->closing || c->recv_armed || c->requests >= CONN_REQUESTS_MAX || c->srv->stopping)
		return;
	if (!make_room(c)) {
		conn_close(c, "out of memory");
		return;
	}
	c->recv_armed = true;
	reactor_recv(c->srv->reactor, &c->recv_op, recv_done, c->fd, c->chunk->data + c->chunk_len,
	             (uint32_t)(c->chunk->cap - c->chunk_len), 0);
}

/* ---- deadlines -------------------------------------------------------------------------- */

static void idle_check(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct conn *c = container_of(op, struct conn, idle_timer.op);
	c->timer_armed = false;
	if (c->closing) {
		maybe_free(c);
		return;
	}
	int64_t idle = clock_mono_ms() - c->last_progress_ms;
	bool partial = c->chunk && c->chunk_len > c->chunk_start;
	bool waiting_on_us = c->head != NULL && !partial;
	if (idle >= c->srv->idle_ms && !waiting_on_us) {
		conn_close(c, partial ? "a partial request stalled past connections.max.idle.ms"
		                      : "idle past connections.max.idle.ms");
		return;
	}
	int64_t next = c->srv->idle_ms - (idle < c->srv->idle_ms ? idle : 0);
	if (next < 10)
		next = 10;
	c->timer_armed = true;
	reactor_timer_start(c->srv->reactor, &c->idle_timer, idle_check, (uint64_t)next * 1000000u);
}

/* ---- lifecycle -------------------------------------------------------------------------- */

void conn_accepted(struct server *srv, int fd, const struct sockaddr *peer, socklen_t len)
{
	(void)len;
	if (srv->stopping || srv->conns_count >= srv->conns_max) {
		diag_warn("refusing a connection: %u connections open (max.connections)",
		          srv->conns_count);
		close(fd);
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->srv = srv;
	c->fd = fd;
	c->pipe_fds[0] = c->pipe_fds[1] = -1;
	c->last_progress_ms = clock_mono_ms();
	describe_peer(c, peer);
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->conns_count++;
	diag_debug("%s: connected", c->peer);
	arm_recv(c);
	c->timer_armed = true;
	reactor_timer_start(srv->reactor, &c->idle_timer, idle_check,
	                    (uint64_t)srv->idle_ms * 1000000u);
}

static void closed(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct conn *c = container_of(op, struct conn, close_op);
	struct server *srv = c->srv;
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->conns_count--;
	if (c->pipe_fds[0] >= 0) {
		close(c->pipe_fds[0]); /* what is still in it (page references) goes with it */
		close(c->pipe_fds[1]);
	}
	chunk_unref(c->chunk);
	free(c);
}

static void maybe_free(struct conn *c)
{
	/* Finished requests go now; ones still in a handler finish later and come back here. */
	struct request **pp = &c->head;
	c->tail = NULL;
	while (*pp) {
		struct request *req = *pp;
		if (req->finished && !(c->send_armed && req == c->head)) {
			*pp = req->next;
			req->close_after = false;
			request_free(req);
		} else {
			c->tail = req;
			pp = &req->next;
		}
	}
	if (c->recv_armed || c->send_armed || c->timer_armed || c->close_armed || c->head)
		return;
	c->close_armed = true;
	reactor_close(c->srv->reactor, &c->close_op, closed, c->fd);
}

void conn_close(struct conn *c, const char *why)
{
	if (c->closing)
		return;
	c->closing = true;
	diag_debug("%s: closing: %s", c->peer, why);
	if (c->recv_armed)
		reactor_cancel(c->srv->reactor, &c->recv_op);
	if (c->send_armed) {
		/* Whichever of the step's operations are still in flight. */
		reactor_cancel(c->srv->reactor, &c->send_op);
		if (c->step_in_len)
			reactor_cancel(c->srv->reactor, &c->splice_op);
		if (c->socket_full)
			reactor_cancel(c->srv->reactor, &c->poll_op);
	}
	if (c->timer_armed)
		reactor_timer_cancel(c->srv->reactor, &c->idle_timer);
	maybe_free(c);
}

void conns_close_all(struct server *srv)
{
	for (struct conn *c = srv->conns; c; c = c->next)
		conn_close(c, "the broker is stopping");
}
