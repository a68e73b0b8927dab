/* Output a step writes under a private mount, linked on the host
 * (output.h). */
#define _GNU_SOURCE
#include "fs/output.h"
#include "fs/walk.h"
#include "util/escape.h"
#include "util/fd.h"
#include "util/threadids.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* One per mount= (the core's MAX_MOUNTS). */
#define KEPT_MAX 32
/* Output files linked in one step: stdout and stderr of each local task,
 * deduplicated; past this, a step's files are logged and left. */
#define LINKED_MAX 256
/* Names tried when the file's own is taken on the host. */
#define SUFFIX_TRIES 4

struct kept {
	int priv_fd;		/* the private directory (host's namespace) */
	int host_fd;		/* the host's mount point */
	dev_t priv_dev;
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

	if (n_kept == KEPT_MAX)
		return 0;
	r = ptd_walk_trusted(mount_point, &k.host_fd, d);
	if (r < 0) {
		ptd_note(d, "output under %s is not kept on the host (%s%s%s)",
			 mount_point, d->text, d->text[0] ? ": " : "",
			 strerror(-r));
		d->text[0] = '\0';
		return 0;
	}
	k.priv_fd = fcntl(priv_fd, F_DUPFD_CLOEXEC, 3);
	k.mount_point = strdup(mount_point);
	k.priv_path = strdup(priv_path);
	if (k.priv_fd < 0 || !k.mount_point || !k.priv_path ||
	    fstat(k.priv_fd, &ps) < 0 || fstat(k.host_fd, &hs) < 0) {
		ptd_note(d, "output under %s is not kept on the host (%s)",
			 mount_point, strerror(errno ? errno : ENOMEM));
		goto fail;
	}
	k.priv_dev = ps.st_dev;
	k.same_fs = ps.st_dev == hs.st_dev;
	kept[n_kept++] = k;
	return 0;
fail:
	ptd_close_fd(&k.priv_fd);
	ptd_close_fd(&k.host_fd);
	free(k.mount_point);
	free(k.priv_path);
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

/* One component below dir, never a symlink, never another mount (a FUSE
 * filesystem on the way is not entered, so it cannot stall the step). */
static int open_beneath(int dir, const char *name)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	int fd = (int) syscall(SYS_openat2, dir, name, &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

/* Whether slurmstepd holds fd for writing (/proc/self/fdinfo). */
static bool open_for_writing(int fd)
{
	char path[64], buf[256];
	unsigned long flags;
	const char *p;
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
	if (!p || sscanf(p + 6, "%lo", &flags) != 1)
		return false;
	return (flags & O_ACCMODE) != O_RDONLY;
}

struct pass {
	uint32_t jobid;
	void (*info)(const char *);
	void (*error)(const char *);
	dev_t dev[LINKED_MAX];
	ino_t ino[LINKED_MAX];
	int n_linked;
};

static void say(struct pass *p, bool bad, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct pass *p, bool bad, const char *fmt, ...)
{
	char raw[3 * PATH_MAX], line[4 * PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* The names are the user's: escaped before they reach the log. */
	ptd_escape(line, sizeof(line), raw);
	(bad ? p->error : p->info)(line);
}

/* Walks rel's directories below src (the private directory) and dst (the
 * host's), making each missing one on the host with the job's mode for it.
 * Returns 0 with *src_dir, *dst_dir open (or the kept ones themselves). */
static int walk_both(const struct kept *k, char *rel, char **name,
		     int *src_dir, int *dst_dir)
{
	char *part = rel, *slash;
	int s = k->priv_fd, t = k->host_fd, ns, nt, r = 0;

	while ((slash = strchr(part, '/'))) {
		struct stat st;

		*slash = '\0';
		ns = open_beneath(s, part);
		if (ns < 0 || fstat(ns, &st) < 0) {
			r = ns < 0 ? ns : -errno;
			goto out;
		}
		if (s != k->priv_fd)
			close(s);
		s = ns;
		if (mkdirat(t, part, st.st_mode & 0777) < 0 && errno != EEXIST) {
			r = -errno;
			goto out;
		}
		nt = open_beneath(t, part);
		if (nt < 0) {
			r = nt;
			goto out;
		}
		if (t != k->host_fd)
			close(t);
		t = nt;
		*slash = '/';
		part = slash + 1;
	}
	*name = part;
	*src_dir = s;
	*dst_dir = t;
	return 0;
out:
	if (slash)
		*slash = '/';
	if (s != k->priv_fd)
		close(s);
	if (t != k->host_fd)
		close(t);
	return r;
}

/* Links name (the inode st) from src_dir into dst_dir: under its own name,
 * or, taken, under "<name>.private-tmpdir.<random>". Returns 0 with the
 * name used in used, or -errno. */
static int link_named(int src_dir, int dst_dir, const char *name,
		      const struct stat *st, char *used, size_t used_len)
{
	struct stat there;
	int i;

	snprintf(used, used_len, "%s", name);
	if (linkat(src_dir, name, dst_dir, name, 0) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	/* An earlier step of the job linked it already (srun -o appending
	 * to the batch step's file). */
	if (fstatat(dst_dir, name, &there, AT_SYMLINK_NOFOLLOW) == 0 &&
	    there.st_dev == st->st_dev && there.st_ino == st->st_ino)
		return 0;
	for (i = 0; i < SUFFIX_TRIES; i++) {
		uint32_t rnd;

		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			return -EIO;
		if ((size_t) snprintf(used, used_len, "%s.private-tmpdir.%08x",
				      name, rnd) >= used_len ||
		    strlen(used) > NAME_MAX)
			return -ENAMETOOLONG;
		if (linkat(src_dir, name, dst_dir, used, 0) == 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

static bool seen(struct pass *p, const struct stat *st)
{
	int i;

	for (i = 0; i < p->n_linked; i++)
		if (p->dev[i] == st->st_dev && p->ino[i] == st->st_ino)
			return true;
	if (p->n_linked < LINKED_MAX) {
		p->dev[p->n_linked] = st->st_dev;
		p->ino[p->n_linked++] = st->st_ino;
	}
	return false;
}

/* fd, a regular file on k's filesystem: linked if it lies under k's mount
 * point in the job. Runs with the user's fsuid and fsgid. */
static void keep_one(struct pass *p, const struct kept *k, int fd,
		     const struct stat *st)
{
	char link[64], path[PATH_MAX], used[NAME_MAX + 1], *rel, *name = NULL;
	size_t n = strlen(k->mount_point);
	int src_dir = -1, dst_dir = -1, r;
	struct stat now;
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, path, sizeof(path) - 1);
	if (len <= 0)
		return;
	path[len] = '\0';
	if (strncmp(path, k->mount_point, n) != 0 || path[n] != '/' ||
	    !path[n + 1])
		return;
	/* A mount point inside this one (mount=/tmp/x under mount=/tmp) has
	 * its own files. */
	for (int j = 0; j < n_kept; j++) {
		size_t m = strlen(kept[j].mount_point);

		if (m > n && strncmp(path, kept[j].mount_point, m) == 0 &&
		    path[m] == '/')
			return;
	}
	if (!open_for_writing(fd) || seen(p, st))
		return;
	if (!k->same_fs) {
		say(p, true, "private-tmpdir: job %u: output %s stays in the job's private %s and goes with it: %s and the host's %s are on different filesystems (a base= on the filesystem of %s keeps it)",
		    p->jobid, path, k->mount_point, k->priv_path,
		    k->mount_point, k->mount_point);
		return;
	}
	rel = path + n + 1;
	r = walk_both(k, rel, &name, &src_dir, &dst_dir);
	if (r < 0) {
		say(p, true, "private-tmpdir: job %u: output %s stays in the job's private %s and goes with it: its directory on the host cannot be had as uid %u (%s)",
		    p->jobid, path, k->mount_point, (unsigned) k->uid,
		    strerror(-r));
		return;
	}
	/* The very file slurmstepd holds, not a name the job put there since. */
	if (fstatat(src_dir, name, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
	    now.st_dev != st->st_dev || now.st_ino != st->st_ino)
		say(p, true, "private-tmpdir: job %u: output %s stays in the job's private %s and goes with it: the job moved it before it could be kept",
		    p->jobid, path, k->mount_point);
	else if ((r = link_named(src_dir, dst_dir, name, st, used,
				 sizeof(used))) < 0)
		say(p, true, "private-tmpdir: job %u: output %s stays in the job's private %s and goes with it: linking it on the host as uid %u: %s",
		    p->jobid, path, k->mount_point, (unsigned) k->uid,
		    strerror(-r));
	else if (strcmp(used, name) != 0)
		say(p, false, "private-tmpdir: job %u: output %s kept on the node as %.*s%s (a file of its name was there)",
		    p->jobid, path, (int) (name - path), path, used);
	else
		say(p, false, "private-tmpdir: job %u: output %s kept on the node at its path",
		    p->jobid, path);
	if (src_dir != k->priv_fd)
		close(src_dir);
	if (dst_dir != k->host_fd)
		close(dst_dir);
}

/* This thread alone takes the user's filesystem ids, without groups: the
 * raw system calls change the caller's credentials only (threadids.h). */
static int become_user_fs(uid_t uid, gid_t gid)
{
	if (syscall(SYS_setgroups, 0, NULL) < 0)
		return -errno;
	(void) syscall(SYS_setfsgid, gid);
	(void) syscall(SYS_setfsuid, uid);
	/* setfs*id say nothing of failure: read them back. */
	if ((uid_t) syscall(SYS_setfsuid, -1) != uid ||
	    (gid_t) syscall(SYS_setfsgid, -1) != gid)
		return -EPERM;
	return 0;
}

static void scan(struct pass *p, const struct kept *k)
{
	struct dirent *de;
	DIR *dir;

	dir = opendir("/proc/self/fd");
	if (!dir) {
		say(p, true, "private-tmpdir: job %u: output under %s is not kept on the host: /proc/self/fd: %s",
		    p->jobid, k->mount_point, strerror(errno));
		return;
	}
	while ((de = readdir(dir))) {
		struct stat st;
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end || end == de->d_name || fd == dirfd(dir))
			continue;
		if (fstat((int) fd, &st) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_dev != k->priv_dev)
			continue;
		keep_one(p, k, (int) fd, &st);
	}
	closedir(dir);
}

void ptd_link_outputs(uint32_t jobid, void (*info)(const char *),
		      void (*error)(const char *))
{
	static struct pass p;
	struct ptd_thread_ids saved;
	int i, r;

	if (n_kept == 0)
		return;
	memset(&p, 0, sizeof(p));
	p.jobid = jobid;
	p.info = info;
	p.error = error;
	r = ptd_thread_become_root(&saved);
	if (r < 0) {
		say(&p, true, "private-tmpdir: job %u: output under a private directory is not kept on the host: %s",
		    jobid, strerror(-r));
		ptd_output_forget();
		return;
	}
	for (i = 0; i < n_kept; i++) {
		r = become_user_fs(kept[i].uid, kept[i].gid);
		if (r == 0)
			scan(&p, &kept[i]);
		else
			say(&p, true, "private-tmpdir: job %u: output under %s is not kept on the host: taking uid %u: %s",
			    jobid, kept[i].mount_point, (unsigned) kept[i].uid,
			    strerror(-r));
		(void) syscall(SYS_setfsuid, 0);
		(void) syscall(SYS_setfsgid, 0);
	}
	ptd_thread_restore(&saved);
	ptd_output_forget();
}
