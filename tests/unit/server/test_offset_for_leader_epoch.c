/*
 * tests/unit/server/test_offset_for_leader_epoch.c: the broker's OffsetForLeaderEpoch answer
 * for one partition (offset_for_leader_epoch_answer in server/handle_offset_for_leader_epoch.c)
 * against a real partition in a temp dir.
 *
 * Covers: an unknown partition (3); fencing by current_leader_epoch, older (74) and newer (75),
 * and -1 meaning "no fencing"; Kafka's LeaderEpochFileCache.endOffsetFor on the epochs
 * {0: 0, 3: 6, 5: 9} with LEO 9: the current epoch ends at the LEO, an epoch between two known
 * ones answers the lower one and the next one's start, a newer epoch than any answers -1/-1;
 * an epoch below the first known one answers itself and the first one's start offset; an
 * empty epoch cache answers -1/-1.
 */
#include "log/partition.h"
#include "protocol/errors.h"
#include "protocol/offset_for_leader_epoch.h"
#include "server/handlers.h"
#include "tests/support/batches.h"
#include "tests/support/logtest.h"

#include <criterion/criterion.h>

struct world {
	struct reactor *r;
	char *dir;
	struct partition *p;
};

static void world_open(struct world *w)
{
	struct partition_config cfg;
	partition_config_default(&cfg);
	cr_assert_eq(reactor_create(&w->r), 0);
	w->dir = test_tmpdir("ofle");
	cr_assert_eq(partition_open(w->r, w->dir, &cfg, &w->p), 0);
}

static void world_close(struct world *w)
{
	partition_close(w->p);
	reactor_destroy(w->r);
	test_rmdir(w->dir);
}

static struct offset_for_leader_epoch_response_partition ask(const struct partition *p,
                                                             int32_t current, int32_t epoch)
{
	struct offset_for_leader_epoch_request_partition in = { 7, current, epoch };
	struct offset_for_leader_epoch_response_partition out;
	offset_for_leader_epoch_answer(p, &in, &out);
	cr_assert_eq(out.partition, 7);
	return out;
}

#define ASSERT_ANSWER(out, err, epoch, end)                                            \
	cr_assert((out).error_code == (err) && (out).leader_epoch == (epoch) &&        \
	              (out).end_offset == (end),                                       \
	          "got error %d epoch %d end %lld, want %d %d %lld", (out).error_code, \
	          (out).leader_epoch, (long long)(out).end_offset, (err), (epoch),     \
	          (long long)(end))

Test(offset_for_leader_epoch, unknown_partition)
{
	struct offset_for_leader_epoch_response_partition out = ask(NULL, -1, 0);
	ASSERT_ANSWER(out, KAFKA_UNKNOWN_TOPIC_OR_PARTITION, -1, -1);
}

Test(offset_for_leader_epoch, fencing_and_end_offsets)
{
	struct world w;
	world_open(&w);
	cr_assert_eq(partition_become_leader(w.p, 0), 0);
	cr_assert_eq(lt_append_simple(w.p, 3, 10, 1000), 0);
	cr_assert_eq(lt_append_simple(w.p, 3, 10, 1001), 0);
	lt_drain(w.r);
	cr_assert_eq(partition_become_leader(w.p, 3), 0);
	cr_assert_eq(lt_append_simple(w.p, 3, 10, 1002), 0);
	lt_drain(w.r);
	cr_assert_eq(partition_become_leader(w.p, 5), 0);
	lt_drain(w.r);
	cr_assert_eq(partition_log_end_offset(w.p), 9);

	ASSERT_ANSWER(ask(w.p, 4, 3), KAFKA_FENCED_LEADER_EPOCH, -1, -1);
	ASSERT_ANSWER(ask(w.p, 6, 3), KAFKA_UNKNOWN_LEADER_EPOCH, -1, -1);
	ASSERT_ANSWER(ask(w.p, 5, 5), KAFKA_NONE, 5, 9);
	ASSERT_ANSWER(ask(w.p, -1, 5), KAFKA_NONE, 5, 9);
	ASSERT_ANSWER(ask(w.p, 5, 4), KAFKA_NONE, 3, 9);
	ASSERT_ANSWER(ask(w.p, 5, 3), KAFKA_NONE, 3, 9);
	ASSERT_ANSWER(ask(w.p, 5, 2), KAFKA_NONE, 0, 6);
	ASSERT_ANSWER(ask(w.p, 5, 0), KAFKA_NONE, 0, 6);
	ASSERT_ANSWER(ask(w.p, 5, 6), KAFKA_NONE, -1, -1);
	ASSERT_ANSWER(ask(w.p, 5, -1), KAFKA_NONE, -1, -1);
	world_close(&w);
}

Test(offset_for_leader_epoch, below_first_and_empty)
{
	struct world w;
	world_open(&w);
	/* No epochs at all: nothing is known. */
	ASSERT_ANSWER(ask(w.p, -1, 0), KAFKA_NONE, -1, -1);
	cr_assert_eq(partition_become_leader(w.p, 2), 0);
	cr_assert_eq(lt_append_simple(w.p, 4, 10, 1000), 0);
	lt_drain(w.r);
	cr_assert_eq(partition_become_leader(w.p, 4), 0);
	lt_drain(w.r);
	/* Older than the first known epoch: itself, ending where the first one starts. */
	ASSERT_ANSWER(ask(w.p, 4, 1), KAFKA_NONE, 1, 0);
	ASSERT_ANSWER(ask(w.p, 4, 2), KAFKA_NONE, 2, 4);
	ASSERT_ANSWER(ask(w.p, 4, 4), KAFKA_NONE, 4, 4);
	world_close(&w);
}
