// SPDX-License-Identifier: GPL-2.0
/*
 * Data integrity: a checksummed region survives repeated inflate and
 * deflate cycles with not one word changed, and the balloon returns to
 * exactly its size each time.
 *
 * Usage: balloon_integrity REGION-MIB BALLOON-MIB CYCLES
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kselftest.h"
#include "hb_lib.h"

int main(int argc, char **argv)
{
	unsigned long region = (argc > 1 ? strtoul(argv[1], NULL, 0) : 256) * MIB;
	unsigned long mib = argc > 2 ? strtoul(argv[2], NULL, 0) : 400;
	unsigned long cycles = argc > 3 ? strtoul(argv[3], NULL, 0) : 4, i, bad;
	const char *mode = hb_huge_mode() ? "page-order=host" : "stock";
	long long total0 = hb_meminfo_kb("MemTotal");
	char *mem;

	ksft_print_header();
	ksft_set_plan(cycles);
	mem = mmap(NULL, region, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	hb_fill(mem, region, 42);

	for (i = 0; i < cycles; i++) {
		bool ok = hb_host_balloon(mib, NULL);

		bad = hb_check(mem, region, 42);
		ok = ok && hb_host_balloon(0, NULL);
		bad += hb_check(mem, region, 42);
		ksft_test_result(ok && !bad && hb_meminfo_kb("MemTotal") == total0,
				 "%s: cycle %lu: %lu MiB in and out, %lu bad words\n",
				 mode, i + 1, mib, bad);
	}
	ksft_finished();
}
