/*
 * tests/tools/make_log.c: builds a partition directory through the log API, for integration
 * tests that need real segments on disk (tape dump, tape verify).
 *
 *   make_log DIR BATCHES [--records N] [--value-bytes N] [--segment-bytes N] [--codec NAME]
 *            [--key PREFIX]
 *
 * Batch i (from 0) holds N records (default 4) of value-bytes (default 100) letters, keys
 * PREFIX0, PREFIX1, ... (default no key), record k at timestamp 1000 + i * N + k, written
 * with leader epoch 0, every fifth batch compressed with NAME when given. The partition rolls
 * at segment-bytes (default 4096) and is closed cleanly, so every segment but the last is
 * sealed with its sidecars. Prints "log end offset: L segments: S" on success; exits 1 on
 * failure, 2 on usage errors.
 */
#include "base/errors.h"
#include "io/reactor.h"
#include "log/partition.h"
#include "protocol/compression.h"
#include "tests/support/batches.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failed;

static void on_done(struct partition_append *a, int err)
{
	if (err) {
		fprintf(stderr, "make_log: append failed: %s\n", tape_strerror(err));
		failed = 1;
	}
	free(a->batches);
	free(a);
}

static void usage(void)
{
	fputs("usage: make_log DIR BATCHES [--records N] [--value-bytes N] [--segment-bytes N] "
	      "[--codec NAME] [--key PREFIX]\n",
	      stderr);
	exit(2);
}

static long number(const char *s, long min, long max)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < min || v > max)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "records", required_argument, NULL, 'r' },
		{ "value-bytes", required_argument, NULL, 'v' },
		{ "segment-bytes", required_argument, NULL, 's' },
		{ "codec", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	int records = 4, codec = 0, c;
	long value_bytes = 100, segment_bytes = 4096;
	const char *key = NULL;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'r':
			records = (int)number(optarg, 1, 100000);
			break;
		case 'v':
			value_bytes = number(optarg, 0, 1 << 20);
			break;
		case 's':
			segment_bytes = number(optarg, 4096, 1L << 30);
			break;
		case 'c':
			codec = compression_from_name(optarg);
			if (codec < 0)
				usage();
			break;
		case 'k':
			key = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	const char *dir = argv[optind];
	long batches = number(argv[optind + 1], 0, 10000000);

	struct reactor *r;
	struct partition *p;
	struct partition_config cfg;
	partition_config_default(&cfg);
	cfg.segment_bytes = (uint32_t)segment_bytes;
	int rc = reactor_create(&r);
	if (rc == 0)
		rc = partition_open(r, dir, &cfg, &p);
	if (rc < 0) {
		fprintf(stderr, "make_log: %s: %s\n", dir, tape_strerror(rc));
		return 1;
	}
	rc = partition_become_leader(p, 0);
	for (long i = 0; rc == 0 && i < batches && !failed; i++) {
		struct test_batch_spec spec = {
			.records = records,
			.value_bytes = (size_t)value_bytes,
			.timestamp_ms = 1000 + i * records,
			.producer_id = -1,
			.producer_epoch = -1,
			.base_sequence = -1,
			.seed = (uint64_t)i + 1,
			.key = key,
			.codec = i % 5 == 4 ? codec : 0,
		};
		struct partition_append *a = calloc(1, sizeof(*a));
		if (!a)
			return 1;
		uint8_t *buf;
		a->len = (uint32_t)test_batch_build(&spec, &buf);
		a->batches = buf;
		a->origin = APPEND_CLIENT;
		a->done = on_done;
		rc = partition_append(p, a);
		if (rc < 0) {
			free(buf);
			free(a);
		} else if (i % 64 == 63) {
			rc = reactor_drain(r);
		}
	}
	if (rc == 0)
		rc = reactor_drain(r);
	if (rc < 0 || failed) {
		fprintf(stderr, "make_log: %s: %s\n", dir, tape_strerror(rc ? rc : -TAPE_EFAILED));
		partition_close(p);
		reactor_destroy(r);
		return 1;
	}
	int64_t leo = partition_log_end_offset(p);
	unsigned segments = partition_segments_count(p);
	partition_close(p);
	reactor_destroy(r);
	printf("log end offset: %" PRId64 " segments: %u\n", leo, segments);
	return 0;
}
