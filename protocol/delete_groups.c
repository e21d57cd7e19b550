/*
 * protocol/delete_groups.c: DeleteGroups bodies on the wire (layouts in delete_groups.h).
 * Pure: which groups can be deleted is consumer-groups/' business.
 */
#include "protocol/delete_groups.h"

#include "base/errors.h"

/* A string's length (2). */
#define STRING_MIN_BYTES 2
/* group_id (2) + error_code (2). */
#define RESULT_MIN_BYTES 4

static bool version_ok(int16_t version)
{
	return version >= DELETE_GROUPS_VERSION_MIN && version <= DELETE_GROUPS_VERSION_MAX;
}

int delete_groups_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                 struct delete_groups_request *out)
{
	*out = (struct delete_groups_request){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	int32_t n = kafka_get_array_len(c, false, false, STRING_MIN_BYTES);
	out->groups_names = kafka_alloc_array(c, a, n, sizeof(*out->groups_names));
	out->groups_names_count = n;
	for (int32_t i = 0; i < n && cursor_ok(c); i++)
		out->groups_names[i] = kafka_get_string(c, false, false);
	return kafka_decode_end(c);
}

void delete_groups_request_encode(struct buf *b, int16_t version,
                                  const struct delete_groups_request *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	kafka_put_array_len_nonnull(b, r->groups_names_count, false);
	for (int32_t i = 0; i < r->groups_names_count; i++)
		kafka_put_string_nonnull(b, r->groups_names[i], false);
}

void delete_groups_response_encode(struct buf *b, int16_t version,
                                   const struct delete_groups_response *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	buf_i32(b, r->throttle_time_ms);
	kafka_put_array_len_nonnull(b, r->results_count, false);
	for (int32_t i = 0; i < r->results_count; i++) {
		kafka_put_string_nonnull(b, r->results[i].group_id, false);
		buf_i16(b, r->results[i].error_code);
	}
}

int delete_groups_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                  struct delete_groups_response *out)
{
	*out = (struct delete_groups_response){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->throttle_time_ms = cursor_i32(c);
	int32_t n = kafka_get_array_len(c, false, false, RESULT_MIN_BYTES);
	out->results = kafka_alloc_array(c, a, n, sizeof(*out->results));
	out->results_count = n;
	for (int32_t i = 0; i < n && cursor_ok(c); i++) {
		out->results[i].group_id = kafka_get_string(c, false, false);
		out->results[i].error_code = cursor_i16(c);
	}
	return kafka_decode_end(c);
}
