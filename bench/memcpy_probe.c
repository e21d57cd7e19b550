/*
 * bench/memcpy_probe.c: the machine's memory copy bandwidth, the ceiling under every path that
 * moves record bytes (receive buffer -> page cache on produce, page cache -> socket on fetch).
 *
 * Copies a SIZE-byte buffer into another REPEATS times and reports the best pass in GB/s
 * (10^9 bytes/s), counting each byte once (as fio and iperf3 count theirs). Both buffers are
 * touched first so the pass measures copying, not page faults. A buffer larger than the
 * last-level cache (the default 256 MiB) gives the DRAM figure; a small one the cache's.
 *
 * Usage: memcpy_probe [size_mib] [repeats]     (defaults 256 and 5)
 * Prints: "result memcpy bytes=N seconds=S GBps=G"
 */
#include "base/clock.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIZE_MIB_DEFAULT 256
#define REPEATS_DEFAULT 5

int main(int argc, char **argv)
{
	long mib = argc > 1 ? atol(argv[1]) : SIZE_MIB_DEFAULT;
	long repeats = argc > 2 ? atol(argv[2]) : REPEATS_DEFAULT;
	if (mib <= 0 || mib > 16384 || repeats <= 0 || repeats > 1000) {
		fprintf(stderr, "usage: memcpy_probe [size_mib 1..16384] [repeats 1..1000]\n");
		return 2;
	}
	size_t size = (size_t)mib << 20;
	uint8_t *src = malloc(size);
	uint8_t *dst = malloc(size);
	if (!src || !dst) {
		fprintf(stderr, "memcpy_probe: cannot allocate 2 x %ld MiB\n", mib);
		return 2;
	}
	for (size_t i = 0; i < size; i++)
		src[i] = (uint8_t)(i * 131u);
	memset(dst, 0, size);

	double best = 1e30;
	for (long r = 0; r < repeats; r++) {
		int64_t t0 = clock_mono_ns();
		memcpy(dst, src, size);
		int64_t t1 = clock_mono_ns();
		double s = (double)(t1 - t0) / 1e9;
		if (s < best)
			best = s;
		/* Keep the copy observable so it cannot be elided. */
		if (dst[(size_t)r * 4093 % size] != src[(size_t)r * 4093 % size])
			return 1;
	}
	printf("memcpy_probe: %ld MiB, best of %ld: %.2f GB/s\n", mib, repeats,
	       (double)size / best / 1e9);
	printf("result memcpy bytes=%zu seconds=%.6f GBps=%.2f\n", size, best,
	       (double)size / best / 1e9);
	free(src);
	free(dst);
	return 0;
}
