/*
 * tests/tools/replica_follow.c: drives replication/fetcher.c against a real taped, for
 * tests/integration/replica_fetcher.sh.
 *
 *   replica_follow follow DIR HOST PORT TOPIC PARTITION LEO [SECONDS]
 *       opens the partition in DIR (created if missing), follows TOPIC-PARTITION from the
 *       leader (broker 0, epoch 0) at HOST:PORT as replica 1 until its log end offset and high
 *       watermark are LEO, then unfollows, destroys the fetcher and closes the partition.
 *       Prints "truncated: A -> B" whenever the log end offset falls, and at the end
 *       "follower: log end offset L high watermark H"; exits 1 after SECONDS (default 30)
 *       without getting there. $RF_MAX_BYTES sets the fetch sizes (default 1 MiB).
 *   replica_follow seed DIR EPOCH BATCHES HW
 *       appends BATCHES batches of 2 records as a leader of EPOCH would have stamped them
 *       (APPEND_REPLICA, from the log end offset), then sets the high watermark to HW: a
 *       divergent tail for the follower to truncate.
 *   replica_follow export DIR OUT
 *       writes every batch from log start to log end of the partition in DIR to OUT, as
 *       stored, and prints "log end offset L epochs E:S,...".
 * Exits 0 on success, 1 on failure, 2 on usage errors.
 */
#include "base/clock.h"
#include "base/errors.h"
#include "io/reactor.h"
#include "log/partition.h"
#include "replication/fetcher.h"
#include "tests/support/batches.h"
#include "tests/support/logtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct reactor *r;
static struct partition *part;
static int64_t last_leo;
static bool unfollowed, destroyed;

static void on_progress(struct fetcher_partition *fp)
{
	int64_t leo = partition_log_end_offset(fp->part);
	if (leo < last_leo)
		printf("truncated: %lld -> %lld\n", (long long)last_leo, (long long)leo);
	last_leo = leo;
	fflush(stdout);
}

static void on_error(struct fetcher_partition *fp, int16_t code)
{
	(void)fp;
	fprintf(stderr, "replica_follow: the leader answered error %d\n", code);
}

static void on_unfollowed(struct fetcher_partition *fp)
{
	(void)fp;
	unfollowed = true;
}

static void on_destroyed(void *arg)
{
	(void)arg;
	destroyed = true;
}

static int open_part(const char *dir)
{
	struct partition_config cfg;
	partition_config_default(&cfg);
	int rc = reactor_create(&r);
	if (rc == 0)
		rc = partition_open(r, dir, &cfg, &part);
	if (rc < 0)
		fprintf(stderr, "replica_follow: %s: %s\n", dir, tape_strerror(rc));
	return rc;
}

static int follow(char **argv, int argc)
{
	if (open_part(argv[0]) < 0)
		return 1;
	int64_t want = atoll(argv[5]);
	int64_t deadline = clock_mono_ms() + 1000 * (argc > 6 ? atoll(argv[6]) : 30);
	struct fetcher_config cfg;
	fetcher_config_default(&cfg, 1);
	cfg.max_wait_ms = 200;
	cfg.backoff_ms = 200;
	const char *mb = getenv("RF_MAX_BYTES");
	if (mb)
		cfg.max_bytes = cfg.partition_max_bytes = atoi(mb);
	struct replica_fetcher *f;
	if (fetcher_create(r, &cfg, &f) < 0)
		return 1;
	struct fetcher_partition fp = {
		.topic = argv[3],
		.partition = atoi(argv[4]),
		.part = part,
		.progress = on_progress,
		.error = on_error,
	};
	last_leo = partition_log_end_offset(part);
	if (fetcher_follow(f, &fp, 0, argv[1], atoi(argv[2]), 0) < 0)
		return 1;
	while (clock_mono_ms() < deadline &&
	       (partition_log_end_offset(part) != want || partition_high_watermark(part) != want))
		reactor_run_once(r, 100 * 1000000);
	fetcher_unfollow(f, &fp, on_unfollowed);
	reactor_run_until(r, &unfollowed);
	fetcher_destroy(f, on_destroyed, NULL);
	reactor_run_until(r, &destroyed);
	int64_t leo = partition_log_end_offset(part), hw = partition_high_watermark(part);
	printf("follower: log end offset %lld high watermark %lld\n", (long long)leo,
	       (long long)hw);
	partition_close(part);
	reactor_destroy(r);
	return unfollowed && destroyed && leo == want && hw == want ? 0 : 1;
}

static int appended_err = 1;
static void on_appended(struct partition_append *a, int err)
{
	(void)a;
	appended_err = err;
}

static int seed(char **argv)
{
	if (open_part(argv[0]) < 0)
		return 1;
	int32_t epoch = atoi(argv[1]);
	int batches = atoi(argv[2]);
	for (int i = 0; i < batches; i++) {
		uint8_t *b;
		size_t len = test_batch_simple(2, 50, clock_wall_ms(), &b);
		record_batch_set_base_offset(b, partition_log_end_offset(part));
		record_batch_set_leader_epoch(b, epoch);
		struct partition_append a = {
			.batches = b,
			.len = (uint32_t)len,
			.origin = APPEND_REPLICA,
			.done = on_appended,
		};
		appended_err = 1;
		int rc = partition_append(part, &a);
		lt_drain(r);
		free(b);
		if (rc < 0 || appended_err) {
			fprintf(stderr, "replica_follow: seed append: %s\n",
			        tape_strerror(rc < 0 ? rc : appended_err));
			return 1;
		}
	}
	partition_set_high_watermark(part, atoll(argv[3]));
	printf("seeded: log end offset %lld\n", (long long)partition_log_end_offset(part));
	partition_close(part);
	reactor_destroy(r);
	return 0;
}

static int export(char **argv)
{
	if (open_part(argv[0]) < 0)
		return 1;
	int64_t leo = partition_log_end_offset(part);
	uint8_t *data = NULL;
	size_t len = 0;
	int rc =
	    leo > partition_log_start_offset(part) ? lt_read_all(r, part, leo, &data, &len) : 0;
	if (rc < 0) {
		fprintf(stderr, "replica_follow: read: %s\n", tape_strerror(rc));
		return 1;
	}
	lt_file_write(argv[1], data, len);
	free(data);
	printf("log end offset %lld epochs", (long long)leo);
	const struct leader_epoch_cache *c = partition_epochs(part);
	for (size_t i = 0; i < c->count; i++)
		printf("%s%d:%lld", i ? "," : " ", c->entries[i].epoch,
		       (long long)c->entries[i].start_offset);
	printf("\n");
	partition_close(part);
	reactor_destroy(r);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 8 && strcmp(argv[1], "follow") == 0)
		return follow(argv + 2, argc - 2);
	if (argc == 6 && strcmp(argv[1], "seed") == 0)
		return seed(argv + 2);
	if (argc == 4 && strcmp(argv[1], "export") == 0)
		return export(argv + 2);
	fprintf(stderr, "usage: replica_follow follow DIR HOST PORT TOPIC PARTITION LEO [SECONDS]\n"
	                "       replica_follow seed DIR EPOCH BATCHES HW\n"
	                "       replica_follow export DIR OUT\n");
	return 2;
}
