/*
 * server/handle_api_versions.c: ApiVersions v0-3 (v3 flexible). The answer lists exactly
 * api_support_table. A version above ours is answered in the v0 layout with error 35 and
 * our range, never by closing: librdkafka then retries with a version we know (§3.1).
 */
#include "server/handlers.h"

#include "protocol/api_versions.h"
#include "protocol/errors.h"

static struct api_versions_response_key *keys(struct request *req)
{
	struct api_versions_response_key *k =
	    arena_array(&req->arena, api_support_count, sizeof(*k));
	for (unsigned i = 0; k && i < api_support_count; i++)
		k[i] = (struct api_versions_response_key){ api_support_table[i].key,
			                                   api_support_table[i].min,
			                                   api_support_table[i].max };
	return k;
}

void api_versions_answer_unsupported(struct server *srv, struct request *req)
{
	(void)srv;
	struct api_versions_response_key *k = keys(req);
	buf_i32(&req->resp, req->hdr.correlation_id); /* response header v0, always */
	api_versions_response_encode_unsupported(&req->resp, KAFKA_UNSUPPORTED_VERSION, k,
	                                         k ? (int32_t)api_support_count : 0);
	request_finish(req);
}

void handle_api_versions(struct server *srv, struct request *req)
{
	(void)srv;
	struct api_versions_request r;
	if (api_versions_request_decode(&req->body, &req->arena, req->hdr.api_version, &r) < 0) {
		/* KIP-511: a request we cannot read still gets our versions, with error 35. */
		req->resp.len = FRAME_SIZE_BYTES;
		api_versions_answer_unsupported(srv, req);
		return;
	}
	struct api_versions_response resp = {
		.error_code = KAFKA_NONE,
		.api_keys_count = (int32_t)api_support_count,
		.api_keys = keys(req),
	};
	api_versions_response_encode(&req->resp, req->hdr.api_version, &resp);
	request_finish(req);
}
