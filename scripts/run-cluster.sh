#!/usr/bin/env bash
# scripts/run-cluster.sh: a local tape cluster, one etcd and N taped brokers, in the background.
#
#   scripts/run-cluster.sh start [-n 3] [--dir DIR] [--base-port 9092] [--etcd-port 2379]
#                                [--build build/release] [-- key=value...]
#   scripts/run-cluster.sh status [--dir DIR]
#   scripts/run-cluster.sh stop [--dir DIR]
#
# start: etcd on 127.0.0.1:ETCD_PORT (peers on ETCD_PORT+1, data in DIR/etcd), then brokers
# with node.id 0..N-1 on ports BASE, BASE+3, BASE+6, ... (9092/9095/9098: the layout client
# test suites expect), advertised as localhost, each with its data in DIR/broker-ID/data and
# its output in DIR/broker-ID.out and .err, all with metadata.store=etcd://127.0.0.1:ETCD_PORT,
# default.replication.factor and offsets.topic.replication.factor min(N, 3). Overrides after
# -- go to every broker. A member whose recorded PID still runs is left alone, so start again
# after a crash starts only what is missing. DIR defaults to ./cluster.
#
# stop: SIGTERM to the recorded PIDs (brokers, then etcd), SIGKILL after 15 s. A PID is
# signalled only while /proc/PID/cmdline still names DIR: a recycled PID is never touched.
# Data stays in DIR (rm -rf it for a fresh cluster).
set -uo pipefail

usage() {
	sed -n '3,7p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

cmd=${1:-}
[ -n "$cmd" ] || usage
shift
n=3 dir=./cluster base=9092 etcd_port=2379 build=build/release overrides=()
while [ $# -gt 0 ]; do
	case $1 in
	-n) n=${2:?}; shift 2 ;;
	--dir) dir=${2:?}; shift 2 ;;
	--base-port) base=${2:?}; shift 2 ;;
	--etcd-port) etcd_port=${2:?}; shift 2 ;;
	--build) build=${2:?}; shift 2 ;;
	--) shift; overrides=("$@"); break ;;
	*) usage ;;
	esac
done
[[ $n =~ ^[1-9][0-9]?$ && $base =~ ^[0-9]+$ && $etcd_port =~ ^[0-9]+$ ]] || usage
mkdir -p "$dir" || exit 1
dir=$(cd "$dir" && pwd)

# ours PIDFILE: the PID recorded there, when that process still runs and its command line
# names our directory (so it is the one we started, not a recycled PID).
ours() {
	local pid
	[ -s "$1" ] || return 1
	pid=$(cat "$1")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$dir/" || return 1
	echo "$pid"
}

wait_tcp() { # PORT SECS
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

start_etcd() {
	local pid peer=$((etcd_port + 1))
	if pid=$(ours "$dir/etcd.pid"); then
		echo "etcd already running (pid $pid)"
		return 0
	fi
	command -v etcd >/dev/null || { echo "run-cluster: etcd is not installed (scripts/install-deps.sh installs etcd-server)" >&2; exit 1; }
	mkdir -p "$dir/etcd"
	# setsid: a Ctrl-C in the shell that ran start does not reach the cluster.
	setsid etcd --name tape-etcd --data-dir "$dir/etcd/data" \
		--listen-client-urls "http://127.0.0.1:$etcd_port" \
		--advertise-client-urls "http://127.0.0.1:$etcd_port" \
		--listen-peer-urls "http://127.0.0.1:$peer" \
		--initial-advertise-peer-urls "http://127.0.0.1:$peer" \
		--initial-cluster "tape-etcd=http://127.0.0.1:$peer" \
		>"$dir/etcd/etcd.log" 2>&1 </dev/null &
	echo $! >"$dir/etcd.pid"
	wait_tcp "$etcd_port" 15 || { echo "run-cluster: etcd did not listen on $etcd_port within 15 s: $(tail -3 "$dir/etcd/etcd.log")" >&2; exit 1; }
	echo "etcd on 127.0.0.1:$etcd_port (pid $(cat "$dir/etcd.pid"), log $dir/etcd/etcd.log)"
}

start_broker() {
	local id=$1 port=$((base + 3 * $1)) pid rf=$((n < 3 ? n : 3))
	if pid=$(ours "$dir/broker-$id.pid"); then
		echo "broker $id already running (pid $pid)"
		return 0
	fi
	local taped=$build/bin/taped
	[ -x "$taped" ] || { echo "run-cluster: $taped is not built (make)" >&2; exit 1; }
	mkdir -p "$dir/broker-$id/data"
	local args=() kv
	[ -f config/server.properties ] && args+=(config/server.properties)
	for kv in "node.id=$id" "metadata.store=etcd://127.0.0.1:$etcd_port" \
		"listeners=PLAINTEXT://127.0.0.1:$port" "advertised.listeners=PLAINTEXT://localhost:$port" \
		"log.dirs=$dir/broker-$id/data" "default.replication.factor=$rf" \
		"offsets.topic.replication.factor=$rf" "${overrides[@]}"; do
		args+=(--override "$kv")
	done
	setsid "$taped" "${args[@]}" >"$dir/broker-$id.out" 2>"$dir/broker-$id.err" </dev/null &
	echo $! >"$dir/broker-$id.pid"
}

wait_broker() {
	local id=$1 i pid
	pid=$(cat "$dir/broker-$id.pid")
	for ((i = 0; i < 150; i++)); do
		grep -q '^taped: listening on ' "$dir/broker-$id.out" 2>/dev/null && {
			echo "broker $id on localhost:$((base + 3 * id)) (pid $pid, log $dir/broker-$id.err)"
			return 0
		}
		kill -0 "$pid" 2>/dev/null || { echo "run-cluster: broker $id exited: $(tail -3 "$dir/broker-$id.err")" >&2; return 1; }
		sleep 0.1
	done
	echo "run-cluster: broker $id did not listen within 15 s: $(tail -3 "$dir/broker-$id.err")" >&2
	return 1
}

stop_pid() { # PIDFILE NAME
	local pid i
	pid=$(ours "$1") || { rm -f "$1"; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "run-cluster: $2 (pid $pid) did not stop within 15 s of SIGTERM: SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$1"
	echo "stopped $2 (pid $pid)"
}

bootstrap() {
	local i list=
	for ((i = 0; i < n; i++)); do list+=${list:+,}localhost:$((base + 3 * i)); done
	echo "$list"
}

case $cmd in
start)
	start_etcd
	for ((id = 0; id < n; id++)); do start_broker "$id"; done
	ok=1
	for ((id = 0; id < n; id++)); do wait_broker "$id" || ok=0; done
	[ $ok = 1 ] || { echo "run-cluster: not every broker started; scripts/run-cluster.sh stop --dir $dir stops the rest" >&2; exit 1; }
	cat <<MSG
A $n-broker tape cluster runs; its data and logs are in $dir.
  bootstrap: $(bootstrap)
  $build/bin/tape topics -b $(bootstrap) create demo -p 3 -r $((n < 3 ? n : 3))
  $build/bin/tape topics -b $(bootstrap) describe demo     # leaders, replicas, ISR, epochs
  etcdctl --endpoints 127.0.0.1:$etcd_port get --prefix /tape/   # the cluster's metadata
  scripts/run-cluster.sh stop --dir $dir
MSG
	;;
stop)
	for f in "$dir"/broker-*.pid; do
		[ -e "$f" ] || continue
		b=${f##*/}
		stop_pid "$f" "${b%.pid}"
	done
	[ -e "$dir/etcd.pid" ] && stop_pid "$dir/etcd.pid" etcd
	;;
status)
	rc=0
	for f in "$dir"/broker-*.pid "$dir/etcd.pid"; do
		[ -e "$f" ] || continue
		b=${f##*/}
		if pid=$(ours "$f"); then echo "${b%.pid}: running (pid $pid)"; else
			echo "${b%.pid}: not running"
			rc=1
		fi
	done
	exit $rc
	;;
*) usage ;;
esac
