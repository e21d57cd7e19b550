#!/usr/bin/env bash
# `make run`: one broker on localhost:9092 with its data in ./data.
set -euo pipefail
build=$1
if [ ! -x "$build/bin/taped" ]; then
	cat >&2 <<'MSG'
make run: taped, the broker, is not built yet.
  The storage engine (log/), the reactor (io/) and `tape dump` / `tape verify` exist;
  the network server that speaks the Kafka protocol is the next issue (#3).
  Until then there is nothing to start on localhost:9092.
MSG
	exit 2
fi
mkdir -p data
exec "$build/bin/taped" config/server.properties --override log.dirs=./data \
	--override listeners=PLAINTEXT://localhost:9092
