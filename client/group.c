/*
 * client/group.c: struct cgroup (client/group.h), one consumer's membership of a group: the
 * coordinator, JoinGroup / SyncGroup rounds, the leader's assignment, heartbeats, committed
 * offsets (OffsetFetch, OffsetCommit), the subscription (names and ^regex patterns matched
 * against every topic of the cluster) and LeaveGroup.
 *
 * Owns: the group's state machine and its requests on a dedicated coordinator connection
 * (cluster_dedicated_broker), the all-topics Metadata it asks for itself (patterns, and the
 * leader's partition counts), which partitions the member owns. Must not know: fetching,
 * records or positions (the consumer answers the position callback).
 *
 * Response functions run inside cluster_poll: they only record what came back (state, error,
 * data) and never call the owner. cgroup_poll acts on it: sends the next request, makes the
 * callbacks. So the owner's callbacks never run inside the I/O loop.
 *
 * States (group.h draws them). The requests that move between them:
 *
 *   NEED_JOIN  --prepare_join (commit, revoke), send_join-->     JOINING
 *   JOINING    --on_join--> NEED_SYNC --send_sync--> SYNCING (a leader first asks for the
 *                all-topics Metadata and assigns with it; a follower sends no assignments)
 *              --MEMBER_ID_REQUIRED / UNKNOWN_MEMBER_ID--> NEED_JOIN
 *   SYNCING    --on_sync--> SYNCED --apply_assignment (revoke what moved)--> OFFSETS
 *   OFFSETS    --on_offset_fetch: assigned callback--> STABLE
 *   STABLE     --rejoin (heartbeat REBALANCE_IN_PROGRESS, subscription or partitions changed,
 *                cooperative second round)--> NEED_JOIN
 *   any        --reset_member (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION): lost--> NEED_JOIN
 *   any        --coordinator_lost (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, connection
 *                lost, no heartbeat answered for a session)--> find again, requests resent
 *
 * Every request is tagged with the membership epoch it was sent in (g->epoch, bumped by
 * coordinator_lost, reset_member and each new JoinGroup); an answer from an older epoch only
 * clears its in-flight mark.
 */
#include "client/group.h"

#include "base/arena.h"
#include "base/assert.h"
#include "base/clock.h"
#include "base/limits.h"
#include "client/cluster.h"
#include "client/tape_error.h"
#include "consumer-groups/assign.h"
#include "protocol/errors.h"
#include "protocol/find_coordinator.h"
#include "protocol/heartbeat.h"
#include "protocol/join_group.h"
#include "protocol/leave_group.h"
#include "protocol/metadata.h"
#include "protocol/offset_commit.h"
#include "protocol/offset_fetch.h"
#include "protocol/sync_group.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Java's consumer gives a JoinGroup (and SyncGroup) its rebalance timeout plus this much:
 * the coordinator may hold the answer for the whole rebalance. */
#define JOIN_TIMEOUT_EXTRA_MS 5000
/* The arena answers are decoded in; a Metadata answer of every topic is the largest. */
#define ARENA_BYTES (64 * MiB)
#define GROUP_ASSIGNORS_MAX CLIENT_GROUP_ASSIGNORS_MAX
/* Subscription entries (names and patterns): as many as the topics a client keeps. */
#define GROUP_SUBSCRIPTION_MAX CLIENT_TOPICS_MAX

enum gstate {
	G_IDLE,      /* no subscription yet */
	G_NEED_JOIN, /* to join: prepare (commit, revoke) then JoinGroup */
	G_JOINING,   /* JoinGroup in flight */
	G_NEED_SYNC, /* SyncGroup to send (a leader first waits for the metadata to assign with) */
	G_SYNCING,   /* SyncGroup in flight (or to send) */
	G_SYNCED,    /* the assignment arrived: apply it */
	G_OFFSETS,   /* OffsetFetch of the new partitions */
	G_STABLE,
	G_CLOSED,
};

/* A partition the member owns (or is being given). */
struct gpart {
	char *topic; /* owned */
	int32_t partition;
	int64_t committed; /* what the group has committed (fetched or by us), -1 none */
};

struct gtopic {
	char *name; /* owned */
	int32_t partitions_count;
};

enum greq_kind { R_FIND, R_JOIN, R_SYNC, R_HEARTBEAT, R_OFFSET_FETCH, R_COMMIT, R_LEAVE, R_META };

/* A commit's outcome, for a caller waiting on it (cgroup_commit with wait). */
struct gwaiter {
	bool done;
	struct tape_error error;
};

struct greq {
	struct cgroup *g; /* NULL: orphaned by cgroup_free */
	struct greq *prev, *next;
	enum greq_kind kind;
	uint32_t epoch;
	struct gwaiter *waiter; /* commits only; NULL when nobody waits */
	int32_t count;          /* commits: the items */
	struct gpart items[];   /* commits: topic owned, committed = the offset sent */
};

struct cgroup {
	struct tape_client *cl; /* borrowed */
	struct cgroup_config cfg;
	char *group_id;    /* owned */
	char *instance_id; /* owned; NULL dynamic */
	struct cgroup_callbacks cb;
	const struct assignor *assignors[GROUP_ASSIGNORS_MAX];
	int32_t assignors_count;
	bool cooperative;

	enum gstate state;
	uint32_t epoch;
	struct tape_error fatal;
	struct greq *reqs;  /* owned: in flight */
	struct arena arena; /* owned: decoding answers (reset per answer) */

	/* the coordinator */
	int32_t coord_id; /* -1 unknown */
	struct cbroker *coord;
	bool find_in_flight;
	int32_t find_failures;
	int64_t find_retry_at_ms;

	/* the membership */
	char *member_id; /* owned; "" before the first join */
	int32_t generation_id;
	char *protocol; /* owned; the assignor the group chose */
	bool leader;
	bool rejoin; /* a rebalance is wanted once the current round settles */
	int32_t join_failures;
	int64_t join_retry_at_ms;
	struct arena join_arena;       /* owned: the members the leader assigns */
	struct assign_member *members; /* join_arena */
	int32_t members_count;
	uint8_t *sync_payload; /* owned: the assignment SyncGroup brought */
	int32_t sync_payload_len;

	/* heartbeats */
	bool hb_in_flight;
	int64_t hb_next_ms;
	int64_t hb_ok_ms;

	/* partitions */
	struct gpart *owned; /* owned: sorted by topic, partition */
	int32_t owned_count;
	struct gpart *incoming; /* owned: the assignment to apply or to fetch offsets of */
	int32_t incoming_count;
	bool offsets_in_flight;
	int64_t offsets_retry_at_ms;

	/* commits */
	int32_t commits_in_flight;
	int64_t auto_commit_next_ms;
	bool prepared; /* prepare_join done for the join to send */

	/* subscription */
	char **subs; /* owned: names, and patterns with their ^ */
	regex_t *regs;
	bool *is_regex;
	int32_t subs_count;
	char **subscribed; /* owned: the topic names the member subscribes to now, sorted */
	int32_t subscribed_count;
	struct gtopic *topics; /* owned: every topic of the last all-topics Metadata */
	int32_t topics_count;
	bool meta_in_flight;
	bool meta_ok; /* an all-topics answer arrived since subscribe */
	bool meta_wanted;
	int64_t meta_next_ms;
	struct gtopic *used; /* owned: the leader's view at its last assignment */
	int32_t used_count;
};

/* ---- small helpers ----------------------------------------------------------------------- */

static int cmp_part(const void *a, const void *b)
{
	const struct gpart *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);
	return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void parts_free(struct gpart *p, int32_t n)
{
	for (int32_t i = 0; i < n; i++)
		free(p[i].topic);
	free(p);
}

static const struct gpart *parts_find(const struct gpart *p, int32_t n, const char *topic,
                                      int32_t partition)
{
	struct gpart key = { .topic = (char *)topic, .partition = partition };
	return n ? bsearch(&key, p, (size_t)n, sizeof(*p), cmp_part) : NULL;
}

static char *dup_kstr(struct kstr s)
{
	char *p = malloc(s.len > 0 ? (size_t)s.len + 1 : 1);
	if (!p)
		return NULL;
	if (s.len > 0)
		memcpy(p, s.p, (size_t)s.len);
	p[s.len > 0 ? s.len : 0] = '\0';
	return p;
}

static void set_str(char **dst, const char *src)
{
	char *n = strdup(src ? src : "");
	if (!n)
		return; /* keeps the old value; the next answer tries again */
	free(*dst);
	*dst = n;
}

static const char *kafka_text(int16_t code, char *buf, size_t len)
{
	return tape_error_kafka_text(code, buf, len);
}

/* A sorted array's topic runs, as the protocol groups partitions: starts[k] is where run k
 * begins, starts[runs] = n (room for n + 1). Returns the number of runs. */
static int32_t topic_runs(const struct gpart *p, int32_t n, int32_t *starts)
{
	int32_t runs = 0;
	for (int32_t i = 0; i < n; i++)
		if (i == 0 || strcmp(p[i].topic, p[i - 1].topic))
			starts[runs++] = i;
	starts[runs] = n;
	return runs;
}

/* ---- requests ---------------------------------------------------------------------------- */

static struct greq *new_req(struct cgroup *g, enum greq_kind kind, int32_t items)
{
	struct greq *r = calloc(1, sizeof(*r) + sizeof(r->items[0]) * (size_t)items);
	if (!r)
		return NULL;
	r->g = g;
	r->kind = kind;
	r->epoch = g->epoch;
	r->next = g->reqs;
	if (g->reqs)
		g->reqs->prev = r;
	g->reqs = r;
	return r;
}

static void free_req(struct cgroup *g, struct greq *r)
{
	if (g) {
		if (r->prev)
			r->prev->next = r->next;
		else
			g->reqs = r->next;
		if (r->next)
			r->next->prev = r->prev;
	}
	for (int32_t i = 0; i < r->count; i++)
		free(r->items[i].topic);
	free(r);
}

/* The coordinator's connection when READY (connecting it otherwise), or NULL. */
static struct kconn *coord_conn(struct cgroup *g, int64_t now_ms)
{
	if (g->coord_id < 0 || !g->coord)
		return NULL;
	return cluster_conn(g->cl, g->coord->node_id, now_ms);
}

/* Sends the request begun on c; on failure frees r. Returns 0 or < 0. */
static int finish_req(struct kconn *c, struct greq *r, int64_t now_ms, int64_t timeout_ms,
                      kconn_response_fn fn)
{
	if (kconn_request_end(c, true, now_ms, fn, r) < 0) {
		free_req(r->g, r);
		return -1;
	}
	if (timeout_ms > 0 && c->count > 0) {
		/* The request just queued is the ring's newest: give it the longer wait. */
		uint32_t tail = (c->head + c->count - 1) % CLIENT_CONN_REQUESTS_MAX;
		if (c->reqs[tail].arg == r)
			c->reqs[tail].deadline_ms = now_ms + timeout_ms;
	}
	return 0;
}

/* Starts a request to the coordinator: the buffer to encode into, or NULL (r freed). */
static struct buf *begin_coord(struct cgroup *g, struct kconn *c, int16_t api, int16_t v,
                               struct greq *r)
{
	struct buf *b = r && v >= 0 ? kconn_request_begin(c, api, v) : NULL;
	if (!b && r)
		free_req(g, r);
	return b;
}

/* ---- membership changes ------------------------------------------------------------------ */

static void set_fatal(struct cgroup *g, int16_t code, const char *what)
{
	char k[64];
	if (g->fatal.code)
		return;
	tape_error_kafka(&g->fatal, code, "group \"%s\": %s: %s", g->group_id, what,
	                 kafka_text(code, k, sizeof(k)));
}

/* The coordinator moved or went away: find it again; the round in progress starts over. */
static void coordinator_lost(struct cgroup *g)
{
	if (g->coord_id < 0)
		return;
	g->coord_id = -1;
	g->epoch++;
	g->hb_in_flight = false;
	g->offsets_in_flight = false;
	/* Answers still coming on the old connection carry the old epoch and are ignored (it is
	 * not closed here: this runs inside its own response functions). */
	if (g->state == G_JOINING || g->state == G_NEED_SYNC || g->state == G_SYNCING)
		g->state = G_NEED_JOIN;
}

/* A rebalance is wanted: STABLE members go to NEED_JOIN at once, others when they settle. */
static void want_rejoin(struct cgroup *g)
{
	if (g->state == G_STABLE)
		g->state = G_NEED_JOIN;
	else
		g->rejoin = true;
}

/* Our membership is gone (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION): partitions are lost (the
 * owner is told in prepare_join), the member joins again as a new member. */
static void reset_member(struct cgroup *g, int16_t code)
{
	if (code == KAFKA_UNKNOWN_MEMBER_ID)
		set_str(&g->member_id, "");
	g->generation_id = -1;
	g->epoch++;
	g->leader = false;
	g->hb_in_flight = false;
	g->offsets_in_flight = false;
	if (g->state != G_CLOSED && g->state != G_IDLE)
		g->state = G_NEED_JOIN;
	g->prepared = false;
}

/* What an error answer means for the group, for requests that carry the membership. Returns
 * true when it was handled (the caller stops). */
static bool membership_error(struct cgroup *g, int16_t code)
{
	switch (code) {
	case KAFKA_NOT_COORDINATOR:
	case KAFKA_COORDINATOR_NOT_AVAILABLE:
		coordinator_lost(g);
		return true;
	case KAFKA_UNKNOWN_MEMBER_ID:
	case KAFKA_ILLEGAL_GENERATION:
		reset_member(g, code);
		return true;
	case KAFKA_REBALANCE_IN_PROGRESS:
		want_rejoin(g);
		return true;
	case KAFKA_FENCED_INSTANCE_ID:
		set_fatal(g, code, "another member took this group.instance.id");
		return true;
	case KAFKA_GROUP_AUTHORIZATION_FAILED:
		set_fatal(g, code, "not authorized");
		return true;
	default:
		return false;
	}
}

/* ---- FindCoordinator --------------------------------------------------------------------- */

static void find_failed(struct cgroup *g, int64_t now_ms)
{
	g->find_failures++;
	g->find_retry_at_ms =
	    now_ms + cluster_backoff_ms(g->cl->cfg.retry_backoff_ms,
	                                g->cl->cfg.retry_backoff_max_ms, g->find_failures);
}

static void on_find(void *arg, int err, struct cursor *body, int16_t version)
{
	struct greq *r = arg;
	struct cgroup *g = r->g;
	free_req(g, r);
	if (!g)
		return;
	g->find_in_flight = false;
	int64_t now_ms = clock_mono_ms();
	struct find_coordinator_response resp;
	arena_reset(&g->arena);
	if (err < 0 || find_coordinator_response_decode(body, &g->arena, version, &resp) < 0) {
		find_failed(g, now_ms);
		return;
	}
	if (resp.error_code != KAFKA_NONE) {
		if (resp.error_code == KAFKA_GROUP_AUTHORIZATION_FAILED ||
		    resp.error_code == KAFKA_INVALID_GROUP_ID)
			set_fatal(g, resp.error_code, "no coordinator");
		find_failed(g, now_ms);
		return;
	}
	char *host = dup_kstr(resp.host);
	struct cbroker *b =
	    host ? cluster_dedicated_broker(g->cl, INT32_MAX - resp.node_id, host, resp.port)
	         : NULL;
	free(host);
	if (!b) {
		find_failed(g, now_ms);
		return;
	}
	g->coord = b;
	g->coord_id = resp.node_id;
	g->find_failures = 0;
	g->hb_ok_ms = now_ms;
}

static void send_find(struct cgroup *g, int64_t now_ms)
{
	if (g->find_in_flight || now_ms < g->find_retry_at_ms)
		return;
	struct kconn *c = cluster_any_conn(g->cl, now_ms);
	if (!c) {
		g->find_retry_at_ms = now_ms + g->cl->cfg.retry_backoff_ms;
		return;
	}
	int16_t v = kconn_version(c, API_FIND_COORDINATOR, FIND_COORDINATOR_VERSION_MIN,
	                          FIND_COORDINATOR_VERSION_MAX);
	struct greq *r = new_req(g, R_FIND, 0);
	struct buf *b = begin_coord(g, c, API_FIND_COORDINATOR, v, r);
	if (!b)
		return find_failed(g, now_ms);
	struct find_coordinator_request req = { .key = kstr_from(g->group_id), .key_type = 0 };
	find_coordinator_request_encode(b, v, &req);
	if (finish_req(c, r, now_ms, 0, on_find) == 0)
		g->find_in_flight = true;
	else
		find_failed(g, now_ms);
}

/* ---- all-topics Metadata and the subscription -------------------------------------------- */

static void topics_free(struct gtopic *t, int32_t n)
{
	for (int32_t i = 0; i < n; i++)
		free(t[i].name);
	free(t);
}

static int32_t topic_partitions(const struct cgroup *g, const char *name)
{
	for (int32_t i = 0; i < g->topics_count; i++)
		if (!strcmp(g->topics[i].name, name))
			return g->topics[i].partitions_count;
	return -1;
}

static bool internal_topic(const char *name)
{
	return !strcmp(name, "__consumer_offsets") || !strcmp(name, "__transaction_state");
}

/* Recomputes the topics the member subscribes to from its names and patterns against the
 * last metadata; a change means a rebalance (the leader must hear of the new set). */
static void match_subscription(struct cgroup *g)
{
	int32_t cap = g->subs_count + g->topics_count;
	char **next = calloc((size_t)(cap ? cap : 1), sizeof(*next));
	if (!next)
		return;
	int32_t n = 0;
	for (int32_t i = 0; i < g->subs_count; i++)
		if (!g->is_regex[i])
			next[n++] = g->subs[i];
	for (int32_t t = 0; t < g->topics_count; t++) {
		const char *name = g->topics[t].name;
		if (internal_topic(name))
			continue;
		for (int32_t i = 0; i < g->subs_count; i++)
			if (g->is_regex[i] && regexec(&g->regs[i], name, 0, NULL, 0) == 0) {
				next[n++] = g->topics[t].name;
				break;
			}
	}
	qsort(next, (size_t)n, sizeof(*next), cmp_str);
	int32_t m = 0; /* names given twice, or a name a pattern matches too */
	for (int32_t i = 0; i < n; i++)
		if (m == 0 || strcmp(next[m - 1], next[i]))
			next[m++] = next[i];
	bool same = m == g->subscribed_count;
	for (int32_t i = 0; same && i < m; i++)
		same = !strcmp(next[i], g->subscribed[i]);
	if (same) {
		free(next);
		return;
	}
	for (int32_t i = 0; i < m; i++)
		next[i] = strdup(next[i]);
	for (int32_t i = 0; i < g->subscribed_count; i++)
		free(g->subscribed[i]);
	free(g->subscribed);
	g->subscribed = next;
	g->subscribed_count = m;
	for (int32_t i = 0; i < m; i++)
		if (!next[i]) { /* out of memory: keep what was copied, try at the next refresh */
			g->subscribed_count = i;
			break;
		}
	if (g->state != G_IDLE && g->state != G_NEED_JOIN && g->state != G_CLOSED)
		want_rejoin(g);
}

/* The leader assigned with partition counts that changed since (a topic created, grown or
 * deleted): Kafka's leader then starts a new rebalance. */
static bool used_changed(const struct cgroup *g)
{
	for (int32_t i = 0; i < g->used_count; i++)
		if (topic_partitions(g, g->used[i].name) != g->used[i].partitions_count)
			return true;
	return false;
}

static void on_meta(void *arg, int err, struct cursor *body, int16_t version)
{
	struct greq *r = arg;
	struct cgroup *g = r->g;
	free_req(g, r);
	if (!g)
		return;
	g->meta_in_flight = false;
	int64_t now_ms = clock_mono_ms();
	struct metadata_response resp;
	arena_reset(&g->arena);
	if (err < 0 || metadata_response_decode(body, &g->arena, version, &resp) < 0) {
		g->meta_next_ms = now_ms + g->cl->cfg.retry_backoff_ms;
		return;
	}
	struct gtopic *t = calloc((size_t)resp.topics_count + 1, sizeof(*t));
	if (!t) {
		g->meta_next_ms = now_ms + g->cl->cfg.retry_backoff_ms;
		return;
	}
	int32_t n = 0;
	for (int32_t i = 0; i < resp.topics_count; i++) {
		const struct metadata_response_topic *mt = &resp.topics[i];
		if (mt->error_code != KAFKA_NONE || mt->is_internal || mt->partitions_count <= 0)
			continue;
		if (!(t[n].name = dup_kstr(mt->name)))
			continue;
		t[n++].partitions_count = mt->partitions_count;
	}
	topics_free(g->topics, g->topics_count);
	g->topics = t;
	g->topics_count = n;
	g->meta_ok = true;
	g->meta_next_ms = now_ms + g->cfg.metadata_pattern_refresh_ms;
	match_subscription(g);
	if (g->leader && g->state == G_STABLE && used_changed(g))
		want_rejoin(g);
}

static void send_meta(struct cgroup *g, int64_t now_ms)
{
	if (g->meta_in_flight || (!g->meta_wanted && now_ms < g->meta_next_ms))
		return;
	struct kconn *c = cluster_any_conn(g->cl, now_ms);
	if (!c) { /* connecting: look again soon, without spinning */
		g->meta_wanted = false;
		g->meta_next_ms = now_ms + g->cl->cfg.retry_backoff_ms;
		return;
	}
	int16_t v = kconn_version(c, API_METADATA, 1, METADATA_VERSION_MAX);
	struct greq *r = new_req(g, R_META, 0);
	struct buf *b = begin_coord(g, c, API_METADATA, v, r);
	if (!b)
		return;
	struct metadata_request req = { .topics_count = -1, .allow_auto_topic_creation = false };
	metadata_request_encode(b, v, &req);
	if (finish_req(c, r, now_ms, 0, on_meta) == 0) {
		g->meta_in_flight = true;
		g->meta_wanted = false;
	}
}

/* ---- JoinGroup --------------------------------------------------------------------------- */

static void join_failed(struct cgroup *g, int64_t now_ms)
{
	g->join_failures++;
	g->join_retry_at_ms =
	    now_ms + cluster_backoff_ms(g->cl->cfg.retry_backoff_ms,
	                                g->cl->cfg.retry_backoff_max_ms, g->join_failures);
	if (g->state == G_JOINING || g->state == G_SYNCING || g->state == G_NEED_SYNC)
		g->state = G_NEED_JOIN;
}

/* Keeps what the leader needs from the JoinGroup answer (it is gone after the callback). */
static int keep_members(struct cgroup *g, const struct join_group_response *resp)
{
	arena_reset(&g->join_arena);
	g->members_count = 0;
	if (resp->members_count > ASSIGN_MEMBERS_MAX)
		return -TAPE_ETOOLARGE;
	g->members =
	    arena_array(&g->join_arena, (size_t)resp->members_count + 1, sizeof(*g->members));
	if (!g->members)
		return -ENOMEM;
	for (int32_t i = 0; i < resp->members_count; i++) {
		const struct join_group_response_member *m = &resp->members[i];
		struct kstr id = m->member_id, inst = m->group_instance_id;
		char *idc = kstr_dup(&g->join_arena, id);
		char *instc = kstr_is_null(inst) ? NULL : kstr_dup(&g->join_arena, inst);
		uint8_t *md =
		    arena_alloc(&g->join_arena, m->metadata.len > 0 ? (size_t)m->metadata.len : 1);
		if (!idc || (!kstr_is_null(inst) && !instc) || !md)
			return -ENOMEM;
		if (m->metadata.len > 0)
			memcpy(md, m->metadata.p, (size_t)m->metadata.len);
		struct kbytes meta = { md, m->metadata.len };
		struct kstr idk = { idc, id.len };
		struct kstr instk = instc ? (struct kstr){ instc, inst.len } : KSTR_NULL;
		if (assign_member_decode(&g->members[g->members_count], idk, instk, meta,
		                         &g->join_arena) < 0)
			continue; /* a member we cannot read gets nothing, as Kafka's leader */
		g->members_count++;
	}
	return 0;
}

static void on_join(void *arg, int err, struct cursor *body, int16_t version)
{
	struct greq *r = arg;
	struct cgroup *g = r->g;
	uint32_t epoch = r->epoch;
	free_req(g, r);
	if (!g || epoch != g->epoch || g->state != G_JOINING)
		return;
	int64_t now_ms = clock_mono_ms();
	struct join_group_response resp;
	arena_reset(&g->arena);
	if (err < 0 || join_group_response_decode(body, &g->arena, version, &resp) < 0) {
		if (err < 0)
			coordinator_lost(g);
		return join_failed(g, now_ms);
	}
	switch (resp.error_code) {
	case KAFKA_NONE:
		break;
	case KAFKA_MEMBER_ID_REQUIRED: /* KIP-394: join again with the id given */
		free(g->member_id);
		g->member_id = dup_kstr(resp.member_id);
		if (!g->member_id)
			g->member_id = strdup("");
		g->state = G_NEED_JOIN;
		g->prepared = true;
		return;
	case KAFKA_UNKNOWN_MEMBER_ID:
		set_str(&g->member_id, "");
		g->state = G_NEED_JOIN;
		g->prepared = true;
		return;
	case KAFKA_COORDINATOR_LOAD_IN_PROGRESS:
	case KAFKA_REBALANCE_IN_PROGRESS:
		return join_failed(g, now_ms);
	case KAFKA_NOT_COORDINATOR:
	case KAFKA_COORDINATOR_NOT_AVAILABLE:
		coordinator_lost(g);
		g->state = G_NEED_JOIN;
		return;
	case KAFKA_INCONSISTENT_GROUP_PROTOCOL:
		return set_fatal(g, resp.error_code,
		                 "the members share no assignor (tape offers the configured ones)");
	case KAFKA_INVALID_SESSION_TIMEOUT:
		return set_fatal(g, resp.error_code,
		                 "the broker refused the session timeout (see its "
		                 "group.min/max.session.timeout.ms)");
	default:
		return set_fatal(g, resp.error_code, "cannot join");
	}
	g->join_failures = 0;
	g->generation_id = resp.generation_id;
	free(g->member_id);
	g->member_id = dup_kstr(resp.member_id);
	free(g->protocol);
	g->protocol = dup_kstr(resp.protocol_name);
	if (!g->member_id || !g->protocol)
		return set_fatal(g, KAFKA_UNKNOWN_SERVER_ERROR, "out of memory");
	g->leader = kstr_eq(resp.leader, g->member_id);
	g->epoch++;
	if (g->leader) {
		if (keep_members(g, &resp) < 0)
			return join_failed(g, now_ms);
		g->state = G_NEED_SYNC;
		g->meta_wanted = true; /* every member's topics, counted now */
	} else {
		g->members_count = 0;
		g->state = G_NEED_SYNC;
	}
	g->hb_next_ms = now_ms + g->cfg.heartbeat_interval_ms;
	g->hb_ok_ms = now_ms;
}

/* A member's subscription metadata for one assignor: the topics, and for cooperative
 * assignors the partitions owned (eager members revoked theirs before joining). */
static void encode_subscription(struct cgroup *g, struct buf *b, const struct assignor *as)
{
	struct kstr *topics = calloc((size_t)g->subscribed_count + 1, sizeof(*topics));
	int32_t *starts = calloc((size_t)g->owned_count + 1, sizeof(*starts));
	struct consumer_protocol_topic_partition *owned =
	    calloc((size_t)g->owned_count + 1, sizeof(*owned));
	int32_t *parts = calloc((size_t)g->owned_count + 1, sizeof(*parts));
	if (!topics || !starts || !owned || !parts) {
		buf_fail(b);
		goto out;
	}
	for (int32_t i = 0; i < g->subscribed_count; i++)
		topics[i] = kstr_from(g->subscribed[i]);
	int32_t runs = 0;
	if (as->rebalance == ASSIGN_COOPERATIVE) {
		for (int32_t i = 0; i < g->owned_count; i++)
			parts[i] = g->owned[i].partition;
		runs = topic_runs(g->owned, g->owned_count, starts);
		for (int32_t k = 0; k < runs; k++)
			owned[k] = (struct consumer_protocol_topic_partition){
				.topic = kstr_from(g->owned[starts[k]].topic),
				.partitions_count = starts[k + 1] - starts[k],
				.partitions = parts + starts[k],
			};
	}
	assign_encode_subscription(b, as, g->subscribed_count, topics, runs, owned,
	                           as->rebalance == ASSIGN_COOPERATIVE ? g->generation_id : -1);
out:
	free(topics);
	free(starts);
	free(owned);
	free(parts);
}

static void send_join(struct cgroup *g, struct kconn *c, int64_t now_ms)
{
	int16_t v = kconn_version(c, API_JOIN_GROUP, 1, JOIN_GROUP_VERSION_MAX);
	if (v < 0)
		return set_fatal(g, KAFKA_UNSUPPORTED_VERSION, "JoinGroup v1-5");
	struct buf metas[GROUP_ASSIGNORS_MAX];
	struct join_group_request_protocol protos[GROUP_ASSIGNORS_MAX];
	for (int32_t i = 0; i < g->assignors_count; i++) {
		buf_init(&metas[i], CLIENT_REQUEST_BYTES_DEFAULT);
		encode_subscription(g, &metas[i], g->assignors[i]);
		protos[i] = (struct join_group_request_protocol){
			.name = kstr_from(g->assignors[i]->name),
			.metadata = { metas[i].p, (int32_t)metas[i].len },
		};
	}
	struct greq *r = new_req(g, R_JOIN, 0);
	struct buf *b = begin_coord(g, c, API_JOIN_GROUP, v, r);
	if (b) {
		struct join_group_request req = {
			.group_id = kstr_from(g->group_id),
			.session_timeout_ms = g->cfg.session_timeout_ms,
			.rebalance_timeout_ms = g->cfg.rebalance_timeout_ms,
			.member_id = kstr_from(g->member_id),
			.group_instance_id = kstr_from(g->instance_id),
			.protocol_type = KSTR("consumer"),
			.protocols_count = g->assignors_count,
			.protocols = protos,
		};
		join_group_request_encode(b, v, &req);
		if (finish_req(c, r, now_ms, g->cfg.rebalance_timeout_ms + JOIN_TIMEOUT_EXTRA_MS,
		               on_join) == 0) {
			g->state = G_JOINING;
			g->prepared = false;
			g->rejoin = false;
		}
	}
	for (int32_t i = 0; i < g->assignors_count; i++)
		buf_free(&metas[i]);
	if (g->state != G_JOINING)
		join_failed(g, now_ms);
}

/* ---- SyncGroup --------------------------------------------------------------------------- */

static void on_sync(void *arg, int err, struct cursor *body, int16_t version)
{
	struct greq *r = arg;
	struct cgroup *g = r->g;
	uint32_t epoch = r->epoch;
	free_req(g, r);
	if (!g || epoch != g->epoch || g->state != G_SYNCING)
		return;
	int64_t now_ms = clock_mono_ms();
	struct sync_group_response resp;
	arena_reset(&g->arena);
	if (err < 0 || sync_group_response_decode(body, &g->arena, version, &resp) < 0) {
		if (err < 0)
			coordinator_lost(g);
		return join_failed(g, now_ms);
	}
	if (resp.error_code != KAFKA_NONE) {
		if (resp.error_code == KAFKA_REBALANCE_IN_PROGRESS) {
			g->state = G_NEED_JOIN;
			g->prepared = true; /* nothing changed since the join was prepared */
			return;
		}
		if (!membership_error(g, resp.error_code))
			set_fatal(g, resp.error_code, "SyncGroup failed");
		if (g->state == G_SYNCING)
			g->state = G_NEED_JOIN;
		return;
	}
	free(g->sync_payload);
	g->sync_payload_len = resp.assignment.len > 0 ? resp.assignment.len : 0;
	g->sync_payload = malloc((size_t)g->sync_payload_len + 1);
	if (!g->sync_payload)
		return join_failed(g, now_ms);
	if (g->sync_payload_len)
		memcpy(g->sync_payload, resp.assignment.p, (size_t)g->sync_payload_len);
	g->state = G_SYNCED;
}

/* The leader's assignment: the chosen assignor over the members and every topic they
 * subscribe to. Encodes the SyncGroup assignments into the arena. */
static int lead_assign(struct cgroup *g, struct sync_group_request_assignment **out)
{
	const struct assignor *as = assignor_find(kstr_from(g->protocol));
	if (!as)
		return -EINVAL;
	struct assign_topic *topics =
	    arena_array(&g->join_arena, (size_t)g->topics_count + 1, sizeof(*topics));
	if (!topics)
		return -ENOMEM;
	/* The topics some member subscribes to, with the counts assigned from: the leader
	 * watches them (used_changed). Ones that do not exist yet count -1. */
	int32_t subscribed = 0;
	for (int32_t m = 0; m < g->members_count; m++)
		subscribed += g->members[m].subscription.topics_count;
	topics_free(g->used, g->used_count);
	g->used = calloc((size_t)subscribed + 1, sizeof(*g->used));
	g->used_count = 0;
	int32_t n = 0;
	for (int32_t t = 0; t < g->topics_count; t++) {
		bool wanted = false;
		for (int32_t m = 0; m < g->members_count && !wanted; m++)
			for (int32_t k = 0; k < g->members[m].subscription.topics_count; k++)
				if (kstr_eq(g->members[m].subscription.topics[k],
				            g->topics[t].name)) {
					wanted = true;
					break;
				}
		if (!wanted)
			continue;
		topics[n++] = (struct assign_topic){ kstr_from(g->topics[t].name),
			                             g->topics[t].partitions_count };
		if (g->used && (g->used[g->used_count].name = strdup(g->topics[t].name)))
			g->used[g->used_count++].partitions_count = g->topics[t].partitions_count;
	}
	for (int32_t m = 0; m < g->members_count && g->used; m++)
		for (int32_t k = 0; k < g->members[m].subscription.topics_count; k++) {
			char *name = dup_kstr(g->members[m].subscription.topics[k]);
			bool known = !name;
			for (int32_t u = 0; !known && u < g->used_count; u++)
				known = !strcmp(g->used[u].name, name);
			if (known) {
				free(name);
				continue;
			}
			g->used[g->used_count].name = name;
			g->used[g->used_count++].partitions_count = -1;
		}
	struct assign_group grp = { g->members_count, g->members, n, topics };
	struct assign_result res;
	int rc = as->assign(&grp, &g->join_arena, &res);
	if (rc < 0)
		return rc;
	struct sync_group_request_assignment *asg =
	    arena_array(&g->join_arena, (size_t)g->members_count + 1, sizeof(*asg));
	if (!asg)
		return -ENOMEM;
	for (int32_t m = 0; m < g->members_count; m++) {
		struct buf b;
		buf_init(&b, CLIENT_RESPONSE_BYTES_MAX);
		assign_encode_assignment(&b, &res.assignments[m]);
		uint8_t *p = buf_ok(&b) ? arena_alloc(&g->join_arena, b.len + 1) : NULL;
		if (p)
			memcpy(p, b.p, b.len);
		asg[m] = (struct sync_group_request_assignment){ g->members[m].member_id,
			                                         { p, (int32_t)b.len } };
		buf_free(&b);
		if (!p)
			return -ENOMEM;
	}
	*out = asg;
	return 0;
}

static void send_sync(struct cgroup *g, struct kconn *c, int64_t now_ms)
{
	int16_t v =
	    kconn_version(c, API_SYNC_GROUP, SYNC_GROUP_VERSION_MIN, SYNC_GROUP_VERSION_MAX);
	struct sync_group_request_assignment *asg = NULL;
	int32_t n = 0;
	if (g->leader) {
		int rc = lead_assign(g, &asg);
		if (rc < 0) {
			set_fatal(g, KAFKA_UNKNOWN_SERVER_ERROR, "the leader cannot assign");
			return;
		}
		n = g->members_count;
	}
	struct greq *r = new_req(g, R_SYNC, 0);
	struct buf *b = begin_coord(g, c, API_SYNC_GROUP, v, r);
	if (!b)
		return join_failed(g, now_ms);
	struct sync_group_request req = {
		.group_id = kstr_from(g->group_id),
		.generation_id = g->generation_id,
		.member_id = kstr_from(g->member_id),
		.group_instance_id = kstr_from(g->instance_id),
		.assignments_count = n,
		.assignments = asg,
	};
	sync_group_request_encode(b, v, &req);
	if (finish_req(c, r, now_ms, g->cfg.rebalance_timeout_ms + JOIN_TIMEOUT_EXTRA_MS, on_sync) <
	    0)
		return join_failed(g, now_ms);
	g->state = G_SYNCING;
}

/* ---- Heartbeat --------------------------------------------------------------------------- */

static void on_heartbeat(void *arg, int err, struct cursor *body, int16_t version)
{
	struct greq *r = arg;
	struct cgroup *g = r->g;
	uint32_t epoch = r->epoch;
	free_req(g, r);
	if (!g || epoch != g->epoch)
		return;
	g->hb_in_flight = false;
	int64_t now_ms = clock_mono_ms();
	struct heartbeat_response resp;
	arena_reset(&g->arena);
	if (err < 0) {
		coordinator_lost(g);
		return;
	}
	if (heartbeat_response_decode(body, &g->arena, version, &resp) < 0)
		return;
	if (resp.error_code == KAFKA_NONE) {
		g->hb_ok_ms = now_ms;
		return;
	}
	if (!membership_error(g, resp.error_code) && !tape_error_kafka_retriable(resp.error_code))
		set_fatal(g, resp.error_code, "Heartbeat failed");
}

/* Heartbeats go out while the member has a generation and no JoinGroup or SyncGroup is
 * pending: in STABLE, and while it fetches offsets, revokes or prepares a join. */
static bool heartbeating(const struct cgroup *g)
{
	return g->generation_id >= 0 && g->member_id && g->member_id[0] &&
	       (g->state == G_STABLE || g->state == G_OFFSETS || g->state == G_SYNCED ||
	        g->state == G_NEED_JOIN);
}

static void send_heartbeat(struct cgroup *g, struct kconn *c, int64_t now_ms)
{
	if (g->hb_in_flight || now_ms < g->hb_next_ms)
		return;
	int16_t v = kconn_version(c, API_HEARTBEAT, HEARTBEAT_VERSION_MIN, HEARTBEAT_VERSION_MAX);
	struct greq *r = new_req(g, R_HEARTBEAT, 0);
	struct buf *b = begin_coord(g, c, API_HEARTBEAT, v, r);
	if (!b)
		return;
	struct heartbeat_request req = {
		.group_id = kstr_from(g->group_id),
		.generation_id = g->generation_id,
		.member_id = kstr_from(g->member_id),
		.group_instance_id = kstr_from(g->instance_id),
	};
	heartbeat_request_encode(b, v, &req);
	if (finish_req(c, r, now_ms, 0, on_heartbeat) == 0) {
		g->hb_in_flight = true;
		g->hb_next_ms = now_ms + g->cfg.heartbeat_interval_ms;
	}
}

/* ---- OffsetFetch ------------------------------------------------------------------------- */

static void on_offset_fetch(void *arg, int err, struct cursor *body, int16_t version)
{
	struct greq *r = arg;
	struct cgroup *g = r->g;
	uint32_t epoch = r->epoch;
	free_req(g, r);
	if (!g || epoch != g->epoch || g->state != G_OFFSETS)
		return;
	g->offsets_in_flight = false;
	int64_t now_ms = clock_mono_ms();
	g->offsets_retry_at_ms = now_ms + g->cl->cfg.retry_backoff_ms;
	struct offset_fetch_response resp;
	arena_reset(&g->arena);
	if (err < 0) {
		coordinator_lost(g);
		return;
	}
	if (offset_fetch_response_decode(body, &g->arena, version, &resp) < 0)
		return;
	if (resp.error_code != KAFKA_NONE) {
		if (!membership_error(g, resp.error_code) &&
		    !tape_error_kafka_retriable(resp.error_code))
			set_fatal(g, resp.error_code, "cannot read the committed offsets");
		return;
	}
	int32_t got = 0;
	for (int32_t t = 0; t < resp.topics_count; t++)
		for (int32_t p = 0; p < resp.topics[t].partitions_count; p++) {
			const struct offset_fetch_response_partition *rp =
			    &resp.topics[t].partitions[p];
			char *name = kstr_dup(&g->arena, resp.topics[t].name);
			struct gpart *gp =
			    name ? (struct gpart *)parts_find(g->incoming, g->incoming_count, name,
			                                      rp->partition_index)
			         : NULL;
			if (!gp)
				continue;
			if (rp->error_code != KAFKA_NONE) {
				if (membership_error(g, rp->error_code))
					return;
				continue; /* UNSTABLE_OFFSET_COMMIT and friends: asked again */
			}
			gp->committed = rp->committed_offset >= 0 ? rp->committed_offset : -1;
			got++;
		}
	if (got == g->incoming_count)
		g->offsets_retry_at_ms = -1; /* all known: cgroup_poll hands them over */
}

static void send_offset_fetch(struct cgroup *g, struct kconn *c, int64_t now_ms)
{
	if (g->offsets_in_flight || (g->offsets_retry_at_ms > 0 && now_ms < g->offsets_retry_at_ms))
		return;
	int16_t v =
	    kconn_version(c, API_OFFSET_FETCH, OFFSET_FETCH_VERSION_MIN, OFFSET_FETCH_VERSION_MAX);
	int32_t n = g->incoming_count;
	int32_t *starts = calloc((size_t)n + 1, sizeof(*starts));
	int32_t *parts = calloc((size_t)n + 1, sizeof(*parts));
	struct offset_fetch_request_topic *topics = calloc((size_t)n + 1, sizeof(*topics));
	struct greq *r = starts && parts && topics ? new_req(g, R_OFFSET_FETCH, 0) : NULL;
	struct buf *b = begin_coord(g, c, API_OFFSET_FETCH, v, r);
	if (b) {
		int32_t runs = topic_runs(g->incoming, n, starts);
		for (int32_t i = 0; i < n; i++)
			parts[i] = g->incoming[i].partition;
		for (int32_t k = 0; k < runs; k++)
			topics[k] = (struct offset_fetch_request_topic){
				kstr_from(g->incoming[starts[k]].topic), starts[k + 1] - starts[k],
				parts + starts[k]
			};
		struct offset_fetch_request req = { kstr_from(g->group_id), runs, topics };
		offset_fetch_request_encode(b, v, &req);
		if (finish_req(c, r, now_ms, 0, on_offset_fetch) == 0)
			g->offsets_in_flight = true;
	}
	free(starts);
	free(parts);
	free(topics);
}

/* ---- OffsetCommit ------------------------------------------------------------------------ */

static void commit_done(struct cgroup *g, struct greq *r, const struct tape_error *e)
{
	if (r->waiter) {
		r->waiter->done = true;
		tape_error_copy(&r->waiter->error, e);
	}
	if (g)
		g->commits_in_flight--;
}

static void on_commit(void *arg, int err, struct cursor *body, int16_t version)
{
	struct greq *r = arg;
	struct cgroup *g = r->g;
	struct tape_error e = { 0 };
	char k[64];
	struct offset_commit_response resp;
	if (!g) {
		tape_error_set(&e, -TAPE_ECLOSED, "the consumer was closed");
		goto out;
	}
	arena_reset(&g->arena);
	if (err < 0) {
		char why[160];
		tape_error_set(&e, err, "cannot commit to the group coordinator: %s",
		               tape_error_text(err, why, sizeof(why)));
		coordinator_lost(g);
		goto out;
	}
	if (offset_commit_response_decode(body, &g->arena, version, &resp) < 0) {
		tape_error_set(&e, -TAPE_EPROTO, "a malformed OffsetCommit answer");
		goto out;
	}
	for (int32_t t = 0; t < resp.topics_count; t++)
		for (int32_t p = 0; p < resp.topics[t].partitions_count; p++) {
			const struct offset_commit_response_partition *rp =
			    &resp.topics[t].partitions[p];
			char *name = kstr_dup(&g->arena, resp.topics[t].name);
			if (!name)
				continue;
			const struct gpart *sent =
			    parts_find(r->items, r->count, name, rp->partition_index);
			if (rp->error_code != KAFKA_NONE) {
				if (!e.code)
					tape_error_kafka(
					    &e, rp->error_code,
					    "cannot commit %s [%d] in group \"%s\": %s", name,
					    rp->partition_index, g->group_id,
					    kafka_text(rp->error_code, k, sizeof(k)));
				continue;
			}
			struct gpart *own = (struct gpart *)parts_find(g->owned, g->owned_count,
			                                               name, rp->partition_index);
			if (own && sent)
				own->committed = sent->committed;
		}
	/* REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID: as Kafka's clients, the
	 * commit fails and the member rejoins. Only for a commit of the current membership. */
	if (e.code && r->epoch == g->epoch)
		membership_error(g, e.kafka_code);
out:
	commit_done(g, r, &e);
	free_req(g, r);
}

/* Sends a commit of items (topic owned by the caller, moved into the request). Returns 0 or
 * the error (items freed either way). */
static int send_commit(struct cgroup *g, struct gpart *items, int32_t n, struct gwaiter *w,
                       int64_t now_ms, struct tape_error *err)
{
	char k[64];
	struct kconn *c = coord_conn(g, now_ms);
	int16_t v = c ? kconn_version(c, API_OFFSET_COMMIT, OFFSET_COMMIT_VERSION_MIN,
	                              OFFSET_COMMIT_VERSION_MAX)
	              : -1;
	qsort(items, (size_t)n, sizeof(*items), cmp_part);
	struct greq *r = new_req(g, R_COMMIT, n);
	int32_t *starts = calloc((size_t)n + 1, sizeof(*starts));
	struct offset_commit_request_partition *parts = calloc((size_t)n + 1, sizeof(*parts));
	struct offset_commit_request_topic *topics = calloc((size_t)n + 1, sizeof(*topics));
	int rc;
	if (!r || !starts || !parts || !topics) {
		rc = tape_error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	memcpy(r->items, items, sizeof(*items) * (size_t)n);
	r->count = n;
	free(items);
	items = NULL;
	r->waiter = w;
	struct buf *b = c && v >= 0 ? kconn_request_begin(c, API_OFFSET_COMMIT, v) : NULL;
	if (!b) {
		rc = tape_error_kafka(err, KAFKA_COORDINATOR_NOT_AVAILABLE,
		                      "cannot commit in group \"%s\": %s", g->group_id,
		                      kafka_text(KAFKA_COORDINATOR_NOT_AVAILABLE, k, sizeof(k)));
		goto fail;
	}
	int32_t runs = topic_runs(r->items, n, starts);
	for (int32_t i = 0; i < n; i++)
		parts[i] = (struct offset_commit_request_partition){
			.partition_index = r->items[i].partition,
			.committed_leader_epoch = -1,
			.committed_offset = r->items[i].committed,
			.committed_metadata = KSTR(""),
		};
	for (int32_t t = 0; t < runs; t++)
		topics[t] =
		    (struct offset_commit_request_topic){ kstr_from(r->items[starts[t]].topic),
			                                  starts[t + 1] - starts[t],
			                                  parts + starts[t] };
	struct offset_commit_request req = {
		.group_id = kstr_from(g->group_id),
		.generation_id_or_member_epoch = g->generation_id,
		.member_id = kstr_from(g->member_id),
		.group_instance_id = kstr_from(g->instance_id),
		.retention_time_ms = -1,
		.topics_count = runs,
		.topics = topics,
	};
	offset_commit_request_encode(b, v, &req);
	g->commits_in_flight++;
	if (finish_req(c, r, now_ms, 0, on_commit) < 0) {
		g->commits_in_flight--;
		r = NULL;
		rc = tape_error_set(err, -ENOMEM, "cannot send the commit");
		goto fail;
	}
	rc = 0;
	r = NULL;
fail:
	if (r)
		free_req(g, r);
	if (items)
		parts_free(items, n);
	free(starts);
	free(parts);
	free(topics);
	return rc;
}

/* The owner's positions of the partitions in p that moved since their last commit, as commit
 * items (*out, owned). Returns the count, or -ENOMEM. */
static int32_t moved_positions(struct cgroup *g, const struct gpart *p, int32_t n,
                               struct gpart **out)
{
	*out = NULL;
	if (!g->cb.position || n == 0)
		return 0;
	struct gpart *items = calloc((size_t)n, sizeof(*items));
	if (!items)
		return -ENOMEM;
	int32_t k = 0;
	for (int32_t i = 0; i < n; i++) {
		int64_t pos = g->cb.position(g->cb.arg, p[i].topic, p[i].partition);
		if (pos < 0 || pos == p[i].committed)
			continue;
		if (!(items[k].topic = strdup(p[i].topic))) {
			parts_free(items, k);
			return -ENOMEM;
		}
		items[k].partition = p[i].partition;
		items[k++].committed = pos;
	}
	*out = items;
	return k;
}

/* May the member commit now: it has a generation and no JoinGroup or SyncGroup is pending. */
static bool may_commit(const struct cgroup *g)
{
	return heartbeating(g) && g->coord_id >= 0;
}

/* ---- revoking and assigning -------------------------------------------------------------- */

static void call_revoked(struct cgroup *g, const struct gpart *p, int32_t n, bool lost)
{
	if (n == 0 || !g->cb.revoked)
		return;
	struct cgroup_tp *tps = calloc((size_t)n, sizeof(*tps));
	if (!tps)
		return;
	for (int32_t i = 0; i < n; i++)
		tps[i] = (struct cgroup_tp){ p[i].topic, p[i].partition, -1 };
	g->cb.revoked(g->cb.arg, tps, n, lost);
	free(tps);
}

/* Commits the positions of p and waits (polling) for the answer, at most the request
 * timeout: before a revoke, as Kafka's clients do. Errors are only what they are: the revoke
 * goes ahead. */
static void commit_before_revoke(struct cgroup *g, const struct gpart *p, int32_t n)
{
	if (!g->cfg.enable_auto_commit || !may_commit(g) || n == 0)
		return;
	struct gpart *items;
	int32_t k = moved_positions(g, p, n, &items);
	if (k <= 0) {
		free(items);
		return;
	}
	struct gwaiter w = { 0 };
	int64_t now_ms = clock_mono_ms();
	if (send_commit(g, items, k, &w, now_ms, NULL) < 0)
		return;
	int64_t deadline = now_ms + g->cl->cfg.request_timeout_ms;
	while (!w.done && (now_ms = clock_mono_ms()) < deadline)
		cluster_poll(g->cl, deadline - now_ms);
	if (!w.done)
		for (struct greq *r = g->reqs; r; r = r->next)
			if (r->waiter == &w)
				r->waiter = NULL;
}

/* Removes from owned the partitions for which drop[i] is true, telling the owner. */
static void revoke(struct cgroup *g, const bool *drop, bool lost)
{
	int32_t n = 0;
	for (int32_t i = 0; i < g->owned_count; i++)
		n += drop[i];
	if (n == 0)
		return;
	struct gpart *gone = calloc((size_t)n, sizeof(*gone));
	if (!gone)
		return;
	int32_t k = 0, keep = 0;
	for (int32_t i = 0; i < g->owned_count; i++) {
		if (drop[i])
			gone[k++] = g->owned[i];
		else
			g->owned[keep++] = g->owned[i];
	}
	g->owned_count = keep;
	if (!lost)
		commit_before_revoke(g, gone, n);
	call_revoked(g, gone, n, lost);
	parts_free(gone, n);
}

static void revoke_all(struct cgroup *g, bool lost)
{
	if (g->owned_count == 0)
		return;
	if (!lost)
		commit_before_revoke(g, g->owned, g->owned_count);
	struct gpart *gone = g->owned;
	int32_t n = g->owned_count;
	g->owned = NULL;
	g->owned_count = 0;
	call_revoked(g, gone, n, lost);
	parts_free(gone, n);
}

/* Before JoinGroup. Eager: commit, revoke everything. Cooperative: commit, revoke only what the
 * subscription no longer covers. A member whose membership was lost revokes as lost. */
static void prepare_join(struct cgroup *g)
{
	bool lost = g->generation_id < 0;
	if (!g->cooperative || lost) {
		revoke_all(g, lost);
	} else {
		bool *drop = calloc((size_t)g->owned_count + 1, 1);
		if (drop) {
			for (int32_t i = 0; i < g->owned_count; i++) {
				char *key = g->owned[i].topic;
				drop[i] = !bsearch(&key, g->subscribed, (size_t)g->subscribed_count,
				                   sizeof(char *), cmp_str);
			}
			if (g->cfg.enable_auto_commit && may_commit(g))
				commit_before_revoke(g, g->owned, g->owned_count);
			revoke(g, drop, false);
			free(drop);
		}
	}
	g->prepared = true;
}

/* SYNCED: the assignment arrived. Revokes what it takes away (cooperative: then a second
 * rebalance so those can move), and asks for the committed offsets of what it adds. */
static void apply_assignment(struct cgroup *g)
{
	struct consumer_protocol_assignment asg = { 0 };
	arena_reset(&g->arena);
	struct kbytes payload = { g->sync_payload, g->sync_payload_len };
	if (consumer_protocol_assignment_decode(payload, &g->arena, &asg) < 0) {
		g->state = G_NEED_JOIN;
		return;
	}
	int32_t total = 0;
	for (int32_t t = 0; t < asg.assigned_partitions_count; t++)
		total += asg.assigned_partitions[t].partitions_count;
	struct gpart *in = calloc((size_t)total + 1, sizeof(*in));
	bool *drop = calloc((size_t)g->owned_count + 1, 1);
	if (!in || !drop) {
		free(in);
		free(drop);
		g->state = G_NEED_JOIN;
		return;
	}
	int32_t n = 0;
	for (int32_t t = 0; t < asg.assigned_partitions_count; t++) {
		const struct consumer_protocol_topic_partition *tp = &asg.assigned_partitions[t];
		for (int32_t p = 0; p < tp->partitions_count; p++) {
			if (!(in[n].topic = dup_kstr(tp->topic)))
				continue;
			in[n].partition = tp->partitions[p];
			in[n++].committed = -1;
		}
	}
	qsort(in, (size_t)n, sizeof(*in), cmp_part);
	bool revoked = false;
	for (int32_t i = 0; i < g->owned_count; i++) {
		drop[i] = !parts_find(in, n, g->owned[i].topic, g->owned[i].partition);
		revoked |= drop[i];
	}
	uint32_t epoch = g->epoch;
	revoke(g, drop, false); /* may poll: the membership may end meanwhile */
	free(drop);
	if (epoch != g->epoch || g->state != G_SYNCED) {
		parts_free(in, n);
		return;
	}
	/* What is new: in minus owned. */
	int32_t k = 0;
	for (int32_t i = 0; i < n; i++) {
		if (parts_find(g->owned, g->owned_count, in[i].topic, in[i].partition))
			free(in[i].topic);
		else
			in[k++] = in[i];
	}
	parts_free(g->incoming, g->incoming_count);
	g->incoming = in;
	g->incoming_count = k;
	if (revoked && g->cooperative)
		g->rejoin = true; /* the second round hands the revoked partitions on */
	if (g->cb.joined)
		g->cb.joined(g->cb.arg, g->member_id, g->generation_id, g->leader, g->protocol);
	g->state = G_OFFSETS;
	g->offsets_retry_at_ms = 0;
	g->offsets_in_flight = false;
}

/* OFFSETS with every offset known: hand the new partitions over; STABLE. */
static void finish_assignment(struct cgroup *g, int64_t now_ms)
{
	int32_t n = g->incoming_count;
	struct gpart *all = realloc(g->owned, sizeof(*all) * (size_t)(g->owned_count + n + 1));
	struct cgroup_tp *tps = calloc((size_t)n + 1, sizeof(*tps));
	if (!all || !tps) {
		if (all)
			g->owned = all;
		free(tps);
		return; /* tried again at the next poll */
	}
	g->owned = all;
	if (n)
		memcpy(g->owned + g->owned_count, g->incoming, sizeof(*all) * (size_t)n);
	g->owned_count += n;
	qsort(g->owned, (size_t)g->owned_count, sizeof(*all), cmp_part);
	for (int32_t i = 0; i < n; i++)
		tps[i] = (struct cgroup_tp){ g->incoming[i].topic, g->incoming[i].partition,
			                     g->incoming[i].committed };
	/* After every rebalance, with what it added (maybe nothing): the owner learns the
	 * assignment settled. The names now belong to owned. */
	free(g->incoming);
	g->incoming = NULL;
	g->incoming_count = 0;
	if (g->cb.assigned)
		g->cb.assigned(g->cb.arg, tps, n);
	free(tps);
	g->state = G_STABLE;
	g->auto_commit_next_ms = now_ms + g->cfg.auto_commit_interval_ms;
	if (g->rejoin) {
		g->rejoin = false;
		g->state = G_NEED_JOIN;
	}
}

/* ---- the step ---------------------------------------------------------------------------- */

static void auto_commit(struct cgroup *g, int64_t now_ms)
{
	if (!g->cfg.enable_auto_commit || g->state != G_STABLE || now_ms < g->auto_commit_next_ms ||
	    g->commits_in_flight > 0 || !may_commit(g))
		return;
	g->auto_commit_next_ms = now_ms + g->cfg.auto_commit_interval_ms;
	struct gpart *items;
	int32_t k = moved_positions(g, g->owned, g->owned_count, &items);
	if (k > 0)
		send_commit(g, items, k, NULL, now_ms, NULL);
	else
		free(items);
}

void cgroup_poll(struct cgroup *g, int64_t now_ms)
{
	if (g->state == G_IDLE || g->state == G_CLOSED || g->fatal.code)
		return;
	send_meta(g, now_ms);
	if (g->coord_id >= 0 && heartbeating(g) && now_ms - g->hb_ok_ms > g->cfg.session_timeout_ms)
		coordinator_lost(g); /* as Java: no heartbeat answered for a whole session */
	if (g->coord_id < 0) {
		send_find(g, now_ms);
		return;
	}
	struct kconn *c = coord_conn(g, now_ms);
	if (!c)
		return;
	if (heartbeating(g))
		send_heartbeat(g, c, now_ms);
	switch (g->state) {
	case G_NEED_JOIN:
		if (!g->meta_ok || now_ms < g->join_retry_at_ms)
			break;
		if (!g->prepared)
			prepare_join(g);
		c = coord_conn(g, clock_mono_ms()); /* the commit may have lost it */
		/* A commit answered UNKNOWN_MEMBER_ID meanwhile: prepare again, as lost. */
		if (c && g->prepared && g->state == G_NEED_JOIN && !g->fatal.code)
			send_join(g, c, now_ms);
		break;
	case G_NEED_SYNC:
		if (!g->leader || (!g->meta_in_flight && !g->meta_wanted))
			send_sync(g, c, now_ms);
		break;
	case G_SYNCED:
		apply_assignment(g);
		if (g->state == G_OFFSETS && g->incoming_count == 0)
			finish_assignment(g, now_ms);
		break;
	case G_OFFSETS:
		if (g->offsets_retry_at_ms < 0)
			finish_assignment(g, now_ms);
		else
			send_offset_fetch(g, c, now_ms);
		break;
	case G_STABLE:
		auto_commit(g, now_ms);
		break;
	default:
		break;
	}
}

int64_t cgroup_next_wakeup(const struct cgroup *g)
{
	if (g->state == G_IDLE || g->state == G_CLOSED || g->fatal.code)
		return INT64_MAX;
	int64_t t = g->meta_in_flight ? INT64_MAX : g->meta_next_ms;
	if (g->meta_wanted && !g->meta_in_flight)
		return 0;
	if (g->coord_id < 0)
		return g->find_in_flight ? t : (g->find_retry_at_ms < t ? g->find_retry_at_ms : t);
	if (!kconn_ready(&g->coord->conn)) { /* connecting: cluster_poll wakes for it */
		int64_t soon = clock_mono_ms() + g->cl->cfg.reconnect_backoff_ms;
		return soon < t ? soon : t;
	}
	if (heartbeating(g) && !g->hb_in_flight && g->hb_next_ms < t)
		t = g->hb_next_ms;
	switch (g->state) {
	case G_NEED_JOIN:
		if (g->meta_ok)
			t = g->join_retry_at_ms < t ? g->join_retry_at_ms : t;
		break;
	case G_SYNCED:
		return 0;
	case G_NEED_SYNC:
		if (!g->leader || !g->meta_in_flight)
			return 0;
		break;
	case G_OFFSETS:
		if (g->offsets_retry_at_ms < 0)
			return 0;
		if (!g->offsets_in_flight)
			t = g->offsets_retry_at_ms < t ? g->offsets_retry_at_ms : t;
		break;
	case G_STABLE:
		if (g->cfg.enable_auto_commit && g->auto_commit_next_ms < t)
			t = g->auto_commit_next_ms;
		break;
	default:
		break;
	}
	return t;
}

/* ---- the calls ---------------------------------------------------------------------------- */

static void free_subscription(struct cgroup *g)
{
	for (int32_t i = 0; i < g->subs_count; i++) {
		if (g->is_regex[i])
			regfree(&g->regs[i]);
		free(g->subs[i]);
	}
	free(g->subs);
	free(g->regs);
	free(g->is_regex);
	g->subs = NULL;
	g->regs = NULL;
	g->is_regex = NULL;
	g->subs_count = 0;
}

int cgroup_subscribe(struct cgroup *g, const char *const *topics, int32_t count,
                     struct tape_error *err)
{
	if (g->state == G_CLOSED)
		return tape_error_set(err, -TAPE_ECLOSED, "the consumer is closed");
	if (count <= 0)
		return tape_error_set(err, -TAPE_ECONFIG, "subscribe to at least one topic");
	if (count > GROUP_SUBSCRIPTION_MAX)
		return tape_error_set(err, -TAPE_ETOOLARGE, "more than %d topics",
		                      GROUP_SUBSCRIPTION_MAX);
	char **subs = calloc((size_t)count, sizeof(*subs));
	regex_t *regs = calloc((size_t)count, sizeof(*regs));
	bool *is_regex = calloc((size_t)count, sizeof(*is_regex));
	int rc = 0;
	int32_t i = 0;
	if (!subs || !regs || !is_regex) {
		rc = tape_error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	for (; i < count; i++) {
		if (!topics[i] || !*topics[i]) {
			rc = tape_error_set(err, -TAPE_ECONFIG, "an empty topic name");
			goto fail;
		}
		if (!(subs[i] = strdup(topics[i]))) {
			rc = tape_error_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
		if (topics[i][0] != '^')
			continue;
		int e = regcomp(&regs[i], topics[i], REG_EXTENDED | REG_NOSUB);
		if (e) {
			char why[128];
			regerror(e, &regs[i], why, sizeof(why));
			free(subs[i]);
			rc = tape_error_set(err, -TAPE_ECONFIG, "bad topic pattern \"%s\": %s",
			                    topics[i], why);
			goto fail;
		}
		is_regex[i] = true;
	}
	free_subscription(g);
	g->subs = subs;
	g->regs = regs;
	g->is_regex = is_regex;
	g->subs_count = count;
	match_subscription(g);
	g->meta_wanted = true;
	if (g->state == G_IDLE) {
		g->state = G_NEED_JOIN;
		g->meta_ok = false;
	}
	return 0;
fail:
	for (int32_t j = 0; j < i; j++) {
		if (is_regex[j])
			regfree(&regs[j]);
		free(subs[j]);
	}
	free(subs);
	free(regs);
	free(is_regex);
	return rc;
}

int cgroup_commit(struct cgroup *g, const char *topic, int32_t partition, int64_t next_offset,
                  bool wait, struct tape_error *err)
{
	tape_error_clear(err);
	if (g->state == G_CLOSED)
		return tape_error_set(err, -TAPE_ECLOSED, "the consumer is closed");
	if (g->fatal.code)
		return tape_error_copy(err, &g->fatal);
	int64_t now_ms = clock_mono_ms();
	if (!may_commit(g)) {
		char k[64];
		return tape_error_kafka(
		    err, KAFKA_REBALANCE_IN_PROGRESS, "cannot commit in group \"%s\" now: %s",
		    g->group_id,
		    g->coord_id < 0 ? "looking for its coordinator"
		                    : kafka_text(KAFKA_REBALANCE_IN_PROGRESS, k, sizeof(k)));
	}
	struct gpart *items;
	int32_t k;
	if (topic) {
		if (next_offset < 0)
			return tape_error_set(err, -EINVAL, "cannot commit offset %lld",
			                      (long long)next_offset);
		items = calloc(1, sizeof(*items));
		if (!items || !(items[0].topic = strdup(topic))) {
			free(items);
			return tape_error_set(err, -ENOMEM, "out of memory");
		}
		items[0].partition = partition;
		items[0].committed = next_offset;
		k = 1;
	} else {
		k = moved_positions(g, g->owned, g->owned_count, &items);
		if (k < 0)
			return tape_error_set(err, -ENOMEM, "out of memory");
		if (k == 0) {
			free(items);
			return 0; /* nothing moved since the last commit */
		}
	}
	struct gwaiter w = { 0 };
	int rc = send_commit(g, items, k, wait ? &w : NULL, now_ms, err);
	if (rc < 0 || !wait)
		return rc;
	int64_t deadline = now_ms + g->cl->cfg.request_timeout_ms;
	while (!w.done && (now_ms = clock_mono_ms()) < deadline)
		cluster_poll(g->cl, deadline - now_ms);
	if (!w.done) {
		for (struct greq *r = g->reqs; r; r = r->next)
			if (r->waiter == &w)
				r->waiter = NULL;
		return tape_error_set(err, -ETIMEDOUT, "the commit was not answered in %d ms",
		                      g->cl->cfg.request_timeout_ms);
	}
	return tape_error_copy(err, &w.error);
}

int cgroup_error(const struct cgroup *g, struct tape_error *err)
{
	if (!g->fatal.code)
		return 0;
	return tape_error_copy(err, &g->fatal);
}

bool cgroup_stable(const struct cgroup *g)
{
	return g->state == G_STABLE;
}

static void on_leave(void *arg, int err, struct cursor *body, int16_t version)
{
	(void)err;
	(void)body;
	(void)version;
	struct greq *r = arg;
	free_req(r->g, r);
}

int cgroup_close(struct cgroup *g, int32_t timeout_ms, struct tape_error *err)
{
	tape_error_clear(err);
	if (g->state == G_CLOSED)
		return 0;
	int rc = 0;
	int64_t now_ms = clock_mono_ms();
	int64_t deadline = now_ms + (timeout_ms > 0 ? timeout_ms : 0);
	if (g->cfg.enable_auto_commit && may_commit(g) && !g->fatal.code) {
		struct gpart *items;
		int32_t k = moved_positions(g, g->owned, g->owned_count, &items);
		struct gwaiter w = { 0 };
		if (k > 0 && (rc = send_commit(g, items, k, &w, now_ms, err)) == 0) {
			while (!w.done && (now_ms = clock_mono_ms()) < deadline)
				cluster_poll(g->cl, deadline - now_ms);
			if (w.done)
				rc = tape_error_copy(err, &w.error);
			else
				rc = tape_error_set(err, -ETIMEDOUT,
				                    "the final commit was not answered in time");
			for (struct greq *r = g->reqs; r; r = r->next)
				if (r->waiter == &w)
					r->waiter = NULL;
		} else if (k <= 0) {
			free(items);
		}
	}
	struct gpart *gone = g->owned;
	int32_t n = g->owned_count;
	g->owned = NULL;
	g->owned_count = 0;
	call_revoked(g, gone, n, false);
	parts_free(gone, n);
	/* Static members do not leave: their partitions wait for them for a session. */
	struct kconn *c = coord_conn(g, clock_mono_ms());
	if (c && !g->instance_id && g->member_id[0]) {
		int16_t v = kconn_version(c, API_LEAVE_GROUP, LEAVE_GROUP_VERSION_MIN,
		                          LEAVE_GROUP_VERSION_MAX);
		struct greq *r = new_req(g, R_LEAVE, 0);
		struct buf *b = begin_coord(g, c, API_LEAVE_GROUP, v, r);
		if (b) {
			struct leave_group_member_identity me = { kstr_from(g->member_id),
				                                  KSTR_NULL };
			struct leave_group_request req = { kstr_from(g->group_id),
				                           kstr_from(g->member_id), 1, &me };
			leave_group_request_encode(b, v, &req);
			if (finish_req(c, r, clock_mono_ms(), 0, on_leave) == 0)
				while (kconn_outstanding(c) &&
				       (now_ms = clock_mono_ms()) < deadline)
					cluster_poll(g->cl, deadline - now_ms);
		}
	}
	g->state = G_CLOSED;
	return rc;
}

/* ---- configuration ------------------------------------------------------------------------ */

static int parse_assignors(struct cgroup *g, const char *list, struct tape_error *err)
{
	char buf[256];
	if (!list || !*list)
		list = "range,roundrobin";
	if (strlen(list) >= sizeof(buf))
		return tape_error_set(err, -TAPE_ECONFIG, "assignor list too long");
	strcpy(buf, list);
	int eager = 0, coop = 0;
	for (char *save, *tok = strtok_r(buf, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		const struct assignor *as = assignor_find(kstr_from(tok));
		if (!as || !strcmp(tok, "RoundRobinAssigner"))
			return tape_error_set(err, -TAPE_ECONFIG,
			                      "unknown assignor \"%s\" (range, roundrobin, "
			                      "cooperative-sticky)",
			                      tok);
		bool dup = false;
		for (int32_t i = 0; i < g->assignors_count; i++)
			dup |= g->assignors[i] == as;
		if (dup)
			continue;
		if (g->assignors_count == GROUP_ASSIGNORS_MAX)
			return tape_error_set(err, -TAPE_ECONFIG, "too many assignors");
		g->assignors[g->assignors_count++] = as;
		eager += as->rebalance == ASSIGN_EAGER;
		coop += as->rebalance == ASSIGN_COOPERATIVE;
	}
	if (g->assignors_count == 0)
		return tape_error_set(err, -TAPE_ECONFIG, "no assignor given");
	/* Java allows mixing them to migrate a group, and then rebalances eagerly. */
	g->cooperative = eager == 0;
	return 0;
}

static int check_config(const struct cgroup_config *c, struct tape_error *err)
{
	if (!c->group_id || !*c->group_id)
		return tape_error_set(err, -TAPE_ECONFIG, "no group id given");
	if (c->session_timeout_ms <= 0 || c->rebalance_timeout_ms <= 0 ||
	    c->heartbeat_interval_ms <= 0 || c->auto_commit_interval_ms <= 0 ||
	    c->metadata_pattern_refresh_ms <= 0)
		return tape_error_set(err, -TAPE_ECONFIG,
		                      "the group's timeouts and intervals must be positive");
	if (c->heartbeat_interval_ms >= c->session_timeout_ms)
		return tape_error_set(err, -TAPE_ECONFIG,
		                      "heartbeat_interval_ms (%d) must be below session_timeout_ms "
		                      "(%d)",
		                      c->heartbeat_interval_ms, c->session_timeout_ms);
	return 0;
}

int cgroup_new(struct tape_client *cl, const struct cgroup_config *cfg,
               const struct cgroup_callbacks *cb, struct cgroup **out, struct tape_error *err)
{
	*out = NULL;
	int rc = check_config(cfg, err);
	if (rc < 0)
		return rc;
	struct cgroup *g = calloc(1, sizeof(*g));
	if (!g)
		return tape_error_set(err, -ENOMEM, "out of memory");
	g->cl = cl;
	g->cfg = *cfg;
	g->cb = *cb;
	g->coord_id = -1;
	g->generation_id = -1;
	g->group_id = strdup(cfg->group_id);
	g->instance_id = cfg->group_instance_id ? strdup(cfg->group_instance_id) : NULL;
	g->member_id = strdup("");
	g->cfg.group_id = g->group_id;
	g->cfg.group_instance_id = g->instance_id;
	g->cfg.assignors = NULL;
	arena_init(&g->arena, ARENA_BYTES);
	arena_init(&g->join_arena, ARENA_BYTES);
	if (!g->group_id || !g->member_id || (cfg->group_instance_id && !g->instance_id)) {
		cgroup_free(g);
		return tape_error_set(err, -ENOMEM, "out of memory");
	}
	rc = parse_assignors(g, cfg->assignors, err);
	if (rc < 0) {
		cgroup_free(g);
		return rc;
	}
	*out = g;
	return 0;
}

void cgroup_free(struct cgroup *g)
{
	if (!g)
		return;
	for (struct greq *r = g->reqs; r; r = r->next) {
		r->g = NULL; /* the connection frees each when it calls back */
		if (r->waiter) {
			r->waiter->done = true;
			r->waiter = NULL;
		}
	}
	free_subscription(g);
	for (int32_t i = 0; i < g->subscribed_count; i++)
		free(g->subscribed[i]);
	free(g->subscribed);
	topics_free(g->topics, g->topics_count);
	topics_free(g->used, g->used_count);
	parts_free(g->owned, g->owned_count);
	parts_free(g->incoming, g->incoming_count);
	free(g->sync_payload);
	free(g->group_id);
	free(g->instance_id);
	free(g->member_id);
	free(g->protocol);
	arena_free(&g->arena);
	arena_free(&g->join_arena);
	free(g);
}
