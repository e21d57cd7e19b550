/*
 * base/crc32c.h: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka's
 * RecordBatch v2.
 *
 * crc32c(0, buf, len) is the CRC of buf; crc32c(crc32c(0, a, n), b, m) is the CRC of a then b.
 * The hardware path (SSE4.2 crc32 instruction, three interleaved streams combined with
 * zero-shift tables, after Mark Adler's crc32c.c) is chosen at run time; the table path
 * (slicing by 8) runs elsewhere and is exported so tests can compare the two.
 */
#ifndef TAPE_BASE_CRC32C_H
#define TAPE_BASE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);
/* 1 when crc32c() uses the hardware instruction. */
int crc32c_hw_available(void);

#endif
