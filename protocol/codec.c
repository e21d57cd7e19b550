/*
 * protocol/codec.c: Kafka primitive types; see codec.h for the encodings and the rules.
 */
#include "protocol/codec.h"

#include "base/errors.h"

#include <string.h>

struct kstr kstr_from(const char *s)
{
	return s ? (struct kstr){ s, (int32_t)strlen(s) } : KSTR_NULL;
}

bool kstr_eq(struct kstr a, const char *s)
{
	if (!s)
		return a.len < 0;
	size_t n = strlen(s);
	return a.len >= 0 && (size_t)a.len == n && memcmp(a.p, s, n) == 0;
}

char *kstr_dup(struct arena *a, struct kstr s)
{
	if (s.len < 0)
		return NULL;
	char *p = arena_alloc(a, (size_t)s.len + 1);
	if (p && s.len)
		memcpy(p, s.p, (size_t)s.len);
	return p;
}

bool kafka_get_bool(struct cursor *c)
{
	return cursor_u8(c) != 0;
}

/* The length of a string/bytes/array: classic signed, or compact unsigned (n + 1). */
static int64_t get_length(struct cursor *c, bool flexible, bool wide)
{
	if (flexible)
		return (int64_t)cursor_uvarint(c) - 1;
	return wide ? cursor_i32(c) : cursor_i16(c);
}

struct kstr kafka_get_string(struct cursor *c, bool flexible, bool nullable)
{
	int64_t n = get_length(c, flexible, false);
	if (n < 0) {
		if (n != -1 || !nullable)
			cursor_fail(c);
		return KSTR_NULL;
	}
	const uint8_t *p = cursor_bytes(c, (size_t)n);
	return p ? (struct kstr){ (const char *)p, (int32_t)n } : KSTR_NULL;
}

struct kbytes kafka_get_bytes(struct cursor *c, bool flexible, bool nullable)
{
	int64_t n = get_length(c, flexible, true);
	if (n < 0) {
		if (n != -1 || !nullable)
			cursor_fail(c);
		return (struct kbytes){ NULL, -1 };
	}
	const uint8_t *p = cursor_bytes(c, (size_t)n);
	return p ? (struct kbytes){ p, (int32_t)n } : (struct kbytes){ NULL, -1 };
}

int32_t kafka_get_array_len(struct cursor *c, bool flexible, bool nullable,
                            size_t min_element_bytes)
{
	int64_t n = get_length(c, flexible, true);
	if (!cursor_ok(c))
		return 0;
	if (n < 0) {
		if (n != -1 || !nullable) {
			cursor_fail(c);
			return 0;
		}
		return -1;
	}
	if (min_element_bytes == 0)
		min_element_bytes = 1;
	if ((uint64_t)n > cursor_left(c) / min_element_bytes) {
		cursor_fail(c);
		return 0;
	}
	return (int32_t)n;
}

void *kafka_alloc_array(struct cursor *c, struct arena *a, int32_t count, size_t size)
{
	if (!cursor_ok(c) || count < 0)
		return NULL;
	void *p = arena_array(a, (size_t)count, size);
	if (!p)
		cursor_fail(c);
	return p;
}

void kafka_skip_tagged_fields(struct cursor *c)
{
	uint32_t n = cursor_uvarint(c);
	if (n > cursor_left(c) / 2) { /* each field takes at least a tag and a size byte */
		cursor_fail(c);
		return;
	}
	for (uint32_t i = 0; i < n && cursor_ok(c); i++) {
		(void)cursor_uvarint(c); /* tag */
		uint32_t size = cursor_uvarint(c);
		cursor_skip(c, size);
	}
}

int32_t *kafka_get_int32_array(struct cursor *c, struct arena *a, bool flexible, bool nullable,
                               int32_t *count)
{
	*count = kafka_get_array_len(c, flexible, nullable, sizeof(int32_t));
	int32_t *v = kafka_alloc_array(c, a, *count, sizeof(*v));
	for (int32_t i = 0; i < *count && cursor_ok(c); i++)
		v[i] = cursor_i32(c);
	return v;
}

int kafka_decode_end(const struct cursor *c)
{
	return cursor_ok(c) && cursor_left(c) == 0 ? 0 : -TAPE_EPROTO;
}

void kafka_put_bool(struct buf *b, bool v)
{
	buf_u8(b, v ? 1 : 0);
}

static void put_length(struct buf *b, int32_t n, bool flexible, bool wide)
{
	if (flexible) /* in uint32: -1 gives 0, and INT32_MAX + 1 does not overflow */
		buf_uvarint(b, (uint32_t)n + 1);
	else if (wide)
		buf_i32(b, n);
	else
		buf_i16(b, (int16_t)n);
}

void kafka_put_string(struct buf *b, struct kstr s, bool flexible)
{
	if (s.len > INT16_MAX && !flexible) {
		buf_fail(b);
		return;
	}
	put_length(b, s.len < 0 ? -1 : s.len, flexible, false);
	if (s.len > 0)
		buf_put(b, s.p, (size_t)s.len);
}

void kafka_put_cstring(struct buf *b, const char *s, bool flexible)
{
	kafka_put_string(b, kstr_from(s), flexible);
}

void kafka_put_bytes(struct buf *b, struct kbytes v, bool flexible)
{
	put_length(b, v.len < 0 ? -1 : v.len, flexible, true);
	if (v.len > 0)
		buf_put(b, v.p, (size_t)v.len);
}

void kafka_put_array_len(struct buf *b, int32_t count, bool flexible)
{
	put_length(b, count < 0 ? -1 : count, flexible, true);
}

void kafka_put_int32_array(struct buf *b, const int32_t *v, int32_t count, bool flexible)
{
	kafka_put_array_len(b, count, flexible);
	for (int32_t i = 0; i < count; i++)
		buf_i32(b, v[i]);
}

void kafka_put_empty_tagged_fields(struct buf *b)
{
	buf_u8(b, 0);
}

void kafka_put_string_nonnull(struct buf *b, struct kstr s, bool flexible)
{
	if (s.len < 0)
		buf_fail(b);
	else
		kafka_put_string(b, s, flexible);
}

void kafka_put_bytes_nonnull(struct buf *b, struct kbytes v, bool flexible)
{
	if (v.len < 0)
		buf_fail(b);
	else
		kafka_put_bytes(b, v, flexible);
}

void kafka_put_array_len_nonnull(struct buf *b, int32_t count, bool flexible)
{
	if (count < 0)
		buf_fail(b);
	else
		kafka_put_array_len(b, count, flexible);
}

void kafka_put_int32_array_nonnull(struct buf *b, const int32_t *v, int32_t count, bool flexible)
{
	if (count < 0)
		buf_fail(b);
	else
		kafka_put_int32_array(b, v, count, flexible);
}
