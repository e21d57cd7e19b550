/*
 * client/consumer_group.c: the consumer's group mode (client/tape.h, "the consumer in a
 * group"): the public calls, and the glue between the group's membership (group.c) and the
 * consumer's assignment (consumer.c, through the hooks of consumer.h).
 *
 * Owns: turning the group's callbacks into assignment changes and rebalance reports, which
 * position a commit takes (the consumer's: the offset after the last record poll returned),
 * the group's configuration from the consumer's. Must not know: the group protocol (group.c)
 * or fetching (consumer.c).
 */
#include "client/consumer.h"
#include "client/group.h"
#include "client/tape_error.h"

#include <errno.h>
#include <stdlib.h>

static void report(struct tape_consumer *c, enum tape_rebalance_kind kind,
                   const struct cgroup_tp *tps, int32_t n)
{
	if (!c->on_rebalance)
		return;
	struct tape_partition *parts = calloc((size_t)n + 1, sizeof(*parts));
	if (!parts)
		return;
	for (int32_t i = 0; i < n; i++)
		parts[i] = (struct tape_partition){ tps[i].topic, tps[i].partition, tps[i].offset };
	struct tape_rebalance rb = { .kind = kind, .partitions = parts, .partitions_count = n };
	c->on_rebalance(&rb, c->on_rebalance_arg);
	free(parts);
}

static void on_assigned(void *arg, const struct cgroup_tp *tps, int32_t n)
{
	struct tape_consumer *c = arg;
	for (int32_t i = 0; i < n; i++)
		consumer_partition_add_offset(c, tps[i].topic, tps[i].partition, tps[i].offset);
	report(c, TAPE_REBALANCE_ASSIGNED, tps, n);
}

static void on_revoked(void *arg, const struct cgroup_tp *tps, int32_t n, bool lost)
{
	struct tape_consumer *c = arg;
	for (int32_t i = 0; i < n; i++)
		consumer_partition_remove(c, tps[i].topic, tps[i].partition);
	report(c, lost ? TAPE_REBALANCE_LOST : TAPE_REBALANCE_REVOKED, tps, n);
}

static int64_t on_position(void *arg, const char *topic, int32_t partition)
{
	const struct cpart *part = consumer_partition_find(arg, topic, partition);
	return part ? part->position : -1;
}

static void on_joined(void *arg, const char *member_id, int32_t generation_id, bool leader,
                      const char *protocol)
{
	struct tape_consumer *c = arg;
	if (!c->on_rebalance)
		return;
	struct tape_rebalance rb = { .kind = TAPE_REBALANCE_JOINED,
		                     .member_id = member_id,
		                     .generation_id = generation_id,
		                     .leader = leader,
		                     .protocol = protocol };
	c->on_rebalance(&rb, c->on_rebalance_arg);
}

void tape_consumer_on_rebalance(struct tape_consumer *c, tape_rebalance_fn fn, void *arg)
{
	c->on_rebalance = fn;
	c->on_rebalance_arg = arg;
}

int tape_consumer_subscribe(struct tape_consumer *c, const char *const *topics, int32_t count,
                            struct tape_error *err)
{
	tape_error_clear(err);
	const struct tape_consumer_config *cfg = &c->cfg;
	if (!cfg->group_id || !*cfg->group_id)
		return tape_error_set(err, -TAPE_ECONFIG, "subscribing needs a group_id");
	if (!c->group && consumer_partitions_count(c) > 0)
		return tape_error_set(err, -TAPE_ECONFIG,
		                      "partitions assigned by hand cannot be mixed with a "
		                      "subscription");
	if (!c->group) {
		struct cgroup_config gcfg = {
			.group_id = cfg->group_id,
			.group_instance_id = cfg->group_instance_id,
			.assignors = cfg->assignors,
			.session_timeout_ms = cfg->session_timeout_ms,
			.rebalance_timeout_ms = cfg->rebalance_timeout_ms,
			.heartbeat_interval_ms = cfg->heartbeat_interval_ms,
			.enable_auto_commit = cfg->enable_auto_commit,
			.auto_commit_interval_ms = cfg->auto_commit_interval_ms,
			.metadata_pattern_refresh_ms = cfg->metadata_pattern_refresh_ms,
		};
		struct cgroup_callbacks cb = { on_assigned, on_revoked, on_position, on_joined, c };
		int rc = cgroup_new(c->cl, &gcfg, &cb, &c->group, err);
		if (rc < 0)
			return rc;
	}
	return cgroup_subscribe(c->group, topics, count, err);
}

int tape_consumer_commit(struct tape_consumer *c, bool wait, struct tape_error *err)
{
	if (!c->group)
		return tape_error_set(err, -TAPE_ECONFIG, "commits need group mode");
	return cgroup_commit(c->group, NULL, -1, -1, wait, err);
}

int tape_consumer_commit_offset(struct tape_consumer *c, const char *topic, int32_t partition,
                                int64_t next_offset, bool wait, struct tape_error *err)
{
	if (!c->group)
		return tape_error_set(err, -TAPE_ECONFIG, "commits need group mode");
	if (!topic || partition < 0)
		return tape_error_set(err, -EINVAL, "no partition given to commit");
	return cgroup_commit(c->group, topic, partition, next_offset, wait, err);
}

int tape_consumer_close(struct tape_consumer *c, struct tape_error *err)
{
	tape_error_clear(err);
	if (!c)
		return 0;
	int rc = 0;
	if (c->group)
		rc = cgroup_close(c->group, c->cl->cfg.request_timeout_ms, err);
	tape_consumer_free(c);
	return rc;
}
