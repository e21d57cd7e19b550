/*
 * protocol/offset_for_leader_epoch.h: OffsetForLeaderEpoch (API key 23), versions 0-3,
 * non-flexible (4+ is flexible). The broker serves 2-3; the replica fetcher sends 3.
 *
 * Request (schema OffsetForLeaderEpochRequest; "vN+" = from version N):
 *   replica_id               int32          v3+ (default -2: a "debug" consumer); a follower
 *                                           sends its broker id, a consumer -1
 *   topics                   array of       (OffsetForLeaderTopic)
 *     topic                    string
 *     partitions               array of     (OffsetForLeaderPartition)
 *       partition                int32
 *       current_leader_epoch     int32      v2+ (default -1: no fencing)
 *       leader_epoch             int32      the epoch to look up
 *
 * Response (schema OffsetForLeaderEpochResponse):
 *   throttle_time_ms         int32          v2+ (default 0)
 *   topics                   array of       (OffsetForLeaderTopicResult)
 *     topic                    string
 *     partitions               array of     (EpochEndOffset)
 *       error_code               int16
 *       partition                int32
 *       leader_epoch             int32      v1+ (default -1)
 *       end_offset               int64      (-1: undefined)
 *
 * Semantics (the broker's, server/handle_offset_for_leader_epoch.c): the answer is the largest
 * epoch the leader knows that is <= leader_epoch, and the offset where it ended (the start of
 * the next epoch, or the log end offset for the current one), as Kafka's
 * LeaderEpochFileCache.endOffsetFor; both -1 when the leader knows nothing that old or new.
 *
 * Lifetimes: every kstr a decoder returns is borrowed from the decoded frame, every array is
 * in the arena; both live as long as the frame and the arena.
 */
#ifndef TAPE_PROTOCOL_OFFSET_FOR_LEADER_EPOCH_H
#define TAPE_PROTOCOL_OFFSET_FOR_LEADER_EPOCH_H

#include "protocol/codec.h"

#define OFFSET_FOR_LEADER_EPOCH_VERSION_MIN 0
#define OFFSET_FOR_LEADER_EPOCH_VERSION_MAX 3

struct offset_for_leader_epoch_request_partition { /* OffsetForLeaderPartition */
	int32_t partition;
	int32_t current_leader_epoch; /* v2+; default -1 */
	int32_t leader_epoch;
};

struct offset_for_leader_epoch_request_topic { /* OffsetForLeaderTopic */
	struct kstr topic;                     /* borrowed */
	int32_t partitions_count;
	struct offset_for_leader_epoch_request_partition *partitions;
};

struct offset_for_leader_epoch_request {
	int32_t replica_id; /* v3+; default -2 */
	int32_t topics_count;
	struct offset_for_leader_epoch_request_topic *topics;
};

struct offset_for_leader_epoch_response_partition { /* EpochEndOffset */
	int16_t error_code;
	int32_t partition;
	int32_t leader_epoch; /* v1+; default -1 */
	int64_t end_offset;   /* default -1 */
};

struct offset_for_leader_epoch_response_topic { /* OffsetForLeaderTopicResult */
	struct kstr topic;                      /* borrowed */
	int32_t partitions_count;
	struct offset_for_leader_epoch_response_partition *partitions;
};

struct offset_for_leader_epoch_response {
	int32_t throttle_time_ms; /* v2+; default 0 */
	int32_t topics_count;
	struct offset_for_leader_epoch_response_topic *topics;
};

/* v0-3. Returns 0, or -TAPE_EPROTO for a malformed body, bytes left over, or another version.
 * Fields absent from the version get the defaults above. */
int offset_for_leader_epoch_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                           struct offset_for_leader_epoch_request *out);
/* v0-3; another version, or a null topic name or array, marks the buf bad. */
void offset_for_leader_epoch_request_encode(struct buf *b, int16_t version,
                                            const struct offset_for_leader_epoch_request *r);
/* v0-3; another version, or a null topic name or array, marks the buf bad. */
void offset_for_leader_epoch_response_encode(struct buf *b, int16_t version,
                                             const struct offset_for_leader_epoch_response *r);
/* v0-3. Returns 0, or -TAPE_EPROTO for a malformed body, bytes left over, or another version.
 * Fields absent from the version get the defaults above. */
int offset_for_leader_epoch_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                            struct offset_for_leader_epoch_response *out);

#endif
