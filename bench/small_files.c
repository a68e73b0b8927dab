/* bench/small_files.c - makes DIR and N files of one byte each in it
 * ("f<i>"), then syncfs() on DIR's filesystem so that they are on the
 * disk: the small-files load of bench/local-disk.sh (parts 2 and 3).
 * Usage: small_files DIR N [nosync]. Exits non-zero at the first error
 * (ENOSPC, EDQUOT, out of inodes) with what failed on stderr. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char name[32];
	long n;
	int dir;

	if (argc < 3 || argc > 4 || (n = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: %s DIR N [nosync]\n", argv[0]);
		return 2;
	}
	if (mkdir(argv[1], 0755) < 0 && errno != EEXIST) {
		perror(argv[1]);
		return 1;
	}
	dir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0) {
		perror(argv[1]);
		return 1;
	}
	for (long i = 0; i < n; i++) {
		int fd;

		snprintf(name, sizeof(name), "f%ld", i);
		fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, "x", 1) != 1) {
			fprintf(stderr, "%s/%s: %s\n", argv[1], name, strerror(errno));
			return 1;
		}
		close(fd);
	}
	if (argc == 3 && syncfs(dir) < 0) {
		perror("syncfs");
		return 1;
	}
	close(dir);
	return 0;
}
