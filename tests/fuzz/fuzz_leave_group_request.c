/*
 * tests/fuzz/fuzz_leave_group_request.c: LeaveGroup requests (protocol/leave_group.h). The first
 * byte picks the version in range, the rest is a request body decoded with a 1 MiB arena, which
 * must stay within a small multiple of the input. What decodes is encoded again, to exactly
 * as many bytes (bodies are consumed exactly and every field re-encodes to its own size), and
 * decoded again; the two decodes must encode to the same bytes.
 */
#include "base/assert.h"
#include "base/limits.h"
#include "protocol/leave_group.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int range = LEAVE_GROUP_VERSION_MAX - LEAVE_GROUP_VERSION_MIN + 1;
	int16_t v = (int16_t)(LEAVE_GROUP_VERSION_MIN + data[0] % range);
	struct leave_group_request first, again;
	struct arena a;
	struct cursor c;
	struct buf b1, b2;
	arena_init(&a, 1 * MiB);
	buf_init(&b1, 4 * MiB);
	buf_init(&b2, 4 * MiB);
	cursor_init(&c, data + 1, size - 1);
	if (leave_group_request_decode(&c, &a, v, &first) == 0) {
		ASSERT(a.used <= 16 * size + 64);
		leave_group_request_encode(&b1, v, &first);
		ASSERT(buf_ok(&b1) && b1.len == size - 1);
		cursor_init(&c, b1.p, b1.len);
		ASSERT(leave_group_request_decode(&c, &a, v, &again) == 0);
		leave_group_request_encode(&b2, v, &again);
		ASSERT(buf_ok(&b2) && b2.len == b1.len && memcmp(b1.p, b2.p, b1.len) == 0);
	}
	buf_free(&b2);
	buf_free(&b1);
	arena_free(&a);
	return 0;
}
