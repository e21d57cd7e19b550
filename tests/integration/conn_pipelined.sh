#!/usr/bin/env bash
# tests/integration/conn_pipelined.sh: one connection pipelining 10000 requests (ApiVersions
# v0 and Metadata v1, alternating) while it reads the answers: every request is answered, in
# order (correlation ids 0..9999), although at most CONN_REQUESTS_MAX (64) are held at once.
# Regression: once 64 requests were queued, taped stopped reading the socket and never started
# again after answering them, so a client with more in flight (kcat producing small batches
# into a new topic did) hung until its request timeout.
set -uo pipefail
. "$(dirname "$0")/kcat_lib.sh"
require_cmd python3

start_taped "$WORK/data"
timeout 60 python3 - "$TAPED_PORT" <<'PY' || fail "pipelined requests (python exited $?)"
import socket, struct, sys, threading

N = 10000
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10)

def request(i):
    if i % 2 == 0:  # ApiVersions v0: empty body
        body = struct.pack(">hhih", 18, 0, i, 4) + b"pipe"
    else:  # Metadata v1: topics = [] (brokers only)
        body = struct.pack(">hhih", 3, 1, i, 4) + b"pipe" + struct.pack(">i", 0)
    return struct.pack(">i", len(body)) + body

def send():
    for i in range(0, N, 500):
        s.sendall(b"".join(request(j) for j in range(i, min(N, i + 500))))

threading.Thread(target=send, daemon=True).start()
got, buf = 0, b""
while got < N:
    try:
        d = s.recv(1 << 16)
    except socket.timeout:
        sys.exit("answered %d of %d, then nothing for 10 s" % (got, N))
    if not d:
        sys.exit("closed after %d answers" % got)
    buf += d
    while len(buf) >= 8:
        n = struct.unpack(">i", buf[:4])[0]
        if len(buf) < 4 + n:
            break
        cid = struct.unpack(">i", buf[4:8])[0]
        if cid != got:
            sys.exit("answer %d has correlation id %d" % (got, cid))
        got += 1
        buf = buf[4 + n:]
print("conn_pipelined: %d answers in order" % got)
PY
stop_taped || fail "taped exited $? after SIGTERM"
echo "$TEST: ok"
