/*
 * base/buf.h: a growable byte buffer for building responses. Appends grow it geometrically up
 * to a limit; past the limit or when memory runs out it becomes "bad" (sticky, like the
 * cursor) and later appends do nothing, so an encoder writes in a straight line and checks
 * buf_ok() once. Positions can be reserved and back-patched (sizes written after bodies).
 */
#ifndef TAPE_BASE_BUF_H
#define TAPE_BASE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *p; /* owned */
	size_t len;
	size_t cap;
	size_t limit;
	bool bad;
};

void buf_init(struct buf *b, size_t limit);
void buf_free(struct buf *b);
/* Empties it, keeping the memory. */
static inline void buf_clear(struct buf *b)
{
	b->len = 0;
	b->bad = false;
}
static inline bool buf_ok(const struct buf *b)
{
	return !b->bad;
}
/* Marks the buffer bad; for encoders that are handed something they cannot write (a version
 * they do not know, a null where the schema has none), like cursor_fail() for decoders. */
static inline void buf_fail(struct buf *b)
{
	b->bad = true;
}
/* Room for n more bytes; returns where they go (NULL when bad). Does not advance len. */
uint8_t *buf_reserve(struct buf *b, size_t n);
void buf_put(struct buf *b, const void *src, size_t n);
void buf_u8(struct buf *b, uint8_t v);
void buf_i16(struct buf *b, int16_t v);
void buf_i32(struct buf *b, int32_t v);
void buf_i64(struct buf *b, int64_t v);
void buf_uvarint(struct buf *b, uint32_t v);
/* Appends n bytes for a later buf_patch_i32 and returns their position (SIZE_MAX when bad). */
size_t buf_skip(struct buf *b, size_t n);
void buf_patch_i32(struct buf *b, size_t pos, int32_t v);

#endif
