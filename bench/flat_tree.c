/* Benchmark driver for bench/stat-cost.sh, on one flat directory:
 *   make N  creates it with N empty files (touch per file is 10x slower);
 *   spread N  creates it with N empty files in subdirectories of 1,000
 *           (the trees of bench/offpath-cleanup.mjs);
 *   plain   the cheapest removal, a floor for native/removal/remove.c: getdents64
 *           and unlinkat per entry;
 *   stat    the same with one statx per entry first (what remove.c spends
 *           to count bytes and to tell a mount point). */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int make(const char *dir, unsigned long n, unsigned long per_dir)
{
	char name[32];
	unsigned long i;
	int top, dfd = -1, fd;

	if (mkdir(dir, 0755) < 0 ||
	    (top = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		perror(dir);
		return 1;
	}
	dfd = per_dir ? -1 : top;
	for (i = 1; i <= n; i++) {
		if (per_dir && (i - 1) % per_dir == 0) {
			snprintf(name, sizeof(name), "d%lu", i / per_dir);
			if (dfd >= 0)
				close(dfd);
			if (mkdirat(top, name, 0755) < 0 ||
			    (dfd = openat(top, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
				perror(name);
				return 1;
			}
		}
		snprintf(name, sizeof(name), "f%lu", i);
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			perror(name);
			return 1;
		}
		close(fd);
	}
	if (dfd >= 0 && dfd != top)
		close(dfd);
	close(top);
	return 0;
}

int main(int argc, char **argv)
{
	static char buf[64 * 1024];
	struct statx sx;
	unsigned long long bytes = 0, n = 0;
	int with_stat, fd;
	ssize_t len, pos;

	if (argc == 4 && !strcmp(argv[2], "make"))
		return make(argv[1], strtoul(argv[3], NULL, 10), 0);
	if (argc == 4 && !strcmp(argv[2], "spread"))
		return make(argv[1], strtoul(argv[3], NULL, 10), 1000);
	if (argc != 3 || (strcmp(argv[2], "stat") && strcmp(argv[2], "plain"))) {
		fprintf(stderr, "usage: %s <dir> make N|spread N|stat|plain\n", argv[0]);
		return 2;
	}
	with_stat = !strcmp(argv[2], "stat");
	fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	while ((len = getdents64(fd, buf, sizeof(buf))) > 0) {
		for (pos = 0; pos < len;) {
			struct dirent64 *de = (struct dirent64 *) (buf + pos);

			pos += de->d_reclen;
			if (de->d_name[0] == '.' && (!de->d_name[1] ||
			    (de->d_name[1] == '.' && !de->d_name[2])))
				continue;
			if (with_stat) {
				if (statx(fd, de->d_name, AT_SYMLINK_NOFOLLOW |
					  AT_NO_AUTOMOUNT, STATX_TYPE |
					  STATX_MODE | STATX_UID | STATX_INO |
					  STATX_SIZE, &sx) < 0) {
					perror(de->d_name);
					return 1;
				}
				bytes += sx.stx_size;
			}
			if (unlinkat(fd, de->d_name, 0) < 0) {
				perror(de->d_name);
				return 1;
			}
			n++;
		}
	}
	if (len < 0) {
		perror("getdents64");
		return 1;
	}
	close(fd);
	if (rmdir(argv[1]) < 0) {
		perror(argv[1]);
		return 1;
	}
	printf("files=%llu bytes=%llu\n", n, bytes);
	return 0;
}
