/*
 * protocol/api_versions.c: the ApiVersions codec (layouts in api_versions.h). Knows the wire
 * format only; which versions the broker advertises is server/'s business.
 */
#include "protocol/api_versions.h"

#include "base/errors.h"

#define FLEXIBLE_FROM 3

static bool version_ok(int16_t version)
{
	return version >= API_VERSIONS_VERSION_MIN && version <= API_VERSIONS_VERSION_MAX;
}

int api_versions_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                struct api_versions_request *out)
{
	(void)a;
	out->client_software_name = (struct kstr){ "", 0 };
	out->client_software_version = (struct kstr){ "", 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	if (version >= FLEXIBLE_FROM) {
		out->client_software_name = kafka_get_string(c, true, false);
		out->client_software_version = kafka_get_string(c, true, false);
		kafka_skip_tagged_fields(c);
	}
	return kafka_decode_end(c);
}

void api_versions_request_encode(struct buf *b, int16_t version,
                                 const struct api_versions_request *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	if (version >= FLEXIBLE_FROM) {
		kafka_put_string(b, r->client_software_name, true);
		kafka_put_string(b, r->client_software_version, true);
		kafka_put_empty_tagged_fields(b);
	}
}

static void put_keys(struct buf *b, const struct api_versions_response_key *keys, int32_t count,
                     bool flexible)
{
	kafka_put_array_len(b, count, flexible);
	for (int32_t i = 0; i < count; i++) {
		buf_i16(b, keys[i].api_key);
		buf_i16(b, keys[i].min_version);
		buf_i16(b, keys[i].max_version);
		if (flexible)
			kafka_put_empty_tagged_fields(b);
	}
}

void api_versions_response_encode(struct buf *b, int16_t version,
                                  const struct api_versions_response *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	bool flexible = version >= FLEXIBLE_FROM;
	buf_i16(b, r->error_code);
	put_keys(b, r->api_keys, r->api_keys_count, flexible);
	if (version >= 1)
		buf_i32(b, r->throttle_time_ms);
	if (flexible)
		kafka_put_empty_tagged_fields(b);
}

void api_versions_response_encode_unsupported(struct buf *b, int16_t error_code,
                                              const struct api_versions_response_key *keys,
                                              int32_t count)
{
	buf_i16(b, error_code);
	put_keys(b, keys, count, false);
}

int api_versions_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                 struct api_versions_response *out)
{
	*out = (struct api_versions_response){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	bool flexible = version >= FLEXIBLE_FROM;
	out->error_code = cursor_i16(c);
	/* An element: three int16, and an empty tag section when flexible. */
	out->api_keys_count = kafka_get_array_len(c, flexible, false, flexible ? 7 : 6);
	out->api_keys = kafka_alloc_array(c, a, out->api_keys_count, sizeof(*out->api_keys));
	for (int32_t i = 0; i < out->api_keys_count && cursor_ok(c); i++) {
		struct api_versions_response_key *k = &out->api_keys[i];
		k->api_key = cursor_i16(c);
		k->min_version = cursor_i16(c);
		k->max_version = cursor_i16(c);
		if (flexible)
			kafka_skip_tagged_fields(c);
	}
	if (version >= 1)
		out->throttle_time_ms = cursor_i32(c);
	if (flexible)
		kafka_skip_tagged_fields(c);
	return kafka_decode_end(c);
}
