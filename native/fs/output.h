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

/* Once the step's tasks are forked (slurm_spank_task_post_fork, root,
 * in the job's namespace; slurmstepd holds every task's output file open):
 * each regular file slurmstepd holds open for writing under a kept mount
 * point is linked at the same path under the host's mount point, as the
 * job's user (this thread's fsuid and fsgid, no supplementary group: what
 * the user may do there, never more). A missing directory on the way is
 * made as the user (Slurm 23.02 and later make them in the job); a name
 * taken on the host gets a random suffix; nothing is followed, no other
 * filesystem entered (a FUSE mount on the way is never touched). Each file
 * kept or lost is one line through info or error. Then forgets. */
void ptd_link_outputs(uint32_t jobid, void (*info)(const char *),
		      void (*error)(const char *));

/* Closes what ptd_keep_output kept (a step that forked no task). */
void ptd_output_forget(void);

#endif
