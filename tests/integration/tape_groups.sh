#!/usr/bin/env bash
# tests/integration/tape_groups.sh: `tape groups` against a real taped, with kcat -G
# (librdkafka) consumers as the groups' members:
#   describe: exact CURRENT-OFFSET, LOG-END-OFFSET and LAG per partition after kcat -G read 60
#   of 100 records on 2 partitions with auto-commit (the committed offsets are what kcat
#   printed, + 1), the state and total lag; "-" owner columns once the member left; a live
#   member that never committed shows CURRENT-OFFSET and LAG "-" with its consumer id, host
#   and client id; reset refused while a group has members (exit 1); reset dry runs print the
#   plan and change nothing; --execute to earliest, by shift (and clamped past both ends), to
#   an offset (clamped), to the latest, to a datetime (epoch ms between two produce phases,
#   the same instant in RFC 3339, -1h, a time after every record), on TOPIC:P only; a kcat -G
#   consumer resumes exactly at the reset offsets; a new group gets offsets; shifting without
#   a committed offset is refused; list; delete (and of a group with members, and twice);
#   unknown group and topic messages; usage errors and --help; an unreachable broker.
set -uo pipefail
TEST_NAME=tape_groups
. "$(dirname "$0")/lib.sh"

command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"
TAPE=$BUILD/bin/tape
[ -x "$TAPE" ] || fail "$TAPE is not built"
work=$(mktemp -d)
live=
cleanup() {
	[ -n "$live" ] && kill -TERM "$live" 2>/dev/null && wait "$live" 2>/dev/null
	stop_taped
	rm -rf "$work"
}
trap cleanup EXIT
start_taped "$work" group.initial.rebalance.delay.ms=0
export TAPE_BROKERS=$TAPED_BOOTSTRAP
B=$TAPED_BOOTSTRAP

run() { # EXPECTED_STATUS ARGS...: tape groups ARGS; $work/out, $work/err
	local want=$1
	shift
	timeout 30 "$TAPE" groups "$@" >"$work/out" 2>"$work/err"
	local rc=$?
	[ "$rc" -eq "$want" ] ||
		fail "tape groups $*: exit $rc, wanted $want; stderr: $(cat "$work/err")"
}
err_is() { [ "$(cat "$work/err")" = "$1" ] || fail "stderr '$(cat "$work/err")', wanted '$1'"; }
# rows GROUP: "PARTITION CURRENT LOG-END LAG CONSUMER HOST CLIENT" per partition row of describe
rows() {
	run 0 describe "$1"
	awk 'NR > 3 && $3 != "-" { print $3, $4, $5, $6, $7, $8, $9 }' "$work/out"
}
plan() { awk 'NR > 1 { print $3, $4 }' "$work/out" | tr '\n' ' '; }
# consume GROUP COUNT FILE: kcat -G reads COUNT records, auto-committing, and leaves
consume() {
	timeout 40 kcat -b "$B" -G "$1" lag -c "$2" -f '%p %o\n' -X auto.offset.reset=earliest \
		-X enable.auto.commit=true -X auto.commit.interval.ms=100 -X session.timeout.ms=6000 \
		>"$3" 2>"$work/kcat.err" || fail "kcat -G $1 -c $2: $(tail -3 "$work/kcat.err")"
	[ "$(wc -l <"$3")" -eq "$2" ] || fail "kcat -G $1 read $(wc -l <"$3") records, not $2"
}
# wait_rows GROUP WANT: until describe's rows are WANT (commits land asynchronously)
wait_rows() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(rows "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "describe $1: $(rows "$1" | tr '\n' '|'), wanted $(tr '\n' '|' <<<"$2")"
}

# --help and usage errors (no broker needed)
run 0 --help
grep -q '^usage: tape groups list' "$work/out" || fail "--help"
run 2
run 2 describe
run 2 reset g --to-earliest
grep -q 'reset: --topic is required' "$work/err" || fail "no --topic: $(head -1 "$work/err")"
run 2 reset g --topic lag
run 2 reset g --topic lag --to-earliest --to-latest
run 2 reset g --topic lag --to-offset -3
run 2 reset g --topic lag --shift-by x
run 2 reset g --topic lag --to-datetime yesterday
grep -q -- '--to-datetime yesterday' "$work/err" || fail "bad datetime: $(head -1 "$work/err")"
run 2 describe g --execute
run 2 reset g --topic lag: --to-earliest

# 2 partitions: 30 records each, then (after time T) 20 more each
"$BUILD/bin/tape" topics create lag -p 2 2>/dev/null || fail "topics create lag"
for p in 0 1; do
	seq 1 30 | "$TAPE" produce lag -p "$p" -q || fail "produce to lag $p"
done
sleep 1.2
T=$(date +%s%3N)
T_RFC=$(date -u -d "@$((T / 1000))" +%Y-%m-%dT%H:%M:%S).$(printf %03d $((T % 1000)))Z
sleep 1.2
for p in 0 1; do
	seq 31 50 | "$TAPE" produce lag -p "$p" -q || fail "produce to lag $p"
done

# partial read by kcat -G: 60 of 100; committed = the last offset it printed + 1
consume g1 60 "$work/read1"
want=""
for p in 0 1; do
	last=$(awk -v p=$p '$1 == p { o = $2 } END { print (o == "" ? -1 : o) }' "$work/read1")
	cur=$((last + 1))
	[ "$cur" -gt 0 ] && want+="$p $cur 50 $((50 - cur)) - - -"$'\n'
done
want=${want%$'\n'}
wait_rows g1 "$want"
head -1 "$work/out" | grep -qx 'group "g1": state Empty, 0 members, total lag 40' ||
	fail "describe g1: $(head -1 "$work/out")"
sed -n 3p "$work/out" | grep -qE '^GROUP +TOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG +CONSUMER-ID +HOST +CLIENT-ID$' ||
	fail "describe header: $(sed -n 3p "$work/out")"

# a live member of g2 that never commits: its partitions without CURRENT-OFFSET and LAG
kcat -b "$B" -G g2 lag -X auto.offset.reset=latest -X enable.auto.commit=false \
	-X client.id=live-member -X session.timeout.ms=6000 -q >/dev/null 2>"$work/live.err" &
live=$!
for ((i = 0; i < 150; i++)); do
	timeout 30 "$TAPE" groups describe g2 >"$work/out" 2>"$work/err" &&
		[ "$(awk 'NR > 3 && $3 != "-"' "$work/out" | wc -l)" -eq 2 ] && break
	sleep 0.1
done
awk 'NR > 3 { print $3, $4, $5, $6, $9 }' "$work/out" >"$work/g2"
printf '0 - 50 - live-member\n1 - 50 - live-member\n' | diff - "$work/g2" || fail "describe g2"
awk 'NR > 3 { print $7, $8 }' "$work/out" | grep -qE '^live-member-[^ ]+ /?127\.0\.0\.1$' ||
	fail "g2's consumer id and host: $(cat "$work/out")"
head -1 "$work/out" | grep -qx 'group "g2": state Stable, 1 member, total lag 0' ||
	fail "describe g2: $(head -1 "$work/out")"
run 1 reset g2 --topic lag --to-earliest --execute
err_is 'tape groups: group "g2" has active members (state Stable, 1 member): offsets can only be reset while it is empty; stop its consumers first'
run 1 delete g2
err_is 'tape groups: group "g2" has active members'
run 0 list
printf 'g1\ng2\n' | diff - "$work/out" || fail "list"
kill -TERM "$live"
wait "$live"
live=

# reset to earliest: a dry run changes nothing, --execute does; a consumer resumes there
run 0 reset g1 --topic lag --to-earliest
[ "$(plan)" = "0 0 1 0 " ] || fail "dry run to earliest: $(cat "$work/out")"
head -1 "$work/out" | grep -qE '^GROUP +TOPIC +PARTITION +NEW-OFFSET$' || fail "plan header"
grep -q 'dry run' "$work/err" || fail "dry run: $(cat "$work/err")"
wait_rows g1 "$want"
run 0 reset g1 --topic lag --to-earliest --execute
wait_rows g1 $'0 0 50 50 - - -\n1 0 50 50 - - -'
consume g1 100 "$work/read2"
for p in 0 1; do
	awk -v p=$p '$1 == p { print $2 }' "$work/read2" | diff - <(seq 0 49) >/dev/null ||
		fail "after the reset to earliest, partition $p was not read from 0 to 49"
done
wait_rows g1 $'0 50 50 0 - - -\n1 50 50 0 - - -'

# shift (clamped at both ends), to an offset (clamped), to the latest
run 0 reset g1 --topic lag --shift-by -10 --execute
wait_rows g1 $'0 40 50 10 - - -\n1 40 50 10 - - -'
run 0 reset g1 --topic lag --shift-by 1000
[ "$(plan)" = "0 50 1 50 " ] || fail "shift +1000: $(plan)"
run 0 reset g1 --topic lag --shift-by -1000
[ "$(plan)" = "0 0 1 0 " ] || fail "shift -1000: $(plan)"
run 0 reset g1 --topic lag --to-offset 9999
[ "$(plan)" = "0 50 1 50 " ] || fail "to-offset 9999: $(plan)"
run 0 reset g1 --topic lag:1 --to-offset 7 --execute
[ "$(plan)" = "1 7 " ] || fail "lag:1 to-offset 7: $(plan)"
wait_rows g1 $'0 40 50 10 - - -\n1 7 50 43 - - -'
run 0 reset g1 --topic lag --to-latest
[ "$(plan)" = "0 50 1 50 " ] || fail "to-latest: $(plan)"

# to a datetime: T lies between offsets 29 and 30 of each partition
run 0 reset g1 --topic lag --to-datetime "$T_RFC"
[ "$(plan)" = "0 30 1 30 " ] || fail "to-datetime $T_RFC: $(plan)"
run 0 reset g1 --topic lag --to-datetime -1h
[ "$(plan)" = "0 0 1 0 " ] || fail "to-datetime -1h: $(plan)"
run 0 reset g1 --topic lag --to-datetime $((T + 3600000))
[ "$(plan)" = "0 50 1 50 " ] || fail "to-datetime after every record: $(plan)"
run 0 reset g1 --topic lag --to-datetime "$T" --execute
[ "$(plan)" = "0 30 1 30 " ] || fail "to-datetime $T: $(plan)"
wait_rows g1 $'0 30 50 20 - - -\n1 30 50 20 - - -'
consume g1 40 "$work/read3"
for p in 0 1; do
	awk -v p=$p '$1 == p { print $2 }' "$work/read3" | diff - <(seq 30 49) >/dev/null ||
		fail "after the reset to $T, partition $p was not read from 30 to 49"
done

# a group without offsets: earliest works, a shift does not
run 1 reset g3 --topic lag --shift-by 1 --execute
err_is 'tape groups: cannot shift lag partition 0: the group has no committed offset there'
run 0 reset g3 --topic lag --to-earliest --execute
wait_rows g3 $'0 0 50 50 - - -\n1 0 50 50 - - -'
head -1 "$work/out" | grep -qx 'group "g3": state Empty, 0 members, total lag 100' ||
	fail "describe g3: $(head -1 "$work/out")"

# unknown topic and group; delete
run 2 reset g1 --topic nope --to-earliest
err_is 'tape groups: topic "nope" does not exist'
run 2 reset g1 --topic lag:5 --to-earliest
err_is 'tape groups: topic "lag" has no partition 5'
run 2 describe nosuchgroup
err_is 'tape groups: group "nosuchgroup" does not exist'
run 0 delete g1
err_is 'deleted group "g1"'
run 2 describe g1
err_is 'tape groups: group "g1" does not exist'
run 2 delete g1
err_is 'tape groups: group "g1" does not exist'
run 0 list
grep -qx g1 "$work/out" && fail "list after delete: $(cat "$work/out")"

# an unreachable broker
TAPE_BROKERS=127.0.0.1:1 run 2 list
err_is 'tape groups: cannot reach broker at 127.0.0.1:1: connection refused'
run 2 describe g3 -b 127.0.0.1:1
err_is 'tape groups: cannot reach broker at 127.0.0.1:1: connection refused'

stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
