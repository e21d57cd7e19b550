/*
 * tests/unit/client/test_consumer.c: libtape's consumer (client/consumer.c) against the
 * scripted broker of fake_broker.h. Records are put in the fake by libtape's producer (a
 * flush after each group makes each group one batch), so batches are exactly as a client
 * writes them, compressed or not.
 *
 * Covers: every codec (none, gzip, snappy, lz4, zstd) read back with keys, null keys and
 * values, headers with null values and timestamps, then one EOF at the high watermark and
 * nothing more; a fetch starting inside a batch (records below the offset skipped, the Fetch
 * asking for that offset); answers cut inside a batch by partition_fetch_bytes (the partial
 * batch ignored and fetched again from its base offset, every record once and in order);
 * fetch-ahead (the next Fetch sent as soon as an answer's records are queued, before the
 * reader asked for them) and its bound (with fetch_buffer_bytes reached, no Fetch until the
 * records were read); OFFSET_OUT_OF_RANGE reset to the earliest or latest offset, or
 * reported with TAPE_RESET_ERROR and recovered by a seek; NOT_LEADER_OR_FOLLOWER answers and a
 * lost connection (metadata asked again, every record still read once); starts by ListOffsets
 * (beginning, end then following the tail, end minus N, clamped at the log start, by time and
 * a time past every record); several partitions with per-partition order, one EOF each, and
 * their watermarks; position and seek; an unknown topic and an unknown partition.
 */
#include "client/tape.h"
#include "fake_broker.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N_MAX 1024

struct rig {
	struct fake_broker fb;
	struct tape_client *cl;
	struct tape_producer *p;
	struct tape_consumer *c;
};

/* What was read: records in order, and EOF events. */
struct got {
	int n;
	int32_t partition[N_MAX];
	int64_t offset[N_MAX];
	char value[N_MAX][160];
	char key[N_MAX][32];
	int32_t value_len[N_MAX];
	int32_t key_len[N_MAX];
	int64_t timestamp[N_MAX];
	char headers[N_MAX][64];
	int eofs;
	int64_t eof_offset[8];
};

static void rig_start(struct rig *g, int codec, struct tape_consumer_config *ccfg)
{
	fake_start(&g->fb);
	char brokers[64];
	snprintf(brokers, sizeof(brokers), "127.0.0.1:%d", g->fb.port);
	struct tape_client_config cl;
	tape_client_config_init(&cl);
	cl.brokers = brokers;
	cl.allow_auto_create_topics = false;
	cl.retry_backoff_ms = 10;
	cl.retry_backoff_max_ms = 50;
	cl.reconnect_backoff_ms = 10;
	cl.reconnect_backoff_max_ms = 50;
	struct tape_error err;
	cr_assert_eq(tape_client_new(&cl, &g->cl, &err), 0, "%s", err.message);
	struct tape_producer_config pc;
	tape_producer_config_init(&pc);
	pc.compression = codec;
	pc.linger_ms = 1000; /* a batch ends at each flush */
	cr_assert_eq(tape_producer_new(g->cl, &pc, &g->p, &err), 0, "%s", err.message);
	struct tape_consumer_config defaults;
	tape_consumer_config_init(&defaults);
	defaults.fetch_max_wait_ms = 20;
	cr_assert_eq(tape_consumer_new(g->cl, ccfg ? ccfg : &defaults, &g->c, &err), 0, "%s",
	             err.message);
}

static void rig_stop(struct rig *g)
{
	tape_consumer_free(g->c);
	tape_producer_free(g->p);
	tape_client_free(g->cl);
	fake_stop(&g->fb);
}

/* One batch of n records to partition: value "v-<i>" padded to pad bytes, key "k-<i>" (null
 * for i % 5 == 0), header h=<i> and a null-valued header n (none for i % 3 == 0), value null
 * for i % 7 == 3 when nulls, timestamp 1000 + 10 i. */
static void produce(struct rig *g, int32_t partition, int from, int n, int pad, bool nulls)
{
	struct tape_error err;
	for (int i = from; i < from + n; i++) {
		char key[32], value[160], hv[16];
		snprintf(key, sizeof(key), "k-%d", i);
		snprintf(value, sizeof(value), "v-%d", i);
		size_t len = strlen(value);
		while ((int)len < pad && len < sizeof(value) - 1)
			value[len++] = (char)('a' + i % 26);
		value[len] = '\0';
		snprintf(hv, sizeof(hv), "%d", i);
		struct tape_header h[2] = { { "h", hv, (int32_t)strlen(hv) }, { "n", NULL, -1 } };
		struct tape_record r = TAPE_RECORD("t");
		r.partition = partition;
		if (i % 5) {
			r.key = key;
			r.key_len = (int32_t)strlen(key);
		}
		if (!(nulls && i % 7 == 3)) {
			r.value = value;
			r.value_len = (int32_t)len;
		}
		if (i % 3) {
			r.headers = h;
			r.headers_count = 2;
		}
		r.timestamp_ms = 1000 + 10 * i;
		cr_assert_eq(tape_producer_send(g->p, &r, &err), 0, "%s", err.message);
	}
	cr_assert_eq(tape_producer_flush(g->p, 10000, &err), 0, "%s", err.message);
	cr_assert_eq(tape_producer_failed(g->p), 0);
}

static void keep(struct got *w, const struct tape_message *m)
{
	cr_assert_lt(w->n, N_MAX);
	int i = w->n++;
	w->partition[i] = m->partition;
	w->offset[i] = m->offset;
	w->value_len[i] = m->value_len;
	w->key_len[i] = m->key_len;
	w->timestamp[i] = m->timestamp_ms;
	snprintf(w->value[i], sizeof(w->value[i]), "%.*s", m->value ? (int)m->value_len : 0,
	         m->value ? (const char *)m->value : "");
	snprintf(w->key[i], sizeof(w->key[i]), "%.*s", m->key ? (int)m->key_len : 0,
	         m->key ? (const char *)m->key : "");
	size_t used = 0;
	w->headers[i][0] = '\0';
	for (int32_t k = 0; k < m->headers_count; k++)
		used += (size_t)snprintf(
		    w->headers[i] + used, sizeof(w->headers[i]) - used, "%s%s=%.*s%s", k ? "," : "",
		    m->headers[k].name, m->headers[k].value ? (int)m->headers[k].value_len : 0,
		    m->headers[k].value ? (const char *)m->headers[k].value : "",
		    m->headers[k].value ? "" : "(null)");
}

/* Polls until eofs EOF events (or records_max records) came, for up to 5 s. */
static void read_until(struct rig *g, struct got *w, int eofs, int records_max)
{
	struct tape_message m;
	struct tape_error err;
	for (int i = 0; i < 500 && w->eofs < eofs && w->n < records_max; i++) {
		int rc = tape_consumer_poll(g->c, 10, &m, &err);
		cr_assert_geq(rc, 0, "poll: %s", err.message);
		if (rc == TAPE_POLL_RECORD)
			keep(w, &m);
		else if (rc == TAPE_POLL_EOF && w->eofs < 8)
			w->eof_offset[w->eofs++] = m.offset;
	}
}

static struct tape_start at(enum tape_start_kind kind, int64_t value)
{
	return (struct tape_start){ kind, value };
}

static void assign(struct rig *g, int32_t partition, struct tape_start s)
{
	struct tape_error err;
	cr_assert_eq(tape_consumer_assign(g->c, "t", partition, s, &err), 0, "%s", err.message);
}

/* Records from..from+n-1 of partition 0 were read in order, once. */
static void expect_run(const struct got *w, int first, int from, int n)
{
	for (int i = 0; i < n; i++) {
		char want[16];
		snprintf(want, sizeof(want), "v-%d", from + i);
		cr_expect_eq(w->offset[first + i], from + i, "record %d: offset %lld", first + i,
		             (long long)w->offset[first + i]);
		cr_expect(!strncmp(w->value[first + i], want, strlen(want)) &&
		              !isdigit((unsigned char)w->value[first + i][strlen(want)]),
		          "record %d: '%s' is not %s", first + i, w->value[first + i], want);
	}
}

static int fake_counter(struct rig *g, const int *counter)
{
	fake_lock(&g->fb);
	int v = *counter;
	fake_unlock(&g->fb);
	return v;
}

static void sleep_ms(int ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000L }, NULL);
}

static void codec_case(int codec)
{
	struct rig g = { 0 };
	rig_start(&g, codec, NULL);
	produce(&g, 0, 0, 20, 40, true);
	produce(&g, 0, 20, 20, 40, true);
	produce(&g, 0, 40, 20, 40, true);
	assign(&g, 0, at(TAPE_START_BEGINNING, 0));
	static struct got w;
	memset(&w, 0, sizeof(w));
	read_until(&g, &w, 1, N_MAX);
	cr_assert_eq(w.n, 60, "%s: read %d", compression_name(codec), w.n);
	for (int i = 0; i < 60; i++) {
		cr_expect_eq(w.offset[i], i);
		cr_expect_eq(w.timestamp[i], 1000 + 10 * i);
		if (i % 7 == 3) {
			cr_expect_eq(w.value_len[i], -1, "offset %d: a null value", i);
		} else {
			char want[16];
			snprintf(want, sizeof(want), "v-%d", i);
			cr_expect(!strncmp(w.value[i], want, strlen(want)), "%s", w.value[i]);
			cr_expect_geq(w.value_len[i], 40);
		}
		if (i % 5 == 0) {
			cr_expect_eq(w.key_len[i], -1, "offset %d: a null key", i);
		} else {
			char want[16];
			snprintf(want, sizeof(want), "k-%d", i);
			cr_expect_str_eq(w.key[i], want);
		}
		char hdr[64] = "";
		if (i % 3)
			snprintf(hdr, sizeof(hdr), "h=%d,n=(null)", i);
		cr_expect_str_eq(w.headers[i], hdr, "offset %d", i);
	}
	cr_expect_eq(w.eofs, 1);
	cr_expect_eq(w.eof_offset[0], 60);
	/* Nothing more, and no second EOF without new records. */
	struct tape_message m;
	struct tape_error err;
	cr_expect_eq(tape_consumer_poll(g.c, 100, &m, &err), 0);
	cr_expect_eq(tape_consumer_position(g.c, "t", 0), 60);
	rig_stop(&g);
}

Test(consumer, codec_none)
{
	codec_case(COMPRESSION_NONE);
}
Test(consumer, codec_gzip)
{
	codec_case(COMPRESSION_GZIP);
}
Test(consumer, codec_snappy)
{
	codec_case(COMPRESSION_SNAPPY);
}
Test(consumer, codec_lz4)
{
	codec_case(COMPRESSION_LZ4);
}
Test(consumer, codec_zstd)
{
	codec_case(COMPRESSION_ZSTD);
}

Test(consumer, fetch_inside_a_batch)
{
	struct rig g = { 0 };
	rig_start(&g, COMPRESSION_ZSTD, NULL);
	produce(&g, 0, 0, 10, 0, false);
	produce(&g, 0, 10, 10, 0, false);
	assign(&g, 0, at(TAPE_START_OFFSET, 5));
	cr_expect_eq(tape_consumer_position(g.c, "t", 0), 5);
	static struct got w;
	memset(&w, 0, sizeof(w));
	read_until(&g, &w, 1, N_MAX);
	cr_assert_eq(w.n, 15);
	expect_run(&w, 0, 5, 15);
	fake_lock(&g.fb);
	cr_expect_eq(g.fb.fetch_offsets[0], 5);
	fake_unlock(&g.fb);
	rig_stop(&g);
}

/* Three batches of 50 records of ~100 bytes; each answer holds one whole batch and part of
 * the next. */
static void cut_batches(struct rig *g, struct tape_consumer_config *cc)
{
	tape_consumer_config_init(cc);
	cc->fetch_max_wait_ms = 20;
	cc->partition_fetch_bytes = 50 * 110 + 61 + 500; /* > one batch, < two */
	rig_start(g, COMPRESSION_NONE, cc);
	for (int b = 0; b < 3; b++)
		produce(g, 0, b * 50, 50, 100, false);
}

Test(consumer, partial_batch_at_the_end_of_an_answer)
{
	struct rig g = { 0 };
	struct tape_consumer_config cc;
	cut_batches(&g, &cc);
	assign(&g, 0, at(TAPE_START_BEGINNING, 0));
	static struct got w;
	memset(&w, 0, sizeof(w));
	read_until(&g, &w, 1, N_MAX);
	cr_assert_eq(w.n, 150);
	expect_run(&w, 0, 0, 150);
	fake_lock(&g.fb);
	cr_assert_geq(g.fb.fetch_offsets_count, 3);
	cr_expect_eq(g.fb.fetch_offsets[0], 0);
	cr_expect_eq(g.fb.fetch_offsets[1], 50, "refetched from the cut batch's base");
	cr_expect_eq(g.fb.fetch_offsets[2], 100);
	fake_unlock(&g.fb);
	rig_stop(&g);
}

Test(consumer, fetch_ahead)
{
	struct rig g = { 0 };
	struct tape_consumer_config cc;
	cut_batches(&g, &cc);
	assign(&g, 0, at(TAPE_START_BEGINNING, 0));
	struct tape_message m;
	struct tape_error err;
	int rc = 0;
	for (int i = 0; i < 100 && rc != TAPE_POLL_RECORD; i++)
		rc = tape_consumer_poll(g.c, 10, &m, &err);
	cr_assert_eq(rc, TAPE_POLL_RECORD);
	cr_assert_eq(m.offset, 0);
	/* Without another poll, the next Fetch is already at the broker. */
	sleep_ms(100);
	cr_expect_geq(fake_counter(&g, &g.fb.fetch_seen), 2);
	static struct got w;
	memset(&w, 0, sizeof(w));
	read_until(&g, &w, 1, N_MAX);
	cr_expect_eq(w.n, 149);
	expect_run(&w, 0, 1, 149);
	rig_stop(&g);
}

Test(consumer, fetch_ahead_stops_at_the_buffer_bound)
{
	struct rig g = { 0 };
	struct tape_consumer_config cc;
	tape_consumer_config_init(&cc);
	cc.fetch_max_wait_ms = 20;
	cc.partition_fetch_bytes = 50 * 110 + 61 + 500;
	cc.fetch_buffer_bytes = 1; /* one answer held is already too much */
	rig_start(&g, COMPRESSION_NONE, &cc);
	for (int b = 0; b < 3; b++)
		produce(&g, 0, b * 50, 50, 100, false);
	assign(&g, 0, at(TAPE_START_BEGINNING, 0));
	struct tape_message m;
	struct tape_error err;
	int rc = 0;
	for (int i = 0; i < 100 && rc != TAPE_POLL_RECORD; i++)
		rc = tape_consumer_poll(g.c, 10, &m, &err);
	cr_assert_eq(rc, TAPE_POLL_RECORD);
	sleep_ms(100);
	cr_expect_eq(fake_counter(&g, &g.fb.fetch_seen), 1, "no Fetch while the answer is held");
	static struct got w;
	memset(&w, 0, sizeof(w));
	read_until(&g, &w, 1, N_MAX);
	cr_expect_eq(w.n, 149);
	expect_run(&w, 0, 1, 149);
	rig_stop(&g);
}

static void out_of_range_case(enum tape_reset reset, struct got *w, struct rig *g)
{
	struct tape_consumer_config cc;
	tape_consumer_config_init(&cc);
	cc.fetch_max_wait_ms = 20;
	cc.auto_offset_reset = reset;
	rig_start(g, COMPRESSION_NONE, &cc);
	produce(g, 0, 0, 10, 0, false);
	produce(g, 0, 10, 10, 0, false);
	fake_lock(&g->fb);
	g->fb.part[0].log_start = 10;
	fake_unlock(&g->fb);
	assign(g, 0, at(TAPE_START_OFFSET, 2));
	memset(w, 0, sizeof(*w));
}

Test(consumer, out_of_range_resets_to_earliest)
{
	struct rig g = { 0 };
	static struct got w;
	out_of_range_case(TAPE_RESET_EARLIEST, &w, &g);
	read_until(&g, &w, 1, N_MAX);
	cr_assert_eq(w.n, 10);
	expect_run(&w, 0, 10, 10);
	rig_stop(&g);
}

Test(consumer, out_of_range_resets_to_latest)
{
	struct rig g = { 0 };
	static struct got w;
	out_of_range_case(TAPE_RESET_LATEST, &w, &g);
	read_until(&g, &w, 1, N_MAX);
	cr_expect_eq(w.n, 0);
	cr_expect_eq(w.eofs, 1);
	cr_expect_eq(w.eof_offset[0], 20);
	rig_stop(&g);
}

Test(consumer, out_of_range_reported)
{
	struct rig g = { 0 };
	static struct got w;
	out_of_range_case(TAPE_RESET_ERROR, &w, &g);
	struct tape_message m;
	struct tape_error err;
	int rc = 0;
	for (int i = 0; i < 200 && rc == 0; i++)
		rc = tape_consumer_poll(g.c, 10, &m, &err);
	cr_assert_eq(rc, -TAPE_EKAFKA);
	cr_expect_eq(err.kafka_code, KAFKA_OFFSET_OUT_OF_RANGE);
	cr_expect(strstr(err.message, "offset 2 of \"t\" partition 0 is out of range"), "%s",
	          err.message);
	/* Paused until a seek. */
	cr_expect_eq(tape_consumer_poll(g.c, 50, &m, &err), 0);
	cr_assert_eq(tape_consumer_seek(g.c, "t", 0, at(TAPE_START_BEGINNING, 0), &err), 0);
	read_until(&g, &w, 1, N_MAX);
	cr_assert_eq(w.n, 10);
	expect_run(&w, 0, 10, 10);
	rig_stop(&g);
}

Test(consumer, leader_moved_and_connection_lost)
{
	struct rig g = { 0 };
	rig_start(&g, COMPRESSION_LZ4, NULL);
	produce(&g, 0, 0, 30, 0, false);
	int metadata_before = fake_counter(&g, &g.fb.metadata_seen);
	fake_lock(&g.fb);
	g.fb.fetch_errors[0] = KAFKA_NOT_LEADER_OR_FOLLOWER;
	g.fb.fetch_errors[1] = KAFKA_FENCED_LEADER_EPOCH;
	g.fb.fetch_errors_count = 2;
	g.fb.drop_fetch = 0;
	fake_unlock(&g.fb);
	assign(&g, 0, at(TAPE_START_BEGINNING, 0));
	static struct got w;
	memset(&w, 0, sizeof(w));
	read_until(&g, &w, 1, N_MAX);
	cr_assert_eq(w.n, 30);
	expect_run(&w, 0, 0, 30);
	cr_expect_gt(fake_counter(&g, &g.fb.metadata_seen), metadata_before,
	             "metadata asked again");
	/* More records, and the connection drops at the next Fetch. */
	int conns = fake_counter(&g, &g.fb.connections_seen);
	fake_lock(&g.fb);
	g.fb.drop_fetch = 1;
	fake_unlock(&g.fb);
	produce(&g, 0, 30, 30, 0, false);
	read_until(&g, &w, 2, N_MAX);
	cr_assert_eq(w.n, 60);
	expect_run(&w, 0, 0, 60);
	cr_expect_gt(fake_counter(&g, &g.fb.connections_seen), conns, "reconnected");
	rig_stop(&g);
}

Test(consumer, starts_by_list_offsets)
{
	struct rig g = { .fb = { .partitions = 5 } };
	rig_start(&g, COMPRESSION_NONE, NULL);
	for (int32_t p = 0; p < 5; p++)
		produce(&g, p, 0, 20, 0, false);
	assign(&g, 0, at(TAPE_START_END_MINUS, 3));
	assign(&g, 1, at(TAPE_START_END_MINUS, 100));
	assign(&g, 2, at(TAPE_START_TIME, 1055)); /* timestamps 1000 + 10 i: offset 6 */
	assign(&g, 3, at(TAPE_START_TIME, 999999));
	assign(&g, 4, at(TAPE_START_END, 0));
	static struct got w;
	memset(&w, 0, sizeof(w));
	read_until(&g, &w, 5, N_MAX);
	cr_expect_eq(w.eofs, 5);
	int per[5] = { 0 };
	int64_t first[5] = { -1, -1, -1, -1, -1 };
	for (int i = 0; i < w.n; i++) {
		if (first[w.partition[i]] < 0)
			first[w.partition[i]] = w.offset[i];
		per[w.partition[i]]++;
	}
	cr_expect(per[0] == 3 && first[0] == 17, "end-3: %d from %lld", per[0],
	          (long long)first[0]);
	cr_expect(per[1] == 20 && first[1] == 0, "end-100: %d from %lld", per[1],
	          (long long)first[1]);
	cr_expect(per[2] == 14 && first[2] == 6, "@1055: %d from %lld", per[2],
	          (long long)first[2]);
	cr_expect_eq(per[3], 0, "a time past every record: the end");
	cr_expect_eq(per[4], 0, "end: new records only");
	int64_t ls, hw;
	cr_expect_eq(tape_consumer_watermarks(g.c, "t", 4, &ls, &hw), 0);
	cr_expect(ls == 0 && hw == 20);
	/* The tail is followed. */
	produce(&g, 4, 20, 5, 0, false);
	memset(&w, 0, sizeof(w));
	read_until(&g, &w, 1, 5);
	cr_assert_eq(w.n, 5);
	for (int i = 0; i < 5; i++)
		cr_expect(w.partition[i] == 4 && w.offset[i] == 20 + i);
	rig_stop(&g);
}

Test(consumer, partitions_position_and_seek)
{
	struct rig g = { .fb = { .partitions = 3 } };
	rig_start(&g, COMPRESSION_SNAPPY, NULL);
	for (int32_t p = 0; p < 3; p++) {
		produce(&g, p, 0, 10, 0, false);
		produce(&g, p, 10, 10, 0, false);
	}
	for (int32_t p = 0; p < 3; p++)
		assign(&g, p, at(TAPE_START_BEGINNING, 0));
	static struct got w;
	memset(&w, 0, sizeof(w));
	read_until(&g, &w, 3, N_MAX);
	cr_assert_eq(w.n, 60);
	cr_expect_eq(w.eofs, 3);
	int64_t next[3] = { 0, 0, 0 };
	for (int i = 0; i < w.n; i++) {
		cr_expect_eq(w.offset[i], next[w.partition[i]], "partition %d in order",
		             w.partition[i]);
		next[w.partition[i]] = w.offset[i] + 1;
	}
	for (int32_t p = 0; p < 3; p++)
		cr_expect_eq(tape_consumer_position(g.c, "t", p), 20);
	struct tape_error err;
	cr_assert_eq(tape_consumer_seek(g.c, "t", 1, at(TAPE_START_OFFSET, 15), &err), 0);
	cr_expect_eq(tape_consumer_position(g.c, "t", 1), 15);
	memset(&w, 0, sizeof(w));
	read_until(&g, &w, 1, N_MAX);
	cr_assert_eq(w.n, 5);
	for (int i = 0; i < 5; i++)
		cr_expect(w.partition[i] == 1 && w.offset[i] == 15 + i);
	cr_expect_eq(tape_consumer_unassign(g.c, "t", 1), 0);
	cr_expect_eq(tape_consumer_unassign(g.c, "t", 1), -ENOENT);
	cr_expect_eq(tape_consumer_position(g.c, "t", 1), -1);
	cr_expect_eq(tape_consumer_assign(g.c, "t", 0, at(TAPE_START_END, 0), &err), -EEXIST);
	rig_stop(&g);
}

Test(consumer, unknown_topic_and_partition)
{
	struct rig g = { .fb = { .topic = "t" } };
	rig_start(&g, COMPRESSION_NONE, NULL);
	struct tape_error err;
	cr_expect_eq(tape_consumer_assign(g.c, "nope", 0, at(TAPE_START_BEGINNING, 0), &err),
	             -TAPE_EKAFKA);
	cr_expect_eq(err.kafka_code, KAFKA_UNKNOWN_TOPIC_OR_PARTITION);
	cr_expect_str_eq(err.message, "topic \"nope\" does not exist");
	cr_expect_eq(tape_consumer_assign(g.c, "t", 4, at(TAPE_START_BEGINNING, 0), &err),
	             -TAPE_EKAFKA);
	cr_expect_str_eq(err.message, "partition 4 of topic \"t\" does not exist (it has 1)");
	cr_expect_eq(tape_consumer_assign(g.c, "t", 0, at(TAPE_START_OFFSET, -3), &err), -EINVAL);
	rig_stop(&g);
}
