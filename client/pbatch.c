/*
 * client/pbatch.c: building one producer batch (pbatch.h).
 *
 * Owns: the encoding of a producer's records (through protocol/record_batch.h's record and
 * header encoders), compression of the records section, and the header fields a producer
 * sets: baseOffset 0, partitionLeaderEpoch -1 (the broker stamps both), CreateTime,
 * lastOffsetDelta = count - 1, and producer id / epoch / base sequence (-1 until stamped).
 * Must not know: partitions' queues, when a batch is sent, or what the broker answers.
 */
#include "client/pbatch.h"

#include "base/assert.h"
#include "base/endian.h"
#include "base/errors.h"
#include "base/limits.h"
#include "base/varint.h"
#include "protocol/compression.h"
#include "protocol/record_batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A batch's records section never passes the hard cap on a batch. */
#define RECORDS_BYTES_MAX BATCH_BYTES_MAX

struct pbatch *pbatch_new(uint64_t id, int32_t partition, int64_t now_ms)
{
	struct pbatch *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->id = id;
	b->partition = partition;
	b->created_ms = now_ms;
	b->open = true;
	b->producer_id = RB_NO_PRODUCER_ID;
	b->producer_epoch = -1;
	b->base_sequence = RB_NO_SEQUENCE;
	/* Room for the batch header in front of the records: sealing an uncompressed batch then
	 * writes the header there instead of copying the records behind a new one. */
	buf_init(&b->records, RB_HEADER_BYTES + RECORDS_BYTES_MAX);
	if (!buf_reserve(&b->records, RB_HEADER_BYTES)) {
		pbatch_free(b);
		return NULL;
	}
	b->records.len = RB_HEADER_BYTES;
	return b;
}

void pbatch_free(struct pbatch *b)
{
	if (!b)
		return;
	buf_free(&b->records);
	free(b->recs);
	free(b->wire);
	free(b);
}

static size_t headers_bytes(const struct tape_record *rec)
{
	size_t n = 0;
	for (int32_t i = 0; i < rec->headers_count; i++) {
		const struct tape_header *h = &rec->headers[i];
		int32_t klen = (int32_t)strlen(h->name);
		int32_t vlen = h->value ? h->value_len : -1;
		n += varint_size_i32(klen) + (size_t)klen + varint_size_i32(vlen);
		n += vlen > 0 ? (size_t)vlen : 0;
	}
	return n;
}

/* The protocol's struct record for rec, headers not filled in. */
static struct record as_record(const struct tape_record *rec, int64_t timestamp_delta,
                               int32_t offset_delta)
{
	return (struct record){
		.timestamp_delta = timestamp_delta,
		.offset_delta = offset_delta,
		.key_len = rec->key ? rec->key_len : -1,
		.key = rec->key,
		.value_len = rec->value ? rec->value_len : -1,
		.value = rec->value,
		.headers_count = rec->headers_count,
	};
}

size_t pbatch_record_bytes(const struct tape_record *rec, int64_t timestamp_delta,
                           int32_t offset_delta)
{
	struct record r = as_record(rec, timestamp_delta, offset_delta);
	r.headers_len = headers_bytes(rec);
	return record_encoded_size(&r);
}

static int encode_headers(const struct tape_record *rec, struct buf *scratch)
{
	buf_clear(scratch);
	for (int32_t i = 0; i < rec->headers_count; i++) {
		const struct tape_header *h = &rec->headers[i];
		struct record_header rh = {
			.key_len = (int32_t)strlen(h->name),
			.key = (const uint8_t *)h->name,
			.value_len = h->value ? h->value_len : -1,
			.value = h->value,
		};
		size_t need = 2 * VARINT32_BYTES_MAX + (size_t)rh.key_len +
		              (rh.value_len > 0 ? (size_t)rh.value_len : 0);
		uint8_t *p = buf_reserve(scratch, need);
		if (!p)
			return -ENOMEM;
		size_t n = record_header_encode(p, need, &rh);
		ASSERT(n > 0);
		scratch->len += n;
	}
	return 0;
}

int pbatch_append(struct pbatch *b, const struct tape_record *rec, int64_t timestamp_ms,
                  size_t batch_bytes_max, struct buf *scratch)
{
	ASSERT(b->open);
	if (b->count == 0)
		b->base_timestamp_ms = b->max_timestamp_ms = timestamp_ms;
	int64_t delta = timestamp_ms - b->base_timestamp_ms;
	if (encode_headers(rec, scratch) < 0)
		return -ENOMEM;
	struct record r = as_record(rec, delta, b->count);
	r.headers = scratch->p;
	r.headers_len = scratch->len;
	size_t size = record_encoded_size(&r);
	if (b->count > 0 && b->records.len + size > batch_bytes_max)
		return PBATCH_FULL;
	if (b->count == b->recs_cap) {
		int32_t cap = b->recs_cap ? b->recs_cap * 2 : 16;
		struct pbatch_rec *v = realloc(b->recs, sizeof(*v) * (size_t)cap);
		if (!v)
			return -ENOMEM;
		b->recs = v;
		b->recs_cap = cap;
	}
	uint8_t *p = buf_reserve(&b->records, size);
	if (!p)
		return -ENOMEM;
	size_t n = record_encode(p, size, &r);
	ASSERT(n == size);
	b->records.len += n;
	b->recs[b->count++] = (struct pbatch_rec){ rec->opaque, timestamp_ms };
	if (timestamp_ms > b->max_timestamp_ms)
		b->max_timestamp_ms = timestamp_ms;
	return 0;
}

size_t pbatch_bytes_held(const struct pbatch *b)
{
	return b->records.cap + b->wire_len + sizeof(*b->recs) * (size_t)b->recs_cap + sizeof(*b);
}

int pbatch_seal(struct pbatch *b, int codec, int level)
{
	ASSERT(b->open && b->count > 0);
	struct record_batch_header h = {
		.base_offset = 0,
		.partition_leader_epoch = -1,
		.magic = RB_MAGIC_V2,
		.attributes = COMPRESSION_NONE,
		.last_offset_delta = b->count - 1,
		.base_timestamp = b->base_timestamp_ms,
		.max_timestamp = b->max_timestamp_ms,
		.producer_id = RB_NO_PRODUCER_ID,
		.producer_epoch = -1,
		.base_sequence = RB_NO_SEQUENCE,
		.records_count = b->count,
	};
	const uint8_t *records = b->records.p + RB_HEADER_BYTES;
	size_t records_len = b->records.len - RB_HEADER_BYTES;
	struct compression_buf z = { 0 };
	if (codec != COMPRESSION_NONE) {
		int rc = compression_compress(codec, level, records, records_len, &z);
		if (rc < 0) {
			free(z.p);
			return rc;
		}
		/* As librdkafka: a batch that does not shrink goes out as it is. */
		if (z.len >= records_len) {
			free(z.p);
			z.p = NULL;
		}
	}
	if (!z.p) {
		/* The records are in place behind the header's room: the buffer becomes the batch.
		 */
		size_t n = record_batch_encode_in_place(b->records.p, &h, records_len);
		ASSERT(n == b->records.len);
		b->wire = b->records.p;
		b->wire_len = n;
		b->records = (struct buf){ 0 };
	} else {
		h.attributes = (int16_t)codec;
		size_t cap = RB_HEADER_BYTES + z.len;
		uint8_t *wire = malloc(cap);
		if (!wire) {
			free(z.p);
			return -ENOMEM;
		}
		size_t n = record_batch_encode(wire, cap, &h, z.p, z.len);
		ASSERT(n == cap);
		free(z.p);
		b->wire = wire;
		b->wire_len = n;
		buf_free(&b->records);
	}
	b->codec = h.attributes;
	b->open = false;
	return 0;
}

void pbatch_stamp(struct pbatch *b, int64_t producer_id, int16_t producer_epoch,
                  int32_t base_sequence)
{
	ASSERT(b->wire);
	store_be64(b->wire + RB_PRODUCER_ID, (uint64_t)producer_id);
	store_be16(b->wire + RB_PRODUCER_EPOCH, (uint16_t)producer_epoch);
	store_be32(b->wire + RB_BASE_SEQUENCE, (uint32_t)base_sequence);
	store_be32(b->wire + RB_CRC, record_batch_compute_crc(b->wire, b->wire_len));
	b->producer_id = producer_id;
	b->producer_epoch = producer_epoch;
	b->base_sequence = base_sequence;
}
