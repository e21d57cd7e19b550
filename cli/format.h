/*
 * cli/format.h: rendering consumed records as text: kcat's -f format strings, and --json.
 *
 * A format string is parsed once (format_parse) into a list of pieces, then rendered per
 * record (format_render) into a growable output buffer the caller writes out. Tokens, as
 * kcat's: %s value, %k key, %t topic, %p partition, %o offset, %T timestamp (ms), %h headers
 * as name=value,name=value, %S value size, %K key size (both -1 for null), %R value size as a
 * 4-byte big-endian integer, %% a percent sign; escapes \n \r \t \\ and \xHH. A null key or
 * value renders as nothing with %k / %s; a header with a null value as "name=".
 *
 * JSON (format_render_json): one object per record on one line:
 *   {"topic":"t","partition":0,"offset":5,"timestamp":1700000000000,"key":"k"|null,
 *    "value":"v"|null,"headers":[{"name":"h","value":"x"|null},...]}
 * Strings are JSON-escaped; bytes that are not valid UTF-8 are written as \u00XX (the byte's
 * value as a code point, as Latin-1 would read it), so the output is always valid JSON and
 * valid UTF-8. Header order and duplicates are kept, hence an array rather than an object.
 *
 * Pure: no I/O; allocation only of the format's pieces and the output buffer.
 */
#ifndef TAPE_CLI_FORMAT_H
#define TAPE_CLI_FORMAT_H

#include "client/tape.h"

#include <stddef.h>
#include <stdint.h>

enum format_kind {
	FORMAT_TEXT, /* literal bytes */
	FORMAT_VALUE,
	FORMAT_KEY,
	FORMAT_TOPIC,
	FORMAT_PARTITION,
	FORMAT_OFFSET,
	FORMAT_TIMESTAMP,
	FORMAT_HEADERS,
	FORMAT_VALUE_SIZE,
	FORMAT_KEY_SIZE,
	FORMAT_VALUE_SIZE_BINARY,
};

struct format_piece {
	enum format_kind kind;
	size_t text_off; /* FORMAT_TEXT: its bytes in format.text */
	size_t text_len;
};

struct format {
	struct format_piece *pieces; /* owned */
	size_t count;
	char *text; /* owned: the literal bytes, escapes resolved */
};

/* A growable output buffer (owned by the caller; free(out->p) when done). */
struct format_out {
	char *p;
	size_t len;
	size_t cap;
};

/* Parses spec into f. Returns 0, or -EINVAL with a reason in why ("unknown token %x"), or
 * -ENOMEM. */
int format_parse(const char *spec, struct format *f, char *why, size_t why_len);
void format_free(struct format *f);

/* Appends the record rendered with f to out. Returns 0 or -ENOMEM. */
int format_render(const struct format *f, const struct tape_message *m, struct format_out *out);
/* Appends the record as one JSON object and a newline. Returns 0 or -ENOMEM. */
int format_render_json(const struct tape_message *m, struct format_out *out);
/* Appends s[0..len) as the contents of a JSON string (no quotes). Returns 0 or -ENOMEM. */
int format_json_string(const void *s, size_t len, struct format_out *out);

#endif
