/*
 * protocol/alter_configs.c: the AlterConfigs codec (layouts in alter_configs.h).
 * Knows the wire format only; what the configs mean is server/'s business.
 */
#include "protocol/alter_configs.h"

#include "base/errors.h"

/* The fewest bytes of each element (an array is its int32 count, a string its int16 length). */
#define RESOURCE_MIN_BYTES (1 + 2 + 4)
#define CONFIG_MIN_BYTES (2 + 2)
#define RESPONSE_MIN_BYTES (2 + 2 + 1 + 2)

static bool version_ok(int16_t version)
{
	return version >= ALTER_CONFIGS_VERSION_MIN && version <= ALTER_CONFIGS_VERSION_MAX;
}

/* ---- request ----------------------------------------------------------------------------- */

static void get_resource(struct cursor *c, struct arena *a, struct alter_configs_resource *r)
{
	r->resource_type = cursor_i8(c);
	r->resource_name = kafka_get_string(c, false, false);
	r->configs_count = kafka_get_array_len(c, false, false, CONFIG_MIN_BYTES);
	r->configs = kafka_alloc_array(c, a, r->configs_count, sizeof(*r->configs));
	for (int32_t i = 0; i < r->configs_count && cursor_ok(c); i++) {
		r->configs[i].name = kafka_get_string(c, false, false);
		r->configs[i].value = kafka_get_string(c, false, true);
	}
}

int alter_configs_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                 struct alter_configs_request *out)
{
	*out = (struct alter_configs_request){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->resources_count = kafka_get_array_len(c, false, false, RESOURCE_MIN_BYTES);
	out->resources = kafka_alloc_array(c, a, out->resources_count, sizeof(*out->resources));
	for (int32_t i = 0; i < out->resources_count && cursor_ok(c); i++)
		get_resource(c, a, &out->resources[i]);
	out->validate_only = kafka_get_bool(c);
	return kafka_decode_end(c);
}

void alter_configs_request_encode(struct buf *b, int16_t version,
                                  const struct alter_configs_request *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	kafka_put_array_len_nonnull(b, r->resources_count, false);
	for (int32_t i = 0; i < r->resources_count; i++) {
		const struct alter_configs_resource *res = &r->resources[i];
		buf_u8(b, (uint8_t)res->resource_type);
		kafka_put_string_nonnull(b, res->resource_name, false);
		kafka_put_array_len_nonnull(b, res->configs_count, false);
		for (int32_t j = 0; j < res->configs_count; j++) {
			kafka_put_string_nonnull(b, res->configs[j].name, false);
			kafka_put_string(b, res->configs[j].value, false);
		}
	}
	kafka_put_bool(b, r->validate_only);
}

/* ---- response ---------------------------------------------------------------------------- */

void alter_configs_response_encode(struct buf *b, int16_t version,
                                   const struct alter_configs_response *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	buf_i32(b, r->throttle_time_ms);
	kafka_put_array_len_nonnull(b, r->responses_count, false);
	for (int32_t i = 0; i < r->responses_count; i++) {
		const struct alter_configs_resource_response *res = &r->responses[i];
		buf_i16(b, res->error_code);
		kafka_put_string(b, res->error_message, false);
		buf_u8(b, (uint8_t)res->resource_type);
		kafka_put_string_nonnull(b, res->resource_name, false);
	}
}

int alter_configs_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                  struct alter_configs_response *out)
{
	*out = (struct alter_configs_response){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->throttle_time_ms = cursor_i32(c);
	out->responses_count = kafka_get_array_len(c, false, false, RESPONSE_MIN_BYTES);
	out->responses = kafka_alloc_array(c, a, out->responses_count, sizeof(*out->responses));
	for (int32_t i = 0; i < out->responses_count && cursor_ok(c); i++) {
		struct alter_configs_resource_response *res = &out->responses[i];
		res->error_code = cursor_i16(c);
		res->error_message = kafka_get_string(c, false, true);
		res->resource_type = cursor_i8(c);
		res->resource_name = kafka_get_string(c, false, false);
	}
	return kafka_decode_end(c);
}
