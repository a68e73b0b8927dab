/* The holding place (assembly/abi.ts, HOLD_MODE): job directories are taken
 * out of every user's reach by one rename into it, and emptied later by a
 * remover that runs off the job's path. */
#ifndef PTD_HOLD_H
#define PTD_HOLD_H

#include <stdbool.h>
#include <dirent.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "fs/detail.h"
#include "removal/remove.h"

/* Set by the plugin's epilog and extern step only: moved directories stay
 * in the holding place for the detached remover. Unset (the addon, the
 * CLI), each is removed from the holding place at once, so a caller sees
 * the same counts as before. */
extern bool ptd_defer_removal;

/* Where the remover's lines go (slurm_info in the plugin); NULL: nowhere. */
extern void (*ptd_report)(const char *line);

/* Whether a job is known to have ended, for a directory or holder of it
 * last changed at made (ended.h). NULL: the sweep assumes no job has and
 * takes nothing in; a wrong "yes" would remove a running job's /tmp. */
extern bool (*ptd_job_ended)(uint32_t jobid, const struct timespec *made);

/* Seconds a job directory must be unchanged before the sweep even asks
 * about its job (10; tests lower it): one just made is its job's. */
extern int ptd_sweep_min_age;

/* A pass's time budget in ms instead of the plan's seconds; -1 (the
 * default): the plan's. Tests set it. */
extern int ptd_drain_budget_ms;

/* Called once by the first ptd_hold_drain of a process, once it holds the
 * holding place's lock and before it removes anything (the plugin's
 * remover: let the job's end be reported first); NULL: none. */
extern void (*ptd_drain_settle)(void);

/* How long (ms) a remover keeps the holding place's lock after its work,
 * waiting for more (0, the default: not at all). The plugin's remover
 * lingers, so that jobs ending one after the other each leave their
 * directories to it instead of each starting one. */
extern int ptd_drain_linger_ms;

/* The plan's USAGE_PATH records for the next drain (or a remover a step starts):
 * "<directory name>\t<mount path>\n" for each mount= of the base, owned
 * here (NULL: none; the drain then writes no usage lines). */
extern char *ptd_usage_paths;

/* The where of the remover's per-job lines: "epilog", "extern step". */
extern const char *ptd_report_where;

/*
 * Every entry of parent_fd named prefix + a decimal (prefix is
 * "<name>.<jobid>.", the restart count unknown), if a directory owned by
 * uid: with defer, renamed into hold_fd under "<name>.<uid>.<random>" (and
 * removed from there at once unless ptd_defer_removal: then counted in
 * deferred, and in covered too if a remover is at work on hold_fd already);
 * without, removed in place. Counts in *stats; keeps going, returns the
 * first error.
 */
int ptd_hold_take(int parent_fd, int hold_fd, const char *prefix, uid_t uid,
		  bool defer, struct ptd_remove_stats *stats,
		  struct ptd_detail *d);

/*
 * Empties hold_fd (held under flock: a second remover returns at once),
 * within budget seconds, reporting one line per removed job directory and
 * one when work stays pending. sweep: first takes in the directories
 * "<prefix><jobid>.<n>" of parent_fd whose job is known to have ended
 * (ptd_job_ended), the cheap checks of each name first.
 */
int ptd_hold_drain(int hold_fd, int parent_fd, const char *prefix,
		   const char *hold_path, int budget, bool sweep,
		   struct ptd_remove_stats *stats, struct ptd_detail *d);

/* Starts a remover on the holding place hold_fd (hold_path for its lines)
 * without waiting for it; the plugin's (a detached process), returning 0
 * or -errno. NULL (the addon, the CLI): nothing is started. */
extern int (*ptd_continue)(int hold_fd, const char *hold_path, int budget);

/*
 * A step's look at parent_fd/name: if it is our holding place (a root-owned
 * HOLD_MODE directory, never made or changed here) holding a directory, a
 * pass left work pending; ptd_continue is asked to go on with it. Costs one
 * openat and one fstat when there is nothing to do.
 */
void ptd_hold_continue(int parent_fd, const char *name, const char *hold_path,
		       int budget);

/* Moves parent_fd/name, a directory owned by uid that the plugin itself
 * put there (a kept tree: only root makes names in a kept place), into
 * hold_fd under a held name, for the next drain. 1 moved, 0 gone, -errno
 * (EPERM: not a directory of uid's). */
int ptd_hold_put(int parent_fd, const char *name, int hold_fd, uid_t uid,
		 struct ptd_detail *d);

/* A fresh listing of dir_fd (its own descriptor and offset), or NULL with
 * errno: for the holding place's and the kept place's walks. */
DIR *ptd_hold_list(int dir_fd);

/* True if name is prefix followed by a decimal u32 without leading zeros,
 * and nothing else; *ret_n gets it. */
bool ptd_match_decimal(const char *name, const char *prefix, uint32_t *ret_n);

#endif
