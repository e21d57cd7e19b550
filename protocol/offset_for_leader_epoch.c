/*
 * protocol/offset_for_leader_epoch.c: the OffsetForLeaderEpoch (23) codec, v0-3; layouts,
 * defaults and lifetimes in offset_for_leader_epoch.h. It owns the wire shape only: looking
 * epochs up is the log's (log/leader_epoch.c), answering is the broker's.
 */
#include "protocol/offset_for_leader_epoch.h"

#include "base/errors.h"

/* The smallest encodings, for checking array counts against the bytes left. */
#define TOPIC_MIN_BYTES 6 /* topic length + partitions count */

static bool version_ok(int16_t version)
{
	return version >= OFFSET_FOR_LEADER_EPOCH_VERSION_MIN &&
	       version <= OFFSET_FOR_LEADER_EPOCH_VERSION_MAX;
}

/* partition, [current_leader_epoch], leader_epoch */
static size_t request_partition_min_bytes(int16_t version)
{
	return 4 + (version >= 2 ? 4 : 0) + 4;
}

/* error_code, partition, [leader_epoch], end_offset */
static size_t response_partition_min_bytes(int16_t version)
{
	return 2 + 4 + (version >= 1 ? 4 : 0) + 8;
}

static void get_request_topic(struct cursor *c, struct arena *a, int16_t version,
                              struct offset_for_leader_epoch_request_topic *t)
{
	t->topic = kafka_get_string(c, false, false);
	t->partitions_count =
	    kafka_get_array_len(c, false, false, request_partition_min_bytes(version));
	t->partitions = kafka_alloc_array(c, a, t->partitions_count, sizeof(*t->partitions));
	for (int32_t i = 0; i < t->partitions_count && cursor_ok(c); i++) {
		struct offset_for_leader_epoch_request_partition *p = &t->partitions[i];
		p->partition = cursor_i32(c);
		p->current_leader_epoch = version >= 2 ? cursor_i32(c) : -1;
		p->leader_epoch = cursor_i32(c);
	}
}

int offset_for_leader_epoch_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                           struct offset_for_leader_epoch_request *out)
{
	*out = (struct offset_for_leader_epoch_request){ .replica_id = -2 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	if (version >= 3)
		out->replica_id = cursor_i32(c);
	out->topics_count = kafka_get_array_len(c, false, false, TOPIC_MIN_BYTES);
	out->topics = kafka_alloc_array(c, a, out->topics_count, sizeof(*out->topics));
	for (int32_t i = 0; i < out->topics_count && cursor_ok(c); i++)
		get_request_topic(c, a, version, &out->topics[i]);
	return kafka_decode_end(c);
}

void offset_for_leader_epoch_request_encode(struct buf *b, int16_t version,
                                            const struct offset_for_leader_epoch_request *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	if (version >= 3)
		buf_i32(b, r->replica_id);
	kafka_put_array_len_nonnull(b, r->topics_count, false);
	for (int32_t i = 0; i < r->topics_count; i++) {
		const struct offset_for_leader_epoch_request_topic *t = &r->topics[i];
		kafka_put_string_nonnull(b, t->topic, false);
		kafka_put_array_len_nonnull(b, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count; j++) {
			const struct offset_for_leader_epoch_request_partition *p =
			    &t->partitions[j];
			buf_i32(b, p->partition);
			if (version >= 2)
				buf_i32(b, p->current_leader_epoch);
			buf_i32(b, p->leader_epoch);
		}
	}
}

void offset_for_leader_epoch_response_encode(struct buf *b, int16_t version,
                                             const struct offset_for_leader_epoch_response *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	if (version >= 2)
		buf_i32(b, r->throttle_time_ms);
	kafka_put_array_len_nonnull(b, r->topics_count, false);
	for (int32_t i = 0; i < r->topics_count; i++) {
		const struct offset_for_leader_epoch_response_topic *t = &r->topics[i];
		kafka_put_string_nonnull(b, t->topic, false);
		kafka_put_array_len_nonnull(b, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count; j++) {
			const struct offset_for_leader_epoch_response_partition *p =
			    &t->partitions[j];
			buf_i16(b, p->error_code);
			buf_i32(b, p->partition);
			if (version >= 1)
				buf_i32(b, p->leader_epoch);
			buf_i64(b, p->end_offset);
		}
	}
}

static void get_response_topic(struct cursor *c, struct arena *a, int16_t version,
                               struct offset_for_leader_epoch_response_topic *t)
{
	t->topic = kafka_get_string(c, false, false);
	t->partitions_count =
	    kafka_get_array_len(c, false, false, response_partition_min_bytes(version));
	t->partitions = kafka_alloc_array(c, a, t->partitions_count, sizeof(*t->partitions));
	for (int32_t i = 0; i < t->partitions_count && cursor_ok(c); i++) {
		struct offset_for_leader_epoch_response_partition *p = &t->partitions[i];
		p->error_code = cursor_i16(c);
		p->partition = cursor_i32(c);
		p->leader_epoch = version >= 1 ? cursor_i32(c) : -1;
		p->end_offset = cursor_i64(c);
	}
}

int offset_for_leader_epoch_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                            struct offset_for_leader_epoch_response *out)
{
	*out = (struct offset_for_leader_epoch_response){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	if (version >= 2)
		out->throttle_time_ms = cursor_i32(c);
	out->topics_count = kafka_get_array_len(c, false, false, TOPIC_MIN_BYTES);
	out->topics = kafka_alloc_array(c, a, out->topics_count, sizeof(*out->topics));
	for (int32_t i = 0; i < out->topics_count && cursor_ok(c); i++)
		get_response_topic(c, a, version, &out->topics[i]);
	return kafka_decode_end(c);
}
