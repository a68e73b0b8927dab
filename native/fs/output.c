/* Output a step writes under a private mount, linked on the host
 * (output.h). */
#define _GNU_SOURCE
#include "fs/output.h"
#include "fs/walk.h"
#include "util/escape.h"
#include "util/fd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* One per mount= (the core's MAX_MOUNTS). */
#define KEPT_MAX 32
/* Output files one step can keep: stdout and stderr of each local task,
 * one entry per file; past this, a file is said to stay in the job. */
#define CANDIDATES_MAX 512
/* Names tried when the file's own is taken on the host. */
#define SUFFIX_TRIES 4
/* How long the linking child may take before it is killed: it only walks
 * this filesystem, but slurmstepd's tasks wait to exec meanwhile. */
#define CHILD_BUDGET_MS 10000

struct kept {
	int priv_fd;		/* the private directory (host's namespace) */
	int host_fd;		/* the host's mount point */
	bool same_fs;		/* a link from one to the other can work */
	uid_t uid;
	gid_t gid;
	char *mount_point;
	char *priv_path;
};

static struct kept kept[KEPT_MAX];
static int n_kept;

int ptd_keep_output(int priv_fd, const char *mount_point,
		    const char *priv_path, uid_t uid, gid_t gid,
		    struct ptd_detail *d)
{
	struct kept k = { .priv_fd = -1, .host_fd = -1, .uid = uid, .gid = gid };
	struct stat ps, hs;
	int r;

	if (n_kept == KEPT_MAX) {
		ptd_note(d, "output under %s is not kept on the host (more than %d mount points)",
			 mount_point, KEPT_MAX);
		return 0;
	}
	r = ptd_walk_trusted(mount_point, &k.host_fd, d);
	if (r < 0) {
		ptd_note(d, "output under %s is not kept on the host (%s%s%s)",
			 mount_point, d->text, d->text[0] ? ": " : "",
			 strerror(-r));
		d->text[0] = '\0';
		return 0;
	}
	errno = 0;
	k.priv_fd = fcntl(priv_fd, F_DUPFD_CLOEXEC, 3);
	k.mount_point = strdup(mount_point);
	k.priv_path = strdup(priv_path);
	if (k.priv_fd < 0 || !k.mount_point || !k.priv_path ||
	    fstat(k.priv_fd, &ps) < 0 || fstat(k.host_fd, &hs) < 0) {
		ptd_note(d, "output under %s is not kept on the host (%s)",
			 mount_point, strerror(errno ? errno : ENOMEM));
		ptd_close_fd(&k.priv_fd);
		ptd_close_fd(&k.host_fd);
		free(k.mount_point);
		free(k.priv_path);
		return 0;
	}
	k.same_fs = ps.st_dev == hs.st_dev;
	kept[n_kept++] = k;
	return 0;
}

void ptd_output_forget(void)
{
	int i;

	for (i = 0; i < n_kept; i++) {
		ptd_close_fd(&kept[i].priv_fd);
		ptd_close_fd(&kept[i].host_fd);
		free(kept[i].mount_point);
		free(kept[i].priv_path);
	}
	n_kept = 0;
}

/* A file to keep: slurmstepd's descriptor, its path in the job, the
 * kept mount point it lies under. */
struct candidate {
	int fd;
	int k;
	dev_t dev;
	ino_t ino;
	char *path;
};

/* What the slurmstepd fdinfo says of fd: its open flags and mount id. */
static bool fd_info(int fd, unsigned long *flags, int *mnt_id)
{
	char path[64], buf[512];
	const char *p, *q;
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return false;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strstr(buf, "flags:");
	q = strstr(buf, "mnt_id:");
	return p && q && sscanf(p + 6, "%lo", flags) == 1 &&
	       sscanf(q + 7, "%d", mnt_id) == 1;
}

/* The mount id of path as this process (in the job's namespace) sees it:
 * the private bind on the mount point. Cached attributes only. */
static int mount_id_of(const char *path)
{
	struct statx sx;

	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT |
		  AT_STATX_DONT_SYNC, STATX_MNT_ID, &sx) < 0 ||
	    !(sx.stx_mask & STATX_MNT_ID))
		return -1;
	return (int) sx.stx_mnt_id;
}

/* The kept mount point path lies under, the longest (mount=/tmp/x under
 * mount=/tmp has its own files), or -1. */
static int kept_for(const char *path)
{
	size_t best = 0;
	int k = -1, i;

	for (i = 0; i < n_kept; i++) {
		size_t m = strlen(kept[i].mount_point);

		if (m > best && strncmp(path, kept[i].mount_point, m) == 0 &&
		    path[m] == '/' && path[m + 1]) {
			best = m;
			k = i;
		}
	}
	return k;
}

/* slurmstepd's output files under a kept mount point, found without
 * asking any file's filesystem (output on NFS or a hung server is never
 * waited for): each descriptor's mount id from cached attributes (statx,
 * AT_STATX_DONT_SYNC), which must be a kept mount point's bind in the job,
 * not a file slurmstepd holds from the host's namespace such as its log;
 * only then /proc's word on its path and flags: under that mount point,
 * open for writing, a regular file of the job's user. */
static void consider(int fd, struct candidate *c, int *n, int max,
		     const int *mnt_ids)
{
	char link[64], path[PATH_MAX];
	unsigned long flags;
	struct statx sx;
	int k, mnt, i;
	ssize_t len;

	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC,
		  STATX_TYPE | STATX_UID | STATX_INO | STATX_MNT_ID, &sx) < 0 ||
	    !S_ISREG(sx.stx_mode) || !(sx.stx_mask & STATX_MNT_ID))
		return;
	for (k = 0; k < n_kept; k++)
		if (mnt_ids[k] >= 0 && (int) sx.stx_mnt_id == mnt_ids[k])
			break;
	if (k == n_kept || sx.stx_uid != kept[k].uid)
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, path, sizeof(path) - 1);
	if (len <= 0)
		return;
	path[len] = '\0';
	if (kept_for(path) != k || !fd_info(fd, &flags, &mnt) ||
	    mnt != mnt_ids[k] || (flags & O_ACCMODE) == O_RDONLY)
		return;
	for (i = 0; i < *n; i++)
		if (c[i].ino == sx.stx_ino &&
		    c[i].dev == makedev(sx.stx_dev_major, sx.stx_dev_minor))
			return;
	if (*n == max || !(c[*n].path = strdup(path)))
		return;
	c[*n].fd = fd;
	c[*n].k = k;
	c[*n].dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	c[*n].ino = sx.stx_ino;
	(*n)++;
}

static int find_candidates(struct candidate *c, int max, const int *mnt_ids)
{
	/* getdents64 into the stack: opendir's 32 KiB buffer would cost
	 * slurmstepd fresh heap pages in every step. */
	char ents[4096];
	int n = 0, dir;
	long got;

	dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	while ((got = syscall(SYS_getdents64, dir, ents, sizeof(ents))) > 0) {
		for (long off = 0; off < got;) {
			struct dirent64 *de = (struct dirent64 *) (ents + off);
			char *end;
			long fd = strtol(de->d_name, &end, 10);

			off += de->d_reclen;
			if (!*end && end != de->d_name && fd != dir)
				consider((int) fd, c, &n, max, mnt_ids);
		}
	}
	if (got < 0 && n == 0)
		n = -errno;
	close(dir);
	return n;
}

/* In the child: one line to the parent, its level first (D, I, E). */
void ptd_child_say(int out, char level, const char *fmt, ...)
{
	char raw[3 * PATH_MAX], line[4 * PATH_MAX + 2];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* The names are the user's: escaped before they reach the log. */
	line[0] = level;
	n = 1 + ptd_escape(line + 1, sizeof(line) - 2, raw);
	line[n++] = '\n';
	(void) !write(out, line, n);
}

/* One component below dir, never a symlink, never another mount: a FUSE
 * filesystem on the way is never entered, so it cannot stall the step. */
static int open_beneath(int dir, const char *name, int flags)
{
	struct open_how how = {
		.flags = (unsigned) (flags | O_PATH | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	int fd = (int) syscall(SYS_openat2, dir, name, &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

/* Whether dir/name is the file (dev, ino): asked through openat2, so a
 * mount on the name (another user's FUSE) is refused, never asked. */
static bool is_file(int dir, const char *name, dev_t dev, ino_t ino)
{
	struct stat st;
	int fd = open_beneath(dir, name, 0);
	bool same;

	if (fd < 0)
		return false;
	same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == dev &&
	       st.st_ino == ino;
	close(fd);
	return same;
}

/* The private side first, all of it: rel's directories below the private
 * directory, and the file there the very one slurmstepd holds. Only then
 * the host's side, each missing directory made with the job's mode for
 * it. Returns 0 with *src_dir, *dst_dir open (or the kept ones). */
static int walk_both(const struct kept *k, const struct candidate *c,
		     char *rel, char **name, int *src_dir, int *dst_dir,
		     const char **why)
{
	char *part, *slash;
	int s = k->priv_fd, t = k->host_fd, fd, r = 0;

	for (part = rel; (slash = strchr(part, '/')); part = slash + 1) {
		*slash = '\0';
		fd = open_beneath(s, part, O_DIRECTORY);
		*slash = '/';
		if (fd < 0) {
			r = fd;
			*why = "the job moved its directory";
			goto out;
		}
		if (s != k->priv_fd)
			close(s);
		s = fd;
	}
	*name = part;
	if (!is_file(s, part, c->dev, c->ino)) {
		r = -ENOENT;
		*why = "the job moved it before it could be kept";
		goto out;
	}
	for (part = rel; (slash = strchr(part, '/')); part = slash + 1) {
		struct stat st;
		int sd;

		*slash = '\0';
		sd = open_beneath(k->priv_fd, rel, O_DIRECTORY);
		if (sd >= 0 && fstat(sd, &st) == 0 &&
		    mkdirat(t, part, st.st_mode & 0777) < 0 && errno != EEXIST)
			r = -errno;
		if (sd >= 0)
			close(sd);
		fd = r < 0 ? r : open_beneath(t, part, O_DIRECTORY);
		*slash = '/';
		if (fd < 0) {
			r = fd;
			*why = "its directory on the node cannot be had as the user";
			goto out;
		}
		if (t != k->host_fd)
			close(t);
		t = fd;
	}
	*src_dir = s;
	*dst_dir = t;
	return 0;
out:
	if (s != k->priv_fd)
		close(s);
	if (t != k->host_fd)
		close(t);
	return r;
}

/* A random suffix, never blocking (the pool may not be ready at boot). */
static uint32_t suffix(void)
{
	uint32_t rnd;
	struct timespec ts;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) == sizeof(rnd))
		return rnd;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t) ts.tv_nsec ^ (uint32_t) getpid();
}

/* Links name (the file c) from src_dir into dst_dir: under its own name,
 * or, taken, under "<name>.private-tmpdir.<random>". Returns 0 with the
 * name used in used, or -errno. */
static int link_named(int src_dir, int dst_dir, const char *name,
		      const struct candidate *c, char *used, size_t used_len)
{
	int i;

	snprintf(used, used_len, "%s", name);
	if (linkat(src_dir, name, dst_dir, name, 0) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	/* An earlier step of the job linked it already (srun -o appending
	 * to the batch step's file). */
	if (is_file(dst_dir, name, c->dev, c->ino))
		return 0;
	for (i = 0; i < SUFFIX_TRIES; i++) {
		if ((size_t) snprintf(used, used_len, "%s.private-tmpdir.%08x",
				      name, suffix()) >= used_len ||
		    strlen(used) > NAME_MAX)
			return -ENAMETOOLONG;
		if (linkat(src_dir, name, dst_dir, used, 0) == 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

static void keep_one(int out, uint32_t jobid, const struct candidate *c)
{
	const struct kept *k = &kept[c->k];
	char path[PATH_MAX], used[NAME_MAX + 1], *name = NULL;
	const char *why = "";
	int src_dir = -1, dst_dir = -1, r;

	if (!k->same_fs) {
		ptd_child_say(out, 'E', "private-tmpdir: job %u: output %s stays in the job's private %s and goes with it: %s and the node's %s are on different filesystems (a base= on the filesystem of %s keeps it)",
			      jobid, c->path, k->mount_point, k->priv_path,
			      k->mount_point, k->mount_point);
		return;
	}
	snprintf(path, sizeof(path), "%s", c->path);
	r = walk_both(k, c, path + strlen(k->mount_point) + 1, &name,
		      &src_dir, &dst_dir, &why);
	if (r < 0) {
		ptd_child_say(out, 'E', "private-tmpdir: job %u: output %s stays in the job's private %s and goes with it: %s (%s)",
			      jobid, c->path, k->mount_point, why, strerror(-r));
		return;
	}
	r = link_named(src_dir, dst_dir, name, c, used, sizeof(used));
	if (r < 0)
		ptd_child_say(out, 'E', "private-tmpdir: job %u: output %s stays in the job's private %s and goes with it: linking it on the node as uid %u: %s",
			      jobid, c->path, k->mount_point, (unsigned) k->uid,
			      strerror(-r));
	else if (strcmp(used, name) != 0)
		ptd_child_say(out, 'I', "private-tmpdir: job %u: output %s kept on the node as %.*s%s (a file of its name was there)",
			      jobid, c->path, (int) (name - path), path, used);
	else
		ptd_child_say(out, 'D', "private-tmpdir: job %u: output %s kept on the node at its path",
			      jobid, c->path);
	if (src_dir != k->priv_fd)
		close(src_dir);
	if (dst_dir != k->host_fd)
		close(dst_dir);
}

/* The child: the job's user entirely (raw system calls: its credentials
 * alone, which no slurmstepd thread's set*id reaches), no capability left,
 * so it can put a name only where the user could. */
static void child(int out, uint32_t jobid, const gid_t *groups, int n_groups,
		  const struct candidate *c, int n)
{
	uid_t uid = kept[c[0].k].uid;
	gid_t gid = kept[c[0].k].gid;
	int i;

	if (syscall(SYS_setgroups, (size_t) n_groups, groups) < 0 ||
	    syscall(SYS_setresgid, gid, gid, gid) < 0 ||
	    syscall(SYS_setresuid, uid, uid, uid) < 0 || geteuid() != uid ||
	    getegid() != gid) {
		ptd_child_say(out, 'E', "private-tmpdir: job %u: output under a private directory is not kept on the node: taking uid %u: %s",
			      jobid, (unsigned) uid, strerror(errno ? errno : EPERM));
		return;
	}
	for (i = 0; i < n; i++)
		keep_one(out, jobid, &c[i]);
}

void ptd_child_relay(int in, pid_t pid, int budget_ms, const char *what,
		     const struct ptd_output_log *log)
{
	char buf[8192], *line, *nl;
	size_t have = 0;
	int left = budget_ms;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = in, .events = POLLIN };
		ssize_t n;
		int r = poll(&p, 1, left);

		if (r < 0 && errno == EINTR)
			r = 1;
		if (r == 0) {
			kill(pid, SIGKILL);
			snprintf(buf, sizeof(buf), "private-tmpdir: %s took over %d ms: stopped",
				 what, budget_ms);
			log->error(buf);
			break;
		}
		n = read(in, buf + have, sizeof(buf) - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t) n;
		buf[have] = '\0';
		for (line = buf; (nl = strchr(line, '\n')); line = nl + 1) {
			*nl = '\0';
			if (line[0] == 'E')
				log->error(line + 1);
			else if (line[0] == 'I')
				log->info(line + 1);
			else
				log->debug(line + 1);
		}
		have = strlen(line);
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1)
			have = 0;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = budget_ms - (int) ((t1.tv_sec - t0.tv_sec) * 1000 +
					  (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (left < 0)
			left = 0;
	}
	/* Gone or going (ECHILD when slurmstepd reaped it). */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

void ptd_link_outputs(uint32_t jobid, const gid_t *groups, int n_groups,
		      const struct ptd_output_log *log)
{
	static struct candidate c[CANDIDATES_MAX];
	int mnt_ids[KEPT_MAX], fds[2], n, i;
	char line[256];
	pid_t pid;

	if (n_kept == 0)
		return;
	for (i = 0; i < n_kept; i++)
		mnt_ids[i] = mount_id_of(kept[i].mount_point);
	n = find_candidates(c, CANDIDATES_MAX, mnt_ids);
	if (n <= 0) {
		if (n < 0) {
			snprintf(line, sizeof(line), "private-tmpdir: job %u: output under a private directory is not kept on the node: /proc/self/fd: %s",
				 jobid, strerror(-n));
			log->error(line);
		}
		ptd_output_forget();
		return;
	}
	/* A child of its own, only when there is output to keep: most steps
	 * have none and pay only the look at /proc. */
	if (pipe2(fds, O_CLOEXEC) < 0) {
		fds[0] = fds[1] = -1;
		pid = -1;
	} else {
		pid = fork();
	}
	if (pid < 0) {
		snprintf(line, sizeof(line), "private-tmpdir: job %u: output under a private directory is not kept on the node: %s",
			 jobid, strerror(errno));
		log->error(line);
		ptd_close_fd(&fds[0]);
		ptd_close_fd(&fds[1]);
		goto out;
	}
	if (pid == 0) {
		close(fds[0]);
		child(fds[1], jobid, groups, n_groups, c, n);
		_exit(0);
	}
	close(fds[1]);
	snprintf(line, sizeof(line), "job %u: keeping the step's output on the node",
		 jobid);
	ptd_child_relay(fds[0], pid, CHILD_BUDGET_MS, line, log);
	close(fds[0]);
out:
	for (i = 0; i < n; i++)
		free(c[i].path);
	ptd_output_forget();
}
