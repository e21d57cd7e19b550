#!/usr/bin/env bash
# tests/integration/fetch_splice.sh: Fetch answers whose records are spliced from the page cache
# (socket.fetch.send=splice) carry exactly the bytes read + send carries, for real clients.
#
#   - a 3-partition topic in 64 KiB segments (log.segment.bytes), records produced by kcat
#     uncompressed and with zstd into the same partitions, so one fetch spans several segments
#     (several file ranges per partition) and several partitions: kcat -C and tape consume
#     print every record, in order per partition, the same as the input and the same as a
#     broker restarted on the same data with socket.fetch.send=read;
#   - fetches at an offset in the middle of a batch (kcat -o N, tape consume -o N), compared
#     with the tail of the whole read;
#   - ranges longer than the pipe (a topic in 16 MiB segments read with 4 MiB partition
#     fetches), so one range takes several splices;
#   - a slow reader (rawkafka, an 8 KiB receive buffer) that stops reading in the middle of an
#     8 MiB answer while retention deletes the segments the answer comes from; the broker
#     keeps them open until their bytes are sent: every batch then arrives whole (CRC-32C),
#     offsets contiguous from 0. The full socket also exercises the poll before a splice.
# Run under ASan too: BUILD=$PWD/build/asan bash tests/integration/fetch_splice.sh
set -uo pipefail
TEST_NAME=fetch_splice
. "$(dirname "$0")/lib.sh"

command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"
command -v python3 >/dev/null || skip "python3 is not installed"
tape=$BUILD/bin/tape
[ -x "$tape" ] || fail "$tape is not built"
work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
conf=(log.segment.bytes=65536 log.retention.check.interval.ms=200 num.partitions=3)
start_taped "$work" "${conf[@]}" socket.fetch.send=splice
B=$TAPED_BOOTSTRAP
kc() { timeout 60 kcat -b "$B" "$@"; }
tc() { timeout 60 "$tape" consume -b "$B" "$@"; }

# Keyed lines of varying length and compressibility; keys spread them over the partitions.
awk 'BEGIN {
	for (i = 0; i < 3000; i++) {
		v = sprintf("value %d ", i)
		len = (i * 37) % 900
		for (j = 0; length(v) < len; j++)
			v = v (i % 3 == 0 ? "aaaaaaaa" : sprintf("%x-", i * 7919 + j * 104729))
		printf "key-%d:%s\n", i, v
	}
}' >"$work/input"
# Batches of 50 records (kcat's default fills one batch per partition), many per segment.
head -1500 "$work/input" | kc -P -t multi -K: -z none -X batch.num.messages=50 ||
	fail "kcat -P -z none failed"
tail -1500 "$work/input" | kc -P -t multi -K: -z zstd -X batch.num.messages=50 ||
	fail "kcat -P -z zstd failed"
segs=$(ls "$work/data"/multi-0/*.log | wc -l)
[ "$segs" -ge 4 ] || fail "multi-0 has only $segs segments; the fetches would not span several"

FMT='%p|%o|%k|%s\n'
read_all() { # tag: kcat and tape consume of the whole topic, sorted by partition and offset
	kc -C -e -q -t multi -o beginning -f "$FMT" | sort -t'|' -k1,1n -k2,2n >"$work/kcat.$1" ||
		fail "$1: kcat -C failed"
	tc -e -q -f "$FMT" multi | sort -t'|' -k1,1n -k2,2n >"$work/tape.$1" ||
		fail "$1: tape consume failed"
	[ "$(wc -l <"$work/kcat.$1")" -eq 3000 ] || fail "$1: kcat read $(wc -l <"$work/kcat.$1")"
	cmp -s "$work/kcat.$1" "$work/tape.$1" ||
		fail "$1: tape consume differs from kcat: $(diff "$work/kcat.$1" "$work/tape.$1" | head -4)"
	# Exactly the input (as key:value), whatever the partition.
	cut -d'|' -f3- "$work/kcat.$1" | sed 's/|/:/' | sort >"$work/got.$1"
	sort "$work/input" | cmp -s - "$work/got.$1" || fail "$1: the records differ from the input"
}
read_all splice
echo "$TEST_NAME: 3 partitions x $segs+ segments, none and zstd, kcat and tape consume: ok"

# In the middle of a batch: kcat's batches hold many records, so offset 701 is inside one.
kc -C -e -q -t multi -p 1 -o 701 -f "$FMT" >"$work/mid.kcat" || fail "kcat -o 701 failed"
tc -e -q -p 1 -o 701 -f "$FMT" multi >"$work/mid.tape" || fail "tape consume -o 701 failed"
awk -F'|' '$1 == 1 && $2 >= 701' "$work/kcat.splice" >"$work/mid.want"
[ -s "$work/mid.want" ] || fail "partition 1 has no offset 701"
cmp -s "$work/mid.want" "$work/mid.kcat" || fail "kcat -o 701 differs from the whole read's tail"
cmp -s "$work/mid.want" "$work/mid.tape" || fail "tape -o 701 differs from the whole read's tail"
echo "$TEST_NAME: a fetch in the middle of a batch: ok"

# Ranges longer than the pipe: 4 MiB of one segment in one fetch, several splices.
"$tape" topics create big -p 1 -c segment.bytes=16777216 -b "$B" >/dev/null 2>&1 ||
	fail "topics create big failed"
awk 'BEGIN { for (i = 0; i < 12000; i++) { v = sprintf("big %d ", i)
	while (length(v) < 1000) v = v sprintf("%x", i * 31 + length(v)); print v } }' >"$work/big"
kc -P -t big -z none -l "$work/big" || fail "kcat -P big failed"
kc -C -e -q -t big -o beginning -X max.partition.fetch.bytes=4194304 -X fetch.max.bytes=8388608 \
	-f '%s\n' >"$work/big.kcat" || fail "kcat -C big failed"
cmp -s "$work/big" "$work/big.kcat" || fail "big: kcat read differs from the input"
tc -e -q big >"$work/big.tape" || fail "tape consume big failed"
cmp -s "$work/big" "$work/big.tape" || fail "big: tape consume read differs from the input"
echo "$TEST_NAME: ranges longer than the pipe: ok"

# A slow reader while retention deletes the segments its answer comes from.
"$tape" topics create race -p 1 -c segment.bytes=1048576 -b "$B" >/dev/null 2>&1 ||
	fail "topics create race failed"
kc -P -t race -z none -l "$work/big" || fail "kcat -P race failed"
kc -P -t race -z none -l "$work/big" || fail "kcat -P race (2) failed"
before=$(ls "$work/data"/race-0/*.log | wc -l)
[ "$before" -ge 10 ] || fail "race-0 has only $before segments"
PYTHONPATH=$LIB_DIR timeout 120 python3 - "$TAPED_PORT" "$B" "$tape" "$work/data/race-0" <<'EOF' ||
import os, subprocess, sys, time
import rawkafka as rk

port, brokers, tape, pdir = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
c = rk.Conn("127.0.0.1", port, timeout=30, rcvbuf=8192)
body = rk.fetch_body(11, [("race", [(0, 0)])], max_bytes=64 << 20, partition_max_bytes=64 << 20)
corr = c.send_request(rk.API_FETCH, 11, body)
c._fill(65536)  # the answer has started; now stop reading
first = min(os.listdir(pdir))
subprocess.run([tape, "topics", "alter", "race", "-c", "retention.bytes=1", "-b", brokers],
               check=True, stdout=subprocess.DEVNULL)
for _ in range(100):
    if first not in os.listdir(pdir):
        break
    time.sleep(0.1)
else:
    sys.exit("retention did not delete %s while the answer was pending" % first)
payload = c.recv_response(corr)
(err, hw, records), = rk.parse_fetch(payload, 11).values()
if err != 0:
    sys.exit("fetch error %d" % err)
offsets = [o for o, _, _ in rk.batch_records(records)]
if len(records) < 4 << 20 or offsets != list(range(len(offsets))):
    sys.exit("%d bytes, offsets %s..." % (len(records), offsets[:5]))
print("fetch_splice: slow reader got %d bytes, %d records, CRCs good"
      % (len(records), len(offsets)))
EOF
	fail "the slow reader's answer was wrong (above)"
echo "$TEST_NAME: a slow reader while retention deletes its segments: ok"

# The same bytes with read + send, on the same data.
grep -q "fetch answers go with read + send" "$work/taped.err" &&
	fail "the broker fell back to read + send: $(grep -m1 'read + send' "$work/taped.err")"
stop_taped || fail "taped did not stop cleanly"
start_taped "$work" "${conf[@]}" socket.fetch.send=read
B=$TAPED_BOOTSTRAP
read_all read
cmp -s "$work/kcat.splice" "$work/kcat.read" || fail "splice and read answers differ"
echo "$TEST_NAME: socket.fetch.send=read reads the same: ok"
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
