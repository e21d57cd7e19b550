/*
 * protocol/compression.c: the four RecordBatch codecs, over zlib, snappy-c, lz4frame and zstd.
 *
 * Owns the compressed forms of a records section as Kafka clients write them (compression.h)
 * and the bound on what decompression may produce. Knows nothing of batches: callers pass the
 * bytes after recordsCount and get the concatenated records back.
 *
 * What is written, and why:
 *   gzip    one RFC 1952 member, zlib level 6 by default (Java's Deflater default).
 *   snappy  xerial framing, "\x82SNAPPY\0", version 1, compatible version 1, then one chunk
 *           (int32 compressed length + raw block) per 32 KiB of input, as the Java client's
 *           SnappyOutputStream writes it; every client reads it.
 *   lz4     one LZ4 frame: 64 KiB independent blocks, no checksums, no content size, LZ4's
 *           fast mode, as Kafka's KafkaLZ4BlockOutputStream writes at its default level (the
 *           Java reader refuses dependent blocks).
 *   zstd    one frame with its content size, level 3 by default (Kafka's and zstd's default).
 *
 * What is read: gzip members (or zlib streams) one after another; a raw snappy block, or xerial
 * framing, possibly several streams one after another (the version fields are not checked:
 * every writer writes 1 and 1); LZ4 frames one after another; zstd frames one after another,
 * with or without a content size, skippable frames skipped. Bytes after the last complete
 * member or frame are corruption, not padding.
 *
 * The output bound. Decompression appends at most max_bytes bytes to out. The streaming
 * decoders (gzip, lz4, zstd) are given room for at most max_bytes + 1 bytes, and producing the
 * extra byte is how "the output would pass the limit" is detected: a decompression bomb costs
 * at most max_bytes + 1 bytes of buffer (out->cap never grows past out->len on entry +
 * max_bytes + 1) and the time to fill it. Snappy states each block's size up front, which is
 * checked against what remains of the budget before the block is decoded. The decoders' own
 * state is not counted: zstd keeps a window of up to 2^27 bytes (ZSTD_WINDOWLOG_LIMIT_DEFAULT,
 * a frame asking for more is refused), lz4 up to 4 MiB, zlib 32 KiB.
 *
 * On any error out->len is put back to its value on entry; out->p may have been reallocated and
 * stays the caller's to free.
 */
#define ZLIB_CONST
#include "protocol/compression.h"

#include "base/assert.h"
#include "base/cursor.h"
#include "base/endian.h"
#include "base/errors.h"
#include "base/limits.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

/* The first allocation of an empty buffer; later ones double. */
#define BUF_CAP_MIN (4 * KiB)
/* A first guess at the decompressed size when the format does not say: 4x the input. */
#define EXPANSION_GUESS 4

/* xerial snappy framing (snappy-java's SnappyCodec and SnappyOutputStream). */
static const uint8_t xerial_magic[8] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0 };
#define XERIAL_HEADER_BYTES 16
#define XERIAL_VERSION 1
#define XERIAL_COMPATIBLE_VERSION 1
#define XERIAL_CHUNK_BYTES (32 * KiB)
/* No snappy block expands more than this: its densest element is a 3-byte copy of 64 bytes. */
#define SNAPPY_EXPANSION_MAX 22

static const char *const codec_names[] = {
	[COMPRESSION_NONE] = "none", [COMPRESSION_GZIP] = "gzip", [COMPRESSION_SNAPPY] = "snappy",
	[COMPRESSION_LZ4] = "lz4",   [COMPRESSION_ZSTD] = "zstd",
};

const char *compression_name(int codec)
{
	if (codec < 0 || (size_t)codec >= ARRAY_LEN(codec_names))
		return "unknown";
	return codec_names[codec];
}

int compression_from_name(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_LEN(codec_names); i++)
		if (strcmp(name, codec_names[i]) == 0)
			return (int)i;
	return -1;
}

/* ---- the output buffer ---------------------------------------------------------------- */

static size_t add_sat(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Makes room for need bytes after out->len, doubling the capacity, but to no more than limit
 * bytes in all (limit >= out->len + need is the caller's business). Leaves out->p non-NULL.
 * Returns 0 or -ENOMEM. */
static int buf_grow(struct compression_buf *out, size_t need, size_t limit)
{
	ASSERT(out->len <= out->cap);
	if (out->p && out->cap - out->len >= need)
		return 0;
	if (need > SIZE_MAX - out->len)
		return -ENOMEM;
	size_t want = out->len + need;
	size_t cap = out->cap < BUF_CAP_MIN ? BUF_CAP_MIN : out->cap;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
	cap = min_size(cap, limit);
	if (cap < want || cap == 0)
		cap = want ? want : 1;
	uint8_t *p = realloc(out->p, cap);
	if (!p)
		return -ENOMEM;
	out->p = p;
	out->cap = cap;
	return 0;
}

/* Where decompressed bytes go: out, from its length on entry, never past limit. */
struct sink {
	struct compression_buf *out; /* borrowed */
	size_t start;                /* out->len on entry */
	size_t max_bytes;
	size_t limit; /* start + max_bytes + 1, saturated: the one byte that shows "too large" */
};

static size_t sink_produced(const struct sink *s)
{
	return s->out->len - s->start;
}

static bool sink_over(const struct sink *s)
{
	return sink_produced(s) > s->max_bytes;
}

/* The room for a decoder's next step: the free bytes below the limit, after growing the
 * buffer by at least hint bytes when there are none. Never 0 while the output is within the
 * limit. Returns 0 or -ENOMEM. */
static int sink_room(struct sink *s, size_t hint, size_t *room)
{
	struct compression_buf *out = s->out;
	ASSERT(out->len < s->limit);
	if (!out->p || min_size(out->cap, s->limit) <= out->len) {
		size_t need = min_size(hint ? hint : 1, s->limit - out->len);
		int rc = buf_grow(out, need, s->limit);
		if (rc < 0)
			return rc;
	}
	*room = min_size(out->cap, s->limit) - out->len;
	return 0;
}

static size_t guess_hint(size_t len)
{
	size_t guess = len > SIZE_MAX / EXPANSION_GUESS ? SIZE_MAX : len * EXPANSION_GUESS;
	return guess < BUF_CAP_MIN ? BUF_CAP_MIN : guess;
}

/* ---- none ----------------------------------------------------------------------------- */

static int copy_append(const uint8_t *src, size_t len, struct compression_buf *out, size_t limit)
{
	int rc = buf_grow(out, len, limit);
	if (rc < 0)
		return rc;
	if (len > 0)
		memcpy(out->p + out->len, src, len);
	out->len += len;
	return 0;
}

/* ---- gzip ----------------------------------------------------------------------------- */

static int zlib_error(int zrc)
{
	return zrc == Z_MEM_ERROR ? -ENOMEM : -TAPE_ECORRUPT;
}

/* Gives zs the next piece of the input (zlib counts in uInt). */
static void zlib_feed(z_stream *zs, const uint8_t **src, size_t *left)
{
	if (zs->avail_in > 0 || *left == 0)
		return;
	size_t n = min_size(*left, UINT_MAX);
	zs->next_in = *src;
	zs->avail_in = (uInt)n;
	*src += n;
	*left -= n;
}

static int gzip_decompress(const uint8_t *src, size_t len, struct sink *s)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	/* 15 + 32: a 32 KiB window and either a gzip or a zlib header, told by its first bytes. */
	int zrc = inflateInit2(&zs, 15 + 32);
	if (zrc != Z_OK)
		return zrc == Z_MEM_ERROR ? -ENOMEM : -TAPE_ECODEC;
	int rc = 0;
	/* Each turn consumes input or produces output, or zlib says it cannot (Z_BUF_ERROR). */
	for (;;) {
		zlib_feed(&zs, &src, &len);
		size_t room;
		rc = sink_room(s, guess_hint(zs.avail_in + len), &room);
		if (rc < 0)
			break;
		uInt avail = (uInt)min_size(room, UINT_MAX);
		zs.next_out = s->out->p + s->out->len;
		zs.avail_out = avail;
		zrc = inflate(&zs, Z_NO_FLUSH);
		s->out->len += avail - zs.avail_out;
		if (sink_over(s)) {
			rc = -TAPE_ETOOLARGE;
			break;
		}
		if (zrc == Z_OK)
			continue;
		if (zrc != Z_STREAM_END) {
			/* Z_BUF_ERROR with room to write: the input ended mid-stream. */
			rc = zlib_error(zrc);
			break;
		}
		if (zs.avail_in == 0 && len == 0)
			break;
		/* Another member follows, as gzip(1) and Java's GZIPInputStream read them. */
		zrc = inflateReset(&zs);
		if (zrc != Z_OK) {
			rc = zlib_error(zrc);
			break;
		}
	}
	inflateEnd(&zs);
	return rc;
}

static int gzip_compress(int level, const uint8_t *src, size_t len, struct compression_buf *out)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	/* 15 + 16: a 32 KiB window and a gzip wrapper (RFC 1952) instead of zlib's. */
	int zrc = deflateInit2(&zs, level == 0 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED, 15 + 16,
	                       8, Z_DEFAULT_STRATEGY);
	if (zrc != Z_OK)
		return zrc == Z_MEM_ERROR ? -ENOMEM : -TAPE_ECODEC;
	int rc = buf_grow(out, deflateBound(&zs, len), SIZE_MAX);
	/* One turn when deflateBound's room suffices; the buffer doubles when it does not. */
	while (rc == 0) {
		zlib_feed(&zs, &src, &len);
		rc = buf_grow(out, BUF_CAP_MIN, SIZE_MAX);
		if (rc < 0)
			break;
		uInt avail = (uInt)min_size(out->cap - out->len, UINT_MAX);
		zs.next_out = out->p + out->len;
		zs.avail_out = avail;
		zrc = deflate(&zs, len == 0 ? Z_FINISH : Z_NO_FLUSH);
		out->len += avail - zs.avail_out;
		if (zrc == Z_STREAM_END)
			break;
		if (zrc != Z_OK && zrc != Z_BUF_ERROR)
			rc = -TAPE_ECODEC;
	}
	deflateEnd(&zs);
	return rc;
}

/* ---- snappy --------------------------------------------------------------------------- */

/* One raw snappy block, whose varint prefix states its uncompressed size. The size is checked
 * before anything is allocated for it: against what the block's length could possibly expand
 * to (else garbage claiming 4 GiB would cost an allocation of the whole budget), then against
 * the budget. */
static int snappy_block_decompress(const uint8_t *src, size_t len, struct sink *s)
{
	size_t n;
	if (snappy_uncompressed_length((const char *)src, len, &n) != SNAPPY_OK)
		return -TAPE_ECORRUPT;
	if (n / SNAPPY_EXPANSION_MAX > len)
		return -TAPE_ECORRUPT;
	if (n > s->max_bytes - sink_produced(s))
		return -TAPE_ETOOLARGE;
	int rc = buf_grow(s->out, n, s->limit);
	if (rc < 0)
		return rc;
	if (snappy_uncompress((const char *)src, len, (char *)s->out->p + s->out->len, &n) !=
	    SNAPPY_OK)
		return -TAPE_ECORRUPT;
	s->out->len += n;
	return 0;
}

static int snappy_decompress(const uint8_t *src, size_t len, struct sink *s)
{
	if (len < XERIAL_HEADER_BYTES || memcmp(src, xerial_magic, sizeof(xerial_magic)) != 0)
		return snappy_block_decompress(src, len, s);
	struct cursor c;
	cursor_init(&c, src + XERIAL_HEADER_BYTES, len - XERIAL_HEADER_BYTES);
	/* Each chunk takes at least its 4-byte length. */
	while (cursor_left(&c) > 0) {
		/* A header where a length would be starts a concatenated stream, which snappy-java
		 * reads on (its first four bytes make a negative length, so nothing else is lost).
		 */
		if (cursor_left(&c) >= XERIAL_HEADER_BYTES &&
		    memcmp(c.p, xerial_magic, sizeof(xerial_magic)) == 0) {
			cursor_skip(&c, XERIAL_HEADER_BYTES);
			continue;
		}
		int32_t n = cursor_i32(&c);
		const uint8_t *chunk = n >= 0 ? cursor_bytes(&c, (size_t)n) : NULL;
		if (!chunk)
			return -TAPE_ECORRUPT;
		int rc = snappy_block_decompress(chunk, (size_t)n, s);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int snappy_compress_xerial(const uint8_t *src, size_t len, struct compression_buf *out)
{
	int rc = buf_grow(out, XERIAL_HEADER_BYTES, SIZE_MAX);
	if (rc < 0)
		return rc;
	uint8_t *h = out->p + out->len;
	memcpy(h, xerial_magic, sizeof(xerial_magic));
	store_be32(h + 8, XERIAL_VERSION);
	store_be32(h + 12, XERIAL_COMPATIBLE_VERSION);
	out->len += XERIAL_HEADER_BYTES;
	for (size_t off = 0; off < len;) {
		size_t n = min_size(len - off, XERIAL_CHUNK_BYTES);
		size_t bound = snappy_max_compressed_length(n);
		rc = buf_grow(out, 4 + bound, SIZE_MAX);
		if (rc < 0)
			return rc;
		size_t packed = bound;
		if (snappy_compress((const char *)src + off, n, (char *)out->p + out->len + 4,
		                    &packed) != SNAPPY_OK)
			return -TAPE_ECODEC;
		store_be32(out->p + out->len, (uint32_t)packed);
		out->len += 4 + packed;
		off += n;
	}
	return 0;
}

/* ---- lz4 ------------------------------------------------------------------------------ */

static int lz4_decompress(const uint8_t *src, size_t len, struct sink *s)
{
	LZ4F_dctx *dctx;
	if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
		return -ENOMEM;
	int rc = 0;
	size_t pos = 0;
	/* Each turn consumes input or produces output; a turn that does neither is an error. */
	for (;;) {
		size_t room;
		rc = sink_room(s, guess_hint(len - pos), &room);
		if (rc < 0)
			break;
		size_t dst_n = room, src_n = len - pos;
		size_t hint =
		    LZ4F_decompress(dctx, s->out->p + s->out->len, &dst_n, src + pos, &src_n, NULL);
		if (LZ4F_isError(hint)) {
			rc = -TAPE_ECORRUPT;
			break;
		}
		pos += src_n;
		s->out->len += dst_n;
		if (sink_over(s)) {
			rc = -TAPE_ETOOLARGE;
			break;
		}
		/* hint 0: a frame ended here; more input would start the next one. */
		if (hint == 0 && pos == len)
			break;
		/* The input is used up and the decoder did not fill the room: it wants more. */
		if (pos == len && dst_n < room) {
			rc = -TAPE_ECORRUPT;
			break;
		}
		if (src_n == 0 && dst_n == 0) {
			rc = -TAPE_ECORRUPT;
			break;
		}
	}
	LZ4F_freeDecompressionContext(dctx);
	return rc;
}

static int lz4_compress(int level, const uint8_t *src, size_t len, struct compression_buf *out)
{
	LZ4F_preferences_t prefs;
	memset(&prefs, 0, sizeof(prefs));
	prefs.frameInfo.blockSizeID = LZ4F_max64KB;
	prefs.frameInfo.blockMode = LZ4F_blockIndependent;
	prefs.compressionLevel = level;
	size_t bound = LZ4F_compressFrameBound(len, &prefs);
	int rc = buf_grow(out, bound, SIZE_MAX);
	if (rc < 0)
		return rc;
	size_t n = LZ4F_compressFrame(out->p + out->len, bound, src, len, &prefs);
	if (LZ4F_isError(n))
		return -TAPE_ECODEC;
	out->len += n;
	return 0;
}

/* ---- zstd ----------------------------------------------------------------------------- */

static int zstd_error(size_t ret)
{
	return ZSTD_getErrorCode(ret) == ZSTD_error_memory_allocation ? -ENOMEM : -TAPE_ECORRUPT;
}

/* The first frame's content size when it states one (an untrusted hint, clipped by the
 * limit), else a guess. */
static size_t zstd_hint(const uint8_t *src, size_t len)
{
	unsigned long long n = ZSTD_getFrameContentSize(src, len);
	if (n == ZSTD_CONTENTSIZE_UNKNOWN || n == ZSTD_CONTENTSIZE_ERROR)
		return guess_hint(len);
	return n > SIZE_MAX ? SIZE_MAX : (size_t)n;
}

static int zstd_decompress(const uint8_t *src, size_t len, struct sink *s)
{
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	if (!dctx)
		return -ENOMEM;
	int rc = 0;
	ZSTD_inBuffer in = { src, len, 0 };
	size_t hint = zstd_hint(src, len);
	/* Each turn consumes input or produces output (zstd itself fails a call that cannot). */
	for (;;) {
		size_t room;
		rc = sink_room(s, hint, &room);
		if (rc < 0)
			break;
		ZSTD_outBuffer ob = { s->out->p + s->out->len, room, 0 };
		size_t ret = ZSTD_decompressStream(dctx, &ob, &in);
		if (ZSTD_isError(ret)) {
			rc = zstd_error(ret);
			break;
		}
		s->out->len += ob.pos;
		if (sink_over(s)) {
			rc = -TAPE_ETOOLARGE;
			break;
		}
		/* ret 0: a frame ended and is flushed; more input would start the next one. */
		if (ret == 0 && in.pos == in.size)
			break;
		/* The input is used up and the decoder did not fill the room: it wants more. */
		if (in.pos == in.size && ob.pos < ob.size) {
			rc = -TAPE_ECORRUPT;
			break;
		}
		hint = guess_hint(in.size - in.pos);
	}
	ZSTD_freeDCtx(dctx);
	return rc;
}

static int zstd_compress(int level, const uint8_t *src, size_t len, struct compression_buf *out)
{
	size_t bound = ZSTD_compressBound(len);
	int rc = buf_grow(out, bound, SIZE_MAX);
	if (rc < 0)
		return rc;
	size_t n = ZSTD_compress(out->p + out->len, bound, src, len,
	                         level == 0 ? ZSTD_CLEVEL_DEFAULT : level);
	if (ZSTD_isError(n))
		return ZSTD_getErrorCode(n) == ZSTD_error_memory_allocation ? -ENOMEM
		                                                            : -TAPE_ECODEC;
	out->len += n;
	return 0;
}

/* ---- entry points --------------------------------------------------------------------- */

int compression_decompress(int codec, const uint8_t *src, size_t len, struct compression_buf *out,
                           size_t max_bytes)
{
	ASSERT(out->len <= out->cap);
	struct sink s = {
		.out = out,
		.start = out->len,
		.max_bytes = max_bytes,
		.limit = add_sat(add_sat(out->len, max_bytes), 1),
	};
	int rc;
	switch (codec) {
	case COMPRESSION_NONE:
		rc = len > max_bytes ? -TAPE_ETOOLARGE : copy_append(src, len, out, s.limit);
		break;
	case COMPRESSION_GZIP:
		rc = gzip_decompress(src, len, &s);
		break;
	case COMPRESSION_SNAPPY:
		rc = snappy_decompress(src, len, &s);
		break;
	case COMPRESSION_LZ4:
		rc = lz4_decompress(src, len, &s);
		break;
	case COMPRESSION_ZSTD:
		rc = zstd_decompress(src, len, &s);
		break;
	default:
		return -TAPE_ECODEC;
	}
	if (rc < 0)
		out->len = s.start;
	return rc;
}

int compression_compress(int codec, int level, const uint8_t *src, size_t len,
                         struct compression_buf *out)
{
	ASSERT(out->len <= out->cap);
	size_t start = out->len;
	int rc;
	switch (codec) {
	case COMPRESSION_NONE:
		rc = copy_append(src, len, out, SIZE_MAX);
		break;
	case COMPRESSION_GZIP:
		rc = gzip_compress(level, src, len, out);
		break;
	case COMPRESSION_SNAPPY:
		rc = snappy_compress_xerial(src, len, out);
		break;
	case COMPRESSION_LZ4:
		rc = lz4_compress(level, src, len, out);
		break;
	case COMPRESSION_ZSTD:
		rc = zstd_compress(level, src, len, out);
		break;
	default:
		return -TAPE_ECODEC;
	}
	if (rc < 0)
		out->len = start;
	return rc;
}
