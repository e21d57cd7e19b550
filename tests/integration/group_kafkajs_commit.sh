#!/usr/bin/env bash
# tests/integration/group_kafkajs_commit.sh: a kafkajs 2.2.4 consumer group (js/group_commit.js:
# two consumers on a 4-partition topic) commits offsets in taped, with autoCommit and with
# manual commitOffsets after processing; consumers that start after the first ones
# disconnected resume exactly at the committed offsets (nothing before them is read again,
# everything after is read); admin.fetchOffsets agrees; commit metadata comes back exactly
# (null and "" apart, 4096 bytes accepted, 4097 refused). Then taped restarts on the same data
# and the committed offsets and metadata are still there.
# Skips (77) without node or npm; installs kafkajs with `npm ci` when it is missing.
set -uo pipefail
TEST_NAME=group_kafkajs_commit
. "$(dirname "$0")/lib.sh"

kafkajs_ready
work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
start_taped "$work" group.initial.rebalance.delay.ms=0

timeout 150 node "$KAFKAJS_DIR/group_commit.js" "$TAPED_BOOTSTRAP" run
rc=$?
[ $rc -eq 0 ] || fail "group_commit.js run exited $rc (see its FAIL lines above)"
stop_taped || fail "taped did not stop cleanly"

start_taped "$work" group.initial.rebalance.delay.ms=0
timeout 60 node "$KAFKAJS_DIR/group_commit.js" "$TAPED_BOOTSTRAP" after-restart
rc=$?
[ $rc -eq 0 ] || fail "group_commit.js after-restart exited $rc (see its FAIL lines above)"
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
