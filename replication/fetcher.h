/*
 * replication/fetcher.h: the replica fetcher, the follower side of replication (Kafka's
 * ReplicaFetcherThread, KIP-101/279), on the reactor: no threads, no blocking calls.
 *
 * One fetcher per broker; one TCP connection per leader broker, carrying one request at a
 * time (never two Fetches in flight on a connection) for every partition followed from that
 * leader. Each followed partition goes through:
 *
 *        fetcher_follow / reconnect / leader error
 *                 |
 *                 v
 *     +------> TRUNCATE --epoch_answered: leader does not know our epoch--> TRUNCATE (older)
 *     |           |      (OffsetForLeaderEpoch v3: our latest epoch E, current epoch fenced)
 *     |           | epoch_answered: (E', end) -> truncate to min(end, our end of E') if below
 *     |           v   our LEO (partition_truncate_to), or to our log start when no epoch of
 *     |         FETCH   ours is known to the leader                    (truncated)
 *     |           |      (Fetch v11 from our LEO, replica_id = our id)
 *     |           | fetched: NONE -> append whole batches (APPEND_REPLICA), HW = min(leader
 *     |           |   HW, LEO) (appended); OFFSET_OUT_OF_RANGE below the leader's log start
 *     |           |   -> partition_truncate_fully(leader log start); else -> TRUNCATE
 *     +-----------+ any other error -> error(), back off backoff_ms, TRUNCATE
 *
 * The truncation never uses the high watermark (DESIGN.md §7). Connection loss puts every
 * partition of that leader back to TRUNCATE and reconnects after backoff_ms.
 *
 * Callbacks (progress, error, done) run on the reactor thread, never inside fetcher_follow,
 * fetcher_unfollow or fetcher_destroy; they may call those functions.
 */
#ifndef TAPE_REPLICATION_FETCHER_H
#define TAPE_REPLICATION_FETCHER_H

#include "io/reactor.h"
#include "log/partition.h"

#include <stdbool.h>
#include <stdint.h>

struct replica_fetcher;
struct fetcher_leader;

struct fetcher_config {
	int32_t broker_id;           /* this broker: the replica_id of our requests */
	int32_t max_wait_ms;         /* replica.fetch.wait.max.ms */
	int32_t min_bytes;           /* replica.fetch.min.bytes */
	int32_t max_bytes;           /* replica.fetch.response.max.bytes */
	int32_t partition_max_bytes; /* replica.fetch.max.bytes */
	int32_t backoff_ms;          /* replica.fetch.backoff.ms, after an error */
	int32_t socket_timeout_ms;   /* replica.socket.timeout.ms: an answer later than
	                              * max_wait_ms + this closes the connection */
};

/* Kafka's defaults (500 ms, 1 byte, 10 MiB, 1 MiB, 1000 ms, 30 s) for broker_id. */
void fetcher_config_default(struct fetcher_config *cfg, int32_t broker_id);

enum fetcher_partition_state {
	FETCHER_IDLE,     /* not followed */
	FETCHER_TRUNCATE, /* asking OffsetForLeaderEpoch, then truncating */
	FETCHER_FETCH,    /* fetching from the LEO */
};

/* Embedded in the caller's per-partition state. */
struct fetcher_partition {
	/* set by the caller before fetcher_follow; topic is borrowed until done */
	const char *topic;
	int32_t partition;
	struct partition *part;
	/* appended, truncated or the HW moved */
	void (*progress)(struct fetcher_partition *fp);
	/* the leader refused (NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH,
	 * UNKNOWN_TOPIC_OR_PARTITION, ...) or the local log failed (KAFKA_STORAGE_ERROR): the
	 * fetcher retries after backoff_ms; the caller usually re-follows on new metadata. */
	void (*error)(struct fetcher_partition *fp, int16_t kafka_error);
	void *arg;

	/* private */
	struct fetcher_leader *leader; /* NULL: not followed */
	struct fetcher_partition *next;
	enum fetcher_partition_state state;
	int32_t leader_epoch;     /* followed */
	int32_t query_epoch;      /* TRUNCATE: the epoch of ours to ask about next */
	int64_t backoff_until_ms; /* not in a request before this (monotonic) */
	int32_t slot;             /* index in the request in flight, -1 if none */
	bool busy;                /* an append or truncation is in flight */
	int64_t leader_hw;        /* with an append in flight: the answer's HW */
	struct partition_append app;
	/* a follow or unfollow asked for while busy, applied when the operation ends */
	bool refollow, leaving;
	int32_t next_leader_id, next_port, next_epoch;
	char *next_host; /* owned */
	void (*unfollow_done)(struct fetcher_partition *fp);
	struct io_op done_op;
};

/* Returns 0, -EINVAL for a bad config, or -ENOMEM. */
int fetcher_create(struct reactor *r, const struct fetcher_config *cfg,
                   struct replica_fetcher **out);
/* Follows fp from leader_id at host:port in leader_epoch, replacing any earlier follow of fp:
 * first truncates by epoch, then fetches from the partition's LEO. The partition must not be
 * appended to or truncated by anyone else while followed. Returns 0, -EINVAL or -ENOMEM. */
int fetcher_follow(struct replica_fetcher *f, struct fetcher_partition *fp, int32_t leader_id,
                   const char *host, int port, int32_t leader_epoch);
/* Stops following fp; done(fp) runs on the reactor (never inside the call) once no append or
 * truncation of fp is in flight, after which fp and its partition are the caller's again. */
void fetcher_unfollow(struct replica_fetcher *f, struct fetcher_partition *fp,
                      void (*done)(struct fetcher_partition *fp));
/* Unfollows every partition (their unfollow done functions are not called), closes every
 * connection, and calls done(arg) on the reactor once nothing is in flight; f is freed then. */
void fetcher_destroy(struct replica_fetcher *f, void (*done)(void *arg), void *arg);

#endif
