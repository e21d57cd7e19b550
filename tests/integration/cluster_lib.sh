#!/usr/bin/env bash
# tests/integration/cluster_lib.sh: helpers for cluster tests (one etcd, N brokers on loopback),
# sourced after nothing else (it sources lib.sh); run.sh does not run it as a test. Every
# process is started here, remembered by PID and signalled only by that PID; sourcing installs
# `trap cluster_cleanup EXIT`, and a test with its own EXIT trap must call cluster_cleanup in
# it. Ports are picked free up front (the kernel's choice for a socket bound to port 0, then
# closed) because brokers advertise their port to each other and keep it across restarts.
#
#   start_etcd DIR              etcd with its data in DIR/etcd, on free loopback ports; sets
#                               ETCD_PID, ETCD_ENDPOINT (127.0.0.1:port); skips (exit 77)
#                               when etcd is not installed
#   stop_etcd                   SIGTERM, SIGKILL after 10 s
#   kill_etcd [SIG]             SIG (default KILL; STOP and CONT too) to etcd; reaped when it
#                               ends it
#   restart_etcd                etcd again on the same ports and data
#   start_broker DIR ID [key=value...]
#                               taped node.id=ID, data DIR/broker-ID/data, output
#                               DIR/broker-ID.out/.err, listening and advertised on
#                               127.0.0.1:BROKER_PORT[ID], metadata.store=etcd://$ETCD_ENDPOINT;
#                               the overrides are kept for restart_broker. Waits for
#                               "taped: listening on" (15 s); fails if it exits first.
#                               Sets BROKER_PID[ID]
#   stop_broker ID              SIGTERM, SIGKILL after 10 s; returns taped's exit status
#   kill_broker ID [SIG]        SIG (default KILL) to broker ID; reaped when it ends it. A
#                               broker sent STOP is left out of cluster_bootstrap (a stopped
#                               broker accepts connections but answers nothing) until CONT
#   restart_broker ID           start_broker again with the same directory, port and overrides
#   wait_brokers N [SECS]       until every started broker's Metadata lists N brokers (30 s)
#   cluster_bootstrap           prints 127.0.0.1:p0,127.0.0.1:p1,... of the brokers started
#   create_topic NAME [tape topics create options...]
#                               creates a topic through the brokers started, retrying for 15 s
#                               while the brokers are still joining (a broker listens before it
#                               has registered: "the replication factor is above the live
#                               brokers"); fails on any other error
#   partition_state TOPIC PART  prints "LEADER EPOCH REPLICAS ISR" (lists comma-separated) from
#                               `tape topics describe`; nothing when it cannot be asked
#   leader_of TOPIC PART        prints the leader's node id (-1: none)
#   wait_isr TOPIC PART N [SECS]   until the ISR has N members and there is a leader (30 s)
#   wait_leader TOPIC PART [SECS] [NOT]   until a leader other than node NOT (-1: any) (30 s)
#   cluster_assert_no_crash     fails when a broker's stderr has an assertion or sanitizer
#                               report
#   cluster_stop_all            stops every broker (SIGTERM) and fails unless each exits 0 and
#                               cluster_assert_no_crash holds: a crash on the way out counts
#   cluster_cleanup             everything started, by PID: SIGCONT, SIGTERM, SIGKILL after 10 s
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

declare -A BROKER_PID=() BROKER_PORT=() BROKER_DIR=() BROKER_ARGS=() BROKER_STOPPED=()
ETCD_PID= ETCD_ENDPOINT= ETCD_DIR= ETCD_PORT= ETCD_PEER_PORT=
TAPE=$BUILD/bin/tape
trap cluster_cleanup EXIT

# fail, with the end of every broker's stderr and of etcd's log.
fail() {
	echo "$TEST_NAME: FAIL: $*" >&2
	local id f
	for id in "${!BROKER_DIR[@]}"; do
		f=${BROKER_DIR[$id]}/broker-$id.err
		[ -s "$f" ] || continue
		echo "---- broker $id's stderr ($f): sanitizer or error lines, then its end" >&2
		grep -m8 -E 'Sanitizer|runtime error|SUMMARY| ERROR ' "$f" >&2
		tail -8 "$f" >&2
	done
	[ -n "$ETCD_DIR" ] && [ -s "$ETCD_DIR/etcd.log" ] && tail -3 "$ETCD_DIR/etcd.log" >&2
	exit 1
}

# free_ports N: N distinct loopback ports nobody listens on now.
free_ports() {
	python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# stop_pid PID NAME: SIGCONT (a stopped process cannot act on SIGTERM), SIGTERM, SIGKILL after
# 10 s; returns its exit status.
stop_pid() {
	local pid=$1 i
	kill -CONT "$pid" 2>/dev/null
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "$TEST_NAME: $2 ($pid) did not stop within 10 s of SIGTERM: SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
}

start_etcd() {
	command -v etcd >/dev/null || skip "etcd is not installed (scripts/install-deps.sh installs etcd-server)"
	command -v python3 >/dev/null || skip "python3 is not installed"
	ETCD_DIR=$1/etcd
	mkdir -p "$ETCD_DIR"
	if [ -z "$ETCD_PORT" ]; then
		read -r ETCD_PORT ETCD_PEER_PORT <<<"$(free_ports 2)"
	fi
	ETCD_ENDPOINT=127.0.0.1:$ETCD_PORT
	etcd --name tape-test --data-dir "$ETCD_DIR/data" \
		--listen-client-urls "http://$ETCD_ENDPOINT" --advertise-client-urls "http://$ETCD_ENDPOINT" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster "tape-test=http://127.0.0.1:$ETCD_PEER_PORT" \
		>>"$ETCD_DIR/etcd.log" 2>&1 </dev/null &
	ETCD_PID=$!
	wait_port 127.0.0.1 "$ETCD_PORT" 15 || fail "etcd did not listen on $ETCD_ENDPOINT within 15 s"
}

stop_etcd() {
	[ -n "$ETCD_PID" ] || return 0
	local pid=$ETCD_PID
	ETCD_PID=
	stop_pid "$pid" etcd
}

kill_etcd() {
	local sig=${1:-KILL}
	sig=${sig#-}
	[ -n "$ETCD_PID" ] || fail "kill_etcd: no etcd running"
	kill "-$sig" "$ETCD_PID"
	case $sig in KILL | 9 | TERM | 15 | INT | 2)
		wait "$ETCD_PID" 2>/dev/null
		ETCD_PID=
		;;
	esac
}

restart_etcd() {
	[ -n "$ETCD_DIR" ] || fail "restart_etcd: start_etcd first"
	stop_etcd
	start_etcd "${ETCD_DIR%/etcd}"
}

start_broker() {
	local dir=$1 id=$2
	shift 2
	local taped=$BUILD/bin/taped
	[ -x "$taped" ] || fail "$taped is not built"
	[ -n "$ETCD_ENDPOINT" ] || fail "start_broker: start_etcd first"
	[ -z "${BROKER_PID[$id]:-}" ] || fail "start_broker: broker $id runs already"
	[ -n "${BROKER_PORT[$id]:-}" ] || BROKER_PORT[$id]=$(free_ports 1)
	BROKER_DIR[$id]=$dir
	[ $# -gt 0 ] && BROKER_ARGS[$id]=$(printf '%q ' "$@")
	local port=${BROKER_PORT[$id]} args=() kv extra=()
	eval "extra=(${BROKER_ARGS[$id]:-})"
	mkdir -p "$dir/broker-$id/data"
	for kv in "node.id=$id" "metadata.store=etcd://$ETCD_ENDPOINT" \
		"listeners=PLAINTEXT://127.0.0.1:$port" "advertised.listeners=PLAINTEXT://127.0.0.1:$port" \
		"log.dirs=$dir/broker-$id/data" "${extra[@]}"; do
		args+=(--override "$kv")
	done
	local out=$dir/broker-$id.out err=$dir/broker-$id.err
	# stderr accumulates over restarts (a test may grep what an earlier run said).
	: >"$out"
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_stack_use_after_return=1} \
		"$taped" "${args[@]}" >"$out" 2>>"$err" </dev/null &
	BROKER_PID[$id]=$!
	local i pid=$!
	for ((i = 0; i < 150; i++)); do
		grep -q '^taped: listening on ' "$out" 2>/dev/null && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			local rc=$?
			BROKER_PID[$id]=
			fail "broker $id exited ($rc) before listening: $(tail -3 "$err")"
		fi
		sleep 0.1
	done
	fail "broker $id did not print 'listening on' within 15 s"
}

stop_broker() {
	local id=$1 pid=${BROKER_PID[$1]:-}
	[ -n "$pid" ] || return 0
	BROKER_PID[$id]=
	stop_pid "$pid" "broker $id"
}

kill_broker() {
	local id=$1 sig=${2:-KILL} pid=${BROKER_PID[$1]:-}
	sig=${sig#-}
	[ -n "$pid" ] || fail "kill_broker: broker $id is not running"
	# A test that sent the SIGKILL itself (timed to the system call) calls this to reap.
	if [ "$sig" = KILL ] || [ "$sig" = 9 ]; then
		kill "-$sig" "$pid" 2>/dev/null
	else
		kill "-$sig" "$pid"
	fi
	case $sig in
	KILL | 9 | TERM | 15 | INT | 2)
		wait "$pid" 2>/dev/null
		BROKER_PID[$id]=
		unset "BROKER_STOPPED[$id]"
		;;
	STOP | 19) BROKER_STOPPED[$id]=1 ;;
	CONT | 18) unset "BROKER_STOPPED[$id]" ;;
	esac
}

restart_broker() {
	local id=$1
	[ -n "${BROKER_DIR[$id]:-}" ] || fail "restart_broker: broker $id was never started"
	stop_broker "$id"
	start_broker "${BROKER_DIR[$id]}" "$id"
}

cluster_bootstrap() {
	local id list=
	for id in $(printf '%s\n' "${!BROKER_PORT[@]}" | sort -n); do
		[ -n "${BROKER_STOPPED[$id]:-}" ] && continue
		list+=${list:+,}127.0.0.1:${BROKER_PORT[$id]}
	done
	echo "$list"
}

create_topic() {
	local i out
	for ((i = 0; i < 75; i++)); do
		out=$(timeout 30 "$TAPE" topics -b "$(cluster_bootstrap)" create "$@" 2>&1) && return 0
		grep -q 'above the live brokers' <<<"$out" || break
		sleep 0.2
	done
	fail "create topic $1: $out"
}

# Until every broker's Metadata lists N live brokers (registration in etcd follows "listening
# on" by a moment, longer under ASan): topics created before would find too few brokers.
wait_brokers() {
	local want=$1 secs=${2:-30} i id n ok
	for ((i = 0; i < secs * 5; i++)); do
		ok=1
		for id in "${!BROKER_PORT[@]}"; do
			n=$(timeout 5 kcat -L -b "127.0.0.1:${BROKER_PORT[$id]}" 2>/dev/null |
				grep -c 'broker [0-9]* at')
			[ "$n" -eq "$want" ] || ok=0
		done
		[ $ok -eq 1 ] && return 0
		sleep 0.2
	done
	fail "the brokers never all listed $want live brokers"
}

# The partition's line of `tape topics describe`: "\tTopic: t\tPartition: p\tLeader: l\t
# Replicas: r\tIsr: i\tLeaderEpoch: e".
partition_state() {
	timeout 10 "$TAPE" topics -b "$(cluster_bootstrap)" describe "$1" 2>/dev/null |
		awk -F'\t' -v p="$2" '
			{ delete f; for (i = 2; i <= NF; i++) { split($i, kv, ": "); f[kv[1]] = kv[2] } }
			f["Partition"] == p && f["Partition"] != "" {
				print f["Leader"], f["LeaderEpoch"], f["Replicas"], f["Isr"]; exit
			}'
}

leader_of() {
	local s
	s=$(partition_state "$1" "$2")
	echo "${s%% *}"
	[ -n "$s" ]
}

wait_isr() {
	local topic=$1 part=$2 want=$3 secs=${4:-30} i s leader isr
	for ((i = 0; i < secs * 5; i++)); do
		s=$(partition_state "$topic" "$part")
		read -r leader _ _ isr <<<"$s"
		if [ -n "$s" ] && [ "$leader" -ge 0 ] && [ -n "$isr" ] &&
			[ "$(tr ',' '\n' <<<"$isr" | grep -c .)" -eq "$want" ]; then
			return 0
		fi
		sleep 0.2
	done
	fail "$topic/$part: the ISR did not reach $want members within $secs s (last: ${s:-no answer})"
}

wait_leader() {
	local topic=$1 part=$2 secs=${3:-30} not=${4:--1} i leader
	for ((i = 0; i < secs * 5; i++)); do
		leader=$(leader_of "$topic" "$part") && [ "$leader" -ge 0 ] && [ "$leader" != "$not" ] &&
			return 0
		sleep 0.2
	done
	fail "$topic/$part: no leader (other than $not) within $secs s"
}

cluster_assert_no_crash() {
	local id f
	for id in "${!BROKER_DIR[@]}"; do
		f=${BROKER_DIR[$id]}/broker-$id.err
		grep -q -E 'assertion failed|Sanitizer|runtime error' "$f" 2>/dev/null &&
			fail "broker $id crashed: $(grep -m3 -E 'assertion failed|Sanitizer|runtime error' "$f")"
	done
	return 0
}

cluster_stop_all() {
	local id rc
	for id in "${!BROKER_PID[@]}"; do
		[ -n "${BROKER_PID[$id]}" ] || continue
		stop_broker "$id"
		rc=$?
		[ "$rc" -eq 0 ] || fail "broker $id exited $rc on SIGTERM"
	done
	cluster_assert_no_crash
}

cluster_cleanup() {
	local id status=$? bad=
	for id in "${!BROKER_PID[@]}"; do
		[ -n "${BROKER_PID[$id]}" ] && stop_broker "$id"
	done
	stop_etcd
	# A sanitizer report from any broker, in any of its runs, fails the test (under make
	# asan a broker that passed every check but corrupted memory is a failure).
	for id in "${!BROKER_DIR[@]}"; do
		if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
			"${BROKER_DIR[$id]}/broker-$id.err" 2>/dev/null; then
			echo "$TEST_NAME: FAIL: broker $id: sanitizer report:" >&2
			grep -m5 -A12 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
				"${BROKER_DIR[$id]}/broker-$id.err" >&2
			bad=1
		fi
	done
	[ -n "$bad" ] && exit 1
	return $status
}
