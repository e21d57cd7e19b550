/*
 * protocol/metadata.c: the Metadata codec (layouts in metadata.h). Knows the wire format only:
 * which topics "all" means and who the brokers are is server/'s business.
 */
#include "protocol/metadata.h"

#include "base/errors.h"

static bool version_ok(int16_t version)
{
	return version >= METADATA_VERSION_MIN && version <= METADATA_VERSION_MAX;
}

/* ---- request ----------------------------------------------------------------------------- */

int metadata_request_decode(struct cursor *c, struct arena *a, int16_t version,
                            struct metadata_request *out)
{
	*out = (struct metadata_request){ .allow_auto_topic_creation = true };
	if (!version_ok(version))
		return -TAPE_EPROTO;
	/* A topic: a name of at least its int16 length. */
	out->topics_count = kafka_get_array_len(c, false, version >= 1, 2);
	out->topics = kafka_alloc_array(c, a, out->topics_count, sizeof(*out->topics));
	for (int32_t i = 0; i < out->topics_count && cursor_ok(c); i++)
		out->topics[i].name = kafka_get_string(c, false, false);
	if (version >= 4)
		out->allow_auto_topic_creation = kafka_get_bool(c);
	if (version >= 8) {
		out->include_cluster_authorized_operations = kafka_get_bool(c);
		out->include_topic_authorized_operations = kafka_get_bool(c);
	}
	return kafka_decode_end(c);
}

void metadata_request_encode(struct buf *b, int16_t version, const struct metadata_request *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	int32_t count = r->topics_count;
	if (count < 0 && version == 0)
		count = 0; /* v0 has no null: its empty array is "all topics" */
	kafka_put_array_len(b, count, false);
	for (int32_t i = 0; i < count; i++)
		kafka_put_string(b, r->topics[i].name, false);
	if (version >= 4)
		kafka_put_bool(b, r->allow_auto_topic_creation);
	if (version >= 8) {
		kafka_put_bool(b, r->include_cluster_authorized_operations);
		kafka_put_bool(b, r->include_topic_authorized_operations);
	}
}

/* ---- response ---------------------------------------------------------------------------- */

static void put_partition(struct buf *b, int16_t version,
                          const struct metadata_response_partition *p)
{
	buf_i16(b, p->error_code);
	buf_i32(b, p->partition_index);
	buf_i32(b, p->leader_id);
	if (version >= 7)
		buf_i32(b, p->leader_epoch);
	kafka_put_int32_array(b, p->replica_nodes, p->replica_nodes_count, false);
	kafka_put_int32_array(b, p->isr_nodes, p->isr_nodes_count, false);
	if (version >= 5)
		kafka_put_int32_array(b, p->offline_replicas, p->offline_replicas_count, false);
}

static void put_topic(struct buf *b, int16_t version, const struct metadata_response_topic *t)
{
	buf_i16(b, t->error_code);
	kafka_put_string(b, t->name, false);
	if (version >= 1)
		kafka_put_bool(b, t->is_internal);
	kafka_put_array_len(b, t->partitions_count, false);
	for (int32_t i = 0; i < t->partitions_count; i++)
		put_partition(b, version, &t->partitions[i]);
	if (version >= 8)
		buf_i32(b, t->topic_authorized_operations);
}

void metadata_response_encode(struct buf *b, int16_t version, const struct metadata_response *r)
{
	if (!version_ok(version)) {
		buf_fail(b);
		return;
	}
	if (version >= 3)
		buf_i32(b, r->throttle_time_ms);
	kafka_put_array_len(b, r->brokers_count, false);
	for (int32_t i = 0; i < r->brokers_count; i++) {
		const struct metadata_response_broker *br = &r->brokers[i];
		buf_i32(b, br->node_id);
		kafka_put_string(b, br->host, false);
		buf_i32(b, br->port);
		if (version >= 1)
			kafka_put_string(b, br->rack, false);
	}
	if (version >= 2)
		kafka_put_string(b, r->cluster_id, false);
	if (version >= 1)
		buf_i32(b, r->controller_id);
	kafka_put_array_len(b, r->topics_count, false);
	for (int32_t i = 0; i < r->topics_count; i++)
		put_topic(b, version, &r->topics[i]);
	if (version >= 8)
		buf_i32(b, r->cluster_authorized_operations);
}

/* The fewest bytes of a partition, a topic and a broker in this version (each array counts
 * its int32 count, each string its int16 length). */
static size_t partition_min_bytes(int16_t version)
{
	return 2 + 4 + 4 + (version >= 7 ? 4 : 0) + 4 + 4 + (version >= 5 ? 4 : 0);
}

static size_t topic_min_bytes(int16_t version)
{
	return 2 + 2 + (version >= 1 ? 1 : 0) + 4 + (version >= 8 ? 4 : 0);
}

static size_t broker_min_bytes(int16_t version)
{
	return 4 + 2 + 4 + (version >= 1 ? 2 : 0);
}

static void get_partition(struct cursor *c, struct arena *a, int16_t version,
                          struct metadata_response_partition *p)
{
	p->error_code = cursor_i16(c);
	p->partition_index = cursor_i32(c);
	p->leader_id = cursor_i32(c);
	p->leader_epoch = version >= 7 ? cursor_i32(c) : -1;
	p->replica_nodes = kafka_get_int32_array(c, a, false, false, &p->replica_nodes_count);
	p->isr_nodes = kafka_get_int32_array(c, a, false, false, &p->isr_nodes_count);
	if (version >= 5)
		p->offline_replicas =
		    kafka_get_int32_array(c, a, false, false, &p->offline_replicas_count);
}

static void get_topic(struct cursor *c, struct arena *a, int16_t version,
                      struct metadata_response_topic *t)
{
	t->error_code = cursor_i16(c);
	t->name = kafka_get_string(c, false, false);
	if (version >= 1)
		t->is_internal = kafka_get_bool(c);
	t->partitions_count = kafka_get_array_len(c, false, false, partition_min_bytes(version));
	t->partitions = kafka_alloc_array(c, a, t->partitions_count, sizeof(*t->partitions));
	for (int32_t i = 0; i < t->partitions_count && cursor_ok(c); i++)
		get_partition(c, a, version, &t->partitions[i]);
	t->topic_authorized_operations =
	    version >= 8 ? cursor_i32(c) : METADATA_AUTHORIZED_OPERATIONS_NONE;
}

int metadata_response_decode(struct cursor *c, struct arena *a, int16_t version,
                             struct metadata_response *out)
{
	*out = (struct metadata_response){
		.cluster_id = KSTR_NULL,
		.controller_id = -1,
		.cluster_authorized_operations = METADATA_AUTHORIZED_OPERATIONS_NONE,
	};
	if (!version_ok(version))
		return -TAPE_EPROTO;
	if (version >= 3)
		out->throttle_time_ms = cursor_i32(c);
	out->brokers_count = kafka_get_array_len(c, false, false, broker_min_bytes(version));
	out->brokers = kafka_alloc_array(c, a, out->brokers_count, sizeof(*out->brokers));
	for (int32_t i = 0; i < out->brokers_count && cursor_ok(c); i++) {
		struct metadata_response_broker *br = &out->brokers[i];
		br->node_id = cursor_i32(c);
		br->host = kafka_get_string(c, false, false);
		br->port = cursor_i32(c);
		br->rack = version >= 1 ? kafka_get_string(c, false, true) : KSTR_NULL;
	}
	if (version >= 2)
		out->cluster_id = kafka_get_string(c, false, true);
	if (version >= 1)
		out->controller_id = cursor_i32(c);
	out->topics_count = kafka_get_array_len(c, false, false, topic_min_bytes(version));
	out->topics = kafka_alloc_array(c, a, out->topics_count, sizeof(*out->topics));
	for (int32_t i = 0; i < out->topics_count && cursor_ok(c); i++)
		get_topic(c, a, version, &out->topics[i]);
	if (version >= 8)
		out->cluster_authorized_operations = cursor_i32(c);
	return kafka_decode_end(c);
}
