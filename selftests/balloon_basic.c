// SPDX-License-Identifier: GPL-2.0
/*
 * The balloon as a management tool sees it: the device is there, a size
 * set through QMP is reached, the guest's MemTotal and MemFree follow it
 * down and back up, and the host-side facts the other tests rely on can be
 * read.
 *
 * Usage: balloon_basic [INFLATE-MIB]
 */
#include <stdio.h>
#include <stdlib.h>

#include "kselftest.h"
#include "hb_lib.h"

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 256;
	long long want_kb = mib * 1024, total0, total1, free0, free1;
	long long anon_huge, huge_usable, host_pages0;
	double ms;

	ksft_print_header();
	ksft_set_plan(hb_huge_mode() ? 6 : 5);

	ksft_test_result_pass("%s balloon device bound: %s\n",
			      hb_huge_mode() ? "page-order=host" : "stock",
			      hb_balloon_dev());

	total0 = hb_meminfo_kb("MemTotal");
	free0 = hb_meminfo_kb("MemFree");
	host_pages0 = hb_vmstat("balloon_huge_inflate");
	if (!hb_host_balloon(mib, &ms)) {
		ksft_test_result_fail("inflate to %lu MiB\n", mib);
	} else {
		total1 = hb_meminfo_kb("MemTotal");
		free1 = hb_meminfo_kb("MemFree");
		ksft_print_msg("inflate %lu MiB: %.1f ms; MemTotal %lld -> %lld kB, MemFree %lld -> %lld kB\n",
			       mib, ms, total0, total1, free0, free1);
		/* MemFree moves with the rest of the guest: allow 5 %. */
		ksft_test_result(total0 - total1 == want_kb &&
				 free0 - free1 >= want_kb * 95 / 100,
				 "inflate to %lu MiB lowers MemTotal and MemFree by it\n",
				 mib);
	}
	/* Unfragmented memory: most of it must go as whole host pages. */
	if (hb_huge_mode()) {
		long long host_kb = (hb_vmstat("balloon_huge_inflate") -
				     host_pages0) * HB_HUGE_KB;

		ksft_test_result(host_kb >= want_kb / 2,
				 "%lld of %lld kB inflated as 2 MiB host pages\n",
				 host_kb, want_kb);
	}

	if (!hb_host_balloon(0, &ms)) {
		ksft_test_result_fail("deflate to 0\n");
	} else {
		total1 = hb_meminfo_kb("MemTotal");
		free1 = hb_meminfo_kb("MemFree");
		/* The guest's own use of memory grows meanwhile: allow 5 %. */
		ksft_print_msg("deflate: %.1f ms; MemTotal %lld kB, MemFree %lld kB\n",
			       ms, total1, free1);
		ksft_test_result(total1 == total0 && free1 >= free0 * 95 / 100,
				 "deflate restores MemTotal and MemFree\n");
	}

	ksft_test_result(hb_host_anon_huge_kb(&anon_huge) && anon_huge >= 0,
			 "host AnonHugePages of the guest RAM readable: %lld kB\n",
			 anon_huge);
	huge_usable = hb_host_usable_huge_pages(2048);
	ksft_test_result(huge_usable >= 0,
			 "host usable 2 MiB huge pages readable: %lld\n",
			 huge_usable);
	ksft_finished();
}
