#!/usr/bin/env bash
# scripts/bench-produce.sh: `tape produce` against `kcat -P` (librdkafka) sending the same
# file of 100-byte records to a fresh taped, acks=all, for each compression asked for.
#
#   scripts/bench-produce.sh BUILD_DIR [RECORDS (default 2000000)] [CODECS (default "none zstd")]
#
# taped runs on CPU 0 and the client on CPU 1 (taskset, when there are two CPUs), as DESIGN.md
# §4 asks of benchmarks. Each run produces into a topic of its own (1 partition); the time is
# the client's wall time from start to its last acknowledgement. kcat runs with
# -X linger.ms=5 (librdkafka's default too) and tape with its defaults (linger 5 ms, 64 KiB
# batches). Prints one line per run: records/s and MB/s of record values.
set -euo pipefail
build=$(realpath "${1:?usage: bench-produce.sh BUILD_DIR [RECORDS] [CODECS]}")
n=${2:-2000000}
codecs=${3:-none zstd}
command -v kcat >/dev/null || { echo "bench-produce: kcat is not installed" >&2; exit 77; }
work=$(mktemp -d)
taped_pid=
cleanup() {
	[ -n "$taped_pid" ] && kill "$taped_pid" 2>/dev/null && wait "$taped_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
pin_broker=() pin_client=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	pin_broker=(taskset -c 0)
	pin_client=(taskset -c 1)
fi

# 100-byte values: a JSON-ish event with a counter, padded, so zstd has something to find.
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) {
	s = sprintf("{\"type\":\"order.created\",\"id\":%d,\"amount\":%d,\"pad\":\"", i, i * 7 % 10000)
	while (length(s) < 98) s = s "x"
	print s "\"}" } }' >"$work/input"

"${pin_broker[@]}" "$build/bin/taped" --override "log.dirs=$work/data" \
	--override listeners=PLAINTEXT://127.0.0.1:0 >"$work/taped.out" 2>"$work/taped.err" &
taped_pid=$!
for ((i = 0; i < 100; i++)); do
	port=$(sed -n 's/^taped: listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$work/taped.out")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "bench-produce: taped did not start" >&2; exit 1; }
b=127.0.0.1:$port
echo "bench-produce: $n records of 100 bytes, acks=all, 1 partition, taped ${pin_broker[*]:-unpinned}, client ${pin_client[*]:-unpinned}"

report() { # name seconds
	awk -v name="$1" -v s="$2" -v n="$n" 'BEGIN {
		printf "  %-28s %7.2f s %10.0f records/s %7.1f MB/s\n", name, s, n / s, n * 100 / s / 1e6 }'
}
run() { # name command...
	local name=$1
	shift
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>"$work/err" || { echo "$name failed: $(cat "$work/err")" >&2; exit 1; }
	t1=$(date +%s.%N)
	report "$name" "$(echo "$t1 - $t0" | bc)"
}
for z in $codecs; do
	run "tape produce -z $z" "${pin_client[@]}" "$build/bin/tape" produce -b "$b" -q \
		--acks all -z "$z" -l "$work/input" "tape-$z"
	run "kcat -P -z $z" "${pin_client[@]}" kcat -P -b "$b" -t "kcat-$z" -z "$z" \
		-X linger.ms=5 -X acks=all -l "$work/input"
done
