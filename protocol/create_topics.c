/*
 * protocol/create_topics.c: the CreateTopics codec (layouts in create_topics.h). Knows the wire
 * format only: names, defaults and the controller check are server/'s business.
 */
#include "protocol/create_topics.h"

#include "base/errors.h"

/* The fewest bytes of each element (an array is its int32 count, a string its int16 length). */
#define TOPIC_MIN_BYTES (2 + 4 + 2 + 4 + 4)
#define ASSIGNMENT_MIN_BYTES (4 + 4)
#define CONFIG_MIN_BYTES (2 + 2)

static bool version_ok(int16_t version)
{
	return version >= CREATE_TOPICS_VERSION_MIN && version <= CREATE_TOPICS_VERSION_MAX;
}

/* ---- request ----------------------------------------------------------------------------- */

static void get_assignment(struct cursor *c, struct arena *a,
                           struct create_topics_creatable_replica_assignment *as)
{
	as->partition_index = cursor_i32(c);
	as->broker_ids = kafka_get_int32_array(c, a, false, false, &as->broker_ids_count);
}

static void get_topic(struct cursor *c, struct arena *a, struct create_topics_creatable_topic *t)
{
	t->name = kafka_get_string(c, false, false);
	t->num_partitions = cursor_i32(c);
	t->replication_factor = cursor_i16(c);
	t->assignments_count = kafka_get_array_len(c, false, false, ASSIGNMENT_MIN_BYTES);
	t->assignments = kafka_alloc_array(c, a, t->assignments_count, sizeof(*t->assignments));
	for (int32_t i = 0; i < t->assignments_count && cursor_ok(c); i++)
		get_assignment(c, a, &t->assignments[i]);
	t->configs_count = kafka_get_array_len(c, false, false, CONFIG_MIN_BYTES);
	t->configs = kafka_alloc_array(c, a, t->configs_count, sizeof(*t->configs));
	for (int32_t i = 0; i < t->configs_count && cursor_ok(c); i++) {
		t->configs[i].name = kafka_get_string(c, false, false);
		t->configs[i].value = kafka_get_string(c, false, true);
	}
}

int create_topics_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                 struct create_topics_request *out)
{
	*out = (struct create_topics_request){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->topics_count = kafka_get_array_len(c, false, false, TOPIC_MIN_BYTES);
	out->topics = kafka_alloc_array(c, a, out->topics_count, sizeof(*out->topics));
	for (int32_t i = 0; i < out->topics_count && cursor_ok(c); i++)
		get_topic(c, a, &out->topics[i]);
	out->timeout_ms = cursor_i32(c);
	if (version >= 1)
		out->validate_only = kafka_get_bool(c);
	return kafka_decode_end(c);
}

static void put_topic(struct buf *b, const struct create_topics_creatable_topic *t)
{
	kafka_put_string(b, t->name, false);
	buf_i32(b, t->num_partitions);
	buf_i16(b, t->replication_factor);
	kafka_put_array_len(b, t->assignments_count, false);
	for (int32_t i = 0; i < t->assignments_count; i++) {
		const struct create_topics_creatable_replica_assignment *as = &t->assignments[i];
		buf_i32(b, as->partition_index);
		kafka_put_int32_array(b, as->broker_ids, as->broker_ids_count, false);
	}
	kafka_put_array_len(b, t->configs_count, false);
	for (int32_t i = 0; i < t->configs_count; i++) {
		kafka_put_string(b, t->configs[i].name, false);
		kafka_put_string(b, t->configs[i].value, false);
	}
}

void create_topics_request_encode(struct buf *b, int16_t version,
                                  const struct create_topics_request *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	kafka_put_array_len(b, r->topics_count, false);
	for (int32_t i = 0; i < r->topics_count; i++)
		put_topic(b, &r->topics[i]);
	buf_i32(b, r->timeout_ms);
	if (version >= 1)
		kafka_put_bool(b, r->validate_only);
}

/* ---- response ---------------------------------------------------------------------------- */

void create_topics_response_encode(struct buf *b, int16_t version,
                                   const struct create_topics_response *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	if (version >= 2)
		buf_i32(b, r->throttle_time_ms);
	kafka_put_array_len(b, r->topics_count, false);
	for (int32_t i = 0; i < r->topics_count; i++) {
		const struct create_topics_creatable_topic_result *t = &r->topics[i];
		kafka_put_string(b, t->name, false);
		buf_i16(b, t->error_code);
		if (version >= 1)
			kafka_put_string(b, t->error_message, false);
	}
}

int create_topics_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                  struct create_topics_response *out)
{
	*out = (struct create_topics_response){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	if (version >= 2)
		out->throttle_time_ms = cursor_i32(c);
	/* A result: name and error_code, and error_message's length from v1. */
	out->topics_count = kafka_get_array_len(c, false, false, version >= 1 ? 6 : 4);
	out->topics = kafka_alloc_array(c, a, out->topics_count, sizeof(*out->topics));
	for (int32_t i = 0; i < out->topics_count && cursor_ok(c); i++) {
		struct create_topics_creatable_topic_result *t = &out->topics[i];
		t->name = kafka_get_string(c, false, false);
		t->error_code = cursor_i16(c);
		t->error_message =
		    version >= 1 ? kafka_get_string(c, false, true) : (struct kstr){ "", 0 };
	}
	return kafka_decode_end(c);
}
