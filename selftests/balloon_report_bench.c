// SPDX-License-Identifier: GPL-2.0
/*
 * What free page reporting costs a workload that faults memory in and
 * frees it again, as will-it-scale's page_fault1 does, on THP: one thread
 * per CPU maps CHUNK MiB, touches every page and unmaps it, for SECONDS
 * per setting.  Freed memory gets reported and discarded by the host, so
 * the next fault on it also faults on the host.  The settings are the
 * reporting order written to page_reporting_order: off (MAX_ORDER, never
 * reached), the order the driver chose (the host page order when
 * negotiated) and pageblock_order, today's default.  The knob is restored.
 *
 * This is a benchmark: it prints figures and fails only if it cannot run.
 *
 * Usage: balloon_report_bench [SECONDS CHUNK-MIB]
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest.h"
#include "hb_lib.h"

/* x86: pageblock_order. */
#define PAGEBLOCK_ORDER	9

static unsigned long chunk;
static int stop;

static void *fault_loop(void *arg)
{
	unsigned long *pages = arg, off;
	char *p;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		p = mmap(NULL, chunk, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			break;
		madvise(p, chunk, MADV_HUGEPAGE);
		for (off = 0; off < chunk; off += HB_SMALL_PAGE)
			p[off] = 1;
		munmap(p, chunk);
		*pages += chunk / HB_SMALL_PAGE;
	}
	return NULL;
}

/* Pages faulted per second by all threads over @seconds. */
static double run(int threads, int seconds)
{
	unsigned long pages[64] = { 0 }, total = 0;
	pthread_t tid[64];
	int i;

	__atomic_store_n(&stop, 0, __ATOMIC_RELAXED);
	for (i = 0; i < threads; i++)
		if (pthread_create(&tid[i], NULL, fault_loop, &pages[i]))
			ksft_exit_fail_msg("pthread_create failed\n");
	sleep(seconds);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		total += pages[i];
	}
	return (double)total / seconds;
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 8;
	long saved, settings[3];
	const char *names[3] = { "off", "driver", "pageblock" };
	long long host0, host1;
	double rate[3] = { 0 };
	int threads, i;

	chunk = (argc > 2 ? strtoul(argv[2], NULL, 0) : 32) * MIB;
	threads = sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1 || threads > 64)
		threads = 1;

	ksft_print_header();
	if (!hb_balloon_has_feature(HB_F_REPORTING))
		ksft_exit_skip("free page reporting not negotiated: run with -o free-page-reporting=on\n");
	saved = hb_read_knob(HB_REPORTING_ORDER_KNOB);
	if (saved < 0)
		ksft_exit_skip("no %s\n", HB_REPORTING_ORDER_KNOB);
	settings[0] = HB_REPORTING_ORDER_OFF;
	settings[1] = saved;
	settings[2] = PAGEBLOCK_ORDER;
	ksft_set_plan(3);
	ksft_print_msg("%s balloon, %d threads, %lu MiB chunks, %d s a setting\n",
		       hb_huge_mode() ? "page-order=host" : "stock", threads,
		       chunk / MIB, seconds);

	/* The first run faults guest memory in on the host: not a setting. */
	run(threads, 2);
	for (i = 0; i < 3; i++) {
		if (!hb_write_knob(HB_REPORTING_ORDER_KNOB, settings[i])) {
			ksft_test_result_skip("%s: cannot write %s\n",
					      names[i], HB_REPORTING_ORDER_KNOB);
			continue;
		}
		if (!hb_host_anon_huge_kb(&host0))
			host0 = -1;
		rate[i] = run(threads, seconds);
		if (!hb_host_anon_huge_kb(&host1))
			host1 = -1;
		ksft_print_msg("reporting %s (order %ld): %.0f pages/s faulted, host AnonHugePages %lld -> %lld kB\n",
			       names[i], settings[i], rate[i], host0, host1);
		ksft_test_result(rate[i] > 0, "%s: order %ld, %.0f pages/s\n",
				 names[i], settings[i], rate[i]);
	}

	if (!hb_write_knob(HB_REPORTING_ORDER_KNOB, saved))
		ksft_print_msg("could not restore page_reporting_order %ld\n",
			       saved);
	printf("# BENCH threads=%d off=%.0f driver=%.0f pageblock=%.0f driver_order=%ld\n",
	       threads, rate[0], rate[1], rate[2], saved);
	ksft_finished();
}
