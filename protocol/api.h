/*
 * protocol/api.h: Kafka API keys and what the codec knows about each: its name (as in the
 * schemas) and the first flexible version (compact encodings, tagged fields, header v2/v1).
 * Which versions the broker advertises is the server's business (server/), not the codec's.
 */
#ifndef TAPE_PROTOCOL_API_H
#define TAPE_PROTOCOL_API_H

#include <stdbool.h>
#include <stdint.h>

enum api_key {
	API_PRODUCE = 0,
	API_FETCH = 1,
	API_LIST_OFFSETS = 2,
	API_METADATA = 3,
	API_OFFSET_COMMIT = 8,
	API_OFFSET_FETCH = 9,
	API_FIND_COORDINATOR = 10,
	API_JOIN_GROUP = 11,
	API_HEARTBEAT = 12,
	API_LEAVE_GROUP = 13,
	API_SYNC_GROUP = 14,
	API_DESCRIBE_GROUPS = 15,
	API_LIST_GROUPS = 16,
	API_SASL_HANDSHAKE = 17,
	API_API_VERSIONS = 18,
	API_CREATE_TOPICS = 19,
	API_DELETE_TOPICS = 20,
	API_DELETE_RECORDS = 21,
	API_INIT_PRODUCER_ID = 22,
	API_OFFSET_FOR_LEADER_EPOCH = 23,
	API_DESCRIBE_CONFIGS = 32,
	API_ALTER_CONFIGS = 33,
	API_DELETE_GROUPS = 42,
	API_KEY_MAX = 42,
};

/* "Produce", "Fetch", ... or NULL for a key the codec does not know. */
const char *api_name(int16_t key);
/* The first flexible version of the API (from Kafka's schemas), or -1 when unknown. */
int16_t api_flexible_from(int16_t key);
static inline bool api_is_flexible(int16_t key, int16_t version)
{
	int16_t f = api_flexible_from(key);
	return f >= 0 && version >= f;
}

#endif
