#!/usr/bin/env bash
# tests/integration/cluster_group_failover.sh: a consumer group keeps its committed offsets
# when its coordinator's broker dies (RELIABILITY.md "consumer-group churn and coordinator
# kill", S7/S8). Three brokers on one etcd, __consumer_offsets with 3 partitions and 3 replicas,
# a topic gt with 3 partitions and 3 replicas holding N records with distinct values.
#
#   1. member A (`tape consume -g G -c 1200`) reads 1200 records and exits cleanly: its final
#      commit is acknowledged (exit status 0), and it is exactly what A printed (OffsetFetch).
#   2. The coordinator (FindCoordinator, asked with rawkafka.py) is killed with SIGKILL while
#      the group has no member. A new coordinator, the new leader of the group's
#      __consumer_offsets partition, must have loaded the commits: member B joins and is
#      assigned every partition "from committed offset" A's commit, and starts there.
#   3. With B running, B's coordinator (the new one) is killed too; more records are produced;
#      B keeps reading (it finds the next coordinator) and stops cleanly with a final commit.
#   4. Checks: per partition, A's offsets and B's offsets each go up by one (S7: B may go back
#      only to an offset it had committed, never before A's commit); nothing is skipped
#      (every record produced is printed by A or B); the committed offsets after each kill are
#      >= the last acknowledged commit (S8), and `tape groups describe` shows the final ones;
#      the killed brokers come back and every __consumer_offsets partition regains 3 in-sync
#      replicas.
set -uo pipefail
TEST_NAME=cluster_group_failover
. "$(dirname "$0")/cluster_lib.sh"
command -v kcat >/dev/null || skip "kcat is not installed"
work=$(mktemp -d)
declare -A PIDS=()
cleanup() {
	local n
	for n in "${!PIDS[@]}"; do kill -KILL "${PIDS[$n]}" 2>/dev/null && wait "${PIDS[$n]}" 2>/dev/null; done
	cluster_cleanup
	[ -n "${KEEP:-}" ] || rm -rf "$work"; [ -n "${KEEP:-}" ] && echo "kept $work"
}
trap cleanup EXIT

G=failover-g
OFFSETS_PARTS=3
start_etcd "$work"
for id in 0 1 2; do
	start_broker "$work" "$id" default.replication.factor=3 min.insync.replicas=2 \
		offsets.topic.replication.factor=3 offsets.topic.num.partitions=$OFFSETS_PARTS \
		group.initial.rebalance.delay.ms=0 replica.lag.time.max.ms=3000 \
		broker.session.timeout.ms=4000
done
B=$(cluster_bootstrap)
for ((i = 0; ; i++)); do
	timeout 30 "$TAPE" topics -b "$B" create gt -p 3 -r 3 2>"$work/create.err" >/dev/null && break
	[ "$i" -lt 50 ] && grep -q 'above the live brokers' "$work/create.err" ||
		fail "create: $(cat "$work/create.err")"
	sleep 0.2
done
for p in 0 1 2; do wait_isr gt "$p" 3; done

# probe coord|committed GROUP [NOT]: the coordinator's node id, or "P OFFSET" per partition of
# gt as the coordinator answers OffsetFetch (-1, nothing committed, printed as 0); retried (any
# broker, any error, a coordinator that is node NOT) for up to 40 s.
probe() {
	timeout 60 python3 - "$LIB_DIR" "$B" "$@" <<'PY'
import sys, time
sys.path.insert(0, sys.argv[1])
import rawkafka as rk
brokers = [(h, int(p)) for h, p in (x.rsplit(":", 1) for x in sys.argv[2].split(","))]
what, group = sys.argv[3], sys.argv[4]
avoid = int(sys.argv[5]) if len(sys.argv) > 5 else -1
deadline = time.monotonic() + 40
last = "nothing"
while time.monotonic() < deadline:
    for host, port in brokers:
        try:
            c = rk.Conn(host, port, timeout=3)
            err, node, chost, cport = c.find_coordinator(group)
            c.close()
            if err:
                last = "FindCoordinator error %d from %s:%d" % (err, host, port)
                continue
            if node == avoid:
                last = "the coordinator is still node %d" % node
                continue
            if what == "coord":
                print(node)
                sys.exit(0)
            c = rk.Conn(chost, cport, timeout=3)
            gerr, offs = c.offset_fetch(group, [("gt", [0, 1, 2])], version=5)
            c.close()
            errs = [v[2] for v in offs.values()]
            if gerr or any(errs) or len(offs) != 3:
                last = "OffsetFetch from node %d: group error %d, %r" % (node, gerr, offs)
                continue
            for (t, p), (off, _, _) in sorted(offs.items()):
                print(p, max(off, 0))
            sys.exit(0)
        except Exception as e:  # a dead broker, a reset: try the next
            last = "%s:%d: %r" % (host, port, e)
    time.sleep(0.2)
sys.exit("probe %s %s: gave up: %s" % (what, group, last))
PY
}

offsets_isr_full() {
	local p
	for ((p = 0; p < OFFSETS_PARTS; p++)); do wait_isr __consumer_offsets "$p" 3 "${1:-30}"; done
}

N=3000
produced=0
produce() { # count prefix
	seq -f "$2-%g" "$1" | awk '{ print $1 ":" $1 }' | timeout 30 kcat -P -b "$B" -t gt -K: \
		-X acks=all -X message.timeout.ms=15000 2>"$work/kcat.err" ||
		fail "produce $2: $(cat "$work/kcat.err")"
	produced=$((produced + $1))
}
produce "$N" a

member_opts=(-g "$G" -X session.timeout.ms=6000 -X heartbeat.interval.ms=500
	-X auto.commit.interval.ms=300 -f '%p %o %s\n')

# ---- 1. A reads 1200 and commits exactly that -------------------------------------------------
coord=$(probe coord "$G") || fail "no coordinator for $G"
offsets_isr_full
timeout 60 "$TAPE" consume -b "$B" "${member_opts[@]}" -c 1200 gt >"$work/a.out" 2>"$work/a.err" ||
	fail "member A exited $?: $(tail -3 "$work/a.err")"
[ "$(grep -c . "$work/a.out")" -eq 1200 ] || fail "A printed $(grep -c . "$work/a.out") records"
# A's acknowledged commit: one past the last offset it printed, per partition; 0 for one it
# printed nothing from (where it may commit 0 or nothing: the probe prints -1 as 0).
for p in 0 1 2; do
	echo "$p $(awk -v p="$p" '$1 == p { n = $2 + 1 } END { print n + 0 }' "$work/a.out")"
done >"$work/commit-a"
probe committed "$G" >"$work/fetched-1" || fail "OffsetFetch after A"
diff "$work/commit-a" "$work/fetched-1" >/dev/null ||
	fail "committed after A $(tr '\n' ' ' <"$work/fetched-1"), A printed up to $(tr '\n' ' ' <"$work/commit-a")"
echo "$TEST_NAME: A committed $(tr '\n' ' ' <"$work/commit-a")(coordinator $coord)"

# ---- 2. the coordinator dies while the group is empty ----------------------------------------
kill_broker "$coord" KILL
killed1=$coord
coord2=$(probe coord "$G" "$coord") || fail "no coordinator after killing broker $coord"
[ "$coord2" != "$coord" ] || fail "the coordinator is still the dead broker $coord"
probe committed "$G" "$coord" >"$work/fetched-2" || fail "OffsetFetch after the first kill"
# S8: committed >= the last acknowledged commit.
paste "$work/commit-a" "$work/fetched-2" | awk '$4 < $2 { bad = bad " [" $1 "] " $4 " < " $2 }
	END { if (bad != "") { print "S8:" bad; exit 1 } }' >"$work/s8-2" ||
	fail "the new coordinator $coord2 lost commits: $(cat "$work/s8-2")"
echo "$TEST_NAME: coordinator $coord killed; $coord2 coordinates, committed $(tr '\n' ' ' <"$work/fetched-2")"

"$TAPE" consume -b "$B" "${member_opts[@]}" gt >"$work/b.out" 2>"$work/b.err" &
PIDS[b]=$!
for ((i = 0; i < 300; i++)); do
	grep -q '^assigned 3 partitions' "$work/b.err" && break
	kill -0 "${PIDS[b]}" 2>/dev/null || fail "member B exited: $(tail -3 "$work/b.err")"
	sleep 0.1
done
grep -q '^assigned 3 partitions' "$work/b.err" || fail "B was not assigned 3 partitions: $(tail -3 "$work/b.err")"
for p in 0 1 2; do
	want=$(awk -v p="$p" '$1 == p { print $2 }' "$work/commit-a")
	grep -m1 '^assigned 3 partitions' "$work/b.err" |
		grep -qE "\"gt\" \[$p\] (from committed offset $want\b|\(nothing committed\))" ||
		fail "B's assignment of gt-$p does not start at A's commit $want: $(grep -m1 '^assigned' "$work/b.err")"
	[ "$want" -eq 0 ] || ! grep -m1 '^assigned 3 partitions' "$work/b.err" | grep -qF "\"gt\" [$p] (nothing" ||
		fail "B found nothing committed for gt-$p, A committed $want"
done
# B reads what is left.
for ((i = 0; i < 300; i++)); do
	[ "$(grep -c . "$work/b.out")" -ge $((N - 1200)) ] && break
	sleep 0.1
done
[ "$(grep -c . "$work/b.out")" -ge $((N - 1200)) ] || fail "B read $(grep -c . "$work/b.out") of $((N - 1200))"
sleep 1 # an auto commit or two

# ---- 3. B's coordinator dies while B runs ------------------------------------------------------
restart_broker "$killed1"
offsets_isr_full 60
coord3=$(probe coord "$G") || fail "no coordinator before the second kill"
probe committed "$G" >"$work/fetched-3" || fail "OffsetFetch before the second kill"
kill_broker "$coord3" KILL
echo "$TEST_NAME: coordinator $coord3 killed while B runs (committed $(tr '\n' ' ' <"$work/fetched-3"))"
produce 600 c
for ((i = 0; i < 400; i++)); do
	[ "$(cat "$work/a.out" "$work/b.out" | awk '{ print $3 }' | sort -u | grep -c .)" -ge "$produced" ] && break
	kill -0 "${PIDS[b]}" 2>/dev/null || fail "member B exited: $(tail -3 "$work/b.err")"
	sleep 0.1
done
# The group continues: B's auto commits reach the new coordinator (up to 25 s: a session
# timeout and a rejoin).
for p in 0 1 2; do
	echo "$p $(cat "$work/a.out" "$work/b.out" | awk -v p="$p" '$1 == p && $2 + 1 > n { n = $2 + 1 } END { print n + 0 }')"
done >"$work/ends"
for ((i = 0; i < 25; i++)); do
	probe committed "$G" "$coord3" >"$work/fetched-4" || fail "OffsetFetch after the second kill"
	cmp -s "$work/ends" "$work/fetched-4" && break
	sleep 1
done
echo "$TEST_NAME: after the second kill, $((i + 1)) s: committed $(tr '\n' ' ' <"$work/fetched-4")(read up to $(tr '\n' ' ' <"$work/ends"))"
paste "$work/fetched-3" "$work/fetched-4" | awk '$4 < $2 { bad = bad " [" $1 "] " $4 " < " $2 }
	END { if (bad != "") { print "S8:" bad; exit 1 } }' >"$work/s8-4" ||
	fail "the commits went back after killing coordinator $coord3: $(cat "$work/s8-4")"
kill -TERM "${PIDS[b]}"
timeout 30 tail --pid="${PIDS[b]}" -f /dev/null
wait "${PIDS[b]}"
rc=$?
unset "PIDS[b]"
[ "$rc" -eq 0 ] || fail "member B exited $rc after SIGTERM (its final commit?): $(tail -3 "$work/b.err")"
grep -E '^(assigned|revoked|lost)' "$work/b.err" | sed "s/^/$TEST_NAME: B: /"

# ---- 4. checks ----------------------------------------------------------------------------------
# Nothing skipped: every value produced was printed by A or B.
cat "$work/a.out" "$work/b.out" | awk '{ print $3 }' | sort -u >"$work/seen"
[ "$(grep -c . "$work/seen")" -eq "$produced" ] ||
	fail "A and B printed $(grep -c . "$work/seen") distinct values of $produced"
# S7 per member and partition; B's offsets may go back (a rebalance after the kill) but never
# below A's commit, and its first offset is A's commit.
python3 - "$work/a.out" "$work/b.out" "$work/commit-a" <<'PY' || fail "consumer order"
import sys
commit = {int(p): int(o) for p, o in (l.split() for l in open(sys.argv[3]))}
bad = []
for name, path in (("A", sys.argv[1]), ("B", sys.argv[2])):
    last, first, rewinds = {}, {}, 0
    for line in open(path):
        p, o = (int(x) for x in line.split()[:2])
        first.setdefault(p, o)
        if p in last and o != last[p] + 1:
            if o > last[p] + 1:
                bad.append("%s gt-%d: skipped from %d to %d" % (name, p, last[p], o))
            else:
                rewinds += 1
                if name == "A" or o < commit[p]:
                    bad.append("%s gt-%d: went back from %d to %d" % (name, p, last[p], o))
        last[p] = o
    if name == "A" and any(f != 0 for f in first.values()):
        bad.append("A did not start at 0: %r" % first)
    if name == "B" and any(first.get(p, commit[p]) != commit[p] for p in commit):
        bad.append("B started at %r, A committed %r" % (first, commit))
    print("cluster_group_failover: %s: first %r last %r rewinds %d" % (name, first, last, rewinds))
if bad:
    sys.exit("\n".join(bad[:10]))
PY
# The final commit is the log end, through a live coordinator and in `tape groups describe`.
for p in 0 1 2; do
	echo "$p $(cat "$work/a.out" "$work/b.out" | awk -v p="$p" '$1 == p && $2 + 1 > n { n = $2 + 1 } END { print n + 0 }')"
done >"$work/ends"
probe committed "$G" "$coord3" >"$work/fetched-5" || fail "OffsetFetch at the end"
diff "$work/ends" "$work/fetched-5" >/dev/null ||
	fail "committed at the end $(tr '\n' ' ' <"$work/fetched-5"), want the log ends $(tr '\n' ' ' <"$work/ends")"
timeout 30 "$TAPE" groups -b "$B" describe "$G" >"$work/describe" 2>&1 || fail "describe: $(cat "$work/describe")"
cat "$work/describe"
for p in 0 1 2; do
	want=$(awk -v p="$p" '$1 == p { print $2 }' "$work/ends")
	awk -v p="$p" -v w="$want" '$2 == "gt" && $3 == p && $4 == w { ok = 1 } END { exit !ok }' \
		"$work/describe" || fail "describe does not show gt $p at $want"
done

restart_broker "$coord3"
offsets_isr_full 60
for p in 0 1 2; do wait_isr gt "$p" 3 60; done
echo "$TEST_NAME: ok"
