/*
 * tests/unit/protocol/codec_check.h: checks shared by the API codec tests (test_<api>.c).
 *
 * A test wraps its decoder in a codec_decode_fn (decode into a local struct, return the code)
 * and hands an encoding to check_every_prefix(), which decodes each proper prefix from a heap
 * copy of exactly that size (so ASan catches a read past the end) and expects -TAPE_EPROTO,
 * then the whole (0), then the whole plus one byte (-TAPE_EPROTO: bodies are consumed
 * exactly). check_bytes() compares an encoding with a hand-built array and names the first
 * byte that differs.
 */
#ifndef TAPE_TESTS_CODEC_CHECK_H
#define TAPE_TESTS_CODEC_CHECK_H

#include "base/arena.h"
#include "base/buf.h"
#include "base/cursor.h"
#include "base/errors.h"
#include "protocol/codec.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_ARENA_LIMIT (1u << 20)
#define CHECK_BUF_LIMIT (1u << 20)

typedef int (*codec_decode_fn)(struct cursor *c, struct arena *a, int16_t version);

/* An exact-size heap copy of len bytes followed by extra zero bytes (at least one byte
 * allocated, so malloc(0) is never asked); ASan reports a read past its end. */
static inline uint8_t *check_copy(const void *p, size_t len, size_t extra)
{
	uint8_t *q = malloc(len + extra ? len + extra : 1);
	cr_assert_not_null(q);
	if (len)
		memcpy(q, p, len);
	memset(q + len, 0, extra);
	return q;
}

/* Decodes len bytes of p from a heap copy of exactly len bytes. */
static inline int check_decode(codec_decode_fn dec, int16_t version, const uint8_t *p, size_t len,
                               struct arena *a)
{
	uint8_t *copy = check_copy(p, len, 0);
	struct cursor c;
	cursor_init(&c, copy, len);
	int rc = dec(&c, a, version);
	free(copy);
	return rc;
}

static inline void check_every_prefix(codec_decode_fn dec, int16_t version, const uint8_t *p,
                                      size_t n)
{
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	for (size_t len = 0; len < n; len++) {
		cr_assert_eq(check_decode(dec, version, p, len, &a), -TAPE_EPROTO,
		             "v%d: a prefix of %zu of %zu bytes decoded", version, len, n);
		arena_reset(&a);
	}
	cr_assert_eq(check_decode(dec, version, p, n, &a), 0, "v%d: the whole did not decode",
	             version);
	arena_reset(&a);
	uint8_t *more = check_copy(p, n, 1);
	cr_assert_eq(check_decode(dec, version, more, n + 1, &a), -TAPE_EPROTO,
	             "v%d: a trailing byte was accepted", version);
	free(more);
	arena_free(&a);
}

static inline void check_bytes(const struct buf *b, const uint8_t *want, size_t n)
{
	cr_assert(buf_ok(b), "the encoder failed");
	size_t common = b->len < n ? b->len : n;
	for (size_t i = 0; i < common; i++)
		cr_assert_eq(b->p[i], want[i], "byte %zu: 0x%02x, want 0x%02x", i, b->p[i],
		             want[i]);
	cr_assert_eq(b->len, n, "%zu bytes, want %zu", b->len, n);
}

static inline bool kstr_same(struct kstr a, struct kstr b)
{
	if (a.len < 0 || b.len < 0)
		return a.len == b.len;
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, (size_t)a.len) == 0);
}

#define cr_assert_kstr(got, want)                                                             \
	cr_assert(kstr_same((got), (want)), "%s: \"%.*s\" (%d), want \"%.*s\" (%d)", #got,    \
	          (got).len > 0 ? (int)(got).len : 0, (got).p ? (got).p : "", (int)(got).len, \
	          (want).len > 0 ? (int)(want).len : 0, (want).p ? (want).p : "", (int)(want).len)

#endif
