#!/usr/bin/env bash
# Runs every tests/integration/*.sh with BUILD set to the build directory. A test exits 0 (pass),
# 77 (skipped: says why, loudly) or anything else (fail). Skips are listed at the end.
set -uo pipefail
build=${1:?usage: run.sh BUILD_DIR}
export BUILD=$(realpath "$build")
cd "$(dirname "$0")"
passed=() skipped=() failed=()
for t in [0-9a-z]*.sh; do
	case $t in run.sh | lib.sh) continue ;; esac
	[ -e "$t" ] || continue
	echo "== integration ${t%.sh}"
	bash "$t"
	case $? in
	0) passed+=("$t") ;;
	77) skipped+=("$t") ;;
	*) failed+=("$t") ;;
	esac
done
echo "integration: ${#passed[@]} passed, ${#skipped[@]} skipped, ${#failed[@]} failed"
[ ${#skipped[@]} -gt 0 ] && echo "integration: SKIPPED: ${skipped[*]}" >&2
[ ${#failed[@]} -gt 0 ] && { echo "integration: FAILED: ${failed[*]}" >&2; exit 1; }
exit 0
