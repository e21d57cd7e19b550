/*
 * protocol/consumer_protocol.c: the consumer protocol's subscription and assignment payloads
 * (layouts and the reading rules in consumer_protocol.h). Pure: what the leader assigns is
 * consumer-groups/assign.c's business.
 */
#include "protocol/consumer_protocol.h"

#include "base/errors.h"

/* A string's length (2). */
#define STRING_MIN_BYTES 2
/* topic (2) + partitions count (4). */
#define TOPIC_PARTITION_MIN_BYTES 6

/* Whether the field that would come next is there: false at a clean end of the payload (the
 * field keeps its default), true when bytes remain (a truncated field then fails the read). */
static bool more(const struct cursor *c)
{
	return cursor_ok(c) && cursor_left(c) > 0;
}

static struct consumer_protocol_topic_partition *
get_topic_partitions(struct cursor *c, struct arena *a, int32_t *count)
{
	int32_t n = kafka_get_array_len(c, false, false, TOPIC_PARTITION_MIN_BYTES);
	struct consumer_protocol_topic_partition *tps = kafka_alloc_array(c, a, n, sizeof(*tps));
	*count = n;
	for (int32_t i = 0; i < n && cursor_ok(c); i++) {
		tps[i].topic = kafka_get_string(c, false, false);
		tps[i].partitions =
		    kafka_get_int32_array(c, a, false, false, &tps[i].partitions_count);
	}
	return tps;
}

static void put_topic_partitions(struct buf *b, int32_t count,
                                 const struct consumer_protocol_topic_partition *tps)
{
	kafka_put_array_len_nonnull(b, count, false);
	for (int32_t i = 0; i < count; i++) {
		kafka_put_string_nonnull(b, tps[i].topic, false);
		kafka_put_int32_array_nonnull(b, tps[i].partitions, tps[i].partitions_count, false);
	}
}

int consumer_protocol_subscription_decode(struct kbytes payload, struct arena *a,
                                          struct consumer_protocol_subscription *out)
{
	*out = (struct consumer_protocol_subscription){ .user_data = { NULL, -1 },
		                                        .generation_id = -1,
		                                        .rack_id = KSTR_NULL };
	if (payload.len < 0)
		return -TAPE_EPROTO;
	struct cursor cur, *c = &cur;
	cursor_init(c, payload.p, (size_t)payload.len);
	out->version = cursor_i16(c);
	if (!cursor_ok(c) || out->version < 0)
		return -TAPE_EPROTO;
	int32_t n = kafka_get_array_len(c, false, false, STRING_MIN_BYTES);
	out->topics = kafka_alloc_array(c, a, n, sizeof(*out->topics));
	out->topics_count = n;
	for (int32_t i = 0; i < n && cursor_ok(c); i++)
		out->topics[i] = kafka_get_string(c, false, false);
	if (more(c))
		out->user_data = kafka_get_bytes(c, false, true);
	if (out->version >= 1 && more(c))
		out->owned_partitions = get_topic_partitions(c, a, &out->owned_partitions_count);
	if (out->version >= 2 && more(c))
		out->generation_id = cursor_i32(c);
	if (out->version >= 3 && more(c))
		out->rack_id = kafka_get_string(c, false, true);
	return cursor_ok(c) ? 0 : -TAPE_EPROTO;
}

void consumer_protocol_subscription_encode(struct buf *b, int16_t version,
                                           const struct consumer_protocol_subscription *s)
{
	if (version < 0 || version > CONSUMER_PROTOCOL_SUBSCRIPTION_VERSION_MAX) {
		buf_fail(b);
		return;
	}
	buf_i16(b, version);
	kafka_put_array_len_nonnull(b, s->topics_count, false);
	for (int32_t i = 0; i < s->topics_count; i++)
		kafka_put_string_nonnull(b, s->topics[i], false);
	kafka_put_bytes(b, s->user_data, false);
	if (version >= 1)
		put_topic_partitions(b, s->owned_partitions_count, s->owned_partitions);
	if (version >= 2)
		buf_i32(b, s->generation_id);
	if (version >= 3)
		kafka_put_string(b, s->rack_id, false);
}

int consumer_protocol_assignment_decode(struct kbytes payload, struct arena *a,
                                        struct consumer_protocol_assignment *out)
{
	*out = (struct consumer_protocol_assignment){ .user_data = { NULL, -1 } };
	if (payload.len < 0)
		return -TAPE_EPROTO;
	if (payload.len == 0)
		return 0;
	struct cursor cur, *c = &cur;
	cursor_init(c, payload.p, (size_t)payload.len);
	out->version = cursor_i16(c);
	if (!cursor_ok(c) || out->version < 0)
		return -TAPE_EPROTO;
	out->assigned_partitions = get_topic_partitions(c, a, &out->assigned_partitions_count);
	if (more(c))
		out->user_data = kafka_get_bytes(c, false, true);
	return cursor_ok(c) ? 0 : -TAPE_EPROTO;
}

void consumer_protocol_assignment_encode(struct buf *b, int16_t version,
                                         const struct consumer_protocol_assignment *s)
{
	if (version < 0 || version > CONSUMER_PROTOCOL_ASSIGNMENT_VERSION_MAX) {
		buf_fail(b);
		return;
	}
	buf_i16(b, version);
	put_topic_partitions(b, s->assigned_partitions_count, s->assigned_partitions);
	kafka_put_bytes(b, s->user_data, false);
}
