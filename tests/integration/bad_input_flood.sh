#!/usr/bin/env bash
# tests/integration/bad_input_flood.sh: floods. 10 000 pipelined requests whose replies are not
# read (the broker stops reading that socket, serves others, then answers all in order), and
# 3000 connections against max.connections=1000 (the rest closed at once, the kept ones served,
# new connections served again once they go). Cases in bad_input.py.
set -uo pipefail
TEST_NAME=bad_input_flood
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"
# The client holds 3000 sockets at once.
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 3200 ] ||
	skip "ulimit -n is capped at $(ulimit -Hn); 3200 descriptors are needed"

work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
start_taped "$work" max.connections=1000
timeout 300 python3 "$(dirname "$0")/bad_input.py" flood --port "$TAPED_PORT" \
	--pid "$TAPED_PID" --connections 3000 --max-connections 1000 ||
	fail "see above; taped's log: $(tail -5 "$TAPED_DIR/taped.err")"
kill -0 "$TAPED_PID" 2>/dev/null || fail "taped died"
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
