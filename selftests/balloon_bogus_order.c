// SPDX-License-Identifier: GPL-2.0
/*
 * A host that advertises a page order the guest cannot use (the test-only
 * x-host-page-order-raw property of QEMU): the driver must warn once and
 * balloon with 4 KiB pages, neither crash nor hang nor use the huge queues.
 *
 * Usage: balloon_bogus_order MIB
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>

#include "kselftest.h"
#include "hb_lib.h"

#define WARNING		"unusable host page order"
#define SYSLOG_READ_ALL	3
#define SYSLOG_SIZE	10

static int count_warnings(void)
{
	int size = klogctl(SYSLOG_SIZE, NULL, 0), n = 0;
	char *buf, *p;

	if (size <= 0)
		return -1;
	buf = calloc(1, size + 1);
	if (!buf || klogctl(SYSLOG_READ_ALL, buf, size) < 0)
		return -1;
	for (p = buf; (p = strstr(p, WARNING)); p++)
		n++;
	free(buf);
	return n;
}

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 128;
	long long total0, total1, huge0, huge1;
	int warnings;

	ksft_print_header();
	ksft_set_plan(4);
	if (!hb_huge_mode())
		ksft_exit_fail_msg("the host page order feature was not negotiated\n");

	warnings = count_warnings();
	ksft_test_result(warnings == 1, "driver warned once (%d times): '%s'\n",
			 warnings, WARNING);

	total0 = hb_meminfo_kb("MemTotal");
	huge0 = hb_vmstat("balloon_huge_inflate");
	ksft_test_result(hb_host_balloon(mib, NULL),
			 "balloon reaches %lu MiB\n", mib);
	total1 = hb_meminfo_kb("MemTotal");
	huge1 = hb_vmstat("balloon_huge_inflate");
	ksft_test_result(total0 - total1 == (long long)mib * 1024 && huge1 == huge0,
			 "all %lu MiB through 4 KiB pages (huge inflations: %lld)\n",
			 mib, huge1 - huge0);
	ksft_test_result(hb_host_balloon(0, NULL) &&
			 hb_meminfo_kb("MemTotal") == total0,
			 "deflate restores MemTotal\n");
	ksft_finished();
}
