/*
 * client/admin.c: libtape's admin calls (client/tape.h, "admin"): topics, configs, offsets
 * and groups, each one synchronous call.
 *
 * Owns: sending one request to the broker Kafka wants it at (the controller, the group's
 * coordinator, a partition's leader, or any broker) and waiting for its answer; the retries
 * of FindCoordinator while a coordinator loads or moves; turning answers into the result
 * structs (each in an arena of its own, freed in one step) and broker errors into one line.
 * Must not know: producing or consuming, the metadata cache's refresh policy (cluster.c: the
 * brokers and controller id an answer names are handed to it).
 *
 * Each request waits in a heap-allocated struct acall, because a call that times out returns
 * before the answer: the connection still calls back later, and the callback then frees it.
 */
#include "client/cluster.h"

#include "base/arena.h"
#include "base/clock.h"
#include "client/hostport.h"
#include "client/tape_error.h"
#include "protocol/alter_configs.h"
#include "protocol/consumer_protocol.h"
#include "protocol/create_topics.h"
#include "protocol/delete_groups.h"
#include "protocol/delete_topics.h"
#include "protocol/describe_configs.h"
#include "protocol/describe_groups.h"
#include "protocol/errors.h"
#include "protocol/find_coordinator.h"
#include "protocol/list_groups.h"
#include "protocol/list_offsets.h"
#include "protocol/metadata.h"
#include "protocol/offset_commit.h"
#include "protocol/offset_fetch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decoded answers and results take a few times their frame (structs are larger than their
 * encoding), as cluster.c's METADATA_ARENA_FACTOR says; the frame itself is bounded by
 * CLIENT_RESPONSE_BYTES_MAX. */
#define ANSWER_ARENA_FACTOR 8
#define ANSWER_ARENA_MIN (64 * KiB)
/* The longest single poll while waiting, so deadlines and backoffs are noticed. */
#define POLL_SLICE_MS 100

struct acall {
	bool done;
	bool abandoned; /* the caller gave up: the callback frees */
	int err;
	int16_t version;
	uint8_t *body; /* owned: the answer after its header */
	size_t len;
};

struct areq {
	int16_t api_key, vmin, vmax;
	const char *what; /* "CreateTopics" */
	void (*encode)(struct buf *b, int16_t version, const void *r);
	const void *r;
};

/* An answer: its body (owned) and an arena for decoding it and building the result. */
struct answer {
	uint8_t *body;
	size_t len;
	int16_t version;
	struct arena a;
};

static void answer_free(struct answer *ans)
{
	free(ans->body);
	ans->body = NULL;
	arena_free(&ans->a);
}

static void on_answer(void *arg, int err, struct cursor *body, int16_t version)
{
	struct acall *k = arg;
	if (k->abandoned) {
		free(k);
		return;
	}
	k->done = true;
	k->err = err;
	k->version = version;
	if (err < 0 || !body)
		return;
	k->len = cursor_left(body);
	k->body = malloc(k->len ? k->len : 1);
	if (!k->body)
		k->err = -ENOMEM;
	else if (k->len)
		memcpy(k->body, body->p, k->len);
}

static int timed_out(struct tape_error *err, const char *what)
{
	return tape_error_set(err, -ETIMEDOUT, "timed out waiting for the answer to %s", what);
}

/* The broker node cannot be reached in this wait. */
static bool node_unreachable(const struct tape_client *cl, const struct cbroker *b)
{
	return b->conn.state == KCONN_DOWN && b->failed_wait == cl->wait_id && b->conn.closes;
}

static int node_error(const struct cbroker *b, struct tape_error *err)
{
	char addr[HOSTPORT_HOST_BYTES + 16];
	hostport_format(b->conn.host, b->conn.port, addr, sizeof(addr));
	return tape_error_set(err, b->conn.last_error ? b->conn.last_error : -ECONNREFUSED,
	                      "cannot reach broker at %s: %s", addr,
	                      b->conn.last_error ? b->conn.last_error_text : "not connected");
}

static int wait_answer(struct tape_client *cl, struct acall *k, const char *what,
                       int64_t deadline_ms, struct answer *ans, struct tape_error *err)
{
	while (!k->done) {
		int64_t now_ms = clock_mono_ms();
		if (now_ms >= deadline_ms) {
			k->abandoned = true;
			return timed_out(err, what);
		}
		int64_t wait = deadline_ms - now_ms;
		cluster_poll(cl, wait < POLL_SLICE_MS ? wait : POLL_SLICE_MS);
	}
	int rc = k->err;
	if (rc < 0) {
		free(k->body);
		free(k);
		if (rc == -ENOMEM)
			return tape_error_set(err, rc, "out of memory");
		char text[96];
		return tape_error_set(err, rc, "the connection failed before %s was answered: %s",
		                      what, tape_error_text(rc, text, sizeof(text)));
	}
	ans->body = k->body;
	ans->len = k->len;
	ans->version = k->version;
	arena_init(&ans->a, ans->len * ANSWER_ARENA_FACTOR + ANSWER_ARENA_MIN);
	free(k);
	return 0;
}

/* Sends q to node (-1: any broker) once a connection is ready and waits for the answer.
 * Returns 0 with ans filled (answer_free it), or the error. */
static int admin_call(struct tape_client *cl, int32_t node, const struct areq *q,
                      int64_t deadline_ms, struct answer *ans, struct tape_error *err)
{
	memset(ans, 0, sizeof(*ans));
	for (;;) {
		int64_t now_ms = clock_mono_ms();
		struct cbroker *b = node >= 0 ? cluster_broker(cl, node) : NULL;
		if (node >= 0 && !b)
			return tape_error_set(err, -ENOENT, "broker %d is not in the metadata",
			                      node);
		struct kconn *c = b ? cluster_conn(cl, node, now_ms) : cluster_any_conn(cl, now_ms);
		if (c) {
			int16_t v = kconn_version(c, q->api_key, q->vmin, q->vmax);
			if (v < 0)
				return tape_error_set(
				    err, -ENOTSUP,
				    "the broker does not support %s (versions %d-%d)", q->what,
				    q->vmin, q->vmax);
			struct buf *out = kconn_request_begin(c, q->api_key, v);
			if (out) {
				q->encode(out, v, q->r);
				struct acall *k = calloc(1, sizeof(*k));
				if (!k) {
					kconn_request_abort(c);
					return tape_error_set(err, -ENOMEM, "out of memory");
				}
				int rc = kconn_request_end(c, true, now_ms, on_answer, k);
				if (rc < 0) {
					free(k);
					return tape_error_set(
					    err, rc, "the %s request is too large", q->what);
				}
				return wait_answer(cl, k, q->what, deadline_ms, ans, err);
			}
		}
		if (b && node_unreachable(cl, b))
			return node_error(b, err);
		if (!b && cluster_unreachable(cl))
			return cluster_unreachable_error(cl, err);
		if (now_ms >= deadline_ms)
			return b ? node_error(b, err) : timed_out(err, q->what);
		int64_t wait = deadline_ms - now_ms;
		cluster_poll(cl, wait < POLL_SLICE_MS ? wait : POLL_SLICE_MS);
	}
}

/* Starts a call: a new wait (for "cannot reach"), its deadline. */
static int64_t begin(struct tape_client *cl, int32_t timeout_ms, struct tape_error *err)
{
	tape_error_clear(err);
	cl->wait_id++;
	return clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : cl->cfg.request_timeout_ms);
}

static int malformed(struct tape_error *err, const char *what)
{
	return tape_error_set(err, -TAPE_EPROTO, "malformed %s answer", what);
}

static const char *code_text(int16_t code, char *buf, size_t len)
{
	return tape_error_kafka_text(code, buf, len);
}

/* Sleeps (polling) for the retry backoff, up to the deadline. false when it passed. */
static bool backoff(struct tape_client *cl, int32_t attempt, int64_t deadline_ms)
{
	int64_t until = clock_mono_ms() + cluster_backoff_ms(cl->cfg.retry_backoff_ms,
	                                                     cl->cfg.retry_backoff_max_ms, attempt);
	if (until >= deadline_ms)
		return false;
	for (int64_t now_ms = clock_mono_ms(); now_ms < until; now_ms = clock_mono_ms())
		cluster_poll(cl, until - now_ms);
	return true;
}

/* ---- metadata ------------------------------------------------------------------------------ */

static void enc_metadata(struct buf *b, int16_t v, const void *r)
{
	metadata_request_encode(b, v, r);
}

/* A Metadata request for every topic (topic NULL), none ("") or one, creating nothing. The
 * brokers and controller it names are handed to the cluster. */
static int admin_metadata(struct tape_client *cl, const char *topic, int64_t deadline_ms,
                          struct answer *ans, struct metadata_response *md, struct tape_error *err)
{
	struct metadata_request_topic one = { .name = kstr_from(topic) };
	struct metadata_request r = {
		.topics_count = !topic   ? -1
		                : *topic ? 1
		                         : 0,
		.topics = &one,
	};
	struct areq q = { API_METADATA, 1, METADATA_VERSION_MAX, "Metadata", enc_metadata, &r };
	int rc = admin_call(cl, -1, &q, deadline_ms, ans, err);
	if (rc < 0)
		return rc;
	struct cursor c;
	cursor_init(&c, ans->body, ans->len);
	if (metadata_response_decode(&c, &ans->a, ans->version, md) < 0) {
		answer_free(ans);
		return malformed(err, "Metadata");
	}
	for (int32_t i = 0; i < md->brokers_count; i++)
		cluster_adopt_broker(cl, &md->brokers[i]);
	cl->controller_id = md->controller_id;
	return 0;
}

/* The controller's node id, from a fresh Metadata answer. */
static int controller(struct tape_client *cl, int64_t deadline_ms, int32_t *node,
                      struct tape_error *err)
{
	struct answer ans;
	struct metadata_response md;
	int rc = admin_metadata(cl, "", deadline_ms, &ans, &md, err);
	if (rc < 0)
		return rc;
	*node = md.controller_id;
	answer_free(&ans);
	if (*node < 0 || !cluster_broker(cl, *node))
		*node = -1; /* a broker without a controller id: any broker */
	return 0;
}

/* ---- topics -------------------------------------------------------------------------------- */

static void enc_create_topics(struct buf *b, int16_t v, const void *r)
{
	create_topics_request_encode(b, v, r);
}

int tape_admin_create_topic(struct tape_client *cl, const char *name, int32_t partitions,
                            int16_t replication_factor, const struct tape_config_kv *configs,
                            int32_t configs_count, bool validate_only, int32_t timeout_ms,
                            struct tape_error *err)
{
	int64_t deadline_ms = begin(cl, timeout_ms, err);
	if (!name || !*name)
		return tape_error_set(err, -EINVAL, "no topic name given");
	struct create_topics_creatable_topic_config *cf =
	    calloc((size_t)(configs_count > 0 ? configs_count : 1), sizeof(*cf));
	if (!cf)
		return tape_error_set(err, -ENOMEM, "out of memory");
	for (int32_t i = 0; i < configs_count; i++)
		cf[i] =
		    (struct create_topics_creatable_topic_config){ kstr_from(configs[i].name),
			                                           kstr_from(configs[i].value) };
	struct create_topics_creatable_topic t = {
		.name = kstr_from(name),
		.num_partitions = partitions,
		.replication_factor = replication_factor,
		.configs_count = configs_count,
		.configs = cf,
	};
	int32_t wait = (int32_t)(deadline_ms - clock_mono_ms());
	struct create_topics_request r = { 1, &t, wait > 0 ? wait : 0, validate_only };
	/* validate_only needs v1. */
	struct areq q = { API_CREATE_TOPICS, validate_only ? 1 : 0, CREATE_TOPICS_VERSION_MAX,
		          "CreateTopics",    enc_create_topics,     &r };
	int32_t node = -1;
	struct answer ans;
	int rc = controller(cl, deadline_ms, &node, err);
	if (rc == 0)
		rc = admin_call(cl, node, &q, deadline_ms, &ans, err);
	free(cf);
	if (rc < 0)
		return rc;
	struct create_topics_response resp;
	struct cursor c;
	cursor_init(&c, ans.body, ans.len);
	if (create_topics_response_decode(&c, &ans.a, ans.version, &resp) < 0 ||
	    resp.topics_count != 1) {
		answer_free(&ans);
		return malformed(err, "CreateTopics");
	}
	int16_t code = resp.topics[0].error_code;
	struct kstr msg = resp.topics[0].error_message;
	char k[64];
	if (code == KAFKA_TOPIC_ALREADY_EXISTS)
		rc = tape_error_kafka(err, code, "topic \"%s\" already exists", name);
	else if (code != KAFKA_NONE && msg.len > 0)
		rc = tape_error_kafka(err, code, "cannot create topic \"%s\": %.*s", name,
		                      (int)msg.len, msg.p);
	else if (code != KAFKA_NONE)
		rc = tape_error_kafka(err, code, "cannot create topic \"%s\": %s", name,
		                      code_text(code, k, sizeof(k)));
	answer_free(&ans);
	return rc;
}

static void enc_delete_topics(struct buf *b, int16_t v, const void *r)
{
	delete_topics_request_encode(b, v, r);
}

int tape_admin_delete_topic(struct tape_client *cl, const char *name, int32_t timeout_ms,
                            struct tape_error *err)
{
	int64_t deadline_ms = begin(cl, timeout_ms, err);
	if (!name || !*name)
		return tape_error_set(err, -EINVAL, "no topic name given");
	struct kstr n = kstr_from(name);
	int32_t wait = (int32_t)(deadline_ms - clock_mono_ms());
	struct delete_topics_request r = { 1, &n, wait > 0 ? wait : 0 };
	struct areq q = { API_DELETE_TOPICS, 0, DELETE_TOPICS_VERSION_MAX, "DeleteTopics",
		          enc_delete_topics, &r };
	int32_t node = -1;
	struct answer ans;
	int rc = controller(cl, deadline_ms, &node, err);
	if (rc == 0)
		rc = admin_call(cl, node, &q, deadline_ms, &ans, err);
	if (rc < 0)
		return rc;
	struct delete_topics_response resp;
	struct cursor c;
	cursor_init(&c, ans.body, ans.len);
	if (delete_topics_response_decode(&c, &ans.a, ans.version, &resp) < 0 ||
	    resp.responses_count != 1) {
		answer_free(&ans);
		return malformed(err, "DeleteTopics");
	}
	int16_t code = resp.responses[0].error_code;
	char k[64];
	if (code == KAFKA_UNKNOWN_TOPIC_OR_PARTITION)
		rc = tape_error_kafka(err, code, "topic \"%s\" does not exist", name);
	else if (code != KAFKA_NONE)
		rc = tape_error_kafka(err, code, "cannot delete topic \"%s\": %s", name,
		                      code_text(code, k, sizeof(k)));
	answer_free(&ans);
	/* The cache forgets nothing by itself: a deleted topic is asked about again. */
	struct ctopic *t = cluster_topic(cl, name);
	if (t)
		t->stale = true;
	return rc;
}

static struct arena *mem_new(size_t limit)
{
	struct arena *a = malloc(sizeof(*a));
	if (a)
		arena_init(a, limit);
	return a;
}

static void mem_free(void *mem)
{
	if (!mem)
		return;
	arena_free(mem);
	free(mem);
}

static int cmp_topic(const void *a, const void *b)
{
	return strcmp(((const struct tape_topic_info *)a)->name,
	              ((const struct tape_topic_info *)b)->name);
}

static int cmp_partition(const void *a, const void *b)
{
	int32_t x = ((const struct tape_partition_info *)a)->partition;
	int32_t y = ((const struct tape_partition_info *)b)->partition;
	return (x > y) - (x < y);
}

static int32_t *copy_ids(struct arena *a, const int32_t *v, int32_t n)
{
	int32_t *c = arena_array(a, (size_t)(n > 0 ? n : 1), sizeof(*c));
	if (c && n > 0)
		memcpy(c, v, sizeof(*c) * (size_t)n);
	return c;
}

static int fill_topic(struct arena *a, const struct metadata_response_topic *mt,
                      struct tape_topic_info *t)
{
	t->name = kstr_dup(a, mt->name);
	t->error_code = mt->error_code;
	t->internal = mt->is_internal;
	t->partitions_count = mt->partitions_count;
	t->partitions =
	    arena_array(a, (size_t)(mt->partitions_count > 0 ? mt->partitions_count : 1),
	                sizeof(*t->partitions));
	if (!t->name || !t->partitions)
		return -ENOMEM;
	for (int32_t i = 0; i < mt->partitions_count; i++) {
		const struct metadata_response_partition *mp = &mt->partitions[i];
		struct tape_partition_info *p = &t->partitions[i];
		*p = (struct tape_partition_info){
			.partition = mp->partition_index,
			.error_code = mp->error_code,
			.leader = mp->leader_id,
			.replicas_count = mp->replica_nodes_count,
			.replicas = copy_ids(a, mp->replica_nodes, mp->replica_nodes_count),
			.isr_count = mp->isr_nodes_count,
			.isr = copy_ids(a, mp->isr_nodes, mp->isr_nodes_count),
			.leader_epoch = mp->leader_epoch,
		};
		if (!p->replicas || !p->isr)
			return -ENOMEM;
	}
	qsort(t->partitions, (size_t)t->partitions_count, sizeof(*t->partitions), cmp_partition);
	return 0;
}

int tape_admin_list_topics(struct tape_client *cl, const char *topic, int32_t timeout_ms,
                           struct tape_topic_list **out, struct tape_error *err)
{
	*out = NULL;
	int64_t deadline_ms = begin(cl, timeout_ms, err);
	if (topic && !*topic)
		return tape_error_set(err, -EINVAL, "no topic name given");
	struct answer ans;
	struct metadata_response md;
	int rc = admin_metadata(cl, topic, deadline_ms, &ans, &md, err);
	if (rc < 0)
		return rc;
	if (topic && md.topics_count == 1 && md.topics[0].error_code != KAFKA_NONE) {
		int16_t code = md.topics[0].error_code;
		char k[64];
		answer_free(&ans);
		if (code == KAFKA_UNKNOWN_TOPIC_OR_PARTITION)
			return tape_error_kafka(err, code, "topic \"%s\" does not exist", topic);
		return tape_error_kafka(err, code, "cannot describe topic \"%s\": %s", topic,
		                        code_text(code, k, sizeof(k)));
	}
	struct arena *mem = mem_new(ans.len * ANSWER_ARENA_FACTOR + ANSWER_ARENA_MIN);
	struct tape_topic_list *l = mem ? arena_alloc(mem, sizeof(*l)) : NULL;
	if (l) {
		l->mem = mem;
		l->controller_id = md.controller_id;
		l->topics_count = md.topics_count;
		l->topics = arena_array(mem, (size_t)(md.topics_count > 0 ? md.topics_count : 1),
		                        sizeof(*l->topics));
	}
	rc = l && l->topics ? 0 : -ENOMEM;
	for (int32_t i = 0; rc == 0 && i < md.topics_count; i++)
		rc = fill_topic(mem, &md.topics[i], &l->topics[i]);
	answer_free(&ans);
	if (rc < 0) {
		mem_free(mem);
		return tape_error_set(err, -ENOMEM, "out of memory");
	}
	qsort(l->topics, (size_t)l->topics_count, sizeof(*l->topics), cmp_topic);
	*out = l;
	return 0;
}

void tape_topic_list_free(struct tape_topic_list *l)
{
	if (l)
		mem_free(l->mem);
}

/* ---- configs ------------------------------------------------------------------------------- */

static void enc_describe_configs(struct buf *b, int16_t v, const void *r)
{
	describe_configs_request_encode(b, v, r);
}

static const char *resource_word(int8_t type)
{
	return type == TAPE_RESOURCE_TOPIC    ? "topic"
	       : type == TAPE_RESOURCE_BROKER ? "broker"
	                                      : "resource";
}

/* A broker resource goes to that broker; a topic to any. */
static int32_t resource_node(int8_t type, const char *name)
{
	if (type != TAPE_RESOURCE_BROKER)
		return -1;
	char *end;
	long id = strtol(name, &end, 10);
	return *name && !*end && id >= 0 && id <= INT32_MAX ? (int32_t)id : -1;
}

static int resource_error(int8_t type, const char *name, int16_t code, struct kstr msg,
                          const char *doing, struct tape_error *err)
{
	char k[64];
	if (type == TAPE_RESOURCE_TOPIC && code == KAFKA_UNKNOWN_TOPIC_OR_PARTITION)
		return tape_error_kafka(err, code, "topic \"%s\" does not exist", name);
	if (msg.len > 0)
		return tape_error_kafka(err, code, "cannot %s of %s \"%s\": %.*s", doing,
		                        resource_word(type), name, (int)msg.len, msg.p);
	return tape_error_kafka(err, code, "cannot %s of %s \"%s\": %s", doing, resource_word(type),
	                        name, code_text(code, k, sizeof(k)));
}

int tape_admin_describe_configs(struct tape_client *cl, int8_t resource_type, const char *name,
                                int32_t timeout_ms, struct tape_config_list **out,
                                struct tape_error *err)
{
	*out = NULL;
	int64_t deadline_ms = begin(cl, timeout_ms, err);
	if (!name)
		return tape_error_set(err, -EINVAL, "no resource name given");
	struct describe_configs_resource res = { resource_type, kstr_from(name), -1, NULL };
	struct describe_configs_request r = { 1, &res, false };
	struct areq q = { API_DESCRIBE_CONFIGS, 0, DESCRIBE_CONFIGS_VERSION_MAX, "DescribeConfigs",
		          enc_describe_configs, &r };
	int32_t node = resource_node(resource_type, name);
	struct answer ans;
	int rc = 0;
	if (node >= 0 && !cluster_broker(cl, node)) {
		struct metadata_response md;
		rc = admin_metadata(cl, "", deadline_ms, &ans, &md, err);
		if (rc == 0)
			answer_free(&ans);
	}
	if (rc == 0)
		rc = admin_call(cl, node, &q, deadline_ms, &ans, err);
	if (rc < 0)
		return rc;
	struct describe_configs_response resp;
	struct cursor c;
	cursor_init(&c, ans.body, ans.len);
	if (describe_configs_response_decode(&c, &ans.a, ans.version, &resp) < 0 ||
	    resp.results_count != 1) {
		answer_free(&ans);
		return malformed(err, "DescribeConfigs");
	}
	const struct describe_configs_result *res0 = &resp.results[0];
	if (res0->error_code != KAFKA_NONE) {
		rc = resource_error(resource_type, name, res0->error_code, res0->error_message,
		                    "describe the configs", err);
		answer_free(&ans);
		return rc;
	}
	struct arena *mem = mem_new(ans.len * ANSWER_ARENA_FACTOR + ANSWER_ARENA_MIN);
	struct tape_config_list *l = mem ? arena_alloc(mem, sizeof(*l)) : NULL;
	if (l) {
		l->mem = mem;
		l->count = res0->configs_count;
		l->entries =
		    arena_array(mem, (size_t)(l->count > 0 ? l->count : 1), sizeof(*l->entries));
	}
	rc = l && l->entries ? 0 : -ENOMEM;
	for (int32_t i = 0; rc == 0 && i < res0->configs_count; i++) {
		const struct describe_configs_resource_result *cf = &res0->configs[i];
		struct tape_config_entry *e = &l->entries[i];
		*e = (struct tape_config_entry){
			.name = kstr_dup(mem, cf->name),
			.value = kstr_dup(mem, cf->value),
			.source = ans.version >= 1 ? cf->config_source : -1,
			.is_default = ans.version >= 1 ? cf->config_source == 5 : cf->is_default,
			.read_only = cf->read_only,
			.is_sensitive = cf->is_sensitive,
		};
		if (!e->name || (!kstr_is_null(cf->value) && !e->value))
			rc = -ENOMEM;
	}
	answer_free(&ans);
	if (rc < 0) {
		mem_free(mem);
		return tape_error_set(err, -ENOMEM, "out of memory");
	}
	*out = l;
	return 0;
}

void tape_config_list_free(struct tape_config_list *l)
{
	if (l)
		mem_free(l->mem);
}

static void enc_alter_configs(struct buf *b, int16_t v, const void *r)
{
	alter_configs_request_encode(b, v, r);
}

int tape_admin_alter_configs(struct tape_client *cl, int8_t resource_type, const char *name,
                             const struct tape_config_kv *configs, int32_t configs_count,
                             bool validate_only, int32_t timeout_ms, struct tape_error *err)
{
	int64_t deadline_ms = begin(cl, timeout_ms, err);
	if (!name)
		return tape_error_set(err, -EINVAL, "no resource name given");
	struct alter_configs_alterable_config *cf =
	    calloc((size_t)(configs_count > 0 ? configs_count : 1), sizeof(*cf));
	if (!cf)
		return tape_error_set(err, -ENOMEM, "out of memory");
	for (int32_t i = 0; i < configs_count; i++)
		cf[i] = (struct alter_configs_alterable_config){ kstr_from(configs[i].name),
			                                         kstr_from(configs[i].value) };
	struct alter_configs_resource res = { resource_type, kstr_from(name), configs_count, cf };
	struct alter_configs_request r = { 1, &res, validate_only };
	struct areq q = { API_ALTER_CONFIGS, 0, ALTER_CONFIGS_VERSION_MAX, "AlterConfigs",
		          enc_alter_configs, &r };
	struct answer ans;
	int rc = admin_call(cl, resource_node(resource_type, name), &q, deadline_ms, &ans, err);
	free(cf);
	if (rc < 0)
		return rc;
	struct alter_configs_response resp;
	struct cursor c;
	cursor_init(&c, ans.body, ans.len);
	if (alter_configs_response_decode(&c, &ans.a, ans.version, &resp) < 0 ||
	    resp.responses_count != 1) {
		answer_free(&ans);
		return malformed(err, "AlterConfigs");
	}
	if (resp.responses[0].error_code != KAFKA_NONE)
		rc = resource_error(resource_type, name, resp.responses[0].error_code,
		                    resp.responses[0].error_message, "alter the configs", err);
	answer_free(&ans);
	return rc;
}

/* ---- offsets ------------------------------------------------------------------------------- */

static void enc_list_offsets(struct buf *b, int16_t v, const void *r)
{
	list_offsets_request_encode(b, v, r);
}

/* One ListOffsets to leader for the entries of parts it leads (leaders[i] == leader). */
static int list_offsets_at(struct tape_client *cl, const char *topic, int64_t timestamp,
                           struct tape_partition_offset *parts, const int32_t *leaders,
                           int32_t count, int32_t leader, int64_t deadline_ms,
                           struct tape_error *err)
{
	struct list_offsets_request_partition *rp = calloc((size_t)count, sizeof(*rp));
	if (!rp)
		return tape_error_set(err, -ENOMEM, "out of memory");
	int32_t n = 0;
	for (int32_t i = 0; i < count; i++)
		if (leaders[i] == leader)
			rp[n++] = (struct list_offsets_request_partition){ parts[i].partition,
				                                           timestamp, 1 };
	struct list_offsets_request_topic rt = { kstr_from(topic), n, rp };
	struct list_offsets_request r = { -1, 0, 1, &rt };
	struct areq q = { API_LIST_OFFSETS, 1, LIST_OFFSETS_VERSION_MAX, "ListOffsets",
		          enc_list_offsets, &r };
	struct answer ans;
	int rc = admin_call(cl, leader, &q, deadline_ms, &ans, err);
	free(rp);
	if (rc < 0)
		return rc;
	struct list_offsets_response resp;
	struct cursor c;
	cursor_init(&c, ans.body, ans.len);
	if (list_offsets_response_decode(&c, &ans.a, ans.version, &resp) < 0) {
		answer_free(&ans);
		return malformed(err, "ListOffsets");
	}
	for (int32_t t = 0; t < resp.topics_count; t++) {
		if (!kstr_eq(resp.topics[t].name, topic))
			continue;
		for (int32_t k = 0; k < resp.topics[t].partitions_count; k++) {
			const struct list_offsets_response_partition *p =
			    &resp.topics[t].partitions[k];
			for (int32_t i = 0; i < count; i++)
				if (leaders[i] == leader &&
				    parts[i].partition == p->partition_index) {
					parts[i].error_code = p->error_code;
					parts[i].offset = p->offset;
					parts[i].timestamp = p->timestamp;
				}
		}
	}
	answer_free(&ans);
	return 0;
}

int tape_admin_list_offsets(struct tape_client *cl, const char *topic, int64_t timestamp,
                            struct tape_partition_offset *parts, int32_t count, int32_t timeout_ms,
                            struct tape_error *err)
{
	int64_t deadline_ms = begin(cl, timeout_ms, err);
	if (!topic || !*topic)
		return tape_error_set(err, -EINVAL, "no topic name given");
	if (count <= 0)
		return 0;
	struct answer ans;
	struct metadata_response md;
	int rc = admin_metadata(cl, topic, deadline_ms, &ans, &md, err);
	if (rc < 0)
		return rc;
	const struct metadata_response_topic *mt = md.topics_count == 1 ? &md.topics[0] : NULL;
	if (!mt || mt->error_code != KAFKA_NONE) {
		int16_t code = mt ? mt->error_code : KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
		answer_free(&ans);
		return tape_error_kafka(err, code, "topic \"%s\" does not exist", topic);
	}
	int32_t *leaders = calloc((size_t)count, sizeof(*leaders));
	if (!leaders) {
		answer_free(&ans);
		return tape_error_set(err, -ENOMEM, "out of memory");
	}
	for (int32_t i = 0; i < count; i++) {
		parts[i].error_code = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
		parts[i].offset = parts[i].timestamp = -1;
		leaders[i] = -1;
		for (int32_t k = 0; k < mt->partitions_count; k++)
			if (mt->partitions[k].partition_index == parts[i].partition) {
				leaders[i] = mt->partitions[k].leader_id;
				parts[i].error_code =
				    leaders[i] >= 0 ? KAFKA_NONE : KAFKA_LEADER_NOT_AVAILABLE;
			}
	}
	answer_free(&ans);
	/* One request per leader, each covering every partition it leads. */
	for (int32_t i = 0; rc == 0 && i < count; i++) {
		bool first = leaders[i] >= 0;
		for (int32_t k = 0; first && k < i; k++)
			first = leaders[k] != leaders[i];
		if (first)
			rc = list_offsets_at(cl, topic, timestamp, parts, leaders, count,
			                     leaders[i], deadline_ms, err);
	}
	free(leaders);
	return rc;
}

/* ---- groups -------------------------------------------------------------------------------- */

static bool coordinator_retriable(int16_t code)
{
	return code == KAFKA_COORDINATOR_LOAD_IN_PROGRESS ||
	       code == KAFKA_COORDINATOR_NOT_AVAILABLE || code == KAFKA_NOT_COORDINATOR;
}

static void enc_find_coordinator(struct buf *b, int16_t v, const void *r)
{
	find_coordinator_request_encode(b, v, r);
}

/* The group's coordinator, asked of any broker until it names one or the deadline. */
static int coordinator(struct tape_client *cl, const char *group, int64_t deadline_ms,
                       int32_t *node, struct tape_error *err)
{
	struct find_coordinator_request r = { kstr_from(group), 0 };
	struct areq q = { API_FIND_COORDINATOR, 0, FIND_COORDINATOR_VERSION_MAX, "FindCoordinator",
		          enc_find_coordinator, &r };
	char k[64];
	for (int32_t attempt = 1;; attempt++) {
		struct answer ans;
		int rc = admin_call(cl, -1, &q, deadline_ms, &ans, err);
		if (rc < 0)
			return rc;
		struct find_coordinator_response resp;
		struct cursor c;
		cursor_init(&c, ans.body, ans.len);
		if (find_coordinator_response_decode(&c, &ans.a, ans.version, &resp) < 0) {
			answer_free(&ans);
			return malformed(err, "FindCoordinator");
		}
		int16_t code = resp.error_code;
		if (code == KAFKA_NONE) {
			struct metadata_response_broker mb = { resp.node_id, resp.host, resp.port,
				                               KSTR_NULL };
			cluster_adopt_broker(cl, &mb);
			*node = resp.node_id;
			answer_free(&ans);
			return 0;
		}
		answer_free(&ans);
		if (!coordinator_retriable(code))
			return tape_error_kafka(err, code,
			                        "cannot find the coordinator of group \"%s\": %s",
			                        group, code_text(code, k, sizeof(k)));
		if (!backoff(cl, attempt, deadline_ms))
			return tape_error_kafka(
			    err, code, "timed out finding the coordinator of group \"%s\": %s",
			    group, code_text(code, k, sizeof(k)));
	}
}

/* Sends q to the group's coordinator; *code_of reads the group-level error code of an
 * answer, so that a coordinator that moved or is loading is looked up and asked again.
 * Returns 0 with ans (the last answer), or the error. */
static int group_call(struct tape_client *cl, const char *group, const struct areq *q,
                      int16_t (*code_of)(struct answer *ans), int64_t deadline_ms,
                      struct answer *ans, struct tape_error *err)
{
	if (!group || !*group)
		return tape_error_set(err, -EINVAL, "no group name given");
	for (int32_t attempt = 1;; attempt++) {
		int32_t node = -1;
		int rc = coordinator(cl, group, deadline_ms, &node, err);
		if (rc == 0)
			rc = admin_call(cl, node, q, deadline_ms, ans, err);
		if (rc < 0)
			return rc;
		int16_t code = code_of(ans);
		if (code < 0) {
			answer_free(ans);
			return malformed(err, q->what);
		}
		if (!coordinator_retriable(code))
			return 0;
		answer_free(ans);
		char k[64];
		if (!backoff(cl, attempt, deadline_ms))
			return tape_error_kafka(err, code, "timed out asking group \"%s\": %s",
			                        group, code_text(code, k, sizeof(k)));
	}
}

static void enc_list_groups(struct buf *b, int16_t v, const void *r)
{
	list_groups_request_encode(b, v, r);
}

static int cmp_listing(const void *a, const void *b)
{
	return strcmp(((const struct tape_group_listing *)a)->group_id,
	              ((const struct tape_group_listing *)b)->group_id);
}

/* Adds one broker's ListGroups answer to l (growing l->groups in mem). */
static int add_listed(struct arena *mem, struct tape_group_list *l, int32_t *cap,
                      const struct list_groups_response *resp)
{
	for (int32_t i = 0; i < resp->groups_count; i++) {
		if (l->count == *cap) {
			int32_t ncap = *cap ? *cap * 2 : 64;
			struct tape_group_listing *g = arena_array(mem, (size_t)ncap, sizeof(*g));
			if (!g)
				return -ENOMEM;
			if (l->count)
				memcpy(g, l->groups, sizeof(*g) * (size_t)l->count);
			l->groups = g;
			*cap = ncap;
		}
		struct tape_group_listing *g = &l->groups[l->count++];
		g->group_id = kstr_dup(mem, resp->groups[i].group_id);
		g->protocol_type = kstr_dup(mem, resp->groups[i].protocol_type);
		if (!g->group_id || !g->protocol_type)
			return -ENOMEM;
	}
	return 0;
}

int tape_admin_list_groups(struct tape_client *cl, int32_t timeout_ms, struct tape_group_list **out,
                           struct tape_error *err)
{
	*out = NULL;
	int64_t deadline_ms = begin(cl, timeout_ms, err);
	struct answer ans;
	struct metadata_response md;
	int rc = admin_metadata(cl, "", deadline_ms, &ans, &md, err);
	if (rc < 0)
		return rc;
	int32_t nodes_count = md.brokers_count;
	int32_t *nodes = calloc((size_t)(nodes_count > 0 ? nodes_count : 1), sizeof(*nodes));
	for (int32_t i = 0; nodes && i < nodes_count; i++)
		nodes[i] = md.brokers[i].node_id;
	answer_free(&ans);
	struct arena *mem = mem_new(CLIENT_RESPONSE_BYTES_MAX);
	struct tape_group_list *l = mem ? arena_alloc(mem, sizeof(*l)) : NULL;
	if (!nodes || !l) {
		free(nodes);
		mem_free(mem);
		return tape_error_set(err, -ENOMEM, "out of memory");
	}
	l->mem = mem;
	int32_t cap = 0;
	struct list_groups_request r = { 0 };
	struct areq q = { API_LIST_GROUPS, 0, LIST_GROUPS_VERSION_MAX, "ListGroups",
		          enc_list_groups, &r };
	char k[64];
	for (int32_t i = 0; rc == 0 && i < nodes_count; i++) {
		rc = admin_call(cl, nodes[i], &q, deadline_ms, &ans, err);
		if (rc < 0)
			break;
		struct list_groups_response resp;
		struct cursor c;
		cursor_init(&c, ans.body, ans.len);
		if (list_groups_response_decode(&c, &ans.a, ans.version, &resp) < 0)
			rc = malformed(err, "ListGroups");
		else if (resp.error_code != KAFKA_NONE)
			rc = tape_error_kafka(err, resp.error_code,
			                      "broker %d cannot list its groups: %s", nodes[i],
			                      code_text(resp.error_code, k, sizeof(k)));
		else if (add_listed(mem, l, &cap, &resp) < 0)
			rc = tape_error_set(err, -ENOMEM, "out of memory");
		answer_free(&ans);
	}
	free(nodes);
	if (rc < 0) {
		mem_free(mem);
		return rc;
	}
	if (l->count)
		qsort(l->groups, (size_t)l->count, sizeof(*l->groups), cmp_listing);
	*out = l;
	return 0;
}

void tape_group_list_free(struct tape_group_list *l)
{
	if (l)
		mem_free(l->mem);
}

static void enc_describe_groups(struct buf *b, int16_t v, const void *r)
{
	describe_groups_request_encode(b, v, r);
}

static int16_t describe_code(struct answer *ans)
{
	struct describe_groups_response resp;
	struct cursor c;
	cursor_init(&c, ans->body, ans->len);
	arena_reset(&ans->a);
	if (describe_groups_response_decode(&c, &ans->a, ans->version, &resp) < 0 ||
	    resp.groups_count != 1)
		return -1;
	return resp.groups[0].error_code;
}

/* The member's assignment as the consumer protocol encodes it; nothing when it is empty or
 * not the consumer protocol's. */
static int decode_assignment(struct arena *mem, struct arena *scratch,
                             const struct describe_groups_described_group_member *in,
                             struct tape_group_member *m)
{
	struct consumer_protocol_assignment as;
	if (in->member_assignment.len <= 0 ||
	    consumer_protocol_assignment_decode(in->member_assignment, scratch, &as) < 0)
		return 0;
	int32_t n = 0;
	for (int32_t t = 0; t < as.assigned_partitions_count; t++)
		n += as.assigned_partitions[t].partitions_count;
	m->assignment = arena_array(mem, (size_t)(n > 0 ? n : 1), sizeof(*m->assignment));
	if (!m->assignment)
		return -ENOMEM;
	for (int32_t t = 0; t < as.assigned_partitions_count; t++) {
		const struct consumer_protocol_topic_partition *tp = &as.assigned_partitions[t];
		char *topic = kstr_dup(mem, tp->topic);
		if (!topic)
			return -ENOMEM;
		for (int32_t p = 0; p < tp->partitions_count; p++)
			m->assignment[m->assignment_count++] =
			    (struct tape_topic_partition){ topic, tp->partitions[p] };
	}
	return 0;
}

static int fill_group(struct arena *mem, struct arena *scratch,
                      const struct describe_groups_described_group *g,
                      struct tape_group_description *d)
{
	d->group_id = kstr_dup(mem, g->group_id);
	d->error_code = g->error_code;
	d->state = kstr_dup(mem, g->group_state);
	d->protocol_type = kstr_dup(mem, g->protocol_type);
	d->protocol = kstr_dup(mem, g->protocol_data);
	d->members_count = g->members_count;
	d->members = arena_array(mem, (size_t)(g->members_count > 0 ? g->members_count : 1),
	                         sizeof(*d->members));
	if (!d->group_id || !d->state || !d->protocol_type || !d->protocol || !d->members)
		return -ENOMEM;
	bool consumer = kstr_eq(g->protocol_type, "consumer");
	for (int32_t i = 0; i < g->members_count; i++) {
		const struct describe_groups_described_group_member *in = &g->members[i];
		struct tape_group_member *m = &d->members[i];
		m->member_id = kstr_dup(mem, in->member_id);
		m->group_instance_id = kstr_dup(mem, in->group_instance_id);
		m->client_id = kstr_dup(mem, in->client_id);
		m->client_host = kstr_dup(mem, in->client_host);
		if (!m->member_id || !m->client_id || !m->client_host)
			return -ENOMEM;
		if (consumer && decode_assignment(mem, scratch, in, m) < 0)
			return -ENOMEM;
	}
	return 0;
}

int tape_admin_describe_group(struct tape_client *cl, const char *group, int32_t timeout_ms,
                              struct tape_group_description **out, struct tape_error *err)
{
	*out = NULL;
	int64_t deadline_ms = begin(cl, timeout_ms, err);
	struct kstr g = kstr_from(group);
	struct describe_groups_request r = { 1, &g, false };
	struct areq q = { API_DESCRIBE_GROUPS, 0, DESCRIBE_GROUPS_VERSION_MAX, "DescribeGroups",
		          enc_describe_groups, &r };
	struct answer ans;
	int rc = group_call(cl, group, &q, describe_code, deadline_ms, &ans, err);
	if (rc < 0)
		return rc;
	struct describe_groups_response resp;
	struct cursor c;
	cursor_init(&c, ans.body, ans.len);
	arena_reset(&ans.a);
	describe_groups_response_decode(&c, &ans.a, ans.version, &resp); /* checked by code_of */
	const struct describe_groups_described_group *dg = &resp.groups[0];
	char k[64];
	if (dg->error_code != KAFKA_NONE) {
		int16_t code = dg->error_code;
		answer_free(&ans);
		if (code == KAFKA_GROUP_ID_NOT_FOUND)
			return tape_error_kafka(err, code, "group \"%s\" does not exist", group);
		return tape_error_kafka(err, code, "cannot describe group \"%s\": %s", group,
		                        code_text(code, k, sizeof(k)));
	}
	struct arena *mem = mem_new(ans.len * ANSWER_ARENA_FACTOR + ANSWER_ARENA_MIN);
	struct tape_group_description *d = mem ? arena_alloc(mem, sizeof(*d)) : NULL;
	rc = d ? 0 : -ENOMEM;
	if (d) {
		d->mem = mem;
		rc = fill_group(mem, &ans.a, dg, d);
	}
	answer_free(&ans);
	if (rc < 0) {
		mem_free(mem);
		return tape_error_set(err, -ENOMEM, "out of memory");
	}
	*out = d;
	return 0;
}

void tape_group_description_free(struct tape_group_description *d)
{
	if (d)
		mem_free(d->mem);
}

static void enc_offset_fetch(struct buf *b, int16_t v, const void *r)
{
	offset_fetch_request_encode(b, v, r);
}

static int16_t offset_fetch_code(struct answer *ans)
{
	struct offset_fetch_response resp;
	struct cursor c;
	cursor_init(&c, ans->body, ans->len);
	arena_reset(&ans->a);
	if (offset_fetch_response_decode(&c, &ans->a, ans->version, &resp) < 0)
		return -1;
	return resp.error_code;
}

static int cmp_committed(const void *a, const void *b)
{
	const struct tape_committed_offset *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);
	return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

int tape_admin_fetch_offsets(struct tape_client *cl, const char *group, const char *topic,
                             int32_t timeout_ms, struct tape_group_offsets **out,
                             struct tape_error *err)
{
	*out = NULL;
	int64_t deadline_ms = begin(cl, timeout_ms, err);
	/* Every topic (null, v2+), filtered here for one. */
	struct offset_fetch_request r = { kstr_from(group), -1, NULL };
	struct areq q = { API_OFFSET_FETCH, 2, OFFSET_FETCH_VERSION_MAX, "OffsetFetch",
		          enc_offset_fetch, &r };
	struct answer ans;
	int rc = group_call(cl, group, &q, offset_fetch_code, deadline_ms, &ans, err);
	if (rc < 0)
		return rc;
	struct offset_fetch_response resp;
	struct cursor c;
	cursor_init(&c, ans.body, ans.len);
	arena_reset(&ans.a);
	offset_fetch_response_decode(&c, &ans.a, ans.version, &resp); /* checked by code_of */
	char k[64];
	if (resp.error_code != KAFKA_NONE) {
		int16_t code = resp.error_code;
		answer_free(&ans);
		return tape_error_kafka(err, code, "cannot fetch the offsets of group \"%s\": %s",
		                        group, code_text(code, k, sizeof(k)));
	}
	int32_t n = 0;
	for (int32_t t = 0; t < resp.topics_count; t++)
		if (!topic || kstr_eq(resp.topics[t].name, topic))
			n += resp.topics[t].partitions_count;
	struct arena *mem = mem_new(ans.len * ANSWER_ARENA_FACTOR + ANSWER_ARENA_MIN);
	struct tape_group_offsets *o = mem ? arena_alloc(mem, sizeof(*o)) : NULL;
	if (o) {
		o->mem = mem;
		o->offsets = arena_array(mem, (size_t)(n > 0 ? n : 1), sizeof(*o->offsets));
	}
	rc = o && o->offsets ? 0 : -ENOMEM;
	for (int32_t t = 0; rc == 0 && t < resp.topics_count; t++) {
		const struct offset_fetch_response_topic *rt = &resp.topics[t];
		if (topic && !kstr_eq(rt->name, topic))
			continue;
		char *name = kstr_dup(mem, rt->name);
		rc = name ? 0 : -ENOMEM;
		for (int32_t p = 0; rc == 0 && p < rt->partitions_count; p++) {
			const struct offset_fetch_response_partition *rp = &rt->partitions[p];
			o->offsets[o->count++] = (struct tape_committed_offset){
				.topic = name,
				.partition = rp->partition_index,
				.offset = rp->committed_offset,
				.metadata = kstr_dup(mem, rp->metadata),
				.error_code = rp->error_code,
			};
		}
	}
	answer_free(&ans);
	if (rc < 0) {
		mem_free(mem);
		return tape_error_set(err, -ENOMEM, "out of memory");
	}
	if (o->count)
		qsort(o->offsets, (size_t)o->count, sizeof(*o->offsets), cmp_committed);
	*out = o;
	return 0;
}

void tape_group_offsets_free(struct tape_group_offsets *o)
{
	if (o)
		mem_free(o->mem);
}

static void enc_offset_commit(struct buf *b, int16_t v, const void *r)
{
	offset_commit_request_encode(b, v, r);
}

/* OffsetCommit has no group-level code: the first partition's stands for it. */
static int16_t offset_commit_code(struct answer *ans)
{
	struct offset_commit_response resp;
	struct cursor c;
	cursor_init(&c, ans->body, ans->len);
	arena_reset(&ans->a);
	if (offset_commit_response_decode(&c, &ans->a, ans->version, &resp) < 0)
		return -1;
	for (int32_t t = 0; t < resp.topics_count; t++)
		for (int32_t p = 0; p < resp.topics[t].partitions_count; p++)
			return resp.topics[t].partitions[p].error_code;
	return KAFKA_NONE;
}

/* The request's topics: offsets grouped by topic, in the order topics first appear. */
static int commit_topics(const struct tape_offset_commit *offsets, int32_t count,
                         struct offset_commit_request_topic *topics,
                         struct offset_commit_request_partition *parts, int32_t *topics_count)
{
	int32_t nt = 0, np = 0;
	for (int32_t i = 0; i < count; i++) {
		bool seen = false;
		for (int32_t k = 0; k < i && !seen; k++)
			seen = !strcmp(offsets[k].topic, offsets[i].topic);
		if (seen)
			continue;
		struct offset_commit_request_topic *t = &topics[nt++];
		*t = (struct offset_commit_request_topic){ kstr_from(offsets[i].topic), 0,
			                                   &parts[np] };
		for (int32_t k = i; k < count; k++)
			if (!strcmp(offsets[k].topic, offsets[i].topic)) {
				parts[np++] = (struct offset_commit_request_partition){
					.partition_index = offsets[k].partition,
					.committed_leader_epoch = -1,
					.committed_offset = offsets[k].offset,
					.committed_metadata = KSTR(""),
				};
				t->partitions_count++;
			}
	}
	*topics_count = nt;
	return 0;
}

static int commit_error(const char *group, int16_t code, struct tape_error *err)
{
	char k[64];
	switch (code) {
	case KAFKA_UNKNOWN_MEMBER_ID:
	case KAFKA_ILLEGAL_GENERATION:
	case KAFKA_REBALANCE_IN_PROGRESS:
		return tape_error_kafka(err, code,
		                        "group \"%s\" has active members: offsets can only be "
		                        "changed while it is empty (%s)",
		                        group, code_text(code, k, sizeof(k)));
	default:
		return tape_error_kafka(err, code, "cannot commit offsets of group \"%s\": %s",
		                        group, code_text(code, k, sizeof(k)));
	}
}

int tape_admin_commit_offsets(struct tape_client *cl, const char *group,
                              const struct tape_offset_commit *offsets, int32_t count,
                              int32_t timeout_ms, struct tape_error *err)
{
	int64_t deadline_ms = begin(cl, timeout_ms, err);
	if (count <= 0)
		return 0;
	struct offset_commit_request_topic *topics = calloc((size_t)count, sizeof(*topics));
	struct offset_commit_request_partition *parts = calloc((size_t)count, sizeof(*parts));
	if (!topics || !parts) {
		free(topics);
		free(parts);
		return tape_error_set(err, -ENOMEM, "out of memory");
	}
	struct offset_commit_request r = {
		.group_id = kstr_from(group),
		.generation_id_or_member_epoch = -1,
		.member_id = KSTR(""),
		.group_instance_id = KSTR_NULL,
		.retention_time_ms = -1,
		.topics = topics,
	};
	commit_topics(offsets, count, topics, parts, &r.topics_count);
	struct areq q = { API_OFFSET_COMMIT, OFFSET_COMMIT_VERSION_MIN, OFFSET_COMMIT_VERSION_MAX,
		          "OffsetCommit",    enc_offset_commit,         &r };
	struct answer ans;
	int rc = group_call(cl, group, &q, offset_commit_code, deadline_ms, &ans, err);
	free(topics);
	free(parts);
	if (rc < 0)
		return rc;
	struct offset_commit_response resp;
	struct cursor c;
	cursor_init(&c, ans.body, ans.len);
	arena_reset(&ans.a);
	offset_commit_response_decode(&c, &ans.a, ans.version, &resp); /* checked by code_of */
	for (int32_t t = 0; rc == 0 && t < resp.topics_count; t++)
		for (int32_t p = 0; rc == 0 && p < resp.topics[t].partitions_count; p++)
			if (resp.topics[t].partitions[p].error_code != KAFKA_NONE)
				rc = commit_error(group, resp.topics[t].partitions[p].error_code,
				                  err);
	answer_free(&ans);
	return rc;
}

static void enc_delete_groups(struct buf *b, int16_t v, const void *r)
{
	delete_groups_request_encode(b, v, r);
}

static int16_t delete_groups_code(struct answer *ans)
{
	struct delete_groups_response resp;
	struct cursor c;
	cursor_init(&c, ans->body, ans->len);
	arena_reset(&ans->a);
	if (delete_groups_response_decode(&c, &ans->a, ans->version, &resp) < 0 ||
	    resp.results_count != 1)
		return -1;
	return resp.results[0].error_code;
}

int tape_admin_delete_group(struct tape_client *cl, const char *group, int32_t timeout_ms,
                            struct tape_error *err)
{
	int64_t deadline_ms = begin(cl, timeout_ms, err);
	struct kstr g = kstr_from(group);
	struct delete_groups_request r = { 1, &g };
	struct areq q = { API_DELETE_GROUPS, 0, DELETE_GROUPS_VERSION_MAX, "DeleteGroups",
		          enc_delete_groups, &r };
	struct answer ans;
	int rc = group_call(cl, group, &q, delete_groups_code, deadline_ms, &ans, err);
	if (rc < 0)
		return rc;
	int16_t code = delete_groups_code(&ans);
	answer_free(&ans);
	char k[64];
	switch (code) {
	case KAFKA_NONE:
		return 0;
	case KAFKA_GROUP_ID_NOT_FOUND:
		return tape_error_kafka(err, code, "group \"%s\" does not exist", group);
	case KAFKA_NON_EMPTY_GROUP:
		return tape_error_kafka(err, code, "group \"%s\" has active members", group);
	default:
		return tape_error_kafka(err, code, "cannot delete group \"%s\": %s", group,
		                        code_text(code, k, sizeof(k)));
	}
}
