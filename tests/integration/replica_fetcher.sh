#!/usr/bin/env bash
# tests/integration/replica_fetcher.sh: the replica fetcher (replication/fetcher.c) following a
# real taped, through tests/tools/replica_follow (replica 1, leader 0, epoch 0).
#
# Cases, each ending with the follower's batches byte-identical to the leader's (both exported
# with `replica_follow export` after taped stops, and compared with cmp), log end offsets and
# epochs equal, and the follower's high watermark at the end:
#   1. catch-up: 300 records from two producers (kcat, idempotent and not, several batches)
#      fetched into an empty log; then 100 more fetched incrementally into the same log.
#   2. divergence by epoch: the follower's log gets a tail the leader never had, in epoch 1
#      (unknown to the leader) and then in epoch 0 beyond the leader's end, each with its high
#      watermark forced to 0; the follower must cut exactly at the divergence (OffsetForLeader-
#      Epoch), never at its high watermark (a cut to 0 would print "truncated: ... -> 0").
#   3. the leader killed mid-follow (one-record batches, fetches of about one batch each) and
#      restarted on the same port, with the last records produced only after the restart: the
#      fetcher reconnects and finishes.
. "$(dirname "$0")/kcat_lib.sh"
kcat_require

rf=$BUILD/tests/tools/replica_follow
[ -x "$rf" ] || fail "$rf is not built"
DATA=$WORK/leader
FOL=$WORK/follower
T=rep

produce() { # count prefix [kcat args]
	local n=$1 p=$2
	shift 2
	seq 1 "$n" | sed "s/^/$p-/" | kcat_run -P -t "$T" -p 0 -X acks=all -X batch.num.messages=37 \
		-X linger.ms=5 "$@" 2>"$WORK/p.err" || fail "kcat -P: $(cat "$WORK/p.err")"
}

compare() { # leader_leo
	local leo=$1 a b
	stop_taped || fail "taped did not stop cleanly"
	a=$("$rf" export "$DATA/$T-0" "$WORK/leader.bin") || fail "export leader: $a"
	b=$("$rf" export "$FOL" "$WORK/follower.bin") || fail "export follower: $b"
	[ "$a" = "$b" ] || fail "leader '$a', follower '$b'"
	case $a in "log end offset $leo "*) ;; *) fail "leader: $a, want log end offset $leo" ;; esac
	cmp -s "$WORK/leader.bin" "$WORK/follower.bin" ||
		fail "the follower's batches differ from the leader's ($(cmp "$WORK/leader.bin" "$WORK/follower.bin"))"
	[ -s "$WORK/leader.bin" ] || fail "nothing exported"
}

follow() { # leo [seconds]
	"$rf" follow "$FOL" 127.0.0.1 "$TAPED_PORT" "$T" 0 "$1" "${2:-30}" >"$WORK/follow.out" \
		2>"$WORK/follow.err" || fail "replica_follow: $(cat "$WORK/follow.out" "$WORK/follow.err" | tail -5)"
	grep -q "^follower: log end offset $1 high watermark $1\$" "$WORK/follow.out" ||
		fail "follower: $(cat "$WORK/follow.out")"
}

# ---- 1. catch-up from empty, then incremental -------------------------------------------
start_taped "$DATA" --override num.partitions=1
produce 200 a
produce 100 b -X enable.idempotence=true
follow 300
produce 100 c
follow 400
grep -q truncated "$WORK/follow.out" && fail "a caught-up follower truncated: $(cat "$WORK/follow.out")"
PORT=$TAPED_PORT
compare 400
echo "$TEST: catch-up: ok"

# ---- 2. divergent tails cut by epoch ----------------------------------------------------
# Epoch 1 at 400..409: the leader (epoch 0 only) does not know epoch 1.
"$rf" seed "$FOL" 1 5 0 >/dev/null || fail "seed epoch 1"
start_taped "$DATA" --override "listeners=PLAINTEXT://127.0.0.1:$PORT"
produce 50 d
follow 450
grep -qx "truncated: 410 -> 400" "$WORK/follow.out" ||
	fail "epoch 1's tail not cut at 400: $(cat "$WORK/follow.out")"
# Epoch 0 past the leader's end: 450..469, the leader ends epoch 0 at 450.
"$rf" seed "$FOL" 0 10 0 >/dev/null || fail "seed epoch 0"
follow 450
grep -qx "truncated: 470 -> 450" "$WORK/follow.out" ||
	fail "epoch 0's extra tail not cut at 450: $(cat "$WORK/follow.out")"
compare 450
echo "$TEST: divergence by epoch: ok"

# ---- 3. the leader killed mid-follow and restarted ---------------------------------------
rm -rf "$FOL"
start_taped "$DATA" --override "listeners=PLAINTEXT://127.0.0.1:$PORT"
produce 3000 e -X batch.num.messages=1
# The follower wants 3500 records; the last 50 exist only after the restart, so it cannot
# finish without reconnecting, wherever the kill finds it (catching up or long-polling).
RF_MAX_BYTES=100 "$rf" follow "$FOL" 127.0.0.1 "$PORT" "$T" 0 3500 60 >"$WORK/follow.out" \
	2>"$WORK/follow.err" &
rf_pid=$!
sleep 0.3
kill -0 "$rf_pid" 2>/dev/null ||
	fail "replica_follow ended before the leader was killed: $(cat "$WORK/follow.out" "$WORK/follow.err" | tail -5)"
kill_taped
sleep 0.5
start_taped "$DATA" --override "listeners=PLAINTEXT://127.0.0.1:$PORT"
produce 50 f
wait "$rf_pid" || fail "replica_follow after the restart: $(cat "$WORK/follow.out" "$WORK/follow.err" | tail -5)"
grep -q "reconnecting" "$WORK/follow.err" || fail "the fetcher never lost its leader: $(tail -3 "$WORK/follow.err")"
compare 3500
echo "$TEST: leader restart: ok"
