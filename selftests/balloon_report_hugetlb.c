// SPDX-License-Identifier: GPL-2.0
/*
 * Free page reporting on hugetlbfs 2 MiB host memory: the host can only
 * discard a whole huge page of the file, so free memory the guest reports
 * in host pages goes back to the host's huge page pool, where reports of
 * anything smaller release nothing.  The guest touches TOUCH MiB, frees
 * it, and the host's HugePages_Free must rise by about as much; then the
 * guest uses the memory again, which takes the huge pages back: all of
 * its free memory is reported by then, so whatever it touches was.
 *
 * With 1 GiB host pages (HOST-PAGE-KB 1048576), larger than any free block
 * of the guest, the driver must not report at all: page_reporting_order
 * keeps its initial MAX_ORDER, which only page_reporting_register()
 * changes.
 *
 * Run with -b hugetlb-2M -o page-order=host,free-page-reporting=on, or
 * -b hugetlb-1G ... balloon_report_hugetlb 600 1048576.
 *
 * Usage: balloon_report_hugetlb [TOUCH-MIB [HOST-PAGE-KB]]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest.h"
#include "hb_lib.h"

#define HOST_PAGE_KB		2048UL
#define GIGANTIC_PAGE_KB	1048576UL
/* x86 MAX_ORDER: page_reporting_order before any device registers. */
#define ORDER_UNREGISTERED	11
/* Reporting runs 2 s after frees and takes a part of each list a run. */
#define REPORT_WAIT_S		40
/* The part of the touched memory that must go back to the host pool. */
#define WANT_PERCENT		90

static long long host_free(void)
{
	long long n = -1;

	if (!hb_host_hugepages_free(HOST_PAGE_KB, &n))
		ksft_exit_fail_msg("host HugePages_Free unreadable\n");
	return n;
}

/*
 * Wait until the host's free huge pages have stopped rising for 3 s:
 * every free page the guest has is reported then.  Returns the count.
 */
static long long wait_settled(int *waited)
{
	long long n = host_free(), last;
	int still = 0;

	for (*waited = 0; still < 3 && *waited < REPORT_WAIT_S; (*waited)++) {
		sleep(1);
		last = n;
		n = host_free();
		still = n > last ? 0 : still + 1;
	}
	return n;
}

int main(int argc, char **argv)
{
	unsigned long touch = (argc > 1 ? strtoul(argv[1], NULL, 0) : 600) * MIB;
	long long pages = touch / KIB / HOST_PAGE_KB, free0, free1, free2, free3;
	long long want = pages * WANT_PERCENT / 100;
	bool huge = hb_huge_mode();
	const char *mode = huge ? "page-order=host" : "stock";
	unsigned long bad;
	char *mem;
	int t;

	unsigned long page_kb = argc > 2 ? strtoul(argv[2], NULL, 0) : HOST_PAGE_KB;

	ksft_print_header();
	if (!hb_balloon_has_feature(HB_F_REPORTING))
		ksft_exit_skip("free page reporting not negotiated: run with -o free-page-reporting=on\n");
	if (page_kb == GIGANTIC_PAGE_KB) {
		ksft_set_plan(1);
		if (!huge)
			ksft_test_result_skip("stock: no host page order\n");
		else
			ksft_test_result(hb_read_knob(HB_REPORTING_ORDER_KNOB) == ORDER_UNREGISTERED,
					 "%s: no free page reporting with 1 GiB host pages (page_reporting_order %lld)\n",
					 mode, hb_read_knob(HB_REPORTING_ORDER_KNOB));
		ksft_finished();
	}
	if (page_kb != HOST_PAGE_KB)
		ksft_exit_skip("host pages of %lu kB: 2048 or 1048576 only\n",
			       page_kb);
	if (host_free() < 0)
		ksft_exit_skip("host has no 2 MiB huge page pool\n");
	ksft_set_plan(3);

	mem = mmap(NULL, touch, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		ksft_exit_fail_msg("mmap %lu MiB: %s\n", touch / MIB,
				   strerror(errno));

	/* Boot's free memory is reported first, so the baseline settles. */
	free0 = wait_settled(&t);
	hb_fill(mem, touch, 1);
	free1 = host_free();
	ksft_print_msg("%s balloon: host HugePages_Free %lld before touching %lu MiB, %lld after\n",
		       mode, free0, touch / MIB, free1);

	if (munmap(mem, touch))
		ksft_exit_fail_msg("munmap: %s\n", strerror(errno));
	/* All free memory must be reported before reuse can show it back. */
	free2 = wait_settled(&t);
	ksft_print_msg("host HugePages_Free %lld %d s after the free (+%lld of %lld host pages freed)\n",
		       free2, t, free2 - free1, pages);
	ksft_test_result(free2 - free1 >= want,
			 "%s: reporting returns >= %d%% of the freed memory as whole host huge pages\n",
			 mode, WANT_PERCENT);

	mem = mmap(NULL, touch, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	hb_fill(mem, touch, 2);
	free3 = host_free();
	ksft_print_msg("host HugePages_Free %lld after reuse\n", free3);
	ksft_test_result(free2 - free3 >= want,
			 "%s: reported memory comes back from the host pool on use (-%lld host pages)\n",
			 mode, free2 - free3);

	bad = hb_check(mem, touch, 2);
	ksft_test_result(!bad, "%s: data intact (%lu bad words)\n", mode, bad);

	printf("# REPORT mode=%s touch_pages=%lld free_touched=%lld free_reported=%lld free_reused=%lld\n",
	       mode, pages, free1, free2, free3);
	ksft_finished();
}
