/*
 * protocol/init_producer_id.h: InitProducerId (key 22), versions 0-1. v2 is the first flexible
 * version; tape stops at 1, which is all an idempotent (non-transactional) producer needs
 * (kafka-protocol.md §1: both clients use v1). v0 and v1 have the same layout (from v1 a
 * broker sends the response before throttling a quota violation).
 *
 * Request body (v0-1):
 *   transactional_id nullable string (null for an idempotent producer),
 *   transaction_timeout_ms int32
 *
 * Response body (v0-1):
 *   throttle_time_ms int32, error_code int16, producer_id int64, producer_epoch int16
 *
 * No field is absent from a version in this range, so there are no defaults to fill in.
 */
#ifndef TAPE_PROTOCOL_INIT_PRODUCER_ID_H
#define TAPE_PROTOCOL_INIT_PRODUCER_ID_H

#include "protocol/codec.h"

#define INIT_PRODUCER_ID_VERSION_MIN 0
#define INIT_PRODUCER_ID_VERSION_MAX 1

struct init_producer_id_request {
	struct kstr transactional_id; /* nullable; borrowed from the frame */
	int32_t transaction_timeout_ms;
};

struct init_producer_id_response {
	int32_t throttle_time_ms;
	int16_t error_code;
	int64_t producer_id;
	int16_t producer_epoch;
};

/* v0-1. Returns 0 or -TAPE_EPROTO; transactional_id points into the cursor's buffer. */
int init_producer_id_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                    struct init_producer_id_request *out);
/* v0-1; another version marks b bad. */
void init_producer_id_request_encode(struct buf *b, int16_t version,
                                     const struct init_producer_id_request *r);
/* v0-1; another version marks b bad. */
void init_producer_id_response_encode(struct buf *b, int16_t version,
                                      const struct init_producer_id_response *r);
/* v0-1. Returns 0 or -TAPE_EPROTO. */
int init_producer_id_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                     struct init_producer_id_response *out);

#endif
