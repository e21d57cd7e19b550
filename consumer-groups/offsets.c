/*
 * consumer-groups/offsets.c: the committed-offset store. It owns the record codec of
 * __consumer_offsets, the in-memory view (group -> topic/partition -> committed offset) and the
 * operations in flight (commits, group deletions, expiry), each one batch appended to the
 * group's partition. It does not know the broker (it is handed partitions and called from
 * their progress callbacks) nor the group state machine (it asks, through a callback, whether
 * a group is empty).
 *
 * Record format: Kafka's, so Kafka's tools (OffsetsMessageFormatter) read the topic. Big-endian;
 * a string is an int16 length and that many UTF-8 bytes.
 *
 *   key: OffsetCommitKey v1              value: OffsetCommitValue v3
 *     int16   version = 1                  int16   version = 3
 *     string  group                        int64   offset
 *     string  topic                        int32   leader_epoch      -1: none
 *     int32   partition                    string  metadata          never null in Kafka
 *                                          int64   commit_timestamp  ms, the broker's clock
 *
 *   A deletion (DeleteGroups, expiry) is the same key with a null value, a tombstone:
 *   compaction keeps it delete.retention.ms past its record timestamp, then drops it.
 *
 *   Null metadata: Kafka's value cannot carry it (Kafka stores "" for a null), but OffsetFetch
 *   must give back the null a client committed. tape writes metadata "" and one record header,
 *   key "tape.metadata.null" with a null value. Kafka's tools ignore record headers and read ""
 *   (what Kafka would have stored); tape reads the header back as null. The header on a
 *   tombstone or with non-empty metadata is malformed.
 *
 *   Reading accepts key versions 0-1 (versions 2 and up are Kafka's other group records:
 *   skipped) and value versions 0-4: v0 and v2 are offset, metadata, commit_timestamp; v1 adds
 *   expire_timestamp at the end; v3 puts leader_epoch after offset; v4 is v3 made flexible
 *   (compact string, tagged fields at the end).
 *
 *   One operation is one batch: every entry of a commit together, records timestamped with the
 *   operation's time, producer id -1, no compression. A batch is all or nothing in the log (its
 *   CRC), so a crash keeps a commit whole or drops it whole, as in Kafka.
 *
 * Invariants (cited as [O1] ...):
 *   O1  The view changes only by applying records of the log, in log order. An operation's
 *       records are applied from the very bytes that were appended, once the batch is durable,
 *       and a partition's operations complete strictly in append order (one FIFO per
 *       partition), which is offset order. So the view is at every moment the replay of a
 *       durable prefix of each partition, the same thing offset_store_load computes.
 *   O2  Durable is what acks=all waits for on one replica: under flush.mode=fsync the
 *       partition's durable end is past the batch's last offset; under interval and none its
 *       written end is. A batch whose write failed, or that was written but can no longer become
 *       durable because the partition failed (D4), is never applied; its operation reports the
 *       error.
 *   O3  Applying a durable batch never passes a bound, because nothing can refuse a record that
 *       is already in the log. A commit reserves, at admission, a slot for every key not in the
 *       view and the bytes of all its metadata; a slot freed by a tombstone stays charged to its
 *       group while the group has operations in flight (one of them may re-insert that key
 *       without having reserved it).
 *
 * Recovery rule: the store keeps nothing on disk but the log. After a crash the partition's own
 * recovery cuts a torn tail at its first invalid batch, and offset_store_load replays every
 * partition from its log start to its written end: the latest record of a key wins, a tombstone
 * deletes. A batch that was written but never reported durable may survive a process crash
 * (the page cache outlives the process): a commit whose answer was lost, never an answered one
 * that vanished. So after any fault, committed >= last acknowledged commit (RELIABILITY.md S8).
 */
#include "consumer-groups/offsets.h"

#include "base/assert.h"
#include "base/cursor.h"
#include "base/diag.h"
#include "base/errors.h"
#include "base/hash.h"
#include "base/limits.h"
#include "log/batch_reader.h"
#include "log/log_read.h"
#include "protocol/compression.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define METADATA_NULL_HEADER_LEN (sizeof(OFFSET_METADATA_NULL_HEADER) - 1)
/* Load warnings for skipped records, per load; the rest are only counted. */
#define LOAD_WARNINGS_MAX 10

/* ---- Java's String.hashCode -------------------------------------------------------------- */

/*
 * Kafka picks a group's partition with groupId.hashCode(), Java's s[0]*31^(n-1) + ... + s[n-1]
 * in int arithmetic over the string's UTF-16 code units (for ASCII, the bytes). The group id
 * arrives as UTF-8 bytes and Java builds the String with new String(bytes, UTF_8), which
 * replaces malformed input with U+FFFD by its own rules; they are mirrored here (JDK 17's
 * String.decodeUTF8_UTF16, the same as its UTF_8 decoder's malformedN) so that even a group id
 * that is not valid UTF-8 lands where Kafka would put it:
 *   - a byte 80-C1 or F8-FF alone: one U+FFFD;
 *   - C2-DF not followed by a continuation byte: U+FFFD, the next byte is read again;
 *   - E0-EF: an overlong (E0 80-9F) or non-continuation second byte gives U+FFFD for the lead
 *     alone; a bad third byte gives U+FFFD for two bytes; a well-formed sequence that encodes a
 *     surrogate gives U+FFFD for all three; cut short at the end of the input, U+FFFD once;
 *   - F0-F7: a bad second byte (or F5-F7, or out of range for F0/F4) gives U+FFFD for one byte,
 *     a bad third byte for two, a bad fourth for three; at the end of the input see below.
 */

#define REPLACEMENT 0xfffdu

static bool is_continuation(uint8_t b)
{
	return (b & 0xc0) == 0x80;
}

static bool malformed3_2(uint8_t b1, uint8_t b2)
{
	return (b1 == 0xe0 && (b2 & 0xe0) == 0x80) || !is_continuation(b2);
}

static bool malformed4_2(uint8_t b1, uint8_t b2)
{
	return (b1 == 0xf0 && (b2 < 0x90 || b2 > 0xbf)) || (b1 == 0xf4 && (b2 & 0xf0) != 0x80) ||
	       !is_continuation(b2);
}

/* Bytes of a malformed 4-byte sequence that one U+FFFD replaces (at least 3 bytes follow). */
static size_t malformed4_len(uint8_t b1, uint8_t b2, uint8_t b3)
{
	if (b1 > 0xf4 || malformed4_2(b1, b2))
		return 1;
	return is_continuation(b3) ? 3 : 2;
}

static uint32_t java_step(uint32_t h, uint32_t unit)
{
	return h * 31u + unit;
}

/* One sequence starting with lead byte b1 = s[i - 1] (i is past it); returns the new i, or
 * len + 1 when Java's decoder stops there (a truncated sequence swallows the rest). */
static size_t java_decode_one(const uint8_t *s, size_t len, size_t i, uint32_t *h)
{
	uint8_t b1 = s[i - 1];
	if ((b1 >> 5) == 6 && (b1 & 0x1e)) {
		if (i < len && is_continuation(s[i])) {
			*h = java_step(*h, ((b1 & 0x1fu) << 6) | (s[i] & 0x3fu));
			return i + 1;
		}
		*h = java_step(*h, REPLACEMENT);
		return i;
	}
	if ((b1 >> 4) == 0xe) {
		if (i + 1 < len) {
			uint8_t b2 = s[i], b3 = s[i + 1];
			if (malformed3_2(b1, b2)) {
				*h = java_step(*h, REPLACEMENT);
				return i;
			}
			if (!is_continuation(b3)) {
				*h = java_step(*h, REPLACEMENT);
				return i + 1;
			}
			uint32_t c = ((b1 & 0x0fu) << 12) | ((b2 & 0x3fu) << 6) | (b3 & 0x3fu);
			*h = java_step(*h, c >= 0xd800 && c <= 0xdfff ? REPLACEMENT : c);
			return i + 2;
		}
		*h = java_step(*h, REPLACEMENT);
		if (i < len && malformed3_2(b1, s[i]))
			return i;
		return len + 1;
	}
	if ((b1 >> 3) == 0x1e) {
		if (i + 2 < len) {
			uint8_t b2 = s[i], b3 = s[i + 1], b4 = s[i + 2];
			uint32_t uc = ((b1 & 0x07u) << 18) | ((b2 & 0x3fu) << 12) |
			              ((b3 & 0x3fu) << 6) | (b4 & 0x3fu);
			if (!is_continuation(b2) || !is_continuation(b3) || !is_continuation(b4) ||
			    uc < 0x10000 || uc > 0x10ffff) {
				*h = java_step(*h, REPLACEMENT);
				return i - 1 + malformed4_len(b1, b2, b3);
			}
			uc -= 0x10000;
			*h = java_step(*h, 0xd800u + (uc >> 10));
			*h = java_step(*h, 0xdc00u + (uc & 0x3ff));
			return i + 3;
		}
		*h = java_step(*h, REPLACEMENT);
		if (b1 > 0xf4 || (i < len && malformed4_2(b1, s[i])))
			return i;
		/* The lead and a good second byte are replaced together; a third byte that is not a
		 * continuation is read again, anything else ends the string. */
		i++;
		if (i < len && !is_continuation(s[i]))
			return i;
		return len + 1;
	}
	*h = java_step(*h, REPLACEMENT);
	return i;
}

int32_t offset_group_hash(const char *group, size_t len)
{
	const uint8_t *s = (const uint8_t *)group;
	uint32_t h = 0;
	for (size_t i = 0; i < len;) {
		uint8_t b = s[i++];
		if (b < 0x80)
			h = java_step(h, b);
		else
			i = java_decode_one(s, len, i, &h);
	}
	return (int32_t)h;
}

int32_t offset_group_partition(struct kstr group, int32_t partitions_count)
{
	ASSERT(partitions_count >= 1);
	int32_t h = offset_group_hash(group.p, group.len > 0 ? (size_t)group.len : 0);
	int32_t abs = h == INT32_MIN ? 0 : (h < 0 ? -h : h); /* Kafka's Utils.abs */
	return abs % partitions_count;
}

/* ---- the record codec -------------------------------------------------------------------- */

static size_t str_len(struct kstr s)
{
	return s.len > 0 ? (size_t)s.len : 0;
}

static bool str_encodable(struct kstr s)
{
	return s.len >= 0 && s.len <= INT16_MAX;
}

static void put_string(struct writer *w, struct kstr s)
{
	writer_i16(w, (int16_t)s.len);
	writer_bytes(w, s.p, str_len(s));
}

size_t offset_commit_key_size(const struct offset_commit_key *k)
{
	return 2 + 2 + str_len(k->group) + 2 + str_len(k->topic) + 4;
}

size_t offset_commit_key_encode(uint8_t *out, size_t cap, const struct offset_commit_key *k)
{
	if (!str_encodable(k->group) || !str_encodable(k->topic))
		return 0;
	struct writer w;
	writer_init(&w, out, cap);
	writer_i16(&w, OFFSET_COMMIT_KEY_VERSION);
	put_string(&w, k->group);
	put_string(&w, k->topic);
	writer_i32(&w, k->partition);
	return writer_ok(&w) ? w.len : 0;
}

int offset_commit_key_decode(const uint8_t *buf, size_t len, struct offset_commit_key *out)
{
	struct cursor c;
	cursor_init(&c, buf, len);
	int16_t version = cursor_i16(&c);
	if (!cursor_ok(&c) || version < 0)
		return -TAPE_ECORRUPT;
	if (version > 1)
		return 1;
	struct offset_commit_key k;
	k.group = kafka_get_string(&c, false, false);
	k.topic = kafka_get_string(&c, false, false);
	k.partition = cursor_i32(&c);
	if (kafka_decode_end(&c) < 0)
		return -TAPE_ECORRUPT;
	*out = k;
	return 0;
}

size_t offset_commit_value_size(const struct offset_commit_value *v)
{
	return 2 + 8 + 4 + 2 + str_len(v->metadata) + 8;
}

size_t offset_commit_value_encode(uint8_t *out, size_t cap, const struct offset_commit_value *v)
{
	if (!str_encodable(v->metadata))
		return 0;
	struct writer w;
	writer_init(&w, out, cap);
	writer_i16(&w, OFFSET_COMMIT_VALUE_VERSION);
	writer_i64(&w, v->offset);
	writer_i32(&w, v->leader_epoch);
	put_string(&w, v->metadata);
	writer_i64(&w, v->commit_timestamp_ms);
	return writer_ok(&w) ? w.len : 0;
}

int offset_commit_value_decode(const uint8_t *buf, size_t len, struct offset_commit_value *out)
{
	struct cursor c;
	cursor_init(&c, buf, len);
	int16_t version = cursor_i16(&c);
	if (!cursor_ok(&c) || version < 0 || version > OFFSET_COMMIT_VALUE_VERSION_MAX)
		return -TAPE_ECORRUPT;
	bool flexible = version >= 4;
	struct offset_commit_value v;
	v.offset = cursor_i64(&c);
	v.leader_epoch = version >= 3 ? cursor_i32(&c) : -1;
	v.metadata = kafka_get_string(&c, flexible, false);
	v.commit_timestamp_ms = cursor_i64(&c);
	v.expire_timestamp_ms = version == 1 ? cursor_i64(&c) : -1;
	if (flexible)
		kafka_skip_tagged_fields(&c);
	if (kafka_decode_end(&c) < 0)
		return -TAPE_ECORRUPT;
	*out = v;
	return 0;
}

int offset_record_decode(const struct record *rec, struct offset_record *out)
{
	if (rec->key_len < 0)
		return -TAPE_ECORRUPT;
	struct offset_record r;
	memset(&r, 0, sizeof(r));
	int rc = offset_commit_key_decode(rec->key, (size_t)rec->key_len, &r.key);
	if (rc != 0)
		return rc;
	r.tombstone = rec->value_len < 0;
	if (!r.tombstone &&
	    offset_commit_value_decode(rec->value, (size_t)rec->value_len, &r.value) < 0)
		return -TAPE_ECORRUPT;
	struct record_header_iter it;
	struct record_header h;
	record_header_iter_init(&it, rec);
	while ((rc = record_header_iter_next(&it, &h)) == 1)
		if (h.key_len == (int32_t)METADATA_NULL_HEADER_LEN &&
		    memcmp(h.key, OFFSET_METADATA_NULL_HEADER, METADATA_NULL_HEADER_LEN) == 0)
			r.metadata_null = true;
	if (rc < 0)
		return -TAPE_ECORRUPT;
	if (r.metadata_null && (r.tombstone || r.value.metadata.len != 0))
		return -TAPE_ECORRUPT;
	*out = r;
	return 0;
}

/* ---- hash tables ------------------------------------------------------------------------- */

/* Chained, keyed by a precomputed XXH3; the owner compares keys. Grows by doubling when the
 * count passes the bucket count (a failed grow only makes chains longer). */
struct hnode {
	struct hnode *next;
	uint64_t hash;
};

struct htable {
	struct hnode **buckets; /* owned */
	size_t mask;
	size_t count;
};

#define HTABLE_BUCKETS_MIN 64

static int htable_init(struct htable *t)
{
	t->buckets = calloc(HTABLE_BUCKETS_MIN, sizeof(*t->buckets));
	t->mask = HTABLE_BUCKETS_MIN - 1;
	t->count = 0;
	return t->buckets ? 0 : -ENOMEM;
}

static void htable_grow(struct htable *t)
{
	size_t n = (t->mask + 1) * 2;
	struct hnode **b = calloc(n, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i <= t->mask; i++)
		for (struct hnode *x = t->buckets[i], *next; x; x = next) {
			next = x->next;
			x->next = b[x->hash & (n - 1)];
			b[x->hash & (n - 1)] = x;
		}
	free(t->buckets);
	t->buckets = b;
	t->mask = n - 1;
}

static void htable_insert(struct htable *t, struct hnode *x)
{
	struct hnode **b = &t->buckets[x->hash & t->mask];
	x->next = *b;
	*b = x;
	if (++t->count > t->mask + 1)
		htable_grow(t);
}

static void htable_remove(struct htable *t, struct hnode *x)
{
	struct hnode **pp = &t->buckets[x->hash & t->mask];
	while (*pp != x)
		pp = &(*pp)->next;
	*pp = x->next;
	t->count--;
}

static struct hnode *htable_chain(const struct htable *t, uint64_t hash)
{
	return t->buckets[hash & t->mask];
}

/* ---- the view ---------------------------------------------------------------------------- */

struct oentry;

struct ogroup {
	struct hnode node;          /* in store->groups, by hash64(name) */
	struct oentry *head, *tail; /* its offsets, in first-commit order */
	uint32_t count;             /* offsets in the view */
	uint32_t charged;           /* >= count: slots held while operations are in flight [O3] */
	uint32_t reserved;          /* slots reserved by commits in flight [O3] */
	uint32_t ops;               /* operations in flight */
	int32_t part_index;
	uint16_t name_len;
	char name[]; /* owned, not NUL-terminated */
};

struct oentry {
	struct hnode node; /* in store->offsets, by entry_hash */
	struct oentry *prev, *next;
	struct ogroup *grp;
	int32_t partition;
	int32_t leader_epoch;
	int64_t offset;
	int64_t commit_timestamp_ms;
	char *metadata;       /* owned; NULL when metadata_len <= 0 */
	int32_t metadata_len; /* -1: null */
	uint16_t topic_len;
	char topic[]; /* owned, not NUL-terminated */
};

struct offset_op;

struct store_part {
	struct partition *part;        /* borrowed */
	struct offset_op *head, *tail; /* operations in flight, in append order [O1] */
	uint32_t ops;
	bool draining;
	bool again;
	int abandoned; /* 0, or the error ops not yet past the high watermark get */
};

struct offset_store {
	struct reactor *reactor;
	struct offset_store_config cfg;
	struct store_part *parts; /* owned */
	int32_t parts_count;
	struct htable groups;
	struct htable offsets;
	uint64_t charged;     /* sum of the groups' charged slots [O3] */
	uint64_t reserved;    /* sum of the groups' reserved slots */
	uint64_t md_bytes;    /* metadata bytes in the view */
	uint64_t md_reserved; /* metadata bytes of commits in flight */
	uint32_t ops;
	uint64_t skipped;
	int err;          /* sticky: the view missed a durable record (-ENOMEM) */
	uint8_t *scratch; /* owned: one record's key and value while building a batch */
	size_t scratch_cap;
};

static uint64_t entry_hash(const struct ogroup *grp, const char *topic, size_t len,
                           int32_t partition)
{
	uint64_t seed = grp->node.hash ^ ((uint64_t)(uint32_t)partition * 0x9e3779b97f4a7c15ull);
	return hash64_seed(topic, len, seed);
}

static struct ogroup *group_find(const struct offset_store *st, struct kstr name)
{
	if (name.len < 0)
		return NULL;
	uint64_t h = hash64(name.p, (size_t)name.len);
	for (struct hnode *x = htable_chain(&st->groups, h); x; x = x->next) {
		struct ogroup *grp = container_of(x, struct ogroup, node);
		if (x->hash == h && grp->name_len == name.len &&
		    memcmp(grp->name, name.p, (size_t)name.len) == 0)
			return grp;
	}
	return NULL;
}

static struct ogroup *group_new(struct offset_store *st, struct kstr name)
{
	ASSERT(name.len >= 0 && name.len <= INT16_MAX);
	struct ogroup *grp = calloc(1, sizeof(*grp) + (size_t)name.len);
	if (!grp)
		return NULL;
	memcpy(grp->name, name.p, (size_t)name.len);
	grp->name_len = (uint16_t)name.len;
	grp->part_index = offset_group_partition(name, st->parts_count);
	grp->node.hash = hash64(name.p, (size_t)name.len);
	htable_insert(&st->groups, &grp->node);
	return grp;
}

static struct kstr group_name(const struct ogroup *grp)
{
	return (struct kstr){ grp->name, grp->name_len };
}

static void group_free(struct offset_store *st, struct ogroup *grp)
{
	ASSERT(grp->count == 0 && grp->ops == 0 && grp->reserved == 0 && grp->charged == 0);
	htable_remove(&st->groups, &grp->node);
	free(grp);
}

static struct oentry *entry_find(const struct offset_store *st, const struct ogroup *grp,
                                 struct kstr topic, int32_t partition)
{
	if (topic.len < 0)
		return NULL;
	uint64_t h = entry_hash(grp, topic.p, (size_t)topic.len, partition);
	for (struct hnode *x = htable_chain(&st->offsets, h); x; x = x->next) {
		struct oentry *e = container_of(x, struct oentry, node);
		if (x->hash == h && e->grp == grp && e->partition == partition &&
		    e->topic_len == topic.len && memcmp(e->topic, topic.p, (size_t)topic.len) == 0)
			return e;
	}
	return NULL;
}

static struct oentry *entry_new(struct offset_store *st, struct ogroup *grp, struct kstr topic,
                                int32_t partition)
{
	ASSERT(topic.len >= 0 && topic.len <= INT16_MAX);
	struct oentry *e = calloc(1, sizeof(*e) + (size_t)topic.len);
	if (!e)
		return NULL;
	memcpy(e->topic, topic.p, (size_t)topic.len);
	e->topic_len = (uint16_t)topic.len;
	e->partition = partition;
	e->grp = grp;
	e->metadata_len = -1;
	e->node.hash = entry_hash(grp, topic.p, (size_t)topic.len, partition);
	htable_insert(&st->offsets, &e->node);
	e->prev = grp->tail;
	if (grp->tail)
		grp->tail->next = e;
	else
		grp->head = e;
	grp->tail = e;
	grp->count++;
	if (grp->count > grp->charged) {
		st->charged += grp->count - grp->charged;
		grp->charged = grp->count;
	}
	return e;
}

static void entry_remove(struct offset_store *st, struct oentry *e)
{
	struct ogroup *grp = e->grp;
	htable_remove(&st->offsets, &e->node);
	if (e->prev)
		e->prev->next = e->next;
	else
		grp->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		grp->tail = e->prev;
	grp->count--;
	if (grp->ops == 0) { /* [O3] */
		grp->charged--;
		st->charged--;
	}
	if (e->metadata_len > 0)
		st->md_bytes -= (uint64_t)e->metadata_len;
	free(e->metadata);
	free(e);
}

/* Removes every group of partition index from the view (nothing of it may be in flight). */
static void view_drop_partition(struct offset_store *st, int32_t index)
{
	for (size_t b = 0; b <= st->groups.mask; b++)
		for (struct hnode *x = st->groups.buckets[b], *next; x; x = next) {
			next = x->next;
			struct ogroup *grp = container_of(x, struct ogroup, node);
			if (index >= 0 && grp->part_index != index)
				continue;
			ASSERT(grp->ops == 0);
			while (grp->head)
				entry_remove(st, grp->head);
			group_free(st, grp);
		}
}

/*
 * Applies one record to the view. limits (a load): refuse what would pass the hard limits of
 * base/limits.h; a replay may pass the configured bounds on its way (they may have been lowered
 * since the log was written), never these. An operation's own records were admitted within the
 * configured bounds and cannot pass them [O3]. Returns 0, -TAPE_ETOOLARGE or -ENOMEM (the view
 * unchanged).
 */
static int view_apply(struct offset_store *st, const struct offset_record *r, bool limits)
{
	struct ogroup *grp = group_find(st, r->key.group);
	struct oentry *e = grp ? entry_find(st, grp, r->key.topic, r->key.partition) : NULL;
	if (r->tombstone) {
		if (e)
			entry_remove(st, e);
		if (grp && grp->count == 0 && grp->ops == 0)
			group_free(st, grp);
		return 0;
	}
	int32_t md_len = r->metadata_null ? -1 : r->value.metadata.len;
	int64_t md_delta =
	    (int64_t)(md_len > 0 ? md_len : 0) - (e && e->metadata_len > 0 ? e->metadata_len : 0);
	if (limits) {
		if (!grp && st->groups.count >= OFFSET_GROUPS_MAX)
			return -TAPE_ETOOLARGE;
		if (!e && ((grp && grp->count >= OFFSETS_PER_GROUP_MAX) ||
		           st->offsets.count >= OFFSETS_MAX))
			return -TAPE_ETOOLARGE;
		if ((int64_t)st->md_bytes + md_delta > (int64_t)OFFSET_METADATA_TOTAL_BYTES_MAX)
			return -TAPE_ETOOLARGE;
	}
	char *md = NULL;
	if (md_len > 0) {
		md = malloc((size_t)md_len);
		if (!md)
			return -ENOMEM;
		memcpy(md, r->value.metadata.p, (size_t)md_len);
	}
	bool created = false;
	if (!grp) {
		grp = group_new(st, r->key.group);
		created = true;
	}
	if (grp && !e)
		e = entry_new(st, grp, r->key.topic, r->key.partition);
	if (!e) {
		free(md);
		if (created && grp)
			group_free(st, grp);
		return -ENOMEM;
	}
	free(e->metadata);
	e->metadata = md;
	e->metadata_len = md_len;
	st->md_bytes = (uint64_t)((int64_t)st->md_bytes + md_delta);
	e->offset = r->value.offset;
	e->leader_epoch = r->value.leader_epoch;
	e->commit_timestamp_ms = r->value.commit_timestamp_ms;
	return 0;
}

static void committed_of(const struct oentry *e, struct offset_committed *out)
{
	out->topic = (struct kstr){ e->topic, e->topic_len };
	out->partition = e->partition;
	out->offset = e->offset;
	out->leader_epoch = e->leader_epoch;
	if (e->metadata_len < 0)
		out->metadata = KSTR_NULL;
	else
		out->metadata =
		    (struct kstr){ e->metadata_len ? e->metadata : "", e->metadata_len };
	out->commit_timestamp_ms = e->commit_timestamp_ms;
}

/* ---- building batches -------------------------------------------------------------------- */

/* The records of one batch being built, up to the partition's max.message.bytes. */
struct builder {
	uint8_t *recs; /* owned: the records section */
	size_t len;
	size_t cap;
	int32_t count;
	int64_t timestamp_ms;
	uint32_t max_bytes;
};

static void builder_init(struct builder *b, const struct store_part *sp, int64_t timestamp_ms)
{
	memset(b, 0, sizeof(*b));
	b->timestamp_ms = timestamp_ms;
	b->max_bytes = partition_config(sp->part)->max_batch_bytes;
}

static void builder_free(struct builder *b)
{
	free(b->recs);
	b->recs = NULL;
}

/* Adds one record (value NULL: a tombstone). 0; 1 when it does not fit beside the records
 * already there (finish the batch and add it to the next); -TAPE_ETOOLARGE when it does not
 * fit in a batch alone; -ENOMEM. */
static int builder_add(struct builder *b, const uint8_t *key, size_t key_len, const uint8_t *value,
                       size_t value_len, bool metadata_null)
{
	uint8_t header[2 * 5 + METADATA_NULL_HEADER_LEN];
	struct record_header mark = {
		.key_len = (int32_t)METADATA_NULL_HEADER_LEN,
		.key = (const uint8_t *)OFFSET_METADATA_NULL_HEADER,
		.value_len = -1,
	};
	struct record rec = {
		.offset_delta = b->count,
		.key_len = (int32_t)key_len,
		.key = key,
		.value_len = value ? (int32_t)value_len : -1,
		.value = value,
		.headers_count = metadata_null ? 1 : 0,
		.headers = header,
		.headers_len =
		    metadata_null ? record_header_encode(header, sizeof(header), &mark) : 0,
	};
	ASSERT(!metadata_null || rec.headers_len > 0);
	size_t n = record_encoded_size(&rec);
	if (RB_HEADER_BYTES + b->len + n > b->max_bytes)
		return b->count ? 1 : -TAPE_ETOOLARGE;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *p = realloc(b->recs, cap);
		if (!p)
			return -ENOMEM;
		b->recs = p;
		b->cap = cap;
	}
	ASSERT(record_encode(b->recs + b->len, b->cap - b->len, &rec) == n);
	b->len += n;
	b->count++;
	return 0;
}

/* The batch of the records added (malloc'ed, *len bytes), and an empty builder; NULL when out
 * of memory. */
static uint8_t *builder_finish(struct builder *b, uint32_t *len)
{
	ASSERT(b->count > 0);
	size_t total = RB_HEADER_BYTES + b->len;
	uint8_t *batch = malloc(total);
	if (!batch)
		return NULL;
	struct record_batch_header h = {
		.partition_leader_epoch = -1,
		.magic = RB_MAGIC_V2,
		.last_offset_delta = b->count - 1,
		.base_timestamp = b->timestamp_ms,
		.max_timestamp = b->timestamp_ms,
		.producer_id = RB_NO_PRODUCER_ID,
		.producer_epoch = -1,
		.base_sequence = RB_NO_SEQUENCE,
		.records_count = b->count,
	};
	ASSERT(record_batch_encode(batch, total, &h, b->recs, b->len) == total);
	*len = (uint32_t)total;
	b->len = 0;
	b->count = 0;
	return batch;
}

static uint8_t *scratch(struct offset_store *st, size_t n)
{
	if (n > st->scratch_cap) {
		uint8_t *p = realloc(st->scratch, n);
		if (!p)
			return NULL;
		st->scratch = p;
		st->scratch_cap = n;
	}
	return st->scratch;
}

/* Adds the record of one commit entry: key and value encoded in the scratch buffer. */
static int builder_add_commit(struct offset_store *st, struct builder *b, struct kstr group,
                              const struct offset_commit_entry *e, int64_t now_ms)
{
	struct offset_commit_key k = { group, e->topic, e->partition };
	struct offset_commit_value v = {
		.offset = e->offset,
		.leader_epoch = e->leader_epoch,
		.metadata = kstr_is_null(e->metadata) ? KSTR("") : e->metadata,
		.commit_timestamp_ms = now_ms,
	};
	size_t klen = offset_commit_key_size(&k), vlen = offset_commit_value_size(&v);
	uint8_t *buf = scratch(st, klen + vlen);
	if (!buf)
		return -ENOMEM;
	ASSERT(offset_commit_key_encode(buf, klen, &k) == klen);
	ASSERT(offset_commit_value_encode(buf + klen, vlen, &v) == vlen);
	return builder_add(b, buf, klen, buf + klen, vlen, kstr_is_null(e->metadata));
}

/* ---- operations in flight ---------------------------------------------------------------- */

/* What the caller waits for: one or more operations (a large deletion takes several). */
struct offset_req {
	offset_store_done_fn done;
	void *arg;
	uint32_t ops;
	int err;
};

/* One batch appended, waiting to be durable [O1, O2]. */
struct offset_op {
	struct partition_append a; /* first: the append's callback finds the op */
	struct offset_store *store;
	struct store_part *sp;
	struct offset_op *next; /* in sp's FIFO */
	struct ogroup *grp;     /* held: grp->ops counts this op */
	struct offset_req *req; /* NULL for expiry */
	uint8_t *batch;         /* owned; a.batches */
	uint32_t reserved;      /* slots reserved [O3] */
	uint64_t reserved_md;   /* metadata bytes reserved */
	bool written;
	int err;
};

static void drain(struct offset_store *st, struct store_part *sp);

static void op_appended(struct partition_append *a, int err)
{
	struct offset_op *op = (struct offset_op *)a;
	op->written = true;
	op->err = err;
	drain(op->store, op->sp);
}

/* Appends the batch built in b for grp. Returns 0 (the op is in flight, req counts it) or the
 * append's refusal (nothing in flight). */
static int op_submit(struct offset_store *st, struct ogroup *grp, struct offset_req *req,
                     struct builder *b, uint32_t reserved, uint64_t reserved_md)
{
	struct offset_op *op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	op->batch = builder_finish(b, &op->a.len);
	if (!op->batch) {
		free(op);
		return -ENOMEM;
	}
	struct store_part *sp = &st->parts[grp->part_index];
	op->a.batches = op->batch;
	op->a.origin = APPEND_CLIENT;
	op->a.done = op_appended;
	op->store = st;
	op->sp = sp;
	op->grp = grp;
	op->req = req;
	op->reserved = reserved;
	op->reserved_md = reserved_md;
	int rc = partition_append(sp->part, &op->a);
	if (rc < 0) {
		free(op->batch);
		free(op);
		return rc;
	}
	/* done is never called from inside partition_append, so linking now keeps the order. */
	if (sp->tail)
		sp->tail->next = op;
	else
		sp->head = op;
	sp->tail = op;
	sp->ops++;
	st->ops++;
	grp->ops++;
	grp->reserved += reserved;
	st->reserved += reserved;
	st->md_reserved += reserved_md;
	if (req)
		req->ops++;
	return 0;
}

/* [O2] */
static bool op_durable(const struct offset_op *op)
{
	const struct partition *p = op->sp->part;
	if (op->store->cfg.wait_for_high_watermark)
		return partition_high_watermark(p) > op->a.last_offset;
	int64_t end = partition_config(p)->flush_mode == FLUSH_FSYNC ? partition_durable_end(p)
	                                                             : partition_written_end(p);
	return end > op->a.last_offset;
}

/* Applies the records of a durable op to the view [O1]: the same bytes that were appended. */
static void op_apply(struct offset_store *st, struct offset_op *op)
{
	struct record_batch_header h;
	record_batch_header_read(op->batch, &h);
	struct record_iter it;
	struct record rec;
	record_iter_init(&it, op->batch + RB_RECORDS, op->a.len - RB_RECORDS, h.records_count);
	int rc;
	while ((rc = record_iter_next(&it, &rec)) == 1) {
		struct offset_record r;
		ASSERT(offset_record_decode(&rec, &r) == 0); /* our own encoding */
		int err = view_apply(st, &r, false);
		if (err < 0 && !st->err) {
			diag_error("offsets: the view misses a durable commit of group %.*s: %s; "
			           "reload the store",
			           (int)r.key.group.len, r.key.group.p, tape_strerror(err));
			st->err = err;
		}
	}
	ASSERT(rc == 0);
}

static void op_finish(struct offset_store *st, struct offset_op *op, int err)
{
	struct ogroup *grp = op->grp;
	struct store_part *sp = op->sp;
	grp->reserved -= op->reserved;
	st->reserved -= op->reserved;
	st->md_reserved -= op->reserved_md;
	grp->ops--;
	sp->ops--;
	st->ops--;
	if (grp->ops == 0) { /* slots freed meanwhile are released now [O3] */
		st->charged -= grp->charged - grp->count;
		grp->charged = grp->count;
		if (grp->count == 0)
			group_free(st, grp);
	}
	struct offset_req *req = op->req;
	free(op->batch);
	free(op);
	if (!req) {
		if (err < 0)
			diag_warn("offsets: expiring offsets failed: %s", tape_strerror(err));
		return;
	}
	if (err < 0 && !req->err)
		req->err = err;
	if (--req->ops == 0) {
		offset_store_done_fn done = req->done;
		void *arg = req->arg;
		int rc = req->err;
		free(req);
		done(arg, rc);
	}
}

/* Completes the operations at the head of sp's FIFO that are durable or failed, in order. A
 * done callback may start new operations (they join the tail); a nested call only asks the
 * running one for another pass. */
static void drain(struct offset_store *st, struct store_part *sp)
{
	if (sp->draining) {
		sp->again = true;
		return;
	}
	sp->draining = true;
	do {
		sp->again = false;
		while (sp->head) {
			struct offset_op *op = sp->head;
			int err;
			if (op->written && op->err < 0)
				err = op->err;
			else if (!op->written)
				break;
			else if (op_durable(op))
				err = 0;
			else if (sp->abandoned)
				err = sp->abandoned;
			else if (partition_failed(sp->part))
				err =
				    -TAPE_EFAILED; /* written, but it will never be durable (D4) */
			else
				break;
			sp->head = op->next;
			if (!sp->head)
				sp->tail = NULL;
			if (err == 0)
				op_apply(st, op);
			op_finish(st, op, err);
		}
	} while (sp->again);
	sp->draining = false;
}

void offset_store_abandon(struct offset_store *st, int32_t index, int err)
{
	ASSERT(index >= 0 && index < st->parts_count && err <= 0);
	st->parts[index].abandoned = err;
	if (err)
		drain(st, &st->parts[index]);
}

void offset_store_progress(struct offset_store *st, int32_t index)
{
	ASSERT(index >= 0 && index < st->parts_count);
	drain(st, &st->parts[index]);
}

/* ---- open, close, configuration ---------------------------------------------------------- */

void offset_store_config_default(struct offset_store_config *cfg)
{
	cfg->groups_max = OFFSET_GROUPS_MAX;
	cfg->offsets_per_group_max = OFFSETS_PER_GROUP_MAX;
	cfg->offsets_max = OFFSETS_MAX;
	cfg->metadata_max_bytes = OFFSET_METADATA_BYTES_MAX;
	cfg->metadata_total_bytes_max = OFFSET_METADATA_TOTAL_BYTES_MAX;
	cfg->wait_for_high_watermark = false;
}

int offset_store_config_check(const struct offset_store_config *cfg)
{
	if (cfg->groups_max == 0 || cfg->groups_max > OFFSET_GROUPS_MAX ||
	    cfg->offsets_per_group_max == 0 || cfg->offsets_per_group_max > OFFSETS_PER_GROUP_MAX ||
	    cfg->offsets_max == 0 || cfg->offsets_max > OFFSETS_MAX ||
	    cfg->metadata_max_bytes > OFFSET_METADATA_BYTES_MAX ||
	    cfg->metadata_total_bytes_max > OFFSET_METADATA_TOTAL_BYTES_MAX)
		return -TAPE_ECONFIG;
	return 0;
}

int offset_store_open(struct reactor *r, struct partition *const *parts, int32_t parts_count,
                      const struct offset_store_config *cfg, struct offset_store **out)
{
	if (parts_count < 1 || parts_count > TOPIC_PARTITIONS_MAX || offset_store_config_check(cfg))
		return -TAPE_ECONFIG;
	struct offset_store *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->reactor = r;
	st->cfg = *cfg;
	st->parts_count = parts_count;
	st->parts = calloc((size_t)parts_count, sizeof(*st->parts));
	if (!st->parts || htable_init(&st->groups) < 0 || htable_init(&st->offsets) < 0) {
		free(st->groups.buckets);
		free(st->parts);
		free(st);
		return -ENOMEM;
	}
	for (int32_t i = 0; i < parts_count; i++)
		st->parts[i].part = parts[i];
	*out = st;
	return 0;
}

void offset_store_close(struct offset_store *st)
{
	ASSERT(st->ops == 0);
	view_drop_partition(st, -1);
	free(st->groups.buckets);
	free(st->offsets.buckets);
	free(st->parts);
	free(st->scratch);
	free(st);
}

void offset_store_set_partition(struct offset_store *st, int32_t index, struct partition *part)
{
	ASSERT(index >= 0 && index < st->parts_count && st->parts[index].ops == 0);
	st->parts[index].part = part;
}

int32_t offset_store_partitions_count(const struct offset_store *st)
{
	return st->parts_count;
}

int32_t offset_store_partition_of(const struct offset_store *st, struct kstr group)
{
	return offset_group_partition(group, st->parts_count);
}

/* ---- commit ------------------------------------------------------------------------------ */

int offset_store_check_entry(const struct offset_store *st, const struct offset_commit_entry *e)
{
	if (e->topic.len <= 0 || e->topic.len > TOPIC_NAME_BYTES_MAX || e->partition < 0)
		return -TAPE_EPROTO;
	if (e->metadata.len > (int32_t)st->cfg.metadata_max_bytes)
		return -TAPE_EMETADATA;
	return 0;
}

/* Admission of a commit [O3]: fresh keys not in the view, md metadata bytes. */
static int admit(const struct offset_store *st, const struct ogroup *grp, uint64_t fresh,
                 uint64_t md)
{
	const struct offset_store_config *cfg = &st->cfg;
	if (!grp && st->groups.count >= cfg->groups_max)
		return -TAPE_ETOOLARGE;
	uint64_t held = grp ? (uint64_t)grp->charged + grp->reserved : 0;
	/* Only what grows is checked: a view loaded above lowered bounds still takes updates. */
	if (fresh && (held + fresh > cfg->offsets_per_group_max ||
	              st->charged + st->reserved + fresh > cfg->offsets_max))
		return -TAPE_ETOOLARGE;
	if (md && st->md_bytes + st->md_reserved + md > cfg->metadata_total_bytes_max)
		return -TAPE_ETOOLARGE;
	return 0;
}

static struct offset_req *req_new(offset_store_done_fn done, void *arg)
{
	struct offset_req *req = calloc(1, sizeof(*req));
	if (req) {
		req->done = done;
		req->arg = arg;
	}
	return req;
}

int offset_store_commit(struct offset_store *st, struct kstr group,
                        const struct offset_commit_entry *entries, size_t count, int64_t now_ms,
                        offset_store_done_fn done, void *arg)
{
	if (st->err)
		return st->err;
	if (count == 0)
		return 0;
	if (!str_encodable(group))
		return -TAPE_EPROTO;
	uint64_t md = 0;
	for (size_t i = 0; i < count; i++) {
		int rc = offset_store_check_entry(st, &entries[i]);
		if (rc < 0)
			return rc;
		md += str_len(entries[i].metadata);
	}
	if (count > st->cfg.offsets_per_group_max)
		return -TAPE_ETOOLARGE;
	struct ogroup *grp = group_find(st, group);
	uint32_t fresh = 0;
	for (size_t i = 0; i < count; i++)
		fresh += !grp || !entry_find(st, grp, entries[i].topic, entries[i].partition);
	int rc = admit(st, grp, fresh, md);
	if (rc < 0)
		return rc;

	struct builder b;
	builder_init(&b, &st->parts[offset_group_partition(group, st->parts_count)], now_ms);
	for (size_t i = 0; i < count && rc == 0; i++) {
		rc = builder_add_commit(st, &b, group, &entries[i], now_ms);
		if (rc == 1)
			rc = -TAPE_ETOOLARGE; /* a commit is one batch */
	}
	struct offset_req *req = rc == 0 ? req_new(done, arg) : NULL;
	if (rc == 0 && !req)
		rc = -ENOMEM;
	bool created = false;
	if (rc == 0 && !grp) {
		grp = group_new(st, group);
		created = true;
		if (!grp)
			rc = -ENOMEM;
	}
	if (rc == 0)
		rc = op_submit(st, grp, req, &b, fresh, md);
	builder_free(&b);
	if (rc < 0) {
		free(req);
		if (created && grp)
			group_free(st, grp);
		return rc;
	}
	return 1;
}

/* ---- reading the view -------------------------------------------------------------------- */

int offset_store_fetch(const struct offset_store *st, struct kstr group, struct kstr topic,
                       int32_t partition, struct offset_committed *out)
{
	if (st->err)
		return st->err;
	const struct ogroup *grp = group_find(st, group);
	const struct oentry *e = grp ? entry_find(st, grp, topic, partition) : NULL;
	if (!e)
		return 0;
	committed_of(e, out);
	return 1;
}

int offset_store_each(const struct offset_store *st, struct kstr group,
                      void (*fn)(void *arg, const struct offset_committed *c), void *arg)
{
	if (st->err)
		return st->err;
	const struct ogroup *grp = group_find(st, group);
	if (!grp)
		return 0;
	int n = 0;
	for (const struct oentry *e = grp->head; e; e = e->next, n++) {
		struct offset_committed c;
		committed_of(e, &c);
		fn(arg, &c);
	}
	return n;
}

void offset_store_each_group(const struct offset_store *st,
                             void (*fn)(void *arg, struct kstr group), void *arg)
{
	for (size_t b = 0; b <= st->groups.mask; b++)
		for (const struct hnode *x = st->groups.buckets[b]; x; x = x->next)
			fn(arg, group_name(container_of(x, const struct ogroup, node)));
}

uint32_t offset_store_group_count(const struct offset_store *st, struct kstr group)
{
	const struct ogroup *grp = group_find(st, group);
	return grp ? grp->count : 0;
}

uint32_t offset_store_groups_count(const struct offset_store *st)
{
	return (uint32_t)st->groups.count;
}

uint64_t offset_store_offsets_count(const struct offset_store *st)
{
	return st->offsets.count;
}

uint32_t offset_store_inflight(const struct offset_store *st)
{
	return st->ops;
}

uint64_t offset_store_skipped(const struct offset_store *st)
{
	return st->skipped;
}

/* ---- tombstones: delete and expire ------------------------------------------------------- */

/* Writes tombstones for one group as batches of at most max.message.bytes. */
struct tombstones {
	struct offset_store *st;
	struct ogroup *grp;
	struct offset_req *req; /* NULL for expiry */
	struct builder b;
	int64_t count;
	int err; /* the first refusal; nothing more is written after it */
	bool submitted;
};

static void tombstones_flush(struct tombstones *t)
{
	if (t->err || t->b.count == 0)
		return;
	int rc = op_submit(t->st, t->grp, t->req, &t->b, 0, 0);
	if (rc < 0)
		t->err = rc;
	else
		t->submitted = true;
}

static void tombstones_add(struct tombstones *t, const uint8_t *key, size_t key_len)
{
	if (t->err)
		return;
	int rc = builder_add(&t->b, key, key_len, NULL, 0, false);
	if (rc == 1) {
		tombstones_flush(t);
		if (t->err)
			return;
		rc = builder_add(&t->b, key, key_len, NULL, 0, false);
	}
	if (rc < 0)
		t->err = rc;
	else
		t->count++;
}

static void tombstones_add_entry(struct tombstones *t, const struct oentry *e)
{
	struct offset_commit_key k = {
		group_name(t->grp),
		(struct kstr){ e->topic, e->topic_len },
		e->partition,
	};
	size_t n = offset_commit_key_size(&k);
	uint8_t *buf = scratch(t->st, n);
	if (!buf) {
		t->err = t->err ? t->err : -ENOMEM;
		return;
	}
	ASSERT(offset_commit_key_encode(buf, n, &k) == n);
	tombstones_add(t, buf, n);
}

int offset_store_delete_group(struct offset_store *st, struct kstr group, int64_t now_ms,
                              offset_store_done_fn done, void *arg)
{
	if (st->err)
		return st->err;
	struct ogroup *grp = group_find(st, group);
	if (!grp)
		return 0;
	struct tombstones t = { .st = st, .grp = grp, .req = req_new(done, arg) };
	if (!t.req)
		return -ENOMEM;
	struct store_part *sp = &st->parts[grp->part_index];
	builder_init(&t.b, sp, now_ms);
	for (const struct oentry *e = grp->head; e; e = e->next)
		tombstones_add_entry(&t, e);
	/* Keys of commits in flight: they land before these tombstones, which must delete them
	 * too. (The batches are being written from; reading them is fine.) */
	for (struct offset_op *op = sp->head; op; op = op->next) {
		if (op->grp != grp)
			continue;
		struct record_batch_header h;
		record_batch_header_read(op->batch, &h);
		struct record_iter it;
		struct record rec;
		record_iter_init(&it, op->batch + RB_RECORDS, op->a.len - RB_RECORDS,
		                 h.records_count);
		while (record_iter_next(&it, &rec) == 1)
			if (rec.value_len >= 0)
				tombstones_add(&t, rec.key, (size_t)rec.key_len);
	}
	tombstones_flush(&t);
	builder_free(&t.b);
	if (!t.submitted) {
		free(t.req);
		return t.err;
	}
	if (t.err) /* part of it is in flight: done reports the error */
		t.req->err = t.err;
	return 1;
}

int64_t offset_store_expire(struct offset_store *st, int64_t now_ms, int64_t retention_ms,
                            offset_store_empty_since_fn empty_since, void *arg)
{
	if (st->err)
		return st->err;
	int64_t expired = 0;
	for (size_t b = 0; b <= st->groups.mask; b++)
		for (struct hnode *x = st->groups.buckets[b]; x; x = x->next) {
			struct ogroup *grp = container_of(x, struct ogroup, node);
			if (grp->ops > 0)
				continue;
			int64_t since = empty_since(arg, group_name(grp));
			if (since < 0)
				continue;
			struct tombstones t = { .st = st, .grp = grp };
			builder_init(&t.b, &st->parts[grp->part_index], now_ms);
			for (const struct oentry *e = grp->head; e; e = e->next) {
				int64_t base =
				    since > e->commit_timestamp_ms ? since : e->commit_timestamp_ms;
				if (now_ms - base >= retention_ms)
					tombstones_add_entry(&t, e);
			}
			tombstones_flush(&t);
			builder_free(&t.b);
			expired += t.count;
			if (t.err)
				return t.err;
		}
	return expired;
}

/* ---- load -------------------------------------------------------------------------------- */

struct load {
	struct offset_store *st;
	int32_t index;
	int64_t log_start;
	struct compression_buf plain;
	uint64_t warned;
};

struct load_read {
	struct log_read rd;
	bool done;
	int err;
};

static void load_read_done(struct log_read *rd, int err)
{
	struct load_read *lr = container_of(rd, struct load_read, rd);
	lr->done = true;
	lr->err = err;
}

static void load_skip(struct load *ld, const struct offset_record *r, const char *why)
{
	ld->st->skipped++;
	if (ld->warned++ >= LOAD_WARNINGS_MAX)
		return;
	if (r)
		diag_warn("offsets: partition %d: skipping a record of group %.*s: %s", ld->index,
		          (int)r->key.group.len, r->key.group.p, why);
	else
		diag_warn("offsets: partition %d: skipping a record: %s", ld->index, why);
}

static int load_batch(struct load *ld, const uint8_t *batch, const struct record_batch_header *h)
{
	if (h->attributes & RB_ATTR_CONTROL)
		return 0;
	const uint8_t *records = batch + RB_RECORDS;
	size_t len = record_batch_size(h) - RB_RECORDS;
	if (record_batch_codec(h)) {
		ld->plain.len = 0;
		int rc = compression_decompress(record_batch_codec(h), records, len, &ld->plain,
		                                DECOMPRESSED_BYTES_MAX);
		if (rc < 0)
			return rc == -ENOMEM ? rc : -TAPE_ECORRUPT;
		records = ld->plain.p;
		len = ld->plain.len;
	}
	struct record_iter it;
	struct record rec;
	record_iter_init(&it, records, len, h->records_count);
	int rc;
	while ((rc = record_iter_next(&it, &rec)) == 1) {
		if (h->base_offset + rec.offset_delta < ld->log_start)
			continue;
		struct offset_record r;
		int d = offset_record_decode(&rec, &r);
		if (d == 1) {
			ld->st->skipped++; /* group metadata and other group records */
			continue;
		}
		if (d < 0) {
			load_skip(ld, NULL, "malformed key or value");
			continue;
		}
		if (offset_group_partition(r.key.group, ld->st->parts_count) != ld->index) {
			load_skip(ld, &r, "the group belongs to another partition");
			continue;
		}
		int err = view_apply(ld->st, &r, true);
		if (err < 0)
			return err;
	}
	return rc < 0 ? -TAPE_ECORRUPT : 0;
}

/* Every batch of one range of a read result; *next follows the last one. */
static int load_range(struct load *ld, const struct log_range *range, int64_t *next)
{
	struct batch_reader br;
	int rc = batch_reader_init(&br, range->fd, range->position, range->position + range->len,
	                           RB_CHECK_CRC, BATCH_BYTES_MAX);
	if (rc < 0)
		return rc;
	for (;;) {
		const uint8_t *batch;
		struct record_batch_header h;
		uint64_t pos;
		enum batch_status s = batch_reader_next(&br, &batch, &h, &pos);
		if (s == BATCH_END)
			break;
		if (s != BATCH_OK) {
			rc = br.err < 0 && br.err > -TAPE_ERRNO_BASE ? br.err : -TAPE_ECORRUPT;
			diag_error("offsets: partition %d: %s batch at position %llu: %s",
			           ld->index, batch_status_name(s), (unsigned long long)pos,
			           tape_strerror(rc));
			break;
		}
		*next = record_batch_last_offset(&h) + 1;
		rc = load_batch(ld, batch, &h);
		if (rc < 0)
			break;
	}
	batch_reader_free(&br);
	return rc;
}

/* One read of the log from offset; *next is where the next one starts. */
static int load_read(struct load *ld, struct partition *p, int64_t offset, int64_t end,
                     int64_t *next)
{
	struct load_read lr;
	memset(&lr, 0, sizeof(lr));
	lr.rd.offset = offset;
	lr.rd.max_bytes = OFFSETS_LOAD_READ_BYTES;
	lr.rd.max_offset = end;
	lr.rd.done = load_read_done;
	int rc = log_read_start(p, &lr.rd);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		rc = reactor_run_until(ld->st->reactor, &lr.done);
		if (!lr.done) /* still in flight: its segments stay pinned rather than freed under
		                 it */
			return rc < 0 ? rc : -EIO;
		rc = lr.err;
	}
	for (unsigned i = 0; rc == 0 && i < lr.rd.ranges_count; i++)
		rc = load_range(ld, &lr.rd.ranges[i], next);
	log_read_release(&lr.rd);
	return rc;
}

int offset_store_load_partition(struct offset_store *st, int32_t index)
{
	ASSERT(index >= 0 && index < st->parts_count);
	struct store_part *sp = &st->parts[index];
	ASSERT(sp->ops == 0);
	view_drop_partition(st, index);
	struct partition *p = sp->part;
	struct load ld = { .st = st, .index = index, .log_start = partition_log_start_offset(p) };
	int64_t offset = ld.log_start, end = partition_written_end(p);
	int rc = 0;
	while (offset < end) {
		int64_t next = offset;
		rc = load_read(&ld, p, offset, end, &next);
		if (rc < 0)
			break;
		if (next <= offset) {
			rc = -TAPE_ECORRUPT; /* a read that did not advance: never loop on it */
			break;
		}
		offset = next;
	}
	free(ld.plain.p);
	if (ld.warned > LOAD_WARNINGS_MAX)
		diag_warn("offsets: partition %d: %llu records skipped in all", index,
		          (unsigned long long)ld.warned);
	if (rc < 0) {
		diag_error("offsets: loading partition %d failed at offset %lld: %s", index,
		           (long long)offset, tape_strerror(rc));
		view_drop_partition(st, index);
	}
	return rc;
}

int offset_store_load(struct offset_store *st)
{
	ASSERT(st->ops == 0);
	st->err = 0;
	int first = 0;
	for (int32_t i = 0; i < st->parts_count; i++) {
		int rc = offset_store_load_partition(st, i);
		if (rc < 0 && !first)
			first = rc;
	}
	const struct offset_store_config *cfg = &st->cfg;
	if (st->groups.count > cfg->groups_max || st->offsets.count > cfg->offsets_max ||
	    st->md_bytes > cfg->metadata_total_bytes_max)
		diag_warn(
		    "offsets: the log holds %zu groups, %zu offsets, %llu metadata bytes: "
		    "over the configured bounds; commits that would grow the view are refused",
		    st->groups.count, st->offsets.count, (unsigned long long)st->md_bytes);
	return first;
}
