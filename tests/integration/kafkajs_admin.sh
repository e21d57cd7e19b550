#!/usr/bin/env bash
# tests/integration/kafkajs_admin.sh: the kafkajs 2.2.4 admin client (js/admin.js) against a
# taped started with num.partitions=2 and log.retention.hours=24: createTopics (true, then
# false for an existing topic; partitions and configs; refusals: a bad config, replication
# factor, partition count or name; validateOnly; an existing and a new topic at once),
# fetchTopicOffsets before and after producing, describeConfigs of topics (set, default and
# derived values, every key, an unknown topic) and of broker "0", deleteTopics (and of an
# unknown topic) and re-creating a deleted name.
# Skips (77) without node or npm; installs kafkajs with `npm ci` when it is missing.
set -uo pipefail
TEST_NAME=kafkajs_admin
. "$(dirname "$0")/lib.sh"

kafkajs_ready
work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
start_taped "$work" num.partitions=2 log.retention.hours=24

timeout 120 node "$KAFKAJS_DIR/admin.js" "$TAPED_BOOTSTRAP" | tee "$work/admin.out"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
	grep -q 'WAITING ON DescribeConfigs' "$work/admin.out" &&
		echo "$TEST_NAME: the describeConfigs cases wait on DescribeConfigs (API 32) in taped" >&2
	fail "admin.js exited $rc (see its FAIL lines above)"
fi
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
