/*
 * tests/unit/protocol/test_list_groups.c: protocol/list_groups.c, ListGroups v0-2.
 *
 * Covers: the request is empty at every version (any byte in it is refused, encoding writes
 * nothing); encode -> decode round trips of the response at every version (throttle from v1);
 * hand-built bytes (from the schema's field order) for response v0 and v1, byte for byte
 * against the encoder and decoded back; every truncation and a trailing byte refused; versions
 * outside 0-2 refused both ways; an absurd group count refused without a large allocation.
 */
#include "protocol/list_groups.h"

#include "group_codec_check.h"

static const struct list_groups_request sample_request = { 0 };

static const struct list_groups_listed_group sample_groups[] = {
	{ .group_id = KSTR("grp"), .protocol_type = KSTR("consumer") },
	{ .group_id = KSTR("commits-only"), .protocol_type = KSTR("") },
};

static const struct list_groups_response sample_response = {
	.throttle_time_ms = 3,
	.error_code = 15,
	.groups_count = 2,
	.groups = (struct list_groups_listed_group *)sample_groups,
};

static void check_response(const struct list_groups_response *want,
                           const struct list_groups_response *got, int16_t v)
{
	cr_assert_eq(got->throttle_time_ms, v >= 1 ? want->throttle_time_ms : 0, "v%d throttle", v);
	cr_assert_eq(got->error_code, want->error_code, "v%d error_code", v);
	cr_assert_eq(got->groups_count, want->groups_count, "v%d groups", v);
	for (int32_t i = 0; i < want->groups_count; i++) {
		cr_assert(kstr_same(got->groups[i].group_id, want->groups[i].group_id));
		cr_assert(kstr_same(got->groups[i].protocol_type, want->groups[i].protocol_type));
	}
}

Test(list_groups, round_trip_every_version)
{
	struct arena a;
	arena_init(&a, CHECK_ARENA_BYTES);
	for (int16_t v = LIST_GROUPS_VERSION_MIN; v <= LIST_GROUPS_VERSION_MAX; v++) {
		struct buf b;
		struct list_groups_request req;
		struct list_groups_response resp;
		CHECK_ROUND_TRIP(list_groups_request, v, &sample_request, &b, &a, &req);
		cr_assert_eq(b.len, 0, "v%d request is empty", v);
		buf_free(&b);
		CHECK_ROUND_TRIP(list_groups_response, v, &sample_response, &b, &a, &resp);
		check_response(&sample_response, &resp, v);
		buf_free(&b);
		arena_reset(&a);
	}
	arena_free(&a);
}

static const uint8_t response_v0[] = {
	0x00, 0x0f,                                           /* error_code */
	0x00, 0x00, 0x00, 0x02,                               /* groups */
	0x00, 0x03, 'g',  'r',  'p',                          /*   group_id */
	0x00, 0x08, 'c',  'o',  'n', 's', 'u', 'm', 'e', 'r', /*   protocol_type */
	0x00, 0x0c, 'c',  'o',  'm', 'm', 'i', 't', 's', '-', 'o', 'n', 'l', 'y', /* group_id */
	0x00, 0x00, /*   protocol_type */
};

Test(list_groups, bytes_by_hand)
{
	CHECK_BYTES(list_groups_response, 0, &sample_response, response_v0);
	uint8_t v1[4 + sizeof(response_v0)] = { 0x00, 0x00, 0x00, 0x03 }; /* throttle_time_ms */
	memcpy(v1 + 4, response_v0, sizeof(response_v0));
	CHECK_BYTES(list_groups_response, 1, &sample_response, v1);

	struct arena a;
	struct list_groups_response resp;
	int rc;
	arena_init(&a, CHECK_ARENA_BYTES);
	CHECK_DECODE(list_groups_response, 1, v1, sizeof(v1), &a, &resp, rc);
	cr_assert_eq(rc, 0);
	check_response(&sample_response, &resp, 1);
	arena_free(&a);
}

Test(list_groups, versions_out_of_range)
{
	CHECK_VERSIONS(list_groups_request, LIST_GROUPS_VERSION_MIN, LIST_GROUPS_VERSION_MAX,
	               &sample_request);
	CHECK_VERSIONS(list_groups_response, LIST_GROUPS_VERSION_MIN, LIST_GROUPS_VERSION_MAX,
	               &sample_response);
}

Test(list_groups, bytes_in_a_request_and_absurd_counts)
{
	/* v4's states_filter, sent at v2: refused. */
	static const uint8_t filter[] = { 0, 0, 0, 1, 0, 6, 'S', 't', 'a', 'b', 'l', 'e' };
	CHECK_REFUSED_SMALL(list_groups_request, 2, filter);
	static const uint8_t groups[] = { 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 1, 'g', 0, 0 };
	CHECK_REFUSED_SMALL(list_groups_response, 0, groups);
}
