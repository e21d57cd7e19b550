/*
 * protocol/find_coordinator.h: FindCoordinator (API 10) bodies, versions 0-2 (v3+ are
 * flexible and not implemented; v4+ would batch coordinator keys). A client asks any broker
 * which one coordinates a group (key_type 0) or a transactional id (key_type 1).
 *
 * Request
 *   key               string
 *   key_type          int8             v1+ (default 0)
 *
 * Response
 *   throttle_time_ms  int32            v1+ (default 0)
 *   error_code        int16
 *   error_message     nullable string  v1+ (default null)
 *   node_id           int32
 *   host              string
 *   port              int32
 *
 * Decoded strings are borrowed from the frame: valid as long as it is.
 */
#ifndef TAPE_PROTOCOL_FIND_COORDINATOR_H
#define TAPE_PROTOCOL_FIND_COORDINATOR_H

#include "protocol/codec.h"

#define FIND_COORDINATOR_VERSION_MIN 0
#define FIND_COORDINATOR_VERSION_MAX 2

struct find_coordinator_request {
	struct kstr key; /* borrowed */
	int8_t key_type; /* v1+: 0 group, 1 transaction */
};

struct find_coordinator_response {
	int32_t throttle_time_ms; /* v1+ */
	int16_t error_code;
	struct kstr error_message; /* borrowed; v1+, nullable */
	int32_t node_id;
	struct kstr host; /* borrowed */
	int32_t port;
};

/* v0-2. Returns 0 or -TAPE_EPROTO (bad version, malformed, bytes left over). */
int find_coordinator_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                    struct find_coordinator_request *out);
/* v0-2; another version, or a null where the schema has none, marks the buffer bad. */
void find_coordinator_request_encode(struct buf *b, int16_t version,
                                     const struct find_coordinator_request *r);
/* v0-2; another version, or a null where the schema has none, marks the buffer bad. */
void find_coordinator_response_encode(struct buf *b, int16_t version,
                                      const struct find_coordinator_response *r);
/* v0-2. Returns 0 or -TAPE_EPROTO. */
int find_coordinator_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                     struct find_coordinator_response *out);

#endif
