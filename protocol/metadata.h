/*
 * protocol/metadata.h: Metadata (key 3), versions 0-8. v9 is the first flexible version; tape
 * stops at 8 (kafka-protocol.md §1: librdkafka 2.0.2 uses v4, kafkajs 2.2.4 v6).
 *
 * Request body:
 *   v0     topics int32-count array of {name string}; an empty array means ALL topics
 *   v1-3   topics nullable: null (-1) means all topics, an empty array means none
 *   v4-7   v1 + allow_auto_topic_creation bool
 *   v8     v4 + include_cluster_authorized_operations bool, include_topic_authorized_operations
 *          bool
 *
 * Response body:
 *   v0     brokers[]{node_id int32, host string, port int32},
 *          topics[]{error_code int16, name string,
 *                   partitions[]{error_code int16, partition_index int32, leader_id int32,
 *                                replica_nodes int32[], isr_nodes int32[]}}
 *   v1     brokers[] + rack nullable string; controller_id int32 after brokers;
 *          topics[] + is_internal bool after name
 *   v2     cluster_id nullable string between brokers and controller_id
 *   v3-4   throttle_time_ms int32 first
 *   v5-6   partitions[] + offline_replicas int32[] after isr_nodes
 *   v7     partitions[] + leader_epoch int32 after leader_id
 *   v8     topics[] + topic_authorized_operations int32 after partitions;
 *          cluster_authorized_operations int32 at the end
 *
 * Fields absent from a version decode to the schema's defaults: allow_auto_topic_creation true,
 * include_*_authorized_operations false, throttle_time_ms 0, rack null, cluster_id null,
 * controller_id -1, is_internal false, leader_epoch -1, offline_replicas empty (count 0),
 * topic_authorized_operations and cluster_authorized_operations INT32_MIN ("not requested").
 */
#ifndef TAPE_PROTOCOL_METADATA_H
#define TAPE_PROTOCOL_METADATA_H

#include "protocol/codec.h"

#define METADATA_VERSION_MIN 0
#define METADATA_VERSION_MAX 8
/* topic_authorized_operations / cluster_authorized_operations when not requested. */
#define METADATA_AUTHORIZED_OPERATIONS_NONE INT32_MIN

struct metadata_request_topic {
	struct kstr name; /* borrowed from the frame */
};

struct metadata_request {
	int32_t topics_count; /* -1: null (v1+) */
	struct metadata_request_topic *topics;
	bool allow_auto_topic_creation;             /* v4+ */
	bool include_cluster_authorized_operations; /* v8 */
	bool include_topic_authorized_operations;   /* v8 */
};

/* The trap of v0 (kafka-protocol.md §9): does the request ask for every topic? */
static inline bool metadata_request_all_topics(int16_t version, const struct metadata_request *r)
{
	return r->topics_count < 0 || (version == 0 && r->topics_count == 0);
}

struct metadata_response_broker {
	int32_t node_id;
	struct kstr host;
	int32_t port;
	struct kstr rack; /* v1+; nullable */
};

struct metadata_response_partition {
	int16_t error_code;
	int32_t partition_index;
	int32_t leader_id;
	int32_t leader_epoch; /* v7+ */
	int32_t replica_nodes_count;
	int32_t *replica_nodes;
	int32_t isr_nodes_count;
	int32_t *isr_nodes;
	int32_t offline_replicas_count; /* v5+ */
	int32_t *offline_replicas;
};

struct metadata_response_topic {
	int16_t error_code;
	struct kstr name;
	bool is_internal; /* v1+ */
	int32_t partitions_count;
	struct metadata_response_partition *partitions;
	int32_t topic_authorized_operations; /* v8 */
};

struct metadata_response {
	int32_t throttle_time_ms; /* v3+ */
	int32_t brokers_count;
	struct metadata_response_broker *brokers;
	struct kstr cluster_id; /* v2+; nullable */
	int32_t controller_id;  /* v1+ */
	int32_t topics_count;
	struct metadata_response_topic *topics;
	int32_t cluster_authorized_operations; /* v8 */
};

/* v0-8. Returns 0 or -TAPE_EPROTO. Names point into the cursor's buffer, arrays come from the
 * arena; both live as long as the frame and the arena. */
int metadata_request_decode(struct cursor *c, struct arena *a, int16_t version,
                            struct metadata_request *out);
/* v0-8; another version marks b bad. At v0 a null topics array (all topics) is written as the
 * empty array, which means all topics there. */
void metadata_request_encode(struct buf *b, int16_t version, const struct metadata_request *r);
/* v0-8; another version marks b bad. */
void metadata_response_encode(struct buf *b, int16_t version, const struct metadata_response *r);
/* v0-8. Returns 0 or -TAPE_EPROTO; lifetimes as for the request. */
int metadata_response_decode(struct cursor *c, struct arena *a, int16_t version,
                             struct metadata_response *out);

#endif
