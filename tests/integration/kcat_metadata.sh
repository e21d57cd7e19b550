#!/usr/bin/env bash
# tests/integration/kcat_metadata.sh: `kcat -L` (Metadata v4 through librdkafka 2.0.2) against
# a fresh taped: the one broker, at the advertised address and marked controller, and only
# the internal __consumer_offsets topic;
# then topics auto-created by producing (one with num.partitions, one from a second Metadata
# request) are listed with every partition led by broker 0, replicas and ISR 0, in the text
# and the JSON (-J) outputs, and `kcat -L -t` lists one topic alone.
set -uo pipefail
. "$(dirname "$0")/kcat_lib.sh"
kcat_require

start_taped "$WORK/data" --override num.partitions=3

kcat_run -L >"$WORK/empty.txt" 2>"$WORK/kcat.err" || fail "kcat -L: $(cat "$WORK/kcat.err")"
grep -qx ' 1 brokers:' "$WORK/empty.txt" || fail "brokers: $(cat "$WORK/empty.txt")"
grep -qx "  broker 0 at $TAPED_BROKER (controller)" "$WORK/empty.txt" ||
	fail "broker line: $(cat "$WORK/empty.txt")"
# The only topic of a fresh broker is the internal one that holds committed offsets.
grep -qx ' 1 topics:' "$WORK/empty.txt" || fail "expected one topic: $(cat "$WORK/empty.txt")"
grep -q '  topic "__consumer_offsets" with 50 partitions:' "$WORK/empty.txt" ||
	fail "expected __consumer_offsets: $(cat "$WORK/empty.txt")"

# Two topics, auto-created by the producer's Metadata request.
for t in alpha beta.two; do
	echo "hello $t" | kcat_run -P -t "$t" 2>"$WORK/kcat.err" ||
		fail "kcat -P -t $t: $(cat "$WORK/kcat.err")"
done

kcat_run -L >"$WORK/all.txt" 2>"$WORK/kcat.err" || fail "kcat -L: $(cat "$WORK/kcat.err")"
grep -qx "  broker 0 at $TAPED_BROKER (controller)" "$WORK/all.txt" || fail "broker line"
grep -qx ' 3 topics:' "$WORK/all.txt" || fail "topics: $(cat "$WORK/all.txt")"
for t in alpha beta.two; do
	grep -qx "  topic \"$t\" with 3 partitions:" "$WORK/all.txt" ||
		fail "topic $t: $(cat "$WORK/all.txt")"
done
for p in 0 1 2; do
	n=$(grep -cx "    partition $p, leader 0, replicas: 0, isrs: 0" "$WORK/all.txt")
	[ "$n" -eq 3 ] || fail "partition $p is listed $n times, expected 3 (two topics and __consumer_offsets): $(cat "$WORK/all.txt")"
done
grep -q 'err' "$WORK/all.txt" && fail "an error in the listing: $(cat "$WORK/all.txt")"

# One topic only.
kcat_run -L -t alpha >"$WORK/one.txt" 2>"$WORK/kcat.err" ||
	fail "kcat -L -t alpha: $(cat "$WORK/kcat.err")"
grep -qx ' 1 topics:' "$WORK/one.txt" || fail "kcat -L -t alpha: $(cat "$WORK/one.txt")"
grep -qx '  topic "alpha" with 3 partitions:' "$WORK/one.txt" || fail "kcat -L -t alpha"

# JSON: the same facts, parsed.
kcat_run -L -J >"$WORK/all.json" 2>"$WORK/kcat.err" || fail "kcat -L -J: $(cat "$WORK/kcat.err")"
if command -v python3 >/dev/null; then
	python3 - "$WORK/all.json" "$TAPED_PORT" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
port = int(sys.argv[2])
assert m["controllerid"] == 0, m
assert m["brokers"] == [{"id": 0, "name": "127.0.0.1:%d" % port}], m["brokers"]
topics = {t["topic"]: t for t in m["topics"] if t["topic"] != "__consumer_offsets"}
assert sorted(topics) == ["alpha", "beta.two"], topics
for t in topics.values():
    assert "error" not in t, t
    parts = sorted(t["partitions"], key=lambda p: p["partition"])
    assert [p["partition"] for p in parts] == [0, 1, 2], parts
    for p in parts:
        assert p["leader"] == 0 and p["replicas"] == [{"id": 0}] and p["isrs"] == [{"id": 0}], p
PY
	[ $? -eq 0 ] || fail "kcat -L -J: $(cat "$WORK/all.json")"
else
	echo "$TEST: python3 missing: the JSON listing is not checked" >&2
fi

stop_taped || fail "taped exited $? after SIGTERM"
echo "$TEST: ok"
