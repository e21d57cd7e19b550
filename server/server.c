/*
 * server/server.c: the broker's life: start (configuration, data directory, listeners),
 * the partitions' progress (the high watermark, waking the purgatory), periodic retention
 * and compaction, and the graceful stop: no new connections or requests, in-flight requests
 * answered, connections closed, every partition closed cleanly (so the next start skips the
 * recovery scan).
 */
#include "server/server_main.h"

#include "base/assert.h"
#include "base/clock.h"
#include "base/diag.h"
#include "base/errors.h"
#include "consumer-groups/group.h"
#include "consumer-groups/offsets.h"
#include "log/compaction.h"
#include "server/broker.h"
#include "server/purgatory.h"
#include "server/replica.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int listener_parse(const char *spec, char *host, size_t hostlen, int *port);

/* The high watermark of a single replica: what is on disk under flush.mode=fsync (a consumer
 * never sees a record a crash could take back), what is written under interval and none. */
static void progress(struct partition *p, void *arg)
{
	struct pslot *slot = arg;
	struct server *srv = slot->topic->broker ? slot->topic->broker->owner : NULL;
	if (srv && srv->replicas) {
		/* In a cluster the leader's followers set it, and a follower's leader. */
		replica_progress(srv, slot);
	} else {
		int64_t hw = partition_config(p)->flush_mode == FLUSH_FSYNC
		                 ? partition_durable_end(p)
		                 : partition_written_end(p);
		partition_set_high_watermark(p, hw);
	}
	purgatory_wake(slot, false);
	if (srv && srv->offsets && slot->topic == srv->offsets_topic)
		offset_store_progress(srv->offsets, slot->index);
}

static void gone(struct pslot *slot)
{
	struct server *srv = slot->topic->broker ? slot->topic->broker->owner : NULL;
	if (srv)
		replica_gone(srv, slot);
	purgatory_wake(slot, true);
}

static void each_partition(struct server *srv,
                           void (*fn)(struct server *, struct topic *, int32_t));

struct each {
	struct server *srv;
	void (*fn)(struct server *, struct topic *, int32_t);
};

static void each_topic(void *arg, struct topic *t)
{
	struct each *e = arg;
	for (int32_t i = 0; i < t->partitions_count; i++)
		if (t->parts[i])
			e->fn(e->srv, t, i);
}

static void each_partition(struct server *srv, void (*fn)(struct server *, struct topic *, int32_t))
{
	struct each e = { srv, fn };
	broker_each_topic(srv->broker, each_topic, &e);
}

/* offsets.retention.minutes counts from when a group became empty, on the wall clock; the
 * coordinator keeps that time on the monotonic one. */
static int64_t empty_since(void *arg, struct kstr group)
{
	struct server *srv = arg;
	int64_t t = group_empty_since(srv->groups, group);
	if (t <= 0)
		return t;
	return clock_wall_ms() - (clock_mono_ms() - t);
}

static bool has_offsets(void *arg, struct kstr group)
{
	struct server *srv = arg;
	return offset_store_group_count(srv->offsets, group) > 0;
}

static void clean_one(struct server *srv, struct topic *t, int32_t i)
{
	(void)srv;
	struct partition *p = t->parts[i];
	int64_t now = clock_wall_ms();
	partition_retention_run(p, now, NULL, NULL);
	if (partition_config(p)->cleanup_compact)
		partition_compact(p, now, NULL, NULL);
}

static void housekeeping(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct server *srv = container_of(op, struct server, housekeeping.op);
	if (srv->stopping)
		return;
	each_partition(srv, clean_one);
	offset_store_expire(srv->offsets, clock_wall_ms(),
	                    config_int(srv->cfg, CFG_OFFSETS_RETENTION_MINUTES) * 60 * 1000,
	                    empty_since, srv);
	/* Empty groups without committed offsets are forgotten once they stayed so for a whole
	 * interval (a standalone commit restarts that wait: its offsets may not be stored yet). */
	int64_t interval_ms = config_int(srv->cfg, CFG_RETENTION_CHECK_INTERVAL_MS);
	group_forget_empty(srv->groups, clock_mono_ms(), interval_ms, has_offsets, srv);
	reactor_timer_start(srv->reactor, &srv->housekeeping, housekeeping,
	                    (uint64_t)interval_ms * 1000000u);
}

/* The group coordinator's deadlines (sessions, rebalances), looked at every 100 ms. */
#define GROUP_TICK_MS 100

static void group_tick_fired(struct io_op *op, int32_t res, uint32_t flags)
{
	(void)res;
	(void)flags;
	struct server *srv = container_of(op, struct server, group_timer.op);
	if (srv->stopping)
		return;
	group_tick(srv->groups, clock_mono_ms());
	reactor_timer_start(srv->reactor, &srv->group_timer, group_tick_fired,
	                    GROUP_TICK_MS * 1000000u);
}

static void touch_group(void *arg, struct kstr group)
{
	struct server *srv = arg;
	group_touch(srv->groups, group, clock_mono_ms());
}

/* __consumer_offsets (compacted, created at the first start) and the committed offsets in it:
 * every group with offsets exists (Empty) for ListGroups and DescribeGroups. */
static int open_offsets(struct server *srv)
{
	struct topic_config tc;
	topic_config_init(&tc);
	char err[128];
	topic_config_set(&tc, "cleanup.policy", "compact", err, sizeof(err));
	topic_config_set(&tc, "segment.bytes", "104857600", err, sizeof(err));
	int rc = broker_ensure_topic(srv->broker, OFFSETS_TOPIC,
	                             (int32_t)config_int(srv->cfg, CFG_OFFSETS_TOPIC_PARTITIONS),
	                             &tc, &srv->offsets_topic);
	topic_config_free(&tc);
	if (rc < 0)
		return rc;
	srv->offsets_topic->internal = true;
	struct offset_store_config ocfg;
	offset_store_config_default(&ocfg);
	/* The high watermark is what a single broker has durable, and in a cluster what every
	 * in-sync replica has: a commit is acknowledged once it passes. */
	ocfg.wait_for_high_watermark = true;
	rc = offset_store_open(srv->reactor, srv->offsets_topic->parts,
	                       srv->offsets_topic->partitions_count, &ocfg, &srv->offsets);
	if (rc == 0)
		rc = offset_store_load(srv->offsets);
	if (rc < 0) {
		diag_error("%s: cannot load committed offsets: %s", OFFSETS_TOPIC,
		           tape_strerror(rc));
		return rc;
	}
	offset_store_each_group(srv->offsets, touch_group, srv);
	return 0;
}

int server_start(struct server *srv, struct reactor *r, struct config *cfg)
{
	memset(srv, 0, sizeof(*srv));
	srv->reactor = r;
	srv->cfg = cfg;
	srv->frame_bytes_max = (uint32_t)config_int(cfg, CFG_SOCKET_REQUEST_MAX_BYTES);
	srv->idle_ms = config_int(cfg, CFG_CONNECTIONS_MAX_IDLE_MS);
	srv->conns_max = (unsigned)config_int(cfg, CFG_MAX_CONNECTIONS);
	srv->fetch_splice = strcmp(config_str(cfg, CFG_SOCKET_FETCH_SEND), "splice") == 0;
	struct group_config gcfg = {
		.min_session_timeout_ms =
		    (int32_t)config_int(cfg, CFG_GROUP_MIN_SESSION_TIMEOUT_MS),
		.max_session_timeout_ms =
		    (int32_t)config_int(cfg, CFG_GROUP_MAX_SESSION_TIMEOUT_MS),
		.initial_rebalance_delay_ms =
		    (int32_t)config_int(cfg, CFG_GROUP_INITIAL_REBALANCE_DELAY_MS),
		.seed = (uint64_t)clock_wall_ms() ^ (uint64_t)clock_mono_ns(),
	};
	if (group_coordinator_create(&gcfg, &srv->groups) < 0)
		return -ENOMEM;
	int rc = broker_open(&srv->broker, r, cfg, progress, gone);
	if (rc < 0) {
		group_coordinator_free(srv->groups);
		return rc;
	}
	srv->broker->owner = srv;
	rc = open_offsets(srv);
	if (rc < 0) {
		broker_close(srv->broker);
		group_coordinator_free(srv->groups);
		return rc;
	}
	const char *listeners = config_str(cfg, CFG_LISTENERS);
	rc = listeners_open(srv, listeners);
	if (rc < 0) {
		broker_close(srv->broker);
		return rc;
	}
	const char *adv = config_str(cfg, CFG_ADVERTISED_LISTENERS);
	int port;
	if (listener_parse(adv ? adv : listeners, srv->advertised_host,
	                   sizeof(srv->advertised_host), &port) < 0) {
		diag_error("advertised.listeners: \"%s\" is not PLAINTEXT://host:port", adv);
		listeners_close(srv);
		broker_close(srv->broker);
		return -TAPE_ECONFIG;
	}
	srv->advertised_port = port ? port : srv->port;
	if (!srv->advertised_host[0])
		snprintf(srv->advertised_host, sizeof(srv->advertised_host), "localhost");
	if (strcmp(config_str(cfg, CFG_METADATA_STORE), "local") != 0) {
		rc = replicas_start(srv);
		if (rc < 0) {
			listeners_close(srv);
			broker_close(srv->broker);
			return rc;
		}
	}
	reactor_timer_start(r, &srv->group_timer, group_tick_fired, GROUP_TICK_MS * 1000000u);
	reactor_timer_start(r, &srv->housekeeping, housekeeping,
	                    (uint64_t)config_int(cfg, CFG_RETENTION_CHECK_INTERVAL_MS) * 1000000u);
	return 0;
}

static void wake_all(struct server *srv, struct topic *t, int32_t i)
{
	(void)srv;
	purgatory_wake(&t->slots[i], false);
}

static bool requests_in_flight(const struct server *srv)
{
	for (const struct conn *c = srv->conns; c; c = c->next)
		for (const struct request *req = c->head; req; req = req->next)
			if (!req->finished)
				return true;
	return false;
}

void server_stop(struct server *srv)
{
	/* In a cluster, leadership moves away first (controlled shutdown). */
	replicas_stop(srv);
	diag_info("stopping: answering requests in flight");
	srv->stopping = true;
	listeners_close(srv);
	reactor_timer_cancel(srv->reactor, &srv->housekeeping);
	reactor_timer_cancel(srv->reactor, &srv->group_timer);
	/* Parked JoinGroup and SyncGroup requests answer now (COORDINATOR_NOT_AVAILABLE). */
	group_coordinator_free(srv->groups);
	srv->groups = NULL;
	/* Long polls answer now with what they have. */
	each_partition(srv, wake_all);
	int64_t deadline = clock_mono_ms() + 10000;
	while (requests_in_flight(srv) && clock_mono_ms() < deadline)
		reactor_run_once(srv->reactor, 100 * 1000000);
	conns_close_all(srv);
	deadline = clock_mono_ms() + 5000;
	while (srv->conns_count && clock_mono_ms() < deadline)
		reactor_run_once(srv->reactor, 100 * 1000000);
	deadline = clock_mono_ms() + 5000;
	while (offset_store_inflight(srv->offsets) && clock_mono_ms() < deadline)
		reactor_run_once(srv->reactor, 100 * 1000000);
	if (offset_store_inflight(srv->offsets) == 0)
		offset_store_close(srv->offsets);
	else
		diag_error("commits still in flight at the stop: their answers are lost, the "
		           "log keeps what was durable");
	srv->offsets = NULL;
	diag_info("closing partitions");
	broker_close(srv->broker);
	srv->broker = NULL;
	reactor_drain(srv->reactor);
}
