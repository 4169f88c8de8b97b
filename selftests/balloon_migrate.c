// SPDX-License-Identifier: GPL-2.0
/*
 * Migration must not take back what the balloon gave the host.  On
 * hugetlbfs, reading a released page allocates a huge page again, so a
 * migration that reads the balloon's pages refills them on the source
 * (and a host that has given them to another tenant kills the VM).  The
 * device records the host pages in the balloon: the source neither reads
 * nor sends them, the record migrates, and the destination releases them.
 *
 * Balloon MIB, migrate (to a file, or live to a second QEMU), and check:
 * with page-order=host the source's resident guest RAM does not grow
 * during the migration, the destination holds no more than the source
 * did, the record came along, a working set is intact, and the balloon
 * deflates on the destination.  The stock balloon, which releases no
 * hugetlbfs page to begin with, runs the same steps for its figures.
 *
 * Usage: balloon_migrate file|live MIB
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kselftest.h"
#include "hb_lib.h"

#define WORKING_SET	(64 * MIB)
/* What the guest may touch on its own meanwhile: a few host pages */
#define SLACK_KB	(4 * HB_HUGE_KB)

int main(int argc, char **argv)
{
	const char *target = argc > 1 ? argv[1] : "file";
	unsigned long mib = argc > 2 ? strtoul(argv[2], NULL, 0) : 400;
	bool live = !strcmp(target, "live");
	bool huge = hb_huge_mode();
	const char *mode = huge ? "page-order=host" : "stock";
	long long want = mib * 1024 / HB_HUGE_KB, held = -1, refill;
	struct hb_migration m;
	unsigned long bad;
	char *mem;

	ksft_print_header();
	ksft_set_plan(huge ? 8 : 3);

	mem = hb_map_filled(WORKING_SET, 7);
	if (!hb_host_balloon(mib, NULL))
		ksft_exit_fail_msg("inflating to %lu MiB failed\n", mib);
	if (huge) {
		hb_host_qom_get("huge-pages-held", &held);
		ksft_test_result(held == want,
				 "%s: the device holds %lld host pages (%lld inflated)\n",
				 mode, held, want);
	}

	if (!hb_host_migrate(target, &m))
		ksft_exit_fail_msg("migration to %s failed\n", target);
	refill = m.peak_kb - m.before_kb;
	ksft_print_msg("%s: %s migration in %.0f ms; source guest RAM resident %lld kB, at most %lld kB during it; after it %lld kB\n",
		       mode, target, m.ms, m.before_kb, m.peak_kb, m.after_kb);
	if (huge)
		ksft_test_result(refill <= SLACK_KB,
				 "%s: the migration leaves the balloon's pages released on the source (%+lld kB)\n",
				 mode, refill);
	if (huge && live)
		ksft_test_result(m.after_kb <= m.before_kb + SLACK_KB,
				 "%s: the destination releases them too (%lld kB resident, source %lld kB)\n",
				 mode, m.after_kb, m.before_kb);
	else if (huge)
		ksft_test_result(m.after_kb <= m.before_kb + SLACK_KB,
				 "%s: the source resumes with them released (%lld kB resident)\n",
				 mode, m.after_kb);
	if (huge) {
		hb_host_qom_get("huge-pages-held", &held);
		ksft_test_result(held == want,
				 "%s: the device holds %lld host pages after the migration\n",
				 mode, held);
	}

	bad = hb_check(mem, WORKING_SET, 7);
	ksft_test_result(!bad, "%s: working set intact after the migration (%lu bad words)\n",
			 mode, bad);
	ksft_test_result(hb_host_balloon(0, NULL),
			 "%s: the balloon deflates after the migration\n", mode);
	if (huge) {
		hb_host_qom_get("huge-pages-held", &held);
		ksft_test_result(held == 0, "%s: the device holds no host page after deflate (%lld)\n",
				 mode, held);
	}
	/* The deflated memory works: take it all and check it */
	munmap(hb_map_filled(mib * MIB, 8), mib * MIB);
	bad = hb_check(mem, WORKING_SET, 7);
	ksft_test_result(!bad, "%s: working set intact after deflate (%lu bad words)\n",
			 mode, bad);
	printf("# DEMO mode=%s migrate=%s ms=%.0f refill_kb=%lld after_kb=%lld before_kb=%lld\n",
	       mode, target, m.ms, refill, m.after_kb, m.before_kb);
	ksft_finished();
}
