// Plugstack arguments -> validated configuration (config.ts). Every argument
// is checked here, once, so a bad line is refused at load with the option named.
import { INPUT_CAP, Err, OPT_KEEP, OPT_PRIVATE, U_KEEP_FAILED, U_KEEP_ALWAYS, U_OFF } from "./abi";
import { INPUT } from "./memory";
import { fail, say, sayNumber, sayShort } from "./errors";
import { startsWithAscii, equalsAscii, bytesEqual, lastSlash, utf8Seq } from "./text";
import { mountNameEquals, MAX_JOBDIR_SUFFIX, HOST_ENV_PREFIX } from "./naming";
import { Config, Base, Mount, OwnFs, Share, MAX_GROUPS, MAX_MOUNTS, MAX_OWN_FS, MAX_SHARES, MAX_TMPDIR_VARS, MAX_VAR_NAME } from "./config";

export const PATH_MAX: i32 = 4096; // including the NUL
export const NAME_MAX: i32 = 255;

// The seed's default base, for a mount= given before any base=.
const DEFAULT_BASE: usize = memory.data<u8>([0x2f, 0x74, 0x6d, 0x70, 0x2f, 0x73, 0x6c, 0x75, 0x72, 0x6d]);
const DEFAULT_BASE_LEN: i32 = 10;

// OwnFs.given: the qualifiers of a tmpfs= or disk= already read.
const GIVEN_SIZE: i32 = 1;
const GIVEN_MODE: i32 = 2;
const GIVEN_NOEXEC: i32 = 4;
const GIVEN_INODES: i32 = 8;
const GIVEN_MAX: i32 = 16;
const GIVEN_REQUEST: i32 = 32;
// The largest size a record's word holds.
const MAX_SIZE_MB: u64 = 0xFFFFFFFF;

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

function addBase(config: Config, v: usize, n: i32, arg: usize, argLen: i32): i32 {
  if (config.baseCount == MAX_GROUPS) {
    sayArg(arg, argLen); say("too many base= options (at most "); sayNumber(<u32>MAX_GROUPS); say(")");
    return fail(Err.TOO_MANY);
  }
  for (let g = 0; g < config.baseCount; g++) {
    const base = config.bases[g];
    if (bytesEqual(base.ptr, base.len, v, n)) {
      sayArg(arg, argLen); say("base given twice");
      if (base.argPtr == 0) say(" (a mount= before any base= uses base=/tmp/slurm)");
      return fail(Err.DUPLICATE);
    }
  }
  const base = config.bases[config.baseCount++];
  base.ptr = v;
  base.len = n;
  base.argPtr = arg;
  return Err.OK;
}

function addMount(config: Config, v: usize, n: i32, arg: usize, argLen: i32): i32 {
  if (config.mountCount == MAX_MOUNTS) {
    sayArg(arg, argLen); say("too many mount= options (at most "); sayNumber(<u32>MAX_MOUNTS); say(")");
    return fail(Err.TOO_MANY);
  }
  if (config.baseCount == 0) {
    const r = addBase(config, DEFAULT_BASE, DEFAULT_BASE_LEN, 0, 0);
    if (r < 0) return r;
  }
  const mount = config.mounts[config.mountCount++];
  mount.ptr = v;
  mount.len = n;
  mount.base = config.baseCount - 1;
  return Err.OK;
}

function addOwnFs(config: Config, v: usize, n: i32, arg: usize, argLen: i32, disk: bool): i32 {
  if (config.ownFsCount == MAX_OWN_FS) {
    sayArg(arg, argLen); say("too many tmpfs= and disk= options (at most "); sayNumber(<u32>MAX_OWN_FS); say(")");
    return fail(Err.TOO_MANY);
  }
  config.ownFs[config.ownFsCount++].reset(v, n, disk);
  return Err.OK;
}

function addShare(config: Config, v: usize, n: i32, arg: usize, argLen: i32): i32 {
  if (config.shareCount == MAX_SHARES) {
    sayArg(arg, argLen); say("too many share= options (at most "); sayNumber(<u32>MAX_SHARES); say(")");
    return fail(Err.TOO_MANY);
  }
  const share = config.shares[config.shareCount++];
  share.ptr = v;
  share.len = n;
  return Err.OK;
}

function sayOwnFs(fs: OwnFs): void {
  say(fs.disk ? "disk=" : "tmpfs="); sayShort(fs.ptr, fs.len);
}

// The tmpfs= or disk= that a size=, max=, mode=, nr_inodes= or noexec
// qualifies: the latest one, each of those at most once for it (a second
// one would silently win). Returns its index.
function qualified(config: Config, arg: usize, n: i32, given: i32): i32 {
  if (config.ownFsCount == 0) {
    sayArg(arg, n); say("must follow a tmpfs= or disk= option");
    return fail(Err.BAD_VALUE);
  }
  const t = config.ownFsCount - 1;
  const tmpfs = config.ownFs[t];
  if ((tmpfs.given & given) != 0) {
    sayArg(arg, n); say("given twice for "); sayOwnFs(tmpfs);
    return fail(Err.DUPLICATE);
  }
  tmpfs.given |= given;
  return t;
}

@inline function isDigit(c: u8): bool { return c >= 0x30 && c <= 0x39; }

function badSize(arg: usize, n: i32): i32 {
  sayArg(arg, n); say("expected a size such as 8G, 512M or 50%");
  return fail(Err.BAD_VALUE);
}

// What readSize read: a size in MiB, or (parsedPercent != 0) a percentage.
let parsedMb: u32 = 0;
let parsedPercent: u32 = 0;

// <digits><K|M|G|T> (binary units, any case) or <digits>%, after the
// option's name (skip bytes); an absolute size is kept in MiB, rounded
// up, so a size is never smaller than asked.
function readSize(arg: usize, n: i32, skip: i32): i32 {
  const v = arg + <usize>skip;
  const len = n - skip;
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
    parsedPercent = <u32>value;
    parsedMb = 0;
  } else {
    const u = unit | 0x20; // letters only: "%" is handled above
    let sizeMb: u64;
    if (u == 0x6b) sizeMb = (value + 1023) >> 10;      // k
    else if (u == 0x6d) sizeMb = value;                 // m
    else if (u == 0x67) sizeMb = value << 10;           // g
    else if (u == 0x74) sizeMb = value << 20;           // t
    else return badSize(arg, n);
    if (value == 0) { sayArg(arg, n); say("must be more than 0"); return fail(Err.BAD_VALUE); }
    if (value > (MAX_SIZE_MB << 10) || sizeMb > MAX_SIZE_MB) {
      sayArg(arg, n); say("too large (at most 4294967295M)");
      return fail(Err.BAD_VALUE);
    }
    parsedMb = <u32>sizeMb;
    parsedPercent = 0;
  }
  return Err.OK;
}

// size=: see readSize. Above a max= given before it: refused here (one
// given after it checks it too).
function parseSize(arg: usize, n: i32, fs: OwnFs): i32 {
  const r = readSize(arg, n, 5);
  if (r < 0) return r;
  fs.sizeMb = parsedMb;
  fs.sizePercent = parsedPercent;
  fs.sizeArgPtr = arg;
  fs.sizeArgLen = n;
  return checkMax(fs);
}

// max=<digits><K|M|G|T>: the most a percentage size= may come to on any
// node (an admin's cap on a share); an absolute size= above it is refused.
function parseMax(arg: usize, n: i32, fs: OwnFs): i32 {
  const r = readSize(arg, n, 4);
  if (r < 0) return r;
  if (parsedPercent != 0) { sayArg(arg, n); say("expected a size such as 100G or 512M"); return fail(Err.BAD_VALUE); }
  fs.maxMb = parsedMb;
  fs.maxArgPtr = arg;
  fs.maxArgLen = n;
  return checkMax(fs);
}

function checkMax(fs: OwnFs): i32 {
  if (fs.maxMb == 0 || fs.sizePercent != 0 || fs.sizeMb <= fs.maxMb) return Err.OK;
  sayShort(fs.sizeArgPtr, fs.sizeArgLen); say(": more than "); sayShort(fs.maxArgPtr, fs.maxArgLen);
  say(" for "); sayOwnFs(fs);
  return fail(Err.BAD_VALUE);
}

// mode=: 3 or 4 octal digits, as chmod(1) takes them (never more than 7777).
function parseMode(arg: usize, n: i32, tmpfs: OwnFs): i32 {
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
  tmpfs.mode = mode;
  return Err.OK;
}

// nr_inodes=<digits>[k|m|g] (x1024 each, any case), as the kernel's tmpfs
// option takes it, from 1 to 4294967295: how many files and directories
// the tmpfs may hold, each costing kernel memory its size does not count.
function parseInodes(arg: usize, n: i32, tmpfs: OwnFs): i32 {
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
  tmpfs.inodes = <u32>(value << shift);
  return Err.OK;
}

function parseTmpdir(config: Config, arg: usize, n: i32): i32 {
  const r = checkPath(arg, n, arg + 7, n - 7);
  if (r < 0) return r;
  if (config.tmpdirLen > 0) {
    sayArg(arg, n); say("tmpdir given twice (first "); sayShort(config.tmpdirArgPtr, config.tmpdirArgLen); say(")");
    return fail(Err.DUPLICATE);
  }
  config.tmpdirPtr = arg + 7;
  config.tmpdirLen = n - 7;
  config.tmpdirArgPtr = arg;
  config.tmpdirArgLen = n;
  return Err.OK;
}

// keep=<digits><s|m|h|d>: how long a kept tree lives (#26), from 1 second
// to 365 days; a unit is required, so "keep=7" is not read as seconds by
// one admin and days by another.
const MAX_KEEP_S: u64 = 365 * 86400;
function parseKeep(config: Config, arg: usize, n: i32): i32 {
  if (config.keepArgLen != 0) {
    sayArg(arg, n); say("keep= given twice (first "); sayShort(config.keepArgPtr, config.keepArgLen); say(")");
    return fail(Err.DUPLICATE);
  }
  const v = arg + 5;
  const len = n - 5;
  let digits = 0;
  while (digits < len && isDigit(load<u8>(v + <usize>digits))) digits++;
  let unit: u64 = 0;
  if (digits > 0 && digits == len - 1) {
    const u = load<u8>(v + <usize>digits) | 0x20;
    if (u == 0x73) unit = 1; else if (u == 0x6d) unit = 60; else if (u == 0x68) unit = 3600; else if (u == 0x64) unit = 86400;
  }
  if (unit == 0) {
    sayArg(arg, n); say("expected a time such as 30m, 12h or 7d (s, m, h or d)");
    return fail(Err.BAD_VALUE);
  }
  let value: u64 = 0;
  for (let i = 0; i < digits && value <= MAX_KEEP_S; i++) value = value * 10 + <u64>(load<u8>(v + <usize>i) - 0x30);
  if (value == 0 || value * unit > MAX_KEEP_S) {
    sayArg(arg, n); say("must be from 1s to 365d");
    return fail(Err.BAD_VALUE);
  }
  config.keepTtl = <u32>(value * unit);
  config.keepArgPtr = arg;
  config.keepArgLen = n;
  return Err.OK;
}

// keep_max=<size>|<P>%: see readSize.
function parseKeepMax(config: Config, arg: usize, n: i32): i32 {
  if (config.keepMaxArgLen != 0) { sayArg(arg, n); say("keep_max= given twice"); return fail(Err.DUPLICATE); }
  const r = readSize(arg, n, 9);
  if (r < 0) return r;
  config.keepMaxMb = parsedMb;
  config.keepMaxPercent = parsedPercent;
  config.keepMaxArgLen = n;
  return Err.OK;
}

// tmpdir_var=NAME (repeatable): NAME is set to tmpdir='s path too, only
// where the job's environment has no NAME (abi.ts F_IF_UNSET): the names
// other tools and sites use for the job's scratch (SLURM_TMPDIR, TMP, ...).
const TMPDIR_VAR: i32 = 11; // "tmpdir_var=".length
function parseTmpdirVar(config: Config, arg: usize, n: i32): i32 {
  const v = arg + <usize>TMPDIR_VAR, len = n - TMPDIR_VAR;
  if (len == 0) { sayArg(arg, n); say("empty value"); return fail(Err.EMPTY_VALUE); }
  if (len > MAX_VAR_NAME) {
    sayArg(arg, n); say("a variable name is at most "); sayNumber(<u32>MAX_VAR_NAME); say(" characters");
    return fail(Err.TOO_LONG);
  }
  // A name every shell can export: [A-Za-z_][A-Za-z0-9_]*.
  for (let i = 0; i < len; i++) {
    const c = load<u8>(v + <usize>i);
    const letter = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
    if (letter || c == 0x5f || (i > 0 && isDigit(c))) continue;
    sayArg(arg, n); say("not a variable name (letters, digits and \"_\", not a digit first)");
    return fail(Err.BAD_CHAR);
  }
  if (equalsAscii(v, len, "TMPDIR")) {
    sayArg(arg, n); say("TMPDIR is tmpdir='s own variable, always set to its path");
    return fail(Err.BAD_VALUE);
  }
  if (equalsAscii(v, len, "XDG_RUNTIME_DIR")) {
    sayArg(arg, n); say("XDG_RUNTIME_DIR is runtime='s variable");
    return fail(Err.BAD_VALUE);
  }
  if (startsWithAscii(v, len, HOST_ENV_PREFIX)) {
    sayArg(arg, n); say(HOST_ENV_PREFIX); say(" names are the plugin's own (each mount='s host path)");
    return fail(Err.BAD_VALUE);
  }
  for (let k = 0; k < config.tmpdirVarCount; k++) {
    if (bytesEqual(config.tmpdirVarPtr[k], config.tmpdirVarLen[k], v, len)) {
      sayArg(arg, n); say("given twice"); return fail(Err.DUPLICATE);
    }
  }
  if (config.tmpdirVarCount == MAX_TMPDIR_VARS) {
    sayArg(arg, n); say("too many tmpdir_var= options (at most "); sayNumber(<u32>MAX_TMPDIR_VARS); say(")");
    return fail(Err.TOO_MANY);
  }
  const k = config.tmpdirVarCount++;
  config.tmpdirVarPtr[k] = v;
  config.tmpdirVarLen[k] = len;
  config.tmpdirVarArgLen[k] = n;
  return Err.OK;
}

// runtime=PATH: each job's own tmpfs on PATH (/run/user) in its namespace,
// holding "<uid>" (the job's user's, 0700), its XDG_RUNTIME_DIR.
function parseRuntime(config: Config, arg: usize, n: i32): i32 {
  const r = checkPath(arg, n, arg + 8, n - 8);
  if (r < 0) return r;
  if (config.runtimeLen > 0) {
    sayArg(arg, n); say("runtime given twice (first "); sayShort(config.runtimeArgPtr, config.runtimeArgLen); say(")");
    return fail(Err.DUPLICATE);
  }
  // "<path>/<uid>" must fit PATH_MAX too.
  if (n - 8 + 11 >= PATH_MAX) { sayArg(arg, n); say("longer than PATH_MAX with \"/<uid>\""); return fail(Err.TOO_LONG); }
  config.runtimePtr = arg + 8;
  config.runtimeLen = n - 8;
  config.runtimeArgPtr = arg;
  config.runtimeArgLen = n;
  return Err.OK;
}

// runtime_size=<digits><K|M|G|T>: the runtime tmpfs's size (default
// DEFAULT_RUNTIME_MB); an absolute size, never a percentage.
function parseRuntimeSize(config: Config, arg: usize, n: i32): i32 {
  if (config.runtimeSizeArgLen > 0) {
    sayArg(arg, n); say("runtime_size given twice (first "); sayShort(config.runtimeSizeArgPtr, config.runtimeSizeArgLen); say(")");
    return fail(Err.DUPLICATE);
  }
  const r = readSize(arg, n, 13);
  if (r < 0) return r;
  if (parsedPercent != 0) { sayArg(arg, n); say("expected a size such as 64M or 1G"); return fail(Err.BAD_VALUE); }
  config.runtimeMb = parsedMb;
  config.runtimeSizeArgPtr = arg;
  config.runtimeSizeArgLen = n;
  return Err.OK;
}

// parseOwnFs's answer for an argument that is none of its options.
const NOT_MINE: i32 = 1;

// The options that qualify the latest tmpfs=; NOT_MINE for any other.
function parseOwnFs(config: Config, arg: usize, n: i32): i32 {
  if (startsWithAscii(arg, n, "size=")) {
    const t = qualified(config, arg, n, GIVEN_SIZE);
    return t < 0 ? t : parseSize(arg, n, config.ownFs[t]);
  }
  if (startsWithAscii(arg, n, "max=")) {
    const t = qualified(config, arg, n, GIVEN_MAX);
    return t < 0 ? t : parseMax(arg, n, config.ownFs[t]);
  }
  if (startsWithAscii(arg, n, "mode=")) {
    const t = qualified(config, arg, n, GIVEN_MODE);
    return t < 0 ? t : parseMode(arg, n, config.ownFs[t]);
  }
  if (startsWithAscii(arg, n, "nr_inodes=")) {
    const t = qualified(config, arg, n, GIVEN_INODES);
    return t < 0 ? t : parseInodes(arg, n, config.ownFs[t]);
  }
  if (equalsAscii(arg, n, "noexec")) {
    const t = qualified(config, arg, n, GIVEN_NOEXEC);
    if (t < 0) return t;
    config.ownFs[t].noexec = true;
    return Err.OK;
  }
  if (equalsAscii(arg, n, "request")) {
    const t = qualified(config, arg, n, GIVEN_REQUEST);
    if (t < 0) return t;
    const fs = config.ownFs[t];
    if (!fs.disk) {
      sayArg(arg, n); say("only a disk= takes it (a job's --tmp is disk), not "); sayOwnFs(fs);
      return fail(Err.BAD_VALUE);
    }
    fs.request = true;
    return Err.OK;
  }
  if (startsWithAscii(arg, n, "request=")) {
    sayArg(arg, n); say("request takes no value (a bare word after a disk= option)");
    return fail(Err.BAD_VALUE);
  }
  if (startsWithAscii(arg, n, "noexec=")) {
    sayArg(arg, n); say("noexec takes no value (a bare word after a tmpfs= or disk= option)");
    return fail(Err.BAD_VALUE);
  }
  return NOT_MINE;
}

function parseOne(config: Config, arg: usize, n: i32): i32 {
  if (startsWithAscii(arg, n, "base=")) {
    const r = checkPath(arg, n, arg + 5, n - 5);
    if (r < 0) return r;
    return addBase(config, arg + 5, n - 5, arg, n);
  }
  if (startsWithAscii(arg, n, "mount=")) {
    const r = checkPath(arg, n, arg + 6, n - 6);
    if (r < 0) return r;
    return addMount(config, arg + 6, n - 6, arg, n);
  }
  if (startsWithAscii(arg, n, "tmpfs=")) {
    const r = checkPath(arg, n, arg + 6, n - 6);
    if (r < 0) return r;
    return addOwnFs(config, arg + 6, n - 6, arg, n, false);
  }
  if (startsWithAscii(arg, n, "disk=")) {
    const r = checkPath(arg, n, arg + 5, n - 5);
    if (r < 0) return r;
    return addOwnFs(config, arg + 5, n - 5, arg, n, true);
  }
  if (startsWithAscii(arg, n, "share=")) {
    const r = checkPath(arg, n, arg + 6, n - 6);
    if (r < 0) return r;
    return addShare(config, arg + 6, n - 6, arg, n);
  }
  const q = parseOwnFs(config, arg, n);
  if (q != NOT_MINE) return q;
  if (startsWithAscii(arg, n, "tmpdir=")) return parseTmpdir(config, arg, n);
  if (startsWithAscii(arg, n, "keep=")) return parseKeep(config, arg, n);
  if (startsWithAscii(arg, n, "keep_max=")) return parseKeepMax(config, arg, n);
  if (startsWithAscii(arg, n, "optout=")) {
    if (config.optoutGiven) { sayArg(arg, n); say("optout= given twice"); return fail(Err.DUPLICATE); }
    config.optoutGiven = true;
    if (equalsAscii(arg + 7, n - 7, "yes")) { config.optout = true; return Err.OK; }
    if (equalsAscii(arg + 7, n - 7, "no")) { config.optout = false; return Err.OK; }
    sayArg(arg, n); say("expected optout=yes or optout=no");
    return fail(Err.BAD_VALUE);
  }
  if (startsWithAscii(arg, n, "tmpdir_var=")) return parseTmpdirVar(config, arg, n);
  if (startsWithAscii(arg, n, "runtime=")) return parseRuntime(config, arg, n);
  if (startsWithAscii(arg, n, "runtime_size=")) return parseRuntimeSize(config, arg, n);
  if (startsWithAscii(arg, n, "cleanup=")) {
    if (equalsAscii(arg + 8, n - 8, "yes")) { config.cleanup = true; return Err.OK; }
    if (equalsAscii(arg + 8, n - 8, "no")) { config.cleanup = false; return Err.OK; }
    sayArg(arg, n); say("expected cleanup=yes or cleanup=no");
    return fail(Err.BAD_VALUE);
  }
  sayArg(arg, n); say("unknown option (expected base=, mount=, tmpfs=, disk=, size=, max=, request, mode=, nr_inodes=, noexec, share=, tmpdir=, tmpdir_var=, runtime=, runtime_size=, cleanup=, keep=, keep_max= or optout=)");
  return fail(Err.UNKNOWN_OPTION);
}

// True when path a is a proper ancestor of path b ("/a" and "/a/b", not "/ab").
function isAncestorPath(a: usize, al: i32, b: usize, bl: i32): bool {
  return al < bl && load<u8>(b + <usize>al) == 0x2f && memory.compare(a, b, <usize>al) == 0;
}

function sayBase(base: Base): void {
  say("base="); sayShort(base.ptr, base.len);
}

function sayMount(mount: Mount): void {
  say("mount="); sayShort(mount.ptr, mount.len);
}

// Rules between options, once all are read (a mount= may come after the
// tmpdir= it contains).
function crossCheck(config: Config): i32 {
  const r = crossCheckMounts(config);
  if (r < 0) return r;
  const t = crossCheckOwnFs(config);
  if (t < 0) return t;
  const s = checkShares(config);
  if (s < 0) return s;
  const k = checkKeep(config);
  if (k < 0) return k;
  const e = checkTmpdir(config);
  if (e < 0) return e;
  return checkRuntime(config);
}

// A tmpdir_var= without tmpdir= would have no value; a runtime_size=
// without runtime= no tmpfs to size; runtime='s tmpfs is one mount point
// among the job's, none under another (nor equal) either way.
function checkRuntime(config: Config): i32 {
  if (config.tmpdirVarCount > 0 && config.tmpdirLen == 0) {
    sayArg(config.tmpdirVarPtr[0] - <usize>TMPDIR_VAR, config.tmpdirVarArgLen[0]);
    say("needs a tmpdir= (the path it is set to)");
    return fail(Err.BAD_VALUE);
  }
  const p = config.runtimePtr, l = config.runtimeLen;
  if (l == 0) {
    if (config.runtimeSizeArgLen == 0) return Err.OK;
    sayArg(config.runtimeSizeArgPtr, config.runtimeSizeArgLen); say("needs a runtime= (the tmpfs it sizes)");
    return fail(Err.BAD_VALUE);
  }
  for (let m = 0; m < config.mountCount; m++) {
    const mount = config.mounts[m];
    if (overlaps(mount.ptr, mount.len, p, l)) { sayMount(mount); return runtimeOverlap(config); }
  }
  for (let t = 0; t < config.ownFsCount; t++) {
    const fs = config.ownFs[t];
    if (overlaps(fs.ptr, fs.len, p, l)) { sayOwnFs(fs); return runtimeOverlap(config); }
  }
  for (let s = 0; s < config.shareCount; s++) {
    const share = config.shares[s];
    if (overlaps(share.ptr, share.len, p, l)) { sayShare(share); return runtimeOverlap(config); }
  }
  return Err.OK;
}

function overlaps(a: usize, al: i32, b: usize, bl: i32): bool {
  return bytesEqual(a, al, b, bl) || isAncestorPath(a, al, b, bl) || isAncestorPath(b, bl, a, al);
}

function runtimeOverlap(config: Config): i32 {
  say(" and "); sayShort(config.runtimeArgPtr, config.runtimeArgLen);
  say(": the same path, or one under the other; nested mount points are not supported");
  return fail(Err.NESTED);
}

// A kept tree is a job directory renamed: with cleanup=no there is none
// the plugin removes, so nothing to keep instead; a budget needs keep=.
function checkKeep(config: Config): i32 {
  if (config.keepMaxArgLen != 0 && config.keepTtl == 0) {
    say("keep_max= without keep=: no job's directories are kept"); return fail(Err.BAD_VALUE);
  }
  if (config.keepTtl != 0 && !config.cleanup) {
    sayShort(config.keepArgPtr, config.keepArgLen);
    say(": with cleanup=no the job directories stay anyway (the site's own epilog removes them)");
    return fail(Err.BAD_VALUE);
  }
  return Err.OK;
}

// A user's option value, INPUT[0, len) (len -1: the option was given
// without one), for which (abi.ts OPT_*): its U_* bits, or an error
// naming the option. Whether the cluster allows it is plan()'s question.
export function parseUserOption(which: i32, len: i32): i32 {
  if (len > INPUT_CAP) { say("option value too long"); return fail(Err.BAD_INPUT); }
  if (which == OPT_KEEP) {
    if (len < 0 || equalsAscii(INPUT, len, "failed")) return U_KEEP_FAILED;
    if (equalsAscii(INPUT, len, "always")) return U_KEEP_ALWAYS;
    say("--keep-tmpdir="); sayShort(INPUT, len); say(": expected failed or always (--keep-tmpdir alone: failed)");
    return fail(Err.BAD_VALUE);
  }
  if (which == OPT_PRIVATE) {
    if (len >= 0 && equalsAscii(INPUT, len, "off")) return U_OFF;
    if (len >= 0 && equalsAscii(INPUT, len, "on")) return 0;
    say("--private-tmpdir");
    if (len >= 0) { say("="); sayShort(INPUT, len); }
    say(": expected --private-tmpdir=off (or on)");
    return fail(Err.BAD_VALUE);
  }
  say("unknown user option"); return fail(Err.BAD_INPUT);
}

// Each mount point bound once, no two private directories with one name, no
// mount point under another (the inner one would be resolved inside the
// outer private directory), paths that fit.
function crossCheckMounts(config: Config): i32 {
  for (let a = 0; a < config.mountCount; a++) {
    const ma = config.mounts[a];
    for (let b = 0; b < config.mountCount; b++) {
      if (a == b) continue;
      const mb = config.mounts[b];
      if (a < b && bytesEqual(ma.ptr, ma.len, mb.ptr, mb.len)) {
        sayMount(mb); say(": mount point given twice"); return fail(Err.DUPLICATE);
      }
      if (a < b && ma.base == mb.base && mountNameEquals(ma.ptr, ma.len, mb.ptr, mb.len)) {
        sayMount(ma); say(" and "); sayMount(mb);
        say(": both map to the same private directory (\"/\" becomes \"_\")");
        return fail(Err.COLLISION);
      }
      if (isAncestorPath(ma.ptr, ma.len, mb.ptr, mb.len)) {
        sayMount(mb); say(": lies under "); sayMount(ma); say("; nested mount points are not supported");
        return fail(Err.NESTED);
      }
    }
  }
  for (let g = 0; g < config.baseCount; g++) {
    const base = config.bases[g];
    const n = base.len;
    // "<last component>.<jobid>.<restart>" is one directory name.
    if (n - 1 - lastSlash(base.ptr, n) + MAX_JOBDIR_SUFFIX - 1 > NAME_MAX || n + MAX_JOBDIR_SUFFIX - 1 >= PATH_MAX) {
      sayBase(base); say(": job directory name would exceed NAME_MAX or PATH_MAX");
      return fail(Err.TOO_LONG);
    }
  }
  for (let m = 0; m < config.mountCount; m++) {
    const mount = config.mounts[m];
    // The whole mount path, "/" mapped to "_", is one directory name.
    if (mount.len - 1 > NAME_MAX) {
      sayMount(mount); say(": private directory name would exceed NAME_MAX");
      return fail(Err.TOO_LONG);
    }
    // base + ".<jobid>.<restart>" + "/" + name, name = mount without its leading "/"
    if (config.bases[mount.base].len + MAX_JOBDIR_SUFFIX + mount.len >= PATH_MAX) {
      sayMount(mount); say(": private directory path would exceed PATH_MAX");
      return fail(Err.TOO_LONG);
    }
  }
  return Err.OK;
}

function nestedOwnFs(inner: OwnFs, outer: OwnFs): i32 {
  sayOwnFs(inner); say(": lies under "); sayOwnFs(outer); say("; nested mount points are not supported");
  return fail(Err.NESTED);
}

// A tmpfs= against every mount= and every other tmpfs=: one mount per
// mount point, none under another (the inner one would be made in the
// outer's directory or tmpfs, or hidden by it).
function crossCheckOwnFs(config: Config): i32 {
  for (let t = 0; t < config.ownFsCount; t++) {
    const tmpfs = config.ownFs[t];
    const pt = tmpfs.ptr, lt = tmpfs.len;
    for (let m = 0; m < config.mountCount; m++) {
      const mount = config.mounts[m];
      const pm = mount.ptr, lm = mount.len;
      if (bytesEqual(pt, lt, pm, lm)) {
        sayOwnFs(tmpfs); say(": given both as mount= and "); say(tmpfs.disk ? "disk=" : "tmpfs="); return fail(Err.DUPLICATE);
      }
      if (isAncestorPath(pm, lm, pt, lt)) {
        sayOwnFs(tmpfs); say(": lies under "); sayMount(mount); say("; nested mount points are not supported");
        return fail(Err.NESTED);
      }
      if (isAncestorPath(pt, lt, pm, lm)) {
        sayMount(mount); say(": lies under "); sayOwnFs(tmpfs); say("; nested mount points are not supported");
        return fail(Err.NESTED);
      }
    }
    for (let u = t + 1; u < config.ownFsCount; u++) {
      const other = config.ownFs[u];
      const pu = other.ptr, lu = other.len;
      if (bytesEqual(pt, lt, pu, lu)) {
        sayOwnFs(other); say(": mount point given twice"); return fail(Err.DUPLICATE);
      }
      if (isAncestorPath(pt, lt, pu, lu)) return nestedOwnFs(other, tmpfs);
      if (isAncestorPath(pu, lu, pt, lt)) return nestedOwnFs(tmpfs, other);
    }
  }
  return Err.OK;
}

function sayShare(share: Share): void {
  say("share="); sayShort(share.ptr, share.len);
}

// A share= is one name directly inside a mount= or tmpfs= path: its mount
// point is made there by root after the private mounts, so no directory a
// user made lies on its way. Anywhere else the host's directory is already
// what the job sees, and sharing it would mean nothing.
function checkShares(config: Config): i32 {
  for (let s = 0; s < config.shareCount; s++) {
    const share = config.shares[s];
    const cut = lastSlash(share.ptr, share.len);
    let inside = false;
    for (let m = 0; m < config.mountCount && !inside; m++) {
      const mount = config.mounts[m];
      inside = bytesEqual(mount.ptr, mount.len, share.ptr, cut);
    }
    for (let t = 0; t < config.ownFsCount && !inside; t++) {
      const tmpfs = config.ownFs[t];
      inside = bytesEqual(tmpfs.ptr, tmpfs.len, share.ptr, cut);
    }
    if (!inside) {
      sayShare(share); say(": not directly inside a mount=, tmpfs= or disk= path (such as share=/tmp/.X11-unix with mount=/tmp)");
      return fail(Err.BAD_VALUE);
    }
    for (let o = 0; o < s; o++) {
      const other = config.shares[o];
      if (bytesEqual(other.ptr, other.len, share.ptr, share.len)) {
        sayShare(share); say(": given twice"); return fail(Err.DUPLICATE);
      }
    }
  }
  return Err.OK;
}

// TMPDIR must name a place the job's own mounts make private: anywhere
// else it would send the job's files to a shared directory.
function checkTmpdir(config: Config): i32 {
  const dir = config.tmpdirPtr, len = config.tmpdirLen;
  if (len == 0) return Err.OK;
  for (let m = 0; m < config.mountCount; m++) {
    const mount = config.mounts[m];
    if (bytesEqual(mount.ptr, mount.len, dir, len) || isAncestorPath(mount.ptr, mount.len, dir, len)) return tmpdirShared(config);
  }
  for (let t = 0; t < config.ownFsCount; t++) {
    const tmpfs = config.ownFs[t];
    if (bytesEqual(tmpfs.ptr, tmpfs.len, dir, len) || isAncestorPath(tmpfs.ptr, tmpfs.len, dir, len)) return tmpdirShared(config);
  }
  sayArg(config.tmpdirArgPtr, config.tmpdirArgLen); say("not inside any mount=, tmpfs= or disk= path");
  return fail(Err.BAD_VALUE);
}

// A TMPDIR in a share= would send the job's files to the host's directory.
function tmpdirShared(config: Config): i32 {
  const dir = config.tmpdirPtr, len = config.tmpdirLen;
  for (let s = 0; s < config.shareCount; s++) {
    const share = config.shares[s];
    if (bytesEqual(share.ptr, share.len, dir, len) || isAncestorPath(share.ptr, share.len, dir, len)) {
      sayArg(config.tmpdirArgPtr, config.tmpdirArgLen); say("inside "); sayShare(share);
      say(", which the host's users share");
      return fail(Err.BAD_VALUE);
    }
  }
  return Err.OK;
  return fail(Err.BAD_VALUE);
}

// Reads the arguments in INPUT[0, argLen) into config (emptied first);
// returns Err.OK or a negative Err, its message said.
export function parse(argLen: i32, config: Config): i32 {
  config.reset();
  if (argLen < 0 || argLen > INPUT_CAP) { say("options too long"); return fail(Err.BAD_INPUT); }
  if (argLen > 0 && load<u8>(INPUT + <usize>(argLen - 1)) != 0) {
    say("options not NUL-terminated"); return fail(Err.BAD_INPUT);
  }
  let start = 0;
  for (let i = 0; i < argLen; i++) {
    if (load<u8>(INPUT + <usize>i) != 0) continue;
    const r = parseOne(config, INPUT + <usize>start, i - start);
    if (r < 0) return r;
    start = i + 1;
  }
  if (config.mountCount == 0 && config.ownFsCount == 0) {
    say("no mount=, tmpfs= or disk= option: nothing to make private"); return fail(Err.NO_MOUNTS);
  }
  // The job's directory and namespace directory live at the first base,
  // which only tmpfs= options did not give.
  if (config.baseCount == 0) {
    const r = addBase(config, DEFAULT_BASE, DEFAULT_BASE_LEN, 0, 0);
    if (r < 0) return r;
  }
  return crossCheck(config);
}
