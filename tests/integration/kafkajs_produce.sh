#!/usr/bin/env bash
# tests/integration/kafkajs_produce.sh: kafkajs 2.2.4 producers (js/produce.js: acks -1, acks
# 1, idempotent with maxInFlightRequests 1, an auto-created topic, a two-topic send, one gzip
# round each, a batch over message.max.bytes refused with MESSAGE_TOO_LARGE) write records with keys, values and headers to 3-partition topics; kcat
# (librdkafka) reads every topic back and js/compare.js checks each record at the partition and
# offset kafkajs' send results imply: key, value, headers, timestamp, null versus empty. Then
# `tape dump` of the partition directories shows what the batches carry: the idempotent
# producer's id, epoch 0 and sequences equal to offsets, no producer id elsewhere, gzip.
set -uo pipefail
TEST_NAME=kafkajs_produce
. "$(dirname "$0")/lib.sh"

command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"
kafkajs_ready
work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
start_taped "$work" num.partitions=3

timeout 120 node "$KAFKAJS_DIR/produce.js" "$TAPED_BOOTSTRAP" "$work/expected.jsonl"
produce_rc=$?
[ -s "$work/expected.jsonl" ] || fail "produce.js exited $produce_rc and wrote no expectations"

topics=(kjs-all kjs-one kjs-idem kjs-auto)
for t in "${topics[@]}"; do
	timeout 30 kcat -b "$TAPED_BOOTSTRAP" -C -t "$t" -o beginning -e -J -q \
		>>"$work/got.jsonl" 2>"$work/kcat.err" ||
		fail "kcat -C -t $t: exit $?: $(tail -3 "$work/kcat.err")"
done
echo "$TEST_NAME: kcat read $(wc -l <"$work/got.jsonl") records from ${topics[*]}"
timeout 30 node "$KAFKAJS_DIR/compare.js" "$work/expected.jsonl" "$work/got.jsonl"
compare_rc=$?
[ $produce_rc -eq 0 ] || fail "produce.js exited $produce_rc (see its FAIL lines above)"
[ $compare_rc -eq 0 ] || fail "kcat did not read back what kafkajs produced"

# ---- what the batches carry, from the segment files ---------------------------------------
tape=$BUILD/bin/tape
[ -x "$tape" ] || fail "$tape is not built"
batches() { # topic: one dump line per batch of every partition
	local p
	for p in "$work/data/$1"-*/; do
		"$tape" dump "$p"*.log | grep '^baseOffset: '
	done
}
field() { sed -E "s/.* $1: ([^ ]+).*/\\1/"; }
batches kjs-idem >"$work/kjs-idem.batches"
[ -s "$work/kjs-idem.batches" ] || fail "no batches dumped for kjs-idem"
pids=$(field producerId <"$work/kjs-idem.batches" | sort -u)
[ "$(wc -l <<<"$pids")" -eq 1 ] && [ "$pids" -ge 0 ] ||
	fail "kjs-idem: one producer id >= 0 expected, got: $(echo $pids)"
[ "$(field producerEpoch <"$work/kjs-idem.batches" | sort -u)" = 0 ] || fail "kjs-idem: epoch"
# One producer from sequence 0 per partition: each batch's base sequence is its base offset.
awk '{ for (i = 1; i < NF; i++) v[$i] = $(i + 1); if (v["baseSequence:"] != v["baseOffset:"]) \
	{ print; bad = 1 } } END { exit bad }' "$work/kjs-idem.batches" >&2 ||
	fail "kjs-idem: a batch whose base sequence is not its base offset"
for t in kjs-all kjs-one kjs-auto; do
	batches "$t" >"$work/$t.batches"
	[ "$(field producerId <"$work/$t.batches" | sort -u)" = -1 ] ||
		fail "$t: a batch with a producer id from a non-idempotent producer"
done
for t in kjs-all kjs-one kjs-idem; do
	grep -q 'compresscodec: gzip' "$work/$t.batches" || fail "$t: no gzip batch"
done
grep -q 'isvalid: false' "$work"/*.batches && fail "a batch dumped as invalid"

stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
