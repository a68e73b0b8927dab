// `private-tmpdir status`: what the plugin holds on this node now. Every
// path comes from the core's plan (the namespace directory, each job's
// mount points, the holding places); what is there is read from the
// kernel: the holders' own view of their mounts (/proc/<pid>/mountinfo,
// statfs through /proc/<pid>/root), the loop devices, the directories.
import { readdirSync, readFileSync, statfsSync, statSync } from "node:fs";
import { posix } from "node:path";
import { Core, type Job } from "./core.js";
import { planLine } from "./plan-view.js";
import type { PluginLine } from "./plugstack.js";

/** Bumped only on an incompatible change to the JSON below. */
export const STATUS_SCHEMA = 1;

export interface PathStatus {
  path: string;
  kind: "bind" | "tmpfs" | "disk";
  /** What is mounted there in the job (the holder's view): its source and type. */
  source: string | null;
  fstype: string | null;
  /** tmpfs and disk: the filesystem's size and use, in MiB (null: not mounted). */
  sizeMb: number | null;
  usedMb: number | null;
}

export interface JobStatus {
  jobid: number;
  uid: number | null;
  /** The namespace holder's pid (null: its socket is there but no holder runs). */
  holder: number | null;
  paths: PathStatus[];
}

export interface StatusJson {
  schema: number;
  jobs: JobStatus[];
  /** Directories taken out of reach and not yet removed (the holding places). */
  pending: { path: string; entries: number }[];
  /** Loop devices attached to a disk= image, with the mount point they were made for. */
  loops: { device: string; backing: string }[];
}

const HOLDER_COMM = "ptd-nsholder";
const MiB = 1048576;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Live holders by job: a holder keeps the command line of the slurmstepd
 * it was forked from ("slurmstepd: [<job>.<step>]"). */
function holders(): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p) || read(`/proc/${p}/comm`)?.trim() !== HOLDER_COMM) continue;
    const job = /\[(\d+)\./.exec(read(`/proc/${p}/cmdline`) ?? "")?.[1];
    if (job !== undefined) out.set(Number(job), Number(p));
  }
  return out;
}

/** The last mount at a mount point in a process's mountinfo (octal escapes decoded). */
function mountAt(pid: number, point: string): { fstype: string; source: string } | undefined {
  let found: { fstype: string; source: string } | undefined;
  for (const l of (read(`/proc/${pid}/mountinfo`) ?? "").split("\n")) {
    const f = l.split(" ");
    const at = (f[4] ?? "").replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (at !== point) continue;
    const dash = f.indexOf("-");
    found = { fstype: f[dash + 1] ?? "", source: f[dash + 2] ?? "" };
  }
  return found;
}

function usage(pid: number, point: string): { sizeMb: number; usedMb: number } | undefined {
  try {
    const s = statfsSync(`/proc/${pid}/root${point}`);
    return {
      sizeMb: Math.floor((s.blocks * s.bsize) / MiB),
      usedMb: Math.ceil(((s.blocks - s.bfree) * s.bsize) / MiB),
    };
  } catch {
    return undefined;
  }
}

function entries(dir: string): number | undefined {
  try {
    return readdirSync(dir).length;
  } catch {
    return undefined;
  }
}

/** Loop devices whose image is an unnamed file of an images' directory. */
function loops(imageDirs: readonly string[]): StatusJson["loops"] {
  const out: StatusJson["loops"] = [];
  let names: string[] = [];
  try {
    names = readdirSync("/sys/block").filter((d) => d.startsWith("loop"));
  } catch {
    return out;
  }
  for (const d of names) {
    const backing = read(`/sys/block/${d}/loop/backing_file`)?.trim();
    if (backing === undefined || !imageDirs.some((dir) => backing.startsWith(`${dir}/`))) continue;
    out.push({ device: `/dev/${d}`, backing });
  }
  return out;
}

/** The node's status for the plugin's lines. */
export function nodeStatus(lines: readonly PluginLine[]): StatusJson {
  const core = new Core();
  const running = holders();
  const jobs = new Map<number, JobStatus>();
  const pending: StatusJson["pending"] = [];
  const imageDirs: string[] = [];
  for (const l of lines) {
    // Job 0's plan names the places every job shares (its cores only let a
    // disk= share be planned; no size is read here): the namespace
    // directory (its ns_enter), the holding places, the images' directory.
    const zero = planLine(core, l, { jobid: 0, restart: 0, uid: 0, gid: 0, cores: 1, nodeCores: 1 });
    const nsEntry = zero.phases.step.find((s) => s.op === "ns_enter")?.path;
    for (const s of zero.phases.epilog)
      if (s.op === "mkdir_at" && s.path?.endsWith(".hold") && !pending.some((p) => p.path === s.path))
        pending.push({ path: s.path, entries: entries(s.path) ?? 0 });
    for (const d of zero.disks) if (!imageDirs.includes(d.images)) imageDirs.push(d.images);
    if (nsEntry === undefined) continue;
    const nsDir = posix.dirname(nsEntry);
    let sockets: string[] = [];
    try {
      sockets = readdirSync(nsDir);
    } catch {
      sockets = [];
    }
    // This line's jobs: a holder listens in its namespace directory.
    const ids = new Set(sockets.flatMap((n) => /^job\.(\d+)\.sock$/.exec(n)?.[1] ?? []).map(Number));
    for (const jobid of [...ids].sort((a, b) => a - b)) {
      const job: Job = { jobid, restart: 0, uid: 0, gid: 0, cores: 1, nodeCores: 1 };
      const p = planLine(core, l, job);
      const holder = running.get(jobid) ?? null;
      const st = jobs.get(jobid) ?? { jobid, uid: null, holder, paths: [] };
      const dir = p.directories[0]?.path;
      if (dir !== undefined && st.uid === null) {
        try {
          st.uid = statSync(dir).uid;
        } catch {
          st.uid = null;
        }
      }
      const add = (path: string, kind: PathStatus["kind"]): void => {
        const m = holder === null ? undefined : mountAt(holder, path);
        const u = holder === null || kind === "bind" ? undefined : usage(holder, path);
        st.paths.push({
          path,
          kind,
          source: m?.source ?? null,
          fstype: m?.fstype ?? null,
          sizeMb: u?.sizeMb ?? null,
          usedMb: u?.usedMb ?? null,
        });
      };
      for (const m of p.mounts) add(m.target, "bind");
      for (const t of p.tmpfs) add(t.target, "tmpfs");
      if (p.runtime) add(p.runtime.target, "tmpfs");
      for (const d of p.disks) add(d.target, "disk");
      jobs.set(jobid, st);
    }
  }
  return { schema: STATUS_SCHEMA, jobs: [...jobs.values()], pending, loops: loops(imageDirs) };
}

/** The human listing. */
export function statusText(s: StatusJson): string {
  const out: string[] = [];
  if (s.jobs.length === 0) out.push("no job's namespace is held on this node");
  for (const j of s.jobs) {
    out.push(
      `job ${j.jobid}${j.uid === null ? "" : ` uid ${j.uid}`}: ${j.holder === null ? "no holder (its socket is left)" : `held by pid ${j.holder}`}`,
    );
    for (const p of j.paths) {
      const what = p.source === null ? "(not mounted)" : `${p.fstype} ${p.source}`;
      const use = p.sizeMb === null ? "" : `  ${p.usedMb} of ${p.sizeMb} MiB used`;
      out.push(`  ${p.path}  ${p.kind}  ${what}${use}`);
    }
  }
  for (const p of s.pending) if (p.entries > 0) out.push(`pending removal: ${p.path}: ${p.entries} entries`);
  for (const l of s.loops) out.push(`loop ${l.device}: ${l.backing}`);
  return out.map((l) => l + "\n").join("");
}
