#!/usr/bin/env bash
# tests/integration/group_kcat_restart.sh: taped killed with SIGKILL and restarted (same data
# directory, same port) in the middle of a consumer group's life. Two kcat -G members consume
# a 6-partition topic and commit automatically (every 5 s: see below) while a producer adds
# records; the members keep running through the crash.
#
# Proves: the committed offsets read (OffsetFetch) just before the kill survive it (after the
# restart each is at least what it was: an acknowledged commit is durable); the members rejoin
# the restarted coordinator (DescribeGroups: Stable, range, 2 members) and go on reading; no
# record is skipped (every record in the topic is read at least once); and re-delivery is
# bounded by the last commit: a record read twice is always at or after the offset committed
# for its partition just before the kill (nothing below an acknowledged commit comes again).
set -uo pipefail
TEST_NAME=group_kcat_restart
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/group_kcat_lib.sh"
gk_require

GK_WORK=$(mktemp -d)
GK_TOPIC=crash
trap 'gk_cleanup; stop_taped; [ -n "${KEEP:-}" ] || rm -rf "$GK_WORK"' EXIT
# A fixed port, so the members reconnect to the restarted broker.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
conf=(group.initial.rebalance.delay.ms=0 listeners=PLAINTEXT://127.0.0.1:$port)
start_taped "$GK_WORK" "${conf[@]}"
[ "$TAPED_PORT" = "$port" ] || fail "taped listens on $TAPED_PORT, not $port"
gk_create_topic "$GK_TOPIC" 6

# committed FILE: the group's committed offset per partition ("partition offset"), -1 = none.
committed() {
	(cd "$LIB_DIR" && timeout 20 python3 -c '
import sys, rawkafka as rk
err, got = rk.Conn("127.0.0.1", int(sys.argv[1])).offset_fetch(
    "crash-group", [(sys.argv[2], list(range(6)))])
assert err == 0, "OffsetFetch: error %d" % err
for (t, p), (off, meta, e) in sorted(got.items()):
    assert e == 0, "OffsetFetch %s-%d: error %d" % (t, p, e)
    print(p, off)' "$TAPED_PORT" "$GK_TOPIC") >"$1" || fail "OffsetFetch failed"
}

# The group settles on an empty topic, so nothing is read twice before the crash. Members
# commit automatically (librdkafka's enable.auto.commit, every auto.commit.interval.ms = 5000 ms:
# kcat 1.7.1 routes -X auto.commit.interval.ms to the legacy topic-level property of that name,
# so the global one cannot be lowered from the command line).
# -E: kcat exits on "all brokers down" otherwise.
gk_member_start m1 crash-group -E -X enable.auto.commit=true
gk_member_start m2 crash-group -E -X enable.auto.commit=true
gk_wait_cover m1,m2 30
echo "$TEST_NAME: two members hold $(cat "$GK_WORK/state")"
gk_producer_start 0
# Until every partition has a commit above 0, then a little more so the crash falls between two
# auto commits.
for ((i = 0; i < 100; i++)); do
	committed "$GK_WORK/before"
	awk '$2 < 1 { bad = 1 } END { exit bad }' "$GK_WORK/before" && break
	sleep 0.2
done
awk '$2 < 1 { bad = 1 } END { exit bad }' "$GK_WORK/before" ||
	fail "no commit on some partition after 20 s: $(paste -sd' ' "$GK_WORK/before")"
sleep 2.5
committed "$GK_WORK/before"
gk_state >/dev/null || fail "a partition held by two members at once before the crash"
# taped keeps no group membership across a restart (only committed offsets): the first member
# to notice rejoins a new, empty group and gets every partition while the other still fetches
# its old ones until its next heartbeat (UNKNOWN_MEMBER_ID). That overlap is measured, not
# failed (Kafka persists GroupMetadata and would have none); its commits are refused meanwhile.
GK_TOLERATE_AFTER="TAPED KILLED"
echo "$GK_TOLERATE_AFTER" >>"$GK_WORK/members.log"
kill -KILL "$TAPED_PID"
{ wait "$TAPED_PID"; } 2>/dev/null
TAPED_PID=
read_before=$(cat "$GK_WORK"/m/*.out | wc -l)
echo "$TEST_NAME: SIGKILL with $read_before records read; committed:" \
	"$(paste -sd' ' "$GK_WORK/before")"

sleep 1
start_taped "$GK_WORK" "${conf[@]}"
[ "$TAPED_PORT" = "$port" ] || fail "the restarted taped listens on $TAPED_PORT, not $port"
committed "$GK_WORK/after"
join "$GK_WORK/before" "$GK_WORK/after" | awk '$3 < $2 { print; bad = 1 } END { exit bad }' \
	>"$GK_WORK/lost" ||
	fail "commits lost in the crash (partition before after): $(cat "$GK_WORK/lost")"
echo "$TEST_NAME: restarted; committed: $(paste -sd' ' "$GK_WORK/after")"

# The members (still the same processes) rejoin and go on; the producer goes on too.
sleep 4
gk_producer_stop
gk_wait_read 40
for m in m1 m2; do
	kill -0 "${GK_PID[$m]}" 2>/dev/null || fail "member $m exited"
done
for ((i = 0; i < 50; i++)); do
	d=$(gk_describe crash-group)
	[ "$d" = "Stable range 2" ] && break
	sleep 0.2
done
[ "$d" = "Stable range 2" ] || fail "DescribeGroups after the restart: $d, not 'Stable range 2'"
gk_wait_cover m1,m2 10
gk_state >/dev/null 2>"$GK_WORK/overlap" || fail "a partition held by two members at once"
overlaps=$(grep -o 'assigned to' "$GK_WORK/overlap" | wc -l)
python3 "$GK_PY" dups --committed "$GK_WORK/before" $(gk_outputs) >"$GK_WORK/dups" ||
	fail "re-delivery below an acknowledged commit: $(cat "$GK_WORK/dups")"
echo "$TEST_NAME: $(cat "$GK_WORK/missing"); $(cat "$GK_WORK/dups"); producer chunks" \
	"failed: $(cat "$GK_WORK/producer.failed" 2>/dev/null | wc -l); partitions assigned while" \
	"another member still held them, after the restart: $overlaps"
gk_member_stop m1 TERM
gk_member_stop m2 TERM
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
