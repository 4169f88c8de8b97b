#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make demo: the upstream report's scenario (1 GiB guest on THP-backed
# host memory, 800 MiB touched, every other 4 KiB page freed, 400 MiB
# ballooned) for the stock 4 KiB balloon and for page-order=host, plus the
# same 400 MiB on a hugetlbfs 2 MiB-backed guest; one table and a plot of
# the guest RAM's host AnonHugePages around the inflation and deflation.
# Runs the release kernel (build/guest/bzImage); exits 1 if a run failed.
#
#   demo.sh BUILD-DIR
set -u
build=$1
top=$(cd "$(dirname "$0")/.." && pwd)
out=$build/demo
mkdir -p "$out"
export HB_BUILD=$build
failed=0

# Run one guest; keep its "# DEMO key=value ..." line in $out/NAME.demo.
run() {
	name=$1
	shift
	echo "demo: $name: $*" >&2
	"$top/tools/hb-vm" "$@" > "$out/$name.tap" 2> "$out/$name.err"
	status=$?
	grep '^# DEMO ' "$out/$name.tap" | sed 's/^# DEMO //' > "$out/$name.demo"
	if [ $status -ne 0 ] || grep -q '^not ok' "$out/$name.tap"; then
		echo "demo: $name failed (exit $status):" >&2
		grep '^not ok' "$out/$name.tap" >&2
		tail -n 5 "$out/$name.err" >&2
		failed=1
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
	printf '%-52s %16s %16s\n' "$1" "$(column stock$3 stock "$2")" \
		"$(column huge$3 page-order=host "$2")"
}
thp_mib=$(fig huge inflate_mib)
hugetlb_mib=$(fig huge-hugetlb inflate_mib)
echo
printf '%-52s %16s %16s\n' "" "stock 4 KiB" "page-order=host"
row "inflate $thp_mib MiB, THP-backed (ms)" inflate_ms ""
row "host AnonHugePages of guest RAM before (kB)" host_ahp_before ""
row "host AnonHugePages of guest RAM after (kB)" host_ahp_after ""
row "guest AnonHugePages before (kB)" guest_ahp_before ""
row "guest AnonHugePages after (kB)" guest_ahp_after ""
row "host AnonHugePages, deflated + used (kB)" host_ahp_retouch ""
row "inflate $hugetlb_mib MiB, hugetlbfs 2 MiB (ms)" inflate_ms -hugetlb
row "host 2 MiB pages usable by others (of $(fig huge-hugetlb host_pages_wanted))" \
	host_pages_usable -hugetlb
echo

# Time of the sample labelled LABEL in FILE.
mark_time() { sed -n "s/^\([0-9.]*\) [0-9]* # $2\$/\1/p" "$1" | head -n 1; }

plot_one() {
	t0=$(mark_time "$out/$1.samples" inflate)
	[ -n "$t0" ] || return
	printf "'%s' using (\$1-%s):(\$2/1024) with lines lw 2 title '%s'" \
		"$out/$1.samples" "$t0" "$2"
}

# Vertical lines at each run's deflate and re-touch, relative to its inflate.
arrows() {
	t0=$(mark_time "$out/$1.samples" inflate)
	[ -n "$t0" ] || return
	for label in deflate retouched; do
		t=$(mark_time "$out/$1.samples" $label)
		[ -n "$t" ] || continue
		echo "set arrow from $t-$t0, graph 0 to $t-$t0, graph 1 nohead dt 2 lc '$3'"
		echo "set label '$2 $label' at $t-$t0, graph 0.95 rotate by 90 right font ',8'"
	done
}

if command -v gnuplot >/dev/null && [ -s "$out/stock.samples" ]; then
	plots=$(plot_one stock "stock 4 KiB")
	huge_plot=$(plot_one huge "page-order=host")
	[ -n "$huge_plot" ] && plots="$plots, $huge_plot"
	gnuplot <<EOG
set terminal png size 1000,520
set output '$out/host-anon-huge.png'
set title "Host AnonHugePages of the guest's RAM: 800 MiB touched, every other page freed, $thp_mib MiB ballooned"
set xlabel 'seconds since the inflate command'
set ylabel 'MiB'
set key bottom right
set arrow from 0, graph 0 to 0, graph 1 nohead lc 'black'
set label 'inflate' at 0, graph 0.95 rotate by 90 right font ',8'
$(arrows stock stock 'purple')
$(arrows huge huge 'dark-green')
plot $plots
EOG
	echo "demo: plot in $out/host-anon-huge.png"
fi
exit $failed
