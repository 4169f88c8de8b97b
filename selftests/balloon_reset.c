// SPDX-License-Identifier: GPL-2.0
/*
 * A reset with the balloon inflated.  On its first boot the guest
 * inflates MIB and the host resets the VM (system_reset), or with "guest"
 * the guest reboots itself (reboot(2), as reboot -f does).  The reset
 * device holds nothing and counts from zero, but keeps its target, so the
 * driver of the next boot rebuilds the balloon: with page-order=host as
 * host pages, the device's counts matching what it holds.  Then it
 * deflates.  The stock balloon runs the same steps.
 *
 * Usage: balloon_reset MIB [host|guest]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest.h"
#include "hb_lib.h"

#define REBUILD_S	120

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 256;
	bool by_guest = argc > 2 && !strcmp(argv[2], "guest");
	long long held_mib = -1, held, inflated, deflated;
	bool huge = hb_huge_mode();
	const char *mode = huge ? "page-order=host" : "stock";
	int waited;

	if (hb_host_boot() == 1) {
		if (!hb_host_balloon(mib, NULL))
			ksft_exit_fail_msg("inflating to %lu MiB failed\n", mib);
		printf("# %s: %lu MiB inflated; %s\n", mode, mib,
		       by_guest ? "the guest reboots" : "resetting the VM");
		fflush(stdout);
		hb_host_reset(by_guest);
		pause();
	}

	ksft_print_header();
	ksft_set_plan(huge ? 5 : 2);
	waited = hb_wait_balloon_held(mib, REBUILD_S, &held_mib);
	ksft_test_result(held_mib == (long long)mib,
			 "%s: after the %s the driver rebuilds the balloon to %lld MiB (%d s)\n",
			 mode, by_guest ? "reboot" : "reset", held_mib, waited);
	if (huge) {
		hb_host_qom_get("huge-pages-held", &held);
		ksft_test_result(held * HB_HUGE_KB >= (long long)mib * 1024 / 2,
				 "%s: rebuilt with host pages: %lld of %lu MiB\n",
				 mode, held * HB_HUGE_KB / 1024, mib);
		hb_host_huge_counts(&inflated, &deflated);
		ksft_test_result(inflated == held && !deflated,
				 "%s: the device counts from the reset: %lld inflated, %lld deflated, %lld held\n",
				 mode, inflated, deflated, held);
	}
	ksft_test_result(hb_host_balloon(0, NULL), "%s: the balloon deflates\n", mode);
	if (huge) {
		hb_host_qom_get("huge-pages-held", &held);
		ksft_test_result(!held, "%s: the device holds no host page (%lld)\n",
				 mode, held);
	}
	ksft_finished();
}
