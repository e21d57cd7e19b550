/*
 * cli/cmd_consume.c: `tape consume TOPIC...`: records of one or more topics to standard
 * output, as kcat -C prints them (-f with kcat's tokens) or as JSON lines (--json).
 *
 * Owns: the command line of `tape consume` (options, TAPE_BROKERS), which partitions are
 * assigned and from where, when to stop (-e, -c, a signal), status lines and the exit status.
 * Must not know: the protocol or how records are fetched (client/tape.h is all it uses), the
 * format syntax (cli/format.c) or time spellings (cli/timespec.c).
 *
 * Output is rendered into a buffer and written in large pieces: when it passes OUT_FLUSH_BYTES,
 * whenever the consumer has nothing ready, and at the end.
 */
#include "client/tape.h"
#include "cli/cmd.h"
#include "cli/format.h"
#include "cli/timespec.h"

#include "base/clock.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PARTITIONS_ARG_MAX 1024
#define OUT_FLUSH_BYTES (256 * 1024)
/* How long one poll waits: the latency of noticing SIGINT when no record comes. */
#define POLL_MS 200

struct consume_opts {
	const char **topics;
	int topics_count;
	const char *brokers;
	const char *group; /* -g: group mode */
	bool reset_given;  /* -X auto.offset.reset given (group mode: else from -o) */
	int32_t partitions[PARTITIONS_ARG_MAX];
	int partitions_count;
	struct tape_start start;
	bool exit_at_end;
	int64_t count_max; /* -c; -1 none */
	const char *format;
	bool json;
	bool quiet;
	struct tape_client_config client;
	struct tape_consumer_config consumer;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void consume_usage(FILE *out)
{
	fputs("usage: tape consume [options] TOPIC...\n"
	      "\n"
	      "Prints the records of every partition of each TOPIC to standard output, one per\n"
	      "record in the format -f gives (kcat's), or as JSON lines (--json). Status lines\n"
	      "(\"reached end of ...\") go to stderr.\n"
	      "\n"
	      "options:\n"
	      "  -b, --brokers LIST       host:port,... (default: $TAPE_BROKERS, else\n"
	      "                           localhost:9092); IPv6 as [addr]:port\n"
	      "  -p, --partition N[,N...] only these partitions (repeatable); default: all\n"
	      "  -o, --offset START       where to start in each partition (default beginning):\n"
	      "                             beginning | end   the first record | new records only\n"
	      "                             N                 offset N\n"
	      "                             -N                N records before the end\n"
	      "                             @TIME             the first record at or after TIME\n"
	      "                           TIME: ms since the epoch (1764151200000), RFC 3339\n"
	      "                           (2026-11-26T10:00:00Z, 2026-11-26T11:00:00+01:00), or\n"
	      "                           relative to now (-10s, -30m, -1h, -2d)\n"
	      "  -e, --exit               exit when every partition reached its end\n"
	      "  -c, --count N            exit after N records\n"
	      "  -f, --format FORMAT      kcat's format (default \"%s\\n\"):\n"
	      "                             %s value    %k key       %t topic    %p partition\n"
	      "                             %o offset   %T timestamp (ms)        %h headers\n"
	      "                             (name=value,...)  %S value size  %K key size (-1:\n"
	      "                             null)  %R value size, 4 bytes big-endian  %% a %\n"
	      "                           escapes \\n \\r \\t \\\\ \\xHH; null keys and values\n"
	      "                           print as nothing\n"
	      "  -J, --json               one JSON object per line: {\"topic\", \"partition\",\n"
	      "                           \"offset\", \"timestamp\", \"key\", \"value\", "
	      "\"headers\":\n"
	      "                           [{\"name\", \"value\"}...]}; null key, value or header\n"
	      "                           value as null. Bytes that are not valid UTF-8 are\n"
	      "                           written as \\u00XX with the byte's value (as Latin-1\n"
	      "                           reads it), so the output is always valid JSON\n"
	      "  -g, --group GROUP        group mode: join GROUP and read the partitions it\n"
	      "                           assigns, from the committed offsets (without one,\n"
	      "                           from auto.offset.reset, earliest unless set); TOPIC\n"
	      "                           may be a ^regex (POSIX extended), matched again every\n"
	      "                           topic.metadata.refresh.interval.ms so topics created\n"
	      "                           later are read too. Offsets are committed every\n"
	      "                           auto.commit.interval.ms, before partitions move to\n"
	      "                           another member and on exit (after -c N: exactly the\n"
	      "                           N records printed). -e exits when every assigned\n"
	      "                           partition reached its end. Status lines say when the\n"
	      "                           group was joined and partitions assigned or revoked\n"
	      "      --assignor NAME      group mode: range, roundrobin or cooperative-sticky\n"
	      "                           (default: range,roundrobin, as librdkafka)\n"
	      "  -X, --property KEY=VALUE fetch.min.bytes, fetch.wait.max.ms, fetch.max.bytes,\n"
	      "                           max.partition.fetch.bytes, fetch.buffer.bytes,\n"
	      "                           auto.offset.reset (earliest|latest|error),\n"
	      "                           isolation.level (read_uncommitted|read_committed),\n"
	      "                           request.timeout.ms, client.id; group mode:\n"
	      "                           group.instance.id, session.timeout.ms,\n"
	      "                           heartbeat.interval.ms, max.poll.interval.ms,\n"
	      "                           enable.auto.commit (true|false),\n"
	      "                           auto.commit.interval.ms,\n"
	      "                           topic.metadata.refresh.interval.ms,\n"
	      "                           partition.assignment.strategy\n"
	      "  -q, --quiet              no status lines\n"
	      "  -h, --help               this text\n"
	      "\n"
	      "SIGINT and SIGTERM stop it cleanly: what was read is written out first.\n"
	      "\n"
	      "exit status: 0 done (end reached with -e, count reached, or stopped by a signal),\n"
	      "1 an error while reading (a partition that cannot be read, a batch skipped),\n"
	      "2 usage error, no usable broker, or a topic or partition that does not exist\n",
	      out);
}

#define usage_error(...) cmd_usage_error(&cmd_consume, __VA_ARGS__)

/* Group mode's -X keys. Returns 0 when k was one, -CMD_EXIT_USAGE when its value was bad
 * (after saying why), 1 when k is not a group key. */
static int set_group_property(struct consume_opts *o, const char *k, const char *v)
{
	struct tape_consumer_config *g = &o->consumer;
	long long n;
	if (!strcmp(k, "group.instance.id")) {
		g->group_instance_id = v;
		return 0;
	}
	if (!strcmp(k, "partition.assignment.strategy")) {
		g->assignors = v;
		return 0;
	}
	if (!strcmp(k, "enable.auto.commit")) {
		if (strcmp(v, "true") && strcmp(v, "false"))
			return -usage_error("-X enable.auto.commit=%s: true or false", v);
		g->enable_auto_commit = !strcmp(v, "true");
		return 0;
	}
	int32_t *field =
	    !strcmp(k, "session.timeout.ms")        ? &g->session_timeout_ms
	    : !strcmp(k, "heartbeat.interval.ms")   ? &g->heartbeat_interval_ms
	    : !strcmp(k, "max.poll.interval.ms")    ? &g->rebalance_timeout_ms
	    : !strcmp(k, "auto.commit.interval.ms") ? &g->auto_commit_interval_ms
	    : !strcmp(k, "topic.metadata.refresh.interval.ms") || !strcmp(k, "metadata.max.age.ms")
	        ? &g->metadata_pattern_refresh_ms
	        : NULL;
	if (!field)
		return 1;
	if (!cmd_parse_int(v, 1, INT32_MAX, &n))
		return -usage_error("-X: %s needs a number from 1", k);
	*field = (int32_t)n;
	return 0;
}

/* -X KEY=VALUE. Returns 0 or CMD_EXIT_USAGE (after saying why). */
static int set_property(struct consume_opts *o, char *kv)
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
	if (!strcmp(k, "auto.offset.reset")) {
		o->reset_given = true;
		if (!strcmp(v, "earliest") || !strcmp(v, "smallest") || !strcmp(v, "beginning"))
			o->consumer.auto_offset_reset = TAPE_RESET_EARLIEST;
		else if (!strcmp(v, "latest") || !strcmp(v, "largest") || !strcmp(v, "end"))
			o->consumer.auto_offset_reset = TAPE_RESET_LATEST;
		else if (!strcmp(v, "error"))
			o->consumer.auto_offset_reset = TAPE_RESET_ERROR;
		else
			return usage_error("-X auto.offset.reset=%s: earliest, latest or error", v);
		return 0;
	}
	int grc = set_group_property(o, k, v);
	if (grc <= 0)
		return -grc;
	if (!strcmp(k, "isolation.level")) {
		if (strcmp(v, "read_uncommitted") && strcmp(v, "read_committed"))
			return usage_error(
			    "-X isolation.level=%s: read_uncommitted or read_committed", v);
		o->consumer.isolation_level = !strcmp(v, "read_committed");
		return 0;
	}
	if (!cmd_parse_int(v, 0, INT32_MAX, &n))
		return usage_error("-X: %s needs a number from 0", k);
	if (!strcmp(k, "fetch.min.bytes"))
		o->consumer.fetch_min_bytes = (int32_t)n;
	else if (!strcmp(k, "fetch.wait.max.ms") || !strcmp(k, "fetch.max.wait.ms"))
		o->consumer.fetch_max_wait_ms = (int32_t)n;
	else if (!strcmp(k, "fetch.max.bytes"))
		o->consumer.fetch_max_bytes = (int32_t)n;
	else if (!strcmp(k, "max.partition.fetch.bytes"))
		o->consumer.partition_fetch_bytes = (int32_t)n;
	else if (!strcmp(k, "fetch.buffer.bytes"))
		o->consumer.fetch_buffer_bytes = n;
	else if (!strcmp(k, "request.timeout.ms"))
		o->client.request_timeout_ms = (int32_t)n;
	else
		return usage_error("-X: unknown property '%s' (see --help)", k);
	return 0;
}

static int add_partitions(struct consume_opts *o, char *arg)
{
	for (char *save = NULL, *tok = strtok_r(arg, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		long long n;
		if (!cmd_parse_int(tok, 0, INT32_MAX, &n))
			return usage_error("-p %s: not a partition number", tok);
		if (o->partitions_count == PARTITIONS_ARG_MAX)
			return usage_error("-p: at most %d partitions", PARTITIONS_ARG_MAX);
		o->partitions[o->partitions_count++] = (int32_t)n;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct consume_opts *o)
{
	static const struct option options[] = {
		{ "brokers", required_argument, NULL, 'b' },
		{ "partition", required_argument, NULL, 'p' },
		{ "offset", required_argument, NULL, 'o' },
		{ "exit", no_argument, NULL, 'e' },
		{ "count", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'J' },
		{ "group", required_argument, NULL, 'g' },
		{ "property", required_argument, NULL, 'X' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "assignor", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;
	long long n;
	char why[160];
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":b:p:o:ec:f:Jg:X:qh", options, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->brokers = optarg;
			break;
		case 'p':
			if ((rc = add_partitions(o, optarg)))
				return rc;
			break;
		case 'o':
			if (timespec_parse_start(optarg, clock_wall_ms(), &o->start, why,
			                         sizeof(why)) < 0)
				return usage_error("-o: %s", why);
			break;
		case 'e':
			o->exit_at_end = true;
			break;
		case 'c':
			if (!cmd_parse_int(optarg, 1, INT64_MAX, &n))
				return usage_error("-c %s: a count from 1", optarg);
			o->count_max = n;
			break;
		case 'f':
			o->format = optarg;
			break;
		case 'J':
			o->json = true;
			break;
		case 'g':
			o->group = optarg;
			o->consumer.group_id = optarg;
			break;
		case 'A':
			if (strcmp(optarg, "range") && strcmp(optarg, "roundrobin") &&
			    strcmp(optarg, "cooperative-sticky"))
				return usage_error("--assignor %s: range, roundrobin or "
				                   "cooperative-sticky",
				                   optarg);
			o->consumer.assignors = optarg;
			break;
		case 'X':
			if ((rc = set_property(o, optarg)))
				return rc;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			consume_usage(stdout);
			return -1;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (o->json && o->format)
		return usage_error("-f and --json do not go together");
	if (o->group && o->partitions_count)
		return usage_error("-p: in group mode the group assigns the partitions");
	if (o->group && o->start.kind != TAPE_START_BEGINNING && o->start.kind != TAPE_START_END)
		return usage_error("-o: in group mode partitions start at the committed offset; "
		                   "-o beginning or end (or -X auto.offset.reset) says where "
		                   "when there is none");
	if (o->group && !o->reset_given)
		o->consumer.auto_offset_reset =
		    o->start.kind == TAPE_START_END ? TAPE_RESET_LATEST : TAPE_RESET_EARLIEST;
	if (optind == argc)
		return usage_error("no TOPIC given");
	o->topics = (const char **)&argv[optind];
	o->topics_count = argc - optind;
	for (int i = 0; i < o->topics_count && !o->group; i++)
		if (o->topics[i][0] == '^')
			return usage_error("%s: a ^regex subscription needs group mode (-g)",
			                   o->topics[i]);
	return 0;
}

static void set_defaults(struct consume_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->start = (struct tape_start){ TAPE_START_BEGINNING, 0 };
	o->count_max = -1;
	tape_client_config_init(&o->client);
	o->client.allow_auto_create_topics = false; /* reading never creates a topic */
	tape_consumer_config_init(&o->consumer);
	o->brokers = cmd_default_brokers();
}

/* Assigns the partitions -p names (or all) of every topic. Returns how many, or < 0 after
 * saying why. */
static int assign_all(struct tape_client *cl, struct tape_consumer *c, const struct consume_opts *o)
{
	struct tape_error err;
	int total = 0;
	for (int i = 0; i < o->topics_count; i++) {
		int32_t n = tape_client_partitions(cl, o->topics[i], &err);
		if (n < 0) {
			fprintf(stderr, "tape consume: %s\n", err.message);
			return -1;
		}
		int32_t count = o->partitions_count ? o->partitions_count : n;
		for (int32_t j = 0; j < count; j++) {
			int32_t p = o->partitions_count ? o->partitions[j] : j;
			if (tape_consumer_assign(c, o->topics[i], p, o->start, &err) < 0) {
				if (err.code == -EEXIST)
					continue; /* -p 1,1 or a topic named twice */
				fprintf(stderr, "tape consume: %s\n", err.message);
				return -1;
			}
			total++;
		}
	}
	return total;
}

/* ---- group mode ---------------------------------------------------------------------------- */

/* What the group assigned, for -e (every assigned partition at its end) and status lines. */
struct group_view {
	bool quiet;
	bool settled; /* a rebalance ended and no revoke came since */
	int32_t count;
	struct {
		char *topic;
		int32_t partition;
		bool at_end;
	} parts[PARTITIONS_ARG_MAX * 4];
};

static int32_t view_find(const struct group_view *v, const char *topic, int32_t partition)
{
	for (int32_t i = 0; i < v->count; i++)
		if (v->parts[i].partition == partition && !strcmp(v->parts[i].topic, topic))
			return i;
	return -1;
}

static void view_status(const struct group_view *v, const char *what,
                        const struct tape_rebalance *rb)
{
	if (v->quiet)
		return;
	fflush(stdout);
	fprintf(stderr, "%s %d partition%s", what, rb->partitions_count,
	        rb->partitions_count == 1 ? "" : "s");
	for (int32_t i = 0; i < rb->partitions_count; i++) {
		const struct tape_partition *p = &rb->partitions[i];
		fprintf(stderr, "%s \"%s\" [%d]", i ? "," : ":", p->topic, p->partition);
		if (rb->kind == TAPE_REBALANCE_ASSIGNED && p->offset >= 0)
			fprintf(stderr, " from committed offset %lld", (long long)p->offset);
		else if (rb->kind == TAPE_REBALANCE_ASSIGNED)
			fputs(" (nothing committed)", stderr);
	}
	fputc('\n', stderr);
}

static void on_rebalance(const struct tape_rebalance *rb, void *arg)
{
	struct group_view *v = arg;
	switch (rb->kind) {
	case TAPE_REBALANCE_JOINED:
		if (!v->quiet)
			fprintf(stderr, "joined group as %s (generation %d%s, assignor %s)\n",
			        rb->member_id, rb->generation_id, rb->leader ? ", leader" : "",
			        rb->protocol);
		return;
	case TAPE_REBALANCE_ASSIGNED:
		for (int32_t i = 0; i < rb->partitions_count; i++) {
			const struct tape_partition *p = &rb->partitions[i];
			if (view_find(v, p->topic, p->partition) >= 0 ||
			    v->count == (int32_t)(sizeof(v->parts) / sizeof(v->parts[0])))
				continue;
			char *t = strdup(p->topic);
			if (!t)
				continue;
			v->parts[v->count].topic = t;
			v->parts[v->count].partition = p->partition;
			v->parts[v->count++].at_end = false;
		}
		v->settled = true;
		if (rb->partitions_count > 0)
			view_status(v, "assigned", rb);
		return;
	case TAPE_REBALANCE_REVOKED:
	case TAPE_REBALANCE_LOST:
		for (int32_t i = 0; i < rb->partitions_count; i++) {
			int32_t k =
			    view_find(v, rb->partitions[i].topic, rb->partitions[i].partition);
			if (k < 0)
				continue;
			free(v->parts[k].topic);
			v->parts[k] = v->parts[--v->count];
		}
		v->settled = false;
		view_status(v, rb->kind == TAPE_REBALANCE_LOST ? "lost" : "revoked", rb);
		return;
	}
}

/* A record or an end from a partition; returns true when -e may stop: the group settled and
 * every partition it assigned is at its end. */
static bool view_note(struct group_view *v, const struct tape_message *m, bool at_end)
{
	int32_t k = view_find(v, m->topic, m->partition);
	if (k >= 0)
		v->parts[k].at_end = at_end;
	if (!v->settled)
		return false;
	for (int32_t i = 0; i < v->count; i++)
		if (!v->parts[i].at_end)
			return false;
	return true;
}

static void view_free(struct group_view *v)
{
	for (int32_t i = 0; i < v->count; i++)
		free(v->parts[i].topic);
	free(v);
}

static bool flush_out(struct format_out *out)
{
	bool ok = out->len == 0 || fwrite(out->p, 1, out->len, stdout) == out->len;
	out->len = 0;
	return fflush(stdout) == 0 && ok;
}

/* Polls and prints until the end (-e), the count (-c), an interrupt or an error. Returns the
 * exit status. */
static int consume_loop(struct tape_consumer *c, const struct consume_opts *o,
                        const struct format *fmt, int assigned, struct group_view *view,
                        int64_t *records)
{
	struct format_out out = { 0 };
	struct tape_message m;
	struct tape_error err;
	int status = CMD_EXIT_OK;
	int at_end = 0;
	while (!interrupted) {
		int rc = tape_consumer_poll(c, POLL_MS, &m, &err);
		if (rc == TAPE_POLL_RECORD) {
			if ((o->json ? format_render_json(&m, &out)
			             : format_render(fmt, &m, &out)) < 0) {
				fputs("tape consume: out of memory\n", stderr);
				status = CMD_EXIT_USAGE;
				break;
			}
			(*records)++;
			if (view)
				view_note(view, &m, false);
			if (out.len >= OUT_FLUSH_BYTES && !flush_out(&out))
				break; /* main reports the write error */
			if (o->count_max >= 0 && *records >= o->count_max)
				break;
			continue;
		}
		if (rc == TAPE_POLL_EOF) {
			if (!o->quiet) {
				flush_out(&out);
				fprintf(stderr,
				        "reached end of \"%s\" partition %d at offset %lld\n",
				        m.topic, m.partition, (long long)m.offset);
			}
			/* Every partition reports its first arrival once; later arrivals come
			 * only after more records, by which time -e has stopped. */
			if (view ? view_note(view, &m, true) && o->exit_at_end
			         : o->exit_at_end && ++at_end >= assigned)
				break;
			continue;
		}
		if (rc < 0) {
			flush_out(&out);
			fprintf(stderr, "tape consume: %s\n", err.message);
			status = CMD_EXIT_PROBLEMS;
			bool skipped = err.code == -TAPE_EBADBATCH || err.code == -TAPE_ECORRUPT ||
			               err.code == -TAPE_ECODEC || err.code == -TAPE_ETOOLARGE;
			if (!skipped)
				break;
			continue;
		}
		if (!flush_out(&out))
			break;
		/* -e in a group where nothing more comes: every partition ended already, or
		 * the group assigned this member none. */
		if (view && o->exit_at_end && view->settled && view->count == 0)
			break;
	}
	flush_out(&out);
	free(out.p);
	return status;
}

/* -g: subscribes, prints until the end, the count or a signal, then closes (a final commit,
 * LeaveGroup). Returns the exit status; the consumer is closed either way. */
static int group_run(struct tape_consumer *c, const struct consume_opts *o,
                     const struct format *fmt, int64_t *records)
{
	struct tape_error err;
	int status = CMD_EXIT_USAGE;
	struct group_view *view = calloc(1, sizeof(*view));
	if (!view) {
		fputs("tape consume: out of memory\n", stderr);
		tape_consumer_free(c);
		return status;
	}
	view->quiet = o->quiet;
	tape_consumer_on_rebalance(c, on_rebalance, view);
	if (tape_consumer_subscribe(c, (const char *const *)o->topics, o->topics_count, &err) < 0) {
		fprintf(stderr, "tape consume: %s\n", err.message);
		tape_consumer_free(c);
		view_free(view);
		return status;
	}
	status = consume_loop(c, o, fmt, 0, view, records);
	if (tape_consumer_close(c, &err) < 0) {
		fprintf(stderr, "tape consume: %s\n", err.message);
		status = CMD_EXIT_PROBLEMS;
	}
	view_free(view);
	return status;
}

static int consume_run(int argc, char **argv)
{
	struct consume_opts o;
	set_defaults(&o);
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc < 0 ? CMD_EXIT_OK : rc;
	struct format fmt = { 0 };
	char why[160];
	if (!o.json && format_parse(o.format ? o.format : "%s\\n", &fmt, why, sizeof(why)) < 0)
		return usage_error("-f: %s", why);
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct tape_client *cl = NULL;
	struct tape_consumer *c = NULL;
	struct tape_error err;
	int status = CMD_EXIT_USAGE;
	int64_t records = 0;
	o.client.brokers = o.brokers;
	if (tape_client_new(&o.client, &cl, &err) < 0 ||
	    tape_consumer_new(cl, &o.consumer, &c, &err) < 0) {
		fprintf(stderr, "tape consume: %s\n", err.message);
		goto out;
	}
	if (o.group) {
		status = group_run(c, &o, &fmt, &records);
		c = NULL; /* closed */
		goto out;
	}
	int assigned = assign_all(cl, c, &o);
	if (assigned < 0)
		goto out;
	status = consume_loop(c, &o, &fmt, assigned, NULL, &records);
out:
	tape_consumer_free(c);
	tape_client_free(cl);
	format_free(&fmt);
	return status;
}

const struct cmd cmd_consume = {
	.name = "consume",
	.synopsis = "[options] TOPIC...",
	.summary = "print the records of topics",
	.run = consume_run,
	.usage = consume_usage,
};
