/*
 * consumer-groups/group.c: the group state machine (Kafka's GroupCoordinator, classic
 * protocol). The API and its contract are in group.h.
 *
 *                 join                  every member rejoined, or
 *     +-------+  (first member)  +-----------+  the (initial) delay passed  +------------+
 *     | Empty | ---------------> | Preparing | --------------------------> | Completing |
 *     +-------+                  | Rebalance | <-------------------------- | Rebalance  |
 *        ^ ^                     +-----------+   leave, expiry, new        +------------+
 *        | |  last member leaves    |  ^         metadata, sync too late         |
 *        | +------------------------+  |                                         | leader
 *        |                             |  leave, expiry, join with new metadata  | syncs
 *        |                             +------------------------------------+    v
 *        |            last member leaves or expires                       +--------+
 *        +----------------------------------------------------------------| Stable |
 *                                                                         +--------+
 *   Dead: a deleted group (DeleteGroups of an Empty group) is forgotten.
 *
 * Transitions and the functions that make them:
 *   Empty -> PreparingRebalance          join -> add_member -> prepare_rebalance (with the
 *                                        group.initial.rebalance.delay.ms wait)
 *   Stable/Completing -> Preparing       prepare_rebalance (join with new metadata, leave,
 *                                        session expiry, sync timeout); parked syncs get 27
 *   Preparing -> Completing              complete_join (every member rejoined, or the
 *                                        deadline): members that did not rejoin are removed,
 *                                        generation + 1, protocol by vote, leader kept or the
 *                                        first member, every parked join answered
 *   Preparing -> Empty                   complete_join with no member left
 *   Completing -> Stable                 sync from the leader: assignments stored, parked
 *                                        syncs answered
 *   any -> Empty                         remove_member of the last member
 *
 * Members are kept alive by heartbeats, syncs, commits and (re)joins; one whose session
 * timeout passes is removed, except while its join or sync is parked (Kafka's rule: the
 * coordinator is the one keeping it waiting). A new dynamic member of JoinGroup v4+ first
 * gets MEMBER_ID_REQUIRED with its id, and is a pending member until it rejoins with it or
 * its session timeout passes.
 */
#include "consumer-groups/group.h"

#include "base/assert.h"
#include "base/hash.h"
#include "base/limits.h"
#include "protocol/errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum gstate { G_EMPTY, G_PREPARING, G_COMPLETING, G_STABLE };

static const char *const state_names[] = { "Empty", "PreparingRebalance", "CompletingRebalance",
	                                   "Stable" };

struct proto {
	char *name;
	uint8_t *meta;
	int32_t meta_len;
};

struct member {
	struct member *next;
	char *id;
	char *instance_id;
	char *client_id;
	char *client_host;
	int32_t session_ms;
	int32_t rebalance_ms;
	struct proto *protos;
	int32_t protos_count;
	uint8_t *assignment;
	int32_t assignment_len;
	group_join_fn join_cb; /* parked JoinGroup */
	void *join_arg;
	group_sync_fn sync_cb; /* parked SyncGroup */
	void *sync_arg;
	int64_t session_deadline;
};

struct pending {
	struct pending *next;
	char *id;
	int64_t deadline;
};

struct group {
	struct group *hnext;
	char *id;
	enum gstate state;
	int32_t generation;
	char *protocol_type;
	char *protocol; /* chosen by the last completed join */
	char *leader;   /* member id */
	struct member *members;
	int32_t members_count;
	struct pending *pending;
	int64_t join_deadline; /* PreparingRebalance */
	bool initial_delay;
	int64_t initial_limit; /* the initial delay never passes the rebalance timeout */
	int64_t sync_deadline; /* CompletingRebalance */
	int64_t empty_since;
	int64_t committed_ms; /* the last standalone commit: its offsets may not be stored yet */
};

struct group_coordinator {
	struct group_config cfg;
	struct group **table;
	size_t cap;
	size_t count;
	uint64_t rng;
};

/* ---- small helpers ----------------------------------------------------------------------- */

static char *dup_kstr(struct kstr s)
{
	if (s.len < 0)
		return NULL;
	char *p = malloc((size_t)s.len + 1);
	ASSERT(p);
	memcpy(p, s.p, (size_t)s.len);
	p[s.len] = '\0';
	return p;
}

static char *dup_str(const char *s)
{
	return s ? dup_kstr(kstr_from(s)) : NULL;
}

static uint8_t *dup_bytes(const uint8_t *p, int32_t len)
{
	if (len <= 0)
		return NULL;
	uint8_t *q = malloc((size_t)len);
	ASSERT(q);
	memcpy(q, p, (size_t)len);
	return q;
}

static bool eq(const char *a, struct kstr b)
{
	return a && kstr_eq(b, a);
}

static uint64_t next_random(struct group_coordinator *gc)
{
	gc->rng ^= gc->rng << 13;
	gc->rng ^= gc->rng >> 7;
	gc->rng ^= gc->rng << 17;
	return gc->rng;
}

/* Kafka's member ids: client id, "-", a UUID. */
static char *new_member_id(struct group_coordinator *gc, struct kstr client_id)
{
	uint64_t a = next_random(gc), b = next_random(gc);
	int n = client_id.len > 0 ? client_id.len : 0;
	if (n > 128)
		n = 128;
	char *id = malloc((size_t)n + 48);
	ASSERT(id);
	snprintf(id, (size_t)n + 48, "%.*s-%08x-%04x-%04x-%04x-%012llx", n, n ? client_id.p : "",
	         (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xffff,
	         (unsigned)(b >> 48), (unsigned long long)(b & 0xffffffffffffull));
	return id;
}

/* ---- groups and members ------------------------------------------------------------------ */

static size_t slot(const struct group_coordinator *gc, const char *p, size_t len)
{
	return (size_t)hash64(p, len) & (gc->cap - 1);
}

static struct group *find_group(const struct group_coordinator *gc, struct kstr id)
{
	if (id.len <= 0)
		return NULL;
	for (struct group *g = gc->table[slot(gc, id.p, (size_t)id.len)]; g; g = g->hnext)
		if (eq(g->id, id))
			return g;
	return NULL;
}

static void grow(struct group_coordinator *gc)
{
	size_t cap = gc->cap * 2;
	struct group **table = calloc(cap, sizeof(*table));
	ASSERT(table);
	for (size_t i = 0; i < gc->cap; i++)
		for (struct group *g = gc->table[i], *next; g; g = next) {
			next = g->hnext;
			size_t s = (size_t)hash64(g->id, strlen(g->id)) & (cap - 1);
			g->hnext = table[s];
			table[s] = g;
		}
	free(gc->table);
	gc->table = table;
	gc->cap = cap;
}

static struct group *get_group(struct group_coordinator *gc, struct kstr id, int64_t now_ms)
{
	struct group *g = find_group(gc, id);
	if (g)
		return g;
	if (gc->count >= GROUPS_MAX)
		return NULL;
	if ((gc->count + 1) * 2 > gc->cap)
		grow(gc);
	g = calloc(1, sizeof(*g));
	ASSERT(g);
	g->id = dup_kstr(id);
	g->state = G_EMPTY;
	g->empty_since = now_ms;
	size_t s = slot(gc, id.p, (size_t)id.len);
	g->hnext = gc->table[s];
	gc->table[s] = g;
	gc->count++;
	return g;
}

static void free_member(struct member *m)
{
	for (int32_t i = 0; i < m->protos_count; i++) {
		free(m->protos[i].name);
		free(m->protos[i].meta);
	}
	free(m->protos);
	free(m->assignment);
	free(m->id);
	free(m->instance_id);
	free(m->client_id);
	free(m->client_host);
	free(m);
}

static void free_group(struct group *g)
{
	while (g->members) {
		struct member *m = g->members;
		g->members = m->next;
		free_member(m);
	}
	while (g->pending) {
		struct pending *p = g->pending;
		g->pending = p->next;
		free(p->id);
		free(p);
	}
	free(g->id);
	free(g->protocol_type);
	free(g->protocol);
	free(g->leader);
	free(g);
}

static struct member *find_member(const struct group *g, struct kstr id)
{
	for (struct member *m = g->members; m; m = m->next)
		if (eq(m->id, id))
			return m;
	return NULL;
}

static struct member *find_instance(const struct group *g, struct kstr instance)
{
	if (instance.len < 0)
		return NULL;
	for (struct member *m = g->members; m; m = m->next)
		if (m->instance_id && eq(m->instance_id, instance))
			return m;
	return NULL;
}

static struct pending *find_pending(const struct group *g, struct kstr id)
{
	for (struct pending *p = g->pending; p; p = p->next)
		if (eq(p->id, id))
			return p;
	return NULL;
}

static void drop_pending(struct group *g, struct pending *gone)
{
	for (struct pending **pp = &g->pending; *pp; pp = &(*pp)->next)
		if (*pp == gone) {
			*pp = gone->next;
			free(gone->id);
			free(gone);
			return;
		}
}

static bool member_supports(const struct member *m, const char *name)
{
	for (int32_t i = 0; i < m->protos_count; i++)
		if (strcmp(m->protos[i].name, name) == 0)
			return true;
	return false;
}

static const struct proto *member_proto(const struct member *m, const char *name)
{
	for (int32_t i = 0; i < m->protos_count; i++)
		if (name && strcmp(m->protos[i].name, name) == 0)
			return &m->protos[i];
	return NULL;
}

/* Supported by every member (and, when given, by the joining request too). */
static bool all_support(const struct group *g, const char *name, const struct member *except)
{
	for (const struct member *m = g->members; m; m = m->next)
		if (m != except && !member_supports(m, name))
			return false;
	return true;
}

/* Kafka's supportsProtocols: the type matches and some protocol is common to everyone. */
static bool compatible(const struct group *g, const struct group_join_request *req,
                       const struct member *replacing)
{
	if (req->protocol_type.len <= 0 || req->protocols_count <= 0)
		return false;
	bool alone = g->members_count == 0 || (g->members_count == 1 && replacing);
	if (alone)
		return true;
	if (!eq(g->protocol_type, req->protocol_type))
		return false;
	for (int32_t i = 0; i < req->protocols_count; i++) {
		char *name = dup_kstr(req->protocols[i].name);
		bool ok = name && all_support(g, name, replacing);
		free(name);
		if (ok)
			return true;
	}
	return false;
}

static void set_protocols(struct member *m, const struct group_join_request *req)
{
	for (int32_t i = 0; i < m->protos_count; i++) {
		free(m->protos[i].name);
		free(m->protos[i].meta);
	}
	free(m->protos);
	m->protos_count = req->protocols_count;
	m->protos = calloc((size_t)req->protocols_count, sizeof(*m->protos));
	ASSERT(m->protos);
	for (int32_t i = 0; i < req->protocols_count; i++) {
		m->protos[i].name = dup_kstr(req->protocols[i].name);
		if (!m->protos[i].name)
			m->protos[i].name = dup_str("");
		m->protos[i].meta_len =
		    req->protocols[i].metadata.len > 0 ? req->protocols[i].metadata.len : 0;
		m->protos[i].meta = dup_bytes(req->protocols[i].metadata.p, m->protos[i].meta_len);
	}
}

static bool same_protocols(const struct member *m, const struct group_join_request *req)
{
	if (m->protos_count != req->protocols_count)
		return false;
	for (int32_t i = 0; i < req->protocols_count; i++) {
		const struct group_protocol *p = &req->protocols[i];
		int32_t len = p->metadata.len > 0 ? p->metadata.len : 0;
		if (!eq(m->protos[i].name, p->name) || m->protos[i].meta_len != len ||
		    (len && memcmp(m->protos[i].meta, p->metadata.p, (size_t)len) != 0))
			return false;
	}
	return true;
}

static int32_t max_rebalance_ms(const struct group *g)
{
	int32_t t = 0;
	for (const struct member *m = g->members; m; m = m->next)
		if (m->rebalance_ms > t)
			t = m->rebalance_ms;
	return t;
}

static void keep_alive(struct member *m, int64_t now_ms)
{
	m->session_deadline = now_ms + m->session_ms;
}

/* ---- answering parked requests ------------------------------------------------------------ */

static void answer_join_error(struct member *m, int16_t code)
{
	group_join_fn cb = m->join_cb;
	if (!cb)
		return;
	m->join_cb = NULL;
	struct group_join_result r = {
		.error_code = code, .generation_id = -1, .leader = "", .member_id = m->id
	};
	cb(m->join_arg, &r);
}

static void answer_sync(struct member *m, int16_t code)
{
	group_sync_fn cb = m->sync_cb;
	if (!cb)
		return;
	m->sync_cb = NULL;
	if (code == KAFKA_NONE)
		cb(m->sync_arg, code, m->assignment, m->assignment_len);
	else
		cb(m->sync_arg, code, NULL, 0);
}

/* The join answer for member m in the current generation (leader: with every member). */
static void answer_join(struct group *g, struct member *m)
{
	group_join_fn cb = m->join_cb;
	if (!cb)
		return;
	m->join_cb = NULL;
	struct group_join_member *list = NULL;
	int32_t n = 0;
	bool leader = g->leader && strcmp(g->leader, m->id) == 0;
	if (leader) {
		list = calloc((size_t)g->members_count, sizeof(*list));
		ASSERT(list || !g->members_count);
		for (struct member *x = g->members; x; x = x->next) {
			const struct proto *p = member_proto(x, g->protocol);
			list[n++] =
			    (struct group_join_member){ x->id, x->instance_id, p ? p->meta : NULL,
				                        p ? p->meta_len : 0 };
		}
	}
	struct group_join_result r = {
		.error_code = KAFKA_NONE,
		.generation_id = g->generation,
		.protocol_name = g->protocol,
		.leader = g->leader ? g->leader : "",
		.member_id = m->id,
		.members_count = n,
		.members = list,
	};
	cb(m->join_arg, &r);
	free(list);
}

/* ---- the transitions ---------------------------------------------------------------------- */

static void complete_join(struct group_coordinator *gc, struct group *g, int64_t now_ms);

static bool all_joined(const struct group *g)
{
	if (g->pending)
		return false;
	for (const struct member *m = g->members; m; m = m->next)
		if (!m->join_cb)
			return false;
	return true;
}

static void maybe_complete_join(struct group_coordinator *gc, struct group *g, int64_t now_ms)
{
	if (g->state == G_PREPARING && !g->initial_delay && all_joined(g))
		complete_join(gc, g, now_ms);
}

static void prepare_rebalance(struct group_coordinator *gc, struct group *g, int64_t now_ms)
{
	if (g->state == G_COMPLETING)
		for (struct member *m = g->members; m; m = m->next)
			answer_sync(m, KAFKA_REBALANCE_IN_PROGRESS);
	for (struct member *m = g->members; m; m = m->next) {
		free(m->assignment);
		m->assignment = NULL;
		m->assignment_len = 0;
	}
	bool initial = g->state == G_EMPTY;
	g->state = G_PREPARING;
	int32_t timeout = max_rebalance_ms(g);
	if (initial && gc->cfg.initial_rebalance_delay_ms > 0) {
		/* Wait for more of the first joiners (Kafka's InitialDelayedJoin). */
		g->initial_delay = true;
		g->initial_limit = now_ms + timeout;
		int64_t d = now_ms + gc->cfg.initial_rebalance_delay_ms;
		g->join_deadline = d < g->initial_limit ? d : g->initial_limit;
	} else {
		g->initial_delay = false;
		g->join_deadline = now_ms + timeout;
	}
}

static void remove_member(struct group_coordinator *gc, struct group *g, struct member *gone,
                          int64_t now_ms)
{
	for (struct member **pp = &g->members; *pp; pp = &(*pp)->next)
		if (*pp == gone) {
			*pp = gone->next;
			break;
		}
	g->members_count--;
	answer_join_error(gone, KAFKA_UNKNOWN_MEMBER_ID);
	answer_sync(gone, KAFKA_UNKNOWN_MEMBER_ID);
	if (g->leader && strcmp(g->leader, gone->id) == 0) {
		free(g->leader);
		g->leader = g->members ? dup_str(g->members->id) : NULL;
	}
	free_member(gone);
	switch (g->state) {
	case G_STABLE:
	case G_COMPLETING:
		if (g->members_count == 0) {
			g->state = G_EMPTY;
			g->empty_since = now_ms;
		} else {
			prepare_rebalance(gc, g, now_ms);
		}
		break;
	case G_PREPARING:
		if (g->members_count == 0 && !g->pending) {
			g->state = G_EMPTY;
			g->empty_since = now_ms;
			g->generation++;
		} else {
			maybe_complete_join(gc, g, now_ms);
		}
		break;
	case G_EMPTY:
		break;
	}
}

/* The protocol most members vote for among those all of them support. */
static char *choose_protocol(const struct group *g)
{
	const struct member *first = g->members;
	if (!first)
		return NULL;
	const char *best = NULL;
	int best_votes = -1;
	/* Candidates in the first member's order, so ties are broken the same way each time. */
	for (int32_t i = 0; i < first->protos_count; i++) {
		const char *cand = first->protos[i].name;
		if (!all_support(g, cand, NULL))
			continue;
		int votes = 0;
		for (const struct member *m = g->members; m; m = m->next)
			for (int32_t k = 0; k < m->protos_count; k++)
				if (all_support(g, m->protos[k].name, NULL)) {
					votes += strcmp(m->protos[k].name, cand) == 0;
					break;
				}
		if (votes > best_votes) {
			best = cand;
			best_votes = votes;
		}
	}
	return dup_str(best);
}

static void complete_join(struct group_coordinator *gc, struct group *g, int64_t now_ms)
{
	(void)gc;
	/* Members that did not rejoin in time are dropped (they answer nothing). */
	for (struct member *m = g->members, *next; m; m = next) {
		next = m->next;
		if (!m->join_cb) {
			for (struct member **pp = &g->members; *pp; pp = &(*pp)->next)
				if (*pp == m) {
					*pp = m->next;
					break;
				}
			g->members_count--;
			answer_sync(m, KAFKA_UNKNOWN_MEMBER_ID);
			if (g->leader && strcmp(g->leader, m->id) == 0) {
				free(g->leader);
				g->leader = NULL;
			}
			free_member(m);
		}
	}
	g->initial_delay = false;
	g->generation++;
	if (g->members_count == 0) {
		g->state = G_EMPTY;
		g->empty_since = now_ms;
		free(g->protocol);
		g->protocol = NULL;
		return;
	}
	if (!g->leader)
		g->leader = dup_str(g->members->id);
	free(g->protocol);
	g->protocol = choose_protocol(g);
	g->state = G_COMPLETING;
	int32_t timeout = max_rebalance_ms(g);
	g->sync_deadline = now_ms + timeout;
	for (struct member *m = g->members; m; m = m->next) {
		keep_alive(m, now_ms);
		answer_join(g, m);
	}
}

static struct member *add_member(struct group_coordinator *gc, struct group *g,
                                 const struct group_join_request *req, char *id, int64_t now_ms)
{
	struct member *m = calloc(1, sizeof(*m));
	ASSERT(m);
	m->id = id;
	m->instance_id = dup_kstr(req->group_instance_id);
	m->client_id = dup_kstr(req->client_id);
	m->client_host = dup_kstr(req->client_host);
	m->session_ms = req->session_timeout_ms;
	m->rebalance_ms =
	    req->rebalance_timeout_ms > 0 ? req->rebalance_timeout_ms : req->session_timeout_ms;
	set_protocols(m, req);
	keep_alive(m, now_ms);
	/* Appended: the first member to join leads when there is no leader. */
	struct member **pp = &g->members;
	while (*pp)
		pp = &(*pp)->next;
	*pp = m;
	g->members_count++;
	if (!g->protocol_type)
		g->protocol_type = dup_kstr(req->protocol_type);
	if (!g->leader)
		g->leader = dup_str(m->id);
	(void)gc;
	return m;
}

/* ---- JoinGroup --------------------------------------------------------------------------- */

static void join_error(group_join_fn done, void *arg, int16_t code, const char *member_id)
{
	struct group_join_result r = { .error_code = code,
		                       .generation_id = -1,
		                       .leader = "",
		                       .member_id = member_id ? member_id : "" };
	done(arg, &r);
}

/* A member rejoining with its id (or a static member with a new one). */
static void join_current(struct group_coordinator *gc, struct group *g, struct member *m,
                         const struct group_join_request *req, int64_t now_ms, group_join_fn done,
                         void *arg, bool static_rejoin)
{
	keep_alive(m, now_ms);
	if (m->join_cb)
		answer_join_error(m, KAFKA_UNKNOWN_MEMBER_ID); /* a stale duplicate join */
	bool same = same_protocols(m, req);
	if (req->rebalance_timeout_ms > 0)
		m->rebalance_ms = req->rebalance_timeout_ms;
	m->session_ms = req->session_timeout_ms;
	if (!same)
		set_protocols(m, req);
	m->join_cb = done;
	m->join_arg = arg;
	switch (g->state) {
	case G_PREPARING:
		maybe_complete_join(gc, g, now_ms);
		return;
	case G_COMPLETING:
	case G_STABLE:
		if (same &&
		    (g->state == G_COMPLETING || static_rejoin || strcmp(g->leader, m->id) != 0)) {
			/* Nothing changed: the current generation as it is (a lost answer, or a
			 * static member back from a restart: KIP-345, no rebalance). */
			answer_join(g, m);
			return;
		}
		prepare_rebalance(gc, g, now_ms);
		maybe_complete_join(gc, g, now_ms);
		return;
	case G_EMPTY:
		UNREACHABLE(); /* an Empty group has no members */
	}
}

void group_join(struct group_coordinator *gc, const struct group_join_request *req, int64_t now_ms,
                group_join_fn done, void *arg)
{
	if (req->group_id.len <= 0) {
		join_error(done, arg, KAFKA_INVALID_GROUP_ID, NULL);
		return;
	}
	if (req->session_timeout_ms < gc->cfg.min_session_timeout_ms ||
	    req->session_timeout_ms > gc->cfg.max_session_timeout_ms) {
		join_error(done, arg, KAFKA_INVALID_SESSION_TIMEOUT, NULL);
		return;
	}
	/* A member id names a member of an existing group; only a new member makes a group
	 * (Kafka's getOrMaybeCreateGroup), so stale ids after a restart leave nothing behind. */
	if (req->member_id.len > 0 && !find_group(gc, req->group_id)) {
		join_error(done, arg, KAFKA_UNKNOWN_MEMBER_ID, NULL);
		return;
	}
	struct group *g = get_group(gc, req->group_id, now_ms);
	if (!g) {
		join_error(done, arg, KAFKA_COORDINATOR_NOT_AVAILABLE, NULL);
		return;
	}
	struct member *by_instance = find_instance(g, req->group_instance_id);
	struct member *m = req->member_id.len > 0 ? find_member(g, req->member_id) : NULL;
	if (!compatible(g, req, m ? m : by_instance)) {
		join_error(done, arg, KAFKA_INCONSISTENT_GROUP_PROTOCOL, NULL);
		if (g->state == G_EMPTY && !g->members)
			g->empty_since = g->empty_since ? g->empty_since : now_ms;
		return;
	}
	if (req->member_id.len > 0) {
		if (m) {
			if (by_instance && by_instance != m) {
				join_error(done, arg, KAFKA_FENCED_INSTANCE_ID, NULL);
				return;
			}
			join_current(gc, g, m, req, now_ms, done, arg, false);
			return;
		}
		struct pending *p = find_pending(g, req->member_id);
		if (!p) {
			join_error(done, arg, KAFKA_UNKNOWN_MEMBER_ID, NULL);
			return;
		}
		char *id = p->id;
		p->id = NULL;
		drop_pending(g, p);
		if (g->members_count >= GROUP_MEMBERS_MAX) {
			join_error(done, arg, KAFKA_GROUP_MAX_SIZE_REACHED, id);
			free(id);
			return;
		}
		m = add_member(gc, g, req, id, now_ms);
	} else if (by_instance) {
		/* A static member back under a new member id replaces its old self. */
		free(by_instance->id);
		by_instance->id = new_member_id(gc, req->client_id);
		if (g->leader && !find_member(g, kstr_from(g->leader))) {
			free(g->leader);
			g->leader = dup_str(by_instance->id);
		}
		join_current(gc, g, by_instance, req, now_ms, done, arg, true);
		return;
	} else if (req->version >= 4 && req->group_instance_id.len < 0) {
		/* KIP-394: a new dynamic member learns its id first, and rejoins with it. */
		if (g->members_count >= GROUP_MEMBERS_MAX) {
			join_error(done, arg, KAFKA_GROUP_MAX_SIZE_REACHED, NULL);
			return;
		}
		struct pending *p = calloc(1, sizeof(*p));
		ASSERT(p);
		p->id = new_member_id(gc, req->client_id);
		p->deadline = now_ms + req->session_timeout_ms;
		p->next = g->pending;
		g->pending = p;
		join_error(done, arg, KAFKA_MEMBER_ID_REQUIRED, p->id);
		return;
	} else {
		if (g->members_count >= GROUP_MEMBERS_MAX) {
			join_error(done, arg, KAFKA_GROUP_MAX_SIZE_REACHED, NULL);
			return;
		}
		m = add_member(gc, g, req, new_member_id(gc, req->client_id), now_ms);
	}
	m->join_cb = done;
	m->join_arg = arg;
	if (g->state != G_PREPARING)
		prepare_rebalance(gc, g, now_ms);
	else if (g->initial_delay) {
		/* Each new joiner extends the initial delay, never past the rebalance timeout. */
		int64_t d = now_ms + gc->cfg.initial_rebalance_delay_ms;
		g->join_deadline = d < g->initial_limit ? d : g->initial_limit;
	}
	maybe_complete_join(gc, g, now_ms);
}

/* ---- SyncGroup, Heartbeat, LeaveGroup, commits ------------------------------------------- */

/* The member a request names, checking a static member's instance id against it. */
static int16_t lookup(struct group *g, struct kstr member_id, struct kstr instance,
                      struct member **out)
{
	*out = NULL;
	if (!g)
		return KAFKA_UNKNOWN_MEMBER_ID;
	struct member *m = find_member(g, member_id);
	if (!m) {
		struct member *other = find_instance(g, instance);
		return other ? KAFKA_FENCED_INSTANCE_ID : KAFKA_UNKNOWN_MEMBER_ID;
	}
	if (instance.len >= 0 && (!m->instance_id || !eq(m->instance_id, instance)))
		return KAFKA_FENCED_INSTANCE_ID;
	*out = m;
	return KAFKA_NONE;
}

void group_sync(struct group_coordinator *gc, const struct group_sync_request *req, int64_t now_ms,
                group_sync_fn done, void *arg)
{
	(void)gc;
	struct group *g = find_group(gc, req->group_id);
	struct member *m = NULL;
	int16_t code = req->group_id.len <= 0
	                   ? KAFKA_INVALID_GROUP_ID
	                   : lookup(g, req->member_id, req->group_instance_id, &m);
	if (code == KAFKA_NONE && req->generation_id != g->generation)
		code = KAFKA_ILLEGAL_GENERATION;
	if (code == KAFKA_NONE && g->state == G_PREPARING)
		code = KAFKA_REBALANCE_IN_PROGRESS;
	if (code != KAFKA_NONE) {
		done(arg, code, NULL, 0);
		return;
	}
	keep_alive(m, now_ms);
	if (g->state == G_STABLE) {
		done(arg, KAFKA_NONE, m->assignment, m->assignment_len);
		return;
	}
	ASSERT(g->state == G_COMPLETING);
	if (m->sync_cb)
		answer_sync(m, KAFKA_REBALANCE_IN_PROGRESS); /* a duplicate: the new one waits */
	m->sync_cb = done;
	m->sync_arg = arg;
	if (strcmp(g->leader, m->id) != 0)
		return; /* followers wait for the leader */
	for (int32_t i = 0; i < req->assignments_count; i++) {
		struct member *x = find_member(g, req->assignments[i].member_id);
		if (!x)
			continue;
		free(x->assignment);
		struct kbytes a = req->assignments[i].assignment;
		x->assignment_len = a.len > 0 ? a.len : 0;
		x->assignment = dup_bytes(a.p, x->assignment_len);
	}
	g->state = G_STABLE;
	for (struct member *x = g->members; x; x = x->next)
		answer_sync(x, KAFKA_NONE);
}

int16_t group_heartbeat(struct group_coordinator *gc, struct kstr group_id, struct kstr member_id,
                        struct kstr group_instance_id, int32_t generation_id, int64_t now_ms)
{
	if (group_id.len <= 0)
		return KAFKA_INVALID_GROUP_ID;
	struct group *g = find_group(gc, group_id);
	struct member *m = NULL;
	int16_t code = lookup(g, member_id, group_instance_id, &m);
	if (code != KAFKA_NONE)
		return code;
	if (generation_id != g->generation)
		return KAFKA_ILLEGAL_GENERATION;
	keep_alive(m, now_ms);
	/* Members learn of a rebalance from their heartbeats. */
	return g->state == G_PREPARING ? KAFKA_REBALANCE_IN_PROGRESS : KAFKA_NONE;
}

int16_t group_leave(struct group_coordinator *gc, struct kstr group_id, struct kstr member_id,
                    struct kstr group_instance_id, int64_t now_ms)
{
	if (group_id.len <= 0)
		return KAFKA_INVALID_GROUP_ID;
	struct group *g = find_group(gc, group_id);
	if (!g)
		return KAFKA_UNKNOWN_MEMBER_ID;
	struct member *m = NULL;
	if (member_id.len > 0) {
		int16_t code = lookup(g, member_id, group_instance_id, &m);
		if (code != KAFKA_NONE) {
			/* A pending member leaving before it joined. */
			struct pending *p = find_pending(g, member_id);
			if (!p)
				return code;
			drop_pending(g, p);
			maybe_complete_join(gc, g, now_ms);
			return KAFKA_NONE;
		}
	} else {
		m = find_instance(g, group_instance_id);
		if (!m)
			return KAFKA_UNKNOWN_MEMBER_ID;
	}
	remove_member(gc, g, m, now_ms);
	return KAFKA_NONE;
}

int16_t group_commit_allowed(struct group_coordinator *gc, struct kstr group_id,
                             struct kstr member_id, struct kstr group_instance_id,
                             int32_t generation_id, int64_t now_ms)
{
	if (group_id.len <= 0)
		return KAFKA_INVALID_GROUP_ID;
	struct group *g = find_group(gc, group_id);
	bool standalone = generation_id < 0 && member_id.len <= 0 && group_instance_id.len < 0;
	if (standalone && (!g || g->state == G_EMPTY)) {
		/* A standalone commit: the group exists from now on, Empty. A commit naming a
		 * member (or instance) is checked as that member's, as Kafka does. */
		g = get_group(gc, group_id, now_ms);
		if (!g)
			return KAFKA_COORDINATOR_NOT_AVAILABLE;
		g->committed_ms = now_ms;
		return KAFKA_NONE;
	}
	struct member *m;
	int16_t code = lookup(g, member_id, group_instance_id, &m);
	if (code != KAFKA_NONE)
		return code;
	if (generation_id != g->generation)
		return KAFKA_ILLEGAL_GENERATION;
	if (g->state == G_COMPLETING)
		return KAFKA_REBALANCE_IN_PROGRESS;
	keep_alive(m, now_ms);
	return KAFKA_NONE;
}

void group_touch(struct group_coordinator *gc, struct kstr group_id, int64_t now_ms)
{
	if (group_id.len > 0)
		get_group(gc, group_id, now_ms);
}

int16_t group_delete(struct group_coordinator *gc, struct kstr group_id)
{
	struct group *g = find_group(gc, group_id);
	if (!g)
		return KAFKA_GROUP_ID_NOT_FOUND;
	if (g->state != G_EMPTY || g->members || g->pending)
		return KAFKA_NON_EMPTY_GROUP;
	for (struct group **pp = &gc->table[slot(gc, g->id, strlen(g->id))]; *pp;
	     pp = &(*pp)->hnext)
		if (*pp == g) {
			*pp = g->hnext;
			break;
		}
	gc->count--;
	free_group(g);
	return KAFKA_NONE;
}

int32_t group_forget_empty(struct group_coordinator *gc, int64_t now_ms, int64_t empty_ms_min,
                           bool (*keep)(void *arg, struct kstr group_id), void *arg)
{
	int32_t n = 0;
	for (size_t i = 0; i < gc->cap; i++)
		for (struct group **pp = &gc->table[i]; *pp;) {
			struct group *g = *pp;
			int64_t since =
			    g->empty_since > g->committed_ms ? g->empty_since : g->committed_ms;
			if (g->state != G_EMPTY || g->members || g->pending ||
			    now_ms - since < empty_ms_min || keep(arg, kstr_from(g->id))) {
				pp = &g->hnext;
				continue;
			}
			*pp = g->hnext;
			gc->count--;
			free_group(g);
			n++;
		}
	return n;
}

/* ---- deadlines ---------------------------------------------------------------------------- */

static void tick_group(struct group_coordinator *gc, struct group *g, int64_t now_ms)
{
	for (struct pending *p = g->pending, *next; p; p = next) {
		next = p->next;
		if (p->deadline <= now_ms)
			drop_pending(g, p);
	}
	/* Sessions: members waiting on the coordinator are kept alive by it. */
	for (struct member *m = g->members, *next; m; m = next) {
		next = m->next;
		if (m->session_deadline <= now_ms && !m->join_cb && !m->sync_cb) {
			remove_member(gc, g, m, now_ms);
			return; /* the list changed: the next tick looks again */
		}
	}
	if (g->state == G_PREPARING && g->join_deadline <= now_ms) {
		if (g->initial_delay && !all_joined(g) && now_ms < g->initial_limit) {
			g->initial_delay = false;
			g->join_deadline = g->initial_limit;
			maybe_complete_join(gc, g, now_ms);
			return;
		}
		complete_join(gc, g, now_ms);
	} else if (g->state == G_PREPARING) {
		maybe_complete_join(gc, g, now_ms);
	} else if (g->state == G_COMPLETING && g->sync_deadline <= now_ms) {
		/* The leader (or someone) never synced: those who did not are removed. */
		for (struct member *m = g->members, *next; m; m = next) {
			next = m->next;
			if (!m->sync_cb) {
				remove_member(gc, g, m, now_ms);
				return;
			}
		}
		prepare_rebalance(gc, g, now_ms);
	}
}

void group_tick(struct group_coordinator *gc, int64_t now_ms)
{
	for (size_t i = 0; i < gc->cap; i++)
		for (struct group *g = gc->table[i], *next; g; g = next) {
			next = g->hnext;
			tick_group(gc, g, now_ms);
		}
}

int64_t group_next_deadline(const struct group_coordinator *gc)
{
	int64_t next = INT64_MAX;
	for (size_t i = 0; i < gc->cap; i++)
		for (const struct group *g = gc->table[i]; g; g = g->hnext) {
			for (const struct pending *p = g->pending; p; p = p->next)
				if (p->deadline < next)
					next = p->deadline;
			for (const struct member *m = g->members; m; m = m->next)
				if (!m->join_cb && !m->sync_cb && m->session_deadline < next)
					next = m->session_deadline;
			if (g->state == G_PREPARING && g->join_deadline < next)
				next = g->join_deadline;
			if (g->state == G_COMPLETING && g->sync_deadline < next)
				next = g->sync_deadline;
		}
	return next;
}

/* ---- describing --------------------------------------------------------------------------- */

bool group_describe(struct group_coordinator *gc, struct kstr group_id,
                    void (*fn)(void *, const struct group_info *), void *arg)
{
	struct group *g = find_group(gc, group_id);
	if (!g)
		return false;
	struct group_member_info *list = calloc((size_t)g->members_count + 1, sizeof(*list));
	ASSERT(list);
	/* Kafka's GroupMetadata.summary: the protocol and the members' metadata and assignments
	 * only when Stable; in any other state the members without them. */
	bool stable = g->state == G_STABLE;
	int32_t n = 0;
	for (struct member *m = g->members; m; m = m->next) {
		const struct proto *p = stable ? member_proto(m, g->protocol) : NULL;
		list[n++] = (struct group_member_info){
			.member_id = m->id,
			.group_instance_id = m->instance_id,
			.client_id = m->client_id ? m->client_id : "",
			.client_host = m->client_host ? m->client_host : "",
			.metadata = p ? p->meta : NULL,
			.metadata_len = p ? p->meta_len : 0,
			.assignment = stable ? m->assignment : NULL,
			.assignment_len = stable ? m->assignment_len : 0,
		};
	}
	struct group_info info = {
		.group_id = g->id,
		.state = state_names[g->state],
		.protocol_type = g->protocol_type ? g->protocol_type : "",
		.protocol_name = stable && g->protocol ? g->protocol : "",
		.generation_id = g->generation,
		.members_count = n,
		.members = list,
	};
	fn(arg, &info);
	free(list);
	return true;
}

void group_list(struct group_coordinator *gc, void (*fn)(void *, const char *, const char *),
                void *arg)
{
	for (size_t i = 0; i < gc->cap; i++)
		for (struct group *g = gc->table[i]; g; g = g->hnext)
			fn(arg, g->id, g->protocol_type ? g->protocol_type : "");
}

int64_t group_empty_since(const struct group_coordinator *gc, struct kstr group_id)
{
	const struct group *g = find_group(gc, group_id);
	if (!g)
		return 0;
	return g->state == G_EMPTY && !g->members && !g->pending ? g->empty_since : -1;
}

int group_coordinator_create(const struct group_config *cfg, struct group_coordinator **out)
{
	struct group_coordinator *gc = calloc(1, sizeof(*gc));
	if (!gc)
		return -1;
	gc->cfg = *cfg;
	gc->cap = 64;
	gc->table = calloc(gc->cap, sizeof(*gc->table));
	gc->rng = cfg->seed ? cfg->seed : 0x9e3779b97f4a7c15ull;
	if (!gc->table) {
		free(gc);
		return -1;
	}
	*out = gc;
	return 0;
}

void group_coordinator_free(struct group_coordinator *gc)
{
	if (!gc)
		return;
	for (size_t i = 0; i < gc->cap; i++)
		for (struct group *g = gc->table[i], *next; g; g = next) {
			next = g->hnext;
			for (struct member *m = g->members; m; m = m->next) {
				answer_join_error(m, KAFKA_COORDINATOR_NOT_AVAILABLE);
				answer_sync(m, KAFKA_COORDINATOR_NOT_AVAILABLE);
			}
			free_group(g);
		}
	free(gc->table);
	free(gc);
}
