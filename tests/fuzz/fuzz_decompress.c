/*
 * tests/fuzz/fuzz_decompress.c: the first byte picks the codec (values past zstd must be
 * refused as unknown), the rest is decompressed with a 256 KiB limit, which the output and
 * the buffer must respect. What decompresses is compressed again and must come back the same,
 * under a limit of exactly its size.
 */
#include "base/assert.h"
#include "base/errors.h"
#include "base/limits.h"
#include "protocol/compression.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_BYTES (256 * KiB)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int codec = data[0] & 7;
	struct compression_buf out = { 0 }, packed = { 0 }, again = { 0 };
	int rc = compression_decompress(codec, data + 1, size - 1, &out, FUZZ_MAX_BYTES);
	ASSERT(rc == 0 || out.len == 0);
	ASSERT(out.len <= FUZZ_MAX_BYTES && out.cap <= FUZZ_MAX_BYTES + 1);
	ASSERT(codec <= COMPRESSION_ZSTD || rc == -TAPE_ECODEC);
	if (rc == 0) {
		ASSERT(compression_compress(codec, 0, out.p, out.len, &packed) == 0);
		rc = compression_decompress(codec, packed.p, packed.len, &again, out.len);
		ASSERT(rc == 0 && again.len == out.len);
		ASSERT(out.len == 0 || memcmp(again.p, out.p, out.len) == 0);
	}
	free(out.p);
	free(packed.p);
	free(again.p);
	return 0;
}
