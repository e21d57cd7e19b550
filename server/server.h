/*
 * server/server.h: the broker process: one reactor serving listeners and connections, the
 * request lifecycle, and the handlers' view of a request.
 *
 * Connection states:
 *
 *      accept ──> READING ──(frame complete)──> dispatch ──> handler ──> request_finish
 *                   │  ^                                                     │
 *                   │  └──(requests < CONN_REQUESTS_MAX)── SENDING <─────────┘ (head ready)
 *                   │
 *                   └──(EOF, error, bad frame, idle)──> CLOSING ──(no op, no request)──> freed
 *
 *   READING   a recv is armed unless CONN_REQUESTS_MAX requests are waiting (backpressure)
 *   SENDING   the response at the head of the queue is being sent; responses leave strictly
 *             in request order, whatever order handlers finish in
 *   CLOSING   no more reads; requests still in handlers (a produce waiting for its fsync) are
 *             finished and dropped; the descriptor closes when nothing refers to it
 */
#ifndef TAPE_SERVER_SERVER_H
#define TAPE_SERVER_SERVER_H

#include "base/arena.h"
#include "base/buf.h"
#include "io/reactor.h"
#include "protocol/header.h"
#include "server/config.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct broker;
struct group_coordinator;
struct offset_store;
struct replicas;
struct topic;
struct conn;
struct server;

/* A receive chunk; frames inside it are used in place by their requests. */
struct rchunk {
	unsigned refs;
	size_t cap;
	uint8_t data[];
};

/* A file range sent in the middle of a response, at a position of its bytes in memory. */
struct resp_range {
	size_t at; /* sent before resp.p[at] (at == resp.len: after the last byte) */
	int fd;    /* borrowed: the handler keeps the file open until release */
	uint64_t position;
	uint32_t len;
};

struct request {
	struct conn *conn;
	struct request *next;
	struct request_header hdr;
	uint8_t *frame; /* header and body, after the size prefix; in chunk */
	uint32_t frame_len;
	struct rchunk *chunk; /* pinned while the request lives */
	struct cursor body;   /* positioned after the header */
	struct arena arena;   /* everything decoded for this request */
	struct buf resp;      /* the response: header, then the body handlers append */
	/* File ranges spliced between the bytes of resp, in order of at (request_splice_ok);
	 * in arena. The frame is resp and these together. */
	struct resp_range *ranges;
	unsigned ranges_count;
	uint64_t ranges_bytes;
	bool finished;    /* the response is complete */
	bool silent;      /* no response at all (Produce with acks=0) */
	bool close_after; /* close the connection once this is answered */
	/* Called once the response was sent (or dropped); handlers release what they hold. */
	void (*release)(struct request *req);
	void *state;
};

struct conn {
	struct server *srv;
	int fd;
	struct conn *prev, *next;
	struct io_op recv_op;
	struct io_op send_op;
	struct io_op close_op;
	struct io_timer idle_timer;
	int64_t last_progress_ms;
	struct rchunk *chunk;
	size_t chunk_start; /* first byte not yet part of a request */
	size_t chunk_len;   /* bytes received into chunk */
	struct request *head, *tail;
	unsigned requests;
	/* Sending the head: bytes of its resp sent, the range being spliced and how much of it
	 * went into the pipe, the bytes in the pipe not yet in the socket. */
	size_t send_pos;
	unsigned send_range;
	uint32_t range_pos;
	uint32_t pipe_bytes;
	/* A send step is one send, or one splice out of the pipe (after a poll when the socket
	 * was full), or a linked pair of splices: file -> pipe -> socket. */
	struct io_op splice_op; /* file -> pipe */
	struct io_op poll_op;   /* the socket has room again */
	unsigned step_ops;      /* of the step, not yet completed */
	uint32_t step_in_len;   /* asked of the splice into the pipe */
	int32_t step_in_res, step_out_res, step_poll_res;
	bool step_splice_out;      /* send_op is a splice out of the pipe, not a send */
	bool step_mem_send;        /* send_op is a send of resp bytes */
	bool socket_full;          /* the last splice out found no room: poll before the next */
	int pipe_fds[2];           /* owned, -1 when none yet; made for the first spliced answer */
	uint32_t pipe_chunk_bytes; /* what one splice into the pipe may move */
	bool pipe_refused;         /* no usable pipe: this connection sends with read + send */
	bool recv_armed, send_armed, timer_armed, closing, close_armed;
	char peer[64];
};

struct listener {
	struct server *srv;
	int fd;
	struct io_op accept_op;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct io_timer backoff; /* after EMFILE */
	bool armed;
};

#define LISTENERS_MAX 4

struct server {
	struct reactor *reactor;
	struct config *cfg;
	struct broker *broker;
	struct group_coordinator *groups;
	struct offset_store *offsets; /* committed offsets, in __consumer_offsets */
	struct replicas *replicas;    /* in a cluster (server/replica.h); NULL: single broker */
	struct topic *offsets_topic;
	struct io_timer group_timer; /* the coordinator's deadlines */
	struct listener listeners[LISTENERS_MAX];
	unsigned listeners_count;
	struct conn *conns;
	unsigned conns_count;
	unsigned conns_max;
	uint32_t frame_bytes_max;
	int64_t idle_ms;
	bool fetch_splice; /* socket.fetch.send=splice */
	bool stopping;
	char advertised_host[256];
	int advertised_port;
	uint16_t port;                /* the port actually bound (listeners ask for 0 in tests) */
	struct io_timer housekeeping; /* retention and compaction */
};

/* listener.c */
int listeners_open(struct server *srv, const char *listeners);
void listeners_close(struct server *srv);

/* connection.c */
void conn_accepted(struct server *srv, int fd, const struct sockaddr *peer, socklen_t len);
void conn_close(struct conn *c, const char *why);
void conns_close_all(struct server *srv);

/* request lifecycle: the handler appends its body to req->resp, then calls this. */
void request_finish(struct request *req);
/* Whether the response may carry file ranges (req->ranges): the broker splices Fetch records
 * and this connection has its pipe. */
bool request_splice_ok(struct request *req);
/* No response: Produce with acks=0. */
void request_finish_silent(struct request *req);
/* The request cannot be answered (malformed body): close the connection after the responses
 * before it. */
void request_fail(struct request *req, const char *why);

/* dispatch.c */
void dispatch(struct request *req);

#endif
