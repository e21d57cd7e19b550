"""tests/integration/bad_input.py: the bad-input table of RELIABILITY.md against a running taped.

Usage: bad_input.py GROUP --port PORT --pid PID     (GROUP: frames, produce, flood, emfile)

Each bad_input_<group>.sh starts taped with the settings its group needs and runs this. Every
case sends one kind of bad input on its own connection through rawkafka.py, checks the answer
the table asks for (a close, or a Kafka error code), and then checks that the broker still
serves: an ApiVersions and a Metadata round trip on a fresh connection and a `kcat -L`, and that
the records produced before the bad input are all still there, and only they (read back with
Fetch). A case that fails is reported and the next one runs; the exit status is 1 if any failed.
"""

import argparse
import os
import resource
import select
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rawkafka as rk  # noqa: E402

HOST = "127.0.0.1"

# Error codes (kafka-protocol.md section 11).
NONE = 0
OFFSET_OUT_OF_RANGE = 1
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
MESSAGE_TOO_LARGE = 10
INVALID_REQUIRED_ACKS = 21
UNSUPPORTED_VERSION = 35
OUT_OF_ORDER_SEQUENCE_NUMBER = 45
INVALID_PRODUCER_EPOCH = 47
INVALID_RECORD = 87
BAD_BATCH = (CORRUPT_MESSAGE, INVALID_RECORD)


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


class Broker:
    """The taped under test and what it must still hold."""

    def __init__(self, port, pid):
        self.port = port
        self.pid = pid
        self.stored = {}  # (topic, partition) -> [values], in offset order
        self.kcat = subprocess.run(["which", "kcat"], capture_output=True).returncode == 0

    def conn(self, **kw):
        return rk.Conn(HOST, self.port, **kw)

    def rss_kib(self):
        return rk.vm_rss_kib(self.pid)

    def produce_good(self, topic, partition, values):
        c = self.conn()
        try:
            err, base = c.produce_one(topic, partition, rk.record_batch(values), acks=-1)
        finally:
            c.close()
        check(err == NONE, "good produce to %s-%d: error %d" % (topic, partition, err))
        have = self.stored.setdefault((topic, partition), [])
        check(base == len(have), "good produce: base offset %d, expected %d" % (base, len(have)))
        have += values
        return base

    def create(self, topics):
        c = self.conn()
        try:
            out = c.create_topics(topics)
        finally:
            c.close()
        check(all(e == NONE for e in out.values()) and len(out) == len(topics),
              "CreateTopics: %r" % (out,))

    def alive(self):
        """ApiVersions and Metadata on a fresh connection, and kcat -L."""
        c = self.conn(timeout=5)
        try:
            err, keys = c.api_versions(0)
            check(err == NONE and rk.API_PRODUCE in keys, "ApiVersions after: error %d" % err)
            brokers, _ = c.metadata(4, topics=[])
            check(len(brokers) == 1 and brokers[0][2] == self.port,
                  "Metadata after: brokers %r" % (brokers,))
        finally:
            c.close()
        if self.kcat:
            p = subprocess.run(["timeout", "20", "kcat", "-b", "%s:%d" % (HOST, self.port), "-L",
                                "-m", "10"], capture_output=True, text=True)
            check(p.returncode == 0 and "broker 0 at" in p.stdout,
                  "kcat -L after: exit %d: %s" % (p.returncode, (p.stdout + p.stderr)[-500:]))

    def intact(self):
        """Every partition written holds exactly the good records, at offsets 0, 1, 2, ..."""
        for (topic, partition), values in self.stored.items():
            got = rk.read_partition(HOST, self.port, topic, partition)
            want = list(enumerate(values))
            check(got == want, "%s-%d holds %r, expected %r" % (
                topic, partition, got[:20], want[:20]))


def run_cases(broker, cases):
    failed = []
    for name, fn in cases:
        t0 = time.monotonic()
        try:
            note = fn(broker)
            broker.alive()
            broker.intact()
            print("ok   %-44s %6.2fs %s" % (name, time.monotonic() - t0, note or ""), flush=True)
        except (Failure, AssertionError, OSError, ValueError, rk.Closed) as e:
            print("FAIL %-44s %s: %s" % (name, type(e).__name__, e), flush=True)
            failed.append(name)
    return failed


# ---- frames, headers, versions, lengths ------------------------------------------------------


def expect_closed(broker, data, within=3.0, rss_slack_kib=8 * 1024, answers=0):
    """Sends data on a fresh connection and expects the broker to close it within `within`
    seconds, after answering the first `answers` requests in data and nothing else, and without
    its resident memory growing."""
    rss0 = broker.rss_kib()
    c = broker.conn()
    try:
        t0 = time.monotonic()
        try:
            c.send(data)
        except (BrokenPipeError, ConnectionResetError):
            return "closed during the send"
        c.sock.settimeout(within)
        for i in range(answers):
            try:
                c.recv_frame()
            except rk.Closed:
                raise Failure("closed before answering request %d of %d" % (i + 1, answers))
        try:
            f = c.recv_frame()
            raise Failure("answered (%d bytes: %r) instead of closing" % (len(f), f[:32]))
        except rk.Closed:
            pass
        except socket.timeout:
            raise Failure("still open after %.1fs" % within)
        dt = time.monotonic() - t0
    finally:
        c.close()
    rss1 = broker.rss_kib()
    check(rss1 - rss0 < rss_slack_kib, "VmRSS grew %d KiB -> %d KiB" % (rss0, rss1))
    return "closed in %.0f ms, VmRSS %d -> %d KiB" % (dt * 1000, rss0, rss1)


def size_prefix(n, rest=b"\x00" * 16):
    return struct.pack(">i", n) + rest


def hdr(api_key, version, corr=1, client_id="rawkafka"):
    return rk.request_header(api_key, version, corr, client_id,
                             flexible=api_key == rk.API_API_VERSIONS and version >= 3)


def tls_client_hello():
    """A TLS 1.2 ClientHello record as a browser would open with (no extensions needed: only
    the first bytes matter to a Kafka framer)."""
    body = b"\x03\x03" + os.urandom(32) + b"\x00" + rk.i16(4) + b"\x13\x01\xc0\x2f" + b"\x01\x00"
    body += rk.i16(0)
    hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
    return b"\x16\x03\x01" + rk.i16(len(hs)) + hs


def partial_then_silence(broker, data, idle_s):
    c = broker.conn()
    try:
        t0 = time.monotonic()
        c.send(data)
        closed = c.wait_closed(idle_s * 4 + 2)
        dt = time.monotonic() - t0
    finally:
        c.close()
    check(closed, "a stalled partial frame was not closed in %.1fs" % dt)
    check(dt >= idle_s * 0.9, "closed after %.2fs, before connections.max.idle.ms" % dt)
    return "closed after %.2fs (idle %.1fs)" % (dt, idle_s)


def api_versions_v99(broker):
    c = broker.conn()
    try:
        c.send(rk.frame(hdr(rk.API_API_VERSIONS, 99, corr=77) + b"\x01\x02\x03"))
        f = c.recv_frame()
        corr = struct.unpack(">i", f[:4])[0]
        check(corr == 77, "correlation id %d" % corr)
        r = rk.Reader(f[4:])
        err = r.i16()
        keys = r.array(lambda rr: (rr.i16(), rr.i16(), rr.i16()))
        check(err == UNSUPPORTED_VERSION, "error %d, expected 35" % err)
        check(r.done(), "v0 layout expected, %d bytes left" % (len(f) - 4 - r.pos))
        ranges = {k: (lo, hi) for k, lo, hi in keys}
        # The same ranges as a good ApiVersions v0 on the same connection, which stays open.
        err0, good = c.api_versions(0)
        check(err0 == NONE and ranges == good, "ranges %r, v0 answer %r" % (ranges, good))
        check(ranges[rk.API_API_VERSIONS][1] == 3, "ApiVersions max %r" % (ranges[18],))
        err3, _ = c.api_versions(3)
        check(err3 == NONE, "ApiVersions v3 after v99: error %d" % err3)
    finally:
        c.close()
    return "error 35, %d APIs, connection kept" % len(ranges)


def api_versions_bad_body(broker, body, what):
    """ApiVersions v3 whose body cannot be read: KIP-511 answers it (error 35, v0 layout)
    instead of closing, so the client can retry v0; the connection must stay usable."""
    c = broker.conn()
    try:
        c.send(rk.frame(hdr(rk.API_API_VERSIONS, 3, corr=5) + body))
        f = c.recv_frame()
        check(struct.unpack(">i", f[:4])[0] == 5, "correlation id")
        err = rk.Reader(f[4:]).i16()
        check(err == UNSUPPORTED_VERSION, "%s: error %d, expected 35" % (what, err))
        check(c.api_versions(0)[0] == NONE, "ApiVersions v0 after")
    finally:
        c.close()
    return "answered error 35, connection kept"


def frames_cases(idle_s, request_max):
    meta = rk.API_METADATA
    prod = rk.API_PRODUCE
    good_batch = rk.record_batch([b"x"])
    cases = [
        ("size socket.request.max.bytes+1", lambda b: expect_closed(b, size_prefix(request_max + 1))),
        ("size 2^31-1", lambda b: expect_closed(b, size_prefix(0x7FFFFFFF))),
        ("size 0", lambda b: expect_closed(b, size_prefix(0))),
        ("size 9 (below a header)", lambda b: expect_closed(b, size_prefix(9))),
        ("size -1", lambda b: expect_closed(b, size_prefix(-1))),
        ("size -2^31", lambda b: expect_closed(b, size_prefix(-0x80000000))),
        ("size past the max after a good request",
         lambda b: expect_closed(b, rk.request(rk.API_API_VERSIONS, 0, 1, b"")
                                 + size_prefix(request_max + 1), answers=1)),
        ("HTTP GET", lambda b: expect_closed(
            b, b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/7.88\r\n\r\n")),
        ("TLS ClientHello", lambda b: expect_closed(b, tls_client_hello())),
        ("partial frame, then silence",
         lambda b: partial_then_silence(b, size_prefix(100, hdr(meta, 4)), idle_s)),
        ("partial size prefix, then silence",
         lambda b: partial_then_silence(b, b"\x00\x00", idle_s)),
        ("unknown API key 999", lambda b: expect_closed(b, rk.frame(hdr(999, 0) + b"\x00" * 8))),
        ("unknown API key -1", lambda b: expect_closed(b, rk.frame(hdr(-1, 0)))),
        ("API key 57, not served", lambda b: expect_closed(b, rk.frame(hdr(57, 0) + b"\x00" * 8))),
        ("Produce v2", lambda b: expect_closed(b, rk.frame(hdr(prod, 2) + rk.produce_body(
            3, [("good", [(0, good_batch)])])))),
        ("Produce v8", lambda b: expect_closed(b, rk.frame(hdr(prod, 8) + rk.produce_body(
            7, [("good", [(0, good_batch)])])))),
        ("Metadata v99", lambda b: expect_closed(b, rk.frame(hdr(meta, 99) + rk.metadata_body(4)))),
        ("Fetch v3", lambda b: expect_closed(b, rk.frame(hdr(rk.API_FETCH, 3) + rk.fetch_body(
            3, [("good", [(0, 0)])])))),
        ("ApiVersions v99", api_versions_v99),
        ("ApiVersions v3, software name past the frame",
         lambda b: api_versions_bad_body(b, rk.uvarint(1000) + b"abc", "name length")),
        ("ApiVersions v3, varint too long",
         lambda b: api_versions_bad_body(b, b"\xff" * 12, "varint")),
        # Lengths and counts past the end of the frame.
        ("header client_id length past the frame",
         lambda b: expect_closed(b, rk.frame(rk.i16(meta) + rk.i16(4) + rk.i32(1) + rk.i16(30000)
                                             + b"abc"))),
        ("header client_id length -2",
         lambda b: expect_closed(b, rk.frame(rk.i16(meta) + rk.i16(4) + rk.i32(1) + rk.i16(-2)
                                             + rk.metadata_body(4)))),
        ("Metadata topics count 2^31-1",
         lambda b: expect_closed(b, rk.frame(hdr(meta, 4) + rk.i32(0x7FFFFFFF) + b"\x01"))),
        ("Metadata topics count -2",
         lambda b: expect_closed(b, rk.frame(hdr(meta, 4) + rk.i32(-2) + b"\x01"))),
        ("Metadata topic name length past the frame",
         lambda b: expect_closed(b, rk.frame(hdr(meta, 4) + rk.i32(1) + rk.i16(32000) + b"ab"))),
        ("Metadata trailing bytes",
         lambda b: expect_closed(b, rk.frame(hdr(meta, 4) + rk.metadata_body(4) + b"junk"))),
        ("Produce topic count 10^9",
         lambda b: expect_closed(b, rk.frame(hdr(prod, 7) + rk.string(None) + rk.i16(1)
                                             + rk.i32(1000) + rk.i32(10**9)))),
        ("Produce partition count 10^9",
         lambda b: expect_closed(b, rk.frame(hdr(prod, 7) + rk.string(None) + rk.i16(1)
                                             + rk.i32(1000) + rk.i32(1) + rk.string("good")
                                             + rk.i32(10**9) + rk.i32(0)))),
        ("Produce records length 2^31-1",
         lambda b: expect_closed(b, rk.frame(hdr(prod, 7) + rk.string(None) + rk.i16(1)
                                             + rk.i32(1000) + rk.i32(1) + rk.string("good")
                                             + rk.i32(1) + rk.i32(0) + rk.i32(0x7FFFFFFF)
                                             + good_batch))),
        ("Produce records length one past the frame",
         lambda b: expect_closed(b, rk.frame(hdr(prod, 7) + rk.string(None) + rk.i16(1)
                                             + rk.i32(1000) + rk.i32(1) + rk.string("good")
                                             + rk.i32(1) + rk.i32(0)
                                             + rk.i32(len(good_batch) + 1) + good_batch))),
        ("Fetch topics count 2^31-1",
         lambda b: expect_closed(b, rk.frame(hdr(rk.API_FETCH, 11) + rk.fetch_body(11, [])[:-14]
                                             + rk.i32(0x7FFFFFFF)))),
        ("InitProducerId truncated",
         lambda b: expect_closed(b, rk.frame(hdr(rk.API_INIT_PRODUCER_ID, 1) + rk.i16(5) + b"ab"))),
        ("CreateTopics topic count 2^31-1",
         lambda b: expect_closed(b, rk.frame(hdr(rk.API_CREATE_TOPICS, 2) + rk.i32(0x7FFFFFFF)))),
    ]
    return cases


def run_frames(broker, args):
    broker.create([("good", 1, 1)])
    broker.produce_good("good", 0, [b"before-%d" % i for i in range(5)])
    return run_cases(broker, frames_cases(args.idle_ms / 1000.0, args.request_max))


# ---- Produce, idempotence, Fetch -------------------------------------------------------------


def expect_produce_error(broker, topic, partition, batch, want, acks=1, version=7):
    want = want if isinstance(want, tuple) else (want,)
    c = broker.conn()
    try:
        err, base = c.produce_one(topic, partition, batch, acks=acks, version=version)
    finally:
        c.close()
    check(err in want, "error %d, expected %s" % (err, "/".join(map(str, want))))
    check(base == -1, "base offset %d with an error" % base)
    return "error %d" % err


def acks_bad(broker, acks):
    c = broker.conn()
    try:
        batch = rk.record_batch([b"acks"])
        out = c.produce([("good", [(0, batch), (1, batch)])], acks=acks)
    finally:
        c.close()
    codes = sorted(e for e, _ in out.values())
    check(codes == [INVALID_REQUIRED_ACKS] * 2, "errors %r, expected 21 for both" % (out,))
    return "error 21 on both partitions"


def unknown_topic(broker):
    note = expect_produce_error(broker, "nope", 0, rk.record_batch([b"n"]),
                                UNKNOWN_TOPIC_OR_PARTITION)
    c = broker.conn()
    try:
        # Produce does not create it, and neither does Metadata with auto-create off.
        _, topics = c.metadata(4, topics=["nope"], allow_auto_create=True)
        check(topics.get("nope", (None,))[0] == UNKNOWN_TOPIC_OR_PARTITION,
              "Metadata for nope: %r" % (topics,))
        _, topics = c.metadata(4, topics=None)
        check("nope" not in topics, "nope was created")
    finally:
        c.close()
    return note + ", not created"


def mixed_good_and_bad(broker):
    """One request, one good and one corrupt partition: each answered on its own."""
    good = rk.record_batch([b"mixed-good"])
    bad = bytearray(rk.record_batch([b"mixed-bad"]))
    bad[-1] ^= 0x01
    c = broker.conn()
    try:
        out = c.produce([("good", [(1, good), (0, bytes(bad))])], acks=-1)
    finally:
        c.close()
    have = broker.stored.setdefault(("good", 1), [])
    check(out[("good", 1)] == (NONE, len(have)), "good part: %r" % (out[("good", 1)],))
    check(out[("good", 0)][0] == CORRUPT_MESSAGE, "bad part: %r" % (out[("good", 0)],))
    have.append(b"mixed-good")
    return "good stored at %d, bad refused with 2" % (len(have) - 1)


def acks0_bad_closes(broker):
    bad = bytearray(rk.record_batch([b"acks0-bad"]))
    bad[-1] ^= 0x01
    return expect_closed(broker, rk.request(rk.API_PRODUCE, 7, 1, rk.produce_body(
        7, [("good", [(0, bytes(bad))])], acks=0)))


def record_varint_too_long(broker):
    rec = b"\xff" * 11  # a record length varint that never ends
    batch = rk.record_batch([b"v"], records=rec)
    return expect_produce_error(broker, "good", 0, batch, BAD_BATCH)


def record_length_past_batch(broker):
    rec = rk.varint(500) + b"\x00" * 10
    batch = rk.record_batch([b"v"], records=rec)
    return expect_produce_error(broker, "good", 0, batch, BAD_BATCH)


def batch_length_wrong(broker, delta):
    b = bytearray(rk.record_batch([b"len"]))
    struct.pack_into(">i", b, 8, struct.unpack_from(">i", b, 8)[0] + delta)
    return expect_produce_error(broker, "good", 0, bytes(b), BAD_BATCH)


def two_batches(broker):
    """Two good batches in one partition's records: stored both (tape allows it) or refused
    whole; never half. Either way the test's expectation follows the answer."""
    data = rk.record_batch([b"two-a"]) + rk.record_batch([b"two-b"])
    c = broker.conn()
    try:
        err, base = c.produce_one("good", 0, data, acks=-1)
    finally:
        c.close()
    if err == NONE:
        have = broker.stored[("good", 0)]
        check(base == len(have), "base %d, expected %d" % (base, len(have)))
        have += [b"two-a", b"two-b"]
        return "both stored at %d" % base
    check(err in BAD_BATCH, "error %d" % err)
    return "refused whole with %d" % err


def produce_cases(message_max):
    vals = [b"bad-1", b"bad-2", b"bad-3"]
    return [
        ("acks=5", lambda b: acks_bad(b, 5)),
        ("acks=-2", lambda b: acks_bad(b, -2)),
        ("unknown topic (auto-create off)", unknown_topic),
        ("unknown partition 7", lambda b: expect_produce_error(
            b, "good", 7, rk.record_batch(vals), UNKNOWN_TOPIC_OR_PARTITION)),
        ("partition -1", lambda b: expect_produce_error(
            b, "good", -1, rk.record_batch(vals), UNKNOWN_TOPIC_OR_PARTITION)),
        ("batch magic 1", lambda b: expect_produce_error(
            b, "good", 0, rk.record_batch(vals, magic=1), BAD_BATCH)),
        ("batch magic 0", lambda b: expect_produce_error(
            b, "good", 0, rk.record_batch(vals, magic=0), BAD_BATCH)),
        ("bad CRC", lambda b: expect_produce_error(
            b, "good", 0, rk.record_batch(vals, crc=0x12345678), CORRUPT_MESSAGE)),
        ("records_count 5 for 3 records", lambda b: expect_produce_error(
            b, "good", 0, rk.record_batch(vals, records_count=5), BAD_BATCH)),
        ("records_count 2 for 3 records", lambda b: expect_produce_error(
            b, "good", 0, rk.record_batch(vals, records_count=2), BAD_BATCH)),
        ("records_count 0", lambda b: expect_produce_error(
            b, "good", 0, rk.record_batch(vals, records_count=0, last_offset_delta=-1), BAD_BATCH)),
        ("records_count -1", lambda b: expect_produce_error(
            b, "good", 0, rk.record_batch(vals, records_count=-1), BAD_BATCH)),
        ("lastOffsetDelta 7 for 3 records", lambda b: expect_produce_error(
            b, "good", 0, rk.record_batch(vals, last_offset_delta=7), BAD_BATCH)),
        ("record length varint too long", record_varint_too_long),
        ("record length past the batch", record_length_past_batch),
        ("batchLength +1", lambda b: batch_length_wrong(b, 1)),
        ("batchLength -1", lambda b: batch_length_wrong(b, -1)),
        ("batchLength -1000", lambda b: batch_length_wrong(b, -1000)),
        ("records null", lambda b: expect_produce_error(b, "good", 0, None, BAD_BATCH)),
        ("records empty", lambda b: expect_produce_error(b, "good", 0, b"", BAD_BATCH)),
        ("records 60 bytes (short header)", lambda b: expect_produce_error(
            b, "good", 0, rk.record_batch(vals)[:60], BAD_BATCH)),
        ("transactional batch", lambda b: expect_produce_error(
            b, "good", 0, rk.record_batch(vals, attributes=0x10, producer_id=1, producer_epoch=0,
                                          base_sequence=0), BAD_BATCH + (48,))),
        ("control batch", lambda b: expect_produce_error(
            b, "good", 0, rk.record_batch(vals, attributes=0x20), BAD_BATCH + (48,))),
        ("batch > message.max.bytes", lambda b: expect_produce_error(
            b, "good", 0, rk.record_batch([b"z" * (message_max + 100)]), MESSAGE_TOO_LARGE)),
        ("batch > message.max.bytes, acks=-1", lambda b: expect_produce_error(
            b, "good", 0, rk.record_batch([b"z" * 1000] * (message_max // 1000 + 2)),
            MESSAGE_TOO_LARGE, acks=-1)),
        ("good and bad partition in one request", mixed_good_and_bad),
        ("acks=0 with a bad CRC closes", acks0_bad_closes),
        ("two batches in one records", two_batches),
    ]


def idempotence(broker):
    c = broker.conn()
    try:
        err, pid, epoch = c.init_producer_id()
        check(err == NONE and pid >= 0 and epoch == 0, "InitProducerId: %r" % ((err, pid, epoch),))

        def send(values, seq, ep=None):
            batch = rk.record_batch(values, producer_id=pid,
                                    producer_epoch=epoch if ep is None else ep, base_sequence=seq)
            return batch, c.produce_one("idem", 0, batch, acks=-1)

        a, (err, base_a) = send([b"a0", b"a1"], 0)
        check(err == NONE and base_a == 0, "first batch: %d at %d" % (err, base_a))
        _, (err, _) = send([b"gap"], 5)
        check(err == OUT_OF_ORDER_SEQUENCE_NUMBER, "sequence gap: error %d, expected 45" % err)
        err, base = c.produce_one("idem", 0, a, acks=-1)
        check((err, base) == (NONE, base_a), "exact retry: %r, expected (0, %d)" % ((err, base),
                                                                                   base_a))
        _, (err, base_b) = send([b"b0", b"b1"], 2)
        check(err == NONE and base_b == 2, "second batch: %d at %d" % (err, base_b))
        err, base = c.produce_one("idem", 0, a, acks=-1)
        check((err, base) == (NONE, base_a), "retry of the older batch: %r" % ((err, base),))
        _, (err, _) = send([b"old"], 1)
        check(err == OUT_OF_ORDER_SEQUENCE_NUMBER, "an old sequence not cached as a batch: "
              "error %d, expected 45" % err)
        _, (err, base_c) = send([b"c0"], 0, ep=epoch + 1)
        check(err == NONE and base_c == 4, "epoch+1, seq 0: %d at %d" % (err, base_c))
        _, (err, _) = send([b"stale"], 4, ep=epoch)
        check(err == INVALID_PRODUCER_EPOCH, "stale epoch: error %d, expected 47" % err)
        _, (err, _) = send([b"d0"], 3, ep=epoch + 1)
        check(err == OUT_OF_ORDER_SEQUENCE_NUMBER, "gap in the new epoch: error %d" % err)
        _, (err, base_d) = send([b"d0"], 1, ep=epoch + 1)
        check(err == NONE and base_d == 5, "next in the new epoch: %d at %d" % (err, base_d))
    finally:
        c.close()
    broker.stored[("idem", 0)] = [b"a0", b"a1", b"b0", b"b1", b"c0", b"d0"]
    return "45 gap, retry -> original offset, 47 stale epoch; stored once"


def fetch_out_of_range(broker):
    stored = broker.stored[("good", 0)]
    hw = len(stored)
    c = broker.conn()
    try:
        for offset in (hw + 1, hw + 1000, 2**62, -1, -5):
            err, got_hw, data = c.fetch([("good", [(0, offset)])])[("good", 0)]
            check(err == OFFSET_OUT_OF_RANGE and not data,
                  "fetch at %d (HW %d): error %d, %d bytes" % (offset, hw, err, len(data)))
        err, got_hw, data = c.fetch([("good", [(0, hw)])], max_wait_ms=10)[("good", 0)]
        check(err == NONE and got_hw == hw and not data, "fetch at the HW: %d, %d bytes" %
              (err, len(data)))
        err, _, _ = c.fetch([("good", [(9, 0)])])[("good", 9)]
        check(err == UNKNOWN_TOPIC_OR_PARTITION, "fetch of an unknown partition: error %d" % err)
        err, _, _ = c.fetch([("nope", [(0, 0)])])[("nope", 0)]
        check(err == UNKNOWN_TOPIC_OR_PARTITION, "fetch of an unknown topic: error %d" % err)
    finally:
        c.close()
    return "error 1 past the HW and below 0; empty at the HW; 3 for unknown"


def run_produce(broker, args):
    broker.create([("good", 2, 1), ("idem", 1, 1)])
    broker.produce_good("good", 0, [b"good-%d" % i for i in range(3)])
    broker.produce_good("good", 1, [b"one-%d" % i for i in range(2)])
    cases = produce_cases(args.message_max)
    cases += [("idempotence", idempotence), ("Fetch out of range", fetch_out_of_range)]
    return run_cases(broker, cases)


# ---- floods: pipelining, connections ---------------------------------------------------------


def pipelined(broker, n=10000):
    """n requests written without reading a reply: Fetch (a 20 KB batch each), Metadata and
    ApiVersions in turn, so handlers of different speeds interleave. The answers cannot all fit
    in the socket buffers, so the broker must stop reading the socket (its Recv-Q fills and
    stays put), serve other connections meanwhile, and answer all n in order once the client
    reads."""
    def req(i):
        if i % 3 == 0:
            return rk.request(rk.API_FETCH, 11, i, rk.fetch_body(11, [("flood", [(0, 0)])]))
        if i % 3 == 1:
            return rk.request(rk.API_METADATA, 4, i, rk.metadata_body(4, None))
        return rk.request(rk.API_API_VERSIONS, 2, i, b"")

    data = b"".join(req(i) for i in range(n))
    rss0 = broker.rss_kib()
    c = broker.conn(rcvbuf=64 * 1024)
    c.sock.setblocking(False)
    sent = 0
    # Write until everything is written or the socket stops taking bytes for a second.
    stalled_since = None
    while sent < len(data):
        try:
            sent += c.sock.send(data[sent:sent + (1 << 20)])
            stalled_since = None
        except BlockingIOError:
            now = time.monotonic()
            stalled_since = stalled_since or now
            if now - stalled_since > 1.0:
                break
            select.select([], [c.sock], [], 0.1)
    local_port = c.sock.getsockname()[1]
    time.sleep(0.3)
    q1 = rk.tcp_recv_queue(broker.port, local_port)
    time.sleep(0.5)
    q2 = rk.tcp_recv_queue(broker.port, local_port)
    check(q1 and q1 == q2, "the broker's Recv-Q: %r -> %r (it kept reading)" % (q1, q2))
    # Others are served meanwhile.
    broker.alive()
    broker.intact()
    rss1 = broker.rss_kib()
    check(rss1 - rss0 < 64 * 1024, "VmRSS grew %d -> %d KiB while flooded" % (rss0, rss1))
    # Now read everything, writing the rest as the socket takes it.
    got = []
    buf = b""
    deadline = time.monotonic() + 60
    while len(got) < n:
        check(time.monotonic() < deadline, "only %d of %d answers in 60s" % (len(got), n))
        w = [c.sock] if sent < len(data) else []
        r, w, _ = select.select([c.sock], w, [], 1.0)
        if w:
            try:
                sent += c.sock.send(data[sent:sent + (1 << 20)])
            except BlockingIOError:
                pass
        if r:
            chunk = c.sock.recv(1 << 20)
            check(chunk, "closed after %d answers" % len(got))
            buf += chunk
            while len(buf) >= 8:
                size = struct.unpack_from(">i", buf)[0]
                if len(buf) < 4 + size:
                    break
                got.append(struct.unpack_from(">i", buf, 4)[0])
                buf = buf[4 + size:]
    c.close()
    bad = [(i, x) for i, x in enumerate(got) if x != i]
    check(len(got) == n and not bad, "%d answers; out of order: %r" % (len(got), bad[:5]))
    return ("%d of %d bytes taken unanswered, %d of them left unread by the broker; %d answers "
            "in order; VmRSS %d -> %d KiB" % (sent, len(data), q1, n, rss0, rss1))


def connect_nb(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.connect_ex((HOST, port))
    return s


def many_connections(broker, n, cap):
    """n connections against max.connections=cap: the first cap stay open and are served, the
    rest are closed at once; afterwards new connections work again."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = n + 100
    if soft < need:
        check(hard >= need, "ulimit -n hard limit %d < %d" % (hard, need))
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    time.sleep(0.5)  # the broker finishes closing the connections of earlier checks
    socks = []
    t0 = time.monotonic()
    try:
        for _ in range(n):
            socks.append(connect_nb(broker.port))
        # Wait until every socket is connected, then until the broker decided on each: an open
        # connection stays silent, a refused one reads EOF.
        closed = set()
        deadline = time.monotonic() + 20
        pending = set(range(n))
        while pending and time.monotonic() < deadline:
            for i in list(pending):
                err = socks[i].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                check(err == 0, "connect %d: errno %d" % (i, err))
                try:
                    socks[i].getpeername()
                    pending.discard(i)
                except OSError:
                    pass
            time.sleep(0.01)
        check(not pending, "%d connects did not complete" % len(pending))
        connect_s = time.monotonic() - t0
        settle = time.monotonic() + 3
        while time.monotonic() < settle:
            poller = select.poll()
            by_fd = {}
            for i, s in enumerate(socks):
                if i not in closed:
                    poller.register(s, select.POLLIN)
                    by_fd[s.fileno()] = i
            for fd, _ in poller.poll(0):
                try:
                    data = socks[by_fd[fd]].recv(16)
                except ConnectionResetError:
                    data = b""
                check(not data, "a connection got data unasked")
                closed.add(by_fd[fd])
            if len(closed) >= n - cap:
                break
            time.sleep(0.05)
        refused_s = time.monotonic() - t0
        check(len(closed) == n - cap, "%d of %d connections closed, expected %d" % (
            len(closed), n, n - cap))
        # The ones kept are served (a sample of them, each with a round trip).
        kept = [i for i in range(n) if i not in closed]
        for i in kept[::100]:
            s = socks[i]
            s.setblocking(True)
            s.settimeout(5)
            s.sendall(rk.request(rk.API_API_VERSIONS, 0, i, b""))
            hdr_ = s.recv(8)
            check(len(hdr_) == 8 and struct.unpack(">i", hdr_[4:])[0] == i,
                  "kept connection %d not served" % i)
        # A new connection now is over the cap: closed at once.
        extra = broker.conn()
        check(extra.wait_closed(2), "a connection over the cap stayed open")
        extra.close()
    finally:
        for s in socks:
            s.close()
    # Once they are gone, new connections are served again (checked by alive() after this).
    deadline = time.monotonic() + 5
    while True:
        try:
            c = broker.conn()
            c.api_versions(0)
            c.close()
            break
        except (rk.Closed, OSError):
            check(time.monotonic() < deadline, "no new connection served 5s after the flood")
            time.sleep(0.1)
    return "%d connects in %.2fs, %d closed at once by %.2fs, %d kept and served" % (
        n, connect_s, len(closed), refused_s, len(kept))


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def out_of_descriptors(broker, n=300):
    """More connections than the broker has descriptors (it runs with a low ulimit -n): it
    backs off on EMFILE instead of spinning, keeps serving the connections it has, and accepts
    again once descriptors are free."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 100), hard))
    socks = [socket.create_connection((HOST, broker.port), timeout=5) for _ in range(n)]
    try:
        time.sleep(0.5)
        t0 = cpu_ticks(broker.pid)
        time.sleep(2)
        ticks = cpu_ticks(broker.pid) - t0
        hz = os.sysconf("SC_CLK_TCK")
        check(ticks < hz // 2, "taped used %d ticks of CPU in 2 s out of descriptors" % ticks)

        def served(group):
            """Sends each an ApiVersions, then counts the answers that come within a second."""
            poller = select.poll()
            for i, s in enumerate(group):
                s.sendall(rk.request(rk.API_API_VERSIONS, 0, i, b""))
                poller.register(s, select.POLLIN)
            index = {s.fileno(): i for i, s in enumerate(group)}
            answered = set()
            deadline = time.monotonic() + 1
            while time.monotonic() < deadline:
                for fd, _ in poller.poll(100):
                    i = index[fd]
                    got = group[i].recv(8)
                    check(len(got) == 8 and struct.unpack(">i", got[4:])[0] == i,
                          "connection %d: %r" % (i, got))
                    answered.add(i)
                    poller.unregister(fd)
            return len(answered)

        first = served(socks)
        check(0 < first < n, "%d of %d connections served out of descriptors" % (first, n))
    finally:
        for s in socks:
            s.close()
    deadline = time.monotonic() + 5
    while True:
        try:
            c = broker.conn(timeout=1)
            c.api_versions(0)
            c.close()
            break
        except (rk.Closed, OSError):
            check(time.monotonic() < deadline, "not accepting again 5 s after the flood")
            time.sleep(0.1)
    return "%d of %d served, %d CPU ticks in 2 s while out of descriptors, accepting again" % (
        first, n, ticks)


def run_emfile(broker, args):
    broker.create([("flood", 1, 1)])
    broker.produce_good("flood", 0, [b"flood-%d" % i for i in range(10)])
    return run_cases(broker, [("out of descriptors (EMFILE)", out_of_descriptors)])


def run_flood(broker, args):
    broker.create([("flood", 1, 1)])
    broker.produce_good("flood", 0, [b"flood-%d" % i for i in range(10)])
    broker.produce_good("flood", 0, [b"f" * 20000])
    return run_cases(broker, [
        ("10000 pipelined requests, replies unread", pipelined),
        ("%d connections, max.connections %d" % (args.connections, args.max_connections),
         lambda b: many_connections(b, args.connections, args.max_connections)),
    ])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("group", choices=["frames", "produce", "flood", "emfile"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--idle-ms", type=int, default=1000)
    ap.add_argument("--request-max", type=int, default=104857600)
    ap.add_argument("--message-max", type=int, default=1048588)
    ap.add_argument("--connections", type=int, default=3000)
    ap.add_argument("--max-connections", type=int, default=1000)
    args = ap.parse_args()
    broker = Broker(args.port, args.pid)
    if not broker.kcat:
        print("bad_input: kcat not found: the kcat -L checks are skipped", file=sys.stderr)
    failed = {"frames": run_frames, "produce": run_produce, "flood": run_flood,
              "emfile": run_emfile}[args.group](
        broker, args)
    if failed:
        print("bad_input %s: %d case(s) FAILED: %s" % (args.group, len(failed), ", ".join(failed)),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
