/*
 * client/tape.h: libtape, the C client library of tape. It speaks the Kafka protocol, so it
 * works against taped and any Kafka-compatible broker.
 *
 * This slice has the core (connections, bootstrap, metadata), the producer and the consumer;
 * groups and admin calls build on the same client.
 *
 * Threads. The library starts none. A client, and every producer made from it, belongs to one
 * thread at a time. Network I/O happens only inside the calls that say they poll; none of
 * them blocks for longer than the time it is given (a host name lookup through getaddrinfo
 * is the one exception: it blocks as long as the resolver does).
 *
 * Errors. Calls return 0 (or a count) on success and a negative code on failure, and fill the
 * struct tape_error they are given (which may be NULL) with the code and one line of text
 * meant for a person: "cannot reach broker at localhost:9092: connection refused",
 * "topic \"x\" does not exist". The library never prints.
 *
 * Lifetimes. Everything the caller passes in (configuration strings, record bytes, header
 * arrays) is copied before the call returns, unless a field says "borrowed". Pointers handed
 * to a callback are valid only during the callback.
 */
#ifndef TAPE_CLIENT_TAPE_H
#define TAPE_CLIENT_TAPE_H

#include "base/errors.h"
#include "protocol/compression.h"
#include "protocol/errors.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- errors -------------------------------------------------------------------------------- */

struct tape_error {
	/* 0; -errno for system and connection failures (-ECONNREFUSED, -ETIMEDOUT, ...);
	 * or -TAPE_E* (base/errors.h): -TAPE_EKAFKA when the broker answered an error. */
	int code;
	/* With -TAPE_EKAFKA, the broker's error code (protocol/errors.h: KAFKA_*), else 0. */
	int16_t kafka_code;
	/* One line, no trailing newline, starting in lower case, complete on its own. */
	char message[256];
};

/* Empties err (code 0, message ""); NULL is allowed. */
void tape_error_clear(struct tape_error *err);

/* ---- the client: brokers and metadata ------------------------------------------------------ */

struct tape_client;

struct tape_client_config {
	const char *brokers;              /* "host:port,host:port", IPv6 as "[::1]:9092"; default
	                                     "localhost:9092" */
	const char *client_id;            /* sent in every request header; default "tape" */
	int32_t connect_timeout_ms;       /* one TCP connect and the ApiVersions answer: 10000 */
	int32_t request_timeout_ms;       /* a request's answer; past it the connection is closed
	                                     and its requests fail: 30000 */
	int32_t metadata_timeout_ms;      /* how long a call waits for a topic's metadata: 30000 */
	int32_t metadata_max_age_ms;      /* topics in use are refreshed this often: 300000 */
	int32_t retry_backoff_ms;         /* first wait before a retry: 100, doubling ... */
	int32_t retry_backoff_max_ms;     /* ... up to this: 1000 */
	int32_t reconnect_backoff_ms;     /* first wait before reconnecting to a broker: 50 */
	int32_t reconnect_backoff_max_ms; /* doubling up to this: 1000 */
	bool allow_auto_create_topics;    /* ask the broker to create unknown topics: true */
};

/* Fills cfg with the defaults above. */
void tape_client_config_init(struct tape_client_config *cfg);

/* A client for the brokers cfg names (NULL: the defaults). Does not connect yet: the first
 * call that needs a broker does. Returns 0 or -TAPE_ECONFIG (a malformed broker list, a value
 * out of range) or -ENOMEM. */
int tape_client_new(const struct tape_client_config *cfg, struct tape_client **out,
                    struct tape_error *err);

/* Closes every connection and frees the client. Producers made from it must be freed first. */
void tape_client_free(struct tape_client *cl);

/* The number of partitions of topic, from cached metadata or, when the topic is not known
 * yet, by asking a broker (polls, for up to metadata_timeout_ms). When auto-creation is
 * allowed and the broker does it, the topic is created. Returns the count (> 0) or:
 *   -TAPE_EKAFKA with KAFKA_UNKNOWN_TOPIC_OR_PARTITION  topic "x" does not exist
 *   -TAPE_EKAFKA with another code                       the broker refused the topic
 *   -errno / -TAPE_ERESOLVE                              cannot reach broker at h:p: ...
 *   -ETIMEDOUT                                           no usable answer in time */
int32_t tape_client_partitions(struct tape_client *cl, const char *topic, struct tape_error *err);

/* ---- the producer -------------------------------------------------------------------------- */

struct tape_producer;

#define TAPE_PARTITION_ANY (-1)
#define TAPE_TIMESTAMP_NOW (-1)

struct tape_header {
	const char *name;  /* UTF-8, NUL-terminated */
	const void *value; /* NULL: a null value */
	int32_t value_len;
};

struct tape_record {
	const char *topic;
	/* TAPE_PARTITION_ANY: chosen from the key as Java's producer does (murmur2 of the key
	 * bytes, & 0x7fffffff, mod the partition count), or without a key round robin, one
	 * batch at a time ("sticky"). */
	int32_t partition;
	const void *key; /* NULL: a null key */
	int32_t key_len;
	const void *value; /* NULL: a null value (a tombstone) */
	int32_t value_len;
	const struct tape_header *headers;
	int32_t headers_count;
	int64_t timestamp_ms; /* CreateTime in ms since the epoch; TAPE_TIMESTAMP_NOW: now */
	void *opaque;         /* handed back in the record's delivery report */
};

/* A record to fill in: any partition, timestamp now, no key, value or headers. */
#define TAPE_RECORD(topic_)                                     \
	((struct tape_record){ .topic = (topic_),               \
	                       .partition = TAPE_PARTITION_ANY, \
	                       .timestamp_ms = TAPE_TIMESTAMP_NOW })

/* The outcome of one record. */
struct tape_delivery {
	const char *topic;
	int32_t partition;
	int64_t offset;                 /* -1 when unknown: acks=0, or the record failed */
	int64_t timestamp_ms;           /* the record's, or the broker's with LogAppendTime */
	const struct tape_error *error; /* NULL: delivered */
	void *opaque;                   /* the record's */
	/* With an error: the record may be in the log all the same, so a history must count it
	 * indeterminate, not failed. An attempt got no answer (connection lost, request timed
	 * out, the producer freed while it was in flight) or the broker said it appended the
	 * batch without the acks asked for (REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS_AFTER_APPEND).
	 * False with an error: refused for certain by every attempt, or never sent. */
	bool maybe_written;
};

/* Called once per record, in the order the records of a partition were sent, from inside
 * tape_producer_send, _poll, _flush or _free. It may call tape_producer_send (which then does
 * not poll); it must not free the producer. */
typedef void (*tape_delivery_fn)(const struct tape_delivery *d, void *arg);

struct tape_producer_config {
	int16_t acks;          /* -1 all in-sync replicas (default), 1 the leader, 0 none */
	int compression;       /* COMPRESSION_ZSTD (default), _NONE, _GZIP, _SNAPPY, _LZ4; a batch
	                          that does not shrink is sent uncompressed, as librdkafka does */
	int compression_level; /* 0: the codec's default */
	/* Idempotence: InitProducerId, then a producer id, epoch and sequence on every batch,
	 * at most one batch in flight per partition, so retries neither duplicate nor reorder.
	 * Requires acks -1. */
	bool idempotent;
	int32_t batch_bytes;         /* batch.size: CLIENT_BATCH_BYTES_DEFAULT */
	int32_t linger_ms;           /* how long a batch waits to fill: 5 */
	int32_t request_bytes_max;   /* max.request.size: CLIENT_REQUEST_BYTES_DEFAULT */
	int32_t max_in_flight;       /* Produce requests pipelined per broker: 5 */
	int32_t produce_timeout_ms;  /* the broker's wait for acks=-1 (Produce timeout_ms): 30000 */
	int32_t delivery_timeout_ms; /* a record fails when not delivered this long after send:
	                                120000 */
	int32_t retries;             /* attempts after the first for a retriable error: INT32_MAX
	                                (the delivery timeout bounds them) */
	int64_t buffer_bytes; /* records held before send waits: CLIENT_BUFFER_BYTES_DEFAULT */
	int32_t max_block_ms; /* how long send waits for room: 60000 */
	tape_delivery_fn on_delivery; /* NULL: no reports */
	void *on_delivery_arg;
};

/* Fills cfg with the defaults above. */
void tape_producer_config_init(struct tape_producer_config *cfg);

/* A producer sending through cl (borrowed: it must outlive the producer). Returns 0,
 * -TAPE_ECONFIG or -ENOMEM. Connects lazily, like the client. */
int tape_producer_new(struct tape_client *cl, const struct tape_producer_config *cfg,
                      struct tape_producer **out, struct tape_error *err);

/* Queues a copy of rec for its partition's batch. Polls when the topic's metadata is not known
 * yet (see tape_client_partitions, whose errors it returns) and when the producer holds
 * buffer_bytes already (up to max_block_ms, then -ENOBUFS). Also fails with -TAPE_ETOOLARGE
 * for a record that cannot fit in a request, -TAPE_EKAFKA with UNKNOWN_TOPIC_OR_PARTITION for
 * a partition the topic does not have, and the producer's fatal error once it has one (an
 * idempotent producer fenced by another). The record's delivery report comes later. */
int tape_producer_send(struct tape_producer *p, const struct tape_record *rec,
                       struct tape_error *err);

/* Does the producer's I/O for up to timeout_ms (0: only what is ready now): sends batches
 * that are full, have lingered or are retried, reads answers, and reports deliveries.
 * Returns the number of delivery reports made. */
int tape_producer_poll(struct tape_producer *p, int32_t timeout_ms);

/* Sends everything queued without waiting for linger and polls until every record has been
 * reported (delivered or failed) or timeout_ms passed (-ETIMEDOUT). Returns 0 when all were
 * reported, whatever their outcome. */
int tape_producer_flush(struct tape_producer *p, int32_t timeout_ms, struct tape_error *err);

/* Records sent and not yet reported. */
int64_t tape_producer_outstanding(const struct tape_producer *p);

/* Records reported as failed so far. */
int64_t tape_producer_failed(const struct tape_producer *p);

/* Frees the producer: records not yet reported are reported failed with -TAPE_ECLOSED (call
 * tape_producer_flush first to deliver them). Answers still on their way are ignored. */
void tape_producer_free(struct tape_producer *p);

/* ---- the consumer -------------------------------------------------------------------------- */

/*
 * A consumer reads partitions assigned to it by hand (tape_consumer_assign) or, in group mode,
 * by its group. For every broker leading an assigned partition it keeps one Fetch request in
 * flight, covering all of that broker's partitions, and sends the next one as soon as an
 * answer's records are queued, while the records buffered stay under fetch_buffer_bytes; so
 * records are read ahead of tape_consumer_poll. Batches compressed with any codec (gzip,
 * snappy, lz4, zstd) are read; control batches (transaction markers) are skipped.
 *
 * Leader moves, connection failures and UNKNOWN_TOPIC_OR_PARTITION answers make the consumer
 * refresh the metadata and fetch again after retry_backoff_ms; they are not reported. A topic
 * that stops existing is reported once, by tape_consumer_poll ("topic \"x\" does not exist").
 *
 * The consumer does not create topics: give the client allow_auto_create_topics = false, as
 * librdkafka's consumers do, or asking for a missing topic's metadata may create it.
 */
struct tape_consumer;

enum tape_start_kind {
	TAPE_START_OFFSET,    /* value: the offset (>= 0) */
	TAPE_START_BEGINNING, /* the log start offset */
	TAPE_START_END,       /* the high watermark: only records produced from now on */
	TAPE_START_END_MINUS, /* value records before the end: max(log start, end - value) */
	TAPE_START_TIME,      /* the first record with a timestamp >= value (ms since the epoch),
	                         or the end when there is none */
};
struct tape_start {
	enum tape_start_kind kind;
	int64_t value;
};

/* auto.offset.reset: where a partition goes when its position is out of the log's range (or,
 * in group mode, when it has no committed offset). */
enum tape_reset { TAPE_RESET_EARLIEST, TAPE_RESET_LATEST, TAPE_RESET_ERROR };

struct tape_consumer_config {
	int32_t fetch_min_bytes;           /* fetch.min.bytes: 1 */
	int32_t fetch_max_wait_ms;         /* fetch.max.wait.ms: how long a broker holds a Fetch
	                                      without new records: 500 */
	int32_t fetch_max_bytes;           /* fetch.max.bytes: CLIENT_FETCH_BYTES_DEFAULT */
	int32_t partition_fetch_bytes;     /* max.partition.fetch.bytes:
	                                      CLIENT_PARTITION_FETCH_BYTES_DEFAULT */
	enum tape_reset auto_offset_reset; /* TAPE_RESET_LATEST (Kafka's default) */
	int8_t isolation_level;            /* 0 read_uncommitted (default), 1 read_committed */
	/* Fetch answers held (their bytes) before no new Fetch is sent:
	 * CLIENT_FETCH_BUFFER_BYTES_DEFAULT. */
	int64_t fetch_buffer_bytes;

	/* Group mode (client/group.c). NULL group_id: no group. */
	const char *group_id;
	const char *group_instance_id; /* static membership; NULL: none */
	const char *assignors;         /* "range,roundrobin" (default, like librdkafka), or
	                                  "cooperative-sticky" */
	int32_t session_timeout_ms, rebalance_timeout_ms, heartbeat_interval_ms;
	bool enable_auto_commit;
	int32_t auto_commit_interval_ms;
	int32_t metadata_pattern_refresh_ms; /* how often ^regex subscriptions look for new
	                                        topics */
};

/* Fills cfg with the defaults. */
void tape_consumer_config_init(struct tape_consumer_config *cfg);

/* A consumer reading through cl (borrowed: it must outlive the consumer). Returns 0,
 * -TAPE_ECONFIG or -ENOMEM. Connects lazily, like the client. */
int tape_consumer_new(struct tape_client *cl, const struct tape_consumer_config *cfg,
                      struct tape_consumer **out, struct tape_error *err);

/* One record, or one event. Every pointer is valid until the next call of tape_consumer_poll
 * (or a seek, unassign or free of its partition). */
struct tape_message {
	const char *topic;
	int32_t partition;
	int64_t offset;
	int64_t timestamp_ms;
	int8_t timestamp_type; /* 0 CreateTime, 1 LogAppendTime */
	const void *key;       /* NULL and key_len -1: a null key */
	int32_t key_len;
	const void *value; /* NULL and value_len -1: a null value */
	int32_t value_len;
	const struct tape_header *headers;
	int32_t headers_count;
	int32_t leader_epoch; /* the batch's partitionLeaderEpoch */
};

#define TAPE_POLL_RECORD 1 /* *out is a record */
/* A partition reached its high watermark: out->topic, partition and offset (= the HW) are set.
 * Once per arrival at the end: again only after records were read past it. */
#define TAPE_POLL_EOF 2

/* Returns the next record or event, polling the network for up to timeout_ms (0: only what
 * is ready now). Returns TAPE_POLL_RECORD or TAPE_POLL_EOF with *out filled, 0 when nothing
 * came in time, or < 0 with err filled:
 *   -TAPE_EKAFKA with OFFSET_OUT_OF_RANGE      auto_offset_reset is TAPE_RESET_ERROR; the
 *                                              partition waits for a seek
 *   -TAPE_EKAFKA with UNKNOWN_TOPIC_OR_PARTITION   topic "x" does not exist (any more)
 *   -TAPE_EBADBATCH, -TAPE_ECORRUPT, -TAPE_ECODEC  a batch that cannot be read was skipped;
 *                                              reading goes on after it
 *   -TAPE_EKAFKA with another code             the broker refused the partition for good
 * Errors about one partition say which. */
int tape_consumer_poll(struct tape_consumer *c, int32_t timeout_ms, struct tape_message *out,
                       struct tape_error *err);

/* Assigns (topic, partition) to the consumer, reading from start (manual assignment, no
 * group). Waits (polling) for the topic's metadata, so it fails at once for a topic that does
 * not exist ("topic \"x\" does not exist", as tape_client_partitions) or a partition it does
 * not have (-TAPE_EKAFKA with UNKNOWN_TOPIC_OR_PARTITION); -EEXIST when already assigned;
 * -EINVAL for a bad start. */
int tape_consumer_assign(struct tape_consumer *c, const char *topic, int32_t partition,
                         struct tape_start start, struct tape_error *err);
/* Stops reading (topic, partition) and drops what was fetched for it. Returns 0 or -ENOENT. */
int tape_consumer_unassign(struct tape_consumer *c, const char *topic, int32_t partition);
/* Moves an assigned partition to start; records fetched for it are dropped. Returns 0,
 * -ENOENT or -EINVAL. */
int tape_consumer_seek(struct tape_consumer *c, const char *topic, int32_t partition,
                       struct tape_start start, struct tape_error *err);
/* The next offset poll will return for the partition; -1 while it is not known yet (a start
 * being looked up) or the partition is not assigned. */
int64_t tape_consumer_position(const struct tape_consumer *c, const char *topic, int32_t partition);
/* The log start offset and high watermark from the partition's last Fetch answer. Returns 0,
 * -ENOENT (not assigned) or -EAGAIN (no answer yet). */
int tape_consumer_watermarks(const struct tape_consumer *c, const char *topic, int32_t partition,
                             int64_t *log_start, int64_t *high_watermark);
/* Frees the consumer (without committing: see tape_consumer_close in group mode). Answers
 * still on their way are ignored. */
void tape_consumer_free(struct tape_consumer *c);

/* ---- admin: topics, configs, offsets, groups (client/admin.c) ------------------------------ */

/* Every admin call is synchronous: it polls the client until the answer is in or timeout_ms
 * passed (-ETIMEDOUT), and gives up early with "cannot reach broker at ..." when no broker
 * can be reached. Requests go where Kafka wants them: topic creation and deletion to the
 * controller (Metadata's controller id), group calls to the group's coordinator
 * (FindCoordinator, retried while it is loading or moving), ListOffsets to each partition's
 * leader. Results are allocated by the library, each with its free function (NULL allowed);
 * their strings and arrays live until that free. */

#define TAPE_RESOURCE_TOPIC 2
#define TAPE_RESOURCE_BROKER 4
#define TAPE_OFFSET_LATEST (-1)   /* ListOffsets: the high watermark (log end for consumers) */
#define TAPE_OFFSET_EARLIEST (-2) /* ListOffsets: the log start offset */

struct tape_config_kv {
	const char *name;
	const char *value; /* NULL: a null value (AlterConfigs: back to the default) */
};

/* Creates a topic. partitions and replication_factor -1: the broker's defaults. configs are
 * topic-level keys (cleanup.policy, retention.ms, ...). Returns 0 once the controller created
 * it, or -TAPE_EKAFKA with the broker's code (TOPIC_ALREADY_EXISTS, INVALID_CONFIG, ...) and
 * its message. validate_only: the broker checks everything and creates nothing. */
int tape_admin_create_topic(struct tape_client *cl, const char *name, int32_t partitions,
                            int16_t replication_factor, const struct tape_config_kv *configs,
                            int32_t configs_count, bool validate_only, int32_t timeout_ms,
                            struct tape_error *err);

/* Deletes a topic: 0, or -TAPE_EKAFKA with UNKNOWN_TOPIC_OR_PARTITION ("topic \"x\" does not
 * exist") or another code. */
int tape_admin_delete_topic(struct tape_client *cl, const char *name, int32_t timeout_ms,
                            struct tape_error *err);

struct tape_partition_info {
	int32_t partition;
	int16_t error_code; /* the broker's, e.g. LEADER_NOT_AVAILABLE; 0 */
	int32_t leader;     /* node id; -1 none */
	int32_t replicas_count;
	int32_t *replicas;
	int32_t isr_count;
	int32_t *isr;
	int32_t leader_epoch; /* Metadata v7+; -1 when the broker does not say */
};

struct tape_topic_info {
	char *name;
	int16_t error_code; /* 0, or why the broker cannot describe it */
	bool internal;      /* __consumer_offsets and the like */
	int32_t partitions_count;
	struct tape_partition_info *partitions; /* sorted by partition */
};

struct tape_topic_list {
	int32_t controller_id;
	int32_t topics_count;
	struct tape_topic_info *topics; /* sorted by name */
	void *mem;                      /* private */
};

/* Every topic (topic NULL) or one, with partitions, leaders, replicas and ISR, from a
 * Metadata request that creates nothing. Asking for one topic that does not exist fails with
 * -TAPE_EKAFKA, UNKNOWN_TOPIC_OR_PARTITION, "topic \"x\" does not exist". */
int tape_admin_list_topics(struct tape_client *cl, const char *topic, int32_t timeout_ms,
                           struct tape_topic_list **out, struct tape_error *err);
void tape_topic_list_free(struct tape_topic_list *l);

struct tape_config_entry {
	char *name;
	char *value;     /* NULL: null (a sensitive value, or none) */
	int8_t source;   /* as the broker reports it (DescribeConfigs v1+): 1 topic, 4 static
	                    broker, 5 default, ...; -1 unknown (v0) */
	bool is_default; /* source == 5, or v0's is_default */
	bool read_only;
	bool is_sensitive;
};

struct tape_config_list {
	int32_t count;
	struct tape_config_entry *entries; /* in the broker's order */
	void *mem;                         /* private */
};

/* The configs of a topic (TAPE_RESOURCE_TOPIC, name) or a broker (TAPE_RESOURCE_BROKER, its
 * node id as text; asked of that broker). Errors: -TAPE_EKAFKA with the resource's code
 * (UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist). */
int tape_admin_describe_configs(struct tape_client *cl, int8_t resource_type, const char *name,
                                int32_t timeout_ms, struct tape_config_list **out,
                                struct tape_error *err);
void tape_config_list_free(struct tape_config_list *l);

/* AlterConfigs: the configs given replace every dynamic config of the resource (Kafka's
 * legacy rule: a key not listed returns to its default; callers that want to change one key
 * describe first and pass the others along, as tape topics alter does). */
int tape_admin_alter_configs(struct tape_client *cl, int8_t resource_type, const char *name,
                             const struct tape_config_kv *configs, int32_t configs_count,
                             bool validate_only, int32_t timeout_ms, struct tape_error *err);

struct tape_partition_offset {
	int32_t partition;  /* in */
	int16_t error_code; /* out: the broker's for this partition; 0 */
	int64_t offset;     /* out: -1 when none (no record at or after the time) */
	int64_t timestamp;  /* out: the record's, for a time lookup; -1 otherwise */
};

/* ListOffsets for parts[0..count) of topic, each asked of its leader: timestamp
 * TAPE_OFFSET_LATEST, TAPE_OFFSET_EARLIEST, or ms since the epoch (the first offset whose
 * timestamp is at or after it). Fills each entry's out fields; returns 0 when every
 * partition was answered (check error_code), or the error that stopped the call. */
int tape_admin_list_offsets(struct tape_client *cl, const char *topic, int64_t timestamp,
                            struct tape_partition_offset *parts, int32_t count, int32_t timeout_ms,
                            struct tape_error *err);

struct tape_group_listing {
	char *group_id;
	char *protocol_type; /* "consumer", or "" */
};

struct tape_group_list {
	int32_t count;
	struct tape_group_listing *groups; /* sorted by id */
	void *mem;                         /* private */
};

/* Every group of every broker (ListGroups to each broker the metadata names). */
int tape_admin_list_groups(struct tape_client *cl, int32_t timeout_ms, struct tape_group_list **out,
                           struct tape_error *err);
void tape_group_list_free(struct tape_group_list *l);

struct tape_topic_partition {
	char *topic;
	int32_t partition;
};

struct tape_group_member {
	char *member_id;
	char *group_instance_id; /* NULL: none */
	char *client_id;
	char *client_host;
	/* Decoded from the member's assignment when the group's protocol type is "consumer"
	 * (ConsumerProtocolAssignment); empty while the group is not Stable. */
	int32_t assignment_count;
	struct tape_topic_partition *assignment;
};

struct tape_group_description {
	char *group_id;
	int16_t error_code; /* 0; the coordinator's error for this group */
	char *state;        /* "Stable", "Empty", "PreparingRebalance", "Dead", ... */
	char *protocol_type;
	char *protocol; /* the assignor: "range", ... ("" unless Stable) */
	int32_t members_count;
	struct tape_group_member *members;
	void *mem; /* private */
};

/* DescribeGroups of one group at its coordinator. A group the coordinator does not know is
 * described as state "Dead" without members, as Kafka does (not an error). */
int tape_admin_describe_group(struct tape_client *cl, const char *group, int32_t timeout_ms,
                              struct tape_group_description **out, struct tape_error *err);
void tape_group_description_free(struct tape_group_description *d);

struct tape_committed_offset {
	char *topic;
	int32_t partition;
	int64_t offset;     /* the next record to read; -1 none */
	char *metadata;     /* NULL: null */
	int16_t error_code; /* 0 */
};

struct tape_group_offsets {
	int32_t count;
	struct tape_committed_offset *offsets; /* sorted by topic, partition */
	void *mem;                             /* private */
};

/* OffsetFetch: the group's committed offsets, of every topic (topic NULL) or of one. */
int tape_admin_fetch_offsets(struct tape_client *cl, const char *group, const char *topic,
                             int32_t timeout_ms, struct tape_group_offsets **out,
                             struct tape_error *err);
void tape_group_offsets_free(struct tape_group_offsets *o);

struct tape_offset_commit {
	const char *topic;
	int32_t partition;
	int64_t offset;
};

/* OffsetCommit outside any generation (generation -1, empty member id), the way
 * kafka-consumer-groups --reset-offsets commits: the coordinator accepts it only for a group
 * that is Empty or unknown; a group with members answers -TAPE_EKAFKA with
 * UNKNOWN_MEMBER_ID (or ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS) and the message says the
 * group has active members. Every partition must be accepted for 0. */
int tape_admin_commit_offsets(struct tape_client *cl, const char *group,
                              const struct tape_offset_commit *offsets, int32_t count,
                              int32_t timeout_ms, struct tape_error *err);

/* DeleteGroups of one group: 0, or -TAPE_EKAFKA with GROUP_ID_NOT_FOUND ("group \"g\" does not
 * exist"), NON_EMPTY_GROUP ("group \"g\" has active members"), ... */
int tape_admin_delete_group(struct tape_client *cl, const char *group, int32_t timeout_ms,
                            struct tape_error *err);

/* ---- the consumer in a group --------------------------------------------------------------- */

/*
 * Group mode. A consumer whose configuration names a group_id joins that group when it
 * subscribes, and the group's leader (any member, libtape or another client) assigns it
 * partitions with one of the assignors every member offers (assignors, in order of
 * preference). The membership is kept from inside tape_consumer_poll (heartbeats every
 * heartbeat_interval_ms; poll at least that often, and at least once per rebalance_timeout_ms
 * or the group goes on without the member).
 *
 * Newly assigned partitions start at the group's committed offset, or where
 * auto_offset_reset says when nothing was committed. With enable_auto_commit the positions
 * (the offset after the last record tape_consumer_poll returned, per partition) are committed
 * every auto_commit_interval_ms, before partitions are revoked, and by tape_consumer_close.
 *
 * Rebalances follow the assignors' protocol: eager (range, roundrobin) members give up every
 * partition before rejoining; cooperative-sticky members keep theirs and give up only the
 * ones the new assignment moves elsewhere (then rejoin once more so those can move).
 */

/* A partition in a rebalance report. */
struct tape_partition {
	const char *topic;
	int32_t partition;
	int64_t offset; /* ASSIGNED: the committed offset (-1: none, auto_offset_reset applies) */
};

enum tape_rebalance_kind {
	TAPE_REBALANCE_JOINED,   /* a generation of the group began: member_id, generation_id,
	                            leader and protocol are set */
	TAPE_REBALANCE_ASSIGNED, /* a rebalance ended: the partitions it added (maybe none) */
	TAPE_REBALANCE_REVOKED,  /* partitions taken away (their positions committed first) */
	TAPE_REBALANCE_LOST,     /* partitions lost with the membership (nothing committed) */
};

struct tape_rebalance {
	enum tape_rebalance_kind kind;
	const char *member_id;                   /* JOINED */
	int32_t generation_id;                   /* JOINED */
	bool leader;                             /* JOINED: this member computed the assignment */
	const char *protocol;                    /* JOINED: the assignor the group uses */
	const struct tape_partition *partitions; /* ASSIGNED, REVOKED, LOST */
	int32_t partitions_count;
};

/* Called from inside tape_consumer_poll, _commit and _close; every pointer is valid only during
 * the call. It must not poll, commit or close the consumer. */
typedef void (*tape_rebalance_fn)(const struct tape_rebalance *rb, void *arg);

/* Reports rebalances to fn (NULL: none). Set it before subscribing. */
void tape_consumer_on_rebalance(struct tape_consumer *c, tape_rebalance_fn fn, void *arg);

/* Subscribes to topics: names, or "^regex" patterns (POSIX extended regular expressions, the
 * ^ included, as kcat takes them) matched against every topic of the cluster but internal ones
 * (__consumer_offsets), now and every metadata_pattern_refresh_ms, so topics created later
 * join the subscription. The group is joined by the polls that follow. Calling it again
 * replaces the subscription. Returns 0 or -TAPE_ECONFIG (no group_id, a bad pattern or
 * assignor, partitions assigned by hand), -TAPE_ETOOLARGE, -ENOMEM. */
int tape_consumer_subscribe(struct tape_consumer *c, const char *const *topics, int32_t count,
                            struct tape_error *err);

/* Commits the position of every assigned partition that moved since its last commit. wait:
 * polls until the coordinator answered (at most request_timeout_ms); otherwise returns once
 * sent. Errors: -TAPE_EKAFKA with REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION or
 * UNKNOWN_MEMBER_ID (the group is rebalancing or the member was dropped: it rejoins, the
 * commit is not retried), with COORDINATOR_NOT_AVAILABLE (no coordinator connection now),
 * -ETIMEDOUT, -TAPE_ECONFIG outside group mode. */
int tape_consumer_commit(struct tape_consumer *c, bool wait, struct tape_error *err);

/* Commits next_offset (the next record to read) for one partition; errors as above. */
int tape_consumer_commit_offset(struct tape_consumer *c, const char *topic, int32_t partition,
                                int64_t next_offset, bool wait, struct tape_error *err);

/* Group mode: a final commit of the positions (with enable_auto_commit), every partition
 * revoked, LeaveGroup (not for static members, whose partitions wait for them for a session),
 * polling at most request_timeout_ms. Then, in any mode, frees the consumer. Returns 0 or the
 * final commit's error. */
int tape_consumer_close(struct tape_consumer *c, struct tape_error *err);

#endif
