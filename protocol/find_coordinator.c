/*
 * protocol/find_coordinator.c: the FindCoordinator codec (layouts in find_coordinator.h). Knows
 * the wire format only; which broker coordinates a group is the server's business.
 */
#include "protocol/find_coordinator.h"

#include "base/errors.h"

static bool version_ok(int16_t version)
{
	return version >= FIND_COORDINATOR_VERSION_MIN && version <= FIND_COORDINATOR_VERSION_MAX;
}

static int finish(struct cursor *c)
{
	if (cursor_left(c) != 0)
		cursor_fail(c);
	return cursor_ok(c) ? 0 : -TAPE_EPROTO;
}

int find_coordinator_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                    struct find_coordinator_request *out)
{
	(void)a;
	*out = (struct find_coordinator_request){ .key = KSTR_NULL };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->key = kafka_get_string(c, false, false);
	if (version >= 1)
		out->key_type = cursor_i8(c);
	return finish(c);
}

void find_coordinator_request_encode(struct buf *b, int16_t version,
                                     const struct find_coordinator_request *r)
{
	if (!version_ok(version)) {
		b->bad = true;
		return;
	}
	kafka_put_string(b, r->key, false);
	if (version >= 1)
		buf_u8(b, (uint8_t)r->key_type);
}

void find_coordinator_response_encode(struct buf *b, int16_t version,
                                      const struct find_coordinator_response *r)
{
	if (!version_ok(version)) {
		b->bad = true;
		return;
	}
	if (version >= 1)
		buf_i32(b, r->throttle_time_ms);
	buf_i16(b, r->error_code);
	if (version >= 1)
		kafka_put_string(b, r->error_message, false);
	buf_i32(b, r->node_id);
	kafka_put_string(b, r->host, false);
	buf_i32(b, r->port);
}

int find_coordinator_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                     struct find_coordinator_response *out)
{
	(void)a;
	*out = (struct find_coordinator_response){ .error_message = KSTR_NULL };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	if (version >= 1)
		out->throttle_time_ms = cursor_i32(c);
	out->error_code = cursor_i16(c);
	if (version >= 1)
		out->error_message = kafka_get_string(c, false, true);
	out->node_id = cursor_i32(c);
	out->host = kafka_get_string(c, false, false);
	out->port = cursor_i32(c);
	return finish(c);
}
