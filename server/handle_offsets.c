/*
 * server/handle_offsets.c: committed offsets: OffsetCommit 2-7, OffsetFetch 1-5 and
 * DeleteGroups 0-1. The coordinator (consumer-groups/group.h) decides whether a member may
 * commit; the offset store (consumer-groups/offsets.h) writes the commit to
 * __consumer_offsets and answers once it is durable, so a commit is acknowledged only when a
 * crash cannot take it back (RELIABILITY S8).
 */
#include "server/handlers.h"

#include "base/clock.h"
#include "base/errors.h"
#include "consumer-groups/group.h"
#include "consumer-groups/offsets.h"
#include "protocol/delete_groups.h"
#include "protocol/errors.h"
#include "protocol/offset_commit.h"
#include "protocol/offset_fetch.h"
#include "server/broker.h"
#include "server/kafka_error.h"
#include "server/replica.h"

#include <stdlib.h>
#include <string.h>

/* ---- OffsetCommit ----------------------------------------------------------------------- */

struct commit_state {
	struct request *req;
	struct offset_commit_response resp;
	int16_t **pending_codes; /* the partitions whose code waits for the store */
	int32_t pending_count;
};

static void commit_answer(struct commit_state *st)
{
	offset_commit_response_encode(&st->req->resp, st->req->hdr.api_version, &st->resp);
	request_finish(st->req);
}

static int16_t commit_error(int err)
{
	/* A commit too large for the view or one batch: Kafka's answer for oversized commits. A
	 * coordinator that lost its offsets partition before the commit was replicated: the
	 * member finds the new coordinator and commits again. */
	return err == -TAPE_ETOOLARGE    ? KAFKA_INVALID_COMMIT_OFFSET_SIZE
	       : err == -TAPE_ENOTLEADER ? KAFKA_NOT_COORDINATOR
	                                 : kafka_error_from(err);
}

static void committed(void *arg, int err)
{
	struct commit_state *st = arg;
	for (int32_t i = 0; i < st->pending_count; i++)
		*st->pending_codes[i] = commit_error(err);
	commit_answer(st);
}

void handle_offset_commit(struct server *srv, struct request *req)
{
	struct offset_commit_request r;
	struct commit_state *st = arena_alloc(&req->arena, sizeof(*st));
	if (!st ||
	    offset_commit_request_decode(&req->body, &req->arena, req->hdr.api_version, &r) < 0) {
		request_fail(req, "malformed OffsetCommit");
		return;
	}
	st->req = req;
	size_t n = 0;
	for (int32_t t = 0; t < r.topics_count; t++)
		n += (size_t)r.topics[t].partitions_count;
	struct offset_commit_entry *entries = arena_array(&req->arena, n + 1, sizeof(*entries));
	st->pending_codes = arena_array(&req->arena, n + 1, sizeof(*st->pending_codes));
	st->resp.topics_count = r.topics_count;
	st->resp.topics =
	    arena_array(&req->arena, (size_t)r.topics_count + 1, sizeof(*st->resp.topics));
	if (!entries || !st->pending_codes || !st->resp.topics) {
		request_fail(req, "out of memory");
		return;
	}
	int64_t now = clock_mono_ms();
	int16_t group_code = replica_group_check(srv, r.group_id);
	if (group_code == KAFKA_NONE)
		group_code =
		    group_commit_allowed(srv->groups, r.group_id, r.member_id, r.group_instance_id,
		                         r.generation_id_or_member_epoch, now);
	size_t k = 0;
	for (int32_t t = 0; t < r.topics_count; t++) {
		struct offset_commit_request_topic *in = &r.topics[t];
		struct offset_commit_response_topic *out = &st->resp.topics[t];
		out->name = in->name;
		out->partitions_count = in->partitions_count;
		out->partitions = arena_array(&req->arena, (size_t)in->partitions_count + 1,
		                              sizeof(*out->partitions));
		if (!out->partitions) {
			request_fail(req, "out of memory");
			return;
		}
		for (int32_t i = 0; i < in->partitions_count; i++) {
			struct offset_commit_request_partition *pi = &in->partitions[i];
			struct offset_commit_response_partition *po = &out->partitions[i];
			po->partition_index = pi->partition_index;
			po->error_code = group_code;
			if (group_code != KAFKA_NONE)
				continue;
			if (!broker_partition(srv->broker, in->name, pi->partition_index)) {
				po->error_code = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			entries[k] = (struct offset_commit_entry){
				.topic = in->name,
				.partition = pi->partition_index,
				.offset = pi->committed_offset,
				.leader_epoch =
				    req->hdr.api_version >= 6 ? pi->committed_leader_epoch : -1,
				.metadata = pi->committed_metadata,
			};
			int rc = offset_store_check_entry(srv->offsets, &entries[k]);
			if (rc < 0) {
				po->error_code = rc == -TAPE_EMETADATA
				                     ? KAFKA_OFFSET_METADATA_TOO_LARGE
				                     : KAFKA_INVALID_REQUEST;
				continue;
			}
			st->pending_codes[st->pending_count++] = &po->error_code;
			k++;
		}
	}
	if (k == 0) {
		commit_answer(st);
		return;
	}
	int rc = offset_store_commit(srv->offsets, r.group_id, entries, k, clock_wall_ms(),
	                             committed, st);
	if (rc == 1)
		return; /* committed() answers once the batch is durable */
	committed(st, rc < 0 ? rc : 0);
}

/* ---- OffsetFetch ------------------------------------------------------------------------ */

static void fill_committed(struct offset_fetch_response_partition *out,
                           const struct offset_committed *c)
{
	out->committed_offset = c->offset;
	out->committed_leader_epoch = c->leader_epoch;
	out->metadata = c->metadata;
}

/* One committed offset of the group while the answer is put together. Borrowed from the
 * store's view, which cannot change before the answer is encoded (the handler does not wait). */
struct committed_row {
	struct kstr topic;
	struct offset_fetch_response_partition p;
};

struct fetch_all {
	struct committed_row *rows;
	int32_t count;
	int32_t cap;
};

static void add_committed(void *arg, const struct offset_committed *c)
{
	struct fetch_all *f = arg;
	if (f->count >= f->cap)
		return;
	struct committed_row *row = &f->rows[f->count++];
	row->topic = c->topic;
	row->p = (struct offset_fetch_response_partition){ .partition_index = c->partition };
	fill_committed(&row->p, c);
}

static bool same_topic(struct kstr a, struct kstr b)
{
	return a.len == b.len && memcmp(a.p, b.p, (size_t)a.len) == 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct committed_row *x = a, *y = b;
	int32_t n = x->topic.len < y->topic.len ? x->topic.len : y->topic.len;
	int c = memcmp(x->topic.p, y->topic.p, (size_t)n);
	if (c == 0)
		c = (x->topic.len > y->topic.len) - (x->topic.len < y->topic.len);
	if (c == 0)
		c = (x->p.partition_index > y->p.partition_index) -
		    (x->p.partition_index < y->p.partition_index);
	return c;
}

/* OffsetFetch with null topics: every committed offset of the group, by topic. The rows are
 * sorted by topic so that each topic's partitions are one slice of one array: memory linear
 * in the group's offsets (up to OFFSETS_PER_GROUP_MAX), which come from the store, not from
 * the request: its arena grows by them (it held only a few dozen). */
static int fetch_all(struct server *srv, struct request *req, struct kstr group,
                     struct offset_fetch_response *resp)
{
	int32_t cap = (int32_t)offset_store_group_count(srv->offsets, group);
	req->arena.limit += ((size_t)cap + 1) * (sizeof(struct committed_row) +
	                                         sizeof(struct offset_fetch_response_partition) +
	                                         sizeof(struct offset_fetch_response_topic));
	struct fetch_all f = { arena_array(&req->arena, (size_t)cap + 1, sizeof(*f.rows)), 0, cap };
	struct offset_fetch_response_partition *parts =
	    arena_array(&req->arena, (size_t)cap + 1, sizeof(*parts));
	resp->topics = arena_array(&req->arena, (size_t)cap + 1, sizeof(*resp->topics));
	if (!f.rows || !parts || !resp->topics)
		return -1;
	offset_store_each(srv->offsets, group, add_committed, &f);
	qsort(f.rows, (size_t)f.count, sizeof(*f.rows), row_cmp);
	struct offset_fetch_response_topic *t = NULL;
	for (int32_t i = 0; i < f.count; i++) {
		parts[i] = f.rows[i].p;
		if (!t || !same_topic(t->name, f.rows[i].topic)) {
			t = &resp->topics[resp->topics_count++];
			*t = (struct offset_fetch_response_topic){ .name = f.rows[i].topic,
				                                   .partitions = &parts[i] };
		}
		t->partitions_count++;
	}
	return 0;
}

void handle_offset_fetch(struct server *srv, struct request *req)
{
	struct offset_fetch_request r;
	if (offset_fetch_request_decode(&req->body, &req->arena, req->hdr.api_version, &r) < 0) {
		request_fail(req, "malformed OffsetFetch");
		return;
	}
	struct offset_fetch_response resp = { 0 };
	resp.error_code = replica_group_check(srv, r.group_id);
	if (resp.error_code != KAFKA_NONE) {
		/* Not the coordinator (v2+ carries the error at the top; earlier versions get
		 * no partitions, which they treat as nothing committed). */
		offset_fetch_response_encode(&req->resp, req->hdr.api_version, &resp);
		request_finish(req);
		return;
	}
	if (r.topics_count < 0) {
		if (fetch_all(srv, req, r.group_id, &resp) < 0)
			resp.topics = NULL;
	} else {
		/* An answer's partition is larger than its 4 bytes in the request. */
		for (int32_t t = 0; t < r.topics_count; t++)
			req->arena.limit += (size_t)r.topics[t].partition_indexes_count *
			                    sizeof(struct offset_fetch_response_partition);
		resp.topics_count = r.topics_count;
		resp.topics =
		    arena_array(&req->arena, (size_t)r.topics_count + 1, sizeof(*resp.topics));
		for (int32_t t = 0; resp.topics && t < r.topics_count; t++) {
			struct offset_fetch_request_topic *in = &r.topics[t];
			struct offset_fetch_response_topic *out = &resp.topics[t];
			out->name = in->name;
			out->partitions_count = in->partition_indexes_count;
			out->partitions =
			    arena_array(&req->arena, (size_t)in->partition_indexes_count + 1,
			                sizeof(*out->partitions));
			if (!out->partitions) {
				out->partitions_count = 0;
				continue;
			}
			for (int32_t i = 0; i < in->partition_indexes_count; i++) {
				struct offset_fetch_response_partition *p = &out->partitions[i];
				*p = (struct offset_fetch_response_partition){
					.partition_index = in->partition_indexes[i],
					.committed_offset = -1,
					.committed_leader_epoch = -1,
					.metadata = KSTR(""),
				};
				struct offset_committed c;
				if (offset_store_fetch(srv->offsets, r.group_id, in->name,
				                       in->partition_indexes[i], &c) == 1)
					fill_committed(p, &c);
			}
		}
	}
	if (!resp.topics) {
		request_fail(req, "out of memory");
		return;
	}
	offset_fetch_response_encode(&req->resp, req->hdr.api_version, &resp);
	request_finish(req);
}

/* ---- DeleteGroups ----------------------------------------------------------------------- */

struct delete_state {
	struct request *req;
	struct delete_groups_response resp;
	unsigned pending;
};

static void delete_answer(struct delete_state *st)
{
	delete_groups_response_encode(&st->req->resp, st->req->hdr.api_version, &st->resp);
	request_finish(st->req);
}

struct delete_one {
	struct delete_state *st;
	int16_t *code;
};

static void group_deleted(void *arg, int err)
{
	struct delete_one *d = arg;
	if (err < 0)
		*d->code = kafka_error_from(err);
	if (--d->st->pending == 0)
		delete_answer(d->st);
}

void handle_delete_groups(struct server *srv, struct request *req)
{
	struct delete_groups_request r;
	struct delete_state *st = arena_alloc(&req->arena, sizeof(*st));
	if (!st ||
	    delete_groups_request_decode(&req->body, &req->arena, req->hdr.api_version, &r) < 0) {
		request_fail(req, "malformed DeleteGroups");
		return;
	}
	st->req = req;
	st->resp.results_count = r.groups_names_count;
	st->resp.results =
	    arena_array(&req->arena, (size_t)r.groups_names_count + 1, sizeof(*st->resp.results));
	struct delete_one *ones =
	    arena_array(&req->arena, (size_t)r.groups_names_count + 1, sizeof(*ones));
	if (!st->resp.results || !ones) {
		request_fail(req, "out of memory");
		return;
	}
	st->pending = 1;
	for (int32_t i = 0; i < r.groups_names_count; i++) {
		struct delete_groups_deletable_group_result *out = &st->resp.results[i];
		out->group_id = r.groups_names[i];
		out->error_code = group_delete(srv->groups, r.groups_names[i]);
		if (out->error_code != KAFKA_NONE)
			continue;
		ones[i] = (struct delete_one){ st, &out->error_code };
		st->pending++;
		int rc = offset_store_delete_group(srv->offsets, r.groups_names[i], clock_wall_ms(),
		                                   group_deleted, &ones[i]);
		if (rc != 1) {
			st->pending--;
			if (rc < 0)
				out->error_code = kafka_error_from(rc);
		}
	}
	if (--st->pending == 0)
		delete_answer(st);
}
