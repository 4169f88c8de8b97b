#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The guest series builds without balloon compaction: the huge balloon's
# movability is built on CONFIG_BALLOON_COMPACTION, which a kernel may
# leave out.  Compiles the objects the series touches with the option
# off, warnings as errors, in an object directory of its own.
#
#   guest-nocompaction.sh BUILD-DIR
set -u
build=$(cd "$1" && pwd)
linux=$build/src/linux
obj=$build/guest/obj-nocompaction
objects="drivers/virtio/virtio_balloon.o mm/balloon_compaction.o
	 mm/compaction.o mm/migrate.o mm/page_alloc.o mm/page_reporting.o"

echo "1..1"
if [ ! -f "$build/guest/obj/.config" ]; then
	echo "not ok 1 balloon compaction off # $build/guest/obj/.config missing: run 'make'"
	exit 0
fi
mkdir -p "$obj"
cp "$build/guest/obj/.config" "$obj/.config"
"$linux/scripts/config" --file "$obj/.config" -d BALLOON_COMPACTION
log=$obj/build.log
# shellcheck disable=SC2086 # $objects is a list
if make -s -C "$linux" O="$obj" CC="ccache gcc" olddefconfig > "$log" 2>&1 &&
   ! grep -q '^CONFIG_BALLOON_COMPACTION=y' "$obj/.config" &&
   make -s -C "$linux" O="$obj" CC="ccache gcc" KCFLAGS=-Werror \
	-j"$(nproc)" $objects >> "$log" 2>&1; then
	echo "ok 1 guest series builds with CONFIG_BALLOON_COMPACTION=n"
else
	echo "not ok 1 guest series builds with CONFIG_BALLOON_COMPACTION=n"
	tail -n 20 "$log" | sed 's/^/# /'
fi
