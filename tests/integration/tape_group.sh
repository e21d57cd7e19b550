#!/usr/bin/env bash
# tests/integration/tape_group.sh: `tape consume -g` (libtape's group mode) against a real
# taped, with kcat as the independent reader of what it commits.
#
#   - two tape members share a 4-partition topic (range): the first reads 400 keyed records
#     alone, the second joins (the first revokes, both are assigned two partitions), 400 more
#     records are produced; stopped with SIGTERM, the two outputs together hold every
#     (partition, offset) exactly once, 800 in all, and each member read some: the first's
#     commit before its revoke is where the second starts;
#   - `tape consume -g G -c 10` then `kcat -G G`: kcat starts at offset 10 exactly (the final
#     commit is the position after the records printed) and reads the other 90;
#   - a ^regex subscription (topic.metadata.refresh.interval.ms=1000) reads a matching topic
#     created after it started (by tape produce, auto-create on), not a topic that does not
#     match, and never __consumer_offsets;
#   - -e in group mode exits once every assigned partition reached its end;
#   - -p with -g is refused (exit 2).
set -uo pipefail
TEST_NAME=tape_group
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tape_group_lib.sh"

command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"
tape=$BUILD/bin/tape
[ -x "$tape" ] || fail "$tape is not built"
work=$(mktemp -d)
trap 'cleanup_members; stop_taped; rm -rf "$work"' EXIT
start_taped "$work" num.partitions=4 group.initial.rebalance.delay.ms=0
B=$TAPED_BOOTSTRAP
produce() { timeout 20 "$tape" produce -b "$B" -K: "$@" 2>/dev/null || fail "tape produce $*"; }

# ---- two members share a topic, every record once --------------------------------------------
seq 0 399 | awk '{print "k" $1 ":v" $1}' | produce share
bg_consume m1 -g share_g -f '%p %o %s\n' share
wait_lines 400 20 "$work/m1.out"
grep -q 'assigned 4 partitions' "$work/m1.err" || fail "m1 was not assigned 4: $(cat "$work/m1.err")"
bg_consume m2 -g share_g -f '%p %o %s\n' share
wait_grep "$work/m2.err" '^assigned 2 partitions' 20
wait_grep "$work/m1.err" '^assigned 2 partitions' 20
seq 400 799 | awk '{print "k" $1 ":v" $1}' | produce share
wait_lines 800 20 "$work/m1.out" "$work/m2.out"
sleep 1 # anything read twice would show up now
stop_member m1
stop_member m2
total=$(cat "$work/m1.out" "$work/m2.out" | wc -l)
uniq=$(cat "$work/m1.out" "$work/m2.out" | awk '{print $1, $2}' | sort -u | wc -l)
[ "$total" -eq 800 ] && [ "$uniq" -eq 800 ] ||
	fail "two members read $total records, $uniq distinct, not 800 once each"
values=$(cat "$work/m1.out" "$work/m2.out" | awk '{print $3}' | sort -u | wc -l)
[ "$values" -eq 800 ] || fail "$values distinct values, not 800"
m2n=$(wc -l <"$work/m2.out")
[ "$m2n" -gt 0 ] || fail "the second member read nothing"
grep -q '^revoked 4 partitions' "$work/m1.err" || fail "m1 did not revoke (eager): $(cat "$work/m1.err")"

# ---- -c 10 commits exactly what was printed; kcat continues there -----------------------------
seq 0 99 | sed 's/^/k:v/' | produce -p 0 commits
timeout 20 "$tape" consume -b "$B" -g commit_g -c 10 -f '%p %o\n' commits >"$work/c.out" 2>"$work/c.err" ||
	fail "tape consume -c 10: $(cat "$work/c.err")"
[ "$(wc -l <"$work/c.out")" -eq 10 ] && [ "$(tail -1 "$work/c.out")" = "0 9" ] ||
	fail "tape consume -c 10 printed: $(cat "$work/c.out")"
timeout 30 kcat -b "$B" -G commit_g -X auto.offset.reset=earliest -e -f '%p %o\n' commits \
	>"$work/k.out" 2>"$work/k.err" || fail "kcat -G: $(tail -3 "$work/k.err")"
[ "$(head -1 "$work/k.out")" = "0 10" ] && [ "$(wc -l <"$work/k.out")" -eq 90 ] ||
	fail "kcat did not continue at offset 10: $(head -2 "$work/k.out") ($(wc -l <"$work/k.out") lines)"

# ---- -e: exits when every assigned partition is at its end ------------------------------------
timeout 20 "$tape" consume -b "$B" -g e_g -e -f '%p %o\n' share >"$work/e.out" 2>"$work/e.err" ||
	fail "tape consume -g -e: $(cat "$work/e.err")"
[ "$(wc -l <"$work/e.out")" -eq 800 ] || fail "-e read $(wc -l <"$work/e.out") records, not 800"
# The group committed its end: a second run reads nothing and still exits.
timeout 20 "$tape" consume -b "$B" -g e_g -e share >"$work/e2.out" 2>"$work/e2.err" ||
	fail "tape consume -g -e again: $(cat "$work/e2.err")"
[ ! -s "$work/e2.out" ] || fail "the second -e run read $(wc -l <"$work/e2.out") records"

# ---- ^regex picks up a topic created later -----------------------------------------------------
echo "k:first" | produce ev.a
echo "k:other" | produce other.a
bg_consume rx -g rx_g -X topic.metadata.refresh.interval.ms=1000 -f '%t %s\n' '^ev\..*'
wait_grep "$work/rx.out" '^ev\.a first$' 20
echo "k:later" | produce ev.b
wait_grep "$work/rx.out" '^ev\.b later$' 15
stop_member rx
grep -qE '^(other|__consumer_offsets)' "$work/rx.out" && fail "the pattern read other topics: $(cat "$work/rx.out")"
grep -q '"ev.b" \[0\]' "$work/rx.err" || fail "ev.b was not assigned: $(cat "$work/rx.err")"

# ---- usage -----------------------------------------------------------------------------------
"$tape" consume -b "$B" -g x -p 0 share >/dev/null 2>"$work/u.err"
[ $? -eq 2 ] || fail "-p with -g was not refused"
echo "$TEST_NAME: PASS"
