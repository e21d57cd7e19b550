/*
 * server/handle_produce.c: Produce v3-7 (v0-2 are advertised for librdkafka's sake and
 * refused by dispatch). Each partition's records are appended straight from the request's
 * frame, stamped in place, without a copy; the frame lives until every append is done.
 *
 *   acks=0   no response; once the appends are done, any error closes the connection (the
 *            producer learns of it no other way, as with Kafka)
 *   acks=1   answered when the records are in the page cache (the append's done)
 *   acks=-1  answered when the high watermark passes them: on disk under flush.mode=fsync,
 *            written under interval and none (those modes trade durability away); a
 *            partition still waiting at timeout_ms answers REQUEST_TIMED_OUT. In a cluster
 *            the high watermark also waits for every in-sync replica (server/replica.h),
 *            the ISR must hold min.insync.replicas (else NOT_ENOUGH_REPLICAS, 19, before
 *            appending), and a partition that stops leading meanwhile answers
 *            NOT_LEADER_OR_FOLLOWER
 * A retried idempotent batch is answered with its original offsets once it is durable too.
 */
#include "server/handlers.h"

#include "base/assert.h"
#include "base/limits.h"
#include "log/partition.h"
#include "protocol/errors.h"
#include "protocol/produce.h"
#include "protocol/record_batch.h"
#include "server/broker.h"
#include "server/kafka_error.h"
#include "server/purgatory.h"
#include "server/replica.h"

struct produce_state;

struct produce_part {
	struct partition_append a; /* first: the append's callback finds the part */
	struct waiter w;
	struct produce_state *st;
	struct produce_response_partition *out;
	struct partition *part;
	struct pslot *slot;
	int32_t epoch; /* in a cluster: the leader epoch the append was made in */
	bool appending;
	bool waiting; /* linked in the purgatory, or unlinked by a deletion and not settled */
	bool gone;
};

struct produce_state {
	struct server *srv;
	struct request *req;
	struct produce_request r;
	struct produce_response resp;
	unsigned pending; /* parts not answered yet */
	unsigned appending;
	struct io_timer timer;
	bool timer_armed;
	bool timed_out;
	bool failed_any;
	struct io_op wake_op; /* settle(), deferred after wakes */
	bool wake_scheduled;
	size_t parts_count;
};

static void answer(struct produce_state *st)
{
	struct request *req = st->req;
	if (st->r.acks == 0) {
		if (st->failed_any)
			request_fail(req, "acks=0 produce failed");
		else
			request_finish_silent(req);
		return;
	}
	produce_response_encode(&req->resp, req->hdr.api_version, &st->resp);
	request_finish(req);
}

static void maybe_answer(struct produce_state *st)
{
	/* A settle() still scheduled refers to st: answer from there. */
	if (st->pending || st->appending || st->wake_scheduled)
		return;
	if (st->timer_armed) {
		/* The timer's completion answers, so nothing runs after the request is gone. */
		reactor_timer_cancel(st->srv->reactor, &st->timer);
		return;
	}
	answer(st);
}

static void part_done(struct produce_part *pp, int16_t code)
{
	purgatory_remove(&pp->w);
	pp->waiting = false;
	pp->out->error_code = code;
	if (code != KAFKA_NONE) {
		pp->out->base_offset = -1;
		pp->st->failed_any = true;
	} else if (pp->part) {
		pp->out->log_start_offset = partition_log_start_offset(pp->part);
	}
	pp->st->pending--;
}

/* acks=-1: satisfied once the high watermark passed the records. */
static bool durable(const struct produce_part *pp)
{
	return partition_high_watermark(pp->part) > pp->a.last_offset;
}

/* The deferred step after wakes: settle every part still waiting. */
static void settle(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct produce_state *st = container_of(op, struct produce_state, wake_op);
	st->wake_scheduled = false;
	struct produce_part *parts = st->req->state;
	for (size_t i = 0; i < st->parts_count; i++) {
		struct produce_part *pp = &parts[i];
		if (!pp->waiting)
			continue;
		if (pp->gone) {
			pp->part = NULL;
			part_done(pp, KAFKA_NOT_LEADER_OR_FOLLOWER);
		} else if (partition_failed(pp->part)) {
			part_done(pp, KAFKA_KAFKA_STORAGE_ERROR);
		} else if (!replica_still_leader(st->srv, pp->slot, pp->epoch)) {
			/* Leadership moved (or this broker is fenced): whether the records
			 * survive is the new leader's to say; the producer retries there. */
			part_done(pp, KAFKA_NOT_LEADER_OR_FOLLOWER);
		} else if (durable(pp)) {
			part_done(pp, replica_acks_all_check(st->srv, pp->slot));
		}
	}
	maybe_answer(st);
}

static void wake(struct waiter *w, bool gone)
{
	struct produce_part *pp = container_of(w, struct produce_part, w);
	struct produce_state *st = pp->st;
	if (gone)
		pp->gone = true;
	if (st->wake_scheduled)
		return;
	st->wake_scheduled = true;
	reactor_defer(st->srv->reactor, &st->wake_op, settle, 0);
}

static void appended(struct partition_append *a, int err)
{
	struct produce_part *pp = (struct produce_part *)a;
	struct produce_state *st = pp->st;
	pp->appending = false;
	st->appending--;
	if (err < 0) {
		part_done(pp, kafka_error_from(err));
	} else if (!replica_still_leader(st->srv, pp->slot, pp->epoch)) {
		part_done(pp, KAFKA_NOT_LEADER_OR_FOLLOWER);
	} else {
		pp->out->base_offset = a->base_offset;
		pp->out->log_append_time_ms = a->log_append_time;
		if (st->r.acks != -1)
			part_done(pp, KAFKA_NONE);
		else if (durable(pp))
			part_done(pp, replica_acks_all_check(st->srv, pp->slot));
		else if (st->timed_out)
			part_done(pp, KAFKA_REQUEST_TIMED_OUT);
		else {
			pp->waiting = true;
			purgatory_add(pp->slot, &pp->w);
		}
	}
	maybe_answer(st);
}

static void timed_out(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct produce_state *st = container_of(op, struct produce_state, timer.op);
	st->timer_armed = false;
	st->timed_out = true;
	/* Parts still waiting for durability give up; appends in flight finish first (their
	 * bytes are the request's frame). */
	struct produce_part *parts = st->req->state;
	size_t n = 0;
	for (int32_t t = 0; t < st->r.topic_data_count; t++)
		n += (size_t)st->r.topic_data[t].partition_data_count;
	for (size_t i = 0; i < n; i++)
		if (parts[i].waiting)
			part_done(&parts[i], KAFKA_REQUEST_TIMED_OUT);
	maybe_answer(st);
}

/* Refusals made before appending: what Kafka checks at the request level. */
static int16_t precheck(const struct produce_state *st, const struct kbytes *records)
{
	if (st->r.acks != 0 && st->r.acks != 1 && st->r.acks != -1)
		return KAFKA_INVALID_REQUIRED_ACKS;
	if (!kstr_is_null(st->r.transactional_id))
		return KAFKA_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
	if (records->len < RB_HEADER_BYTES)
		return KAFKA_CORRUPT_MESSAGE;
	/* zstd needs Produce v7 (KIP-110). */
	if (st->req->hdr.api_version < 7)
		for (int32_t pos = 0; pos + RB_HEADER_BYTES <= records->len;) {
			struct record_batch_header h;
			record_batch_header_read(records->p + pos, &h);
			if (record_batch_codec(&h) == 4)
				return KAFKA_UNSUPPORTED_COMPRESSION_TYPE;
			if (h.batch_length < RB_HEADER_BYTES - RB_LOG_OVERHEAD)
				break;
			pos += (int32_t)record_batch_size(&h);
		}
	return KAFKA_NONE;
}

void handle_produce(struct server *srv, struct request *req)
{
	struct produce_state *st = arena_alloc(&req->arena, sizeof(*st));
	if (!st ||
	    produce_request_decode(&req->body, &req->arena, req->hdr.api_version, &st->r) < 0) {
		request_fail(req, "malformed Produce");
		return;
	}
	st->srv = srv;
	st->req = req;
	size_t n = 0;
	for (int32_t t = 0; t < st->r.topic_data_count; t++)
		n += (size_t)st->r.topic_data[t].partition_data_count;
	struct produce_part *parts = arena_array(&req->arena, n, sizeof(*parts));
	st->resp.responses_count = st->r.topic_data_count;
	st->resp.responses =
	    arena_array(&req->arena, (size_t)st->r.topic_data_count, sizeof(*st->resp.responses));
	if ((n && !parts) || (st->r.topic_data_count && !st->resp.responses)) {
		request_fail(req, "out of memory");
		return;
	}
	req->state = parts;
	st->parts_count = n;
	st->pending = (unsigned)n;
	size_t k = 0;
	for (int32_t t = 0; t < st->r.topic_data_count; t++) {
		struct produce_request_topic *td = &st->r.topic_data[t];
		struct produce_response_topic *rt = &st->resp.responses[t];
		rt->name = td->name;
		rt->partition_responses_count = td->partition_data_count;
		rt->partition_responses = arena_array(&req->arena, (size_t)td->partition_data_count,
		                                      sizeof(*rt->partition_responses));
		if (td->partition_data_count && !rt->partition_responses) {
			request_fail(req, "out of memory");
			return;
		}
		for (int32_t i = 0; i < td->partition_data_count; i++, k++) {
			struct produce_part *pp = &parts[k];
			struct produce_request_partition *pd = &td->partition_data[i];
			pp->st = st;
			pp->w.wake = wake;
			pp->out = &rt->partition_responses[i];
			*pp->out = (struct produce_response_partition){
				.index = pd->index,
				.base_offset = -1,
				.log_append_time_ms = -1,
				.log_start_offset = -1,
			};
			int16_t code = precheck(st, &pd->records);
			struct pslot *slot = broker_slot(srv->broker, td->name, pd->index);
			if (code == KAFKA_NONE && !slot)
				code = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
			if (code != KAFKA_NONE) {
				part_done(pp, code);
				continue;
			}
			pp->slot = slot;
			pp->part = slot->topic->parts[slot->index];
			code = replica_produce_check(srv, pp->slot, st->r.acks, &pp->epoch);
			if (code != KAFKA_NONE) {
				part_done(pp, code);
				continue;
			}
			/* The frame is the connection's own memory: stamping in place is allowed.
			 */
			pp->a.batches = (uint8_t *)pd->records.p;
			pp->a.len = (uint32_t)pd->records.len;
			pp->a.origin = APPEND_CLIENT;
			pp->a.done = appended;
			int rc = partition_append(pp->part, &pp->a);
			if (rc < 0) {
				part_done(pp, kafka_error_from(rc));
				continue;
			}
			pp->appending = true;
			st->appending++;
		}
	}
	if (st->r.acks == -1 && (st->pending || st->appending)) {
		int64_t wait = st->r.timeout_ms > 0 ? st->r.timeout_ms : 0;
		if (wait > REQUEST_WAIT_MS_MAX)
			wait = REQUEST_WAIT_MS_MAX;
		st->timer_armed = true;
		reactor_timer_start(srv->reactor, &st->timer, timed_out, (uint64_t)wait * 1000000u);
	}
	maybe_answer(st);
}
