#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the performance figures review asked for, the stock balloon
# beside page-order=host, on the release kernel (build/guest/bzImage) and
# THP-backed guest RAM.  Every figure is the median of ROUNDS runs that
# alternate stock and page-order=host, with its spread (lowest-highest);
# tools/bench-tables.sh prints the tables:
#
# - inflate and deflate speed, 400 MiB on an unfragmented guest
#   (balloon_basic), on the seed scenario (balloon_thp 800 400) and
#   300 MiB on fully fragmented memory (balloon_fallback);
# - guest THP after inflation (balloon_thp_demand): from the seed
#   scenario and from an unfragmented guest, 400 MiB ballooned, then
#   workloads faulted with MADV_HUGEPAGE, up to most of MemFree (the
#   guest has no swap): THP at fault and after khugepaged, THP fault
#   fallbacks, fault throughput, host THP of the guest RAM, and whether
#   the workload was killed for want of memory;
# - page-fault throughput with free page reporting off, at the driver's
#   order and at pageblock order (balloon_report_bench); page-order=host
#   advertises 4 MiB host pages (x-host-page-order-raw=10), so that the
#   host order and pageblock order differ; and again with 1 GiB host
#   pages (x-host-page-order-raw=18) and a hot-added 1 GiB DIMM, where
#   the driver's order reports whole free 1 GiB ranges.
#
# Under TCG a time is only worth its ratio to stock's of the same rounds.
# Exits 1 if a run failed.
#
#   bench.sh BUILD-DIR [ROUNDS]
set -u
build=$1 rounds=${2:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tools/stats.sh"
out=$build/bench
rm -rf "$out"
mkdir -p "$out"
export HB_BUILD=$build
huge=page-order=host
failed=0
# MiB faulted after the inflation; MemFree is about 150 MiB after the
# seed scenario and 550 MiB from a clean start.
seed_workloads="32 64 96" clean_workloads="128 256 384"

# Run one guest into $out/NAME.tap.
run() {
	name=$1
	shift
	echo "bench: $name: $*" >&2
	if ! "$top/tools/hb-vm" "$@" > "$out/$name.tap" 2> "$out/$name.err" ||
	   grep -q '^not ok' "$out/$name.tap"; then
		echo "bench: $name failed:" >&2
		grep '^not ok' "$out/$name.tap" >&2
		tail -n 5 "$out/$name.err" >&2
		failed=1
	fi
}

r=1
while [ $r -le "$rounds" ]; do
	run basic-stock-$r balloon_basic 400
	run basic-huge-$r -o $huge balloon_basic 400
	run seed-stock-$r balloon_thp 800 400 32
	run seed-huge-$r -o $huge balloon_thp 800 400 32
	run frag-stock-$r balloon_fallback 300
	run frag-huge-$r -o $huge balloon_fallback 300 \
		"$(fig frag-stock-$r inflate_ms)"
	run thp-seed-stock-$r balloon_thp_demand seed 400 $seed_workloads
	run thp-seed-huge-$r -o $huge balloon_thp_demand seed 400 $seed_workloads
	run thp-clean-stock-$r balloon_thp_demand clean 400 $clean_workloads
	run thp-clean-huge-$r -o $huge balloon_thp_demand clean 400 $clean_workloads
	run report-stock-$r -o free-page-reporting=on balloon_report_bench 8 32
	run report-huge-$r -o $huge,x-host-page-order-raw=10,free-page-reporting=on \
		balloon_report_bench 8 32
	run report1g-stock-$r -d 1:1024 -o free-page-reporting=on \
		balloon_report_bench 8 32
	run report1g-huge-$r -d 1:1024 \
		-o $huge,x-host-page-order-raw=18,free-page-reporting=on \
		balloon_report_bench 8 32
	r=$((r + 1))
done

# balloon_basic prints its times as diagnostics: make them figures.
for f in "$out"/basic-*.tap; do
	i=$(sed -n 's/^# inflate [0-9]* MiB: \([0-9.]*\) ms.*/\1/p' "$f")
	d=$(sed -n 's/^# deflate: \([0-9.]*\) ms.*/\1/p' "$f")
	echo "# DEMO inflate_ms=$i deflate_ms=$d" >> "$f"
done

sh "$top/tools/bench-tables.sh" "$build" "$rounds"
exit $failed
