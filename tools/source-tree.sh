#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Turn a pinned Debian source into a git work tree with one of our patch
# series applied as commits, so the series is developed as commits and
# stored as patches.  The pristine import is tagged "pristine"; the series
# is regenerated from pristine..HEAD by "export".
#
#   source-tree.sh create linux|qemu DEST SERIES-DIR [DL-DIR]
#   source-tree.sh export DEST SERIES-DIR
set -eu

die() { echo "source-tree: $*" >&2; exit 1; }

git_quiet() {
	git -c user.name=hugeballoon -c user.email=hugeballoon@localhost \
		-c advice.detachedHead=false "$@"
}

create() {
	kind=$1 dest=$2 series=$(realpath "$3") dl=${4:-}

	# Commits made in an old tree are kept in a bundle, never thrown away.
	if [ -d "$dest/.git" ] &&
	   [ -n "$(git -C "$dest" rev-list --all --not pristine 2>/dev/null)" ]; then
		bundle=$dest-$(date +%Y%m%d-%H%M%S).bundle
		git -C "$dest" bundle create -q "$(realpath -m "$bundle")" --all --not pristine
		echo "  SAVED   commits of the old tree in $bundle"
	fi
	rm -rf "$dest"
	mkdir -p "$dest"
	case $kind in
	linux)
		tarball=/usr/src/linux-source-6.1.tar.xz
		[ -f "$tarball" ] || die "$tarball missing: run 'make deps'"
		version=$(dpkg-query -W -f='${Version}' linux-source-6.1)
		echo "  TREE    linux-source-6.1 $version"
		tar -xf "$tarball" --strip-components=1 -C "$dest"
		;;
	qemu)
		dsc=$(ls "$dl"/qemu_7.2*.dsc 2>/dev/null | tail -n 1)
		[ -n "$dsc" ] || die "no qemu 7.2 source in $dl: run 'make deps'"
		version=$(basename "$dsc" .dsc | sed 's/^qemu_//')
		echo "  TREE    qemu $version"
		rmdir "$dest"
		dpkg-source -q -x "$dsc" "$dest" >/dev/null
		# quilt's bookkeeping of the Debian patches, not source
		rm -rf "$dest/.pc"
		;;
	*)
		die "unknown source '$kind'"
		;;
	esac

	cd "$dest"
	git_quiet init -q
	git_quiet add -A -f .
	GIT_AUTHOR_DATE=2000-01-01T00:00:00Z GIT_COMMITTER_DATE=2000-01-01T00:00:00Z \
		git_quiet commit -q -m "$kind $version (Debian source, pristine)"
	git_quiet tag pristine
	for p in "$series"/*.patch; do
		[ -e "$p" ] || break
		git_quiet am -q -3 "$p" ||
			die "$(basename "$p") does not apply to $kind $version"
	done
	echo "  SERIES  $(git rev-list --count pristine..HEAD) patches on $kind"
}

export_series() {
	dest=$1 series=$2

	[ -d "$dest/.git" ] || die "$dest is not a work tree"
	[ -z "$(git -C "$dest" status --porcelain -uno)" ] ||
		die "$dest has uncommitted changes: commit them first"
	mkdir -p "$series"
	rm -f "$series"/*.patch
	git -C "$dest" -c core.abbrev=12 format-patch -q --no-signature --zero-commit \
		--no-numbered -o "$(realpath "$series")" pristine..HEAD
	echo "  SERIES  $(ls "$series" | grep -c '\.patch$') patches in $series"
}

case ${1:-} in
create) shift; create "$@" ;;
export) shift; export_series "$@" ;;
*) die "usage: $0 create linux|qemu DEST SERIES-DIR [DL-DIR] | export DEST SERIES-DIR" ;;
esac
