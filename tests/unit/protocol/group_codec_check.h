/*
 * tests/unit/protocol/group_codec_check.h: checks shared by the consumer-group codec tests
 * (test_heartbeat.c, test_join_group.c, ...). Each codec NAME (e.g. heartbeat_request) has
 * NAME_encode(struct buf *, int16_t, const struct NAME *) and
 * NAME_decode(struct cursor *, struct arena *, int16_t, struct NAME *); the macros below take
 * NAME and paste the rest, so one set of checks serves every message.
 *
 * Truncations are given to the decoder as exact-size heap copies, so ASan reports any read
 * past the end. Builds on codec_check.h (kstr_same, check_copy, the limits).
 */
#ifndef TAPE_TESTS_GROUP_CODEC_CHECK_H
#define TAPE_TESTS_GROUP_CODEC_CHECK_H

#include "codec_check.h"

#define CHECK_ARENA_BYTES CHECK_ARENA_LIMIT
#define CHECK_BUF_BYTES CHECK_BUF_LIMIT
/* What a refused absurd count may have made the decoder allocate. */
#define CHECK_SMALL_ARENA_BYTES 4096u

static inline bool kbytes_same(struct kbytes a, struct kbytes b)
{
	return a.len == b.len && (a.len <= 0 || memcmp(a.p, b.p, (size_t)a.len) == 0);
}

static inline struct kbytes kbytes_of(const char *s)
{
	return (struct kbytes){ (const uint8_t *)s, (int32_t)strlen(s) };
}

#define KBYTES_NULL ((struct kbytes){ NULL, -1 })

static inline void check_same_bytes(const uint8_t *got, size_t got_len, const uint8_t *want,
                                    size_t want_len, const char *what)
{
	size_t n = got_len < want_len ? got_len : want_len, i = 0;
	while (i < n && got[i] == want[i])
		i++;
	cr_assert(i == n && got_len == want_len,
	          "%s: bytes differ at %zu (got %zu bytes, want %zu; got 0x%02x, want 0x%02x)",
	          what, i, got_len, want_len, i < got_len ? got[i] : 0, i < want_len ? want[i] : 0);
}

/* Encodes *(msg) at version into the caller's struct buf *b (initialised here). */
#define CHECK_ENCODE(name, version, msg, b)                                        \
	do {                                                                       \
		buf_init((b), CHECK_BUF_BYTES);                                    \
		name##_encode((b), (version), (msg));                              \
		cr_assert(buf_ok(b), #name " v%d: encode failed", (int)(version)); \
	} while (0)

/* Decodes len bytes at p at version; the result is rc. The decoded message borrows from p.
 * (Static arrays have ASan redzones too, so reads past their end are caught.) */
#define CHECK_DECODE(name, version, p, len, a, out, rc)           \
	do {                                                      \
		struct cursor c_;                                 \
		cursor_init(&c_, (p), (len));                     \
		(rc) = name##_decode(&c_, (a), (version), (out)); \
	} while (0)

/* Every strict prefix of the valid encoding [p, p + len) is refused, and so are the same
 * bytes with one more after them (a body must be consumed exactly). Nothing crashes. */
#define CHECK_STRICT(name, version, p, len)                                                       \
	do {                                                                                      \
		struct arena a_s;                                                                 \
		struct name out_s;                                                                \
		struct cursor c_s;                                                                \
		arena_init(&a_s, CHECK_ARENA_BYTES);                                              \
		for (size_t i_s = 0; i_s <= (len); i_s++) {                                       \
			size_t n_s = i_s < (len) ? i_s : (len) + 1;                               \
			uint8_t *copy_s = check_copy((p), i_s < (len) ? i_s : (len), n_s - i_s);  \
			cursor_init(&c_s, copy_s, n_s);                                           \
			int rc_s = name##_decode(&c_s, &a_s, (version), &out_s);                  \
			free(copy_s);                                                             \
			arena_reset(&a_s);                                                        \
			cr_assert_eq(rc_s, -TAPE_EPROTO, #name " v%d: %zu of %zu bytes accepted", \
			             (int)(version), n_s, (size_t)(len));                         \
		}                                                                                 \
		arena_free(&a_s);                                                                 \
	} while (0)

/* Encodes *(msg) at version into b (kept by the caller: the result borrows from it), decodes
 * it into *(out) with arena a, and checks every truncation and a trailing byte. */
#define CHECK_ROUND_TRIP(name, version, msg, b, a, out)                                         \
	do {                                                                                    \
		int rc_r;                                                                       \
		CHECK_ENCODE(name, (version), (msg), (b));                                      \
		struct cursor c_r;                                                              \
		cursor_init(&c_r, (b)->p, (b)->len);                                            \
		rc_r = name##_decode(&c_r, (a), (version), (out));                              \
		cr_assert_eq(rc_r, 0, #name " v%d: decode of own encoding: %d", (int)(version), \
		             rc_r);                                                             \
		CHECK_STRICT(name, (version), (b)->p, (b)->len);                                \
	} while (0)

/* *(msg) encodes at version to exactly the bytes of the array want. */
#define CHECK_BYTES(name, version, msg, want)                                              \
	do {                                                                               \
		struct buf b_;                                                             \
		CHECK_ENCODE(name, (version), (msg), &b_);                                 \
		check_same_bytes(b_.p, b_.len, (want), sizeof(want), #name " v" #version); \
		buf_free(&b_);                                                             \
	} while (0)

/* Versions outside [min, max] are refused both ways. */
#define CHECK_VERSIONS(name, min, max, msg)                                              \
	do {                                                                             \
		const int16_t bad_[] = { INT16_MIN, -1, (min)-1, (max) + 1, INT16_MAX }; \
		for (size_t i_ = 0; i_ < sizeof(bad_) / sizeof(bad_[0]); i_++) {         \
			if (bad_[i_] >= (min) && bad_[i_] <= (max))                      \
				continue;                                                \
			struct buf b_;                                                   \
			buf_init(&b_, CHECK_BUF_BYTES);                                  \
			name##_encode(&b_, bad_[i_], (msg));                             \
			cr_assert(!buf_ok(&b_), #name " v%d encoded", bad_[i_]);         \
			buf_free(&b_);                                                   \
			CHECK_ENCODE(name, (max), (msg), &b_);                           \
			struct arena a_;                                                 \
			struct name out_;                                                \
			int rc_;                                                         \
			arena_init(&a_, CHECK_ARENA_BYTES);                              \
			CHECK_DECODE(name, bad_[i_], b_.p, b_.len, &a_, &out_, rc_);     \
			cr_assert_eq(rc_, -TAPE_EPROTO, #name " v%d decoded", bad_[i_]); \
			arena_free(&a_);                                                 \
			buf_free(&b_);                                                   \
		}                                                                        \
	} while (0)

/* The bytes of the array bad (an absurd count or length) are refused, and the decoder
 * allocated next to nothing on the way. */
#define CHECK_REFUSED_SMALL(name, version, bad)                                                 \
	do {                                                                                    \
		struct arena a_;                                                                \
		struct name out_;                                                               \
		int rc_;                                                                        \
		arena_init(&a_, CHECK_ARENA_BYTES);                                             \
		CHECK_DECODE(name, (version), (bad), sizeof(bad), &a_, &out_, rc_);             \
		cr_assert_eq(rc_, -TAPE_EPROTO, #name " v" #version ": absurd input accepted"); \
		cr_assert_leq(a_.used, CHECK_SMALL_ARENA_BYTES,                                 \
		              #name " v" #version ": %zu bytes allocated", a_.used);            \
		arena_free(&a_);                                                                \
	} while (0)

#endif
