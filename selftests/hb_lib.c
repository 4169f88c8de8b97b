// SPDX-License-Identifier: GPL-2.0
/*
 * hugeballoon selftests: the guest end of the host control channel and
 * readers of guest-side facts.  See hb_lib.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/reboot.h>

#include "kselftest.h"
#include "hb_lib.h"

#define HB_CTL_TTY	"/dev/ttyS1"
#define HB_LINE_MAX	4096
#define MEMORY_SYSFS	"/sys/devices/system/memory"
/* An offline that cannot finish is interrupted, and fails. */
#define OFFLINE_TIMEOUT_S	30

static int ctl_fd = -1;

static int ctl_open(void)
{
	struct termios tio;

	if (ctl_fd >= 0)
		return ctl_fd;
	ctl_fd = open(HB_CTL_TTY, O_RDWR | O_NOCTTY);
	if (ctl_fd < 0)
		ksft_exit_fail_msg("%s: %s (not run by tools/hb-vm?)\n",
				   HB_CTL_TTY, strerror(errno));
	/* Raw: no echo, no line editing, no CR/LF games. */
	tcgetattr(ctl_fd, &tio);
	cfmakeraw(&tio);
	cfsetspeed(&tio, B115200);
	tcsetattr(ctl_fd, TCSANOW, &tio);
	return ctl_fd;
}

/* Send one request line and read the one-line answer into @answer. */
static bool host_request(char *answer, size_t size, const char *fmt, ...)
{
	char req[HB_LINE_MAX];
	size_t len = 0;
	va_list ap;
	int fd = ctl_open();

	va_start(ap, fmt);
	vsnprintf(req, sizeof(req) - 1, fmt, ap);
	va_end(ap);
	strcat(req, "\n");
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		ksft_exit_fail_msg("write %s: %s\n", HB_CTL_TTY, strerror(errno));

	while (len < size - 1) {
		char c;

		if (read(fd, &c, 1) != 1)
			ksft_exit_fail_msg("read %s: %s\n", HB_CTL_TTY,
					   strerror(errno));
		if (c == '\n')
			break;
		answer[len++] = c;
	}
	answer[len] = '\0';
	if (strncmp(answer, "ok", 2)) {
		req[strlen(req) - 1] = '\0';
		ksft_print_msg("host refused '%s': %s\n", req, answer);
		return false;
	}
	return true;
}

bool hb_host_balloon(unsigned long size_mib, double *ms)
{
	char answer[HB_LINE_MAX];
	double t;

	if (!host_request(answer, sizeof(answer), "balloon %lu", size_mib) ||
	    sscanf(answer, "ok %lf", &t) != 1)
		return false;
	if (ms)
		*ms = t;
	return true;
}

static bool host_number(long long *val, const char *fmt, const char *arg)
{
	char answer[HB_LINE_MAX];

	if (!host_request(answer, sizeof(answer), fmt, arg))
		return false;
	return sscanf(answer, "ok %lld", val) == 1;
}

bool hb_host_anon_huge_kb(long long *kb)
{
	return host_number(kb, "anon-huge%s", "");
}

long long hb_host_usable_huge_pages(unsigned long page_kb)
{
	char arg[32];
	long long n;

	snprintf(arg, sizeof(arg), "%lu", page_kb);
	if (!host_number(&n, "hugepages-usable %s", arg))
		ksft_exit_fail_msg("host %lu kB huge page pool unreadable\n",
				   page_kb);
	return n;
}

bool hb_host_qemu_said(const char *text)
{
	long long said;

	return host_number(&said, "qemu-said %s", text) && said;
}

bool hb_host_take_huge_pages(unsigned long page_kb, long long *pages)
{
	char arg[32];

	snprintf(arg, sizeof(arg), "%lu", page_kb);
	return host_number(pages, "hugepages-take %s", arg);
}

bool hb_host_give_huge_pages(void)
{
	char answer[HB_LINE_MAX];

	return host_request(answer, sizeof(answer), "hugepages-give");
}

bool hb_host_balloon_target(unsigned long size_mib)
{
	char answer[HB_LINE_MAX];

	return host_request(answer, sizeof(answer), "balloon-target %lu",
			    size_mib);
}

int hb_wait_balloon_held(unsigned long mib, int seconds, long long *held_mib)
{
	int waited;

	for (waited = 0; waited < seconds; waited++) {
		if (hb_host_balloon_held(held_mib) && *held_mib == (long long)mib)
			break;
		sleep(1);
	}
	return waited;
}

bool hb_host_balloon_unplug(long long *ms)
{
	return host_number(ms, "balloon-unplug%s", "");
}

bool hb_host_balloon_plug(void)
{
	char answer[HB_LINE_MAX];

	return host_request(answer, sizeof(answer), "balloon-plug");
}

bool hb_host_balloon_held(long long *mib)
{
	return host_number(mib, "balloon-held%s", "");
}

bool hb_host_qmp_events(const char *name, long long *count)
{
	return host_number(count, "qmp-events %s", name);
}

long long hb_host_boot(void)
{
	long long boot;

	if (!host_number(&boot, "boot%s", ""))
		ksft_exit_fail_msg("host does not count boots\n");
	return boot;
}

void hb_host_reset(bool by_guest)
{
	char answer[HB_LINE_MAX];

	host_request(answer, sizeof(answer), by_guest ? "reset guest" : "reset");
	if (by_guest) {
		sync();
		reboot(RB_AUTOBOOT);
		ksft_exit_fail_msg("reboot: %s\n", strerror(errno));
	}
}

bool hb_host_qom_get(const char *prop, long long *val)
{
	return host_number(val, "qom-get %s", prop);
}

bool hb_reports_at_host_order(void)
{
	long long reporting = hb_read_knob(HB_REPORTING_ORDER_KNOB), host;

	if (!hb_host_qom_get("host-page-order", &host))
		return false;
	ksft_print_msg("page_reporting_order %lld, host page order %lld\n",
		       reporting, host);
	return reporting == host;
}

bool hb_host_huge_counts(long long *inflated, long long *deflated)
{
	return hb_host_qom_get("huge-pages-inflated", inflated) &&
	       hb_host_qom_get("huge-pages-deflated", deflated);
}

bool hb_host_migrate(const char *target, struct hb_migration *m)
{
	char answer[HB_LINE_MAX];

	m->peak_unreleased = -1;
	m->release_ms = -1;
	return host_request(answer, sizeof(answer), "migrate %s", target) &&
	       sscanf(answer, "ok %lf %lld %lld %lld %lld %lld %lf", &m->ms,
		      &m->before_kb, &m->peak_kb, &m->after_kb,
		      &m->last_target_mib, &m->peak_unreleased,
		      &m->release_ms) >= 5;
}

void hb_host_mark(const char *label)
{
	char answer[HB_LINE_MAX];

	host_request(answer, sizeof(answer), "mark %s", label);
}

static long long file_value(const char *path, const char *key, char sep)
{
	char line[256];
	size_t klen = strlen(key);
	long long val = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == sep) {
			val = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return val;
}

long long hb_read_knob(const char *path)
{
	long long val = -1;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%lld", &val) != 1)
			val = -1;
		fclose(f);
	}
	return val;
}

bool hb_write_knob(const char *path, long long val)
{
	FILE *f = fopen(path, "w");
	bool ok;

	if (!f)
		return false;
	ok = fprintf(f, "%lld\n", val) > 0;
	return !fclose(f) && ok;
}

long long hb_meminfo_kb(const char *key)
{
	return file_value("/proc/meminfo", key, ':');
}

long long hb_vmstat(const char *key)
{
	return file_value("/proc/vmstat", key, ' ');
}

char *hb_pin_holes(unsigned long len)
{
	unsigned long off;
	char *mem;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	if (madvise(mem, len, MADV_NOHUGEPAGE))
		goto fail;
	for (off = 0; off < len; off += HB_SMALL_PAGE)
		mem[off] = 1;
	if (!hb_free_every_other_page(mem, len, 0))
		goto fail;
	/* Lock what is left without faulting the holes back in. */
	if (mlock2(mem, len, MLOCK_ONFAULT))
		goto fail;
	return mem;
fail:
	munmap(mem, len);
	return NULL;
}

bool hb_free_every_other_page(char *mem, unsigned long len,
			      unsigned long first)
{
	unsigned long off;

	for (off = first * HB_SMALL_PAGE; off < len; off += 2 * HB_SMALL_PAGE)
		if (madvise(mem + off, HB_SMALL_PAGE, MADV_DONTNEED))
			return false;
	return true;
}

bool hb_balloon_in_range(unsigned long start, unsigned long nr,
			 struct hb_balloon_range *r)
{
	uint64_t flags[4096];
	unsigned long pfn, i, n;
	ssize_t got = 0;
	int fd = open("/proc/kpageflags", O_RDONLY);

	r->host = r->small = 0;
	r->first_head = r->first_small = -1;
	if (fd < 0)
		return false;
	for (pfn = start; pfn < start + nr; pfn += n) {
		n = start + nr - pfn < 4096 ? start + nr - pfn : 4096;
		got = pread(fd, flags, n * sizeof(*flags), pfn * sizeof(*flags));
		if (got <= 0)
			break;
		n = got / sizeof(*flags);
		for (i = 0; i < n; i++) {
			/* The page-order balloon marks tails offline too. */
			if (!(flags[i] >> HB_KPF_OFFLINE & 1) ||
			    flags[i] >> HB_KPF_COMPOUND_TAIL & 1)
				continue;
			if (flags[i] >> HB_KPF_COMPOUND_HEAD & 1) {
				if (r->first_head < 0)
					r->first_head = pfn + i;
				r->host++;
			} else {
				if (r->first_small < 0)
					r->first_small = pfn + i;
				r->small++;
			}
		}
	}
	close(fd);
	return got >= 0;
}

unsigned long long hb_kpageflags(unsigned long pfn)
{
	uint64_t flags = 0;
	int fd = open("/proc/kpageflags", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &flags, sizeof(flags), pfn * sizeof(flags)) != sizeof(flags))
		flags = 0;
	close(fd);
	return flags;
}

long long hb_free_blocks(unsigned int order)
{
	char line[512], *p;
	long long n = 0, count;
	unsigned int k;
	FILE *f = fopen("/proc/buddyinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, "zone");
		if (!p)
			continue;
		p += 4;
		while (*p == ' ')
			p++;
		p = strchr(p, ' ');	/* past the zone name */
		for (k = 0; p && k < 64; k++) {
			count = strtoll(p, &p, 10);
			if (k >= order)
				n += count << (k - order);
			if (*p != ' ')
				break;
		}
	}
	fclose(f);
	return n;
}

const char *hb_balloon_dev(void)
{
	static char path[320];
	const char *drv = "/sys/bus/virtio/drivers/virtio_balloon";
	struct dirent *de;
	DIR *d = opendir(drv);

	if (!d)
		return NULL;
	path[0] = '\0';
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "virtio", 6)) {
			snprintf(path, sizeof(path), "%s/%s", drv, de->d_name);
			break;
		}
	closedir(d);
	return path[0] ? path : NULL;
}

bool hb_balloon_has_feature(unsigned int bit)
{
	char path[352], features[129] = "";
	const char *dev = hb_balloon_dev();
	FILE *f;

	if (!dev)
		return false;
	snprintf(path, sizeof(path), "%s/features", dev);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(features, sizeof(features), f))
		features[0] = '\0';
	fclose(f);
	return strlen(features) > bit && features[bit] == '1';
}

bool hb_huge_mode(void)
{
	bool huge = hb_balloon_has_feature(HB_F_HOST_PAGE_ORDER);
	const char *want = getenv("HB_MODE");

	if (!hb_balloon_dev())
		ksft_exit_fail_msg("no device bound to virtio_balloon\n");
	if (want && strcmp(want, huge ? "huge" : "stock"))
		ksft_exit_fail_msg("asked for the %s balloon, but the host page order was %snegotiated\n",
				   want, huge ? "" : "not ");
	return huge;
}

/* xorshift: cheap, and any lost or moved page shows up as a mismatch. */
static unsigned long pattern(unsigned long word, unsigned long seed)
{
	unsigned long x = (word + 1) * 0x9e3779b97f4a7c15UL ^ seed;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

void hb_fill(void *mem, unsigned long len, unsigned long seed)
{
	unsigned long *w = mem, i;

	for (i = 0; i < len / sizeof(*w); i++)
		w[i] = pattern(i, seed);
}

unsigned long hb_check(const void *mem, unsigned long len, unsigned long seed)
{
	const unsigned long *w = mem;
	unsigned long i, bad = 0;

	for (i = 0; i < len / sizeof(*w); i++)
		bad += w[i] != pattern(i, seed);
	return bad;
}

bool hb_write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val);
}

bool hb_read_str(const char *path, char *buf, size_t size)
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

int hb_movable_blocks(int *ids, int max)
{
	char path[512], buf[128];
	struct dirent *d;
	DIR *dir = opendir(MEMORY_SYSFS);
	int n = 0, id;

	if (!dir)
		return 0;
	while ((d = readdir(dir)) && n < max) {
		if (sscanf(d->d_name, "memory%d", &id) != 1)
			continue;
		snprintf(path, sizeof(path), MEMORY_SYSFS "/%s/state", d->d_name);
		if (!hb_read_str(path, buf, sizeof(buf)) || strcmp(buf, "online"))
			continue;
		snprintf(path, sizeof(path), MEMORY_SYSFS "/%s/valid_zones",
			 d->d_name);
		if (!hb_read_str(path, buf, sizeof(buf)) ||
		    strncmp(buf, "Movable", 7))
			continue;
		ids[n++] = id;
	}
	closedir(dir);
	return n;
}

void hb_dump_why(void)
{
	fflush(stdout);
	if (system("dmesg | tail -n 20 | sed 's/^/# /'; sed 's/^/# /' /proc/buddyinfo"))
		ksft_print_msg("no dmesg\n");
}

static void on_alarm(int sig)
{
	(void)sig;
}

bool hb_block_offline_within(int id, unsigned int seconds)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	char path[128];
	bool ok;

	sigaction(SIGALRM, &sa, NULL);
	snprintf(path, sizeof(path), MEMORY_SYSFS "/memory%d/state", id);
	alarm(seconds);
	ok = hb_write_str(path, "offline");
	alarm(0);
	if (!ok) {
		ksft_print_msg("offline memory%d: %s\n", id, strerror(errno));
		hb_dump_why();
	}
	return ok;
}

bool hb_block_offline(int id)
{
	return hb_block_offline_within(id, OFFLINE_TIMEOUT_S);
}

bool hb_block_online_movable(int id)
{
	char path[128];

	snprintf(path, sizeof(path), MEMORY_SYSFS "/memory%d/state", id);
	if (hb_write_str(path, "online_movable"))
		return true;
	ksft_print_msg("online memory%d: %s\n", id, strerror(errno));
	return false;
}

char *hb_map(unsigned long len, int advice)
{
	char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem == MAP_FAILED)
		ksft_exit_fail_msg("mmap %lu MiB: %s\n", len / MIB,
				   strerror(errno));
	if (madvise(mem, len, advice))
		ksft_exit_fail_msg("madvise: %s\n", strerror(errno));
	return mem;
}

char *hb_map_filled(unsigned long len, unsigned long seed)
{
	char *mem = hb_map(len, MADV_NORMAL);

	hb_fill(mem, len, seed);
	return mem;
}
