/*
 * client/consumer.c: struct tape_consumer (client/tape.h; the partition states are drawn in
 * client/consumer.h): manual assignment, start positions through ListOffsets, Fetch requests
 * sent ahead of the reader, and records decoded in place from the answers.
 *
 * Owns: which partitions are read and from where, the Fetch and ListOffsets requests and what
 * their answers mean (queued records, new watermarks, a reset, a retry after a backoff, an
 * error for the caller), decoding batches into struct tape_message, and EOF events. Must not
 * know: sockets or how metadata is fetched (kconn.c, cluster.c), group membership and commits
 * (group.c, which drives the assignment through the hooks in consumer.h).
 *
 * One step of the consumer (consumer_run), done before each wait of tape_consumer_poll and
 * after every answer:
 *
 *   1. report partitions whose topic the metadata now says does not exist;
 *   2. for every broker leading partitions in LOOKUP, one ListOffsets for all of them;
 *   3. for every broker leading partitions in FETCH without a Fetch in flight, while the
 *      answers held stay under fetch_buffer_bytes, one Fetch for all of them.
 *
 * Reading (next_record) goes a chunk at a time, round robin over the partitions: the batches
 * of a chunk are taken one by one (decompressed into dbuf when compressed), and records below
 * the partition's position (a fetch that started inside a batch, a seek) are skipped. A chunk
 * holds only whole batches: a batch cut off at the end of an answer (the broker fills up to
 * the byte limit) is fetched again by the next request, whose fetch_offset is the offset after
 * the last whole batch.
 */
#include "client/consumer.h"
#include "client/group.h"

#include "base/assert.h"
#include "base/clock.h"
#include "base/endian.h"
#include "base/limits.h"
#include "client/tape_error.h"
#include "protocol/fetch.h"
#include "protocol/list_offsets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The decode arena of one answer: the decoded structs take a few times the bytes that
 * describe them (records are not copied into it). */
#define ARENA_FACTOR 4
#define ARENA_MIN_BYTES (64 * KiB)
/* A legacy message (magic 0 or 1): offset, size, crc, magic; enough to skip it. */
#define LEGACY_HEADER_BYTES 17

enum creq_kind { CREQ_FETCH, CREQ_LOOKUP };

struct citem {
	struct cpart *part;
	uint32_t gen;
	int64_t offset; /* Fetch: fetch_offset; ListOffsets: the timestamp asked */
};

/* A request in flight. Listed so that freeing the consumer can orphan them (c = NULL). */
struct creq {
	struct tape_consumer *c;
	struct creq *prev, *next;
	enum creq_kind kind;
	int32_t node_id;
	int32_t count;
	struct citem items[];
};

void tape_consumer_config_init(struct tape_consumer_config *cfg)
{
	*cfg = (struct tape_consumer_config){
		.fetch_min_bytes = 1,
		.fetch_max_wait_ms = 500,
		.fetch_max_bytes = CLIENT_FETCH_BYTES_DEFAULT,
		.partition_fetch_bytes = CLIENT_PARTITION_FETCH_BYTES_DEFAULT,
		.auto_offset_reset = TAPE_RESET_LATEST,
		.isolation_level = 0,
		.fetch_buffer_bytes = CLIENT_FETCH_BUFFER_BYTES_DEFAULT,
		.assignors = "range,roundrobin",
		.session_timeout_ms = 45000,
		.rebalance_timeout_ms = 300000,
		.heartbeat_interval_ms = 3000,
		.enable_auto_commit = true,
		.auto_commit_interval_ms = 5000,
		.metadata_pattern_refresh_ms = 300000,
	};
}

/* ---- chunks and answers ------------------------------------------------------------------- */

static void resp_release(struct tape_consumer *c, struct cresp *r)
{
	ASSERT(r->refs > 0);
	if (--r->refs > 0)
		return;
	c->buffered_bytes -= (int64_t)r->bytes;
	free(r);
}

/* Drops what was fetched for part and not returned yet. */
static void drop_chunks(struct tape_consumer *c, struct cpart *part)
{
	if (c->cur == part)
		c->cur = NULL;
	while (part->head) {
		struct cchunk *k = part->head;
		part->head = k->next;
		resp_release(c, k->resp);
		free(k);
	}
	part->tail = NULL;
}

static void set_error(struct tape_consumer *c, struct cpart *part, const struct tape_error *e)
{
	if (!part->error_pending)
		c->errors_pending++;
	part->error_pending = true;
	part->error = *e;
}

static void pause_with(struct tape_consumer *c, struct cpart *part, const struct tape_error *e)
{
	drop_chunks(c, part);
	part->state = CPART_PAUSED;
	part->gen++;
	set_error(c, part, e);
}

/* part waits retry_backoff_ms (doubling) before its next request; stale: ask for metadata. */
static void back_off(struct tape_consumer *c, struct cpart *part, bool stale, int64_t now_ms)
{
	part->failures++;
	part->retry_at_ms =
	    now_ms + cluster_backoff_ms(c->cl->cfg.retry_backoff_ms,
	                                c->cl->cfg.retry_backoff_max_ms, part->failures);
	if (stale)
		cluster_want_topic(c->cl, part->topic);
}

/* Moves part to start: LOOKUP, or FETCH at once for an offset. */
static void start_at(struct tape_consumer *c, struct cpart *part, struct tape_start start)
{
	drop_chunks(c, part);
	part->gen++;
	part->start = start;
	part->lookup_step = 0;
	part->eof_reported = false;
	part->high_watermark = -1;
	part->retry_at_ms = 0;
	part->failures = 0;
	if (part->error_pending) {
		part->error_pending = false;
		c->errors_pending--;
	}
	if (start.kind == TAPE_START_OFFSET) {
		part->state = CPART_FETCH;
		part->position = part->fetch_offset = start.value;
	} else {
		part->state = CPART_LOOKUP;
		part->position = part->fetch_offset = -1;
	}
}

/* ---- nodes and requests ------------------------------------------------------------------- */

static struct cnode *node_of(struct tape_consumer *c, int32_t node_id)
{
	for (int32_t i = 0; i < c->nodes_count; i++)
		if (c->nodes[i].node_id == node_id)
			return &c->nodes[i];
	struct cnode *v = realloc(c->nodes, sizeof(*v) * (size_t)(c->nodes_count + 1));
	if (!v)
		return NULL;
	c->nodes = v;
	v[c->nodes_count] = (struct cnode){ .node_id = node_id };
	return &v[c->nodes_count++];
}

static struct creq *new_req(struct tape_consumer *c, enum creq_kind kind, int32_t node_id,
                            int32_t items)
{
	struct creq *r = calloc(1, sizeof(*r) + sizeof(r->items[0]) * (size_t)items);
	if (!r)
		return NULL;
	r->c = c;
	r->kind = kind;
	r->node_id = node_id;
	r->next = c->reqs;
	if (c->reqs)
		c->reqs->prev = r;
	c->reqs = r;
	return r;
}

static void unlink_req(struct tape_consumer *c, struct creq *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		c->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

static void part_free(struct tape_consumer *c, struct cpart *part)
{
	drop_chunks(c, part);
	free(part);
}

/* An answer (or a failure) ended the request's hold on its partitions: those unassigned
 * meanwhile are freed. Returns whether the item's partition is still the one asked about. */
static bool item_current(struct tape_consumer *c, const struct citem *it)
{
	struct cpart *part = it->part;
	if (part->removed) {
		if (part->fetch_in_flight || part->lookup_in_flight)
			return false;
		for (int32_t i = 0; i < c->gone_count; i++)
			if (c->gone[i] == part) {
				c->gone[i] = c->gone[--c->gone_count];
				break;
			}
		part_free(c, part);
		return false;
	}
	return part->gen == it->gen;
}

/* The leader of part, or -1 (metadata asked for) when there is none known. */
static int32_t leader_of(struct tape_consumer *c, struct cpart *part)
{
	const struct ctopic *t = part->meta;
	if (!t->known || t->error_code != KAFKA_NONE || part->partition >= t->partitions_count ||
	    t->partitions[part->partition].leader_id < 0) {
		if (!t->stale)
			cluster_want_topic(c->cl, part->topic);
		return -1;
	}
	return t->partitions[part->partition].leader_id;
}

static void consumer_run(struct tape_consumer *c, int64_t now_ms);

/* ---- ListOffsets ---------------------------------------------------------------------------- */

static int64_t lookup_timestamp(const struct cpart *part)
{
	switch (part->start.kind) {
	case TAPE_START_BEGINNING:
		return -2;
	case TAPE_START_END_MINUS:
		return part->lookup_step == 0 ? -1 : -2;
	case TAPE_START_TIME:
		return part->start.value;
	default:
		return -1;
	}
}

/* What a ListOffsets answer means for part. */
static void looked_up(struct cpart *part, int64_t offset)
{
	if (part->start.kind == TAPE_START_TIME && offset < 0) {
		/* No record at or after the time: the end, as Kafka's consumers do. */
		part->start.kind = TAPE_START_END;
		return;
	}
	if (part->start.kind == TAPE_START_END_MINUS && part->lookup_step == 0) {
		part->lookup_end = offset;
		part->lookup_step = 1;
		return;
	}
	if (part->start.kind == TAPE_START_END_MINUS) {
		int64_t want = part->lookup_end - part->start.value;
		offset = want > offset ? want : offset;
	}
	part->state = CPART_FETCH;
	part->position = part->fetch_offset = offset;
	part->failures = 0;
}

static void lookup_answer(struct tape_consumer *c, struct creq *r, struct cursor *body,
                          int16_t version, int64_t now_ms)
{
	arena_reset(&c->arena);
	struct list_offsets_response resp;
	bool ok = list_offsets_response_decode(body, &c->arena, version, &resp) == 0;
	char k[64];
	for (int32_t i = 0; i < r->count; i++) {
		struct citem *it = &r->items[i];
		struct cpart *part = it->part;
		if (!item_current(c, it) || part->state != CPART_LOOKUP ||
		    lookup_timestamp(part) != it->offset)
			continue;
		const struct list_offsets_response_partition *a = NULL;
		for (int32_t t = 0; ok && !a && t < resp.topics_count; t++) {
			if (!kstr_eq(resp.topics[t].name, part->topic))
				continue;
			for (int32_t j = 0; j < resp.topics[t].partitions_count; j++)
				if (resp.topics[t].partitions[j].partition_index == part->partition)
					a = &resp.topics[t].partitions[j];
		}
		if (!a) {
			back_off(c, part, false, now_ms);
		} else if (a->error_code == KAFKA_NONE) {
			looked_up(part, a->offset);
		} else if (tape_error_kafka_stale_metadata(a->error_code) ||
		           tape_error_kafka_retriable(a->error_code)) {
			back_off(c, part, tape_error_kafka_stale_metadata(a->error_code), now_ms);
		} else {
			struct tape_error e;
			tape_error_kafka(&e, a->error_code,
			                 "cannot look up the start of \"%s\" partition %d: %s",
			                 part->topic, part->partition,
			                 tape_error_kafka_text(a->error_code, k, sizeof(k)));
			pause_with(c, part, &e);
		}
	}
}

static void fetch_answer(struct tape_consumer *c, struct creq *r, struct cursor *body,
                         int16_t version, int64_t now_ms);

/* An answer (or the connection's failure) to a ListOffsets (fetch false) or Fetch request:
 * clears the in-flight marks, backs the partitions off on failure, hands the body on, frees
 * the request and sends what is due next (for a Fetch: the next one, while these records are
 * read). */
static void answered(void *arg, int err, struct cursor *body, int16_t version, bool fetch)
{
	struct creq *r = arg;
	struct tape_consumer *c = r->c;
	if (!c) {
		free(r);
		return;
	}
	unlink_req(c, r);
	int64_t now_ms = clock_mono_ms();
	struct cnode *n = node_of(c, r->node_id);
	if (n)
		*(fetch ? &n->fetch_in_flight : &n->lookup_in_flight) = false;
	for (int32_t i = 0; i < r->count; i++)
		*(fetch ? &r->items[i].part->fetch_in_flight
		        : &r->items[i].part->lookup_in_flight) = false;
	if (err < 0) {
		for (int32_t i = 0; i < r->count; i++)
			if (item_current(c, &r->items[i]))
				back_off(c, r->items[i].part, true, now_ms);
	} else if (fetch) {
		fetch_answer(c, r, body, version, now_ms);
	} else {
		lookup_answer(c, r, body, version, now_ms);
	}
	free(r);
	consumer_run(c, now_ms);
}

static void on_list_offsets(void *arg, int err, struct cursor *body, int16_t version)
{
	answered(arg, err, body, version, false);
}

/* ---- Fetch ---------------------------------------------------------------------------------- */

/* Finds the whole batches at the start of records: their length, and the offset after the
 * last of them (*next, unchanged when there is none). Returns the length, or -1 when a batch
 * header is impossible. */
static int64_t whole_batches(const uint8_t *p, size_t len, int64_t *next)
{
	size_t off = 0;
	while (len - off >= RB_LOG_OVERHEAD + 5) {
		const uint8_t *b = p + off;
		int32_t size = (int32_t)load_be32(b + RB_BATCH_LENGTH);
		int8_t magic = (int8_t)b[RB_MAGIC];
		if (size < 0 || magic < 0 || magic > RB_MAGIC_V2 ||
		    (magic == RB_MAGIC_V2 && size < RB_HEADER_BYTES - RB_LOG_OVERHEAD) ||
		    (magic != RB_MAGIC_V2 && size < LEGACY_HEADER_BYTES - RB_LOG_OVERHEAD))
			return -1;
		if ((size_t)size + RB_LOG_OVERHEAD > len - off)
			break; /* cut off by the byte limit */
		int64_t last = (int64_t)load_be64(b + RB_BASE_OFFSET);
		if (magic == RB_MAGIC_V2)
			last += (int32_t)load_be32(b + RB_LAST_OFFSET_DELTA);
		/* A legacy message's offset is its last (a compressed wrapper's inner last). */
		if (last + 1 > *next)
			*next = last + 1;
		off += (size_t)size + RB_LOG_OVERHEAD;
	}
	return (int64_t)off;
}

/* Queues the records of a partition's answer. */
static void fetched_records(struct tape_consumer *c, struct cpart *part, struct cresp *resp,
                            struct kbytes records, int64_t now_ms)
{
	if (records.len <= 0)
		return;
	int64_t next = part->fetch_offset;
	int64_t whole = whole_batches(records.p, (size_t)records.len, &next);
	struct tape_error e;
	if (whole < 0) {
		tape_error_set(&e, -TAPE_EBADBATCH,
		               "a malformed record batch in \"%s\" partition %d near offset %lld",
		               part->topic, part->partition, (long long)part->fetch_offset);
		pause_with(c, part, &e);
		return;
	}
	if (whole == 0) {
		/* Only part of one batch: a batch larger than the byte limits, which a broker
		 * would have sent whole (KIP-74); ask again later rather than spin. */
		back_off(c, part, false, now_ms);
		return;
	}
	struct cchunk *k = malloc(sizeof(*k));
	if (!k) {
		back_off(c, part, false, now_ms);
		return;
	}
	*k = (struct cchunk){ .resp = resp, .p = records.p, .len = (size_t)whole };
	resp->refs++;
	if (part->tail)
		part->tail->next = k;
	else
		part->head = k;
	part->tail = k;
	part->fetch_offset = next;
}

static void fetch_partition_error(struct tape_consumer *c, struct cpart *part, int16_t code,
                                  int64_t now_ms)
{
	char k[64];
	struct tape_error e;
	if (code == KAFKA_OFFSET_OUT_OF_RANGE) {
		if (c->cfg.auto_offset_reset == TAPE_RESET_ERROR) {
			tape_error_kafka(&e, code,
			                 "offset %lld of \"%s\" partition %d is out of range (log "
			                 "start %lld, end %lld)",
			                 (long long)part->fetch_offset, part->topic,
			                 part->partition, (long long)part->log_start_offset,
			                 (long long)part->high_watermark);
			pause_with(c, part, &e);
			return;
		}
		struct tape_start s = { c->cfg.auto_offset_reset == TAPE_RESET_EARLIEST
			                    ? TAPE_START_BEGINNING
			                    : TAPE_START_END,
			                0 };
		start_at(c, part, s);
		return;
	}
	if (tape_error_kafka_stale_metadata(code) || tape_error_kafka_retriable(code)) {
		back_off(c, part, tape_error_kafka_stale_metadata(code), now_ms);
		return;
	}
	tape_error_kafka(&e, code, "cannot fetch from \"%s\" partition %d: %s", part->topic,
	                 part->partition, tape_error_kafka_text(code, k, sizeof(k)));
	pause_with(c, part, &e);
}

static const struct fetch_response_partition *find_fetched(const struct fetch_response *r,
                                                           const struct cpart *part)
{
	for (int32_t i = 0; i < r->responses_count; i++) {
		const struct fetch_response_topic *t = &r->responses[i];
		if (!kstr_eq(t->topic, part->topic))
			continue;
		for (int32_t j = 0; j < t->partitions_count; j++)
			if (t->partitions[j].partition_index == part->partition)
				return &t->partitions[j];
	}
	return NULL;
}

static void fetch_answer(struct tape_consumer *c, struct creq *r, struct cursor *body,
                         int16_t version, int64_t now_ms)
{
	size_t len = cursor_left(body);
	struct cresp *resp = malloc(sizeof(*resp) + len);
	struct fetch_response f = { .error_code = KAFKA_NONE };
	struct cursor copy;
	arena_reset(&c->arena);
	if (resp) {
		if (len > 0)
			memcpy(resp->data, cursor_bytes(body, len), len);
		resp->bytes = len;
		resp->refs = 1; /* held while the partitions are gone through */
		c->buffered_bytes += (int64_t)len;
		cursor_init(&copy, resp->data, len);
	}
	if (!resp || fetch_response_decode(&copy, &c->arena, version, &f) < 0 ||
	    f.error_code != KAFKA_NONE) {
		for (int32_t i = 0; i < r->count; i++)
			if (item_current(c, &r->items[i]))
				back_off(c, r->items[i].part, resp && f.error_code, now_ms);
		if (resp)
			resp_release(c, resp);
		return;
	}
	for (int32_t i = 0; i < r->count; i++) {
		struct citem *it = &r->items[i];
		struct cpart *part = it->part;
		if (!item_current(c, it) || part->state != CPART_FETCH ||
		    part->fetch_offset != it->offset)
			continue;
		const struct fetch_response_partition *a = find_fetched(&f, part);
		if (!a)
			continue; /* not in this answer (a fetch session would leave it out) */
		if (a->error_code != KAFKA_NONE) {
			fetch_partition_error(c, part, a->error_code, now_ms);
			continue;
		}
		part->failures = 0;
		part->high_watermark = a->high_watermark;
		part->last_stable_offset = a->last_stable_offset;
		if (a->log_start_offset >= 0)
			part->log_start_offset = a->log_start_offset;
		fetched_records(c, part, resp, a->records, now_ms);
	}
	resp_release(c, resp);
}

static void on_fetch(void *arg, int err, struct cursor *body, int16_t version)
{
	answered(arg, err, body, version, true);
}

/* ---- sending -------------------------------------------------------------------------------- */

/* The partitions in state, not in flight, not backing off, led by node: into items. */
static int32_t gather(struct tape_consumer *c, enum cpart_state state, int32_t node,
                      struct citem *items, int64_t now_ms)
{
	int32_t n = 0;
	for (int32_t i = 0; i < c->parts_count; i++) {
		struct cpart *part = c->parts[i];
		if (part->state != state || part->retry_at_ms > now_ms || part->fetch_in_flight ||
		    part->lookup_in_flight || leader_of(c, part) != node)
			continue;
		items[n++] = (struct citem){ part, part->gen,
			                     state == CPART_FETCH ? part->fetch_offset
			                                          : lookup_timestamp(part) };
	}
	return n;
}

/* Groups items (n of them) by topic into the request's arrays, in the arena. Returns the
 * number of topics; *first[t] is the index of topic t's first item. Items of one topic need
 * not be adjacent: they are sorted by topic first. */
static int cmp_item(const void *a, const void *b)
{
	const struct citem *x = a, *y = b;
	if (x->part->topic != y->part->topic)
		return strcmp(x->part->topic, y->part->topic);
	return x->part->partition - y->part->partition;
}

static void send_lookup(struct tape_consumer *c, struct kconn *conn, struct creq *r, int64_t now_ms)
{
	int16_t v = kconn_version(conn, API_LIST_OFFSETS, 1, LIST_OFFSETS_VERSION_MAX);
	qsort(r->items, (size_t)r->count, sizeof(r->items[0]), cmp_item);
	arena_reset(&c->arena);
	struct list_offsets_request_topic *topics =
	    arena_array(&c->arena, (size_t)r->count, sizeof(*topics));
	struct list_offsets_request_partition *ps =
	    arena_array(&c->arena, (size_t)r->count, sizeof(*ps));
	struct buf *b =
	    v >= 0 && topics && ps ? kconn_request_begin(conn, API_LIST_OFFSETS, v) : NULL;
	if (!b) {
		unlink_req(c, r);
		for (int32_t i = 0; i < r->count; i++)
			back_off(c, r->items[i].part, false, now_ms);
		free(r);
		return;
	}
	int32_t tc = 0;
	for (int32_t i = 0; i < r->count; i++) {
		struct cpart *part = r->items[i].part;
		if (tc == 0 || !kstr_eq(topics[tc - 1].name, part->topic))
			topics[tc++] =
			    (struct list_offsets_request_topic){ .name = kstr_from(part->topic),
				                                 .partitions = &ps[i] };
		topics[tc - 1].partitions_count++;
		ps[i] = (struct list_offsets_request_partition){
			.partition_index = part->partition,
			.timestamp = r->items[i].offset,
			.max_num_offsets = 1,
		};
		part->lookup_in_flight = true;
	}
	struct list_offsets_request req = { .replica_id = -1,
		                            .isolation_level = c->cfg.isolation_level,
		                            .topics_count = tc,
		                            .topics = topics };
	list_offsets_request_encode(b, v, &req);
	struct cnode *n = node_of(c, r->node_id);
	n->lookup_in_flight = true;
	if (kconn_request_end(conn, true, now_ms, on_list_offsets, r) < 0)
		on_list_offsets(r, -ENOMEM, NULL, v);
}

static void send_fetch(struct tape_consumer *c, struct kconn *conn, struct creq *r, int64_t now_ms)
{
	int16_t v = kconn_version(conn, API_FETCH, FETCH_VERSION_MIN, FETCH_VERSION_MAX);
	qsort(r->items, (size_t)r->count, sizeof(r->items[0]), cmp_item);
	arena_reset(&c->arena);
	struct fetch_request_topic *topics =
	    arena_array(&c->arena, (size_t)r->count, sizeof(*topics));
	struct fetch_request_partition *ps = arena_array(&c->arena, (size_t)r->count, sizeof(*ps));
	struct buf *b = v >= 0 && topics && ps ? kconn_request_begin(conn, API_FETCH, v) : NULL;
	if (!b) {
		unlink_req(c, r);
		for (int32_t i = 0; i < r->count; i++) {
			struct cpart *part = r->items[i].part;
			if (v >= 0) {
				back_off(c, part, false, now_ms);
				continue;
			}
			struct tape_error e;
			tape_error_set(&e, -TAPE_EVERSION,
			               "cannot fetch from \"%s\" partition %d: the broker does "
			               "not support Fetch v%d-%d",
			               part->topic, part->partition, FETCH_VERSION_MIN,
			               FETCH_VERSION_MAX);
			pause_with(c, part, &e);
		}
		free(r);
		return;
	}
	int32_t tc = 0;
	for (int32_t i = 0; i < r->count; i++) {
		struct cpart *part = r->items[i].part;
		if (tc == 0 || !kstr_eq(topics[tc - 1].topic, part->topic))
			topics[tc++] =
			    (struct fetch_request_topic){ .topic = kstr_from(part->topic),
				                          .partitions = &ps[i] };
		topics[tc - 1].partitions_count++;
		ps[i] = (struct fetch_request_partition){
			.partition = part->partition,
			.current_leader_epoch = -1,
			.fetch_offset = part->fetch_offset,
			.log_start_offset = -1,
			.partition_max_bytes = c->cfg.partition_fetch_bytes,
		};
		part->fetch_in_flight = true;
	}
	struct fetch_request req = {
		.replica_id = -1,
		.max_wait_ms = c->cfg.fetch_max_wait_ms,
		.min_bytes = c->cfg.fetch_min_bytes,
		.max_bytes = c->cfg.fetch_max_bytes,
		.isolation_level = c->cfg.isolation_level,
		.session_id = 0,
		.session_epoch = -1, /* no fetch session: every request names every partition */
		.topics_count = tc,
		.topics = topics,
		.rack_id = KSTR(""),
	};
	fetch_request_encode(b, v, &req);
	struct cnode *n = node_of(c, r->node_id);
	n->fetch_in_flight = true;
	if (kconn_request_end(conn, true, now_ms, on_fetch, r) < 0)
		on_fetch(r, -ENOMEM, NULL, v);
}

/* Steps 2 and 3 for one broker. */
static void send_to(struct tape_consumer *c, int32_t node, struct citem *items, int64_t now_ms)
{
	struct cnode *n = node_of(c, node);
	if (!n)
		return;
	bool lookup = !n->lookup_in_flight;
	bool fetch = !n->fetch_in_flight && c->buffered_bytes < c->cfg.fetch_buffer_bytes;
	if (!lookup && !fetch)
		return;
	struct kconn *conn = cluster_conn(c->cl, node, now_ms);
	if (!conn)
		return;
	for (int kind = 0; kind < 2; kind++) {
		if (kind == 0 ? !lookup : !fetch)
			continue;
		if (kconn_outstanding(conn) + 1 >= CLIENT_CONN_REQUESTS_MAX)
			return;
		int32_t count =
		    gather(c, kind == 0 ? CPART_LOOKUP : CPART_FETCH, node, items, now_ms);
		if (count == 0)
			continue;
		struct creq *r = new_req(c, kind == 0 ? CREQ_LOOKUP : CREQ_FETCH, node, count);
		if (!r)
			return;
		memcpy(r->items, items, sizeof(*items) * (size_t)count);
		r->count = count;
		if (kind == 0)
			send_lookup(c, conn, r, now_ms);
		else
			send_fetch(c, conn, r, now_ms);
	}
}

/* Step 1: partitions of topics the metadata says do not exist (any more), or that lost the
 * partition. */
static void check_topics(struct tape_consumer *c)
{
	for (int32_t i = 0; i < c->parts_count; i++) {
		struct cpart *part = c->parts[i];
		const struct ctopic *t = part->meta;
		if (part->state == CPART_PAUSED || !t->known)
			continue;
		struct tape_error e;
		if (t->error_code == KAFKA_UNKNOWN_TOPIC_OR_PARTITION && t->unknown_answers >= 2) {
			tape_error_kafka(&e, t->error_code, "topic \"%s\" does not exist",
			                 part->topic);
			pause_with(c, part, &e);
		} else if (t->error_code == KAFKA_NONE && t->partitions_count > 0 &&
		           part->partition >= t->partitions_count && !t->stale) {
			tape_error_kafka(&e, KAFKA_UNKNOWN_TOPIC_OR_PARTITION,
			                 "partition %d of topic \"%s\" does not exist (it has %d)",
			                 part->partition, part->topic, t->partitions_count);
			pause_with(c, part, &e);
		}
	}
}

static void consumer_run(struct tape_consumer *c, int64_t now_ms)
{
	check_topics(c);
	if (c->parts_count == 0)
		return;
	struct citem *items = malloc(sizeof(*items) * (size_t)c->parts_count);
	int32_t *seen = malloc(sizeof(*seen) * (size_t)c->parts_count);
	int32_t seen_count = 0;
	c->next_wakeup_ms = INT64_MAX;
	for (int32_t i = 0; items && seen && i < c->parts_count; i++) {
		struct cpart *part = c->parts[i];
		if (part->state == CPART_PAUSED || part->fetch_in_flight || part->lookup_in_flight)
			continue;
		if (part->retry_at_ms > now_ms) {
			if (part->retry_at_ms < c->next_wakeup_ms)
				c->next_wakeup_ms = part->retry_at_ms;
			continue;
		}
		int32_t node = leader_of(c, part);
		if (node < 0)
			continue;
		bool done = false;
		for (int32_t k = 0; k < seen_count && !done; k++)
			done = seen[k] == node;
		if (done)
			continue;
		seen[seen_count++] = node;
		send_to(c, node, items, now_ms);
	}
	free(seen);
	free(items);
}

/* ---- reading -------------------------------------------------------------------------------- */

/* Fills the record's headers into c->headers (names copied to be NUL-terminated). */
static int decode_headers(struct tape_consumer *c, const struct record *rec,
                          struct tape_message *out)
{
	out->headers = NULL;
	out->headers_count = 0;
	if (rec->headers_count <= 0)
		return 0;
	if (rec->headers_count > c->headers_cap) {
		struct tape_header *h =
		    realloc(c->headers, sizeof(*h) * (size_t)rec->headers_count);
		if (!h)
			return -ENOMEM;
		c->headers = h;
		c->headers_cap = rec->headers_count;
	}
	/* Names take at most the headers' bytes plus a NUL each. */
	size_t need = rec->headers_len + (size_t)rec->headers_count;
	if (need > c->names_cap) {
		char *n = realloc(c->names, need);
		if (!n)
			return -ENOMEM;
		c->names = n;
		c->names_cap = need;
	}
	struct record_header_iter hi;
	struct record_header h;
	record_header_iter_init(&hi, rec);
	size_t used = 0;
	int32_t n = 0, rc;
	while ((rc = record_header_iter_next(&hi, &h)) == 1) {
		if (n == rec->headers_count || h.key_len < 0)
			return -TAPE_EBADBATCH;
		char *name = c->names + used;
		memcpy(name, h.key, (size_t)h.key_len);
		name[h.key_len] = '\0';
		used += (size_t)h.key_len + 1;
		c->headers[n++] = (struct tape_header){ name, h.value, h.value_len };
	}
	if (rc < 0)
		return rc;
	out->headers = c->headers;
	out->headers_count = n;
	return 0;
}

/* A batch of part that cannot be read: reported, and reading goes on after it. */
static int skip_batch(struct tape_consumer *c, struct cpart *part, int64_t base, int64_t last,
                      int code, const char *why, struct tape_error *err)
{
	if (last + 1 > part->position)
		part->position = last + 1;
	c->cur = NULL;
	return tape_error_set(err, code, "skipped offsets %lld-%lld of \"%s\" partition %d: %s",
	                      (long long)base, (long long)last, part->topic, part->partition, why);
}

/* Starts the next batch of part's head chunk. Returns 1 (a batch to read), 0 (skipped
 * silently: control batch, or wholly below the position) or < 0 (skipped with an error). */
static int start_batch(struct tape_consumer *c, struct cpart *part, struct tape_error *err)
{
	struct cchunk *k = part->head;
	const uint8_t *b = k->p;
	size_t size = load_be32(b + RB_BATCH_LENGTH) + (size_t)RB_LOG_OVERHEAD;
	k->p += size;
	k->len -= size;
	int64_t base = (int64_t)load_be64(b + RB_BASE_OFFSET);
	if (b[RB_MAGIC] != RB_MAGIC_V2) {
		if (base < part->position)
			return 0;
		return skip_batch(c, part, base, base, -TAPE_EBADBATCH,
		                  "a legacy message set (magic 0 or 1) is not supported", err);
	}
	struct record_batch_header *h = &c->batch;
	record_batch_header_read(b, h);
	int64_t last = record_batch_last_offset(h);
	if (last < part->position)
		return 0;
	if (h->attributes & RB_ATTR_CONTROL) {
		part->position = last + 1;
		return 0;
	}
	if (h->records_count < 0 || h->last_offset_delta < 0)
		return skip_batch(c, part, base, last, -TAPE_EBADBATCH, "a malformed batch", err);
	const uint8_t *records = b + RB_RECORDS;
	size_t len = size - RB_RECORDS;
	int codec = record_batch_codec(h);
	if (codec != COMPRESSION_NONE) {
		c->dbuf.len = 0;
		int rc =
		    compression_decompress(codec, records, len, &c->dbuf, DECOMPRESSED_BYTES_MAX);
		if (rc < 0) {
			char why[96];
			snprintf(why, sizeof(why), "cannot decompress its %s batch: %s",
			         compression_name(codec), tape_strerror(rc));
			return skip_batch(c, part, base, last, rc, why, err);
		}
		records = c->dbuf.p;
		len = c->dbuf.len;
	}
	record_iter_init(&c->it, records, len, h->records_count);
	c->cur = part;
	return 1;
}

/* The next record of the batch being read: 1, 0 at its end, < 0 malformed (skipped). */
static int batch_record(struct tape_consumer *c, struct tape_message *out, struct tape_error *err)
{
	struct cpart *part = c->cur;
	const struct record_batch_header *h = &c->batch;
	struct record rec;
	for (;;) {
		int rc = record_iter_next(&c->it, &rec);
		if (rc == 0) {
			int64_t last = record_batch_last_offset(h);
			if (last + 1 > part->position)
				part->position = last + 1;
			c->cur = NULL;
			return 0;
		}
		if (rc < 0)
			return skip_batch(c, part, h->base_offset, record_batch_last_offset(h),
			                  -TAPE_EBADBATCH, "a malformed record", err);
		int64_t offset = h->base_offset + rec.offset_delta;
		if (offset < part->position)
			continue; /* fetched from inside this batch */
		rc = decode_headers(c, &rec, out);
		if (rc < 0)
			return skip_batch(c, part, h->base_offset, record_batch_last_offset(h), rc,
			                  "a malformed record header", err);
		bool append_time = h->attributes & RB_ATTR_LOG_APPEND_TIME;
		out->topic = part->topic;
		out->partition = part->partition;
		out->offset = offset;
		out->timestamp_ms =
		    append_time ? h->max_timestamp : h->base_timestamp + rec.timestamp_delta;
		out->timestamp_type = append_time ? 1 : 0;
		out->key = rec.key;
		out->key_len = rec.key_len;
		out->value = rec.value;
		out->value_len = rec.value_len;
		out->leader_epoch = h->partition_leader_epoch;
		part->position = offset + 1;
		part->leader_epoch = h->partition_leader_epoch;
		part->eof_reported = false;
		return 1;
	}
}

/* The partition to read from next, round robin: one with a chunk, or NULL. */
static struct cpart *next_part(struct tape_consumer *c)
{
	for (int32_t k = 0; k < c->parts_count; k++) {
		int32_t i = (c->rr + k) % c->parts_count;
		if (c->parts[i]->head) {
			c->rr = i;
			return c->parts[i];
		}
	}
	return NULL;
}

/* 1 and *out, 0 when nothing is queued, < 0 for a batch skipped with an error. */
static int next_record(struct tape_consumer *c, struct tape_message *out, struct tape_error *err)
{
	for (;;) {
		if (c->cur) {
			int rc = batch_record(c, out, err);
			if (rc != 0)
				return rc;
		}
		struct cpart *part = c->parts_count ? c->parts[c->rr % c->parts_count] : NULL;
		if (!part || !part->head)
			part = next_part(c);
		if (!part)
			return 0;
		if (part->head->len == 0) {
			/* The chunk is done (its records were returned by earlier polls, so its
			 * answer can go), and the next partition gets its turn. */
			struct cchunk *k = part->head;
			part->head = k->next;
			if (!part->head)
				part->tail = NULL;
			resp_release(c, k->resp);
			free(k);
			c->rr = (c->rr + 1) % c->parts_count;
			c->pump = true;
			continue;
		}
		int rc = start_batch(c, part, err);
		if (rc < 0)
			return rc;
	}
}

/* An EOF event for a partition that reached its high watermark, once per arrival. */
static bool next_eof(struct tape_consumer *c, struct tape_message *out)
{
	for (int32_t i = 0; i < c->parts_count; i++) {
		struct cpart *part = c->parts[i];
		if (part->state != CPART_FETCH || part->head || part->eof_reported ||
		    part->high_watermark < 0 || part->position < part->high_watermark ||
		    c->cur == part)
			continue;
		part->eof_reported = true;
		*out = (struct tape_message){ .topic = part->topic,
			                      .partition = part->partition,
			                      .offset = part->high_watermark,
			                      .key_len = -1,
			                      .value_len = -1,
			                      .leader_epoch = -1 };
		return true;
	}
	return false;
}

static int take_error(struct tape_consumer *c, struct tape_error *err)
{
	for (int32_t i = 0; i < c->parts_count; i++) {
		struct cpart *part = c->parts[i];
		if (!part->error_pending)
			continue;
		part->error_pending = false;
		c->errors_pending--;
		return tape_error_copy(err, &part->error);
	}
	c->errors_pending = 0;
	return 0;
}

int tape_consumer_poll(struct tape_consumer *c, int32_t timeout_ms, struct tape_message *out,
                       struct tape_error *err)
{
	tape_error_clear(err);
	/* The clock is read only when no record is ready: a read per record cost a tenth of a
	 * consumer's time. The coarse clock serves the heartbeat check made on every call. */
	int64_t now = -1, deadline = -1;
	bool polled = false;
	if (c->group) /* heartbeats are due even while records keep coming */
		cgroup_poll(c->group, clock_mono_coarse_ms());
	for (;;) {
		if (c->pump) {
			/* Between chunks: answers that arrived meanwhile are taken in, so the
			 * next Fetch leaves while the queued records are read. */
			c->pump = false;
			cluster_poll(c->cl, 0);
			consumer_run(c, clock_mono_ms());
		}
		int rc = c->errors_pending ? take_error(c, err) : 0;
		if (rc == 0)
			rc = next_record(c, out, err);
		if (rc != 0)
			return rc;
		if (next_eof(c, out))
			return TAPE_POLL_EOF;
		if (now < 0) {
			now = clock_mono_ms();
			deadline = now + (timeout_ms > 0 ? timeout_ms : 0);
		}
		if (polled && now >= deadline)
			return 0;
		int64_t until = deadline;
		if (c->group) {
			/* Group mode: the membership's step first (it may change the
			 * assignment), and its next deadline bounds the wait. */
			cgroup_poll(c->group, now);
			int grc = cgroup_error(c->group, err);
			if (grc < 0)
				return grc;
			int64_t gw = cgroup_next_wakeup(c->group);
			until = gw < until ? gw : until;
		}
		consumer_run(c, now);
		if (c->next_wakeup_ms < until)
			until = c->next_wakeup_ms;
		cluster_poll(c->cl, until > now ? until - now : 0);
		polled = true;
		now = clock_mono_ms();
	}
}

/* ---- assignment ---------------------------------------------------------------------------- */

struct cpart *consumer_partition_find(const struct tape_consumer *c, const char *topic,
                                      int32_t partition)
{
	for (int32_t i = 0; i < c->parts_count; i++)
		if (c->parts[i]->partition == partition && !strcmp(c->parts[i]->topic, topic))
			return c->parts[i];
	return NULL;
}

static bool start_valid(struct tape_start s)
{
	switch (s.kind) {
	case TAPE_START_OFFSET:
	case TAPE_START_END_MINUS:
	case TAPE_START_TIME:
		return s.value >= 0;
	case TAPE_START_BEGINNING:
	case TAPE_START_END:
		return true;
	default:
		return false;
	}
}

int consumer_partition_add(struct tape_consumer *c, const char *topic, int32_t partition,
                           struct tape_start start)
{
	if (!topic || !*topic || partition < 0 || !start_valid(start))
		return -EINVAL;
	if (consumer_partition_find(c, topic, partition))
		return -EEXIST;
	if (c->parts_count == CLIENT_ASSIGNED_MAX)
		return -ENOBUFS;
	struct ctopic *meta = cluster_topic(c->cl, topic);
	if (!meta)
		meta = cluster_want_topic(c->cl, topic);
	if (!meta)
		return -ENOMEM;
	if (c->parts_count == c->parts_cap) {
		int32_t cap = c->parts_cap ? c->parts_cap * 2 : 8;
		struct cpart **v = realloc(c->parts, sizeof(*v) * (size_t)cap);
		if (!v)
			return -ENOMEM;
		c->parts = v;
		c->parts_cap = cap;
	}
	struct cpart *part = calloc(1, sizeof(*part));
	if (!part)
		return -ENOMEM;
	part->meta = meta;
	part->topic = meta->name;
	part->partition = partition;
	part->log_start_offset = -1;
	part->last_stable_offset = -1;
	part->leader_epoch = -1;
	start_at(c, part, start);
	c->parts[c->parts_count++] = part;
	return 0;
}

int consumer_partition_add_offset(struct tape_consumer *c, const char *topic, int32_t partition,
                                  int64_t committed)
{
	if (committed >= 0)
		return consumer_partition_add(c, topic, partition,
		                              (struct tape_start){ TAPE_START_OFFSET, committed });
	struct tape_start s = { c->cfg.auto_offset_reset == TAPE_RESET_EARLIEST
		                    ? TAPE_START_BEGINNING
		                    : TAPE_START_END,
		                0 };
	int rc = consumer_partition_add(c, topic, partition, s);
	if (rc < 0 || c->cfg.auto_offset_reset != TAPE_RESET_ERROR)
		return rc;
	struct cpart *part = consumer_partition_find(c, topic, partition);
	struct tape_error e;
	tape_error_set(&e, -TAPE_ERANGE,
	               "\"%s\" partition %d has no committed offset and auto_offset_reset is "
	               "error",
	               topic, partition);
	pause_with(c, part, &e);
	return 0;
}

int consumer_partition_remove(struct tape_consumer *c, const char *topic, int32_t partition)
{
	for (int32_t i = 0; i < c->parts_count; i++) {
		struct cpart *part = c->parts[i];
		if (part->partition != partition || strcmp(part->topic, topic))
			continue;
		if (part->error_pending)
			c->errors_pending--;
		part->error_pending = false;
		memmove(&c->parts[i], &c->parts[i + 1],
		        sizeof(c->parts[0]) * (size_t)(c->parts_count - i - 1));
		c->parts_count--;
		if (c->rr >= c->parts_count)
			c->rr = 0;
		drop_chunks(c, part);
		if (!part->fetch_in_flight && !part->lookup_in_flight) {
			free(part);
			return 0;
		}
		/* Freed when its answers come (or with the consumer). */
		struct cpart **v = realloc(c->gone, sizeof(*v) * (size_t)(c->gone_count + 1));
		if (!v) {
			/* Keep it assigned but paused rather than lose track of it. */
			c->parts[c->parts_count++] = part;
			part->state = CPART_PAUSED;
			return -ENOMEM;
		}
		c->gone = v;
		c->gone[c->gone_count++] = part;
		part->removed = true;
		return 0;
	}
	return -ENOENT;
}

int tape_consumer_assign(struct tape_consumer *c, const char *topic, int32_t partition,
                         struct tape_start start, struct tape_error *err)
{
	tape_error_clear(err);
	if (!start_valid(start))
		return tape_error_set(err, -EINVAL, "an invalid start position");
	if (partition < 0)
		return tape_error_set(err, -EINVAL, "partition %d is not a partition", partition);
	struct ctopic *t;
	int rc = cluster_topic_wait(c->cl, topic, clock_mono_ms() + c->cl->cfg.metadata_timeout_ms,
	                            &t, err);
	if (rc < 0)
		return rc;
	if (partition >= t->partitions_count)
		return tape_error_kafka(err, KAFKA_UNKNOWN_TOPIC_OR_PARTITION,
		                        "partition %d of topic \"%s\" does not exist (it has %d)",
		                        partition, topic, t->partitions_count);
	rc = consumer_partition_add(c, topic, partition, start);
	if (rc == -EEXIST)
		return tape_error_set(err, rc, "\"%s\" partition %d is assigned already", topic,
		                      partition);
	if (rc < 0)
		return tape_error_set(err, rc, "cannot assign \"%s\" partition %d: %s", topic,
		                      partition,
		                      rc == -ENOBUFS ? "too many partitions" : "no memory");
	return 0;
}

int tape_consumer_unassign(struct tape_consumer *c, const char *topic, int32_t partition)
{
	return consumer_partition_remove(c, topic, partition);
}

int tape_consumer_seek(struct tape_consumer *c, const char *topic, int32_t partition,
                       struct tape_start start, struct tape_error *err)
{
	tape_error_clear(err);
	struct cpart *part = consumer_partition_find(c, topic, partition);
	if (!part)
		return tape_error_set(err, -ENOENT, "\"%s\" partition %d is not assigned", topic,
		                      partition);
	if (!start_valid(start))
		return tape_error_set(err, -EINVAL, "an invalid start position");
	start_at(c, part, start);
	return 0;
}

int64_t tape_consumer_position(const struct tape_consumer *c, const char *topic, int32_t partition)
{
	const struct cpart *part = consumer_partition_find(c, topic, partition);
	return part ? part->position : -1;
}

int tape_consumer_watermarks(const struct tape_consumer *c, const char *topic, int32_t partition,
                             int64_t *log_start, int64_t *high_watermark)
{
	const struct cpart *part = consumer_partition_find(c, topic, partition);
	if (!part)
		return -ENOENT;
	if (part->high_watermark < 0)
		return -EAGAIN;
	if (log_start)
		*log_start = part->log_start_offset;
	if (high_watermark)
		*high_watermark = part->high_watermark;
	return 0;
}

/* ---- life ------------------------------------------------------------------------------------ */

static int check_config(const struct tape_consumer_config *cfg, struct tape_error *err)
{
	if (cfg->fetch_min_bytes < 0 || cfg->fetch_max_wait_ms < 0)
		return tape_error_set(err, -TAPE_ECONFIG,
		                      "fetch_min_bytes and fetch_max_wait_ms must be >= 0");
	if (cfg->fetch_max_bytes < 1 ||
	    (uint64_t)cfg->fetch_max_bytes + MiB > CLIENT_RESPONSE_BYTES_MAX ||
	    cfg->partition_fetch_bytes < 1)
		return tape_error_set(err, -TAPE_ECONFIG,
		                      "fetch_max_bytes must be 1-%llu and partition_fetch_bytes "
		                      ">= 1",
		                      (unsigned long long)(CLIENT_RESPONSE_BYTES_MAX - MiB));
	if (cfg->fetch_buffer_bytes < 1 ||
	    (uint64_t)cfg->fetch_buffer_bytes > CLIENT_FETCH_BUFFER_BYTES_MAX)
		return tape_error_set(err, -TAPE_ECONFIG, "fetch_buffer_bytes must be 1-%llu",
		                      (unsigned long long)CLIENT_FETCH_BUFFER_BYTES_MAX);
	if (cfg->auto_offset_reset < TAPE_RESET_EARLIEST ||
	    cfg->auto_offset_reset > TAPE_RESET_ERROR)
		return tape_error_set(err, -TAPE_ECONFIG, "unknown auto_offset_reset %d",
		                      (int)cfg->auto_offset_reset);
	if (cfg->isolation_level != 0 && cfg->isolation_level != 1)
		return tape_error_set(err, -TAPE_ECONFIG, "isolation_level must be 0 or 1");
	return 0;
}

int tape_consumer_new(struct tape_client *cl, const struct tape_consumer_config *cfg_in,
                      struct tape_consumer **out, struct tape_error *err)
{
	struct tape_consumer_config defaults;
	tape_consumer_config_init(&defaults);
	const struct tape_consumer_config *cfg = cfg_in ? cfg_in : &defaults;
	tape_error_clear(err);
	*out = NULL;
	int rc = check_config(cfg, err);
	if (rc < 0)
		return rc;
	struct tape_consumer *c = calloc(1, sizeof(*c));
	if (!c)
		return tape_error_set(err, -ENOMEM, "out of memory");
	c->cl = cl;
	c->cfg = *cfg;
	c->next_wakeup_ms = INT64_MAX;
	/* The decoded structs of an answer: bounded by its frame. */
	arena_init(&c->arena, CLIENT_RESPONSE_BYTES_MAX * ARENA_FACTOR + ARENA_MIN_BYTES);
	*out = c;
	return 0;
}

void tape_consumer_free(struct tape_consumer *c)
{
	if (!c)
		return;
	for (struct creq *r = c->reqs; r; r = r->next)
		r->c = NULL; /* the connection frees each when it calls back */
	cgroup_free(c->group);
	for (int32_t i = 0; i < c->gone_count; i++)
		part_free(c, c->gone[i]);
	free(c->gone);
	for (int32_t i = 0; i < c->parts_count; i++)
		part_free(c, c->parts[i]);
	free(c->parts);
	free(c->nodes);
	free(c->dbuf.p);
	free(c->headers);
	free(c->names);
	arena_free(&c->arena);
	free(c);
}
