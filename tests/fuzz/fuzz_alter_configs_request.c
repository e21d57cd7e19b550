/*
 * tests/fuzz/fuzz_alter_configs_request.c: AlterConfigsRequest bodies
 * (protocol/alter_configs.h). The first byte picks the version (0-1), the rest is the body,
 * decoded with a 1 MiB arena. Oracles: the sanitizers; the arena stays within 8 bytes per input
 * byte; a body that decodes encodes, decodes again, and both decodes encode to the same bytes.
 */
#include "base/assert.h"
#include "protocol/alter_configs.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int16_t v = (int16_t)(data[0] % (ALTER_CONFIGS_VERSION_MAX + 1));
	struct arena a;
	struct cursor c;
	struct buf b1, b2;
	struct alter_configs_request r1, r2;
	arena_init(&a, 1 << 20);
	buf_init(&b1, 1 << 24);
	buf_init(&b2, 1 << 24);
	cursor_init(&c, data + 1, size - 1);
	if (alter_configs_request_decode(&c, &a, v, &r1) == 0) {
		ASSERT(a.used <= 8 * size + 64);
		alter_configs_request_encode(&b1, v, &r1);
		cursor_init(&c, b1.p, b1.len);
		ASSERT(buf_ok(&b1) && alter_configs_request_decode(&c, &a, v, &r2) == 0);
		alter_configs_request_encode(&b2, v, &r2);
		ASSERT(buf_ok(&b2) && b1.len == b2.len);
		ASSERT(b1.len == 0 || memcmp(b1.p, b2.p, b1.len) == 0);
	}
	buf_free(&b1);
	buf_free(&b2);
	arena_free(&a);
	return 0;
}
