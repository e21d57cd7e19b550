/*
 * tests/fuzz/fuzz_offset_for_leader_epoch.c: the OffsetForLeaderEpoch (23) decoders, v0-3. The
 * first byte picks the version (low bits) and request or response (high bit); the rest is the
 * body, decoded with a 1 MiB arena. What decodes must encode back to the very input (no field
 * of OffsetForLeaderEpoch has two encodings), and that must decode again to the same thing
 * (compared by encoding it).
 */
#include "base/assert.h"
#include "protocol/offset_for_leader_epoch.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int decode(bool request, int16_t v, const uint8_t *p, size_t n, struct arena *a,
                  struct buf *b)
{
	struct cursor c;
	struct offset_for_leader_epoch_request req;
	struct offset_for_leader_epoch_response resp;
	cursor_init(&c, p, n);
	int rc = request ? offset_for_leader_epoch_request_decode(&c, a, v, &req)
	                 : offset_for_leader_epoch_response_decode(&c, a, v, &resp);
	if (rc == 0 && request)
		offset_for_leader_epoch_request_encode(b, v, &req);
	else if (rc == 0)
		offset_for_leader_epoch_response_encode(b, v, &resp);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool request = !(data[0] & 0x80);
	int16_t v = OFFSET_FOR_LEADER_EPOCH_VERSION_MIN +
	            (data[0] & 0x7f) % (OFFSET_FOR_LEADER_EPOCH_VERSION_MAX -
	                                OFFSET_FOR_LEADER_EPOCH_VERSION_MIN + 1);
	struct arena a;
	struct buf once, twice;
	arena_init(&a, 1 << 20);
	buf_init(&once, 1 << 24);
	buf_init(&twice, 1 << 24);
	if (decode(request, v, data + 1, size - 1, &a, &once) == 0) {
		ASSERT(buf_ok(&once) && once.len == size - 1 &&
		       memcmp(once.p, data + 1, once.len) == 0);
		ASSERT(decode(request, v, once.p, once.len, &a, &twice) == 0 && buf_ok(&twice));
		ASSERT(twice.len == once.len && memcmp(twice.p, once.p, once.len) == 0);
	}
	buf_free(&twice);
	buf_free(&once);
	arena_free(&a);
	return 0;
}
