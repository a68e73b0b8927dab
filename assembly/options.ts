// Plugstack arguments -> validated configuration. Every argument is checked
// here, once, so a bad line is refused at load with the option named.
import { INPUT_CAP, Err } from "./abi";
import { INPUT } from "./memory";
import { fail, say, sayBytes, sayNumber } from "./errors";
import { startsWithAscii, equalsAscii, bytesEqual, lastSlash, utf8Seq } from "./text";
import { mountNameEquals, MAX_JOBDIR_SUFFIX } from "./naming";

export const MAX_GROUPS: i32 = 16;
export const MAX_MOUNTS: i32 = 32;
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

// Echoes a value as given, cut short so the reason always fits.
function sayShort(ptr: usize, len: i32): void {
  if (len > 160) {
    sayBytes(ptr, 160);
    say("...");
  } else {
    sayBytes(ptr, len);
  }
}

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
  if (startsWithAscii(arg, n, "cleanup=")) {
    if (equalsAscii(arg + 8, n - 8, "yes")) { cleanup = true; return Err.OK; }
    if (equalsAscii(arg + 8, n - 8, "no")) { cleanup = false; return Err.OK; }
    sayArg(arg, n); say("expected cleanup=yes or cleanup=no");
    return fail(Err.BAD_VALUE);
  }
  sayArg(arg, n); say("unknown option (expected base=, mount= or cleanup=)");
  return fail(Err.UNKNOWN_OPTION);
}

// True when mount a is a proper ancestor of mount b ("/a" and "/a/b").
function isAncestor(a: i32, b: i32): bool {
  const al = unchecked(mountLen[a]);
  const bl = unchecked(mountLen[b]);
  return al < bl && load<u8>(unchecked(mountPtr[b]) + <usize>al) == 0x2f &&
    memory.compare(unchecked(mountPtr[a]), unchecked(mountPtr[b]), <usize>al) == 0;
}

function sayBase(g: i32): void {
  say("base="); sayShort(unchecked(basePtr[g]), unchecked(baseLen[g]));
}

function sayMount(m: i32): void {
  say("mount="); sayShort(unchecked(mountPtr[m]), unchecked(mountLen[m]));
}

// Rules between options: each mount point bound once, no two private
// directories with one name, no mount point under another (the inner one
// would be resolved inside the outer private directory), paths that fit.
function crossCheck(): i32 {
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

export function parse(argLen: i32): i32 {
  groupCount = 0;
  mountCount = 0;
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
  if (mountCount == 0) { say("no mount= option: nothing to make private"); return fail(Err.NO_MOUNTS); }
  return crossCheck();
}
