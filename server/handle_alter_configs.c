/*
 * server/handle_alter_configs.c: AlterConfigs v0-1. For a topic (resource type 2) the configs
 * given replace every override the topic has (Kafka's legacy, non-incremental rule: a key not
 * listed, or listed with a null value, returns to the broker's value). Each key and value is
 * checked exactly as CreateTopics checks them (topic_config_from_wire); with validate_only
 * nothing changes. A change is written to the metadata checkpoint before it is answered, so a
 * restart keeps it, and the live partitions run with it at once (broker_alter_topic_config).
 * In a cluster the change goes to the topic's key in etcd and is answered once this broker's
 * view has it; every broker applies it from its view (server/replica.h).
 *
 * Brokers (type 4): every broker key comes from server.properties and none can change while
 * the broker runs, so a broker resource is answered INVALID_REQUEST, as Kafka answers a
 * config it cannot update dynamically. Other resource types: INVALID_REQUEST too.
 */
#include "server/handlers.h"

#include "protocol/alter_configs.h"
#include "protocol/errors.h"
#include "server/broker.h"
#include "server/replica.h"

#include <errno.h>

#include <string.h>

#define RESOURCE_TOPIC 2
#define RESOURCE_BROKER 4

static bool same_resource(const struct alter_configs_resource *a,
                          const struct alter_configs_resource *b)
{
	return a->resource_type == b->resource_type &&
	       a->resource_name.len == b->resource_name.len &&
	       memcmp(a->resource_name.p, b->resource_name.p, (size_t)a->resource_name.len) == 0;
}

struct alter_state {
	struct request *req;
	struct alter_configs_response resp;
	unsigned pending;
};

struct alter_one {
	struct alter_state *st;
	struct alter_configs_resource_response *out;
};

static void alter_answer(struct alter_state *st)
{
	alter_configs_response_encode(&st->req->resp, st->req->hdr.api_version, &st->resp);
	request_finish(st->req);
}

static void altered(void *arg, int err)
{
	struct alter_one *one = arg;
	if (err < 0) {
		one->out->error_code =
		    err == -ESTALE ? KAFKA_UNKNOWN_TOPIC_OR_PARTITION : KAFKA_UNKNOWN_SERVER_ERROR;
		one->out->error_message = KSTR("the cluster's metadata could not be updated");
	}
	if (--one->st->pending == 0)
		alter_answer(one->st);
}

static int16_t alter_topic(struct server *srv, struct request *req, struct alter_state *st,
                           struct alter_configs_resource_response *out,
                           const struct alter_configs_resource *in, bool validate_only,
                           struct kstr *message)
{
	struct topic *t = broker_topic(srv->broker, in->resource_name);
	if (!t || t->state != TOPIC_LIVE) {
		*message = KSTR("no such topic");
		return KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
	}
	struct topic_config tc;
	topic_config_init(&tc);
	int16_t code = KAFKA_NONE;
	for (int32_t k = 0; k < in->configs_count && code == KAFKA_NONE; k++) {
		const struct alter_configs_alterable_config *cf = &in->configs[k];
		if (kstr_is_null(cf->value))
			continue; /* null: back to the default, like a key not listed */
		code = topic_config_from_wire(req, &tc, cf->name, cf->value, message);
	}
	if (code == KAFKA_NONE && !validate_only && srv->replicas) {
		struct alter_one *one = arena_alloc(&req->arena, sizeof(*one));
		st->pending++;
		if (one)
			*one = (struct alter_one){ st, out };
		if (!one || replica_alter_topic_config(srv, t, &tc, altered, one) < 0) {
			st->pending--;
			*message = KSTR("the cluster's metadata could not be updated");
			code = KAFKA_UNKNOWN_SERVER_ERROR;
		}
	} else if (code == KAFKA_NONE && !validate_only &&
	           broker_alter_topic_config(srv->broker, t, &tc) < 0) {
		*message = KSTR("the topic configuration could not be written to disk");
		code = KAFKA_KAFKA_STORAGE_ERROR;
	}
	topic_config_free(&tc);
	return code;
}

void handle_alter_configs(struct server *srv, struct request *req)
{
	struct alter_configs_request r;
	if (alter_configs_request_decode(&req->body, &req->arena, req->hdr.api_version, &r) < 0) {
		request_fail(req, "malformed AlterConfigs");
		return;
	}
	struct alter_state *st = arena_alloc(&req->arena, sizeof(*st));
	if (!st) {
		request_fail(req, "out of memory");
		return;
	}
	*st = (struct alter_state){ .req = req, .pending = 1 };
	struct alter_configs_response *resp = &st->resp;
	resp->responses_count = r.resources_count;
	resp->responses =
	    arena_array(&req->arena, (size_t)r.resources_count, sizeof(*resp->responses));
	if (r.resources_count && !resp->responses) {
		request_fail(req, "out of memory");
		return;
	}
	for (int32_t i = 0; i < r.resources_count; i++) {
		const struct alter_configs_resource *in = &r.resources[i];
		struct alter_configs_resource_response *out = &resp->responses[i];
		*out = (struct alter_configs_resource_response){
			.error_code = KAFKA_NONE,
			.error_message = KSTR_NULL,
			.resource_type = in->resource_type,
			.resource_name = in->resource_name,
		};
		/* The same resource twice in one request: Kafka refuses the request's resources
		 * as invalid rather than pick one. */
		bool twice = false;
		for (int32_t k = 0; k < r.resources_count; k++)
			twice |= k != i && same_resource(&r.resources[k], in);
		if (twice) {
			out->error_code = KAFKA_INVALID_REQUEST;
			out->error_message = KSTR("the same resource is named twice");
		} else if (in->resource_type == RESOURCE_TOPIC) {
			out->error_code = alter_topic(srv, req, st, out, in, r.validate_only,
			                              &out->error_message);
		} else if (in->resource_type == RESOURCE_BROKER) {
			out->error_code = KAFKA_INVALID_REQUEST;
			out->error_message = KSTR("broker configs come from server.properties and "
			                          "cannot be updated dynamically");
		} else {
			out->error_code = KAFKA_INVALID_REQUEST;
			out->error_message = KSTR("only topic configs can be altered");
		}
	}
	if (--st->pending == 0)
		alter_answer(st);
}
