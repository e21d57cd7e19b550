#!/usr/bin/env bash
# tests/integration/arena_many_partitions.sh: requests whose answer is far larger than the
# request: a request's arena is bounded by a multiple of its frame, but a Fetch's state per
# partition (~1 KiB) and a Metadata answer's partitions come from the broker. Before the fix a
# Fetch of more than ~4 partitions closed the connection ("out of memory": kcat could not read a
# 6-partition topic) and a Metadata answer past ~70 partitions listed topics with none.
#
# A 200-partition topic beside __consumer_offsets (50): Metadata v0/v4/v7, all topics and by
# name, lists every partition of both; one record per partition, then one Fetch (v4 and v11) of
# all 200 partitions returns each; kcat -L sees 200 partitions and kcat -C reads the 200 records.
set -uo pipefail
TEST_NAME=arena_many_partitions
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"

work=$(mktemp -d)
trap 'stop_taped; rm -rf "$work"' EXIT
start_taped "$work"
(cd "$LIB_DIR" && timeout 60 python3 - "$TAPED_PORT" <<'PY') || fail "see above"
import sys
import rawkafka as rk

N = 200
c = rk.Conn("127.0.0.1", int(sys.argv[1]), timeout=20)
assert c.create_topics([("wide", N, 1)]) == {"wide": 0}
for v in (0, 4, 7):
    for topics in ((None, ["wide", "__consumer_offsets"]) if v else (None,)):
        _, t = c.metadata(version=v, topics=topics)
        for name, want in (("wide", N), ("__consumer_offsets", 50)):
            err, parts = t[name]
            if err or len(parts) != want:
                sys.exit("Metadata v%d %s: %s error %d, %d partitions" %
                         (v, "all" if topics is None else "named", name, err, len(parts)))
for p in range(N):
    err, base = c.produce_one("wide", p, rk.record_batch([b"v%d" % p]), acks=-1)
    assert err == 0 and base == 0, (p, err, base)
for v in (4, 11):
    got = c.fetch([("wide", [(p, 0) for p in range(N)])], version=v)
    for p in range(N):
        err, hw, data = got[("wide", p)]
        recs = [val for _, _, val in rk.batch_records(data)]
        if err or hw != 1 or recs != [b"v%d" % p]:
            sys.exit("Fetch v%d of %d partitions: partition %d: error %d hw %d %r" %
                     (v, N, p, err, hw, recs))
print("arena_many_partitions: Metadata and Fetch of %d partitions: ok" % N)
PY
parts=$(timeout 20 kcat -b "$TAPED_BOOTSTRAP" -L -t wide | grep -c 'partition [0-9]*, leader')
[ "$parts" -eq 200 ] || fail "kcat -L lists $parts partitions of wide, not 200"
read=$(timeout 30 kcat -b "$TAPED_BOOTSTRAP" -C -t wide -e -q -f '%s\n' 2>"$work/kcat.err" |
	sort -u | wc -l)
[ "$read" -eq 200 ] || fail "kcat -C read $read records of 200: $(tail -3 "$work/kcat.err")"
grep -q 'out of memory' "$work/taped.err" && fail "taped: $(grep -m3 'out of memory' "$work/taped.err")"
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
