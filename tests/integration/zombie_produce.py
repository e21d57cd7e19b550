#!/usr/bin/env python3
"""tests/integration/zombie_produce.py: produces straight to one broker with raw frames, never
following metadata elsewhere (a real client would go to whoever the metadata names leader),
for cluster_zombie_leader.sh and cluster_etcd_restart.sh.

  zombie_produce.py connect HOST PORT TOPIC PARTITION PREFIX GO
      connects and sends two Produce v7 requests (acks=1 and acks=-1, values PREFIX-acks1 and
      PREFIX-acksall) at once, while the broker may be stopped (the kernel queues them), then
      prints "ready" and waits for the file GO to exist (the test resumes the broker first)
      before reading both answers;
  zombie_produce.py now HOST PORT TOPIC PARTITION PREFIX
      the same without waiting;
  zombie_produce.py acks1 HOST PORT TOPIC PARTITION PREFIX
      only the acks=1 request (value PREFIX-acks1), without waiting.

Prints one line per request: "acks=1 error=CODE offset=BASE" and exits 0 whatever the codes
(the test judges them); 1 when no answer came within 15 s.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rawkafka as rk  # noqa: E402


def main():
    mode, host, port, topic, partition, prefix = sys.argv[1:7]
    go = sys.argv[7] if mode == "connect" else None
    port, partition = int(port), int(partition)
    conn = rk.Conn(host, port, timeout=15.0)
    corrs = []
    kinds = ((1, "acks1"),) if mode == "acks1" else ((1, "acks1"), (-1, "acksall"))
    for acks, name in kinds:
        batch = rk.record_batch([("%s-%s" % (prefix, name)).encode()])
        body = rk.produce_body(7, [(topic, [(partition, batch)])], acks=acks, timeout_ms=5000)
        corrs.append((acks, conn.send_request(rk.API_PRODUCE, 7, body)))
    if mode == "connect":
        print("ready", flush=True)
        while not os.path.exists(go):
            time.sleep(0.01)
    try:
        for acks, corr in corrs:
            payload = conn.recv_response(corr, timeout=15.0)
            (err, base), = rk.parse_produce(payload, 7).values()
            print("acks=%d error=%d offset=%d" % (acks, err, base), flush=True)
    except Exception as e:  # noqa: BLE001 - reported, judged by the test
        print("no answer: %r" % (e,), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
