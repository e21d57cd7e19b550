/*
 * protocol/header.c: frames and headers; layouts in header.h.
 */
#include "protocol/header.h"

#include "base/endian.h"
#include "base/errors.h"
#include "protocol/api.h"

int64_t frame_peek(const uint8_t *buf, size_t len, uint32_t max_bytes)
{
	if (len < FRAME_SIZE_BYTES)
		return 0;
	int32_t size = (int32_t)load_be32(buf);
	if (size < REQUEST_HEADER_MIN_BYTES || (uint32_t)size > max_bytes)
		return -TAPE_EPROTO;
	return (int64_t)size + FRAME_SIZE_BYTES;
}

int request_header_decode(struct cursor *c, struct request_header *h)
{
	h->api_key = cursor_i16(c);
	h->api_version = cursor_i16(c);
	h->correlation_id = cursor_i32(c);
	h->client_id = kafka_get_string(c, false, true);
	h->flexible = api_is_flexible(h->api_key, h->api_version);
	if (h->flexible)
		kafka_skip_tagged_fields(c);
	return cursor_ok(c) ? 0 : -TAPE_EPROTO;
}

void request_header_encode(struct buf *b, const struct request_header *h)
{
	buf_i16(b, h->api_key);
	buf_i16(b, h->api_version);
	buf_i32(b, h->correlation_id);
	kafka_put_string(b, h->client_id, false);
	if (api_is_flexible(h->api_key, h->api_version))
		kafka_put_empty_tagged_fields(b);
}

void response_header_encode(struct buf *b, const struct request_header *req)
{
	buf_i32(b, req->correlation_id);
	if (req->flexible && req->api_key != API_API_VERSIONS)
		kafka_put_empty_tagged_fields(b);
}

int response_header_decode(struct cursor *c, bool flexible, int32_t *correlation_id)
{
	*correlation_id = cursor_i32(c);
	if (flexible)
		kafka_skip_tagged_fields(c);
	return cursor_ok(c) ? 0 : -TAPE_EPROTO;
}
