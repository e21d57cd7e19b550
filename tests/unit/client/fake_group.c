/*
 * tests/unit/client/fake_group.c: the scripted group coordinator of fake_group.h. Runs in the
 * fake broker's thread under its lock; answers with the protocol codecs.
 */
#include "fake_group.h"

#include "base/arena.h"
#include "base/buf.h"
#include "consumer-groups/assign.h"
#include "protocol/api.h"
#include "protocol/consumer_protocol.h"
#include "protocol/errors.h"
#include "protocol/find_coordinator.h"
#include "protocol/header.h"
#include "protocol/heartbeat.h"
#include "protocol/join_group.h"
#include "protocol/leave_group.h"
#include "protocol/offset_commit.h"
#include "protocol/offset_fetch.h"
#include "protocol/sync_group.h"

#include <stdio.h>
#include <string.h>

void fake_group_init(struct fake_group *fg)
{
	memset(fg, 0, sizeof(*fg));
	for (int i = 0; i < FAKE_PARTITIONS_MAX; i++)
		fg->committed[i] = -1;
}

static int16_t pop(int16_t *script, int *count)
{
	if (*count <= 0)
		return KAFKA_NONE;
	int16_t e = script[0];
	memmove(script, script + 1, sizeof(script[0]) * (size_t)-- * count);
	return e;
}

static void copy_kstr(char *dst, size_t cap, struct kstr s)
{
	size_t n = s.len > 0 ? (size_t)s.len : 0;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s.p ? s.p : "", n);
	dst[n] = '\0';
}

static void find(struct fake_broker *fb, struct fake_group *fg, int fd,
                 const struct request_header *h, struct cursor *c, struct arena *a, struct buf *b)
{
	struct find_coordinator_request req;
	if (find_coordinator_request_decode(c, a, h->api_version, &req) < 0)
		return;
	fg->find_seen++;
	struct find_coordinator_response r = { .error_code =
		                                   pop(fg->find_errors, &fg->find_errors_count),
		                               .error_message = KSTR_NULL,
		                               .node_id = 1,
		                               .host = KSTR("127.0.0.1"),
		                               .port = fb->port };
	if (r.error_code) {
		r.node_id = -1;
		r.host = KSTR("");
		r.port = -1;
	}
	find_coordinator_response_encode(b, h->api_version, &r);
	fake_reply(fd, b);
}

static void join(struct fake_broker *fb, struct fake_group *fg, int fd,
                 const struct request_header *h, struct cursor *c, struct arena *a, struct buf *b)
{
	struct join_group_request req;
	if (join_group_request_decode(c, a, h->api_version, &req) < 0 || req.protocols_count < 1)
		return;
	if (fg->join_seen < FAKE_SCRIPT_MAX)
		copy_kstr(fg->join_member_ids[fg->join_seen], 64, req.member_id);
	fg->join_seen++;
	copy_kstr(fg->join_protocols, sizeof(fg->join_protocols), req.protocols[0].name);
	struct consumer_protocol_subscription sub;
	fg->join_owned_count = 0;
	if (consumer_protocol_subscription_decode(req.protocols[0].metadata, a, &sub) == 0)
		for (int32_t i = 0; i < sub.owned_partitions_count; i++)
			fg->join_owned_count += sub.owned_partitions[i].partitions_count;
	struct join_group_response r = { .protocol_name = req.protocols[0].name };
	if (req.member_id.len == 0 && fg->require_member_id) {
		char *id = arena_alloc(a, 32);
		snprintf(id, 32, "m-%d", ++fg->next_member);
		r.error_code = KAFKA_MEMBER_ID_REQUIRED;
		r.generation_id = -1;
		r.member_id = kstr_from(id);
		r.leader = KSTR("");
		r.protocol_name = KSTR("");
		join_group_response_encode(b, h->api_version, &r);
		fake_reply(fd, b);
		return;
	}
	struct kstr me = req.member_id;
	if (me.len == 0) {
		char *id = arena_alloc(a, 32);
		snprintf(id, 32, "m-%d", ++fg->next_member);
		me = kstr_from(id);
	}
	r.generation_id = ++fg->generation;
	r.member_id = me;
	if (fg->follower) {
		r.leader = KSTR("aa-leader");
	} else {
		r.leader = me;
		r.members_count = fg->other_member ? 2 : 1;
		r.members = arena_array(a, 2, sizeof(*r.members));
		r.members[0] =
		    (struct join_group_response_member){ me, KSTR_NULL, req.protocols[0].metadata };
		if (fg->other_member) {
			struct buf sb;
			buf_init(&sb, 4096);
			struct kstr topic = kstr_from(fb->topic);
			assign_encode_subscription(&sb, assignor_find(req.protocols[0].name), 1,
			                           &topic, 0, NULL, -1);
			uint8_t *p = arena_alloc(a, sb.len);
			memcpy(p, sb.p, sb.len);
			r.members[1] = (struct join_group_response_member){
				KSTR("zz-other"), KSTR_NULL, { p, (int32_t)sb.len }
			};
			buf_free(&sb);
		}
	}
	join_group_response_encode(b, h->api_version, &r);
	fake_reply(fd, b);
}

static struct kbytes encode_assignment(struct fake_broker *fb, struct arena *a,
                                       const int32_t *parts, int count)
{
	struct consumer_protocol_topic_partition tp = { kstr_from(fb->topic), count,
		                                        (int32_t *)parts };
	struct consumer_protocol_assignment asg = { 0, count ? 1 : 0, &tp, { NULL, -1 } };
	struct buf ab;
	buf_init(&ab, 4096);
	assign_encode_assignment(&ab, &asg);
	uint8_t *p = arena_alloc(a, ab.len);
	memcpy(p, ab.p, ab.len);
	struct kbytes out = { p, (int32_t)ab.len };
	buf_free(&ab);
	return out;
}

static void sync(struct fake_broker *fb, struct fake_group *fg, int fd,
                 const struct request_header *h, struct cursor *c, struct arena *a, struct buf *b)
{
	struct sync_group_request req;
	if (sync_group_request_decode(c, a, h->api_version, &req) < 0)
		return;
	fg->sync_seen++;
	struct sync_group_response r = { .error_code =
		                             pop(fg->sync_errors, &fg->sync_errors_count) };
	if (r.error_code == KAFKA_NONE && fg->follower) {
		r.assignment = encode_assignment(fb, a, fg->follower_partitions,
		                                 fg->follower_partitions_count);
	} else if (r.error_code == KAFKA_NONE) {
		for (int32_t i = 0; i < req.assignments_count; i++) {
			const struct sync_group_request_assignment *x = &req.assignments[i];
			if (kstr_eq(x->member_id, "zz-other")) {
				struct consumer_protocol_assignment asg;
				fg->leader_gave_other_count = 0;
				if (consumer_protocol_assignment_decode(x->assignment, a, &asg) ==
				    0)
					for (int32_t t = 0; t < asg.assigned_partitions_count; t++)
						for (int32_t p = 0;
						     p <
						     asg.assigned_partitions[t].partitions_count;
						     p++)
							fg->leader_gave_other
							    [fg->leader_gave_other_count++] =
							    asg.assigned_partitions[t]
							        .partitions[p];
			} else if (x->member_id.len == req.member_id.len &&
			           !memcmp(x->member_id.p, req.member_id.p,
			                   (size_t)req.member_id.len)) {
				r.assignment = x->assignment;
			}
		}
	}
	sync_group_response_encode(b, h->api_version, &r);
	fake_reply(fd, b);
}

static void heartbeat(struct fake_group *fg, int fd, const struct request_header *h,
                      struct cursor *c, struct arena *a, struct buf *b)
{
	struct heartbeat_request req;
	if (heartbeat_request_decode(c, a, h->api_version, &req) < 0)
		return;
	fg->heartbeat_seen++;
	struct heartbeat_response r = { .error_code = pop(fg->heartbeat_errors,
		                                          &fg->heartbeat_errors_count) };
	heartbeat_response_encode(b, h->api_version, &r);
	fake_reply(fd, b);
}

static void leave(struct fake_group *fg, int fd, const struct request_header *h, struct cursor *c,
                  struct arena *a, struct buf *b)
{
	struct leave_group_request req;
	if (leave_group_request_decode(c, a, h->api_version, &req) < 0)
		return;
	fg->leave_seen++;
	copy_kstr(fg->leave_member_id, sizeof(fg->leave_member_id),
	          h->api_version >= 3 && req.members_count > 0 ? req.members[0].member_id
	                                                       : req.member_id);
	struct leave_group_response r = { 0 };
	if (h->api_version >= 3) {
		r.members_count = req.members_count;
		r.members = arena_array(a, (size_t)req.members_count + 1, sizeof(*r.members));
		for (int32_t i = 0; i < req.members_count; i++)
			r.members[i] = (struct leave_group_member_response){
				req.members[i].member_id, req.members[i].group_instance_id, 0
			};
	}
	leave_group_response_encode(b, h->api_version, &r);
	fake_reply(fd, b);
}

static void commit(struct fake_group *fg, int fd, const struct request_header *h, struct cursor *c,
                   struct arena *a, struct buf *b)
{
	struct offset_commit_request req;
	if (offset_commit_request_decode(c, a, h->api_version, &req) < 0)
		return;
	fg->commit_seen++;
	fg->commit_generation = req.generation_id_or_member_epoch;
	int16_t e = pop(fg->commit_errors, &fg->commit_errors_count);
	struct offset_commit_response r = { .topics_count = req.topics_count };
	r.topics = arena_array(a, (size_t)req.topics_count + 1, sizeof(*r.topics));
	for (int32_t t = 0; t < req.topics_count; t++) {
		const struct offset_commit_request_topic *rt = &req.topics[t];
		r.topics[t].name = rt->name;
		r.topics[t].partitions_count = rt->partitions_count;
		r.topics[t].partitions = arena_array(a, (size_t)rt->partitions_count + 1,
		                                     sizeof(*r.topics[t].partitions));
		for (int32_t p = 0; p < rt->partitions_count; p++) {
			int32_t i = rt->partitions[p].partition_index;
			r.topics[t].partitions[p] =
			    (struct offset_commit_response_partition){ i, e };
			if (e == KAFKA_NONE && i >= 0 && i < FAKE_PARTITIONS_MAX)
				fg->committed[i] = rt->partitions[p].committed_offset;
		}
	}
	offset_commit_response_encode(b, h->api_version, &r);
	fake_reply(fd, b);
}

static void fetch(struct fake_group *fg, int fd, const struct request_header *h, struct cursor *c,
                  struct arena *a, struct buf *b)
{
	struct offset_fetch_request req;
	if (offset_fetch_request_decode(c, a, h->api_version, &req) < 0 || req.topics_count < 0)
		return;
	fg->fetch_seen++;
	struct offset_fetch_response r = { .topics_count = req.topics_count };
	r.topics = arena_array(a, (size_t)req.topics_count + 1, sizeof(*r.topics));
	for (int32_t t = 0; t < req.topics_count; t++) {
		const struct offset_fetch_request_topic *rt = &req.topics[t];
		r.topics[t].name = rt->name;
		r.topics[t].partitions_count = rt->partition_indexes_count;
		r.topics[t].partitions = arena_array(a, (size_t)rt->partition_indexes_count + 1,
		                                     sizeof(*r.topics[t].partitions));
		for (int32_t p = 0; p < rt->partition_indexes_count; p++) {
			int32_t i = rt->partition_indexes[p];
			r.topics[t].partitions[p] = (struct offset_fetch_response_partition){
				.partition_index = i,
				.committed_leader_epoch = -1,
				.committed_offset =
				    i >= 0 && i < FAKE_PARTITIONS_MAX ? fg->committed[i] : -1,
				.metadata = KSTR(""),
			};
		}
	}
	offset_fetch_response_encode(b, h->api_version, &r);
	fake_reply(fd, b);
}

bool fake_group_handle(struct fake_broker *fb, int fd, const struct request_header *h,
                       struct cursor *c, struct arena *a, struct buf *b)
{
	struct fake_group *fg = fb->group;
	switch (h->api_key) {
	case API_FIND_COORDINATOR:
		find(fb, fg, fd, h, c, a, b);
		return true;
	case API_JOIN_GROUP:
		join(fb, fg, fd, h, c, a, b);
		return true;
	case API_SYNC_GROUP:
		sync(fb, fg, fd, h, c, a, b);
		return true;
	case API_HEARTBEAT:
		heartbeat(fg, fd, h, c, a, b);
		return true;
	case API_LEAVE_GROUP:
		leave(fg, fd, h, c, a, b);
		return true;
	case API_OFFSET_COMMIT:
		commit(fg, fd, h, c, a, b);
		return true;
	case API_OFFSET_FETCH:
		fetch(fg, fd, h, c, a, b);
		return true;
	default:
		return false;
	}
}
