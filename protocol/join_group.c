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

/* A null cannot be written where the schema has no null: the buffer turns bad instead of
 * carrying bytes the peer would refuse. */
static void put_string(struct buf *b, struct kstr s)
{
	if (s.len < 0)
		b->bad = true;
	else
		kafka_put_string(b, s, false);
}

static void put_bytes(struct buf *b, struct kbytes v)
{
	if (v.len < 0)
		b->bad = true;
	else
		kafka_put_bytes(b, v, false);
}

static void put_array_len(struct buf *b, int32_t n)
{
	if (n < 0)
		b->bad = true;
	else
		kafka_put_array_len(b, n, false);
}

/* Every read was in bounds and the body was consumed exactly. */
static int finish(const struct cursor *c)
{
	return cursor_ok(c) && cursor_left(c) == 0 ? 0 : -TAPE_EPROTO;
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
	return finish(c);
}

void join_group_request_encode(struct buf *b, int16_t version, const struct join_group_request *r)
{
	if (!version_ok(version)) {
		b->bad = true;
		return;
	}
	put_string(b, r->group_id);
	buf_i32(b, r->session_timeout_ms);
	if (version >= 1)
		buf_i32(b, r->rebalance_timeout_ms);
	put_string(b, r->member_id);
	if (version >= 5)
		kafka_put_string(b, r->group_instance_id, false);
	put_string(b, r->protocol_type);
	put_array_len(b, r->protocols_count);
	for (int32_t i = 0; i < r->protocols_count; i++) {
		put_string(b, r->protocols[i].name);
		put_bytes(b, r->protocols[i].metadata);
	}
}

void join_group_response_encode(struct buf *b, int16_t version, const struct join_group_response *r)
{
	if (!version_ok(version)) {
		b->bad = true;
		return;
	}
	if (version >= 2)
		buf_i32(b, r->throttle_time_ms);
	buf_i16(b, r->error_code);
	buf_i32(b, r->generation_id);
	put_string(b, r->protocol_name);
	put_string(b, r->leader);
	put_string(b, r->member_id);
	put_array_len(b, r->members_count);
	for (int32_t i = 0; i < r->members_count; i++) {
		const struct join_group_response_member *m = &r->members[i];
		put_string(b, m->member_id);
		if (version >= 5)
			kafka_put_string(b, m->group_instance_id, false);
		put_bytes(b, m->metadata);
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
	return finish(c);
}
