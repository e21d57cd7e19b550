/*
 * protocol/describe_groups.c: DescribeGroups bodies on the wire (layouts in
 * describe_groups.h). Pure: the groups' state is consumer-groups/'.
 */
#include "protocol/describe_groups.h"

#include "base/errors.h"

/* A string's length (2). */
#define STRING_MIN_BYTES 2
/* error_code (2) + four strings (8) + members count (4) + authorized_operations (4, v3+). */
#define GROUP_MIN_BYTES(version) ((version) >= 3 ? 18 : 14)
/* Three strings (6) + group_instance_id (2, v4+) + two bytes (8). */
#define MEMBER_MIN_BYTES(version) ((version) >= 4 ? 16 : 14)

static bool version_ok(int16_t version)
{
	return version >= DESCRIBE_GROUPS_VERSION_MIN && version <= DESCRIBE_GROUPS_VERSION_MAX;
}

int describe_groups_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                   struct describe_groups_request *out)
{
	*out = (struct describe_groups_request){ .include_authorized_operations = false };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	int32_t n = kafka_get_array_len(c, false, false, STRING_MIN_BYTES);
	out->groups = kafka_alloc_array(c, a, n, sizeof(*out->groups));
	out->groups_count = n;
	for (int32_t i = 0; i < n && cursor_ok(c); i++)
		out->groups[i] = kafka_get_string(c, false, false);
	if (version >= 3)
		out->include_authorized_operations = kafka_get_bool(c);
	return kafka_decode_end(c);
}

void describe_groups_request_encode(struct buf *b, int16_t version,
                                    const struct describe_groups_request *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	kafka_put_array_len_nonnull(b, r->groups_count, false);
	for (int32_t i = 0; i < r->groups_count; i++)
		kafka_put_string_nonnull(b, r->groups[i], false);
	if (version >= 3)
		kafka_put_bool(b, r->include_authorized_operations);
}

static void put_group(struct buf *b, int16_t version,
                      const struct describe_groups_described_group *g)
{
	buf_i16(b, g->error_code);
	kafka_put_string_nonnull(b, g->group_id, false);
	kafka_put_string_nonnull(b, g->group_state, false);
	kafka_put_string_nonnull(b, g->protocol_type, false);
	kafka_put_string_nonnull(b, g->protocol_data, false);
	kafka_put_array_len_nonnull(b, g->members_count, false);
	for (int32_t i = 0; i < g->members_count; i++) {
		const struct describe_groups_described_group_member *m = &g->members[i];
		kafka_put_string_nonnull(b, m->member_id, false);
		if (version >= 4)
			kafka_put_string(b, m->group_instance_id, false);
		kafka_put_string_nonnull(b, m->client_id, false);
		kafka_put_string_nonnull(b, m->client_host, false);
		kafka_put_bytes_nonnull(b, m->member_metadata, false);
		kafka_put_bytes_nonnull(b, m->member_assignment, false);
	}
	if (version >= 3)
		buf_i32(b, g->authorized_operations);
}

void describe_groups_response_encode(struct buf *b, int16_t version,
                                     const struct describe_groups_response *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	if (version >= 1)
		buf_i32(b, r->throttle_time_ms);
	kafka_put_array_len_nonnull(b, r->groups_count, false);
	for (int32_t i = 0; i < r->groups_count; i++)
		put_group(b, version, &r->groups[i]);
}

static void get_group(struct cursor *c, struct arena *a, int16_t version,
                      struct describe_groups_described_group *g)
{
	g->error_code = cursor_i16(c);
	g->group_id = kafka_get_string(c, false, false);
	g->group_state = kafka_get_string(c, false, false);
	g->protocol_type = kafka_get_string(c, false, false);
	g->protocol_data = kafka_get_string(c, false, false);
	int32_t n = kafka_get_array_len(c, false, false, MEMBER_MIN_BYTES(version));
	g->members = kafka_alloc_array(c, a, n, sizeof(*g->members));
	g->members_count = n;
	for (int32_t i = 0; i < n && cursor_ok(c); i++) {
		struct describe_groups_described_group_member *m = &g->members[i];
		m->member_id = kafka_get_string(c, false, false);
		m->group_instance_id = KSTR_NULL;
		if (version >= 4)
			m->group_instance_id = kafka_get_string(c, false, true);
		m->client_id = kafka_get_string(c, false, false);
		m->client_host = kafka_get_string(c, false, false);
		m->member_metadata = kafka_get_bytes(c, false, false);
		m->member_assignment = kafka_get_bytes(c, false, false);
	}
	g->authorized_operations = DESCRIBE_GROUPS_AUTHORIZED_OPERATIONS_NONE;
	if (version >= 3)
		g->authorized_operations = cursor_i32(c);
}

int describe_groups_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                    struct describe_groups_response *out)
{
	*out = (struct describe_groups_response){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	if (version >= 1)
		out->throttle_time_ms = cursor_i32(c);
	int32_t n = kafka_get_array_len(c, false, false, GROUP_MIN_BYTES(version));
	out->groups = kafka_alloc_array(c, a, n, sizeof(*out->groups));
	out->groups_count = n;
	for (int32_t i = 0; i < n && cursor_ok(c); i++)
		get_group(c, a, version, &out->groups[i]);
	return kafka_decode_end(c);
}
