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

#define SMALL_PAGE		4096UL
/* Left unlocked so the guest keeps running. */
#define SPARE_KB		(64 * 1024)
#define HUGE_ORDER		9
/* TCG timing noise between two guests. */
#define FALLBACK_SLACK_PERCENT	25
/* One compaction pass over a 1 GiB guest under TCG, measured: 20-200 ms. */
#define COMPACTION_PASS_MS	250

/* Free blocks of at least 2 MiB, in 2 MiB units, from /proc/buddyinfo. */
static long long free_huge_blocks(void)
{
	char line[512], *p;
	long long n = 0, count;
	int order;
	FILE *f = fopen("/proc/buddyinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, "zone");
		if (!p)
			continue;
		p += 4;
		while (*p == ' ')
			p++;
		p = strchr(p, ' ');	/* past the zone name */
		for (order = 0; p && order < 64; order++) {
			count = strtoll(p, &p, 10);
			if (order >= HUGE_ORDER)
				n += count << (order - HUGE_ORDER);
			if (*p != ' ')
				break;
		}
	}
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 300;
	double stock_ms = argc > 2 ? strtod(argv[2], NULL) : 0, ms = 0;
	bool huge = hb_huge_mode();
	const char *mode = huge ? "page-order=host" : "stock";
	long long fb0, fb1, want = mib * 256, huge_free;
	unsigned long len, off;
	int unevictable;
	char *mem;

	ksft_print_header();
	ksft_set_plan(3);

	unevictable = hb_read_knob(HB_UNEVICTABLE_KNOB);
	if (unevictable < 0 || !hb_write_knob(HB_UNEVICTABLE_KNOB, 0))
		ksft_exit_skip("%s not writable\n", HB_UNEVICTABLE_KNOB);

	len = (hb_meminfo_kb("MemFree") - SPARE_KB) * KIB;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || madvise(mem, len, MADV_NOHUGEPAGE))
		ksft_exit_fail_msg("mmap %lu MiB: %s\n", len / MIB,
				   strerror(errno));
	/* In address order, so the freed pages have no free neighbour. */
	for (off = 0; off < len; off += SMALL_PAGE)
		mem[off] = 1;
	for (off = 0; off < len; off += 2 * SMALL_PAGE)
		if (madvise(mem + off, SMALL_PAGE, MADV_DONTNEED))
			ksft_exit_fail_msg("free page: %s\n", strerror(errno));
	/* Lock what is left without faulting the holes back in. */
	if (mlock2(mem, len, MLOCK_ONFAULT))
		ksft_exit_fail_msg("mlock2: %s\n", strerror(errno));
	huge_free = free_huge_blocks();
	ksft_print_msg("%s: %lu MiB locked, every other page freed; MemFree %lld kB, %lld free 2 MiB blocks\n",
		       mode, len / MIB, hb_meminfo_kb("MemFree"), huge_free);
	/* What is left in whole blocks goes huge, the rest must fall back. */
	want -= huge_free << HUGE_ORDER;

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
	else
		ksft_test_result_skip("%s: the stock balloon has no fallback\n", mode);

	if (huge && stock_ms > 0)
		ksft_test_result(ms <= stock_ms * (100 + FALLBACK_SLACK_PERCENT) / 100 +
				 COMPACTION_PASS_MS,
				 "%s: %.1f ms, stock balloon %.1f ms (+%d%% +%d ms allowed)\n",
				 mode, ms, stock_ms, FALLBACK_SLACK_PERCENT,
				 COMPACTION_PASS_MS);
	else
		ksft_test_result_skip("%s: no stock time to compare with\n", mode);

	hb_host_balloon(0, NULL);
	hb_write_knob(HB_UNEVICTABLE_KNOB, unevictable);
	printf("# DEMO mode=%s inflate_ms=%.1f\n", mode, ms);
	ksft_finished();
}
