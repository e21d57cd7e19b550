/*
 * protocol/consumer_protocol.h: the "consumer" protocol payloads that members of a group with
 * protocol_type "consumer" exchange through the coordinator: a subscription in JoinGroup's
 * protocols[].metadata (and back to the leader in members[].metadata), an assignment in
 * SyncGroup's assignments[].assignment (and back to each member). The broker passes both
 * through untouched; the client's group leader reads subscriptions and writes assignments.
 *
 * Each payload is an int16 version followed by that version's fields (non-flexible encodings):
 *
 * ConsumerProtocolSubscription, versions 0-3
 *   version              int16
 *   topics               array of string
 *   user_data            nullable bytes     (default null)
 *   owned_partitions     array of           v1+ (default empty)
 *     topic              string
 *     partitions         array of int32
 *   generation_id        int32              v2+ (default -1)
 *   rack_id              nullable string    v3+ (default null)
 *
 * ConsumerProtocolAssignment, versions 0-3 (v1-3 have v0's fields)
 *   version              int16
 *   assigned_partitions  array of
 *     topic              string
 *     partitions         array of int32
 *   user_data            nullable bytes     (default null)
 *
 * Reading is lenient, because a leader that refused a member's subscription would stall the
 * whole group:
 *   - a version newer than we know is read as the newest we know (Kafka promises that new
 *     versions only append fields), and the bytes after the fields we know are ignored, in
 *     every version (both as Kafka's ConsumerProtocol reader does);
 *   - a payload that ends where a field after the first (topics / assigned_partitions) would
 *     start leaves that field and the rest at their defaults (the "optional tail"; Kafka's Java
 *     reader would fail on it, tape does not); a payload that ends inside a field is malformed;
 *   - an empty assignment payload (0 bytes) is an empty assignment: both librdkafka and kafkajs
 *     accept it, and Kafka's coordinator sends it to a member the leader assigned nothing.
 * A negative version, a null or too-short payload, or a bad length or count is -TAPE_EPROTO.
 *
 * Decoded strings and bytes are borrowed from the payload (so from the frame it came in),
 * arrays from the arena.
 */
#ifndef TAPE_PROTOCOL_CONSUMER_PROTOCOL_H
#define TAPE_PROTOCOL_CONSUMER_PROTOCOL_H

#include "protocol/codec.h"

#define CONSUMER_PROTOCOL_SUBSCRIPTION_VERSION_MAX 3
#define CONSUMER_PROTOCOL_ASSIGNMENT_VERSION_MAX 3

/* The schemas' TopicPartition. */
struct consumer_protocol_topic_partition {
	struct kstr topic; /* borrowed */
	int32_t partitions_count;
	int32_t *partitions; /* arena */
};

struct consumer_protocol_subscription {
	int16_t version; /* as written; may be above ..._VERSION_MAX */
	int32_t topics_count;
	struct kstr *topics;     /* arena; each borrowed */
	struct kbytes user_data; /* borrowed; nullable */
	int32_t owned_partitions_count;
	struct consumer_protocol_topic_partition *owned_partitions; /* arena; v1+ */
	int32_t generation_id;                                      /* v2+ */
	struct kstr rack_id;                                        /* borrowed; v3+, nullable */
};

struct consumer_protocol_assignment {
	int16_t version; /* as written; may be above ..._VERSION_MAX */
	int32_t assigned_partitions_count;
	struct consumer_protocol_topic_partition *assigned_partitions; /* arena */
	struct kbytes user_data;                                       /* borrowed; nullable */
};

/* Any version >= 0 (see above). Returns 0 or -TAPE_EPROTO. */
int consumer_protocol_subscription_decode(struct kbytes payload, struct arena *a,
                                          struct consumer_protocol_subscription *out);
/* Writes the version, then its fields: v0-3 (s->version is not looked at). Another version,
 * or a null where the schema has none, marks the buffer bad. */
void consumer_protocol_subscription_encode(struct buf *b, int16_t version,
                                           const struct consumer_protocol_subscription *s);
/* Any version >= 0, or an empty payload (see above). Returns 0 or -TAPE_EPROTO. */
int consumer_protocol_assignment_decode(struct kbytes payload, struct arena *a,
                                        struct consumer_protocol_assignment *out);
/* Writes the version, then its fields: v0-3 (s->version is not looked at). Another version,
 * or a null where the schema has none, marks the buffer bad. */
void consumer_protocol_assignment_encode(struct buf *b, int16_t version,
                                         const struct consumer_protocol_assignment *s);

#endif
