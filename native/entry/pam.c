/* pam_private_tmpdir.so: the PAM session module (#12). An ssh session that
 * pam_slurm_adopt let in (and adopted into a job) joins that job's mount
 * namespace on this node, so it sees the job's private /tmp: the same core,
 * the same options as the plugstack line, the namespace the job's holder
 * keeps. If it cannot, the session is refused: never the host's /tmp.
 *
 *   session required pam_private_tmpdir.so base=/tmp/slurm mount=/var/tmp mount=/tmp
 *
 * after pam_slurm_adopt (account) in sshd's stack. Its one option of its
 * own, ignore_root=0, also joins root's sessions (as pam_slurm_adopt's);
 * by default root's pass untouched (PAM_IGNORE). */
#define _GNU_SOURCE
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define PAM_SM_SESSION
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "core/core.h"

#define MAX_ARGS 64

#pragma GCC visibility push(default)
/* SET_ENV in a session: into the environment sshd gives the session.
 * Without overwrite (tmpdir_var=), a value the PAM environment already has
 * (another module's, pam_env's) stays. */
static int session_set_env(void *ctx, const char *name, const char *value,
			   bool overwrite)
{
	char *kv;
	int r;

	if (!overwrite && pam_getenv((pam_handle_t *) ctx, name))
		return 0;
	if (asprintf(&kv, "%s=%s", name, value) < 0)
		return -ENOMEM;
	r = pam_putenv((pam_handle_t *) ctx, kv);
	free(kv);
	return r == PAM_SUCCESS ? 0 : -EINVAL;
}

int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
			const char **argv);
int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
			 const char **argv);
#pragma GCC visibility pop

/* Tells the user (unless PAM_SILENT) why the session is refused, in
 * words that name no path; the log has the whole reason. */
static int refuse(pam_handle_t *pamh, int flags, const char *user,
		  const char *why)
{
	pam_syslog(pamh, LOG_ERR, "private-tmpdir: session of %s refused: %s",
		   user, why);
	if (!(flags & PAM_SILENT))
		(void) pam_error(pamh, "Access denied by private-tmpdir: your job's private /tmp cannot be joined on this node");
	return PAM_SESSION_ERR;
}

int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
			const char **argv)
{
	char *args[MAX_ARGS], buf[4096], why[PTD_MESSAGE_MAX + 64];
	struct passwd pw, *pwp = NULL;
	struct ptd_job job = { 0 };
	struct ptd_result res;
	const char *user = NULL;
	bool ignore_root = true;
	int i, n = 0, e;

	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !user || !user[0])
		return refuse(pamh, flags, "?", "no user name");
	e = getpwnam_r(user, &pw, buf, sizeof(buf), &pwp);
	if (e || !pwp) {
		snprintf(why, sizeof(why), "no such user (%s)",
			 e ? strerror(e) : "not found");
		return refuse(pamh, flags, user, why);
	}
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "ignore_root=0")) {
			ignore_root = false;
			continue;
		}
		if (!strcmp(argv[i], "ignore_root=1"))
			continue;
		if (n == MAX_ARGS)
			return refuse(pamh, flags, user, "too many module arguments");
		/* The core only reads them (ptd_core_run copies them in). */
		args[n++] = (char *) argv[i];
	}
	if (pw.pw_uid == 0 && ignore_root)
		return PAM_IGNORE;
	job.uid = pw.pw_uid;
	job.gid = pw.pw_gid;
	job.set_env = session_set_env;
	job.set_env_ctx = pamh;
	if (ptd_core_run(PTD_PHASE_SESSION, n, args, &job, false, &res) < 0) {
		snprintf(why, sizeof(why), "%s: %s", res.code, res.message);
		return refuse(pamh, flags, user, why);
	}
	pam_syslog(pamh, LOG_INFO,
		   "private-tmpdir: session of %s (uid %u) joined the namespace of job %u",
		   user, (unsigned) pw.pw_uid, res.session_job);
	return PAM_SUCCESS;
}

/* The namespace goes with the session's last process; nothing to undo. */
int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
			 const char **argv)
{
	(void) pamh;
	(void) flags;
	(void) argc;
	(void) argv;
	return PAM_SUCCESS;
}
