// The job's configuration: what the plugstack arguments say, once parse()
// has checked them (options.ts), and all that build() plans from (plan.ts).
// Paths point into INPUT (or static data): nothing is copied.
//
// One Config is allocated at instantiation and filled afresh by each call,
// so a call allocates nothing and memory never grows. Each count stays
// within its array's length (parse refuses one option too many), so an
// index below a count is always in range.

export const MAX_GROUPS: i32 = 16;
export const MAX_MOUNTS: i32 = 32;
export const MAX_OWN_FS: i32 = 16;
export const MAX_SHARES: i32 = 16;
// tmpdir_var=: the most names, and the longest name, a line may give.
export const MAX_TMPDIR_VARS: i32 = 8;
export const MAX_VAR_NAME: i32 = 64;
// runtime=: the size of the job's tmpfs for XDG_RUNTIME_DIR without
// runtime_size=. An absolute size, small: systemd's RuntimeDirectorySize
// is 10% of the node's RAM, far more than sockets and lock files need, and
// a job's runtime directory is memory its cgroup is charged for.
export const DEFAULT_RUNTIME_MB: u32 = 64;

// Without size=, half the job's memory: what the kernel gives a tmpfs of
// the node's; mode 1777, as /tmp and /dev/shm have it.
export const DEFAULT_TMPFS_PERCENT: u32 = 50;
export const DEFAULT_TMPFS_MODE: i32 = 0o1777;
// A disk= without size=: nine tenths of the job's share of the local
// filesystem (its cores' share of the node's), so that a node full of
// jobs still leaves the host a tenth, and the images' own overhead fits.
export const DEFAULT_DISK_PERCENT: u32 = 90;

// Without keep_max=, kept trees may take a tenth of the filesystem they
// are on: a node that keeps many failed jobs' files still has room for
// running jobs.
export const DEFAULT_KEEP_MAX_PERCENT: u32 = 10;

// A base= and the mounts after it: their private directories are made in
// its job directory.
export class Base {
  ptr: usize = 0;
  len: i32 = 0;
  // The option as given, 0 for the default base of a mount= before any base=.
  argPtr: usize = 0;
}

// A mount=: a private directory bound on it.
export class Mount {
  ptr: usize = 0;
  len: i32 = 0;
  base: i32 = 0; // the index in Config.bases of the base= it follows
}

// A filesystem of the job's own on a path: a tmpfs= (#13, memory) or a
// disk= (#25, an ext4 image reserved on the local disk), and the size=,
// max=, mode=, nr_inodes= and noexec given after it. Not in any group: it
// has no directory of the job's on disk.
export class OwnFs {
  ptr: usize;
  len: i32;
  disk: bool;
  // MiB when sizePercent is 0; else a percentage of the job's share of
  // the resource (tmpfs: the job's memory; disk: its cores' share of the
  // filesystem holding the images), known only when a job is planned.
  sizeMb: u32;
  sizePercent: u32;
  // max=: the most a percentage (or the job's request) may come to, in
  // MiB; 0: no cap.
  maxMb: u32;
  // request (disk= only): the job's own --tmp, when it gave one, is the
  // size, instead of size='s rule.
  request: bool;
  maxArgPtr: usize; // the max= as given
  maxArgLen: i32;
  sizeArgPtr: usize; // the size= as given
  sizeArgLen: i32;   // 0: the default
  mode: i32;
  noexec: bool;
  // nr_inodes= as given; 0: the default, derived from the size (plan.ts).
  inodes: u32;
  // Which qualifiers were given (options.ts GIVEN_*): each at most once.
  given: i32;

  constructor() {
    this.reset(0, 0);
  }

  // A tmpfs= just read: every qualifier at its default.
  reset(ptr: usize, len: i32, disk: bool = false): void {
    this.ptr = ptr;
    this.len = len;
    this.disk = disk;
    this.sizeMb = 0;
    this.sizePercent = disk ? DEFAULT_DISK_PERCENT : DEFAULT_TMPFS_PERCENT;
    this.maxMb = 0;
    this.request = false;
    this.maxArgPtr = 0;
    this.maxArgLen = 0;
    this.sizeArgPtr = 0;
    this.sizeArgLen = 0;
    this.mode = DEFAULT_TMPFS_MODE;
    this.noexec = false;
    this.inodes = 0;
    this.given = 0;
  }
}

// A share= (#24): a host directory users share on purpose (X11's
// /tmp/.X11-unix), kept visible at its path inside the job. Directly inside
// a mount= or tmpfs= path (options.ts), so its mount point is one name made
// by root in a private directory, never a path a user could have built.
export class Share {
  ptr: usize = 0;
  len: i32 = 0;
}

export class Config {
  // Groups in the order given; the first holds the job's namespace directory.
  readonly bases: StaticArray<Base> = new StaticArray<Base>(MAX_GROUPS);
  baseCount: i32;
  readonly mounts: StaticArray<Mount> = new StaticArray<Mount>(MAX_MOUNTS);
  mountCount: i32;
  readonly ownFs: StaticArray<OwnFs> = new StaticArray<OwnFs>(MAX_OWN_FS);
  ownFsCount: i32;
  readonly shares: StaticArray<Share> = new StaticArray<Share>(MAX_SHARES);
  shareCount: i32;
  // tmpdir=: the job's TMPDIR; tmpdirLen 0 when not given.
  tmpdirPtr: usize;
  tmpdirLen: i32;
  tmpdirArgPtr: usize; // the option as given
  tmpdirArgLen: i32;
  cleanup: bool;
  // keep= (#26): how long a kept tree lives, in seconds; 0: no job may ask
  // --keep-tmpdir. keep_max=: the most all kept trees of a base may take
  // on a node, in MiB, or (keepMaxPercent != 0) a percentage of its
  // filesystem.
  keepTtl: u32;
  keepArgPtr: usize;
  keepArgLen: i32;
  keepMaxMb: u32;
  keepMaxPercent: u32;
  keepMaxArgLen: i32;
  // optout=yes: a job may ask --private-tmpdir=off.
  optout: bool;
  optoutGiven: bool;
  // tmpdir_var=: more names for tmpdir='s path (SLURM_TMPDIR, ...), each set
  // only where the job's environment has none (abi.ts F_IF_UNSET).
  readonly tmpdirVarPtr: StaticArray<usize> = new StaticArray<usize>(MAX_TMPDIR_VARS);
  readonly tmpdirVarLen: StaticArray<i32> = new StaticArray<i32>(MAX_TMPDIR_VARS);
  readonly tmpdirVarArgLen: StaticArray<i32> = new StaticArray<i32>(MAX_TMPDIR_VARS);
  tmpdirVarCount: i32;
  // runtime=: the directory (/run/user) on which each job gets a tmpfs of
  // its own holding "<uid>", 0700, its XDG_RUNTIME_DIR; runtimeLen 0: off.
  runtimePtr: usize;
  runtimeLen: i32;
  runtimeArgPtr: usize;
  runtimeArgLen: i32;
  runtimeMb: u32;
  runtimeSizeArgPtr: usize; // runtime_size= as given; 0: the default
  runtimeSizeArgLen: i32;

  constructor() {
    for (let i = 0; i < MAX_GROUPS; i++) this.bases[i] = new Base();
    for (let i = 0; i < MAX_MOUNTS; i++) this.mounts[i] = new Mount();
    for (let i = 0; i < MAX_OWN_FS; i++) this.ownFs[i] = new OwnFs();
    for (let i = 0; i < MAX_SHARES; i++) this.shares[i] = new Share();
    this.reset();
  }

  // No options: what parse() starts each call from.
  reset(): void {
    this.baseCount = 0;
    this.mountCount = 0;
    this.ownFsCount = 0;
    this.shareCount = 0;
    this.tmpdirLen = 0;
    this.cleanup = true;
    this.keepTtl = 0;
    this.keepArgLen = 0;
    this.keepMaxMb = 0;
    this.keepMaxPercent = DEFAULT_KEEP_MAX_PERCENT;
    this.keepMaxArgLen = 0;
    this.optout = false;
    this.optoutGiven = false;
    this.tmpdirVarCount = 0;
    this.runtimeLen = 0;
    this.runtimeMb = DEFAULT_RUNTIME_MB;
    this.runtimeSizeArgPtr = 0;
    this.runtimeSizeArgLen = 0;
  }
}
