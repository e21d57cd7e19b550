#!/usr/bin/env python3
"""tests/fuzz/capture_seeds.py: fuzz seeds from real client traffic (see corpus/README.md).

Starts taped (BUILD/bin/taped) behind a logging TCP proxy that it advertises as itself, so every
connection a client opens goes through the proxy; runs kcat (librdkafka) through the usual
commands (metadata, produce with acks 0/1/all, idempotence, keys and headers, every codec,
consume from several positions, offsets by time), and kafkajs when tests/integration/js has
node_modules; then writes each distinct request and response body, in the input format of its
fuzz target, to tests/fuzz/corpus/<target>/. Stdlib only.

Usage: tests/fuzz/capture_seeds.py BUILD_DIR [--out DIR]   (default: tests/fuzz/corpus)
"""

import argparse
import hashlib
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import rawkafka as rk  # noqa: E402

API_NAMES = {0: "produce", 1: "fetch", 2: "list_offsets", 3: "metadata", 18: "api_versions",
             19: "create_topics", 20: "delete_topics", 22: "init_producer_id"}
# First flexible version per API (protocol/api.c): the request header is v2 from there.
FLEXIBLE_FROM = {0: 9, 1: 12, 2: 6, 3: 9, 18: 3, 19: 5, 20: 4, 22: 2}
# Lowest version each target decodes: its first byte is (version - min), | 0x80 for responses
# where the target takes responses too.
TARGET_MIN = {0: 3, 1: 4, 2: 0, 3: 0, 18: 0, 19: 0, 20: 0, 22: 0}
TARGET_RESPONSES = {0, 1, 2}
SEEDS_PER_KIND = 6  # distinct seeds kept per (target, api, version, direction)
SEED_BYTES_MAX = 64 * 1024


class Log:
    """Frames seen by the proxy: (connection, direction, frame bytes incl. size prefix)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.frames = []
        self.streams = {}  # connection -> client bytes, in order

    def add(self, conn, direction, frame):
        with self.lock:
            self.frames.append((conn, direction, frame))
            if direction == "req":
                self.streams[conn] = self.streams.get(conn, b"") + frame


def pump(src, dst, conn, direction, log):
    buf = b""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
            buf += data
            while len(buf) >= 4:
                n = struct.unpack(">i", buf[:4])[0]
                if len(buf) < 4 + n:
                    break
                log.add(conn, direction, buf[:4 + n])
                buf = buf[4 + n:]
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def proxy(listener, broker_port, log, stop):
    n = 0
    listener.settimeout(0.2)
    while not stop.is_set():
        try:
            client, _ = listener.accept()
        except socket.timeout:
            continue
        n += 1
        upstream = socket.create_connection(("127.0.0.1", broker_port))
        for a, b, d in ((client, upstream, "req"), (upstream, client, "resp")):
            threading.Thread(target=pump, args=(a, b, n, d, log), daemon=True).start()


def run(cmd, stdin=None, timeout=20):
    p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)
    status = "ok" if p.returncode == 0 else "exit %d" % p.returncode
    print("capture: %-60s %s" % (" ".join(cmd)[:60], status), flush=True)
    return p


def kcat_traffic(bootstrap):
    k = ["kcat", "-b", bootstrap]
    lines = b"".join(b"event %d of a fairly repetitive stream of seed records\n" % i
                     for i in range(60))
    keyed = b"".join(b"k%d:value %d\n" % (i, i) for i in range(5))
    run(k + ["-L"])
    run(k + ["-P", "-t", "seeds", "-p", "0"], lines)
    run(k + ["-P", "-t", "seeds", "-K:", "-H", "h1=v1", "-H", "h2=", "-X", "acks=all"], keyed)
    run(k + ["-P", "-t", "seeds", "-X", "enable.idempotence=true"], lines[:300])
    run(k + ["-P", "-t", "seeds", "-X", "acks=0"], b"fire and forget\n")
    for codec in ("gzip", "snappy", "lz4", "zstd"):
        run(k + ["-P", "-t", "seeds", "-z", codec, "-X", "linger.ms=50"], lines)
    run(k + ["-L", "-t", "seeds"])
    ts = int(time.time() * 1000) - 60000
    for start in ("beginning", "2", "-3", "end", "s@%d" % ts):
        run(k + ["-C", "-t", "seeds", "-o", start, "-e", "-q"])
    run(k + ["-C", "-t", "seeds", "-p", "0", "-o", "beginning", "-c", "5", "-q", "-X",
             "fetch.message.max.bytes=1000", "-X", "fetch.wait.max.ms=10"])
    run(k + ["-Q", "-t", "seeds:0:%d" % ts])
    run(k + ["-C", "-t", "nosuchtopic", "-e", "-q", "-m", "2"], timeout=10)


def kafkajs_traffic(bootstrap, js_dir):
    script = r"""
const { Kafka, CompressionTypes, logLevel } = require('kafkajs');
(async () => {
  const kafka = new Kafka({ clientId: 'seeds', brokers: [process.argv[2]], logLevel: logLevel.NOTHING });
  const admin = kafka.admin(); await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'jsseeds', numPartitions: 2 }] });
  await admin.fetchTopicOffsets('jsseeds');
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 }); await p.connect();
  await p.send({ topic: 'jsseeds', messages: [{ key: 'a', value: 'one', headers: { h: 'v' } }, { value: 'two' }] });
  await p.send({ topic: 'jsseeds', compression: CompressionTypes.GZIP,
                 messages: Array.from({ length: 30 }, (_, i) => ({ value: 'gzip ' + i })) });
  await p.disconnect();
  await admin.deleteTopics({ topics: ['jsseeds'] });
  await admin.disconnect();
})().catch(e => { console.error(e); process.exit(1); });
"""
    p = subprocess.run(["node", "-e", script, bootstrap], capture_output=True, timeout=60,
                       cwd=js_dir)
    print("capture: kafkajs admin/producer %s" % ("ok" if p.returncode == 0 else
                                                  p.stderr.decode()[-300:]), flush=True)


def split_request(frame):
    """(api_key, version, correlation_id, body) of a request frame."""
    r = rk.Reader(frame, 4)
    key, ver, corr = r.i16(), r.i16(), r.i32()
    r.string()
    if key in FLEXIBLE_FROM and ver >= FLEXIBLE_FROM[key]:
        r.tags()
    return key, ver, corr, frame[r.pos:]


def batches(records):
    pos = 0
    while pos + 61 <= len(records):
        n = 12 + struct.unpack_from(">i", records, pos + 8)[0]
        if n < 61 or pos + n > len(records):
            return
        yield records[pos:pos + n]
        pos += n


def produce_records(body, version):
    r = rk.Reader(body)
    r.string()
    r.i16()
    r.i32()
    for _ in range(r.i32()):
        r.string()
        for _ in range(r.i32()):
            r.i32()
            data = r.kbytes()
            if data:
                yield data


def fetch_records(body, version):
    try:
        return [records for _, _, records in rk.parse_fetch(body, version).values()]
    except ValueError:
        return []


class Seeds:
    def __init__(self, out):
        self.out = out
        self.kinds = {}
        self.written = {}

    def add(self, target, kind, data):
        if len(data) > SEED_BYTES_MAX:
            return
        k = (target, kind)
        seen = self.kinds.setdefault(k, set())
        h = hashlib.sha1(data).hexdigest()[:10]
        if h in seen or len(seen) >= SEEDS_PER_KIND:
            return
        seen.add(h)
        d = os.path.join(self.out, target)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "%s-%s" % (kind, h)), "wb") as f:
            f.write(data)
        self.written[target] = self.written.get(target, 0) + 1


def write_seeds(log, out, client):
    seeds = Seeds(out)
    pending = {}  # (conn, corr) -> (key, version)
    for conn, direction, frame in log.frames:
        if direction == "req":
            key, ver, corr, body = split_request(frame)
            pending[(conn, corr)] = (key, ver)
            name = API_NAMES.get(key)
            if name:
                target = "fuzz_%s_request" % name
                seeds.add(target, "%s-req-v%d" % (client, ver),
                          bytes([ver - TARGET_MIN[key]]) + body)
            seeds.add("fuzz_frame", "%s-%s-v%d" % (client, name or key, ver), b"\x01" + frame)
            if key == 0:
                for records in produce_records(body, ver):
                    for b in batches(records):
                        codec = struct.unpack_from(">h", b, 21)[0] & 7
                        seeds.add("fuzz_record_batch", "%s-produce-codec%d" % (client, codec), b)
                        if codec:
                            seeds.add("fuzz_decompress", "%s-codec%d" % (client, codec),
                                      bytes([codec]) + b[61:])
        else:
            corr = struct.unpack_from(">i", frame, 4)[0]
            key, ver = pending.pop((conn, corr), (None, None))
            if key in TARGET_RESPONSES:
                body = frame[8:]
                seeds.add("fuzz_%s_request" % API_NAMES[key], "%s-resp-v%d" % (client, ver),
                          bytes([0x80 | (ver - TARGET_MIN[key])]) + body)
                if key == 1:
                    for records in fetch_records(body, ver):
                        for b in batches(records):
                            codec = struct.unpack_from(">h", b, 21)[0] & 7
                            seeds.add("fuzz_record_batch", "%s-fetched-codec%d" % (client, codec),
                                      b)
    # Whole client streams, as a connection receives them (first byte: the chunking seed).
    for conn, stream in sorted(log.streams.items()):
        seeds.add("fuzz_frame", "%s-stream" % client, b"\x01" + stream[:SEED_BYTES_MAX - 1])
    return seeds.written


def segment_seeds(data_dir, out):
    """The segments taped wrote, cut after their last batch (the rest is preallocated zeros),
    as seeds for fuzz_recovery."""
    seeds = Seeds(out)
    for root, _, files in sorted(os.walk(data_dir)):
        for f in sorted(files):
            if not f.endswith(".log"):
                continue
            with open(os.path.join(root, f), "rb") as fh:
                data = fh.read()
            end = sum(len(b) for b in batches(data))
            if end:
                seeds.add("fuzz_recovery", "kcat-segment", data[:end])
    return seeds.written.get("fuzz_recovery", 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--out", default=os.path.join(HERE, "corpus"))
    args = ap.parse_args()
    taped = os.path.join(args.build, "bin", "taped")
    if not shutil.which("kcat"):
        sys.exit("capture_seeds: kcat is not installed")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    proxy_port = listener.getsockname()[1]
    tmp = tempfile.mkdtemp()
    broker = subprocess.Popen([taped, "--override", "listeners=PLAINTEXT://127.0.0.1:0",
                               "--override", "advertised.listeners=PLAINTEXT://127.0.0.1:%d"
                               % proxy_port, "--override", "log.dirs=%s/data" % tmp],
                              stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "err"), "w"))
    try:
        line = broker.stdout.readline().decode()
        broker_port = int(line.split("listening on ")[1].split(" ")[0].rsplit(":", 1)[1])
        totals = {}
        for client in ("kcat", "kafkajs"):
            log = Log()
            stop = threading.Event()
            t = threading.Thread(target=proxy, args=(listener, broker_port, log, stop),
                                 daemon=True)
            t.start()
            bootstrap = "127.0.0.1:%d" % proxy_port
            if client == "kcat":
                kcat_traffic(bootstrap)
            else:
                js = os.path.join(HERE, "..", "integration", "js")
                if not os.path.isdir(os.path.join(js, "node_modules", "kafkajs")):
                    print("capture: kafkajs skipped: %s/node_modules/kafkajs is missing" % js)
                    stop.set()
                    t.join()
                    continue
                kafkajs_traffic(bootstrap, js)
            time.sleep(0.5)
            stop.set()
            t.join()
            for target, n in write_seeds(log, args.out, client).items():
                totals[target] = totals.get(target, 0) + n
        for target, n in sorted(totals.items()):
            print("capture: %-32s %d seeds" % (target, n))
        broker.terminate()
        broker.wait(timeout=10)
        n = segment_seeds(os.path.join(tmp, "data"), args.out)
        print("capture: %-32s %d seeds" % ("fuzz_recovery", n))
    finally:
        if broker.poll() is None:
            broker.kill()
            broker.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
