"""tests/integration/group_kcat.py: checks for the kcat -G group tests (group_kcat_*.sh).

The members' stderr all go, line buffered (stdbuf -eL), to one shared log opened O_APPEND, so
the order of its lines is the order of the members' write() calls: kcat writes "Group G
rebalanced (memberid NAME-uuid): assigned: T [p], ..." before it starts fetching a partition
and "revoked: ..." before it stops (eager protocols list everything, cooperative ones the
change). A member's partitions are handed to another only after it revoked them (or after it
died: the test appends "EXITED NAME" / "KILLED NAME" once the process is gone), so in that
order no partition may be assigned to one member while another still holds it.

  state LOG [--members a,b] [--partitions N] [--tolerate-after LINE]
      prints each live member's partitions ("m1=0,1 m2=2,3"); exit 2 (and says where) if a
      partition was ever held by two members at once; with --members/--partitions, exit 0 only
      when exactly those members hold something and together hold partitions 0..N-1, else 1.
      Overlaps after a line equal to LINE are printed on stderr but tolerated.
  missing --port P --topic T --partitions N OUT...
      reads every record of the topic and checks the members' outputs ("partition offset value"
      lines): every record read at least once, and every line read is the record at that
      offset. Prints "records R read L duplicates D" and exits 1 with the first misses.
  selftest
      the state checker on made-up logs: it must see an overlap where there is one (a checker
      that never fails proves nothing), and none after a revoke or a KILLED mark.
  dups --committed FILE OUT...
      FILE has "partition committed_offset" lines (the group's commits just before a broker
      crash): prints duplicates per partition, and exits 1 if a record below the commit was read
      twice (a duplicate may only come from at or after the last acknowledged commit).
"""

import argparse
import collections
import re
import sys

import rawkafka as rk

# Eager protocols: "% Group G rebalanced (memberid NAME-uuid): assigned: T [0], T [1]";
# cooperative: "% Group G rebalanced: incremental revoke of 1 partition(s) (memberid NAME-uuid,
# COOPERATIVE rebalance protocol): T [1]". A member that got UNKNOWN_MEMBER_ID has already
# forgotten its id when it revokes ("memberid )"): such a revoke belongs to the one member that
# holds what it lists.
UUID = re.compile(r"-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
LINE = re.compile(r"^% Group \S+ rebalanced \(memberid (\S*)\): (assigned|revoked): ?(.*)$")
COOP = re.compile(r"^% Group \S+ rebalanced: incremental (assignment|revoke) of \d+ "
                  r"partition\(s\) \(memberid (\S*), \S+ rebalance protocol\): ?(.*)$")
PART = re.compile(r"\S+ \[(\d+)\]")
MARK = re.compile(r"^(EXITED|KILLED) (\S+)$")


def replay(path, tolerate_after=None):
    """Returns ({member: set(partitions)}, [violations], [tolerated violations]): violations
    after a line equal to tolerate_after are listed apart."""
    held = collections.defaultdict(set)
    bad, tolerated = [], []
    out = bad
    with open(path, errors="replace") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line == tolerate_after:
                out = tolerated
            m = MARK.match(line)
            if m:
                held.pop(m.group(2), None)
                continue
            m = LINE.match(line)
            if m:
                who, what = m.group(1), m.group(2)
            else:
                m = COOP.match(line)
                if not m:
                    continue
                who, what = m.group(2), "revoked" if m.group(1) == "revoke" else "assigned"
            parts = {int(p) for p in PART.findall(m.group(3))}
            if who:
                who = UUID.sub("", who)
            elif parts:
                owners = [k for k, v in held.items() if parts == v]
                owners = owners if len(owners) == 1 else [k for k, v in held.items() if parts <= v]
                if what != "revoked" or len(owners) != 1:
                    out.append("line %d: %s %s by a member without an id, held by %s" %
                               (n, what, sorted(parts), owners or "nobody"))
                    continue
                who = owners[0]
            if what == "revoked":
                held[who] -= parts
                continue
            for p in sorted(parts):
                for other, theirs in held.items():
                    if other != who and p in theirs:
                        out.append("line %d: partition %d assigned to %s while %s holds it" %
                                   (n, p, who, other))
            held[who] |= parts
    return {k: v for k, v in held.items() if v}, bad, tolerated


def cmd_state(a):
    held, bad, tolerated = replay(a.log, a.tolerate_after)
    if tolerated:
        print("tolerated after %r: %s" % (a.tolerate_after, "; ".join(tolerated)),
              file=sys.stderr)
    print(" ".join("%s=%s" % (k, ",".join(map(str, sorted(v)))) for k, v in sorted(held.items())))
    if bad:
        print("\n".join(bad[:10]), file=sys.stderr)
        return 2
    if a.members is not None:
        want = set(a.members.split(","))
        if set(held) != want:
            return 1
        union = set()
        for v in held.values():
            union |= v
        if union != set(range(a.partitions)):
            return 1
    return 0


def read_outputs(paths):
    """[(partition, offset, value)] of every line of every member's output."""
    out = []
    for path in paths:
        with open(path, errors="replace") as f:
            for line in f:
                if not line.endswith("\n"):
                    break  # a member still writing: its last line is not whole yet
                fields = line.rstrip("\n").split(" ", 2)
                if len(fields) != 3:
                    raise AssertionError("%s: bad line %r" % (path, line))
                out.append((int(fields[0]), int(fields[1]), fields[2]))
    return out


def cmd_missing(a):
    log = {}
    for p in range(a.partitions):
        for o, v in rk.read_partition("127.0.0.1", a.port, a.topic, p):
            log[(p, o)] = v.decode()
    read = read_outputs(a.outputs)
    counts = collections.Counter((p, o) for p, o, _ in read)
    wrong = [(p, o, v) for p, o, v in read if log.get((p, o)) != v]
    missing = sorted(k for k in log if k not in counts)
    dups = sum(c - 1 for c in counts.values())
    print("records %d read %d duplicates %d" % (len(log), len(read), dups))
    if wrong:
        print("read but not in the log (partition offset value): %s" % wrong[:5],
              file=sys.stderr)
        return 1
    if missing:
        print("%d records never read, first: %s" % (len(missing), missing[:10]),
              file=sys.stderr)
        return 1
    return 0


def cmd_dups(a):
    committed = {}
    with open(a.committed) as f:
        for line in f:
            p, o = line.split()
            committed[int(p)] = int(o)
    counts = collections.Counter((p, o) for p, o, _ in read_outputs(a.outputs))
    per = collections.Counter()
    bad = []
    for (p, o), c in sorted(counts.items()):
        if c < 2:
            continue
        per[p] += c - 1
        if o < committed.get(p, -1):
            bad.append("partition %d offset %d read %d times, below the commit %d" %
                       (p, o, c, committed[p]))
    print("duplicates per partition: %s" % (dict(sorted(per.items())) or "none"))
    if bad:
        print("\n".join(bad[:10]), file=sys.stderr)
        return 1
    return 0


def cmd_selftest(a):
    import os
    import tempfile

    g = "%% Group g rebalanced (memberid %s-0123abcd-0123-4567-89ab-0123456789ab): %s: %s\n"
    anon = "% Group g rebalanced (memberid ): revoked: t [2]\n"
    ok = [g % ("m1", "assigned", "t [0], t [1]"), g % ("m1", "revoked", "t [0], t [1]"),
          g % ("m2", "assigned", "t [0]"), "KILLED m2\n", g % ("m1", "assigned", "t [0], t [1]"),
          g % ("m3", "assigned", ""), g % ("m3", "assigned", "t [2]"), anon,
          g % ("m2", "assigned", "t [2]"), "KILLED m2\n"]
    c = ("%% Group g rebalanced: incremental %s of %d partition(s) (memberid %s-0123abcd-0123-"
         "4567-89ab-0123456789ab, COOPERATIVE rebalance protocol): %s\n")
    overlap = [g % ("m1", "assigned", "t [0], t [1]"), c % ("revoke", 1, "m1", "t [1]"),
               c % ("assignment", 1, "m2", "t [1]"), g % ("m2", "assigned", "t [0]")]
    for lines, want_held, want_bad in ((ok, {"m1": {0, 1}}, 0), (overlap, None, 1)):
        fd, path = tempfile.mkstemp()
        with os.fdopen(fd, "w") as f:
            f.writelines(lines)
        held, bad, _ = replay(path)
        os.unlink(path)
        if len(bad) != want_bad or (want_held is not None and held != want_held):
            print("selftest: held %r, violations %r" % (held, bad), file=sys.stderr)
            return 1
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("state")
    s.add_argument("log")
    s.add_argument("--members")
    s.add_argument("--partitions", type=int, default=0)
    s.add_argument("--tolerate-after", help="overlaps after this line are printed, not fatal")
    m = sub.add_parser("missing")
    m.add_argument("--port", type=int, required=True)
    m.add_argument("--topic", required=True)
    m.add_argument("--partitions", type=int, required=True)
    m.add_argument("outputs", nargs="+")
    sub.add_parser("selftest")
    d = sub.add_parser("dups")
    d.add_argument("--committed", required=True)
    d.add_argument("outputs", nargs="+")
    a = ap.parse_args()
    return {"state": cmd_state, "missing": cmd_missing, "dups": cmd_dups,
            "selftest": cmd_selftest}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
