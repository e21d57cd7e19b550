#!/usr/bin/env bash
# tests/integration/group_kcat_cooperative.sh: kcat -G members with
# partition.assignment.strategy=cooperative-sticky (KIP-429 incremental rebalancing over the
# classic protocol: a member gives up only the partitions that move, in a second round) share
# a 6-partition topic through taped's coordinator, while a producer adds records all along.
#
# Two members settle and read; a third joins: the group settles on three, the two first keep
# some of their partitions (they revoke only what moves: the protocol really is incremental),
# DescribeGroups says cooperative-sticky; a window of records with no rebalance is read with
# each partition by exactly one member; then one leaves (SIGTERM) and the other two take its
# partitions. At the end every record was read at least once and no partition was ever held by
# two members at once (the members' assigned/revoked lines, in write order).
set -uo pipefail
TEST_NAME=group_kcat_cooperative
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/group_kcat_lib.sh"
gk_require

GK_WORK=$(mktemp -d)
GK_TOPIC=coop
trap 'gk_cleanup; stop_taped; [ -n "${KEEP:-}" ] || rm -rf "$GK_WORK"' EXIT
start_taped "$GK_WORK" group.initial.rebalance.delay.ms=0
gk_create_topic "$GK_TOPIC" 6
coop=(-X partition.assignment.strategy=cooperative-sticky)

gk_produce 0 2000
gk_member_start m1 coop-group "${coop[@]}"
gk_member_start m2 coop-group "${coop[@]}"
gk_wait_cover m1,m2 30
gk_wait_read 30
echo "$TEST_NAME: two members hold $(cat "$GK_WORK/state")"
gk_window m1,m2 2000 300

gk_producer_start 100000
sleep 1
before=$(cat "$GK_WORK/state")
mark=$(wc -l <"$GK_WORK/members.log")
gk_member_start m3 coop-group "${coop[@]}"
gk_wait_cover m1,m2,m3 30
# Let the incremental rounds finish (a revoke round, then an assign round), then settle.
sleep 2
gk_wait_cover m1,m2,m3 30
after=$(cat "$GK_WORK/state")
echo "$TEST_NAME: m3 joined: $before -> $after"
for m in m1 m2; do
	held=$(sed -n "s/.*$m=\([0-9,]*\).*/\1/p" <<<"$before" | tr ',' '\n' | grep -c .)
	revoked=$(tail -n +"$mark" "$GK_WORK/members.log" | grep "memberid $m-" | grep 'revoke' |
		grep -o '\[[0-9]*\]' | sort -u | wc -l)
	# Eager would revoke everything and assign anew; incremental keeps what stays.
	[ "$revoked" -ge 1 ] && [ "$revoked" -lt "$held" ] ||
		fail "$m held $held partitions and revoked $revoked for m3: $before -> $after"
done
[ "$(gk_describe coop-group)" = "Stable cooperative-sticky 3" ] ||
	fail "DescribeGroups: $(gk_describe coop-group), not 'Stable cooperative-sticky 3'"
gk_producer_stop
gk_wait_read 30
gk_window m1,m2,m3 200000 300

gk_producer_start 300000
sleep 1
gk_member_stop m2 TERM
gk_wait_cover m1,m3 20
echo "$TEST_NAME: m2 left: m1, m3 hold $(cat "$GK_WORK/state") after $GK_WAITED s"
sleep 1
gk_producer_stop
gk_wait_read 30
gk_state >/dev/null || fail "a partition held by two members at once: see above"
echo "$TEST_NAME: $(cat "$GK_WORK/missing"), producer chunks failed:" \
	"$(cat "$GK_WORK/producer.failed" 2>/dev/null | wc -l)"
gk_member_stop m1 TERM
gk_member_stop m3 TERM
kill -0 "$TAPED_PID" 2>/dev/null || fail "taped died"
stop_taped || fail "taped did not stop cleanly"
echo "$TEST_NAME: ok"
