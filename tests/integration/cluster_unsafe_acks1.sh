#!/usr/bin/env bash
# tests/integration/cluster_unsafe_acks1.sh: the negative control of the cluster suite
# (RELIABILITY.md: "a checker that never fails proves nothing"). Unsafe settings must show
# loss, deterministically: three brokers (broker.session.timeout.ms=4000,
# replica.lag.time.max.ms=4000), a topic with three replicas and min.insync.replicas=1.
#
# Both followers are stopped with SIGSTOP for about 1.5 s, shorter than the lease and than
# replica.lag.time.max.ms, so they stay registered and in the ISR. Meanwhile history_client
# produces with acks=1 (not idempotent) to the leader: a first record (whose append may still
# reach the followers in the answer to the fetch they had waiting), then 300 records over one
# second, acknowledged while only the leader has them. The leader is killed with SIGKILL and
# the followers resumed: one of them, in the ISR, becomes leader without those records. The old
# leader restarts and truncates to the new leader's log. The final read and
# `history_check.py --expect-loss` must exit 0 (S1u > 0: the checker saw acknowledged acks=1
# records vanish); without --expect-loss the checker must report that loss (S1u > 0 in its
# JSON line).
set -uo pipefail
TEST_NAME=cluster_unsafe_acks1
. "$(dirname "$0")/cluster_lib.sh"
HC=$BUILD/tests/tools/history_client
CHECK=$LIB_DIR/../tools/history_check.py
[ -x "$HC" ] || fail "$HC is not built"
work=$(mktemp -d)
producer=
cleanup() {
	[ -n "$producer" ] && kill -KILL "$producer" 2>/dev/null && wait "$producer" 2>/dev/null
	cluster_cleanup
	[ -n "${KEEP:-}" ] || rm -rf "$work"; [ -n "${KEEP:-}" ] && echo "kept $work"
}
trap cleanup EXIT

start_etcd "$work"
for id in 0 1 2; do
	start_broker "$work" "$id" default.replication.factor=3 offsets.topic.replication.factor=3 \
		replica.lag.time.max.ms=4000 broker.session.timeout.ms=4000
done
create_topic unsafe -p 1 -r 3 -c min.insync.replicas=1
wait_isr unsafe 0 3
h=$work/history.jsonl
# Some records every replica has before the fault.
"$HC" produce -b "$(cluster_bootstrap)" -t unsafe -p 0 --acks 1 -n 100 --rate 1000 -o "$h" \
	--process before 2>"$work/before.err" || fail "produce before: $(cat "$work/before.err")"
wait_isr unsafe 0 3

read -r leader epoch _ isr <<<"$(partition_state unsafe 0)"
[ -n "$leader" ] && [ "$leader" -ge 0 ] || fail "no leader"
followers=()
for id in 0 1 2; do [ "$id" -ne "$leader" ] && followers+=("$id"); done
echo "$TEST_NAME: leader $leader (epoch $epoch, isr $isr): SIGSTOP followers ${followers[*]}"
stop_ns=$(date +%s%N)
kill_broker "${followers[0]}" STOP
kill_broker "${followers[1]}" STOP
# cluster_bootstrap is the leader alone now.
"$HC" produce -b "$(cluster_bootstrap)" -t unsafe -p 0 --acks 1 -n 1 -o "$h" --process first \
	--request-timeout-ms 2000 --delivery-timeout-ms 2000 2>"$work/first.err" ||
	fail "produce first: $(cat "$work/first.err")"
sleep 0.2
"$HC" produce -b "$(cluster_bootstrap)" -t unsafe -p 0 --acks 1 -n 300 --rate 300 -o "$h" \
	--process p0 --request-timeout-ms 2000 --delivery-timeout-ms 2000 2>"$work/producer.err" ||
	fail "produce: $(cat "$work/producer.err")"
cat "$work/first.err" "$work/producer.err"
kill_broker "$leader" KILL
kill_broker "${followers[0]}" CONT
kill_broker "${followers[1]}" CONT
echo "$TEST_NAME: followers stopped $((($(date +%s%N) - stop_ns) / 1000000)) ms; leader $leader killed"
wait_leader unsafe 0 20 "$leader"
read -r new nepoch _ nisr <<<"$(partition_state unsafe 0)"
echo "$TEST_NAME: new leader $new (epoch $nepoch, isr $nisr)"
restart_broker "$leader"
wait_isr unsafe 0 3 30
grep 'unsafe-0: truncating to offset' "$work/broker-$leader.err" | tail -1 |
	sed "s/^/$TEST_NAME: broker $leader: /"
grep -q 'unsafe-0: truncating to offset' "$work/broker-$leader.err" ||
	fail "the old leader did not truncate"

"$HC" read -b "$(cluster_bootstrap)" -t unsafe -o "$h" --timeout 20 2>"$work/read.err" ||
	fail "the final read: $(cat "$work/read.err")"
python3 "$CHECK" --expect-loss "$h" >"$work/check.out" 2>&1 ||
	fail "the checker with --expect-loss saw no loss: $(cat "$work/check.out")"
cat "$work/check.out"
python3 "$CHECK" "$h" >"$work/check2.out" 2>&1
rc=$?
s1u=$(sed -n 's/^history_check: //p' "$work/check2.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["S1u"])')
echo "$TEST_NAME: the checker without --expect-loss: exit $rc, S1u $s1u"
[ "$rc" -eq 1 ] || [ "${s1u:-0}" -gt 0 ] || fail "the checker did not report the loss: $(cat "$work/check2.out")"
cluster_stop_all
echo "$TEST_NAME: ok"
