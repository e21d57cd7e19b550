#!/usr/bin/env bash
# tests/integration/bad_input_produce.sh: Produce requests a broker must answer with an error
# and store nothing of (acks outside {-1,0,1} -> 21; unknown topic with auto-create off or
# unknown partition -> 3; magic != 2, CRC mismatch, wrong counts and lengths -> 2/87; a batch
# over message.max.bytes -> 10), idempotence (sequence gap -> 45, stale epoch -> 47, an exact
# retry -> the original offset, stored once) and Fetch outside [log start, HW] -> 1. After
# each case the partitions are read back: only the good records, at their offsets.
set -uo pipefail
TEST_NAME=bad_input_produce
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"

work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
start_taped "$work" auto.create.topics.enable=false message.max.bytes=100000
timeout 300 python3 "$(dirname "$0")/bad_input.py" produce --port "$TAPED_PORT" \
	--pid "$TAPED_PID" --message-max 100000 ||
	fail "see above; taped's log: $(tail -5 "$TAPED_DIR/taped.err")"
kill -0 "$TAPED_PID" 2>/dev/null || fail "taped died"
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
