#!/usr/bin/env bash
# tests/integration/group_kcat_lib.sh: helpers for the kcat -G consumer-group tests
# (group_kcat_*.sh), sourced after lib.sh; run.sh does not run it. The caller sets GK_WORK (its
# temp dir) and GK_TOPIC, and starts taped (TAPED_BOOTSTRAP). Members are kcat -G processes
# with client.id = their name (so their member ids start with it), stdout line by line to
# GK_WORK/m/NAME.out as "partition offset value", stderr to the shared log GK_WORK/members.log
# (group_kcat.py explains why one log). log.queue=true: librdkafka's own log lines are printed
# by kcat's thread too, so they cannot cut one of kcat's rebalance lines in two. Every process
# started here is ended by PID in gk_cleanup. KEEP=1 in the environment keeps GK_WORK (the
# logs) after the test.
#
#   gk_create_topic NAME PARTITIONS        CreateTopics over raw frames
#   gk_produce FIRST COUNT                 values FIRST..FIRST+COUNT-1, keyed, acks=all; fails
#                                          the test when kcat does
#   gk_producer_start FIRST / gk_producer_stop
#                                          a background producer adding 50 records every 0.2 s
#                                          from FIRST (chunks that fail are only counted: the
#                                          log decides what was produced)
#   gk_member_start NAME GROUP [kcat args]  a member (session 6000 ms, heartbeat 500 ms,
#                                          earliest); GK_PID[NAME] is its PID
#   gk_member_stop NAME SIGNAL             signal it, wait for it to exit (10 s), mark the log
#   gk_state [--members a,b --partitions N]  group_kcat.py state on the shared log (overlaps
#                                          after a line GK_TOLERATE_AFTER are only printed)
#   gk_wait_cover MEMBERS SECS             wait until exactly MEMBERS hold all GK_PARTITIONS
#                                          partitions; fails on overlap or timeout; sets
#                                          GK_WAITED to the seconds it took
#   gk_wait_read SECS                      wait until every record of the topic was read
#   gk_window MEMBERS FIRST COUNT          with the group settled: COUNT records from FIRST are
#                                          produced and all read with no rebalance meanwhile,
#                                          each partition read by exactly one member, the one
#                                          it is assigned to
#   gk_describe GROUP                      "state protocol members" from DescribeGroups
#   gk_cleanup                             members still running: SIGKILL by PID; the producer
#                                          is told to stop and waited for

GK_PY=$LIB_DIR/group_kcat.py
GK_PARTITIONS=${GK_PARTITIONS:-6}
declare -A GK_PID=()
GK_PRODUCER=
GK_WAITED=

gk_require() {
	command -v kcat >/dev/null || skip "kcat is not installed (scripts/install-deps.sh installs it)"
	command -v python3 >/dev/null || skip "python3 is not installed"
	command -v stdbuf >/dev/null || skip "stdbuf (coreutils) is not installed"
	python3 "$GK_PY" selftest || fail "group_kcat.py's overlap checker fails its self-test"
}

gk_create_topic() {
	(cd "$LIB_DIR" && timeout 20 python3 -c '
import sys, rawkafka as rk
c = rk.Conn("127.0.0.1", int(sys.argv[1]))
got = c.create_topics([(sys.argv[2], int(sys.argv[3]), 1)])
sys.exit(0 if got == {sys.argv[2]: 0} else "CreateTopics: %r" % got)' \
		"$TAPED_PORT" "$1" "$2") || fail "cannot create topic $1"
}

gk_produce() {
	seq "$1" $(($1 + $2 - 1)) | awk '{ print "k" $1 % 997 ":" $1 }' |
		timeout 30 kcat -b "$TAPED_BOOTSTRAP" -P -t "$GK_TOPIC" -K: -X acks=all \
			2>"$GK_WORK/produce.err" || fail "kcat -P exited $?: $(tail -3 "$GK_WORK/produce.err")"
	[ -s "$GK_WORK/produce.err" ] && fail "kcat -P said: $(tail -3 "$GK_WORK/produce.err")"
	return 0
}

gk_producer_start() {
	rm -f "$GK_WORK/producer.stop"
	(
		i=$1
		while [ ! -e "$GK_WORK/producer.stop" ]; do
			seq $i $((i + 49)) | awk '{ print "k" $1 % 997 ":" $1 }' |
				timeout 20 kcat -b "$TAPED_BOOTSTRAP" -P -t "$GK_TOPIC" -K: -X acks=all \
					-X message.timeout.ms=5000 2>>"$GK_WORK/producer.err" ||
				echo "chunk $i failed" >>"$GK_WORK/producer.failed"
			i=$((i + 50))
			sleep 0.2
		done
	) &
	GK_PRODUCER=$!
}

gk_producer_stop() {
	[ -n "$GK_PRODUCER" ] || return 0
	touch "$GK_WORK/producer.stop"
	local i
	for ((i = 0; i < 300; i++)); do
		kill -0 "$GK_PRODUCER" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$GK_PRODUCER" 2>/dev/null && fail "the producer loop did not stop within 30 s"
	wait "$GK_PRODUCER"
	GK_PRODUCER=
}

gk_member_start() {
	local name=$1 group=$2
	shift 2
	mkdir -p "$GK_WORK/m"
	stdbuf -oL -eL kcat -b "$TAPED_BOOTSTRAP" -G "$group" "$GK_TOPIC" -f '%p %o %s\n' \
		-X client.id="$name" -X auto.offset.reset=earliest -X session.timeout.ms=6000 \
		-X heartbeat.interval.ms=500 -X log.queue=true "$@" >>"$GK_WORK/m/$name.out" \
		2>>"$GK_WORK/members.log" &
	GK_PID[$name]=$!
}

gk_member_stop() {
	local name=$1 sig=$2 pid=${GK_PID[$1]} i
	kill -"$sig" "$pid" 2>/dev/null || fail "member $name ($pid) is not running"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "member $name ($pid) still runs 10 s after SIG$sig"
	{ wait "$pid"; } 2>/dev/null # no "Killed" line from bash at exit
	local rc=$?
	unset "GK_PID[$name]"
	if [ "$sig" = KILL ]; then
		echo "KILLED $name" >>"$GK_WORK/members.log"
	else
		echo "EXITED $name" >>"$GK_WORK/members.log"
		[ $rc -eq 0 ] || fail "member $name exited $rc after SIG$sig"
	fi
}

gk_state() {
	python3 "$GK_PY" state "$GK_WORK/members.log" ${GK_TOLERATE_AFTER:+--tolerate-after} \
		${GK_TOLERATE_AFTER:+"$GK_TOLERATE_AFTER"} "$@"
}

gk_wait_cover() {
	local members=$1 secs=$2 start=$SECONDS rc i
	for ((i = 0; i < secs * 5; i++)); do
		gk_state --members "$members" --partitions "$GK_PARTITIONS" >"$GK_WORK/state" \
			2>"$GK_WORK/state.err"
		rc=$?
		[ $rc -eq 2 ] && fail "a partition held by two members: $(cat "$GK_WORK/state.err")"
		if [ $rc -eq 0 ]; then
			GK_WAITED=$((SECONDS - start))
			return 0
		fi
		for m in "${!GK_PID[@]}"; do
			kill -0 "${GK_PID[$m]}" 2>/dev/null ||
				fail "member $m died: $(grep -v '^%' "$GK_WORK/members.log" | tail -3)"
		done
		sleep 0.2
	done
	fail "after $secs s the members hold '$(cat "$GK_WORK/state")', not all of" \
		"0..$((GK_PARTITIONS - 1)) among exactly $members; log end: $(tail -4 "$GK_WORK/members.log")"
}

gk_outputs() {
	ls "$GK_WORK"/m/*.out
}

gk_wait_read() {
	local secs=$1 i
	for ((i = 0; i < secs * 2; i++)); do
		python3 "$GK_PY" missing --port "$TAPED_PORT" --topic "$GK_TOPIC" \
			--partitions "$GK_PARTITIONS" $(gk_outputs) >"$GK_WORK/missing" \
			2>"$GK_WORK/missing.err" && return 0
		grep -q 'not in the log' "$GK_WORK/missing.err" && fail "$(cat "$GK_WORK/missing.err")"
		sleep 0.5
	done
	fail "after $secs s: $(cat "$GK_WORK/missing" "$GK_WORK/missing.err")"
}

gk_window() {
	local members=$1 m parts seen= assigned r0
	declare -A from=()
	r0=$(grep -c 'rebalanced' "$GK_WORK/members.log")
	for m in ${members//,/ }; do
		from[$m]=$(($(wc -l <"$GK_WORK/m/$m.out") + 1))
	done
	gk_state --members "$members" --partitions "$GK_PARTITIONS" >"$GK_WORK/state" ||
		fail "the group is not settled before the window: $(cat "$GK_WORK/state")"
	assigned=$(cat "$GK_WORK/state")
	gk_produce "$2" "$3"
	gk_wait_read 30
	[ "$(grep -c 'rebalanced' "$GK_WORK/members.log")" -eq "$r0" ] ||
		fail "a rebalance during the window: $(grep rebalanced "$GK_WORK/members.log" | tail -3)"
	for m in ${members//,/ }; do
		parts=$(tail -n +"${from[$m]}" "$GK_WORK/m/$m.out" | cut -d' ' -f1 | sort -n -u |
			paste -sd,)
		[ -n "$parts" ] || fail "$m read nothing in the window"
		[[ " $assigned " == *" $m=$parts "* ]] ||
			fail "$m read partitions $parts in the window, but the assignment is: $assigned"
		seen+="$parts,"
	done
	[ "$(tr ',' '\n' <<<"$seen" | grep . | sort -n | paste -sd,)" = \
		"$(seq -s, 0 $((GK_PARTITIONS - 1)))" ] ||
		fail "in the window the members read partitions $seen: not each partition once"
	echo "$TEST_NAME: window: $3 records, no rebalance, each partition read by one member" \
		"($assigned)"
}

gk_describe() {
	(cd "$LIB_DIR" && timeout 20 python3 -c '
import sys, rawkafka as rk
g = rk.Conn("127.0.0.1", int(sys.argv[1])).describe_groups([sys.argv[2]])[sys.argv[2]]
print(g["state"], g["protocol"] or "-", len(g["members"]))' "$TAPED_PORT" "$1")
}

gk_cleanup() {
	local m
	for m in "${!GK_PID[@]}"; do
		kill -KILL "${GK_PID[$m]}" 2>/dev/null
		{ wait "${GK_PID[$m]}"; } 2>/dev/null
	done
	GK_PID=()
	if [ -n "$GK_PRODUCER" ]; then
		# It stops after its chunk (kcat -P gives up within its timeouts).
		touch "$GK_WORK/producer.stop"
		wait "$GK_PRODUCER" 2>/dev/null
		GK_PRODUCER=
	fi
}
