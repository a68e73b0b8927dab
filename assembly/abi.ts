// The ABI shared with the C and TypeScript hosts, defined here only:
// native/tools/gen-abi.sh turns the constants and enums below into the C header
// (dist/gen/ptd_abi.h) and the TypeScript module (host/abi.gen.ts) at build
// time. Bump ABI_VERSION on any change here; both hosts refuse a core whose
// version they do not know. Each op's name, lower-cased, is its import's.

export const ABI_VERSION: i32 = 14;

// Buffers live in static data so a call never allocates and memory never grows.
export const INPUT_CAP: i32 = 65536;
export const OUTPUT_CAP: i32 = 524288;
export const MSG_CAP: i32 = 4096;

// Phases: what the host is about to do.
export const enum Phase {
  CHECK = 0,   // validate the options only (every context, at load)
  EXTERN = 1,  // extern step (PrologFlags=Contain), slurmstepd, root, host
               // namespace: the step's directories, no namespace entered
  STEP = 2,    // slurmstepd init_post_opt: directories, namespace, binds
  EPILOG = 3,  // job epilog (or the extern step's end), root, host
               // namespace: take the directories out of reach (holding place)
  DRAIN = 4,   // the detached remover, root, host namespace: empty the
               // holding places, within a time budget
  SESSION = 5, // the PAM session module (an ssh session adopted into a job by
               // pam_slurm_adopt), root, in sshd: join the namespace of the
               // session user's job on this node, never make one
  SCRIPT = 6,  // the batch step or salloc's interactive step: STEP, plus what
               // a shell the user types sbcast in needs (each private
               // directory's host path)
  INIT = 7,    // slurmstepd's slurm_spank_init, root, host namespace: CHECK,
               // then, unless the job's namespace is held already, each
               // disk='s size against the free space of the images'
               // filesystem: a job short of it fails there, where Slurm
               // (25.05+: slurm_spank_init_failure_mode) keeps the node in
               // service, not in init_post_opt, which drains it
}

// One plan record: REC_WORDS little-endian i32 words. Strings are stored in
// the output after the records, each followed by a NUL the hosts may rely on
// once they have checked (offset, length) against the memory size.
export const REC_WORDS: i32 = 14;
export const REC_SIZE: i32 = REC_WORDS * 4;
export const W_OP: i32 = 0;
export const W_FLAGS: i32 = 1;
export const W_SLOT: i32 = 2;   // slot the op fills (or the bind source)
export const W_ARG: i32 = 3;    // parent slot, or the bind target slot
export const W_MODE: i32 = 4;
export const W_UID: i32 = 5;
export const W_GID: i32 = 6;
export const W_STR: i32 = 7;    // the op's argument: a name relative to W_ARG, or a path
export const W_LEN: i32 = 8;
export const W_PATH: i32 = 9;   // the full path the op touches, for messages and checks
export const W_PATHLEN: i32 = 10;
export const W_SIZE_MB: i32 = 11; // MOUNT_TMPFS, MOUNT_DISK: the size in MiB (unsigned; MOUNT_DISK with
                                  // F_SHARE: a percentage, see there); 0 in every other record
export const W_INODES: i32 = 12;  // MOUNT_TMPFS: its nr_inodes; MOUNT_DISK: nr_inodes= as given (0: one
                                  // per 8 KiB); 0 in every other record
export const W_MAX_MB: i32 = 13;  // MOUNT_DISK with F_SHARE: the most its size may be, in MiB (0: no cap);
                                  // 0 in every other record
// Descriptor slots a host keeps for one plan. The most a valid plan uses
// (a step's: 2 per base, 3 per mount=, 1 per tmpfs=, the namespace
// directory, 1 per share=, 3 for runtime=: 164 at the option limits) must fit; 128 did not.
export const MAX_SLOTS: i32 = 256;

export const enum Op {
  OPEN_TRUSTED = 1, // walk an admin path without symlinks; last part may be created root 0711
  MKDIR_AT = 2,     // make or verify <parent slot>/<name>, owned by uid:gid, mode
  UNSHARE_MOUNT_NS = 3, // unshare(CLONE_NEWNS)
  MAKE_SLAVE = 4,   // mount(NULL, "/", NULL, MS_SLAVE|MS_REC, NULL)
  OPEN_PRIVATE = 5, // walk a private directory without symlinks; must be the very directory
                    // (dev, ino) in the W_ARG slot, made or verified before unshare, owned by uid
  OPEN_TARGET = 6,  // walk a mount point without symlinks; must be a directory
  BIND = 7,         // bind slot onto target slot, nosuid,nodev, verify
  REMOVE_AT = 8,    // remove <parent slot>/<name> and all below it, on one filesystem;
                    // F_EVERY_RESTART: every <parent>/<name><decimal>; F_DEFER: renamed
                    // into the holding place (W_SLOT) instead, for DRAIN_AT
  MARK_ENDED = 9,   // leave the ended marker in <parent slot>/<name>: this run of the job is over
  DRAIN_AT = 10,    // empty the holding place in W_SLOT (one remover at a time, flock),
                    // at most W_MODE seconds; W_STR: the job directories' prefix
                    // "<base name>." in W_ARG, for F_SWEEP
  CONTINUE_AT = 11, // a step: if the holding place <W_ARG slot>/<W_STR> exists (never made
                    // here) and holds work a pass left pending, the host starts a remover on
                    // it (W_MODE seconds) that it does not wait for; nothing to do otherwise
  NS_ENTER = 12,    // a step: join the job's kept namespace, whose holder listens on
                    // <W_ARG slot>/<W_STR>.sock; 1: joined (or F_NO_JOIN and a holder
                    // runs), the run goes on past record W_MODE (its NS_READY); 0: go
                    // on with the next record, either in a holder just forked (it makes
                    // the namespace and serves it at NS_READY) or, when no holder can be
                    // had, in the step itself (its own namespace, as in ABI 5)
  NS_READY = 13,    // in a holder: serve the namespace to the job's later steps until
                    // NS_RELEASE, then exit (never returns); anywhere else: nothing
  NS_RELEASE = 14,  // the job's end: stop the holder of <W_ARG slot>/<W_STR> and wait for
                    // it; none (slurmd restarted, holder killed) is not an error. F_SWEEP
                    // (the remover): W_STR is the prefix "job.", every holder there of a
                    // job no longer on the node
  MOUNT_TMPFS = 15, // mount a fresh tmpfs of W_SIZE_MB MiB, nosuid,nodev (F_NOEXEC: noexec
                    // too), on the mount point W_SLOT an OPEN_TARGET opened, its root
                    // owned by W_UID:W_GID, mode W_MODE; verify it. W_STR = W_PATH: the
                    // mount point. Memory-backed scratch (#13): nothing on disk to remove
  SET_ENV = 16,     // set the variable W_STR to W_PATH for every task of the step (or the
                    // ssh session); after NS_READY, so a step that joined runs it too.
                    // F_IF_UNSET: only where the job's (the session's) environment has
                    // no such variable yet: a value the user set is left as it is
  OPEN_SHARED = 17, // share= (#24): walk the host's directory W_STR without symlinks, every
                    // directory on the way trusted (root's; others may write only if sticky),
                    // in the new namespace before the binds cover it; missing or not trusted:
                    // W_SLOT stays empty, the reason is a notice, 0 is returned (a name a user
                    // planted must not fail other users' jobs)
  BIND_SHARED = 18, // bind the directory in W_SLOT on W_STR, after every bind and tmpfs: its
                    // parent (a private mount point) walked without symlinks, its last part
                    // made (W_UID:W_GID, 0755) if missing and never followed; nothing when
                    // W_SLOT is empty
  KEEP_OUTPUT = 19, // a step, before its namespace (#24): the host keeps the private directory
                    // in W_ARG and the host's own mount point W_STR (walked trusted, in the
                    // host's namespace); the output files slurmstepd opens later under W_STR
                    // in the job (sbatch -o /tmp/out.%j) are linked at the same path under
                    // the host's W_STR, as W_UID:W_GID, once the step's tasks are forked, so
                    // they outlive the job where Slurm alone would have written them. Never
                    // fails the step: what cannot be kept is a notice
  MEASURE_DISK = 20, // disk= (#25): the size in MiB of the filesystem holding the images'
                    // directory in W_ARG, returned (>= 0): what F_SHARE sizes are a share of
  MOUNT_DISK = 21,  // disk= (#25): reserve W_SIZE_MB MiB in full (fallocate) in an unnamed file
                    // in the images' directory W_ARG (root's 0700; refused, naming the sizes,
                    // when the filesystem has less free for users), make an ext4 in it with the
                    // program W_STR (W_INODES inodes), attach it to a loop device (direct I/O,
                    // detached with its last mount) and mount it nosuid,nodev (F_NOEXEC: noexec)
                    // on the mount point W_SLOT, its root W_UID:W_GID mode W_MODE. W_PATH: the
                    // mount point. F_SHARE: the run computes the size first (plan.ts
                    // diskSizeMb) and writes it into W_SIZE_MB and W_INODES
  NEED_PROGRAM = 22, // CHECK: the program W_STR, which the option W_PATH needs on the node, is
                    // root's and executable
  NS_HELD = 23,     // INIT: 1 when the job's namespace holder listens (its socket
                    // <W_ARG slot>/<W_STR>.sock exists): the run ends there, successfully;
                    // 0 otherwise
  DISK_FITS = 24,   // INIT: the images' filesystem (directory W_ARG) has room for this
                    // disk= and those before it: sizes as MOUNT_DISK's (F_SHARE, F_REQUEST,
                    // W_MAX_MB), summed by the run; -ENOSPC naming the sizes otherwise
  JOB_REQUEST = 25, // INIT, before the first DISK_FITS with F_REQUEST: the job's own --tmp on
                    // a node in MiB, as Slurm's controller has it, returned (>= 0); 0 when the
                    // job asked none or it cannot be known (a notice says why): the host keeps
                    // it for the step's plan (plan()'s requestMb)
  KEEP_ASK = 26,    // a step whose job asked --keep-tmpdir (#26), after NS_READY: leave the
                    // request W_MODE (KEEP_FAILED or KEEP_ALWAYS) in the root-only file
                    // <W_ARG slot>/<W_STR> ("keep.<jobid>" in the namespace directory), where
                    // the job's end on this node finds it; a later step's request replaces it
  KEEP_ASKED = 27,  // EPILOG, after NS_RELEASE: the request a step left (KEEP_ASK's file
                    // <W_ARG slot>/<W_STR>, removed here), returned: 0 none, else its mode.
                    // The run takes the larger of it and W_MODE (the epilog's own option)
  JOB_FAILED = 28,  // EPILOG, when the request is KEEP_FAILED: whether Slurm says the job
                    // failed (1), succeeded (0), or cannot tell (2: a notice says why; the
                    // run keeps, as with KEEP_ALWAYS)
  KEEP_AT = 29,     // EPILOG, before REMOVE_AT, only when the run decided to keep: every job
                    // directory "<W_STR><decimal>" in the W_ARG slot owned by W_UID is renamed,
                    // name unchanged, into the kept place in W_SLOT ("<base>.kept", root's
                    // KEPT_MODE), made 0700, its keep time recorded in the root-owned file
                    // ".<name>" there (its mtime); W_MODE: the TTL in seconds, W_PATH: the
                    // kept place's path, for the line saying where and until when
  KEPT_SWEEP = 38,  // DRAIN, before DRAIN_AT: in the kept place W_SLOT (path W_PATH), each kept
                    // tree past W_MODE seconds, or not recorded, or (checked once, by the walk
                    // that measures it) with a mount or another user's file inside, is moved
                    // into the holding place W_ARG; then the oldest go until the rest fit in
                    // W_SIZE_MB MiB (F_SHARE: W_SIZE_MB percent of its filesystem). The host
                    // wakes again for the next expiry (one waiter per kept place)
  USAGE_PATH = 34,  // DRAIN and a step, before each base's DRAIN_AT and CONTINUE_AT (#26), one per
                    // mount= of the base, in its order: W_STR the private directory's name, W_PATH
                    // the mount path the job saw. The host keeps them for that removal (and
                    // forgets them after it), whose per-path usage lines name the path from them
                    // (a directory not among them: no line of its own)
}

// --keep-tmpdir (#26): a job's own choice, given to plan() as userOpts
// (the plugin reads it from Slurm's option callbacks; user_option parses
// the value). Never an admin's setting: plugstack.conf's keep= and
// optout= decide whether a job may ask at all.
export const U_KEEP_FAILED: i32 = 1;  // keep the job's directories if it failed
export const U_KEEP_ALWAYS: i32 = 2;  // keep them whatever the outcome
export const U_KEEP_MASK: i32 = 3;
export const U_OFF: i32 = 4;          // --private-tmpdir=off: the job's steps keep the host's /tmp
// user_option's which: the option whose value is parsed.
export const OPT_KEEP: i32 = 0;       // --keep-tmpdir[=failed|always]
export const OPT_PRIVATE: i32 = 1;    // --private-tmpdir=on|off

// Where kept trees wait for their user: "<base>.kept" beside the job
// directories (same filesystem: keeping is a rename), root's. Readable by
// all, so a user can list it; each kept tree in it is its user's, 0700.
export const KEPT_MODE: i32 = 0o755;

// Where a disk='s images are made: "<first base>.disk", root's, 0700.
export const DISK_DIR_MODE: i32 = 0o700;

// Where a job's namespace holder listens: <first base>.ns beside the
// holding place, root's, 0700, so only root can connect or plant a socket.
export const NS_DIR_MODE: i32 = 0o700;

// The holding place: <base>.hold beside the job directories (same
// filesystem, so taking a tree out of reach is one rename), root's, 0700.
// Job directories are renamed into it under a random name; the bulk removal
// runs after the epilog has returned, off the job's path.
export const HOLD_MODE: i32 = 0o700;
export const DRAIN_BUDGET_S: i32 = 60;

// MARK_ENDED leaves a marker file (PTD_ENDED_MARKER, defined once in
// native/fs/dirs.h, its only user) in a job directory when cleanup=no: a
// requeued run of the job (same directory name) must not see the previous
// run's files, yet no phase may empty a directory unconditionally: the
// extern step is not sure to run before the job's other steps (Slurm 24.05+
// PrologFlags=RunInJob), which may already be using it.

// Error codes: returned negated; the core names each (error_name) for the
// hosts, which show it as the error's `code`.
export const enum Err {
  OK = 0,
  UNKNOWN_OPTION = 1,
  EMPTY_VALUE = 2,
  NOT_ABSOLUTE = 3,
  BAD_PATH = 4,
  BAD_CHAR = 5,
  TOO_LONG = 6,
  TOO_MANY = 7,
  COLLISION = 8,
  DUPLICATE = 9,
  NESTED = 10,
  NO_MOUNTS = 11,
  BAD_VALUE = 12,
  BAD_INPUT = 13,
  PLAN_TOO_LARGE = 14,
  HOST = 15,
  BAD_PHASE = 16,
}

// Flags on a record.
export const F_CREATE: i32 = 1;  // OPEN_TRUSTED: create the last component if missing
export const F_ASIDE: i32 = 2;   // MKDIR_AT: an entry that is not ours is renamed aside, not trusted
// 4 was F_WIPE (ABI 1, an unconditional wipe): see MARK_ENDED above.
export const F_WIPE_ENDED: i32 = 8; // MKDIR_AT: an existing directory of ours is emptied if it holds the ended marker
export const F_EVERY_RESTART: i32 = 16; // REMOVE_AT: W_STR is "<name>.<jobid>."; every restart count of the job
export const F_DEFER: i32 = 32;  // REMOVE_AT: rename into the holding place (W_SLOT), removed by DRAIN_AT
export const F_SWEEP: i32 = 64;  // DRAIN_AT: also take in job directories of jobs no longer on the node;
                                 // NS_RELEASE: every holder of a job no longer on the node
export const F_NO_JOIN: i32 = 128; // NS_ENTER: the extern step starts the holder but stays in the
                                   // host's namespace (its end removes the directories there)
export const F_SESSION: i32 = 256; // NS_ENTER: W_STR is the prefix "job."; join the namespace of the
                                   // one job there of the session's user (W_UID), or fail: never
                                   // elect, never fall back (an ssh session must not get the host's /tmp)
export const F_NOEXEC: i32 = 512;  // MOUNT_TMPFS, MOUNT_DISK: mount it noexec too
export const F_SHARE: i32 = 1024;  // MOUNT_DISK: W_SIZE_MB is a percentage of the job's cores' share of
                                   // MEASURE_DISK's size, W_MAX_MB its cap
export const F_READONLY: i32 = 4096; // BIND_SHARED: bound read-only (a kept place: its trees are to read,
                                      // never to grow past what keep_max= measured)
export const F_REQUEST: i32 = 2048; // MOUNT_DISK, DISK_FITS: the job's own request (JOB_REQUEST, or
                                    // plan()'s requestMb), when it made one, is the size, capped
                                    // by W_MAX_MB; otherwise W_SIZE_MB's rule
export const F_IF_UNSET: i32 = 16384; // SET_ENV: leave a value the job's environment already has (tmpdir_var=)
