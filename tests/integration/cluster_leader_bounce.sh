#!/usr/bin/env bash
# tests/integration/cluster_leader_bounce.sh: RELIABILITY.md's "leader hard bounce x5" on a
# three-broker cluster (etcd, min.insync.replicas=2, broker.session.timeout.ms=4000, a topic
# with one partition and three replicas). history_client produces (acks=all, idempotent, 1000
# a second) and observes the ISR while the partition's leader is killed with SIGKILL, a new
# leader is awaited, the old one restarted and the ISR awaited full again, five times; then
# the producer is stopped (SIGTERM). The final read and history_check.py: nothing
# acknowledged lost or duplicated, offsets consistent and contiguous, no ack while the ISR was
# below 2; and the producer must have been acknowledged after every bounce (L1, crudely).
# Prints each round's failover time, from the kill (CLOCK_MONOTONIC, the history's clock) to
# the first acknowledgement of a send made after it (so by the new leader), as
# "failover_ms: round N: X", and their median; and when the ISR observer first saw another
# leader ("leader_seen_ms": the election, the lease's expiry mostly; what failover_ms adds is
# the client's retry backoff, up to 1 s).
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
	[ -n "${KEEP:-}" ] || rm -rf "$work"; [ -n "${KEEP:-}" ] && echo "kept $work"
}
trap cleanup EXIT

ROUNDS=5
# sigkill_at PID: SIGKILL to PID, then prints CLOCK_MONOTONIC ns (the history's clock) taken
# right after the kill(2): no send made after that time can reach the killed process.
sigkill_at() {
	python3 -c 'import os, signal, sys, time
os.kill(int(sys.argv[1]), signal.SIGKILL)
print(time.monotonic_ns())' "$1"
}
start_etcd "$work"
for id in 0 1 2; do
	start_broker "$work" "$id" min.insync.replicas=2 default.replication.factor=3 \
		offsets.topic.replication.factor=3 replica.lag.time.max.ms=3000 \
		broker.session.timeout.ms=4000
done
wait_brokers 3
create_topic bounce -p 1 -r 3
wait_isr bounce 0 3

h=$work/history.jsonl
"$HC" isr -b "$(cluster_bootstrap)" -t bounce --min-insync 2 --interval-ms 200 -o "$h" \
	--process observer 2>"$work/observer.err" &
observer=$!
"$HC" produce -b "$(cluster_bootstrap)" -t bounce --acks all --idempotent --duration 300 \
	--rate 1000 --delivery-timeout-ms 30000 -o "$h" --process p0 2>"$work/producer.err" &
producer=$!
sleep 3
kills=()
for ((round = 1; round <= ROUNDS; round++)); do
	leader=$(leader_of bounce 0) || fail "round $round: no metadata"
	[ "$leader" -ge 0 ] || fail "round $round: no leader"
	echo "$TEST_NAME: round $round: SIGKILL leader $leader ($(partition_state bounce 0))"
	kills+=("$(sigkill_at "${BROKER_PID[$leader]}"):$leader")
	kill_broker "$leader" KILL # reaps it
	wait_leader bounce 0 30 "$leader"
	sleep 2
	restart_broker "$leader"
	wait_isr bounce 0 3 60
done
sleep 1
kill -TERM "$producer"
timeout 30 tail --pid="$producer" -f /dev/null || fail "the producer did not stop"
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
# Failover per round: the first ok send invoked after the kill, completed when.
python3 - "$h" "${kills[@]}" >"$work/failover.out" <<'PY' || fail "failover times: $(cat "$work/failover.out")"
import json, sys
kills = [tuple(int(x) for x in k.split(":")) for k in sys.argv[2:]]
oks, isrs = [], []
for line in open(sys.argv[1]):
    try:
        op = json.loads(line)
    except ValueError:
        continue
    if op.get("op") == "send" and op.get("type") == "ok":
        oks.append((op["invoke_ns"], op["complete_ns"]))
    elif op.get("op") == "isr":
        isrs.append((op["invoke_ns"], op["complete_ns"], op["leader"]))
times, seen = [], []
for n, (k, old) in enumerate(kills, 1):
    done = [c for i, c in oks if i > k]
    if not done:
        print("round %d: no send made after the kill was acknowledged" % n)
        sys.exit(1)
    ms = (min(done) - k) / 1e6
    times.append(ms)
    print("failover_ms: round %d: %.0f" % (n, ms))
    # The observer's first Metadata after the kill naming another leader: when the cluster
    # had one (the rest of failover_ms is the client's retry backoff).
    new = [c for i, c, leader in isrs if i > k and leader >= 0 and leader != old]
    if new:
        seen.append((min(new) - k) / 1e6)
        print("leader_seen_ms: round %d: %.0f" % (n, seen[-1]))
times.sort()
seen.sort()
print("failover_ms: median: %.0f" % times[len(times) // 2])
if seen:
    print("leader_seen_ms: median: %.0f" % seen[len(seen) // 2])
PY
sed "s/^/$TEST_NAME: /" "$work/failover.out"
cluster_stop_all
echo "$TEST_NAME: ok"
