/*
 * protocol/record_batch.h: Kafka's RecordBatch v2 (magic 2), the wire and the on-disk format.
 *
 * Layout (big-endian; reference/kafka-protocol.md §6):
 *
 *   off size field                  notes
 *     0  8   baseOffset             assigned by the broker; outside the CRC
 *     8  4   batchLength            bytes after this field; batch size = batchLength + 12
 *    12  4   partitionLeaderEpoch   stamped by the broker; outside the CRC
 *    16  1   magic                  2
 *    17  4   crc                    CRC-32C of bytes [21, end)
 *    21  2   attributes             bits 0-2 codec, 3 LogAppendTime, 4 transactional, 5 control,
 *                                   6 delete horizon set
 *    23  4   lastOffsetDelta        == recordsCount - 1 for a batch fresh from a producer
 *    27  8   baseTimestamp
 *    35  8   maxTimestamp
 *    43  8   producerId             -1 when not idempotent
 *    51  2   producerEpoch
 *    53  4   baseSequence
 *    57  4   recordsCount
 *    61  ... records                one compressed blob when the codec is not none
 *
 * Record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
 * keyLength varint (-1 null), key, valueLength varint (-1 null), value, headersCount varint,
 * headers (keyLength varint, key, valueLength varint (-1 null), value). All varints zig-zag.
 *
 * Everything here is pure: functions take (buf, len), read through bounds checks and allocate
 * nothing. Pointers into a batch are borrowed from the caller's buffer.
 */
#ifndef TAPE_PROTOCOL_RECORD_BATCH_H
#define TAPE_PROTOCOL_RECORD_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RB_BASE_OFFSET 0
#define RB_BATCH_LENGTH 8
#define RB_PARTITION_LEADER_EPOCH 12
#define RB_MAGIC 16
#define RB_CRC 17
#define RB_ATTRIBUTES 21
#define RB_LAST_OFFSET_DELTA 23
#define RB_BASE_TIMESTAMP 27
#define RB_MAX_TIMESTAMP 35
#define RB_PRODUCER_ID 43
#define RB_PRODUCER_EPOCH 51
#define RB_BASE_SEQUENCE 53
#define RB_RECORDS_COUNT 57
#define RB_RECORDS 61
#define RB_HEADER_BYTES 61
/* baseOffset + batchLength: the bytes not counted by batchLength. */
#define RB_LOG_OVERHEAD 12
#define RB_MAGIC_V2 2

#define RB_ATTR_CODEC_MASK 0x07
#define RB_ATTR_LOG_APPEND_TIME 0x08
#define RB_ATTR_TRANSACTIONAL 0x10
#define RB_ATTR_CONTROL 0x20
#define RB_ATTR_DELETE_HORIZON 0x40

#define RB_NO_PRODUCER_ID (-1)
#define RB_NO_SEQUENCE (-1)

struct record_batch_header {
	int64_t base_offset;
	int32_t batch_length;
	int32_t partition_leader_epoch;
	int8_t magic;
	uint32_t crc;
	int16_t attributes;
	int32_t last_offset_delta;
	int64_t base_timestamp;
	int64_t max_timestamp;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;
	int32_t records_count;
};

static inline uint32_t record_batch_size(const struct record_batch_header *h)
{
	return (uint32_t)h->batch_length + RB_LOG_OVERHEAD;
}
static inline int64_t record_batch_last_offset(const struct record_batch_header *h)
{
	return h->base_offset + h->last_offset_delta;
}
static inline int record_batch_codec(const struct record_batch_header *h)
{
	return h->attributes & RB_ATTR_CODEC_MASK;
}

/* Reads the 61-byte header at buf (len >= RB_HEADER_BYTES, not checked beyond that). */
void record_batch_header_read(const uint8_t *buf, struct record_batch_header *h);

/* The total size of the batch starting at buf, from its batchLength, or:
 *   0 when fewer than RB_LOG_OVERHEAD bytes are available (need more),
 *  -TAPE_EBADBATCH when batchLength is impossible (< RB_HEADER_BYTES - 12) or the batch size
 *   (batchLength + 12, as message.max.bytes counts it) is > max_bytes.
 * Does not require the whole batch to be present. */
int64_t record_batch_peek_size(const uint8_t *buf, size_t len, uint32_t max_bytes);

/* What record_batch_validate checks beyond the header's own consistency. */
enum record_batch_checks {
	RB_CHECK_CRC = 1 << 0,      /* CRC-32C over [21, end) */
	RB_CHECK_RECORDS = 1 << 1,  /* walk the records of an uncompressed batch: each record
	                               within bounds, exactly recordsCount of them, offset deltas
	                               increasing and <= lastOffsetDelta */
	RB_CHECK_PRODUCED = 1 << 2, /* fresh from a producer: recordsCount >= 1,
	                               lastOffsetDelta == recordsCount - 1, no control bit */
};

/* Validates one batch occupying exactly buf[0, len): magic 2, batchLength + 12 == len, a known
 * codec, recordsCount >= 0 and bounded by the bytes, lastOffsetDelta >= recordsCount - 1, and
 * what checks asks. Fills *h (may be NULL). Returns 0, -TAPE_EBADBATCH or -TAPE_ECRC. */
int record_batch_validate(const uint8_t *buf, size_t len, unsigned checks,
                          struct record_batch_header *h);

uint32_t record_batch_compute_crc(const uint8_t *buf, size_t len);

/* Broker stamps, both outside the CRC. */
void record_batch_set_base_offset(uint8_t *buf, int64_t base_offset);
void record_batch_set_leader_epoch(uint8_t *buf, int32_t epoch);
/* LogAppendTime: sets bit 3 and maxTimestamp, then recomputes the CRC (both inside it). */
void record_batch_set_log_append_time(uint8_t *buf, size_t len, int64_t now_ms);

/* One record, borrowed from the records section it was read from. */
struct record {
	int8_t attributes;
	int64_t timestamp_delta;
	int32_t offset_delta;
	int32_t key_len; /* -1: null key */
	const uint8_t *key;
	int32_t value_len; /* -1: null value (tombstone) */
	const uint8_t *value;
	int32_t headers_count;
	const uint8_t *headers; /* the encoded headers, headers_len bytes */
	size_t headers_len;
};

struct record_header {
	int32_t key_len;
	const uint8_t *key;
	int32_t value_len; /* -1: null */
	const uint8_t *value;
};

/* Iterates the records of an uncompressed records section (after decompression for a
 * compressed batch). */
struct record_iter {
	const uint8_t *p;
	size_t left;
	int32_t remaining;
};

void record_iter_init(struct record_iter *it, const uint8_t *records, size_t len, int32_t count);
/* 1 and *rec filled, 0 at the end (count reached and no bytes left), -TAPE_EBADBATCH when
 * malformed (a record out of bounds, bytes left over, or fewer records than count). */
int record_iter_next(struct record_iter *it, struct record *rec);

/* Iterates the headers of one record. */
struct record_header_iter {
	const uint8_t *p;
	size_t left;
	int32_t remaining;
};
void record_header_iter_init(struct record_header_iter *it, const struct record *rec);
/* 1, 0 at the end, -TAPE_EBADBATCH when malformed. */
int record_header_iter_next(struct record_header_iter *it, struct record_header *h);

/* Bytes record_encode would write for rec (headers taken as rec->headers/headers_len). */
size_t record_encoded_size(const struct record *rec);
/* Encodes rec with its length prefix. Returns bytes written, or 0 if cap is too small. */
size_t record_encode(uint8_t *out, size_t cap, const struct record *rec);
/* Encodes one header (for building rec->headers). Returns bytes written, or 0 if too small. */
size_t record_header_encode(uint8_t *out, size_t cap, const struct record_header *h);

/* Writes a whole batch: the header from h (batch_length and crc computed here, everything
 * else as given, including attributes' codec) followed by the records section as given
 * (already compressed if the codec says so). Returns the batch size, or 0 if cap is too
 * small. */
size_t record_batch_encode(uint8_t *out, size_t cap, const struct record_batch_header *h,
                           const uint8_t *records, size_t records_len);
/* The same, for a records section already in place at out + RB_HEADER_BYTES (a producer that
 * encodes records behind room left for the header seals a batch without copying it): writes
 * the header and the CRC over out[0, RB_HEADER_BYTES + records_len). Returns the batch size,
 * or 0 when records_len is too large for a batch. */
size_t record_batch_encode_in_place(uint8_t *out, const struct record_batch_header *h,
                                    size_t records_len);

#endif
