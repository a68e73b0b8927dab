/* Drives native/util/threadids.c for tests/host/threadids.test.ts, as slurmstepd
 * would: a second thread switches the process's effective ids to a user
 * with glibc (every thread's), the main thread becomes root alone, works,
 * and gives its ids back. Prints each thread's ids at each point.
 * Usage: threadids-driver <uid> <gid> [switch-back|drop]
 * With switch-back the other thread sets the process's ids back to root
 * while the main thread is root: that waits until the main thread has
 * given its ids back, then applies to it too. With drop the process stays
 * root until then, and the other thread switches it to the user while the
 * main thread is root: the main thread stays root for its work all the
 * same. */
#define _GNU_SOURCE
#include "util/threadids.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uid_t user;
static gid_t group;
static pthread_barrier_t step;
static int switch_back, drop;
static atomic_int switched;

static void show(const char *who)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	syscall(SYS_getresuid, &r, &e, &s);
	syscall(SYS_getresgid, &rg, &eg, &sg);
	printf("%s euid=%u egid=%u groups=%ld\n", who, (unsigned) e,
	       (unsigned) eg, syscall(SYS_getgroups, 0, NULL));
	fflush(stdout);
}

/* Whether this thread can open a root-only (0700) directory. */
static int opens(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static void *other(void *arg)
{
	(void) arg;
	/* glibc's: applied to every thread. */
	if (!drop && (setegid(group) < 0 || seteuid(user) < 0)) {
		perror("seteuid");
		exit(1);
	}
	pthread_barrier_wait(&step);	/* 1: switched */
	pthread_barrier_wait(&step);	/* 2: main is root */
	show("other-while-main-root");
	/* As slurmstepd's X11 shutdown: glibc's, every thread's, while
	 * the main thread is root. */
	if (switch_back && (seteuid(0) < 0 || setegid(0) < 0)) {
		perror("seteuid back");
		exit(1);
	}
	if (drop && (setegid(group) < 0 || seteuid(user) < 0)) {
		perror("seteuid");
		exit(1);
	}
	switched = 1;
	pthread_barrier_wait(&step);	/* 3: main restored, both switched */
	show("other-after");
	return NULL;
}

int main(int argc, char **argv)
{
	struct timespec ts = { 0, 200000000L };
	struct ptd_thread_ids saved;
	char dir[] = "/var/tmp/ptd-threadids.XXXXXX";
	pthread_t t;
	int r;

	if (argc < 3)
		return 2;
	user = (uid_t) atoi(argv[1]);
	group = (gid_t) atoi(argv[2]);
	switch_back = argc > 3 && !strcmp(argv[3], "switch-back");
	drop = argc > 3 && !strcmp(argv[3], "drop");
	if (!mkdtemp(dir))
		return 1;
	pthread_barrier_init(&step, NULL, 2);
	pthread_create(&t, NULL, other, NULL);
	pthread_barrier_wait(&step);	/* 1 */
	show("main-before");
	/* A root-only directory, as the extern step's end opens. */
	printf("open-before=%d\n", opens(dir));
	r = ptd_thread_become_root(&saved);
	printf("become_root=%d\n", r);
	show("main-root");
	printf("open-root=%d\n", opens(dir));
	pthread_barrier_wait(&step);	/* 2 */
	/* Time for the other thread's set*id, if any, to land here (its
	 * signal cuts a sleep short: the rest is slept too). */
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	printf("switched-while-root=%d\n", (int) switched);
	show("main-root-later");
	printf("open-root-later=%d\n", opens(dir));
	ptd_thread_restore(&saved);
	pthread_barrier_wait(&step);	/* 3 */
	show("main-after");
	pthread_join(t, NULL);
	/* Whatever ids this thread ended with. */
	(void) syscall(SYS_setresuid, 0, 0, 0);
	return rmdir(dir) < 0;
}
