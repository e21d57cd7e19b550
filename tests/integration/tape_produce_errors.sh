#!/usr/bin/env bash
# tests/integration/tape_produce_errors.sh: the one-line errors of `tape produce` and its exit
# status, each within seconds:
#
#   - nothing listening (port 1 of 127.0.0.1, checked to refuse): "tape produce: cannot reach
#     broker at 127.0.0.1:1: connection refused", exit 2, also with the address from
#     TAPE_BROKERS, and by name (localhost: every address it resolves to refuses);
#   - a taped with auto.create.topics.enable=false: "tape produce: topic \"nope\" does not
#     exist", exit 2, and no topic created (the auto-creating case is tape_produce.sh's);
#   - a malformed broker list is refused with one line and exit 2;
#   - a line longer than a request can carry, from a file and from a pipe: one line naming
#     it, exit 2, and the records before it still delivered and counted in the summary.
set -uo pipefail
TEST_NAME=tape_produce_errors
. "$(dirname "$0")/lib.sh"

tape=$BUILD/bin/tape
[ -x "$tape" ] || fail "$tape is not built"
work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT

# expect EXIT LINE [env...] -- args...: see tape_expect in lib.sh.
expect() { tape_expect produce only "$@"; }

if wait_port 127.0.0.1 1 0; then
	skip "something listens on 127.0.0.1:1"
fi
expect 2 'tape produce: cannot reach broker at 127.0.0.1:1: connection refused' -- \
	-b 127.0.0.1:1 t
expect 2 'tape produce: cannot reach broker at 127.0.0.1:1: connection refused' \
	TAPE_BROKERS=127.0.0.1:1 -- t
expect 2 'tape produce: cannot reach broker at localhost:1: connection refused' -- \
	-b localhost:1 t
expect 2 'tape produce: malformed broker address "h:0": the port must be 1-65535' -- -b h:0 t
echo "$TEST_NAME: unreachable broker: ok"

start_taped "$work" auto.create.topics.enable=false
expect 2 'tape produce: topic "nope" does not exist' -- -b "$TAPED_BOOTSTRAP" nope
[ -e "$work/data/nope-0" ] && fail "topic nope was created"
echo "$TEST_NAME: unknown topic: ok"
stop_taped || fail "taped did not stop cleanly"

rm -f "$work/taped.out" # start_taped reads the port from it
start_taped "$work" auto.create.topics.enable=true
{
	echo first
	echo second
	head -c 2000000 /dev/zero | tr '\0' x
	echo
	echo never
} >"$work/input"
timeout 30 "$tape" produce -b "$TAPED_BOOTSTRAP" -l "$work/input" big >/dev/null 2>"$work/err"
rc=$?
[ $rc -eq 2 ] || fail "a 2 MB line: exit $rc: $(cat "$work/err")"
# Whether the line is read whole or is still growing past the limit, the words are the same.
grep -Eq '^tape produce: line 3: a record of (more than )?[0-9]+ bytes does not fit in a request of at most 1048576 bytes$' \
	"$work/err" || fail "a 2 MB line: $(cat "$work/err")"
head -c 2000000 /dev/zero | tr '\0' y | timeout 30 "$tape" produce -b "$TAPED_BOOTSTRAP" big \
	2>"$work/err2"
rc=${PIPESTATUS[2]} # tape stops reading early: tr may die of SIGPIPE
[ "$rc" -eq 2 ] && grep -Eq '^tape produce: line 1: a record of (more than )?[0-9]+ bytes does not fit' \
	"$work/err2" || fail "a 2 MB line from a pipe: $(cat "$work/err2")"
grep -q '^produced 2 records to big in ' "$work/err" || fail "a 2 MB line: $(cat "$work/err")"
[ "$(wc -l <"$work/err")" -eq 2 ] || fail "a 2 MB line: $(cat "$work/err")"
echo "$TEST_NAME: a line too long for a request: ok"
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
