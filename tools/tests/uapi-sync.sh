#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# One definition of the protocol: the guest series' uapi virtio_balloon.h
# and the host series' standard-headers copy must be the same header, up
# to the rewrite QEMU's scripts/update-linux-headers.sh applies.
#
#   uapi-sync.sh BUILD-DIR
set -eu
build=$1
linux=$build/src/linux/include/uapi/linux/virtio_balloon.h
qemu=$build/src/qemu/include/standard-headers/linux/virtio_balloon.h

echo "1..2"
for h in "$linux" "$qemu"; do
	[ -f "$h" ] || { echo "Bail out! $h missing: run 'make'"; exit 1; }
done

if grep -q 'VIRTIO_BALLOON_F_HOST_PAGE_ORDER' "$linux" &&
   grep -q 'VIRTIO_BALLOON_F_HOST_PAGE_ORDER' "$qemu"; then
	echo "ok 1 both series define VIRTIO_BALLOON_F_HOST_PAGE_ORDER"
else
	echo "not ok 1 both series define VIRTIO_BALLOON_F_HOST_PAGE_ORDER"
fi

# The same substitutions as update-linux-headers.sh's cp_portable().
rewritten=$(mktemp)
trap 'rm -f "$rewritten"' EXIT
sed -e 's/__u\([0-9][0-9]*\)/uint\1_t/g' \
    -e 's/__s\([0-9][0-9]*\)/int\1_t/g' \
    -e 's/__le\([0-9][0-9]*\)/uint\1_t/g' \
    -e 's/__be\([0-9][0-9]*\)/uint\1_t/g' \
    -e 's/"\(input-event-codes\.h\)"/"standard-headers\/linux\/\1"/' \
    -e 's/<linux\/\([^>]*\)>/"standard-headers\/linux\/\1"/' \
    -e 's/__bitwise//' \
    -e 's/__attribute__((packed))/QEMU_PACKED/' \
    -e 's/__inline__/inline/' \
    "$linux" > "$rewritten"
if diff -u "$rewritten" "$qemu" > "$rewritten.diff"; then
	echo "ok 2 guest uapi header and QEMU standard header agree"
else
	echo "not ok 2 guest uapi header and QEMU standard header agree"
	sed 's/^/# /' "$rewritten.diff"
	rm -f "$rewritten.diff"
	exit 1
fi
rm -f "$rewritten.diff"
