// Fuzzing the planning core: random and adversarial plugstack argument
// vectors, each planned for a random phase and job. Every result must be a
// valid plan or a CoreError with a known code; a trap (or any other
// exception) fails. A sample also goes through the C host (the plugin's own
// C, via the addon) and must give the very same answer, and a trap in the C
// host at each import of the extern step's plan in turn must fail it closed,
// leaving only what the calls before it made.
//
//   PTD_FUZZ_SEED=<u32>   seed (default fixed; printed with any failure)
//   PTD_FUZZ_COUNT=<n>    vectors through the wasm core (default: a CI-sized
//                         run of a few seconds)
//   PTD_FUZZ_CASE=<i>     run only case i of the seed (to reproduce a failure)
//   PTD_FUZZ_KEEP_GOING=1 do not stop at the first failure: run them all, then
//                         fail with a count per kind and the first of each
//
// The long run (1,000,000+ vectors): bench/fuzz-long.sh.
import { strict as assert } from "node:assert";
import { chmodSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { Core, type Job, type PlanStep } from "../../host/core.js";
import { CoreError } from "../../host/errors.js";
import { Recorder } from "../../host/recorder.js";
import { loadAddon } from "../../host/addon.js";
import {
  DRAIN_BUDGET_S,
  F_ASIDE,
  F_CREATE,
  F_DEFER,
  F_EVERY_RESTART,
  F_NO_JOIN,
  F_NOEXEC,
  F_IF_UNSET,
  U_KEEP_ALWAYS,
  U_KEEP_FAILED,
  U_KEEP_MASK,
  U_OFF,
  F_REQUEST,
  F_SHARE,
  F_SESSION,
  F_SWEEP,
  F_WIPE_ENDED,
  HOLD_MODE,
  MAX_SLOTS,
  NS_DIR_MODE,
  Phase,
  type PhaseName,
} from "../../host/abi.js";
import { requireRoot } from "../helpers/root.js";
import { entries, expectedAfter, snapshot, type Entry } from "../helpers/prefix.js";

const SEED = envInt("PTD_FUZZ_SEED", 0x5eed2024);
const COUNT = envInt("PTD_FUZZ_COUNT", 40_000);
const ONLY = process.env["PTD_FUZZ_CASE"] === undefined ? undefined : envInt("PTD_FUZZ_CASE", 0);
const KEEP_GOING = process.env["PTD_FUZZ_KEEP_GOING"] === "1";

// assembly/errors.ts NAMES, without "OK"; HOST only comes from run().
const PLAN_CODES = new Set([
  "UNKNOWN_OPTION",
  "EMPTY_VALUE",
  "NOT_ABSOLUTE",
  "BAD_PATH",
  "BAD_CHAR",
  "TOO_LONG",
  "TOO_MANY",
  "COLLISION",
  "DUPLICATE",
  "NESTED",
  "NO_MOUNTS",
  "BAD_VALUE",
  "BAD_INPUT",
  "PLAN_TOO_LARGE",
  "BAD_PHASE",
]);
const PHASES: PhaseName[] = ["CHECK", "INIT", "EXTERN", "STEP", "SCRIPT", "EPILOG", "DRAIN", "SESSION"];
const PATH_MAX = 4096;
const NAME_MAX = 255;
// MAX_SLOTS: from assembly/abi.ts, like every ABI constant here.
const C_MESSAGE_MAX = 1024; // native/core/core.h PTD_MESSAGE_MAX

function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name}=${v}: not a non-negative integer`);
  return n;
}

/* ------------------------------------------------------------------ PRNG */

/** mulberry32: small, fast, good enough to drive a fuzzer. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Each case has its own stream, so one case reproduces without the others. */
function caseRng(seed: number, i: number): Rng {
  return new Rng(mulberry32(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35)));
}

class Rng {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  u32(): number {
    const r = this.int(8);
    if (r === 0) return 0;
    if (r === 1) return 0xffffffff;
    if (r === 2) return this.int(16);
    return (this.int(0x10000) * 0x10000 + this.int(0x10000)) >>> 0;
  }
}

/* ------------------------------------------------------------- generator */

/** A job's own options (abi.ts U_*): mostly those the line offers, now
 * and then ones it does not, or what no user option parses to (both
 * keeps, an unknown bit). */
function userOpts(r: Rng, args: readonly string[]): number {
  const keep = args.some((a) => a.startsWith("keep=")) && r.chance(0.5);
  const off = args.includes("optout=yes") && r.chance(0.4);
  let bits = (keep ? r.pick([U_KEEP_FAILED, U_KEEP_ALWAYS]) : 0) | (off ? U_OFF : 0);
  if (r.chance(0.1)) bits |= r.pick([U_KEEP_FAILED, U_KEEP_ALWAYS, U_OFF, 3, 8]);
  return bits;
}

/** The job's and the node's memory in MiB: unknown (0) now and then, up to 2^32-1. */
function memory(r: Rng): { memMb: number; nodeMemMb: number; cores: number; nodeCores: number } {
  // The job's cores and the node's (disk= shares): unknown now and then,
  // a job's more than the node's too (a node slurm.conf overstates).
  const cores = r.chance(0.1) ? { cores: 0, nodeCores: 0 } : { cores: r.int(300), nodeCores: 1 + r.int(256) };
  if (r.chance(0.1)) return { memMb: 0, nodeMemMb: 0, ...cores };
  return { memMb: r.chance(0.4) ? 0 : r.u32(), nodeMemMb: r.u32(), ...cores };
}

const GOOD_COMPONENTS = [
  "tmp",
  "var",
  "scratch",
  "slurm",
  "a",
  "b",
  "c",
  "x",
  "job",
  "local",
  "ünï",
  "日本",
  "🦀",
  "a.b",
  ".hidden",
  "a-b",
  "a b",
];
const BAD_COMPONENTS = [
  "",
  ".",
  "..",
  "_",
  "a_b",
  "...",
  "\x01",
  "\x7f",
  "\t",
  "\n",
  "\r",
  "\x1b[31m",
  " ",
  "=",
  "\u00a0",
  "\ud800",
  "\udfff",
];
// Mount points and bases chosen from small pools collide, repeat and nest.
const POOL_MOUNTS = [
  "/tmp",
  "/var/tmp",
  "/var_tmp",
  "/var",
  "/var/tmp/x",
  "/dev/shm",
  "/dev_shm",
  "/a",
  "/a/b",
  "/a_b",
  "/a/b/c",
  "/a_b/c",
  "/a/b_c",
  "/scratch/ünï",
];
const POOL_BASES = [
  "/tmp/slurm",
  "/var/tmp/x",
  "/scratch/y",
  "/tmp/.private-tmpdir/job",
  "/a",
  "/tmp",
  "/x/y/z",
  "/tmp/slurm.1",
];
const CLEANUP_VALUES = ["yes", "no", "", "YES", "No", "y", "yes ", " no", "no\x00", "yes=no", "1", "true"];
const UNKNOWN = [
  "",
  "=",
  "==",
  "base",
  "mount",
  "cleanup",
  "Base=/x",
  "MOUNT=/x",
  "mount =/x",
  " mount=/x",
  "bogus=1",
  "base:/x",
  "mount/x",
  "-base=/x",
  "\x00",
  "mount\x00=/x",
  "tmpfs",
  "size",
  "mode",
  "tmpdir",
  "NOEXEC",
  "noexec ",
  " noexec",
  "noexe",
  "noexecc",
  "TMPFS=/x",
  "Size=1G",
  "tmpfs =/x",
  "noexec\x00x",
  "tmpdir_var",
  "runtime",
  "Runtime=/run/user",
  "TMPDIR_VAR=TMP",
  "runtime_size",
];
// tmpdir_var= values: valid names, names the core keeps for itself, and not names.
const VAR_NAMES = [
  "SLURM_TMPDIR",
  "TMP",
  "TEMP",
  "JOB_TMPDIR",
  "_x9",
  "TMPDIR",
  "XDG_RUNTIME_DIR",
  "PRIVATE_TMPDIR_HOST_TMP",
  "",
  "9A",
  "A-B",
  "A B",
  "A=B",
  "é",
  "X".repeat(64),
  "X".repeat(65),
];
// runtime= directories: the usual one, others, and some that nest in the mount= pools.
const POOL_RUNTIME = ["/run/user", "/run/rt", "/tmp/run", "/var/tmp", "/run", "/dev/shm/u", "/a/b"];
// tmpfs= mount points: many of them nest in or repeat the mount= pool's.
const POOL_TMPFS = ["/dev/shm", "/tmp", "/var/tmp", "/run/shm", "/scratch/mem", "/a", "/a/b", "/a_b", "/dev", "/ram"];
const SIZE_VALUES = [
  "1K",
  "1k",
  "1023K",
  "1025K",
  "512M",
  "512m",
  "8G",
  "8g",
  "1T",
  "4095T",
  "4096T",
  "4294967295M",
  "4294967296M",
  "4398046510080K",
  "4398046510081K",
  "50%",
  "1%",
  "100%",
  "0%",
  "101%",
  "25%",
  "",
  "%",
  "G",
  "8",
  "8X",
  "8GB",
  "8 G",
  " 8G",
  "+8G",
  "-8G",
  "1.5G",
  "0x10M",
  "0M",
  "0K",
  "00%",
  "007M",
  "50\x05",
  "99999999999999999999999T",
  "99999999999999999999%",
];
const MODE_VALUES = [
  "1777",
  "0700",
  "755",
  "000",
  "7777",
  "0777",
  "",
  "77",
  "01777",
  "17777",
  "0800",
  "9",
  "u+rwx",
  "-700",
  " 700",
  "7a7",
];

function randomChar(r: Rng): string {
  switch (r.int(8)) {
    case 0:
      return String.fromCharCode(r.int(0x20));
    case 1:
      return "\x7f";
    case 2:
      return r.pick(["/", "/", ".", "_", "=", "\\", " "]);
    case 3:
      return String.fromCodePoint(0x80 + r.int(0x780)); // 2-byte UTF-8
    case 4:
      return String.fromCodePoint(0x800 + r.int(0xd000)); // 3-byte (lone surrogates too)
    case 5:
      return String.fromCodePoint(0x10000 + r.int(0xfffff)); // 4-byte
    default:
      return String.fromCharCode(0x21 + r.int(0x5e)); // printable ASCII
  }
}

function randomString(r: Rng, max: number): string {
  let s = "";
  const n = r.int(max + 1);
  for (let i = 0; i < n; i++) s += randomChar(r);
  return s;
}

function component(r: Rng): string {
  const k = r.int(10);
  if (k < 6) return r.pick(GOOD_COMPONENTS);
  if (k < 8) return r.pick(BAD_COMPONENTS);
  return randomString(r, 12);
}

/** A path value: mostly plausible, often broken in one small way. */
function pathValue(r: Rng, pool: readonly string[]): string {
  const k = r.int(100);
  if (k < 30) return r.pick(pool);
  if (k < 35)
    return r.pick([
      "",
      "/",
      "//",
      "/.",
      "/..",
      "./tmp",
      "tmp",
      "/tmp/",
      "//tmp",
      "/tmp//x",
      "/tmp/./x",
      "/tmp/../x",
      "/tmp/.",
      "/tmp/..",
    ]);
  if (k < 38) {
    // very long: around PATH_MAX, or far beyond it (up to 70k)
    const target =
      r.pick([PATH_MAX - 40, PATH_MAX - 20, PATH_MAX - 1, PATH_MAX, PATH_MAX + 1, 8000, 30_000, 70_000]) +
      r.int(40) -
      20;
    const part = r.pick(["a", "ab", "日本", "x".repeat(200), "ünï"]);
    return `/${part}`.repeat(Math.ceil(target / (part.length + 1))).slice(0, Math.max(1, target));
  }
  if (k < 42) return randomString(r, 40);
  let s = "";
  const n = 1 + r.int(5);
  for (let i = 0; i < n; i++) s += `/${component(r)}`;
  if (r.chance(0.05)) s += "/";
  if (r.chance(0.05)) s = s.slice(1);
  if (r.chance(0.05)) s = s.replace("/", "//");
  if (r.chance(0.03) && s.length > 1) {
    // one random byte somewhere
    const at = r.int(s.length);
    s = s.slice(0, at) + randomChar(r) + s.slice(at + 1);
  }
  return s;
}

function option(r: Rng): string {
  const k = r.int(120);
  if (k < 45) return `mount=${pathValue(r, POOL_MOUNTS)}`;
  if (k < 70) return `base=${pathValue(r, POOL_BASES)}`;
  if (k < 76) return `cleanup=${r.chance(0.8) ? r.pick(CLEANUP_VALUES) : randomString(r, 6)}`;
  if (k < 80) return keepOption(r);
  if (k < 90) return r.pick(UNKNOWN);
  if (k < 100) return randomString(r, 30);
  return tmpfsOption(r);
}

/** keep=, keep_max= and optout= (#26), right or wrong. */
function keepOption(r: Rng): string {
  switch (r.int(3)) {
    case 0:
      return `keep=${r.chance(0.8) ? r.pick(["1s", "30m", "12h", "7d", "365d", "366d", "0s", "7", "1w", "99999999999d"]) : randomString(r, 6)}`;
    case 1:
      return `keep_max=${r.chance(0.8) ? r.pick(SIZE_VALUES) : randomString(r, 6)}`;
    default:
      return `optout=${r.chance(0.8) ? r.pick(["yes", "no", "YES", ""]) : randomString(r, 4)}`;
  }
}

/** tmpfs= and the options that qualify it (or, out of place, fail). */
function tmpfsOption(r: Rng): string {
  switch (r.int(9)) {
    case 0:
      return r.chance(0.5) ? `tmpfs=${pathValue(r, POOL_TMPFS)}` : `disk=${pathValue(r, POOL_TMPFS)}`;
    case 1:
      return r.chance(0.7)
        ? `tmpfs=${pathValue(r, POOL_TMPFS)}`
        : `max=${r.chance(0.8) ? r.pick(SIZE_VALUES) : randomString(r, 8)}`;
    case 2:
      return `size=${r.chance(0.8) ? r.pick(SIZE_VALUES) : randomString(r, 8)}`;
    case 3:
      return `mode=${r.chance(0.8) ? r.pick(MODE_VALUES) : randomString(r, 5)}`;
    case 4:
      return r.chance(0.8) ? "noexec" : `noexec=${randomString(r, 4)}`;
    case 6:
      return r.chance(0.5)
        ? `tmpdir_var=${r.chance(0.8) ? r.pick(VAR_NAMES) : randomString(r, 8)}`
        : r.chance(0.6)
          ? `runtime=${pathValue(r, POOL_RUNTIME)}`
          : `runtime_size=${r.chance(0.8) ? r.pick(SIZE_VALUES) : randomString(r, 8)}`;
    case 5:
      return `share=${r.chance(0.6) ? `${r.pick([...POOL_TMPFS, ...POOL_MOUNTS])}/${r.pick([".X11-unix", ".ICE-unix", "a/b"])}` : pathValue(r, POOL_TMPFS)}`;
    default:
      return `tmpdir=${r.chance(0.5) ? `${r.pick([...POOL_TMPFS, ...POOL_MOUNTS])}${r.chance(0.3) ? "/job" : ""}` : pathValue(r, POOL_TMPFS)}`;
  }
}

/** keep='s seconds (a valid one). */
function ttlOf(v: string): number {
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[v.slice(-1).toLowerCase()] ?? 0;
  return Number(v.slice(0, -1)) * unit;
}

/** A valid configuration: distinct mounts, no collision, no nesting. */
function validArgs(r: Rng): string[] {
  const args: string[] = [];
  const used = new Set<string>();
  if (r.chance(0.8))
    args.push(`base=${r.pick(["/tmp/slurm", "/var/tmp/ptd", "/tmp/.private-tmpdir/job", "/scratch/y"])}`);
  const mounts = ["/tmp", "/var/tmp", "/dev/shm", "/scratch/ünï", "/local/x"];
  // now and then memory-backed scratch only: no mount= at all
  const tmpfsOnly = r.chance(0.1);
  const n = tmpfsOnly ? 0 : 1 + r.int(3);
  for (let i = 0; i < n; i++) {
    const m = r.pick(mounts);
    if (used.has(m)) continue;
    used.add(m);
    args.push(`mount=${m}`);
  }
  // Now and then mounts whose directory names differ from those above, even
  // in one base (a test below drops base=), but whose PRIVATE_TMPDIR_HOST_
  // names are theirs ("/" or "-" as "_", case, UTF-8 bytes): only the first
  // mount of a name may have it.
  if (n > 0 && r.chance(0.3)) {
    if (r.chance(0.5)) args.push("base=/scratch/other");
    for (const m of ["/var-tmp", "/TMP", "/Dev-Shm", "/scratch/ÜNÏ", "/local-x"]) {
      if (r.chance(0.5)) continue;
      used.add(m);
      args.push(`mount=${m}`);
    }
  }
  const cleanupNo = r.chance(0.15);
  if (cleanupNo) args.push("cleanup=no");
  else if (r.chance(0.2)) args.push("cleanup=yes");
  // Keeping a job's directories (#26): only with cleanup=yes.
  if (!cleanupNo && r.chance(0.25)) {
    args.push(`keep=${r.pick(["20s", "1h", "7d"])}`);
    if (r.chance(0.5)) args.push(`keep_max=${r.pick(["1G", "10%", "512M"])}`);
  }
  if (r.chance(0.2)) args.push(`optout=${r.pick(["yes", "no"])}`);
  // Memory-backed scratch: mount points none of the above nest in or repeat.
  const points = [...used];
  for (const t of ["/run/shm", "/ram", "/scratch/mem", "/dev/hugepages"]) {
    if (!r.chance(0.25) && !(tmpfsOnly && points.length === 0)) continue;
    args.push(`tmpfs=${t}`);
    points.push(t);
    const qualifiers = [
      ...(r.chance(0.5) ? [`size=${r.pick(["64M", "1G", "2g", "512k", "25%", "100%", "1%", "1T"])}`] : []),
      ...(r.chance(0.3) ? [`mode=${r.pick(["1777", "0700", "755"])}`] : []),
      ...(r.chance(0.3) ? ["noexec"] : []),
    ];
    while (qualifiers.length > 0) args.push(...qualifiers.splice(r.int(qualifiers.length), 1));
  }
  // Local disk per job: its own mount points, a size, a share or a cap.
  for (const t of ["/scratch/disk", "/local/job", "/data"]) {
    if (!r.chance(0.15)) continue;
    args.push(`disk=${t}`);
    points.push(t);
    const share = r.chance(0.5);
    const qualifiers = [
      ...(r.chance(0.7) ? [`size=${share ? r.pick(["1%", "50%", "90%", "100%"]) : r.pick(["64M", "20G", "1T"])}`] : []),
      ...(share && r.chance(0.5) ? [`max=${r.pick(["100G", "2T", "64M"])}`] : []),
      ...(r.chance(0.3) ? [`mode=${r.pick(["1777", "0700"])}`] : []),
      ...(r.chance(0.2) ? [`nr_inodes=${r.pick(["100000", "64k"])}`] : []),
      ...(r.chance(0.3) ? ["request"] : []),
      ...(r.chance(0.3) ? ["noexec"] : []),
    ];
    while (qualifiers.length > 0) args.push(...qualifiers.splice(r.int(qualifiers.length), 1));
  }
  if (r.chance(0.3)) {
    args.push(`tmpdir=${r.pick(points)}${r.chance(0.3) ? "/job" : ""}`);
    // More names for it, only if unset, in any order with it.
    for (const name of ["SLURM_TMPDIR", "TMP", "TEMP", "JOB_TMPDIR"])
      if (r.chance(0.3)) args.splice(r.int(args.length + 1), 0, `tmpdir_var=${name}`);
  }
  // Each job's own XDG_RUNTIME_DIR, on a directory no mount point nests in.
  if (r.chance(0.2)) {
    args.push(`runtime=${r.pick(["/run/user", "/run/rt"])}`);
    if (r.chance(0.5)) args.push(`runtime_size=${r.pick(["8M", "64m", "1G", "512k"])}`);
  }
  // Host directories to share, directly inside a private mount point.
  for (const name of [".X11-unix", ".ICE-unix"]) if (r.chance(0.2)) args.push(`share=${r.pick(points)}/${name}`);
  return args;
}

function vector(r: Rng): string[] {
  const k = r.int(100);
  if (k < 15) return validArgs(r);
  if (k < 25) {
    // valid with one option changed
    const v = validArgs(r);
    v[r.int(v.length)] = option(r);
    return v;
  }
  let n: number;
  if (k < 96) n = r.int(8);
  else if (k < 99)
    n = 8 + r.int(60); // past MAX_GROUPS (16) and MAX_MOUNTS (32)
  else n = 100 + r.int(3000); // thousands (the input buffer is 64 KiB)
  const args: string[] = [];
  for (let i = 0; i < n; i++) {
    // repeat an earlier option now and then: duplicates
    if (args.length > 0 && r.chance(0.1)) args.push(r.pick(args));
    else args.push(option(r));
  }
  return args;
}

/* ------------------------------------------------------------ invariants */

const CONTROL = /[\x00-\x1f\x7f]/;

function checkPath(p: string, what: string): void {
  assert.ok(p.startsWith("/"), `${what}: not absolute: ${JSON.stringify(p)}`);
  assert.ok(!CONTROL.test(p), `${what}: control character in ${JSON.stringify(p)}`);
  assert.ok(Buffer.byteLength(p) < PATH_MAX, `${what}: ${Buffer.byteLength(p)} bytes`);
  if (p === "/") return;
  assert.ok(!p.endsWith("/"), `${what}: trailing "/": ${JSON.stringify(p)}`);
  for (const c of p.slice(1).split("/")) {
    assert.ok(c !== "" && c !== "." && c !== "..", `${what}: component ${JSON.stringify(c)} in ${JSON.stringify(p)}`);
    assert.ok(Buffer.byteLength(c) <= NAME_MAX, `${what}: a ${Buffer.byteLength(c)}-byte component`);
  }
}

function join(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}

/** The options as the core receives them from the Node host: UTF-8 (a lone
 * surrogate becomes U+FFFD), NUL-terminated (a NUL inside a string ends an
 * option there and starts the next). */
function asCoreSeesThem(args: readonly string[]): string[] {
  return args.flatMap((a) => Buffer.from(a, "utf8").toString("utf8").split("\0"));
}

interface Tmpfs {
  path: string;
  /** disk= (#25) rather than tmpfs= */
  disk: boolean;
  /** size= as given, undefined for the default (50%, a disk's 90%) */
  size?: string;
  /** max= as given */
  max?: string;
  /** request (disk= only): the job's --tmp decides */
  request?: boolean;
  mode: number;
  noexec: boolean;
}

interface Summary {
  mounts: string[];
  /** each mount='s base, as mounts is ordered */
  mountBases: string[];
  bases: Set<string>;
  cleanup: boolean;
  tmpfs: Tmpfs[];
  shares: string[];
  tmpdir?: string;
  /** keep= and keep_max= as given (#26) */
  keep: string | undefined;
  keepMax: string | undefined;
  /** optout=yes */
  optout: boolean;
  /** tmpdir_var= names, in order */
  tmpdirVars: string[];
  /** runtime= and runtime_size= as given */
  runtime?: string;
  runtimeSize?: string;
}

/** What the arguments say, for the checks that compare plan and input
 * (only meaningful when the core accepted them). */
function summary(args: readonly string[]): Summary {
  const mounts: string[] = [];
  const mountBases: string[] = [];
  const bases = new Set<string>();
  let base = "/tmp/slurm";
  const tmpfs: Tmpfs[] = [];
  const shares: string[] = [];
  let tmpdir: string | undefined;
  const tmpdirVars: string[] = [];
  let runtime: string | undefined;
  let runtimeSize: string | undefined;
  let cleanup = true;
  let keep: string | undefined;
  let keepMax: string | undefined;
  let optout = false;
  let sawBase = false;
  for (const a of asCoreSeesThem(args)) {
    const last = tmpfs[tmpfs.length - 1];
    if (a.startsWith("mount=")) {
      mounts.push(a.slice(6));
      mountBases.push(base);
      if (!sawBase) {
        bases.add("/tmp/slurm");
        sawBase = true;
      }
    } else if (a.startsWith("base=")) {
      base = a.slice(5);
      bases.add(base);
      sawBase = true;
    } else if (a.startsWith("tmpfs=")) tmpfs.push({ path: a.slice(6), disk: false, mode: 0o1777, noexec: false });
    else if (a.startsWith("disk=")) tmpfs.push({ path: a.slice(5), disk: true, mode: 0o1777, noexec: false });
    else if (a.startsWith("size=") && last) last.size = a.slice(5);
    else if (a.startsWith("max=") && last) last.max = a.slice(4);
    else if (a === "request" && last) last.request = true;
    else if (a.startsWith("mode=") && last) last.mode = parseInt(a.slice(5), 8);
    else if (a === "noexec" && last) last.noexec = true;
    else if (a.startsWith("tmpdir=")) tmpdir = a.slice(7);
    else if (a.startsWith("tmpdir_var=")) tmpdirVars.push(a.slice(11));
    else if (a.startsWith("runtime=")) runtime = a.slice(8);
    else if (a.startsWith("runtime_size=")) runtimeSize = a.slice(13);
    else if (a.startsWith("share=")) shares.push(a.slice(6));
    else if (a.startsWith("cleanup=")) cleanup = a === "cleanup=yes";
    else if (a.startsWith("keep=")) keep = a.slice(5);
    else if (a.startsWith("keep_max=")) keepMax = a.slice(9);
    else if (a.startsWith("optout=")) optout = a === "optout=yes";
  }
  // Only tmpfs= options: the job's directories at the default base.
  if (bases.size === 0) bases.add("/tmp/slurm");
  return {
    mounts,
    mountBases,
    bases,
    cleanup,
    tmpfs,
    shares,
    keep,
    keepMax,
    optout,
    tmpdirVars,
    ...(tmpdir === undefined ? {} : { tmpdir }),
    ...(runtime === undefined ? {} : { runtime }),
    ...(runtimeSize === undefined ? {} : { runtimeSize }),
  };
}

/** A mount's PRIVATE_TMPDIR_HOST_ name, a second reading of the core's:
 * its private directory's name upper-cased, each other byte "_". */
function hostEnvName(mount: string): string {
  const bytes = [...Buffer.from(mount.slice(1), "utf8")];
  const mapped = bytes.map((b) => {
    const c = String.fromCharCode(b).toUpperCase();
    return b < 0x80 && /^[A-Z0-9_]$/.test(c) ? c : "_";
  });
  return `PRIVATE_TMPDIR_HOST_${mapped.join("")}`;
}

/** The variables a step sets, in order, and their flags: in the batch and
 * interactive step (script) each mount='s private directory on the host (the
 * first of two mounts with one name has it), then, in every step, TMPDIR,
 * each tmpdir_var= name (only if unset) and XDG_RUNTIME_DIR. */
function expectedStepEnv(sum: Summary, job: Job, script: boolean): [string, string, number][] {
  const env: [string, string, number][] = [];
  const seen = new Set<string>();
  sum.mounts.forEach((m, i) => {
    if (!script) return;
    const name = hostEnvName(m);
    if (seen.has(name)) return;
    seen.add(name);
    env.push([name, `${sum.mountBases[i]}.${job.jobid}.${job.restart}/${m.slice(1).replaceAll("/", "_")}`, 0]);
  });
  return [...env, ...jobEnv(sum, job)];
}

/** What every step and session sets: TMPDIR, the other names, XDG_RUNTIME_DIR. */
function jobEnv(sum: Summary, job: Job): [string, string, number][] {
  const env: [string, string, number][] = [];
  if (sum.tmpdir !== undefined) {
    env.push(["TMPDIR", sum.tmpdir, 0]);
    for (const v of sum.tmpdirVars) env.push([v, sum.tmpdir, F_IF_UNSET]);
  }
  if (sum.runtime !== undefined) env.push(["XDG_RUNTIME_DIR", `${sum.runtime}/${job.uid}`, 0]);
  return env;
}

const MIB_PER = { k: 1n, m: 1n, g: 1024n, t: 1048576n } as const;

/** A tmpfs's size in MiB for a job, from size= as given (a second reading,
 * in BigInt, of what the core does in u64). */
function expectedSizeMb(t: Tmpfs, job: Job): number {
  const pct = /^(\d+)%$/.exec(t.size ?? "50%");
  if (pct) {
    const mem = BigInt(job.memMb || job.nodeMemMb || 0);
    const mb = (mem * BigInt(pct[1] ?? "0")) / 100n;
    return Number(mb > 0n ? mb : 1n);
  }
  const abs = /^(\d+)([kmgt])$/i.exec(t.size ?? "");
  assert.ok(abs, `size=${t.size} accepted`);
  const n = BigInt(abs[1] ?? "0");
  const unit = (abs[2] ?? "m").toLowerCase() as keyof typeof MIB_PER;
  return Number(unit === "k" ? (n + 1023n) / 1024n : n * MIB_PER[unit]);
}

/** a is b or lies under it, component-wise. */
const within = (a: string, b: string): boolean => a === b || a.startsWith(`${b}/`);

const FILLS = new Set(["open_trusted", "mkdir_at", "open_private", "open_target", "open_shared"]);
// The extern step's namespace records are for the holder it starts.
const EXTERN_OPS = new Set([
  "open_trusted",
  "mkdir_at",
  "continue_at",
  "usage_path",
  "ns_enter",
  "unshare_mount_ns",
  "make_slave",
  "open_private",
  "open_target",
  "bind",
  "mount_tmpfs",
  "measure_disk",
  "mount_disk",
  "open_shared",
  "bind_shared",
  "ns_ready",
]);
// Every other step's: the extern step's, and what its tasks need.
const STEP_OPS = new Set([...EXTERN_OPS, "keep_output", "set_env"]);
const ALLOWED: Record<PhaseName, Set<string>> = {
  // What the node must have: mke2fs, for a disk=.
  CHECK: new Set(["need_program"]),
  // A step's init: CHECK's, then a disk='s room, unless the job's
  // namespace is held (the directories are those a step makes).
  INIT: new Set(["need_program", "open_trusted", "mkdir_at", "ns_held", "job_request", "measure_disk", "disk_fits"]),
  EXTERN: EXTERN_OPS,
  STEP: STEP_OPS,
  // The batch and interactive step plan as every step, variables aside.
  SCRIPT: STEP_OPS,
  EPILOG: new Set([
    "open_trusted",
    "mkdir_at",
    "ns_release",
    "remove_at",
    "mark_ended",
    "keep_asked",
    "job_failed",
    "keep_at",
  ]),
  DRAIN: new Set(["open_trusted", "mkdir_at", "ns_release", "kept_sweep", "usage_path", "drain_at"]),
  // An ssh session only joins: nothing made but the namespace directory.
  SESSION: new Set(["open_trusted", "mkdir_at", "ns_enter", "ns_ready", "set_env"]),
};

// Valid plans with memory-backed scratch, so the run can tell it made some.
const planned = { mountTmpfs: 0, setEnv: 0, ifUnset: 0, runtime: 0, keepAsk: 0, keptSweep: 0, optedOut: 0 };

function checkPlan(phase: PhaseName, args: readonly string[], job: Job, whole: PlanStep[]): void {
  let plan = whole;
  if (plan.some((s) => s.op === "mount_tmpfs")) planned.mountTmpfs++;
  if (plan.some((s) => s.op === "set_env" && s.str === "TMPDIR")) planned.setEnv++;
  if (plan.some((s) => s.op === "set_env" && s.flags === F_IF_UNSET)) planned.ifUnset++;
  if (plan.some((s) => s.op === "mount_tmpfs" && s.mode === 0o755 && s.uid === 0)) planned.runtime++;
  if (plan.some((s) => s.op === "keep_ask")) planned.keepAsk++;
  if (plan.some((s) => s.op === "kept_sweep")) planned.keptSweep++;
  if ((phase === "STEP" || phase === "SCRIPT") && ((job.userOpts ?? 0) & U_OFF) !== 0) planned.optedOut++;
  const sum = summary(args);
  const { mounts, bases, cleanup, tmpfs, shares, tmpdir, tmpdirVars, runtime } = sum;
  // A job's own options: planned only where the line offers them (the core
  // refused the others, as at submission); dropped at the job's end.
  const own = job.userOpts ?? 0;
  assert.ok(
    phase === "EPILOG" ||
      phase === "DRAIN" ||
      ((own & U_KEEP_MASK) !== U_KEEP_MASK &&
        (own & ~(U_KEEP_MASK | U_OFF)) === 0 &&
        (!(own & U_KEEP_MASK) || sum.keep !== undefined) &&
        (!(own & U_OFF) || sum.optout)),
    `a job's options ${own} accepted where the line does not offer them`,
  );
  if ((phase === "STEP" || phase === "SCRIPT") && own & U_OFF) {
    assert.deepEqual(plan, [], "--private-tmpdir=off: the step plans nothing");
    return;
  }
  // --keep-tmpdir: the step leaves the request last, after its variables.
  if ((phase === "STEP" || phase === "SCRIPT") && (own & U_KEEP_MASK) !== 0) {
    const last = plan.at(-1);
    assert.deepEqual(
      [last?.op, last?.str, last?.mode, last?.path],
      ["keep_ask", `keep.${job.jobid}`, own & U_KEEP_MASK, `${[...bases][0]}.ns/job.${job.jobid}`],
      "the job's request, last",
    );
    plan = plan.slice(0, -1);
  }
  // tmpdir_var=: names a shell exports, none the core keeps, each once, at
  // most 8, and only with tmpdir=.
  assert.ok(tmpdirVars.length <= 8, "more than 8 tmpdir_var= accepted");
  assert.equal(new Set(tmpdirVars).size, tmpdirVars.length, "a tmpdir_var= given twice was accepted");
  if (tmpdirVars.length > 0) assert.ok(tmpdir !== undefined, "tmpdir_var= without tmpdir= accepted");
  for (const v of tmpdirVars) {
    assert.ok(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(v), `tmpdir_var=${v} accepted`);
    assert.ok(
      v !== "TMPDIR" && v !== "XDG_RUNTIME_DIR" && !v.startsWith("PRIVATE_TMPDIR_HOST_"),
      `tmpdir_var=${v} accepted`,
    );
  }
  // runtime=: one more mount point, nesting in none and holding none.
  if (runtime !== undefined)
    for (const p of [...mounts, ...tmpfs.map((t) => t.path), ...shares])
      assert.ok(!within(runtime, p) && !within(p, runtime), `runtime=${runtime} and ${p} nest`);
  else assert.equal(sum.runtimeSize, undefined, "runtime_size= without runtime= accepted");
  const points = [...mounts, ...tmpfs.map((t) => t.path)];
  assert.ok(points.length > 0, "a plan without any mount= or tmpfs=");
  assert.equal(new Set(points).size, points.length, "a mount point given twice (as mount= or tmpfs=) was accepted");
  for (const a of points) {
    for (const b of points) assert.ok(!b.startsWith(`${a}/`), `nested mount points accepted: ${a} and ${b}`);
  }
  assert.ok(tmpfs.length <= 16, "more than MAX_TMPFS tmpfs= accepted");
  if (tmpdir !== undefined)
    assert.ok(
      points.some((p) => within(tmpdir, p)),
      `tmpdir=${tmpdir} outside every mount point`,
    );
  // A share= is one name directly in a mount point, never holding TMPDIR.
  for (const sh of shares) {
    assert.ok(points.includes(dirname(sh)), `share=${sh} not directly inside a mount point`);
    if (tmpdir !== undefined) assert.ok(!within(tmpdir, sh), `tmpdir=${tmpdir} inside share=${sh}`);
  }
  assert.equal(new Set(shares).size, shares.length, "a share= given twice was accepted");
  const tmpfsAt = new Map(tmpfs.map((t) => [t.path, t]));
  const ready = plan.findIndex((s) => s.op === "ns_ready");
  const slotPath = new Map<number, { op: string; path: string }>();
  const suffix = `.${job.jobid}.${job.restart}`;
  const jobDirs = new Set<number>();
  const holds = new Map<number, string>(); // slot -> the base it holds for
  const mountDirs = new Set<string>();
  // The job's namespace: <first base>.ns, its entry job.<jobid>.
  const nsDir = `${[...bases][0]}.ns`;
  const nsEntry = `job.${job.jobid}`;
  const nsDirs = new Set<number>();
  const diskDirs = new Set<number>();
  const keptPlaces = new Map<number, string>(); // slot -> its base
  const keepTtl = sum.keep === undefined ? 0 : ttlOf(sum.keep);
  let usageLines = 0;
  plan.forEach((s, i) => {
    const where = `step ${i} (${s.op})`;
    assert.ok(ALLOWED[phase].has(s.op), `${where}: not an op of ${phase}`);
    if (s.op !== "unshare_mount_ns" && s.op !== "make_slave" && s.op !== "job_request" && s.op !== "job_failed") {
      checkPath(s.path, `${where} path`);
      assert.ok(!CONTROL.test(s.str), `${where}: control character in str`);
    }
    // W_SIZE_MB: a size only on a tmpfs or disk mount, 0 in every other record.
    if (s.op === "mount_tmpfs" || s.op === "mount_disk" || s.op === "disk_fits" || s.op === "kept_sweep")
      assert.ok(s.sizeMb >= 1, `${where}: size ${s.sizeMb} MiB`);
    else assert.equal(s.sizeMb, 0, `${where}: W_SIZE_MB`);
    // The job's namespace is complete when it is served: nothing mounted after.
    if (
      s.op === "bind" ||
      s.op === "mount_tmpfs" ||
      s.op === "mount_disk" ||
      (s.op === "measure_disk" && phase !== "INIT")
    )
      assert.ok(
        ready >= 0 && i < ready && i > plan.findIndex((x) => x.op === "make_slave"),
        `${where}: outside the namespace`,
      );
    // references: only slots filled earlier
    const ref = (slot: number, what: string): { op: string; path: string } => {
      const f = slotPath.get(slot);
      assert.ok(f, `${where}: ${what} slot ${slot} not filled earlier`);
      return f;
    };
    switch (s.op) {
      case "open_trusted":
        assert.equal(s.str, s.path);
        // The mode only for a parent it may create; never an owner (root).
        assert.equal(s.mode, s.flags & F_CREATE ? 0o711 : 0, `${where}: mode`);
        assert.deepEqual([s.uid, s.gid], [0, 0], `${where}: owner fields`);
        break;
      case "mkdir_at": {
        const parent = ref(s.arg, "parent");
        assert.ok(
          !s.str.includes("/") && s.str !== "" && s.str !== "." && s.str !== "..",
          `${where}: name ${JSON.stringify(s.str)}`,
        );
        assert.equal(s.path, join(parent.path, s.str), `${where}: path is not parent + name`);
        if (s.path === `${[...bases][0]}.disk`) {
          // Where a disk='s unnamed images are made: root's, 0700.
          assert.ok(
            tmpfs.some((t) => t.disk),
            `${where}: an images' directory without disk=`,
          );
          assert.deepEqual([s.mode, s.uid, s.gid, s.flags], [0o700, 0, 0, F_ASIDE], `${where}: images' directory`);
          assert.equal(parent.op, "open_trusted");
          diskDirs.add(s.slot);
          break;
        }
        if (s.path.endsWith(".kept") && bases.has(s.path.slice(0, -5))) {
          // Where kept trees wait (#26): root's, 0755, a squatter moved
          // aside; only with keep=.
          assert.ok(sum.keep !== undefined, `${where}: a kept place without keep=`);
          assert.deepEqual([s.mode, s.uid, s.gid, s.flags], [0o755, 0, 0, F_ASIDE], `${where}: kept place fields`);
          assert.equal(parent.op, "open_trusted");
          keptPlaces.set(s.slot, s.path.slice(0, -5));
          break;
        }
        if (s.path === nsDir) {
          // Where the holder listens: root's, 0700, a squatter moved aside.
          assert.deepEqual(
            [s.mode, s.uid, s.gid, s.flags],
            [NS_DIR_MODE, 0, 0, F_ASIDE],
            `${where}: namespace directory fields`,
          );
          assert.equal(parent.op, "open_trusted");
          nsDirs.add(s.slot);
          break;
        }
        if (parent.op === "open_target") {
          // runtime=: "<uid>" in the job's own tmpfs, the user's, 0700.
          assert.ok(runtime !== undefined && parent.path === runtime, `${where}: made in ${parent.path}`);
          assert.deepEqual(
            [s.str, s.mode, s.uid, s.gid, s.flags],
            [String(job.uid), 0o700, job.uid, job.gid, 0],
            `${where}: runtime directory fields`,
          );
          assert.ok(
            plan.slice(0, i).some((x) => x.op === "mount_tmpfs" && x.path === runtime),
            `${where}: before its tmpfs`,
          );
          break;
        }
        if (phase === "EPILOG" || phase === "DRAIN") {
          // The holding place: root's, 0700, a squatter moved aside; never a
          // job directory's name (no decimal restart count at its end).
          assert.ok(
            s.path.endsWith(".hold") && bases.has(s.path.slice(0, -5)),
            `${where}: ${s.path} is no base's holding place`,
          );
          assert.deepEqual(
            [s.mode, s.uid, s.gid, s.flags],
            [HOLD_MODE, 0, 0, F_ASIDE],
            `${where}: holding place fields`,
          );
          assert.equal(parent.op, "open_trusted");
          holds.set(s.slot, s.path.slice(0, -5));
          break;
        }
        assert.equal(s.mode, 0o700);
        assert.deepEqual([s.uid, s.gid], [job.uid, job.gid], `${where}: not the job's owner`);
        if (parent.op === "open_trusted") {
          assert.ok(s.str.endsWith(suffix), `${where}: job directory ${s.str} without ${suffix}`);
          assert.ok(bases.has(s.path.slice(0, -suffix.length)), `${where}: ${s.path} is no base's job directory`);
          // aside + wipe-ended in every phase: never an unconditional wipe
          assert.equal(s.flags, F_ASIDE | F_WIPE_ENDED, `${where}: job directory flags`);
          jobDirs.add(s.slot);
        } else {
          assert.ok(jobDirs.has(s.arg), `${where}: a mount directory outside a job directory`);
          assert.ok(s.path.startsWith(`${parent.path}/`));
          assert.ok(!mountDirs.has(s.path), `${where}: two mounts share ${s.path}`);
          assert.equal(s.flags, 0, `${where}: a mount directory is never moved aside or wiped`);
          mountDirs.add(s.path);
        }
        break;
      }
      case "open_private": {
        assert.equal(s.str, s.path);
        assert.ok(mountDirs.has(s.path), `${where}: ${s.path} was not made in this plan`);
        // The identity to match: the slot that made this very directory.
        const made = ref(s.arg, "expected directory");
        assert.deepEqual([made.op, made.path], ["mkdir_at", s.path], `${where}: expected directory`);
        assert.deepEqual([s.uid, s.gid, s.mode, s.flags], [job.uid, 0, 0, 0], `${where}: unused fields`);
        break;
      }
      case "open_target":
        assert.equal(s.str, s.path);
        assert.ok(
          points.includes(s.path) || s.path === runtime,
          `${where}: ${s.path} is no mount=, tmpfs= or runtime=`,
        );
        break;
      case "open_shared":
        assert.equal(s.str, s.path);
        // A share=, or a kept place a mount= covers (bound into the job).
        assert.ok(
          shares.includes(s.path) ||
            (keepTtl > 0 &&
              s.path.endsWith(".kept") &&
              bases.has(s.path.slice(0, -5)) &&
              sum.mounts.includes(dirname(s.path))),
          `${where}: ${s.path} is no share= nor a covered kept place`,
        );
        break;
      case "keep_asked":
        // The request a step left, in the namespace directory; the epilog's own option in W_MODE.
        assert.ok(keepTtl > 0, `${where}: without keep=`);
        assert.ok(nsDirs.has(s.arg), `${where}: not the namespace directory`);
        assert.deepEqual(
          [s.str, s.slot, s.mode, s.flags],
          [`keep.${job.jobid}`, -1, (job.userOpts ?? 0) & U_KEEP_MASK, 0],
          `${where}: fields`,
        );
        assert.equal(plan[i + 1]?.op, "job_failed", `${where}: not followed by job_failed`);
        break;
      case "job_failed":
        assert.equal(plan[i - 1]?.op, "keep_asked", `${where}: not after keep_asked`);
        break;
      case "keep_at": {
        // Every run's job directory, renamed into its base's kept place, before its removal.
        const parent = ref(s.arg, "parent");
        assert.equal(parent.op, "open_trusted");
        const base = keptPlaces.get(s.slot);
        assert.ok(base !== undefined, `${where}: slot ${s.slot} is no kept place`);
        assert.equal(join(parent.path, s.str), `${base}.${job.jobid}.`, `${where}: prefix`);
        assert.equal(s.path, `${base}.kept`);
        assert.deepEqual([s.mode, s.uid, s.flags], [keepTtl, job.uid, 0], `${where}: fields`);
        assert.equal(plan[i + 1]?.op, "remove_at", `${where}: not right before its removal`);
        assert.ok(
          plan.some((x) => x.op === "keep_asked"),
          `${where}: no request read`,
        );
        break;
      }
      case "kept_sweep": {
        const base = keptPlaces.get(s.slot);
        assert.ok(base !== undefined, `${where}: slot ${s.slot} is no kept place`);
        assert.equal(holds.get(s.arg), base, `${where}: not its base's holding place`);
        assert.deepEqual([s.str, s.path, s.mode], [`${base}.kept`, `${base}.kept`, keepTtl], `${where}: fields`);
        const pct = /^(\d+)%$/.exec(sum.keepMax ?? "10%");
        assert.equal(s.flags, pct ? F_SHARE : 0, `${where}: flags`);
        if (pct) assert.equal(s.sizeMb, Number(pct[1]), `${where}: budget`);
        assert.equal(
          plan.slice(i + 1).find((r) => r.op !== "usage_path")?.op,
          "drain_at",
          `${where}: not right before the drain (its usage paths aside)`,
        );
        break;
      }
      case "keep_output": {
        // Each mount='s own private directory, made in this plan, and its
        // mount point; the job's owner (the links are made as the user).
        const made = ref(s.arg, "private directory");
        assert.equal(made.op, "mkdir_at", `${where}: not a directory made here`);
        assert.ok(mountDirs.has(s.path) && made.path === s.path, `${where}: ${s.path} is no private directory`);
        assert.ok(sum.mounts.includes(s.str), `${where}: ${s.str} is no mount=`);
        assert.deepEqual([s.uid, s.gid, s.mode, s.flags, s.slot], [job.uid, job.gid, 0, 0, -1], `${where}: fields`);
        break;
      }
      case "bind_shared": {
        // The very directory its open_shared filled, bound at its own path.
        const open = ref(s.slot, "shared source");
        assert.deepEqual([open.op, open.path, s.str], ["open_shared", s.path, s.path], `${where}: source`);
        assert.deepEqual([s.uid, s.gid], [job.uid, job.gid], `${where}: mount point's owner`);
        break;
      }
      case "measure_disk":
        // The images' filesystem, once, before any disk= that is a share.
        assert.ok(diskDirs.has(s.arg), `${where}: not the images' directory`);
        assert.ok(
          tmpfs.some((t) => t.disk && /%$/.test(t.size ?? "%")),
          `${where}: measured without a share`,
        );
        break;
      case "mount_disk": {
        const target = ref(s.slot, "mount point");
        assert.deepEqual([target.op, target.path], ["open_target", s.path], `${where}: mount point slot`);
        const t = tmpfsAt.get(s.path);
        assert.ok(t?.disk, `${where}: ${s.path} is no disk=`);
        assert.ok(diskDirs.has(s.arg), `${where}: not the images' directory`);
        assert.equal(s.str, "/sbin/mke2fs");
        const share = /^(\d+)%$/.exec(t.size ?? "90%");
        assert.deepEqual(
          [s.mode, s.uid, s.gid, s.flags],
          [t.mode, job.uid, job.gid, (t.noexec ? F_NOEXEC : 0) | (share ? F_SHARE : 0) | (t.request ? F_REQUEST : 0)],
          `${where}: fields`,
        );
        if (share) {
          assert.equal(s.sizeMb, Number(share[1]), `${where}: the share's percentage`);
          assert.ok(
            plan.slice(0, i).some((x) => x.op === "measure_disk"),
            `${where}: no measure_disk before`,
          );
        } else assert.equal(s.sizeMb, expectedSizeMb(t, job), `${where}: size of size=${t.size}`);
        break;
      }
      case "mount_tmpfs": {
        // On the mount point an earlier open_target opened, as given.
        const target = ref(s.slot, "mount point");
        assert.deepEqual([target.op, target.path], ["open_target", s.path], `${where}: mount point slot`);
        if (s.path === runtime) {
          // Root's 0755, as systemd-logind's /run/user; its size runtime_size= or 64 MiB.
          const size =
            sum.runtimeSize === undefined
              ? 64
              : expectedSizeMb({ path: runtime, disk: false, mode: 0, noexec: false, size: sum.runtimeSize }, job);
          assert.deepEqual(
            [s.arg, s.mode, s.uid, s.gid, s.flags, s.sizeMb],
            [-1, 0o755, 0, 0, 0, size],
            `${where}: runtime tmpfs fields`,
          );
          break;
        }
        const t = tmpfsAt.get(s.path);
        assert.ok(t, `${where}: ${s.path} is no tmpfs=`);
        assert.equal(s.str, s.path);
        assert.deepEqual(
          [s.arg, s.mode, s.uid, s.gid, s.flags],
          [-1, t.mode, job.uid, job.gid, t.noexec ? F_NOEXEC : 0],
          `${where}: fields`,
        );
        assert.equal(s.sizeMb, expectedSizeMb(t, job), `${where}: size of size=${t.size ?? "(default)"}`);
        break;
      }
      case "set_env":
        // Its name and value: with the phase's, below.
        assert.ok(ready >= 0 && i > ready, `${where}: not after ns_ready`);
        assert.deepEqual([s.slot, s.arg, s.mode, s.uid, s.gid], [-1, -1, 0, 0, 0], `${where}: unused fields`);
        assert.ok(s.flags === 0 || s.flags === F_IF_UNSET, `${where}: flags ${s.flags}`);
        break;
      case "bind": {
        const src = ref(s.slot, "source");
        const dst = ref(s.arg, "target");
        assert.equal(src.op, "open_private", `${where}: source is a ${src.op}`);
        assert.equal(dst.op, "open_target", `${where}: target is a ${dst.op}`);
        assert.equal(s.path, src.path);
        assert.equal(s.str, dst.path);
        assert.deepEqual([s.uid, s.gid, s.mode, s.flags], [0, 0, 0, 0], `${where}: unused fields`);
        break;
      }
      case "remove_at": {
        // Every restart count of the job, through the base's holding place.
        const parent = ref(s.arg, "parent");
        assert.equal(parent.op, "open_trusted");
        const jobPrefix = `.${job.jobid}.`;
        assert.ok(s.str.endsWith(jobPrefix) && !s.str.includes("/"), `${where}: removes ${s.str}`);
        const prefixPath = join(parent.path, s.str);
        assert.equal(s.path, `${prefixPath}${job.restart}`, `${where}: path names this run's directory`);
        assert.ok(
          bases.has(prefixPath.slice(0, -jobPrefix.length)),
          `${where}: ${prefixPath} is no base's job directory prefix`,
        );
        assert.equal(
          holds.get(s.slot),
          prefixPath.slice(0, -jobPrefix.length),
          `${where}: not its base's holding place`,
        );
        assert.deepEqual(
          [s.uid, s.gid, s.mode, s.flags],
          [job.uid, 0, 0, F_EVERY_RESTART | F_DEFER],
          `${where}: fields`,
        );
        break;
      }
      case "drain_at": {
        const parent = ref(s.arg, "parent");
        assert.equal(parent.op, "open_trusted");
        const base = holds.get(s.slot);
        assert.ok(base !== undefined, `${where}: slot ${s.slot} is no holding place`);
        assert.equal(s.path, `${base}.hold`);
        assert.equal(join(parent.path, s.str), `${base}.`, `${where}: sweep prefix`);
        assert.deepEqual(
          [s.mode, s.uid, s.gid, s.flags],
          [DRAIN_BUDGET_S, 0, 0, cleanup ? F_SWEEP : 0],
          `${where}: fields (no sweep with cleanup=no)`,
        );
        break;
      }
      case "usage_path": {
        // The name the removal that follows gives a usage line: a mount='s
        // private directory name and its path.
        const next = plan.slice(i + 1).find((r) => r.op !== "usage_path");
        assert.ok(next?.op === "drain_at" || next?.op === "continue_at", `${where}: not before a drain or continue`);
        assert.ok(mounts.includes(s.path), `${where}: ${s.path} is no mount=`);
        assert.equal(s.str, s.path.slice(1).replaceAll("/", "_"), `${where}: not its directory name`);
        usageLines++;
        break;
      }
      case "continue_at": {
        // Only looked at, in the base's parent: never a slot of its own.
        const parent = ref(s.arg, "parent");
        assert.equal(parent.op, "open_trusted");
        assert.equal(s.path, join(parent.path, s.str), `${where}: path is not parent + name`);
        assert.ok(
          s.path.endsWith(".hold") && bases.has(s.path.slice(0, -5)),
          `${where}: ${s.path} is no base's holding place`,
        );
        assert.deepEqual([s.slot, s.mode, s.uid, s.gid, s.flags], [-1, DRAIN_BUDGET_S, 0, 0, 0], `${where}: fields`);
        assert.ok(cleanup, `${where}: continued with cleanup=no`);
        break;
      }
      case "ns_held":
        assert.ok(nsDirs.has(s.arg), `${where}: slot ${s.arg} is not the namespace directory`);
        assert.deepEqual([s.str, s.path, s.slot, s.flags], [nsEntry, `${nsDir}/${nsEntry}`, -1, 0], `${where}`);
        break;
      case "disk_fits": {
        const t = tmpfsAt.get(s.path);
        assert.ok(t?.disk, `${where}: ${s.path} is no disk=`);
        assert.ok(diskDirs.has(s.arg), `${where}: not the images' directory`);
        const share = /^(\d+)%$/.exec(t.size ?? "90%");
        assert.equal(s.flags, (share ? F_SHARE : 0) | (t.request ? F_REQUEST : 0), `${where}: flags`);
        assert.equal(s.sizeMb, share ? Number(share[1]) : expectedSizeMb(t, job), `${where}: size`);
        break;
      }
      case "ns_enter":
      case "ns_ready":
      case "ns_release": {
        assert.ok(nsDirs.has(s.arg), `${where}: slot ${s.arg} is not the namespace directory`);
        if (phase === "DRAIN") {
          // The remover: every holder of a job gone, by its entries' prefix.
          assert.deepEqual(
            [s.op, s.str, s.path, s.flags, s.slot, s.mode],
            ["ns_release", "job.", nsDir, F_SWEEP, -1, 0],
            `${where}: the sweep`,
          );
          break;
        }
        if (phase === "SESSION") {
          // The user's job, found by its holder's prefix; join or fail.
          assert.deepEqual([s.str, s.path, s.slot, s.gid], ["job.", nsDir, -1, 0], `${where}: the session's entry`);
          if (s.op === "ns_enter") {
            assert.deepEqual([s.flags, s.uid], [F_SESSION, job.uid], `${where}: flags, the session's user`);
            assert.ok(
              s.mode > i && plan[s.mode]?.op === "ns_ready",
              `${where}: jumps to ${s.mode}, not an ns_ready after it`,
            );
          } else {
            assert.deepEqual([s.mode, s.flags, s.uid], [0, 0, 0], `${where}: unused fields`);
          }
          break;
        }
        assert.deepEqual([s.str, s.path], [nsEntry, `${nsDir}/${nsEntry}`], `${where}: the job's entry`);
        // ns_enter carries the job's user: its holder's socket is theirs.
        assert.deepEqual([s.slot, s.uid, s.gid], [-1, s.op === "ns_enter" ? job.uid : 0, 0], `${where}: fields`);
        if (s.op === "ns_enter") {
          assert.equal(s.flags, phase === "EXTERN" ? F_NO_JOIN : 0, `${where}: flags`);
          // "joined" goes on past the plan's ns_ready, never elsewhere.
          assert.ok(
            s.mode > i && plan[s.mode]?.op === "ns_ready",
            `${where}: jumps to ${s.mode}, not an ns_ready after it`,
          );
        } else {
          assert.deepEqual([s.mode, s.flags], [0, 0], `${where}: unused fields`);
        }
        break;
      }
      case "mark_ended": {
        const parent = ref(s.arg, "parent");
        assert.equal(parent.op, "open_trusted");
        assert.ok(s.str.endsWith(suffix) && !s.str.includes("/"), `${where}: removes ${s.str}`);
        assert.equal(s.path, join(parent.path, s.str));
        assert.ok(bases.has(s.path.slice(0, -suffix.length)), `${where}: ${s.path} is no base's job directory`);
        assert.deepEqual([s.uid, s.gid, s.mode, s.flags], [job.uid, 0, 0, 0], `${where}: fields`);
        break;
      }
    }
    if (FILLS.has(s.op)) {
      assert.ok(s.slot >= 0 && s.slot < MAX_SLOTS, `${where}: slot ${s.slot}`);
      assert.ok(!slotPath.has(s.slot), `${where}: slot ${s.slot} filled twice`);
      slotPath.set(s.slot, { op: s.op, path: s.path });
    }
  });

  const ops = plan.map((s) => s.op);
  const count = (op: string): number => ops.filter((o) => o === op).length;
  // Every mount= named once before the drains or continues (none without).
  assert.equal(
    usageLines,
    count("drain_at") + count("continue_at") ? mounts.length : 0,
    "each mount= named once for the removal",
  );
  switch (phase) {
    case "INIT": {
      // CHECK's record, then, with a disk=: the namespace directory, the
      // holder looked for, the images' directory, one disk_fits per disk=
      // in option order (a share's after one measure_disk).
      const disks = tmpfs.filter((t) => t.disk);
      const first = disks.findIndex((t) => /%$/.test(t.size ?? "%"));
      const fits = disks.map(() => "disk_fits");
      if (first >= 0) fits.splice(first, 0, "measure_disk");
      if (disks.some((t) => t.request)) fits.unshift("job_request");
      assert.deepEqual(
        ops,
        disks.length === 0
          ? []
          : // Without the cores nothing is sized here (the step refuses a share).
            !job.cores || !job.nodeCores
            ? ["need_program"]
            : ["need_program", "open_trusted", "mkdir_at", "ns_held", "mkdir_at", ...fits],
        "INIT's records",
      );
      const held = plan.find((s) => s.op === "ns_held");
      if (held) assert.equal(held.str, nsEntry, "the job's own holder");
      assert.deepEqual(
        plan.filter((s) => s.op === "disk_fits").map((s) => s.path),
        !job.cores || !job.nodeCores ? [] : disks.map((t) => t.path),
      );
      break;
    }
    case "CHECK":
      // mke2fs once, named with the first disk=; nothing else.
      assert.deepEqual(
        plan.map((s) => [s.op, s.str, s.path]),
        tmpfs.some((t) => t.disk) ? [["need_program", "/sbin/mke2fs", tmpfs.find((t) => t.disk)?.path]] : [],
      );
      break;
    case "EXTERN":
    case "STEP":
    case "SCRIPT":
      assert.equal(jobDirs.size, bases.size, "one job directory per base");
      assert.equal(mountDirs.size, mounts.length, "one private directory per mount=");
      assert.equal(count("continue_at"), cleanup ? bases.size : 0, "one continue_at per base with cleanup on");
      {
        // One namespace per job: entered after every directory is made
        // (in the host's namespace), served by the last record.
        assert.equal(count("ns_enter"), 1);
        assert.equal(count("ns_ready"), 1);
        const enter = ops.indexOf("ns_enter");
        // Last but for the step's variables, which a step that joined runs too.
        const env = phase === "EXTERN" ? [] : expectedStepEnv(sum, job, phase === "SCRIPT");
        assert.equal(ops.indexOf("ns_ready"), plan.length - 1 - env.length, "ns_ready is the last record but set_env");
        assert.deepEqual(
          plan.filter((s) => s.op === "set_env").map((s) => [s.str, s.path, s.flags]),
          env,
          "a step's variables: each mount='s host path (batch and interactive step), then TMPDIR with tmpdir=, the tmpdir_var= names, XDG_RUNTIME_DIR",
        );
        // Each host path is a private directory made and bound here: never a
        // tmpfs= (only in the job's namespace) nor any other path.
        const binds = new Set(plan.filter((s) => s.op === "bind").map((s) => s.path));
        for (const [name, value] of env) {
          if (!name.startsWith("PRIVATE_TMPDIR_HOST_")) continue;
          assert.ok(mountDirs.has(value) && binds.has(value), `${name}=${value} is no bound private directory`);
        }
        assert.equal(ops.indexOf("unshare_mount_ns"), enter + 1, "the namespace records follow ns_enter");
        ops.forEach((op, i) => {
          // keep_output too: it must keep the host's directories. But
          // runtime='s directory: in the job's own tmpfs, after its mount.
          if (op === "mkdir_at" && plan[i]?.path === `${runtime}/${job.uid}`) return;
          if (op === "mkdir_at" || op === "continue_at" || op === "open_trusted" || op === "keep_output")
            assert.ok(i < enter, `${op} at ${i} after ns_enter`);
        });
        // One per mount= in a step, none in the extern step (no task).
        assert.equal(count("keep_output"), phase === "EXTERN" ? 0 : mounts.length, "one keep_output per mount=");
      }
      {
        const unshare = ops.indexOf("unshare_mount_ns");
        const slave = ops.indexOf("make_slave");
        // The first mount, a bind's, a tmpfs's or a disk's (measured first).
        const firstBind = ops.findIndex(
          (op) => op === "bind" || op === "mount_tmpfs" || op === "mount_disk" || op === "measure_disk",
        );
        assert.equal(count("unshare_mount_ns"), 1);
        ops.forEach((op, i) => {
          if (op === "continue_at") assert.ok(i < unshare, `continue_at at ${i} after unshare`);
        });
        assert.equal(count("make_slave"), 1);
        assert.ok(unshare >= 0 && slave === unshare + 1, "make_slave right after unshare");
        assert.equal(count("bind"), new Set(mounts).size, "one bind per distinct mount=");
        // runtime=: its tmpfs's root opened after the mount, "<uid>" made in
        // it: right after its mount_tmpfs, and nowhere else.
        const rtMount = plan.findIndex((s) => s.op === "mount_tmpfs" && s.path === runtime);
        if (runtime !== undefined) {
          assert.deepEqual(
            plan.slice(rtMount, rtMount + 3).map((s) => [s.op, s.path]),
            [
              ["mount_tmpfs", runtime],
              ["open_target", runtime],
              ["mkdir_at", `${runtime}/${job.uid}`],
            ],
            "runtime='s tmpfs, its root, its directory",
          );
          assert.equal(plan[rtMount + 2]?.arg, plan[rtMount + 1]?.slot, "the directory made in the tmpfs's root");
        }
        ops.forEach((op, i) => {
          if (runtime !== undefined && (i === rtMount + 1 || i === rtMount + 2)) return;
          if (op === "open_trusted" || op === "mkdir_at") assert.ok(i < unshare, `${op} at ${i} after unshare`);
          if (op === "open_private" || op === "open_target")
            assert.ok(i > slave && i < firstBind, `${op} at ${i} not between make_slave and the first mount`);
          if (op === "bind") assert.ok(i >= firstBind);
          // every bind before the first tmpfs
          if (op === "mount_tmpfs") assert.ok(i > ops.lastIndexOf("bind"), `mount_tmpfs at ${i} before a bind`);
        });
        assert.equal(count("open_private"), mounts.length);
        const rt = runtime === undefined ? 0 : 1;
        assert.equal(count("open_target"), points.length + 2 * rt, "one open_target per mount point, two for runtime=");
        assert.equal(
          count("mount_tmpfs"),
          tmpfs.filter((t) => !t.disk).length + rt,
          "one mount_tmpfs per tmpfs=, and runtime='s",
        );
        assert.equal(count("mount_disk"), tmpfs.filter((t) => t.disk).length, "one mount_disk per disk=");
        assert.equal(
          count("measure_disk"),
          tmpfs.some((t) => t.disk && /%$/.test(t.size ?? "%")) ? 1 : 0,
          "one measure_disk when a disk= is a share",
        );
        // With keep=, each base's kept place that a mount= covers is shared too.
        const keptShares = sum.keep === undefined ? 0 : [...bases].filter((b) => mounts.includes(dirname(b))).length;
        assert.deepEqual(
          [count("open_shared"), count("bind_shared")],
          [shares.length + keptShares, shares.length + keptShares],
          "one open and one bind per share= and covered kept place",
        );
        ops.forEach((op, i) => {
          if (op === "open_shared") assert.ok(i > slave && i < firstBind, `open_shared at ${i} not before the mounts`);
          if (op === "bind_shared")
            assert.ok(
              i > Math.max(ops.lastIndexOf("bind"), ops.lastIndexOf("mount_tmpfs")),
              `bind_shared at ${i} before a mount`,
            );
        });
        assert.deepEqual(
          plan.filter((s) => s.op === "mount_tmpfs" || s.op === "mount_disk").map((s) => s.path),
          [...tmpfs.map((t) => t.path), ...(runtime === undefined ? [] : [runtime])],
          "tmpfs and disk mounts in option order, then runtime='s",
        );
        assert.deepEqual(new Set(plan.filter((s) => s.op === "bind").map((s) => s.str)), new Set(mounts));
      }
      break;
    case "EPILOG":
      // cleanup=yes removes each job directory; cleanup=no only marks it
      // ended: exactly one of the two per base, for every base
      assert.equal(
        count("remove_at"),
        cleanup ? bases.size : 0,
        "one remove_at per base with cleanup on, none with it off",
      );
      assert.equal(
        count("mark_ended"),
        cleanup ? 0 : bases.size,
        "one mark_ended per base with cleanup off, none with it on",
      );
      assert.equal(count("open_trusted"), bases.size, "one open_trusted per base");
      assert.equal(
        count("mkdir_at"),
        (cleanup ? bases.size : 0) * (sum.keep === undefined ? 1 : 2) + 1,
        "one holding place (and with keep= a kept place) per base with cleanup on, and the namespace directory",
      );
      // keep=: one request read, one outcome asked, one keep per base before its removal.
      assert.deepEqual(
        [count("keep_asked"), count("job_failed"), count("keep_at")],
        sum.keep === undefined ? [0, 0, 0] : [1, 1, bases.size],
        "keep's records",
      );
      assert.equal(count("ns_release"), 1, "the job's namespace released");
      ops.forEach((op, i) => {
        if (op === "remove_at" || op === "mark_ended")
          assert.ok(i > ops.indexOf("ns_release"), `${op} at ${i} before ns_release`);
      });
      assert.deepEqual(
        plan
          .filter((s) => s.op === "remove_at" || s.op === "mark_ended")
          .map((s) => s.path.slice(0, -suffix.length))
          .sort(),
        [...bases].sort(),
        "every base's job directory, each once",
      );
      break;
    case "SESSION":
      assert.deepEqual(
        ops,
        ["open_trusted", "mkdir_at", "ns_enter", "ns_ready", ...jobEnv(sum, job).map(() => "set_env")],
        "a session's plan",
      );
      // No host path: a session does not know its job's directories.
      assert.deepEqual(
        plan.slice(4).map((s) => [s.str, s.path, s.flags]),
        jobEnv(sum, job),
        "a session's variables",
      );
      break;
    case "DRAIN":
      assert.equal(count("drain_at"), bases.size, "one drain_at per base");
      assert.equal(
        count("mkdir_at"),
        bases.size * (sum.keep === undefined ? 1 : 2) + 1,
        "one holding place (and with keep= a kept place) per base, and the namespace directory",
      );
      assert.equal(count("kept_sweep"), sum.keep === undefined ? 0 : bases.size, "one kept sweep per base with keep=");
      assert.equal(count("ns_release"), 1, "one sweep of the job namespaces");
      break;
  }
}

function checkError(e: unknown): CoreError {
  if (!(e instanceof CoreError)) {
    const kind = e instanceof WebAssembly.RuntimeError ? "TRAP (WebAssembly.RuntimeError)" : "not a CoreError";
    throw new Error(`${kind}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
  assert.ok(PLAN_CODES.has(e.code), `unknown error code ${e.code}`);
  assert.ok(e.message.length > 0, `${e.code} without a message`);
  assert.ok(!CONTROL.test(e.message), `control character in message ${JSON.stringify(e.message)}`);
  return e;
}

function show(args: readonly string[]): string {
  const s = JSON.stringify(args);
  return s.length > 600 ? `${s.slice(0, 600)}... (${args.length} args, ${s.length} chars)` : s;
}

/** Runs case i; returns its outcome code ("OK" or the error code). */
function fuzzCase(core: Core, seed: number, i: number): string {
  const r = caseRng(seed, i);
  const args = vector(r);
  const phase = r.pick(PHASES);
  const job: Job = {
    jobid: r.u32(),
    restart: r.u32(),
    uid: r.u32(),
    gid: r.u32(),
    ...memory(r),
    userOpts: userOpts(r, args),
  };
  try {
    let plan: PlanStep[];
    try {
      plan = core.plan(phase, args, job);
    } catch (e) {
      return checkError(e).code;
    }
    checkPlan(phase, args, job, plan);
    return "OK";
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(
      `fuzz case ${i} failed (reproduce: PTD_FUZZ_SEED=${seed} PTD_FUZZ_CASE=${i})\n` +
        `phase ${phase}, job ${JSON.stringify(job)}\nargs ${show(args)}\n${msg}`,
    );
  }
}

/* ----------------------------------------------------------------- tests */

describe(`fuzz: the wasm core (seed ${SEED}, ${ONLY === undefined ? COUNT : `case ${ONLY}`})`, function () {
  this.timeout(0);

  it("gives a valid plan or a known error for every vector, never a trap, memory constant", function () {
    const core = new Core();
    const before = core.memoryBytes();
    const outcomes = new Map<string, number>();
    const t0 = process.hrtime.bigint();
    const from = ONLY ?? 0;
    const to = ONLY === undefined ? COUNT : ONLY + 1;
    // kind of failure (its last line, digits elided) -> count, first report
    const failures = new Map<string, { n: number; first: string }>();
    let traps = 0;
    for (let i = from; i < to; i++) {
      let code: string;
      try {
        code = fuzzCase(core, SEED, i);
      } catch (e) {
        if (!KEEP_GOING) throw e;
        const msg = e instanceof Error ? e.message : String(e);
        if (msg.includes("TRAP (WebAssembly.RuntimeError)")) traps++;
        const lines = msg.split("\n");
        const kind = (lines.find((l) => /^(TRAP|not a CoreError)/.test(l)) ?? lines[lines.length - 1] ?? "")
          .replace(/"[^"]*"/g, '"…"')
          .replace(/\d+/g, "N")
          .slice(0, 160);
        const f = failures.get(kind);
        if (f) f.n++;
        else failures.set(kind, { n: 1, first: msg.length > 2000 ? `${msg.slice(0, 2000)}…` : msg });
        code = "FAILED";
      }
      outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const list = [...outcomes]
      .sort((a, b) => b[1] - a[1])
      .map(([c, n]) => `${c} ${n}`)
      .join(", ");
    console.log(
      `      ${to - from} vectors in ${(ms / 1000).toFixed(2)} s, ${traps} traps: ${list}; plans with tmpfs ${planned.mountTmpfs}, with TMPDIR ${planned.setEnv}, with tmpdir_var= ${planned.ifUnset}, with runtime= ${planned.runtime}, keep_ask ${planned.keepAsk}, kept_sweep ${planned.keptSweep}, opted out ${planned.optedOut}`,
    );
    assert.equal(core.memoryBytes(), before, "the core's memory grew");
    if (failures.size > 0) {
      const report = [...failures].map(([k, f]) => `--- ${f.n} x ${k}\n${f.first}`).join("\n");
      assert.fail(
        `${outcomes.get("FAILED")} of ${to - from} vectors failed (${traps} traps; memory constant), by kind:\n${report}`,
      );
    }
    // A generator that only ever hit errors would prove little.
    if (to - from >= 10_000) {
      assert.ok((outcomes.get("OK") ?? 0) > (to - from) / 20, "too few valid plans");
      assert.ok(outcomes.size >= 12, `too few distinct outcomes: ${list}`);
      assert.ok(
        planned.mountTmpfs > (to - from) / 100 &&
          planned.setEnv > (to - from) / 400 &&
          planned.ifUnset > (to - from) / 2000 &&
          planned.runtime > (to - from) / 2000 &&
          planned.keepAsk > (to - from) / 4000 &&
          planned.keptSweep > (to - from) / 4000 &&
          planned.optedOut > (to - from) / 4000,
        `too few plans with tmpfs (${planned.mountTmpfs}), TMPDIR (${planned.setEnv}), tmpdir_var= (${planned.ifUnset}), runtime= (${planned.runtime}), keep_ask (${planned.keepAsk}), kept_sweep (${planned.keptSweep}) or opted out (${planned.optedOut})`,
      );
    }
  });
});

describe(`fuzz: C host and Node host agree (seed ${SEED})`, function () {
  this.timeout(0);

  it("2,000 random vectors: same ok/code/message, same trace", function () {
    const addon = loadAddon();
    const core = new Core();
    const seed = (SEED ^ 0xd1ff) >>> 0;
    let ok = 0;
    for (let i = 0; i < 2000; i++) {
      const r = caseRng(seed, i);
      // the differential sample favours vectors the core accepts
      // C strings cannot hold a NUL (slurmd never passes one): the C host
      // would see "a\0b" as "a", the Node host as "a" and "b".
      const args = (r.chance(0.4) ? validArgs(r) : vector(r)).map((a) => a.replaceAll("\0", "\x01"));
      const phase = r.pick(PHASES);
      const job = { jobid: r.u32(), restart: r.u32(), uid: r.u32(), gid: r.u32(), ...memory(r) };
      const where = `differential case ${i} (PTD_FUZZ_SEED=${SEED}): phase ${phase}, job ${JSON.stringify(job)}, args ${show(args)}`;
      const rec = new Recorder();
      let node: { code: string; message: string } | undefined;
      try {
        const fail = core.run(phase, args, job, rec);
        if (fail) node = { code: fail.code, message: fail.message };
      } catch (e) {
        node = checkError(e); // BAD_INPUT from the host's own length check
      }
      const c = addon.coreRun(
        Phase[phase],
        args,
        job.jobid,
        job.restart,
        job.uid,
        job.gid,
        job.memMb,
        job.nodeMemMb,
        true,
        false,
        0,
        undefined,
        job.cores,
        job.nodeCores,
      );
      if (node) {
        assert.equal(c.ok, false, `${where}\nNode: ${node.code}, C: ok`);
        assert.equal(c.code, node.code, where);
        // The C host keeps PTD_MESSAGE_MAX (1024) bytes of a message, the
        // core writes up to MSG_CAP (4096): compare what C can hold.
        const bytes = Buffer.from(node.message, "utf8");
        const expected =
          bytes.length < C_MESSAGE_MAX ? node.message : bytes.subarray(0, C_MESSAGE_MAX - 1).toString("utf8");
        assert.equal(c.message, expected, where);
      } else {
        assert.equal(c.ok, true, `${where}\nC: ${c.code} ${c.message}`);
        assert.equal(c.trace, rec.text(), where);
        ok++;
      }
    }
    assert.ok(ok > 500, `only ${ok} of 2000 accepted`);
  });
});

describe(`fuzz: a trap in the C host fails the extern step's plan closed (seed ${SEED})`, function () {
  this.timeout(0);
  const TOP = `/var/tmp/ptd-fuzz-trap.${process.pid}`; // per run: suites may run side by side
  // Base parents that exist (TOP), that open_trusted must create (TOP/b,
  // TOP/d/e) and that sit deeper (TOP/d exists).
  const BASES = [`${TOP}/a`, `${TOP}/b/c`, `${TOP}/d/e/f`, `${TOP}/g`];

  function fresh(): Map<string, Entry> {
    rmSync(TOP, { recursive: true, force: true });
    mkdirSync(`${TOP}/d`, { recursive: true, mode: 0o755 });
    chmodSync(TOP, 0o755);
    chmodSync(`${TOP}/d`, 0o755);
    return snapshot(TOP);
  }
  after(() => rmSync(TOP, { recursive: true, force: true }));

  it("200 valid configurations, a trap at every import in turn up to ns_enter: TRAP, and only what the calls before it made", function () {
    requireRoot(this);
    assert.equal(existsSync(TOP), false, `${TOP} exists before the test; remove it`);
    const addon = loadAddon();
    const core = new Core();
    const seed = (SEED ^ 0x7ab) >>> 0;
    let runs = 0;
    let bases2 = 0;
    for (let i = 0; i < 200; i++) {
      const r = caseRng(seed, i);
      const rest = validArgs(r).filter((a) => !a.startsWith("base="));
      const first = r.pick(BASES);
      const args = [`base=${first}`, ...rest];
      // now and then a second base for the last mount: a plan of two groups
      const mounts = args.filter((a) => a.startsWith("mount="));
      const last = mounts[mounts.length - 1];
      if (mounts.length >= 2 && last !== undefined && r.chance(0.5)) {
        args.splice(args.indexOf(last), 0, `base=${r.pick(BASES.filter((b) => b !== first))}`);
        bases2++;
      }
      // Some memory always: a size= in % of none is refused before any import.
      const job = {
        jobid: r.u32(),
        restart: r.u32(),
        uid: r.int(70000),
        gid: r.int(70000),
        memMb: 1 + r.int(100000),
        nodeMemMb: 0,
        // and cores: a disk= share of none is refused the same way.
        cores: 1 + r.int(64),
        nodeCores: 64,
      };
      const plan = core.plan("EXTERN", args, job);
      // Up to a trap on entering ns_enter, which would otherwise fork a
      // namespace holder out of this Node process: what follows it is the
      // holder's, tested on a real slurmstepd (tests/e2e).
      const enter = plan.findIndex((s) => s.op === "ns_enter");
      assert.ok(enter > 0, "the extern step's plan has an ns_enter");
      for (let n = 1; n <= enter + 1; n++) {
        const where = `trap case ${i} at import ${n} of ${plan.length} (PTD_FUZZ_SEED=${SEED}): ${show(args)}`;
        const before = fresh();
        const c = addon.coreRun(
          Phase.EXTERN,
          args,
          job.jobid,
          job.restart,
          job.uid,
          job.gid,
          job.memMb,
          job.nodeMemMb,
          false,
          n,
          0,
          undefined,
          job.cores,
          job.nodeCores,
        );
        assert.deepStrictEqual([c.ok, c.code], [false, "TRAP"], `${where}: ${c.message}`);
        assert.match(c.message, /^the planning core trapped \(.+\); nothing more was done$/, where);
        assert.deepStrictEqual(entries(snapshot(TOP)), entries(expectedAfter(TOP, before, plan, n - 1)), where);
        runs++;
      }
    }
    assert.ok(bases2 >= 20, `only ${bases2} configurations with two bases`);
    console.log(`      ${runs} trapped runs`);
    // and the next call, without a trap, works again
    const after = addon.coreRun(Phase.CHECK, ["mount=/tmp"], 0, 0, 0, 0, 0, 0, true);
    assert.equal(after.ok, true, after.message);
  });
});
