/*
 * protocol/compression.h: the four codecs a RecordBatch can carry, as Kafka clients write them.
 *
 *   1 gzip    RFC 1952 stream (zlib)
 *   2 snappy  raw snappy block, or xerial framing ("\x82SNAPPY\0", version, compatible
 *             version, then chunks of int32 length + raw block) as the Java client writes;
 *             both are read, xerial framing is written (every client reads it)
 *   3 lz4     LZ4 frame format
 *   4 zstd    zstd frames (possibly several, possibly without a content size)
 *
 * Decompression output is bounded by the caller's max: a compressed batch that expands past
 * it is refused, never buffered (decompression bombs). The output buffer grows with
 * realloc as needed.
 */
#ifndef TAPE_PROTOCOL_COMPRESSION_H
#define TAPE_PROTOCOL_COMPRESSION_H

#include <stddef.h>
#include <stdint.h>

enum compression_codec {
	COMPRESSION_NONE = 0,
	COMPRESSION_GZIP = 1,
	COMPRESSION_SNAPPY = 2,
	COMPRESSION_LZ4 = 3,
	COMPRESSION_ZSTD = 4,
};

/* A growable output buffer. Owned by the caller; free(buf->p) when done. */
struct compression_buf {
	uint8_t *p; /* owned */
	size_t len;
	size_t cap;
};

/* "none", "gzip", "snappy", "lz4", "zstd", or "unknown". */
const char *compression_name(int codec);
/* The codec for a name (as above), or -1. */
int compression_from_name(const char *name);

/* Appends the decompression of src to out->p[out->len...]. Returns 0, -TAPE_ETOOLARGE when the
 * output would pass max_bytes, -TAPE_ECORRUPT when src is malformed, -TAPE_ECODEC for an
 * unknown codec, -ENOMEM.
 * max_bytes counts the bytes this call appends; out->cap never grows past out->len on entry +
 * max_bytes + 1. On error out->len is as on entry (out->p may have moved; still the caller's). */
int compression_decompress(int codec, const uint8_t *src, size_t len, struct compression_buf *out,
                           size_t max_bytes);

/* Appends the compression of src to out. level: codec-specific, 0 for its default (gzip 6,
 * lz4 its fast mode, zstd 3, as Kafka's defaults; snappy has no levels). Returns 0,
 * -TAPE_ECODEC (also for a level the codec refuses) or -ENOMEM; on error out->len is as on
 * entry. */
int compression_compress(int codec, int level, const uint8_t *src, size_t len,
                         struct compression_buf *out);

#endif
