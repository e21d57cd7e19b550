/*
 * tests/fuzz/fuzz_record_batch.c: one input is one RecordBatch. Peeks its size, validates it
 * with every check, and when it is valid without the CRC (so the fuzzer need not forge one)
 * iterates its records and headers, decompressing first (1 MiB limit) when it says so. Each
 * record is encoded again and must decode to itself.
 */
#include "base/assert.h"
#include "base/limits.h"
#include "protocol/compression.h"
#include "protocol/record_batch.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_bytes(const uint8_t *a, int32_t alen, const uint8_t *b, int32_t blen)
{
	return alen == blen && (alen <= 0 || memcmp(a, b, (size_t)alen) == 0);
}

static void check_record(const struct record *rec)
{
	struct record_header_iter hi;
	struct record_header h;
	record_header_iter_init(&hi, rec);
	while (record_header_iter_next(&hi, &h) == 1)
		ASSERT(h.key_len >= 0 && h.value_len >= -1);
	size_t n = record_encoded_size(rec);
	uint8_t *buf = malloc(n);
	ASSERT(buf && record_encode(buf, n, rec) == n);
	struct record_iter it;
	struct record again;
	record_iter_init(&it, buf, n, 1);
	ASSERT(record_iter_next(&it, &again) == 1 && record_iter_next(&it, &again) == 0);
	ASSERT(again.attributes == rec->attributes && again.offset_delta == rec->offset_delta);
	ASSERT(again.timestamp_delta == rec->timestamp_delta);
	ASSERT(same_bytes(again.key, again.key_len, rec->key, rec->key_len));
	ASSERT(same_bytes(again.value, again.value_len, rec->value, rec->value_len));
	ASSERT(again.headers_count == rec->headers_count && again.headers_len == rec->headers_len);
	ASSERT(rec->headers_len == 0 || memcmp(again.headers, rec->headers, rec->headers_len) == 0);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record_batch_header h;
	int64_t peek = record_batch_peek_size(data, size, BATCH_BYTES_MAX);
	int full = record_batch_validate(data, size,
	                                 RB_CHECK_CRC | RB_CHECK_RECORDS | RB_CHECK_PRODUCED, NULL);
	if (record_batch_validate(data, size, RB_CHECK_RECORDS, &h) != 0) {
		ASSERT(full != 0);
		return 0;
	}
	ASSERT(peek == (int64_t)size);
	struct compression_buf buf = { 0 };
	const uint8_t *records = data + RB_RECORDS;
	size_t len = size - RB_RECORDS;
	if (record_batch_codec(&h) != COMPRESSION_NONE) {
		if (compression_decompress(record_batch_codec(&h), records, len, &buf, 1 * MiB))
			goto out;
		records = buf.p;
		len = buf.len;
	}
	struct record_iter it;
	struct record rec;
	int rc, n = 0;
	record_iter_init(&it, records, len, h.records_count);
	while ((rc = record_iter_next(&it, &rec)) == 1) {
		check_record(&rec);
		n++;
	}
	/* An uncompressed batch was walked by validate: its records must all be there. */
	ASSERT(record_batch_codec(&h) != COMPRESSION_NONE || (rc == 0 && n == h.records_count));
out:
	free(buf.p);
	return 0;
}
