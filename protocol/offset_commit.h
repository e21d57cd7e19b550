/*
 * protocol/offset_commit.h: OffsetCommit (API 8) bodies, versions 2-7 (v0-1 are not
 * implemented: no client in use sends them; v8+ are flexible). A member commits the offsets it
 * consumed up to. committed_metadata is a nullable string and is kept exactly: null and ""
 * are different values and both round-trip.
 *
 * Request
 *   group_id                         string
 *   generation_id_or_member_epoch    int32            (-1 with member_id "": a commit from
 *                                                      outside the group)
 *   member_id                        string
 *   group_instance_id                nullable string  v7+ (default null)
 *   retention_time_ms                int64            v2-4 only (default -1)
 *   topics                           array of
 *     name                           string
 *     partitions                     array of
 *       partition_index              int32
 *       committed_offset             int64
 *       committed_leader_epoch       int32            v6+ (default -1)
 *       committed_metadata           nullable string
 *
 * Response
 *   throttle_time_ms                 int32            v3+ (default 0)
 *   topics                           array of
 *     name                           string
 *     partitions                     array of
 *       partition_index              int32
 *       error_code                   int16
 *
 * The schema (Kafka 3.9) calls the generation GenerationIdOrMemberEpoch; the name is kept so
 * the code greps against it. Decoded strings are borrowed from the frame, arrays from the arena.
 */
#ifndef TAPE_PROTOCOL_OFFSET_COMMIT_H
#define TAPE_PROTOCOL_OFFSET_COMMIT_H

#include "protocol/codec.h"

#define OFFSET_COMMIT_VERSION_MIN 2
#define OFFSET_COMMIT_VERSION_MAX 7

struct offset_commit_request_partition {
	int32_t partition_index;
	int32_t committed_leader_epoch; /* v6+ */
	int64_t committed_offset;
	struct kstr committed_metadata; /* borrowed; nullable */
};

struct offset_commit_request_topic {
	struct kstr name; /* borrowed */
	int32_t partitions_count;
	struct offset_commit_request_partition *partitions; /* arena */
};

struct offset_commit_request {
	struct kstr group_id; /* borrowed */
	int32_t generation_id_or_member_epoch;
	struct kstr member_id;         /* borrowed */
	struct kstr group_instance_id; /* borrowed; v7+, nullable */
	int64_t retention_time_ms;     /* v2-4 */
	int32_t topics_count;
	struct offset_commit_request_topic *topics; /* arena */
};

struct offset_commit_response_partition {
	int32_t partition_index;
	int16_t error_code;
};

struct offset_commit_response_topic {
	struct kstr name; /* borrowed */
	int32_t partitions_count;
	struct offset_commit_response_partition *partitions; /* arena */
};

struct offset_commit_response {
	int32_t throttle_time_ms; /* v3+ */
	int32_t topics_count;
	struct offset_commit_response_topic *topics; /* arena */
};

/* v2-7. Returns 0 or -TAPE_EPROTO (bad version, malformed, bytes left over). */
int offset_commit_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                 struct offset_commit_request *out);
/* v2-7; another version, or a null where the schema has none, marks the buffer bad. */
void offset_commit_request_encode(struct buf *b, int16_t version,
                                  const struct offset_commit_request *r);
/* v2-7; another version, or a null where the schema has none, marks the buffer bad. */
void offset_commit_response_encode(struct buf *b, int16_t version,
                                   const struct offset_commit_response *r);
/* v2-7. Returns 0 or -TAPE_EPROTO. */
int offset_commit_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                  struct offset_commit_response *out);

#endif
