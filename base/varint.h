/*
 * base/varint.h: protobuf-style varints, as Kafka uses them.
 *
 * Unsigned: 7-bit groups, least significant first, 0x80 = more follows. At most 5 bytes for a
 * 32-bit value and 10 for a 64-bit one; a longer encoding is malformed, not "more data".
 * Signed (Kafka's varint/varlong): zig-zag first, zz = (n << 1) ^ (n >> bits-1).
 *
 * Decoders take (buf, len) and return the bytes consumed (> 0), 0 when the buffer ends inside
 * the varint, or -1 when the encoding is malformed (too long or overflowing the type).
 */
#ifndef TAPE_BASE_VARINT_H
#define TAPE_BASE_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VARINT32_BYTES_MAX 5
#define VARINT64_BYTES_MAX 10

static inline uint32_t zigzag32_encode(int32_t n)
{
	return ((uint32_t)n << 1) ^ (uint32_t)(n >> 31);
}
static inline int32_t zigzag32_decode(uint32_t z)
{
	return (int32_t)((z >> 1) ^ -(z & 1));
}
static inline uint64_t zigzag64_encode(int64_t n)
{
	return ((uint64_t)n << 1) ^ (uint64_t)(n >> 63);
}
static inline int64_t zigzag64_decode(uint64_t z)
{
	return (int64_t)((z >> 1) ^ -(z & 1));
}

int varint_decode_u32(const uint8_t *buf, size_t len, uint32_t *out);
int varint_decode_u64(const uint8_t *buf, size_t len, uint64_t *out);
int varint_decode_i32(const uint8_t *buf, size_t len, int32_t *out);
int varint_decode_i64(const uint8_t *buf, size_t len, int64_t *out);

/* Encoders write into out (room for the _BYTES_MAX) and return the bytes written. */
size_t varint_encode_u32(uint8_t *out, uint32_t v);
size_t varint_encode_u64(uint8_t *out, uint64_t v);
size_t varint_encode_i32(uint8_t *out, int32_t v);
size_t varint_encode_i64(uint8_t *out, int64_t v);

/* Bytes the encoding of v takes. */
size_t varint_size_u64(uint64_t v);
static inline size_t varint_size_i64(int64_t v)
{
	return varint_size_u64(zigzag64_encode(v));
}
static inline size_t varint_size_i32(int32_t v)
{
	return varint_size_u64(zigzag32_encode(v));
}

#endif
