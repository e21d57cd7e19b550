/*
 * server/config.c: the key table (names, types, defaults, bounds, documentation and
 * topic-level names) and the properties reader. Knows nothing of the network.
 */
#include "server/config.h"

#include "base/errors.h"
#include "base/limits.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum config_type { T_STRING, T_INT, T_LONG, T_BOOL, T_ENUM, T_POLICY };

struct key {
	const char *name;
	enum config_type type;
	const char *dflt; /* NULL: unset */
	int64_t min, max;
	const char *choices; /* T_ENUM: values separated by '|' */
	const char *topic;   /* the topic-level name, or NULL */
	const char *doc;
};

#define L(x) ((int64_t)(x))
static const struct key keys[CFG_COUNT] = {
	[CFG_LISTENERS] = { "listeners", T_STRING, "PLAINTEXT://localhost:9092", 0, 0, NULL, NULL,
	                    "Where the broker listens, as PLAINTEXT://host:port. The host "
	                    "localhost "
	                    "listens on both 127.0.0.1 and ::1." },
	[CFG_ADVERTISED_LISTENERS] = { "advertised.listeners", T_STRING, NULL, 0, 0, NULL, NULL,
	                               "The address given to clients in Metadata; "
	                               "defaults to listeners." },
	[CFG_LOG_DIRS] = { "log.dirs", T_STRING, "/tmp/tape-logs", 0, 0, NULL, NULL,
	                   "The data directory: one directory per partition (one directory "
	                   "only)." },
	[CFG_NODE_ID] = { "node.id", T_INT, "0", 0, INT32_MAX, NULL, NULL,
	                  "This broker's id in Metadata and in the cluster." },
	[CFG_CLUSTER_ID] = { "cluster.id", T_STRING, NULL, 0, 0, NULL, NULL,
	                     "The cluster id; when unset one is generated once and kept in "
	                     "log.dirs." },
	[CFG_METADATA_STORE] = { "metadata.store", T_STRING, "local", 0, 0, NULL, NULL,
	                         "Where cluster metadata lives: local (a checkpointed file in "
	                         "log.dirs, single broker) or etcd://host:port[,host:port...]." },
	[CFG_NUM_PARTITIONS] = { "num.partitions", T_INT, "1", 1, 100000, NULL, NULL,
	                         "Partitions of an auto-created topic, or of a created one that "
	                         "asks for -1." },
	[CFG_DEFAULT_REPLICATION_FACTOR] = { "default.replication.factor", T_INT, "1", 1, 32767,
	                                     NULL, NULL, "Replicas of a topic that asks for -1." },
	[CFG_MIN_INSYNC_REPLICAS] = { "min.insync.replicas", T_INT, "1", 1, 32767, NULL,
	                              "min.insync.replicas",
	                              "In-sync replicas acks=all needs, else "
	                              "NOT_ENOUGH_REPLICAS." },
	[CFG_AUTO_CREATE_TOPICS] = { "auto.create.topics.enable", T_BOOL, "true", 0, 0, NULL, NULL,
	                             "Create a topic when a client's Metadata request asks for "
	                             "it." },
	[CFG_SEGMENT_BYTES] = { "log.segment.bytes", T_INT, "1073741824", L(SEGMENT_BYTES_MIN),
	                        L(SEGMENT_BYTES_MAX), NULL, "segment.bytes",
	                        "Roll to a new segment before one would grow past this." },
	[CFG_ROLL_MS] = { "log.roll.ms", T_LONG, NULL, 1, INT64_MAX, NULL, "segment.ms",
	                  "Roll a segment older than this; overrides log.roll.hours." },
	[CFG_ROLL_HOURS] = { "log.roll.hours", T_INT, "168", 1, INT32_MAX, NULL, NULL,
	                     "Roll a segment older than this many hours." },
	[CFG_RETENTION_MS] = { "log.retention.ms", T_LONG, NULL, -1, INT64_MAX, NULL,
	                       "retention.ms",
	                       "Delete segments whose newest record is older; -1 keeps forever. "
	                       "Overrides .minutes and .hours." },
	[CFG_RETENTION_MINUTES] = { "log.retention.minutes", T_INT, NULL, -1, INT32_MAX, NULL, NULL,
	                            "Retention in minutes; overrides log.retention.hours." },
	[CFG_RETENTION_HOURS] = { "log.retention.hours", T_INT, "168", -1, INT32_MAX, NULL, NULL,
	                          "Retention in hours." },
	[CFG_RETENTION_BYTES] = { "log.retention.bytes", T_LONG, "-1", -1, INT64_MAX, NULL,
	                          "retention.bytes",
	                          "Delete the oldest segments while a partition is bigger; -1 is "
	                          "no "
	                          "limit." },
	[CFG_RETENTION_CHECK_INTERVAL_MS] = { "log.retention.check.interval.ms", T_LONG, "300000",
	                                      1, INT64_MAX, NULL, NULL,
	                                      "How often retention and compaction run." },
	[CFG_CLEANUP_POLICY] = { "log.cleanup.policy", T_POLICY, "delete", 0, 0, NULL,
	                         "cleanup.policy",
	                         "delete (retention), compact (keep the latest record per key), or "
	                         "both as compact,delete." },
	[CFG_DELETE_RETENTION_MS] = { "log.cleaner.delete.retention.ms", T_LONG, "86400000", 0,
	                              INT64_MAX, NULL, "delete.retention.ms",
	                              "How long compaction keeps tombstones." },
	[CFG_FLUSH_MODE] = { "log.flush.mode", T_ENUM, "fsync", 0, 0, "fsync|interval|none",
	                     "flush.mode",
	                     "fsync: group commit, acks=all answered once on disk; interval: "
	                     "fdatasync every log.flush.interval.ms; none: the page cache." },
	[CFG_FLUSH_INTERVAL_MS] = { "log.flush.interval.ms", T_LONG, "1000", 1, INT64_MAX, NULL,
	                            "flush.ms", "The interval of log.flush.mode=interval." },
	[CFG_FLUSH_INTERVAL_MESSAGES] = { "log.flush.interval.messages", T_LONG,
	                                  "9223372036854775807", 1, INT64_MAX, NULL,
	                                  "flush.messages",
	                                  "With log.flush.mode=interval, also flush once this many "
	                                  "records are not on disk." },
	[CFG_INDEX_INTERVAL_BYTES] = { "log.index.interval.bytes", T_INT, "4096", 1, L(16 * MiB),
	                               NULL, "index.interval.bytes",
	                               "Bytes of log between offset index entries." },
	[CFG_TIMESTAMP_TYPE] = { "log.message.timestamp.type", T_ENUM, "CreateTime", 0, 0,
	                         "CreateTime|LogAppendTime", "message.timestamp.type",
	                         "CreateTime keeps the producer's timestamps; LogAppendTime stamps "
	                         "the broker's." },
	[CFG_MESSAGE_MAX_BYTES] = { "message.max.bytes", T_INT, "1048588", L(BATCH_HEADER_BYTES),
	                            L(BATCH_BYTES_MAX), NULL, "max.message.bytes",
	                            "The largest record batch accepted." },
	[CFG_SOCKET_REQUEST_MAX_BYTES] = { "socket.request.max.bytes", T_INT, "104857600", 1024,
	                                   L(1 * GiB), NULL, NULL,
	                                   "The largest request; a bigger frame closes the "
	                                   "connection before anything is allocated." },
	[CFG_SOCKET_FETCH_SEND] = { "socket.fetch.send", T_ENUM, "splice", 0, 0, "splice|read",
	                            NULL,
	                            "Fetch records: splice (page cache -> pipe -> socket, no copy) "
	                            "or read (into memory, then send)." },
	[CFG_MAX_CONNECTIONS] = { "max.connections", T_INT, "10000", 1, 1000000, NULL, NULL,
	                          "Connections accepted at once; more are closed at once." },
	[CFG_CONNECTIONS_MAX_IDLE_MS] = { "connections.max.idle.ms", T_LONG, "600000", 100,
	                                  INT64_MAX, NULL, NULL,
	                                  "Close a connection idle this long, or whose partial "
	                                  "request makes no progress this long." },
	[CFG_PRODUCER_ID_EXPIRATION_MS] = { "producer.id.expiration.ms", T_LONG, "86400000", 1,
	                                    INT64_MAX, NULL, NULL,
	                                    "Forget an idempotent producer's state after this long "
	                                    "without a batch." },
	[CFG_GROUP_INITIAL_REBALANCE_DELAY_MS] = { "group.initial.rebalance.delay.ms", T_INT,
	                                           "3000", 0, INT32_MAX, NULL, NULL,
	                                           "Wait this long for more members when a group "
	                                           "first forms." },
	[CFG_GROUP_MIN_SESSION_TIMEOUT_MS] = { "group.min.session.timeout.ms", T_INT, "6000", 1,
	                                       INT32_MAX, NULL, NULL,
	                                       "The shortest session timeout a member may ask." },
	[CFG_GROUP_MAX_SESSION_TIMEOUT_MS] = { "group.max.session.timeout.ms", T_INT, "1800000", 1,
	                                       INT32_MAX, NULL, NULL,
	                                       "The longest session timeout a member may ask." },
	[CFG_OFFSETS_TOPIC_PARTITIONS] = { "offsets.topic.num.partitions", T_INT, "50", 1, 1000,
	                                   NULL, NULL, "Partitions of __consumer_offsets." },
	[CFG_OFFSETS_RETENTION_MINUTES] = { "offsets.retention.minutes", T_INT, "10080", 1,
	                                    INT32_MAX, NULL, NULL,
	                                    "Committed offsets of an empty group expire after "
	                                    "this." },
	[CFG_UNCLEAN_LEADER_ELECTION] = { "unclean.leader.election.enable", T_ENUM, "false", 0, 0,
	                                  "false", "unclean.leader.election.enable",
	                                  "Leaders come from the in-sync replicas only; true is "
	                                  "refused." },
	[CFG_CLUSTER_NAME] = { "cluster.name", T_STRING, "tape", 0, 0, NULL, NULL,
	                       "With metadata.store=etcd: the cluster's key prefix in etcd "
	                       "(/<cluster.name>/...); brokers with the same name form one "
	                       "cluster." },
	[CFG_BROKER_SESSION_TIMEOUT_MS] = { "broker.session.timeout.ms", T_INT, "9000", 2000,
	                                    L(3600) * 1000, NULL, NULL,
	                                    "The broker's lease in etcd: a broker not heard "
	                                    "from this long is dead to the cluster, and one "
	                                    "that cannot renew its lease stops leading before "
	                                    "it could expire." },
	[CFG_REPLICA_LAG_TIME_MAX_MS] = { "replica.lag.time.max.ms", T_INT, "30000", 100, INT32_MAX,
	                                  NULL, NULL,
	                                  "A follower not caught up with its leader for this "
	                                  "long leaves the ISR." },
	[CFG_REPLICA_FETCH_WAIT_MAX_MS] = { "replica.fetch.wait.max.ms", T_INT, "500", 0, 30000,
	                                    NULL, NULL,
	                                    "How long a follower's Fetch waits at the leader "
	                                    "for records." },
	[CFG_REPLICA_FETCH_MAX_BYTES] = { "replica.fetch.max.bytes", T_INT, "1048576", 1024,
	                                  INT32_MAX, NULL, NULL,
	                                  "Bytes a follower asks per partition and Fetch (at "
	                                  "least one batch comes anyway)." },
	[CFG_REPLICA_FETCH_BACKOFF_MS] = { "replica.fetch.backoff.ms", T_INT, "1000", 0, 60000,
	                                   NULL, NULL,
	                                   "A follower waits this long after a failed Fetch." },
	[CFG_OFFSETS_TOPIC_REPLICATION_FACTOR] = { "offsets.topic.replication.factor", T_INT, "3",
	                                           1, 32767, NULL, NULL,
	                                           "Replicas of __consumer_offsets in a "
	                                           "cluster; it is created once this many "
	                                           "brokers are up." },
	[CFG_COMPRESSION_TYPE] = { "compression.type", T_ENUM, "producer", 0, 0, "producer",
	                           "compression.type",
	                           "Batches are stored as produced (producer); recompression is "
	                           "not offered." },
};

/* Kafka's alternative names for the same key. */
static const struct {
	const char *alias;
	enum config_id id;
} aliases[] = {
	{ "broker.id", CFG_NODE_ID },
	{ "log.dir", CFG_LOG_DIRS },
};

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...);
static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -TAPE_ECONFIG;
}

static bool parse_int(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return false;
	*out = v;
	return true;
}

static bool in_choices(const char *choices, const char *v)
{
	size_t n = strlen(v);
	for (const char *p = choices; *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && strncmp(p, v, n) == 0)
			return true;
		if (!bar)
			break;
		p = bar + 1;
	}
	return false;
}

/* Checks value against key k; name is what the user wrote (for the message). */
static int check_value(const struct key *k, const char *name, const char *v, char *err,
                       size_t errlen)
{
	int64_t n;
	switch (k->type) {
	case T_STRING:
		return 0;
	case T_INT:
	case T_LONG:
		if (!parse_int(v, &n))
			return fail(err, errlen, "%s: \"%s\" is not a number", name, v);
		if (n < k->min || n > k->max)
			return fail(err, errlen, "%s: %s is outside [%" PRId64 ", %" PRId64 "]",
			            name, v, k->min, k->max);
		return 0;
	case T_BOOL:
		if (strcmp(v, "true") && strcmp(v, "false"))
			return fail(err, errlen, "%s: \"%s\" is not true or false", name, v);
		return 0;
	case T_ENUM:
		if (!in_choices(k->choices, v))
			return fail(err, errlen, "%s: \"%s\" is not one of %s", name, v,
			            k->choices);
		return 0;
	case T_POLICY:
		if (strcmp(v, "delete") && strcmp(v, "compact") && strcmp(v, "compact,delete") &&
		    strcmp(v, "delete,compact"))
			return fail(err, errlen,
			            "%s: \"%s\" is not delete, compact or compact,delete", name, v);
		return 0;
	}
	return 0;
}

void config_init(struct config *c)
{
	for (int i = 0; i < CFG_COUNT; i++) {
		c->value[i] = keys[i].dflt ? strdup(keys[i].dflt) : NULL;
		c->set[i] = false;
	}
}

void config_free(struct config *c)
{
	for (int i = 0; i < CFG_COUNT; i++) {
		free(c->value[i]);
		c->value[i] = NULL;
	}
}

static int find_broker_key(const char *name)
{
	for (int i = 0; i < CFG_COUNT; i++)
		if (strcmp(keys[i].name, name) == 0)
			return i;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(aliases[i].alias, name) == 0)
			return (int)aliases[i].id;
	return -1;
}

int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen)
{
	int id = find_broker_key(key);
	if (id < 0)
		return fail(err, errlen, "%s: unknown configuration key", key);
	int rc = check_value(&keys[id], key, value, err, errlen);
	if (rc < 0)
		return rc;
	if (id == CFG_LOG_DIRS && strchr(value, ','))
		return fail(err, errlen, "%s: tape uses one data directory, not a list", key);
	char *copy = strdup(value);
	if (!copy)
		return fail(err, errlen, "%s: out of memory", key);
	free(c->value[id]);
	c->value[id] = copy;
	c->set[id] = true;
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

int config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	char line[4096];
	int lineno = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		char *s = trim(line);
		if (!*s || *s == '#' || *s == '!')
			continue;
		char *sep = strpbrk(s, "=:");
		if (!sep) {
			rc = fail(err, errlen, "%s:%d: \"%s\" is not key=value", path, lineno, s);
			break;
		}
		*sep = '\0';
		char *key = trim(s), *value = trim(sep + 1);
		char inner[512];
		rc = config_set(c, key, value, inner, sizeof(inner));
		if (rc < 0)
			fail(err, errlen, "%s:%d: %s", path, lineno, inner);
	}
	fclose(f);
	return rc;
}

int config_check(const struct config *c, char *err, size_t errlen)
{
	if (config_int(c, CFG_GROUP_MIN_SESSION_TIMEOUT_MS) >
	    config_int(c, CFG_GROUP_MAX_SESSION_TIMEOUT_MS))
		return fail(err, errlen,
		            "group.min.session.timeout.ms is above "
		            "group.max.session.timeout.ms");
	const char *store = config_str(c, CFG_METADATA_STORE);
	if (strcmp(store, "local") != 0 && strncmp(store, "etcd://", 7) != 0)
		return fail(err, errlen, "metadata.store: \"%s\" is not local or etcd://host:port",
		            store);
	if (config_int(c, CFG_MIN_INSYNC_REPLICAS) >
	        config_int(c, CFG_DEFAULT_REPLICATION_FACTOR) &&
	    c->set[CFG_MIN_INSYNC_REPLICAS])
		return fail(err, errlen, "min.insync.replicas is above default.replication.factor");
	return 0;
}

const char *config_str(const struct config *c, enum config_id id)
{
	return c->value[id];
}

int64_t config_int(const struct config *c, enum config_id id)
{
	int64_t v = 0;
	if (c->value[id])
		parse_int(c->value[id], &v);
	return v;
}

bool config_bool(const struct config *c, enum config_id id)
{
	return c->value[id] && strcmp(c->value[id], "true") == 0;
}

const char *config_name(enum config_id id)
{
	return keys[id].name;
}

const char *config_topic_name(enum config_id id)
{
	return keys[id].topic;
}

int64_t config_retention_ms(const struct config *c)
{
	if (c->value[CFG_RETENTION_MS])
		return config_int(c, CFG_RETENTION_MS);
	int64_t v;
	if (c->value[CFG_RETENTION_MINUTES]) {
		v = config_int(c, CFG_RETENTION_MINUTES);
		return v < 0 ? -1 : v * 60 * 1000;
	}
	v = config_int(c, CFG_RETENTION_HOURS);
	return v < 0 ? -1 : v * 3600 * 1000;
}

int64_t config_roll_ms(const struct config *c)
{
	if (c->value[CFG_ROLL_MS])
		return config_int(c, CFG_ROLL_MS);
	return config_int(c, CFG_ROLL_HOURS) * 3600 * 1000;
}

void config_print_sample(FILE *out)
{
	fprintf(out, "# taped configuration: every key with its default.\n"
	             "# Keys are Kafka's; topics override the ones marked \"topic:\" under that "
	             "name.\n"
	             "# Start with: taped server.properties [--override key=value]...\n");
	for (int i = 0; i < CFG_COUNT; i++) {
		const struct key *k = &keys[i];
		fprintf(out, "\n# %s\n", k->doc);
		if (k->topic)
			fprintf(out, "# topic: %s\n", k->topic);
		if (k->dflt)
			fprintf(out, "%s=%s\n", k->name, k->dflt);
		else
			fprintf(out, "#%s=\n", k->name);
	}
}

/* ---- topics ---------------------------------------------------------------------------- */

void topic_config_init(struct topic_config *tc)
{
	tc->count = 0;
}

void topic_config_free(struct topic_config *tc)
{
	for (unsigned i = 0; i < tc->count; i++)
		free(tc->entries[i].value);
	tc->count = 0;
}

static int find_topic_key(const char *name)
{
	for (int i = 0; i < CFG_COUNT; i++)
		if (keys[i].topic && strcmp(keys[i].topic, name) == 0)
			return i;
	return -1;
}

int topic_config_set(struct topic_config *tc, const char *key, const char *value, char *err,
                     size_t errlen)
{
	int id = find_topic_key(key);
	if (id < 0)
		return fail(err, errlen, "%s: unknown topic configuration key", key);
	if (!value)
		return fail(err, errlen, "%s: a value is required", key);
	int rc = check_value(&keys[id], key, value, err, errlen);
	if (rc < 0)
		return rc;
	unsigned i = 0;
	while (i < tc->count && tc->entries[i].id != (enum config_id)id)
		i++;
	if (i == TOPIC_CONFIG_MAX)
		return fail(err, errlen, "%s: too many topic configuration keys", key);
	char *copy = strdup(value);
	if (!copy)
		return fail(err, errlen, "%s: out of memory", key);
	if (i == tc->count) {
		tc->count++;
		tc->entries[i].id = (enum config_id)id;
	} else {
		free(tc->entries[i].value);
	}
	tc->entries[i].value = copy;
	return 0;
}

static const char *topic_value(const struct topic_config *tc, enum config_id id)
{
	for (unsigned i = 0; tc && i < tc->count; i++)
		if (tc->entries[i].id == id)
			return tc->entries[i].value;
	return NULL;
}

static int64_t effective_int(const struct topic_config *tc, enum config_id id, int64_t broker_value)
{
	const char *v = topic_value(tc, id);
	int64_t n;
	return v && parse_int(v, &n) ? n : broker_value;
}

static const char *effective_str(const struct config *b, const struct topic_config *tc,
                                 enum config_id id)
{
	const char *v = topic_value(tc, id);
	return v ? v : config_str(b, id);
}

int64_t topic_config_int(const struct config *broker, const struct topic_config *tc,
                         enum config_id id)
{
	return effective_int(tc, id, config_int(broker, id));
}

void topic_config_resolve(const struct config *b, const struct topic_config *tc,
                          struct partition_config *out)
{
	partition_config_default(out);
	out->segment_bytes =
	    (uint32_t)effective_int(tc, CFG_SEGMENT_BYTES, config_int(b, CFG_SEGMENT_BYTES));
	out->segment_ms = effective_int(tc, CFG_ROLL_MS, config_roll_ms(b));
	out->retention_ms = effective_int(tc, CFG_RETENTION_MS, config_retention_ms(b));
	out->retention_bytes =
	    effective_int(tc, CFG_RETENTION_BYTES, config_int(b, CFG_RETENTION_BYTES));
	const char *policy = effective_str(b, tc, CFG_CLEANUP_POLICY);
	out->cleanup_delete = strstr(policy, "delete") != NULL;
	out->cleanup_compact = strstr(policy, "compact") != NULL;
	out->delete_retention_ms =
	    effective_int(tc, CFG_DELETE_RETENTION_MS, config_int(b, CFG_DELETE_RETENTION_MS));
	const char *mode = effective_str(b, tc, CFG_FLUSH_MODE);
	out->flush_mode = strcmp(mode, "none") == 0       ? FLUSH_NONE
	                  : strcmp(mode, "interval") == 0 ? FLUSH_INTERVAL
	                                                  : FLUSH_FSYNC;
	out->flush_interval_ms =
	    effective_int(tc, CFG_FLUSH_INTERVAL_MS, config_int(b, CFG_FLUSH_INTERVAL_MS));
	out->flush_messages = effective_int(tc, CFG_FLUSH_INTERVAL_MESSAGES,
	                                    config_int(b, CFG_FLUSH_INTERVAL_MESSAGES));
	out->index_interval_bytes = (uint32_t)effective_int(
	    tc, CFG_INDEX_INTERVAL_BYTES, config_int(b, CFG_INDEX_INTERVAL_BYTES));
	out->log_append_time =
	    strcmp(effective_str(b, tc, CFG_TIMESTAMP_TYPE), "LogAppendTime") == 0;
	out->max_batch_bytes = (uint32_t)effective_int(tc, CFG_MESSAGE_MAX_BYTES,
	                                               config_int(b, CFG_MESSAGE_MAX_BYTES));
	out->producer_expiration_ms = config_int(b, CFG_PRODUCER_ID_EXPIRATION_MS);
}

static enum config_source broker_source(const struct config *b, enum config_id id)
{
	return b->set[id] ? CONFIG_SOURCE_STATIC_BROKER : CONFIG_SOURCE_DEFAULT;
}

void topic_config_describe(const struct config *b, const struct topic_config *tc,
                           void (*fn)(void *, const char *, const char *, enum config_source),
                           void *arg)
{
	char num[32];
	for (int i = 0; i < CFG_COUNT; i++) {
		if (!keys[i].topic)
			continue;
		const char *v = topic_value(tc, (enum config_id)i);
		if (v) {
			fn(arg, keys[i].topic, v, CONFIG_SOURCE_TOPIC);
			continue;
		}
		/* Derived broker values are shown as the topic sees them, set when any of the keys
		 * they derive from is (Kafka's synonyms). */
		enum config_source source = broker_source(b, (enum config_id)i);
		if (i == CFG_RETENTION_MS) {
			snprintf(num, sizeof(num), "%" PRId64, config_retention_ms(b));
			v = num;
			if (b->set[CFG_RETENTION_MINUTES] || b->set[CFG_RETENTION_HOURS])
				source = CONFIG_SOURCE_STATIC_BROKER;
		} else if (i == CFG_ROLL_MS) {
			snprintf(num, sizeof(num), "%" PRId64, config_roll_ms(b));
			v = num;
			if (b->set[CFG_ROLL_HOURS])
				source = CONFIG_SOURCE_STATIC_BROKER;
		} else {
			v = config_str(b, (enum config_id)i);
		}
		fn(arg, keys[i].topic, v, source);
	}
}

void config_describe(const struct config *c,
                     void (*fn)(void *, const char *, const char *, enum config_source), void *arg)
{
	for (int i = 0; i < CFG_COUNT; i++)
		fn(arg, keys[i].name, c->value[i], broker_source(c, (enum config_id)i));
}
