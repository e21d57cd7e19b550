/*
 * tests/unit/protocol/test_compression.c: the four codecs of protocol/compression.c.
 *
 * Covers: round trips of every codec on empty, tiny, 1 MiB random and 1 MiB JSON-like input,
 * with the output limit exactly at and one byte below the decompressed size; appending to a
 * buffer that already holds bytes; decompression bombs (64 MiB of zeros against a 1 MiB
 * limit: refused, and the buffer never grows past the limit); truncated, garbage and
 * trailing-garbage input; what other writers produce: raw snappy blocks, xerial framing built
 * by hand, concatenated and content-size-less zstd frames, skippable frames, zlib streams,
 * concatenated gzip members, and streams from the gzip, lz4 and zstd command-line tools (small
 * ones embedded below, larger ones made with popen; a missing tool skips loudly).
 */
#include "protocol/compression.h"

#include "base/errors.h"
#include "base/limits.h"

#include <criterion/criterion.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

static const int codecs[] = { COMPRESSION_NONE, COMPRESSION_GZIP, COMPRESSION_SNAPPY,
	                      COMPRESSION_LZ4, COMPRESSION_ZSTD };
static const int real_codecs[] = { COMPRESSION_GZIP, COMPRESSION_SNAPPY, COMPRESSION_LZ4,
	                           COMPRESSION_ZSTD };
#define N_CODECS (sizeof(codecs) / sizeof(codecs[0]))
#define N_REAL_CODECS (sizeof(real_codecs) / sizeof(real_codecs[0]))

/* "hello, tape! hello, tape! hello, tape!\n" as the command-line tools compress it. */
static const char cli_text[] = "hello, tape! hello, tape! hello, tape!\n";
/* lz4 v1.9.4: lz4 -c (independent blocks, content checksum). */
static const uint8_t cli_lz4[] = { 0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7, 0x17, 0x00, 0x00, 0x00,
	                           0xdf, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x2c, 0x20, 0x74, 0x61, 0x70,
	                           0x65, 0x21, 0x20, 0x0d, 0x00, 0x02, 0x50, 0x61, 0x70, 0x65, 0x21,
	                           0x0a, 0x00, 0x00, 0x00, 0x00, 0x01, 0x32, 0x6b, 0xc3 };
/* gzip 1.12: gzip -n -c. */
static const uint8_t cli_gzip[] = { 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
	                            0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xd7, 0x51, 0x28, 0x49, 0x2c,
	                            0x48, 0x55, 0x54, 0xc8, 0xc0, 0xc5, 0xe1, 0x02, 0x00, 0x3b,
	                            0xbb, 0x9c, 0x46, 0x27, 0x00, 0x00, 0x00 };
/* zstd 1.5.4 from a pipe: no content size, content checksum. */
static const uint8_t cli_zstd[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0xa5, 0x00, 0x00,
	                            0x70, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x2c, 0x20, 0x74,
	                            0x61, 0x70, 0x65, 0x21, 0x20, 0x0a, 0x01, 0x00, 0xb0,
	                            0xcc, 0x2f, 0x02, 0x99, 0x3c, 0xc7 };

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint8_t *random_bytes(size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	cr_assert_not_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rng_next();
	return p;
}

/* Repetitive JSON events, as a batch of a typical topic holds them. */
static uint8_t *json_bytes(size_t len)
{
	uint8_t *p = malloc(len + 256);
	cr_assert_not_null(p);
	size_t n = 0;
	for (int i = 0; n < len; i++)
		n += (size_t)sprintf(
		    (char *)p + n, "{\"id\":%d,\"user\":\"user-%d\",\"event\":\"%s\",\"ts\":%d}\n",
		    i, i % 97, i % 3 ? "click" : "view", 1700000000 + i * 7);
	return p;
}

static struct compression_buf compress_or_die(int codec, const void *src, size_t len)
{
	struct compression_buf b = { 0 };
	int rc = compression_compress(codec, 0, src, len, &b);
	cr_assert_eq(rc, 0, "compress %s: %s", compression_name(codec), tape_strerror(rc));
	return b;
}

static void expect_decompress(int codec, const void *src, size_t len, const void *want,
                              size_t want_len)
{
	struct compression_buf out = { 0 };
	int rc = compression_decompress(codec, src, len, &out, want_len);
	cr_assert_eq(rc, 0, "%s: %s", compression_name(codec), tape_strerror(rc));
	cr_assert_eq(out.len, want_len, "%s: %zu != %zu", compression_name(codec), out.len,
	             want_len);
	cr_assert(want_len == 0 || memcmp(out.p, want, want_len) == 0, "%s: bytes differ",
	          compression_name(codec));
	free(out.p);
}

static void expect_error(int codec, const void *src, size_t len, size_t max, int want,
                         const char *what)
{
	struct compression_buf out = { 0 };
	int rc = compression_decompress(codec, src, len, &out, max);
	cr_assert_eq(rc, want, "%s %s: got %d (%s), want %s", compression_name(codec), what, rc,
	             tape_strerror(rc), tape_strerror(want));
	cr_assert_eq(out.len, 0, "%s %s: len restored", compression_name(codec), what);
	free(out.p);
}

/* Compress, then decompress with the limit at the size (accepted) and one below (refused). */
static void round_trip(int codec, const uint8_t *src, size_t len)
{
	struct compression_buf packed = compress_or_die(codec, src, len);
	expect_decompress(codec, packed.p, packed.len, src, len);
	if (len > 0)
		expect_error(codec, packed.p, packed.len, len - 1, -TAPE_ETOOLARGE, "max len-1");
	free(packed.p);
}

Test(compression, names)
{
	for (size_t i = 0; i < N_CODECS; i++)
		cr_assert_eq(compression_from_name(compression_name(codecs[i])), codecs[i]);
	cr_assert_str_eq(compression_name(COMPRESSION_ZSTD), "zstd");
	cr_assert_str_eq(compression_name(COMPRESSION_SNAPPY), "snappy");
	cr_assert_str_eq(compression_name(5), "unknown");
	cr_assert_str_eq(compression_name(-1), "unknown");
	cr_assert_eq(compression_from_name("unknown"), -1);
	cr_assert_eq(compression_from_name("producer"), -1);
	cr_assert_eq(compression_from_name(""), -1);
	cr_assert_eq(compression_from_name(NULL), -1);
}

Test(compression, unknown_codec)
{
	struct compression_buf b = { 0 };
	for (int codec = 5; codec <= 8; codec++) {
		cr_assert_eq(compression_compress(codec, 0, (const uint8_t *)"x", 1, &b),
		             -TAPE_ECODEC);
		cr_assert_eq(compression_decompress(codec, (const uint8_t *)"x", 1, &b, 100),
		             -TAPE_ECODEC);
	}
	cr_assert_eq(compression_decompress(-1, (const uint8_t *)"x", 1, &b, 100), -TAPE_ECODEC);
	cr_assert_eq(b.len, 0);
	free(b.p);
}

Test(compression, round_trip_small)
{
	static const char *const tiny[] = { "", "a", "hello", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
	for (size_t c = 0; c < N_CODECS; c++)
		for (size_t i = 0; i < sizeof(tiny) / sizeof(tiny[0]); i++)
			round_trip(codecs[c], (const uint8_t *)tiny[i], strlen(tiny[i]));
	for (size_t c = 0; c < N_CODECS; c++)
		round_trip(codecs[c], NULL, 0);
}

Test(compression, round_trip_1mib_random)
{
	uint8_t *src = random_bytes(1 * MiB);
	for (size_t c = 0; c < N_CODECS; c++)
		round_trip(codecs[c], src, 1 * MiB);
	free(src);
}

Test(compression, round_trip_1mib_json)
{
	uint8_t *src = json_bytes(1 * MiB);
	for (size_t c = 0; c < N_CODECS; c++) {
		struct compression_buf packed = compress_or_die(codecs[c], src, 1 * MiB);
		if (codecs[c] != COMPRESSION_NONE)
			cr_assert_lt(packed.len, 1 * MiB / 4, "%s compresses JSON",
			             compression_name(codecs[c]));
		free(packed.p);
		round_trip(codecs[c], src, 1 * MiB);
	}
	free(src);
}

Test(compression, round_trip_odd_sizes)
{
	/* Around snappy's 32 KiB chunks and lz4's 64 KiB blocks. */
	size_t sizes[] = { 32 * KiB - 1, 32 * KiB,     32 * KiB + 1,
		           64 * KiB,     64 * KiB + 1, 96 * KiB + 7 };
	uint8_t *src = json_bytes(128 * KiB);
	for (size_t c = 0; c < N_CODECS; c++)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			round_trip(codecs[c], src, sizes[i]);
	free(src);
}

Test(compression, appends_to_a_non_empty_buffer)
{
	uint8_t *src = json_bytes(100 * KiB);
	for (size_t c = 0; c < N_CODECS; c++) {
		struct compression_buf packed = { 0 };
		cr_assert_eq(
		    compression_compress(COMPRESSION_NONE, 0, (const uint8_t *)"HEAD", 4, &packed),
		    0);
		cr_assert_eq(compression_compress(codecs[c], 0, src, 100 * KiB, &packed), 0);
		cr_assert_eq(memcmp(packed.p, "HEAD", 4), 0);

		struct compression_buf out = { 0 };
		cr_assert_eq(
		    compression_compress(COMPRESSION_NONE, 0, (const uint8_t *)"prefix!", 7, &out),
		    0);
		/* The limit counts this call's bytes only. */
		int rc = compression_decompress(codecs[c], packed.p + 4, packed.len - 4, &out,
		                                100 * KiB);
		cr_assert_eq(rc, 0, "%s: %s", compression_name(codecs[c]), tape_strerror(rc));
		cr_assert_eq(out.len, 7 + 100 * KiB);
		cr_assert_eq(memcmp(out.p, "prefix!", 7), 0);
		cr_assert_eq(memcmp(out.p + 7, src, 100 * KiB), 0);
		/* A refusal leaves the earlier bytes and length alone. */
		rc = compression_decompress(codecs[c], packed.p + 4, packed.len - 4, &out,
		                            100 * KiB - 1);
		cr_assert_eq(rc, -TAPE_ETOOLARGE);
		cr_assert_eq(out.len, 7 + 100 * KiB);
		cr_assert_eq(memcmp(out.p, "prefix!", 7), 0);
		free(out.p);
		free(packed.p);
	}
	free(src);
}

Test(compression, bombs_are_refused_within_the_limit, .timeout = 60)
{
	size_t bomb = 64 * MiB;
	uint8_t *zeros = calloc(1, bomb);
	cr_assert_not_null(zeros);
	for (size_t c = 0; c < N_REAL_CODECS; c++) {
		struct compression_buf packed = compress_or_die(real_codecs[c], zeros, bomb);
		struct compression_buf out = { 0 };
		int rc =
		    compression_decompress(real_codecs[c], packed.p, packed.len, &out, 1 * MiB);
		cr_assert_eq(rc, -TAPE_ETOOLARGE, "%s: %s", compression_name(real_codecs[c]),
		             tape_strerror(rc));
		cr_assert_eq(out.len, 0);
		cr_assert_leq(out.cap, 1 * MiB + 1, "%s: cap %zu", compression_name(real_codecs[c]),
		              out.cap);
		free(out.p);
		/* The same with bytes already in the buffer: the bound is relative to them. */
		struct compression_buf pre = { 0 };
		cr_assert_eq(compression_compress(COMPRESSION_NONE, 0, zeros, 1000, &pre), 0);
		rc = compression_decompress(real_codecs[c], packed.p, packed.len, &pre, 64 * KiB);
		cr_assert_eq(rc, -TAPE_ETOOLARGE);
		cr_assert_eq(pre.len, 1000);
		cr_assert_leq(pre.cap, 1000 + 64 * KiB + 1);
		free(pre.p);
		free(packed.p);
	}
	free(zeros);
}

Test(compression, max_zero)
{
	for (size_t c = 0; c < N_CODECS; c++) {
		struct compression_buf empty = compress_or_die(codecs[c], NULL, 0);
		struct compression_buf out = { 0 };
		cr_assert_eq(compression_decompress(codecs[c], empty.p, empty.len, &out, 0), 0);
		cr_assert_eq(out.len, 0);
		cr_assert_leq(out.cap, 1);
		free(out.p);
		struct compression_buf one = compress_or_die(codecs[c], "x", 1);
		expect_error(codecs[c], one.p, one.len, 0, -TAPE_ETOOLARGE, "max 0");
		free(one.p);
		free(empty.p);
	}
}

Test(compression, truncated_input_is_corrupt)
{
	uint8_t *src = json_bytes(200 * KiB);
	for (size_t c = 0; c < N_REAL_CODECS; c++) {
		int codec = real_codecs[c];
		struct compression_buf packed = compress_or_die(codec, src, 200 * KiB);
		/* Snappy's xerial framing has no end mark: a cut between two chunks is a shorter
		 * valid stream. Every cut below is inside a chunk. */
		size_t cuts[] = {
			0, 1, 4, 10, 17, 21, packed.len / 2 + 3, packed.len - 2, packed.len - 1
		};
		for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
			char what[32];
			snprintf(what, sizeof(what), "cut at %zu", cuts[i]);
			expect_error(codec, packed.p, cuts[i], 1 * MiB, -TAPE_ECORRUPT, what);
		}
		free(packed.p);
		/* The tiny inputs too, at every length. */
		packed = compress_or_die(codec, "hello, hello, hello", 19);
		for (size_t cut = 0; cut < packed.len; cut++)
			if (codec != COMPRESSION_SNAPPY || cut != 16) /* 16: the header alone */
				expect_error(codec, packed.p, cut, 1 * MiB, -TAPE_ECORRUPT,
				             "short cut");
		free(packed.p);
	}
	free(src);
}

Test(compression, garbage_is_corrupt)
{
	for (size_t c = 0; c < N_REAL_CODECS; c++) {
		for (int round = 0; round < 50; round++) {
			size_t len = 1 + (size_t)(rng_next() % 2000);
			uint8_t *junk = random_bytes(len);
			expect_error(real_codecs[c], junk, len, 1 * MiB, -TAPE_ECORRUPT, "garbage");
			free(junk);
		}
		uint8_t zeros[64] = { 0 };
		/* A zero byte is a valid raw snappy block of nothing; 64 of them are not. */
		expect_error(real_codecs[c], zeros, sizeof(zeros), 1 * MiB, -TAPE_ECORRUPT,
		             "zeros");
	}
}

Test(compression, trailing_garbage_is_corrupt)
{
	for (size_t c = 0; c < N_REAL_CODECS; c++) {
		int codec = real_codecs[c];
		struct compression_buf packed = compress_or_die(codec, "hello, tape", 11);
		uint8_t *longer = malloc(packed.len + 3);
		memcpy(longer, packed.p, packed.len);
		memcpy(longer + packed.len, "\x01\x02\x03", 3);
		expect_error(codec, longer, packed.len + 3, 1 * MiB, -TAPE_ECORRUPT, "trailing");
		free(longer);
		free(packed.p);
	}
}

Test(compression, corrupt_bytes_never_crash)
{
	/* Flip each byte of a small stream: an error or some output, never a crash or a result
	 * past the limit. Checksummed formats (gzip's CRC-32) must refuse. */
	uint8_t *src = json_bytes(4 * KiB);
	for (size_t c = 0; c < N_REAL_CODECS; c++) {
		struct compression_buf packed = compress_or_die(real_codecs[c], src, 4 * KiB);
		for (size_t i = 0; i < packed.len; i++) {
			packed.p[i] ^= 0x5a;
			struct compression_buf out = { 0 };
			int rc = compression_decompress(real_codecs[c], packed.p, packed.len, &out,
			                                8 * KiB);
			cr_assert(rc == 0 || rc == -TAPE_ECORRUPT || rc == -TAPE_ETOOLARGE);
			cr_assert_leq(out.len, 8 * KiB);
			if (real_codecs[c] == COMPRESSION_GZIP && i >= 10)
				cr_assert_neq(rc, 0, "gzip byte %zu", i);
			free(out.p);
			packed.p[i] ^= 0x5a;
		}
		free(packed.p);
	}
	free(src);
}

/* ---- snappy ------------------------------------------------------------------------------ */

Test(compression, raw_snappy_block_is_accepted)
{
	uint8_t *src = json_bytes(100 * KiB);
	size_t cap = snappy_max_compressed_length(100 * KiB);
	char *raw = malloc(cap);
	cr_assert_eq(snappy_compress((const char *)src, 100 * KiB, raw, &cap), SNAPPY_OK);
	expect_decompress(COMPRESSION_SNAPPY, raw, cap, src, 100 * KiB);
	expect_error(COMPRESSION_SNAPPY, raw, cap, 100 * KiB - 1, -TAPE_ETOOLARGE, "raw max");
	/* The empty raw block is one byte, its length 0. */
	expect_decompress(COMPRESSION_SNAPPY, "\0", 1, "", 0);
	free(raw);
	free(src);
}

static size_t put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return 4;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

Test(compression, xerial_layout_as_snappy_java_writes_it)
{
	uint8_t *src = json_bytes(100 * KiB);
	struct compression_buf packed = compress_or_die(COMPRESSION_SNAPPY, src, 100 * KiB);
	cr_assert_eq(memcmp(packed.p, "\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16), 0);
	/* 32 KiB of input per chunk: 32, 32, 32, 4. */
	size_t want[] = { 32 * KiB, 32 * KiB, 32 * KiB, 4 * KiB }, pos = 16, i = 0;
	for (; pos < packed.len; i++) {
		uint32_t n = get_be32(packed.p + pos);
		size_t raw_len;
		cr_assert_lt(i, 4);
		cr_assert_eq(
		    snappy_uncompressed_length((const char *)packed.p + pos + 4, n, &raw_len),
		    SNAPPY_OK);
		cr_assert_eq(raw_len, want[i]);
		pos += 4 + n;
	}
	cr_assert_eq(i, 4);
	cr_assert_eq(pos, packed.len);
	/* No input: the header alone, which reads back as nothing. */
	struct compression_buf empty = compress_or_die(COMPRESSION_SNAPPY, NULL, 0);
	cr_assert_eq(empty.len, 16);
	expect_decompress(COMPRESSION_SNAPPY, empty.p, empty.len, "", 0);
	free(empty.p);
	free(packed.p);
	free(src);
}

/* Hand-built xerial framing with uneven chunks, and its failure modes. */
Test(compression, xerial_by_hand)
{
	const char *parts[] = { "first chunk, ", "", "second", " and the third one." };
	uint8_t buf[512];
	size_t n = 16;
	memcpy(buf, "\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16);
	for (size_t i = 0; i < 4; i++) {
		size_t cap = snappy_max_compressed_length(strlen(parts[i]));
		cr_assert_eq(snappy_compress(parts[i], strlen(parts[i]), (char *)buf + n + 4, &cap),
		             SNAPPY_OK);
		n += put_be32(buf + n, (uint32_t)cap) + cap;
	}
	const char *want = "first chunk, second and the third one.";
	expect_decompress(COMPRESSION_SNAPPY, buf, n, want, strlen(want));
	expect_error(COMPRESSION_SNAPPY, buf, n, strlen(want) - 1, -TAPE_ETOOLARGE, "xerial max");
	/* Other version fields are read alike. */
	buf[11] = 2;
	expect_decompress(COMPRESSION_SNAPPY, buf, n, want, strlen(want));
	/* A chunk length past the end, or negative. */
	uint8_t bad[32];
	memcpy(bad, buf, 16);
	put_be32(bad + 16, 100);
	memcpy(bad + 20, buf + 20, 12);
	expect_error(COMPRESSION_SNAPPY, bad, 32, 1 * MiB, -TAPE_ECORRUPT, "chunk past end");
	put_be32(bad + 16, 0x80000001u);
	expect_error(COMPRESSION_SNAPPY, bad, 32, 1 * MiB, -TAPE_ECORRUPT, "negative chunk");
	/* A zero-length chunk is no snappy block. */
	put_be32(bad + 16, 0);
	expect_error(COMPRESSION_SNAPPY, bad, 20, 1 * MiB, -TAPE_ECORRUPT, "empty chunk");
	/* Two streams one after another, as snappy-java reads them. */
	uint8_t twice[1024];
	memcpy(twice, buf, n);
	memcpy(twice + n, buf, n);
	char want2[128];
	snprintf(want2, sizeof(want2), "%s%s", want, want);
	expect_decompress(COMPRESSION_SNAPPY, twice, 2 * n, want2, 2 * strlen(want));
	expect_error(COMPRESSION_SNAPPY, twice, n + 15, 1 * MiB, -TAPE_ECORRUPT, "half header");
	/* Three bytes after the last chunk: not even a length. */
	expect_error(COMPRESSION_SNAPPY, buf, 19, 1 * MiB, -TAPE_ECORRUPT, "partial length");
}

Test(compression, snappy_size_is_checked_before_allocating)
{
	/* 2 MiB of zeros in one raw block, 1 MiB allowed: refused from the block's varint, before
	 * anything is allocated. */
	uint8_t *zeros = calloc(1, 2 * MiB + 1);
	size_t cap = snappy_max_compressed_length(2 * MiB);
	char *raw = malloc(cap);
	cr_assert_eq(snappy_compress((const char *)zeros, 2 * MiB, raw, &cap), SNAPPY_OK);
	struct compression_buf out = { 0 };
	cr_assert_eq(compression_decompress(COMPRESSION_SNAPPY, (uint8_t *)raw, cap, &out, 1 * MiB),
	             -TAPE_ETOOLARGE);
	cr_assert_eq(out.cap, 0);
	/* The same block inside xerial framing, after a small chunk. */
	uint8_t *framed = malloc(cap + 64);
	memcpy(framed, "\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16);
	size_t n = 16 + put_be32(framed + 16, 3);
	memcpy(framed + n, "\x01\x00\x00", 3); /* length 1, a literal of one byte: 0 */
	n += 3;
	n += put_be32(framed + n, (uint32_t)cap);
	memcpy(framed + n, raw, cap);
	n += cap;
	cr_assert_eq(compression_decompress(COMPRESSION_SNAPPY, framed, n, &out, 1 * MiB),
	             -TAPE_ETOOLARGE);
	cr_assert_leq(out.cap, 4 * KiB);
	cr_assert_eq(out.len, 0);
	expect_decompress(COMPRESSION_SNAPPY, framed, n, zeros, 2 * MiB + 1);
	/* A block whose varint claims more than its bytes could ever expand to (1 GiB from six
	 * bytes) is corrupt, whatever the limit, and costs no allocation. */
	const uint8_t claim[] = { 0x80, 0x80, 0x80, 0x80, 0x04, 0x00 };
	free(out.p);
	out = (struct compression_buf){ 0 };
	cr_assert_eq(compression_decompress(COMPRESSION_SNAPPY, claim, 6, &out, 4 * GiB),
	             -TAPE_ECORRUPT);
	cr_assert_eq(out.cap, 0);
	free(framed);
	free(raw);
	free(zeros);
}

/* ---- zstd -------------------------------------------------------------------------------- */

/* A zstd frame without a content size, as a streaming writer makes it. */
static size_t zstd_stream_frame(const void *src, size_t len, uint8_t *dst, size_t cap)
{
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	ZSTD_inBuffer in = { src, len, 0 };
	ZSTD_outBuffer ob = { dst, cap, 0 };
	cr_assert(!ZSTD_isError(ZSTD_compressStream2(cctx, &ob, &in, ZSTD_e_continue)));
	cr_assert_eq(ZSTD_compressStream2(cctx, &ob, &in, ZSTD_e_end), 0);
	ZSTD_freeCCtx(cctx);
	return ob.pos;
}

Test(compression, zstd_concatenated_and_sizeless_frames)
{
	uint8_t *src = json_bytes(300 * KiB);
	size_t cap = ZSTD_compressBound(300 * KiB) * 2 + 64;
	uint8_t *buf = malloc(cap);
	/* frame 1: 100 KiB with content size; skippable frame; frame 2: 200 KiB streamed. */
	size_t n = ZSTD_compress(buf, cap, src, 100 * KiB, 3);
	cr_assert(!ZSTD_isError(n));
	cr_assert_eq(ZSTD_getFrameContentSize(buf, n), 100 * KiB);
	const uint8_t skippable[] = { 0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'a', 'b', 'c' };
	memcpy(buf + n, skippable, sizeof(skippable));
	n += sizeof(skippable);
	size_t f2 = n;
	n += zstd_stream_frame(src + 100 * KiB, 200 * KiB, buf + n, cap - n);
	cr_assert_eq(ZSTD_getFrameContentSize(buf + f2, n - f2), ZSTD_CONTENTSIZE_UNKNOWN);
	expect_decompress(COMPRESSION_ZSTD, buf, n, src, 300 * KiB);
	expect_decompress(COMPRESSION_ZSTD, buf + f2, n - f2, src + 100 * KiB, 200 * KiB);
	expect_error(COMPRESSION_ZSTD, buf, n, 300 * KiB - 1, -TAPE_ETOOLARGE, "two frames");
	expect_error(COMPRESSION_ZSTD, buf, n - 1, 1 * MiB, -TAPE_ECORRUPT, "second cut");
	/* A lone skippable frame decodes to nothing. */
	expect_decompress(COMPRESSION_ZSTD, skippable, sizeof(skippable), "", 0);
	free(buf);
	free(src);
}

Test(compression, zstd_lying_content_size_is_corrupt)
{
	uint8_t buf[256];
	size_t n = ZSTD_compress(buf, sizeof(buf), "hello, hello, hello", 19, 3);
	cr_assert(!ZSTD_isError(n));
	/* Header: magic, FHD (single segment, 1-byte content size), size. */
	cr_assert_eq(buf[4] & 0xe0, 0x20);
	buf[5] = 30;
	expect_error(COMPRESSION_ZSTD, buf, n, 1 * MiB, -TAPE_ECORRUPT, "size 30 for 19");
	buf[5] = 10;
	expect_error(COMPRESSION_ZSTD, buf, n, 1 * MiB, -TAPE_ECORRUPT, "size 10 for 19");
}

/* ---- gzip -------------------------------------------------------------------------------- */

Test(compression, gzip_reads_zlib_streams_and_members)
{
	uint8_t *src = json_bytes(64 * KiB);
	uLongf zn = compressBound(64 * KiB);
	uint8_t *z = malloc(zn);
	cr_assert_eq(compress2(z, &zn, src, 64 * KiB, 6), Z_OK);
	expect_decompress(COMPRESSION_GZIP, z, zn, src, 64 * KiB);
	free(z);

	struct compression_buf two = compress_or_die(COMPRESSION_GZIP, src, 10 * KiB);
	cr_assert_eq(compression_compress(COMPRESSION_GZIP, 0, src + 10 * KiB, 54 * KiB, &two), 0);
	expect_decompress(COMPRESSION_GZIP, two.p, two.len, src, 64 * KiB);
	expect_error(COMPRESSION_GZIP, two.p, two.len - 4, 1 * MiB, -TAPE_ECORRUPT, "member cut");
	free(two.p);
	free(src);
}

Test(compression, levels)
{
	uint8_t *src = json_bytes(256 * KiB);
	struct compression_buf a = { 0 }, b = { 0 };
	/* 0 is zstd's level 3 and gzip's level 6, as Kafka's defaults. */
	cr_assert_eq(compression_compress(COMPRESSION_ZSTD, 0, src, 256 * KiB, &a), 0);
	cr_assert_eq(compression_compress(COMPRESSION_ZSTD, 3, src, 256 * KiB, &b), 0);
	cr_assert(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);
	a.len = b.len = 0;
	cr_assert_eq(compression_compress(COMPRESSION_GZIP, 0, src, 256 * KiB, &a), 0);
	cr_assert_eq(compression_compress(COMPRESSION_GZIP, 6, src, 256 * KiB, &b), 0);
	cr_assert(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);
	a.len = b.len = 0;
	cr_assert_eq(compression_compress(COMPRESSION_GZIP, 42, src, 256 * KiB, &a), -TAPE_ECODEC);
	cr_assert_eq(a.len, 0);
	for (size_t c = 0; c < N_REAL_CODECS; c++) {
		int levels[] = { 1, 9, -1 };
		for (size_t i = 0; i < 3; i++) {
			if (real_codecs[c] == COMPRESSION_GZIP && levels[i] == -1)
				continue; /* zlib's -1 is its default: fine, but not a level */
			a.len = 0;
			int rc =
			    compression_compress(real_codecs[c], levels[i], src, 256 * KiB, &a);
			cr_assert_eq(rc, 0, "%s level %d", compression_name(real_codecs[c]),
			             levels[i]);
			expect_decompress(real_codecs[c], a.p, a.len, src, 256 * KiB);
		}
	}
	free(a.p);
	free(b.p);
	free(src);
}

Test(compression, none_copies_within_the_limit)
{
	expect_decompress(COMPRESSION_NONE, "abc", 3, "abc", 3);
	expect_error(COMPRESSION_NONE, "abcd", 4, 3, -TAPE_ETOOLARGE, "none max");
}

/* ---- what the command-line tools write --------------------------------------------------- */

Test(compression, embedded_cli_streams)
{
	size_t n = strlen(cli_text);
	expect_decompress(COMPRESSION_LZ4, cli_lz4, sizeof(cli_lz4), cli_text, n);
	expect_decompress(COMPRESSION_GZIP, cli_gzip, sizeof(cli_gzip), cli_text, n);
	expect_decompress(COMPRESSION_ZSTD, cli_zstd, sizeof(cli_zstd), cli_text, n);
	/* Their checksums are checked: a changed content byte is refused. */
	uint8_t lz4[sizeof(cli_lz4)], gz[sizeof(cli_gzip)], zs[sizeof(cli_zstd)];
	memcpy(lz4, cli_lz4, sizeof(lz4));
	memcpy(gz, cli_gzip, sizeof(gz));
	memcpy(zs, cli_zstd, sizeof(zs));
	lz4[12] ^= 1; /* 'h' -> 'i' in the literal run */
	gz[sizeof(gz) - 8] ^= 1;
	zs[sizeof(zs) - 1] ^= 1;
	expect_error(COMPRESSION_LZ4, lz4, sizeof(lz4), 1 * MiB, -TAPE_ECORRUPT, "lz4 checksum");
	expect_error(COMPRESSION_GZIP, gz, sizeof(gz), 1 * MiB, -TAPE_ECORRUPT, "gzip crc");
	expect_error(COMPRESSION_ZSTD, zs, sizeof(zs), 1 * MiB, -TAPE_ECORRUPT, "zstd checksum");
}

/* Runs `tool` on a temp file holding src and returns its standard output. */
static struct compression_buf run_tool(const char *tool, const char *args, const uint8_t *src,
                                       size_t len)
{
	char cmd[512], path[] = "/tmp/tape-compression-XXXXXX";
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	if (system(cmd) != 0)
		cr_skip_test("SKIP: %s is not installed", tool);
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, src, len), (ssize_t)len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s %s < %s", tool, args, path);
	FILE *f = popen(cmd, "r");
	cr_assert_not_null(f);
	struct compression_buf out = { 0 };
	uint8_t chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		cr_assert_eq(compression_compress(COMPRESSION_NONE, 0, chunk, n, &out), 0);
	cr_assert_eq(pclose(f), 0, "%s", cmd);
	unlink(path);
	return out;
}

Test(compression, lz4_cli_frames)
{
	uint8_t *src = json_bytes(1 * MiB);
	/* Default, dependent blocks, content size, block checksums with 256 KiB blocks. */
	const char *variants[] = { "-q -c", "-q -c -BD", "-q -c --content-size", "-q -c -B5 -BX",
		                   "-q -c -9" };
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		struct compression_buf f = run_tool("lz4", variants[i], src, 1 * MiB);
		expect_decompress(COMPRESSION_LZ4, f.p, f.len, src, 1 * MiB);
		expect_error(COMPRESSION_LZ4, f.p, f.len, 1 * MiB - 1, -TAPE_ETOOLARGE, "lz4 cli");
		free(f.p);
	}
	free(src);
}

Test(compression, gzip_cli_streams)
{
	uint8_t *src = json_bytes(1 * MiB);
	const char *variants[] = { "-c", "-c -9", "-c -1" };
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		struct compression_buf f = run_tool("gzip", variants[i], src, 1 * MiB);
		expect_decompress(COMPRESSION_GZIP, f.p, f.len, src, 1 * MiB);
		free(f.p);
	}
	free(src);
}

Test(compression, zstd_cli_streams)
{
	uint8_t *src = json_bytes(1 * MiB);
	struct compression_buf f = run_tool("zstd", "-q -c", src, 1 * MiB);
	expect_decompress(COMPRESSION_ZSTD, f.p, f.len, src, 1 * MiB);
	free(f.p);
	free(src);
}
