/* Benchmark driver: what a namespace holder's end-of-job emptying costs.
 * Forks a child that runs ptd_tmpfs_empty() (native/fs/tmpfs.c) on the tmpfs
 * mounted at <mountpoint> for <uid>'s entries, as the holder does after its
 * 'q', and prints the child's peak RSS, its time, and the inodes in use
 * before and after. Built and run by bench/holder-memory.sh, against this
 * tree's tmpfs.c and an older one's. */
#define _GNU_SOURCE
#include "fs/tmpfs.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long long used_inodes(int fd)
{
	struct statvfs s;

	if (fstatvfs(fd, &s) < 0) {
		perror("fstatvfs");
		exit(2);
	}
	return (unsigned long long) (s.f_files - s.f_ffree);
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	unsigned long long before;
	int fd, status;
	pid_t pid;

	if (argc != 3) {
		fprintf(stderr, "usage: %s <mountpoint> <uid>\n", argv[0]);
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 2;
	}
	before = used_inodes(fd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		ptd_tmpfs_empty(fd, (uid_t) strtoul(argv[2], NULL, 10), NULL);
		_exit(0);
	}
	if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "the emptying child failed\n");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("maxrss_kib=%ld ms=%.1f inodes_before=%llu inodes_after=%llu\n",
	       ru.ru_maxrss,
	       (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6,
	       before, used_inodes(fd));
	close(fd);
	return 0;
}
