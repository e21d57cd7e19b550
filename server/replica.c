/*
 * server/replica.c: the broker in a cluster (replica.h): joining it, applying the view to the
 * local partitions, the leader's high watermark and ISR, and the checks handlers make.
 */
#include "server/replica.h"

#include "base/assert.h"
#include "base/clock.h"
#include "base/diag.h"
#include "base/errors.h"
#include "consumer-groups/offsets.h"
#include "protocol/errors.h"
#include "server/broker.h"
#include "server/purgatory.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct replicas {
	struct server *srv;
	struct metastore *ms;
	struct cluster *cluster;
	struct replica_fetcher *fetcher;
	int32_t me;
	int64_t lag_max_ms;
	struct io_timer isr_timer;
	bool isr_timer_armed;
	struct io_op apply_op;
	bool apply_scheduled;
	unsigned creating;  /* local topics being opened */
	unsigned calls;     /* unfollows and ISR writes out */
	bool loads_pending; /* an offsets partition waits for replica_main_loop */
	bool offsets_creating;
	bool stopping;
	bool cluster_stopped;
	bool fetcher_stopped;
	bool store_closed;
	struct metastore_op close_op;
};

static void schedule_apply(struct replicas *R);

/* ---- per partition ------------------------------------------------------------------------ */

struct rp_owned {
	struct replica_part rp;
	struct replicas *R;
	char topic[TOPIC_NAME_BYTES_MAX + 1];
};

static struct replicas *rp_owner(struct replica_part *rp)
{
	return container_of(rp, struct rp_owned, rp)->R;
}

static struct replica_part *rp_of(struct pslot *slot)
{
	return slot->rp;
}

static struct replica_part *rp_get(struct replicas *R, struct pslot *slot)
{
	if (slot->rp)
		return slot->rp;
	struct rp_owned *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->R = R;
	snprintf(o->topic, sizeof(o->topic), "%s", slot->topic->name);
	o->rp.slot = slot;
	o->rp.role = ROLE_NONE;
	o->rp.leader_id = -1;
	o->rp.leader_epoch = -1;
	o->rp.fp.topic = o->topic;
	o->rp.fp.partition = slot->index;
	slot->rp = &o->rp;
	return &o->rp;
}

static void rp_maybe_free(struct replica_part *rp)
{
	if (rp->orphan && !rp->following && !rp->unfollowing && !rp->isr_writing)
		free(container_of(rp, struct rp_owned, rp));
}

static struct partition *rp_partition(const struct replica_part *rp)
{
	if (rp->orphan)
		return NULL;
	return rp->slot->topic->parts[rp->slot->index];
}

/* ---- the leader's high watermark --------------------------------------------------------- */

static int64_t leader_end(struct partition *p)
{
	return partition_config(p)->flush_mode == FLUSH_FSYNC ? partition_durable_end(p)
	                                                      : partition_written_end(p);
}

static void leader_update_hw(struct replica_part *rp)
{
	struct partition *p = rp_partition(rp);
	if (!p || rp->role != ROLE_LEADER)
		return;
	int64_t hw = leader_high_watermark(&rp->ls, leader_end(p));
	if (hw != partition_high_watermark(p)) {
		partition_set_high_watermark(p, hw);
		purgatory_wake(rp->slot, false);
		/* Commits wait for the high watermark (offsets.h): here the followers move it, not
		 * the partition's own progress, so the coordinator's store must be told. */
		struct server *srv = rp_owner(rp)->srv;
		if (srv->offsets && rp->slot->topic == srv->offsets_topic)
			offset_store_progress(srv->offsets, rp->slot->index);
	}
}

static void isr_written(void *arg, int err, int64_t revision);

static void maybe_propose_isr(struct replicas *R, struct replica_part *rp)
{
	struct partition *p = rp_partition(rp);
	if (!p || rp->role != ROLE_LEADER || rp->isr_writing || R->stopping)
		return;
	int32_t isr[CLUSTER_REPLICAS_MAX], n;
	if (!leader_isr_change(&rp->ls, clock_mono_ms(), R->lag_max_ms, isr, &n))
		return;
	int rc = cluster_propose_isr(R->cluster, rp->slot->topic->name, rp->slot->index, isr, n,
	                             isr_written, rp);
	if (rc < 0)
		return; /* busy, or no longer ours: the next look tries again */
	char list[CLUSTER_REPLICAS_MAX * 12] = "", *at = list;
	for (int32_t i = 0; i < n; i++)
		at += snprintf(at, (size_t)(list + sizeof(list) - at), i ? ",%d" : "%d", isr[i]);
	diag_info("%s-%d: proposing ISR [%s] (was %d members)", rp->slot->topic->name,
	          rp->slot->index, list, rp->ls.isr_count);
	leader_proposing(&rp->ls, isr, n);
	rp->isr_writing = true;
	R->calls++;
	leader_update_hw(rp);
}

static void isr_written(void *arg, int err, int64_t revision)
{
	struct replica_part *rp = arg;
	struct replicas *R = rp_owner(rp);
	rp->isr_writing = false;
	if (rp->role == ROLE_LEADER && rp->ls.proposing) {
		if (err == 0) {
			leader_isr_written(&rp->ls, revision);
		} else {
			leader_proposal_failed(&rp->ls);
			/* The state that made it fail may already be in the view with members the
			 * proposal added: take it now, before the high watermark is looked at, so
			 * the leader never counts an ISR narrower than etcd's. */
			const struct cluster_topic *ct =
			    rp->orphan ? NULL
			               : cluster_find_topic(R->cluster, rp->slot->topic->name,
			                                    strlen(rp->slot->topic->name));
			if (ct && rp->slot->index < ct->partitions_count) {
				const struct cluster_pstate *s = &ct->states[rp->slot->index];
				if (s->leader == R->me && s->leader_epoch == rp->leader_epoch)
					leader_view_isr(&rp->ls, s->isr, s->isr_count,
					                s->mod_revision);
			}
		}
		leader_update_hw(rp);
		/* A shrink may have let the high watermark pass waiting records. */
		purgatory_wake(rp->slot, false);
	}
	R->calls--;
	rp_maybe_free(rp);
}

/* ---- roles -------------------------------------------------------------------------------- */

static void unfollowed(struct fetcher_partition *fp)
{
	struct replica_part *rp = container_of(fp, struct replica_part, fp);
	struct replicas *R = fp->arg;
	rp->unfollowing = false;
	rp->following = false;
	R->calls--;
	if (rp->orphan) {
		rp_maybe_free(rp);
		return;
	}
	schedule_apply(R);
}

static void unfollow(struct replicas *R, struct replica_part *rp)
{
	if (!rp->following || rp->unfollowing)
		return;
	rp->unfollowing = true;
	R->calls++;
	fetcher_unfollow(R->fetcher, &rp->fp, unfollowed);
}

static void follower_progress(struct fetcher_partition *fp)
{
	struct replica_part *rp = container_of(fp, struct replica_part, fp);
	if (!rp->orphan)
		purgatory_wake(rp->slot, false);
}

static void follower_error(struct fetcher_partition *fp, int16_t code)
{
	struct replica_part *rp = container_of(fp, struct replica_part, fp);
	if (!rp->orphan)
		diag_debug("%s-%d: the leader refused our fetch: %s", fp->topic, fp->partition,
		           kafka_error_name(code));
}

static void set_role(struct replica_part *rp, enum replica_role role, int32_t leader, int32_t epoch)
{
	/* A coordinator losing its offsets partition fails the commits not yet replicated. */
	struct server *srv = rp_owner(rp)->srv;
	if (srv->offsets && rp->slot->topic == srv->offsets_topic &&
	    (rp->role == ROLE_LEADER) != (role == ROLE_LEADER))
		offset_store_abandon(srv->offsets, rp->slot->index,
		                     role == ROLE_LEADER ? 0 : -TAPE_ENOTLEADER);
	if (rp->role != role || rp->leader_epoch != epoch || rp->leader_id != leader) {
		if (rp->role != role)
			diag_info("%s-%d: %s (leader %d, epoch %d)", rp->slot->topic->name,
			          rp->slot->index,
			          role == ROLE_LEADER     ? "leading"
			          : role == ROLE_FOLLOWER ? "following"
			                                  : "neither leading nor following",
			          leader, epoch);
		rp->role = role;
		rp->leader_id = leader;
		rp->leader_epoch = epoch;
		purgatory_wake(rp->slot, false);
	}
}

static void apply_partition(struct replicas *R, struct topic *t, int32_t index,
                            const struct cluster_topic *ct)
{
	struct partition *p = t->parts[index];
	if (!p)
		return;
	struct replica_part *rp = rp_get(R, &t->slots[index]);
	if (!rp)
		return;
	const struct cluster_pstate *s = &ct->states[index];
	bool replica = cluster_topic_has_replica(ct, index, R->me);
	const struct cluster_broker *lb =
	    s->leader >= 0 ? cluster_find_broker(R->cluster, s->leader) : NULL;
	enum replica_role want = ROLE_NONE;
	if (replica && s->leader == R->me && cluster_may_lead(R->cluster) && !R->stopping)
		want = ROLE_LEADER;
	else if (replica && s->leader >= 0 && s->leader != R->me && lb)
		want = ROLE_FOLLOWER;
	if (R->stopping && want == ROLE_FOLLOWER && !(rp->following && rp->leader_id == s->leader))
		want = ROLE_NONE; /* leaving: keep what is followed, start nothing new */
	if (rp->unfollowing)
		return; /* unfollowed() applies again */
	switch (want) {
	case ROLE_LEADER:
		if (rp->role == ROLE_LEADER && rp->leader_epoch == s->leader_epoch) {
			leader_view_isr(&rp->ls, s->isr, s->isr_count, s->mod_revision);
			leader_update_hw(rp);
			return;
		}
		if (rp->following) {
			unfollow(R, rp);
			return;
		}
		if (partition_become_leader(p, s->leader_epoch) < 0) {
			diag_error("%s-%d: cannot lead in epoch %d: the log has a newer one",
			           t->name, index, s->leader_epoch);
			set_role(rp, ROLE_NONE, s->leader, s->leader_epoch);
			return;
		}
		leader_init(&rp->ls, R->me, s->leader_epoch,
		            &ct->replicas[(size_t)index * (size_t)ct->replication_factor],
		            ct->replication_factor, s->isr, s->isr_count, s->mod_revision,
		            partition_log_end_offset(p), partition_high_watermark(p),
		            clock_mono_ms());
		set_role(rp, ROLE_LEADER, R->me, s->leader_epoch);
		leader_update_hw(rp);
		if (t == R->srv->offsets_topic) {
			rp->offsets_loading = true;
			R->loads_pending = true;
		}
		return;
	case ROLE_FOLLOWER:
		if (rp->role == ROLE_FOLLOWER && rp->following && rp->leader_id == s->leader &&
		    rp->leader_epoch == s->leader_epoch)
			return;
		rp->fp.part = p;
		rp->fp.progress = follower_progress;
		rp->fp.error = follower_error;
		rp->fp.arg = R;
		if (fetcher_follow(R->fetcher, &rp->fp, s->leader, lb->host, lb->port,
		                   s->leader_epoch) < 0) {
			diag_error("%s-%d: cannot follow broker %d", t->name, index, s->leader);
			set_role(rp, ROLE_NONE, s->leader, s->leader_epoch);
			return;
		}
		rp->following = true;
		set_role(rp, ROLE_FOLLOWER, s->leader, s->leader_epoch);
		return;
	case ROLE_NONE:
		if (rp->following)
			unfollow(R, rp);
		set_role(rp, ROLE_NONE, s->leader, s->leader_epoch);
		return;
	}
}

static void topic_opened(void *arg, int err)
{
	struct replicas *R = arg;
	R->creating--;
	if (err < 0)
		diag_error("cluster: a topic failed to open here: %s", tape_strerror(err));
	schedule_apply(R);
}

/* The view's configs of a topic, as the broker keeps them. */
static void view_config(const struct cluster_topic *ct, struct topic_config *tc)
{
	topic_config_init(tc);
	char err[256];
	for (int32_t i = 0; i < ct->configs_count; i++)
		if (topic_config_set(tc, ct->config_keys[i], ct->config_values[i], err,
		                     sizeof(err)) < 0)
			diag_warn("topic %s: config %s ignored: %s", ct->name, ct->config_keys[i],
			          err);
}

static bool same_config(const struct topic_config *a, const struct topic_config *b)
{
	if (a->count != b->count)
		return false;
	for (unsigned i = 0; i < a->count; i++) {
		unsigned j = 0;
		while (j < b->count && b->entries[j].id != a->entries[i].id)
			j++;
		if (j == b->count || strcmp(a->entries[i].value, b->entries[j].value) != 0)
			return false;
	}
	return true;
}

/* A config change made through any broker (AlterConfigs writes the topic's key) reaches this
 * broker's partitions here. */
static void apply_config(struct replicas *R, struct topic *t, const struct cluster_topic *ct)
{
	struct topic_config tc;
	view_config(ct, &tc);
	if (!same_config(&tc, &t->cfg)) {
		diag_info("topic %s: configs changed in the cluster", t->name);
		if (broker_alter_topic_config(R->srv->broker, t, &tc) < 0)
			diag_error("topic %s: the new configs could not be written here", t->name);
	}
	topic_config_free(&tc);
}

static void create_local(struct replicas *R, const struct cluster_topic *ct)
{
	struct server *srv = R->srv;
	struct topic_config tc;
	view_config(ct, &tc);
	const char *msg = NULL;
	R->creating++;
	int rc = broker_create_topic(srv->broker, kstr_from(ct->name), ct->partitions_count,
	                             ct->replication_factor, &tc, topic_opened, R, &msg);
	topic_config_free(&tc);
	if (rc < 0) {
		R->creating--;
		diag_error("cluster: cannot create topic %s here: %s", ct->name,
		           msg ? msg : tape_strerror(rc));
	}
}

static void retire_local(void *arg, struct topic *t)
{
	struct replicas *R = arg;
	if (t->state != TOPIC_LIVE)
		return;
	if (cluster_find_topic(R->cluster, t->name, strlen(t->name)))
		return;
	/* Not in the view: serve nothing from it. A topic the view had and lost was deleted in
	 * the cluster; its files go too (below, once nothing follows). */
	bool busy = false;
	for (int32_t i = 0; i < t->partitions_count; i++) {
		struct replica_part *rp = t->slots[i].rp;
		if (!rp)
			continue;
		if (rp->following)
			unfollow(R, rp), busy = true;
		if (rp->unfollowing)
			busy = true;
		set_role(rp, ROLE_NONE, -1, rp->leader_epoch);
	}
	if (!busy && t->in_cluster && !t->internal) {
		diag_info("topic %s: deleted in the cluster; deleting it here", t->name);
		broker_delete_topic(R->srv->broker, kstr_from(t->name));
	} else if (!t->in_cluster && !t->internal && !t->unknown_warned) {
		/* Never in this process's view (deleted while this broker was down, or from a
		 * store it no longer uses): kept, since the data may matter, but not served. */
		diag_warn("topic %s: on disk here but not in the cluster: kept, not served",
		          t->name);
		t->unknown_warned = true;
	}
}

static void apply_now(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct replicas *R = container_of(op, struct replicas, apply_op);
	R->apply_scheduled = false;
	if (!R->cluster)
		return;
	struct server *srv = R->srv;
	for (const struct cluster_topic *ct = cluster_topics(R->cluster); ct; ct = ct->next) {
		struct topic *t = broker_topic(srv->broker, kstr_from(ct->name));
		if (!t) {
			if (!R->stopping && !srv->stopping)
				create_local(R, ct);
			continue;
		}
		if (t->state != TOPIC_LIVE)
			continue;
		t->in_cluster = true;
		if (t->partitions_count != ct->partitions_count) {
			diag_error("topic %s: %d partitions here, %d in the cluster: not served",
			           t->name, t->partitions_count, ct->partitions_count);
			continue;
		}
		if (!t->internal)
			apply_config(R, t, ct);
		for (int32_t i = 0; i < t->partitions_count; i++)
			apply_partition(R, t, i, ct);
	}
	broker_each_topic(srv->broker, retire_local, R);
}

static void schedule_apply(struct replicas *R)
{
	if (R->apply_scheduled)
		return;
	R->apply_scheduled = true;
	reactor_defer(R->srv->reactor, &R->apply_op, apply_now, 0);
}

static void view_changed(void *arg)
{
	schedule_apply(arg);
}

/* ---- the ISR look, every quarter of replica.lag.time.max.ms ---------------------------------- */

static void isr_look_one(void *arg, struct topic *t)
{
	struct replicas *R = arg;
	for (int32_t i = 0; i < t->partitions_count; i++) {
		struct replica_part *rp = t->slots[i].rp;
		if (!rp)
			continue;
		if (rp->role == ROLE_LEADER && !cluster_may_lead(R->cluster)) {
			/* Fenced between two view changes: stop acting as leader now. */
			schedule_apply(R);
			continue;
		}
		maybe_propose_isr(R, rp);
	}
}

static int64_t isr_period_ms(const struct replicas *R)
{
	int64_t p = R->lag_max_ms / 4;
	return p < 50 ? 50 : p > 5000 ? 5000 : p;
}

static void isr_look(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)flags;
	struct replicas *R = container_of(op, struct replicas, isr_timer.op);
	R->isr_timer_armed = false;
	if (res == -ECANCELED || R->stopping)
		return;
	broker_each_topic(R->srv->broker, isr_look_one, R);
	R->isr_timer_armed = true;
	reactor_timer_start(R->srv->reactor, &R->isr_timer, isr_look,
	                    (uint64_t)isr_period_ms(R) * 1000000u);
}

/* ---- start and stop ------------------------------------------------------------------------ */

int replicas_start(struct server *srv)
{
	struct config *cfg = srv->cfg;
	struct replicas *R = calloc(1, sizeof(*R));
	if (!R)
		return -ENOMEM;
	R->srv = srv;
	R->me = (int32_t)config_int(cfg, CFG_NODE_ID);
	R->lag_max_ms = config_int(cfg, CFG_REPLICA_LAG_TIME_MAX_MS);
	int rc = metastore_open(srv->reactor, config_str(cfg, CFG_METADATA_STORE),
	                        config_str(cfg, CFG_LOG_DIRS), &R->ms);
	if (rc < 0) {
		diag_error("metadata.store %s: %s", config_str(cfg, CFG_METADATA_STORE),
		           tape_strerror(rc));
		free(R);
		return rc;
	}
	struct fetcher_config fc;
	fetcher_config_default(&fc, R->me);
	fc.max_wait_ms = (int32_t)config_int(cfg, CFG_REPLICA_FETCH_WAIT_MAX_MS);
	fc.partition_max_bytes = (int32_t)config_int(cfg, CFG_REPLICA_FETCH_MAX_BYTES);
	if (fc.max_bytes < fc.partition_max_bytes)
		fc.max_bytes = fc.partition_max_bytes;
	fc.backoff_ms = (int32_t)config_int(cfg, CFG_REPLICA_FETCH_BACKOFF_MS);
	rc = fetcher_create(srv->reactor, &fc, &R->fetcher);
	if (rc < 0) {
		free(R);
		return rc;
	}
	struct cluster_config cc = {
		.broker_id = R->me,
		.host = srv->advertised_host,
		.port = srv->advertised_port,
		.name = config_str(cfg, CFG_CLUSTER_NAME),
		.session_timeout_ms = config_int(cfg, CFG_BROKER_SESSION_TIMEOUT_MS),
		.cluster_id = srv->broker->cluster_id,
	};
	struct cluster_hooks hooks = { .changed = view_changed, .arg = R };
	rc = cluster_start(srv->reactor, R->ms, &cc, &hooks, &R->cluster);
	if (rc < 0) {
		diag_error("cluster.name %s: cannot join: %s", cc.name, tape_strerror(rc));
		free(R);
		return rc;
	}
	srv->replicas = R;
	R->isr_timer_armed = true;
	reactor_timer_start(srv->reactor, &R->isr_timer, isr_look,
	                    (uint64_t)isr_period_ms(R) * 1000000u);
	diag_info("cluster %s: broker %d joining through %s", cc.name, R->me,
	          config_str(cfg, CFG_METADATA_STORE));
	return 0;
}

static void cluster_stopped(void *arg)
{
	struct replicas *R = arg;
	R->cluster = NULL;
	R->cluster_stopped = true;
}

static void fetcher_stopped(void *arg)
{
	struct replicas *R = arg;
	R->fetcher = NULL;
	R->fetcher_stopped = true;
}

static void store_closed(struct metastore_op *op)
{
	struct replicas *R = op->arg;
	R->store_closed = true;
}

static void step_down_leaders_only(void *arg, struct topic *t)
{
	(void)arg;
	for (int32_t i = 0; i < t->partitions_count; i++) {
		struct replica_part *rp = t->slots[i].rp;
		if (rp && rp->role == ROLE_LEADER)
			set_role(rp, ROLE_NONE, -1, rp->leader_epoch);
	}
}

static void step_down(void *arg, struct topic *t)
{
	struct replicas *R = arg;
	for (int32_t i = 0; i < t->partitions_count; i++) {
		struct replica_part *rp = t->slots[i].rp;
		if (!rp)
			continue;
		if (rp->role == ROLE_LEADER)
			set_role(rp, ROLE_NONE, -1, rp->leader_epoch);
		if (rp->following)
			unfollow(R, rp);
	}
}

/* At the end of the stop: nothing refers to the partitions' replica state any more. */
static void forget_parts(void *arg, struct topic *t)
{
	(void)arg;
	for (int32_t i = 0; i < t->partitions_count; i++) {
		struct replica_part *rp = t->slots[i].rp;
		if (!rp)
			continue;
		t->slots[i].rp = NULL;
		rp->orphan = true;
		rp->following = rp->unfollowing = rp->isr_writing = false;
		rp_maybe_free(rp);
	}
}

void replicas_stop(struct server *srv)
{
	struct replicas *R = srv->replicas;
	if (!R)
		return;
	R->stopping = true;
	if (R->isr_timer_armed)
		reactor_timer_cancel(srv->reactor, &R->isr_timer);
	/* Leaders stop taking records, then the controller moves leadership away. Followers
	 * keep following meanwhile, so the new leaders find them in sync. */
	broker_each_topic(srv->broker, step_down_leaders_only, R);
	cluster_stop(R->cluster, cluster_stopped, R);
	int64_t deadline = clock_mono_ms() + 15000;
	while (!R->cluster_stopped && clock_mono_ms() < deadline)
		reactor_run_once(srv->reactor, 100 * 1000000);
	broker_each_topic(srv->broker, step_down, R);
	while (R->calls && clock_mono_ms() < deadline)
		reactor_run_once(srv->reactor, 100 * 1000000);
	fetcher_destroy(R->fetcher, fetcher_stopped, R);
	while (!R->fetcher_stopped && clock_mono_ms() < deadline)
		reactor_run_once(srv->reactor, 100 * 1000000);
	while ((R->apply_scheduled || R->isr_timer_armed) && clock_mono_ms() < deadline)
		reactor_run_once(srv->reactor, 100 * 1000000);
	R->close_op.done = store_closed;
	R->close_op.arg = R;
	metastore_close(R->ms, &R->close_op);
	while (!R->store_closed && clock_mono_ms() < deadline + 5000)
		reactor_run_once(srv->reactor, 100 * 1000000);
	if (!R->cluster_stopped || !R->fetcher_stopped || !R->store_closed) {
		diag_error("cluster: the controlled shutdown did not finish in time");
		srv->replicas = NULL; /* leaked on purpose: callbacks may still come */
		return;
	}
	broker_each_topic(srv->broker, forget_parts, R);
	srv->replicas = NULL;
	free(R);
}

/* ---- the server's calls ---------------------------------------------------------------------- */

void replica_progress(struct server *srv, struct pslot *slot)
{
	struct replica_part *rp = rp_of(slot);
	if (rp && rp->role == ROLE_LEADER)
		leader_update_hw(rp);
	(void)srv;
}

void replica_gone(struct server *srv, struct pslot *slot)
{
	struct replicas *R = srv->replicas;
	struct replica_part *rp = slot->rp;
	if (!R || !rp)
		return;
	slot->rp = NULL;
	rp->role = ROLE_NONE;
	if (rp->following)
		unfollow(R, rp);
	rp->orphan = true;
	rp_maybe_free(rp);
}

int16_t replica_produce_check(struct server *srv, struct pslot *slot, int16_t acks, int32_t *epoch)
{
	struct replicas *R = srv->replicas;
	*epoch = -1;
	if (!R)
		return KAFKA_NONE;
	struct replica_part *rp = rp_of(slot);
	if (!rp || rp->role != ROLE_LEADER || !cluster_may_lead(R->cluster))
		return KAFKA_NOT_LEADER_OR_FOLLOWER;
	*epoch = rp->leader_epoch;
	if (acks == -1 && rp->ls.isr_count < topic_config_int(srv->cfg, &slot->topic->cfg,
	                                                      CFG_MIN_INSYNC_REPLICAS))
		return KAFKA_NOT_ENOUGH_REPLICAS;
	return KAFKA_NONE;
}

bool replica_still_leader(struct server *srv, struct pslot *slot, int32_t epoch)
{
	struct replicas *R = srv->replicas;
	if (!R)
		return true;
	struct replica_part *rp = rp_of(slot);
	return rp && rp->role == ROLE_LEADER && rp->leader_epoch == epoch &&
	       cluster_may_lead(R->cluster);
}

int16_t replica_acks_all_check(struct server *srv, struct pslot *slot)
{
	struct replicas *R = srv->replicas;
	if (!R)
		return KAFKA_NONE;
	struct replica_part *rp = rp_of(slot);
	if (!rp || rp->role != ROLE_LEADER)
		return KAFKA_NOT_LEADER_OR_FOLLOWER;
	if (rp->ls.isr_count <
	    topic_config_int(srv->cfg, &slot->topic->cfg, CFG_MIN_INSYNC_REPLICAS))
		return KAFKA_NOT_ENOUGH_REPLICAS_AFTER_APPEND;
	return KAFKA_NONE;
}

int16_t replica_leader_check(struct server *srv, struct pslot *slot, int32_t current_leader_epoch)
{
	struct replicas *R = srv->replicas;
	if (!R)
		return KAFKA_NONE;
	struct replica_part *rp = rp_of(slot);
	/* A fenced leader serves nobody: what it would serve is committed, but the clients and
	 * followers are better off finding the leader that can still take writes. */
	if (!rp || rp->role != ROLE_LEADER || !cluster_may_lead(R->cluster))
		return KAFKA_NOT_LEADER_OR_FOLLOWER;
	if (current_leader_epoch >= 0 && current_leader_epoch < rp->leader_epoch)
		return KAFKA_FENCED_LEADER_EPOCH;
	if (current_leader_epoch > rp->leader_epoch)
		return KAFKA_UNKNOWN_LEADER_EPOCH;
	return KAFKA_NONE;
}

void replica_follower_fetched(struct server *srv, struct pslot *slot, int32_t replica_id,
                              int64_t fetch_offset)
{
	struct replicas *R = srv->replicas;
	struct replica_part *rp = rp_of(slot);
	if (!R || !rp || rp->role != ROLE_LEADER)
		return;
	struct partition *p = rp_partition(rp);
	if (!p)
		return;
	if (!leader_follower_fetched(&rp->ls, replica_id, fetch_offset, partition_log_end_offset(p),
	                             clock_mono_ms()))
		return;
	leader_update_hw(rp);
	if (!leader_in_isr(&rp->ls, replica_id))
		maybe_propose_isr(R, rp); /* it may join now */
}

int64_t replica_read_limit(struct server *srv, struct partition *p, int32_t replica_id)
{
	if (srv->replicas && replica_id >= 0)
		return partition_written_end(p);
	return partition_high_watermark(p);
}

struct cluster *replica_cluster(struct server *srv)
{
	return srv->replicas ? srv->replicas->cluster : NULL;
}

/* ---- topics in a cluster --------------------------------------------------------------------- */

/* The configs as the cluster keeps them: topic-level names and values. */
static int32_t config_pairs(const struct topic_config *tc, const char **keys, const char **values)
{
	int32_t n = 0;
	for (unsigned i = 0; tc && i < tc->count; i++) {
		keys[n] = config_topic_name(tc->entries[i].id);
		values[n] = tc->entries[i].value;
		if (keys[n])
			n++;
	}
	return n;
}

int replica_create_topic(struct server *srv, struct kstr name, int32_t partitions,
                         int16_t replication_factor, const struct topic_config *tc,
                         void (*done)(void *arg, int err), void *arg, const char **errmsg)
{
	struct replicas *R = srv->replicas;
	*errmsg = NULL;
	if (!broker_topic_name_valid(name)) {
		*errmsg = "topic names are 1 to 249 of [a-zA-Z0-9._-], not . or ..";
		return -EINVAL;
	}
	if (partitions == -1)
		partitions = (int32_t)config_int(srv->cfg, CFG_NUM_PARTITIONS);
	if (replication_factor == -1)
		replication_factor = (int16_t)config_int(srv->cfg, CFG_DEFAULT_REPLICATION_FACTOR);
	if (partitions < 1 || partitions > TOPIC_PARTITIONS_MAX) {
		*errmsg = "the number of partitions must be 1 to 10000";
		return -ERANGE;
	}
	if (replication_factor < 1 || replication_factor > CLUSTER_REPLICAS_MAX) {
		*errmsg = "the replication factor must be 1 to 16";
		return -EDOM;
	}
	char cname[TOPIC_NAME_BYTES_MAX + 1];
	memcpy(cname, name.p, (size_t)name.len);
	cname[name.len] = '\0';
	if (cluster_find_topic(R->cluster, cname, (size_t)name.len))
		return -EEXIST;
	const char *keys[TOPIC_CONFIG_MAX], *values[TOPIC_CONFIG_MAX];
	int32_t n = config_pairs(tc, keys, values);
	int rc = cluster_create_topic(R->cluster, cname, partitions, replication_factor, n, keys,
	                              values, done, arg);
	if (rc == -EDOM)
		*errmsg = "the replication factor is above the live brokers";
	return rc;
}

int replica_alter_topic_config(struct server *srv, const struct topic *t,
                               const struct topic_config *tc, void (*done)(void *, int), void *arg)
{
	const char *keys[TOPIC_CONFIG_MAX], *values[TOPIC_CONFIG_MAX];
	int32_t n = config_pairs(tc, keys, values);
	return cluster_alter_topic_configs(srv->replicas->cluster, t->name, n, keys, values, done,
	                                   arg);
}

int replica_delete_topic(struct server *srv, struct kstr name)
{
	struct replicas *R = srv->replicas;
	char cname[TOPIC_NAME_BYTES_MAX + 1];
	if (name.len <= 0 || name.len > TOPIC_NAME_BYTES_MAX)
		return -ENOENT;
	memcpy(cname, name.p, (size_t)name.len);
	cname[name.len] = '\0';
	if (!cluster_find_topic(R->cluster, cname, (size_t)name.len) || cname[0] == '_')
		return -ENOENT;
	return cluster_delete_topic(R->cluster, cname, NULL, NULL);
}

/* ---- groups in a cluster ------------------------------------------------------------------- */

static struct replica_part *offsets_part(struct server *srv, struct kstr group)
{
	if (!srv->offsets || !srv->offsets_topic)
		return NULL;
	int32_t idx = offset_store_partition_of(srv->offsets, group);
	if (idx < 0 || idx >= srv->offsets_topic->partitions_count)
		return NULL;
	return srv->offsets_topic->slots[idx].rp;
}

int16_t replica_group_check(struct server *srv, struct kstr group)
{
	struct replicas *R = srv->replicas;
	if (!R)
		return KAFKA_NONE;
	struct replica_part *rp = offsets_part(srv, group);
	if (!rp || rp->role != ROLE_LEADER || !cluster_may_lead(R->cluster))
		return KAFKA_NOT_COORDINATOR;
	if (rp->offsets_loading)
		return KAFKA_COORDINATOR_LOAD_IN_PROGRESS;
	return KAFKA_NONE;
}

static void offsets_created(void *arg, int err)
{
	struct replicas *R = arg;
	R->offsets_creating = false;
	if (err < 0 && err != -EEXIST)
		diag_warn("%s: creating it in the cluster: %s", OFFSETS_TOPIC, tape_strerror(err));
}

int16_t replica_find_coordinator(struct server *srv, struct kstr group, int32_t *node,
                                 const char **host, int32_t *port)
{
	struct replicas *R = srv->replicas;
	const struct cluster_topic *ct =
	    cluster_find_topic(R->cluster, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC));
	if (!ct) {
		/* Created at the first need, once enough brokers are up (Kafka's rule). */
		size_t live;
		cluster_brokers(R->cluster, &live);
		int64_t rf = config_int(srv->cfg, CFG_OFFSETS_TOPIC_REPLICATION_FACTOR);
		if (!R->offsets_creating && (int64_t)live >= rf) {
			struct topic_config tc;
			topic_config_init(&tc);
			char err[128];
			topic_config_set(&tc, "cleanup.policy", "compact", err, sizeof(err));
			topic_config_set(&tc, "segment.bytes", "104857600", err, sizeof(err));
			const char *msg;
			int rc = replica_create_topic(
			    srv, kstr_from(OFFSETS_TOPIC),
			    (int32_t)config_int(srv->cfg, CFG_OFFSETS_TOPIC_PARTITIONS),
			    (int16_t)rf, &tc, offsets_created, R, &msg);
			topic_config_free(&tc);
			if (rc == 0)
				R->offsets_creating = true;
		}
		return KAFKA_COORDINATOR_NOT_AVAILABLE;
	}
	int32_t idx = offset_group_partition(group, ct->partitions_count);
	const struct cluster_pstate *s = &ct->states[idx];
	const struct cluster_broker *b =
	    s->leader >= 0 ? cluster_find_broker(R->cluster, s->leader) : NULL;
	if (!b)
		return KAFKA_COORDINATOR_NOT_AVAILABLE;
	*node = b->id;
	*host = b->host;
	*port = b->port;
	return KAFKA_NONE;
}

/* From the main loop (outside any callback): a coordinator taking over an offsets partition
 * replays it first (offset_store_load_partition runs the reactor); until then its groups get
 * COORDINATOR_LOAD_IN_PROGRESS. */
void replica_main_loop(struct server *srv)
{
	struct replicas *R = srv->replicas;
	if (!R || !R->loads_pending || !srv->offsets || !srv->offsets_topic)
		return;
	if (offset_store_inflight(srv->offsets))
		return; /* commits of the previous coordinator term finish first */
	R->loads_pending = false;
	struct topic *t = srv->offsets_topic;
	for (int32_t i = 0; i < t->partitions_count; i++) {
		struct replica_part *rp = t->slots[i].rp;
		if (!rp || !rp->offsets_loading)
			continue;
		int rc = offset_store_load_partition(srv->offsets, i);
		if (rc < 0)
			diag_error("%s-%d: loading committed offsets: %s", OFFSETS_TOPIC, i,
			           tape_strerror(rc));
		rp->offsets_loading = false;
		diag_info("%s-%d: coordinating its groups (offsets loaded)", OFFSETS_TOPIC, i);
	}
}
