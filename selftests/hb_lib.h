/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hugeballoon selftests: what the guest can learn about itself and what
 * it must ask the host (tools/hb-host.c) over the control serial port.
 */
#ifndef HB_LIB_H
#define HB_LIB_H

#include <stdbool.h>
#include <stddef.h>

#define MIB	(1024UL * 1024)
#define KIB	1024UL
#define HB_SMALL_PAGE	4096UL
/* x86: a 2 MiB host page (THP, hugetlbfs) in 4 KiB guest pages, and in kB. */
#define HB_HUGE_ORDER	9
#define HB_HUGE_KB	2048L
/* A 1 GiB hugetlbfs host page in kB. */
#define HB_GIGANTIC_KB	1048576L

/* Bit of VIRTIO_BALLOON_F_HOST_PAGE_ORDER, from the series' uapi header. */
#define HB_F_HOST_PAGE_ORDER	7
/* Bit of VIRTIO_BALLOON_F_REPORTING in the virtio balloon uapi header. */
#define HB_F_REPORTING		5

/* Host requests; each returns false and prints a TAP diagnostic on error. */
/* Make the balloon hold @size_mib; @ms: QMP command to target reached. */
bool hb_host_balloon(unsigned long size_mib, double *ms);
bool hb_host_anon_huge_kb(long long *kb);
/*
 * Host huge pages of @page_kb that another process could allocate: free
 * less reserved.  Exits with a failure when the pool is unreadable.
 */
long long hb_host_usable_huge_pages(unsigned long page_kb);
/* Whether QEMU's output (its start-up warnings) holds @text. */
bool hb_host_qemu_said(const char *text);
/*
 * Another tenant: take every host huge page of @page_kb that is usable
 * (@pages of them), and give them back.
 */
bool hb_host_take_huge_pages(unsigned long page_kb, long long *pages);
bool hb_host_give_huge_pages(void);
/* Set the balloon's target without waiting; its size now, in MiB. */
bool hb_host_balloon_target(unsigned long size_mib);
bool hb_host_balloon_held(long long *mib);
/* Wait up to @seconds until the host sees @mib MiB held; seconds waited */
int hb_wait_balloon_held(unsigned long mib, int seconds, long long *held_mib);
/* hb-vm -U: device_del the balloon (until QEMU removed it), device_add it */
bool hb_host_balloon_unplug(long long *ms);
bool hb_host_balloon_plug(void);
/* How many QMP events @name QEMU has sent. */
bool hb_host_qmp_events(const char *name, long long *count);
/*
 * Which boot of the VM this is (1 the first); and resetting the VM, by
 * the host (system_reset) or by the guest rebooting itself, after which it
 * boots again and runs the same test.
 */
long long hb_host_boot(void);
void hb_host_reset(bool by_guest);
bool hb_host_qom_get(const char *prop, long long *val);
/* The device's counts of host pages inflated and deflated since reset. */
bool hb_host_huge_counts(long long *inflated, long long *deflated);
void hb_host_mark(const char *label);
/*
 * Migrate the VM (@target: "file", "live" or "postcopy", then optionally
 * "churn MIB") to a file (then it resumes) or live to a second QEMU
 * (hb-vm -L), which runs the guest on; with churn the host sets a random
 * balloon target of up to MIB every second meanwhile.  The figures: how
 * long it took, guest RAM resident in the source before and at most
 * during the migration, and in the QEMU running the guest after it (kB),
 * and the last target the host set (MiB).
 */
struct hb_migration {
	double ms;
	long long before_kb, peak_kb, after_kb, last_target_mib;
	/* A snapshot's: host pages held unreleased at most, and when all
	 * were released after it (ms, -1 if not within 5 s) */
	long long peak_unreleased;
	double release_ms;
};
bool hb_host_migrate(const char *target, struct hb_migration *m);

/* A number in a sysfs or procfs file, -1 if unreadable; and writing one. */
long long hb_read_knob(const char *path);
bool hb_write_knob(const char *path, long long val);
#define HB_REPORTING_ORDER_KNOB \
	"/sys/module/page_reporting/parameters/page_reporting_order"
/* x86: MAX_ORDER, which page reporting never reaches: reporting off. */
#define HB_REPORTING_ORDER_OFF	11
#define HB_UNEVICTABLE_KNOB	"/proc/sys/vm/compact_unevictable_allowed"

/*
 * Whether free page reporting runs at the order the host advertises (the
 * device's host-page-order), with both printed as a diagnostic.
 */
bool hb_reports_at_host_order(void);

/* fs/proc/page.c, include/uapi/linux/kernel-page-flags.h */
#define HB_KPF_COMPOUND_HEAD	15
#define HB_KPF_COMPOUND_TAIL	16
#define HB_KPF_HWPOISON		19
#define HB_KPF_OFFLINE		23

/* The balloon's pages (PageOffline) in a range of pfns. */
struct hb_balloon_range {
	long host, small;	/* host pages (compound heads), 4 KiB pages */
	long first_head;	/* pfn of the first host page, or -1 */
	long first_small;	/* pfn of the first 4 KiB page, or -1 */
};

/*
 * Count the balloon's pages in [@start, @start + @nr) from
 * /proc/kpageflags, up to the end of memory; false on a read error.
 */
bool hb_balloon_in_range(unsigned long start, unsigned long nr,
			 struct hb_balloon_range *r);
/* /proc/kpageflags of @pfn, 0 when unreadable. */
unsigned long long hb_kpageflags(unsigned long pfn);

/* Guest facts; -1 when absent. */
long long hb_meminfo_kb(const char *key);
long long hb_vmstat(const char *key);
/*
 * Fragment free memory for good: map @len bytes, touch them, free every
 * other 4 KiB page again and mlock the rest.  With HB_UNEVICTABLE_KNOB at
 * 0 compaction cannot close the holes.  NULL (errno set) on failure.
 */
char *hb_pin_holes(unsigned long len);
/*
 * Free every other 4 KiB page of @mem again, from page @first (0 or 1).
 * Touched in address order, the freed pages then have no free neighbour.
 * False (errno set) on failure.
 */
bool hb_free_every_other_page(char *mem, unsigned long len,
			      unsigned long first);
/* Free blocks of at least @order, in units of @order, from /proc/buddyinfo. */
long long hb_free_blocks(unsigned int order);
/* sysfs path of the bound balloon device, or NULL when there is none. */
const char *hb_balloon_dev(void);
/* Whether feature @bit was negotiated by the balloon driver. */
bool hb_balloon_has_feature(unsigned int bit);
/*
 * Whether the host page order was negotiated; exits with a failure when
 * that is not what the runner asked for (HB_MODE=huge or stock).
 */
bool hb_huge_mode(void);

/* A region filled with a pattern derived from @seed, and its check. */
void hb_fill(void *mem, unsigned long len, unsigned long seed);
unsigned long hb_check(const void *mem, unsigned long len, unsigned long seed);
/*
 * Anonymous memory of @len bytes with madvise() @advice, and the same
 * filled as by hb_fill(); both exit on failure.
 */
char *hb_map(unsigned long len, int advice);
char *hb_map_filled(unsigned long len, unsigned long seed);

/* A sysfs or procfs file as a string, without its newline. */
bool hb_read_str(const char *path, char *buf, size_t size);
bool hb_write_str(const char *path, const char *val);

/*
 * Memory blocks: the ids of the online blocks in ZONE_MOVABLE (at most
 * @max), and taking one offline (given up on after 30 s, or @seconds,
 * with the kernel log of why) or online into ZONE_MOVABLE again.
 */
int hb_movable_blocks(int *ids, int max);
bool hb_block_offline(int id);
bool hb_block_offline_within(int id, unsigned int seconds);
bool hb_block_online_movable(int id);
/* What held a migration up: its failures in the kernel log, free blocks. */
void hb_dump_why(void);

#endif
