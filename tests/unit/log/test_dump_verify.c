/*
 * tests/unit/log/test_dump_verify.c: tape dump and tape verify's library halves (log/dump.c,
 * log/verify.c, log/segment_scan.c) against a partition built through the log API: batches
 * of every codec, keys, one batch with headers and unprintable bytes, 4 KiB segments, closed
 * cleanly. Dumps go to a memstream and are checked line by line; then the files are damaged
 * the ways disks and crashes damage them (a flipped byte, a cut file, zeros after the data,
 * bytes after a hole, a bad index, a bad checkpoint) and verify must name the file, the
 * position or offset, and the check that failed.
 */
#include "base/endian.h"
#include "base/errors.h"
#include "io/reactor.h"
#include "log/dump.h"
#include "log/partition.h"
#include "log/segment_scan.h"
#include "log/verify.h"
#include "protocol/compression.h"
#include "protocol/record_batch.h"
#include "tests/support/batches.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCHES 60
#define RECORDS_PER_BATCH 3

static struct reactor *r;
static char *dir;
static int64_t bases[64]; /* segment base offsets, sorted */
static unsigned segments;
static uint64_t total_records;

static void append_done(struct partition_append *a, int err)
{
	cr_assert_eq(err, 0, "append: %s", tape_strerror(err));
	free(a->batches);
	free(a);
}

static void append(struct partition *p, uint8_t *buf, size_t len)
{
	struct partition_append *a = calloc(1, sizeof(*a));
	a->batches = buf;
	a->len = (uint32_t)len;
	a->origin = APPEND_CLIENT;
	a->done = append_done;
	int rc = partition_append(p, a);
	cr_assert_eq(rc, 0, "append: %s", tape_strerror(rc));
}

/* One record with key "k\n1", value 00 'a' '\' ff and headers "h1" and "h\x01". */
static size_t build_odd_batch(uint8_t **out)
{
	uint8_t headers[64], records[256];
	size_t hl = 0;
	struct record_header h1 = { 2, (const uint8_t *)"h1", 1, (const uint8_t *)"v" };
	struct record_header h2 = { 2, (const uint8_t *)"h\x01", -1, NULL };
	hl += record_header_encode(headers + hl, sizeof(headers) - hl, &h1);
	hl += record_header_encode(headers + hl, sizeof(headers) - hl, &h2);
	static const uint8_t value[] = { 0x00, 'a', '\\', 0xff };
	struct record rec = {
		.key_len = 3,
		.key = (const uint8_t *)"k\n1",
		.value_len = 4,
		.value = value,
		.headers_count = 2,
		.headers = headers,
		.headers_len = hl,
	};
	size_t rl = record_encode(records, sizeof(records), &rec);
	cr_assert_gt(rl, 0);
	struct record_batch_header h = {
		.partition_leader_epoch = -1,
		.base_timestamp = 5000,
		.max_timestamp = 5000,
		.producer_id = -1,
		.producer_epoch = -1,
		.base_sequence = -1,
		.records_count = 1,
	};
	size_t cap = RB_HEADER_BYTES + rl;
	*out = malloc(cap);
	cr_assert_eq(record_batch_encode(*out, cap, &h, records, rl), cap);
	return cap;
}

static int compare_offsets(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void list_segments(void)
{
	DIR *d = opendir(dir);
	cr_assert(d);
	struct dirent *de;
	segments = 0;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n == 24 && !strcmp(de->d_name + 20, ".log")) {
			cr_assert_lt(segments, 64);
			bases[segments++] = strtoll(de->d_name, NULL, 10);
		}
	}
	closedir(d);
	qsort(bases, segments, sizeof(bases[0]), compare_offsets);
}

/* A partition of BATCHES batches cycling through the codecs (batch 7 is the odd one), in
 * 4 KiB segments with an index entry every 512 bytes, closed cleanly. */
static void setup(void)
{
	cr_assert_eq(reactor_create(&r), 0);
	dir = test_tmpdir("dumpverify");
	struct partition_config cfg;
	partition_config_default(&cfg);
	cfg.segment_bytes = 4096;
	cfg.index_interval_bytes = 512;
	struct partition *p;
	cr_assert_eq(partition_open(r, dir, &cfg, &p), 0);
	cr_assert_eq(partition_become_leader(p, 0), 0);
	total_records = 0;
	for (int i = 0; i < BATCHES; i++) {
		uint8_t *buf;
		size_t len;
		if (i == 7) {
			len = build_odd_batch(&buf);
			total_records += 1;
		} else {
			struct test_batch_spec spec = {
				.records = RECORDS_PER_BATCH,
				.value_bytes = 150,
				.timestamp_ms = 1000 + i * 10,
				.producer_id = -1,
				.producer_epoch = -1,
				.base_sequence = -1,
				.seed = (uint64_t)i + 1,
				.key = "key",
				.codec = i % 5,
			};
			len = test_batch_build(&spec, &buf);
			total_records += RECORDS_PER_BATCH;
		}
		append(p, buf, len);
		if (i % 10 == 9)
			cr_assert_eq(reactor_drain(r), 0);
	}
	cr_assert_eq(reactor_drain(r), 0);
	partition_close(p);
	list_segments();
	cr_assert_gt(segments, 3, "the partition rolled");
}

static void teardown(void)
{
	reactor_destroy(r);
	test_rmdir(dir);
}

TestSuite(dump_verify, .init = setup, .fini = teardown);

static char *path_of(int64_t base, const char *suffix)
{
	char *p;
	cr_assert(asprintf(&p, "%s/%020" PRId64 "%s", dir, base, suffix) > 0);
	return p;
}

/* Runs fn into a memstream; returns the text (free it) and the return value in *rc. Not
 * inlined: gcc 12 then takes the memstream's buffer for a dangling local. */
__attribute__((noinline)) static char *
dump_to_string(int (*fn)(FILE *, const char *, const struct dump_options *), const char *path,
               bool records, bool json, int *rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	struct dump_options opt = { .records = records, .json = json };
	*rc = fn(m, path, &opt);
	fclose(m);
	return text;
}

__attribute__((noinline)) static char *verify_to_string(struct verify_result *res)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	cr_assert_eq(verify_partition(dir, m, res), 0);
	fclose(m);
	return text;
}

static int count_lines_starting(const char *text, const char *prefix)
{
	int n = 0;
	for (const char *line = text; line && *line;) {
		if (!strncmp(line, prefix, strlen(prefix)))
			n++;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return n;
}

static void read_header_at(const char *path, uint64_t position, struct record_batch_header *h)
{
	uint8_t buf[RB_HEADER_BYTES];
	int fd = open(path, O_RDONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(pread(fd, buf, sizeof(buf), (off_t)position), (ssize_t)sizeof(buf));
	close(fd);
	record_batch_header_read(buf, h);
}

static void patch(const char *path, uint64_t position, const void *bytes, size_t n)
{
	int fd = open(path, O_WRONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(pwrite(fd, bytes, n, (off_t)position), (ssize_t)n);
	close(fd);
}

static uint64_t file_size(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

Test(dump_verify, dump_prints_kafka_lines_and_a_summary)
{
	char *path = path_of(0, ".log");
	int rc;
	char *text = dump_to_string(dump_segment, path, false, false, &rc);
	cr_assert_eq(rc, 0, "%s", text);
	struct record_batch_header h;
	read_header_at(path, 0, &h);
	char expected[1024];
	snprintf(
	    expected, sizeof(expected),
	    "Dumping %s\nLog starting offset: 0\n"
	    "baseOffset: 0 lastOffset: 2 count: 3 baseSequence: -1 lastSequence: -1 "
	    "producerId: -1 producerEpoch: -1 partitionLeaderEpoch: 0 isTransactional: false "
	    "isControl: false deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: 1002 "
	    "size: %" PRIu32 " magic: 2 compresscodec: none crc: %" PRIu32 " isvalid: true\n",
	    path, record_batch_size(&h), h.crc);
	cr_assert_eq(strncmp(text, expected, strlen(expected)), 0, "got:\n%s\nwanted:\n%s", text,
	             expected);
	cr_assert(strstr(text, "compresscodec: gzip"), "%s", text);
	cr_assert(strstr(text, "compresscodec: snappy"), "%s", text);

	int batches = count_lines_starting(text, "baseOffset: ");
	uint64_t size = file_size(path);
	char summary[256];
	snprintf(summary, sizeof(summary),
	         "End of data at position %" PRIu64 ": end of file\n"
	         "Summary: batches: %d records: %d validBytes: %" PRIu64 " fileBytes: %" PRIu64
	         " invalidBatches: 0 end: eof\n",
	         size, batches, (int)(bases[1] - bases[0]), size, size);
	cr_assert(strstr(text, summary), "no '%s' in:\n%s", summary, text);
	free(text);
	free(path);
}

Test(dump_verify, dump_records_decompresses_and_escapes)
{
	/* The odd batch (7) and compressed ones are in the first segments. */
	int record_lines = 0, batches_seen = 0;
	bool saw_odd = false, saw_zstd_records = false;
	for (unsigned s = 0; s < segments; s++) {
		char *path = path_of(bases[s], ".log");
		int rc;
		char *text = dump_to_string(dump_segment, path, true, false, &rc);
		cr_assert_eq(rc, 0, "%s", text);
		record_lines += count_lines_starting(text, "| offset: ");
		batches_seen += count_lines_starting(text, "baseOffset: ");
		if (strstr(text,
		           "| offset: 21 CreateTime: 5000 keySize: 3 valueSize: 4 sequence: -1 "
		           "headerKeys: [h1,h\\x01] key: k\\x0a1 payload: \\x00a\\\\\\xff\n"))
			saw_odd = true;
		const char *z = strstr(text, "compresscodec: zstd");
		if (z && !strncmp(strchr(z, '\n') + 1, "| offset: ", 10))
			saw_zstd_records = true;
		free(text);
		free(path);
	}
	cr_assert_eq(batches_seen, BATCHES);
	cr_assert_eq((uint64_t)record_lines, total_records);
	cr_assert(saw_odd, "the odd record is printed escaped");
	cr_assert(saw_zstd_records, "a zstd batch's records follow it");
}

Test(dump_verify, dump_json)
{
	for (unsigned s = 0; s < segments; s++) {
		char *path = path_of(bases[s], ".log");
		int rc;
		char *text = dump_to_string(dump_segment, path, true, true, &rc);
		cr_assert_eq(rc, 0);
		for (char *line = text; *line;) {
			char *nl = strchr(line, '\n');
			cr_assert(nl);
			cr_assert_eq(line[0], '{', "%.*s", (int)(nl - line), line);
			cr_assert_eq(nl[-1], '}', "%.*s", (int)(nl - line), line);
			line = nl + 1;
		}
		if (strstr(text, "\"offset\":21,"))
			cr_assert(strstr(text,
			                 "\"headerKeys\":[\"h1\",\"h\\u0001\"],\"key\":\"k\\n1\","
			                 "\"payloadBase64\":\"AGFc/w==\"}"),
			          "%s", text);
		cr_assert(strstr(text, "{\"type\":\"summary\",\"batches\":"), "%s", text);
		cr_assert(
		    strstr(text, s + 1 < segments ? "\"end\":\"eof\"}" : "\"end\":\"zeros\"}"));
		free(text);
		free(path);
	}
}

Test(dump_verify, dump_active_segment_ends_in_zeros)
{
	char *path = path_of(bases[segments - 1], ".log");
	int rc;
	char *text = dump_to_string(dump_segment, path, false, false, &rc);
	cr_assert_eq(rc, 0, "%s", text);
	cr_assert(strstr(text, ": zeros to the end of file ("), "%s", text);
	cr_assert(strstr(text, "invalidBatches: 0 end: zeros\n"), "%s", text);
	free(text);
	free(path);
}

Test(dump_verify, dump_sidecars_and_checkpoints)
{
	int rc;
	char *path = path_of(0, ".index");
	char *text = dump_to_string(dump_offset_index, path, false, false, &rc);
	cr_assert_eq(rc, 0, "%s", text);
	cr_assert(strstr(text, "\noffset: "), "%s", text);
	cr_assert(strstr(text, " position: "), "%s", text);
	cr_assert(strstr(text, "Summary: entries: "), "%s", text);
	free(text);
	free(path);

	path = path_of(0, ".timeindex");
	text = dump_to_string(dump_time_index, path, false, false, &rc);
	cr_assert_eq(rc, 0, "%s", text);
	cr_assert(strstr(text, "\ntimestamp: "), "%s", text);
	free(text);
	free(path);

	path = path_of(0, ".digest");
	text = dump_to_string(dump_digest, path, false, false, &rc);
	cr_assert_eq(rc, 0, "%s", text);
	cr_assert(strstr(text, "algorithm: XXH3_128 digest: "), "%s", text);
	cr_assert(strstr(text, " matches: true\n"), "%s", text);
	free(text);
	free(path);

	char *cp;
	cr_assert(asprintf(&cp, "%s/partition.checkpoint", dir) > 0);
	text = dump_to_string(dump_checkpoint, cp, false, false, &rc);
	cr_assert_eq(rc, 0, "%s", text);
	cr_assert(strstr(text, "kind: 1 (partition)"), "%s", text);
	cr_assert(strstr(text, " isvalid: true\n"), "%s", text);
	char line[128];
	snprintf(line, sizeof(line), "recoveryPoint: %" PRIu64 " logStartOffset: 0 ",
	         total_records);
	cr_assert(strstr(text, line), "%s", text);
	cr_assert(strstr(text, "clean: true quarantined: []\n"), "%s", text);
	free(text);
	free(cp);

	cr_assert(asprintf(&cp, "%s/leader-epoch.checkpoint", dir) > 0);
	text = dump_to_string(dump_file, cp, false, false, &rc);
	cr_assert_eq(rc, 0, "%s", text);
	cr_assert(strstr(text, "epoch: 0 startOffset: 0\n"), "%s", text);
	free(text);
	free(cp);

	cr_assert(asprintf(&cp, "%s/producer-state.checkpoint", dir) > 0);
	text = dump_to_string(dump_file, cp, false, false, &rc);
	cr_assert_eq(rc, 0, "%s", text);
	cr_assert(strstr(text, " producers: 0\n"), "%s", text);
	free(text);
	free(cp);

	cr_assert_eq(dump_kind_of("/x/y/foo.txt"), DUMP_UNKNOWN);
	cr_assert_eq(dump_file(stdout, "/x/y/foo.txt", &(struct dump_options){ 0 }), -EINVAL);
}

Test(dump_verify, verify_passes_a_clean_partition)
{
	struct verify_result res;
	char *text = verify_to_string(&res);
	cr_assert_eq(res.problems, 0, "%s", text);
	cr_assert_eq(res.notes, 0, "%s", text);
	cr_assert_eq(res.segments, segments);
	cr_assert_eq(res.batches, BATCHES);
	cr_assert_eq(res.records, total_records);
	free(text);
}

/* The position of the n-th batch (from 0) of a segment file, and its base offset. */
static uint64_t batch_position(const char *path, int n, int64_t *base_offset)
{
	uint64_t pos = 0;
	struct record_batch_header h;
	for (int i = 0;; i++) {
		read_header_at(path, pos, &h);
		if (i == n)
			break;
		pos += record_batch_size(&h);
	}
	*base_offset = h.base_offset;
	return pos;
}

Test(dump_verify, flipped_byte_names_segment_and_batch)
{
	char *path = path_of(bases[1], ".log");
	int64_t offset;
	uint64_t pos = batch_position(path, 1, &offset);
	uint8_t b;
	int fd = open(path, O_RDWR);
	cr_assert_eq(pread(fd, &b, 1, (off_t)(pos + 70)), 1);
	b ^= 0x10;
	cr_assert_eq(pwrite(fd, &b, 1, (off_t)(pos + 70)), 1);
	close(fd);

	struct verify_result res;
	char *text = verify_to_string(&res);
	char want[512];
	snprintf(want, sizeof(want),
	         "problem: %s: position %" PRIu64 ", offset %" PRId64 ": crc mismatch: stored ",
	         path, pos, offset);
	cr_assert(strstr(text, want), "no '%s' in:\n%s", want, text);
	cr_assert(strstr(text, ".digest: XXH3-128 of the .log's "), "%s", text);
	cr_assert_eq(res.problems, 2, "%s", text);
	free(text);

	int rc;
	text = dump_to_string(dump_segment, path, false, false, &rc);
	cr_assert_eq(rc, 1);
	cr_assert(strstr(text, " isvalid: false\n"), "%s", text);
	snprintf(want, sizeof(want), "Invalid batch at position %" PRIu64 ": crc mismatch", pos);
	cr_assert(strstr(text, want), "%s", text);
	/* The dump went on: every batch of the segment is still listed, the valid prefix stops. */
	snprintf(want, sizeof(want), "validBytes: %" PRIu64 " ", pos);
	cr_assert(strstr(text, want), "%s", text);
	cr_assert(strstr(text, "invalidBatches: 1 end: eof\n"), "%s", text);
	free(text);
	free(path);
}

Test(dump_verify, truncated_sealed_segment_is_torn)
{
	char *path = path_of(bases[2], ".log");
	int64_t offset;
	uint64_t pos = batch_position(path, 2, &offset);
	cr_assert_eq(truncate(path, (off_t)(pos + 100)), 0);

	struct verify_result res;
	char *text = verify_to_string(&res);
	char want[512];
	snprintf(want, sizeof(want),
	         "problem: %s: position %" PRIu64 ": torn batch: the file ends 100 bytes into a "
	         "batch of ",
	         path, pos);
	cr_assert(strstr(text, want), "no '%s' in:\n%s", want, text);
	cr_assert(strstr(text, ".digest: covers "), "%s", text);
	cr_assert_geq(res.problems, 2, "%s", text);
	free(text);

	int rc;
	text = dump_to_string(dump_segment, path, false, false, &rc);
	cr_assert_eq(rc, 1);
	snprintf(want, sizeof(want), "Torn batch at position %" PRIu64 ": ", pos);
	cr_assert(strstr(text, want), "%s", text);
	snprintf(want, sizeof(want), "\n  baseOffset: %" PRId64 " batchLength: ", offset);
	cr_assert(strstr(text, want), "the offending header fields: %s", text);
	cr_assert(strstr(text, "end: torn\n"), "%s", text);
	free(text);
	free(path);
}

Test(dump_verify, bad_magic_is_an_invalid_batch)
{
	char *path = path_of(bases[1], ".log");
	int64_t offset;
	uint64_t pos = batch_position(path, 2, &offset);
	uint8_t magic = 9;
	patch(path, pos + RB_MAGIC, &magic, 1);
	struct verify_result res;
	char *text = verify_to_string(&res);
	char want[512];
	snprintf(want, sizeof(want),
	         "problem: %s: position %" PRIu64 ": invalid batch (baseOffset %" PRId64
	         ", batchLength ",
	         path, pos, offset);
	cr_assert(strstr(text, want), "no '%s' in:\n%s", want, text);
	cr_assert(strstr(text, "nothing after it can be read: magic 9 (expected 2)\n"), "%s", text);
	free(text);
	free(path);
}

Test(dump_verify, zeros_after_a_sealed_segment)
{
	char *path = path_of(bases[0], ".log");
	uint64_t size = file_size(path);
	cr_assert_eq(truncate(path, (off_t)(size + 4096)), 0);
	struct verify_result res;
	char *text = verify_to_string(&res);
	char want[512];
	snprintf(want, sizeof(want),
	         "problem: %s: position %" PRIu64 ": the data ends, then zeros to the end of file "
	         "(4096 bytes)",
	         path, size);
	cr_assert(strstr(text, want), "no '%s' in:\n%s", want, text);
	cr_assert(strstr(text, "a sealed segment is cut to its data"), "%s", text);
	free(text);
	free(path);
}

Test(dump_verify, garbage_after_the_active_segments_zeros)
{
	char *path = path_of(bases[segments - 1], ".log");
	patch(path, 1 << 20, "junk", 4);
	struct verify_result res;
	char *text = verify_to_string(&res);
	cr_assert_eq(res.problems, 1, "%s", text);
	cr_assert(strstr(text, "zeros, then non-zero bytes at position 1048576"), "%s", text);
	free(text);

	int rc;
	text = dump_to_string(dump_segment, path, false, false, &rc);
	cr_assert_eq(rc, 1);
	cr_assert(strstr(text, "end: garbage\n"), "%s", text);
	free(text);
	free(path);
}

Test(dump_verify, corrupt_offset_index)
{
	char *path = path_of(bases[1], ".index");
	uint64_t size = file_size(path);
	cr_assert_geq(size, 16, "the segment has index entries");
	/* Entry 0 points 5 bytes into its batch: still increasing, so the file is "valid". */
	uint8_t e[8];
	int fd = open(path, O_RDWR);
	cr_assert_eq(pread(fd, e, 8, 0), 8);
	uint32_t pos = load_be32(e + 4);
	store_be32(e + 4, pos + 5);
	cr_assert_eq(pwrite(fd, e, 8, 0), 8);
	close(fd);
	struct verify_result res;
	char *text = verify_to_string(&res);
	char want[512];
	snprintf(want, sizeof(want),
	         "problem: %s: entry 0 (offset %" PRId64 ", position %" PRIu32
	         ") does not point at a batch start",
	         path, bases[1] + (int64_t)load_be32(e), pos + 5);
	cr_assert(strstr(text, want), "no '%s' in:\n%s", want, text);
	cr_assert_eq(res.problems, 1, "%s", text);
	free(text);

	/* Entry 1 now goes backwards: offset_index_valid refuses the file. */
	uint8_t e1[8];
	fd = open(path, O_RDWR);
	cr_assert_eq(pread(fd, e1, 8, 8), 8);
	store_be32(e1 + 4, 1);
	cr_assert_eq(pwrite(fd, e1, 8, 8), 8);
	close(fd);
	text = verify_to_string(&res);
	snprintf(want, sizeof(want), "problem: %s: entry 1: position 1 is not above the previous ",
	         path);
	cr_assert(strstr(text, want), "no '%s' in:\n%s", want, text);
	free(text);

	int rc;
	text = dump_to_string(dump_offset_index, path, false, false, &rc);
	cr_assert_eq(rc, 1, "%s", text);
	cr_assert(strstr(text, "Invalid entry: entry 1: position 1 is not above"), "%s", text);
	free(text);
	free(path);
}

Test(dump_verify, index_entry_with_the_wrong_offset)
{
	char *path = path_of(bases[1], ".index");
	uint8_t e[8];
	int fd = open(path, O_RDWR);
	cr_assert_eq(pread(fd, e, 8, 0), 8);
	uint32_t rel = load_be32(e);
	store_be32(e, rel - 1);
	cr_assert_eq(pwrite(fd, e, 8, 0), 8);
	close(fd);
	struct verify_result res;
	char *text = verify_to_string(&res);
	char want[512];
	snprintf(want, sizeof(want), "the batch there ends at offset %" PRId64, bases[1] + rel);
	cr_assert(strstr(text, want), "no '%s' in:\n%s", want, text);
	free(text);
	free(path);
}

Test(dump_verify, corrupt_time_index)
{
	char *path = path_of(bases[0], ".timeindex");
	cr_assert_geq(file_size(path), 12);
	/* Entry 0's timestamp one lower: still increasing, but not the batches' maximum. */
	uint8_t ts[8];
	int fd = open(path, O_RDWR);
	cr_assert_eq(pread(fd, ts, 8, 0), 8);
	int64_t t = (int64_t)load_be64(ts) - 1;
	store_be64(ts, (uint64_t)t);
	cr_assert_eq(pwrite(fd, ts, 8, 0), 8);
	close(fd);
	struct verify_result res;
	char *text = verify_to_string(&res);
	char want[256];
	snprintf(want, sizeof(want), ".timeindex: entry 0 (timestamp %" PRId64 ", offset ", t);
	cr_assert(strstr(text, want), "no '%s' in:\n%s", want, text);
	cr_assert(strstr(text, "the largest batch timestamp up to there is"), "%s", text);
	free(text);
	free(path);
}

Test(dump_verify, corrupt_checkpoint)
{
	char *cp;
	cr_assert(asprintf(&cp, "%s/partition.checkpoint", dir) > 0);
	uint8_t b = 0x7f;
	patch(cp, 30, &b, 1);
	struct verify_result res;
	char *text = verify_to_string(&res);
	char want[512];
	snprintf(want, sizeof(want), "problem: %s: unreadable: checksum mismatch: stored ", cp);
	cr_assert(strstr(text, want), "no '%s' in:\n%s", want, text);
	free(text);
	int rc;
	text = dump_to_string(dump_checkpoint, cp, false, false, &rc);
	cr_assert_eq(rc, 1);
	cr_assert(strstr(text, " isvalid: false\nInvalid checkpoint: checksum mismatch"), "%s",
	          text);
	free(text);
	free(cp);
}

Test(dump_verify, leftovers_are_notes)
{
	char *p;
	cr_assert(asprintf(&p, "%s/00000000000000099999.index", dir) > 0);
	int fd = open(p, O_CREAT | O_WRONLY, 0644);
	close(fd);
	struct verify_result res;
	char *text = verify_to_string(&res);
	cr_assert_eq(res.problems, 0, "%s", text);
	cr_assert_eq(res.notes, 1, "%s", text);
	cr_assert(strstr(text, "note: "), "%s", text);
	free(text);
	free(p);
}

Test(dump_verify, explain_header)
{
	uint8_t h[RB_HEADER_BYTES] = { 0 };
	char why[SEGMENT_SCAN_WHY_BYTES];
	store_be32(h + RB_BATCH_LENGTH, 10);
	segment_scan_explain_header(h, sizeof(h), why, sizeof(why));
	cr_assert_str_eq(why, "batchLength 10 is below the minimum 49");
	store_be32(h + RB_BATCH_LENGTH, 100);
	h[RB_MAGIC] = 2;
	store_be16(h + RB_ATTRIBUTES, 6);
	segment_scan_explain_header(h, sizeof(h), why, sizeof(why));
	cr_assert_str_eq(why, "unknown compression codec 6 (attributes 0x0006)");
	store_be16(h + RB_ATTRIBUTES, 0);
	store_be32(h + RB_RECORDS_COUNT, 20);
	store_be32(h + RB_LAST_OFFSET_DELTA, 19);
	segment_scan_explain_header(h, sizeof(h), why, sizeof(why));
	cr_assert_str_eq(why, "recordsCount 20 cannot fit in 51 bytes of records");
}
