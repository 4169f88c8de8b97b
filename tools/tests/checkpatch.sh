#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Every patch of both series passes its own tree's scripts/checkpatch.pl
# with no error and no warning, as a maintainer would run it.
#
#   checkpatch.sh BUILD-DIR
set -eu
build=$1
top=$(cd "$(dirname "$0")/../.." && pwd)

set -- "$top"/guest/patches/*.patch "$top"/host/patches/*.patch
echo "1..$#"
n=0
for patch; do
	n=$((n + 1))
	case $patch in
	*/guest/*) tree=$build/src/linux ;;
	*) tree=$build/src/qemu ;;
	esac
	name=${patch#"$top"/}
	if [ ! -x "$tree/scripts/checkpatch.pl" ]; then
		echo "not ok $n $name # $tree/scripts/checkpatch.pl missing: run 'make'"
		continue
	fi
	# checkpatch takes the tree it checks against from the working directory.
	summary=$(cd "$tree" && ./scripts/checkpatch.pl "$patch" 2>&1 |
		  grep '^total:' || true)
	case $summary in
	"total: 0 errors, 0 warnings,"*) echo "ok $n $name" ;;
	*) echo "not ok $n $name: ${summary:-no checkpatch summary}" ;;
	esac
done
