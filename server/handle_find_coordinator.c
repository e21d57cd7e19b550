/*
 * server/handle_find_coordinator.c: FindCoordinator v0-2. This broker has no group or
 * transaction coordinator yet (consumer groups are issue 4), so every key is answered
 * COORDINATOR_NOT_AVAILABLE, which clients retry. The API is advertised anyway because
 * librdkafka 2.0.2 turns lz4 off unless FindCoordinator v0 is in the broker's range
 * (kafka-protocol.md §4).
 */
#include "server/handlers.h"

#include "protocol/errors.h"
#include "protocol/find_coordinator.h"

void handle_find_coordinator(struct server *srv, struct request *req)
{
	(void)srv;
	struct find_coordinator_request r;
	if (find_coordinator_request_decode(&req->body, &req->arena, req->hdr.api_version, &r) <
	    0) {
		request_fail(req, "malformed FindCoordinator");
		return;
	}
	struct find_coordinator_response resp = {
		.error_code = KAFKA_COORDINATOR_NOT_AVAILABLE,
		.error_message = KSTR_NULL,
		.node_id = -1,
		.host = KSTR(""),
		.port = -1,
	};
	find_coordinator_response_encode(&req->resp, req->hdr.api_version, &resp);
	request_finish(req);
}
