#!/usr/bin/env bash
# Runs libFuzzer targets from build/fuzz/fuzz for SECONDS each, starting from the committed seed
# corpus tests/fuzz/corpus/<target>/ and growing a scratch corpus beside it (not committed).
# Usage: run-fuzz.sh SECONDS TARGET...
set -euo pipefail
seconds=$1
shift
status=0
for t in "$@"; do
	bin=build/fuzz/fuzz/$t
	seeds=tests/fuzz/corpus/$t
	work=tests/fuzz/corpus-run/$t
	mkdir -p "$work" "$seeds"
	echo "== fuzz $t for ${seconds}s"
	# Crash inputs go beside the scratch corpus (not committed), not into the working tree.
	"$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 \
		-artifact_prefix="$work-" -print_final_stats=1 "$work" "$seeds" 2>"$work.log" || {
		echo "fuzz: $t FAILED; see $work.log" >&2
		tail -40 "$work.log" >&2
		status=1
	}
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work.log" | tail -1)
	echo "fuzz: $t: ${runs:-?} runs"
done
exit $status
