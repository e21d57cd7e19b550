#!/usr/bin/env bash
# tests/integration/cluster_follower_truncate.sh: a follower whose log tail was damaged on disk
# heals from its leader. Three brokers, a topic with three replicas (min.insync.replicas=2);
# records in leader epoch 0, a leader bounce (SIGKILL, a new leader in epoch 1, the old one
# back), records in epoch 1. The third broker, a follower of both leaders, stops cleanly
# (SIGTERM, exit status 0) and comes back. Then, with records produced after that restart (so
# the follower's recovery point is below everything damaged: D6 does not apply), it is killed
# with SIGKILL and its active .log damaged, three times, more records produced each time while
# it is down:
#   A  the file cut in the middle of its last batch (truncate -s);
#   B  random bytes written over the records of its last two batches (dd conv=notrunc);
#   C  a fake batch appended after its last one: a copy of that batch restamped (base offset
#      and leader epoch are outside the CRC) at the log end offset with leader epoch 7, which
#      the leader never had.
# After each restart: recovery cuts the torn tail (A, B: "recovery cut segment"), or keeps the
# valid fake batch and the replica fetcher truncates it by OffsetForLeaderEpoch (C: epoch 7 is
# unknown to the leader, epoch 1 ends at the leader's end: "truncating to offset N"); the
# follower re-fetches, rejoins the ISR, and every replica's batch listing (`tape dump`) is the
# same; its epoch checkpoint no longer names epoch 7; every record is read back once.
set -uo pipefail
TEST_NAME=cluster_follower_truncate
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
B=$(cluster_bootstrap)
# Until every broker's registration is in the view of the one asked (else "the replication
# factor is above the live brokers").
for ((i = 0; ; i++)); do
	timeout 30 "$TAPE" topics -b "$B" create t -p 1 -r 3 -c min.insync.replicas=2 \
		2>"$work/create.err" >/dev/null && break
	[ "$i" -lt 50 ] && grep -q 'above the live brokers' "$work/create.err" ||
		fail "create: $(cat "$work/create.err")"
	sleep 0.2
done
wait_isr t 0 3

total=0
produce() { # count prefix: small batches (linger 0, 20 a batch), acks=all
	seq -f "$2-%g" "$1" | timeout 30 kcat -P -b "$B" -t t -p 0 -X acks=all \
		-X linger.ms=0 -X batch.num.messages=20 -X message.timeout.ms=10000 \
		2>"$work/kcat.err" || fail "produce $2: $(cat "$work/kcat.err")"
	total=$((total + $1))
}

# layout FILE: "POS BASE LAST EPOCH SIZE" per valid batch from the start of FILE (preallocated
# zeros end the listing), parsed here so the test can aim its damage.
layout() {
	python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
pos = 0
while pos + 61 <= len(data):
    base, length, epoch, magic = struct.unpack_from(">qiib", data, pos)
    if length < 49 or magic != 2 or pos + 12 + length > len(data):
        break
    last_delta, = struct.unpack_from(">i", data, pos + 23)
    print(pos, base, base + last_delta, epoch, 12 + length)
    pos += 12 + length
PY
}

active_log() { # broker id
	ls "$work/broker-$1/data/t-0/"*.log | sort | tail -1
}

dumps_equal() { # what
	local id f
	for id in 0 1 2; do
		for f in "$work/broker-$id/data/t-0/"*.log; do
			"$TAPE" dump "$f" | grep '^baseOffset'
		done >"$work/dump-$id" || fail "$1: tape dump of broker $id's log"
	done
	cmp -s "$work/dump-0" "$work/dump-1" && cmp -s "$work/dump-0" "$work/dump-2" ||
		fail "$1: the replicas' logs differ: $(diff "$work/dump-0" "$work/dump-1" | head -4)" \
			"$(diff "$work/dump-0" "$work/dump-2" | head -4)"
}

# Every replica in the ISR has the same log (the leader's end is reached by all).
wait_same_logs() { # what
	local i
	for ((i = 0; i < 50; i++)); do
		dumps_equal "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	dumps_equal "$1"
}

read_all() { # what
	local got
	got=$(timeout 30 kcat -C -b "$B" -t t -p 0 -o beginning -e -q | sort | uniq -c |
		awk '$1 != 1 { dup++ } END { print NR, dup + 0 }')
	[ "$got" = "$total 0" ] || fail "$1: read (distinct, duplicated) $got, want $total 0"
}

produce 400 e0
read -r leader0 _ <<<"$(partition_state t 0)"
kill_broker "$leader0" KILL
wait_leader t 0 30 "$leader0"
produce 400 e1a
restart_broker "$leader0"
wait_isr t 0 3 60
read -r leader epoch _ <<<"$(partition_state t 0)"
[ "$epoch" -ge 1 ] || fail "the bounce did not move the epoch: $(partition_state t 0)"
follower=
for id in 0 1 2; do [ "$id" -ne "$leader" ] && [ "$id" -ne "$leader0" ] && follower=$id; done
# The follower followed the old leader, then the new one: its controlled shutdown frees both
# of the fetcher's leader connections (this used to free the fetcher twice: abort on SIGTERM).
stop_broker "$follower"
rc=$?
[ "$rc" -eq 0 ] || fail "broker $follower's controlled shutdown exited $rc: $(tail -3 "$work/broker-$follower.err")"
restart_broker "$follower"
wait_isr t 0 3 60
# Everything damaged below is produced after that restart, above the follower's recovery point.
produce 200 e1b
echo "$TEST_NAME: leader $leader in epoch $epoch; damaging follower $follower"
wait_same_logs "before damage"
epochs=$(layout "$(active_log "$leader")" | awk '{ print $4 }' | sort -u | tr '\n' ' ')
[ "$epochs" = "0 $epoch " ] || fail "the log's batches are in epochs '$epochs', want 0 and $epoch"
err=$work/broker-$follower.err

damage_round() { # case
	local case=$1 f lines pos base last ep size n_before
	n_before=$(grep -c . "$err")
	kill_broker "$follower" KILL
	f=$(active_log "$follower")
	layout "$f" >"$work/layout"
	lines=$(grep -c . "$work/layout")
	[ "$lines" -ge 3 ] || fail "case $case: only $lines batches in $f"
	read -r pos base last ep size <<<"$(tail -1 "$work/layout")"
	case $case in
	A)
		truncate -s $((pos + size / 2)) "$f" || fail "truncate"
		echo "$TEST_NAME: case A: cut $f at $((pos + size / 2)), inside batch [$base, $last]"
		;;
	B)
		read -r pos base _ _ _ <<<"$(tail -2 "$work/layout" | head -1)"
		# Past the 61-byte header: the records of the second last and the last batch.
		local at=$((pos + 70)) len=$((size + 40))
		head -c "$len" /dev/urandom | dd of="$f" bs=1 seek="$at" conv=notrunc status=none ||
			fail "dd"
		echo "$TEST_NAME: case B: $len random bytes at $at in $f (batches from $base on)"
		;;
	C)
		python3 - "$f" "$pos" "$size" "$((last + 1))" <<'PY' || fail "fake batch"
import struct, sys
path, pos, size, base = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with open(path, "r+b") as f:
    f.seek(pos)
    b = bytearray(f.read(size))
    struct.pack_into(">q", b, 0, base)  # baseOffset
    struct.pack_into(">i", b, 12, 7)    # partitionLeaderEpoch
    f.seek(pos + size)
    f.write(b)
PY
		fake_base=$((last + 1))
		echo "$TEST_NAME: case C: a fake batch in epoch 7 at offset $fake_base in $f"
		;;
	esac
	produce 300 "$case"
	restart_broker "$follower"
	wait_isr t 0 3 60
	wait_same_logs "case $case"
	tail -n +"$((n_before + 1))" "$err" >"$work/err-$case"
	case $case in
	A | B)
		grep -q 'recovery cut segment' "$work/err-$case" ||
			fail "case $case: no 'recovery cut segment' from broker $follower: $(head -5 "$work/err-$case")"
		;;
	C)
		grep -q "truncating to offset $fake_base\b" "$work/err-$case" ||
			fail "case C: the fetcher did not truncate to $fake_base: $(grep -i 'fetcher\|recovery' "$work/err-$case" | head -5)"
		;;
	esac
	grep -E 'recovery cut|truncating to|quarantin' "$work/err-$case" | sed "s/^/$TEST_NAME: case $case: /"
	read_all "case $case"
}

damage_round A
damage_round B
damage_round C
# The fake epoch is gone from the follower's epoch cache (else it could never lead again in an
# epoch below 7).
ckpt=$(ls "$work/broker-$follower/data/t-0/" | grep -i epoch | head -1)
[ -n "$ckpt" ] || fail "no epoch checkpoint in broker $follower's t-0"
"$TAPE" dump "$work/broker-$follower/data/t-0/$ckpt" >"$work/epochs" 2>&1
grep -qw 7 "$work/epochs" && fail "epoch 7 is still in broker $follower's $ckpt: $(cat "$work/epochs")"
echo "$TEST_NAME: ok"
