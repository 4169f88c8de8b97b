// SPDX-License-Identifier: GPL-2.0
/*
 * Host pages that arrive while discards are inhibited.  A background
 * snapshot write-protects guest RAM and inhibits discards while the VM
 * runs on; the host sets the target to MIB meanwhile, the guest having
 * touched its free memory before.  With page-order=host the device
 * records the host pages it cannot release then, counts them apart
 * (huge-pages-unreleased), and releases them once the snapshot is done:
 * the resident guest RAM drops by MIB then.  The stock balloon ignores
 * what arrives meanwhile, and releases nothing; its figures are printed.
 *
 * Usage: balloon_snapshot MIB
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "kselftest.h"
#include "hb_lib.h"

#define WORKING_SET	(64 * MIB)
/* What the guest may touch on its own meanwhile: a few host pages */
#define SLACK_KB	(4 * HB_HUGE_KB)
/* Left untouched before the snapshot, for the kernel */
#define TOUCH_SPARE_KB	(32 * 1024)

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 200;
	bool huge = hb_huge_mode();
	const char *mode = huge ? "page-order=host" : "stock";
	long long want = mib * 1024 / HB_HUGE_KB, held = -1, unreleased = -1;
	long long released_kb;
	unsigned long touched;
	struct hb_migration m;
	char request[64];
	unsigned long bad;
	char *mem;

	ksft_print_header();
	ksft_set_plan(huge ? 5 : 1);

	mem = hb_map_filled(WORKING_SET, 9);
	/* Make the host back what the balloon is going to take */
	touched = (hb_meminfo_kb("MemFree") - TOUCH_SPARE_KB) * KIB;
	munmap(hb_map_filled(touched, 10), touched);
	snprintf(request, sizeof(request), "snapshot inflate %lu", mib);
	if (!hb_host_migrate(request, &m))
		ksft_exit_fail_msg("background snapshot failed\n");
	released_kb = m.before_kb - m.after_kb;
	ksft_print_msg("%s: snapshot in %.0f ms, target %lld MiB set during it; guest RAM resident %lld kB before, %lld kB after; %lld host pages unreleased at most, all released %.0f ms after it\n",
		       mode, m.ms, m.last_target_mib, m.before_kb, m.after_kb,
		       m.peak_unreleased, m.release_ms);
	if (huge) {
		ksft_test_result(m.last_target_mib == (long long)mib &&
				 m.peak_unreleased >= want / 2,
				 "%s: host pages inflated during the snapshot are recorded unreleased: %lld (%lld inflated)\n",
				 mode, m.peak_unreleased, want);
		hb_host_qom_get("huge-pages-held", &held);
		hb_host_qom_get("huge-pages-unreleased", &unreleased);
		ksft_test_result(m.release_ms >= 0 && !unreleased && held == want,
				 "%s: released after the snapshot (%.0f ms): %lld held, %lld unreleased\n",
				 mode, m.release_ms, held, unreleased);
		ksft_test_result(released_kb >= (long long)mib * 1024 - SLACK_KB,
				 "%s: the host has the balloon's memory back after the snapshot: %lld kB of %lu\n",
				 mode, released_kb, mib * 1024);
	}
	bad = hb_check(mem, WORKING_SET, 9);
	ksft_test_result(!bad, "%s: working set intact (%lu bad words)\n",
			 mode, bad);
	if (huge)
		ksft_test_result(hb_host_balloon(0, NULL),
				 "%s: the balloon deflates after the snapshot\n", mode);
	printf("# DEMO mode=%s snapshot_ms=%.0f released_kb=%lld peak_unreleased=%lld release_ms=%.0f\n",
	       mode, m.ms, released_kb, m.peak_unreleased, m.release_ms);
	ksft_finished();
}
