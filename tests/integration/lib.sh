# tests/integration/lib.sh: helpers sourced by integration tests (run.sh does not run it).
#
#   TEST_NAME=foo; source lib.sh
#   start_taped [--override key=value]...   taped on a free loopback port, in a fresh temp dir;
#                                           sets TAPED_PID, TAPED_PORT, TAPED_DIR (its data is
#                                           $TAPED_DIR/data, its output $TAPED_DIR/std{out,err})
#                                           and installs an EXIT trap that runs stop_taped
#   stop_taped                              SIGTERM to TAPED_PID only (SIGKILL after 10 s),
#                                           then removes TAPED_DIR; returns taped's exit
#                                           status (nonzero also for a sanitizer report)
#   wait_port HOST PORT [SECONDS]           until something accepts on HOST:PORT
#   fail MESSAGE...                         prints "$TEST_NAME: FAIL: ..." and exits 1
#   skip MESSAGE...                         prints "$TEST_NAME: SKIPPED: ..." and exits 77

TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}

fail() {
	echo "$TEST_NAME: FAIL: $*" >&2
	exit 1
}

skip() {
	echo "$TEST_NAME: SKIPPED: $*" >&2
	exit 77
}

wait_port() { # host port [seconds]
	local deadline=$((SECONDS + ${3:-10}))
	until (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.05
	done
}

start_taped() {
	[ -x "$BUILD/bin/taped" ] || fail "$BUILD/bin/taped is not built"
	TAPED_DIR=$(mktemp -d)
	trap stop_taped EXIT
	"$BUILD/bin/taped" --override listeners=PLAINTEXT://127.0.0.1:0 \
		--override log.dirs="$TAPED_DIR/data" "$@" \
		>"$TAPED_DIR/stdout" 2>"$TAPED_DIR/stderr" &
	TAPED_PID=$!
	TAPED_PORT=
	local i
	for i in $(seq 200); do
		TAPED_PORT=$(sed -n 's/^taped: listening on [^ ]*:\([0-9][0-9]*\) .*/\1/p' \
			"$TAPED_DIR/stdout")
		[ -n "$TAPED_PORT" ] && break
		kill -0 "$TAPED_PID" 2>/dev/null ||
			fail "taped exited at start: $(tail -5 "$TAPED_DIR/stderr")"
		sleep 0.05
	done
	[ -n "$TAPED_PORT" ] || fail "taped did not say where it listens"
	wait_port 127.0.0.1 "$TAPED_PORT" || fail "nothing accepts on port $TAPED_PORT"
}

stop_taped() {
	local status=0
	if [ -n "${TAPED_PID:-}" ] && kill -0 "$TAPED_PID" 2>/dev/null; then
		kill -TERM "$TAPED_PID"
		local i
		for i in $(seq 200); do
			kill -0 "$TAPED_PID" 2>/dev/null || break
			sleep 0.05
		done
		if kill -0 "$TAPED_PID" 2>/dev/null; then
			echo "$TEST_NAME: taped $TAPED_PID ignored SIGTERM for 10 s; SIGKILL" >&2
			kill -KILL "$TAPED_PID"
		fi
		wait "$TAPED_PID" 2>/dev/null
		status=$?
		if [ $status -ne 0 ] && [ -n "${TAPED_DIR:-}" ]; then
			echo "$TEST_NAME: taped exited with status $status; its last words:" >&2
			tail -30 "$TAPED_DIR/stderr" >&2
		fi
	fi
	TAPED_PID=
	[ -n "${TAPED_DIR:-}" ] && rm -rf "$TAPED_DIR"
	TAPED_DIR=
	return $status
}
