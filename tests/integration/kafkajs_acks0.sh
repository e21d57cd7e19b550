#!/usr/bin/env bash
# tests/integration/kafkajs_acks0.sh: a kafkajs 2.2.4 producer with acks 0 (js/acks0.js): its
# sends resolve without a response and the broker sends none (kafkajs would log "Response
# without match"); an acks -1 send after them on the same connection lands at offset 200, so
# every acks 0 record was appended in order; kcat reads all 201 records back exactly.
set -uo pipefail
TEST_NAME=kafkajs_acks0
. "$(dirname "$0")/lib.sh"

command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"
kafkajs_ready
work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
start_taped "$work"

timeout 60 node "$KAFKAJS_DIR/acks0.js" "$TAPED_BOOTSTRAP" "$work/expected.jsonl"
rc=$?
[ $rc -eq 0 ] || fail "acks0.js exited $rc (see its FAIL lines above)"
timeout 30 kcat -b "$TAPED_BOOTSTRAP" -C -t kjs-acks0 -o beginning -e -J -q >"$work/got.jsonl" \
	2>"$work/kcat.err" || fail "kcat -C: exit $?: $(tail -3 "$work/kcat.err")"
timeout 30 node "$KAFKAJS_DIR/compare.js" "$work/expected.jsonl" "$work/got.jsonl" ||
	fail "kcat did not read back what kafkajs produced with acks 0"
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
