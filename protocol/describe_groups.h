/*
 * protocol/describe_groups.h: DescribeGroups (API 15) bodies, versions 0-4 (v5+ are flexible
 * and not implemented). An admin asks for groups' state and members; member metadata and
 * assignments are returned as the members sent them (raw consumer protocol payloads).
 *
 * Request
 *   groups                           array of string
 *   include_authorized_operations    bool             v3+ (default false)
 *
 * Response
 *   throttle_time_ms                 int32            v1+ (default 0)
 *   groups                           array of
 *     error_code                     int16
 *     group_id                       string
 *     group_state                    string  ("Empty", "PreparingRebalance",
 *                                             "CompletingRebalance", "Stable", "Dead")
 *     protocol_type                  string
 *     protocol_data                  string  (the chosen protocol, e.g. "range")
 *     members                        array of
 *       member_id                    string
 *       group_instance_id            nullable string  v4+ (default null)
 *       client_id                    string
 *       client_host                  string
 *       member_metadata              bytes
 *       member_assignment            bytes
 *     authorized_operations          int32            v3+ (default INT32_MIN: not asked)
 *
 * Decoded strings and bytes are borrowed from the frame, arrays from the arena.
 */
#ifndef TAPE_PROTOCOL_DESCRIBE_GROUPS_H
#define TAPE_PROTOCOL_DESCRIBE_GROUPS_H

#include "protocol/codec.h"

#define DESCRIBE_GROUPS_VERSION_MIN 0
#define DESCRIBE_GROUPS_VERSION_MAX 4
/* authorized_operations when they were not asked for (and before v3). */
#define DESCRIBE_GROUPS_AUTHORIZED_OPERATIONS_NONE INT32_MIN

struct describe_groups_request {
	int32_t groups_count;
	struct kstr *groups;                /* arena; each borrowed */
	bool include_authorized_operations; /* v3+ */
};

/* The schema's DescribedGroupMember. */
struct describe_groups_described_group_member {
	struct kstr member_id;           /* borrowed */
	struct kstr group_instance_id;   /* borrowed; v4+, nullable */
	struct kstr client_id;           /* borrowed */
	struct kstr client_host;         /* borrowed */
	struct kbytes member_metadata;   /* borrowed */
	struct kbytes member_assignment; /* borrowed */
};

/* The schema's DescribedGroup. */
struct describe_groups_described_group {
	int16_t error_code;
	struct kstr group_id;      /* borrowed */
	struct kstr group_state;   /* borrowed */
	struct kstr protocol_type; /* borrowed */
	struct kstr protocol_data; /* borrowed */
	int32_t members_count;
	struct describe_groups_described_group_member *members; /* arena */
	int32_t authorized_operations;                          /* v3+ */
};

struct describe_groups_response {
	int32_t throttle_time_ms; /* v1+ */
	int32_t groups_count;
	struct describe_groups_described_group *groups; /* arena */
};

/* v0-4. Returns 0 or -TAPE_EPROTO (bad version, malformed, bytes left over). */
int describe_groups_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                   struct describe_groups_request *out);
/* v0-4; another version, or a null where the schema has none, marks the buffer bad. */
void describe_groups_request_encode(struct buf *b, int16_t version,
                                    const struct describe_groups_request *r);
/* v0-4; another version, or a null where the schema has none, marks the buffer bad. */
void describe_groups_response_encode(struct buf *b, int16_t version,
                                     const struct describe_groups_response *r);
/* v0-4. Returns 0 or -TAPE_EPROTO. */
int describe_groups_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                    struct describe_groups_response *out);

#endif
