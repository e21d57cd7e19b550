/*
 * base/buf.c: see buf.h.
 */
#include "base/buf.h"

#include "base/endian.h"
#include "base/varint.h"

#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit;
}

void buf_free(struct buf *b)
{
	free(b->p);
	buf_init(b, b->limit);
}

uint8_t *buf_reserve(struct buf *b, size_t n)
{
	if (b->bad)
		return NULL;
	if (n > b->limit || b->len > b->limit - n) {
		b->bad = true;
		return NULL;
	}
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap - b->len < n)
			cap *= 2;
		if (cap > b->limit)
			cap = b->limit;
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			b->bad = true;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	return b->p + b->len;
}

void buf_put(struct buf *b, const void *src, size_t n)
{
	uint8_t *p = buf_reserve(b, n);
	if (!p)
		return;
	if (n)
		memcpy(p, src, n);
	b->len += n;
}

void buf_u8(struct buf *b, uint8_t v)
{
	buf_put(b, &v, 1);
}

void buf_i16(struct buf *b, int16_t v)
{
	uint8_t t[2];
	store_be16(t, (uint16_t)v);
	buf_put(b, t, 2);
}

void buf_i32(struct buf *b, int32_t v)
{
	uint8_t t[4];
	store_be32(t, (uint32_t)v);
	buf_put(b, t, 4);
}

void buf_i64(struct buf *b, int64_t v)
{
	uint8_t t[8];
	store_be64(t, (uint64_t)v);
	buf_put(b, t, 8);
}

void buf_uvarint(struct buf *b, uint32_t v)
{
	uint8_t t[VARINT32_BYTES_MAX];
	buf_put(b, t, varint_encode_u32(t, v));
}

size_t buf_skip(struct buf *b, size_t n)
{
	uint8_t *p = buf_reserve(b, n);
	if (!p)
		return SIZE_MAX;
	memset(p, 0, n);
	b->len += n;
	return b->len - n;
}

void buf_patch_i32(struct buf *b, size_t pos, int32_t v)
{
	if (b->bad || pos == SIZE_MAX || pos + 4 > b->len)
		return;
	store_be32(b->p + pos, (uint32_t)v);
}
