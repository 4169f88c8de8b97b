#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Pack the test guest's initramfs: busybox, the selftests, and numactl,
# memhog and hugeadm with the shared libraries they load.
#
#   mkinitramfs.sh OUTPUT.cpio.gz SELFTESTS-DIR
set -eu
out=$1 selftests=$2
top=$(dirname "$0")/..
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/proc" "$root/sys" \
	"$root/dev" "$root/selftests"
cp /bin/busybox "$root/bin/busybox"
install -m 755 "$top/guest/initramfs/init" "$root/init"
cp "$selftests"/* "$root/selftests/"

for prog in /usr/bin/numactl /usr/bin/memhog /usr/bin/hugeadm; do
	[ -x "$prog" ] || { echo "mkinitramfs: $prog missing: make deps" >&2; exit 1; }
	cp "$prog" "$root/usr/bin/"
	# the loader and every library, at the paths the binary asks for
	ldd "$prog" | grep -o '/[^ ]*' | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
done

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
	gzip -n -9 > "$out.tmp"
mv "$out.tmp" "$out"
echo "  CPIO    $out ($(du -k "$out" | cut -f1) KiB)"
