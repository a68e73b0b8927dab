/* Benchmark driver: removes <parent>/<name> with ptd_remove_tree() and
 * prints what it removed. Built and run by bench/cleanup.sh. */
#define _GNU_SOURCE
#include "../native/removal/remove.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct ptd_remove_stats st;
	char detail[256];
	int fd, r;

	if (argc != 3) {
		fprintf(stderr, "usage: %s <parent> <name>\n", argv[0]);
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 2;
	}
	r = ptd_remove_tree(fd, argv[2], geteuid(), &st, detail,
			    sizeof(detail));
	close(fd);
	printf("files=%llu dirs=%llu bytes=%llu skipped=%llu\n",
	       (unsigned long long) st.files, (unsigned long long) st.dirs,
	       (unsigned long long) st.bytes,
	       (unsigned long long) st.skipped);
	if (r < 0) {
		fprintf(stderr, "%s: %s (%s)\n", argv[2], strerror(-r),
			detail);
		return 1;
	}
	return 0;
}
