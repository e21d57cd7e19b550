/*
 * client/pqueue.c: a partition's batches and the rule for sending the next (pqueue.h). Owns
 * the order of batches and their readiness; must not know connections, leaders or answers
 * (producer.c), nor the bytes of a batch (pbatch.c).
 */
#include "client/pqueue.h"

#include "base/assert.h"
#include "base/clock.h"

#include <errno.h>

static struct pbatch *open_batch(struct pqueue *q, int32_t partition, int64_t now_ms,
                                 uint64_t *next_id)
{
	struct pbatch *b =
	    pbatch_new((*next_id)++, partition, now_ms >= 0 ? now_ms : clock_mono_ms());
	if (!b)
		return NULL;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	q->batches_count++;
	return b;
}

int pqueue_append(struct pqueue *q, int32_t partition, const struct tape_record *rec,
                  int64_t timestamp_ms, int64_t now_ms, const struct pqueue_rules *rules,
                  struct buf *scratch, uint64_t *next_id, struct pbatch **batch)
{
	struct pbatch *b = q->tail && q->tail->open ? q->tail : NULL;
	if (!b && !(b = open_batch(q, partition, now_ms, next_id)))
		return -ENOMEM;
	int rc = pbatch_append(b, rec, timestamp_ms, rules->batch_bytes_max, scratch);
	if (rc == PBATCH_FULL) {
		/* A newer batch closes this one; it is sealed when it is sent. */
		if (!(b = open_batch(q, partition, now_ms, next_id)))
			return -ENOMEM;
		rc = pbatch_append(b, rec, timestamp_ms, rules->batch_bytes_max, scratch);
		ASSERT(rc != PBATCH_FULL); /* an empty batch takes any record */
	}
	if (rc < 0) {
		if (b->count == 0) { /* never leave an empty batch behind */
			pqueue_remove(q, b);
			pbatch_free(b);
		}
		return rc;
	}
	*batch = b;
	return 0;
}

/* The oldest batch not in flight. */
static struct pbatch *first_waiting(const struct pqueue *q)
{
	struct pbatch *b = q->head;
	while (b && b->in_flight)
		b = b->next;
	return b;
}

static bool closed(const struct pbatch *b)
{
	return !b->open || b->next != NULL;
}

struct pbatch *pqueue_sendable(const struct pqueue *q, int64_t now_ms,
                               const struct pqueue_rules *rules, bool flushing)
{
	if (q->in_flight >= rules->in_flight_max)
		return NULL;
	struct pbatch *b = first_waiting(q);
	if (!b || b->count == 0 || now_ms < b->retry_at_ms)
		return NULL;
	if (closed(b) || flushing || now_ms - b->created_ms >= rules->linger_ms)
		return b;
	return NULL;
}

int64_t pqueue_next_ready(const struct pqueue *q, const struct pqueue_rules *rules)
{
	if (q->in_flight >= rules->in_flight_max)
		return INT64_MAX;
	const struct pbatch *b = first_waiting(q);
	if (!b || b->count == 0)
		return INT64_MAX;
	int64_t t = closed(b) ? b->retry_at_ms : b->created_ms + rules->linger_ms;
	return t > b->retry_at_ms ? t : b->retry_at_ms;
}

int32_t pqueue_sequence_add(int32_t seq, int32_t n)
{
	int64_t v = (int64_t)seq + n;
	int64_t span = (int64_t)INT32_MAX + 1;
	return (int32_t)(((v % span) + span) % span);
}

void pqueue_stamp(struct pqueue *q, struct pbatch *b, int64_t producer_id, int16_t epoch)
{
	pbatch_stamp(b, producer_id, epoch, q->next_sequence);
	q->next_sequence = pqueue_sequence_add(q->next_sequence, b->count);
}

bool pqueue_unstamp(struct pqueue *q, const struct pbatch *b)
{
	if (b->base_sequence < 0 ||
	    pqueue_sequence_add(b->base_sequence, b->count) != q->next_sequence)
		return false;
	q->next_sequence = b->base_sequence;
	return true;
}

void pqueue_remove(struct pqueue *q, struct pbatch *b)
{
	struct pbatch **pp = &q->head, *prev = NULL;
	while (*pp && *pp != b) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	ASSERT(*pp == b);
	*pp = b->next;
	if (q->tail == b)
		q->tail = prev;
	b->next = NULL;
	q->batches_count--;
}
