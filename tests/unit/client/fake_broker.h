/*
 * tests/unit/client/fake_broker.h: a scripted Kafka broker on a loopback port, in a thread of
 * the test, for driving libtape into the paths a real taped never takes: an ApiVersions v3
 * refusal, leaders that move, answers that are lost or late, errors on chosen batches.
 *
 * It serves ApiVersions (0-3, or refuses v3 the KIP-511 way), Metadata (one broker, itself,
 * leading every partition), InitProducerId (ids from 1000) and Produce (uncompressed and
 * compressed batches, CRC checked, idempotent sequences checked with duplicates answered with
 * the offset they had), keeping every record value per partition in the order appended; and
 * for consumers ListOffsets (earliest, latest, by timestamp) and Fetch (the stored batches from
 * the one holding fetch_offset, cut at partition_max_bytes like Kafka, so the last batch may
 * be partial; OFFSET_OUT_OF_RANGE outside [log_start, log_end]; an empty answer after a short
 * wait rather than a long poll).
 * Knobs are set before the client starts or under fake_lock; counters are read under it.
 */
#ifndef TAPE_TESTS_FAKE_BROKER_H
#define TAPE_TESTS_FAKE_BROKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define FAKE_PARTITIONS_MAX 8
#define FAKE_RECORDS_MAX 4096
#define FAKE_CONNS_MAX 8
#define FAKE_SCRIPT_MAX 16

struct fake_partition {
	int64_t log_end;
	char *values[FAKE_RECORDS_MAX]; /* owned, NUL-terminated copies */
	int64_t producer_id;            /* idempotence: the last producer and its next sequence */
	int32_t next_sequence;
	int32_t last_base_sequence;
	int64_t last_base_offset;
	/* The consumer's side: the batches as appended (base offsets stamped), each record's
	 * timestamp, and the log start offset (set by a test to make older offsets go). */
	uint8_t *log; /* owned */
	size_t log_len;
	int64_t timestamps[FAKE_RECORDS_MAX];
	int64_t log_start;
};

struct fake_group;
struct request_header;
struct cursor;
struct arena;
struct buf;

struct fake_broker {
	pthread_mutex_t lock;
	pthread_t thread;
	int listen_fd;
	int wake[2];
	int port;
	bool stop;
	int conns[FAKE_CONNS_MAX];

	/* knobs */
	bool refuse_api_versions_v3; /* answer v3 with UNSUPPORTED_VERSION, listing 0-2 */
	const char *topic;           /* the one topic it can have: "t" unless set */
	bool missing;                /* the topic does not exist (yet) */
	bool auto_create;            /* a Metadata request that allows it creates it */
	int32_t partitions;
	int leader_not_available; /* Metadata answers with the topic LEADER_NOT_AVAILABLE */
	int16_t produce_errors[FAKE_SCRIPT_MAX]; /* answers for the next Produce partitions */
	int produce_errors_count;
	int drop_after_append; /* Produce requests appended, then the connection closed */
	int hold_produce;      /* Produce requests read and never answered */
	int16_t fetch_errors[FAKE_SCRIPT_MAX]; /* answers for the next Fetch partitions */
	int fetch_errors_count;
	int drop_fetch; /* Fetch requests read, then the connection closed */

	struct fake_group *group; /* non-NULL: also a group coordinator (fake_group.h) */

	/* what it saw */
	int api_versions_seen[4];
	int metadata_seen;
	int produce_seen;
	int init_producer_id_seen;
	int connections_seen;
	int16_t produce_acks_seen;
	int fetch_seen;
	int list_offsets_seen;
	int64_t fetch_offsets[64]; /* partition 0's fetch_offset in each Fetch naming it */
	int fetch_offsets_count;
	struct fake_partition part[FAKE_PARTITIONS_MAX];
};

/* Starts the broker's thread on 127.0.0.1:0 (the port is in fb->port). */
void fake_start(struct fake_broker *fb);
/* Stops the thread, closes every socket, frees the stored values. */
void fake_stop(struct fake_broker *fb);
void fake_lock(struct fake_broker *fb);
/* Frames b (its size prefix reserved at 0) and writes it to fd. */
void fake_reply(int fd, struct buf *b);
void fake_unlock(struct fake_broker *fb);

#endif
