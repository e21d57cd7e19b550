#!/usr/bin/env bash
# tests/integration/tape_topics.sh: `tape topics` against a real taped (num.partitions=2),
# with kcat -L as the independent reference:
#   create with -p, -c (twice) and with the broker's defaults, -r 1; kcat -L sees each topic
#   with its partition count; refusals: an existing topic, -r 2 on a lone broker, an unknown
#   config key (exit 1, one line each); list (internal topics only with --internal), describe
#   (kafka-topics' layout: partitions with leader, replicas, ISR, and only non-default
#   configs), alter (the other overrides kept; a bad key refused), the altered configs after a
#   restart, delete (kcat -L no longer sees it); unknown topics (exit 2, 'topic "x" does not
#   exist'); usage errors and --help; an unreachable broker; -b beside TAPE_BROKERS.
set -uo pipefail
TEST_NAME=tape_topics
. "$(dirname "$0")/lib.sh"

command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"
TAPE=$BUILD/bin/tape
[ -x "$TAPE" ] || fail "$TAPE is not built"
work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
start_taped "$work" num.partitions=2
export TAPE_BROKERS=$TAPED_BOOTSTRAP

# run EXPECTED_STATUS ARGS...: tape topics ARGS, stdout in $work/out, stderr in $work/err.
run() {
	local want=$1
	shift
	timeout 30 "$TAPE" topics "$@" >"$work/out" 2>"$work/err"
	local rc=$?
	[ "$rc" -eq "$want" ] ||
		fail "tape topics $*: exit $rc, wanted $want; stderr: $(cat "$work/err")"
}
err_is() { [ "$(cat "$work/err")" = "$1" ] || fail "stderr '$(cat "$work/err")', wanted '$1'"; }
kcat_parts() { # TOPIC: the partition count kcat -L reports, or "none" (-L without -t: with
	# -t librdkafka asks the broker to create the topic)
	timeout 20 kcat -b "$TAPED_BOOTSTRAP" -L 2>/dev/null |
		sed -nE "s/^ *topic \"$1\" with ([0-9]+) partitions:.*/\1/p" | grep . || echo none
}

# --help and usage errors
run 0 --help
grep -q '^usage: tape topics list' "$work/out" || fail "--help: $(head -2 "$work/out")"
"$TAPE" help topics | grep -q 'tape topics alter NAME -c KEY=VALUE' || fail "tape help topics"
run 2
grep -q 'no subcommand given' "$work/err" || fail "no subcommand: $(head -1 "$work/err")"
run 2 frob x
grep -q "unknown subcommand 'frob'" "$work/err" || fail "frob: $(head -1 "$work/err")"
run 2 create
run 2 create a b
run 2 create x -p 0
run 2 create x -c novalue
run 2 alter x
run 2 describe x -p 3
run 2 list extra
run 2 describe x --internal

# create
run 0 create events -p 3 -c cleanup.policy=compact -c retention.ms=3600000
err_is 'created topic "events"'
run 0 create plain
run 0 create single -p 1 -r 1
[ "$(kcat_parts events)" = 3 ] || fail "kcat -L: events has $(kcat_parts events) partitions"
[ "$(kcat_parts plain)" = 2 ] || fail "kcat -L: plain has $(kcat_parts plain), num.partitions=2"
[ "$(kcat_parts single)" = 1 ] || fail "kcat -L: single has $(kcat_parts single) partitions"
run 1 create events
err_is 'tape topics: topic "events" already exists'
run 1 create twice -r 2
err_is 'tape topics: cannot create topic "twice": this broker stands alone: the replication factor must be 1'
run 1 create badcfg -c no.such.key=1
err_is 'tape topics: cannot create topic "badcfg": no.such.key: unknown topic configuration key'
[ "$(kcat_parts badcfg)" = none ] || fail "the refused topic badcfg exists"

# list
run 0 list
diff <(printf 'NAME   PARTITIONS REPLICAS\nevents 3          1\nplain  2          1\nsingle 1          1\n') \
	"$work/out" || fail "list"
run 0 list --internal
grep -qE '^__consumer_offsets +50 +1$' "$work/out" || fail "list --internal: $(cat "$work/out")"

# describe
run 0 describe events
printf 'Topic: events\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=3600000,cleanup.policy=compact\n' >"$work/want"
for p in 0 1 2; do
	printf '\tTopic: events\tPartition: %d\tLeader: 0\tReplicas: 0\tIsr: 0\tLeaderEpoch: E\n' "$p" >>"$work/want"
done
# The leader epoch: -1 from a broker that does not keep one, else the partition's (>= 0).
diff "$work/want" <(sed -E 's/\tLeaderEpoch: (-1|[0-9]+)$/\tLeaderEpoch: E/' "$work/out") ||
	fail "describe events"
run 0 describe plain
head -1 "$work/out" | grep -qP '^Topic: plain\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: $' ||
	fail "describe plain: $(head -1 "$work/out")"

# alter: the other override stays
run 0 alter events -c retention.ms=7200000 -c segment.bytes=1048576
grep -q 'altered topic "events": retention.ms=7200000' "$work/err" || fail "alter: $(cat "$work/err")"
run 0 describe events
head -1 "$work/out" | grep -q 'Configs: segment.bytes=1048576,retention.ms=7200000,cleanup.policy=compact$' ||
	fail "after alter: $(head -1 "$work/out")"
run 1 alter events -c cleanup.policy=sometimes
grep -q 'cannot alter the configs of topic "events": cleanup.policy' "$work/err" ||
	fail "alter bad value: $(cat "$work/err")"
run 0 describe events
head -1 "$work/out" | grep -q 'Configs: segment.bytes=1048576,retention.ms=7200000,cleanup.policy=compact$' ||
	fail "a refused alter changed something: $(head -1 "$work/out")"

# unknown topics
for sub in describe delete; do
	run 2 "$sub" nope
	err_is 'tape topics: topic "nope" does not exist'
done
run 2 alter nope -c retention.ms=1
err_is 'tape topics: topic "nope" does not exist'

# delete
run 0 delete plain
err_is 'deleted topic "plain"'
[ "$(kcat_parts plain)" = none ] || fail "kcat -L still sees plain"
run 2 delete plain

# the altered configs survive a restart
stop_taped || fail "taped did not stop cleanly"
# start_taped reads the port from taped.out: the old one must not be read before the
# new taped truncates it.
rm -f "$work/taped.out"
start_taped "$work" num.partitions=2
export TAPE_BROKERS=$TAPED_BOOTSTRAP
run 0 describe events
head -1 "$work/out" | grep -q 'Configs: segment.bytes=1048576,retention.ms=7200000,cleanup.policy=compact$' ||
	fail "after the restart: $(head -1 "$work/out")"

# -b wins over TAPE_BROKERS; an unreachable broker
TAPE_BROKERS=127.0.0.1:1 run 0 list -b "$TAPED_BOOTSTRAP"
TAPE_BROKERS=127.0.0.1:1 run 2 list
err_is 'tape topics: cannot reach broker at 127.0.0.1:1: connection refused'
TAPE_BROKERS=127.0.0.1:1 run 2 create x
err_is 'tape topics: cannot reach broker at 127.0.0.1:1: connection refused'

stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
