// Reading a process's runtime state from /proc: its mappings, signal
// dispositions, address-space size and mounts, and the checks that the
// plugin's wasm runtime must pass inside slurmstepd
// (tests/e2e/runtime-guarantees.test.ts): no SIGSEGV/SIGBUS handler, no
// multi-GiB (guard-page) reservation.
import { readdirSync, readFileSync } from "node:fs";
import { constants } from "node:os";

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

export interface Mapping {
  start: bigint;
  end: bigint;
  /** end - start, in bytes */
  size: bigint;
  perms: string;
  inode: number;
  /** "" for anonymous mappings; "[heap]", "[stack]", or a file path */
  path: string;
  /** the raw line of /proc/<pid>/maps */
  line: string;
}

type Pid = number | "self";

/** /proc/<pid>/maps, parsed. */
export function readMaps(pid: Pid): Mapping[] {
  const out: Mapping[] = [];
  for (const line of readFileSync(`/proc/${pid}/maps`, "utf8").split("\n")) {
    if (line === "") continue;
    // start-end perms offset dev inode [path] (the path may hold spaces)
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (!m) throw new Error(`/proc/${pid}/maps: cannot parse: ${line}`);
    const start = BigInt(`0x${m[1]}`);
    const end = BigInt(`0x${m[2]}`);
    out.push({ start, end, size: end - start, perms: m[3] ?? "", inode: Number(m[4]), path: m[5] ?? "", line });
  }
  return out;
}

/** The largest single mapping (the first if several are as large). */
export function largestMapping(maps: readonly Mapping[]): Mapping | undefined {
  let best: Mapping | undefined;
  for (const m of maps) if (!best || m.size > best.size) best = m;
  return best;
}

/** glibc's malloc arenas of non-main threads: each is one HEAP_MAX_SIZE
 * (64 MiB on 64-bit) region aligned to its size, anonymous, mapped
 * PROT_NONE and made rw-p from its start as it grows. How many a process has
 * depends on how its threads happened to allocate, so two runs of the same
 * slurmstepd differ in VmSize by multiples of 64 MiB; the VmSize comparison
 * leaves them out. Returns the start address of each. */
export const ARENA_BYTES = 64 * MiB;
export function glibcArenas(maps: readonly Mapping[]): bigint[] {
  const size = BigInt(ARENA_BYTES);
  const out: bigint[] = [];
  const sorted = [...maps].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  for (let i = 0; i < sorted.length; i++) {
    const first = sorted[i] as Mapping;
    if (first.path !== "" || first.start % size !== 0n) continue;
    let end = first.end;
    for (let j = i + 1; end < first.start + size && j < sorted.length; j++) {
      const m = sorted[j] as Mapping;
      if (m.start !== end || m.path !== "") break;
      end = m.end;
    }
    if (end === first.start + size) out.push(first.start);
  }
  return out;
}

/** /proc/<pid>/status as key -> value (value trimmed). */
export function readStatus(pid: Pid): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(`/proc/${pid}/status`, "utf8").split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) out.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return out;
}

/** A "NNN kB" field of status (VmSize, VmPeak, ...) in KiB. */
export function statusKiB(status: ReadonlyMap<string, string>, key: string): number {
  const m = /^(\d+) kB$/.exec(status.get(key) ?? "");
  if (!m) throw new Error(`status has no ${key} in kB: ${JSON.stringify(status.get(key))}`);
  return Number(m[1]);
}

/** A signal mask field of status (SigCgt, SigIgn, ...), hexadecimal. */
export function statusMask(status: ReadonlyMap<string, string>, key: string): bigint {
  const v = status.get(key) ?? "";
  if (!/^[0-9a-f]+$/.test(v)) throw new Error(`status has no hex ${key}: ${JSON.stringify(v)}`);
  return BigInt(`0x${v}`);
}

/** Whether signal `sig` is in a mask of /proc/<pid>/status: bit sig-1. */
export function maskHas(mask: bigint, sig: number): boolean {
  return ((mask >> BigInt(sig - 1)) & 1n) === 1n;
}

/** /proc/<pid>/cmdline with NULs as spaces, trimmed; undefined if gone. A
 * process that rewrote its title (slurmstepd: "slurmstepd: [12.0]") shows
 * that title. */
export function cmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
  } catch {
    return undefined;
  }
}

/** /proc/<pid>/comm, or undefined if the process is gone. */
export function comm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

export function parentPid(pid: number): number {
  return Number(readStatus(pid).get("PPid"));
}

export interface ProcInfo {
  pid: number;
  cmdline: string;
  comm: string;
}

/** Every process of this PID namespace for which pred holds. */
export function findProcesses(pred: (p: ProcInfo) => boolean): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const c = cmdline(pid);
    const n = comm(pid);
    if (c === undefined || n === undefined) continue;
    const p = { pid, cmdline: c, comm: n };
    if (pred(p)) out.push(p);
  }
  return out;
}

/** What the checks look at, read at one moment. */
export interface ProcSnapshot {
  pid: number;
  cmdline: string;
  maps: Mapping[];
  sigCgt: bigint;
  vmSizeKiB: number;
  vmPeakKiB: number;
  /** glibc malloc arenas (see glibcArenas) */
  arenas: number;
}

/** VmSize without glibc's malloc arenas. */
export function vmSizeLessArenasKiB(s: ProcSnapshot): number {
  return s.vmSizeKiB - (s.arenas * ARENA_BYTES) / KiB;
}

export function snapshot(pid: number): ProcSnapshot {
  const status = readStatus(pid);
  const maps = readMaps(pid);
  return {
    pid,
    cmdline: cmdline(pid) ?? "",
    maps,
    sigCgt: statusMask(status, "SigCgt"),
    vmSizeKiB: statusKiB(status, "VmSize"),
    vmPeakKiB: statusKiB(status, "VmPeak"),
    arenas: glibcArenas(maps).length,
  };
}

/** One line for assertion messages. */
export function summary(s: ProcSnapshot): string {
  const big = largestMapping(s.maps);
  return (
    `pid ${s.pid} "${s.cmdline}": SigCgt=${s.sigCgt.toString(16).padStart(16, "0")} ` +
    `VmSize=${s.vmSizeKiB} kB (${vmSizeLessArenasKiB(s)} kB without ${s.arenas} malloc arenas) ` +
    `VmPeak=${s.vmPeakKiB} kB ${s.maps.length} mappings, ` +
    `largest ${big ? `${big.size} bytes: ${big.line}` : "none"}`
  );
}

export type Check = "sigsegv" | "sigbus" | "mapping" | "vmsize-delta" | "vmpeak-delta" | "vmpeak";

export interface Violation {
  check: Check;
  detail: string;
}

export interface Limits {
  /** a single mapping of this size or more is a reservation (default 1 GiB) */
  maxMappingBytes?: number;
  /** the same kind of process without what is under test */
  baseline?: ProcSnapshot;
  /** VmSize - baseline VmSize, both without glibc's malloc arenas, must
   * stay below this (default 64 MiB) */
  maxVmSizeDeltaKiB?: number;
  /** VmPeak - baseline VmPeak must stay below this (default 512 MiB: glibc's
   * per-thread malloc arenas, 64 MiB each, come and go between runs) */
  maxVmPeakDeltaKiB?: number;
  /** without a baseline: VmPeak must stay below this, if given */
  maxVmPeakKiB?: number;
}

/** The runtime guarantees, as violations of them (none: all hold). */
export function runtimeViolations(s: ProcSnapshot, limits: Limits = {}): Violation[] {
  const out: Violation[] = [];
  const cgt = s.sigCgt.toString(16).padStart(16, "0");
  for (const [check, sig] of [
    ["sigsegv", constants.signals.SIGSEGV],
    ["sigbus", constants.signals.SIGBUS],
  ] as const)
    if (maskHas(s.sigCgt, sig))
      out.push({ check, detail: `${check.toUpperCase()} (${sig}) is caught: bit ${sig - 1} of SigCgt=${cgt} is set` });
  const maxMap = BigInt(limits.maxMappingBytes ?? GiB);
  for (const m of s.maps)
    if (m.size >= maxMap) out.push({ check: "mapping", detail: `mapping of ${m.size} bytes (≥ ${maxMap}): ${m.line}` });
  const b = limits.baseline;
  if (b) {
    const dSize = vmSizeLessArenasKiB(s) - vmSizeLessArenasKiB(b);
    const maxSize = limits.maxVmSizeDeltaKiB ?? (64 * MiB) / KiB;
    if (dSize >= maxSize)
      out.push({
        check: "vmsize-delta",
        detail:
          `VmSize ${s.vmSizeKiB} kB (${s.arenas} malloc arenas) - baseline ${b.vmSizeKiB} kB (${b.arenas} arenas) = ` +
          `${dSize} kB without the arenas (≥ ${maxSize} kB)`,
      });
    const dPeak = s.vmPeakKiB - b.vmPeakKiB;
    const maxPeak = limits.maxVmPeakDeltaKiB ?? (512 * MiB) / KiB;
    if (dPeak >= maxPeak)
      out.push({
        check: "vmpeak-delta",
        detail: `VmPeak ${s.vmPeakKiB} kB - baseline ${b.vmPeakKiB} kB = ${dPeak} kB (≥ ${maxPeak} kB)`,
      });
  } else if (limits.maxVmPeakKiB !== undefined && s.vmPeakKiB >= limits.maxVmPeakKiB) {
    out.push({ check: "vmpeak", detail: `VmPeak ${s.vmPeakKiB} kB (≥ ${limits.maxVmPeakKiB} kB)` });
  }
  return out;
}

/** The distinct checks violated, sorted: for deepStrictEqual. */
export function checksOf(v: readonly Violation[]): Check[] {
  return [...new Set(v.map((x) => x.check))].sort();
}

/** Pids of live processes named comm (not zombies: here PID 1 may reap
 * late), such as the namespace holders (ptd-nsholder). */
export function liveProcessesNamed(name: string): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, "utf8");
        const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
        return readFileSync(`/proc/${p}/comm`, "utf8").trim() === name && state !== "Z" ? [Number(p)] : [];
      } catch {
        return [];
      }
    });
}

/** The plugin's namespace holders' process name (native/ns/nsholder.h). */
export const HOLDER_COMM = "ptd-nsholder";

/** Pids of the live holders of these jobs (not a zombie: PID 1 may reap
 * late). A holder keeps the command line of the slurmstepd it was forked
 * from ("slurmstepd: [<job>.<step>]"). */
export function holdersOf(jobs: readonly number[]): number[] {
  return liveProcessesNamed(HOLDER_COMM).filter((p) => jobs.some((j) => (cmdline(p) ?? "").includes(`[${j}.`)));
}

/** Raw lines of /proc/<pid|self>/mountinfo. */
export function hostMountinfo(pid?: number): string[] {
  return readFileSync(`/proc/${pid ?? "self"}/mountinfo`, "utf8")
    .split("\n")
    .filter((l) => l !== "");
}

/** Mount points (field 5 of mountinfo, octal escapes such as \040 decoded). */
export function mountPoints(pid?: number): string[] {
  return hostMountinfo(pid).map((l) =>
    (l.split(" ")[4] ?? "").replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))),
  );
}

/** Live processes (not zombies) whose real uid is `uid`, as "pid comm": what a
 * user's job may have left running on the node. */
export function processesOfUid(uid: number): string[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        const status = readStatus(Number(p));
        const real = Number((status.get("Uid") ?? "").split(/\s+/)[0]);
        return real === uid && !(status.get("State") ?? "").startsWith("Z") ? [`${p} ${status.get("Name")}`] : [];
      } catch {
        return [];
      }
    });
}

/** Fields of the mount a task saw on top at a mount point, from its output:
 * the last line starting "<tag> " followed by a mountinfo line (as `awk
 * '$5=="/x" {print "tag", $0}' /proc/self/mountinfo` prints it): its root,
 * options, fs type, source and super options. */
export function taskMountOf(
  output: string,
  tag: string,
): { root: string; type: string; source: string; opts: string; super: string } | undefined {
  const l = output
    .split("\n")
    .filter((x) => x.startsWith(`${tag} `))
    .pop();
  if (!l) return undefined;
  const f = l.slice(tag.length + 1).split(" ");
  const dash = f.indexOf("-");
  return {
    root: f[3] ?? "",
    opts: f[5] ?? "",
    type: f[dash + 1] ?? "",
    source: f[dash + 2] ?? "",
    super: f[dash + 3] ?? "",
  };
}
