/*
 * protocol/fetch.h: Fetch (API key 1), versions 4-11, non-flexible (12+ is flexible).
 *
 * Request (schema FetchRequest; "vN+" = from version N):
 *   replica_id               int32          -1 for a consumer, >= 0 for a follower broker
 *   max_wait_ms              int32
 *   min_bytes                int32
 *   max_bytes                int32          (v3+, so always here)
 *   isolation_level          int8           (v4+, always here) 0 read_uncommitted, 1 committed
 *   session_id               int32          v7+ (default 0)
 *   session_epoch            int32          v7+ (default -1)
 *   topics                   array of       (FetchTopic)
 *     topic                    string
 *     partitions               array of     (FetchPartition)
 *       partition                int32
 *       current_leader_epoch     int32      v9+ (default -1)
 *       fetch_offset             int64
 *       log_start_offset         int64      v5+ (default -1)
 *       partition_max_bytes      int32
 *   forgotten_topics_data    array of       v7+ (ForgottenTopic; default: empty)
 *     topic                    string
 *     partitions               array of int32
 *   rack_id                  string         v11+ (default "")
 *
 * Response (schema FetchResponse):
 *   throttle_time_ms         int32
 *   error_code               int16          v7+ (default 0)
 *   session_id               int32          v7+ (default 0)
 *   responses                array of       (FetchableTopicResponse)
 *     topic                    string
 *     partitions               array of     (PartitionData)
 *       partition_index          int32
 *       error_code               int16
 *       high_watermark           int64
 *       last_stable_offset       int64      (v4+, always here)
 *       log_start_offset         int64      v5+ (default -1)
 *       aborted_transactions     nullable array of (v4+, always here)
 *         producer_id              int64
 *         first_offset             int64
 *       preferred_read_replica   int32      v11+ (default -1)
 *       records                  nullable bytes
 *
 * External records (the broker's zero-copy path). Record bytes a response carries usually
 * live in segment files, so the encoder does not need them in memory: a partition whose
 * records are { p = NULL, len >= 0 } gets its int32 length written, and the position in the
 * buf where its len bytes belong is recorded in holes[] (positions are offsets in b->p, i.e.
 * b->len at that moment, so they count whatever the caller put in the buf before the body).
 * The message to send is then
 *     buf[0, holes[0]) + run 0 + buf[holes[0], holes[1]) + run 1 + ... + buf[holes[n-1], len)
 * where run i is the i-th external partition's bytes, in the order the partitions appear in
 * the response. Every external partition gets a hole, including those of length 0, so holes
 * and external partitions pair up one to one. The frame's size prefix must count the runs too
 * (fetch_response_external_bytes). Records with p != NULL are copied into the buf; records
 * with len -1 are null. Mind that a zeroed kbytes is external with length 0: a partition
 * without records must say { NULL, -1 } (null) or point at something (empty).
 *
 * Lifetimes: every kstr/kbytes a decoder returns is borrowed from the decoded frame (records
 * included: the client reads batches in place), every array is in the arena; both live as
 * long as the frame and the arena.
 */
#ifndef TAPE_PROTOCOL_FETCH_H
#define TAPE_PROTOCOL_FETCH_H

#include "protocol/codec.h"

#define FETCH_VERSION_MIN 4
#define FETCH_VERSION_MAX 11

struct fetch_request_partition { /* FetchPartition */
	int32_t partition;
	int32_t current_leader_epoch; /* v9+; default -1 */
	int64_t fetch_offset;
	int64_t log_start_offset; /* v5+; default -1 (consumers send -1 too) */
	int32_t partition_max_bytes;
};

struct fetch_request_topic { /* FetchTopic */
	struct kstr topic;   /* borrowed */
	int32_t partitions_count;
	struct fetch_request_partition *partitions;
};

struct fetch_request_forgotten_topic { /* ForgottenTopic */
	struct kstr topic;             /* borrowed */
	int32_t partitions_count;
	int32_t *partitions;
};

struct fetch_request {
	int32_t replica_id;
	int32_t max_wait_ms;
	int32_t min_bytes;
	int32_t max_bytes;
	int8_t isolation_level;
	int32_t session_id;    /* v7+; default 0 */
	int32_t session_epoch; /* v7+; default -1 */
	int32_t topics_count;
	struct fetch_request_topic *topics;
	int32_t forgotten_topics_data_count; /* v7+; default 0 */
	struct fetch_request_forgotten_topic *forgotten_topics_data;
	struct kstr rack_id; /* v11+; borrowed; default "" */
};

struct fetch_response_aborted_transaction { /* AbortedTransaction */
	int64_t producer_id;
	int64_t first_offset;
};

struct fetch_response_partition { /* PartitionData */
	int32_t partition_index;
	int16_t error_code;
	int64_t high_watermark;
	int64_t last_stable_offset;
	int64_t log_start_offset;           /* v5+; default -1 */
	int32_t aborted_transactions_count; /* -1: null */
	struct fetch_response_aborted_transaction *aborted_transactions;
	int32_t preferred_read_replica; /* v11+; default -1 */
	/* Encoding: p != NULL inline (copied), p == NULL && len >= 0 external (a hole, see
	 * above), len -1 null. Decoding: borrowed from the frame, or null. */
	struct kbytes records;
};

struct fetch_response_topic { /* FetchableTopicResponse */
	struct kstr topic;
	int32_t partitions_count;
	struct fetch_response_partition *partitions;
};

struct fetch_response {
	int32_t throttle_time_ms;
	int16_t error_code; /* v7+; default 0 */
	int32_t session_id; /* v7+; default 0 */
	int32_t responses_count;
	struct fetch_response_topic *responses;
};

/* v4-11. Returns 0, or -TAPE_EPROTO for a malformed body, bytes left over, or another version.
 * Fields absent from the version get the defaults above. */
int fetch_request_decode(struct cursor *c, struct arena *a, int16_t version,
                         struct fetch_request *out);
/* v4-11; another version marks the buf bad. */
void fetch_request_encode(struct buf *b, int16_t version, const struct fetch_request *r);
/* v4-11; another version, or more external partitions than holes_cap, marks the buf bad.
 * *holes_count is the number of holes recorded; holes may be NULL when holes_cap is 0. */
void fetch_response_encode(struct buf *b, int16_t version, const struct fetch_response *r,
                           size_t *holes, size_t holes_cap, size_t *holes_count);
/* The external partitions of r: how many there are, and their bytes added up. */
size_t fetch_response_external_count(const struct fetch_response *r);
int64_t fetch_response_external_bytes(const struct fetch_response *r);
/* v4-11. Returns 0, or -TAPE_EPROTO for a malformed body, bytes left over, or another version.
 * Fields absent from the version get the defaults above. */
int fetch_response_decode(struct cursor *c, struct arena *a, int16_t version,
                          struct fetch_response *out);

#endif
