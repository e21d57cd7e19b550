/*
 * protocol/list_offsets.c: the ListOffsets (2) codec, v0-3; layouts, defaults and lifetimes in
 * list_offsets.h. It owns the wire shape only: looking offsets up is the broker's.
 */
#include "protocol/list_offsets.h"

#include "base/errors.h"

/* The smallest encodings, for checking array counts against the bytes left. */
#define TOPIC_MIN_BYTES 6 /* name length + partitions count */

static bool version_ok(int16_t version)
{
	return version >= LIST_OFFSETS_VERSION_MIN && version <= LIST_OFFSETS_VERSION_MAX;
}

/* index, timestamp, [max_num_offsets] */
static size_t request_partition_min_bytes(int16_t version)
{
	return 4 + 8 + (version == 0 ? 4 : 0);
}

/* index, error, then v0: offsets count; v1+: timestamp, offset */
static size_t response_partition_min_bytes(int16_t version)
{
	return 4 + 2 + (version == 0 ? 4 : 8 + 8);
}

static void get_request_topic(struct cursor *c, struct arena *a, int16_t version,
                              struct list_offsets_request_topic *t)
{
	t->name = kafka_get_string(c, false, false);
	t->partitions_count =
	    kafka_get_array_len(c, false, false, request_partition_min_bytes(version));
	t->partitions = kafka_alloc_array(c, a, t->partitions_count, sizeof(*t->partitions));
	for (int32_t i = 0; i < t->partitions_count && cursor_ok(c); i++) {
		struct list_offsets_request_partition *p = &t->partitions[i];
		p->partition_index = cursor_i32(c);
		p->timestamp = cursor_i64(c);
		p->max_num_offsets = version == 0 ? cursor_i32(c) : 1;
	}
}

int list_offsets_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                struct list_offsets_request *out)
{
	*out = (struct list_offsets_request){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->replica_id = cursor_i32(c);
	out->isolation_level = version >= 2 ? cursor_i8(c) : 0;
	out->topics_count = kafka_get_array_len(c, false, false, TOPIC_MIN_BYTES);
	out->topics = kafka_alloc_array(c, a, out->topics_count, sizeof(*out->topics));
	for (int32_t i = 0; i < out->topics_count && cursor_ok(c); i++)
		get_request_topic(c, a, version, &out->topics[i]);
	return kafka_decode_end(c);
}

void list_offsets_request_encode(struct buf *b, int16_t version,
                                 const struct list_offsets_request *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	buf_i32(b, r->replica_id);
	if (version >= 2)
		buf_u8(b, (uint8_t)r->isolation_level);
	kafka_put_array_len(b, r->topics_count, false);
	for (int32_t i = 0; i < r->topics_count; i++) {
		const struct list_offsets_request_topic *t = &r->topics[i];
		kafka_put_string(b, t->name, false);
		kafka_put_array_len(b, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count; j++) {
			const struct list_offsets_request_partition *p = &t->partitions[j];
			buf_i32(b, p->partition_index);
			buf_i64(b, p->timestamp);
			if (version == 0)
				buf_i32(b, p->max_num_offsets);
		}
	}
}

static void put_response_partition(struct buf *b, int16_t version,
                                   const struct list_offsets_response_partition *p)
{
	buf_i32(b, p->partition_index);
	buf_i16(b, p->error_code);
	if (version == 0) {
		kafka_put_array_len(b, p->old_style_offsets_count, false);
		for (int32_t i = 0; i < p->old_style_offsets_count; i++)
			buf_i64(b, p->old_style_offsets[i]);
	} else {
		buf_i64(b, p->timestamp);
		buf_i64(b, p->offset);
	}
}

void list_offsets_response_encode(struct buf *b, int16_t version,
                                  const struct list_offsets_response *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	if (version >= 2)
		buf_i32(b, r->throttle_time_ms);
	kafka_put_array_len(b, r->topics_count, false);
	for (int32_t i = 0; i < r->topics_count; i++) {
		const struct list_offsets_response_topic *t = &r->topics[i];
		kafka_put_string(b, t->name, false);
		kafka_put_array_len(b, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count; j++)
			put_response_partition(b, version, &t->partitions[j]);
	}
}

static void get_response_partition(struct cursor *c, struct arena *a, int16_t version,
                                   struct list_offsets_response_partition *p)
{
	p->partition_index = cursor_i32(c);
	p->error_code = cursor_i16(c);
	p->timestamp = -1;
	p->offset = -1;
	if (version == 0) {
		p->old_style_offsets_count = kafka_get_array_len(c, false, false, 8);
		p->old_style_offsets = kafka_alloc_array(c, a, p->old_style_offsets_count,
		                                         sizeof(*p->old_style_offsets));
		for (int32_t i = 0; i < p->old_style_offsets_count && cursor_ok(c); i++)
			p->old_style_offsets[i] = cursor_i64(c);
	} else {
		p->timestamp = cursor_i64(c);
		p->offset = cursor_i64(c);
	}
}

static void get_response_topic(struct cursor *c, struct arena *a, int16_t version,
                               struct list_offsets_response_topic *t)
{
	t->name = kafka_get_string(c, false, false);
	t->partitions_count =
	    kafka_get_array_len(c, false, false, response_partition_min_bytes(version));
	t->partitions = kafka_alloc_array(c, a, t->partitions_count, sizeof(*t->partitions));
	for (int32_t i = 0; i < t->partitions_count && cursor_ok(c); i++)
		get_response_partition(c, a, version, &t->partitions[i]);
}

int list_offsets_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                 struct list_offsets_response *out)
{
	*out = (struct list_offsets_response){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->throttle_time_ms = version >= 2 ? cursor_i32(c) : 0;
	out->topics_count = kafka_get_array_len(c, false, false, TOPIC_MIN_BYTES);
	out->topics = kafka_alloc_array(c, a, out->topics_count, sizeof(*out->topics));
	for (int32_t i = 0; i < out->topics_count && cursor_ok(c); i++)
		get_response_topic(c, a, version, &out->topics[i]);
	return kafka_decode_end(c);
}
