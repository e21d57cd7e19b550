/*
 * cli/cmd_topics.c: `tape topics list|create|describe|delete|alter`, through libtape's admin
 * calls.
 *
 * Owns: the command line of `tape topics` (options, TAPE_BROKERS), what each subcommand
 * prints and its exit status. Must not know: the protocol (client/tape.h is all it uses).
 * Data (lists, descriptions) goes to stdout, status lines and errors to stderr, one line each.
 */
#include "client/tape.h"
#include "cli/cmd.h"
#include "cli/table.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIGS_MAX 64
#define TIMEOUT_MS 30000
/* DescribeConfigs' source for a topic's own value (DYNAMIC_TOPIC_CONFIG), and the default. */
#define SOURCE_TOPIC 1
#define SOURCE_DEFAULT 5

struct topics_opts {
	const char *brokers;
	int32_t partitions;
	int16_t replication_factor;
	struct tape_config_kv configs[CONFIGS_MAX];
	int32_t configs_count;
	bool internal;
};

static void topics_usage(FILE *out)
{
	fputs("usage: tape topics list [--internal]\n"
	      "       tape topics create NAME [-p N] [-r RF] [-c KEY=VALUE]...\n"
	      "       tape topics describe NAME\n"
	      "       tape topics delete NAME\n"
	      "       tape topics alter NAME -c KEY=VALUE...\n"
	      "\n"
	      "list      the topics with their partition count and replication factor\n"
	      "create    a topic; -p and -r default to the broker's num.partitions and\n"
	      "          default.replication.factor; -c sets a topic config (repeatable)\n"
	      "describe  the topic's partitions (leader, replicas, in-sync replicas, leader\n"
	      "          epoch) and the configs that are not at their default\n"
	      "delete    the topic and its data\n"
	      "alter     sets topic configs, keeping the topic's other settings\n"
	      "\n"
	      "options:\n"
	      "  -b, --brokers LIST         host:port,... (default: $TAPE_BROKERS, else\n"
	      "                             localhost:9092)\n"
	      "  -p, --partitions N         create: the number of partitions\n"
	      "  -r, --replication-factor RF  create: copies of each partition\n"
	      "  -c, --config KEY=VALUE     create, alter: a topic config such as\n"
	      "                             cleanup.policy=compact or retention.ms=3600000\n"
	      "      --internal             list: include internal topics (__consumer_offsets)\n"
	      "  -h, --help                 this text\n"
	      "\n"
	      "exit status: 0 done, 1 the broker refused (the topic exists, a bad config, ...),\n"
	      "2 usage error, no usable broker, or no such topic\n",
	      out);
}

#define usage_error(...) cmd_usage_error(&cmd_topics, __VA_ARGS__)

/* An admin call's failure: one line, and the exit status its kind calls for. */
static int failed(const struct tape_error *err)
{
	fprintf(stderr, "tape topics: %s\n", err->message);
	if (err->code == -TAPE_EKAFKA && err->kafka_code != KAFKA_UNKNOWN_TOPIC_OR_PARTITION)
		return CMD_EXIT_PROBLEMS;
	return CMD_EXIT_USAGE;
}

static int add_config(struct topics_opts *o, char *kv)
{
	char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return usage_error("-c %s: expected KEY=VALUE", kv);
	if (o->configs_count == CONFIGS_MAX)
		return usage_error("more than %d configs", CONFIGS_MAX);
	*eq = '\0';
	o->configs[o->configs_count++] = (struct tape_config_kv){ kv, eq + 1 };
	return 0;
}

static int parse_opts(int argc, char **argv, struct topics_opts *o)
{
	static const struct option options[] = {
		{ "brokers", required_argument, NULL, 'b' },
		{ "partitions", required_argument, NULL, 'p' },
		{ "replication-factor", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "internal", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	*o = (struct topics_opts){ .partitions = -1, .replication_factor = -1 };
	int c;
	long long n;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":b:p:r:c:h", options, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->brokers = optarg;
			break;
		case 'p':
			if (!cmd_parse_int(optarg, 1, INT32_MAX, &n))
				return usage_error("-p %s: expected a positive number", optarg);
			o->partitions = (int32_t)n;
			break;
		case 'r':
			if (!cmd_parse_int(optarg, 1, INT16_MAX, &n))
				return usage_error("-r %s: expected a positive number", optarg);
			o->replication_factor = (int16_t)n;
			break;
		case 'c':
			if (add_config(o, optarg))
				return CMD_EXIT_USAGE;
			break;
		case 'i':
			o->internal = true;
			break;
		case 'h':
			topics_usage(stdout);
			return -1;
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	return 0;
}

static int client_open(const struct topics_opts *o, struct tape_client **cl)
{
	struct tape_client_config cfg;
	tape_client_config_init(&cfg);
	cfg.brokers = o->brokers ? o->brokers : cmd_default_brokers();
	cfg.allow_auto_create_topics = false;
	struct tape_error err;
	if (tape_client_new(&cfg, cl, &err) < 0) {
		fprintf(stderr, "tape topics: %s\n", err.message);
		return CMD_EXIT_USAGE;
	}
	return 0;
}

static int topics_list(struct tape_client *cl, const struct topics_opts *o)
{
	struct tape_topic_list *l;
	struct tape_error err;
	if (tape_admin_list_topics(cl, NULL, TIMEOUT_MS, &l, &err) < 0)
		return failed(&err);
	struct table t;
	const char *head[] = { "NAME", "PARTITIONS", "REPLICAS" };
	int rc = table_init(&t, 3, head);
	for (int32_t i = 0; rc == 0 && i < l->topics_count; i++) {
		const struct tape_topic_info *ti = &l->topics[i];
		if (ti->internal && !o->internal)
			continue;
		char parts[16], rf[16];
		snprintf(parts, sizeof(parts), "%d", ti->partitions_count);
		snprintf(rf, sizeof(rf), "%d",
		         ti->partitions_count ? ti->partitions[0].replicas_count : 0);
		const char *row[] = { ti->name, parts, rf };
		rc = table_add(&t, row);
	}
	if (rc == 0)
		table_print(&t, stdout);
	table_free(&t);
	tape_topic_list_free(l);
	if (rc < 0) {
		fprintf(stderr, "tape topics: out of memory\n");
		return CMD_EXIT_USAGE;
	}
	return CMD_EXIT_OK;
}

static int topics_create(struct tape_client *cl, const struct topics_opts *o, const char *name)
{
	struct tape_error err;
	if (tape_admin_create_topic(cl, name, o->partitions, o->replication_factor, o->configs,
	                            o->configs_count, false, TIMEOUT_MS, &err) < 0)
		return failed(&err);
	fprintf(stderr, "created topic \"%s\"\n", name);
	return CMD_EXIT_OK;
}

static void print_ids(char *out, size_t cap, const int32_t *ids, int32_t n)
{
	size_t len = 0;
	out[0] = '\0';
	for (int32_t i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%d", i ? "," : "", ids[i]);
}

/* kafka-topics --describe's layout: a topic line with its non-default configs, then one
 * line per partition. */
static int topics_describe(struct tape_client *cl, const char *name)
{
	struct tape_topic_list *l;
	struct tape_config_list *cfg;
	struct tape_error err;
	if (tape_admin_list_topics(cl, name, TIMEOUT_MS, &l, &err) < 0)
		return failed(&err);
	if (tape_admin_describe_configs(cl, TAPE_RESOURCE_TOPIC, name, TIMEOUT_MS, &cfg, &err) <
	    0) {
		tape_topic_list_free(l);
		return failed(&err);
	}
	const struct tape_topic_info *ti = &l->topics[0];
	printf("Topic: %s\tPartitionCount: %d\tReplicationFactor: %d\tConfigs: ", ti->name,
	       ti->partitions_count, ti->partitions_count ? ti->partitions[0].replicas_count : 0);
	int shown = 0;
	for (int32_t i = 0; i < cfg->count; i++) {
		const struct tape_config_entry *e = &cfg->entries[i];
		if (e->is_default || e->source == SOURCE_DEFAULT)
			continue;
		printf("%s%s=%s", shown++ ? "," : "", e->name,
		       e->is_sensitive ? "(sensitive)"
		       : e->value      ? e->value
		                       : "");
	}
	putchar('\n');
	for (int32_t i = 0; i < ti->partitions_count; i++) {
		const struct tape_partition_info *p = &ti->partitions[i];
		char replicas[256], isr[256];
		print_ids(replicas, sizeof(replicas), p->replicas, p->replicas_count);
		print_ids(isr, sizeof(isr), p->isr, p->isr_count);
		/* LeaderEpoch after kafka-topics' columns, so scripts that cut those keep
		 * working; cluster tests read it to see a failover happen. */
		printf("\tTopic: %s\tPartition: %d\tLeader: %d\tReplicas: %s\tIsr: %s\t"
		       "LeaderEpoch: %d\n",
		       ti->name, p->partition, p->leader, replicas, isr, p->leader_epoch);
	}
	tape_config_list_free(cfg);
	tape_topic_list_free(l);
	return CMD_EXIT_OK;
}

static int topics_delete(struct tape_client *cl, const char *name)
{
	struct tape_error err;
	if (tape_admin_delete_topic(cl, name, TIMEOUT_MS, &err) < 0)
		return failed(&err);
	fprintf(stderr, "deleted topic \"%s\"\n", name);
	return CMD_EXIT_OK;
}

/* AlterConfigs replaces every override: the topic's own values are read first and passed
 * along with the new ones, as kafka-configs --alter does against such a broker. */
static int topics_alter(struct tape_client *cl, const struct topics_opts *o, const char *name)
{
	if (o->configs_count == 0)
		return usage_error("alter: give at least one -c KEY=VALUE");
	struct tape_config_list *cfg;
	struct tape_error err;
	if (tape_admin_describe_configs(cl, TAPE_RESOURCE_TOPIC, name, TIMEOUT_MS, &cfg, &err) < 0)
		return failed(&err);
	struct tape_config_kv *all = calloc((size_t)(cfg->count + o->configs_count), sizeof(*all));
	if (!all) {
		tape_config_list_free(cfg);
		fprintf(stderr, "tape topics: out of memory\n");
		return CMD_EXIT_USAGE;
	}
	int32_t n = 0;
	for (int32_t i = 0; i < cfg->count; i++) {
		const struct tape_config_entry *e = &cfg->entries[i];
		bool replaced = false;
		for (int32_t k = 0; k < o->configs_count; k++)
			replaced |= !strcmp(o->configs[k].name, e->name);
		if (e->source == SOURCE_TOPIC && e->value && !replaced)
			all[n++] = (struct tape_config_kv){ e->name, e->value };
	}
	for (int32_t k = 0; k < o->configs_count; k++)
		all[n++] = o->configs[k];
	int rc = tape_admin_alter_configs(cl, TAPE_RESOURCE_TOPIC, name, all, n, false, TIMEOUT_MS,
	                                  &err);
	free(all);
	tape_config_list_free(cfg);
	if (rc < 0)
		return failed(&err);
	for (int32_t k = 0; k < o->configs_count; k++)
		fprintf(stderr, "altered topic \"%s\": %s=%s\n", name, o->configs[k].name,
		        o->configs[k].value);
	return CMD_EXIT_OK;
}

static int topics_run(int argc, char **argv)
{
	struct topics_opts o;
	int rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc < 0 ? CMD_EXIT_OK : rc;
	if (optind >= argc)
		return usage_error("no subcommand given");
	const char *sub = argv[optind];
	int args = argc - optind - 1;
	const char *name = args > 0 ? argv[optind + 1] : NULL;
	bool list = !strcmp(sub, "list");
	if (!list && strcmp(sub, "create") && strcmp(sub, "describe") && strcmp(sub, "delete") &&
	    strcmp(sub, "alter"))
		return usage_error("unknown subcommand '%s'", sub);
	if (list ? args != 0 : args != 1)
		return list ? usage_error("list takes no arguments")
		            : usage_error("%s: give one topic name", sub);
	if ((o.partitions != -1 || o.replication_factor != -1) && strcmp(sub, "create"))
		return usage_error("-p and -r are for create");
	if (o.configs_count && strcmp(sub, "create") && strcmp(sub, "alter"))
		return usage_error("-c is for create and alter");
	if (o.internal && !list)
		return usage_error("--internal is for list");
	struct tape_client *cl;
	rc = client_open(&o, &cl);
	if (rc)
		return rc;
	if (list)
		rc = topics_list(cl, &o);
	else if (!strcmp(sub, "create"))
		rc = topics_create(cl, &o, name);
	else if (!strcmp(sub, "describe"))
		rc = topics_describe(cl, name);
	else if (!strcmp(sub, "delete"))
		rc = topics_delete(cl, name);
	else
		rc = topics_alter(cl, &o, name);
	tape_client_free(cl);
	return rc;
}

const struct cmd cmd_topics = {
	.name = "topics",
	.synopsis = "list|create|describe|delete|alter ...",
	.summary = "list, create, describe, delete and alter topics",
	.run = topics_run,
	.usage = topics_usage,
};
