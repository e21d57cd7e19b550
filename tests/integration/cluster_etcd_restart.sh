#!/usr/bin/env bash
# tests/integration/cluster_etcd_restart.sh: RELIABILITY.md's "full etcd outage" on three
# brokers (broker.session.timeout.ms=8000: the lease TTL is 8 s) and a topic with one partition,
# three replicas and min.insync.replicas=2, while history_client produces (acks=all,
# idempotent) and observes the ISR the whole time.
#
#   1. etcd is killed with SIGKILL for 3 s (well inside the TTL): the leases hold, so acks=all
#      keeps being acknowledged (the history has acks completed inside the outage, and kcat's
#      acks=all produce to a second topic works);
#   2. etcd restarts on its data: Metadata still answers on every broker, a new topic can be
#      created (it needs etcd), the ISR is full, kcat produces and consumes on the new topic;
#   3. etcd is killed again for longer than the TTL: every broker fences itself (its stderr says
#      so), no acks=all is acknowledged from the fencing point until etcd returns, kcat's
#      acks=all produce fails, and raw acks=1/acks=-1 produces straight to a leader are
#      answered NOT_LEADER_OR_FOLLOWER; etcd restarts: the partition has a leader and a full ISR
#      again, acks=all works, and no broker died. Just before this outage a key outside the
#      cluster's prefix is written (etcd shared with others), which once kept every broker
#      fenced after its lease was renewed.
#
# Then the final read and history_check.py over the whole history: nothing acknowledged lost
# or duplicated, no ack below min.insync.replicas. Brokers stop cleanly (exit 0, no assertion).
set -uo pipefail
TEST_NAME=cluster_etcd_restart
. "$(dirname "$0")/cluster_lib.sh"
command -v kcat >/dev/null || skip "kcat is not installed"
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

SESSION_MS=8000
mono_ns() { python3 -c 'import time; print(time.monotonic_ns())'; }
# acks_between HISTORY FROM_NS TO_NS: the acks=all sends acknowledged (ok) with a completion in
# [FROM_NS, TO_NS].
acks_between() {
	python3 - "$@" <<'PY'
import json, sys
path, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
n = 0
for line in open(path):
    try:
        op = json.loads(line)
    except ValueError:
        continue
    if op.get("op") == "send" and op.get("type") == "ok" and op.get("complete_ns") is not None \
            and lo <= op["complete_ns"] <= hi:
        n += 1
print(n)
PY
}
kproduce() { # BROKERS TOPIC ACKS COUNT PREFIX
	seq -f "$5-%g" "$4" | timeout 30 kcat -P -b "$1" -t "$2" -p 0 -X "acks=$3" \
		-X message.timeout.ms=5000 -X retries=0 2>"$work/kcat.err"
}
alive() {
	local id
	for id in 0 1 2; do
		kill -0 "${BROKER_PID[$id]}" 2>/dev/null || fail "broker $id died"
	done
}

start_etcd "$work"
for id in 0 1 2; do
	start_broker "$work" "$id" default.replication.factor=3 offsets.topic.replication.factor=3 \
		replica.lag.time.max.ms=3000 broker.session.timeout.ms=$SESSION_MS
done
B=$(cluster_bootstrap)
# ev is the history's; kcat writes to evk (its records would be values the history never sent).
for t in ev evk; do
	create_topic $t -p 1 -r 3 -c min.insync.replicas=2
	wait_isr $t 0 3
done

h=$work/history.jsonl
"$HC" isr -b "$B" -t ev --min-insync 2 --interval-ms 200 -o "$h" --process observer \
	2>"$work/observer.err" &
observer=$!
"$HC" produce -b "$B" -t ev -p 0 --acks all --idempotent --duration 40 --rate 200 \
	--request-timeout-ms 3000 --delivery-timeout-ms 30000 -o "$h" --process p0 \
	2>"$work/producer.err" &
producer=$!
sleep 2

# 1. A short outage: the leases hold.
t0=$(mono_ns)
kill_etcd KILL
sleep 0.5
kproduce "$B" evk all 100 short || fail "acks=all with etcd down (inside the TTL): $(cat "$work/kcat.err")"
sleep 2.5
t1=$(mono_ns)
restart_etcd
n=$(acks_between "$h" "$t0" "$t1")
echo "$TEST_NAME: etcd down $(((t1 - t0) / 1000000)) ms: $n acks=all acknowledged meanwhile," \
	"kcat's 100 acks=all too"
[ "$n" -gt 100 ] || fail "only $n acks=all acknowledged while etcd was down for 3 s"

# 2. Everything works after it.
for id in 0 1 2; do
	m=$(timeout 10 kcat -L -b "127.0.0.1:${BROKER_PORT[$id]}" -t ev 2>&1)
	grep -q 'broker [0-9]* at' <<<"$m" && grep -q 'partition 0, leader' <<<"$m" ||
		fail "broker $id's Metadata after the restart: $m"
done
timeout 30 "$TAPE" topics -b "$B" create ev2 -p 1 -r 3 -c min.insync.replicas=2 \
	2>"$work/create2.err" || fail "create after the etcd restart: $(cat "$work/create2.err")"
wait_isr ev2 0 3 20
wait_isr ev 0 3 20
kproduce "$B" ev2 all 500 after || fail "acks=all on a new topic: $(cat "$work/kcat.err")"
got=$(timeout 20 kcat -C -b "$B" -t ev2 -p 0 -o beginning -e -q | wc -l)
[ "$got" -eq 500 ] || fail "read $got of 500 from the new topic"
echo "$TEST_NAME: after the restart: Metadata on every broker, new topic created," \
	"500 records produced and read back, ISR $(partition_state ev 0 | cut -d' ' -f4)"

# 3. A long outage: past the TTL every broker fences itself.
sleep 1
kleader=$(leader_of evk 0) && [ "$kleader" -ge 0 ] || fail "evk has no leader"
# Another user of the same etcd writes outside our prefix: etcd's revision moves past the last
# one the brokers' watch delivers. (A broker renewing its lease after a fence once waited for
# its view to reach the keepalive's revision, so it never led again.)
python3 - "$ETCD_ENDPOINT" <<'PY' || fail "a put outside the cluster's prefix"
import base64, json, sys, urllib.request
b64 = lambda s: base64.b64encode(s.encode()).decode()
body = json.dumps({"key": b64("/elsewhere/k"), "value": b64("v")}).encode()
urllib.request.urlopen("http://%s/v3/kv/put" % sys.argv[1], body, timeout=5).read()
PY
t2=$(mono_ns)
kill_etcd KILL
sleep $((SESSION_MS / 1000 + 1))
t3=$(mono_ns)
for id in 0 1 2; do
	grep -q "cluster: broker $id fenced" "$work/broker-$id.err" ||
		fail "broker $id did not fence itself with etcd down past the TTL"
done
if kproduce "$B" evk all 10 fenced; then fail "acks=all succeeded with every broker fenced"; fi
# Straight to evk's leader (a client would not go anywhere else): refused, acks=1 too.
python3 "$LIB_DIR/zombie_produce.py" now 127.0.0.1 "${BROKER_PORT[$kleader]}" evk 0 fenced \
	>"$work/zf.out" 2>&1 || fail "raw produce to the fenced leader: $(cat "$work/zf.out")"
[ "$(grep -c 'acks=.* error=6 ' "$work/zf.out")" -eq 2 ] ||
	fail "the fenced leader did not answer NOT_LEADER_OR_FOLLOWER (6): $(cat "$work/zf.out")"
echo "$TEST_NAME: raw produce to evk's fenced leader $kleader:" $(cat "$work/zf.out")
echo "$TEST_NAME: etcd down past the TTL: every broker fenced; kcat acks=all failed:" \
	"$(grep -v '^ *$' "$work/kcat.err" | tail -1 | head -c 200)"
t4=$(mono_ns)
restart_etcd
t5=$(mono_ns)
# The leases could not be older than the last keepalive before the kill: fenced from
# t2 + TTL at the latest.
fenced_from=$((t2 + SESSION_MS * 1000000))
n=$(acks_between "$h" "$fenced_from" "$t4")
echo "$TEST_NAME: etcd down $(((t5 - t2) / 1000000)) ms; acks=all acknowledged from" \
	"$(((fenced_from - t2) / 1000000)) ms after the kill until the restart: $n"
[ "$n" -eq 0 ] || fail "$n acks=all acknowledged while every broker was fenced"
wait_leader ev 0 30
wait_isr ev 0 3 30
alive
wait_isr evk 0 3 30
kproduce "$B" evk all 100 healed || fail "acks=all after the long outage: $(cat "$work/kcat.err")"
echo "$TEST_NAME: after the long outage: leader $(leader_of ev 0)," \
	"$(((($(mono_ns)) - t5) / 1000000)) ms from the etcd restart to a full ISR and kcat's acks"

timeout 60 tail --pid="$producer" -f /dev/null || fail "the producer did not finish"
wait "$producer" || fail "the producer exited $?: $(cat "$work/producer.err")"
producer=
kill -TERM "$observer"
wait "$observer"
observer=
cat "$work/producer.err"
alive
"$HC" read -b "$B" -t ev -o "$h" --timeout 30 2>"$work/read.err" ||
	fail "the final read: $(cat "$work/read.err")"
python3 "$CHECK" "$h" >"$work/check.out" 2>&1 || fail "the checker: $(cat "$work/check.out")"
cat "$work/check.out"
cluster_stop_all
echo "$TEST_NAME: ok"
