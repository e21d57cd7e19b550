/*
 * client/producer.c: struct tape_producer (client/tape.h): records queued per partition,
 * batched, sent to each partition's leader in Produce requests, retried, and reported.
 *
 * Owns: choosing a record's partition (by key through partitioner.c, sticky round robin
 * without one, or as given), the per-partition queues (pqueue.c) and their batches
 * (pbatch.c), building Produce requests per leader, what each answer means for each batch
 * (delivered, retried after a backoff, failed), idempotence (InitProducerId, sequences, the
 * producer id reset), the buffer bound, delivery reports and flush. Must not know: sockets,
 * the ApiVersions handshake or how metadata is fetched (kconn.c, cluster.c).
 *
 * One step of the producer (producer_run), done before and after every poll of the cluster:
 *
 *   1. fail the batches whose delivery timeout passed while they waited;
 *   2. idempotent: when a producer id reset is due and nothing is in flight, drop the id and
 *      start every partition's sequence at 0 again; ask for a producer id when there is none;
 *   3. for every partition with a sendable batch (pqueue.h) whose leader's connection is ready
 *      and has fewer than max_in_flight requests outstanding, seal the batch (compressing
 *      it), stamp its sequence (idempotent, first send under this producer id), and add it to
 *      that leader's Produce request, up to request_bytes_max per request.
 *
 * Answers arrive inside the cluster's poll; the batches they finish go to a done list, and the
 * delivery reports are made from it after the poll, so a report function never runs inside
 * the I/O loop and may call tape_producer_send.
 *
 * Idempotence. Sequences are stamped when a batch is first sent and kept on retries, and a
 * partition has at most one batch in flight, so the broker sees each partition's sequences in
 * order and drops duplicates of a retried batch. A batch the broker refused for certain
 * (an error answer) gives its sequences back. When the outcome of a sent batch is unknown (it
 * timed out waiting for an answer), or the broker lost or rejects the producer's state
 * (UNKNOWN_PRODUCER_ID, OUT_OF_ORDER_SEQUENCE_NUMBER), the producer id is reset: once nothing
 * is in flight, a new InitProducerId, sequences from 0, and waiting batches restamped.
 * INVALID_PRODUCER_EPOCH and PRODUCER_FENCED are fatal: every record fails from then on.
 */
#include "client/tape.h"

#include "base/arena.h"
#include "base/assert.h"
#include "base/clock.h"
#include "base/limits.h"
#include "client/cluster.h"
#include "client/partitioner.h"
#include "client/pqueue.h"
#include "client/tape_error.h"
#include "protocol/init_producer_id.h"
#include "protocol/produce.h"
#include "protocol/record_batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bytes of a Produce request besides its batches: header, acks, timeout, counts; plus, per
 * topic, its name and counts, and per partition its index and records length. */
#define REQUEST_OVERHEAD_BYTES 64
#define TOPIC_OVERHEAD_BYTES 8
#define PARTITION_OVERHEAD_BYTES 8
/* The decode arena of an answer; Produce answers are small, metadata is decoded elsewhere. */
#define ARENA_BYTES (16 * MiB)

struct ptopic {
	char *name;          /* owned */
	struct ctopic *meta; /* borrowed from the client, which outlives the producer */
	int32_t partitions_count;
	struct pqueue *queues; /* owned, one per partition */
	int32_t sticky;        /* the partition keyless records go to now; -1 none yet */
	uint64_t sticky_batch; /* the batch they are filling there; 0 none yet */
};

/* One item of a Produce request: a batch and where it goes. */
struct pitem {
	struct ptopic *topic;
	struct pbatch *batch;
};

enum preq_kind { PREQ_PRODUCE, PREQ_INIT_PRODUCER_ID };

/* A request in flight. The producer lists them so that freeing it can orphan them (p = NULL):
 * the connection still calls back later, and the callback then only frees the request. */
struct preq {
	struct tape_producer *p;
	struct preq *prev, *next;
	enum preq_kind kind;
	int16_t acks;
	int32_t count;
	struct pitem items[];
};

struct tape_producer {
	struct tape_client *cl; /* borrowed */
	struct tape_producer_config cfg;
	struct pqueue_rules rules;
	struct ptopic **topics; /* owned */
	int32_t topics_count;
	uint64_t next_batch_id;
	struct buf scratch; /* owned: a record's headers while encoding */
	struct arena arena; /* owned: building requests, decoding answers */
	struct preq *reqs;  /* owned: in flight */

	int64_t outstanding; /* records sent, not yet reported */
	int64_t failed;      /* records reported failed */
	size_t bytes_held;   /* charged against buffer_bytes */
	int32_t in_flight;   /* batches in flight, all partitions */
	bool flushing;
	int depth_delivering;                 /* > 0 while reports are being made */
	struct pbatch *done_head, *done_tail; /* owned: finished, not yet reported */

	int64_t producer_id; /* idempotence: -1 until InitProducerId answered */
	int16_t producer_epoch;
	bool pid_in_flight;
	bool pid_reset; /* reset once nothing is in flight */
	int32_t pid_failures;
	int64_t pid_retry_at_ms;
	struct tape_error fatal; /* code != 0: every send and batch fails with it */
	uint32_t rr;             /* where the next drain starts, for fairness */
	uint64_t rng;            /* next_random's state */
};

void tape_producer_config_init(struct tape_producer_config *cfg)
{
	*cfg = (struct tape_producer_config){
		.acks = -1,
		.compression = COMPRESSION_ZSTD,
		.batch_bytes = CLIENT_BATCH_BYTES_DEFAULT,
		.linger_ms = 5,
		.request_bytes_max = CLIENT_REQUEST_BYTES_DEFAULT,
		.max_in_flight = CLIENT_IN_FLIGHT_DEFAULT,
		.produce_timeout_ms = 30000,
		.delivery_timeout_ms = 120000,
		.retries = INT32_MAX,
		.buffer_bytes = CLIENT_BUFFER_BYTES_DEFAULT,
		.max_block_ms = 60000,
	};
}

/* ---- the done list and reports ----------------------------------------------------------- */

static struct pqueue *queue_of(struct ptopic *t, const struct pbatch *b)
{
	return &t->queues[b->partition];
}

/* Takes b out of its queue onto the done list with its outcome in b->error (code 0: ok). */
static void finish(struct tape_producer *p, struct ptopic *t, struct pbatch *b)
{
	pqueue_remove(queue_of(t, b), b);
	if (p->done_tail)
		p->done_tail->next = b;
	else
		p->done_head = b;
	p->done_tail = b;
}

static void succeed(struct tape_producer *p, struct ptopic *t, struct pbatch *b,
                    int64_t base_offset, int64_t log_append_time_ms)
{
	tape_error_clear(&b->error);
	b->base_offset = base_offset;
	b->log_append_time_ms = log_append_time_ms;
	finish(p, t, b);
}

/* b failed for good with the error already in b->error. */
static void fail(struct tape_producer *p, struct ptopic *t, struct pbatch *b)
{
	ASSERT(b->error.code != 0);
	b->base_offset = -1;
	b->log_append_time_ms = -1;
	finish(p, t, b);
}

static int report(struct tape_producer *p)
{
	int n = 0;
	p->depth_delivering++;
	while (p->done_head) {
		struct pbatch *b = p->done_head;
		p->done_head = b->next;
		if (!p->done_head)
			p->done_tail = NULL;
		const struct tape_error *e = b->error.code ? &b->error : NULL;
		for (int32_t i = 0; i < b->count && p->cfg.on_delivery; i++) {
			struct tape_delivery d = {
				.topic = b->topic,
				.partition = b->partition,
				.offset = !e && b->base_offset >= 0 ? b->base_offset + i : -1,
				.timestamp_ms = b->log_append_time_ms >= 0
				                    ? b->log_append_time_ms
				                    : b->recs[i].timestamp_ms,
				.error = e,
				.opaque = b->recs[i].opaque,
				.maybe_written = e && b->maybe_written,
			};
			p->cfg.on_delivery(&d, p->cfg.on_delivery_arg);
		}
		n += b->count;
		p->outstanding -= b->count;
		if (e)
			p->failed += b->count;
		p->bytes_held -= b->charged_bytes;
		pbatch_free(b);
	}
	p->depth_delivering--;
	return n;
}

/* ---- topics and partitions --------------------------------------------------------------- */

static struct ptopic *find_topic(struct tape_producer *p, const char *name)
{
	for (int32_t i = 0; i < p->topics_count; i++)
		if (!strcmp(p->topics[i]->name, name))
			return p->topics[i];
	return NULL;
}

/* Queues for partitions the metadata added since. */
static int grow_queues(struct ptopic *t)
{
	int32_t n = t->meta->partitions_count;
	if (n <= t->partitions_count)
		return 0;
	struct pqueue *q = realloc(t->queues, sizeof(*q) * (size_t)n);
	if (!q)
		return -ENOMEM;
	memset(q + t->partitions_count, 0, sizeof(*q) * (size_t)(n - t->partitions_count));
	t->queues = q;
	t->partitions_count = n;
	return 0;
}

static int get_topic(struct tape_producer *p, const char *name, struct ptopic **out,
                     struct tape_error *err)
{
	struct ptopic *t = find_topic(p, name);
	if (!t) {
		struct ctopic *meta;
		int rc = cluster_topic_wait(
		    p->cl, name, clock_mono_ms() + p->cl->cfg.metadata_timeout_ms, &meta, err);
		if (rc < 0)
			return rc;
		struct ptopic **v = realloc(p->topics, sizeof(*v) * (size_t)(p->topics_count + 1));
		if (!v)
			return tape_error_set(err, -ENOMEM, "out of memory");
		p->topics = v;
		t = calloc(1, sizeof(*t));
		if (!t || !(t->name = strdup(name))) {
			free(t);
			return tape_error_set(err, -ENOMEM, "out of memory");
		}
		t->meta = meta;
		t->sticky = -1;
		p->topics[p->topics_count++] = t;
	}
	if (grow_queues(t) < 0)
		return tape_error_set(err, -ENOMEM, "out of memory");
	*out = t;
	return 0;
}

static bool has_leader(const struct ptopic *t, int32_t partition)
{
	return partition < t->meta->partitions_count &&
	       t->meta->partitions[partition].leader_id >= 0;
}

/* The next partition after `from` with a leader, or from + 1 when none has one. */
static int32_t next_partition(const struct ptopic *t, int32_t from)
{
	for (int32_t k = 1; k <= t->partitions_count; k++) {
		int32_t i = (from + k) % t->partitions_count;
		if (has_leader(t, i))
			return i;
	}
	return (from + 1) % t->partitions_count;
}

/* xorshift64: the first partition of a topic's keyless records, spread between producers. */
static uint32_t next_random(struct tape_producer *p)
{
	uint64_t x = p->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	p->rng = x;
	return (uint32_t)(x >> 32);
}

/* Keyless records: the partition whose batch they are filling, until that batch is closed,
 * sent, or too full for rec; then the next partition round robin (Java's sticky partitioner,
 * with round robin for the next choice). */
static int32_t sticky_partition(struct tape_producer *p, struct ptopic *t,
                                const struct tape_record *rec, int64_t timestamp_ms)
{
	if (t->sticky < 0 || t->sticky >= t->partitions_count) {
		t->sticky =
		    next_partition(t, (int32_t)(next_random(p) % (uint32_t)t->partitions_count));
		t->sticky_batch = 0;
		return t->sticky;
	}
	if (t->sticky_batch == 0)
		return t->sticky; /* chosen, nothing appended yet */
	const struct pbatch *b = t->queues[t->sticky].tail;
	if (b && b->open && b->id == t->sticky_batch) {
		size_t size =
		    pbatch_record_bytes(rec, timestamp_ms - b->base_timestamp_ms, b->count);
		if (b->records.len + size <= p->rules.batch_bytes_max)
			return t->sticky;
	}
	t->sticky = next_partition(t, t->sticky);
	t->sticky_batch = 0;
	return t->sticky;
}

/* ---- send ---------------------------------------------------------------------------------- */

static int check_record(const struct tape_producer *p, const struct tape_record *rec,
                        struct tape_error *err)
{
	if (!rec->topic || !*rec->topic)
		return tape_error_set(err, -EINVAL, "a record without a topic");
	if ((rec->key && rec->key_len < 0) || (rec->value && rec->value_len < 0) ||
	    rec->headers_count < 0 || (rec->headers_count > 0 && !rec->headers))
		return tape_error_set(err, -EINVAL, "a record with a negative length");
	for (int32_t i = 0; i < rec->headers_count; i++)
		if (!rec->headers[i].name ||
		    (rec->headers[i].value && rec->headers[i].value_len < 0))
			return tape_error_set(err, -EINVAL, "a record header without a name");
	size_t size = RB_HEADER_BYTES + pbatch_record_bytes(rec, 0, 0) + REQUEST_OVERHEAD_BYTES +
	              TOPIC_OVERHEAD_BYTES + PARTITION_OVERHEAD_BYTES + strlen(rec->topic);
	if (size > (size_t)p->cfg.request_bytes_max)
		return tape_error_set(
		    err, -TAPE_ETOOLARGE,
		    "a record of %zu bytes does not fit in a request of at most %d "
		    "bytes",
		    size, p->cfg.request_bytes_max);
	return 0;
}

static int choose_partition(struct tape_producer *p, struct ptopic *t,
                            const struct tape_record *rec, int64_t timestamp_ms,
                            struct tape_error *err)
{
	if (rec->partition >= 0) {
		if (rec->partition >= t->partitions_count)
			return tape_error_kafka(
			    err, KAFKA_UNKNOWN_TOPIC_OR_PARTITION,
			    "partition %d of topic \"%s\" does not exist (it has %d)",
			    rec->partition, t->name, t->partitions_count);
		return rec->partition;
	}
	if (rec->partition != TAPE_PARTITION_ANY)
		return tape_error_set(err, -EINVAL, "partition %d is not a partition",
		                      rec->partition);
	if (rec->key)
		return partitioner_by_key(rec->key, (size_t)rec->key_len, t->partitions_count);
	return sticky_partition(p, t, rec, timestamp_ms);
}

static void producer_run(struct tape_producer *p, int64_t now_ms);

/* Waits (polling, reports deferred to the caller) until size more bytes fit in the buffer. */
static int wait_for_room(struct tape_producer *p, size_t size, struct tape_error *err)
{
	int64_t deadline = clock_mono_ms() + p->cfg.max_block_ms;
	while (p->bytes_held + size > (size_t)p->cfg.buffer_bytes && p->bytes_held > 0) {
		int64_t now = clock_mono_ms();
		if (p->depth_delivering || now >= deadline)
			return tape_error_set(
			    err, -ENOBUFS,
			    "the producer holds %zu bytes of records (buffer_bytes "
			    "%lld) and could not send them in time",
			    p->bytes_held, (long long)p->cfg.buffer_bytes);
		tape_producer_poll(p, (int32_t)(deadline - now));
	}
	return 0;
}

int tape_producer_send(struct tape_producer *p, const struct tape_record *rec,
                       struct tape_error *err)
{
	tape_error_clear(err);
	if (p->fatal.code)
		return tape_error_copy(err, &p->fatal);
	int rc = check_record(p, rec, err);
	struct ptopic *t = NULL;
	if (rc < 0 || (rc = get_topic(p, rec->topic, &t, err)) < 0)
		return rc;
	int64_t ts = rec->timestamp_ms >= 0 ? rec->timestamp_ms : clock_wall_ms();
	int32_t partition = choose_partition(p, t, rec, ts, err);
	if (partition < 0)
		return partition;
	size_t size = pbatch_record_bytes(rec, 0, 0) + sizeof(struct pbatch_rec);
	if ((rc = wait_for_room(p, size, err)) < 0)
		return rc;
	struct pbatch *b;
	rc = pqueue_append(&t->queues[partition], partition, rec, ts, -1, &p->rules, &p->scratch,
	                   &p->next_batch_id, &b);
	if (rc < 0)
		return tape_error_set(err, rc, "out of memory");
	b->topic = t->name;
	b->charged_bytes += size;
	p->bytes_held += size;
	p->outstanding++;
	if (rec->partition == TAPE_PARTITION_ANY && !rec->key && partition == t->sticky)
		t->sticky_batch = b->id;
	/* A full batch can go at once (without waiting for the next poll's linger check). */
	if (b->next == NULL && t->queues[partition].batches_count > 1 && !p->depth_delivering)
		producer_run(p, clock_mono_ms());
	return 0;
}

/* ---- answers ------------------------------------------------------------------------------- */

static void unlink_req(struct tape_producer *p, struct preq *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		p->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

static void set_fatal(struct tape_producer *p, const struct tape_error *e)
{
	if (!p->fatal.code)
		p->fatal = *e;
}

/* A failure of batch b (its error in b->error): retried when retriable and time allows, else
 * failed. ambiguous: the broker may have appended it (no answer came). */
static void retry_or_fail(struct tape_producer *p, struct ptopic *t, struct pbatch *b,
                          bool ambiguous, int64_t now_ms)
{
	int16_t k = b->error.kafka_code;
	bool kafka = b->error.code == -TAPE_EKAFKA;
	bool retriable = kafka ? tape_error_kafka_retriable(k) : b->error.code != -TAPE_ETOOLARGE;
	if (ambiguous || (kafka && (k == KAFKA_REQUEST_TIMED_OUT ||
	                            k == KAFKA_NOT_ENOUGH_REPLICAS_AFTER_APPEND)))
		b->maybe_written = true;
	if (p->cfg.idempotent && kafka && k == KAFKA_UNKNOWN_PRODUCER_ID) {
		retriable = true; /* the broker forgot us: a new id, then again */
		p->pid_reset = true;
	}
	int64_t backoff = cluster_backoff_ms(p->cl->cfg.retry_backoff_ms,
	                                     p->cl->cfg.retry_backoff_max_ms, b->attempts);
	if (!kafka || tape_error_kafka_stale_metadata(k))
		cluster_want_topic(p->cl, t->name);
	if (retriable && b->attempts <= p->cfg.retries && !p->fatal.code &&
	    now_ms + backoff < b->created_ms + p->cfg.delivery_timeout_ms) {
		b->retry_at_ms = now_ms + backoff;
		return;
	}
	if (p->cfg.idempotent) {
		if (kafka && (k == KAFKA_INVALID_PRODUCER_EPOCH || k == KAFKA_PRODUCER_FENCED))
			set_fatal(p, &b->error);
		else if (ambiguous || (kafka && k == KAFKA_OUT_OF_ORDER_SEQUENCE_NUMBER))
			p->pid_reset = true;
		else if (b->producer_id == p->producer_id && !pqueue_unstamp(queue_of(t, b), b))
			p->pid_reset = true; /* refused for certain, but not the last stamped */
	}
	fail(p, t, b);
}

static void item_error(struct tape_producer *p, const struct pitem *it, int code, int16_t kafka,
                       const char *why, int64_t now_ms)
{
	struct pbatch *b = it->batch;
	char k[64];
	if (code == -TAPE_EKAFKA)
		tape_error_kafka(&b->error, kafka, "cannot produce to \"%s\" partition %d: %s",
		                 it->topic->name, b->partition,
		                 tape_error_kafka_text(kafka, k, sizeof(k)));
	else
		tape_error_set(&b->error, code, "cannot produce to \"%s\" partition %d: %s",
		               it->topic->name, b->partition, why);
	retry_or_fail(p, it->topic, b, code != -TAPE_EKAFKA, now_ms);
}

static const struct produce_response_partition *find_answer(const struct produce_response *r,
                                                            const struct pitem *it)
{
	for (int32_t i = 0; i < r->responses_count; i++) {
		const struct produce_response_topic *rt = &r->responses[i];
		if (!kstr_eq(rt->name, it->topic->name))
			continue;
		for (int32_t j = 0; j < rt->partition_responses_count; j++)
			if (rt->partition_responses[j].index == it->batch->partition)
				return &rt->partition_responses[j];
	}
	return NULL;
}

static void on_produce_answer(struct tape_producer *p, struct preq *r, struct cursor *body,
                              int16_t version, int64_t now_ms)
{
	arena_reset(&p->arena);
	struct produce_response resp;
	if (produce_response_decode(body, &p->arena, version, &resp) < 0) {
		for (int32_t i = 0; i < r->count; i++)
			item_error(p, &r->items[i], -TAPE_EPROTO, 0, "malformed Produce answer",
			           now_ms);
		return;
	}
	for (int32_t i = 0; i < r->count; i++) {
		const struct pitem *it = &r->items[i];
		const struct produce_response_partition *a = find_answer(&resp, it);
		if (!a)
			item_error(p, it, -TAPE_EPROTO, 0, "the answer does not name the partition",
			           now_ms);
		else if (a->error_code == KAFKA_NONE)
			succeed(p, it->topic, it->batch, a->base_offset, a->log_append_time_ms);
		else if (a->error_code == KAFKA_DUPLICATE_SEQUENCE_NUMBER) /* already appended */
			succeed(p, it->topic, it->batch, -1, -1);
		else
			item_error(p, it, -TAPE_EKAFKA, a->error_code, NULL, now_ms);
	}
}

static void on_produce(void *arg, int err, struct cursor *body, int16_t version)
{
	struct preq *r = arg;
	struct tape_producer *p = r->p;
	if (!p) {
		free(r);
		return;
	}
	unlink_req(p, r);
	int64_t now_ms = clock_mono_ms();
	for (int32_t i = 0; i < r->count; i++) {
		r->items[i].batch->in_flight = false;
		queue_of(r->items[i].topic, r->items[i].batch)->in_flight--;
		p->in_flight--;
	}
	if (err < 0) {
		char why[160];
		tape_error_text(err, why, sizeof(why));
		for (int32_t i = 0; i < r->count; i++)
			item_error(p, &r->items[i], err, 0, why, now_ms);
	} else if (!body) { /* acks=0: written is all we learn */
		for (int32_t i = 0; i < r->count; i++)
			succeed(p, r->items[i].topic, r->items[i].batch, -1, -1);
	} else {
		on_produce_answer(p, r, body, version, now_ms);
	}
	free(r);
}

static void on_init_producer_id(void *arg, int err, struct cursor *body, int16_t version)
{
	struct preq *r = arg;
	struct tape_producer *p = r->p;
	if (p)
		unlink_req(p, r);
	free(r);
	if (!p)
		return;
	p->pid_in_flight = false;
	int64_t now_ms = clock_mono_ms();
	struct init_producer_id_response resp = { .error_code = KAFKA_NONE };
	arena_reset(&p->arena);
	if (err == 0 && init_producer_id_response_decode(body, &p->arena, version, &resp) < 0)
		err = -TAPE_EPROTO;
	if (err == 0 && resp.error_code == KAFKA_NONE && resp.producer_id >= 0) {
		p->producer_id = resp.producer_id;
		p->producer_epoch = resp.producer_epoch;
		p->pid_failures = 0;
		return;
	}
	if (err == 0 && resp.error_code != KAFKA_NONE &&
	    !tape_error_kafka_retriable(resp.error_code)) {
		char k[64];
		struct tape_error e;
		tape_error_kafka(&e, resp.error_code, "the broker refused a producer id: %s",
		                 tape_error_kafka_text(resp.error_code, k, sizeof(k)));
		set_fatal(p, &e);
		return;
	}
	p->pid_failures++;
	p->pid_retry_at_ms =
	    now_ms + cluster_backoff_ms(p->cl->cfg.retry_backoff_ms,
	                                p->cl->cfg.retry_backoff_max_ms, p->pid_failures);
}

/* ---- the producer's step ------------------------------------------------------------------ */

static struct preq *new_req(struct tape_producer *p, enum preq_kind kind, int32_t items)
{
	struct preq *r = calloc(1, sizeof(*r) + sizeof(r->items[0]) * (size_t)items);
	if (!r)
		return NULL;
	r->p = p;
	r->kind = kind;
	r->acks = p->cfg.acks;
	r->next = p->reqs;
	if (p->reqs)
		p->reqs->prev = r;
	p->reqs = r;
	return r;
}

static void request_producer_id(struct tape_producer *p, int64_t now_ms)
{
	if (p->pid_in_flight || now_ms < p->pid_retry_at_ms)
		return;
	struct kconn *c = cluster_any_conn(p->cl, now_ms);
	if (!c)
		return;
	int16_t v = kconn_version(c, API_INIT_PRODUCER_ID, INIT_PRODUCER_ID_VERSION_MIN,
	                          INIT_PRODUCER_ID_VERSION_MAX);
	if (v < 0) {
		struct tape_error e;
		tape_error_set(&e, -TAPE_EVERSION,
		               "the broker does not support InitProducerId v0-1: no idempotence");
		set_fatal(p, &e);
		return;
	}
	struct preq *r = new_req(p, PREQ_INIT_PRODUCER_ID, 0);
	struct buf *b = r ? kconn_request_begin(c, API_INIT_PRODUCER_ID, v) : NULL;
	if (b) {
		/* transaction_timeout_ms -1, as librdkafka sends it: no transactions. */
		struct init_producer_id_request req = { .transactional_id = KSTR_NULL,
			                                .transaction_timeout_ms = -1 };
		init_producer_id_request_encode(b, v, &req);
		if (kconn_request_end(c, true, now_ms, on_init_producer_id, r) == 0) {
			p->pid_in_flight = true;
			return;
		}
	}
	if (r) {
		unlink_req(p, r);
		free(r);
	}
}

/* Step 1: batches that waited past their delivery timeout fail. */
static void expire(struct tape_producer *p, int64_t now_ms)
{
	for (int32_t i = 0; i < p->topics_count; i++) {
		struct ptopic *t = p->topics[i];
		for (int32_t j = 0; j < t->partitions_count; j++) {
			struct pbatch *b = t->queues[j].head, *next;
			for (; b; b = next) {
				next = b->next;
				if (b->in_flight)
					continue;
				if (now_ms - b->created_ms < p->cfg.delivery_timeout_ms &&
				    !p->fatal.code)
					break;
				if (p->fatal.code)
					b->error = p->fatal;
				else if (b->error.code)
					tape_error_set(&b->error, -ETIMEDOUT,
					               "delivery timed out after %d ms; the last "
					               "attempt: %s",
					               p->cfg.delivery_timeout_ms,
					               b->error.message);
				else
					tape_error_set(&b->error, -ETIMEDOUT,
					               "delivery to \"%s\" partition %d timed out "
					               "after %d ms: %s",
					               t->name, j, p->cfg.delivery_timeout_ms,
					               has_leader(t, j)
					                   ? "its leader is not reachable"
					                   : "it has no leader");
				if (p->cfg.idempotent && b->attempts > 0)
					p->pid_reset = true; /* it may be in the log */
				fail(p, t, b);
			}
		}
	}
}

/* Step 2: the producer id (idempotent only). Returns whether batches may be sent. */
static bool producer_id_ready(struct tape_producer *p, int64_t now_ms)
{
	if (!p->cfg.idempotent)
		return true;
	if (p->pid_reset && p->in_flight == 0 && !p->pid_in_flight) {
		p->pid_reset = false;
		p->producer_id = -1;
		for (int32_t i = 0; i < p->topics_count; i++)
			for (int32_t j = 0; j < p->topics[i]->partitions_count; j++)
				p->topics[i]->queues[j].next_sequence = 0;
	}
	if (p->pid_reset)
		return false;
	if (p->producer_id < 0)
		request_producer_id(p, now_ms);
	return p->producer_id >= 0;
}

/* Seals and stamps b for sending; false when it failed instead. */
static bool prepare(struct tape_producer *p, struct ptopic *t, struct pbatch *b)
{
	if (b->open) {
		int rc = pbatch_seal(b, p->cfg.compression, p->cfg.compression_level);
		if (rc < 0) {
			tape_error_set(&b->error, rc, "cannot compress a batch for \"%s\": %s",
			               t->name, tape_strerror(rc));
			fail(p, t, b);
			return false;
		}
	}
	if (p->cfg.idempotent && b->producer_id != p->producer_id)
		pqueue_stamp(queue_of(t, b), b, p->producer_id, p->producer_epoch);
	return true;
}

/* Encodes and sends one Produce request with items[0..n) to c. */
static void send_produce(struct tape_producer *p, struct kconn *c, struct pitem *items, int32_t n,
                         int64_t now_ms)
{
	int16_t v = kconn_version(c, API_PRODUCE, PRODUCE_VERSION_MIN, PRODUCE_VERSION_MAX);
	struct preq *r = v >= 0 ? new_req(p, PREQ_PRODUCE, n) : NULL;
	struct buf *b = r ? kconn_request_begin(c, API_PRODUCE, v) : NULL;
	arena_reset(&p->arena);
	struct produce_request_topic *topics = arena_array(&p->arena, (size_t)n, sizeof(*topics));
	struct produce_request_partition *parts = arena_array(&p->arena, (size_t)n, sizeof(*parts));
	if (!b || !topics || !parts) {
		if (b)
			kconn_request_abort(c);
		if (r) {
			unlink_req(p, r);
			free(r);
		}
		for (int32_t i = 0; i < n; i++) {
			tape_error_set(&items[i].batch->error, v < 0 ? -TAPE_EVERSION : -ENOMEM,
			               "cannot produce to \"%s\": %s", items[i].topic->name,
			               v < 0 ? "the broker does not support Produce v3-7"
			                     : "out of memory");
			fail(p, items[i].topic, items[i].batch);
		}
		return;
	}
	/* Items arrive grouped by topic (the drain walks topic by topic). */
	int32_t tc = 0;
	for (int32_t i = 0; i < n; i++) {
		if (tc == 0 || topics[tc - 1].name.p != items[i].topic->name)
			topics[tc++] =
			    (struct produce_request_topic){ .name = kstr_from(items[i].topic->name),
				                            .partition_data = &parts[i] };
		topics[tc - 1].partition_data_count++;
		parts[i] = (struct produce_request_partition){
			.index = items[i].batch->partition,
			.records = { items[i].batch->wire, (int32_t)items[i].batch->wire_len },
		};
		r->items[i] = items[i];
	}
	r->count = n;
	struct produce_request req = {
		.transactional_id = KSTR_NULL,
		.acks = p->cfg.acks,
		.timeout_ms = p->cfg.produce_timeout_ms,
		.topic_data_count = tc,
		.topic_data = topics,
	};
	produce_request_encode(b, v, &req);
	for (int32_t i = 0; i < n; i++) {
		items[i].batch->in_flight = true;
		items[i].batch->attempts++;
		queue_of(items[i].topic, items[i].batch)->in_flight++;
		p->in_flight++;
	}
	int rc = kconn_request_end(c, p->cfg.acks != 0, now_ms, on_produce, r);
	if (rc < 0) /* nothing was queued: answer it here as a failure */
		on_produce(r, rc, NULL, v);
}

/* Step 3 for one leader: its sendable batches into requests of at most request_bytes_max. */
static void drain_leader(struct tape_producer *p, int32_t leader, struct kconn *c,
                         struct pitem *items, int64_t now_ms)
{
	int32_t n = 0;
	size_t bytes = REQUEST_OVERHEAD_BYTES;
	for (int32_t k = 0; k < p->topics_count; k++) {
		struct ptopic *t = p->topics[(p->rr + (uint32_t)k) % (uint32_t)p->topics_count];
		size_t topic_bytes = TOPIC_OVERHEAD_BYTES + strlen(t->name);
		bool topic_in = false;
		for (int32_t j = 0; j < t->partitions_count; j++) {
			if (!has_leader(t, j) || t->meta->partitions[j].leader_id != leader)
				continue;
			struct pbatch *b =
			    pqueue_sendable(&t->queues[j], now_ms, &p->rules, p->flushing);
			if (!b || !prepare(p, t, b))
				continue;
			size_t add =
			    b->wire_len + PARTITION_OVERHEAD_BYTES + (topic_in ? 0 : topic_bytes);
			if (n > 0 && bytes + add > (size_t)p->cfg.request_bytes_max) {
				send_produce(p, c, items, n, now_ms);
				if (!kconn_ready(c) ||
				    kconn_outstanding(c) >= (uint32_t)p->cfg.max_in_flight)
					return;
				n = 0;
				bytes = REQUEST_OVERHEAD_BYTES;
				topic_in = false;
				add = b->wire_len + PARTITION_OVERHEAD_BYTES + topic_bytes;
			}
			items[n++] = (struct pitem){ t, b };
			bytes += add;
			topic_in = true;
		}
	}
	if (n > 0)
		send_produce(p, c, items, n, now_ms);
}

/* Step 3: every leader with something to send and room on its connection. */
static void drain(struct tape_producer *p, int64_t now_ms)
{
	int32_t total = 0;
	for (int32_t i = 0; i < p->topics_count; i++)
		total += p->topics[i]->partitions_count;
	struct pitem *items = total ? malloc(sizeof(*items) * (size_t)total) : NULL;
	if (!items)
		return;
	/* Leaders seen in this pass, so each is drained once. */
	int32_t *done = malloc(sizeof(*done) * (size_t)total);
	int32_t done_count = 0;
	for (int32_t i = 0; done && i < p->topics_count; i++) {
		struct ptopic *t = p->topics[i];
		for (int32_t j = 0; j < t->partitions_count; j++) {
			if (!pqueue_sendable(&t->queues[j], now_ms, &p->rules, p->flushing))
				continue;
			if (!has_leader(t, j)) {
				cluster_want_topic(p->cl, t->name);
				continue;
			}
			int32_t leader = t->meta->partitions[j].leader_id;
			bool seen = false;
			for (int32_t k = 0; k < done_count && !seen; k++)
				seen = done[k] == leader;
			if (seen)
				continue;
			done[done_count++] = leader;
			struct kconn *c = cluster_conn(p->cl, leader, now_ms);
			if (c && kconn_outstanding(c) < (uint32_t)p->cfg.max_in_flight)
				drain_leader(p, leader, c, items, now_ms);
		}
	}
	p->rr++;
	free(done);
	free(items);
}

static void producer_run(struct tape_producer *p, int64_t now_ms)
{
	expire(p, now_ms);
	if (!p->fatal.code && producer_id_ready(p, now_ms))
		drain(p, now_ms);
}

/* When the producer next has work that only time brings (linger, a backoff, a delivery
 * timeout), or INT64_MAX. Partitions waiting on I/O (a connection, an answer, metadata) are
 * woken by that I/O instead. */
static int64_t next_wakeup(struct tape_producer *p, int64_t now_ms)
{
	int64_t t = INT64_MAX;
	if (p->cfg.idempotent && p->producer_id < 0 && !p->pid_in_flight)
		t = p->pid_retry_at_ms;
	for (int32_t i = 0; i < p->topics_count; i++) {
		struct ptopic *tp = p->topics[i];
		for (int32_t j = 0; j < tp->partitions_count; j++) {
			const struct pqueue *q = &tp->queues[j];
			if (q->head && !q->head->in_flight &&
			    q->head->created_ms + p->cfg.delivery_timeout_ms < t)
				t = q->head->created_ms + p->cfg.delivery_timeout_ms;
			int64_t r = pqueue_next_ready(q, &p->rules);
			if (r == INT64_MAX || !has_leader(tp, j))
				continue;
			if (r <= now_ms) {
				/* Ready now but not sent: waiting on its leader's connection. */
				struct cbroker *br =
				    cluster_broker(p->cl, tp->meta->partitions[j].leader_id);
				if (!br || !kconn_ready(&br->conn) ||
				    kconn_outstanding(&br->conn) >= (uint32_t)p->cfg.max_in_flight)
					continue;
			}
			t = r < t ? r : t;
		}
	}
	return t;
}

/* ---- the public calls ---------------------------------------------------------------------- */

int tape_producer_poll(struct tape_producer *p, int32_t timeout_ms)
{
	int64_t now = clock_mono_ms();
	int64_t until = now + (timeout_ms > 0 ? timeout_ms : 0);
	producer_run(p, now);
	int n = p->depth_delivering ? 0 : report(p);
	int64_t wake = next_wakeup(p, now);
	if (n > 0 || wake < until)
		until = n > 0 ? now : wake;
	cluster_poll(p->cl, until > now ? until - now : 0);
	producer_run(p, clock_mono_ms());
	if (!p->depth_delivering)
		n += report(p);
	return n;
}

int tape_producer_flush(struct tape_producer *p, int32_t timeout_ms, struct tape_error *err)
{
	tape_error_clear(err);
	int64_t deadline = clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	p->flushing = true;
	for (int64_t now = clock_mono_ms(); p->outstanding > 0 && now < deadline;
	     now = clock_mono_ms())
		tape_producer_poll(p, (int32_t)(deadline - now));
	p->flushing = false;
	if (p->outstanding > 0)
		return tape_error_set(err, -ETIMEDOUT, "%lld records not delivered within %d ms",
		                      (long long)p->outstanding, timeout_ms);
	return 0;
}

int64_t tape_producer_outstanding(const struct tape_producer *p)
{
	return p->outstanding;
}

int64_t tape_producer_failed(const struct tape_producer *p)
{
	return p->failed;
}

static int check_config(const struct tape_producer_config *c, struct tape_error *err)
{
	if (c->acks != -1 && c->acks != 0 && c->acks != 1)
		return tape_error_set(err, -TAPE_ECONFIG, "acks must be -1 (all), 0 or 1 (is %d)",
		                      c->acks);
	if (c->idempotent && c->acks != -1)
		return tape_error_set(err, -TAPE_ECONFIG, "an idempotent producer needs acks=all");
	if (c->compression < COMPRESSION_NONE || c->compression > COMPRESSION_ZSTD)
		return tape_error_set(err, -TAPE_ECONFIG, "unknown compression codec %d",
		                      c->compression);
	if (c->batch_bytes < RB_HEADER_BYTES || c->batch_bytes > (int64_t)CLIENT_BATCH_BYTES_MAX ||
	    c->batch_bytes > c->request_bytes_max)
		return tape_error_set(err, -TAPE_ECONFIG,
		                      "batch_bytes must be %d-%llu and at most request_bytes_max",
		                      RB_HEADER_BYTES, (unsigned long long)CLIENT_BATCH_BYTES_MAX);
	if (c->request_bytes_max > (int64_t)BATCH_BYTES_MAX)
		return tape_error_set(err, -TAPE_ECONFIG, "request_bytes_max must be at most %llu",
		                      (unsigned long long)BATCH_BYTES_MAX);
	if (c->max_in_flight < 1 || c->max_in_flight > CLIENT_IN_FLIGHT_MAX)
		return tape_error_set(err, -TAPE_ECONFIG, "max_in_flight must be 1-%d",
		                      CLIENT_IN_FLIGHT_MAX);
	if (c->linger_ms < 0 || c->produce_timeout_ms <= 0 || c->delivery_timeout_ms <= 0 ||
	    c->retries < 0 || c->max_block_ms < 0)
		return tape_error_set(err, -TAPE_ECONFIG,
		                      "linger_ms, retries and max_block_ms must be >= 0, the "
		                      "timeouts > 0");
	if (c->buffer_bytes < c->request_bytes_max ||
	    c->buffer_bytes > (int64_t)CLIENT_BUFFER_BYTES_MAX)
		return tape_error_set(err, -TAPE_ECONFIG,
		                      "buffer_bytes must be between request_bytes_max and %llu",
		                      (unsigned long long)CLIENT_BUFFER_BYTES_MAX);
	return 0;
}

int tape_producer_new(struct tape_client *cl, const struct tape_producer_config *cfg_in,
                      struct tape_producer **out, struct tape_error *err)
{
	struct tape_producer_config defaults;
	tape_producer_config_init(&defaults);
	const struct tape_producer_config *cfg = cfg_in ? cfg_in : &defaults;
	tape_error_clear(err);
	*out = NULL;
	int rc = check_config(cfg, err);
	if (rc < 0)
		return rc;
	struct tape_producer *p = calloc(1, sizeof(*p));
	if (!p)
		return tape_error_set(err, -ENOMEM, "out of memory");
	p->cl = cl;
	p->cfg = *cfg;
	p->rules = (struct pqueue_rules){
		.batch_bytes_max = (size_t)cfg->batch_bytes,
		.linger_ms = cfg->linger_ms,
		.in_flight_max = cfg->idempotent ? 1 : cfg->max_in_flight,
	};
	p->next_batch_id = 1;
	p->producer_id = -1;
	p->producer_epoch = -1;
	buf_init(&p->scratch, (size_t)cfg->request_bytes_max);
	arena_init(&p->arena, ARENA_BYTES);
	p->rng = (uint64_t)clock_mono_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)p;
	p->rng |= 1; /* xorshift never leaves 0 */
	*out = p;
	return 0;
}

void tape_producer_free(struct tape_producer *p)
{
	if (!p)
		return;
	for (struct preq *r = p->reqs; r; r = r->next)
		r->p = NULL; /* the connection frees each when it calls back */
	for (int32_t i = 0; i < p->topics_count; i++) {
		struct ptopic *t = p->topics[i];
		for (int32_t j = 0; j < t->partitions_count; j++) {
			while (t->queues[j].head) {
				struct pbatch *b = t->queues[j].head;
				b->maybe_written |= b->in_flight;
				tape_error_set(&b->error, -TAPE_ECLOSED,
				               "the producer was closed before the record was "
				               "delivered");
				fail(p, t, b);
			}
		}
	}
	report(p);
	for (int32_t i = 0; i < p->topics_count; i++) {
		free(p->topics[i]->queues);
		free(p->topics[i]->name);
		free(p->topics[i]);
	}
	free(p->topics);
	buf_free(&p->scratch);
	arena_free(&p->arena);
	free(p);
}
