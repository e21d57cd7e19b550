/*
 * tests/unit/log/test_state.c: the leader-epoch cache and the producer state as pure data:
 * Kafka's endOffsetFor answers, truncation at both ends, idempotence checks in Kafka's order
 * (duplicate, stale epoch, sequence gaps, wrap-around), eviction at the bound, expiry, and
 * checkpoint round trips with corrupt payloads refused.
 */
#include "base/errors.h"
#include "log/leader_epoch.h"
#include "log/producer_state.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

Test(leader_epoch, assign_end_offsets_truncate_and_round_trip)
{
	struct leader_epoch_cache c;
	leader_epoch_init(&c);
	cr_assert_eq(leader_epoch_latest(&c), -1);
	cr_assert_eq(leader_epoch_assign(&c, 2, 0), 0);
	cr_assert_eq(leader_epoch_assign(&c, 2, 5), 0); /* same epoch: ignored */
	cr_assert_eq(leader_epoch_assign(&c, 4, 10), 0);
	cr_assert_eq(leader_epoch_assign(&c, 5, 10), 0); /* epoch 4 appended nothing: replaced */
	cr_assert_eq(c.count, 2);
	cr_assert_eq(leader_epoch_assign(&c, 7, 20), 0);
	int32_t e;
	int64_t end;
	leader_epoch_end_offset(&c, 7, 30, &e, &end);
	cr_assert(e == 7 && end == 30);
	leader_epoch_end_offset(&c, 6, 30, &e, &end);
	cr_assert(e == 5 && end == 20);
	leader_epoch_end_offset(&c, 1, 30, &e, &end);
	cr_assert(e == 1 && end == 0);
	leader_epoch_end_offset(&c, 8, 30, &e, &end);
	cr_assert(e == -1 && end == -1);
	size_t len;
	uint8_t *buf = leader_epoch_encode(&c, &len);
	struct leader_epoch_cache d;
	leader_epoch_init(&d);
	cr_assert_eq(leader_epoch_decode(&d, buf, len), 0);
	cr_assert_eq(d.count, 3);
	cr_assert_eq(leader_epoch_decode(&d, buf, len - 1), -TAPE_ECORRUPT);
	buf[4 + 12 + 3] = 1; /* second epoch (5) becomes 1: not increasing */
	cr_assert_eq(leader_epoch_decode(&d, buf, len), -TAPE_ECORRUPT);
	free(buf);
	leader_epoch_truncate_end(&c, 20);
	cr_assert_eq(leader_epoch_latest(&c), 5);
	leader_epoch_truncate_start(&c, 12);
	cr_assert_eq(c.count, 1);
	cr_assert_eq(c.entries[0].start_offset, 12);
	leader_epoch_free(&c);
	leader_epoch_free(&d);
}

static struct record_batch_header batch(int64_t pid, int16_t epoch, int32_t seq, int32_t n,
                                        int64_t offset, int64_t ts)
{
	return (struct record_batch_header){
		.base_offset = offset,
		.producer_id = pid,
		.producer_epoch = epoch,
		.base_sequence = seq,
		.last_offset_delta = n - 1,
		.records_count = n,
		.max_timestamp = ts,
	};
}

Test(producer_state, kafka_checks_in_order)
{
	struct producer_state ps;
	producer_state_init(&ps);
	struct producer_batch dup;
	struct record_batch_header h = batch(1, 0, 17, 3, 0, 1000);
	cr_assert_eq(producer_state_check(&ps, &h, &dup), 0, "unknown producer: any sequence");
	cr_assert_eq(producer_state_update(&ps, &h), 0);
	for (int i = 0; i < 6; i++) {
		h = batch(1, 0, 20 + 2 * i, 2, 3 + 2 * i, 1000);
		cr_assert_eq(producer_state_check(&ps, &h, &dup), 0);
		cr_assert_eq(producer_state_update(&ps, &h), 0);
	}
	/* The last five batches are duplicates, with their original offsets; older are not. */
	h = batch(1, 0, 28, 2, 99, 1000);
	cr_assert_eq(producer_state_check(&ps, &h, &dup), 1);
	cr_assert_eq(dup.first_offset, 11);
	cr_assert_eq(dup.last_offset, 12);
	h = batch(1, 0, 20, 2, 99, 1000);
	cr_assert_eq(producer_state_check(&ps, &h, &dup), -TAPE_ESEQUENCE);
	h = batch(1, 0, 33, 1, 99, 1000); /* a gap */
	cr_assert_eq(producer_state_check(&ps, &h, &dup), -TAPE_ESEQUENCE);
	h = batch(1, 0, 32, 1, 99, 1000);
	cr_assert_eq(producer_state_check(&ps, &h, &dup), 0);
	h = batch(1, -1, 32, 1, 99, 1000);
	cr_assert_eq(producer_state_check(&ps, &h, &dup), -TAPE_EPRODUCER_FENCED);
	h = batch(1, 1, 5, 1, 99, 1000);
	cr_assert_eq(producer_state_check(&ps, &h, &dup), -TAPE_ESEQUENCE, "new epoch starts at 0");
	h = batch(1, 1, 0, 1, 99, 1000);
	cr_assert_eq(producer_state_check(&ps, &h, &dup), 0);
	/* Sequences wrap after INT32_MAX. */
	h = batch(2, 0, INT32_MAX - 1, 2, 0, 1000);
	producer_state_update(&ps, &h);
	h = batch(2, 0, 0, 1, 2, 1000);
	cr_assert_eq(producer_state_check(&ps, &h, &dup), 0);
	producer_state_free(&ps);
}

Test(producer_state, many_producers_expiry_and_round_trip)
{
	struct producer_state ps;
	producer_state_init(&ps);
	for (int64_t pid = 0; pid < 5000; pid++) {
		struct record_batch_header h = batch(pid * 7919, 0, 0, 1, pid, 1000 + pid);
		cr_assert_eq(producer_state_update(&ps, &h), 0);
	}
	cr_assert_eq(ps.count, 5000);
	for (int64_t pid = 0; pid < 5000; pid++)
		cr_assert_not_null(producer_state_find(&ps, pid * 7919));
	size_t len;
	uint8_t *buf = producer_state_encode(&ps, 5000, &len);
	struct producer_state back;
	producer_state_init(&back);
	int64_t snap;
	cr_assert_eq(producer_state_decode(&back, buf, len, &snap), 0);
	cr_assert_eq(snap, 5000);
	cr_assert_eq(back.count, 5000);
	cr_assert_eq(producer_state_decode(&back, buf, len - 3, &snap), -TAPE_ECORRUPT);
	cr_assert_eq(back.count, 0);
	free(buf);
	/* Expiry by the producers' last batch time; the table stays consistent after it. */
	producer_state_expire(&ps, 1000 + 2500 + 100, 100);
	cr_assert_eq(ps.count, 2500);
	for (int64_t pid = 0; pid < 5000; pid++)
		cr_assert_eq(producer_state_find(&ps, pid * 7919) != NULL, pid >= 2500, "pid %lld",
		             (long long)pid);
	producer_state_free(&ps);
	producer_state_free(&back);
}
