// Carries a plan out through the host imports, in order. Setting up stops at
// the first failure (a job must never run with a half-private /tmp); removal
// goes on past failures and reports the first.
import { OUTPUT } from "./memory";
import {
  REC_SIZE, W_OP, W_FLAGS, W_SLOT, W_ARG, W_MODE, W_UID, W_GID, W_STR, W_LEN, W_PATH,
  W_PATHLEN, W_SIZE_MB, W_INODES, W_MAX_MB, Op, Phase, Err, F_SESSION, U_KEEP_FAILED, U_KEEP_ALWAYS,
} from "./abi";
import { diskSizeMb, diskInodes, setJobRequestMb } from "./plan";
import { fail, say, sayBytes } from "./errors";
import * as host from "./host.gen";

let failedIndex: i32 = -1;
// MEASURE_DISK's answer, for the MOUNT_DISK and DISK_FITS records after it.
let measuredMb: i32 = 0;
// DISK_FITS: the sizes of the disks checked so far, in MiB.
let fitsMb: u64 = 0;
let failedErrno: i32 = 0;
// EPILOG (#26): the job's request to keep (KEEP_ASKED), and whether its
// directories are kept (JOB_FAILED decides; KEEP_AT acts only then).
let keepAsked: i32 = 0;
let keeping: bool = false;

export function failedOp(): i32 { return failedIndex; }
export function failedHostErrno(): i32 { return failedErrno; }

@inline function word(r: usize, w: i32): i32 { return load<i32>(r + (<usize>w << 2)); }

function call(r: usize): i32 {
  const op = word(r, W_OP);
  const str = <usize>word(r, W_STR), len = word(r, W_LEN);
  const path = <usize>word(r, W_PATH), pathLen = word(r, W_PATHLEN);
  switch (op) {
    case Op.OPEN_TRUSTED:
      return host.open_trusted(word(r, W_SLOT), str, len, word(r, W_MODE), word(r, W_FLAGS));
    case Op.MKDIR_AT:
      return host.mkdir_at(word(r, W_ARG), word(r, W_SLOT), str, len, path, pathLen,
                           word(r, W_MODE), <u32>word(r, W_UID), <u32>word(r, W_GID), word(r, W_FLAGS));
    case Op.UNSHARE_MOUNT_NS: return host.unshare_mount_ns();
    case Op.MAKE_SLAVE: return host.make_slave();
    case Op.OPEN_PRIVATE: return host.open_private(word(r, W_SLOT), word(r, W_ARG), str, len, <u32>word(r, W_UID));
    case Op.OPEN_TARGET: return host.open_target(word(r, W_SLOT), str, len);
    case Op.BIND:
      return host.bind(word(r, W_SLOT), word(r, W_ARG), str, len, path, pathLen);
    case Op.REMOVE_AT:
      return host.remove_at(word(r, W_ARG), word(r, W_SLOT), str, len, path, pathLen,
                            <u32>word(r, W_UID), word(r, W_FLAGS));
    case Op.DRAIN_AT:
      return host.drain_at(word(r, W_SLOT), word(r, W_ARG), str, len, path, pathLen,
                           word(r, W_MODE), word(r, W_FLAGS));
    case Op.CONTINUE_AT:
      return host.continue_at(word(r, W_ARG), str, len, path, pathLen, word(r, W_MODE));
    case Op.USAGE_PATH: return host.usage_path(str, len, path, pathLen);
    case Op.MARK_ENDED:
      return host.mark_ended(word(r, W_ARG), str, len, path, pathLen, <u32>word(r, W_UID));
    case Op.NS_ENTER:
      return host.ns_enter(word(r, W_ARG), str, len, path, pathLen, word(r, W_FLAGS));
    case Op.NS_READY: return host.ns_ready();
    case Op.NS_RELEASE:
      return host.ns_release(word(r, W_ARG), str, len, path, pathLen, word(r, W_FLAGS));
    case Op.MOUNT_TMPFS:
      return host.mount_tmpfs(word(r, W_SLOT), str, len, <u32>word(r, W_SIZE_MB), <u32>word(r, W_INODES), word(r, W_MODE),
                              <u32>word(r, W_UID), <u32>word(r, W_GID), word(r, W_FLAGS));
    case Op.SET_ENV: return host.set_env(str, len, path, pathLen, word(r, W_FLAGS));
    case Op.OPEN_SHARED: return host.open_shared(word(r, W_SLOT), str, len);
    case Op.BIND_SHARED:
      return host.bind_shared(word(r, W_SLOT), str, len, <u32>word(r, W_UID), <u32>word(r, W_GID), word(r, W_FLAGS));
    case Op.KEEP_OUTPUT:
      return host.keep_output(word(r, W_ARG), str, len, path, pathLen, <u32>word(r, W_UID), <u32>word(r, W_GID));
    case Op.MEASURE_DISK: {
      const rc = host.measure_disk(word(r, W_ARG), path, pathLen);
      if (rc >= 0) measuredMb = rc;
      return rc;
    }
    case Op.MOUNT_DISK: {
      // The size is decided here, by the core, and left in the record:
      // the trace and the host's message show what was asked for.
      const sizeMb = diskSizeMb(word(r, W_FLAGS), <u32>word(r, W_SIZE_MB), <u32>word(r, W_MAX_MB), <u64>measuredMb);
      const inodes = diskInodes(<u32>word(r, W_INODES), sizeMb);
      store<u32>(r + (<usize>W_SIZE_MB << 2), sizeMb);
      store<u32>(r + (<usize>W_INODES << 2), inodes);
      return host.mount_disk(word(r, W_SLOT), word(r, W_ARG), str, len, path, pathLen, sizeMb, inodes,
                             word(r, W_MODE), <u32>word(r, W_UID), <u32>word(r, W_GID), word(r, W_FLAGS));
    }
    case Op.NEED_PROGRAM: return host.need_program(str, len, path, pathLen);
    case Op.NS_HELD: return host.ns_held(word(r, W_ARG), str, len, path, pathLen);
    case Op.JOB_REQUEST: {
      const rc = host.job_request();
      if (rc > 0) setJobRequestMb(<u32>rc);
      return rc;
    }
    case Op.KEEP_ASK:
      return host.keep_ask(word(r, W_ARG), str, len, path, pathLen, word(r, W_MODE));
    case Op.KEEP_ASKED: {
      const rc = host.keep_asked(word(r, W_ARG), str, len, path, pathLen);
      const own = word(r, W_MODE);
      keepAsked = rc > own ? rc : own;
      // A request the host cannot read is no request: the job's
      // directories go as they always have.
      return rc < 0 ? rc : 0;
    }
    case Op.JOB_FAILED: {
      if (keepAsked == U_KEEP_ALWAYS) { keeping = true; return 0; }
      if (keepAsked != U_KEEP_FAILED) return 0;
      const rc = host.job_failed();
      // Not known (2, or an error): kept, as with always; the host's
      // notice says why.
      keeping = rc != 0;
      return 0;
    }
    case Op.KEEP_AT:
      if (!keeping) return 0;
      return host.keep_at(word(r, W_SLOT), word(r, W_ARG), str, len, path, pathLen,
                          <u32>word(r, W_UID), word(r, W_MODE));
    case Op.KEPT_SWEEP:
      return host.kept_sweep(word(r, W_SLOT), word(r, W_ARG), path, pathLen, word(r, W_MODE),
                             <u32>word(r, W_SIZE_MB), word(r, W_FLAGS));
    case Op.DISK_FITS: {
      fitsMb += <u64>diskSizeMb(word(r, W_FLAGS), <u32>word(r, W_SIZE_MB), <u32>word(r, W_MAX_MB), <u64>measuredMb);
      return host.disk_fits(word(r, W_ARG), path, pathLen, fitsMb > 0xFFFFFFFF ? 0xFFFFFFFF : <u32>fitsMb);
    }
  }
  return -22; // EINVAL: cannot happen for a plan built by build()
}

// What the failed step was, for the host to complete with its reason.
function describe(r: usize): void {
  const op = word(r, W_OP);
  switch (op) {
    case Op.OPEN_TRUSTED: say("open directory \""); break;
    case Op.MKDIR_AT: say("make directory \""); break;
    case Op.UNSHARE_MOUNT_NS: say("unshare(CLONE_NEWNS)"); return;
    case Op.MAKE_SLAVE: say("make \"/\" a recursive slave mount"); return;
    case Op.OPEN_PRIVATE: say("open private directory \""); break;
    case Op.OPEN_TARGET: say("open mount point \""); break;
    case Op.BIND:
      say("bind \""); sayBytes(<usize>word(r, W_PATH), word(r, W_PATHLEN)); say("\" on \"");
      sayBytes(<usize>word(r, W_STR), word(r, W_LEN)); say("\"");
      return;
    case Op.REMOVE_AT: say("remove \""); break;
    case Op.MARK_ENDED: say("mark ended \""); break;
    case Op.DRAIN_AT: say("empty holding place \""); break;
    case Op.CONTINUE_AT: say("continue emptying holding place \""); break;
    case Op.USAGE_PATH: say("keep the mount path for the usage lines \""); break;
    case Op.NS_ENTER:
      if ((word(r, W_FLAGS) & F_SESSION) != 0) { say("enter the namespace of the session user's job in \""); break; }
      say("enter the job's namespace \""); break;
    case Op.NS_READY: say("serve the job's namespace \""); break;
    case Op.NS_RELEASE: say("release the job's namespace \""); break;
    case Op.MOUNT_TMPFS: say("mount tmpfs on \""); break;
    case Op.SET_ENV:
      say("set "); sayBytes(<usize>word(r, W_STR), word(r, W_LEN)); say("=\"");
      break;
    case Op.OPEN_SHARED: say("open shared directory \""); break;
    case Op.BIND_SHARED: say("bind shared directory \""); break;
    case Op.KEEP_OUTPUT: say("keep output under \""); break;
    case Op.MEASURE_DISK: say("measure the filesystem of \""); break;
    case Op.MOUNT_DISK: say("mount a disk of its own on \""); break;
    case Op.NS_HELD: say("look for the job's namespace holder \""); break;
    case Op.JOB_REQUEST: say("ask Slurm's controller for the job's --tmp"); return;
    case Op.DISK_FITS: say("check the room for a disk of its own on \""); break;
    case Op.KEEP_ASK: say("leave the job's request to keep its directories in \""); break;
    case Op.KEEP_ASKED: say("read the job's request to keep its directories in \""); break;
    case Op.JOB_FAILED: say("ask Slurm whether the job failed"); return;
    case Op.KEEP_AT: say("keep the job's directories in \""); break;
    case Op.KEPT_SWEEP: say("expire kept directories in \""); break;
    case Op.NEED_PROGRAM:
      say("find the program \""); sayBytes(<usize>word(r, W_STR), word(r, W_LEN)); say("\", which disk=");
      sayBytes(<usize>word(r, W_PATH), word(r, W_PATHLEN)); say(" needs (package e2fsprogs)");
      return;
    default: say("unknown operation"); return;
  }
  sayBytes(<usize>word(r, W_PATH), word(r, W_PATHLEN));
  say("\"");
}

export function execute(phase: i32, n: i32): i32 {
  failedIndex = -1;
  failedErrno = 0;
  measuredMb = 0;
  fitsMb = 0;
  keepAsked = 0;
  keeping = false;
  const keepGoing = phase == Phase.EPILOG || phase == Phase.DRAIN;
  for (let i = 0; i < n; i++) {
    const r = OUTPUT + <usize>(i * REC_SIZE);
    const rc = call(r);
    // NS_ENTER's "joined": on past its NS_READY. Only forward, and only to
    // an NS_READY, so a bad record cannot loop or skip into nowhere.
    // A held namespace has its disks: nothing more to check.
    if (rc == 1 && word(r, W_OP) == Op.NS_HELD) break;
    if (rc == 1 && word(r, W_OP) == Op.NS_ENTER) {
      const to = word(r, W_MODE);
      if (to > i && to < n && word(OUTPUT + <usize>(to * REC_SIZE), W_OP) == Op.NS_READY) { i = to; continue; }
      failedIndex = i;
      failedErrno = 22;
      describe(r);
      break;
    }
    // A session's NS_ENTER joins or fails: going on past it would leave an
    // ssh session with the host's /tmp, whatever the host answered.
    if (rc == 0 && word(r, W_OP) == Op.NS_ENTER && (word(r, W_FLAGS) & F_SESSION) != 0) {
      failedIndex = i;
      failedErrno = 2;
      describe(r);
      break;
    }
    if (rc >= 0 || failedIndex >= 0) continue;
    failedIndex = i;
    failedErrno = -rc;
    describe(r);
    if (!keepGoing) break;
  }
  return failedIndex >= 0 ? fail(Err.HOST) : Err.OK;
}
