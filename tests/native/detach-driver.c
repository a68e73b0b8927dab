/* Drives native/removal/detach.c for tests/host/detach.test.ts: joins the cgroup
 * directory given, detaches a child, and reports where each one is.
 * Usage: detach-driver <cgroup dir to start in> <report file> */
#define _GNU_SOURCE
#include "removal/detach.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void dump(FILE *out, const char *who)
{
	char line[1024], adj[16] = "?";
	FILE *f = fopen("/proc/self/oom_score_adj", "re");

	if (f && fgets(adj, sizeof(adj), f))
		adj[strcspn(adj, "\n")] = '\0';
	if (f)
		fclose(f);
	f = fopen("/proc/self/cgroup", "re");
	fprintf(out, "%s pid=%d sid=%d pgrp=%d\n", who, (int) getpid(),
		(int) getsid(0), (int) getpgrp());
	fprintf(out, "%s oom_score_adj=%s\n", who, adj);
	while (f && fgets(line, sizeof(line), f))
		fprintf(out, "%s cgroup %s", who, line);
	if (f)
		fclose(f);
}

static int same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	       a.st_rdev == b.st_rdev && a.st_ino == b.st_ino;
}

static void child(void *arg)
{
	const char *report = arg;
	char part[4096];
	FILE *out;

	snprintf(part, sizeof(part), "%s.part", report);
	out = fopen(part, "we");
	if (!out)
		return;
	dump(out, "child");
	fprintf(out, "child stdin-is-devnull=%d\n", same_file(0, "/dev/null"));
	fclose(out);
	rename(part, report);
}

int main(int argc, char **argv)
{
	char path[4096];
	int fd, r;

	if (argc != 3)
		return 2;
	snprintf(path, sizeof(path), "%s/cgroup.procs", argv[1]);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, "0\n", 2) != 2) {
		perror(path);
		return 1;
	}
	close(fd);
	/* Not 0, as slurmstepd runs (-1000): its forks would inherit it.
	 * Raised here, not lowered: lowering needs CAP_SYS_RESOURCE, which
	 * root lacks in some containers. */
	fd = open("/proc/self/oom_score_adj", O_WRONLY);
	if (fd < 0 || write(fd, "500", 3) != 3) {
		perror("oom_score_adj");
		return 1;
	}
	close(fd);
	dump(stdout, "parent");
	r = ptd_detach(child, argv[2], -1);
	printf("rc=%d\n", r);
	return r < 0;
}
