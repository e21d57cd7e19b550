/*
 * base/varint.c: varint encode/decode. See varint.h for the format and return convention.
 */
#include "base/varint.h"

int varint_decode_u64(const uint8_t *buf, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	for (size_t i = 0; i < VARINT64_BYTES_MAX; i++) {
		if (i == len)
			return 0;
		uint8_t b = buf[i];
		/* The tenth byte may only carry the top bit of a 64-bit value. */
		if (i == VARINT64_BYTES_MAX - 1 && b > 1)
			return -1;
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*out = v;
			return (int)i + 1;
		}
	}
	return -1;
}

int varint_decode_u32(const uint8_t *buf, size_t len, uint32_t *out)
{
	uint32_t v = 0;
	for (size_t i = 0; i < VARINT32_BYTES_MAX; i++) {
		if (i == len)
			return 0;
		uint8_t b = buf[i];
		if (i == VARINT32_BYTES_MAX - 1 && b > 0x0f)
			return -1;
		v |= (uint32_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*out = v;
			return (int)i + 1;
		}
	}
	return -1;
}

int varint_decode_i32(const uint8_t *buf, size_t len, int32_t *out)
{
	uint32_t z;
	int n = varint_decode_u32(buf, len, &z);
	if (n > 0)
		*out = zigzag32_decode(z);
	return n;
}

int varint_decode_i64(const uint8_t *buf, size_t len, int64_t *out)
{
	uint64_t z;
	int n = varint_decode_u64(buf, len, &z);
	if (n > 0)
		*out = zigzag64_decode(z);
	return n;
}

size_t varint_encode_u64(uint8_t *out, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

size_t varint_encode_u32(uint8_t *out, uint32_t v)
{
	return varint_encode_u64(out, v);
}
size_t varint_encode_i32(uint8_t *out, int32_t v)
{
	return varint_encode_u64(out, zigzag32_encode(v));
}
size_t varint_encode_i64(uint8_t *out, int64_t v)
{
	return varint_encode_u64(out, zigzag64_encode(v));
}

size_t varint_size_u64(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}
