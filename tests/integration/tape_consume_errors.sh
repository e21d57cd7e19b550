#!/usr/bin/env bash
# tests/integration/tape_consume_errors.sh: the one-line errors of `tape consume` and its exit
# status, each within seconds:
#
#   - nothing listening (127.0.0.1:1, checked to refuse): "tape consume: cannot reach broker at
#     127.0.0.1:1: connection refused", exit 2, also through TAPE_BROKERS;
#   - a taped with auto.create.topics.enable=false and a topic that does not exist: "tape
#     consume: topic \"nope\" does not exist", exit 2, and no topic created (also when it is
#     the second topic named); a taped that does create topics is not made to create one by a
#     consumer either;
#   - -p past the topic's partitions, a bad -o, an unknown -f token, -f with --json, -p or an
#     unknown --assignor with -g, a ^regex without -g, no topic: one line (plus usage for usage
#     errors) and exit 2; --help exits 0 and says how non-UTF-8 bytes render in --json.
set -uo pipefail
TEST_NAME=tape_consume_errors
. "$(dirname "$0")/lib.sh"

tape=$BUILD/bin/tape
[ -x "$tape" ] || fail "$tape is not built"
work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT

# expect EXIT LINE [env...] -- args...: see tape_expect in lib.sh.
expect() { tape_expect consume first "$@"; }

if wait_port 127.0.0.1 1 0; then
	skip "something listens on 127.0.0.1:1"
fi
expect 2 'tape consume: cannot reach broker at 127.0.0.1:1: connection refused' -- \
	-b 127.0.0.1:1 -e t
expect 2 'tape consume: cannot reach broker at 127.0.0.1:1: connection refused' \
	TAPE_BROKERS=127.0.0.1:1 -- t
echo "$TEST_NAME: unreachable broker: ok"

start_taped "$work" auto.create.topics.enable=false num.partitions=2
B=$TAPED_BOOTSTRAP
expect 2 'tape consume: topic "nope" does not exist' -- -b "$B" -e nope
[ -e "$work/data/nope-0" ] && fail "topic nope was created"
echo "$TEST_NAME: unknown topic: ok"

stop_taped || fail "taped did not stop cleanly"
mkdir "$work/2"
start_taped "$work/2" num.partitions=2
B=$TAPED_BOOTSTRAP
echo x | timeout 30 "$tape" produce -b "$B" -q there || fail "produce there"
expect 2 'tape consume: partition 5 of topic "there" does not exist (it has 2)' -- \
	-b "$B" -e -p 5 there
expect 2 'tape consume: topic "nope2" does not exist' -- -b "$B" -e there nope2
[ -e "$work/2/data/nope2-0" ] && fail "a consumer made taped create topic nope2"
echo "$TEST_NAME: unknown partition, no auto-creation by consumers: ok"

expect 2 "tape consume: -o: 'middle' is not a start: beginning, end, N, -N or @TIME" -- \
	-b "$B" -o middle there
expect 2 "tape consume: -o: '2026-11-26T10:00:00': give the zone: Z or an offset like +01:00" \
	-- -b "$B" -o @2026-11-26T10:00:00 there
expect 2 "tape consume: -f: unknown format token '%x'" -- -b "$B" -f '%x' there
expect 2 'tape consume: -f and --json do not go together' -- -b "$B" -f '%s' --json there
expect 2 'tape consume: -p: in group mode the group assigns the partitions' -- \
	-b "$B" -g grp -p 0 there
expect 2 "tape consume: --assignor sticky: range, roundrobin or cooperative-sticky" -- \
	-b "$B" -g grp --assignor sticky there
expect 2 "tape consume: ^orders\\..*: a ^regex subscription needs group mode (-g)" -- \
	-b "$B" '^orders\..*'
expect 2 'tape consume: no TOPIC given' -- -b "$B"
expect 2 "tape consume: unknown option '--nope'" -- --nope there
timeout 10 "$tape" consume --help >"$work/out" 2>&1 || fail "--help: exit $?"
grep -q 'not valid UTF-8' "$work/out" || fail "--help does not say how non-UTF-8 renders"
timeout 10 "$tape" help consume >"$work/help" 2>&1 || fail "tape help consume: exit $?"
grep -q '^usage: tape consume' "$work/help" || fail "tape help consume"
echo "$TEST_NAME: usage errors and --help: ok"
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
