/*
 * tests/unit/protocol/test_alter_configs.c: the AlterConfigs codec (protocol/alter_configs.c),
 * versions 0-1 (the same layout).
 *
 * Covers: request and response round trips at both versions with non-default values in every
 * field (a null value, an empty config list, validate_only true and false, an error message
 * and a null one); a v0 request and a v1 response checked byte for byte against arrays
 * written from Kafka's AlterConfigs schema field order; every truncation and a trailing byte
 * refused at both versions; nulls the schema does not allow; absurd counts refused without a
 * large allocation; versions outside 0-1 refused both ways.
 */
#include "protocol/alter_configs.h"

#include "codec_check.h"

static int dec_request(struct cursor *c, struct arena *a, int16_t version)
{
	struct alter_configs_request r;
	return alter_configs_request_decode(c, a, version, &r);
}

static int dec_response(struct cursor *c, struct arena *a, int16_t version)
{
	struct alter_configs_response r;
	return alter_configs_response_decode(c, a, version, &r);
}

/* ---- request ----------------------------------------------------------------------------- */

static struct alter_configs_alterable_config configs[] = {
	{ KSTR("retention.ms"), KSTR("3600000") },
	{ KSTR("cleanup.policy"), KSTR_NULL },
	{ KSTR(""), KSTR("") },
};
static struct alter_configs_resource resources[] = {
	{ 2, KSTR("events"), 3, configs },
	{ 4, KSTR("1"), 0, NULL },
};

Test(alter_configs, request_round_trip_every_version)
{
	for (int16_t v = ALTER_CONFIGS_VERSION_MIN; v <= ALTER_CONFIGS_VERSION_MAX; v++) {
		for (int only = 0; only < 2; only++) {
			struct alter_configs_request r = { 2, resources, only }, got;
			struct buf b;
			struct arena a;
			buf_init(&b, CHECK_BUF_LIMIT);
			arena_init(&a, CHECK_ARENA_LIMIT);
			alter_configs_request_encode(&b, v, &r);
			cr_assert(buf_ok(&b));
			struct cursor c;
			cursor_init(&c, b.p, b.len);
			cr_assert_eq(alter_configs_request_decode(&c, &a, v, &got), 0, "v%d", v);
			cr_assert_eq(got.resources_count, 2);
			for (int i = 0; i < 2; i++) {
				const struct alter_configs_resource *g = &got.resources[i],
				                                    *w = &resources[i];
				cr_assert_eq(g->resource_type, w->resource_type);
				cr_assert_kstr(g->resource_name, w->resource_name);
				cr_assert_eq(g->configs_count, w->configs_count);
				for (int32_t j = 0; j < w->configs_count; j++) {
					cr_assert_kstr(g->configs[j].name, w->configs[j].name);
					cr_assert_kstr(g->configs[j].value, w->configs[j].value);
				}
			}
			cr_assert_eq(got.validate_only, (bool)only, "v%d", v);
			check_every_prefix(dec_request, v, b.p, b.len);
			buf_free(&b);
			arena_free(&a);
		}
	}
}

Test(alter_configs, request_bytes_v0)
{
	static const uint8_t want[] = {
		0x00, 0x00, 0x00, 0x01, /* resources: 1 */
		0x02,                   /* resource_type TOPIC */
		0x00, 0x01, 't',        /* resource_name "t" */
		0x00, 0x00, 0x00, 0x02, /* configs: 2 */
		0x00, 0x02, 'k',  '1',  /* name "k1" */
		0x00, 0x02, 'v',  '1',  /* value "v1" */
		0x00, 0x02, 'k',  '2',  /* name "k2" */
		0xff, 0xff,             /* value null */
		0x01,                   /* validate_only */
	};
	struct alter_configs_alterable_config cf[] = {
		{ KSTR("k1"), KSTR("v1") },
		{ KSTR("k2"), KSTR_NULL },
	};
	struct alter_configs_resource res = { 2, KSTR("t"), 2, cf };
	struct alter_configs_request r = { 1, &res, true };
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	alter_configs_request_encode(&b, 0, &r);
	check_bytes(&b, want, sizeof(want));
	buf_free(&b);
}

Test(alter_configs, request_refuses_nulls_and_absurd_counts)
{
	static const uint8_t null_resources[] = {
		0xff, 0xff, 0xff, 0xff, /* resources: null */
		0x00,                   /* validate_only */
	};
	static const uint8_t null_name[] = {
		0x00, 0x00, 0x00, 0x01, /* resources: 1 */
		0x02,                   /* resource_type */
		0xff, 0xff,             /* resource_name null */
		0x00, 0x00, 0x00, 0x00, /* configs: 0 */
		0x00,                   /* validate_only */
	};
	static const uint8_t null_configs[] = {
		0x00, 0x00, 0x00, 0x01, /* resources: 1 */
		0x02,                   /* resource_type */
		0x00, 0x00,             /* resource_name "" */
		0xff, 0xff, 0xff, 0xff, /* configs: null */
		0x00,                   /* validate_only */
	};
	static const uint8_t null_key[] = {
		0x00, 0x00, 0x00, 0x01, /* resources: 1 */
		0x02,                   /* resource_type */
		0x00, 0x00,             /* resource_name "" */
		0x00, 0x00, 0x00, 0x01, /* configs: 1 */
		0xff, 0xff,             /* name null */
		0xff, 0xff,             /* value null */
		0x00,                   /* validate_only */
	};
	static const uint8_t huge_resources[] = {
		0x7f, 0xff, 0xff, 0xff,             /* resources: 2^31 - 1 */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, /* */
		0x00, 0x00,                         /* */
	};
	static const uint8_t huge_configs[] = {
		0x00, 0x00, 0x00, 0x01, /* resources: 1 */
		0x02,                   /* resource_type */
		0x00, 0x00,             /* resource_name "" */
		0x7f, 0xff, 0xff, 0xff, /* configs: 2^31 - 1 */
		0x00, 0x00, 0x00, 0x00, /* */
	};
	static const uint8_t long_name[] = {
		0x00, 0x00, 0x00, 0x01, /* resources: 1 */
		0x02,                   /* resource_type */
		0x7f, 0xff,             /* resource_name: 32767 bytes */
		0x00, 0x00, 0x00, 0x00, /* */
		0x00,                   /* */
	};
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	for (int16_t v = ALTER_CONFIGS_VERSION_MIN; v <= ALTER_CONFIGS_VERSION_MAX; v++) {
		arena_reset(&a);
		cr_assert_eq(
		    check_decode(dec_request, v, null_resources, sizeof(null_resources), &a),
		    -TAPE_EPROTO);
		cr_assert_eq(
		    check_decode(dec_request, v, huge_resources, sizeof(huge_resources), &a),
		    -TAPE_EPROTO);
		cr_assert_eq(a.used, 0u);
		cr_assert_eq(check_decode(dec_request, v, huge_configs, sizeof(huge_configs), &a),
		             -TAPE_EPROTO);
		cr_assert_leq(a.used, 64u);
		cr_assert_eq(check_decode(dec_request, v, long_name, sizeof(long_name), &a),
		             -TAPE_EPROTO);
		cr_assert_eq(check_decode(dec_request, v, null_name, sizeof(null_name), &a),
		             -TAPE_EPROTO);
		cr_assert_eq(check_decode(dec_request, v, null_configs, sizeof(null_configs), &a),
		             -TAPE_EPROTO);
		cr_assert_eq(check_decode(dec_request, v, null_key, sizeof(null_key), &a),
		             -TAPE_EPROTO);
		cr_assert_leq(a.used, 256u);
	}
	arena_free(&a);
}

/* ---- response ---------------------------------------------------------------------------- */

static struct alter_configs_resource_response responses[] = {
	{ 0, KSTR_NULL, 2, KSTR("events") },
	{ 40, KSTR("retention.ms: not a number"), 2, KSTR("orders") },
	{ 42, KSTR(""), 4, KSTR("1") },
};

Test(alter_configs, response_round_trip_every_version)
{
	struct alter_configs_response r = { 250, 3, responses }, got;
	for (int16_t v = ALTER_CONFIGS_VERSION_MIN; v <= ALTER_CONFIGS_VERSION_MAX; v++) {
		struct buf b;
		struct arena a;
		buf_init(&b, CHECK_BUF_LIMIT);
		arena_init(&a, CHECK_ARENA_LIMIT);
		alter_configs_response_encode(&b, v, &r);
		cr_assert(buf_ok(&b));
		struct cursor c;
		cursor_init(&c, b.p, b.len);
		cr_assert_eq(alter_configs_response_decode(&c, &a, v, &got), 0, "v%d", v);
		cr_assert_eq(got.throttle_time_ms, 250);
		cr_assert_eq(got.responses_count, 3);
		for (int i = 0; i < 3; i++) {
			cr_assert_eq(got.responses[i].error_code, responses[i].error_code);
			cr_assert_kstr(got.responses[i].error_message, responses[i].error_message);
			cr_assert_eq(got.responses[i].resource_type, responses[i].resource_type);
			cr_assert_kstr(got.responses[i].resource_name, responses[i].resource_name);
		}
		check_every_prefix(dec_response, v, b.p, b.len);
		buf_free(&b);
		arena_free(&a);
	}
}

Test(alter_configs, response_bytes_v1)
{
	static const uint8_t want[] = {
		0x00, 0x00, 0x00, 0x07, /* throttle_time_ms 7 */
		0x00, 0x00, 0x00, 0x02, /* responses: 2 */
		0x00, 0x00,             /* error_code 0 */
		0xff, 0xff,             /* error_message null */
		0x02,                   /* resource_type TOPIC */
		0x00, 0x01, 't',        /* resource_name "t" */
		0x00, 0x28,             /* error_code 40 INVALID_CONFIG */
		0x00, 0x01, 'x',        /* error_message "x" */
		0x04,                   /* resource_type BROKER */
		0x00, 0x01, '0',        /* resource_name "0" */
	};
	struct alter_configs_resource_response res[] = {
		{ 0, KSTR_NULL, 2, KSTR("t") },
		{ 40, KSTR("x"), 4, KSTR("0") },
	};
	struct alter_configs_response r = { 7, 2, res };
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	alter_configs_response_encode(&b, 1, &r);
	check_bytes(&b, want, sizeof(want));
	buf_free(&b);
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	cr_assert_eq(check_decode(dec_response, 1, want, sizeof(want), &a), 0);
	arena_free(&a);
}

Test(alter_configs, response_refuses_absurd_counts)
{
	static const uint8_t huge[] = {
		0x00, 0x00, 0x00, 0x00, /* throttle_time_ms */
		0x7f, 0xff, 0xff, 0xff, /* responses: 2^31 - 1 */
		0x00, 0x00, 0xff, 0xff, /* */
	};
	static const uint8_t null_name[] = {
		0x00, 0x00, 0x00, 0x00, /* throttle_time_ms */
		0x00, 0x00, 0x00, 0x01, /* responses: 1 */
		0x00, 0x00, 0xff, 0xff, /* error_code, error_message null */
		0x02, 0xff, 0xff,       /* resource_type, resource_name null */
	};
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	cr_assert_eq(check_decode(dec_response, 0, huge, sizeof(huge), &a), -TAPE_EPROTO);
	cr_assert_eq(a.used, 0u);
	cr_assert_eq(check_decode(dec_response, 0, null_name, sizeof(null_name), &a), -TAPE_EPROTO);
	arena_free(&a);
}

Test(alter_configs, versions_outside_range_refused)
{
	struct alter_configs_request r = { 1, resources, false };
	struct alter_configs_response resp = { 0, 1, responses };
	const int16_t bad[] = { -1, 2, 3 };
	uint8_t body[8] = { 0 };
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b;
		buf_init(&b, CHECK_BUF_LIMIT);
		alter_configs_request_encode(&b, bad[i], &r);
		cr_assert(!buf_ok(&b));
		buf_free(&b);
		buf_init(&b, CHECK_BUF_LIMIT);
		alter_configs_response_encode(&b, bad[i], &resp);
		cr_assert(!buf_ok(&b));
		buf_free(&b);
		cr_assert_eq(check_decode(dec_request, bad[i], body, 5, &a), -TAPE_EPROTO);
		cr_assert_eq(check_decode(dec_response, bad[i], body, 8, &a), -TAPE_EPROTO);
	}
	arena_free(&a);
}
