#!/usr/bin/env bash
# tests/integration/tape_produce_partitioner.sh: keys land where Java's producer would put
# them. librdkafka's murmur2_random partitioner is Java's for keyed records, so the reference
# is kcat -P -X partitioner=murmur2_random with the same keys into a topic with the same
# number of partitions (7, and 1 and 12 for the edges of the modulo):
#
#   - 400 keys (every length from 1 to 50 bytes, the Java UtilsTest keys, digits, UTF-8,
#     bytes that need escaping in none of the tools' formats) go through `tape produce -K:` and
#     through kcat; `kcat -C -f '%k %p'` of both topics, sorted, must be identical;
#   - one anchor independent of librdkafka: key "21" (UtilsTest: murmur2 = -973932308) is on
#     partition (-973932308 & 0x7fffffff) % 7 = 1173551340 % 7;
#   - -k KEY (one key for every record) lands on the same partition as kcat's.
set -uo pipefail
TEST_NAME=tape_produce_partitioner
. "$(dirname "$0")/lib.sh"

command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"
tape=$BUILD/bin/tape
[ -x "$tape" ] || fail "$tape is not built"
work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
start_taped "$work" num.partitions=7
B=$TAPED_BOOTSTRAP
kc() { timeout 30 kcat -b "$B" "$@"; }

{
	for k in 21 foobar a-little-bit-long-string a-little-bit-longer-string \
		lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8 abc kafka giberish123456789 \
		1234 234 34 4 PreAmbleWillBeRemoved,ThePrePartThatIs hejsan 23456 'grüße' 'ключ' '键'; do
		echo "$k:value of $k"
	done
	awk 'BEGIN { for (n = 1; n <= 50; n++) { k = ""; for (i = 0; i < n; i++)
		k = k sprintf("%c", 97 + (n * 7 + i * 3) % 26); print k ":len " n } }'
	for ((i = 0; i < 332; i++)); do echo "order-$((i * 7919 % 100003)):v$i"; done
} >"$work/input"
n=$(wc -l <"$work/input")

# placements PARTITIONS: tape and kcat into two topics, then "key partition" of each, sorted.
placements() {
	local parts=$1 t=tape-p$1 k=kcat-p$1
	[ "$parts" = 7 ] || {
		# Topics with another partition count: a taped of their own.
		stop_taped || fail "taped did not stop cleanly"
		rm -rf "$work/data" "$work/taped.out" # start_taped reads the port from taped.out
		start_taped "$work" num.partitions="$parts"
		B=$TAPED_BOOTSTRAP
	}
	timeout 60 "$tape" produce -b "$B" -K: "$t" <"$work/input" 2>"$work/p.err" ||
		fail "$t: tape produce: $(cat "$work/p.err")"
	kc -P -t "$k" -K: -X partitioner=murmur2_random <"$work/input" 2>"$work/k.err" ||
		fail "$k: kcat -P: $(cat "$work/k.err")"
	kc -C -t "$t" -o beginning -c "$n" -q -f '%k %p\n' | sort >"$work/$t" ||
		fail "$t: kcat -C"
	kc -C -t "$k" -o beginning -c "$n" -q -f '%k %p\n' | sort >"$work/$k" ||
		fail "$k: kcat -C"
	[ "$(wc -l <"$work/$t")" -eq "$n" ] || fail "$t: read $(wc -l <"$work/$t") of $n"
	diff "$work/$k" "$work/$t" >"$work/diff" ||
		fail "$parts partitions: tape and librdkafka disagree (< kcat, > tape): $(head -10 "$work/diff")"
	echo "$TEST_NAME: $n keys over $parts partitions: the same placement as librdkafka's murmur2"
}

placements 7
want=$((1173551340 % 7))
grep -qx "21 $want" "$work/tape-p7" || fail "key 21 is not on partition $want: $(grep '^21 ' "$work/tape-p7")"
[ "$(cut -d' ' -f2 "$work/tape-p7" | sort -u | wc -l)" -eq 7 ] || fail "keys missed a partition"

# -k: one key for every record.
printf 'x\ny\n' | timeout 30 "$tape" produce -b "$B" -k hejsan tape-k 2>/dev/null ||
	fail "tape produce -k"
printf 'hejsan:x\nhejsan:y\n' | kc -P -t kcat-k -K: -X partitioner=murmur2_random ||
	fail "kcat -P -k"
[ "$(kc -C -t tape-k -o beginning -c 2 -q -f '%p\n' | sort -u)" = \
	"$(kc -C -t kcat-k -o beginning -c 2 -q -f '%p\n' | sort -u)" ] ||
	fail "-k hejsan: a partition other than kcat's"

placements 1
placements 12
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
