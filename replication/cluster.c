/*
 * replication/cluster.c: registration, the view, controller election and the controller's
 * leader elections (cluster.h). One tick timer drives the lease: keepalives every third of the
 * TTL, the fencing deadline, registration retries and the shutdown bound.
 *
 * Registration states:
 *
 *   GRANT --(lease granted)--> REGISTER --(broker key created)--> READ --(range answered,
 *     watch started)--> LIVE
 *   REGISTER --(key still held by an old incarnation)--> retried every tick
 *   LIVE --(keepalive says the lease is gone)--> GRANT (fenced until registered again)
 *   LIVE --(keepalive succeeds after the fencing deadline passed)--> READ (the view read
 *     again; fenced until then)
 *   any --(cluster_stop)--> STOPPING --(revoked, leadership gone or bound, ops done)--> freed
 */
#include "replication/cluster.h"

#include "base/assert.h"
#include "base/clock.h"
#include "base/diag.h"
#include "base/errors.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum reg_state { REG_GRANT, REG_REGISTER, REG_READ, REG_LIVE, REG_STOPPING };

struct cwrite;

struct cluster {
	struct reactor *r;
	struct metastore *ms;
	struct cluster_hooks hooks;
	int32_t id;
	char host[256];
	int32_t port;
	int64_t ttl_ms;
	char prefix[128];
	size_t prefix_len;

	enum reg_state state;
	bool op_busy; /* reg_op is out */
	struct metastore_op reg_op;
	int64_t lease_id;
	int64_t lease_granted_ms;  /* the TTL granted, ms */
	int64_t reg_revision;      /* the revision of our broker key's creation */
	int64_t lease_deadline;    /* monotonic ms: fenced from here on */
	int64_t fence_catchup_rev; /* after a fence: the view must reach this to lead again */
	bool fenced_reported;
	bool reread_after_fence; /* the READ state reads the view again after a fence */
	bool keepalive_busy;
	int64_t keepalive_sent;
	int64_t next_keepalive;
	struct metastore_op keepalive_op;
	bool campaign_busy;
	struct metastore_op campaign_op;

	bool watching;
	struct metastore_watch watch;
	int64_t view_revision;
	struct cluster_broker brokers[CLUSTER_BROKERS_MAX];
	size_t brokers_count;
	char cluster_id[64]; /* "" until the view has it */
	char id_proposal[64];
	bool id_proposed;
	struct metastore_op id_op;
	int32_t controller_id;
	int64_t controller_epoch; /* the controller key's create revision */
	int64_t controller_lease;
	struct cluster_topic *topics;
	size_t topics_count;

	struct cwrite *waiting;   /* writes done, waiting for the view to reach them */
	struct cwrite *proposals; /* this leader's ISR changes the controller has not decided */
	unsigned ops_inflight;    /* metastore calls out (other than reg/keepalive/campaign) */
	struct io_timer tick;
	bool tick_armed;
	struct io_op reconcile_op;
	bool reconcile_scheduled;
	struct io_op notify_op;
	bool notify_scheduled;

	void (*stop_done)(void *arg);
	void *stop_arg;
	int64_t stop_deadline;
	bool revoke_sent;
};

/* How often the tick runs; the fencing deadline is checked this often, so the margin below
 * covers it. */
#define CLUSTER_TICK_MS 50
/* The fencing deadline comes this long before the lease could expire: the tick's period, the
 * time etcd may take to see the keepalive (the deadline counts from when it was sent), and
 * clock-rate differences. */
#define CLUSTER_FENCE_MARGIN_MS 500
/* A controlled shutdown waits at most this long for leadership to move away. */
#define CLUSTER_STOP_WAIT_MS 10000
/* Partition writes the controller keeps in flight at once. */
#define CLUSTER_WRITES_MAX 64

/* ---- keys and values --------------------------------------------------------------------- */

static size_t key_of(const struct cluster *c, char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static size_t key_of(const struct cluster *c, char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(out, cap, "%s", c->prefix);
	n += vsnprintf(out + n, cap - (size_t)n, fmt, ap);
	va_end(ap);
	ASSERT(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

#define KEY_BYTES (TOPIC_NAME_BYTES_MAX + 192)

static char *json_text(json_t *o, size_t *len)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (s)
		*len = strlen(s);
	return s;
}

static json_t *int_array(const int32_t *v, int32_t n)
{
	json_t *a = json_array();
	for (int32_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return a;
}

static char *pstate_encode(const struct cluster_pstate *s, size_t *len)
{
	json_t *o = json_pack("{s:i,s:i,s:o}", "leader", s->leader, "leader_epoch", s->leader_epoch,
	                      "isr", int_array(s->isr, s->isr_count));
	return json_text(o, len);
}

static int read_ids(json_t *a, int32_t *out, int32_t max, int32_t *count)
{
	if (!json_is_array(a) || json_array_size(a) > (size_t)max)
		return -EINVAL;
	*count = 0;
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > INT32_MAX)
			return -EINVAL;
		out[(*count)++] = (int32_t)json_integer_value(v);
	}
	return 0;
}

int cluster_pstate_decode(const uint8_t *p, size_t len, struct cluster_pstate *out)
{
	json_t *o = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *leader = json_object_get(o, "leader"), *epoch = json_object_get(o, "leader_epoch");
	int rc = -EINVAL;
	if (json_is_integer(leader) && json_is_integer(epoch) && json_integer_value(leader) >= -1 &&
	    json_integer_value(leader) <= INT32_MAX && json_integer_value(epoch) >= 0 &&
	    json_integer_value(epoch) <= INT32_MAX) {
		out->leader = (int32_t)json_integer_value(leader);
		out->leader_epoch = (int32_t)json_integer_value(epoch);
		rc = read_ids(json_object_get(o, "isr"), out->isr, CLUSTER_REPLICAS_MAX,
		              &out->isr_count);
		if (rc == 0 && out->isr_count == 0)
			rc = -EINVAL;
	}
	json_decref(o);
	return rc;
}

static void topic_free(struct cluster_topic *t)
{
	if (!t)
		return;
	for (int32_t i = 0; i < t->configs_count; i++) {
		free(t->config_keys[i]);
		free(t->config_values[i]);
	}
	free(t->config_keys);
	free(t->config_values);
	free(t->replicas);
	free(t->states);
	free(t->reqs);
	free(t->name);
	free(t);
}

static void initial_state(struct cluster_topic *t, int32_t p)
{
	struct cluster_pstate *s = &t->states[p];
	const int32_t *r = &t->replicas[(size_t)p * (size_t)t->replication_factor];
	s->leader = r[0];
	s->leader_epoch = 0;
	s->isr_count = t->replication_factor;
	memcpy(s->isr, r, sizeof(int32_t) * (size_t)t->replication_factor);
}

static struct cluster_topic *topic_decode(const char *name, size_t name_len, const uint8_t *p,
                                          size_t len)
{
	json_t *o = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *np = json_object_get(o, "partitions"),
	       *rf = json_object_get(o, "replication_factor");
	json_t *reps = json_object_get(o, "replicas"), *cfgs = json_object_get(o, "configs");
	struct cluster_topic *t = NULL;
	if (!json_is_integer(np) || !json_is_integer(rf) || !json_is_array(reps) ||
	    json_integer_value(np) < 1 || json_integer_value(np) > TOPIC_PARTITIONS_MAX ||
	    json_integer_value(rf) < 1 || json_integer_value(rf) > CLUSTER_REPLICAS_MAX ||
	    json_array_size(reps) != (size_t)json_integer_value(np) ||
	    (cfgs && !json_is_object(cfgs)))
		goto bad;
	t = calloc(1, sizeof(*t));
	if (!t)
		goto bad;
	t->partitions_count = (int32_t)json_integer_value(np);
	t->replication_factor = (int16_t)json_integer_value(rf);
	t->name = strndup(name, name_len);
	t->replicas =
	    calloc((size_t)t->partitions_count * (size_t)t->replication_factor, sizeof(int32_t));
	t->states = calloc((size_t)t->partitions_count, sizeof(*t->states));
	t->reqs = calloc((size_t)t->partitions_count, sizeof(*t->reqs));
	if (!t->name || !t->replicas || !t->states || !t->reqs)
		goto bad;
	for (int32_t i = 0; i < t->partitions_count; i++) {
		int32_t n;
		if (read_ids(json_array_get(reps, (size_t)i),
		             &t->replicas[(size_t)i * (size_t)t->replication_factor],
		             t->replication_factor, &n) < 0 ||
		    n != t->replication_factor)
			goto bad;
		initial_state(t, i);
	}
	size_t n = cfgs ? json_object_size(cfgs) : 0;
	if (n) {
		t->config_keys = calloc(n, sizeof(char *));
		t->config_values = calloc(n, sizeof(char *));
		if (!t->config_keys || !t->config_values)
			goto bad;
		const char *k;
		json_t *v;
		json_object_foreach(cfgs, k, v)
		{
			if (!json_is_string(v))
				goto bad;
			t->config_keys[t->configs_count] = strdup(k);
			t->config_values[t->configs_count] = strdup(json_string_value(v));
			t->configs_count++;
			if (!t->config_keys[t->configs_count - 1] ||
			    !t->config_values[t->configs_count - 1])
				goto bad;
		}
	}
	json_decref(o);
	return t;
bad:
	json_decref(o);
	topic_free(t);
	return NULL;
}

static char *topic_encode(int32_t partitions, int16_t rf, const int32_t *replicas,
                          int32_t configs_count, const char *const *keys, const char *const *values,
                          size_t *len)
{
	json_t *reps = json_array(), *cfgs = json_object();
	for (int32_t i = 0; reps && i < partitions; i++)
		json_array_append_new(reps, int_array(&replicas[(size_t)i * (size_t)rf], rf));
	for (int32_t i = 0; cfgs && i < configs_count; i++)
		json_object_set_new(cfgs, keys[i], json_string(values[i]));
	json_t *o = json_pack("{s:i,s:i,s:o,s:o}", "partitions", partitions, "replication_factor",
	                      rf, "replicas", reps, "configs", cfgs);
	return json_text(o, len);
}

/* Kafka's placement without racks: partition p's replicas are the live brokers from
 * (start + p) on, in id order, wrapping. */
int cluster_assign(const int32_t *brokers, size_t brokers_count, int32_t partitions, int16_t rf,
                   uint32_t start, int32_t *out)
{
	if (rf < 1 || (size_t)rf > brokers_count)
		return -EDOM;
	for (int32_t p = 0; p < partitions; p++)
		for (int16_t j = 0; j < rf; j++)
			out[(size_t)p * (size_t)rf + (size_t)j] =
			    brokers[((size_t)start + (size_t)p + (size_t)j) % brokers_count];
	return 0;
}

/* One compare on key, then one put of it: the shape of every write here but the partition
 * states'. */
static void put_if(struct metastore *ms, struct metastore_op *op, const char *key, size_t key_len,
                   enum metastore_cmp_target target, int64_t revision, const char *value,
                   size_t value_len, int64_t lease)
{
	struct metastore_cmp cmp = { (const uint8_t *)key, key_len, target, revision };
	struct metastore_txn_op put = { METASTORE_TXN_PUT, (const uint8_t *)key,
		                        key_len,           (const uint8_t *)value,
		                        value_len,         lease };
	struct metastore_txn txn = { &cmp, 1, &put, 1 };
	metastore_txn(ms, op, &txn);
}

/* ---- the view ---------------------------------------------------------------------------- */

static struct cluster_topic *find_topic(const struct cluster *c, const char *name, size_t len)
{
	for (struct cluster_topic *t = c->topics; t; t = t->next)
		if (strlen(t->name) == len && memcmp(t->name, name, len) == 0)
			return t;
	return NULL;
}

static struct cluster_broker *find_broker(struct cluster *c, int32_t id)
{
	for (size_t i = 0; i < c->brokers_count; i++)
		if (c->brokers[i].id == id)
			return &c->brokers[i];
	return NULL;
}

static bool alive(const struct cluster *c, int32_t id)
{
	return cluster_find_broker(c, id) != NULL;
}

static void broker_remove(struct cluster *c, int32_t id)
{
	for (size_t i = 0; i < c->brokers_count; i++)
		if (c->brokers[i].id == id) {
			memmove(&c->brokers[i], &c->brokers[i + 1],
			        (c->brokers_count - i - 1) * sizeof(c->brokers[0]));
			c->brokers_count--;
			return;
		}
}

static void broker_put(struct cluster *c, int32_t id, const struct metastore_kv *kv)
{
	json_t *o = json_loadb((const char *)kv->value, kv->value_len, 0, NULL);
	json_t *h = json_object_get(o, "host"), *pt = json_object_get(o, "port");
	if (!json_is_string(h) || !json_is_integer(pt)) {
		diag_warn("cluster: broker %d: unreadable registration, ignored", id);
		json_decref(o);
		return;
	}
	struct cluster_broker *b = find_broker(c, id);
	if (!b) {
		if (c->brokers_count == CLUSTER_BROKERS_MAX) {
			diag_warn("cluster: more than %d brokers, %d ignored", CLUSTER_BROKERS_MAX,
			          id);
			json_decref(o);
			return;
		}
		size_t i = c->brokers_count;
		while (i > 0 && c->brokers[i - 1].id > id) {
			c->brokers[i] = c->brokers[i - 1];
			i--;
		}
		b = &c->brokers[i];
		c->brokers_count++;
	}
	b->id = id;
	snprintf(b->host, sizeof(b->host), "%s", json_string_value(h));
	b->port = (int32_t)json_integer_value(pt);
	b->create_revision = kv->create_revision;
	b->lease = kv->lease;
	json_decref(o);
}

static void topic_remove(struct cluster *c, struct cluster_topic *t)
{
	for (struct cluster_topic **pp = &c->topics; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			c->topics_count--;
			topic_free(t);
			return;
		}
}

/* The part of a key after the prefix and a section ("brokers/"), or NULL. */
static const char *section(const struct cluster *c, const struct metastore_kv *kv, const char *sec,
                           size_t *rest_len)
{
	size_t sl = strlen(sec);
	if (kv->key_len < c->prefix_len + sl || memcmp(kv->key + c->prefix_len, sec, sl) != 0)
		return NULL;
	*rest_len = kv->key_len - c->prefix_len - sl;
	return (const char *)kv->key + c->prefix_len + sl;
}

static bool parse_i32(const char *s, size_t len, int32_t *out)
{
	if (len == 0 || len > 10)
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > INT32_MAX)
		return false;
	*out = (int32_t)v;
	return true;
}

/* Pass 1: brokers, controller, topics. */
static void apply_meta(struct cluster *c, const struct metastore_event *e)
{
	const struct metastore_kv *kv = &e->kv;
	bool put = e->type == METASTORE_EVENT_PUT;
	size_t n;
	const char *rest;
	if ((rest = section(c, kv, "brokers/", &n))) {
		int32_t id;
		if (!parse_i32(rest, n, &id))
			return;
		if (put)
			broker_put(c, id, kv);
		else
			broker_remove(c, id);
	} else if ((rest = section(c, kv, "id", &n)) && n == 0) {
		json_t *o =
		    put ? json_loadb((const char *)kv->value, kv->value_len, 0, NULL) : NULL;
		json_t *id = json_object_get(o, "cluster_id");
		snprintf(c->cluster_id, sizeof(c->cluster_id), "%s",
		         json_is_string(id) ? json_string_value(id) : "");
		json_decref(o);
	} else if ((rest = section(c, kv, "controller", &n)) && n == 0) {
		if (!put) {
			c->controller_id = -1;
			c->controller_epoch = 0;
			c->controller_lease = 0;
			return;
		}
		json_t *o = json_loadb((const char *)kv->value, kv->value_len, 0, NULL);
		json_t *b = json_object_get(o, "broker");
		c->controller_id = json_is_integer(b) ? (int32_t)json_integer_value(b) : -1;
		c->controller_epoch = kv->create_revision;
		c->controller_lease = kv->lease;
		json_decref(o);
	} else if ((rest = section(c, kv, "topics/", &n))) {
		struct cluster_topic *old = find_topic(c, rest, n);
		if (!put) {
			if (old)
				topic_remove(c, old);
			return;
		}
		struct cluster_topic *t = topic_decode(rest, n, kv->value, kv->value_len);
		if (!t) {
			diag_warn("cluster: topic %.*s: unreadable definition, ignored", (int)n,
			          rest);
			return;
		}
		t->create_revision = kv->create_revision;
		t->seen = true;
		if (old && old->create_revision == kv->create_revision &&
		    old->partitions_count == t->partitions_count &&
		    old->replication_factor == t->replication_factor) {
			/* A config change: keep the partition states. */
			memcpy(t->states, old->states,
			       sizeof(*t->states) * (size_t)t->partitions_count);
			memcpy(t->reqs, old->reqs, sizeof(*t->reqs) * (size_t)t->partitions_count);
		}
		if (old)
			topic_remove(c, old);
		t->next = c->topics;
		c->topics = t;
		c->topics_count++;
	}
}

/* The topic and partition of "<section><topic>/<p>", or NULL. */
static struct cluster_topic *partition_key(struct cluster *c, const struct metastore_kv *kv,
                                           const char *sec, int32_t *p)
{
	size_t n;
	const char *rest = section(c, kv, sec, &n);
	if (!rest)
		return NULL;
	const char *slash = memrchr(rest, '/', n);
	if (!slash || !parse_i32(slash + 1, n - (size_t)(slash + 1 - rest), p))
		return NULL;
	struct cluster_topic *t = find_topic(c, rest, (size_t)(slash - rest));
	return t && *p < t->partitions_count ? t : NULL;
}

/* Pass 2: a leader's ISR change request. One left by an older topic of the same name is kept
 * with an impossible base, so the controller refuses (deletes) it. */
static void apply_isr_request(struct cluster *c, const struct metastore_event *e)
{
	int32_t p;
	struct cluster_topic *t = partition_key(c, &e->kv, "isr/", &p);
	if (!t)
		return;
	struct cluster_isr_req *q = &t->reqs[p];
	if (e->type == METASTORE_EVENT_DELETE) {
		if (e->kv.mod_revision >= q->revision)
			q->present = false;
		return;
	}
	*q =
	    (struct cluster_isr_req){ .present = true, .revision = e->kv.mod_revision, .base = -1 };
	json_t *o = json_loadb((const char *)e->kv.value, e->kv.value_len, 0, NULL);
	json_t *l = json_object_get(o, "leader"), *ep = json_object_get(o, "leader_epoch"),
	       *b = json_object_get(o, "base");
	if (e->kv.mod_revision >= t->create_revision && json_is_integer(l) && json_is_integer(ep) &&
	    json_is_integer(b) &&
	    read_ids(json_object_get(o, "isr"), q->isr, CLUSTER_REPLICAS_MAX, &q->isr_count) == 0) {
		q->leader = (int32_t)json_integer_value(l);
		q->leader_epoch = (int32_t)json_integer_value(ep);
		q->base = json_integer_value(b);
	}
	json_decref(o);
}

/* Pass 2: partition states, once their topics are known. */
static void apply_partition(struct cluster *c, const struct metastore_event *e)
{
	const struct metastore_kv *kv = &e->kv;
	size_t n;
	if (section(c, kv, "isr/", &n)) {
		apply_isr_request(c, e);
		return;
	}
	const char *rest = section(c, kv, "partitions/", &n);
	if (!rest)
		return;
	const char *slash = memrchr(rest, '/', n);
	int32_t p;
	if (!slash || !parse_i32(slash + 1, n - (size_t)(slash + 1 - rest), &p))
		return;
	struct cluster_topic *t = find_topic(c, rest, (size_t)(slash - rest));
	if (!t || p >= t->partitions_count)
		return;
	struct cluster_pstate *s = &t->states[p];
	if (e->type == METASTORE_EVENT_PUT && kv->mod_revision <= s->mod_revision)
		return; /* already known (our own write, applied from etcd's answer) */
	bool stale = kv->mod_revision < t->create_revision; /* left by an older topic */
	if (e->type == METASTORE_EVENT_DELETE || stale) {
		initial_state(t, p);
		s->mod_revision = e->type == METASTORE_EVENT_DELETE ? 0 : kv->mod_revision;
		return;
	}
	struct cluster_pstate ns;
	if (cluster_pstate_decode(kv->value, kv->value_len, &ns) < 0) {
		diag_warn("cluster: %.*s: unreadable partition state, ignored", (int)kv->key_len,
		          (const char *)kv->key);
		s->mod_revision = kv->mod_revision; /* the next write must compare with it */
		return;
	}
	ns.mod_revision = kv->mod_revision;
	ns.writing = s->writing;
	*s = ns;
}

static void schedule_reconcile(struct cluster *c);
static void schedule_notify(struct cluster *c);
static void campaign(struct cluster *c);
static void finish_waiting(struct cluster *c);
static void resolve_proposals(struct cluster *c, bool stopping);

static void watched(struct metastore_watch *w, const struct metastore_watch_batch *b)
{
	struct cluster *c = container_of(w, struct cluster, watch);
	if (b->err) {
		c->watching = false;
		return;
	}
	if (b->reset) {
		c->brokers_count = 0;
		c->controller_id = -1;
		c->controller_epoch = 0;
		for (struct cluster_topic *t = c->topics; t; t = t->next)
			t->seen = false;
	}
	for (size_t i = 0; i < b->events_count; i++)
		apply_meta(c, &b->events[i]);
	if (b->reset) {
		for (struct cluster_topic *t = c->topics, *next; t; t = next) {
			next = t->next;
			if (!t->seen)
				topic_remove(c, t);
		}
	}
	for (size_t i = 0; i < b->events_count; i++)
		apply_partition(c, &b->events[i]);
	if (b->revision > c->view_revision)
		c->view_revision = b->revision;
	finish_waiting(c);
	resolve_proposals(c, false);
	if (c->controller_id < 0)
		campaign(c);
	schedule_reconcile(c);
	schedule_notify(c);
}

/* ---- writes that wait for the view -------------------------------------------------------- */

enum cwrite_kind { CW_TOPIC_CREATE, CW_TOPIC_DELETE, CW_TOPIC_ALTER, CW_PARTITION, CW_ISR };

struct cwrite {
	struct metastore_op op;
	struct cluster *c;
	enum cwrite_kind kind;
	void (*done)(void *arg, int err);
	void (*isr_done)(void *arg, int err, int64_t revision);
	void *arg;
	int err;
	int64_t wait_revision;
	char topic[TOPIC_NAME_BYTES_MAX + 1];
	int32_t partition;
	char key[KEY_BYTES];
	size_t key_len;
	char *value; /* owned (json_dumps) */
	size_t value_len;
	struct cwrite *next;
	/* CW_ISR: the proposal (wait_revision: its request key's revision once written) */
	int64_t base;
	int32_t epoch;
	int32_t isr_count;
	int32_t isr[CLUSTER_REPLICAS_MAX];
	int64_t deadline_ms;
	bool withdrawing;
};

static struct cwrite *cwrite_new(struct cluster *c, enum cwrite_kind kind,
                                 void (*done)(void *, int), void *arg)
{
	struct cwrite *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->c = c;
	w->kind = kind;
	w->done = done;
	w->arg = arg;
	w->op.arg = w;
	return w;
}

static void cwrite_finish(struct cwrite *w)
{
	if (w->done)
		w->done(w->arg, w->err);
	free(w->value);
	free(w);
}

/* A write whose caller waits until the view reflects it (or it failed). */
static void cwrite_wait(struct cwrite *w)
{
	struct cluster *c = w->c;
	if (w->err || c->view_revision >= w->wait_revision || c->state == REG_STOPPING) {
		cwrite_finish(w);
		return;
	}
	w->next = c->waiting;
	c->waiting = w;
}

static void finish_waiting(struct cluster *c)
{
	struct cwrite **pp = &c->waiting;
	while (*pp) {
		struct cwrite *w = *pp;
		if (c->view_revision >= w->wait_revision || c->state == REG_STOPPING) {
			*pp = w->next;
			cwrite_finish(w);
		} else {
			pp = &w->next;
		}
	}
}

/* ---- notifications ----------------------------------------------------------------------- */

static void notify_now(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct cluster *c = container_of(op, struct cluster, notify_op);
	c->notify_scheduled = false;
	if (c->hooks.changed)
		c->hooks.changed(c->hooks.arg);
}

static void schedule_notify(struct cluster *c)
{
	if (c->notify_scheduled)
		return;
	c->notify_scheduled = true;
	reactor_defer(c->r, &c->notify_op, notify_now, 0);
}

/* ---- registration and the lease ----------------------------------------------------------- */

static void start_grant(struct cluster *c);
static void propose_id(struct cluster *c);

static void read_done(struct metastore_op *op)
{
	struct cluster *c = op->arg;
	c->op_busy = false;
	if (c->state == REG_STOPPING)
		return;
	if (c->state == REG_GRANT) { /* the lease expired meanwhile (keepalive_done) */
		start_grant(c);
		return;
	}
	if (op->err) {
		diag_warn("cluster: reading the metadata: %s; retrying", tape_strerror(op->err));
		c->state = REG_READ; /* the tick retries */
		return;
	}
	if (op->more) {
		diag_error("cluster: the metadata has more keys than one read takes (%d)",
		           METASTORE_RANGE_KVS_MAX);
	}
	/* The read is the first batch of the watch: a reset. */
	struct metastore_event *evs = NULL;
	if (op->kvs_count) {
		evs = calloc(op->kvs_count, sizeof(*evs));
		if (!evs) {
			c->state = REG_READ;
			return;
		}
	}
	for (size_t i = 0; i < op->kvs_count; i++) {
		evs[i].type = METASTORE_EVENT_PUT;
		evs[i].kv = op->kvs[i];
	}
	if (c->watching) {
		metastore_watch_stop(&c->watch);
		c->watching = false;
	}
	c->view_revision = 0;
	struct metastore_watch_batch b = { .reset = true,
		                           .events = evs,
		                           .events_count = op->kvs_count,
		                           .revision = op->revision };
	c->watch.fn = watched;
	watched(&c->watch, &b);
	free(evs);
	int rc = metastore_watch_start(c->ms, &c->watch, c->prefix, c->prefix_len, op->revision + 1,
	                               watched);
	if (rc < 0) {
		diag_error("cluster: cannot watch %s: %s", c->prefix, tape_strerror(rc));
		c->state = REG_READ;
		return;
	}
	c->watching = true;
	c->state = REG_LIVE;
	if (c->reread_after_fence)
		diag_info("cluster: broker %d: view read again after a fence, at revision %lld",
		          c->id, (long long)c->view_revision);
	else
		diag_info("cluster: broker %d registered (revision %lld), view at revision %lld",
		          c->id, (long long)c->reg_revision, (long long)c->view_revision);
	c->reread_after_fence = false;
	propose_id(c);
	schedule_notify(c);
}

static void id_done(struct metastore_op *op)
{
	struct cluster *c = op->arg;
	c->ops_inflight--;
	if (op->err || !op->succeeded)
		c->id_proposed = false; /* another broker's won, or the next read tries again */
}

/* A cluster without an id takes the first broker's (create-if-absent), so every broker answers
 * Metadata with the same ClusterId: clients refuse brokers of two clusters. */
static void propose_id(struct cluster *c)
{
	if (c->cluster_id[0] || c->id_proposed || !c->id_proposal[0])
		return;
	char key[KEY_BYTES];
	size_t klen = key_of(c, key, sizeof(key), "id");
	size_t vlen;
	char *v = json_text(json_pack("{s:s}", "cluster_id", c->id_proposal), &vlen);
	if (!v)
		return;
	c->id_proposed = true;
	c->ops_inflight++;
	c->id_op.done = id_done;
	c->id_op.arg = c;
	put_if(c->ms, &c->id_op, key, klen, METASTORE_CMP_ABSENT, 0, v, vlen, 0);
	free(v);
}

static void start_read(struct cluster *c)
{
	c->state = REG_READ;
	c->op_busy = true;
	c->reg_op.done = read_done;
	c->reg_op.arg = c;
	metastore_range(c->ms, &c->reg_op, c->prefix, c->prefix_len, true, 0);
}

static void register_done(struct metastore_op *op)
{
	struct cluster *c = op->arg;
	c->op_busy = false;
	if (c->state == REG_STOPPING)
		return;
	if (op->err == -ENOENT) {
		diag_warn("cluster: the lease expired before registering; a new one");
		c->state = REG_GRANT;
		return;
	}
	if (c->state == REG_GRANT) { /* the lease expired meanwhile (keepalive_done) */
		start_grant(c);
		return;
	}
	if (op->err) {
		diag_warn("cluster: registering broker %d: %s; retrying", c->id,
		          tape_strerror(op->err));
		return; /* the tick retries */
	}
	if (!op->succeeded) {
		static int64_t said;
		if (clock_mono_ms() - said > 5000) {
			diag_info(
			    "cluster: broker %d is still registered by an earlier run; waiting "
			    "for its lease to expire",
			    c->id);
			said = clock_mono_ms();
		}
		return;
	}
	c->reg_revision = op->revision;
	start_read(c);
}

static void start_register(struct cluster *c)
{
	c->state = REG_REGISTER;
	char key[KEY_BYTES];
	size_t klen = key_of(c, key, sizeof(key), "brokers/%d", c->id);
	size_t vlen;
	char *v = json_text(json_pack("{s:s,s:i}", "host", c->host, "port", c->port), &vlen);
	if (!v)
		return; /* the tick retries */
	c->op_busy = true;
	c->reg_op.done = register_done;
	c->reg_op.arg = c;
	put_if(c->ms, &c->reg_op, key, klen, METASTORE_CMP_ABSENT, 0, v, vlen, c->lease_id);
	free(v);
}

static void grant_done(struct metastore_op *op)
{
	struct cluster *c = op->arg;
	c->op_busy = false;
	if (c->state == REG_STOPPING)
		return;
	if (op->err) {
		diag_warn("cluster: lease grant: %s; retrying", tape_strerror(op->err));
		return;
	}
	c->lease_id = op->lease_id;
	c->lease_granted_ms = op->ttl_s * 1000;
	c->lease_deadline = c->keepalive_sent + c->lease_granted_ms - CLUSTER_FENCE_MARGIN_MS;
	c->next_keepalive = clock_mono_ms() + c->lease_granted_ms / 3;
	start_register(c);
}

static void start_grant(struct cluster *c)
{
	c->state = REG_GRANT;
	c->op_busy = true;
	c->reg_op.done = grant_done;
	c->reg_op.arg = c;
	c->keepalive_sent = clock_mono_ms();
	metastore_lease_grant(c->ms, &c->reg_op, (c->ttl_ms + 999) / 1000);
}

static void keepalive_done(struct metastore_op *op)
{
	struct cluster *c = op->arg;
	c->keepalive_busy = false;
	if (c->state == REG_STOPPING)
		return;
	if (op->err == -ENOENT) {
		diag_error("cluster: broker %d's lease expired: fenced; registering again", c->id);
		c->lease_deadline = 0;
		c->lease_id = 0;
		if (!c->op_busy)
			start_grant(c);
		else
			c->state = REG_GRANT;
		schedule_notify(c);
		return;
	}
	if (op->err) {
		diag_warn("cluster: lease keepalive: %s", tape_strerror(op->err));
		c->next_keepalive = clock_mono_ms() + CLUSTER_TICK_MS * 4;
		return;
	}
	bool was_fenced = clock_mono_ms() >= c->lease_deadline;
	c->lease_deadline = c->keepalive_sent + op->ttl_s * 1000 - CLUSTER_FENCE_MARGIN_MS;
	c->next_keepalive = c->keepalive_sent + op->ttl_s * 1000 / 3;
	if (was_fenced) {
		/* Lead again only once the view shows what happened meanwhile: read it again
		 * (the state before REG_LIVE keeps the broker fenced until then). Waiting for
		 * the watch to pass op->revision instead could wait forever: that is etcd's
		 * revision, which writes outside our prefix raise too, and the watch only
		 * delivers revisions of events under it. */
		c->fence_catchup_rev = op->revision;
		diag_info("cluster: lease renewed after a fence; reading the view again (etcd at "
		          "revision %lld)",
		          (long long)op->revision);
		if (c->state == REG_LIVE) {
			c->reread_after_fence = true;
			if (c->op_busy)
				c->state = REG_READ; /* the tick starts it */
			else
				start_read(c);
		}
	}
	schedule_notify(c);
}

static void send_keepalive(struct cluster *c)
{
	c->keepalive_busy = true;
	c->keepalive_sent = clock_mono_ms();
	c->keepalive_op.done = keepalive_done;
	c->keepalive_op.arg = c;
	metastore_lease_keepalive(c->ms, &c->keepalive_op, c->lease_id);
}

bool cluster_may_lead(const struct cluster *c)
{
	return c->state == REG_LIVE && c->lease_id != 0 && clock_mono_ms() < c->lease_deadline &&
	       c->view_revision >= c->reg_revision && c->view_revision >= c->fence_catchup_rev;
}

/* ---- the controller --------------------------------------------------------------------- */

static void campaign_done(struct metastore_op *op)
{
	struct cluster *c = op->arg;
	c->campaign_busy = false;
	if (op->err == 0 && op->succeeded)
		diag_info("cluster: broker %d is the controller (epoch %lld)", c->id,
		          (long long)op->revision);
}

static void campaign(struct cluster *c)
{
	if (c->campaign_busy || c->state != REG_LIVE || !cluster_may_lead(c))
		return;
	char key[KEY_BYTES];
	size_t klen = key_of(c, key, sizeof(key), "controller");
	size_t vlen;
	char *v = json_text(json_pack("{s:i}", "broker", c->id), &vlen);
	if (!v)
		return;
	c->campaign_busy = true;
	c->campaign_op.done = campaign_done;
	c->campaign_op.arg = c;
	put_if(c->ms, &c->campaign_op, key, klen, METASTORE_CMP_ABSENT, 0, v, vlen, c->lease_id);
	free(v);
}

bool cluster_is_controller(const struct cluster *c)
{
	return c->controller_id == c->id && c->lease_id != 0 &&
	       c->controller_lease == c->lease_id && cluster_may_lead(c);
}

static void partition_write_done(struct metastore_op *op)
{
	struct cwrite *w = op->arg;
	struct cluster *c = w->c;
	c->ops_inflight--;
	struct cluster_topic *t = find_topic(c, w->topic, strlen(w->topic));
	if (t && w->partition < t->partitions_count)
		t->states[w->partition].writing = false;
	if (op->err)
		w->err = op->err;
	else if (!op->succeeded)
		w->err = -ESTALE;
	else
		w->wait_revision = op->revision;
	if (!w->err && w->value && t && w->partition < t->partitions_count &&
	    t->states[w->partition].mod_revision < op->revision) {
		/* The view takes what etcd now holds at once, so the next write compares with
		 * the right revision; the watch's copy of this event is then ignored. */
		bool writing = t->states[w->partition].writing;
		cluster_pstate_decode((const uint8_t *)w->value, w->value_len,
		                      &t->states[w->partition]);
		t->states[w->partition].mod_revision = op->revision;
		t->states[w->partition].writing = writing;
		schedule_notify(c);
	}
	if (w->kind == CW_PARTITION && w->err && w->err != -ESTALE)
		diag_warn("cluster: writing %s: %s", w->key, tape_strerror(w->err));
	schedule_reconcile(c);
	free(w->value);
	free(w);
}

/* The controller writes a partition state (ns), and/or consumes the partition's ISR change
 * request (req: deleted in the same transaction; with ns NULL, only deleted: refused). Compares:
 * the partition key's mod revision with the view's, the controller key's create revision with
 * the controller epoch, and the request key's revision with the one decided on. */
static int write_pstate(struct cluster *c, struct cluster_topic *t, int32_t p,
                        const struct cluster_pstate *ns, const struct cluster_isr_req *req)
{
	struct cluster_pstate *s = &t->states[p];
	if (s->writing)
		return -EBUSY;
	if (c->controller_epoch == 0)
		return -EAGAIN;
	struct cwrite *w = cwrite_new(c, CW_PARTITION, NULL, NULL);
	if (!w)
		return -ENOMEM;
	snprintf(w->topic, sizeof(w->topic), "%s", t->name);
	w->partition = p;
	w->key_len = key_of(c, w->key, sizeof(w->key), "partitions/%s/%d", t->name, p);
	w->value = ns ? pstate_encode(ns, &w->value_len) : strdup("");
	if (!w->value) {
		free(w);
		return -ENOMEM;
	}
	char ckey[KEY_BYTES], rkey[KEY_BYTES];
	size_t cklen = key_of(c, ckey, sizeof(ckey), "controller");
	size_t rklen = key_of(c, rkey, sizeof(rkey), "isr/%s/%d", t->name, p);
	struct metastore_cmp cmps[3] = {
		{ (const uint8_t *)w->key, w->key_len, METASTORE_CMP_MOD, s->mod_revision },
		{ (const uint8_t *)ckey, cklen, METASTORE_CMP_CREATE, c->controller_epoch },
		{ (const uint8_t *)rkey, rklen, METASTORE_CMP_MOD, req ? req->revision : 0 },
	};
	struct metastore_txn_op ops[2];
	size_t n_ops = 0;
	if (ns)
		ops[n_ops++] =
		    (struct metastore_txn_op){ METASTORE_TXN_PUT, (const uint8_t *)w->key,
			                       w->key_len,        (const uint8_t *)w->value,
			                       w->value_len,      0 };
	if (req)
		ops[n_ops++] = (struct metastore_txn_op){
			METASTORE_TXN_DELETE, (const uint8_t *)rkey, rklen, NULL, 0, 0
		};
	struct metastore_txn txn = { cmps, req ? 3 : 2, ops, n_ops };
	if (!ns) {
		free(w->value);
		w->value = NULL; /* nothing of ours for the view to take from the answer */
	}
	s->writing = true;
	c->ops_inflight++;
	w->op.done = partition_write_done;
	metastore_txn(c->ms, &w->op, &txn);
	return 0;
}

/* What the controller wants a partition's state to be; false: leave it. */
static bool desired_state(const struct cluster *c, const struct cluster_topic *t, int32_t p,
                          struct cluster_pstate *out)
{
	const struct cluster_pstate *s = &t->states[p];
	const int32_t *reps = &t->replicas[(size_t)p * (size_t)t->replication_factor];
	*out = *s;
	int32_t live_isr[CLUSTER_REPLICAS_MAX], n = 0;
	for (int32_t i = 0; i < s->isr_count; i++)
		if (alive(c, s->isr[i]))
			live_isr[n++] = s->isr[i];
	if (s->leader >= 0 && alive(c, s->leader)) {
		if (n == s->isr_count)
			return false;
		out->isr_count = n; /* the leader is live and in it, so n >= 1 */
		memcpy(out->isr, live_isr, sizeof(int32_t) * (size_t)n);
		return true;
	}
	/* No live leader: the first replica, in assignment order, that is in the live ISR. */
	for (int16_t j = 0; j < t->replication_factor; j++)
		for (int32_t i = 0; i < n; i++)
			if (live_isr[i] == reps[j]) {
				out->leader = reps[j];
				out->leader_epoch = s->leader_epoch + 1;
				out->isr_count = n;
				memcpy(out->isr, live_isr, sizeof(int32_t) * (size_t)n);
				return true;
			}
	if (s->leader == -1)
		return false;
	/* Nobody in the ISR lives: no leader until one of them returns (no unclean election);
	 * the ISR stays as it was, since every member of it may hold committed records. */
	out->leader = -1;
	out->leader_epoch = s->leader_epoch + 1;
	return true;
}

/* AlterPartition's checks: made by the partition's leader in its epoch, on the state the view
 * holds, to an ISR of distinct live replicas that includes the leader. */
static bool isr_request_valid(const struct cluster *c, const struct cluster_topic *t, int32_t p)
{
	const struct cluster_pstate *s = &t->states[p];
	const struct cluster_isr_req *q = &t->reqs[p];
	if (q->base != s->mod_revision || q->leader != s->leader ||
	    q->leader_epoch != s->leader_epoch || q->isr_count < 1)
		return false;
	bool has_leader = false;
	for (int32_t i = 0; i < q->isr_count; i++) {
		if (!cluster_topic_has_replica(t, p, q->isr[i]) || !alive(c, q->isr[i]))
			return false;
		for (int32_t j = 0; j < i; j++)
			if (q->isr[j] == q->isr[i])
				return false;
		has_leader |= q->isr[i] == q->leader;
	}
	return has_leader;
}

static void reconcile_now(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct cluster *c = container_of(op, struct cluster, reconcile_op);
	c->reconcile_scheduled = false;
	if (c->state == REG_STOPPING || !cluster_is_controller(c))
		return;
	for (struct cluster_topic *t = c->topics; t; t = t->next)
		for (int32_t p = 0; p < t->partitions_count; p++) {
			if (c->ops_inflight >= CLUSTER_WRITES_MAX)
				return; /* a completion reconciles again */
			struct cluster_pstate ns;
			if (t->states[p].writing || !desired_state(c, t, p, &ns))
				continue;
			if (ns.leader != t->states[p].leader)
				diag_info("cluster: %s-%d: leader %d -> %d, epoch %d", t->name, p,
				          t->states[p].leader, ns.leader, ns.leader_epoch);
			write_pstate(c, t, p, &ns, NULL);
		}
	/* Then the leaders' ISR change requests, once nothing above is due for the partition. */
	for (struct cluster_topic *t = c->topics; t; t = t->next)
		for (int32_t p = 0; p < t->partitions_count; p++) {
			if (c->ops_inflight >= CLUSTER_WRITES_MAX)
				return;
			struct cluster_pstate ns;
			if (!t->reqs[p].present || t->states[p].writing ||
			    desired_state(c, t, p, &ns))
				continue;
			bool ok = isr_request_valid(c, t, p);
			diag_info("cluster: %s-%d: %s leader %d's ISR change to %d member(s)",
			          t->name, p, ok ? "taking" : "refusing", t->reqs[p].leader,
			          t->reqs[p].isr_count);
			if (ok) {
				ns = t->states[p];
				ns.isr_count = t->reqs[p].isr_count;
				memcpy(ns.isr, t->reqs[p].isr,
				       sizeof(int32_t) * (size_t)ns.isr_count);
			}
			write_pstate(c, t, p, ok ? &ns : NULL, &t->reqs[p]);
		}
}

static void schedule_reconcile(struct cluster *c)
{
	if (c->reconcile_scheduled)
		return;
	c->reconcile_scheduled = true;
	reactor_defer(c->r, &c->reconcile_op, reconcile_now, 0);
}

/* ---- the tick ------------------------------------------------------------------------------ */

static void stop_progress(struct cluster *c);

static void tick(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct cluster *c = container_of(op, struct cluster, tick.op);
	c->tick_armed = false;
	if (c->state == REG_STOPPING) {
		stop_progress(c);
		return;
	}
	int64_t now = clock_mono_ms();
	if (!c->op_busy) {
		switch (c->state) {
		case REG_GRANT:
			start_grant(c);
			break;
		case REG_REGISTER:
			start_register(c);
			break;
		case REG_READ:
			start_read(c);
			break;
		default:
			break;
		}
	}
	if (c->lease_id && !c->keepalive_busy && now >= c->next_keepalive)
		send_keepalive(c);
	bool fenced = !cluster_may_lead(c);
	if (fenced != c->fenced_reported) {
		if (fenced && c->state == REG_LIVE)
			diag_warn("cluster: broker %d fenced: no lease renewal in time", c->id);
		c->fenced_reported = fenced;
		schedule_notify(c);
	}
	if (c->controller_id < 0)
		campaign(c);
	resolve_proposals(c, false); /* deadlines */
	c->tick_armed = true;
	reactor_timer_start(c->r, &c->tick, tick, CLUSTER_TICK_MS * 1000000ull);
}

int cluster_start(struct reactor *r, struct metastore *ms, const struct cluster_config *cfg,
                  const struct cluster_hooks *hooks, struct cluster **out)
{
	if (cfg->broker_id < 0 || !cfg->name || !cfg->name[0] || strchr(cfg->name, '/') ||
	    strlen(cfg->name) > 64 || cfg->session_timeout_ms < 2000 || !cfg->host)
		return -EINVAL;
	struct cluster *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->r = r;
	c->ms = ms;
	c->hooks = *hooks;
	c->id = cfg->broker_id;
	snprintf(c->host, sizeof(c->host), "%s", cfg->host);
	c->port = cfg->port;
	c->ttl_ms = cfg->session_timeout_ms;
	c->prefix_len = (size_t)snprintf(c->prefix, sizeof(c->prefix), "/%s/", cfg->name);
	snprintf(c->id_proposal, sizeof(c->id_proposal), "%s",
	         cfg->cluster_id ? cfg->cluster_id : "");
	c->controller_id = -1;
	start_grant(c);
	c->tick_armed = true;
	reactor_timer_start(r, &c->tick, tick, CLUSTER_TICK_MS * 1000000ull);
	*out = c;
	return 0;
}

/* ---- topics ------------------------------------------------------------------------------- */

static bool name_ok(const char *name)
{
	size_t n = strlen(name);
	return n && n <= TOPIC_NAME_BYTES_MAX && !strchr(name, '/');
}

static void view_write_done(struct metastore_op *op)
{
	struct cwrite *w = op->arg;
	struct cluster *c = w->c;
	c->ops_inflight--;
	if (op->err)
		w->err = op->err;
	else if (w->kind == CW_TOPIC_CREATE && !op->succeeded)
		w->err = -EEXIST;
	else if (w->kind == CW_TOPIC_ALTER && !op->succeeded)
		w->err = -ESTALE;
	else
		w->wait_revision = op->revision;
	cwrite_wait(w);
}

int cluster_create_topic(struct cluster *c, const char *name, int32_t partitions,
                         int16_t replication_factor, int32_t configs_count, const char *const *keys,
                         const char *const *values, void (*done)(void *arg, int err), void *arg)
{
	if (!name_ok(name) || partitions < 1 || partitions > TOPIC_PARTITIONS_MAX ||
	    replication_factor < 1 || replication_factor > CLUSTER_REPLICAS_MAX)
		return -EINVAL;
	int32_t ids[CLUSTER_BROKERS_MAX];
	for (size_t i = 0; i < c->brokers_count; i++)
		ids[i] = c->brokers[i].id;
	int32_t *reps = calloc((size_t)partitions * (size_t)replication_factor, sizeof(int32_t));
	if (!reps)
		return -ENOMEM;
	struct cwrite *w = cwrite_new(c, CW_TOPIC_CREATE, done, arg);
	if (!w) {
		free(reps);
		return -ENOMEM;
	}
	uint32_t start = (uint32_t)(clock_mono_ns() ^ (uint64_t)clock_wall_ms());
	if (cluster_assign(ids, c->brokers_count, partitions, replication_factor,
	                   c->brokers_count ? start % (uint32_t)c->brokers_count : 0, reps) < 0) {
		free(reps);
		free(w);
		return -EDOM;
	}
	snprintf(w->topic, sizeof(w->topic), "%s", name);
	w->key_len = key_of(c, w->key, sizeof(w->key), "topics/%s", name);
	w->value = topic_encode(partitions, replication_factor, reps, configs_count, keys, values,
	                        &w->value_len);
	free(reps);
	if (!w->value) {
		free(w);
		return -ENOMEM;
	}
	c->ops_inflight++;
	w->op.done = view_write_done;
	put_if(c->ms, &w->op, w->key, w->key_len, METASTORE_CMP_ABSENT, 0, w->value, w->value_len,
	       0);
	return 0;
}

static void delete_parts_done(struct metastore_op *op)
{
	struct cwrite *w = op->arg;
	struct cluster *c = w->c;
	if (op->err)
		w->err = op->err;
	else if (op->revision > w->wait_revision)
		w->wait_revision = op->revision;
	if (!w->err && !w->withdrawing) {
		/* Then any ISR change request left (withdrawing marks this second step). */
		w->withdrawing = true;
		w->key_len = key_of(c, w->key, sizeof(w->key), "isr/%s/", w->topic);
		metastore_delete(c->ms, &w->op, w->key, w->key_len, true);
		return;
	}
	c->ops_inflight--;
	cwrite_wait(w);
}

static void delete_topic_done(struct metastore_op *op)
{
	struct cwrite *w = op->arg;
	struct cluster *c = w->c;
	if (op->err || op->deleted == 0) {
		c->ops_inflight--;
		w->err = op->err ? op->err : -ENOENT;
		cwrite_finish(w);
		return;
	}
	w->wait_revision = op->revision;
	/* The partition states go next; a crash between the two leaves keys that the view
	 * recognises as an older topic's (their revision is below the new topic's creation). */
	w->key_len = key_of(c, w->key, sizeof(w->key), "partitions/%s/", w->topic);
	w->op.done = delete_parts_done;
	metastore_delete(c->ms, &w->op, w->key, w->key_len, true);
}

int cluster_delete_topic(struct cluster *c, const char *name, void (*done)(void *arg, int err),
                         void *arg)
{
	if (!name_ok(name))
		return -EINVAL;
	struct cwrite *w = cwrite_new(c, CW_TOPIC_DELETE, done, arg);
	if (!w)
		return -ENOMEM;
	snprintf(w->topic, sizeof(w->topic), "%s", name);
	w->key_len = key_of(c, w->key, sizeof(w->key), "topics/%s", name);
	c->ops_inflight++;
	w->op.done = delete_topic_done;
	metastore_delete(c->ms, &w->op, w->key, w->key_len, false);
	return 0;
}

int cluster_alter_topic_configs(struct cluster *c, const char *name, int32_t configs_count,
                                const char *const *keys, const char *const *values,
                                void (*done)(void *arg, int err), void *arg)
{
	struct cluster_topic *t = find_topic(c, name, strlen(name));
	if (!t)
		return -ENOENT;
	struct cwrite *w = cwrite_new(c, CW_TOPIC_ALTER, done, arg);
	if (!w)
		return -ENOMEM;
	snprintf(w->topic, sizeof(w->topic), "%s", name);
	w->key_len = key_of(c, w->key, sizeof(w->key), "topics/%s", name);
	w->value = topic_encode(t->partitions_count, t->replication_factor, t->replicas,
	                        configs_count, keys, values, &w->value_len);
	if (!w->value) {
		free(w);
		return -ENOMEM;
	}
	c->ops_inflight++;
	w->op.done = view_write_done;
	put_if(c->ms, &w->op, w->key, w->key_len, METASTORE_CMP_CREATE, t->create_revision,
	       w->value, w->value_len, 0);
	return 0;
}

static void proposal_finish(struct cluster *c, struct cwrite *w, int err, int64_t revision)
{
	for (struct cwrite **pp = &c->proposals; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	w->isr_done(w->arg, err, revision);
	free(w->value);
	free(w);
}

static void withdraw_done(struct metastore_op *op)
{
	struct cwrite *w = op->arg;
	struct cluster *c = w->c;
	c->ops_inflight--;
	w->withdrawing = false;
	if (op->err == 0 && op->succeeded) {
		proposal_finish(c, w, -ETIMEDOUT, 0);
		return;
	}
	/* The controller took it meanwhile (the view will say how), or etcd did not answer:
	 * either way the proposal stays pending; a failed withdrawal is retried. */
	w->deadline_ms = clock_mono_ms() + CLUSTER_ISR_WAIT_MS;
}

/* Decides this leader's pending proposals from the view: the partition's state moved past the
 * proposal's base (taken: 0, if it is the proposal; otherwise -ESTALE), or the request key is
 * gone with the state unchanged (refused), or nobody decided in time (withdrawn). A proposal
 * counts as failed only once its request can no longer be taken, so the leader never drops a
 * member that etcd may hold. */
static void resolve_proposals(struct cluster *c, bool stopping)
{
	int64_t now = clock_mono_ms();
	for (struct cwrite *w = c->proposals, *next; w; w = next) {
		next = w->next;
		if (w->withdrawing)
			continue;
		struct cluster_topic *t = find_topic(c, w->topic, strlen(w->topic));
		if (stopping || !t || w->partition >= t->partitions_count) {
			proposal_finish(c, w, stopping ? -ECANCELED : -ESTALE, 0);
			continue;
		}
		const struct cluster_pstate *s = &t->states[w->partition];
		const struct cluster_isr_req *q = &t->reqs[w->partition];
		if (s->mod_revision > w->base) {
			bool taken =
			    s->leader == c->id && s->leader_epoch == w->epoch &&
			    s->isr_count == w->isr_count &&
			    memcmp(s->isr, w->isr, sizeof(int32_t) * (size_t)w->isr_count) == 0;
			proposal_finish(c, w, taken ? 0 : -ESTALE, s->mod_revision);
		} else if (c->view_revision >= w->wait_revision &&
		           (!q->present || q->revision != w->wait_revision)) {
			proposal_finish(c, w, -ESTALE, 0);
		} else if (now >= w->deadline_ms) {
			char rkey[KEY_BYTES];
			size_t rklen =
			    key_of(c, rkey, sizeof(rkey), "isr/%s/%d", w->topic, w->partition);
			struct metastore_cmp cmp = { (const uint8_t *)rkey, rklen,
				                     METASTORE_CMP_MOD, w->wait_revision };
			struct metastore_txn_op del = {
				METASTORE_TXN_DELETE, (const uint8_t *)rkey, rklen, NULL, 0, 0
			};
			struct metastore_txn txn = { &cmp, 1, &del, 1 };
			w->withdrawing = true;
			c->ops_inflight++;
			w->op.done = withdraw_done;
			metastore_txn(c->ms, &w->op, &txn);
		}
	}
}

static void isr_request_done(struct metastore_op *op)
{
	struct cwrite *w = op->arg;
	struct cluster *c = w->c;
	c->ops_inflight--;
	if (op->err || !op->succeeded) {
		/* Not written: the state moved first, or etcd failed. */
		w->isr_done(w->arg, op->err ? op->err : -ESTALE, 0);
		free(w->value);
		free(w);
		return;
	}
	w->wait_revision = op->revision;
	w->deadline_ms = clock_mono_ms() + CLUSTER_ISR_WAIT_MS;
	w->next = c->proposals;
	c->proposals = w;
	schedule_reconcile(c); /* a controller leading this very partition decides at once */
	resolve_proposals(c, c->state == REG_STOPPING);
}

int cluster_propose_isr(struct cluster *c, const char *topic, int32_t partition, const int32_t *isr,
                        int32_t isr_count, void (*done)(void *arg, int err, int64_t revision),
                        void *arg)
{
	struct cluster_topic *t = find_topic(c, topic, strlen(topic));
	if (!t || partition < 0 || partition >= t->partitions_count || isr_count < 1 ||
	    isr_count > CLUSTER_REPLICAS_MAX)
		return -EINVAL;
	const struct cluster_pstate *s = &t->states[partition];
	if (s->leader != c->id || !cluster_may_lead(c) || c->state == REG_STOPPING)
		return -EPERM;
	for (struct cwrite *w = c->proposals; w; w = w->next)
		if (w->partition == partition && strcmp(w->topic, topic) == 0)
			return -EBUSY;
	struct cwrite *w = cwrite_new(c, CW_ISR, NULL, arg);
	if (!w)
		return -ENOMEM;
	w->isr_done = done;
	snprintf(w->topic, sizeof(w->topic), "%s", t->name);
	w->partition = partition;
	w->base = s->mod_revision;
	w->epoch = s->leader_epoch;
	w->isr_count = isr_count;
	memcpy(w->isr, isr, sizeof(int32_t) * (size_t)isr_count);
	w->key_len = key_of(c, w->key, sizeof(w->key), "isr/%s/%d", t->name, partition);
	w->value = json_text(json_pack("{s:i,s:i,s:o,s:I}", "leader", c->id, "leader_epoch",
	                               s->leader_epoch, "isr", int_array(isr, isr_count), "base",
	                               (json_int_t)w->base),
	                     &w->value_len);
	if (!w->value) {
		free(w);
		return -ENOMEM;
	}
	char pkey[KEY_BYTES];
	size_t pklen = key_of(c, pkey, sizeof(pkey), "partitions/%s/%d", t->name, partition);
	struct metastore_cmp cmp = { (const uint8_t *)pkey, pklen, METASTORE_CMP_MOD, w->base };
	struct metastore_txn_op put = { METASTORE_TXN_PUT, (const uint8_t *)w->key,
		                        w->key_len,        (const uint8_t *)w->value,
		                        w->value_len,      0 };
	struct metastore_txn txn = { &cmp, 1, &put, 1 };
	c->ops_inflight++;
	w->op.done = isr_request_done;
	metastore_txn(c->ms, &w->op, &txn);
	return 0;
}

/* ---- the view, for the server ---------------------------------------------------------------- */

const char *cluster_id(const struct cluster *c)
{
	return c->cluster_id[0] ? c->cluster_id : NULL;
}

int32_t cluster_controller_id(const struct cluster *c)
{
	return c->controller_id;
}

const struct cluster_broker *cluster_brokers(const struct cluster *c, size_t *count)
{
	*count = c->brokers_count;
	return c->brokers;
}

const struct cluster_broker *cluster_find_broker(const struct cluster *c, int32_t id)
{
	return find_broker((struct cluster *)c, id);
}

const struct cluster_topic *cluster_topics(const struct cluster *c)
{
	return c->topics;
}

const struct cluster_topic *cluster_find_topic(const struct cluster *c, const char *name,
                                               size_t len)
{
	return find_topic(c, name, len);
}

bool cluster_topic_has_replica(const struct cluster_topic *t, int32_t partition, int32_t id)
{
	const int32_t *r = &t->replicas[(size_t)partition * (size_t)t->replication_factor];
	for (int16_t j = 0; j < t->replication_factor; j++)
		if (r[j] == id)
			return true;
	return false;
}

/* ---- the controlled shutdown ---------------------------------------------------------------- */

static bool leads_any(const struct cluster *c)
{
	for (const struct cluster_topic *t = c->topics; t; t = t->next)
		for (int32_t p = 0; p < t->partitions_count; p++)
			if (t->states[p].leader == c->id) {
				/* A partition with no other live ISR member stays ours (leader -1
				 * or us): nobody can take it, so do not wait for it. */
				for (int32_t i = 0; i < t->states[p].isr_count; i++)
					if (t->states[p].isr[i] != c->id &&
					    alive(c, t->states[p].isr[i]))
						return true;
			}
	return false;
}

static void revoke_done(struct metastore_op *op)
{
	struct cluster *c = op->arg;
	c->op_busy = false;
	if (op->err && op->err != -ENOENT)
		diag_warn("cluster: revoking the lease: %s (it expires by itself)",
		          tape_strerror(op->err));
}

static void stop_progress(struct cluster *c)
{
	int64_t now = clock_mono_ms();
	if (!c->revoke_sent && !c->op_busy) {
		c->revoke_sent = true;
		if (c->lease_id) {
			c->op_busy = true;
			c->reg_op.done = revoke_done;
			c->reg_op.arg = c;
			metastore_lease_revoke(c->ms, &c->reg_op, c->lease_id);
			c->lease_id = 0;
		}
	}
	bool waiting_leaders = c->watching && leads_any(c) && now < c->stop_deadline;
	resolve_proposals(c, true); /* those not being withdrawn end now */
	if (!c->revoke_sent || waiting_leaders || c->op_busy || c->keepalive_busy ||
	    c->campaign_busy || c->ops_inflight || c->reconcile_scheduled || c->notify_scheduled) {
		c->tick_armed = true;
		reactor_timer_start(c->r, &c->tick, tick, CLUSTER_TICK_MS * 1000000ull);
		return;
	}
	if (c->watching) {
		metastore_watch_stop(&c->watch);
		c->watching = false;
	}
	finish_waiting(c);
	while (c->topics)
		topic_remove(c, c->topics);
	void (*done)(void *) = c->stop_done;
	void *arg = c->stop_arg;
	free(c);
	done(arg);
}

void cluster_stop(struct cluster *c, void (*done)(void *arg), void *arg)
{
	diag_info("cluster: broker %d leaving: moving leadership away", c->id);
	c->state = REG_STOPPING;
	c->stop_done = done;
	c->stop_arg = arg;
	c->stop_deadline = clock_mono_ms() + CLUSTER_STOP_WAIT_MS;
	c->lease_deadline = 0; /* fenced from now on: lead nothing while leaving */
	if (!c->tick_armed) {
		c->tick_armed = true;
		reactor_timer_start(c->r, &c->tick, tick, CLUSTER_TICK_MS * 1000000ull);
	}
}
