/*
 * protocol/codec.h: Kafka's primitive types on the wire, for every API codec.
 *
 *   int8/16/32/64   big-endian                 bool   int8 (0 false, else true)
 *   string          int16 length + bytes       nullable: length -1
 *   bytes           int32 length + bytes       nullable: length -1
 *   array           int32 count + elements     nullable: count -1
 *   compact_*       unsigned varint (length + 1), 0 = null       (flexible versions)
 *   tagged fields   uvarint count, then (uvarint tag, uvarint size, bytes) (flexible versions)
 *
 * Decoding reads through a cursor (base/cursor.h), whose error is sticky. Strings and bytes
 * are borrowed from the frame (struct kstr, struct kbytes: valid as long as the frame).
 * Arrays are allocated from the request's arena, and only after their count was checked
 * against the bytes that remain (each element takes at least min_element_bytes), so a count
 * can never make the broker allocate more than the frame could describe.
 *
 * Encoding appends to a struct buf (base/buf.h), whose error is sticky too. The plain writers
 * write a null for a negative length or count; the _nonnull ones are for fields whose schema
 * has no null, and mark the buffer bad instead.
 */
#ifndef TAPE_PROTOCOL_CODEC_H
#define TAPE_PROTOCOL_CODEC_H

#include "base/arena.h"
#include "base/buf.h"
#include "base/cursor.h"

#include <stdbool.h>
#include <stdint.h>

/* A string or byte run borrowed from a frame; len -1 is null. */
struct kstr {
	const char *p;
	int32_t len;
};

struct kbytes {
	const uint8_t *p;
	int32_t len;
};

#define KSTR_NULL ((struct kstr){ NULL, -1 })
#define KSTR(s) ((struct kstr){ (s), (int32_t)sizeof(s) - 1 })

struct kstr kstr_from(const char *s); /* NULL gives the null string */
bool kstr_eq(struct kstr a, const char *s);
static inline bool kstr_is_null(struct kstr s)
{
	return s.len < 0;
}
/* A NUL-terminated copy in the arena (NULL for null or when out of memory). */
char *kstr_dup(struct arena *a, struct kstr s);

/* ---- decoding ---------------------------------------------------------------------------- */

bool kafka_get_bool(struct cursor *c);
/* string or compact string; a null where not nullable marks the cursor bad. */
struct kstr kafka_get_string(struct cursor *c, bool flexible, bool nullable);
struct kbytes kafka_get_bytes(struct cursor *c, bool flexible, bool nullable);
/* An array count: -1 for null (when nullable), else checked so that count elements of at
 * least min_element_bytes fit in what remains. A bad count marks the cursor bad and gives 0. */
int32_t kafka_get_array_len(struct cursor *c, bool flexible, bool nullable,
                            size_t min_element_bytes);
/* Allocates count elements of size from the arena; a failure marks the cursor bad. */
void *kafka_alloc_array(struct cursor *c, struct arena *a, int32_t count, size_t size);
/* Skips a tagged-field section (flexible versions). */
void kafka_skip_tagged_fields(struct cursor *c);
/* An int32 array (partition indexes, broker ids), copied out of the frame into the arena.
 * *count as kafka_get_array_len gives it: -1 for null (when nullable), 0 for a bad count. */
int32_t *kafka_get_int32_array(struct cursor *c, struct arena *a, bool flexible, bool nullable,
                               int32_t *count);
/* The end of a request or response body: 0 when every read was in bounds and the body was
 * consumed exactly, else -TAPE_EPROTO (a trailing byte is as wrong as a missing one). */
int kafka_decode_end(const struct cursor *c);

/* ---- encoding ---------------------------------------------------------------------------- */

void kafka_put_bool(struct buf *b, bool v);
void kafka_put_string(struct buf *b, struct kstr s, bool flexible);
void kafka_put_cstring(struct buf *b, const char *s, bool flexible); /* NULL: null */
void kafka_put_bytes(struct buf *b, struct kbytes v, bool flexible);
void kafka_put_array_len(struct buf *b, int32_t count, bool flexible); /* -1: null */
/* The count, then count int32s; a negative count writes null. */
void kafka_put_int32_array(struct buf *b, const int32_t *v, int32_t count, bool flexible);
void kafka_put_empty_tagged_fields(struct buf *b);
/* kafka_put_string, _bytes, _array_len and _int32_array for fields whose schema has no null:
 * a null (a negative length or count) is not written, it marks the buffer bad instead of
 * carrying bytes the peer would refuse. */
void kafka_put_string_nonnull(struct buf *b, struct kstr s, bool flexible);
void kafka_put_bytes_nonnull(struct buf *b, struct kbytes v, bool flexible);
void kafka_put_array_len_nonnull(struct buf *b, int32_t count, bool flexible);
void kafka_put_int32_array_nonnull(struct buf *b, const int32_t *v, int32_t count, bool flexible);

#endif
