#!/usr/bin/env bash
# tests/integration/group_kafkajs_crash.sh: taped killed with SIGKILL and restarted on the same
# port and data while a kafkajs 2.2.4 group consumes and a producer produces
# (js/group_crash.js): committed offsets acknowledged before the kill are still there (S8), the
# group rejoins (Stable, two members, both reading new records), and no record is skipped:
# every partition is read from 0 to its end, every acknowledged record at its offset.
# Skips (77) without node, npm or python3; installs kafkajs with `npm ci` when it is missing.
set -uo pipefail
TEST_NAME=group_kafkajs_crash
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "python3 is not installed (it picks the fixed port)"
kafkajs_ready
work=$(mktemp -d)
node_pid=
trap '[ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null; stop_taped; rm -rf "$work"' EXIT

# A fixed port, so the clients find taped again after the restart.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0));
print(s.getsockname()[1])')
overrides=(group.initial.rebalance.delay.ms=0 "listeners=PLAINTEXT://127.0.0.1:$port")
start_taped "$work" "${overrides[@]}"
[ "$TAPED_PORT" = "$port" ] || fail "taped listens on $TAPED_PORT, not $port"

timeout 150 node "$KAFKAJS_DIR/group_crash.js" "$TAPED_BOOTSTRAP" "$work" &
node_pid=$!
for ((i = 0; i < 300; i++)); do
	[ -e "$work/consuming" ] && break
	kill -0 "$node_pid" 2>/dev/null || break
	sleep 0.1
done
[ -e "$work/consuming" ] || fail "group_crash.js did not start consuming within 30 s"
sleep 1
{ kill -KILL "$TAPED_PID" && wait "$TAPED_PID"; } 2>/dev/null # bash's "Killed" notice
echo "$TEST_NAME: taped $TAPED_PID killed with SIGKILL while the group consumed"
TAPED_PID=
mv "$work/taped.err" "$work/taped.err.killed"
sleep 0.5
start_taped "$work" "${overrides[@]}"
touch "$work/restarted"
echo "$TEST_NAME: taped restarted on port $port"

wait "$node_pid"
rc=$?
node_pid=
[ $rc -eq 0 ] || fail "group_crash.js exited $rc (see its FAIL lines above)"
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
