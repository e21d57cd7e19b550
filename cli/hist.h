/*
 * cli/hist.h: a latency histogram in the manner of HdrHistogram: log-spaced buckets, each
 * power of two split into HIST_SUB_BUCKETS linear sub-buckets, so any value is kept within
 * 1/HIST_SUB_BUCKETS (under 0.8 %) of itself in a fixed array: recording allocates nothing
 * and costs a few instructions, and histograms of several threads merge by adding counts.
 *
 * Values are non-negative integers in whatever unit the caller picks (`tape bench` records
 * nanoseconds); values past HIST_VALUE_MAX are counted as HIST_VALUE_MAX. Pure: no I/O, no
 * clock.
 */
#ifndef TAPE_CLI_HIST_H
#define TAPE_CLI_HIST_H

#include <stdint.h>

/* 2^7 sub-buckets per power of two: relative error below 1/128. */
#define HIST_SUB_BITS 7
#define HIST_SUB_BUCKETS (1 << HIST_SUB_BITS)
/* The largest power of two kept: 2^41 ns is about 36 minutes, past any delivery timeout. */
#define HIST_MAGNITUDE_MAX 41
#define HIST_VALUE_MAX ((INT64_C(1) << (HIST_MAGNITUDE_MAX + 1)) - 1)
/* Values below HIST_SUB_BUCKETS exactly, then HIST_SUB_BUCKETS per power of two above. */
#define HIST_BUCKETS \
	(HIST_SUB_BUCKETS + (HIST_MAGNITUDE_MAX + 1 - HIST_SUB_BITS) * HIST_SUB_BUCKETS)

struct hist {
	int64_t count;
	int64_t min; /* INT64_MAX while empty */
	int64_t max; /* exact, not bucketed */
	int64_t sum; /* for the mean */
	int64_t buckets[HIST_BUCKETS];
};

/* Empties h. */
void hist_init(struct hist *h);

/* Counts one value (negative values count as 0). */
void hist_record(struct hist *h, int64_t value);

/* Adds every count of from into into. */
void hist_merge(struct hist *into, const struct hist *from);

/* The value at quantile q (0 < q <= 1: 0.5, 0.99, 0.999): the smallest recorded value v such
 * that at least q of the values are <= v, up to the bucket's width (the highest value the
 * bucket holds, and never more than the maximum recorded). 0 when h is empty. */
int64_t hist_quantile(const struct hist *h, double q);

/* The bucket index of value, and the highest value bucket index i holds (for tests). */
int32_t hist_bucket_of(int64_t value);
int64_t hist_bucket_high(int32_t index);

#endif
