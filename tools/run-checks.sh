#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make check: host-side unit tests, then every in-guest selftest through
# tools/hb-vm, as one TAP stream, closing with "N passed, N failed,
# N skipped".  Exit status 1 when anything failed.
#
#   run-checks.sh BUILD-DIR [CASE-PATTERN]
set -u
build=$1 pattern=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
export HB_BUILD=$build
passed=0 failed=0 skipped=0 n=0 last_inflate_ms= last_contig=

# Re-number one test's TAP into the stream, tallying its results.
collect() {
	case_name=$1 status=$2 out=$3
	results=0
	while IFS= read -r line; do
		case $line in
		"ok "*"# SKIP"*|"not ok "*"# SKIP"*)
			skipped=$((skipped + 1)) ;;
		"ok "*)
			passed=$((passed + 1)) ;;
		"not ok "*)
			failed=$((failed + 1)) ;;
		*)
			echo "# $line"
			continue ;;
		esac
		results=$((results + 1))
		n=$((n + 1))
		echo "$line" | sed "s|^\(not \)\{0,1\}ok [0-9]* |\1ok $n $case_name: |"
	done < "$out"
	# A status the TAP does not explain is a result of its own.
	if [ "$status" -eq 4 ] && [ "$results" -eq 0 ]; then
		n=$((n + 1)) skipped=$((skipped + 1))
		echo "ok $n $case_name # SKIP $(tail -n 1 "$out.err" | sed 's/^hb-vm: SKIP: //')"
	elif [ "$status" -ne 0 ] && [ "$status" -ne 4 ]; then
		n=$((n + 1)) failed=$((failed + 1))
		echo "not ok $n $case_name: exit status $status"
		sed 's/^/# /' "$out.err"
	fi
}

run_case() {
	case_name=$1
	shift
	case $case_name in *$pattern*) ;; *) return ;; esac
	echo "# ---- $case_name: $*" >&2
	out=$(mktemp)
	start=$(date +%s)
	"$@" > "$out" 2> "$out.err"
	status=$?
	echo "# $case_name: $(($(date +%s) - start)) s" >> "$out"
	collect "$case_name" "$status" "$out"
	last_inflate_ms=$(sed -n 's/^# DEMO .*inflate_ms=\([0-9.]*\).*/\1/p' "$out")
	last_contig=$(sed -n 's|^# DEMO mode=stock .*contig_ok=\([0-9]*/[0-9]*\).*|\1|p' "$out")
	rm -f "$out" "$out.err"
}

vm() { "$top/tools/hb-vm" "$@"; }
huge=page-order=host

echo "TAP version 13"
# Host side: the protocol the two series share, QEMU's device on its own.
for t in "$top"/tools/tests/*.sh; do
	run_case "host/$(basename "$t" .sh)" sh "$t" "$build"
done

# The stock 4 KiB balloon and the host page order, side by side.
run_case stock/basic vm balloon_basic 256
run_case huge/basic vm -o $huge balloon_basic 256
run_case stock/thp-scenario vm balloon_thp 800 400 32
run_case huge/thp-scenario vm -o $huge balloon_thp 800 400 32
run_case stock/hugetlb-2M vm -b hugetlb-2M balloon_hugetlb 400 2048
run_case huge/hugetlb-2M vm -b hugetlb-2M -o $huge balloon_hugetlb 400 2048
# No huge block to be had: fallback to 4 KiB, as fast as the stock balloon.
run_case stock/fallback vm balloon_fallback 300
run_case huge/fallback vm -o $huge balloon_fallback 300 "${last_inflate_ms:-0}"
run_case huge/bogus-order-0 vm -o $huge,x-host-page-order-raw=0 balloon_bogus_order 128
run_case huge/bogus-order-31 vm -o $huge,x-host-page-order-raw=31 balloon_bogus_order 128
run_case stock/integrity vm balloon_integrity 256 400 4
run_case huge/integrity vm -o $huge balloon_integrity 256 400 4
# Huge balloon pages stay movable: offline/online, compaction, split.
run_case stock/movable-offline vm -m 1024 -d 2:512 balloon_movable offline 600 3
run_case huge/movable-offline vm -m 1024 -d 2:512 -o $huge balloon_movable offline 600 3
run_case stock/movable-compact vm -m 1024 -d 2:512 balloon_movable compact 600 3
run_case huge/movable-compact vm -m 1024 -d 2:512 -o $huge balloon_movable compact 600 3
run_case huge/movable-split vm -m 512 -d 1:512 -o $huge balloon_movable split 256
# alloc_contig_range() as often as with the stock balloon of the same size:
# a whole CMA area, then 1 GiB pages from hugetlb_cma= (x86 reserves it
# only with GBPAGES; at 3200 MiB it lands 1 GiB aligned, at 4 GiB).
run_case stock/movable-cma vm -m 1024 -a cma=128M balloon_movable cma 760 3
run_case huge/movable-cma vm -m 1024 -a cma=128M -o $huge balloon_movable cma 760 3 "$last_contig"
gigantic="-m 3200 -c qemu64,+pdpe1gb -a hugetlb_cma=1G"
run_case stock/movable-gigantic vm $gigantic balloon_movable gigantic 1600 3
run_case huge/movable-gigantic vm $gigantic -o $huge balloon_movable gigantic 1600 3 "$last_contig"
# Free page reporting at the host order, and the balloon across NUMA nodes.
run_case stock/report-thp vm -o free-page-reporting=on balloon_report_thp
run_case huge/report-thp vm -o $huge,free-page-reporting=on balloon_report_thp
run_case huge/report-hugetlb-2M vm -b hugetlb-2M -o $huge,free-page-reporting=on balloon_report_hugetlb
run_case stock/report-hugetlb-1G vm -m 1024 -d 1:1024 -b hugetlb-1G -o free-page-reporting=on balloon_report_hugetlb 600 1048576
run_case huge/report-hugetlb-1G vm -m 1024 -d 1:1024 -b hugetlb-1G -o $huge,free-page-reporting=on balloon_report_hugetlb 600 1048576
# The shared capture path under load: nothing lost, nothing owned twice.
run_case stock/stress vm -o free-page-reporting=on balloon_stress 90
run_case huge/stress vm -o $huge,free-page-reporting=on balloon_stress 90
run_case stock/numa vm -n 2 balloon_numa
run_case huge/numa vm -n 2 -o $huge balloon_numa
run_case huge/hugetlb-1G vm -m 1024 -d 1:1024 -b hugetlb-1G -o $huge balloon_hugetlb 1024 1048576

echo "1..$n"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
