/*
 * cli/hist.c: the log-bucket latency histogram of cli/hist.h.
 *
 * Bucket layout: index v for v < 2^HIST_SUB_BITS (exact); above, a value whose highest set
 * bit is m (m >= HIST_SUB_BITS) keeps its HIST_SUB_BITS bits below that one:
 *   index = 2^SUB + (m - SUB) * 2^SUB + ((v >> (m - SUB)) - 2^SUB)
 * so each bucket covers 2^(m - SUB) consecutive values, 1/2^SUB of its lower bound.
 */
#include "cli/hist.h"

#include <string.h>

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = INT64_MAX;
}

int32_t hist_bucket_of(int64_t value)
{
	if (value < 0)
		value = 0;
	if (value > HIST_VALUE_MAX)
		value = HIST_VALUE_MAX;
	if (value < HIST_SUB_BUCKETS)
		return (int32_t)value;
	int m = 63 - __builtin_clzll((unsigned long long)value);
	int shift = m - HIST_SUB_BITS;
	return (int32_t)(HIST_SUB_BUCKETS + shift * HIST_SUB_BUCKETS +
	                 ((value >> shift) - HIST_SUB_BUCKETS));
}

int64_t hist_bucket_high(int32_t index)
{
	if (index < HIST_SUB_BUCKETS)
		return index;
	int shift = (index - HIST_SUB_BUCKETS) / HIST_SUB_BUCKETS;
	int64_t sub = (index - HIST_SUB_BUCKETS) % HIST_SUB_BUCKETS;
	int64_t low = (HIST_SUB_BUCKETS + sub) << shift;
	return low + (INT64_C(1) << shift) - 1;
}

void hist_record(struct hist *h, int64_t value)
{
	if (value < 0)
		value = 0;
	if (value > HIST_VALUE_MAX)
		value = HIST_VALUE_MAX;
	h->buckets[hist_bucket_of(value)]++;
	h->count++;
	h->sum += value;
	if (value < h->min)
		h->min = value;
	if (value > h->max)
		h->max = value;
}

void hist_merge(struct hist *into, const struct hist *from)
{
	for (int32_t i = 0; i < HIST_BUCKETS; i++)
		into->buckets[i] += from->buckets[i];
	into->count += from->count;
	into->sum += from->sum;
	if (from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
}

int64_t hist_quantile(const struct hist *h, double q)
{
	if (h->count == 0)
		return 0;
	if (q > 1)
		q = 1;
	double want = q * (double)h->count;
	int64_t rank = (int64_t)want; /* rounded up: at least q of the values */
	if ((double)rank < want)
		rank++;
	if (rank < 1)
		rank = 1;
	int64_t seen = 0;
	for (int32_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			int64_t v = hist_bucket_high(i);
			return v > h->max ? h->max : v < h->min ? h->min : v;
		}
	}
	return h->max;
}
