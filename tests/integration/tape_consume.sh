#!/usr/bin/env bash
# tests/integration/tape_consume.sh: `tape consume` against a real taped, with kcat (librdkafka)
# as the independent reference on both sides.
#
#   - records kcat produced with keys (-K:), two headers (-H) and each codec (-z none, gzip,
#     snappy, lz4, zstd) are printed by `tape consume -e -f FMT` exactly as `kcat -C -e -f FMT`
#     prints them, FMT using every token (%t %p %o %T %k %s %h %S %K) and the escapes; the
#     same for a 4-partition topic read whole (compared sorted by partition and offset);
#   - `tape produce` -> `tape consume` round trip: 2000 lines with keys, values byte for byte,
#     in order (default format "%s\n");
#   - -p (repeated and comma lists), -o beginning|end|N|-N, -o @TIME with TIME as epoch ms,
#     RFC 3339 (Z and +01:00), relative (-1h) and kcat's s@ms, checked against timestamps of
#     records produced before and after a known instant (and against kcat -o s@ms);
#   - -c N stops after N records, -e exits after the end of every partition (an empty one
#     too), "reached end" status lines on stderr and none with -q, nothing on stdout but data;
#   - --json: every line parsed by python3's json module, fields as produced, null key and
#     value as null, header order kept, bytes that are not UTF-8 as \u00XX;
#   - several topics at once; SIGTERM stops a consume that follows the tail, exit 0, output
#     flushed.
set -uo pipefail
TEST_NAME=tape_consume
. "$(dirname "$0")/lib.sh"

command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"
command -v python3 >/dev/null || skip "python3 is not installed"
tape=$BUILD/bin/tape
[ -x "$tape" ] || fail "$tape is not built"
work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
start_taped "$work" num.partitions=1
B=$TAPED_BOOTSTRAP
kc() { timeout 30 kcat -b "$B" "$@"; }
tc() { timeout 30 "$tape" consume -b "$B" "$@"; }

FMT='%t|%p|%o|%T|%k|%s|%h|%S|%K\n'
# Lines "key-i:value" with values of varying length and compressibility.
awk 'BEGIN {
	for (i = 0; i < 500; i++) {
		v = sprintf("value %d ", i)
		len = (i * 37) % 300
		for (j = 0; length(v) < len; j++)
			v = v (i % 3 == 0 ? "aaaaaaaa" : sprintf("%x-", i * 7919 + j * 104729))
		printf "key-%d:%s\n", i, v
	}
}' >"$work/input"

# ---- kcat-produced records, every codec -----------------------------------------------------
for z in none gzip snappy lz4 zstd; do
	kc -P -t "k-$z" -K: -z "$z" -H h1=one -H "trace=x y" <"$work/input" ||
		fail "kcat -P -z $z failed"
	kc -C -e -q -t "k-$z" -o beginning -f "$FMT" >"$work/want" || fail "kcat -C $z failed"
	[ "$(wc -l <"$work/want")" -eq 500 ] || fail "$z: kcat read $(wc -l <"$work/want")"
	tc -e -q -f "$FMT" "k-$z" >"$work/got" 2>"$work/err" || fail "$z: exit $?: $(cat "$work/err")"
	cmp -s "$work/want" "$work/got" ||
		fail "$z: tape consume differs from kcat: $(diff "$work/want" "$work/got" | head -5)"
	[ -s "$work/err" ] && fail "$z: -q printed: $(cat "$work/err")"
done
echo "$TEST_NAME: kcat-produced records, every codec, every token: ok"

# ---- tape produce -> tape consume ------------------------------------------------------------
timeout 30 "$tape" produce -b "$B" -q -K: rt <"$work/input" || fail "tape produce failed"
cut -d: -f2- "$work/input" >"$work/values"
tc -e rt >"$work/got" 2>"$work/err" || fail "round trip: exit $?"
cmp -s "$work/values" "$work/got" || fail "round trip: values differ: $(diff "$work/values" "$work/got" | head -3)"
[ "$(cat "$work/err")" = 'reached end of "rt" partition 0 at offset 500' ] ||
	fail "round trip: stderr: $(cat "$work/err")"
tc -e -q -f '%k\n' rt >"$work/got" || fail "keys: exit $?"
cut -d: -f1 "$work/input" | cmp -s - "$work/got" || fail "round trip: keys differ"
echo "$TEST_NAME: tape produce -> tape consume: ok"

# ---- -o ------------------------------------------------------------------------------------
# One partition topic "rt" has offsets 0..499.
check_o() { # -o value, expected first offset, expected count
	tc -e -q -f '%o\n' -o "$1" rt >"$work/got" || fail "-o $1: exit $?"
	local n first
	n=$(wc -l <"$work/got")
	first=$(head -1 "$work/got")
	[ "$n" -eq "$3" ] || fail "-o $1: $n records, not $3"
	[ "$3" -eq 0 ] || [ "$first" = "$2" ] || fail "-o $1: starts at $first, not $2"
}
check_o beginning 0 500
check_o 0 0 500
check_o 123 123 377
check_o -10 490 10
check_o -1000 0 500
check_o end - 0
check_o 499 499 1
echo "$TEST_NAME: -o beginning|end|N|-N: ok"

# ---- several partitions, -p: a taped whose auto-created topics have 4 partitions ----------
stop_taped
start_taped "$work" num.partitions=4
B=$TAPED_BOOTSTRAP
for p in 0 1 2 3; do
	seq $((p * 100)) $((p * 100 + 9)) | timeout 30 "$tape" produce -b "$B" -q -p $p four ||
		fail "produce -p $p"
done
timeout 30 "$tape" produce -b "$B" -q -K: -z lz4 keyed <"$work/input" || fail "produce keyed"
kc -C -e -q -t keyed -o beginning -f "$FMT" | sort -t'|' -k2,2n -k3,3n >"$work/want"
tc -e -q -f "$FMT" keyed | sort -t'|' -k2,2n -k3,3n >"$work/got"
[ "$(cut -d'|' -f2 "$work/got" | sort -u | wc -l)" -eq 4 ] || fail "keyed: not 4 partitions"
cmp -s "$work/want" "$work/got" || fail "keyed: 4 partitions differ from kcat"
tc -e -q -p 1 -p 3 -f '%p:%s\n' four | sort >"$work/got"
(seq 100 109 | sed 's/^/1:/'; seq 300 309 | sed 's/^/3:/') | sort >"$work/want"
cmp -s "$work/want" "$work/got" || fail "-p 1 -p 3: $(head -3 "$work/got")"
tc -e -q -p 0,2 -f '%p:%s\n' four | sort >"$work/got"
(seq 0 9 | sed 's/^/0:/'; seq 200 209 | sed 's/^/2:/') | sort >"$work/want"
cmp -s "$work/want" "$work/got" || fail "-p 0,2: $(head -3 "$work/got")"
tc -e -p 3 -o end four >"$work/got" 2>"$work/err" || fail "-p 3 -o end: exit $?"
[ -s "$work/got" ] && fail "-o end printed records"
[ "$(cat "$work/err")" = 'reached end of "four" partition 3 at offset 10' ] ||
	fail "-o end: stderr: $(cat "$work/err")"
echo "$TEST_NAME: -p (repeated, comma list): ok"

# ---- -o @TIME ----------------------------------------------------------------------------
seq 1 20 | sed 's/^/before-/' | timeout 30 "$tape" produce -b "$B" -q -p 0 timed
sleep 1.2
T=$(python3 -c 'import time; print(int(time.time() * 1000))')
sleep 0.2
seq 1 15 | sed 's/^/after-/' | kc -P -t timed -p 0
RFC=$(python3 -c "import datetime; print(datetime.datetime.fromtimestamp($T / 1000, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z')")
RFC1=$(python3 -c "import datetime; tz = datetime.timezone(datetime.timedelta(hours=1)); print(datetime.datetime.fromtimestamp($T / 1000, tz).isoformat(timespec='milliseconds'))")
kc -C -e -q -t timed -p 0 -o "s@$T" -f '%o %s\n' >"$work/want"
[ "$(wc -l <"$work/want")" -eq 15 ] || fail "kcat -o s@$T read $(wc -l <"$work/want")"
for spec in "@$T" "@$RFC" "@$RFC1" "s@$T"; do
	tc -e -q -p 0 -o "$spec" -f '%o %s\n' timed >"$work/got" || fail "-o $spec: exit $?"
	cmp -s "$work/want" "$work/got" || fail "-o $spec: $(head -2 "$work/got") ..."
done
tc -e -q -p 0 -o @-1h -f '%s\n' timed | wc -l | grep -qx 35 || fail "-o @-1h does not read all 35"
tc -e -q -p 0 -o @-1h -f '%T\n' timed | awk -v t="$T" '$1 < t - 3600000 { bad = 1 } END { exit bad }' ||
	fail "%T: timestamps out of range"
tc -e -q -p 0 -o "@$((T + 3600000))" timed | wc -l | grep -qx 0 || fail "-o @future read records"
echo "$TEST_NAME: -o @TIME (ms, RFC 3339 Z and +01:00, -1h, s@): ok"

# ---- -c, -e, several topics -----------------------------------------------------------------
tc -q -c 7 -f '%s\n' -p 0 timed >"$work/got" || fail "-c 7: exit $?"
[ "$(wc -l <"$work/got")" -eq 7 ] || fail "-c 7 printed $(wc -l <"$work/got")"
tc -e -q -c 1000 -f '%t %s\n' timed four >"$work/got" || fail "two topics: exit $?"
[ "$(grep -c '^timed ' "$work/got")" -eq 35 ] || fail "two topics: timed"
[ "$(grep -c '^four ' "$work/got")" -eq 40 ] || fail "two topics: four"
tc -e -f '' timed four >"$work/got" 2>"$work/err" || fail "-e status lines: exit $?"
[ "$(grep -c "^reached end of " "$work/err")" -eq 8 ] || fail "-e: $(cat "$work/err")"
echo "$TEST_NAME: -c, -e, several topics: ok"

# ---- --json --------------------------------------------------------------------------------
printf 'k1\tplain\nk2\tquote " back \\ tab\x01\n\tno key\nk4\t\xff\xfebin\xc3\xa9\n' |
	kc -P -t js -p 0 -K '\t' -Z -H a=1 -H b=2 -H a=3
tc -e -q --json js >"$work/got" || fail "--json: exit $?"
python3 - "$work/got" <<'PY' || fail "--json: the objects are not as produced"
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
recs = [json.loads(l) for l in lines]
assert len(recs) == 4, recs
for i, r in enumerate(recs):
    assert r["topic"] == "js" and r["partition"] == 0 and r["offset"] == i, r
    assert isinstance(r["timestamp"], int) and r["timestamp"] > 1600000000000, r
    assert r["headers"] == [{"name": "a", "value": "1"}, {"name": "b", "value": "2"},
                            {"name": "a", "value": "3"}], r["headers"]
assert recs[0]["key"] == "k1" and recs[0]["value"] == "plain"
assert recs[1]["value"] == 'quote " back \\ tab\x01', recs[1]
assert recs[2]["key"] is None and recs[2]["value"] == "no key", recs[2]
assert recs[3]["value"] == "\u00ff\u00febin\u00e9", recs[3]
assert '\\u00ff\\u00febin\u00e9' in lines[3], lines[3]
PY
echo "$TEST_NAME: --json: ok"

# ---- SIGTERM while following the tail --------------------------------------------------------
"$tape" consume -b "$B" -q -p 0 -f '%s\n' timed >"$work/got" 2>"$work/err" &
pid=$!
for ((i = 0; i < 50; i++)); do
	[ "$(wc -l <"$work/got")" -ge 35 ] && break
	sleep 0.1
done
kill -TERM $pid
for ((i = 0; i < 50; i++)); do
	kill -0 $pid 2>/dev/null || break
	sleep 0.1
done
kill -0 $pid 2>/dev/null && { kill -KILL $pid; fail "SIGTERM did not stop tape consume"; }
wait $pid
rc=$?
[ $rc -eq 0 ] || fail "SIGTERM: exit $rc: $(cat "$work/err")"
[ "$(wc -l <"$work/got")" -eq 35 ] || fail "SIGTERM: $(wc -l <"$work/got") lines written"
echo "$TEST_NAME: SIGTERM stops cleanly: ok"

stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
