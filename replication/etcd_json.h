/*
 * replication/etcd_json.h: the JSON of etcd's v3 gateway (etcd 3.4, paths under /v3/), both
 * ways. Pure: no I/O; encoders return malloc'ed strings, decoders fill structs whose arrays
 * and bytes live in the caller's arena. Knows nothing of HTTP or of the reactor.
 *
 * The gateway is grpc-gateway over etcd's protobufs, with protobuf's JSON mapping, whose traps
 * every decoder here handles (tests/unit/replication/test_etcd_json.c has one case each):
 *   - int64 and uint64 fields (revisions, lease ids, TTLs, counts) travel as JSON strings
 *     ("revision":"12"); a JSON number is accepted too, anything else is malformed;
 *   - fields at their zero value are left out: a txn that failed has no "succeeded", an empty
 *     range no "kvs" and no "count", a delete event's kv no "value", a put event no "type"
 *     (PUT is 0), a watch's cancel message may have no header revision, an expired lease's
 *     keepalive answer no "TTL";
 *   - bytes (keys, values) are base64;
 *   - streamed answers (watch, lease keepalive) wrap each message as {"result": ...}, or
 *     {"error": {"grpc_code", "message", ...}}; unary errors are {"error", "code", "message"}.
 * Every decoder checks each field's type and every size against base/limits.h before it
 * allocates; unknown fields are ignored (newer etcds add them).
 */
#ifndef TAPE_REPLICATION_ETCD_JSON_H
#define TAPE_REPLICATION_ETCD_JSON_H

#include "base/arena.h"
#include "replication/metastore.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- requests ------------------------------------------------------------------------------ */

/* Each returns the request body (free() it), or NULL when out of memory. */
char *etcd_json_range(const uint8_t *key, size_t key_len, bool prefix, size_t limit);
char *etcd_json_put(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                    int64_t lease);
char *etcd_json_delete(const uint8_t *key, size_t key_len, bool prefix);
char *etcd_json_txn(const struct metastore_txn *txn);
char *etcd_json_lease_grant(int64_t ttl_s);
char *etcd_json_lease_id(int64_t lease_id); /* keepalive and revoke: {"ID": "<id>"} */
char *etcd_json_compact(int64_t revision);
/* A watch create_request on prefix (all keys when empty) from start_revision (0: now). */
char *etcd_json_watch(const uint8_t *prefix, size_t prefix_len, int64_t start_revision);

/* ---- answers ------------------------------------------------------------------------------- */

enum etcd_answer_kind {
	ETCD_RANGE,
	ETCD_PUT,
	ETCD_DELETE,
	ETCD_TXN,
	ETCD_LEASE_GRANT,
	ETCD_LEASE_KEEPALIVE, /* streamed: {"result": ...} */
	ETCD_LEASE_REVOKE,
	ETCD_COMPACT,
	ETCD_WATCH, /* one message of the stream: {"result": ...} */
};

struct etcd_answer {
	/* An error answer: error set, code its gRPC code, message its text (truncated). */
	bool error;
	int code;
	char message[160];

	int64_t revision; /* header.revision; 0 when absent */
	/* range */
	struct metastore_kv *kvs; /* in the arena */
	size_t kvs_count;
	bool more;
	int64_t count;
	/* txn */
	bool succeeded;
	/* delete */
	int64_t deleted;
	/* lease grant, keepalive */
	int64_t id;
	int64_t ttl_s; /* keepalive: 0 (absent) when the lease is gone */
	/* watch */
	bool created, canceled;
	int64_t watch_id;
	int64_t compact_revision;       /* nonzero: the start revision was compacted */
	struct metastore_event *events; /* in the arena */
	size_t events_count;
};

/* Decodes json[0, len) as the answer to a call of kind. Returns 0 (an error answer is 0 with
 * out->error set), -TAPE_EPROTO (not JSON, a field of the wrong type, a size over its limit),
 * -TAPE_ETOOLARGE (len over ETCD_RESPONSE_BYTES_MAX) or -ENOMEM (the arena's limit). The
 * answer's arrays and bytes live in mem. */
int etcd_json_decode(enum etcd_answer_kind kind, const char *json, size_t len, struct arena *mem,
                     struct etcd_answer *out);

/* The -errno or -TAPE_E* for an error answer: NOT_FOUND (5) lease -> -ENOENT, OUT_OF_RANGE (11)
 * compacted or future revision -> -TAPE_ECOMPACTED, UNAVAILABLE (14) -> -EAGAIN,
 * DEADLINE_EXCEEDED (4) -> -ETIMEDOUT, INVALID_ARGUMENT (3) -> -EINVAL, the rest
 * -TAPE_EMETASTORE. */
int etcd_json_errno(const struct etcd_answer *a);

#endif
