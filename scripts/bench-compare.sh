#!/usr/bin/env bash
# scripts/bench-compare.sh [--quick] [--build DIR] [--out FILE]
#
# taped beside the peer a user could pick instead (Redis Streams) and beside the machine's own
# limits (disk, loopback, memory), all in one run on this machine, as issue 6 asks. Every claim
# is a ratio of two figures measured here, minutes apart, never an absolute time.
#
#   limits   fio sequential write, 1 MiB blocks (buffered; and with a final fsync) on the file
#            system taped's data lives on; iperf3 over 127.0.0.1; bench/memcpy_probe;
#            bench/pingpong (the loopback round trip).
#   taped    started here with its own temp dir, driven by `tape bench` (libtape): produce
#            100 B and 1 KiB records to 1 and 16 partitions with acks=1 under
#            log.flush.mode=none and acks=all under fsync, linger 5 ms, compression none (zstd
#            beside); replay of a 100-byte topic from the beginning; fetch of a 1 KiB topic from
#            the page cache; end-to-end latency at 10 000 records/s; throughput over 1, 10, 100,
#            1000 partitions and 1, 4, 16 producers; RSS idle, with 1000 partitions and under
#            load; restart time after kill -9 with 1 GiB written since the last checkpoint.
#   redis    redis-server (Debian's 7) on a free port with its own temp dir and --save '':
#            redis-benchmark XADD pipelined 64 deep from 50 clients with appendonly no and with
#            appendfsync always; bench/redis_replay (XRANGE ... COUNT 1000) for the replay.
#
# Durability is paired fairly: taped flush.mode=none + acks=1 <-> Redis appendonly no; taped
# fsync + acks=all <-> Redis appendonly yes, appendfsync always.
#
# Servers run on CPU 0 and their load generators on CPU 1 (taskset, with 2 CPUs or more).
# Output: every run's raw line, a Markdown table of every figure with its peer or limit and
# the ratio, `ratio <name> <value>` lines, and (unless --quick without --out) the report in
# bench/results/compare-<date>.md with a chart compare-<date>.png (gnuplot).
#
#   --quick      smaller runs; finishes in under 4 minutes
#   --build DIR  the release build to use (default build/release; built when missing)
#   --out FILE   where to write the report (default for a full run as above)
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
build=build/release
out=""
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--build) build=${2:?}; shift ;;
	--out) out=${2:?}; shift ;;
	*) echo "usage: $0 [--quick] [--build DIR] [--out FILE]" >&2; exit 2 ;;
	esac
	shift
done
[ "$quick" -eq 1 ] || [ -n "$out" ] || out="bench/results/compare-$(date +%F).md"

# ---- tools -------------------------------------------------------------------------------------
missing=()
for t in fio:fio iperf3:iperf3 redis-server:redis-server redis-benchmark:redis-tools \
	gnuplot:gnuplot-nox python3:python3 taskset:util-linux; do
	command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "bench-compare: installing ${missing[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -x "$build/bin/taped" ] || [ ! -x "$build/bin/tape" ] || [ ! -x "$build/bench/redis_replay" ]; then
	make -j"$(nproc)" >/dev/null
fi

# ---- sizes -------------------------------------------------------------------------------------
if [ "$quick" -eq 1 ]; then
	n100=1000000 n1k=250000 nreplay=2000000 nfsync100=200000 nfsync1k=100000
	fio_bytes=$((1 << 30)) secs=3 e2e_secs=5 recovery_bytes=$((1 << 30))
else
	n100=5000000 n1k=1000000 nreplay=10000000 nfsync100=1000000 nfsync1k=500000
	fio_bytes=$((4 << 30)) secs=6 e2e_secs=20 recovery_bytes=$((1 << 30))
fi

pin_srv=() pin_cli=()
if [ "$(nproc)" -ge 2 ]; then
	pin_srv=(taskset -c 0)
	pin_cli=(taskset -c 1)
fi

mkdir -p build/bench-tmp
tmp=$(mktemp -d "$PWD/build/bench-tmp/compare.XXXXXX")
values=$tmp/values
report=$tmp/report.md
: >"$values"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
	rmdir build/bench-tmp 2>/dev/null || true
}
trap cleanup EXIT

say() { echo "$@" | tee -a "$report" >&2; }
val() { echo "$1 $2" >>"$values"; }
# field NAME LINE: the value of name=value in a result line
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" <<<"$2"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
stop_pid() { # pid [signal]
	kill "-${2:-TERM}" "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	local keep=() p
	for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	pids=("${keep[@]}")
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# ---- limits ------------------------------------------------------------------------------------
fio_run() { # kind end_fsync
	fio --name="seq_$1" --filename="$tmp/fio.dat" --rw=write --bs=1M --size="$fio_bytes" \
		--ioengine=psync --end_fsync="$2" --output-format=json --output="$tmp/fio.json" >/dev/null
	rm -f "$tmp/fio.dat"
	local mbps
	mbps=$(python3 -c 'import json, sys
print("%.1f" % (json.load(open(sys.argv[1]))["jobs"][0]["write"]["bw_bytes"] / 1e6))' "$tmp/fio.json")
	say "fio sequential write 1 MiB blocks, $1: $mbps MB/s"
	val "fio_$1_MBps" "$mbps"
}

iperf_run() {
	local port mbps
	port=$(free_port)
	"${pin_srv[@]}" iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
	local spid=$!
	pids+=("$spid")
	sleep 0.5
	mbps=$("${pin_cli[@]}" iperf3 -c 127.0.0.1 -p "$port" -t "$secs" -J |
		python3 -c 'import json, sys
print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 8e6))')
	stop_pid "$spid"
	say "iperf3 over 127.0.0.1, one stream, ${secs} s: $mbps MB/s"
	val iperf3_MBps "$mbps"
}

# ---- taped -------------------------------------------------------------------------------------
taped_pid="" taped_port="" taped_dir=""
taped_start() { # flush_mode [dir] [unpinned]
	taped_dir=${2:-$tmp/taped-$1}
	mkdir -p "$taped_dir"
	local pin=("${pin_srv[@]}")
	[ "${3:-}" = unpinned ] && pin=()
	"${pin[@]}" "$build/bin/taped" --override "log.dirs=$taped_dir" \
		--override listeners=PLAINTEXT://127.0.0.1:0 --override "log.flush.mode=$1" \
		--override num.partitions=1 --override group.initial.rebalance.delay.ms=0 \
		>"$tmp/taped.out" 2>"$tmp/taped.err" &
	taped_pid=$!
	pids+=("$taped_pid")
	local i
	for ((i = 0; i < 600; i++)); do
		taped_port=$(sed -n 's/^taped: listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$tmp/taped.out")
		[ -n "$taped_port" ] && return 0
		kill -0 "$taped_pid" 2>/dev/null || break
		sleep 0.01
	done
	echo "bench-compare: taped did not start: $(cat "$tmp/taped.err")" >&2
	exit 1
}
# taped_stop [signal]: stops it and removes its data (a full run writes tens of GB), except
# after KILL, when the data is what the restart measured next recovers.
taped_stop() {
	stop_pid "$taped_pid" "${1:-TERM}"
	[ "${1:-TERM}" = KILL ] || rm -rf "$taped_dir"
}
tape_pin=("${pin_cli[@]}")
tape() { "${tape_pin[@]}" "$build/bin/tape" "$@" -b "127.0.0.1:$taped_port"; }
# mk TOPIC PARTITIONS: creates the topic (tape topics create) unless it exists
mk() { tape topics create "$1" -p "$2" >/dev/null 2>&1 || true; }

# tb NAME ARGS...: one `tape bench` run; keeps its result line's figures as NAME_*
tb() {
	local name=$1 line
	shift
	line=$(tape bench "$@" 2>"$tmp/tb.err" | grep '^result ' | tail -1) || true
	if [ -z "$line" ]; then
		say "tape bench $* failed: $(tail -3 "$tmp/tb.err")"
		return 1
	fi
	say "tape bench $*: $line"
	local k
	for k in rps mbps p50_us p99_us p999_us; do
		local v
		v=$(field "$k" "$line")
		[ -n "$v" ] && val "${name}_$k" "$v"
	done
	return 0
}

# ---- redis -------------------------------------------------------------------------------------
redis_pid="" redis_port=""
redis_start() { # extra args...
	redis_port=$(free_port)
	mkdir -p "$tmp/redis"
	rm -f "$tmp/redis/"*
	"${pin_srv[@]}" redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$tmp/redis" \
		--save '' "$@" >"$tmp/redis.log" 2>&1 &
	redis_pid=$!
	pids+=("$redis_pid")
	local i
	for ((i = 0; i < 200; i++)); do
		redis-cli -p "$redis_port" ping >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "bench-compare: redis-server did not start: $(tail -3 "$tmp/redis.log")" >&2
	exit 1
}
redis_stop() { stop_pid "$redis_pid"; }
# xadd NAME SIZE COUNT: redis-benchmark XADD of SIZE-byte values, 50 clients, 64 deep
xadd() {
	local name=$1 size=$2 n=$3 v line rps
	v=$(head -c "$size" /dev/zero | tr '\0' 'x')
	line=$("${pin_cli[@]}" redis-benchmark -p "$redis_port" -c 50 -P 64 -n "$n" -q \
		XADD "stream-$name" '*' v "$v" 2>/dev/null | tr '\r' '\n' | grep 'requests per second' | tail -1)
	rps=$(sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' <<<"$line")
	say "redis-benchmark XADD $size B x $n (-c 50 -P 64): $rps records/s"
	val "${name}_rps" "$rps"
}

# ---- the runs ----------------------------------------------------------------------------------
say "# tape vs Redis Streams vs the machine: scripts/bench-compare.sh$([ "$quick" -eq 1 ] && echo " --quick")"
say ""
say "- $(date '+%F %T %Z'), commit $(git rev-parse --short HEAD 2>/dev/null || echo ?), $build"
say "- $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) vCPU, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r), $(df -T "$tmp" | awk 'NR == 2 { print $2 }') on $(df "$tmp" | awk 'NR == 2 { print $1 }')"
say "- servers ${pin_srv[*]:-unpinned}, load generators ${pin_cli[*]:-unpinned}; $(redis-server --version | cut -d' ' -f1-3), $(fio --version), $(iperf3 --version | head -1 | cut -d' ' -f1-2)"
say "- load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
say ""
say '```text'
fio_run buffered 0
fio_run fsync 1
iperf_run
line=$("$build/bench/memcpy_probe" 256 5 | grep '^result')
say "memcpy: $line"
val memcpy_GBps "$(field GBps "$line")"
line=$("$build/bench/pingpong" 100000 100 | grep '^result')
say "pingpong: $line"
val pingpong_p99_us "$(field p99_us "$line")"
val pingpong_p50_us "$(field p50_us "$line")"

# End-to-end latency at a fixed rate, first (no write-back of earlier runs in flight), on a
# taped of its own, unpinned on both sides like the ping-pong it is compared with (pinned, the
# producer and consumer threads share one CPU and wait for each other's time slices).
taped_start none "$tmp/taped-e2e" unpinned
tape_pin=()
mk e2e 1
tb t_e2e e2e -t e2e -s 100 --rate 10000 -d "$e2e_secs" -z none --acks 1 --linger-ms 0
tape_pin=("${pin_cli[@]}")
taped_stop

# taped, flush.mode=none, acks=1
taped_start none
val taped_idle_rss_kib "$(rss_kib "$taped_pid")"
for p in 1 16; do
	mk "p100-p$p" "$p"; tb "t_p100_p${p}_a1" produce -t "p100-p$p" -s 100 -d "$secs" -P "$p" --acks 1 -z none --linger-ms 5
	mk "p1k-p$p" "$p"; tb "t_p1k_p${p}_a1" produce -t "p1k-p$p" -s 1024 -d "$secs" -P "$p" --acks 1 -z none --linger-ms 5
done
mk p100-zstd 1; tb t_p100_p1_a1_zstd produce -t p100-zstd -s 100 -d "$secs" -P 1 --acks 1 -z zstd --linger-ms 5
mk p1k-zstd 1; tb t_p1k_p1_a1_zstd produce -t p1k-zstd -s 1024 -d "$secs" -P 1 --acks 1 -z zstd --linger-ms 5
# replay: a topic of nreplay 100-byte records read from the beginning; fetch: the 1 KiB topic
mk replay100 1; tb t_fill_replay produce -t replay100 -s 100 -n "$nreplay" -P 1 --acks 1 -z none --linger-ms 5
tb t_replay100 consume -t replay100 -n "$nreplay"
tb t_fetch1k consume -t p1k-p1 -d "$secs"
# scaling over partitions and producers (100-byte records, acks=1)
for p in 1 10 100 1000; do
	mk "scale-p$p" "$p"; tb "t_scale_p$p" produce -t "scale-p$p" -s 100 -d "$secs" -P "$p" --acks 1 -z none --linger-ms 5
done
val taped_rss_1000p_kib "$(rss_kib "$taped_pid")"
for c in 1 4 16; do
	mk "scale-c$c" 16; tb "t_scale_c$c" produce -t "scale-c$c" -s 100 -d "$secs" -P 16 --acks 1 -z none --linger-ms 5 --producers "$c"
done
val taped_load_hwm_kib "$(hwm_kib "$taped_pid")"
taped_stop

# taped, fsync, acks=all
taped_start fsync
for p in 1 16; do
	mk "f100-p$p" "$p"; tb "t_p100_p${p}_aall" produce -t "f100-p$p" -s 100 -d "$secs" -P "$p" --acks all -z none --linger-ms 5
	mk "f1k-p$p" "$p"; tb "t_p1k_p${p}_aall" produce -t "f1k-p$p" -s 1024 -d "$secs" -P "$p" --acks all -z none --linger-ms 5
done
taped_stop

# recovery: 1 GiB of 1 KiB records written since the last checkpoint, kill -9, restart
taped_start none "$tmp/taped-recovery"
mk recovery 1; tb t_recovery_fill produce -t recovery -s 1024 -n $((recovery_bytes / 1024)) -P 1 --acks 1 -z none --linger-ms 5
taped_stop KILL
t0=$(date +%s.%N)
taped_start none "$tmp/taped-recovery"
t1=$(date +%s.%N)
rec=$(echo "$t1 - $t0" | bc)
say "taped restart after kill -9 with $((recovery_bytes >> 20)) MiB unflushed: ${rec} s to listening"
val taped_recovery_s "$rec"
taped_stop

# redis, appendonly no
redis_start --appendonly no
val redis_idle_rss_kib "$(rss_kib "$redis_pid")"
xadd r_p100_a1 100 "$n100"
xadd r_p1k_a1 1024 "$n1k"
redis-cli -p "$redis_port" del stream-r_p100_a1 stream-r_p1k_a1 >/dev/null
xadd r_fill_replay 100 "$nreplay"
line=$("${pin_cli[@]}" "$build/bench/redis_replay" "$redis_port" stream-r_fill_replay 1000 | grep '^result')
say "redis replay: $line"
val r_replay100_rps "$(field eps "$line")"
redis_stop
# redis, appendfsync always
redis_start --appendonly yes --appendfsync always
xadd r_p100_aall 100 "$nfsync100"
xadd r_p1k_aall 1024 "$nfsync1k"
redis_stop
say '```'
say ""
say "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
say ""

python3 - "$values" "$tmp/chart.dat" <<'EOF' | tee -a "$report"
import sys
v = {}
for line in open(sys.argv[1]):
    k, x = line.split()
    try:
        v[k] = float(x)
    except ValueError:
        pass
def g(k):
    return v.get(k, float("nan"))
def r(a, b):
    return a / b if b and b == b and a == a else float("nan")
rows, ratios, chart = [], [], []
def row(name, taped, unit, peer_label, peer, goal=None, better="high", ratio_name=None):
    ratio = r(taped, peer) if better == "high" else r(peer, taped)
    shown = r(taped, peer)
    met = ""
    if goal is not None:
        ok = (shown >= goal) if better == "high" else (shown <= goal)
        met = "yes" if ok else "**no**"
    print(f"| {name} | {taped:,.0f} {unit} | {peer_label}: {peer:,.0f} | {shown:.2f} | "
          f"{('>= ' if better == 'high' else '<= ') + format(goal, '.2f') if goal is not None else ''} | {met} |")
    if ratio_name:
        ratios.append(f"ratio {ratio_name} {shown:.2f}")
        chart.append((ratio_name, shown, goal if goal is not None else 0))
MB = 1e6
print("| workload | taped | peer or limit | ratio | goal | met? |")
print("|---|---:|---:|---:|---|---|")
row("produce 100 B, 1 partition, acks=1 (flush none)", g("t_p100_p1_a1_rps"), "rec/s",
    "Redis XADD, appendonly no", g("r_p100_a1_rps"), 3.0, ratio_name="produce_100B_vs_redis")
row("produce 100 B, 16 partitions, acks=1", g("t_p100_p16_a1_rps"), "rec/s",
    "Redis XADD, appendonly no", g("r_p100_a1_rps"), 3.0, ratio_name="produce_100B_p16_vs_redis")
row("produce 100 B, 1 partition, acks=1, zstd", g("t_p100_p1_a1_zstd_rps"), "rec/s",
    "Redis XADD, appendonly no", g("r_p100_a1_rps"))
row("produce 1 KiB, 1 partition, acks=1", g("t_p1k_p1_a1_rps"), "rec/s",
    "Redis XADD 1 KiB, appendonly no", g("r_p1k_a1_rps"), ratio_name="produce_1KiB_vs_redis")
row("produce 1 KiB, 1 partition, acks=1 (MB/s)", g("t_p1k_p1_a1_mbps"), "MB/s",
    "fio buffered write", g("fio_buffered_MBps"), 0.5, ratio_name="produce_1KiB_vs_fio_write")
row("produce 1 KiB, 16 partitions, acks=1 (MB/s)", g("t_p1k_p16_a1_mbps"), "MB/s",
    "fio buffered write", g("fio_buffered_MBps"), 0.5, ratio_name="produce_1KiB_p16_vs_fio_write")
row("produce 1 KiB, 1 partition, acks=1, zstd", g("t_p1k_p1_a1_zstd_rps"), "rec/s",
    "Redis XADD 1 KiB, appendonly no", g("r_p1k_a1_rps"))
row("produce 100 B, 1 partition, acks=all (fsync)", g("t_p100_p1_aall_rps"), "rec/s",
    "Redis XADD, appendfsync always", g("r_p100_aall_rps"), 2.0, ratio_name="produce_100B_fsync_vs_redis_always")
row("produce 100 B, 16 partitions, acks=all (fsync)", g("t_p100_p16_aall_rps"), "rec/s",
    "Redis XADD, appendfsync always", g("r_p100_aall_rps"), 2.0)
row("produce 1 KiB, 1 partition, acks=all (fsync)", g("t_p1k_p1_aall_rps"), "rec/s",
    "Redis XADD 1 KiB, appendfsync always", g("r_p1k_aall_rps"), 2.0, ratio_name="produce_1KiB_fsync_vs_redis_always")
row("produce 1 KiB, 16 partitions, acks=all (fsync)", g("t_p1k_p16_aall_rps"), "rec/s",
    "Redis XADD 1 KiB, appendfsync always", g("r_p1k_aall_rps"), 2.0)
row("produce 1 KiB, 1 partition, acks=all (MB/s)", g("t_p1k_p1_aall_mbps"), "MB/s",
    "fio write + final fsync", g("fio_fsync_MBps"))
row("replay 100 B from the beginning", g("t_replay100_rps"), "rec/s",
    "Redis XRANGE COUNT 1000", g("r_replay100_rps"), 3.0, ratio_name="replay_100B_vs_redis")
row("fetch 1 KiB from page cache (MB/s)", g("t_fetch1k_mbps"), "MB/s",
    "iperf3 loopback", g("iperf3_MBps"), 0.5, ratio_name="fetch_1KiB_vs_iperf3")
row("fetch 1 KiB from page cache (MB/s)", g("t_fetch1k_mbps"), "MB/s",
    "memcpy", g("memcpy_GBps") * 1000)
row("end-to-end p99 at 10 000 rec/s (us)", g("t_e2e_p99_us"), "us",
    "loopback ping-pong p99", g("pingpong_p99_us"), 3.0, better="low", ratio_name="p99_vs_pingpong")
print(f"| end-to-end p50 / p999 at 10 000 rec/s | {g('t_e2e_p50_us'):,.0f} / {g('t_e2e_p999_us'):,.0f} us | ping-pong p50: {g('pingpong_p50_us'):,.1f} us | | | |")
for p in (1, 10, 100, 1000):
    row(f"produce 100 B acks=1 over {p} partition(s)", g(f"t_scale_p{p}_rps"), "rec/s",
        "1 partition", g("t_scale_p1_rps"))
for c in (1, 4, 16):
    row(f"produce 100 B acks=1, {c} producer(s), 16 partitions", g(f"t_scale_c{c}_rps"), "rec/s",
        "1 producer", g("t_scale_c1_rps"))
kib = 1024
print(f"| taped RSS idle | {g('taped_idle_rss_kib') / kib:.1f} MiB | Redis idle: {g('redis_idle_rss_kib') / kib:.1f} MiB | | <= 32 MiB | {'yes' if g('taped_idle_rss_kib') <= 32 * kib else '**no**'} |")
print(f"| taped RSS with 1000 partitions | {g('taped_rss_1000p_kib') / kib:.1f} MiB | | | <= 256 MiB | {'yes' if g('taped_rss_1000p_kib') <= 256 * kib else '**no**'} |")
print(f"| taped peak RSS under load | {g('taped_load_hwm_kib') / kib:.1f} MiB | | | | |")
print(f"| restart after kill -9, 1 GiB to scan | {g('taped_recovery_s'):.2f} s | | | <= 3 s | {'yes' if g('taped_recovery_s') <= 3 else '**no**'} |")
print()
print("```text")
for x in ratios:
    print(x)
print(f"ratio rss_idle_MiB {g('taped_idle_rss_kib') / kib:.1f}")
print(f"ratio restart_after_kill_s {g('taped_recovery_s'):.2f}")
print("```")
with open(sys.argv[2], "w") as f:
    for name, x, goal in chart:
        f.write(f"{name} {x if x == x else 0:.3f} {goal if goal else 'NaN'}\n")
EOF

if [ -n "$out" ]; then
	mkdir -p "$(dirname "$out")"
	cp "$report" "$out"
	png=${out%.md}.png
	gnuplot <<EOF
set terminal pngcairo size 1100,560 font ",10"
set output "$png"
set termoption noenhanced
set datafile missing "NaN"
set key top left
set bmargin 9
set title "taped against its peer or limit, same run ($(date +%F), $(nproc) vCPU): ratio (bars), goal (points; p99: at most, others: at least)"
set style data histogram
set style fill solid 0.8 border -1
set boxwidth 0.7
set xtics rotate by -30 nomirror
set ylabel "ratio (taped / peer; p99: taped / ping-pong)"
set grid ytics
set yrange [0:*]
plot "$tmp/chart.dat" using 2:xtic(1) title "measured", "" using 0:3 with points pt 7 ps 1.5 title "goal"
EOF
	echo "bench-compare: report saved to $out, chart to $png" >&2
fi
