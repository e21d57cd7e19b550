/*
 * client/consumer.h: struct tape_consumer (client/tape.h) inside libtape: its partitions and
 * the hooks group mode (client/group.c) uses to change the assignment and read positions.
 *
 * A partition's states and the function for each arrow:
 *
 *     LOOKUP --send_lookups/on_list_offsets--> FETCH --an error for good--> PAUSED
 *       ^                                        |                            |
 *       +-- OFFSET_OUT_OF_RANGE (reset policy) --+                            |
 *       +------------------------- tape_consumer_seek ------------------------+
 *
 * LOOKUP: the start (beginning, end, end minus N, a time) is resolved with ListOffsets.
 * FETCH: position is known; Fetch requests carry fetch_offset, the offset after the last
 * whole batch fetched so far (ahead of position by what is queued). PAUSED: an error was
 * reported (offset out of range with TAPE_RESET_ERROR, the topic gone); nothing is fetched
 * until a seek.
 *
 * Fetched records stay in the answer they came in (struct cresp, reference counted by the
 * partitions that have a chunk in it) until every record of the chunk was returned: records
 * are decoded in place, one at a time, inside tape_consumer_poll.
 *
 * gen counts the seeks of a partition; answers to requests sent under an older gen are
 * dropped.
 */
#ifndef TAPE_CLIENT_CONSUMER_H
#define TAPE_CLIENT_CONSUMER_H

#include "base/arena.h"
#include "client/cluster.h"
#include "client/tape.h"
#include "protocol/compression.h"
#include "protocol/record_batch.h"

#include <stdbool.h>
#include <stdint.h>

struct cgroup; /* client/group.c */

/* One Fetch answer, copied out of the connection's buffer (kconn hands a frame only during
 * its callback). */
struct cresp {
	int32_t refs; /* chunks pointing into data */
	size_t bytes;
	uint8_t data[];
};

/* Whole batches of one partition from one answer, not yet read. */
struct cchunk {
	struct cchunk *next;
	struct cresp *resp; /* one reference */
	const uint8_t *p;   /* borrowed from resp: the batches not yet started */
	size_t len;
};

enum cpart_state { CPART_LOOKUP, CPART_FETCH, CPART_PAUSED };

struct cpart {
	struct ctopic *meta; /* borrowed from the client, which outlives the consumer */
	const char *topic;   /* meta->name */
	int32_t partition;
	enum cpart_state state;
	struct tape_start start; /* CPART_LOOKUP: what to look up */
	int8_t lookup_step;      /* END_MINUS: 0 asks the end, 1 the log start */
	int64_t lookup_end;      /* END_MINUS: the end the first step found */
	int64_t position;        /* next offset to return; -1 unknown */
	int64_t fetch_offset;    /* next offset to fetch */
	int64_t high_watermark;  /* from the last Fetch answer; -1 none yet */
	int64_t last_stable_offset;
	int64_t log_start_offset;
	int32_t leader_epoch; /* of the last record returned; -1 none */
	bool eof_reported;
	bool fetch_in_flight;
	bool lookup_in_flight;
	bool removed; /* unassigned while a request for it was in flight: freed when it ends */
	bool error_pending;
	struct tape_error error; /* error_pending: reported by the next poll */
	uint32_t gen;
	int64_t retry_at_ms;
	int32_t failures; /* in a row */
	struct cchunk *head, *tail;
};

/* A broker the consumer sends to: at most one Fetch and one ListOffsets in flight each. */
struct cnode {
	int32_t node_id;
	bool fetch_in_flight;
	bool lookup_in_flight;
};

struct creq; /* a request in flight */

struct tape_consumer {
	struct tape_client *cl; /* borrowed */
	struct tape_consumer_config cfg;
	struct cpart **parts; /* owned; assigned partitions, in assignment order */
	int32_t parts_count;
	int32_t parts_cap;
	struct cnode *nodes; /* owned */
	int32_t nodes_count;
	struct cpart **gone; /* owned: unassigned, waiting for their requests to end */
	int32_t gone_count;
	struct creq *reqs; /* in flight; orphaned by free */
	struct arena arena;
	int64_t buffered_bytes; /* bytes of cresp held */
	int32_t errors_pending; /* partitions with error_pending */
	int64_t next_wakeup_ms; /* the earliest retry_at_ms of a waiting partition */
	bool pump;              /* a chunk was finished: read the sockets before going on */

	/* Reading: the partition whose batch is being read, and the batch. */
	int32_t rr;        /* the partition the next chunk is looked for from */
	struct cpart *cur; /* NULL: no batch being read */
	struct record_batch_header batch;
	struct record_iter it;
	struct compression_buf dbuf; /* owned: the current batch, decompressed */
	struct tape_header *headers; /* owned: the current record's */
	int32_t headers_cap;
	char *names; /* owned: the header names, NUL-terminated */
	size_t names_cap;

	/* Group mode, helper U (client/group.c): NULL without a group. When set,
	 * tape_consumer_poll calls the group's poll and waits no longer than its next wakeup
	 * (see the marked place in consumer.c). */
	struct cgroup *group;
	tape_rebalance_fn on_rebalance; /* tape_consumer_on_rebalance; NULL none */
	void *on_rebalance_arg;
};

/* ---- hooks for group mode ----------------------------------------------------------------- */

/* Adds (topic, partition) starting at start, without waiting for metadata (the topic's
 * metadata is asked for; the partition waits for it). Returns 0, -EEXIST, -EINVAL or
 * -ENOMEM. */
int consumer_partition_add(struct tape_consumer *c, const char *topic, int32_t partition,
                           struct tape_start start);
/* Adds (topic, partition) at a committed offset, or with -1 where auto_offset_reset says
 * (TAPE_RESET_ERROR: the partition is paused and the next poll reports it). */
int consumer_partition_add_offset(struct tape_consumer *c, const char *topic, int32_t partition,
                                  int64_t committed);
/* Removes an assigned partition. Returns 0 or -ENOENT. */
int consumer_partition_remove(struct tape_consumer *c, const char *topic, int32_t partition);
/* The assigned partition, or NULL. */
struct cpart *consumer_partition_find(const struct tape_consumer *c, const char *topic,
                                      int32_t partition);

/* Iterating the assignment (for commits): the i-th assigned partition, 0 <= i < count. Its
 * position is -1 while unknown. */
static inline int32_t consumer_partitions_count(const struct tape_consumer *c)
{
	return c->parts_count;
}
static inline const struct cpart *consumer_partition_at(const struct tape_consumer *c, int32_t i)
{
	return c->parts[i];
}

#endif
