// The ordered plan for one phase: a flat list of records in OUTPUT followed by
// their strings. The hosts execute it in order and never re-derive it.
import {
  OUTPUT_CAP, REC_SIZE, W_OP, W_FLAGS, W_SLOT, W_ARG, W_MODE, W_UID, W_GID,
  W_STR, W_LEN, W_PATH, W_PATHLEN, W_SIZE_MB, W_INODES, W_MAX_MB, Phase, Op, Err, F_CREATE, F_ASIDE, F_WIPE_ENDED, F_SESSION,
  F_EVERY_RESTART, F_DEFER, F_SWEEP, F_NO_JOIN, F_NOEXEC, F_SHARE, F_REQUEST, F_IF_UNSET, HOLD_MODE, DRAIN_BUDGET_S, NS_DIR_MODE, DISK_DIR_MODE, MAX_SLOTS,
  KEPT_MODE, U_KEEP_MASK, U_OFF, F_READONLY,
} from "./abi";
import { OUTPUT } from "./memory";
import { fail, say, sayNumber, sayShort } from "./errors";
import { lastSlash, writeDecimal, decimalLength } from "./text";
import { writeMountName, writeEnvName, envNameEquals, HOST_ENV_PREFIX } from "./naming";
import { Config, Base, OwnFs, DEFAULT_TMPFS_PERCENT, DEFAULT_DISK_PERCENT, MAX_GROUPS, MAX_MOUNTS, MAX_OWN_FS, MAX_SHARES } from "./config";

// The most a valid plan uses (a step's, every option at its limit: 290
// records with each mount='s host path and 16 share=) must fit.
export const MAX_RECORDS: i32 = 512;
const STRINGS: usize = OUTPUT + <usize>(MAX_RECORDS * REC_SIZE);
const END: usize = OUTPUT + <usize>OUTPUT_CAP;

const PRIVATE_MODE: i32 = 0o700;

let count: i32 = 0;
let slots: i32 = 0;
let cursor: usize = 0;
let overflow: bool = false;

// Per-group, per-mount and per-tmpfs results of earlier records, for later
// ones; indexed like the Config's arrays, of the same lengths.
const parentSlot = new StaticArray<i32>(MAX_GROUPS);
const jobSlot = new StaticArray<i32>(MAX_GROUPS);
const jobPath = new StaticArray<usize>(MAX_GROUPS);
const jobPathLen = new StaticArray<i32>(MAX_GROUPS);
const privPath = new StaticArray<usize>(MAX_MOUNTS);
const privPathLen = new StaticArray<i32>(MAX_MOUNTS);
const privSlot = new StaticArray<i32>(MAX_MOUNTS);
const madeSlot = new StaticArray<i32>(MAX_MOUNTS);
const targetSlot = new StaticArray<i32>(MAX_MOUNTS);
const targetStr = new StaticArray<usize>(MAX_MOUNTS);
const ownFsSlot = new StaticArray<i32>(MAX_OWN_FS);
const ownFsStr = new StaticArray<usize>(MAX_OWN_FS);
const shareSlot = new StaticArray<i32>(MAX_SHARES);
const shareStr = new StaticArray<usize>(MAX_SHARES);
const keptPath = new StaticArray<usize>(MAX_GROUPS);
const keptPathLen = new StaticArray<i32>(MAX_GROUPS);
const keptShareSlot = new StaticArray<i32>(MAX_GROUPS);

function room(n: i32): bool {
  if (overflow || cursor + <usize>n + 1 > END) { overflow = true; return false; }
  return true;
}

function put(src: usize, n: i32): void {
  if (!room(n)) return;
  memory.copy(cursor, src, <usize>n);
  cursor += <usize>n;
}

function putByte(c: u8): void {
  if (!room(1)) return;
  store<u8>(cursor++, c);
}

// A literal of the core's own (ASCII, static data: nothing allocated).
function putAscii(lit: string): void {
  const n = lit.length;
  if (!room(n)) return;
  for (let i = 0; i < n; i++) store<u8>(cursor++, <u8>lit.charCodeAt(i));
}

function putDecimal(v: u32): void {
  if (!room(decimalLength(v))) return;
  cursor += <usize>writeDecimal(cursor, v);
}

// Ends the string begun at start with a NUL; returns its length.
function finish(start: usize): i32 {
  if (!room(0)) return 0;
  store<u8>(cursor++, 0);
  return <i32>(cursor - start - 1);
}

function emit(op: Op, flags: i32, slot: i32, arg: i32, mode: i32, uid: u32, gid: u32,
              str: usize, len: i32, path: usize, pathLen: i32, sizeMb: u32 = 0, inodes: u32 = 0, maxMb: u32 = 0): void {
  if (count == MAX_RECORDS) { overflow = true; return; }
  const r = OUTPUT + <usize>(count * REC_SIZE);
  store<i32>(r + (W_OP << 2), <i32>op);
  store<i32>(r + (W_FLAGS << 2), flags);
  store<i32>(r + (W_SLOT << 2), slot);
  store<i32>(r + (W_ARG << 2), arg);
  store<i32>(r + (W_MODE << 2), mode);
  store<u32>(r + (W_UID << 2), uid);
  store<u32>(r + (W_GID << 2), gid);
  store<i32>(r + (W_STR << 2), <i32>str);
  store<i32>(r + (W_LEN << 2), len);
  store<i32>(r + (W_PATH << 2), <i32>path);
  store<i32>(r + (W_PATHLEN << 2), pathLen);
  store<u32>(r + (W_SIZE_MB << 2), sizeMb);
  store<u32>(r + (W_INODES << 2), inodes);
  store<u32>(r + (W_MAX_MB << 2), maxMb);
  count++;
}

// Opens (creating it root 0711 when asked) the directory that holds a base's
// job directories; returns its slot.
function planParent(base: Base, flags: i32): i32 {
  const cut = lastSlash(base.ptr, base.len);
  const start = cursor;
  if (cut == 0) putByte(0x2f); else put(base.ptr, cut);
  const len = finish(start);
  const slot = slots++;
  // Root is the owner it must have; the mode is for a parent it creates.
  emit(Op.OPEN_TRUSTED, flags, slot, -1, (flags & F_CREATE) ? 0o711 : 0, 0, 0, start, len, start, len);
  return slot;
}

// Writes "<base>.<jobid>.<restart>"; returns (via globals) its path and the
// offset of the name within it.
let nameAt: usize = 0;
function putJobPath(base: Base, jobid: u32, restart: u32): usize {
  const start = cursor;
  put(base.ptr, base.len);
  putByte(0x2e); putDecimal(jobid);
  putByte(0x2e); putDecimal(restart);
  nameAt = start + <usize>(lastSlash(base.ptr, base.len) + 1);
  return start;
}

// The same records for the extern step and every other step: whichever comes
// first makes the directories, the others verify them; none empties one a
// step may be using (only one a previous run marked ended).
function planDirectories(config: Config, jobid: u32, restart: u32, uid: u32, gid: u32): void {
  const jobFlags = F_ASIDE | F_WIPE_ENDED;
  for (let g = 0; g < config.baseCount; g++) {
    const base = config.bases[g];
    const parent = planParent(base, F_CREATE);
    parentSlot[g] = parent;
    const path = putJobPath(base, jobid, restart);
    const pathLen = finish(path);
    const slot = slots++;
    emit(Op.MKDIR_AT, jobFlags, slot, parent, PRIVATE_MODE, uid, gid,
         nameAt, <i32>(path + <usize>pathLen - nameAt), path, pathLen);
    jobSlot[g] = slot;
    jobPath[g] = path;
    jobPathLen[g] = pathLen;
  }
  if (hasDisk(config)) planDiskDir(config.bases[0], parentSlot[0]);
  // Made by every step, as the holding place is by every end: a name a
  // user planted there before any job was kept is moved aside first, and
  // the step's namespace can show the user's kept trees (planKeptShares).
  if (config.keepTtl != 0) {
    for (let g = 0; g < config.baseCount; g++) planKept(config.bases[g], parentSlot[g], g);
  }
  for (let m = 0; m < config.mountCount; m++) {
    const mount = config.mounts[m];
    const g = mount.base;
    const start = cursor;
    put(jobPath[g], jobPathLen[g]);
    putByte(0x2f);
    const name = cursor;
    if (room(mount.len)) cursor += <usize>writeMountName(cursor, mount.ptr, mount.len);
    const len = finish(start);
    const made = slots++;
    emit(Op.MKDIR_AT, 0, made, jobSlot[g], PRIVATE_MODE, uid, gid,
         name, <i32>(start + <usize>len - name), start, len);
    madeSlot[m] = made;
    privPath[m] = start;
    privPathLen[m] = len;
  }
}

function hasDisk(config: Config): bool {
  for (let t = 0; t < config.ownFsCount; t++) if (config.ownFs[t].disk) return true;
  return false;
}

// A disk='s image is an unnamed file (O_TMPFILE) in "<first base>.disk",
// root's, 0700, beside the holding place and the namespace directory (a
// squatter moved aside like one there): no name of it exists for a user
// to reach or a crash to leave behind, and the space is the local disk's
// the job directories are on. Made or verified by every step (before its
// namespace: the binds may cover it), used by the one that mounts.
let diskDir: i32 = -1;
let diskDirPath: usize = 0;
let diskDirPathLen: i32 = 0;
function planDiskDir(first: Base, parent: i32): void {
  const start = cursor;
  put(first.ptr, first.len);
  putAscii(".disk");
  const len = finish(start);
  const name = start + <usize>(lastSlash(first.ptr, first.len) + 1);
  diskDir = slots++;
  emit(Op.MKDIR_AT, F_ASIDE, diskDir, parent, DISK_DIR_MODE, 0, 0,
       name, <i32>(start + <usize>len - name), start, len);
  diskDirPath = start;
  diskDirPathLen = len;
}

// The kept place of a base (#26), "<base>.kept": root's, KEPT_MODE, a
// squatter moved aside. Returns its slot; its path in keptPath[g].
function planKept(base: Base, parent: i32, g: i32): i32 {
  const start = cursor;
  put(base.ptr, base.len);
  putAscii(".kept");
  const len = finish(start);
  const name = start + <usize>(lastSlash(base.ptr, base.len) + 1);
  const slot = slots++;
  emit(Op.MKDIR_AT, F_ASIDE, slot, parent, KEPT_MODE, 0, 0,
       name, <i32>(start + <usize>len - name), start, len);
  keptPath[g] = start;
  keptPathLen[g] = len;
  return slot;
}

// Whether a base's kept place lies directly in a mount= path, where the
// job's own private directory covers it: then it is bound into the job at
// its path (as a share= is), so that a user finds a failed job's files
// from a later job on the node. Elsewhere the job sees it anyway.
function keptCovered(config: Config, g: i32): bool {
  const base = config.bases[g];
  const cut = lastSlash(base.ptr, base.len);
  for (let m = 0; m < config.mountCount; m++) {
    const mount = config.mounts[m];
    if (mount.len == cut && memory.compare(mount.ptr, base.ptr, <usize>cut) == 0) return true;
  }
  return false;
}

// Opens a mount point (its path copied into the strings); returns its slot,
// and its string's offset in targetAt.
let targetAt: usize = 0;
function planTarget(p: usize, n: i32): i32 {
  const start = cursor;
  put(p, n);
  const len = finish(start);
  const slot = slots++;
  emit(Op.OPEN_TARGET, 0, slot, -1, 0, 0, 0, start, len, start, len);
  targetAt = start;
  return slot;
}

function planNamespace(config: Config, uid: u32, gid: u32, memMb: u64): void {
  emit(Op.UNSHARE_MOUNT_NS, 0, -1, -1, 0, 0, 0, 0, 0, 0, 0);
  emit(Op.MAKE_SLAVE, 0, -1, -1, 0, 0, 0, 0, 0, 0, 0);
  // Every source and target is opened in the new namespace before the first
  // bind: after /tmp is covered, /tmp/<base>... is no longer reachable by path.
  // A source is found again by path (a descriptor from before unshare is on
  // a mount of the host's namespace, which mount(2) refuses to bind), so the
  // host checks it is the very directory made above (its slot in W_ARG).
  for (let m = 0; m < config.mountCount; m++) {
    const mount = config.mounts[m];
    const p = privPath[m], pl = privPathLen[m];
    const s = slots++;
    emit(Op.OPEN_PRIVATE, 0, s, madeSlot[m], 0, uid, 0, p, pl, p, pl);
    privSlot[m] = s;
    targetSlot[m] = planTarget(mount.ptr, mount.len);
    targetStr[m] = targetAt;
  }
  // Each tmpfs's mount point too, with the binds' targets: a mount point
  // that cannot be opened fails the step before anything is mounted.
  for (let t = 0; t < config.ownFsCount; t++) {
    const tmpfs = config.ownFs[t];
    ownFsSlot[t] = planTarget(tmpfs.ptr, tmpfs.len);
    ownFsStr[t] = targetAt;
  }
  // runtime='s mount point with them (not one of the job's paths: checked
  // here so a node without it fails the step before anything is mounted).
  let runtimeSlot = -1;
  let runtimeStr: usize = 0;
  if (config.runtimeLen > 0) {
    runtimeSlot = planTarget(config.runtimePtr, config.runtimeLen);
    runtimeStr = targetAt;
  }
  // The host's shared directories too: after the binds their paths lead
  // into the private ones.
  for (let s = 0; s < config.shareCount; s++) {
    const share = config.shares[s];
    const start = cursor;
    put(share.ptr, share.len);
    const len = finish(start);
    const slot = slots++;
    emit(Op.OPEN_SHARED, 0, slot, -1, 0, 0, 0, start, len, start, len);
    shareSlot[s] = slot;
    shareStr[s] = start;
  }
  for (let g = 0; g < config.baseCount; g++) {
    keptShareSlot[g] = -1;
    if (config.keepTtl == 0 || !keptCovered(config, g)) continue;
    const slot = slots++;
    emit(Op.OPEN_SHARED, 0, slot, -1, 0, 0, 0, keptPath[g], keptPathLen[g], keptPath[g], keptPathLen[g]);
    keptShareSlot[g] = slot;
  }
  for (let m = 0; m < config.mountCount; m++) {
    emit(Op.BIND, 0, privSlot[m], targetSlot[m], 0, 0, 0,
         targetStr[m], config.mounts[m].len, privPath[m], privPathLen[m]);
  }
  let measured = false;
  for (let t = 0; t < config.ownFsCount; t++) {
    const fs = config.ownFs[t];
    const p = ownFsStr[t], l = fs.len;
    if (fs.disk) {
      // A share's size is known once the images' filesystem is measured
      // (the run computes it: run.ts diskSizeMb); by the namespace's
      // maker only, a step that joins skips all this.
      if (fs.sizePercent != 0 && !measured) {
        emit(Op.MEASURE_DISK, 0, -1, diskDir, 0, 0, 0, diskDirPath, diskDirPathLen, diskDirPath, diskDirPathLen);
        measured = true;
      }
      const program = cursor;
      putAscii(MKE2FS);
      const programLen = finish(program);
      const share = fs.sizePercent != 0;
      emit(Op.MOUNT_DISK, (fs.noexec ? F_NOEXEC : 0) | (share ? F_SHARE : 0) | (fs.request ? F_REQUEST : 0), ownFsSlot[t], diskDir,
           fs.mode, uid, gid, program, programLen, p, l,
           share ? fs.sizePercent : fs.sizeMb, fs.inodes, fs.maxMb);
      continue;
    }
    const sizeMb = sizeMbFor(fs, memMb);
    emit(Op.MOUNT_TMPFS, fs.noexec ? F_NOEXEC : 0, ownFsSlot[t], -1,
         fs.mode, uid, gid, p, l, p, l, sizeMb, inodesFor(fs, sizeMb));
  }
  if (runtimeSlot >= 0) planRuntime(config, runtimeSlot, runtimeStr, uid, gid);
  // Last: each is a name inside a private directory or tmpfs, now mounted.
  for (let s = 0; s < config.shareCount; s++) {
    const p = shareStr[s], l = config.shares[s].len;
    emit(Op.BIND_SHARED, 0, shareSlot[s], -1, 0, uid, gid, p, l, p, l);
  }
  for (let g = 0; g < config.baseCount; g++) {
    if (keptShareSlot[g] < 0) continue;
    emit(Op.BIND_SHARED, F_READONLY, keptShareSlot[g], -1, 0, uid, gid, keptPath[g], keptPathLen[g], keptPath[g], keptPathLen[g]);
  }
}

// --keep-tmpdir: the request is left where the job's end on this node
// finds it (KEEP_ASKED), in the namespace directory only root can write.
// After NS_READY: every step that has the option leaves it, the steps that
// joined the namespace too; the last one's stands.
function planKeepAsk(userOpts: i32): void {
  const keep = userOpts & U_KEEP_MASK;
  if (keep == 0) return;
  const name = cursor;
  putAscii("keep.");
  put(nsName + 4, nsNameLen - 4); // the job id of "job.<jobid>"
  const nameLen = finish(name);
  emit(Op.KEEP_ASK, 0, -1, nsDirSlot, keep, 0, 0, name, nameLen, nsPath, nsPathLen);
}

// runtime=: a fresh tmpfs of the job's own on the directory (root's 0755,
// as systemd-logind's /run/user: every other user's runtime directory is
// hidden from the job), then "<uid>" in it, the job's user's, 0700: made in
// a filesystem only root has mounted this very moment, by a descriptor of
// its root opened after the mount (OPEN_TARGET walks without symlinks), so
// no name a user planted lies on the way. The namespace's maker only: a
// step that joins finds it made; the holder empties it at the job's end
// as any tmpfs= of the job's.
const RUNTIME_ROOT_MODE: i32 = 0o755;
function planRuntime(config: Config, mountSlot: i32, mountStr: usize, uid: u32, gid: u32): void {
  const p = mountStr, l = config.runtimeLen;
  const sizeMb = config.runtimeMb;
  emit(Op.MOUNT_TMPFS, 0, mountSlot, -1, RUNTIME_ROOT_MODE, 0, 0, p, l, p, l, sizeMb, inodesForMb(0, sizeMb));
  const root = planTarget(p, l);
  const start = cursor;
  put(p, l);
  putByte(0x2f);
  const name = cursor;
  putDecimal(uid);
  const len = finish(start);
  emit(Op.MKDIR_AT, 0, slots++, root, PRIVATE_MODE, uid, gid,
       name, <i32>(start + <usize>len - name), start, len);
}

// nr_inodes= as given, or one per 4 KiB of the size (at least 1,024): a
// full tmpfs of small files is still possible, and what its inodes and
// directory entries cost the kernel (about 1 KiB each, memory its size does
// not count) stays within a quarter of that size. The kernel's own default
// is half the node's RAM pages, whatever the size.
const MIN_INODES: u64 = 1024;
function inodesFor(tmpfs: OwnFs, sizeMb: u32): u32 {
  return inodesForMb(tmpfs.inodes, sizeMb);
}
function inodesForMb(given: u32, sizeMb: u32): u32 {
  if (given != 0) return given;
  const n = <u64>sizeMb * 256;
  return n < MIN_INODES ? <u32>MIN_INODES : n > 0xFFFFFFFF ? 0xFFFFFFFF : <u32>n;
}

// The memory a tmpfs's percentage is of: what Slurm gave the job on this
// node, or the node's when it gave none (no memory limit: the job may use
// all of it). 0: neither is known.
function jobMemory(jobMemMb: u32, nodeMemMb: u32): u64 {
  return jobMemMb != 0 ? <u64>jobMemMb : <u64>nodeMemMb;
}

// A percentage of unknown memory is refused before any record is written.
function checkSizes(config: Config, memMb: u64, jobCores: u32, nodeCores: u32): i32 {
  for (let t = 0; t < config.ownFsCount; t++) {
    const fs = config.ownFs[t];
    if (fs.sizePercent == 0) continue;
    if (!fs.disk && memMb == 0) return unknownShare(fs, "memory");
    if (fs.disk && (jobCores == 0 || nodeCores == 0)) return unknownShare(fs, "cores");
  }
  return Err.OK;
}

// A tmpfs's size in MiB for this job (memMb known when it has a
// percentage: checkSizes). Never 0 MiB: to the kernel that is a tmpfs
// without any limit.
function sizeMbFor(tmpfs: OwnFs, memMb: u64): u32 {
  if (tmpfs.sizePercent == 0) return tmpfs.sizeMb;
  const sizeMb = memMb * <u64>tmpfs.sizePercent / 100;
  return sizeMb == 0 ? 1 : <u32>sizeMb;
}

function unknownShare(fs: OwnFs, what: string): i32 {
  const given = fs.sizeArgLen;
  if (given > 0) sayShort(fs.sizeArgPtr, given);
  else { say("size="); sayNumber(fs.disk ? DEFAULT_DISK_PERCENT : DEFAULT_TMPFS_PERCENT); say("%"); }
  say(": the job's and the node's "); say(what); say(" are unknown (");
  if (given == 0) say("the default size of ");
  say(fs.disk ? "disk=" : "tmpfs="); sayShort(fs.ptr, fs.len);
  say(")");
  return fail(Err.BAD_INPUT);
}

// The program a disk= formats its image with (e2fsprogs), by its full
// path: run without a shell or a PATH search.
const MKE2FS = "/sbin/mke2fs";

// CHECK: what the node must have for these options, looked at when
// slurmd and each step load the plugin, so a node without it says so
// before any job starts on it.
function planCheck(config: Config): void {
  if (!hasDisk(config)) return;
  const start = cursor;
  putAscii(MKE2FS);
  const len = finish(start);
  for (let t = 0; t < config.ownFsCount; t++) {
    const fs = config.ownFs[t];
    if (!fs.disk) continue;
    // W_PATH: the disk= that needs it, for the message.
    emit(Op.NEED_PROGRAM, 0, -1, -1, 0, 0, 0, start, len, fs.ptr, fs.len);
    return;
  }
}

// TMPDIR for the step's tasks or the ssh session: after NS_READY, which a
// step that joined the job's namespace skips to, so every step has it (so
// do planHostEnv's, just before it).
//
// TMPDIR is set whatever the job's environment had: what a job launched
// from a login carries is the login's TMPDIR, a path of the submit host's
// that the job's private /tmp does not have. Each tmpdir_var= name only
// where the environment has none (F_IF_UNSET): a site's or user's own
// SLURM_TMPDIR, TMP... is theirs, as flux leaves a TMPDIR it finds.
//
// runtime=: XDG_RUNTIME_DIR is the job's own "<runtime>/<uid>", whatever
// the job's environment had: the login's is the one to replace.
function planEnv(config: Config, uid: u32): void {
  if (config.tmpdirLen > 0) {
    const name = cursor;
    putAscii("TMPDIR");
    const nameLen = finish(name);
    const value = cursor;
    put(config.tmpdirPtr, config.tmpdirLen);
    const valueLen = finish(value);
    emit(Op.SET_ENV, 0, -1, -1, 0, 0, 0, name, nameLen, value, valueLen);
    for (let k = 0; k < config.tmpdirVarCount; k++) {
      const other = cursor;
      put(config.tmpdirVarPtr[k], config.tmpdirVarLen[k]);
      const otherLen = finish(other);
      emit(Op.SET_ENV, F_IF_UNSET, -1, -1, 0, 0, 0, other, otherLen, value, valueLen);
    }
  }
  if (config.runtimeLen > 0) {
    const name = cursor;
    putAscii("XDG_RUNTIME_DIR");
    const nameLen = finish(name);
    const value = cursor;
    put(config.runtimePtr, config.runtimeLen);
    putByte(0x2f);
    putDecimal(uid);
    const valueLen = finish(value);
    emit(Op.SET_ENV, 0, -1, -1, 0, 0, 0, name, nameLen, value, valueLen);
  }
}

// PRIVATE_TMPDIR_HOST_<NAME> for each mount=: its private directory as the
// host sees it, the same path on every node of the job. Only an sbcast
// destination: slurmd writes sbcast's files in the host's namespace (its
// fork joins Slurm's own job_container/namespace plugins only, no SPANK
// hook runs there), so "$PRIVATE_TMPDIR_HOST_TMP/app" is the way into the
// job's /tmp. None for a tmpfs=: it exists only in the job's namespace.
// The batch step and the interactive step only (Phase.SCRIPT: build): a
// session does not know its job, the extern step runs no task. The
// variables are ours: the host replaces one the job brought. Of two mounts
// with one name (/var/tmp and /var-tmp, or /var_tmp under another base) the
// first has it: the second would replace it unseen. The value is privPath
// as planDirectories wrote it, not a copy.
function planHostEnv(config: Config): void {
  for (let m = 0; m < config.mountCount; m++) {
    const mount = config.mounts[m];
    let taken = false;
    for (let k = 0; k < m && !taken; k++) {
      const other = config.mounts[k];
      taken = envNameEquals(other.ptr, other.len, mount.ptr, mount.len);
    }
    if (taken) continue;
    const name = cursor;
    putAscii(HOST_ENV_PREFIX);
    if (room(mount.len)) cursor += <usize>writeEnvName(cursor, mount.ptr, mount.len);
    const nameLen = finish(name);
    emit(Op.SET_ENV, 0, -1, -1, 0, 0, 0, name, nameLen, privPath[m], privPathLen[m]);
  }
}

// Output slurmstepd writes under a private mount (sbatch -o /tmp/out.%j,
// srun -o /tmp/out.%t) would go with the job: the host links each such file
// at its path on the host, where Slurm alone would have written it. Planned
// here, before the namespace, so the host keeps the host's own directories:
// inside the job both paths are the private one. Not the extern step (no
// task) nor a tmpfs= (memory, gone with the job; no host directory to link
// into from it).
function planKeepOutput(config: Config, uid: u32, gid: u32): void {
  for (let m = 0; m < config.mountCount; m++) {
    const mount = config.mounts[m];
    const start = cursor;
    put(mount.ptr, mount.len);
    const len = finish(start);
    emit(Op.KEEP_OUTPUT, 0, -1, madeSlot[m], 0, uid, gid, start, len, privPath[m], privPathLen[m]);
  }
}

// Writes the holding place's path "<base>.hold" (holdPath, holdPathLen) and
// returns the offset of its name within it.
let holdPath: usize = 0;
let holdPathLen: i32 = 0;
function putHoldPath(base: Base): usize {
  const start = cursor;
  put(base.ptr, base.len);
  putByte(0x2e); putByte(0x68); putByte(0x6f); putByte(0x6c); putByte(0x64); // ".hold"
  holdPathLen = finish(start);
  holdPath = start;
  return start + <usize>(lastSlash(base.ptr, base.len) + 1);
}

// Opens (making or verifying it, a squatter exchanged and moved aside) the
// holding place "<base>.hold" in the parent slot; returns its slot.
function planHold(base: Base, parent: i32): i32 {
  const name = putHoldPath(base);
  const start = holdPath, len = holdPathLen;
  const slot = slots++;
  emit(Op.MKDIR_AT, F_ASIDE, slot, parent, HOLD_MODE, 0, 0,
       name, <i32>(start + <usize>len - name), start, len);
  return slot;
}

// cleanup=yes takes every run's directory of the job ("<base>.<jobid>.<n>",
// whatever n: the epilog does not know the restart count) out of every
// user's reach by one rename into the holding place; the remover (DRAIN)
// empties it later. cleanup=no leaves them to the site's own epilog but
// marks them ended, so a requeued run starts empty.
function planRemoval(config: Config, jobid: u32, restart: u32, uid: u32, userOpts: i32): void {
  for (let g = 0; g < config.baseCount; g++) {
    const base = config.bases[g];
    const parent = planParent(base, 0);
    // The holder goes first: its namespace keeps the binds of the job's
    // directories alive while any process of the job is left in it.
    if (g == 0) {
      const dir = planNsDir(base, parent, jobid);
      emit(Op.NS_RELEASE, 0, -1, dir, 0, 0, 0, nsName, nsNameLen, nsPath, nsPathLen);
      // Whether to keep (#26): the job's request, as a step left it or
      // as the epilog's own option says, and Slurm's word on the job's
      // outcome; the run decides (run.ts), KEEP_AT acts on it.
      if (config.keepTtl != 0) {
        const name = cursor;
        putAscii("keep.");
        put(nsName + 4, nsNameLen - 4);
        const nameLen = finish(name);
        emit(Op.KEEP_ASKED, 0, -1, dir, userOpts & U_KEEP_MASK, 0, 0, name, nameLen, nsPath, nsPathLen);
        emit(Op.JOB_FAILED, 0, -1, -1, 0, 0, 0, 0, 0, 0, 0);
      }
    }
    if (!config.cleanup) {
      const path = putJobPath(base, jobid, restart);
      const pathLen = finish(path);
      emit(Op.MARK_ENDED, 0, -1, parent, 0, uid, 0,
           nameAt, <i32>(path + <usize>pathLen - nameAt), path, pathLen);
      continue;
    }
    const hold = planHold(base, parent);
    const pre = cursor;
    put(base.ptr, base.len);
    putByte(0x2e); putDecimal(jobid); putByte(0x2e);
    const preLen = finish(pre);
    const name = pre + <usize>(lastSlash(base.ptr, base.len) + 1);
    // Kept instead, when the run decided so: renamed whole, before the
    // removal would take it. A job directory it leaves (not the user's,
    // not a directory) is the removal's as ever.
    if (config.keepTtl != 0) {
      const kept = planKept(base, parent, g);
      emit(Op.KEEP_AT, 0, kept, parent, <i32>config.keepTtl, uid, 0,
           name, <i32>(pre + <usize>preLen - name), keptPath[g], keptPathLen[g]);
    }
    // W_PATH: this run's directory, as messages have always named it.
    const path = putJobPath(base, jobid, restart);
    const pathLen = finish(path);
    emit(Op.REMOVE_AT, F_EVERY_RESTART | F_DEFER, hold, parent, 0, uid, 0,
         name, <i32>(pre + <usize>preLen - name), path, pathLen);
  }
}

// The remover: every base's holding place emptied, orphans of jobs no
// longer on the node taken in first (F_SWEEP). Not with cleanup=no: the
// site keeps job directories on purpose (its own epilog, inspection), and
// one left by a job that is gone is exactly what it asked to keep.
function planDrain(config: Config): void {
  for (let g = 0; g < config.baseCount; g++) {
    const base = config.bases[g];
    const parent = planParent(base, 0);
    // Holders of jobs no longer on the node (slurmd was down at their end,
    // or the epilog never ran) are released; never one of a running job.
    if (g == 0) {
      const dir = planNsDir(base, parent, 0);
      const pre = cursor;
      putByte(0x6a); putByte(0x6f); putByte(0x62); putByte(0x2e); // "job."
      const preLen = finish(pre);
      emit(Op.NS_RELEASE, F_SWEEP, -1, dir, 0, 0, 0, pre, preLen, nsDirPath, nsDirPathLen);
    }
    const hold = planHold(base, parent);
    // Kept trees past their time, or over the budget, join the holding
    // place first: this pass removes them.
    if (config.keepTtl != 0) {
      const kept = planKept(base, parent, g);
      const share = config.keepMaxPercent != 0;
      emit(Op.KEPT_SWEEP, share ? F_SHARE : 0, kept, hold, <i32>config.keepTtl, 0, 0,
           keptPath[g], keptPathLen[g], keptPath[g], keptPathLen[g],
           share ? config.keepMaxPercent : config.keepMaxMb);
    }
    planUsagePaths(config, g);
    const start = cursor;
    put(base.ptr, base.len);
    putByte(0x2e);
    const len = finish(start);
    const name = start + <usize>(lastSlash(base.ptr, base.len) + 1);
    emit(Op.DRAIN_AT, config.cleanup ? F_SWEEP : 0, hold, parent, DRAIN_BUDGET_S, 0, 0,
         name, <i32>(start + <usize>len - name), holdPath, holdPathLen);
  }
}

// The usage lines (#26) name each private directory by the mount path the
// job saw: one record per mount= of base g, its directory name (written by
// naming.ts as the steps made it) and its path, so the remover never
// derives one.
function planUsagePaths(config: Config, g: i32): void {
  for (let m = 0; m < config.mountCount; m++) {
    const mount = config.mounts[m];
    if (mount.base != g) continue;
    const name = cursor;
    if (room(mount.len)) cursor += <usize>writeMountName(cursor, mount.ptr, mount.len);
    const nameLen = finish(name);
    const path = cursor;
    put(mount.ptr, mount.len);
    const pathLen = finish(path);
    emit(Op.USAGE_PATH, 0, -1, -1, 0, 0, 0, name, nameLen, path, pathLen);
  }
}

// Work a budget-limited pass left in a holding place is continued by the
// next step on the node too, not only by the next epilog: an idle node's
// leftovers must not wait for a job's end. In the host's namespace, before
// the step's own; the holding place is only looked at, never made here.
function planContinue(config: Config): void {
  for (let g = 0; g < config.baseCount; g++) {
    const name = putHoldPath(config.bases[g]);
    planUsagePaths(config, g);
    emit(Op.CONTINUE_AT, 0, -1, parentSlot[g], DRAIN_BUDGET_S, 0, 0,
         name, <i32>(holdPath + <usize>holdPathLen - name), holdPath, holdPathLen);
  }
}

// The job's namespace (#12) is kept by a holder that listens in
// "<first base>.ns" (root's, 0700, beside the holding place; a squatter is
// moved aside like one there), on the job's entry "job.<jobid>": one per
// job and node, whatever its restart count (a requeued run is a new
// allocation, its namespace was released by the previous run's end).
// Returns the directory's slot; nsName/nsNameLen, nsPath/nsPathLen: the
// job's entry and its full path, for messages.
let nsName: usize = 0;
let nsNameLen: i32 = 0;
let nsPath: usize = 0;
let nsPathLen: i32 = 0;
let nsDirPath: usize = 0;
let nsDirPathLen: i32 = 0;
let nsDirSlot: i32 = -1;
function planNsDir(first: Base, parent: i32, jobid: u32): i32 {
  const start = cursor;
  put(first.ptr, first.len);
  putByte(0x2e); putByte(0x6e); putByte(0x73); // ".ns"
  const len = finish(start);
  const name = start + <usize>(lastSlash(first.ptr, first.len) + 1);
  const slot = slots++;
  emit(Op.MKDIR_AT, F_ASIDE, slot, parent, NS_DIR_MODE, 0, 0,
       name, <i32>(start + <usize>len - name), start, len);
  nsDirPath = start;
  nsDirPathLen = len;
  nsPath = cursor;
  put(start, len);
  putByte(0x2f);
  nsName = cursor;
  putByte(0x6a); putByte(0x6f); putByte(0x62); putByte(0x2e); // "job."
  putDecimal(jobid);
  nsPathLen = finish(nsPath);
  nsNameLen = <i32>(nsPath + <usize>nsPathLen - nsName);
  nsDirSlot = slot;
  return slot;
}

// A step joins the job's namespace if it is kept, else becomes (in a
// forked holder) or makes (fallback) it: NS_ENTER's "joined" skips the
// namespace records and their NS_READY, whose index it carries (patched
// once known: the run loop never jumps anywhere the builder did not put).
function planJobNamespace(config: Config, jobid: u32, uid: u32, gid: u32, memMb: u64, flags: i32): void {
  const dir = planNsDir(config.bases[0], parentSlot[0], jobid);
  const enter = count;
  emit(Op.NS_ENTER, flags, -1, dir, 0, uid, 0, nsName, nsNameLen, nsPath, nsPathLen);
  planNamespace(config, uid, gid, memMb);
  const ready = count;
  emit(Op.NS_READY, 0, -1, dir, 0, 0, 0, nsName, nsNameLen, nsPath, nsPathLen);
  if (enter < MAX_RECORDS) store<i32>(OUTPUT + <usize>(enter * REC_SIZE) + (W_MODE << 2), ready);
}

// An ssh session adopted into a job joins that job's namespace: the session
// knows its user, not its job, so the host looks for the user's job among
// the holders in the namespace directory ("job." and a job id). Nothing is
// made for it but the directory (as a step would: root's 0700, a squatter
// moved aside); no holder of the user's is an error, never the host's /tmp.
function planSession(config: Config, uid: u32): void {
  const first = config.bases[0];
  const parent = planParent(first, 0);
  const dir = planNsDir(first, parent, 0);
  const pre = cursor;
  putByte(0x6a); putByte(0x6f); putByte(0x62); putByte(0x2e); // "job."
  const preLen = finish(pre);
  const enter = count;
  emit(Op.NS_ENTER, F_SESSION, -1, dir, 0, uid, 0, pre, preLen, nsDirPath, nsDirPathLen);
  const ready = count;
  emit(Op.NS_READY, 0, -1, dir, 0, 0, 0, pre, preLen, nsDirPath, nsDirPathLen);
  if (enter < MAX_RECORDS) store<i32>(OUTPUT + <usize>(enter * REC_SIZE) + (W_MODE << 2), ready);
}

// The job's cores on this node and the node's, as build() was given them:
// a disk='s percentage is of their share of the images' filesystem.
let shareCores: u32 = 0;
let shareNodeCores: u32 = 0;
// The job's own --tmp in MiB (0: none or not known): plan()'s, or in INIT
// the JOB_REQUEST's answer (run.ts sets it).
let jobRequestMb: u32 = 0;
export function setJobRequestMb(mb: u32): void { jobRequestMb = mb; }

// The least a disk= is given, whatever its share: a filesystem for a
// job's /tmp smaller than this is of no use, and mke2fs's own minimum for
// these options is far below it.
export const MIN_DISK_MB: u64 = 64;

// A MOUNT_DISK's size in MiB, on a filesystem of fsMb MiB (MEASURE_DISK's
// answer): its size= as given, or its percentage of the job's cores' share
// of fsMb, capped by max= (maxMb, 0: none), never under MIN_DISK_MB.
export function diskSizeMb(flags: i32, sizeMb: u32, maxMb: u32, fsMb: u64): u32 {
  // The job's own request first, where the admin lets it decide.
  if ((flags & F_REQUEST) != 0 && jobRequestMb != 0) {
    const asked = maxMb != 0 && jobRequestMb > maxMb ? maxMb : jobRequestMb;
    return <u64>asked < MIN_DISK_MB ? <u32>MIN_DISK_MB : asked;
  }
  if ((flags & F_SHARE) == 0) return sizeMb;
  const cores = shareCores < shareNodeCores ? <u64>shareCores : <u64>shareNodeCores;
  let mb = shareNodeCores == 0 ? 0 : fsMb * <u64>sizeMb / 100 * cores / <u64>shareNodeCores;
  if (maxMb != 0 && mb > <u64>maxMb) mb = <u64>maxMb;
  if (mb < MIN_DISK_MB) mb = MIN_DISK_MB;
  return mb > 0xFFFFFFFF ? 0xFFFFFFFF : <u32>mb;
}

// A disk='s inode count: nr_inodes= as given, or one per 8 KiB of its size
// (mke2fs's default of one per 16 KiB runs out first for the many small
// files a /tmp holds; the tables cost 3% of the space).
export function diskInodes(inodes: u32, sizeMb: u32): u32 {
  if (inodes != 0) return inodes;
  const n = <u64>sizeMb * 128;
  return n > 0xFFFFFFFF ? 0xFFFFFFFF : <u32>n;
}

// INIT: whether the disks a job's first step will reserve fit, checked
// where a refusal fails the job and keeps the node (abi.ts Phase.INIT).
// Not for a job whose namespace is held: its disks exist. The directories
// are those the step makes (the same records): nothing here a step would
// not have made.
function planRoom(config: Config, jobid: u32): void {
  if (!hasDisk(config)) return;
  const first = config.bases[0];
  const parent = planParent(first, F_CREATE);
  parentSlot[0] = parent;
  const dir = planNsDir(first, parent, jobid);
  emit(Op.NS_HELD, 0, -1, dir, 0, 0, 0, nsName, nsNameLen, nsPath, nsPathLen);
  planDiskDir(first, parent);
  // Asked of Slurm's controller once, here, for the job's first step only
  // (a held namespace ended the run above); the host keeps the answer for
  // the step's plan, so its namespace's maker never asks.
  for (let t = 0; t < config.ownFsCount; t++) {
    if (!config.ownFs[t].request) continue;
    emit(Op.JOB_REQUEST, 0, -1, -1, 0, 0, 0, 0, 0, 0, 0);
    break;
  }
  let measured = false;
  for (let t = 0; t < config.ownFsCount; t++) {
    const fs = config.ownFs[t];
    if (!fs.disk) continue;
    const share = fs.sizePercent != 0;
    if (share && !measured) {
      emit(Op.MEASURE_DISK, 0, -1, diskDir, 0, 0, 0, diskDirPath, diskDirPathLen, diskDirPath, diskDirPathLen);
      measured = true;
    }
    emit(Op.DISK_FITS, (share ? F_SHARE : 0) | (fs.request ? F_REQUEST : 0), -1, diskDir, 0, 0, 0, fs.ptr, fs.len, fs.ptr, fs.len,
         share ? fs.sizePercent : fs.sizeMb, 0, fs.maxMb);
  }
}

// A job's own options (abi.ts U_*) only where plugstack.conf offers them:
// refused, naming what is missing, in every phase (CHECK is what sbatch
// and srun run, so the user hears it at submission).
function checkUserOpts(config: Config, userOpts: i32): i32 {
  if ((userOpts & U_KEEP_MASK) != 0 && config.keepTtl == 0) {
    say("--keep-tmpdir: this cluster keeps no job's directories (plugstack.conf has no keep=)");
    return fail(Err.BAD_VALUE);
  }
  if ((userOpts & U_OFF) != 0 && !config.optout) {
    say("--private-tmpdir=off: not allowed on this cluster (plugstack.conf has no optout=yes); every job gets a private ");
    if (config.mountCount > 0) sayShort(config.mounts[0].ptr, config.mounts[0].len);
    else sayShort(config.ownFs[0].ptr, config.ownFs[0].len);
    return fail(Err.BAD_VALUE);
  }
  if ((userOpts & ~(U_KEEP_MASK | U_OFF)) != 0 || (userOpts & U_KEEP_MASK) == U_KEEP_MASK) {
    say("unknown job options"); return fail(Err.BAD_INPUT);
  }
  return Err.OK;
}

// Builds the plan for a parsed configuration; returns the record count.
// The extern step plans the namespace records too: the holder it starts
// carries them out, tmpfs mounts included.
export function build(config: Config, phase: i32, jobid: u32, restart: u32, uid: u32, gid: u32,
                      jobMemMb: u32, nodeMemMb: u32, jobCores: u32, nodeCores: u32, requestMb: u32,
                      userOpts: i32): i32 {
  // A job's end and the remover never refuse: what the job may not ask
  // is dropped there, and its directories go as ever.
  if (phase == Phase.EPILOG || phase == Phase.DRAIN) {
    if (config.keepTtl == 0) userOpts &= ~U_KEEP_MASK;
    if (!config.optout) userOpts &= ~U_OFF;
  }
  const allowed = checkUserOpts(config, userOpts);
  if (allowed < 0) return allowed;
  count = 0;
  slots = 0;
  cursor = STRINGS;
  overflow = false;
  diskDir = -1;
  shareCores = jobCores;
  shareNodeCores = nodeCores;
  jobRequestMb = requestMb;
  if (phase == Phase.CHECK) {
    planCheck(config);
  } else if (phase == Phase.INIT) {
    planCheck(config);
    // Without the cores a share cannot be sized: the step's own plan
    // refuses it, naming the option; here nothing is checked.
    if (jobCores != 0 && nodeCores != 0) planRoom(config, jobid);
  } else if ((phase == Phase.STEP || phase == Phase.SCRIPT) && (userOpts & U_OFF) != 0) {
    // --private-tmpdir=off, where optout=yes allows it: this step keeps
    // the host's paths; nothing is made, nothing joined.
  } else if (phase == Phase.EXTERN || phase == Phase.STEP || phase == Phase.SCRIPT) {
    const memMb = jobMemory(jobMemMb, nodeMemMb);
    const r = checkSizes(config, memMb, jobCores, nodeCores);
    if (r < 0) return r;
    planDirectories(config, jobid, restart, uid, gid);
    if (config.cleanup) planContinue(config);
    if (phase != Phase.EXTERN) planKeepOutput(config, uid, gid);
    planJobNamespace(config, jobid, uid, gid, memMb, phase == Phase.EXTERN ? F_NO_JOIN : 0);
    // The extern step runs no task: nothing to give a variable. The host
    // paths only where sbcast is typed: Slurm's spank_setenv costs a step
    // its first 256 KiB of fresh heap (setenvf's buffer), about 0.5 ms
    // where page faults are dear, so every srun step does without them.
    if (phase == Phase.SCRIPT) planHostEnv(config);
    if (phase == Phase.STEP || phase == Phase.SCRIPT) planEnv(config, uid);
    if (phase != Phase.EXTERN) planKeepAsk(userOpts);
  } else if (phase == Phase.EPILOG) {
    planRemoval(config, jobid, restart, uid, userOpts);
  } else if (phase == Phase.DRAIN) {
    planDrain(config);
  } else if (phase == Phase.SESSION) {
    planSession(config, uid);
    planEnv(config, uid);
  } else {
    say("unknown phase");
    return fail(Err.BAD_PHASE);
  }
  if (overflow) { say("plan does not fit the output buffer"); return fail(Err.PLAN_TOO_LARGE); }
  // The hosts keep MAX_SLOTS descriptors; the option limits keep a plan
  // within them, this keeps it so should they ever grow apart.
  if (slots > MAX_SLOTS) {
    say("plan needs more than "); sayNumber(<u32>MAX_SLOTS); say(" descriptor slots");
    return fail(Err.PLAN_TOO_LARGE);
  }
  return count;
}
