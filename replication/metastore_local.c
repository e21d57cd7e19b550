/*
 * replication/metastore_local.c: the single-broker metadata store. An in-memory sorted map
 * with etcd's revisions, persisted as one checkpoint file; leases that live while the process
 * lives (their TTL honoured on a timer); watches served from the same map and a bounded event
 * history. No network, no other service. Knows nothing of etcd or of what the keys mean.
 *
 * Checkpoint "<dir>/metastore.checkpoint", kind CHECKPOINT_METASTORE, written by
 * log/checkpoint.c (tmp -> fsync -> rename -> fsync dir, XXH3-64 over the payload). Payload,
 * big-endian:
 *     0  8  store revision
 *     8  4  keys count N
 *    12  ... N times: u32 key length, key, u32 value length, value,
 *                     i64 create_revision, i64 mod_revision, i64 version
 * Validity: checkpoint.h's, then keys strictly ascending, lengths within METASTORE_*_MAX,
 * 0 < create <= mod <= revision, version >= 1, nothing left over. Anything else refuses the
 * open with -TAPE_ECORRUPT: the metadata is not guessed at. A missing file is an empty store.
 * Keys with a lease are not written: the lease dies with the process, and so do they.
 *
 * Durability: a write is applied to the map at once (so later calls see it), and every call
 * completes in call order once a checkpoint holding the revision it saw is on disk: one write
 * in flight at a time on a helper job, later changes coalesced into the next (group commit).
 * Watch batches wait in the same queue, so no watcher sees a change a crash could undo. A
 * failed checkpoint write is sticky: waiting and later calls fail with -TAPE_EFAILED.
 */
#include "replication/metastore.h"

#include "base/assert.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/cursor.h"
#include "base/diag.h"
#include "base/errors.h"
#include "base/limits.h"
#include "log/checkpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHECKPOINT_NAME "metastore.checkpoint"
#define ENTRY_OVERHEAD_BYTES 32 /* two lengths and three revisions in the checkpoint */
#define MS_NS (1000000ll)

struct entry {
	uint8_t *key; /* both point into the same allocation, after the struct */
	size_t key_len;
	uint8_t *value;
	size_t value_len;
	int64_t create_revision, mod_revision, version, lease;
};

struct hist_event {
	int64_t revision;
	enum metastore_event_type type;
	struct entry *kv; /* owned copy */
};

struct lease {
	int64_t id;
	int64_t ttl_s;
	int64_t deadline_ns;
};

/* A completion waiting for durability: an op's answer or a watch batch. */
struct pending {
	struct pending *next;
	int64_t need; /* completes once durable_revision >= need */
	struct metastore_op *op;
	struct metastore_watch *w; /* NULL once the watch stopped */
	struct arena mem;          /* the batch's events */
	struct metastore_event *events;
	size_t events_count;
	bool reset;
	int64_t revision;
};

/* Changes of one write, collected before they go to history and watches. */
struct changes {
	struct hist_event *ev;
	size_t count, cap;
};

struct local {
	struct metastore base;
	char *dir;
	struct entry **kv; /* sorted by key */
	size_t kv_count, kv_cap;
	size_t bytes; /* of persisted entries, as the checkpoint counts them */
	int64_t revision, durable_revision;
	int64_t history_start; /* events of revisions >= this are all in hist */
	int64_t compacted_revision;
	struct hist_event *hist;
	size_t hist_head, hist_count;
	struct lease leases[METASTORE_LEASES_MAX];
	size_t leases_count;
	int64_t next_lease_id;
	struct io_timer tick;
	struct pending *wait_head, *wait_tail;
	struct io_op release_io;
	bool release_scheduled;
	struct io_job job;
	bool writing;
	struct buf payload;
	int64_t payload_revision;
	int job_rc;
	int failed; /* sticky -TAPE_EFAILED after a failed checkpoint */
	struct metastore_watch *watches;
	size_t watches_count;
	struct metastore_op *close_op;
	struct io_op close_io;
	bool close_scheduled;
};

#define LOCAL(ms) ((struct local *)(ms))

static void release_schedule(struct local *l);
static void checkpoint_kick(struct local *l);
static void close_check(struct local *l);

/* ---- the map ------------------------------------------------------------------------------- */

static struct entry *entry_new(const uint8_t *key, size_t key_len, const uint8_t *value,
                               size_t value_len)
{
	struct entry *e = malloc(sizeof(*e) + key_len + value_len + 1);
	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->key = (uint8_t *)(e + 1);
	e->value = e->key + key_len;
	memcpy(e->key, key, key_len);
	if (value_len)
		memcpy(e->value, value, value_len);
	e->key_len = key_len;
	e->value_len = value_len;
	return e;
}

static struct entry *entry_copy(const struct entry *src, bool with_value)
{
	struct entry *e =
	    entry_new(src->key, src->key_len, src->value, with_value ? src->value_len : 0);
	if (e) {
		e->create_revision = src->create_revision;
		e->mod_revision = src->mod_revision;
		e->version = src->version;
		e->lease = src->lease;
	}
	return e;
}

static size_t entry_bytes(const struct entry *e)
{
	return e->lease ? 0 : e->key_len + e->value_len + ENTRY_OVERHEAD_BYTES;
}

/* The index of key, or of where it would go; *found says which. */
static size_t map_find(const struct local *l, const uint8_t *key, size_t key_len, bool *found)
{
	size_t lo = 0, hi = l->kv_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = metastore_key_cmp(l->kv[mid]->key, l->kv[mid]->key_len, key, key_len);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static bool has_prefix(const struct entry *e, const uint8_t *prefix, size_t len)
{
	return e->key_len >= len && (len == 0 || memcmp(e->key, prefix, len) == 0);
}

static struct entry *map_get(const struct local *l, const uint8_t *key, size_t key_len)
{
	bool found;
	size_t i = map_find(l, key, key_len, &found);
	return found ? l->kv[i] : NULL;
}

static struct lease *lease_find(struct local *l, int64_t id)
{
	for (size_t i = 0; i < l->leases_count; i++)
		if (l->leases[i].id == id)
			return &l->leases[i];
	return NULL;
}

static int changes_add(struct changes *ch, enum metastore_event_type type, struct entry *kv,
                       int64_t revision)
{
	if (ch->count == ch->cap) {
		size_t cap = ch->cap ? 2 * ch->cap : 8;
		struct hist_event *ev = realloc(ch->ev, cap * sizeof(*ev));
		if (!ev)
			return -ENOMEM;
		ch->ev = ev;
		ch->cap = cap;
	}
	ch->ev[ch->count++] = (struct hist_event){ .revision = revision, .type = type, .kv = kv };
	return 0;
}

/* Puts at revision; the event copy goes to ch. Room was checked by the caller. */
static int map_put(struct local *l, struct changes *ch, const uint8_t *key, size_t key_len,
                   const uint8_t *value, size_t value_len, int64_t lease, int64_t revision)
{
	struct entry *e = entry_new(key, key_len, value, value_len);
	if (!e)
		return -ENOMEM;
	bool found;
	size_t i = map_find(l, key, key_len, &found);
	if (found) {
		struct entry *old = l->kv[i];
		e->create_revision = old->create_revision;
		e->version = old->version + 1;
		l->bytes -= entry_bytes(old);
		free(old);
	} else {
		if (l->kv_count == l->kv_cap) {
			size_t cap = l->kv_cap ? 2 * l->kv_cap : 64;
			struct entry **kv = realloc(l->kv, cap * sizeof(*kv));
			if (!kv) {
				free(e);
				return -ENOMEM;
			}
			l->kv = kv;
			l->kv_cap = cap;
		}
		memmove(&l->kv[i + 1], &l->kv[i], (l->kv_count - i) * sizeof(*l->kv));
		l->kv_count++;
		e->create_revision = revision;
		e->version = 1;
	}
	e->mod_revision = revision;
	e->lease = lease;
	l->kv[i] = e;
	l->bytes += entry_bytes(e);
	struct entry *copy = entry_copy(e, true);
	if (!copy || changes_add(ch, METASTORE_EVENT_PUT, copy, revision) != 0) {
		free(copy);
		return -ENOMEM;
	}
	return 0;
}

static int map_remove(struct local *l, struct changes *ch, size_t i, int64_t revision)
{
	struct entry *e = l->kv[i];
	memmove(&l->kv[i], &l->kv[i + 1], (l->kv_count - i - 1) * sizeof(*l->kv));
	l->kv_count--;
	l->bytes -= entry_bytes(e);
	e->value_len = 0;
	e->mod_revision = revision;
	e->create_revision = 0;
	e->version = 0;
	e->lease = 0;
	if (changes_add(ch, METASTORE_EVENT_DELETE, e, revision) != 0) {
		free(e);
		return -ENOMEM;
	}
	return 0;
}

/* [*first, *end) of the keys key (or under prefix key). */
static void map_span(const struct local *l, const uint8_t *key, size_t key_len, bool prefix,
                     size_t *first, size_t *end)
{
	bool found;
	size_t i = map_find(l, key, key_len, &found);
	*first = i;
	if (!prefix) {
		*end = found ? i + 1 : i;
		return;
	}
	size_t j = i;
	while (j < l->kv_count && has_prefix(l->kv[j], key, key_len))
		j++;
	*end = j;
}

/* ---- history and watches ------------------------------------------------------------------- */

static void hist_drop_front(struct local *l)
{
	struct hist_event *h = &l->hist[l->hist_head];
	free(h->kv);
	l->hist_head = (l->hist_head + 1) % METASTORE_HISTORY_EVENTS_MAX;
	l->hist_count--;
}

/* Drops events before revision; watches from before it get a reset. */
static void hist_forget_before(struct local *l, int64_t revision)
{
	while (l->hist_count && l->hist[l->hist_head].revision < revision)
		hist_drop_front(l);
	if (revision > l->history_start)
		l->history_start = revision;
}

static void hist_push(struct local *l, struct hist_event ev)
{
	if (l->hist_count == METASTORE_HISTORY_EVENTS_MAX)
		/* A revision is kept whole or not at all. */
		hist_forget_before(l, l->hist[l->hist_head].revision + 1);
	if (l->hist_count == METASTORE_HISTORY_EVENTS_MAX) {
		free(ev.kv);
		hist_forget_before(l, ev.revision + 1);
		return;
	}
	l->hist[(l->hist_head + l->hist_count) % METASTORE_HISTORY_EVENTS_MAX] = ev;
	l->hist_count++;
}

static void pending_push(struct local *l, struct pending *p)
{
	p->next = NULL;
	if (l->wait_tail)
		l->wait_tail->next = p;
	else
		l->wait_head = p;
	l->wait_tail = p;
	if (p->need <= l->durable_revision)
		release_schedule(l);
}

static bool kv_copy_to(struct arena *mem, struct metastore_kv *out, const struct entry *e)
{
	uint8_t *p = arena_alloc(mem, e->key_len + e->value_len + 1);
	if (!p)
		return false;
	memcpy(p, e->key, e->key_len);
	if (e->value_len)
		memcpy(p + e->key_len, e->value, e->value_len);
	*out = (struct metastore_kv){ .key = p,
		                      .key_len = e->key_len,
		                      .value = p + e->key_len,
		                      .value_len = e->value_len,
		                      .create_revision = e->create_revision,
		                      .mod_revision = e->mod_revision,
		                      .version = e->version,
		                      .lease = e->lease };
	return true;
}

static struct pending *batch_new(struct metastore_watch *w, size_t events_max)
{
	struct pending *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->w = w;
	arena_init(&p->mem, METASTORE_ANSWER_BYTES_MAX);
	p->events = arena_array(&p->mem, events_max ? events_max : 1, sizeof(*p->events));
	if (!p->events) {
		arena_free(&p->mem);
		free(p);
		return NULL;
	}
	return p;
}

static void batch_free(struct pending *p)
{
	arena_free(&p->mem);
	free(p);
}

static bool batch_add(struct pending *p, enum metastore_event_type type, const struct entry *e)
{
	struct metastore_event *ev = &p->events[p->events_count];
	ev->type = type;
	if (!kv_copy_to(&p->mem, &ev->kv, e))
		return false;
	p->events_count++;
	return true;
}

static void watch_end(struct metastore_watch *w, int err);

/* Queues the events of evs[0, n) (in revision order) that w wants. */
static void watch_feed(struct local *l, struct metastore_watch *w, const struct hist_event *evs,
                       size_t n, size_t stride_start, bool ring)
{
	size_t want = 0;
	for (size_t k = 0; k < n; k++) {
		const struct hist_event *h =
		    ring ? &evs[(stride_start + k) % METASTORE_HISTORY_EVENTS_MAX] : &evs[k];
		if (h->revision >= w->next_revision && has_prefix(h->kv, w->prefix, w->prefix_len))
			want++;
	}
	if (!want)
		return;
	struct pending *p = batch_new(w, want);
	if (!p)
		return watch_end(w, -ENOMEM);
	for (size_t k = 0; k < n; k++) {
		const struct hist_event *h =
		    ring ? &evs[(stride_start + k) % METASTORE_HISTORY_EVENTS_MAX] : &evs[k];
		if (h->revision < w->next_revision || !has_prefix(h->kv, w->prefix, w->prefix_len))
			continue;
		if (!batch_add(p, h->type, h->kv)) {
			batch_free(p);
			return watch_end(w, -ENOMEM);
		}
		p->revision = h->revision;
		p->need = h->revision;
	}
	w->next_revision = p->revision + 1;
	pending_push(l, p);
}

/* The whole prefix as of now, for a watch that asked for history no longer kept. */
static void watch_reset(struct local *l, struct metastore_watch *w)
{
	size_t first, end;
	map_span(l, w->prefix, w->prefix_len, true, &first, &end);
	struct pending *p = batch_new(w, end - first);
	if (!p)
		return watch_end(w, -ENOMEM);
	for (size_t i = first; i < end; i++) {
		if (!batch_add(p, METASTORE_EVENT_PUT, l->kv[i])) {
			batch_free(p);
			return watch_end(w, -ENOMEM);
		}
	}
	p->reset = true;
	p->revision = l->revision;
	p->need = l->revision;
	w->next_revision = l->revision + 1;
	pending_push(l, p);
}

static void watch_end(struct metastore_watch *w, int err)
{
	struct metastore_watch_batch b = { .err = err, .revision = w->next_revision - 1 };
	metastore_watch_stop(w); /* unlinks it and forgets its queued batches */
	w->fn(w, &b);
}

/* A write's changes: into history, out to watches, and the checkpoint started. */
static void commit_changes(struct local *l, struct changes *ch)
{
	if (ch->count == 0)
		return;
	for (struct metastore_watch *w = l->watches, *next; w; w = next) {
		next = w->next;
		watch_feed(l, w, ch->ev, ch->count, 0, false);
	}
	for (size_t i = 0; i < ch->count; i++)
		hist_push(l, ch->ev[i]);
	ch->count = 0;
	checkpoint_kick(l);
}

/* ---- completions --------------------------------------------------------------------------- */

static void release(struct local *l)
{
	while (l->wait_head && (l->wait_head->need <= l->durable_revision || l->failed)) {
		struct pending *p = l->wait_head;
		l->wait_head = p->next;
		if (!l->wait_head)
			l->wait_tail = NULL;
		if (p->op) {
			if (l->failed && p->need > l->durable_revision)
				p->op->err = l->failed;
			metastore_op_finish(p->op);
		} else if (p->w && !l->failed) {
			struct metastore_watch_batch b = { .reset = p->reset,
				                           .events = p->events,
				                           .events_count = p->events_count,
				                           .revision = p->revision };
			p->w->fn(p->w, &b);
		}
		if (p->op)
			free(p);
		else
			batch_free(p);
	}
	if (l->failed)
		for (struct metastore_watch *w = l->watches, *next; w; w = next) {
			next = w->next;
			watch_end(w, l->failed);
		}
	close_check(l);
}

static void release_done(struct io_op *io, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct local *l = (struct local *)((char *)io - offsetof(struct local, release_io));
	l->release_scheduled = false;
	release(l);
}

static void release_schedule(struct local *l)
{
	if (l->release_scheduled)
		return;
	l->release_scheduled = true;
	reactor_defer(l->base.r, &l->release_io, release_done, 0);
}

/* Completes op once the revision it saw is durable. */
static void op_queue(struct local *l, struct metastore_op *op)
{
	struct pending *p = calloc(1, sizeof(*p));
	if (!p)
		return metastore_op_fail_later(op, -ENOMEM);
	op->revision = l->revision;
	p->op = op;
	p->need = l->revision;
	pending_push(l, p);
}

/* ---- the checkpoint ------------------------------------------------------------------------ */

static void checkpoint_run(struct io_job *job)
{
	struct local *l = (struct local *)((char *)job - offsetof(struct local, job));
	l->job_rc = checkpoint_write(l->dir, CHECKPOINT_NAME, CHECKPOINT_METASTORE, l->payload.p,
	                             l->payload.len);
}

static void checkpoint_done(struct io_job *job)
{
	struct local *l = (struct local *)((char *)job - offsetof(struct local, job));
	l->writing = false;
	if (l->job_rc != 0) {
		diag_error("metastore: checkpoint in %s failed: %s; the store fails from now on",
		           l->dir, tape_strerror(l->job_rc));
		l->failed = -TAPE_EFAILED;
	} else {
		l->durable_revision = l->payload_revision;
	}
	release(l);
	checkpoint_kick(l);
}

static void checkpoint_encode(struct local *l, struct buf *b)
{
	buf_clear(b);
	buf_i64(b, l->revision);
	size_t count_pos = buf_skip(b, 4);
	int32_t n = 0;
	for (size_t i = 0; i < l->kv_count; i++) {
		const struct entry *e = l->kv[i];
		if (e->lease)
			continue;
		buf_i32(b, (int32_t)e->key_len);
		buf_put(b, e->key, e->key_len);
		buf_i32(b, (int32_t)e->value_len);
		buf_put(b, e->value, e->value_len);
		buf_i64(b, e->create_revision);
		buf_i64(b, e->mod_revision);
		buf_i64(b, e->version);
		n++;
	}
	buf_patch_i32(b, count_pos, n);
}

static void checkpoint_kick(struct local *l)
{
	if (l->writing || l->failed || l->durable_revision >= l->revision)
		return;
	checkpoint_encode(l, &l->payload);
	/* METASTORE_LOCAL_BYTES_MAX keeps the payload within the buffer's limit. */
	ASSERT(buf_ok(&l->payload));
	l->payload_revision = l->revision;
	l->writing = true;
	l->job.run = checkpoint_run;
	l->job.done = checkpoint_done;
	reactor_offload(l->base.r, &l->job);
}

static int checkpoint_decode(struct local *l, const uint8_t *p, size_t len)
{
	struct cursor c;
	cursor_init(&c, p, len);
	int64_t revision = cursor_i64(&c);
	uint32_t n = cursor_u32(&c);
	if (!cursor_ok(&c) || revision < 1 || n > METASTORE_KEYS_MAX ||
	    n > cursor_left(&c) / ENTRY_OVERHEAD_BYTES)
		return -TAPE_ECORRUPT;
	l->kv = calloc(n ? n : 1, sizeof(*l->kv));
	if (!l->kv)
		return -ENOMEM;
	l->kv_cap = n ? n : 1;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t klen = cursor_u32(&c);
		const uint8_t *key = cursor_bytes(&c, klen);
		uint32_t vlen = cursor_u32(&c);
		const uint8_t *value = cursor_bytes(&c, vlen);
		int64_t create = cursor_i64(&c), mod = cursor_i64(&c), version = cursor_i64(&c);
		if (!cursor_ok(&c) || klen == 0 || klen > METASTORE_KEY_BYTES_MAX ||
		    vlen > METASTORE_VALUE_BYTES_MAX || create < 1 || create > mod ||
		    mod > revision || version < 1)
			return -TAPE_ECORRUPT;
		if (i > 0 &&
		    metastore_key_cmp(l->kv[i - 1]->key, l->kv[i - 1]->key_len, key, klen) >= 0)
			return -TAPE_ECORRUPT;
		struct entry *e = entry_new(key, klen, value, vlen);
		if (!e)
			return -ENOMEM;
		e->create_revision = create;
		e->mod_revision = mod;
		e->version = version;
		l->kv[l->kv_count++] = e;
		l->bytes += entry_bytes(e);
	}
	if (cursor_left(&c) != 0)
		return -TAPE_ECORRUPT;
	l->revision = revision;
	return 0;
}

/* ---- operations ---------------------------------------------------------------------------- */

static bool refuse(struct local *l, struct metastore_op *op)
{
	if (l->close_op)
		metastore_op_fail_later(op, -TAPE_ECLOSED);
	else if (l->failed)
		metastore_op_fail_later(op, l->failed);
	else
		return false;
	return true;
}

static void local_range(struct metastore *ms, struct metastore_op *op, const uint8_t *key,
                        size_t key_len, bool prefix, size_t limit)
{
	struct local *l = LOCAL(ms);
	if (refuse(l, op))
		return;
	size_t first, end;
	map_span(l, key, key_len, prefix, &first, &end);
	size_t n = end - first;
	if (n > limit) {
		n = limit;
		op->more = true;
	}
	struct metastore_kv *kvs = arena_array(&op->mem, n ? n : 1, sizeof(*kvs));
	if (!kvs)
		return metastore_op_fail_later(op, -ENOMEM);
	for (size_t i = 0; i < n; i++)
		if (!kv_copy_to(&op->mem, &kvs[i], l->kv[first + i]))
			return metastore_op_fail_later(op, -ENOMEM);
	op->kvs = kvs;
	op->kvs_count = n;
	op_queue(l, op);
}

/* Would puts of these sizes fit? A replaced key is counted as new: a slight overestimate. */
static int room_for(const struct local *l, size_t keys, size_t bytes)
{
	if (l->kv_count + keys > METASTORE_KEYS_MAX || l->bytes + bytes > METASTORE_LOCAL_BYTES_MAX)
		return -ENOSPC;
	return 0;
}

/* Applies puts and deletes at revision + 1; the revision moves only if something changed. */
static int apply_ops(struct local *l, const struct metastore_txn_op *ops, size_t n)
{
	size_t keys = 0, bytes = 0;
	for (size_t i = 0; i < n; i++) {
		if (ops[i].type != METASTORE_TXN_PUT)
			continue;
		if (ops[i].lease && !lease_find(l, ops[i].lease))
			return -ENOENT;
		keys++;
		if (!ops[i].lease)
			bytes += ops[i].key_len + ops[i].value_len + ENTRY_OVERHEAD_BYTES;
	}
	int rc = room_for(l, keys, bytes);
	if (rc != 0)
		return rc;
	struct changes ch = { 0 };
	int64_t revision = l->revision + 1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct metastore_txn_op *o = &ops[i];
		if (o->type == METASTORE_TXN_PUT) {
			rc = map_put(l, &ch, o->key, o->key_len, o->value, o->value_len, o->lease,
			             revision);
			continue;
		}
		bool found;
		size_t at = map_find(l, o->key, o->key_len, &found);
		if (found)
			rc = map_remove(l, &ch, at, revision);
	}
	/* Out of memory halfway leaves what was applied applied, at its revision. */
	if (ch.count)
		l->revision = revision;
	commit_changes(l, &ch);
	free(ch.ev);
	return rc;
}

static void local_put(struct metastore *ms, struct metastore_op *op, const uint8_t *key,
                      size_t key_len, const uint8_t *value, size_t value_len, int64_t lease)
{
	struct local *l = LOCAL(ms);
	if (refuse(l, op))
		return;
	struct metastore_txn_op put = { .type = METASTORE_TXN_PUT,
		                        .key = key,
		                        .key_len = key_len,
		                        .value = value,
		                        .value_len = value_len,
		                        .lease = lease };
	int rc = apply_ops(l, &put, 1);
	if (rc != 0)
		return metastore_op_fail_later(op, rc);
	op_queue(l, op);
}

/* Deletes [first, end) at one revision. Returns how many, or -ENOMEM. */
static int64_t delete_span(struct local *l, size_t first, size_t end)
{
	struct changes ch = { 0 };
	int64_t revision = l->revision + 1, n = 0;
	int rc = 0;
	for (size_t i = end; i > first && rc == 0; i--, n++)
		rc = map_remove(l, &ch, i - 1, revision);
	if (ch.count)
		l->revision = revision;
	/* Events in key order, as etcd sends a range delete's. */
	for (size_t i = 0; i < ch.count / 2; i++) {
		struct hist_event t = ch.ev[i];
		ch.ev[i] = ch.ev[ch.count - 1 - i];
		ch.ev[ch.count - 1 - i] = t;
	}
	commit_changes(l, &ch);
	free(ch.ev);
	return rc ? rc : n;
}

static void local_del(struct metastore *ms, struct metastore_op *op, const uint8_t *key,
                      size_t key_len, bool prefix)
{
	struct local *l = LOCAL(ms);
	if (refuse(l, op))
		return;
	size_t first, end;
	map_span(l, key, key_len, prefix, &first, &end);
	int64_t n = delete_span(l, first, end);
	if (n < 0)
		return metastore_op_fail_later(op, (int)n);
	op->deleted = n;
	op_queue(l, op);
}

static bool cmp_holds(const struct local *l, const struct metastore_cmp *c)
{
	const struct entry *e = map_get(l, c->key, c->key_len);
	switch (c->target) {
	case METASTORE_CMP_MOD:
		return (e ? e->mod_revision : 0) == c->revision;
	case METASTORE_CMP_CREATE:
		return (e ? e->create_revision : 0) == c->revision;
	case METASTORE_CMP_ABSENT:
		return e == NULL;
	}
	return false;
}

static void local_txn(struct metastore *ms, struct metastore_op *op,
                      const struct metastore_txn *txn)
{
	struct local *l = LOCAL(ms);
	if (refuse(l, op))
		return;
	op->succeeded = true;
	for (size_t i = 0; i < txn->cmps_count && op->succeeded; i++)
		op->succeeded = cmp_holds(l, &txn->cmps[i]);
	if (op->succeeded) {
		int rc = apply_ops(l, txn->ops, txn->ops_count);
		if (rc != 0)
			return metastore_op_fail_later(op, rc);
	}
	op_queue(l, op);
}

/* ---- leases -------------------------------------------------------------------------------- */

static void tick_done(struct io_op *op, int32_t res, uint32_t flags);

static void tick_arm(struct local *l)
{
	if (!l->tick.armed && l->leases_count && !l->close_op)
		reactor_timer_start(l->base.r, &l->tick, tick_done,
		                    (uint64_t)METASTORE_LEASE_TICK_MS * MS_NS);
}

/* Removes the lease and deletes its keys at one revision. */
static int lease_end(struct local *l, struct lease *ls)
{
	int64_t id = ls->id;
	*ls = l->leases[--l->leases_count];
	struct changes ch = { 0 };
	int64_t revision = l->revision + 1;
	int rc = 0;
	for (size_t i = 0; i < l->kv_count && rc == 0;) {
		if (l->kv[i]->lease == id)
			rc = map_remove(l, &ch, i, revision);
		else
			i++;
	}
	if (ch.count)
		l->revision = revision;
	commit_changes(l, &ch);
	free(ch.ev);
	return rc;
}

static void tick_done(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct local *l = (struct local *)((char *)op - offsetof(struct local, tick.op));
	int64_t now = clock_mono_ns();
	for (size_t i = 0; i < l->leases_count && !l->close_op;) {
		if (l->leases[i].deadline_ns <= now)
			lease_end(l, &l->leases[i]); /* moves the last one here */
		else
			i++;
	}
	tick_arm(l);
	close_check(l);
}

static void local_lease_grant(struct metastore *ms, struct metastore_op *op, int64_t ttl_s)
{
	struct local *l = LOCAL(ms);
	if (refuse(l, op))
		return;
	if (l->leases_count == METASTORE_LEASES_MAX)
		return metastore_op_fail_later(op, -ENOSPC);
	struct lease *ls = &l->leases[l->leases_count++];
	ls->id = l->next_lease_id++;
	ls->ttl_s = ttl_s;
	ls->deadline_ns = clock_mono_ns() + ttl_s * 1000 * MS_NS;
	op->lease_id = ls->id;
	op->ttl_s = ttl_s;
	tick_arm(l);
	op_queue(l, op);
}

static void local_lease_keepalive(struct metastore *ms, struct metastore_op *op, int64_t id)
{
	struct local *l = LOCAL(ms);
	if (refuse(l, op))
		return;
	struct lease *ls = lease_find(l, id);
	if (!ls)
		return metastore_op_fail_later(op, -ENOENT);
	ls->deadline_ns = clock_mono_ns() + ls->ttl_s * 1000 * MS_NS;
	op->lease_id = id;
	op->ttl_s = ls->ttl_s;
	op_queue(l, op);
}

static void local_lease_revoke(struct metastore *ms, struct metastore_op *op, int64_t id)
{
	struct local *l = LOCAL(ms);
	if (refuse(l, op))
		return;
	struct lease *ls = lease_find(l, id);
	if (!ls)
		return metastore_op_fail_later(op, -ENOENT);
	int rc = lease_end(l, ls);
	if (rc != 0)
		return metastore_op_fail_later(op, rc);
	op_queue(l, op);
}

static void local_compact(struct metastore *ms, struct metastore_op *op, int64_t revision)
{
	struct local *l = LOCAL(ms);
	if (refuse(l, op))
		return;
	if (revision > l->revision || revision <= l->compacted_revision)
		return metastore_op_fail_later(op, -TAPE_ECOMPACTED);
	l->compacted_revision = revision;
	hist_forget_before(l, revision);
	op_queue(l, op);
}

/* ---- watches ------------------------------------------------------------------------------- */

static int local_watch_start(struct metastore *ms, struct metastore_watch *w)
{
	struct local *l = LOCAL(ms);
	if (l->close_op)
		return -TAPE_ECLOSED;
	if (l->failed)
		return l->failed;
	if (l->watches_count == METASTORE_WATCHES_MAX)
		return -ENOSPC;
	w->next = l->watches;
	l->watches = w;
	l->watches_count++;
	int64_t start = w->next_revision;
	if (start == 0 || start > l->revision) {
		if (start == 0)
			w->next_revision = l->revision + 1;
		return 0;
	}
	if (start < l->history_start)
		watch_reset(l, w);
	else
		watch_feed(l, w, l->hist, l->hist_count, l->hist_head, true);
	w->next_revision = l->revision + 1;
	return 0;
}

static void local_watch_stop(struct metastore *ms, struct metastore_watch *w)
{
	struct local *l = LOCAL(ms);
	for (struct metastore_watch **pp = &l->watches; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			l->watches_count--;
			break;
		}
	}
	for (struct pending *p = l->wait_head; p; p = p->next)
		if (p->w == w)
			p->w = NULL;
}

/* ---- open and close ------------------------------------------------------------------------ */

static void local_free(struct local *l)
{
	for (size_t i = 0; i < l->kv_count; i++)
		free(l->kv[i]);
	free(l->kv);
	while (l->hist_count)
		hist_drop_front(l);
	free(l->hist);
	buf_free(&l->payload);
	free(l->dir);
	free(l);
}

static void close_done(struct io_op *io, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct local *l = (struct local *)((char *)io - offsetof(struct local, close_io));
	while (l->watches)
		watch_end(l->watches, -TAPE_ECLOSED);
	if (l->wait_head || l->writing || l->tick.armed || l->release_scheduled) {
		/* A watch's last callback started something; wait for it too. */
		l->close_scheduled = false;
		return close_check(l);
	}
	struct metastore_op *op = l->close_op;
	local_free(l);
	metastore_op_finish(op);
}

static void close_check(struct local *l)
{
	if (!l->close_op || l->close_scheduled || l->wait_head || l->writing || l->tick.armed ||
	    l->release_scheduled)
		return;
	l->close_scheduled = true;
	reactor_defer(l->base.r, &l->close_io, close_done, 0);
}

static void local_close(struct metastore *ms, struct metastore_op *op)
{
	struct local *l = LOCAL(ms);
	ASSERT(!l->close_op);
	l->close_op = op;
	if (l->tick.armed)
		reactor_timer_cancel(l->base.r, &l->tick);
	close_check(l);
}

static const struct metastore_impl local_impl = {
	.kind = "local",
	.range = local_range,
	.put = local_put,
	.del = local_del,
	.txn = local_txn,
	.lease_grant = local_lease_grant,
	.lease_keepalive = local_lease_keepalive,
	.lease_revoke = local_lease_revoke,
	.compact = local_compact,
	.watch_start = local_watch_start,
	.watch_stop = local_watch_stop,
	.close = local_close,
};

int metastore_local_open(struct reactor *r, const char *dir, struct metastore **out)
{
	struct local *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->base.impl = &local_impl;
	l->base.r = r;
	l->dir = strdup(dir);
	l->hist = calloc(METASTORE_HISTORY_EVENTS_MAX, sizeof(*l->hist));
	buf_init(&l->payload, CHECKPOINT_BYTES_MAX - CHECKPOINT_HEADER_BYTES);
	if (!l->dir || !l->hist) {
		local_free(l);
		return -ENOMEM;
	}
	/* etcd starts at revision 1 with no keys; so does a new local store. */
	l->revision = 1;
	uint8_t *payload = NULL;
	size_t len = 0;
	int rc = checkpoint_read(dir, CHECKPOINT_NAME, CHECKPOINT_METASTORE, &payload, &len);
	if (rc == 0)
		rc = checkpoint_decode(l, payload, len);
	else if (rc == -ENOENT)
		rc = 0;
	free(payload);
	if (rc != 0) {
		diag_error("metastore: %s/%s: %s", dir, CHECKPOINT_NAME, tape_strerror(rc));
		local_free(l);
		return rc;
	}
	l->durable_revision = l->revision;
	l->history_start = l->revision + 1;
	/* Lease ids differ from one run to the next, like etcd's: a lease id from before a
	 * restart must not name a new lease. */
	l->next_lease_id = (clock_wall_ms() & 0x3fffffffffffll) << 16 | 1;
	*out = &l->base;
	return 0;
}
