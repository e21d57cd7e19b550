/*
 * base/cursor.c: checked reads and writes; see cursor.h for the sticky-error contract.
 */
#include "base/cursor.h"

#include "base/endian.h"
#include "base/varint.h"

#include <string.h>

/* Stands in for the position of a zero-length read or write into a buffer given as NULL:
 * such a read succeeds and must not return NULL, and NULL + 0 is undefined in C. */
static uint8_t empty_slot[1];

static const uint8_t *take(struct cursor *c, size_t n)
{
	if (c->bad || c->left < n) {
		c->bad = true;
		return NULL;
	}
	if (n == 0)
		return c->p ? c->p : empty_slot;
	const uint8_t *p = c->p;
	c->p += n;
	c->left -= n;
	return p;
}

uint8_t cursor_u8(struct cursor *c)
{
	const uint8_t *p = take(c, 1);
	return p ? p[0] : 0;
}

int8_t cursor_i8(struct cursor *c)
{
	return (int8_t)cursor_u8(c);
}

uint16_t cursor_u16(struct cursor *c)
{
	const uint8_t *p = take(c, 2);
	return p ? load_be16(p) : 0;
}

int16_t cursor_i16(struct cursor *c)
{
	return (int16_t)cursor_u16(c);
}

uint32_t cursor_u32(struct cursor *c)
{
	const uint8_t *p = take(c, 4);
	return p ? load_be32(p) : 0;
}

int32_t cursor_i32(struct cursor *c)
{
	return (int32_t)cursor_u32(c);
}

int64_t cursor_i64(struct cursor *c)
{
	const uint8_t *p = take(c, 8);
	return p ? (int64_t)load_be64(p) : 0;
}

uint32_t cursor_uvarint_any(struct cursor *c)
{
	uint32_t v = 0;
	if (c->bad)
		return 0;
	int n = varint_decode_u32(c->p, c->left, &v);
	if (n <= 0) {
		c->bad = true;
		return 0;
	}
	c->p += n;
	c->left -= (size_t)n;
	return v;
}

int64_t cursor_varlong_any(struct cursor *c)
{
	uint64_t v = 0;
	if (c->bad)
		return 0;
	int n = varint_decode_u64(c->p, c->left, &v);
	if (n <= 0) {
		c->bad = true;
		return 0;
	}
	c->p += n;
	c->left -= (size_t)n;
	return zigzag64_decode(v);
}

const uint8_t *cursor_bytes(struct cursor *c, size_t n)
{
	return take(c, n);
}

bool cursor_skip(struct cursor *c, size_t n)
{
	return take(c, n) != NULL;
}

static uint8_t *put(struct writer *w, size_t n)
{
	if (w->bad || w->cap - w->len < n) {
		w->bad = true;
		return NULL;
	}
	if (n == 0)
		return w->p ? w->p + w->len : empty_slot;
	uint8_t *p = w->p + w->len;
	w->len += n;
	return p;
}

void writer_u8(struct writer *w, uint8_t v)
{
	uint8_t *p = put(w, 1);
	if (p)
		p[0] = v;
}

void writer_i16(struct writer *w, int16_t v)
{
	uint8_t *p = put(w, 2);
	if (p)
		store_be16(p, (uint16_t)v);
}

void writer_u32(struct writer *w, uint32_t v)
{
	uint8_t *p = put(w, 4);
	if (p)
		store_be32(p, v);
}

void writer_i32(struct writer *w, int32_t v)
{
	writer_u32(w, (uint32_t)v);
}

void writer_i64(struct writer *w, int64_t v)
{
	uint8_t *p = put(w, 8);
	if (p)
		store_be64(p, (uint64_t)v);
}

void writer_uvarint(struct writer *w, uint32_t v)
{
	uint8_t tmp[VARINT32_BYTES_MAX];
	writer_bytes(w, tmp, varint_encode_u32(tmp, v));
}

void writer_varint(struct writer *w, int32_t v)
{
	uint8_t tmp[VARINT32_BYTES_MAX];
	writer_bytes(w, tmp, varint_encode_i32(tmp, v));
}

void writer_varlong(struct writer *w, int64_t v)
{
	uint8_t tmp[VARINT64_BYTES_MAX];
	writer_bytes(w, tmp, varint_encode_i64(tmp, v));
}

void writer_bytes(struct writer *w, const void *src, size_t n)
{
	uint8_t *p = put(w, n);
	if (p && n)
		memcpy(p, src, n);
}

size_t writer_reserve(struct writer *w, size_t n)
{
	size_t pos = w->len;
	return put(w, n) ? pos : SIZE_MAX;
}
