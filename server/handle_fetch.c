/*
 * server/handle_fetch.c: Fetch v4-11 with long polling.
 *
 * A fetch evaluates its partitions one after another (each a log read of whole batches from
 * the batch holding fetch_offset, bounded by partition_max_bytes and what is left of
 * max_bytes, at least one batch for the first partition with data), up to the high
 * watermark. With fewer than min_bytes it waits (purgatory) until a partition progresses or
 * max_wait_ms passes, then evaluates again. The answer is encoded with holes where records
 * go. With socket.fetch.send=splice (the default) the holes become file ranges the
 * connection splices from the page cache through a pipe into the socket, so record bytes never
 * pass through the broker's memory; with read (or when the connection has no pipe) the records
 * are read from the page cache straight into their place in the response buffer, then sent
 * (see DESIGN §4).
 *
 * In a cluster only the leader answers (NOT_LEADER_OR_FOLLOWER elsewhere), a stale or future
 * current_leader_epoch gets FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH, and a follower's fetch
 * (replica_id >= 0) reads up to the written end and reports its position (server/replica.h).
 *
 * Sessions (KIP-227) are not kept: every fetch is a full fetch and the answer's session id is
 * 0, which both clients accept.
 */
#include "server/handlers.h"

#include "base/assert.h"
#include "base/diag.h"
#include "base/limits.h"
#include "log/log_read.h"
#include "protocol/errors.h"
#include "protocol/fetch.h"
#include "server/broker.h"
#include "server/kafka_error.h"
#include "server/purgatory.h"
#include "server/replica.h"

#include <string.h>

struct fetch_state;

struct fetch_part {
	struct log_read rd;
	struct waiter w;
	struct fetch_state *st;
	struct fetch_request_partition *in;
	struct fetch_response_partition *out;
	struct kstr topic;
	bool reading; /* rd holds pinned ranges */
};

struct fetch_copy {
	struct io_op op;
	struct fetch_state *st;
	uint8_t *dst;
	uint32_t len;
};

struct fetch_state {
	struct server *srv;
	struct request *req;
	struct fetch_request r;
	struct fetch_response resp;
	struct fetch_part *parts;
	size_t parts_count;
	size_t next; /* the part being read */
	uint64_t bytes;
	uint64_t budget;
	bool error_seen;
	bool waiting;
	bool expired;
	bool evaluating;
	bool answered;
	struct io_timer timer;
	bool timer_armed;
	struct io_op wake_op; /* the deferred look after a wake */
	bool wake_scheduled;
	unsigned copies_pending;
};

static void evaluate(struct fetch_state *st);

static void release_reads(struct fetch_state *st)
{
	for (size_t i = 0; i < st->parts_count; i++)
		if (st->parts[i].reading) {
			log_read_release(&st->parts[i].rd);
			st->parts[i].reading = false;
		}
}

static void stop_waiting(struct fetch_state *st)
{
	for (size_t i = 0; i < st->parts_count; i++)
		purgatory_remove(&st->parts[i].w);
	st->waiting = false;
}

static void copies_done(struct fetch_state *st)
{
	release_reads(st);
	request_finish(st->req);
}

static void copied(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct fetch_copy *c = container_of(op, struct fetch_copy, op);
	if (res < (int32_t)c->len) {
		/* The file shrank under the read (truncation): zeros read as no batch. */
		diag_warn("fetch: short read of %u bytes (%d)", c->len, res);
		memset(c->dst + (res > 0 ? res : 0), 0, c->len - (uint32_t)(res > 0 ? res : 0));
	}
	if (--c->st->copies_pending == 0)
		copies_done(c->st);
}

/* Answers with the body in memory and each partition's ranges as file ranges at its hole, to
 * be spliced by the connection. The reads stay pinned until the answer was sent: the segments
 * cannot go (retention) before their bytes did; fetch_release lets them go. */
static void encode_spliced(struct fetch_state *st, const struct buf *body, const size_t *holes,
                           size_t holes_count)
{
	struct request *req = st->req;
	size_t n = 0;
	for (size_t i = 0; i < st->parts_count; i++)
		if (st->parts[i].reading && st->parts[i].out->records.len > 0)
			n += st->parts[i].rd.ranges_count;
	struct resp_range *ranges = arena_array(&req->arena, n ? n : 1, sizeof(*ranges));
	if (!ranges) {
		request_fail(req, "out of memory");
		return;
	}
	size_t base = req->resp.len;
	buf_put(&req->resp, body->p, body->len);
	size_t k = 0, h = 0;
	uint64_t bytes = 0;
	for (size_t i = 0; i < st->parts_count; i++) {
		struct fetch_part *fp = &st->parts[i];
		ASSERT(!fp->out->records.p && fp->out->records.len >= 0 && h < holes_count);
		size_t at = base + holes[h++];
		if (!fp->reading || fp->out->records.len <= 0)
			continue;
		for (unsigned j = 0; j < fp->rd.ranges_count; j++, k++) {
			const struct log_range *range = &fp->rd.ranges[j];
			ranges[k] =
			    (struct resp_range){ at, range->fd, range->position, range->len };
			bytes += range->len;
		}
	}
	ASSERT(k == n && bytes == st->bytes);
	req->ranges = ranges;
	req->ranges_count = (unsigned)n;
	req->ranges_bytes = bytes;
	request_finish(req);
}

/* Encodes the answer and reads each partition's ranges into the holes (or leaves them to be
 * spliced into the socket, when the connection can). */
static void encode_answer(struct fetch_state *st)
{
	struct request *req = st->req;
	size_t holes_cap = st->parts_count;
	size_t *holes = arena_array(&req->arena, holes_cap ? holes_cap : 1, sizeof(size_t));
	size_t holes_count = 0;
	struct buf body;
	buf_init(&body, RESPONSE_BYTES_MAX);
	if (!holes) {
		request_fail(req, "out of memory");
		return;
	}
	fetch_response_encode(&body, req->hdr.api_version, &st->resp, holes, holes_cap,
	                      &holes_count);
	if (buf_ok(&body) && st->bytes > 0 && request_splice_ok(req)) {
		encode_spliced(st, &body, holes, holes_count);
		buf_free(&body);
		return;
	}
	size_t total = req->resp.len + body.len + st->bytes;
	uint8_t *base = buf_reserve(&req->resp, total - req->resp.len);
	if (!buf_ok(&body) || !base) {
		buf_free(&body);
		request_fail(req, "fetch response too large");
		return;
	}
	/* Lay out: body[0, hole 0), records 0, body[hole 0, hole 1), records 1, ... */
	uint8_t *dst = base;
	size_t from = 0, h = 0;
	unsigned copies = 0;
	struct fetch_copy *ops =
	    arena_array(&req->arena, st->parts_count * READ_RANGES_MAX + 1, sizeof(*ops));
	if (!ops) {
		buf_free(&body);
		request_fail(req, "out of memory");
		return;
	}
	for (size_t i = 0; i < st->parts_count; i++) {
		struct fetch_part *fp = &st->parts[i];
		/* Every partition's records are external, so each has a hole, empty ones too. */
		ASSERT(!fp->out->records.p && fp->out->records.len >= 0 && h < holes_count);
		memcpy(dst, body.p + from, holes[h] - from);
		dst += holes[h] - from;
		from = holes[h++];
		if (!fp->reading || fp->out->records.len <= 0)
			continue;
		for (unsigned k = 0; k < fp->rd.ranges_count; k++) {
			struct log_range *range = &fp->rd.ranges[k];
			struct fetch_copy *c = &ops[copies++];
			c->st = st;
			c->dst = dst;
			c->len = range->len;
			dst += range->len;
		}
	}
	memcpy(dst, body.p + from, body.len - from);
	dst += body.len - from;
	req->resp.len += (size_t)(dst - base);
	buf_free(&body);
	if (copies == 0) {
		copies_done(st);
		return;
	}
	st->copies_pending = copies;
	unsigned c = 0;
	for (size_t i = 0; i < st->parts_count; i++) {
		struct fetch_part *fp = &st->parts[i];
		if (!fp->reading || fp->out->records.len <= 0)
			continue;
		for (unsigned k = 0; k < fp->rd.ranges_count; k++, c++)
			reactor_read(st->srv->reactor, &ops[c].op, copied, fp->rd.ranges[k].fd,
			             ops[c].dst, ops[c].len, fp->rd.ranges[k].position);
	}
}

/* The timer must be disarmed before the request can go: its completion refers to st. */
static void answer(struct fetch_state *st)
{
	st->answered = true;
	stop_waiting(st);
	if (st->timer_armed) {
		reactor_timer_cancel(st->srv->reactor, &st->timer);
		return; /* expired() answers when the cancellation completes */
	}
	if (st->wake_scheduled)
		return; /* rewake() answers: it refers to st */
	encode_answer(st);
}

/* The deferred step after a wake: look again. */
static void rewake(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct fetch_state *st = container_of(op, struct fetch_state, wake_op);
	st->wake_scheduled = false;
	if (st->answered) {
		if (!st->timer_armed)
			encode_answer(st);
		return;
	}
	if (!st->waiting)
		return;
	stop_waiting(st);
	evaluate(st);
}

static void wake(struct waiter *w, bool gone)
{
	(void)gone; /* a partition that went away answers as unknown when read again */
	struct fetch_part *fp = container_of(w, struct fetch_part, w);
	struct fetch_state *st = fp->st;
	if (st->wake_scheduled)
		return;
	st->wake_scheduled = true;
	reactor_defer(st->srv->reactor, &st->wake_op, rewake, 0);
}

static void expired(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct fetch_state *st = container_of(op, struct fetch_state, timer.op);
	st->timer_armed = false;
	if (st->answered) {
		if (!st->wake_scheduled)
			encode_answer(st);
		return;
	}
	st->expired = true;
	if (st->waiting) {
		stop_waiting(st);
		evaluate(st);
	}
}

static void finish_part(struct fetch_part *fp)
{
	struct fetch_state *st = fp->st;
	fp->out->records.len = (int32_t)fp->rd.bytes;
	st->bytes += fp->rd.bytes;
	st->budget = st->budget > fp->rd.bytes ? st->budget - fp->rd.bytes : 0;
}

static void read_done(struct log_read *rd, int err)
{
	struct fetch_part *fp = container_of(rd, struct fetch_part, rd);
	struct fetch_state *st = fp->st;
	if (err < 0) {
		fp->out->error_code = kafka_error_from(err);
		st->error_seen = true;
		log_read_release(&fp->rd);
		fp->reading = false;
	} else {
		finish_part(fp);
	}
	st->next++;
	evaluate(st);
}

/* Starts the read of one partition; returns true when it finished without waiting. */
static bool read_part(struct fetch_state *st, struct fetch_part *fp)
{
	struct fetch_response_partition *out = fp->out;
	*out = (struct fetch_response_partition){
		.partition_index = fp->in->partition,
		.high_watermark = -1,
		.last_stable_offset = -1,
		.log_start_offset = -1,
		.aborted_transactions_count = 0,
		.preferred_read_replica = -1,
		.records = { NULL, 0 },
	};
	struct pslot *slot = broker_slot(st->srv->broker, fp->topic, fp->in->partition);
	if (!slot) {
		out->error_code = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
		st->error_seen = true;
		return true;
	}
	struct partition *p = slot->topic->parts[slot->index];
	int16_t code = replica_leader_check(st->srv, slot, fp->in->current_leader_epoch);
	if (code != KAFKA_NONE) {
		out->error_code = code;
		st->error_seen = true;
		return true;
	}
	int64_t hw = partition_high_watermark(p);
	out->high_watermark = out->last_stable_offset = hw;
	out->log_start_offset = partition_log_start_offset(p);
	/* Consumers read up to the high watermark, followers up to what is written. */
	int64_t limit = replica_read_limit(st->srv, p, st->r.replica_id);
	int64_t offset = fp->in->fetch_offset;
	/* Kafka's range is [log start, LEO]: an offset between the high watermark and the end
	 * is not out of range, it just has nothing to read yet. A new leader's high watermark
	 * can trail what its predecessor told consumers until its followers report in; resetting
	 * those consumers would be wrong. */
	if (offset < out->log_start_offset || offset > partition_log_end_offset(p)) {
		out->error_code = KAFKA_OFFSET_OUT_OF_RANGE;
		st->error_seen = true;
		return true;
	}
	if (st->budget == 0 || fp->in->partition_max_bytes <= 0 || offset >= limit)
		return true;
	uint64_t max = (uint64_t)fp->in->partition_max_bytes;
	if (max > st->budget)
		max = st->budget;
	memset(&fp->rd, 0, sizeof(fp->rd));
	fp->rd.offset = offset;
	fp->rd.max_bytes = (uint32_t)max;
	fp->rd.max_offset = limit;
	fp->rd.done = read_done;
	int rc = log_read_start(p, &fp->rd);
	if (rc < 0) {
		out->error_code = kafka_error_from(rc);
		st->error_seen = true;
		return true;
	}
	fp->reading = true;
	if (rc == 1)
		return false;
	finish_part(fp);
	return true;
}

static void evaluate(struct fetch_state *st)
{
	if (st->evaluating)
		return; /* a synchronous completion inside the loop below */
	st->evaluating = true;
	if (st->next == 0) {
		release_reads(st);
		st->bytes = 0;
		st->error_seen = false;
		st->budget = (uint64_t)(st->r.max_bytes > 0 ? st->r.max_bytes : 0);
		if (st->budget > RESPONSE_BYTES_MAX / 2)
			st->budget = RESPONSE_BYTES_MAX / 2;
	}
	while (st->next < st->parts_count) {
		if (!read_part(st, &st->parts[st->next])) {
			st->evaluating = false;
			return; /* read_done continues */
		}
		st->next++;
	}
	st->evaluating = false;
	st->next = 0;
	if (st->bytes >= (uint64_t)(st->r.min_bytes > 0 ? st->r.min_bytes : 0) || st->expired ||
	    st->error_seen || st->r.max_wait_ms <= 0 || st->srv->stopping) {
		answer(st);
		return;
	}
	/* Not enough yet: wait for any partition to progress, or for max_wait_ms. */
	release_reads(st);
	for (size_t i = 0; i < st->parts_count; i++) {
		struct topic *t = broker_topic(st->srv->broker, st->parts[i].topic);
		int32_t idx = st->parts[i].in->partition;
		if (t && idx >= 0 && idx < t->partitions_count)
			purgatory_add(&t->slots[idx], &st->parts[i].w);
	}
	st->waiting = true;
	if (!st->timer_armed) {
		int64_t wait = st->r.max_wait_ms;
		if (wait > REQUEST_WAIT_MS_MAX)
			wait = REQUEST_WAIT_MS_MAX;
		st->timer_armed = true;
		reactor_timer_start(st->srv->reactor, &st->timer, expired,
		                    (uint64_t)wait * 1000000u);
	}
}

static void fetch_release(struct request *req)
{
	struct fetch_state *st = req->state;
	stop_waiting(st);
	release_reads(st);
}

void handle_fetch(struct server *srv, struct request *req)
{
	struct fetch_state *st = arena_alloc(&req->arena, sizeof(*st));
	if (!st ||
	    fetch_request_decode(&req->body, &req->arena, req->hdr.api_version, &st->r) < 0) {
		request_fail(req, "malformed Fetch");
		return;
	}
	st->srv = srv;
	st->req = req;
	size_t n = 0;
	for (int32_t t = 0; t < st->r.topics_count; t++)
		n += (size_t)st->r.topics[t].partitions_count;
	/* A partition's state here (its log read, its answer, its hole, its copies: about 1 KiB)
	 * is far larger than the 16-28 bytes it takes in the frame, which is all that
	 * REQUEST_ARENA_FACTOR allows for: without this a fetch of more than ~4 partitions ran
	 * out of arena. The arena grows by exactly that state, so it stays bounded by the frame. */
	_Static_assert(sizeof(struct fetch_copy) >= sizeof(struct resp_range),
	               "the allowance for copies covers the ranges of a spliced answer");
	req->arena.limit +=
	    n * (sizeof(struct fetch_part) + sizeof(struct fetch_response_partition) +
	         sizeof(size_t) + READ_RANGES_MAX * sizeof(struct fetch_copy));
	st->parts = arena_array(&req->arena, n ? n : 1, sizeof(*st->parts));
	st->resp.responses_count = st->r.topics_count;
	st->resp.responses =
	    arena_array(&req->arena, (size_t)st->r.topics_count, sizeof(*st->resp.responses));
	if (!st->parts || (st->r.topics_count && !st->resp.responses)) {
		request_fail(req, "out of memory");
		return;
	}
	size_t k = 0;
	for (int32_t t = 0; t < st->r.topics_count; t++) {
		struct fetch_request_topic *in = &st->r.topics[t];
		struct fetch_response_topic *out = &st->resp.responses[t];
		out->topic = in->topic;
		out->partitions_count = in->partitions_count;
		out->partitions = arena_array(&req->arena, (size_t)in->partitions_count,
		                              sizeof(*out->partitions));
		if (in->partitions_count && !out->partitions) {
			request_fail(req, "out of memory");
			return;
		}
		for (int32_t i = 0; i < in->partitions_count; i++, k++) {
			struct fetch_part *fp = &st->parts[k];
			fp->st = st;
			fp->in = &in->partitions[i];
			fp->out = &out->partitions[i];
			fp->topic = in->topic;
			fp->w.wake = wake;
		}
	}
	st->parts_count = n;
	req->state = st;
	req->release = fetch_release;
	/* A follower's fetch offset is where its log ends: the leader's high watermark and ISR
	 * follow from it. */
	if (st->r.replica_id >= 0)
		for (size_t i = 0; i < n; i++) {
			struct pslot *slot = broker_slot(srv->broker, st->parts[i].topic,
			                                 st->parts[i].in->partition);
			if (slot)
				replica_follower_fetched(srv, slot, st->r.replica_id,
				                         st->parts[i].in->fetch_offset);
		}
	evaluate(st);
}
