/*
 * tests/unit/client/test_errors.c: the words libtape says (client/tape_error.c,
 * client/hostport.c, the unreachable-broker message of client/cluster.c, configuration
 * checks of the client and the producer).
 *
 * Covers: errno text as it reads inside a sentence ("connection refused"); Kafka codes named
 * with their number, unknown ones too; messages cut to the field and kept on one line; the
 * retriable and stale-metadata sets on the codes the producer meets; broker lists (names,
 * IPv4, bracketed IPv6, the default port, blanks and empty entries) and each malformed form's
 * message; host:port printed with brackets for IPv6; "cannot reach broker at H:P: connection
 * refused" for one refusing address (a bound socket that does not listen, so the refusal is
 * certain), and the list form for two; configuration values out of range refused with a
 * message naming them.
 */
#include "client/hostport.h"
#include "client/tape.h"
#include "client/tape_error.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

Test(errors, errno_text_inside_a_sentence)
{
	char b[64];
	cr_expect_str_eq(tape_error_text(-ECONNREFUSED, b, sizeof(b)), "connection refused");
	cr_expect_str_eq(tape_error_text(-ETIMEDOUT, b, sizeof(b)), "connection timed out");
	cr_expect_str_eq(tape_error_text(-EHOSTUNREACH, b, sizeof(b)), "no route to host");
	cr_expect_str_eq(tape_error_text(-TAPE_EKAFKA, b, sizeof(b)),
	                 "the broker answered with an error");
	cr_expect_str_eq(tape_error_kafka_text(KAFKA_NOT_LEADER_OR_FOLLOWER, b, sizeof(b)),
	                 "NOT_LEADER_OR_FOLLOWER (6)");
	cr_expect_str_eq(tape_error_kafka_text(999, b, sizeof(b)), "unknown error (999)");
}

Test(errors, set_cuts_and_keeps_one_line)
{
	struct tape_error e;
	cr_expect_eq(tape_error_set(&e, -EIO, "a\nb\r%s", "c"), -EIO);
	cr_expect_str_eq(e.message, "a b c");
	cr_expect_eq(e.kafka_code, 0);
	char big[600];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tape_error_set(&e, -EIO, "%s", big);
	cr_expect_eq(strlen(e.message), sizeof(e.message) - 1);
	cr_expect_eq(tape_error_kafka(&e, 3, "topic \"%s\" does not exist", "x"), -TAPE_EKAFKA);
	cr_expect_eq(e.kafka_code, 3);
	cr_expect_eq(tape_error_set(NULL, -EIO, "ignored"), -EIO);
	tape_error_clear(&e);
	cr_expect_eq(e.code, 0);
	cr_expect_str_eq(e.message, "");
}

Test(errors, retriable_and_stale_metadata)
{
	const int16_t retriable[] = { KAFKA_NOT_LEADER_OR_FOLLOWER,
		                      KAFKA_LEADER_NOT_AVAILABLE,
		                      KAFKA_UNKNOWN_TOPIC_OR_PARTITION,
		                      KAFKA_REQUEST_TIMED_OUT,
		                      KAFKA_NOT_ENOUGH_REPLICAS,
		                      KAFKA_KAFKA_STORAGE_ERROR,
		                      KAFKA_CORRUPT_MESSAGE };
	const int16_t fatal[] = { KAFKA_MESSAGE_TOO_LARGE,
		                  KAFKA_INVALID_TOPIC_EXCEPTION,
		                  KAFKA_OUT_OF_ORDER_SEQUENCE_NUMBER,
		                  KAFKA_INVALID_PRODUCER_EPOCH,
		                  KAFKA_TOPIC_AUTHORIZATION_FAILED,
		                  KAFKA_UNSUPPORTED_VERSION,
		                  KAFKA_INVALID_RECORD };
	for (size_t i = 0; i < sizeof(retriable) / sizeof(retriable[0]); i++)
		cr_expect(tape_error_kafka_retriable(retriable[i]), "%d", retriable[i]);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		cr_expect_not(tape_error_kafka_retriable(fatal[i]), "%d", fatal[i]);
	cr_expect(tape_error_kafka_stale_metadata(KAFKA_NOT_LEADER_OR_FOLLOWER));
	cr_expect(tape_error_kafka_stale_metadata(KAFKA_UNKNOWN_TOPIC_OR_PARTITION));
	cr_expect(tape_error_kafka_stale_metadata(KAFKA_LEADER_NOT_AVAILABLE));
	cr_expect_not(tape_error_kafka_stale_metadata(KAFKA_NOT_ENOUGH_REPLICAS));
	cr_expect_not(tape_error_kafka_stale_metadata(KAFKA_REQUEST_TIMED_OUT));
}

Test(errors, broker_lists)
{
	struct hostport hp[4];
	struct tape_error e;
	cr_assert_eq(
	    hostport_parse_list(" kafka-1:9093 , ,127.0.0.1:1,[::1]:29092,localhost ", hp, 4, &e),
	    4, "%s", e.message);
	cr_expect_str_eq(hp[0].host, "kafka-1");
	cr_expect_eq(hp[0].port, 9093);
	cr_expect_str_eq(hp[1].host, "127.0.0.1");
	cr_expect_eq(hp[1].port, 1);
	cr_expect_str_eq(hp[2].host, "::1");
	cr_expect_eq(hp[2].port, 29092);
	cr_expect_str_eq(hp[3].host, "localhost");
	cr_expect_eq(hp[3].port, 9092);
	/* Unbracketed, the last colon separates the port, as Java's getHost reads it. */
	cr_assert_eq(hostport_parse_list("fe80::1:9000", hp, 4, &e), 1);
	cr_expect_str_eq(hp[0].host, "fe80::1");
	cr_expect_eq(hp[0].port, 9000);

	const struct {
		const char *in;
		const char *msg;
	} bad[] = {
		{ "a:0", "malformed broker address \"a:0\": the port must be 1-65535" },
		{ "a:65536", "malformed broker address \"a:65536\": the port must be 1-65535" },
		{ "a:9x", "malformed broker address \"a:9x\": the port must be 1-65535" },
		{ "a:", "malformed broker address \"a:\": the port must be 1-65535" },
		{ ":9092", "malformed broker address \":9092\": no host" },
		{ "[::1:9092", "malformed broker address \"[::1:9092\": no closing ']'" },
		{ "[::1]9092", "malformed broker address \"[::1]9092\": expected ':' after ']'" },
		{ " , ", "no broker address given" },
		{ "a,b,c,d,e", "too many broker addresses (at most 4)" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(hostport_parse_list(bad[i].in, hp, 4, &e), -TAPE_ECONFIG, "%s",
		             bad[i].in);
		cr_expect_str_eq(e.message, bad[i].msg);
	}
	char b[64];
	cr_expect_str_eq(hostport_format("::1", 9092, b, sizeof(b)), "[::1]:9092");
	cr_expect_str_eq(hostport_format("h", 1, b, sizeof(b)), "h:1");
}

/* A loopback port that refuses connections for as long as fd stays open. */
static int refusing_port(int *fd)
{
	*fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
		                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	cr_assert_eq(bind(*fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(*fd, (struct sockaddr *)&sa, &len), 0);
	return ntohs(sa.sin_port);
}

Test(errors, cannot_reach_broker)
{
	int fd1, fd2;
	int p1 = refusing_port(&fd1), p2 = refusing_port(&fd2);
	char brokers[64], want[256];
	struct tape_client_config cfg;
	tape_client_config_init(&cfg);
	cfg.brokers = brokers;
	struct tape_client *cl;
	struct tape_error e;

	snprintf(brokers, sizeof(brokers), "127.0.0.1:%d", p1);
	cr_assert_eq(tape_client_new(&cfg, &cl, &e), 0);
	cr_expect_eq(tape_client_partitions(cl, "x", &e), -ECONNREFUSED);
	snprintf(want, sizeof(want), "cannot reach broker at 127.0.0.1:%d: connection refused", p1);
	cr_expect_str_eq(e.message, want);
	tape_client_free(cl);

	snprintf(brokers, sizeof(brokers), "127.0.0.1:%d,127.0.0.1:%d", p1, p2);
	cr_assert_eq(tape_client_new(&cfg, &cl, &e), 0);
	cr_expect_eq(tape_client_partitions(cl, "x", &e), -ECONNREFUSED);
	snprintf(want, sizeof(want),
	         "cannot reach any broker: 127.0.0.1:%d: connection refused; 127.0.0.1:%d: "
	         "connection refused",
	         p1, p2);
	cr_expect_str_eq(e.message, want);
	tape_client_free(cl);
	close(fd1);
	close(fd2);
}

Test(errors, configuration_refused_with_its_name)
{
	struct tape_client_config c;
	struct tape_client *cl;
	struct tape_error e;
	tape_client_config_init(&c);
	c.brokers = "h:99999";
	cr_expect_eq(tape_client_new(&c, &cl, &e), -TAPE_ECONFIG);
	cr_expect_str_eq(e.message,
	                 "malformed broker address \"h:99999\": the port must be 1-65535");
	cr_expect_null(cl);
	tape_client_config_init(&c);
	c.request_timeout_ms = 0;
	cr_expect_eq(tape_client_new(&c, &cl, &e), -TAPE_ECONFIG);
	cr_expect_str_eq(e.message, "request_timeout_ms must be positive (is 0)");

	tape_client_config_init(&c);
	cr_assert_eq(tape_client_new(&c, &cl, &e), 0);
	struct tape_producer_config p;
	struct tape_producer *pr;
	tape_producer_config_init(&p);
	p.idempotent = true;
	p.acks = 1;
	cr_expect_eq(tape_producer_new(cl, &p, &pr, &e), -TAPE_ECONFIG);
	cr_expect_str_eq(e.message, "an idempotent producer needs acks=all");
	tape_producer_config_init(&p);
	p.acks = 2;
	cr_expect_eq(tape_producer_new(cl, &p, &pr, &e), -TAPE_ECONFIG);
	cr_expect_str_eq(e.message, "acks must be -1 (all), 0 or 1 (is 2)");
	tape_producer_config_init(&p);
	p.compression = 7;
	cr_expect_eq(tape_producer_new(cl, &p, &pr, &e), -TAPE_ECONFIG);
	tape_producer_config_init(&p);
	p.max_in_flight = 0;
	cr_expect_eq(tape_producer_new(cl, &p, &pr, &e), -TAPE_ECONFIG);
	tape_client_free(cl);
}
