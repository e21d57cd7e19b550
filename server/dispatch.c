/*
 * server/dispatch.c: what this broker advertises and serves, and routing a request to its
 * handler. Ranges per kafka-protocol.md §1: advertise only what is implemented, and never a
 * minimum that makes librdkafka 2.0.2 disable features (Produce is advertised from 0 and
 * served from 3, because librdkafka turns compression off when Produce's minimum is above 0).
 */
#include "server/handlers.h"

#include "base/diag.h"
#include "protocol/api.h"

const struct api_support api_support_table[] = {
	{ API_PRODUCE, 0, 7, 3, handle_produce },
	{ API_FETCH, 4, 11, 4, handle_fetch },
	{ API_LIST_OFFSETS, 1, 3, 1, handle_list_offsets },
	{ API_METADATA, 0, 7, 0, handle_metadata },
	{ API_FIND_COORDINATOR, 0, 2, 0, handle_find_coordinator },
	{ API_JOIN_GROUP, 0, 5, 0, handle_join_group },
	{ API_SYNC_GROUP, 0, 3, 0, handle_sync_group },
	{ API_HEARTBEAT, 0, 3, 0, handle_heartbeat },
	{ API_LEAVE_GROUP, 0, 3, 0, handle_leave_group },
	{ API_OFFSET_COMMIT, 2, 7, 2, handle_offset_commit },
	{ API_OFFSET_FETCH, 1, 5, 1, handle_offset_fetch },
	{ API_DESCRIBE_GROUPS, 0, 4, 0, handle_describe_groups },
	{ API_LIST_GROUPS, 0, 2, 0, handle_list_groups },
	{ API_DELETE_GROUPS, 0, 1, 0, handle_delete_groups },
	{ API_API_VERSIONS, 0, 3, 0, handle_api_versions },
	{ API_CREATE_TOPICS, 0, 4, 0, handle_create_topics },
	{ API_DELETE_TOPICS, 0, 3, 0, handle_delete_topics },
	{ API_INIT_PRODUCER_ID, 0, 1, 0, handle_init_producer_id },
	{ API_DESCRIBE_CONFIGS, 0, 2, 0, handle_describe_configs },
	/* Replication (followers truncate by epoch before fetching). v2-3 only: v0-1 lack the
	 * current leader epoch that fences stale callers; v4 is flexible. */
	{ API_OFFSET_FOR_LEADER_EPOCH, 2, 3, 2, handle_offset_for_leader_epoch },
	/* Not in kafka-protocol.md's table: kafkajs admin.alterConfigs and librdkafka 2.0.2's
	 * rd_kafka_AlterConfigs send it (IncrementalAlterConfigs only from librdkafka 2.2). */
	{ API_ALTER_CONFIGS, 0, 1, 0, handle_alter_configs },
};
const unsigned api_support_count = sizeof(api_support_table) / sizeof(api_support_table[0]);

static const struct api_support *find(int16_t key)
{
	for (unsigned i = 0; i < api_support_count; i++)
		if (api_support_table[i].key == key)
			return &api_support_table[i];
	return NULL;
}

void dispatch(struct request *req)
{
	struct server *srv = req->conn->srv;
	if (srv->stopping) {
		/* Requests read before the stop but parsed after it: the client retries elsewhere
		 * or after the restart. */
		request_fail(req, "the broker is stopping");
		return;
	}
	cursor_init(&req->body, req->frame, req->frame_len);
	if (request_header_decode(&req->body, &req->hdr) < 0) {
		request_fail(req, "malformed request header");
		return;
	}
	const struct api_support *api = find(req->hdr.api_key);
	if (!api) {
		request_fail(req, "API key not supported");
		return;
	}
	int16_t v = req->hdr.api_version;
	if (api->key == API_API_VERSIONS && v > api->max) {
		api_versions_answer_unsupported(srv, req);
		return;
	}
	if (v < api->serve_min || v > api->max) {
		request_fail(req, "API version not supported");
		return;
	}
	response_header_encode(&req->resp, &req->hdr);
	api->handle(srv, req);
}
