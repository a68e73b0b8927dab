/* The holding place (hold.h): taking job directories in by one rename, and
 * emptying it off the job's path. Names are matched exactly, never by
 * pattern: "<name>.<jobid>.<decimal>" and nothing else is a job's. */
#define _GNU_SOURCE
#include "removal/hold.h"
#include "util/clock.h"
#include "util/escape.h"
#include "removal/made.h"
#include "util/messages.h"
#include "util/fd.h"
#include "ptd_abi.h"
#include "fs/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

bool ptd_defer_removal;
void (*ptd_report)(const char *line);
bool (*ptd_job_ended)(uint32_t jobid, const struct timespec *made);
const char *ptd_report_where;
int (*ptd_continue)(int hold_fd, const char *hold_path, int budget);
int ptd_drain_budget_ms = -1;
void (*ptd_drain_settle)(void);
int ptd_drain_linger_ms;
char *ptd_usage_paths;

/* What earlier passes removed of a held directory, kept on it so the job's
 * one line counts the whole tree. trusted.*: only root reads or writes it. */
#define PASSES_XATTR "trusted.private-tmpdir.removed"

/* A directory younger than this is never asked about: it is its job's,
 * just made. A crash's leftovers are older than that by far. Tests lower
 * it. */
int ptd_sweep_min_age = 10;



static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void report(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!ptd_report)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ptd_report(line);
}

/* A decimal u32 without leading zeros at s; *ret_end after it. */
static bool parse_u32(const char *s, const char **ret_end, uint32_t *ret_n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i == 10)
			return false;
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	if (i == 0 || (i > 1 && s[0] == '0') || v > UINT32_MAX)
		return false;
	*ret_end = s + i;
	*ret_n = (uint32_t) v;
	return true;
}

bool ptd_match_decimal(const char *name, const char *prefix, uint32_t *ret_n)
{
	size_t n = strlen(prefix);
	const char *end;

	if (strncmp(name, prefix, n))
		return false;
	return parse_u32(name + n, &end, ret_n) && *end == '\0';
}

/* "<prefix><jobid>.<restart>": a job directory of this base. */
static bool match_job_dir(const char *name, const char *prefix,
			  uint32_t *ret_jobid)
{
	size_t n = strlen(prefix);
	const char *end;
	uint32_t restart;

	if (strncmp(name, prefix, n) ||
	    !parse_u32(name + n, &end, ret_jobid) || *end != '.')
		return false;
	return parse_u32(end + 1, &end, &restart) && *end == '\0';
}

/* A held name, "<name>.<jobid>.<restart>.<uid>.<16 hex>", read from the
 * right (the base name may hold dots). */
static bool parse_held(const char *name, uint32_t *ret_jobid,
		       uint32_t *ret_uid)
{
	const char *p[4], *end;
	size_t len = strlen(name), i, k = 0;
	uint32_t restart;

	if (len < 17 || name[len - 17] != '.')
		return false;
	for (i = len - 16; i < len; i++)
		if (!strchr("0123456789abcdef", name[i]))
			return false;
	/* The dots before uid, restart and jobid. */
	for (i = len - 17; i-- > 0 && k < 3;)
		if (name[i] == '.')
			p[k++] = name + i + 1;
	if (k < 3)
		return false;
	p[3] = NULL;
	if (!parse_u32(p[0], &end, ret_uid) || end != name + len - 17)
		return false;
	if (!parse_u32(p[1], &end, &restart) || end != p[0] - 1)
		return false;
	return parse_u32(p[2], &end, ret_jobid) && end == p[1] - 1;
}

static int rename_in(int parent_fd, const char *name, int hold_fd, uid_t uid,
		     const struct stat *stp, char *ret_held,
		     struct ptd_detail *d);

/*
 * Renames parent_fd/name, a directory owned by uid that the plugin made for
 * that name (made.h), into hold_fd under a random name nobody can predict
 * (nobody else can create there anyway). What arrives must be the very
 * directory checked: an owner swapping the entry between the check and the
 * rename gets back whatever it swapped in.
 */
static int move_in(int parent_fd, const char *name, int hold_fd, uid_t uid,
		   char *ret_held, struct ptd_detail *d)
{
	struct stat st;
	int fd, r;

	if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode)) {
		ptd_say(d->text, "%s: %s", name, S_ISLNK(st.st_mode) ?
			"is a symlink" : "is not a directory");
		return -ENOTDIR;
	}
	if (st.st_uid != uid) {
		ptd_say(d->text, "%s: owned by uid %u", name,
			(unsigned) st.st_uid);
		return -EPERM;
	}
	fd = openat(parent_fd, name, PTD_DIR_FLAGS);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = st.st_uid == uid && S_ISDIR(st.st_mode) ?
		ptd_made_here(fd, name, uid, d) : -EAGAIN;
	close(fd);
	if (r < 0)
		return r;
	return rename_in(parent_fd, name, hold_fd, uid, &st, ret_held, d);
}

/* The rename of move_in, once parent_fd/name (st) is known to be ours. */
static int rename_in(int parent_fd, const char *name, int hold_fd, uid_t uid,
		     const struct stat *stp, char *ret_held,
		     struct ptd_detail *d)
{
	unsigned long long rnd;
	struct stat st = *stp, st2;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	if (snprintf(ret_held, NAME_MAX + 1, "%s.%u.%016llx", name,
		     (unsigned) uid, rnd) > NAME_MAX)
		return -ENAMETOOLONG;
	/* One rename: from here no user can reach the tree by path (the
	 * holding place is root's, 0700). EBUSY: a mount point, left. */
	if (renameat2(parent_fd, name, hold_fd, ret_held, RENAME_NOREPLACE) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstatat(hold_fd, ret_held, &st2, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st2.st_mode) && st2.st_dev == st.st_dev &&
	    st2.st_ino == st.st_ino)
		return 1;
	/* Swapped meanwhile: a symlink or file is unlinked (never followed),
	 * anything else goes back where it was. */
	if (unlinkat(hold_fd, ret_held, 0) == 0)
		return 0;
	(void) renameat2(hold_fd, ret_held, parent_fd, name, RENAME_NOREPLACE);
	ptd_say(d->text, "\"%s\" changed while being taken in", name);
	return -EAGAIN;
}

int ptd_hold_put(int parent_fd, const char *name, int hold_fd, uid_t uid,
		 struct ptd_detail *d)
{
	char held[NAME_MAX + 1];
	struct stat st;

	if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != uid)
		return -EPERM;
	return rename_in(parent_fd, name, hold_fd, uid, &st, held, d);
}

static void add_stats(struct ptd_remove_stats *to,
		      const struct ptd_remove_stats *s)
{
	to->bytes += s->bytes;
	to->files += s->files;
	to->dirs += s->dirs;
	to->skipped += s->skipped;
}

DIR *ptd_hold_list(int dir_fd)
{
	int fd = openat(dir_fd, ".", PTD_DIR_FLAGS);
	DIR *dir;

	if (fd < 0)
		return NULL;
	dir = fdopendir(fd);
	if (!dir)
		close(fd);
	return dir;
}

static bool is_dot(const char *n)
{
	return n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2]));
}

/*
 * Removes a directory just taken in, at once (no remover: the CLI, the
 * addon). What cannot go (a mount point inside) is put back where it was,
 * so it stays in place as it always did. The reason names the job's
 * directory, never the held name.
 */
static int remove_held(int parent_fd, const char *name, int hold_fd,
		       const char *held, uid_t uid, struct ptd_remove_stats *s,
		       char *why, size_t why_size)
{
	char detail[PTD_DETAIL_MAX];
	size_t n = strlen(held);
	int r;

	r = ptd_remove_tree(hold_fd, held, uid, s, detail, sizeof(detail));
	if (r == 0)
		return 0;
	(void) renameat2(hold_fd, held, parent_fd, name, RENAME_NOREPLACE);
	if (!strncmp(detail, held, n))
		snprintf(why, why_size, "%s%s", name, detail + n);
	else
		snprintf(why, why_size, "%s", detail);
	return r;
}

/* A remover holds the holding place's lock from its start (before its
 * settle) until it has seen it empty after releasing it (ptd_hold_drain):
 * what was moved in while it is held is that remover's. */
static bool remover_at_work(int hold_fd)
{
	if (flock(hold_fd, LOCK_EX | LOCK_NB) == 0) {
		(void) flock(hold_fd, LOCK_UN);
		return false;
	}
	return errno == EWOULDBLOCK;
}

int ptd_hold_take(int parent_fd, int hold_fd, const char *prefix, uid_t uid,
		  bool defer, struct ptd_remove_stats *stats,
		  struct ptd_detail *d)
{
	char held[NAME_MAX + 1], why[PTD_DETAIL_MAX];
	struct ptd_remove_stats s;
	struct dirent *de;
	uint64_t deferred = 0;
	uint32_t n;
	int r, first = 0;
	DIR *dir;

	dir = ptd_hold_list(parent_fd);
	if (!dir)
		return -errno;
	while ((errno = 0, de = readdir(dir))) {
		struct ptd_detail scratch = { { 0 }, { 0 } };

		if (!ptd_match_decimal(de->d_name, prefix, &n))
			continue;
		memset(&s, 0, sizeof(s));
		why[0] = '\0';
		if (!defer) {
			r = ptd_remove_tree(parent_fd, de->d_name, uid, &s, why,
					    sizeof(why));
		} else {
			r = move_in(parent_fd, de->d_name, hold_fd, uid, held,
				    &scratch);
			snprintf(why, sizeof(why), "%s", scratch.text);
			if (r > 0 && ptd_defer_removal) {
				deferred++;
				r = 0;
			} else if (r > 0) {
				r = remove_held(parent_fd, de->d_name, hold_fd, held,
						uid, &s, why, sizeof(why));
			}
		}
		add_stats(stats, &s);
		if (r < 0 && !first) {
			first = r;
			snprintf(d->text, sizeof(d->text), "%s", why);
		}
	}
	r = errno ? -errno : 0;
	closedir(dir);
	/* Asked after the renames: a remover that held the lock then has not
	 * yet released it, and lists the place again after it does. */
	stats->deferred += deferred;
	if (deferred && remover_at_work(hold_fd))
		stats->covered += deferred;
	return first ? first : r;
}

/* Takes in the directories of jobs known to have ended. Everything that
 * costs nothing comes before the question (the name, one fstatat: planted
 * files, symlinks, FIFOs and root's entries stop there), and the pass
 * stops at the deadline: thousands of planted names cost a listing and as
 * many fstatat, never the holding place's budget. */
static void sweep_in(int hold_fd, int parent_fd, const char *prefix,
		     long long deadline, uint64_t *ret_taken, uint64_t *ret_left,
		     char *why, size_t why_size)
{
	char held[NAME_MAX + 1];
	struct ptd_detail d = { { 0 }, { 0 } };
	struct timespec now;
	struct dirent *de;
	struct stat st;
	uint32_t jobid;
	unsigned k = 0;
	DIR *dir;
	int r;

	if (!ptd_job_ended || clock_gettime(CLOCK_REALTIME, &now) < 0)
		return;
	dir = ptd_hold_list(parent_fd);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		if (++k % 1024 == 0 && ptd_now_ns() > deadline)
			break;
		if (!match_job_dir(de->d_name, prefix, &jobid))
			continue;
		/* Root's is no job directory of ours to remove as root. */
		if (fstatat(parent_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode) || st.st_uid == 0 ||
		    now.tv_sec - st.st_ctim.tv_sec < ptd_sweep_min_age ||
		    !ptd_job_ended(jobid, &st.st_ctim))
			continue;
		d.text[0] = '\0';
		r = move_in(parent_fd, de->d_name, hold_fd, st.st_uid, held, &d);
		if (r > 0) {
			(*ret_taken)++;
		} else if (r < 0) {
			if (!*ret_left)
				snprintf(why, why_size, "%s", d.text[0] ? d.text :
					 strerror(-r));
			(*ret_left)++;
		}
	}
	closedir(dir);
}

/* The counts and nanoseconds earlier passes left on held (zero if none or
 * unreadable: the line then counts less, never fails the removal). */
static void earlier_passes(int held_fd, struct ptd_remove_stats *s,
			   long long *ret_ns)
{
	unsigned long long b, f, d, ns;
	char v[128];
	ssize_t n;

	memset(s, 0, sizeof(*s));
	*ret_ns = 0;
	if (held_fd < 0)
		return;
	n = fgetxattr(held_fd, PASSES_XATTR, v, sizeof(v) - 1);
	if (n <= 0)
		return;
	v[n] = '\0';
	if (sscanf(v, "%llu %llu %llu %llu", &b, &f, &d, &ns) != 4)
		return;
	s->bytes = b;
	s->files = f;
	s->dirs = d;
	*ret_ns = (long long) ns;
}

static void keep_passes(int held_fd, const struct ptd_remove_stats *s,
			long long ns)
{
	char v[128];
	int n;

	if (held_fd < 0)
		return;
	n = snprintf(v, sizeof(v), "%llu %llu %llu %lld",
		     (unsigned long long) s->bytes,
		     (unsigned long long) s->files,
		     (unsigned long long) s->dirs, ns);
	/* A filesystem without xattrs: the final line counts its pass only. */
	(void) fsetxattr(held_fd, PASSES_XATTR, v, (size_t) n, 0);
}

/* The mount path the job saw for its private directory name, from
 * ptd_usage_paths (the plan's "<name>\t<path>\n" lines), into buf; NULL
 * when it is not there: the directory gets no line of its own. */
static const char *usage_path(const char *name, char *buf, size_t size)
{
	const char *p = ptd_usage_paths, *tab, *nl;
	size_t n = strlen(name), l;

	while (p && *p) {
		tab = strchr(p, '\t');
		if (!tab)
			return NULL;
		nl = strchr(tab, '\n');
		if (!nl)
			nl = tab + strlen(tab);
		l = (size_t) (nl - tab - 1);
		if ((size_t) (tab - p) == n && !strncmp(p, name, n) && l < size) {
			memcpy(buf, tab + 1, l);
			buf[l] = '\0';
			return buf;
		}
		p = *nl ? nl + 1 : nl;
	}
	return NULL;
}

/* A private directory of held: a directory of uid's on held's own
 * filesystem, no mount point (those stay, as in the whole tree's removal). */
static bool own_private_dir(int held_fd, const char *name, uid_t uid,
			    dev_t dev)
{
	struct statx sx;

	if (statx(held_fd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
		  STATX_TYPE | STATX_UID, &sx) < 0 || !S_ISDIR(sx.stx_mode) ||
	    sx.stx_uid != uid ||
	    makedev(sx.stx_dev_major, sx.stx_dev_minor) != dev)
		return false;
	return !((sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
		 (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT));
}

/*
 * The usage record (#26) at no cost of its own: the held job directory is
 * removed one private directory at a time, the same walk, so each one's
 * counts are its own; a path's line comes when its directory is gone,
 * counts of earlier passes (kept on it, as the job's on held) included.
 * What is left (the job directory, anything else in it) is the caller's.
 * 0, -ETIME (the budget is spent: the caller stops), or the first error,
 * which leaves the directory to the caller's removal.
 */
static int remove_paths(int held_fd, uint32_t jobid, uid_t uid,
			const struct ptd_remove_how *how,
			struct ptd_remove_stats *total, char *detail,
			size_t detail_size)
{
	char path[PATH_MAX], line[1024];
	struct ptd_remove_stats s, before;
	struct dirent *de;
	struct stat st;
	long long ns;
	int fd, r = 0;
	DIR *dir;

	memset(total, 0, sizeof(*total));
	if (!ptd_usage_paths || held_fd < 0 || fstat(held_fd, &st) < 0)
		return 0;
	dir = ptd_hold_list(held_fd);
	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		if (is_dot(de->d_name) ||
		    !usage_path(de->d_name, path, sizeof(path)) ||
		    !own_private_dir(held_fd, de->d_name, uid, st.st_dev))
			continue;
		fd = openat(held_fd, de->d_name, PTD_DIR_FLAGS);
		earlier_passes(fd, &before, &ns);
		r = ptd_remove_tree_how(held_fd, de->d_name, uid, how, &s,
					detail, detail_size);
		add_stats(total, &s);
		add_stats(&before, &s);
		if (r < 0) {
			/* Left for a later pass (-ETIME: this one ends) or
			 * to stay (a mount inside): counted so far. */
			keep_passes(fd, &before, 0);
			ptd_close_fd(&fd);
			if (r == -ETIME)
				break;
			r = 0;
			continue;
		}
		ptd_close_fd(&fd);
		if (ptd_report) {
			struct ptd_usage u = {
				.kind = "bind", .path = path, .walked = true,
				.bytes = before.bytes, .files = before.files,
				/* Not the path's own directory. */
				.dirs = before.dirs ? before.dirs - 1 : 0,
			};

			ptd_usage_line(line, sizeof(line), jobid, uid, &u);
			ptd_report(line);
		}
	}
	closedir(dir);
	return r;
}

/* One pass over the holding place. */
static void drain_pass(int hold_fd, long long deadline,
		       struct ptd_remove_stats *stats, uint64_t *ret_pending,
		       bool *ret_timed_out, char *why, size_t why_size)
{
	struct ptd_remove_how how = { .deadline = deadline };
	char detail[PTD_DETAIL_MAX];
	struct ptd_remove_stats s, before;
	long long t0, before_ns;
	struct dirent *de;
	uint32_t jobid, uid;
	int r, held_fd;
	DIR *dir;

	dir = ptd_hold_list(hold_fd);
	if (!dir) {
		snprintf(why, why_size, "cannot list it: %s", strerror(errno));
		(*ret_pending)++;
		return;
	}
	while ((de = readdir(dir))) {
		if (is_dot(de->d_name))
			continue;
		if (!parse_held(de->d_name, &jobid, &uid)) {
			/* Not put there by us: never removed as root. */
			(*ret_pending)++;
			if (!why[0])
				ptd_escape(why, why_size, de->d_name);
			continue;
		}
		memset(&s, 0, sizeof(s));
		held_fd = openat(hold_fd, de->d_name, PTD_DIR_FLAGS);
		earlier_passes(held_fd, &before, &before_ns);
		t0 = ptd_now_ns();
		r = remove_paths(held_fd, jobid, uid, &how, &s, detail,
				 sizeof(detail));
		if (r != -ETIME) {
			struct ptd_remove_stats rest;

			r = ptd_remove_tree_how(hold_fd, de->d_name, uid, &how,
						&rest, detail, sizeof(detail));
			add_stats(&s, &rest);
		}
		add_stats(stats, &s);
		add_stats(&before, &s);
		before_ns += ptd_now_ns() - t0;
		if (r == 0) {
			char line[512];

			if (held_fd >= 0)
				close(held_fd);
			ptd_summary(line, sizeof(line), jobid, uid, &before,
				    before_ns / 1e9, ptd_report_where);
			if (ptd_report)
				ptd_report(line);
			continue;
		}
		keep_passes(held_fd, &before, before_ns);
		if (held_fd >= 0)
			close(held_fd);
		(*ret_pending)++;
		if (!why[0])
			snprintf(why, why_size, "%s", detail);
		if (r == -ETIME) {
			*ret_timed_out = true;
			break;
		}
	}
	closedir(dir);
}

static uint64_t count_entries(int dir_fd)
{
	struct dirent *de;
	uint64_t n = 0;
	DIR *dir = ptd_hold_list(dir_fd);

	if (!dir)
		return 0;
	while ((de = readdir(dir)))
		if (!is_dot(de->d_name))
			n++;
	closedir(dir);
	return n;
}

static void report_sweep(const char *hold_path, uint64_t taken, uint64_t left,
			 const char *left_why)
{
	if (taken)
		report("private-tmpdir: %s: took in %llu directories of jobs that have ended",
		       hold_path, (unsigned long long) taken);
	if (left)
		report("private-tmpdir: %s: left %llu directories of jobs that have ended in place (%s)",
		       hold_path, (unsigned long long) left, left_why);
}

/* A remover that lingers (ptd_drain_linger_ms), still holding the lock,
 * waits this long after a new entry before it removes it: as the first
 * settle, so that its job's end is reported first. */
#define LINGER_SETTLE_MS 100

/* Under the lock, after a pass that left pending entries: waits up to
 * ptd_drain_linger_ms (and no later than linger_end_ns) for another one,
 * moved in by an epilog that found this remover at work and started none.
 * True when there is one (after a settle). */
static bool linger(int hold_fd, uint64_t pending, long long linger_end_ns)
{
	struct timespec ts = { 0, LINGER_SETTLE_MS * 1000000L };
	char path[64], buf[4096];
	long long until;
	bool more = false;
	int in;

	if (ptd_drain_linger_ms <= 0)
		return false;
	in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (in < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", hold_fd);
	if (inotify_add_watch(in, path, IN_MOVED_TO | IN_CREATE | IN_ONLYDIR) < 0)
		goto out;
	until = ptd_now_ms() + ptd_drain_linger_ms;
	if (until > linger_end_ns / 1000000)
		until = linger_end_ns / 1000000;
	/* Counted after the watch exists: nothing moved in between is
	 * missed. */
	while (!(more = count_entries(hold_fd) > pending)) {
		if (ptd_wait_readable(in, until) < 0)
			break;
		while (read(in, buf, sizeof(buf)) > 0)
			;
	}
	if (more)
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
out:
	close(in);
	return more;
}

int ptd_hold_drain(int hold_fd, int parent_fd, const char *prefix,
		   const char *hold_path, int budget, bool sweep,
		   struct ptd_remove_stats *stats, struct ptd_detail *d)
{
	long long budget_ns = ptd_drain_budget_ms >= 0 ?
		(long long) ptd_drain_budget_ms * 1000000LL :
		(long long) budget * 1000000000LL;
	long long deadline = ptd_now_ns() + budget_ns;
	char why[PTD_DETAIL_MAX] = "", left_why[PTD_DETAIL_MAX] = "";
	uint64_t pending = 0, taken = 0, left = 0;
	bool timed_out = false, lingered = false;
	int round;

	/* At most one remover per holding place; a second one has nothing to
	 * add: the first takes what arrives meanwhile (it lists the place
	 * again after each release of the lock), until its budget ends. */
	if (flock(hold_fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? 0 : -errno;
	/* Its wait comes under the lock: an epilog or a step that comes
	 * meanwhile sees a remover at work and starts none. */
	if (ptd_drain_settle) {
		void (*settle)(void) = ptd_drain_settle;

		ptd_drain_settle = NULL;
		settle();
	}
	for (round = 0;; round++) {
		pending = 0;
		why[0] = '\0';
		/* A job's end that left its directories to a lingering
		 * remover gets the sweep its own remover would have made. */
		if (sweep && (round == 0 || lingered)) {
			taken = left = 0;
			sweep_in(hold_fd, parent_fd, prefix, deadline, &taken,
				 &left, left_why, sizeof(left_why));
			/* Said per sweep, not at the end: a remover may stay. */
			report_sweep(hold_path, taken, left, left_why);
		}
		drain_pass(hold_fd, deadline, stats, &pending, &timed_out, why,
			   sizeof(why));
		/* Only in the budget's first half: what comes later finds the
		 * lock free and starts a remover with a whole budget, instead
		 * of arriving as this one's budget ends and waiting, pending,
		 * for the next job's end. */
		lingered = !timed_out &&
			   linger(hold_fd, pending, deadline - budget_ns / 2);
		if (lingered)
			continue;
		if (flock(hold_fd, LOCK_UN) < 0 || timed_out ||
		    count_entries(hold_fd) <= pending ||
		    flock(hold_fd, LOCK_EX | LOCK_NB) < 0)
			break;
	}
	if (pending) {
		report("private-tmpdir: %s: %llu entries pending after this pass (%s): %s; continued by a later epilog or slurmd's start",
		       hold_path, (unsigned long long) pending,
		       timed_out ? "time budget spent" : "could not be removed yet",
		       why);
		ptd_say(d->text, "%llu entries pending",
			(unsigned long long) pending);
	}
	return 0;
}

void ptd_hold_continue(int parent_fd, const char *name, const char *hold_path,
		       int budget)
{
	struct stat st;
	int fd, r;

	if (!ptd_continue)
		return;
	/* Anything but our own holding place (missing, a squatter's, a
	 * symlink) is the next epilog's to deal with, not a step's. */
	fd = openat(parent_fd, name, PTD_DIR_FLAGS);
	if (fd < 0)
		return;
	/* Only directories are ever taken in, so a link count of 2 means
	 * empty; 1 is a directory too large to count (ext4's dir_nlink). */
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 07777) != PTD_HOLD_MODE || st.st_nlink == 2) {
		close(fd);
		return;
	}
	/* A remover is on it already: no fork on the step's path. */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || flock(fd, LOCK_UN) < 0) {
		close(fd);
		return;
	}
	r = ptd_continue(fd, hold_path, budget);
	if (r < 0)
		report("private-tmpdir: %s: cannot start the remover: %s; a later step, epilog or slurmd's start goes on",
		       hold_path, strerror(-r));
	close(fd);
}
