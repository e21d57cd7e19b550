/*
 * tests/unit/server/test_config.c: the broker configuration. Defaults; values checked by type
 * and bounds with messages naming the key; unknown keys refused; the properties reader
 * (comments, separators, line numbers in errors); Kafka's derived keys (retention from ms,
 * minutes or hours); topic-level overrides resolved into a partition configuration and
 * described with their sources; the committed config/server.properties matching the table.
 */
#include "base/errors.h"
#include "server/config.h"
#include "tests/support/batches.h"
#include "tests/support/logtest.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

Test(config, defaults_and_checked_values)
{
	struct config c;
	config_init(&c);
	cr_assert_str_eq(config_str(&c, CFG_LISTENERS), "PLAINTEXT://localhost:9092");
	cr_assert_eq(config_int(&c, CFG_MESSAGE_MAX_BYTES), 1048588);
	cr_assert(config_bool(&c, CFG_AUTO_CREATE_TOPICS));
	cr_assert_eq(config_retention_ms(&c), 168ll * 3600 * 1000);
	char err[256];
	cr_assert_eq(config_set(&c, "num.partitions", "12", err, sizeof(err)), 0);
	cr_assert_eq(config_int(&c, CFG_NUM_PARTITIONS), 12);
	cr_assert_eq(config_set(&c, "num.partitions", "zero", err, sizeof(err)), -TAPE_ECONFIG);
	cr_assert(strstr(err, "num.partitions"), "%s", err);
	cr_assert_eq(config_set(&c, "num.partitions", "0", err, sizeof(err)), -TAPE_ECONFIG);
	cr_assert_eq(config_set(&c, "log.segment.bytes", "3000000000", err, sizeof(err)),
	             -TAPE_ECONFIG);
	cr_assert_eq(config_set(&c, "log.flush.mode", "sometimes", err, sizeof(err)),
	             -TAPE_ECONFIG);
	cr_assert(strstr(err, "log.flush.mode"));
	cr_assert_eq(config_set(&c, "no.such.key", "1", err, sizeof(err)), -TAPE_ECONFIG);
	cr_assert(strstr(err, "no.such.key"));
	cr_assert_eq(config_set(&c, "auto.create.topics.enable", "yes", err, sizeof(err)),
	             -TAPE_ECONFIG);
	cr_assert_eq(config_set(&c, "unclean.leader.election.enable", "true", err, sizeof(err)),
	             -TAPE_ECONFIG);
	cr_assert_eq(config_set(&c, "broker.id", "7", err, sizeof(err)), 0);
	cr_assert_eq(config_int(&c, CFG_NODE_ID), 7);
	cr_assert_eq(config_set(&c, "log.dirs", "/a,/b", err, sizeof(err)), -TAPE_ECONFIG);
	cr_assert_eq(config_set(&c, "log.retention.minutes", "5", err, sizeof(err)), 0);
	cr_assert_eq(config_retention_ms(&c), 5 * 60 * 1000);
	cr_assert_eq(config_set(&c, "log.retention.ms", "-1", err, sizeof(err)), 0);
	cr_assert_eq(config_retention_ms(&c), -1);
	config_free(&c);
}

Test(config, properties_file)
{
	char *dir = test_tmpdir("config");
	char *path = lt_path(dir, "server.properties");
	const char *text = "# a comment\n! another\n\n  listeners = PLAINTEXT://127.0.0.1:19092\n"
	                   "log.dirs:/tmp/x\nlog.flush.mode=none\n";
	lt_file_write(path, (const uint8_t *)text, strlen(text));
	struct config c;
	config_init(&c);
	char err[256];
	cr_assert_eq(config_load_file(&c, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(config_str(&c, CFG_LISTENERS), "PLAINTEXT://127.0.0.1:19092");
	cr_assert_str_eq(config_str(&c, CFG_LOG_DIRS), "/tmp/x");
	cr_assert_str_eq(config_str(&c, CFG_FLUSH_MODE), "none");
	const char *bad = "num.partitions=3\nlog.flush.mode=sometimes\n";
	lt_file_write(path, (const uint8_t *)bad, strlen(bad));
	cr_assert_eq(config_load_file(&c, path, err, sizeof(err)), -TAPE_ECONFIG);
	cr_assert(strstr(err, ":2:") && strstr(err, "log.flush.mode"), "%s", err);
	cr_assert_eq(config_load_file(&c, "/nonexistent/x", err, sizeof(err)), -TAPE_ECONFIG);
	config_free(&c);
	free(path);
	test_rmdir(dir);
}

struct seen {
	int count;
	char segment_bytes[32];
	enum config_source segment_source, retention_source;
};

static void collect(void *arg, const char *name, const char *value, enum config_source source)
{
	struct seen *s = arg;
	s->count++;
	if (strcmp(name, "segment.bytes") == 0) {
		snprintf(s->segment_bytes, sizeof(s->segment_bytes), "%s", value);
		s->segment_source = source;
	}
	if (strcmp(name, "retention.ms") == 0)
		s->retention_source = source;
}

Test(config, topic_overrides)
{
	struct config c;
	config_init(&c);
	char err[256];
	cr_assert_eq(config_set(&c, "log.retention.hours", "1", err, sizeof(err)), 0);
	struct topic_config tc;
	topic_config_init(&tc);
	cr_assert_eq(topic_config_set(&tc, "segment.bytes", "65536", err, sizeof(err)), 0);
	cr_assert_eq(topic_config_set(&tc, "cleanup.policy", "compact", err, sizeof(err)), 0);
	cr_assert_eq(topic_config_set(&tc, "flush.mode", "interval", err, sizeof(err)), 0);
	cr_assert_eq(
	    topic_config_set(&tc, "message.timestamp.type", "LogAppendTime", err, sizeof(err)), 0);
	cr_assert_eq(topic_config_set(&tc, "log.segment.bytes", "1", err, sizeof(err)),
	             -TAPE_ECONFIG, "broker names are not topic names");
	cr_assert_eq(topic_config_set(&tc, "segment.bytes", "12", err, sizeof(err)), -TAPE_ECONFIG);
	cr_assert(strstr(err, "segment.bytes"));
	struct partition_config pc;
	topic_config_resolve(&c, &tc, &pc);
	cr_assert_eq(pc.segment_bytes, 65536);
	cr_assert(pc.cleanup_compact && !pc.cleanup_delete);
	cr_assert_eq(pc.flush_mode, FLUSH_INTERVAL);
	cr_assert(pc.log_append_time);
	cr_assert_eq(pc.retention_ms, 3600 * 1000);
	cr_assert_eq(partition_config_check(&pc), 0);
	struct seen s = { 0 };
	topic_config_describe(&c, &tc, collect, &s);
	cr_assert_str_eq(s.segment_bytes, "65536");
	cr_assert_eq(s.segment_source, CONFIG_SOURCE_TOPIC);
	/* retention.ms derives from log.retention.hours, set: static, as Kafka's synonyms say. */
	cr_assert_eq(s.retention_source, CONFIG_SOURCE_STATIC_BROKER);
	cr_assert_geq(s.count, 10);
	topic_config_free(&tc);
	config_free(&c);
}

Test(config, sample_file_is_current)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	config_print_sample(f);
	fclose(f);
	const char *root = getenv("TAPE_SOURCE_DIR");
	char path[512];
	snprintf(path, sizeof(path), "%s/config/server.properties", root ? root : ".");
	uint8_t *file;
	size_t n = lt_file_read(path, &file);
	cr_assert_eq(n, len,
	             "config/server.properties differs from config_print_sample(): "
	             "regenerate it (taped --print-config)");
	cr_assert_eq(memcmp(file, buf, len), 0);
	free(file);
	free(buf);
}
