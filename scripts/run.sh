#!/usr/bin/env bash
# `make run`: one broker on localhost:9092 with its data in ./data, in the foreground.
# Ctrl-C (SIGINT) or SIGTERM stops it cleanly.
set -euo pipefail
build=$1
mkdir -p data
cat <<MSG
Starting taped on localhost:9092 with its data in ./data (Ctrl-C stops it cleanly).
Talk to it with any Kafka client, for example:
  kcat -b localhost:9092 -L                                  # brokers and topics
  echo hello | kcat -b localhost:9092 -P -t demo              # produce (auto-creates demo)
  kcat -b localhost:9092 -C -t demo -o beginning -e           # read it back
  $build/bin/tape verify data/demo-0                          # check the segment files
MSG
exec "$build/bin/taped" config/server.properties --override log.dirs=./data \
	--override listeners=PLAINTEXT://localhost:9092
