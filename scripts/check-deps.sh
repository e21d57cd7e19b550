#!/usr/bin/env bash
# Keeps the one-way dependency order of DESIGN.md §2 honest: a module includes only modules it
# may use. An #include "x/..." from a module not allowed to use x fails the check.
#
#   base  <-  io, protocol  <-  log  <-  consumer-groups, replication  <-  server
#   client -> base, protocol, consumer-groups/assign.h        cli -> client
#
# consumer-groups/assign.[ch] themselves use base/ and protocol/ only, since libtape links them.
#
# cli also reads segment files offline (tape dump, tape verify), so it may use log/ and what
# log/ uses; the network never enters that path.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A allowed=(
	[base]="base"
	[io]="base io"
	[protocol]="base protocol"
	[log]="base io protocol log"
	[consumer-groups]="base io protocol log consumer-groups"
	[replication]="base io protocol log replication"
	[server]="base io protocol log consumer-groups replication server"
	[client]="base protocol client"
	[cli]="base io protocol log client cli"
)

bad=0
for mod in "${!allowed[@]}"; do
	[ -d "$mod" ] || continue
	while IFS= read -r hit; do
		file=${hit%%:*}
		inc=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"${hit#*:}")
		target=${inc%%/*}
		[ "$target" = "$inc" ] && continue # same-directory include
		if [ "$mod" = client ] && [ "$inc" = consumer-groups/assign.h ]; then
			continue
		fi
		if ! grep -qw -- "$target" <<<"${allowed[$mod]}"; then
			echo "check-deps: $file includes \"$inc\": $mod may not use $target" >&2
			bad=1
		fi
	done < <(grep -HnE '^#include "[^"]+"' "$mod"/*.[ch] 2>/dev/null | sed -E 's/^([^:]+):[0-9]+:/\1:/')
done
# The assignors are linked into libtape as well as the broker, so consumer-groups/assign.[ch]
# may use only what the client may: base/ and protocol/ (and assign.h itself).
for file in consumer-groups/assign.c consumer-groups/assign.h; do
	[ -f "$file" ] || continue
	while IFS= read -r inc; do
		case "$inc" in
		base/* | protocol/* | consumer-groups/assign.h) ;;
		*)
			echo "check-deps: $file includes \"$inc\": the assignors may use only base and protocol" >&2
			bad=1
			;;
		esac
	done < <(sed -nE 's/^#include "([^"]+)".*/\1/p' "$file")
done
[ $bad -eq 0 ] && echo "check-deps: ok"
exit $bad
