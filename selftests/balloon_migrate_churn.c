// SPDX-License-Identifier: GPL-2.0
/*
 * Live migration while the balloon moves.  The guest holds 128 MiB of
 * checksummed data, and a child process rewrites and checks a working
 * set five times a second while the VM migrates to a second
 * QEMU (precopy, or postcopy from the start) and the host sets a random
 * balloon target of up to MIB every second.  On the destination the
 * guest must run on: no bad word in the working set, the balloon reaches
 * the last target, and what the device holds is what the guest holds:
 * its host pages, the pages the device has yet to release (while incoming
 * postcopy inhibits discards) released once the migration is over.
 *
 * Usage: balloon_migrate_churn live|postcopy MIB
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"
#include "hb_lib.h"

/*
 * Rewritten every WRITE_PAUSE_US: 20 MiB/s, below the bandwidth hb-host
 * gives a churning migration, so that precopy converges.
 */
#define WORKING_SET	(4 * MIB)
#define WRITE_PAUSE_US	200000
/* Data that only has to last: at 32 MiB/s the migration takes seconds */
#define STATIC_SET	(128 * MIB)
#define SETTLE_S	120

struct writer {
	volatile int stop;
	volatile long rounds, bad;
};

/* Rewrite the working set with a new pattern each round, and check it */
static void write_and_check(struct writer *w)
{
	char *mem = hb_map_filled(WORKING_SET, 0);

	while (!w->stop) {
		w->rounds++;
		hb_fill(mem, WORKING_SET, w->rounds);
		w->bad += hb_check(mem, WORKING_SET, w->rounds);
		usleep(WRITE_PAUSE_US);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "live";
	unsigned long mib = argc > 2 ? strtoul(argv[2], NULL, 0) : 256;
	bool huge = hb_huge_mode();
	const char *mode = huge ? "page-order=host" : "stock";
	long long held_mib = -1, held = -1, unreleased = -1;
	struct hb_balloon_range r;
	struct hb_migration m;
	struct writer *w;
	char request[64], *data;
	unsigned long bad;
	int waited;
	pid_t pid;

	ksft_print_header();
	ksft_set_plan(huge ? 6 : 3);

	data = hb_map_filled(STATIC_SET, 5);
	w = mmap(NULL, sizeof(*w), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (w == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	pid = fork();
	if (!pid)
		write_and_check(w);

	snprintf(request, sizeof(request), "%s churn %lu", how, mib);
	if (!hb_host_migrate(request, &m))
		ksft_exit_fail_msg("%s migration failed\n", how);
	ksft_print_msg("%s: %s migration in %.0f ms with the balloon moving; last target %lld MiB\n",
		       mode, how, m.ms, m.last_target_mib);

	for (waited = 0; waited < SETTLE_S; waited++) {
		hb_host_balloon_held(&held_mib);
		if (held_mib == m.last_target_mib)
			break;
		sleep(1);
	}
	ksft_test_result(held_mib == m.last_target_mib,
			 "%s: on the destination the balloon reaches the last target, %lld MiB (%lld MiB after %d s)\n",
			 mode, m.last_target_mib, held_mib, waited);

	w->stop = 1;
	waitpid(pid, NULL, 0);
	bad = hb_check(data, STATIC_SET, 5);
	ksft_test_result(w->rounds > 1 && !w->bad && !bad,
			 "%s: a working set rewritten %ld times across the migration and %lu MiB of data: %ld and %lu bad words\n",
			 mode, w->rounds, STATIC_SET / MIB, w->bad, bad);

	if (!hb_balloon_in_range(0, 1UL << 40, &r))
		ksft_exit_fail_msg("/proc/kpageflags unreadable\n");
	if (huge) {
		hb_host_qom_get("huge-pages-held", &held);
		ksft_test_result(held == r.host,
				 "%s: the device holds the guest's %ld host pages (%lld)\n",
				 mode, r.host, held);
		/* Released within a second once discards are allowed again */
		sleep(2);
		hb_host_qom_get("huge-pages-unreleased", &unreleased);
		ksft_test_result(!unreleased,
				 "%s: every host page held is released after the migration (%lld not)\n",
				 mode, unreleased);
	}
	ksft_test_result((r.host * HB_HUGE_KB + r.small * 4) / 1024 == held_mib,
			 "%s: the guest's balloon pages make up actual: %ld host pages and %ld 4 KiB pages, %lld MiB\n",
			 mode, r.host, r.small, held_mib);
	if (huge)
		ksft_test_result(hb_host_balloon(0, NULL),
				 "%s: the balloon deflates on the destination\n", mode);
	ksft_finished();
}
