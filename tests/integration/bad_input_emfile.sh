#!/usr/bin/env bash
# tests/integration/bad_input_emfile.sh: taped with a soft ulimit -n of 64 and 300 clients
# connecting: accept fails with EMFILE, the broker backs off instead of spinning (its CPU time
# is measured), serves the connections it holds, and accepts again once clients leave. Then
# the usual checks: ApiVersions, Metadata, kcat -L, the records produced before. Cases in
# bad_input.py.
set -uo pipefail
TEST_NAME=bad_input_emfile
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 400 ] ||
	skip "ulimit -n is capped at $(ulimit -Hn); the client needs 400 descriptors"

ulimit -Sn 64 || skip "cannot lower ulimit -n"
work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
start_taped "$work"
ulimit -Sn "$(ulimit -Hn)" # the client raises its own
timeout 120 python3 "$(dirname "$0")/bad_input.py" emfile --port "$TAPED_PORT" \
	--pid "$TAPED_PID" || fail "see above; taped's log: $(tail -5 "$TAPED_DIR/taped.err")"
kill -0 "$TAPED_PID" 2>/dev/null || fail "taped died"
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
