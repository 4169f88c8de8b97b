// SPDX-License-Identifier: GPL-2.0
/*
 * The capture of free blocks under stress.  For SECONDS, WORKERS processes
 * map, fill, check and unmap regions of random size (THP, 4 KiB, and 4 KiB
 * with every other page freed again, which fragments free memory), while
 * the host moves the balloon between random sizes up to half of the
 * guest's free memory and free page reporting reports what the workers
 * free.  Inflation takes free blocks with page_reporting_capture(),
 * reporting isolates them with the same code, and both race with
 * allocation, freeing, compaction and the migration of balloon pages.
 *
 * A block that two owners held at once shows as a region whose pattern
 * changed; a block that was lost (taken off the free lists and never
 * given back) as free memory that does not come back.  So at the end,
 * with the workers stopped and the balloon empty:
 *  - every region was checked before it was unmapped, not one bad word,
 *    and every worker is alive;
 *  - MemTotal is what it was, and free memory (MemFree and the per-cpu
 *    lists) within FREE_SLACK_KB of what it was;
 *  - the balloon's inflate and deflate events balance, for 4 KiB and for
 *    host pages, and the host counted the host pages the guest did;
 *  - the kernel logged no BUG, bad page, WARNING or OOM kill meanwhile.
 *
 * Run with -o free-page-reporting=on, with and without page-order=host.
 *
 * Usage: balloon_stress [SECONDS [WORKERS [LEAK-MIB]]]
 *   LEAK-MIB: keep that much memory in use until the end, as a leak would;
 *   the free memory check must then fail.  For checking the check.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest.h"
#include "hb_lib.h"

#define HUGE_SIZE	(2 * MIB)
#define MAX_WORKERS	8
#define MAX_REGIONS	64
#define REGION_MAX	(16 * MIB)
/* Of the guest's free memory at the start: the balloon's largest size... */
#define BALLOON_PERCENT	50
/* ...and what all workers hold at most, so that nothing is OOM-killed. */
#define WORKERS_PERCENT	25
/*
 * Of it too: a span with every other page mlocked, whose holes compaction
 * may not close (compact_unevictable_allowed=0), so that large targets
 * need the compaction pass, or the fallback to 4 KiB pages when that
 * finds nothing to move (measured: the pass always made blocks of the
 * workers' memory, so the fallback counter stayed 0).
 */
#define HOLES_PERCENT	30
/*
 * Every OVERSHOOT_EVERY targets, one as large as free memory allows: what
 * is free less what the workers may still map and OVERSHOOT_SPARE_MIB, so
 * that the balloon also takes the holes and runs the zone near its
 * watermarks, where capture and allocation refuse blocks.  With 64 MiB
 * spare a stock run once OOM-killed a worker (1 of 3 runs).
 */
#define OVERSHOOT_EVERY		4
#define OVERSHOOT_SPARE_MIB	128
/* Longest pause between two balloon targets. */
#define PAUSE_MAX_MS	1500
/*
 * Free memory at the end against the start, both settled (see
 * settled_free_kb()).  Measured: 72-80 kB less at the end, stock and
 * page-order=host alike.  Less than one host page, so that a single lost
 * 2 MiB block fails.
 */
#define FREE_SLACK_KB	1024LL
/* Free memory is settled when it moved less than this for SETTLE_STILL s. */
#define SETTLE_KB	256
#define SETTLE_STILL	3
#define SETTLE_MAX_S	30
#define KMSG_SHOW	20

enum kind { KIND_THP, KIND_SMALL, KIND_HOLES, KINDS };

struct region {
	char *map;		/* the mapping, aligned or not */
	unsigned long map_len;
	char *mem;		/* the region in it */
	unsigned long len;
	unsigned long seed;
	enum kind kind;
};

/* What a worker did, in memory its parent shares. */
struct worker_stats {
	unsigned long regions, checked_kb, bad;
	unsigned long held;	/* bytes mapped now */
	int done;
};

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The largest balloon (MiB) that leaves the workers their budgets. */
static unsigned long overshoot(unsigned long cur, unsigned long budgets,
			       const struct worker_stats *st,
			       unsigned long workers)
{
	long long free_mib = hb_meminfo_kb("MemFree") / 1024, spare;
	unsigned long i, held = 0;

	for (i = 0; i < workers; i++)
		held += st[i].held;
	spare = (budgets > held ? budgets - held : 0) / MIB +
		OVERSHOOT_SPARE_MIB;
	return free_mib > spare ? cur + free_mib - spare : cur;
}

/* Holes: every other page was freed again; the others hold a pattern. */
static unsigned long page_step(const struct region *r)
{
	return r->kind == KIND_HOLES ? 2 * HB_SMALL_PAGE : HB_SMALL_PAGE;
}

/* A pattern per page, so that a page moved within the region shows too. */
static void fill_region(struct region *r)
{
	unsigned long off;

	for (off = 0; off < r->len; off += HB_SMALL_PAGE)
		hb_fill(r->mem + off, HB_SMALL_PAGE,
			r->seed + off / HB_SMALL_PAGE);
	if (r->kind != KIND_HOLES)
		return;
	hb_free_every_other_page(r->mem, r->len, 1);
}

static unsigned long check_region(const struct region *r,
				  struct worker_stats *st)
{
	unsigned long off, bad = 0;

	for (off = 0; off < r->len; off += page_step(r))
		bad += hb_check(r->mem + off, HB_SMALL_PAGE,
				r->seed + off / HB_SMALL_PAGE);
	st->checked_kb += r->len / page_step(r) * (HB_SMALL_PAGE / KIB);
	st->bad += bad;
	return bad;
}

static bool map_region(struct region *r, unsigned int *rs)
{
	unsigned long pages = 1 + rand_r(rs) % (REGION_MAX / HB_SMALL_PAGE);
	char *map;

	r->kind = rand_r(rs) % KINDS;
	r->len = pages * HB_SMALL_PAGE;
	r->map_len = r->len;
	if (r->kind == KIND_THP) {
		/* Whole, aligned huge pages: a 2 MiB aligned window. */
		r->len = (r->len + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1);
		r->map_len = r->len + HUGE_SIZE;
	}
	map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return false;
	r->map = map;
	r->mem = map;
	if (r->kind == KIND_THP)
		r->mem = (char *)(((unsigned long)map + HUGE_SIZE - 1) &
				  ~(HUGE_SIZE - 1));
	madvise(r->mem, r->len, r->kind == KIND_THP ? MADV_HUGEPAGE :
						      MADV_NOHUGEPAGE);
	r->seed = ((unsigned long)rand_r(rs) << 32) ^ rand_r(rs);
	fill_region(r);
	return true;
}

static void unmap_region(struct region *r, struct worker_stats *st)
{
	check_region(r, st);
	munmap(r->map, r->map_len);
}

/* Map and unmap regions until told to stop; hold at most @budget bytes. */
static int worker(unsigned int seed, unsigned long budget,
		  struct worker_stats *st)
{
	struct region r[MAX_REGIONS];
	unsigned long held = 0;
	unsigned int rs = seed;
	int n = 0, i;

	signal(SIGTERM, on_term);
	while (!stop) {
		i = rand_r(&rs) % (MAX_REGIONS + MAX_REGIONS / 4);
		if (i >= MAX_REGIONS && n) {
			/* Check one again while it is held. */
			check_region(&r[rand_r(&rs) % n], st);
		} else if (i < n) {
			held -= r[i].len;
			unmap_region(&r[i], st);
			r[i] = r[--n];
		} else if (n < MAX_REGIONS) {
			if (!map_region(&r[n], &rs))
				return 2;
			held += r[n].len;
			st->regions++;
			n++;
			/* Keep to the budget, oldest first. */
			while (held > budget && n > 1) {
				held -= r[0].len;
				unmap_region(&r[0], st);
				r[0] = r[--n];
			}
		}
		st->held = held;
	}
	while (n) {
		unmap_region(&r[--n], st);
	}
	st->done = 1;
	return st->bad ? 1 : 0;
}

/* Free pages on the per-cpu lists, from /proc/zoneinfo; in kB. */
static long long pcp_kb(void)
{
	char line[256];
	long long n, sum = 0;
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %lld", &n) == 1)
			sum += n;
	fclose(f);
	return sum * (HB_SMALL_PAGE / KIB);
}

/*
 * Free memory once it stopped moving, caches dropped: MemFree and what the
 * per-cpu lists hold (up to some 13 MiB more after the run than before it
 * in a 1 GiB guest with 2 CPUs, THP-sized pages included); in kB.
 * Reporting is paused meanwhile: the blocks it holds while the host
 * discards them are not free, up to PAGE_REPORTING_CAPACITY at a time.
 */
static long long settled_free_kb(void)
{
	long long order = hb_read_knob(HB_REPORTING_ORDER_KNOB);
	long long kb = -1, last;
	int still = 0, t;

	if (order < 0 || !hb_write_knob(HB_REPORTING_ORDER_KNOB,
					HB_REPORTING_ORDER_OFF))
		ksft_exit_fail_msg("%s not writable\n", HB_REPORTING_ORDER_KNOB);
	for (t = 0; still < SETTLE_STILL && t < SETTLE_MAX_S; t++) {
		hb_write_knob("/proc/sys/vm/drop_caches", 3);
		sleep(1);
		last = kb;
		kb = hb_meminfo_kb("MemFree") + pcp_kb();
		still = llabs(kb - last) < SETTLE_KB ? still + 1 : 0;
	}
	if (!hb_write_knob(HB_REPORTING_ORDER_KNOB, order))
		ksft_exit_fail_msg("cannot restore %s\n", HB_REPORTING_ORDER_KNOB);
	return kb;
}

/* /dev/kmsg from now on; -1 if the kernel has none. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* Count (and show) the messages logged since kmsg_open() that matter. */
static int kmsg_bad(int fd)
{
	static const char *const bad[] = {
		"BUG", "Bad page", "WARNING", "Oops", "oom-kill",
		"Out of memory", "page allocation failure", "corruption",
	};
	char rec[8192], *msg;
	unsigned int i;
	ssize_t len;
	int n = 0;

	for (;;) {
		len = read(fd, rec, sizeof(rec) - 1);
		if (len < 0 && errno == EPIPE)
			continue;	/* overwritten: read on */
		if (len <= 0)
			break;
		rec[len] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		for (i = 0; i < ARRAY_SIZE(bad); i++)
			if (strstr(msg, bad[i]))
				break;
		if (i == ARRAY_SIZE(bad))
			continue;
		if (n++ < KMSG_SHOW)
			ksft_print_msg("kernel: %s", msg);
	}
	return n;
}

#define MEMINFO_MAX	64

struct meminfo {
	char key[MEMINFO_MAX][32];
	long long kb[MEMINFO_MAX];
	int n;
};

static void read_meminfo(struct meminfo *m)
{
	FILE *f = fopen("/proc/meminfo", "r");

	m->n = 0;
	while (f && m->n < MEMINFO_MAX &&
	       fscanf(f, "%31s %lld%*[^\n]", m->key[m->n], &m->kb[m->n]) == 2)
		m->n++;
	if (f)
		fclose(f);
}

/* Where free memory went: the /proc/meminfo lines that moved. */
static void show_meminfo_delta(const struct meminfo *a, const struct meminfo *b)
{
	int i;

	for (i = 0; i < a->n && i < b->n; i++)
		if (llabs(b->kb[i] - a->kb[i]) >= SETTLE_KB)
			ksft_print_msg("  %-18s %+lld kB\n", a->key[i],
				       b->kb[i] - a->kb[i]);
}

struct counts {
	long long inflate, deflate, huge_inflate, huge_deflate, huge_fallback;
	long long huge_migrate, huge_split, host_inflated, host_deflated;
};

static void read_counts(struct counts *c)
{
	c->inflate = hb_vmstat("balloon_inflate");
	c->deflate = hb_vmstat("balloon_deflate");
	c->huge_inflate = hb_vmstat("balloon_huge_inflate");
	c->huge_deflate = hb_vmstat("balloon_huge_deflate");
	c->huge_fallback = hb_vmstat("balloon_huge_fallback");
	c->huge_migrate = hb_vmstat("balloon_huge_migrate");
	c->huge_split = hb_vmstat("balloon_huge_split");
	if (!hb_host_huge_counts(&c->host_inflated, &c->host_deflated))
		ksft_exit_fail_msg("host huge page counts unreadable\n");
}

static void sub_counts(struct counts *d, const struct counts *a,
		       const struct counts *b)
{
	const long long *pa = (const long long *)a, *pb = (const long long *)b;
	long long *pd = (long long *)d;
	unsigned int i;

	for (i = 0; i < sizeof(*d) / sizeof(long long); i++)
		pd[i] = pa[i] - pb[i];
}

int main(int argc, char **argv)
{
	unsigned long seconds = argc > 1 ? strtoul(argv[1], NULL, 0) : 90;
	unsigned long workers = argc > 2 ? strtoul(argv[2], NULL, 0) : 2;
	unsigned long leak = (argc > 3 ? strtoul(argv[3], NULL, 0) : 0) * MIB;
	bool huge = hb_huge_mode();
	const char *mode = huge ? "page-order=host" : "stock";
	long long total0, total1, free0, free1, blocks0, blocks1;
	unsigned long steps = 0, missed = 0, bmax, target, i, budget, cur = 0;
	unsigned long regions = 0, checked_kb = 0, bad = 0;
	double ms, ms_max = 0, t0, deadline;
	struct counts c0, c1, d;
	struct meminfo m0, m1;
	struct worker_stats *st;
	pid_t pid[MAX_WORKERS];
	int status, kmsg, alive = 0, logged, unevictable;
	unsigned long holes_len;
	char *holes;
	unsigned int rs;
	char *leaked;

	ksft_print_header();
	if (!hb_balloon_has_feature(HB_F_REPORTING))
		ksft_exit_skip("free page reporting not negotiated: run with -o free-page-reporting=on\n");
	if (!workers || workers > MAX_WORKERS)
		ksft_exit_fail_msg("WORKERS must be 1 to %d\n", MAX_WORKERS);
	ksft_set_plan(huge ? 9 : 8);

	kmsg = kmsg_open();
	total0 = hb_meminfo_kb("MemTotal");
	free0 = settled_free_kb();
	blocks0 = hb_free_blocks(HB_HUGE_ORDER);
	read_meminfo(&m0);
	read_counts(&c0);
	bmax = free0 * BALLOON_PERCENT / 100 / 1024;
	budget = free0 * KIB * WORKERS_PERCENT / 100 / workers;
	t0 = now_s();
	rs = (unsigned int)(t0 * 1e6);
	ksft_print_msg("%s: MemTotal %lld kB, free %lld kB, %lld free 2 MiB blocks; %lu s, %lu workers of %lu MiB, balloon 0-%lu MiB, %lu MiB with holes, seed %u\n",
		       mode, total0, free0, blocks0, seconds, workers,
		       budget / MIB, bmax, free0 * HOLES_PERCENT / 100 / 1024,
		       rs);

	unevictable = hb_read_knob(HB_UNEVICTABLE_KNOB);
	if (unevictable < 0 || !hb_write_knob(HB_UNEVICTABLE_KNOB, 0))
		ksft_exit_skip("%s not writable\n", HB_UNEVICTABLE_KNOB);
	holes_len = free0 * KIB * HOLES_PERCENT / 100 & ~(HB_SMALL_PAGE - 1);
	holes = hb_pin_holes(holes_len);
	if (!holes)
		ksft_exit_fail_msg("pinning %lu MiB with holes: %s\n",
				   holes_len / MIB, strerror(errno));

	st = mmap(NULL, sizeof(*st) * MAX_WORKERS, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	memset(st, 0, sizeof(*st) * MAX_WORKERS);
	fflush(stdout);
	for (i = 0; i < workers; i++) {
		pid[i] = fork();
		if (pid[i] < 0)
			ksft_exit_fail_msg("fork: %s\n", strerror(errno));
		if (!pid[i])
			_exit(worker(rs + i + 1, budget, &st[i]));
	}

	/* The host moves the balloon; reporting runs on its own meanwhile. */
	t0 = now_s();
	deadline = t0 + seconds;
	while (now_s() < deadline) {
		target = rand_r(&rs) % (bmax + 1);
		if (steps % OVERSHOOT_EVERY == OVERSHOOT_EVERY - 1)
			target = overshoot(cur, budget * workers, st, workers);
		ms = 0;
		steps++;
		if (!hb_host_balloon(target, &ms)) {
			missed++;
			ksft_print_msg("balloon target %lu MiB not reached\n",
				       target);
		}
		cur = target;
		if (ms > ms_max)
			ms_max = ms;
		usleep(rand_r(&rs) % PAUSE_MAX_MS * 1000);
	}

	for (i = 0; i < workers; i++)
		kill(pid[i], SIGTERM);
	for (i = 0; i < workers; i++) {
		if (waitpid(pid[i], &status, 0) != pid[i])
			status = -1;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && st[i].done)
			alive++;
		else
			ksft_print_msg("worker %lu: status %#x\n", i, status);
		regions += st[i].regions;
		checked_kb += st[i].checked_kb;
		bad += st[i].bad;
	}
	if (!hb_host_balloon(0, NULL))
		missed++;
	munmap(holes, holes_len);
	hb_write_knob(HB_UNEVICTABLE_KNOB, unevictable);
	ksft_print_msg("%s: %.0f s, %lu balloon targets (longest %.1f ms)\n",
		       mode, now_s() - t0, steps, ms_max);

	if (leak) {
		leaked = mmap(NULL, leak, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (leaked == MAP_FAILED)
			ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
		memset(leaked, 1, leak);
		ksft_print_msg("leaking %lu MiB on purpose\n", leak / MIB);
	}
	free1 = settled_free_kb();
	total1 = hb_meminfo_kb("MemTotal");
	blocks1 = hb_free_blocks(HB_HUGE_ORDER);
	read_meminfo(&m1);
	read_counts(&c1);
	sub_counts(&d, &c1, &c0);
	logged = kmsg >= 0 ? kmsg_bad(kmsg) : -1;

	ksft_print_msg("%s: balloon events: inflate %lld deflate %lld, host pages inflate %lld deflate %lld migrate %lld split %lld, fallback %lld; host inflated %lld deflated %lld\n",
		       mode, d.inflate, d.deflate, d.huge_inflate,
		       d.huge_deflate, d.huge_migrate, d.huge_split,
		       d.huge_fallback, d.host_inflated, d.host_deflated);
	ksft_test_result(!missed,
			 "%s: balloon reaches each of %lu random targets up to %lu MiB, and 0 (%lu missed)\n",
			 mode, steps, bmax, missed);
	if (huge)
		ksft_test_result(d.huge_inflate > 0 && d.inflate > 0,
				 "%s: both host pages (%lld) and 4 KiB pages (%lld, %lld as fallback) inflated\n",
				 mode, d.huge_inflate, d.inflate,
				 d.huge_fallback);
	else
		ksft_test_result(d.huge_inflate == 0 && d.inflate > 0,
				 "%s: 4 KiB pages only (%lld), no host page (%lld)\n",
				 mode, d.inflate, d.huge_inflate);
	ksft_test_result(alive == (int)workers && !bad,
			 "%s: %d of %lu workers finish, %lu regions, %lu MiB checked, %lu bad words\n",
			 mode, alive, workers, regions, checked_kb / 1024, bad);
	ksft_test_result(total1 == total0,
			 "%s: MemTotal back to %lld kB (%lld kB)\n",
			 mode, total0, total1);
	if (llabs(free1 - free0) > FREE_SLACK_KB)
		show_meminfo_delta(&m0, &m1);
	ksft_test_result(llabs(free1 - free0) <= FREE_SLACK_KB,
			 "%s: free memory back within %lld kB: %lld kB, was %lld kB (%+lld kB); free 2 MiB blocks %lld, were %lld\n",
			 mode, FREE_SLACK_KB, free1, free0, free1 - free0,
			 blocks1, blocks0);
	ksft_test_result(d.inflate == d.deflate,
			 "%s: 4 KiB balloon pages in and out balance (%lld, %lld)\n",
			 mode, d.inflate, d.deflate);
	if (huge) {
		ksft_test_result(d.huge_inflate ==
				 d.huge_deflate + d.huge_split,
				 "%s: host pages in and out balance (%lld in, %lld out, %lld split)\n",
				 mode, d.huge_inflate, d.huge_deflate,
				 d.huge_split);
		/* The host sees a move as the new page in, the old one out. */
		ksft_test_result(d.host_inflated ==
				 d.huge_inflate + d.huge_migrate &&
				 d.host_deflated == d.huge_deflate +
				 d.huge_migrate + d.huge_split,
				 "%s: host counted %lld host pages in and %lld out, as the guest did\n",
				 mode, d.host_inflated, d.host_deflated);
	} else {
		ksft_test_result(!d.host_inflated && !d.host_deflated,
				 "%s: the host counted no host page (%lld in, %lld out)\n",
				 mode, d.host_inflated, d.host_deflated);
	}
	ksft_test_result(!logged,
			 "%s: no BUG, bad page, WARNING or OOM kill in the kernel log (%d, -1: no /dev/kmsg)\n",
			 mode, logged);

	printf("# STRESS mode=%s seconds=%lu targets=%lu regions=%lu free_delta_kb=%lld huge_inflate=%lld fallback=%lld migrate=%lld\n",
	       mode, seconds, steps, regions, free1 - free0, d.huge_inflate,
	       d.huge_fallback, d.huge_migrate);
	ksft_finished();
}
