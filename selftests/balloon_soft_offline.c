// SPDX-License-Identifier: GPL-2.0
/*
 * A corrected memory error in a page of the balloon: the kernel
 * soft-offlines the page (here through
 * /sys/devices/system/memory/soft_offline_page).  For a host page in the
 * balloon that must move the host page whole to a new one, or refuse
 * cleanly; splitting it as a THP would hand its movable_ops to code that
 * expects an address_space.  Both the head and a tail of a host page are
 * tried.  The guest must live, the host's count of host pages must stay
 * the guest's, and the balloon must deflate completely afterwards.  The
 * stock balloon's 4 KiB page is tried beside it.
 *
 * Usage: balloon_soft_offline [MIB]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest.h"
#include "hb_lib.h"

#define SOFT_OFFLINE	"/sys/devices/system/memory/soft_offline_page"
#define DATA_MIB	32
/* All of guest memory, as far as /proc/kpageflags goes. */
#define ALL_PFNS	(~0UL >> 13)

/*
 * Soft-offline @pfn: true when the page was replaced (it is poisoned and
 * no longer in the balloon) or cleanly refused (-EBUSY, still in it).
 */
static bool soft_offline(const char *what, unsigned long pfn)
{
	char addr[32];
	unsigned long long flags;
	bool done, poisoned, ballooned;
	int err;

	snprintf(addr, sizeof(addr), "%#llx",
		 (unsigned long long)pfn * HB_SMALL_PAGE);
	done = hb_write_str(SOFT_OFFLINE, addr);
	err = done ? 0 : errno;
	flags = hb_kpageflags(pfn);
	poisoned = flags >> HB_KPF_HWPOISON & 1;
	ballooned = flags >> HB_KPF_OFFLINE & 1;
	ksft_print_msg("%s pfn %#lx: %s; now %spoisoned, %sin the balloon\n",
		       what, pfn, done ? "soft-offlined" : strerror(err),
		       poisoned ? "" : "not ", ballooned ? "" : "not ");
	return done ? poisoned && !ballooned : err == EBUSY && ballooned;
}

/* The host counts the host pages the guest holds. */
static bool counts_agree(long *guest)
{
	long long inflated, deflated;
	struct hb_balloon_range all;

	if (!hb_host_huge_counts(&inflated, &deflated) ||
	    !hb_balloon_in_range(0, ALL_PFNS, &all))
		return false;
	*guest = all.host;
	return inflated - deflated == all.host;
}

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 256;
	bool huge = hb_huge_mode();
	const char *mode = huge ? "page-order=host" : "stock";
	long long total0 = hb_meminfo_kb("MemTotal"), total1;
	struct hb_balloon_range r;
	unsigned long bad;
	long held = -1;
	char *data;

	ksft_print_header();
	if (access(SOFT_OFFLINE, W_OK))
		ksft_exit_fail_msg("%s: guest kernel without MEMORY_FAILURE\n",
				   SOFT_OFFLINE);
	/* The stock balloon has 4 KiB pages only: no tail, no host count. */
	ksft_set_plan(huge ? 6 : 4);
	data = hb_map_filled(DATA_MIB * MIB, 1);

	ksft_test_result(hb_host_balloon(mib, NULL) &&
			 hb_balloon_in_range(0, ALL_PFNS, &r) &&
			 (huge ? r.first_head : r.first_small) >= 0,
			 "%s: balloon reaches %lu MiB: %ld host pages, %ld 4 KiB pages\n",
			 mode, mib, r.host, r.small);
	if (huge) {
		ksft_test_result(soft_offline("host page head", r.first_head),
				 "%s: soft-offlining the head of a host page replaces it or refuses\n",
				 mode);
		hb_balloon_in_range(0, ALL_PFNS, &r);
		ksft_test_result(r.first_head >= 0 &&
				 soft_offline("host page tail", r.first_head + 1),
				 "%s: soft-offlining a tail of a host page replaces it or refuses\n",
				 mode);
		ksft_test_result(counts_agree(&held),
				 "%s: the host counts the %ld host pages the guest holds\n",
				 mode, held);
	} else {
		ksft_test_result(soft_offline("4 KiB page", r.first_small),
				 "%s: soft-offlining a balloon page replaces it or refuses\n",
				 mode);
	}

	/* A page poisoned in the balloon's place stays out of MemTotal. */
	total1 = hb_host_balloon(0, NULL) ? hb_meminfo_kb("MemTotal") : -1;
	ksft_test_result(total1 <= total0 && total1 >= total0 - 2 * 4,
			 "%s: balloon deflates: MemTotal %lld kB, was %lld kB\n",
			 mode, total1, total0);
	bad = hb_check(data, DATA_MIB * MIB, 1);
	ksft_test_result(!bad, "%s: data intact (%lu bad words)\n", mode, bad);
	ksft_finished();
}
