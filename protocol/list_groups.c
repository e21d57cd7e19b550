/*
 * protocol/list_groups.c: ListGroups bodies on the wire (layouts in list_groups.h). Pure: the
 * list of groups is consumer-groups/'.
 */
#include "protocol/list_groups.h"

#include "base/errors.h"

/* group_id (2) + protocol_type (2). */
#define GROUP_MIN_BYTES 4

static bool version_ok(int16_t version)
{
	return version >= LIST_GROUPS_VERSION_MIN && version <= LIST_GROUPS_VERSION_MAX;
}

int list_groups_request_decode(struct cursor *c, struct arena *a, int16_t version,
                               struct list_groups_request *out)
{
	(void)a;
	*out = (struct list_groups_request){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	return kafka_decode_end(c);
}

void list_groups_request_encode(struct buf *b, int16_t version, const struct list_groups_request *r)
{
	(void)r;
	if (!version_ok(version))
		buf_fail(b);
}

void list_groups_response_encode(struct buf *b, int16_t version,
                                 const struct list_groups_response *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	if (version >= 1)
		buf_i32(b, r->throttle_time_ms);
	buf_i16(b, r->error_code);
	kafka_put_array_len_nonnull(b, r->groups_count, false);
	for (int32_t i = 0; i < r->groups_count; i++) {
		kafka_put_string_nonnull(b, r->groups[i].group_id, false);
		kafka_put_string_nonnull(b, r->groups[i].protocol_type, false);
	}
}

int list_groups_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                struct list_groups_response *out)
{
	*out = (struct list_groups_response){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	if (version >= 1)
		out->throttle_time_ms = cursor_i32(c);
	out->error_code = cursor_i16(c);
	int32_t n = kafka_get_array_len(c, false, false, GROUP_MIN_BYTES);
	out->groups = kafka_alloc_array(c, a, n, sizeof(*out->groups));
	out->groups_count = n;
	for (int32_t i = 0; i < n && cursor_ok(c); i++) {
		out->groups[i].group_id = kafka_get_string(c, false, false);
		out->groups[i].protocol_type = kafka_get_string(c, false, false);
	}
	return kafka_decode_end(c);
}
