// SPDX-License-Identifier: GPL-2.0
/*
 * A guest whose RAM is backed by host hugetlbfs pages: the host can only
 * take memory back in whole host pages.  Inflating MIB must make MIB of
 * host huge pages usable by another process (free and not reserved);
 * after deflating and using the memory again the guest takes them back.
 * The stock balloon's figure is printed beside: it returns a host page
 * only when its 4 KiB pages happen to fill one.
 *
 * With "private" (hb-vm -p: the backend is mapped share=off) a released
 * page goes back to the pool but stays reserved to QEMU: no page may
 * become usable, and QEMU must have warned at start-up.
 *
 * Usage: balloon_hugetlb MIB HOST-PAGE-KIB [private]
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
/* What QEMU's series warns of a private file mapping under page-order. */
#define PRIVATE_WARNING	"stay reserved to QEMU"

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 400;
	unsigned long page_kb = argc > 2 ? strtoul(argv[2], NULL, 0) : 2048;
	bool private = argc > 3 && !strcmp(argv[3], "private");
	bool huge = hb_huge_mode();
	const char *mode = huge ? "page-order=host" : "stock";
	long long want = mib * 1024 / page_kb, usable0, usable1, usable2;
	unsigned long len, bad;
	double ms = 0;
	char *mem;

	ksft_print_header();
	ksft_set_plan(3 + huge + (huge && private));

	if (huge && private)
		ksft_test_result(hb_host_qemu_said(PRIVATE_WARNING),
				 "%s: QEMU warns that a private mapping keeps released pages reserved\n",
				 mode);
	usable0 = hb_host_usable_huge_pages(page_kb);
	ksft_test_result(hb_host_balloon(mib, &ms),
			 "%s: balloon reaches %lu MiB in %.1f ms\n", mode, mib, ms);
	usable1 = hb_host_usable_huge_pages(page_kb);
	ksft_print_msg("host usable %lu kB pages: %lld -> %lld (%lld wanted)\n",
		       page_kb, usable0, usable1, private ? 0 : want);
	if (huge && private)
		ksft_test_result(usable1 == usable0,
				 "%s: private mapping: no page usable by another process (%+lld)\n",
				 mode, usable1 - usable0);
	else if (huge)
		ksft_test_result(usable1 - usable0 >= want,
				 "%s: %lu MiB usable by another process as %lld huge pages\n",
				 mode, mib, usable1 - usable0);

	if (!hb_host_balloon(0, NULL))
		ksft_exit_fail_msg("deflate failed\n");
	/* Use (nearly) all guest memory, so the guest takes its pages back. */
	len = (hb_meminfo_kb("MemFree") - SPARE_KB(hb_meminfo_kb("MemFree"))) * KIB;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED)
		ksft_exit_fail_msg("mmap %lu MiB: %s\n", len / MIB, strerror(errno));
	hb_fill(mem, len, 1);
	usable2 = hb_host_usable_huge_pages(page_kb);
	ksft_print_msg("after deflate and use of %lu MiB: host usable %lld\n",
		       len / MIB, usable2);
	ksft_test_result(usable2 <= usable0 + (usable1 - usable0) / 10,
			 "%s: the guest takes the host pages back after deflate\n",
			 mode);
	bad = hb_check(mem, len, 1);
	ksft_test_result(!bad, "%s: data intact (%lu bad words)\n", mode, bad);
	printf("# DEMO mode=%s inflate_ms=%.1f inflate_mib=%lu host_pages_usable=%lld host_pages_wanted=%lld\n",
	       mode, ms, mib, usable1 - usable0, want);
	ksft_finished();
}
