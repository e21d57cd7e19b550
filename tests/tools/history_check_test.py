#!/usr/bin/env python3
"""tests/tools/history_check_test.py: self-tests of history_check.py on synthetic histories.

Each history is clean but for exactly one anomaly, and the checker must report that invariant
and no other (a checker that never fails proves nothing; one that flags the wrong thing misleads
whoever reads a real failure). Also: a clean history passes with the right figures, info sends
may or may not be in the log, --expect-loss inverts only on loss, a torn last line is
skipped, a history without a final read cannot be judged. Run: python3 history_check_test.py
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

CHECKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "history_check.py")
MS = 1_000_000


class History:
    """A producer p0 sending v0..v(n-1) to t/0, each acked at offset i, and a final read."""

    def __init__(self, n=10, idempotent=True):
        self.ops = []
        self.reads = []
        for i in range(n):
            self.send(f"p0-{i}", i, seq=i, idempotent=idempotent)
            self.reads.append(("t", 0, i, f"p0-{i}"))
        self.log_start, self.hw = 0, n

    def send(self, value, offset, type_="ok", seq=None, idempotent=True, partition=0,
             process="p0", t0=None, lat_ms=2):
        t0 = t0 if t0 is not None else (len(self.ops) + 1) * 10 * MS
        op = {"process": process, "op": "send", "type": type_, "topic": "t",
              "partition": partition, "value": value, "offset": offset, "acks": "all",
              "idempotent": idempotent, "seq": seq if seq is not None else len(self.ops),
              "invoke_ns": t0, "complete_ns": t0 + lat_ms * MS}
        if type_ != "ok":
            op["offset"] = None
            op["error"] = "timed out" if type_ == "info" else "refused"
        self.ops.append(op)
        return op

    def write(self, path, final_read=True):
        with open(path, "w") as f:
            for op in self.ops:
                f.write(json.dumps(op) + "\n")
            if final_read:
                t = 10**12
                for topic, p, o, val in self.reads:
                    f.write(json.dumps({"process": "reader", "op": "read", "type": "ok",
                                        "topic": topic, "partition": p, "offset": o,
                                        "value": val, "invoke_ns": t, "complete_ns": t}) + "\n")
                f.write(json.dumps({"process": "reader", "op": "watermarks", "type": "ok",
                                    "topic": "t", "partition": 0, "log_start": self.log_start,
                                    "high_watermark": self.hw, "invoke_ns": t,
                                    "complete_ns": t}) + "\n")


class CheckerTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "h.jsonl")

    def tearDown(self):
        self.dir.cleanup()

    def run_checker(self, h, *flags, final_read=True):
        h.write(self.path, final_read)
        r = subprocess.run([sys.executable, CHECKER, *flags, self.path], capture_output=True,
                           text=True, timeout=60)
        last = [l for l in r.stdout.splitlines() if l.startswith("history_check: ")]
        summary = json.loads(last[-1][len("history_check: "):]) if last else None
        return r.returncode, summary, r.stdout + r.stderr

    def assert_only(self, h, inv, *flags):
        rc, s, out = self.run_checker(h, *flags)
        self.assertEqual(rc, 1, out)
        self.assertEqual(s["violated"], [inv], out)
        self.assertIn(f"{inv}: ", out)  # the offending values are listed
        return s, out

    def test_clean(self):
        h = History()
        rc, s, out = self.run_checker(h)
        self.assertEqual(rc, 0, out)
        self.assertEqual(s["violated"], [])
        self.assertEqual((s["sends"], s["acked"], s["indeterminate"], s["failed"]), (10, 10, 0, 0))
        self.assertEqual(s["ack_p50_ms"], 2.0)
        self.assertEqual(s["ack_p99_ms"], 2.0)
        self.assertTrue(s["ok"])

    def test_indeterminate_and_failed_sends(self):
        h = History()
        h.send("p0-lost-info", None, type_="info")  # timed out, not in the log: fine
        h.send("p0-kept-info", None, type_="info")  # timed out, in the log: fine
        h.reads.append(("t", 0, 10, "p0-kept-info"))
        h.hw = 11
        h.send("p0-failed", None, type_="fail")  # refused, not in the log: fine
        rc, s, out = self.run_checker(h)
        self.assertEqual(rc, 0, out)
        self.assertEqual((s["acked"], s["indeterminate"], s["failed"]), (10, 2, 1))
        self.assertEqual(s["indeterminate_read"], 1)

    def test_lost(self):
        h = History()
        h.reads = [r for r in h.reads if r[2] < 8]  # the tail was cut
        h.hw = 8
        s, out = self.assert_only(h, "S1")
        self.assertEqual(s["S1"], 2)
        self.assertIn("'p0-8'", out)

    def test_lost_acks1_not_gated_but_expect_loss_sees_it(self):
        h = History()
        h.ops[-1]["acks"] = "1"
        h.reads.pop()
        h.hw = 9
        rc, s, out = self.run_checker(h)
        self.assertEqual((rc, s["S1"], s["S1u"]), (0, 0, 1), out)
        rc, s, out = self.run_checker(h, "--expect-loss")
        self.assertEqual(rc, 0, out)

    def test_expect_loss(self):
        rc, s, out = self.run_checker(History(), "--expect-loss")
        self.assertEqual(rc, 1, out)  # a negative control that lost nothing fails
        self.assertIn("NO LOSS", out)
        h = History()
        h.reads.pop()
        h.hw = 9
        rc, s, out = self.run_checker(h, "--expect-loss")
        self.assertEqual(rc, 0, out)
        self.assertEqual(s["S1"], 1)

    def test_duplicate(self):
        h = History()
        h.reads.append(("t", 0, 10, "p0-9"))  # a retry written twice
        h.hw = 11
        s, out = self.assert_only(h, "S2")
        self.assertIn("'p0-9' at t/0@10, t/0@9", out.replace("t/0@9, t/0@10", "t/0@10, t/0@9"))

    def test_duplicate_without_idempotence_not_gated(self):
        h = History(idempotent=False)
        h.reads.append(("t", 0, 10, "p0-9"))
        h.hw = 11
        rc, s, out = self.run_checker(h)
        self.assertEqual((rc, s["duplicates_not_idempotent"]), (0, 1), out)

    def test_inconsistent_offsets(self):
        h = History()
        h.send("p1-0", None, type_="info", process="p1")
        # a consumer saw p1-0 at offset 3, the final read has p0-3 there
        h.ops.append({"process": "c0", "op": "poll", "type": "ok", "topic": "t",
                      "partition": 0, "offset": 3, "value": "p1-0", "invoke_ns": 5 * MS,
                      "complete_ns": 6 * MS})
        s, out = self.assert_only(h, "S3")
        self.assertIn("t/0@3", out)

    def test_ack_offset_mismatch(self):
        h = History()
        h.ops[9]["offset"] = 50  # the broker answered an offset the value is not at
        s, out = self.assert_only(h, "S4")
        self.assertIn("'p0-9' acked at t/0@50, read at t/0@9", out)

    def test_unexpected(self):
        h = History()
        h.reads.append(("t", 0, 10, "ghost"))
        h.hw = 11
        s, out = self.assert_only(h, "S5")
        self.assertIn("'ghost'", out)

    def test_unexpected_failed_send(self):
        h = History()
        h.send("p0-refused", None, type_="fail")
        h.reads.append(("t", 0, 10, "p0-refused"))
        h.hw = 11
        s, out = self.assert_only(h, "S5")
        self.assertIn("its send failed", out)

    def test_gap(self):
        h = History()
        h.ops[5]["type"] = "info"  # so its absence is not a loss
        h.ops[5]["offset"] = None
        h.reads = [r for r in h.reads if r[2] != 5]
        s, out = self.assert_only(h, "S6")
        self.assertIn("1 missing (first [5])", out)

    def test_log_start_allowed(self):
        h = History()
        for op in h.ops[:3]:
            op["acks"] = "0"  # not required in the read
        h.reads = h.reads[3:]
        h.log_start = 3  # deleted by retention: the read starts there
        rc, s, out = self.run_checker(h)
        self.assertEqual(rc, 0, out)

    def test_consumer_order(self):
        h = History()
        for i, off in enumerate([0, 1, 2, 4, 5]):  # skipped 3
            h.ops.append({"process": "c0", "op": "poll", "type": "ok", "topic": "t",
                          "partition": 0, "offset": off, "value": f"p0-{off}",
                          "invoke_ns": 500 * MS + i, "complete_ns": 500 * MS + i})
        # a new generation may start anywhere
        h.ops.append({"process": "c0", "op": "poll", "type": "ok", "topic": "t",
                      "partition": 0, "offset": 1, "value": "p0-1", "generation": 1,
                      "invoke_ns": 600 * MS, "complete_ns": 600 * MS})
        s, out = self.assert_only(h, "S7")
        self.assertEqual(s["S7"], 1)
        self.assertIn("4 after 2", out)

    def test_commit_regression(self):
        h = History()

        def op(kind, off, t, type_="ok"):
            h.ops.append({"process": "c0", "op": kind, "type": type_, "group": "g",
                          "topic": "t", "partition": 0, "offset": off, "invoke_ns": t * MS,
                          "complete_ns": (t + 1) * MS})
        op("commit", 5, 200)
        op("offset_fetch", 5, 210)
        op("commit", 10, 220)
        op("commit", 3, 230, "info")  # racing the next fetch: may be what it reads
        op("offset_fetch", 3, 230)
        op("offset_fetch", 10, 240)  # after the info commit it may read either
        op("offset_fetch", 7, 250)  # neither: a regression
        s, out = self.assert_only(h, "S8")
        self.assertEqual(s["S8"], 1)
        self.assertIn("fetched 7 after commit 10", out)

    def test_min_isr(self):
        h = History()
        # the test stopped both followers: ISR {0} from 300 ms to 400 ms (an interval fact)
        h.ops.append({"process": "nemesis", "op": "isr", "type": "ok", "topic": "t",
                      "partition": 0, "isr": [0], "min_insync": 2, "invoke_ns": 300 * MS,
                      "complete_ns": 400 * MS})
        h.send("p0-10", 10, seq=10, t0=350 * MS)
        h.reads.append(("t", 0, 10, "p0-10"))
        h.hw = 11
        # two point observations below min by one observer: an interval too
        for t in (500, 600):
            h.ops.append({"process": "obs", "op": "isr", "type": "ok", "topic": "t",
                          "partition": 0, "isr": [0], "min_insync": 2, "invoke_ns": t * MS,
                          "complete_ns": t * MS})
        h.send("p0-11", 11, seq=11, t0=550 * MS)
        h.reads.append(("t", 0, 11, "p0-11"))
        h.hw = 12
        s, out = self.assert_only(h, "S9")
        self.assertEqual(s["S9"], 2)

    def test_producer_order(self):
        h = History()
        h.ops[6]["offset"], h.ops[7]["offset"] = 7, 6  # seq 6 after seq 7
        h.reads[6], h.reads[7] = ("t", 0, 6, "p0-7"), ("t", 0, 7, "p0-6")
        s, out = self.assert_only(h, "S11")
        self.assertIn("seq 7", out)

    def test_max_unavailability(self):
        h = History(n=0)
        h.send("a", 0, t0=0, lat_ms=1)
        h.send("b", 1, t0=1 * MS, lat_ms=1)
        h.send("c", 2, t0=2 * MS, lat_ms=3000)  # the leader was down for ~3 s
        h.reads = [("t", 0, i, v) for i, v in enumerate("abc")]
        h.hw = 3
        rc, s, out = self.run_checker(h)
        self.assertEqual(rc, 0, out)
        self.assertEqual(s["max_unavailable_ms"], 3000.0)

    def test_torn_last_line_and_no_read(self):
        h = History()
        h.write(self.path)
        with open(self.path, "a") as f:
            f.write('{"process": "p0", "op": "se')
        r = subprocess.run([sys.executable, CHECKER, self.path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("torn last line skipped", r.stderr)
        rc, s, out = self.run_checker(History(), final_read=False)
        self.assertEqual(rc, 2, out)
        self.assertIn("no final read", out)
        rc, s, out = self.run_checker(History(), "--no-read", final_read=False)
        self.assertEqual(rc, 0, out)


if __name__ == "__main__":
    unittest.main(verbosity=1)
