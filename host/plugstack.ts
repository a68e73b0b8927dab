// Reads plugstack.conf the way Slurm's SPANK loader does, so the CLI sees
// exactly the lines slurmd would load:
//  - "#" starts a comment anywhere on a line; tokens are split on blanks;
//  - `required|optional <plugin> [args...]` loads a plugin (a name without
//    "/" is looked up in PluginDir; we only need its basename);
//  - `include <glob>` loads every matching file in sorted order, a relative
//    pattern taken relative to the including file's directory, and a
//    pattern that matches nothing is not an error;
//  - any other first word makes Slurm log "Invalid line. Ignoring." and go on.
// Slurm does not stop at lines it ignores, so neither do we: they are
// collected as problems and the caller decides (check fails, plan warns).
import { readFileSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";

/** The plugin this CLI is about, matched by basename (path or bare name). */
export const PLUGIN_FILE = "private-tmpdir.so";

export interface PluginLine {
  /** The file the line is in, as Slurm would name it (absolute). */
  file: string;
  /** 1-based line number in that file. */
  line: number;
  kind: "required" | "optional";
  /** The plugin as written: a path or a name looked up in PluginDir. */
  plugin: string;
  args: string[];
}

export interface ConfigProblem {
  file: string;
  line: number;
  message: string;
}

export interface Plugstack {
  /** Every plugin line, in load order (any plugin, not just ours). */
  plugins: PluginLine[];
  /** Lines Slurm would ignore or fail on, and files it could not read. */
  problems: ConfigProblem[];
  /** Every file read, in order. */
  files: string[];
}

// Deep enough for any real layout; a loop (a.conf includes itself) would
// otherwise recurse forever. Slurm itself has no guard; the CLI must not hang.
const MAX_INCLUDE_DEPTH = 16;

export function isThisPlugin(plugin: string): boolean {
  return basename(plugin) === PLUGIN_FILE;
}

/** Lines that load this plugin, in load order. */
export function ourLines(p: Plugstack): PluginLine[] {
  return p.plugins.filter((l) => isThisPlugin(l.plugin));
}

export function readPlugstack(path: string): Plugstack {
  const out: Plugstack = { plugins: [], problems: [], files: [] };
  const top = resolve(path);
  let text: string;
  try {
    text = readFileSync(top, "utf8");
  } catch (e) {
    // Slurm treats a missing plugstack.conf as empty; an admin who names a
    // file wants to hear that it is not there.
    out.problems.push({ file: top, line: 0, message: `cannot read: ${errText(e)}` });
    return out;
  }
  load(top, text, 0, out);
  return out;
}

function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}: ${err.message.replace(/^\w+: /, "")}` : String(e);
}

function load(file: string, text: string, depth: number, out: Plugstack): void {
  out.files.push(file);
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? "";
    const hash = raw.indexOf("#");
    const tokens = (hash >= 0 ? raw.slice(0, hash) : raw).split(/[ \t\r]+/).filter((t) => t !== "");
    const [word, target, ...args] = tokens;
    const at = { file, line: i + 1 };
    if (word === undefined) continue;
    if (word !== "required" && word !== "optional" && word !== "include") {
      out.problems.push({ ...at, message: `invalid line, Slurm ignores it: "${word}" is not required, optional or include` });
      continue;
    }
    if (target === undefined) {
      out.problems.push({ ...at, message: `invalid line, Slurm ignores it: "${word}" names no ${word === "include" ? "file" : "plugin"}` });
      continue;
    }
    if (word !== "include") {
      out.plugins.push({ ...at, kind: word, plugin: target, args });
      continue;
    }
    if (depth >= MAX_INCLUDE_DEPTH) {
      out.problems.push({ ...at, message: `include ${target}: includes nested more than ${MAX_INCLUDE_DEPTH} deep (a loop?)` });
      continue;
    }
    const pattern = isAbsolute(target) ? target : join(dirname(file), target);
    for (const f of glob(pattern)) {
      let body: string;
      try {
        if (statSync(f).isDirectory()) continue; // Slurm reads a directory as empty
        body = readFileSync(f, "utf8");
      } catch (e) {
        out.problems.push({ ...at, message: `include ${f}: cannot read: ${errText(e)}` });
        continue;
      }
      load(f, body, depth + 1, out);
    }
  }
}

const MAGIC = /[*?[]/;

/** glob(3) without flags, for absolute patterns: `*`, `?` and `[...]` within
 * a component, a leading "." matched only literally, results sorted (as
 * slurmd sorts them in the C locale). Only existing paths are returned. */
export function glob(pattern: string): string[] {
  const parts = pattern.split("/").filter((p) => p !== "");
  let found: string[] = ["/"];
  for (const part of parts) {
    const next: string[] = [];
    for (const dir of found) {
      if (!MAGIC.test(part)) {
        next.push(join(dir, part));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue; // not a directory, or unreadable: no match (GLOB_ERR unset)
      }
      const re = componentRegExp(part);
      for (const n of names) if (re.test(n) && (n[0] !== "." || part[0] === ".")) next.push(join(dir, n));
    }
    found = next;
  }
  return found.filter(exists).sort(byteOrder);
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function componentRegExp(part: string): RegExp {
  let re = "";
  for (let i = 0; i < part.length; i++) {
    const c = part[i] ?? "";
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const close = part.indexOf("]", i + 2);
      if (close < 0) {
        re += "\\[";
        continue;
      }
      let body = part.slice(i + 1, close);
      if (body.startsWith("!")) body = "^" + body.slice(1);
      re += "[" + body.replace(/\\/g, "\\\\") + "]";
      i = close;
    } else re += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "s");
}
