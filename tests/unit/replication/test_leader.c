/*
 * tests/unit/replication/test_leader.c: the leader's rules (replication/leader.h): the high
 * watermark over the maximal ISR, shrinking a lagging follower, expanding a caught-up one, a
 * shrink counting only once written, a stale view ignored, the watermark never going back.
 */
#include "replication/leader.h"

#include <criterion/criterion.h>

static const int32_t R3[] = { 1, 2, 3 };

static void three(struct leader_state *ls, int64_t leo, int64_t hw)
{
	leader_init(ls, 1, 5, R3, 3, R3, 3, 100, leo, hw, 1000);
}

Test(leader, hw_is_the_isr_minimum)
{
	struct leader_state ls;
	three(&ls, 50, 40);
	cr_assert_eq(leader_high_watermark(&ls, 50), 40, "no follower heard from: kept");
	leader_follower_fetched(&ls, 2, 50, 50, 1010);
	cr_assert_eq(leader_high_watermark(&ls, 50), 40, "3 still at 0");
	leader_follower_fetched(&ls, 3, 45, 50, 1010);
	cr_assert_eq(leader_high_watermark(&ls, 50), 45);
	leader_follower_fetched(&ls, 3, 50, 50, 1020);
	cr_assert_eq(leader_high_watermark(&ls, 48), 48, "the leader's own end bounds it");
	cr_assert_eq(leader_high_watermark(&ls, 50), 50);
	leader_follower_fetched(&ls, 3, 30, 50, 1030); /* a follower that truncated */
	cr_assert_eq(leader_high_watermark(&ls, 50), 50, "never backwards");
	cr_assert_not(leader_follower_fetched(&ls, 9, 50, 50, 1030), "not a replica");
}

Test(leader, lagging_follower_shrinks_only_once_written)
{
	struct leader_state ls;
	three(&ls, 10, 10);
	leader_follower_fetched(&ls, 2, 10, 10, 1000);
	leader_follower_fetched(&ls, 3, 10, 10, 1000);
	int32_t isr[16], n;
	cr_assert_not(leader_isr_change(&ls, 2000, 3000, isr, &n), "nobody lags yet");
	/* 2 keeps fetching; 3 stops. */
	leader_follower_fetched(&ls, 2, 10, 20, 3900);
	leader_follower_fetched(&ls, 2, 20, 20, 4100);
	cr_assert(leader_isr_change(&ls, 4100, 3000, isr, &n));
	cr_assert_eq(n, 2);
	cr_assert_eq(isr[0], 1);
	cr_assert_eq(isr[1], 2);
	leader_proposing(&ls, isr, n);
	cr_assert_eq(leader_high_watermark(&ls, 20), 10, "3 counts until etcd has the shrink");
	cr_assert_not(leader_isr_change(&ls, 4100, 3000, isr, &n), "one proposal at a time");
	leader_isr_written(&ls, 120);
	cr_assert_eq(ls.isr_count, 2);
	cr_assert_eq(leader_high_watermark(&ls, 20), 20);
	/* The view then brings the write's older predecessor: ignored. */
	leader_view_isr(&ls, R3, 3, 110);
	cr_assert_eq(ls.isr_count, 2);
	leader_view_isr(&ls, R3, 2, 120);
	cr_assert_eq(ls.isr_count, 2);
}

Test(leader, failed_shrink_keeps_the_wider_isr)
{
	struct leader_state ls;
	three(&ls, 10, 10);
	int32_t isr[] = { 1, 2 };
	leader_proposing(&ls, isr, 2);
	leader_proposal_failed(&ls);
	cr_assert_eq(ls.isr_count, 3);
	leader_follower_fetched(&ls, 2, 10, 10, 1000);
	cr_assert_eq(leader_high_watermark(&ls, 10), 10, "hw kept from the log");
}

Test(leader, caught_up_follower_expands_and_counts_from_the_proposal)
{
	struct leader_state ls;
	int32_t isr12[] = { 1, 2 };
	leader_init(&ls, 1, 7, R3, 3, isr12, 2, 100, 100, 80, 1000);
	leader_follower_fetched(&ls, 2, 100, 100, 1001);
	cr_assert_eq(leader_high_watermark(&ls, 100), 100, "3 is out of the ISR");
	int32_t out[16], n;
	leader_follower_fetched(&ls, 3, 60, 100, 1002);
	cr_assert_not(leader_isr_change(&ls, 1002, 3000, out, &n), "3 below the hw");
	leader_follower_fetched(&ls, 3, 100, 100, 1003);
	cr_assert(leader_isr_change(&ls, 1003, 3000, out, &n));
	cr_assert_eq(n, 3);
	leader_proposing(&ls, out, n);
	cr_assert(leader_in_isr(&ls, 3), "a member being added counts at once");
	leader_follower_fetched(&ls, 3, 100, 120, 1004);
	cr_assert_eq(leader_high_watermark(&ls, 120), 100, "3 holds the watermark back");
}

Test(leader, follower_must_reach_the_epoch_start)
{
	struct leader_state ls;
	int32_t isr1[] = { 1 };
	/* Took over at LEO 100 with a kept hw of 50. */
	leader_init(&ls, 1, 7, R3, 3, isr1, 1, 100, 100, 50, 1000);
	leader_follower_fetched(&ls, 2, 60, 100, 1001);
	int32_t out[16], n;
	cr_assert_not(leader_isr_change(&ls, 1001, 3000, out, &n),
	              "past the hw but short of the epoch start");
	leader_follower_fetched(&ls, 2, 100, 100, 1002);
	cr_assert(leader_isr_change(&ls, 1002, 3000, out, &n));
}

Test(leader, steady_load_counts_as_caught_up)
{
	struct leader_state ls;
	three(&ls, 0, 0);
	int32_t out[16], n;
	/* The leader's end runs 10 ahead of every fetch, but each fetch reaches the end the
	 * previous one saw: never lagging. */
	for (int64_t t = 1000, leo = 10; t < 20000; t += 500, leo += 10) {
		leader_follower_fetched(&ls, 2, leo - 10, leo, t);
		leader_follower_fetched(&ls, 3, leo - 10, leo, t);
	}
	cr_assert_not(leader_isr_change(&ls, 20000, 3000, out, &n));
}
