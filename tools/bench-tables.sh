#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The tables of make bench, from the runs tools/bench.sh left in
# BUILD-DIR/bench: each figure is the median of the rounds with its spread
# (lowest-highest), for the stock balloon and page-order=host, and the
# ratio is the median of the rounds' page-order=host / stock ratios, with
# their spread.  Each round ran the two one after the other, so that a
# ratio compares runs TCG made at the same speed.
#
#   bench-tables.sh BUILD-DIR ROUNDS
set -u
build=$1 rounds=$2
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tools/stats.sh"
out=$build/bench

# Collect one figure of each round's runs NAME-MODE-ROUND into a column.
column() {	# name mode key [match]
	r=1
	while [ $r -le "$rounds" ]; do
		fig "$1-$2-$r" "$3" "${4:-}"
		r=$((r + 1))
	done | grep -v '^$'
}

cell() { v=$(column "$@"); printf '%s (%s)' "$(echo "$v" | median)" "$(echo "$v" | spread)"; }

# The workloads killed for want of memory, of the rounds.
kills() {
	printf '%-44s %22s %22s\n' "$1" \
		"$(column "$2" stock killed "$3" | awk '{ n += $1 } END { print n + 0 }') of $rounds" \
		"$(column "$2" huge killed "$3" | awk '{ n += $1 } END { print n + 0 }') of $rounds"
}

# page-order=host / stock of each round that has both figures.
round_ratios() {	# name key [match]
	r=1
	while [ $r -le "$rounds" ]; do
		awk -v a="$(fig "$1-huge-$r" "$2" "${3:-}")" \
		    -v b="$(fig "$1-stock-$r" "$2" "${3:-}")" \
			'BEGIN { if (a != "" && b > 0) printf "%.2f\n", a / b }'
		r=$((r + 1))
	done
}

ratio() { v=$(round_ratios "$@"); printf '%s (%s)' "$(echo "$v" | grep . | median)" "$(echo "$v" | grep . | spread)"; }

row() {	# label name key [match]
	printf '%-44s %22s %22s %16s\n' "$1" "$(cell "$2" stock "$3" "${4:-}")" \
		"$(cell "$2" huge "$3" "${4:-}")" "$(ratio "$2" "$3" "${4:-}")"
}

header() {
	echo
	echo "$1"
	printf '%-44s %22s %22s %16s\n' "" "stock: median (spread)" \
		"page-order=host" "ratio (spread)"
}

echo "bench: $rounds alternating rounds; release kernel, THP-backed guest RAM, TCG"
header "Inflate and deflate (ms)"
row "inflate 400 MiB, unfragmented" basic inflate_ms
row "deflate 400 MiB, unfragmented" basic deflate_ms
row "inflate 400 MiB, seed scenario" seed inflate_ms
row "deflate 400 MiB, seed scenario" seed deflate_ms
row "inflate 300 MiB, fully fragmented" frag inflate_ms
row "deflate 300 MiB, fully fragmented" frag deflate_ms
row "host THP of guest RAM after seed inflate (kB)" seed host_ahp_after
row "host THP after deflate and re-touch (kB)" seed host_ahp_retouch

for state in seed clean; do
	header "Guest THP after inflating 400 MiB, $state start (MADV_HUGEPAGE workload)"
	# The workloads the rounds ran, as the first one names them.
	workloads=$(grep -o '^# BENCH state=.* mib=[0-9]*' "$out/thp-$state-stock-1.tap" |
		sed 's/.* mib=//')
	for mib in $workloads; do
		m="mib=$mib "
		row "$mib MiB: MemFree before (kB)" thp-$state memfree_kb "$m"
		kills "  killed for want of memory" thp-$state "$m"
		row "  THP at fault (kB)" thp-$state thp_fault_kb "$m"
		row "  THP after khugepaged 10 s (kB)" thp-$state thp_khugepaged_kb "$m"
		row "  thp_fault_fallback" thp-$state fault_fallback "$m"
		row "  fault throughput (MiB/s)" thp-$state fault_mib_s "$m"
		row "  host THP of guest RAM (kB)" thp-$state host_ahp_kb "$m"
	done
done

header "Page faults with free page reporting (pages/s, 2 threads, 32 MiB chunks)"
row "reporting off" report off
row "reporting at the driver's order (stock 9, host 10)" report driver
row "reporting at pageblock order (9)" report pageblock

header "Page faults with 1 GiB range reporting (pages/s, 1 GiB DIMM, host order 18 for page-order=host)"
row "reporting off" report1g off
row "reporting at the driver's order (stock 9, host 1 GiB ranges)" report1g driver
row "reporting at pageblock order (9)" report1g pageblock
