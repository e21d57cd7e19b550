#!/usr/bin/env bash
# tests/integration/group_errors.sh: the group coordinator's error paths with Kafka's exact
# codes, over raw frames (group_errors.py lists the cases): 79 MEMBER_ID_REQUIRED and the
# rejoin, 22 ILLEGAL_GENERATION, 25 UNKNOWN_MEMBER_ID, 26 INVALID_SESSION_TIMEOUT, 23
# INCONSISTENT_GROUP_PROTOCOL, 12 OFFSET_METADATA_TOO_LARGE (nothing committed), 27 for a commit
# during CompletingRebalance and a heartbeat during PreparingRebalance, 24 INVALID_GROUP_ID,
# DeleteGroups 68/69/0 (offsets gone), LeaveGroup v3 batches, standalone commits with null and
# "" metadata kept apart, session and pending-member expiry, Empty groups without offsets
# forgotten by the housekeeping. Then SIGTERM and a restart on the same data: the standalone
# commits are still there, the deleted group's offsets still gone.
set -uo pipefail
TEST_NAME=group_errors
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"

work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
conf=(group.initial.rebalance.delay.ms=0 group.min.session.timeout.ms=6000
	group.max.session.timeout.ms=1800000 log.retention.check.interval.ms=1000)
py() {
	timeout 120 python3 "$(dirname "$0")/group_errors.py" "$@" --port "$TAPED_PORT"
}
start_taped "$work" "${conf[@]}"
py before || fail "see above"
kill -0 "$TAPED_PID" 2>/dev/null || fail "taped died"
stop_taped || fail "taped did not stop cleanly"
start_taped "$work" "${conf[@]}"
py after || fail "after the restart: see above"
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
