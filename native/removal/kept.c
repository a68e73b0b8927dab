/* Kept trees (kept.h). */
#define _GNU_SOURCE
#include "removal/kept.h"
#include "removal/hold.h"
#include "removal/made.h"
#include "fs/walk.h"
#include "ptd_abi.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

time_t ptd_kept_wake;
int ptd_kept_timer_fd = -1;

#define FILE_FLAGS (O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
#define WAITER ".waiter"
/* How long a sweep waits for another to finish with the place. */
#define LOCK_WAIT_MS 5000
/* A record older than this without its tree is an orphan. */
#define ORPHAN_AGE_S 60

/* A line of the sweep: the remover's log when there is one, else the
 * notice of the op. */
static void say_line(struct ptd_detail *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say_line(struct ptd_detail *d, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (ptd_report)
		ptd_report(line);
	else
		ptd_note(d, "%s", line);
}

/* A root-owned regular file of ours, opened as flags; -errno otherwise. */
static int open_root_file(int dir_fd, const char *name, int flags, mode_t mode)
{
	struct stat st;
	int fd = openat(dir_fd, name, flags | FILE_FLAGS, mode);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

int ptd_keep_ask(int dir_fd, const char *name, int mode, struct ptd_detail *d)
{
	char c = mode == PTD_U_KEEP_ALWAYS ? 'a' : 'f';
	int fd = open_root_file(dir_fd, name, O_WRONLY | O_CREAT, 0600), r = 0;

	if (fd < 0) {
		ptd_say(d->text, "%s: cannot leave the request", name);
		return fd;
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, &c, 1, 0) != 1)
		r = errno ? -errno : -EIO;
	close(fd);
	return r;
}

int ptd_keep_asked(int dir_fd, const char *name, struct ptd_detail *d)
{
	int fd = open_root_file(dir_fd, name, O_RDONLY, 0), r = 0;
	char c = 0;

	(void) d;
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	if (pread(fd, &c, 1, 0) == 1)
		r = c == 'a' ? PTD_U_KEEP_ALWAYS : c == 'f' ? PTD_U_KEEP_FAILED : 0;
	close(fd);
	if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return r;
}

/* "2026-12-07 14:05:00 UTC": when a kept tree goes, for people. */
static void utc(time_t t, char *buf, size_t n)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, n, "@%lld", (long long) t);
}

/* The record of a kept tree: ".<name>", made (or found stale and made
 * anew) root's, 0644, its mtime now (when it was kept), holding when it
 * goes: "<expires>" (seconds since the epoch), to which the sweep adds
 * " <uid> <bytes> <files>" once it has measured the tree. */
static int make_record(int kept_fd, const char *name, time_t expires)
{
	char rec[NAME_MAX + 2], buf[32];
	int fd, n, r = 0;

	if ((size_t) snprintf(rec, sizeof(rec), ".%s", name) >= sizeof(rec))
		return -ENAMETOOLONG;
	fd = open_root_file(kept_fd, rec, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fd;
	n = snprintf(buf, sizeof(buf), "%lld\n", (long long) expires);
	if (pwrite(fd, buf, (size_t) n, 0) != n || futimens(fd, NULL) < 0)
		r = errno ? -errno : -EIO;
	close(fd);
	return r;
}

static void drop_record(int kept_fd, const char *name)
{
	char rec[NAME_MAX + 2];

	if ((size_t) snprintf(rec, sizeof(rec), ".%s", name) < sizeof(rec))
		(void) unlinkat(kept_fd, rec, 0);
}

/* One job directory: 1 kept, 0 not ours to keep (left to the removal). */
static int keep_one(int kept_fd, int parent_fd, const char *name, uid_t uid,
		    time_t expires, struct ptd_detail *d)
{
	struct stat st;
	int fd, r;

	fd = openat(parent_fd, name, PTD_DIR_FLAGS);
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP || errno == ENOTDIR ? 0 : -errno;
	if (fstat(fd, &st) < 0 || st.st_uid != uid) {
		close(fd);
		return 0;
	}
	r = make_record(kept_fd, name, expires);
	if (r < 0) {
		ptd_say(d->text, "%s: cannot record its keep time", name);
		close(fd);
		return r;
	}
	if (renameat2(parent_fd, name, kept_fd, name, RENAME_NOREPLACE) < 0) {
		r = -errno;
		drop_record(kept_fd, name);
		ptd_say(d->text, "%s: cannot move it into the kept place", name);
		close(fd);
		return r;
	}
	/* What moved must be the directory checked (its owner could have
	 * swapped the name meanwhile): anything else goes back, for the
	 * removal. */
	{
		struct stat now;

		if (fstatat(kept_fd, name, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
		    now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
			(void) renameat2(kept_fd, name, parent_fd, name,
					 RENAME_NOREPLACE);
			drop_record(kept_fd, name);
			close(fd);
			return 0;
		}
	}
	/* Its user's alone, whatever the job made of its mode. */
	if (fchmod(fd, 0700) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	close(fd);
	return 1;
}

int ptd_keep_at(int kept_fd, int parent_fd, const char *prefix,
		const char *kept_path, uid_t uid, int ttl,
		struct ptd_detail *d)
{
	struct dirent *de;
	int first = 0, kept = 0;
	char until[64];
	time_t expires;
	uint32_t n;
	DIR *dir;

	dir = ptd_hold_list(parent_fd);
	if (!dir)
		return -errno;
	expires = time(NULL) + ttl;
	utc(expires, until, sizeof(until));
	while ((errno = 0, de = readdir(dir))) {
		int r;

		if (!ptd_match_decimal(de->d_name, prefix, &n))
			continue;
		r = keep_one(kept_fd, parent_fd, de->d_name, uid, expires, d);
		if (r > 0) {
			kept++;
			ptd_note(d, "kept %s/%s for its user until %s", kept_path,
				 de->d_name, until);
		} else if (r < 0 && !first) {
			first = r;
		}
	}
	closedir(dir);
	return first ? first : kept;
}

/* What the sweep knows of one kept tree. */
struct tree {
	char name[NAME_MAX + 1];
	time_t expires;
	uint64_t bytes;
};

/* Reads the record of name: when it goes, and its measure if the sweep
 * wrote one (*measured). -ENOENT: none. */
static int read_record(int kept_fd, const char *name, time_t *ret_expires, uint64_t *ret_bytes,
		       bool *measured)
{
	char rec[NAME_MAX + 2], buf[128];
	unsigned long long bytes, files;
	long long expires;
	unsigned uid;
	struct stat st;
	ssize_t n;
	int fd, k;

	*measured = false;
	if ((size_t) snprintf(rec, sizeof(rec), ".%s", name) >= sizeof(rec))
		return -ENAMETOOLONG;
	fd = open_root_file(kept_fd, rec, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -errno;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (n <= 0)
		return -EINVAL;
	buf[n] = '\0';
	k = sscanf(buf, "%lld %u %llu %llu", &expires, &uid, &bytes, &files);
	if (k < 1)
		return -EINVAL;
	/* The time written at the keep, by the keep= then in force: a
	 * waiter started under another line must not cut a tree short. */
	*ret_expires = (time_t) expires;
	if (k == 4) {
		*ret_bytes = bytes;
		*measured = true;
	}
	return 0;
}

/* Writes the measure into the record, its mtime (the keep time) kept. */
static int write_record(int kept_fd, const char *name,
			const struct ptd_look *l)
{
	char rec[NAME_MAX + 2], buf[160], old[32];
	struct stat st;
	long long expires;
	int fd, n, r = 0;
	ssize_t k;

	if ((size_t) snprintf(rec, sizeof(rec), ".%s", name) >= sizeof(rec))
		return -ENAMETOOLONG;
	fd = open_root_file(kept_fd, rec, O_RDWR, 0);
	if (fd < 0)
		return fd;
	k = pread(fd, old, sizeof(old) - 1, 0);
	if (fstat(fd, &st) < 0 || k <= 0) {
		close(fd);
		return -EIO;
	}
	old[k] = '\0';
	if (sscanf(old, "%lld", &expires) != 1) {
		close(fd);
		return -EINVAL;
	}
	{
		struct timespec t[2] = { st.st_atim, st.st_mtim };

		n = snprintf(buf, sizeof(buf), "%lld %u %llu %llu\n", expires,
			     (unsigned) l->uid, (unsigned long long) l->bytes,
			     (unsigned long long) l->files);
		if (pwrite(fd, buf, (size_t) n, 0) != n || futimens(fd, t) < 0)
			r = errno ? -errno : -EIO;
	}
	close(fd);
	return r;
}

/* Into the holding place, the record gone with it; why for the line. */
static void let_go(int kept_fd, int hold_fd, const char *path,
		   const char *name, uid_t uid, const char *why,
		   struct ptd_detail *d)
{
	struct ptd_detail scratch = { { 0 }, { 0 } };
	int r = ptd_hold_put(kept_fd, name, hold_fd, uid, &scratch);

	if (r < 0) {
		say_line(d, "private-tmpdir: kept %s/%s (%s) cannot be removed: %s",
			 path, name, why, strerror(-r));
		return;
	}
	drop_record(kept_fd, name);
	say_line(d, "private-tmpdir: kept %s/%s removed: %s", path, name, why);
}

static int by_age(const void *a, const void *b)
{
	const struct tree *x = a, *y = b;

	return x->expires < y->expires ? -1 : x->expires > y->expires;
}

/* The place's lock, waited for a little: a sweep that cannot have it
 * leaves the place to the one at work. */
static bool lock_place(int kept_fd)
{
	int i;

	for (i = 0; i < LOCK_WAIT_MS / 50; i++) {
		struct timespec ts = { 0, 50 * 1000000L };

		if (flock(kept_fd, LOCK_EX | LOCK_NB) == 0)
			return true;
		if (errno != EWOULDBLOCK)
			return false;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* Becomes the place's waiter if none is (kept.h). */
static void take_waiter(int kept_fd)
{
	int fd;

	if (ptd_kept_timer_fd >= 0)
		return;
	fd = open_root_file(kept_fd, WAITER, O_RDWR | O_CREAT, 0600);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return;
	}
	ptd_kept_timer_fd = fd;
}

/* One entry of the place: a tree kept, measured, or let go. */
static void sweep_one(int kept_fd, int hold_fd, const char *path,
		      const char *name, time_t now,
		      struct tree **trees, size_t *n, size_t *cap,
		      struct ptd_detail *d)
{
	struct ptd_look l = { 0 };
	bool measured;
	uint64_t bytes = 0;
	struct stat st;
	time_t expires = 0;
	int fd, r;

	if (fstatat(kept_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		/* Nothing but root makes names here: never ours to keep. */
		(void) unlinkat(kept_fd, name, 0);
		return;
	}
	if (read_record(kept_fd, name, &expires, &bytes, &measured) < 0) {
		let_go(kept_fd, hold_fd, path, name, st.st_uid,
		       "no record of when it was kept", d);
		return;
	}
	if (now >= expires) {
		let_go(kept_fd, hold_fd, path, name, st.st_uid, "its time is up",
		       d);
		return;
	}
	if (!measured) {
		fd = openat(kept_fd, name, PTD_DIR_FLAGS);
		if (fd < 0)
			return;
		l.uid = st.st_uid;
		l.dev = st.st_dev;
		r = ptd_look_through(fd, &l, 0);
		close(fd);
		if (r == -EXDEV || r == -EPERM || r == -E2BIG) {
			char why[96];

			if (r == -EPERM)
				snprintf(why, sizeof(why), "it holds a file of uid %u",
					 (unsigned) l.foreign);
			else
				snprintf(why, sizeof(why), "%s", r == -EXDEV ?
					 "a mount is left inside" :
					 "too deep to look through");
			let_go(kept_fd, hold_fd, path, name, st.st_uid, why, d);
			return;
		}
		if (r < 0 || write_record(kept_fd, name, &l) < 0)
			return;
		bytes = l.bytes;
	}
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct tree *t = realloc(*trees, c * sizeof(**trees));

		if (!t)
			return;
		*trees = t;
		*cap = c;
	}
	snprintf((*trees)[*n].name, sizeof((*trees)[*n].name), "%s", name);
	(*trees)[*n].expires = expires;
	(*trees)[*n].bytes = bytes;
	(*n)++;
}

/* Records whose tree is gone (a crash between the two, or a tree the
 * removal took). */
static void drop_orphan_record(int kept_fd, const char *name)
{
	struct stat st;

	if (!strcmp(name, WAITER))
		return;
	/* A record just made waits for its tree's rename (keep_one). */
	if (fstatat(kept_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    st.st_mtim.tv_sec + ORPHAN_AGE_S > time(NULL))
		return;
	if (fstatat(kept_fd, name + 1, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
	    errno == ENOENT)
		(void) unlinkat(kept_fd, name, 0);
}

int ptd_kept_sweep(int kept_fd, int hold_fd, const char *path, int ttl,
		   uint32_t max, bool share, struct ptd_detail *d)
{
	struct tree *trees = NULL;
	size_t n = 0, cap = 0, i;
	uint64_t total = 0, budget;
	struct statvfs vfs;
	struct dirent *de;
	time_t now = time(NULL);
	DIR *dir;

	if (ttl <= 0)
		return -EINVAL;
	if (!lock_place(kept_fd))
		return 0;
	dir = ptd_hold_list(kept_fd);
	if (!dir) {
		int e = errno;

		(void) flock(kept_fd, LOCK_UN);
		return -e;
	}
	while ((errno = 0, de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_name[0] == '.')
			drop_orphan_record(kept_fd, de->d_name);
		else
			sweep_one(kept_fd, hold_fd, path, de->d_name, now,
				  &trees, &n, &cap, d);
	}
	closedir(dir);
	budget = (uint64_t) max << 20;
	if (share) {
		budget = 0;
		if (fstatvfs(kept_fd, &vfs) == 0)
			budget = (uint64_t) vfs.f_blocks * vfs.f_frsize / 100 * max;
	}
	qsort(trees, n, sizeof(*trees), by_age);
	for (i = 0; i < n; i++)
		total += trees[i].bytes;
	/* Over the budget, the oldest go first: the newest failure is the
	 * one its user is looking at. */
	for (i = 0; i < n && total > budget; i++) {
		struct stat st;

		if (fstatat(kept_fd, trees[i].name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		let_go(kept_fd, hold_fd, path, trees[i].name, st.st_uid,
		       "the kept place is over its budget (keep_max=)", d);
		total -= trees[i].bytes;
	}
	if (i < n)
		take_waiter(kept_fd);
	for (; i < n; i++) {
		time_t due = trees[i].expires;

		if (!ptd_kept_wake || due < ptd_kept_wake)
			ptd_kept_wake = due;
	}
	free(trees);
	(void) flock(kept_fd, LOCK_UN);
	return 0;
}
