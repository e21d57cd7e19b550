#!/usr/bin/env bash
# tests/integration/group_kcat_share.sh: three kcat -G members (librdkafka, the default range
# assignor) share a 6-partition topic through taped's group coordinator.
#
# 1. 3000 records, then three members: they settle on an assignment where each partition is
#    held by exactly one of them, and read everything.
# 2. A window with no rebalance: 600 more records, all read, each partition by exactly one
#    member (checked on the records each member read in the window, not only on what kcat
#    says it was assigned), and what each read is what it was assigned.
# 3. With a producer adding records all along: m1 gets SIGTERM (kcat closes the consumer:
#    revoke, commit, LeaveGroup) and its partitions move to m2 and m3 well before a session
#    timeout (6 s) could have done it; then m2 gets SIGKILL (no LeaveGroup) and its partitions
#    move to m3 only once its session timed out.
# 4. The producer stops: every record in the topic was read at least once (duplicates are
#    allowed: at-least-once), every line read is the record at that offset, and no partition
#    was ever held by two members at once (the members' rebalance lines, in write order).
set -uo pipefail
TEST_NAME=group_kcat_share
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/group_kcat_lib.sh"
gk_require

GK_WORK=$(mktemp -d)
GK_TOPIC=share
trap 'gk_cleanup; stop_taped; [ -n "${KEEP:-}" ] || rm -rf "$GK_WORK"' EXIT
start_taped "$GK_WORK" group.initial.rebalance.delay.ms=0
gk_create_topic "$GK_TOPIC" 6

# ---- 1. three members -------------------------------------------------------------------------
gk_produce 0 3000
for m in m1 m2 m3; do
	gk_member_start $m share-group
done
gk_wait_cover m1,m2,m3 30
gk_wait_read 30
echo "$TEST_NAME: three members hold $(cat "$GK_WORK/state") and read the first 3000 records"

# ---- 2. a window without a rebalance ------------------------------------------------------------
gk_window m1,m2,m3 3000 600
[ "$(gk_describe share-group)" = "Stable range 3" ] ||
	fail "DescribeGroups: $(gk_describe share-group), not 'Stable range 3'"

# ---- 3. a clean leave, then a crash -------------------------------------------------------------
gk_producer_start 100000
sleep 1
gk_member_stop m1 TERM
gk_wait_cover m2,m3 20
leave_s=$GK_WAITED
[ "$leave_s" -lt 5 ] || fail "m1's partitions took $leave_s s to move after its LeaveGroup"
grep -q 'revoked' <(grep 'memberid m1-' "$GK_WORK/members.log") || fail "m1 never revoked"
echo "$TEST_NAME: m1 left (SIGTERM): m2, m3 hold $(cat "$GK_WORK/state") after ${leave_s} s"
sleep 1
t0=$(date +%s%N)
gk_member_stop m2 KILL
gk_wait_cover m3 30
crash_ms=$((($(date +%s%N) - t0) / 1000000))
# The coordinator may only notice a silent member at its session timeout (6000 ms after its
# last heartbeat, at most 500 ms before the kill).
[ "$crash_ms" -ge 5000 ] ||
	fail "m2's partitions moved ${crash_ms} ms after SIGKILL: before its session could expire"
echo "$TEST_NAME: m2 killed (SIGKILL): m3 holds $(cat "$GK_WORK/state") after ${crash_ms} ms"
sleep 1

# ---- 4. everything read, nothing held twice -----------------------------------------------------
gk_producer_stop
gk_wait_read 30
gk_state >/dev/null || fail "a partition held by two members at once: see above"
echo "$TEST_NAME: $(cat "$GK_WORK/missing"), producer chunks failed:" \
	"$(cat "$GK_WORK/producer.failed" 2>/dev/null | wc -l)"
gk_member_stop m3 TERM
kill -0 "$TAPED_PID" 2>/dev/null || fail "taped died"
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
