/*
 * replication/fetcher.c: the replica fetcher (states and rules in fetcher.h). Owns the
 * connections to leaders, the requests on them, and the decisions of Kafka's
 * ReplicaFetcherThread: where to truncate (by leader epoch, never by high watermark), what to
 * append, the follower's high watermark. It must not know the broker: the caller hands it
 * partitions and leader addresses, and hears back through callbacks.
 *
 * A connection (struct fetcher_leader) goes
 *
 *     DOWN --step: backoff over--> RESOLVING (getaddrinfo on a helper job) --> CONNECTING
 *       ^                                                                         |
 *       |                                                        connect_done     v
 *     CLOSING <--leader_fail: error, EOF, timeout, garbage---- REQUEST <--send_next-- READY
 *     (waits for its socket ops, then close)                     | answered          ^
 *                                                                v                   |
 *                                                             APPLYING --pending 0---+
 *
 * READY sends one request for every partition that is due: an OffsetForLeaderEpoch when any
 * partition is in TRUNCATE, else a Fetch. APPLYING lasts while appends and truncations
 * started by the answer run: they borrow the answer's bytes (records are appended straight
 * from the receive buffer), so the buffer is reused only after them. A leader left with no
 * partitions closes its connection and is freed from a deferred call once nothing of it is in
 * flight.
 *
 * Memory: per connection a receive buffer (grown to the largest answer, at most
 * REPLICA_RESPONSE_BYTES_MAX), a send buffer and an arena reset per request; nothing per
 * record or per batch.
 */
#include "replication/fetcher.h"

#include "base/arena.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/diag.h"
#include "base/endian.h"
#include "base/errors.h"
#include "base/limits.h"
#include "protocol/api.h"
#include "protocol/errors.h"
#include "protocol/fetch.h"
#include "protocol/header.h"
#include "protocol/offset_for_leader_epoch.h"
#include "protocol/record_batch.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FETCH_REQUEST_VERSION 11
#define EPOCH_REQUEST_VERSION 3
/* The first epoch query asks about the log's latest epoch, looked up when it is sent. */
#define QUERY_LATEST (-2)
/* The log said -TAPE_EBUSY (a roll, a checkpoint or retention job in flight): try again soon,
 * not after a whole error backoff. */
#define BUSY_RETRY_MS 20
/* The receive buffer's first size; it grows to the largest answer. */
#define RECV_INITIAL_BYTES (64 * KiB)
/* Send buffer limit: a request names each partition once (topic, a few ints). */
#define REQUEST_BYTES_MAX (16 * MiB)
/* The arena of one answer: its decoded form is at most this many times the frame. */
#define ANSWER_ARENA_FACTOR 8

enum leader_state { L_DOWN, L_RESOLVING, L_CONNECTING, L_READY, L_REQUEST, L_APPLYING, L_CLOSING };

struct fetcher_leader {
	struct replica_fetcher *f;
	struct fetcher_leader *next;
	int32_t id;
	char *host; /* owned */
	int port;
	struct fetcher_partition *parts;
	enum leader_state state;
	bool dying, freeing;
	int fd;
	unsigned sock_ops; /* connect, send, recv in flight */
	int64_t down_until_ms;
	/* resolving */
	struct io_job resolve_job;
	bool resolving;
	int resolve_rc;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct io_op connect_op, send_op, recv_op, free_op;
	struct io_timer timer; /* backoffs: wakes leader_step */
	int64_t timer_at_ms;
	struct io_timer req_timer; /* the answer's deadline (lazy: re-armed when early) */
	int64_t req_deadline_ms;
	/* the request in flight */
	int16_t api_key;
	int32_t correlation_id;
	struct buf out;
	size_t sent;
	uint8_t *in; /* owned */
	size_t in_len, in_cap, frame_bytes;
	struct arena arena;
	struct fetcher_partition **sent_parts; /* in the arena; NULL once a partition leaves */
	int32_t sent_count;
	unsigned pending; /* appends and truncations started by the answer */
};

struct replica_fetcher {
	struct reactor *r;
	struct fetcher_config cfg;
	char client_id[32];
	struct fetcher_leader *leaders;
	unsigned leaders_freeing; /* unlinked, their free deferred: f outlives them */
	bool destroying;
	void (*destroy_done)(void *);
	void *destroy_arg;
	struct io_op destroy_op;
};

static void leader_step(struct fetcher_leader *l);
static void leader_fail(struct fetcher_leader *l, int err);
static void leader_maybe_free(struct fetcher_leader *l);
static int attach(struct replica_fetcher *f, struct fetcher_partition *fp, int32_t leader_id,
                  const char *host, int port, int32_t epoch);

void fetcher_config_default(struct fetcher_config *cfg, int32_t broker_id)
{
	*cfg = (struct fetcher_config){
		.broker_id = broker_id,
		.max_wait_ms = 500,
		.min_bytes = 1,
		.max_bytes = 10 * 1024 * 1024,
		.partition_max_bytes = 1024 * 1024,
		.backoff_ms = 1000,
		.socket_timeout_ms = 30000,
	};
}

/* ---- partitions --------------------------------------------------------------------------- */

static void backoff(struct fetcher_partition *fp, int64_t ms)
{
	fp->backoff_until_ms = clock_mono_ms() + ms;
}

static void to_truncate(struct fetcher_partition *fp)
{
	fp->state = FETCHER_TRUNCATE;
	fp->query_epoch = QUERY_LATEST;
}

/* The leader refused: tell the caller, retry from the truncation phase after a backoff. */
static void leader_refused(struct fetcher_partition *fp, int16_t code)
{
	to_truncate(fp);
	backoff(fp, fp->leader->f->cfg.backoff_ms);
	if (fp->error)
		fp->error(fp, code);
}

/* The local log refused or failed. */
static void local_failed(struct fetcher_partition *fp, int err, const char *what)
{
	if (err == -TAPE_EBUSY) {
		backoff(fp, BUSY_RETRY_MS);
		return;
	}
	diag_warn("replica fetcher: %s-%d: %s: %s", fp->topic, fp->partition, what,
	          tape_strerror(err));
	leader_refused(fp,
	               err == -TAPE_EBADBATCH ? KAFKA_CORRUPT_MESSAGE : KAFKA_KAFKA_STORAGE_ERROR);
}

/* Returns whether progress was called. */
static bool set_hw(struct fetcher_partition *fp, int64_t leader_hw)
{
	int64_t leo = partition_log_end_offset(fp->part);
	int64_t hw = leader_hw < leo ? leader_hw : leo;
	if (hw < 0 || hw == partition_high_watermark(fp->part))
		return false;
	partition_set_high_watermark(fp->part, hw);
	if (fp->progress)
		fp->progress(fp);
	return true;
}

static void detach(struct fetcher_partition *fp)
{
	struct fetcher_leader *l = fp->leader;
	struct fetcher_partition **pp = &l->parts;
	while (*pp != fp)
		pp = &(*pp)->next;
	*pp = fp->next;
	if (fp->slot >= 0 && fp->slot < l->sent_count && l->sent_parts[fp->slot] == fp)
		l->sent_parts[fp->slot] = NULL;
	fp->slot = -1;
	fp->next = NULL;
	fp->leader = NULL;
	fp->state = FETCHER_IDLE;
	if (!l->parts)
		l->dying = true;
}

static void unfollow_deferred(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct fetcher_partition *fp = container_of(op, struct fetcher_partition, done_op);
	void (*done)(struct fetcher_partition *) = fp->unfollow_done;
	fp->unfollow_done = NULL;
	if (done)
		done(fp);
}

/* An append or truncation of fp ended: apply what was asked meanwhile, move the leader on. */
static void op_finished(struct fetcher_partition *fp)
{
	struct fetcher_leader *l = fp->leader;
	struct replica_fetcher *f = l->f;
	fp->busy = false;
	ASSERT(l->pending > 0);
	l->pending--;
	if (fp->leaving) {
		fp->leaving = false;
		detach(fp);
		if (fp->unfollow_done)
			reactor_defer(f->r, &fp->done_op, unfollow_deferred, 0);
	} else if (fp->refollow) {
		fp->refollow = false;
		detach(fp);
		if (attach(f, fp, fp->next_leader_id, fp->next_host, fp->next_port,
		           fp->next_epoch) < 0 &&
		    fp->error)
			fp->error(fp, KAFKA_UNKNOWN_SERVER_ERROR); /* out of memory: unfollowed */
		free(fp->next_host);
		fp->next_host = NULL;
	}
	if (l->pending == 0 && l->state == L_APPLYING)
		l->state = L_READY;
	leader_step(l);
	leader_maybe_free(l);
}

static void truncated(void *arg, int err)
{
	struct fetcher_partition *fp = arg;
	if (err < 0)
		local_failed(fp, err, "truncation");
	else if (fp->progress && !fp->leaving)
		fp->progress(fp);
	op_finished(fp);
}

static void appended(struct partition_append *a, int err)
{
	struct fetcher_partition *fp = container_of(a, struct fetcher_partition, app);
	if (err < 0)
		local_failed(fp, err, "append");
	else if (!fp->leaving && !set_hw(fp, fp->leader_hw) && fp->progress)
		fp->progress(fp);
	op_finished(fp);
}

static void start_truncation(struct fetcher_partition *fp, int64_t offset, bool fully)
{
	int rc = fully ? partition_truncate_fully(fp->part, offset, truncated, fp)
	               : partition_truncate_to(fp->part, offset, truncated, fp);
	if (rc < 0) {
		local_failed(fp, rc, "truncation");
		to_truncate(fp);
		return;
	}
	diag_info("replica fetcher: %s-%d: truncating to offset %lld%s", fp->topic, fp->partition,
	          (long long)offset, fully ? " (the log restarts there)" : "");
	fp->busy = true;
	fp->leader->pending++;
}

/* ---- answers ------------------------------------------------------------------------------ */

/* The largest epoch of our log below epoch, or -1. */
static int32_t epoch_before(const struct partition *part, int32_t epoch)
{
	const struct leader_epoch_cache *c = partition_epochs(part);
	int32_t best = -1;
	for (size_t i = 0; i < c->count && c->entries[i].epoch < epoch; i++)
		best = c->entries[i].epoch;
	return best;
}

/* One partition's OffsetForLeaderEpoch answer (KIP-279's follower rules). */
static void epoch_answered(struct fetcher_partition *fp,
                           const struct offset_for_leader_epoch_response_partition *pr)
{
	if (pr->error_code != KAFKA_NONE) {
		leader_refused(fp, pr->error_code);
		return;
	}
	struct partition *part = fp->part;
	int32_t asked = fp->query_epoch;
	int64_t leo = partition_log_end_offset(part);
	int64_t target;
	if (pr->leader_epoch < 0 || pr->end_offset < 0) {
		/* The leader knows nothing as old (or new) as our epoch: none of that epoch's
		 * records can be on it. Ask about our epoch before it; with none left, nothing of
		 * ours is known to the leader. */
		int32_t before = asked >= 0 ? epoch_before(part, asked) : -1;
		if (before >= 0) {
			fp->query_epoch = before;
			return;
		}
		target = partition_log_start_offset(part);
	} else if (pr->leader_epoch > asked) {
		diag_warn("replica fetcher: %s-%d: asked epoch %d, answered %d", fp->topic,
		          fp->partition, asked, pr->leader_epoch);
		leader_refused(fp, KAFKA_UNKNOWN_SERVER_ERROR);
		return;
	} else {
		int32_t ours;
		int64_t our_end;
		partition_epoch_end_offset(part, pr->leader_epoch, &ours, &our_end);
		if (ours >= 0 && ours != pr->leader_epoch) {
			/* We lack the leader's epoch: agree on an older one first. */
			fp->query_epoch = ours;
			return;
		}
		target = pr->end_offset;
		if (ours >= 0 && our_end < target)
			target = our_end;
	}
	fp->state = FETCHER_FETCH;
	if (target < leo)
		start_truncation(fp, target, false);
}

/* Skips whole batches below the LEO; returns the position of the first kept one and sets
 * *end to the end of the last whole batch (a trailing partial batch is dropped). */
static uint32_t whole_batches(const uint8_t *p, uint32_t len, int64_t leo, uint32_t *end,
                              int64_t *first_base)
{
	uint32_t start = 0, pos = 0;
	*first_base = -1;
	while (len - pos >= RB_HEADER_BYTES) {
		int32_t length = (int32_t)load_be32(p + pos + RB_BATCH_LENGTH);
		if (length < RB_HEADER_BYTES - RB_LOG_OVERHEAD ||
		    (uint64_t)length + RB_LOG_OVERHEAD > len - pos)
			break;
		int64_t base = (int64_t)load_be64(p + pos + RB_BASE_OFFSET);
		int64_t last = base + (int32_t)load_be32(p + pos + RB_LAST_OFFSET_DELTA);
		pos += (uint32_t)length + RB_LOG_OVERHEAD;
		if (last < leo && *first_base < 0)
			start = pos;
		else if (*first_base < 0)
			*first_base = base;
	}
	*end = pos;
	return start;
}

static void fetch_answered(struct fetcher_leader *l, struct fetcher_partition *fp,
                           const struct fetch_response_partition *pr)
{
	struct partition *part = fp->part;
	int64_t leo = partition_log_end_offset(part);
	if (pr->error_code == KAFKA_OFFSET_OUT_OF_RANGE) {
		if (pr->log_start_offset > leo) {
			start_truncation(fp, pr->log_start_offset, true); /* below its log start */
			return;
		}
		/* Above its end (or its high watermark): find the divergence again, not at once. */
		to_truncate(fp);
		backoff(fp, l->f->cfg.backoff_ms);
		return;
	}
	if (pr->error_code != KAFKA_NONE) {
		leader_refused(fp, pr->error_code);
		return;
	}
	if (pr->records.len <= 0) {
		set_hw(fp, pr->high_watermark);
		return;
	}
	uint32_t end;
	int64_t base;
	uint32_t start = whole_batches(pr->records.p, (uint32_t)pr->records.len, leo, &end, &base);
	if (base < 0) {
		set_hw(fp, pr->high_watermark);
		return;
	}
	if (base != leo) {
		if (base < leo && leo == partition_log_start_offset(part)) {
			/* An empty log restarted inside the leader's first batch: start at it. */
			start_truncation(fp, base, true);
			return;
		}
		diag_warn("replica fetcher: %s-%d: the leader sent a batch at %lld for LEO %lld",
		          fp->topic, fp->partition, (long long)base, (long long)leo);
		to_truncate(fp);
		backoff(fp, l->f->cfg.backoff_ms);
		return;
	}
	/* The answer is ours (the receive buffer): the log reads the batches in place. */
	uint8_t *p = l->in + (pr->records.p - l->in);
	fp->app = (struct partition_append){
		.batches = p + start,
		.len = end - start,
		.origin = APPEND_REPLICA,
		.done = appended,
	};
	fp->leader_hw = pr->high_watermark;
	int rc = partition_append(part, &fp->app);
	if (rc < 0) {
		local_failed(fp, rc, "append");
		return;
	}
	fp->busy = true;
	l->pending++;
}

/* The answer's partition for sent slot i: the same index when answers keep the request's
 * order (they do), else found by name. */
static struct fetcher_partition *sent_match(struct fetcher_leader *l, int32_t *hint,
                                            struct kstr topic, int32_t partition)
{
	for (int32_t k = 0; k < l->sent_count; k++) {
		int32_t i = (*hint + k) % l->sent_count;
		struct fetcher_partition *fp = l->sent_parts[i];
		if (fp && fp->partition == partition && kstr_eq(topic, fp->topic)) {
			*hint = i + 1;
			return fp;
		}
	}
	return NULL;
}

static int apply_epochs(struct fetcher_leader *l, struct cursor *c)
{
	struct offset_for_leader_epoch_response resp;
	int rc =
	    offset_for_leader_epoch_response_decode(c, &l->arena, EPOCH_REQUEST_VERSION, &resp);
	if (rc < 0)
		return rc;
	int32_t hint = 0;
	for (int32_t t = 0; t < resp.topics_count; t++)
		for (int32_t i = 0; i < resp.topics[t].partitions_count; i++) {
			const struct offset_for_leader_epoch_response_partition *pr =
			    &resp.topics[t].partitions[i];
			struct fetcher_partition *fp =
			    sent_match(l, &hint, resp.topics[t].topic, pr->partition);
			if (fp && fp->state == FETCHER_TRUNCATE && !fp->busy)
				epoch_answered(fp, pr);
		}
	return 0;
}

static int apply_fetch(struct fetcher_leader *l, struct cursor *c)
{
	struct fetch_response resp;
	int rc = fetch_response_decode(c, &l->arena, FETCH_REQUEST_VERSION, &resp);
	if (rc < 0)
		return rc;
	if (resp.error_code != KAFKA_NONE) {
		for (int32_t i = 0; i < l->sent_count; i++)
			if (l->sent_parts[i] && !l->sent_parts[i]->busy)
				leader_refused(l->sent_parts[i], resp.error_code);
		return 0;
	}
	int32_t hint = 0;
	for (int32_t t = 0; t < resp.responses_count; t++)
		for (int32_t i = 0; i < resp.responses[t].partitions_count; i++) {
			const struct fetch_response_partition *pr =
			    &resp.responses[t].partitions[i];
			struct fetcher_partition *fp =
			    sent_match(l, &hint, resp.responses[t].topic, pr->partition_index);
			if (fp && fp->state == FETCHER_FETCH && !fp->busy)
				fetch_answered(l, fp, pr);
		}
	return 0;
}

/* A whole answer frame is in l->in. */
static void answered(struct fetcher_leader *l)
{
	struct cursor c;
	cursor_init(&c, l->in + FRAME_SIZE_BYTES, l->frame_bytes - FRAME_SIZE_BYTES);
	int32_t correlation_id;
	if (response_header_decode(&c, false, &correlation_id) < 0 ||
	    correlation_id != l->correlation_id) {
		leader_fail(l, -TAPE_EPROTO);
		return;
	}
	l->state = L_APPLYING;
	l->pending = 0;
	int rc = l->api_key == API_FETCH ? apply_fetch(l, &c) : apply_epochs(l, &c);
	for (int32_t i = 0; i < l->sent_count; i++)
		if (l->sent_parts[i])
			l->sent_parts[i]->slot = -1;
	l->sent_count = 0;
	if (rc < 0) {
		/* Nothing was started from a body that did not decode. */
		ASSERT(l->pending == 0);
		l->state = L_READY;
		leader_fail(l, rc);
		return;
	}
	if (l->pending == 0 && l->state == L_APPLYING)
		l->state = L_READY;
	leader_step(l);
}

/* ---- requests ----------------------------------------------------------------------------- */

static bool due(const struct fetcher_partition *fp, enum fetcher_partition_state want,
                int64_t now_ms)
{
	return fp->state == want && !fp->busy && !fp->leaving && !fp->refollow &&
	       fp->backoff_until_ms <= now_ms;
}

/* Topic index of each due partition (grouped by name), in the arena. */
static int32_t group_topics(struct fetcher_leader *l, const char ***names, int32_t **counts)
{
	int32_t n = l->sent_count, topics = 0;
	*names = arena_array(&l->arena, (size_t)n, sizeof(**names));
	*counts = arena_array(&l->arena, (size_t)n, sizeof(**counts));
	if (!*names || !*counts)
		return -1;
	for (int32_t i = 0; i < n; i++) {
		const char *t = l->sent_parts[i]->topic;
		int32_t k = 0;
		while (k < topics && strcmp((*names)[k], t) != 0)
			k++;
		if (k == topics)
			(*names)[topics++] = t;
		(*counts)[k]++;
	}
	return topics;
}

static void encode_epoch_request(struct fetcher_leader *l, const char **names, int32_t topics,
                                 const int32_t *counts)
{
	struct offset_for_leader_epoch_request r = { .replica_id = l->f->cfg.broker_id };
	r.topics_count = topics;
	r.topics = arena_array(&l->arena, (size_t)topics, sizeof(*r.topics));
	for (int32_t k = 0; r.topics && k < topics; k++) {
		r.topics[k].topic = kstr_from(names[k]);
		r.topics[k].partitions =
		    arena_array(&l->arena, (size_t)counts[k], sizeof(*r.topics[k].partitions));
		if (!r.topics[k].partitions) {
			buf_fail(&l->out);
			return;
		}
	}
	if (!r.topics) {
		buf_fail(&l->out);
		return;
	}
	for (int32_t i = 0; i < l->sent_count; i++) {
		struct fetcher_partition *fp = l->sent_parts[i];
		int32_t k = 0;
		while (strcmp(names[k], fp->topic) != 0)
			k++;
		if (fp->query_epoch == QUERY_LATEST)
			fp->query_epoch = leader_epoch_latest(partition_epochs(fp->part));
		r.topics[k].partitions[r.topics[k].partitions_count++] =
		    (struct offset_for_leader_epoch_request_partition){
			    .partition = fp->partition,
			    .current_leader_epoch = fp->leader_epoch,
			    .leader_epoch = fp->query_epoch,
		    };
	}
	offset_for_leader_epoch_request_encode(&l->out, EPOCH_REQUEST_VERSION, &r);
}

static void encode_fetch_request(struct fetcher_leader *l, const char **names, int32_t topics,
                                 const int32_t *counts)
{
	const struct fetcher_config *cfg = &l->f->cfg;
	struct fetch_request r = {
		.replica_id = cfg->broker_id,
		.max_wait_ms = cfg->max_wait_ms,
		.min_bytes = cfg->min_bytes,
		.max_bytes = cfg->max_bytes,
		.isolation_level = 0,
		.session_id = 0,
		.session_epoch = -1,
		.rack_id = KSTR(""),
	};
	r.topics_count = topics;
	r.topics = arena_array(&l->arena, (size_t)topics, sizeof(*r.topics));
	for (int32_t k = 0; r.topics && k < topics; k++) {
		r.topics[k].topic = kstr_from(names[k]);
		r.topics[k].partitions =
		    arena_array(&l->arena, (size_t)counts[k], sizeof(*r.topics[k].partitions));
		if (!r.topics[k].partitions) {
			buf_fail(&l->out);
			return;
		}
	}
	if (!r.topics) {
		buf_fail(&l->out);
		return;
	}
	for (int32_t i = 0; i < l->sent_count; i++) {
		struct fetcher_partition *fp = l->sent_parts[i];
		int32_t k = 0;
		while (strcmp(names[k], fp->topic) != 0)
			k++;
		r.topics[k].partitions[r.topics[k].partitions_count++] =
		    (struct fetch_request_partition){
			    .partition = fp->partition,
			    .current_leader_epoch = fp->leader_epoch,
			    .fetch_offset = partition_log_end_offset(fp->part),
			    .log_start_offset = partition_log_start_offset(fp->part),
			    .partition_max_bytes = cfg->partition_max_bytes,
		    };
	}
	fetch_request_encode(&l->out, FETCH_REQUEST_VERSION, &r);
}

static void send_more(struct fetcher_leader *l);
static void recv_more(struct fetcher_leader *l);

static void req_timer_done(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct fetcher_leader *l = container_of(op, struct fetcher_leader, req_timer.op);
	if (l->state == L_REQUEST) {
		int64_t left = l->req_deadline_ms - clock_mono_ms();
		if (left <= 0)
			leader_fail(l, -ETIMEDOUT);
		else
			reactor_timer_start(l->f->r, &l->req_timer, req_timer_done,
			                    (uint64_t)left * 1000000u);
	}
	leader_maybe_free(l);
}

/* Sends one request for the partitions that are due; returns false when none is. */
static bool send_next(struct fetcher_leader *l, int64_t now_ms)
{
	enum fetcher_partition_state want = FETCHER_FETCH;
	int32_t n = 0;
	for (struct fetcher_partition *fp = l->parts; fp; fp = fp->next)
		if (due(fp, FETCHER_TRUNCATE, now_ms))
			want = FETCHER_TRUNCATE;
	for (struct fetcher_partition *fp = l->parts; fp; fp = fp->next)
		n += due(fp, want, now_ms);
	if (n == 0)
		return false;
	arena_reset(&l->arena);
	l->sent_parts = arena_array(&l->arena, (size_t)n, sizeof(*l->sent_parts));
	if (!l->sent_parts) {
		leader_fail(l, -ENOMEM);
		return true;
	}
	l->sent_count = 0;
	for (struct fetcher_partition *fp = l->parts; fp; fp = fp->next)
		if (due(fp, want, now_ms)) {
			fp->slot = l->sent_count;
			l->sent_parts[l->sent_count++] = fp;
		}
	const char **names;
	int32_t *counts;
	int32_t topics = group_topics(l, &names, &counts);
	l->api_key = want == FETCHER_FETCH ? API_FETCH : API_OFFSET_FOR_LEADER_EPOCH;
	l->correlation_id++;
	buf_clear(&l->out);
	size_t size_pos = buf_skip(&l->out, FRAME_SIZE_BYTES);
	struct request_header h = {
		.api_key = l->api_key,
		.api_version =
		    want == FETCHER_FETCH ? FETCH_REQUEST_VERSION : EPOCH_REQUEST_VERSION,
		.correlation_id = l->correlation_id,
		.client_id = kstr_from(l->f->client_id),
	};
	request_header_encode(&l->out, &h);
	if (topics < 0)
		buf_fail(&l->out);
	else if (want == FETCHER_FETCH)
		encode_fetch_request(l, names, topics, counts);
	else
		encode_epoch_request(l, names, topics, counts);
	if (!buf_ok(&l->out)) {
		leader_fail(l, -ENOMEM);
		return true;
	}
	buf_patch_i32(&l->out, size_pos, (int32_t)(l->out.len - FRAME_SIZE_BYTES));
	l->state = L_REQUEST;
	l->sent = 0;
	l->in_len = 0;
	l->frame_bytes = 0;
	l->req_deadline_ms = now_ms + l->f->cfg.socket_timeout_ms +
	                     (want == FETCHER_FETCH ? l->f->cfg.max_wait_ms : 0);
	if (!l->req_timer.armed)
		reactor_timer_start(l->f->r, &l->req_timer, req_timer_done,
		                    (uint64_t)(l->req_deadline_ms - now_ms) * 1000000u);
	send_more(l);
	return true;
}

static void send_done(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct fetcher_leader *l = container_of(op, struct fetcher_leader, send_op);
	l->sock_ops--;
	if (l->state != L_REQUEST) {
		leader_fail(l, -ECANCELED); /* CLOSING: counts the op */
	} else if (res <= 0) {
		leader_fail(l, res < 0 ? res : -EPIPE);
	} else {
		l->sent += (size_t)res;
		if (l->sent < l->out.len)
			send_more(l);
		else
			recv_more(l);
	}
	leader_maybe_free(l);
}

static void send_more(struct fetcher_leader *l)
{
	l->sock_ops++;
	size_t left = l->out.len - l->sent;
	reactor_send(l->f->r, &l->send_op, send_done, l->fd, l->out.p + l->sent,
	             left > UINT32_MAX ? UINT32_MAX : (uint32_t)left, MSG_NOSIGNAL);
}

static void recv_done(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct fetcher_leader *l = container_of(op, struct fetcher_leader, recv_op);
	l->sock_ops--;
	if (l->state != L_REQUEST) {
		leader_fail(l, -ECANCELED);
		leader_maybe_free(l);
		return;
	}
	if (res <= 0) {
		leader_fail(l, res < 0 ? res : -ECONNRESET);
		leader_maybe_free(l);
		return;
	}
	l->in_len += (size_t)res;
	if (!l->frame_bytes && l->in_len >= FRAME_SIZE_BYTES) {
		int32_t size = (int32_t)load_be32(l->in);
		if (size < 4 || (uint64_t)size > REPLICA_RESPONSE_BYTES_MAX) {
			leader_fail(l, -TAPE_EPROTO);
			leader_maybe_free(l);
			return;
		}
		l->frame_bytes = (size_t)size + FRAME_SIZE_BYTES;
	}
	if (l->frame_bytes && l->in_len > l->frame_bytes) {
		leader_fail(l, -TAPE_EPROTO); /* bytes nobody asked for */
	} else if (l->frame_bytes && l->in_len == l->frame_bytes) {
		answered(l);
	} else {
		recv_more(l);
	}
	leader_maybe_free(l);
}

static void recv_more(struct fetcher_leader *l)
{
	size_t need = l->frame_bytes ? l->frame_bytes : RECV_INITIAL_BYTES;
	if (need > l->in_cap) {
		uint8_t *p = realloc(l->in, need);
		if (!p) {
			leader_fail(l, -ENOMEM);
			return;
		}
		l->in = p;
		l->in_cap = need;
	}
	/* Up to the frame's end once its size is known: the answer to one request is all that
	 * may come (more is refused in recv_done). */
	size_t room = (l->frame_bytes ? l->frame_bytes : l->in_cap) - l->in_len;
	l->sock_ops++;
	reactor_recv(l->f->r, &l->recv_op, recv_done, l->fd, l->in + l->in_len,
	             room > UINT32_MAX ? UINT32_MAX : (uint32_t)room, 0);
}

/* ---- the connection ----------------------------------------------------------------------- */

static void resolve_run(struct io_job *job)
{
	struct fetcher_leader *l = container_of(job, struct fetcher_leader, resolve_job);
	char port[16];
	snprintf(port, sizeof(port), "%d", l->port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
	int rc = getaddrinfo(l->host, port, &hints, &res);
	if (rc != 0) {
		l->resolve_rc = -EHOSTUNREACH;
		return;
	}
	memcpy(&l->addr, res->ai_addr, res->ai_addrlen);
	l->addrlen = res->ai_addrlen;
	l->resolve_rc = 0;
	freeaddrinfo(res);
}

static void connect_done(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct fetcher_leader *l = container_of(op, struct fetcher_leader, connect_op);
	l->sock_ops--;
	if (l->state != L_CONNECTING || res < 0) {
		leader_fail(l, res < 0 ? res : -ECANCELED);
	} else {
		diag_info("replica fetcher: connected to leader %d at %s:%d", l->id, l->host,
		          l->port);
		l->state = L_READY;
		leader_step(l);
	}
	leader_maybe_free(l);
}

static void resolve_done(struct io_job *job)
{
	struct fetcher_leader *l = container_of(job, struct fetcher_leader, resolve_job);
	l->resolving = false;
	if (l->dying) {
		l->state = L_DOWN;
		leader_maybe_free(l);
		return;
	}
	int fd = -1;
	if (l->resolve_rc == 0) {
		fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			l->resolve_rc = -errno;
	}
	if (fd < 0) {
		diag_warn("replica fetcher: leader %d at %s:%d: %s", l->id, l->host, l->port,
		          tape_strerror(l->resolve_rc));
		l->state = L_DOWN;
		l->down_until_ms = clock_mono_ms() + l->f->cfg.backoff_ms;
		leader_step(l);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	l->fd = fd;
	l->state = L_CONNECTING;
	l->sock_ops++;
	reactor_connect(l->f->r, &l->connect_op, connect_done, fd, (struct sockaddr *)&l->addr,
	                l->addrlen);
}

/* CLOSING ends once no socket operation is in flight. */
static void closed_check(struct fetcher_leader *l)
{
	if (l->state != L_CLOSING || l->sock_ops)
		return;
	close(l->fd);
	l->fd = -1;
	l->state = L_DOWN;
	l->down_until_ms = clock_mono_ms() + l->f->cfg.backoff_ms;
	leader_step(l);
}

static void leader_fail(struct fetcher_leader *l, int err)
{
	if (l->state == L_CLOSING) {
		closed_check(l);
		return;
	}
	if (l->state == L_DOWN || l->state == L_RESOLVING)
		return;
	ASSERT(l->state != L_APPLYING);
	if (!l->dying)
		diag_warn("replica fetcher: leader %d at %s:%d: %s; reconnecting", l->id, l->host,
		          l->port, tape_strerror(err));
	for (int32_t i = 0; i < l->sent_count; i++)
		if (l->sent_parts[i])
			l->sent_parts[i]->slot = -1;
	l->sent_count = 0;
	for (struct fetcher_partition *fp = l->parts; fp; fp = fp->next)
		if (!fp->busy)
			to_truncate(fp);
	if (l->fd >= 0)
		shutdown(l->fd, SHUT_RDWR);
	l->state = L_CLOSING;
	closed_check(l);
}

static void timer_done(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct fetcher_leader *l = container_of(op, struct fetcher_leader, timer.op);
	leader_step(l);
	leader_maybe_free(l);
}

/* Wakes leader_step at at_ms (or earlier). */
static void wake_at(struct fetcher_leader *l, int64_t at_ms, int64_t now_ms)
{
	if (l->timer.armed) {
		if (l->timer_at_ms > at_ms)
			reactor_timer_cancel(l->f->r, &l->timer); /* timer_done re-arms */
		return;
	}
	l->timer_at_ms = at_ms;
	int64_t ms = at_ms > now_ms ? at_ms - now_ms : 0;
	reactor_timer_start(l->f->r, &l->timer, timer_done, (uint64_t)ms * 1000000u + 1);
}

static void leader_step(struct fetcher_leader *l)
{
	if (l->freeing)
		return;
	int64_t now = clock_mono_ms();
	if (l->dying) {
		if (l->state == L_READY || l->state == L_REQUEST || l->state == L_CONNECTING)
			leader_fail(l, -ECANCELED);
		return;
	}
	if (l->state == L_DOWN) {
		if (now < l->down_until_ms) {
			wake_at(l, l->down_until_ms, now);
			return;
		}
		l->state = L_RESOLVING;
		l->resolving = true;
		l->resolve_job = (struct io_job){ .run = resolve_run, .done = resolve_done };
		reactor_offload(l->f->r, &l->resolve_job);
		return;
	}
	if (l->state != L_READY || send_next(l, now))
		return;
	int64_t soonest = INT64_MAX;
	for (struct fetcher_partition *fp = l->parts; fp; fp = fp->next)
		if (!fp->busy && fp->state != FETCHER_IDLE && fp->backoff_until_ms < soonest)
			soonest = fp->backoff_until_ms;
	if (soonest != INT64_MAX)
		wake_at(l, soonest, now);
}

static void leader_free_deferred(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct fetcher_leader *l = container_of(op, struct fetcher_leader, free_op);
	struct replica_fetcher *f = l->f;
	buf_free(&l->out);
	arena_free(&l->arena);
	free(l->in);
	free(l->host);
	free(l);
	/* The last of the leaders to go ends the destruction (several may be freed in one turn:
	 * the first of them must not free f under the others). */
	if (--f->leaders_freeing == 0 && f->destroying && !f->leaders) {
		f->destroy_done(f->destroy_arg);
		free(f);
	}
}

static void leader_maybe_free(struct fetcher_leader *l)
{
	if (!l->dying || l->freeing || l->parts || l->state != L_DOWN || l->sock_ops ||
	    l->resolving || l->timer.armed || l->req_timer.armed || l->pending)
		return;
	struct fetcher_leader **pp = &l->f->leaders;
	while (*pp != l)
		pp = &(*pp)->next;
	*pp = l->next;
	l->freeing = true;
	l->f->leaders_freeing++;
	reactor_defer(l->f->r, &l->free_op, leader_free_deferred, 0);
}

static struct fetcher_leader *leader_get(struct replica_fetcher *f, int32_t id, const char *host,
                                         int port)
{
	for (struct fetcher_leader *l = f->leaders; l; l = l->next)
		if (!l->dying && l->id == id && l->port == port && strcmp(l->host, host) == 0)
			return l;
	struct fetcher_leader *l = calloc(1, sizeof(*l));
	if (!l || !(l->host = strdup(host))) {
		free(l);
		return NULL;
	}
	l->f = f;
	l->id = id;
	l->port = port;
	l->fd = -1;
	l->state = L_DOWN;
	buf_init(&l->out, REQUEST_BYTES_MAX);
	arena_init(&l->arena, (size_t)REPLICA_RESPONSE_BYTES_MAX * ANSWER_ARENA_FACTOR);
	l->next = f->leaders;
	f->leaders = l;
	return l;
}

/* ---- the interface ------------------------------------------------------------------------ */

int fetcher_create(struct reactor *r, const struct fetcher_config *cfg,
                   struct replica_fetcher **out)
{
	if (cfg->broker_id < 0 || cfg->max_wait_ms < 0 || cfg->max_wait_ms > REQUEST_WAIT_MS_MAX ||
	    cfg->max_bytes <= 0 || (uint64_t)cfg->max_bytes > RESPONSE_BYTES_MAX ||
	    cfg->partition_max_bytes <= 0 || cfg->backoff_ms < 0 || cfg->socket_timeout_ms <= 0)
		return -EINVAL;
	struct replica_fetcher *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->r = r;
	f->cfg = *cfg;
	snprintf(f->client_id, sizeof(f->client_id), "tape-replica-%d", (int)cfg->broker_id);
	*out = f;
	return 0;
}

/* Returns 0 or -ENOMEM (the partition then stays unfollowed). */
static int attach(struct replica_fetcher *f, struct fetcher_partition *fp, int32_t leader_id,
                  const char *host, int port, int32_t epoch)
{
	struct fetcher_leader *l = leader_get(f, leader_id, host, port);
	if (!l)
		return -ENOMEM;
	fp->leader = l;
	fp->next = l->parts;
	l->parts = fp;
	fp->leader_epoch = epoch;
	fp->backoff_until_ms = 0;
	fp->slot = -1;
	to_truncate(fp);
	leader_step(l);
	return 0;
}

int fetcher_follow(struct replica_fetcher *f, struct fetcher_partition *fp, int32_t leader_id,
                   const char *host, int port, int32_t leader_epoch)
{
	if (f->destroying || !fp->topic || !fp->part || !host || port <= 0 || port > 65535 ||
	    leader_id < 0)
		return -EINVAL;
	if (fp->leader && fp->busy) {
		char *h = strdup(host);
		if (!h)
			return -ENOMEM;
		free(fp->next_host);
		fp->next_host = h;
		fp->next_leader_id = leader_id;
		fp->next_port = port;
		fp->next_epoch = leader_epoch;
		fp->refollow = true;
		fp->leaving = false;
		return 0;
	}
	if (!fp->leader) {
		fp->busy = fp->refollow = fp->leaving = false;
		fp->next_host = NULL;
		fp->unfollow_done = NULL;
	} else {
		struct fetcher_leader *old = fp->leader;
		detach(fp);
		leader_step(old);
		leader_maybe_free(old);
	}
	return attach(f, fp, leader_id, host, port, leader_epoch);
}

void fetcher_unfollow(struct replica_fetcher *f, struct fetcher_partition *fp,
                      void (*done)(struct fetcher_partition *fp))
{
	fp->unfollow_done = done;
	if (fp->leader && fp->busy) {
		fp->leaving = true;
		fp->refollow = false;
		free(fp->next_host);
		fp->next_host = NULL;
		return;
	}
	if (fp->leader) {
		struct fetcher_leader *l = fp->leader;
		detach(fp);
		leader_step(l);
		leader_maybe_free(l);
	}
	if (done)
		reactor_defer(f->r, &fp->done_op, unfollow_deferred, 0);
}

static void destroy_deferred(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct replica_fetcher *f = container_of(op, struct replica_fetcher, destroy_op);
	f->destroy_done(f->destroy_arg);
	free(f);
}

void fetcher_destroy(struct replica_fetcher *f, void (*done)(void *), void *arg)
{
	f->destroying = true;
	f->destroy_done = done;
	f->destroy_arg = arg;
	if (!f->leaders) {
		/* With a leader's free still deferred, that free ends the destruction. */
		if (!f->leaders_freeing)
			reactor_defer(f->r, &f->destroy_op, destroy_deferred, 0);
		return;
	}
	for (struct fetcher_leader *l = f->leaders, *next; l; l = next) {
		next = l->next;
		for (struct fetcher_partition *fp = l->parts, *fnext; fp; fp = fnext) {
			fnext = fp->next;
			fp->unfollow_done = NULL;
			free(fp->next_host);
			fp->next_host = NULL;
			fp->refollow = false;
			if (fp->busy)
				fp->leaving = true;
			else
				detach(fp);
		}
		if (l->timer.armed)
			reactor_timer_cancel(f->r, &l->timer);
		if (l->req_timer.armed)
			reactor_timer_cancel(f->r, &l->req_timer);
		leader_step(l);
		leader_maybe_free(l);
	}
}
