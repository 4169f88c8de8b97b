// SPDX-License-Identifier: GPL-2.0
/*
 * The balloon leaves with its pages given back, and comes again.  With
 * MIB inflated, either the host unplugs the device from its PCIe root
 * port (hb-vm -U; "unplug") or the guest unbinds the driver ("unbind").
 * Then the guest has all its memory, and the host pages the balloon had
 * released are back in use by the guest (on hugetlbfs: the host's usable
 * pages are as before the inflation).  The device is plugged (or the
 * driver bound) again and balloons as before: with page-order=host as
 * host pages, the device's counts starting from zero.
 *
 * Usage: balloon_unplug unplug|unbind MIB   (2 MiB hugetlbfs backing)
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest.h"
#include "hb_lib.h"

#define DRIVER		"/sys/bus/virtio/drivers/virtio_balloon"
#define BIND_S		60
#define REBUILD_S	120

/* Wait until the driver is bound (@bound) or not; seconds waited or -1 */
static int wait_bound(bool bound)
{
	int waited;

	for (waited = 0; waited < BIND_S; waited++) {
		if (!!hb_balloon_dev() == bound)
			return waited;
		sleep(1);
	}
	return -1;
}

static void driver_attach(const char *dev, bool bind)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), DRIVER "/%s", bind ? "bind" : "unbind");
	if (!hb_write_str(path, dev))
		ksft_exit_fail_msg("writing %s to %s failed\n", dev, path);
}

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "unplug";
	unsigned long mib = argc > 2 ? strtoul(argv[2], NULL, 0) : 256;
	bool huge = hb_huge_mode(), unplug = !strcmp(how, "unplug");
	const char *mode = huge ? "page-order=host" : "stock";
	long long total0, total1, usable0, usable1, held, inflated, deflated;
	long long held_mib = -1, ms = 0, unreleased;
	char dev[64] = "";
	int waited;

	if (!unplug && strcmp(how, "unbind"))
		ksft_exit_fail_msg("usage: balloon_unplug unplug|unbind MIB\n");
	ksft_print_header();
	ksft_set_plan(3 + (unplug ? 2 : 1) + (huge ? 2 + !unplug : 0));

	total0 = hb_meminfo_kb("MemTotal");
	usable0 = hb_host_usable_huge_pages(HB_HUGE_KB);
	if (!hb_balloon_dev())
		ksft_exit_fail_msg("no device bound to virtio_balloon\n");
	snprintf(dev, sizeof(dev), "%s", strrchr(hb_balloon_dev(), '/') + 1);
	if (!hb_host_balloon(mib, NULL))
		ksft_exit_fail_msg("inflating to %lu MiB failed\n", mib);
	if (huge) {
		hb_host_qom_get("huge-pages-held", &held);
		usable1 = hb_host_usable_huge_pages(HB_HUGE_KB);
		ksft_test_result(held * HB_HUGE_KB >= (long long)mib * 1024 / 2 &&
				 usable1 - usable0 == held,
				 "%s: %lu MiB inflated, %lld MiB as host pages, %lld more usable on the host\n",
				 mode, mib, held * HB_HUGE_KB / 1024, usable1 - usable0);
	}

	if (unplug) {
		if (!hb_host_balloon_unplug(&ms))
			ksft_exit_fail_msg("device_del of the balloon failed\n");
		waited = wait_bound(false);
	} else {
		driver_attach(dev, false);
		waited = 0;
	}
	total1 = hb_meminfo_kb("MemTotal");
	ksft_test_result(waited >= 0 && total1 == total0,
			 "%s: %s (%lld ms): the guest has all its memory again, MemTotal %lld of %lld kB\n",
			 mode, how, ms, total1, total0);
	usable1 = hb_host_usable_huge_pages(HB_HUGE_KB);
	ksft_test_result(usable1 == usable0,
			 "%s: the host's usable huge pages are as before the inflation: %lld of %lld\n",
			 mode, usable1, usable0);
	if (huge && !unplug) {
		hb_host_qom_get("huge-pages-held", &held);
		hb_host_qom_get("huge-pages-unreleased", &unreleased);
		ksft_test_result(!held && !unreleased,
				 "%s: the device holds nothing: %lld held, %lld unreleased\n",
				 mode, held, unreleased);
	}

	if (unplug) {
		if (!hb_host_balloon_plug())
			ksft_exit_fail_msg("device_add of the balloon failed\n");
		waited = wait_bound(true);
		ksft_test_result(waited >= 0, "%s: the new device is bound (%d s)\n",
				 mode, waited);
		/* A new device has no target */
		ksft_test_result(hb_host_balloon(mib, NULL),
				 "%s: it inflates to %lu MiB\n", mode, mib);
	} else {
		driver_attach(dev, true);
		/* The device kept its target: the driver rebuilds the balloon */
		waited = hb_wait_balloon_held(mib, REBUILD_S, &held_mib);
		ksft_test_result(held_mib == (long long)mib,
				 "%s: bound again, the driver rebuilds the balloon to %lld MiB (%d s)\n",
				 mode, held_mib, waited);
	}
	if (huge) {
		hb_host_qom_get("huge-pages-held", &held);
		hb_host_huge_counts(&inflated, &deflated);
		ksft_test_result(held * HB_HUGE_KB >= (long long)mib * 1024 / 2 &&
				 inflated == held && !deflated,
				 "%s: with host pages, counted from zero: %lld held, %lld inflated, %lld deflated\n",
				 mode, held, inflated, deflated);
	}
	ksft_test_result(hb_host_balloon(0, NULL), "%s: the balloon deflates\n", mode);
	ksft_finished();
}
