/*
 * base/cursor.h: bounds-checked reading and writing of byte buffers.
 *
 * A cursor reads big-endian integers, varints and byte runs from a borrowed buffer. Every read
 * is checked against the bytes that remain; the first failed read makes the cursor "bad", and
 * every later read returns zero without touching memory. A decoder therefore reads in a
 * straight line and checks cursor_ok() once at the end (BoringSSL's CBS idea).
 *
 * A writer appends to a caller-owned buffer of fixed capacity with the same sticky error, and
 * can hand out a position to back-patch (lengths and CRCs written after the body).
 *
 * Lifetimes: pointers returned by cursor_bytes() are borrowed from the cursor's buffer and are
 * valid as long as that buffer is.
 */
#ifndef TAPE_BASE_CURSOR_H
#define TAPE_BASE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cursor {
	const uint8_t *p; /* borrowed */
	size_t left;
	bool bad;
};

static inline void cursor_init(struct cursor *c, const void *buf, size_t len)
{
	c->p = (const uint8_t *)buf;
	c->left = len;
	c->bad = false;
}

static inline bool cursor_ok(const struct cursor *c)
{
	return !c->bad;
}
static inline size_t cursor_left(const struct cursor *c)
{
	return c->bad ? 0 : c->left;
}

uint8_t cursor_u8(struct cursor *c);
int8_t cursor_i8(struct cursor *c);
int16_t cursor_i16(struct cursor *c);
uint16_t cursor_u16(struct cursor *c);
int32_t cursor_i32(struct cursor *c);
uint32_t cursor_u32(struct cursor *c);
int64_t cursor_i64(struct cursor *c);
uint32_t cursor_uvarint_any(struct cursor *c); /* the general case of cursor_uvarint */
int64_t cursor_varlong_any(struct cursor *c);  /* the general case of cursor_varlong */

/* Unsigned varint, <= 5 bytes. Inline for the one-byte case, which is most of the varints in
 * a record (lengths and deltas under 64): walking records is the hot path of validation. */
static inline uint32_t cursor_uvarint(struct cursor *c)
{
	if (!c->bad && c->left && c->p[0] < 0x80) {
		c->left--;
		return *c->p++;
	}
	return cursor_uvarint_any(c);
}

/* Zig-zag varint, <= 5 bytes. */
static inline int32_t cursor_varint(struct cursor *c)
{
	uint32_t z = cursor_uvarint(c);
	return (int32_t)((z >> 1) ^ -(z & 1));
}

/* Zig-zag varlong, <= 10 bytes. */
static inline int64_t cursor_varlong(struct cursor *c)
{
	if (!c->bad && c->left && c->p[0] < 0x80) {
		uint64_t z = *c->p++;
		c->left--;
		return (int64_t)((z >> 1) ^ -(z & 1));
	}
	return cursor_varlong_any(c);
}
/* n bytes in place, or NULL (and bad) if fewer remain. n == 0 returns a non-NULL pointer. */
const uint8_t *cursor_bytes(struct cursor *c, size_t n);
bool cursor_skip(struct cursor *c, size_t n);
/* Marks the cursor bad; for decoders that find a semantic error mid-way. */
static inline void cursor_fail(struct cursor *c)
{
	c->bad = true;
}

struct writer {
	uint8_t *p; /* borrowed */
	size_t cap;
	size_t len;
	bool bad;
};

static inline void writer_init(struct writer *w, void *buf, size_t cap)
{
	w->p = (uint8_t *)buf;
	w->cap = cap;
	w->len = 0;
	w->bad = false;
}

static inline bool writer_ok(const struct writer *w)
{
	return !w->bad;
}

void writer_u8(struct writer *w, uint8_t v);
void writer_i16(struct writer *w, int16_t v);
void writer_i32(struct writer *w, int32_t v);
void writer_u32(struct writer *w, uint32_t v);
void writer_i64(struct writer *w, int64_t v);
void writer_uvarint(struct writer *w, uint32_t v);
void writer_varint(struct writer *w, int32_t v);
void writer_varlong(struct writer *w, int64_t v);
void writer_bytes(struct writer *w, const void *src, size_t n);
/* Reserves n bytes and returns their position in w->p for a later back-patch, or SIZE_MAX. */
size_t writer_reserve(struct writer *w, size_t n);

#endif
