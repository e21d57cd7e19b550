#!/usr/bin/env bash
# tests/integration/tape_replay.sh: `tape replay` against a real taped, with kcat (librdkafka)
# producing the records and reading the dead-letter topic back.
#
#   - --from beginning --until end over 3 partitions: every record kcat produced, once, each
#     partition's in offset order (-f with kcat's tokens), and a summary line only on stderr
#     (not a terminal: no progress line); --json has the same records;
#   - -p 1 --from 10 --until 20: exactly offsets 10-19 of partition 1; --from past a
#     partition's end with --until end: nothing, exit 0;
#   - --from @TIME --until @TIME between three produce rounds: exactly the middle round
#     (RFC 3339 and epoch ms spellings);
#   - --exec: CMD writes TAPE_TOPIC, TAPE_PARTITION, TAPE_OFFSET, TAPE_KEY, TAPE_TIMESTAMP
#     and its stdin to a file: they equal kcat's %t %p %o %k %T %s for every record, in
#     order per partition;
#   - --exec failing (exit 3) on values containing "bad", --retries 2 --dlq: each bad record
#     ran 3 times (counted through a file), the waits before the retries were at least
#     100 ms and 200 ms, exactly the bad records are in the dead-letter topic with their key,
#     value, own header and tape.dlq.error="exit status 3", .topic, .partition, .offset,
#     .timestamp (= the original's), .attempts=3; every other record ran once, in order;
#   - the same without --dlq: the first bad record stops the replay, exit 1, a message naming
#     its partition and offset; no record after it ran;
#   - a CMD killed by a signal counts as a failure ("killed by signal 9");
#   - errors: an unknown topic, no --from, --dlq without --exec: exit 2, one line; --help 0.
set -uo pipefail
TEST_NAME=tape_replay
. "$(dirname "$0")/lib.sh"

command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"
tape=$BUILD/bin/tape
[ -x "$tape" ] || fail "$tape is not built"
work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
start_taped "$work" num.partitions=3
B=$TAPED_BOOTSTRAP
kc() { timeout 30 kcat -b "$B" "$@"; }
replay() { timeout 60 "$tape" replay -b "$B" "$@"; }

# in-order-per-partition FILE: the lines "P O ..." of each partition have increasing offsets
in_order() {
	awk '{ if (($1 in last) && $2 <= last[$1]) { print "partition " $1 ": offset " $2 \
		" after " last[$1]; bad = 1 } last[$1] = $2 } END { exit bad }' "$1"
}

# ---- the whole topic, to stdout ---------------------------------------------------------------
N=300
for ((i = 0; i < N; i++)); do echo "key-$i:value $i $((i * 7919 % 1000))"; done >"$work/in"
kc -P -t ev -K: -H src=test <"$work/in" || fail "kcat -P ev"
kc -C -t ev -o beginning -c $N -q -f '%p %o %k %s\n' | sort >"$work/expected" ||
	fail "kcat -C ev"
[ "$(wc -l <"$work/expected")" -eq $N ] || fail "kcat read $(wc -l <"$work/expected") of $N"

replay ev --from beginning --until end -f '%p %o %k %s\n' >"$work/out" 2>"$work/err" ||
	fail "replay ev exited $?: $(cat "$work/err")"
in_order "$work/out" || fail "replay ev: out of order"
sort "$work/out" | diff "$work/expected" - >"$work/diff" ||
	fail "replay ev: records differ: $(head "$work/diff")"
grep -Eq "^replayed $N records of ev in [0-9.]+ s$" "$work/err" ||
	fail "replay ev: summary: $(cat "$work/err")"
[ "$(wc -l <"$work/err")" -eq 1 ] || fail "replay ev: stderr is more than the summary (not a tty): $(cat -A "$work/err" | head -3)"

replay ev --from beginning --until end --json -q >"$work/json" 2>"$work/err" ||
	fail "replay --json exited $?: $(cat "$work/err")"
[ -s "$work/err" ] && fail "replay -q: stderr: $(cat "$work/err")"
python3 -c '
import json, sys
rows = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    assert r["topic"] == "ev" and r["headers"] == [{"name": "src", "value": "test"}], r
    rows.append("%d %d %s %s" % (r["partition"], r["offset"], r["key"], r["value"]))
print("\n".join(sorted(rows)))' "$work/json" >"$work/json.rows" || fail "replay --json: not the JSON expected"
diff "$work/expected" "$work/json.rows" >/dev/null || fail "replay --json: records differ"

# ---- offsets ------------------------------------------------------------------------------------
replay ev -p 1 --from 10 --until 20 -f '%p %o\n' >"$work/out" 2>"$work/err" ||
	fail "replay -p 1 --from 10 --until 20 exited $?: $(cat "$work/err")"
[ "$(cat "$work/out" | tr '\n' ' ')" = "$(for o in $(seq 10 19); do printf '1 %d ' $o; done)" ] ||
	fail "replay -p 1 --from 10 --until 20: $(tr '\n' ' ' <"$work/out")"
replay ev --from 100000 --until end >"$work/out" 2>"$work/err" ||
	fail "replay --from past the end exited $?: $(cat "$work/err")"
[ -s "$work/out" ] && fail "replay --from past the end wrote records"

# ---- times --------------------------------------------------------------------------------------
now_ms() { date +%s%3N; }
for r in a b c; do
	[ $r = b ] && t1=$(now_ms)
	[ $r = c ] && t2=$(now_ms)
	sleep 0.05
	for i in 1 2 3 4 5 6; do echo "$r$i"; done | kc -P -t tm || fail "kcat -P tm"
	sleep 0.05
done
replay tm --from "@$t1" --until "@$t2" >"$work/out" 2>"$work/err" ||
	fail "replay --from @$t1 --until @$t2 exited $?: $(cat "$work/err")"
[ "$(sort "$work/out" | tr '\n' ' ')" = "b1 b2 b3 b4 b5 b6 " ] ||
	fail "replay --from @TIME --until @TIME: $(tr '\n' ' ' <"$work/out")"
rfc=$(date -u -d "@$((t1 / 1000)).$(printf '%03d' $((t1 % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ)
replay tm --from "@$rfc" --until end >"$work/out" 2>"$work/err" ||
	fail "replay --from @$rfc exited $?: $(cat "$work/err")"
[ "$(sort "$work/out" | tr '\n' ' ')" = "b1 b2 b3 b4 b5 b6 c1 c2 c3 c4 c5 c6 " ] ||
	fail "replay --from @$rfc: $(tr '\n' ' ' <"$work/out")"

# ---- --exec and its environment -----------------------------------------------------------------
kc -C -t ev -o beginning -c $N -q -f '%t %p %o %k %T %s\n' | sort >"$work/expected.env"
replay ev --from beginning --until end --exec \
	'printf "%s %s %s %s %s %s\n" "$TAPE_TOPIC" "$TAPE_PARTITION" "$TAPE_OFFSET" "$TAPE_KEY" "$TAPE_TIMESTAMP" "$(cat)" >>'"$work/env" \
	>"$work/out" 2>"$work/err" || fail "replay --exec exited $?: $(cat "$work/err")"
[ -s "$work/out" ] && fail "replay --exec wrote to stdout: $(head -3 "$work/out")"
cut -d' ' -f2- "$work/env" >"$work/env.po"
in_order "$work/env.po" || fail "replay --exec: out of order"
sort "$work/env" | diff "$work/expected.env" - >"$work/diff" ||
	fail "replay --exec: environment or stdin differ: $(head "$work/diff")"

# ---- failures, retries and the dead-letter topic --------------------------------------------------
M=60
for ((i = 0; i < M; i++)); do
	if ((i % 13 == 5)); then echo "k$i:bad $i"; else echo "k$i:good $i"; fi
done >"$work/fin"
kc -P -t jobs -K: -H origin=unit <"$work/fin" || fail "kcat -P jobs"
kc -C -t jobs -o beginning -c $M -q -f '%p %o %k %T %s\n' >"$work/jobs"
bad_count=$(grep -c ' bad ' "$work/jobs")
# CMD: one line per attempt "P O ms", fails on bad values, records successes in order
cmd='v=$(cat); echo "$TAPE_PARTITION $TAPE_OFFSET $(date +%s%3N)" >>'"$work/attempts"'; case $v in *bad*) exit 3;; esac; echo "$TAPE_PARTITION $TAPE_OFFSET $v" >>'"$work/done"
replay jobs --from beginning --until end --retries 2 --dlq jobs.dlq --exec "$cmd" \
	>"$work/out" 2>"$work/err" || fail "replay --dlq exited $?: $(cat "$work/err")"
grep -Eq "^replayed $M records of jobs in [0-9.]+ s, $bad_count to the dead-letter topic jobs.dlq$" \
	"$work/err" || fail "replay --dlq: summary: $(cat "$work/err")"
awk '{ print $1, $2 }' "$work/attempts" | sort | uniq -c | awk -v jobs="$work/jobs" '
	BEGIN { while ((getline l < jobs) > 0) { split(l, f, " "); bad[f[1] " " f[2]] = (l ~ / bad /) } }
	{ want = bad[$2 " " $3] ? 3 : 1; if ($1 != want) { print $2 "/" $3 ": " $1 " attempts, not " want; e = 1 } n++ }
	END { exit e }' || fail "replay --dlq: attempts per record differ"
[ "$(awk '{ print $1, $2 }' "$work/attempts" | sort -u | wc -l)" -eq $M ] ||
	fail "replay --dlq: not every record ran"
awk '{ k = $1 " " $2; if (k in t) { d = $3 - t[k]; if (d < 90 + 100 * (n[k] - 1)) { print k ": retry " n[k] " after " d " ms"; e = 1 } n[k]++ } else n[k] = 1; t[k] = $3 }
	END { exit e }' "$work/attempts" || fail "replay --dlq: the backoff was shorter than 100 ms, 200 ms"
grep -v ' bad ' "$work/jobs" | awk '{ print $1, $2, $5, $6 }' | sort >"$work/want.done"
sort "$work/done" | diff "$work/want.done" - >/dev/null || fail "replay --dlq: the good records differ"
in_order "$work/done" || fail "replay --dlq: good records out of order"
kc -C -t jobs.dlq -o beginning -c "$bad_count" -q -f '%k|%s|%h\n' >"$work/dlq" ||
	fail "kcat -C jobs.dlq"
kc -C -t jobs.dlq -o "$bad_count" -e -q -f '%o\n' 2>/dev/null | grep -q . &&
	fail "more than $bad_count records in jobs.dlq"
grep ' bad ' "$work/jobs" | while read -r p o k ts v; do
	echo "$k|$v|origin=unit,tape.dlq.error=exit status 3,tape.dlq.topic=jobs,tape.dlq.partition=$p,tape.dlq.offset=$o,tape.dlq.timestamp=$ts,tape.dlq.attempts=3"
done | sort >"$work/want.dlq"
sort "$work/dlq" | diff "$work/want.dlq" - >"$work/diff" ||
	fail "jobs.dlq differs from the bad records: $(head -6 "$work/diff")"

# ---- without --dlq, the first bad record stops the replay ------------------------------------------
: >"$work/done"
: >"$work/attempts"
read -r bp first_bad < <(awk '/ bad / { print $1, $2; exit }' "$work/jobs")
replay jobs -p "$bp" --from beginning --until end --retries 1 --exec "$cmd" >"$work/out" 2>"$work/err"
rc=$?
[ $rc -eq 1 ] || fail "replay without --dlq exited $rc, not 1: $(cat "$work/err")"
grep -q "^tape replay: \"jobs\" partition $bp offset $first_bad: the command failed 2 times (the last: exit status 3); the replay stops here" \
	"$work/err" || fail "replay without --dlq: message: $(cat "$work/err")"
[ "$(awk '{ print $2 }' "$work/done" | tr '\n' ' ')" = "$(seq 0 $((first_bad - 1)) | tr '\n' ' ')" ] ||
	fail "replay without --dlq: ran $(awk '{ print $2 }' "$work/done" | tr '\n' ' '), not 0..$((first_bad - 1))"

replay jobs -p "$bp" --from "$first_bad" --until end --retries 0 --exec 'kill -9 $$' \
	>"$work/out" 2>"$work/err"
rc=$?
[ $rc -eq 1 ] || fail "replay with a killed CMD exited $rc: $(cat "$work/err")"
grep -q "failed 1 time (the last: killed by signal 9 (Killed))" "$work/err" ||
	fail "replay with a killed CMD: $(cat "$work/err")"

# ---- usage and errors ---------------------------------------------------------------------------
replay nosuch --from beginning >"$work/out" 2>"$work/err"
rc=$?
[ $rc -eq 2 ] || fail "unknown topic: exit $rc"
[ "$(cat "$work/err")" = 'tape replay: topic "nosuch" does not exist' ] ||
	fail "unknown topic: $(cat "$work/err")"
replay ev >/dev/null 2>"$work/err"
[ $? -eq 2 ] && head -1 "$work/err" | grep -q -- '--from is needed' || fail "no --from: $(head -1 "$work/err")"
replay ev --from beginning --dlq x >/dev/null 2>"$work/err"
[ $? -eq 2 ] && head -1 "$work/err" | grep -q -- '--dlq goes with --exec' || fail "--dlq alone: $(head -1 "$work/err")"
replay ev --from yesterday >/dev/null 2>"$work/err"
[ $? -eq 2 ] || fail "--from yesterday accepted"
"$tape" replay --help | grep -q '^usage: tape replay' || fail "--help"
echo "$TEST_NAME: ok"
