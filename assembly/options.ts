// Plugstack arguments -> validated configuration. Every argument is checked
// here, once, so a bad line is refused at load with the option named.
import { INPUT_CAP, Err } from "./abi";
import { INPUT } from "./memory";
import { fail, say, sayNumber, sayShort } from "./errors";
import { startsWithAscii, equalsAscii, bytesEqual, lastSlash, utf8Seq } from "./text";
import { mountNameEquals, MAX_JOBDIR_SUFFIX } from "./naming";

export const MAX_GROUPS: i32 = 16;
export const MAX_MOUNTS: i32 = 32;
export const MAX_TMPFS: i32 = 16;
export const PATH_MAX: i32 = 4096; // including the NUL
export const NAME_MAX: i32 = 255;

// The seed's default base, for a mount= given before any base=.
const DEFAULT_BASE: usize = memory.data<u8>([0x2f, 0x74, 0x6d, 0x70, 0x2f, 0x73, 0x6c, 0x75, 0x72, 0x6d]);
const DEFAULT_BASE_LEN: i32 = 10;

// Groups: a base and the mounts after it. Values point into INPUT (or DEFAULT_BASE).
export const basePtr = new StaticArray<usize>(MAX_GROUPS);
export const baseLen = new StaticArray<i32>(MAX_GROUPS);
export const baseArgPtr = new StaticArray<usize>(MAX_GROUPS); // the option as given, 0 for the default
export const baseArgLen = new StaticArray<i32>(MAX_GROUPS);
export const mountPtr = new StaticArray<usize>(MAX_MOUNTS);
export const mountLen = new StaticArray<i32>(MAX_MOUNTS);
export const mountGroup = new StaticArray<i32>(MAX_MOUNTS);
export let groupCount: i32 = 0;
export let mountCount: i32 = 0;
export let cleanup: bool = true;

// tmpfs= mount points (#13), each with the size=, mode=, nr_inodes= and noexec given
// after it. Not in any group: a tmpfs has no directory on disk.
export const tmpfsPtr = new StaticArray<usize>(MAX_TMPFS);
export const tmpfsLen = new StaticArray<i32>(MAX_TMPFS);
// MiB when tmpfsPercent is 0; else a percentage of the job's memory,
// known only when a job is planned.
export const tmpfsSizeMb = new StaticArray<u32>(MAX_TMPFS);
export const tmpfsPercent = new StaticArray<u32>(MAX_TMPFS);
export const tmpfsSizeArgPtr = new StaticArray<usize>(MAX_TMPFS); // the size= as given
export const tmpfsSizeArgLen = new StaticArray<i32>(MAX_TMPFS);   // 0: the default
export const tmpfsMode = new StaticArray<i32>(MAX_TMPFS);
export const tmpfsNoexec = new StaticArray<bool>(MAX_TMPFS);
// nr_inodes= as given; 0: the default, derived from the size (plan.ts).
export const tmpfsInodes = new StaticArray<u32>(MAX_TMPFS);
const tmpfsGiven = new StaticArray<i32>(MAX_TMPFS); // GIVEN_* bits
export let tmpfsCount: i32 = 0;
// Without size=, half the job's memory: what the kernel gives a tmpfs of
// the node's; mode 1777, as /tmp and /dev/shm have it.
export const DEFAULT_TMPFS_PERCENT: u32 = 50;
export const DEFAULT_TMPFS_MODE: i32 = 0o1777;
const GIVEN_SIZE: i32 = 1;
const GIVEN_MODE: i32 = 2;
const GIVEN_NOEXEC: i32 = 4;
const GIVEN_INODES: i32 = 8;
// The largest size a record's word holds.
const MAX_SIZE_MB: u64 = 0xFFFFFFFF;

// tmpdir=: the job's TMPDIR; tmpdirLen 0 when not given.
export let tmpdirPtr: usize = 0;
export let tmpdirLen: i32 = 0;
let tmpdirArgPtr: usize = 0;
let tmpdirArgLen: i32 = 0;

function sayArg(ptr: usize, len: i32): void {
  sayShort(ptr, len);
  say(": ");
}

// Checks an absolute path value; on error says "<arg>: <reason>".
function checkPath(arg: usize, argLen: i32, v: usize, n: i32): i32 {
  if (n == 0) { sayArg(arg, argLen); say("empty value"); return fail(Err.EMPTY_VALUE); }
  for (let i = 0; i < n; ) {
    const c = load<u8>(v + <usize>i);
    if (c < 0x20 || c == 0x7f) {
      sayArg(arg, argLen); say("control character at byte "); sayNumber(<u32>i);
      return fail(Err.BAD_CHAR);
    }
    // Paths are UTF-8, so that the plugin, its log and the CLI all name
    // the same bytes the same way (no U+FFFD in a message or a plan).
    const seq = utf8Seq(v, i, n);
    if (seq == 0) {
      sayArg(arg, argLen); say("not UTF-8 at byte "); sayNumber(<u32>i);
      return fail(Err.BAD_CHAR);
    }
    i += seq;
  }
  if (load<u8>(v) != 0x2f) { sayArg(arg, argLen); say("not an absolute path"); return fail(Err.NOT_ABSOLUTE); }
  if (n >= PATH_MAX) { sayArg(arg, argLen); say("longer than PATH_MAX"); return fail(Err.TOO_LONG); }
  if (n == 1) { sayArg(arg, argLen); say("\"/\" itself cannot be used"); return fail(Err.BAD_PATH); }
  if (load<u8>(v + <usize>(n - 1)) == 0x2f) { sayArg(arg, argLen); say("trailing \"/\""); return fail(Err.BAD_PATH); }
  // Components: no empty ones ("//"), no "." or "..", so the path means what it says.
  let start = 1;
  for (let i = 1; i <= n; i++) {
    if (i < n && load<u8>(v + <usize>i) != 0x2f) continue;
    const len = i - start;
    const p = v + <usize>start;
    if (len == 0) { sayArg(arg, argLen); say("empty path component (\"//\")"); return fail(Err.BAD_PATH); }
    if (len > NAME_MAX) { sayArg(arg, argLen); say("a component is longer than NAME_MAX"); return fail(Err.TOO_LONG); }
    if (equalsAscii(p, len, ".") || equalsAscii(p, len, "..")) {
      sayArg(arg, argLen); say("\".\" or \"..\" component"); return fail(Err.BAD_PATH);
    }
    start = i + 1;
  }
  return Err.OK;
}

function addGroup(v: usize, n: i32, arg: usize, argLen: i32): i32 {
  if (groupCount == MAX_GROUPS) {
    sayArg(arg, argLen); say("too many base= options (at most "); sayNumber(<u32>MAX_GROUPS); say(")");
    return fail(Err.TOO_MANY);
  }
  for (let g = 0; g < groupCount; g++) {
    if (bytesEqual(unchecked(basePtr[g]), unchecked(baseLen[g]), v, n)) {
      sayArg(arg, argLen); say("base given twice");
      if (unchecked(baseArgPtr[g]) == 0) say(" (a mount= before any base= uses base=/tmp/slurm)");
      return fail(Err.DUPLICATE);
    }
  }
  unchecked(basePtr[groupCount] = v);
  unchecked(baseLen[groupCount] = n);
  unchecked(baseArgPtr[groupCount] = arg);
  unchecked(baseArgLen[groupCount] = argLen);
  groupCount++;
  return Err.OK;
}

function addMount(v: usize, n: i32, arg: usize, argLen: i32): i32 {
  if (mountCount == MAX_MOUNTS) {
    sayArg(arg, argLen); say("too many mount= options (at most "); sayNumber(<u32>MAX_MOUNTS); say(")");
    return fail(Err.TOO_MANY);
  }
  if (groupCount == 0) {
    const r = addGroup(DEFAULT_BASE, DEFAULT_BASE_LEN, 0, 0);
    if (r < 0) return r;
  }
  unchecked(mountPtr[mountCount] = v);
  unchecked(mountLen[mountCount] = n);
  unchecked(mountGroup[mountCount] = groupCount - 1);
  mountCount++;
  return Err.OK;
}

function addTmpfs(v: usize, n: i32, arg: usize, argLen: i32): i32 {
  if (tmpfsCount == MAX_TMPFS) {
    sayArg(arg, argLen); say("too many tmpfs= options (at most "); sayNumber(<u32>MAX_TMPFS); say(")");
    return fail(Err.TOO_MANY);
  }
  const t = tmpfsCount;
  unchecked(tmpfsPtr[t] = v);
  unchecked(tmpfsLen[t] = n);
  unchecked(tmpfsSizeMb[t] = 0);
  unchecked(tmpfsPercent[t] = DEFAULT_TMPFS_PERCENT);
  unchecked(tmpfsSizeArgPtr[t] = 0);
  unchecked(tmpfsSizeArgLen[t] = 0);
  unchecked(tmpfsMode[t] = DEFAULT_TMPFS_MODE);
  unchecked(tmpfsNoexec[t] = false);
  unchecked(tmpfsInodes[t] = 0);
  unchecked(tmpfsGiven[t] = 0);
  tmpfsCount++;
  return Err.OK;
}

function sayTmpfs(t: i32): void {
  say("tmpfs="); sayShort(unchecked(tmpfsPtr[t]), unchecked(tmpfsLen[t]));
}

// The tmpfs= that a size=, mode= or noexec qualifies: the latest one, each
// of those at most once for it (a second one would silently win).
function qualified(arg: usize, n: i32, given: i32): i32 {
  if (tmpfsCount == 0) {
    sayArg(arg, n); say("must follow a tmpfs= option");
    return fail(Err.BAD_VALUE);
  }
  const t = tmpfsCount - 1;
  if ((unchecked(tmpfsGiven[t]) & given) != 0) {
    sayArg(arg, n); say("given twice for "); sayTmpfs(t);
    return fail(Err.DUPLICATE);
  }
  unchecked(tmpfsGiven[t] = unchecked(tmpfsGiven[t]) | given);
  return t;
}

@inline function isDigit(c: u8): bool { return c >= 0x30 && c <= 0x39; }

function badSize(arg: usize, n: i32): i32 {
  sayArg(arg, n); say("expected a size such as 8G, 512M or 50%");
  return fail(Err.BAD_VALUE);
}

// size=<digits><K|M|G|T> (binary units, any case) or size=<digits>%; an
// absolute size is kept in MiB, rounded up, so a size is never smaller
// than asked.
function parseSize(arg: usize, n: i32, t: i32): i32 {
  const v = arg + 5;
  const len = n - 5;
  let digits = 0;
  while (digits < len && isDigit(load<u8>(v + <usize>digits))) digits++;
  if (digits == 0 || digits != len - 1) return badSize(arg, n);
  const unit = load<u8>(v + <usize>digits);
  // Stop counting once past any size that fits: no digit string overflows.
  let value: u64 = 0;
  for (let i = 0; i < digits && value <= (MAX_SIZE_MB << 10); i++) {
    value = value * 10 + <u64>(load<u8>(v + <usize>i) - 0x30);
  }
  if (unit == 0x25) { // "%"
    if (value < 1 || value > 100) {
      sayArg(arg, n); say("a percentage must be from 1 to 100");
      return fail(Err.BAD_VALUE);
    }
    unchecked(tmpfsPercent[t] = <u32>value);
    unchecked(tmpfsSizeMb[t] = 0);
  } else {
    const u = unit | 0x20; // letters only: "%" is handled above
    let mb: u64;
    if (u == 0x6b) mb = (value + 1023) >> 10;          // k
    else if (u == 0x6d) mb = value;                     // m
    else if (u == 0x67) mb = value << 10;               // g
    else if (u == 0x74) mb = value << 20;               // t
    else return badSize(arg, n);
    if (value == 0) { sayArg(arg, n); say("must be more than 0"); return fail(Err.BAD_VALUE); }
    if (value > (MAX_SIZE_MB << 10) || mb > MAX_SIZE_MB) {
      sayArg(arg, n); say("too large (at most 4294967295M)");
      return fail(Err.BAD_VALUE);
    }
    unchecked(tmpfsSizeMb[t] = <u32>mb);
    unchecked(tmpfsPercent[t] = 0);
  }
  unchecked(tmpfsSizeArgPtr[t] = arg);
  unchecked(tmpfsSizeArgLen[t] = n);
  return Err.OK;
}

// mode=: 3 or 4 octal digits, as chmod(1) takes them (never more than 7777).
function parseMode(arg: usize, n: i32, t: i32): i32 {
  const v = arg + 5;
  const len = n - 5;
  let mode = len < 3 || len > 4 ? -1 : 0;
  for (let i = 0; i < len && mode >= 0; i++) {
    const c = load<u8>(v + <usize>i);
    mode = c < 0x30 || c > 0x37 ? -1 : mode * 8 + (c - 0x30);
  }
  if (mode < 0) {
    sayArg(arg, n); say("expected 3 or 4 octal digits, such as 1777 or 0700");
    return fail(Err.BAD_VALUE);
  }
  unchecked(tmpfsMode[t] = mode);
  return Err.OK;
}

// nr_inodes=<digits>[k|m|g] (x1024 each, any case), as the kernel's tmpfs
// option takes it, from 1 to 4294967295: how many files and directories
// the tmpfs may hold, each costing kernel memory its size does not count.
function parseInodes(arg: usize, n: i32, t: i32): i32 {
  const v = arg + 10;
  const len = n - 10;
  let digits = 0;
  while (digits < len && isDigit(load<u8>(v + <usize>digits))) digits++;
  let shift: u64 = 0;
  if (digits == len - 1) {
    const u = load<u8>(v + <usize>digits) | 0x20;
    if (u == 0x6b) shift = 10; else if (u == 0x6d) shift = 20; else if (u == 0x67) shift = 30; else digits = -1;
  } else if (digits != len) digits = -1;
  let value: u64 = 0;
  for (let i = 0; i < digits && value <= 0xFFFFFFFF; i++) value = value * 10 + <u64>(load<u8>(v + <usize>i) - 0x30);
  if (digits <= 0) {
    sayArg(arg, n); say("expected a count such as 100000 or 64k");
    return fail(Err.BAD_VALUE);
  }
  if (value > 0xFFFFFFFF || (value << shift) > 0xFFFFFFFF || value == 0) {
    sayArg(arg, n); say("must be from 1 to 4294967295");
    return fail(Err.BAD_VALUE);
  }
  unchecked(tmpfsInodes[t] = <u32>(value << shift));
  return Err.OK;
}

function parseTmpdir(arg: usize, n: i32): i32 {
  const r = checkPath(arg, n, arg + 7, n - 7);
  if (r < 0) return r;
  if (tmpdirLen > 0) {
    sayArg(arg, n); say("tmpdir given twice (first "); sayShort(tmpdirArgPtr, tmpdirArgLen); say(")");
    return fail(Err.DUPLICATE);
  }
  tmpdirPtr = arg + 7;
  tmpdirLen = n - 7;
  tmpdirArgPtr = arg;
  tmpdirArgLen = n;
  return Err.OK;
}

// parseTmpfsOption's answer for an argument that is none of its options.
const NOT_MINE: i32 = 1;

// The options that qualify the latest tmpfs=; NOT_MINE for any other.
function parseTmpfsOption(arg: usize, n: i32): i32 {
  if (startsWithAscii(arg, n, "size=")) {
    const t = qualified(arg, n, GIVEN_SIZE);
    return t < 0 ? t : parseSize(arg, n, t);
  }
  if (startsWithAscii(arg, n, "mode=")) {
    const t = qualified(arg, n, GIVEN_MODE);
    return t < 0 ? t : parseMode(arg, n, t);
  }
  if (startsWithAscii(arg, n, "nr_inodes=")) {
    const t = qualified(arg, n, GIVEN_INODES);
    return t < 0 ? t : parseInodes(arg, n, t);
  }
  if (equalsAscii(arg, n, "noexec")) {
    const t = qualified(arg, n, GIVEN_NOEXEC);
    if (t < 0) return t;
    unchecked(tmpfsNoexec[t] = true);
    return Err.OK;
  }
  if (startsWithAscii(arg, n, "noexec=")) {
    sayArg(arg, n); say("noexec takes no value (a bare word after a tmpfs= option)");
    return fail(Err.BAD_VALUE);
  }
  return NOT_MINE;
}

function parseOne(arg: usize, n: i32): i32 {
  if (startsWithAscii(arg, n, "base=")) {
    const r = checkPath(arg, n, arg + 5, n - 5);
    if (r < 0) return r;
    return addGroup(arg + 5, n - 5, arg, n);
  }
  if (startsWithAscii(arg, n, "mount=")) {
    const r = checkPath(arg, n, arg + 6, n - 6);
    if (r < 0) return r;
    return addMount(arg + 6, n - 6, arg, n);
  }
  if (startsWithAscii(arg, n, "tmpfs=")) {
    const r = checkPath(arg, n, arg + 6, n - 6);
    if (r < 0) return r;
    return addTmpfs(arg + 6, n - 6, arg, n);
  }
  const q = parseTmpfsOption(arg, n);
  if (q != NOT_MINE) return q;
  if (startsWithAscii(arg, n, "tmpdir=")) return parseTmpdir(arg, n);
  if (startsWithAscii(arg, n, "cleanup=")) {
    if (equalsAscii(arg + 8, n - 8, "yes")) { cleanup = true; return Err.OK; }
    if (equalsAscii(arg + 8, n - 8, "no")) { cleanup = false; return Err.OK; }
    sayArg(arg, n); say("expected cleanup=yes or cleanup=no");
    return fail(Err.BAD_VALUE);
  }
  sayArg(arg, n); say("unknown option (expected base=, mount=, tmpfs=, size=, mode=, noexec, tmpdir= or cleanup=)");
  return fail(Err.UNKNOWN_OPTION);
}

// True when path a is a proper ancestor of path b ("/a" and "/a/b", not "/ab").
function isAncestorPath(a: usize, al: i32, b: usize, bl: i32): bool {
  return al < bl && load<u8>(b + <usize>al) == 0x2f && memory.compare(a, b, <usize>al) == 0;
}

function isAncestor(a: i32, b: i32): bool {
  return isAncestorPath(unchecked(mountPtr[a]), unchecked(mountLen[a]), unchecked(mountPtr[b]), unchecked(mountLen[b]));
}

function sayBase(g: i32): void {
  say("base="); sayShort(unchecked(basePtr[g]), unchecked(baseLen[g]));
}

function sayMount(m: i32): void {
  say("mount="); sayShort(unchecked(mountPtr[m]), unchecked(mountLen[m]));
}

// Rules between options, once all are read (a mount= may come after the
// tmpdir= it contains).
function crossCheck(): i32 {
  const r = crossCheckMounts();
  if (r < 0) return r;
  const t = crossCheckTmpfs();
  if (t < 0) return t;
  return checkTmpdir();
}

// Each mount point bound once, no two private directories with one name, no
// mount point under another (the inner one would be resolved inside the
// outer private directory), paths that fit.
function crossCheckMounts(): i32 {
  for (let a = 0; a < mountCount; a++) {
    for (let b = 0; b < mountCount; b++) {
      if (a == b) continue;
      const pa = unchecked(mountPtr[a]), la = unchecked(mountLen[a]);
      const pb = unchecked(mountPtr[b]), lb = unchecked(mountLen[b]);
      if (a < b && bytesEqual(pa, la, pb, lb)) {
        sayMount(b); say(": mount point given twice"); return fail(Err.DUPLICATE);
      }
      if (a < b && unchecked(mountGroup[a]) == unchecked(mountGroup[b]) && mountNameEquals(pa, la, pb, lb)) {
        sayMount(a); say(" and "); sayMount(b);
        say(": both map to the same private directory (\"/\" becomes \"_\")");
        return fail(Err.COLLISION);
      }
      if (isAncestor(a, b)) {
        sayMount(b); say(": lies under "); sayMount(a); say("; nested mount points are not supported");
        return fail(Err.NESTED);
      }
    }
  }
  for (let g = 0; g < groupCount; g++) {
    const b = unchecked(basePtr[g]), n = unchecked(baseLen[g]);
    // "<last component>.<jobid>.<restart>" is one directory name.
    if (n - 1 - lastSlash(b, n) + MAX_JOBDIR_SUFFIX - 1 > NAME_MAX || n + MAX_JOBDIR_SUFFIX - 1 >= PATH_MAX) {
      sayBase(g); say(": job directory name would exceed NAME_MAX or PATH_MAX");
      return fail(Err.TOO_LONG);
    }
  }
  for (let m = 0; m < mountCount; m++) {
    const g = unchecked(mountGroup[m]);
    // The whole mount path, "/" mapped to "_", is one directory name.
    if (unchecked(mountLen[m]) - 1 > NAME_MAX) {
      sayMount(m); say(": private directory name would exceed NAME_MAX");
      return fail(Err.TOO_LONG);
    }
    // base + ".<jobid>.<restart>" + "/" + name, name = mount without its leading "/"
    if (unchecked(baseLen[g]) + MAX_JOBDIR_SUFFIX + unchecked(mountLen[m]) >= PATH_MAX) {
      sayMount(m); say(": private directory path would exceed PATH_MAX");
      return fail(Err.TOO_LONG);
    }
  }
  return Err.OK;
}

function nestedTmpfs(inner: i32, outer: i32): i32 {
  sayTmpfs(inner); say(": lies under "); sayTmpfs(outer); say("; nested mount points are not supported");
  return fail(Err.NESTED);
}

// A tmpfs= against every mount= and every other tmpfs=: one mount per
// mount point, none under another (the inner one would be made in the
// outer's directory or tmpfs, or hidden by it).
function crossCheckTmpfs(): i32 {
  for (let t = 0; t < tmpfsCount; t++) {
    const pt = unchecked(tmpfsPtr[t]), lt = unchecked(tmpfsLen[t]);
    for (let m = 0; m < mountCount; m++) {
      const pm = unchecked(mountPtr[m]), lm = unchecked(mountLen[m]);
      if (bytesEqual(pt, lt, pm, lm)) {
        sayTmpfs(t); say(": given both as mount= and tmpfs="); return fail(Err.DUPLICATE);
      }
      if (isAncestorPath(pm, lm, pt, lt)) {
        sayTmpfs(t); say(": lies under "); sayMount(m); say("; nested mount points are not supported");
        return fail(Err.NESTED);
      }
      if (isAncestorPath(pt, lt, pm, lm)) {
        sayMount(m); say(": lies under "); sayTmpfs(t); say("; nested mount points are not supported");
        return fail(Err.NESTED);
      }
    }
    for (let u = t + 1; u < tmpfsCount; u++) {
      const pu = unchecked(tmpfsPtr[u]), lu = unchecked(tmpfsLen[u]);
      if (bytesEqual(pt, lt, pu, lu)) {
        sayTmpfs(u); say(": mount point given twice"); return fail(Err.DUPLICATE);
      }
      if (isAncestorPath(pt, lt, pu, lu)) return nestedTmpfs(u, t);
      if (isAncestorPath(pu, lu, pt, lt)) return nestedTmpfs(t, u);
    }
  }
  return Err.OK;
}

// TMPDIR must name a place the job's own mounts make private: anywhere
// else it would send the job's files to a shared directory.
function checkTmpdir(): i32 {
  if (tmpdirLen == 0) return Err.OK;
  for (let m = 0; m < mountCount; m++) {
    const p = unchecked(mountPtr[m]), l = unchecked(mountLen[m]);
    if (bytesEqual(p, l, tmpdirPtr, tmpdirLen) || isAncestorPath(p, l, tmpdirPtr, tmpdirLen)) return Err.OK;
  }
  for (let t = 0; t < tmpfsCount; t++) {
    const p = unchecked(tmpfsPtr[t]), l = unchecked(tmpfsLen[t]);
    if (bytesEqual(p, l, tmpdirPtr, tmpdirLen) || isAncestorPath(p, l, tmpdirPtr, tmpdirLen)) return Err.OK;
  }
  sayArg(tmpdirArgPtr, tmpdirArgLen); say("not inside any mount= or tmpfs= path");
  return fail(Err.BAD_VALUE);
}

export function parse(argLen: i32): i32 {
  groupCount = 0;
  mountCount = 0;
  tmpfsCount = 0;
  tmpdirLen = 0;
  cleanup = true;
  if (argLen < 0 || argLen > INPUT_CAP) { say("options too long"); return fail(Err.BAD_INPUT); }
  if (argLen > 0 && load<u8>(INPUT + <usize>(argLen - 1)) != 0) {
    say("options not NUL-terminated"); return fail(Err.BAD_INPUT);
  }
  let start = 0;
  for (let i = 0; i < argLen; i++) {
    if (load<u8>(INPUT + <usize>i) != 0) continue;
    const r = parseOne(INPUT + <usize>start, i - start);
    if (r < 0) return r;
    start = i + 1;
  }
  if (mountCount == 0 && tmpfsCount == 0) {
    say("no mount= or tmpfs= option: nothing to make private"); return fail(Err.NO_MOUNTS);
  }
  // The job's directory and namespace directory live at the first base,
  // which only tmpfs= options did not give.
  if (groupCount == 0) {
    const r = addGroup(DEFAULT_BASE, DEFAULT_BASE_LEN, 0, 0);
    if (r < 0) return r;
  }
  return crossCheck();
}
