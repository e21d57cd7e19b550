/*
 * tests/unit/client/test_producer.c: libtape's client and producer (client/) against the
 * scripted broker of fake_broker.h, for what a healthy taped never does.
 *
 * Covers: keyed records on the partition murmur2 picks, offsets and stored order per
 * partition, one connection in all (the bootstrap address adopted as broker 1); keyless
 * records spread a batch at a time over every partition; ApiVersions v3 refused the KIP-511
 * way and the client retrying with the version the refusal names; NOT_LEADER_OR_FOLLOWER
 * answers making the client ask for metadata again and retry, with every record stored once
 * and in order (idempotent); an answer lost after the broker appended (the connection closed)
 * and an answer that never comes (request timeout): the idempotent retry is recognised as a
 * duplicate, so nothing is stored twice and the reported offsets are the first ones, while
 * without idempotence the records are stored twice (at least once); a batch refused for good
 * (MESSAGE_TOO_LARGE) failing its records with the broker's code and giving its sequences
 * back so the next batch is accepted; records failing after delivery_timeout_ms of retriable
 * errors; acks=0 reporting offset -1; an unknown topic with auto-creation off ("topic \"t\"
 * does not exist") and a created one answered LEADER_NOT_AVAILABLE twice first; a bootstrap
 * list whose first address refuses; flush returning at once when nothing is outstanding.
 */
#include "client/partitioner.h"
#include "client/tape.h"
#include "fake_broker.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define N_MAX 512

struct reports {
	int ok;
	int failed;
	int32_t partition[N_MAX];
	int64_t offset[N_MAX];
	int order[N_MAX]; /* record indexes in report order */
	struct tape_error first_error;
};

static void on_delivery(const struct tape_delivery *d, void *arg)
{
	struct reports *r = arg;
	int i = (int)(intptr_t)d->opaque;
	r->order[r->ok + r->failed] = i;
	r->partition[i] = d->partition;
	r->offset[i] = d->offset;
	if (d->error) {
		if (!r->failed)
			r->first_error = *d->error;
		r->failed++;
	} else {
		r->ok++;
	}
}

struct rig {
	struct fake_broker fb;
	struct tape_client *cl;
	struct tape_producer *p;
	struct reports rep;
};

/* The fake broker started, a client to it, a producer with cfg changed by the test. */
static void rig_start(struct rig *g, const char *extra_brokers, struct tape_client_config *ccfg,
                      struct tape_producer_config *pcfg)
{
	fake_start(&g->fb);
	char brokers[128];
	snprintf(brokers, sizeof(brokers), "%s127.0.0.1:%d", extra_brokers ? extra_brokers : "",
	         g->fb.port);
	ccfg->brokers = brokers;
	struct tape_error err;
	cr_assert_eq(tape_client_new(ccfg, &g->cl, &err), 0, "%s", err.message);
	pcfg->on_delivery = on_delivery;
	pcfg->on_delivery_arg = &g->rep;
	cr_assert_eq(tape_producer_new(g->cl, pcfg, &g->p, &err), 0, "%s", err.message);
}

static void rig_stop(struct rig *g)
{
	tape_producer_free(g->p);
	tape_client_free(g->cl);
	fake_stop(&g->fb);
}

static void defaults(struct tape_client_config *c, struct tape_producer_config *p)
{
	tape_client_config_init(c);
	c->retry_backoff_ms = 10;
	c->retry_backoff_max_ms = 50;
	c->reconnect_backoff_ms = 10;
	c->reconnect_backoff_max_ms = 50;
	tape_producer_config_init(p);
	p->compression = COMPRESSION_NONE;
	p->linger_ms = 1;
}

/* Sends n records "v-<i>" (keyed "key-<i>" when keyed) to t; returns after flush. */
static void send_n(struct rig *g, int from, int n, bool keyed)
{
	struct tape_error err;
	for (int i = from; i < from + n; i++) {
		char key[32], value[32];
		snprintf(key, sizeof(key), "key-%d", i);
		snprintf(value, sizeof(value), "v-%d", i);
		struct tape_record r = TAPE_RECORD("t");
		if (keyed) {
			r.key = key;
			r.key_len = (int32_t)strlen(key);
		}
		r.value = value;
		r.value_len = (int32_t)strlen(value);
		r.opaque = (void *)(intptr_t)i;
		cr_assert_eq(tape_producer_send(g->p, &r, &err), 0, "%s", err.message);
	}
	cr_assert_eq(tape_producer_flush(g->p, 10000, &err), 0, "%s", err.message);
	cr_assert_eq(tape_producer_outstanding(g->p), 0);
}

/* Partition 0 of the fake holds exactly v-from .. v-(from+n-1), in order. */
static void expect_stored_in_order(struct rig *g, int from, int n)
{
	fake_lock(&g->fb);
	cr_expect_eq(g->fb.part[0].log_end, n, "stored %lld", (long long)g->fb.part[0].log_end);
	for (int i = 0; i < n && i < g->fb.part[0].log_end; i++) {
		char want[32];
		snprintf(want, sizeof(want), "v-%d", from + i);
		cr_expect_str_eq(g->fb.part[0].values[i], want, "offset %d", i);
	}
	fake_unlock(&g->fb);
}

Test(producer, keys_offsets_and_one_connection)
{
	struct rig g = { .fb = { .partitions = 3 } };
	struct tape_client_config c;
	struct tape_producer_config p;
	defaults(&c, &p);
	rig_start(&g, NULL, &c, &p);
	send_n(&g, 0, 90, true);
	cr_expect_eq(g.rep.ok, 90);
	int64_t next[3] = { 0, 0, 0 };
	for (int i = 0; i < 90; i++) {
		char key[32];
		int n = snprintf(key, sizeof(key), "key-%d", i);
		int32_t want = partitioner_by_key(key, (size_t)n, 3);
		cr_expect_eq(g.rep.partition[i], want, "key-%d", i);
		cr_expect_eq(g.rep.offset[i], next[want]++, "key-%d", i);
		char v[32];
		snprintf(v, sizeof(v), "v-%d", i);
		cr_expect_str_eq(g.fb.part[want].values[g.rep.offset[i]], v);
	}
	cr_expect_eq(g.fb.connections_seen, 1, "the bootstrap connection is broker 1's");
	cr_expect_eq(g.fb.api_versions_seen[3], 1);
	cr_expect_eq(g.fb.produce_acks_seen, -1);
	rig_stop(&g);
}

Test(producer, keyless_records_spread_a_batch_at_a_time)
{
	struct rig g = { .fb = { .partitions = 3 } };
	struct tape_client_config c;
	struct tape_producer_config p;
	defaults(&c, &p);
	p.batch_bytes = 200; /* about 8 records */
	rig_start(&g, NULL, &c, &p);
	send_n(&g, 0, 120, false);
	cr_expect_eq(g.rep.ok, 120);
	for (int i = 0; i < 3; i++)
		cr_expect_gt(g.fb.part[i].log_end, 10, "partition %d has %lld", i,
		             (long long)g.fb.part[i].log_end);
	/* Records of one batch share a partition: runs, not a record-by-record round robin. */
	int switches = 0;
	for (int i = 1; i < 120; i++)
		switches += g.rep.partition[i] != g.rep.partition[i - 1];
	cr_expect_lt(switches, 30, "%d switches", switches);
	rig_stop(&g);
}

Test(producer, api_versions_v3_refused_then_v2)
{
	struct rig g = { .fb = { .refuse_api_versions_v3 = true } };
	struct tape_client_config c;
	struct tape_producer_config p;
	defaults(&c, &p);
	rig_start(&g, NULL, &c, &p);
	send_n(&g, 0, 5, false);
	cr_expect_eq(g.rep.ok, 5);
	cr_expect_eq(g.fb.api_versions_seen[3], 1);
	cr_expect_eq(g.fb.api_versions_seen[2], 1);
	expect_stored_in_order(&g, 0, 5);
	rig_stop(&g);
}

Test(producer, not_leader_refreshes_metadata_and_keeps_order)
{
	struct rig g = { .fb = { .produce_errors = { 6, 6, 6 }, .produce_errors_count = 3 } };
	struct tape_client_config c;
	struct tape_producer_config p;
	defaults(&c, &p);
	p.idempotent = true;
	p.batch_bytes = 100; /* several batches, one in flight at a time */
	rig_start(&g, NULL, &c, &p);
	send_n(&g, 0, 40, false);
	cr_expect_eq(g.rep.ok, 40);
	cr_expect_geq(g.fb.metadata_seen, 2, "asked again after NOT_LEADER_OR_FOLLOWER");
	expect_stored_in_order(&g, 0, 40);
	for (int i = 0; i < 40; i++) {
		cr_expect_eq(g.rep.order[i], i, "reports in send order");
		cr_expect_eq(g.rep.offset[i], i);
	}
	rig_stop(&g);
}

Test(producer, lost_answer_idempotent_retry_is_a_duplicate)
{
	struct rig g = { .fb = { .drop_after_append = 1 } };
	struct tape_client_config c;
	struct tape_producer_config p;
	defaults(&c, &p);
	p.idempotent = true;
	rig_start(&g, NULL, &c, &p);
	send_n(&g, 0, 10, false);
	cr_expect_eq(g.rep.ok, 10);
	expect_stored_in_order(&g, 0, 10);
	for (int i = 0; i < 10; i++)
		cr_expect_eq(g.rep.offset[i], i);
	cr_expect_eq(g.fb.connections_seen, 2);
	rig_stop(&g);
}

Test(producer, lost_answer_without_idempotence_stores_twice)
{
	struct rig g = { .fb = { .drop_after_append = 1 } };
	struct tape_client_config c;
	struct tape_producer_config p;
	defaults(&c, &p);
	rig_start(&g, NULL, &c, &p);
	send_n(&g, 0, 10, false);
	cr_expect_eq(g.rep.ok, 10);
	cr_expect_eq(g.fb.part[0].log_end, 20, "at least once");
	cr_expect_eq(g.rep.offset[0], 10);
	rig_stop(&g);
}

Test(producer, late_answer_times_out_and_the_retry_is_a_duplicate)
{
	struct rig g = { .fb = { .hold_produce = 1 } };
	struct tape_client_config c;
	struct tape_producer_config p;
	defaults(&c, &p);
	c.request_timeout_ms = 300;
	p.idempotent = true;
	rig_start(&g, NULL, &c, &p);
	send_n(&g, 0, 10, false);
	cr_expect_eq(g.rep.ok, 10);
	expect_stored_in_order(&g, 0, 10);
	cr_expect_eq(g.rep.offset[9], 9);
	cr_expect_eq(g.fb.produce_seen, 2);
	rig_stop(&g);
}

Test(producer, refused_batch_fails_and_gives_its_sequences_back)
{
	struct rig g = { .fb = { .produce_errors = { 10 }, .produce_errors_count = 1 } };
	struct tape_client_config c;
	struct tape_producer_config p;
	defaults(&c, &p);
	p.idempotent = true;
	rig_start(&g, NULL, &c, &p);
	send_n(&g, 0, 5, false);
	cr_expect_eq(g.rep.failed, 5);
	cr_expect_eq(g.rep.first_error.code, -TAPE_EKAFKA);
	cr_expect_eq(g.rep.first_error.kafka_code, KAFKA_MESSAGE_TOO_LARGE);
	cr_expect_str_eq(g.rep.first_error.message,
	                 "cannot produce to \"t\" partition 0: MESSAGE_TOO_LARGE (10)");
	cr_expect_eq(g.rep.offset[0], -1);
	cr_expect_eq(tape_producer_failed(g.p), 5);
	send_n(&g, 5, 5, false);
	cr_expect_eq(g.rep.ok, 5, "sequence 0 again, accepted");
	expect_stored_in_order(&g, 5, 5);
	cr_expect_eq(g.fb.init_producer_id_seen, 1);
	rig_stop(&g);
}

Test(producer, retriable_errors_until_the_delivery_timeout)
{
	struct rig g = { .fb = { .produce_errors_count = FAKE_SCRIPT_MAX } };
	for (int i = 0; i < FAKE_SCRIPT_MAX; i++)
		g.fb.produce_errors[i] = KAFKA_NOT_ENOUGH_REPLICAS;
	struct tape_client_config c;
	struct tape_producer_config p;
	defaults(&c, &p);
	p.delivery_timeout_ms = 400;
	rig_start(&g, NULL, &c, &p);
	send_n(&g, 0, 3, false);
	cr_expect_eq(g.rep.failed, 3);
	cr_expect_eq(g.rep.first_error.code, -TAPE_EKAFKA);
	cr_expect_eq(g.rep.first_error.kafka_code, KAFKA_NOT_ENOUGH_REPLICAS);
	cr_expect_geq(g.fb.produce_seen, 3, "retried");
	cr_expect_eq(g.fb.part[0].log_end, 0);
	rig_stop(&g);
}

Test(producer, flush_with_nothing_outstanding_returns_at_once)
{
	struct rig g = { 0 };
	struct tape_client_config c;
	struct tape_producer_config p;
	defaults(&c, &p);
	rig_start(&g, NULL, &c, &p);
	struct tape_error err;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	cr_expect_eq(tape_producer_flush(g.p, 5000, &err), 0);
	send_n(&g, 0, 1, false);
	cr_expect_eq(tape_producer_flush(g.p, 5000, &err), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	cr_expect_lt(b.tv_sec - a.tv_sec, 2, "flush waited for nothing");
	rig_stop(&g);
}

Test(producer, acks_zero_reports_no_offsets)
{
	struct rig g = { 0 };
	struct tape_client_config c;
	struct tape_producer_config p;
	defaults(&c, &p);
	p.acks = 0;
	rig_start(&g, NULL, &c, &p);
	send_n(&g, 0, 20, false);
	cr_expect_eq(g.rep.ok, 20);
	cr_expect_eq(g.rep.offset[0], -1);
	/* Written is all the producer knows: wait for the broker to have read it. */
	for (int i = 0; i < 200 && g.fb.part[0].log_end < 20; i++)
		usleep(10000);
	expect_stored_in_order(&g, 0, 20);
	cr_expect_eq(g.fb.produce_acks_seen, 0);
	rig_stop(&g);
}

Test(producer, unknown_topic_without_auto_creation)
{
	struct rig g = { .fb = { .missing = true, .auto_create = true } };
	struct tape_client_config c;
	struct tape_producer_config p;
	defaults(&c, &p);
	c.allow_auto_create_topics = false;
	rig_start(&g, NULL, &c, &p);
	struct tape_error err;
	struct tape_record r = TAPE_RECORD("t");
	cr_expect_eq(tape_producer_send(g.p, &r, &err), -TAPE_EKAFKA);
	cr_expect_eq(err.kafka_code, KAFKA_UNKNOWN_TOPIC_OR_PARTITION);
	cr_expect_str_eq(err.message, "topic \"t\" does not exist");
	cr_expect_eq(tape_client_partitions(g.cl, "t", &err), -TAPE_EKAFKA);
	cr_expect_str_eq(err.message, "topic \"t\" does not exist");
	rig_stop(&g);
}

Test(producer, created_topic_after_leader_not_available)
{
	struct rig g = { .fb = { .missing = true,
		                 .auto_create = true,
		                 .leader_not_available = 2,
		                 .partitions = 4 } };
	struct tape_client_config c;
	struct tape_producer_config p;
	defaults(&c, &p);
	rig_start(&g, NULL, &c, &p);
	struct tape_error err;
	cr_expect_eq(tape_client_partitions(g.cl, "t", &err), 4, "%s", err.message);
	cr_expect_geq(g.fb.metadata_seen, 3);
	rig_stop(&g);
}

Test(producer, second_bootstrap_address_when_the_first_refuses)
{
	/* A bound socket that does not listen: connecting to it is refused. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
		                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	char first[64];
	snprintf(first, sizeof(first), "127.0.0.1:%d,", ntohs(sa.sin_port));
	struct rig g = { 0 };
	struct tape_client_config c;
	struct tape_producer_config p;
	defaults(&c, &p);
	rig_start(&g, first, &c, &p);
	send_n(&g, 0, 3, false);
	cr_expect_eq(g.rep.ok, 3);
	rig_stop(&g);
	close(fd);
}
