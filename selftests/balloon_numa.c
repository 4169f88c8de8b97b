// SPDX-License-Identifier: GPL-2.0
/*
 * Inflation on a two-node guest with one node under load: memhog, bound
 * to node 0, keeps most of node 0 in use while the balloon inflates
 * INFLATE MiB.  The balloon must reach its target anyway, from node 1,
 * without taking the memory memhog keeps using (memhog must survive).
 * The balloon's pages per node, from <debugfs>/virtio-balloon/<dev>/nodes,
 * are printed; with the host page order negotiated, node 1 must give more
 * host pages than node 0, as inflation spreads over nodes in proportion
 * to their spare memory.
 *
 * Run with -n 2 -o page-order=host.
 *
 * Usage: balloon_numa [INFLATE-MIB HOG-MIB]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/wait.h>

#include "kselftest.h"
#include "hb_lib.h"

#define NUMACTL		"/usr/bin/numactl"
#define DEBUGFS_DIR	"/sys/kernel/debug/virtio-balloon"
#define MAX_NODES	2

struct node_pages {
	long long host_pages, pages_4k, captured, allocated;
};

static long long node_free_kb(int nid)
{
	char path[64], line[256];
	long long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo",
		 nid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Node %*d MemFree: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* The debugfs file of the (one) balloon, or false if there is none. */
static bool nodes_file(char *path, size_t size)
{
	const char *dev = hb_balloon_dev();

	/* The driver names its debugfs directory after the virtio device. */
	if (!dev)
		return false;
	snprintf(path, size, DEBUGFS_DIR "/%s/nodes", strrchr(dev, '/') + 1);
	return !access(path, R_OK);
}

static bool read_nodes(const char *path, struct node_pages *np)
{
	struct node_pages n;
	char line[256];
	bool ok = false;
	FILE *f;
	int nid;

	memset(np, 0, sizeof(*np) * MAX_NODES);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		ksft_print_msg("nodes: %s", line);
		if (sscanf(line, "%d %lld %lld %lld %lld", &nid, &n.host_pages,
			   &n.pages_4k, &n.captured, &n.allocated) != 5 ||
		    nid < 0 || nid >= MAX_NODES)
			continue;
		np[nid] = n;
		ok = true;
	}
	fclose(f);
	return ok;
}

static pid_t start_hog(unsigned long hog_mib)
{
	char size[32];
	pid_t pid;
	int fd;

	snprintf(size, sizeof(size), "%luM", hog_mib);
	pid = fork();
	if (pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	if (!pid) {
		fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(NUMACTL, "numactl", "--membind=0", "memhog", "-r1000000",
		      size, NULL);
		_exit(127);
	}
	return pid;
}

int main(int argc, char **argv)
{
	unsigned long inflate_mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 300;
	unsigned long hog_mib = argc > 2 ? strtoul(argv[2], NULL, 0) : 320;
	bool huge = hb_huge_mode(), have_nodes, reached;
	const char *mode = huge ? "page-order=host" : "stock";
	struct node_pages np[MAX_NODES];
	char path[320];
	int status, nid;
	double ms = 0;
	pid_t hog;

	ksft_print_header();
	if (access("/sys/devices/system/node/node1", F_OK))
		ksft_exit_skip("guest has one NUMA node: run with -n 2\n");
	if (access(NUMACTL, X_OK))
		ksft_exit_skip("no numactl in the guest\n");
	memset(np, 0, sizeof(np));
	have_nodes = nodes_file(path, sizeof(path));
	/* The stock balloon has no host pages, so no per-node counts of them. */
	ksft_set_plan(huge ? 4 : 2);

	hog = start_hog(hog_mib);
	/* Let memhog take its memory on node 0 before the balloon inflates. */
	sleep(5);
	if (waitpid(hog, &status, WNOHANG))
		ksft_exit_fail_msg("memhog did not start (status %#x)\n",
				   status);
	for (nid = 0; nid < MAX_NODES; nid++)
		ksft_print_msg("node %d MemFree %lld kB with memhog %lu MiB on node 0\n",
			       nid, node_free_kb(nid), hog_mib);

	reached = hb_host_balloon(inflate_mib, &ms);
	ksft_test_result(reached,
			 "%s: balloon reaches %lu MiB in %.1f ms with node 0 under load\n",
			 mode, inflate_mib, ms);
	for (nid = 0; nid < MAX_NODES; nid++)
		ksft_print_msg("node %d MemFree %lld kB with the balloon inflated\n",
			       nid, node_free_kb(nid));

	if (huge) {
		ksft_test_result(have_nodes && read_nodes(path, np),
				 "%s: per-node balloon counts readable in %s/<dev>/nodes\n",
				 mode, DEBUGFS_DIR);
		ksft_test_result(np[1].host_pages > np[0].host_pages,
				 "%s: node 1 gives more host pages than the loaded node 0 (%lld > %lld)\n",
				 mode, np[1].host_pages, np[0].host_pages);
	} else if (have_nodes && read_nodes(path, np)) {
		ksft_print_msg("%s: 4 KiB pages by node: %lld on node 0, %lld on node 1\n",
			       mode, np[0].pages_4k, np[1].pages_4k);
	}

	ksft_test_result(!waitpid(hog, &status, WNOHANG),
			 "%s: memhog on node 0 survives the inflation\n", mode);

	if (!hb_host_balloon(0, NULL))
		ksft_print_msg("deflate failed\n");
	kill(hog, SIGKILL);
	waitpid(hog, &status, 0);

	printf("# NUMA mode=%s inflate_mib=%lu hog_mib=%lu ms=%.1f node0_host_pages=%lld node1_host_pages=%lld node0_4k=%lld node1_4k=%lld\n",
	       mode, inflate_mib, hog_mib, ms, np[0].host_pages,
	       np[1].host_pages, np[0].pages_4k, np[1].pages_4k);
	ksft_finished();
}
