#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The guest series builds, warnings as errors, in the configurations a
# kernel may come in: without balloon compaction (host pages then never
# come from movable memory), without THP, without alloc_contig_range(),
# without NUMA, without memory hot-remove.  Compiles the objects the
# series touches, each configuration in an object directory of its own
# made from the release kernel's .config.
#
#   guest-configs.sh BUILD-DIR
set -u
build=$(cd "$1" && pwd)
linux=$build/src/linux
objects="drivers/virtio/virtio_balloon.o mm/balloon_compaction.o
	 mm/compaction.o mm/migrate.o mm/page_alloc.o mm/page_reporting.o"

# NAME:OPTION-THAT-MUST-BE-OFF:OPTIONS-TO-TURN-OFF (CONTIG_ALLOC has no
# prompt: it is on with CMA, or with compaction and memory isolation,
# which page reporting selects; THP selects compaction)
configs="BALLOON_COMPACTION=n:BALLOON_COMPACTION:BALLOON_COMPACTION
TRANSPARENT_HUGEPAGE=n:TRANSPARENT_HUGEPAGE:TRANSPARENT_HUGEPAGE
CONTIG_ALLOC=n:CONTIG_ALLOC:CMA DMA_CMA TRANSPARENT_HUGEPAGE COMPACTION
NUMA=n:NUMA:NUMA
MEMORY_HOTREMOVE=n:MEMORY_HOTREMOVE:MEMORY_HOTREMOVE"

echo "1..$(echo "$configs" | wc -l)"
n=0
echo "$configs" | while IFS=: read -r name off disable; do
	n=$((n + 1))
	if [ ! -f "$build/guest/obj/.config" ]; then
		echo "not ok $n builds with $name # $build/guest/obj/.config missing: run 'make'"
		continue
	fi
	obj=$build/guest/obj-$(echo "$off" | tr 'A-Z_' 'a-z-')
	mkdir -p "$obj"
	cp "$build/guest/obj/.config" "$obj/.config"
	for opt in $disable; do
		"$linux/scripts/config" --file "$obj/.config" -d "$opt"
	done
	log=$obj/build.log
	# shellcheck disable=SC2086 # $objects is a list
	if make -s -C "$linux" O="$obj" CC="ccache gcc" olddefconfig > "$log" 2>&1 &&
	   ! grep -q "^CONFIG_$off=y" "$obj/.config" &&
	   make -s -C "$linux" O="$obj" CC="ccache gcc" KCFLAGS=-Werror \
		-j"$(nproc)" $objects >> "$log" 2>&1; then
		echo "ok $n guest series builds with CONFIG_$name"
	else
		echo "not ok $n guest series builds with CONFIG_$name"
		tail -n 20 "$log" | sed 's/^/# /'
	fi
done
