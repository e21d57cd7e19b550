/*
 * tests/unit/protocol/test_describe_configs.c: the DescribeConfigs codec
 * (protocol/describe_configs.c), versions 0-2.
 *
 * Covers: request and response round trips at every version with non-default values in every
 * field (null and listed configuration keys, null values, synonyms; is_default exists only at
 * v0, config_source and synonyms from v1, and each comes back as its default where absent); a
 * v1 request and v0 and v1 responses checked byte for byte against arrays written from the
 * schema; every truncation and a trailing byte refused at every version; nulls the schema does
 * not allow; absurd counts at each level of nesting refused without allocating more than the
 * elements before them; versions outside 0-2 refused.
 */
#include "protocol/describe_configs.h"

#include "codec_check.h"

static int dec_request(struct cursor *c, struct arena *a, int16_t version)
{
	struct describe_configs_request r;
	return describe_configs_request_decode(c, a, version, &r);
}

static int dec_response(struct cursor *c, struct arena *a, int16_t version)
{
	struct describe_configs_response r;
	return describe_configs_response_decode(c, a, version, &r);
}

/* ---- request ----------------------------------------------------------------------------- */

static struct kstr keys[] = { KSTR("retention.ms"), KSTR("cleanup.policy") };
static struct describe_configs_resource resources[] = {
	{ 2, KSTR("events"), 2, keys },
	{ 4, KSTR("1"), -1, NULL },
	{ -1, KSTR(""), 0, NULL },
};

Test(describe_configs, request_round_trip_every_version)
{
	struct describe_configs_request r = { 3, resources, true }, got;
	for (int16_t v = DESCRIBE_CONFIGS_VERSION_MIN; v <= DESCRIBE_CONFIGS_VERSION_MAX; v++) {
		struct buf b;
		struct arena a;
		buf_init(&b, CHECK_BUF_LIMIT);
		arena_init(&a, CHECK_ARENA_LIMIT);
		describe_configs_request_encode(&b, v, &r);
		cr_assert(buf_ok(&b));
		struct cursor c;
		cursor_init(&c, b.p, b.len);
		cr_assert_eq(describe_configs_request_decode(&c, &a, v, &got), 0, "v%d", v);
		cr_assert_eq(got.resources_count, 3);
		for (int i = 0; i < 3; i++) {
			const struct describe_configs_resource *g = &got.resources[i],
			                                       *w = &resources[i];
			cr_assert_eq(g->resource_type, w->resource_type);
			cr_assert_kstr(g->resource_name, w->resource_name);
			cr_assert_eq(g->configuration_keys_count, w->configuration_keys_count);
			for (int32_t j = 0; j < w->configuration_keys_count; j++)
				cr_assert_kstr(g->configuration_keys[j], w->configuration_keys[j]);
		}
		cr_assert_eq(got.include_synonyms, v >= 1, "v%d", v);
		check_every_prefix(dec_request, v, b.p, b.len);
		buf_free(&b);
		arena_free(&a);
	}
}

Test(describe_configs, request_bytes_v1)
{
	static const uint8_t want[] = {
		0x00, 0x00, 0x00, 0x02, /* resources: 2 */
		0x02,                   /* resource_type TOPIC */
		0x00, 0x01, 't',        /* resource_name "t" */
		0x00, 0x00, 0x00, 0x01, /* configuration_keys: 1 */
		0x00, 0x02, 'k',  '1',  /* "k1" */
		0x04,                   /* resource_type BROKER */
		0x00, 0x01, '0',        /* resource_name "0" */
		0xff, 0xff, 0xff, 0xff, /* configuration_keys: null */
		0x01,                   /* include_synonyms */
	};
	struct kstr k = KSTR("k1");
	struct describe_configs_resource res[] = {
		{ 2, KSTR("t"), 1, &k },
		{ 4, KSTR("0"), -1, NULL },
	};
	struct describe_configs_request r = { 2, res, true };
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	describe_configs_request_encode(&b, 1, &r);
	check_bytes(&b, want, sizeof(want));
	buf_free(&b);
}

Test(describe_configs, request_refuses_nulls_and_absurd_counts)
{
	static const uint8_t null_resources[] = {
		0xff, 0xff, 0xff, 0xff, /* resources: null */
		0x00,                   /* include_synonyms */
	};
	static const uint8_t null_name[] = {
		0x00, 0x00, 0x00, 0x01, /* resources: 1 */
		0x02,                   /* resource_type */
		0xff, 0xff,             /* resource_name null */
		0xff, 0xff, 0xff, 0xff, /* configuration_keys: null */
		0x00,                   /* include_synonyms */
	};
	static const uint8_t null_key[] = {
		0x00, 0x00, 0x00, 0x01, /* resources: 1 */
		0x02,                   /* resource_type */
		0x00, 0x00,             /* resource_name "" */
		0x00, 0x00, 0x00, 0x01, /* configuration_keys: 1 */
		0xff, 0xff,             /* null */
		0x00,                   /* include_synonyms */
	};
	static const uint8_t huge_resources[] = {
		0x7f, 0xff, 0xff, 0xff,             /* resources: 2^31 - 1 */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, /* */
		0x00, 0x00,                         /* */
	};
	static const uint8_t huge_keys[] = {
		0x00, 0x00, 0x00, 0x01, /* resources: 1 */
		0x02,                   /* resource_type */
		0x00, 0x00,             /* resource_name "" */
		0x7f, 0xff, 0xff, 0xff, /* configuration_keys: 2^31 - 1 */
		0x00, 0x00, 0x00,       /* */
	};
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	cr_assert_eq(check_decode(dec_request, 1, null_resources, sizeof(null_resources), &a),
	             -TAPE_EPROTO);
	cr_assert_eq(check_decode(dec_request, 1, huge_resources, sizeof(huge_resources), &a),
	             -TAPE_EPROTO);
	cr_assert_eq(a.used, 0u);
	cr_assert_eq(check_decode(dec_request, 1, huge_keys, sizeof(huge_keys), &a), -TAPE_EPROTO);
	cr_assert_leq(a.used, 64u);
	cr_assert_eq(check_decode(dec_request, 1, null_name, sizeof(null_name), &a), -TAPE_EPROTO);
	cr_assert_eq(check_decode(dec_request, 1, null_key, sizeof(null_key), &a), -TAPE_EPROTO);
	arena_free(&a);
}

/* ---- response ---------------------------------------------------------------------------- */

static struct describe_configs_synonym synonyms[] = {
	{ KSTR("log.retention.ms"), KSTR_NULL, 4 },
	{ KSTR("retention.ms"), KSTR("604800000"), 1 },
};
static struct describe_configs_resource_result configs[] = {
	{ KSTR("retention.ms"), KSTR("604800000"), false, true, 5, false, 2, synonyms },
	{ KSTR("sasl.password"), KSTR_NULL, true, false, 1, true, 0, NULL },
};
static struct describe_configs_result results[] = {
	{ 0, KSTR_NULL, 2, KSTR("events"), 2, configs },
	{ 3, KSTR("unknown"), 2, KSTR("gone"), 0, NULL },
};

static void check_config(int16_t v, const struct describe_configs_resource_result *g,
                         const struct describe_configs_resource_result *w)
{
	cr_assert_kstr(g->name, w->name);
	cr_assert_kstr(g->value, w->value);
	cr_assert_eq(g->read_only, w->read_only);
	cr_assert_eq(g->is_default, v == 0 && w->is_default, "v%d", v);
	cr_assert_eq(g->config_source, v >= 1 ? w->config_source : -1, "v%d", v);
	cr_assert_eq(g->is_sensitive, w->is_sensitive);
	cr_assert_eq(g->synonyms_count, v >= 1 ? w->synonyms_count : 0, "v%d", v);
	for (int32_t i = 0; i < g->synonyms_count; i++) {
		cr_assert_kstr(g->synonyms[i].name, w->synonyms[i].name);
		cr_assert_kstr(g->synonyms[i].value, w->synonyms[i].value);
		cr_assert_eq(g->synonyms[i].source, w->synonyms[i].source);
	}
}

Test(describe_configs, response_round_trip_every_version)
{
	struct describe_configs_response r = { 3, 2, results }, got;
	for (int16_t v = DESCRIBE_CONFIGS_VERSION_MIN; v <= DESCRIBE_CONFIGS_VERSION_MAX; v++) {
		struct buf b;
		struct arena a;
		buf_init(&b, CHECK_BUF_LIMIT);
		arena_init(&a, CHECK_ARENA_LIMIT);
		describe_configs_response_encode(&b, v, &r);
		cr_assert(buf_ok(&b));
		struct cursor c;
		cursor_init(&c, b.p, b.len);
		cr_assert_eq(describe_configs_response_decode(&c, &a, v, &got), 0, "v%d", v);
		cr_assert_eq(got.throttle_time_ms, 3);
		cr_assert_eq(got.results_count, 2);
		for (int i = 0; i < 2; i++) {
			const struct describe_configs_result *g = &got.results[i], *w = &results[i];
			cr_assert_eq(g->error_code, w->error_code);
			cr_assert_kstr(g->error_message, w->error_message);
			cr_assert_eq(g->resource_type, w->resource_type);
			cr_assert_kstr(g->resource_name, w->resource_name);
			cr_assert_eq(g->configs_count, w->configs_count);
			for (int32_t j = 0; j < w->configs_count; j++)
				check_config(v, &g->configs[j], &w->configs[j]);
		}
		check_every_prefix(dec_response, v, b.p, b.len);
		buf_free(&b);
		arena_free(&a);
	}
}

Test(describe_configs, response_bytes_v0_v1)
{
	static const uint8_t v0[] = {
		0x00, 0x00, 0x00, 0x00, /* throttle_time_ms */
		0x00, 0x00, 0x00, 0x01, /* results: 1 */
		0x00, 0x00,             /* error_code */
		0xff, 0xff,             /* error_message null */
		0x02,                   /* resource_type TOPIC */
		0x00, 0x01, 't',        /* resource_name "t" */
		0x00, 0x00, 0x00, 0x01, /* configs: 1 */
		0x00, 0x01, 'k',        /* name "k" */
		0x00, 0x01, 'v',        /* value "v" */
		0x00,                   /* read_only false */
		0x01,                   /* is_default true */
		0x00,                   /* is_sensitive false */
	};
	static const uint8_t v1[] = {
		0x00, 0x00, 0x00, 0x00, /* throttle_time_ms */
		0x00, 0x00, 0x00, 0x01, /* results: 1 */
		0x00, 0x00,             /* error_code */
		0xff, 0xff,             /* error_message null */
		0x02,                   /* resource_type TOPIC */
		0x00, 0x01, 't',        /* resource_name "t" */
		0x00, 0x00, 0x00, 0x01, /* configs: 1 */
		0x00, 0x01, 'k',        /* name "k" */
		0x00, 0x01, 'v',        /* value "v" */
		0x00,                   /* read_only false */
		0x05,                   /* config_source DEFAULT_CONFIG */
		0x00,                   /* is_sensitive false */
		0x00, 0x00, 0x00, 0x01, /* synonyms: 1 */
		0x00, 0x01, 's',        /* name "s" */
		0xff, 0xff,             /* value null */
		0x05,                   /* source */
	};
	struct describe_configs_synonym syn = { KSTR("s"), KSTR_NULL, 5 };
	struct describe_configs_resource_result cf = {
		.name = KSTR("k"),
		.value = KSTR("v"),
		.is_default = true,
		.config_source = 5,
		.synonyms_count = 1,
		.synonyms = &syn,
	};
	struct describe_configs_result res = { 0, KSTR_NULL, 2, KSTR("t"), 1, &cf };
	struct describe_configs_response r = { 0, 1, &res };
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	describe_configs_response_encode(&b, 0, &r);
	check_bytes(&b, v0, sizeof(v0));
	buf_clear(&b);
	describe_configs_response_encode(&b, 1, &r);
	check_bytes(&b, v1, sizeof(v1));
	buf_free(&b);
}

Test(describe_configs, response_absurd_counts)
{
	static const uint8_t huge_results[] = {
		0x00, 0x00, 0x00, 0x00, /* throttle_time_ms */
		0x7f, 0xff, 0xff, 0xff, /* results: 2^31 - 1 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	static const uint8_t huge_configs[] = {
		0x00, 0x00, 0x00, 0x00, /* throttle_time_ms */
		0x00, 0x00, 0x00, 0x01, /* results: 1 */
		0x00, 0x00, 0xff, 0xff, /* error_code, error_message null */
		0x02, 0x00, 0x00,       /* resource_type, resource_name "" */
		0x7f, 0xff, 0xff, 0xff, /* configs: 2^31 - 1 */
	};
	static const uint8_t huge_synonyms[] = {
		0x00, 0x00, 0x00, 0x00, /* throttle_time_ms */
		0x00, 0x00, 0x00, 0x01, /* results: 1 */
		0x00, 0x00, 0xff, 0xff, /* error_code, error_message null */
		0x02, 0x00, 0x00,       /* resource_type, resource_name "" */
		0x00, 0x00, 0x00, 0x01, /* configs: 1 */
		0x00, 0x00, 0xff, 0xff, /* name "", value null */
		0x00, 0x05, 0x00,       /* read_only, config_source, is_sensitive */
		0x7f, 0xff, 0xff, 0xff, /* synonyms: 2^31 - 1 */
	};
	/* At v1 a config takes 11 bytes at least; at v0 7. */
	static const uint8_t tight_configs_v1[] = {
		0x00, 0x00, 0x00, 0x00, /* throttle_time_ms */
		0x00, 0x00, 0x00, 0x01, /* results: 1 */
		0x00, 0x00, 0xff, 0xff, /* error_code, error_message null */
		0x02, 0x00, 0x00,       /* resource_type, resource_name "" */
		0x00, 0x00, 0x00, 0x01, /* configs: 1 */
		0x00, 0x00, 0xff, 0xff, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, /* 10 bytes */
	};
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	cr_assert_eq(check_decode(dec_response, 1, huge_results, sizeof(huge_results), &a),
	             -TAPE_EPROTO);
	cr_assert_eq(a.used, 0u);
	cr_assert_eq(check_decode(dec_response, 1, huge_configs, sizeof(huge_configs), &a),
	             -TAPE_EPROTO);
	cr_assert_eq(check_decode(dec_response, 1, huge_synonyms, sizeof(huge_synonyms), &a),
	             -TAPE_EPROTO);
	cr_assert_eq(check_decode(dec_response, 1, tight_configs_v1, sizeof(tight_configs_v1), &a),
	             -TAPE_EPROTO);
	cr_assert_leq(a.used, 512u);
	arena_free(&a);
}

Test(describe_configs, versions_out_of_range)
{
	struct describe_configs_request req = { 3, resources, true };
	struct describe_configs_response resp = { 3, 2, results };
	static const uint8_t zeros[16];
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	const int16_t bad[] = { -1, 3, 4 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b;
		buf_init(&b, CHECK_BUF_LIMIT);
		describe_configs_request_encode(&b, bad[i], &req);
		cr_assert(!buf_ok(&b));
		buf_clear(&b);
		describe_configs_response_encode(&b, bad[i], &resp);
		cr_assert(!buf_ok(&b));
		buf_free(&b);
		cr_assert_eq(check_decode(dec_request, bad[i], zeros, 5, &a), -TAPE_EPROTO);
		cr_assert_eq(check_decode(dec_response, bad[i], zeros, 8, &a), -TAPE_EPROTO);
	}
	arena_free(&a);
}
