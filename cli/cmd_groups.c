/*
 * cli/cmd_groups.c: `tape groups list|describe|reset|delete`, through libtape's admin calls,
 * in kafka-consumer-groups' terms.
 *
 * Owns: the command line of `tape groups` (options, TAPE_BROKERS), the describe table
 * (committed offsets, log end, lag, owners), the reset plan and its execution, and the exit
 * status. Must not know: the protocol (client/tape.h), the reset rules themselves
 * (cli/reset_plan.c) or column layout (cli/table.c).
 */
#include "client/tape.h"
#include "cli/cmd.h"
#include "cli/reset_plan.h"
#include "cli/table.h"
#include "cli/timespec.h"

#include "base/clock.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MS 30000
#define RESET_PARTITIONS_MAX 10000 /* TOPIC_PARTITIONS_MAX: --topic T:p,... is one topic */

struct groups_opts {
	const char *brokers;
	const char *topic; /* reset: T or T:p,p,... */
	bool have_kind;
	enum reset_kind kind;
	int64_t value;
	const char *datetime;
	int64_t at_ms; /* --to-datetime, parsed */
	bool execute;
};

static void groups_usage(FILE *out)
{
	fputs(
	    "usage: tape groups list\n"
	    "       tape groups describe GROUP\n"
	    "       tape groups reset GROUP --topic TOPIC[:P,P...] (--to-earliest | --to-latest |\n"
	    "                         --to-offset N | --to-datetime TIME | --shift-by N) "
	    "[--execute]\n"
	    "       tape groups delete GROUP\n"
	    "\n"
	    "list      the consumer groups, one per line\n"
	    "describe  the group's state and total lag, then per partition: the committed\n"
	    "          offset (CURRENT-OFFSET), the log end, the lag and the member that owns it,\n"
	    "          as kafka-consumer-groups --describe prints them (\"-\" where unknown)\n"
	    "reset     moves the group's committed offsets on TOPIC (every partition, or those\n"
	    "          listed); prints the plan, and commits it only with --execute. The group\n"
	    "          must have no active members. --to-offset and --shift-by are clamped to\n"
	    "          the log start and end; --to-datetime takes the first record at or after\n"
	    "          TIME (epoch ms, RFC 3339 such as 2026-11-26T10:00:00Z, or -1h style), the\n"
	    "          log end when there is none\n"
	    "delete    the group and its committed offsets (it must have no active members)\n"
	    "\n"
	    "options:\n"
	    "  -b, --brokers LIST   host:port,... (default: $TAPE_BROKERS, else localhost:9092)\n"
	    "  -h, --help           this text\n"
	    "\n"
	    "exit status: 0 done, 1 the broker refused (active members, ...), 2 usage error, no\n"
	    "usable broker, or no such group or topic\n",
	    out);
}

#define usage_error(...) cmd_usage_error(&cmd_groups, __VA_ARGS__)

__attribute__((format(printf, 2, 3))) static int error_line(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("tape groups: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

static int failed(const struct tape_error *err)
{
	bool missing =
	    err->code == -TAPE_EKAFKA && (err->kafka_code == KAFKA_UNKNOWN_TOPIC_OR_PARTITION ||
	                                  err->kafka_code == KAFKA_GROUP_ID_NOT_FOUND);
	return error_line(err->code == -TAPE_EKAFKA && !missing ? CMD_EXIT_PROBLEMS
	                                                        : CMD_EXIT_USAGE,
	                  "%s", err->message);
}

static bool parse_i64(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return false;
	*out = v;
	return true;
}

static int set_kind(struct groups_opts *o, enum reset_kind kind, const char *flag)
{
	if (o->have_kind)
		return usage_error("%s: give one of --to-earliest, --to-latest, --to-offset, "
		                   "--to-datetime, --shift-by",
		                   flag);
	o->have_kind = true;
	o->kind = kind;
	return 0;
}

enum { OPT_TOPIC = 256, OPT_EARLIEST, OPT_LATEST, OPT_OFFSET, OPT_DATETIME, OPT_SHIFT, OPT_EXEC };

static int parse_opts(int argc, char **argv, struct groups_opts *o)
{
	static const struct option options[] = {
		{ "brokers", required_argument, NULL, 'b' },
		{ "topic", required_argument, NULL, OPT_TOPIC },
		{ "to-earliest", no_argument, NULL, OPT_EARLIEST },
		{ "to-latest", no_argument, NULL, OPT_LATEST },
		{ "to-offset", required_argument, NULL, OPT_OFFSET },
		{ "to-datetime", required_argument, NULL, OPT_DATETIME },
		{ "shift-by", required_argument, NULL, OPT_SHIFT },
		{ "execute", no_argument, NULL, OPT_EXEC },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	*o = (struct groups_opts){ 0 };
	int c, rc = 0;
	optind = 1;
	while (rc == 0 && (c = getopt_long(argc, argv, ":b:h", options, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->brokers = optarg;
			break;
		case OPT_TOPIC:
			o->topic = optarg;
			break;
		case OPT_EARLIEST:
			rc = set_kind(o, RESET_EARLIEST, "--to-earliest");
			break;
		case OPT_LATEST:
			rc = set_kind(o, RESET_LATEST, "--to-latest");
			break;
		case OPT_OFFSET:
			rc = set_kind(o, RESET_TO_OFFSET, "--to-offset");
			if (rc == 0 && (!parse_i64(optarg, &o->value) || o->value < 0))
				return usage_error("--to-offset %s: expected an offset", optarg);
			break;
		case OPT_SHIFT:
			rc = set_kind(o, RESET_SHIFT_BY, "--shift-by");
			if (rc == 0 && !parse_i64(optarg, &o->value))
				return usage_error("--shift-by %s: expected a number", optarg);
			break;
		case OPT_DATETIME:
			rc = set_kind(o, RESET_DATETIME, "--to-datetime");
			o->datetime = optarg;
			break;
		case OPT_EXEC:
			o->execute = true;
			break;
		case 'h':
			groups_usage(stdout);
			return -1;
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	return rc;
}

static int client_open(const struct groups_opts *o, struct tape_client **cl)
{
	struct tape_client_config cfg;
	tape_client_config_init(&cfg);
	cfg.brokers = o->brokers ? o->brokers : cmd_default_brokers();
	cfg.allow_auto_create_topics = false;
	struct tape_error err;
	if (tape_client_new(&cfg, cl, &err) < 0)
		return error_line(CMD_EXIT_USAGE, "%s", err.message);
	return 0;
}

/* ---- list, delete -------------------------------------------------------------------------- */

static int groups_list(struct tape_client *cl)
{
	struct tape_group_list *l;
	struct tape_error err;
	if (tape_admin_list_groups(cl, TIMEOUT_MS, &l, &err) < 0)
		return failed(&err);
	for (int32_t i = 0; i < l->count; i++)
		printf("%s\n", l->groups[i].group_id);
	tape_group_list_free(l);
	return CMD_EXIT_OK;
}

static int groups_delete(struct tape_client *cl, const char *group)
{
	struct tape_error err;
	if (tape_admin_delete_group(cl, group, TIMEOUT_MS, &err) < 0)
		return failed(&err);
	fprintf(stderr, "deleted group \"%s\"\n", group);
	return CMD_EXIT_OK;
}

/* ---- describe ------------------------------------------------------------------------------ */

struct drow {
	const char *topic;
	int32_t partition;
	int64_t committed; /* -1: none */
	int64_t log_end;   /* -1: unknown */
	const struct tape_group_member *owner;
};

static int cmp_drow(const void *a, const void *b)
{
	const struct drow *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);
	return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

static struct drow *find_row(struct drow *rows, int32_t n, const char *topic, int32_t partition)
{
	for (int32_t i = 0; i < n; i++)
		if (rows[i].partition == partition && !strcmp(rows[i].topic, topic))
			return &rows[i];
	return NULL;
}

/* The log end of every row, one ListOffsets per topic. A topic that is gone keeps -1. */
static void fill_log_ends(struct tape_client *cl, struct drow *rows, int32_t n)
{
	struct tape_partition_offset *q = calloc((size_t)(n > 0 ? n : 1), sizeof(*q));
	if (!q)
		return;
	for (int32_t i = 0; i < n; i++) {
		if (i > 0 && !strcmp(rows[i].topic, rows[i - 1].topic))
			continue; /* rows are sorted: topic runs are contiguous */
		int32_t k = 0;
		for (int32_t j = i; j < n && !strcmp(rows[j].topic, rows[i].topic); j++)
			q[k++].partition = rows[j].partition;
		struct tape_error err;
		if (tape_admin_list_offsets(cl, rows[i].topic, TAPE_OFFSET_LATEST, q, k, TIMEOUT_MS,
		                            &err) < 0)
			continue;
		for (int32_t j = 0; j < k; j++)
			if (q[j].error_code == 0)
				rows[i + j].log_end = q[j].offset;
	}
	free(q);
}

static void fmt_i64(char *buf, size_t cap, int64_t v)
{
	if (v < 0)
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%" PRId64, v);
}

static int print_describe(const char *group, const struct tape_group_description *d,
                          struct drow *rows, int32_t n)
{
	int64_t total = 0;
	for (int32_t i = 0; i < n; i++)
		if (rows[i].committed >= 0 && rows[i].log_end >= 0)
			total += rows[i].log_end > rows[i].committed
			             ? rows[i].log_end - rows[i].committed
			             : 0;
	printf("group \"%s\": state %s, %d member%s, total lag %" PRId64 "\n\n", group, d->state,
	       d->members_count, d->members_count == 1 ? "" : "s", total);
	struct table t;
	const char *head[] = { "GROUP",          "TOPIC",          "PARTITION",
		               "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
		               "CONSUMER-ID",    "HOST",           "CLIENT-ID" };
	int rc = table_init(&t, 9, head);
	for (int32_t i = 0; rc == 0 && i < n; i++) {
		const struct drow *r = &rows[i];
		char part[16], cur[24], end[24], lag[24];
		snprintf(part, sizeof(part), "%d", r->partition);
		fmt_i64(cur, sizeof(cur), r->committed);
		fmt_i64(end, sizeof(end), r->log_end);
		fmt_i64(lag, sizeof(lag),
		        r->committed >= 0 && r->log_end >= 0
		            ? (r->log_end > r->committed ? r->log_end - r->committed : 0)
		            : -1);
		const struct tape_group_member *m = r->owner;
		const char *row[] = { group,
			              r->topic,
			              part,
			              cur,
			              end,
			              lag,
			              m ? m->member_id : NULL,
			              m ? m->client_host : NULL,
			              m ? m->client_id : NULL };
		rc = table_add(&t, row);
	}
	/* Members without partitions, as Kafka shows them. */
	for (int32_t i = 0; rc == 0 && i < d->members_count; i++) {
		const struct tape_group_member *m = &d->members[i];
		if (m->assignment_count)
			continue;
		const char *row[] = { group, NULL,         NULL,           NULL,        NULL,
			              NULL,  m->member_id, m->client_host, m->client_id };
		rc = table_add(&t, row);
	}
	if (rc == 0)
		table_print(&t, stdout);
	table_free(&t);
	return rc < 0 ? error_line(CMD_EXIT_USAGE, "out of memory") : CMD_EXIT_OK;
}

static int groups_describe(struct tape_client *cl, const char *group)
{
	struct tape_group_description *d;
	struct tape_group_offsets *o;
	struct tape_error err;
	if (tape_admin_describe_group(cl, group, TIMEOUT_MS, &d, &err) < 0)
		return failed(&err);
	if (tape_admin_fetch_offsets(cl, group, NULL, TIMEOUT_MS, &o, &err) < 0) {
		tape_group_description_free(d);
		return failed(&err);
	}
	int rc = CMD_EXIT_OK;
	int32_t cap = o->count;
	for (int32_t i = 0; i < d->members_count; i++)
		cap += d->members[i].assignment_count;
	struct drow *rows = calloc((size_t)(cap > 0 ? cap : 1), sizeof(*rows));
	int32_t n = 0;
	if (!rows) {
		rc = error_line(CMD_EXIT_USAGE, "out of memory");
		goto out;
	}
	if (!strcmp(d->state, "Dead") && o->count == 0) {
		rc = error_line(CMD_EXIT_USAGE, "group \"%s\" does not exist", group);
		goto out;
	}
	for (int32_t i = 0; i < o->count; i++)
		if (o->offsets[i].offset >= 0)
			rows[n++] = (struct drow){ o->offsets[i].topic, o->offsets[i].partition,
				                   o->offsets[i].offset, -1, NULL };
	for (int32_t i = 0; i < d->members_count; i++)
		for (int32_t k = 0; k < d->members[i].assignment_count; k++) {
			const struct tape_topic_partition *tp = &d->members[i].assignment[k];
			struct drow *r = find_row(rows, n, tp->topic, tp->partition);
			if (!r) {
				r = &rows[n++];
				*r = (struct drow){ tp->topic, tp->partition, -1, -1, NULL };
			}
			r->owner = &d->members[i];
		}
	qsort(rows, (size_t)n, sizeof(*rows), cmp_drow);
	fill_log_ends(cl, rows, n);
	rc = print_describe(group, d, rows, n);
out:
	free(rows);
	tape_group_offsets_free(o);
	tape_group_description_free(d);
	return rc;
}

/* ---- reset --------------------------------------------------------------------------------- */

/* --topic T or T:p,p,...: the topic name (in name) and the partitions listed (n 0: all). */
static int parse_topic(const char *spec, char *name, size_t cap, int32_t *parts, int32_t *n)
{
	const char *colon = strchr(spec, ':');
	size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
	if (len == 0 || len >= cap)
		return usage_error("--topic %s: expected TOPIC or TOPIC:P,P...", spec);
	memcpy(name, spec, len);
	name[len] = '\0';
	*n = 0;
	for (const char *p = colon; p && *p;) {
		char *end;
		errno = 0;
		long v = strtol(p + 1, &end, 10);
		if (errno || end == p + 1 || v < 0 || v > INT32_MAX || (*end && *end != ',') ||
		    *n == RESET_PARTITIONS_MAX)
			return usage_error("--topic %s: expected TOPIC or TOPIC:P,P...", spec);
		parts[(*n)++] = (int32_t)v;
		p = *end ? end : NULL;
	}
	return 0;
}

/* The group must be Empty (or unknown): Kafka's rule for --reset-offsets. */
static int check_inactive(struct tape_client *cl, const char *group)
{
	struct tape_group_description *d;
	struct tape_error err;
	if (tape_admin_describe_group(cl, group, TIMEOUT_MS, &d, &err) < 0)
		return failed(&err);
	int rc = CMD_EXIT_OK;
	if (d->members_count > 0 || (strcmp(d->state, "Empty") && strcmp(d->state, "Dead")))
		rc =
		    error_line(CMD_EXIT_PROBLEMS,
		               "group \"%s\" has active members (state %s, %d member%s): offsets "
		               "can only be reset while it is empty; stop its consumers first",
		               group, d->state, d->members_count, d->members_count == 1 ? "" : "s");
	tape_group_description_free(d);
	return rc;
}

/* The partitions to reset: those listed, checked against the topic, or all of them. */
static int reset_partitions(struct tape_client *cl, const char *topic, int32_t *parts, int32_t *n)
{
	struct tape_topic_list *l;
	struct tape_error err;
	if (tape_admin_list_topics(cl, topic, TIMEOUT_MS, &l, &err) < 0)
		return failed(&err);
	const struct tape_topic_info *ti = &l->topics[0];
	int rc = CMD_EXIT_OK;
	for (int32_t i = 0; i < *n && rc == CMD_EXIT_OK; i++)
		if (parts[i] >= ti->partitions_count)
			rc = error_line(CMD_EXIT_USAGE, "topic \"%s\" has no partition %d", topic,
			                parts[i]);
	if (*n == 0)
		for (int32_t i = 0; i < ti->partitions_count && i < RESET_PARTITIONS_MAX; i++)
			parts[(*n)++] = ti->partitions[i].partition;
	tape_topic_list_free(l);
	return rc;
}

/* ListOffsets at ts into out[i] for parts[0..n). */
static int offsets_at(struct tape_client *cl, const char *topic, int64_t ts, const int32_t *parts,
                      int32_t n, struct tape_partition_offset *q, int64_t *out)
{
	for (int32_t i = 0; i < n; i++)
		q[i].partition = parts[i];
	struct tape_error err;
	if (tape_admin_list_offsets(cl, topic, ts, q, n, TIMEOUT_MS, &err) < 0)
		return failed(&err);
	for (int32_t i = 0; i < n; i++) {
		if (q[i].error_code != 0)
			return error_line(CMD_EXIT_PROBLEMS,
			                  "cannot look up offsets of %s partition %d: error %d",
			                  topic, parts[i], q[i].error_code);
		out[i] = q[i].offset;
	}
	return CMD_EXIT_OK;
}

struct reset_work {
	int32_t parts[RESET_PARTITIONS_MAX];
	struct reset_partition in[RESET_PARTITIONS_MAX];
	int64_t start[RESET_PARTITIONS_MAX], end[RESET_PARTITIONS_MAX], at[RESET_PARTITIONS_MAX];
	struct tape_partition_offset q[RESET_PARTITIONS_MAX];
	struct tape_offset_commit plan[RESET_PARTITIONS_MAX];
};

static int reset_lookup(struct tape_client *cl, const struct groups_opts *o, const char *group,
                        const char *topic, struct reset_work *w, int32_t n)
{
	int rc = offsets_at(cl, topic, TAPE_OFFSET_EARLIEST, w->parts, n, w->q, w->start);
	if (rc == 0)
		rc = offsets_at(cl, topic, TAPE_OFFSET_LATEST, w->parts, n, w->q, w->end);
	if (rc == 0 && o->kind == RESET_DATETIME)
		rc = offsets_at(cl, topic, o->at_ms, w->parts, n, w->q, w->at);
	if (rc)
		return rc;
	struct tape_group_offsets *co;
	struct tape_error err;
	if (tape_admin_fetch_offsets(cl, group, topic, TIMEOUT_MS, &co, &err) < 0)
		return failed(&err);
	for (int32_t i = 0; i < n; i++) {
		w->in[i] = (struct reset_partition){ -1, w->start[i], w->end[i],
			                             o->kind == RESET_DATETIME ? w->at[i] : -1 };
		for (int32_t k = 0; k < co->count; k++)
			if (co->offsets[k].partition == w->parts[i])
				w->in[i].committed = co->offsets[k].offset;
	}
	tape_group_offsets_free(co);
	return CMD_EXIT_OK;
}

static int groups_reset(struct tape_client *cl, const struct groups_opts *o, const char *group)
{
	char topic[256];
	int32_t n = 0;
	struct reset_work *w = calloc(1, sizeof(*w));
	if (!w)
		return error_line(CMD_EXIT_USAGE, "out of memory");
	int rc = parse_topic(o->topic, topic, sizeof(topic), w->parts, &n);
	if (rc == 0)
		rc = check_inactive(cl, group);
	if (rc == 0)
		rc = reset_partitions(cl, topic, w->parts, &n);
	if (rc == 0)
		rc = reset_lookup(cl, o, group, topic, w, n);
	struct table t = { 0 };
	const char *head[] = { "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET" };
	if (rc == 0 && table_init(&t, 4, head) < 0)
		rc = error_line(CMD_EXIT_USAGE, "out of memory");
	for (int32_t i = 0; rc == 0 && i < n; i++) {
		int64_t to = reset_plan_offset(o->kind, o->value, &w->in[i]);
		if (to < 0) {
			rc = error_line(CMD_EXIT_PROBLEMS,
			                "cannot shift %s partition %d: the group has no committed "
			                "offset there",
			                topic, w->parts[i]);
			break;
		}
		w->plan[i] = (struct tape_offset_commit){ topic, w->parts[i], to };
		char part[16], off[24];
		snprintf(part, sizeof(part), "%d", w->parts[i]);
		snprintf(off, sizeof(off), "%" PRId64, to);
		const char *row[] = { group, topic, part, off };
		if (table_add(&t, row) < 0)
			rc = error_line(CMD_EXIT_USAGE, "out of memory");
	}
	if (rc == 0)
		table_print(&t, stdout);
	table_free(&t);
	if (rc == 0 && o->execute) {
		struct tape_error err;
		if (tape_admin_commit_offsets(cl, group, w->plan, n, TIMEOUT_MS, &err) < 0)
			rc = failed(&err);
		else
			fprintf(stderr,
			        "reset the offsets of group \"%s\" on %d partition%s of %s\n",
			        group, n, n == 1 ? "" : "s", topic);
	} else if (rc == 0) {
		fprintf(stderr,
		        "dry run: nothing changed (add --execute to commit these offsets)\n");
	}
	free(w);
	return rc;
}

static int groups_run(int argc, char **argv)
{
	struct groups_opts o;
	int rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc < 0 ? CMD_EXIT_OK : rc;
	if (optind >= argc)
		return usage_error("no subcommand given");
	const char *sub = argv[optind];
	int args = argc - optind - 1;
	const char *group = args > 0 ? argv[optind + 1] : NULL;
	bool list = !strcmp(sub, "list"), reset = !strcmp(sub, "reset");
	if (!list && !reset && strcmp(sub, "describe") && strcmp(sub, "delete"))
		return usage_error("unknown subcommand '%s'", sub);
	if (list ? args != 0 : args != 1)
		return list ? usage_error("list takes no arguments")
		            : usage_error("%s: give one group name", sub);
	if (!reset && (o.topic || o.have_kind || o.execute))
		return usage_error("--topic, --to-*, --shift-by and --execute are for reset");
	if (reset && !o.topic)
		return usage_error("reset: --topic is required");
	if (reset && !o.have_kind)
		return usage_error("reset: give one of --to-earliest, --to-latest, --to-offset, "
		                   "--to-datetime, --shift-by");
	char why[128];
	if (reset && o.kind == RESET_DATETIME &&
	    timespec_parse(o.datetime, clock_wall_ms(), &o.at_ms, why, sizeof(why)) < 0)
		return usage_error("--to-datetime %s: %s", o.datetime, why);
	struct tape_client *cl;
	rc = client_open(&o, &cl);
	if (rc)
		return rc;
	if (list)
		rc = groups_list(cl);
	else if (reset)
		rc = groups_reset(cl, &o, group);
	else if (!strcmp(sub, "describe"))
		rc = groups_describe(cl, group);
	else
		rc = groups_delete(cl, group);
	tape_client_free(cl);
	return rc;
}

const struct cmd cmd_groups = {
	.name = "groups",
	.synopsis = "list|describe|reset|delete ...",
	.summary = "list, describe, reset and delete consumer groups",
	.run = groups_run,
	.usage = groups_usage,
};
