/*
 * cli/replay.h: the pure parts of `tape replay` (cli/cmd_replay.c), apart so that unit tests
 * reach them: reading --from/--until, the retry backoff, naming how a command failed, and
 * the headers of a dead-letter record. No I/O, no clock, no allocation.
 */
#ifndef TAPE_CLI_REPLAY_H
#define TAPE_CLI_REPLAY_H

#include "client/tape.h"

#include <stddef.h>
#include <stdint.h>

enum replay_bound_kind {
	REPLAY_BOUND_NONE,      /* --until not given: follow the tail until interrupted */
	REPLAY_BOUND_BEGINNING, /* --from beginning */
	REPLAY_BOUND_END,       /* --until end: the high watermark when the replay started */
	REPLAY_BOUND_OFFSET,    /* value: an offset, in every partition */
	REPLAY_BOUND_TIME,      /* value: ms since the epoch */
};

struct replay_bound {
	enum replay_bound_kind kind;
	int64_t value;
};

/* Reads "beginning" (--from only), "end" (--until only), "@TIME" (TIME as cli/timespec.h
 * reads it: epoch ms, RFC 3339, -1h style, relative to now_ms) or "OFFSET" (digits).
 * Returns 0, or -1 with a reason in why (one phrase, no option name). */
int replay_bound_parse(const char *s, bool until, int64_t now_ms, struct replay_bound *out,
                       char *why, size_t why_len);

/* The wait before retry number `retry` (1 for the first retry): base_ms doubled each time,
 * never more than max_ms. */
int64_t replay_backoff_ms(int32_t retry, int64_t base_ms, int64_t max_ms);

/* How a waitpid status failed, in words: "exit status 3", "killed by signal 9 (Killed)".
 * Returns false (and writes "exit status 0") for a success. */
bool replay_status_text(int wstatus, char *buf, size_t len);

/* The dead-letter headers added after a record's own: */
#define REPLAY_DLQ_HEADERS 6
/* Scratch space replay_dlq_headers needs for the numbers it writes. */
#define REPLAY_DLQ_SCRATCH_BYTES 96

/* Fills out (room for m->headers_count + REPLAY_DLQ_HEADERS) with m's headers followed by
 *   tape.dlq.error      why the record failed ("exit status 3")
 *   tape.dlq.topic      the topic, partition, offset and timestamp (ms) it came from
 *   tape.dlq.partition
 *   tape.dlq.offset
 *   tape.dlq.timestamp
 *   tape.dlq.attempts   how many times the command ran
 * Values point into m, error and scratch (borrowed: valid while they are). Returns the
 * count. */
int32_t replay_dlq_headers(const struct tape_message *m, const char *error, int32_t attempts,
                           struct tape_header *out, char *scratch);

#endif
