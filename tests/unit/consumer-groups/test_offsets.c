/*
 * tests/unit/consumer-groups/test_offsets.c: the committed-offset store over real partitions of
 * __consumer_offsets (a real reactor, a temp dir, flush.mode=fsync, compact): the record bytes
 * are Kafka's; Java's String.hashCode picks the partition; a commit is answered and visible
 * only once durable, and a failed write or fsync leaves the view as it was; null, "" and "x"
 * metadata survive a restart; tombstones (DeleteGroups, expiry) delete, also on reload; a crash
 * image, cut at every byte of a commit that was not durable, reloads to exactly the durable
 * commits; compaction keeps the latest record per key and the reloaded view is unchanged; the
 * configured bounds refuse commits, and a load skips records that are not ours.
 *
 * The progress callback does what the broker's does: the high watermark (durable end under
 * fsync), then offset_store_progress for that partition.
 */
#include "base/diag.h"
#include "base/errors.h"
#include "base/limits.h"
#include "consumer-groups/offsets.h"
#include "io/fault.h"
#include "io/reactor.h"
#include "log/compaction.h"
#include "log/partition.h"
#include "protocol/compression.h"
#include "protocol/record_batch.h"
#include "tests/support/batches.h"
#include "tests/support/logtest.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PARTS 4
#define NOW_MS 1700000000000ll
#define DAY_MS (24ll * 3600 * 1000)

static struct reactor *r;
static char *root;
static struct partition *parts[PARTS];
static int32_t slots[PARTS];
static struct partition_config pcfg;
static struct offset_store_config scfg;
static struct offset_store *store;

/* ---- fixtures ---------------------------------------------------------------------------- */

/* Set by a test that moves the high watermark itself, as a cluster's leader does. */
static bool hw_by_hand;

static void progress(struct partition *p, void *arg)
{
	int64_t hw = partition_config(p)->flush_mode == FLUSH_FSYNC ? partition_durable_end(p)
	                                                            : partition_written_end(p);
	if (!hw_by_hand)
		partition_set_high_watermark(p, hw);
	if (store)
		offset_store_progress(store, *(int32_t *)arg);
}

static void open_parts_at(const char *dir)
{
	for (int i = 0; i < PARTS; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s-%d", dir, OFFSETS_TOPIC, i);
		slots[i] = i;
		cr_assert_eq(partition_open(r, path, &pcfg, &parts[i]), 0);
		partition_set_progress(parts[i], progress, &slots[i]);
	}
}

static void close_parts(void)
{
	for (int i = 0; i < PARTS; i++)
		if (parts[i])
			partition_close(parts[i]);
	memset(parts, 0, sizeof(parts));
}

static void open_store(void)
{
	cr_assert_eq(offset_store_open(r, parts, PARTS, &scfg, &store), 0);
	int rc = offset_store_load(store);
	cr_assert_eq(rc, 0, "load: %s", tape_strerror(rc));
}

static void close_store(void)
{
	if (store) {
		cr_assert_eq(offset_store_inflight(store), 0);
		offset_store_close(store);
	}
	store = NULL;
}

/* Close everything cleanly and open it again from root's files. */
static void restart_at(const char *dir)
{
	close_store();
	close_parts();
	open_parts_at(dir);
	open_store();
}

static void setup(void)
{
	cr_assert_eq(reactor_create(&r), 0);
	root = test_tmpdir("offsets");
	partition_config_default(&pcfg);
	pcfg.cleanup_compact = true;
	pcfg.cleanup_delete = false;
	pcfg.flush_mode = FLUSH_FSYNC;
	offset_store_config_default(&scfg);
	store = NULL;
	memset(parts, 0, sizeof(parts));
}

static void teardown(void)
{
	close_store();
	reactor_fault_clear(r);
	close_parts();
	reactor_destroy(r);
	test_rmdir(root);
}

TestSuite(offsets, .init = setup, .fini = teardown, .timeout = 120);

static void start(void)
{
	open_parts_at(root);
	open_store();
}

/* ---- helpers ----------------------------------------------------------------------------- */

struct done_rec {
	int calls;
	int err;
};

static void on_done(void *arg, int err)
{
	struct done_rec *d = arg;
	d->calls++;
	d->err = err;
}

static struct offset_commit_entry entry(const char *topic, int32_t partition, int64_t offset,
                                        const char *metadata)
{
	return (struct offset_commit_entry){
		.topic = kstr_from(topic),
		.partition = partition,
		.offset = offset,
		.leader_epoch = (int32_t)(offset % 7),
		.metadata = kstr_from(metadata),
	};
}

/* Commits and runs the reactor until done; the immediate error, or done's. */
static int commit_at(const char *group, const struct offset_commit_entry *e, size_t n,
                     int64_t now_ms)
{
	struct done_rec d = { 0 };
	int rc = offset_store_commit(store, kstr_from(group), e, n, now_ms, on_done, &d);
	if (rc <= 0)
		return rc;
	cr_assert_eq(rc, 1);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(d.calls, 1);
	return d.err;
}

static int commit(const char *group, const char *topic, int32_t partition, int64_t offset,
                  const char *metadata)
{
	struct offset_commit_entry e = entry(topic, partition, offset, metadata);
	return commit_at(group, &e, 1, NOW_MS);
}

/* The committed offset, or -1. */
static int64_t fetched(const char *group, const char *topic, int32_t partition)
{
	struct offset_committed c;
	int rc = offset_store_fetch(store, kstr_from(group), kstr_from(topic), partition, &c);
	cr_assert(rc == 0 || rc == 1, "fetch: %s", tape_strerror(rc));
	return rc == 1 ? c.offset : -1;
}

static int delete_group(const char *group)
{
	struct done_rec d = { 0 };
	int rc = offset_store_delete_group(store, kstr_from(group), NOW_MS, on_done, &d);
	if (rc <= 0)
		return rc;
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(d.calls, 1);
	return d.err;
}

static int32_t part_of(const char *group)
{
	return offset_group_partition(kstr_from(group), PARTS);
}

static bool kstr_is(struct kstr s, const char *want)
{
	return want ? (s.len == (int32_t)strlen(want) && memcmp(s.p, want, (size_t)s.len) == 0)
	            : kstr_is_null(s);
}

/* A snapshot of the whole view, as text lines, sorted: to compare two views. */
struct snap {
	char **lines;
	size_t n, cap;
	const char *group;
};

static void snap_offset(void *arg, const struct offset_committed *c)
{
	struct snap *s = arg;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->lines = realloc(s->lines, s->cap * sizeof(*s->lines));
		cr_assert(s->lines);
	}
	char *line;
	cr_assert(asprintf(&line, "%s|%.*s|%d|%lld|%d|%s%.*s|%lld", s->group, (int)c->topic.len,
	                   c->topic.p, c->partition, (long long)c->offset, c->leader_epoch,
	                   kstr_is_null(c->metadata) ? "null" : "=",
	                   c->metadata.len > 0 ? (int)c->metadata.len : 0,
	                   c->metadata.len > 0 ? c->metadata.p : "",
	                   (long long)c->commit_timestamp_ms) > 0);
	s->lines[s->n++] = line;
}

static void snap_group(void *arg, struct kstr group)
{
	struct snap *s = arg;
	char name[512];
	snprintf(name, sizeof(name), "%.*s", (int)group.len, group.p);
	s->group = name;
	cr_assert_geq(offset_store_each(store, group, snap_offset, s), 0);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct snap snapshot(void)
{
	struct snap s = { 0 };
	offset_store_each_group(store, snap_group, &s);
	qsort(s.lines, s.n, sizeof(*s.lines), cmp_str);
	return s;
}

static void snap_free(struct snap *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->lines[i]);
	free(s->lines);
}

static void snap_assert_eq(const struct snap *a, const struct snap *b)
{
	cr_assert_eq(a->n, b->n, "views of %zu and %zu offsets", a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		cr_assert_str_eq(a->lines[i], b->lines[i]);
}

/* Every record of partition i as the log holds it, through log_read. */
struct raw_record {
	int64_t offset;
	uint8_t key[512];
	int32_t key_len;
	uint8_t value[512];
	int32_t value_len;
	int32_t headers_count;
	uint8_t headers[64];
	size_t headers_len;
	int64_t batch_base;
};

static size_t read_records(int i, struct raw_record **out, size_t *batches)
{
	uint8_t *buf;
	size_t len;
	cr_assert_eq(lt_read_all(r, parts[i], partition_written_end(parts[i]), &buf, &len), 0);
	struct raw_record *v = NULL;
	size_t n = 0;
	*batches = 0;
	for (size_t pos = 0; pos < len;) {
		struct record_batch_header h;
		record_batch_header_read(buf + pos, &h);
		cr_assert_eq(
		    record_batch_validate(buf + pos, record_batch_size(&h), RB_CHECK_CRC, &h), 0);
		cr_assert_eq(record_batch_codec(&h), 0);
		struct record_iter it;
		struct record rec;
		record_iter_init(&it, buf + pos + RB_RECORDS, record_batch_size(&h) - RB_RECORDS,
		                 h.records_count);
		while (record_iter_next(&it, &rec) == 1) {
			v = realloc(v, (n + 1) * sizeof(*v));
			struct raw_record *x = &v[n++];
			memset(x, 0, sizeof(*x));
			x->offset = h.base_offset + rec.offset_delta;
			x->batch_base = h.base_offset;
			cr_assert(rec.key_len > 0 && rec.key_len <= (int32_t)sizeof(x->key));
			cr_assert(rec.value_len <= (int32_t)sizeof(x->value));
			cr_assert(rec.headers_len <= sizeof(x->headers));
			memcpy(x->key, rec.key, (size_t)rec.key_len);
			x->key_len = rec.key_len;
			if (rec.value_len > 0)
				memcpy(x->value, rec.value, (size_t)rec.value_len);
			x->value_len = rec.value_len;
			x->headers_count = rec.headers_count;
			memcpy(x->headers, rec.headers, rec.headers_len);
			x->headers_len = rec.headers_len;
		}
		(*batches)++;
		pos += record_batch_size(&h);
	}
	free(buf);
	*out = v;
	return n;
}

/* ---- the format, pure -------------------------------------------------------------------- */

Test(offsets, java_string_hash_code_picks_the_partition)
{
	cr_assert_eq(offset_group_hash("group", 5), 98629247);
	cr_assert_eq(offset_group_partition(KSTR("group"), 50), 98629247 % 50);
	cr_assert_eq(offset_group_partition(KSTR("group"), 50), 47);
	cr_assert_eq(offset_group_hash("", 0), 0);
	cr_assert_eq(offset_group_hash("a", 1), 97);
	cr_assert_eq(offset_group_hash("hello", 5), 99162322);
	/* Integer.MIN_VALUE: Kafka's Utils.abs gives 0, not a negative partition. */
	cr_assert_eq(offset_group_hash("polygenelubricants", 18), INT32_MIN);
	cr_assert_eq(offset_group_partition(KSTR("polygenelubricants"), 50), 0);
	/* A negative hash: abs first, then the remainder (Java: "grüppe".hashCode()). */
	cr_assert_eq(offset_group_hash("gr\xc3\xbcppe", 7), -1233264812);
	cr_assert_eq(offset_group_partition(KSTR("gr\xc3\xbcppe"), 50), 1233264812 % 50);
	/* UTF-16 code units: a 3-byte character is one unit, an emoji two (a surrogate pair). */
	cr_assert_eq(offset_group_hash("\xe7\xbb\x84", 3), 32452);
	cr_assert_eq(offset_group_hash("\xf0\x9f\x98\x80x", 5), 54959989);
	/* Malformed UTF-8, as Java's new String(bytes, UTF_8).hashCode() gives it (checked
	 * against OpenJDK 17 on 200000 random byte strings). */
	static const struct {
		const char *bytes;
		int32_t hash;
	} bad[] = {
		{ "\xed\xa0\x80", 65533 },           /* an encoded surrogate: one U+FFFD */
		{ "\xe0\x80", 2097056 },             /* overlong: U+FFFD for each byte */
		{ "\xf0\x9f\x98", 65533 },           /* a cut 4-byte sequence: one U+FFFD */
		{ "\xc3", 65533 },                   /* a lone lead */
		{ "\xff", 65533 },                   /* never valid */
		{ "g\xf4\x90\x80\x80", 2112490535 }, /* past U+10FFFF */
		{ "\xf0\x9f\x98\x41", 2031588 },     /* a bad fourth byte is read again */
		{ "\xc3\x28", 2031563 },             /* a bad second byte is read again */
		{ "\xed\xbf\xbf\x41", 2031588 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(offset_group_hash(bad[i].bytes, strlen(bad[i].bytes)), bad[i].hash,
		             "case %zu", i);
}

Test(offsets, key_and_value_are_kafkas_bytes)
{
	uint8_t buf[128];
	struct offset_commit_key k = { KSTR("g"), KSTR("t"), 5 };
	static const uint8_t key[] = { 0, 1, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 5 };
	cr_assert_eq(offset_commit_key_size(&k), sizeof(key));
	cr_assert_eq(offset_commit_key_encode(buf, sizeof(buf), &k), sizeof(key));
	cr_assert_arr_eq(buf, key, sizeof(key));
	cr_assert_eq(offset_commit_key_encode(buf, sizeof(key) - 1, &k), 0);
	struct offset_commit_key kd;
	cr_assert_eq(offset_commit_key_decode(key, sizeof(key), &kd), 0);
	cr_assert(kstr_is(kd.group, "g") && kstr_is(kd.topic, "t") && kd.partition == 5);
	/* Version 0 is the same key; 2 is GroupMetadataKey: another kind. */
	uint8_t other[sizeof(key)];
	memcpy(other, key, sizeof(key));
	other[1] = 0;
	cr_assert_eq(offset_commit_key_decode(other, sizeof(other), &kd), 0);
	other[1] = 2;
	cr_assert_eq(offset_commit_key_decode(other, sizeof(other), &kd), 1);
	other[0] = 0xff;
	cr_assert_eq(offset_commit_key_decode(other, sizeof(other), &kd), -TAPE_ECORRUPT);
	cr_assert_eq(offset_commit_key_decode(key, sizeof(key) - 1, &kd), -TAPE_ECORRUPT);
	uint8_t longer[sizeof(key) + 1] = { 0 };
	memcpy(longer, key, sizeof(key));
	cr_assert_eq(offset_commit_key_decode(longer, sizeof(longer), &kd), -TAPE_ECORRUPT);

	struct offset_commit_value v = {
		.offset = 0x0102030405060708ll,
		.leader_epoch = 9,
		.metadata = KSTR("x"),
		.commit_timestamp_ms = 0x1122334455667788ll,
	};
	static const uint8_t value[] = { 0,    3,    1,    2,    3,    4,    5,   6,   7,
		                         8,    0,    0,    0,    9,    0,    1,   'x', 0x11,
		                         0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
	cr_assert_eq(offset_commit_value_size(&v), sizeof(value));
	cr_assert_eq(offset_commit_value_encode(buf, sizeof(buf), &v), sizeof(value));
	cr_assert_arr_eq(buf, value, sizeof(value));
	struct offset_commit_value vd;
	cr_assert_eq(offset_commit_value_decode(value, sizeof(value), &vd), 0);
	cr_assert_eq(vd.offset, v.offset);
	cr_assert_eq(vd.leader_epoch, 9);
	cr_assert(kstr_is(vd.metadata, "x"));
	cr_assert_eq(vd.commit_timestamp_ms, v.commit_timestamp_ms);
	cr_assert_eq(vd.expire_timestamp_ms, -1);

	/* Older and newer versions Kafka wrote. */
	static const uint8_t v0[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	cr_assert_eq(offset_commit_value_decode(v0, sizeof(v0), &vd), 0);
	cr_assert(vd.offset == 7 && vd.leader_epoch == -1 && vd.metadata.len == 0 &&
	          vd.commit_timestamp_ms == 1);
	static const uint8_t v1[] = { 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0,
		                      0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2 };
	cr_assert_eq(offset_commit_value_decode(v1, sizeof(v1), &vd), 0);
	cr_assert(vd.offset == 7 && vd.commit_timestamp_ms == 1 && vd.expire_timestamp_ms == 2);
	static const uint8_t v4[] = { 0, 4, 0,   0, 0, 0, 0, 0, 0, 7, 0, 0, 0,
		                      3, 2, 'm', 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	cr_assert_eq(offset_commit_value_decode(v4, sizeof(v4), &vd), 0);
	cr_assert(vd.offset == 7 && vd.leader_epoch == 3 && kstr_is(vd.metadata, "m") &&
	          vd.commit_timestamp_ms == 1);
	/* Malformed: short, trailing, unknown version, null metadata. */
	cr_assert_eq(offset_commit_value_decode(value, sizeof(value) - 1, &vd), -TAPE_ECORRUPT);
	uint8_t bad[sizeof(value) + 1] = { 0 };
	memcpy(bad, value, sizeof(value));
	cr_assert_eq(offset_commit_value_decode(bad, sizeof(bad), &vd), -TAPE_ECORRUPT);
	memcpy(bad, value, sizeof(value));
	bad[1] = 5;
	cr_assert_eq(offset_commit_value_decode(bad, sizeof(value), &vd), -TAPE_ECORRUPT);
	bad[1] = 3;
	bad[14] = bad[15] = 0xff;
	cr_assert_eq(offset_commit_value_decode(bad, sizeof(value), &vd), -TAPE_ECORRUPT);
}

/* ---- commits ----------------------------------------------------------------------------- */

Test(offsets, commit_then_fetch)
{
	start();
	struct offset_commit_entry e[3] = {
		entry("orders", 0, 10, "a"),
		entry("orders", 1, 20, NULL),
		entry("payments", 0, 30, ""),
	};
	cr_assert_eq(commit_at("billing", e, 3, NOW_MS), 0);
	cr_assert_eq(fetched("billing", "orders", 0), 10);
	cr_assert_eq(fetched("billing", "orders", 1), 20);
	cr_assert_eq(fetched("billing", "payments", 0), 30);
	cr_assert_eq(fetched("billing", "payments", 1), -1);
	cr_assert_eq(fetched("billing", "unknown", 0), -1);
	cr_assert_eq(fetched("other", "orders", 0), -1);
	struct offset_committed c;
	cr_assert_eq(offset_store_fetch(store, KSTR("billing"), KSTR("orders"), 0, &c), 1);
	cr_assert(kstr_is(c.topic, "orders") && c.partition == 0 && c.leader_epoch == 10 % 7);
	cr_assert(kstr_is(c.metadata, "a") && c.commit_timestamp_ms == NOW_MS);

	/* A later commit replaces; the commit is one batch, on the group's partition only. */
	cr_assert_eq(commit("billing", "orders", 0, 11, "b"), 0);
	cr_assert_eq(fetched("billing", "orders", 0), 11);
	cr_assert_eq(offset_store_group_count(store, KSTR("billing")), 3);
	cr_assert_eq(offset_store_groups_count(store), 1);
	cr_assert_eq(offset_store_offsets_count(store), 3);
	struct snap s = snapshot();
	cr_assert_eq(s.n, 3);
	snap_free(&s);
	for (int i = 0; i < PARTS; i++) {
		int64_t leo = partition_log_end_offset(parts[i]);
		cr_assert_eq(leo, i == part_of("billing") ? 4 : 0, "partition %d", i);
	}
	struct raw_record *rec;
	size_t batches;
	size_t n = read_records(part_of("billing"), &rec, &batches);
	cr_assert_eq(n, 4);
	cr_assert_eq(batches, 2);
	free(rec);
	/* Nothing to commit: nothing written, done not called. */
	struct done_rec d = { 0 };
	cr_assert_eq(offset_store_commit(store, KSTR("billing"), e, 0, NOW_MS, on_done, &d), 0);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(d.calls, 0);
}

Test(offsets, done_and_view_only_after_the_batch_is_durable)
{
	start();
	const char *g = "durable";
	struct partition *p = parts[part_of(g)];
	cr_assert_eq(commit(g, "t", 0, 1, NULL), 0);
	int64_t leo = partition_log_end_offset(p);
	struct offset_commit_entry e[2] = { entry("t", 0, 2, NULL), entry("t", 1, 3, NULL) };
	struct done_rec d = { 0 };
	cr_assert_eq(offset_store_commit(store, kstr_from(g), e, 2, NOW_MS, on_done, &d), 1);
	cr_assert_eq(offset_store_inflight(store), 1);
	bool saw_written_not_durable = false;
	for (int turn = 0; turn < 10000 && reactor_inflight(r) > 0; turn++) {
		cr_assert_geq(reactor_run_once(r, 1000000), 0);
		bool durable = partition_durable_end(p) >= leo + 2;
		bool written = partition_written_end(p) >= leo + 2;
		saw_written_not_durable |= written && !durable;
		cr_assert_eq(d.calls == 1, durable, "turn %d: done %d, durable %d", turn, d.calls,
		             durable);
		cr_assert_eq(fetched(g, "t", 0), durable ? 2 : 1);
		cr_assert_eq(fetched(g, "t", 1), durable ? 3 : -1);
	}
	cr_assert(saw_written_not_durable, "the write and the fsync completed in one turn");
	cr_assert_eq(d.calls, 1);
	cr_assert_eq(d.err, 0);
	cr_assert_eq(offset_store_inflight(store), 0);
}

static void failed_io_leaves_the_view(enum io_fault_on on)
{
	start();
	const char *g = "faulty";
	int32_t i = part_of(g);
	cr_assert_eq(commit(g, "t", 0, 1, "old"), 0);
	cr_assert_eq(reactor_fault_arm(r, on, 1, -EIO, false), 0);
	struct offset_commit_entry e[2] = { entry("t", 0, 2, "new"), entry("t", 1, 5, NULL) };
	int err = commit_at(g, e, 2, NOW_MS);
	cr_assert(err == -TAPE_EFAILED || err == -EIO, "%s", tape_strerror(err));
	struct offset_committed c;
	cr_assert_eq(offset_store_fetch(store, KSTR("faulty"), KSTR("t"), 0, &c), 1);
	cr_assert_eq(c.offset, 1);
	cr_assert(kstr_is(c.metadata, "old"));
	cr_assert_eq(fetched(g, "t", 1), -1);
	cr_assert_eq(offset_store_inflight(store), 0);
	/* The partition is failed (D4): refused at once, nothing in flight. */
	struct done_rec d = { 0 };
	cr_assert_eq(offset_store_commit(store, kstr_from(g), e, 1, NOW_MS, on_done, &d),
	             -TAPE_EFAILED);
	/* Other groups' partitions still work. */
	const char *other = part_of("a") != i ? "a" : "b";
	cr_assert_neq(part_of(other), i);
	cr_assert_eq(commit(other, "t", 0, 7, NULL), 0);
	cr_assert_eq(fetched(other, "t", 0), 7);

	/* The broker reopens the failed partition and reloads it. */
	reactor_fault_clear(r);
	partition_close(parts[i]);
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s-%d", root, OFFSETS_TOPIC, i);
	cr_assert_eq(partition_open(r, path, &pcfg, &parts[i]), 0);
	partition_set_progress(parts[i], progress, &slots[i]);
	offset_store_set_partition(store, i, parts[i]);
	cr_assert_eq(offset_store_load_partition(store, i), 0);
	/* Under a write fault the commit is gone; under an fsync fault its bytes may be in the
	 * page cache and come back: a commit whose answer was an error, never a lost answered
	 * one. */
	int64_t now = fetched(g, "t", 0);
	cr_assert(now == 1 || (on == IO_FAULT_ON_FSYNC && now == 2), "offset %lld", (long long)now);
	if (on == IO_FAULT_ON_WRITE)
		cr_assert_eq(now, 1);
	cr_assert_eq(fetched(other, "t", 0), 7);
	cr_assert_eq(commit(g, "t", 0, 3, NULL), 0);
	cr_assert_eq(fetched(g, "t", 0), 3);
}

Test(offsets, failed_fsync_fails_the_commit_and_leaves_the_view)
{
	failed_io_leaves_the_view(IO_FAULT_ON_FSYNC);
}

Test(offsets, failed_write_fails_the_commit_and_leaves_the_view)
{
	failed_io_leaves_the_view(IO_FAULT_ON_WRITE);
}

Test(offsets, null_empty_and_x_metadata_survive_a_restart)
{
	start();
	struct offset_commit_entry e[3] = {
		entry("t", 0, 100, NULL),
		entry("t", 1, 101, ""),
		entry("t", 2, 102, "x"),
	};
	cr_assert_eq(commit_at("meta", e, 3, NOW_MS), 0);
	restart_at(root);
	const char *want[3] = { NULL, "", "x" };
	for (int p = 0; p < 3; p++) {
		struct offset_committed c;
		cr_assert_eq(offset_store_fetch(store, KSTR("meta"), KSTR("t"), p, &c), 1);
		cr_assert_eq(c.offset, 100 + p);
		cr_assert(kstr_is(c.metadata, want[p]), "partition %d", p);
		cr_assert_eq(c.commit_timestamp_ms, NOW_MS);
	}

	/* On disk: Kafka's key and value; only the null carries tape's header. */
	struct raw_record *rec;
	size_t batches;
	size_t n = read_records(part_of("meta"), &rec, &batches);
	cr_assert_eq(n, 3);
	cr_assert_eq(batches, 1);
	for (int p = 0; p < 3; p++) {
		uint8_t key[64];
		struct offset_commit_key k = { KSTR("meta"), KSTR("t"), p };
		size_t kn = offset_commit_key_encode(key, sizeof(key), &k);
		cr_assert_eq(rec[p].key_len, (int32_t)kn);
		cr_assert_arr_eq(rec[p].key, key, kn);
		cr_assert_eq(rec[p].key[1], 1);   /* key version 1 */
		cr_assert_eq(rec[p].value[1], 3); /* value version 3 */
		struct offset_commit_value v;
		cr_assert_eq(offset_commit_value_decode(rec[p].value, (size_t)rec[p].value_len, &v),
		             0);
		cr_assert_eq(v.offset, 100 + p);
		cr_assert_eq(v.leader_epoch, (100 + p) % 7);
		cr_assert(kstr_is(v.metadata, p == 2 ? "x" : ""));
		cr_assert_eq(rec[p].headers_count, p == 0 ? 1 : 0);
	}
	cr_assert_eq(rec[0].headers_len, 1 + strlen(OFFSET_METADATA_NULL_HEADER) + 1);
	cr_assert_arr_eq(rec[0].headers + 1, OFFSET_METADATA_NULL_HEADER,
	                 strlen(OFFSET_METADATA_NULL_HEADER));
	free(rec);
}

Test(offsets, groups_land_on_the_partition_javas_hash_code_picks)
{
	start();
	enum { GROUPS = 60 };
	int per_part[PARTS] = { 0 };
	for (int g = 0; g < GROUPS; g++) {
		char name[32];
		snprintf(name, sizeof(name), "group-%d", g);
		cr_assert_eq(commit(name, "t", g % 3, g, NULL), 0);
		per_part[part_of(name)]++;
	}
	int total = 0;
	for (int i = 0; i < PARTS; i++) {
		struct raw_record *rec;
		size_t batches;
		size_t n = read_records(i, &rec, &batches);
		cr_assert_eq((int)n, per_part[i], "partition %d", i);
		for (size_t j = 0; j < n; j++) {
			struct offset_commit_key k;
			cr_assert_eq(
			    offset_commit_key_decode(rec[j].key, (size_t)rec[j].key_len, &k), 0);
			cr_assert_eq(offset_group_partition(k.group, PARTS), i);
			cr_assert_eq(offset_store_partition_of(store, k.group), i);
		}
		total += (int)n;
		free(rec);
	}
	cr_assert_eq(total, GROUPS);
	cr_assert_gt(per_part[0] * per_part[1] * per_part[2] * per_part[3], 0, "some spread");
	restart_at(root);
	cr_assert_eq(offset_store_groups_count(store), GROUPS);
	cr_assert_eq(fetched("group-59", "t", 59 % 3), 59);
}

/* ---- deletions --------------------------------------------------------------------------- */

Test(offsets, tombstones_delete_and_stay_deleted_on_reload)
{
	start();
	struct offset_commit_entry e[2] = { entry("t", 0, 5, NULL), entry("t", 1, 6, "m") };
	cr_assert_eq(commit_at("gone", e, 2, NOW_MS), 0);
	cr_assert_eq(commit_at("kept", e, 2, NOW_MS), 0);
	cr_assert_eq(delete_group("gone"), 0);
	cr_assert_eq(fetched("gone", "t", 0), -1);
	cr_assert_eq(offset_store_group_count(store, KSTR("gone")), 0);
	cr_assert_eq(offset_store_groups_count(store), 1);
	restart_at(root);
	cr_assert_eq(fetched("gone", "t", 0), -1);
	cr_assert_eq(fetched("gone", "t", 1), -1);
	cr_assert_eq(fetched("kept", "t", 1), 6);
	cr_assert_eq(offset_store_groups_count(store), 1);
	/* The log holds the commits, then two tombstones (null values). */
	struct raw_record *rec;
	size_t batches;
	size_t n = read_records(part_of("gone"), &rec, &batches);
	int tombstones = 0;
	for (size_t j = 0; j < n; j++)
		tombstones += rec[j].value_len < 0;
	cr_assert_eq(tombstones, 2);
	free(rec);
	/* A group with nothing: nothing to do. */
	struct done_rec d = { 0 };
	cr_assert_eq(offset_store_delete_group(store, KSTR("never"), NOW_MS, on_done, &d), 0);
	cr_assert_eq(d.calls, 0);
}

Test(offsets, delete_group_covers_commits_in_flight_and_splits_batches)
{
	start();
	const char *g = "many";
	int32_t i = part_of(g);
	enum { N = 40 };
	struct offset_commit_entry e[N];
	char topics[N][24];
	for (int j = 0; j < N; j++) {
		snprintf(topics[j], sizeof(topics[j]), "topic-%02d", j);
		e[j] = entry(topics[j], j, j, NULL);
	}
	cr_assert_eq(commit_at(g, e, N / 2, NOW_MS), 0);
	/* Small batches from here on: the tombstones need several. */
	struct partition_config small = pcfg;
	small.max_batch_bytes = 500;
	cr_assert_eq(partition_set_config(parts[i], &small), 0);
	struct done_rec dc = { 0 }, dd = { 0 };
	cr_assert_eq(offset_store_commit(store, kstr_from(g), e + N / 2, 5, NOW_MS, on_done, &dc),
	             1);
	cr_assert_eq(offset_store_delete_group(store, kstr_from(g), NOW_MS, on_done, &dd), 1);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(dc.calls, 1);
	cr_assert_eq(dc.err, 0);
	cr_assert_eq(dd.calls, 1);
	cr_assert_eq(dd.err, 0);
	cr_assert_eq(offset_store_group_count(store, kstr_from(g)), 0);
	cr_assert_eq(offset_store_groups_count(store), 0);
	struct raw_record *rec;
	size_t batches;
	size_t n = read_records(i, &rec, &batches);
	cr_assert_eq(n, N / 2 + 5 + N / 2 + 5);
	cr_assert_gt(batches, 3, "tombstones in several batches");
	free(rec);
	/* One commit over max.message.bytes is refused whole. */
	cr_assert_eq(commit_at(g, e, N, NOW_MS), -TAPE_ETOOLARGE);
	cr_assert_eq(offset_store_groups_count(store), 0);
	restart_at(root);
	cr_assert_eq(offset_store_groups_count(store), 0);
}

struct emptiness {
	const char *name;
	int64_t since;
};

static const struct emptiness groups_state[] = {
	{ "empty-long", NOW_MS - 10 * DAY_MS }, /* empty for 10 days: its offsets go */
	{ "members", -1 },                      /* active: kept */
	{ "empty-now", NOW_MS - 60000 },        /* empty for a minute: kept */
	{ "standalone", 0 },                    /* unknown: by commit time */
	{ "busy", NOW_MS - 10 * DAY_MS },       /* a commit in flight: skipped */
};

static int64_t empty_since(void *arg, struct kstr group)
{
	(*(int *)arg)++;
	for (size_t i = 0; i < sizeof(groups_state) / sizeof(groups_state[0]); i++)
		if (kstr_is(group, groups_state[i].name))
			return groups_state[i].since;
	cr_assert_fail("unexpected group %.*s", (int)group.len, group.p);
	return -1;
}

Test(offsets, expiry_by_emptiness_and_commit_time)
{
	start();
	int64_t old = NOW_MS - 20 * DAY_MS;
	struct offset_commit_entry e[2] = { entry("t", 0, 1, NULL), entry("t", 1, 2, NULL) };
	cr_assert_eq(commit_at("empty-long", e, 2, old), 0);
	cr_assert_eq(commit_at("members", e, 2, old), 0);
	cr_assert_eq(commit_at("empty-now", e, 2, old), 0);
	cr_assert_eq(commit_at("standalone", e, 1, old), 0);
	cr_assert_eq(commit_at("standalone", e + 1, 1, NOW_MS - DAY_MS), 0);
	cr_assert_eq(commit_at("busy", e, 2, old), 0);
	struct done_rec d = { 0 };
	cr_assert_eq(offset_store_commit(store, KSTR("busy"), e, 1, NOW_MS, on_done, &d), 1);
	int asked = 0;
	int64_t n = offset_store_expire(store, NOW_MS, 7 * DAY_MS, empty_since, &asked);
	cr_assert_eq(n, 3, "expired %lld", (long long)n);
	cr_assert_eq(asked, 4, "the busy group is not asked");
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(d.calls, 1);
	cr_assert_eq(offset_store_group_count(store, KSTR("empty-long")), 0);
	cr_assert_eq(offset_store_group_count(store, KSTR("members")), 2);
	cr_assert_eq(offset_store_group_count(store, KSTR("empty-now")), 2);
	cr_assert_eq(fetched("standalone", "t", 0), -1);
	cr_assert_eq(fetched("standalone", "t", 1), 2);
	cr_assert_eq(offset_store_group_count(store, KSTR("busy")), 2);
	struct snap before = snapshot();
	restart_at(root);
	struct snap after = snapshot();
	snap_assert_eq(&before, &after);
	snap_free(&before);
	snap_free(&after);
	/* Next round the busy group is asked: its old offset goes, the one committed now stays
	 * (the later of becoming empty and the commit counts). */
	asked = 0;
	cr_assert_eq(offset_store_expire(store, NOW_MS, 7 * DAY_MS, empty_since, &asked), 1);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(fetched("busy", "t", 0), 1);
	cr_assert_eq(fetched("busy", "t", 1), -1);
}

/* ---- crashes and compaction -------------------------------------------------------------- */

static char *segment_of(const char *dir, int i)
{
	char *path;
	cr_assert(asprintf(&path, "%s/%s-%d/00000000000000000000.log", dir, OFFSETS_TOPIC, i) > 0);
	return path;
}

/* Opens a copy of dir (with partition i's segment cut at cut, unless negative) and returns
 * what group "g" has committed for t/0. */
static int64_t reload_image(const char *dir, int i, int64_t cut)
{
	char *copy = lt_crash_copy(dir);
	if (cut >= 0) {
		char *path = segment_of(copy, i);
		cr_assert_eq(truncate(path, cut), 0);
		free(path);
	}
	restart_at(copy);
	int64_t got = fetched("g", "t", 0);
	cr_assert_eq(fetched("g", "t", 1), got == 3 ? 30 : -1);
	close_store();
	close_parts();
	test_rmdir(copy);
	return got;
}

Test(offsets, crash_images_reload_to_exactly_the_durable_commits)
{
	start();
	int32_t i = part_of("g");
	cr_assert_eq(commit("g", "t", 0, 1, NULL), 0);
	cr_assert_eq(commit("g", "t", 0, 2, "x"), 0);
	uint64_t durable_bytes = partition_size_bytes(parts[i]);

	/* Image 1: a commit submitted, not yet written. */
	struct offset_commit_entry e[2] = { entry("t", 0, 3, NULL), entry("t", 1, 30, NULL) };
	struct done_rec d = { 0 };
	cr_assert_eq(offset_store_commit(store, KSTR("g"), e, 2, NOW_MS, on_done, &d), 1);
	char *image1 = lt_crash_copy(root);
	/* Image 2: written, but its fsync failed: never durable, never answered ok. */
	cr_assert_eq(reactor_fault_arm(r, IO_FAULT_ON_FSYNC, 1, -EIO, true), 0);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(d.calls, 1);
	cr_assert_neq(d.err, 0);
	cr_assert_eq(fetched("g", "t", 0), 2);
	uint64_t written_bytes = partition_size_bytes(parts[i]);
	cr_assert_gt(written_bytes, durable_bytes);
	uint64_t sizes[PARTS];
	for (int j = 0; j < PARTS; j++)
		sizes[j] = partition_size_bytes(parts[j]);
	char *image2 = lt_crash_copy(root);
	close_store();
	reactor_fault_clear(r);
	close_parts();
	/* Preallocated space past the data reads as zeros, the end of the log: drop it, so the
	 * many copies below stay small. */
	for (int j = 0; j < PARTS; j++) {
		char *path = segment_of(image2, j);
		cr_assert_eq(truncate(path, (off_t)sizes[j]), 0);
		free(path);
	}

	cr_assert_eq(reload_image(image1, i, -1), 2);
	/* Every torn form of the last batch reloads to the durable commits exactly (recovery's
	 * warning for each cut is expected: kept quiet). */
	enum diag_level level = diag_get_level();
	diag_set_level(DIAG_ERROR);
	for (uint64_t cut = durable_bytes; cut < written_bytes; cut++)
		cr_assert_eq(reload_image(image2, i, (int64_t)cut), 2, "cut at %llu",
		             (unsigned long long)cut);
	diag_set_level(level);
	/* Whole, the batch that was written survives like any page-cache write: the commit
	 * reported failed is there after the crash (never the other way round). */
	cr_assert_eq(reload_image(image2, i, -1), 3);
	test_rmdir(image1);
	test_rmdir(image2);
}

struct compact_wait {
	bool done;
	int err;
};

static void on_compacted(void *arg, int err)
{
	struct compact_wait *w = arg;
	w->done = true;
	w->err = err;
}

Test(offsets, compaction_keeps_the_latest_per_key_and_the_same_view)
{
	pcfg.segment_bytes = SEGMENT_BYTES_MIN;
	start();
	enum { ROUNDS = 60 };
	for (int round = 0; round < ROUNDS; round++)
		for (int g = 0; g < 6; g++) {
			char name[32];
			snprintf(name, sizeof(name), "cg-%d", g);
			struct offset_commit_entry e[3] = {
				entry("t", 0, round * 10 + g, round % 2 ? NULL : ""),
				entry("t", 1, round * 10 + g + 1, "meta"),
				entry("u", g, round, NULL),
			};
			cr_assert_eq(commit_at(name, e, 3, NOW_MS + round), 0);
		}
	cr_assert_eq(delete_group("cg-5"), 0);
	struct snap before = snapshot();
	cr_assert_eq(before.n, 5 * 3);
	uint64_t size_before = 0, size_after = 0;
	for (int i = 0; i < PARTS; i++) {
		size_before += partition_size_bytes(parts[i]);
		if (partition_segments_count(parts[i]) < 2)
			continue;
		struct compact_wait w = { 0 };
		cr_assert_eq(partition_compact(parts[i], NOW_MS + 30 * DAY_MS, on_compacted, &w),
		             0);
		cr_assert_eq(reactor_run_until(r, &w.done), 0);
		cr_assert_eq(reactor_drain(r), 0);
		cr_assert_eq(w.err, 0, "%s", tape_strerror(w.err));
		size_after += partition_size_bytes(parts[i]);
	}
	for (int i = 0; i < PARTS; i++)
		if (partition_segments_count(parts[i]) < 2)
			size_after += partition_size_bytes(parts[i]);
	cr_assert_lt(size_after, size_before / 2, "%llu -> %llu", (unsigned long long)size_before,
	             (unsigned long long)size_after);
	/* The live view did not move; a reload of the compacted logs gives it again. */
	struct snap live = snapshot();
	snap_assert_eq(&before, &live);
	restart_at(root);
	struct snap after = snapshot();
	snap_assert_eq(&before, &after);
	snap_free(&before);
	snap_free(&live);
	snap_free(&after);
	/* And commits go on after it. */
	cr_assert_eq(commit("cg-0", "t", 0, 9999, NULL), 0);
	restart_at(root);
	cr_assert_eq(fetched("cg-0", "t", 0), 9999);
}

/* ---- bounds and foreign records ---------------------------------------------------------- */

static struct done_rec nested_done;
static int nested_rc;

/* Runs in the done of the deletion: its tombstones are applied, the commit behind it is not. */
static void commit_from_done(void *arg, int err)
{
	on_done(arg, err);
	struct offset_commit_entry e = entry("t", 9, 9, NULL);
	nested_rc = offset_store_commit(store, KSTR("one"), &e, 1, NOW_MS, on_done, &nested_done);
}

Test(offsets, bounds_refuse_commits)
{
	scfg.groups_max = 3;
	scfg.offsets_per_group_max = 2;
	scfg.offsets_max = 5;
	scfg.metadata_max_bytes = 8;
	scfg.metadata_total_bytes_max = 16;
	start();
	struct offset_store_config bad = scfg;
	bad.offsets_max = OFFSETS_MAX + 1;
	cr_assert_eq(offset_store_config_check(&bad), -TAPE_ECONFIG);
	bad = scfg;
	bad.metadata_max_bytes = OFFSET_METADATA_BYTES_MAX + 1;
	cr_assert_eq(offset_store_config_check(&bad), -TAPE_ECONFIG);

	struct offset_commit_entry big = entry("t", 0, 1, "123456789");
	cr_assert_eq(offset_store_check_entry(store, &big), -TAPE_EMETADATA);
	cr_assert_eq(commit("g1", "t", 0, 1, "123456789"), -TAPE_EMETADATA);
	struct offset_commit_entry odd = entry("t", -1, 1, NULL);
	cr_assert_eq(offset_store_check_entry(store, &odd), -TAPE_EPROTO);
	odd = entry("", 0, 1, NULL);
	cr_assert_eq(offset_store_check_entry(store, &odd), -TAPE_EPROTO);
	odd.topic = KSTR_NULL;
	cr_assert_eq(offset_store_check_entry(store, &odd), -TAPE_EPROTO);
	cr_assert_eq(commit("g1", "t", 0, 1, "12345678"), 0);
	cr_assert_eq(commit("g1", "t", 1, 1, NULL), 0);
	cr_assert_eq(commit("g1", "t", 2, 1, NULL), -TAPE_ETOOLARGE); /* per group */
	cr_assert_eq(commit("g1", "t", 1, 2, NULL), 0);               /* updates still go */
	cr_assert_eq(commit("g2", "t", 0, 1, "12345678"), 0);
	cr_assert_eq(commit("g2", "t", 1, 1, "1"), -TAPE_ETOOLARGE); /* metadata in all */
	cr_assert_eq(commit("g2", "t", 1, 1, NULL), 0);
	cr_assert_eq(commit("g3", "t", 0, 1, NULL), 0);
	cr_assert_eq(commit("g3", "t", 1, 1, NULL), -TAPE_ETOOLARGE); /* offsets in all */
	cr_assert_eq(commit("g4", "t", 0, 1, NULL), -TAPE_ETOOLARGE); /* groups */
	cr_assert_eq(offset_store_offsets_count(store), 5);
	/* A deletion frees room. */
	cr_assert_eq(delete_group("g3"), 0);
	cr_assert_eq(commit("g4", "t", 0, 1, NULL), 0);

	/* [O3] Group "one" at its bound (offsets_per_group_max 1 through a fresh store): a
	 * deletion, then a commit of the same key, both in flight. When the deletion's tombstone
	 * is applied the commit behind it will put the key back, so the slot stays charged: a
	 * commit of a new key made right then is refused. */
	cr_assert_eq(delete_group("g1"), 0);
	cr_assert_eq(delete_group("g2"), 0);
	close_store();
	scfg.offsets_per_group_max = 1;
	scfg.metadata_total_bytes_max = 64;
	open_store();
	cr_assert_eq(commit("one", "t", 0, 1, NULL), 0);
	struct done_rec dd = { 0 }, dc = { 0 };
	memset(&nested_done, 0, sizeof(nested_done));
	nested_rc = 1;
	cr_assert_eq(offset_store_delete_group(store, KSTR("one"), NOW_MS, commit_from_done, &dd),
	             1);
	struct offset_commit_entry same = entry("t", 0, 2, NULL);
	cr_assert_eq(offset_store_commit(store, KSTR("one"), &same, 1, NOW_MS, on_done, &dc), 1);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(dd.calls, 1);
	cr_assert_eq(dc.calls, 1);
	cr_assert_eq(nested_rc, -TAPE_ETOOLARGE);
	cr_assert_eq(nested_done.calls, 0);
	cr_assert_eq(offset_store_group_count(store, KSTR("one")), 1);
	cr_assert_eq(fetched("one", "t", 0), 2);
}

/* A batch of raw records (binary keys and values) on partition i, with a codec. */
struct raw {
	const uint8_t *key;
	size_t key_len;
	const uint8_t *value; /* NULL: tombstone */
	size_t value_len;
};

static void append_raw(int i, const struct raw *recs, int n, int codec)
{
	uint8_t records[4096];
	size_t len = 0;
	for (int j = 0; j < n; j++) {
		struct record rec = {
			.offset_delta = j,
			.key_len = (int32_t)recs[j].key_len,
			.key = recs[j].key,
			.value_len = recs[j].value ? (int32_t)recs[j].value_len : -1,
			.value = recs[j].value,
		};
		size_t k = record_encode(records + len, sizeof(records) - len, &rec);
		cr_assert_gt(k, 0);
		len += k;
	}
	struct compression_buf z = { 0 };
	const uint8_t *body = records;
	if (codec) {
		cr_assert_eq(compression_compress(codec, 0, records, len, &z), 0);
		body = z.p;
		len = z.len;
	}
	struct record_batch_header h = {
		.partition_leader_epoch = -1,
		.attributes = (int16_t)codec,
		.last_offset_delta = n - 1,
		.base_timestamp = NOW_MS,
		.max_timestamp = NOW_MS,
		.producer_id = -1,
		.producer_epoch = -1,
		.base_sequence = -1,
		.records_count = n,
	};
	uint8_t batch[8192];
	size_t size = record_batch_encode(batch, sizeof(batch), &h, body, len);
	cr_assert_gt(size, 0);
	int err;
	cr_assert_eq(lt_append(parts[i], batch, size, &err), 0);
	cr_assert_eq(reactor_drain(r), 0);
	cr_assert_eq(err, 0);
	free(z.p);
}

static size_t key_of(uint8_t *buf, const char *group, const char *topic, int32_t partition)
{
	struct offset_commit_key k = { kstr_from(group), kstr_from(topic), partition };
	size_t n = offset_commit_key_encode(buf, 256, &k);
	cr_assert_gt(n, 0);
	return n;
}

static size_t value_of(uint8_t *buf, int64_t offset)
{
	struct offset_commit_value v = { offset, -1, KSTR(""), NOW_MS, -1 };
	size_t n = offset_commit_value_encode(buf, 256, &v);
	cr_assert_gt(n, 0);
	return n;
}

Test(offsets, load_reads_kafka_batches_and_skips_what_is_not_an_offset)
{
	start();
	close_store();
	int i = part_of("g");
	/* A group that hashes elsewhere, written to i anyway. */
	const char *stray = part_of("a") != i ? "a" : "b";
	uint8_t k[5][256], v[3][256];
	size_t kn[5], vn[3];
	kn[0] = key_of(k[0], "g", "t", 0);
	kn[1] = key_of(k[1], "g", "t", 1);
	kn[2] = key_of(k[2], stray, "t", 0);
	kn[3] = key_of(k[3], "g", "t", 2);
	k[3][1] = 2; /* GroupMetadataKey: another kind */
	kn[4] = key_of(k[4], "g", "t", 3);
	vn[0] = value_of(v[0], 41);
	vn[1] = value_of(v[1], 42);
	vn[2] = value_of(v[2], 43);
	uint8_t broken[] = { 0, 3, 0 }; /* a value cut short */
	struct raw first[] = {
		{ k[0], kn[0], v[0], vn[0] },
		{ k[1], kn[1], v[1], vn[1] },
		{ k[2], kn[2], v[2], vn[2] },
		{ k[3], kn[3], v[2], vn[2] },
		{ k[4], kn[4], broken, sizeof(broken) },
	};
	append_raw(i, first, 5, COMPRESSION_NONE);
	/* zstd, as a Kafka broker with compression on would write: the second offset of g moves
	 * and the first is deleted. */
	struct raw second[] = {
		{ k[1], kn[1], v[2], vn[2] },
		{ k[0], kn[0], NULL, 0 },
	};
	append_raw(i, second, 2, COMPRESSION_ZSTD);
	open_store();
	cr_assert_eq(offset_store_skipped(store), 3);
	cr_assert_eq(fetched("g", "t", 0), -1);
	cr_assert_eq(fetched("g", "t", 1), 43);
	cr_assert_eq(fetched("g", "t", 3), -1);
	cr_assert_eq(fetched(stray, "t", 0), -1);
	cr_assert_eq(offset_store_groups_count(store), 1);
}

/* In a cluster a commit waits for the high watermark (every in-sync replica); a coordinator
 * that stops leading the partition first fails it, and leads again cleanly. */
Test(offsets, high_watermark_wait_and_abandon)
{
	scfg.wait_for_high_watermark = true;
	hw_by_hand = true;
	start();
	struct offset_commit_entry e = entry("t", 0, 42, "");
	struct done_rec d = { 0 };
	int32_t idx = offset_store_partition_of(store, KSTR("g"));
	cr_assert_eq(offset_store_commit(store, KSTR("g"), &e, 1, 1000, on_done, &d), 1);
	cr_assert_eq(reactor_drain(r), 0);
	offset_store_progress(store, idx);
	cr_assert_eq(d.calls, 0, "durable here, but the high watermark has not passed it");
	offset_store_abandon(store, idx, -TAPE_ENOTLEADER);
	cr_assert_eq(d.calls, 1);
	cr_assert_eq(d.err, -TAPE_ENOTLEADER);
	struct offset_committed c;
	cr_assert_eq(offset_store_fetch(store, KSTR("g"), KSTR("t"), 0, &c), 0, "not in the view");

	offset_store_abandon(store, idx, 0);
	struct done_rec d2 = { 0 };
	cr_assert_eq(offset_store_commit(store, KSTR("g"), &e, 1, 1000, on_done, &d2), 1);
	cr_assert_eq(reactor_drain(r), 0);
	partition_set_high_watermark(parts[idx], partition_durable_end(parts[idx]));
	offset_store_progress(store, idx);
	cr_assert_eq(d2.calls, 1);
	cr_assert_eq(d2.err, 0);
	cr_assert_eq(offset_store_fetch(store, KSTR("g"), KSTR("t"), 0, &c), 1);
	cr_assert_eq(c.offset, 42);
	hw_by_hand = false;
}
