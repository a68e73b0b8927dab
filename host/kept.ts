// `private-tmpdir kept`: the job directories kept on this node for their
// users (--keep-tmpdir, plugstack.conf keep=). Every kept place comes from
// the core's plan (the remover's KEPT_SWEEP records: each place and its
// time to live); what is there is read from the directory: each tree and
// the root-owned record beside it (".<name>": its mtime is when it was
// kept, its content "<expires>" in seconds since the epoch, then
// " <uid> <bytes> <files>" once the remover has measured it;
// native/removal/kept.h). A user sees their own trees; root sees every one.
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { posix } from "node:path";
import { Core } from "./core.js";
import type { PluginLine } from "./plugstack.js";

/** Bumped only on an incompatible change to the JSON below. */
export const KEPT_SCHEMA = 1;

export interface KeptTree {
  /** The job it was kept from, and that run's restart count. */
  jobid: number;
  restart: number;
  uid: number;
  /** The tree itself: the job's directory as it was at the job's end. */
  path: string;
  /** When it was kept and when it goes (ISO 8601, UTC). */
  kept: string;
  expires: string;
  /** Its size on disk and its files, once the remover has measured it (null: not yet). */
  bytes: number | null;
  files: number | null;
}

export interface KeptJson {
  schema: number;
  trees: KeptTree[];
}

/** The kept places of the lines. */
function places(lines: readonly PluginLine[]): string[] {
  const core = new Core();
  const out: string[] = [];
  for (const l of lines) {
    for (const s of core.plan("DRAIN", l.args, { jobid: 0, restart: 0, uid: 0, gid: 0 }))
      if (s.op === "kept_sweep" && !out.includes(s.path)) out.push(s.path);
  }
  return out;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The trees of every kept place a user may see (uid undefined: all). */
export function keptTrees(lines: readonly PluginLine[], uid: number | undefined): KeptJson {
  const trees: KeptTree[] = [];
  for (const place of places(lines)) {
    for (const name of list(place).sort()) {
      if (name.startsWith(".")) continue;
      // "<base name>.<jobid>.<restart>": the job directory's own name.
      const m = /\.(\d+)\.(\d+)$/.exec(name);
      const path = posix.join(place, name);
      let st;
      let rec;
      try {
        st = lstatSync(path);
        rec = lstatSync(posix.join(place, `.${name}`));
      } catch {
        continue;
      }
      if (!m || !st.isDirectory() || !rec.isFile() || rec.uid !== 0) continue;
      if (uid !== undefined && st.uid !== uid) continue;
      let measure: string[] = [];
      try {
        measure = readFileSync(posix.join(place, `.${name}`), "utf8")
          .trim()
          .split(/\s+/);
      } catch {
        measure = [];
      }
      const expires = Number(measure[0]);
      if (!Number.isSafeInteger(expires)) continue;
      trees.push({
        jobid: Number(m[1]),
        restart: Number(m[2]),
        uid: st.uid,
        path,
        kept: new Date(Math.floor(rec.mtimeMs / 1000) * 1000).toISOString(),
        expires: new Date(expires * 1000).toISOString(),
        bytes: measure.length === 4 ? Number(measure[2]) : null,
        files: measure.length === 4 ? Number(measure[3]) : null,
      });
    }
  }
  return { schema: KEPT_SCHEMA, trees };
}

function size(bytes: number | null): string {
  if (bytes === null) return "-";
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024)}K`;
  return `${(bytes / 1048576).toFixed(1)}M`;
}

/** The listing for people: one line a tree. */
export function keptText(k: KeptJson): string {
  if (k.trees.length === 0) return "no kept job directories on this node\n";
  const rows = [["JOB", "SIZE", "FILES", "EXPIRES", "PATH"]];
  for (const t of k.trees)
    rows.push([
      t.restart ? `${t.jobid}.${t.restart}` : String(t.jobid),
      size(t.bytes),
      t.files === null ? "-" : String(t.files),
      t.expires.replace("T", " ").replace(/\.\d+Z$/, " UTC"),
      t.path,
    ]);
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join("  ")).join("\n") + "\n";
}
