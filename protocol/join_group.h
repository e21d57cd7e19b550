/*
 * protocol/join_group.h: JoinGroup (API 11) bodies, versions 0-5 (v6+ are flexible and not
 * implemented). A member joins (or re-joins) a group; the coordinator answers when the
 * rebalance completes. From v4 a member without an id is first answered MEMBER_ID_REQUIRED
 * with the id it must send again; that is the coordinator's business, the layout is the same.
 * The protocol metadata bytes are opaque here (for protocol_type "consumer" they are a
 * ConsumerProtocolSubscription, protocol/consumer_protocol.h).
 *
 * Request
 *   group_id              string
 *   session_timeout_ms    int32
 *   rebalance_timeout_ms  int32            v1+ (default -1)
 *   member_id             string
 *   group_instance_id     nullable string  v5+ (default null)
 *   protocol_type         string
 *   protocols             array of
 *     name                string
 *     metadata            bytes
 *
 * Response
 *   throttle_time_ms      int32            v2+ (default 0)
 *   error_code            int16
 *   generation_id         int32
 *   protocol_name         string           (nullable only from v7: not here)
 *   leader                string
 *   member_id             string
 *   members               array of         (filled in the leader's answer only)
 *     member_id           string
 *     group_instance_id   nullable string  v5+ (default null)
 *     metadata            bytes
 *
 * Decoded strings and bytes are borrowed from the frame, arrays from the arena.
 */
#ifndef TAPE_PROTOCOL_JOIN_GROUP_H
#define TAPE_PROTOCOL_JOIN_GROUP_H

#include "protocol/codec.h"

#define JOIN_GROUP_VERSION_MIN 0
#define JOIN_GROUP_VERSION_MAX 5

struct join_group_request_protocol {
	struct kstr name;       /* borrowed */
	struct kbytes metadata; /* borrowed */
};

struct join_group_request {
	struct kstr group_id; /* borrowed */
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms;  /* v1+ */
	struct kstr member_id;         /* borrowed; "" on the first join */
	struct kstr group_instance_id; /* borrowed; v5+, nullable */
	struct kstr protocol_type;     /* borrowed */
	int32_t protocols_count;
	struct join_group_request_protocol *protocols; /* arena */
};

struct join_group_response_member {
	struct kstr member_id;         /* borrowed */
	struct kstr group_instance_id; /* borrowed; v5+, nullable */
	struct kbytes metadata;        /* borrowed */
};

struct join_group_response {
	int32_t throttle_time_ms; /* v2+ */
	int16_t error_code;
	int32_t generation_id;
	struct kstr protocol_name; /* borrowed */
	struct kstr leader;        /* borrowed */
	struct kstr member_id;     /* borrowed */
	int32_t members_count;
	struct join_group_response_member *members; /* arena */
};

/* v0-5. Returns 0 or -TAPE_EPROTO (bad version, malformed, bytes left over). */
int join_group_request_decode(struct cursor *c, struct arena *a, int16_t version,
                              struct join_group_request *out);
/* v0-5; another version, or a null where the schema has none, marks the buffer bad. */
void join_group_request_encode(struct buf *b, int16_t version, const struct join_group_request *r);
/* v0-5; another version, or a null where the schema has none, marks the buffer bad. */
void join_group_response_encode(struct buf *b, int16_t version,
                                const struct join_group_response *r);
/* v0-5. Returns 0 or -TAPE_EPROTO. */
int join_group_response_decode(struct cursor *c, struct arena *a, int16_t version,
                               struct join_group_response *out);

#endif
