#!/usr/bin/env bash
# Installs every Debian 12 package tape's build, tests and benchmarks need. Idempotent and quiet
# when everything is present; needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
	build-essential pkg-config make git
	liburing-dev libxxhash-dev libzstd-dev libcriterion-dev # build and unit tests
	zlib1g-dev libsnappy-dev liblz4-dev                     # gzip, snappy, lz4 batches
	clang libclang-rt-14-dev clang-format                   # fuzzing, sanitizers, format check
	fio                                                     # make bench: the disk's own limit
	kcat python3                                             # integration tests: kcat, raw frames
	libcurl4-openssl-dev libjansson-dev                      # replication/: etcd's JSON gateway
	etcd-server etcd-client                                  # the cluster metadata store, etcdctl
)

# Node.js for the kafkajs integration tests: Debian's, unless a node is already installed
# (some machines carry NodeSource's build, whose nodejs package bundles npm).
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/tape-apt.log 2>&1; then
	$sudo apt-get update -q >>/tmp/tape-apt.log 2>&1
	$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/tape-apt.log 2>&1 || {
		echo "install-deps: apt-get failed; see /tmp/tape-apt.log" >&2
		tail -20 /tmp/tape-apt.log >&2
		exit 1
	}
fi
