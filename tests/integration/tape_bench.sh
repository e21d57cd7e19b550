#!/usr/bin/env bash
# tests/integration/tape_bench.sh: `tape bench produce|consume|e2e` run small loads against a
# real taped and print result lines a script can parse; only counts and consistency are
# checked, never timings.
#
#   - produce -n 3000 -s 200 -P 3 --producers 2 -z none, and with zstd/acks 1/linger 0: exit 0,
#     records=3000, bytes=600000, failed=0, seconds > 0, rps = records/seconds and mbps =
#     bytes/seconds/10^6 (to rounding), 0 < p50 <= p99 <= p999 <= max; kcat counts 3000
#     records in the topic;
#   - produce -d 1 --rate 300: some records (more than 0), all delivered;
#   - consume reads the topic to its end: records=6000 (both produce runs), bytes=1200000;
#     consume -n 100: records=100;
#   - e2e -n 200 --rate 500: records=200 received, latencies ordered and positive;
#   - -P 5 on a 3-partition topic, an unknown benchmark, an unknown option: exit 2.
set -uo pipefail
TEST_NAME=tape_bench
. "$(dirname "$0")/lib.sh"

command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"
tape=$BUILD/bin/tape
[ -x "$tape" ] || fail "$tape is not built"
work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
start_taped "$work" num.partitions=3
B=$TAPED_BOOTSTRAP
bench() { timeout 60 "$tape" bench "$@" -b "$B"; }

# check MODE RECORDS BYTES [latency]: the result line in $work/out is complete and consistent
check() {
	local mode=$1 records=$2 bytes=$3 lat=${4:-}
	local line
	line=$(grep "^result $mode " "$work/out") || fail "$mode: no result line: $(cat "$work/out" "$work/err")"
	[ "$(grep -c '^result ' "$work/out")" -eq 1 ] || fail "$mode: more than one result line"
	awk -v want_r="$records" -v want_b="$bytes" -v lat="$lat" '{
		for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		e = ""
		if (want_r != "" && v["records"] != want_r) e = e " records=" v["records"] " not " want_r
		if (want_r == "" && !(v["records"] > 0)) e = e " no records"
		if (want_b != "" && v["bytes"] != want_b) e = e " bytes=" v["bytes"] " not " want_b
		if (!(v["seconds"] > 0)) e = e " seconds"
		if (v["failed"] != 0) e = e " failed=" v["failed"]
		r = v["records"] / v["seconds"]; m = v["bytes"] / v["seconds"] / 1e6
		if (v["rps"] < r * 0.999 - 0.1 || v["rps"] > r * 1.001 + 0.1) e = e " rps " v["rps"] " vs " r
		if (v["mbps"] < m * 0.999 - 0.001 || v["mbps"] > m * 1.001 + 0.001) e = e " mbps " v["mbps"] " vs " m
		if (lat != "") {
			if (!(v["p50_us"] > 0 && v["p50_us"] <= v["p99_us"] && v["p99_us"] <= v["p999_us"] && v["p999_us"] <= v["max_us"]))
				e = e " latencies " v["p50_us"] "/" v["p99_us"] "/" v["p999_us"] "/" v["max_us"]
		} else if ("p50_us" in v) e = e " latency fields"
		if (e != "") { print e; exit 1 }
	}' <<<"$line" >"$work/why" || fail "$mode: $line:$(cat "$work/why")"
}

bench produce -t b1 -n 3000 -s 200 -P 3 --producers 2 -z none >"$work/out" 2>"$work/err" ||
	fail "produce exited $?: $(cat "$work/err")"
check produce 3000 600000 lat
grep -q '^produce: 3000 records' "$work/out" || fail "produce: no report line: $(cat "$work/out")"
n=$(timeout 30 kcat -b "$B" -C -t b1 -o beginning -e -q -f 'x\n' | wc -l)
[ "$n" -eq 3000 ] || fail "kcat counts $n records in b1, not 3000"
bench produce -t b1 -n 3000 -s 200 --acks 1 --linger-ms 0 -q >"$work/out" 2>"$work/err" ||
	fail "produce zstd acks 1 exited $?: $(cat "$work/err")"
[ "$(wc -l <"$work/out")" -eq 1 ] || fail "produce -q: more than the result line: $(cat "$work/out")"
check produce 3000 600000 lat
bench produce -t b2 -d 1 --rate 300 -q >"$work/out" 2>"$work/err" ||
	fail "produce -d 1 --rate 300 exited $?: $(cat "$work/err")"
check produce "" "" lat

bench consume -t b1 >"$work/out" 2>"$work/err" || fail "consume exited $?: $(cat "$work/err")"
check consume 6000 1200000
bench consume -t b1 -n 100 -q >"$work/out" 2>"$work/err" || fail "consume -n 100 exited $?"
check consume 100 20000

bench e2e -t b3 -n 200 --rate 500 >"$work/out" 2>"$work/err" ||
	fail "e2e exited $?: $(cat "$work/err")"
check e2e 200 20000 lat

bench produce -t b1 -P 5 -n 10 >"$work/out" 2>"$work/err"
[ $? -eq 2 ] || fail "-P 5 on 3 partitions accepted"
grep -q 'topic "b1" has 3 partitions, not 5' "$work/err" || fail "-P 5: $(cat "$work/err")"
bench nosuch >/dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown benchmark accepted"
bench produce --nosuch >/dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown option accepted"
"$tape" bench --help >"$work/help.out" 2>&1 || fail "--help: exit $?"
grep -q '^usage: tape bench' "$work/help.out" || fail "--help"
echo "$TEST_NAME: ok"
