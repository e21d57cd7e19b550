/*
 * server/handle_describe_configs.c: DescribeConfigs v0-2 for topics (type 2: every topic-level
 * key with its effective value and where it comes from) and this broker (type 4, named by its
 * node id or "": every broker key, read-only since they come from server.properties).
 */
#include "server/handlers.h"

#include "protocol/describe_configs.h"
#include "protocol/errors.h"
#include "server/broker.h"

#include <stdio.h>
#include <string.h>

#define RESOURCE_TOPIC 2
#define RESOURCE_BROKER 4
#define CONFIGS_MAX 64

struct collect {
	struct request *req;
	const struct describe_configs_resource *in;
	struct describe_configs_result *out;
	bool include_synonyms;
	bool read_only;
};

static bool wanted(const struct describe_configs_resource *in, const char *name)
{
	if (in->configuration_keys_count < 0)
		return true;
	for (int32_t i = 0; i < in->configuration_keys_count; i++)
		if (kstr_eq(in->configuration_keys[i], name))
			return true;
	return false;
}

static void add(void *arg, const char *name, const char *value, enum config_source source)
{
	struct collect *c = arg;
	if (!wanted(c->in, name) || c->out->configs_count >= CONFIGS_MAX)
		return;
	/* value lives only during this call (topic_config_describe formats derived values in a
	 * buffer of its own): the response keeps a copy in the request's arena. */
	char *copy = NULL;
	if (value) {
		copy = arena_alloc(&c->req->arena, strlen(value) + 1);
		if (!copy)
			return;
		strcpy(copy, value);
	}
	struct describe_configs_resource_result *r = &c->out->configs[c->out->configs_count++];
	*r = (struct describe_configs_resource_result){
		.name = kstr_from(name),
		.value = kstr_from(copy),
		.read_only = c->read_only,
		.is_default = source == CONFIG_SOURCE_DEFAULT,
		.config_source = (int8_t)source,
		.is_sensitive = false,
	};
	if (c->include_synonyms) {
		struct describe_configs_synonym *s = arena_alloc(&c->req->arena, sizeof(*s));
		if (s) {
			*s = (struct describe_configs_synonym){ r->name, r->value, (int8_t)source };
			r->synonyms = s;
			r->synonyms_count = 1;
		}
	}
}

void handle_describe_configs(struct server *srv, struct request *req)
{
	struct describe_configs_request r;
	if (describe_configs_request_decode(&req->body, &req->arena, req->hdr.api_version, &r) <
	    0) {
		request_fail(req, "malformed DescribeConfigs");
		return;
	}
	/* Each resource's answer (up to CONFIGS_MAX keys, their values and synonyms) is far
	 * larger than its request: the arena grows by that, bounded by the resource count. */
	req->arena.limit += (size_t)(r.resources_count > 0 ? r.resources_count : 0) *
	                    (CONFIGS_MAX * (sizeof(struct describe_configs_resource_result) +
	                                    sizeof(struct describe_configs_synonym) + 128));
	struct describe_configs_response resp = { .results_count = r.resources_count };
	resp.results = arena_array(&req->arena, (size_t)r.resources_count, sizeof(*resp.results));
	if (r.resources_count && !resp.results) {
		request_fail(req, "out of memory");
		return;
	}
	char node[16];
	snprintf(node, sizeof(node), "%lld", (long long)config_int(srv->cfg, CFG_NODE_ID));
	for (int32_t i = 0; i < r.resources_count; i++) {
		const struct describe_configs_resource *in = &r.resources[i];
		struct describe_configs_result *out = &resp.results[i];
		*out = (struct describe_configs_result){
			.resource_type = in->resource_type,
			.resource_name = in->resource_name,
			.error_message = KSTR_NULL,
		};
		out->configs = arena_array(&req->arena, CONFIGS_MAX, sizeof(*out->configs));
		if (!out->configs) {
			request_fail(req, "out of memory");
			return;
		}
		struct collect c = { req, in, out, r.include_synonyms, false };
		if (in->resource_type == RESOURCE_TOPIC) {
			struct topic *t = broker_topic(srv->broker, in->resource_name);
			if (!t || t->state != TOPIC_LIVE) {
				out->error_code = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
				out->error_message = KSTR("no such topic");
				continue;
			}
			topic_config_describe(srv->cfg, &t->cfg, add, &c);
		} else if (in->resource_type == RESOURCE_BROKER) {
			if (in->resource_name.len > 0 && !kstr_eq(in->resource_name, node)) {
				out->error_code = KAFKA_INVALID_REQUEST;
				out->error_message =
				    KSTR("ask that broker: this is another node id");
				continue;
			}
			c.read_only = true;
			config_describe(srv->cfg, add, &c);
		} else {
			out->error_code = KAFKA_INVALID_REQUEST;
			out->error_message = KSTR("only topic and broker resources are described");
		}
	}
	describe_configs_response_encode(&req->resp, req->hdr.api_version, &resp);
	request_finish(req);
}
