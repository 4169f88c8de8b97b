#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make check and make check-quick: host-side unit tests, then the in-guest
# selftests through tools/hb-vm on the debug kernel, as one TAP stream,
# closing with the skips and their reasons and "N passed, N failed,
# N skipped".  Exit status 1 when anything failed.
#
#   run-checks.sh [--quick] BUILD-DIR [CASE-PATTERN]
#   run-checks.sh --list BUILD-DIR: the names of all cases, one a line
#
# A case fails when one of its results is "not ok", when it exits with a
# status its TAP does not explain (a skip after results, a crash, a lost
# guest status), when it plans more or fewer results than it gives, when
# it gives none, and when it skips for a reason that is not a host limit.
set -u
quick= list=
case ${1:-} in
--quick) quick=1; shift ;;
--list) list=1; shift ;;
esac
build=$1 pattern=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
export HB_BUILD=$build
kernel=$build/guest-debug/bzImage
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
passed=0 failed=0 skipped=0 n=0 k=0 total=0 counting=1

# What a machine may lack; a skip for any other reason is a failure.  Keep
# README's list of host limits in step.
host_limits='cannot reserve [0-9]* host huge pages|host has no [0-9]* kB huge pages|host THP'

# make check-quick: the host tests and one stock/huge pair of each basic
# behaviour (inflation, host THP, hugetlbfs, fallback, integrity).
quick_cases=' host/uapi-sync host/qemu-page-order host/qemu-qtest host/checkpatch
	stock/basic huge/basic stock/thp-scenario huge/thp-scenario
	stock/hugetlb-2M huge/hugetlb-2M stock/fallback huge/fallback
	stock/integrity huge/integrity '
quick_cases=" $(echo $quick_cases) "

case_id() { echo "$1" | tr / _; }

# The value of KEY in the "# DEMO key=value ..." figures of CASE.
figure() {
	tr ' ' '\n' < "$state/$(case_id "$1").figs" 2>/dev/null |
		sed -n "s/^$2=//p" | head -n 1
}

# Count one result; a skip must name a host limit.
tally() {
	line=$1
	n=$((n + 1))
	case $line in
	"ok "*"# SKIP"*)
		reason=${line#*# SKIP}
		reason=${reason# }
		if echo "$reason" | grep -Eq "$host_limits"; then
			skipped=$((skipped + 1)) case_skipped=$((case_skipped + 1))
			echo "$case_name: $reason" >> "$state/skips"
			printf '%s\n' "$line"
		else
			failed=$((failed + 1)) case_failed=$((case_failed + 1))
			echo "not ok $n $case_name: skipped, and '$reason' is no host limit"
		fi ;;
	"ok "*)
		passed=$((passed + 1)) case_passed=$((case_passed + 1))
		printf '%s\n' "$line" ;;
	*)
		failed=$((failed + 1)) case_failed=$((case_failed + 1))
		printf '%s\n' "$line" ;;
	esac
}

# Re-number one case's TAP into the stream and judge what it left out.
collect() {
	status=$1 out=$2
	results=0 plan= skip_reason=
	while IFS= read -r line; do
		case $line in
		"ok "*|"not ok "*)
			results=$((results + 1))
			tally "$(printf '%s\n' "$line" | sed "s|^\(not \)\{0,1\}ok [0-9]* |\1ok $((n + 1)) $case_name: |")" ;;
		"1..0 # SKIP"*)
			plan=0 skip_reason=${line#1..0 # SKIP } ;;
		1..*)
			plan=${line#1..} plan=${plan%% *}
			printf '# %s\n' "$line" ;;
		*)
			printf '# %s\n' "$line" ;;
		esac
	done < "$out"
	# A skip of the whole case, before any result or as its only ones.
	if [ "$status" -eq 4 ] && [ "$case_passed" -eq 0 ] &&
	   [ "$case_failed" -eq 0 ]; then
		[ "$results" -gt 0 ] && return
		[ -n "$skip_reason" ] ||
			skip_reason=$(sed -n 's/^hb-vm: SKIP: //p' "$out.err" | tail -n 1)
		tally "ok $((n + 1)) $case_name # SKIP ${skip_reason:-no reason given}"
		return
	fi
	why=
	if [ "$status" -eq 4 ]; then
		why="skipped (exit 4) after $results results"
	elif [ "$status" -ne 0 ] && [ "$case_failed" -eq 0 ]; then
		why="exit status $status"
	elif [ "$results" -eq 0 ]; then
		why="no result"
	elif [ -n "$plan" ] && [ "$plan" -ne "$results" ]; then
		why="planned $plan results, gave $results"
	fi
	if [ -n "$why" ]; then
		tally "not ok $((n + 1)) $case_name: $why"
	fi
	[ "$status" -eq 0 ] || sed 's/^/# /' "$out.err"
}

# Run CASE now: count it in the counting pass, else run and judge it.
run_one() {
	case_name=$1 id=$(case_id "$1")
	[ -e "$state/$id.done" ] && return
	touch "$state/$id.done"
	if [ -n "$counting" ]; then
		total=$((total + 1))
		return
	fi
	k=$((k + 1))
	# The command, with each {CASE:KEY} replaced by that case's figure.
	set --
	while IFS= read -r arg; do
		case $arg in
		"{"*":"*"}")
			arg=${arg#\{} arg=${arg%\}}
			arg=$(figure "${arg%%:*}" "${arg#*:}") ;;
		esac
		set -- "$@" "$arg"
	done < "$state/$id.cmd"
	echo "# [$k/$total] $case_name: $*"
	out=$state/$id.out
	start=$(date +%s)
	"$@" > "$out" 2> "$out.err"
	status=$?
	case_passed=0 case_failed=0 case_skipped=0
	collect "$status" "$out"
	sed -n 's/^# DEMO //p' "$out" > "$state/$id.figs"
	echo "# [$k/$total] $case_name: $case_passed passed, $case_failed failed, $case_skipped skipped in $(($(date +%s) - start)) s"
}

# run_case [-a CASE] NAME COMMAND...: NAME runs when selected; -a CASE
# runs CASE first (whether selected or not) when NAME needs its figures.
run_case() {
	after=
	if [ "$1" = -a ]; then
		after=$2
		shift 2
	fi
	name=$1
	shift
	if [ -n "$list" ]; then
		echo "$name"
		return
	fi
	printf '%s\n' "$@" > "$state/$(case_id "$name").cmd"
	case $name in *"$pattern"*) ;; *) return ;; esac
	if [ -n "$quick" ]; then
		case $quick_cases in *" $name "*) ;; *) return ;; esac
	fi
	[ -n "$after" ] && run_one "$after"
	run_one "$name"
}

vm() { "$top/tools/hb-vm" -K "$kernel" "$@"; }
huge=page-order=host
gigantic="-m 3200 -c qemu64,+pdpe1gb -a hugetlb_cma=1G"

all_cases() {
	# Host side: the protocol the two series share, QEMU's device on
	# its own.
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
	# A 5.0 machine has no PAGE_POISON: a guest with init_on_free=1
	# declines REPORTING, and the virtqueues follow what it negotiated.
	run_case stock/old-machine vm -M pc-q35-5.0 -a init_on_free=1 \
		-o free-page-reporting=on balloon_basic 256
	run_case huge/old-machine vm -M pc-q35-5.0 -a init_on_free=1 \
		-o $huge,free-page-reporting=on balloon_basic 256
	# Migration neither refills nor sends the host pages in the balloon:
	# to a file (1 GiB, 400 MiB ballooned), live to a second QEMU.
	run_case huge/migrate-file vm -b hugetlb-2M -o $huge balloon_migrate file 400
	run_case stock/migrate-live vm -L -m 512 -b hugetlb-2M balloon_migrate live 200
	run_case huge/migrate-live vm -L -m 512 -b hugetlb-2M -o $huge \
		balloon_migrate live 200
	run_case huge/migrate-live-thp vm -L -m 512 -o $huge balloon_migrate live 200
	# Live migration while the host moves the balloon every second,
	# precopy and postcopy, on 2 MiB hugetlbfs and on THP.  (On THP,
	# before QEMU patch "physmem: reset TCG's dirty tracking after the
	# migration bitmap sync", the destination's jiffies came out stale
	# in 4 of 13 runs, and its debug kernel warned.)
	run_case stock/migrate-churn vm -L -m 512 -b hugetlb-2M \
		balloon_migrate_churn live 200
	run_case huge/migrate-churn vm -L -m 512 -b hugetlb-2M -o $huge \
		balloon_migrate_churn live 200
	run_case huge/migrate-churn-postcopy vm -L -m 512 -b hugetlb-2M -o $huge \
		balloon_migrate_churn postcopy 200
	run_case stock/migrate-churn-thp vm -L -m 512 balloon_migrate_churn live 200
	run_case huge/migrate-churn-thp vm -L -m 512 -o $huge \
		balloon_migrate_churn live 200
	run_case huge/migrate-churn-postcopy-thp vm -L -m 512 -o $huge \
		balloon_migrate_churn postcopy 200
	# A background snapshot inhibits discards while the VM runs: what
	# the balloon takes meanwhile is recorded, and released after it.
	run_case stock/snapshot vm -m 512 -b hugetlb-2M balloon_snapshot 200
	run_case huge/snapshot vm -m 512 -b hugetlb-2M -o $huge balloon_snapshot 200
	run_case huge/snapshot-thp vm -m 512 -o $huge balloon_snapshot 200
	# Deflate into a host whose huge pages another tenant took: the
	# guest keeps what the host cannot back.  (The stock balloon
	# releases no hugetlbfs page, so it has nothing to lose here.)
	run_case huge/deflate-busy vm -b hugetlb-2M -o $huge balloon_deflate_busy 400
	# A private mapping keeps released pages reserved to QEMU.
	run_case huge/hugetlb-2M-private vm -b hugetlb-2M -p -o $huge \
		balloon_hugetlb 400 2048 private
	# The device unplugged from its PCIe root port, or the driver
	# unbound, with 200 MiB inflated: the guest gets everything back,
	# and the balloon comes again.
	run_case stock/unplug vm -U -b hugetlb-2M balloon_unplug unplug 200
	run_case huge/unplug vm -U -b hugetlb-2M -o $huge balloon_unplug unplug 200
	run_case stock/unbind vm -b hugetlb-2M balloon_unplug unbind 200
	run_case huge/unbind vm -b hugetlb-2M -o $huge balloon_unplug unbind 200
	# A reset with the balloon inflated, by the host or by the guest
	# rebooting: the next boot rebuilds it.
	run_case stock/reset vm balloon_reset 256
	run_case huge/reset vm -o $huge balloon_reset 256
	run_case stock/reboot vm balloon_reset 256 guest
	run_case huge/reboot vm -o $huge balloon_reset 256 guest
	# No huge block to be had: fallback to 4 KiB, as fast as the stock
	# balloon of the same run.
	run_case stock/fallback vm balloon_fallback 300
	run_case -a stock/fallback huge/fallback vm -o $huge \
		balloon_fallback 300 "{stock/fallback:inflate_ms}"
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
	run_case huge/movable-cancel vm -m 512 -d 1:512 -o $huge balloon_movable cancel 256
	# The same with a 1 GiB host page, which offlining splits into 4 KiB
	# pages and moves out of the block in batches.
	run_case huge/movable-split-1G vm -m 1024 -d 1:1024 -b hugetlb-1G -o $huge \
		balloon_movable split 1024
	# alloc_contig_range() over a 1 GiB host page: a 1 GiB hugetlb page
	# where the balloon holds one, in ZONE_NORMAL.  That needs more
	# memory above 4 GiB than the host has 1 GiB pages for: anonymous
	# memory, told to be 1 GiB pages.
	run_case huge/movable-contig-1G vm -m 5120 -c qemu64,+pdpe1gb \
		-o $huge,x-host-page-order-raw=18 balloon_movable contig-split 1024
	# A corrected memory error in the balloon: the page moves or is
	# refused, the guest lives.
	run_case stock/soft-offline vm balloon_soft_offline 256
	run_case huge/soft-offline vm -o $huge balloon_soft_offline 256
	# alloc_contig_range() as often as with the stock balloon of the
	# same size: a whole CMA area, then 1 GiB pages from hugetlb_cma=
	# (x86 reserves it only with GBPAGES; at 3200 MiB it lands 1 GiB
	# aligned, at 4 GiB).
	run_case stock/movable-cma vm -m 1024 -a cma=128M balloon_movable cma 700 3
	run_case -a stock/movable-cma huge/movable-cma vm -m 1024 -a cma=128M \
		-o $huge balloon_movable cma 700 3 "{stock/movable-cma:contig_ok}"
	# Isolation racing the balloon: whole-CMA allocations and offlining
	# in a loop for two minutes while the target moves every second.
	run_case stock/movable-race vm -m 1024 -d 2:512 -a cma=128M \
		balloon_movable race 600 120
	run_case huge/movable-race vm -m 1024 -d 2:512 -a cma=128M -o $huge \
		balloon_movable race 600 120
	# Without balloon compaction (build/guest-nocompaction/bzImage) no
	# balloon page may sit in movable memory or a CMA area, and offlining
	# and whole-area CMA allocations succeed.
	nocompaction=$build/guest-nocompaction/bzImage
	run_case stock/nocompaction-offline vm -K "$nocompaction" -m 1024 \
		-d 2:512 balloon_movable offline 600 3
	run_case huge/nocompaction-offline vm -K "$nocompaction" -m 1024 \
		-d 2:512 -o $huge balloon_movable offline 600 3
	run_case stock/nocompaction-cma vm -K "$nocompaction" -m 1024 -a cma=128M \
		balloon_movable cma 700 3
	run_case -a stock/nocompaction-cma huge/nocompaction-cma vm -K "$nocompaction" \
		-m 1024 -a cma=128M -o $huge balloon_movable cma 700 3 \
		"{stock/nocompaction-cma:contig_ok}"
	# A system sleep with the balloon inflated (pm_test=devices).
	run_case stock/suspend vm balloon_suspend 256
	run_case huge/suspend vm -o $huge,free-page-reporting=on balloon_suspend 256
	run_case stock/movable-gigantic vm $gigantic balloon_movable gigantic 1600 3
	run_case -a stock/movable-gigantic huge/movable-gigantic vm $gigantic \
		-o $huge balloon_movable gigantic 1600 3 "{stock/movable-gigantic:contig_ok}"
	# Free page reporting at the host order, and the balloon across NUMA
	# nodes.
	run_case stock/report-thp vm -o free-page-reporting=on balloon_report_thp
	# 4 MiB host pages, so that reports at pageblock order (2 MiB) are
	# not whole host pages: see balloon_report_thp.c.
	report_4m=$huge,x-host-page-order-raw=10,free-page-reporting=on
	run_case huge/report-thp vm -o $report_4m balloon_report_thp
	run_case stock/report-hugetlb-2M vm -b hugetlb-2M -o free-page-reporting=on balloon_report_hugetlb
	run_case huge/report-hugetlb-2M vm -b hugetlb-2M -o $report_4m balloon_report_hugetlb
	run_case stock/report-hugetlb-1G vm -m 1024 -d 1:1024 -b hugetlb-1G \
		-o free-page-reporting=on balloon_report_hugetlb 600 1048576
	run_case huge/report-hugetlb-1G vm -m 1024 -d 1:1024 -b hugetlb-1G \
		-o $huge,free-page-reporting=on balloon_report_hugetlb 600 1048576
	# The shared capture path under load: nothing lost, nothing owned
	# twice.
	run_case stock/stress vm -o free-page-reporting=on balloon_stress 90
	run_case huge/stress vm -o $huge,free-page-reporting=on balloon_stress 90
	run_case stock/numa vm -n 2 balloon_numa
	run_case huge/numa vm -n 2 -o $huge balloon_numa
	run_case huge/hugetlb-1G vm -m 1024 -d 1:1024 -b hugetlb-1G -o $huge \
		balloon_hugetlb 1024 1048576
}

if [ -n "$list" ]; then
	all_cases
	exit 0
fi
all_cases
rm -f "$state"/*.done
counting=
echo "TAP version 13"
all_cases
echo "1..$n"

if [ -s "$state/skips" ]; then
	echo "# Skipped, for what this host lacks:"
	sed 's/^/#   /' "$state/skips"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
