// SPDX-License-Identifier: GPL-2.0
/*
 * hb-host: the host end of a hugeballoon test run.
 *
 * The in-guest selftests cannot reach QMP or see the host, so they ask:
 * each request is one line on the guest's second serial port (ttyS1),
 * which QEMU connects to a unix socket, and each answer is one line back,
 * "ok ..." or "err ...".  Requests:
 *
 *   balloon MIB           make the balloon hold MIB (QMP target: guest RAM
 *                         less MIB), wait until "actual" reaches the target;
 *                         answers "ok MILLISECONDS"
 *   anon-huge             AnonHugePages (KiB) of the guest's RAM: the VMAs
 *                         of QEMU that map a memory backend, not QEMU's
 *                         own THPs (its TCG code buffer asks for them)
 *   hugepages-usable KIB  host huge pages of that size another process
 *                         could allocate: free less reserved (a page a
 *                         private mapping discarded is free but still
 *                         reserved to QEMU)
 *   hugepages-take KIB    take every host huge page of that size another
 *                         process could allocate, as another tenant would;
 *                         answers "ok PAGES"
 *   hugepages-give        give back what hugepages-take took
 *   balloon-target MIB    set the balloon's target to MIB and return at once
 *   balloon-held          the balloon's size in MiB (guest RAM less actual)
 *   qmp-events NAME       how many QMP events NAME QEMU has sent so far
 *   boot                  how many times the guest has asked this (1 on
 *                         its first boot); a reset guest shuts down again
 *   reset [guest]         reset the VM (system_reset) and let it boot
 *                         again, though hb-vm runs QEMU with -no-reboot;
 *                         with guest, only let the guest's own reboot
 *                         reset it
 *   qom-get PROP          property of the balloon device (id balloon0)
 *   qemu-said TEXT        1 if QEMU's output (-l FILE) holds TEXT, else 0
 *   mark LABEL            a label in the sample file (see -s)
 *   migrate file|live|postcopy|snapshot [churn|inflate MIB]
 *                         migrate the VM to a file (then resume it), live
 *                         (precopy, or postcopy from the start) to a second
 *                         QEMU started by the run directory's start-dest
 *                         (-m), which then serves the requests, or take a
 *                         background snapshot to a file while the VM runs
 *                         (discards are inhibited meanwhile); with churn,
 *                         set a random balloon target of 0 to MIB every
 *                         second meanwhile, with inflate the target MIB
 *                         once.  Answers "ok MILLISECONDS BEFORE PEAK
 *                         AFTER LAST-TARGET": the guest RAM resident in
 *                         the source (KiB, hugetlbfs pages included)
 *                         before and at most during the migration, in the
 *                         QEMU that runs the guest after it, and the last
 *                         target set (MiB, 0 if none); a snapshot adds
 *                         "PEAK-UNRELEASED RELEASE-MS", the most host
 *                         pages the device held unreleased during it and
 *                         how long after it they were all released (-1:
 *                         not within 5 s), AFTER being measured then
 *
 * With -s FILE it also samples the guest RAM's AnonHugePages every 100 ms, for the
 * demo's plot.  It ends when QEMU closes the sockets.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define USAGE	"usage: hb-host -q QMP-SOCKET -c CTL-SOCKET -p QEMU-PID" \
		" [-l QEMU-LOG] [-s SAMPLES] [-m RUN-DIR] [-u BALLOON-DEVICE]"
#define LINE_MAX_LEN		4096
#define SAMPLE_INTERVAL_MS	100
/* A 1 GiB balloon under TCG takes seconds; a stuck one is a failure. */
#define BALLOON_TIMEOUT_MS	(180 * 1000)
#define BALLOON_POLL_US		2000
/* Memory backends whose mappings count as guest RAM. */
#define MAX_MEMDEVS		64
#define MIGRATE_POLL_US		10000
#define MIGRATE_TIMEOUT_MS	(300 * 1000)

struct conn {
	int fd;
	char buf[LINE_MAX_LEN];
	size_t len;
};

static struct conn qmp, ctl;
/* The names of the QMP events seen, one a line, as long as they fit */
static char events_seen[16384];
/* With -u: the balloon's -device argument, on a hotpluggable port */
static const char *balloon_device;
/* What hugepages-take holds */
static void *taken_mem;
static size_t taken_len;
static int boots;
static pid_t qemu_pid;
static FILE *samples;
static const char *qemu_log_path;
/* The run directory of tools/hb-vm: start-dest and its sockets */
static const char *run_dir;
static double start_ms;
static long long memdev_bytes[MAX_MEMDEVS];
static int nr_memdevs;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("hb-host: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static int connect_unix(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, tries;

	if (strlen(path) >= sizeof(addr.sun_path))
		die("socket path too long: %s", path);
	strcpy(addr.sun_path, path);
	/* QEMU creates its sockets a moment after it starts. */
	for (tries = 0; tries < 300; tries++) {
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket: %s", strerror(errno));
		if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
			return fd;
		close(fd);
		usleep(100 * 1000);
	}
	die("cannot connect to %s: %s", path, strerror(errno));
	return -1;
}

/* Read one line (without its end) into @line; false when the peer closed. */
static int read_line(struct conn *c, char *line, size_t size)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		ssize_t n;

		if (nl) {
			size_t l = nl - c->buf;

			if (l && c->buf[l - 1] == '\r')
				l--;
			if (l >= size)
				l = size - 1;
			memcpy(line, c->buf, l);
			line[l] = '\0';
			c->len -= nl + 1 - c->buf;
			memmove(c->buf, nl + 1, c->len);
			return 1;
		}
		if (c->len == sizeof(c->buf))
			c->len = 0;	/* an overlong line: drop it */
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n <= 0)
			return 0;
		c->len += n;
	}
}

static int has_line(struct conn *c)
{
	return memchr(c->buf, '\n', c->len) != NULL;
}

static void write_all(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t n = write(fd, s, len);

		if (n <= 0)
			die("write: %s", strerror(errno));
		s += n;
		len -= n;
	}
}

static void note_event(const char *json)
{
	const char *p = strstr(json, "\"event\": \"");
	size_t used = strlen(events_seen);
	char name[64];

	if (p && sscanf(p + 10, "%63[^\"]", name) == 1 &&
	    used + strlen(name) + 2 < sizeof(events_seen))
		sprintf(events_seen + used, "%s\n", name);
}

static int count_events(const char *name)
{
	size_t len = strlen(name);
	const char *p;
	int n = 0;

	for (p = events_seen; (p = strstr(p, name)); p += len)
		n += (p == events_seen || p[-1] == '\n') && p[len] == '\n';
	return n;
}

/* Run one QMP command; the reply line (events skipped) lands in @reply. */
static void qmp_command(char *reply, size_t size, const char *fmt, ...)
{
	char cmd[LINE_MAX_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strcat(cmd, "\n");
	write_all(qmp.fd, cmd);
	for (;;) {
		if (!read_line(&qmp, reply, size))
			die("QMP closed during %s", cmd);
		if (!strstr(reply, "\"event\""))
			break;
		note_event(reply);
	}
}

static long long json_number(const char *json, const char *key)
{
	char pattern[64];
	const char *p;

	snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	p = strstr(json, pattern);
	return p ? strtoll(p + strlen(pattern), NULL, 10) : -1;
}

static bool is_memdev_size(long long bytes)
{
	int i;

	for (i = 0; i < nr_memdevs; i++)
		if (memdev_bytes[i] == bytes)
			return true;
	return false;
}

/*
 * The sum of the smaps @fields (kB) over QEMU's mappings of guest RAM.
 * QEMU maps each memory backend as one VMA of exactly its size (guard
 * pages around it are VMAs of their own); its TCG code buffer, the other
 * large mapping with THP, is executable.
 */
static long long guest_ram_kb(const char *const *fields)
{
	unsigned long long start, end;
	long long kb, total = 0;
	bool in_ram = false, found = false;
	char path[64], line[512], perms[8], name[64];
	const char *const *field;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)qemu_pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %7s", &start, &end, perms) == 3) {
			in_ram = !strchr(perms, 'x') &&
				 is_memdev_size(end - start);
			found |= in_ram;
		} else if (in_ram &&
			   sscanf(line, "%63[^:]: %lld kB", name, &kb) == 2) {
			for (field = fields; *field; field++)
				if (!strcmp(name, *field))
					total += kb;
		}
	}
	fclose(f);
	return found ? total : -1;
}

static long long guest_ram_anon_huge_kb(void)
{
	static const char *const fields[] = { "AnonHugePages", NULL };

	return guest_ram_kb(fields);
}

/* Rss leaves out hugetlbfs pages */
static long long guest_ram_resident_kb(void)
{
	static const char *const fields[] = {
		"Rss", "Shared_Hugetlb", "Private_Hugetlb", NULL
	};

	return guest_ram_kb(fields);
}

/* The sizes of the memory backends, from QMP query-memdev. */
static void read_memdev_sizes(void)
{
	char reply[LINE_MAX_LEN];
	const char *p;

	qmp_command(reply, sizeof(reply), "{\"execute\":\"query-memdev\"}");
	for (p = strstr(reply, "\"size\":"); p && nr_memdevs < MAX_MEMDEVS;
	     p = strstr(p + 1, "\"size\":"))
		memdev_bytes[nr_memdevs++] = strtoll(p + 7, NULL, 10);
	if (!nr_memdevs)
		die("no memory backends in %s", reply);
}

static double last_sample_ms;

static void sample(const char *label)
{
	double t = now_ms();

	if (!samples || (!label && t - last_sample_ms < SAMPLE_INTERVAL_MS))
		return;
	last_sample_ms = t;
	fprintf(samples, "%.3f %lld%s%s\n", (t - start_ms) / 1e3,
		guest_ram_anon_huge_kb(), label ? " # " : "", label ? label : "");
	fflush(samples);
}

static long long guest_ram_bytes(void)
{
	char reply[LINE_MAX_LEN];

	qmp_command(reply, sizeof(reply),
		    "{\"execute\":\"query-memory-size-summary\"}");
	return json_number(reply, "base-memory") +
	       (json_number(reply, "plugged-memory") > 0 ?
		json_number(reply, "plugged-memory") : 0);
}

static void do_balloon(char *answer, size_t size, long long mib)
{
	long long target = guest_ram_bytes() - (mib << 20), actual = -1;
	char reply[LINE_MAX_LEN];
	double t0 = now_ms();

	qmp_command(reply, sizeof(reply),
		    "{\"execute\":\"balloon\",\"arguments\":{\"value\":%lld}}",
		    target);
	if (strstr(reply, "\"error\"")) {
		snprintf(answer, size, "err %.2000s", reply);
		return;
	}
	while (now_ms() - t0 < BALLOON_TIMEOUT_MS) {
		qmp_command(reply, sizeof(reply),
			    "{\"execute\":\"query-balloon\"}");
		actual = json_number(reply, "actual");
		if (actual == target) {
			snprintf(answer, size, "ok %.1f", now_ms() - t0);
			return;
		}
		sample(NULL);
		usleep(BALLOON_POLL_US);
	}
	snprintf(answer, size, "err timeout actual=%lld target=%lld",
		 actual, target);
}

/* A count of the host's pool of @page_kb huge pages, -1 if unreadable. */
static long long pool_value(long long page_kb, const char *name)
{
	char path[128];
	long long val = -1;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/kernel/mm/hugepages/hugepages-%lldkB/%s", page_kb, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

static void qmp_connect(const char *path)
{
	char line[LINE_MAX_LEN];

	qmp.fd = connect_unix(path);
	qmp.len = 0;
	if (!read_line(&qmp, line, sizeof(line)))
		die("no QMP greeting on %s", path);
	qmp_command(line, sizeof(line), "{\"execute\":\"qmp_capabilities\"}");
}

static pid_t read_pid_file(const char *path)
{
	int pid = 0, tries;
	FILE *f;

	for (tries = 0; tries < 100 && pid <= 0; tries++) {
		f = fopen(path, "r");
		if (f) {
			if (fscanf(f, "%d", &pid) != 1)
				pid = 0;
			fclose(f);
		}
		if (pid <= 0)
			usleep(100 * 1000);
	}
	return pid;
}

/* How a migration runs: where to, and what the host does meanwhile */
struct migration {
	bool live, postcopy, in_postcopy, snapshot;
	/* Set a random balloon target of up to churn_mib every second */
	long long churn_mib, last_target_mib;
	/* Set the target to inflate_mib once the migration is active */
	long long inflate_mib;
	long long peak_kb, peak_unreleased;
	char last_status[64];
};

/* Bandwidth while the balloon churns, so that it lasts some seconds */
#define CHURN_BANDWIDTH		(32LL << 20)
#define CHURN_INTERVAL_MS	1000
/* How long the device may take to release what a snapshot held back */
#define RELEASE_TIMEOUT_MS	5000

/* Property @prop of the balloon device into @reply; false on an error. */
static bool balloon_qom_get(const char *prop, char *reply, size_t size)
{
	qmp_command(reply, size,
		    "{\"execute\":\"qom-get\",\"arguments\":"
		    "{\"path\":\"/machine/peripheral/balloon0/virtio-backend\","
		    "\"property\":\"%s\"}}", prop);
	return !strstr(reply, "\"error\"");
}

/* A number property of the balloon device, -1 if it has none. */
static long long balloon_qom(const char *prop)
{
	char reply[LINE_MAX_LEN];

	return balloon_qom_get(prop, reply, sizeof(reply)) ?
	       json_number(reply, "return") : -1;
}

/* Make the balloon's target @mib; false when QEMU refuses it. */
static bool set_target(long long mib)
{
	char reply[LINE_MAX_LEN];

	qmp_command(reply, sizeof(reply),
		    "{\"execute\":\"balloon\",\"arguments\":{\"value\":%lld}}",
		    guest_ram_bytes() - (mib << 20));
	return !strstr(reply, "\"error\"");
}

/* Migrate to @uri and wait for the end; returns the migration's status. */
static const char *migrate_and_wait(const char *uri, struct migration *m)
{
	static char status[64];
	char reply[LINE_MAX_LEN];
	double t0 = now_ms(), churned = 0;
	bool switched = false;
	const char *p;

	qmp_command(reply, sizeof(reply),
		    "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"%s\"}}",
		    uri);
	if (strstr(reply, "\"error\""))
		return "refused";
	while (now_ms() - t0 < MIGRATE_TIMEOUT_MS) {
		long long kb = guest_ram_resident_kb(), unreleased;

		if (kb > m->peak_kb)
			m->peak_kb = kb;
		if (m->snapshot) {
			unreleased = balloon_qom("huge-pages-unreleased");
			if (unreleased > m->peak_unreleased)
				m->peak_unreleased = unreleased;
		}
		qmp_command(reply, sizeof(reply),
			    "{\"execute\":\"query-migrate\"}");
		p = strstr(reply, "\"status\": \"");
		if (p && sscanf(p + 11, "%63[^\"]", status) == 1 &&
		    (!strcmp(status, "completed") || !strcmp(status, "failed") ||
		     !strcmp(status, "cancelled")))
			return m->postcopy && !m->in_postcopy &&
			       !strcmp(status, "completed") ?
			       "completed-without-postcopy" : status;
		m->in_postcopy |= !strcmp(status, "postcopy-active");
		if (strcmp(status, m->last_status)) {
			fprintf(stderr, "hb-host: migration %s after %.0f ms\n",
				status, now_ms() - t0);
			snprintf(m->last_status, sizeof(m->last_status), "%s",
				 status);
		}
		if (m->inflate_mib && !m->last_target_mib &&
		    !strcmp(status, "active") && set_target(m->inflate_mib))
			m->last_target_mib = m->inflate_mib;
		if (m->churn_mib && !strcmp(status, "active") &&
		    now_ms() - churned >= CHURN_INTERVAL_MS) {
			churned = now_ms();
			m->last_target_mib = random() % (m->churn_mib + 1);
			set_target(m->last_target_mib);
		}
		/* At once: precopy may otherwise complete first */
		if (m->postcopy && !switched && !strcmp(status, "active")) {
			qmp_command(reply, sizeof(reply),
				    "{\"execute\":\"migrate-start-postcopy\"}");
			switched = true;
		}
		usleep(MIGRATE_POLL_US);
	}
	return "timed-out";
}

static void set_migration_options(const struct migration *m)
{
	char reply[LINE_MAX_LEN];

	if (m->postcopy || m->snapshot)
		qmp_command(reply, sizeof(reply),
			    "{\"execute\":\"migrate-set-capabilities\",\"arguments\":"
			    "{\"capabilities\":[{\"capability\":\"%s\","
			    "\"state\":true}]}}",
			    m->postcopy ? "postcopy-ram" : "background-snapshot");
	if (m->churn_mib || m->snapshot)
		qmp_command(reply, sizeof(reply),
			    "{\"execute\":\"migrate-set-parameters\",\"arguments\":"
			    "{\"max-bandwidth\":%lld}}", CHURN_BANDWIDTH);
}

/*
 * Migrate the VM: to a file, after which the source resumes, or live
 * (precopy, or postcopy after a while) to a second QEMU, which then runs
 * the guest and serves the requests.  @args: "file", "live" or
 * "postcopy", then optionally "churn MIB".
 */
static void do_migrate(char *answer, size_t size, const char *args)
{
	char target[16] = "", what[16] = "", uri[512], path[512];
	char reply[LINE_MAX_LEN];
	struct migration m = { 0 };
	long long before, after, mib = 0;
	double t0, t0_wait, release_ms = -1;
	const char *status;
	pid_t dest_pid = 0;
	struct conn src_qmp, dest_qmp;

	if (sscanf(args, "%15s %15s %lld", target, what, &mib) < 1)
		target[0] = '\0';
	if (!strcmp(what, "churn"))
		m.churn_mib = mib;
	else if (!strcmp(what, "inflate"))
		m.inflate_mib = mib;
	m.postcopy = !strcmp(target, "postcopy");
	m.live = m.postcopy || !strcmp(target, "live");
	m.snapshot = !strcmp(target, "snapshot");
	if (!run_dir || (!m.live && !m.snapshot && strcmp(target, "file"))) {
		snprintf(answer, size, "err migrate file|live|postcopy|snapshot needs hb-host -m");
		return;
	}
	before = m.peak_kb = guest_ram_resident_kb();
	if (m.live) {
		snprintf(path, sizeof(path), "sh '%s/start-dest'", run_dir);
		if (system(path)) {
			snprintf(answer, size, "err %s failed", path);
			return;
		}
		/* The destination listens once its QMP answers */
		src_qmp = qmp;
		snprintf(path, sizeof(path), "%s/dest-qmp.sock", run_dir);
		qmp_connect(path);
		set_migration_options(&m);
		dest_qmp = qmp;
		qmp = src_qmp;
		snprintf(path, sizeof(path), "%s/dest-qemu.pid", run_dir);
		dest_pid = read_pid_file(path);
		if (dest_pid <= 0) {
			snprintf(answer, size, "err no pid in %s", path);
			return;
		}
		snprintf(uri, sizeof(uri), "unix:%s/migration.sock", run_dir);
	} else {
		snprintf(uri, sizeof(uri), "exec:cat > '%s/migration.img'",
			 run_dir);
	}
	set_migration_options(&m);
	t0 = now_ms();
	status = migrate_and_wait(uri, &m);
	if (strcmp(status, "completed")) {
		qmp_command(reply, sizeof(reply),
			    "{\"execute\":\"query-migrate\"}");
		snprintf(answer, size, "err migration %s: %.1000s", status,
			 reply);
		fprintf(stderr, "hb-host: %s\n", answer);
		/* Let the source run on, so that the guest hears of it */
		qmp_command(reply, sizeof(reply), "{\"execute\":\"cont\"}");
		if (m.live) {
			src_qmp = qmp;
			qmp = dest_qmp;
			qmp_command(reply, sizeof(reply),
				    "{\"execute\":\"quit\"}");
			close(qmp.fd);
			qmp = src_qmp;
		}
		return;
	}
	t0 = now_ms() - t0;
	if (m.live) {
		qmp_command(reply, sizeof(reply), "{\"execute\":\"quit\"}");
		close(qmp.fd);
		close(ctl.fd);
		qmp = dest_qmp;
		snprintf(path, sizeof(path), "%s/dest-ctl.sock", run_dir);
		ctl.fd = connect_unix(path);
		ctl.len = 0;
		qemu_pid = dest_pid;
		/*
		 * The source completes once it has sent the device state; the
		 * destination runs the guest once it has loaded it.
		 */
		for (t0_wait = now_ms(); now_ms() - t0_wait < MIGRATE_TIMEOUT_MS;
		     usleep(MIGRATE_POLL_US)) {
			qmp_command(reply, sizeof(reply),
				    "{\"execute\":\"query-status\"}");
			if (strstr(reply, "\"status\": \"running\""))
				break;
		}
	} else {
		snprintf(path, sizeof(path), "%s/migration.img", run_dir);
		unlink(path);
		qmp_command(reply, sizeof(reply), "{\"execute\":\"cont\"}");
	}
	/* The device releases what the snapshot held back on its timer */
	for (t0_wait = now_ms(); m.snapshot &&
	     now_ms() - t0_wait < RELEASE_TIMEOUT_MS; usleep(MIGRATE_POLL_US)) {
		if (balloon_qom("huge-pages-unreleased") <= 0) {
			release_ms = now_ms() - t0_wait;
			break;
		}
	}
	after = guest_ram_resident_kb();
	snprintf(answer, size, "ok %.1f %lld %lld %lld %lld", t0, before,
		 m.peak_kb, after, m.last_target_mib);
	if (m.snapshot)
		snprintf(answer + strlen(answer), size - strlen(answer),
			 " %lld %.0f", m.peak_unreleased, release_ms);
}

/* Take all usable huge pages of @page_kb, the way another tenant would. */
static void take_huge_pages(char *answer, size_t size, long long page_kb)
{
	long long usable = pool_value(page_kb, "free_hugepages") -
			   pool_value(page_kb, "resv_hugepages");
	int shift = __builtin_ctzll(page_kb * 1024);

	if (taken_mem || usable <= 0) {
		snprintf(answer, size, "err %s", taken_mem ? "already taken" :
			 "no usable huge page to take");
		return;
	}
	taken_len = usable * page_kb * 1024;
	taken_mem = mmap(NULL, taken_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
			 MAP_POPULATE | (shift << MAP_HUGE_SHIFT), -1, 0);
	if (taken_mem == MAP_FAILED) {
		taken_mem = NULL;
		snprintf(answer, size, "err mmap %lld huge pages: %s", usable,
			 strerror(errno));
		return;
	}
	snprintf(answer, size, "ok %lld", usable);
}

static void give_huge_pages(char *answer, size_t size)
{
	if (!taken_mem) {
		snprintf(answer, size, "err nothing taken");
		return;
	}
	munmap(taken_mem, taken_len);
	taken_mem = NULL;
	snprintf(answer, size, "ok");
}

/*
 * device_del the balloon and wait until QEMU has removed it: the guest
 * gives its pages back first.
 */
static void unplug_balloon(char *answer, size_t size)
{
	char reply[LINE_MAX_LEN];
	int before = count_events("DEVICE_DELETED");
	double t0 = now_ms();

	qmp_command(reply, sizeof(reply),
		    "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"balloon0\"}}");
	if (strstr(reply, "\"error\"")) {
		snprintf(answer, size, "err %.2000s", reply);
		return;
	}
	while (count_events("DEVICE_DELETED") == before) {
		if (now_ms() - t0 > BALLOON_TIMEOUT_MS) {
			snprintf(answer, size, "err balloon0 not removed");
			return;
		}
		usleep(100 * 1000);
		qmp_command(reply, sizeof(reply),
			    "{\"execute\":\"query-status\"}");
	}
	snprintf(answer, size, "ok %.0f", now_ms() - t0);
}

/* device_add the balloon again, as hb-vm first added it */
static void plug_balloon(char *answer, size_t size)
{
	char reply[LINE_MAX_LEN];

	qmp_command(reply, sizeof(reply),
		    "{\"execute\":\"human-monitor-command\",\"arguments\":"
		    "{\"command-line\":\"device_add %s\"}}", balloon_device);
	/* HMP answers errors as text */
	if (strstr(reply, "\"error\"") || !strstr(reply, "\"return\": \"\""))
		snprintf(answer, size, "err %.2000s", reply);
	else
		snprintf(answer, size, "ok");
}

static bool qemu_said(const char *text)
{
	char line[LINE_MAX_LEN];
	bool found = false;
	FILE *f = fopen(qemu_log_path, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, text);
	fclose(f);
	return found;
}

static void answer_request(const char *req, char *answer, size_t size)
{
	char reply[LINE_MAX_LEN], arg[256] = "";
	long long n;

	if (sscanf(req, "balloon %lld", &n) == 1) {
		do_balloon(answer, size, n);
	} else if (!strcmp(req, "anon-huge")) {
		n = guest_ram_anon_huge_kb();
		if (n < 0)
			snprintf(answer, size, "err no mapping of a memory backend in QEMU's smaps");
		else
			snprintf(answer, size, "ok %lld", n);
	} else if (sscanf(req, "hugepages-usable %lld", &n) == 1) {
		long long free_pages = pool_value(n, "free_hugepages");
		long long resv_pages = pool_value(n, "resv_hugepages");

		if (free_pages < 0 || resv_pages < 0)
			snprintf(answer, size, "err no %lld kB huge page pool", n);
		else
			snprintf(answer, size, "ok %lld", free_pages - resv_pages);
	} else if (sscanf(req, "hugepages-take %lld", &n) == 1) {
		take_huge_pages(answer, size, n);
	} else if (!strcmp(req, "hugepages-give")) {
		give_huge_pages(answer, size);
	} else if (sscanf(req, "balloon-target %lld", &n) == 1) {
		snprintf(answer, size, "%s",
			 set_target(n) ? "ok" : "err balloon refused");
	} else if (!strcmp(req, "balloon-held")) {
		qmp_command(reply, sizeof(reply),
			    "{\"execute\":\"query-balloon\"}");
		snprintf(answer, size, "ok %lld",
			 (guest_ram_bytes() - json_number(reply, "actual")) >> 20);
	} else if (sscanf(req, "qmp-events %255s", arg) == 1) {
		/* Any command: the events sent before its reply are read */
		qmp_command(reply, sizeof(reply),
			    "{\"execute\":\"query-status\"}");
		snprintf(answer, size, "ok %d", count_events(arg));
	} else if (!strcmp(req, "boot")) {
		qmp_command(reply, sizeof(reply),
			    "{\"execute\":\"set-action\",\"arguments\":"
			    "{\"reboot\":\"shutdown\"}}");
		snprintf(answer, size, "ok %d", ++boots);
	} else if (!strcmp(req, "reset") || !strcmp(req, "reset guest")) {
		qmp_command(reply, sizeof(reply),
			    "{\"execute\":\"set-action\",\"arguments\":"
			    "{\"reboot\":\"reset\"}}");
		if (!strcmp(req, "reset"))
			qmp_command(reply, sizeof(reply),
				    "{\"execute\":\"system_reset\"}");
		snprintf(answer, size, "%s", strstr(reply, "\"error\"") ?
			 "err reset refused" : "ok");
	} else if (sscanf(req, "qom-get %255s", arg) == 1) {
		if (!balloon_qom_get(arg, reply, sizeof(reply)))
			snprintf(answer, size, "err %.2000s", reply);
		else
			snprintf(answer, size, "ok %lld",
				 json_number(reply, "return"));
	} else if (!strcmp(req, "balloon-unplug") && balloon_device) {
		unplug_balloon(answer, size);
	} else if (!strcmp(req, "balloon-plug") && balloon_device) {
		plug_balloon(answer, size);
	} else if (!strncmp(req, "qemu-said ", 10) && qemu_log_path) {
		snprintf(answer, size, "ok %d", qemu_said(req + 10));
	} else if (!strncmp(req, "migrate ", 8)) {
		do_migrate(answer, size, req + 8);
	} else if (sscanf(req, "mark %255s", arg) == 1) {
		sample(arg);
		snprintf(answer, size, "ok");
	} else {
		snprintf(answer, size, "err unknown request: %.2000s", req);
	}
}

int main(int argc, char **argv)
{
	char line[LINE_MAX_LEN], answer[LINE_MAX_LEN];
	const char *qmp_path = NULL, *ctl_path = NULL;
	unsigned int seed;
	int opt;

	while ((opt = getopt(argc, argv, "q:c:p:l:s:m:u:")) != -1) {
		switch (opt) {
		case 'u':
			balloon_device = optarg;
			break;
		case 'm':
			run_dir = optarg;
			break;
		case 'q':
			qmp_path = optarg;
			break;
		case 'c':
			ctl_path = optarg;
			break;
		case 'p':
			qemu_pid = atoi(optarg);
			break;
		case 'l':
			qemu_log_path = optarg;
			break;
		case 's':
			samples = fopen(optarg, "w");
			if (!samples)
				die("%s: %s", optarg, strerror(errno));
			break;
		default:
			die(USAGE);
		}
	}
	if (!qmp_path || !ctl_path || qemu_pid <= 0)
		die(USAGE);

	start_ms = now_ms();
	/* Random balloon targets: print the seed, so that a run can be redone */
	seed = getenv("HB_SEED") ? strtoul(getenv("HB_SEED"), NULL, 0) :
				   (unsigned int)time(NULL);
	srandom(seed);
	fprintf(stderr, "hb-host: random seed %u (HB_SEED)\n", seed);
	qmp_connect(qmp_path);
	read_memdev_sizes();
	ctl.fd = connect_unix(ctl_path);

	for (;;) {
		struct pollfd pfd = { .fd = ctl.fd, .events = POLLIN };

		sample(NULL);
		if (!has_line(&ctl) &&
		    poll(&pfd, 1, SAMPLE_INTERVAL_MS) <= 0)
			continue;
		if (!read_line(&ctl, line, sizeof(line)))
			break;
		if (!line[0])
			continue;
		answer_request(line, answer, sizeof(answer) - 1);
		strcat(answer, "\n");
		write_all(ctl.fd, answer);
	}
	if (samples)
		fclose(samples);
	return 0;
}
