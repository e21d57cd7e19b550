/*
 * server/config.h: the broker's configuration, under Kafka's key names.
 *
 * Sources, later ones winning: built-in defaults, the server.properties file, then
 * --override key=value arguments. Unknown keys and bad values are refused with a message that
 * names the key. Topics carry their own overrides under Kafka's topic-level names
 * (segment.bytes for log.segment.bytes, ...); a topic's effective value is its override or
 * else the broker's value, which is what DescribeConfigs reports with its source.
 */
#ifndef TAPE_SERVER_CONFIG_H
#define TAPE_SERVER_CONFIG_H

#include "log/partition.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum config_id {
	CFG_LISTENERS,
	CFG_ADVERTISED_LISTENERS,
	CFG_LOG_DIRS,
	CFG_NODE_ID,
	CFG_CLUSTER_ID,
	CFG_METADATA_STORE,
	CFG_NUM_PARTITIONS,
	CFG_DEFAULT_REPLICATION_FACTOR,
	CFG_MIN_INSYNC_REPLICAS,
	CFG_AUTO_CREATE_TOPICS,
	CFG_SEGMENT_BYTES,
	CFG_ROLL_MS,
	CFG_ROLL_HOURS,
	CFG_RETENTION_MS,
	CFG_RETENTION_MINUTES,
	CFG_RETENTION_HOURS,
	CFG_RETENTION_BYTES,
	CFG_RETENTION_CHECK_INTERVAL_MS,
	CFG_CLEANUP_POLICY,
	CFG_DELETE_RETENTION_MS,
	CFG_FLUSH_MODE,
	CFG_FLUSH_INTERVAL_MS,
	CFG_FLUSH_INTERVAL_MESSAGES,
	CFG_INDEX_INTERVAL_BYTES,
	CFG_TIMESTAMP_TYPE,
	CFG_MESSAGE_MAX_BYTES,
	CFG_SOCKET_REQUEST_MAX_BYTES,
	CFG_SOCKET_FETCH_SEND,
	CFG_MAX_CONNECTIONS,
	CFG_CONNECTIONS_MAX_IDLE_MS,
	CFG_PRODUCER_ID_EXPIRATION_MS,
	CFG_GROUP_INITIAL_REBALANCE_DELAY_MS,
	CFG_GROUP_MIN_SESSION_TIMEOUT_MS,
	CFG_GROUP_MAX_SESSION_TIMEOUT_MS,
	CFG_OFFSETS_TOPIC_PARTITIONS,
	CFG_OFFSETS_RETENTION_MINUTES,
	CFG_UNCLEAN_LEADER_ELECTION,
	CFG_COMPRESSION_TYPE,
	CFG_CLUSTER_NAME,
	CFG_BROKER_SESSION_TIMEOUT_MS,
	CFG_REPLICA_LAG_TIME_MAX_MS,
	CFG_REPLICA_FETCH_WAIT_MAX_MS,
	CFG_REPLICA_FETCH_MAX_BYTES,
	CFG_REPLICA_FETCH_BACKOFF_MS,
	CFG_OFFSETS_TOPIC_REPLICATION_FACTOR,
	CFG_COUNT
};

struct config {
	char *value[CFG_COUNT]; /* owned; NULL: unset (no default either) */
	bool set[CFG_COUNT];    /* given by the file or an override */
};

/* Where a topic's effective value comes from (DescribeConfigs config_source). */
enum config_source {
	CONFIG_SOURCE_TOPIC = 1,         /* DYNAMIC_TOPIC_CONFIG */
	CONFIG_SOURCE_STATIC_BROKER = 4, /* STATIC_BROKER_CONFIG: server.properties */
	CONFIG_SOURCE_DEFAULT = 5,       /* DEFAULT_CONFIG */
};

void config_init(struct config *c);
void config_free(struct config *c);
/* Sets key (a broker key) to value after checking it. 0, or -TAPE_ECONFIG with err filled. */
int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen);
/* Reads a Java-style properties file (key=value or key: value, # and ! comments). */
int config_load_file(struct config *c, const char *path, char *err, size_t errlen);
/* Checks relations between keys after loading (e.g. min <= max). */
int config_check(const struct config *c, char *err, size_t errlen);

const char *config_str(const struct config *c, enum config_id id);
int64_t config_int(const struct config *c, enum config_id id);
bool config_bool(const struct config *c, enum config_id id);
const char *config_name(enum config_id id);
/* The topic-level name of a key (segment.bytes for log.segment.bytes), or NULL. */
const char *config_topic_name(enum config_id id);
/* Effective values that Kafka derives from several keys. */
int64_t config_retention_ms(const struct config *c);
int64_t config_roll_ms(const struct config *c);

/* Writes every broker key with its documentation and default, as a server.properties. */
void config_print_sample(FILE *out);

/* ---- topics ------------------------------------------------------------------------------ */

#define TOPIC_CONFIG_MAX 16

struct topic_config {
	unsigned count;
	struct {
		enum config_id id;
		char *value; /* owned */
	} entries[TOPIC_CONFIG_MAX];
};

void topic_config_init(struct topic_config *tc);
void topic_config_free(struct topic_config *tc);
/* Sets a topic-level key (segment.bytes, cleanup.policy, ...). -TAPE_ECONFIG for an unknown
 * key or a bad value, with err filled. */
int topic_config_set(struct topic_config *tc, const char *key, const char *value, char *err,
                     size_t errlen);
/* A topic's effective integer value of a broker key that has a topic-level name
 * (min.insync.replicas): the topic's override, else the broker's. */
int64_t topic_config_int(const struct config *broker, const struct topic_config *tc,
                         enum config_id id);
/* The partition configuration a topic's partitions run with. */
void topic_config_resolve(const struct config *broker, const struct topic_config *tc,
                          struct partition_config *out);
/* Calls fn for every topic-level key with its effective value and source. value is valid only
 * during that call (derived values such as retention.ms are formatted into a local buffer). */
void topic_config_describe(const struct config *broker, const struct topic_config *tc,
                           void (*fn)(void *arg, const char *name, const char *value,
                                      enum config_source source),
                           void *arg);
/* Calls fn for every broker key (value NULL when unset), with its source. */
void config_describe(const struct config *c,
                     void (*fn)(void *arg, const char *name, const char *value,
                                enum config_source source),
                     void *arg);

#endif
