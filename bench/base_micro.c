/*
 * bench/base_micro.c: throughput of base/'s two checksums on a 64 MiB buffer.
 *
 * CRC-32C three ways: crc32c() (the hardware path, three interleaved streams), one stream of
 * the crc32 instruction written here for comparison, and crc32c_sw() (slicing by 8). XXH3-64
 * two ways: hash64() (xxhash inlined into base/hash.c) and Debian's shared libxxhash, loaded
 * with dlopen() so the build needs no extra library (dlopen is in glibc's libc since 2.34).
 * Each measurement runs REPEATS times and the best is reported, in GB/s (10^9 bytes/s); the
 * results of the variants are compared, so a fast wrong answer cannot pass. The two "ratio"
 * lines check the claims in base/crc32c.c and base/hash.h; the XXH3 pair is also timed on
 * 16-byte keys, where a call into a shared library would cost the most.
 *
 * Usage: base_micro [repeats]     (default 7)
 */
#include "base/clock.h"
#include "base/crc32c.h"
#include "base/hash.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_BYTES (64u << 20)
#define REPEATS_DEFAULT 7

typedef uint64_t (*xxh3_64_fn)(const void *buf, size_t len);

#if defined(__x86_64__)
#include <nmmintrin.h>

/* One dependent chain of crc32 instructions: bound by the instruction's 3-cycle latency. */
__attribute__((target("sse4.2"))) static uint32_t crc32c_1stream(uint32_t crc, const void *buf,
                                                                 size_t len)
{
	const uint8_t *p = buf;
	uint64_t c = ~crc;
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		c = _mm_crc32_u64(c, w);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return ~(uint32_t)c;
}
#endif

/* The variant being timed, with what it needs; returns the checksum widened to 64 bits. */
struct subject {
	const char *name;
	uint64_t (*run)(const struct subject *s, const uint8_t *buf, size_t len);
	xxh3_64_fn xxh3;
};

static uint64_t run_crc32c(const struct subject *s, const uint8_t *buf, size_t len)
{
	(void)s;
	return crc32c(0, buf, len);
}

#if defined(__x86_64__)
static uint64_t run_crc32c_1stream(const struct subject *s, const uint8_t *buf, size_t len)
{
	(void)s;
	return crc32c_1stream(0, buf, len);
}
#endif

static uint64_t run_crc32c_sw(const struct subject *s, const uint8_t *buf, size_t len)
{
	(void)s;
	return crc32c_sw(0, buf, len);
}

static uint64_t run_hash64(const struct subject *s, const uint8_t *buf, size_t len)
{
	(void)s;
	return hash64(buf, len);
}

static uint64_t run_xxh3_shared(const struct subject *s, const uint8_t *buf, size_t len)
{
	return s->xxh3(buf, len);
}

/* Best throughput of repeats runs, in GB/s; *result gets the checksum (the same every run). */
static double measure(const struct subject *s, const uint8_t *buf, size_t len, int repeats,
                      uint64_t *result)
{
	int64_t best_ns = INT64_MAX;
	for (int i = 0; i < repeats; i++) {
		int64_t t0 = clock_mono_ns();
		uint64_t r = s->run(s, buf, len);
		int64_t ns = clock_mono_ns() - t0;
		if (i > 0 && r != *result) {
			fprintf(stderr, "base_micro: %s gave two answers for one buffer\n",
			        s->name);
			exit(1);
		}
		*result = r;
		if (ns < best_ns)
			best_ns = ns;
	}
	double gbps = (double)len / (double)(best_ns > 0 ? best_ns : 1);
	printf("%-16s %7.2f GB/s  (best of %d, %.2f ms)\n", s->name, gbps, repeats,
	       (double)best_ns / 1e6);
	return gbps;
}

/* Nanoseconds per hash of 16-byte keys (hash-table keys, where call overhead would show),
 * best of repeats; fn NULL means hash64(). */
static double measure_small_keys(const char *name, xxh3_64_fn fn, const uint8_t *buf, int repeats)
{
	enum { KEYS = 1 << 22, KEY_BYTES = 16 };
	int64_t best_ns = INT64_MAX;
	uint64_t acc = 0;
	for (int i = 0; i < repeats; i++) {
		int64_t t0 = clock_mono_ns();
		for (size_t k = 0; k < KEYS; k++) {
			const uint8_t *key = buf + (k & 4095) * KEY_BYTES;
			acc += fn ? fn(key, KEY_BYTES) : hash64(key, KEY_BYTES);
		}
		int64_t ns = clock_mono_ns() - t0;
		if (ns < best_ns)
			best_ns = ns;
	}
	double per_hash_ns = (double)best_ns / KEYS;
	printf("%-16s %7.2f ns per 16-byte key  (best of %d, sum %016llx)\n", name, per_hash_ns,
	       repeats, (unsigned long long)acc);
	return per_hash_ns;
}

static void check_same(const char *what, uint64_t a, uint64_t b)
{
	if (a != b) {
		fprintf(stderr, "base_micro: %s disagree: %#llx vs %#llx\n", what,
		        (unsigned long long)a, (unsigned long long)b);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	int repeats = argc > 1 ? atoi(argv[1]) : REPEATS_DEFAULT;
	if (repeats < 1)
		repeats = 1;
	uint8_t *buf = aligned_alloc(64, BUF_BYTES);
	if (!buf) {
		fprintf(stderr, "base_micro: out of memory\n");
		return 1;
	}
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < BUF_BYTES; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(buf + i, &x, 8);
	}
	printf("base_micro: %u MiB buffer, crc32c hardware path %s\n", BUF_BYTES >> 20,
	       crc32c_hw_available() ? "on" : "off");

	uint64_t r3, rsw;
	struct subject crc3 = { "crc32c_3way", run_crc32c, NULL };
	double crc3_gbps = measure(&crc3, buf, BUF_BYTES, repeats, &r3);
	double crc1_gbps = 0;
#if defined(__x86_64__)
	if (crc32c_hw_available()) {
		uint64_t r1;
		struct subject crc1 = { "crc32c_1stream", run_crc32c_1stream, NULL };
		crc1_gbps = measure(&crc1, buf, BUF_BYTES, repeats, &r1);
		check_same("crc32c_3way and crc32c_1stream", r3, r1);
	}
#endif
	if (crc1_gbps == 0)
		printf("crc32c_1stream   skipped: no SSE4.2 crc32 instruction\n");
	struct subject sw = { "crc32c_sw", run_crc32c_sw, NULL };
	measure(&sw, buf, BUF_BYTES, repeats, &rsw);
	check_same("crc32c_3way and crc32c_sw", r3, rsw);

	uint64_t hi, hs;
	struct subject inl = { "xxh3_inline", run_hash64, NULL };
	double inline_gbps = measure(&inl, buf, BUF_BYTES, repeats, &hi);
	double shared_gbps = 0;
	void *lib = dlopen("libxxhash.so.0", RTLD_NOW | RTLD_LOCAL);
	void *sym = lib ? dlsym(lib, "XXH3_64bits") : NULL;
	if (sym) {
		struct subject shared = { "xxh3_shared", run_xxh3_shared, NULL };
		memcpy(&shared.xxh3, &sym, sizeof(sym)); /* object to function pointer */
		shared_gbps = measure(&shared, buf, BUF_BYTES, repeats, &hs);
		check_same("xxh3_inline and xxh3_shared", hi, hs);
		measure_small_keys("xxh3_inline_key", NULL, buf, repeats);
		measure_small_keys("xxh3_shared_key", shared.xxh3, buf, repeats);
	} else {
		const char *err = dlerror();
		printf("xxh3_shared      skipped: %s\n", err ? err : "libxxhash.so.0 not loaded");
	}

	if (crc1_gbps > 0)
		printf("ratio crc32c_3way_vs_1stream %.2f\n", crc3_gbps / crc1_gbps);
	else
		printf("ratio crc32c_3way_vs_1stream skipped\n");
	if (shared_gbps > 0)
		printf("ratio xxh3_inline_vs_shared %.2f\n", inline_gbps / shared_gbps);
	else
		printf("ratio xxh3_inline_vs_shared skipped\n");
	if (lib)
		dlclose(lib);
	free(buf);
	return 0;
}
