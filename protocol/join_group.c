/*
 * protocol/join_group.c: JoinGroup bodies on the wire (layouts in join_group.h). Pure: the
 * protocol metadata passes through as bytes; membership and rebalances are consumer-groups/'.
 */
#include "protocol/join_group.h"

#include "base/errors.h"

/* name (2) + metadata (4). */
#define PROTOCOL_MIN_BYTES 6
/* member_id (2) + group_instance_id (2, v5+) + metadata (4). */
#define MEMBER_MIN_BYTES(version) ((version) >= 5 ? 8 : 6)

static bool version_ok(int16_t version)
{
	return version >= JOIN_GROUP_VERSION_MIN && version <= JOIN_GROUP_VERSION_MAX;
}

int join_group_request_decode(struct cursor *c, struct arena *a, int16_t version,
                              struct join_group_request *out)
{
	*out = (struct join_group_request){ .rebalance_timeout_ms = -1,
		                            .group_instance_id = KSTR_NULL };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->group_id = kafka_get_string(c, false, false);
	out->session_timeout_ms = cursor_i32(c);
	if (version >= 1)
		out->rebalance_timeout_ms = cursor_i32(c);
	out->member_id = kafka_get_string(c, false, false);
	if (version >= 5)
		out->group_instance_id = kafka_get_string(c, false, true);
	out->protocol_type = kafka_get_string(c, false, false);
	int32_t n = kafka_get_array_len(c, false, false, PROTOCOL_MIN_BYTES);
	out->protocols = kafka_alloc_array(c, a, n, sizeof(*out->protocols));
	out->protocols_count = n;
	for (int32_t i = 0; i < n && cursor_ok(c); i++) {
		out->protocols[i].name = kafka_get_string(c, false, false);
		out->protocols[i].metadata = kafka_get_bytes(c, false, false);
	}
	return kafka_decode_end(c);
}

void join_group_request_encode(struct buf *b, int16_t version, const struct join_group_request *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	kafka_put_string_nonnull(b, r->group_id, false);
	buf_i32(b, r->session_timeout_ms);
	if (version >= 1)
		buf_i32(b, r->rebalance_timeout_ms);
	kafka_put_string_nonnull(b, r->member_id, false);
	if (version >= 5)
		kafka_put_string(b, r->group_instance_id, false);
	kafka_put_string_nonnull(b, r->protocol_type, false);
	kafka_put_array_len_nonnull(b, r->protocols_count, false);
	for (int32_t i = 0; i < r->protocols_count; i++) {
		kafka_put_string_nonnull(b, r->protocols[i].name, false);
		kafka_put_bytes_nonnull(b, r->protocols[i].metadata, false);
	}
}

void join_group_response_encode(struct buf *b, int16_t version, const struct join_group_response *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	if (version >= 2)
		buf_i32(b, r->throttle_time_ms);
	buf_i16(b, r->error_code);
	buf_i32(b, r->generation_id);
	kafka_put_string_nonnull(b, r->protocol_name, false);
	kafka_put_string_nonnull(b, r->leader, false);
	kafka_put_string_nonnull(b, r->member_id, false);
	kafka_put_array_len_nonnull(b, r->members_count, false);
	for (int32_t i = 0; i < r->members_count; i++) {
		const struct join_group_response_member *m = &r->members[i];
		kafka_put_string_nonnull(b, m->member_id, false);
		if (version >= 5)
			kafka_put_string(b, m->group_instance_id, false);
		kafka_put_bytes_nonnull(b, m->metadata, false);
	}
}

int join_group_response_decode(struct cursor *c, struct arena *a, int16_t version,
                               struct join_group_response *out)
{
	*out = (struct join_group_response){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	if (version >= 2)
		out->throttle_time_ms = cursor_i32(c);
	out->error_code = cursor_i16(c);
	out->generation_id = cursor_i32(c);
	out->protocol_name = kafka_get_string(c, false, false);
	out->leader = kafka_get_string(c, false, false);
	out->member_id = kafka_get_string(c, false, false);
	int32_t n = kafka_get_array_len(c, false, false, MEMBER_MIN_BYTES(version));
	out->members = kafka_alloc_array(c, a, n, sizeof(*out->members));
	out->members_count = n;
	for (int32_t i = 0; i < n && cursor_ok(c); i++) {
		struct join_group_response_member *m = &out->members[i];
		m->member_id = kafka_get_string(c, false, false);
		m->group_instance_id = KSTR_NULL;
		if (version >= 5)
			m->group_instance_id = kafka_get_string(c, false, true);
		m->metadata = kafka_get_bytes(c, false, false);
	}
	return kafka_decode_end(c);
}
