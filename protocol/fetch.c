/*
 * protocol/fetch.c: the Fetch (1) codec, v4-11; layouts, defaults, external records and
 * lifetimes in fetch.h. It owns the wire shape only: which batches to return, sessions and
 * long polls are the broker's, and where external record bytes come from is its caller's.
 */
#include "protocol/fetch.h"

#include "base/errors.h"

/* The smallest encodings, for checking array counts against the bytes left. */
#define TOPIC_MIN_BYTES 6 /* name length + partitions count */
#define ABORTED_TRANSACTION_BYTES 16

static bool version_ok(int16_t version)
{
	return version >= FETCH_VERSION_MIN && version <= FETCH_VERSION_MAX;
}

static size_t request_partition_min_bytes(int16_t version)
{
	return 4 + (version >= 9 ? 4 : 0) + 8 + (version >= 5 ? 8 : 0) + 4;
}

/* index, error, high watermark, LSO, [log start], aborted count, [replica], records length */
static size_t response_partition_min_bytes(int16_t version)
{
	return 4 + 2 + 8 + 8 + (version >= 5 ? 8 : 0) + 4 + (version >= 11 ? 4 : 0) + 4;
}

/* ---- request ----------------------------------------------------------------------------- */

static void get_request_topic(struct cursor *c, struct arena *a, int16_t version,
                              struct fetch_request_topic *t)
{
	t->topic = kafka_get_string(c, false, false);
	t->partitions_count =
	    kafka_get_array_len(c, false, false, request_partition_min_bytes(version));
	t->partitions = kafka_alloc_array(c, a, t->partitions_count, sizeof(*t->partitions));
	for (int32_t i = 0; i < t->partitions_count && cursor_ok(c); i++) {
		struct fetch_request_partition *p = &t->partitions[i];
		p->partition = cursor_i32(c);
		p->current_leader_epoch = version >= 9 ? cursor_i32(c) : -1;
		p->fetch_offset = cursor_i64(c);
		p->log_start_offset = version >= 5 ? cursor_i64(c) : -1;
		p->partition_max_bytes = cursor_i32(c);
	}
}

static void get_forgotten_topic(struct cursor *c, struct arena *a,
                                struct fetch_request_forgotten_topic *t)
{
	t->topic = kafka_get_string(c, false, false);
	t->partitions = kafka_get_int32_array(c, a, false, false, &t->partitions_count);
}

int fetch_request_decode(struct cursor *c, struct arena *a, int16_t version,
                         struct fetch_request *out)
{
	*out = (struct fetch_request){ .session_epoch = -1, .rack_id = KSTR("") };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->replica_id = cursor_i32(c);
	out->max_wait_ms = cursor_i32(c);
	out->min_bytes = cursor_i32(c);
	out->max_bytes = cursor_i32(c);
	out->isolation_level = cursor_i8(c);
	if (version >= 7) {
		out->session_id = cursor_i32(c);
		out->session_epoch = cursor_i32(c);
	}
	out->topics_count = kafka_get_array_len(c, false, false, TOPIC_MIN_BYTES);
	out->topics = kafka_alloc_array(c, a, out->topics_count, sizeof(*out->topics));
	for (int32_t i = 0; i < out->topics_count && cursor_ok(c); i++)
		get_request_topic(c, a, version, &out->topics[i]);
	if (version >= 7) {
		out->forgotten_topics_data_count =
		    kafka_get_array_len(c, false, false, TOPIC_MIN_BYTES);
		out->forgotten_topics_data = kafka_alloc_array(
		    c, a, out->forgotten_topics_data_count, sizeof(*out->forgotten_topics_data));
		for (int32_t i = 0; i < out->forgotten_topics_data_count && cursor_ok(c); i++)
			get_forgotten_topic(c, a, &out->forgotten_topics_data[i]);
	}
	if (version >= 11)
		out->rack_id = kafka_get_string(c, false, false);
	return kafka_decode_end(c);
}

static void put_request_topic(struct buf *b, int16_t version, const struct fetch_request_topic *t)
{
	kafka_put_string(b, t->topic, false);
	kafka_put_array_len(b, t->partitions_count, false);
	for (int32_t i = 0; i < t->partitions_count; i++) {
		const struct fetch_request_partition *p = &t->partitions[i];
		buf_i32(b, p->partition);
		if (version >= 9)
			buf_i32(b, p->current_leader_epoch);
		buf_i64(b, p->fetch_offset);
		if (version >= 5)
			buf_i64(b, p->log_start_offset);
		buf_i32(b, p->partition_max_bytes);
	}
}

void fetch_request_encode(struct buf *b, int16_t version, const struct fetch_request *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	buf_i32(b, r->replica_id);
	buf_i32(b, r->max_wait_ms);
	buf_i32(b, r->min_bytes);
	buf_i32(b, r->max_bytes);
	buf_u8(b, (uint8_t)r->isolation_level);
	if (version >= 7) {
		buf_i32(b, r->session_id);
		buf_i32(b, r->session_epoch);
	}
	kafka_put_array_len(b, r->topics_count, false);
	for (int32_t i = 0; i < r->topics_count; i++)
		put_request_topic(b, version, &r->topics[i]);
	if (version >= 7) {
		kafka_put_array_len(b, r->forgotten_topics_data_count, false);
		for (int32_t i = 0; i < r->forgotten_topics_data_count; i++) {
			const struct fetch_request_forgotten_topic *t =
			    &r->forgotten_topics_data[i];
			kafka_put_string(b, t->topic, false);
			kafka_put_int32_array(b, t->partitions, t->partitions_count, false);
		}
	}
	if (version >= 11)
		kafka_put_string(b, r->rack_id, false);
}

/* ---- response ---------------------------------------------------------------------------- */

static bool records_external(struct kbytes records)
{
	return records.p == NULL && records.len >= 0;
}

size_t fetch_response_external_count(const struct fetch_response *r)
{
	size_t n = 0;
	for (int32_t i = 0; i < r->responses_count; i++)
		for (int32_t j = 0; j < r->responses[i].partitions_count; j++)
			n += records_external(r->responses[i].partitions[j].records);
	return n;
}

int64_t fetch_response_external_bytes(const struct fetch_response *r)
{
	int64_t n = 0;
	for (int32_t i = 0; i < r->responses_count; i++) {
		for (int32_t j = 0; j < r->responses[i].partitions_count; j++) {
			struct kbytes records = r->responses[i].partitions[j].records;
			if (records_external(records))
				n += records.len;
		}
	}
	return n;
}

/* Where external records' bytes go: the holes array the caller gave, and how full it is. */
struct holes {
	size_t *pos;
	size_t cap;
	size_t count;
};

static void put_records(struct buf *b, struct kbytes records, struct holes *h)
{
	if (!records_external(records)) {
		kafka_put_bytes(b, records, false);
		return;
	}
	buf_i32(b, records.len);
	if (h->count == h->cap) {
		buf_fail(b);
		return;
	}
	h->pos[h->count++] = b->len;
}

static void put_response_partition(struct buf *b, int16_t version,
                                   const struct fetch_response_partition *p, struct holes *h)
{
	buf_i32(b, p->partition_index);
	buf_i16(b, p->error_code);
	buf_i64(b, p->high_watermark);
	buf_i64(b, p->last_stable_offset);
	if (version >= 5)
		buf_i64(b, p->log_start_offset);
	kafka_put_array_len(b, p->aborted_transactions_count, false);
	for (int32_t i = 0; i < p->aborted_transactions_count; i++) {
		buf_i64(b, p->aborted_transactions[i].producer_id);
		buf_i64(b, p->aborted_transactions[i].first_offset);
	}
	if (version >= 11)
		buf_i32(b, p->preferred_read_replica);
	put_records(b, p->records, h);
}

void fetch_response_encode(struct buf *b, int16_t version, const struct fetch_response *r,
                           size_t *holes, size_t holes_cap, size_t *holes_count)
{
	struct holes h = { holes, holes ? holes_cap : 0, 0 };
	*holes_count = 0;
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	buf_i32(b, r->throttle_time_ms);
	if (version >= 7) {
		buf_i16(b, r->error_code);
		buf_i32(b, r->session_id);
	}
	kafka_put_array_len(b, r->responses_count, false);
	for (int32_t i = 0; i < r->responses_count; i++) {
		const struct fetch_response_topic *t = &r->responses[i];
		kafka_put_string(b, t->topic, false);
		kafka_put_array_len(b, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count; j++)
			put_response_partition(b, version, &t->partitions[j], &h);
	}
	*holes_count = h.count;
}

static void get_response_partition(struct cursor *c, struct arena *a, int16_t version,
                                   struct fetch_response_partition *p)
{
	p->partition_index = cursor_i32(c);
	p->error_code = cursor_i16(c);
	p->high_watermark = cursor_i64(c);
	p->last_stable_offset = cursor_i64(c);
	p->log_start_offset = version >= 5 ? cursor_i64(c) : -1;
	p->aborted_transactions_count =
	    kafka_get_array_len(c, false, true, ABORTED_TRANSACTION_BYTES);
	p->aborted_transactions = kafka_alloc_array(c, a, p->aborted_transactions_count,
	                                            sizeof(*p->aborted_transactions));
	for (int32_t i = 0; i < p->aborted_transactions_count && cursor_ok(c); i++) {
		p->aborted_transactions[i].producer_id = cursor_i64(c);
		p->aborted_transactions[i].first_offset = cursor_i64(c);
	}
	p->preferred_read_replica = version >= 11 ? cursor_i32(c) : -1;
	p->records = kafka_get_bytes(c, false, true);
}

static void get_response_topic(struct cursor *c, struct arena *a, int16_t version,
                               struct fetch_response_topic *t)
{
	t->topic = kafka_get_string(c, false, false);
	t->partitions_count =
	    kafka_get_array_len(c, false, false, response_partition_min_bytes(version));
	t->partitions = kafka_alloc_array(c, a, t->partitions_count, sizeof(*t->partitions));
	for (int32_t i = 0; i < t->partitions_count && cursor_ok(c); i++)
		get_response_partition(c, a, version, &t->partitions[i]);
}

int fetch_response_decode(struct cursor *c, struct arena *a, int16_t version,
                          struct fetch_response *out)
{
	*out = (struct fetch_response){ 0 };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	out->throttle_time_ms = cursor_i32(c);
	if (version >= 7) {
		out->error_code = cursor_i16(c);
		out->session_id = cursor_i32(c);
	}
	out->responses_count = kafka_get_array_len(c, false, false, TOPIC_MIN_BYTES);
	out->responses = kafka_alloc_array(c, a, out->responses_count, sizeof(*out->responses));
	for (int32_t i = 0; i < out->responses_count && cursor_ok(c); i++)
		get_response_topic(c, a, version, &out->responses[i]);
	return kafka_decode_end(c);
}
