/*
 * protocol/produce.h: Produce (API key 0), versions 3-7, non-flexible (9+ is flexible).
 *
 * Request (schema ProduceRequest; "vN+" = from version N):
 *   transactional_id  nullable string   v3+  (default null)
 *   acks              int16                  0, 1 or -1; the codec does not judge it
 *   timeout_ms        int32
 *   topic_data        array of              (TopicProduceData)
 *     name              string
 *     partition_data    array of            (PartitionProduceData)
 *       index             int32
 *       records           nullable bytes     one RecordBatch v2 from v3 on (the codec does not
 *                                            look inside: validation is the broker's)
 * Versions 0-2 carry legacy message sets: the decoder refuses them with -TAPE_EPROTO.
 *
 * Response (schema ProduceResponse):
 *   responses               array of        (TopicProduceResponse)
 *     name                    string
 *     partition_responses     array of      (PartitionProduceResponse)
 *       index                   int32
 *       error_code              int16
 *       base_offset             int64
 *       log_append_time_ms      int64        v2+ (default -1: CreateTime)
 *       log_start_offset        int64        v5+ (default -1)
 *       (record_errors, error_message: v8+, not in this range)
 *   throttle_time_ms        int32            v1+, at the END of the body (default 0)
 *
 * Lifetimes: every kstr/kbytes a decoder returns is borrowed from the decoded frame, every
 * array is in the arena; both live as long as the frame and the arena.
 *
 * Records alias the frame: produce_request_partition.records.p points into the receive buffer
 * the request was decoded from, not into a copy. The broker stamps base offsets (and
 * LogAppendTime) into those bytes in place and writes them to the segment from there, so the
 * pointer is const only by the codec's contract: the caller owns the (mutable) frame buffer
 * and may write through it, and must keep the frame alive until the write completed.
 */
#ifndef TAPE_PROTOCOL_PRODUCE_H
#define TAPE_PROTOCOL_PRODUCE_H

#include "protocol/codec.h"

#define PRODUCE_VERSION_MIN 3
#define PRODUCE_VERSION_MAX 7

struct produce_request_partition { /* PartitionProduceData */
	int32_t index;
	struct kbytes records; /* borrowed: aliases the frame buffer (see above); len -1 = null */
};

struct produce_request_topic { /* TopicProduceData */
	struct kstr name;      /* borrowed */
	int32_t partition_data_count;
	struct produce_request_partition *partition_data;
};

struct produce_request {
	struct kstr transactional_id; /* borrowed; null when not transactional */
	int16_t acks;
	int32_t timeout_ms;
	int32_t topic_data_count;
	struct produce_request_topic *topic_data;
};

struct produce_response_partition { /* PartitionProduceResponse */
	int32_t index;
	int16_t error_code;
	int64_t base_offset;
	int64_t log_append_time_ms; /* -1 unless the topic uses LogAppendTime */
	int64_t log_start_offset;   /* v5+; default -1 */
};

struct produce_response_topic { /* TopicProduceResponse */
	struct kstr name;
	int32_t partition_responses_count;
	struct produce_response_partition *partition_responses;
};

struct produce_response {
	int32_t responses_count;
	struct produce_response_topic *responses;
	int32_t throttle_time_ms;
};

/* v3-7. Returns 0, or -TAPE_EPROTO for a malformed body, bytes left over, or another version. */
int produce_request_decode(struct cursor *c, struct arena *a, int16_t version,
                           struct produce_request *out);
/* v3-7; another version marks the buf bad. */
void produce_request_encode(struct buf *b, int16_t version, const struct produce_request *r);
/* v3-7; another version marks the buf bad. */
void produce_response_encode(struct buf *b, int16_t version, const struct produce_response *r);
/* v3-7. Returns 0, or -TAPE_EPROTO for a malformed body, bytes left over, or another version;
 * log_start_offset is -1 below v5. */
int produce_response_decode(struct cursor *c, struct arena *a, int16_t version,
                            struct produce_response *out);

#endif
