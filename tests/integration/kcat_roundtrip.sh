#!/usr/bin/env bash
# tests/integration/kcat_roundtrip.sh: what `kcat -P` produces, `kcat -C` reads back exactly.
#
# For each compression (none, gzip, snappy, lz4, zstd) and each of acks=0, acks=1, acks=all and
# idempotence (enable.idempotence=true, which implies acks=all), 600 keyed records with two
# headers and values of varied length and content go to a fresh single-partition topic, in
# batches of at most 64 records (so several requests, and several batches per fetch). Then:
#   - `kcat -C -o beginning -c 600 -f '%o %k|%s|%h'` gives back the input in order, at offsets
#     0..599, keys, values and headers byte for byte (-c blocks until 600 arrive, so a lost
#     acks=0 record fails by timeout), and a second read with -e finds nothing more;
#   - `tape dump` of the partition shows every batch of 16 records or more with the codec asked
#     for (librdkafka silently sends uncompressed batches when the broker's ApiVersions ranges
#     put it off, as lz4 was without FindCoordinator v0),
#     records carrying both header keys, and with idempotence a producer id and sequences
#     counting from 0.
set -uo pipefail
. "$(dirname "$0")/kcat_lib.sh"
kcat_require
tape=$BUILD/bin/tape
[ -x "$tape" ] || fail "$tape is not built"

start_taped "$WORK/data"

N=600
# key-i|value|: values from 1 to ~400 bytes, some compressible runs, some digits; no '|' (our
# output separator), no ':' (the key delimiter) and no newline.
awk -v n=$N 'BEGIN {
	for (i = 0; i < n; i++) {
		v = sprintf("value %d ", i)
		len = (i * 37) % 400
		for (j = 0; length(v) < len; j++)
			v = v (i % 3 == 0 ? "aaaaaaaa" : sprintf("%x-", i * 7919 + j * 104729))
		printf "key-%d:%s\n", i, v
	}
}' >"$WORK/input"
awk -F: '{ k = $1; sub(/^[^:]*:/, ""); printf "%d %s|%s|h1=one,trace=x y\n", NR - 1, k, $0 }' \
	"$WORK/input" >"$WORK/expected"

# roundtrip codec label [kcat -X options...]
roundtrip() {
	local codec=$1 label=$2
	shift 2
	local topic=rt-$codec-$label
	local z=()
	[ "$codec" = none ] || z=(-z "$codec")
	kcat_run -P -t "$topic" -K: -H h1=one -H 'trace=x y' "${z[@]}" -X batch.num.messages=64 \
		"$@" <"$WORK/input" \
		2>"$WORK/p.err" || fail "$topic: kcat -P exited $?: $(cat "$WORK/p.err")"
	grep -qi 'fail\|error' "$WORK/p.err" && fail "$topic: kcat -P said: $(cat "$WORK/p.err")"

	kcat_run -C -t "$topic" -o beginning -c $N -q -f '%o %k|%s|%h\n' >"$WORK/out" \
		2>"$WORK/c.err" || fail "$topic: kcat -C exited $?: $(cat "$WORK/c.err")"
	diff "$WORK/expected" "$WORK/out" >"$WORK/diff" ||
		fail "$topic: read back differs: $(head -20 "$WORK/diff")"
	kcat_run -C -t "$topic" -o $N -e -q -f '%o\n' >"$WORK/more" 2>"$WORK/c.err" ||
		fail "$topic: kcat -C -e exited $?: $(cat "$WORK/c.err")"
	[ -s "$WORK/more" ] && fail "$topic: records after offset $N: $(head -3 "$WORK/more")"

	"$tape" dump --records "$WORK/data/$topic-0"/*.log >"$WORK/dump" ||
		fail "$topic: tape dump: $(tail -3 "$WORK/dump")"
	local batches other
	batches=$(grep -c '^baseOffset: ' "$WORK/dump")
	[ "$batches" -ge 1 ] || fail "$topic: no batch in the dump"
	# librdkafka sends a batch uncompressed when compressing does not make it smaller, which
	# happens to batches of a few short records: those may say none.
	grep '^baseOffset: ' "$WORK/dump" | awk -v codec="$codec" '
		{ c = $0; sub(/.* compresscodec: /, "", c); sub(/ .*/, "", c) }
		c == codec { ok++ }
		c != codec && (c != "none" || $6 >= 16) { print; exit 1 }
		END { if (!ok) { print "no batch is " codec; exit 1 } }' >"$WORK/bad" ||
		fail "$topic: batches of $batches not $codec: $(cat "$WORK/bad")"
	grep '^baseOffset: ' "$WORK/dump" | grep -vq ' isvalid: true$' &&
		fail "$topic: invalid batch"
	[ "$(grep -c 'headerKeys: \[h1,trace\]' "$WORK/dump")" -eq $N ] ||
		fail "$topic: a record without both headers: $(grep -m1 '^| offset' "$WORK/dump")"
	if [ "$label" = idempotent ]; then
		grep -m1 '^baseOffset: 0 ' "$WORK/dump" >"$WORK/first"
		grep -Eq ' baseSequence: 0 .* producerId: [0-9]+ ' "$WORK/first" ||
			fail "$topic: first batch not idempotent: $(cat "$WORK/first")"
		# Sequences follow offsets: baseSequence = baseOffset for one producer from 0.
		grep '^baseOffset: ' "$WORK/dump" |
			awk '{ if ($2 != $8) { print; exit 1 } }' >"$WORK/bad" ||
			fail "$topic: sequence does not follow offsets: $(cat "$WORK/bad")"
	else
		grep '^baseOffset: ' "$WORK/dump" | grep -vq ' producerId: -1 ' &&
			fail "$topic: a producer id without idempotence"
	fi
	echo "$TEST: $topic: $N records in $batches batches: ok"
}

for codec in none gzip snappy lz4 zstd; do
	roundtrip "$codec" acks0 -X acks=0
	roundtrip "$codec" acks1 -X acks=1
	roundtrip "$codec" acksall -X acks=all
	roundtrip "$codec" idempotent -X enable.idempotence=true
done

# One record per batch and request, all at once from a file (-l), so hundreds of Produce
# requests are in flight on one connection (librdkafka's max.in.flight is 1000000): more than
# taped queues per connection (64), which once stopped it reading that connection for good.
kcat_run -P -t rt-many -K: -H h1=one -H 'trace=x y' -X batch.num.messages=1 -X linger.ms=0 \
	-X acks=1 -l "$WORK/input" 2>"$WORK/p.err" ||
	fail "rt-many: kcat -P exited $?: $(cat "$WORK/p.err")"
kcat_run -C -t rt-many -o beginning -c $N -q -f '%o %k|%s|%h\n' >"$WORK/out" \
	2>"$WORK/c.err" || fail "rt-many: kcat -C exited $?: $(cat "$WORK/c.err")"
diff "$WORK/expected" "$WORK/out" >"$WORK/diff" || fail "rt-many: $(head -5 "$WORK/diff")"
echo "$TEST: rt-many: $N records, one request each: ok"

taped_log_quiet
stop_taped || fail "taped exited $? after SIGTERM"
echo "$TEST: ok"
