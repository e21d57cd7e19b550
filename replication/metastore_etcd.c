/*
 * replication/metastore_etcd.c: the metadata store on etcd, through its v3 JSON gateway.
 * Each operation is one gateway call (etcd.h) whose answer etcd_json.h decodes into the op's
 * arena. Knows nothing of curl, of JSON's spelling, or of the local store.
 *
 * Watches: one gateway stream per watch. The stream's watch follows the state below; every
 * arrow is taken on the reactor thread, in the function named.
 *
 *     STREAM --(stream ended: etcd died, no leader, endpoint down)--> WAIT   stream_done
 *     WAIT   --(timer: ETCD_WATCH_RETRY_MS, doubling to _MAX)-------> STREAM retry_done
 *     STREAM --(answer with compact_revision: history gone)--------> REREAD stream_message
 *     REREAD --(range of the prefix answered: delivered as a reset)-> STREAM reread_done
 *     REREAD --(range failed)---------------------------------------> WAIT   reread_done
 *     any    --(metastore_watch_stop)-------> STOPPED, freed once no call or timer is out
 *
 * A stream (re)opens from next_revision, the first revision not yet delivered, so a watch
 * resumes across etcd restarts and endpoint changes with every event delivered once. A watch
 * started "from now" pins next_revision to the header revision of etcd's "created" answer.
 */
#include "replication/metastore.h"

#include "base/assert.h"
#include "base/diag.h"
#include "base/errors.h"
#include "base/limits.h"
#include "replication/etcd.h"
#include "replication/etcd_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MS_NS (1000000ll)

struct metastore_etcd {
	struct metastore base;
	struct etcd *etcd;
	struct ewatch *watches; /* live and stopped-but-not-freed */
	size_t watches_count;   /* live */
	struct metastore_op *close_op;
};

struct ecall {
	struct etcd_call call;
	struct metastore_op *op;
	enum etcd_answer_kind kind;
};

enum ewatch_state { EW_STREAM, EW_WAIT, EW_REREAD, EW_STOPPED };

struct ewatch {
	struct metastore_etcd *me;
	struct metastore_watch *w; /* NULL once stopped */
	struct ewatch *next;
	enum ewatch_state state;
	uint8_t prefix[METASTORE_KEY_BYTES_MAX];
	size_t prefix_len;
	int64_t next_revision;
	struct etcd_call stream;
	bool stream_out;
	struct ecall reread;
	struct metastore_op reread_op;
	bool reread_out;
	struct io_timer retry;
	int64_t retry_ms;
};

#define ME(ms) ((struct metastore_etcd *)(ms))

/* ---- unary calls --------------------------------------------------------------------------- */

static void answer_to_op(struct ecall *ec, const struct etcd_answer *a)
{
	struct metastore_op *op = ec->op;
	op->revision = a->revision;
	switch (ec->kind) {
	case ETCD_RANGE:
		op->kvs = a->kvs;
		op->kvs_count = a->kvs_count;
		op->more = a->more;
		break;
	case ETCD_TXN:
		op->succeeded = a->succeeded;
		break;
	case ETCD_DELETE:
		op->deleted = a->deleted;
		break;
	case ETCD_LEASE_GRANT:
		op->lease_id = a->id;
		op->ttl_s = a->ttl_s;
		if (a->id <= 0 || a->ttl_s <= 0)
			op->err = -TAPE_EPROTO;
		break;
	case ETCD_LEASE_KEEPALIVE:
		/* An expired or unknown lease answers without a TTL (0 is left out). */
		op->lease_id = a->id;
		op->ttl_s = a->ttl_s;
		if (a->ttl_s <= 0)
			op->err = -ENOENT;
		break;
	default:
		break;
	}
}

static void ecall_done(struct etcd_call *c)
{
	struct ecall *ec = (struct ecall *)c;
	struct metastore_op *op = ec->op;
	op->err = c->err;
	if (c->err == 0) {
		struct etcd_answer a;
		int rc = etcd_json_decode(ec->kind, c->response ? c->response : "", c->response_len,
		                          &op->mem, &a);
		if (rc != 0) {
			diag_warn("metastore: etcd %s answered %ld with what is not its JSON: %s",
			          c->path, c->http_status, tape_strerror(rc));
			op->err = rc;
		} else if (a.error) {
			op->err = etcd_json_errno(&a);
			if (op->err == -TAPE_EMETASTORE)
				diag_warn("metastore: etcd %s: code %d: %s", c->path, a.code,
				          a.message);
		} else if (c->http_status != 200) {
			op->err = -TAPE_EMETASTORE;
		} else {
			answer_to_op(ec, &a);
		}
	}
	etcd_call_release(c);
	metastore_op_finish(op);
}

/* Sends body (owned; NULL: out of memory) to path for op. */
static void call_send(struct metastore_etcd *me, struct metastore_op *op, const char *path,
                      enum etcd_answer_kind kind, char *body)
{
	if (me->close_op) {
		free(body);
		return metastore_op_fail_later(op, -TAPE_ECLOSED);
	}
	if (!body)
		return metastore_op_fail_later(op, -ENOMEM);
	struct ecall *ec = arena_alloc(&op->mem, sizeof(*ec));
	if (!ec) {
		free(body);
		return metastore_op_fail_later(op, -ENOMEM);
	}
	ec->op = op;
	ec->kind = kind;
	ec->call.path = path;
	ec->call.body = body;
	ec->call.done = ecall_done;
	etcd_call_start(me->etcd, &ec->call);
}

static void etcd_range(struct metastore *ms, struct metastore_op *op, const uint8_t *key,
                       size_t key_len, bool prefix, size_t limit)
{
	call_send(ME(ms), op, "/v3/kv/range", ETCD_RANGE,
	          etcd_json_range(key, key_len, prefix, limit));
}

static void etcd_put(struct metastore *ms, struct metastore_op *op, const uint8_t *key,
                     size_t key_len, const uint8_t *value, size_t value_len, int64_t lease)
{
	call_send(ME(ms), op, "/v3/kv/put", ETCD_PUT,
	          etcd_json_put(key, key_len, value, value_len, lease));
}

static void etcd_del(struct metastore *ms, struct metastore_op *op, const uint8_t *key,
                     size_t key_len, bool prefix)
{
	call_send(ME(ms), op, "/v3/kv/deleterange", ETCD_DELETE,
	          etcd_json_delete(key, key_len, prefix));
}

static void etcd_txn(struct metastore *ms, struct metastore_op *op, const struct metastore_txn *t)
{
	call_send(ME(ms), op, "/v3/kv/txn", ETCD_TXN, etcd_json_txn(t));
}

static void etcd_lease_grant(struct metastore *ms, struct metastore_op *op, int64_t ttl_s)
{
	call_send(ME(ms), op, "/v3/lease/grant", ETCD_LEASE_GRANT, etcd_json_lease_grant(ttl_s));
}

static void etcd_lease_keepalive(struct metastore *ms, struct metastore_op *op, int64_t id)
{
	call_send(ME(ms), op, "/v3/lease/keepalive", ETCD_LEASE_KEEPALIVE, etcd_json_lease_id(id));
}

static void etcd_lease_revoke(struct metastore *ms, struct metastore_op *op, int64_t id)
{
	call_send(ME(ms), op, "/v3/lease/revoke", ETCD_LEASE_REVOKE, etcd_json_lease_id(id));
}

static void etcd_compact(struct metastore *ms, struct metastore_op *op, int64_t revision)
{
	call_send(ME(ms), op, "/v3/kv/compaction", ETCD_COMPACT, etcd_json_compact(revision));
}

/* ---- watches ------------------------------------------------------------------------------- */

static void stream_open(struct ewatch *ew);
static void ewatch_maybe_free(struct ewatch *ew);
static void closed(void *arg);

static void deliver(struct ewatch *ew, const struct metastore_watch_batch *b)
{
	if (ew->w)
		ew->w->fn(ew->w, b);
}

static void retry_done(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct ewatch *ew = (struct ewatch *)((char *)op - offsetof(struct ewatch, retry.op));
	if (ew->state == EW_STOPPED)
		return ewatch_maybe_free(ew);
	stream_open(ew);
}

static void wait_then_retry(struct ewatch *ew)
{
	ew->state = EW_WAIT;
	reactor_timer_start(ew->me->base.r, &ew->retry, retry_done, (uint64_t)ew->retry_ms * MS_NS);
	ew->retry_ms =
	    ew->retry_ms * 2 > ETCD_WATCH_RETRY_MS_MAX ? ETCD_WATCH_RETRY_MS_MAX : ew->retry_ms * 2;
}

static void reread_done(struct metastore_op *op)
{
	struct ewatch *ew = op->arg;
	ew->reread_out = false;
	if (ew->state == EW_STOPPED)
		return ewatch_maybe_free(ew);
	if (op->err != 0 || op->more) {
		diag_warn("metastore: re-reading a watch's prefix: %s",
		          op->err ? tape_strerror(op->err) : "too many keys");
		if (op->more)
			diag_error(
			    "metastore: a watch's prefix holds more than %u keys; not re-read",
			    (unsigned)METASTORE_RANGE_KVS_MAX);
		return wait_then_retry(ew);
	}
	/* op->mem is not ours inside done (metastore_op_finish moved it out): malloc. */
	struct metastore_event *evs = calloc(op->kvs_count ? op->kvs_count : 1, sizeof(*evs));
	if (!evs)
		return wait_then_retry(ew);
	for (size_t i = 0; i < op->kvs_count; i++)
		evs[i] = (struct metastore_event){ .type = METASTORE_EVENT_PUT, .kv = op->kvs[i] };
	ew->next_revision = op->revision + 1;
	struct metastore_watch_batch b = { .reset = true,
		                           .events = evs,
		                           .events_count = op->kvs_count,
		                           .revision = op->revision };
	deliver(ew, &b);
	free(evs);
	if (ew->state != EW_STOPPED)
		stream_open(ew);
}

/* The events this watch needed were compacted away: re-read the prefix. */
static void reread(struct ewatch *ew)
{
	ew->state = EW_REREAD;
	ew->reread_out = true;
	memset(&ew->reread_op, 0, sizeof(ew->reread_op));
	ew->reread_op.done = reread_done;
	ew->reread_op.arg = ew;
	metastore_op_begin(&ew->me->base, &ew->reread_op);
	call_send(ew->me, &ew->reread_op, "/v3/kv/range", ETCD_RANGE,
	          etcd_json_range(ew->prefix, ew->prefix_len, true, METASTORE_RANGE_KVS_MAX));
}

static void stream_message(struct etcd_call *c, const char *json, size_t len)
{
	struct ewatch *ew = (struct ewatch *)((char *)c - offsetof(struct ewatch, stream));
	if (ew->state != EW_STREAM)
		return;
	struct arena mem;
	arena_init(&mem, METASTORE_ANSWER_BYTES_MAX);
	struct etcd_answer a;
	int rc = etcd_json_decode(ETCD_WATCH, json, len, &mem, &a);
	diag_debug("metastore: watch message %.*s", (int)(len < 300 ? len : 300), json);
	if (rc != 0 || a.error) {
		/* "no leader" (hasleader), or garbage: drop this stream and open another. */
		diag_warn("metastore: watch stream: %s%s",
		          rc ? tape_strerror(rc) : "etcd: ", rc ? "" : a.message);
		etcd_call_cancel(ew->me->etcd, c);
	} else if (a.compact_revision) {
		ew->state = EW_REREAD; /* stream_done starts the re-read once this stream ended */
		etcd_call_cancel(ew->me->etcd, c);
	} else if (a.canceled) {
		etcd_call_cancel(ew->me->etcd, c);
	} else {
		if (a.created) {
			ew->retry_ms = ETCD_WATCH_RETRY_MS;
			if (ew->next_revision == 0)
				ew->next_revision = a.revision + 1;
		}
		/* Skip anything already delivered (a resumed stream starts at next_revision). */
		size_t first = 0;
		while (first < a.events_count &&
		       a.events[first].kv.mod_revision < ew->next_revision)
			first++;
		if (first < a.events_count) {
			int64_t last = a.events[a.events_count - 1].kv.mod_revision;
			ew->next_revision = last + 1;
			struct metastore_watch_batch b = { .events = a.events + first,
				                           .events_count = a.events_count - first,
				                           .revision = last };
			deliver(ew, &b);
		}
	}
	arena_free(&mem);
}

static void stream_done(struct etcd_call *c)
{
	struct ewatch *ew = (struct ewatch *)((char *)c - offsetof(struct ewatch, stream));
	ew->stream_out = false;
	etcd_call_release(c);
	if (ew->state == EW_STOPPED)
		return ewatch_maybe_free(ew);
	if (ew->state == EW_REREAD)
		return reread(ew);
	if (c->err != -ECANCELED)
		diag_info("metastore: watch stream ended (%s); reopening from revision %lld",
		          tape_strerror(c->err), (long long)ew->next_revision);
	wait_then_retry(ew);
}

static void stream_open(struct ewatch *ew)
{
	char *body = etcd_json_watch(ew->prefix, ew->prefix_len, ew->next_revision);
	if (!body)
		return wait_then_retry(ew);
	ew->state = EW_STREAM;
	memset(&ew->stream, 0, sizeof(ew->stream));
	ew->stream.path = "/v3/watch";
	ew->stream.body = body;
	ew->stream.stream = true;
	ew->stream.message = stream_message;
	ew->stream.done = stream_done;
	ew->stream_out = true;
	etcd_call_start(ew->me->etcd, &ew->stream);
}

static void ewatch_maybe_free(struct ewatch *ew)
{
	if (ew->stream_out || ew->reread_out || ew->retry.armed)
		return;
	struct metastore_etcd *me = ew->me;
	for (struct ewatch **pp = &me->watches; *pp; pp = &(*pp)->next)
		if (*pp == ew) {
			*pp = ew->next;
			break;
		}
	free(ew);
	if (me->close_op && !me->watches)
		etcd_close(me->etcd, closed, me);
}

static int etcd_watch_start(struct metastore *ms, struct metastore_watch *w)
{
	struct metastore_etcd *me = ME(ms);
	if (me->close_op)
		return -TAPE_ECLOSED;
	if (me->watches_count == METASTORE_WATCHES_MAX)
		return -ENOSPC;
	struct ewatch *ew = calloc(1, sizeof(*ew));
	if (!ew)
		return -ENOMEM;
	ew->me = me;
	ew->w = w;
	memcpy(ew->prefix, w->prefix, w->prefix_len);
	ew->prefix_len = w->prefix_len;
	ew->next_revision = w->next_revision;
	ew->retry_ms = ETCD_WATCH_RETRY_MS;
	ew->next = me->watches;
	me->watches = ew;
	me->watches_count++;
	w->impl = ew;
	stream_open(ew);
	return 0;
}

static void etcd_watch_stop(struct metastore *ms, struct metastore_watch *w)
{
	struct metastore_etcd *me = ME(ms);
	struct ewatch *ew = w->impl;
	ew->w = NULL;
	ew->state = EW_STOPPED;
	me->watches_count--;
	if (ew->stream_out)
		etcd_call_cancel(me->etcd, &ew->stream);
	if (ew->retry.armed)
		reactor_timer_cancel(me->base.r, &ew->retry);
	ewatch_maybe_free(ew);
}

/* ---- open and close ------------------------------------------------------------------------ */

static void closed(void *arg)
{
	struct metastore_etcd *me = arg;
	struct metastore_op *op = me->close_op;
	free(me);
	metastore_op_finish(op);
}

static void etcd_close_store(struct metastore *ms, struct metastore_op *op)
{
	struct metastore_etcd *me = ME(ms);
	ASSERT(!me->close_op);
	me->close_op = op;
	/* Watches end first; their streams and timers drain before the client closes. */
	for (struct ewatch *ew = me->watches, *next; ew; ew = next) {
		next = ew->next;
		struct metastore_watch *w = ew->w;
		if (!w)
			continue;
		metastore_watch_stop(w);
		struct metastore_watch_batch b = { .err = -TAPE_ECLOSED };
		w->fn(w, &b);
	}
	if (!me->watches)
		etcd_close(me->etcd, closed, me);
}

static const struct metastore_impl etcd_impl = {
	.kind = "etcd",
	.range = etcd_range,
	.put = etcd_put,
	.del = etcd_del,
	.txn = etcd_txn,
	.lease_grant = etcd_lease_grant,
	.lease_keepalive = etcd_lease_keepalive,
	.lease_revoke = etcd_lease_revoke,
	.compact = etcd_compact,
	.watch_start = etcd_watch_start,
	.watch_stop = etcd_watch_stop,
	.close = etcd_close_store,
};

int metastore_etcd_open(struct reactor *r, const char *endpoints, struct metastore **out)
{
	*out = NULL;
	struct metastore_etcd *me = calloc(1, sizeof(*me));
	if (!me)
		return -ENOMEM;
	me->base.impl = &etcd_impl;
	me->base.r = r;
	int rc = etcd_create(r, endpoints, &me->etcd);
	if (rc != 0) {
		free(me);
		return rc;
	}
	*out = &me->base;
	return 0;
}
