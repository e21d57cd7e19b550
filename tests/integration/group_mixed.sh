#!/usr/bin/env bash
# tests/integration/group_mixed.sh: a librdkafka member (kcat -G) and a kafkajs 2.2.4 member in
# one consumer group of taped (js/group_mixed.js spawns kcat): with a common assignor name
# ("roundrobin": kcat's partition.assignment.strategy, and a kafkajs assigner of that name
# wrapping kafkajs's RoundRobinAssigner) they share a 4-partition topic whichever leads:
# disjoint assignments covering every partition, as describeGroups and both clients report
# them, each record read at least once and, once both are in, only by its partition's owner.
# With their default assignors they do not mix: whichever joins second gets
# INCONSISTENT_GROUP_PROTOCOL and the first keeps every partition.
# Skips (77) without kcat, node or npm; installs kafkajs with `npm ci` when it is missing.
set -uo pipefail
TEST_NAME=group_mixed
. "$(dirname "$0")/lib.sh"

command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"
kafkajs_ready
work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
start_taped "$work" group.initial.rebalance.delay.ms=0

timeout 150 node "$KAFKAJS_DIR/group_mixed.js" "$TAPED_BOOTSTRAP" "$(command -v kcat)"
rc=$?
[ $rc -eq 0 ] || fail "group_mixed.js exited $rc (see its FAIL lines above)"
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
