#!/usr/bin/env bash
# tests/integration/tape_group_failover.sh: `tape consume -g` members that die and members that
# rebalance cooperatively, against a real taped (group.min.session.timeout.ms is 6000 there).
#
#   - two tape members (session.timeout.ms=6000, heartbeat.interval.ms=1000) share a 4-partition
#     topic; one is killed with SIGKILL: within the session timeout (plus a heartbeat and the
#     rejoin) the other is assigned all 4 partitions and reads records produced after the kill;
#   - cooperative-sticky: the first member owns all 4 partitions; when the second joins, the
#     first revokes only the 2 that move (never all 4) and keeps the other 2 without being
#     assigned them again, the second is assigned the 2 moved ones; every record of the topic
#     is read once across both.
set -uo pipefail
TEST_NAME=tape_group_failover
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tape_group_lib.sh"

tape=$BUILD/bin/tape
[ -x "$tape" ] || fail "$tape is not built"
work=$(mktemp -d)
trap 'cleanup_members; stop_taped; rm -rf "$work"' EXIT
start_taped "$work" num.partitions=4 group.initial.rebalance.delay.ms=0
B=$TAPED_BOOTSTRAP
produce() { timeout 20 "$tape" produce -b "$B" -K: "$@" 2>/dev/null || fail "tape produce $*"; }
keyed() { seq "$1" "$2" | awk '{print "k" $1 ":v" $1}'; }
short=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=1000)

# ---- SIGKILL: the survivor takes every partition after the session timeout ---------------------
keyed 0 199 | produce crash
bg_consume a -g crash_g "${short[@]}" -f '%p %o\n' crash
wait_grep "$work/a.err" '^assigned 4 partitions' 20
bg_consume b -g crash_g "${short[@]}" -f '%p %o\n' crash
wait_grep "$work/b.err" '^assigned 2 partitions' 20
wait_grep "$work/a.err" '^assigned 2 partitions' 20
kill -KILL "${PIDS[a]}"
wait "${PIDS[a]}" 2>/dev/null
unset "PIDS[a]"
killed_at=$(date +%s)
wait_grep "$work/b.err" '^assigned 4 partitions' 20
took=$(($(date +%s) - killed_at))
[ "$took" -ge 4 ] || fail "b took all partitions ${took}s after the kill: before the session timeout?"
before=$(wc -l <"$work/b.out")
keyed 200 299 | produce crash
wait_lines $((before + 100)) 20 "$work/b.out"
stop_member b
[ "$(tail -n 100 "$work/b.out" | awk '{print $1}' | sort -u | wc -l)" -eq 4 ] ||
	fail "b did not read the new records of all 4 partitions"

# ---- cooperative-sticky: only the moved partitions are revoked -----------------------------------
keyed 0 399 | produce coop
bg_consume c1 -g coop_g --assignor cooperative-sticky -f '%p %o\n' coop
wait_lines 400 20 "$work/c1.out"
grep -q '^assigned 4 partitions' "$work/c1.err" || fail "c1: $(cat "$work/c1.err")"
bg_consume c2 -g coop_g --assignor cooperative-sticky -f '%p %o\n' coop
wait_grep "$work/c2.err" '^assigned 2 partitions' 20
wait_grep "$work/c1.err" '^revoked 2 partitions' 20
keyed 400 799 | produce coop
wait_lines 800 20 "$work/c1.out" "$work/c2.out"
sleep 1
stop_member c1
stop_member c2
! grep -q '^revoked 4 partitions' <(head -n -1 "$work/c1.err") ||
	fail "cooperative c1 revoked everything: $(cat "$work/c1.err")"
[ "$(grep -c '^assigned' "$work/c1.err")" -eq 1 ] ||
	fail "c1 was assigned again what it kept: $(cat "$work/c1.err")"
moved=$(grep '^revoked 2' "$work/c1.err" | head -1 | grep -oE '\[[0-9]+\]' | sort | tr '\n' ' ')
got=$(grep '^assigned 2' "$work/c2.err" | head -1 | grep -oE '\[[0-9]+\]' | sort | tr '\n' ' ')
[ "$moved" = "$got" ] || fail "c1 revoked $moved but c2 was assigned $got"
total=$(cat "$work/c1.out" "$work/c2.out" | wc -l)
uniq=$(cat "$work/c1.out" "$work/c2.out" | sort -u | wc -l)
[ "$total" -eq 800 ] && [ "$uniq" -eq 800 ] || fail "cooperative: $total records, $uniq distinct"
echo "$TEST_NAME: PASS"
