/*
 * tests/unit/base/test_cursor.c: the checked reader and writer (base/cursor.h).
 *
 * Covers each reader's big-endian decoding against hand-written bytes; the sticky error (a
 * failed read returns 0, leaves cursor_ok() false and makes every later read return 0, even
 * reads that would fit); that cursor_bytes(0) is never NULL on a good cursor; varints read
 * through the cursor, including truncated and overlong ones; the writer's sticky overflow,
 * which must not touch a byte beyond its capacity; writer_reserve() with a back-patched length;
 * and random sequences written by the writer and read back by the cursor. Inputs live in heap
 * buffers of exactly their length, so an ASan build catches any read past the end.
 */
#include "base/cursor.h"

#include "base/endian.h"
#include "base/varint.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* A heap copy of exactly len bytes (at least one allocated so the pointer is never NULL). */
static uint8_t *exact_copy(const void *src, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	cr_assert_not_null(p);
	if (len)
		memcpy(p, src, len);
	return p;
}

enum read_kind { R_U8, R_I8, R_U16, R_I16, R_U32, R_I32, R_I64, R_UVARINT, R_VARINT, R_VARLONG };

static const size_t fixed_width[] = {
	[R_U8] = 1, [R_I8] = 1, [R_U16] = 2, [R_I16] = 2, [R_U32] = 4, [R_I32] = 4, [R_I64] = 8,
};

/* Reads one value of the given kind, widened so every kind compares the same way. */
static uint64_t read_one(struct cursor *c, enum read_kind kind)
{
	switch (kind) {
	case R_U8:
		return cursor_u8(c);
	case R_I8:
		return (uint64_t)(int64_t)cursor_i8(c);
	case R_U16:
		return cursor_u16(c);
	case R_I16:
		return (uint64_t)(int64_t)cursor_i16(c);
	case R_U32:
		return cursor_u32(c);
	case R_I32:
		return (uint64_t)(int64_t)cursor_i32(c);
	case R_I64:
		return (uint64_t)cursor_i64(c);
	case R_UVARINT:
		return cursor_uvarint(c);
	case R_VARINT:
		return (uint64_t)(int64_t)cursor_varint(c);
	case R_VARLONG:
		return (uint64_t)cursor_varlong(c);
	}
	return 0;
}

Test(cursor, readers_are_big_endian)
{
	const uint8_t src[] = {
		0x7f,                                           /* u8 */
		0x80,                                           /* i8 -128 */
		0x01, 0x02,                                     /* u16 */
		0xff, 0xfe,                                     /* i16 -2 */
		0x01, 0x02, 0x03, 0x04,                         /* u32 */
		0xff, 0xff, 0xff, 0xfe,                         /* i32 -2 */
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* i64 */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd, /* i64 -3 */
		0x80, 0x00, 0x00, 0x00,                         /* i32 INT32_MIN */
		0xff, 0xff,                                     /* u16 65535 */
	};
	uint8_t *buf = exact_copy(src, sizeof(src));
	struct cursor c;
	cursor_init(&c, buf, sizeof(src));
	cr_assert_eq(cursor_left(&c), sizeof(src));
	cr_assert_eq(cursor_u8(&c), 0x7f);
	cr_assert_eq(cursor_i8(&c), -128);
	cr_assert_eq(cursor_u16(&c), 0x0102);
	cr_assert_eq(cursor_i16(&c), -2);
	cr_assert_eq(cursor_u32(&c), 0x01020304u);
	cr_assert_eq(cursor_i32(&c), -2);
	cr_assert_eq(cursor_i64(&c), 0x0102030405060708ll);
	cr_assert_eq(cursor_i64(&c), -3);
	cr_assert_eq(cursor_left(&c), 6);
	cr_assert_eq(cursor_i32(&c), INT32_MIN);
	cr_assert_eq(cursor_u16(&c), 0xffff);
	cr_assert(cursor_ok(&c));
	cr_assert_eq(cursor_left(&c), 0);
	free(buf);
}

Test(cursor, failed_read_is_sticky_for_every_kind)
{
	/* For each fixed-width reader and each shorter buffer: the read fails, returns 0 even
	 * though the bytes that are there are 0xff, and poisons every later read. */
	for (enum read_kind k = R_U8; k <= R_I64; k++) {
		for (size_t len = 0; len < fixed_width[k]; len++) {
			uint8_t ff[8];
			memset(ff, 0xff, sizeof(ff));
			uint8_t *buf = exact_copy(ff, len);
			struct cursor c;
			cursor_init(&c, buf, len);
			cr_assert_eq(read_one(&c, k), 0, "kind %d len %zu", k, len);
			cr_assert_not(cursor_ok(&c));
			cr_assert_eq(cursor_left(&c), 0);
			for (enum read_kind later = R_U8; later <= R_VARLONG; later++)
				cr_assert_eq(read_one(&c, later), 0);
			cr_assert_null(cursor_bytes(&c, 0));
			cr_assert_not(cursor_skip(&c, 0));
			cr_assert_not(cursor_ok(&c));
			free(buf);
		}
	}
}

Test(cursor, later_reads_fail_even_when_they_would_fit)
{
	const uint8_t src[] = { 0x11, 0x22, 0x33, 0x44, 0x55 };
	uint8_t *buf = exact_copy(src, sizeof(src));
	struct cursor c;
	cursor_init(&c, buf, sizeof(src));
	cr_assert_eq(cursor_u16(&c), 0x1122);
	cr_assert_eq(cursor_u32(&c), 0); /* 3 left: fails */
	cr_assert_not(cursor_ok(&c));
	cr_assert_eq(cursor_u8(&c), 0); /* 3 bytes are there, but the cursor is bad */
	cr_assert_eq(cursor_u16(&c), 0);
	cr_assert_null(cursor_bytes(&c, 1));
	cr_assert_not(cursor_skip(&c, 1));
	cr_assert_eq(cursor_left(&c), 0);
	free(buf);
}

Test(cursor, bytes_skip_and_fail)
{
	const uint8_t src[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	uint8_t *buf = exact_copy(src, sizeof(src));
	struct cursor c;
	cursor_init(&c, buf, sizeof(src));
	/* cursor_bytes borrows from the buffer: the pointer is into it, not a copy. */
	cr_assert_eq(cursor_bytes(&c, 3), buf);
	cr_assert(cursor_skip(&c, 2));
	cr_assert_eq(cursor_bytes(&c, 0), buf + 5);
	cr_assert_eq(cursor_bytes(&c, 5), buf + 5);
	cr_assert_eq(cursor_left(&c), 0);
	cr_assert_not_null(cursor_bytes(&c, 0), "n == 0 at the end is still non-NULL");
	cr_assert(cursor_skip(&c, 0));
	cr_assert(cursor_ok(&c));
	cr_assert_null(cursor_bytes(&c, 1));
	cr_assert_not(cursor_ok(&c));

	cursor_init(&c, buf, sizeof(src));
	cr_assert_not(cursor_skip(&c, sizeof(src) + 1));
	cr_assert_not(cursor_ok(&c));
	cursor_init(&c, buf, sizeof(src));
	cr_assert_null(cursor_bytes(&c, SIZE_MAX));
	cr_assert_not(cursor_ok(&c));

	cursor_init(&c, buf, sizeof(src));
	cursor_fail(&c);
	cr_assert_not(cursor_ok(&c));
	cr_assert_eq(cursor_left(&c), 0);
	cr_assert_eq(cursor_u8(&c), 0);
	free(buf);
}

Test(cursor, bytes_zero_is_non_null_on_empty_buffers)
{
	struct cursor c;
	uint8_t one;
	cursor_init(&c, &one, 0);
	cr_assert_eq(cursor_bytes(&c, 0), &one);
	cr_assert(cursor_ok(&c));

	/* An empty message may arrive as (NULL, 0); a zero-length field in it is still there. */
	cursor_init(&c, NULL, 0);
	cr_assert_not_null(cursor_bytes(&c, 0));
	cr_assert(cursor_skip(&c, 0));
	cr_assert(cursor_ok(&c));
	cr_assert_eq(cursor_left(&c), 0);
	cr_assert_null(cursor_bytes(&c, 1));
	cr_assert_not(cursor_ok(&c));
}

Test(cursor, varints)
{
	const uint8_t src[] = {
		0xac, 0x02,                                                 /* uvarint 300 */
		0x03,                                                       /* varint -2 */
		0xff, 0xff, 0xff, 0xff, 0x0f,                               /* varint INT32_MIN */
		0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, /* varlong INT64_MAX */
		0x01,                                                       /* varlong -1 */
		0x7f, /* u8 after the varints */
	};
	uint8_t *buf = exact_copy(src, sizeof(src));
	struct cursor c;
	cursor_init(&c, buf, sizeof(src));
	cr_assert_eq(cursor_uvarint(&c), 300);
	cr_assert_eq(cursor_varint(&c), -2);
	cr_assert_eq(cursor_varint(&c), INT32_MIN);
	cr_assert_eq(cursor_varlong(&c), INT64_MAX);
	cr_assert_eq(cursor_varlong(&c), -1);
	cr_assert_eq(cursor_left(&c), 1);
	cr_assert_eq(cursor_u8(&c), 0x7f);
	cr_assert(cursor_ok(&c));
	free(buf);
}

Test(cursor, truncated_or_overlong_varints_fail)
{
	static const struct {
		enum read_kind kind;
		size_t len;
		uint8_t bytes[11];
	} bad[] = {
		{ R_UVARINT, 0, { 0 } },
		{ R_UVARINT, 1, { 0x80 } },
		{ R_UVARINT, 4, { 0xff, 0xff, 0xff, 0xff } },
		{ R_UVARINT, 5, { 0xff, 0xff, 0xff, 0xff, 0x10 } },
		{ R_UVARINT, 6, { 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 } },
		{ R_VARINT, 2, { 0xff, 0xff } },
		{ R_VARINT, 5, { 0xff, 0xff, 0xff, 0xff, 0x1f } },
		{ R_VARLONG, 0, { 0 } },
		{ R_VARLONG, 9, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
		{ R_VARLONG, 10, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 } },
		{ R_VARLONG,
		  11,
		  { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 } },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* Two more bytes after the bad varint, to show they are not read afterwards. */
		uint8_t src[13];
		memcpy(src, bad[i].bytes, bad[i].len);
		src[bad[i].len] = 0x12;
		src[bad[i].len + 1] = 0x34;
		size_t len = bad[i].len;
		/* Truncated cases end the buffer; overlong ones have the trailer after them. */
		int truncated = (bad[i].kind == R_VARLONG ? len < 10 : len < 5) &&
		                (len == 0 || (bad[i].bytes[len - 1] & 0x80));
		size_t total = truncated ? len : len + 2;
		uint8_t *buf = exact_copy(src, total);
		struct cursor c;
		cursor_init(&c, buf, total);
		cr_assert_eq(read_one(&c, bad[i].kind), 0, "case %zu", i);
		cr_assert_not(cursor_ok(&c), "case %zu", i);
		cr_assert_eq(cursor_u16(&c), 0, "case %zu", i);
		cr_assert_eq(cursor_left(&c), 0);
		free(buf);
	}
}

Test(cursor, writer_writes_big_endian)
{
	uint8_t buf[32];
	struct writer w;
	writer_init(&w, buf, sizeof(buf));
	writer_u8(&w, 0x7f);
	writer_i16(&w, -2);
	writer_u32(&w, 0x01020304u);
	writer_i32(&w, INT32_MIN);
	writer_i64(&w, 0x0102030405060708ll);
	writer_bytes(&w, "ab", 2);
	writer_bytes(&w, NULL, 0);
	const uint8_t want[] = { 0x7f, 0xff, 0xfe, 0x01, 0x02, 0x03, 0x04, 0x80, 0x00, 0x00, 0x00,
		                 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 'a',  'b' };
	cr_assert(writer_ok(&w));
	cr_assert_eq(w.len, sizeof(want));
	cr_assert_arr_eq(buf, want, sizeof(want));
}

Test(cursor, writer_overflow_is_sticky)
{
	/* The writer may use 6 of the 16 bytes; the rest are a guard that must stay 0xee. */
	uint8_t buf[16];
	memset(buf, 0xee, sizeof(buf));
	struct writer w;
	writer_init(&w, buf, 6);
	writer_u32(&w, 0xa1a2a3a4u);
	cr_assert(writer_ok(&w));
	writer_u32(&w, 0xb1b2b3b4u); /* 2 left: fails, writes nothing */
	cr_assert_not(writer_ok(&w));
	cr_assert_eq(w.len, 4);
	writer_u8(&w, 0xc1); /* would fit, but the writer is bad */
	writer_i16(&w, 0x0102);
	writer_bytes(&w, "x", 1);
	writer_uvarint(&w, 1);
	writer_varint(&w, 1);
	writer_varlong(&w, 1);
	cr_assert_eq(writer_reserve(&w, 1), SIZE_MAX);
	cr_assert_not(writer_ok(&w));
	cr_assert_eq(w.len, 4);
	for (size_t i = 4; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], 0xee, "byte %zu touched", i);

	/* Each writer kind fails alone when one byte short, and writes nothing. */
	for (int kind = 0; kind < 8; kind++) {
		memset(buf, 0xee, sizeof(buf));
		static const size_t need[] = { 1, 2, 4, 4, 8, 5, 5, 10 };
		writer_init(&w, buf, need[kind] - 1);
		switch (kind) {
		case 0:
			writer_u8(&w, 1);
			break;
		case 1:
			writer_i16(&w, 1);
			break;
		case 2:
			writer_u32(&w, 1);
			break;
		case 3:
			writer_i32(&w, 1);
			break;
		case 4:
			writer_i64(&w, 1);
			break;
		case 5:
			writer_uvarint(&w, UINT32_MAX);
			break;
		case 6:
			writer_varint(&w, INT32_MIN);
			break;
		default:
			writer_varlong(&w, INT64_MIN);
			break;
		}
		cr_assert_not(writer_ok(&w), "kind %d", kind);
		cr_assert_eq(w.len, 0);
		for (size_t i = 0; i < sizeof(buf); i++)
			cr_assert_eq(buf[i], 0xee, "kind %d byte %zu touched", kind, i);
	}
}

Test(cursor, writer_exact_fill_and_empty)
{
	uint8_t buf[7];
	struct writer w;
	writer_init(&w, buf, sizeof(buf));
	writer_u8(&w, 1);
	writer_i16(&w, 2);
	writer_u32(&w, 3);
	cr_assert(writer_ok(&w));
	cr_assert_eq(w.len, sizeof(buf));
	writer_bytes(&w, "", 0);
	cr_assert_eq(writer_reserve(&w, 0), sizeof(buf));
	cr_assert(writer_ok(&w), "zero bytes always fit");

	/* A writer with no buffer at all can still take nothing. */
	writer_init(&w, NULL, 0);
	writer_bytes(&w, NULL, 0);
	cr_assert_eq(writer_reserve(&w, 0), 0);
	cr_assert(writer_ok(&w));
	writer_u8(&w, 1);
	cr_assert_not(writer_ok(&w));
}

Test(cursor, reserve_and_back_patch)
{
	/* The Kafka pattern: reserve a length, write the body, patch the length in. */
	uint8_t buf[64];
	memset(buf, 0xee, sizeof(buf));
	struct writer w;
	writer_init(&w, buf, sizeof(buf));
	writer_i16(&w, 7);
	size_t len_pos = writer_reserve(&w, 4);
	cr_assert_eq(len_pos, 2);
	cr_assert_eq(buf[2], 0xee, "reserve leaves the bytes for the caller");
	writer_varlong(&w, -123456789);
	writer_bytes(&w, "payload", 7);
	size_t crc_pos = writer_reserve(&w, 4);
	writer_u8(&w, 0x5a);
	cr_assert(writer_ok(&w));
	store_be32(w.p + len_pos, (uint32_t)(w.len - len_pos - 4));
	store_be32(w.p + crc_pos, 0xcafef00du);

	struct cursor c;
	cursor_init(&c, buf, w.len);
	cr_assert_eq(cursor_i16(&c), 7);
	int32_t body = cursor_i32(&c);
	cr_assert_eq((size_t)body, cursor_left(&c));
	cr_assert_eq(cursor_varlong(&c), -123456789);
	cr_assert_arr_eq(cursor_bytes(&c, 7), "payload", 7);
	cr_assert_eq(cursor_u32(&c), 0xcafef00du);
	cr_assert_eq(cursor_u8(&c), 0x5a);
	cr_assert(cursor_ok(&c));
	cr_assert_eq(cursor_left(&c), 0);

	/* A reservation that does not fit fails, returns SIZE_MAX and makes the writer bad. */
	writer_init(&w, buf, 3);
	cr_assert_eq(writer_reserve(&w, 4), SIZE_MAX);
	cr_assert_not(writer_ok(&w));
	cr_assert_eq(w.len, 0);
}

/* One random field for the round-trip test. */
struct field {
	int kind; /* 0 u8, 1 i16, 2 u32, 3 i32, 4 i64, 5 uvarint, 6 varint, 7 varlong, 8 bytes */
	uint64_t v;
	uint8_t bytes[16];
};

static void write_field(struct writer *w, const struct field *f)
{
	switch (f->kind) {
	case 0:
		writer_u8(w, (uint8_t)f->v);
		break;
	case 1:
		writer_i16(w, (int16_t)f->v);
		break;
	case 2:
		writer_u32(w, (uint32_t)f->v);
		break;
	case 3:
		writer_i32(w, (int32_t)f->v);
		break;
	case 4:
		writer_i64(w, (int64_t)f->v);
		break;
	case 5:
		writer_uvarint(w, (uint32_t)f->v);
		break;
	case 6:
		writer_varint(w, (int32_t)f->v);
		break;
	case 7:
		writer_varlong(w, (int64_t)f->v);
		break;
	default:
		writer_bytes(w, f->bytes, f->v);
		break;
	}
}

static void check_field(struct cursor *c, const struct field *f)
{
	switch (f->kind) {
	case 0:
		cr_assert_eq(cursor_u8(c), (uint8_t)f->v);
		break;
	case 1:
		cr_assert_eq(cursor_i16(c), (int16_t)f->v);
		break;
	case 2:
		cr_assert_eq(cursor_u32(c), (uint32_t)f->v);
		break;
	case 3:
		cr_assert_eq(cursor_i32(c), (int32_t)f->v);
		break;
	case 4:
		cr_assert_eq(cursor_i64(c), (int64_t)f->v);
		break;
	case 5:
		cr_assert_eq(cursor_uvarint(c), (uint32_t)f->v);
		break;
	case 6:
		cr_assert_eq(cursor_varint(c), (int32_t)f->v);
		break;
	case 7:
		cr_assert_eq(cursor_varlong(c), (int64_t)f->v);
		break;
	default: {
		const uint8_t *p = cursor_bytes(c, f->v);
		cr_assert_not_null(p);
		cr_assert_arr_eq(p, f->bytes, f->v);
		break;
	}
	}
}

Test(cursor, writer_cursor_round_trips)
{
	enum { FIELDS = 64, CAP = FIELDS * 16 };
	for (int round = 0; round < 2000; round++) {
		struct field fields[FIELDS];
		int count = 1 + (int)(rng() % FIELDS);
		for (int i = 0; i < count; i++) {
			fields[i].kind = (int)(rng() % 9);
			uint64_t v = rng();
			fields[i].v = v >> (rng() % 64);
			if (fields[i].kind == 8) {
				fields[i].v = rng() % (sizeof(fields[i].bytes) + 1);
				for (size_t k = 0; k < sizeof(fields[i].bytes); k++)
					fields[i].bytes[k] = (uint8_t)rng();
			}
		}
		uint8_t out[CAP];
		struct writer w;
		writer_init(&w, out, sizeof(out));
		for (int i = 0; i < count; i++)
			write_field(&w, &fields[i]);
		cr_assert(writer_ok(&w));

		uint8_t *buf = exact_copy(out, w.len);
		struct cursor c;
		cursor_init(&c, buf, w.len);
		for (int i = 0; i < count; i++)
			check_field(&c, &fields[i]);
		cr_assert(cursor_ok(&c), "round %d", round);
		cr_assert_eq(cursor_left(&c), 0);
		/* One read more fails cleanly at the exact end. */
		cr_assert_eq(cursor_u8(&c), 0);
		cr_assert_not(cursor_ok(&c));
		free(buf);

		/* The same fields into every too-small capacity: the writer ends bad, and what
		 * it did write is a prefix of the full encoding. */
		size_t cap = (size_t)(rng() % (w.len ? w.len : 1));
		uint8_t small[CAP];
		struct writer ws;
		writer_init(&ws, small, cap);
		for (int i = 0; i < count; i++)
			write_field(&ws, &fields[i]);
		if (cap < w.len) {
			cr_assert_not(writer_ok(&ws));
			cr_assert(ws.len <= cap);
			cr_assert_arr_eq(small, out, ws.len);
		}
	}
}
