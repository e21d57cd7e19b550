#!/usr/bin/env bash
# tests/integration/kcat_clean_restart.sh: a clean stop (SIGTERM) and restart keeps every
# record and needs no recovery.
#
# Two topics of 3 partitions with 64 KiB segments (so sealed segments and an active one):
# "plain", 30000 keyed records in gzip and zstd runs, and "idem", 10000 from an idempotent
# producer. Read back before the stop. SIGTERM: taped exits 0 having said "stopped", with no
# warning; every partition's checkpoint says clean and `tape verify` passes on it. Restarted,
# it logs no "recovery cut" and no warning at all, and the read is identical, record for
# record; new records continue at the next offsets. Twice.
#
# The negative control, so that the absence of "recovery cut" means something: SIGKILL, junk
# written where the last partition's data ends (a torn append), restart: taped must log
# "recovery cut" for that partition, and still serve every record.
set -uo pipefail
. "$(dirname "$0")/kcat_lib.sh"
kcat_require
tape=$BUILD/bin/tape
[ -x "$tape" ] || fail "$tape is not built"

data=$WORK/data
overrides=(--override num.partitions=3 --override log.segment.bytes=65536)
start_taped "$data" "${overrides[@]}"

# produce topic first count [kcat options...]: keyed records first..first+count-1.
produce() {
	local topic=$1 first=$2 count=$3
	shift 3
	awk -v f="$first" -v n="$count" 'BEGIN {
		for (i = f; i < f + n; i++)
			printf "k%d:value %d %s\n", i % 97, i, substr("abcdefghij", 1 + i % 10)
	}' | kcat_run -P -t "$topic" -K: -X acks=all "$@" 2>"$WORK/p.err" ||
		fail "kcat -P -t $topic exited $?: $(cat "$WORK/p.err")"
	[ -s "$WORK/p.err" ] && fail "kcat -P -t $topic said: $(cat "$WORK/p.err")"
}

# read_all file: both topics, every record as "topic partition offset timestamp key value".
read_all() {
	local t
	for t in plain idem; do
		kcat_run -C -t $t -o beginning -e -q -f "$t %p %o %T %k %s\n" 2>"$WORK/c.err" ||
			fail "kcat -C -t $t exited $?: $(cat "$WORK/c.err")"
	done | sort -k1,1 -k2,2n -k3,3n >"$1"
}

produce plain 0 15000 -z gzip
produce plain 15000 15000 -z zstd
produce idem 0 10000 -X enable.idempotence=true
read_all "$WORK/before"
[ "$(wc -l <"$WORK/before")" -eq 40000 ] || fail "read $(wc -l <"$WORK/before") records, not 40000"
segments=$(ls "$data"/plain-*/*.log | wc -l)
[ "$segments" -gt 3 ] || fail "expected several segments per partition, found $segments in all"

for cycle in 1 2; do
	stop_taped || fail "cycle $cycle: taped exited $? after SIGTERM"
	grep -q 'INFO .* stopped$' "$TAPED_LOG" || fail "cycle $cycle: no \"stopped\" in the log"
	taped_log_quiet "cycle $cycle: the stop"
	for p in "$data"/plain-* "$data"/idem-*; do
		"$tape" dump "$p/partition.checkpoint" >"$WORK/cp" 2>&1 ||
			fail "tape dump $p: $(cat "$WORK/cp")"
		grep -q ' clean: true ' "$WORK/cp" ||
			fail "cycle $cycle: $p not clean: $(cat "$WORK/cp")"
		"$tape" verify "$p" >"$WORK/verify" 2>&1 ||
			fail "tape verify $p: $(cat "$WORK/verify")"
	done

	start_taped "$data" "${overrides[@]}"
	grep -q 'recovery cut' "$TAPED_LOG" &&
		fail "cycle $cycle: $(grep -m1 'recovery cut' "$TAPED_LOG")"
	read_all "$WORK/after"
	diff "$WORK/before" "$WORK/after" >"$WORK/diff" ||
		fail "cycle $cycle: the read after the restart differs: $(head -5 "$WORK/diff")"
	taped_log_quiet "cycle $cycle: the restart"

	# New records go after the old ones, at the next offsets.
	produce plain $((30000 + cycle * 100)) 100
	read_all "$WORK/before"
	[ "$(wc -l <"$WORK/before")" -eq $((40000 + cycle * 100)) ] ||
		fail "cycle $cycle: $(wc -l <"$WORK/before") records after 100 more"
	awk '$1 == "plain" { if ($2 != p) { p = $2; o = 0 } if ($3 != o++) { print; exit 1 } }' \
		"$WORK/before" >"$WORK/bad" ||
		fail "cycle $cycle: offsets not contiguous: $(cat "$WORK/bad")"
	echo "$TEST: cycle $cycle: SIGTERM, restart, $(wc -l <"$WORK/before") records," \
		"no recovery: ok"
done

# ---- the negative control: a torn append is cut, and says so ------------------------------
kill_taped
p=$data/plain-2
seg=$(ls "$p"/*.log | sort | tail -1)
end=$("$tape" dump "$seg" | sed -n 's/^End of data at position \([0-9]*\):.*/\1/p')
[ -n "$end" ] || fail "tape dump $seg: no end of data"
# 40 bytes of a batch header that promises more than follows.
printf '\0\0\0\0\0\0\x75\x30\0\0\x10\0\0\0\0\0\x02AAAAAAAAAAAAAAAAAAAAAAA' |
	dd of="$seg" bs=1 seek="$end" conv=notrunc status=none
start_taped "$data" "${overrides[@]}"
grep -q "WARN .*plain-2: recovery cut" "$TAPED_LOG" ||
	fail "no recovery cut after a torn append: $(cat "$TAPED_LOG")"
read_all "$WORK/after"
diff "$WORK/before" "$WORK/after" >"$WORK/diff" ||
	fail "the read after the cut differs: $(head -5 "$WORK/diff")"
echo "$TEST: a torn append is cut and logged, every record kept: ok"

stop_taped || fail "taped exited $? after SIGTERM"
echo "$TEST: ok"
