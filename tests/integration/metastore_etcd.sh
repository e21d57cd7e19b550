#!/usr/bin/env bash
# The etcd metadata store (replication/metastore_etcd.c) against a real etcd: the shared
# metastore tests, a CAS race between two clients, a lease that expires once keepalives stop,
# a watch re-reading its prefix after a compaction and surviving an etcd restart, endpoint
# failover. tests/tools/metastore_etcd_check starts etcd on free loopback ports with a temp data
# dir, signals only that etcd (by PID) and removes it on every exit path. Exit 77: etcd missing.
set -uo pipefail
: "${BUILD:?BUILD must name the build directory}"
if ! command -v etcd >/dev/null; then
	echo "SKIP metastore_etcd: etcd is not installed (scripts/install-deps.sh installs etcd-server)" >&2
	exit 77
fi
exec "$BUILD/tests/tools/metastore_etcd_check"
