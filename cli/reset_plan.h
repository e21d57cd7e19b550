/*
 * cli/reset_plan.h: where `tape groups reset` moves a group's committed offset on one
 * partition, by kafka-consumer-groups' rules (ConsumerGroupCommand.scala, --reset-offsets):
 *
 *   --to-earliest     the log start offset
 *   --to-latest       the log end offset
 *   --to-offset N     N, clamped to [log start, log end]
 *   --shift-by N      the committed offset + N, clamped the same way; a partition without a
 *                     committed offset cannot be shifted (an error, as in Kafka)
 *   --to-datetime T   the first offset whose timestamp is at or after T (ListOffsets by
 *                     time); when there is none, the log end offset
 *
 * Pure: the offsets are looked up by the caller.
 */
#ifndef TAPE_CLI_RESET_PLAN_H
#define TAPE_CLI_RESET_PLAN_H

#include <stdint.h>

enum reset_kind { RESET_EARLIEST, RESET_LATEST, RESET_TO_OFFSET, RESET_SHIFT_BY, RESET_DATETIME };

struct reset_partition {
	int64_t committed; /* -1: none */
	int64_t log_start;
	int64_t log_end;
	int64_t by_time; /* RESET_DATETIME: ListOffsets' answer for the time; -1 none */
};

/* The new offset (>= 0), or -1 when this partition cannot be reset this way (shift without a
 * committed offset). value: N for --to-offset and --shift-by, unused otherwise. */
int64_t reset_plan_offset(enum reset_kind kind, int64_t value, const struct reset_partition *p);

#endif
