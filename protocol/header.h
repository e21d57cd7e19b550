/*
 * protocol/header.h: framing and the request/response headers.
 *
 * Frame:            int32 size (bytes that follow), then the header and the body.
 * Request header:   v1: int16 api_key, int16 api_version, int32 correlation_id,
 *                       nullable string client_id (int16 length even in flexible versions);
 *                   v2: v1 + tagged fields, used when the request version is flexible.
 * Response header:  v0: int32 correlation_id; v1: v0 + tagged fields, when the response
 *                   version is flexible, except ApiVersions, whose response header is always
 *                   v0 (so a client that sent a version too new can still read the answer).
 */
#ifndef TAPE_PROTOCOL_HEADER_H
#define TAPE_PROTOCOL_HEADER_H

#include "protocol/codec.h"

#include <stdint.h>

#define FRAME_SIZE_BYTES 4
/* The smallest request: a v1 header with a null client id. */
#define REQUEST_HEADER_MIN_BYTES 10

struct request_header {
	int16_t api_key;
	int16_t api_version;
	int32_t correlation_id;
	struct kstr client_id;
	bool flexible; /* header v2: the body is flexible too */
};

/* The size of the frame at buf (prefix included): 0 when fewer than 4 bytes are there,
 * -TAPE_EPROTO when the size is below a request header or above max_bytes. */
int64_t frame_peek(const uint8_t *buf, size_t len, uint32_t max_bytes);

/* Reads a request header. An API key the codec does not know is read as header v1, so the
 * caller can still answer (or close) by correlation id. Returns 0 or -TAPE_EPROTO. */
int request_header_decode(struct cursor *c, struct request_header *h);
void request_header_encode(struct buf *b, const struct request_header *h);

/* The response header for a request. */
void response_header_encode(struct buf *b, const struct request_header *req);
/* Reads a response header (client side); flexible as the request was. */
int response_header_decode(struct cursor *c, bool flexible, int32_t *correlation_id);

#endif
