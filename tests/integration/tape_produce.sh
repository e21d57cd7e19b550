#!/usr/bin/env bash
# tests/integration/tape_produce.sh: what `tape produce` sends, kcat (librdkafka) reads back
# exactly, from a real taped with 3-partition topics.
#
#   - 600 lines "key-i:value" (values of 1 to ~400 bytes, some compressible) with -K: and two
#     headers go to partition 0 (-p 0) for each codec (none, zstd; gzip, snappy and lz4 too)
#     and each of --acks 0, 1, all: `kcat -C -p 0 -c 600` gives back offsets 0..599 with keys,
#     values and headers byte for byte, and nothing more after them; `tape dump` shows batches
#     with the codec asked for (a batch that zstd would not shrink may say none, as librdkafka
#     does), no producer id, and every record with both headers;
#   - --idempotent over 3 partitions (keys choose them): every record read back once, each
#     partition's records in input order, and in the dump one producer id, epoch 0, and
#     base sequence = base offset in every batch;
#   - keyless records (round robin, a batch at a time) all read back, over all 3 partitions;
#   - -k KEY puts every record in one partition; empty lines are empty values; a last line
#     without a newline is a record; -l FILE reads a file; TAPE_BROKERS replaces -b;
#   - the summary line "produced N records to T in S s" on stderr, nothing on stdout;
#   - -p past the topic's partitions, --idempotent with --acks 1, and an unknown option are
#     refused with exit 2 and one line; --help exits 0.
set -uo pipefail
TEST_NAME=tape_produce
. "$(dirname "$0")/lib.sh"

command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"
tape=$BUILD/bin/tape
[ -x "$tape" ] || fail "$tape is not built"
work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
start_taped "$work" num.partitions=3
B=$TAPED_BOOTSTRAP
kc() { timeout 30 kcat -b "$B" "$@"; }

N=600
awk -v n=$N 'BEGIN {
	for (i = 0; i < n; i++) {
		v = sprintf("value %d ", i)
		len = (i * 37) % 400
		for (j = 0; length(v) < len; j++)
			v = v (i % 3 == 0 ? "aaaaaaaa" : sprintf("%x-", i * 7919 + j * 104729))
		printf "key-%d:%s\n", i, v
	}
}' >"$work/input"
awk -F: '{ k = $1; sub(/^[^:]*:/, ""); printf "%d %s|%s|h1=one,trace=x y\n", NR - 1, k, $0 }' \
	"$work/input" >"$work/expected"

# produce TOPIC [tape produce options]: checks the exit status, the summary and silence.
produce() {
	local topic=$1
	shift
	timeout 60 "$tape" produce -b "$B" "$@" "$topic" <"$work/input" >"$work/p.out" \
		2>"$work/p.err" || fail "$topic: tape produce exited $?: $(cat "$work/p.err")"
	grep -Eq "^produced $N records to $topic in [0-9]+\.[0-9]{2} s$" "$work/p.err" ||
		fail "$topic: no summary: $(cat "$work/p.err")"
	[ "$(wc -l <"$work/p.err")" -eq 1 ] || fail "$topic: stderr: $(cat "$work/p.err")"
	[ -s "$work/p.out" ] && fail "$topic: stdout is not empty: $(head -3 "$work/p.out")"
	return 0
}

batches() { # topic partition: the dump's batch lines
	"$tape" dump --records "$work/data/$1-$2"/*.log >"$work/dump" ||
		fail "$1-$2: tape dump: $(tail -3 "$work/dump")"
	grep '^baseOffset: ' "$work/dump"
}

# ---- codecs x acks, one partition ----------------------------------------------------------
roundtrip() { # codec acks
	local codec=$1 acks=$2 topic=tp-$1-$2
	produce "$topic" -K: -H h1=one -H 'trace=x y' -z "$codec" --acks "$acks" -p 0
	kc -C -t "$topic" -p 0 -o beginning -c $N -q -f '%o %k|%s|%h\n' >"$work/out" \
		2>"$work/c.err" || fail "$topic: kcat -C exited $?: $(cat "$work/c.err")"
	diff "$work/expected" "$work/out" >"$work/diff" ||
		fail "$topic: read back differs: $(head -10 "$work/diff")"
	kc -C -t "$topic" -p 0 -o $N -e -q -f '%o\n' >"$work/more" 2>/dev/null
	[ -s "$work/more" ] && fail "$topic: records after offset $N"
	for p in 1 2; do
		[ -n "$(ls "$work/data/$topic-$p"/*.log 2>/dev/null)" ] &&
			[ -n "$(batches "$topic" $p)" ] && fail "$topic: records in partition $p"
	done
	batches "$topic" 0 >"$work/b"
	awk -v codec="$codec" '{ c = $0; sub(/.* compresscodec: /, "", c); sub(/ .*/, "", c) }
		c == codec { ok++ } c != codec && (codec == "none" || c != "none") { print; exit 1 }
		END { if (!ok) { print "no batch is " codec; exit 1 } }' "$work/b" >"$work/bad" ||
		fail "$topic: $(cat "$work/bad")"
	grep -v ' producerId: -1 ' "$work/b" && fail "$topic: a producer id without --idempotent"
	grep -vq ' isvalid: true$' "$work/b" && fail "$topic: an invalid batch"
	[ "$(grep -c 'headerKeys: \[h1,trace\]' "$work/dump")" -eq $N ] ||
		fail "$topic: a record without both headers"
	echo "$TEST_NAME: $topic: $N records in $(wc -l <"$work/b") batches: ok"
}
for codec in none zstd; do
	for acks in 0 1 all; do
		roundtrip "$codec" "$acks"
	done
done
for codec in gzip snappy lz4; do
	roundtrip "$codec" all
done

# ---- idempotent, keys over 3 partitions ----------------------------------------------------
produce tp-idem -K: -H h1=one -H 'trace=x y' --idempotent -X batch.size=4000
kc -C -t tp-idem -o beginning -c $N -q -f '%p %o %k|%s|%h\n' >"$work/out" 2>"$work/c.err" ||
	fail "tp-idem: kcat -C: $(cat "$work/c.err")"
cut -d' ' -f2- "$work/expected" | sort >"$work/want"
cut -d' ' -f3- "$work/out" | sort >"$work/got"
diff "$work/want" "$work/got" >"$work/diff" || fail "tp-idem: $(head -10 "$work/diff")"
# In each partition, offsets follow the input order of its keys.
sort -k1,1n -k2,2n "$work/out" | awk '{ split($3, k, "|"); sub(/^key-/, "", k[1]); i = k[1] + 0
	if ($1 == p && i <= last) { print "partition " $1 " offset " $2 ": key-" i " after key-" last; exit 1 }
	p = $1; last = i }' >"$work/bad" || fail "tp-idem: $(cat "$work/bad")"
for p in 0 1 2; do
	batches tp-idem $p
done >"$work/b"
[ "$(cut -d' ' -f1 "$work/out" | sort -u | wc -l)" -eq 3 ] ||
	fail "tp-idem: keys did not reach all 3 partitions"
pids=$(sed -E 's/.* producerId: ([^ ]+).*/\1/' "$work/b" | sort -u)
[ "$(wc -l <<<"$pids")" -eq 1 ] && [ "$pids" -ge 0 ] ||
	fail "tp-idem: one producer id >= 0 expected, got: $(echo $pids)"
grep -vq ' producerEpoch: 0 ' "$work/b" && fail "tp-idem: an epoch other than 0"
[ "$(wc -l <"$work/b")" -ge 12 ] || fail "tp-idem: $(wc -l <"$work/b") batches: too few to see sequences"
awk '{ if ($2 != $8) { print; exit 1 } }' "$work/b" >"$work/bad" ||
	fail "tp-idem: base sequence is not base offset: $(cat "$work/bad")"
echo "$TEST_NAME: tp-idem: producer $pids, $(wc -l <"$work/b") batches with sequences: ok"

# ---- keyless round robin, -k, empty lines, -l, TAPE_BROKERS ---------------------------------
cut -d: -f2- "$work/input" >"$work/values"
timeout 60 "$tape" produce -b "$B" -l "$work/values" -X batch.size=2000 tp-rr 2>"$work/p.err" ||
	fail "tp-rr: $(cat "$work/p.err")"
kc -C -t tp-rr -o beginning -c $N -q -f '%p %k|%s\n' >"$work/out" 2>/dev/null ||
	fail "tp-rr: kcat -C"
[ "$(cut -d' ' -f1 "$work/out" | sort -u | wc -l)" -eq 3 ] ||
	fail "tp-rr: keyless records did not spread over 3 partitions"
diff <(sed 's/^/|/' "$work/values" | sort) <(cut -d' ' -f2- "$work/out" | sort) >/dev/null ||
	fail "tp-rr: keyless records differ (keys must be null: empty in %k)"

printf 'a\n\nb' | TAPE_BROKERS=$B timeout 30 "$tape" produce -k the-key tp-k 2>"$work/p.err" ||
	fail "tp-k: $(cat "$work/p.err")"
grep -q '^produced 3 records to tp-k in' "$work/p.err" || fail "tp-k: $(cat "$work/p.err")"
kc -C -t tp-k -o beginning -c 3 -q -f '%p %o %k [%s]\n' >"$work/out" 2>/dev/null ||
	fail "tp-k: kcat -C"
p=$(head -1 "$work/out" | cut -d' ' -f1)
printf '%s 0 the-key [a]\n%s 1 the-key []\n%s 2 the-key [b]\n' "$p" "$p" "$p" |
	diff - "$work/out" >"$work/diff" || fail "tp-k: $(cat "$work/diff")"
echo "$TEST_NAME: keyless, -k, empty lines, -l, TAPE_BROKERS: ok"

# ---- refusals -------------------------------------------------------------------------------
refused() { # want-exit expected-stderr-line args...
	local want=$1 line=$2
	shift 2
	timeout 30 "$tape" produce -b "$B" "$@" </dev/null >/dev/null 2>"$work/r.err"
	local rc=$?
	[ $rc -eq "$want" ] || fail "tape produce $*: exit $rc, not $want: $(cat "$work/r.err")"
	[ "$(head -1 "$work/r.err")" = "$line" ] ||
		fail "tape produce $*: said '$(head -1 "$work/r.err")', not '$line'"
}
refused 2 'tape produce: partition 5 of topic "tp-k" does not exist (it has 3)' -p 5 tp-k
refused 2 'tape produce: --idempotent needs --acks all' --idempotent --acks 1 tp-k
refused 2 "tape produce: unknown option '--nope'" --nope tp-k
refused 2 'tape produce: -z brotli: none, zstd, gzip, snappy or lz4' -z brotli tp-k
"$tape" produce --help | grep -q '^usage: tape produce' || fail "--help"
echo "$TEST_NAME: refusals: ok"

stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
