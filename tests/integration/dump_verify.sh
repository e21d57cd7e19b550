#!/usr/bin/env bash
# tests/integration/dump_verify.sh: `tape dump` and `tape verify` on a real partition directory
# built by tests/tools/make_log (40 batches of 4 records, every fifth zstd, 4 KiB segments):
# the dump's first and last batch lines and summary, records and JSON output, verify passing;
# then one byte changed with dd in a sealed segment (verify exits 1 naming the segment, dump
# marks the batch), a cut segment (torn), and the usage errors (exit 2).
set -uo pipefail

tape=$BUILD/bin/tape
make_log=$BUILD/tests/tools/make_log
for t in "$tape" "$make_log"; do
	[ -x "$t" ] || { echo "dump_verify: FAIL: $t is not built" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
	echo "dump_verify: FAIL: $*" >&2
	exit 1
}
expect_rc() { # expected actual what
	[ "$2" -eq "$1" ] || fail "$3: exit $2, expected $1"
}

p=$work/p
"$make_log" "$p" 40 --records 4 --value-bytes 200 --segment-bytes 4096 --codec zstd --key k \
	>"$work/make.out" || fail "make_log"
grep -Eqx 'log end offset: 160 segments: [0-9]+' "$work/make.out" ||
	fail "make_log: $(cat "$work/make.out")"
mapfile -t segs < <(ls "$p"/*.log | sort)
[ ${#segs[@]} -ge 3 ] || fail "expected several segments, got ${#segs[@]}"
first=${segs[0]}
last=${segs[${#segs[@]} - 1]}

# ---- dump: the first segment, line by line -----------------------------------------------
"$tape" dump "$first" >"$work/dump.out"
expect_rc 0 $? "tape dump $first"
line() { sed -n "$1p" "$work/dump.out"; }
[ "$(line 1)" = "Dumping $first" ] || fail "line 1: $(line 1)"
[ "$(line 2)" = "Log starting offset: 0" ] || fail "line 2: $(line 2)"
want='baseOffset: 0 lastOffset: 3 count: 4 baseSequence: -1 lastSequence: -1 producerId: -1 '
want+='producerEpoch: -1 partitionLeaderEpoch: 0 isTransactional: false isControl: false '
want+='deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: 1003 size: [0-9]+ magic: 2 '
want+='compresscodec: none crc: [0-9]+ isvalid: true'
line 3 | grep -Eqx "$want" || fail "first batch line: $(line 3)"
# The last batch of the first segment ends just before the second segment's base offset.
next_base=$((10#$(basename "${segs[1]}" .log)))
last_line=$(grep '^baseOffset: ' "$work/dump.out" | tail -1)
want="^baseOffset: $((next_base - 4)) lastOffset: $((next_base - 1)) count: 4 "
want+=".* CreateTime: $((1000 + next_base - 1)) .* isvalid: true$"
grep -Eq "$want" <<<"$last_line" || fail "last batch line: $last_line"
size=$(stat -c %s "$first")
batches=$((next_base / 4))
{
	echo "End of data at position $size: end of file"
	echo "Summary: batches: $batches records: $next_base validBytes: $size fileBytes: $size" \
		"invalidBatches: 0 end: eof"
} | diff - <(tail -2 "$work/dump.out") >&2 || fail "summary"

# The active segment ends in preallocated zeros, which is fine.
"$tape" dump "$last" >"$work/last.out"
expect_rc 0 $? "tape dump $last"
tail -1 "$work/last.out" | grep -Eq 'invalidBatches: 0 end: zeros$' ||
	fail "active segment: $(tail -1 "$work/last.out")"

# Records, decompressed: one line per record, zstd batches included.
"$tape" dump --records "${segs[@]}" >"$work/records.out"
expect_rc 0 $? "tape dump --records"
n=$(grep -c '^| offset: ' "$work/records.out")
[ "$n" -eq 160 ] || fail "record lines: $n"
grep -q 'compresscodec: zstd' "$work/records.out" || fail "no zstd batch"
want='^\| offset: 19 CreateTime: 1019 keySize: 2 valueSize: 200 sequence: -1 headerKeys: \[\] '
want+='key: k3 payload: [a-z]{200}$'
grep -Eq "$want" "$work/records.out" ||
	fail "record 19 (in a zstd batch)"

# JSON: one object per line.
"$tape" dump --json --records "$first" >"$work/json.out"
expect_rc 0 $? "tape dump --json"
grep -vq '^{.*}$' "$work/json.out" && fail "a JSON line that is not an object"
if command -v python3 >/dev/null; then
	python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' <"$work/json.out" ||
		fail "invalid JSON"
else
	echo "dump_verify: python3 missing: JSON lines checked by shape only" >&2
fi
tail -1 "$work/json.out" | grep -q '"type":"summary".*"end":"eof"' || fail "JSON summary"

# The sidecars and checkpoints dump too.
"$tape" dump "${first%.log}.digest" "$p/partition.checkpoint" "$p/leader-epoch.checkpoint" \
	>"$work/side.out"
expect_rc 0 $? "tape dump sidecars"
grep -q ' matches: true$' "$work/side.out" || fail "digest"
grep -q '^recoveryPoint: 160 logStartOffset: 0 ' "$work/side.out" || fail "partition checkpoint"
grep -qx 'epoch: 0 startOffset: 0' "$work/side.out" || fail "epochs"

# ---- verify ------------------------------------------------------------------------------
"$tape" verify "$p" >"$work/verify.out"
expect_rc 0 $? "tape verify (clean)"
want="verify: $p: ${#segs[@]} segments, 40 batches, 160 records, [0-9]+ bytes: ok"
grep -Eqx "$want" "$work/verify.out" ||
	fail "verify summary: $(cat "$work/verify.out")"

# One byte changed inside a batch of a sealed segment.
c=$work/c
cp -r "$p" "$c"
seg=$c/$(basename "${segs[1]}")
old=$(od -An -tu1 -j100 -N1 "$seg" | tr -d ' ')
printf "\\$(printf %03o $(((old + 1) % 256)))" | dd of="$seg" bs=1 seek=100 conv=notrunc status=none
"$tape" verify "$c" >"$work/verify-bad.out"
expect_rc 1 $? "tape verify (flipped byte)"
grep -q "^problem: $seg: position 0, offset $next_base: crc mismatch" "$work/verify-bad.out" ||
	fail "flipped byte not reported: $(cat "$work/verify-bad.out")"
grep -q "problems\?$" "$work/verify-bad.out" || fail "verify summary after damage"
"$tape" dump "$seg" >"$work/dump-bad.out"
expect_rc 1 $? "tape dump (flipped byte)"
grep -q '^Invalid batch at position 0: crc mismatch' "$work/dump-bad.out" ||
	fail "dump of the damaged batch"

# A sealed segment cut in the middle of a batch.
t=$work/t
cp -r "$p" "$t"
seg=$t/$(basename "${segs[1]}")
truncate -s 1000 "$seg"
"$tape" verify "$t" >"$work/verify-torn.out"
expect_rc 1 $? "tape verify (cut segment)"
grep -q "^problem: $seg: position [0-9]*: torn batch: the file ends" "$work/verify-torn.out" ||
	fail "torn segment not reported: $(cat "$work/verify-torn.out")"

# ---- usage -------------------------------------------------------------------------------
"$tape" --help >"$work/help.out"
expect_rc 0 $? "tape --help"
grep -q '^usage: tape' "$work/help.out" || fail "tape --help"
"$tape" help dump >"$work/help.out" 2>&1 || fail "tape help dump: exit $?"
grep -q '^usage: tape dump' "$work/help.out" || fail "tape help dump"
"$tape" 2>"$work/err.out"
expect_rc 2 $? "tape"
"$tape" frobnicate 2>"$work/err.out"
expect_rc 2 $? "tape frobnicate"
grep -q '^usage: tape' "$work/err.out" || fail "usage on stderr for an unknown command"
"$tape" dump 2>/dev/null
expect_rc 2 $? "tape dump (no file)"
"$tape" dump --bogus "$first" 2>/dev/null >/dev/null
expect_rc 2 $? "tape dump --bogus"
"$tape" dump "$work/nope.log" 2>/dev/null
expect_rc 2 $? "tape dump (missing file)"
"$tape" dump "$work/make.out" 2>/dev/null
expect_rc 2 $? "tape dump (unknown kind)"
"$tape" verify 2>/dev/null
expect_rc 2 $? "tape verify (no dir)"
"$tape" verify "$work/nope" 2>/dev/null
expect_rc 2 $? "tape verify (missing dir)"

echo "dump_verify: ok"
