#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make spec: the virtio specification with the proposal applied.  Clones
# the specification's bundle into OUT-DIR/virtio-spec, applies the series
# in PATCH-DIR with git am on the commit its cover letter names as
# base-commit, builds the PDF with the repository's makepdf.sh and fails
# when LaTeX reports an undefined or multiply defined reference or label.
# The bundle is $SPEC_BUNDLE, else shared/upstream/virtio-spec.bundle
# beside the checkout or in /work.  Exit status 10: the series does not
# apply; 11: the PDF does not build; 12: LaTeX reports undefined or
# multiply defined references or labels.
#
#   spec.sh PATCH-DIR OUT-DIR
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
patches=$(cd "$1" && pwd) out=$2

for bundle in ${SPEC_BUNDLE:-} "$top/../shared/upstream/virtio-spec.bundle" \
		/work/shared/upstream/virtio-spec.bundle; do
	[ -f "$bundle" ] && break
done
[ -f "$bundle" ] || { echo "spec: no virtio-spec.bundle (set SPEC_BUNDLE)" >&2; exit 1; }
base=$(sed -n 's/^base-commit: //p' "$patches"/0000-cover-letter.patch)
[ -n "$base" ] || { echo "spec: the cover letter names no base-commit" >&2; exit 1; }

tree=$out/virtio-spec
mkdir -p "$out"
[ -d "$tree/.git" ] || git clone -q "$bundle" "$tree"
cd "$tree"
git am --abort >/dev/null 2>&1 || true
git checkout -q -f -B host-page-order "$base"
git clean -q -fdx
if ! git -c user.name=hugeballoon -c user.email=hugeballoon@localhost \
		am -q $(ls "$patches"/*.patch | grep -v /0000-cover-letter.patch); then
	git am --abort
	echo "spec: the series does not apply to $base" >&2
	exit 10
fi
echo "  SPEC    $(git rev-list --count "$base"..HEAD) patches on virtio-spec $(git rev-parse --short "$base")"

doc=$(cat REVISION)
if ! sh makepdf.sh > makepdf.log 2>&1 || [ ! -s "$doc.pdf" ]; then
	tail -n 30 makepdf.log >&2
	echo "spec: makepdf.sh failed, see $tree/makepdf.log" >&2
	exit 11
fi
# The log of the last pass: what is still undefined after three.
if grep -E 'undefined|multiply defined|multiply-defined' "$doc.log" >&2; then
	echo "spec: LaTeX reports undefined or multiply defined references or labels" >&2
	exit 12
fi
cp "$doc.pdf" ../virtio-spec.pdf
echo "  PDF     $(cd .. && pwd)/virtio-spec.pdf"
