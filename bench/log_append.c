/*
 * bench/log_append.c: append throughput of one partition, in process, no network.
 *
 * Opens a partition in a fresh directory (--dir, created here and removed at the end unless
 * --keep) with the given flush mode and segment size, then keeps --inflight appends in flight
 * (tests/support/append_load.c): each append is one pre-built RecordBatch of --record-bytes
 * records (value bytes, no key) packed up to --batch-bytes, and its done callback appends the
 * same buffer again until --bytes were submitted. The reactor is driven with reactor_run_once
 * on this thread; segment rolls and seals run on the reactor's helper thread, as in taped.
 *
 * The clock runs from the first append until every appended offset is written (flush none or
 * interval: in the page cache) or durable (flush fsync: partition_durable_end == LEO, after
 * the group commits). What follows is timed separately: reactor_drain (seals and checkpoints
 * still running) and partition_close. CPU time (user and system, all threads of the process,
 * io_uring's io-wq workers included) is taken over the timed span only.
 *
 * Output: a human line, then machine-readable lines for scripts/bench-log.sh:
 *   result append record_bytes=R flush=F bytes=B seconds=S MBps=M records_per_s=N
 *   stats append ...   (turns, durable-end moves per second, longest durable stall, ...)
 * MB is 10^6 bytes. Exit status 0, or 1 on any error (the error is printed).
 *
 * Usage: log_append --dir DIR [--bytes N] [--record-bytes 100|1024] [--batch-bytes 16384]
 *        [--flush none|fsync|interval] [--flush-interval-ms MS] [--inflight N]
 *        [--segment-bytes N] [--keep]          (sizes take a K, M or G suffix: powers of 2)
 */
#include "base/clock.h"
#include "base/errors.h"
#include "base/limits.h"
#include "io/reactor.h"
#include "log/partition.h"
#include "tests/support/append_load.h"
#include "tests/support/batches.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct options {
	const char *dir;
	uint64_t bytes;
	uint32_t record_bytes;
	uint32_t batch_bytes;
	enum flush_mode flush;
	int64_t flush_interval_ms;
	unsigned inflight;
	uint64_t segment_bytes;
	int keep;
};

static const char *flush_name(enum flush_mode m)
{
	return m == FLUSH_NONE ? "none" : m == FLUSH_FSYNC ? "fsync" : "interval";
}

static void usage(void)
{
	fprintf(stderr, "usage: log_append --dir DIR [--bytes N] [--record-bytes N] "
	                "[--batch-bytes N] [--flush none|fsync|interval] [--flush-interval-ms MS] "
	                "[--inflight N] [--segment-bytes N] [--keep]\n");
	exit(2);
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "record-bytes", required_argument, NULL, 'r' },
		{ "batch-bytes", required_argument, NULL, 'B' },
		{ "flush", required_argument, NULL, 'f' },
		{ "flush-interval-ms", required_argument, NULL, 'i' },
		{ "inflight", required_argument, NULL, 'n' },
		{ "segment-bytes", required_argument, NULL, 's' },
		{ "keep", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	*o = (struct options){ .bytes = 2 * GiB,
		               .record_bytes = 100,
		               .batch_bytes = 16384,
		               .flush = FLUSH_NONE,
		               .flush_interval_ms = 1000,
		               .inflight = 64,
		               .segment_bytes = SEGMENT_BYTES_DEFAULT };
	int c;
	uint64_t v;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->dir = optarg;
			break;
		case 'b':
			if (!append_load_parse_size(optarg, &o->bytes) || o->bytes == 0)
				usage();
			break;
		case 'r':
			if (!append_load_parse_size(optarg, &v) || v < 1 || v > 1 * MiB)
				usage();
			o->record_bytes = (uint32_t)v;
			break;
		case 'B':
			if (!append_load_parse_size(optarg, &v) || v <= BATCH_HEADER_BYTES ||
			    v > BATCH_BYTES_DEFAULT)
				usage();
			o->batch_bytes = (uint32_t)v;
			break;
		case 'f':
			if (strcmp(optarg, "none") == 0)
				o->flush = FLUSH_NONE;
			else if (strcmp(optarg, "fsync") == 0)
				o->flush = FLUSH_FSYNC;
			else if (strcmp(optarg, "interval") == 0)
				o->flush = FLUSH_INTERVAL;
			else
				usage();
			break;
		case 'i':
			o->flush_interval_ms = atoll(optarg);
			break;
		case 'n':
			o->inflight = (unsigned)atoi(optarg);
			if (o->inflight < 1 || o->inflight >= APPENDS_IN_FLIGHT_MAX)
				usage();
			break;
		case 's':
			if (!append_load_parse_size(optarg, &o->segment_bytes))
				usage();
			break;
		case 'k':
			o->keep = 1;
			break;
		default:
			usage();
		}
	}
	if (!o->dir || optind != argc)
		usage();
}

static void report(const struct options *o, const struct append_load_result *res, unsigned segments,
                   double close_s)
{
	double user_s = (double)res->cpu_user_us / 1e6, sys_s = (double)res->cpu_sys_us / 1e6;
	double s = (double)(res->end_ns - res->start_ns) / 1e9;
	double mbps = (double)res->bytes / s / 1e6;
	double rps = (double)res->records / s;
	printf("log_append: %u-byte records, %u per %u-byte batch, flush %s, %u in flight, "
	       "%llu MiB segments: %.3f GiB in %.3f s = %.1f MB/s, %.2f M records/s; "
	       "then drain %.3f s, close %.3f s; cpu user %.2f s sys %.2f s\n",
	       o->record_bytes, res->records_per_batch, res->batch_size, flush_name(o->flush),
	       o->inflight, (unsigned long long)(o->segment_bytes / MiB),
	       (double)res->bytes / (double)GiB, s, mbps, rps / 1e6, (double)res->drain_ns / 1e9,
	       close_s, user_s, sys_s);
	printf("result append record_bytes=%u flush=%s bytes=%llu seconds=%.3f MBps=%.1f "
	       "records_per_s=%.0f\n",
	       o->record_bytes, flush_name(o->flush), (unsigned long long)res->bytes, s, mbps, rps);
	printf("stats append record_bytes=%u flush=%s appends=%llu records=%llu turns=%llu "
	       "appends_per_turn=%.1f durable_moves=%llu durable_moves_per_s=%.0f "
	       "bytes_per_durable_move=%.0f durable_gap_max_ms=%.1f segments=%u "
	       "drain_seconds=%.3f close_seconds=%.3f cpu_user_s=%.2f cpu_sys_s=%.2f\n",
	       o->record_bytes, flush_name(o->flush), (unsigned long long)res->appends,
	       (unsigned long long)res->records, (unsigned long long)res->turns,
	       res->turns ? (double)res->appends / (double)res->turns : 0.0,
	       (unsigned long long)res->durable_advances, (double)res->durable_advances / s,
	       res->durable_advances ? (double)res->bytes / (double)res->durable_advances : 0.0,
	       (double)res->durable_gap_max_ns / 1e6, segments, (double)res->drain_ns / 1e9,
	       close_s, user_s, sys_s);
}

int main(int argc, char **argv)
{
	struct options o;
	parse_options(argc, argv, &o);
	struct stat st;
	if (stat(o.dir, &st) == 0) {
		fprintf(stderr, "log_append: %s exists; give a directory to create\n", o.dir);
		return 1;
	}
	struct partition_config cfg;
	partition_config_default(&cfg);
	cfg.flush_mode = o.flush;
	cfg.flush_interval_ms = o.flush_interval_ms;
	cfg.segment_bytes = (uint32_t)o.segment_bytes;
	cfg.segment_ms = 0;
	if (o.segment_bytes > SEGMENT_BYTES_MAX || partition_config_check(&cfg) < 0) {
		fprintf(stderr, "log_append: configuration out of bounds\n");
		return 1;
	}
	struct reactor *r;
	int rc = reactor_create(&r);
	if (rc < 0) {
		fprintf(stderr, "log_append: reactor: %s\n", tape_strerror(rc));
		return 1;
	}
	struct partition *part;
	rc = partition_open(r, o.dir, &cfg, &part);
	if (rc < 0) {
		fprintf(stderr, "log_append: open %s: %s\n", o.dir, tape_strerror(rc));
		reactor_destroy(r);
		return 1;
	}
	struct append_load_config lc = {
		.bytes = o.bytes,
		.record_bytes = o.record_bytes,
		.batch_bytes = o.batch_bytes,
		.inflight = o.inflight,
		.wait_durable = o.flush == FLUSH_FSYNC,
	};
	struct append_load_result res;
	rc = append_load_run(r, part, &lc, &res);
	unsigned segments = partition_segments_count(part);
	int64_t t0 = clock_mono_ns();
	partition_close(part);
	double close_s = (double)(clock_mono_ns() - t0) / 1e9;
	reactor_destroy(r);
	if (rc < 0) {
		fprintf(stderr, "log_append: append failed: %s\n", tape_strerror(rc));
		return 1;
	}
	report(&o, &res, segments, close_s);
	if (!o.keep)
		test_rmdir(strdup(o.dir));
	return 0;
}
