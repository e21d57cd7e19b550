/*
 * cli/cmd_produce.c: `tape produce TOPIC`: one record per input line, through libtape's
 * producer, with a summary on stderr at the end.
 *
 * Owns: the command line of `tape produce` (options, TAPE_BROKERS), splitting input into
 * lines and keys, counting deliveries, the summary and the exit status. Must not know: the
 * protocol or how the producer batches (client/tape.h is all it uses).
 *
 * Input is read with read(2) in chunks, polling the producer between them, so that batches
 * leave on time (linger) even when lines trickle in from a terminal or a pipe.
 */
#include "client/tape.h"
#include "cli/cmd.h"

#include "base/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEADERS_MAX 64
#define READ_BYTES (64 * 1024)
/* While the input has nothing to read, the producer is polled this long at a time: the
 * latency a line typed at a terminal may wait before it is read. */
#define IDLE_POLL_MS 10
/* After the input ends, the producer gets this much beyond its delivery timeout to report
 * every record (it reports each within the delivery timeout by itself). */
#define FLUSH_SLACK_MS 5000

struct produce_opts {
	const char *topic;
	const char *brokers;
	const char *file;
	const char *key;     /* -k: one key for every record */
	const char *key_sep; /* -K: the key ends at this delimiter */
	size_t key_sep_len;
	struct tape_header headers[HEADERS_MAX];
	int32_t headers_count;
	int32_t partition;
	bool quiet;
	struct tape_client_config client;
	struct tape_producer_config producer;
};

struct produce_state {
	bool started; /* the topic was usable and input was read */
	int64_t delivered;
	int64_t failed;
	bool error_shown;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void produce_usage(FILE *out)
{
	fputs(
	    "usage: tape produce [options] TOPIC\n"
	    "\n"
	    "Sends each line of the input (standard input, or -l FILE) to TOPIC as one record, "
	    "the\n"
	    "line without its newline as the value, and prints a summary on stderr at the end:\n"
	    "\"produced N records to TOPIC in S s\".\n"
	    "\n"
	    "options:\n"
	    "  -b, --brokers LIST       host:port,... (default: $TAPE_BROKERS, else\n"
	    "                           localhost:9092); IPv6 as [addr]:port\n"
	    "  -l, --file FILE          read lines from FILE instead of standard input\n"
	    "  -k, --key KEY            the same key for every record\n"
	    "  -K, --key-delimiter D    the key is what precedes the first D on each line, the\n"
	    "                           value what follows; a line without D has no key\n"
	    "  -H, --header NAME=VALUE  a header on every record (repeatable; NAME alone: a null\n"
	    "                           value)\n"
	    "  -p, --partition N        send every record to partition N (default: by key, as\n"
	    "                           Java's producer does, or round robin without a key)\n"
	    "      --acks 0|1|all       what the broker confirms (default all)\n"
	    "  -z, --compression CODEC  none, zstd (default), gzip, snappy or lz4\n"
	    "      --idempotent         producer id and sequences: retries never duplicate or\n"
	    "                           reorder (needs --acks all)\n"
	    "  -X, --property KEY=VALUE linger.ms, batch.size, delivery.timeout.ms,\n"
	    "                           request.timeout.ms, max.in.flight, compression.level,\n"
	    "                           allow.auto.create.topics (true|false), client.id\n"
	    "  -q, --quiet              no summary\n"
	    "  -h, --help               this text\n"
	    "\n"
	    "The topic is created when it does not exist and the broker creates topics\n"
	    "(auto.create.topics.enable); otherwise: topic \"TOPIC\" does not exist.\n"
	    "\n"
	    "exit status: 0 every record delivered, 1 some records failed (the first failure is\n"
	    "shown), 2 usage error, unreadable input, or no usable broker or topic\n",
	    out);
}

#define usage_error(...) cmd_usage_error(&cmd_produce, __VA_ARGS__)

/* -X KEY=VALUE. Returns 0 or CMD_EXIT_USAGE (after saying why). */
static int set_property(struct produce_opts *o, char *kv)
{
	char *eq = strchr(kv, '=');
	if (!eq)
		return usage_error("-X %s: expected KEY=VALUE", kv);
	*eq = '\0';
	const char *k = kv, *v = eq + 1;
	long long n;
	if (!strcmp(k, "client.id")) {
		o->client.client_id = v;
		return 0;
	}
	if (!strcmp(k, "allow.auto.create.topics")) {
		if (strcmp(v, "true") && strcmp(v, "false"))
			return usage_error("-X allow.auto.create.topics=%s: true or false", v);
		o->client.allow_auto_create_topics = !strcmp(v, "true");
		return 0;
	}
	if (!cmd_parse_int(v, 0, INT32_MAX, &n))
		return usage_error("-X: %s needs a number from 0", k);
	if (!strcmp(k, "linger.ms"))
		o->producer.linger_ms = (int32_t)n;
	else if (!strcmp(k, "batch.size"))
		o->producer.batch_bytes = (int32_t)n;
	else if (!strcmp(k, "delivery.timeout.ms"))
		o->producer.delivery_timeout_ms = (int32_t)n;
	else if (!strcmp(k, "request.timeout.ms"))
		o->client.request_timeout_ms = (int32_t)n;
	else if (!strcmp(k, "max.in.flight"))
		o->producer.max_in_flight = (int32_t)n;
	else if (!strcmp(k, "compression.level"))
		o->producer.compression_level = (int)n;
	else
		return usage_error("-X: unknown property '%s' (see --help)", k);
	return 0;
}

static int add_header(struct produce_opts *o, char *arg)
{
	if (o->headers_count == HEADERS_MAX)
		return usage_error("at most %d headers", HEADERS_MAX);
	char *eq = strchr(arg, '=');
	struct tape_header *h = &o->headers[o->headers_count++];
	h->name = arg;
	if (eq) {
		*eq = '\0';
		h->value = eq + 1;
		h->value_len = (int32_t)strlen(eq + 1);
	}
	if (!*h->name)
		return usage_error("-H: a header needs a name");
	return 0;
}

static int parse_args(int argc, char **argv, struct produce_opts *o)
{
	static const struct option options[] = {
		{ "brokers", required_argument, NULL, 'b' },
		{ "file", required_argument, NULL, 'l' },
		{ "key", required_argument, NULL, 'k' },
		{ "key-delimiter", required_argument, NULL, 'K' },
		{ "header", required_argument, NULL, 'H' },
		{ "partition", required_argument, NULL, 'p' },
		{ "acks", required_argument, NULL, 'a' },
		{ "compression", required_argument, NULL, 'z' },
		{ "idempotent", no_argument, NULL, 'i' },
		{ "property", required_argument, NULL, 'X' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;
	long long n;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":b:l:k:K:H:p:z:X:qh", options, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->brokers = optarg;
			break;
		case 'l':
			o->file = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'K':
			o->key_sep = optarg;
			o->key_sep_len = strlen(optarg);
			if (!o->key_sep_len)
				return usage_error("-K: the delimiter cannot be empty");
			break;
		case 'H':
			if ((rc = add_header(o, optarg)))
				return rc;
			break;
		case 'p':
			if (!cmd_parse_int(optarg, 0, INT32_MAX, &n))
				return usage_error("-p %s: not a partition number", optarg);
			o->partition = (int32_t)n;
			break;
		case 'a':
			if (!strcmp(optarg, "all") || !strcmp(optarg, "-1"))
				o->producer.acks = -1;
			else if (!strcmp(optarg, "0") || !strcmp(optarg, "1"))
				o->producer.acks = (int16_t)atoi(optarg);
			else
				return usage_error("--acks %s: 0, 1 or all", optarg);
			break;
		case 'z':
			o->producer.compression = compression_from_name(optarg);
			if (o->producer.compression < 0)
				return usage_error("-z %s: none, zstd, gzip, snappy or lz4",
				                   optarg);
			break;
		case 'i':
			o->producer.idempotent = true;
			break;
		case 'X':
			if ((rc = set_property(o, optarg)))
				return rc;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			produce_usage(stdout);
			return -1;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (o->key && o->key_sep)
		return usage_error("-k and -K do not go together");
	if (o->producer.idempotent && o->producer.acks != -1)
		return usage_error("--idempotent needs --acks all");
	if (optind != argc - 1)
		return usage_error(optind == argc ? "no TOPIC given" : "one TOPIC only");
	o->topic = argv[optind];
	return 0;
}

static void on_delivery(const struct tape_delivery *d, void *arg)
{
	struct produce_state *st = arg;
	if (!d->error) {
		st->delivered++;
		return;
	}
	st->failed++;
	if (!st->error_shown) {
		fprintf(stderr, "tape produce: %s\n", d->error->message);
		st->error_shown = true;
	}
}

/* One line (without its newline) as one record. */
static int send_line(struct tape_producer *p, const struct produce_opts *o, const char *line,
                     size_t len, int64_t line_no)
{
	struct tape_record r = TAPE_RECORD(o->topic);
	r.partition = o->partition;
	r.headers = o->headers;
	r.headers_count = o->headers_count;
	r.value = line;
	r.value_len = (int32_t)len;
	if (o->key) {
		r.key = o->key;
		r.key_len = (int32_t)strlen(o->key);
	} else if (o->key_sep) {
		const char *sep = memmem(line, len, o->key_sep, o->key_sep_len);
		if (sep) {
			r.key = line;
			r.key_len = (int32_t)(sep - line);
			r.value = sep + o->key_sep_len;
			r.value_len = (int32_t)(len - (size_t)(sep - line) - o->key_sep_len);
		}
	}
	struct tape_error err;
	int rc = tape_producer_send(p, &r, &err);
	if (rc < 0)
		fprintf(stderr, "tape produce: line %lld: %s\n", (long long)line_no, err.message);
	return rc;
}

struct reader {
	int fd;
	char *buf;
	size_t len;
	size_t cap;
	size_t max_line; /* longer lines cannot be one record */
	int64_t lines;
};

/* Sends the whole lines in r->buf, keeping a partial last line. At end of input the rest is
 * a line too. Returns 0, or < 0 after reporting why. */
static int send_lines(struct reader *r, struct tape_producer *p, const struct produce_opts *o,
                      bool at_end)
{
	size_t start = 0;
	for (;;) {
		char *nl = memchr(r->buf + start, '\n', r->len - start);
		if (!nl && !(at_end && start < r->len))
			break;
		size_t end = nl ? (size_t)(nl - r->buf) : r->len;
		r->lines++;
		if (send_line(p, o, r->buf + start, end - start, r->lines) < 0)
			return -1;
		start = nl ? end + 1 : r->len;
	}
	memmove(r->buf, r->buf + start, r->len - start);
	r->len -= start;
	if (r->len > r->max_line) { /* in the words tape_producer_send uses for a whole line */
		fprintf(
		    stderr,
		    "tape produce: line %lld: a record of more than %zu bytes does not fit in a "
		    "request of at most %zu bytes\n",
		    (long long)r->lines + 1, r->max_line, r->max_line);
		return -1;
	}
	return 0;
}

/* Reads the input to its end (or an interrupt), sending lines. Returns 0 or < 0. */
static int read_input(struct reader *r, struct tape_producer *p, const struct produce_opts *o)
{
	for (;;) {
		if (interrupted)
			return 0;
		struct pollfd pf = { .fd = r->fd, .events = POLLIN };
		int ready = poll(&pf, 1, 0);
		if (ready == 0) {
			tape_producer_poll(p, IDLE_POLL_MS);
			continue;
		}
		if (r->cap - r->len < READ_BYTES) {
			size_t cap = r->cap ? r->cap * 2 : 2 * READ_BYTES;
			char *b = realloc(r->buf, cap);
			if (!b) {
				fputs("tape produce: out of memory\n", stderr);
				return -1;
			}
			r->buf = b;
			r->cap = cap;
		}
		ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "tape produce: cannot read %s: %s\n",
			        o->file ? o->file : "standard input", strerror(errno));
			return -1;
		}
		r->len += (size_t)n;
		if (send_lines(r, p, o, n == 0) < 0)
			return -1;
		if (n == 0)
			return 0;
		tape_producer_poll(p, 0);
	}
}

static void set_defaults(struct produce_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->partition = TAPE_PARTITION_ANY;
	tape_client_config_init(&o->client);
	tape_producer_config_init(&o->producer);
	o->brokers = cmd_default_brokers();
}

/* Connects, checks the topic (and -p), reads and sends, flushes. Returns the exit status. */
static int produce(struct produce_opts *o, struct produce_state *st, int fd)
{
	struct tape_client *cl = NULL;
	struct tape_producer *p = NULL;
	struct tape_error err;
	struct reader rd = { .fd = fd, .max_line = (size_t)o->producer.request_bytes_max };
	int status = CMD_EXIT_USAGE;
	o->client.brokers = o->brokers;
	o->producer.on_delivery = on_delivery;
	o->producer.on_delivery_arg = st;
	if (tape_client_new(&o->client, &cl, &err) < 0 ||
	    tape_producer_new(cl, &o->producer, &p, &err) < 0) {
		fprintf(stderr, "tape produce: %s\n", err.message);
		goto out;
	}
	int32_t partitions = tape_client_partitions(cl, o->topic, &err);
	if (partitions < 0) {
		fprintf(stderr, "tape produce: %s\n", err.message);
		goto out;
	}
	if (o->partition >= partitions) {
		fprintf(stderr,
		        "tape produce: partition %d of topic \"%s\" does not exist (it has %d)\n",
		        o->partition, o->topic, partitions);
		goto out;
	}
	st->started = true;
	int rc = read_input(&rd, p, o);
	if (tape_producer_flush(p, o->producer.delivery_timeout_ms + FLUSH_SLACK_MS, &err) < 0)
		fprintf(stderr, "tape produce: %s\n", err.message);
	status =
	    rc < 0 ? CMD_EXIT_USAGE
	           : (st->failed || tape_producer_outstanding(p) ? CMD_EXIT_PROBLEMS : CMD_EXIT_OK);
out:
	tape_producer_free(p);
	tape_client_free(cl);
	free(rd.buf);
	return status;
}

static int produce_run(int argc, char **argv)
{
	struct produce_opts o;
	set_defaults(&o);
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc < 0 ? CMD_EXIT_OK : rc;
	int fd = 0;
	if (o.file && (fd = open(o.file, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "tape produce: cannot open %s: %s\n", o.file, strerror(errno));
		return CMD_EXIT_USAGE;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct produce_state st = { 0 };
	int64_t start = clock_mono_ns();
	int status = produce(&o, &st, fd);
	double secs = (double)(clock_mono_ns() - start) / 1e9;
	if (o.file)
		close(fd);
	if (!o.quiet && st.started) {
		fprintf(stderr, "produced %lld records to %s in %.2f s", (long long)st.delivered,
		        o.topic, secs);
		if (st.failed)
			fprintf(stderr, " (%lld failed)", (long long)st.failed);
		fputc('\n', stderr);
	}
	return status;
}

const struct cmd cmd_produce = {
	.name = "produce",
	.synopsis = "[options] TOPIC",
	.summary = "send lines of input to a topic as records",
	.run = produce_run,
	.usage = produce_usage,
};
