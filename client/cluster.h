/*
 * client/cluster.h: the cluster as one client sees it (struct tape_client of client/tape.h):
 * its brokers with one connection each, the metadata of the topics in use, and the poll loop
 * that drives every connection.
 *
 * Brokers. The bootstrap addresses are brokers with negative node ids (-1, -2, ...) until a
 * Metadata answer names a broker with the same host and port: that entry then takes the
 * broker's node id (so its connection is reused: one connection per broker). Brokers the
 * metadata names that no bootstrap address matches are added. A broker's connection is opened
 * on first use and reopened after a failure once its backoff (reconnect_backoff_ms doubling
 * to reconnect_backoff_max_ms) has passed.
 *
 * Metadata. A topic enters the cache when a caller asks for it and is then refreshed together
 * with every other cached topic: when a caller marks it stale (a leader moved, a connection
 * failed), when metadata_max_age_ms passed, and while its answer says the leader is not
 * available yet. One Metadata request is outstanding at a time, sent to any broker with a
 * ready connection (one is opened when none is), and a failed one is retried after
 * retry_backoff_ms doubling to retry_backoff_max_ms.
 *
 * Callers (the producer, later the consumer) drive I/O through cluster_poll; the response
 * functions they give to kconn run inside it and must not poll themselves.
 */
#ifndef TAPE_CLIENT_CLUSTER_H
#define TAPE_CLIENT_CLUSTER_H

#include "client/kconn.h"
#include "client/tape.h"

#include <stdbool.h>
#include <stdint.h>

struct cbroker {
	int32_t node_id; /* < 0: a bootstrap address no Metadata answer has named yet */
	struct kconn conn;
	uint32_t failed_wait;  /* the cluster's wait_id when its connection last failed */
	uint32_t noted_closes; /* conn.closes when the cluster last looked */
	bool dedicated;        /* a second connection for one owner (cluster_dedicated_broker) */
};

struct cpartition {
	int16_t error_code; /* the metadata's, for this partition */
	int32_t leader_id;  /* -1: no leader now */
	int32_t leader_epoch;
};

struct ctopic {
	char *name;              /* owned */
	int16_t error_code;      /* the metadata's, for the topic; 0 with partitions known */
	bool known;              /* a Metadata answer has named it */
	bool stale;              /* to be asked again */
	int32_t unknown_answers; /* UNKNOWN_TOPIC_OR_PARTITION answers in a row */
	int32_t partitions_count;
	struct cpartition *partitions; /* owned */
	int64_t updated_ms;
};

struct tape_client {
	struct tape_client_config cfg; /* strings point to the owned copies below */
	char *brokers_text;            /* owned */
	char *client_id;               /* owned */
	struct kconn_options conn_opt;

	struct cbroker **brokers; /* owned */
	int32_t brokers_count;
	int32_t next_broker;    /* round robin for picking a broker to connect to */
	struct ctopic **topics; /* owned */
	int32_t topics_count;

	bool metadata_in_flight;
	int64_t metadata_retry_at_ms;
	int32_t metadata_failures;     /* in a row */
	int32_t metadata_topics_count; /* topics_count when the request in flight was sent */
	int32_t controller_id;

	uint32_t wait_id;    /* bumped by each synchronous wait; see cluster_topic_wait */
	struct pollfd *pfds; /* owned: room for brokers_count */
	int32_t pfds_cap;
};

/* The broker with node_id, or NULL. */
struct cbroker *cluster_broker(struct tape_client *cl, int32_t node_id);
/* The connection to node_id when READY; otherwise starts connecting (if its backoff allows)
 * and returns NULL. */
struct kconn *cluster_conn(struct tape_client *cl, int32_t node_id, int64_t now_ms);
/* A READY connection to any broker, preferring brokers the metadata named; otherwise starts
 * connecting to the next broker whose backoff allows and returns NULL. */
struct kconn *cluster_any_conn(struct tape_client *cl, int64_t now_ms);

/* A connection of its own to a broker, as Kafka's clients keep one to a group's coordinator so
 * that a JoinGroup held for a whole rebalance does not stall fetches and metadata behind it:
 * found or added under id (the Java client's Integer.MAX_VALUE - node id), moved to host:port
 * when it was elsewhere. Never picked by cluster_any_conn. NULL when out of memory or at
 * CLIENT_BROKERS_MAX. */
struct cbroker *cluster_dedicated_broker(struct tape_client *cl, int32_t id, const char *host,
                                         int32_t port);

/* The cached topic, or NULL. */
struct ctopic *cluster_topic(struct tape_client *cl, const char *name);
/* Adds the topic to the cache (unknown yet) when missing and marks it stale. Returns it, or
 * NULL when out of memory or at CLIENT_TOPICS_MAX. */
struct ctopic *cluster_want_topic(struct tape_client *cl, const char *name);

/* Polls every connection once for up to timeout_ms (0: no waiting), after sending a Metadata
 * request when one is due; the timeout is cut short by the cluster's own deadlines. */
void cluster_poll(struct tape_client *cl, int64_t timeout_ms);
/* The earliest time cluster_poll has work of its own (a deadline, a retry), or INT64_MAX. */
int64_t cluster_next_wakeup(const struct tape_client *cl);

/* Waits (polling) until the topic's metadata is usable: known with its partitions, or a
 * definite answer that it cannot be (see tape_client_partitions for the errors). Gives up
 * early, with "cannot reach broker at ...", when every broker failed to connect since the
 * wait began and none is connecting. Returns 0 and *out, or the error. */
int cluster_topic_wait(struct tape_client *cl, const char *name, int64_t deadline_ms,
                       struct ctopic **out, struct tape_error *err);

/* Every broker failed to connect since the current wait began (cl->wait_id) and none is
 * trying: a synchronous call gives up with cluster_unreachable_error. */
bool cluster_unreachable(const struct tape_client *cl);
/* A broker named by a Metadata or FindCoordinator answer: adopts a bootstrap entry with the
 * same address, follows a broker that moved, or adds it (as a Metadata answer does). */
struct metadata_response_broker;
void cluster_adopt_broker(struct tape_client *cl, const struct metadata_response_broker *mb);

/* "cannot reach broker at h:p: reason" for the brokers' last connection errors. */
int cluster_unreachable_error(const struct tape_client *cl, struct tape_error *err);

/* The backoff before retry n (1, 2, ...) of something: base doubling up to max. */
int64_t cluster_backoff_ms(int32_t base_ms, int32_t max_ms, int32_t n);

#endif
