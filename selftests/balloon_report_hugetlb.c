// SPDX-License-Identifier: GPL-2.0
/*
 * Free page reporting on hugetlbfs 2 MiB host memory: the host can only
 * discard a whole huge page of the file, so free memory the guest reports
 * in host pages goes back to the host's huge page pool, where reports of
 * anything smaller release nothing.  The guest touches TOUCH MiB, frees
 * it, and the host's usable huge pages must rise by about as much; then the
 * guest uses the memory again, which takes the huge pages back: all of
 * its free memory is reported by then, so whatever it touches was.
 *
 * With 1 GiB host pages (HOST-PAGE-KB 1048576), larger than any free block
 * of the guest, the driver reports whole free 1 GiB ranges: the test frees
 * what it touched of the guest's hot-added 1 GiB and the host's 1 GiB
 * pool must rise by a page.
 *
 * With the host page order, the driver must report at the order the host
 * advertises; see balloon_report_thp.c for why make check advertises
 * 4 MiB host pages on 2 MiB ones.
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

#define MAX_BLOCKS		64
/* Reporting runs 2 s after frees and takes a part of each list a run. */
#define REPORT_WAIT_S		40
/* The part of the touched memory that must go back to the host pool. */
#define WANT_PERCENT		90

/*
 * Wait until the host's usable huge pages have stopped rising for 3 s:
 * every free page the guest has is reported then.  Returns the count.
 */
static long long wait_settled(unsigned long page_kb, int *waited)
{
	long long n = hb_host_usable_huge_pages(page_kb), last;
	int still = 0;

	for (*waited = 0; still < 3 && *waited < REPORT_WAIT_S; (*waited)++) {
		sleep(1);
		last = n;
		n = hb_host_usable_huge_pages(page_kb);
		still = n > last ? 0 : still + 1;
	}
	return n;
}

/* Wait up to REPORT_WAIT_S for the host's usable huge pages to exceed @than. */
static long long wait_above(unsigned long page_kb, long long than, int *waited)
{
	long long n = hb_host_usable_huge_pages(page_kb);

	for (*waited = 0; n <= than && *waited < REPORT_WAIT_S; (*waited)++) {
		sleep(1);
		n = hb_host_usable_huge_pages(page_kb);
	}
	return n;
}

/*
 * Other processes get a few pages of the hot-added memory too, and the
 * initramfs landed there at boot: taking all of it offline moves them
 * out, and it comes back online entirely free.  Nothing of this returns
 * memory to the host; only free page reporting does.
 */
static void empty_hot_added(const int *ids, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!hb_block_offline(ids[i]))
			ksft_exit_fail_msg("offline memory%d failed\n", ids[i]);
	for (i = 0; i < n; i++)
		if (!hb_block_online_movable(ids[i]))
			ksft_exit_fail_msg("online memory%d failed\n", ids[i]);
}

/*
 * 1 GiB host pages: the guest's hot-added memory (hb-vm -d) is a whole
 * host page, free once the guest frees what it used of it and moves
 * out what others used.  Only the
 * page-order driver reports such a range whole; the stock driver reports
 * 4 MiB blocks, which the host cannot discard from a 1 GiB page.
 */
static int test_gigantic(bool huge, const char *mode, unsigned long touch)
{
	long long free0, free1, free2, free3;
	int ids[MAX_BLOCKS], n, t;
	unsigned long bad;
	char *mem;

	n = hb_movable_blocks(ids, MAX_BLOCKS);
	if (!n)
		ksft_exit_fail_msg("no hot-added memory: run with hb-vm -d 1:1024\n");
	/* The stock balloon returns no page, so none can come back. */
	ksft_set_plan(huge ? 3 : 2);

	empty_hot_added(ids, n);
	free0 = wait_settled(HB_GIGANTIC_KB, &t);
	mem = hb_map_filled(touch, 1);
	free1 = hb_host_usable_huge_pages(HB_GIGANTIC_KB);
	if (munmap(mem, touch))
		ksft_exit_fail_msg("munmap: %s\n", strerror(errno));
	empty_hot_added(ids, n);
	free2 = wait_above(HB_GIGANTIC_KB, free1, &t);
	ksft_print_msg("%s balloon: host 1 GiB usable huge pages %lld with the hot-added memory free, %lld after touching %lu MiB, %lld %d s after the free\n",
		       mode, free0, free1, touch / MIB, free2, t);
	if (huge)
		ksft_test_result(free2 - free1 >= 1,
				 "%s: reporting returns whole 1 GiB host pages (+%lld)\n",
				 mode, free2 - free1);
	else
		ksft_test_result(free2 == free1,
				 "%s: reporting in 4 MiB blocks returns no 1 GiB host page\n",
				 mode);

	mem = hb_map_filled(touch, 2);
	free3 = hb_host_usable_huge_pages(HB_GIGANTIC_KB);
	ksft_print_msg("host 1 GiB usable huge pages %lld after reuse\n", free3);
	if (huge)
		ksft_test_result(free2 - free3 >= 1,
				 "%s: the reported 1 GiB page comes back on use (-%lld)\n",
				 mode, free2 - free3);

	bad = hb_check(mem, touch, 2);
	ksft_test_result(!bad, "%s: data intact (%lu bad words)\n", mode, bad);
	ksft_finished();
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long touch = (argc > 1 ? strtoul(argv[1], NULL, 0) : 600) * MIB;
	long long pages = touch / KIB / HB_HUGE_KB, free0, free1, free2, free3;
	long long want = pages * WANT_PERCENT / 100;
	bool huge = hb_huge_mode();
	const char *mode = huge ? "page-order=host" : "stock";
	unsigned long bad;
	char *mem;
	int t;

	unsigned long page_kb = argc > 2 ? strtoul(argv[2], NULL, 0) : HB_HUGE_KB;

	ksft_print_header();
	if (!hb_balloon_has_feature(HB_F_REPORTING))
		ksft_exit_skip("free page reporting not negotiated: run with -o free-page-reporting=on\n");
	if (page_kb == HB_GIGANTIC_KB)
		return test_gigantic(huge, mode, touch);
	if (page_kb != HB_HUGE_KB)
		ksft_exit_skip("host pages of %lu kB: 2048 or 1048576 only\n",
			       page_kb);
	ksft_set_plan(huge ? 4 : 3);
	if (huge)
		ksft_test_result(hb_reports_at_host_order(),
				 "%s: free pages reported at the host page order\n",
				 mode);

	mem = mmap(NULL, touch, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		ksft_exit_fail_msg("mmap %lu MiB: %s\n", touch / MIB,
				   strerror(errno));

	/* Boot's free memory is reported first, so the baseline settles. */
	free0 = wait_settled(HB_HUGE_KB, &t);
	hb_fill(mem, touch, 1);
	free1 = hb_host_usable_huge_pages(HB_HUGE_KB);
	ksft_print_msg("%s balloon: host usable huge pages %lld before touching %lu MiB, %lld after\n",
		       mode, free0, touch / MIB, free1);

	if (munmap(mem, touch))
		ksft_exit_fail_msg("munmap: %s\n", strerror(errno));
	/* All free memory must be reported before reuse can show it back. */
	free2 = wait_settled(HB_HUGE_KB, &t);
	ksft_print_msg("host usable huge pages %lld %d s after the free (+%lld of %lld host pages freed)\n",
		       free2, t, free2 - free1, pages);
	ksft_test_result(free2 - free1 >= want,
			 "%s: reporting returns >= %d%% of the freed memory as whole host huge pages\n",
			 mode, WANT_PERCENT);

	mem = hb_map_filled(touch, 2);
	free3 = hb_host_usable_huge_pages(HB_HUGE_KB);
	ksft_print_msg("host usable huge pages %lld after reuse\n", free3);
	ksft_test_result(free2 - free3 >= want,
			 "%s: reported memory comes back from the host pool on use (-%lld host pages)\n",
			 mode, free2 - free3);

	bad = hb_check(mem, touch, 2);
	ksft_test_result(!bad, "%s: data intact (%lu bad words)\n", mode, bad);

	printf("# REPORT mode=%s touch_pages=%lld free_touched=%lld free_reported=%lld free_reused=%lld\n",
	       mode, pages, free1, free2, free3);
	ksft_finished();
}
