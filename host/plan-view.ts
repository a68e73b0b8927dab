// Turns the core's plan records into the CLI's output: the JSON documented
// in docs/cli.md and the human listing. Nothing here computes a path, an
// owner or a mode: every value is copied from a PlanStep, so what the CLI
// prints is what the plugin's core plans.
import {
  FLAG_NAMES,
  F_NOEXEC as FLAG_NOEXEC,
  F_REQUEST as FLAG_REQUEST,
  F_SHARE as FLAG_SHARE,
  U_KEEP_ALWAYS,
  type PhaseName,
} from "./abi.js";
import { posix } from "node:path";
import { Core, type Job, type PlanStep } from "./core.js";
import type { PluginLine } from "./plugstack.js";

/** Bumped only on an incompatible change to the JSON below. */
export const PLAN_SCHEMA = 2;

export interface StepJson {
  op: string;
  path?: string;
  source?: string;
  target?: string;
  mode?: string;
  uid?: number;
  gid?: number;
  flags?: string[];
  /** mount_tmpfs: the size in MiB, and in the largest unit that fits */
  sizeMb?: number;
  /** mount_tmpfs: nr_inodes; mount_disk: as given (0: one per 8 KiB of its size) */
  inodes?: number;
  size?: string;
  /** mount_disk: a share (sizeMb is then its percentage) and its cap; the
   * program that formats it */
  percent?: number;
  maxMb?: number;
  program?: string;
  /** measure_disk, mount_disk: the images' directory */
  images?: string;
  /** set_env: the variable and its value; usage_path: the private
   * directory's name (name) */
  name?: string;
  value?: string;
  /** keep_ask: the job's --keep-tmpdir; keep_at: how long a kept tree
   * lives; kept_sweep: the budget, in MiB or a percentage */
  keep?: "failed" | "always";
  ttlSeconds?: number;
  maxPercent?: number;
}

/** A variable a step sets; ifUnset: only where the job's environment has
 * none (a value the user set stays). */
export interface EnvJson {
  name: string;
  value: string;
  ifUnset: boolean;
}

export interface LinePlanJson {
  file: string;
  line: number;
  kind: "required" | "optional";
  plugin: string;
  args: string[];
  phases: { extern: StepJson[]; step: StepJson[]; script: StepJson[]; epilog: StepJson[] };
  /** The job's private directories, as each step makes (or reuses) them. */
  directories: { path: string; uid: number; gid: number; mode: string }[];
  /** The step's bind mounts, in the order they are made. */
  mounts: { target: string; source: string }[];
  /** The step's tmpfs mounts (tmpfs=), in the order they are made; not runtime='s. */
  tmpfs: { target: string; sizeMb: number; size: string; inodes: number; mode: string; noexec: boolean }[];
  /** The step's disks of their own (disk=), in the order they are made:
   * sizeMb is what the plugin would reserve on this node (null when the
   * images' filesystem could not be measured and --disk-mb was not given). */
  disks: {
    target: string;
    size: string;
    sizeMb: number | null;
    percent: number | null;
    maxMb: number;
    images: string;
    filesystemMb: number | null;
    mode: string;
    noexec: boolean;
    /** request: the job's --tmp (plan --request) decides the size when given */
    request: boolean;
  }[];
  /** The host's directories kept visible in the job (share=), if trusted on the node. */
  shares: string[];
  /** runtime=: the job's own tmpfs on that directory and its runtime
   * directory in it (the user's, 0700, XDG_RUNTIME_DIR); null without. */
  runtime: { target: string; sizeMb: number; size: string; inodes: number; directory: string; mode: string } | null;
  /** What every step sets in its tasks' environment (tmpdir=: TMPDIR, then
   * each tmpdir_var= name with ifUnset; runtime=: XDG_RUNTIME_DIR). */
  env: EnvJson[];
  /** What the batch step and salloc's interactive step set: env, and each
   * mount='s host path (PRIVATE_TMPDIR_HOST_<NAME>, for sbcast). */
  scriptEnv: EnvJson[];
}

export interface PlanJson {
  schema: number;
  version: string;
  coreSha256: string;
  config: string;
  job: Job;
  lines: LinePlanJson[];
}

// The phases the plugin runs (see README): the extern step's, every other
// step's (the batch step's and the interactive step's are "script") and the
// epilog's. It has no job prolog.
const PHASES: [keyof LinePlanJson["phases"], PhaseName][] = [
  ["extern", "EXTERN"],
  ["step", "STEP"],
  ["script", "SCRIPT"],
  ["epilog", "EPILOG"],
];

const octal = (m: number): string => "0" + m.toString(8).padStart(3, "0");

const UNITS = ["MiB", "GiB", "TiB"];

/** A size in MiB for people: "512 MiB", "8 GiB", "1.5 GiB" (binary units,
 * as size= takes them; one decimal at most, the exact figure is sizeMb). */
export function humanMiB(mb: number): string {
  let v = mb;
  let unit = 0;
  while (v >= 1024 && unit < UNITS.length - 1) {
    v /= 1024;
    unit++;
  }
  const text = Number.isInteger(v) ? String(v) : v.toFixed(1).replace(/\.0$/, "");
  return `${text} ${UNITS[unit] ?? ""}`;
}

function flagNames(flags: number): string[] {
  return Object.entries(FLAG_NAMES)
    .filter(([bit]) => (flags & Number(bit)) !== 0)
    .map(([, name]) => name);
}

/** One record as JSON: only the fields that mean something for its op. */
export function stepJson(s: PlanStep): StepJson {
  switch (s.op) {
    case "open_trusted": {
      // Root is the only owner the C accepts; the mode is for creating it.
      const flags = flagNames(s.flags);
      return flags.includes("create")
        ? { op: s.op, path: s.path, mode: octal(s.mode), flags }
        : { op: s.op, path: s.path, flags };
    }
    case "mkdir_at":
      return { op: s.op, path: s.path, mode: octal(s.mode), uid: s.uid, gid: s.gid, flags: flagNames(s.flags) };
    case "open_private":
    case "mark_ended":
      return { op: s.op, path: s.path, uid: s.uid };
    case "remove_at":
      return s.flags
        ? { op: s.op, path: s.path, uid: s.uid, flags: flagNames(s.flags) }
        : { op: s.op, path: s.path, uid: s.uid };
    case "drain_at":
      return { op: s.op, path: s.path, flags: flagNames(s.flags) };
    case "keep_ask":
      return {
        op: s.op,
        path: posix.join(posix.dirname(s.path), s.str),
        keep: s.mode === U_KEEP_ALWAYS ? "always" : "failed",
      };
    case "keep_asked":
      return { op: s.op, path: posix.join(posix.dirname(s.path), s.str) };
    case "job_failed":
      return { op: s.op };
    case "keep_at":
      return { op: s.op, path: s.path, uid: s.uid, ttlSeconds: s.mode };
    case "kept_sweep":
      return s.flags & FLAG_SHARE
        ? { op: s.op, path: s.path, maxPercent: s.sizeMb }
        : { op: s.op, path: s.path, maxMb: s.sizeMb };
    case "continue_at":
    case "ns_ready":
    case "ns_release":
      return { op: s.op, path: s.path };
    case "usage_path":
      return { op: s.op, path: s.path, name: s.str };
    case "ns_enter":
      return { op: s.op, path: s.path, flags: flagNames(s.flags) };
    case "open_target":
    case "open_shared":
      return { op: s.op, path: s.path };
    case "bind_shared":
      return { op: s.op, path: s.path, uid: s.uid, gid: s.gid };
    case "bind":
      // The core's bind record: str is the mount point, path the private source.
      return { op: s.op, source: s.path, target: s.str };
    case "keep_output":
      // Its str is the mount point, its path the private directory.
      return { op: s.op, source: s.path, target: s.str, uid: s.uid, gid: s.gid };
    case "mount_tmpfs":
      return {
        op: s.op,
        path: s.path,
        sizeMb: s.sizeMb,
        size: humanMiB(s.sizeMb),
        inodes: s.inodes,
        mode: octal(s.mode),
        uid: s.uid,
        gid: s.gid,
        flags: flagNames(s.flags),
      };
    case "set_env":
      // The core's record: str is the variable, path its value.
      return s.flags
        ? { op: s.op, name: s.str, value: s.path, flags: flagNames(s.flags) }
        : { op: s.op, name: s.str, value: s.path };
    case "need_program":
      // str: the program; path: the disk= that needs it.
      return { op: s.op, path: s.str, target: s.path };
    case "measure_disk":
      return { op: s.op, images: s.path };
    case "mount_disk": {
      const flags = flagNames(s.flags);
      const size = flags.includes("share")
        ? { percent: s.sizeMb, maxMb: s.maxMb }
        : { sizeMb: s.sizeMb, size: humanMiB(s.sizeMb) };
      return {
        op: s.op,
        path: s.path,
        ...size,
        inodes: s.inodes,
        mode: octal(s.mode),
        uid: s.uid,
        gid: s.gid,
        program: s.str,
        flags,
      };
    }
    default:
      return { op: s.op };
  }
}

/** How the CLI measures a filesystem: its size in MiB, undefined if unknown. */
export type MeasureFs = (path: string) => number | undefined;

/** The plan of every phase for one plugstack line; throws the core's
 * CoreError when the line's options are refused. */
export function planLine(core: Core, l: PluginLine, job: Job, measure: MeasureFs = () => undefined): LinePlanJson {
  core.check(l.args);
  const phases: LinePlanJson["phases"] = { extern: [], step: [], script: [], epilog: [] };
  let step: PlanStep[] = [];
  for (const [key, phase] of PHASES) {
    const records = core.plan(phase, l.args, job);
    if (key === "step") step = records;
    phases[key] = records.map(stepJson);
  }
  // The directory the namespace's holder listens in is root's, not one of
  // the job's: it is the one ns_enter names by its slot.
  const nsDirs = new Set(step.filter((s) => s.op === "ns_enter").map((s) => s.arg));
  // runtime=: the one mkdir_at made in a mount point's root (an
  // open_target's slot), after the tmpfs mounted there.
  const roots = new Map(step.filter((s) => s.op === "open_target").map((s) => [s.slot, s.path]));
  const runtimeDir = step.find((s) => s.op === "mkdir_at" && roots.has(s.arg));
  const runtimeAt = runtimeDir === undefined ? undefined : roots.get(runtimeDir.arg);
  const runtimeFs = step.find((s) => s.op === "mount_tmpfs" && s.path === runtimeAt);
  // A disk's images' directory is root's too: the one mount_disk names.
  const imageDirs = new Map(
    step
      .filter((s) => s.op === "mount_disk")
      .map((s) => [s.arg, step.find((d) => d.op === "mkdir_at" && d.slot === s.arg)?.path ?? ""]),
  );
  const disks = step
    .filter((s) => s.op === "mount_disk")
    .map((s) => {
      const images = imageDirs.get(s.arg) ?? "";
      const share = (s.flags & FLAG_SHARE) !== 0;
      const asked = (s.flags & FLAG_REQUEST) !== 0 && (job.requestMb ?? 0) > 0;
      const fsMb = share && !asked ? measure(images) : undefined;
      // The core's own arithmetic (its plan() for this job came last).
      const sizeMb = share && !asked ? (fsMb === undefined ? null : core.diskSizeMb(s, fsMb)) : core.diskSizeMb(s, 0);
      const rule = `${s.sizeMb}% of the job's cores' share of ${images}'s filesystem${s.maxMb ? `, at most ${humanMiB(s.maxMb)}` : ""}`;
      const shareText = asked ? `the job's --tmp${s.maxMb ? `, at most ${humanMiB(s.maxMb)}` : ""}` : rule;
      return {
        target: s.path,
        size: share || asked ? shareText : humanMiB(s.sizeMb),
        sizeMb,
        percent: share && !asked ? s.sizeMb : null,
        request: (s.flags & FLAG_REQUEST) !== 0,
        maxMb: s.maxMb,
        images,
        filesystemMb: fsMb ?? null,
        mode: octal(s.mode),
        noexec: (s.flags & FLAG_NOEXEC) !== 0,
      };
    });
  return {
    file: l.file,
    line: l.line,
    kind: l.kind,
    plugin: l.plugin,
    args: [...l.args],
    phases,
    directories: step
      .filter((s) => s.op === "mkdir_at" && !nsDirs.has(s.slot) && !imageDirs.has(s.slot) && s !== runtimeDir)
      .map(stepJson)
      .map((s) => ({ path: s.path ?? "", uid: s.uid ?? 0, gid: s.gid ?? 0, mode: s.mode ?? "" })),
    mounts: phases.step.filter((s) => s.op === "bind").map((s) => ({ target: s.target ?? "", source: s.source ?? "" })),
    tmpfs: phases.step
      .filter((s) => s.op === "mount_tmpfs" && s.path !== runtimeAt)
      .map((s) => ({
        target: s.path ?? "",
        sizeMb: s.sizeMb ?? 0,
        size: s.size ?? "",
        inodes: s.inodes ?? 0,
        mode: s.mode ?? "",
        noexec: (s.flags ?? []).includes("noexec"),
      })),
    disks,
    shares: phases.step.filter((s) => s.op === "bind_shared").map((s) => s.path ?? ""),
    runtime:
      runtimeDir && runtimeFs
        ? {
            target: runtimeFs.path,
            sizeMb: runtimeFs.sizeMb,
            size: humanMiB(runtimeFs.sizeMb),
            inodes: runtimeFs.inodes,
            directory: runtimeDir.path,
            mode: octal(runtimeDir.mode),
          }
        : null,
    env: envOf(phases.step),
    scriptEnv: envOf(phases.script),
  };
}

const envOf = (steps: StepJson[]): EnvJson[] =>
  steps
    .filter((s) => s.op === "set_env")
    .map((s) => ({ name: s.name ?? "", value: s.value ?? "", ifUnset: (s.flags ?? []).includes("if-unset") }));

const PHASE_TITLES: Record<keyof LinePlanJson["phases"], string> = {
  extern: "extern step (PrologFlags=Contain; slurmstepd, as root, in the host's namespace)",
  step: "step (slurmstepd, before each step's tasks start; not the extern step)",
  script: "the batch step and salloc's interactive step: as every step, and",
  epilog: "epilog (as root, after the job ends: the extern step's end, or slurmd's job epilog)",
};

function describe(s: StepJson): string {
  const f = s.flags ?? [];
  switch (s.op) {
    case "open_trusted":
      return `open    ${s.path}  (it and every directory above it root's, not writable by others unless sticky${f.includes("create") ? `; created root mode ${s.mode} if missing` : ""})`;
    case "mkdir_at": {
      const notes = [
        ...(f.includes("wipe-ended") ? ["emptied first if a previous run of the job marked it ended"] : []),
        ...(f.includes("aside") ? ["anything else in the way is moved aside"] : []),
      ];
      return `mkdir   ${s.path}  owner ${s.uid}:${s.gid} mode ${s.mode}${notes.length ? `  (${notes.join("; ")})` : ""}`;
    }
    case "unshare_mount_ns":
      return "unshare the mount namespace";
    case "make_slave":
      return "make / a slave mount (host mounts still propagate in, none leak out)";
    case "open_private":
      return `open    ${s.path}  (must be the directory made above, owned by uid ${s.uid})`;
    case "open_target":
      return `open    ${s.path}`;
    case "bind":
      return `bind    ${s.source} on ${s.target}`;
    case "keep_output":
      return `keep    ${s.target}'s output: a file slurmstepd writes under ${s.target} in the job (sbatch -o) is linked at its path under the host's ${s.target} too, as ${s.uid}:${s.gid}  (from ${s.source}; a name taken there gets a random suffix)`;
    case "open_shared":
      return `open    ${s.path}  (the host's, to share: it and every directory above it root's, not writable by others unless sticky; if not, or missing, it is not shared and the job runs without it)`;
    case "bind_shared":
      return `bind    the host's ${s.path} on ${s.path} in the job  (its mount point made ${s.uid}:${s.gid} 0755 if missing, never a symlink followed)`;
    case "remove_at":
      return f.includes("every-restart")
        ? `remove  ${s.path}  (only if owned by uid ${s.uid})  and the job's directory of every other restart count${f.includes("defer") ? "; each moved into the holding place at once, removed after the epilog returns" : ""}`
        : `remove  ${s.path}  (only if owned by uid ${s.uid})`;
    case "drain_at":
      return `empty   ${s.path}  (the holding place; one remover at a time, idle priority, a time budget)`;
    case "keep_ask":
      return `leave   the job's --keep-tmpdir=${s.keep} at ${s.path}  (root's; read at the job's end on this node)`;
    case "keep_asked":
      return `read    the job's --keep-tmpdir left at ${s.path}, or the epilog's own  (removed once read)`;
    case "job_failed":
      return `ask     whether the job failed  (the epilog's SLURM_JOB_EXIT_CODE, or slurmctld from the extern step's end), for --keep-tmpdir=failed`;
    case "keep_at":
      return `keep    the job's directories in ${s.path} for ${s.ttlSeconds} s, if it asked (and failed, with =failed)  (renamed whole under their own names, made 0700; only if owned by uid ${s.uid}; else removed as below)`;
    case "kept_sweep":
      return `expire  ${s.path}'s trees whose time is up, or with a mount or another user's file inside; then the oldest while over ${s.maxPercent !== undefined ? `${s.maxPercent}% of its filesystem` : humanMiB(s.maxMb ?? 0)}  (into the holding place)`;
    case "continue_at":
      return `continue ${s.path}  (if a remover's pass left work there: a new remover, not waited for)`;
    case "usage_path":
      return `usage   ${s.path}  (the removal's usage line names the private directory ${s.name} so)`;
    case "mark_ended":
      return `mark    ${s.path} as ended, left in place  (only if owned by uid ${s.uid})`;
    case "ns_enter":
      return f.includes("no-join")
        ? `start   the job's namespace holder at ${s.path}  (if none runs; this step stays in the host's namespace)`
        : `join    the job's namespace held at ${s.path}, skipping to after "serve"  (if none runs: a holder is started to do what follows; failing that, this step does it in its own namespace)`;
    case "ns_ready":
      return `serve   the job's namespace at ${s.path}  (the holder only, until the job ends)`;
    case "ns_release":
      return `release the job's namespace held at ${s.path}  (stop its holder; none running is fine)`;
    case "mount_tmpfs": {
      const size = s.size === `${s.sizeMb} MiB` ? `${s.sizeMb} MiB` : `${s.sizeMb} MiB (${s.size})`;
      return `tmpfs   ${s.path}  size ${size}, ${s.inodes} inodes, mode ${s.mode}, owner ${s.uid}:${s.gid}, nosuid,nodev${f.includes("noexec") ? ",noexec" : ""}  (a fresh one for the job; gone with its namespace)`;
    }
    case "need_program":
      return `need    ${s.path}  (root's, executable: ${s.target ?? "disk="} is formatted with it; Debian package e2fsprogs)`;
    case "measure_disk":
      return `measure ${s.images}'s filesystem  (a disk= share is of its size)`;
    case "mount_disk": {
      const size =
        s.percent !== undefined
          ? `${s.percent}% of the job's cores' share of that filesystem${s.maxMb ? `, at most ${humanMiB(s.maxMb)}` : ""}`
          : `${s.sizeMb} MiB${s.size === `${s.sizeMb} MiB` ? "" : ` (${s.size})`}`;
      const inodes = s.inodes ? `${s.inodes} inodes` : "one inode per 8 KiB";
      const request = f.includes("request") ? "; the job's own --tmp instead when it gave one" : "";
      return `disk    ${s.path}  size ${size}${request}, ${inodes}, mode ${s.mode}, owner ${s.uid}:${s.gid}, nosuid,nodev${f.includes("noexec") ? ",noexec" : ""}  (an ext4 of the job's own, made by ${s.program} in an unnamed image reserved in full on the local disk, on a loop device; gone with its namespace)`;
    }
    case "set_env":
      // A mount's private directory as the host sees it: only sbcast uses it.
      return s.name?.startsWith("PRIVATE_TMPDIR_HOST_")
        ? `setenv  ${s.name}=${s.value}  (for the script: the private directory's host path, for sbcast)`
        : f.includes("if-unset")
          ? `setenv  ${s.name}=${s.value}  (for the step's tasks, unless their environment has ${s.name}: a value the user set stays)`
          : `setenv  ${s.name}=${s.value}  (for the step's tasks, replacing any value they had)`;
    default:
      return s.op;
  }
}

// What a tmpfs= size= percentage was taken of, when the CLI was told.
function memoryText(job: Job): string {
  if (job.memMb === undefined && job.nodeMemMb === undefined) return "";
  const mem = job.memMb ? `${job.memMb} MiB` : "none allocated";
  return `, memory ${mem}${job.nodeMemMb === undefined ? "" : ` (node ${job.nodeMemMb} MiB)`}`;
}

const sameStep = (a: StepJson, b: StepJson): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The human listing: one block per plugstack line, every step in order. */
export function planText(p: PlanJson): string {
  const out: string[] = [];
  for (const l of p.lines) {
    out.push(`${l.file}:${l.line}: ${[l.kind, l.plugin, ...l.args].join(" ")}`);
    out.push(`  job ${p.job.jobid} restart ${p.job.restart} uid ${p.job.uid} gid ${p.job.gid}${memoryText(p.job)}`);
    // What each disk= reserves for this job on this node: the question an
    // admin sizing it asks first.
    for (const d of l.disks) {
      const on = d.filesystemMb === null ? "" : `; filesystem ${humanMiB(d.filesystemMb)}`;
      const cores = `, cores ${p.job.cores ?? 0} of ${p.job.nodeCores ?? "?"}`;
      out.push(
        d.percent === null
          ? `  disk ${d.target}: reserves ${humanMiB(d.sizeMb ?? 0)} on the node${d.size.startsWith("the job's") ? ` (${d.size})` : ""}`
          : d.sizeMb === null
            ? `  disk ${d.target}: ${d.size} (not measured here: give --disk-mb)`
            : `  disk ${d.target}: reserves ${humanMiB(d.sizeMb)} on this node (${d.size}${on}${cores})`,
      );
    }
    // runtime=: what XDG_RUNTIME_DIR is, in one line.
    if (l.runtime)
      out.push(
        `  runtime ${l.runtime.target}: a tmpfs of ${l.runtime.size} per job (every other user's directory there hidden), ${l.runtime.directory} mode ${l.runtime.mode} the job's user's: XDG_RUNTIME_DIR`,
      );
    for (const [key] of PHASES) {
      out.push(`  ${PHASE_TITLES[key]}:`);
      // The script's plan is the step's with the host paths added: only
      // those are worth a reader's time.
      const steps =
        key === "script" ? l.phases.script.filter((s) => !l.phases.step.some((t) => sameStep(s, t))) : l.phases[key];
      if (steps.length === 0) out.push("    (nothing)");
      for (const s of steps) out.push(`    ${describe(s)}`);
    }
  }
  return out.map((l) => l + "\n").join("");
}
