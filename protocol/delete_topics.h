/*
 * protocol/delete_topics.h: DeleteTopics (key 20), versions 0-3. v4 is the first flexible
 * version; tape stops at 3 (kafka-protocol.md §1: kafkajs 2.2.4 uses v1).
 *
 * Request body (v0-3, all the same):
 *   topic_names int32-count array of string, timeout_ms int32
 *
 * Response body:
 *   v0     responses[] DeletableTopicResult {name string, error_code int16}
 *   v1-3   throttle_time_ms int32 first
 *   (v3 only adds the error TOPIC_DELETION_DISABLED.)
 *
 * Fields absent from a version decode to the schema's defaults: throttle_time_ms 0 (v0).
 */
#ifndef TAPE_PROTOCOL_DELETE_TOPICS_H
#define TAPE_PROTOCOL_DELETE_TOPICS_H

#include "protocol/codec.h"

#define DELETE_TOPICS_VERSION_MIN 0
#define DELETE_TOPICS_VERSION_MAX 3

struct delete_topics_request {
	int32_t topic_names_count;
	struct kstr *topic_names;
	int32_t timeout_ms;
};

struct delete_topics_deletable_topic_result {
	struct kstr name;
	int16_t error_code;
};

struct delete_topics_response {
	int32_t throttle_time_ms; /* v1+ */
	int32_t responses_count;
	struct delete_topics_deletable_topic_result *responses;
};

/* v0-3. Returns 0 or -TAPE_EPROTO. Names point into the cursor's buffer, arrays come from the
 * arena; both live as long as the frame and the arena. */
int delete_topics_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                 struct delete_topics_request *out);
/* v0-3; another version marks b bad. */
void delete_topics_request_encode(struct buf *b, int16_t version,
                                  const struct delete_topics_request *r);
/* v0-3; another version marks b bad. */
void delete_topics_response_encode(struct buf *b, int16_t version,
                                   const struct delete_topics_response *r);
/* v0-3. Returns 0 or -TAPE_EPROTO; lifetimes as for the request. */
int delete_topics_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                  struct delete_topics_response *out);

#endif
