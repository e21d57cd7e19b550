/*
 * protocol/leave_group.h: LeaveGroup (API 13) bodies, versions 0-3 (v4+ are flexible and not
 * implemented). Members leave a group so the others rebalance at once instead of waiting for
 * a session timeout. v0-2 name one member; v3 names a batch and is answered per member.
 *
 * Request
 *   group_id             string
 *   member_id            string           v0-2 (default "")
 *   members              array of         v3+ (default empty)
 *     member_id          string
 *     group_instance_id  nullable string
 *
 * Response
 *   throttle_time_ms     int32            v1+ (default 0)
 *   error_code           int16
 *   members              array of         v3+ (default empty)
 *     member_id          string
 *     group_instance_id  nullable string
 *     error_code         int16
 *
 * Decoded strings are borrowed from the frame, arrays from the arena.
 */
#ifndef TAPE_PROTOCOL_LEAVE_GROUP_H
#define TAPE_PROTOCOL_LEAVE_GROUP_H

#include "protocol/codec.h"

#define LEAVE_GROUP_VERSION_MIN 0
#define LEAVE_GROUP_VERSION_MAX 3

/* The schema's MemberIdentity. */
struct leave_group_member_identity {
	struct kstr member_id;         /* borrowed */
	struct kstr group_instance_id; /* borrowed; nullable */
};

struct leave_group_request {
	struct kstr group_id;                        /* borrowed */
	struct kstr member_id;                       /* borrowed; v0-2 */
	int32_t members_count;                       /* v3+ */
	struct leave_group_member_identity *members; /* arena; v3+ */
};

/* The schema's MemberResponse. */
struct leave_group_member_response {
	struct kstr member_id;         /* borrowed */
	struct kstr group_instance_id; /* borrowed; nullable */
	int16_t error_code;
};

struct leave_group_response {
	int32_t throttle_time_ms; /* v1+ */
	int16_t error_code;
	int32_t members_count;                       /* v3+ */
	struct leave_group_member_response *members; /* arena; v3+ */
};

/* v0-3. Returns 0 or -TAPE_EPROTO (bad version, malformed, bytes left over). */
int leave_group_request_decode(struct cursor *c, struct arena *a, int16_t version,
                               struct leave_group_request *out);
/* v0-3; another version, or a null where the schema has none, marks the buffer bad. */
void leave_group_request_encode(struct buf *b, int16_t version,
                                const struct leave_group_request *r);
/* v0-3; another version, or a null where the schema has none, marks the buffer bad. */
void leave_group_response_encode(struct buf *b, int16_t version,
                                 const struct leave_group_response *r);
/* v0-3. Returns 0 or -TAPE_EPROTO. */
int leave_group_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                struct leave_group_response *out);

#endif
