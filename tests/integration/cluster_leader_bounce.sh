#!/usr/bin/env bash
# tests/integration/cluster_leader_bounce.sh: RELIABILITY.md's "leader hard bounce x3" on a
# three-broker cluster (etcd, min.insync.replicas=2, a topic with one partition and three
# replicas). history_client produces (acks=all, idempotent, 1000 a second) and observes the
# ISR while the partition's leader is killed with SIGKILL, a new leader is awaited, the old
# one restarted and the ISR awaited full again, three times. Then the final read and
# history_check.py: nothing acknowledged lost or duplicated, offsets consistent and
# contiguous, no ack while the ISR was below 2; and the producer must have been acknowledged
# after the last bounce (L1, crudely). Skips (77) while taped has no cluster mode.
set -uo pipefail
TEST_NAME=cluster_leader_bounce
. "$(dirname "$0")/cluster_lib.sh"
HC=$BUILD/tests/tools/history_client
CHECK=$LIB_DIR/../tools/history_check.py
[ -x "$HC" ] || fail "$HC is not built"
work=$(mktemp -d)
producer= observer=
cleanup() {
	local pid
	for pid in $producer $observer; do kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
	cluster_cleanup
	rm -rf "$work"
}
trap cleanup EXIT

start_etcd "$work"
for id in 0 1 2; do
	start_broker "$work" "$id" min.insync.replicas=2 default.replication.factor=3 \
		offsets.topic.replication.factor=3 replica.lag.time.max.ms=3000 \
		broker.session.timeout.ms=4000
done
wait_brokers 3
timeout 30 "$TAPE" topics -b "$(cluster_bootstrap)" create bounce -p 1 -r 3 2>"$work/create.err" ||
	fail "create: $(cat "$work/create.err")"
wait_isr bounce 0 3

h=$work/history.jsonl
"$HC" isr -b "$(cluster_bootstrap)" -t bounce --min-insync 2 --interval-ms 200 -o "$h" \
	--process observer 2>"$work/observer.err" &
observer=$!
"$HC" produce -b "$(cluster_bootstrap)" -t bounce --acks all --idempotent --duration 40 \
	--rate 1000 --delivery-timeout-ms 30000 -o "$h" --process p0 2>"$work/producer.err" &
producer=$!
sleep 3
for round in 1 2 3; do
	leader=$(leader_of bounce 0) || fail "round $round: no metadata"
	[ "$leader" -ge 0 ] || fail "round $round: no leader"
	echo "$TEST_NAME: round $round: SIGKILL leader $leader ($(partition_state bounce 0))"
	kill_broker "$leader" KILL
	wait_leader bounce 0 30 "$leader"
	sleep 2
	restart_broker "$leader"
	wait_isr bounce 0 3 60
done
timeout 120 tail --pid="$producer" -f /dev/null || fail "the producer did not finish"
wait "$producer" || fail "the producer exited $?: $(cat "$work/producer.err")"
producer=
kill -TERM "$observer"
wait "$observer"
observer=
cat "$work/producer.err"
"$HC" read -b "$(cluster_bootstrap)" -t bounce -o "$h" 2>"$work/read.err" ||
	fail "the final read: $(cat "$work/read.err")"
python3 "$CHECK" "$h" >"$work/check.out" 2>&1 || fail "the checker: $(cat "$work/check.out")"
cat "$work/check.out"
echo "$TEST_NAME: ok"
