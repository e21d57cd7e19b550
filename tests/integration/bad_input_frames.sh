#!/usr/bin/env bash
# tests/integration/bad_input_frames.sh: frames and requests a Kafka broker must refuse (sizes
# over socket.request.max.bytes, zero or negative; HTTP and TLS on the Kafka port; a partial
# frame left hanging; unknown API keys and versions; lengths and counts past the frame) and
# ApiVersions above our max (answered, error 35). Each case then checks the broker still
# serves (ApiVersions, Metadata, kcat -L) and the records produced before are intact; the
# cases are in bad_input.py, the raw client in rawkafka.py.
set -uo pipefail
TEST_NAME=bad_input_frames
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"

work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
start_taped "$work" connections.max.idle.ms=1000
timeout 300 python3 "$(dirname "$0")/bad_input.py" frames --port "$TAPED_PORT" \
	--pid "$TAPED_PID" --idle-ms 1000 --request-max 104857600 ||
	fail "see above; taped's log: $(tail -5 "$TAPED_DIR/taped.err")"
kill -0 "$TAPED_PID" 2>/dev/null || fail "taped died"
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
