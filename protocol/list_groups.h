/*
 * protocol/list_groups.h: ListGroups (API 16) bodies, versions 0-2 (v3+ are flexible and not
 * implemented; v4+ would add state filters). An admin lists the groups a coordinator knows.
 *
 * Request: empty in v0-2.
 *
 * Response
 *   throttle_time_ms   int32   v1+ (default 0)
 *   error_code         int16
 *   groups             array of
 *     group_id         string
 *     protocol_type    string  ("consumer", or "" for a group only used to commit offsets)
 *
 * Decoded strings are borrowed from the frame, arrays from the arena.
 */
#ifndef TAPE_PROTOCOL_LIST_GROUPS_H
#define TAPE_PROTOCOL_LIST_GROUPS_H

#include "protocol/codec.h"

#define LIST_GROUPS_VERSION_MIN 0
#define LIST_GROUPS_VERSION_MAX 2

struct list_groups_request {
	char unused; /* v0-2 have no fields; C11 wants a member */
};

/* The schema's ListedGroup. */
struct list_groups_listed_group {
	struct kstr group_id;      /* borrowed */
	struct kstr protocol_type; /* borrowed */
};

struct list_groups_response {
	int32_t throttle_time_ms; /* v1+ */
	int16_t error_code;
	int32_t groups_count;
	struct list_groups_listed_group *groups; /* arena */
};

/* v0-2: the body must be empty. Returns 0 or -TAPE_EPROTO. */
int list_groups_request_decode(struct cursor *c, struct arena *a, int16_t version,
                               struct list_groups_request *out);
/* v0-2 (writes nothing); another version marks the buffer bad. */
void list_groups_request_encode(struct buf *b, int16_t version,
                                const struct list_groups_request *r);
/* v0-2; another version, or a null where the schema has none, marks the buffer bad. */
void list_groups_response_encode(struct buf *b, int16_t version,
                                 const struct list_groups_response *r);
/* v0-2. Returns 0 or -TAPE_EPROTO. */
int list_groups_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                struct list_groups_response *out);

#endif
