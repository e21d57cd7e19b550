/*
 * server/handle_init_producer_id.c: InitProducerId v0-1 for idempotent producers: a producer
 * id never handed out before (broker.c persists the blocks), epoch 0. Transactions are not
 * implemented, so a transactional id is refused.
 */
#include "server/handlers.h"

#include "protocol/errors.h"
#include "protocol/init_producer_id.h"
#include "server/broker.h"

void handle_init_producer_id(struct server *srv, struct request *req)
{
	struct init_producer_id_request r;
	if (init_producer_id_request_decode(&req->body, &req->arena, req->hdr.api_version, &r) <
	    0) {
		request_fail(req, "malformed InitProducerId");
		return;
	}
	struct init_producer_id_response resp = { .producer_id = -1, .producer_epoch = -1 };
	if (!kstr_is_null(r.transactional_id)) {
		resp.error_code = KAFKA_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
	} else {
		resp.producer_id = broker_next_producer_id(srv->broker);
		resp.producer_epoch = 0;
		if (resp.producer_id < 0)
			resp.error_code = KAFKA_KAFKA_STORAGE_ERROR;
	}
	init_producer_id_response_encode(&req->resp, req->hdr.api_version, &resp);
	request_finish(req);
}
