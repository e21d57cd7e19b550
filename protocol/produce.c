/*
 * protocol/produce.c: the Produce (0) codec, v3-7; layouts and lifetimes in produce.h. It owns
 * the wire shape of the request and response only: what records mean, and whether acks or a
 * partition make sense, is the broker's.
 */
#include "protocol/produce.h"

#include "base/errors.h"

/* The smallest encodings, for checking array counts against the bytes left. */
#define TOPIC_MIN_BYTES 6             /* name length + partitions count */
#define REQUEST_PARTITION_MIN_BYTES 8 /* index + records length */

static bool version_ok(int16_t version)
{
	return version >= PRODUCE_VERSION_MIN && version <= PRODUCE_VERSION_MAX;
}

static size_t response_partition_min_bytes(int16_t version)
{
	return 4 + 2 + 8 + 8 + (version >= 5 ? 8 : 0);
}

static void get_request_topic(struct cursor *c, struct arena *a, struct produce_request_topic *t)
{
	t->name = kafka_get_string(c, false, false);
	t->partition_data_count = kafka_get_array_len(c, false, false, REQUEST_PARTITION_MIN_BYTES);
	t->partition_data =
	    kafka_alloc_array(c, a, t->partition_data_count, sizeof(*t->partition_data));
	for (int32_t i = 0; i < t->partition_data_count && cursor_ok(c); i++) {
		struct produce_request_partition *p = &t->partition_data[i];
		p->index = cursor_i32(c);
		p->records = kafka_get_bytes(c, false, true);
	}
}

int produce_request_decode(struct cursor *c, struct arena *a, int16_t version,
                           struct produce_request *out)
{
	*out = (struct produce_request){ .transactional_id = KSTR_NULL };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->transactional_id = kafka_get_string(c, false, true);
	out->acks = cursor_i16(c);
	out->timeout_ms = cursor_i32(c);
	out->topic_data_count = kafka_get_array_len(c, false, false, TOPIC_MIN_BYTES);
	out->topic_data = kafka_alloc_array(c, a, out->topic_data_count, sizeof(*out->topic_data));
	for (int32_t i = 0; i < out->topic_data_count && cursor_ok(c); i++)
		get_request_topic(c, a, &out->topic_data[i]);
	return kafka_decode_end(c);
}

void produce_request_encode(struct buf *b, int16_t version, const struct produce_request *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	kafka_put_string(b, r->transactional_id, false);
	buf_i16(b, r->acks);
	buf_i32(b, r->timeout_ms);
	kafka_put_array_len(b, r->topic_data_count, false);
	for (int32_t i = 0; i < r->topic_data_count; i++) {
		const struct produce_request_topic *t = &r->topic_data[i];
		kafka_put_string(b, t->name, false);
		kafka_put_array_len(b, t->partition_data_count, false);
		for (int32_t j = 0; j < t->partition_data_count; j++) {
			buf_i32(b, t->partition_data[j].index);
			kafka_put_bytes(b, t->partition_data[j].records, false);
		}
	}
}

void produce_response_encode(struct buf *b, int16_t version, const struct produce_response *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	kafka_put_array_len(b, r->responses_count, false);
	for (int32_t i = 0; i < r->responses_count; i++) {
		const struct produce_response_topic *t = &r->responses[i];
		kafka_put_string(b, t->name, false);
		kafka_put_array_len(b, t->partition_responses_count, false);
		for (int32_t j = 0; j < t->partition_responses_count; j++) {
			const struct produce_response_partition *p = &t->partition_responses[j];
			buf_i32(b, p->index);
			buf_i16(b, p->error_code);
			buf_i64(b, p->base_offset);
			buf_i64(b, p->log_append_time_ms);
			if (version >= 5)
				buf_i64(b, p->log_start_offset);
		}
	}
	buf_i32(b, r->throttle_time_ms);
}

static void get_response_topic(struct cursor *c, struct arena *a, int16_t version,
                               struct produce_response_topic *t)
{
	t->name = kafka_get_string(c, false, false);
	t->partition_responses_count =
	    kafka_get_array_len(c, false, false, response_partition_min_bytes(version));
	t->partition_responses =
	    kafka_alloc_array(c, a, t->partition_responses_count, sizeof(*t->partition_responses));
	for (int32_t i = 0; i < t->partition_responses_count && cursor_ok(c); i++) {
		struct produce_response_partition *p = &t->partition_responses[i];
		p->index = cursor_i32(c);
		p->error_code = cursor_i16(c);
		p->base_offset = cursor_i64(c);
		p->log_append_time_ms = cursor_i64(c);
		p->log_start_offset = version >= 5 ? cursor_i64(c) : -1;
	}
}

int produce_response_decode(struct cursor *c, struct arena *a, int16_t version,
                            struct produce_response *out)
{
	*out = (struct produce_response){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->responses_count = kafka_get_array_len(c, false, false, TOPIC_MIN_BYTES);
	out->responses = kafka_alloc_array(c, a, out->responses_count, sizeof(*out->responses));
	for (int32_t i = 0; i < out->responses_count && cursor_ok(c); i++)
		get_response_topic(c, a, version, &out->responses[i]);
	out->throttle_time_ms = cursor_i32(c);
	return kafka_decode_end(c);
}
