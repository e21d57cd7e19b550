/*
 * tests/unit/base/test_errors.c: error codes and tape_strerror() (base/errors.h).
 *
 * Checks that errno values are named as strerror() names them, with either sign; that every
 * project code has its own non-empty message, distinct from the others and from libc's
 * "Unknown error"; that the reserved range cannot collide with an errno; and that codes
 * nobody defined (0, the range's ends, INT_MAX, INT_MIN) still get a non-NULL string.
 */
#include "base/errors.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Linux errno values stop below 4096 (MAX_ERRNO); the project range must sit above. */
_Static_assert(TAPE_ERRNO_BASE > 4095, "project codes above every errno");

Test(errors, errno_values_either_sign)
{
	cr_assert_str_eq(tape_strerror(-EIO), "Input/output error");
	cr_assert_str_eq(tape_strerror(EIO), "Input/output error");
	cr_assert_str_eq(tape_strerror(-ENOSPC), strerror(ENOSPC));
	cr_assert_str_eq(tape_strerror(-ENOENT), strerror(ENOENT));
	cr_assert_str_eq(tape_strerror(-ECANCELED), strerror(ECANCELED));
}

Test(errors, project_codes_named_and_distinct)
{
	enum { N = TAPE_ERRNO_END - TAPE_ERRNO_BASE };
	const char *msgs[N];
	for (int i = 0; i < N; i++) {
		int code = TAPE_ERRNO_BASE + i;
		msgs[i] = tape_strerror(-code);
		cr_assert_not_null(msgs[i], "code %d", code);
		cr_assert_gt(strlen(msgs[i]), 0, "code %d", code);
		cr_assert_null(strstr(msgs[i], "Unknown error"), "code %d: %s", code, msgs[i]);
		cr_assert_str_eq(tape_strerror(code), msgs[i], "sign does not matter");
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(msgs[i], msgs[j], "codes %d and %d", TAPE_ERRNO_BASE + j,
			                  code);
	}
	cr_assert_str_eq(tape_strerror(-TAPE_ECRC), "record batch CRC-32C mismatch");
	cr_assert_str_eq(tape_strerror(-TAPE_ECORRUPT), "data is corrupt");
}

Test(errors, unknown_codes_are_never_null)
{
	const int codes[] = { 0,
		              1,
		              4095,
		              9999,
		              TAPE_ERRNO_BASE - 1,
		              TAPE_ERRNO_END,
		              -TAPE_ERRNO_END,
		              TAPE_ERRNO_END + 1,
		              123456,
		              INT_MAX,
		              -INT_MAX,
		              INT_MIN };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *s = tape_strerror(codes[i]);
		cr_assert_not_null(s, "code %d", codes[i]);
		cr_assert_gt(strlen(s), 0, "code %d", codes[i]);
	}
	/* The range's end is not a project code: libc names it. libc's text for an unknown
	 * errno lives only until its next strerror call in the thread, so copy it first. */
	char want[128];
	snprintf(want, sizeof(want), "%s", strerror(TAPE_ERRNO_END));
	cr_assert_str_eq(tape_strerror(-TAPE_ERRNO_END), want);
}
