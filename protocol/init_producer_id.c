/*
 * protocol/init_producer_id.c: the InitProducerId codec (layouts in init_producer_id.h). Knows
 * the wire format only; handing out producer ids is server/'s business.
 */
#include "protocol/init_producer_id.h"

#include "base/errors.h"

static bool version_ok(int16_t version)
{
	return version >= INIT_PRODUCER_ID_VERSION_MIN && version <= INIT_PRODUCER_ID_VERSION_MAX;
}

int init_producer_id_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                    struct init_producer_id_request *out)
{
	(void)a;
	*out = (struct init_producer_id_request){ .transactional_id = KSTR_NULL };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->transactional_id = kafka_get_string(c, false, true);
	out->transaction_timeout_ms = cursor_i32(c);
	return kafka_decode_end(c);
}

void init_producer_id_request_encode(struct buf *b, int16_t version,
                                     const struct init_producer_id_request *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	kafka_put_string(b, r->transactional_id, false);
	buf_i32(b, r->transaction_timeout_ms);
}

void init_producer_id_response_encode(struct buf *b, int16_t version,
                                      const struct init_producer_id_response *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	buf_i32(b, r->throttle_time_ms);
	buf_i16(b, r->error_code);
	buf_i64(b, r->producer_id);
	buf_i16(b, r->producer_epoch);
}

int init_producer_id_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                     struct init_producer_id_response *out)
{
	(void)a;
	*out = (struct init_producer_id_response){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->throttle_time_ms = cursor_i32(c);
	out->error_code = cursor_i16(c);
	out->producer_id = cursor_i64(c);
	out->producer_epoch = cursor_i16(c);
	return kafka_decode_end(c);
}
