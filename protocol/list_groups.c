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

/* A null cannot be written where the schema has no null: the buffer turns bad instead of
 * carrying bytes the peer would refuse. */
static void put_string(struct buf *b, struct kstr s)
{
	if (s.len < 0)
		b->bad = true;
	else
		kafka_put_string(b, s, false);
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

int list_groups_request_decode(struct cursor *c, struct arena *a, int16_t version,
                               struct list_groups_request *out)
{
	(void)a;
	*out = (struct list_groups_request){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	return finish(c);
}

void list_groups_request_encode(struct buf *b, int16_t version, const struct list_groups_request *r)
{
	(void)r;
	if (!version_ok(version))
		b->bad = true;
}

void list_groups_response_encode(struct buf *b, int16_t version,
                                 const struct list_groups_response *r)
{
	if (!version_ok(version)) {
		b->bad = true;
		return;
	}
	if (version >= 1)
		buf_i32(b, r->throttle_time_ms);
	buf_i16(b, r->error_code);
	put_array_len(b, r->groups_count);
	for (int32_t i = 0; i < r->groups_count; i++) {
		put_string(b, r->groups[i].group_id);
		put_string(b, r->groups[i].protocol_type);
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
	return finish(c);
}
