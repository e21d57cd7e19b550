/*
 * protocol/delete_groups.h: DeleteGroups (API 42) bodies, versions 0-1 (v1 is v0 with the
 * throttle applied after the answer; v2+ are flexible and not implemented). An admin deletes
 * empty groups and their committed offsets. (The schema is not among reference/kafka-schemas;
 * it was read from Kafka's DeleteGroupsRequest.json / DeleteGroupsResponse.json.)
 *
 * Request
 *   groups_names       array of string
 *
 * Response
 *   throttle_time_ms   int32
 *   results            array of
 *     group_id         string
 *     error_code       int16
 *
 * Decoded strings are borrowed from the frame, arrays from the arena.
 */
#ifndef TAPE_PROTOCOL_DELETE_GROUPS_H
#define TAPE_PROTOCOL_DELETE_GROUPS_H

#include "protocol/codec.h"

#define DELETE_GROUPS_VERSION_MIN 0
#define DELETE_GROUPS_VERSION_MAX 1

struct delete_groups_request {
	int32_t groups_names_count;
	struct kstr *groups_names; /* arena; each borrowed */
};

/* The schema's DeletableGroupResult. */
struct delete_groups_deletable_group_result {
	struct kstr group_id; /* borrowed */
	int16_t error_code;
};

struct delete_groups_response {
	int32_t throttle_time_ms;
	int32_t results_count;
	struct delete_groups_deletable_group_result *results; /* arena */
};

/* v0-1. Returns 0 or -TAPE_EPROTO (bad version, malformed, bytes left over). */
int delete_groups_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                 struct delete_groups_request *out);
/* v0-1; another version, or a null where the schema has none, marks the buffer bad. */
void delete_groups_request_encode(struct buf *b, int16_t version,
                                  const struct delete_groups_request *r);
/* v0-1; another version, or a null where the schema has none, marks the buffer bad. */
void delete_groups_response_encode(struct buf *b, int16_t version,
                                   const struct delete_groups_response *r);
/* v0-1. Returns 0 or -TAPE_EPROTO. */
int delete_groups_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                  struct delete_groups_response *out);

#endif
