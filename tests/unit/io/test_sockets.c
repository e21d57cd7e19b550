/*
 * tests/unit/io/test_sockets.c: TCP through the ring on loopback.
 *
 * Covers reactor_accept and reactor_connect on 127.0.0.1 port 0, send/recv round trips both
 * ways, recv returning 0 when the peer closes, send to a peer that is gone returning -EPIPE or
 * -ECONNRESET instead of raising SIGPIPE (the reactor always adds MSG_NOSIGNAL), connect to a
 * closed port, reactor_cancel of a pending recv and accept, and a larger transfer that needs
 * several sends. Each test makes its own ring and sockets; a listener binds to port 0 and the
 * port is read back with getsockname, so tests run in parallel.
 */
#include "io/reactor.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A hang is a failure, not a stuck run. */
TestSuite(sockets, .timeout = 10);

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

static void drain(struct reactor *r)
{
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(reactor_inflight(r), 0);
}

/* Turns until w has completed; a bounded number of blocking turns. */
static void wait_for(struct reactor *r, struct waiter *w)
{
	for (int turns = 0; w->calls == 0; turns++) {
		cr_assert_lt(turns, 1000);
		cr_assert_geq(reactor_run_once(r, -1), 0);
	}
}

static int tcp_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0);
	return fd;
}

/* A listener on 127.0.0.1 with a kernel-chosen port, written to *addr. */
static int listen_loopback(struct sockaddr_in *addr, int type_flags)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | type_flags, 0);
	cr_assert(fd >= 0);
	*addr = (struct sockaddr_in){ .sin_family = AF_INET };
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)addr, sizeof(*addr)), 0);
	cr_assert_eq(listen(fd, 16), 0);
	socklen_t len = sizeof(*addr);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)addr, &len), 0);
	cr_assert_neq(addr->sin_port, 0);
	return fd;
}

struct pair {
	int listener, client, server;
	struct sockaddr_in addr;
};

/* Accepts and connects through the ring, both submitted in the same turn. */
static void pair_open(struct reactor *r, struct pair *p, int listen_flags)
{
	p->listener = listen_loopback(&p->addr, listen_flags);
	p->client = tcp_socket();
	struct sockaddr_in peer;
	socklen_t peer_len = sizeof(peer);
	struct waiter acc = { 0 }, con = { 0 };
	reactor_accept(r, &acc.op, on_done, p->listener, (struct sockaddr *)&peer, &peer_len);
	reactor_connect(r, &con.op, on_done, p->client, (struct sockaddr *)&p->addr,
	                sizeof(p->addr));
	drain(r);
	cr_assert_eq(con.calls, 1);
	cr_assert_eq(con.res, 0, "connect: %s", strerror(-con.res));
	cr_assert_eq(acc.calls, 1);
	cr_assert_geq(acc.res, 0, "accept: %s", strerror(-acc.res));
	p->server = acc.res;
	cr_assert_eq(peer_len, sizeof(peer));
	cr_assert_eq(peer.sin_family, AF_INET);
	cr_assert_eq(peer.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
}

static void pair_close(struct pair *p)
{
	if (p->server >= 0)
		close(p->server);
	if (p->client >= 0)
		close(p->client);
	close(p->listener);
}

static void round_trip(struct reactor *r, struct pair *p)
{
	char buf[16] = { 0 };
	struct waiter rx = { 0 }, tx = { 0 };
	/* The recv waits in the ring before the data exists. */
	reactor_recv(r, &rx.op, on_done, p->server, buf, sizeof(buf), 0);
	cr_assert_eq(reactor_run_once(r, 0), 0);
	cr_assert_eq(rx.calls, 0);
	reactor_send(r, &tx.op, on_done, p->client, "ping", 4, 0);
	drain(r);
	cr_assert_eq(tx.res, 4);
	cr_assert_eq(rx.res, 4);
	cr_assert_eq(memcmp(buf, "ping", 4), 0);

	reactor_send(r, &tx.op, on_done, p->server, "pong!", 5, 0);
	reactor_recv(r, &rx.op, on_done, p->client, buf, sizeof(buf), 0);
	drain(r);
	cr_assert_eq(tx.res, 5);
	cr_assert_eq(rx.res, 5);
	cr_assert_eq(memcmp(buf, "pong!", 5), 0);
}

Test(sockets, accept_connect_and_round_trip)
{
	struct reactor *r = ring_new();
	struct pair p;
	pair_open(r, &p, 0);
	round_trip(r, &p);
	pair_close(&p);
	reactor_destroy(r);
}

/* The reactor accepts with SOCK_NONBLOCK, and a server may make its listener non-blocking:
 * the ring must still wait for readiness instead of failing with -EAGAIN. */
Test(sockets, nonblocking_listener_and_accepted_socket_still_wait)
{
	struct reactor *r = ring_new();
	struct pair p;
	p.listener = listen_loopback(&p.addr, SOCK_NONBLOCK);
	struct waiter acc = { 0 }, con = { 0 };
	reactor_accept(r, &acc.op, on_done, p.listener, NULL, NULL);
	cr_assert_eq(reactor_run_once(r, 0), 0);
	cr_assert_eq(acc.calls, 0, "accept completed early: %d", acc.res);
	p.client = tcp_socket();
	reactor_connect(r, &con.op, on_done, p.client, (struct sockaddr *)&p.addr, sizeof(p.addr));
	drain(r);
	cr_assert_eq(con.res, 0);
	cr_assert_geq(acc.res, 0, "accept: %s", strerror(-acc.res));
	p.server = acc.res;
	round_trip(r, &p);
	pair_close(&p);
	reactor_destroy(r);
}

Test(sockets, recv_returns_zero_when_the_peer_closes)
{
	struct reactor *r = ring_new();
	struct pair p;
	pair_open(r, &p, 0);
	char buf[8];
	struct waiter rx = { 0 };
	reactor_recv(r, &rx.op, on_done, p.server, buf, sizeof(buf), 0);
	cr_assert_eq(reactor_run_once(r, 0), 0);
	close(p.client);
	p.client = -1;
	wait_for(r, &rx);
	cr_assert_eq(rx.res, 0);
	pair_close(&p);
	reactor_destroy(r);
}

/* Criterion's workers ignore SIGPIPE; restore the default, which kills the process, so that a
 * send raising it fails the test as it would kill taped. */
static void sigpipe_kills(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	cr_assert_eq(sigaction(SIGPIPE, &sa, NULL), 0);
}

/* Without MSG_NOSIGNAL these sends could raise SIGPIPE and kill the process. Recent kernels
 * (6.18 here) add MSG_NOSIGNAL to ring sends themselves, so this guards older ones. */
Test(sockets, send_after_shutdown_returns_epipe)
{
	sigpipe_kills();
	struct reactor *r = ring_new();
	struct pair p;
	pair_open(r, &p, 0);
	cr_assert_eq(shutdown(p.client, SHUT_WR), 0);
	struct waiter tx = { 0 };
	reactor_send(r, &tx.op, on_done, p.client, "late", 4, 0);
	drain(r);
	cr_assert_eq(tx.res, -EPIPE);
	pair_close(&p);
	reactor_destroy(r);
}

Test(sockets, send_to_a_closed_peer_returns_an_error)
{
	sigpipe_kills();
	struct reactor *r = ring_new();
	struct pair p;
	pair_open(r, &p, 0);
	/* Linger 0: the close sends a reset at once. */
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	cr_assert_eq(setsockopt(p.server, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	close(p.server);
	p.server = -1;
	struct waiter tx = { 0 };
	int32_t res = 0;
	for (int i = 0; i < 100 && res >= 0; i++) {
		reactor_send(r, &tx.op, on_done, p.client, "data", 4, 0);
		drain(r);
		res = tx.res;
	}
	cr_assert(res == -EPIPE || res == -ECONNRESET, "res %d", res);
	/* Once reset, the socket keeps failing, and still without a signal. */
	reactor_send(r, &tx.op, on_done, p.client, "more", 4, 0);
	drain(r);
	cr_assert_eq(tx.res, -EPIPE);
	pair_close(&p);
	reactor_destroy(r);
}

Test(sockets, connect_to_a_closed_port_is_refused)
{
	struct reactor *r = ring_new();
	struct sockaddr_in addr;
	int l = listen_loopback(&addr, 0);
	close(l);
	int c = tcp_socket();
	struct waiter con = { 0 };
	reactor_connect(r, &con.op, on_done, c, (struct sockaddr *)&addr, sizeof(addr));
	drain(r);
	cr_assert_eq(con.res, -ECONNREFUSED);
	close(c);
	reactor_destroy(r);
}

Test(sockets, cancel_a_pending_recv)
{
	struct reactor *r = ring_new();
	struct pair p;
	pair_open(r, &p, 0);
	char buf[8];
	struct waiter rx = { 0 };
	reactor_recv(r, &rx.op, on_done, p.server, buf, sizeof(buf), 0);
	cr_assert_eq(reactor_run_once(r, 0), 0);
	cr_assert_eq(rx.calls, 0);
	reactor_cancel(r, &rx.op);
	drain(r);
	cr_assert_eq(rx.calls, 1);
	cr_assert_eq(rx.res, -ECANCELED);

	/* Submitted and cancelled in the same turn. */
	reactor_recv(r, &rx.op, on_done, p.server, buf, sizeof(buf), 0);
	reactor_cancel(r, &rx.op);
	drain(r);
	cr_assert_eq(rx.calls, 2);
	cr_assert_eq(rx.res, -ECANCELED);

	/* The socket is fine afterwards. */
	round_trip(r, &p);
	pair_close(&p);
	reactor_destroy(r);
}

Test(sockets, cancel_a_pending_accept)
{
	struct reactor *r = ring_new();
	struct sockaddr_in addr;
	int l = listen_loopback(&addr, 0);
	struct waiter acc = { 0 };
	reactor_accept(r, &acc.op, on_done, l, NULL, NULL);
	cr_assert_eq(reactor_run_once(r, 0), 0);
	reactor_cancel(r, &acc.op);
	drain(r);
	cr_assert_eq(acc.calls, 1);
	cr_assert_eq(acc.res, -ECANCELED);
	close(l);
	reactor_destroy(r);
}

/* Cancelling an op that already completed does nothing: its done ran once, with its result. */
Test(sockets, cancel_after_completion_is_harmless)
{
	struct reactor *r = ring_new();
	struct pair p;
	pair_open(r, &p, 0);
	struct waiter tx = { 0 };
	reactor_send(r, &tx.op, on_done, p.client, "x", 1, 0);
	drain(r);
	cr_assert_eq(tx.res, 1);
	reactor_cancel(r, &tx.op);
	drain(r);
	cr_assert_eq(tx.calls, 1);
	cr_assert_eq(tx.res, 1);
	pair_close(&p);
	reactor_destroy(r);
}

#define BULK_BYTES (4 * 1024 * 1024)

struct bulk {
	struct waiter w;
	struct reactor *r;
	int fd;
	unsigned char *buf;
	uint32_t done_bytes;
	bool sending;
	bool failed;
};

static void on_bulk(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct bulk *b = (struct bulk *)op;
	if (res <= 0) {
		b->failed = res < 0 || b->done_bytes < BULK_BYTES;
		return;
	}
	b->done_bytes += (uint32_t)res;
	if (b->done_bytes == BULK_BYTES)
		return;
	uint32_t left = BULK_BYTES - b->done_bytes;
	if (b->sending)
		reactor_send(b->r, &b->w.op, on_bulk, b->fd, b->buf + b->done_bytes, left, 0);
	else
		reactor_recv(b->r, &b->w.op, on_bulk, b->fd, b->buf + b->done_bytes, left, 0);
}

Test(sockets, bulk_transfer_in_partial_sends_and_recvs)
{
	struct reactor *r = ring_new();
	struct pair p;
	pair_open(r, &p, 0);
	struct bulk tx = { .r = r, .fd = p.client, .sending = true, .buf = malloc(BULK_BYTES) };
	struct bulk rx = { .r = r, .fd = p.server, .buf = calloc(1, BULK_BYTES) };
	cr_assert(tx.buf && rx.buf);
	for (uint32_t i = 0; i < BULK_BYTES; i++)
		tx.buf[i] = (unsigned char)(i * 31 + (i >> 13));
	reactor_send(r, &tx.w.op, on_bulk, tx.fd, tx.buf, BULK_BYTES, 0);
	reactor_recv(r, &rx.w.op, on_bulk, rx.fd, rx.buf, BULK_BYTES, 0);
	drain(r);
	cr_assert_not(tx.failed);
	cr_assert_not(rx.failed);
	cr_assert_eq(tx.done_bytes, BULK_BYTES);
	cr_assert_eq(rx.done_bytes, BULK_BYTES);
	cr_assert_eq(memcmp(tx.buf, rx.buf, BULK_BYTES), 0);
	free(tx.buf);
	free(rx.buf);
	pair_close(&p);
	reactor_destroy(r);
}

/* The fetch path sends file ranges with splice: file -> pipe -> socket. */
Test(sockets, splice_a_file_range_to_a_socket)
{
	struct reactor *r = ring_new();
	struct pair p;
	pair_open(r, &p, 0);
	char path[] = "/tmp/tape-io-sock-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(pwrite(fd, "headerPAYLOADtrailer", 20, 0), 20);
	int pp[2];
	cr_assert_eq(pipe2(pp, O_CLOEXEC), 0);
	struct waiter in = { 0 }, out = { 0 }, rx = { 0 };
	reactor_splice(r, &in.op, on_done, fd, 6, pp[1], -1, 7, 0);
	drain(r);
	cr_assert_eq(in.res, 7);
	reactor_splice(r, &out.op, on_done, pp[0], -1, p.server, -1, 7, 0);
	char buf[16] = { 0 };
	reactor_recv(r, &rx.op, on_done, p.client, buf, 7, MSG_WAITALL);
	drain(r);
	cr_assert_eq(out.res, 7);
	cr_assert_eq(rx.res, 7);
	cr_assert_eq(memcmp(buf, "PAYLOAD", 7), 0);
	close(pp[0]);
	close(pp[1]);
	close(fd);
	pair_close(&p);
	reactor_destroy(r);
}

/* Splice into a socket whose peer is gone fails like send does, and raises no SIGPIPE. */
Test(sockets, splice_to_a_shut_down_socket_returns_an_error)
{
	sigpipe_kills();
	struct reactor *r = ring_new();
	struct pair p;
	pair_open(r, &p, 0);
	cr_assert_eq(shutdown(p.server, SHUT_WR), 0);
	int pp[2];
	cr_assert_eq(pipe2(pp, O_CLOEXEC), 0);
	cr_assert_eq(write(pp[1], "bytes", 5), 5);
	struct waiter out = { 0 };
	reactor_splice(r, &out.op, on_done, pp[0], -1, p.server, -1, 5, 0);
	drain(r);
	cr_assert_eq(out.res, -EPIPE);
	close(pp[0]);
	close(pp[1]);
	pair_close(&p);
	reactor_destroy(r);
}
