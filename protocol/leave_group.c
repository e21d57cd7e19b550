/*
 * protocol/leave_group.c: LeaveGroup bodies on the wire (layouts in leave_group.h). Pure: who
 * leaves and what follows is consumer-groups/'.
 */
#include "protocol/leave_group.h"

#include "base/errors.h"

/* member_id (2) + group_instance_id (2). */
#define MEMBER_IDENTITY_MIN_BYTES 4
/* member_id (2) + group_instance_id (2) + error_code (2). */
#define MEMBER_RESPONSE_MIN_BYTES 6

static bool version_ok(int16_t version)
{
	return version >= LEAVE_GROUP_VERSION_MIN && version <= LEAVE_GROUP_VERSION_MAX;
}

int leave_group_request_decode(struct cursor *c, struct arena *a, int16_t version,
                               struct leave_group_request *out)
{
	*out = (struct leave_group_request){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->group_id = kafka_get_string(c, false, false);
	if (version <= 2) {
		out->member_id = kafka_get_string(c, false, false);
		return kafka_decode_end(c);
	}
	int32_t n = kafka_get_array_len(c, false, false, MEMBER_IDENTITY_MIN_BYTES);
	out->members = kafka_alloc_array(c, a, n, sizeof(*out->members));
	out->members_count = n;
	for (int32_t i = 0; i < n && cursor_ok(c); i++) {
		out->members[i].member_id = kafka_get_string(c, false, false);
		out->members[i].group_instance_id = kafka_get_string(c, false, true);
	}
	return kafka_decode_end(c);
}

void leave_group_request_encode(struct buf *b, int16_t version, const struct leave_group_request *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	kafka_put_string_nonnull(b, r->group_id, false);
	if (version <= 2) {
		kafka_put_string_nonnull(b, r->member_id, false);
		return;
	}
	kafka_put_array_len_nonnull(b, r->members_count, false);
	for (int32_t i = 0; i < r->members_count; i++) {
		kafka_put_string_nonnull(b, r->members[i].member_id, false);
		kafka_put_string(b, r->members[i].group_instance_id, false);
	}
}

void leave_group_response_encode(struct buf *b, int16_t version,
                                 const struct leave_group_response *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	if (version >= 1)
		buf_i32(b, r->throttle_time_ms);
	buf_i16(b, r->error_code);
	if (version < 3)
		return;
	kafka_put_array_len_nonnull(b, r->members_count, false);
	for (int32_t i = 0; i < r->members_count; i++) {
		const struct leave_group_member_response *m = &r->members[i];
		kafka_put_string_nonnull(b, m->member_id, false);
		kafka_put_string(b, m->group_instance_id, false);
		buf_i16(b, m->error_code);
	}
}

int leave_group_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                struct leave_group_response *out)
{
	*out = (struct leave_group_response){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	if (version >= 1)
		out->throttle_time_ms = cursor_i32(c);
	out->error_code = cursor_i16(c);
	if (version < 3)
		return kafka_decode_end(c);
	int32_t n = kafka_get_array_len(c, false, false, MEMBER_RESPONSE_MIN_BYTES);
	out->members = kafka_alloc_array(c, a, n, sizeof(*out->members));
	out->members_count = n;
	for (int32_t i = 0; i < n && cursor_ok(c); i++) {
		struct leave_group_member_response *m = &out->members[i];
		m->member_id = kafka_get_string(c, false, false);
		m->group_instance_id = kafka_get_string(c, false, true);
		m->error_code = cursor_i16(c);
	}
	return kafka_decode_end(c);
}
