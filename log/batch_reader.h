/*
 * log/batch_reader.h: reads a segment file batch by batch, blocking (pread), for recovery,
 * index rebuilds, verification, dumping and compaction. Never used on the reactor thread.
 *
 * Each call yields one whole batch in memory (borrowed from the reader's buffer until the next
 * call), or says why the file stops there:
 *
 *   BATCH_OK        a batch whose header is consistent, and, if asked, whose CRC and records
 *                   check out
 *   BATCH_END       end of data: end of file, or a zero length field where preallocated (never
 *                   written) space begins
 *   BATCH_TORN      the file ends inside a batch (a write that did not complete)
 *   BATCH_INVALID   bytes that are not a valid batch (bad magic, length, CRC, records)
 *
 * The position of the first byte not yielded as BATCH_OK is the valid prefix.
 */
#ifndef TAPE_LOG_BATCH_READER_H
#define TAPE_LOG_BATCH_READER_H

#include "protocol/record_batch.h"

#include <stddef.h>
#include <stdint.h>

enum batch_status { BATCH_OK, BATCH_END, BATCH_TORN, BATCH_INVALID };

struct batch_reader {
	int fd;             /* borrowed */
	uint64_t file_end;  /* read no further than this position */
	uint64_t position;  /* of the next batch */
	unsigned checks;    /* enum record_batch_checks for each batch */
	uint32_t max_bytes; /* largest batch accepted */
	uint8_t *buf;       /* owned */
	size_t buf_cap;
	uint64_t buf_pos; /* file position of buf[0] */
	size_t buf_len;
	int err; /* -errno of a failed read, or the validation error of INVALID */
};

/* Reads fd from position up to file_end (use UINT64_MAX for the file's size). */
int batch_reader_init(struct batch_reader *br, int fd, uint64_t position, uint64_t file_end,
                      unsigned checks, uint32_t max_bytes);
void batch_reader_free(struct batch_reader *br);

/* Next batch: *batch points at its bytes (len = record_batch_size), *position its start.
 * A read error returns BATCH_INVALID with br->err = -errno. */
enum batch_status batch_reader_next(struct batch_reader *br, const uint8_t **batch,
                                    struct record_batch_header *h, uint64_t *position);

const char *batch_status_name(enum batch_status s);

#endif
