/*
 * protocol/describe_configs.c: the DescribeConfigs codec (layouts in describe_configs.h).
 * Knows the wire format only; what the configs are is server/'s business.
 */
#include "protocol/describe_configs.h"

#include "base/errors.h"

/* The fewest bytes of each element (an array is its int32 count, a string its int16 length). */
#define RESOURCE_MIN_BYTES (1 + 2 + 4)
#define KEY_MIN_BYTES 2
#define RESULT_MIN_BYTES (2 + 2 + 1 + 2 + 4)
#define SYNONYM_MIN_BYTES (2 + 2 + 1)
/* name, value, read_only, is_default (v0) or config_source (v1+), is_sensitive, synonyms
 * (v1+). */
#define CONFIG_MIN_BYTES(version) (2 + 2 + 1 + 1 + 1 + ((version) >= 1 ? 4 : 0))

static bool version_ok(int16_t version)
{
	return version >= DESCRIBE_CONFIGS_VERSION_MIN && version <= DESCRIBE_CONFIGS_VERSION_MAX;
}

/* ---- request ----------------------------------------------------------------------------- */

static void get_resource(struct cursor *c, struct arena *a, struct describe_configs_resource *r)
{
	r->resource_type = cursor_i8(c);
	r->resource_name = kafka_get_string(c, false, false);
	r->configuration_keys_count = kafka_get_array_len(c, false, true, KEY_MIN_BYTES);
	r->configuration_keys =
	    kafka_alloc_array(c, a, r->configuration_keys_count, sizeof(*r->configuration_keys));
	for (int32_t i = 0; i < r->configuration_keys_count && cursor_ok(c); i++)
		r->configuration_keys[i] = kafka_get_string(c, false, false);
}

int describe_configs_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                    struct describe_configs_request *out)
{
	*out = (struct describe_configs_request){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->resources_count = kafka_get_array_len(c, false, false, RESOURCE_MIN_BYTES);
	out->resources = kafka_alloc_array(c, a, out->resources_count, sizeof(*out->resources));
	for (int32_t i = 0; i < out->resources_count && cursor_ok(c); i++)
		get_resource(c, a, &out->resources[i]);
	if (version >= 1)
		out->include_synonyms = kafka_get_bool(c);
	return kafka_decode_end(c);
}

void describe_configs_request_encode(struct buf *b, int16_t version,
                                     const struct describe_configs_request *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	kafka_put_array_len(b, r->resources_count, false);
	for (int32_t i = 0; i < r->resources_count; i++) {
		const struct describe_configs_resource *res = &r->resources[i];
		buf_u8(b, (uint8_t)res->resource_type);
		kafka_put_string(b, res->resource_name, false);
		kafka_put_array_len(b, res->configuration_keys_count, false);
		for (int32_t j = 0; j < res->configuration_keys_count; j++)
			kafka_put_string(b, res->configuration_keys[j], false);
	}
	if (version >= 1)
		kafka_put_bool(b, r->include_synonyms);
}

/* ---- response ---------------------------------------------------------------------------- */

static void put_config(struct buf *b, int16_t version,
                       const struct describe_configs_resource_result *cf)
{
	kafka_put_string(b, cf->name, false);
	kafka_put_string(b, cf->value, false);
	kafka_put_bool(b, cf->read_only);
	if (version == 0)
		kafka_put_bool(b, cf->is_default);
	else
		buf_u8(b, (uint8_t)cf->config_source);
	kafka_put_bool(b, cf->is_sensitive);
	if (version < 1)
		return;
	kafka_put_array_len(b, cf->synonyms_count, false);
	for (int32_t i = 0; i < cf->synonyms_count; i++) {
		kafka_put_string(b, cf->synonyms[i].name, false);
		kafka_put_string(b, cf->synonyms[i].value, false);
		buf_u8(b, (uint8_t)cf->synonyms[i].source);
	}
}

void describe_configs_response_encode(struct buf *b, int16_t version,
                                      const struct describe_configs_response *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	buf_i32(b, r->throttle_time_ms);
	kafka_put_array_len(b, r->results_count, false);
	for (int32_t i = 0; i < r->results_count; i++) {
		const struct describe_configs_result *res = &r->results[i];
		buf_i16(b, res->error_code);
		kafka_put_string(b, res->error_message, false);
		buf_u8(b, (uint8_t)res->resource_type);
		kafka_put_string(b, res->resource_name, false);
		kafka_put_array_len(b, res->configs_count, false);
		for (int32_t j = 0; j < res->configs_count; j++)
			put_config(b, version, &res->configs[j]);
	}
}

static void get_config(struct cursor *c, struct arena *a, int16_t version,
                       struct describe_configs_resource_result *cf)
{
	cf->name = kafka_get_string(c, false, false);
	cf->value = kafka_get_string(c, false, true);
	cf->read_only = kafka_get_bool(c);
	cf->is_default = version == 0 ? kafka_get_bool(c) : false;
	cf->config_source = version >= 1 ? cursor_i8(c) : -1;
	cf->is_sensitive = kafka_get_bool(c);
	if (version < 1)
		return;
	cf->synonyms_count = kafka_get_array_len(c, false, false, SYNONYM_MIN_BYTES);
	cf->synonyms = kafka_alloc_array(c, a, cf->synonyms_count, sizeof(*cf->synonyms));
	for (int32_t i = 0; i < cf->synonyms_count && cursor_ok(c); i++) {
		cf->synonyms[i].name = kafka_get_string(c, false, false);
		cf->synonyms[i].value = kafka_get_string(c, false, true);
		cf->synonyms[i].source = cursor_i8(c);
	}
}

static void get_result(struct cursor *c, struct arena *a, int16_t version,
                       struct describe_configs_result *res)
{
	res->error_code = cursor_i16(c);
	res->error_message = kafka_get_string(c, false, true);
	res->resource_type = cursor_i8(c);
	res->resource_name = kafka_get_string(c, false, false);
	res->configs_count = kafka_get_array_len(c, false, false, CONFIG_MIN_BYTES(version));
	res->configs = kafka_alloc_array(c, a, res->configs_count, sizeof(*res->configs));
	for (int32_t i = 0; i < res->configs_count && cursor_ok(c); i++)
		get_config(c, a, version, &res->configs[i]);
}

int describe_configs_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                     struct describe_configs_response *out)
{
	*out = (struct describe_configs_response){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->throttle_time_ms = cursor_i32(c);
	out->results_count = kafka_get_array_len(c, false, false, RESULT_MIN_BYTES);
	out->results = kafka_alloc_array(c, a, out->results_count, sizeof(*out->results));
	for (int32_t i = 0; i < out->results_count && cursor_ok(c); i++)
		get_result(c, a, version, &out->results[i]);
	return kafka_decode_end(c);
}
