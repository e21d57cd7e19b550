#!/usr/bin/env bash
# taped's configuration at start: unknown keys and bad values are refused with a message that
# names the key (exit 1), usage errors exit 2, --print-config is the committed sample, and a
# properties file plus overrides start a broker that answers.
set -uo pipefail
taped="$BUILD/bin/taped"
root=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "taped_config: FAIL: $*" >&2; exit 1; }

out=$("$taped" --override no.such.key=1 2>&1); rc=$?
[ $rc -eq 1 ] || fail "unknown key: exit $rc"
grep -q "no.such.key" <<<"$out" || fail "unknown key not named: $out"

out=$("$taped" --override log.flush.mode=sometimes 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "log.flush.mode" <<<"$out" || fail "bad value: exit $rc: $out"

out=$("$taped" --override num.partitions=0 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "num.partitions" <<<"$out" || fail "out of bounds: exit $rc: $out"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf 'listeners=PLAINTEXT://127.0.0.1:0\nlog.flush.mode=maybe\n' >"$dir/bad.properties"
out=$("$taped" "$dir/bad.properties" 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "bad.properties:2" <<<"$out" || fail "file line not named: $out"

"$taped" --bogus >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "usage error: exit $rc"

"$taped" --print-config | cmp -s - "$root/config/server.properties" ||
	fail "config/server.properties is not what taped --print-config prints"

# The sample file itself starts a broker (with a port and a data dir of the test's own).
"$taped" "$root/config/server.properties" --override log.dirs="$dir/data" \
	--override listeners=PLAINTEXT://127.0.0.1:0 >"$dir/out" 2>"$dir/err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do
	grep -q "listening on" "$dir/out" && break
	sleep 0.1
done
grep -q "listening on" "$dir/out" || fail "taped did not start: $(cat "$dir/err")"
kill -TERM $pid
wait $pid; rc=$?
[ $rc -eq 0 ] || fail "SIGTERM: exit $rc"
grep -q "stopped" "$dir/err" || fail "no clean stop in the log"
echo "taped_config: ok"
