#!/usr/bin/env bash
# bench/kcat-throughput.sh: produce and consume throughput of one taped, measured with kcat
# (librdkafka 2.0.2) on loopback. A measurement, not a test: it prints numbers.
#
#   bench/kcat-throughput.sh BUILD_DIR [records] [runs]      (defaults 1000000, 3)
#
# Records are 100-byte values (a 10-digit number, '-', 89 filler bytes) read from a file with
# `kcat -P -l`, one topic of one partition per run, the broker's defaults
# (log.flush.mode=fsync) and librdkafka's (acks=all), with linger.ms=5; then the same topic is
# read from the beginning to the end with `kcat -C -e -q -o beginning`. Also an acks=1 run, a
# zstd run, and one whose consumer does not wait on librdkafka's timers (below).
# Timings are wall-clock of the whole kcat process (connecting and metadata included).
set -uo pipefail
export BUILD=$(realpath "${1:?usage: kcat-throughput.sh BUILD_DIR [records] [runs]}")
records=${2:-1000000}
runs=${3:-3}
. "$(dirname "$0")/../tests/integration/lib.sh"
kcat_require
KCAT_TIMEOUT=600

awk -v n="$records" 'BEGIN {
	pad = sprintf("%89s", ""); gsub(/ /, "x", pad)
	for (i = 0; i < n; i++) printf "%010d-%s\n", i, pad
}' >"$WORK/records"
bytes=$(($(stat -c %s "$WORK/records") - records))
start_taped "$WORK/data"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }
rate() { # count bytes seconds
	awk -v n="$1" -v b="$2" -v s="$3" \
		'BEGIN { printf "%.2f s  %.0f records/s  %.1f MB/s", s, n / s, b / s / 1e6 }'
}

# one label topic [kcat -P options...]
one() {
	local label=$1 topic=$2
	shift 2
	local t0 t1 t2 got
	t0=$(now)
	kcat_run -P -t "$topic" -X linger.ms=5 "$@" -l "$WORK/records" 2>"$WORK/p.err" ||
		fail "kcat -P: $(cat "$WORK/p.err")"
	t1=$(now)
	got=$(kcat_run -C -t "$topic" -e -q -o beginning ${copts:-} 2>"$WORK/c.err" | wc -l)
	t2=$(now)
	[ "$got" -eq "$records" ] || fail "consumed $got of $records: $(cat "$WORK/c.err")"
	printf '%-22s produce %s | consume %s\n' "$label" \
		"$(rate "$records" "$bytes" "$(elapsed "$t0" "$t1")")" \
		"$(rate "$records" "$bytes" "$(elapsed "$t1" "$t2")")"
}

echo "kcat-throughput: $records records of 100 bytes ($bytes bytes of values), taped $TAPED_BROKER"
for ((r = 1; r <= runs; r++)); do
	one "acks=all run $r" "all-$r"
done
one "acks=1" acks1 -X acks=1
one "acks=all zstd" zstd -z zstd
# Two client-side waits dominate the consume time, neither the broker's: kcat -e stops at the
# first empty fetch, which the broker holds fetch.wait.max.ms (500 ms) as Kafka does; and when
# kcat lags, librdkafka stops fetching at queued.min.messages (100000) and looks again only on
# its 1 s timer. This run shows the consume time without both.
copts="-X fetch.wait.max.ms=10 -X queued.min.messages=2000000" one "no client waits" nowait
du -sh "$WORK/data" | sed 's/^/kcat-throughput: data directory /'
stop_taped || fail "taped exited $?"
