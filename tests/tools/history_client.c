/*
 * tests/tools/history_client.c: records what a client did and saw, as the JSON-lines history
 * tests/tools/history_check.py judges (its header is the schema).
 *
 *   history_client produce -b BROKERS -t TOPIC [-p PARTITION] [--acks all|1|0] [--idempotent]
 *                  (-n COUNT | --duration SECS) [--rate N] -o HISTORY [--process NAME]
 *                  [--delivery-timeout-ms MS] [--request-timeout-ms MS]
 *   history_client read -b BROKERS -t TOPIC -o HISTORY [--timeout SECS]
 *   history_client isr -b BROKERS -t TOPIC --min-insync N -o HISTORY [--interval-ms MS]
 *                  [--process NAME]
 *
 * produce sends the values NAME-0, NAME-1, ... (NAME defaults to p<pid>), at most N a second
 * with --rate, and appends one "send" line per value when its fate is known: ok with the
 * delivery report's offset; info when it may be in the log all the same
 * (tape_delivery.maybe_written: an attempt got no answer, or the broker appended without the
 * acks asked for) or was never reported; fail only when it certainly is not (refused by every
 * attempt, or never sent). A failed send does not stop it: the next value goes out. SIGTERM or
 * SIGINT stops sending; what is outstanding gets up to 10 s (a second signal: none) and is
 * then recorded as the library reports it on free.
 *
 * read asks each partition's log start offset and high watermark (ListOffsets) once, appends a
 * "watermarks" line for it, then reads [log start, HW) from the beginning and appends one
 * "read" line per record. It fails (exit 1) when it cannot read that far in time: a short read
 * would look like loss.
 *
 * isr appends an "isr" observation (Metadata: leader, leader epoch, ISR) of every partition
 * every interval until SIGTERM or SIGINT, for S9.
 *
 * Times are CLOCK_MONOTONIC nanoseconds, one clock for every process on the machine. Lines
 * are appended with O_APPEND (several recorders may share a file) and flushed every loop, so
 * a recorder killed with SIGKILL leaves at most a torn last line, which the checker skips.
 * Exit: 0 done, 1 failure (one line on stderr), 2 usage.
 */
#include "base/clock.h"
#include "client/tape.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POLL_MS 20
#define OUTSTANDING_MAX 20000 /* sends in the producer before we wait for reports */
#define STOP_FLUSH_MS 10000   /* what the outstanding sends get after a stop signal */
#define VALUE_BYTES_MAX 128

static volatile sig_atomic_t stops;

static void on_signal(int sig)
{
	(void)sig;
	stops++;
}

struct opts {
	const char *brokers, *topic, *out, *process;
	int32_t partition;
	int16_t acks;
	bool idempotent;
	int64_t count;
	int64_t duration_s;
	int64_t rate;
	int32_t delivery_timeout_ms, request_timeout_ms;
	int64_t timeout_s;
	int32_t min_insync;
	int32_t interval_ms;
};

static FILE *hist;

/* Writes s as a JSON string: bytes outside printable ASCII as \u00XX, so any value can be
 * compared as the same string by the checker. */
static void json_str(const void *p, int32_t len)
{
	const unsigned char *s = p;
	if (!s) {
		fputs("null", hist);
		return;
	}
	putc('"', hist);
	for (int32_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			fprintf(hist, "\\%c", s[i]);
		else if (s[i] < 0x20 || s[i] >= 0x7f)
			fprintf(hist, "\\u%04x", s[i]);
		else
			putc(s[i], hist);
	}
	putc('"', hist);
}

static void json_cstr(const char *s)
{
	json_str(s, s ? (int32_t)strlen(s) : 0);
}

static void line_begin(const char *process, const char *op, const char *type, int64_t invoke_ns,
                       int64_t complete_ns)
{
	fputs("{\"process\":", hist);
	json_cstr(process);
	fprintf(hist, ",\"op\":\"%s\",\"type\":\"%s\",\"invoke_ns\":%" PRId64, op, type, invoke_ns);
	if (complete_ns < 0)
		fputs(",\"complete_ns\":null", hist);
	else
		fprintf(hist, ",\"complete_ns\":%" PRId64, complete_ns);
}

/* ---- produce ------------------------------------------------------------------------------ */

struct producer_state {
	const struct opts *o;
	int64_t *invoke_ns; /* by seq */
	int64_t cap;
	int64_t acked, indeterminate, failed;
};

static void record_send(struct producer_state *st, int64_t seq, const char *type, int32_t partition,
                        int64_t offset, const struct tape_error *e)
{
	const struct opts *o = st->o;
	char value[VALUE_BYTES_MAX];
	snprintf(value, sizeof(value), "%s-%" PRId64, o->process, seq);
	line_begin(o->process, "send", type, st->invoke_ns[seq], clock_mono_ns());
	fputs(",\"topic\":", hist);
	json_cstr(o->topic);
	fprintf(hist, ",\"partition\":%d,\"value\":", partition);
	json_cstr(value);
	if (offset >= 0)
		fprintf(hist, ",\"offset\":%" PRId64, offset);
	else
		fputs(",\"offset\":null", hist);
	fprintf(hist, ",\"acks\":\"%s\",\"idempotent\":%s,\"seq\":%" PRId64,
	        o->acks == -1  ? "all"
	        : o->acks == 1 ? "1"
	                       : "0",
	        o->idempotent ? "true" : "false", seq);
	if (e) {
		fputs(",\"error\":", hist);
		json_cstr(e->message);
		fprintf(hist, ",\"error_code\":%d,\"kafka_code\":%d", e->code, e->kafka_code);
	}
	fputs("}\n", hist);
	if (!strcmp(type, "ok"))
		st->acked++;
	else if (!strcmp(type, "info"))
		st->indeterminate++;
	else
		st->failed++;
}

static void on_delivery(const struct tape_delivery *d, void *arg)
{
	struct producer_state *st = arg;
	int64_t seq = (int64_t)(intptr_t)d->opaque;
	const char *type = !d->error ? "ok" : d->maybe_written ? "info" : "fail";
	record_send(st, seq, type, d->partition, d->error ? -1 : d->offset, d->error);
}

static int produce(const struct opts *o)
{
	struct producer_state st = { .o = o };
	struct tape_client_config ccfg;
	struct tape_producer_config pcfg;
	tape_client_config_init(&ccfg);
	ccfg.brokers = o->brokers;
	ccfg.client_id = o->process;
	ccfg.request_timeout_ms = o->request_timeout_ms;
	tape_producer_config_init(&pcfg);
	pcfg.acks = o->acks;
	pcfg.idempotent = o->idempotent;
	pcfg.delivery_timeout_ms = o->delivery_timeout_ms;
	pcfg.produce_timeout_ms = o->request_timeout_ms;
	pcfg.on_delivery = on_delivery;
	pcfg.on_delivery_arg = &st;
	struct tape_client *cl = NULL;
	struct tape_producer *p = NULL;
	struct tape_error err;
	if (tape_client_new(&ccfg, &cl, &err) < 0 || tape_producer_new(cl, &pcfg, &p, &err) < 0) {
		fprintf(stderr, "history_client: %s\n", err.message);
		tape_client_free(cl);
		return 1;
	}
	int64_t start_ns = clock_mono_ns();
	int64_t end_ns = o->duration_s > 0 ? start_ns + o->duration_s * 1000000000 : INT64_MAX;
	int64_t seq = 0;
	while (!stops && (o->count < 0 || seq < o->count) && clock_mono_ns() < end_ns) {
		if (o->rate > 0 && seq * 1000000000 / o->rate > clock_mono_ns() - start_ns) {
			tape_producer_poll(p, 1);
			continue;
		}
		if (tape_producer_outstanding(p) >= OUTSTANDING_MAX) {
			tape_producer_poll(p, POLL_MS);
			fflush(hist);
			continue;
		}
		if (seq == st.cap) {
			st.cap = st.cap ? st.cap * 2 : 65536;
			int64_t *n = realloc(st.invoke_ns, (size_t)st.cap * sizeof(*n));
			if (!n) {
				fprintf(stderr, "history_client: out of memory\n");
				exit(1);
			}
			st.invoke_ns = n;
		}
		char value[VALUE_BYTES_MAX];
		int len = snprintf(value, sizeof(value), "%s-%" PRId64, o->process, seq);
		struct tape_record r = TAPE_RECORD(o->topic);
		r.partition = o->partition;
		r.value = value;
		r.value_len = len;
		r.opaque = (void *)(intptr_t)seq;
		st.invoke_ns[seq] = clock_mono_ns();
		if (tape_producer_send(p, &r, &err) < 0) /* never queued: certainly not written */
			record_send(&st, seq, "fail", o->partition, -1, &err);
		seq++;
		tape_producer_poll(p, 0);
		fflush(hist);
	}
	/* Stopped: what is outstanding gets its delivery timeout, or after a stop signal a
	 * short grace, and is then recorded as free reports it (in flight: info). */
	int64_t flush_until_ms = clock_mono_ms() + (stops ? STOP_FLUSH_MS : o->delivery_timeout_ms);
	while (tape_producer_outstanding(p) > 0 && stops < 2 && clock_mono_ms() < flush_until_ms) {
		tape_producer_poll(p, POLL_MS);
		fflush(hist);
	}
	int64_t unreported = tape_producer_outstanding(p);
	tape_producer_free(p);
	tape_client_free(cl);
	fflush(hist);
	fprintf(stderr,
	        "history_client: %s sent %" PRId64 ": %" PRId64 " acked, %" PRId64
	        " indeterminate, %" PRId64 " failed (%" PRId64 " unreported at the end)\n",
	        o->process, seq, st.acked, st.indeterminate, st.failed, unreported);
	free(st.invoke_ns);
	return 0;
}

/* ---- read --------------------------------------------------------------------------------- */

static int read_all(const struct opts *o)
{
	struct tape_client_config ccfg;
	tape_client_config_init(&ccfg);
	ccfg.brokers = o->brokers;
	ccfg.client_id = "history-reader";
	ccfg.allow_auto_create_topics = false;
	struct tape_client *cl = NULL;
	struct tape_consumer *c = NULL;
	struct tape_partition_offset *lo = NULL, *hi = NULL;
	struct tape_consumer_config kcfg;
	tape_consumer_config_init(&kcfg);
	kcfg.auto_offset_reset = TAPE_RESET_ERROR; /* a position out of range is a finding */
	struct tape_error err;
	int rc = 1;
	int32_t n = -1;
	int64_t invoke_ns = clock_mono_ns();
	if (tape_client_new(&ccfg, &cl, &err) < 0 ||
	    (n = tape_client_partitions(cl, o->topic, &err)) < 0 ||
	    tape_consumer_new(cl, &kcfg, &c, &err) < 0)
		goto out_err;
	lo = calloc((size_t)n, sizeof(*lo));
	hi = calloc((size_t)n, sizeof(*hi));
	if (!lo || !hi) {
		fprintf(stderr, "history_client: out of memory\n");
		goto out;
	}
	for (int32_t i = 0; i < n; i++)
		lo[i].partition = hi[i].partition = i;
	int32_t timeout_ms = (int32_t)(o->timeout_s * 1000);
	if (tape_admin_list_offsets(cl, o->topic, TAPE_OFFSET_EARLIEST, lo, n, timeout_ms, &err) <
	        0 ||
	    tape_admin_list_offsets(cl, o->topic, TAPE_OFFSET_LATEST, hi, n, timeout_ms, &err) < 0)
		goto out_err;
	int32_t pending = 0;
	for (int32_t i = 0; i < n; i++) {
		if (lo[i].error_code || hi[i].error_code) {
			fprintf(stderr,
			        "history_client: ListOffsets of \"%s\" partition %d: error %d\n",
			        o->topic, i,
			        lo[i].error_code ? lo[i].error_code : hi[i].error_code);
			goto out;
		}
		line_begin("reader", "watermarks", "ok", invoke_ns, clock_mono_ns());
		fputs(",\"topic\":", hist);
		json_cstr(o->topic);
		fprintf(hist,
		        ",\"partition\":%d,\"log_start\":%" PRId64 ",\"high_watermark\":%" PRId64
		        "}\n",
		        i, lo[i].offset, hi[i].offset);
		if (hi[i].offset <= lo[i].offset)
			continue;
		struct tape_start s = { TAPE_START_OFFSET, lo[i].offset };
		if (tape_consumer_assign(c, o->topic, i, s, &err) < 0)
			goto out_err;
		pending++;
	}
	int64_t deadline_ms = clock_mono_ms() + timeout_ms;
	int64_t records = 0;
	while (pending > 0) {
		if (stops || clock_mono_ms() > deadline_ms) {
			fprintf(stderr,
			        "history_client: read of \"%s\" incomplete after %" PRId64
			        " s: %d partitions short of their high watermark\n",
			        o->topic, o->timeout_s, pending);
			goto out;
		}
		struct tape_message m;
		int got = tape_consumer_poll(c, POLL_MS, &m, &err);
		if (got < 0)
			goto out_err;
		if (got != TAPE_POLL_RECORD || m.offset >= hi[m.partition].offset)
			continue;
		line_begin("reader", "read", "ok", invoke_ns, clock_mono_ns());
		fputs(",\"topic\":", hist);
		json_cstr(m.topic);
		fprintf(hist,
		        ",\"partition\":%d,\"offset\":%" PRId64 ",\"leader_epoch\":%d,\"value\":",
		        m.partition, m.offset, m.leader_epoch);
		json_str(m.value, m.value_len);
		fputs("}\n", hist);
		records++;
		if (m.offset + 1 >= hi[m.partition].offset) {
			tape_consumer_unassign(c, o->topic, m.partition);
			pending--;
		}
	}
	fprintf(stderr, "history_client: read %" PRId64 " records of \"%s\" (%d partitions)\n",
	        records, o->topic, n);
	rc = 0;
	goto out;
out_err:
	fprintf(stderr, "history_client: %s\n", err.message);
out:
	fflush(hist);
	free(lo);
	free(hi);
	tape_consumer_free(c);
	tape_client_free(cl);
	return rc;
}

/* ---- isr ---------------------------------------------------------------------------------- */

static int observe_isr(const struct opts *o)
{
	struct tape_client_config ccfg;
	tape_client_config_init(&ccfg);
	ccfg.brokers = o->brokers;
	ccfg.client_id = o->process;
	struct tape_client *cl;
	struct tape_error err;
	if (tape_client_new(&ccfg, &cl, &err) < 0) {
		fprintf(stderr, "history_client: %s\n", err.message);
		return 1;
	}
	while (!stops) {
		int64_t invoke_ns = clock_mono_ns();
		struct tape_topic_list *l;
		/* A broker down or no answer is no observation: the checker only uses what was
		 * seen. */
		if (tape_admin_list_topics(cl, o->topic, o->interval_ms * 4, &l, &err) == 0) {
			int64_t complete_ns = clock_mono_ns();
			const struct tape_topic_info *t = &l->topics[0];
			for (int32_t i = 0; l->topics_count && i < t->partitions_count; i++) {
				const struct tape_partition_info *pi = &t->partitions[i];
				line_begin(o->process, "isr", "ok", invoke_ns, complete_ns);
				fputs(",\"topic\":", hist);
				json_cstr(t->name);
				fprintf(hist,
				        ",\"partition\":%d,\"leader\":%d,\"leader_epoch\":%d,\"min_"
				        "insync\":%d,\"isr\":[",
				        pi->partition, pi->leader, pi->leader_epoch, o->min_insync);
				for (int32_t k = 0; k < pi->isr_count; k++)
					fprintf(hist, "%s%d", k ? "," : "", pi->isr[k]);
				fputs("]}\n", hist);
			}
			tape_topic_list_free(l);
			fflush(hist);
		}
		usleep((useconds_t)o->interval_ms * 1000);
	}
	tape_client_free(cl);
	return 0;
}

/* ---- main --------------------------------------------------------------------------------- */

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "history_client: %s\n", why);
	fputs("usage: history_client produce -b BROKERS -t TOPIC [-p PARTITION] [--acks all|1|0]\n"
	      "                      [--idempotent] (-n COUNT | --duration SECS) [--rate N]\n"
	      "                      -o HISTORY [--process NAME] [--delivery-timeout-ms MS]\n"
	      "                      [--request-timeout-ms MS]\n"
	      "       history_client read -b BROKERS -t TOPIC -o HISTORY [--timeout SECS]\n"
	      "       history_client isr -b BROKERS -t TOPIC --min-insync N -o HISTORY\n"
	      "                      [--interval-ms MS] [--process NAME]\n",
	      stderr);
	return 2;
}

static bool parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_i32(const char *s, int32_t min, int32_t max, int32_t *out)
{
	int64_t v;
	if (!parse_i64(s, min, max, &v))
		return false;
	*out = (int32_t)v;
	return true;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(NULL);
	const char *cmd = argv[1];
	static char default_process[32];
	snprintf(default_process, sizeof(default_process), "p%d", (int)getpid());
	struct opts o = { .process = default_process,
		          .partition = TAPE_PARTITION_ANY,
		          .acks = -1,
		          .count = -1,
		          .delivery_timeout_ms = 30000,
		          .request_timeout_ms = 10000,
		          .timeout_s = 60,
		          .min_insync = -1,
		          .interval_ms = 200 };
	static const struct option longs[] = {
		{ "brokers", required_argument, NULL, 'b' },
		{ "topic", required_argument, NULL, 't' },
		{ "partition", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "acks", required_argument, NULL, 'a' },
		{ "idempotent", no_argument, NULL, 'I' },
		{ "duration", required_argument, NULL, 'd' },
		{ "rate", required_argument, NULL, 'r' },
		{ "process", required_argument, NULL, 'P' },
		{ "delivery-timeout-ms", required_argument, NULL, 'D' },
		{ "request-timeout-ms", required_argument, NULL, 'R' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "min-insync", required_argument, NULL, 'm' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "b:t:p:n:o:", longs, NULL)) != -1) {
		const char *bad = NULL;
		switch (c) {
		case 'b':
			o.brokers = optarg;
			break;
		case 't':
			o.topic = optarg;
			break;
		case 'o':
			o.out = optarg;
			break;
		case 'P':
			o.process = optarg;
			break;
		case 'I':
			o.idempotent = true;
			break;
		case 'p':
			bad = parse_i32(optarg, 0, INT32_MAX, &o.partition) ? NULL : "-p";
			break;
		case 'n':
			bad = parse_i64(optarg, 0, INT64_MAX, &o.count) ? NULL : "-n";
			break;
		case 'd':
			bad = parse_i64(optarg, 1, 1000000, &o.duration_s) ? NULL : "--duration";
			break;
		case 'r':
			bad = parse_i64(optarg, 1, 100000000, &o.rate) ? NULL : "--rate";
			break;
		case 'T':
			bad = parse_i64(optarg, 1, 1000000, &o.timeout_s) ? NULL : "--timeout";
			break;
		case 'D':
			if (!parse_i32(optarg, 1, INT32_MAX, &o.delivery_timeout_ms))
				bad = "--delivery-timeout-ms";
			break;
		case 'R':
			if (!parse_i32(optarg, 1, INT32_MAX, &o.request_timeout_ms))
				bad = "--request-timeout-ms";
			break;
		case 'm':
			bad = parse_i32(optarg, 1, 1000, &o.min_insync) ? NULL : "--min-insync";
			break;
		case 'i':
			bad = parse_i32(optarg, 1, 60000, &o.interval_ms) ? NULL : "--interval-ms";
			break;
		case 'a':
			if (!strcmp(optarg, "all") || !strcmp(optarg, "-1"))
				o.acks = -1;
			else if (!strcmp(optarg, "1") || !strcmp(optarg, "0"))
				o.acks = (int16_t)atoi(optarg);
			else
				bad = "--acks";
			break;
		default:
			return usage(NULL);
		}
		if (bad) {
			fprintf(stderr, "history_client: bad value for %s: '%s'\n", bad, optarg);
			return 2;
		}
	}
	if (optind != argc)
		return usage("unexpected arguments");
	if (!o.brokers || !o.topic || !o.out)
		return usage("-b, -t and -o are required");
	bool is_produce = !strcmp(cmd, "produce"), is_read = !strcmp(cmd, "read"),
	     is_isr = !strcmp(cmd, "isr");
	if (!is_produce && !is_read && !is_isr)
		return usage("the command is produce, read or isr");
	if (is_produce && (o.count < 0) == (o.duration_s == 0))
		return usage("produce: give -n COUNT or --duration SECS");
	if (is_produce && o.idempotent && o.acks != -1)
		return usage("--idempotent needs --acks all");
	if (is_isr && o.min_insync < 0)
		return usage("isr: give --min-insync N (the topic's min.insync.replicas)");
	hist = fopen(o.out, "a");
	if (!hist) {
		fprintf(stderr, "history_client: cannot open %s: %s\n", o.out, strerror(errno));
		return 1;
	}
	/* Line buffered, with room for any one line: every line leaves in one write() on an
	 * O_APPEND descriptor, so recorders sharing the file never interleave inside a line (a
	 * full buffer flushed mid-line did, once a burst of delivery reports passed 64 KiB). */
	static char line_buf[1 << 16];
	setvbuf(hist, line_buf, _IOLBF, sizeof(line_buf));
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	int rc = is_produce ? produce(&o) : is_read ? read_all(&o) : observe_isr(&o);
	if (fclose(hist) != 0) {
		fprintf(stderr, "history_client: cannot write %s: %s\n", o.out, strerror(errno));
		return 1;
	}
	return rc;
}
