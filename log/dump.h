/*
 * log/dump.h: prints a partition's files for people and scripts, in the spirit of Kafka's
 * kafka-dump-log (`tape dump`). Blocking and read-only.
 *
 * A .log prints one line per batch, as kafka-dump-log does:
 *
 *   baseOffset: 0 lastOffset: 2 count: 3 baseSequence: -1 lastSequence: -1 producerId: -1
 *   producerEpoch: -1 partitionLeaderEpoch: 0 isTransactional: false isControl: false
 *   deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: 1002 size: 123 magic: 2
 *   compresscodec: none crc: 123456 isvalid: true
 *
 * (one line; CreateTime, or LogAppendTime, is the batch's maxTimestamp as in Kafka) and, with
 * records, each record after its batch, decompressed:
 *
 *   | offset: 0 CreateTime: 1000 keySize: 2 valueSize: 5 sequence: -1 headerKeys: [h1]
 *   key: k1 payload: hello
 *
 * Key, value and header keys print printable ASCII as is and every other byte as \xNN (a
 * backslash as \\), so the output is one line per record whatever the bytes. A batch that
 * fails a check prints "isvalid: false" and then "Invalid batch at position P: <why>"; the
 * dump goes on while batches are framed. Then one line says where and why the data ends
 * ("End of data at position P: end of file", "... zeros to the end of file ...", "Torn batch
 * at position P: ...", "Invalid batch at position P: ..." with the header fields found there),
 * and a summary line:
 *
 *   Summary: batches: 4 records: 16 validBytes: 3448 fileBytes: 3448 invalidBatches: 0 end: eof
 *
 * validBytes is the valid prefix (where recovery would cut a tail). ".index" prints
 * "offset: N position: P" per entry and ".timeindex" "timestamp: T offset: N" (absolute
 * offsets, from the file name's base); ".digest" its digest and whether the .log beside it
 * still matches; "*.checkpoint" its header and decoded payload.
 *
 * With json, every line above is instead one JSON object with a "type" ("file", "batch",
 * "record", "invalid", "end", "entry", "digest", "checkpoint", ..., "summary") and the same
 * field names. Keys and values that are valid UTF-8 are JSON strings ("key", "payload"); any
 * other bytes are given as base64 ("keyBase64", "payloadBase64").
 */
#ifndef TAPE_LOG_DUMP_H
#define TAPE_LOG_DUMP_H

#include <stdbool.h>
#include <stdio.h>

struct dump_options {
	bool records; /* each record of each batch (kafka-dump-log --print-data-log) */
	bool json;    /* JSON lines instead of text */
};

enum dump_kind {
	DUMP_UNKNOWN,
	DUMP_SEGMENT,      /* <base>.log (also .swap and .cleaned: a compaction's new segment) */
	DUMP_OFFSET_INDEX, /* <base>.index */
	DUMP_TIME_INDEX,   /* <base>.timeindex */
	DUMP_DIGEST,       /* <base>.digest */
	DUMP_CHECKPOINT,   /* *.checkpoint, and its .tmp */
};

/* The kind of file path is, by its name. */
enum dump_kind dump_kind_of(const char *path);

/* Each dumps one file to out. Returns 0 when the file is wholly valid, 1 when it has problems
 * (they are in the output), or -errno when it cannot be read (-EINVAL: dump_file does not
 * know the kind of file). */
int dump_file(FILE *out, const char *path, const struct dump_options *opt);
int dump_segment(FILE *out, const char *path, const struct dump_options *opt);
int dump_offset_index(FILE *out, const char *path, const struct dump_options *opt);
int dump_time_index(FILE *out, const char *path, const struct dump_options *opt);
int dump_digest(FILE *out, const char *path, const struct dump_options *opt);
int dump_checkpoint(FILE *out, const char *path, const struct dump_options *opt);

#endif
