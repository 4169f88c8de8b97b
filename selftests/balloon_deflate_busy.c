// SPDX-License-Identifier: GPL-2.0
/*
 * Deflate into a host that cannot back the pages.  The guest inflates MIB
 * on shared hugetlbfs; another tenant then takes every usable huge page
 * of the host, the ones the balloon released included, and the balloon's
 * target goes back to 0.  A device that lets the guest touch such a page
 * kills the VM (SIGBUS) once the guest uses its memory.  This one refuses
 * it: the guest keeps it in the balloon, "actual" says so, QEMU emits
 * BALLOON_DEFLATE_SHORTFALL, the guest uses all the memory it has and
 * lives, and once the tenant gives the pages back the guest gets them,
 * uses them, and its working set is intact.
 *
 * Usage: balloon_deflate_busy MIB
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest.h"
#include "hb_lib.h"

#define WORKING_SET	(64 * MIB)
#define SHORTFALL_EVENT	"BALLOON_DEFLATE_SHORTFALL"
/* The guest retries once a second; give it a few rounds */
#define STALL_S		5
#define RECOVER_S	60
/* Free memory the test leaves alone when it uses "all" of it */
#define SPARE_MIB	64

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 400;
	long long held_pages, taken, held_mib = -1, events = 0, retries = 0;
	unsigned long bad, len;
	char *mem;
	int waited;

	ksft_print_header();
	if (!hb_huge_mode())
		ksft_exit_fail_msg("needs page-order=host: the stock balloon releases no hugetlbfs page\n");
	ksft_set_plan(7);

	mem = hb_map_filled(WORKING_SET, 11);
	if (!hb_host_balloon(mib, NULL))
		ksft_exit_fail_msg("inflating to %lu MiB failed\n", mib);
	hb_host_qom_get("huge-pages-held", &held_pages);
	if (!hb_host_take_huge_pages(HB_HUGE_KB, &taken))
		ksft_exit_fail_msg("the other tenant got no huge page\n");
	ksft_print_msg("balloon holds %lld host pages; the other tenant took %lld usable huge pages\n",
		       held_pages, taken);

	hb_host_balloon_target(0);
	sleep(STALL_S);
	hb_host_balloon_held(&held_mib);
	ksft_test_result(held_mib == (long long)mib,
			 "the guest keeps what the host cannot back: balloon still %lld MiB after %d s\n",
			 held_mib, STALL_S);
	hb_host_qom_get("huge-deflate-retries", &retries);
	hb_host_qmp_events(SHORTFALL_EVENT, &events);
	ksft_test_result(retries > 0 && events > 0,
			 "QEMU refused %lld deflate entries and sent %lld %s events\n",
			 retries, events, SHORTFALL_EVENT);
	/* What the guest has it may use: none of it is a page the host lacks */
	len = (hb_meminfo_kb("MemFree") - SPARE_MIB * 1024) * KIB;
	munmap(hb_map_filled(len, 12), len);
	bad = hb_check(mem, WORKING_SET, 11);
	ksft_test_result(!bad, "VM alive after the guest used %lu MiB, working set intact (%lu bad words)\n",
			 len / MIB, bad);

	hb_host_give_huge_pages();
	for (waited = 0; waited < RECOVER_S; waited++) {
		hb_host_balloon_held(&held_mib);
		if (!held_mib)
			break;
		sleep(1);
	}
	ksft_test_result(!held_mib,
			 "with the pages back the balloon deflates (%lld MiB left after %d s)\n",
			 held_mib, waited);
	hb_host_qom_get("huge-pages-held", &held_pages);
	ksft_test_result(!held_pages, "the device holds no host page (%lld)\n",
			 held_pages);

	/* Use (nearly) all free memory: the deflated pages are backed */
	len = (hb_meminfo_kb("MemFree") - SPARE_MIB * 1024) * KIB;
	munmap(hb_map_filled(len, 13), len);
	ksft_test_result(true, "the guest used %lu MiB after deflate\n", len / MIB);
	bad = hb_check(mem, WORKING_SET, 11);
	ksft_test_result(!bad, "working set intact (%lu bad words)\n", bad);
	ksft_finished();
}
