/*
 * protocol/delete_topics.c: the DeleteTopics codec (layouts in delete_topics.h). Knows the wire
 * format only; deleting is server/'s business.
 */
#include "protocol/delete_topics.h"

#include "base/errors.h"

static bool version_ok(int16_t version)
{
	return version >= DELETE_TOPICS_VERSION_MIN && version <= DELETE_TOPICS_VERSION_MAX;
}

int delete_topics_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                 struct delete_topics_request *out)
{
	*out = (struct delete_topics_request){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	/* A name: at least its int16 length. */
	out->topic_names_count = kafka_get_array_len(c, false, false, 2);
	out->topic_names =
	    kafka_alloc_array(c, a, out->topic_names_count, sizeof(*out->topic_names));
	for (int32_t i = 0; i < out->topic_names_count && cursor_ok(c); i++)
		out->topic_names[i] = kafka_get_string(c, false, false);
	out->timeout_ms = cursor_i32(c);
	return kafka_decode_end(c);
}

void delete_topics_request_encode(struct buf *b, int16_t version,
                                  const struct delete_topics_request *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	kafka_put_array_len(b, r->topic_names_count, false);
	for (int32_t i = 0; i < r->topic_names_count; i++)
		kafka_put_string(b, r->topic_names[i], false);
	buf_i32(b, r->timeout_ms);
}

void delete_topics_response_encode(struct buf *b, int16_t version,
                                   const struct delete_topics_response *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	if (version >= 1)
		buf_i32(b, r->throttle_time_ms);
	kafka_put_array_len(b, r->responses_count, false);
	for (int32_t i = 0; i < r->responses_count; i++) {
		kafka_put_string(b, r->responses[i].name, false);
		buf_i16(b, r->responses[i].error_code);
	}
}

int delete_topics_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                  struct delete_topics_response *out)
{
	*out = (struct delete_topics_response){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	if (version >= 1)
		out->throttle_time_ms = cursor_i32(c);
	/* A result: a name's int16 length and error_code. */
	out->responses_count = kafka_get_array_len(c, false, false, 2 + 2);
	out->responses = kafka_alloc_array(c, a, out->responses_count, sizeof(*out->responses));
	for (int32_t i = 0; i < out->responses_count && cursor_ok(c); i++) {
		out->responses[i].name = kafka_get_string(c, false, false);
		out->responses[i].error_code = cursor_i16(c);
	}
	return kafka_decode_end(c);
}
