/* POSIX shared memory as MPI libraries and Python use it (shm_open):
 *   shm-tool create NAME TEXT   make the object, write TEXT into it
 *   shm-tool read NAME          print its text; exit 1 if there is none
 * Built by tests/e2e/memory-scratch.test.ts. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIZE 4096

int main(int argc, char **argv)
{
	struct stat st;
	char *p;
	int fd;

	if (argc == 4 && !strcmp(argv[1], "create")) {
		fd = shm_open(argv[2], O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd < 0 || ftruncate(fd, SIZE) < 0) {
			perror("shm_open/ftruncate");
			return 1;
		}
		p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		snprintf(p, SIZE, "%s", argv[3]);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "read")) {
		fd = shm_open(argv[2], O_RDONLY, 0);
		if (fd < 0)
			return 1;
		/* Not yet written (found between its creator's shm_open and
		 * its write; before the ftruncate a read would be SIGBUS): say
		 * so, the caller retries. */
		if (fstat(fd, &st) < 0 || st.st_size < SIZE)
			return 1;
		p = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		if (!p[0])
			return 1;
		printf("%.*s\n", SIZE, p);
		return 0;
	}
	fprintf(stderr, "usage: shm-tool create NAME TEXT | read NAME\n");
	return 2;
}
