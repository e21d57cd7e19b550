/*
 * replication/leader.h: a partition leader's view of its followers: where each one's log ends,
 * when each was last caught up, the ISR, and the high watermark they allow. Pure: no I/O and no
 * clock of its own (the caller passes the time), so every rule below is unit-tested as is.
 *
 * Rules (Kafka's, KIP-497's "maximal ISR" included):
 *
 *   - A follower's log end offset is the fetch offset of its last Fetch: it asks for what it
 *     does not have, so it has everything below.
 *   - A follower is caught up at a fetch whose offset reaches the leader's log end offset at
 *     that moment, or as of its previous fetch when it reaches what the leader's end was then;
 *     it lags once it was last caught up more than replica.lag.time.max.ms ago.
 *   - The ISR on record is what etcd holds. The high watermark is the minimum log end offset
 *     over the *maximal* ISR: the ISR on record plus any member a pending proposal adds. A
 *     shrink counts only once etcd has it (leader_isr_written), a member being added counts
 *     from the moment it is proposed. So the ISR the leader acts on is never narrower than the
 *     one on record, and any replica that could be elected holds every committed record.
 *   - A state read from the view older than the leader's own last write is ignored (the view
 *     may trail etcd's answer to that write).
 *   - The high watermark never goes backwards.
 *   - A follower joins back when its log end offset reaches the high watermark and the start
 *     of the leader's current epoch (it then holds every committed record, and its log is the
 *     leader's up to there).
 */
#ifndef TAPE_REPLICATION_LEADER_H
#define TAPE_REPLICATION_LEADER_H

#include "base/limits.h"

#include <stdbool.h>
#include <stdint.h>

struct leader_follower {
	int32_t id;
	int64_t leo;           /* -1: not heard from in this epoch */
	int64_t caught_up_ms;  /* when last caught up; the leader's start in this epoch at first */
	int64_t last_fetch_ms; /* 0: none yet */
	int64_t last_fetch_leader_leo;
};

struct leader_state {
	int32_t me;
	int32_t epoch;
	int64_t epoch_start_offset; /* the leader's LEO when it took over */
	int32_t followers_count;
	struct leader_follower followers[CLUSTER_REPLICAS_MAX];
	int32_t isr_count; /* on record */
	int32_t isr[CLUSTER_REPLICAS_MAX];
	int64_t isr_revision; /* the revision of the state on record */
	bool proposing;
	int32_t proposed_count;
	int32_t proposed[CLUSTER_REPLICAS_MAX];
	int64_t hw;
};

/* Takes over: replicas (the assignment, me among them), isr and its revision from the view,
 * the log end offset now, the high watermark the log kept. */
void leader_init(struct leader_state *ls, int32_t me, int32_t epoch, const int32_t *replicas,
                 int32_t replicas_count, const int32_t *isr, int32_t isr_count,
                 int64_t isr_revision, int64_t leo, int64_t hw, int64_t now_ms);
/* The view brought a state of the partition (same leader and epoch): take its ISR unless it is
 * older than what this leader wrote. */
void leader_view_isr(struct leader_state *ls, const int32_t *isr, int32_t isr_count,
                     int64_t revision);
/* A follower fetched from fetch_offset while the leader's log ended at leader_leo. Returns
 * false when id is not one of the partition's replicas. */
bool leader_follower_fetched(struct leader_state *ls, int32_t id, int64_t fetch_offset,
                             int64_t leader_leo, int64_t now_ms);
/* The high watermark given where the leader's own log ends for this purpose (its durable end
 * under flush.mode=fsync, else its written end); never below the last one returned. */
int64_t leader_high_watermark(struct leader_state *ls, int64_t leader_end);
/* Whether a member in the ISR on record or being added is id. */
bool leader_in_isr(const struct leader_state *ls, int32_t id);
/* The ISR change due now, if any: lagging members out, caught-up replicas in. Returns true and
 * fills out (the whole new ISR) when one is due and none is pending; the caller proposes it
 * and calls leader_proposing, then leader_isr_written or leader_proposal_failed. */
bool leader_isr_change(const struct leader_state *ls, int64_t now_ms, int64_t lag_max_ms,
                       int32_t *out, int32_t *out_count);
void leader_proposing(struct leader_state *ls, const int32_t *isr, int32_t isr_count);
/* etcd has the proposal, at revision. */
void leader_isr_written(struct leader_state *ls, int64_t revision);
void leader_proposal_failed(struct leader_state *ls);

#endif
