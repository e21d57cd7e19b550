# tests/integration/lib.sh: helpers the integration tests source (run.sh does not run it).
#
#   . "$(dirname "$0")/kcat_lib.sh" sets TEST (the script's name) and WORK (a fresh temp dir),
#                                   and a trap that stops the taped it started and removes WORK
#   fail msg / skip msg             exit 1 / exit 77, saying why on stderr
#   start_taped dir [--override k=v]...
#                                   starts taped with log.dirs=dir on a free loopback port and
#                                   waits for "listening on"; sets TAPED_PID, TAPED_PORT,
#                                   TAPED_BROKER (host:port), TAPED_LOG (its stderr)
#   stop_taped                      SIGTERM, waits (10 s, then SIGKILL and fail); returns its
#                                   exit status
#   kill_taped                      SIGKILL and reap (a crash)
#   wait_port host port [seconds]   until something accepts connections there
#   require_cmd cmd...              skips loudly when a tool is missing
#   taped_log_quiet [what]          fails when the last taped's log holds a WARN or an ERROR
#
# Only the taped these helpers started is ever signalled, by its PID. Each start logs to a new
# file (taped-1.log, taped-2.log, ...) so a test can read what one run said.
set -uo pipefail

TEST=$(basename "$0" .sh)
: "${BUILD:?BUILD must be the build directory (tests/integration/run.sh sets it)}"
TAPED=$BUILD/bin/taped
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tape-$TEST.XXXXXX")
TAPED_PID=""
TAPED_PORT=""
TAPED_BROKER=""
TAPED_LOG=""
TAPED_STARTS=0

lib_cleanup() {
	if [ -n "$TAPED_PID" ] && kill -0 "$TAPED_PID" 2>/dev/null; then
		kill -KILL "$TAPED_PID" 2>/dev/null
		wait "$TAPED_PID" 2>/dev/null
	fi
	rm -rf "$WORK"
}
trap lib_cleanup EXIT

fail() {
	echo "$TEST: FAIL: $*" >&2
	if [ -n "$TAPED_LOG" ] && [ -s "$TAPED_LOG" ]; then
		echo "$TEST: the last lines of $TAPED_LOG:" >&2
		tail -20 "$TAPED_LOG" >&2
	fi
	exit 1
}

skip() {
	echo "$TEST: SKIPPED: $*" >&2
	exit 77
}

require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null ||
			skip "$c is not installed (scripts/install-deps.sh installs it)"
	done
}

start_taped() { # dir [--override key=value]...
	local dir=$1
	shift
	[ -x "$TAPED" ] || fail "$TAPED is not built"
	TAPED_STARTS=$((TAPED_STARTS + 1))
	TAPED_LOG=$WORK/taped-$TAPED_STARTS.log
	local out=$WORK/taped-$TAPED_STARTS.out
	: >"$out"
	"$TAPED" --override "log.dirs=$dir" --override listeners=PLAINTEXT://127.0.0.1:0 "$@" \
		>"$out" 2>"$TAPED_LOG" &
	TAPED_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		TAPED_PORT=$(sed -n 's/^taped: listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$out")
		[ -n "$TAPED_PORT" ] && break
		kill -0 "$TAPED_PID" 2>/dev/null || fail "taped exited at start: $(cat "$out")"
		sleep 0.1
	done
	[ -n "$TAPED_PORT" ] || fail "taped did not say \"listening on\" within 10 s"
	TAPED_BROKER=127.0.0.1:$TAPED_PORT
	wait_port 127.0.0.1 "$TAPED_PORT" 5 || fail "nothing accepts on $TAPED_BROKER"
}

stop_taped() {
	[ -n "$TAPED_PID" ] || fail "stop_taped: no taped running"
	kill -TERM "$TAPED_PID"
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$TAPED_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$TAPED_PID" 2>/dev/null; then
		kill -KILL "$TAPED_PID"
		wait "$TAPED_PID" 2>/dev/null
		TAPED_PID=""
		fail "taped did not stop within 10 s of SIGTERM"
	fi
	local rc=0
	wait "$TAPED_PID" || rc=$?
	TAPED_PID=""
	return $rc
}

kill_taped() {
	[ -n "$TAPED_PID" ] || fail "kill_taped: no taped running"
	kill -KILL "$TAPED_PID"
	wait "$TAPED_PID" 2>/dev/null
	TAPED_PID=""
}

taped_log_quiet() { # [what]
	local bad
	bad=$(grep -E -m3 ' (WARN|ERROR) ' "$TAPED_LOG") && fail "${1:-taped} warned: $bad"
	return 0
}

wait_port() { # host port [seconds]
	local host=$1 port=$2 secs=${3:-10} i
	for ((i = 0; i < secs * 10; i++)); do
		(exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---- kcat (librdkafka) ---------------------------------------------------------------------

# kcat against the taped started last, bounded by KCAT_TIMEOUT seconds (default 30).
kcat_run() {
	timeout "${KCAT_TIMEOUT:-30}" kcat -b "$TAPED_BROKER" "$@"
}

kcat_require() {
	require_cmd kcat timeout
	kcat -V 2>&1 | grep -q 'librdkafka' || skip "kcat -V does not name its librdkafka"
}
