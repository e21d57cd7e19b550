/*
 * protocol/sync_group.c: SyncGroup bodies on the wire (layouts in sync_group.h). Pure: the
 * assignments pass through as bytes; the group state machine is consumer-groups/'.
 */
#include "protocol/sync_group.h"

#include "base/errors.h"

/* member_id (2) + assignment (4). */
#define ASSIGNMENT_MIN_BYTES 6

static bool version_ok(int16_t version)
{
	return version >= SYNC_GROUP_VERSION_MIN && version <= SYNC_GROUP_VERSION_MAX;
}

int sync_group_request_decode(struct cursor *c, struct arena *a, int16_t version,
                              struct sync_group_request *out)
{
	*out = (struct sync_group_request){ .group_instance_id = KSTR_NULL };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->group_id = kafka_get_string(c, false, false);
	out->generation_id = cursor_i32(c);
	out->member_id = kafka_get_string(c, false, false);
	if (version >= 3)
		out->group_instance_id = kafka_get_string(c, false, true);
	int32_t n = kafka_get_array_len(c, false, false, ASSIGNMENT_MIN_BYTES);
	out->assignments = kafka_alloc_array(c, a, n, sizeof(*out->assignments));
	out->assignments_count = n;
	for (int32_t i = 0; i < n && cursor_ok(c); i++) {
		struct sync_group_request_assignment *as = &out->assignments[i];
		as->member_id = kafka_get_string(c, false, false);
		as->assignment = kafka_get_bytes(c, false, false);
	}
	return kafka_decode_end(c);
}

void sync_group_request_encode(struct buf *b, int16_t version, const struct sync_group_request *r)
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
	kafka_put_array_len_nonnull(b, r->assignments_count, false);
	for (int32_t i = 0; i < r->assignments_count; i++) {
		kafka_put_string_nonnull(b, r->assignments[i].member_id, false);
		kafka_put_bytes_nonnull(b, r->assignments[i].assignment, false);
	}
}

void sync_group_response_encode(struct buf *b, int16_t version, const struct sync_group_response *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	if (version >= 1)
		buf_i32(b, r->throttle_time_ms);
	buf_i16(b, r->error_code);
	kafka_put_bytes_nonnull(b, r->assignment, false);
}

int sync_group_response_decode(struct cursor *c, struct arena *a, int16_t version,
                               struct sync_group_response *out)
{
	(void)a;
	*out = (struct sync_group_response){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	if (version >= 1)
		out->throttle_time_ms = cursor_i32(c);
	out->error_code = cursor_i16(c);
	out->assignment = kafka_get_bytes(c, false, false);
	return kafka_decode_end(c);
}
