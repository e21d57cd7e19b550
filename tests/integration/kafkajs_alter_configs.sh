#!/usr/bin/env bash
# tests/integration/kafkajs_alter_configs.sh: kafkajs 2.2.4 admin.alterConfigs against taped
# (js/alter_configs.js): a topic created with two configs is altered (every override replaced,
# Kafka's AlterConfigs rule), validateOnly, refusals (bad value, unknown key, unknown topic,
# a broker resource), each checked with describeConfigs; the new segment.bytes applies to the
# live partition (its directory holds several segments after 40 small batches); then taped is
# restarted on the same data and describeConfigs still shows the altered values.
# Skips (77) without node or npm; installs kafkajs with `npm ci` when it is missing.
set -uo pipefail
TEST_NAME=kafkajs_alter_configs
. "$(dirname "$0")/lib.sh"

kafkajs_ready
work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
start_taped "$work"

timeout 60 node "$KAFKAJS_DIR/alter_configs.js" "$TAPED_BOOTSTRAP" before ||
	fail "alter_configs.js before exited $? (see its FAIL lines above)"
segments=$(ls "$work/data/alter-me-0/" | grep -c '\.log$')
[ "$segments" -ge 3 ] ||
	fail "alter-me-0 has $segments segment(s) after 40 batches with segment.bytes=4096"
stop_taped || fail "taped did not stop cleanly"

# start_taped reads the port from taped.out: the old one must not be read before the
# new taped truncates it.
rm -f "$work/taped.out"
start_taped "$work"
timeout 60 node "$KAFKAJS_DIR/alter_configs.js" "$TAPED_BOOTSTRAP" after ||
	fail "alter_configs.js after exited $? (see its FAIL lines above)"
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
