// SPDX-License-Identifier: GPL-2.0
/*
 * Host pages in the balloon are movable: memory offlining migrates them
 * (the host told of every move, the balloon's size unchanged), ordinary
 * compaction leaves them whole, and when no free host page is left to
 * move them to, offlining splits them into 4 KiB balloon pages instead of
 * failing.  alloc_contig_range() takes them out of a CMA area as often as
 * it takes out the stock balloon's 4 KiB pages.  Data the guest holds
 * survives all of it.
 *
 * Usage: balloon_movable offline MIB ROUNDS   offline/online every movable
 *                                             memory block ROUNDS times
 *        balloon_movable compact MIB ROUNDS   compact_memory ROUNDS times
 *        balloon_movable split MIB            offline a block holding host
 *                                             pages with none free elsewhere
 *                                             (1 GiB ones: part of one)
 *        balloon_movable cancel MIB           the same, and the offline
 *                                             cancelled
 *        balloon_movable cma MIB [TRIES [STOCK]]
 *                                             allocate the whole CMA area
 *                                             (hb-vm -a cma=SIZE) through
 *                                             debugfs, TRIES times (3)
 *        balloon_movable gigantic MIB [TRIES [STOCK]]
 *                                             allocate 1 GiB hugetlb pages
 *                                             from hugetlb_cma= (hb-vm -c
 *                                             qemu64,+pdpe1gb), TRIES times
 *        balloon_movable contig-split MIB     allocate a 1 GiB hugetlb page
 *                                             where the balloon holds a
 *                                             1 GiB host page
 *        balloon_movable race MIB SECONDS [SEED]
 *                                             CMA allocations and offlining
 *                                             in a loop while the target
 *                                             moves at random up to MIB
 * MIB: the balloon size; the guest needs movable memory (hb-vm -d) for
 * offline, split, cancel and race.  cma and gigantic also run with the stock balloon;
 * STOCK: its "N/TRIES" allocations that succeeded, which the page-order
 * balloon must match.
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
#include <sys/mount.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "hb_lib.h"

#define MEMORY_SYSFS		"/sys/devices/system/memory"
#define MAX_BLOCKS		256
/* Guest data checked across every operation. */
#define DATA_MIB		32
/*
 * Left unlocked by the split test so that the guest keeps running, more
 * beside a 1 GiB host page (the debug kernel's own use grows with it).
 */
#define SPARE_KB		(24 * 1024)
#define GIGANTIC_SPARE_KB	(96 * 1024)
/* The host page order was negotiated: the page-order balloon. */
static bool huge;
/* Its host page size, in kB */
static long long host_page_kb = HB_HUGE_KB;

struct balloon_state {
	long long host_huge;	/* host: huge pages inflated - deflated */
	long long host_inflated, host_deflated;
	long long mem_total_kb;
	long long migrate, split;
	long long small_migrate;	/* 4 KiB balloon pages moved */
};

static bool balloon_state(struct balloon_state *s)
{
	s->mem_total_kb = hb_meminfo_kb("MemTotal");
	s->migrate = hb_vmstat("balloon_huge_migrate");
	s->split = hb_vmstat("balloon_huge_split");
	s->small_migrate = hb_vmstat("balloon_migrate");
	if (!hb_host_huge_counts(&s->host_inflated, &s->host_deflated))
		return false;
	s->host_huge = s->host_inflated - s->host_deflated;
	return true;
}

/* Kernels without balloon compaction have no balloon_migrate */
static bool balloon_pages_move(void)
{
	return hb_vmstat("balloon_migrate") >= 0;
}

static unsigned long block_pages(void)
{
	char buf[64];

	if (!hb_read_str(MEMORY_SYSFS "/block_size_bytes", buf, sizeof(buf)))
		return 0;
	return strtoul(buf, NULL, 16) / HB_SMALL_PAGE;
}

static long range_mib(const struct hb_balloon_range *r)
{
	return (r->host * (HB_HUGE_KB * KIB) + r->small * HB_SMALL_PAGE) / MIB;
}

/* Inflate @mib, most of it in host pages if huge; fail the test otherwise. */
static void inflate(unsigned long mib)
{
	long long in0 = hb_vmstat("balloon_huge_inflate"), in1;
	double ms = 0;

	if (!hb_host_balloon(mib, &ms)) {
		ksft_test_result_fail("balloon reaches %lu MiB\n", mib);
		ksft_exit_fail();
	}
	if (!huge) {
		ksft_test_result_pass("balloon reaches %lu MiB (%.1f ms)\n", mib, ms);
		return;
	}
	in1 = hb_vmstat("balloon_huge_inflate");
	ksft_test_result((in1 - in0) * host_page_kb / 1024 >= (long long)mib / 2,
			 "balloon reaches %lu MiB, %lld MiB of it in host pages (%.1f ms)\n",
			 mib, (in1 - in0) * host_page_kb / 1024, ms);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The guest data every mode checks at its end. */
static char *guest_data(void)
{
	char *data = malloc(DATA_MIB * MIB);

	if (!data)
		ksft_exit_fail_msg("malloc\n");
	hb_fill(data, DATA_MIB * MIB, 1);
	return data;
}

static void check_data(const char *data, const char *when)
{
	unsigned long bad = hb_check(data, DATA_MIB * MIB, 1);

	ksft_test_result(!bad, "data intact %s (%lu bad words)\n", when, bad);
}

/*
 * Without balloon compaction balloon pages cannot move, and none may sit
 * in the movable blocks: true when the balloon holds none of their pages.
 */
static bool none_in_movable(const int *ids, int n)
{
	struct hb_balloon_range in;
	long host = 0, small = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (!hb_balloon_in_range(ids[i] * block_pages(), block_pages(), &in))
			ksft_exit_fail_msg("/proc/kpageflags: %s\n", strerror(errno));
		host += in.host;
		small += in.small;
	}
	ksft_print_msg("balloon compaction off: %ld host pages, %ld 4 KiB pages of the balloon in %d movable blocks\n",
		       host, small, n);
	return !host && !small;
}

static void test_offline(unsigned long mib, int rounds)
{
	bool moves = balloon_pages_move();
	struct balloon_state s0, s1;
	int ids[MAX_BLOCKS], n, i, r, failed;
	char *data;
	double t;

	n = hb_movable_blocks(ids, MAX_BLOCKS);
	if (!n)
		ksft_exit_skip("no online movable memory block (hb-vm -d)\n");
	/* The stock balloon has no host pages to tell the host of. */
	ksft_set_plan(3 + (moves ? huge : 1) + rounds);
	data = guest_data();
	inflate(mib);
	if (!moves)
		ksft_test_result(none_in_movable(ids, n),
				 "no balloon page in movable memory\n");
	if (!balloon_state(&s0))
		ksft_exit_fail_msg("host counters\n");

	for (r = 0; r < rounds; r++) {
		failed = 0;
		t = now_ms();
		for (i = 0; i < n; i++) {
			if (!hb_block_offline(ids[i]))
				failed++;
			else if (!hb_block_online_movable(ids[i]))
				failed++;
		}
		ksft_test_result(!failed, "round %d: %d of %d movable blocks offlined and onlined in %.0f ms\n",
				 r + 1, n - failed, n, now_ms() - t);
	}

	if (!balloon_state(&s1))
		ksft_exit_fail_msg("host counters\n");
	ksft_print_msg("moved %lld, split %lld; host inflated +%lld deflated +%lld\n",
		       s1.migrate - s0.migrate, s1.split - s0.split,
		       s1.host_inflated - s0.host_inflated,
		       s1.host_deflated - s0.host_deflated);
	/* Each move is one new host page inflated and one old deflated. */
	if (!huge && moves)
		ksft_print_msg("stock balloon: %lld 4 KiB balloon pages moved\n",
			       s1.small_migrate - s0.small_migrate);
	else if (moves)
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
	/* The stock balloon's moves are figures, not something to assert. */
	ksft_set_plan(huge ? 4 : 2);
	data = guest_data();
	inflate(mib);
	if (!balloon_state(&s0) || !hb_host_anon_huge_kb(&ahp0))
		ksft_exit_fail_msg("host counters\n");
	for (r = 0; r < rounds; r++)
		if (!hb_write_str("/proc/sys/vm/compact_memory", "1"))
			ksft_exit_fail_msg("compact_memory: %s\n", strerror(errno));
	if (!balloon_state(&s1) || !hb_host_anon_huge_kb(&ahp1))
		ksft_exit_fail_msg("host counters\n");

	if (!huge) {
		/* Each 4 KiB page moved is one more discard on the host. */
		ksft_print_msg("stock balloon: compaction moved %lld 4 KiB balloon pages; host AnonHugePages %lld kB, was %lld kB\n",
			       s1.small_migrate - s0.small_migrate, ahp1, ahp0);
		check_data(data, "after compaction");
		return;
	}
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

/* A present page of [@mem, @mem + @len) in the pfn range, or NULL. */
static char *page_in_pfns(char *mem, unsigned long len, unsigned long first_pfn,
			  unsigned long nr_pfns)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	unsigned long off, pfn;
	uint64_t entry;
	char *page = NULL;

	if (fd < 0)
		return NULL;
	for (off = 0; off < len && !page; off += HB_SMALL_PAGE) {
		if (pread(fd, &entry, sizeof(entry),
			  ((uintptr_t)(mem + off) / HB_SMALL_PAGE) * sizeof(entry)) !=
		    sizeof(entry))
			break;
		pfn = entry & ((1ULL << 55) - 1);
		if ((entry >> 63) && pfn >= first_pfn && pfn - first_pfn < nr_pfns)
			page = mem + off;
	}
	close(fd);
	return page;
}

/*
 * Host pages of the balloon in a memory block of @nr_pages: their heads,
 * or for host pages larger than a block (1 GiB, not compound pages), one
 * when all of the block is ballooned.
 */
static long host_pages_in_block(const struct hb_balloon_range *in,
				unsigned long nr_pages)
{
	if (host_page_kb * KIB > nr_pages * HB_SMALL_PAGE)
		return in->small == (long)nr_pages;
	return in->host;
}

/* A balloon with no free host page left to move its host pages to. */
struct no_room {
	char *data;		/* checked at the end */
	char *fill;		/* every other 4 KiB page of the rest, pinned */
	unsigned long len;
	int unevictable;	/* the knob's value before */
	int block;		/* the movable block with most host pages */
	long heads;		/* host pages of the balloon in it */
	char *pinned;		/* with @want_pinned, a page of fill in it */
};

static void no_room_setup(unsigned long mib, struct no_room *r, int plan,
			  bool want_pinned)
{
	char *pinned = NULL;
	unsigned long nr_pages = block_pages();
	struct hb_balloon_range in;
	int ids[MAX_BLOCKS], n, i;

	n = hb_movable_blocks(ids, MAX_BLOCKS);
	if (!n || !nr_pages)
		ksft_exit_skip("no online movable memory block (hb-vm -d)\n");
	r->unevictable = hb_read_knob(HB_UNEVICTABLE_KNOB);
	if (r->unevictable < 0 || !hb_write_knob(HB_UNEVICTABLE_KNOB, 0))
		ksft_exit_skip("%s not writable\n", HB_UNEVICTABLE_KNOB);
	ksft_set_plan(plan);
	r->data = guest_data();
	inflate(mib);

	r->len = (hb_meminfo_kb("MemFree") -
		  (host_page_kb == HB_GIGANTIC_KB ? GIGANTIC_SPARE_KB : SPARE_KB)) * KIB;
	r->fill = hb_pin_holes(r->len);
	if (!r->fill)
		ksft_exit_fail_msg("pinning %lu MiB with holes: %s\n",
				   r->len / MIB, strerror(errno));

	r->block = -1;
	r->heads = 0;
	for (i = 0; i < n; i++) {
		if (!hb_balloon_in_range((unsigned long)ids[i] * nr_pages,
					 nr_pages, &in))
			ksft_exit_fail_msg("/proc/kpageflags: %s\n", strerror(errno));
		if (host_pages_in_block(&in, nr_pages) <= r->heads)
			continue;
		if (want_pinned) {
			pinned = page_in_pfns(r->fill, r->len,
					      (unsigned long)ids[i] * nr_pages,
					      nr_pages);
			if (!pinned)
				continue;
		}
		r->heads = host_pages_in_block(&in, nr_pages);
		r->block = ids[i];
		r->pinned = pinned;
	}
	/* The balloon was inflated in host pages: some are movable. */
	if (r->block < 0)
		ksft_exit_fail_msg("no movable block holds a host page of the balloon%s\n",
				   want_pinned ? " and a page of the guest's" : "");
	ksft_print_msg("memory%d holds %ld host pages; MemFree %lld kB\n",
		       r->block, r->heads, hb_meminfo_kb("MemFree"));
}

static void no_room_teardown(struct no_room *r, const char *when)
{
	munmap(r->fill, r->len);
	check_data(r->data, when);
	hb_write_knob(HB_UNEVICTABLE_KNOB, r->unevictable);
}

/* Host 1 GiB pages another process could have, or -1 for other sizes */
static long long usable_gigantic(void)
{
	if (host_page_kb != HB_GIGANTIC_KB)
		return -1;
	return hb_host_usable_huge_pages(HB_GIGANTIC_KB);
}

static void test_split(unsigned long mib)
{
	struct balloon_state s0, s1;
	long long usable0, usable1;
	struct no_room r;
	double t;
	bool ok;

	no_room_setup(mib, &r, 5, false);
	if (!balloon_state(&s0))
		ksft_exit_fail_msg("host counters\n");
	usable0 = usable_gigantic();
	t = now_ms();
	ok = hb_block_offline(r.block);
	ksft_test_result(ok, "memory%d offlined with no free host page elsewhere (%.0f ms)\n",
			 r.block, now_ms() - t);
	usable1 = usable_gigantic();
	if (usable0 >= 0)
		ksft_print_msg("host 1 GiB pages usable by another process: %lld, were %lld\n",
			       usable1, usable0);
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
		hb_block_online_movable(r.block);
	no_room_teardown(&r, "after the split");
}

/* Seconds the cancel test lets offlining try before it interrupts it */
#define CANCEL_AFTER_S	3
/* and gives the balloon to regroup after it */
#define REGROUP_WAIT_S	10

/*
 * An offline that splits host pages and is then cancelled: a page of the
 * block is held by a pipe (vmsplice), so that it cannot migrate, and the
 * offline is interrupted.  The balloon trades 4 KiB pages for host pages
 * again: the host holds as many as before.
 */
static void test_cancel(unsigned long mib)
{
	struct balloon_state s0, s1;
	struct iovec iov;
	struct no_room r;
	int pipefd[2], waited;
	bool ok;

	no_room_setup(mib, &r, 5, true);
	iov.iov_base = r.pinned;
	iov.iov_len = HB_SMALL_PAGE;
	if (pipe(pipefd) || vmsplice(pipefd[1], &iov, 1, 0) != HB_SMALL_PAGE)
		ksft_exit_fail_msg("vmsplice: %s\n", strerror(errno));
	if (!balloon_state(&s0))
		ksft_exit_fail_msg("host counters\n");
	ok = hb_block_offline_within(r.block, CANCEL_AFTER_S);
	ksft_test_result(!ok, "offlining memory%d cancelled after %d s: a page held by a pipe\n",
			 r.block, CANCEL_AFTER_S);
	/* The balloon's work regroups after the cancel */
	for (waited = 0; ; waited++) {
		if (!balloon_state(&s1))
			ksft_exit_fail_msg("host counters\n");
		if (s1.host_huge == s0.host_huge || waited == REGROUP_WAIT_S)
			break;
		sleep(1);
	}
	ksft_test_result(s1.split > s0.split,
			 "balloon_huge_split +%lld, balloon_huge_migrate +%lld\n",
			 s1.split - s0.split, s1.migrate - s0.migrate);
	ksft_test_result(s1.host_huge == s0.host_huge,
			 "after the cancel the host holds %lld host pages, as before (%lld), after %d s\n",
			 s1.host_huge, s0.host_huge, waited);
	close(pipefd[0]);
	close(pipefd[1]);
	if (ok)
		hb_block_online_movable(r.block);
	no_room_teardown(&r, "after the cancelled offline");
}

#define CMA_DEBUGFS		"/sys/kernel/debug/cma"
#define HUGETLB_SYSFS		"/sys/kernel/mm/hugepages"
#define GIGANTIC_POOL		HUGETLB_SYSFS "/hugepages-1048576kB/nr_hugepages"
#define GIGANTIC_PAGES		(1UL << 18)	/* 4 KiB pages in 1 GiB */
/* Memory left free outside CMA while the balloon goes into it: some for */
#define FILL_MARGIN_KB		(8 * 1024)	/* anyone, above the watermarks */
#define OUTSIDE_SPARE_KB	(16 * 1024)	/* the kernel, unmovable blocks */
#define MIN_FREE_KNOB		"/proc/sys/vm/min_free_kbytes"
#define FILL_MIN_FREE_KB	4096

/*
 * alloc_contig_range() over a range that is one host page of the balloon
 * larger than the buddy allocator's blocks (1 GiB): a 1 GiB hugetlb page,
 * whose GFP_HIGHUSER allocation looks at ZONE_NORMAL first, where the only
 * 1 GiB range free of kernel allocations is one the balloon holds whole
 * (hb-vm -m 5120: three 1 GiB ranges above 4 GiB, of which the balloon
 * takes the first free one).  The balloon splits its host page, whose
 * pieces migrate elsewhere and stay in the balloon.
 */
static void test_contig_split(unsigned long mib)
{
	struct balloon_state s0, s1;
	long long held = -1, got;
	char *data;
	double t;
	bool ok;

	if (host_page_kb != HB_GIGANTIC_KB)
		ksft_exit_skip("host pages of %lld kB, not 1 GiB (hb-vm -o x-host-page-order-raw=18)\n",
			       host_page_kb);
	if (hb_read_knob(GIGANTIC_POOL) < 0)
		ksft_exit_skip("no 1 GiB hugetlb pages in the guest (hb-vm -c qemu64,+pdpe1gb)\n");
	ksft_set_plan(5);
	data = guest_data();
	inflate(mib);
	if (!balloon_state(&s0))
		ksft_exit_fail_msg("host counters\n");
	t = now_ms();
	ok = hb_write_knob(GIGANTIC_POOL, 1);
	got = hb_read_knob(GIGANTIC_POOL);
	ksft_test_result(ok && got == 1, "%lld 1 GiB hugetlb page allocated (%.0f ms)\n",
			 got, now_ms() - t);
	if (!balloon_state(&s1) || !hb_host_balloon_held(&held))
		ksft_exit_fail_msg("host counters\n");
	ksft_test_result(s1.split - s0.split == 1,
			 "balloon_huge_split +%lld: the range was a host page of the balloon\n",
			 s1.split - s0.split);
	/* Anonymous memory is not 1 GiB aligned in QEMU: the host rejects */
	ksft_print_msg("host holds %lld host pages, was %lld\n",
		       s1.host_huge, s0.host_huge);
	ksft_test_result(held == (long long)mib &&
			 s1.mem_total_kb == s0.mem_total_kb,
			 "balloon holds %lld MiB of %lu, MemTotal %lld kB, was %lld kB\n",
			 held, mib, s1.mem_total_kb, s0.mem_total_kb);
	hb_write_knob(GIGANTIC_POOL, 0);
	check_data(data, "after the 1 GiB allocation");
}

static bool read_ulong(const char *dir, const char *file, unsigned long *v)
{
	char path[512], buf[64];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (!hb_read_str(path, buf, sizeof(buf)))
		return false;
	*v = strtoul(buf, NULL, 0);
	return true;
}

/* A CMA area, and what one try allocates from it. */
struct contig_area {
	char dir[300];			/* in CMA_DEBUGFS */
	unsigned long base, count;	/* its pfns */
	bool gigantic;			/* 1 GiB hugetlb pages, or all of it */
	unsigned long nr;		/* 1 GiB pages that fit in it, aligned */
};

/* hugetlb_cma='s area (@gigantic), or another one (hb-vm -a cma=SIZE). */
static bool contig_area_find(struct contig_area *a)
{
	DIR *cma = opendir(CMA_DEBUGFS);
	unsigned long first, end;
	struct dirent *d;
	bool found = false;

	while (cma && !found && (d = readdir(cma)))
		if (d->d_name[0] != '.' &&
		    !strncmp(d->d_name, "hugetlb", 7) == a->gigantic) {
			snprintf(a->dir, sizeof(a->dir), CMA_DEBUGFS "/%s",
				 d->d_name);
			found = true;
		}
	if (cma)
		closedir(cma);
	if (!found || !read_ulong(a->dir, "base_pfn", &a->base) ||
	    !read_ulong(a->dir, "count", &a->count))
		return false;
	/* 6.1 aligns hugetlb_cma= to 2 MiB only. */
	first = (a->base + GIGANTIC_PAGES - 1) & ~(GIGANTIC_PAGES - 1);
	end = (a->base + a->count) & ~(GIGANTIC_PAGES - 1);
	a->nr = end > first ? (end - first) / GIGANTIC_PAGES : 0;
	return true;
}

/* alloc_contig_range() over the area: 1 GiB hugetlb pages or all of it. */
static bool contig_alloc(const struct contig_area *a, char *what, size_t size)
{
	unsigned long used = 0;
	char path[512], buf[32];
	long long got;
	bool ok;

	if (a->gigantic) {
		ok = hb_write_knob(GIGANTIC_POOL, a->nr);
		got = hb_read_knob(GIGANTIC_POOL);
		read_ulong(a->dir, "used", &used);
		snprintf(what, size, "%lld of %lu 1 GiB pages, %lu MiB of them from %s",
			 got, a->nr, used * HB_SMALL_PAGE / MIB, a->dir);
		return ok && got == (long long)a->nr &&
		       used == a->nr * GIGANTIC_PAGES;
	}
	snprintf(path, sizeof(path), "%s/alloc", a->dir);
	snprintf(buf, sizeof(buf), "%lu", a->count);
	ok = hb_write_str(path, buf);
	snprintf(what, size, "%s, all %lu MiB: %s", a->dir,
		 a->count * HB_SMALL_PAGE / MIB, ok ? "allocated" : strerror(errno));
	return ok;
}

/*
 * alloc_contig_range() drains the zone's per-cpu free lists, where pages
 * just freed (a deflation's) wait, not counted free.
 */
static void contig_drain(const struct contig_area *a)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/alloc", a->dir);
	if (hb_write_str(path, "1")) {
		snprintf(path, sizeof(path), "%s/free", a->dir);
		hb_write_str(path, "1");
	}
}

static void contig_free(const struct contig_area *a)
{
	char path[512], buf[32];

	if (a->gigantic) {
		hb_write_knob(GIGANTIC_POOL, 0);
		return;
	}
	snprintf(path, sizeof(path), "%s/free", a->dir);
	snprintf(buf, sizeof(buf), "%lu", a->count);
	hb_write_str(path, buf);	/* nothing to free after a failure */
}

/*
 * Free memory outside CMA that a GFP_HIGHUSER allocation can have: above
 * each zone's min watermark and its reserve against ZONE_NORMAL
 * allocations, ZONE_DMA left out.
 */
static long long outside_cma_free_kb(void)
{
	long long free = 0, min = 0, cma = 0, prot = 0, sum = 0;
	char line[256], zone[16] = "";
	FILE *f = fopen("/proc/zoneinfo", "r");
	bool last;

	if (!f)
		return -1;
	do {
		last = !fgets(line, sizeof(line), f);
		/* A zone's figures end where the next zone (or the file) starts. */
		if ((last || !strncmp(line, "Node", 4)) && zone[0] &&
		    strcmp(zone, "DMA") && free - cma - min - prot > 0)
			sum += free - cma - min - prot;
		if (last || sscanf(line, "Node %*d, zone %15s", zone) == 1) {
			free = min = cma = prot = 0;
			continue;
		}
		sscanf(line, " pages free %lld", &free);
		sscanf(line, " min %lld", &min);
		sscanf(line, " nr_free_cma %lld", &cma);
		sscanf(line, " protection: (%*d, %*d, %lld", &prot);
	} while (!last);
	fclose(f);
	return sum * (HB_SMALL_PAGE / KIB);
}

/*
 * Hold free memory outside CMA, all but @leave_kb of it, in a ramfs file
 * in the directory @dir (mkdtemp() template); returns its fd.  Its pages
 * are unmovable (GFP_HIGHUSER): they never come from CMA, and they turn
 * the pageblocks they take unmovable.  The tail of the file is freed
 * straight away, for the kernel: movable allocations use CMA before they
 * steal from unmovable blocks.
 */
static int hold_outside(char *dir, long long leave_kb)
{
	static char buf[1 << 20];
	long long len, off;
	char path[64];
	int fd;

	if (!mkdtemp(dir) || mount("none", dir, "ramfs", 0, NULL))
		ksft_exit_fail_msg("ramfs: %s\n", strerror(errno));
	snprintf(path, sizeof(path), "%s/hold", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || unlink(path))
		ksft_exit_fail_msg("%s: %s\n", path, strerror(errno));
	memset(buf, 1, sizeof(buf));
	len = (outside_cma_free_kb() - leave_kb) * (long long)KIB;
	for (off = 0; off + (long long)sizeof(buf) <= len; off += sizeof(buf))
		if (write(fd, buf, sizeof(buf)) != sizeof(buf))
			ksft_exit_fail_msg("%s: %s\n", path, strerror(errno));
	if (ftruncate(fd, off > OUTSIDE_SPARE_KB * (long long)KIB ?
		      off - OUTSIDE_SPARE_KB * KIB : 0))
		ksft_exit_fail_msg("%s: %s\n", path, strerror(errno));
	return fd;
}

static void release_outside(char *dir, int fd)
{
	close(fd);
	umount(dir);
	rmdir(dir);
}

/*
 * Grow the balloon from @mib - @in to @mib MiB with nothing but the CMA
 * area left to grow into, but for what the area has no room for (the
 * balloon may be in it already).  Left alone, the page-order balloon
 * takes host pages outside CMA first (it captures MIGRATE_MOVABLE blocks
 * only), and the stock balloon enters CMA only once CMA holds half the
 * free memory of the zone.
 */
static bool inflate_into_area(const struct contig_area *a, unsigned long mib,
			      unsigned long in)
{
	char dir[] = "/tmp/hb-hold.XXXXXX";
	long long min_free, room, over;
	bool ok;
	int fd;

	if (!hb_host_balloon(mib - in, NULL))
		return false;
	contig_drain(a);
	/* Watermarks down: less free memory outside for the balloon to take. */
	min_free = hb_read_knob(MIN_FREE_KNOB);
	if (min_free > FILL_MIN_FREE_KB)
		hb_write_knob(MIN_FREE_KNOB, FILL_MIN_FREE_KB);
	room = hb_meminfo_kb("CmaFree") - FILL_MARGIN_KB;
	over = (long long)in * 1024 - (room > 0 ? room : 0);
	fd = hold_outside(dir, FILL_MARGIN_KB + (over > 0 ? over : 0));
	ok = hb_host_balloon(mib, NULL);
	release_outside(dir, fd);
	if (min_free > FILL_MIN_FREE_KB)
		hb_write_knob(MIN_FREE_KNOB, min_free);
	return ok;
}

/*
 * alloc_contig_range() on a CMA area that holds balloon pages, @tries
 * times: it migrates them, host pages included, as it migrates the stock
 * balloon's 4 KiB pages.  @stock: the stock balloon's "N/TRIES".
 */
static void test_contig(unsigned long mib, bool gigantic, int tries,
			const char *stock)
{
	struct contig_area a = { .gigantic = gigantic };
	bool moves = balloon_pages_move();
	long long moved = 0, split = 0, heads = 0;
	unsigned long put, cma_mib;
	long least = -1;
	struct balloon_state s0, s1;
	struct hb_balloon_range in;
	bool host_ok = true, same_size = true, ok;
	int t, succeeded = 0, stock_ok, stock_tries;
	char what[640];
	char *data;

	if (!contig_area_find(&a))
		ksft_exit_skip(gigantic ?
			       "no hugetlb_cma area in %s (hb-vm -a hugetlb_cma=1G -c qemu64,+pdpe1gb)\n" :
			       "no CMA area in %s (hb-vm -a cma=SIZE)\n", CMA_DEBUGFS);
	if (gigantic && !a.nr)
		ksft_exit_skip("%s: pfns %#lx+%#lx hold no aligned 1 GiB page (hugetlb_cma= is 2 MiB aligned; hb-vm -m 3200 puts it at 4 GiB)\n",
			       a.dir, a.base, a.count);
	if (gigantic && hb_read_knob(GIGANTIC_POOL) != 0)
		ksft_exit_skip("%s: missing or not 0\n", GIGANTIC_POOL);
	/* Half the balloon into the area, or 3/4 of the area if less. */
	cma_mib = hb_meminfo_kb("CmaFree") / 1024;
	put = mib / 2 < cma_mib * 3 / 4 ? mib / 2 : cma_mib * 3 / 4;
	put &= ~1UL;
	/* Without balloon compaction no balloon page may go into the area */
	if (!moves)
		put = 0;
	/* The stock balloon's run is the figure the huge one must match. */
	ksft_set_plan(tries + (huge ? 6 : 4));
	data = guest_data();
	inflate(mib - put);
	ksft_print_msg("%s: pfns %#lx+%#lx; %lu of %lu MiB of the balloon go into it each try\n",
		       a.dir, a.base, a.count, put, mib);

	for (t = 1; t <= tries; t++) {
		if (put && !inflate_into_area(&a, mib, put))
			ksft_exit_fail_msg("balloon does not reach %lu MiB\n", mib);
		if (!hb_balloon_in_range(a.base, a.count, &in))
			ksft_exit_fail_msg("/proc/kpageflags: %s\n", strerror(errno));
		if (!balloon_state(&s0))
			ksft_exit_fail_msg("host counters\n");
		ok = contig_alloc(&a, what, sizeof(what));
		if (!balloon_state(&s1))
			ksft_exit_fail_msg("host counters\n");
		contig_free(&a);
		ksft_test_result(ok, "try %d, %ld MiB of the balloon in the area (%ld host pages, %ld 4 KiB pages): %s\n",
				 t, range_mib(&in), in.host, in.small, what);
		if (!ok)
			hb_dump_why();
		succeeded += ok;
		if (least < 0 || range_mib(&in) < least)
			least = range_mib(&in);
		heads += in.host;
		moved += s1.migrate - s0.migrate;
		split += s1.split - s0.split;
		/* Each host page in the area moved, none handed back. */
		host_ok &= s1.migrate - s0.migrate >= in.host &&
			   s1.host_huge == s0.host_huge;
		same_size &= s1.mem_total_kb == s0.mem_total_kb;
	}

	/* By construction; less means the construction is broken. */
	if (moves)
		ksft_test_result(least >= (long)put / 2,
				 "balloon inflated into the area: at least %ld MiB each try, %lu MiB asked\n",
				 least, put);
	else
		ksft_test_result(!least, "balloon compaction off: %ld MiB of the balloon in the area\n",
				 least);
	ksft_test_result(same_size, "balloon size unchanged by the allocations (MemTotal)\n");
	if (huge)
		ksft_test_result(host_ok, "host told of every move: %lld moved, %lld split, %lld host pages were in the area\n",
				 moved, split, heads);
	ksft_print_msg("%s balloon: %d of %d allocations succeeded (%lld moved)\n",
		       huge ? "page-order" : "stock", succeeded, tries, moved);
	if (huge && stock && sscanf(stock, "%d/%d", &stock_ok, &stock_tries) == 2 &&
	    stock_tries > 0)
		ksft_test_result(succeeded * stock_tries >= stock_ok * tries,
				 "page-order balloon %d of %d allocations, stock balloon %d of %d\n",
				 succeeded, tries, stock_ok, stock_tries);
	else if (huge)
		ksft_test_result_fail("no stock figure to compare with (balloon_movable MODE MIB TRIES STOCK-OK/TRIES)\n");
	check_data(data, "after alloc_contig_range()");
	printf("# DEMO mode=%s contig_ok=%d/%d area_mib=%ld\n",
	       huge ? "page-order=host" : "stock", succeeded, tries, least);
}

/* What the racing children did, in memory they share with the parent. */
struct race_counts {
	long cma_ok, cma_failed;
	long offline_ok, offline_failed;
};

static volatile sig_atomic_t race_stop;

static void on_race_stop(int sig)
{
	(void)sig;
	race_stop = 1;
}

static void on_race_alarm(int sig)
{
	(void)sig;
}

/* Allocate the whole CMA area and free it, until told to stop. */
static void race_cma(const struct contig_area *a, struct race_counts *c)
{
	char what[640];

	while (!race_stop) {
		if (contig_alloc(a, what, sizeof(what)))
			c->cma_ok++;
		else
			c->cma_failed++;
		contig_free(a);
	}
	_exit(0);
}

/*
 * Offline and online each movable block in turn, until told to stop.  An
 * offline that cannot finish in a few seconds is interrupted: the balloon
 * may be inflating into the block meanwhile, which is the point.
 */
static void race_offline(const int *ids, int n, struct race_counts *c)
{
	struct sigaction sa = { .sa_handler = on_race_alarm };	/* no SA_RESTART */
	char path[128];
	int i;

	sigaction(SIGALRM, &sa, NULL);
	for (i = 0; !race_stop; i = (i + 1) % n) {
		snprintf(path, sizeof(path), MEMORY_SYSFS "/memory%d/state", ids[i]);
		alarm(5);
		if (hb_write_str(path, "offline"))
			c->offline_ok++;
		else
			c->offline_failed++;
		alarm(0);
		hb_write_str(path, "online_movable");
	}
	_exit(0);
}

/*
 * Isolation racing the balloon for @seconds: one child allocates the
 * whole CMA area (hb-vm -a cma=SIZE) and frees it, another offlines and
 * onlines the movable blocks (hb-vm -d), while the host gets a new random
 * target up to @mib every second.  Then the balloon deflates: its events
 * balance, the host holds no host page, MemTotal is back, the data are
 * intact; the kernel log (read by run-checks) shows no warning.
 */
static void test_race(unsigned long mib, int seconds, unsigned int seed)
{
	struct sigaction sa = { .sa_handler = on_race_stop };
	struct contig_area a = { .gigantic = false };
	long long mem0, in0, de0, hin0, hde0, hsp0, in, de, hin, hde, hsp;
	long long moved0, moved;
	struct balloon_state s;
	struct race_counts *c;
	int ids[MAX_BLOCKS], n, i, targets = 0;
	pid_t cma_pid, off_pid;
	unsigned long target;
	char path[128];
	char *data;

	if (!contig_area_find(&a))
		ksft_exit_skip("no CMA area in %s (hb-vm -a cma=SIZE)\n", CMA_DEBUGFS);
	n = hb_movable_blocks(ids, MAX_BLOCKS);
	if (!n)
		ksft_exit_skip("no online movable memory block (hb-vm -d)\n");
	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	memset(c, 0, sizeof(*c));
	ksft_set_plan(5);
	ksft_print_msg("seed %u: %d s, targets up to %lu MiB, %s all %lu MiB, %d movable blocks\n",
		       seed, seconds, mib, a.dir, a.count * HB_SMALL_PAGE / MIB, n);
	srand(seed);
	data = guest_data();
	mem0 = hb_meminfo_kb("MemTotal");
	in0 = hb_vmstat("balloon_inflate");
	de0 = hb_vmstat("balloon_deflate");
	hin0 = hb_vmstat("balloon_huge_inflate");
	hde0 = hb_vmstat("balloon_huge_deflate");
	hsp0 = hb_vmstat("balloon_huge_split");
	moved0 = hb_vmstat(huge ? "balloon_huge_migrate" : "balloon_migrate");

	sigaction(SIGTERM, &sa, NULL);
	cma_pid = fork();
	if (!cma_pid)
		race_cma(&a, c);
	off_pid = fork();
	if (!off_pid)
		race_offline(ids, n, c);
	if (cma_pid < 0 || off_pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	for (i = 0; i < seconds; i++) {
		target = (unsigned long)rand() % (mib / 2 + 1) * 2;
		targets += hb_host_balloon_target(target);
		sleep(1);
	}
	kill(cma_pid, SIGTERM);
	kill(off_pid, SIGTERM);
	waitpid(cma_pid, NULL, 0);
	waitpid(off_pid, NULL, 0);
	/* The offline child may have been stopped with a block offline */
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), MEMORY_SYSFS "/memory%d/state", ids[i]);
		hb_write_str(path, "online_movable");
	}

	moved = hb_vmstat(huge ? "balloon_huge_migrate" : "balloon_migrate") - moved0;
	ksft_test_result(c->cma_ok && c->offline_ok && moved > 0 &&
			 targets == seconds,
			 "isolation raced the balloon: %ld whole-area CMA allocations (%ld failed), %ld offlines (%ld failed), %lld %s moved, %d targets\n",
			 c->cma_ok, c->cma_failed, c->offline_ok,
			 c->offline_failed, moved,
			 huge ? "host pages" : "4 KiB balloon pages", targets);
	if (!hb_host_balloon(0, NULL))
		ksft_exit_fail_msg("balloon does not go back to 0\n");
	in = hb_vmstat("balloon_inflate") - in0;
	de = hb_vmstat("balloon_deflate") - de0;
	hin = hb_vmstat("balloon_huge_inflate") - hin0;
	hde = hb_vmstat("balloon_huge_deflate") - hde0;
	hsp = hb_vmstat("balloon_huge_split") - hsp0;
	/* A split host page goes on as 4 KiB balloon pages */
	ksft_test_result(in == de && hin == hde + hsp,
			 "balloon events balance: 4 KiB %lld in, %lld out; host pages %lld in, %lld out, %lld split\n",
			 in, de, hin, hde, hsp);
	if (!balloon_state(&s))
		ksft_exit_fail_msg("host counters\n");
	ksft_test_result(!s.host_huge, "host holds %lld host pages of the balloon\n",
			 s.host_huge);
	ksft_test_result(s.mem_total_kb == mem0, "MemTotal %lld kB, was %lld kB\n",
			 s.mem_total_kb, mem0);
	check_data(data, "after the race");
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "offline";
	unsigned long mib = argc > 2 ? strtoul(argv[2], NULL, 0) : 512;
	int rounds = argc > 3 ? atoi(argv[3]) : 3;
	const char *stock = argc > 4 ? argv[4] : NULL;
	bool contig = !strcmp(mode, "cma") || !strcmp(mode, "gigantic");
	long long order;

	ksft_print_header();
	huge = hb_huge_mode();
	if (huge) {
		if (!hb_host_qom_get("host-page-order", &order))
			ksft_exit_fail_msg("host-page-order\n");
		host_page_kb = (HB_SMALL_PAGE / KIB) << order;
	}
	/* The split paths are the only ones without a stock counterpart. */
	if (!huge && (!strcmp(mode, "split") || !strcmp(mode, "cancel") ||
		      !strcmp(mode, "contig-split")))
		ksft_exit_skip("host page order not negotiated (hb-vm -o page-order=host)\n");
	if (hb_vmstat("balloon_huge_migrate") < 0)
		ksft_exit_skip("guest kernel has no balloon_huge_migrate\n");

	if (!strcmp(mode, "offline"))
		test_offline(mib, rounds);
	else if (!strcmp(mode, "compact"))
		test_compact(mib, rounds);
	else if (!strcmp(mode, "split"))
		test_split(mib);
	else if (!strcmp(mode, "cancel"))
		test_cancel(mib);
	else if (!strcmp(mode, "contig-split"))
		test_contig_split(mib);
	else if (contig)
		test_contig(mib, !strcmp(mode, "gigantic"), rounds, stock);
	else if (!strcmp(mode, "race"))
		test_race(mib, rounds, stock ? strtoul(stock, NULL, 0) :
					 (unsigned long)time(NULL));
	else
		ksft_exit_fail_msg("unknown mode %s\n", mode);

	hb_host_balloon(0, NULL);
	ksft_finished();
}
