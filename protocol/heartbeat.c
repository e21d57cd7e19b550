/*
 * protocol/heartbeat.c: Heartbeat bodies on the wire (layouts in heartbeat.h). Pure: it knows
 * the bytes, not the group they talk about (consumer-groups/ does).
 */
#include "protocol/heartbeat.h"

#include "base/errors.h"

static bool version_ok(int16_t version)
{
	return version >= HEARTBEAT_VERSION_MIN && version <= HEARTBEAT_VERSION_MAX;
}

int heartbeat_request_decode(struct cursor *c, struct arena *a, int16_t version,
                             struct heartbeat_request *out)
{
	(void)a;
	*out = (struct heartbeat_request){ .group_instance_id = KSTR_NULL };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->group_id = kafka_get_string(c, false, false);
	out->generation_id = cursor_i32(c);
	out->member_id = kafka_get_string(c, false, false);
	if (version >= 3)
		out->group_instance_id = kafka_get_string(c, false, true);
	return kafka_decode_end(c);
}

void heartbeat_request_encode(struct buf *b, int16_t version, const struct heartbeat_request *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	kafka_put_string_nonnull(b, r->group_id, false);
	buf_i32(b, r->generation_id);
	kafka_put_string_nonnull(b, r->member_id, false);
	if (version >= 3)
		kafka_put_string(b, r->group_instance_id, false);
}

void heartbeat_response_encode(struct buf *b, int16_t version, const struct heartbeat_response *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	if (version >= 1)
		buf_i32(b, r->throttle_time_ms);
	buf_i16(b, r->error_code);
}

int heartbeat_response_decode(struct cursor *c, struct arena *a, int16_t version,
                              struct heartbeat_response *out)
{
	(void)a;
	*out = (struct heartbeat_response){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	if (version >= 1)
		out->throttle_time_ms = cursor_i32(c);
	out->error_code = cursor_i16(c);
	return kafka_decode_end(c);
}
