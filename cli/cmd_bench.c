/*
 * cli/cmd_bench.c: `tape bench produce|consume|e2e`: load generators on libtape that print
 * records/s, MB/s and latency quantiles, ending with one machine-readable line for scripts
 * (scripts/bench-compare.sh):
 *
 *   result produce records=N bytes=B seconds=S rps=R mbps=M p50_us=.. p99_us=.. p999_us=..
 *          max_us=.. failed=F
 *
 * Owns: the benchmark loops, their threads (one tape_client per thread: the library is
 * single-threaded per client) and their reports. Must not know: the protocol (client/tape.h
 * is all it uses). Latencies go into cli/hist.h histograms, one per thread, merged at the end:
 * no allocation per record. The send time of a produced record rides in its delivery report's
 * opaque pointer. `produce` at full speed times one record in BENCH_LATENCY_EVERY (the others carry
 * 0): a clock read costs about as much as a fifth of a record's whole send path in this VM, and
 * tens of thousands of samples a second still give exact-enough p999s.
 *
 * MB are 10^6 bytes of record values (keys and headers are not sent).
 */
#include "client/tape.h"
#include "cli/cmd.h"
#include "cli/hist.h"

#include "base/clock.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Producer threads (or consumer threads) one run starts. */
#define BENCH_THREADS_MAX 64
/* The largest record value a run sends: Java's max.request.size. */
#define BENCH_RECORD_BYTES_MAX (1024 * 1024)
/* Values are cut from a pool of pseudo-random printable bytes this large, at a different
 * place for each record, so a batch (64 KiB by default) does not repeat itself and
 * compression sees data about as compressible as text: 6 bits of entropy per byte. 512 KiB
 * stays in L2, as an application's freshly serialized value would be; at 4 MiB every value
 * was a cache miss and its copy took a quarter of the producer's time. */
#define BENCH_POOL_BYTES (512 * 1024)
/* produce: one record in this many is timed from send to delivery (a power of two). */
#define BENCH_LATENCY_EVERY 16
/* Bytes sent between polls of the producer when it is not rate-limited: batches leave while
 * the loop keeps queueing. */
#define BENCH_POLL_EVERY_BYTES (64 * 1024)
/* After the last send, every record gets its delivery timeout plus this to be reported. */
#define BENCH_FLUSH_SLACK_MS 5000

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* ---- options ------------------------------------------------------------------------------ */

struct bench_opts {
	const char *mode; /* "produce", "consume", "e2e" */
	const char *topic;
	const char *brokers;
	int64_t records;   /* 0: until the duration, or (consume) the end */
	double duration_s; /* 0: until the count */
	int32_t record_bytes;
	int32_t partitions; /* 0: the topic's */
	int32_t threads;    /* producers (or consumers) */
	double rate;        /* records/s over all producers; 0: as fast as possible */
	bool quiet;
	struct tape_client_config client;
	struct tape_producer_config producer;
};

static void bench_usage(FILE *out)
{
	fputs("usage: tape bench produce|consume|e2e [options]\n"
	      "\n"
	      "Load generators. MB are 10^6 bytes of record values.\n"
	      "  produce  sends records of --record-size bytes to TOPIC from --producers threads,\n"
	      "           each with its own client: records/s, MB/s, and each record's latency\n"
	      "           from its send to its delivery report\n"
	      "  consume  reads TOPIC from the beginning to its end (or -n records, or -d\n"
	      "           seconds): records/s, MB/s\n"
	      "  e2e      a producer at --rate (default 1000/s, for -d 5 s or -n records) and a\n"
	      "           consumer from the end of TOPIC, in one process: each record's latency\n"
	      "           from its send to its arrival at the consumer\n"
	      "The report goes to stdout, ending in one line for scripts:\n"
	      "  result MODE records=N bytes=B seconds=S rps=R mbps=M [p50_us=.. p99_us=..\n"
	      "         p999_us=.. max_us=..] failed=F     (latencies: produce and e2e)\n"
	      "\n"
	      "options:\n"
	      "  -b, --brokers LIST       host:port,... (default: $TAPE_BROKERS, else "
	      "localhost:9092)\n"
	      "  -t, --topic TOPIC        the topic (default tape-bench); created by the broker "
	      "when\n"
	      "                           it does not exist (auto.create.topics.enable)\n"
	      "  -n, --records N          records in all (default 1000000, or none with -d)\n"
	      "  -d, --duration SECS      run this long instead (with -n: whichever comes first)\n"
	      "  -s, --record-size BYTES  value size (default 100), pseudo-random printable bytes\n"
	      "  -P, --partitions N       the topic must have N partitions (default: what it has)\n"
	      "      --producers N        producer threads, each its own client (default 1)\n"
	      "      --rate R             records/s over all producers (default: as fast as it "
	      "goes)\n"
	      "      --acks 0|1|all       (default all)\n"
	      "  -z, --compression CODEC  none, zstd (default), gzip, snappy or lz4\n"
	      "      --batch-size BYTES   batch.size (default 65536)\n"
	      "      --linger-ms MS       linger.ms (default 5)\n"
	      "      --idempotent         producer ids and sequences (needs --acks all)\n"
	      "  -q, --quiet              only the result line\n"
	      "  -h, --help               this text\n"
	      "\n"
	      "exit status: 0 every record delivered, 1 some failed (the first failure is shown),\n"
	      "2 usage error or no usable broker or topic\n",
	      out);
}

__attribute__((format(printf, 2, 3))) static int usage_error(const char *mode, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "tape bench%s%s: ", mode ? " " : "", mode ? mode : "");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	bench_usage(stderr);
	return CMD_EXIT_USAGE;
}

static bool parse_double(const char *s, double min, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min) || v > 1e12)
		return false;
	*out = v;
	return true;
}

enum {
	OPT_PRODUCERS = 256,
	OPT_RATE,
	OPT_ACKS,
	OPT_BATCH,
	OPT_LINGER,
	OPT_IDEMPOTENT,
};

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	static const struct option options[] = {
		{ "brokers", required_argument, NULL, 'b' },
		{ "topic", required_argument, NULL, 't' },
		{ "records", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "record-size", required_argument, NULL, 's' },
		{ "partitions", required_argument, NULL, 'P' },
		{ "producers", required_argument, NULL, OPT_PRODUCERS },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "acks", required_argument, NULL, OPT_ACKS },
		{ "compression", required_argument, NULL, 'z' },
		{ "batch-size", required_argument, NULL, OPT_BATCH },
		{ "linger-ms", required_argument, NULL, OPT_LINGER },
		{ "idempotent", no_argument, NULL, OPT_IDEMPOTENT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *m = o->mode;
	int c;
	long long n;
	bool records_given = false;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":b:t:n:d:s:P:z:qh", options, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->brokers = optarg;
			break;
		case 't':
			o->topic = optarg;
			break;
		case 'n':
			if (!cmd_parse_int(optarg, 1, INT64_MAX / 2, &n))
				return usage_error(m, "-n %s: a count from 1", optarg);
			o->records = n;
			records_given = true;
			break;
		case 'd':
			if (!parse_double(optarg, 0.001, &o->duration_s))
				return usage_error(m, "-d %s: seconds, more than 0", optarg);
			break;
		case 's':
			if (!cmd_parse_int(optarg, 0, BENCH_RECORD_BYTES_MAX, &n))
				return usage_error(m, "-s %s: bytes from 0 to %d", optarg,
				                   BENCH_RECORD_BYTES_MAX);
			o->record_bytes = (int32_t)n;
			break;
		case 'P':
			if (!cmd_parse_int(optarg, 1, INT32_MAX, &n))
				return usage_error(m, "-P %s: a count from 1", optarg);
			o->partitions = (int32_t)n;
			break;
		case OPT_PRODUCERS:
			if (!cmd_parse_int(optarg, 1, BENCH_THREADS_MAX, &n))
				return usage_error(m, "--producers %s: from 1 to %d", optarg,
				                   BENCH_THREADS_MAX);
			o->threads = (int32_t)n;
			break;
		case OPT_RATE:
			if (!parse_double(optarg, 0.001, &o->rate))
				return usage_error(m, "--rate %s: records/s, more than 0", optarg);
			break;
		case OPT_ACKS:
			if (!strcmp(optarg, "all") || !strcmp(optarg, "-1"))
				o->producer.acks = -1;
			else if (!strcmp(optarg, "0") || !strcmp(optarg, "1"))
				o->producer.acks = (int16_t)atoi(optarg);
			else
				return usage_error(m, "--acks %s: 0, 1 or all", optarg);
			break;
		case 'z':
			o->producer.compression = compression_from_name(optarg);
			if (o->producer.compression < 0)
				return usage_error(m, "-z %s: none, zstd, gzip, snappy or lz4",
				                   optarg);
			break;
		case OPT_BATCH:
			if (!cmd_parse_int(optarg, 1, INT32_MAX, &n))
				return usage_error(m, "--batch-size %s: bytes from 1", optarg);
			o->producer.batch_bytes = (int32_t)n;
			break;
		case OPT_LINGER:
			if (!cmd_parse_int(optarg, 0, INT32_MAX, &n))
				return usage_error(m, "--linger-ms %s: ms from 0", optarg);
			o->producer.linger_ms = (int32_t)n;
			break;
		case OPT_IDEMPOTENT:
			o->producer.idempotent = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			bench_usage(stdout);
			return -1;
		case ':':
			return usage_error(m, "option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error(m, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return usage_error(m, "unexpected argument '%s'", argv[optind]);
	if (o->producer.idempotent && o->producer.acks != -1)
		return usage_error(m, "--idempotent needs --acks all");
	if (!records_given && o->duration_s > 0)
		o->records = 0;
	return 0;
}

static void set_defaults(struct bench_opts *o, const char *mode)
{
	memset(o, 0, sizeof(*o));
	o->mode = mode;
	o->topic = "tape-bench";
	o->records = 1000000;
	o->record_bytes = 100;
	o->threads = 1;
	tape_client_config_init(&o->client);
	tape_producer_config_init(&o->producer);
	o->brokers = cmd_default_brokers();
}

/* ---- values ------------------------------------------------------------------------------- */

/* BENCH_POOL_BYTES + record_bytes of printable pseudo-random bytes (xorshift64, fixed seed:
 * every run sends the same data). */
static char *make_pool(int32_t record_bytes)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t len = (size_t)BENCH_POOL_BYTES + (size_t)record_bytes;
	char *pool = malloc(len);
	if (!pool)
		return NULL;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		pool[i] = alphabet[x & 63];
	}
	return pool;
}

/* Where record i of a thread starts in the pool: a stride that is prime to the pool size
 * walks the whole pool before repeating. */
static const char *pool_value(const char *pool, int64_t i)
{
	return pool + (uint64_t)i * 104729u % BENCH_POOL_BYTES;
}

/* ---- produce ------------------------------------------------------------------------------ */

struct producer_thread {
	pthread_t thread;
	const struct bench_opts *o;
	const char *pool;
	int32_t index;
	int64_t records;     /* this thread's share; 0: until the deadline */
	int64_t deadline_ns; /* 0: none */
	double rate;         /* this thread's records/s; 0: unlimited */
	/* results */
	int64_t sent;
	int64_t delivered;
	int64_t failed;
	int setup_failed; /* could not connect or find the topic: the run's exit status 2 */
	struct tape_error first_error;
	struct hist latency_ns;
};

static void on_bench_delivery(const struct tape_delivery *d, void *arg)
{
	struct producer_thread *t = arg;
	if (d->error) {
		if (!t->failed)
			t->first_error = *d->error;
		t->failed++;
		return;
	}
	t->delivered++;
	if (d->opaque)
		hist_record(&t->latency_ns, clock_mono_ns() - (int64_t)(uintptr_t)d->opaque);
}

/* Waits (polling the producer) until the rate says record i may go. */
static void pace(struct tape_producer *p, int64_t start_ns, double rate, int64_t i)
{
	int64_t due = start_ns + (int64_t)((double)i * 1e9 / rate);
	for (;;) {
		int64_t now = clock_mono_ns();
		if (now >= due || interrupted)
			return;
		int64_t wait_ms = (due - now) / 1000000;
		tape_producer_poll(p, (int32_t)(wait_ms > 100 ? 100 : wait_ms));
	}
}

static void produce_loop(struct producer_thread *t, struct tape_producer *p)
{
	const struct bench_opts *o = t->o;
	struct tape_record r = TAPE_RECORD(o->topic);
	r.value_len = o->record_bytes;
	int64_t start_ns = clock_mono_ns(), unpolled_bytes = 0;
	for (int64_t i = 0; !t->records || i < t->records; i++) {
		if ((i & 63) == 0 &&
		    (interrupted || (t->deadline_ns && clock_mono_ns() >= t->deadline_ns)))
			break;
		if (t->rate > 0)
			pace(p, start_ns, t->rate, i);
		r.value = pool_value(t->pool, i * BENCH_THREADS_MAX + t->index);
		r.opaque = (i & (BENCH_LATENCY_EVERY - 1)) && t->rate <= 0
		               ? NULL
		               : (void *)(uintptr_t)clock_mono_ns();
		struct tape_error err;
		if (tape_producer_send(p, &r, &err) < 0) {
			if (!t->failed)
				t->first_error = err;
			t->failed++;
			break;
		}
		t->sent++;
		unpolled_bytes += o->record_bytes;
		if (t->rate > 0 || unpolled_bytes >= BENCH_POLL_EVERY_BYTES) {
			tape_producer_poll(p, 0);
			unpolled_bytes = 0;
		}
	}
}

static void *producer_main(void *arg)
{
	struct producer_thread *t = arg;
	const struct bench_opts *o = t->o;
	struct tape_client_config ccfg = o->client;
	struct tape_producer_config pcfg = o->producer;
	struct tape_client *cl = NULL;
	struct tape_producer *p = NULL;
	struct tape_error err;
	ccfg.brokers = o->brokers;
	pcfg.on_delivery = on_bench_delivery;
	pcfg.on_delivery_arg = t;
	if (tape_client_new(&ccfg, &cl, &err) < 0 || tape_producer_new(cl, &pcfg, &p, &err) < 0 ||
	    tape_client_partitions(cl, o->topic, &err) < 0) {
		t->first_error = err;
		t->setup_failed = 1;
		goto out;
	}
	produce_loop(t, p);
	if (tape_producer_flush(p, pcfg.delivery_timeout_ms + BENCH_FLUSH_SLACK_MS, &err) < 0 &&
	    !t->failed)
		t->first_error = err;
out:
	tape_producer_free(p);
	tape_client_free(cl);
	return NULL;
}

/* The report lines of a run that moved `records` records of `bytes` in `secs`. */
static void print_result(const struct bench_opts *o, const char *what, int64_t records,
                         int64_t bytes, double secs, const struct hist *lat, int64_t failed)
{
	double rps = secs > 0 ? (double)records / secs : 0;
	double mbps = secs > 0 ? (double)bytes / secs / 1e6 : 0;
	int64_t p50 = 0, p99 = 0, p999 = 0, max = 0;
	if (lat) {
		p50 = hist_quantile(lat, 0.5) / 1000;
		p99 = hist_quantile(lat, 0.99) / 1000;
		p999 = hist_quantile(lat, 0.999) / 1000;
		max = lat->count ? lat->max / 1000 : 0;
	}
	if (!o->quiet) {
		printf("%s: %lld records, %lld bytes in %.3f s: %.0f records/s, %.2f MB/s\n", what,
		       (long long)records, (long long)bytes, secs, rps, mbps);
		if (lat && lat->count)
			printf("latency: p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms\n",
			       (double)p50 / 1e3, (double)p99 / 1e3, (double)p999 / 1e3,
			       (double)max / 1e3);
	}
	printf("result %s records=%lld bytes=%lld seconds=%.6f rps=%.1f mbps=%.3f", what,
	       (long long)records, (long long)bytes, secs, rps, mbps);
	if (lat) /* consume measures no latency */
		printf(" p50_us=%lld p99_us=%lld p999_us=%lld max_us=%lld", (long long)p50,
		       (long long)p99, (long long)p999, (long long)max);
	printf(" failed=%lld\n", (long long)failed);
	fflush(stdout);
}

/* Checks the topic (and -P) from this thread before the producers start, so a wrong broker
 * or topic is one line, not one per thread. */
static int check_topic(const struct bench_opts *o, int32_t *partitions)
{
	struct tape_client_config ccfg = o->client;
	struct tape_client *cl = NULL;
	struct tape_error err;
	ccfg.brokers = o->brokers;
	int32_t n = -1;
	if (tape_client_new(&ccfg, &cl, &err) == 0)
		n = tape_client_partitions(cl, o->topic, &err);
	tape_client_free(cl);
	if (n < 0) {
		fprintf(stderr, "tape bench %s: %s\n", o->mode, err.message);
		return CMD_EXIT_USAGE;
	}
	if (o->partitions && n != o->partitions) {
		fprintf(stderr,
		        "tape bench %s: topic \"%s\" has %d partitions, not %d (make it with "
		        "`tape topics create %s -p %d`, or leave out -P)\n",
		        o->mode, o->topic, n, o->partitions, o->topic, o->partitions);
		return CMD_EXIT_USAGE;
	}
	*partitions = n;
	return 0;
}

static int bench_produce(struct bench_opts *o)
{
	int32_t partitions;
	int status = check_topic(o, &partitions);
	if (status)
		return status;
	char *pool = make_pool(o->record_bytes);
	struct producer_thread *ts = calloc((size_t)o->threads, sizeof(*ts));
	if (!pool || !ts) {
		free(pool);
		free(ts);
		fputs("tape bench produce: out of memory\n", stderr);
		return CMD_EXIT_USAGE;
	}
	if (!o->quiet)
		fprintf(stderr,
		        "bench produce: %s%lld records of %d bytes%s to %s (%d partitions), %d "
		        "producer%s, acks %s, %s, batch %d, linger %d ms\n",
		        o->records ? "" : "(duration) ", (long long)o->records, o->record_bytes,
		        o->rate > 0 ? " (rate-limited)" : "", o->topic, partitions, o->threads,
		        o->threads > 1 ? "s" : "",
		        o->producer.acks == -1 ? "all"
		        : o->producer.acks     ? "1"
		                               : "0",
		        compression_name(o->producer.compression), o->producer.batch_bytes,
		        o->producer.linger_ms);
	int64_t start = clock_mono_ns();
	int64_t deadline = o->duration_s > 0 ? start + (int64_t)(o->duration_s * 1e9) : 0;
	int32_t started = 0;
	for (int32_t i = 0; i < o->threads; i++) {
		struct producer_thread *t = &ts[i];
		t->o = o;
		t->pool = pool;
		t->index = i;
		t->records =
		    o->records ? o->records / o->threads + (i < o->records % o->threads) : 0;
		t->deadline_ns = deadline;
		t->rate = o->rate / o->threads;
		hist_init(&t->latency_ns);
		if (o->records && !t->records)
			continue;
		if (pthread_create(&t->thread, NULL, producer_main, t)) {
			fprintf(stderr, "tape bench produce: cannot start a thread\n");
			interrupted = 1;
			break;
		}
		started = i + 1;
	}
	struct hist *all = malloc(sizeof(*all));
	int64_t delivered = 0, failed = 0;
	bool setup_failed = false;
	const struct tape_error *first = NULL;
	if (all)
		hist_init(all);
	for (int32_t i = 0; i < started; i++) {
		if (o->records && !ts[i].records)
			continue;
		pthread_join(ts[i].thread, NULL);
	}
	double secs = (double)(clock_mono_ns() - start) / 1e9;
	for (int32_t i = 0; i < started; i++) {
		struct producer_thread *t = &ts[i];
		delivered += t->delivered;
		failed += t->failed + (t->sent - t->delivered - t->failed > 0
		                           ? t->sent - t->delivered - t->failed
		                           : 0);
		setup_failed |= t->setup_failed != 0;
		if (!first && (t->failed || t->setup_failed))
			first = &t->first_error;
		if (all)
			hist_merge(all, &t->latency_ns);
	}
	if (first)
		fprintf(stderr, "tape bench produce: %s\n", first->message);
	if (all && !setup_failed)
		print_result(o, "produce", delivered, delivered * o->record_bytes, secs, all,
		             failed);
	status = setup_failed ? CMD_EXIT_USAGE : failed ? CMD_EXIT_PROBLEMS : CMD_EXIT_OK;
	if (!all) {
		fputs("tape bench produce: out of memory\n", stderr);
		status = CMD_EXIT_USAGE;
	}
	free(all);
	free(ts);
	free(pool);
	return status;
}

/* ---- consume ------------------------------------------------------------------------------ */

/* A consumer of every partition of o->topic, assigned at start. Returns 0 or CMD_EXIT_USAGE
 * (said why). */
static int open_consumer(const struct bench_opts *o, struct tape_start start,
                         struct tape_client **cl, struct tape_consumer **c, int32_t *count)
{
	struct tape_client_config ccfg = o->client;
	struct tape_consumer_config kcfg;
	struct tape_error err;
	ccfg.brokers = o->brokers;
	ccfg.allow_auto_create_topics = o->mode[0] == 'e'; /* e2e makes its topic */
	tape_consumer_config_init(&kcfg);
	kcfg.fetch_max_wait_ms = o->mode[0] == 'e' ? 10 : kcfg.fetch_max_wait_ms;
	int32_t n = -1;
	if (tape_client_new(&ccfg, cl, &err) < 0 ||
	    (n = tape_client_partitions(*cl, o->topic, &err)) < 0 ||
	    tape_consumer_new(*cl, &kcfg, c, &err) < 0)
		goto fail;
	for (int32_t p = 0; p < n; p++)
		if (tape_consumer_assign(*c, o->topic, p, start, &err) < 0)
			goto fail;
	int64_t deadline = clock_mono_ms() + 30000;
	/* At the end: until every position is known, so that a producer started afterwards is
	 * read whole. (From elsewhere no wait: a record polled here would be lost.) */
	for (int32_t known = start.kind == TAPE_START_END ? 0 : n; known < n;) {
		struct tape_message m;
		if (clock_mono_ms() > deadline || interrupted) {
			snprintf(err.message, sizeof(err.message),
			         "the offsets of \"%s\" were not found", o->topic);
			goto fail;
		}
		if (tape_consumer_poll(*c, 10, &m, &err) < 0)
			goto fail;
		known = 0;
		for (int32_t p = 0; p < n; p++)
			known += tape_consumer_position(*c, o->topic, p) >= 0;
	}
	*count = n;
	return 0;
fail:
	fprintf(stderr, "tape bench %s: %s\n", o->mode, err.message);
	return CMD_EXIT_USAGE;
}

/* Reads the topic from the beginning to its end (the end of every partition, as it is when
 * reached) or -n records. */
static int bench_consume(struct bench_opts *o)
{
	struct tape_client *cl = NULL;
	struct tape_consumer *c = NULL;
	int32_t partitions = 0;
	int status =
	    open_consumer(o, (struct tape_start){ TAPE_START_BEGINNING, 0 }, &cl, &c, &partitions);
	if (status)
		goto out;
	if (!o->quiet)
		fprintf(stderr, "bench consume: %s (%d partitions) from the beginning to %s\n",
		        o->topic, partitions, o->records ? "-n records" : "the end");
	int64_t records = 0, bytes = 0, start = clock_mono_ns();
	int64_t deadline = o->duration_s > 0 ? start + (int64_t)(o->duration_s * 1e9) : 0;
	int32_t at_end = 0;
	bool *ended = calloc((size_t)partitions, sizeof(*ended));
	while (ended && !interrupted && (!o->records || records < o->records) &&
	       (o->records || at_end < partitions)) {
		struct tape_message m;
		struct tape_error err;
		int rc = tape_consumer_poll(c, 100, &m, &err);
		if (rc < 0) {
			fprintf(stderr, "tape bench consume: %s\n", err.message);
			status = CMD_EXIT_PROBLEMS;
			break;
		}
		if (rc == TAPE_POLL_RECORD) {
			records++;
			bytes += m.value_len > 0 ? m.value_len : 0;
		} else if (rc == TAPE_POLL_EOF && !ended[m.partition]) {
			ended[m.partition] = true;
			at_end++;
		}
		if (deadline && (records & 1023) == 0 && clock_mono_ns() >= deadline)
			break;
	}
	double secs = (double)(clock_mono_ns() - start) / 1e9;
	if (!ended) {
		fputs("tape bench consume: out of memory\n", stderr);
		status = CMD_EXIT_USAGE;
	} else if (!status) {
		print_result(o, "consume", records, bytes, secs, NULL, 0);
	}
	free(ended);
out:
	tape_consumer_free(c);
	tape_client_free(cl);
	return status;
}

/* ---- e2e ---------------------------------------------------------------------------------- */

/* Each value starts with the send time (clock_mono_ns, 16 hex digits): the producer and the
 * consumer are threads of this process, so they share the clock. */
#define E2E_STAMP_BYTES 16

struct e2e_producer {
	pthread_t thread;
	struct producer_thread t; /* its counters and delivery reports */
	char *values;             /* one value per record sent, reused: the stamp is rewritten */
	int done;                 /* set (release) when t.sent is final */
};

static void *e2e_producer_main(void *arg)
{
	struct e2e_producer *e = arg;
	struct producer_thread *t = &e->t;
	const struct bench_opts *o = t->o;
	struct tape_client_config ccfg = o->client;
	struct tape_producer_config pcfg = o->producer;
	struct tape_client *cl = NULL;
	struct tape_producer *p = NULL;
	struct tape_error err;
	ccfg.brokers = o->brokers;
	pcfg.on_delivery = on_bench_delivery;
	pcfg.on_delivery_arg = t;
	if (tape_client_new(&ccfg, &cl, &err) < 0 || tape_producer_new(cl, &pcfg, &p, &err) < 0) {
		t->first_error = err;
		t->setup_failed = 1;
		goto out;
	}
	struct tape_record r = TAPE_RECORD(o->topic);
	r.value = e->values;
	r.value_len = o->record_bytes;
	int64_t start_ns = clock_mono_ns();
	for (int64_t i = 0; !t->records || i < t->records; i++) {
		if (interrupted || (t->deadline_ns && clock_mono_ns() >= t->deadline_ns))
			break;
		pace(p, start_ns, t->rate, i);
		int64_t now = clock_mono_ns();
		char stamp[E2E_STAMP_BYTES + 1];
		snprintf(stamp, sizeof(stamp), "%016llx", (unsigned long long)now);
		memcpy(e->values, stamp, E2E_STAMP_BYTES); /* the producer copies it in send */
		r.opaque = (void *)(uintptr_t)now;
		if (tape_producer_send(p, &r, &err) < 0) {
			if (!t->failed)
				t->first_error = err;
			t->failed++;
			break;
		}
		t->sent++;
		tape_producer_poll(p, 0);
	}
	if (tape_producer_flush(p, pcfg.delivery_timeout_ms + BENCH_FLUSH_SLACK_MS, &err) < 0 &&
	    !t->failed)
		t->first_error = err;
out:
	tape_producer_free(p);
	tape_client_free(cl);
	__atomic_store_n(&e->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* A producer thread at --rate and this thread consuming what it sends, from the end of every
 * partition: each record's latency is from its send to its arrival here. */
static int bench_e2e(struct bench_opts *o)
{
	struct tape_client *cl = NULL;
	struct tape_consumer *c = NULL;
	int32_t partitions = 0;
	if (o->record_bytes < E2E_STAMP_BYTES)
		o->record_bytes = E2E_STAMP_BYTES;
	int status =
	    open_consumer(o, (struct tape_start){ TAPE_START_END, 0 }, &cl, &c, &partitions);
	struct e2e_producer *e = calloc(1, sizeof(*e));
	struct hist *lat = malloc(sizeof(*lat));
	char *pool = make_pool(o->record_bytes);
	if (!status && (!e || !lat || !pool)) {
		fputs("tape bench e2e: out of memory\n", stderr);
		status = CMD_EXIT_USAGE;
	}
	if (status)
		goto out;
	hist_init(lat);
	hist_init(&e->t.latency_ns);
	e->values = pool;
	e->t.o = o;
	e->t.records = o->records;
	e->t.rate = o->rate;
	int64_t start = clock_mono_ns();
	e->t.deadline_ns = o->duration_s > 0 ? start + (int64_t)(o->duration_s * 1e9) : 0;
	if (!o->quiet)
		fprintf(stderr, "bench e2e: %.0f records/s of %d bytes to %s (%d partitions), %s\n",
		        o->rate, o->record_bytes, o->topic, partitions,
		        o->records ? "for -n records" : "for -d seconds");
	if (pthread_create(&e->thread, NULL, e2e_producer_main, e)) {
		fputs("tape bench e2e: cannot start a thread\n", stderr);
		status = CMD_EXIT_USAGE;
		goto out;
	}
	int64_t received = 0, bytes = 0, done_at = 0;
	for (;;) {
		bool producer_done = __atomic_load_n(&e->done, __ATOMIC_ACQUIRE) == 1;
		if (producer_done && !done_at)
			done_at = clock_mono_ms();
		if (producer_done && received >= e->t.sent)
			break;
		/* what was sent and not received after 10 s is lost */
		if (done_at && clock_mono_ms() - done_at > 10000)
			break;
		struct tape_message m;
		struct tape_error err;
		int rc = tape_consumer_poll(c, 50, &m, &err);
		if (rc < 0) {
			fprintf(stderr, "tape bench e2e: %s\n", err.message);
			continue;
		}
		if (rc != TAPE_POLL_RECORD || m.value_len < E2E_STAMP_BYTES)
			continue;
		char stamp[E2E_STAMP_BYTES + 1];
		memcpy(stamp, m.value, E2E_STAMP_BYTES);
		stamp[E2E_STAMP_BYTES] = '\0';
		int64_t sent = (int64_t)strtoull(stamp, NULL, 16);
		hist_record(lat, clock_mono_ns() - sent);
		received++;
		bytes += m.value_len;
	}
	pthread_join(e->thread, NULL);
	double secs = (double)(clock_mono_ns() - start) / 1e9;
	if (e->t.setup_failed || e->t.failed)
		fprintf(stderr, "tape bench e2e: %s\n", e->t.first_error.message);
	int64_t lost = e->t.sent - received;
	if (lost > 0)
		fprintf(stderr, "tape bench e2e: %lld records sent were not received\n",
		        (long long)lost);
	if (!e->t.setup_failed)
		print_result(o, "e2e", received, bytes, secs, lat,
		             e->t.failed + (lost > 0 ? lost : 0));
	status = e->t.setup_failed         ? CMD_EXIT_USAGE
	         : e->t.failed || lost > 0 ? CMD_EXIT_PROBLEMS
	                                   : CMD_EXIT_OK;
out:
	tape_consumer_free(c);
	tape_client_free(cl);
	free(pool);
	free(lat);
	free(e);
	return status;
}

/* ---- dispatch ----------------------------------------------------------------------------- */

static int bench_run(int argc, char **argv)
{
	if (argc < 2) {
		fputs("tape bench: which benchmark? produce\n\n", stderr);
		bench_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	const char *mode = argv[1];
	if (!strcmp(mode, "-h") || !strcmp(mode, "--help") || !strcmp(mode, "help")) {
		bench_usage(stdout);
		return CMD_EXIT_OK;
	}
	struct bench_opts o;
	if (!strcmp(mode, "produce") || !strcmp(mode, "consume") || !strcmp(mode, "e2e")) {
		set_defaults(&o, mode);
		if (mode[0] == 'c')
			o.records = 0; /* to the end */
		if (mode[0] == 'e') {
			o.records = 0;
			o.rate = 1000;
		}
		int rc = parse_args(argc - 1, argv + 1, &o);
		if (rc)
			return rc < 0 ? CMD_EXIT_OK : rc;
		if (mode[0] == 'e' && !o.records && o.duration_s <= 0)
			o.duration_s = 5;
		catch_signals();
		return mode[0] == 'p'   ? bench_produce(&o)
		       : mode[0] == 'c' ? bench_consume(&o)
		                        : bench_e2e(&o);
	}
	return usage_error(NULL, "unknown benchmark '%s'", mode);
}

const struct cmd cmd_bench = {
	.name = "bench",
	.synopsis = "produce|consume|e2e [options]",
	.summary = "load generators: records/s, MB/s, latency p50/p99/p99.9",
	.run = bench_run,
	.usage = bench_usage,
};
