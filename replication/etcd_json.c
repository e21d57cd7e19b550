/*
 * replication/etcd_json.c: etcd v3 gateway JSON, encode and decode, with jansson. The traps it
 * handles are listed in etcd_json.h. jansson over cJSON because it keeps integers as integers
 * (json_int_t, 64-bit) where cJSON keeps every number as a double, takes a length (no NUL
 * needed) and can refuse duplicate keys; it is also already on Debian systems (libjansson4).
 */
#include "replication/etcd_json.h"

#include "base/errors.h"
#include "base/limits.h"
#include "replication/base64.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- requests ------------------------------------------------------------------------------ */

/* Sets obj[name] to the base64 of bytes. Returns false when out of memory. */
static bool set_bytes(json_t *obj, const char *name, const uint8_t *p, size_t len)
{
	size_t n = base64_encoded_len(len);
	char *s = malloc(n + 1);
	if (!s)
		return false;
	base64_encode(p, len, s);
	s[n] = '\0';
	bool ok = json_object_set_new(obj, name, json_stringn(s, n)) == 0;
	free(s);
	return ok;
}

/* int64 as a JSON string, as protobuf's JSON mapping writes it. */
static bool set_i64(json_t *obj, const char *name, int64_t v)
{
	char s[24];
	snprintf(s, sizeof(s), "%" PRId64, v);
	return json_object_set_new(obj, name, json_string(s)) == 0;
}

/* key and range_end for a key or a prefix. etcd's "all keys" is key "\0", range_end "\0". */
static bool set_range(json_t *obj, const uint8_t *key, size_t key_len, bool prefix)
{
	static const uint8_t zero = 0;
	if (!prefix)
		return set_bytes(obj, "key", key, key_len);
	uint8_t end[METASTORE_KEY_BYTES_MAX];
	size_t end_len;
	metastore_prefix_end(key, key_len, end, &end_len);
	bool ok = key_len ? set_bytes(obj, "key", key, key_len) : set_bytes(obj, "key", &zero, 1);
	return ok && (end_len ? set_bytes(obj, "range_end", end, end_len)
	                      : set_bytes(obj, "range_end", &zero, 1));
}

static char *dump(json_t *obj, bool ok)
{
	char *s = ok && obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	return s;
}

char *etcd_json_range(const uint8_t *key, size_t key_len, bool prefix, size_t limit)
{
	json_t *o = json_object();
	bool ok = o && set_range(o, key, key_len, prefix) && set_i64(o, "limit", (int64_t)limit);
	return dump(o, ok);
}

static bool put_fields(json_t *o, const uint8_t *key, size_t key_len, const uint8_t *value,
                       size_t value_len, int64_t lease)
{
	return set_bytes(o, "key", key, key_len) && set_bytes(o, "value", value, value_len) &&
	       (!lease || set_i64(o, "lease", lease));
}

char *etcd_json_put(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                    int64_t lease)
{
	json_t *o = json_object();
	bool ok = o && put_fields(o, key, key_len, value, value_len, lease);
	return dump(o, ok);
}

char *etcd_json_delete(const uint8_t *key, size_t key_len, bool prefix)
{
	json_t *o = json_object();
	bool ok = o && set_range(o, key, key_len, prefix);
	return dump(o, ok);
}

static json_t *txn_compare(const struct metastore_cmp *c)
{
	json_t *o = json_object();
	bool ok = o && set_bytes(o, "key", c->key, c->key_len) &&
	          json_object_set_new(o, "result", json_string("EQUAL")) == 0;
	switch (c->target) {
	case METASTORE_CMP_MOD:
		ok = ok && json_object_set_new(o, "target", json_string("MOD")) == 0 &&
		     set_i64(o, "mod_revision", c->revision);
		break;
	case METASTORE_CMP_CREATE:
		ok = ok && json_object_set_new(o, "target", json_string("CREATE")) == 0 &&
		     set_i64(o, "create_revision", c->revision);
		break;
	case METASTORE_CMP_ABSENT: /* etcd's idiom: create_revision == 0 */
		ok = ok && json_object_set_new(o, "target", json_string("CREATE")) == 0 &&
		     set_i64(o, "create_revision", 0);
		break;
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *txn_request(const struct metastore_txn_op *op)
{
	json_t *inner = json_object(), *o = json_object();
	bool ok = inner && o;
	if (ok && op->type == METASTORE_TXN_PUT) {
		ok = put_fields(inner, op->key, op->key_len, op->value, op->value_len, op->lease) &&
		     json_object_set(o, "request_put", inner) == 0;
	} else if (ok) {
		ok = set_bytes(inner, "key", op->key, op->key_len) &&
		     json_object_set(o, "request_delete_range", inner) == 0;
	}
	json_decref(inner);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *etcd_json_txn(const struct metastore_txn *txn)
{
	json_t *o = json_object(), *cmps = json_array(), *ops = json_array();
	bool ok = o && cmps && ops;
	for (size_t i = 0; ok && i < txn->cmps_count; i++) {
		json_t *c = txn_compare(&txn->cmps[i]);
		ok = c && json_array_append_new(cmps, c) == 0;
	}
	for (size_t i = 0; ok && i < txn->ops_count; i++) {
		json_t *r = txn_request(&txn->ops[i]);
		ok = r && json_array_append_new(ops, r) == 0;
	}
	ok = ok && json_object_set(o, "compare", cmps) == 0 &&
	     json_object_set(o, "success", ops) == 0;
	json_decref(cmps);
	json_decref(ops);
	return dump(o, ok);
}

char *etcd_json_lease_grant(int64_t ttl_s)
{
	json_t *o = json_object();
	return dump(o, o && set_i64(o, "TTL", ttl_s));
}

char *etcd_json_lease_id(int64_t lease_id)
{
	json_t *o = json_object();
	return dump(o, o && set_i64(o, "ID", lease_id));
}

char *etcd_json_compact(int64_t revision)
{
	json_t *o = json_object();
	/* physical: answer once the compaction is applied, so a watch from before it is refused
	 * from then on (tests rely on it; the controller never compacts). */
	return dump(o, o && set_i64(o, "revision", revision) &&
	                   json_object_set_new(o, "physical", json_true()) == 0);
}

char *etcd_json_watch(const uint8_t *prefix, size_t prefix_len, int64_t start_revision)
{
	json_t *o = json_object(), *c = json_object();
	bool ok = o && c && set_range(c, prefix, prefix_len, true) &&
	          (!start_revision || set_i64(c, "start_revision", start_revision)) &&
	          json_object_set(o, "create_request", c) == 0;
	json_decref(c);
	return dump(o, ok);
}

/* ---- answers ------------------------------------------------------------------------------- */

#define BAD (-TAPE_EPROTO)

/* An int64 field: a decimal string (protobuf's mapping), or a JSON integer; absent is 0. */
static int get_i64(const json_t *obj, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(obj, name);
	*out = 0;
	if (!v)
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return BAD;
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len == 0 || len > 20)
		return BAD;
	bool neg = s[0] == '-';
	if (neg && len == 1)
		return BAD;
	uint64_t acc = 0;
	for (size_t i = neg; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return BAD;
		unsigned d = (unsigned)(s[i] - '0');
		if (acc > (UINT64_MAX - d) / 10)
			return BAD;
		acc = acc * 10 + d;
	}
	if (acc > (uint64_t)INT64_MAX + neg)
		return BAD;
	*out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	return 0;
}

/* A non-negative int64 field. */
static int get_count(const json_t *obj, const char *name, int64_t *out)
{
	int rc = get_i64(obj, name, out);
	return rc == 0 && *out < 0 ? BAD : rc;
}

static int get_bool(const json_t *obj, const char *name, bool *out)
{
	const json_t *v = json_object_get(obj, name);
	*out = false;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return BAD;
	*out = json_is_true(v);
	return 0;
}

/* An object field; absent gives NULL and 0. */
static int get_obj(const json_t *obj, const char *name, const json_t **out)
{
	const json_t *v = json_object_get(obj, name);
	*out = v;
	return !v || json_is_object(v) ? 0 : BAD;
}

/* A bytes field, base64 decoded into mem, at most max bytes; absent is empty. */
static int get_bytes(const json_t *obj, const char *name, size_t max, struct arena *mem,
                     const uint8_t **p, size_t *len)
{
	const json_t *v = json_object_get(obj, name);
	*p = (const uint8_t *)"";
	*len = 0;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return BAD;
	size_t n = json_string_length(v);
	if (n / 4 * 3 > max + 2)
		return BAD;
	uint8_t *out = arena_alloc(mem, n / 4 * 3 + 3);
	if (!out)
		return -ENOMEM;
	long got = base64_decode(json_string_value(v), n, out);
	if (got < 0 || (size_t)got > max)
		return BAD;
	*p = out;
	*len = (size_t)got;
	return 0;
}

static int decode_kv(const json_t *o, struct arena *mem, struct metastore_kv *kv)
{
	if (!json_is_object(o))
		return BAD;
	int rc = get_bytes(o, "key", METASTORE_KEY_BYTES_MAX, mem, &kv->key, &kv->key_len);
	if (rc == 0)
		rc = get_bytes(o, "value", METASTORE_VALUE_BYTES_MAX, mem, &kv->value,
		               &kv->value_len);
	if (rc == 0)
		rc = get_count(o, "create_revision", &kv->create_revision);
	if (rc == 0)
		rc = get_count(o, "mod_revision", &kv->mod_revision);
	if (rc == 0)
		rc = get_count(o, "version", &kv->version);
	if (rc == 0)
		rc = get_count(o, "lease", &kv->lease);
	if (rc == 0 && kv->key_len == 0)
		rc = BAD;
	return rc;
}

/* An array field of at most max elements; absent gives NULL and 0. */
static int get_array(const json_t *obj, const char *name, size_t max, const json_t **out)
{
	const json_t *v = json_object_get(obj, name);
	*out = v;
	if (!v)
		return 0;
	return json_is_array(v) && json_array_size(v) <= max ? 0 : BAD;
}

static int decode_kvs(const json_t *body, struct arena *mem, struct etcd_answer *a)
{
	const json_t *arr;
	int rc = get_array(body, "kvs", METASTORE_RANGE_KVS_MAX, &arr);
	if (rc != 0 || !arr)
		return rc;
	size_t n = json_array_size(arr);
	a->kvs = arena_array(mem, n ? n : 1, sizeof(*a->kvs));
	if (!a->kvs)
		return -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = decode_kv(json_array_get(arr, i), mem, &a->kvs[i]);
	a->kvs_count = n;
	return rc;
}

static int decode_events(const json_t *body, struct arena *mem, struct etcd_answer *a)
{
	const json_t *arr;
	int rc = get_array(body, "events", METASTORE_RANGE_KVS_MAX, &arr);
	if (rc != 0 || !arr)
		return rc;
	size_t n = json_array_size(arr);
	a->events = arena_array(mem, n ? n : 1, sizeof(*a->events));
	if (!a->events)
		return -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const json_t *ev = json_array_get(arr, i), *kv;
		if (!json_is_object(ev))
			return BAD;
		/* type is an enum: its name, or its number; PUT (0) is left out. */
		const json_t *t = json_object_get(ev, "type");
		if (!t || (json_is_string(t) && !strcmp(json_string_value(t), "PUT")) ||
		    (json_is_integer(t) && json_integer_value(t) == 0))
			a->events[i].type = METASTORE_EVENT_PUT;
		else if ((json_is_string(t) && !strcmp(json_string_value(t), "DELETE")) ||
		         (json_is_integer(t) && json_integer_value(t) == 1))
			a->events[i].type = METASTORE_EVENT_DELETE;
		else
			return BAD;
		rc = get_obj(ev, "kv", &kv);
		if (rc == 0 && !kv)
			rc = BAD;
		if (rc == 0)
			rc = decode_kv(kv, mem, &a->events[i].kv);
	}
	a->events_count = n;
	return rc;
}

/* {"error": "...", "code": N, "message": "..."} (unary) or, in a stream,
 * {"error": {"grpc_code": N, "message": "...", ...}}. */
static int decode_error(const json_t *root, const json_t *err, struct etcd_answer *a)
{
	const json_t *holder = json_is_object(err) ? err : root;
	const json_t *code = json_object_get(holder, json_is_object(err) ? "grpc_code" : "code");
	const json_t *msg = json_object_get(holder, "message");
	if (!code || !json_is_integer(code) || (msg && !json_is_string(msg)))
		return BAD;
	json_int_t c = json_integer_value(code);
	if (c < 0 || c > 100)
		return BAD;
	a->error = true;
	a->code = (int)c;
	if (msg)
		snprintf(a->message, sizeof(a->message), "%s", json_string_value(msg));
	return 0;
}

static int decode_body(enum etcd_answer_kind kind, const json_t *body, struct arena *mem,
                       struct etcd_answer *a)
{
	const json_t *header;
	int rc = get_obj(body, "header", &header);
	if (rc == 0 && header)
		rc = get_count(header, "revision", &a->revision);
	if (rc != 0)
		return rc;
	switch (kind) {
	case ETCD_RANGE:
		rc = decode_kvs(body, mem, a);
		if (rc == 0)
			rc = get_bool(body, "more", &a->more);
		if (rc == 0)
			rc = get_count(body, "count", &a->count);
		return rc;
	case ETCD_TXN:
		return get_bool(body, "succeeded", &a->succeeded);
	case ETCD_DELETE:
		return get_count(body, "deleted", &a->deleted);
	case ETCD_LEASE_GRANT:
	case ETCD_LEASE_KEEPALIVE:
		rc = get_count(body, "ID", &a->id);
		if (rc == 0)
			rc = get_i64(body, "TTL", &a->ttl_s);
		return rc;
	case ETCD_WATCH:
		rc = get_bool(body, "created", &a->created);
		if (rc == 0)
			rc = get_bool(body, "canceled", &a->canceled);
		if (rc == 0)
			rc = get_count(body, "watch_id", &a->watch_id);
		if (rc == 0)
			rc = get_count(body, "compact_revision", &a->compact_revision);
		if (rc == 0)
			rc = decode_events(body, mem, a);
		return rc;
	case ETCD_PUT:
	case ETCD_LEASE_REVOKE:
	case ETCD_COMPACT:
		return 0;
	}
	return BAD;
}

int etcd_json_decode(enum etcd_answer_kind kind, const char *json, size_t len, struct arena *mem,
                     struct etcd_answer *out)
{
	memset(out, 0, sizeof(*out));
	if (len > ETCD_RESPONSE_BYTES_MAX)
		return -TAPE_ETOOLARGE;
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return BAD;
	int rc = BAD;
	const json_t *err = json_object_get(root, "error");
	bool streamed = kind == ETCD_WATCH || kind == ETCD_LEASE_KEEPALIVE;
	if (!json_is_object(root)) {
		rc = BAD;
	} else if (err) {
		rc = decode_error(root, err, out);
	} else if (streamed) {
		const json_t *result;
		rc = get_obj(root, "result", &result);
		if (rc == 0 && !result)
			rc = BAD;
		if (rc == 0)
			rc = decode_body(kind, result, mem, out);
	} else {
		rc = decode_body(kind, root, mem, out);
	}
	json_decref(root);
	return rc;
}

int etcd_json_errno(const struct etcd_answer *a)
{
	switch (a->code) {
	case 3: /* INVALID_ARGUMENT */
		return -EINVAL;
	case 4: /* DEADLINE_EXCEEDED */
		return -ETIMEDOUT;
	case 5: /* NOT_FOUND: "etcdserver: requested lease not found" */
		return -ENOENT;
	case 11: /* OUT_OF_RANGE: "mvcc: required revision has been compacted" / "is a future" */
		return -TAPE_ECOMPACTED;
	case 14: /* UNAVAILABLE: no leader, stopping, too many requests */
		return -EAGAIN;
	}
	return -TAPE_EMETASTORE;
}
