#!/usr/bin/env bash
# scripts/bench-fetch.sh: fetch from the page cache, one broker setting against another and
# against iperf3 over loopback, interleaved in one run (DESIGN §4: shared, noisy machines).
#
#   scripts/bench-fetch.sh BUILD_DIR [GB (default 4)] [ROUNDS (default 5)] [VARIANTS]
#
# VARIANTS is a space-separated list of socket.fetch.send values (default "read splice");
# "default" starts taped without the override. The topic f1k (1 partition) is filled once
# with about GB gigabytes of 1 KiB records (tape bench produce, acks=1, no compression,
# log.flush.mode=none), then each round runs iperf3 once and, for each variant, restarts
# taped on the same data with that setting and reads the topic from the beginning with
# `tape bench consume`. taped runs on CPU 0, the clients on CPU 1. Prints every run, then
# the median and the range of each variant in MB/s (of record values for tape, of payload
# for iperf3). PERF=1 records `perf record -g` of taped during the last round's consume of
# each variant into WORK/perf-VARIANT.data and prints the top of its report.
set -euo pipefail
build=$(realpath "${1:?usage: bench-fetch.sh BUILD_DIR [GB] [ROUNDS] [VARIANTS]}")
gb=${2:-4}
rounds=${3:-5}
variants=${4:-read splice}
command -v iperf3 >/dev/null || { echo "bench-fetch: iperf3 is not installed" >&2; exit 77; }
work=$(mktemp -d)
taped_pid=
stop_taped() {
	if [ -n "$taped_pid" ]; then
		kill "$taped_pid" 2>/dev/null || true
		wait "$taped_pid" 2>/dev/null || true
		taped_pid=
	fi
}
cleanup() {
	stop_taped
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
pin_broker=() pin_client=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	pin_broker=(taskset -c 0)
	pin_client=(taskset -c 1)
fi

start_taped() { # variant
	local extra=()
	[ "$1" != default ] && extra=(--override "socket.fetch.send=$1")
	: >"$work/taped.out"
	"${pin_broker[@]}" "$build/bin/taped" --override "log.dirs=$work/data" \
		--override listeners=PLAINTEXT://127.0.0.1:0 --override log.flush.mode=none \
		"${extra[@]}" >"$work/taped.out" 2>>"$work/taped.err" &
	taped_pid=$!
	port=
	for ((i = 0; i < 300; i++)); do
		port=$(sed -n 's/^taped: listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$work/taped.out")
		[ -n "$port" ] && break
		sleep 0.1
	done
	if [ -z "$port" ]; then
		echo "bench-fetch: taped did not start" >&2
		cat "$work/taped.err" >&2
		exit 1
	fi
	b=127.0.0.1:$port
}

mbps() { sed -n 's/^result .* mbps=\([0-9.]*\).*/\1/p'; }

start_taped default
"$build/bin/tape" topics create f1k -p 1 -b "$b" >/dev/null
# 1 KiB records at about 1 GB/s: a second per gigabyte, with room.
"${pin_client[@]}" "$build/bin/tape" bench produce -b "$b" -t f1k -s 1024 -n $((gb * 1000000)) \
	--acks 1 -z none | tail -1
stop_taped
echo "bench-fetch: $(du -sh "$work/data" | cut -f1) in f1k; taped ${pin_broker[*]:-unpinned}," \
	"clients ${pin_client[*]:-unpinned}; $rounds rounds of: iperf3, $variants"

declare -A results
for ((r = 1; r <= rounds; r++)); do
	port_i=$((20000 + RANDOM % 20000))
	"${pin_broker[@]}" iperf3 -s -1 -p "$port_i" >/dev/null 2>&1 &
	ipid=$!
	sleep 0.3
	v=$("${pin_client[@]}" iperf3 -c 127.0.0.1 -p "$port_i" -t 5 -J | python3 -c '
import json, sys
print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 8e6))')
	wait "$ipid" || true
	results[iperf3]+="$v "
	echo "round $r iperf3 $v MB/s"
	for var in $variants; do
		start_taped "$var"
		if [ -n "${PERF:-}" ] && [ "$r" = "$rounds" ]; then
			perf record -g -o "$work/perf-$var.data" -p "$taped_pid" 2>/dev/null &
			perf_pid=$!
			sleep 0.5
		fi
		v=$("${pin_client[@]}" "$build/bin/tape" bench consume -b "$b" -t f1k -q | mbps)
		if [ -n "${PERF:-}" ] && [ "$r" = "$rounds" ]; then
			kill -INT "$perf_pid"
			wait "$perf_pid" || true
		fi
		stop_taped
		results[$var]+="$v "
		echo "round $r $var $v MB/s"
	done
done

echo "bench-fetch: MB/s, median [min - max] of $rounds"
for name in iperf3 $variants; do
	echo "${results[$name]}" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk -v name="$name" '
		{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "  %-10s %8.1f [%.1f - %.1f]\n", name, m, v[1], v[NR] }'
done
if [ -n "${PERF:-}" ]; then
	for var in $variants; do
		echo "perf of taped, $var:"
		perf report -i "$work/perf-$var.data" --no-children -g none --sort symbol --stdio \
			2>/dev/null | grep -E '^ +[0-9]' | head -15 || true
	done
fi
