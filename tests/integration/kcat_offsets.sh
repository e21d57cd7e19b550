#!/usr/bin/env bash
# tests/integration/kcat_offsets.sh: where `kcat -C` starts (ListOffsets v2 and Fetch through
# librdkafka 2.0.2), on a one-partition topic of 100 records r0..r99 written in several
# batches:
#   -o beginning   all 100, in order           -o 42   r42..r99 (no ListOffsets: a plain fetch)
#   -o -5          r95..r99 (the end minus 5)   -o 100  nothing (the end itself)
#   -o 250         beyond the end: auto.offset.reset=earliest brings back all 100
#   -o end         a consumer started first (it waits until it has reached the end) sees only
#                  the 10 records a producer adds afterwards, at offsets 100..109
#   -o s@<ms>      on a second topic of three produce runs A, B, C (30 records each) separated
#                  by sleeps: a time between A and B gives B and C, between B and C gives C,
#                  the exact timestamp of C's first record gives C (the first record at or
#                  after it), a time before A gives everything and one after C nothing.
set -uo pipefail
. "$(dirname "$0")/kcat_lib.sh"
kcat_require

start_taped "$WORK/data"

seq 0 99 | sed 's/^/r/' | kcat_run -P -t off -X batch.num.messages=16 2>"$WORK/err" ||
	fail "kcat -P: $(cat "$WORK/err")"

# consume offset-spec expected-first expected-last [extra kcat options...]: the values read
# with -e are exactly r<first>..r<last> at offsets first..last (nothing when first > last).
consume() {
	local spec=$1 first=$2 last=$3
	shift 3
	kcat_run -C -t off -o "$spec" -e -q -f '%o %s\n' "$@" >"$WORK/got" 2>"$WORK/err" ||
		fail "kcat -C -o $spec exited $?: $(cat "$WORK/err")"
	if [ "$first" -le "$last" ]; then
		seq "$first" "$last" | awk '{ print $1, "r" $1 }'
	fi >"$WORK/want"
	diff "$WORK/want" "$WORK/got" >"$WORK/diff" ||
		fail "-o $spec: expected offsets $first..$last: $(head -5 "$WORK/diff")"
	echo "$TEST: -o $spec: $(wc -l <"$WORK/got") records: ok"
}

consume beginning 0 99
consume 0 0 99
consume 42 42 99
consume -5 95 99
consume -100 0 99
consume 99 99 99
consume 100 100 99
consume 250 0 99 -X auto.offset.reset=earliest

# ---- -o end: only what is produced after the consumer reached the end ------------------
kcat_run -C -t off -o end -c 10 -f '%o %s\n' >"$WORK/tail" 2>"$WORK/tail.err" &
tail_pid=$!
for ((i = 0; i < 100; i++)); do
	grep -q 'Reached end of topic off \[0\] at offset 100' "$WORK/tail.err" && break
	kill -0 $tail_pid 2>/dev/null || break
	sleep 0.1
done
grep -q 'Reached end of topic off \[0\] at offset 100' "$WORK/tail.err" ||
	fail "-o end: the consumer did not reach offset 100: $(cat "$WORK/tail.err")"
seq 0 9 | sed 's/^/n/' | kcat_run -P -t off 2>"$WORK/err" || fail "kcat -P: $(cat "$WORK/err")"
wait $tail_pid || fail "-o end: the consumer exited $? (timeout is 124): $(cat "$WORK/tail.err")"
seq 0 9 | awk '{ print $1 + 100, "n" $1 }' | diff - "$WORK/tail" >"$WORK/diff" ||
	fail "-o end: expected n0..n9 at 100..109: $(head -5 "$WORK/diff")"
echo "$TEST: -o end: the 10 new records only: ok"

# ---- -o s@<timestamp> ----------------------------------------------------------------------
now_ms() { date +%s%3N; }
before_a=$(now_ms)
sleep 0.05
for run in A B C; do
	[ "$run" = A ] || {
		sleep 0.3
		eval "before_$run=\$(now_ms)"
		sleep 0.3
	}
	seq 0 29 | sed "s/^/$run/" | kcat_run -P -t ts -X linger.ms=50 2>"$WORK/err" ||
		fail "kcat -P run $run: $(cat "$WORK/err")"
done
sleep 0.05
after_c=$(now_ms)

kcat_run -C -t ts -o beginning -e -q -f '%o %T %s\n' >"$WORK/ts.all" 2>"$WORK/err" ||
	fail "kcat -C -t ts: $(cat "$WORK/err")"
[ "$(wc -l <"$WORK/ts.all")" -eq 90 ] || fail "topic ts: $(wc -l <"$WORK/ts.all") records, not 90"
# Timestamps are the producer's (CreateTime) and grow from run to run.
awk -v a="$before_a" -v b="$before_B" -v c="$before_C" -v z="$after_c" '
	{ run = substr($3, 1, 1); lo = run == "A" ? a : run == "B" ? b : c
	  hi = run == "A" ? b : run == "B" ? c : z
	  if ($2 < lo || $2 >= hi) { print "bad timestamp: " $0; exit 1 } }' "$WORK/ts.all" ||
	fail "CreateTime outside its run's window (A $before_a B $before_B C $before_C $after_c)"
c0_ts=$(awk '$3 == "C0" { print $2 }' "$WORK/ts.all")

# at timestamp first-offset: -o s@timestamp reads offsets first..89 of topic ts.
at() {
	local ts=$1 first=$2
	kcat_run -C -t ts -o "s@$ts" -e -q -f '%o %s\n' >"$WORK/got" 2>"$WORK/err" ||
		fail "kcat -C -o s@$ts exited $?: $(cat "$WORK/err")"
	awk -v f="$first" '$1 >= f { print $1, $3 }' "$WORK/ts.all" >"$WORK/want"
	diff "$WORK/want" "$WORK/got" >"$WORK/diff" ||
		fail "-o s@$ts: expected offsets $first..89: $(head -5 "$WORK/diff")"
	echo "$TEST: -o s@$ts: $(wc -l <"$WORK/got") records from offset $first: ok"
}

at "$before_a" 0
at "$before_B" 30
at "$before_C" 60
at "$c0_ts" 60
at $((after_c + 60000)) 90

taped_log_quiet
stop_taped || fail "taped exited $? after SIGTERM"
echo "$TEST: ok"
