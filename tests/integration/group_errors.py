"""tests/integration/group_errors.py: the group coordinator's error paths, each with the exact
Kafka error code, over raw frames (rawkafka.py). Run by group_errors.sh against a taped started
with group.initial.rebalance.delay.ms=0, group.min.session.timeout.ms=6000 and
log.retention.check.interval.ms=1000.

  python3 group_errors.py before --port P    every case below; leaves group "deleted-later"
                                             deleted and group "kept" with committed offsets
  python3 group_errors.py after --port P     after a restart: what "before" left is still so

Each case uses its own group id, so one failing does not cascade; all run, failures are listed
at the end and the exit status is 1 when any failed.
"""

import argparse
import socket
import sys
import time
import traceback

import rawkafka as rk

HOST = "127.0.0.1"
TOPIC = "ge"  # 4 partitions, created by the first case
SESSION_MS = 6000  # group.min.session.timeout.ms, the shortest a member may ask

PORT = None


def conn():
    return rk.Conn(HOST, PORT, timeout=10.0)


def expect(what, got, want):
    if got != want:
        g, w = repr(got), repr(want)
        raise AssertionError("%s: got %s, want %s" % (what, g if len(g) < 400 else g[:400] + "...",
                                                     w if len(w) < 400 else w[:400] + "..."))


def join_new(c, group, version=5, protocols=(("range", b"\x00\x00"),), **kw):
    """A new dynamic member: v4+ answers 79 with an id first, the rejoin with it is answered
    when the round completes. Returns the second answer (and checks the first)."""
    j = c.join_group(group, version=version, protocols=protocols, session_timeout_ms=SESSION_MS,
                     **kw)
    if version >= 4:
        expect("first JoinGroup v%d" % version, j["error"], 79)
        if not j["member_id"]:
            raise AssertionError("MEMBER_ID_REQUIRED without a member id")
        j = c.join_group(group, version=version, protocols=protocols,
                         session_timeout_ms=SESSION_MS, member_id=j["member_id"], **kw)
    expect("JoinGroup v%d" % version, j["error"], 0)
    return j


def form_stable(c, group, **kw):
    """One member alone, joined and synced (the leader, assigning itself every partition).
    Returns (member_id, generation)."""
    j = join_new(c, group, **kw)
    me, gen = j["member_id"], j["generation"]
    expect("leader of a group of one", j["leader"], me)
    a = rk.consumer_assignment({TOPIC: [0, 1, 2, 3]})
    err, got = c.sync_group(group, gen, me, [(me, a)])
    expect("leader's SyncGroup", err, 0)
    expect("the leader's assignment", got, a)
    return me, gen


def state(group):
    c = conn()
    try:
        return c.describe_groups([group])[group]
    finally:
        c.close()


# ---- the cases ----------------------------------------------------------------------------------


def case_topic():
    c = conn()
    expect("CreateTopics " + TOPIC, c.create_topics([(TOPIC, 4, 1)]), {TOPIC: 0})
    err, node, host, port = c.find_coordinator("any-group")
    expect("FindCoordinator", (err, host, port), (0, HOST, PORT))
    c.close()


def case_member_id_required():
    """JoinGroup v4 and v5 without a member id: 79 with a generated id (client id first); the
    rejoin with it completes the round (generation 1, leader = itself). v0-3 join at once."""
    for v in (4, 5):
        c = conn()
        g = "mir-v%d" % v
        j = c.join_group(g, version=v, session_timeout_ms=SESSION_MS)
        expect("JoinGroup v%d without id" % v, j["error"], 79)
        expect("generation with 79", j["generation"], -1)
        if not j["member_id"].startswith("rawkafka-"):
            raise AssertionError("member id %r does not start with the client id" %
                                 j["member_id"])
        j2 = c.join_group(g, version=v, session_timeout_ms=SESSION_MS, member_id=j["member_id"])
        expect("rejoin with the id", (j2["error"], j2["generation"], j2["member_id"],
                                      j2["leader"], j2["protocol"]),
               (0, 1, j["member_id"], j["member_id"], "range"))
        expect("the leader's member list", [m[0] for m in j2["members"]], [j["member_id"]])
        expect("state after the join", state(g)["state"], "CompletingRebalance")
        err, _ = c.sync_group(g, 1, j["member_id"], [(j["member_id"], b"")])
        expect("SyncGroup", err, 0)
        expect("state after the sync", state(g)["state"], "Stable")
        c.close()
    for v in (0, 3):
        c = conn()
        j = c.join_group("mir-old-v%d" % v, version=v, session_timeout_ms=SESSION_MS)
        expect("JoinGroup v%d without id joins at once" % v, (j["error"], j["generation"]),
               (0, 1))
        c.close()
    # An id the coordinator never gave: 25; for a group that does not exist, 25 too and the
    # group is not made by it (as after a restart, when old members come back with their ids).
    c = conn()
    j = c.join_group("mir-v5", version=5, session_timeout_ms=SESSION_MS,
                     member_id="rawkafka-made-up")
    expect("JoinGroup with a made-up member id", j["error"], 25)
    for v in (0, 5):
        j = c.join_group("mir-nothing", version=v, session_timeout_ms=SESSION_MS,
                         member_id="rawkafka-from-before")
        expect("JoinGroup v%d with an id, unknown group" % v, j["error"], 25)
    expect("the unknown group after it", state("mir-nothing")["state"], "Dead")
    c.close()


def case_illegal_generation():
    """SyncGroup, Heartbeat and OffsetCommit with a generation that is not the group's: 22."""
    c = conn()
    g = "gen"
    me, gen = form_stable(c, g)
    for wrong in (gen + 1, gen - 1, 99):
        expect("Heartbeat generation %d" % wrong, c.heartbeat(g, wrong, me), 22)
        expect("SyncGroup generation %d" % wrong, c.sync_group(g, wrong, me)[0], 22)
        expect("OffsetCommit generation %d" % wrong,
               c.offset_commit(g, [(TOPIC, [(0, 5, "")])], generation=wrong, member_id=me),
               {(TOPIC, 0): 22})
    expect("Heartbeat, right generation", c.heartbeat(g, gen, me), 0)
    expect("OffsetCommit, right generation",
           c.offset_commit(g, [(TOPIC, [(0, 5, "")])], generation=gen, member_id=me),
           {(TOPIC, 0): 0})
    for v in (0, 1, 2):
        expect("Heartbeat v%d generation %d" % (v, gen + 7),
               c.heartbeat(g, gen + 7, me, version=v), 22)
    c.close()


def case_unknown_member():
    """SyncGroup, Heartbeat, OffsetCommit, LeaveGroup by a member the group does not know: 25;
    also for a group that does not exist at all; a commit with generation -1 that names a
    member is that member's (25), not a standalone one, and makes no group."""
    c = conn()
    g = "unknown-member"
    me, gen = form_stable(c, g)
    for grp in (g, "no-such-group"):
        expect("Heartbeat by a stranger in %s" % grp, c.heartbeat(grp, gen, "stranger"), 25)
        expect("SyncGroup by a stranger in %s" % grp, c.sync_group(grp, gen, "stranger")[0], 25)
        expect("LeaveGroup v1 by a stranger in %s" % grp,
               c.leave_group(grp, "stranger", version=1)[0], 25)
    expect("OffsetCommit by a stranger",
           c.offset_commit(g, [(TOPIC, [(0, 1, "")])], generation=gen, member_id="stranger"),
           {(TOPIC, 0): 25})
    # A standalone commit (generation -1, no member) into a group with members: 25 too.
    expect("standalone OffsetCommit into a Stable group",
           c.offset_commit(g, [(TOPIC, [(0, 1, "")])]), {(TOPIC, 0): 25})
    expect("nothing committed", c.offset_fetch(g, [(TOPIC, [0])])[1][(TOPIC, 0)][0], -1)
    # Generation -1 but a member named: that member's commit, even where nobody is (Kafka).
    for grp in ("unknown-member-empty", g):
        expect("OffsetCommit generation -1 by a stranger in %s" % grp,
               c.offset_commit(grp, [(TOPIC, [(0, 1, "")])], member_id="stranger"),
               {(TOPIC, 0): 25})
    expect("no group made by it", state("unknown-member-empty")["state"], "Dead")
    expect("the member is still fine", c.heartbeat(g, gen, me), 0)
    c.close()


def case_session_timeout_bounds():
    """A session timeout below group.min.session.timeout.ms (or above the max): 26, and no
    member or group is made."""
    c = conn()
    for v in (0, 4, 5):
        for ms in (SESSION_MS - 1, 0, 1800001):
            j = c.join_group("st-v%d" % v, version=v, session_timeout_ms=ms)
            expect("JoinGroup v%d session %d ms" % (v, ms), j["error"], 26)
    j = c.join_group("st-v5", version=5, session_timeout_ms=SESSION_MS)
    expect("session = the minimum", j["error"], 79)
    c.close()


def case_inconsistent_protocol():
    """A second member with no protocol name in common with the first, or another protocol
    type: 23 at once, and the first member's generation goes on untouched."""
    c = conn()
    g = "proto"
    me, gen = form_stable(c, g, protocols=(("range", b""), ("roundrobin", b"")))
    c2 = conn()
    for v in (0, 3, 5):  # v5: checked before the member id is given out
        j = c2.join_group(g, version=v, session_timeout_ms=SESSION_MS,
                          protocols=(("cooperative-sticky", b""), ("sticky", b"")))
        expect("JoinGroup v%d with no common protocol" % v, j["error"], 23)
        j = c2.join_group(g, version=v, session_timeout_ms=SESSION_MS, protocol_type="connect",
                          protocols=(("range", b""),))
        expect("JoinGroup v%d with protocol type connect" % v, j["error"], 23)
    j = c2.join_group(g, version=5, session_timeout_ms=SESSION_MS, protocols=())
    expect("JoinGroup with no protocols", j["error"], 23)
    d = state(g)
    expect("the group after the refusals", (d["state"], len(d["members"])), ("Stable", 1))
    expect("the first member's heartbeat", c.heartbeat(g, gen, me), 0)
    # One name in common is enough: roundrobin (the only name both support) wins the vote.
    j = c2.join_group(g, session_timeout_ms=SESSION_MS,
                      protocols=(("sticky", b""), ("roundrobin", b"")))
    expect("JoinGroup with one name in common", j["error"], 79)
    corr2 = c2.send_request(rk.API_JOIN_GROUP, 5, rk.join_group_body(
        5, g, member_id=j["member_id"], session_timeout_ms=SESSION_MS,
        protocols=(("sticky", b""), ("roundrobin", b""))))
    expect("the first member learns of the rebalance", c.heartbeat(g, gen, me), 27)
    j1 = c.join_group(g, member_id=me, session_timeout_ms=SESSION_MS,
                      protocols=(("range", b""), ("roundrobin", b"")))
    j2 = rk.parse_join_group(c2.recv_response(corr2), 5)
    expect("the round's protocol", (j1["error"], j1["protocol"], j2["error"], j2["protocol"],
                                    j1["generation"]), (0, "roundrobin", 0, "roundrobin", gen + 1))
    c.close()
    c2.close()


def case_metadata_too_large():
    """OffsetCommit with metadata over 4096 bytes (offset.metadata.max.bytes): 12 for that
    partition and nothing committed there; 4096 bytes exactly is fine; other partitions of the
    same request commit."""
    c = conn()
    g = "meta"
    big, limit = "m" * 4097, "k" * 4096
    got = c.offset_commit(g, [(TOPIC, [(0, 10, big), (1, 11, limit), (2, 12, "x" * 30000)])])
    expect("OffsetCommit with 4097, 4096, 30000 bytes of metadata", got,
           {(TOPIC, 0): 12, (TOPIC, 1): 0, (TOPIC, 2): 12})
    _, f = c.offset_fetch(g, [(TOPIC, [0, 1, 2])])
    expect("partition 0 after the refused commit", f[(TOPIC, 0)], (-1, "", 0))
    expect("partition 1 after the 4096-byte commit", f[(TOPIC, 1)], (11, limit, 0))
    expect("partition 2 after the refused commit", f[(TOPIC, 2)][0], -1)
    # A refused commit does not replace an earlier one either.
    expect("commit 20", c.offset_commit(g, [(TOPIC, [(0, 20, "a")])]), {(TOPIC, 0): 0})
    expect("oversized commit 30", c.offset_commit(g, [(TOPIC, [(0, 30, big)])]),
           {(TOPIC, 0): 12})
    expect("partition 0 keeps 20", c.offset_fetch(g, [(TOPIC, [0])])[1][(TOPIC, 0)],
           (20, "a", 0))
    c.close()


def case_commit_completing():
    """OffsetCommit by a member of the current generation while the group is
    CompletingRebalance (joined, the leader not synced yet): 27, nothing committed; the same
    commit after the sync: 0. A heartbeat meanwhile is 0 (not a rebalance to rejoin)."""
    c = conn()
    g = "completing"
    j = join_new(c, g)
    me, gen = j["member_id"], j["generation"]
    expect("state", state(g)["state"], "CompletingRebalance")
    expect("OffsetCommit during CompletingRebalance",
           c.offset_commit(g, [(TOPIC, [(0, 7, "")])], generation=gen, member_id=me),
           {(TOPIC, 0): 27})
    expect("nothing committed", c.offset_fetch(g, [(TOPIC, [0])])[1][(TOPIC, 0)][0], -1)
    expect("Heartbeat during CompletingRebalance", c.heartbeat(g, gen, me), 0)
    expect("SyncGroup", c.sync_group(g, gen, me, [(me, b"")])[0], 0)
    expect("OffsetCommit once Stable",
           c.offset_commit(g, [(TOPIC, [(0, 7, "")])], generation=gen, member_id=me),
           {(TOPIC, 0): 0})
    c.close()


def case_heartbeat_preparing():
    """A second member joins a Stable group: the group is PreparingRebalance until the first
    rejoins; its heartbeat and a SyncGroup of the current generation answer 27, and an
    OffsetCommit of the current generation is still accepted (Kafka accepts commits while
    PreparingRebalance). The first rejoins; both get generation + 1."""
    c, c2 = conn(), conn()
    g = "preparing"
    me, gen = form_stable(c, g)
    j = c2.join_group(g, session_timeout_ms=SESSION_MS)
    expect("second member", j["error"], 79)
    corr = c2.send_request(rk.API_JOIN_GROUP, 5, rk.join_group_body(
        5, g, member_id=j["member_id"], session_timeout_ms=SESSION_MS))
    time.sleep(0.2)
    expect("state", state(g)["state"], "PreparingRebalance")
    expect("Heartbeat during PreparingRebalance", c.heartbeat(g, gen, me), 27)
    expect("SyncGroup during PreparingRebalance", c.sync_group(g, gen, me)[0], 27)
    expect("OffsetCommit during PreparingRebalance",
           c.offset_commit(g, [(TOPIC, [(3, 9, None)])], generation=gen, member_id=me),
           {(TOPIC, 3): 0})
    j1 = c.join_group(g, member_id=me, session_timeout_ms=SESSION_MS)
    j2 = rk.parse_join_group(c2.recv_response(corr), 5)
    expect("rejoin", (j1["error"], j1["generation"], j2["error"], j2["generation"]),
           (0, gen + 1, 0, gen + 1))
    expect("leader kept", (j1["leader"], j2["leader"]), (me, me))
    expect("the leader's list", sorted(m[0] for m in j1["members"]),
           sorted([me, j2["member_id"]]))
    expect("the follower's list", j2["members"], [])
    # The old generation is now illegal, the new one fine (while CompletingRebalance).
    expect("Heartbeat old generation", c.heartbeat(g, gen, me), 22)
    expect("Heartbeat new generation", c.heartbeat(g, gen + 1, me), 0)
    c.close()
    c2.close()


def case_empty_group_id():
    """An empty group id: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit and
    DescribeGroups answer 24 (INVALID_GROUP_ID)."""
    c = conn()
    for v in (0, 4, 5):
        expect("JoinGroup v%d \"\"" % v,
               c.join_group("", version=v, session_timeout_ms=SESSION_MS)["error"], 24)
    expect("SyncGroup \"\"", c.sync_group("", 1, "m")[0], 24)
    expect("Heartbeat \"\"", c.heartbeat("", 1, "m"), 24)
    expect("LeaveGroup v1 \"\"", c.leave_group("", "m", version=1)[0], 24)
    err, members = c.leave_group("", members=[("m", None)], version=3)
    expect("LeaveGroup v3 \"\"", err, 24)
    expect("OffsetCommit \"\"", c.offset_commit("", [(TOPIC, [(0, 1, "")])]), {(TOPIC, 0): 24})
    expect("DescribeGroups \"\"", c.describe_groups([""])[""]["error"], 24)
    c.close()


def case_delete_groups():
    """DeleteGroups: a group with a member 68 (NON_EMPTY_GROUP), an unknown one 69
    (GROUP_ID_NOT_FOUND), an empty one with offsets 0 and its offsets gone (OffsetFetch -1, the
    group no longer listed or described); all three in one request, each answered."""
    c = conn()
    busy, empty = "del-busy", "deleted-later"
    me, gen = form_stable(c, busy)
    expect("commit into the empty group",
           c.offset_commit(empty, [(TOPIC, [(0, 100, "x"), (1, 101, None)])]),
           {(TOPIC, 0): 0, (TOPIC, 1): 0})
    _, listed = c.list_groups()
    if empty not in listed or busy not in listed:
        raise AssertionError("ListGroups before: %r" % listed)
    for v in (0, 1):
        got = c.delete_groups([busy, "del-unknown-%d" % v], version=v)
        expect("DeleteGroups v%d" % v, got, {busy: 68, "del-unknown-%d" % v: 69})
    got = c.delete_groups([busy, "del-unknown", empty])
    expect("DeleteGroups of the three", got, {busy: 68, "del-unknown": 69, empty: 0})
    _, f = c.offset_fetch(empty, [(TOPIC, [0, 1])])
    expect("offsets after the delete", (f[(TOPIC, 0)][0], f[(TOPIC, 1)][0]), (-1, -1))
    expect("all offsets after the delete", c.offset_fetch(empty)[1], {})
    _, listed = c.list_groups()
    if empty in listed:
        raise AssertionError("the deleted group is still listed: %r" % listed)
    expect("DescribeGroups of the deleted group", state(empty)["state"], "Dead")
    expect("DeleteGroups again", c.delete_groups([empty]), {empty: 69})
    expect("the busy member is untouched", c.heartbeat(busy, gen, me), 0)
    # After its last member leaves the busy group is empty, and can go.
    expect("LeaveGroup", c.leave_group(busy, me, version=1)[0], 0)
    expect("DeleteGroups after the leave", c.delete_groups([busy]), {busy: 0})
    c.close()


def case_leave_batch():
    """LeaveGroup v3 naming two members (and one stranger) at once: each answered on its own
    (0, 0, 25); the group is Empty after it; v0-2 answer with the top-level code."""
    c, c2 = conn(), conn()
    g = "leave-batch"
    me, gen = form_stable(c, g)
    j = c2.join_group(g, session_timeout_ms=SESSION_MS)
    corr = c2.send_request(rk.API_JOIN_GROUP, 5, rk.join_group_body(
        5, g, member_id=j["member_id"], session_timeout_ms=SESSION_MS))
    j1 = c.join_group(g, member_id=me, session_timeout_ms=SESSION_MS)
    j2 = rk.parse_join_group(c2.recv_response(corr), 5)
    other = j2["member_id"]
    expect("two members joined", (j1["error"], j2["error"]), (0, 0))
    corr = c2.send_request(rk.API_SYNC_GROUP, 3, rk.sync_group_body(3, g, gen + 1, other))
    expect("leader's sync", c.sync_group(g, gen + 1, me, [(me, b""), (other, b"")])[0], 0)
    expect("follower's sync", rk.parse_sync_group(c2.recv_response(corr), 3)[0], 0)
    expect("members before", len(state(g)["members"]), 2)
    c3 = conn()
    err, members = c3.leave_group(g, members=[(me, None), ("stranger", None), (other, None)])
    expect("LeaveGroup v3 top level", err, 0)
    expect("LeaveGroup v3 per member", members,
           [(me, None, 0), ("stranger", None, 25), (other, None, 0)])
    d = state(g)
    expect("the group after", (d["state"], d["members"]), ("Empty", []))
    expect("a left member's heartbeat", c.heartbeat(g, gen + 1, me), 25)
    c.close()
    c2.close()
    c3.close()


def case_standalone_commits():
    """Commits from outside any group (generation -1, member id ""), as an admin tool makes
    them: 0 on an unknown group (which then exists, Empty, protocol type "") and on an Empty
    one; OffsetFetch returns them, null and "" metadata kept apart, -1 where nothing was
    committed, by name and with null topics (every committed partition), at v1-v5; commits at
    every version v2-v7; a partition or topic that does not exist: 3."""
    c = conn()
    g = "kept"
    got = c.offset_commit(g, [(TOPIC, [(0, 1000, None), (1, 1001, ""), (2, 1002, "meta")])])
    expect("standalone commit", got, {(TOPIC, 0): 0, (TOPIC, 1): 0, (TOPIC, 2): 0})
    d = state(g)
    expect("the group made by the commit", (d["state"], d["protocol_type"], d["members"]),
           ("Empty", "", []))
    for v in (2, 3, 4, 5, 6, 7):
        got = c.offset_commit(g, [("ge", [(3, 2000 + v, "v%d" % v)])], version=v)
        expect("standalone commit v%d" % v, got, {(TOPIC, 3): 0})
    check_kept(c)
    for v in (1, 2, 3, 4, 5):
        _, f = c.offset_fetch(g, [(TOPIC, [0, 1, 2, 3])], version=v)
        expect("OffsetFetch v%d" % v, f, KEPT)
    got = c.offset_commit("kept-unknown",
                          [(TOPIC, [(4, 1, "")]), ("no-such-topic", [(0, 1, "")])])
    expect("standalone commit to unknown partitions", got,
           {(TOPIC, 4): 3, ("no-such-topic", 0): 3})
    _, f = c.offset_fetch("kept-nothing", [(TOPIC, [0])])
    expect("OffsetFetch of a group with no commits", f[(TOPIC, 0)], (-1, "", 0))
    c.close()


KEPT = {(TOPIC, 0): (1000, None, 0), (TOPIC, 1): (1001, "", 0), (TOPIC, 2): (1002, "meta", 0),
        (TOPIC, 3): (2007, "v7", 0)}


def check_kept(c):
    err, f = c.offset_fetch("kept", [(TOPIC, [0, 1, 2, 3])])
    expect("OffsetFetch error", err, 0)
    expect("OffsetFetch by name", f, KEPT)
    err, f = c.offset_fetch("kept")
    expect("OffsetFetch with null topics", f, KEPT)


def case_sessions_expire():
    """Deadlines: a member that stops heartbeating is removed after its session timeout
    (its heartbeat then answers 25, the group is Empty: kept, it has an offset); an id given
    with 79 and never used expires too (the rejoin with it answers 25)."""
    c = conn()
    g, gp = "expire", "expire-pending"
    me, gen = form_stable(c, g)
    expect("a commit", c.offset_commit(g, [(TOPIC, [(0, 1, "")])], generation=gen, member_id=me),
           {(TOPIC, 0): 0})
    j = c.join_group(gp, session_timeout_ms=SESSION_MS)
    expect("79 for the pending member", j["error"], 79)
    time.sleep(SESSION_MS / 1000.0 + 1.0)
    expect("the group after the session timeout", state(g)["state"], "Empty")
    expect("the expired member's heartbeat", c.heartbeat(g, gen, me), 25)
    j = c.join_group(gp, member_id=j["member_id"], session_timeout_ms=SESSION_MS)
    expect("rejoin with an expired pending id", j["error"], 25)
    c.close()


def case_forget_empty():
    """Groups left Empty without committed offsets are forgotten by the next housekeeping
    (log.retention.check.interval.ms=1000 here) once Empty for a whole interval, as Kafka's
    cleanup does: one made by an abandoned JoinGroup (79, then the pending member leaves), one
    whose only member left; not one with offsets, nor one with a member."""
    c = conn()
    j = c.join_group("forget-pending", session_timeout_ms=SESSION_MS)
    expect("79", j["error"], 79)
    expect("the pending member leaves", c.leave_group("forget-pending", j["member_id"],
                                                      version=1)[0], 0)
    me, gen = form_stable(c, "forget-left")
    expect("LeaveGroup", c.leave_group("forget-left", me, version=1)[0], 0)
    me2, gen2 = form_stable(c, "forget-busy")
    expect("standalone commit", c.offset_commit("forget-kept", [(TOPIC, [(0, 5, None)])]),
           {(TOPIC, 0): 0})
    _, listed = c.list_groups()
    for g in ("forget-pending", "forget-left", "forget-busy", "forget-kept"):
        if g not in listed:
            raise AssertionError("%s not listed before: %r" % (g, listed))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        _, listed = c.list_groups()
        if "forget-pending" not in listed and "forget-left" not in listed:
            break
        expect("the busy member's heartbeat", c.heartbeat("forget-busy", gen2, me2), 0)
        time.sleep(0.2)
    for g in ("forget-pending", "forget-left"):
        if g in listed:
            raise AssertionError("%s still listed after 5 s" % g)
        expect("DescribeGroups " + g, state(g)["state"], "Dead")
    for g in ("forget-busy", "forget-kept"):
        if g not in listed:
            raise AssertionError("%s forgotten: %r" % (g, listed))
    expect("forget-kept's offset", c.offset_fetch("forget-kept", [(TOPIC, [0])])[1][(TOPIC, 0)],
           (5, None, 0))
    c.close()


def case_large_answers():
    """Answers much larger than the request that gets them (a request's arena is a multiple of
    its own size, the answer's state comes from the coordinator): the leader's JoinGroup answer
    listing 40 members with 300 bytes of metadata each, a follower's SyncGroup answer carrying a
    20 KB assignment, DescribeGroups of that group, ListGroups of 200 groups, OffsetFetch of
    every committed partition (400, over two topics). Each must be whole and exact."""
    g, n = "large", 40
    meta = lambda i: (b"%03d" % i) * 100
    lead = conn()
    me, gen = form_stable(lead, g)
    others = []
    for i in range(1, n):
        c = conn()
        corr = c.send_request(rk.API_JOIN_GROUP, 0, rk.join_group_body(
            0, g, session_timeout_ms=SESSION_MS, protocols=(("range", meta(i)),)))
        others.append((c, corr))
    deadline = time.monotonic() + 10
    while len(state(g)["members"]) < n and time.monotonic() < deadline:
        time.sleep(0.05)  # every join parked before the leader's completes the round
    j = lead.join_group(g, member_id=me, session_timeout_ms=SESSION_MS,
                        protocols=(("range", meta(0)),))
    expect("leader's JoinGroup", (j["error"], j["generation"], len(j["members"])), (0, gen + 1, n))
    ids = []
    for c, corr in others:
        jj = rk.parse_join_group(c.recv_response(corr), 0)
        expect("follower's JoinGroup", (jj["error"], jj["generation"], jj["leader"]),
               (0, gen + 1, me))
        ids.append(jj["member_id"])
    got = {mid: md for mid, _, md in j["members"]}
    want = dict(zip([me] + ids, [meta(i) for i in range(n)]))
    expect("the members and metadata in the leader's answer", got, want)
    big = lambda i: bytes([i]) * 20000
    syncs = [c.send_request(rk.API_SYNC_GROUP, 3, rk.sync_group_body(3, g, gen + 1, mid))
             for (c, _), mid in zip(others, ids)]
    err, mine = lead.sync_group(g, gen + 1, me, [(mid, big(i)) for i, mid in
                                                 enumerate([me] + ids)])
    expect("leader's SyncGroup", (err, mine), (0, big(0)))
    for i, ((c, _), corr) in enumerate(zip(others, syncs), 1):
        err, a = rk.parse_sync_group(c.recv_response(corr), 3)
        expect("follower %d's SyncGroup (%d bytes)" % (i, len(a or b"")), (err, a), (0, big(i)))
    d = state(g)
    expect("DescribeGroups", (d["state"], len(d["members"])), ("Stable", n))
    for mid, _, _, _, md, asg in d["members"]:
        i = ([me] + ids).index(mid)
        expect("DescribeGroups member %d" % i, (md, asg), (meta(i), big(i)))
    for c, _ in others:
        c.close()
    lead.close()
    c = conn()
    for i in range(200):
        expect("commit", c.offset_commit("lg-%03d" % i, [(TOPIC, [(0, i, None)])]),
               {(TOPIC, 0): 0})
    _, listed = c.list_groups()
    missing = ["lg-%03d" % i for i in range(200) if "lg-%03d" % i not in listed]
    expect("groups missing from ListGroups", missing, [])
    expect("CreateTopics", c.create_topics([("ge-wide", 396, 1)]), {"ge-wide": 0})
    offsets = [(TOPIC, [(p, 10 + p, "m%d" % p) for p in range(4)]),
               ("ge-wide", [(p, 1000 + p, None if p % 2 else "") for p in range(396)])]
    got = c.offset_commit("many-offsets", offsets)
    expect("commit of 400 partitions", sorted(set(got.values())), [0])
    _, f = c.offset_fetch("many-offsets")
    want = {(t, p): (o, m, 0) for t, parts in offsets for p, o, m in parts}
    expect("OffsetFetch of every committed partition", f, want)
    for v in (1, 5):
        _, f = c.offset_fetch("many-offsets", [(t, [p for p, _, _ in parts])
                                               for t, parts in offsets], version=v)
        expect("OffsetFetch v%d of 400 partitions by name" % v, f, want)
    c.close()


CASES = [case_topic, case_member_id_required, case_illegal_generation, case_unknown_member,
         case_session_timeout_bounds, case_inconsistent_protocol, case_metadata_too_large,
         case_commit_completing, case_heartbeat_preparing, case_empty_group_id,
         case_delete_groups, case_leave_batch, case_standalone_commits, case_forget_empty,
         case_large_answers, case_sessions_expire]


def after_restart():
    """What the first run committed and deleted, after taped's restart."""
    c = conn()
    check_kept(c)
    _, f = c.offset_fetch("deleted-later", [(TOPIC, [0, 1])])
    expect("the deleted group's offsets after the restart",
           (f[(TOPIC, 0)][0], f[(TOPIC, 1)][0]), (-1, -1))
    _, listed = c.list_groups()
    if "deleted-later" in listed or "kept" not in listed:
        raise AssertionError("ListGroups after the restart: %r" % listed)
    c.close()


def main():
    global PORT
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["before", "after"])
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    PORT = args.port
    cases = CASES if args.mode == "before" else [after_restart]
    failed = []
    for case in cases:
        name = case.__name__
        t = time.monotonic()
        try:
            case()
            print("group_errors: %s: ok (%.1f s)" % (name, time.monotonic() - t))
        except (AssertionError, ValueError, rk.Closed, socket.timeout, OSError) as e:
            print("group_errors: %s: FAIL: %s" % (name, e), file=sys.stderr)
            traceback.print_exc(limit=3)
            failed.append(name)
        sys.stdout.flush()
    if failed:
        print("group_errors: failed: %s" % " ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
