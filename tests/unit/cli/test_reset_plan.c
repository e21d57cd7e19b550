/*
 * tests/unit/cli/test_reset_plan.c: kafka-consumer-groups' reset rules (cli/reset_plan.c).
 *
 * Covers: earliest and latest; --to-offset inside, below and above [log start, log end];
 * --shift-by forward, backward, past both ends, by INT64_MIN/INT64_MAX (no overflow), and a
 * partition without a committed offset (refused); --to-datetime with an answer, without one
 * (the log end, as Kafka does), and with an answer below a log start that moved on.
 */
#include "cli/reset_plan.h"

#include <criterion/criterion.h>

static const struct reset_partition p = {
	.committed = 40, .log_start = 10, .log_end = 100, .by_time = 55
};

Test(reset_plan, earliest_latest)
{
	cr_assert_eq(reset_plan_offset(RESET_EARLIEST, 0, &p), 10);
	cr_assert_eq(reset_plan_offset(RESET_LATEST, 0, &p), 100);
}

Test(reset_plan, to_offset_clamped)
{
	cr_assert_eq(reset_plan_offset(RESET_TO_OFFSET, 42, &p), 42);
	cr_assert_eq(reset_plan_offset(RESET_TO_OFFSET, 10, &p), 10);
	cr_assert_eq(reset_plan_offset(RESET_TO_OFFSET, 100, &p), 100);
	cr_assert_eq(reset_plan_offset(RESET_TO_OFFSET, 3, &p), 10);
	cr_assert_eq(reset_plan_offset(RESET_TO_OFFSET, 1000, &p), 100);
}

Test(reset_plan, shift_by)
{
	cr_assert_eq(reset_plan_offset(RESET_SHIFT_BY, 5, &p), 45);
	cr_assert_eq(reset_plan_offset(RESET_SHIFT_BY, -5, &p), 35);
	cr_assert_eq(reset_plan_offset(RESET_SHIFT_BY, 0, &p), 40);
	cr_assert_eq(reset_plan_offset(RESET_SHIFT_BY, -31, &p), 10);
	cr_assert_eq(reset_plan_offset(RESET_SHIFT_BY, 61, &p), 100);
	cr_assert_eq(reset_plan_offset(RESET_SHIFT_BY, INT64_MAX, &p), 100);
	cr_assert_eq(reset_plan_offset(RESET_SHIFT_BY, INT64_MIN, &p), 10);
	struct reset_partition none = p;
	none.committed = -1;
	cr_assert_eq(reset_plan_offset(RESET_SHIFT_BY, 1, &none), -1);
	/* The other kinds do not need a committed offset. */
	cr_assert_eq(reset_plan_offset(RESET_EARLIEST, 0, &none), 10);
	cr_assert_eq(reset_plan_offset(RESET_TO_OFFSET, 50, &none), 50);
}

Test(reset_plan, datetime)
{
	cr_assert_eq(reset_plan_offset(RESET_DATETIME, 0, &p), 55);
	struct reset_partition none = p;
	none.by_time = -1;
	cr_assert_eq(reset_plan_offset(RESET_DATETIME, 0, &none), 100);
	struct reset_partition below = p;
	below.by_time = 2;
	cr_assert_eq(reset_plan_offset(RESET_DATETIME, 0, &below), 10);
}
