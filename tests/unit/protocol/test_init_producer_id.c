/*
 * tests/unit/protocol/test_init_producer_id.c: the InitProducerId codec
 * (protocol/init_producer_id.c), versions 0-1 (the same layout).
 *
 * Covers: request and response round trips at both versions with non-default values, with a
 * transactional id and with the null one idempotent producers send; the request librdkafka
 * sends for enable.idempotence (null id, timeout -1) and kafkajs' (timeout 60000), and a
 * response, checked byte for byte against arrays written from the schema; every truncation and
 * a trailing byte refused; an absurd transactional_id length and a negative one other than -1
 * refused; versions outside 0-1 refused.
 */
#include "protocol/init_producer_id.h"

#include "codec_check.h"

static int dec_request(struct cursor *c, struct arena *a, int16_t version)
{
	struct init_producer_id_request r;
	return init_producer_id_request_decode(c, a, version, &r);
}

static int dec_response(struct cursor *c, struct arena *a, int16_t version)
{
	struct init_producer_id_response r;
	return init_producer_id_response_decode(c, a, version, &r);
}

Test(init_producer_id, request_round_trip_every_version)
{
	const struct kstr ids[] = { KSTR("txn-1"), KSTR_NULL, KSTR("") };
	for (int16_t v = INIT_PRODUCER_ID_VERSION_MIN; v <= INIT_PRODUCER_ID_VERSION_MAX; v++) {
		for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
			struct init_producer_id_request r = { ids[i], 60000 }, got;
			struct buf b;
			struct arena a;
			buf_init(&b, CHECK_BUF_LIMIT);
			arena_init(&a, CHECK_ARENA_LIMIT);
			init_producer_id_request_encode(&b, v, &r);
			cr_assert(buf_ok(&b));
			struct cursor c;
			cursor_init(&c, b.p, b.len);
			cr_assert_eq(init_producer_id_request_decode(&c, &a, v, &got), 0, "v%d", v);
			cr_assert_kstr(got.transactional_id, ids[i]);
			cr_assert_eq(got.transaction_timeout_ms, 60000);
			check_every_prefix(dec_request, v, b.p, b.len);
			cr_assert_eq(a.used, 0u);
			buf_free(&b);
			arena_free(&a);
		}
	}
}

Test(init_producer_id, request_bytes)
{
	/* librdkafka 2.0.2, enable.idempotence=true (kafka-protocol.md §2 (b')). */
	static const uint8_t librdkafka[] = {
		0xff, 0xff,             /* transactional_id null */
		0xff, 0xff, 0xff, 0xff, /* transaction_timeout_ms -1 */
	};
	static const uint8_t with_id[] = {
		0x00, 0x02, 't',  'x',  /* transactional_id "tx" */
		0x00, 0x00, 0xea, 0x60, /* transaction_timeout_ms 60000 */
	};
	struct init_producer_id_request r = { KSTR_NULL, -1 };
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	init_producer_id_request_encode(&b, 1, &r);
	check_bytes(&b, librdkafka, sizeof(librdkafka));
	buf_clear(&b);
	r = (struct init_producer_id_request){ KSTR("tx"), 60000 };
	init_producer_id_request_encode(&b, 0, &r);
	check_bytes(&b, with_id, sizeof(with_id));
	buf_free(&b);
}

Test(init_producer_id, request_bad_lengths)
{
	static const uint8_t absurd[] = { 0x7f, 0xff, 'a', 'b', 0, 0, 0, 0 };
	static const uint8_t minus_two[] = { 0xff, 0xfe, 0, 0, 0, 0 };
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	cr_assert_eq(check_decode(dec_request, 1, absurd, sizeof(absurd), &a), -TAPE_EPROTO);
	cr_assert_eq(check_decode(dec_request, 1, minus_two, sizeof(minus_two), &a), -TAPE_EPROTO);
	cr_assert_eq(a.used, 0u);
	arena_free(&a);
}

Test(init_producer_id, response_round_trip_every_version)
{
	struct init_producer_id_response r = { 25, 47, 0x0102030405060708ll, 7 }, got;
	for (int16_t v = INIT_PRODUCER_ID_VERSION_MIN; v <= INIT_PRODUCER_ID_VERSION_MAX; v++) {
		struct buf b;
		struct arena a;
		buf_init(&b, CHECK_BUF_LIMIT);
		arena_init(&a, CHECK_ARENA_LIMIT);
		init_producer_id_response_encode(&b, v, &r);
		cr_assert(buf_ok(&b));
		struct cursor c;
		cursor_init(&c, b.p, b.len);
		cr_assert_eq(init_producer_id_response_decode(&c, &a, v, &got), 0, "v%d", v);
		cr_assert_eq(got.throttle_time_ms, 25);
		cr_assert_eq(got.error_code, 47);
		cr_assert_eq(got.producer_id, 0x0102030405060708ll);
		cr_assert_eq(got.producer_epoch, 7);
		check_every_prefix(dec_response, v, b.p, b.len);
		buf_free(&b);
		arena_free(&a);
	}
}

Test(init_producer_id, response_bytes)
{
	static const uint8_t want[] = {
		0x00, 0x00, 0x00, 0x00,                         /* throttle_time_ms 0 */
		0x00, 0x00,                                     /* error_code 0 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe9, /* producer_id 1001 */
		0x00, 0x00,                                     /* producer_epoch 0 */
	};
	struct init_producer_id_response r = { 0, 0, 1001, 0 };
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	init_producer_id_response_encode(&b, 1, &r);
	check_bytes(&b, want, sizeof(want));
	buf_free(&b);
}

Test(init_producer_id, versions_out_of_range)
{
	struct init_producer_id_request req = { KSTR_NULL, -1 };
	struct init_producer_id_response resp = { 0, 0, 1, 0 };
	static const uint8_t zeros[16];
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	const int16_t bad[] = { -1, 2, 5 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b;
		buf_init(&b, CHECK_BUF_LIMIT);
		init_producer_id_request_encode(&b, bad[i], &req);
		cr_assert(!buf_ok(&b));
		buf_clear(&b);
		init_producer_id_response_encode(&b, bad[i], &resp);
		cr_assert(!buf_ok(&b));
		buf_free(&b);
		cr_assert_eq(check_decode(dec_request, bad[i], zeros, 6, &a), -TAPE_EPROTO);
		cr_assert_eq(check_decode(dec_response, bad[i], zeros, 16, &a), -TAPE_EPROTO);
	}
	arena_free(&a);
}
