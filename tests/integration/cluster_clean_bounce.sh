#!/usr/bin/env bash
# tests/integration/cluster_clean_bounce.sh: RELIABILITY.md's "leader clean bounce" (controlled
# shutdown). Three brokers, a topic with three replicas and min.insync.replicas=2; an
# idempotent acks=all producer (history_client) runs while the partition's leader gets SIGTERM
# three times and is restarted. A leaving broker revokes its lease, so the controller moves
# leadership at once instead of after broker.session.timeout.ms (8 s here): the longest gap
# between acknowledgements must stay well under that lease, and the checker must find
# nothing lost, duplicated or out of place.
set -uo pipefail
TEST_NAME=cluster_clean_bounce
. "$(dirname "$0")/cluster_lib.sh"
HC=$BUILD/tests/tools/history_client
CHECK=$LIB_DIR/../tools/history_check.py
[ -x "$HC" ] || fail "$HC is not built"
work=$(mktemp -d)
producer=
cleanup() {
	[ -n "$producer" ] && kill -KILL "$producer" 2>/dev/null && wait "$producer" 2>/dev/null
	cluster_cleanup
	rm -rf "$work"
}
trap cleanup EXIT

start_etcd "$work"
for id in 0 1 2; do
	start_broker "$work" "$id" default.replication.factor=3 replica.lag.time.max.ms=3000 \
		broker.session.timeout.ms=8000
done
wait_brokers 3
timeout 30 "$TAPE" topics -b "$(cluster_bootstrap)" create clean -p 1 -r 3 \
	-c min.insync.replicas=2 2>"$work/create.err" || fail "create: $(cat "$work/create.err")"
wait_isr clean 0 3

h=$work/history.jsonl
"$HC" produce -b "$(cluster_bootstrap)" -t clean --acks all --idempotent --duration 30 \
	--rate 1000 --delivery-timeout-ms 30000 -o "$h" --process p0 2>"$work/producer.err" &
producer=$!
sleep 3
for round in 1 2 3; do
	leader=$(leader_of clean 0) || fail "round $round: no metadata"
	[ "$leader" -ge 0 ] || fail "round $round: no leader"
	echo "$TEST_NAME: round $round: SIGTERM leader $leader ($(partition_state clean 0))"
	stop_broker "$leader" || fail "broker $leader did not stop cleanly (status $?)"
	wait_leader clean 0 10 "$leader" || fail "round $round: no new leader"
	restart_broker "$leader"
	wait_isr clean 0 3 60 || fail "round $round: the ISR did not return to 3"
	sleep 1
done
timeout 60 tail --pid="$producer" -f /dev/null || fail "the producer did not finish"
wait "$producer" || fail "the producer exited $?: $(cat "$work/producer.err")"
producer=
"$HC" read -b "$(cluster_bootstrap)" -t clean -o "$h" 2>"$work/read.err" ||
	fail "the final read: $(cat "$work/read.err")"
python3 "$CHECK" "$h" >"$work/check.out" 2>&1 || fail "the checker: $(cat "$work/check.out")"
grep -E 'max_unavailable_ms|^acked|^S1 |^S2 ' "$work/check.out"
gap=$(sed -n 's/.*"max_unavailable_ms": \([0-9.]*\).*/\1/p' "$work/check.out")
awk -v g="$gap" 'BEGIN { exit !(g < 4000) }' ||
	fail "acks stopped for $gap ms: leadership waited for the lease instead of moving at once"
echo "$TEST_NAME: ok"
