/*
 * tests/unit/replication/test_etcd_json.c: etcd's gateway JSON (replication/etcd_json.h)
 * against hand-written strings, most of them copied from what Debian's etcd 3.4.23 answered
 * to curl: int64 fields as strings (and as numbers), the fields left out at their zero value
 * (failed txn, empty range, put events, delete events' values, a cancel's header revision, an
 * expired lease's TTL), the streamed {"result": ...} wrapper, both error shapes, the compacted
 * watch, and malformed input of every kind refused without a crash. Also base64 and the
 * request encoders (decoded back with jansson).
 */
#include "base/errors.h"
#include "base/limits.h"
#include "replication/base64.h"
#include "replication/etcd_json.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static struct arena mem;
static struct etcd_answer a;

static int dec(enum etcd_answer_kind kind, const char *json)
{
	arena_free(&mem);
	arena_init(&mem, 1 << 20);
	return etcd_json_decode(kind, json, strlen(json), &mem, &a);
}

static void fini(void)
{
	arena_free(&mem);
}

TestSuite(etcd_json, .fini = fini);

#define HDR(rev)                                                                   \
	"\"header\":{\"cluster_id\":\"15118495548433857066\",\"member_id\":\"1\"," \
	"\"revision\":\"" rev "\",\"raft_term\":\"2\"}"

Test(etcd_json, range_with_kvs)
{
	cr_assert_eq(dec(ETCD_RANGE, "{" HDR("2") ",\"kvs\":[{\"key\":\"YQ==\",\"create_revision\":"
	                                          "\"2\",\"mod_revision\":\"2\",\"version\":\"1\","
	                                          "\"value\":\"MQ==\"}],\"count\":\"1\"}"),
	             0);
	cr_assert_eq(a.revision, 2);
	cr_assert_eq(a.kvs_count, 1);
	cr_assert_eq(a.kvs[0].key_len, 1);
	cr_assert_eq(a.kvs[0].key[0], 'a');
	cr_assert_eq(a.kvs[0].value_len, 1);
	cr_assert_eq(a.kvs[0].value[0], '1');
	cr_assert_eq(a.kvs[0].create_revision, 2);
	cr_assert_eq(a.kvs[0].mod_revision, 2);
	cr_assert_eq(a.kvs[0].version, 1);
	cr_assert_eq(a.kvs[0].lease, 0, "absent lease is 0");
	cr_assert_eq(a.count, 1);
	cr_assert(!a.more);
}

Test(etcd_json, empty_range_has_no_kvs)
{
	cr_assert_eq(dec(ETCD_RANGE, "{" HDR("1") "}"), 0);
	cr_assert_eq(a.kvs_count, 0);
	cr_assert_eq(a.count, 0);
	cr_assert_eq(a.revision, 1);
	/* An empty value is left out of a kv too. */
	cr_assert_eq(dec(ETCD_RANGE, "{\"kvs\":[{\"key\":\"YQ==\",\"create_revision\":\"3\"}]}"),
	             0);
	cr_assert_eq(a.kvs[0].value_len, 0);
	cr_assert_eq(a.revision, 0, "no header: revision 0");
}

Test(etcd_json, int64_as_string_and_as_number)
{
	cr_assert_eq(
	    dec(ETCD_LEASE_GRANT, "{" HDR("3") ",\"ID\":\"4111120259724681738\",\"TTL\":\"2\"}"),
	    0);
	cr_assert_eq(a.id, 4111120259724681738ll);
	cr_assert_eq(a.ttl_s, 2);
	cr_assert_eq(dec(ETCD_LEASE_GRANT, "{\"ID\":9223372036854775807,\"TTL\":5}"), 0);
	cr_assert_eq(a.id, INT64_MAX);
	cr_assert_eq(a.ttl_s, 5);
	cr_assert_eq(dec(ETCD_LEASE_GRANT, "{\"ID\":\"9223372036854775808\"}"), -TAPE_EPROTO,
	             "past int64");
	cr_assert_eq(dec(ETCD_LEASE_GRANT, "{\"ID\":\"-1\"}"), -TAPE_EPROTO, "negative id");
	cr_assert_eq(dec(ETCD_LEASE_GRANT, "{\"ID\":\"12a\"}"), -TAPE_EPROTO);
	cr_assert_eq(dec(ETCD_LEASE_GRANT, "{\"ID\":\"\"}"), -TAPE_EPROTO);
	cr_assert_eq(dec(ETCD_LEASE_GRANT, "{\"ID\":1.5}"), -TAPE_EPROTO);
	cr_assert_eq(dec(ETCD_LEASE_GRANT, "{\"ID\":true}"), -TAPE_EPROTO);
	cr_assert_eq(dec(ETCD_RANGE, "{\"header\":{\"revision\":\"-\"}}"), -TAPE_EPROTO);
}

Test(etcd_json, failed_txn_has_no_succeeded)
{
	cr_assert_eq(dec(ETCD_TXN, "{" HDR("2") "}"), 0);
	cr_assert(!a.succeeded);
	cr_assert_eq(a.revision, 2);
	cr_assert_eq(dec(ETCD_TXN,
	                 "{" HDR("3") ",\"succeeded\":true,\"responses\":[{\"response_put\":"
	                              "{\"header\":{\"revision\":\"3\"}}}]}"),
	             0);
	cr_assert(a.succeeded);
	cr_assert_eq(dec(ETCD_TXN, "{\"succeeded\":\"true\"}"), -TAPE_EPROTO, "a string bool");
}

Test(etcd_json, delete_count)
{
	cr_assert_eq(dec(ETCD_DELETE, "{" HDR("4") ",\"deleted\":\"1\"}"), 0);
	cr_assert_eq(a.deleted, 1);
	cr_assert_eq(dec(ETCD_DELETE, "{" HDR("4") "}"), 0);
	cr_assert_eq(a.deleted, 0);
}

Test(etcd_json, keepalive_of_an_expired_lease_has_no_ttl)
{
	cr_assert_eq(dec(ETCD_LEASE_KEEPALIVE, "{\"result\":{" HDR("3") ",\"ID\":\"12345\"}}"), 0);
	cr_assert(!a.error);
	cr_assert_eq(a.id, 12345);
	cr_assert_eq(a.ttl_s, 0);
	cr_assert_eq(dec(ETCD_LEASE_KEEPALIVE, "{\"result\":{\"ID\":\"7\",\"TTL\":\"10\"}}"), 0);
	cr_assert_eq(a.ttl_s, 10);
	cr_assert_eq(dec(ETCD_LEASE_KEEPALIVE, "{\"ID\":\"7\",\"TTL\":\"10\"}"), -TAPE_EPROTO,
	             "streamed answers come wrapped in result");
}

Test(etcd_json, unary_error)
{
	cr_assert_eq(dec(ETCD_PUT,
	                 "{\"error\":\"etcdserver: requested lease not found\",\"message\":"
	                 "\"etcdserver: requested lease not found\",\"code\":5}"),
	             0);
	cr_assert(a.error);
	cr_assert_eq(a.code, 5);
	cr_assert_eq(etcd_json_errno(&a), -ENOENT);
	cr_assert_str_eq(a.message, "etcdserver: requested lease not found");
	cr_assert_eq(dec(ETCD_COMPACT, "{\"error\":\"etcdserver: mvcc: required revision has been "
	                               "compacted\",\"code\":11}"),
	             0);
	cr_assert_eq(etcd_json_errno(&a), -TAPE_ECOMPACTED);
	cr_assert_eq(dec(ETCD_PUT, "{\"error\":\"x\",\"code\":14}"), 0);
	cr_assert_eq(etcd_json_errno(&a), -EAGAIN);
	cr_assert_eq(dec(ETCD_PUT, "{\"error\":\"x\",\"code\":2}"), 0);
	cr_assert_eq(etcd_json_errno(&a), -TAPE_EMETASTORE);
	cr_assert_eq(dec(ETCD_PUT, "{\"error\":\"x\",\"code\":\"5\"}"), -TAPE_EPROTO);
	cr_assert_eq(dec(ETCD_PUT, "{\"error\":\"x\"}"), -TAPE_EPROTO);
}

Test(etcd_json, stream_error)
{
	cr_assert_eq(dec(ETCD_WATCH, "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":"
	                             "\"etcdserver: no leader\",\"http_status\":\"Service "
	                             "Unavailable\"}}"),
	             0);
	cr_assert(a.error);
	cr_assert_eq(a.code, 14);
	cr_assert_str_eq(a.message, "etcdserver: no leader");
}

Test(etcd_json, watch_created_events_and_compacted)
{
	cr_assert_eq(dec(ETCD_WATCH, "{\"result\":{" HDR("4") ",\"created\":true}}"), 0);
	cr_assert(a.created && !a.canceled);
	cr_assert_eq(a.watch_id, 0, "watch id 0 is left out");
	cr_assert_eq(a.events_count, 0);
	/* A put event has no "type"; a delete event's kv has no value. */
	cr_assert_eq(
	    dec(ETCD_WATCH,
	        "{\"result\":{" HDR("5") ",\"events\":[{\"kv\":{\"key\":\"YQ==\","
	                                 "\"create_revision\":\"5\",\"mod_revision\":\"5\","
	                                 "\"version\":\"1\",\"value\":\"MQ==\"}},{\"type\":"
	                                 "\"DELETE\",\"kv\":{\"key\":\"YQ==\",\"mod_revision\":"
	                                 "\"6\"}}]}}"),
	    0);
	cr_assert_eq(a.events_count, 2);
	cr_assert_eq(a.events[0].type, METASTORE_EVENT_PUT);
	cr_assert_eq(a.events[0].kv.value_len, 1);
	cr_assert_eq(a.events[1].type, METASTORE_EVENT_DELETE);
	cr_assert_eq(a.events[1].kv.value_len, 0);
	cr_assert_eq(a.events[1].kv.mod_revision, 6);
	cr_assert_eq(a.events[1].kv.create_revision, 0);
	/* Compacted: canceled, compact_revision, and the header without a revision. */
	cr_assert_eq(dec(ETCD_WATCH, "{\"result\":{\"header\":{\"cluster_id\":\"1\",\"raft_term\":"
	                             "\"2\"},\"canceled\":true,\"compact_revision\":\"2\"}}"),
	             0);
	cr_assert(a.canceled);
	cr_assert_eq(a.compact_revision, 2);
	cr_assert_eq(a.revision, 0);
	/* Enum numbers are valid JSON for protobuf too. */
	cr_assert_eq(
	    dec(ETCD_WATCH, "{\"result\":{\"events\":[{\"type\":1,\"kv\":{\"key\":\"YQ==\"}}]}}"),
	    0);
	cr_assert_eq(a.events[0].type, METASTORE_EVENT_DELETE);
	cr_assert_eq(dec(ETCD_WATCH, "{\"result\":{\"events\":[{\"type\":\"PATCH\",\"kv\":{\"key\":"
	                             "\"YQ==\"}}]}}"),
	             -TAPE_EPROTO);
	cr_assert_eq(dec(ETCD_WATCH, "{\"result\":{\"events\":[{\"type\":\"PUT\"}]}}"),
	             -TAPE_EPROTO, "an event without a kv");
}

Test(etcd_json, malformed_is_refused)
{
	const char *bad[] = {
		"",
		"[]",
		"\"x\"",
		"{",
		"{\"kvs\":{}}",
		"{\"kvs\":[1]}",
		"{\"kvs\":[{\"value\":\"MQ==\"}]}", /* no key */
		"{\"kvs\":[{\"key\":\"\"}]}",       /* empty key */
		"{\"kvs\":[{\"key\":\"Y\"}]}",      /* bad base64 length */
		"{\"kvs\":[{\"key\":\"YR==\"}]}",   /* bits left over */
		"{\"kvs\":[{\"key\":\"Y*==\"}]}",   /* bad character */
		"{\"kvs\":[{\"key\":1}]}",          /* a number for bytes */
		"{\"kvs\":[{\"key\":\"YQ==\",\"mod_revision\":\"-3\"}]}",
		"{\"header\":[]}",
		"{\"more\":1}",
		"{\"count\":\"1\",\"count\":\"2\"}", /* duplicate keys */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(dec(ETCD_RANGE, bad[i]), -TAPE_EPROTO, "accepted %s", bad[i]);
	/* A key over METASTORE_KEY_BYTES_MAX. */
	size_t n = base64_encoded_len(METASTORE_KEY_BYTES_MAX + 1);
	char *big = malloc(n + 32);
	strcpy(big, "{\"kvs\":[{\"key\":\"");
	memset(big + 16, 'A', n);
	strcpy(big + 16 + n, "\"}]}");
	cr_assert_eq(dec(ETCD_RANGE, big), -TAPE_EPROTO);
	free(big);
	/* Unknown fields are ignored. */
	cr_assert_eq(dec(ETCD_RANGE, "{\"something_new\":{\"x\":[1,2]}}"), 0);
}

Test(etcd_json, base64)
{
	const char *in[] = { "", "a", "ab", "abc", "abcd", "\xff\x00\xfe" };
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		size_t len = i == 5 ? 3 : strlen(in[i]);
		char enc[16];
		uint8_t dec_[16];
		base64_encode((const uint8_t *)in[i], len, enc);
		cr_assert_eq(base64_decode(enc, base64_encoded_len(len), dec_), (long)len);
		cr_assert(memcmp(dec_, in[i], len) == 0);
	}
	uint8_t out[8];
	cr_assert_eq(base64_decode("YQ", 2, out), 1, "missing padding");
	cr_assert_eq(base64_decode("_-8", 3, out), 2, "url-safe alphabet");
	cr_assert_eq(base64_decode("Y===", 4, out), -1);
	cr_assert_eq(base64_decode("YQ=a", 4, out), -1);
}

static json_t *parse(char *s)
{
	cr_assert(s);
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);
	cr_assert(j, "%s", s);
	free(s);
	return j;
}

static const char *str(json_t *o, const char *path1, const char *path2)
{
	json_t *v = json_object_get(o, path1);
	if (path2)
		v = json_object_get(v, path2);
	cr_assert(json_is_string(v), "%s.%s", path1, path2 ? path2 : "");
	return json_string_value(v);
}

Test(etcd_json, requests)
{
	json_t *j = parse(etcd_json_range((const uint8_t *)"/c/", 3, true, 10));
	cr_assert_str_eq(str(j, "key", NULL), "L2Mv");       /* "/c/" */
	cr_assert_str_eq(str(j, "range_end", NULL), "L2Mw"); /* "/c0" */
	cr_assert_str_eq(str(j, "limit", NULL), "10", "int64 as a string");
	json_decref(j);
	j = parse(etcd_json_range(NULL, 0, true, 1));
	cr_assert_str_eq(str(j, "key", NULL), "AA==", "all keys: key \\0");
	cr_assert_str_eq(str(j, "range_end", NULL), "AA==");
	json_decref(j);
	j = parse(etcd_json_range((const uint8_t *)"a\xff", 2, true, 1));
	cr_assert_str_eq(str(j, "range_end", NULL), "Yg==", "a\\xff -> b");
	json_decref(j);
	j = parse(etcd_json_put((const uint8_t *)"a", 1, (const uint8_t *)"", 0, 77));
	cr_assert_str_eq(str(j, "value", NULL), "");
	cr_assert_str_eq(str(j, "lease", NULL), "77");
	json_decref(j);
	j = parse(etcd_json_lease_id(4111120259724681738ll));
	cr_assert_str_eq(str(j, "ID", NULL), "4111120259724681738");
	json_decref(j);
	j = parse(etcd_json_watch((const uint8_t *)"/c/", 3, 42));
	cr_assert_str_eq(str(j, "create_request", "start_revision"), "42");
	cr_assert_str_eq(str(j, "create_request", "range_end"), "L2Mw");
	json_decref(j);

	struct metastore_cmp cmps[2] = {
		{ .key = (const uint8_t *)"k", .key_len = 1, .target = METASTORE_CMP_ABSENT },
		{ .key = (const uint8_t *)"k",
		  .key_len = 1,
		  .target = METASTORE_CMP_MOD,
		  .revision = 9 },
	};
	struct metastore_txn_op ops[2] = {
		{ .type = METASTORE_TXN_PUT,
		  .key = (const uint8_t *)"k",
		  .key_len = 1,
		  .value = (const uint8_t *)"v",
		  .value_len = 1 },
		{ .type = METASTORE_TXN_DELETE, .key = (const uint8_t *)"j", .key_len = 1 },
	};
	struct metastore_txn t = { cmps, 2, ops, 2 };
	j = parse(etcd_json_txn(&t));
	json_t *c0 = json_array_get(json_object_get(j, "compare"), 0);
	json_t *c1 = json_array_get(json_object_get(j, "compare"), 1);
	cr_assert_str_eq(str(c0, "target", NULL), "CREATE");
	cr_assert_str_eq(str(c0, "create_revision", NULL), "0");
	cr_assert_str_eq(str(c0, "result", NULL), "EQUAL");
	cr_assert_str_eq(str(c1, "target", NULL), "MOD");
	cr_assert_str_eq(str(c1, "mod_revision", NULL), "9");
	json_t *s0 = json_array_get(json_object_get(j, "success"), 0);
	json_t *s1 = json_array_get(json_object_get(j, "success"), 1);
	cr_assert_str_eq(str(s0, "request_put", "value"), "dg==");
	cr_assert_str_eq(str(s1, "request_delete_range", "key"), "ag==");
	json_decref(j);
}
