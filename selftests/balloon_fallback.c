// SPDX-License-Identifier: GPL-2.0
/*
 * No huge block to be had: nearly all guest memory is touched, every other
 * 4 KiB page of it is freed, the rest is mlocked, and compaction may not
 * move unevictable pages (vm.compact_unevictable_allowed=0).  The balloon must still reach
 * its target through 4 KiB pages, no slower than the stock balloon, and
 * with the host page order the fallback counter must show it.
 *
 * Usage: balloon_fallback MIB [STOCK-MS]
 *   STOCK-MS: the stock balloon's time for the same run.  The page-order
 *   balloon may take FALLBACK_SLACK_PERCENT more (TCG's noise between two
 *   guests) plus one compaction pass, which it makes once before it falls
 *   back and which finds nothing to move here.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kselftest.h"
#include "hb_lib.h"

/* Left unlocked so the guest keeps running. */
#define SPARE_KB		(64 * 1024)
/* TCG timing noise between two guests. */
#define FALLBACK_SLACK_PERCENT	25
/*
 * One compaction pass over a 1 GiB guest under TCG: 20-200 ms on the
 * release kernel, up to 540 ms more than stock's whole run on the debug
 * kernel (lockdep), which make check boots.
 */
#define COMPACTION_PASS_MS	600

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 300;
	double stock_ms = argc > 2 ? strtod(argv[2], NULL) : 0;
	double ms = 0, deflate_ms;
	bool huge = hb_huge_mode();
	const char *mode = huge ? "page-order=host" : "stock";
	long long fb0, fb1, want = mib * 256, huge_free;
	unsigned long len;
	int unevictable;

	ksft_print_header();
	/* The stock balloon has no fallback, and is the time to compare with. */
	ksft_set_plan(huge ? 3 : 1);

	unevictable = hb_read_knob(HB_UNEVICTABLE_KNOB);
	if (unevictable < 0 || !hb_write_knob(HB_UNEVICTABLE_KNOB, 0))
		ksft_exit_skip("%s not writable\n", HB_UNEVICTABLE_KNOB);

	len = (hb_meminfo_kb("MemFree") - SPARE_KB) * KIB;
	if (!hb_pin_holes(len))
		ksft_exit_fail_msg("pinning %lu MiB with holes: %s\n",
				   len / MIB, strerror(errno));
	huge_free = hb_free_blocks(HB_HUGE_ORDER);
	ksft_print_msg("%s: %lu MiB locked, every other page freed; MemFree %lld kB, %lld free 2 MiB blocks\n",
		       mode, len / MIB, hb_meminfo_kb("MemFree"), huge_free);
	/* What is left in whole blocks goes huge, the rest must fall back. */
	want -= huge_free << HB_HUGE_ORDER;

	fb0 = hb_vmstat("balloon_huge_fallback");
	ksft_test_result(hb_host_balloon(mib, &ms),
			 "%s: balloon reaches %lu MiB with no free huge block (%.1f ms)\n",
			 mode, mib, ms);
	fb1 = hb_vmstat("balloon_huge_fallback");

	if (huge)
		/* The one compaction pass may assemble a block or two. */
		ksft_test_result(want > 0 && fb1 - fb0 >= want * 9 / 10,
				 "%s: balloon_huge_fallback counts %lld of %lld pages\n",
				 mode, fb1 - fb0, want);

	if (huge && stock_ms > 0)
		ksft_test_result(ms <= stock_ms * (100 + FALLBACK_SLACK_PERCENT) / 100 +
				 COMPACTION_PASS_MS,
				 "%s: %.1f ms, stock balloon %.1f ms (+%d%% +%d ms allowed)\n",
				 mode, ms, stock_ms, FALLBACK_SLACK_PERCENT,
				 COMPACTION_PASS_MS);
	else if (huge)
		ksft_test_result_fail("%s: no stock time to compare with (balloon_fallback MIB STOCK-MS)\n",
				      mode);

	if (!hb_host_balloon(0, &deflate_ms))
		deflate_ms = -1;
	hb_write_knob(HB_UNEVICTABLE_KNOB, unevictable);
	printf("# DEMO mode=%s inflate_ms=%.1f deflate_ms=%.1f\n", mode, ms,
	       deflate_ms);
	ksft_finished();
}
