/*
 * protocol/offset_fetch.c: OffsetFetch bodies on the wire (layouts in offset_fetch.h). Pure:
 * where committed offsets come from is consumer-groups/' business.
 */
#include "protocol/offset_fetch.h"

#include "base/errors.h"

/* name (2) + array count (4). */
#define TOPIC_MIN_BYTES 6
/* partition_index (4) + committed_offset (8) + committed_leader_epoch (4, v5+) + metadata (2)
 * + error_code (2). */
#define RESPONSE_PARTITION_MIN_BYTES(version) ((version) >= 5 ? 20 : 16)

static bool version_ok(int16_t version)
{
	return version >= OFFSET_FETCH_VERSION_MIN && version <= OFFSET_FETCH_VERSION_MAX;
}

int offset_fetch_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                struct offset_fetch_request *out)
{
	*out = (struct offset_fetch_request){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->group_id = kafka_get_string(c, false, false);
	int32_t n = kafka_get_array_len(c, false, version >= 2, TOPIC_MIN_BYTES);
	out->topics = kafka_alloc_array(c, a, n, sizeof(*out->topics));
	out->topics_count = n;
	for (int32_t i = 0; i < n && cursor_ok(c); i++) {
		struct offset_fetch_request_topic *t = &out->topics[i];
		t->name = kafka_get_string(c, false, false);
		t->partition_indexes =
		    kafka_get_int32_array(c, a, false, false, &t->partition_indexes_count);
	}
	return kafka_decode_end(c);
}

void offset_fetch_request_encode(struct buf *b, int16_t version,
                                 const struct offset_fetch_request *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	kafka_put_string_nonnull(b, r->group_id, false);
	if (version >= 2) /* null: all topics */
		kafka_put_array_len(b, r->topics_count, false);
	else
		kafka_put_array_len_nonnull(b, r->topics_count, false);
	for (int32_t i = 0; i < r->topics_count; i++) {
		const struct offset_fetch_request_topic *t = &r->topics[i];
		kafka_put_string_nonnull(b, t->name, false);
		kafka_put_int32_array_nonnull(b, t->partition_indexes, t->partition_indexes_count,
		                              false);
	}
}

void offset_fetch_response_encode(struct buf *b, int16_t version,
                                  const struct offset_fetch_response *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	if (version >= 3)
		buf_i32(b, r->throttle_time_ms);
	kafka_put_array_len_nonnull(b, r->topics_count, false);
	for (int32_t i = 0; i < r->topics_count; i++) {
		const struct offset_fetch_response_topic *t = &r->topics[i];
		kafka_put_string_nonnull(b, t->name, false);
		kafka_put_array_len_nonnull(b, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count; j++) {
			const struct offset_fetch_response_partition *p = &t->partitions[j];
			buf_i32(b, p->partition_index);
			buf_i64(b, p->committed_offset);
			if (version >= 5)
				buf_i32(b, p->committed_leader_epoch);
			kafka_put_string(b, p->metadata, false);
			buf_i16(b, p->error_code);
		}
	}
	if (version >= 2)
		buf_i16(b, r->error_code);
}

static void get_response_partitions(struct cursor *c, struct arena *a, int16_t version,
                                    struct offset_fetch_response_topic *t)
{
	int32_t n = kafka_get_array_len(c, false, false, RESPONSE_PARTITION_MIN_BYTES(version));
	t->partitions = kafka_alloc_array(c, a, n, sizeof(*t->partitions));
	t->partitions_count = n;
	for (int32_t i = 0; i < n && cursor_ok(c); i++) {
		struct offset_fetch_response_partition *p = &t->partitions[i];
		p->partition_index = cursor_i32(c);
		p->committed_offset = cursor_i64(c);
		p->committed_leader_epoch = version >= 5 ? cursor_i32(c) : -1;
		p->metadata = kafka_get_string(c, false, true);
		p->error_code = cursor_i16(c);
	}
}

int offset_fetch_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                 struct offset_fetch_response *out)
{
	*out = (struct offset_fetch_response){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	if (version >= 3)
		out->throttle_time_ms = cursor_i32(c);
	int32_t n = kafka_get_array_len(c, false, false, TOPIC_MIN_BYTES);
	out->topics = kafka_alloc_array(c, a, n, sizeof(*out->topics));
	out->topics_count = n;
	for (int32_t i = 0; i < n && cursor_ok(c); i++) {
		out->topics[i].name = kafka_get_string(c, false, false);
		get_response_partitions(c, a, version, &out->topics[i]);
	}
	if (version >= 2)
		out->error_code = cursor_i16(c);
	return kafka_decode_end(c);
}
