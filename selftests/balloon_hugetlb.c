// SPDX-License-Identifier: GPL-2.0
/*
 * A guest whose RAM is backed by host hugetlbfs pages: the host can only
 * take memory back in whole host pages.  Inflating MIB must free MIB of
 * host huge pages (HugePages_Free on the host rises); after deflating and
 * using the memory again the guest takes them back.  The stock balloon is
 * measured for comparison: it returns a host page only when its 4 KiB
 * pages happen to fill one.
 *
 * Usage: balloon_hugetlb MIB HOST-PAGE-KIB
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kselftest.h"
#include "hb_lib.h"

/*
 * Guest memory left alone when the test touches "all" free memory: page
 * tables and watermarks grow with the guest.
 */
#define SPARE_KB(free_kb)	(64 * 1024 + (free_kb) / 16)

static long long host_free(unsigned long page_kb)
{
	long long n;

	if (!hb_host_hugepages_free(page_kb, &n))
		ksft_exit_fail_msg("host HugePages_Free unreadable\n");
	return n;
}

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 400;
	unsigned long page_kb = argc > 2 ? strtoul(argv[2], NULL, 0) : 2048;
	bool huge = hb_huge_mode();
	const char *mode = huge ? "page-order=host" : "stock";
	long long want = mib * 1024 / page_kb, free0, free1, free2;
	unsigned long len, bad;
	double ms = 0;
	char *mem;

	ksft_print_header();
	ksft_set_plan(4);

	free0 = host_free(page_kb);
	ksft_test_result(hb_host_balloon(mib, &ms),
			 "%s: balloon reaches %lu MiB in %.1f ms\n", mode, mib, ms);
	free1 = host_free(page_kb);
	ksft_print_msg("host free %lu kB pages: %lld -> %lld (want +%lld)\n",
		       page_kb, free0, free1, want);
	if (huge)
		ksft_test_result(free1 - free0 >= want,
				 "%s: %lu MiB returned to the host as %lld huge pages\n",
				 mode, mib, free1 - free0);
	else
		ksft_test_result_skip("%s: returns only host pages its 4 KiB pages happen to fill: %lld of %lld\n",
				      mode, free1 - free0, want);

	if (!hb_host_balloon(0, NULL))
		ksft_exit_fail_msg("deflate failed\n");
	/* Use (nearly) all guest memory, so the guest takes its pages back. */
	len = (hb_meminfo_kb("MemFree") - SPARE_KB(hb_meminfo_kb("MemFree"))) * KIB;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED)
		ksft_exit_fail_msg("mmap %lu MiB: %s\n", len / MIB, strerror(errno));
	hb_fill(mem, len, 1);
	free2 = host_free(page_kb);
	ksft_print_msg("after deflate and use of %lu MiB: host free %lld\n",
		       len / MIB, free2);
	ksft_test_result(free2 <= free0 + (free1 - free0) / 10,
			 "%s: the guest takes the host pages back after deflate\n",
			 mode);
	bad = hb_check(mem, len, 1);
	ksft_test_result(!bad, "%s: data intact (%lu bad words)\n", mode, bad);
	printf("# DEMO mode=%s inflate_ms=%.1f host_pages_returned=%lld host_pages_wanted=%lld\n",
	       mode, ms, free1 - free0, want);
	ksft_finished();
}
