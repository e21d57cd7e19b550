/*
 * tests/unit/log/test_compaction.c: log compaction through a real reactor into a temp
 * directory, with 4 KiB segments so a few hundred records span several of them.
 *
 * Each test appends keyed records while a model remembers every record at the offset it got,
 * compacts, and reads the whole log back through log_read: the bytes of every range are read
 * from its descriptor, every batch is CRC-checked and its records iterated (decompressed when
 * needed), and the list is compared, record by record, with what the model says must remain:
 * below the active segment the latest record of every key at its original offset, null-key
 * records always, tombstones only while younger than delete.retention.ms; every record of the
 * active segment. Also covered: each codec rewritten with its own codec; a second run rewrites
 * nothing; the digests on disk verify; reopening gives the same records; a crash after any
 * step of the file protocol recovers a whole segment, old or new; a failed or closing
 * partition throws the results away; a read in flight while its segment is replaced starts
 * over on the new one.
 */
#include "base/clock.h"
#include "base/errors.h"
#include "base/limits.h"
#include "io/reactor.h"
#include "log/compaction.h"
#include "log/log_read.h"
#include "log/partition.h"
#include "log/partition_internal.h"
#include "log/segment.h"
#include "protocol/compression.h"
#include "protocol/record_batch.h"
#include "tests/support/batches.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOW_MS 10000000000ll /* the wall clock the tests compact at */
#define RETENTION_MS 60000   /* delete.retention.ms */
#define HORIZON_MS (NOW_MS - RETENTION_MS)
#define OLD_MS 1000ll /* timestamps of records written "long ago" */

struct rec {
	int64_t offset;
	int64_t timestamp;
	bool null_key, tombstone;
	char key[24];
	char value[64];
	int codec; /* of its batch */
};

struct recs {
	struct rec *v;
	size_t n, cap;
};

static struct reactor *r;
static char *dir;
static struct partition_config cfg;
static struct partition *p;
static struct recs model;
static uint64_t rng;

/* What read_all saw besides the records. */
static struct {
	unsigned batches;
	unsigned partial; /* batches with fewer records than offsets: rewritten */
} seen;

static void setup(void)
{
	cr_assert_eq(reactor_create(&r), 0);
	dir = test_tmpdir("compaction");
	partition_config_default(&cfg);
	cfg.segment_bytes = SEGMENT_BYTES_MIN;
	cfg.cleanup_compact = true;
	cfg.cleanup_delete = false;
	cfg.delete_retention_ms = RETENTION_MS;
	memset(&model, 0, sizeof(model));
	p = NULL;
	rng = 88172645463325252ull;
}

static void teardown(void)
{
	if (p)
		partition_close(p);
	p = NULL;
	reactor_destroy(r);
	test_rmdir(dir);
	free(model.v);
}

TestSuite(compaction, .init = setup, .fini = teardown, .timeout = 60);

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void recs_push(struct recs *rs, const struct rec *x)
{
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 256;
		rs->v = realloc(rs->v, rs->cap * sizeof(*rs->v));
		cr_assert(rs->v);
	}
	rs->v[rs->n++] = *x;
}

/* ---- appending, with the model ---------------------------------------------------------- */

#define BATCH_RECORDS_MAX 16

struct appending {
	struct partition_append a;
	uint8_t *buf;
	struct rec recs[BATCH_RECORDS_MAX];
	int n;
	int calls, err;
	struct appending *next;
};

static struct appending *appends_head, *appends_tail;

static void on_append(struct partition_append *a, int err)
{
	struct appending *x = (struct appending *)a;
	x->calls++;
	x->err = err;
}

/* Drains the reactor and puts the appended records, at their offsets, in the model. */
static void settle(void)
{
	cr_assert_eq(reactor_drain(r), 0);
	while (appends_head) {
		struct appending *x = appends_head;
		appends_head = x->next;
		cr_assert_eq(x->calls, 1);
		cr_assert_eq(x->err, 0);
		for (int i = 0; i < x->n; i++) {
			x->recs[i].offset = x->a.base_offset + i;
			recs_push(&model, &x->recs[i]);
		}
		free(x->buf);
		free(x);
	}
	appends_tail = NULL;
}

/* Appends one batch (a NULL key is a null key, a NULL value a tombstone) at timestamp ts. */
static void append(const struct test_record *trs, int n, int64_t ts, int codec)
{
	cr_assert_leq(n, BATCH_RECORDS_MAX);
	struct appending *x = calloc(1, sizeof(*x));
	cr_assert(x);
	x->a.len = (uint32_t)test_batch_records(trs, n, ts, codec, &x->buf);
	x->a.batches = x->buf;
	x->a.done = on_append;
	x->a.origin = APPEND_CLIENT;
	x->n = n;
	for (int i = 0; i < n; i++) {
		struct rec *rc = &x->recs[i];
		rc->timestamp = ts + i;
		rc->null_key = !trs[i].key;
		rc->tombstone = !trs[i].value;
		rc->codec = codec;
		snprintf(rc->key, sizeof(rc->key), "%s", trs[i].key ? trs[i].key : "");
		snprintf(rc->value, sizeof(rc->value), "%s", trs[i].value ? trs[i].value : "");
	}
	cr_assert_eq(partition_append(p, &x->a), 0);
	if (appends_tail)
		appends_tail->next = x;
	else
		appends_head = x;
	appends_tail = x;
}

/* batches of per_batch records with keys drawn at random from "key-0" ... "key-<keys - 1>". */
static void write_random_keys(int batches, int keys, int per_batch, int codec)
{
	for (int b = 0; b < batches; b++) {
		struct test_record trs[BATCH_RECORDS_MAX];
		char k[BATCH_RECORDS_MAX][24], v[BATCH_RECORDS_MAX][64];
		for (int j = 0; j < per_batch; j++) {
			snprintf(k[j], sizeof(k[j]), "key-%d",
			         (int)(next_random() % (uint64_t)keys));
			snprintf(v[j], sizeof(v[j]), "value-%d-%d-%016llx", b, j,
			         (unsigned long long)next_random());
			trs[j] = (struct test_record){ k[j], v[j] };
		}
		append(trs, per_batch, OLD_MS + b * per_batch, codec);
		if (b % 50 == 49)
			settle();
	}
	settle();
}

/* ---- reading everything back ------------------------------------------------------------ */

static bool read_flag;
static int read_err;
static void on_read(struct log_read *rd, int err)
{
	(void)rd;
	read_flag = true;
	read_err = err;
}

/* The records of one batch, checked: CRC, offsets within the batch, maxTimestamp. */
static void batch_records(const uint8_t *b, uint32_t size, struct recs *out)
{
	struct record_batch_header h;
	cr_assert_eq(record_batch_validate(b, size, RB_CHECK_CRC, &h), 0);
	int codec = record_batch_codec(&h);
	const uint8_t *records = b + RB_RECORDS;
	size_t len = size - RB_RECORDS;
	struct compression_buf plain = { 0 };
	if (codec) {
		cr_assert_eq(compression_decompress(codec, records, len, &plain, 1 << 26), 0);
		records = plain.p;
		len = plain.len;
	}
	struct record_iter it;
	struct record rec;
	record_iter_init(&it, records, len, h.records_count);
	int rc;
	int64_t max_ts = -1;
	while ((rc = record_iter_next(&it, &rec)) == 1) {
		struct rec x = {
			.offset = h.base_offset + rec.offset_delta,
			.timestamp = h.base_timestamp + rec.timestamp_delta,
			.null_key = rec.key_len < 0,
			.tombstone = rec.value_len < 0,
			.codec = codec,
		};
		cr_assert_leq(rec.offset_delta, h.last_offset_delta);
		snprintf(x.key, sizeof(x.key), "%.*s", rec.key_len > 0 ? rec.key_len : 0,
		         (const char *)rec.key);
		snprintf(x.value, sizeof(x.value), "%.*s", rec.value_len > 0 ? rec.value_len : 0,
		         (const char *)rec.value);
		if (x.timestamp > max_ts)
			max_ts = x.timestamp;
		recs_push(out, &x);
	}
	cr_assert_eq(rc, 0);
	if (!(h.attributes & RB_ATTR_LOG_APPEND_TIME))
		cr_assert_eq(h.max_timestamp, max_ts, "maxTimestamp recomputed");
	seen.batches++;
	if (h.records_count < h.last_offset_delta + 1)
		seen.partial++;
	free(plain.p);
}

/* Reads the batches of every range of a result; returns the offset after the last one. */
static int64_t ranges_records(const struct log_read *rd, int64_t from, struct recs *out)
{
	int64_t next = from;
	for (unsigned i = 0; i < rd->ranges_count; i++) {
		uint32_t len = rd->ranges[i].len;
		uint8_t *buf = malloc(len);
		cr_assert_eq(pread(rd->ranges[i].fd, buf, len, (off_t)rd->ranges[i].position),
		             (ssize_t)len);
		for (uint32_t pos = 0; pos < len;) {
			cr_assert_geq(len - pos, RB_HEADER_BYTES);
			struct record_batch_header h;
			record_batch_header_read(buf + pos, &h);
			uint32_t size = record_batch_size(&h);
			cr_assert_leq(pos + size, len, "a batch is cut");
			cr_assert_geq(record_batch_last_offset(&h), next, "offsets go back");
			size_t before = out->n;
			batch_records(buf + pos, size, out);
			for (size_t k = before; k < out->n; k++)
				cr_assert_geq(out->v[k].offset, next);
			next = record_batch_last_offset(&h) + 1;
			pos += size;
		}
		free(buf);
	}
	return next;
}

static int start_read(struct log_read *rd, int64_t offset, int64_t max_offset)
{
	memset(rd, 0, sizeof(*rd));
	rd->offset = offset;
	rd->max_bytes = 1 << 30;
	rd->max_offset = max_offset;
	rd->done = on_read;
	read_flag = false;
	return log_read_start(p, rd);
}

/* The batches wholly in [log start, end), record by record. */
static void read_until(int64_t end, struct recs *out)
{
	memset(&seen, 0, sizeof(seen));
	out->n = 0;
	int64_t offset = partition_log_start_offset(p);
	while (offset < end) {
		struct log_read rd;
		int rc = start_read(&rd, offset, end);
		if (rc == 1) {
			cr_assert_eq(reactor_run_until(r, &read_flag), 0);
			rc = read_err;
		}
		cr_assert_eq(rc, 0, "read at %lld: %s", (long long)offset, tape_strerror(rc));
		bool empty = rd.ranges_count == 0;
		offset = ranges_records(&rd, offset, out);
		log_read_release(&rd);
		if (empty)
			break;
	}
}

/* The whole log, [log start, LEO). */
static void read_all(struct recs *out)
{
	read_until(partition_log_end_offset(p), out);
}

/* ---- what must remain ------------------------------------------------------------------- */

/*
 * The model after a compaction that mapped the records below map_to and cleaned those in
 * [clean_from, clean_to) with the tombstone horizon: a cleaned record stays when its key is
 * null, or when no later record below map_to has its key and it is not a tombstone older
 * than the horizon.
 */
static void expect(int64_t clean_from, int64_t clean_to, int64_t map_to, int64_t horizon,
                   struct recs *out)
{
	out->n = 0;
	for (size_t i = 0; i < model.n; i++) {
		const struct rec *x = &model.v[i];
		bool keep = true;
		if (x->offset >= clean_from && x->offset < clean_to && !x->null_key) {
			for (size_t j = i + 1; j < model.n && model.v[j].offset < map_to; j++)
				if (!model.v[j].null_key && strcmp(model.v[j].key, x->key) == 0)
					keep = false;
			if (x->tombstone && x->timestamp < horizon)
				keep = false;
		}
		if (keep)
			recs_push(out, x);
	}
}

static void same(const struct recs *want, const struct recs *got)
{
	for (size_t i = 0; i < want->n && i < got->n; i++) {
		const struct rec *w = &want->v[i], *g = &got->v[i];
		cr_assert_eq(g->offset, w->offset, "record %zu: offset %lld, want %lld", i,
		             (long long)g->offset, (long long)w->offset);
		cr_assert_eq(g->null_key, w->null_key, "offset %lld", (long long)w->offset);
		cr_assert_eq(g->tombstone, w->tombstone, "offset %lld", (long long)w->offset);
		cr_assert_str_eq(g->key, w->key, "offset %lld", (long long)w->offset);
		cr_assert_str_eq(g->value, w->value, "offset %lld", (long long)w->offset);
		cr_assert_eq(g->timestamp, w->timestamp, "offset %lld", (long long)w->offset);
		cr_assert_eq(g->codec, w->codec, "offset %lld: codec", (long long)w->offset);
	}
	cr_assert_eq(got->n, want->n, "%zu records, want %zu", got->n, want->n);
}

/* Reads everything and compares with the model compacted below limit at the horizon. */
static void check_compacted(int64_t limit, int64_t horizon)
{
	struct recs want = { 0 }, got = { 0 };
	expect(0, limit, limit, horizon, &want);
	read_all(&got);
	same(&want, &got);
	free(want.v);
	free(got.v);
}

/* ---- compacting -------------------------------------------------------------------------- */

struct compact_wait {
	bool done;
	int calls;
	int err;
};

static void on_compacted(void *arg, int err)
{
	struct compact_wait *w = arg;
	w->done = true;
	w->calls++;
	w->err = err;
}

static int compact(int64_t now_ms)
{
	struct compact_wait w = { 0 };
	int rc = partition_compact(p, now_ms, on_compacted, &w);
	if (rc < 0)
		return rc;
	cr_assert_eq(reactor_run_until(r, &w.done), 0);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(w.calls, 1);
	return w.err;
}

/* Sets HW = LEO and returns the active segment's base: the end of the cleanable range. */
static int64_t all_committed(void)
{
	partition_set_high_watermark(p, partition_log_end_offset(p));
	return partition_active(p)->base_offset;
}

static void segment_file(char *path, size_t cap, int64_t base, const char *suffix)
{
	cr_assert_eq(segment_path(path, cap, dir, base, suffix), 0);
}

/* The .digest of every sealed segment matches its .log. */
static void verify_digests(void)
{
	for (unsigned i = 0; i + 1 < p->segs_count; i++) {
		int64_t base = p->segs[i]->base_offset;
		struct hash128 want, got;
		uint64_t size;
		cr_assert_eq(segment_read_digest(dir, base, &want, &size), 0, "segment %lld",
		             (long long)base);
		char path[4096];
		segment_file(path, sizeof(path), base, ".log");
		int fd = open(path, O_RDONLY);
		cr_assert(fd >= 0);
		struct stat st;
		cr_assert_eq(fstat(fd, &st), 0);
		cr_assert_eq((uint64_t)st.st_size, size);
		cr_assert_eq(segment_digest(fd, size, &got), 0);
		cr_assert(want.low == got.low && want.high == got.high, "segment %lld digest",
		          (long long)base);
		close(fd);
	}
}

static ino_t log_inode(int64_t base)
{
	char path[4096];
	segment_file(path, sizeof(path), base, ".log");
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	return st.st_ino;
}

/* No leftover .cleaned or .swap file. */
static void no_leftovers(void)
{
	DIR *d = opendir(dir);
	cr_assert(d);
	struct dirent *de;
	while ((de = readdir(d)))
		cr_assert(!strstr(de->d_name, ".cleaned") && !strstr(de->d_name, ".swap"), "%s",
		          de->d_name);
	closedir(d);
}

static void reopen(void)
{
	partition_close(p);
	p = NULL;
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
}

/* ---- tests ------------------------------------------------------------------------------- */

Test(compaction, latest_record_per_key_at_original_offsets)
{
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	write_random_keys(150, 20, 4, COMPRESSION_NONE);
	cr_assert_gt(partition_segments_count(p), 5);
	int64_t limit = all_committed();
	uint64_t size_before = partition_size_bytes(p);

	cr_assert_eq(compact(NOW_MS), 0);
	check_compacted(limit, HORIZON_MS);
	cr_assert_gt(seen.partial, 0, "some batches were rewritten in part");
	cr_assert_lt(partition_size_bytes(p), size_before);
	/* Exactly one record per key below the active segment, and the active one untouched. */
	struct recs got = { 0 };
	read_all(&got);
	unsigned below = 0, above = 0, model_above = 0;
	for (size_t i = 0; i < got.n; i++) {
		if (got.v[i].offset >= limit) {
			above++;
			continue;
		}
		below++;
		for (size_t j = i + 1; j < got.n && got.v[j].offset < limit; j++)
			cr_assert_str_neq(got.v[i].key, got.v[j].key);
	}
	for (size_t i = 0; i < model.n; i++)
		model_above += model.v[i].offset >= limit;
	cr_assert_eq(below, 20);
	cr_assert_eq(above, model_above);
	verify_digests();
	no_leftovers();

	/* A second run finds nothing to change and rewrites no file. */
	unsigned n = p->segs_count;
	ino_t inodes[64];
	cr_assert_lt(n, 64);
	for (unsigned i = 0; i < n; i++)
		inodes[i] = log_inode(p->segs[i]->base_offset);
	cr_assert_eq(compact(NOW_MS), 0);
	for (unsigned i = 0; i < n; i++)
		cr_assert_eq(log_inode(p->segs[i]->base_offset), inodes[i]);
	check_compacted(limit, HORIZON_MS);

	/* Reopened: the same records, and the digests verify. */
	reopen();
	check_compacted(limit, HORIZON_MS);
	verify_digests();
	free(got.v);
}

Test(compaction, tombstones_expire_and_null_keys_stay)
{
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	char k[10][16];
	for (int i = 0; i < 10; i++)
		snprintf(k[i], sizeof(k[i]), "k%d", i);
	/* Values for k0..k9, with null-key records (one a null value too) among them. */
	for (int round = 0; round < 3; round++) {
		struct test_record trs[12];
		char v[10][32];
		for (int i = 0; i < 10; i++) {
			snprintf(v[i], sizeof(v[i]), "v%d-%d", i, round);
			trs[i] = (struct test_record){ k[i], v[i] };
		}
		trs[10] = (struct test_record){ NULL, "no key" };
		trs[11] = (struct test_record){ NULL, NULL };
		append(trs, 12, OLD_MS + 100 * round, COMPRESSION_NONE);
	}
	/* Old tombstones for k0..k4, young ones for k5..k7. */
	struct test_record old_tombs[5], young_tombs[3];
	for (int i = 0; i < 5; i++)
		old_tombs[i] = (struct test_record){ k[i], NULL };
	for (int i = 0; i < 3; i++)
		young_tombs[i] = (struct test_record){ k[5 + i], NULL };
	append(old_tombs, 5, OLD_MS + 500, COMPRESSION_NONE);
	append(young_tombs, 3, NOW_MS - 10, COMPRESSION_NONE);
	settle();
	/* Unique keys after them, so that the tombstones end up in sealed segments. */
	for (int i = 0; i < 60; i++) {
		char fk[24], fv[64];
		snprintf(fk, sizeof(fk), "filler-%d", i);
		snprintf(fv, sizeof(fv), "%048d", i);
		struct test_record t = { fk, fv };
		append(&t, 1, OLD_MS + 1000 + i, COMPRESSION_NONE);
	}
	settle();
	int64_t limit = all_committed();
	cr_assert_gt(limit, model.v[12 * 3 + 5 + 3 - 1].offset, "the tombstones are sealed");

	/* Early on every tombstone is young: each stays as the latest record of its key. */
	cr_assert_eq(compact(OLD_MS + 2000), 0);
	check_compacted(limit, OLD_MS + 2000 - RETENTION_MS);
	/* Later the old ones go, and with them every record of their keys. */
	cr_assert_eq(compact(NOW_MS), 0);
	check_compacted(limit, HORIZON_MS);
	struct recs got = { 0 };
	read_all(&got);
	unsigned null_keys = 0, per_key[10] = { 0 };
	for (size_t i = 0; i < got.n; i++) {
		if (got.v[i].null_key) {
			null_keys++;
			continue;
		}
		for (int j = 0; j < 10; j++)
			if (strcmp(got.v[i].key, k[j]) == 0) {
				per_key[j]++;
				cr_assert_eq(got.v[i].tombstone, j >= 5 && j <= 7);
			}
	}
	cr_assert_eq(null_keys, 6);
	for (int j = 0; j < 10; j++)
		cr_assert_eq(per_key[j], j < 5 ? 0 : 1, "k%d", j);
	free(got.v);
}

Test(compaction, log_append_time_tombstones_use_the_batch_time)
{
	cfg.log_append_time = true;
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	int64_t wall = clock_wall_ms();
	struct test_record put = { "gone", "value" }, tomb = { "gone", NULL };
	append(&put, 1, OLD_MS, COMPRESSION_NONE);
	append(&tomb, 1, OLD_MS, COMPRESSION_NONE); /* old producer time, fresh append time */
	for (int i = 0; i < 40; i++) {
		char fk[24], fv[64];
		snprintf(fk, sizeof(fk), "filler-%d", i);
		snprintf(fv, sizeof(fv), "%048d", i);
		struct test_record t = { fk, fv };
		append(&t, 1, OLD_MS, COMPRESSION_NONE);
	}
	settle();
	all_committed();
	struct recs got = { 0 };
	cr_assert_eq(compact(wall), 0);
	read_all(&got);
	cr_assert_eq(got.v[0].offset, 1, "the value went, the young tombstone stays");
	cr_assert(got.v[0].tombstone);
	cr_assert_eq(compact(wall + 10 * RETENTION_MS), 0);
	read_all(&got);
	cr_assert_str_eq(got.v[0].key, "filler-0", "the tombstone went");
	cr_assert_eq(got.n, 40);
	free(got.v);
}

static void run_codec(int codec)
{
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	write_random_keys(100, 25, 8, codec);
	cr_assert_gt(partition_segments_count(p), 3);
	int64_t limit = all_committed();
	cr_assert_eq(compact(NOW_MS), 0);
	/* expect() keeps each record's codec from the model: every batch kept its own. */
	check_compacted(limit, HORIZON_MS);
	cr_assert_gt(seen.partial, 0, "some %s batches were rewritten in part",
	             compression_name(codec));
	verify_digests();
	reopen();
	check_compacted(limit, HORIZON_MS);
}

Test(compaction, gzip_batches_recompressed_with_gzip)
{
	run_codec(COMPRESSION_GZIP);
}
Test(compaction, snappy_batches_recompressed_with_snappy)
{
	run_codec(COMPRESSION_SNAPPY);
}
Test(compaction, lz4_batches_recompressed_with_lz4)
{
	run_codec(COMPRESSION_LZ4);
}
Test(compaction, zstd_batches_recompressed_with_zstd)
{
	run_codec(COMPRESSION_ZSTD);
}

/*
 * A crash after a step of the file protocol: the log is written and closed, the blocking steps
 * run on its files for the first segment up to the step, then the partition is opened as after
 * a crash. last < 0: only the .cleaned file; last > COMPACTION_LOG_REPLACED: the new segment
 * sealed too.
 */
static void crash_after(int last)
{
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	write_random_keys(150, 20, 4, COMPRESSION_NONE);
	int64_t limit = all_committed();
	unsigned sealed = p->segs_count - 1;
	cr_assert_geq(sealed, 3);
	int64_t bases[64];
	cr_assert_lt(sealed, 64);
	for (unsigned i = 0; i < sealed; i++)
		bases[i] = p->segs[i]->base_offset;
	partition_close(p);
	p = NULL;

	struct compaction_map *map;
	cr_assert_eq(compaction_map_new((uint64_t)limit, &map), 0);
	int fd0 = -1;
	uint64_t size0 = 0;
	for (unsigned i = 0; i < sealed; i++) {
		char path[4096];
		segment_file(path, sizeof(path), bases[i], ".log");
		int fd = open(path, O_RDONLY);
		cr_assert(fd >= 0);
		struct stat st;
		cr_assert_eq(fstat(fd, &st), 0);
		cr_assert_eq(compaction_map_segment(map, fd, (uint64_t)st.st_size), 0);
		if (i == 0) {
			fd0 = fd;
			size0 = (uint64_t)st.st_size;
		} else {
			close(fd);
		}
	}
	bool rewritten;
	cr_assert_eq(
	    compaction_clean_segment(map, dir, bases[0], fd0, size0, HORIZON_MS, &rewritten), 0);
	cr_assert(rewritten);
	char path[4096];
	segment_file(path, sizeof(path), bases[0], ".cleaned");
	cr_assert_eq(access(path, F_OK), 0);
	if (last >= 0)
		cr_assert_eq(compaction_swap(
		                 dir, bases[0],
		                 last > COMPACTION_LOG_REPLACED ? COMPACTION_LOG_REPLACED : last),
		             0);
	if (last > COMPACTION_LOG_REPLACED) {
		struct segment *seg;
		cr_assert_eq(compaction_open_cleaned(dir, bases[0], cfg.index_interval_bytes, &seg),
		             0);
		segment_free(seg);
	}
	close(fd0);
	compaction_map_free(map);

	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	no_leftovers();
	bool now_new = last >= COMPACTION_SWAP_NAMED;
	struct recs want = { 0 }, got = { 0 };
	if (now_new)
		expect(bases[0], bases[1], limit, HORIZON_MS, &want);
	else
		expect(0, 0, limit, HORIZON_MS, &want);
	read_all(&got);
	same(&want, &got);
	verify_digests();

	/* And a whole compaction from there gives what one from the start would have. */
	limit = all_committed();
	cr_assert_eq(compact(NOW_MS), 0);
	check_compacted(limit, HORIZON_MS);
	verify_digests();
	free(want.v);
	free(got.v);
}

Test(compaction, crash_with_cleaned_file_keeps_old_segment)
{
	crash_after(-1);
}
Test(compaction, crash_after_sidecars_removed_keeps_old_segment)
{
	crash_after(COMPACTION_SIDECARS_REMOVED);
}
Test(compaction, crash_with_swap_file_installs_new_segment)
{
	crash_after(COMPACTION_SWAP_NAMED);
}
Test(compaction, crash_after_log_replaced_rebuilds_sidecars)
{
	crash_after(COMPACTION_LOG_REPLACED);
}
Test(compaction, crash_after_sealing_new_segment)
{
	crash_after(COMPACTION_LOG_REPLACED + 1);
}

Test(compaction, refused_while_busy_failed_or_not_compact)
{
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	write_random_keys(60, 10, 4, COMPRESSION_NONE);
	all_committed();
	struct compact_wait w = { 0 };
	cr_assert_eq(partition_compact(p, NOW_MS, on_compacted, &w), 0);
	cr_assert_eq(partition_compact(p, NOW_MS, on_compacted, &w), -TAPE_EBUSY);
	cr_assert_eq(reactor_run_until(r, &w.done), 0);
	cr_assert_eq(w.err, 0);
	cr_assert_eq(w.calls, 1);

	cfg.cleanup_compact = false;
	cr_assert_eq(partition_set_config(p, &cfg), 0);
	cr_assert_eq(partition_compact(p, NOW_MS, NULL, NULL), -TAPE_ECONFIG);
	cfg.cleanup_compact = true;
	cr_assert_eq(partition_set_config(p, &cfg), 0);

	/* Nothing below the high watermark: nothing to do, and done still follows. */
	partition_set_high_watermark(p, 0);
	cr_assert_eq(compact(NOW_MS), 0);

	partition_fail(p, -EIO);
	cr_assert_eq(partition_compact(p, NOW_MS, NULL, NULL), -TAPE_EFAILED);
}

Test(compaction, failed_during_run_keeps_serving_old_segments)
{
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	write_random_keys(150, 20, 4, COMPRESSION_NONE);
	int64_t limit = all_committed();
	struct compact_wait w = { 0 };
	cr_assert_eq(partition_compact(p, NOW_MS, on_compacted, &w), 0);
	partition_fail(p, -EIO);
	cr_assert_eq(reactor_run_until(r, &w.done), 0);
	cr_assert_eq(w.err, -TAPE_EFAILED);
	/* The old segments read their old inodes: every record is still there. */
	check_compacted(0, INT64_MIN);
	/* The files were rewritten: reopened from disk, the partition is compacted. */
	reopen();
	check_compacted(limit, HORIZON_MS);
	verify_digests();
}

Test(compaction, closing_during_run_discards_results)
{
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	write_random_keys(150, 20, 4, COMPRESSION_NONE);
	int64_t limit = all_committed();
	struct compact_wait w = { 0 };
	cr_assert_eq(partition_compact(p, NOW_MS, on_compacted, &w), 0);
	partition_close(p); /* waits for the job */
	p = NULL;
	cr_assert(w.done);
	cr_assert_eq(w.err, -TAPE_ECLOSED);
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	check_compacted(limit, HORIZON_MS);
	verify_digests();
}

/* A helper job queued behind the compaction: with one helper thread, once it runs the
 * compaction's run() has returned, and its done() waits for the next reactor turn. */
static atomic_bool barrier_ran;
static void barrier_run(struct io_job *job)
{
	(void)job;
	atomic_store(&barrier_ran, true);
}
static void barrier_done(struct io_job *job)
{
	(void)job;
}

/* Starts a read (by offset, or by time when ts >= 0) of a record in the middle of the first
 * segment at the moment the compaction's results are about to be installed, so that the read's
 * window comes back after its segment was replaced. */
static void read_across_replacement(int64_t ts, struct log_read *rd, int64_t *limit)
{
	_Static_assert(HELPER_THREADS == 1, "the barrier relies on one helper thread");
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	write_random_keys(150, 20, 4, COMPRESSION_NONE);
	*limit = all_committed();
	struct compact_wait w = { 0 };
	cr_assert_eq(partition_compact(p, NOW_MS, on_compacted, &w), 0);
	struct io_job barrier = { .run = barrier_run, .done = barrier_done };
	atomic_store(&barrier_ran, false);
	reactor_offload(r, &barrier);
	for (int i = 0; i < 30000 && !atomic_load(&barrier_ran); i++)
		usleep(1000);
	cr_assert(atomic_load(&barrier_ran));
	struct segment *first = p->segs[0];
	int64_t offset = first->base_offset + (first->next_offset - first->base_offset) / 2;
	int rc;
	if (ts < 0) {
		rc = start_read(rd, offset, partition_log_end_offset(p));
	} else {
		memset(rd, 0, sizeof(*rd));
		rd->done = on_read;
		read_flag = false;
		rc = log_offset_for_time(p, rd, ts);
	}
	cr_assert_eq(rc, 1, "the read waits for a window");
	cr_assert_eq(reactor_run_until(r, &read_flag), 0);
	cr_assert_eq(read_err, 0);
	cr_assert(w.done);
	cr_assert_eq(w.err, 0);
	cr_assert_neq(p->segs[0], first, "the segment was replaced while the read was in flight");
	rd->offset = offset;
}

Test(compaction, read_in_flight_starts_over_on_the_new_segment)
{
	struct log_read rd;
	int64_t limit;
	read_across_replacement(-1, &rd, &limit);
	struct recs want = { 0 }, got = { 0 };
	expect(0, limit, limit, HORIZON_MS, &want);
	/* The ranges are in the segments of the set now, not in the replaced one. */
	cr_assert_gt(rd.ranges_count, 0);
	for (unsigned k = 0; k < rd.ranges_count; k++) {
		bool member = false;
		for (unsigned s = 0; s < p->segs_count; s++)
			member |= rd.ranges[k].seg == p->segs[s];
		cr_assert(member);
	}
	ranges_records(&rd, 0, &got);
	log_read_release(&rd);
	/* The records returned are the compacted log's, from the first at or after the offset. */
	size_t i = 0, k = 0;
	while (i < want.n && want.v[i].offset < rd.offset)
		i++;
	while (k < got.n && got.v[k].offset < rd.offset)
		k++;
	cr_assert_lt(k, got.n);
	for (; k < got.n; k++, i++) {
		cr_assert_lt(i, want.n);
		cr_assert_eq(got.v[k].offset, want.v[i].offset);
		cr_assert_str_eq(got.v[k].value, want.v[i].value);
	}
	free(want.v);
	free(got.v);
}

Test(compaction, time_lookup_in_flight_starts_over_on_the_new_segment)
{
	struct log_read rd;
	int64_t limit;
	/* Record i of the log has timestamp OLD_MS + i (one batch of 4 per 4 offsets). */
	read_across_replacement(OLD_MS + 9, &rd, &limit);
	struct recs want = { 0 };
	expect(0, limit, limit, HORIZON_MS, &want);
	size_t i = 0;
	while (i < want.n && want.v[i].timestamp < OLD_MS + 9)
		i++;
	cr_assert_eq(rd.found_offset, want.v[i].offset);
	cr_assert_eq(rd.found_timestamp, want.v[i].timestamp);
	log_read_release(&rd);
	free(want.v);
}

Test(compaction, key_map_bound_and_corruption_end_the_range)
{
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	write_random_keys(150, 20, 4, COMPRESSION_NONE);
	int64_t limit = all_committed();
	cr_assert_geq(p->segs_count, 4);

	/* A map too small for the keys of one segment says so. */
	struct compaction_map *map;
	cr_assert_eq(compaction_map_new(5, &map), 0);
	cr_assert_eq(compaction_map_segment(map, p->segs[0]->fd, p->segs[0]->size), 1);
	compaction_map_free(map);

	/* A bad batch in the third segment: only the two before it are compacted, with the keys
	 * mapped up to the bad batch, and the error is reported. */
	struct segment *bad = p->segs[2];
	int64_t bad_base = bad->base_offset;
	uint8_t byte;
	cr_assert_eq(pread(bad->fd, &byte, 1, 30), 1);
	byte ^= 0xff;
	cr_assert_eq(pwrite(bad->fd, &byte, 1, 30), 1);
	cr_assert_eq(compact(NOW_MS), -TAPE_ECORRUPT);
	cr_assert_eq(p->segs[2], bad, "the bad segment is untouched");
	struct recs want = { 0 }, got = { 0 };
	expect(0, bad_base, bad_base, HORIZON_MS, &want);
	size_t n = 0;
	while (n < want.n && want.v[n].offset < bad_base)
		n++;
	want.n = n;
	read_until(bad_base, &got);
	same(&want, &got);
	cr_assert_lt(bad_base, limit);
	free(want.v);
	free(got.v);
}
