/*
 * replication/etcd.c: etcd gateway calls on a curl multi handle driven from a helper job.
 * The design (slices, endpoints, headers) is in etcd.h. Owns libcurl; knows nothing of JSON.
 *
 * Who touches what: the inbox (new calls, cancels) and `closing` under e->lock, from both
 * threads. The multi handle and everything a call accumulates (rx, msgs, finished) only in
 * the job's run(), which never overlaps the job's done() or another run(): the helper pool's
 * lock and eventfd order them. Callbacks run in done(), on the reactor thread.
 */
#include "replication/etcd.h"

#include "base/assert.h"
#include "base/clock.h"
#include "base/diag.h"
#include "base/errors.h"
#include "base/limits.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS_NS (1000000ll)

struct etcd_msg {
	struct etcd_msg *next;
	size_t len;
	char json[]; /* NUL-terminated */
};

struct etcd {
	struct reactor *r;
	char endpoints[ETCD_ENDPOINTS_MAX][128];
	int endpoints_count;
	int preferred; /* the endpoint that answered last; the job's */
	CURLM *multi;
	struct curl_slist *headers;
	struct io_job job;
	bool job_out; /* reactor side: the job is offloaded */
	bool in_done; /* reactor side: job_done is calling back; kicks wait for its end */

	pthread_mutex_t lock;
	struct etcd_call *inbox; /* new calls, LIFO; reversed when taken */
	bool cancels;            /* some call has cancel_asked */
	bool closing;

	struct etcd_call *active;    /* the job's: calls in the multi or waiting for a retry */
	struct etcd_call *done_list; /* the job's, handed to done() */
	int calls_count;             /* reactor side: started and not done */
	void (*closed)(void *arg);
	void *closed_arg;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int parse_endpoints(struct etcd *e, const char *spec)
{
	const char *p = spec;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *colon = memrchr(p, ':', n);
		if (n == 0 || !colon || colon == p || colon + 1 == p + n ||
		    e->endpoints_count == ETCD_ENDPOINTS_MAX || n >= sizeof(e->endpoints[0]))
			return -TAPE_ECONFIG;
		long port = 0;
		for (const char *q = colon + 1; q < p + n; q++) {
			if (*q < '0' || *q > '9')
				return -TAPE_ECONFIG;
			port = port * 10 + (*q - '0');
			if (port > 65535)
				return -TAPE_ECONFIG;
		}
		if (port == 0)
			return -TAPE_ECONFIG;
		memcpy(e->endpoints[e->endpoints_count], p, n);
		e->endpoints[e->endpoints_count++][n] = '\0';
		p = end ? end + 1 : p + n;
		if (end && !*p)
			return -TAPE_ECONFIG;
	}
	return e->endpoints_count ? 0 : -TAPE_ECONFIG;
}

int etcd_create(struct reactor *r, const char *endpoints, struct etcd **out)
{
	*out = NULL;
	pthread_once(&curl_once, curl_init_once);
	struct etcd *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->r = r;
	int rc = parse_endpoints(e, endpoints);
	if (rc != 0) {
		free(e);
		return rc;
	}
	e->multi = curl_multi_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	if (h)
		h = curl_slist_append(h, "Grpc-Metadata-hasleader: true");
	if (h)
		h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
	e->headers = h;
	if (!e->multi || !h) {
		if (e->multi)
			curl_multi_cleanup(e->multi);
		curl_slist_free_all(h);
		free(e);
		return -ENOMEM;
	}
	pthread_mutex_init(&e->lock, NULL);
	*out = e;
	return 0;
}

/* ---- the job's side ------------------------------------------------------------------------ */

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct etcd_call *c = arg;
	size_t len = size * n;
	if (c->rx_len + len > ETCD_RESPONSE_BYTES_MAX) {
		c->too_large = true;
		return 0; /* CURLE_WRITE_ERROR */
	}
	if (c->rx_len + len + 1 > c->rx_cap) {
		size_t cap = c->rx_cap ? c->rx_cap : 4096;
		while (cap < c->rx_len + len + 1)
			cap *= 2;
		char *rx = realloc(c->rx, cap);
		if (!rx)
			return 0;
		c->rx = rx;
		c->rx_cap = cap;
	}
	memcpy(c->rx + c->rx_len, p, len);
	c->rx_len += len;
	c->rx[c->rx_len] = '\0';
	if (!c->stream)
		return len;
	/* grpc-gateway ends every streamed message with a newline. */
	char *nl;
	while ((nl = memchr(c->rx, '\n', c->rx_len)) != NULL) {
		size_t mlen = (size_t)(nl - c->rx);
		struct etcd_msg *m = malloc(sizeof(*m) + mlen + 1);
		if (!m)
			return 0;
		m->next = NULL;
		m->len = mlen;
		memcpy(m->json, c->rx, mlen);
		m->json[mlen] = '\0';
		if (c->msgs_tail)
			c->msgs_tail->next = m;
		else
			c->msgs_head = m;
		c->msgs_tail = m;
		c->rx_len -= mlen + 1;
		memmove(c->rx, nl + 1, c->rx_len);
	}
	return len;
}

static void finish(struct etcd *e, struct etcd_call *c, int err)
{
	c->err = err;
	c->finished = true;
	c->next_done = e->done_list;
	e->done_list = c;
}

static bool easy_start(struct etcd *e, struct etcd_call *c)
{
	CURL *h = curl_easy_init();
	if (!h)
		return false;
	char url[256];
	snprintf(url, sizeof(url), "http://%s%s", e->endpoints[c->endpoint], c->path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, e->headers);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_PRIVATE, c);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)ETCD_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 2L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 1L);
	if (!c->stream) {
		int64_t left_ms = (c->deadline_ns - clock_mono_ns()) / MS_NS;
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(left_ms > 1 ? left_ms : 1));
	}
	c->rx_len = 0;
	c->too_large = false;
	if (curl_multi_add_handle(e->multi, h) != CURLM_OK) {
		curl_easy_cleanup(h);
		return false;
	}
	c->easy = h;
	c->in_multi = true;
	c->attempts++;
	return true;
}

static void easy_stop(struct etcd *e, struct etcd_call *c)
{
	if (!c->in_multi)
		return;
	curl_multi_remove_handle(e->multi, c->easy);
	curl_easy_cleanup(c->easy);
	c->easy = NULL;
	c->in_multi = false;
}

static void active_remove(struct etcd *e, struct etcd_call *c)
{
	for (struct etcd_call **pp = &e->active; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			return;
		}
}

static int curl_errno(const struct etcd_call *c, CURLcode code)
{
	switch (code) {
	case CURLE_OK:
		return 0;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -TAPE_ERESOLVE;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_WRITE_ERROR:
		return c->too_large ? -TAPE_ETOOLARGE : -ENOMEM;
	default:
		return -EIO;
	}
}

/* A transfer ended: answer it, or try the next endpoint when it never connected. */
static void transfer_done(struct etcd *e, struct etcd_call *c, CURLcode code)
{
	long status = 0, connects = 0;
	double connect_s = 0;
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c->easy, CURLINFO_NUM_CONNECTS, &connects);
	curl_easy_getinfo(c->easy, CURLINFO_CONNECT_TIME, &connect_s);
	easy_stop(e, c);
	bool never_connected = code == CURLE_COULDNT_CONNECT ||
	                       code == CURLE_COULDNT_RESOLVE_HOST ||
	                       (code == CURLE_OPERATION_TIMEDOUT && status == 0 && connect_s == 0);
	if (never_connected && !c->cancel_asked && c->attempts < e->endpoints_count &&
	    (c->stream || clock_mono_ns() < c->deadline_ns)) {
		c->endpoint = (c->endpoint + 1) % e->endpoints_count;
		if (easy_start(e, c))
			return;
	}
	if (code == CURLE_OK || status != 0)
		e->preferred = c->endpoint;
	active_remove(e, c);
	c->http_status = status;
	c->response = c->rx;
	c->response_len = c->rx_len;
	int err = curl_errno(c, code);
	if (c->stream && err == 0)
		err = -EIO; /* the stream ended: etcd went away or closed it */
	if (status != 0 && !c->stream && code == CURLE_OK)
		err = 0;
	finish(e, c, c->cancel_asked ? -ECANCELED : err);
}

static void take_inbox(struct etcd *e)
{
	pthread_mutex_lock(&e->lock);
	struct etcd_call *in = e->inbox;
	e->inbox = NULL;
	bool cancels = e->cancels;
	e->cancels = false;
	pthread_mutex_unlock(&e->lock);
	/* The inbox is newest first: start the oldest first. */
	struct etcd_call *ordered = NULL;
	while (in) {
		struct etcd_call *next = in->next;
		in->next = ordered;
		ordered = in;
		in = next;
	}
	while (ordered) {
		struct etcd_call *c = ordered;
		ordered = c->next;
		c->endpoint = e->preferred;
		c->next = e->active;
		e->active = c;
		if (c->cancel_asked || !easy_start(e, c)) {
			active_remove(e, c);
			finish(e, c, c->cancel_asked ? -ECANCELED : -ENOMEM);
		}
	}
	if (!cancels)
		return;
	for (struct etcd_call *c = e->active, *next; c; c = next) {
		next = c->next;
		if (__atomic_load_n(&c->cancel_asked, __ATOMIC_ACQUIRE)) {
			easy_stop(e, c);
			active_remove(e, c);
			c->response = c->rx;
			c->response_len = c->rx_len;
			finish(e, c, -ECANCELED);
		}
	}
}

static bool has_output(const struct etcd *e)
{
	if (e->done_list)
		return true;
	for (const struct etcd_call *c = e->active; c; c = c->next)
		if (c->msgs_head)
			return true;
	return false;
}

static void job_run(struct io_job *job)
{
	struct etcd *e = (struct etcd *)((char *)job - offsetof(struct etcd, job));
	int64_t end = clock_mono_ns() + ETCD_SLICE_MS * MS_NS;
	for (;;) {
		take_inbox(e);
		int running = 0;
		curl_multi_perform(e->multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct etcd_call *c = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			transfer_done(e, c, m->data.result);
		}
		pthread_mutex_lock(&e->lock);
		bool stop = e->closing, pending = e->inbox || e->cancels;
		pthread_mutex_unlock(&e->lock);
		int64_t left_ns = end - clock_mono_ns();
		if (stop || has_output(e) || left_ns <= 0 || (!e->active && !pending))
			break;
		if (pending)
			continue;
		int wait_ms = (int)(left_ns / MS_NS);
		curl_multi_poll(e->multi, NULL, 0, wait_ms > 0 ? wait_ms : 1, NULL);
	}
	pthread_mutex_lock(&e->lock);
	bool closing = e->closing;
	pthread_mutex_unlock(&e->lock);
	if (!closing)
		return;
	take_inbox(e);
	for (struct etcd_call *c = e->active, *next; c; c = next) {
		next = c->next;
		easy_stop(e, c);
		c->response = c->rx;
		c->response_len = c->rx_len;
		finish(e, c, -ECANCELED);
	}
	e->active = NULL;
}

/* ---- the reactor's side -------------------------------------------------------------------- */

static void job_done(struct io_job *job);

static void job_kick(struct etcd *e)
{
	if (e->job_out) {
		curl_multi_wakeup(e->multi);
		return;
	}
	if (e->in_done)
		return; /* job_done looks at the inbox when the callbacks are over */
	e->job_out = true;
	e->job.run = job_run;
	e->job.done = job_done;
	reactor_offload(e->r, &e->job);
}

void etcd_call_release(struct etcd_call *c)
{
	while (c->msgs_head) {
		struct etcd_msg *m = c->msgs_head;
		c->msgs_head = m->next;
		free(m);
	}
	c->msgs_tail = NULL;
	free(c->rx);
	c->rx = NULL;
	c->response = NULL;
	free(c->body);
	c->body = NULL;
}

static void deliver_messages(struct etcd_call *c)
{
	while (c->msgs_head) {
		struct etcd_msg *m = c->msgs_head;
		c->msgs_head = m->next;
		if (!c->msgs_head)
			c->msgs_tail = NULL;
		if (!c->cancel_asked)
			c->message(c, m->json, m->len);
		free(m);
	}
}

static void job_done(struct io_job *job)
{
	struct etcd *e = (struct etcd *)((char *)job - offsetof(struct etcd, job));
	e->job_out = false;
	e->in_done = true;
	for (struct etcd_call *c = e->active; c; c = c->next)
		if (c->stream)
			deliver_messages(c);
	struct etcd_call *done = e->done_list, *ordered = NULL;
	e->done_list = NULL;
	while (done) {
		struct etcd_call *next = done->next_done;
		done->next_done = ordered;
		ordered = done;
		done = next;
	}
	while (ordered) {
		struct etcd_call *c = ordered;
		ordered = c->next_done;
		if (c->stream)
			deliver_messages(c);
		e->calls_count--;
		c->done(c); /* the owner releases c's buffers (etcd_call_release) */
	}
	e->in_done = false;
	pthread_mutex_lock(&e->lock);
	bool more = e->inbox || e->cancels || e->active;
	bool closing = e->closing;
	pthread_mutex_unlock(&e->lock);
	if (more) {
		job_kick(e);
		return;
	}
	if (closing && e->calls_count == 0) {
		curl_multi_cleanup(e->multi);
		curl_slist_free_all(e->headers);
		pthread_mutex_destroy(&e->lock);
		void (*closed)(void *) = e->closed;
		void *arg = e->closed_arg;
		free(e);
		closed(arg);
	}
}

void etcd_call_start(struct etcd *e, struct etcd_call *c)
{
	ASSERT(c->done && c->path && (!c->stream || c->message));
	c->e = e;
	c->err = 0;
	c->http_status = 0;
	c->response = NULL;
	c->response_len = 0;
	c->easy = NULL;
	c->attempts = 0;
	c->rx = NULL;
	c->rx_len = c->rx_cap = 0;
	c->msgs_head = c->msgs_tail = NULL;
	c->finished = c->cancel_asked = c->in_multi = c->too_large = false;
	c->deadline_ns = clock_mono_ns() + ETCD_CALL_TIMEOUT_MS * MS_NS;
	e->calls_count++;
	pthread_mutex_lock(&e->lock);
	if (e->closing)
		c->cancel_asked = true;
	c->next = e->inbox;
	e->inbox = c;
	pthread_mutex_unlock(&e->lock);
	job_kick(e);
}

void etcd_call_cancel(struct etcd *e, struct etcd_call *c)
{
	pthread_mutex_lock(&e->lock);
	__atomic_store_n(&c->cancel_asked, true, __ATOMIC_RELEASE);
	e->cancels = true;
	pthread_mutex_unlock(&e->lock);
	job_kick(e);
}

void etcd_close(struct etcd *e, void (*closed)(void *arg), void *arg)
{
	pthread_mutex_lock(&e->lock);
	e->closing = true;
	e->closed = closed;
	e->closed_arg = arg;
	pthread_mutex_unlock(&e->lock);
	job_kick(e);
}
