/*
 * tests/fuzz/fuzz_frame.c: a client's byte stream as taped reads it. The first byte seeds the
 * chunking; the rest is what the client sent. The bytes arrive in pseudo-random chunks and
 * are cut into frames by the rule of server/connection.c (frame_peek under a 1 MiB
 * socket.request.max.bytes; a bad size ends the stream, as it closes the connection); each
 * frame's header is decoded, and when dispatch would serve its API and version
 * (api_support_table), its body is decoded with the arena budget the broker gives a request.
 * Oracles: the sanitizers; the chunking changes nothing (frames and results equal those of one
 * pass over the whole stream); a body that decodes with an unbounded arena fits the budget.
 */
#include "base/assert.h"
#include "base/limits.h"
#include "protocol/api.h"
#include "protocol/api_versions.h"
#include "protocol/create_topics.h"
#include "protocol/delete_topics.h"
#include "protocol/fetch.h"
#include "protocol/init_producer_id.h"
#include "protocol/list_offsets.h"
#include "protocol/metadata.h"
#include "protocol/produce.h"
#include "server/handlers.h"

#define FRAMES_MAX 256
#define FRAME_BYTES_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool served(const struct request_header *h)
{
	for (unsigned i = 0; i < api_support_count; i++)
		if (api_support_table[i].key == h->api_key)
			return h->api_version >= api_support_table[i].serve_min &&
			       h->api_version <= api_support_table[i].max;
	return false;
}

static int decode_body(const struct request_header *h, struct cursor *c, struct arena *a)
{
	union {
		struct produce_request produce;
		struct fetch_request fetch;
		struct list_offsets_request list_offsets;
		struct metadata_request metadata;
		struct api_versions_request api_versions;
		struct create_topics_request create_topics;
		struct delete_topics_request delete_topics;
		struct init_producer_id_request init_producer_id;
	} u;
	int16_t v = h->api_version;
	switch (h->api_key) {
	case API_PRODUCE:
		return produce_request_decode(c, a, v, &u.produce);
	case API_FETCH:
		return fetch_request_decode(c, a, v, &u.fetch);
	case API_LIST_OFFSETS:
		return list_offsets_request_decode(c, a, v, &u.list_offsets);
	case API_METADATA:
		return metadata_request_decode(c, a, v, &u.metadata);
	case API_API_VERSIONS:
		return api_versions_request_decode(c, a, v, &u.api_versions);
	case API_CREATE_TOPICS:
		return create_topics_request_decode(c, a, v, &u.create_topics);
	case API_DELETE_TOPICS:
		return delete_topics_request_decode(c, a, v, &u.delete_topics);
	case API_INIT_PRODUCER_ID:
		return init_producer_id_request_decode(c, a, v, &u.init_producer_id);
	}
	ASSERT(!"api_support_table serves an API this target does not decode");
	return -1;
}

/* One frame: 1 = header only, 2 = decoded, 3 = refused (bad header or body). */
static int frame(const uint8_t *p, uint32_t len)
{
	struct cursor c;
	struct request_header h;
	cursor_init(&c, p, len);
	if (request_header_decode(&c, &h) < 0)
		return 3;
	if (!served(&h))
		return 1;
	struct cursor body = c;
	struct arena a;
	arena_init(&a, (size_t)len * REQUEST_ARENA_FACTOR + 4096);
	int rc = decode_body(&h, &c, &a);
	arena_free(&a);
	arena_init(&a, SIZE_MAX);
	int unbounded = decode_body(&h, &body, &a);
	ASSERT(unbounded != 0 || (rc == 0 && a.used <= (size_t)len * REQUEST_ARENA_FACTOR + 4096));
	arena_free(&a);
	return rc == 0 ? 2 : 3;
}

/* Cuts the stream into frames as it arrives: in pseudo-random chunks of 1 to 4096 bytes, or
 * all at once when seed is 0. Records each frame's end and result. */
static unsigned frames(const uint8_t *s, size_t n, uint32_t seed, size_t *ends, int *results)
{
	size_t start = 0, avail = 0;
	unsigned k = 0;
	int64_t f = 0;
	while (avail < n && k < FRAMES_MAX && f >= 0) {
		if (seed == 0) {
			avail = n;
		} else {
			seed = (seed * 1103515245u + 12345u) | 1u; /* 0 is "all at once" */
			avail += 1 + (seed >> 16) % 4096;
		}
		avail = avail < n ? avail : n;
		while (k < FRAMES_MAX) {
			f = frame_peek(s + start, avail - start, FRAME_BYTES_MAX);
			if (f <= 0 || (size_t)f > avail - start)
				break;
			results[k] =
			    frame(s + start + FRAME_SIZE_BYTES, (uint32_t)f - FRAME_SIZE_BYTES);
			start += (size_t)f;
			ends[k++] = start;
		}
	}
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static size_t ends1[FRAMES_MAX], ends2[FRAMES_MAX];
	static int results1[FRAMES_MAX], results2[FRAMES_MAX];
	if (size < 1)
		return 0;
	unsigned k1 = frames(data + 1, size - 1, 1u + data[0], ends1, results1);
	unsigned k2 = frames(data + 1, size - 1, 0, ends2, results2);
	ASSERT(k1 == k2);
	for (unsigned i = 0; i < k1; i++)
		ASSERT(ends1[i] == ends2[i] && results1[i] == results2[i]);
	return 0;
}
