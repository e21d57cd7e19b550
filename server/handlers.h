/*
 * server/handlers.h: one handler per Kafka API. A handler reads the request body from
 * req->body (after the header), appends the response body to req->resp (the response header
 * is already there), and calls request_finish(), now or later. A body it cannot decode ends
 * in request_fail(): Kafka closes the connection on a malformed request.
 */
#ifndef TAPE_SERVER_HANDLERS_H
#define TAPE_SERVER_HANDLERS_H

#include "server/server.h"

/* The APIs this broker advertises: key, advertised min and max, lowest version served. */
struct api_support {
	int16_t key;
	int16_t min;
	int16_t max;
	int16_t serve_min;
	void (*handle)(struct server *srv, struct request *req);
};

extern const struct api_support api_support_table[];
extern const unsigned api_support_count;

void handle_api_versions(struct server *srv, struct request *req);
void handle_metadata(struct server *srv, struct request *req);
void handle_produce(struct server *srv, struct request *req);
void handle_fetch(struct server *srv, struct request *req);
void handle_list_offsets(struct server *srv, struct request *req);
void handle_init_producer_id(struct server *srv, struct request *req);
void handle_find_coordinator(struct server *srv, struct request *req);
void handle_join_group(struct server *srv, struct request *req);
void handle_sync_group(struct server *srv, struct request *req);
void handle_heartbeat(struct server *srv, struct request *req);
void handle_leave_group(struct server *srv, struct request *req);
void handle_describe_groups(struct server *srv, struct request *req);
void handle_list_groups(struct server *srv, struct request *req);
void handle_offset_commit(struct server *srv, struct request *req);
void handle_offset_fetch(struct server *srv, struct request *req);
void handle_delete_groups(struct server *srv, struct request *req);
void handle_create_topics(struct server *srv, struct request *req);
void handle_delete_topics(struct server *srv, struct request *req);
void handle_describe_configs(struct server *srv, struct request *req);
void handle_alter_configs(struct server *srv, struct request *req);
void handle_offset_for_leader_epoch(struct server *srv, struct request *req);
void handle_find_coordinator(struct server *srv, struct request *req);
void handle_join_group(struct server *srv, struct request *req);
void handle_sync_group(struct server *srv, struct request *req);
void handle_heartbeat(struct server *srv, struct request *req);
void handle_leave_group(struct server *srv, struct request *req);
void handle_describe_groups(struct server *srv, struct request *req);
void handle_list_groups(struct server *srv, struct request *req);
void handle_offset_commit(struct server *srv, struct request *req);
void handle_offset_fetch(struct server *srv, struct request *req);
void handle_delete_groups(struct server *srv, struct request *req);

/* One topic config from the wire (CreateTopics, AlterConfigs), checked and set in tc the way
 * topic_config_set does. KAFKA_NONE, or KAFKA_INVALID_CONFIG with *message (in req's arena)
 * naming the key and what is wrong. A null value is refused: callers that allow one (as
 * AlterConfigs does, meaning "the default") skip it first. */
int16_t topic_config_from_wire(struct request *req, struct topic_config *tc, struct kstr name,
                               struct kstr value, struct kstr *message);

/* OffsetForLeaderEpoch's answer for one partition (NULL: not hosted here), from the log's
 * epoch cache; rules in handle_offset_for_leader_epoch.c. */
struct partition;
struct offset_for_leader_epoch_request_partition;
struct offset_for_leader_epoch_response_partition;
void offset_for_leader_epoch_answer(const struct partition *p,
                                    const struct offset_for_leader_epoch_request_partition *in,
                                    struct offset_for_leader_epoch_response_partition *out);

/* Answers ApiVersions with a version above ours: Kafka's v0 layout with error 35. */
void api_versions_answer_unsupported(struct server *srv, struct request *req);

#endif
