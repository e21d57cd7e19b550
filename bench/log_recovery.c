/*
 * bench/log_recovery.c: how fast a partition opens after the worst crash, from the page cache.
 *
 * Builds a partition of --bytes in --dir with flush.mode none (tests/support/append_load.c,
 * --record-bytes records in ~16 KiB batches, 1 GiB segments by default) and closes it, or with
 * --reuse takes the one already there. Then it stages the worst recovery: partition.checkpoint
 * and every .digest are removed, so the recovery point is 0 and every segment is scanned batch
 * by batch (lengths, CRC-32C, records walked, indexes rebuilt) and every sealed segment is
 * sealed again (digest recomputed, indexes rewritten) — what log/recovery.c does when a crash
 * took the checkpoint with it. Nothing is dropped from the page cache: the .log files are read
 * once before the clock starts, so the scan is measured warm, and that read's speed is printed
 * as the page cache's own rate for comparison.
 *
 * Timed: partition_open (the recovery), then partition_close, then a clean reopen (the
 * checkpoint says "clean": no scan) and its close.
 *
 * Output: a human line, then machine-readable lines for scripts/bench-log.sh:
 *   result recovery bytes=B seconds=S GBps=G             (GB = 10^9 bytes)
 *   result recovery_clean bytes=B seconds=S
 *   stats recovery ...
 *
 * Usage: log_recovery --dir DIR [--bytes N] [--record-bytes N] [--batch-bytes N]
 *        [--segment-bytes N] [--inflight N] [--reuse] [--keep]     (K, M, G: powers of 2)
 * The directory is removed at the end unless --keep or --reuse.
 */
#include "base/clock.h"
#include "base/errors.h"
#include "base/limits.h"
#include "io/reactor.h"
#include "log/partition.h"
#include "tests/support/append_load.h"
#include "tests/support/batches.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The partition checkpoint's file name (log/partition_internal.h, not for use outside log/):
 * without it the recovery point is 0. */
#define CHECKPOINT_FILE "partition.checkpoint"

struct options {
	const char *dir;
	uint64_t bytes;
	uint32_t record_bytes;
	uint32_t batch_bytes;
	uint64_t segment_bytes;
	unsigned inflight;
	int reuse;
	int keep;
};

static void usage(void)
{
	fprintf(stderr,
	        "usage: log_recovery --dir DIR [--bytes N] [--record-bytes N] "
	        "[--batch-bytes N] [--segment-bytes N] [--inflight N] [--reuse] [--keep]\n");
	exit(2);
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "record-bytes", required_argument, NULL, 'r' },
		{ "batch-bytes", required_argument, NULL, 'B' },
		{ "segment-bytes", required_argument, NULL, 's' },
		{ "inflight", required_argument, NULL, 'n' },
		{ "reuse", no_argument, NULL, 'R' },
		{ "keep", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	*o = (struct options){ .bytes = 2 * GiB,
		               .record_bytes = 1024,
		               .batch_bytes = 16384,
		               .segment_bytes = SEGMENT_BYTES_DEFAULT,
		               .inflight = 64 };
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
		case 's':
			if (!append_load_parse_size(optarg, &o->segment_bytes) ||
			    o->segment_bytes > SEGMENT_BYTES_MAX)
				usage();
			break;
		case 'n':
			o->inflight = (unsigned)atoi(optarg);
			if (o->inflight < 1 || o->inflight >= APPENDS_IN_FLIGHT_MAX)
				usage();
			break;
		case 'R':
			o->reuse = 1;
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

static bool has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), m = strlen(suffix);
	return n >= m && strcmp(name + n - m, suffix) == 0;
}

/* Calls fn on every file of dir whose name ends in suffix. Returns the count or -errno. */
static int each_file(const char *dir, const char *suffix, int (*fn)(const char *path, void *arg),
                     void *arg)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	int count = 0, rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d))) {
		char path[PATH_MAX];
		if (!has_suffix(de->d_name, suffix) ||
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		rc = fn(path, arg);
		count++;
	}
	closedir(d);
	return rc < 0 ? rc : count;
}

static int remove_file(const char *path, void *arg)
{
	(void)arg;
	return unlink(path) < 0 ? -errno : 0;
}

static int count_file(const char *path, void *arg)
{
	(void)path;
	(void)arg;
	return 0;
}

/* Reads a whole file through the page cache, adding its size to *(uint64_t *)arg. */
static int read_file(const char *path, void *arg)
{
	static uint8_t buf[1 << 20];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		*(uint64_t *)arg += (uint64_t)n;
	}
	close(fd);
	return rc;
}

static int build(struct reactor *r, const struct options *o, const struct partition_config *base)
{
	struct partition_config cfg = *base;
	cfg.flush_mode = FLUSH_NONE;
	struct partition *part;
	int rc = partition_open(r, o->dir, &cfg, &part);
	if (rc < 0)
		return rc;
	struct append_load_config lc = {
		.bytes = o->bytes,
		.record_bytes = o->record_bytes,
		.batch_bytes = o->batch_bytes,
		.inflight = o->inflight,
	};
	struct append_load_result res;
	rc = append_load_run(r, part, &lc, &res);
	partition_close(part);
	if (rc == 0)
		printf("log_recovery: built %.3f GiB of %u-byte records (%u per %u-byte batch) in "
		       "%.2f s\n",
		       (double)res.bytes / (double)GiB, o->record_bytes, res.records_per_batch,
		       res.batch_size, (double)(res.end_ns - res.start_ns) / 1e9);
	return rc;
}

/* Opens and closes once; *open_s and *close_s get the two times. */
static int timed_open_close(struct reactor *r, const char *dir, const struct partition_config *cfg,
                            double *open_s, double *close_s, uint64_t *bytes, int64_t *leo,
                            unsigned *segments)
{
	struct partition *part;
	int64_t t0 = clock_mono_ns();
	int rc = partition_open(r, dir, cfg, &part);
	int64_t t1 = clock_mono_ns();
	if (rc < 0)
		return rc;
	*open_s = (double)(t1 - t0) / 1e9;
	*bytes = partition_size_bytes(part);
	*leo = partition_log_end_offset(part);
	*segments = partition_segments_count(part);
	partition_close(part);
	*close_s = (double)(clock_mono_ns() - t1) / 1e9;
	return 0;
}

static int run(struct reactor *r, const struct options *o, const struct partition_config *cfg)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", o->dir, CHECKPOINT_FILE);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	int rc = each_file(o->dir, ".digest", remove_file, NULL);
	if (rc < 0)
		return rc;
	printf("log_recovery: removed %s and %d .digest files: every segment will be scanned\n",
	       CHECKPOINT_FILE, rc);
	uint64_t warm_bytes = 0;
	int64_t t0 = clock_mono_ns();
	rc = each_file(o->dir, ".log", read_file, &warm_bytes);
	if (rc < 0)
		return rc;
	double warm_s = (double)(clock_mono_ns() - t0) / 1e9;

	double scan_s, scan_close_s, clean_s, clean_close_s;
	uint64_t bytes, clean_bytes;
	int64_t leo, clean_leo;
	unsigned segs, clean_segs;
	rc = timed_open_close(r, o->dir, cfg, &scan_s, &scan_close_s, &bytes, &leo, &segs);
	if (rc == 0)
		rc = timed_open_close(r, o->dir, cfg, &clean_s, &clean_close_s, &clean_bytes,
		                      &clean_leo, &clean_segs);
	if (rc < 0)
		return rc;
	if (clean_leo != leo || clean_bytes != bytes) {
		fprintf(stderr,
		        "log_recovery: the clean reopen found LEO %lld (%llu bytes), the "
		        "recovery %lld (%llu bytes)\n",
		        (long long)clean_leo, (unsigned long long)clean_bytes, (long long)leo,
		        (unsigned long long)bytes);
		return -TAPE_ECORRUPT;
	}
	printf("log_recovery: scanned %u segments, %.3f GiB, LEO %lld, in %.3f s = %.2f GB/s "
	       "(page cache read of the same files: %.2f GB/s); close %.3f s; clean reopen "
	       "%.4f s, close %.3f s\n",
	       segs, (double)bytes / (double)GiB, (long long)leo, scan_s,
	       (double)bytes / scan_s / 1e9, (double)warm_bytes / warm_s / 1e9, scan_close_s,
	       clean_s, clean_close_s);
	printf("result recovery bytes=%llu seconds=%.3f GBps=%.2f\n", (unsigned long long)bytes,
	       scan_s, (double)bytes / scan_s / 1e9);
	printf("result recovery_clean bytes=%llu seconds=%.4f\n", (unsigned long long)bytes,
	       clean_s);
	printf("stats recovery segments=%u leo=%lld record_bytes=%u warm_read_GBps=%.2f "
	       "close_seconds=%.3f clean_close_seconds=%.3f\n",
	       segs, (long long)leo, o->record_bytes, (double)warm_bytes / warm_s / 1e9,
	       scan_close_s, clean_close_s);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	parse_options(argc, argv, &o);
	struct stat st;
	bool exists = stat(o.dir, &st) == 0;
	if (exists && !o.reuse) {
		fprintf(stderr, "log_recovery: %s exists; give a new directory, or --reuse\n",
		        o.dir);
		return 1;
	}
	struct partition_config cfg;
	partition_config_default(&cfg);
	cfg.segment_bytes = (uint32_t)o.segment_bytes;
	cfg.segment_ms = 0;
	if (partition_config_check(&cfg) < 0) {
		fprintf(stderr, "log_recovery: configuration out of bounds\n");
		return 1;
	}
	struct reactor *r;
	int rc = reactor_create(&r);
	if (rc < 0) {
		fprintf(stderr, "log_recovery: reactor: %s\n", tape_strerror(rc));
		return 1;
	}
	if (!exists || each_file(o.dir, ".log", count_file, NULL) <= 0)
		rc = build(r, &o, &cfg);
	else
		printf("log_recovery: reusing the partition in %s\n", o.dir);
	if (rc == 0)
		rc = run(r, &o, &cfg);
	reactor_destroy(r);
	if (rc < 0) {
		fprintf(stderr, "log_recovery: %s\n", tape_strerror(rc));
		return 1;
	}
	if (!o.keep && !o.reuse)
		test_rmdir(strdup(o.dir));
	return 0;
}
