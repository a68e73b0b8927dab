/* Output a step writes under a private mount (#24): `sbatch -o /tmp/out.%j`
 * makes slurmstepd open the file inside the job's namespace, so without
 * this it would be written in the job's private /tmp and removed with it.
 * Each such file is linked at the same path in the host's directory, where
 * Slurm alone would have written it: the job sees it at its path, and it
 * outlives the job, owned by the user as before. */
#ifndef PTD_OUTPUT_H
#define PTD_OUTPUT_H

#include <stdint.h>
#include <sys/types.h>

#include "fs/detail.h"

/* KEEP_OUTPUT, before the step enters the job's namespace: keeps a copy of
 * priv_fd (the private directory, priv_path on the host) and opens the
 * host's mount_point (walked trusted, as root) for the step's
 * ptd_link_outputs. Anything that stops it is a notice, never a failure:
 * the job runs, its output under mount_point then goes with it. Always
 * returns 0. */
int ptd_keep_output(int priv_fd, const char *mount_point,
		    const char *priv_path, uid_t uid, gid_t gid,
		    struct ptd_detail *d);

/* Where ptd_link_outputs's lines go (slurm_debug, slurm_info,
 * slurm_error in the plugin). */
struct ptd_output_log {
	void (*debug)(const char *line);
	void (*info)(const char *line);
	void (*error)(const char *line);
};

/* Once the step's tasks are forked (slurm_spank_task_post_fork, root,
 * in the job's namespace; slurmstepd holds every task's output file open):
 * each regular file of the job's user that slurmstepd holds open for
 * writing on a kept mount point's bind is linked at the same path under
 * the host's mount point. Found through /proc alone (no file's filesystem
 * is asked anything until its path says it is one). Linked in a child
 * that is the job's user entirely (uid, gid, groups: what the user may do
 * there, never more), only when there is such a file. A missing directory
 * on the way is made as the user (Slurm 23.02 and later make them in the
 * job); a name taken on the host gets a random suffix; nothing is
 * followed, no other mount entered (another user's FUSE mount on the way
 * is never asked, so it cannot stall the step). Each file is one line:
 * kept at its path (debug), kept under another name (info), or staying in
 * the job (error). Then forgets. */
void ptd_link_outputs(uint32_t jobid, const gid_t *groups, int n_groups,
		      const struct ptd_output_log *log);

/* A child of slurmstepd logs through its parent, which stays in charge of
 * how long it waits: in the child, one line on out, its level first ('D',
 * 'I', 'E'; the text escaped). */
void ptd_child_say(int out, char level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* In the parent: the lines of child pid from in into the log until it
 * closes its end, for at most budget_ms; then it is killed, and an error
 * says "private-tmpdir: <what> took over <budget_ms> ms: stopped". Reaps
 * it (or finds slurmstepd did). */
void ptd_child_relay(int in, pid_t pid, int budget_ms, const char *what,
		     const struct ptd_output_log *log);

/* Closes what ptd_keep_output kept (a step that forked no task). */
void ptd_output_forget(void);

#endif
