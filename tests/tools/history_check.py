#!/usr/bin/env python3
"""tests/tools/history_check.py: judges a recorded history against RELIABILITY.md's invariants.

Usage: history_check.py [--expect-loss] [--no-read] [--show N] [--quiet] HISTORY.jsonl...

A history is JSON lines, one per operation, from any number of processes (several files are
read as one history). Every line has:

  process     str   who did it ("p0", "consumer-1", "nemesis")
  op          str   send | poll | commit | offset_fetch | read | watermarks | isr
  type        str   ok | fail | info   (info: indeterminate, e.g. timed out: it may or may not
                    have happened; fail: it certainly did not happen)
  invoke_ns   int   when it was asked for; complete_ns int|null when the answer came (null:
                    never, e.g. the process died). One clock for all processes
                    (CLOCK_MONOTONIC on one machine).
  error       str   optional: why it failed or is indeterminate

and, per op:

  send          topic, partition (the asked one or the delivered one; -1 unknown), value (str,
                unique in the history), offset (int|null: the delivery report's), acks
                ("all"|"1"|"0"), idempotent (bool), seq (int: the producer's own count, in
                send order)
  poll          a record a consumer received: topic, partition, offset, value, generation
                (int, optional: a new assignment or rebalance starts a new one; default 0)
  commit        group, topic, partition, offset (the next offset to read, as committed)
  offset_fetch  group, topic, partition, offset (what OffsetFetch answered; -1 none)
  read          the final read, after the run: topic, partition, offset, value, in offset order
  watermarks    the final read's bounds of a partition: topic, partition, log_start,
                high_watermark (the read covers [log_start, high_watermark))
  isr           topic, partition, isr ([node ids]), min_insync (int), leader, leader_epoch
                (optional); a point observation (Metadata) when invoke_ns == complete_ns
                is not meaningful: it holds over [invoke_ns, complete_ns] as far as the
                observer knows. Two consecutive observations of one observer both below
                min_insync count as one interval below it from the first's invoke to the
                second's complete.

It reports, per run (S10 single writer and L1 liveness need etcd and timing the history does
not carry):

  S1  lost            acks=all sends that returned ok and are not in the final read (gate 0);
                      acks=1 losses are counted apart (S1u, not gated)
  S2  duplicate       values at two offsets, of idempotent sends (gate 0; others: S2u)
  S3  inconsistent    a (topic, partition, offset) seen with two values anywhere (gate 0)
  S4  ack mismatch    an ok send's offset (or partition) is not where its value is read (gate 0)
  S5  unexpected      values read (final read or polls) never sent, or whose send failed
                      for certain (gate 0)
  S6  contiguity      the final read's offsets are exactly [log_start, high_watermark) per
                      partition (without a watermarks op: from the first offset read, no gaps)
  S7  consumer order  per consumer, generation and partition: each poll's offset is the
                      previous one's + 1 (gate 0)
  S8  committed       an offset_fetch answers at least the last acknowledged commit before it
                      (or a commit racing it) (gate 0)
  S9  min-ISR         no acks=all send ok wholly inside an interval with ISR < min_insync
                      (gate 0)
  S11 producer order  idempotent sends: per producer and partition, acked offsets and final
                      read offsets increase with seq (gate 0)

and the figures: sends acked / indeterminate / failed, max unavailability (the longest gap
without a successful ack while sends were outstanding), p50/p99 ack latency.

Output: a table, the first --show (5) offending values of every violated invariant, and a
last line "history_check: {...}" with the JSON summary. Exit 0: every gated invariant holds;
1: one does not (with --expect-loss: 0 only when S1 + S1u > 0, the negative control's proof
that the checker sees loss); 2: the history cannot be judged (bad lines, no final read
without --no-read).
"""
import argparse
import json
import sys
from collections import defaultdict

INF = float("inf")


class BadHistory(Exception):
    pass


def load(paths):
    ops = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
        for n, line in enumerate(lines, 1):
            line = line.strip()
            if not line:
                continue
            try:
                op = json.loads(line)
            except ValueError as e:
                # A recorder killed mid-line leaves a torn last line: skip only that one.
                if n == len(lines):
                    print(f"history_check: {path}:{n}: torn last line skipped",
                          file=sys.stderr)
                    continue
                raise BadHistory(f"{path}:{n}: not JSON: {e}")
            for k in ("op", "type"):
                if k not in op:
                    raise BadHistory(f"{path}:{n}: no \"{k}\"")
            if op["type"] not in ("ok", "fail", "info"):
                raise BadHistory(f"{path}:{n}: type \"{op['type']}\"")
            op.setdefault("process", "?")
            op.setdefault("invoke_ns", 0)
            if op.get("complete_ns") is None:
                op["complete_ns"] = INF if op["type"] == "info" else op["invoke_ns"]
            op["_where"] = f"{path}:{n}"
            ops.append(op)
    return ops


def tp(op):
    return (op.get("topic"), op.get("partition"))


def percentile(sorted_vals, q):
    if not sorted_vals:
        return None
    i = min(len(sorted_vals) - 1, max(0, int(round(q * (len(sorted_vals) - 1)))))
    return sorted_vals[i]


def check(ops, no_read=False):
    sends = {}  # value -> send op
    for op in ops:
        if op["op"] != "send":
            continue
        v = op.get("value")
        if v is None:
            raise BadHistory(f"{op['_where']}: a send without a value")
        if v in sends:
            raise BadHistory(f"{op['_where']}: value {v!r} sent twice (values must be unique)")
        sends[v] = op
    reads = [op for op in ops if op["op"] == "read" and op["type"] == "ok"]
    marks = {tp(op): op for op in ops if op["op"] == "watermarks" and op["type"] == "ok"}
    polls = [op for op in ops if op["op"] == "poll" and op["type"] == "ok"]
    have_read = bool(reads or marks)
    if not have_read and not no_read and sends:
        raise BadHistory("no final read (op \"read\"/\"watermarks\"): give --no-read to judge "
                         "the rest")

    v = defaultdict(list)  # invariant -> offending descriptions
    figures = {}

    # Where each value was read, and what each offset holds.
    read_at = defaultdict(set)  # value -> {(topic, partition, offset)}
    read_offsets = defaultdict(set)  # (topic, partition) -> {offset}
    seen = defaultdict(dict)  # (topic, partition, offset) -> {value: first source}
    for op in reads:
        key = (op["topic"], op["partition"], op["offset"])
        read_at[op.get("value")].add(key)
        read_offsets[tp(op)].add(op["offset"])
        seen[key].setdefault(op.get("value"), "read")
    for op in polls:
        seen[(op["topic"], op["partition"], op["offset"])].setdefault(
            op.get("value"), f"poll by {op['process']}")
    for val, s in sends.items():
        if s["type"] == "ok" and s.get("offset") is not None and s["offset"] >= 0:
            seen[(s["topic"], s["partition"], s["offset"])].setdefault(val, f"ack to "
                                                                       f"{s['process']}")

    # S1 lost, S4 mismatch
    lost_unsafe = []
    if have_read:
        for val, s in sends.items():
            if s["type"] != "ok" or str(s.get("acks", "all")) == "0":
                continue
            where = read_at.get(val)
            if not where:
                desc = f"{val!r} (acked at {s.get('topic')}/{s.get('partition')}@{s.get('offset')})"
                if str(s.get("acks", "all")) in ("all", "-1"):
                    v["S1"].append(desc)
                else:
                    lost_unsafe.append(desc)
                continue
            off = s.get("offset")
            if off is not None and off >= 0 and (s["topic"], s["partition"], off) not in where:
                v["S4"].append(f"{val!r} acked at {s['topic']}/{s['partition']}@{off}, read at "
                               + ", ".join(f"{t}/{p}@{o}" for t, p, o in sorted(where)))
    # S2 duplicate
    dup_unsafe = 0
    for val, where in read_at.items():
        if len(where) > 1:
            s = sends.get(val)
            desc = f"{val!r} at " + ", ".join(f"{t}/{p}@{o}" for t, p, o in sorted(where))
            if s is not None and s.get("idempotent"):
                v["S2"].append(desc)
            else:
                dup_unsafe += 1
    # S3 inconsistent offsets
    for (t, p, o), vals in sorted(seen.items(), key=lambda kv: (str(kv[0][0]), kv[0][1],
                                                                 kv[0][2])):
        if len(vals) > 1:
            v["S3"].append(f"{t}/{p}@{o}: " + ", ".join(f"{x!r} ({src})"
                                                         for x, src in vals.items()))
    # S5 unexpected
    for op in reads + polls:
        val = op.get("value")
        s = sends.get(val)
        if s is None:
            v["S5"].append(f"{val!r} at {op['topic']}/{op['partition']}@{op['offset']} "
                           f"({op['op']}): never sent")
        elif s["type"] == "fail":
            v["S5"].append(f"{val!r} at {op['topic']}/{op['partition']}@{op['offset']} "
                           f"({op['op']}): its send failed ({s.get('error', '')})")
    # S6 contiguity
    for key in sorted(set(read_offsets) | set(marks), key=lambda k: (str(k[0]), k[1])):
        got = read_offsets.get(key, set())
        m = marks.get(key)
        if m is not None:
            lo, hi = m["log_start"], m["high_watermark"]
        elif got:
            lo, hi = min(got), max(got) + 1
        else:
            continue
        want = set(range(lo, hi))
        missing, extra = sorted(want - got), sorted(got - want)
        if missing or extra:
            desc = f"{key[0]}/{key[1]} [{lo}, {hi}):"
            if missing:
                desc += f" {len(missing)} missing (first {missing[:5]})"
            if extra:
                desc += f" {len(extra)} outside (first {extra[:5]})"
            v["S6"].append(desc)
    # S7 consumer order
    last = {}
    for op in sorted(polls, key=lambda o: (o["process"], o["complete_ns"])):
        k = (op["process"], op.get("generation", 0), op["topic"], op["partition"])
        if k in last and op["offset"] != last[k] + 1:
            v["S7"].append(f"{op['process']} {op['topic']}/{op['partition']} "
                           f"(generation {k[1]}): {op['offset']} after {last[k]}")
        last[k] = op["offset"]
    # S8 committed offsets
    commits = defaultdict(list)
    for op in ops:
        if op["op"] == "commit" and op["type"] in ("ok", "info"):
            commits[(op.get("group"), op["topic"], op["partition"])].append(op)
    for f in ops:
        if f["op"] != "offset_fetch" or f["type"] != "ok":
            continue
        cs = commits.get((f.get("group"), f["topic"], f["partition"]), [])
        done = [c for c in cs if c["type"] == "ok" and c["complete_ns"] < f["invoke_ns"]]
        if not done:
            continue
        lastc = max(done, key=lambda c: c["complete_ns"])
        # Commits that may have landed after lastc and before the fetch read.
        racing = {c["offset"] for c in cs
                  if c["invoke_ns"] < f["complete_ns"] and c["complete_ns"] > lastc["invoke_ns"]}
        if f["offset"] < lastc["offset"] and f["offset"] not in racing:
            v["S8"].append(f"group {f.get('group')} {f['topic']}/{f['partition']}: fetched "
                           f"{f['offset']} after commit {lastc['offset']} was acknowledged "
                           f"({f['process']})")
    # S9 min-ISR
    below = defaultdict(list)  # (topic, partition) -> [(start, end)]
    obs = defaultdict(list)
    for op in ops:
        if op["op"] == "isr" and op["type"] == "ok":
            obs[(op["process"],) + tp(op)].append(op)
    for (proc, t, p), lst in obs.items():
        lst.sort(key=lambda o: o["invoke_ns"])
        for i, o in enumerate(lst):
            sub = len(o["isr"]) < o["min_insync"]
            if sub and o["complete_ns"] > o["invoke_ns"]:
                below[(t, p)].append((o["invoke_ns"], o["complete_ns"]))
            if sub and i + 1 < len(lst):
                n = lst[i + 1]
                if len(n["isr"]) < n["min_insync"]:
                    below[(t, p)].append((o["invoke_ns"], n["complete_ns"]))
    for val, s in sends.items():
        if s["type"] != "ok" or str(s.get("acks", "all")) not in ("all", "-1"):
            continue
        for a, b in below.get(tp(s), []):
            if a <= s["invoke_ns"] and s["complete_ns"] <= b:
                v["S9"].append(f"{val!r} acked at {s['topic']}/{s['partition']}@"
                               f"{s.get('offset')} while the ISR was below min.insync.replicas")
                break
    # S11 producer order
    by_producer = defaultdict(list)
    for val, s in sends.items():
        if s.get("idempotent") and s.get("seq") is not None:
            by_producer[(s["process"], s.get("topic"))].append(s)
    for (proc, topic), lst in by_producer.items():
        lst.sort(key=lambda s: s["seq"])
        acked, readp = {}, {}
        for s in lst:
            if s["type"] == "ok" and s.get("offset") is not None and s["offset"] >= 0:
                k = s["partition"]
                if k in acked and s["offset"] <= acked[k][1]:
                    v["S11"].append(f"{proc} {topic}/{k}: seq {s['seq']} acked at "
                                    f"{s['offset']}, after seq {acked[k][0]} at {acked[k][1]}")
                acked[k] = (s["seq"], s["offset"])
            for (t, p, o) in sorted(read_at.get(s["value"], ())):
                if t != topic:
                    continue
                if p in readp and o <= readp[p][1]:
                    v["S11"].append(f"{proc} {topic}/{p}: seq {s['seq']} read at {o}, after "
                                    f"seq {readp[p][0]} at {readp[p][1]}")
                readp[p] = (s["seq"], o)

    # Figures
    sl = list(sends.values())
    ok = [s for s in sl if s["type"] == "ok"]
    figures["sends"] = len(sl)
    figures["acked"] = len(ok)
    figures["indeterminate"] = sum(1 for s in sl if s["type"] == "info")
    figures["failed"] = sum(1 for s in sl if s["type"] == "fail")
    figures["indeterminate_read"] = sum(1 for s in sl if s["type"] == "info" and
                                        s["value"] in read_at)
    figures["read"] = len(reads)
    figures["lost_acks1"] = len(lost_unsafe)
    figures["duplicates_not_idempotent"] = dup_unsafe
    lat = sorted((s["complete_ns"] - s["invoke_ns"]) / 1e6 for s in ok)
    figures["ack_p50_ms"] = round(percentile(lat, 0.50), 3) if lat else None
    figures["ack_p99_ms"] = round(percentile(lat, 0.99), 3) if lat else None
    figures["max_unavailable_ms"] = max_unavailability(sl)
    return v, lost_unsafe, figures


def max_unavailability(sends):
    """The longest stretch with a send outstanding and no ack: from the later of the last ack
    and the oldest outstanding send's invoke, to the next ack (or the end of the last
    outstanding send)."""
    events = []
    for s in sends:
        end = s["complete_ns"]
        if end == INF:
            continue
        events.append((s["invoke_ns"], 0, s))
        events.append((end, 1, s))
    if not events:
        return None
    events.sort(key=lambda e: (e[0], e[1]))
    outstanding = 0
    since = None  # the start of the current stretch without an ack while busy
    worst = 0
    for t, kind, s in events:
        if kind == 0:
            if outstanding == 0 and since is None:
                since = t
            outstanding += 1
            continue
        outstanding -= 1
        if since is not None:
            worst = max(worst, t - since)
        if s["type"] == "ok":
            since = t if outstanding > 0 else None
        elif outstanding == 0:
            since = None
    return round(worst / 1e6, 3)


GATED = ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "S11"]
NAMES = {"S1": "lost", "S2": "duplicate", "S3": "inconsistent offsets",
         "S4": "ack/offset mismatch", "S5": "unexpected", "S6": "contiguity",
         "S7": "consumer order", "S8": "committed offsets", "S9": "min-ISR",
         "S11": "producer order"}


def main(argv):
    ap = argparse.ArgumentParser(description="judge a tape history (see the file's header)")
    ap.add_argument("history", nargs="+")
    ap.add_argument("--expect-loss", action="store_true",
                    help="a negative control: pass only when acknowledged sends were lost")
    ap.add_argument("--no-read", action="store_true",
                    help="the history has no final read: judge only what does not need it")
    ap.add_argument("--show", type=int, default=5, help="offending values listed per invariant")
    ap.add_argument("--quiet", action="store_true", help="only the JSON summary line")
    a = ap.parse_args(argv)
    try:
        ops = load(a.history)
        v, lost_unsafe, fig = check(ops, a.no_read)
    except (BadHistory, OSError, KeyError, TypeError) as e:
        what = f"missing field {e}" if isinstance(e, KeyError) else str(e)
        print(f"history_check: cannot judge {' '.join(a.history)}: {what}", file=sys.stderr)
        return 2
    lost = len(v["S1"]) + len(lost_unsafe)
    if a.expect_loss:
        ok = lost > 0
    else:
        ok = not any(v[k] for k in GATED)
    if not a.quiet:
        print(f"{'invariant':<26} {'count':>8}  result")
        for k in GATED:
            n = len(v[k])
            res = "ok" if n == 0 else "VIOLATED"
            if a.expect_loss and k == "S1":
                res = "loss seen (expected)" if lost else "NO LOSS (a negative control must lose)"
            print(f"{k + ' ' + NAMES[k]:<26} {n:>8}  {res}")
        print(f"{'S1u lost acks=1':<26} {len(lost_unsafe):>8}  (not gated)")
        print(f"{'S2u dup, not idempotent':<26} {fig['duplicates_not_idempotent']:>8}  "
              f"(not gated)")
        for k in ("sends", "acked", "indeterminate", "indeterminate_read", "failed", "read",
                  "max_unavailable_ms", "ack_p50_ms", "ack_p99_ms"):
            print(f"{k:<26} {fig[k] if fig[k] is not None else '-':>8}")
        for k in GATED:
            for d in v[k][:a.show]:
                print(f"{k}: {d}")
            if len(v[k]) > a.show:
                print(f"{k}: ... and {len(v[k]) - a.show} more")
        for d in lost_unsafe[:a.show]:
            print(f"S1u: {d}")
    summary = {"ok": ok, "expect_loss": a.expect_loss}
    summary.update({k: len(v[k]) for k in GATED})
    summary["S1u"] = len(lost_unsafe)
    summary.update(fig)
    summary["violated"] = [k for k in GATED if v[k]]
    print("history_check: " + json.dumps(summary, sort_keys=True))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
