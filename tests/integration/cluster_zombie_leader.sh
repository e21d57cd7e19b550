#!/usr/bin/env bash
# tests/integration/cluster_zombie_leader.sh: RELIABILITY.md's "zombie leader" on three brokers
# (etcd, broker.session.timeout.ms=3000, a topic with one partition, three replicas and
# min.insync.replicas=2). history_client produces (acks=all, idempotent) and observes the ISR;
# the leader is given a tail of records no follower has (followers stopped for 0.3 s while
# it appends, among them one acks=1 record), then stopped with SIGSTOP for twice the session
# timeout; a new leader is awaited while producing goes on; then, while the old leader is still stopped, two raw Produce
# requests (acks=1 and acks=-1) are queued on a connection to it, and it is resumed with
# SIGCONT; a third pair is sent right after. The old leader must acknowledge none of them:
# every answer is NOT_LEADER_OR_FOLLOWER (6), its stderr shows it fenced itself, and none of
# those values is in the final read. Then it must truncate to the new leader's log and
# rejoin: it logs the truncation, the ISR is full again and the three replicas' logs list the
# same batches (`tape dump`); the acks=1 tail record is not in the final read. The checker judges the whole history (S1 lost, S2 duplicate, S3 inconsistent
# offsets, S9 min-ISR among others: all 0).
set -uo pipefail
TEST_NAME=cluster_zombie_leader
. "$(dirname "$0")/cluster_lib.sh"
HC=$BUILD/tests/tools/history_client
CHECK=$LIB_DIR/../tools/history_check.py
ZP=$LIB_DIR/zombie_produce.py
[ -x "$HC" ] || fail "$HC is not built"
work=$(mktemp -d)
producer= observer= zpid=
cleanup() {
	local pid
	for pid in $producer $observer $zpid; do
		kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	cluster_cleanup
	[ -n "${KEEP:-}" ] || rm -rf "$work"; [ -n "${KEEP:-}" ] && echo "kept $work"
}
trap cleanup EXIT

SESSION_MS=3000
start_etcd "$work"
for id in 0 1 2; do
	start_broker "$work" "$id" default.replication.factor=3 offsets.topic.replication.factor=3 \
		replica.lag.time.max.ms=2000 broker.session.timeout.ms=$SESSION_MS
done
create_topic zombie -p 1 -r 3 -c min.insync.replicas=2
wait_isr zombie 0 3

h=$work/history.jsonl
"$HC" isr -b "$(cluster_bootstrap)" -t zombie --min-insync 2 --interval-ms 200 -o "$h" \
	--process observer 2>"$work/observer.err" &
observer=$!
"$HC" produce -b "$(cluster_bootstrap)" -t zombie -p 0 --acks all --idempotent --duration 22 \
	--rate 500 --request-timeout-ms 3000 --delivery-timeout-ms 30000 -o "$h" --process p0 \
	2>"$work/producer.err" &
producer=$!
sleep 3

read -r old epoch _ isr <<<"$(partition_state zombie 0)"
[ -n "$old" ] && [ "$old" -ge 0 ] || fail "no leader before the stop"
followers=()
for id in 0 1 2; do [ "$id" -ne "$old" ] && followers+=("$id"); done
# A tail only the old leader has: the followers are stopped (well inside
# replica.lag.time.max.ms, so they stay in the ISR) while records arrive, then the leader is
# stopped before they can fetch them. The first records after the followers' stop may still
# reach them (the answer to a fetch they had waiting lands in their socket buffers); what
# follows, among it one acks=1 record sent here, cannot.
kill_broker "${followers[0]}" STOP
kill_broker "${followers[1]}" STOP
sleep 0.3
python3 "$ZP" acks1 127.0.0.1 "${BROKER_PORT[$old]}" zombie 0 zombie-tail >"$work/zt.out" 2>&1
echo "$TEST_NAME: SIGSTOP leader $old (epoch $epoch, isr $isr; followers stopped 0.3 s," \
	"then $(cat "$work/zt.out"))"
stopped_at=$(date +%s%N)
kill_broker "$old" STOP
kill_broker "${followers[0]}" CONT
kill_broker "${followers[1]}" CONT
grep -q 'acks=1 error=0 ' "$work/zt.out" || fail "the tail record was refused: $(cat "$work/zt.out")"
wait_leader zombie 0 20 "$old"
read -r new new_epoch _ new_isr <<<"$(partition_state zombie 0)"
echo "$TEST_NAME: new leader $new (epoch $new_epoch, isr $new_isr) after" \
	"$((($(date +%s%N) - stopped_at) / 1000000)) ms"
[ "$new_epoch" -gt "$epoch" ] || fail "the new leader's epoch $new_epoch is not above $epoch"
# Stay stopped for twice the session timeout in all: the lease is surely gone.
left_ms=$((2 * SESSION_MS - ($(date +%s%N) - stopped_at) / 1000000))
[ "$left_ms" -gt 0 ] && sleep "$(awk -v m="$left_ms" 'BEGIN { printf "%.3f", m / 1000 }')"

# Requests queued while the old leader is stopped: the first thing it reads when it resumes.
port=${BROKER_PORT[$old]}
python3 "$ZP" connect 127.0.0.1 "$port" zombie 0 zombie-queued "$work/go" >"$work/zq.out" \
	2>&1 &
zpid=$!
for ((i = 0; i < 50; i++)); do
	grep -q ready "$work/zq.out" && break
	sleep 0.1
done
grep -q ready "$work/zq.out" || fail "could not queue requests on broker $old: $(cat "$work/zq.out")"
kill_broker "$old" CONT
touch "$work/go"
python3 "$ZP" now 127.0.0.1 "$port" zombie 0 zombie-after >"$work/za.out" 2>&1 ||
	fail "produce to broker $old right after SIGCONT: $(cat "$work/za.out")"
wait "$zpid" || fail "the queued requests to broker $old: $(cat "$work/zq.out")"
zpid=
for f in zq za; do
	sed "s/^/$TEST_NAME: produce to the resumed old leader ($f): /" "$work/$f.out"
	[ "$(grep -c 'acks=.* error=6 ' "$work/$f.out")" -eq 2 ] ||
		fail "the old leader did not answer NOT_LEADER_OR_FOLLOWER (6) to both: $(cat "$work/$f.out")"
done
grep -q -E 'fenced' "$work/broker-$old.err" ||
	fail "broker $old's stderr has no fencing line"
grep -E 'fenced' "$work/broker-$old.err" | head -2 | sed "s/^/$TEST_NAME: broker $old: /"

# It rejoins as a follower of the new leader, cutting its own tail first.
wait_isr zombie 0 3 30
read -r leader _ _ isr <<<"$(partition_state zombie 0)"
echo "$TEST_NAME: after the rejoin: leader $leader, isr $isr"
grep -q 'zombie-0: truncating to offset' "$work/broker-$old.err" ||
	fail "broker $old did not truncate its tail"
grep 'zombie-0: truncating to offset' "$work/broker-$old.err" | sed "s/^/$TEST_NAME: broker $old: /"

timeout 60 tail --pid="$producer" -f /dev/null || fail "the producer did not finish"
wait "$producer" || fail "the producer exited $?: $(cat "$work/producer.err")"
producer=
kill -TERM "$observer"
wait "$observer"
observer=
cat "$work/producer.err"
wait_isr zombie 0 3 30
"$HC" read -b "$(cluster_bootstrap)" -t zombie -o "$h" --timeout 30 2>"$work/read.err" ||
	fail "the final read: $(cat "$work/read.err")"
grep -q '"value":"zombie-' "$h" && fail "a value sent to the old leader was read: $(grep -m2 '"value":"zombie-' "$h")"
python3 "$CHECK" "$h" >"$work/check.out" 2>&1 || fail "the checker: $(cat "$work/check.out")"
cat "$work/check.out"

# Every replica holds the same batches (the old leader cut what only it had). The followers
# may need a moment after the last produce.
same=
for ((i = 0; i < 50; i++)); do
	for id in 0 1 2; do
		for f in "$work/broker-$id/data/zombie-0/"*.log; do
			"$TAPE" dump "$f" | grep '^baseOffset'
		done >"$work/dump-$id" || fail "tape dump of broker $id's log"
	done
	if cmp -s "$work/dump-0" "$work/dump-1" && cmp -s "$work/dump-0" "$work/dump-2"; then
		same=1
		break
	fi
	sleep 0.2
done
[ -n "$same" ] || fail "the replicas' logs differ: $(diff "$work/dump-$old" "$work/dump-$leader" | head -6)"
echo "$TEST_NAME: the three logs list the same $(grep -c . "$work/dump-0") batches"
cluster_stop_all
echo "$TEST_NAME: ok"
