#!/usr/bin/env bash
# tests/integration/history_checker.sh: the history checker's self-tests
# (tests/tools/history_check_test.py): synthetic histories with exactly one anomaly each (lost,
# duplicate, inconsistent offsets, ack/offset mismatch, unexpected, gap, consumer order, commit
# regression, min-ISR, producer order) must be reported as that invariant and no other, a clean
# one must pass, and --expect-loss must fail a run that lost nothing. No broker needed.
set -uo pipefail
TEST_NAME=history_checker
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
out=$(python3 "$LIB_DIR/../tools/history_check_test.py" 2>&1) || fail "self-tests: $out"
echo "$TEST_NAME: $(tail -1 <<<"$out")"
