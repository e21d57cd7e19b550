#!/usr/bin/env bash
# scripts/bench-cluster.sh: what replication costs, measured in one run on one machine.
# Starts a 3-broker cluster with scripts/run-cluster.sh (its own etcd, temp dir, free ports),
# then runs `tape bench produce` against
#   rf1-acks1    replication.factor 1, acks=1       (the baseline)
#   rf1-acksall  replication.factor 1, acks=all     (waits for the fsync)
#   rf3-acksall  replication.factor 3, acks=all, min.insync.replicas=2 (every ISR member has it)
# and prints MB/s, p50/p99 latency and each row's ratio to the baseline. All three brokers share
# this machine's cores and disk, so rf3 pays for three copies on one disk: the ratio is a floor
# for a real cluster, not a forecast.
#
#   scripts/bench-cluster.sh [BUILD_DIR] [--seconds N] [--size BYTES] [--out FILE.md]
#                            [-- key=value...]   (broker overrides, as run-cluster.sh takes)
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/release
secs=5
size=1024
out=
overrides=()
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) secs=$2; shift 2 ;;
	--size) size=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--) shift; overrides=("$@"); break ;;
	-h | --help) sed -n '2,13p' "$0"; exit 0 ;;
	*) build=$1; shift ;;
	esac
done
tape=$build/bin/tape
[ -x "$tape" ] || { echo "bench-cluster: $tape is not built (make)" >&2; exit 1; }
command -v etcd >/dev/null || { echo "bench-cluster: etcd is not installed" >&2; exit 1; }

dir=$(mktemp -d /tmp/tape-bench-cluster.XXXXXX)
etcd_port=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# run-cluster.sh puts brokers on base, base+3, base+6: find a base with those free.
base=$(python3 -c 'import socket
for b in range(20000, 60000, 97):
    try:
        ss=[socket.socket() for _ in range(3)]
        [s.bind(("127.0.0.1", b + 3 * i)) for i, s in enumerate(ss)]
        [s.close() for s in ss]
        print(b); break
    except OSError:
        pass')
stop() {
	scripts/run-cluster.sh stop --dir "$dir" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap stop EXIT
BUILD=$build scripts/run-cluster.sh start --dir "$dir" --base-port "$base" \
	--etcd-port "$etcd_port" -- "${overrides[@]}" >/dev/null
B=localhost:$base,localhost:$((base + 3)),localhost:$((base + 6))
for i in $(seq 50); do
	n=$("$tape" topics -b "$B" create probe -p 1 -r 3 2>&1 | grep -c created || true)
	[ "$n" -eq 1 ] && break
	sleep 0.2
done
"$tape" topics -b "$B" create rf1 -p 1 -r 1 >/dev/null
"$tape" topics -b "$B" create rf3 -p 1 -r 3 -c min.insync.replicas=2 >/dev/null
sleep 2 # the followers open their partitions and join the ISR

declare -A mbps p50 p99
run() { # name topic acks
	local line
	line=$("$tape" bench produce -b "$B" -t "$2" --acks "$3" -s "$size" -d "$secs" -z none |
		grep '^result')
	mbps[$1]=$(sed -E 's/.* mbps=([0-9.]+).*/\1/' <<<"$line")
	p50[$1]=$(sed -E 's/.* p50_us=([0-9]+).*/\1/' <<<"$line")
	p99[$1]=$(sed -E 's/.* p99_us=([0-9]+).*/\1/' <<<"$line")
}
run rf1-acks1 rf1 1
run rf1-acksall rf1 all
run rf3-acksall rf3 all

{
	echo "| run | MB/s | ratio to rf1-acks1 | p50 ms | p99 ms |"
	echo "|---|---|---|---|---|"
	for k in rf1-acks1 rf1-acksall rf3-acksall; do
		awk -v k="$k" -v m="${mbps[$k]}" -v b="${mbps[rf1-acks1]}" -v a="${p50[$k]}" \
			-v c="${p99[$k]}" 'BEGIN { printf "| %s | %.0f | %.2f | %.1f | %.1f |\n",
				k, m, m / b, a / 1000, c / 1000 }'
	done
	echo
	echo "$(date -u +%F), $(nproc) cores; \`scripts/bench-cluster.sh $build --seconds $secs" \
		"--size $size\`: tape bench produce, ${size}-byte records, no compression," \
		"one partition, three brokers and etcd on this machine."
} | tee ${out:+"$out"}
