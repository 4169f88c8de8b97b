// SPDX-License-Identifier: GPL-2.0
/*
 * The balloon across a system sleep.  With MIB inflated, the guest
 * suspends to idle with pm_test=devices: the kernel suspends every device,
 * waits five seconds and resumes them, so no wakeup source is needed
 * under TCG, and the balloon goes through the freeze and restore it goes
 * through in a real suspend.  The driver gives every page back at freeze
 * and inflates again after restore: the balloon is back at its target
 * (with page-order=host as host pages), the host holds what the guest
 * holds, nothing leaked, and free page reporting, where negotiated, is
 * registered again at the host page order.  The stock balloon runs the
 * same steps.
 *
 * Usage: balloon_suspend MIB
 */
#include <stdio.h>
#include <stdlib.h>

#include "kselftest.h"
#include "hb_lib.h"

#define PM_TEST		"/sys/power/pm_test"
#define POWER_STATE	"/sys/power/state"
#define DATA_MIB	32

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 256;
	long long mem0, mem1, hin0, hin1, inflated, deflated;
	bool huge = hb_huge_mode();
	bool reporting = huge && hb_balloon_has_feature(HB_F_REPORTING);
	unsigned long bad;
	char *data;
	double ms;
	bool ok;

	ksft_print_header();
	if (!hb_write_str(PM_TEST, "devices"))
		ksft_exit_skip("%s: no pm_test (CONFIG_PM_DEBUG, CONFIG_SUSPEND)\n",
			       PM_TEST);
	ksft_set_plan(4 + huge + reporting);
	data = hb_map_filled(DATA_MIB * MIB, 7);
	if (!hb_host_balloon(mib, NULL))
		ksft_exit_fail_msg("inflating to %lu MiB failed\n", mib);
	mem0 = hb_meminfo_kb("MemTotal");
	hin0 = hb_vmstat("balloon_huge_inflate");

	ok = hb_write_str(POWER_STATE, "freeze");
	hb_write_str(PM_TEST, "none");
	ksft_test_result(ok, "suspend to idle with %lu MiB in the balloon\n", mib);

	/* The target did not change: this waits for the balloon to get there */
	ok = hb_host_balloon(mib, &ms);
	ksft_test_result(ok, "balloon back at %lu MiB after resume (%.1f ms)\n",
			 mib, ms);
	hin1 = hb_vmstat("balloon_huge_inflate");
	if (huge)
		ksft_test_result((hin1 - hin0) * 2 >= (long long)mib / 2,
				 "rebuilt with host pages: %lld MiB of %lu MiB\n",
				 (hin1 - hin0) * 2, mib);
	mem1 = hb_meminfo_kb("MemTotal");
	if (!hb_host_huge_counts(&inflated, &deflated))
		ksft_exit_fail_msg("host counters\n");
	ksft_test_result(mem1 == mem0 &&
			 (!huge || inflated - deflated == hin1 - hin0),
			 "nothing leaked: MemTotal %lld kB (was %lld kB), host holds %lld host pages\n",
			 mem1, mem0, inflated - deflated);
	if (reporting)
		ksft_test_result(hb_reports_at_host_order(),
				 "free page reporting at the host page order after resume\n");
	bad = hb_check(data, DATA_MIB * MIB, 7);
	ksft_test_result(!bad, "data intact across the suspend (%lu bad words)\n",
			 bad);
	hb_host_balloon(0, NULL);
	ksft_finished();
}
