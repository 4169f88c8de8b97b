// SPDX-License-Identifier: GPL-2.0
/*
 * Host pages in the balloon are movable: memory offlining migrates them
 * (the host told of every move, the balloon's size unchanged), ordinary
 * compaction leaves them whole, and when no free host page is left to
 * move them to, offlining splits them into 4 KiB balloon pages instead of
 * failing.  Data the guest holds survives all of it.
 *
 * Usage: balloon_movable offline MIB ROUNDS   offline/online every movable
 *                                             memory block ROUNDS times
 *        balloon_movable compact MIB ROUNDS   compact_memory ROUNDS times
 *        balloon_movable split MIB            offline a block holding host
 *                                             pages with none free elsewhere
 *        balloon_movable cma MIB              allocate the whole CMA area
 *                                             (hb-vm -a cma=SIZE) through
 *                                             debugfs
 * MIB: the balloon size; the guest needs movable memory (hb-vm -d) for
 * offline and split.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest.h"
#include "hb_lib.h"

#define SMALL_PAGE		4096UL
#define HUGE_ORDER		9
#define HUGE_KB			(2048LL)
#define MEMORY_SYSFS		"/sys/devices/system/memory"
#define MAX_BLOCKS		256
/* Guest data checked across every operation. */
#define DATA_MIB		32
/* An offline that cannot finish is interrupted, and fails the test. */
#define OFFLINE_TIMEOUT_S	30
/* Left unlocked by the split test so that the guest keeps running. */
#define SPARE_KB		(24 * 1024)
/* fs/proc/page.c, include/uapi/linux/kernel-page-flags.h */
#define KPF_COMPOUND_HEAD	15
#define KPF_OFFLINE		23

struct balloon_state {
	long long host_huge;	/* host: huge pages inflated - deflated */
	long long host_inflated, host_deflated;
	long long mem_total_kb;
	long long migrate, split;
};

static bool balloon_state(struct balloon_state *s)
{
	s->mem_total_kb = hb_meminfo_kb("MemTotal");
	s->migrate = hb_vmstat("balloon_huge_migrate");
	s->split = hb_vmstat("balloon_huge_split");
	if (!hb_host_qom_get("huge-pages-inflated", &s->host_inflated) ||
	    !hb_host_qom_get("huge-pages-deflated", &s->host_deflated))
		return false;
	s->host_huge = s->host_inflated - s->host_deflated;
	return true;
}

static bool write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val);
}

static bool read_str(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return true;
}

static unsigned long block_pages(void)
{
	char buf[64];

	if (!read_str(MEMORY_SYSFS "/block_size_bytes", buf, sizeof(buf)))
		return 0;
	return strtoul(buf, NULL, 16) / SMALL_PAGE;
}

/* Online memory blocks in ZONE_MOVABLE; returns how many. */
static int movable_blocks(int *ids)
{
	char path[512], buf[128];
	struct dirent *d;
	DIR *dir = opendir(MEMORY_SYSFS);
	int n = 0, id;

	if (!dir)
		return 0;
	while ((d = readdir(dir)) && n < MAX_BLOCKS) {
		if (sscanf(d->d_name, "memory%d", &id) != 1)
			continue;
		snprintf(path, sizeof(path), MEMORY_SYSFS "/%s/state", d->d_name);
		if (!read_str(path, buf, sizeof(buf)) || strcmp(buf, "online"))
			continue;
		snprintf(path, sizeof(path), MEMORY_SYSFS "/%s/valid_zones",
			 d->d_name);
		if (!read_str(path, buf, sizeof(buf)) ||
		    strncmp(buf, "Movable", 7))
			continue;
		ids[n++] = id;
	}
	closedir(dir);
	return n;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* Offline memory block @id, or give up after OFFLINE_TIMEOUT_S. */
static bool block_offline(int id)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	char path[128];
	bool ok;

	sigaction(SIGALRM, &sa, NULL);
	snprintf(path, sizeof(path), MEMORY_SYSFS "/memory%d/state", id);
	alarm(OFFLINE_TIMEOUT_S);
	ok = write_str(path, "offline");
	alarm(0);
	if (!ok) {
		ksft_print_msg("offline memory%d: %s\n", id, strerror(errno));
		fflush(stdout);
		/* What held the offline up: migration failures, free blocks. */
		if (system("dmesg | tail -n 20 | sed 's/^/# /'; sed 's/^/# /' /proc/buddyinfo"))
			ksft_print_msg("no dmesg\n");
	}
	return ok;
}

static bool block_online(int id)
{
	char path[128];

	snprintf(path, sizeof(path), MEMORY_SYSFS "/memory%d/state", id);
	if (write_str(path, "online_movable"))
		return true;
	ksft_print_msg("online memory%d: %s\n", id, strerror(errno));
	return false;
}

/* Host pages in the balloon (offline compound heads) in memory block @id. */
static long balloon_heads_in_block(int id, unsigned long nr_pages)
{
	unsigned long pfn, start = (unsigned long)id * nr_pages;
	uint64_t flags;
	long n = 0;
	int fd = open("/proc/kpageflags", O_RDONLY);

	if (fd < 0)
		return -1;
	for (pfn = start; pfn < start + nr_pages; pfn += 1UL << HUGE_ORDER) {
		if (pread(fd, &flags, sizeof(flags), pfn * sizeof(flags)) !=
		    sizeof(flags))
			break;
		if ((flags >> KPF_COMPOUND_HEAD & 1) && (flags >> KPF_OFFLINE & 1))
			n++;
	}
	close(fd);
	return n;
}

/* Inflate @mib, most of it in host pages; false (reported) otherwise. */
static bool inflate(unsigned long mib)
{
	long long in0 = hb_vmstat("balloon_huge_inflate"), in1;
	double ms = 0;

	if (!hb_host_balloon(mib, &ms)) {
		ksft_test_result_fail("balloon reaches %lu MiB\n", mib);
		return false;
	}
	in1 = hb_vmstat("balloon_huge_inflate");
	ksft_test_result((in1 - in0) * 2 >= (long long)mib / 2,
			 "balloon reaches %lu MiB, %lld MiB of it in host pages (%.1f ms)\n",
			 mib, (in1 - in0) * 2, ms);
	return true;
}

static void check_data(const char *data, const char *when)
{
	unsigned long bad = hb_check(data, DATA_MIB * MIB, 1);

	ksft_test_result(!bad, "data intact %s (%lu bad words)\n", when, bad);
}

static void test_offline(unsigned long mib, int rounds)
{
	struct balloon_state s0, s1;
	int ids[MAX_BLOCKS], n, i, r, failed;
	char *data;

	n = movable_blocks(ids);
	if (!n)
		ksft_exit_skip("no online movable memory block (hb-vm -d)\n");
	ksft_set_plan(4 + rounds);
	data = malloc(DATA_MIB * MIB);
	if (!data)
		ksft_exit_fail_msg("malloc\n");
	hb_fill(data, DATA_MIB * MIB, 1);
	if (!inflate(mib))
		ksft_exit_fail();
	if (!balloon_state(&s0))
		ksft_exit_fail_msg("host counters\n");

	for (r = 0; r < rounds; r++) {
		failed = 0;
		for (i = 0; i < n; i++) {
			if (!block_offline(ids[i]))
				failed++;
			else if (!block_online(ids[i]))
				failed++;
		}
		ksft_test_result(!failed, "round %d: %d of %d movable blocks offlined and onlined\n",
				 r + 1, n - failed, n);
	}

	if (!balloon_state(&s1))
		ksft_exit_fail_msg("host counters\n");
	ksft_print_msg("moved %lld, split %lld; host inflated +%lld deflated +%lld\n",
		       s1.migrate - s0.migrate, s1.split - s0.split,
		       s1.host_inflated - s0.host_inflated,
		       s1.host_deflated - s0.host_deflated);
	/* Each move is one new host page inflated and one old deflated. */
	ksft_test_result(s1.migrate > s0.migrate && s1.split == s0.split &&
			 s1.host_inflated - s0.host_inflated == s1.migrate - s0.migrate &&
			 s1.host_deflated - s0.host_deflated == s1.migrate - s0.migrate,
			 "host told of every move (%lld host pages moved)\n",
			 s1.migrate - s0.migrate);
	ksft_test_result(s1.host_huge == s0.host_huge &&
			 s1.mem_total_kb == s0.mem_total_kb,
			 "balloon unchanged: host holds %lld host pages (was %lld), MemTotal %lld kB (was %lld)\n",
			 s1.host_huge, s0.host_huge, s1.mem_total_kb, s0.mem_total_kb);
	check_data(data, "after offlining");
}

static void test_compact(unsigned long mib, int rounds)
{
	long long ahp0, ahp1;
	struct balloon_state s0, s1;
	char *data;
	int r;

	if (access("/proc/sys/vm/compact_memory", W_OK))
		ksft_exit_skip("no /proc/sys/vm/compact_memory\n");
	ksft_set_plan(4);
	data = malloc(DATA_MIB * MIB);
	if (!data)
		ksft_exit_fail_msg("malloc\n");
	hb_fill(data, DATA_MIB * MIB, 1);
	if (!inflate(mib))
		ksft_exit_fail();
	if (!balloon_state(&s0) || !hb_host_anon_huge_kb(&ahp0))
		ksft_exit_fail_msg("host counters\n");
	for (r = 0; r < rounds; r++)
		if (!write_str("/proc/sys/vm/compact_memory", "1"))
			ksft_exit_fail_msg("compact_memory: %s\n", strerror(errno));
	if (!balloon_state(&s1) || !hb_host_anon_huge_kb(&ahp1))
		ksft_exit_fail_msg("host counters\n");

	ksft_test_result(s1.migrate == s0.migrate && s1.split == s0.split &&
			 s1.host_huge == s0.host_huge,
			 "compaction leaves host pages whole: moved %lld, split %lld, host holds %lld (was %lld)\n",
			 s1.migrate - s0.migrate, s1.split - s0.split,
			 s1.host_huge, s0.host_huge);
	/* Guest pages moved into untouched memory may add host THPs. */
	ksft_test_result(ahp1 >= ahp0,
			 "host AnonHugePages %lld kB, was %lld kB\n", ahp1, ahp0);
	check_data(data, "after compaction");
}

static void test_split(unsigned long mib)
{
	unsigned long nr_pages = block_pages(), len, off;
	int ids[MAX_BLOCKS], n, i, best = -1, unevictable;
	struct balloon_state s0, s1;
	long heads, best_heads = 0;
	char *data, *fill;
	bool ok;

	n = movable_blocks(ids);
	if (!n || !nr_pages)
		ksft_exit_skip("no online movable memory block (hb-vm -d)\n");
	unevictable = hb_read_knob(HB_UNEVICTABLE_KNOB);
	if (unevictable < 0 || !hb_write_knob(HB_UNEVICTABLE_KNOB, 0))
		ksft_exit_skip("%s not writable\n", HB_UNEVICTABLE_KNOB);
	ksft_set_plan(5);
	data = malloc(DATA_MIB * MIB);
	if (!data)
		ksft_exit_fail_msg("malloc\n");
	hb_fill(data, DATA_MIB * MIB, 1);
	if (!inflate(mib))
		ksft_exit_fail();

	/* No free host page left: every other 4 KiB page of the rest used. */
	len = (hb_meminfo_kb("MemFree") - SPARE_KB) * KIB;
	fill = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fill == MAP_FAILED || madvise(fill, len, MADV_NOHUGEPAGE))
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	for (off = 0; off < len; off += SMALL_PAGE)
		fill[off] = 1;
	for (off = 0; off < len; off += 2 * SMALL_PAGE)
		madvise(fill + off, SMALL_PAGE, MADV_DONTNEED);
	if (mlock2(fill, len, MLOCK_ONFAULT))
		ksft_exit_fail_msg("mlock2: %s\n", strerror(errno));

	for (i = 0; i < n; i++) {
		heads = balloon_heads_in_block(ids[i], nr_pages);
		if (heads > best_heads) {
			best_heads = heads;
			best = ids[i];
		}
	}
	if (best < 0)
		ksft_exit_skip("no movable block holds a host page of the balloon\n");
	if (!balloon_state(&s0))
		ksft_exit_fail_msg("host counters\n");
	ksft_print_msg("memory%d holds %ld host pages; MemFree %lld kB\n",
		       best, best_heads, hb_meminfo_kb("MemFree"));

	ok = block_offline(best);
	ksft_test_result(ok, "memory%d offlined with no free host page elsewhere\n",
			 best);
	if (!balloon_state(&s1))
		ksft_exit_fail_msg("host counters\n");
	ksft_test_result(s1.split > s0.split,
			 "balloon_huge_split +%lld, balloon_huge_migrate +%lld\n",
			 s1.split - s0.split, s1.migrate - s0.migrate);
	/* Splits hand host pages back as 4 KiB pages; moves keep them. */
	ksft_test_result(s0.host_huge - s1.host_huge == s1.split - s0.split,
			 "host holds %lld host pages, was %lld, %lld split\n",
			 s1.host_huge, s0.host_huge, s1.split - s0.split);
	if (ok)
		block_online(best);
	munmap(fill, len);
	check_data(data, "after the split");
	hb_write_knob(HB_UNEVICTABLE_KNOB, unevictable);
}

#define CMA_DEBUGFS		"/sys/kernel/debug/cma"

static bool read_ulong(const char *dir, const char *file, unsigned long *v)
{
	char path[512], buf[64];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (!read_str(path, buf, sizeof(buf)))
		return false;
	*v = strtoul(buf, NULL, 0);
	return true;
}

/* Host pages of the balloon in [@start, @start + @nr) pfns. */
static long balloon_heads_in_range(unsigned long start, unsigned long nr)
{
	unsigned long pfn;
	uint64_t flags;
	long n = 0;
	int fd = open("/proc/kpageflags", O_RDONLY);

	if (fd < 0)
		return -1;
	for (pfn = start; pfn < start + nr; pfn++) {
		if (pfn & ((1UL << HUGE_ORDER) - 1))
			continue;
		if (pread(fd, &flags, sizeof(flags), pfn * sizeof(flags)) !=
		    sizeof(flags))
			break;
		if ((flags >> KPF_COMPOUND_HEAD & 1) && (flags >> KPF_OFFLINE & 1))
			n++;
	}
	close(fd);
	return n;
}

/*
 * alloc_contig_range() on a CMA area holding host pages of the balloon:
 * it migrates them like 4 KiB balloon pages.
 */
static void test_cma(unsigned long mib)
{
	unsigned long base, count;
	struct balloon_state s0, s1;
	char dir[300], path[512], buf[32];
	struct dirent *d;
	long heads;
	char *data;
	DIR *cma;
	bool ok;

	cma = opendir(CMA_DEBUGFS);
	d = NULL;
	while (cma && (d = readdir(cma)) && d->d_name[0] == '.')
		;
	if (!d)
		ksft_exit_skip("no CMA area in %s (hb-vm -a cma=SIZE)\n",
			       CMA_DEBUGFS);
	snprintf(dir, sizeof(dir), CMA_DEBUGFS "/%s", d->d_name);
	closedir(cma);
	if (!read_ulong(dir, "base_pfn", &base) ||
	    !read_ulong(dir, "count", &count))
		ksft_exit_skip("%s: no base_pfn or count\n", dir);
	ksft_set_plan(4);
	data = malloc(DATA_MIB * MIB);
	if (!data)
		ksft_exit_fail_msg("malloc\n");
	hb_fill(data, DATA_MIB * MIB, 1);
	if (!inflate(mib))
		ksft_exit_fail();
	heads = balloon_heads_in_range(base, count);
	if (!balloon_state(&s0))
		ksft_exit_fail_msg("host counters\n");
	ksft_print_msg("%s: %lu pages at pfn %#lx hold %ld host pages\n",
		       dir, count, base, heads);

	snprintf(path, sizeof(path), "%s/alloc", dir);
	snprintf(buf, sizeof(buf), "%lu", count);
	ok = write_str(path, buf);
	if (!balloon_state(&s1))
		ksft_exit_fail_msg("host counters\n");
	ksft_test_result(ok, "whole CMA area allocated (%lu pages): %s\n",
			 count, ok ? "ok" : strerror(errno));
	if (!heads)
		ksft_test_result_skip("no host page of the balloon in the CMA area\n");
	else
		ksft_test_result(s1.migrate - s0.migrate >= heads &&
			 s1.host_huge == s0.host_huge,
			 "%lld of %ld host pages moved, host holds %lld (was %lld)\n",
			 s1.migrate - s0.migrate, heads, s1.host_huge,
			 s0.host_huge);
	if (ok) {
		snprintf(path, sizeof(path), "%s/free", dir);
		write_str(path, buf);
	}
	check_data(data, "after alloc_contig_range()");
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "offline";
	unsigned long mib = argc > 2 ? strtoul(argv[2], NULL, 0) : 512;
	int rounds = argc > 3 ? atoi(argv[3]) : 3;

	ksft_print_header();
	if (!hb_huge_mode())
		ksft_exit_skip("host page order not negotiated (hb-vm -o page-order=host)\n");
	if (hb_vmstat("balloon_huge_migrate") < 0)
		ksft_exit_skip("guest kernel has no balloon_huge_migrate\n");

	if (!strcmp(mode, "offline"))
		test_offline(mib, rounds);
	else if (!strcmp(mode, "compact"))
		test_compact(mib, rounds);
	else if (!strcmp(mode, "split"))
		test_split(mib);
	else if (!strcmp(mode, "cma"))
		test_cma(mib);
	else
		ksft_exit_fail_msg("unknown mode %s\n", mode);

	hb_host_balloon(0, NULL);
	ksft_finished();
}
