/*
 * protocol/heartbeat.h: Heartbeat (API 12) bodies, versions 0-3 (v4+ are flexible and not
 * implemented). A member tells the coordinator it is alive and learns whether to re-join.
 *
 * Request
 *   group_id           string
 *   generation_id      int32
 *   member_id          string
 *   group_instance_id  nullable string  v3+ (default null)
 *
 * Response
 *   throttle_time_ms   int32            v1+ (default 0)
 *   error_code         int16
 *
 * Decoded strings are borrowed from the frame: valid as long as it is.
 */
#ifndef TAPE_PROTOCOL_HEARTBEAT_H
#define TAPE_PROTOCOL_HEARTBEAT_H

#include "protocol/codec.h"

#define HEARTBEAT_VERSION_MIN 0
#define HEARTBEAT_VERSION_MAX 3

struct heartbeat_request {
	struct kstr group_id; /* borrowed */
	int32_t generation_id;
	struct kstr member_id;         /* borrowed */
	struct kstr group_instance_id; /* borrowed; v3+, nullable */
};

struct heartbeat_response {
	int32_t throttle_time_ms; /* v1+ */
	int16_t error_code;
};

/* v0-3. Returns 0 or -TAPE_EPROTO (bad version, malformed, bytes left over). */
int heartbeat_request_decode(struct cursor *c, struct arena *a, int16_t version,
                             struct heartbeat_request *out);
/* v0-3; another version, or a null where the schema has none, marks the buffer bad. */
void heartbeat_request_encode(struct buf *b, int16_t version, const struct heartbeat_request *r);
/* v0-3; another version, or a null where the schema has none, marks the buffer bad. */
void heartbeat_response_encode(struct buf *b, int16_t version, const struct heartbeat_response *r);
/* v0-3. Returns 0 or -TAPE_EPROTO. */
int heartbeat_response_decode(struct cursor *c, struct arena *a, int16_t version,
                              struct heartbeat_response *out);

#endif
