// SPDX-License-Identifier: GPL-2.0
/*
 * Free page reporting on THP-backed host memory: the guest touches TOUCH
 * MiB, frees it, and free page reporting hands it back to the host.  With
 * the host page order negotiated the driver reports whole host pages, so
 * the host discards whole THPs: QEMU's AnonHugePages falls by about what
 * was freed, and when the guest uses the memory again the host faults it
 * back in as THPs.  A report smaller than a host page would split each
 * THP instead: AnonHugePages falls the same, but the partly discarded
 * THPs come back as 4 KiB pages, so AnonHugePages stays down after reuse.
 *
 * With the host page order, the driver must report at the order the host
 * advertises.  On x86 a 2 MiB host page is also the pageblock order the
 * stock driver reports at, so make check advertises 4 MiB host pages
 * (x-host-page-order-raw=10, as a host with larger THPs would): reports
 * at pageblock order would then not be whole host pages.
 *
 * Run with -o page-order=host,free-page-reporting=on on the anon backend.
 *
 * Usage: balloon_report_thp [TOUCH-MIB]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest.h"
#include "hb_lib.h"

/* Reporting runs 2 s after frees and takes a part of each list a run. */
#define REPORT_WAIT_S		40
/* The part of the touched memory that must go back and come back. */
#define WANT_PERCENT		90

static long long host_ahp(void)
{
	long long kb = -1;

	if (!hb_host_anon_huge_kb(&kb))
		ksft_exit_fail_msg("host AnonHugePages unreadable\n");
	return kb;
}

/* Wait until host AnonHugePages is at most @want kB; return the last value. */
static long long wait_host_ahp_below(long long want, int *waited)
{
	long long kb = host_ahp();

	for (*waited = 0; kb > want && *waited < REPORT_WAIT_S; (*waited)++) {
		sleep(1);
		kb = host_ahp();
	}
	return kb;
}

/* Wait until host AnonHugePages has stopped falling for 3 s. */
static long long wait_host_ahp_settled(void)
{
	long long kb = host_ahp(), last;
	int still = 0, t;

	for (t = 0; still < 3 && t < REPORT_WAIT_S / 2; t++) {
		sleep(1);
		last = kb;
		kb = host_ahp();
		still = kb < last ? 0 : still + 1;
	}
	return kb;
}

int main(int argc, char **argv)
{
	unsigned long touch = (argc > 1 ? strtoul(argv[1], NULL, 0) : 600) * MIB;
	long long touched_kb = touch / KIB, host0, host1, order;
	long long host2 = -1, host3 = -1;
	long long want_drop = touched_kb * WANT_PERCENT / 100;
	bool huge = hb_huge_mode();
	const char *mode = huge ? "page-order=host" : "stock";
	unsigned long bad;
	int waited;
	char *mem;

	ksft_print_header();
	if (!hb_balloon_has_feature(HB_F_REPORTING))
		ksft_exit_skip("free page reporting not negotiated: run with -o free-page-reporting=on\n");
	/* The stock balloon reports at pageblock order, with no host order. */
	ksft_set_plan(huge ? 5 : 4);

	order = hb_read_knob(HB_REPORTING_ORDER_KNOB);
	ksft_print_msg("%s balloon, page_reporting_order %lld, touch %lu MiB\n",
		       mode, order, touch / MIB);
	if (huge)
		ksft_test_result(hb_reports_at_host_order(),
				 "%s: free pages reported at the host page order\n",
				 mode);

	mem = mmap(NULL, touch, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		ksft_exit_fail_msg("mmap %lu MiB: %s\n", touch / MIB,
				   strerror(errno));

	/* Let the reporting of boot's free memory settle first. */
	host0 = wait_host_ahp_settled();
	hb_fill(mem, touch, 1);
	host1 = host_ahp();
	ksft_print_msg("host AnonHugePages %lld kB before touch, %lld kB after\n",
		       host0, host1);
	/* hb-vm skips a host without THP before the guest boots. */
	if (host1 - host0 < want_drop)
		ksft_exit_fail_msg("the host did not back the touched memory with THP (+%lld of %lld kB)\n",
				   host1 - host0, touched_kb);
	ksft_test_result_pass("%s: host backs the touched memory with THP (+%lld kB)\n",
			      mode, host1 - host0);

	if (munmap(mem, touch))
		ksft_exit_fail_msg("munmap: %s\n", strerror(errno));
	host2 = wait_host_ahp_below(host1 - want_drop, &waited);
	ksft_print_msg("host AnonHugePages %lld kB %d s after the free (drop %lld kB, %lld host pages)\n",
		       host2, waited, host1 - host2,
		       (host1 - host2) / HB_HUGE_KB);
	ksft_test_result(host1 - host2 >= want_drop &&
			 host2 % HB_HUGE_KB == 0,
			 "%s: reporting hands back >= %d%% of the freed memory as whole host pages\n",
			 mode, WANT_PERCENT);

	mem = hb_map_filled(touch, 2);
	host3 = host_ahp();
	ksft_print_msg("host AnonHugePages %lld kB after reuse (%lld%% of the peak)\n",
		       host3, host1 > 0 ? host3 * 100 / host1 : 0);
	ksft_test_result(host3 - host2 >= want_drop,
			 "%s: reported memory comes back as host THP on use (+%lld kB)\n",
			 mode, host3 - host2);

	bad = hb_check(mem, touch, 2);
	ksft_test_result(!bad, "%s: data intact (%lu bad words)\n", mode, bad);

	printf("# REPORT mode=%s order=%lld touch_kb=%lld host_ahp_touched=%lld host_ahp_reported=%lld host_ahp_reused=%lld\n",
	       mode, order, touched_kb, host1, host2, host3);
	ksft_finished();
}
