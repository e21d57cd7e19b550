#!/usr/bin/env bash
# tests/integration/lib.sh: helpers the integration tests source (run.sh does not run it as a
# test). A test sets TEST_NAME, makes its own temp dir, and starts its own taped on a port the
# kernel picks; its EXIT trap calls stop_taped, which ends only the PID start_taped started.
#
#   fail MESSAGE...             print "$TEST_NAME: FAIL: MESSAGE" (and the end of taped's
#                               stderr, once start_taped ran) and exit 1
#   skip MESSAGE...             print "$TEST_NAME: SKIPPED: MESSAGE" loudly and exit 77
#   start_taped DIR [key=value]...
#                               taped with its data in DIR/data, listening on 127.0.0.1:0, its
#                               stdout/stderr in DIR/taped.out and DIR/taped.err; sets TAPED_PID,
#                               TAPED_PORT and TAPED_BOOTSTRAP (127.0.0.1:port); fails after 10 s
#   stop_taped                  SIGTERM, then SIGKILL after 10 s; returns taped's exit status
#                               (0 after a clean stop); does nothing when none was started
#   wait_port HOST PORT [SECS]  wait until HOST:PORT accepts a connection (default 10 s)
#   kafkajs_ready               node and kafkajs 2.2.4 under tests/integration/js, installing
#                               it with `npm ci` when node_modules is missing or stale; skips
#                               (exit 77) when node or npm is missing

TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TAPED_PID=
TAPED_PORT=
TAPED_BOOTSTRAP=
TAPED_DIR=

fail() {
	echo "$TEST_NAME: FAIL: $*" >&2
	if [ -n "$TAPED_DIR" ] && [ -s "$TAPED_DIR/taped.err" ]; then
		echo "---- taped's stderr ($TAPED_DIR/taped.err): sanitizer or error lines, then its end" >&2
		grep -m8 -E 'Sanitizer|runtime error|SUMMARY| ERROR ' "$TAPED_DIR/taped.err" >&2
		tail -12 "$TAPED_DIR/taped.err" >&2
	fi
	exit 1
}

skip() {
	echo "$TEST_NAME: SKIPPED: $*" >&2
	echo "!!!!!!!! $TEST_NAME IS SKIPPED, NOT PASSED: $* !!!!!!!!" >&2
	exit 77
}

start_taped() {
	local dir=$1
	shift
	local taped=$BUILD/bin/taped
	[ -x "$taped" ] || fail "$taped is not built"
	local args=(--override "log.dirs=$dir/data" --override listeners=PLAINTEXT://127.0.0.1:0)
	local kv
	for kv in "$@"; do
		args+=(--override "$kv")
	done
	TAPED_DIR=$dir
	# Under ASan (make asan) also catch pointers into a returned function's stack.
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_stack_use_after_return=1} \
		"$taped" "${args[@]}" >"$dir/taped.out" 2>"$dir/taped.err" &
	TAPED_PID=$!
	local i line
	for ((i = 0; i < 100; i++)); do
		line=$(grep -m1 '^taped: listening on ' "$dir/taped.out" 2>/dev/null)
		if [ -n "$line" ]; then
			TAPED_PORT=$(sed -E 's/^taped: listening on [^ ]*:([0-9]+) .*/\1/' <<<"$line")
			TAPED_BOOTSTRAP=127.0.0.1:$TAPED_PORT
			return 0
		fi
		kill -0 "$TAPED_PID" 2>/dev/null || {
			wait "$TAPED_PID"
			local rc=$?
			TAPED_PID=
			fail "taped exited ($rc) before listening: $(tail -5 "$dir/taped.err")"
		}
		sleep 0.1
	done
	fail "taped did not print 'listening on' within 10 s"
}

stop_taped() {
	[ -n "$TAPED_PID" ] || return 0
	local pid=$TAPED_PID i
	TAPED_PID=
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "$TEST_NAME: taped $pid did not stop within 10 s of SIGTERM: SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid"
}

wait_port() {
	local host=$1 port=$2 secs=${3:-10} i
	for ((i = 0; i < secs * 10; i++)); do
		(exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

KAFKAJS_DIR=$LIB_DIR/js
KAFKAJS_VERSION=2.2.4

kafkajs_ready() {
	command -v node >/dev/null || skip "node is not installed (kafkajs tests need node >= 14)"
	local have
	have=$(node -p "require('$KAFKAJS_DIR/node_modules/kafkajs/package.json').version" \
		2>/dev/null)
	[ "$have" = "$KAFKAJS_VERSION" ] && return 0
	command -v npm >/dev/null ||
		skip "npm is not installed and $KAFKAJS_DIR/node_modules has no kafkajs $KAFKAJS_VERSION"
	echo "$TEST_NAME: npm ci in $KAFKAJS_DIR (kafkajs ${have:-missing})"
	(cd "$KAFKAJS_DIR" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) >&2 ||
		fail "npm ci in $KAFKAJS_DIR failed"
	have=$(node -p "require('$KAFKAJS_DIR/node_modules/kafkajs/package.json').version")
	[ "$have" = "$KAFKAJS_VERSION" ] || fail "npm ci installed kafkajs $have"
}

# tape_expect SUBCOMMAND only|first EXIT LINE [env...] -- args...: runs `tape SUBCOMMAND args`
# (with the env assignments, stdin empty) and checks its exit status, that stderr is exactly
# LINE (only) or starts with it (first), that it took at most 5 s and wrote nothing to stdout.
# Needs $tape and $work.
tape_expect() {
	local sub=$1 which=$2 want=$3 line=$4
	shift 4
	local envs=()
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	local start=$SECONDS
	env "${envs[@]}" timeout 30 "$tape" "$sub" "$@" </dev/null >"$work/out" 2>"$work/err"
	local rc=$?
	[ $rc -eq "$want" ] || fail "tape $sub $*: exit $rc, not $want: $(cat "$work/err")"
	local said
	if [ "$which" = only ]; then said=$(cat "$work/err"); else said=$(head -1 "$work/err"); fi
	[ "$said" = "$line" ] || fail "tape $sub $*: said '$said', not '$line'"
	[ $((SECONDS - start)) -le 5 ] || fail "tape $sub $*: took $((SECONDS - start)) s"
	[ -s "$work/out" ] && fail "tape $sub $*: wrote to stdout"
	return 0
}
