/*
 * server/handle_groups.c: the consumer-group membership APIs (JoinGroup 0-5, SyncGroup 0-3,
 * Heartbeat 0-3, LeaveGroup 0-3, DescribeGroups 0-4, ListGroups 0-2), answered by the group
 * coordinator (consumer-groups/group.h). JoinGroup and SyncGroup answers may come much later
 * (when the rest of the group rejoins or the leader syncs): the coordinator calls back and the
 * answer is encoded then. This broker coordinates every group itself.
 */
#include "server/handlers.h"

#include "base/clock.h"
#include "consumer-groups/group.h"
#include "protocol/describe_groups.h"
#include "protocol/errors.h"
#include "protocol/heartbeat.h"
#include "protocol/join_group.h"
#include "protocol/leave_group.h"
#include "protocol/list_groups.h"
#include "protocol/sync_group.h"
#include "server/replica.h"

#include <stdio.h>
#include <string.h>

/* Kafka's client_host: "/" and the peer's address. */
static struct kstr client_host(struct request *req)
{
	const char *peer = req->conn->peer;
	const char *colon = strrchr(peer, ':');
	size_t n = colon ? (size_t)(colon - peer) : strlen(peer);
	char *host = arena_alloc(&req->arena, n + 2);
	if (!host)
		return KSTR("");
	host[0] = '/';
	memcpy(host + 1, peer, n);
	host[n + 1] = '\0';
	return kstr_from(host);
}

static struct kstr copy_str(struct request *req, const char *s)
{
	if (!s)
		return KSTR_NULL;
	size_t n = strlen(s);
	char *p = arena_alloc(&req->arena, n + 1);
	if (!p)
		return KSTR("");
	memcpy(p, s, n + 1);
	return (struct kstr){ p, (int32_t)n };
}

static struct kbytes copy_bytes(struct request *req, const uint8_t *b, int32_t len)
{
	if (len <= 0)
		return (struct kbytes){ (const uint8_t *)"", 0 };
	uint8_t *p = arena_alloc(&req->arena, (size_t)len);
	if (!p)
		return (struct kbytes){ (const uint8_t *)"", 0 };
	memcpy(p, b, (size_t)len);
	return (struct kbytes){ p, len };
}

/* An answer built from the coordinator's state can be far larger than the request it answers
 * (a follower's SyncGroup gets a whole assignment, a leader's JoinGroup every member's
 * metadata), and the request's arena limit is a multiple of the request's own size: past it
 * the copies below came back empty and members got empty ids, metadata or assignments. The
 * arena grows by what the answer copies; the coordinator's state bounds that. */
static void arena_allow(struct request *req, size_t bytes)
{
	req->arena.limit += bytes;
}

/* What copy_str and copy_bytes take from the arena, alignment included. */
static size_t copy_cost(const char *s)
{
	return s ? strlen(s) + 1 + 8 : 0;
}

/* ---- JoinGroup ------------------------------------------------------------------------------- */

static void joined(void *arg, const struct group_join_result *r)
{
	struct request *req = arg;
	size_t need = copy_cost(r->protocol_name) + copy_cost(r->leader) + copy_cost(r->member_id) +
	              (size_t)r->members_count * sizeof(struct join_group_response_member);
	for (int32_t i = 0; i < r->members_count; i++)
		need += copy_cost(r->members[i].member_id) +
		        copy_cost(r->members[i].group_instance_id) +
		        (size_t)r->members[i].metadata_len + 8;
	arena_allow(req, need);
	/* Everything is copied: the coordinator's strings live only during this call. */
	struct join_group_response resp = {
		.error_code = r->error_code,
		.generation_id = r->generation_id,
		.protocol_name = r->protocol_name ? copy_str(req, r->protocol_name) : KSTR(""),
		.leader = copy_str(req, r->leader ? r->leader : ""),
		.member_id = copy_str(req, r->member_id ? r->member_id : ""),
		.members_count = r->members_count,
	};
	if (r->members_count) {
		resp.members =
		    arena_array(&req->arena, (size_t)r->members_count, sizeof(*resp.members));
		if (!resp.members)
			resp.members_count = 0;
		for (int32_t i = 0; i < resp.members_count; i++)
			resp.members[i] = (struct join_group_response_member){
				.member_id = copy_str(req, r->members[i].member_id),
				.group_instance_id = copy_str(req, r->members[i].group_instance_id),
				.metadata = copy_bytes(req, r->members[i].metadata,
				                       r->members[i].metadata_len),
			};
	}
	join_group_response_encode(&req->resp, req->hdr.api_version, &resp);
	request_finish(req);
}

void handle_join_group(struct server *srv, struct request *req)
{
	struct join_group_request r;
	if (join_group_request_decode(&req->body, &req->arena, req->hdr.api_version, &r) < 0) {
		request_fail(req, "malformed JoinGroup");
		return;
	}
	struct group_protocol *protos =
	    arena_array(&req->arena, (size_t)r.protocols_count + 1, sizeof(*protos));
	if (!protos) {
		request_fail(req, "out of memory");
		return;
	}
	for (int32_t i = 0; i < r.protocols_count; i++)
		protos[i] = (struct group_protocol){ r.protocols[i].name, r.protocols[i].metadata };
	struct group_join_request in = {
		.version = req->hdr.api_version,
		.group_id = r.group_id,
		.member_id = r.member_id,
		.group_instance_id = r.group_instance_id,
		.client_id = req->hdr.client_id.len >= 0 ? req->hdr.client_id : KSTR(""),
		.client_host = client_host(req),
		.protocol_type = r.protocol_type,
		.session_timeout_ms = r.session_timeout_ms,
		.rebalance_timeout_ms = req->hdr.api_version >= 1 ? r.rebalance_timeout_ms : -1,
		.protocols_count = r.protocols_count,
		.protocols = protos,
	};
	int16_t code = replica_group_check(srv, r.group_id);
	if (code != KAFKA_NONE) {
		struct group_join_result res = { .error_code = code, .generation_id = -1 };
		joined(req, &res);
		return;
	}
	/* The answer may come now or later; req must not be touched after this call. */
	group_join(srv->groups, &in, clock_mono_ms(), joined, req);
}

/* ---- SyncGroup ------------------------------------------------------------------------------- */

static void synced(void *arg, int16_t code, const uint8_t *assignment, int32_t len)
{
	struct request *req = arg;
	arena_allow(req, (size_t)(len > 0 ? len : 0) + 8);
	struct sync_group_response resp = {
		.error_code = code,
		.assignment = copy_bytes(req, assignment, len),
	};
	sync_group_response_encode(&req->resp, req->hdr.api_version, &resp);
	request_finish(req);
}

void handle_sync_group(struct server *srv, struct request *req)
{
	struct sync_group_request r;
	if (sync_group_request_decode(&req->body, &req->arena, req->hdr.api_version, &r) < 0) {
		request_fail(req, "malformed SyncGroup");
		return;
	}
	struct group_assignment *a =
	    arena_array(&req->arena, (size_t)r.assignments_count + 1, sizeof(*a));
	if (!a) {
		request_fail(req, "out of memory");
		return;
	}
	for (int32_t i = 0; i < r.assignments_count; i++)
		a[i] = (struct group_assignment){ r.assignments[i].member_id,
			                          r.assignments[i].assignment };
	struct group_sync_request in = {
		.group_id = r.group_id,
		.member_id = r.member_id,
		.group_instance_id = r.group_instance_id,
		.generation_id = r.generation_id,
		.assignments_count = r.assignments_count,
		.assignments = a,
	};
	int16_t code = replica_group_check(srv, r.group_id);
	if (code != KAFKA_NONE) {
		synced(req, code, NULL, 0);
		return;
	}
	group_sync(srv->groups, &in, clock_mono_ms(), synced, req);
}

/* ---- Heartbeat, LeaveGroup ------------------------------------------------------------------ */

void handle_heartbeat(struct server *srv, struct request *req)
{
	struct heartbeat_request r;
	if (heartbeat_request_decode(&req->body, &req->arena, req->hdr.api_version, &r) < 0) {
		request_fail(req, "malformed Heartbeat");
		return;
	}
	int16_t code = replica_group_check(srv, r.group_id);
	struct heartbeat_response resp = {
		.error_code =
		    code != KAFKA_NONE
		        ? code
		        : group_heartbeat(srv->groups, r.group_id, r.member_id, r.group_instance_id,
		                          r.generation_id, clock_mono_ms()),
	};
	heartbeat_response_encode(&req->resp, req->hdr.api_version, &resp);
	request_finish(req);
}

void handle_leave_group(struct server *srv, struct request *req)
{
	struct leave_group_request r;
	if (leave_group_request_decode(&req->body, &req->arena, req->hdr.api_version, &r) < 0) {
		request_fail(req, "malformed LeaveGroup");
		return;
	}
	struct leave_group_response resp = { 0 };
	int64_t now = clock_mono_ms();
	if (req->hdr.api_version < 3) {
		resp.error_code = group_leave(srv->groups, r.group_id, r.member_id, KSTR_NULL, now);
	} else if (r.group_id.len <= 0) {
		resp.error_code = KAFKA_INVALID_GROUP_ID; /* Kafka: no member is looked at */
	} else {
		/* A batch of members, each answered on its own (KIP-345). */
		resp.members_count = r.members_count;
		resp.members =
		    arena_array(&req->arena, (size_t)r.members_count + 1, sizeof(*resp.members));
		if (!resp.members) {
			request_fail(req, "out of memory");
			return;
		}
		for (int32_t i = 0; i < r.members_count; i++)
			resp.members[i] = (struct leave_group_member_response){
				.member_id = r.members[i].member_id,
				.group_instance_id = r.members[i].group_instance_id,
				.error_code =
				    group_leave(srv->groups, r.group_id, r.members[i].member_id,
				                r.members[i].group_instance_id, now),
			};
	}
	leave_group_response_encode(&req->resp, req->hdr.api_version, &resp);
	request_finish(req);
}

/* ---- DescribeGroups, ListGroups ------------------------------------------------------------- */

struct describe_ctx {
	struct request *req;
	struct describe_groups_described_group *out;
};

static void described(void *arg, const struct group_info *info)
{
	struct describe_ctx *d = arg;
	struct request *req = d->req;
	struct describe_groups_described_group *out = d->out;
	size_t need = copy_cost(info->state) + copy_cost(info->protocol_type) +
	              copy_cost(info->protocol_name) +
	              ((size_t)info->members_count + 1) * sizeof(*out->members);
	for (int32_t i = 0; i < info->members_count; i++) {
		const struct group_member_info *m = &info->members[i];
		need += copy_cost(m->member_id) + copy_cost(m->group_instance_id) +
		        copy_cost(m->client_id) + copy_cost(m->client_host) +
		        (size_t)m->metadata_len + (size_t)m->assignment_len + 16;
	}
	arena_allow(req, need);
	out->group_state = copy_str(req, info->state);
	out->protocol_type = copy_str(req, info->protocol_type);
	out->protocol_data = copy_str(req, info->protocol_name);
	out->members_count = info->members_count;
	out->members =
	    arena_array(&req->arena, (size_t)info->members_count + 1, sizeof(*out->members));
	if (!out->members) {
		out->members_count = 0;
		return;
	}
	for (int32_t i = 0; i < info->members_count; i++) {
		const struct group_member_info *m = &info->members[i];
		out->members[i] = (struct describe_groups_described_group_member){
			.member_id = copy_str(req, m->member_id),
			.group_instance_id = copy_str(req, m->group_instance_id),
			.client_id = copy_str(req, m->client_id),
			.client_host = copy_str(req, m->client_host),
			.member_metadata = copy_bytes(req, m->metadata, m->metadata_len),
			.member_assignment = copy_bytes(req, m->assignment, m->assignment_len),
		};
	}
}

void handle_describe_groups(struct server *srv, struct request *req)
{
	struct describe_groups_request r;
	if (describe_groups_request_decode(&req->body, &req->arena, req->hdr.api_version, &r) < 0) {
		request_fail(req, "malformed DescribeGroups");
		return;
	}
	struct describe_groups_response resp = { .groups_count = r.groups_count };
	resp.groups = arena_array(&req->arena, (size_t)r.groups_count + 1, sizeof(*resp.groups));
	if (!resp.groups) {
		request_fail(req, "out of memory");
		return;
	}
	for (int32_t i = 0; i < r.groups_count; i++) {
		struct describe_groups_described_group *out = &resp.groups[i];
		*out = (struct describe_groups_described_group){
			.group_id = r.groups[i],
			.group_state = KSTR("Dead"), /* Kafka's answer for an unknown group */
			.protocol_type = KSTR(""),
			.protocol_data = KSTR(""),
			.authorized_operations = INT32_MIN,
		};
		if (r.groups[i].len <= 0) {
			out->error_code = KAFKA_INVALID_GROUP_ID;
			continue;
		}
		struct describe_ctx d = { req, out };
		group_describe(srv->groups, r.groups[i], described, &d);
	}
	describe_groups_response_encode(&req->resp, req->hdr.api_version, &resp);
	request_finish(req);
}

struct list_ctx {
	struct request *req;
	struct list_groups_response *resp;
	int32_t cap;
	size_t need; /* arena bytes of the answer */
};

static void count_group(void *arg, const char *id, const char *type)
{
	struct list_ctx *l = arg;
	l->cap++;
	l->need += sizeof(*l->resp->groups) + copy_cost(id) + copy_cost(type);
}

static void list_group(void *arg, const char *id, const char *type)
{
	struct list_ctx *l = arg;
	if (l->resp->groups_count >= l->cap)
		return;
	l->resp->groups[l->resp->groups_count++] =
	    (struct list_groups_listed_group){ copy_str(l->req, id), copy_str(l->req, type) };
}

void handle_list_groups(struct server *srv, struct request *req)
{
	struct list_groups_request r;
	if (list_groups_request_decode(&req->body, &req->arena, req->hdr.api_version, &r) < 0) {
		request_fail(req, "malformed ListGroups");
		return;
	}
	struct list_groups_response resp = { 0 };
	struct list_ctx l = { req, &resp, 0, 0 };
	group_list(srv->groups, count_group, &l);
	arena_allow(req, l.need + sizeof(*resp.groups));
	resp.groups = arena_array(&req->arena, (size_t)l.cap + 1, sizeof(*resp.groups));
	if (!resp.groups) {
		request_fail(req, "out of memory");
		return;
	}
	group_list(srv->groups, list_group, &l);
	list_groups_response_encode(&req->resp, req->hdr.api_version, &resp);
	request_finish(req);
}
