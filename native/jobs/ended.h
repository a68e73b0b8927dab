/* Whether a job is known to have ended on this node: the sweep's one
 * question, for everything but the job an epilog runs for. */
#ifndef PTD_ENDED_H
#define PTD_ENDED_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/*
 * True only if job jobid is known to have ended, for a directory or holder
 * of it made (last changed: its ctime) at made: slurmctld, asked once per
 * remover (controller.h), holds the job in no state but a final one, the
 * answer was asked for after made (a job allocated after the question
 * cannot be in it, but it cannot have made anything before it either), and
 * no step of it is on this node (a socket in slurmd's spool that is bound,
 * a root slurmstepd of it; a killed slurmstepd's socket file stays, bound
 * by nobody). An answer of the last minute (ctlmemo.h) decides what
 * was made before it was asked, without asking again. A job allocated to the node but with no step running
 * (an salloc between its sruns, a batch job's other nodes) is held by the
 * controller: kept. A controller that cannot be asked: everything kept, and
 * said once through hold.h's ptd_report.
 */
bool ptd_job_known_ended(uint32_t jobid, const struct timespec *made);

#endif
