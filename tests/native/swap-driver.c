/* Swap driver for tests/host/create.test.ts: ptd_mkdir_at (native/fs/dirs.c,
 * compiled in as is) with mkdirat interposed, so that right after root makes
 * its temporary directory, that directory is renamed away and another one
 * takes its name, as the owner of the parent directory can do.
 *
 *   swap-driver PARENT NAME UID FOREIGN
 *
 * makes PARENT/NAME owned by UID; FOREIGN is the directory swapped in.
 * Prints "rc=N" and "detail=..." lines. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fs/bind.h"
#include "fs/detail.h"
#include "fs/dirs.h"
#include "fs/walk.h"

static const char *foreign;

int mkdirat(int dirfd, const char *path, mode_t mode)
{
	int r = (int) syscall(SYS_mkdirat, dirfd, path, mode);

	if (r == 0 && foreign && strstr(path, ".new.")) {
		if (renameat(dirfd, path, dirfd, "root-made") < 0 ||
		    renameat(AT_FDCWD, foreign, dirfd, path) < 0) {
			perror("swap");
			exit(2);
		}
		foreign = NULL;
	}
	return r;
}

int main(int argc, char **argv)
{
	struct ptd_detail d = { { 0 }, { 0 } };
	int pfd, fd = -1, r;
	unsigned uid;

	if (argc != 5)
		return 2;
	uid = (unsigned) strtoul(argv[3], NULL, 10);
	foreign = argv[4];
	pfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return 2;
	r = ptd_mkdir_at(pfd, argv[2], 0700, uid, uid, false, false, &fd, &d);
	printf("rc=%d\ndetail=%s\n", r, d.text);
	return 0;
}
