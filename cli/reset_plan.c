/*
 * cli/reset_plan.c: the new offset of one partition for `tape groups reset` (rules in
 * reset_plan.h).
 */
#include "cli/reset_plan.h"

static int64_t clamp(int64_t v, const struct reset_partition *p)
{
	return v < p->log_start ? p->log_start : v > p->log_end ? p->log_end : v;
}

int64_t reset_plan_offset(enum reset_kind kind, int64_t value, const struct reset_partition *p)
{
	switch (kind) {
	case RESET_EARLIEST:
		return p->log_start;
	case RESET_LATEST:
		return p->log_end;
	case RESET_TO_OFFSET:
		return clamp(value, p);
	case RESET_SHIFT_BY:
		if (p->committed < 0)
			return -1;
		/* Saturating: a shift of INT64_MIN or INT64_MAX lands at an end. */
		if (value > 0 && p->committed > INT64_MAX - value)
			return p->log_end;
		if (value < 0 && p->committed < INT64_MIN - value)
			return p->log_start;
		return clamp(p->committed + value, p);
	case RESET_DATETIME:
		return p->by_time >= 0 ? clamp(p->by_time, p) : p->log_end;
	}
	return -1;
}
