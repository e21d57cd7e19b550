/*
 * server/handle_find_coordinator.c: FindCoordinator v0-2. A single broker coordinates every
 * group itself; in a cluster a group's coordinator is the leader of its __consumer_offsets
 * partition (server/replica.h). Transactions are not implemented: their coordinator is not
 * available. (librdkafka 2.0.2 also needs this API in range to enable lz4, kafka-protocol.md §4.)
 */
#include "server/handlers.h"

#include "protocol/errors.h"
#include "protocol/find_coordinator.h"
#include "server/replica.h"

void handle_find_coordinator(struct server *srv, struct request *req)
{
	struct find_coordinator_request r;
	if (find_coordinator_request_decode(&req->body, &req->arena, req->hdr.api_version, &r) <
	    0) {
		request_fail(req, "malformed FindCoordinator");
		return;
	}
	struct find_coordinator_response resp = {
		.error_message = KSTR_NULL,
		.node_id = -1,
		.host = KSTR(""),
		.port = -1,
	};
	if (r.key_type != 0) {
		resp.error_code = KAFKA_COORDINATOR_NOT_AVAILABLE;
		resp.error_message = KSTR("transactions are not supported");
	} else if (srv->replicas) {
		const char *host = "";
		resp.error_code =
		    replica_find_coordinator(srv, r.key, &resp.node_id, &host, &resp.port);
		resp.host = kstr_from(host);
	} else {
		resp.node_id = (int32_t)config_int(srv->cfg, CFG_NODE_ID);
		resp.host = kstr_from(srv->advertised_host);
		resp.port = srv->advertised_port;
	}
	find_coordinator_response_encode(&req->resp, req->hdr.api_version, &resp);
	request_finish(req);
}
