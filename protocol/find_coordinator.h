/*
 * protocol/find_coordinator.h: FindCoordinator (key 10), versions 0-2. v3 is the first flexible
 * version (and v4 batches the keys); both clients use v2 (kafka-protocol.md §1). librdkafka
 * 2.0.2 needs v0 advertised, or it turns off lz4 and group coordinator lookups (§4).
 *
 * Request body:
 *   key              string         the group id (or transactional id)
 *   key_type         int8           v1+ (default 0): 0 group, 1 transaction
 *
 * Response body:
 *   throttle_time_ms int32          v1+ (default 0)
 *   error_code       int16
 *   error_message    nullable string v1+ (default null)
 *   node_id          int32          the coordinator; -1 with an error
 *   host             string         "" with an error
 *   port             int32          -1 with an error
 *
 * Lifetimes: the strings a decoder returns are borrowed from the decoded frame.
 */
#ifndef TAPE_PROTOCOL_FIND_COORDINATOR_H
#define TAPE_PROTOCOL_FIND_COORDINATOR_H

#include "protocol/codec.h"

#define FIND_COORDINATOR_VERSION_MIN 0
#define FIND_COORDINATOR_VERSION_MAX 2

#define FIND_COORDINATOR_KEY_GROUP 0
#define FIND_COORDINATOR_KEY_TRANSACTION 1

struct find_coordinator_request {
	struct kstr key; /* borrowed */
	int8_t key_type; /* v1+; default 0 */
};

struct find_coordinator_response {
	int32_t throttle_time_ms; /* v1+; default 0 */
	int16_t error_code;
	struct kstr error_message; /* v1+; nullable; borrowed; default null */
	int32_t node_id;
	struct kstr host; /* borrowed */
	int32_t port;
};

/* v0-2. Returns 0, or -TAPE_EPROTO for a malformed body, bytes left over, or another version.
 * Fields absent from the version get the defaults above. */
int find_coordinator_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                    struct find_coordinator_request *out);
/* v0-2; another version marks b bad. */
void find_coordinator_request_encode(struct buf *b, int16_t version,
                                     const struct find_coordinator_request *r);
/* v0-2; another version marks b bad. */
void find_coordinator_response_encode(struct buf *b, int16_t version,
                                      const struct find_coordinator_response *r);
/* v0-2. Returns 0 or -TAPE_EPROTO, as the request decoder. */
int find_coordinator_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                     struct find_coordinator_response *out);

#endif
