/*
 * protocol/offset_commit.c: OffsetCommit bodies on the wire (layouts in offset_commit.h).
 * Pure: where commits are stored (__consumer_offsets) is consumer-groups/' business.
 */
#include "protocol/offset_commit.h"

#include "base/errors.h"

/* name (2) + partitions count (4). */
#define TOPIC_MIN_BYTES 6
/* partition_index (4) + committed_offset (8) + committed_leader_epoch (4, v6+) + metadata (2). */
#define REQUEST_PARTITION_MIN_BYTES(version) ((version) >= 6 ? 18 : 14)
/* partition_index (4) + error_code (2). */
#define RESPONSE_PARTITION_MIN_BYTES 6

static bool version_ok(int16_t version)
{
	return version >= OFFSET_COMMIT_VERSION_MIN && version <= OFFSET_COMMIT_VERSION_MAX;
}

static void get_request_partitions(struct cursor *c, struct arena *a, int16_t version,
                                   struct offset_commit_request_topic *t)
{
	int32_t n = kafka_get_array_len(c, false, false, REQUEST_PARTITION_MIN_BYTES(version));
	t->partitions = kafka_alloc_array(c, a, n, sizeof(*t->partitions));
	t->partitions_count = n;
	for (int32_t i = 0; i < n && cursor_ok(c); i++) {
		struct offset_commit_request_partition *p = &t->partitions[i];
		p->partition_index = cursor_i32(c);
		p->committed_offset = cursor_i64(c);
		p->committed_leader_epoch = version >= 6 ? cursor_i32(c) : -1;
		p->committed_metadata = kafka_get_string(c, false, true);
	}
}

int offset_commit_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                 struct offset_commit_request *out)
{
	*out = (struct offset_commit_request){ .generation_id_or_member_epoch = -1,
		                               .group_instance_id = KSTR_NULL,
		                               .retention_time_ms = -1 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->group_id = kafka_get_string(c, false, false);
	out->generation_id_or_member_epoch = cursor_i32(c);
	out->member_id = kafka_get_string(c, false, false);
	if (version >= 7)
		out->group_instance_id = kafka_get_string(c, false, true);
	if (version <= 4)
		out->retention_time_ms = cursor_i64(c);
	int32_t n = kafka_get_array_len(c, false, false, TOPIC_MIN_BYTES);
	out->topics = kafka_alloc_array(c, a, n, sizeof(*out->topics));
	out->topics_count = n;
	for (int32_t i = 0; i < n && cursor_ok(c); i++) {
		out->topics[i].name = kafka_get_string(c, false, false);
		get_request_partitions(c, a, version, &out->topics[i]);
	}
	return kafka_decode_end(c);
}

void offset_commit_request_encode(struct buf *b, int16_t version,
                                  const struct offset_commit_request *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	kafka_put_string_nonnull(b, r->group_id, false);
	buf_i32(b, r->generation_id_or_member_epoch);
	kafka_put_string_nonnull(b, r->member_id, false);
	if (version >= 7)
		kafka_put_string(b, r->group_instance_id, false);
	if (version <= 4)
		buf_i64(b, r->retention_time_ms);
	kafka_put_array_len_nonnull(b, r->topics_count, false);
	for (int32_t i = 0; i < r->topics_count; i++) {
		const struct offset_commit_request_topic *t = &r->topics[i];
		kafka_put_string_nonnull(b, t->name, false);
		kafka_put_array_len_nonnull(b, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count; j++) {
			const struct offset_commit_request_partition *p = &t->partitions[j];
			buf_i32(b, p->partition_index);
			buf_i64(b, p->committed_offset);
			if (version >= 6)
				buf_i32(b, p->committed_leader_epoch);
			kafka_put_string(b, p->committed_metadata, false);
		}
	}
}

void offset_commit_response_encode(struct buf *b, int16_t version,
                                   const struct offset_commit_response *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	if (version >= 3)
		buf_i32(b, r->throttle_time_ms);
	kafka_put_array_len_nonnull(b, r->topics_count, false);
	for (int32_t i = 0; i < r->topics_count; i++) {
		const struct offset_commit_response_topic *t = &r->topics[i];
		kafka_put_string_nonnull(b, t->name, false);
		kafka_put_array_len_nonnull(b, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count; j++) {
			buf_i32(b, t->partitions[j].partition_index);
			buf_i16(b, t->partitions[j].error_code);
		}
	}
}

int offset_commit_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                  struct offset_commit_response *out)
{
	*out = (struct offset_commit_response){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	if (version >= 3)
		out->throttle_time_ms = cursor_i32(c);
	int32_t n = kafka_get_array_len(c, false, false, TOPIC_MIN_BYTES);
	out->topics = kafka_alloc_array(c, a, n, sizeof(*out->topics));
	out->topics_count = n;
	for (int32_t i = 0; i < n && cursor_ok(c); i++) {
		struct offset_commit_response_topic *t = &out->topics[i];
		t->name = kafka_get_string(c, false, false);
		int32_t m = kafka_get_array_len(c, false, false, RESPONSE_PARTITION_MIN_BYTES);
		t->partitions = kafka_alloc_array(c, a, m, sizeof(*t->partitions));
		t->partitions_count = m;
		for (int32_t j = 0; j < m && cursor_ok(c); j++) {
			t->partitions[j].partition_index = cursor_i32(c);
			t->partitions[j].error_code = cursor_i16(c);
		}
	}
	return kafka_decode_end(c);
}
