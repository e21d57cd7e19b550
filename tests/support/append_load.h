/*
 * tests/support/append_load.h: drives a partition with a steady stream of appends, for the
 * storage benchmarks (bench/log_append.c, bench/log_recovery.c).
 *
 * A pool of `inflight` slots, each owning one pre-built RecordBatch of records of
 * record_bytes (the value size, no key, as kafka-producer-perf-test counts it) packed up to
 * batch_bytes. Every slot is appended once at the start; its done callback appends the same
 * buffer again (the partition is done with it then) until `bytes` were submitted, so exactly
 * `inflight` appends stay in flight. The reactor is driven with reactor_run_once.
 */
#ifndef TAPE_TESTS_SUPPORT_APPEND_LOAD_H
#define TAPE_TESTS_SUPPORT_APPEND_LOAD_H

#include "io/reactor.h"
#include "log/partition.h"

#include <stdbool.h>
#include <stdint.h>

struct append_load_config {
	uint64_t bytes;        /* stop submitting once this many batch bytes were submitted */
	uint32_t record_bytes; /* value bytes of each record */
	uint32_t batch_bytes;  /* a batch holds as many records as fit in this */
	unsigned inflight;     /* appends kept in flight (slots) */
	bool wait_durable;     /* the run ends when the durable end reaches LEO, not the written */
};

struct append_load_result {
	uint64_t bytes;   /* batch bytes appended (done with err == 0) */
	uint64_t records; /* records appended */
	uint64_t appends; /* appends completed */
	uint32_t batch_size;
	uint32_t records_per_batch;
	int64_t start_ns;    /* clock_mono_ns before the first append */
	int64_t end_ns;      /* written end (or durable end) reached LEO */
	int64_t drain_ns;    /* reactor_drain after end_ns (seals, checkpoints); not run for
	                      * flush.mode interval, whose timer never lets it finish */
	int64_t cpu_user_us; /* CPU time of the process (all threads) from start to end */
	int64_t cpu_sys_us;
	uint64_t turns;             /* reactor_run_once calls between the two */
	uint64_t durable_advances;  /* progress callbacks that saw the durable end move */
	int64_t durable_gap_max_ns; /* longest wait between two durable-end moves */
	int err;                    /* first error, 0 if none */
};

/* Runs the load on part (opened on r, progress callback free for this to use) to the end
 * described above. Returns 0 or the first error (also in out->err). */
int append_load_run(struct reactor *r, struct partition *part, const struct append_load_config *cfg,
                    struct append_load_result *out);

/* A size argument of the benchmarks: "2G", "256M", "16K", "100" (bytes, powers of two).
 * false on garbage. */
bool append_load_parse_size(const char *s, uint64_t *out);

#endif
