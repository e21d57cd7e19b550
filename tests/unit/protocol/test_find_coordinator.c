/*
 * tests/unit/protocol/test_find_coordinator.c: the FindCoordinator codec
 * (protocol/find_coordinator.c), versions 0-2.
 *
 * Covers: request and response round trips at every version with non-default values, the
 * fields a version lacks decoding to their defaults; librdkafka's v2 request for a group and
 * the answer this broker gives (COORDINATOR_NOT_AVAILABLE) at v0 and v2, byte for byte
 * against arrays written from the schema; every truncation and a trailing byte refused; a null
 * key and an absurd key length refused; versions outside 0-2 refused.
 */
#include "protocol/find_coordinator.h"

#include "codec_check.h"

static int dec_request(struct cursor *c, struct arena *a, int16_t version)
{
	struct find_coordinator_request r;
	return find_coordinator_request_decode(c, a, version, &r);
}

static int dec_response(struct cursor *c, struct arena *a, int16_t version)
{
	struct find_coordinator_response r;
	return find_coordinator_response_decode(c, a, version, &r);
}

Test(find_coordinator, request_round_trip_every_version)
{
	for (int16_t v = FIND_COORDINATOR_VERSION_MIN; v <= FIND_COORDINATOR_VERSION_MAX; v++) {
		struct find_coordinator_request r = { KSTR("my-group"), 1 }, got;
		struct buf b;
		struct arena a;
		buf_init(&b, CHECK_BUF_LIMIT);
		arena_init(&a, CHECK_ARENA_LIMIT);
		find_coordinator_request_encode(&b, v, &r);
		cr_assert(buf_ok(&b));
		struct cursor c;
		cursor_init(&c, b.p, b.len);
		cr_assert_eq(find_coordinator_request_decode(&c, &a, v, &got), 0, "v%d", v);
		cr_assert_kstr(got.key, KSTR("my-group"));
		cr_assert_eq(got.key_type, v >= 1 ? 1 : 0, "v%d", v);
		check_every_prefix(dec_request, v, b.p, b.len);
		cr_assert_eq(a.used, 0u);
		buf_free(&b);
		arena_free(&a);
	}
}

Test(find_coordinator, request_bytes)
{
	/* librdkafka 2.0.2, a consumer of group "g1" (kafka-protocol.md §2 (d)). */
	static const uint8_t v2[] = {
		0x00, 0x02, 'g', '1', /* key "g1" */
		0x00,                 /* key_type 0 (group) */
	};
	static const uint8_t v0[] = { 0x00, 0x02, 'g', '1' };
	struct find_coordinator_request r = { KSTR("g1"), FIND_COORDINATOR_KEY_GROUP };
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	find_coordinator_request_encode(&b, 2, &r);
	check_bytes(&b, v2, sizeof(v2));
	buf_clear(&b);
	find_coordinator_request_encode(&b, 0, &r);
	check_bytes(&b, v0, sizeof(v0));
	buf_free(&b);
}

Test(find_coordinator, request_bad_lengths)
{
	static const uint8_t null_key[] = { 0xff, 0xff, 0x00 };
	static const uint8_t absurd[] = { 0x7f, 0xff, 'a', 0x00 };
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	cr_assert_eq(check_decode(dec_request, 2, null_key, sizeof(null_key), &a), -TAPE_EPROTO);
	cr_assert_eq(check_decode(dec_request, 2, absurd, sizeof(absurd), &a), -TAPE_EPROTO);
	cr_assert_eq(a.used, 0u);
	arena_free(&a);
}

Test(find_coordinator, response_round_trip_every_version)
{
	struct find_coordinator_response r = { 25, 15, KSTR("not yet"), 7, KSTR("host-7"), 9093 };
	for (int16_t v = FIND_COORDINATOR_VERSION_MIN; v <= FIND_COORDINATOR_VERSION_MAX; v++) {
		struct find_coordinator_response got;
		struct buf b;
		struct arena a;
		buf_init(&b, CHECK_BUF_LIMIT);
		arena_init(&a, CHECK_ARENA_LIMIT);
		find_coordinator_response_encode(&b, v, &r);
		cr_assert(buf_ok(&b));
		struct cursor c;
		cursor_init(&c, b.p, b.len);
		cr_assert_eq(find_coordinator_response_decode(&c, &a, v, &got), 0, "v%d", v);
		cr_assert_eq(got.throttle_time_ms, v >= 1 ? 25 : 0);
		cr_assert_eq(got.error_code, 15);
		if (v >= 1)
			cr_assert_kstr(got.error_message, KSTR("not yet"));
		else
			cr_assert(kstr_is_null(got.error_message));
		cr_assert_eq(got.node_id, 7);
		cr_assert_kstr(got.host, KSTR("host-7"));
		cr_assert_eq(got.port, 9093);
		check_every_prefix(dec_response, v, b.p, b.len);
		buf_free(&b);
		arena_free(&a);
	}
}

Test(find_coordinator, response_bytes)
{
	/* What handle_find_coordinator answers: COORDINATOR_NOT_AVAILABLE, no node. */
	static const uint8_t v2[] = {
		0x00, 0x00, 0x00, 0x00, /* throttle_time_ms 0 */
		0x00, 0x0f,             /* error_code 15 */
		0xff, 0xff,             /* error_message null */
		0xff, 0xff, 0xff, 0xff, /* node_id -1 */
		0x00, 0x00,             /* host "" */
		0xff, 0xff, 0xff, 0xff, /* port -1 */
	};
	static const uint8_t v0[] = {
		0x00, 0x0f,             /* error_code 15 */
		0xff, 0xff, 0xff, 0xff, /* node_id -1 */
		0x00, 0x00,             /* host "" */
		0xff, 0xff, 0xff, 0xff, /* port -1 */
	};
	struct find_coordinator_response r = { 0, 15, KSTR_NULL, -1, KSTR(""), -1 };
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	find_coordinator_response_encode(&b, 2, &r);
	check_bytes(&b, v2, sizeof(v2));
	buf_clear(&b);
	find_coordinator_response_encode(&b, 0, &r);
	check_bytes(&b, v0, sizeof(v0));
	buf_free(&b);
}

Test(find_coordinator, versions_out_of_range)
{
	struct find_coordinator_request req = { KSTR("g"), 0 };
	struct find_coordinator_response resp = { 0, 0, KSTR_NULL, 0, KSTR("h"), 1 };
	static const uint8_t zeros[32];
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	const int16_t bad[] = { -1, 3, 6 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b;
		buf_init(&b, CHECK_BUF_LIMIT);
		find_coordinator_request_encode(&b, bad[i], &req);
		cr_assert(!buf_ok(&b));
		buf_clear(&b);
		find_coordinator_response_encode(&b, bad[i], &resp);
		cr_assert(!buf_ok(&b));
		buf_free(&b);
		cr_assert_eq(check_decode(dec_request, bad[i], zeros, 3, &a), -TAPE_EPROTO);
		cr_assert_eq(check_decode(dec_response, bad[i], zeros, 18, &a), -TAPE_EPROTO);
	}
	arena_free(&a);
}
