/*
 * tests/fuzz/fuzz_log_state.c: the decoders of the partition's own small files: leader-epoch
 * and producer-state checkpoint payloads, and index files. The first byte picks the decoder.
 * Oracles: the sanitizers, and that whatever decodes re-encodes to the same bytes.
 */
#include "log/leader_epoch.h"
#include "log/offset_index.h"
#include "log/producer_state.h"
#include "log/time_index.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	switch (data[0] % 4) {
	case 0: {
		struct leader_epoch_cache c;
		leader_epoch_init(&c);
		if (leader_epoch_decode(&c, p, n) == 0) {
			size_t len;
			uint8_t *back = leader_epoch_encode(&c, &len);
			if (!back || len != n || memcmp(back, p, n) != 0)
				abort();
			free(back);
		}
		leader_epoch_free(&c);
		break;
	}
	case 1: {
		struct producer_state ps;
		producer_state_init(&ps);
		int64_t snap;
		if (producer_state_decode(&ps, p, n, &snap) == 0) {
			size_t len;
			uint8_t *back = producer_state_encode(&ps, snap, &len);
			if (!back || len != n)
				abort();
			free(back);
		}
		producer_state_free(&ps);
		break;
	}
	case 2:
		(void)offset_index_valid(p, n, 1u << 30, UINT32_MAX);
		break;
	default:
		(void)time_index_valid(p, n, UINT32_MAX);
		break;
	}
	return 0;
}
