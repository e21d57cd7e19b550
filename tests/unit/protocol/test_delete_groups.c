/*
 * tests/unit/protocol/test_delete_groups.c: protocol/delete_groups.c, DeleteGroups v0-1.
 *
 * Covers: encode -> decode round trips of request and response at both versions (same layout),
 * including an empty list; hand-built bytes (from Kafka's DeleteGroups schema) for request and
 * response v0, byte for byte against the encoder and decoded back; every truncation and a
 * trailing byte refused; versions outside 0-1 refused both ways; absurd counts and lengths
 * refused without a large allocation.
 */
#include "protocol/delete_groups.h"

#include "group_codec_check.h"

static const struct kstr sample_names[] = { KSTR("grp"), KSTR("g2") };

static const struct delete_groups_request sample_request = {
	.groups_names_count = 2,
	.groups_names = (struct kstr *)sample_names,
};

static const struct delete_groups_deletable_group_result sample_results[] = {
	{ .group_id = KSTR("grp"), .error_code = 0 },
	{ .group_id = KSTR("g2"), .error_code = 68 },
};

static const struct delete_groups_response sample_response = {
	.throttle_time_ms = 10,
	.results_count = 2,
	.results = (struct delete_groups_deletable_group_result *)sample_results,
};

static void check_request(const struct delete_groups_request *want,
                          const struct delete_groups_request *got, int16_t v)
{
	cr_assert_eq(got->groups_names_count, want->groups_names_count, "v%d names", v);
	for (int32_t i = 0; i < want->groups_names_count; i++)
		cr_assert(kstr_same(got->groups_names[i], want->groups_names[i]), "v%d %d", v, i);
}

static void check_response(const struct delete_groups_response *want,
                           const struct delete_groups_response *got, int16_t v)
{
	cr_assert_eq(got->throttle_time_ms, want->throttle_time_ms, "v%d throttle", v);
	cr_assert_eq(got->results_count, want->results_count, "v%d results", v);
	for (int32_t i = 0; i < want->results_count; i++) {
		cr_assert(kstr_same(got->results[i].group_id, want->results[i].group_id));
		cr_assert_eq(got->results[i].error_code, want->results[i].error_code);
	}
}

Test(delete_groups, round_trip_every_version)
{
	struct arena a;
	arena_init(&a, CHECK_ARENA_BYTES);
	for (int16_t v = DELETE_GROUPS_VERSION_MIN; v <= DELETE_GROUPS_VERSION_MAX; v++) {
		struct buf b;
		struct delete_groups_request req;
		struct delete_groups_response resp;
		CHECK_ROUND_TRIP(delete_groups_request, v, &sample_request, &b, &a, &req);
		check_request(&sample_request, &req, v);
		buf_free(&b);
		struct delete_groups_request none = { .groups_names_count = 0 };
		CHECK_ROUND_TRIP(delete_groups_request, v, &none, &b, &a, &req);
		check_request(&none, &req, v);
		buf_free(&b);
		CHECK_ROUND_TRIP(delete_groups_response, v, &sample_response, &b, &a, &resp);
		check_response(&sample_response, &resp, v);
		buf_free(&b);
		arena_reset(&a);
	}
	arena_free(&a);
}

static const uint8_t request_v0[] = {
	0x00, 0x00, 0x00, 0x02,      /* groups_names */
	0x00, 0x03, 'g',  'r',  'p', /*   "grp" */
	0x00, 0x02, 'g',  '2',       /*   "g2" */
};

static const uint8_t response_v0[] = {
	0x00, 0x00, 0x00, 0x0a,      /* throttle_time_ms */
	0x00, 0x00, 0x00, 0x02,      /* results */
	0x00, 0x03, 'g',  'r',  'p', /*   group_id */
	0x00, 0x00,                  /*   error_code */
	0x00, 0x02, 'g',  '2',       /*   group_id */
	0x00, 0x44,                  /*   error_code 68 */
};

Test(delete_groups, bytes_by_hand)
{
	CHECK_BYTES(delete_groups_request, 0, &sample_request, request_v0);
	CHECK_BYTES(delete_groups_request, 1, &sample_request, request_v0);
	CHECK_BYTES(delete_groups_response, 0, &sample_response, response_v0);
	CHECK_BYTES(delete_groups_response, 1, &sample_response, response_v0);

	struct arena a;
	struct delete_groups_request req;
	struct delete_groups_response resp;
	int rc;
	arena_init(&a, CHECK_ARENA_BYTES);
	CHECK_DECODE(delete_groups_request, 1, request_v0, sizeof(request_v0), &a, &req, rc);
	cr_assert_eq(rc, 0);
	check_request(&sample_request, &req, 1);
	CHECK_DECODE(delete_groups_response, 0, response_v0, sizeof(response_v0), &a, &resp, rc);
	cr_assert_eq(rc, 0);
	check_response(&sample_response, &resp, 0);
	arena_free(&a);
}

Test(delete_groups, versions_out_of_range)
{
	CHECK_VERSIONS(delete_groups_request, DELETE_GROUPS_VERSION_MIN, DELETE_GROUPS_VERSION_MAX,
	               &sample_request);
	CHECK_VERSIONS(delete_groups_response, DELETE_GROUPS_VERSION_MIN, DELETE_GROUPS_VERSION_MAX,
	               &sample_response);
}

Test(delete_groups, absurd_counts)
{
	static const uint8_t names[] = { 0x7f, 0xff, 0xff, 0xff, 0, 1, 'g' };
	CHECK_REFUSED_SMALL(delete_groups_request, 0, names);
	static const uint8_t null_names[] = { 0xff, 0xff, 0xff, 0xff };
	CHECK_REFUSED_SMALL(delete_groups_request, 1, null_names);
	static const uint8_t results[] = { 0, 0, 0, 0, 0x00, 0x10, 0, 0, 0, 1, 'g', 0, 0 };
	CHECK_REFUSED_SMALL(delete_groups_response, 1, results);
}
