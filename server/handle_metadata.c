/*
 * server/handle_metadata.c: Metadata v0-7 (kafka-protocol.md §9). One live broker (this one),
 * which is every partition's leader and the controller; leader epochs are -1 until
 * OffsetForLeaderEpoch is served. Topics a client asks for that do not exist are created when
 * auto.create.topics.enable is on and the request allows it (v4+; always for v0-3), and the
 * answer waits until they serve, so the client sees them whole at once.
 */
#include "server/handlers.h"

#include "base/limits.h"
#include "protocol/errors.h"
#include "protocol/metadata.h"
#include "server/broker.h"

struct metadata_state {
	struct server *srv;
	struct request *req;
	struct metadata_request r;
	unsigned creating;
};

static void fill_topic(struct request *req, struct server *srv, struct topic *t,
                       struct metadata_response_topic *out)
{
	int32_t node = (int32_t)config_int(srv->cfg, CFG_NODE_ID);
	out->name = kstr_from(t->name);
	out->is_internal = t->internal;
	out->topic_authorized_operations = METADATA_AUTHORIZED_OPERATIONS_NONE;
	out->partitions_count = t->partitions_count;
	/* The partitions come from the broker, not from the request, whose arena limit (a
	 * multiple of its few bytes) held only ~70 of them: past that a topic was answered with
	 * no partitions. The arena grows by each topic's; an answer cannot be larger than
	 * RESPONSE_BYTES_MAX (26 bytes or more per partition there), which bounds a request
	 * naming one large topic many times. */
	if (req->arena.limit < (size_t)RESPONSE_BYTES_MAX / 26 * sizeof(*out->partitions))
		req->arena.limit += (size_t)t->partitions_count * sizeof(*out->partitions) + 8;
	out->partitions =
	    arena_array(&req->arena, (size_t)t->partitions_count, sizeof(*out->partitions));
	int32_t *self = arena_alloc(&req->arena, sizeof(int32_t));
	if (!out->partitions || !self) {
		out->partitions_count = 0;
		return;
	}
	*self = node;
	for (int32_t i = 0; i < t->partitions_count; i++)
		out->partitions[i] = (struct metadata_response_partition){
			.partition_index = i,
			.leader_id = node,
			.leader_epoch = -1,
			.replica_nodes_count = 1,
			.replica_nodes = self,
			.isr_nodes_count = 1,
			.isr_nodes = self,
		};
}

struct all_topics {
	struct request *req;
	struct server *srv;
	struct metadata_response *resp;
};

static void add_topic(void *arg, struct topic *t)
{
	struct all_topics *a = arg;
	fill_topic(a->req, a->srv, t, &a->resp->topics[a->resp->topics_count++]);
}

static void respond(struct metadata_state *st)
{
	struct server *srv = st->srv;
	struct request *req = st->req;
	int16_t version = req->hdr.api_version;
	struct metadata_response_broker *self = arena_alloc(&req->arena, sizeof(*self));
	struct metadata_response resp = {
		.brokers_count = 1,
		.brokers = self,
		.cluster_id = kstr_from(srv->broker->cluster_id),
		.controller_id = (int32_t)config_int(srv->cfg, CFG_NODE_ID),
		.cluster_authorized_operations = METADATA_AUTHORIZED_OPERATIONS_NONE,
	};
	if (!self) {
		request_fail(req, "out of memory");
		return;
	}
	*self = (struct metadata_response_broker){
		.node_id = resp.controller_id,
		.host = kstr_from(srv->advertised_host),
		.port = srv->advertised_port,
		.rack = KSTR_NULL,
	};
	bool all = metadata_request_all_topics(version, &st->r);
	size_t n = all ? srv->broker->topics_count : (size_t)st->r.topics_count;
	resp.topics = arena_array(&req->arena, n, sizeof(*resp.topics));
	if (n && !resp.topics) {
		request_fail(req, "out of memory");
		return;
	}
	if (all) {
		struct all_topics a = { req, srv, &resp };
		broker_each_topic(srv->broker, add_topic, &a);
	} else {
		for (int32_t i = 0; i < st->r.topics_count; i++) {
			struct kstr name = st->r.topics[i].name;
			struct metadata_response_topic *out = &resp.topics[resp.topics_count++];
			out->name = name;
			out->topic_authorized_operations = METADATA_AUTHORIZED_OPERATIONS_NONE;
			struct topic *t = broker_topic(srv->broker, name);
			if (!broker_topic_name_valid(name))
				out->error_code = KAFKA_INVALID_TOPIC_EXCEPTION;
			else if (!t)
				out->error_code = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
			else if (t->state != TOPIC_LIVE)
				out->error_code = KAFKA_LEADER_NOT_AVAILABLE;
			else
				fill_topic(req, srv, t, out);
		}
	}
	metadata_response_encode(&req->resp, version, &resp);
	request_finish(req);
}

static void created(void *arg, int err)
{
	(void)err; /* a topic that failed to open shows up as unknown */
	struct metadata_state *st = arg;
	if (--st->creating == 0)
		respond(st);
}

void handle_metadata(struct server *srv, struct request *req)
{
	struct metadata_state *st = arena_alloc(&req->arena, sizeof(*st));
	if (!st ||
	    metadata_request_decode(&req->body, &req->arena, req->hdr.api_version, &st->r) < 0) {
		request_fail(req, "malformed Metadata");
		return;
	}
	st->srv = srv;
	st->req = req;
	bool may_create = config_bool(srv->cfg, CFG_AUTO_CREATE_TOPICS) &&
	                  (req->hdr.api_version < 4 || st->r.allow_auto_topic_creation);
	st->creating = 1; /* held until every creation has started */
	if (may_create && !metadata_request_all_topics(req->hdr.api_version, &st->r))
		for (int32_t i = 0; i < st->r.topics_count; i++) {
			const char *msg;
			st->creating++;
			int rc = broker_create_topic(srv->broker, st->r.topics[i].name, -1, -1,
			                             NULL, created, st, &msg);
			if (rc < 0)
				st->creating--; /* exists already, or a bad name answered below */
		}
	created(st, 0);
}
