/* Drives the holder (native/ns/election.c, holder.c) and native/ns/nsjoin.c for
 * tests/host/nsholder.test.ts. Run only inside a throwaway mount namespace
 * (unshare -m --propagation private): the holder it starts binds there.
 * Every command prints key=value lines on stdout.
 *   start DIR NAME SRC TARGET [BARRIER]  as a step: this process makes the
 *                                        namespace, binding SRC on TARGET
 *                                        (SRC "FAIL": setup fails; "STALL:MS":
 *                                        setup blocks MS ms), and hands it
 *                                        to a holder; waits for BARRIER to
 *                                        exist first
 *   start-extern DIR NAME SRC TARGET     as the extern step: a holder makes
 *                                        it, this process waits for it
 *   join DIR NAME CHECK [mt|wait FILE]   join; CHECK is a file only the
 *                                        bind shows; mt: with 3 more
 *                                        threads, first a bare setns;
 *                                        wait: stay until FILE exists
 *   peer DIR NAME                        the listener's pid
 *   release DIR NAME
 *   stale DIR NAME                       a bound socket nobody listens on
 *   fake DIR NAME UID                    a listener that drops to UID
 *                                        before listen(); serves one 'J'
 *   asuser UID SOCKPATH CMD              as UID: connect, send CMD, what
 *                                        came back */
#define _GNU_SOURCE
#include "ns/connect.h"
#include "ns/dir.h"
#include "ns/fdpass.h"
#include "ns/nsholder.h"
#include "ns/nsjoin.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned long ns_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (unsigned long) st.st_ino : 0;
}

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

struct bind_arg {
	const char *src, *target;
};

/* The plugin's bind step, reduced: SRC opened without following a
 * symlink, bound through its descriptor. */
static int setup_bind(void *arg, struct ptd_detail *d)
{
	struct bind_arg *b = arg;
	char path[64];
	int fd, r;

	if (!strcmp(b->src, "FAIL")) {
		ptd_say(d->text, "test setup refuses on purpose");
		return -EACCES;
	}
	/* A setup stalled as on a hung mount: blocked, not busy. */
	if (!strncmp(b->src, "STALL:", 6)) {
		(void) poll(NULL, 0, atoi(b->src + 6));
		return 0;
	}
	fd = open(b->src, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		ptd_say(d->text, "open \"%s\"", b->src);
		return r;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = mount(path, b->target, NULL, MS_BIND, NULL) < 0 ? -errno : 0;
	if (r < 0)
		ptd_say(d->text, "bind on \"%s\"", b->target);
	close(fd);
	return r;
}

static void say_result(int r, const struct ptd_detail *d)
{
	printf("rc=%d\nreason=%s\nnotice=%s\n", r, r < 0 ? d->text : "",
	       d->notice);
}

static int cmd_start(char **argv, int argc, bool hand_off)
{
	struct ptd_detail d = { { 0 }, { 0 } };
	struct bind_arg b = { argv[4], argv[5] };
	bool started = false;
	int r;

	if (argc > 6) {
		/* A barrier file, not a delay: every starter is ready and
		 * waiting when the test creates it. */
		char ready[4096];
		int fd;

		snprintf(ready, sizeof(ready), "%s.ready.%d", argv[6],
			 (int) getpid());
		fd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return 1;
		close(fd);
		while (!exists(argv[6]))
			(void) poll(NULL, 0, 1);
	}
	r = ptd_ns_start(argv[2], argv[3], setup_bind, &b, hand_off, &started,
			 &d);
	say_result(r, &d);
	printf("started=%d\n", started);
	/* Where this process is now: a step that made the namespace is in
	 * it. */
	{
		char ns[64];
		ssize_t n = readlink("/proc/self/ns/mnt", ns, sizeof(ns) - 1);

		if (n > 0) {
			ns[n] = '\0';
			printf("own_ns=%s\n", ns);
		}
	}
	return r < 0;
}

static int pipe_fds[2];

static void *idle_thread(void *arg)
{
	char c;

	(void) arg;
	/* Blocks until main closes the pipe: these threads share main's
	 * filesystem attributes (CLONE_FS) all along. */
	while (read(pipe_fds[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/* Every other thread's own mount namespace (/proc/self/ns/mnt is the
 * thread-group leader's only). */
static void other_threads(void)
{
	struct dirent *de;
	pid_t self = (pid_t) syscall(SYS_gettid);
	DIR *dir = opendir("/proc/self/task");

	while (dir && (de = readdir(dir))) {
		char path[128];
		int tid = atoi(de->d_name);

		if (tid <= 0 || tid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%d/ns/mnt", tid);
		printf("other_thread_ns=%lu\n", ns_of(path));
	}
	if (dir)
		closedir(dir);
}

/* A child forked after the join: where the step's tasks would be. */
static int child_view(const char *check)
{
	int st;
	pid_t c = fork();

	if (c == 0) {
		printf("child_ns=%lu\nchild_seen=%d\n",
		       ns_of("/proc/self/ns/mnt"), exists(check));
		fflush(stdout);
		_exit(0);
	}
	if (c < 0 || waitpid(c, &st, 0) < 0)
		return -1;
	return 0;
}

static int cmd_join(char **argv, int mt, const char *wait_for)
{
	struct ptd_detail d = { { 0 }, { 0 } };
	struct stat before, after;
	pthread_t th[3];
	char cwd[4096];
	int i, r, ns_fd = -1;

	printf("ns_before=%lu\n", ns_of("/proc/thread-self/ns/mnt"));
	if (stat(".", &before) < 0)
		return 1;
	if (mt) {
		if (pipe(pipe_fds) < 0)
			return 1;
		for (i = 0; i < 3; i++)
			if (pthread_create(&th[i], NULL, idle_thread, NULL))
				return 1;
		r = ptd_ns_fetch(argv[2], argv[3], 5000, &ns_fd, &d);
		if (r < 0) {
			say_result(r, &d);
			return 1;
		}
		/* What the kernel does to a bare setns here. */
		r = setns(ns_fd, CLONE_NEWNS);
		printf("bare_setns=%s\n",
		       r < 0 ? strerrorname_np(errno) : "ok");
		r = ptd_ns_enter(ns_fd, &d);
		close(ns_fd);
	} else {
		r = ptd_ns_join(argv[2], argv[3], 5000, &d);
	}
	say_result(r, &d);
	printf("ns=%lu\n", ns_of("/proc/thread-self/ns/mnt"));
	printf("seen=%d\n", exists(argv[4]));
	printf("cwd=%s\n", getcwd(cwd, sizeof(cwd)) ? cwd : "(none)");
	printf("same_cwd=%d\n", stat(".", &after) == 0 &&
	       after.st_dev == before.st_dev && after.st_ino == before.st_ino);
	if (wait_for) {
		/* A member of the job's namespace that stays: says so by a
		 * file, and waits for the test's barrier file. */
		char joined[4096];
		FILE *f;

		snprintf(joined, sizeof(joined), "%s.joined", wait_for);
		f = fopen(joined, "we");
		if (!f)
			return 1;
		fprintf(f, "%d\n", (int) getpid());
		fclose(f);
		while (!exists(wait_for))
			(void) poll(NULL, 0, 1);
	}
	if (mt) {
		other_threads();
		if (child_view(argv[4]) < 0)
			return 1;
		close(pipe_fds[1]);
		for (i = 0; i < 3; i++)
			pthread_join(th[i], NULL);
	}
	return r < 0;
}

static int open_dir(const char *dir, const char *name, int *ret_fd)
{
	struct ptd_detail d = { { 0 }, { 0 } };
	int r = ptd_ns_open_dir(dir, name, ret_fd, &d);

	if (r < 0)
		say_result(r, &d);
	return r;
}

static int cmd_peer(char **argv)
{
	struct ptd_detail d = { { 0 }, { 0 } };
	struct ucred peer;
	int dir_fd, conn, r;

	if (open_dir(argv[2], argv[3], &dir_fd) < 0)
		return 1;
	r = ptd_ns_connect(dir_fd, argv[3], 5000, &conn, &peer, &d);
	say_result(r, &d);
	if (r == 0) {
		printf("pid=%d\nuid=%u\n", (int) peer.pid, (unsigned) peer.uid);
		close(conn);
	}
	close(dir_fd);
	return r < 0;
}

static int cmd_release(char **argv)
{
	struct ptd_detail d = { { 0 }, { 0 } };
	int r = ptd_ns_release(argv[2], argv[3], 5000, &d);

	say_result(r, &d);
	return r < 0;
}

/* A socket bound at NAME.sock and never listened on: what a killed
 * holder's looks like to connect() (ECONNREFUSED). */
static int bound_socket(const char *dir, const char *name,
			struct sockaddr_un *addr, int *ret_dir_fd)
{
	struct ptd_detail d = { { 0 }, { 0 } };
	int fd;

	if (open_dir(dir, name, ret_dir_fd) < 0)
		return -1;
	if (ptd_ns_sockaddr(*ret_dir_fd, name, ".sock", addr, &d) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *) addr, sizeof(*addr)) < 0) {
		perror("bind");
		return -1;
	}
	return fd;
}

static int cmd_stale(char **argv)
{
	struct sockaddr_un addr;
	int dir_fd, fd = bound_socket(argv[2], argv[3], &addr, &dir_fd);

	printf("rc=%d\n", fd < 0 ? -1 : 0);
	return fd < 0;
}

/* Root binds in the root-only directory, then drops to uid before
 * listen(): the listener's credentials (what SO_PEERCRED reports) are
 * that uid's. Serves one connection with its own namespace, as a holder
 * would, and exits. */
static int cmd_fake(char **argv)
{
	struct sockaddr_un addr;
	uid_t uid = (uid_t) atoi(argv[4]);
	int dir_fd, conn, ns_fd, fd;
	char c;

	fd = bound_socket(argv[2], argv[3], &addr, &dir_fd);
	ns_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ns_fd < 0 || setresgid(uid, uid, uid) < 0 ||
	    setresuid(uid, uid, uid) < 0 || listen(fd, 8) < 0) {
		perror("fake");
		return 1;
	}
	printf("ready=1\n");
	conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return 1;
	if (recv(conn, &c, 1, 0) == 1) {
		printf("fake_got=%c\n", c);
		/* 'J' alone, as a holder of 0.1.0 answers. */
		(void) ptd_fd_send(conn, ns_fd, "J", 1);
	} else {
		printf("fake_got=nothing\n");
	}
	return 0;
}

/* As uid: connects by path (the test loosened the directory) and asks for
 * the namespace, as a user who found the socket would. */
static int cmd_asuser(char **argv)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	uid_t uid = (uid_t) atoi(argv[2]);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	ssize_t n;
	int fd;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", argv[3]);
	if (setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
		return 1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0) {
		printf("connect=%s\n", strerrorname_np(errno));
		return 1;
	}
	printf("connect=ok\n");
	n = send(fd, argv[4], 1, MSG_NOSIGNAL);
	printf("sent=%zd\n", n);
	n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	/* EOF, or ECONNRESET: the holder closed without reading. */
	printf("recv=%s\n", n < 0 ? strerrorname_np(errno) : n ? "data" : "eof");
	printf("got_fd=%d\n", n > 0 && CMSG_FIRSTHDR(&msg) &&
	       CMSG_FIRSTHDR(&msg)->cmsg_type == SCM_RIGHTS);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 6 && !strcmp(argv[1], "start"))
		return cmd_start(argv, argc, true);
	if (argc == 6 && !strcmp(argv[1], "start-extern"))
		return cmd_start(argv, argc, false);
	if (argc >= 5 && !strcmp(argv[1], "join"))
		return cmd_join(argv, argc > 5 && !strcmp(argv[5], "mt"),
				argc > 6 && !strcmp(argv[5], "wait") ?
				argv[6] : NULL);
	if (argc == 4 && !strcmp(argv[1], "peer"))
		return cmd_peer(argv);
	if (argc == 4 && !strcmp(argv[1], "release"))
		return cmd_release(argv);
	if (argc == 4 && !strcmp(argv[1], "stale"))
		return cmd_stale(argv);
	if (argc == 5 && !strcmp(argv[1], "fake"))
		return cmd_fake(argv);
	if (argc == 5 && !strcmp(argv[1], "asuser"))
		return cmd_asuser(argv);
	return 2;
}
