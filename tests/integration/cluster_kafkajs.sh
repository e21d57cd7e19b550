#!/usr/bin/env bash
# tests/integration/cluster_kafkajs.sh: kafkajs 2.2.4 (js/cluster.js) against three brokers:
# createTopics with replication factor 3, full ISR in its metadata, an idempotent producer and
# a consumer group with commits; then the leader of partition 0 (and, when it is another
# broker, the group's coordinator) is killed with SIGKILL, and kafkajs produces through the new
# leaders and the group resumes exactly after its commits. Skips (77) without node or npm.
set -uo pipefail
TEST_NAME=cluster_kafkajs
. "$(dirname "$0")/cluster_lib.sh"
kafkajs_ready
work=$(mktemp -d)
cleanup() {
	cluster_cleanup
	rm -rf "$work"
}
trap cleanup EXIT

start_etcd "$work"
for id in 0 1 2; do
	start_broker "$work" "$id" broker.session.timeout.ms=3000 replica.lag.time.max.ms=3000 \
		offsets.topic.num.partitions=3 offsets.topic.replication.factor=3 \
		group.initial.rebalance.delay.ms=0
done
wait_brokers 3
timeout 120 node "$KAFKAJS_DIR/cluster.js" "$(cluster_bootstrap)" setup | tee "$work/setup.out"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "cluster.js setup failed (see its FAIL lines above)"
read -r leader coordinator < <(sed -n 's/^leader=\([0-9]*\) coordinator=\([0-9]*\)$/\1 \2/p' \
	"$work/setup.out")
[ -n "$leader" ] || fail "setup did not name the leader"
echo "$TEST_NAME: killing broker $leader (leader of kc-0; the group's coordinator is $coordinator)"
kill_broker "$leader" KILL
timeout 120 node "$KAFKAJS_DIR/cluster.js" "$(cluster_bootstrap)" after-kill "$leader" |
	tee "$work/after.out"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "cluster.js after-kill failed (see its FAIL lines above)"
echo "$TEST_NAME: ok"
