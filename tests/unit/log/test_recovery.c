/*
 * tests/unit/log/test_recovery.c: recovery after a crash, exhaustively.
 *
 * A crash image is the partition directory as it is on disk while the partition is open
 * (no clean close). Each test writes the image into a fresh directory, damages it, opens it,
 * and checks that exactly the valid prefix survives: the log end offset, the bytes read back
 * through the rebuilt indexes, and that no stale byte stays after the cut. Images live on
 * /dev/shm when it exists, because each case opens a partition (and fsyncs) again.
 *
 * Covered: the log cut at every byte position of the last batches; every byte of the last
 * batches flipped; garbage and zeros after the last batch; corruption below the recovery point
 * quarantined (never truncated) with the data after it kept; a lost partition checkpoint.
 */
#include "base/diag.h"
#include "base/errors.h"
#include "io/reactor.h"
#include "log/partition.h"
#include "protocol/record_batch.h"
#include "tests/support/batches.h"
#include "tests/support/logtest.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCHES 12
#define SEGMENT "00000000000000000000.log"

struct image_file {
	char name[256];
	uint8_t *data;
	size_t len;
};

static struct reactor *r;
static struct partition_config cfg;
static struct image_file files[16];
static int files_count;
static uint8_t *log_data; /* the .log's batches, without preallocated zeros */
static size_t log_len;
static size_t batch_pos[BATCHES + 1]; /* batch i at [batch_pos[i], batch_pos[i+1]) */
static int64_t batch_first[BATCHES + 1];

static char *fast_tmpdir(void)
{
	char *saved = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
	if (access("/dev/shm", W_OK) == 0)
		setenv("TMPDIR", "/dev/shm", 1);
	char *d = test_tmpdir("recovery");
	if (saved) {
		setenv("TMPDIR", saved, 1);
		free(saved);
	} else {
		unsetenv("TMPDIR");
	}
	return d;
}

/* Builds a partition with BATCHES batches (reopened once after the first `clean_first`
 * batches) and keeps its crash image. */
static void make_image(int clean_first)
{
	cr_assert_eq(reactor_create(&r), 0);
	partition_config_default(&cfg);
	char *dir = fast_tmpdir();
	struct partition *p;
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	int64_t next = 0;
	for (int i = 0; i < BATCHES; i++) {
		if (i == clean_first) {
			lt_drain(r);
			partition_close(p);
			cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
		}
		int n = 1 + i % 3;
		cr_assert_eq(lt_append_simple(p, n, 30 + (size_t)i * 7, 1000 + i), 0);
		batch_first[i] = next;
		next += n;
		lt_drain(r);
	}
	batch_first[BATCHES] = next;
	/* The image: every file as it is now, the partition still open. */
	DIR *d = opendir(dir);
	struct dirent *de;
	files_count = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		struct image_file *f = &files[files_count++];
		snprintf(f->name, sizeof(f->name), "%s", de->d_name);
		char *path = lt_path(dir, de->d_name);
		f->len = lt_file_read(path, &f->data);
		free(path);
	}
	closedir(d);
	partition_close(p);
	test_rmdir(dir);
	/* The batches in the .log. */
	for (int i = 0; i < files_count; i++)
		if (strcmp(files[i].name, SEGMENT) == 0)
			log_data = files[i].data;
	size_t pos = 0;
	for (int i = 0; i < BATCHES; i++) {
		struct record_batch_header h;
		record_batch_header_read(log_data + pos, &h);
		cr_assert_eq(h.base_offset, batch_first[i]);
		batch_pos[i] = pos;
		pos += record_batch_size(&h);
	}
	batch_pos[BATCHES] = log_len = pos;
}

static void setup(void)
{
	diag_set_level(DIAG_ERROR); /* every case cuts a log: the warnings are expected */
}

static void teardown(void)
{
	for (int i = 0; i < files_count; i++)
		free(files[i].data);
	files_count = 0;
	reactor_destroy(r);
}

/* Writes the image with the .log replaced by seg (seg_len bytes); returns the directory. */
static char *write_image(const uint8_t *seg, size_t seg_len)
{
	char *dir = fast_tmpdir();
	for (int i = 0; i < files_count; i++) {
		char *path = lt_path(dir, files[i].name);
		if (strcmp(files[i].name, SEGMENT) == 0)
			lt_file_write(path, seg, seg_len);
		else
			lt_file_write(path, files[i].data, files[i].len);
		free(path);
	}
	return dir;
}

/* Opens dir and checks that exactly batches [0, keep) survive, byte for byte, readable at
 * every offset through the rebuilt index, with nothing stale after them in the file. */
static void expect_prefix(char *dir, int keep, size_t damaged_len)
{
	struct partition *p;
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	int64_t leo = batch_first[keep];
	cr_assert_eq(partition_log_end_offset(p), leo, "keep %d", keep);
	uint8_t *data;
	size_t len;
	cr_assert_eq(lt_read_all(r, p, leo, &data, &len), 0);
	cr_assert_eq(len, batch_pos[keep]);
	cr_assert(len == 0 || memcmp(data, log_data, len) == 0);
	free(data);
	for (int b = 0; b < keep; b++) {
		int64_t first;
		cr_assert_eq(lt_read_at(r, p, batch_first[b + 1] - 1, &first), 0);
		cr_assert_eq(first, batch_first[b]);
	}
	partition_close(p);
	/* The bytes after the cut are gone: zeros (preallocation) or end of file. */
	char *path = lt_path(dir, SEGMENT);
	uint8_t *file;
	size_t flen = lt_file_read(path, &file);
	for (size_t i = batch_pos[keep]; i < flen && i < damaged_len; i++)
		cr_assert_eq(file[i], 0, "stale byte at %zu", i);
	free(file);
	free(path);
	test_rmdir(dir);
}

/* The batch that holds byte position pos. */
static int batch_at(size_t pos)
{
	int b = 0;
	while (b < BATCHES && batch_pos[b + 1] <= pos)
		b++;
	return b;
}

Test(recovery, cut_at_every_byte_of_the_tail, .init = setup, .fini = teardown)
{
	make_image(BATCHES);
	for (size_t cut = batch_pos[BATCHES - 4]; cut <= log_len; cut++) {
		int keep = batch_at(cut);
		if (cut == log_len)
			keep = BATCHES;
		expect_prefix(write_image(log_data, cut), keep, cut);
	}
}

Test(recovery, cut_followed_by_zeros_or_garbage, .init = setup, .fini = teardown)
{
	make_image(BATCHES);
	uint8_t *buf = malloc(log_len + 4096);
	for (size_t cut = batch_pos[BATCHES - 2]; cut <= log_len; cut += 17) {
		memcpy(buf, log_data, cut);
		memset(buf + cut, 0, 4096);
		int keep = cut == log_len ? BATCHES : batch_at(cut);
		expect_prefix(write_image(buf, cut + 4096), keep, cut + 4096);
		for (size_t i = 0; i < 4096; i++)
			buf[cut + i] = (uint8_t)(i * 131 + cut);
		expect_prefix(write_image(buf, cut + 4096), keep, cut + 4096);
	}
	free(buf);
}

Test(recovery, flip_every_byte_of_the_tail, .init = setup, .fini = teardown)
{
	make_image(BATCHES);
	uint8_t *buf = malloc(log_len);
	for (size_t pos = batch_pos[BATCHES - 3]; pos < log_len; pos++) {
		size_t in_batch = pos - batch_pos[batch_at(pos)];
		/* partitionLeaderEpoch is outside the CRC; a changed epoch cannot be told from a
		 * real one (only a decrease is caught), so it is not flipped here. */
		if (in_batch >= 12 && in_batch < 16)
			continue;
		memcpy(buf, log_data, log_len);
		buf[pos] ^= 0x5a;
		expect_prefix(write_image(buf, log_len), batch_at(pos), log_len);
	}
	free(buf);
}

static int errors_seen;
static void count_errors(enum diag_level level, const char *line, void *arg)
{
	(void)line;
	(void)arg;
	if (level == DIAG_ERROR)
		errors_seen++;
}

Test(recovery, corruption_below_recovery_point_is_quarantined, .init = setup, .fini = teardown)
{
	/* The first 8 batches were there at a clean reopen: the recovery point is after them. */
	make_image(8);
	uint8_t *buf = malloc(log_len);
	memcpy(buf, log_data, log_len);
	int bad = 3;
	buf[batch_pos[bad] + 30] ^= 0xff;
	char *dir = write_image(buf, log_len);
	errors_seen = 0;
	diag_set_sink(count_errors, NULL);
	struct partition *p;
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	diag_set_sink(NULL, NULL);
	cr_assert_geq(errors_seen, 1, "corruption is reported as an error");
	/* Nothing was truncated: the batches after the corrupt one, before and after the
	 * recovery point, are all still there. */
	cr_assert_eq(partition_log_end_offset(p), batch_first[BATCHES]);
	int64_t first;
	cr_assert_eq(lt_read_at(r, p, batch_first[bad], &first), -TAPE_EQUARANTINED);
	cr_assert_eq(lt_read_at(r, p, batch_first[bad + 1] - 1, &first), -TAPE_EQUARANTINED);
	for (int b = 0; b < BATCHES; b++) {
		if (b == bad)
			continue;
		cr_assert_eq(lt_read_at(r, p, batch_first[b], &first), 0, "batch %d", b);
		cr_assert_eq(first, batch_first[b]);
	}
	/* Reading on from the start returns the batches before the quarantined range, then
	 * refuses it. */
	uint8_t *data;
	size_t len;
	cr_assert_eq(lt_read_all(r, p, batch_first[bad], &data, &len), 0);
	cr_assert_eq(len, batch_pos[bad]);
	free(data);
	cr_assert_eq(lt_read_all(r, p, batch_first[BATCHES], &data, &len), -TAPE_EQUARANTINED);
	/* Appends continue after the end. */
	cr_assert_eq(lt_append_simple(p, 2, 10, 5000), 0);
	lt_drain(r);
	cr_assert_eq(partition_log_end_offset(p), batch_first[BATCHES] + 2);
	partition_close(p);
	/* The corrupt bytes are kept on disk, and the quarantine survives a reopen. */
	char *path = lt_path(dir, SEGMENT);
	uint8_t *file;
	lt_file_read(path, &file);
	cr_assert_eq(memcmp(file, buf, log_len), 0);
	free(file);
	free(path);
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	cr_assert_eq(lt_read_at(r, p, batch_first[bad], &first), -TAPE_EQUARANTINED);
	cr_assert_eq(partition_log_end_offset(p), batch_first[BATCHES] + 2);
	partition_close(p);
	test_rmdir(dir);
	free(buf);
}

Test(recovery, corrupt_tail_below_recovery_point_moves_to_new_segment, .init = setup,
     .fini = teardown)
{
	make_image(BATCHES);
	/* Opened once, every batch is below the recovery point; the crash comes while it is
	 * still open, so the next open scans. */
	char *dir = write_image(log_data, log_len);
	struct partition *p;
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	char *crash = lt_crash_copy(dir);
	partition_close(p);
	test_rmdir(dir);
	char *path = lt_path(crash, SEGMENT);
	uint8_t *file;
	size_t flen = lt_file_read(path, &file);
	file[batch_pos[BATCHES - 1] + 40] ^= 1; /* the last batch, below the recovery point */
	lt_file_write(path, file, flen);
	cr_assert_eq(partition_open(r, crash, &cfg, &p), 0);
	/* Nothing committed is cut: the log end stays, the bad batch is refused, and appends
	 * go to a new segment after it. */
	cr_assert_eq(partition_log_end_offset(p), batch_first[BATCHES]);
	cr_assert_eq(partition_segments_count(p), 2);
	int64_t first;
	cr_assert_eq(lt_read_at(r, p, batch_first[BATCHES - 1], &first), -TAPE_EQUARANTINED);
	cr_assert_eq(lt_read_at(r, p, batch_first[BATCHES - 2], &first), 0);
	cr_assert_eq(lt_append_simple(p, 1, 10, 9000), 0);
	lt_drain(r);
	cr_assert_eq(lt_read_at(r, p, batch_first[BATCHES], &first), 0);
	cr_assert_eq(first, batch_first[BATCHES]);
	partition_close(p);
	uint8_t *after;
	lt_file_read(path, &after);
	cr_assert_eq(memcmp(after, file, log_len), 0, "the corrupt bytes are kept");
	free(after);
	free(file);
	free(path);
	test_rmdir(crash);
}

Test(recovery, lost_checkpoint_scans_everything, .init = setup, .fini = teardown)
{
	make_image(BATCHES);
	char *dir = write_image(log_data, log_len);
	char *ck = lt_path(dir, "partition.checkpoint");
	unlink(ck);
	free(ck);
	expect_prefix(dir, BATCHES, log_len);
}

/* Damage after a clean close (no scan is due): the partition still opens instead of failing the
 * broker's start over one partition. A cut inside the last batch breaks the index walk: the
 * segment is scanned and the bad batch quarantined. A flipped byte inside a batch passes the
 * walk (a clean open checks structure, not CRCs): it opens as it is, for `tape verify`. */
Test(recovery, damage_after_a_clean_close_is_quarantined, .init = setup, .fini = teardown)
{
	make_image(BATCHES);
	for (int mode = 0; mode < 2; mode++) {
		char *dir = write_image(log_data, log_len);
		struct partition *p;
		cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
		partition_close(p); /* clean: the next open trusts the indexes */
		char *path = lt_path(dir, SEGMENT);
		uint8_t *file;
		size_t flen = lt_file_read(path, &file);
		if (mode == 0) {
			file[batch_pos[BATCHES - 1] + 40] ^= 1;
		} else {
			flen = batch_pos[BATCHES - 1] + 30;
		}
		lt_file_write(path, file, flen);
		int rc = partition_open(r, dir, &cfg, &p);
		cr_assert_eq(rc, 0, "mode %d: %s", mode, tape_strerror(rc));
		cr_assert_eq(partition_log_end_offset(p), batch_first[BATCHES], "nothing cut");
		int64_t first;
		if (mode == 1) {
			int got = lt_read_at(r, p, batch_first[BATCHES - 1], &first);
			cr_assert_eq(got, -TAPE_EQUARANTINED, "read: %d %s first %lld", got,
			             tape_strerror(got), (long long)first);
		}
		cr_assert_eq(lt_read_at(r, p, batch_first[BATCHES - 2], &first), 0);
		cr_assert_eq(lt_append_simple(p, 1, 10, 9000), 0);
		lt_drain(r);
		partition_close(p);
		free(file);
		free(path);
		test_rmdir(dir);
	}
}
