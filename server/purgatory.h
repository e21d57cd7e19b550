/*
 * server/purgatory.h: requests waiting on a partition: a produce with acks=all waiting for
 * its records to become durable, a fetch long-poll waiting for min_bytes. A waiter is linked
 * on the partition's slot and woken by every progress of the partition (written end,
 * durable end, high watermark, failure) and when the partition goes away.
 *
 * A wake function only takes note and schedules its request's work for the turn's deferred
 * step (reactor_defer): it never changes any waiter list and never finishes a request, so the
 * wake loop walks a list nobody changes under it, and no request is freed inside it. When the
 * partition goes away its waiters are unlinked before they are woken.
 */
#ifndef TAPE_SERVER_PURGATORY_H
#define TAPE_SERVER_PURGATORY_H

#include "server/broker.h"

#include <stdbool.h>

struct waiter {
	struct waiter *next, *prev;
	struct pslot *slot; /* NULL when not linked */
	void (*wake)(struct waiter *w, bool gone);
};

void purgatory_add(struct pslot *slot, struct waiter *w);
void purgatory_remove(struct waiter *w);
/* Wakes every waiter of the slot; gone: the partition is being deleted. */
void purgatory_wake(struct pslot *slot, bool gone);

#endif
