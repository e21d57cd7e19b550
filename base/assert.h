/*
 * base/assert.h: assertions that stay on in release builds.
 *
 * ASSERT() is for broken invariants (programmer errors), never for bad input: bad input is an
 * operating error that is handled, answered and tested. A failed assertion prints the
 * condition with file:line and aborts, so a core dump or the sanitizer shows the state.
 */
#ifndef TAPE_BASE_ASSERT_H
#define TAPE_BASE_ASSERT_H

#include <stddef.h>

_Noreturn void assert_fail(const char *cond, const char *file, int line, const char *func);

#define ASSERT(cond) ((cond) ? (void)0 : assert_fail(#cond, __FILE__, __LINE__, __func__))

#define UNREACHABLE() assert_fail("unreachable", __FILE__, __LINE__, __func__)

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif
