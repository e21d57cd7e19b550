/*
 * replication/metastore.c: the metadata store's front: choosing the implementation from
 * metadata.store, checking arguments once for both implementations, and the op plumbing they
 * share. Knows nothing of files or HTTP; the implementations know nothing of each other.
 */
#include "replication/metastore.h"

#include "base/assert.h"
#include "base/errors.h"
#include "base/limits.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

int metastore_open(struct reactor *r, const char *spec, const char *dir, struct metastore **out)
{
	*out = NULL;
	if (!spec || !*spec || !strcmp(spec, "local")) {
		if (!dir || !*dir)
			return -EINVAL;
		return metastore_local_open(r, dir, out);
	}
	if (!strncmp(spec, "etcd://", 7))
		return metastore_etcd_open(r, spec + 7, out);
	return -TAPE_ECONFIG;
}

const char *metastore_kind(const struct metastore *ms)
{
	return ms->impl->kind;
}

void metastore_op_begin(struct metastore *ms, struct metastore_op *op)
{
	ASSERT(op->done);
	op->err = 0;
	op->revision = 0;
	op->succeeded = false;
	op->kvs = NULL;
	op->kvs_count = 0;
	op->more = false;
	op->deleted = 0;
	op->lease_id = 0;
	op->ttl_s = 0;
	op->ms = ms;
	op->next = NULL;
	op->wait_revision = 0;
	op->impl = NULL;
	arena_init(&op->mem, METASTORE_ANSWER_BYTES_MAX);
}

void metastore_op_finish(struct metastore_op *op)
{
	/* The arena moves out first: done may start a new call on the same op. */
	struct arena mem = op->mem;
	memset(&op->mem, 0, sizeof(op->mem));
	op->done(op);
	arena_free(&mem);
}

static void fail_done(struct io_op *io, int32_t res, uint32_t flags)
{
	(void)flags;
	struct metastore_op *op =
	    (struct metastore_op *)((char *)io - offsetof(struct metastore_op, io));
	op->err = res;
	metastore_op_finish(op);
}

void metastore_op_fail_later(struct metastore_op *op, int err)
{
	reactor_defer(op->ms->r, &op->io, fail_done, err);
}

void metastore_prefix_end(const uint8_t *prefix, size_t prefix_len, uint8_t *out, size_t *len)
{
	size_t n = prefix_len;
	while (n > 0 && prefix[n - 1] == 0xff)
		n--;
	if (n == 0) {
		*len = 0;
		return;
	}
	memcpy(out, prefix, n);
	out[n - 1]++;
	*len = n;
}

int metastore_key_cmp(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
	size_t n = a_len < b_len ? a_len : b_len;
	int c = n ? memcmp(a, b, n) : 0;
	if (c)
		return c;
	return a_len < b_len ? -1 : a_len > b_len ? 1 : 0;
}

static bool key_ok(const void *key, size_t len, bool prefix)
{
	if (len > METASTORE_KEY_BYTES_MAX)
		return false;
	return prefix || (key && len > 0);
}

void metastore_range(struct metastore *ms, struct metastore_op *op, const void *key, size_t key_len,
                     bool prefix, size_t limit)
{
	metastore_op_begin(ms, op);
	if (!key_ok(key, key_len, prefix) || limit > METASTORE_RANGE_KVS_MAX)
		return metastore_op_fail_later(op, -EINVAL);
	ms->impl->range(ms, op, key, key_len, prefix, limit ? limit : METASTORE_RANGE_KVS_MAX);
}

void metastore_put(struct metastore *ms, struct metastore_op *op, const void *key, size_t key_len,
                   const void *value, size_t value_len, int64_t lease)
{
	metastore_op_begin(ms, op);
	if (!key_ok(key, key_len, false) || value_len > METASTORE_VALUE_BYTES_MAX ||
	    (value_len && !value) || lease < 0)
		return metastore_op_fail_later(op, -EINVAL);
	ms->impl->put(ms, op, key, key_len, value, value_len, lease);
}

void metastore_delete(struct metastore *ms, struct metastore_op *op, const void *key,
                      size_t key_len, bool prefix)
{
	metastore_op_begin(ms, op);
	if (!key_ok(key, key_len, prefix))
		return metastore_op_fail_later(op, -EINVAL);
	ms->impl->del(ms, op, key, key_len, prefix);
}

static bool txn_ok(const struct metastore_txn *txn)
{
	if (txn->cmps_count > METASTORE_TXN_OPS_MAX || txn->ops_count > METASTORE_TXN_OPS_MAX)
		return false;
	for (size_t i = 0; i < txn->cmps_count; i++) {
		const struct metastore_cmp *c = &txn->cmps[i];
		if (!key_ok(c->key, c->key_len, false) || c->revision < 0 ||
		    c->target > METASTORE_CMP_ABSENT)
			return false;
	}
	for (size_t i = 0; i < txn->ops_count; i++) {
		const struct metastore_txn_op *o = &txn->ops[i];
		if (!key_ok(o->key, o->key_len, false) ||
		    o->value_len > METASTORE_VALUE_BYTES_MAX || (o->value_len && !o->value) ||
		    o->lease < 0 || o->type > METASTORE_TXN_DELETE)
			return false;
		/* etcd refuses a txn that names a key twice ("duplicate key given in txn"). */
		for (size_t j = 0; j < i; j++)
			if (!metastore_key_cmp(o->key, o->key_len, txn->ops[j].key,
			                       txn->ops[j].key_len))
				return false;
	}
	return true;
}

void metastore_txn(struct metastore *ms, struct metastore_op *op, const struct metastore_txn *txn)
{
	metastore_op_begin(ms, op);
	if (!txn_ok(txn))
		return metastore_op_fail_later(op, -EINVAL);
	ms->impl->txn(ms, op, txn);
}

void metastore_lease_grant(struct metastore *ms, struct metastore_op *op, int64_t ttl_s)
{
	metastore_op_begin(ms, op);
	if (ttl_s < METASTORE_LEASE_TTL_S_MIN || ttl_s > METASTORE_LEASE_TTL_S_MAX)
		return metastore_op_fail_later(op, -EINVAL);
	ms->impl->lease_grant(ms, op, ttl_s);
}

void metastore_lease_keepalive(struct metastore *ms, struct metastore_op *op, int64_t lease_id)
{
	metastore_op_begin(ms, op);
	if (lease_id <= 0)
		return metastore_op_fail_later(op, -EINVAL);
	ms->impl->lease_keepalive(ms, op, lease_id);
}

void metastore_lease_revoke(struct metastore *ms, struct metastore_op *op, int64_t lease_id)
{
	metastore_op_begin(ms, op);
	if (lease_id <= 0)
		return metastore_op_fail_later(op, -EINVAL);
	ms->impl->lease_revoke(ms, op, lease_id);
}

void metastore_compact(struct metastore *ms, struct metastore_op *op, int64_t revision)
{
	metastore_op_begin(ms, op);
	if (revision <= 0)
		return metastore_op_fail_later(op, -EINVAL);
	ms->impl->compact(ms, op, revision);
}

void metastore_close(struct metastore *ms, struct metastore_op *op)
{
	metastore_op_begin(ms, op);
	ms->impl->close(ms, op);
}

int metastore_watch_start(struct metastore *ms, struct metastore_watch *w, const void *prefix,
                          size_t prefix_len, int64_t start_revision, metastore_watch_fn fn)
{
	ASSERT(fn && !w->active);
	if (!key_ok(prefix, prefix_len, true) || start_revision < 0)
		return -EINVAL;
	w->fn = fn;
	w->ms = ms;
	w->prefix = malloc(prefix_len ? prefix_len : 1);
	if (!w->prefix)
		return -ENOMEM;
	if (prefix_len)
		memcpy(w->prefix, prefix, prefix_len);
	w->prefix_len = prefix_len;
	w->next_revision = start_revision;
	w->next = NULL;
	w->impl = NULL;
	int rc = ms->impl->watch_start(ms, w);
	if (rc != 0) {
		free(w->prefix);
		w->prefix = NULL;
		return rc;
	}
	w->active = true;
	return 0;
}

void metastore_watch_stop(struct metastore_watch *w)
{
	if (!w->active)
		return;
	w->ms->impl->watch_stop(w->ms, w);
	w->active = false;
	free(w->prefix);
	w->prefix = NULL;
}
