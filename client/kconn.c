/*
 * client/kconn.c: one connection to one broker (the state machine, framing and request ring
 * are described in kconn.h).
 *
 * Owns: the socket, name resolution and the connect over each resolved address in turn, the
 * ApiVersions handshake and the broker's version ranges, the output and input buffers, and
 * the matching of answers to requests. Must not know: what any request other than
 * ApiVersions means, which broker leads what, or retry policy (cluster.c and producer.c).
 */
#include "client/kconn.h"

#include "base/arena.h"
#include "base/assert.h"
#include "base/clock.h"
#include "base/endian.h"
#include "base/errors.h"
#include "client/tape_error.h"
#include "protocol/api_versions.h"
#include "protocol/errors.h"
#include "protocol/header.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Requests waiting to be written: the in-flight bound times the request bound keeps real use
 * far below this; past it a request is refused rather than buffered. */
#define OUT_BYTES_MAX CLIENT_RESPONSE_BYTES_MAX
/* An ApiVersions answer lists about 60 keys; the arena it decodes into needs far less. */
#define API_VERSIONS_ARENA_BYTES (64 * KiB)
#define API_VERSIONS_NEWEST 3
#define SOFTWARE_NAME "libtape"
#define SOFTWARE_VERSION "0.1.0"

static void set_reason(struct kconn *c, int err, const char *text)
{
	c->last_error = err;
	if (text)
		snprintf(c->last_error_text, sizeof(c->last_error_text), "%s", text);
	else
		tape_error_text(err, c->last_error_text, sizeof(c->last_error_text));
}

int kconn_init(struct kconn *c, const char *host, int32_t port, const struct kconn_options *opt)
{
	memset(c, 0, sizeof(*c));
	c->host = strdup(host);
	if (!c->host)
		return -ENOMEM;
	c->port = port;
	c->opt = opt;
	c->state = KCONN_DOWN;
	c->fd = -1;
	c->begun_at = SIZE_MAX;
	c->next_correlation_id = 1;
	buf_init(&c->out, OUT_BYTES_MAX);
	for (int i = 0; i <= API_KEY_MAX; i++)
		c->api_min[i] = c->api_max[i] = -1;
	return 0;
}

void kconn_free(struct kconn *c)
{
	if (c->state != KCONN_DOWN)
		kconn_close(c, -TAPE_ECLOSED, NULL);
	buf_free(&c->out);
	free(c->in);
	free(c->host);
	c->in = NULL;
	c->host = NULL;
}

int kconn_retarget(struct kconn *c, const char *host, int32_t port)
{
	char *h = strdup(host);
	if (!h)
		return -ENOMEM;
	if (c->state != KCONN_DOWN)
		kconn_close(c, -ECONNRESET, "the broker moved to another address");
	free(c->host);
	c->host = h;
	c->port = port;
	return 0;
}

/* ---- the request ring ---------------------------------------------------------------------- */

static struct kconn_req *ring_at(struct kconn *c, uint32_t i)
{
	return &c->reqs[(c->head + i) % CLIENT_CONN_REQUESTS_MAX];
}

static struct kconn_req ring_pop(struct kconn *c)
{
	struct kconn_req r = c->reqs[c->head];
	c->head = (c->head + 1) % CLIENT_CONN_REQUESTS_MAX;
	c->count--;
	return r;
}

void kconn_close(struct kconn *c, int err, const char *text)
{
	ASSERT(err < 0);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->addrs)
		freeaddrinfo(c->addrs);
	c->addrs = c->addr = NULL;
	c->state = KCONN_DOWN;
	c->failures++;
	c->closes++;
	set_reason(c, err, text);
	buf_clear(&c->out);
	c->out_sent = 0;
	c->out_base = 0;
	c->begun_at = SIZE_MAX;
	c->in_len = 0;
	for (int i = 0; i <= API_KEY_MAX; i++)
		c->api_min[i] = c->api_max[i] = -1;
	/* The functions may start requests elsewhere; this ring is empty before any runs. */
	struct kconn_req failed[CLIENT_CONN_REQUESTS_MAX];
	uint32_t n = c->count;
	for (uint32_t i = 0; i < n; i++)
		failed[i] = ring_pop(c);
	for (uint32_t i = 0; i < n; i++)
		if (failed[i].fn)
			failed[i].fn(failed[i].arg, err, NULL, failed[i].api_version);
}

/* ---- connecting ---------------------------------------------------------------------------- */

static void send_api_versions(struct kconn *c);

static void connected(struct kconn *c, int64_t now_ms)
{
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	freeaddrinfo(c->addrs);
	c->addrs = c->addr = NULL;
	c->state = KCONN_HANDSHAKE;
	c->deadline_ms = now_ms + c->opt->connect_timeout_ms;
	c->api_versions_version = API_VERSIONS_NEWEST;
	send_api_versions(c);
}

/* Tries c->addr and the addresses after it until one connects or is connecting. */
static int try_addresses(struct kconn *c, int64_t now_ms)
{
	for (; c->addr; c->addr = c->addr->ai_next) {
		struct addrinfo *ai = c->addr;
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		                ai->ai_protocol);
		if (fd < 0) {
			set_reason(c, -errno, NULL);
			continue;
		}
		c->fd = fd;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			connected(c, now_ms);
			return 0;
		}
		if (errno == EINPROGRESS) {
			c->state = KCONN_CONNECTING;
			c->deadline_ms = now_ms + c->opt->connect_timeout_ms;
			return 0;
		}
		set_reason(c, -errno, NULL);
		close(fd);
		c->fd = -1;
	}
	/* Every address failed: the reason of the last one stays. */
	int err = c->last_error;
	char text[sizeof(c->last_error_text)];
	memcpy(text, c->last_error_text, sizeof(text));
	kconn_close(c, err ? err : -ECONNREFUSED, err ? text : NULL);
	return c->last_error;
}

int kconn_connect(struct kconn *c, int64_t now_ms)
{
	if (c->state != KCONN_DOWN)
		return 0;
	if (!c->in) {
		c->in = malloc(CLIENT_RECV_BYTES);
		if (!c->in)
			return -ENOMEM;
		c->in_cap = CLIENT_RECV_BYTES;
	}
	char port[16];
	snprintf(port, sizeof(port), "%d", c->port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	int rc = getaddrinfo(c->host, port, &hints, &c->addrs);
	if (rc != 0) {
		c->addrs = NULL;
		char text[160];
		snprintf(text, sizeof(text), "host name does not resolve (%s)",
		         rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		c->failures++;
		c->closes++;
		set_reason(c, -TAPE_ERESOLVE, text);
		return c->last_error;
	}
	c->addr = c->addrs;
	c->last_error = 0;
	return try_addresses(c, now_ms);
}

static void connect_finished(struct kconn *c, int64_t now_ms)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr == 0) {
		connected(c, now_ms);
		return;
	}
	set_reason(c, -soerr, NULL);
	close(c->fd);
	c->fd = -1;
	c->addr = c->addr->ai_next;
	try_addresses(c, now_ms);
}

/* ---- ApiVersions --------------------------------------------------------------------------- */

static void on_api_versions(void *arg, int err, struct cursor *body, int16_t version);

static struct buf *begin(struct kconn *c, int16_t api_key, int16_t version)
{
	ASSERT(c->begun_at == SIZE_MAX);
	if (c->count == CLIENT_CONN_REQUESTS_MAX)
		return NULL;
	int32_t id = c->next_correlation_id;
	c->next_correlation_id = id == INT32_MAX ? 1 : id + 1;
	c->begun_at = c->out.len;
	c->begun_key = api_key;
	c->begun_version = version;
	c->begun_correlation_id = id;
	buf_i32(&c->out, 0); /* the frame size, patched by kconn_request_end */
	struct request_header h = {
		.api_key = api_key,
		.api_version = version,
		.correlation_id = id,
		.client_id = kstr_from(c->opt->client_id),
	};
	request_header_encode(&c->out, &h);
	return &c->out;
}

static void send_api_versions(struct kconn *c)
{
	struct buf *b = begin(c, API_API_VERSIONS, c->api_versions_version);
	ASSERT(b); /* the ring is empty during the handshake */
	struct api_versions_request r = {
		.client_software_name = KSTR(SOFTWARE_NAME),
		.client_software_version = KSTR(SOFTWARE_VERSION),
	};
	api_versions_request_encode(b, c->api_versions_version, &r);
	kconn_request_end(c, true, clock_mono_ms(), on_api_versions, c);
}

/* The broker refused our ApiVersions version and answered in the v0 layout (KIP-511): retry
 * with the highest version it names for ApiVersions, or v0. */
static void retry_api_versions(struct kconn *c, struct cursor *body, int16_t sent)
{
	struct arena a;
	arena_init(&a, API_VERSIONS_ARENA_BYTES);
	struct api_versions_response r;
	int16_t next = 0;
	if (api_versions_response_decode(body, &a, 0, &r) == 0)
		for (int32_t i = 0; i < r.api_keys_count; i++)
			if (r.api_keys[i].api_key == API_API_VERSIONS &&
			    r.api_keys[i].max_version < sent && r.api_keys[i].max_version > 0)
				next = r.api_keys[i].max_version;
	arena_free(&a);
	c->api_versions_version = next;
	send_api_versions(c);
}

static void on_api_versions(void *arg, int err, struct cursor *body, int16_t version)
{
	struct kconn *c = arg;
	if (err < 0)
		return; /* the connection is closing; kconn_close keeps the reason */
	if (cursor_left(body) >= 2 && (int16_t)load_be16(body->p) == KAFKA_UNSUPPORTED_VERSION &&
	    version > 0) {
		retry_api_versions(c, body, version);
		return;
	}
	struct arena a;
	arena_init(&a, API_VERSIONS_ARENA_BYTES);
	struct api_versions_response r;
	char text[160];
	if (api_versions_response_decode(body, &a, version, &r) < 0) {
		arena_free(&a);
		kconn_close(c, -TAPE_EPROTO, "malformed ApiVersions answer");
		return;
	}
	if (r.error_code != 0) {
		char k[64];
		snprintf(text, sizeof(text), "ApiVersions refused with %s",
		         tape_error_kafka_text(r.error_code, k, sizeof(k)));
		arena_free(&a);
		kconn_close(c, -TAPE_EKAFKA, text);
		return;
	}
	for (int32_t i = 0; i < r.api_keys_count; i++) {
		const struct api_versions_response_key *k = &r.api_keys[i];
		if (k->api_key < 0 || k->api_key > API_KEY_MAX || k->min_version > k->max_version)
			continue;
		c->api_min[k->api_key] = k->min_version;
		c->api_max[k->api_key] = k->max_version;
	}
	arena_free(&a);
	c->state = KCONN_READY;
	c->failures = 0;
	c->last_error = 0;
	c->last_error_text[0] = '\0';
	c->deadline_ms = INT64_MAX;
}

int16_t kconn_version(const struct kconn *c, int16_t api_key, int16_t min, int16_t max)
{
	if (c->state != KCONN_READY || api_key < 0 || api_key > API_KEY_MAX ||
	    c->api_max[api_key] < 0)
		return -1;
	int16_t v = max < c->api_max[api_key] ? max : c->api_max[api_key];
	return v >= min && v >= c->api_min[api_key] ? v : -1;
}

/* ---- requests ------------------------------------------------------------------------------ */

struct buf *kconn_request_begin(struct kconn *c, int16_t api_key, int16_t version)
{
	if (c->state != KCONN_READY)
		return NULL;
	return begin(c, api_key, version);
}

void kconn_request_abort(struct kconn *c)
{
	if (c->begun_at == SIZE_MAX)
		return;
	c->out.len = c->begun_at;
	c->out.bad = false;
	c->begun_at = SIZE_MAX;
}

static void complete_written(struct kconn *c);
static void write_out(struct kconn *c);

int kconn_request_end(struct kconn *c, bool expect_response, int64_t now_ms, kconn_response_fn fn,
                      void *arg)
{
	ASSERT(c->begun_at != SIZE_MAX);
	size_t start = c->begun_at;
	if (!buf_ok(&c->out)) {
		kconn_request_abort(c);
		return -TAPE_ETOOLARGE;
	}
	buf_patch_i32(&c->out, start, (int32_t)(c->out.len - start - FRAME_SIZE_BYTES));
	c->begun_at = SIZE_MAX;
	struct kconn_req *r = ring_at(c, c->count);
	*r = (struct kconn_req){
		.correlation_id = c->begun_correlation_id,
		.api_key = c->begun_key,
		.api_version = c->begun_version,
		.expect_response = expect_response,
		.end_pos = c->out_base + c->out.len,
		.deadline_ms = now_ms + c->opt->request_timeout_ms,
		.fn = fn,
		.arg = arg,
	};
	c->count++;
	write_out(c);
	return 0;
}

/* Requests that expect no answer complete, in order, once written. */
static void complete_written(struct kconn *c)
{
	while (c->count && !c->reqs[c->head].expect_response &&
	       c->reqs[c->head].end_pos <= c->out_base + c->out_sent) {
		struct kconn_req r = ring_pop(c);
		if (r.fn)
			r.fn(r.arg, 0, NULL, r.api_version);
		if (c->state == KCONN_DOWN)
			return;
	}
}

static void write_out(struct kconn *c)
{
	while (c->fd >= 0 && c->out_sent < c->out.len) {
		ssize_t n = send(c->fd, c->out.p + c->out_sent, c->out.len - c->out_sent,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->out_sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		kconn_close(c, n < 0 ? -errno : -ECONNRESET, NULL);
		return;
	}
	if (c->out_sent == c->out.len && c->out.len > 0 && c->begun_at == SIZE_MAX) {
		c->out_base += c->out.len;
		buf_clear(&c->out);
		c->out_sent = 0;
	}
	complete_written(c);
}

/* ---- reading answers ----------------------------------------------------------------------- */

/* One response frame (after its size). Returns false when the connection closed. */
static bool handle_frame(struct kconn *c, const uint8_t *p, size_t len)
{
	complete_written(c);
	if (c->state == KCONN_DOWN)
		return false;
	if (c->count == 0 || !c->reqs[c->head].expect_response) {
		kconn_close(c, -TAPE_EPROTO, "the broker answered a request that was not sent");
		return false;
	}
	const struct kconn_req *r = &c->reqs[c->head];
	bool flexible =
	    r->api_key != API_API_VERSIONS && api_is_flexible(r->api_key, r->api_version);
	struct cursor body;
	cursor_init(&body, p, len);
	int32_t id;
	if (response_header_decode(&body, flexible, &id) < 0 || id != r->correlation_id) {
		kconn_close(c, -TAPE_EPROTO, "the broker's answer does not match the request");
		return false;
	}
	struct kconn_req done = ring_pop(c);
	if (done.fn)
		done.fn(done.arg, 0, &body, done.api_version);
	return c->state != KCONN_DOWN;
}

/* Handles the whole frames in c->in and keeps the rest at its start. Returns false when the
 * connection closed. */
static bool handle_frames(struct kconn *c)
{
	size_t off = 0;
	while (c->in_len - off >= FRAME_SIZE_BYTES) {
		uint32_t size = load_be32(c->in + off);
		if (size < 4 || size > CLIENT_RESPONSE_BYTES_MAX) {
			kconn_close(c, -TAPE_EPROTO, "malformed frame from the broker");
			return false;
		}
		if (c->in_len - off < FRAME_SIZE_BYTES + (size_t)size)
			break;
		if (!handle_frame(c, c->in + off + FRAME_SIZE_BYTES, size))
			return false;
		off += FRAME_SIZE_BYTES + size;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	/* Room for the whole frame being read. */
	if (c->in_len >= FRAME_SIZE_BYTES) {
		size_t need = FRAME_SIZE_BYTES + (size_t)load_be32(c->in);
		if (need > c->in_cap) {
			uint8_t *p = realloc(c->in, need);
			if (!p) {
				kconn_close(c, -ENOMEM, NULL);
				return false;
			}
			c->in = p;
			c->in_cap = need;
		}
	}
	return true;
}

static void read_in(struct kconn *c)
{
	for (;;) {
		size_t room = c->in_cap - c->in_len;
		ssize_t n = recv(c->fd, c->in + c->in_len, room, MSG_DONTWAIT);
		if (n == 0) {
			kconn_close(c, -ECONNRESET, "the broker closed the connection");
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				kconn_close(c, -errno, NULL);
			return;
		}
		c->in_len += (size_t)n;
		if (!handle_frames(c))
			return;
		if ((size_t)n < room)
			return; /* the socket is drained for now */
	}
}

/* ---- polling ------------------------------------------------------------------------------- */

short kconn_events(const struct kconn *c)
{
	switch (c->state) {
	case KCONN_CONNECTING:
		return POLLOUT;
	case KCONN_HANDSHAKE:
	case KCONN_READY:
		return (short)(POLLIN | (c->out_sent < c->out.len ? POLLOUT : 0));
	default:
		return 0;
	}
}

void kconn_handle(struct kconn *c, short revents, int64_t now_ms)
{
	if (c->state == KCONN_CONNECTING) {
		if (revents & (POLLOUT | POLLERR | POLLHUP))
			connect_finished(c, now_ms);
		return;
	}
	if (c->state == KCONN_DOWN)
		return;
	if (revents & (POLLIN | POLLERR | POLLHUP))
		read_in(c);
	if (c->state != KCONN_DOWN && (revents & POLLOUT))
		write_out(c);
}

void kconn_check_timeouts(struct kconn *c, int64_t now_ms)
{
	char text[160];
	switch (c->state) {
	case KCONN_CONNECTING:
		if (now_ms < c->deadline_ms)
			return;
		set_reason(c, -ETIMEDOUT, "connection timed out");
		close(c->fd);
		c->fd = -1;
		c->addr = c->addr->ai_next;
		try_addresses(c, now_ms);
		return;
	case KCONN_HANDSHAKE:
		if (now_ms < c->deadline_ms)
			return;
		snprintf(text, sizeof(text), "no answer to ApiVersions within %d ms",
		         c->opt->connect_timeout_ms);
		kconn_close(c, -ETIMEDOUT, text);
		return;
	case KCONN_READY:
		for (uint32_t i = 0; i < c->count; i++) {
			const struct kconn_req *r = ring_at(c, i);
			if (now_ms >= r->deadline_ms) {
				const char *name = api_name(r->api_key);
				snprintf(text, sizeof(text), "no answer to %s within %d ms",
				         name ? name : "a request", c->opt->request_timeout_ms);
				kconn_close(c, -ETIMEDOUT, text);
				return;
			}
		}
		return;
	default:
		return;
	}
}

int64_t kconn_next_deadline(const struct kconn *c)
{
	if (c->state == KCONN_CONNECTING || c->state == KCONN_HANDSHAKE)
		return c->deadline_ms;
	int64_t d = INT64_MAX;
	for (uint32_t i = 0; c->state == KCONN_READY && i < c->count; i++) {
		const struct kconn_req *r = &c->reqs[(c->head + i) % CLIENT_CONN_REQUESTS_MAX];
		if (r->deadline_ms < d)
			d = r->deadline_ms;
	}
	return d;
}
