#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make spec inside make check: the proposal applies to the virtio
# specification it names, the PDF builds, and LaTeX leaves no reference
# or label undefined or defined twice.
#
#   spec-build.sh BUILD-DIR
set -u
build=$1
top=$(cd "$(dirname "$0")/../.." && pwd)

echo "1..3"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
sh "$top/tools/spec.sh" "$top/spec-proposal/patches" "$build/spec" > "$log" 2>&1
status=$?
sed 's/^/# /' "$log"
result() { # N TEXT: ok unless the run stopped with status N or earlier
	if [ "$status" -ne 0 ] && [ "$status" -le "$1" ]; then
		echo "not ok $(($1 - 9)) $2"
	else
		echo "ok $(($1 - 9)) $2"
	fi
}
[ "$status" -eq 0 ] || [ "$status" -ge 10 ] || status=10
result 10 "the series applies to the virtio specification with git am"
result 11 "makepdf.sh builds the PDF"
result 12 "no undefined or multiply defined reference or label"
[ "$status" -eq 0 ]
