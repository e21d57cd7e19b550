/*
 * log/producer_state.c: idempotence state per partition; rules in producer_state.h.
 * The table is open addressing with linear probing and backward-shift deletion, keyed by the
 * XXH3 of the producer id.
 */
#include "log/producer_state.h"

#include "base/cursor.h"
#include "base/errors.h"
#include "base/hash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void producer_state_init(struct producer_state *ps)
{
	memset(ps, 0, sizeof(*ps));
}

void producer_state_free(struct producer_state *ps)
{
	free(ps->slots);
	producer_state_init(ps);
}

void producer_state_clear(struct producer_state *ps)
{
	for (size_t i = 0; i < ps->cap; i++)
		ps->slots[i].producer_id = -1;
	ps->count = 0;
}

static size_t home(const struct producer_state *ps, int64_t pid)
{
	return (size_t)hash64(&pid, sizeof(pid)) & (ps->cap - 1);
}

static struct producer_entry *find(const struct producer_state *ps, int64_t pid)
{
	if (!ps->cap)
		return NULL;
	for (size_t i = home(ps, pid);; i = (i + 1) & (ps->cap - 1)) {
		struct producer_entry *e = &ps->slots[i];
		if (e->producer_id == pid)
			return e;
		if (e->producer_id < 0)
			return NULL;
	}
}

const struct producer_entry *producer_state_find(const struct producer_state *ps,
                                                 int64_t producer_id)
{
	return find(ps, producer_id);
}

static void remove_entry(struct producer_state *ps, struct producer_entry *e)
{
	size_t mask = ps->cap - 1;
	size_t i = (size_t)(e - ps->slots);
	ps->slots[i].producer_id = -1;
	ps->count--;
	/* Backward shift: move later entries of the run into the hole if their home allows. */
	for (size_t j = (i + 1) & mask; ps->slots[j].producer_id >= 0; j = (j + 1) & mask) {
		size_t h = home(ps, ps->slots[j].producer_id);
		if (((j - h) & mask) >= ((j - i) & mask)) {
			ps->slots[i] = ps->slots[j];
			ps->slots[j].producer_id = -1;
			i = j;
		}
	}
}

static int grow(struct producer_state *ps)
{
	size_t cap = ps->cap ? ps->cap * 2 : 16;
	struct producer_entry *slots = malloc(cap * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < cap; i++)
		slots[i].producer_id = -1;
	struct producer_state old = *ps;
	ps->slots = slots;
	ps->cap = cap;
	ps->count = 0;
	for (size_t i = 0; i < old.cap; i++) {
		if (old.slots[i].producer_id < 0)
			continue;
		size_t j = home(ps, old.slots[i].producer_id);
		while (slots[j].producer_id >= 0)
			j = (j + 1) & (cap - 1);
		slots[j] = old.slots[i];
		ps->count++;
	}
	free(old.slots);
	return 0;
}

static int32_t seq_add(int32_t seq, int32_t delta)
{
	return (int32_t)(((int64_t)seq + delta) % ((int64_t)INT32_MAX + 1));
}

int producer_state_check(const struct producer_state *ps, const struct record_batch_header *h,
                         struct producer_batch *dup)
{
	const struct producer_entry *e = find(ps, h->producer_id);
	if (!e)
		return 0;
	int32_t last_seq = seq_add(h->base_sequence, h->last_offset_delta);
	if (h->producer_epoch == e->epoch) {
		for (unsigned i = 0; i < e->batches_count; i++)
			if (e->batches[i].first_seq == h->base_sequence &&
			    e->batches[i].last_seq == last_seq) {
				*dup = e->batches[i];
				return 1;
			}
	}
	if (h->producer_epoch < e->epoch)
		return -TAPE_EPRODUCER_FENCED;
	if (h->producer_epoch > e->epoch)
		return h->base_sequence == 0 ? 0 : -TAPE_ESEQUENCE;
	if (e->batches_count == 0)
		return 0;
	int32_t expected = seq_add(e->batches[e->batches_count - 1].last_seq, 1);
	return h->base_sequence == expected ? 0 : -TAPE_ESEQUENCE;
}

static struct producer_entry *oldest(struct producer_state *ps)
{
	struct producer_entry *o = NULL;
	for (size_t i = 0; i < ps->cap; i++)
		if (ps->slots[i].producer_id >= 0 &&
		    (!o || ps->slots[i].last_timestamp < o->last_timestamp))
			o = &ps->slots[i];
	return o;
}

static struct producer_entry *insert(struct producer_state *ps, int64_t pid)
{
	if (ps->count >= PRODUCERS_PER_PARTITION_MAX)
		remove_entry(ps, oldest(ps));
	if ((ps->count + 1) * 4 > ps->cap * 3 && grow(ps) < 0)
		return NULL;
	size_t i = home(ps, pid);
	while (ps->slots[i].producer_id >= 0)
		i = (i + 1) & (ps->cap - 1);
	struct producer_entry *e = &ps->slots[i];
	memset(e, 0, sizeof(*e));
	e->producer_id = pid;
	e->epoch = -1;
	ps->count++;
	return e;
}

int producer_state_update(struct producer_state *ps, const struct record_batch_header *h)
{
	if (h->producer_id < 0)
		return 0;
	struct producer_entry *e = find(ps, h->producer_id);
	if (!e && !(e = insert(ps, h->producer_id)))
		return -ENOMEM;
	if (h->producer_epoch != e->epoch) {
		e->epoch = h->producer_epoch;
		e->batches_count = 0;
	}
	if (e->batches_count == PRODUCER_BATCHES_RETAINED) {
		memmove(e->batches, e->batches + 1,
		        sizeof(e->batches[0]) * (PRODUCER_BATCHES_RETAINED - 1));
		e->batches_count--;
	}
	e->batches[e->batches_count++] = (struct producer_batch){
		.first_seq = h->base_sequence,
		.last_seq = seq_add(h->base_sequence, h->last_offset_delta),
		.first_offset = h->base_offset,
		.last_offset = record_batch_last_offset(h),
		.timestamp = h->max_timestamp,
	};
	if (h->max_timestamp > e->last_timestamp)
		e->last_timestamp = h->max_timestamp;
	return 0;
}

void producer_state_expire(struct producer_state *ps, int64_t now_ms, int64_t expiration_ms)
{
	for (size_t i = 0; i < ps->cap;) {
		struct producer_entry *e = &ps->slots[i];
		if (e->producer_id >= 0 && e->last_timestamp < now_ms - expiration_ms)
			remove_entry(ps, e); /* a later entry may have shifted into slot i */
		else
			i++;
	}
}

#define ENTRY_FIXED_BYTES (8 + 2 + 8 + 1)
#define BATCH_BYTES (4 + 4 + 8 + 8 + 8)

uint8_t *producer_state_encode(const struct producer_state *ps, int64_t snapshot_offset,
                               size_t *len)
{
	size_t size =
	    12 + ps->count * (ENTRY_FIXED_BYTES + PRODUCER_BATCHES_RETAINED * BATCH_BYTES);
	uint8_t *buf = malloc(size);
	if (!buf)
		return NULL;
	struct writer w;
	writer_init(&w, buf, size);
	writer_i64(&w, snapshot_offset);
	writer_u32(&w, (uint32_t)ps->count);
	for (size_t i = 0; i < ps->cap; i++) {
		const struct producer_entry *e = &ps->slots[i];
		if (e->producer_id < 0)
			continue;
		writer_i64(&w, e->producer_id);
		writer_i16(&w, e->epoch);
		writer_i64(&w, e->last_timestamp);
		writer_u8(&w, e->batches_count);
		for (unsigned b = 0; b < e->batches_count; b++) {
			writer_i32(&w, e->batches[b].first_seq);
			writer_i32(&w, e->batches[b].last_seq);
			writer_i64(&w, e->batches[b].first_offset);
			writer_i64(&w, e->batches[b].last_offset);
			writer_i64(&w, e->batches[b].timestamp);
		}
	}
	*len = w.len;
	return buf;
}

int producer_state_decode(struct producer_state *ps, const uint8_t *buf, size_t len,
                          int64_t *snapshot_offset)
{
	struct cursor c;
	cursor_init(&c, buf, len);
	*snapshot_offset = cursor_i64(&c);
	uint32_t count = cursor_u32(&c);
	if (!cursor_ok(&c) || count > PRODUCERS_PER_PARTITION_MAX ||
	    (size_t)count * ENTRY_FIXED_BYTES > cursor_left(&c))
		return -TAPE_ECORRUPT;
	producer_state_clear(ps);
	for (uint32_t i = 0; i < count; i++) {
		int64_t pid = cursor_i64(&c);
		int16_t epoch = cursor_i16(&c);
		int64_t last_ts = cursor_i64(&c);
		uint8_t n = cursor_u8(&c);
		if (!cursor_ok(&c) || pid < 0 || n > PRODUCER_BATCHES_RETAINED || find(ps, pid))
			goto corrupt;
		struct producer_entry *e = insert(ps, pid);
		if (!e) {
			producer_state_clear(ps);
			return -ENOMEM;
		}
		e->epoch = epoch;
		e->last_timestamp = last_ts;
		e->batches_count = n;
		for (unsigned b = 0; b < n; b++) {
			e->batches[b].first_seq = cursor_i32(&c);
			e->batches[b].last_seq = cursor_i32(&c);
			e->batches[b].first_offset = cursor_i64(&c);
			e->batches[b].last_offset = cursor_i64(&c);
			e->batches[b].timestamp = cursor_i64(&c);
		}
	}
	if (cursor_ok(&c) && cursor_left(&c) == 0)
		return 0;
corrupt:
	producer_state_clear(ps);
	return -TAPE_ECORRUPT;
}
