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
 *   anon-huge             AnonHugePages (KiB) of the QEMU process
 *   hugepages-free KIB    free host huge pages of that size
 *   qom-get PROP          property of the balloon device (id balloon0)
 *   mark LABEL            a label in the sample file (see -s)
 *
 * With -s FILE it also samples AnonHugePages of QEMU every 100 ms, for the
 * demo's plot.  It ends when QEMU closes the sockets.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN		4096
#define SAMPLE_INTERVAL_MS	100
/* A 1 GiB balloon under TCG takes seconds; a stuck one is a failure. */
#define BALLOON_TIMEOUT_MS	(180 * 1000)
#define BALLOON_POLL_US		2000

struct conn {
	int fd;
	char buf[LINE_MAX_LEN];
	size_t len;
};

static struct conn qmp, ctl;
static pid_t qemu_pid;
static FILE *samples;
static double start_ms;

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
	do {
		if (!read_line(&qmp, reply, size))
			die("QMP closed during %s", cmd);
	} while (strstr(reply, "\"event\""));
}

static long long json_number(const char *json, const char *key)
{
	char pattern[64];
	const char *p;

	snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	p = strstr(json, pattern);
	return p ? strtoll(p + strlen(pattern), NULL, 10) : -1;
}

static long long proc_value(const char *path, const char *key)
{
	char line[256];
	long long val = -1;
	size_t klen = strlen(key);
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			val = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return val;
}

static long long qemu_anon_huge_kb(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)qemu_pid);
	return proc_value(path, "AnonHugePages");
}

static double last_sample_ms;

static void sample(const char *label)
{
	double t = now_ms();

	if (!samples || (!label && t - last_sample_ms < SAMPLE_INTERVAL_MS))
		return;
	last_sample_ms = t;
	fprintf(samples, "%.3f %lld%s%s\n", (t - start_ms) / 1e3,
		qemu_anon_huge_kb(), label ? " # " : "", label ? label : "");
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

static void answer_request(const char *req, char *answer, size_t size)
{
	char reply[LINE_MAX_LEN], arg[256] = "";
	long long n;

	if (sscanf(req, "balloon %lld", &n) == 1) {
		do_balloon(answer, size, n);
	} else if (!strcmp(req, "anon-huge")) {
		snprintf(answer, size, "ok %lld", qemu_anon_huge_kb());
	} else if (sscanf(req, "hugepages-free %lld", &n) == 1) {
		char path[128];
		FILE *f;

		snprintf(path, sizeof(path),
			 "/sys/kernel/mm/hugepages/hugepages-%lldkB/free_hugepages",
			 n);
		f = fopen(path, "r");
		if (!f || fscanf(f, "%lld", &n) != 1)
			snprintf(answer, size, "err %s unreadable", path);
		else
			snprintf(answer, size, "ok %lld", n);
		if (f)
			fclose(f);
	} else if (sscanf(req, "qom-get %255s", arg) == 1) {
		qmp_command(reply, sizeof(reply),
			    "{\"execute\":\"qom-get\",\"arguments\":"
			    "{\"path\":\"/machine/peripheral/balloon0/virtio-backend\","
			    "\"property\":\"%s\"}}", arg);
		if (strstr(reply, "\"error\""))
			snprintf(answer, size, "err %.2000s", reply);
		else
			snprintf(answer, size, "ok %lld",
				 json_number(reply, "return"));
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
	int opt;

	while ((opt = getopt(argc, argv, "q:c:p:s:")) != -1) {
		switch (opt) {
		case 'q':
			qmp_path = optarg;
			break;
		case 'c':
			ctl_path = optarg;
			break;
		case 'p':
			qemu_pid = atoi(optarg);
			break;
		case 's':
			samples = fopen(optarg, "w");
			if (!samples)
				die("%s: %s", optarg, strerror(errno));
			break;
		default:
			die("usage: hb-host -q QMP-SOCKET -c CTL-SOCKET -p QEMU-PID [-s SAMPLES]");
		}
	}
	if (!qmp_path || !ctl_path || qemu_pid <= 0)
		die("usage: hb-host -q QMP-SOCKET -c CTL-SOCKET -p QEMU-PID [-s SAMPLES]");

	start_ms = now_ms();
	qmp.fd = connect_unix(qmp_path);
	if (!read_line(&qmp, line, sizeof(line)))
		die("no QMP greeting");
	qmp_command(line, sizeof(line), "{\"execute\":\"qmp_capabilities\"}");
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
