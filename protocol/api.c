/*
 * protocol/api.c: the API table (names and first flexible versions from Kafka 3.9's schemas).
 */
#include "protocol/api.h"

#include <stddef.h>

struct api_entry {
	const char *name;
	int16_t flexible_from;
};

static const struct api_entry apis[API_KEY_MAX + 1] = {
	[API_PRODUCE] = { "Produce", 9 },
	[API_FETCH] = { "Fetch", 12 },
	[API_LIST_OFFSETS] = { "ListOffsets", 6 },
	[API_METADATA] = { "Metadata", 9 },
	[API_OFFSET_COMMIT] = { "OffsetCommit", 8 },
	[API_OFFSET_FETCH] = { "OffsetFetch", 6 },
	[API_FIND_COORDINATOR] = { "FindCoordinator", 3 },
	[API_JOIN_GROUP] = { "JoinGroup", 6 },
	[API_HEARTBEAT] = { "Heartbeat", 4 },
	[API_LEAVE_GROUP] = { "LeaveGroup", 4 },
	[API_SYNC_GROUP] = { "SyncGroup", 4 },
	[API_DESCRIBE_GROUPS] = { "DescribeGroups", 5 },
	[API_LIST_GROUPS] = { "ListGroups", 3 },
	[API_SASL_HANDSHAKE] = { "SaslHandshake", -1 },
	[API_API_VERSIONS] = { "ApiVersions", 3 },
	[API_CREATE_TOPICS] = { "CreateTopics", 5 },
	[API_DELETE_TOPICS] = { "DeleteTopics", 4 },
	[API_DELETE_RECORDS] = { "DeleteRecords", 2 },
	[API_INIT_PRODUCER_ID] = { "InitProducerId", 2 },
	[API_OFFSET_FOR_LEADER_EPOCH] = { "OffsetForLeaderEpoch", 4 },
	[API_DESCRIBE_CONFIGS] = { "DescribeConfigs", 4 },
	[API_ALTER_CONFIGS] = { "AlterConfigs", 2 },
	[API_DELETE_GROUPS] = { "DeleteGroups", 2 },
};

const char *api_name(int16_t key)
{
	return key >= 0 && key <= API_KEY_MAX ? apis[key].name : NULL;
}

int16_t api_flexible_from(int16_t key)
{
	if (key < 0 || key > API_KEY_MAX || !apis[key].name)
		return -1;
	return apis[key].flexible_from;
}
