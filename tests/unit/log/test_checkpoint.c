/*
 * tests/unit/log/test_checkpoint.c: durable small files. Round trips; every kind of damage
 * (a flipped byte anywhere, truncation at every length, the wrong kind) is refused; a write
 * interrupted between the synced temp file and the rename leaves the old checkpoint valid;
 * a partition opens over a leftover temp file and removes it.
 */
#include "base/errors.h"
#include "io/reactor.h"
#include "log/checkpoint.h"
#include "log/partition.h"
#include "tests/support/batches.h"
#include "tests/support/logtest.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dir;
static void setup(void)
{
	dir = test_tmpdir("ckpt");
}
static void teardown(void)
{
	test_rmdir(dir);
}
TestSuite(checkpoint, .init = setup, .fini = teardown);

static const char payload[] = "recovery point 42, log start 7";

Test(checkpoint, round_trip_and_missing)
{
	uint8_t *out;
	size_t len;
	cr_assert_eq(checkpoint_read(dir, "x", CHECKPOINT_PARTITION, &out, &len), -ENOENT);
	cr_assert_eq(checkpoint_write(dir, "x", CHECKPOINT_PARTITION, payload, sizeof(payload)), 0);
	cr_assert_eq(checkpoint_read(dir, "x", CHECKPOINT_PARTITION, &out, &len), 0);
	cr_assert_eq(len, sizeof(payload));
	cr_assert_eq(memcmp(out, payload, len), 0);
	free(out);
	cr_assert_eq(checkpoint_read(dir, "x", CHECKPOINT_LEADER_EPOCH, &out, &len),
	             -TAPE_ECORRUPT);
	cr_assert_eq(checkpoint_write(dir, "empty", CHECKPOINT_METADATA, NULL, 0), 0);
	cr_assert_eq(checkpoint_read(dir, "empty", CHECKPOINT_METADATA, &out, &len), 0);
	cr_assert_eq(len, 0);
	free(out);
}

Test(checkpoint, every_damage_is_refused)
{
	cr_assert_eq(checkpoint_write(dir, "x", CHECKPOINT_PARTITION, payload, sizeof(payload)), 0);
	char *path = lt_path(dir, "x");
	uint8_t *good;
	size_t n = lt_file_read(path, &good);
	uint8_t *bad = malloc(n);
	uint8_t *out;
	size_t len;
	for (size_t i = 0; i < n; i++)
		for (int bit = 0; bit < 8; bit++) {
			memcpy(bad, good, n);
			bad[i] ^= (uint8_t)(1 << bit);
			lt_file_write(path, bad, n);
			cr_assert_eq(checkpoint_read(dir, "x", CHECKPOINT_PARTITION, &out, &len),
			             -TAPE_ECORRUPT, "byte %zu bit %d", i, bit);
		}
	for (size_t cut = 0; cut < n; cut++) {
		lt_file_write(path, good, cut);
		cr_assert_eq(checkpoint_read(dir, "x", CHECKPOINT_PARTITION, &out, &len),
		             -TAPE_ECORRUPT, "cut at %zu", cut);
	}
	free(bad);
	free(good);
	free(path);
}

Test(checkpoint, interrupted_write_keeps_the_old_one)
{
	cr_assert_eq(checkpoint_write(dir, "x", CHECKPOINT_PARTITION, "old", 3), 0);
	/* The new one is written and synced, but the crash comes before the rename. */
	cr_assert_eq(checkpoint_write_tmp(dir, "x", CHECKPOINT_PARTITION, "new!", 4), 0);
	uint8_t *out;
	size_t len;
	cr_assert_eq(checkpoint_read(dir, "x", CHECKPOINT_PARTITION, &out, &len), 0);
	cr_assert_eq(len, 3);
	cr_assert_eq(memcmp(out, "old", 3), 0);
	free(out);
	/* A torn temp file changes nothing either. */
	char *tmp = lt_path(dir, "x.tmp");
	lt_file_write(tmp, (const uint8_t *)"TAPE", 4);
	cr_assert_eq(checkpoint_read(dir, "x", CHECKPOINT_PARTITION, &out, &len), 0);
	cr_assert_eq(len, 3);
	free(out);
	/* The next full write replaces it. */
	cr_assert_eq(checkpoint_write(dir, "x", CHECKPOINT_PARTITION, "newer", 5), 0);
	cr_assert_eq(checkpoint_read(dir, "x", CHECKPOINT_PARTITION, &out, &len), 0);
	cr_assert_eq(len, 5);
	free(out);
	cr_assert_neq(access(tmp, F_OK), 0);
	free(tmp);
}

Test(checkpoint, partition_opens_over_a_leftover_temp_file)
{
	struct reactor *r;
	cr_assert_eq(reactor_create(&r), 0);
	struct partition_config cfg;
	partition_config_default(&cfg);
	struct partition *p;
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	cr_assert_eq(lt_append_simple(p, 3, 10, 1), 0);
	lt_drain(r);
	partition_close(p);
	char *tmp = lt_path(dir, "partition.checkpoint.tmp");
	lt_file_write(tmp, (const uint8_t *)"garbage", 7);
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	cr_assert_eq(partition_log_end_offset(p), 3);
	cr_assert_neq(access(tmp, F_OK), 0, "leftover temp files are removed");
	partition_close(p);
	free(tmp);
	reactor_destroy(r);
}
