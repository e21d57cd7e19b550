/*
 * replication/leader.c: follower positions, the ISR and the high watermark (leader.h).
 */
#include "replication/leader.h"

#include "base/assert.h"

#include <string.h>

void leader_init(struct leader_state *ls, int32_t me, int32_t epoch, const int32_t *replicas,
                 int32_t replicas_count, const int32_t *isr, int32_t isr_count,
                 int64_t isr_revision, int64_t leo, int64_t hw, int64_t now_ms)
{
	ASSERT(replicas_count <= CLUSTER_REPLICAS_MAX && isr_count <= CLUSTER_REPLICAS_MAX);
	memset(ls, 0, sizeof(*ls));
	ls->me = me;
	ls->epoch = epoch;
	ls->epoch_start_offset = leo;
	for (int32_t i = 0; i < replicas_count; i++) {
		if (replicas[i] == me)
			continue;
		struct leader_follower *f = &ls->followers[ls->followers_count++];
		f->id = replicas[i];
		f->leo = -1;
		/* A follower gets a full lag period from the takeover to show up. */
		f->caught_up_ms = now_ms;
	}
	ls->isr_count = isr_count;
	memcpy(ls->isr, isr, sizeof(int32_t) * (size_t)isr_count);
	ls->isr_revision = isr_revision;
	ls->hw = hw < leo ? hw : leo;
}

void leader_view_isr(struct leader_state *ls, const int32_t *isr, int32_t isr_count,
                     int64_t revision)
{
	if (revision < ls->isr_revision)
		return;
	ls->isr_count = isr_count;
	memcpy(ls->isr, isr, sizeof(int32_t) * (size_t)isr_count);
	ls->isr_revision = revision;
}

static struct leader_follower *follower(struct leader_state *ls, int32_t id)
{
	for (int32_t i = 0; i < ls->followers_count; i++)
		if (ls->followers[i].id == id)
			return &ls->followers[i];
	return NULL;
}

bool leader_follower_fetched(struct leader_state *ls, int32_t id, int64_t fetch_offset,
                             int64_t leader_leo, int64_t now_ms)
{
	struct leader_follower *f = follower(ls, id);
	if (!f)
		return false;
	f->leo = fetch_offset;
	/* Kafka's rule: under a steady load a follower never reaches the leader's end of the
	 * moment, so reaching the end the leader had at its previous fetch counts as caught up
	 * as of that fetch. */
	if (fetch_offset >= leader_leo)
		f->caught_up_ms = now_ms;
	else if (f->last_fetch_ms && fetch_offset >= f->last_fetch_leader_leo &&
	         f->last_fetch_ms > f->caught_up_ms)
		f->caught_up_ms = f->last_fetch_ms;
	f->last_fetch_leader_leo = leader_leo;
	f->last_fetch_ms = now_ms;
	return true;
}

static bool in_list(const int32_t *v, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

bool leader_in_isr(const struct leader_state *ls, int32_t id)
{
	return in_list(ls->isr, ls->isr_count, id) ||
	       (ls->proposing && in_list(ls->proposed, ls->proposed_count, id));
}

int64_t leader_high_watermark(struct leader_state *ls, int64_t leader_end)
{
	int64_t hw = leader_end;
	for (int32_t i = 0; i < ls->followers_count; i++) {
		const struct leader_follower *f = &ls->followers[i];
		if (!leader_in_isr(ls, f->id))
			continue;
		int64_t leo = f->leo < 0 ? 0 : f->leo;
		if (leo < hw)
			hw = leo;
	}
	if (hw > ls->hw)
		ls->hw = hw;
	return ls->hw;
}

bool leader_isr_change(const struct leader_state *ls, int64_t now_ms, int64_t lag_max_ms,
                       int32_t *out, int32_t *out_count)
{
	if (ls->proposing)
		return false;
	int32_t n = 0;
	bool changed = false;
	if (in_list(ls->isr, ls->isr_count, ls->me))
		out[n++] = ls->me;
	else
		changed = true; /* the leader is always in its ISR */
	for (int32_t i = 0; i < ls->followers_count; i++) {
		const struct leader_follower *f = &ls->followers[i];
		bool in = in_list(ls->isr, ls->isr_count, f->id);
		bool lagging = now_ms - f->caught_up_ms > lag_max_ms;
		bool joins =
		    f->leo >= 0 && f->leo >= ls->hw && f->leo >= ls->epoch_start_offset && !lagging;
		if (in && !lagging)
			out[n++] = f->id;
		else if (!in && joins)
			out[n++] = f->id;
		if ((in && lagging) || (!in && joins))
			changed = true;
	}
	*out_count = n;
	return changed;
}

void leader_proposing(struct leader_state *ls, const int32_t *isr, int32_t isr_count)
{
	ls->proposing = true;
	ls->proposed_count = isr_count;
	memcpy(ls->proposed, isr, sizeof(int32_t) * (size_t)isr_count);
}

void leader_isr_written(struct leader_state *ls, int64_t revision)
{
	ASSERT(ls->proposing);
	ls->proposing = false;
	ls->isr_count = ls->proposed_count;
	memcpy(ls->isr, ls->proposed, sizeof(int32_t) * (size_t)ls->proposed_count);
	if (revision > ls->isr_revision)
		ls->isr_revision = revision;
}

void leader_proposal_failed(struct leader_state *ls)
{
	ls->proposing = false;
}
