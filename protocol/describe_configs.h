/*
 * protocol/describe_configs.h: DescribeConfigs (key 32), versions 0-2. v4 is the first
 * flexible version; v3 adds include_documentation and each config's config_type and
 * documentation, which tape does not serve, so it stops at 2 (kafka-protocol.md §1: librdkafka
 * 2.0.2 uses up to 1, kafkajs 2.2.4 up to 2).
 *
 * Request body:
 *   v0     resources[] DescribeConfigsResource {resource_type int8, resource_name string,
 *            configuration_keys nullable string[] (null: every key)}
 *   v1-2   v0 + include_synonyms bool at the end
 *
 * Response body:
 *   v0     throttle_time_ms int32,
 *          results[] DescribeConfigsResult {error_code int16, error_message nullable string,
 *            resource_type int8, resource_name string,
 *            configs[] DescribeConfigsResourceResult {name string, value nullable string,
 *              read_only bool, is_default bool, is_sensitive bool}}
 *   v1-2   configs[]: is_default is gone; config_source int8 takes its place, and
 *          synonyms[] DescribeConfigsSynonym {name string, value nullable string, source int8}
 *          follows is_sensitive
 *   (v2 only answers before throttling a quota violation.)
 *
 * Fields absent from a version decode to the schema's defaults: include_synonyms false (v0),
 * is_default false (v1-2), config_source -1 (v0; the schema notes that the right v0 value
 * depends on the resource, e.g. 4 for a broker, and leaves that to the caller), synonyms
 * empty (count 0, v0).
 */
#ifndef TAPE_PROTOCOL_DESCRIBE_CONFIGS_H
#define TAPE_PROTOCOL_DESCRIBE_CONFIGS_H

#include "protocol/codec.h"

#define DESCRIBE_CONFIGS_VERSION_MIN 0
#define DESCRIBE_CONFIGS_VERSION_MAX 2

struct describe_configs_resource {
	int8_t resource_type;
	struct kstr resource_name;
	int32_t configuration_keys_count; /* -1: null, every key */
	struct kstr *configuration_keys;
};

struct describe_configs_request {
	int32_t resources_count;
	struct describe_configs_resource *resources;
	bool include_synonyms; /* v1+ */
};

struct describe_configs_synonym {
	struct kstr name;
	struct kstr value; /* nullable */
	int8_t source;
};

struct describe_configs_resource_result {
	struct kstr name;
	struct kstr value; /* nullable */
	bool read_only;
	bool is_default;      /* v0 only */
	int8_t config_source; /* v1+ */
	bool is_sensitive;
	int32_t synonyms_count; /* v1+ */
	struct describe_configs_synonym *synonyms;
};

struct describe_configs_result {
	int16_t error_code;
	struct kstr error_message; /* nullable */
	int8_t resource_type;
	struct kstr resource_name;
	int32_t configs_count;
	struct describe_configs_resource_result *configs;
};

struct describe_configs_response {
	int32_t throttle_time_ms;
	int32_t results_count;
	struct describe_configs_result *results;
};

/* v0-2. Returns 0 or -TAPE_EPROTO. Strings point into the cursor's buffer, arrays come from
 * the arena; both live as long as the frame and the arena. */
int describe_configs_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                    struct describe_configs_request *out);
/* v0-2; another version marks b bad. */
void describe_configs_request_encode(struct buf *b, int16_t version,
                                     const struct describe_configs_request *r);
/* v0-2; another version marks b bad. */
void describe_configs_response_encode(struct buf *b, int16_t version,
                                      const struct describe_configs_response *r);
/* v0-2. Returns 0 or -TAPE_EPROTO; lifetimes as for the request. */
int describe_configs_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                     struct describe_configs_response *out);

#endif
