/*
 * client/kconn.h: one TCP connection from libtape to one broker, with the Kafka framing, the
 * ApiVersions handshake and pipelined requests matched to their answers.
 *
 * States and the function for each arrow:
 *
 *     DOWN --kconn_connect--> CONNECTING --connected (kconn_handle)--> HANDSHAKE
 *       ^                         |                                      |
 *       |                         +-- every address failed               | ApiVersions answered
 *       |                         v                                      v
 *       +--------------------- kconn_close <-- error, timeout, EOF -- READY
 *
 * HANDSHAKE sends ApiVersions v3 (header v2) and, when the broker answers UNSUPPORTED_VERSION
 * in the v0 layout (KIP-511), v0 (or the highest the answer names); the broker's ranges are
 * then kept, and kconn_version picks the highest version both sides support.
 *
 * Requests are written in order and Kafka answers them in order, so the requests sent form a
 * FIFO ring; an answer's correlation id must be the oldest outstanding one, else the stream is
 * broken and the connection closes. A request that expects no answer (Produce with acks=0)
 * completes once its last byte is written and every older request has completed.
 *
 * The socket is non-blocking; the owner (cluster.c) polls the descriptor with the events
 * kconn_events asks for and hands what poll() returned to kconn_handle. Every failure ends in
 * kconn_close, which calls each outstanding request's function with the error; the reason stays
 * in last_error / last_error_text for messages ("connection refused").
 */
#ifndef TAPE_CLIENT_KCONN_H
#define TAPE_CLIENT_KCONN_H

#include "base/buf.h"
#include "base/cursor.h"
#include "base/limits.h"
#include "protocol/api.h"

#include <stdbool.h>
#include <stdint.h>

struct addrinfo;

struct kconn_options {
	const char *client_id; /* borrowed */
	int32_t connect_timeout_ms;
	int32_t request_timeout_ms;
};

/* The answer to a request: err 0 and body positioned after the response header (valid only
 * during the call; NULL for a request that expects no answer), or err < 0 when the connection
 * failed first. The function may start new requests; it must not poll. */
typedef void (*kconn_response_fn)(void *arg, int err, struct cursor *body, int16_t version);

enum kconn_state { KCONN_DOWN, KCONN_CONNECTING, KCONN_HANDSHAKE, KCONN_READY };

struct kconn_req {
	int32_t correlation_id;
	int16_t api_key;
	int16_t api_version;
	bool expect_response;
	uint64_t end_pos; /* stream position just after its last byte */
	int64_t deadline_ms;
	kconn_response_fn fn;
	void *arg;
};

struct kconn {
	char *host; /* owned */
	int32_t port;
	const struct kconn_options *opt; /* borrowed */
	enum kconn_state state;
	int fd;
	struct addrinfo *addrs; /* owned while connecting */
	struct addrinfo *addr;  /* the address being tried, in addrs */
	int64_t deadline_ms;    /* of the connect or the handshake */

	struct buf out;    /* owned: requests not yet written whole */
	size_t out_sent;   /* bytes of out already written */
	uint64_t out_base; /* stream position of out.p[0] */
	size_t begun_at;   /* the request being built: its frame start in out, or SIZE_MAX */
	int16_t begun_key;
	int16_t begun_version;
	int32_t begun_correlation_id;

	uint8_t *in; /* owned: bytes read, not yet a whole frame */
	size_t in_len;
	size_t in_cap;

	struct kconn_req reqs[CLIENT_CONN_REQUESTS_MAX]; /* the FIFO ring */
	uint32_t head;
	uint32_t count;
	int32_t next_correlation_id;

	int16_t api_min[API_KEY_MAX + 1]; /* the broker's ranges; -1: not supported */
	int16_t api_max[API_KEY_MAX + 1];
	int16_t api_versions_version; /* the ApiVersions version in use */

	int last_error;            /* why the last attempt or connection ended; 0 none */
	char last_error_text[160]; /* its words: "connection refused" */
	int failures;              /* in a row, since the last handshake that succeeded */
	uint32_t closes;           /* every failure or close so far, for owners to notice one */
	int64_t retry_at_ms;       /* no new connect before this (backoff; set by the owner) */
};

/* Sets c up for host:port, DOWN. Returns 0 or -ENOMEM. */
int kconn_init(struct kconn *c, const char *host, int32_t port, const struct kconn_options *opt);
/* Closes (failing outstanding requests with -TAPE_ECLOSED) and frees what c owns. */
void kconn_free(struct kconn *c);

/* Points c at another address (a broker that moved): closes it first when it is up. Returns 0
 * or -ENOMEM (c keeps its old address). */
int kconn_retarget(struct kconn *c, const char *host, int32_t port);

/* DOWN -> CONNECTING: resolves the host and starts a non-blocking connect to its first
 * address. Returns 0, or the error when no address could even be tried (the connection is
 * then DOWN with last_error set: -TAPE_ERESOLVE for a name that does not resolve). */
int kconn_connect(struct kconn *c, int64_t now_ms);
/* -> DOWN: closes the socket and calls every outstanding request's function with err
 * (< 0); text (may be NULL) says why, for last_error_text. */
void kconn_close(struct kconn *c, int err, const char *text);

static inline bool kconn_ready(const struct kconn *c)
{
	return c->state == KCONN_READY;
}
static inline bool kconn_busy(const struct kconn *c)
{
	return c->state == KCONN_CONNECTING || c->state == KCONN_HANDSHAKE;
}
/* Requests outstanding (written or not, answered not yet). */
static inline uint32_t kconn_outstanding(const struct kconn *c)
{
	return c->count;
}

/* The highest version of api_key in [min, max] the broker supports too, or -1 (also when c
 * is not READY). */
int16_t kconn_version(const struct kconn *c, int16_t api_key, int16_t min, int16_t max);

/* Starts a request on a READY connection with room in its ring: writes the frame's size
 * placeholder and the request header, and returns the buffer to append the body to, or NULL
 * when the connection cannot take one now. */
struct buf *kconn_request_begin(struct kconn *c, int16_t api_key, int16_t version);
/* Finishes the request begun: patches the frame size, queues it and writes what the socket
 * takes. fn is called with the answer, or (expect_response false) once written. Returns 0, or
 * -TAPE_ETOOLARGE / -ENOMEM when the body did not fit (the request is dropped, fn not
 * called). A write error closes the connection, which calls fn. */
int kconn_request_end(struct kconn *c, bool expect_response, int64_t now_ms, kconn_response_fn fn,
                      void *arg);
/* Drops the request begun (an encoder failed). */
void kconn_request_abort(struct kconn *c);

/* The poll() events c waits for (0 when DOWN). */
short kconn_events(const struct kconn *c);
/* Handles what poll() returned for c's descriptor. */
void kconn_handle(struct kconn *c, short revents, int64_t now_ms);
/* Closes c when its connect, handshake or oldest request is past its deadline. */
void kconn_check_timeouts(struct kconn *c, int64_t now_ms);
/* The earliest deadline c has, or INT64_MAX. */
int64_t kconn_next_deadline(const struct kconn *c);

#endif
