/*
 * tests/unit/cli/test_timespec.c: the times and starts users type (cli/timespec.c).
 *
 * Covers: epoch milliseconds; RFC 3339 with Z, with positive and negative offsets (and the
 * same instant written three ways), with fractions of every length, with a space or a
 * lower-case 't', a date alone, leap days (2024-02-29 yes, 2023-02-29 and 2100-02-29 no); the
 * days_from_civil conversion at the epoch, before it and far after; relative times in every
 * unit, clamped at 0; refusals with a reason (no zone, bad month, hour 24, trailing bytes,
 * unknown unit, empty); and each -o start: beginning, end, N, -N, @TIME (three spellings) and
 * kcat's s@TIME, with bad starts refused.
 */
#include "cli/timespec.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#define NOW 1764151200000LL /* 2025-11-26T10:00:00Z */

static int64_t t(const char *s)
{
	int64_t ms = -1;
	char why[128] = "";
	cr_assert_eq(timespec_parse(s, NOW, &ms, why, sizeof(why)), 0, "%s: %s", s, why);
	return ms;
}

static void refused(const char *s, const char *reason_part)
{
	int64_t ms;
	char why[128] = "";
	cr_expect_eq(timespec_parse(s, NOW, &ms, why, sizeof(why)), -EINVAL, "%s accepted", s);
	cr_expect(strstr(why, reason_part), "%s: reason '%s' lacks '%s'", s, why, reason_part);
}

Test(timespec, days_from_civil)
{
	cr_expect_eq(timespec_days_from_civil(1970, 1, 1), 0);
	cr_expect_eq(timespec_days_from_civil(1969, 12, 31), -1);
	cr_expect_eq(timespec_days_from_civil(2000, 3, 1), 11017);
	cr_expect_eq(timespec_days_from_civil(2025, 11, 26), 20418);
}

Test(timespec, epoch_ms)
{
	cr_expect_eq(t("0"), 0);
	cr_expect_eq(t("1764151200000"), NOW);
}

Test(timespec, rfc3339)
{
	cr_expect_eq(t("2025-11-26T10:00:00Z"), NOW);
	cr_expect_eq(t("2025-11-26T11:00:00+01:00"), NOW);
	cr_expect_eq(t("2025-11-26T04:30:00-05:30"), NOW);
	cr_expect_eq(t("2025-11-26 10:00:00z"), NOW);
	cr_expect_eq(t("2025-11-26t10:00Z"), NOW);
	cr_expect_eq(t("2025-11-26T10:00:00.5Z"), NOW + 500);
	cr_expect_eq(t("2025-11-26T10:00:00.25Z"), NOW + 250);
	cr_expect_eq(t("2025-11-26T10:00:00.123456789Z"), NOW + 123);
	cr_expect_eq(t("2025-11-26"), NOW - 10 * 3600 * 1000LL);
	cr_expect_eq(t("1970-01-01T00:00:00Z"), 0);
	cr_expect_eq(t("2024-02-29T00:00:00Z"), 1709164800000LL);
	cr_expect_eq(t("2000-02-29T00:00:00+0100"), 951778800000LL);
}

Test(timespec, relative)
{
	cr_expect_eq(t("-500ms"), NOW - 500);
	cr_expect_eq(t("-10s"), NOW - 10000);
	cr_expect_eq(t("-30m"), NOW - 30 * 60000);
	cr_expect_eq(t("-1h"), NOW - 3600000);
	cr_expect_eq(t("-2d"), NOW - 2 * 86400000LL);
	cr_expect_eq(t("-1w"), NOW - 604800000LL);
	cr_expect_eq(t("-100000w"), 0); /* before the epoch: clamped */
}

Test(timespec, refusals)
{
	refused("", "empty");
	refused("2025-11-26T10:00:00", "zone");
	refused("2025-13-01T00:00:00Z", "no such date");
	refused("2023-02-29T00:00:00Z", "no such date");
	refused("2100-02-29T00:00:00Z", "no such date");
	refused("2025-11-26T24:00:00Z", "no such time");
	refused("2025-11-26T10:00:00Zjunk", "at the end");
	refused("-5y", "unit");
	refused("-h", "not a time");
	refused("yesterday", "not a time");
	refused("99999999999999999999", "too large");
}

static struct tape_start start(const char *s)
{
	struct tape_start st = { -1, -1 };
	char why[128] = "";
	cr_assert_eq(timespec_parse_start(s, NOW, &st, why, sizeof(why)), 0, "%s: %s", s, why);
	return st;
}

Test(timespec, starts)
{
	cr_expect_eq(start("beginning").kind, TAPE_START_BEGINNING);
	cr_expect_eq(start("end").kind, TAPE_START_END);
	struct tape_start s = start("17");
	cr_expect(s.kind == TAPE_START_OFFSET && s.value == 17);
	s = start("0");
	cr_expect(s.kind == TAPE_START_OFFSET && s.value == 0);
	s = start("-5");
	cr_expect(s.kind == TAPE_START_END_MINUS && s.value == 5);
	s = start("@1764151200000");
	cr_expect(s.kind == TAPE_START_TIME && s.value == NOW);
	s = start("@2025-11-26T11:00:00+01:00");
	cr_expect(s.kind == TAPE_START_TIME && s.value == NOW);
	s = start("@-1h");
	cr_expect(s.kind == TAPE_START_TIME && s.value == NOW - 3600000);
	s = start("s@1764151200000");
	cr_expect(s.kind == TAPE_START_TIME && s.value == NOW);
	struct tape_start st;
	char why[128];
	cr_expect_eq(timespec_parse_start("middle", NOW, &st, why, sizeof(why)), -EINVAL);
	cr_expect_eq(timespec_parse_start("1x", NOW, &st, why, sizeof(why)), -EINVAL);
	cr_expect_eq(timespec_parse_start("-", NOW, &st, why, sizeof(why)), -EINVAL);
	cr_expect_eq(timespec_parse_start("@", NOW, &st, why, sizeof(why)), -EINVAL);
}
