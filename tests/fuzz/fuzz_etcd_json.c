/*
 * tests/fuzz/fuzz_etcd_json.c: the decoders of etcd's gateway JSON (replication/etcd_json.h).
 * The first byte picks the answer kind, the rest is the JSON. What decodes must hold its
 * bounds (keys non-empty and within METASTORE_KEY_BYTES_MAX, values within their limit,
 * revisions and counts non-negative), and every decoded kv must survive a put request's
 * encoding and a range answer's decoding unchanged. Base64 is checked on the raw input too.
 * Seeds: answers Debian's etcd 3.4.23 gave to curl, one kind each.
 */
#include "base/assert.h"
#include "base/limits.h"
#include "replication/base64.h"
#include "replication/etcd_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_kv(const struct metastore_kv *kv)
{
	ASSERT(kv->key_len > 0 && kv->key_len <= METASTORE_KEY_BYTES_MAX);
	ASSERT(kv->value_len <= METASTORE_VALUE_BYTES_MAX);
	ASSERT(kv->create_revision >= 0 && kv->mod_revision >= 0 && kv->version >= 0);
	/* Through the encoder and back: a range answer of one kv built from a put request. */
	char *put = etcd_json_put(kv->key, kv->key_len, kv->value, kv->value_len, kv->lease);
	ASSERT(put);
	size_t n = strlen(put);
	char *range = malloc(n + 16);
	ASSERT(range);
	int len = snprintf(range, n + 16, "{\"kvs\":[%s]}", put);
	struct arena mem;
	arena_init(&mem, 4 * MiB);
	struct etcd_answer b;
	ASSERT(etcd_json_decode(ETCD_RANGE, range, (size_t)len, &mem, &b) == 0 && b.kvs_count == 1);
	ASSERT(b.kvs[0].key_len == kv->key_len && !memcmp(b.kvs[0].key, kv->key, kv->key_len));
	ASSERT(b.kvs[0].value_len == kv->value_len &&
	       (!kv->value_len || !memcmp(b.kvs[0].value, kv->value, kv->value_len)));
	ASSERT(b.kvs[0].lease == kv->lease);
	arena_free(&mem);
	free(range);
	free(put);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	enum etcd_answer_kind kind = (enum etcd_answer_kind)(data[0] % (ETCD_WATCH + 1));
	struct arena mem;
	arena_init(&mem, 16 * MiB);
	struct etcd_answer a;
	int rc = etcd_json_decode(kind, (const char *)data + 1, size - 1, &mem, &a);
	if (rc == 0 && !a.error) {
		ASSERT(a.revision >= 0 && a.count >= 0 && a.deleted >= 0 && a.id >= 0);
		for (size_t i = 0; i < a.kvs_count; i++)
			check_kv(&a.kvs[i]);
		for (size_t i = 0; i < a.events_count; i++)
			check_kv(&a.events[i].kv);
	} else if (rc == 0) {
		(void)etcd_json_errno(&a);
	}
	arena_free(&mem);

	uint8_t *out = malloc(size / 4 * 3 + 3);
	ASSERT(out);
	long n = base64_decode((const char *)data + 1, size - 1, out);
	if (n >= 0) {
		char *enc = malloc(base64_encoded_len((size_t)n) + 1);
		ASSERT(enc);
		base64_encode(out, (size_t)n, enc);
		uint8_t *again = malloc((size_t)n + 3);
		ASSERT(again);
		ASSERT(base64_decode(enc, base64_encoded_len((size_t)n), again) == n);
		ASSERT(!n || !memcmp(again, out, (size_t)n));
		free(again);
		free(enc);
	}
	free(out);
	return 0;
}
