#!/usr/bin/env bash
# tests/integration/tape_group_lib.sh: helpers the tape_group*.sh tests source (run.sh does
# not run it: it is sourced after lib.sh).
#
#   bg_consume NAME ARGS...   `tape consume -b $B ARGS...` in the background, stdout in
#                             $work/NAME.out, stderr in $work/NAME.err; its PID in PIDS[NAME]
#   wait_grep FILE ERE SECS   wait until FILE has a line matching ERE, else fail
#   wait_lines N SECS FILE... wait until the files hold N lines together, else fail
#   stop_member NAME          SIGTERM and wait (a clean stop: final commit, LeaveGroup)
#   cleanup_members           SIGKILL to every member still running (the EXIT trap)

declare -A PIDS=()

bg_consume() {
	local name=$1
	shift
	"$tape" consume -b "$B" "$@" >"$work/$name.out" 2>"$work/$name.err" &
	PIDS[$name]=$!
}

wait_grep() {
	local file=$1 re=$2 secs=$3 i
	for ((i = 0; i < secs * 10; i++)); do
		grep -qE "$re" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "no line matching '$re' in $file within $secs s: $(tail -5 "$file" 2>/dev/null)"
}

wait_lines() {
	local n=$1 secs=$2 i have
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		have=$(cat "$@" 2>/dev/null | wc -l)
		[ "$have" -ge "$n" ] && return 0
		sleep 0.1
	done
	fail "$have lines in $* within $secs s, not $n"
}

stop_member() {
	local name=$1 pid=${PIDS[$1]}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	timeout 20 tail --pid="$pid" -f /dev/null
	wait "$pid"
	local rc=$?
	unset "PIDS[$name]"
	[ "$rc" -eq 0 ] || fail "member $name exited $rc after SIGTERM: $(tail -3 "$work/$name.err")"
}

cleanup_members() {
	local name
	for name in "${!PIDS[@]}"; do
		kill -KILL "${PIDS[$name]}" 2>/dev/null
		wait "${PIDS[$name]}" 2>/dev/null
	done
	PIDS=()
}
