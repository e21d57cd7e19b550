/*
 * log/leader_epoch.c: the leader-epoch cache; semantics in leader_epoch.h.
 */
#include "log/leader_epoch.h"

#include "base/cursor.h"
#include "base/errors.h"
#include "base/limits.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void leader_epoch_init(struct leader_epoch_cache *c)
{
	memset(c, 0, sizeof(*c));
}

void leader_epoch_free(struct leader_epoch_cache *c)
{
	free(c->entries);
	leader_epoch_init(c);
}

int32_t leader_epoch_latest(const struct leader_epoch_cache *c)
{
	return c->count ? c->entries[c->count - 1].epoch : LEADER_EPOCH_UNDEFINED;
}

int leader_epoch_assign(struct leader_epoch_cache *c, int32_t epoch, int64_t start_offset)
{
	if (epoch < 0 || (c->count && epoch <= leader_epoch_latest(c)))
		return 0;
	while (c->count && c->entries[c->count - 1].start_offset >= start_offset)
		c->count--;
	if (c->count >= LEADER_EPOCHS_MAX)
		return -TAPE_ETOOLARGE;
	if (c->count == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct leader_epoch_entry *e = realloc(c->entries, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		c->entries = e;
		c->cap = cap;
	}
	c->entries[c->count++] = (struct leader_epoch_entry){ epoch, start_offset };
	return 0;
}

void leader_epoch_end_offset(const struct leader_epoch_cache *c, int32_t requested,
                             int64_t log_end_offset, int32_t *epoch_out, int64_t *end_offset_out)
{
	*epoch_out = LEADER_EPOCH_UNDEFINED;
	*end_offset_out = -1;
	if (requested == LEADER_EPOCH_UNDEFINED || c->count == 0)
		return;
	if (requested == leader_epoch_latest(c)) {
		*epoch_out = requested;
		*end_offset_out = log_end_offset;
		return;
	}
	/* The first entry with a higher epoch ends the requested one. */
	size_t higher = 0;
	while (higher < c->count && c->entries[higher].epoch <= requested)
		higher++;
	if (higher == c->count)
		return; /* requested is newer than anything known */
	*end_offset_out = c->entries[higher].start_offset;
	*epoch_out = higher == 0 ? requested : c->entries[higher - 1].epoch;
}

void leader_epoch_truncate_end(struct leader_epoch_cache *c, int64_t end_offset)
{
	while (c->count && c->entries[c->count - 1].start_offset >= end_offset)
		c->count--;
}

void leader_epoch_truncate_start(struct leader_epoch_cache *c, int64_t start_offset)
{
	size_t first = 0;
	while (first + 1 < c->count && c->entries[first + 1].start_offset <= start_offset)
		first++;
	if (first)
		memmove(c->entries, c->entries + first, (c->count - first) * sizeof(*c->entries));
	c->count -= first;
	if (c->count && c->entries[0].start_offset < start_offset)
		c->entries[0].start_offset = start_offset;
}

uint8_t *leader_epoch_encode(const struct leader_epoch_cache *c, size_t *len)
{
	size_t size = 4 + c->count * 12;
	uint8_t *buf = malloc(size);
	if (!buf)
		return NULL;
	struct writer w;
	writer_init(&w, buf, size);
	writer_u32(&w, (uint32_t)c->count);
	for (size_t i = 0; i < c->count; i++) {
		writer_i32(&w, c->entries[i].epoch);
		writer_i64(&w, c->entries[i].start_offset);
	}
	*len = w.len;
	return buf;
}

int leader_epoch_decode(struct leader_epoch_cache *c, const uint8_t *buf, size_t len)
{
	struct cursor cur;
	cursor_init(&cur, buf, len);
	uint32_t count = cursor_u32(&cur);
	if (!cursor_ok(&cur) || count > LEADER_EPOCHS_MAX ||
	    (size_t)count * 12 != cursor_left(&cur))
		return -TAPE_ECORRUPT;
	leader_epoch_free(c);
	for (uint32_t i = 0; i < count; i++) {
		int32_t epoch = cursor_i32(&cur);
		int64_t start = cursor_i64(&cur);
		/* Strictly increasing, as assign leaves them: an epoch that starts where the one
		 * before it starts would replace it, and the file would not encode back. */
		if (epoch < 0 || start < 0 ||
		    (c->count && (epoch <= leader_epoch_latest(c) ||
		                  start <= c->entries[c->count - 1].start_offset))) {
			leader_epoch_free(c);
			return -TAPE_ECORRUPT;
		}
		int rc = leader_epoch_assign(c, epoch, start);
		if (rc < 0) {
			leader_epoch_free(c);
			return rc;
		}
	}
	return 0;
}
