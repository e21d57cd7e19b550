#!/usr/bin/env bash
# tests/integration/cluster_basic.sh: three brokers on one etcd. A topic with three replicas
# and min.insync.replicas=2 is created through one broker and shows up on all of them
# (Metadata v7: live brokers, leader, leader epoch, replicas, ISR); acks=all records written
# through kcat are read back whole from the leader; then a follower is killed: the ISR shrinks
# to two and acks=all keeps working; with both followers down acks=all is refused with
# NOT_ENOUGH_REPLICAS (19) while acks=1 works; the followers come back, catch up (every
# record, byte for byte in `tape dump`'s batch listing) and rejoin the ISR. A config change
# and then the topic's deletion, each through one broker, reach all three.
set -uo pipefail
TEST_NAME=cluster_basic
. "$(dirname "$0")/cluster_lib.sh"
command -v kcat >/dev/null || skip "kcat is not installed"
work=$(mktemp -d)
cleanup() {
	cluster_cleanup
	[ -n "${KEEP:-}" ] || rm -rf "$work"; [ -n "${KEEP:-}" ] && echo "kept $work"
}
trap cleanup EXIT

start_etcd "$work"
for id in 0 1 2; do
	start_broker "$work" "$id" default.replication.factor=3 replica.lag.time.max.ms=2000 \
		broker.session.timeout.ms=3000
done
wait_brokers 3
B=$(cluster_bootstrap)
timeout 30 "$TAPE" topics -b "$B" create t -p 1 -r 3 -c min.insync.replicas=2 \
	2>"$work/create.err" || fail "create: $(cat "$work/create.err")"
wait_isr t 0 3 || fail "the ISR never reached 3: $(partition_state t 0)"
read -r leader epoch replicas isr <<<"$(partition_state t 0)"
echo "$TEST_NAME: leader $leader epoch $epoch replicas $replicas isr $isr"
[ "$(tr ',' '\n' <<<"$replicas" | sort | tr '\n' ' ')" = "0 1 2 " ] || fail "replicas $replicas"
for id in 0 1 2; do
	n=$(timeout 10 kcat -L -b "127.0.0.1:${BROKER_PORT[$id]}" -t t 2>&1 | grep -c 'broker [0-9]* at')
	[ "$n" -eq 3 ] || fail "broker $id lists $n brokers"
done

produce() { # acks count prefix
	seq -f "$3-%g" "$2" | timeout 30 kcat -P -b "$B" -t t -p 0 -X "acks=$1" \
		-X message.timeout.ms=8000 -X retries=0 2>"$work/kcat.err"
}
produce all 1000 a || fail "acks=all produce: $(cat "$work/kcat.err")"
got=$(timeout 20 kcat -C -b "$B" -t t -p 0 -o beginning -e -q | wc -l)
[ "$got" -eq 1000 ] || fail "read $got of 1000"

followers=()
for id in 0 1 2; do [ "$id" -ne "$leader" ] && followers+=("$id"); done
kill_broker "${followers[0]}" KILL
wait_isr t 0 2 20 || fail "the ISR did not shrink to 2: $(partition_state t 0)"
produce all 500 b || fail "acks=all with ISR 2: $(cat "$work/kcat.err")"
kill_broker "${followers[1]}" KILL
wait_isr t 0 1 20 || fail "the ISR did not shrink to 1: $(partition_state t 0)"
if produce all 10 c; then fail "acks=all succeeded with one in-sync replica"; fi
grep -q -i "not enough\|NOT_ENOUGH_REPLICAS" "$work/kcat.err" ||
	fail "acks=all refused without NOT_ENOUGH_REPLICAS: $(cat "$work/kcat.err")"
produce 1 300 d || fail "acks=1 with ISR 1: $(cat "$work/kcat.err")"

restart_broker "${followers[0]}"
restart_broker "${followers[1]}"
wait_isr t 0 3 60 || fail "the followers did not rejoin: $(partition_state t 0)"
got=$(timeout 20 kcat -C -b "$B" -t t -p 0 -o beginning -e -q | wc -l)
[ "$got" -eq 1800 ] || fail "read $got of 1800"
# Every replica holds the same batches.
for id in 0 1 2; do
	for f in "$work/broker-$id/data/t-0/"*.log; do
		"$BUILD/bin/tape" dump "$f" | grep '^baseOffset'
	done >"$work/dump-$id" || fail "tape dump of broker $id's log"
done
[ "$(grep -c . "$work/dump-0")" -ge 3 ] || fail "broker 0 holds too few batches"
cmp -s "$work/dump-0" "$work/dump-1" && cmp -s "$work/dump-0" "$work/dump-2" ||
	fail "the replicas' logs differ: $(diff "$work/dump-0" "$work/dump-1" | head -5)"

# A config change through one broker reaches every broker; a deletion through one removes the
# topic's files everywhere.
timeout 20 "$TAPE" topics -b "127.0.0.1:${BROKER_PORT[1]}" alter t -c retention.ms=1234567 \
	>/dev/null 2>"$work/alter.err" || fail "alter: $(cat "$work/alter.err")"
for id in 0 1 2; do
	ok=
	for i in $(seq 50); do
		timeout 10 "$TAPE" topics -b "127.0.0.1:${BROKER_PORT[$id]}" describe t 2>/dev/null |
			grep -q 'retention.ms=1234567' && ok=1 && break
		sleep 0.2
	done
	[ -n "$ok" ] || fail "broker $id does not have the new retention.ms"
done
timeout 20 "$TAPE" topics -b "127.0.0.1:${BROKER_PORT[2]}" delete t >/dev/null 2>&1 ||
	fail "delete"
for id in 0 1 2; do
	for i in $(seq 50); do
		[ -d "$work/broker-$id/data/t-0" ] || break
		sleep 0.2
	done
	[ -d "$work/broker-$id/data/t-0" ] && fail "broker $id kept t-0 after the deletion"
done
echo "$TEST_NAME: ok"
