#!/usr/bin/env bash
# tests/integration/kcat_crash_restart.sh: taped killed with SIGKILL and restarted on the same
# data directory loses no acknowledged record and keeps each partition's order. Topics are
# auto-created with 4 partitions (--override num.partitions=4) and records are keyed (1000
# keys), so they spread over all four; each value is the record's number in the input.
#
# 1. At rest: 20000 records produced with acks=all in four kcat runs that all exit 0 (so every
#    record is acknowledged, and none reported failed), read back per partition, then
#    SIGKILL, restart, and the read must be the same, record for record, at the same offsets;
#    every key in one partition only; the input, no more, no less. A new record then lands at
#    offset 20000 overall.
# 2. In flight: an idempotent producer (acks=all) fed ~200000 records a second, SIGKILL while
#    it runs (after 50000 acknowledgements), restart. Every acknowledgement kcat reported
#    (-vv: "Message delivered to partition P (offset O)") must be in the read, each partition
#    is contiguous from 0 and its values strictly increase (no duplicate, no reordering), and
#    nothing read was never sent.
set -uo pipefail
. "$(dirname "$0")/kcat_lib.sh"
kcat_require

data=$WORK/data
overrides=(--override num.partitions=4)
start_taped "$data" "${overrides[@]}"

# read_all topic file: every record, up to the end of each partition, as "partition offset key
# value", sorted by partition and offset.
read_all() {
	kcat_run -C -t "$1" -o beginning -e -f '%p %o %k %s\n' >"$WORK/read.raw" \
		2>"$WORK/read.err" ||
		fail "kcat -C -t $1 exited $?: $(cat "$WORK/read.err")"
	sort -n -k1,1 -k2,2 "$WORK/read.raw" >"$2"
}

# check_partitions file: offsets contiguous from 0 and values strictly increasing in each
# partition, each key in one partition.
check_partitions() {
	awk '
		$1 != p { p = $1; next_off = 0; last = -1 }
		$2 != next_off { print "partition " $1 ": offset " $2 ", not " next_off; exit 1 }
		$4 + 0 <= last { print "partition " $1 "/" $2 ": value " $4 " after " last; exit 1 }
		($3 in part) && part[$3] != $1 { print "key " $3 ": " part[$3] " and " $1; exit 1 }
		{ part[$3] = $1; next_off++; last = $4 + 0; n[$1]++ }
		END { for (q = 0; q < 4; q++) if (!n[q]) { print "partition " q " empty"; exit 1 } }
	' "$1" >"$WORK/check.out" || fail "$1: $(cat "$WORK/check.out")"
}

# ---- 1. at rest -----------------------------------------------------------------------------
for run in 0 1 2 3; do
	awk -v r=$run 'BEGIN {
		for (i = r * 5000; i < (r + 1) * 5000; i++) printf "k%d:%d\n", i % 1000, i }' |
		kcat_run -P -t rest -K: -X acks=all 2>"$WORK/p.err" ||
		fail "kcat -P run $run exited $?: $(cat "$WORK/p.err")"
	[ -s "$WORK/p.err" ] && fail "kcat -P run $run said: $(cat "$WORK/p.err")"
done
read_all rest "$WORK/before"
[ "$(wc -l <"$WORK/before")" -eq 20000 ] || fail "read $(wc -l <"$WORK/before") records, not 20000"
check_partitions "$WORK/before"
cut -d' ' -f4 "$WORK/before" | sort -n | diff - <(seq 0 19999) >/dev/null ||
	fail "the values read are not exactly 0..19999"

kill_taped
start_taped "$data" "${overrides[@]}"
read_all rest "$WORK/after"
diff "$WORK/before" "$WORK/after" >"$WORK/diff" ||
	fail "after SIGKILL and restart the topic differs: $(head -5 "$WORK/diff")"
echo 'k1:20000' | kcat_run -P -t rest -K: -X acks=all 2>"$WORK/p.err" ||
	fail "kcat -P after the restart: $(cat "$WORK/p.err")"
read_all rest "$WORK/after2"
[ "$(wc -l <"$WORK/after2")" -eq 20001 ] || fail "after one more record: $(wc -l <"$WORK/after2")"
check_partitions "$WORK/after2"
echo "$TEST: at rest: 20000 records kept across SIGKILL, appends continue: ok"

# ---- 2. in flight ---------------------------------------------------------------------------
# kcat reads stdin in 1 MB chunks (about 80000 of these records) and produces each at once;
# the feed is paced in chunks of 20000 records, 40 of them, 0.1 s apart.
feed() {
	local c
	for ((c = 0; c < 40; c++)); do
		awk -v c=$c 'BEGIN { for (i = c * 20000; i < (c + 1) * 20000; i++)
			printf "k%d:%d\n", i % 1000, i }' || return
		sleep 0.1
	done
}
# kcat gives up when its one broker is gone ("All broker connections are down"): what it had
# not seen acknowledged by then is indeterminate.
feed | KCAT_TIMEOUT=60 kcat_run -P -t flight -K: -vv -X enable.idempotence=true \
	-X message.timeout.ms=3000 -X linger.ms=5 >/dev/null 2>"$WORK/flight.err" &
producer=$!
for ((i = 0; i < 300; i++)); do
	n=$(grep -c '^% Message delivered' "$WORK/flight.err")
	[ "$n" -ge 50000 ] && break
	kill -0 $producer 2>/dev/null ||
		fail "the producer ended early: $(tail -3 "$WORK/flight.err")"
	sleep 0.1
done
[ "$n" -ge 50000 ] || fail "only $n records acknowledged after 30 s"
kill_taped
wait $producer
rc=$?
[ $rc -eq 124 ] && fail "the producer did not give up within 60 s"
start_taped "$data" "${overrides[@]}"

sed -n 's/^% Message delivered to partition \([0-9]*\) (offset \([0-9]*\)).*/\1 \2/p' \
	"$WORK/flight.err" >"$WORK/acked"
acked=$(wc -l <"$WORK/acked")
failed=$(grep -c 'Delivery failed' "$WORK/flight.err")
read_all flight "$WORK/flight"
check_partitions "$WORK/flight"
# Every acknowledged (partition, offset) is read: below that partition's record count.
awk 'NR == FNR { n[$1]++; next }
	!($2 < n[$1]) { print "acknowledged " $1 "/" $2 " missing"; exit 1 }' \
	"$WORK/flight" "$WORK/acked" >"$WORK/check.out" || fail "$(cat "$WORK/check.out")"
# Nothing read that was not sent: values below what the feed could have written, keys match.
awk '$3 != "k" ($4 % 1000) || $4 >= 800000 { print; exit 1 }' "$WORK/flight" >"$WORK/check.out" ||
	fail "a record never sent: $(cat "$WORK/check.out")"
read=$(wc -l <"$WORK/flight")
[ "$read" -ge "$acked" ] || fail "read $read < acknowledged $acked"
echo "$TEST: in flight: $acked acknowledged, $failed failed (producer exit $rc), $read read" \
	"after SIGKILL and restart: ok"

taped_log_quiet
stop_taped || fail "taped exited $? after SIGTERM"
echo "$TEST: ok"
