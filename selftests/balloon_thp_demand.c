// SPDX-License-Identifier: GPL-2.0
/*
 * Whether the balloon leaves the guest its THPs, the review's second
 * objection: a balloon that takes free 2 MiB blocks takes the blocks the
 * guest's next THP faults would use.  From STATE (seed: the upstream
 * report's 800 MiB touched with every other 4 KiB page freed; clean: a
 * guest that touched nothing) the balloon takes INFLATE MiB, then a
 * workload faults WORKLOAD MiB with MADV_HUGEPAGE and unmaps it, for each
 * WORKLOAD in turn.  Per workload: the guest THP it got at fault time
 * (khugepaged asleep) and after khugepaged had 10 s, thp_fault_alloc and
 * thp_fault_fallback, the fault throughput, MemFree before it, and the
 * host THP of the guest's RAM.  The guest has no swap: a workload runs in
 * a child process, and its being killed for want of memory is a figure.
 *
 * This is a benchmark: it prints figures and fails only if it cannot run.
 *
 * Usage: balloon_thp_demand seed|clean INFLATE-MIB WORKLOAD-MIB...
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest.h"
#include "hb_lib.h"

#define KHUGEPAGED "/sys/kernel/mm/transparent_hugepage/khugepaged/"
#define SCAN_SLEEP_KNOB		KHUGEPAGED "scan_sleep_millisecs"
#define PAGES_TO_SCAN_KNOB	KHUGEPAGED "pages_to_scan"
/* khugepaged asleep for an hour, or scanning 256 MiB every 10 ms. */
#define ASLEEP_MS		3600000
#define BUSY_MS			10
#define BUSY_PAGES		65536
#define KHUGEPAGED_SECONDS	10

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void khugepaged(long sleep_ms, long pages)
{
	if (!hb_write_knob(PAGES_TO_SCAN_KNOB, pages) ||
	    !hb_write_knob(SCAN_SLEEP_KNOB, sleep_ms))
		ksft_exit_fail_msg("cannot set khugepaged: %s\n",
				   strerror(errno));
}

static long long host_ahp(void)
{
	long long kb;

	return hb_host_anon_huge_kb(&kb) ? kb : -1;
}

/* Fault @mib MiB with MADV_HUGEPAGE; print its figures. */
static void workload(const char *mode, const char *state, unsigned long mib)
{
	long long ahp0, alloc0, fallback0, ahp_fault, ahp_later;
	long long memfree = hb_meminfo_kb("MemFree");
	unsigned long off, len = mib * MIB;
	double t0, ms;
	char *p;

	ahp0 = hb_meminfo_kb("AnonHugePages");
	alloc0 = hb_vmstat("thp_fault_alloc");
	fallback0 = hb_vmstat("thp_fault_fallback");
	t0 = now_ms();
	p = hb_map(len, MADV_HUGEPAGE);
	for (off = 0; off < len; off += HB_SMALL_PAGE)
		p[off] = 1;
	ms = now_ms() - t0;
	ahp_fault = hb_meminfo_kb("AnonHugePages") - ahp0;

	khugepaged(BUSY_MS, BUSY_PAGES);
	sleep(KHUGEPAGED_SECONDS);
	khugepaged(ASLEEP_MS, BUSY_PAGES);
	ahp_later = hb_meminfo_kb("AnonHugePages") - ahp0;

	ksft_print_msg("%s, %s, %lu MiB of %lld kB free: %lld kB THP at fault, %lld kB after khugepaged, %.0f MiB/s\n",
		       mode, state, mib, memfree, ahp_fault, ahp_later,
		       mib / (ms / 1e3));
	printf("# BENCH state=%s mode=%s mib=%lu memfree_kb=%lld killed=0 thp_fault_kb=%lld thp_khugepaged_kb=%lld fault_alloc=%lld fault_fallback=%lld fault_mib_s=%.0f host_ahp_kb=%lld\n",
	       state, mode, mib, memfree, ahp_fault, ahp_later,
	       hb_vmstat("thp_fault_alloc") - alloc0,
	       hb_vmstat("thp_fault_fallback") - fallback0,
	       mib / (ms / 1e3), host_ahp());
	fflush(stdout);
}

/* Run workload() in a child; false if it could not run at all. */
static bool run_workload(const char *mode, const char *state,
			 unsigned long mib)
{
	long long memfree = hb_meminfo_kb("MemFree");
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return false;
	if (!pid) {
		/* The victim if memory runs out, not the seed's owner. */
		hb_write_str("/proc/self/oom_score_adj", "1000");
		workload(mode, state, mib);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return false;
	khugepaged(ASLEEP_MS, BUSY_PAGES);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
		ksft_print_msg("%s, %s, %lu MiB of %lld kB free: killed for want of memory\n",
			       mode, state, mib, memfree);
		printf("# BENCH state=%s mode=%s mib=%lu memfree_kb=%lld killed=1\n",
		       state, mode, mib, memfree);
		return true;
	}
	return WIFEXITED(status) && !WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	const char *state = argc > 1 ? argv[1] : "seed";
	unsigned long inflate_mib = argc > 2 ? strtoul(argv[2], NULL, 0) : 400;
	unsigned long touch = 800 * MIB;
	long saved_sleep, saved_pages;
	const char *mode;
	double ms;
	int i;

	ksft_print_header();
	mode = hb_huge_mode() ? "page-order=host" : "stock";
	if (argc < 4 || (strcmp(state, "seed") && strcmp(state, "clean")))
		ksft_exit_fail_msg("usage: balloon_thp_demand seed|clean INFLATE-MIB WORKLOAD-MIB...\n");
	ksft_set_plan(1 + argc - 3);
	saved_sleep = hb_read_knob(SCAN_SLEEP_KNOB);
	saved_pages = hb_read_knob(PAGES_TO_SCAN_KNOB);
	khugepaged(ASLEEP_MS, BUSY_PAGES);

	if (!strcmp(state, "seed")) {
		char *mem = hb_map(touch, MADV_NOHUGEPAGE);

		hb_fill(mem, touch, 0);
		if (!hb_free_every_other_page(mem, touch, 0))
			ksft_exit_fail_msg("MADV_DONTNEED: %s\n",
					   strerror(errno));
		/* Or fork() must commit it again for the workload's child. */
		if (madvise(mem, touch, MADV_DONTFORK))
			ksft_exit_fail_msg("MADV_DONTFORK: %s\n",
					   strerror(errno));
	}
	ksft_test_result(hb_host_balloon(inflate_mib, &ms),
			 "%s, %s: balloon reaches %lu MiB in %.1f ms\n", mode,
			 state, inflate_mib, ms);
	for (i = 3; i < argc; i++) {
		unsigned long mib = strtoul(argv[i], NULL, 0);

		ksft_test_result(run_workload(mode, state, mib),
				 "%s, %s: workload of %lu MiB ran\n", mode,
				 state, mib);
	}

	khugepaged(saved_sleep, saved_pages);
	hb_host_balloon(0, NULL);
	ksft_finished();
}
