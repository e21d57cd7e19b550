/*
 * protocol/api_versions.h: ApiVersions (key 18), versions 0-3; v3 is the first flexible
 * version (compact encodings and tagged fields; the request header is v2, the response header
 * stays v0: protocol/header.h).
 *
 * Request body:
 *   v0-2   (empty)
 *   v3     client_software_name compact string, client_software_version compact string,
 *          tagged fields
 *
 * Response body:
 *   v0     error_code int16, api_keys int32-count array of {api_key int16, min_version int16,
 *          max_version int16}
 *   v1-2   v0 + throttle_time_ms int32
 *   v3     error_code int16, api_keys compact array of {api_key, min_version, max_version,
 *          tagged fields}, throttle_time_ms int32, tagged fields (Kafka's tags 0-3:
 *          SupportedFeatures, FinalizedFeaturesEpoch, FinalizedFeatures, ZkMigrationReady;
 *          all omittable: the encoder writes none, the decoder skips them)
 *
 * The answer to a version above the broker's (KIP-511): Kafka does not parse the body and
 * answers in the v0 body layout, whatever version was asked, so that any client can read it
 * (api_versions_response_encode_unsupported; kafka-protocol.md §3.1). A client that sent v3 and
 * got error_code 35 reads the body as v0.
 *
 * Fields absent from a version decode to their defaults: client_software_name and
 * client_software_version "" (v0-2), throttle_time_ms 0 (v0).
 */
#ifndef TAPE_PROTOCOL_API_VERSIONS_H
#define TAPE_PROTOCOL_API_VERSIONS_H

#include "protocol/codec.h"

#define API_VERSIONS_VERSION_MIN 0
#define API_VERSIONS_VERSION_MAX 3

struct api_versions_request {
	struct kstr client_software_name;    /* v3+; borrowed from the frame */
	struct kstr client_software_version; /* v3+; borrowed from the frame */
};

/* Schema: ApiVersion (Kafka < 2.8 called it ApiVersionsResponseKey). */
struct api_versions_response_key {
	int16_t api_key;
	int16_t min_version;
	int16_t max_version;
};

struct api_versions_response {
	int16_t error_code;
	int32_t api_keys_count;
	struct api_versions_response_key *api_keys; /* decode: arena; encode: borrowed */
	int32_t throttle_time_ms;                   /* v1+ */
};

/* v0-3. Returns 0 or -TAPE_EPROTO; strings point into the cursor's buffer. */
int api_versions_request_decode(struct cursor *c, struct arena *a, int16_t version,
                                struct api_versions_request *out);
/* v0-3; another version marks b bad. */
void api_versions_request_encode(struct buf *b, int16_t version,
                                 const struct api_versions_request *r);
/* v0-3; another version marks b bad. */
void api_versions_response_encode(struct buf *b, int16_t version,
                                  const struct api_versions_response *r);
/* v0-3. Returns 0 or -TAPE_EPROTO; api_keys comes from the arena. */
int api_versions_response_decode(struct cursor *c, struct arena *a, int16_t version,
                                 struct api_versions_response *out);

/* Kafka's answer to an ApiVersions version it does not support: the v0 body (error_code, then
 * an int32-count array of keys) whatever the request's version. Kafka lists only its own
 * ApiVersions entry; tape may list every key (RELIABILITY.md "Bad input"). */
void api_versions_response_encode_unsupported(struct buf *b, int16_t error_code,
                                              const struct api_versions_response_key *keys,
                                              int32_t count);

#endif
