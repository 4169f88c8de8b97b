#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Every normative statement the specification proposal adds names the
# make check case that checks it (spec-proposal/traceability.md), or says
# why none can; every case named exists.  Runs after spec-build.sh, on
# the specification tree it left.
#
#   spec-trace.sh BUILD-DIR
set -eu
build=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
tree=$build/spec/virtio-spec
[ -d "$tree/.git" ] || { echo "Bail out! $tree missing: run 'make spec'"; exit 1; }
base=$(sed -n 's/^base-commit: //p' "$top/spec-proposal/patches/0000-cover-letter.patch")
cases=$(mktemp)
trap 'rm -f "$cases"' EXIT
sh "$top/tools/run-checks.sh" --list "$build" > "$cases"
python3 "$top/tools/spec-trace.py" "$tree" "$base" \
	"$top/spec-proposal/traceability.md" "$cases"
