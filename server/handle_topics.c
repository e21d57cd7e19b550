/*
 * server/handle_topics.c: CreateTopics v0-4 and DeleteTopics v0-3. A single broker is its own
 * controller; in a cluster the topic is written to the cluster's metadata (server/replica.h)
 * and every replica creates its partitions from there. Creation answers once the new topics'
 * partitions serve (or at timeout_ms), so a client can produce right after; -1 partitions or
 * replication factor mean the broker's defaults, as kafkajs always sends.
 */
#include "server/handlers.h"

#include "base/assert.h"
#include "base/limits.h"
#include "protocol/create_topics.h"
#include "protocol/delete_topics.h"
#include "protocol/errors.h"
#include "server/broker.h"
#include "server/replica.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lives until both the answer went out and every creation called back (a creation that
 * outlasts timeout_ms still calls back after the request is gone): malloc'ed, not arena. */
struct create_state {
	struct request *req; /* NULL once answered */
	struct create_topics_response resp;
	unsigned pending;
	struct io_timer timer;
	bool timer_armed;
};

static void create_answer(struct create_state *st)
{
	if (!st->req)
		return;
	create_topics_response_encode(&st->req->resp, st->req->hdr.api_version, &st->resp);
	request_finish(st->req);
	st->req = NULL;
}

static void create_maybe_free(struct create_state *st)
{
	if (!st->req && !st->pending && !st->timer_armed)
		free(st);
}

static void topic_created(void *arg, int err)
{
	struct create_state *st = arg;
	(void)err;
	if (--st->pending == 0 && st->req) {
		if (st->timer_armed)
			reactor_timer_cancel(st->req->conn->srv->reactor, &st->timer);
		else
			create_answer(st);
	}
	create_maybe_free(st);
}

static void create_timeout(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct create_state *st = container_of(op, struct create_state, timer.op);
	st->timer_armed = false;
	if (st->req && st->pending) {
		/* Past timeout_ms: topics still being opened are answered as timed out. */
		for (int32_t i = 0; i < st->resp.topics_count; i++)
			if (st->resp.topics[i].error_code == KAFKA_NONE) {
				struct topic *t = broker_topic(st->req->conn->srv->broker,
				                               st->resp.topics[i].name);
				if (!t || t->state != TOPIC_LIVE)
					st->resp.topics[i].error_code = KAFKA_REQUEST_TIMED_OUT;
			}
	}
	create_answer(st);
	create_maybe_free(st);
}

int16_t topic_config_from_wire(struct request *req, struct topic_config *tc, struct kstr name,
                               struct kstr value, struct kstr *message)
{
	char key[128], val[1024], err[256];
	if (name.len < 0 || (size_t)name.len >= sizeof(key) || value.len < 0 ||
	    (size_t)value.len >= sizeof(val)) {
		*message = KSTR("a config name or value is null or too long");
		return KAFKA_INVALID_CONFIG;
	}
	memcpy(key, name.p, (size_t)name.len);
	key[name.len] = '\0';
	memcpy(val, value.p, (size_t)value.len);
	val[value.len] = '\0';
	if (topic_config_set(tc, key, val, err, sizeof(err)) < 0) {
		char *m = arena_alloc(&req->arena, strlen(err) + 1);
		if (m)
			strcpy(m, err);
		*message = kstr_from(m);
		return KAFKA_INVALID_CONFIG;
	}
	return KAFKA_NONE;
}

static int16_t config_error(struct create_state *st, struct create_topics_creatable_topic *t,
                            struct topic_config *tc, struct kstr *message)
{
	for (int32_t k = 0; k < t->configs_count; k++) {
		int16_t code = topic_config_from_wire(st->req, tc, t->configs[k].name,
		                                      t->configs[k].value, message);
		if (code != KAFKA_NONE)
			return code;
	}
	return KAFKA_NONE;
}

static int16_t create_one(struct server *srv, struct create_state *st, bool validate_only,
                          struct create_topics_creatable_topic *t, struct kstr *message)
{
	int32_t node = (int32_t)config_int(srv->cfg, CFG_NODE_ID);
	if (t->assignments_count > 0 && srv->replicas) {
		*message = KSTR("manual replica assignments are not supported in a cluster yet");
		return KAFKA_INVALID_REPLICA_ASSIGNMENT;
	}
	if (t->assignments_count > 0) {
		/* A manual assignment: every replica must be this broker. */
		if (t->num_partitions != -1 || t->replication_factor != -1) {
			*message = KSTR("both an assignment and partitions/replication given");
			return KAFKA_INVALID_REQUEST;
		}
		for (int32_t a = 0; a < t->assignments_count; a++)
			if (t->assignments[a].broker_ids_count != 1 ||
			    t->assignments[a].broker_ids[0] != node ||
			    t->assignments[a].partition_index != a) {
				*message =
				    KSTR("replicas can only be on this broker, partitions 0..n-1");
				return KAFKA_INVALID_REPLICA_ASSIGNMENT;
			}
		t->num_partitions = t->assignments_count;
		t->replication_factor = 1;
	}
	struct topic_config tc;
	topic_config_init(&tc);
	int16_t code = config_error(st, t, &tc, message);
	if (code != KAFKA_NONE) {
		topic_config_free(&tc);
		return code;
	}
	if (validate_only) {
		/* Everything but the creation itself. */
		code = broker_topic(srv->broker, t->name)  ? KAFKA_TOPIC_ALREADY_EXISTS
		       : !broker_topic_name_valid(t->name) ? KAFKA_INVALID_TOPIC_EXCEPTION
		                                           : KAFKA_NONE;
		topic_config_free(&tc);
		return code;
	}
	const char *msg = NULL;
	st->pending++;
	int rc = srv->replicas
	             ? replica_create_topic(srv, t->name, t->num_partitions, t->replication_factor,
	                                    &tc, topic_created, st, &msg)
	             : broker_create_topic(srv->broker, t->name, t->num_partitions,
	                                   t->replication_factor, &tc, topic_created, st, &msg);
	topic_config_free(&tc);
	if (rc == 0)
		return KAFKA_NONE;
	st->pending--;
	if (msg)
		*message = kstr_from(msg);
	switch (rc) {
	case -EEXIST:
		return KAFKA_TOPIC_ALREADY_EXISTS;
	case -EINVAL:
		return KAFKA_INVALID_TOPIC_EXCEPTION;
	case -ERANGE:
		return KAFKA_INVALID_PARTITIONS;
	case -EDOM:
		return KAFKA_INVALID_REPLICATION_FACTOR;
	default:
		return KAFKA_UNKNOWN_SERVER_ERROR;
	}
}

void handle_create_topics(struct server *srv, struct request *req)
{
	struct create_topics_request r;
	if (create_topics_request_decode(&req->body, &req->arena, req->hdr.api_version, &r) < 0) {
		request_fail(req, "malformed CreateTopics");
		return;
	}
	struct create_state *st = calloc(1, sizeof(*st));
	if (!st) {
		request_fail(req, "out of memory");
		return;
	}
	st->req = req;
	st->resp.topics_count = r.topics_count;
	st->resp.topics =
	    arena_array(&req->arena, (size_t)r.topics_count, sizeof(*st->resp.topics));
	if (r.topics_count && !st->resp.topics) {
		free(st);
		request_fail(req, "out of memory");
		return;
	}
	st->pending = 1;
	for (int32_t i = 0; i < r.topics_count; i++) {
		struct create_topics_creatable_topic_result *out = &st->resp.topics[i];
		out->name = r.topics[i].name;
		out->error_message = KSTR_NULL;
		/* The same name twice in one request: Kafka refuses both as invalid. */
		bool twice = false;
		for (int32_t k = 0; k < r.topics_count; k++)
			twice |= k != i && r.topics[k].name.len == r.topics[i].name.len &&
			         memcmp(r.topics[k].name.p, r.topics[i].name.p,
			                (size_t)r.topics[i].name.len) == 0;
		out->error_code =
		    twice ? KAFKA_INVALID_REQUEST
		          : create_one(srv, st, r.validate_only, &r.topics[i], &out->error_message);
	}
	if (--st->pending == 0) {
		create_answer(st);
		create_maybe_free(st);
		return;
	}
	int64_t wait = r.timeout_ms > 0 ? r.timeout_ms : 0;
	if (wait > REQUEST_WAIT_MS_MAX)
		wait = REQUEST_WAIT_MS_MAX;
	st->timer_armed = true;
	reactor_timer_start(srv->reactor, &st->timer, create_timeout, (uint64_t)wait * 1000000u);
}

void handle_delete_topics(struct server *srv, struct request *req)
{
	struct delete_topics_request r;
	if (delete_topics_request_decode(&req->body, &req->arena, req->hdr.api_version, &r) < 0) {
		request_fail(req, "malformed DeleteTopics");
		return;
	}
	struct delete_topics_response resp = { .responses_count = r.topic_names_count };
	resp.responses =
	    arena_array(&req->arena, (size_t)r.topic_names_count, sizeof(*resp.responses));
	if (r.topic_names_count && !resp.responses) {
		request_fail(req, "out of memory");
		return;
	}
	for (int32_t i = 0; i < r.topic_names_count; i++) {
		resp.responses[i].name = r.topic_names[i];
		int rc = srv->replicas ? replica_delete_topic(srv, r.topic_names[i])
		                       : broker_delete_topic(srv->broker, r.topic_names[i]);
		resp.responses[i].error_code =
		    rc == 0 ? KAFKA_NONE : KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
	}
	delete_topics_response_encode(&req->resp, req->hdr.api_version, &resp);
	request_finish(req);
}
