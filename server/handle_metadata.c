/*
 * server/handle_metadata.c: Metadata v0-7 (kafka-protocol.md §9). A single broker is every
 * partition's leader and the controller, with leader epochs -1. In a cluster the answer is the
 * cluster's view (server/replica.h): live brokers only, each partition's leader (-1 and
 * LEADER_NOT_AVAILABLE when it has none), leader epoch, replicas, ISR and the replicas that are
 * offline. Topics a client asks for that do not exist are created when
 * auto.create.topics.enable is on and the request allows it (v4+; always for v0-3), and the
 * answer waits until they serve, so the client sees them whole at once.
 */
#include "server/handlers.h"

#include "base/limits.h"
#include "protocol/errors.h"
#include "protocol/metadata.h"
#include "server/broker.h"
#include "server/replica.h"

#include <string.h>

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

/* In a cluster: one topic of the view. */
static void fill_cluster_topic(struct request *req, struct cluster *c,
                               const struct cluster_topic *ct, struct metadata_response_topic *out)
{
	out->name = kstr_from(ct->name);
	out->is_internal = ct->name[0] == '_' && ct->name[1] == '_';
	out->topic_authorized_operations = METADATA_AUTHORIZED_OPERATIONS_NONE;
	int32_t n = ct->partitions_count, rf = ct->replication_factor;
	if (req->arena.limit < (size_t)RESPONSE_BYTES_MAX / 26 * sizeof(*out->partitions))
		req->arena.limit +=
		    (size_t)n * (sizeof(*out->partitions) + 3 * sizeof(int32_t) * (size_t)rf) + 8;
	out->partitions = arena_array(&req->arena, (size_t)n, sizeof(*out->partitions));
	int32_t *ids = arena_array(&req->arena, (size_t)n * 3 * (size_t)rf, sizeof(int32_t));
	if (!out->partitions || !ids) {
		out->partitions_count = 0;
		return;
	}
	out->partitions_count = n;
	for (int32_t i = 0; i < n; i++) {
		const struct cluster_pstate *s = &ct->states[i];
		const int32_t *reps = &ct->replicas[(size_t)i * (size_t)rf];
		int32_t *r = ids + (size_t)i * 3 * (size_t)rf, *isr = r + rf, *off = isr + rf;
		int32_t offline = 0;
		memcpy(r, reps, sizeof(int32_t) * (size_t)rf);
		memcpy(isr, s->isr, sizeof(int32_t) * (size_t)s->isr_count);
		for (int32_t j = 0; j < rf; j++)
			if (!cluster_find_broker(c, reps[j]))
				off[offline++] = reps[j];
		bool led = s->leader >= 0 && cluster_find_broker(c, s->leader);
		out->partitions[i] = (struct metadata_response_partition){
			.error_code = led ? KAFKA_NONE : KAFKA_LEADER_NOT_AVAILABLE,
			.partition_index = i,
			.leader_id = led ? s->leader : -1,
			.leader_epoch = s->leader_epoch,
			.replica_nodes_count = rf,
			.replica_nodes = r,
			.isr_nodes_count = s->isr_count,
			.isr_nodes = isr,
			.offline_replicas_count = offline,
			.offline_replicas = off,
		};
	}
}

static void respond_cluster(struct metadata_state *st, struct cluster *c)
{
	struct server *srv = st->srv;
	struct request *req = st->req;
	int16_t version = req->hdr.api_version;
	size_t nb;
	const struct cluster_broker *bs = cluster_brokers(c, &nb);
	struct metadata_response resp = {
		.brokers_count = (int32_t)nb,
		.brokers = arena_array(&req->arena, nb ? nb : 1, sizeof(*resp.brokers)),
		.cluster_id = kstr_from(cluster_id(c) ? cluster_id(c) : srv->broker->cluster_id),
		.controller_id = cluster_controller_id(c),
		.cluster_authorized_operations = METADATA_AUTHORIZED_OPERATIONS_NONE,
	};
	if (!resp.brokers) {
		request_fail(req, "out of memory");
		return;
	}
	for (size_t i = 0; i < nb; i++)
		resp.brokers[i] = (struct metadata_response_broker){
			.node_id = bs[i].id,
			.host = kstr_from(bs[i].host),
			.port = bs[i].port,
			.rack = KSTR_NULL,
		};
	bool all = metadata_request_all_topics(version, &st->r);
	size_t n = 0;
	if (all)
		for (const struct cluster_topic *ct = cluster_topics(c); ct; ct = ct->next)
			n++;
	else
		n = (size_t)st->r.topics_count;
	resp.topics = arena_array(&req->arena, n ? n : 1, sizeof(*resp.topics));
	if (!resp.topics) {
		request_fail(req, "out of memory");
		return;
	}
	if (all) {
		for (const struct cluster_topic *ct = cluster_topics(c); ct; ct = ct->next)
			fill_cluster_topic(req, c, ct, &resp.topics[resp.topics_count++]);
	} else {
		for (int32_t i = 0; i < st->r.topics_count; i++) {
			struct kstr name = st->r.topics[i].name;
			struct metadata_response_topic *out = &resp.topics[resp.topics_count++];
			out->name = name;
			out->topic_authorized_operations = METADATA_AUTHORIZED_OPERATIONS_NONE;
			const struct cluster_topic *ct =
			    name.len > 0 ? cluster_find_topic(c, name.p, (size_t)name.len) : NULL;
			if (!broker_topic_name_valid(name))
				out->error_code = KAFKA_INVALID_TOPIC_EXCEPTION;
			else if (!ct)
				out->error_code = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
			else
				fill_cluster_topic(req, c, ct, out);
		}
	}
	metadata_response_encode(&req->resp, version, &resp);
	request_finish(req);
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
	struct cluster *c = replica_cluster(srv);
	if (c) {
		respond_cluster(st, c);
		return;
	}
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
			int rc = srv->replicas
			             ? replica_create_topic(srv, st->r.topics[i].name, -1, -1, NULL,
			                                    created, st, &msg)
			             : broker_create_topic(srv->broker, st->r.topics[i].name, -1,
			                                   -1, NULL, created, st, &msg);
			if (rc < 0)
				st->creating--; /* exists already, or a bad name answered below */
		}
	created(st, 0);
}
