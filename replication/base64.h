/*
 * replication/base64.h: RFC 4648 base64 with padding, as etcd's JSON gateway carries keys and
 * values (protobuf's JSON mapping of bytes). Pure: no allocation.
 */
#ifndef TAPE_REPLICATION_BASE64_H
#define TAPE_REPLICATION_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Bytes base64_encode writes for len input bytes (no terminating NUL). */
static inline size_t base64_encoded_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

/* Writes base64_encoded_len(len) characters to out. */
void base64_encode(const uint8_t *in, size_t len, char *out);
/* Decodes in[0, len) to out (room for len / 4 * 3 bytes). Accepts the standard alphabet with
 * padding, and also the URL-safe one and missing padding (protobuf's JSON parsers accept both).
 * Returns the decoded length, or -1 for anything else (bad characters, bad length, bits left
 * over in the last character). */
long base64_decode(const char *in, size_t len, uint8_t *out);

#endif
