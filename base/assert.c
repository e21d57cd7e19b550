/*
 * base/assert.c: the one place an assertion failure is reported. Owns nothing else.
 */
#include "base/assert.h"

#include <stdio.h>
#include <stdlib.h>

void assert_fail(const char *cond, const char *file, int line, const char *func)
{
	fprintf(stderr, "%s:%d: %s: assertion failed: %s\n", file, line, func, cond);
	fflush(stderr);
	abort();
}
