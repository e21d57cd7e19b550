/*
 * client/cluster.c: struct tape_client: brokers, their connections, the topic metadata cache
 * and the poll loop (the rules are in cluster.h; the public calls in tape.h).
 *
 * Owns: the configuration of a client, the broker list (bootstrap entries adopted by node id),
 * when connections are opened and after what backoff, the Metadata requests and what their
 * answers mean for the cache, and the wording of "cannot reach broker" and "topic does not
 * exist". Must not know: producing or consuming (producer.c and later consumer code call in).
 */
#include "client/cluster.h"

#include "base/arena.h"
#include "base/assert.h"
#include "base/clock.h"
#include "client/hostport.h"
#include "client/tape_error.h"
#include "protocol/errors.h"
#include "protocol/metadata.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BROKERS "localhost:9092"
#define DEFAULT_CLIENT_ID "tape"
/* A decoded Metadata answer takes a few times its frame (kafka-protocol structs are larger
 * than their encoding), as the broker's REQUEST_ARENA_FACTOR says for requests. */
#define METADATA_ARENA_FACTOR 8
#define METADATA_ARENA_MIN (64 * KiB)
/* UNKNOWN_TOPIC_OR_PARTITION answers in a row before a wait says the topic does not exist: a
 * topic just created elsewhere may be unknown to one broker for a moment. */
#define UNKNOWN_ANSWERS_DEFINITE 2

void tape_client_config_init(struct tape_client_config *cfg)
{
	*cfg = (struct tape_client_config){
		.brokers = DEFAULT_BROKERS,
		.client_id = DEFAULT_CLIENT_ID,
		.connect_timeout_ms = 10000,
		.request_timeout_ms = 30000,
		.metadata_timeout_ms = 30000,
		.metadata_max_age_ms = 300000,
		.retry_backoff_ms = 100,
		.retry_backoff_max_ms = 1000,
		.reconnect_backoff_ms = 50,
		.reconnect_backoff_max_ms = 1000,
		.allow_auto_create_topics = true,
	};
}

int64_t cluster_backoff_ms(int32_t base_ms, int32_t max_ms, int32_t n)
{
	int64_t d = base_ms;
	for (int32_t i = 1; i < n && d < max_ms; i++)
		d *= 2;
	return d < max_ms ? d : max_ms;
}

/* ---- brokers ------------------------------------------------------------------------------- */

static struct cbroker *add_broker(struct tape_client *cl, int32_t node_id, const char *host,
                                  int32_t port)
{
	if (cl->brokers_count == CLIENT_BROKERS_MAX)
		return NULL;
	struct cbroker **v = realloc(cl->brokers, sizeof(*v) * (size_t)(cl->brokers_count + 1));
	if (!v)
		return NULL;
	cl->brokers = v;
	struct pollfd *pf = realloc(cl->pfds, sizeof(*pf) * (size_t)(cl->brokers_count + 1));
	if (!pf)
		return NULL;
	cl->pfds = pf;
	struct cbroker *b = calloc(1, sizeof(*b));
	if (!b || kconn_init(&b->conn, host, port, &cl->conn_opt) < 0) {
		free(b);
		return NULL;
	}
	b->node_id = node_id;
	cl->brokers[cl->brokers_count++] = b;
	return b;
}

struct cbroker *cluster_broker(struct tape_client *cl, int32_t node_id)
{
	for (int32_t i = 0; i < cl->brokers_count; i++)
		if (cl->brokers[i]->node_id == node_id)
			return cl->brokers[i];
	return NULL;
}

struct cbroker *cluster_dedicated_broker(struct tape_client *cl, int32_t id, const char *host,
                                         int32_t port)
{
	struct cbroker *b = cluster_broker(cl, id);
	if (b && b->dedicated) {
		if (strcmp(b->conn.host, host) || b->conn.port != port)
			if (kconn_retarget(&b->conn, host, port) < 0)
				return NULL;
		return b;
	}
	b = add_broker(cl, id, host, port);
	if (b)
		b->dedicated = true;
	return b;
}

/* Notices connections that failed or closed since the last look: backoff before the next
 * attempt, and the topics they lead are asked again (a leader may have moved). */
static void note_closes(struct tape_client *cl, int64_t now_ms)
{
	for (int32_t i = 0; i < cl->brokers_count; i++) {
		struct cbroker *b = cl->brokers[i];
		if (b->conn.closes == b->noted_closes)
			continue;
		b->noted_closes = b->conn.closes;
		b->failed_wait = cl->wait_id;
		if (b->conn.state == KCONN_DOWN)
			b->conn.retry_at_ms =
			    now_ms + cluster_backoff_ms(cl->cfg.reconnect_backoff_ms,
			                                cl->cfg.reconnect_backoff_max_ms,
			                                b->conn.failures);
		for (int32_t t = 0; b->node_id >= 0 && t < cl->topics_count; t++) {
			struct ctopic *tp = cl->topics[t];
			for (int32_t p = 0; p < tp->partitions_count; p++)
				if (tp->partitions[p].leader_id == b->node_id)
					tp->stale = true;
		}
	}
}

static bool try_connect(struct tape_client *cl, struct cbroker *b, int64_t now_ms)
{
	if (b->conn.state != KCONN_DOWN || now_ms < b->conn.retry_at_ms)
		return false;
	kconn_connect(&b->conn, now_ms);
	note_closes(cl, now_ms);
	return b->conn.state != KCONN_DOWN;
}

struct kconn *cluster_conn(struct tape_client *cl, int32_t node_id, int64_t now_ms)
{
	struct cbroker *b = cluster_broker(cl, node_id);
	if (!b)
		return NULL;
	if (kconn_ready(&b->conn))
		return &b->conn;
	try_connect(cl, b, now_ms);
	return kconn_ready(&b->conn) ? &b->conn : NULL;
}

struct kconn *cluster_any_conn(struct tape_client *cl, int64_t now_ms)
{
	struct kconn *bootstrap = NULL;
	for (int32_t i = 0; i < cl->brokers_count; i++) {
		struct cbroker *b = cl->brokers[i];
		if (!kconn_ready(&b->conn) || b->dedicated)
			continue;
		if (b->node_id >= 0)
			return &b->conn;
		bootstrap = bootstrap ? bootstrap : &b->conn;
	}
	if (bootstrap)
		return bootstrap;
	for (int32_t i = 0; i < cl->brokers_count; i++)
		if (kconn_busy(&cl->brokers[i]->conn) && !cl->brokers[i]->dedicated)
			return NULL; /* one attempt at a time */
	/* Brokers not yet tried in this wait first, then any whose backoff passed. */
	for (int pass = 0; pass < 2; pass++) {
		for (int32_t k = 0; k < cl->brokers_count; k++) {
			int32_t i = (cl->next_broker + k) % cl->brokers_count;
			struct cbroker *b = cl->brokers[i];
			if (b->dedicated ||
			    (pass == 0 && b->failed_wait == cl->wait_id && b->conn.closes))
				continue;
			if (try_connect(cl, b, now_ms)) {
				cl->next_broker = (i + 1) % cl->brokers_count;
				return kconn_ready(&b->conn) ? &b->conn : NULL;
			}
		}
	}
	return NULL;
}

int cluster_unreachable_error(const struct tape_client *cl, struct tape_error *err)
{
	char addr[HOSTPORT_HOST_BYTES + 16];
	int failed = 0, code = -ECONNREFUSED;
	const struct cbroker *one = NULL;
	for (int32_t i = 0; i < cl->brokers_count; i++)
		if (cl->brokers[i]->conn.last_error) {
			failed++;
			one = one ? one : cl->brokers[i];
			code = cl->brokers[i]->conn.last_error;
		}
	if (failed <= 1) {
		const struct cbroker *b = one ? one : cl->brokers[0];
		hostport_format(b->conn.host, b->conn.port, addr, sizeof(addr));
		return tape_error_set(err, one ? one->conn.last_error : code,
		                      "cannot reach broker at %s: %s", addr,
		                      one ? one->conn.last_error_text : "not connected");
	}
	char text[sizeof(err->message)] = "cannot reach any broker:";
	size_t n = strlen(text);
	for (int32_t i = 0; i < cl->brokers_count && n < sizeof(text); i++) {
		const struct kconn *c = &cl->brokers[i]->conn;
		if (!c->last_error)
			continue;
		hostport_format(c->host, c->port, addr, sizeof(addr));
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s %s: %s", n > 24 ? ";" : "",
		                      addr, c->last_error_text);
	}
	return tape_error_set(err, code, "%s", text);
}

/* Every broker failed to connect during the current wait, and none is trying. */
static bool unreachable(const struct tape_client *cl)
{
	for (int32_t i = 0; i < cl->brokers_count; i++) {
		const struct cbroker *b = cl->brokers[i];
		if (b->dedicated)
			continue;
		if (b->conn.state != KCONN_DOWN || b->failed_wait != cl->wait_id || !b->conn.closes)
			return false;
	}
	return true;
}

/* ---- topics and metadata ------------------------------------------------------------------- */

struct ctopic *cluster_topic(struct tape_client *cl, const char *name)
{
	for (int32_t i = 0; i < cl->topics_count; i++)
		if (!strcmp(cl->topics[i]->name, name))
			return cl->topics[i];
	return NULL;
}

struct ctopic *cluster_want_topic(struct tape_client *cl, const char *name)
{
	struct ctopic *t = cluster_topic(cl, name);
	if (t) {
		t->stale = true;
		return t;
	}
	if (cl->topics_count == CLIENT_TOPICS_MAX)
		return NULL;
	struct ctopic **v = realloc(cl->topics, sizeof(*v) * (size_t)(cl->topics_count + 1));
	if (!v)
		return NULL;
	cl->topics = v;
	t = calloc(1, sizeof(*t));
	if (!t || !(t->name = strdup(name))) {
		free(t);
		return NULL;
	}
	t->stale = true;
	cl->topics[cl->topics_count++] = t;
	return t;
}

static void adopt_broker(struct tape_client *cl, const struct metadata_response_broker *mb)
{
	char host[HOSTPORT_HOST_BYTES];
	if (mb->host.len < 0 || (size_t)mb->host.len >= sizeof(host))
		return;
	memcpy(host, mb->host.p, (size_t)mb->host.len);
	host[mb->host.len] = '\0';
	struct cbroker *b = cluster_broker(cl, mb->node_id);
	if (b) {
		if (!strcmp(b->conn.host, host) && b->conn.port == mb->port)
			return;
		/* The broker moved: its connection goes to the new address. */
		kconn_retarget(&b->conn, host, mb->port);
		return;
	}
	for (int32_t i = 0; i < cl->brokers_count; i++) {
		b = cl->brokers[i];
		if (b->node_id < 0 && !strcmp(b->conn.host, host) && b->conn.port == mb->port) {
			b->node_id = mb->node_id;
			return;
		}
	}
	add_broker(cl, mb->node_id, host, mb->port);
}

static void update_topic(struct tape_client *cl, struct ctopic *t,
                         const struct metadata_response_topic *mt, int64_t now_ms)
{
	t->known = true;
	t->updated_ms = now_ms;
	t->error_code = mt->error_code;
	t->stale = false;
	if (mt->error_code != KAFKA_NONE) {
		if (mt->error_code == KAFKA_UNKNOWN_TOPIC_OR_PARTITION)
			t->unknown_answers++;
		t->stale = tape_error_kafka_retriable(mt->error_code);
		return;
	}
	t->unknown_answers = 0;
	int32_t n = mt->partitions_count;
	for (int32_t i = 0; i < mt->partitions_count; i++)
		if (mt->partitions[i].partition_index >= n)
			n = mt->partitions[i].partition_index + 1;
	if (n > TOPIC_PARTITIONS_MAX) {
		t->error_code = KAFKA_INVALID_PARTITIONS;
		return;
	}
	if (n != t->partitions_count) {
		struct cpartition *p = realloc(t->partitions, sizeof(*p) * (size_t)(n ? n : 1));
		if (!p) {
			t->stale = true;
			return;
		}
		t->partitions = p;
		t->partitions_count = n;
	}
	for (int32_t i = 0; i < n; i++)
		t->partitions[i] = (struct cpartition){ KAFKA_LEADER_NOT_AVAILABLE, -1, -1 };
	for (int32_t i = 0; i < mt->partitions_count; i++) {
		const struct metadata_response_partition *mp = &mt->partitions[i];
		if (mp->partition_index < 0)
			continue;
		struct cpartition *p = &t->partitions[mp->partition_index];
		p->error_code = mp->error_code;
		p->leader_id = mp->leader_id;
		p->leader_epoch = mp->leader_epoch;
	}
	/* A partition without a leader (yet) is asked about again after the backoff. */
	for (int32_t i = 0; i < n; i++)
		if (t->partitions[i].leader_id < 0 ||
		    !cluster_broker(cl, t->partitions[i].leader_id))
			t->stale = true;
	if (n == 0)
		t->stale = true;
}

static void metadata_failed(struct tape_client *cl, int64_t now_ms)
{
	cl->metadata_failures++;
	cl->metadata_retry_at_ms =
	    now_ms + cluster_backoff_ms(cl->cfg.retry_backoff_ms, cl->cfg.retry_backoff_max_ms,
	                                cl->metadata_failures);
}

static void on_metadata(void *arg, int err, struct cursor *body, int16_t version)
{
	struct tape_client *cl = arg;
	int64_t now_ms = clock_mono_ms();
	cl->metadata_in_flight = false;
	if (err < 0) {
		metadata_failed(cl, now_ms);
		return;
	}
	struct arena a;
	arena_init(&a, cursor_left(body) * METADATA_ARENA_FACTOR + METADATA_ARENA_MIN);
	struct metadata_response r;
	if (metadata_response_decode(body, &a, version, &r) < 0) {
		arena_free(&a);
		metadata_failed(cl, now_ms);
		return;
	}
	for (int32_t i = 0; i < r.brokers_count; i++)
		adopt_broker(cl, &r.brokers[i]);
	cl->controller_id = r.controller_id;
	bool again = false;
	for (int32_t i = 0; i < r.topics_count; i++) {
		char *name = kstr_dup(&a, r.topics[i].name);
		struct ctopic *t = name ? cluster_topic(cl, name) : NULL;
		if (t)
			update_topic(cl, t, &r.topics[i], now_ms);
	}
	for (int32_t i = 0; i < cl->topics_count; i++)
		again |= cl->topics[i]->stale;
	arena_free(&a);
	cl->metadata_failures = 0;
	/* Leaders not available yet: ask again soon, not at once. */
	cl->metadata_retry_at_ms = again ? now_ms + cl->cfg.retry_backoff_ms : now_ms;
}

static void send_metadata(struct tape_client *cl, int64_t now_ms)
{
	if (cl->metadata_in_flight || now_ms < cl->metadata_retry_at_ms)
		return;
	bool due = false;
	for (int32_t i = 0; i < cl->topics_count; i++) {
		struct ctopic *t = cl->topics[i];
		if (t->known && now_ms - t->updated_ms >= cl->cfg.metadata_max_age_ms)
			t->stale = true;
		due |= t->stale;
	}
	if (!due)
		return;
	struct kconn *c = cluster_any_conn(cl, now_ms);
	if (!c)
		return;
	int16_t v = kconn_version(c, API_METADATA, 1, METADATA_VERSION_MAX);
	struct metadata_request_topic *names = malloc(sizeof(*names) * (size_t)cl->topics_count);
	struct buf *b = v >= 0 && names ? kconn_request_begin(c, API_METADATA, v) : NULL;
	if (!b) {
		free(names);
		metadata_failed(cl, now_ms);
		return;
	}
	for (int32_t i = 0; i < cl->topics_count; i++)
		names[i].name = kstr_from(cl->topics[i]->name);
	struct metadata_request r = {
		.topics_count = cl->topics_count,
		.topics = names,
		.allow_auto_topic_creation = cl->cfg.allow_auto_create_topics,
	};
	metadata_request_encode(b, v, &r);
	free(names);
	if (kconn_request_end(c, true, now_ms, on_metadata, cl) < 0) {
		metadata_failed(cl, now_ms);
		return;
	}
	cl->metadata_in_flight = true;
}

/* ---- polling ------------------------------------------------------------------------------- */

int64_t cluster_next_wakeup(const struct tape_client *cl)
{
	int64_t t = INT64_MAX;
	for (int32_t i = 0; i < cl->brokers_count; i++) {
		const struct kconn *c = &cl->brokers[i]->conn;
		int64_t d = kconn_next_deadline(c);
		if (c->state == KCONN_DOWN && c->closes && c->retry_at_ms > 0)
			d = c->retry_at_ms < d ? c->retry_at_ms : d;
		t = d < t ? d : t;
	}
	if (!cl->metadata_in_flight) {
		for (int32_t i = 0; i < cl->topics_count; i++) {
			const struct ctopic *tp = cl->topics[i];
			int64_t d = tp->stale ? cl->metadata_retry_at_ms
			                      : tp->updated_ms + cl->cfg.metadata_max_age_ms;
			t = d < t ? d : t;
		}
	}
	return t;
}

void cluster_poll(struct tape_client *cl, int64_t timeout_ms)
{
	int64_t now_ms = clock_mono_ms();
	send_metadata(cl, now_ms);
	note_closes(cl, now_ms);
	int32_t n = 0;
	for (int32_t i = 0; i < cl->brokers_count; i++) {
		short ev = kconn_events(&cl->brokers[i]->conn);
		if (ev)
			cl->pfds[n++] =
			    (struct pollfd){ .fd = cl->brokers[i]->conn.fd, .events = ev };
	}
	int64_t until = now_ms + (timeout_ms > 0 ? timeout_ms : 0);
	int64_t wake = cluster_next_wakeup(cl);
	if (wake < until)
		until = wake;
	int64_t wait = until > now_ms ? until - now_ms : 0;
	int rc = poll(cl->pfds, (nfds_t)n, wait > INT32_MAX ? INT32_MAX : (int)wait);
	now_ms = clock_mono_ms();
	/* The brokers' order is stable during the loop: adding one happens in on_metadata,
	 * which runs inside kconn_handle, so map descriptors back by value. */
	for (int32_t k = 0; rc > 0 && k < n; k++) {
		if (!cl->pfds[k].revents)
			continue;
		for (int32_t i = 0; i < cl->brokers_count; i++)
			if (cl->brokers[i]->conn.fd == cl->pfds[k].fd) {
				kconn_handle(&cl->brokers[i]->conn, cl->pfds[k].revents, now_ms);
				break;
			}
	}
	for (int32_t i = 0; i < cl->brokers_count; i++)
		kconn_check_timeouts(&cl->brokers[i]->conn, now_ms);
	note_closes(cl, now_ms);
	send_metadata(cl, now_ms);
}

int cluster_topic_wait(struct tape_client *cl, const char *name, int64_t deadline_ms,
                       struct ctopic **out, struct tape_error *err)
{
	if (!name || !*name)
		return tape_error_set(err, -EINVAL, "no topic name given");
	struct ctopic *t = cluster_topic(cl, name);
	if (t && t->known && t->error_code == KAFKA_NONE && t->partitions_count > 0) {
		*out = t;
		return 0;
	}
	t = cluster_want_topic(cl, name);
	if (!t)
		return tape_error_set(err, -ENOMEM, "cannot keep metadata for topic \"%s\"", name);
	t->unknown_answers = 0;
	cl->wait_id++;
	char k[64];
	for (;;) {
		if (t->known && t->error_code == KAFKA_NONE && t->partitions_count > 0) {
			*out = t;
			return 0;
		}
		if (t->known && t->error_code == KAFKA_UNKNOWN_TOPIC_OR_PARTITION &&
		    t->unknown_answers >= UNKNOWN_ANSWERS_DEFINITE)
			return tape_error_kafka(err, t->error_code, "topic \"%s\" does not exist",
			                        name);
		if (t->known && t->error_code == KAFKA_INVALID_TOPIC_EXCEPTION)
			return tape_error_kafka(err, t->error_code, "invalid topic name \"%s\"",
			                        name);
		if (t->known && t->error_code != KAFKA_NONE &&
		    !tape_error_kafka_retriable(t->error_code))
			return tape_error_kafka(
			    err, t->error_code,
			    "the broker refused the metadata of topic \"%s\": %s", name,
			    tape_error_kafka_text(t->error_code, k, sizeof(k)));
		if (unreachable(cl))
			return cluster_unreachable_error(cl, err);
		int64_t now_ms = clock_mono_ms();
		if (now_ms >= deadline_ms) {
			if (t->known && t->error_code != KAFKA_NONE)
				return tape_error_kafka(
				    err, t->error_code, "timed out waiting for topic \"%s\": %s",
				    name, tape_error_kafka_text(t->error_code, k, sizeof(k)));
			return tape_error_set(err, -ETIMEDOUT,
			                      "timed out waiting for the metadata of topic \"%s\"",
			                      name);
		}
		cluster_poll(cl, deadline_ms - now_ms);
	}
}

bool cluster_unreachable(const struct tape_client *cl)
{
	return unreachable(cl);
}

void cluster_adopt_broker(struct tape_client *cl, const struct metadata_response_broker *mb)
{
	adopt_broker(cl, mb);
}

/* ---- the public calls ---------------------------------------------------------------------- */

static int check_config(const struct tape_client_config *c, struct tape_error *err)
{
	const struct {
		const char *name;
		int32_t v;
	} positive[] = {
		{ "connect_timeout_ms", c->connect_timeout_ms },
		{ "request_timeout_ms", c->request_timeout_ms },
		{ "metadata_timeout_ms", c->metadata_timeout_ms },
		{ "metadata_max_age_ms", c->metadata_max_age_ms },
		{ "retry_backoff_ms", c->retry_backoff_ms },
		{ "retry_backoff_max_ms", c->retry_backoff_max_ms },
		{ "reconnect_backoff_ms", c->reconnect_backoff_ms },
		{ "reconnect_backoff_max_ms", c->reconnect_backoff_max_ms },
	};
	for (size_t i = 0; i < ARRAY_LEN(positive); i++)
		if (positive[i].v <= 0)
			return tape_error_set(err, -TAPE_ECONFIG, "%s must be positive (is %d)",
			                      positive[i].name, positive[i].v);
	return 0;
}

int tape_client_new(const struct tape_client_config *cfg_in, struct tape_client **out,
                    struct tape_error *err)
{
	struct tape_client_config defaults;
	tape_client_config_init(&defaults);
	const struct tape_client_config *cfg = cfg_in ? cfg_in : &defaults;
	tape_error_clear(err);
	*out = NULL;
	int rc = check_config(cfg, err);
	if (rc < 0)
		return rc;
	struct hostport *hp = malloc(sizeof(*hp) * CLIENT_BROKERS_MAX);
	struct tape_client *cl = calloc(1, sizeof(*cl));
	if (!hp || !cl) {
		free(hp);
		free(cl);
		return tape_error_set(err, -ENOMEM, "out of memory");
	}
	cl->cfg = *cfg;
	cl->brokers_text = strdup(cfg->brokers ? cfg->brokers : DEFAULT_BROKERS);
	cl->client_id = strdup(cfg->client_id ? cfg->client_id : DEFAULT_CLIENT_ID);
	cl->cfg.brokers = cl->brokers_text;
	cl->cfg.client_id = cl->client_id;
	cl->conn_opt = (struct kconn_options){
		.client_id = cl->client_id,
		.connect_timeout_ms = cfg->connect_timeout_ms,
		.request_timeout_ms = cfg->request_timeout_ms,
	};
	cl->controller_id = -1;
	if (!cl->brokers_text || !cl->client_id) {
		rc = tape_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	int n = hostport_parse_list(cl->brokers_text, hp, CLIENT_BROKERS_MAX, err);
	if (n < 0) {
		rc = n;
		goto out;
	}
	for (int i = 0; i < n; i++)
		if (!add_broker(cl, -1 - i, hp[i].host, hp[i].port)) {
			rc = tape_error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	*out = cl;
out:
	free(hp);
	if (rc < 0)
		tape_client_free(cl);
	return rc;
}

void tape_client_free(struct tape_client *cl)
{
	if (!cl)
		return;
	for (int32_t i = 0; i < cl->brokers_count; i++) {
		kconn_free(&cl->brokers[i]->conn);
		free(cl->brokers[i]);
	}
	for (int32_t i = 0; i < cl->topics_count; i++) {
		free(cl->topics[i]->name);
		free(cl->topics[i]->partitions);
		free(cl->topics[i]);
	}
	free(cl->brokers);
	free(cl->topics);
	free(cl->pfds);
	free(cl->brokers_text);
	free(cl->client_id);
	free(cl);
}

int32_t tape_client_partitions(struct tape_client *cl, const char *topic, struct tape_error *err)
{
	tape_error_clear(err);
	struct ctopic *t;
	int rc =
	    cluster_topic_wait(cl, topic, clock_mono_ms() + cl->cfg.metadata_timeout_ms, &t, err);
	return rc < 0 ? rc : t->partitions_count;
}
