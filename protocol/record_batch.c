/*
 * protocol/record_batch.c: reading, validating, stamping and writing RecordBatch v2.
 * The layout is in record_batch.h. Pure: no I/O, no allocation.
 */
#include "protocol/record_batch.h"

#include "base/crc32c.h"
#include "base/cursor.h"
#include "base/endian.h"
#include "base/errors.h"
#include "base/limits.h"
#include "base/varint.h"
#include "protocol/compression.h"

#include <string.h>

_Static_assert(RB_HEADER_BYTES == BATCH_HEADER_BYTES, "limits.h agrees with the format");

void record_batch_header_read(const uint8_t *buf, struct record_batch_header *h)
{
	h->base_offset = (int64_t)load_be64(buf + RB_BASE_OFFSET);
	h->batch_length = (int32_t)load_be32(buf + RB_BATCH_LENGTH);
	h->partition_leader_epoch = (int32_t)load_be32(buf + RB_PARTITION_LEADER_EPOCH);
	h->magic = (int8_t)buf[RB_MAGIC];
	h->crc = load_be32(buf + RB_CRC);
	h->attributes = (int16_t)load_be16(buf + RB_ATTRIBUTES);
	h->last_offset_delta = (int32_t)load_be32(buf + RB_LAST_OFFSET_DELTA);
	h->base_timestamp = (int64_t)load_be64(buf + RB_BASE_TIMESTAMP);
	h->max_timestamp = (int64_t)load_be64(buf + RB_MAX_TIMESTAMP);
	h->producer_id = (int64_t)load_be64(buf + RB_PRODUCER_ID);
	h->producer_epoch = (int16_t)load_be16(buf + RB_PRODUCER_EPOCH);
	h->base_sequence = (int32_t)load_be32(buf + RB_BASE_SEQUENCE);
	h->records_count = (int32_t)load_be32(buf + RB_RECORDS_COUNT);
}

int64_t record_batch_peek_size(const uint8_t *buf, size_t len, uint32_t max_bytes)
{
	if (len < RB_LOG_OVERHEAD)
		return 0;
	int32_t batch_length = (int32_t)load_be32(buf + RB_BATCH_LENGTH);
	if (batch_length < RB_HEADER_BYTES - RB_LOG_OVERHEAD)
		return -TAPE_EBADBATCH;
	int64_t size = (int64_t)batch_length + RB_LOG_OVERHEAD;
	if (size > (int64_t)max_bytes)
		return -TAPE_EBADBATCH;
	return size;
}

uint32_t record_batch_compute_crc(const uint8_t *buf, size_t len)
{
	return crc32c(0, buf + RB_ATTRIBUTES, len - RB_ATTRIBUTES);
}

static int check_records(const uint8_t *buf, size_t len, const struct record_batch_header *h)
{
	struct record_iter it;
	struct record rec;
	int32_t prev_delta = -1;
	record_iter_init(&it, buf + RB_RECORDS, len - RB_RECORDS, h->records_count);
	int rc;
	while ((rc = record_iter_next(&it, &rec)) == 1) {
		if (rec.offset_delta <= prev_delta || rec.offset_delta > h->last_offset_delta)
			return -TAPE_EBADBATCH;
		prev_delta = rec.offset_delta;
	}
	return rc;
}

int record_batch_validate(const uint8_t *buf, size_t len, unsigned checks,
                          struct record_batch_header *out)
{
	struct record_batch_header tmp;
	struct record_batch_header *h = out ? out : &tmp;
	if (len < RB_HEADER_BYTES)
		return -TAPE_EBADBATCH;
	record_batch_header_read(buf, h);
	if (h->magic != RB_MAGIC_V2)
		return -TAPE_EBADBATCH;
	if (h->batch_length < 0 || (uint64_t)h->batch_length + RB_LOG_OVERHEAD != len)
		return -TAPE_EBADBATCH;
	if (h->records_count < 0 || h->last_offset_delta < 0)
		return -TAPE_EBADBATCH;
	/* Codecs 5-7 do not exist: no consumer could read the records (Kafka refuses them). */
	if (record_batch_codec(h) > COMPRESSION_ZSTD)
		return -TAPE_EBADBATCH;
	/* Each record takes at least RECORD_BYTES_MIN bytes when uncompressed; compressed
	 * batches are bounded by the decompression limit instead. */
	uint64_t records_bytes = len - RB_HEADER_BYTES;
	if (record_batch_codec(h) == 0 &&
	    (uint64_t)h->records_count * RECORD_BYTES_MIN > records_bytes)
		return -TAPE_EBADBATCH;
	if (h->records_count > 0 && h->last_offset_delta < h->records_count - 1)
		return -TAPE_EBADBATCH;
	/* maxTimestamp >= baseTimestamp holds for CreateTime, except that with the delete horizon
	 * set, compaction keeps the horizon in baseTimestamp (KIP-534) and it is later than
	 * every record. */
	if (h->max_timestamp < h->base_timestamp && h->records_count > 0 &&
	    !(h->attributes & (RB_ATTR_LOG_APPEND_TIME | RB_ATTR_DELETE_HORIZON)) &&
	    h->max_timestamp != -1)
		return -TAPE_EBADBATCH;
	if (checks & RB_CHECK_PRODUCED) {
		if (h->records_count < 1 || h->last_offset_delta != h->records_count - 1)
			return -TAPE_EBADBATCH;
		if (h->attributes & RB_ATTR_CONTROL)
			return -TAPE_EBADBATCH;
	}
	if (checks & RB_CHECK_CRC) {
		if (record_batch_compute_crc(buf, len) != h->crc)
			return -TAPE_ECRC;
	}
	if ((checks & RB_CHECK_RECORDS) && record_batch_codec(h) == 0) {
		int rc = check_records(buf, len, h);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void record_batch_set_base_offset(uint8_t *buf, int64_t base_offset)
{
	store_be64(buf + RB_BASE_OFFSET, (uint64_t)base_offset);
}

void record_batch_set_leader_epoch(uint8_t *buf, int32_t epoch)
{
	store_be32(buf + RB_PARTITION_LEADER_EPOCH, (uint32_t)epoch);
}

void record_batch_set_log_append_time(uint8_t *buf, size_t len, int64_t now_ms)
{
	uint16_t attributes = load_be16(buf + RB_ATTRIBUTES);
	store_be16(buf + RB_ATTRIBUTES, attributes | RB_ATTR_LOG_APPEND_TIME);
	store_be64(buf + RB_MAX_TIMESTAMP, (uint64_t)now_ms);
	store_be32(buf + RB_CRC, record_batch_compute_crc(buf, len));
}

/* ---- records -------------------------------------------------------------------------- */

void record_iter_init(struct record_iter *it, const uint8_t *records, size_t len, int32_t count)
{
	it->p = records;
	it->left = len;
	it->remaining = count;
}

static bool read_bytes(struct cursor *c, int32_t *len_out, const uint8_t **p_out, bool nullable)
{
	int32_t n = cursor_varint(c);
	*len_out = n;
	*p_out = NULL;
	if (n < 0) {
		if (n != -1 || !nullable)
			cursor_fail(c);
		return cursor_ok(c);
	}
	*p_out = cursor_bytes(c, (size_t)n);
	return cursor_ok(c);
}

int record_iter_next(struct record_iter *it, struct record *rec)
{
	if (it->remaining <= 0)
		return it->left == 0 ? 0 : -TAPE_EBADBATCH;
	struct cursor outer;
	cursor_init(&outer, it->p, it->left);
	int32_t length = cursor_varint(&outer);
	if (!cursor_ok(&outer) || length < 0 || (size_t)length > cursor_left(&outer))
		return -TAPE_EBADBATCH;
	struct cursor c;
	cursor_init(&c, outer.p, (size_t)length);
	rec->attributes = cursor_i8(&c);
	rec->timestamp_delta = cursor_varlong(&c);
	rec->offset_delta = cursor_varint(&c);
	read_bytes(&c, &rec->key_len, &rec->key, true);
	read_bytes(&c, &rec->value_len, &rec->value, true);
	rec->headers_count = cursor_varint(&c);
	if (!cursor_ok(&c) || rec->headers_count < 0 || rec->offset_delta < 0)
		return -TAPE_EBADBATCH;
	rec->headers = c.p;
	rec->headers_len = c.left;
	/* The headers must fill the rest of the record exactly. */
	for (int32_t i = 0; i < rec->headers_count; i++) {
		int32_t n;
		const uint8_t *p;
		if (!read_bytes(&c, &n, &p, false) || !read_bytes(&c, &n, &p, true))
			return -TAPE_EBADBATCH;
	}
	if (cursor_left(&c) != 0)
		return -TAPE_EBADBATCH;
	it->p = outer.p + length;
	it->left = outer.left - (size_t)length;
	it->remaining--;
	return 1;
}

void record_header_iter_init(struct record_header_iter *it, const struct record *rec)
{
	it->p = rec->headers;
	it->left = rec->headers_len;
	it->remaining = rec->headers_count;
}

int record_header_iter_next(struct record_header_iter *it, struct record_header *h)
{
	if (it->remaining <= 0)
		return it->left == 0 ? 0 : -TAPE_EBADBATCH;
	struct cursor c;
	cursor_init(&c, it->p, it->left);
	if (!read_bytes(&c, &h->key_len, &h->key, false) ||
	    !read_bytes(&c, &h->value_len, &h->value, true))
		return -TAPE_EBADBATCH;
	it->p = c.p;
	it->left = c.left;
	it->remaining--;
	return 1;
}

static size_t body_size(const struct record *rec)
{
	size_t n = 1 + varint_size_i64(rec->timestamp_delta) + varint_size_i32(rec->offset_delta);
	n += varint_size_i32(rec->key_len) + (rec->key_len > 0 ? (size_t)rec->key_len : 0);
	n += varint_size_i32(rec->value_len) + (rec->value_len > 0 ? (size_t)rec->value_len : 0);
	n += varint_size_i32(rec->headers_count) + rec->headers_len;
	return n;
}

size_t record_encoded_size(const struct record *rec)
{
	size_t body = body_size(rec);
	return varint_size_i32((int32_t)body) + body;
}

size_t record_encode(uint8_t *out, size_t cap, const struct record *rec)
{
	size_t body = body_size(rec);
	struct writer w;
	writer_init(&w, out, cap);
	writer_varint(&w, (int32_t)body);
	writer_u8(&w, (uint8_t)rec->attributes);
	writer_varlong(&w, rec->timestamp_delta);
	writer_varint(&w, rec->offset_delta);
	writer_varint(&w, rec->key_len);
	if (rec->key_len > 0)
		writer_bytes(&w, rec->key, (size_t)rec->key_len);
	writer_varint(&w, rec->value_len);
	if (rec->value_len > 0)
		writer_bytes(&w, rec->value, (size_t)rec->value_len);
	writer_varint(&w, rec->headers_count);
	writer_bytes(&w, rec->headers, rec->headers_len);
	return writer_ok(&w) ? w.len : 0;
}

size_t record_header_encode(uint8_t *out, size_t cap, const struct record_header *h)
{
	struct writer w;
	writer_init(&w, out, cap);
	writer_varint(&w, h->key_len);
	if (h->key_len > 0)
		writer_bytes(&w, h->key, (size_t)h->key_len);
	writer_varint(&w, h->value_len);
	if (h->value_len > 0)
		writer_bytes(&w, h->value, (size_t)h->value_len);
	return writer_ok(&w) ? w.len : 0;
}

static void put_header(struct writer *w, const struct record_batch_header *h, size_t total)
{
	writer_i64(w, h->base_offset);
	writer_i32(w, (int32_t)(total - RB_LOG_OVERHEAD));
	writer_i32(w, h->partition_leader_epoch);
	writer_u8(w, RB_MAGIC_V2);
	writer_u32(w, 0); /* crc, patched below */
	writer_i16(w, h->attributes);
	writer_i32(w, h->last_offset_delta);
	writer_i64(w, h->base_timestamp);
	writer_i64(w, h->max_timestamp);
	writer_i64(w, h->producer_id);
	writer_i16(w, h->producer_epoch);
	writer_i32(w, h->base_sequence);
	writer_i32(w, h->records_count);
}

size_t record_batch_encode(uint8_t *out, size_t cap, const struct record_batch_header *h,
                           const uint8_t *records, size_t records_len)
{
	/* records_len first, so that the sum cannot wrap. */
	if (records_len > cap || cap - records_len < RB_HEADER_BYTES ||
	    records_len > INT32_MAX - (RB_HEADER_BYTES - RB_LOG_OVERHEAD))
		return 0;
	size_t total = RB_HEADER_BYTES + records_len;
	struct writer w;
	writer_init(&w, out, cap);
	put_header(&w, h, total);
	writer_bytes(&w, records, records_len);
	if (!writer_ok(&w))
		return 0;
	store_be32(out + RB_CRC, record_batch_compute_crc(out, total));
	return total;
}

size_t record_batch_encode_in_place(uint8_t *out, const struct record_batch_header *h,
                                    size_t records_len)
{
	if (records_len > INT32_MAX - (RB_HEADER_BYTES - RB_LOG_OVERHEAD))
		return 0;
	size_t total = RB_HEADER_BYTES + records_len;
	struct writer w;
	writer_init(&w, out, RB_HEADER_BYTES);
	put_header(&w, h, total);
	if (!writer_ok(&w))
		return 0;
	store_be32(out + RB_CRC, record_batch_compute_crc(out, total));
	return total;
}
