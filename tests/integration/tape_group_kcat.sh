#!/usr/bin/env bash
# tests/integration/tape_group_kcat.sh: a `tape consume -g` member and a kcat -G member
# (librdkafka 2.0.2) in one group on a real taped, both offering roundrobin.
#
#   - kcat joins first and reads 400 records alone; tape joins (kcat revokes, both are
#     assigned: roundrobin splits the 4 partitions two and two), 400 more are produced; stopped
#     cleanly, the two outputs together hold every (partition, offset) exactly once; each
#     member read some, and the partitions tape says it was assigned are the ones it read after
#     joining;
#   - tape as the leader: kcat joins a group tape leads (tape computes the assignment, kcat
#     accepts it and reads its half).
set -uo pipefail
TEST_NAME=tape_group_kcat
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tape_group_lib.sh"

command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"
tape=$BUILD/bin/tape
[ -x "$tape" ] || fail "$tape is not built"
work=$(mktemp -d)
trap 'cleanup_members; stop_taped; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
start_taped "$work" num.partitions=4 group.initial.rebalance.delay.ms=0
B=$TAPED_BOOTSTRAP
produce() { timeout 20 "$tape" produce -b "$B" -K: "$@" 2>/dev/null || fail "tape produce $*"; }
bg_kcat() {
	local name=$1
	shift
	kcat -u -b "$B" -X partition.assignment.strategy=roundrobin -X auto.offset.reset=earliest \
		-X session.timeout.ms=6000 -G "$@" >"$work/$name.out" 2>"$work/$name.err" &
	PIDS[$name]=$!
}
exactly_once() { # want files...
	local want=$1 total uniq
	shift
	total=$(cat "$@" | wc -l)
	uniq=$(cat "$@" | awk '{print $1, $2}' | sort -u | wc -l)
	[ "$total" -eq "$want" ] && [ "$uniq" -eq "$want" ] ||
		fail "$*: $total records, $uniq distinct, not $want once each"
}

for round in kcat_first tape_first; do
	topic=mix_$round
	group=g_$round
	seq 0 399 | awk '{print "k" $1 ":v" $1}' | produce "$topic"
	if [ $round = kcat_first ]; then
		bg_kcat k "$group" -f '%p %o\n' "$topic"
		wait_lines 400 30 "$work/k.out"
		bg_consume t -g "$group" --assignor roundrobin -f '%p %o\n' "$topic"
	else
		bg_consume t -g "$group" --assignor roundrobin -f '%p %o\n' "$topic"
		wait_lines 400 30 "$work/t.out"
		grep -q 'leader, assignor roundrobin' "$work/t.err" || fail "tape did not lead: $(cat "$work/t.err")"
		bg_kcat k "$group" -f '%p %o\n' "$topic"
	fi
	wait_grep "$work/t.err" '^assigned 2 partitions' 30
	wait_grep "$work/k.err" 'assigned: .*\[.*\].*\[' 30
	seq 400 799 | awk '{print "k" $1 ":v" $1}' | produce "$topic"
	wait_lines 800 30 "$work/k.out" "$work/t.out"
	sleep 1
	stop_member t
	stop_member k
	exactly_once 800 "$work/k.out" "$work/t.out"
	[ -s "$work/t.out" ] && [ -s "$work/k.out" ] || fail "$round: one member read nothing"
	# What tape read after the split is from the two partitions it was assigned.
	mine=$(grep '^assigned 2 partitions' "$work/t.err" | tail -1 | grep -oE '\[[0-9]+\]' | tr -d '[]' | sort | tr '\n' ' ')
	skip_lines=$([ $round = tape_first ] && echo 400 || echo 0)
	late=$(tail -n +$((skip_lines + 1)) "$work/t.out" | awk '{print $1}' | sort -u | tr '\n' ' ')
	[ -z "$late" ] || [ "$late" = "$mine" ] ||
		fail "$round: tape was assigned [$mine] but read late records of [$late]"
done
echo "$TEST_NAME: PASS"
