#!/usr/bin/env bash
# scripts/bench-log.sh BUILD_DIR [--quick] [--repeat N] [--cpu N] [--out FILE]
#
# The storage benchmarks of `make bench`, side by side with fio on the same file system in the
# same run: fio's sequential 1 MiB writes (psync, buffered; then with a final fsync) against
# bench/log_append (100-byte and 1 KiB records in ~16 KiB batches, flush.mode none and fsync),
# and bench/log_recovery (the worst recovery scan, warm page cache). Prints every run's raw
# lines, then a Markdown table of medians with each ratio and its goal, then the
# machine-readable lines `ratio ... X` and `result recovery_GBps X`.
#
#   --quick     256 MiB per run instead of 2 GiB
#   --repeat N  runs of each workload, interleaved; the table shows the median (default 5)
#   --cpu N     the CPU every benchmark and fio are pinned to (default: the last one)
#   --out FILE  also write the report there (default for a full run:
#               bench/results/log-<date>.md; a --quick run writes none unless asked)
#
# Data goes to a temp directory under BUILD_DIR's parent (build/bench-tmp/, same file system
# as the build), removed at the end. Every run starts after a syncfs, so no run pays for the
# previous one's write-back.
set -euo pipefail

usage() {
	echo "usage: $0 BUILD_DIR [--quick] [--repeat N] [--cpu N] [--out FILE]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
build=$1
shift
bytes=$((2 * 1024 * 1024 * 1024))
quick=0
repeat=5
cpu=""
out=""
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 bytes=$((256 * 1024 * 1024)) ;;
	--repeat) repeat=${2:?}; shift ;;
	--cpu) cpu=${2:?}; shift ;;
	--out) out=${2:?}; shift ;;
	*) usage ;;
	esac
	shift
done
[ "$quick" -eq 1 ] || [ -n "$out" ] || out="bench/results/log-$(date +%F).md"

for b in log_append log_recovery; do
	[ -x "$build/bench/$b" ] || { echo "bench-log: $build/bench/$b missing; run make" >&2; exit 1; }
done
if ! command -v fio >/dev/null; then
	echo "bench-log: fio missing; installing it" >&2
	scripts/install-deps.sh
fi
command -v python3 >/dev/null || { echo "bench-log: python3 is needed to read fio's JSON" >&2; exit 1; }

pin=()
pin_note="not pinned (taskset missing)"
if command -v taskset >/dev/null; then
	[ -n "$cpu" ] || cpu=$(($(nproc) - 1))
	pin=(taskset -c "$cpu")
	pin_note="pinned with taskset -c $cpu: each benchmark and each fio run on CPU $cpu of $(nproc) (helper threads and io_uring's io-wq workers inherit it; kernel write-back threads do not)"
fi

mkdir -p "$(dirname "$build")/bench-tmp"
tmp=$(mktemp -d "$(dirname "$build")/bench-tmp/run.XXXXXX")
report=$(mktemp)
values="$tmp/values"
cleanup() {
	rm -rf "$tmp"
	rmdir "$(dirname "$tmp")" 2>/dev/null || true
	rm -f "$report"
}
trap cleanup EXIT

say() { echo "$@" | tee -a "$report"; }
# CPU accounting from /proc/stat: busy_since SNAPSHOT prints the percent of all CPUs' time that
# was not idle since cpu_snap took SNAPSHOT. A pinned run fills at most one CPU (plus kernel
# write-back elsewhere), so much more than 100/ncpu percent means other work was running.
cpu_snap() { head -1 /proc/stat; }
busy_since() {
	local a b total=0 i
	read -r -a a <<<"$1"
	read -r -a b <<<"$(cpu_snap)"
	for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
	echo $((total > 0 ? 100 * (total - (b[4] - a[4]) - (b[5] - a[5])) / total : 0))
}
busy_pct() {
	local s
	s=$(cpu_snap)
	sleep 1
	busy_since "$s"
}
settle() { sync -f "$tmp"; }

# fio_run END_FSYNC: one fio job; appends "fio_<kind> MB/s" to values.
fio_run() {
	local kind=$1 end_fsync=$2 snap
	settle
	snap=$(cpu_snap)
	"${pin[@]}" fio --name="seqwrite_$kind" --filename="$tmp/fio.dat" --rw=write --bs=1M \
		--size="$bytes" --ioengine=psync --end_fsync="$end_fsync" \
		--output-format=json --output="$tmp/fio.json" >/dev/null
	rm -f "$tmp/fio.dat"
	local mbps
	mbps=$(python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
print("%.1f" % (j["write"]["bw_bytes"] / 1e6))' "$tmp/fio.json")
	say "fio $kind (end_fsync=$end_fsync): $mbps MB/s  [CPUs busy $(busy_since "$snap")%]"
	echo "fio_$kind $mbps" >>"$values"
}

# append_run RECORD_BYTES FLUSH
append_run() {
	local rb=$1 flush=$2 lines snap
	settle
	snap=$(cpu_snap)
	lines=$("${pin[@]}" "$build/bench/log_append" --dir "$tmp/append" --bytes "$bytes" \
		--record-bytes "$rb" --flush "$flush" 2>&1)
	lines="$lines  [CPUs busy $(busy_since "$snap")%]"
	echo "$lines" | tee -a "$report"
	echo "$lines" | sed -n "s/^result append .* MBps=\([0-9.]*\) .*/append_${rb}_$flush \1/p" >>"$values"
}

# recovery_run RECORD_BYTES: builds the partition on the first call, reuses it after.
recovery_run() {
	local rb=$1 lines snap reuse=()
	[ -d "$tmp/recovery-$rb" ] && reuse=(--reuse)
	settle
	snap=$(cpu_snap)
	lines=$("${pin[@]}" "$build/bench/log_recovery" --dir "$tmp/recovery-$rb" --bytes "$bytes" \
		--record-bytes "$rb" --keep "${reuse[@]}" 2>&1)
	lines="$lines  [CPUs busy $(busy_since "$snap")%]"
	echo "$lines" | tee -a "$report"
	echo "$lines" | sed -n "s/^result recovery .* GBps=\([0-9.]*\)$/recovery_$rb \1/p" >>"$values"
}

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- 2>/dev/null || commit="$commit (with uncommitted changes)"
fs=$(df -T "$tmp" | awk 'NR == 2 { print $2 " on " $1 }')
opts=$(findmnt -no OPTIONS -T "$tmp" 2>/dev/null || echo "?")
say "# tape storage benchmarks: log_append and log_recovery against fio"
say ""
say "- $(date '+%F %T %Z'), commit $commit, $build"
say "- $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) vCPU, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r)"
say "- file system: $fs ($opts); vm.dirty_ratio $(cat /proc/sys/vm/dirty_ratio), dirty_background_ratio $(cat /proc/sys/vm/dirty_background_ratio)"
say "- $(fio --version): --rw=write --bs=1M --size=$bytes --ioengine=psync, --end_fsync=0 and 1 (fio's bandwidth includes the final fsync)"
say "- $bytes bytes per run$([ "$quick" -eq 1 ] && echo " (--quick)"), $repeat runs of each workload, interleaved; syncfs before every run"
say "- $pin_note"
say "- before the runs: load average $(cut -d' ' -f1-3 /proc/loadavg), CPUs busy $(busy_pct)% over 1 s; each run ends with [CPUs busy N%] over its own span: a pinned run alone fills about $((100 / $(nproc)))%, more means other work competed with it"
if [ -r /sys/module/page_reporting/parameters/reported_kib ]; then
	say "- virtio-balloon free page reporting is on ($(cat /sys/module/page_reporting/parameters/reported_kib) KiB reported so far): memory the guest frees goes back to the host and faults in again on next use, so copies into the page cache vary run to run; read the medians and ranges, not one run"
fi
say ""
say "## Runs"
say ""
say '```text'
# Odd runs put fio first, even runs last, so neither side always inherits the other's freshly
# freed page cache.
for i in $(seq 1 "$repeat"); do
	say "--- run $i of $repeat"
	[ $((i % 2)) -eq 1 ] && fio_run buffered 0
	append_run 1024 none
	append_run 100 none
	[ $((i % 2)) -eq 0 ] && fio_run buffered 0
	[ $((i % 2)) -eq 1 ] && fio_run fsync 1
	append_run 1024 fsync
	append_run 100 fsync
	[ $((i % 2)) -eq 0 ] && fio_run fsync 1
	recovery_run 1024
	recovery_run 100
done
say '```'
say ""

say "after the runs: load average $(cut -d' ' -f1-3 /proc/loadavg)"
say ""
python3 - "$values" "$repeat" <<'EOF' | tee -a "$report"
import statistics, sys
values = {}
for line in open(sys.argv[1]):
    k, v = line.split()
    values.setdefault(k, []).append(float(v))
def med(k):
    return statistics.median(values[k]) if k in values else float("nan")
def spread(k, scale=1.0):
    v = values.get(k, [])
    if len(v) < 2:
        return ""
    return f" ({min(v) * scale:.0f}-{max(v) * scale:.0f})"
rows = []
ratios = []
for rb, name in ((1024, "1KiB"), (100, "100B")):
    for flush, fio, goal, fio_label in (("none", "fio_buffered", 0.70, "buffered"),
                                        ("fsync", "fio_fsync", 0.50, "write + end fsync")):
        t, f = med(f"append_{rb}_{flush}"), med(fio)
        r = t / f
        label = "1 KiB" if rb == 1024 else "100 B"
        rows.append((f"append {label} records, flush {flush}",
                     f"{t:.0f}{spread(f'append_{rb}_{flush}')}",
                     f"{f:.0f}{spread(fio)} {fio_label}", f"{r:.2f}", f">= {goal:.2f}",
                     "yes" if r >= goal else "**no**"))
        ratios.append(f"ratio append_{name}_{flush}_vs_fio_{'buffered' if flush == 'none' else 'fsync'} {r:.2f}")
for rb, label in ((1024, "1 KiB"), (100, "100 B")):
    g = med(f"recovery_{rb}")
    rows.append((f"recovery scan, {label} records, warm, no checkpoint",
                 f"{g * 1000:.0f}{spread(f'recovery_{rb}', 1000)}", "-",
                 "-", ">= 1000 MB/s", "yes" if g >= 1.0 else "**no**"))
print(f"## Summary: median of {sys.argv[2]}, (min-max) of the runs; MB = 10^6 bytes")
print()
print("| workload | tape MB/s | fio MB/s | ratio | goal | met? |")
print("|---|---:|---:|---:|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
print()
print("```text")
for line in ratios:
    print(line)
print(f"result recovery_GBps {med('recovery_1024'):.2f}")
print(f"result recovery_100B_GBps {med('recovery_100'):.2f}")
print("```")
EOF

if [ -n "$out" ]; then
	mkdir -p "$(dirname "$out")"
	cp "$report" "$out"
	echo "bench-log: report saved to $out"
fi
