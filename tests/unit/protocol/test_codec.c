/*
 * tests/unit/protocol/test_codec.c: the helpers every API codec shares (protocol/codec.c):
 * the end of a body, int32 arrays both ways, and the _nonnull writers.
 *
 * Covers: kafka_decode_end on a consumed, a short and a bad cursor, and that it leaves the
 * cursor alone; kafka_get_int32_array classic and compact, empty, null where nullable and
 * refused where not, a count larger than the bytes left refused before anything is allocated,
 * a truncated element; kafka_put_int32_array and its _nonnull twin byte for byte, a negative
 * count written as null or refused; kafka_put_string/bytes/array_len_nonnull write exactly
 * what the plain writers write for a value, and for a null write nothing and leave the buffer
 * bad (and stay bad: later appends do nothing). Bytes are written by hand from the Kafka
 * protocol guide's primitive types.
 */
#include "protocol/codec.h"

#include "codec_check.h"

/* ---- kafka_decode_end ------------------------------------------------------------------- */

Test(codec, decode_end_wants_every_byte_consumed)
{
	static const uint8_t p[] = { 0x00, 0x01, 0x02 };
	struct cursor c;
	cursor_init(&c, p, sizeof(p));
	cr_assert_eq(kafka_decode_end(&c), -TAPE_EPROTO, "three bytes left");
	(void)cursor_i16(&c);
	cr_assert_eq(kafka_decode_end(&c), -TAPE_EPROTO, "one byte left");
	cr_assert(cursor_ok(&c), "decode_end must not touch the cursor");
	cr_assert_eq(cursor_left(&c), 1u);
	(void)cursor_u8(&c);
	cr_assert_eq(kafka_decode_end(&c), 0);
}

Test(codec, decode_end_refuses_a_bad_cursor)
{
	static const uint8_t p[] = { 0x00 };
	struct cursor c;
	cursor_init(&c, p, sizeof(p));
	(void)cursor_i32(&c); /* reads past the end */
	cr_assert_eq(kafka_decode_end(&c), -TAPE_EPROTO);

	cursor_init(&c, p, 0);
	cr_assert_eq(kafka_decode_end(&c), 0, "an empty body consumed is fine");
	cursor_fail(&c);
	cr_assert_eq(kafka_decode_end(&c), -TAPE_EPROTO, "failed with nothing left");
}

/* ---- kafka_get_int32_array -------------------------------------------------------------- */

/* { 7, -2 } as an int32 array, classic and compact. */
static const int32_t two[] = { 7, -2 };
static const uint8_t two_classic[] = {
	0x00, 0x00, 0x00, 0x02, /* count */
	0x00, 0x00, 0x00, 0x07, /* 7 */
	0xff, 0xff, 0xff, 0xfe, /* -2 */
};
static const uint8_t two_compact[] = {
	0x03,                   /* count + 1 */
	0x00, 0x00, 0x00, 0x07, /* 7 */
	0xff, 0xff, 0xff, 0xfe, /* -2 */
};

struct int32_case {
	int rc;
	int32_t count;
	int32_t *v;
	size_t arena_used;
};

/* Reads an int32 array from a heap copy of exactly len bytes (so ASan sees a read past the
 * end), with the arena reset first; the elements are copied out, so they outlive the copy. */
static struct int32_case get_int32s(struct arena *a, const uint8_t *p, size_t len, bool flexible,
                                    bool nullable)
{
	struct int32_case r;
	struct cursor c;
	uint8_t *copy = check_copy(p, len, 0);
	cursor_init(&c, copy, len);
	arena_reset(a);
	r.v = kafka_get_int32_array(&c, a, flexible, nullable, &r.count);
	r.rc = kafka_decode_end(&c);
	r.arena_used = a->used;
	free(copy);
	return r;
}

Test(codec, get_int32_array_classic_and_compact)
{
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	for (int flexible = 0; flexible <= 1; flexible++) {
		const uint8_t *p = flexible ? two_compact : two_classic;
		size_t len = flexible ? sizeof(two_compact) : sizeof(two_classic);
		struct int32_case r = get_int32s(&a, p, len, flexible, false);
		cr_assert_eq(r.rc, 0, "flexible %d", flexible);
		cr_assert_eq(r.count, 2);
		cr_assert_not_null(r.v);
		cr_assert_arr_eq(r.v, two, sizeof(two));
		/* Every truncation is refused. */
		for (size_t n = 0; n < len; n++)
			cr_assert_eq(get_int32s(&a, p, n, flexible, false).rc, -TAPE_EPROTO,
			             "flexible %d: %zu of %zu bytes", flexible, n, len);
	}
	arena_free(&a);
}

Test(codec, get_int32_array_empty)
{
	static const uint8_t classic[] = { 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t compact[] = { 0x01 };
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	struct int32_case r = get_int32s(&a, classic, sizeof(classic), false, false);
	cr_assert_eq(r.rc, 0);
	cr_assert_eq(r.count, 0);
	r = get_int32s(&a, compact, sizeof(compact), true, false);
	cr_assert_eq(r.rc, 0);
	cr_assert_eq(r.count, 0);
	arena_free(&a);
}

Test(codec, get_int32_array_null_only_where_nullable)
{
	static const uint8_t classic[] = { 0xff, 0xff, 0xff, 0xff };
	static const uint8_t compact[] = { 0x00 };
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	for (int flexible = 0; flexible <= 1; flexible++) {
		const uint8_t *p = flexible ? compact : classic;
		size_t len = flexible ? sizeof(compact) : sizeof(classic);
		struct int32_case r = get_int32s(&a, p, len, flexible, true);
		cr_assert_eq(r.rc, 0, "flexible %d", flexible);
		cr_assert_eq(r.count, -1);
		cr_assert_null(r.v);
		r = get_int32s(&a, p, len, flexible, false);
		cr_assert_eq(r.rc, -TAPE_EPROTO, "flexible %d: a null accepted", flexible);
		cr_assert_eq(r.count, 0);
		cr_assert_null(r.v);
	}
	arena_free(&a);
}

Test(codec, get_int32_array_refuses_a_count_beyond_the_bytes)
{
	/* Two elements announced, one there; and an absurd count with nothing behind it. */
	static const uint8_t short_by_one[] = { 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x07 };
	static const uint8_t absurd[] = { 0x7f, 0xff, 0xff, 0xff };
	static const uint8_t negative[] = { 0xff, 0xff, 0xff, 0xfe };
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	struct int32_case r = get_int32s(&a, short_by_one, sizeof(short_by_one), false, false);
	cr_assert_eq(r.rc, -TAPE_EPROTO);
	cr_assert_eq(r.count, 0);
	cr_assert_eq(r.arena_used, 0u, "allocated %zu bytes for a refused count", r.arena_used);
	r = get_int32s(&a, absurd, sizeof(absurd), false, false);
	cr_assert_eq(r.rc, -TAPE_EPROTO);
	cr_assert_eq(r.arena_used, 0u);
	r = get_int32s(&a, negative, sizeof(negative), false, true);
	cr_assert_eq(r.rc, -TAPE_EPROTO, "-2 is not null");
	arena_free(&a);
}

/* ---- kafka_put_int32_array -------------------------------------------------------------- */

Test(codec, put_int32_array_bytes)
{
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	kafka_put_int32_array(&b, two, 2, false);
	check_bytes(&b, two_classic, sizeof(two_classic));
	buf_clear(&b);
	kafka_put_int32_array_nonnull(&b, two, 2, false);
	check_bytes(&b, two_classic, sizeof(two_classic));
	buf_clear(&b);
	kafka_put_int32_array(&b, two, 2, true);
	check_bytes(&b, two_compact, sizeof(two_compact));
	buf_clear(&b);
	kafka_put_int32_array_nonnull(&b, two, 2, true);
	check_bytes(&b, two_compact, sizeof(two_compact));
	buf_clear(&b);
	kafka_put_int32_array_nonnull(&b, NULL, 0, false);
	check_bytes(&b, (const uint8_t[]){ 0x00, 0x00, 0x00, 0x00 }, 4);
	buf_free(&b);
}

Test(codec, put_int32_array_round_trips)
{
	static const int32_t v[] = { 0, 1, INT32_MAX, INT32_MIN, -1 };
	const int32_t n = (int32_t)(sizeof(v) / sizeof(v[0]));
	struct arena a;
	arena_init(&a, CHECK_ARENA_LIMIT);
	for (int flexible = 0; flexible <= 1; flexible++) {
		struct buf b;
		buf_init(&b, CHECK_BUF_LIMIT);
		kafka_put_int32_array(&b, v, n, flexible);
		cr_assert(buf_ok(&b));
		struct int32_case r = get_int32s(&a, b.p, b.len, flexible, false);
		cr_assert_eq(r.rc, 0, "flexible %d", flexible);
		cr_assert_eq(r.count, n);
		cr_assert_arr_eq(r.v, v, sizeof(v));
		buf_free(&b);
	}
	arena_free(&a);
}

Test(codec, put_int32_array_negative_count)
{
	static const int32_t v[] = { 7 };
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	/* The plain writer writes null, as kafka_put_array_len does... */
	kafka_put_int32_array(&b, v, -1, false);
	check_bytes(&b, (const uint8_t[]){ 0xff, 0xff, 0xff, 0xff }, 4);
	buf_clear(&b);
	kafka_put_int32_array(&b, v, -1, true);
	check_bytes(&b, (const uint8_t[]){ 0x00 }, 1);
	buf_clear(&b);
	/* ...the _nonnull one writes nothing and leaves the buffer bad. */
	for (int flexible = 0; flexible <= 1; flexible++) {
		buf_clear(&b);
		kafka_put_int32_array_nonnull(&b, v, -1, flexible);
		cr_assert(!buf_ok(&b), "flexible %d: a null count written", flexible);
		cr_assert_eq(b.len, 0u);
	}
	buf_free(&b);
}

/* ---- the _nonnull writers --------------------------------------------------------------- */

/* The plain writer's bytes for a value, and the _nonnull writer's, are the same. */
#define CHECK_SAME_AS_PLAIN(plain, nonnull, value, flexible) \
	do {                                                 \
		struct buf want_, got_;                      \
		buf_init(&want_, CHECK_BUF_LIMIT);           \
		buf_init(&got_, CHECK_BUF_LIMIT);            \
		plain(&want_, (value), (flexible));          \
		nonnull(&got_, (value), (flexible));         \
		cr_assert(buf_ok(&want_));                   \
		check_bytes(&got_, want_.p, want_.len);      \
		buf_free(&want_);                            \
		buf_free(&got_);                             \
	} while (0)

/* A null is refused: nothing written, the buffer bad, and later appends ignored. */
#define CHECK_NULL_REFUSED(nonnull, null, flexible)                                           \
	do {                                                                                  \
		struct buf b_;                                                                \
		buf_init(&b_, CHECK_BUF_LIMIT);                                               \
		buf_u8(&b_, 0x2a);                                                            \
		nonnull(&b_, (null), (flexible));                                             \
		cr_assert(!buf_ok(&b_), #nonnull " (flexible %d): a null written", flexible); \
		cr_assert_eq(b_.len, 1u);                                                     \
		buf_i32(&b_, 1);                                                              \
		cr_assert(!buf_ok(&b_));                                                      \
		cr_assert_eq(b_.len, 1u, "the buffer did not stay bad");                      \
		buf_free(&b_);                                                                \
	} while (0)

Test(codec, put_string_nonnull)
{
	static const uint8_t classic[] = { 0x00, 0x02, 'h', 'i' };
	static const uint8_t compact[] = { 0x03, 'h', 'i' };
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	kafka_put_string_nonnull(&b, KSTR("hi"), false);
	check_bytes(&b, classic, sizeof(classic));
	buf_clear(&b);
	kafka_put_string_nonnull(&b, KSTR("hi"), true);
	check_bytes(&b, compact, sizeof(compact));
	buf_free(&b);
	for (int flexible = 0; flexible <= 1; flexible++) {
		CHECK_SAME_AS_PLAIN(kafka_put_string, kafka_put_string_nonnull, KSTR("hi"),
		                    flexible);
		CHECK_SAME_AS_PLAIN(kafka_put_string, kafka_put_string_nonnull, KSTR(""), flexible);
		CHECK_NULL_REFUSED(kafka_put_string_nonnull, KSTR_NULL, flexible);
	}
}

Test(codec, put_string_nonnull_keeps_the_int16_limit)
{
	static char big[INT16_MAX + 1];
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	kafka_put_string_nonnull(&b, (struct kstr){ big, INT16_MAX + 1 }, false);
	cr_assert(!buf_ok(&b), "a classic string longer than int16 written");
	buf_free(&b);
}

Test(codec, put_bytes_nonnull)
{
	static const uint8_t data[] = { 0xde, 0xad };
	const struct kbytes v = { data, 2 };
	const struct kbytes empty = { data, 0 };
	const struct kbytes null = { NULL, -1 };
	static const uint8_t classic[] = { 0x00, 0x00, 0x00, 0x02, 0xde, 0xad };
	static const uint8_t compact[] = { 0x03, 0xde, 0xad };
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	kafka_put_bytes_nonnull(&b, v, false);
	check_bytes(&b, classic, sizeof(classic));
	buf_clear(&b);
	kafka_put_bytes_nonnull(&b, v, true);
	check_bytes(&b, compact, sizeof(compact));
	buf_free(&b);
	for (int flexible = 0; flexible <= 1; flexible++) {
		CHECK_SAME_AS_PLAIN(kafka_put_bytes, kafka_put_bytes_nonnull, v, flexible);
		CHECK_SAME_AS_PLAIN(kafka_put_bytes, kafka_put_bytes_nonnull, empty, flexible);
		CHECK_NULL_REFUSED(kafka_put_bytes_nonnull, null, flexible);
	}
}

Test(codec, put_array_len_nonnull)
{
	struct buf b;
	buf_init(&b, CHECK_BUF_LIMIT);
	kafka_put_array_len_nonnull(&b, 3, false);
	check_bytes(&b, (const uint8_t[]){ 0x00, 0x00, 0x00, 0x03 }, 4);
	buf_clear(&b);
	kafka_put_array_len_nonnull(&b, 3, true);
	check_bytes(&b, (const uint8_t[]){ 0x04 }, 1);
	buf_free(&b);
	for (int flexible = 0; flexible <= 1; flexible++) {
		CHECK_SAME_AS_PLAIN(kafka_put_array_len, kafka_put_array_len_nonnull, 0, flexible);
		CHECK_SAME_AS_PLAIN(kafka_put_array_len, kafka_put_array_len_nonnull, 200,
		                    flexible);
		CHECK_SAME_AS_PLAIN(kafka_put_array_len, kafka_put_array_len_nonnull, INT32_MAX,
		                    flexible);
		CHECK_NULL_REFUSED(kafka_put_array_len_nonnull, -1, flexible);
		CHECK_NULL_REFUSED(kafka_put_array_len_nonnull, INT32_MIN, flexible);
	}
}
