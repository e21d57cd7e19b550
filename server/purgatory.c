/*
 * server/purgatory.c: the waiter lists (see purgatory.h).
 */
#include "server/purgatory.h"

#include "base/assert.h"

void purgatory_add(struct pslot *slot, struct waiter *w)
{
	ASSERT(!w->slot);
	w->slot = slot;
	w->prev = NULL;
	w->next = slot->waiters;
	if (slot->waiters)
		slot->waiters->prev = w;
	slot->waiters = w;
}

void purgatory_remove(struct waiter *w)
{
	if (!w->slot)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else
		w->slot->waiters = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->slot = NULL;
	w->next = w->prev = NULL;
}

void purgatory_wake(struct pslot *slot, bool gone)
{
	struct waiter *w = slot->waiters;
	if (gone)
		slot->waiters = NULL;
	while (w) {
		struct waiter *next = w->next;
		if (gone) {
			w->slot = NULL;
			w->next = w->prev = NULL;
		}
		w->wake(w, gone);
		w = next;
	}
}
