/*
 * io/fault.c: injected write and fsync failures (see fault.h). Counting happens at
 * submission, so "the 3rd write" means the 3rd write submitted after arming.
 */
#include "io/reactor_internal.h"

#include "base/assert.h"

#include <errno.h>

int reactor_fault_arm(struct reactor *r, enum io_fault_on on, uint64_t nth, int32_t res,
                      bool sticky)
{
	ASSERT(nth >= 1);
	ASSERT(res < 0 || (res == IO_FAULT_SHORT && on == IO_FAULT_ON_WRITE));
	for (int i = 0; i < FAULT_SLOTS; i++) {
		struct io_fault *f = &r->faults[i];
		if (f->armed)
			continue;
		*f = (struct io_fault){
			.armed = true,
			.sticky = sticky,
			.on = on,
			.nth = nth,
			.base = r->fault_counts[on],
			.res = res,
		};
		return 0;
	}
	return -ENOSPC;
}

void reactor_fault_clear(struct reactor *r)
{
	for (int i = 0; i < FAULT_SLOTS; i++)
		r->faults[i].armed = false;
	r->fault_counts[0] = r->fault_counts[1] = 0;
}

uint64_t reactor_fault_count(const struct reactor *r, enum io_fault_on on)
{
	return r->fault_counts[on];
}

bool fault_apply(struct reactor *r, struct io_op *op, uint32_t *len)
{
	enum io_fault_on on;
	if (op->kind == IO_OP_WRITE)
		on = IO_FAULT_ON_WRITE;
	else if (op->kind == IO_OP_FSYNC)
		on = IO_FAULT_ON_FSYNC;
	else
		return false;
	uint64_t count = ++r->fault_counts[on];
	/* Every fault due on this op is spent by it, even when an earlier slot's result wins:
	 * a one-shot fault left armed past its nth would never fire and hold its slot forever. */
	struct io_fault *hit = NULL;
	for (int i = 0; i < FAULT_SLOTS; i++) {
		struct io_fault *f = &r->faults[i];
		if (!f->armed || f->on != on)
			continue;
		uint64_t nth = count - f->base;
		if (nth < f->nth || (nth > f->nth && !f->sticky))
			continue;
		if (!hit)
			hit = f;
		if (!f->sticky)
			f->armed = false;
	}
	if (!hit)
		return false;
	if (hit->res == IO_FAULT_SHORT) {
		if (len && *len > 1) {
			*len /= 2;
			return false;
		}
		/* Nothing to shorten: a zero-byte write, as a full disk would give. */
		op->injected = true;
		op->injected_res = 0;
		return true;
	}
	op->injected = true;
	op->injected_res = hit->res;
	return true;
}
