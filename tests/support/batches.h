/*
 * tests/support/batches.h: building RecordBatch v2 bytes for tests and benchmarks, and temp
 * directories that clean up after themselves.
 */
#ifndef TAPE_TESTS_SUPPORT_BATCHES_H
#define TAPE_TESTS_SUPPORT_BATCHES_H

#include "protocol/record_batch.h"

#include <stddef.h>
#include <stdint.h>

struct test_batch_spec {
	int records;          /* >= 1 */
	size_t value_bytes;   /* each record's value; filled from seed */
	int64_t timestamp_ms; /* base timestamp; record i gets base + i */
	int64_t producer_id;  /* -1 when not idempotent */
	int16_t producer_epoch;
	int32_t base_sequence;
	uint64_t seed;   /* value content */
	const char *key; /* NULL: null key; else key + decimal (index % key_space, or index) */
	int key_space;
	int codec; /* enum compression_codec; 0 none */
};

/* Builds one batch into a malloc'ed buffer; returns its size. Aborts on failure. */
size_t test_batch_build(const struct test_batch_spec *spec, uint8_t **out);
/* A one-call batch of n records of value_bytes each, no key, not idempotent. */
size_t test_batch_simple(int records, size_t value_bytes, int64_t timestamp_ms, uint8_t **out);

/* One record of test_batch_records. */
struct test_record {
	const char *key;   /* NULL: null key */
	const char *value; /* NULL: null value (a tombstone) */
};
/* Builds one batch of count records with these keys and values, not idempotent: record i has
 * offset delta i and timestamp timestamp_ms + i; codec as in test_batch_spec. Returns its
 * size. Aborts on failure. */
size_t test_batch_records(const struct test_record *recs, int count, int64_t timestamp_ms,
                          int codec, uint8_t **out);

/* mkdtemp under $TMPDIR or /tmp; returns a malloc'ed path. */
char *test_tmpdir(const char *tag);
/* rm -rf path, then free it. */
void test_rmdir(char *path);

#endif
