/*
 * log/dump.c: tape dump's printing of segment, index, digest and checkpoint files; the
 * output formats are in dump.h.
 *
 * Owns: the text and JSON renderings, and escaping bytes so that no record can break a line
 * or a JSON string. Must not know: whether a batch or file is valid (segment_scan.c and
 * verify.c decide, and say why; this file prints what they say), or anything of a running
 * partition. It only reads.
 */
#include "log/dump.h"

#include "base/endian.h"
#include "base/errors.h"
#include "base/limits.h"
#include "log/checkpoint.h"
#include "log/leader_epoch.h"
#include "log/producer_state.h"
#include "log/segment.h"
#include "log/segment_scan.h"
#include "log/verify.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- bytes, safely -------------------------------------------------------------------------- */

/* Printable ASCII as is, a backslash doubled, every other byte as \xNN. */
static void text_bytes(FILE *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\')
			fputs("\\\\", out);
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			fputc(p[i], out);
		else
			fprintf(out, "\\x%02x", p[i]);
	}
}

/* Length of the well-formed UTF-8 sequence at p (no overlongs, surrogates or code points past
 * U+10FFFF), or 0. */
static size_t utf8_sequence(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	if (c < 0x80)
		return 1;
	size_t len;
	uint8_t lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

static bool utf8_valid(const uint8_t *p, size_t n)
{
	for (size_t i = 0, k; i < n; i += k)
		if (!(k = utf8_sequence(p + i, n - i)))
			return false;
	return true;
}

/* A JSON string. Well-formed UTF-8 passes through; a byte that is not is written as the
 * code point of the same number (\u00NN), so the result is always valid JSON. */
static void json_string(FILE *out, const uint8_t *p, size_t n)
{
	fputc('"', out);
	for (size_t i = 0; i < n;) {
		uint8_t c = p[i];
		size_t k = utf8_sequence(p + i, n - i);
		if (c == '"' || c == '\\') {
			fputc('\\', out);
			fputc(c, out);
		} else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c == '\r')
			fputs("\\r", out);
		else if (c < 0x20 || c == 0x7f || k == 0)
			fprintf(out, "\\u%04x", c);
		else {
			fwrite(p + i, 1, k, out);
			i += k;
			continue;
		}
		i++;
	}
	fputc('"', out);
}

static void json_cstr(FILE *out, const char *s)
{
	json_string(out, (const uint8_t *)s, strlen(s));
}

static void base64(FILE *out, const uint8_t *p, size_t n)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	fputc('"', out);
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		fputc(abc[v >> 18 & 63], out);
		fputc(abc[v >> 12 & 63], out);
		fputc(i + 1 < n ? abc[v >> 6 & 63] : '=', out);
		fputc(i + 2 < n ? abc[v & 63] : '=', out);
	}
	fputc('"', out);
}

/* ,"name":"..." for UTF-8 bytes, ,"nameBase64":"..." for any others. */
static void json_bytes_field(FILE *out, const char *name, const uint8_t *p, size_t n)
{
	if (utf8_valid(p, n)) {
		fprintf(out, ",\"%s\":", name);
		json_string(out, p, n);
	} else {
		fprintf(out, ",\"%sBase64\":", name);
		base64(out, p, n);
	}
}

static const char *bool_name(bool b)
{
	return b ? "true" : "false";
}

/* ---- files and names ------------------------------------------------------------------------ */

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static bool has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), m = strlen(suffix);
	return n >= m && strcmp(name + n - m, suffix) == 0;
}

/* The base offset in a "<20 digits>..." file name, or -1. */
static int64_t name_base_offset(const char *path)
{
	const char *name = base_name(path);
	char log_name[25];
	int64_t base;
	if (strlen(name) < 21 || name[20] != '.')
		return -1;
	memcpy(log_name, name, 20);
	memcpy(log_name + 20, ".log", 5);
	return segment_parse_name(log_name, &base) ? base : -1;
}

enum dump_kind dump_kind_of(const char *path)
{
	const char *name = base_name(path);
	if (has_suffix(name, ".log") || has_suffix(name, ".swap") || has_suffix(name, ".cleaned"))
		return DUMP_SEGMENT;
	if (has_suffix(name, ".timeindex"))
		return DUMP_TIME_INDEX;
	if (has_suffix(name, ".index"))
		return DUMP_OFFSET_INDEX;
	if (has_suffix(name, ".digest"))
		return DUMP_DIGEST;
	if (has_suffix(name, ".checkpoint") || has_suffix(name, ".checkpoint.tmp"))
		return DUMP_CHECKPOINT;
	return DUMP_UNKNOWN;
}

static void print_file(FILE *out, const struct dump_options *opt, const char *path,
                       const char *kind, int64_t base)
{
	if (opt->json) {
		fputs("{\"type\":\"file\",\"path\":", out);
		json_cstr(out, path);
		fprintf(out, ",\"kind\":\"%s\"", kind);
		if (base >= 0)
			fprintf(out, ",\"baseOffset\":%" PRId64, base);
		fputs("}\n", out);
		return;
	}
	fprintf(out, "Dumping %s\n", path);
	if (!strcmp(kind, "segment")) {
		if (base >= 0)
			fprintf(out, "Log starting offset: %" PRId64 "\n", base);
		else
			fputs("Log starting offset: unknown (the name is not <20 digits>.log)\n",
			      out);
	}
}

/* A problem found in a file that is not a segment: "Invalid <what>: <why>". */
static void print_invalid(FILE *out, const struct dump_options *opt, const char *what,
                          const char *why)
{
	if (opt->json) {
		fprintf(out, "{\"type\":\"invalid\",\"what\":\"%s\",\"reason\":", what);
		json_cstr(out, why);
		fputs("}\n", out);
	} else {
		fprintf(out, "Invalid %s: %s\n", what, why);
	}
}

/* ---- segments ------------------------------------------------------------------------------- */

/* Kafka's DefaultRecordBatch.incrementSequence: sequences wrap from INT32_MAX to 0. */
static int32_t sequence_add(int32_t base, int32_t delta)
{
	if (base == RB_NO_SEQUENCE)
		return RB_NO_SEQUENCE;
	if (base > INT32_MAX - delta)
		return delta - (INT32_MAX - base) - 1;
	return base + delta;
}

static const char *timestamp_type(const struct record_batch_header *h)
{
	return h->attributes & RB_ATTR_LOG_APPEND_TIME ? "LogAppendTime" : "CreateTime";
}

static void print_batch(FILE *out, const struct dump_options *opt,
                        const struct segment_scan_batch *b)
{
	const struct record_batch_header *h = &b->h;
	bool horizon = h->attributes & RB_ATTR_DELETE_HORIZON;
	if (opt->json) {
		fprintf(out,
		        "{\"type\":\"batch\",\"baseOffset\":%" PRId64 ",\"lastOffset\":%" PRId64
		        ",\"count\":%" PRId32 ",\"baseSequence\":%" PRId32
		        ",\"lastSequence\":%" PRId32 ",\"producerId\":%" PRId64
		        ",\"producerEpoch\":%d,\"partitionLeaderEpoch\":%" PRId32
		        ",\"isTransactional\":%s,\"isControl\":%s,\"deleteHorizonMs\":",
		        h->base_offset, record_batch_last_offset(h), h->records_count,
		        h->base_sequence, sequence_add(h->base_sequence, h->last_offset_delta),
		        h->producer_id, h->producer_epoch, h->partition_leader_epoch,
		        bool_name(h->attributes & RB_ATTR_TRANSACTIONAL),
		        bool_name(h->attributes & RB_ATTR_CONTROL));
		if (horizon)
			fprintf(out, "%" PRId64, h->base_timestamp);
		else
			fputs("null", out);
		fprintf(out,
		        ",\"position\":%" PRIu64
		        ",\"timestampType\":\"%s\",\"maxTimestamp\":%" PRId64 ",\"size\":%" PRIu32
		        ",\"magic\":%d,\"compresscodec\":\"%s\",\"crc\":%" PRIu32 ",\"isvalid\":%s",
		        b->position, timestamp_type(h), h->max_timestamp, record_batch_size(h),
		        h->magic, compression_name(record_batch_codec(h)), h->crc,
		        bool_name(b->valid));
		if (!b->valid) {
			fputs(",\"problem\":", out);
			json_cstr(out, b->problem);
		}
		fputs("}\n", out);
		return;
	}
	fprintf(out,
	        "baseOffset: %" PRId64 " lastOffset: %" PRId64 " count: %" PRId32
	        " baseSequence: %" PRId32 " lastSequence: %" PRId32 " producerId: %" PRId64
	        " producerEpoch: %d partitionLeaderEpoch: %" PRId32
	        " isTransactional: %s isControl: %s deleteHorizonMs: ",
	        h->base_offset, record_batch_last_offset(h), h->records_count, h->base_sequence,
	        sequence_add(h->base_sequence, h->last_offset_delta), h->producer_id,
	        h->producer_epoch, h->partition_leader_epoch,
	        bool_name(h->attributes & RB_ATTR_TRANSACTIONAL),
	        bool_name(h->attributes & RB_ATTR_CONTROL));
	if (horizon)
		fprintf(out, "OptionalLong[%" PRId64 "]", h->base_timestamp);
	else
		fputs("OptionalLong.empty", out);
	fprintf(out,
	        " position: %" PRIu64 " %s: %" PRId64 " size: %" PRIu32
	        " magic: %d compresscodec: %s crc: %" PRIu32 " isvalid: %s\n",
	        b->position, timestamp_type(h), h->max_timestamp, record_batch_size(h), h->magic,
	        compression_name(record_batch_codec(h)), h->crc, bool_name(b->valid));
	if (!b->valid)
		fprintf(out, "Invalid batch at position %" PRIu64 ": %s\n", b->position,
		        b->problem);
}

static void print_header_keys(FILE *out, const struct dump_options *opt, const struct record *rec)
{
	struct record_header_iter it;
	struct record_header hd;
	bool first = true;
	record_header_iter_init(&it, rec);
	fputs(opt->json ? ",\"headerKeys\":[" : " headerKeys: [", out);
	while (record_header_iter_next(&it, &hd) == 1) {
		if (!first)
			fputc(',', out);
		first = false;
		if (opt->json)
			json_string(out, hd.key, (size_t)hd.key_len);
		else
			text_bytes(out, hd.key, (size_t)hd.key_len);
	}
	fputc(']', out);
}

/* A control record (transaction marker): key = i16 version, i16 type; value = i16 version,
 * i32 coordinator epoch. Returns false when the record is not one. */
static bool print_control(FILE *out, const struct dump_options *opt, const struct record *rec)
{
	if (rec->key_len < 4 || rec->value_len < 6)
		return false;
	int16_t type = (int16_t)load_be16(rec->key + 2);
	int32_t coordinator_epoch = (int32_t)load_be32(rec->value + 2);
	const char *name = type == 0 ? "ABORT" : type == 1 ? "COMMIT" : "UNKNOWN";
	if (opt->json)
		fprintf(out, ",\"endTxnMarker\":\"%s\",\"coordinatorEpoch\":%" PRId32, name,
		        coordinator_epoch);
	else
		fprintf(out, " endTxnMarker: %s coordinatorEpoch: %" PRId32, name,
		        coordinator_epoch);
	return true;
}

static void print_record(FILE *out, const struct dump_options *opt,
                         const struct record_batch_header *h, const struct record *rec)
{
	int64_t timestamp = h->attributes & RB_ATTR_LOG_APPEND_TIME
	                        ? h->max_timestamp
	                        : h->base_timestamp + rec->timestamp_delta;
	int64_t offset = h->base_offset + rec->offset_delta;
	int32_t sequence = sequence_add(h->base_sequence, rec->offset_delta);
	if (opt->json)
		fprintf(out,
		        "{\"type\":\"record\",\"offset\":%" PRId64
		        ",\"timestampType\":\"%s\",\"timestamp\":%" PRId64 ",\"keySize\":%" PRId32
		        ",\"valueSize\":%" PRId32 ",\"sequence\":%" PRId32,
		        offset, timestamp_type(h), timestamp, rec->key_len, rec->value_len,
		        sequence);
	else
		fprintf(out,
		        "| offset: %" PRId64 " %s: %" PRId64 " keySize: %" PRId32
		        " valueSize: %" PRId32 " sequence: %" PRId32,
		        offset, timestamp_type(h), timestamp, rec->key_len, rec->value_len,
		        sequence);
	print_header_keys(out, opt, rec);
	if (!(h->attributes & RB_ATTR_CONTROL) || !print_control(out, opt, rec)) {
		/* Like kafka-dump-log: a null key or value is left out (keySize/valueSize -1). */
		if (opt->json) {
			if (rec->key_len >= 0)
				json_bytes_field(out, "key", rec->key, (size_t)rec->key_len);
			if (rec->value_len >= 0)
				json_bytes_field(out, "payload", rec->value,
				                 (size_t)rec->value_len);
		} else {
			if (rec->key_len >= 0) {
				fputs(" key: ", out);
				text_bytes(out, rec->key, (size_t)rec->key_len);
			}
			if (rec->value_len >= 0) {
				fputs(" payload: ", out);
				text_bytes(out, rec->value, (size_t)rec->value_len);
			}
		}
	}
	fputs(opt->json ? "}\n" : "\n", out);
}

/* The records as far as they are well formed (the batch's problem says where they stop). */
static void print_records(FILE *out, const struct dump_options *opt,
                          const struct segment_scan_batch *b)
{
	struct record_iter it;
	struct record rec;
	record_iter_init(&it, b->records, b->records_len, b->h.records_count);
	while (record_iter_next(&it, &rec) == 1)
		print_record(out, opt, &b->h, &rec);
}

static const struct {
	const char *name;
	unsigned offset;
	unsigned size;
	bool is_unsigned;
} header_fields[] = {
	{ "baseOffset", RB_BASE_OFFSET, 8, false },
	{ "batchLength", RB_BATCH_LENGTH, 4, false },
	{ "partitionLeaderEpoch", RB_PARTITION_LEADER_EPOCH, 4, false },
	{ "magic", RB_MAGIC, 1, false },
	{ "crc", RB_CRC, 4, true },
	{ "attributes", RB_ATTRIBUTES, 2, false },
	{ "lastOffsetDelta", RB_LAST_OFFSET_DELTA, 4, false },
	{ "baseTimestamp", RB_BASE_TIMESTAMP, 8, false },
	{ "maxTimestamp", RB_MAX_TIMESTAMP, 8, false },
	{ "producerId", RB_PRODUCER_ID, 8, false },
	{ "producerEpoch", RB_PRODUCER_EPOCH, 2, false },
	{ "baseSequence", RB_BASE_SEQUENCE, 4, false },
	{ "recordsCount", RB_RECORDS_COUNT, 4, false },
};

/* The header fields wholly present in p[0, len), for a batch that could not be read. */
static void print_header_fields(FILE *out, const struct dump_options *opt, const uint8_t *p,
                                size_t len)
{
	fputs(opt->json ? ",\"header\":{" : " ", out);
	bool first = true;
	for (size_t i = 0; i < sizeof(header_fields) / sizeof(header_fields[0]); i++) {
		if (header_fields[i].offset + header_fields[i].size > len)
			break;
		const uint8_t *q = p + header_fields[i].offset;
		int64_t v;
		switch (header_fields[i].size) {
		case 1:
			v = (int8_t)q[0];
			break;
		case 2:
			v = (int16_t)load_be16(q);
			break;
		case 4:
			v = header_fields[i].is_unsigned ? (int64_t)load_be32(q)
			                                 : (int32_t)load_be32(q);
			break;
		default:
			v = (int64_t)load_be64(q);
			break;
		}
		if (opt->json)
			fprintf(out, "%s\"%s\":%" PRId64, first ? "" : ",", header_fields[i].name,
			        v);
		else
			fprintf(out, " %s: %" PRId64, header_fields[i].name, v);
		first = false;
	}
	fputs(opt->json ? "}" : "\n", out);
}

static void print_end(FILE *out, const struct dump_options *opt, const struct segment_scan *s)
{
	bool header = (s->end == SEGMENT_SCAN_TORN || s->end == SEGMENT_SCAN_INVALID) &&
	              s->header_len >= RB_BASE_OFFSET + 8;
	if (opt->json) {
		fprintf(out,
		        "{\"type\":\"end\",\"position\":%" PRIu64 ",\"end\":\"%s\",\"reason\":",
		        s->end_position, segment_scan_end_name(s->end));
		json_cstr(out, s->why);
		if (s->end == SEGMENT_SCAN_GARBAGE)
			fprintf(out, ",\"garbagePosition\":%" PRIu64, s->garbage_position);
		if (header)
			print_header_fields(out, opt, s->header, s->header_len);
		fputs("}\n", out);
		fprintf(out,
		        "{\"type\":\"summary\",\"batches\":%" PRIu64 ",\"records\":%" PRIu64
		        ",\"validBytes\":%" PRIu64 ",\"fileBytes\":%" PRIu64
		        ",\"invalidBatches\":%" PRIu64 ",\"end\":\"%s\"}\n",
		        s->batches, s->records, s->valid_bytes, s->file_size, s->invalid_batches,
		        segment_scan_end_name(s->end));
		return;
	}
	const char *what = s->end == SEGMENT_SCAN_TORN      ? "Torn batch at"
	                   : s->end == SEGMENT_SCAN_INVALID ? "Invalid batch at"
	                                                    : "End of data at";
	fprintf(out, "%s position %" PRIu64 ": %s\n", what, s->end_position, s->why);
	if (header)
		print_header_fields(out, opt, s->header, s->header_len);
	fprintf(out,
	        "Summary: batches: %" PRIu64 " records: %" PRIu64 " validBytes: %" PRIu64
	        " fileBytes: %" PRIu64 " invalidBatches: %" PRIu64 " end: %s\n",
	        s->batches, s->records, s->valid_bytes, s->file_size, s->invalid_batches,
	        segment_scan_end_name(s->end));
}

int dump_segment(FILE *out, const char *path, const struct dump_options *opt)
{
	int64_t base = name_base_offset(path);
	struct segment_scan s;
	int rc = segment_scan_open(&s, path, base);
	if (rc < 0)
		return rc;
	print_file(out, opt, path, "segment", base);
	struct segment_scan_batch b;
	while ((rc = segment_scan_next(&s, &b)) == 1) {
		print_batch(out, opt, &b);
		if (opt->records && b.records)
			print_records(out, opt, &b);
	}
	if (rc == 0) {
		print_end(out, opt, &s);
		bool clean_end = s.end == SEGMENT_SCAN_EOF || s.end == SEGMENT_SCAN_ZEROS;
		rc = s.invalid_batches || !clean_end ? 1 : 0;
	}
	segment_scan_close(&s);
	return rc;
}

/* ---- index files ---------------------------------------------------------------------------- */

static int open_regular(const char *path, FILE **out)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	struct stat st;
	int rc = fstat(fileno(f), &st) < 0 ? -errno : 0;
	if (rc == 0 && S_ISDIR(st.st_mode))
		rc = -EISDIR;
	else if (rc == 0 && !S_ISREG(st.st_mode))
		rc = -EINVAL;
	if (rc < 0) {
		fclose(f);
		return rc;
	}
	*out = f;
	return 0;
}

/* Streams the entries (no bound on the file's size) and checks the validity rule of
 * offset_index.h / time_index.h as it goes. */
static int dump_index(FILE *out, const char *path, const struct dump_options *opt, bool time)
{
	FILE *f;
	int rc = open_regular(path, &f);
	if (rc < 0)
		return rc;
	int64_t base = name_base_offset(path);
	print_file(out, opt, path, time ? "timeindex" : "index", base);
	if (base < 0) {
		print_invalid(out, opt, "name", "not <20 digits>.index: offsets are relative");
		base = 0;
	}
	size_t entry = time ? TIME_INDEX_ENTRY_BYTES : OFFSET_INDEX_ENTRY_BYTES;
	uint8_t e[TIME_INDEX_ENTRY_BYTES];
	uint64_t entries = 0, invalid = 0;
	int64_t prev_off = -1, prev_pos = -1, prev_ts = INT64_MIN;
	size_t n;
	char why[160];
	while ((n = fread(e, 1, entry, f)) == entry) {
		int64_t ts = time ? (int64_t)load_be64(e) : 0;
		int64_t off = load_be32(time ? e + 8 : e);
		int64_t pos = time ? 0 : load_be32(e + 4);
		if (opt->json && time)
			fprintf(out,
			        "{\"type\":\"entry\",\"timestamp\":%" PRId64 ",\"offset\":%" PRId64
			        "}\n",
			        ts, base + off);
		else if (opt->json)
			fprintf(out,
			        "{\"type\":\"entry\",\"offset\":%" PRId64 ",\"position\":%" PRId64
			        "}\n",
			        base + off, pos);
		else if (time)
			fprintf(out, "timestamp: %" PRId64 " offset: %" PRId64 "\n", ts,
			        base + off);
		else
			fprintf(out, "offset: %" PRId64 " position: %" PRId64 "\n", base + off,
			        pos);
		why[0] = '\0';
		if (off <= prev_off)
			snprintf(why, sizeof(why),
			         "entry %" PRIu64 ": offset %" PRId64
			         " is not above the previous %" PRId64,
			         entries, base + off, base + prev_off);
		else if (!time && pos <= prev_pos)
			snprintf(why, sizeof(why),
			         "entry %" PRIu64 ": position %" PRId64
			         " is not above the previous %" PRId64,
			         entries, pos, prev_pos);
		else if (time && entries && ts <= prev_ts)
			snprintf(why, sizeof(why),
			         "entry %" PRIu64 ": timestamp %" PRId64
			         " is not above the previous %" PRId64,
			         entries, ts, prev_ts);
		if (why[0]) {
			print_invalid(out, opt, "entry", why);
			invalid++;
		}
		prev_off = off;
		prev_pos = pos;
		prev_ts = ts;
		entries++;
	}
	if (ferror(f))
		rc = -EIO;
	else if (n > 0) {
		snprintf(why, sizeof(why),
		         "%zu bytes after entry %" PRIu64 " are not a whole entry", n, entries);
		print_invalid(out, opt, "entry", why);
		invalid++;
	}
	fclose(f);
	if (rc < 0)
		return rc;
	if (opt->json)
		fprintf(out,
		        "{\"type\":\"summary\",\"entries\":%" PRIu64 ",\"invalidEntries\":%" PRIu64
		        "}\n",
		        entries, invalid);
	else
		fprintf(out, "Summary: entries: %" PRIu64 " invalidEntries: %" PRIu64 "\n", entries,
		        invalid);
	return invalid ? 1 : 0;
}

int dump_offset_index(FILE *out, const char *path, const struct dump_options *opt)
{
	return dump_index(out, path, opt, false);
}

int dump_time_index(FILE *out, const char *path, const struct dump_options *opt)
{
	return dump_index(out, path, opt, true);
}

/* ---- digests -------------------------------------------------------------------------------- */

/* The directory part of path, into dir. */
static int dir_of(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');
	int n =
	    slash ? snprintf(dir, cap, "%.*s", (int)(slash - path), path) : snprintf(dir, cap, ".");
	if (slash == path)
		n = snprintf(dir, cap, "/");
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int dump_digest(FILE *out, const char *path, const struct dump_options *opt)
{
	char dir[PATH_MAX], log_path[PATH_MAX];
	int64_t base = name_base_offset(path);
	int rc = dir_of(path, dir, sizeof(dir));
	if (rc < 0)
		return rc;
	if (base < 0 || strcmp(base_name(path) + 20, ".digest") != 0)
		return -EINVAL; /* segment_read_digest finds digests by base offset */
	struct hash128 want, got;
	uint64_t size;
	rc = segment_read_digest(dir, base, &want, &size);
	if (rc < 0 && rc != -TAPE_ECORRUPT)
		return rc;
	print_file(out, opt, path, "digest", base);
	if (rc == -TAPE_ECORRUPT) {
		print_invalid(out, opt, "digest",
		              "not of the form \"XXH3_128 <32 hex digits> <size>\"");
		return 1;
	}
	if (opt->json)
		fprintf(out,
		        "{\"type\":\"digest\",\"algorithm\":\"XXH3_128\",\"digest\":\"%016" PRIx64
		        "%016" PRIx64 "\",\"size\":%" PRIu64 "}\n",
		        want.high, want.low, size);
	else
		fprintf(out,
		        "algorithm: XXH3_128 digest: %016" PRIx64 "%016" PRIx64 " size: %" PRIu64
		        "\n",
		        want.high, want.low, size);
	if (segment_path(log_path, sizeof(log_path), dir, base, ".log") < 0)
		return -ENAMETOOLONG;
	FILE *f;
	rc = open_regular(log_path, &f);
	char why[PATH_MAX + 96];
	if (rc < 0) {
		snprintf(why, sizeof(why), "%s cannot be opened: %s", log_path, tape_strerror(rc));
		print_invalid(out, opt, "log", why);
		return 1;
	}
	struct stat st;
	rc = fstat(fileno(f), &st) < 0 ? -errno : 0;
	uint64_t log_size = rc == 0 ? (uint64_t)st.st_size : 0;
	if (rc == 0 && log_size >= size)
		rc = segment_digest(fileno(f), size, &got);
	fclose(f);
	if (rc < 0)
		return rc;
	if (log_size < size) {
		snprintf(why, sizeof(why), "%s has %" PRIu64 " bytes, fewer than the digest covers",
		         log_path, log_size);
		print_invalid(out, opt, "log", why);
		return 1;
	}
	bool matches = got.high == want.high && got.low == want.low && log_size == size;
	if (opt->json) {
		fputs("{\"type\":\"log\",\"path\":", out);
		json_cstr(out, log_path);
		fprintf(out,
		        ",\"size\":%" PRIu64 ",\"digest\":\"%016" PRIx64 "%016" PRIx64
		        "\",\"matches\":%s}\n",
		        log_size, got.high, got.low, bool_name(matches));
	} else {
		fprintf(out,
		        "log: %s size: %" PRIu64 " digest: %016" PRIx64 "%016" PRIx64
		        "%s matches: %s\n",
		        log_path, log_size, got.high, got.low,
		        log_size == size ? "" : " (of the bytes the digest covers)",
		        bool_name(matches));
	}
	return matches ? 0 : 1;
}

/* ---- checkpoints ---------------------------------------------------------------------------- */

static const char *checkpoint_kind_name(unsigned kind)
{
	switch (kind) {
	case CHECKPOINT_PARTITION:
		return "partition";
	case CHECKPOINT_LEADER_EPOCH:
		return "leader-epoch";
	case CHECKPOINT_PRODUCER_STATE:
		return "producer-state";
	case CHECKPOINT_METADATA:
		return "metadata";
	case CHECKPOINT_METASTORE:
		return "metastore";
	}
	return "unknown";
}

/* The kind a checkpoint's file name promises, or 0. */
static unsigned checkpoint_kind_by_name(const char *path)
{
	const char *name = base_name(path);
	for (unsigned k = CHECKPOINT_PARTITION; k <= CHECKPOINT_PRODUCER_STATE; k++) {
		size_t n = strlen(checkpoint_kind_name(k));
		if (!strncmp(name, checkpoint_kind_name(k), n) &&
		    !strncmp(name + n, ".checkpoint", 11))
			return k;
	}
	return 0;
}

static void print_partition_state(FILE *out, const struct dump_options *opt,
                                  const struct verify_partition_state *st)
{
	fprintf(out,
	        opt->json ? "{\"type\":\"partition\",\"recoveryPoint\":%" PRId64
	                    ",\"logStartOffset\":%" PRId64 ",\"highWatermark\":%" PRId64
	                    ",\"clean\":%s,\"quarantined\":["
	                  : "recoveryPoint: %" PRId64 " logStartOffset: %" PRId64
	                    " highWatermark: %" PRId64 " clean: %s quarantined: [",
	        st->recovery_point, st->log_start_offset, st->high_watermark, bool_name(st->clean));
	for (uint32_t i = 0; i < st->quarantine_count; i++)
		fprintf(out,
		        opt->json ? "%s{\"start\":%" PRId64 ",\"end\":%" PRId64 "}"
		                  : "%s%" PRId64 "-%" PRId64,
		        i ? "," : "", st->quarantine[i].start, st->quarantine[i].end);
	fputs(opt->json ? "]}\n" : "]\n", out);
}

static void print_epochs(FILE *out, const struct dump_options *opt,
                         const struct leader_epoch_cache *c)
{
	fprintf(out, opt->json ? "{\"type\":\"epochs\",\"count\":%zu}\n" : "epochs: %zu\n",
	        c->count);
	for (size_t i = 0; i < c->count; i++)
		fprintf(out,
		        opt->json ? "{\"type\":\"epoch\",\"epoch\":%" PRId32
		                    ",\"startOffset\":%" PRId64 "}\n"
		                  : "epoch: %" PRId32 " startOffset: %" PRId64 "\n",
		        c->entries[i].epoch, c->entries[i].start_offset);
}

static int compare_producers(const void *a, const void *b)
{
	int64_t x = (*(const struct producer_entry *const *)a)->producer_id;
	int64_t y = (*(const struct producer_entry *const *)b)->producer_id;
	return (x > y) - (x < y);
}

static int print_producers(FILE *out, const struct dump_options *opt,
                           const struct producer_state *ps, int64_t snapshot)
{
	const struct producer_entry **list = malloc((ps->count ? ps->count : 1) * sizeof(*list));
	if (!list)
		return -ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < ps->cap && n < ps->count; i++)
		if (ps->slots[i].producer_id >= 0)
			list[n++] = &ps->slots[i];
	qsort(list, n, sizeof(*list), compare_producers);
	fprintf(out,
	        opt->json ? "{\"type\":\"producers\",\"snapshotOffset\":%" PRId64
	                    ",\"count\":%zu}\n"
	                  : "snapshotOffset: %" PRId64 " producers: %zu\n",
	        snapshot, n);
	for (size_t i = 0; i < n; i++) {
		const struct producer_entry *e = list[i];
		fprintf(out,
		        opt->json
		            ? "{\"type\":\"producer\",\"producerId\":%" PRId64
		              ",\"producerEpoch\":%d,\"lastTimestamp\":%" PRId64 ",\"batches\":["
		            : "producerId: %" PRId64 " producerEpoch: %d lastTimestamp: %" PRId64
		              " batches: %u\n",
		        e->producer_id, e->epoch, e->last_timestamp, (unsigned)e->batches_count);
		for (unsigned k = 0; k < e->batches_count; k++) {
			const struct producer_batch *pb = &e->batches[k];
			fprintf(out,
			        opt->json ? "%s{\"firstSequence\":%" PRId32
			                    ",\"lastSequence\":%" PRId32 ",\"firstOffset\":%" PRId64
			                    ",\"lastOffset\":%" PRId64 ",\"timestamp\":%" PRId64 "}"
			                  : "%s| firstSequence: %" PRId32 " lastSequence: %" PRId32
			                    " firstOffset: %" PRId64 " lastOffset: %" PRId64
			                    " timestamp: %" PRId64 "\n",
			        opt->json && k ? "," : "", pb->first_seq, pb->last_seq,
			        pb->first_offset, pb->last_offset, pb->timestamp);
		}
		if (opt->json)
			fputs("]}\n", out);
	}
	free(list);
	return 0;
}

/* Decodes and prints a valid checkpoint's payload. 0, 1 when it does not decode, -errno. */
static int print_payload(FILE *out, const struct dump_options *opt, unsigned kind, const uint8_t *p,
                         size_t len)
{
	char why[160];
	int rc = 0;
	if (kind == CHECKPOINT_PARTITION) {
		struct verify_partition_state st;
		if (!verify_decode_partition_state(p, len, &st, why, sizeof(why))) {
			print_invalid(out, opt, "payload", why);
			return 1;
		}
		print_partition_state(out, opt, &st);
	} else if (kind == CHECKPOINT_LEADER_EPOCH) {
		struct leader_epoch_cache c;
		leader_epoch_init(&c);
		rc = leader_epoch_decode(&c, p, len);
		if (rc == 0)
			print_epochs(out, opt, &c);
		leader_epoch_free(&c);
	} else if (kind == CHECKPOINT_PRODUCER_STATE) {
		struct producer_state ps;
		int64_t snapshot;
		producer_state_init(&ps);
		rc = producer_state_decode(&ps, p, len, &snapshot);
		if (rc == 0)
			rc = print_producers(out, opt, &ps, snapshot);
		producer_state_free(&ps);
	} else {
		fprintf(out,
		        opt->json ? "{\"type\":\"payload\",\"bytes\":%zu}\n"
		                  : "payload: %zu bytes (not decoded)\n",
		        len);
	}
	if (rc == -TAPE_ECORRUPT) {
		print_invalid(out, opt, "payload", "does not decode (lengths, counts or order)");
		return 1;
	}
	return rc;
}

int dump_checkpoint(FILE *out, const char *path, const struct dump_options *opt)
{
	uint8_t *buf;
	size_t len;
	int rc = verify_read_file(path, CHECKPOINT_BYTES_MAX, &buf, &len);
	if (rc < 0)
		return rc == -EFBIG ? -TAPE_ETOOLARGE : rc;
	print_file(out, opt, path, "checkpoint", -1);
	struct verify_checkpoint_header hdr;
	char why[160];
	bool ok = verify_checkpoint_bytes(buf, len, &hdr, why, sizeof(why));
	fprintf(out,
	        opt->json ? "{\"type\":\"checkpoint\",\"magic\":%s,\"version\":%u,\"kind\":%u,"
	                    "\"kindName\":\"%s\",\"payloadLength\":%" PRIu32
	                    ",\"checksum\":\"%016" PRIx64 "\",\"computed\":\"%016" PRIx64
	                    "\",\"isvalid\":%s}\n"
	                  : "magic: %s version: %u kind: %u (%s) payloadLength: %" PRIu32
	                    " checksum: %016" PRIx64 " computed: %016" PRIx64 " isvalid: %s\n",
	        opt->json ? (hdr.magic_ok ? "true" : "false") : (hdr.magic_ok ? "TAPECKPT" : "bad"),
	        hdr.version, hdr.kind, checkpoint_kind_name(hdr.kind), hdr.payload_len,
	        hdr.checksum, hdr.checksum_computed, bool_name(ok));
	unsigned named = checkpoint_kind_by_name(path);
	if (!ok) {
		print_invalid(out, opt, "checkpoint", why);
		rc = 1;
	} else if (named && named != hdr.kind) {
		snprintf(why, sizeof(why), "kind %u (%s), but the file name says %s", hdr.kind,
		         checkpoint_kind_name(hdr.kind), checkpoint_kind_name(named));
		print_invalid(out, opt, "checkpoint", why);
		rc = 1;
	} else {
		rc = print_payload(out, opt, hdr.kind, buf + CHECKPOINT_HEADER_BYTES,
		                   len - CHECKPOINT_HEADER_BYTES);
	}
	free(buf);
	return rc;
}

int dump_file(FILE *out, const char *path, const struct dump_options *opt)
{
	switch (dump_kind_of(path)) {
	case DUMP_SEGMENT:
		return dump_segment(out, path, opt);
	case DUMP_OFFSET_INDEX:
		return dump_offset_index(out, path, opt);
	case DUMP_TIME_INDEX:
		return dump_time_index(out, path, opt);
	case DUMP_DIGEST:
		return dump_digest(out, path, opt);
	case DUMP_CHECKPOINT:
		return dump_checkpoint(out, path, opt);
	case DUMP_UNKNOWN:
		break;
	}
	return -EINVAL;
}
