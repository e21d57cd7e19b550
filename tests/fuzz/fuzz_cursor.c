/*
 * tests/fuzz/fuzz_cursor.c: base/cursor.h over arbitrary bytes. Input: a byte giving the number
 * of op bytes (1-16), the op bytes (op % 9 picks the read; op >> 4 is the length for bytes and
 * skip), then the buffer the cursor reads. ASan checks that no read leaves the buffer; the
 * asserts check that the cursor never grows, that a bad cursor reads zeros, and that a varint
 * the reader accepts decodes, re-encodes (no longer than the input) and decodes again to the
 * value the reader returned, consuming exactly the bytes the decoder said.
 */
#include "base/assert.h"
#include "base/cursor.h"
#include "base/varint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nops = size ? 1 + data[0] % 16 : 0;
	if (size < 1 + nops)
		return 0;
	const uint8_t *buf = data + 1 + nops, *end = data + size;
	struct cursor c;
	cursor_init(&c, buf, (size_t)(end - buf));
	for (size_t i = 0; i < nops; i++) {
		unsigned kind = data[1 + i] % 9;
		size_t n = data[1 + i] >> 4, left = cursor_left(&c);
		uint64_t v = 0, got = 0, again = 0;
		uint32_t v32 = 0;
		int used = kind == 8 ? varint_decode_u64(c.p, left, &v) : 0;
		if (kind == 6 || kind == 7) {
			used = varint_decode_u32(c.p, left, &v32);
			v = v32;
		}
		const uint8_t *p = NULL;
		/* One read per line: the switch is a table. */
		/* clang-format off */
		switch (kind) {
		case 0: got = cursor_u8(&c); break;
		case 1: got = cursor_u16(&c); break;
		case 2: got = cursor_u32(&c); break;
		case 3: got = (uint64_t)cursor_i64(&c); break;
		case 4: got = (p = cursor_bytes(&c, n)) != NULL; break;
		case 5: got = cursor_skip(&c, n); break;
		case 6: got = cursor_uvarint(&c); break;
		case 7: got = zigzag32_encode(cursor_varint(&c)); break;
		default: got = zigzag64_encode(cursor_varlong(&c)); break;
		}
		/* clang-format on */
		ASSERT(cursor_left(&c) <= left && (!p || (p >= buf && p + n <= end)));
		ASSERT(cursor_ok(&c) || (cursor_left(&c) == 0 && got == 0));
		if (kind < 6)
			continue;
		ASSERT((used > 0) == cursor_ok(&c));
		if (used > 0) {
			uint8_t enc[VARINT64_BYTES_MAX];
			size_t m = varint_encode_u64(enc, v);
			ASSERT(m <= (size_t)used && left - cursor_left(&c) == (size_t)used);
			ASSERT(varint_decode_u64(enc, m, &again) == (int)m && again == v &&
			       got == v);
		}
	}
	return 0;
}
