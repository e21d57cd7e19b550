#!/usr/bin/env bash
# tests/integration/history_single.sh: the history recorder and checker against one taped.
#
# 1. Crash in flight: tests/tools/history_client produces 20000 values (acks=all, idempotent,
#    4000 a second, two partitions) while taped is killed with SIGKILL after 6000 acks and
#    restarted on the same data directory and port; the producer keeps going through it. Then
#    the final read, and history_check.py must find nothing: no acknowledged value lost, none
#    duplicated, every ack's offset where its value is read, offsets contiguous, producer
#    order kept. At least 1000 values sent after the restart must be acknowledged (the
#    recorder really went on), and at least 19000 in all.
# 2. Negative control: a kill -9 loses nothing that reached the page cache, so the loss is made
#    by hand: 2000 values (acks=all), SIGKILL, the partition's segment cut to 60% of its bytes
#    (truncate -s; recovery drops the torn tail), restart, read. The checker must see acked
#    values lost (and exit 1 without --expect-loss, 0 with it).
set -uo pipefail
TEST_NAME=history_single
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
HC=$BUILD/tests/tools/history_client
CHECK=$LIB_DIR/../tools/history_check.py
[ -x "$HC" ] || fail "$HC is not built"
work=$(mktemp -d)
producer=
cleanup() {
	[ -n "$producer" ] && kill -KILL "$producer" 2>/dev/null && wait "$producer" 2>/dev/null
	stop_taped
	rm -rf "$work"
}
trap cleanup EXIT

crash() { # SIGKILL the taped start_taped started, and reap it
	kill -KILL "$TAPED_PID"
	wait "$TAPED_PID" 2>/dev/null
	TAPED_PID=
}
acked() { # HISTORY: its ok sends so far (0 before the file exists)
	local n
	n=$(grep -c '"op":"send","type":"ok"' "$1" 2>/dev/null)
	echo "${n:-0}"
}
mono_ns() { python3 -c 'import time; print(time.monotonic_ns())'; }

# ---- 1. crash in flight ----
start_taped "$work" num.partitions=2
port=$TAPED_PORT
h=$work/crash.jsonl
"$HC" produce -b "$TAPED_BOOTSTRAP" -t flight --acks all --idempotent -n 20000 --rate 4000 \
	--delivery-timeout-ms 60000 -o "$h" --process p0 2>"$work/producer.err" &
producer=$!
for ((i = 0; i < 300; i++)); do
	[ "$(acked "$h")" -ge 6000 ] && break
	kill -0 "$producer" 2>/dev/null || fail "the producer ended early: $(cat "$work/producer.err")"
	sleep 0.1
done
[ "$(acked "$h")" -ge 6000 ] || fail "only $(acked "$h") acks after 30 s"
crash
sleep 0.5
restart_ns=$(mono_ns)
start_taped "$work" num.partitions=2 "listeners=PLAINTEXT://127.0.0.1:$port"
timeout 120 tail --pid="$producer" -f /dev/null ||
	fail "the producer did not finish within 120 s of the restart"
wait "$producer" || fail "the producer exited $?: $(cat "$work/producer.err")"
producer=
cat "$work/producer.err"
"$HC" read -b "$TAPED_BOOTSTRAP" -t flight -o "$h" 2>"$work/read.err" ||
	fail "the final read: $(cat "$work/read.err")"
python3 "$CHECK" "$h" >"$work/check.out" 2>&1 || fail "the checker: $(cat "$work/check.out")"
tail -1 "$work/check.out"
after=$(python3 -c '
import json, sys
n = 0
for l in open(sys.argv[1]):
    o = json.loads(l)
    n += o["op"] == "send" and o["type"] == "ok" and o["invoke_ns"] > int(sys.argv[2])
print(n)' "$h" "$restart_ns")
[ "$after" -ge 1000 ] || fail "only $after values sent after the restart were acknowledged"
[ "$(acked "$h")" -ge 19000 ] || fail "only $(acked "$h") of 20000 acknowledged"

# ---- 2. negative control: the segment's tail cut by hand ----
h=$work/neg.jsonl
"$HC" produce -b "$TAPED_BOOTSTRAP" -t neg -p 0 --acks all -n 2000 --rate 2000 -o "$h" \
	--process n0 2>"$work/producer.err" || fail "the producer: $(cat "$work/producer.err")"
crash
seg=$(ls "$work"/data/neg-0/*.log | tail -1)
# Segments are preallocated: the bytes in use end at the last non-zero byte.
used=$(python3 -c 'import sys; print(len(open(sys.argv[1], "rb").read().rstrip(b"\0")))' "$seg")
[ "$used" -gt 0 ] || fail "$seg holds nothing"
truncate -s $((used * 6 / 10)) "$seg"
start_taped "$work" num.partitions=2 "listeners=PLAINTEXT://127.0.0.1:$port"
"$HC" read -b "$TAPED_BOOTSTRAP" -t neg -o "$h" 2>"$work/read.err" ||
	fail "the final read: $(cat "$work/read.err")"
python3 "$CHECK" "$h" >"$work/check.out" 2>&1 && fail "the checker passed a cut log: $(cat "$work/check.out")"
python3 "$CHECK" --expect-loss "$h" >"$work/check.out" 2>&1 ||
	fail "--expect-loss: $(cat "$work/check.out")"
grep -q '^S1: ' "$work/check.out" || fail "no lost values listed: $(cat "$work/check.out")"
echo "negative control: $(tail -1 "$work/check.out")"
echo "$TEST_NAME: ok"
