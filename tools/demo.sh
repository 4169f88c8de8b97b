#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make demo: the upstream report's scenario (1 GiB guest on THP-backed
# host memory, 800 MiB touched, every other 4 KiB page freed, balloon
# inflated to 624 MiB) for the stock 4 KiB balloon and for page-order=host,
# plus the same 400 MiB on a hugetlbfs 2 MiB-backed guest; one table and a
# plot of host AnonHugePages over time.
#
#   demo.sh BUILD-DIR
set -u
build=$1
top=$(cd "$(dirname "$0")/.." && pwd)
out=$build/demo
mkdir -p "$out"
export HB_BUILD=$build

# Run one guest; keep its "# DEMO key=value ..." line in $out/NAME.demo.
run() {
	name=$1
	shift
	echo "demo: $name: $*" >&2
	"$top/tools/hb-vm" "$@" > "$out/$name.tap" 2> "$out/$name.err"
	status=$?
	grep '^# DEMO ' "$out/$name.tap" | sed 's/^# DEMO //' > "$out/$name.demo"
	if [ ! -s "$out/$name.demo" ]; then
		echo "demo: $name gave no figures (exit $status):" >&2
		tail -n 5 "$out/$name.tap" "$out/$name.err" >&2
	fi
}

# Value of KEY in NAME's figures, or what stands in for a missing run.
fig() {
	v=$(tr ' ' '\n' < "$out/$1.demo" 2>/dev/null | sed -n "s/^$2=//p")
	echo "${v:-n/a}"
}

# A column is only the huge path's if the guest negotiated it.
column() {
	if [ "$(fig "$1" mode)" = "$2" ]; then fig "$1" "$3"; else echo "n/a"; fi
}

run stock -s "$out/stock.samples" balloon_thp 800 400 32
run huge -s "$out/huge.samples" -o page-order=host balloon_thp 800 400 32
run stock-hugetlb -b hugetlb-2M balloon_hugetlb 400 2048
run huge-hugetlb -b hugetlb-2M -o page-order=host balloon_hugetlb 400 2048

row() {
	printf '%-44s %16s %16s\n' "$1" "$(column stock$4 stock "$2")" \
		"$(column huge$4 page-order=host "$3")"
}
echo
printf '%-44s %16s %16s\n' "" "stock 4 KiB" "page-order=host"
row "inflate 400 MiB, THP-backed (ms)" inflate_ms inflate_ms ""
row "host AnonHugePages before (kB)" host_ahp_before host_ahp_before ""
row "host AnonHugePages after (kB)" host_ahp_after host_ahp_after ""
row "guest AnonHugePages before (kB)" guest_ahp_before guest_ahp_before ""
row "guest AnonHugePages after (kB)" guest_ahp_after guest_ahp_after ""
row "host AnonHugePages, deflated + used (kB)" host_ahp_retouch host_ahp_retouch ""
row "inflate 400 MiB, hugetlbfs 2 MiB (ms)" inflate_ms inflate_ms -hugetlb
row "host 2 MiB pages returned (of 200)" host_pages_returned host_pages_returned -hugetlb
echo

if command -v gnuplot >/dev/null && [ -s "$out/stock.samples" ]; then
	huge_plot=
	[ -s "$out/huge.samples" ] &&
		huge_plot=", '$out/huge.samples' using 1:(\$2/1024) with lines title 'page-order=host'"
	gnuplot <<EOG
set terminal png size 900,500
set output '$out/host-anon-huge.png'
set title 'Host AnonHugePages of QEMU: 800 MiB touched, every other page freed, 400 MiB ballooned'
set xlabel 'seconds since QEMU start'
set ylabel 'MiB'
set key bottom right
plot '$out/stock.samples' using 1:(\$2/1024) with lines title 'stock 4 KiB'$huge_plot
EOG
	echo "demo: plot in $out/host-anon-huge.png"
fi
