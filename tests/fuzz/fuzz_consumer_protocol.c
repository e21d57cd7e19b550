/*
 * tests/fuzz/fuzz_consumer_protocol.c: the consumer protocol payloads
 * (protocol/consumer_protocol.h). The first byte picks subscription (even) or assignment (odd),
 * the rest is the payload, decoded with a 1 MiB arena that must stay within a small multiple
 * of the input. Reading is lenient (newer versions, trailing bytes, a missing optional tail),
 * so what decodes is encoded at the newest version we know that is not above its own, decoded
 * again and encoded again: the two encodings must be the same bytes, and the second decode must
 * report the version written.
 */
#include "base/assert.h"
#include "base/limits.h"
#include "protocol/consumer_protocol.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MIN_VERSION(v, max) ((int16_t)((v) < (max) ? (v) : (max)))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct kbytes payload = { data + 1, (int32_t)(size - 1) };
	struct arena a;
	struct buf b1, b2;
	arena_init(&a, 1 * MiB);
	buf_init(&b1, 4 * MiB);
	buf_init(&b2, 4 * MiB);
	if (data[0] % 2 == 0) {
		struct consumer_protocol_subscription s1, s2;
		if (consumer_protocol_subscription_decode(payload, &a, &s1) == 0) {
			ASSERT(a.used <= 16 * size + 64);
			int16_t v =
			    MIN_VERSION(s1.version, CONSUMER_PROTOCOL_SUBSCRIPTION_VERSION_MAX);
			consumer_protocol_subscription_encode(&b1, v, &s1);
			/* At most a missing tail is added: user_data, owned_partitions,
			 * generation_id, rack_id. */
			ASSERT(buf_ok(&b1) && b1.len <= size - 1 + 4 + 4 + 4 + 2);
			ASSERT(consumer_protocol_subscription_decode(
			           (struct kbytes){ b1.p, (int32_t)b1.len }, &a, &s2) == 0);
			ASSERT(s2.version == v);
			consumer_protocol_subscription_encode(&b2, v, &s2);
		}
	} else {
		struct consumer_protocol_assignment s1, s2;
		if (consumer_protocol_assignment_decode(payload, &a, &s1) == 0) {
			ASSERT(a.used <= 16 * size + 64);
			int16_t v =
			    MIN_VERSION(s1.version, CONSUMER_PROTOCOL_ASSIGNMENT_VERSION_MAX);
			consumer_protocol_assignment_encode(&b1, v, &s1);
			ASSERT(buf_ok(&b1));
			ASSERT(consumer_protocol_assignment_decode(
			           (struct kbytes){ b1.p, (int32_t)b1.len }, &a, &s2) == 0);
			ASSERT(s2.version == v);
			consumer_protocol_assignment_encode(&b2, v, &s2);
		}
	}
	ASSERT(b1.len == b2.len && (b1.len == 0 || memcmp(b1.p, b2.p, b1.len) == 0));
	buf_free(&b2);
	buf_free(&b1);
	arena_free(&a);
	return 0;
}
