/*
 * protocol/alter_configs.h: AlterConfigs (key 33), versions 0-1. v2 is the first flexible
 * version. kafka-protocol.md lists neither AlterConfigs nor IncrementalAlterConfigs; kafkajs
 * 2.2.4's admin.alterConfigs sends AlterConfigs (v0-1) and librdkafka 2.0.2's
 * rd_kafka_AlterConfigs too (IncrementalAlterConfigs arrived in librdkafka 2.2), so tape
 * serves AlterConfigs only. The schema is not in reference/kafka-schemas/; the layout below
 * is Kafka 3.9's AlterConfigsRequest.json / AlterConfigsResponse.json.
 *
 * Request body (v0 and v1 are the same; v1 only throttles differently):
 *   resources[] AlterConfigsResource {resource_type int8, resource_name string,
 *     configs[] AlterableConfig {name string, value nullable string}},
 *   validate_only bool
 *
 * Response body (v0-1):
 *   throttle_time_ms int32,
 *   responses[] AlterConfigsResourceResponse {error_code int16, error_message nullable string,
 *     resource_type int8, resource_name string}
 *
 * The semantics are Kafka's legacy ones: the configs given replace every dynamic config of
 * the resource (a key not listed returns to its default). No field is version-dependent, so
 * there are no defaults to document.
 */
#ifndef TAPE_PROTOCOL_ALTER_CONFIGS_H
#define TAPE_PROTOCOL_ALTER_CONFIGS_H

#include "protocol/codec.h"

#define ALTER_CONFIGS_VERSION_MIN 0
#define ALTER_CONFIGS_VERSION_MAX 1

struct alter_configs_alterable_config {
	struct kstr name;  /* borrowed */
	struct kstr value; /* borrowed; nullable */
};

struct alter_configs_resource {
	int8_t resource_type;      /* 2 topic, 4 broker */
	struct kstr resource_name; /* borrowed */
	int32_t configs_count;
	struct alter_configs_alterable_config *configs; /* arena */
};

struct alter_configs_request {
	int32_t resources_count;
	struct alter_configs_resource *resources; /* arena */
	bool validate_only;
};

struct alter_configs_resource_response {
	int16_t error_code;
	struct kstr error_message; /* borrowed; nullable */
	int8_t resource_type;
	struct kstr resource_name; /* borrowed */
};

struct alter_configs_response {
	int32_t throttle_time_ms;
	int32_t responses_count;
	struct alter_configs_resource_response *responses; /* arena */
};

/* v0-1 */
int alter_configs_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                 struct alter_configs_request *out);
/* v0-1 */
void alter_configs_request_encode(struct buf *b, int16_t version,
                                  const struct alter_configs_request *r);
/* v0-1 */
void alter_configs_response_encode(struct buf *b, int16_t version,
                                   const struct alter_configs_response *r);
/* v0-1 */
int alter_configs_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                  struct alter_configs_response *out);

#endif
