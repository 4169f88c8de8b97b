// SPDX-License-Identifier: GPL-2.0
/*
 * The scenario of the upstream report this project grew from: a guest on
 * THP-backed host memory touches TOUCH MiB with 4 KiB pages, frees every
 * other 4 KiB page of it, and the balloon takes INFLATE MiB.  The stock
 * balloon takes the scattered free 4 KiB pages and the host discards them
 * one by one, shattering nearly every host THP; with the host page order
 * negotiated the balloon takes whole host pages and host THP survives.
 *
 * Usage: balloon_thp [TOUCH-MIB INFLATE-MIB GUEST-THP-MIB]
 *
 * The last line "# DEMO ..." carries the figures make demo tabulates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kselftest.h"
#include "hb_lib.h"

/* The proportion of a figure a huge-page balloon must keep. */
#define KEEP_PERCENT	95

/*
 * Fill every @step-th page from page @first.  Pages are touched in address
 * order, so the guest hands out physical pages in that order too and
 * freeing every other page leaves no two free pages side by side.
 */
static void fill_pages(char *mem, unsigned long len, unsigned long first,
		       unsigned long step)
{
	unsigned long off;

	for (off = first * HB_SMALL_PAGE; off < len; off += step * HB_SMALL_PAGE)
		hb_fill(mem + off, HB_SMALL_PAGE, off);
}

static unsigned long check_pages(char *mem, unsigned long len,
				 unsigned long first)
{
	unsigned long off, bad = 0;

	for (off = first * HB_SMALL_PAGE; off < len; off += 2 * HB_SMALL_PAGE)
		bad += hb_check(mem + off, HB_SMALL_PAGE, off);
	return bad;
}

static long long host_ahp(void)
{
	long long kb = -1;

	if (!hb_host_anon_huge_kb(&kb))
		ksft_exit_fail_msg("host AnonHugePages unreadable\n");
	return kb;
}

int main(int argc, char **argv)
{
	unsigned long touch = (argc > 1 ? strtoul(argv[1], NULL, 0) : 800) * MIB;
	unsigned long inflate_mib = argc > 2 ? strtoul(argv[2], NULL, 0) : 400;
	unsigned long thp = (argc > 3 ? strtoul(argv[3], NULL, 0) : 32) * MIB;
	long long host0, host1, host2, guest0, guest1, huge0, huge1, want;
	bool huge = hb_huge_mode();
	const char *mode = huge ? "page-order=host" : "stock";
	char *mem, *thp_mem;
	unsigned long bad;
	double ms, deflate_ms;

	ksft_print_header();
	ksft_set_plan(6);
	ksft_print_msg("%s balloon, touch %lu MiB, free every other page, inflate %lu MiB\n",
		       mode, touch / MIB, inflate_mib);

	/* Guest THP the balloon must not take. */
	thp_mem = hb_map(thp, MADV_HUGEPAGE);
	memset(thp_mem, 0x5a, thp);

	mem = hb_map(touch, MADV_NOHUGEPAGE);
	fill_pages(mem, touch, 0, 1);
	if (!hb_free_every_other_page(mem, touch, 0))
		ksft_exit_fail_msg("MADV_DONTNEED: %s\n", strerror(errno));

	huge0 = hb_vmstat("balloon_huge_inflate");
	ksft_print_msg("before: compact_migrate_scanned %lld compact_isolated %lld compact_free_scanned %lld\n",
		       hb_vmstat("compact_migrate_scanned"),
		       hb_vmstat("compact_isolated"),
		       hb_vmstat("compact_free_scanned"));
	guest0 = hb_meminfo_kb("AnonHugePages");
	hb_host_mark("inflate");
	host0 = host_ahp();
	ksft_test_result(hb_host_balloon(inflate_mib, &ms),
			 "%s: balloon reaches %lu MiB in %.1f ms\n", mode,
			 inflate_mib, ms);
	host1 = host_ahp();
	guest1 = hb_meminfo_kb("AnonHugePages");
	huge1 = hb_vmstat("balloon_huge_inflate");
	ksft_print_msg("after: compact_migrate_scanned %lld compact_isolated %lld compact_free_scanned %lld\n",
		       hb_vmstat("compact_migrate_scanned"),
		       hb_vmstat("compact_isolated"),
		       hb_vmstat("compact_free_scanned"));

	want = host0 - (long long)inflate_mib * 1024;
	ksft_print_msg("host AnonHugePages %lld -> %lld kB (before - inflated = %lld kB)\n",
		       host0, host1, want);
	if (huge)
		ksft_test_result(host1 >= want * KEEP_PERCENT / 100,
				 "%s: host keeps >= %d%% of its THP\n", mode,
				 KEEP_PERCENT);
	else
		/* The bench must reproduce the report, or it shows nothing. */
		ksft_test_result(host1 < want / 2,
				 "%s: host THP shattered as reported upstream (%lld%% kept)\n",
				 mode, want > 0 ? host1 * 100 / want : 0);

	ksft_print_msg("guest AnonHugePages %lld -> %lld kB\n", guest0, guest1);
	ksft_test_result(guest1 >= guest0 && guest0 >= (long long)(thp / KIB) / 2,
			 "%s: guest THP not taken by the balloon\n", mode);

	hb_host_mark("deflate");
	if (!hb_host_balloon(0, &deflate_ms))
		ksft_exit_fail_msg("deflate failed\n");
	fill_pages(mem, touch, 0, 2);
	host2 = host_ahp();
	hb_host_mark("retouched");
	ksft_print_msg("after deflate and re-touch: host AnonHugePages %lld kB\n",
		       host2);
	if (huge)
		ksft_test_result(host2 >= host0 * KEEP_PERCENT / 100,
				 "%s: host THP comes back after deflate\n", mode);
	else
		/* Only the host's khugepaged could restore them, and slowly. */
		ksft_test_result(host2 < host0 / 2,
				 "%s: host THP stays shattered after deflate (%lld of %lld kB back)\n",
				 mode, host2, host0);

	bad = check_pages(mem, touch, 1) + check_pages(mem, touch, 0);
	ksft_test_result(!bad, "%s: data intact after inflate and deflate (%lu bad words)\n",
			 mode, bad);

	/* All of it in 2 MiB host pages, or none with the stock balloon. */
	want = huge ? inflate_mib / 2 * KEEP_PERCENT / 100 : 0;
	ksft_test_result(huge ? huge1 - huge0 >= want : huge1 == huge0,
			 "%s: balloon_huge_inflate counted %lld host pages (want %s%lld)\n",
			 mode, huge1 - huge0, huge ? ">= " : "", want);

	printf("# DEMO mode=%s inflate_mib=%lu inflate_ms=%.1f deflate_ms=%.1f host_ahp_before=%lld host_ahp_after=%lld guest_ahp_before=%lld guest_ahp_after=%lld host_ahp_retouch=%lld\n",
	       mode, inflate_mib, ms, deflate_ms, host0, host1, guest0, guest1, host2);
	ksft_finished();
}
