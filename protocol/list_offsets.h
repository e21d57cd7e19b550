/*
 * protocol/list_offsets.h: ListOffsets (API key 2), versions 0-3, non-flexible (6+ is
 * flexible; current_leader_epoch and leader_epoch, v4+, are not in this range).
 *
 * Request (schema ListOffsetsRequest; "vN+" = from version N):
 *   replica_id               int32          -1 for a consumer
 *   isolation_level          int8           v2+ (default 0: read_uncommitted)
 *   topics                   array of       (ListOffsetsTopic)
 *     name                     string
 *     partitions               array of     (ListOffsetsPartition)
 *       partition_index          int32
 *       timestamp                int64      -1 latest, -2 earliest, else a time in ms
 *       max_num_offsets          int32      v0 only (default 1)
 *
 * Response (schema ListOffsetsResponse):
 *   throttle_time_ms         int32          v2+ (default 0)
 *   topics                   array of       (ListOffsetsTopicResponse)
 *     name                     string
 *     partitions               array of     (ListOffsetsPartitionResponse)
 *       partition_index          int32
 *       error_code               int16
 *       old_style_offsets        array of int64   v0 only (default: empty)
 *       timestamp                int64      v1+ (default -1)
 *       offset                   int64      v1+ (default -1)
 *
 * Lifetimes: every kstr a decoder returns is borrowed from the decoded frame, every array is
 * in the arena; both live as long as the frame and the arena.
 */
#ifndef TAPE_PROTOCOL_LIST_OFFSETS_H
#define TAPE_PROTOCOL_LIST_OFFSETS_H

#include "protocol/codec.h"

#define LIST_OFFSETS_VERSION_MIN 0
#define LIST_OFFSETS_VERSION_MAX 3

struct list_offsets_request_partition { /* ListOffsetsPartition */
	int32_t partition_index;
	int64_t timestamp;
	int32_t max_num_offsets; /* v0 only; default 1 */
};

struct list_offsets_request_topic { /* ListOffsetsTopic */
	struct kstr name;           /* borrowed */
	int32_t partitions_count;
	struct list_offsets_request_partition *partitions;
};

struct list_offsets_request {
	int32_t replica_id;
	int8_t isolation_level; /* v2+; default 0 */
	int32_t topics_count;
	struct list_offsets_request_topic *topics;
};

struct list_offsets_response_partition { /* ListOffsetsPartitionResponse */
	int32_t partition_index;
	int16_t error_code;
	int32_t old_style_offsets_count; /* v0 only; default 0 */
	int64_t *old_style_offsets;
	int64_t timestamp; /* v1+; default -1 */
	int64_t offset;    /* v1+; default -1 */
};

struct list_offsets_response_topic { /* ListOffsetsTopicResponse */
	struct kstr name;
	int32_t partitions_count;
	struct list_offsets_response_partition *partitions;
};

struct list_offsets_response {
	int32_t throttle_time_ms; /* v2+; default 0 */
	int32_t topics_count;
	struct list_offsets_response_topic *topics;
};

/* v0-3. Returns 0, or -TAPE_EPROTO for a malformed body, bytes left over, or another version.
 * Fields absent from the version get the defaults above. */
int list_offsets_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                struct list_offsets_request *out);
/* v0-3; another version marks the buf bad. */
void list_offsets_request_encode(struct buf *b, int16_t version,
                                 const struct list_offsets_request *r);
/* v0-3; another version marks the buf bad. */
void list_offsets_response_encode(struct buf *b, int16_t version,
                                  const struct list_offsets_response *r);
/* v0-3. Returns 0, or -TAPE_EPROTO for a malformed body, bytes left over, or another version.
 * Fields absent from the version get the defaults above. */
int list_offsets_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                 struct list_offsets_response *out);

#endif
