"""tests/integration/rawkafka.py: a small Kafka client for raw frames, stdlib only.

It writes exactly the bytes a test asks for, good or bad, so the bad-input tests can send what
no real client would: absurd frame sizes, lengths past the frame, wrong CRCs, sequence gaps.
Covers the request header v1/v2, ApiVersions v0-3, Metadata v0-7, Produce v3-7 with
RecordBatch v2 (CRC-32C computed here), Fetch v4-11, InitProducerId v0-1, CreateTopics v0-4,
and the group APIs (FindCoordinator v0-2, JoinGroup v0-5, SyncGroup v0-3, Heartbeat v0-3,
LeaveGroup v0-3, OffsetCommit v2-7, OffsetFetch v1-5, DescribeGroups v0-4, ListGroups v0-2,
DeleteGroups v0-1); and the decoders for their responses. JoinGroup and SyncGroup answers may
be parked by the coordinator: Conn.send_request and Conn.recv_response split a call in two.
Layouts: /work/shared/reference/kafka-protocol.md (sections 3, 5, 6, 10). Nothing here is
clever: every encoder is the field list in wire order.
"""

import errno
import select
import socket
import struct
import time

API_PRODUCE = 0
API_FETCH = 1
API_LIST_OFFSETS = 2
API_METADATA = 3
API_API_VERSIONS = 18
API_CREATE_TOPICS = 19
API_INIT_PRODUCER_ID = 22
API_OFFSET_COMMIT = 8
API_OFFSET_FETCH = 9
API_FIND_COORDINATOR = 10
API_JOIN_GROUP = 11
API_HEARTBEAT = 12
API_LEAVE_GROUP = 13
API_SYNC_GROUP = 14
API_DESCRIBE_GROUPS = 15
API_LIST_GROUPS = 16
API_DELETE_GROUPS = 42

# ---- CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table driven --------------------

_CRC32C_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC32C_TABLE.append(_c)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    table = _CRC32C_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the standard check value

# ---- primitive encoders ---------------------------------------------------------------------


def i8(v):
    return struct.pack(">b", v)


def i16(v):
    return struct.pack(">h", v)


def i32(v):
    return struct.pack(">i", v)


def i64(v):
    return struct.pack(">q", v)


def string(s):
    """string / nullable string: int16 length, -1 = null."""
    if s is None:
        return i16(-1)
    if isinstance(s, str):
        s = s.encode()
    return i16(len(s)) + s


def kbytes(b):
    """bytes / nullable bytes: int32 length, -1 = null."""
    if b is None:
        return i32(-1)
    return i32(len(b)) + b


def array(items, enc=lambda x: x):
    """array: int32 count, -1 = null; enc turns one item into bytes."""
    if items is None:
        return i32(-1)
    return i32(len(items)) + b"".join(enc(x) for x in items)


def uvarint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def varint(v):
    """Signed zig-zag varint (records inside a RecordBatch)."""
    return uvarint((v << 1) ^ (v >> 63) if v < 0 else v << 1)


def compact_string(s):
    if s is None:
        return uvarint(0)
    if isinstance(s, str):
        s = s.encode()
    return uvarint(len(s) + 1) + s


# ---- a cursor over a response ---------------------------------------------------------------


class Reader:
    def __init__(self, data, pos=0):
        self.data = data
        self.pos = pos

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError("read of %d bytes past the end at %d/%d" % (n, self.pos, len(self.data)))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def kbytes(self):
        n = self.i32()
        return None if n < 0 else self.take(n)

    def array(self, fn):
        n = self.i32()
        return None if n < 0 else [fn(self) for _ in range(n)]

    def uvarint(self):
        shift = v = 0
        while True:
            b = self.take(1)[0]
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v
            shift += 7
            if shift > 63:
                raise ValueError("varint too long")

    def varint(self):
        z = self.uvarint()
        return (z >> 1) ^ -(z & 1)

    def compact_array(self, fn):
        n = self.uvarint()
        return None if n == 0 else [fn(self) for _ in range(n - 1)]

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())

    def done(self):
        return self.pos == len(self.data)


# ---- headers and frames ---------------------------------------------------------------------


def request_header(api_key, version, corr, client_id="rawkafka", flexible=False):
    """Request header v1 (v2 when flexible: plus an empty tagged-field section)."""
    h = i16(api_key) + i16(version) + i32(corr) + string(client_id)
    return h + (b"\x00" if flexible else b"")


def frame(payload):
    return i32(len(payload)) + payload


def request(api_key, version, corr, body, client_id="rawkafka", flexible=None):
    if flexible is None:
        flexible = api_key == API_API_VERSIONS and version >= 3
    return frame(request_header(api_key, version, corr, client_id, flexible) + body)


# ---- RecordBatch v2 --------------------------------------------------------------------------


def record(value, key=None, offset_delta=0, ts_delta=0, headers=()):
    body = i8(0) + varint(ts_delta) + varint(offset_delta)
    body += varint(-1) if key is None else varint(len(key)) + key
    body += varint(-1) if value is None else varint(len(value)) + value
    body += varint(len(headers))
    for hk, hv in headers:
        body += varint(len(hk)) + hk
        body += varint(-1) if hv is None else varint(len(hv)) + hv
    return varint(len(body)) + body


def record_batch(values, base_offset=0, producer_id=-1, producer_epoch=-1, base_sequence=-1,
                 timestamp_ms=None, attributes=0, magic=2, records_count=None,
                 last_offset_delta=None, records=None, crc=None, leader_epoch=-1):
    """One RecordBatch v2 of the given values (bytes). Any field can be forced wrong: magic,
    records_count, last_offset_delta, crc; records replaces the encoded records wholesale."""
    if timestamp_ms is None:
        timestamp_ms = int(time.time() * 1000)
    if records is None:
        records = b"".join(record(v, offset_delta=i) for i, v in enumerate(values))
    n = len(values)
    after_crc = (i16(attributes)
                 + i32(n - 1 if last_offset_delta is None else last_offset_delta)
                 + i64(timestamp_ms) + i64(timestamp_ms)
                 + i64(producer_id) + i16(producer_epoch) + i32(base_sequence)
                 + i32(n if records_count is None else records_count) + records)
    if crc is None:
        crc = crc32c(after_crc)
    tail = i32(leader_epoch) + i8(magic) + struct.pack(">I", crc) + after_crc
    return i64(base_offset) + i32(len(tail)) + tail


def batch_records(data):
    """Yields (offset, key, value) of every record in a concatenation of uncompressed
    RecordBatch v2 (a Fetch response's records); a truncated trailing batch is ignored."""
    pos = 0
    while pos + 61 <= len(data):
        base_offset, batch_length = struct.unpack_from(">qi", data, pos)
        end = pos + 12 + batch_length
        if end > len(data):
            return
        magic = data[pos + 16]
        crc = struct.unpack_from(">I", data, pos + 17)[0]
        if magic != 2 or crc32c(data[pos + 21:end]) != crc:
            raise ValueError("bad batch at %d (magic %d)" % (pos, magic))
        attributes = struct.unpack_from(">h", data, pos + 21)[0]
        if attributes & 7:
            raise ValueError("compressed batch: not decoded here")
        count = struct.unpack_from(">i", data, pos + 57)[0]
        r = Reader(data[pos + 61:end])
        for _ in range(count):
            length = r.varint()
            rec = Reader(r.take(length))
            rec.i8()
            rec.varint()
            offset_delta = rec.varint()
            kl = rec.varint()
            key = None if kl < 0 else rec.take(kl)
            vl = rec.varint()
            value = None if vl < 0 else rec.take(vl)
            yield base_offset + offset_delta, key, value
        pos = end


# ---- request bodies --------------------------------------------------------------------------


def api_versions_body(version):
    if version >= 3:
        return compact_string("rawkafka") + compact_string("0.1") + b"\x00"
    return b""


def metadata_body(version, topics=None, allow_auto_create=True):
    """topics None = all topics (v1+; v0 has no null: [] means all)."""
    if version == 0 and topics is None:
        topics = []
    body = array(topics, string)
    if version >= 4:
        body += i8(1 if allow_auto_create else 0)
    return body


def produce_body(version, topic_data, acks=1, timeout_ms=5000, transactional_id=None):
    """topic_data: [(topic, [(partition, records_bytes), ...]), ...]"""
    body = string(transactional_id) if version >= 3 else b""
    body += i16(acks) + i32(timeout_ms)
    body += array(topic_data, lambda t: string(t[0]) + array(
        t[1], lambda p: i32(p[0]) + kbytes(p[1])))
    return body


def fetch_body(version, topics, max_wait_ms=0, min_bytes=1, max_bytes=50 << 20,
               partition_max_bytes=10 << 20):
    """topics: [(topic, [(partition, fetch_offset), ...]), ...]"""
    body = i32(-1) + i32(max_wait_ms) + i32(min_bytes)
    if version >= 3:
        body += i32(max_bytes)
    if version >= 4:
        body += i8(0)
    if version >= 7:
        body += i32(0) + i32(-1)

    def part(p):
        b = i32(p[0])
        if version >= 9:
            b += i32(-1)
        b += i64(p[1])
        if version >= 5:
            b += i64(-1)
        return b + i32(partition_max_bytes)

    body += array(topics, lambda t: string(t[0]) + array(t[1], part))
    if version >= 7:
        body += array([])
    if version >= 11:
        body += string("")
    return body


def init_producer_id_body(version=1, transactional_id=None, timeout_ms=60000):
    return string(transactional_id) + i32(timeout_ms)


def create_topics_body(version, topics, timeout_ms=5000):
    """topics: [(name, partitions, replication_factor), ...]"""
    body = array(topics, lambda t: string(t[0]) + i32(t[1]) + i16(t[2]) + array([]) + array([]))
    body += i32(timeout_ms)
    if version >= 1:
        body += i8(0)
    return body


# ---- response decoders -----------------------------------------------------------------------


def parse_api_versions(payload, version):
    """payload after the correlation id. Returns (error_code, {api_key: (min, max)})."""
    r = Reader(payload)
    err = r.i16()

    def key(rr):
        k = (rr.i16(), rr.i16(), rr.i16())
        if version >= 3:
            rr.tags()
        return k

    keys = r.compact_array(key) if version >= 3 else r.array(key)
    return err, {k: (lo, hi) for k, lo, hi in keys or []}


def parse_metadata(payload, version):
    r = Reader(payload)
    if version >= 3:
        r.i32()

    def broker(rr):
        b = (rr.i32(), rr.string(), rr.i32())
        if version >= 1:
            rr.string()
        return b

    brokers = r.array(broker)
    if version >= 2:
        r.string()
    if version >= 1:
        r.i32()

    def part(rr):
        err, idx, leader = rr.i16(), rr.i32(), rr.i32()
        if version >= 7:
            rr.i32()
        rr.array(Reader.i32)
        rr.array(Reader.i32)
        if version >= 5:
            rr.array(Reader.i32)
        return idx, err, leader

    def topic(rr):
        err, name = rr.i16(), rr.string()
        if version >= 1:
            rr.i8()
        parts = rr.array(part)
        return name, err, parts

    topics = r.array(topic)
    return brokers, {t[0]: (t[1], t[2]) for t in topics}


def parse_produce(payload, version):
    """Returns {(topic, partition): (error_code, base_offset)}."""
    r = Reader(payload)
    out = {}
    for _ in range(r.i32()):
        name = r.string()
        for _ in range(r.i32()):
            idx, err, base = r.i32(), r.i16(), r.i64()
            if version >= 2:
                r.i64()
            if version >= 5:
                r.i64()
            out[(name, idx)] = (err, base)
    if version >= 1:
        r.i32()
    return out


def parse_fetch(payload, version):
    """Returns {(topic, partition): (error_code, high_watermark, records_bytes)}."""
    r = Reader(payload)
    r.i32()
    if version >= 7:
        r.i16()
        r.i32()
    out = {}
    for _ in range(r.i32()):
        name = r.string()
        for _ in range(r.i32()):
            idx, err, hw = r.i32(), r.i16(), r.i64()
            r.i64()
            if version >= 5:
                r.i64()
            r.array(lambda rr: (rr.i64(), rr.i64()))
            if version >= 11:
                r.i32()
            out[(name, idx)] = (err, hw, r.kbytes() or b"")
    return out


def parse_init_producer_id(payload):
    r = Reader(payload)
    r.i32()
    return r.i16(), r.i64(), r.i16()


def parse_create_topics(payload, version):
    r = Reader(payload)
    if version >= 2:
        r.i32()
    out = {}
    for _ in range(r.i32()):
        name, err = r.string(), r.i16()
        if version >= 1:
            r.string()
        out[name] = err
    return out


# ---- consumer groups: request bodies ---------------------------------------------------------


def find_coordinator_body(version, key, key_type=0):
    return string(key) + (i8(key_type) if version >= 1 else b"")


def join_group_body(version, group, member_id="", protocols=(("range", b""),),
                    session_timeout_ms=10000, rebalance_timeout_ms=10000,
                    group_instance_id=None, protocol_type="consumer"):
    """protocols: [(name, metadata_bytes), ...]"""
    body = string(group) + i32(session_timeout_ms)
    if version >= 1:
        body += i32(rebalance_timeout_ms)
    body += string(member_id)
    if version >= 5:
        body += string(group_instance_id)
    body += string(protocol_type)
    body += array(list(protocols), lambda p: string(p[0]) + kbytes(p[1]))
    return body


def sync_group_body(version, group, generation, member_id, assignments=(),
                    group_instance_id=None):
    """assignments: [(member_id, assignment_bytes), ...] (the leader's; [] from followers)"""
    body = string(group) + i32(generation) + string(member_id)
    if version >= 3:
        body += string(group_instance_id)
    return body + array(list(assignments), lambda a: string(a[0]) + kbytes(a[1]))


def heartbeat_body(version, group, generation, member_id, group_instance_id=None):
    body = string(group) + i32(generation) + string(member_id)
    if version >= 3:
        body += string(group_instance_id)
    return body


def leave_group_body(version, group, member_id="", members=()):
    """v0-2: member_id; v3: members [(member_id, group_instance_id), ...]"""
    if version < 3:
        return string(group) + string(member_id)
    return string(group) + array(list(members), lambda m: string(m[0]) + string(m[1]))


def offset_commit_body(version, group, topics, generation=-1, member_id="",
                       group_instance_id=None, retention_time_ms=-1):
    """topics: [(topic, [(partition, offset, metadata_or_None), ...]), ...]"""
    body = string(group) + i32(generation) + string(member_id)
    if version >= 7:
        body += string(group_instance_id)
    if 2 <= version <= 4:
        body += i64(retention_time_ms)

    def part(p):
        b = i32(p[0]) + i64(p[1])
        if version >= 6:
            b += i32(-1)
        return b + string(p[2])

    return body + array(list(topics), lambda t: string(t[0]) + array(list(t[1]), part))


def offset_fetch_body(version, group, topics=None):
    """topics: [(topic, [partition, ...]), ...], or None = every committed partition (v2+)."""
    return string(group) + array(topics, lambda t: string(t[0]) + array(list(t[1]), i32))


def describe_groups_body(version, groups):
    body = array(list(groups), string)
    if version >= 3:
        body += i8(0)
    return body


def delete_groups_body(version, groups):
    return array(list(groups), string)


# The consumer protocol payloads (kafka-protocol.md 10.2), for members that act like clients.
def consumer_subscription(topics, version=0, user_data=b""):
    body = i16(version) + array(list(topics), string) + kbytes(user_data)
    if version >= 1:
        body += array([])  # owned partitions
    return body


def consumer_assignment(parts, user_data=b""):
    """parts: {topic: [partition, ...]}"""
    return i16(0) + array(sorted(parts.items()),
                          lambda t: string(t[0]) + array(sorted(t[1]), i32)) + kbytes(user_data)


def parse_consumer_assignment(data):
    """{topic: [partition, ...]} of a ConsumerProtocolAssignment; {} for empty bytes."""
    if not data:
        return {}
    r = Reader(data)
    r.i16()
    return dict(r.array(lambda rr: (rr.string(), rr.array(Reader.i32))) or [])


# ---- consumer groups: response decoders ------------------------------------------------------


def parse_find_coordinator(payload, version):
    """Returns (error_code, node_id, host, port)."""
    r = Reader(payload)
    if version >= 1:
        r.i32()
    err = r.i16()
    if version >= 1:
        r.string()
    return err, r.i32(), r.string(), r.i32()


def parse_join_group(payload, version):
    """Returns a dict: error, generation, protocol, leader, member_id, members [(id, instance,
    metadata)]."""
    r = Reader(payload)
    if version >= 2:
        r.i32()
    out = {"error": r.i16(), "generation": r.i32(), "protocol": r.string(),
           "leader": r.string(), "member_id": r.string()}

    def member(rr):
        mid = rr.string()
        inst = rr.string() if version >= 5 else None
        return mid, inst, rr.kbytes()

    out["members"] = r.array(member)
    if not r.done():
        raise ValueError("JoinGroup v%d: %d bytes left over" % (version, len(r.data) - r.pos))
    return out


def parse_sync_group(payload, version):
    """Returns (error_code, assignment_bytes)."""
    r = Reader(payload)
    if version >= 1:
        r.i32()
    return r.i16(), r.kbytes()


def parse_heartbeat(payload, version):
    r = Reader(payload)
    if version >= 1:
        r.i32()
    return r.i16()


def parse_leave_group(payload, version):
    """Returns (error_code, [(member_id, group_instance_id, error_code), ...]) (v3: the list)."""
    r = Reader(payload)
    if version >= 1:
        r.i32()
    err = r.i16()
    members = []
    if version >= 3:
        members = r.array(lambda rr: (rr.string(), rr.string(), rr.i16()))
    return err, members


def parse_offset_commit(payload, version):
    """Returns {(topic, partition): error_code}."""
    r = Reader(payload)
    if version >= 3:
        r.i32()
    out = {}
    for _ in range(r.i32()):
        name = r.string()
        for _ in range(r.i32()):
            idx = r.i32()
            out[(name, idx)] = r.i16()
    return out


def parse_offset_fetch(payload, version):
    """Returns (group_error_code, {(topic, partition): (offset, metadata, error_code)}); the
    metadata is None when the broker answers null."""
    r = Reader(payload)
    if version >= 3:
        r.i32()
    out = {}
    for _ in range(r.i32()):
        name = r.string()
        for _ in range(r.i32()):
            idx, off = r.i32(), r.i64()
            if version >= 5:
                r.i32()
            meta = r.string()
            out[(name, idx)] = (off, meta, r.i16())
    err = r.i16() if version >= 2 else 0
    return err, out


def parse_describe_groups(payload, version):
    """Returns {group_id: dict(error, state, protocol_type, protocol, members [(member_id,
    instance, client_id, client_host, metadata, assignment)])}."""
    r = Reader(payload)
    if version >= 1:
        r.i32()

    def member(rr):
        mid = rr.string()
        inst = rr.string() if version >= 4 else None
        return (mid, inst, rr.string(), rr.string(), rr.kbytes(), rr.kbytes())

    out = {}
    for _ in range(r.i32()):
        err, gid = r.i16(), r.string()
        g = {"error": err, "state": r.string(), "protocol_type": r.string(),
             "protocol": r.string(), "members": r.array(member)}
        if version >= 3:
            r.i32()
        out[gid] = g
    return out


def parse_list_groups(payload, version):
    """Returns (error_code, {group_id: protocol_type})."""
    r = Reader(payload)
    if version >= 1:
        r.i32()
    err = r.i16()
    return err, dict(r.array(lambda rr: (rr.string(), rr.string())) or [])


def parse_delete_groups(payload, version):
    """Returns {group_id: error_code}."""
    r = Reader(payload)
    r.i32()
    return dict(r.array(lambda rr: (rr.string(), rr.i16())) or [])


# ---- a connection ----------------------------------------------------------------------------


class Closed(Exception):
    pass


class Conn:
    def __init__(self, host, port, timeout=5.0, rcvbuf=None, sndbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if sndbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.corr = 0
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def next_corr(self):
        self.corr += 1
        return self.corr

    def _fill(self, n):
        while len(self.buf) < n:
            try:
                chunk = self.sock.recv(max(65536, n - len(self.buf)))
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise Closed("closed by the broker after %d bytes" % len(self.buf))
            self.buf += chunk

    def recv_frame(self):
        """One response frame, without its size prefix; raises Closed on EOF, socket.timeout
        when nothing arrives in time."""
        self._fill(4)
        n = struct.unpack(">i", self.buf[:4])[0]
        self._fill(4 + n)
        f, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
        return f

    def call(self, api_key, version, body, client_id="rawkafka"):
        """Sends a request, returns the response payload after the response header (v0: the
        correlation id, checked)."""
        return self.recv_response(self.send_request(api_key, version, body, client_id))

    def send_request(self, api_key, version, body, client_id="rawkafka"):
        """The first half of call(): sends, returns the correlation id to wait for."""
        corr = self.next_corr()
        self.send(request(api_key, version, corr, body, client_id))
        return corr

    def recv_response(self, corr, timeout=None):
        """The second half of call(): the next response, which must carry corr; raises
        socket.timeout when none arrives within timeout seconds (default: the socket's)."""
        old = self.sock.gettimeout()
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            f = self.recv_frame()
        finally:
            self.sock.settimeout(old)
        got = struct.unpack(">i", f[:4])[0]
        if got != corr:
            raise AssertionError("correlation id %d, expected %d" % (got, corr))
        return f[4:]

    def wait_closed(self, timeout):
        """True if the broker closes the connection within timeout seconds (data it sends
        first is read and dropped), False if it stays open."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            p = select.poll()  # not select(): tests hold more than FD_SETSIZE sockets
            p.register(self.sock, select.POLLIN)
            if not p.poll(left * 1000):
                return False
            try:
                if not self.sock.recv(65536):
                    return True
            except (ConnectionResetError, BrokenPipeError):
                return True
            except OSError as e:
                if e.errno in (errno.ECONNRESET, errno.EPIPE):
                    return True
                raise

    # Convenience round trips.
    def api_versions(self, version=0):
        return parse_api_versions(self.call(API_API_VERSIONS, version, api_versions_body(version)),
                                  version)

    def metadata(self, version=4, topics=None, allow_auto_create=True):
        return parse_metadata(self.call(API_METADATA, version,
                                        metadata_body(version, topics, allow_auto_create)), version)

    def produce(self, topic_data, version=7, acks=1, timeout_ms=5000):
        return parse_produce(self.call(API_PRODUCE, version,
                                       produce_body(version, topic_data, acks, timeout_ms)), version)

    def produce_one(self, topic, partition, batch, **kw):
        return self.produce([(topic, [(partition, batch)])], **kw)[(topic, partition)]

    def fetch(self, topics, version=11, **kw):
        return parse_fetch(self.call(API_FETCH, version, fetch_body(version, topics, **kw)),
                           version)

    def init_producer_id(self):
        return parse_init_producer_id(self.call(API_INIT_PRODUCER_ID, 1,
                                                init_producer_id_body(1)))

    def create_topics(self, topics, version=2):
        return parse_create_topics(self.call(API_CREATE_TOPICS, version,
                                             create_topics_body(version, topics)), version)

    # Consumer groups. join_group and sync_group wait for the answer; to leave one parked, use
    # send_request(API_JOIN_GROUP, v, join_group_body(...)) and recv_response later.
    def find_coordinator(self, key, version=2, key_type=0):
        return parse_find_coordinator(self.call(API_FIND_COORDINATOR, version,
                                                find_coordinator_body(version, key, key_type)),
                                      version)

    def join_group(self, group, version=5, timeout=None, **kw):
        corr = self.send_request(API_JOIN_GROUP, version, join_group_body(version, group, **kw))
        return parse_join_group(self.recv_response(corr, timeout), version)

    def sync_group(self, group, generation, member_id, assignments=(), version=3, timeout=None,
                   **kw):
        corr = self.send_request(API_SYNC_GROUP, version,
                                 sync_group_body(version, group, generation, member_id,
                                                 assignments, **kw))
        return parse_sync_group(self.recv_response(corr, timeout), version)

    def heartbeat(self, group, generation, member_id, version=3, **kw):
        return parse_heartbeat(self.call(API_HEARTBEAT, version,
                                         heartbeat_body(version, group, generation, member_id,
                                                        **kw)), version)

    def leave_group(self, group, member_id="", members=(), version=3):
        if version >= 3 and not members and member_id:
            members = [(member_id, None)]
        return parse_leave_group(self.call(API_LEAVE_GROUP, version,
                                           leave_group_body(version, group, member_id, members)),
                                 version)

    def offset_commit(self, group, topics, version=7, **kw):
        return parse_offset_commit(self.call(API_OFFSET_COMMIT, version,
                                             offset_commit_body(version, group, topics, **kw)),
                                   version)

    def offset_fetch(self, group, topics=None, version=5):
        return parse_offset_fetch(self.call(API_OFFSET_FETCH, version,
                                            offset_fetch_body(version, group, topics)), version)

    def describe_groups(self, groups, version=4):
        return parse_describe_groups(self.call(API_DESCRIBE_GROUPS, version,
                                               describe_groups_body(version, groups)), version)

    def list_groups(self, version=2):
        return parse_list_groups(self.call(API_LIST_GROUPS, version, b""), version)

    def delete_groups(self, groups, version=1):
        return parse_delete_groups(self.call(API_DELETE_GROUPS, version,
                                             delete_groups_body(version, groups)), version)


def read_partition(host, port, topic, partition, start=0, timeout=10.0):
    """Every record of a partition from start up to its high watermark, as [(offset, value)].
    The high watermark is read first, so records acknowledged before the call are all in."""
    c = Conn(host, port)
    try:
        err, hw, _ = c.fetch([(topic, [(partition, start)])], max_bytes=0,
                             partition_max_bytes=0)[(topic, partition)]
        if err:
            raise AssertionError("fetch %s-%d@%d: error %d" % (topic, partition, start, err))
        out = []
        offset = start
        deadline = time.monotonic() + timeout
        while offset < hw:
            if time.monotonic() > deadline:
                raise AssertionError("%s-%d: stuck at %d below HW %d" % (topic, partition,
                                                                         offset, hw))
            err, _, data = c.fetch([(topic, [(partition, offset)])],
                                   max_wait_ms=100)[(topic, partition)]
            if err:
                raise AssertionError("fetch %s-%d@%d: error %d" % (topic, partition, offset, err))
            recs = [(o, v) for o, _, v in batch_records(data) if o >= offset]
            out += recs
            if recs:
                offset = recs[-1][0] + 1
        return out
    finally:
        c.close()


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def tcp_recv_queue(local_port, remote_port):
    """The Recv-Q of the IPv4 socket local_port <-> remote_port (from /proc/net/tcp), or None."""
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            lp = int(fields[1].split(":")[1], 16)
            rp = int(fields[2].split(":")[1], 16)
            if lp == local_port and rp == remote_port:
                return int(fields[4].split(":")[1], 16)
    return None
