#!/usr/bin/env bash
# Runs the Criterion binary of each module named. Usage: run-unit.sh BUILD_DIR MODULE...
set -uo pipefail
build=$1
shift
failed=()
for m in "$@"; do
	bin="$build/tests/unit-$m"
	if [ ! -x "$bin" ]; then
		echo "unit: no tests for module '$m' ($bin)" >&2
		failed+=("$m")
		continue
	fi
	echo "== unit $m"
	TAPE_BUILD="$build" "$bin" --jobs 2 --short-filename || failed+=("$m")
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "unit: FAILED: ${failed[*]}" >&2
	exit 1
fi
echo "unit: ok ($*)"
