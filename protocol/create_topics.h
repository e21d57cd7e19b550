/*
 * protocol/create_topics.h: CreateTopics (key 19), versions 0-4. v5 is the first flexible
 * version; tape stops at 4 (kafka-protocol.md §1: kafkajs 2.2.4 uses v3).
 *
 * Request body:
 *   v0     topics int32-count array of CreatableTopic {name string, num_partitions int32,
 *            replication_factor int16,
 *            assignments[] CreatableReplicaAssignment {partition_index int32, broker_ids int32[]},
 *            configs[] CreatableTopicConfig {name string, value nullable string}},
 *          timeout_ms int32
 *   v1-4   v0 + validate_only bool at the end
 *   (v4 changes only the meaning: num_partitions and replication_factor may be -1, "the
 *   broker's default", even without assignments; kafkajs sends -1 at v3 too.)
 *
 * Response body:
 *   v0     topics[] CreatableTopicResult {name string, error_code int16}
 *   v1     topics[] + error_message nullable string after error_code
 *   v2-4   throttle_time_ms int32 first
 *
 * Fields absent from a version decode to the schema's defaults: validate_only false (v0),
 * throttle_time_ms 0 (v0-1), error_message "" (v0; the schema gives no default for this
 * nullable string, so Kafka's generated code uses the empty string).
 */
#ifndef TAPE_PROTOCOL_CREATE_TOPICS_H
#define TAPE_PROTOCOL_CREATE_TOPICS_H

#include "protocol/codec.h"

#define CREATE_TOPICS_VERSION_MIN 0
#define CREATE_TOPICS_VERSION_MAX 4

struct create_topics_creatable_replica_assignment {
	int32_t partition_index;
	int32_t broker_ids_count;
	int32_t *broker_ids;
};

struct create_topics_creatable_topic_config {
	struct kstr name;
	struct kstr value; /* nullable */
};

struct create_topics_creatable_topic {
	struct kstr name;
	int32_t num_partitions;     /* -1: the broker's default */
	int16_t replication_factor; /* -1: the broker's default */
	int32_t assignments_count;
	struct create_topics_creatable_replica_assignment *assignments;
	int32_t configs_count;
	struct create_topics_creatable_topic_config *configs;
};

struct create_topics_request {
	int32_t topics_count;
	struct create_topics_creatable_topic *topics;
	int32_t timeout_ms;
	bool validate_only; /* v1+ */
};

struct create_topics_creatable_topic_result {
	struct kstr name;
	int16_t error_code;
	struct kstr error_message; /* v1+; nullable */
};

struct create_topics_response {
	int32_t throttle_time_ms; /* v2+ */
	int32_t topics_count;
	struct create_topics_creatable_topic_result *topics;
};

/* v0-4. Returns 0 or -TAPE_EPROTO. Strings point into the cursor's buffer, arrays come from
 * the arena; both live as long as the frame and the arena. */
int create_topics_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                 struct create_topics_request *out);
/* v0-4; another version marks b bad. */
void create_topics_request_encode(struct buf *b, int16_t version,
                                  const struct create_topics_request *r);
/* v0-4; another version marks b bad. */
void create_topics_response_encode(struct buf *b, int16_t version,
                                   const struct create_topics_response *r);
/* v0-4. Returns 0 or -TAPE_EPROTO; lifetimes as for the request. */
int create_topics_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                  struct create_topics_response *out);

#endif
