#!/usr/bin/env bash
# tests/integration/tape_replay_group.sh: `tape replay -g GROUP` commits its progress, so an
# interrupted replay resumes where it stopped, against a real taped.
#
#   - SIGTERM in the middle of a replay with --exec (a slow CMD appending "P O V" to a file):
#     the replay finishes the record in hand, commits, exits 143 with "(stopped by SIGTERM)";
#     run again with the same group it does the rest: every record exactly once, in order per
#     partition, over both runs;
#   - SIGKILL in the middle (a 2 s session): run again, no record is lost, and only the record whose CMD was
#     running can run twice (commits wait for the coordinator after every record);
#   - without --exec (stdout): a finished replay leaves the group's offsets at the end, so the
#     same command after 30 more records writes exactly those 30 (the committed offsets win
#     over --from beginning), and after that nothing; `kcat -G`-independent check: the
#     committed offsets kcat's consumer-group listing cannot give, so the replay itself is
#     the witness;
#   - -g with --from @TIME and nothing committed: starts at the time;
#   - -p with -g is refused (exit 2).
set -uo pipefail
TEST_NAME=tape_replay_group
. "$(dirname "$0")/lib.sh"

command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"
tape=$BUILD/bin/tape
[ -x "$tape" ] || fail "$tape is not built"
work=$(mktemp -d)
replay_pid=
cleanup() {
	[ -n "$replay_pid" ] && kill -KILL "$replay_pid" 2>/dev/null
	stop_taped
	rm -rf "$work"
}
trap cleanup EXIT
# A short initial rebalance delay: each replay joins its group alone.
start_taped "$work" num.partitions=3 group.initial.rebalance.delay.ms=0 \
	group.min.session.timeout.ms=1000
B=$TAPED_BOOTSTRAP
kc() { timeout 30 kcat -b "$B" "$@"; }

N=120
for ((i = 0; i < N; i++)); do echo "k$i:v$i"; done | kc -P -t orders -K: || fail "kcat -P orders"
kc -C -t orders -o beginning -c $N -q -f '%p %o v%s\n' | sed 's/ vv/ v/' | sort >"$work/expected"
[ "$(wc -l <"$work/expected")" -eq $N ] || fail "kcat read back $(wc -l <"$work/expected")"

cmd='echo "$TAPE_PARTITION $TAPE_OFFSET $(cat)" >>'"$work/done"'; sleep 0.02'

lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# start_replay GROUP: in the background, replay_pid set
# (not under timeout(1), whose PID would get the signals: wait_exit bounds it instead)
start_replay() {
	"$tape" replay -b "$B" orders --from beginning --until end -g "$1" "${@:2}" \
		--exec "$cmd" >>"$work/out" 2>>"$work/err" &
	replay_pid=$!
}
wait_exit() { # waits (20 s) for the replay to exit; its status in rc
	local i
	for ((i = 0; i < 400; i++)); do
		kill -0 "$replay_pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$replay_pid" 2>/dev/null && fail "the replay did not exit within 20 s of the signal"
	wait "$replay_pid" 2>/dev/null
	rc=$?
	replay_pid=
}
wait_lines() { # n: until the file has n lines (20 s)
	local i
	for ((i = 0; i < 400; i++)); do
		[ "$(lines "$work/done")" -ge "$1" ] && return 0
		kill -0 "$replay_pid" 2>/dev/null || fail "the replay ended before $1 records"
		sleep 0.05
	done
	fail "the replay did not reach $1 records in 20 s: $(cat "$work/err")"
}
in_order() {
	awk '{ if (($1 in last) && $2 <= last[$1]) { print "partition " $1 ": offset " $2 \
		" after " last[$1]; bad = 1 } last[$1] = $2 } END { exit bad }' "$1"
}

# ---- SIGTERM, then resume: exactly once -------------------------------------------------------
start_replay g-term
wait_lines 40
kill -TERM "$replay_pid"
wait_exit
[ $rc -eq 143 ] || fail "SIGTERM: exit $rc, not 143: $(cat "$work/err")"
grep -Eq '^replayed [0-9]+ records of orders in [0-9.]+ s \(stopped by SIGTERM\)$' "$work/err" ||
	fail "SIGTERM: summary: $(cat "$work/err")"
first=$(lines "$work/done")
[ "$first" -lt $N ] || fail "SIGTERM came after the end ($first records)"
grep -q "^replayed $first records" "$work/err" ||
	fail "SIGTERM: $first records ran, the summary says otherwise: $(cat "$work/err")"
: >"$work/err"
timeout 60 "$tape" replay -b "$B" orders --from beginning --until end -g g-term --exec "$cmd" \
	>"$work/out" 2>"$work/err" || fail "resume after SIGTERM exited $?: $(cat "$work/err")"
grep -q "^replayed $((N - first)) records of orders" "$work/err" ||
	fail "resume: $(cat "$work/err") (the first run did $first)"
sort "$work/done" | diff "$work/expected" - >"$work/diff" ||
	fail "SIGTERM + resume: not every record exactly once: $(head "$work/diff")"
in_order "$work/done" || fail "SIGTERM + resume: out of order"

# ---- SIGKILL, then resume: nothing lost, at most the record in flight twice -----------------------
: >"$work/done"
: >"$work/err"
# A short session: the killed member's partitions move on after it, not after 45 s.
start_replay g-kill -X session.timeout.ms=2000 -X heartbeat.interval.ms=300
wait_lines 50
{ # (bash's "Killed" notice is not the test's output)
	kill -KILL "$replay_pid"
	wait_exit
} 2>/dev/null
[ $rc -eq 137 ] || fail "SIGKILL: exit $rc"
timeout 60 "$tape" replay -b "$B" orders --from beginning --until end -g g-kill --exec "$cmd" \
	>"$work/out" 2>"$work/err" || fail "resume after SIGKILL exited $?: $(cat "$work/err")"
sort -u "$work/done" | diff "$work/expected" - >"$work/diff" ||
	fail "SIGKILL + resume: records lost: $(head "$work/diff")"
dups=$(sort "$work/done" | uniq -d | wc -l)
[ "$dups" -le 1 ] || fail "SIGKILL + resume: $dups records ran twice: $(sort "$work/done" | uniq -d | head)"
[ "$(wc -l <"$work/done")" -le $((N + 1)) ] || fail "SIGKILL + resume: a record ran 3 times"

# ---- stdout: committed offsets win over --from -----------------------------------------------------
rs() { timeout 60 "$tape" replay -b "$B" orders --from beginning --until end -g g-out -q \
	-f '%p %o %s\n' "$@"; }
rs >"$work/all" 2>"$work/err" || fail "replay -g g-out exited $?: $(cat "$work/err")"
sort "$work/all" | diff "$work/expected" - >/dev/null || fail "replay -g g-out: not every record"
for ((i = N; i < N + 30; i++)); do echo "k$i:v$i"; done | kc -P -t orders -K: ||
	fail "kcat -P 30 more"
rs >"$work/more" 2>"$work/err" || fail "replay -g g-out again exited $?: $(cat "$work/err")"
[ "$(wc -l <"$work/more")" -eq 30 ] ||
	fail "replay -g g-out after 30 more: $(wc -l <"$work/more") records"
[ "$(awk '{ print $3 }' "$work/more" | sort -t v -k1.2n | tr '\n' ' ')" = \
	"$(for ((i = N; i < N + 30; i++)); do printf 'v%d ' $i; done)" ] ||
	fail "replay -g g-out after 30 more: $(awk '{ print $3 }' "$work/more" | tr '\n' ' ')"
rs >"$work/none" 2>"$work/err" || fail "replay -g g-out a third time exited $?"
[ -s "$work/none" ] && fail "replay -g g-out a third time: $(head -3 "$work/none")"

# ---- --from @TIME with nothing committed ------------------------------------------------------------
t=$(date +%s%3N)
sleep 0.05
for i in 1 2 3 4 5; do echo "late$i"; done | kc -P -t orders || fail "kcat -P late"
timeout 60 "$tape" replay -b "$B" orders --from "@$t" --until end -g g-time -q >"$work/late" \
	2>"$work/err" || fail "replay -g --from @TIME exited $?: $(cat "$work/err")"
[ "$(sort "$work/late" | tr '\n' ' ')" = "late1 late2 late3 late4 late5 " ] ||
	fail "replay -g --from @TIME: $(tr '\n' ' ' <"$work/late")"

"$tape" replay -b "$B" orders --from beginning -g x -p 0 >/dev/null 2>&1
[ $? -eq 2 ] || fail "-p with -g accepted"
echo "$TEST_NAME: ok"
