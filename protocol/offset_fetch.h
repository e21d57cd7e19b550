/*
 * protocol/offset_fetch.h: OffsetFetch (API 9) bodies, versions 1-5 (v0 read offsets from
 * ZooKeeper and is not implemented; v6+ are flexible). A member asks for a group's committed
 * offsets: for the partitions named, or (v2+, topics null) for every partition the group has
 * committed.
 *
 * Request
 *   group_id                       string
 *   topics                         array of (nullable from v2: null = all)
 *     name                         string
 *     partition_indexes            array of int32
 *
 * Response
 *   throttle_time_ms               int32            v3+ (default 0)
 *   topics                         array of
 *     name                         string
 *     partitions                   array of
 *       partition_index            int32
 *       committed_offset           int64            (-1: nothing committed)
 *       committed_leader_epoch     int32            v5+ (default -1)
 *       metadata                   nullable string
 *       error_code                 int16
 *   error_code                     int16            v2+ (default 0): the group's error
 *
 * A null topics array cannot be written at v1 (the encoder marks the buffer bad). Decoded
 * strings are borrowed from the frame, arrays from the arena.
 */
#ifndef TAPE_PROTOCOL_OFFSET_FETCH_H
#define TAPE_PROTOCOL_OFFSET_FETCH_H

#include "protocol/codec.h"

#define OFFSET_FETCH_VERSION_MIN 1
#define OFFSET_FETCH_VERSION_MAX 5

struct offset_fetch_request_topic {
	struct kstr name; /* borrowed */
	int32_t partition_indexes_count;
	int32_t *partition_indexes; /* arena */
};

struct offset_fetch_request {
	struct kstr group_id;                      /* borrowed */
	int32_t topics_count;                      /* -1: null, all topics (v2+) */
	struct offset_fetch_request_topic *topics; /* arena */
};

struct offset_fetch_response_partition {
	int32_t partition_index;
	int32_t committed_leader_epoch; /* v5+ */
	int64_t committed_offset;
	struct kstr metadata; /* borrowed; nullable */
	int16_t error_code;
};

struct offset_fetch_response_topic {
	struct kstr name; /* borrowed */
	int32_t partitions_count;
	struct offset_fetch_response_partition *partitions; /* arena */
};

struct offset_fetch_response {
	int32_t throttle_time_ms; /* v3+ */
	int32_t topics_count;
	struct offset_fetch_response_topic *topics; /* arena */
	int16_t error_code;                         /* v2+ */
};

/* v1-5. Returns 0 or -TAPE_EPROTO (bad version, malformed, bytes left over). */
int offset_fetch_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                struct offset_fetch_request *out);
/* v1-5; another version, or a null where the schema has none, marks the buffer bad. */
void offset_fetch_request_encode(struct buf *b, int16_t version,
                                 const struct offset_fetch_request *r);
/* v1-5; another version, or a null where the schema has none, marks the buffer bad. */
void offset_fetch_response_encode(struct buf *b, int16_t version,
                                  const struct offset_fetch_response *r);
/* v1-5. Returns 0 or -TAPE_EPROTO. */
int offset_fetch_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                 struct offset_fetch_response *out);

#endif
