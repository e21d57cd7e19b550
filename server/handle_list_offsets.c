/*
 * server/handle_list_offsets.c: ListOffsets v1-3: -2 the log start offset, -1 the high
 * watermark (the last stable offset too: there are no transactions), any other timestamp the
 * first record at or after it (offset and timestamp -1 when there is none), found through the
 * time index. Partitions are looked up one after another.
 */
#include "server/handlers.h"

#include "base/assert.h"
#include "log/log_read.h"
#include "protocol/errors.h"
#include "protocol/list_offsets.h"
#include "server/broker.h"
#include "server/kafka_error.h"
#include "server/replica.h"

#include <string.h>

#define LIST_OFFSETS_EARLIEST (-2)
#define LIST_OFFSETS_LATEST (-1)

struct list_state {
	struct server *srv;
	struct request *req;
	struct list_offsets_request r;
	struct list_offsets_response resp;
	int32_t topic, part; /* the next partition to answer */
	struct log_read rd;
	bool reading;
};

static void step(struct list_state *st);

static void looked_up(struct log_read *rd, int err)
{
	struct list_state *st = container_of(rd, struct list_state, rd);
	struct list_offsets_response_partition *out =
	    &st->resp.topics[st->topic].partitions[st->part];
	if (err < 0) {
		out->error_code = kafka_error_from(err);
	} else {
		out->offset = rd->found_offset;
		out->timestamp = rd->found_timestamp;
	}
	log_read_release(rd);
	st->reading = false;
	st->part++;
	step(st);
}

/* Answers one partition; returns false when a lookup is under way. */
static bool answer_part(struct list_state *st, struct list_offsets_request_partition *in,
                        struct list_offsets_response_partition *out, struct kstr topic)
{
	*out = (struct list_offsets_response_partition){
		.partition_index = in->partition_index,
		.timestamp = -1,
		.offset = -1,
	};
	struct pslot *slot = broker_slot(st->srv->broker, topic, in->partition_index);
	if (!slot) {
		out->error_code = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
		return true;
	}
	struct partition *p = slot->topic->parts[slot->index];
	out->error_code = replica_leader_check(st->srv, slot, -1);
	if (out->error_code != KAFKA_NONE)
		return true;
	if (in->timestamp == LIST_OFFSETS_EARLIEST) {
		out->offset = partition_log_start_offset(p);
		return true;
	}
	if (in->timestamp == LIST_OFFSETS_LATEST) {
		out->offset = partition_high_watermark(p);
		return true;
	}
	if (in->timestamp < 0) {
		out->error_code = KAFKA_INVALID_REQUEST; /* -3 (max timestamp) is v7+ */
		return true;
	}
	memset(&st->rd, 0, sizeof(st->rd));
	st->rd.done = looked_up;
	int rc = log_offset_for_time(p, &st->rd, in->timestamp);
	if (rc < 0) {
		out->error_code = kafka_error_from(rc);
		return true;
	}
	if (rc == 1) {
		st->reading = true;
		return false;
	}
	out->offset = st->rd.found_offset;
	out->timestamp = st->rd.found_timestamp;
	log_read_release(&st->rd);
	return true;
}

static void step(struct list_state *st)
{
	for (; st->topic < st->r.topics_count; st->topic++, st->part = 0) {
		struct list_offsets_request_topic *in = &st->r.topics[st->topic];
		struct list_offsets_response_topic *out = &st->resp.topics[st->topic];
		for (; st->part < in->partitions_count; st->part++)
			if (!answer_part(st, &in->partitions[st->part], &out->partitions[st->part],
			                 in->name))
				return; /* looked_up() continues */
	}
	list_offsets_response_encode(&st->req->resp, st->req->hdr.api_version, &st->resp);
	request_finish(st->req);
}

void handle_list_offsets(struct server *srv, struct request *req)
{
	struct list_state *st = arena_alloc(&req->arena, sizeof(*st));
	if (!st || list_offsets_request_decode(&req->body, &req->arena, req->hdr.api_version,
	                                       &st->r) < 0) {
		request_fail(req, "malformed ListOffsets");
		return;
	}
	st->srv = srv;
	st->req = req;
	st->resp.topics_count = st->r.topics_count;
	st->resp.topics =
	    arena_array(&req->arena, (size_t)st->r.topics_count, sizeof(*st->resp.topics));
	if (st->r.topics_count && !st->resp.topics) {
		request_fail(req, "out of memory");
		return;
	}
	for (int32_t t = 0; t < st->r.topics_count; t++) {
		struct list_offsets_response_topic *out = &st->resp.topics[t];
		out->name = st->r.topics[t].name;
		out->partitions_count = st->r.topics[t].partitions_count;
		out->partitions = arena_array(&req->arena, (size_t)out->partitions_count,
		                              sizeof(*out->partitions));
		if (out->partitions_count && !out->partitions) {
			request_fail(req, "out of memory");
			return;
		}
	}
	step(st);
}
