/*
 * protocol/sync_group.h: SyncGroup (API 14) bodies, versions 0-3 (v4+ are flexible and not
 * implemented). After a JoinGroup round the leader sends every member's assignment; every
 * member (leader included) gets its own back. The assignment bytes are opaque here (for
 * protocol_type "consumer" they are a ConsumerProtocolAssignment, protocol/consumer_protocol.h).
 *
 * Request
 *   group_id           string
 *   generation_id      int32
 *   member_id          string
 *   group_instance_id  nullable string  v3+ (default null)
 *   assignments        array of         (empty from followers)
 *     member_id        string
 *     assignment       bytes
 *
 * Response
 *   throttle_time_ms   int32            v1+ (default 0)
 *   error_code         int16
 *   assignment         bytes            (may be empty: no partitions)
 *
 * Decoded strings and bytes are borrowed from the frame, arrays from the arena.
 */
#ifndef TAPE_PROTOCOL_SYNC_GROUP_H
#define TAPE_PROTOCOL_SYNC_GROUP_H

#include "protocol/codec.h"

#define SYNC_GROUP_VERSION_MIN 0
#define SYNC_GROUP_VERSION_MAX 3

struct sync_group_request_assignment {
	struct kstr member_id;    /* borrowed */
	struct kbytes assignment; /* borrowed */
};

struct sync_group_request {
	struct kstr group_id; /* borrowed */
	int32_t generation_id;
	struct kstr member_id;         /* borrowed */
	struct kstr group_instance_id; /* borrowed; v3+, nullable */
	int32_t assignments_count;
	struct sync_group_request_assignment *assignments; /* arena */
};

struct sync_group_response {
	int32_t throttle_time_ms; /* v1+ */
	int16_t error_code;
	struct kbytes assignment; /* borrowed; empty = no partitions */
};

/* v0-3. Returns 0 or -TAPE_EPROTO (bad version, malformed, bytes left over). */
int sync_group_request_decode(struct cursor *c, struct arena *a, int16_t version,
                              struct sync_group_request *out);
/* v0-3; another version, or a null where the schema has none, marks the buffer bad. */
void sync_group_request_encode(struct buf *b, int16_t version, const struct sync_group_request *r);
/* v0-3; another version, or a null where the schema has none, marks the buffer bad. */
void sync_group_response_encode(struct buf *b, int16_t version,
                                const struct sync_group_response *r);
/* v0-3. Returns 0 or -TAPE_EPROTO. */
int sync_group_response_decode(struct cursor *c, struct arena *a, int16_t version,
                               struct sync_group_response *out);

#endif
