/*
 * server/handle_offset_for_leader_epoch.c: OffsetForLeaderEpoch v2-3, what a follower asks
 * before it fetches (KIP-101/279: truncation by leader epoch, never by high watermark), and
 * what a consumer may ask to detect a truncated log (KIP-320).
 *
 * Each partition is answered from the log's epoch cache alone, with no I/O:
 *   unknown here                                  UNKNOWN_TOPIC_OR_PARTITION (3)
 *   current_leader_epoch older than ours          FENCED_LEADER_EPOCH (74)
 *   current_leader_epoch newer than ours          UNKNOWN_LEADER_EPOCH (75)
 *   else (current_leader_epoch -1: no fencing)    partition_epoch_end_offset (Kafka's
 *       LeaderEpochFileCache.endOffsetFor): the largest epoch <= leader_epoch and the offset
 *       where it ended; the current epoch ends at the LEO; an epoch newer than any known, or
 *       an empty cache, gives -1/-1; one older than the first gives itself and the first
 *       epoch's start offset.
 * In a cluster only the leader answers (NOT_LEADER_OR_FOLLOWER elsewhere), and the fencing
 * compares with the epoch the cluster gave it (server/replica.h).
 */
#include "server/handlers.h"

#include "protocol/errors.h"
#include "protocol/offset_for_leader_epoch.h"
#include "server/broker.h"
#include "server/replica.h"

void offset_for_leader_epoch_answer(const struct partition *p,
                                    const struct offset_for_leader_epoch_request_partition *in,
                                    struct offset_for_leader_epoch_response_partition *out)
{
	*out = (struct offset_for_leader_epoch_response_partition){
		.partition = in->partition,
		.leader_epoch = -1,
		.end_offset = -1,
	};
	if (!p) {
		out->error_code = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
		return;
	}
	int32_t ours = partition_leader_epoch(p);
	if (in->current_leader_epoch != -1 && in->current_leader_epoch < ours) {
		out->error_code = KAFKA_FENCED_LEADER_EPOCH;
		return;
	}
	if (in->current_leader_epoch != -1 && in->current_leader_epoch > ours) {
		out->error_code = KAFKA_UNKNOWN_LEADER_EPOCH;
		return;
	}
	partition_epoch_end_offset(p, in->leader_epoch, &out->leader_epoch, &out->end_offset);
}

void handle_offset_for_leader_epoch(struct server *srv, struct request *req)
{
	struct offset_for_leader_epoch_request r;
	if (offset_for_leader_epoch_request_decode(&req->body, &req->arena, req->hdr.api_version,
	                                           &r) < 0) {
		request_fail(req, "malformed OffsetForLeaderEpoch");
		return;
	}
	struct offset_for_leader_epoch_response resp = { .topics_count = r.topics_count };
	resp.topics = arena_array(&req->arena, (size_t)r.topics_count, sizeof(*resp.topics));
	if (r.topics_count && !resp.topics) {
		request_fail(req, "out of memory");
		return;
	}
	for (int32_t t = 0; t < r.topics_count; t++) {
		const struct offset_for_leader_epoch_request_topic *in = &r.topics[t];
		struct offset_for_leader_epoch_response_topic *out = &resp.topics[t];
		out->topic = in->topic;
		out->partitions_count = in->partitions_count;
		out->partitions = arena_array(&req->arena, (size_t)in->partitions_count,
		                              sizeof(*out->partitions));
		if (in->partitions_count && !out->partitions) {
			request_fail(req, "out of memory");
			return;
		}
		for (int32_t i = 0; i < in->partitions_count; i++) {
			const struct offset_for_leader_epoch_request_partition *pi =
			    &in->partitions[i];
			struct pslot *slot = broker_slot(srv->broker, in->topic, pi->partition);
			int16_t code =
			    slot ? replica_leader_check(srv, slot, pi->current_leader_epoch)
			         : KAFKA_NONE;
			if (code != KAFKA_NONE)
				out->partitions[i] =
				    (struct offset_for_leader_epoch_response_partition){
					    .error_code = code,
					    .partition = pi->partition,
					    .leader_epoch = -1,
					    .end_offset = -1,
				    };
			else
				offset_for_leader_epoch_answer(
				    slot ? slot->topic->parts[slot->index] : NULL, pi,
				    &out->partitions[i]);
		}
	}
	offset_for_leader_epoch_response_encode(&req->resp, req->hdr.api_version, &resp);
	request_finish(req);
}
