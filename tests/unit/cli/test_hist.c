/*
 * tests/unit/cli/test_hist.c: the log-bucket latency histogram of `tape bench` (cli/hist.c).
 *
 * Covers: values below 2^HIST_SUB_BITS are exact; every bucket above holds a contiguous range
 * whose width is at most 1/2^HIST_SUB_BITS of its low end, and buckets are ordered and
 * adjacent (walking values across several powers of two); quantiles of 1..N match the exact
 * ranks within the bucket's width and never pass the max; min, max, count and sum are exact;
 * merging two histograms equals recording everything in one; out-of-range values are clamped.
 */
#include "cli/hist.h"

#include <criterion/criterion.h>
#include <stdlib.h>

Test(hist, small_values_are_exact)
{
	for (int64_t v = 0; v < HIST_SUB_BUCKETS; v++) {
		cr_assert_eq(hist_bucket_of(v), v);
		cr_assert_eq(hist_bucket_high((int32_t)v), v);
	}
}

Test(hist, buckets_are_adjacent_and_narrow)
{
	int32_t prev = hist_bucket_of(HIST_SUB_BUCKETS - 1);
	for (int64_t v = HIST_SUB_BUCKETS; v < (INT64_C(1) << 20); v++) {
		int32_t b = hist_bucket_of(v);
		cr_assert(b == prev || b == prev + 1, "value %lld: bucket %d after %d",
		          (long long)v, b, prev);
		if (b == prev + 1) /* v is the first value of b: the previous bucket ended at v-1 */
			cr_assert_eq(hist_bucket_high(prev), v - 1, "bucket %d", prev);
		int64_t high = hist_bucket_high(b);
		cr_assert(high >= v);
		cr_assert(high - v < v / HIST_SUB_BUCKETS + 1, "value %lld in bucket up to %lld",
		          (long long)v, (long long)high);
		prev = b;
	}
	/* the largest values land in the last bucket */
	cr_assert_eq(hist_bucket_of(HIST_VALUE_MAX), HIST_BUCKETS - 1);
	cr_assert_eq(hist_bucket_high(HIST_BUCKETS - 1), HIST_VALUE_MAX);
	cr_assert_eq(hist_bucket_of(INT64_MAX), HIST_BUCKETS - 1);
	cr_assert_eq(hist_bucket_of(-5), 0);
}

Test(hist, quantiles_of_one_to_n)
{
	struct hist *h = malloc(sizeof(*h));
	cr_assert(h);
	hist_init(h);
	cr_assert_eq(hist_quantile(h, 0.5), 0, "empty");
	const int64_t n = 100000;
	for (int64_t v = n; v >= 1; v--) /* order does not matter */
		hist_record(h, v * 1000);
	cr_assert_eq(h->count, n);
	cr_assert_eq(h->min, 1000);
	cr_assert_eq(h->max, n * 1000);
	cr_assert_eq(h->sum, n * (n + 1) / 2 * 1000);
	const double qs[] = { 0.5, 0.9, 0.99, 0.999, 1.0 };
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		int64_t exact = (int64_t)(qs[i] * (double)n + 0.5) * 1000;
		int64_t got = hist_quantile(h, qs[i]);
		cr_assert(got >= exact && got <= exact + exact / HIST_SUB_BUCKETS,
		          "q %.3f: %lld, exact %lld", qs[i], (long long)got, (long long)exact);
		cr_assert(got <= h->max);
	}
	cr_assert_eq(hist_quantile(h, 1.0), n * 1000, "q 1 is the max");
	free(h);
}

Test(hist, one_value)
{
	struct hist *h = malloc(sizeof(*h));
	hist_init(h);
	hist_record(h, 123456789);
	/* the bucket's high end is capped by the max: a single value comes back exactly */
	cr_assert_eq(hist_quantile(h, 0.5), 123456789);
	cr_assert_eq(hist_quantile(h, 0.999), 123456789);
	free(h);
}

Test(hist, merge_equals_one_histogram)
{
	struct hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)), *all = malloc(sizeof(*all));
	hist_init(a);
	hist_init(b);
	hist_init(all);
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < 50000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int64_t v = (int64_t)(x % 50000000);
		hist_record(i % 3 ? a : b, v);
		hist_record(all, v);
	}
	hist_merge(a, b);
	cr_assert_eq(a->count, all->count);
	cr_assert_eq(a->sum, all->sum);
	cr_assert_eq(a->min, all->min);
	cr_assert_eq(a->max, all->max);
	for (int32_t i = 0; i < HIST_BUCKETS; i++)
		cr_assert_eq(a->buckets[i], all->buckets[i], "bucket %d", i);
	cr_assert_eq(hist_quantile(a, 0.99), hist_quantile(all, 0.99));
	free(a);
	free(b);
	free(all);
}

Test(hist, clamps)
{
	struct hist *h = malloc(sizeof(*h));
	hist_init(h);
	hist_record(h, -7);
	hist_record(h, INT64_MAX);
	cr_assert_eq(h->min, 0);
	cr_assert_eq(h->max, HIST_VALUE_MAX);
	cr_assert_eq(h->buckets[0], 1);
	cr_assert_eq(h->buckets[HIST_BUCKETS - 1], 1);
	free(h);
}
