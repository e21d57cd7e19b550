#!/usr/bin/env bash
# tests/integration/group_kafkajs_admin.sh: the kafkajs 2.2.4 admin client's group calls
# (js/group_admin.js) against taped's coordinator: describeGroups of a running group (Stable,
# members with client id and host, RoundRobinAssigner, metadata and assignments that decode
# with kafkajs's AssignerProtocol and match what each consumer was given), listGroups,
# deleteGroups (refused while members are active, then works: offsets gone, Dead), describing
# an unknown group (Dead), setOffsets and resetOffsets on an Empty group, standalone commits
# (refused in a running group, taken in an Empty one, creating a group when there is none).
# Skips (77) without node or npm; installs kafkajs with `npm ci` when it is missing.
set -uo pipefail
TEST_NAME=group_kafkajs_admin
. "$(dirname "$0")/lib.sh"

kafkajs_ready
work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
start_taped "$work" group.initial.rebalance.delay.ms=0

timeout 150 node "$KAFKAJS_DIR/group_admin.js" "$TAPED_BOOTSTRAP"
rc=$?
[ $rc -eq 0 ] || fail "group_admin.js exited $rc (see its FAIL lines above)"
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
